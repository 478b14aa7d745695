//! Request validation with the spec's rules. Every error names the field (`spec.autoscaling.maxReplicas: ...`).

use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

static METRIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$").expect("static regex"));
static PROBE_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(/[a-zA-Z0-9\-_./]*)?$").expect("static regex"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        .expect("static regex")
});

/// Keys an update may carry (`InferenceUpdateSpec`).
pub const PATCHABLE: &[&str] = &[
    "args",
    "category",
    "command",
    "compute",
    "createHomeDir",
    "environmentVariables",
    "image",
    "imagePullPolicy",
    "imagePullSecrets",
    "nodeAffinityRequired",
    "nodePools",
    "nodeType",
    "podAffinity",
    "preemptibility",
    "priorityClass",
    "probes",
    "workingDir",
    "autoscaling",
    "servingConfiguration",
];

pub fn is_uuid(s: &str) -> bool {
    UUID.is_match(s)
}

/// An optional integer field: absent or null is None; anything but an integer is an error.
fn int(obj: &Map<String, Value>, prefix: &str, key: &str) -> Result<Option<i64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| format!("{prefix}.{key}: must be an integer")),
    }
}

fn range(prefix: &str, key: &str, v: Option<i64>, lo: i64, hi: Option<i64>) -> Result<(), String> {
    if let Some(v) = v {
        if v < lo {
            return Err(format!("{prefix}.{key}: must be at least {lo} (got {v})"));
        }
        if let Some(hi) = hi
            && v > hi
        {
            return Err(format!("{prefix}.{key}: must be at most {hi} (got {v})"));
        }
    }
    Ok(())
}

fn object<'a>(v: &'a Value, field: &str) -> Result<Option<&'a Map<String, Value>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        _ => Err(format!("{field}: must be an object")),
    }
}

/// `AutoScaling` rules.
pub fn autoscaling(v: &Value, prefix: &str) -> Result<(), String> {
    let Some(a) = object(v, prefix)? else { return Ok(()) };
    let min = int(a, prefix, "minReplicas")?;
    let max = int(a, prefix, "maxReplicas")?;
    range(prefix, "minReplicas", min, 0, None)?;
    range(prefix, "maxReplicas", max, 1, None)?;
    let min_v = min.unwrap_or(1);
    let max_v = max.unwrap_or(if min_v == 0 { 1 } else { min_v });
    if min_v > max_v {
        return Err(format!("{prefix}.minReplicas: must not exceed maxReplicas ({min_v} > {max_v})"));
    }
    for (k, lo, hi) in [
        ("initialReplicas", 0, None),
        ("activationReplicas", 1, None),
        ("concurrencyHardLimit", 0, None),
        ("scaleToZeroRetentionSeconds", 0, Some(3600)),
        ("scaleDownDelaySeconds", 0, Some(3600)),
        ("initializationTimeoutSeconds", 1, None),
    ] {
        range(prefix, k, int(a, prefix, k)?, lo, hi)?;
    }
    if let Some(p) = a.get("metricThresholdPercentage").filter(|v| !v.is_null()) {
        match p.as_f64() {
            Some(p) if (1.0..=100.0).contains(&p) => {}
            _ => {
                return Err(format!(
                    "{prefix}.metricThresholdPercentage: must be a number between 1 and 100"
                ));
            }
        }
    }
    let metric = match a.get("metric") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(format!("{prefix}.metric: must be a string")),
    };
    let threshold = int(a, prefix, "metricThreshold")?;
    match metric {
        Some(m) => {
            if !METRIC.is_match(m) {
                return Err(format!("{prefix}.metric: must match ^[a-zA-Z_:][a-zA-Z0-9_:]*$ (got {m:?})"));
            }
            if threshold.is_none() {
                return Err(format!("{prefix}.metricThreshold: is mandatory when metric is specified"));
            }
            if min_v == 0 && m == "latency" {
                return Err(format!(
                    "{prefix}.metric: only throughput and concurrency support scale-to-zero"
                ));
            }
        }
        None => {
            if min_v < max_v && !(min_v == 0 && max_v == 1) {
                return Err(format!(
                    "{prefix}.metric: is mandatory when minReplicas < maxReplicas (except minReplicas 0, maxReplicas 1)"
                ));
            }
        }
    }
    if let Some(r) = int(a, prefix, "scaleToZeroRetentionSeconds")?
        && r != 0
        && min_v != 0
    {
        return Err(format!("{prefix}.scaleToZeroRetentionSeconds: is available only when minReplicas is 0"));
    }
    Ok(())
}

/// `Probes` rules (readiness only; the handler is mandatory).
pub fn probes(v: &Value, prefix: &str) -> Result<(), String> {
    let Some(p) = object(v, prefix)? else { return Ok(()) };
    let rp = format!("{prefix}.readiness");
    let Some(r) = object(p.get("readiness").unwrap_or(&Value::Null), &rp)? else { return Ok(()) };
    range(&rp, "initialDelaySeconds", int(r, &rp, "initialDelaySeconds")?, 0, None)?;
    for k in ["periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"] {
        range(&rp, k, int(r, &rp, k)?, 1, None)?;
    }
    let hp = format!("{rp}.handler");
    let Some(h) = object(r.get("handler").unwrap_or(&Value::Null), &hp)? else {
        return Err(format!("{hp}: is mandatory"));
    };
    let gp = format!("{hp}.httpGet");
    let Some(g) = object(h.get("httpGet").unwrap_or(&Value::Null), &gp)? else {
        return Err(format!("{gp}: is mandatory"));
    };
    match g.get("path") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if PROBE_PATH.is_match(s) => {}
        Some(_) => return Err(format!("{gp}.path: must match ^(/[a-zA-Z0-9\\-_./]*)?$")),
    }
    range(&gp, "port", int(g, &gp, "port")?, 1, Some(65535))?;
    match g.get("scheme") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "HTTP" || s == "HTTPS" => {}
        Some(_) => return Err(format!("{gp}.scheme: must be HTTP or HTTPS")),
    }
    match g.get("host") {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(_) => Err(format!("{gp}.host: must be a string")),
    }
}

/// The sections of a spec both create and update validate.
fn spec_sections(spec: &Map<String, Value>) -> Result<(), String> {
    if let Some(a) = spec.get("autoscaling") {
        autoscaling(a, "spec.autoscaling")?;
    }
    if let Some(p) = spec.get("probes") {
        probes(p, "spec.probes")?;
    }
    if let Some(e) = spec.get("environmentVariables").filter(|v| !v.is_null()) {
        let list = e.as_array().ok_or("spec.environmentVariables: must be an array")?;
        for (i, item) in list.iter().enumerate() {
            let name = item.get("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() {
                return Err(format!("spec.environmentVariables[{i}].name: is mandatory"));
            }
        }
    }
    if let Some(c) = spec.get("compute").filter(|v| !v.is_null()) {
        let c = c.as_object().ok_or("spec.compute: must be an object")?;
        range("spec.compute", "gpuDevicesRequest", int(c, "spec.compute", "gpuDevicesRequest")?, 0, None)?;
        if let Some(p) = c.get("gpuPortionRequest").filter(|v| !v.is_null()) {
            match p.as_f64() {
                Some(p) if (0.0..=1.0).contains(&p) => {}
                _ => return Err("spec.compute.gpuPortionRequest: must be between 0 and 1".into()),
            }
        }
    }
    Ok(())
}

/// `InferenceUpdateRequest`: returns the `spec` sections to replace.
pub fn update(body: &Value) -> Result<Map<String, Value>, String> {
    let b = body.as_object().ok_or("body: must be a JSON object")?;
    let spec = match b.get("spec") {
        Some(Value::Object(m)) => m,
        Some(_) => return Err("spec: must be an object".into()),
        None => return Err("spec: is mandatory".into()),
    };
    for k in spec.keys() {
        if !PATCHABLE.contains(&k.as_str()) {
            return Err(format!("spec.{k}: cannot be updated"));
        }
    }
    spec_sections(spec)?;
    Ok(spec.clone())
}

/// `InferenceCreationRequest`: returns (name, projectId, clusterId, useGivenNameAsPrefix, spec).
pub fn create(body: &Value) -> Result<(String, String, String, bool, Value), String> {
    let b = body.as_object().ok_or("body: must be a JSON object")?;
    let s = |k: &str| b.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name = s("name").ok_or("name: is mandatory")?;
    let project = s("projectId").ok_or("projectId: is mandatory")?;
    let cluster = s("clusterId").ok_or("clusterId: is mandatory")?;
    if !is_uuid(cluster) {
        return Err("clusterId: must be a UUID".into());
    }
    let spec = match b.get("spec") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err("spec: must be an object".into()),
    };
    if spec.get("image").and_then(Value::as_str).is_none_or(|i| i.trim().is_empty()) {
        return Err("spec.image: The image name is mandatory for creating a workload.".into());
    }
    spec_sections(&spec)?;
    if let Some(p) = spec.get("servingPort").filter(|v| !v.is_null()) {
        let p = p.as_object().ok_or("spec.servingPort: must be an object")?;
        range("spec.servingPort", "container", int(p, "spec.servingPort", "container")?, 1, Some(65535))?;
    }
    let prefix = b.get("useGivenNameAsPrefix").and_then(Value::as_bool).unwrap_or(false);
    Ok((name.to_string(), project.to_string(), cluster.to_string(), prefix, Value::Object(spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn a(v: Value) -> Result<(), String> {
        autoscaling(&v, "a")
    }

    #[test]
    fn autoscaling_rules() {
        assert!(a(json!({"minReplicas": 1, "maxReplicas": 1})).is_ok());
        assert!(a(json!({"minReplicas": 0, "maxReplicas": 1})).is_ok());
        assert!(a(json!({"minReplicas": -1})).unwrap_err().starts_with("a.minReplicas"));
        assert!(a(json!({"maxReplicas": 0})).unwrap_err().starts_with("a.maxReplicas"));
        assert!(a(json!({"minReplicas": 3, "maxReplicas": 2})).unwrap_err().starts_with("a.minReplicas"));
        assert!(a(json!({"minReplicas": 1, "maxReplicas": 3})).unwrap_err().starts_with("a.metric:"));
        assert!(
            a(json!({"minReplicas": 1, "maxReplicas": 3, "metric": "concurrency"}))
                .unwrap_err()
                .starts_with("a.metricThreshold")
        );
        assert!(
            a(json!({"minReplicas": 1, "maxReplicas": 3, "metric": "concurrency", "metricThreshold": 2}))
                .is_ok()
        );
        assert!(
            a(json!({"minReplicas": 1, "scaleToZeroRetentionSeconds": 60}))
                .unwrap_err()
                .starts_with("a.scaleToZeroRetentionSeconds")
        );
        assert!(
            a(json!({"minReplicas": 0, "maxReplicas": 1, "scaleToZeroRetentionSeconds": 3601}))
                .unwrap_err()
                .starts_with("a.scaleToZeroRetentionSeconds")
        );
        assert!(a(json!({"minReplicas": "1"})).unwrap_err().contains("integer"));
    }

    #[test]
    fn probe_rules() {
        let p = |v: Value| probes(&v, "p");
        let ok = json!({"readiness": {"periodSeconds": 1, "handler": {"httpGet": {"path": "/ready", "port": 80}}}});
        assert!(p(ok).is_ok());
        assert!(
            p(json!({"readiness": {"periodSeconds": 0, "handler": {"httpGet": {}}}}))
                .unwrap_err()
                .starts_with("p.readiness.periodSeconds")
        );
        assert!(p(json!({"readiness": {}})).unwrap_err().starts_with("p.readiness.handler"));
        assert!(
            p(json!({"readiness": {"handler": {"httpGet": {"path": "no slash"}}}}))
                .unwrap_err()
                .starts_with("p.readiness.handler.httpGet.path")
        );
        assert!(
            p(json!({"readiness": {"handler": {"httpGet": {"port": 70000}}}}))
                .unwrap_err()
                .starts_with("p.readiness.handler.httpGet.port")
        );
    }

    #[test]
    fn update_rejects_unpatchable_keys() {
        assert_eq!(
            update(&json!({"spec": {"servingPort": {}}})).unwrap_err(),
            "spec.servingPort: cannot be updated"
        );
        assert!(update(&json!({"spec": {"autoscaling": {"minReplicas": 1}}})).is_ok());
    }
}
