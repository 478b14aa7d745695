//! Injectable faults, per provider, at configurable rates: 500/502/503, 429 with `Retry-After`, responses
//! slower than the client's timeout, dropped connections, truncated or malformed JSON, unknown fields and enum
//! values, and nulls where values usually are. `chaos` turns on a mix of all of them. The Run:ai token
//! lifetime is set with the simulator's `runai_token_ttl`.

use super::SimState;
use super::rng::Rng;
use crate::model::ProviderKind;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Probabilities (0..=1) of each fault per request.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    pub server_error: f64,
    pub rate_limit: f64,
    pub slow: f64,
    pub drop: f64,
    pub truncate: f64,
    pub malformed: f64,
    pub unknown_values: f64,
    pub nulls: f64,
}

/// The fault settings of the simulator.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub gcore: FaultRates,
    pub sesterce: FaultRates,
    pub runai: FaultRates,
    /// How long a slow response takes.
    pub slow_ms: u64,
    /// Seconds a 429 asks the client to wait.
    pub retry_after: u64,
}

/// Counts of injected faults by class, for tests and the soak report.
#[derive(Debug, Default)]
pub struct FaultCounters {
    pub server_error: AtomicU64,
    pub rate_limit: AtomicU64,
    pub slow: AtomicU64,
    pub drop: AtomicU64,
    pub truncate: AtomicU64,
    pub malformed: AtomicU64,
    pub unknown_values: AtomicU64,
    pub nulls: AtomicU64,
    pub requests: AtomicU64,
}

impl FaultCounters {
    pub fn snapshot(&self) -> Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "requests": g(&self.requests),
            "server_error": g(&self.server_error),
            "rate_limit": g(&self.rate_limit),
            "slow": g(&self.slow),
            "drop": g(&self.drop),
            "truncate": g(&self.truncate),
            "malformed": g(&self.malformed),
            "unknown_values": g(&self.unknown_values),
            "nulls": g(&self.nulls),
        })
    }
}

impl FaultConfig {
    /// A named profile: `none`, `flaky` (5xx and 429), `slow`, `chaos` (a mix of everything).
    pub fn profile(name: &str) -> Option<FaultConfig> {
        let all =
            |r: FaultRates| FaultConfig { gcore: r, sesterce: r, runai: r, slow_ms: 3000, retry_after: 1 };
        match name {
            "none" | "off" => Some(FaultConfig::default()),
            "flaky" => Some(all(FaultRates { server_error: 0.15, rate_limit: 0.10, ..Default::default() })),
            "slow" => Some(all(FaultRates { slow: 0.2, ..Default::default() })),
            "chaos" => Some(all(FaultRates {
                server_error: 0.08,
                rate_limit: 0.06,
                slow: 0.03,
                drop: 0.04,
                truncate: 0.04,
                malformed: 0.03,
                unknown_values: 0.08,
                nulls: 0.06,
            })),
            _ => None,
        }
    }

    fn rates(&self, p: ProviderKind) -> FaultRates {
        match p {
            ProviderKind::Gcore => self.gcore,
            ProviderKind::Sesterce => self.sesterce,
            ProviderKind::Runai => self.runai,
        }
    }

    pub fn is_off(&self) -> bool {
        ProviderKind::ALL.iter().all(|p| self.rates(*p) == FaultRates::default())
    }
}

/// Which provider a path belongs to.
pub fn provider_of(path: &str) -> Option<ProviderKind> {
    if path.starts_with("/cloud/") {
        Some(ProviderKind::Gcore)
    } else if path.starts_with("/ai-inference/") {
        Some(ProviderKind::Sesterce)
    } else if path.starts_with("/api/") {
        Some(ProviderKind::Runai)
    } else {
        None
    }
}

/// An error body in the provider's own shape.
pub fn error_body(p: ProviderKind, status: u16, message: &str) -> Value {
    match p {
        ProviderKind::Gcore => json!({
            "exception_class": match status { 429 => "RateLimitError", s if s >= 500 => "InternalServerError", _ => "HTTPError" },
            "message": message,
            "request_id": "00000000-0000-4000-8000-000000000000",
        }),
        ProviderKind::Sesterce => json!({ "statusCode": status, "message": message }),
        ProviderKind::Runai => json!({ "code": status, "message": message }),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn roll(seed: u64) -> f64 {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Rng::derive(seed, &format!("fault-{n}")).unit()
}

/// Renames the status-like values to ones no client has seen, and adds fields no client knows.
fn add_unknowns(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if matches!(k.as_str(), "status" | "phase" | "actualPhase" | "state") && val.is_string() {
                    *val = Value::String("FROBNICATING".into());
                } else {
                    add_unknowns(val);
                }
            }
            // Unknown fields go on records (objects with an identity), not into free-form maps like envs.
            if ["status", "phase", "name", "id", "_id", "region_id", "regionId", "type"]
                .iter()
                .any(|k| m.contains_key(*k))
            {
                m.insert("x_sim_unknown_field".into(), json!({"nested": [1, "two", null]}));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(add_unknowns),
        _ => {}
    }
}

/// Sets fields that usually hold values to null.
fn add_nulls(v: &mut Value) {
    const KEYS: [&str; 14] = [
        "address",
        "description",
        "image",
        "created_at",
        "createdAt",
        "error_message",
        "errorMessage",
        "urls",
        "hourlyPrice",
        "logging",
        "probes",
        "envs",
        "command",
        "labels",
    ];
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if KEYS.contains(&k.as_str()) {
                    *val = Value::Null;
                } else {
                    add_nulls(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(add_nulls),
        _ => {}
    }
}

/// The middleware: decides a fault for each provider request, per the current config.
pub async fn inject(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(provider) = provider_of(&path) else {
        return next.run(req).await;
    };
    let cfg = state.faults.read().map(|c| c.clone()).unwrap_or_default();
    if cfg.is_off() {
        return next.run(req).await;
    }
    let counters = &state.fault_counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let r = cfg.rates(provider);
    let seed = state.config.seed;
    let hit = |p: f64| p > 0.0 && roll(seed) < p;

    if hit(r.server_error) {
        counters.server_error.fetch_add(1, Ordering::Relaxed);
        let status = [500u16, 502, 503][(roll(seed) * 3.0) as usize % 3];
        let body = error_body(provider, status, "simulated server error");
        return (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body))
            .into_response();
    }
    if hit(r.rate_limit) {
        counters.rate_limit.fetch_add(1, Ordering::Relaxed);
        let body = error_body(provider, 429, "simulated rate limit: slow down");
        let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&cfg.retry_after.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    if hit(r.slow) {
        counters.slow.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(cfg.slow_ms)).await;
    }
    let (drop, truncate, malformed, unknown, nulls) =
        (hit(r.drop), hit(r.truncate), hit(r.malformed), hit(r.unknown_values), hit(r.nulls));
    let resp = next.run(req).await;
    if !(drop || truncate || malformed || unknown || nulls) || !resp.status().is_success() {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if drop {
        counters.drop.fetch_add(1, Ordering::Relaxed);
        // Half the body, then the connection breaks.
        let half = bytes.slice(..bytes.len() / 2);
        let stream = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(half),
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated drop")),
        ]);
        let mut parts = parts;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from_stream(stream));
    }
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    if truncate {
        counters.truncate.fetch_add(1, Ordering::Relaxed);
        return Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() * 2 / 3)));
    }
    if malformed {
        counters.malformed.fetch_add(1, Ordering::Relaxed);
        let mut b = bytes.to_vec();
        b.splice(0..0, b"{\"oops\": ,".iter().copied());
        return Response::from_parts(parts, Body::from(b));
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if unknown {
        counters.unknown_values.fetch_add(1, Ordering::Relaxed);
        add_unknowns(&mut v);
    }
    if nulls {
        counters.nulls.fetch_add(1, Ordering::Relaxed);
        add_nulls(&mut v);
    }
    Response::from_parts(parts, Body::from(serde_json::to_vec(&v).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_exist_and_chaos_enables_every_class() {
        let c = FaultConfig::profile("chaos").unwrap();
        for p in ProviderKind::ALL {
            let r = c.rates(p);
            for v in [
                r.server_error,
                r.rate_limit,
                r.slow,
                r.drop,
                r.truncate,
                r.malformed,
                r.unknown_values,
                r.nulls,
            ] {
                assert!(v > 0.0);
            }
        }
        assert!(FaultConfig::profile("none").unwrap().is_off());
        assert!(FaultConfig::profile("nope").is_none());
    }

    #[test]
    fn unknowns_and_nulls_rewrite_bodies() {
        let mut v = json!({"status": "ACTIVE", "results": [{"address": "x", "phase": "Running"}]});
        add_unknowns(&mut v);
        assert_eq!(v["status"], "FROBNICATING");
        assert_eq!(v["results"][0]["phase"], "FROBNICATING");
        assert!(v["x_sim_unknown_field"].is_object());
        add_nulls(&mut v);
        assert!(v["results"][0]["address"].is_null());
    }
}
