//! Gcore wire -> model, and the few model -> wire pieces an edit sends (triggers, probes).

use super::wire;
use crate::model::{
    self, DeploymentKey, ExecAction, HttpGetAction, HttpTrigger, LoggingConfig, ProviderKind, RegionReplicas,
    Status, TcpSocketAction,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Region id -> display name, from the regions catalog.
pub type RegionNames = BTreeMap<String, String>;

/// Parses a timestamp with or without a zone, with `T` or a space, and with up to 9 fractional digits.
/// A timestamp without a zone is taken as UTC (the Cloud API's task times are UTC without a zone).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&t) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(&t, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = t.trim_end_matches('Z');
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(n.and_utc());
        }
    }
    None
}

/// `command` as one line: a string as is; an array joined with spaces, quoting the words that need it.
pub fn command_text(c: &wire::Command) -> String {
    match c {
        wire::Command::Text(s) => s.clone(),
        wire::Command::List(words) => words
            .iter()
            .map(|w| {
                // Quoted so that the create form's shell-quoting split gives the same words back.
                if w.is_empty()
                    || w.starts_with('#')
                    || w.chars().any(|c| c.is_whitespace() || "\"'\\".contains(c))
                {
                    format!(
                        "\"{}\"",
                        w.replace('\\', "\\\\").replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`")
                    )
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn u32_of(v: i64) -> u32 {
    v.clamp(0, u32::MAX as i64) as u32
}

fn opt_u32(v: Option<i64>) -> Option<u32> {
    v.map(u32_of)
}

pub fn triggers(t: &wire::Triggers) -> model::Triggers {
    let threshold = |t: &Option<wire::Threshold>| t.and_then(|t| t.threshold).map(u32_of);
    let mut other = BTreeMap::new();
    if let Some(sqs) = &t.sqs
        && !sqs.is_null()
    {
        other.insert("sqs".to_string(), sqs.clone());
    }
    for (k, v) in &t.other {
        if !v.is_null() {
            other.insert(k.clone(), v.clone());
        }
    }
    model::Triggers {
        cpu: threshold(&t.cpu),
        memory: threshold(&t.memory),
        gpu_utilization: threshold(&t.gpu_utilization),
        gpu_memory: threshold(&t.gpu_memory),
        http: t.http.and_then(|h| match (h.rate, h.window) {
            (Some(rate), Some(window)) => Some(HttpTrigger { rate: u32_of(rate), window: u32_of(window) }),
            _ => None,
        }),
        metric: None,
        other,
    }
}

pub fn scale(s: &wire::Scale) -> model::Scale {
    model::Scale {
        min: s.min.map(u32_of).unwrap_or(0),
        max: s.max.map(u32_of).unwrap_or(0),
        cooldown_seconds: opt_u32(s.cooldown_period),
        polling_interval_seconds: opt_u32(s.polling_interval),
        scale_to_zero_retention_seconds: None,
        triggers: s.triggers.as_ref().map(triggers).unwrap_or_default(),
    }
}

pub fn region(c: &wire::Container, names: &RegionNames) -> RegionReplicas {
    let region_id = c.region_id.map(|r| r.to_string()).unwrap_or_default();
    let ds = c.deploy_status.unwrap_or_default();
    RegionReplicas {
        region_name: names.get(&region_id).map(|n| crate::model::intern(n)),
        region_id,
        ready: ds.ready.map(u32_of).unwrap_or(0),
        total: ds.total.map(u32_of).unwrap_or(0),
        scale: c.scale.as_ref().map(scale).unwrap_or_default(),
        error: c.error_message.clone().filter(|m| !m.is_empty()),
    }
}

/// The replica counts of the regions that are not counts (negative, or past `u32::MAX`: the wire reads any
/// whole number), named with their field; such a deployment is unknown, never shown as its clamped figure.
fn bad_counts(containers: &[wire::Container]) -> Option<String> {
    let mut bad = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let ds = c.deploy_status.unwrap_or_default();
        for (field, v) in [("ready", ds.ready), ("total", ds.total)] {
            if let Some(v) = v.filter(|v| u32::try_from(*v).is_err()) {
                bad.push(format!(
                    "containers[{i}].deploy_status.{field}: {v} is not a count (a whole number from 0 to {})",
                    u32::MAX
                ));
            }
        }
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

pub fn probe(p: &wire::Probe) -> model::Probe {
    model::Probe {
        exec: p.exec.as_ref().map(|e| ExecAction { command: e.command.clone() }),
        http_get: p.http_get.as_ref().map(|h| HttpGetAction {
            path: h.path.clone().unwrap_or_else(|| "/".into()),
            port: h.port.map(u32_of).unwrap_or(0),
            scheme: h.schema.clone().unwrap_or_else(|| "HTTP".into()),
            host: h.host.clone(),
            headers: h.headers.clone().unwrap_or_default(),
        }),
        tcp_socket: p.tcp_socket.map(|t| TcpSocketAction { port: t.port.map(u32_of).unwrap_or(0) }),
        initial_delay_seconds: opt_u32(p.initial_delay_seconds),
        period_seconds: opt_u32(p.period_seconds),
        timeout_seconds: opt_u32(p.timeout_seconds),
        success_threshold: opt_u32(p.success_threshold),
        failure_threshold: opt_u32(p.failure_threshold),
    }
}

fn probe_config(c: &Option<wire::ProbeConfig>) -> Option<model::ProbeConfig> {
    c.as_ref().map(|c| model::ProbeConfig {
        enabled: c.enabled.unwrap_or(false),
        probe: c.probe.as_ref().map(probe).unwrap_or_default(),
    })
}

pub fn probes(p: &wire::Probes) -> model::Probes {
    model::Probes {
        liveness: probe_config(&p.liveness_probe),
        readiness: probe_config(&p.readiness_probe),
        startup: probe_config(&p.startup_probe),
    }
}

pub fn logging(l: &wire::Logging) -> LoggingConfig {
    LoggingConfig {
        enabled: l.enabled.unwrap_or(false),
        destination_region_id: l.destination_region_id,
        topic_name: l.topic_name.clone(),
        retention_days: match &l.retention_policy {
            Some(wire::RetentionPolicy::Policy { period }) => opt_u32(*period),
            Some(wire::RetentionPolicy::Days(d)) => Some(u32_of(*d)),
            None => None,
        },
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

/// A v3 deployment. `detail` says whether it came from a GET of the one deployment.
pub fn deployment_v3(
    w: &wire::Deployment,
    account: &str,
    names: &RegionNames,
    detail: bool,
) -> model::Deployment {
    let key = DeploymentKey {
        provider: ProviderKind::Gcore,
        account: crate::model::intern(account),
        id: w.name.clone(),
    };
    let status = Status::from_gcore(w.status.as_deref().unwrap_or(""));
    let mut d = model::Deployment::new(key, w.name.clone(), status);
    d.image = non_empty(&w.image).map(|s| crate::model::intern(&s));
    d.port = opt_u32(w.listening_port);
    d.hardware = non_empty(&w.flavor_name).map(|s| crate::model::intern(&s));
    d.address = non_empty(&w.address);
    d.description = non_empty(&w.description);
    d.created_at = w.created_at.as_deref().and_then(parse_time);
    d.regions = w.containers.iter().map(|c| region(c, names)).collect();
    d.unknown = bad_counts(&w.containers);
    d.probes = w.probes.as_ref().map(|p| crate::model::intern_probes(probes(p)));
    d.logging = w.logging.as_ref().map(logging);
    d.envs = w.envs.clone().unwrap_or_default();
    d.command = w.command.as_ref().map(command_text).filter(|c| !c.is_empty());
    d.detail = detail;
    d
}

/// A legacy v2 deployment; its id is the instance uuid, its hardware the flavor uuid (v2 has no names).
pub fn deployment_v2(
    w: &wire::DeploymentV2,
    account: &str,
    names: &RegionNames,
    detail: bool,
) -> model::Deployment {
    let key = DeploymentKey {
        provider: ProviderKind::Gcore,
        account: crate::model::intern(account),
        id: w.id.clone(),
    };
    let status = Status::from_gcore(w.status.as_deref().unwrap_or(""));
    let mut d = model::Deployment::new(key, w.name.clone(), status);
    d.image = non_empty(&w.image).map(|s| crate::model::intern(&s));
    d.port = opt_u32(w.listening_port);
    d.hardware = non_empty(&w.flavor_id).map(|s| crate::model::intern(&s));
    d.address = non_empty(&w.address);
    d.description = non_empty(&w.description);
    d.created_at = w.created_at.as_deref().and_then(parse_time);
    d.regions = w.containers.iter().map(|c| region(c, names)).collect();
    d.unknown = bad_counts(&w.containers);
    d.probes = w.probes.as_ref().map(|p| crate::model::intern_probes(probes(p)));
    d.envs = w.envs.clone().unwrap_or_default();
    d.command = w.command.as_ref().map(command_text).filter(|c| !c.is_empty());
    d.detail = detail;
    d
}

pub fn log_line(l: &wire::LogLine, region_fallback: Option<&str>) -> model::LogLine {
    model::LogLine {
        time: l.time.as_deref().and_then(parse_time).unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        region_id: l
            .region_id
            .map(|r| r.to_string())
            .or_else(|| region_fallback.map(str::to_string))
            .unwrap_or_default(),
        pod: l.pod.clone().unwrap_or_default(),
        message: l.message.clone().unwrap_or_default(),
    }
}

pub fn hardware(f: &wire::Flavor) -> model::HardwareInfo {
    model::HardwareInfo {
        id: f.name.clone(),
        name: f.description.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| f.name.clone()),
        gpu_model: f.gpu_model.clone().filter(|g| !g.is_empty()),
        gpu_count: opt_u32(f.gpu),
        gpu_memory_gib: f.gpu_memory,
        cpu: f.cpu,
        memory_gib: f.memory,
    }
}

// ---------------------------------------------------------------- model -> wire (edits)

/// The wire triggers for a region, starting from what the API returned (`raw`), so that a trigger the edit
/// did not change keeps its exact JSON (extra keys included), and triggers the model does not know (`sqs`,
/// anything newer) come back from `Triggers.other`. Every known key is present, null when unset.
pub fn triggers_json(t: &model::Triggers, raw: Option<&Value>) -> Value {
    let raw = raw.and_then(Value::as_object);
    let keep_or = |key: &str, same: &dyn Fn(&Value) -> bool, fresh: Value| -> Value {
        match raw.and_then(|r| r.get(key)) {
            Some(v) if same(v) => v.clone(),
            _ => fresh,
        }
    };
    let mut out = Map::new();
    for (key, v) in [
        ("cpu", t.cpu),
        ("memory", t.memory),
        ("gpu_utilization", t.gpu_utilization),
        ("gpu_memory", t.gpu_memory),
    ] {
        let val = match v {
            Some(th) => keep_or(
                key,
                &|r: &Value| r.get("threshold").and_then(Value::as_i64) == Some(th as i64),
                json!({ "threshold": th }),
            ),
            None => Value::Null,
        };
        out.insert(key.to_string(), val);
    }
    let http = match t.http {
        Some(h) => keep_or(
            "http",
            &|r: &Value| {
                r.get("rate").and_then(Value::as_i64) == Some(h.rate as i64)
                    && r.get("window").and_then(Value::as_i64) == Some(h.window as i64)
            },
            json!({ "rate": h.rate, "window": h.window }),
        ),
        None => Value::Null,
    };
    out.insert("http".into(), http);
    out.insert("sqs".into(), Value::Null);
    for (k, v) in &t.other {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// A probe as the API takes it: every handler key present (null when absent), thresholds when known.
pub fn probe_json(p: &model::Probe) -> Value {
    let mut m = Map::new();
    m.insert("exec".into(), p.exec.as_ref().map(|e| json!({ "command": e.command })).unwrap_or(Value::Null));
    m.insert(
        "http_get".into(),
        p.http_get
            .as_ref()
            .map(|h| {
                let mut o = Map::new();
                o.insert("headers".into(), json!(h.headers));
                if let Some(host) = &h.host {
                    o.insert("host".into(), json!(host));
                }
                o.insert("path".into(), json!(h.path));
                o.insert("port".into(), json!(h.port));
                o.insert("schema".into(), json!(h.scheme));
                Value::Object(o)
            })
            .unwrap_or(Value::Null),
    );
    m.insert("tcp_socket".into(), p.tcp_socket.map(|t| json!({ "port": t.port })).unwrap_or(Value::Null));
    for (k, v) in [
        ("failure_threshold", p.failure_threshold),
        ("initial_delay_seconds", p.initial_delay_seconds),
        ("period_seconds", p.period_seconds),
        ("success_threshold", p.success_threshold),
        ("timeout_seconds", p.timeout_seconds),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    Value::Object(m)
}

pub fn probe_config_json(c: &model::ProbeConfig) -> Value {
    json!({ "enabled": c.enabled, "probe": probe_json(&c.probe) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_and_without_zone() {
        let a = parse_time("2023-08-22T11:21:00Z").unwrap();
        assert_eq!(a.to_rfc3339(), "2023-08-22T11:21:00+00:00");
        let b = parse_time("2025-12-28T19:14:44.180394").unwrap();
        assert_eq!(b.timestamp_subsec_micros(), 180394);
        let c = parse_time("2024-10-14T14:54:04.82851142Z").unwrap();
        assert_eq!(c.timestamp_subsec_nanos(), 828511420);
        let d = parse_time("2024-10-14 14:54:04.123456789+02:00").unwrap();
        assert_eq!(d.timestamp_subsec_nanos(), 123456789);
        assert!(parse_time("yesterday").is_none());
        assert!(parse_time("").is_none());
    }

    #[test]
    fn command_array_is_joined_with_quotes() {
        let c = wire::Command::List(vec!["nginx".into(), "-g".into(), "daemon off;".into()]);
        assert_eq!(command_text(&c), "nginx -g \"daemon off;\"");
    }

    #[test]
    fn a_command_shown_splits_back_to_the_same_words() {
        for words in [
            vec!["nginx", "-g", "daemon off;"],
            vec!["sh", "-c", "echo \"$HOME\" 'x' `id` \\n"],
            vec!["", "#not-a-comment", "a\\b", "it's"],
        ] {
            let c = wire::Command::List(words.iter().map(|w| w.to_string()).collect());
            let back = super::super::create::split_command(&command_text(&c)).unwrap();
            assert_eq!(back, words, "{}", command_text(&c));
        }
    }

    #[test]
    fn triggers_keep_unknown_and_sqs() {
        let raw = json!({"cpu": {"threshold": 80, "extra": 1}, "memory": null, "sqs": {"queue_url": "q"},
                         "kafka": {"lag": 5}});
        let w: wire::Triggers = serde_json::from_value(raw.clone()).unwrap();
        let m = triggers(&w);
        assert_eq!(m.cpu, Some(80));
        assert_eq!(m.other.len(), 2);
        let back = triggers_json(&m, Some(&raw));
        assert_eq!(back["cpu"], json!({"threshold": 80, "extra": 1}));
        assert_eq!(back["sqs"], json!({"queue_url": "q"}));
        assert_eq!(back["kafka"], json!({"lag": 5}));
        assert_eq!(back["http"], Value::Null);
        let mut m2 = m.clone();
        m2.cpu = Some(60);
        assert_eq!(triggers_json(&m2, Some(&raw))["cpu"], json!({"threshold": 60}));
    }
}
