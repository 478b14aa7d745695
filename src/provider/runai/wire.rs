//! Serde types that mirror the Run:ai control-plane JSON (camelCase, almost everything nullable).
//! All lenience lives here: every field optional, unknown fields tolerated (and kept where an edit must send
//! them back), enum-like values kept as strings, numbers that may arrive as strings accepted.

use crate::provider::count::Count;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `POST /api/v2/token` 200 (`OAuth2TokenResponse`).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub expires_in: Option<i64>,
}

/// `POST /api/v1/token` 200 (`TokenResponse`, deprecated path): camelCase, every key optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponseV1 {
    #[serde(default)]
    pub access_token: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub expires_in: Option<i64>,
}

/// `OAuth2Error`: the error shape of `/api/v2/token` only.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OAuth2Error {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
}

/// `Error`: `{code, message, details?}`, on every other path.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

/// `HttpResponse`: the 202 body of DELETE.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HttpResponse {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `Inference1` (GET/PATCH/POST response): `WorkloadMeta1` + `spec`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inference {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub requested_name: Option<String>,
    #[serde(default)]
    pub workload_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub project_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub department_id: Option<String>,
    #[serde(default)]
    pub cluster_id: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deleted_at: Option<String>,
    /// `Running | Stopped | Deleted`, kept as text.
    #[serde(default)]
    pub desired_phase: Option<String>,
    /// `Phase`, kept as text.
    #[serde(default)]
    pub actual_phase: Option<String>,
    #[serde(default)]
    pub spec: Option<InferenceSpec>,
}

/// `InferenceSpecSpec`: the fields infertop reads; everything else is kept in `other`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceSpec {
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Option<String>,
    #[serde(default)]
    pub compute: Option<Compute>,
    #[serde(default)]
    pub environment_variables: Option<Vec<Option<EnvironmentVariable>>>,
    #[serde(default)]
    pub serving_port: Option<ServingPort>,
    #[serde(default)]
    pub autoscaling: Option<AutoScaling>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compute {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub gpu_devices_request: Option<i64>,
    /// `portion | memory`.
    #[serde(default)]
    pub gpu_request_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub gpu_portion_request: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub gpu_portion_limit: Option<f64>,
    #[serde(default)]
    pub gpu_memory_request: Option<String>,
    #[serde(default)]
    pub gpu_memory_limit: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpu_core_request: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpu_core_limit: Option<f64>,
    #[serde(default)]
    pub cpu_memory_request: Option<String>,
    #[serde(default)]
    pub cpu_memory_limit: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `{name, key}` of a secret, config map or user credential.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NameKey {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PodFieldRef {
    #[serde(default)]
    pub path: Option<String>,
}

/// One item of `environmentVariables`: a plain value or a reference (never resolved by infertop).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentVariable {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub secret: Option<NameKey>,
    #[serde(default)]
    pub config_map: Option<NameKey>,
    #[serde(default)]
    pub pod_field_ref: Option<PodFieldRef>,
    #[serde(default)]
    pub user_credential: Option<NameKey>,
    #[serde(default)]
    pub exclude: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingPort {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub container: Option<i64>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub authorization_type: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `AutoScaling`. The PATCH replaces this section whole; the client edits the raw JSON, not this type.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoScaling {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub min_replicas: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub max_replicas: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub initial_replicas: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub activation_replicas: Option<i64>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub metric_threshold: Option<i64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub metric_threshold_percentage: Option<f64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub concurrency_hard_limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub scale_to_zero_retention_seconds: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub scale_down_delay_seconds: Option<i64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `Probes`: readiness is the only probe the API has.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Probes {
    #[serde(default)]
    pub readiness: Option<Probe>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub initial_delay_seconds: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub period_seconds: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub success_threshold: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub failure_threshold: Option<i64>,
    #[serde(default)]
    pub handler: Option<ProbeHandler>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeHandler {
    #[serde(default)]
    pub http_get: Option<HttpGet>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HttpGet {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub port: Option<i64>,
    #[serde(default)]
    pub host: Option<String>,
    /// `HTTP | HTTPS`.
    #[serde(default)]
    pub scheme: Option<String>,
}

/// `GET /api/v1/clusters` 200 item (only what the client reads): the cluster's uuid and display name.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cluster {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /api/v1/workloads` 200.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkloadsPage {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub next: Option<i64>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub workloads: Vec<Workload>,
}

/// The fields of a workloads page besides its items (which are converted as they are decoded).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageNext {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub next: Option<i64>,
}

/// `GET /api/v1/workloads/count` 200.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkloadsCount {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub count: Option<i64>,
}

/// `Workload` / `WorkloadDetailed` (generic, any workload type).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Free text in the spec (example `runai-job`); `Inference` for inference workloads.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub cluster_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub project_id: Option<String>,
    #[serde(default)]
    pub project_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub department_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub phase_message: Option<String>,
    /// A value that is not a count is kept to be named, never read as 0.
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub running_pods: Option<Count>,
    #[serde(default)]
    pub requested_pods: Option<RequestedPods>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub images: Option<Vec<String>>,
    #[serde(default)]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default, deserialize_with = "text_map")]
    pub environment_variables: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
    #[serde(default)]
    pub allocated_resources: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestedPods {
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub number: Option<Count>,
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub min: Option<Count>,
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub max: Option<Count>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /api/v1/workloads/{id}/pods` 200.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodsPage {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub next: Option<i64>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub pods: Vec<Pod>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub k8s_phase: Option<String>,
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `MetricsResponse` and `MetricsCompositeResponse` (the histogram part is not read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsResponse {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub measurements: Vec<Measurement>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Measurement {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "text_map")]
    pub labels: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    pub values: Option<Vec<Option<MetricValue>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricValue {
    /// A number encoded as a string (`"85"`); a bare number or null is accepted too.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub value: Option<f64>,
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// Body of `POST /api/v1/workloads/inferences` (`InferenceCreationRequest`); `spec` is `InferenceSpecSpec`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceCreationRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_given_name_as_prefix: Option<bool>,
    pub project_id: String,
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
}

// ---------------------------------------------------------------- lenient helpers

/// Parses a timestamp with `T` or a space, with or without a zone (none means UTC), and up to 9 fractional
/// digits. Returns None for anything else.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let t = s.replacen(' ', "T", 1);
    if let Ok(d) = DateTime::parse_from_rfc3339(&t) {
        return Some(d.with_timezone(&Utc));
    }
    // A zone without a colon (`+0000`).
    if let Ok(d) = DateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(d.with_timezone(&Utc));
    }
    let naive = t.trim_end_matches(['Z', 'z']);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(n.and_utc());
        }
    }
    None
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        }
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A `{name: text}` map where a value that is neither text nor null is kept as its JSON: an odd value costs
/// its own shape, not the whole workload. Anything but an object reads as absent.
fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, Option<String>>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Object(m)) => Some(
            m.into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => Some(s),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    };
                    (k, text)
                })
                .collect(),
        ),
        _ => None,
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_with_space_t_zone_or_none() {
        let a = parse_time("2023-06-06 12:09:18.211").unwrap();
        let b = parse_time("2023-06-06T12:09:18.211Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("2023-06-06T12:09:18.123456789+02:00").is_some());
        assert!(parse_time("2023-06-06T12:09:18").is_some());
        assert!(parse_time("2023-06-06T12:09:18+0000").is_some());
        assert!(parse_time("yesterday").is_none());
        assert!(parse_time("").is_none());
    }

    #[test]
    fn odd_shapes_do_not_fail() {
        let m: MetricsResponse = serde_json::from_value(json!({
            "measurements": [
                {"type": "THROUGHPUT", "labels": null, "values": [{"value": "85", "timestamp": "2023-06-06 12:09:18.211"},
                    {"value": null, "timestamp": null}, {"value": 3.5}, null]},
                {"type": "LATENCY", "values": null}
            ]
        }))
        .unwrap();
        let v = m.measurements[0].values.as_ref().unwrap();
        assert_eq!(v[0].as_ref().unwrap().value, Some(85.0));
        assert_eq!(v[1].as_ref().unwrap().value, None);
        assert_eq!(v[2].as_ref().unwrap().value, Some(3.5));
        let w: WorkloadsPage = serde_json::from_value(json!({"workloads": null})).unwrap();
        assert!(w.workloads.is_empty());
        let i: Inference = serde_json::from_value(json!({
            "projectId": 1, "spec": {"autoscaling": {"minReplicas": "2", "newKey": true}, "mystery": [1]}
        }))
        .unwrap();
        assert_eq!(i.project_id.as_deref(), Some("1"));
        let spec = i.spec.unwrap();
        assert_eq!(spec.autoscaling.as_ref().unwrap().min_replicas, Some(2));
        assert!(spec.other.contains_key("mystery"));
        assert!(spec.autoscaling.unwrap().other.contains_key("newKey"));
    }
}
