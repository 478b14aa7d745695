//! Injectable faults, per provider, at configurable rates: 500/502/503, 429 with `Retry-After`, responses
//! slower than the client's timeout, dropped connections, truncated or malformed JSON, unknown fields and enum
//! values, and nulls where values usually are. `chaos` turns on a mix of all of them. The Run:ai token
//! lifetime is set with the simulator's `runai_token_ttl`.
//!
//! Drift faults play an API that has moved on from the documents, one change each, on one endpoint each, so that
//! `infertop doctor` can be shown to name exactly that change: a field nobody knows on the deployment GET, a field
//! infertop needs renamed to other casing, a status value nobody knows, an endpoint that answers 404, a list
//! whose pages never end, and error bodies in a shape no document shows.
//!
//! A hostile server, `echo-credentials`, refuses every request but the Run:ai sign-in with an error whose text
//! repeats the request's credentials (its `Authorization` or `x-api-key` value; for Run:ai also the
//! `client_secret=` the simulator signs in with), to show that infertop never shows, logs or writes one. Every request is also logged (method and path) for tests that prove a command
//! never writes.

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
    /// Drift: an extra field `x_drift_field` on the deployment GET.
    pub unknown_field: f64,
    /// Drift: a field infertop needs renamed to other casing on the deployment GET ([`renamed_field`]).
    pub renamed_field: f64,
    /// Drift: the deployment GET's status (Run:ai: `actualPhase`) is a value no document names.
    pub unknown_enum: f64,
    /// Drift: one read endpoint answers 404 ([`missing_endpoint`]).
    pub missing_endpoint: f64,
    /// Drift: the deployments list ignores `offset` and always says there is more.
    pub endless_paging: f64,
    /// Drift: every error answer of a read carries `{"fault": "..."}` instead of the provider's error body.
    pub error_shape: f64,
    /// The deployment GET (Sesterce: the instance details the list needs) answers 200 with an HTML page, as a
    /// proxy or a login portal in the way would.
    pub details_html: f64,
    /// The deployment GET answers 429 with `Retry-After` (the list itself is served).
    pub details_rate_limit: f64,
    /// The deployment GET's replica counts (`ready`) are `1e400`: valid JSON, out of every number's range.
    pub details_huge_number: f64,
    /// Gcore and Sesterce: a deployment whose containers are not all ready or report an error still says
    /// `ACTIVE` (lists and GETs): the status lags behind its containers, which the documents do not rule out.
    pub stale_status: f64,
    /// Hostile: a 400 whose error text repeats the request's credentials ([`echo_body`]); never on the
    /// Run:ai token endpoints, so that a bearer token is had and then echoed.
    pub echo_credentials: f64,
}

/// The field the `renamed_field` drift renames, as a JSON pointer into the deployment GET, and its new name.
pub fn renamed_field(p: ProviderKind) -> (&'static str, &'static str) {
    match p {
        ProviderKind::Gcore => ("/status", "Status"),
        ProviderKind::Sesterce => ("/status", "Status"),
        ProviderKind::Runai => ("/spec/autoscaling/minReplicas", "MinReplicas"),
    }
}

/// The value the `unknown_enum` drift puts in the deployment GET's status.
pub const DRIFT_ENUM_VALUE: &str = "HIBERNATING";

/// The endpoint the `missing_endpoint` drift removes (method and path template).
pub fn missing_endpoint(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::Gcore => "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs",
        ProviderKind::Sesterce => "GET /ai-inference/hardwares",
        ProviderKind::Runai => "GET /api/v1/workloads/{workloadId}/pods",
    }
}

/// The fault profiles `--faults` takes.
pub const PROFILES: [&str; 16] = [
    "none",
    "flaky",
    "slow",
    "chaos",
    "drift-unknown-field",
    "drift-renamed-field",
    "drift-unknown-enum",
    "drift-missing-endpoint",
    "drift-endless-paging",
    "drift-error-shape",
    "drift",
    "details-html",
    "details-429",
    "details-huge-number",
    "stale-status",
    "echo-credentials",
];

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
    pub drift: AtomicU64,
    pub requests: AtomicU64,
    /// Every provider request, as `METHOD /path` (no query string), faults on or off; the newest
    /// [`REQUEST_LOG_MAX`] are kept.
    pub log: std::sync::Mutex<std::collections::VecDeque<String>>,
}

/// Requests kept in [`FaultCounters::log`].
pub const REQUEST_LOG_MAX: usize = 10_000;

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
            "drift": g(&self.drift),
            "log": self.requests_logged(),
        })
    }

    /// The request log, oldest first.
    pub fn requests_logged(&self) -> Vec<String> {
        self.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    fn record(&self, method: &str, path: &str) {
        if let Ok(mut l) = self.log.lock() {
            if l.len() >= REQUEST_LOG_MAX {
                l.pop_front();
            }
            l.push_back(format!("{method} {path}"));
        }
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
                ..Default::default()
            })),
            "drift-unknown-field" => Some(all(FaultRates { unknown_field: 1.0, ..Default::default() })),
            "drift-renamed-field" => Some(all(FaultRates { renamed_field: 1.0, ..Default::default() })),
            "drift-unknown-enum" => Some(all(FaultRates { unknown_enum: 1.0, ..Default::default() })),
            "drift-missing-endpoint" => Some(all(FaultRates { missing_endpoint: 1.0, ..Default::default() })),
            "drift-endless-paging" => Some(all(FaultRates { endless_paging: 1.0, ..Default::default() })),
            "drift-error-shape" => Some(all(FaultRates { error_shape: 1.0, ..Default::default() })),
            "details-html" => Some(all(FaultRates { details_html: 1.0, ..Default::default() })),
            "details-429" => Some(all(FaultRates { details_rate_limit: 1.0, ..Default::default() })),
            "details-huge-number" => Some(all(FaultRates { details_huge_number: 1.0, ..Default::default() })),
            "stale-status" => Some(all(FaultRates { stale_status: 1.0, ..Default::default() })),
            "echo-credentials" => Some(all(FaultRates { echo_credentials: 1.0, ..Default::default() })),
            "drift" => Some(all(FaultRates {
                unknown_field: 1.0,
                renamed_field: 1.0,
                unknown_enum: 1.0,
                missing_endpoint: 1.0,
                endless_paging: 1.0,
                error_shape: 1.0,
                ..Default::default()
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

/// The `echo_credentials` answer: a 400 whose text repeats the request's `Authorization` and `x-api-key` values
/// whole (and for Run:ai the client secret, as a token request's form carries it). Gcore and Run:ai answer in
/// their own error shape; Sesterce in HTML, as a proxy in front of an API answers, with the key across the
/// 200th character (a client that keeps the start of a body it cannot read must not keep half a key).
pub fn echo_body(p: ProviderKind, headers: &axum::http::HeaderMap) -> Response {
    let mut said = Vec::new();
    for name in ["authorization", "x-api-key"] {
        if let Some(v) = headers.get(name) {
            said.push(format!("{name}: {}", String::from_utf8_lossy(v.as_bytes())));
        }
    }
    if p == ProviderKind::Runai {
        said.push(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            super::DEMO_RUNAI_CLIENT_ID,
            super::DEMO_RUNAI_SECRET
        ));
    }
    let message = format!("these credentials are refused: {}", said.join("; "));
    match p {
        ProviderKind::Sesterce => {
            let text = format!("<html><body><p>{}</p><pre>{message}</pre></body></html>", "x".repeat(124));
            (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/html")], text).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, axum::Json(error_body(p, 400, &message))).into_response(),
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

/// What `details_huge_number` writes for a replica count: no JSON number type holds it.
const HUGE_NUMBER: &str = "1e400";
const HUGE_PLACEHOLDER: &str = "\u{0}sim-huge-number\u{0}";

/// Marks every `ready` count for [`HUGE_NUMBER`] (written in place of the mark once serialized).
fn mark_huge_numbers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if k == "ready" && val.is_number() {
                    *val = Value::String(HUGE_PLACEHOLDER.into());
                } else {
                    mark_huge_numbers(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mark_huge_numbers),
        _ => {}
    }
}

/// `ACTIVE` for every deployment record (one with `containers`) whose status says its containers are still
/// being deployed or partly so.
fn stale_statuses(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("containers")
                && let Some(s) = m.get_mut("status")
                && matches!(s.as_str(), Some("PARTIALLYDEPLOYED" | "DEPLOYING"))
            {
                *s = json!("ACTIVE");
            }
            m.values_mut().for_each(stale_statuses);
        }
        Value::Array(a) => a.iter_mut().for_each(stale_statuses),
        _ => {}
    }
}

/// Which endpoint a drift fault acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DriftTarget {
    /// The one-deployment GET (Gcore v3 and v2, Sesterce instance details, Run:ai inference).
    DeploymentGet,
    /// The paged deployments list (Gcore v3 and v2, Run:ai workloads; Sesterce lists are not paged).
    List,
    /// The endpoint [`missing_endpoint`] names (Gcore: the v3 and v2 logs).
    Missing,
}

/// Whether `path` reads one deployment (Gcore v3 or v2, a Sesterce instance's details, a Run:ai inference).
pub fn is_deployment_get(p: ProviderKind, path: &str) -> bool {
    drift_target(p, path) == Some(DriftTarget::DeploymentGet)
}

fn drift_target(p: ProviderKind, path: &str) -> Option<DriftTarget> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    use DriftTarget::*;
    match (p, segs.as_slice()) {
        (ProviderKind::Gcore, ["cloud", "v3", "inference", _, "deployments", _]) => Some(DeploymentGet),
        (ProviderKind::Gcore, ["cloud", "v2", "inference", "deployments", _]) => Some(DeploymentGet),
        (ProviderKind::Gcore, ["cloud", "v3", "inference", _, "deployments"]) => Some(List),
        (ProviderKind::Gcore, ["cloud", "v2", "inference", "deployments"]) => Some(List),
        (ProviderKind::Gcore, ["cloud", "v3", "inference", _, "deployments", _, "logs"]) => Some(Missing),
        (ProviderKind::Gcore, ["cloud", "v2", "inference", "deployments", _, "logs"]) => Some(Missing),
        (ProviderKind::Sesterce, ["ai-inference", "instances", id]) if *id != "pricing" => {
            Some(DeploymentGet)
        }
        (ProviderKind::Sesterce, ["ai-inference", "hardwares"]) => Some(Missing),
        (ProviderKind::Runai, ["api", "v1", "workloads", "inferences", _]) => Some(DeploymentGet),
        (ProviderKind::Runai, ["api", "v1", "workloads"]) => Some(List),
        (ProviderKind::Runai, ["api", "v1", "workloads", _, "pods"]) => Some(Missing),
        _ => None,
    }
}

/// Drops `offset` from the request's query (so every page is the first) and returns the offset asked for.
fn strip_offset(req: &mut Request) -> u64 {
    let uri = req.uri().clone();
    let mut offset = 0;
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some(("offset", v)) => {
                offset = v.parse().unwrap_or(0);
                false
            }
            _ => !kv.is_empty(),
        })
        .collect();
    let pq =
        if kept.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), kept.join("&")) };
    let mut parts = uri.into_parts();
    if let Ok(pq) = pq.parse() {
        parts.path_and_query = Some(pq);
    }
    if let Ok(u) = axum::http::Uri::from_parts(parts) {
        *req.uri_mut() = u;
    }
    offset
}

/// Applies the drift faults to a successful JSON body.
fn drift(
    p: ProviderKind,
    v: &mut Value,
    add_field: bool,
    rename: bool,
    bad_enum: bool,
    endless: Option<u64>,
) {
    if bad_enum {
        let key = if p == ProviderKind::Runai { "actualPhase" } else { "status" };
        if let Some(s) = v.get_mut(key) {
            *s = json!(DRIFT_ENUM_VALUE);
        }
    }
    if rename {
        let (pointer, new_name) = renamed_field(p);
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        if let Some(Value::Object(m)) = v.pointer_mut(parent)
            && let Some(val) = m.remove(key)
        {
            m.insert(new_name.to_string(), val);
        }
    }
    if add_field && let Value::Object(m) = v {
        m.insert("x_drift_field".into(), json!({"since": "a newer API"}));
    }
    if let (Some(offset), Value::Object(m)) = (endless, v) {
        if m.contains_key("count") {
            // Gcore: a total that the offsets never reach.
            m.insert("count".into(), json!(1_000_000_000u64));
        }
        if let Some(n) = m.get("workloads").and_then(Value::as_array).map(Vec::len) {
            // Run:ai: always a next page.
            m.insert("next".into(), json!(offset + n.max(1) as u64));
        }
    }
}

/// The middleware: decides a fault for each provider request, per the current config.
pub async fn inject(State(state): State<SimState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(provider) = provider_of(&path) else {
        return next.run(req).await;
    };
    let counters = &state.fault_counters;
    counters.record(req.method().as_str(), &path);
    let cfg = state.faults.read().map(|c| c.clone()).unwrap_or_default();
    if cfg.is_off() {
        return next.run(req).await;
    }
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let r = cfg.rates(provider);
    let seed = state.config.seed;
    let hit = |p: f64| p > 0.0 && roll(seed) < p;

    if !path.ends_with("/token") && hit(r.echo_credentials) {
        counters.drift.fetch_add(1, Ordering::Relaxed);
        return echo_body(provider, req.headers());
    }
    let is_get = req.method() == axum::http::Method::GET;
    let target = if is_get { drift_target(provider, &path) } else { None };
    if target == Some(DriftTarget::Missing) && hit(r.missing_endpoint) {
        counters.drift.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_FOUND, axum::Json(error_body(provider, 404, "Not Found"))).into_response();
    }
    let mut endless = None;
    if target == Some(DriftTarget::List) && hit(r.endless_paging) {
        counters.drift.fetch_add(1, Ordering::Relaxed);
        endless = Some(strip_offset(&mut req));
    }
    let on_get = target == Some(DriftTarget::DeploymentGet);
    let (add_field, rename, bad_enum) =
        (on_get && hit(r.unknown_field), on_get && hit(r.renamed_field), on_get && hit(r.unknown_enum));
    if on_get && hit(r.details_html) {
        counters.malformed.fetch_add(1, Ordering::Relaxed);
        let page = "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1>\
                    <p>Your session has expired.</p></body></html>";
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    if on_get && hit(r.details_rate_limit) {
        counters.rate_limit.fetch_add(1, Ordering::Relaxed);
        let body = error_body(provider, 429, "ThrottlerException: Too Many Requests");
        let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&cfg.retry_after.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let huge = on_get && hit(r.details_huge_number);
    let stale = matches!(provider, ProviderKind::Gcore | ProviderKind::Sesterce)
        && matches!(target, Some(DriftTarget::DeploymentGet | DriftTarget::List))
        && hit(r.stale_status);

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
    let reshape = is_get && hit(r.error_shape);
    let resp = next.run(req).await;
    if reshape && !resp.status().is_success() {
        counters.drift.fetch_add(1, Ordering::Relaxed);
        let status = resp.status();
        return (status, axum::Json(json!({ "fault": status.canonical_reason().unwrap_or("error") })))
            .into_response();
    }
    let drifted = add_field || rename || bad_enum || endless.is_some();
    if !(drop || truncate || malformed || unknown || nulls || drifted || huge || stale)
        || !resp.status().is_success()
    {
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
    if drifted {
        if add_field || rename || bad_enum {
            counters.drift.fetch_add(1, Ordering::Relaxed);
        }
        drift(provider, &mut v, add_field, rename, bad_enum, endless);
    }
    if stale {
        counters.drift.fetch_add(1, Ordering::Relaxed);
        stale_statuses(&mut v);
    }
    if huge {
        counters.unknown_values.fetch_add(1, Ordering::Relaxed);
        mark_huge_numbers(&mut v);
        let text = serde_json::to_string(&v).unwrap_or_default();
        let marked = serde_json::to_string(HUGE_PLACEHOLDER).unwrap_or_default();
        return Response::from_parts(parts, Body::from(text.replace(&marked, HUGE_NUMBER)));
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
    fn drift_rewrites_one_thing_each() {
        let body = || json!({"status": "ACTIVE", "spec": {"autoscaling": {"minReplicas": 1}}, "actualPhase": "Running"});
        let mut v = body();
        drift(ProviderKind::Gcore, &mut v, true, false, false, None);
        assert_eq!(v["x_drift_field"], json!({"since": "a newer API"}));
        let mut v = body();
        drift(ProviderKind::Gcore, &mut v, false, true, false, None);
        assert_eq!((v.get("status"), &v["Status"]), (None, &json!("ACTIVE")));
        let mut v = body();
        drift(ProviderKind::Runai, &mut v, false, true, true, None);
        assert_eq!(v["spec"]["autoscaling"], json!({"MinReplicas": 1}));
        assert_eq!((&v["actualPhase"], &v["status"]), (&json!(DRIFT_ENUM_VALUE), &json!("ACTIVE")));
        let mut v = json!({"count": 3, "results": []});
        drift(ProviderKind::Gcore, &mut v, false, false, false, Some(0));
        assert_eq!(v["count"], json!(1_000_000_000u64));
        let mut v = json!({"workloads": [1, 2]});
        drift(ProviderKind::Runai, &mut v, false, false, false, Some(4));
        assert_eq!(v["next"], json!(6));
    }

    #[test]
    fn drift_targets_and_offsets() {
        use DriftTarget::*;
        assert_eq!(
            drift_target(ProviderKind::Gcore, "/cloud/v3/inference/1/deployments/x"),
            Some(DeploymentGet)
        );
        assert_eq!(drift_target(ProviderKind::Gcore, "/cloud/v3/inference/1/deployments"), Some(List));
        assert_eq!(
            drift_target(ProviderKind::Gcore, "/cloud/v2/inference/deployments/x/logs"),
            Some(Missing)
        );
        assert_eq!(drift_target(ProviderKind::Sesterce, "/ai-inference/instances/pricing"), None);
        assert_eq!(drift_target(ProviderKind::Runai, "/api/v1/workloads/x/pods"), Some(Missing));
        assert_eq!(drift_target(ProviderKind::Runai, "/api/v1/workloads/x"), None);
        let mut req = Request::builder()
            .uri("/api/v1/workloads?filterBy=a&offset=7&limit=2")
            .body(Body::empty())
            .unwrap();
        assert_eq!(strip_offset(&mut req), 7);
        assert_eq!(req.uri().to_string(), "/api/v1/workloads?filterBy=a&limit=2");
        for p in PROFILES {
            assert!(FaultConfig::profile(p).is_some(), "{p}");
        }
    }

    #[test]
    fn huge_numbers_and_stale_statuses_rewrite_bodies() {
        let mut v = json!({"status": "PARTIALLYDEPLOYED", "containers": [{"deploy_status": {"ready": 0, "total": 3}}]});
        stale_statuses(&mut v);
        assert_eq!(v["status"], "ACTIVE");
        let mut summary = json!({"status": "DEPLOYING"});
        stale_statuses(&mut summary);
        assert_eq!(summary["status"], "DEPLOYING", "a record without containers keeps its status");
        mark_huge_numbers(&mut v);
        let text = serde_json::to_string(&v)
            .unwrap()
            .replace(&serde_json::to_string(HUGE_PLACEHOLDER).unwrap(), HUGE_NUMBER);
        assert!(text.contains(r#""ready":1e400"#), "{text}");
        assert!(serde_json::from_str::<Value>(&text).is_err(), "serde_json refuses a number out of range");
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
