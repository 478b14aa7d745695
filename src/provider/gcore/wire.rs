//! Gcore wire types: serde structs that mirror the JSON of the Everywhere Inference API exactly (v3 and the
//! legacy v2). All lenience lives here: nearly every field is optional, unknown fields are tolerated (and
//! kept in `extra` where an edit must send them back), unknown enum values stay strings, and `command` is
//! a string or an array.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A `{name: text}` map (envs, headers) where a value that is not text is kept as its JSON (null as empty):
/// an odd value costs its own shape, not the whole deployment. Anything but an object reads as absent.
fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Object(m)) => Some(
            m.into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect(),
        ),
        _ => None,
    })
}

/// `{count, results}`: every list of the Cloud API. `count` is the total across all pages.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    #[serde(default)]
    pub count: Option<u64>,
    /// Required, so that an untagged enum can tell an envelope from a bare item.
    pub results: Vec<T>,
}

/// The fields of a `{count, results}` page besides its items (which are mapped as they are decoded).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageCount {
    #[serde(default)]
    pub count: Option<u64>,
}

/// The error body of the Cloud API: `{exception_class, message, request_id, info?, invalid_fields?}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub exception_class: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    /// `{field: ["msg", ...]}`; tolerated as `{field: "msg"}` too.
    #[serde(default)]
    pub invalid_fields: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub info: Option<Value>,
    /// Some older endpoints answer `{"detail": "..."}`.
    #[serde(default)]
    pub detail: Option<Value>,
}

/// `command`: the spec types it `string|null` in responses (space-joined), the seed's example shows an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Text(String),
    List(Vec<String>),
}

/// `{"tasks": ["uuid", ...]}`; empty for a no-op update.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskIds {
    #[serde(default)]
    pub tasks: Vec<String>,
}

/// `GET /cloud/v1/tasks/{id}` (only the fields the client reads; the rest is tolerated).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Task {
    #[serde(default)]
    pub id: Option<String>,
    /// `NEW`, `RUNNING`, `FINISHED`, `ERROR`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub task_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub created_resources: Option<CreatedResources>,
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreatedResources {
    #[serde(default)]
    pub inference_instances: Option<Vec<String>>,
}

/// `{threshold}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    #[serde(default)]
    pub threshold: Option<i64>,
}

/// `{rate, window}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    #[serde(default)]
    pub rate: Option<i64>,
    #[serde(default)]
    pub window: Option<i64>,
}

/// Output triggers: every key present and possibly null in v3; v2 has no `sqs`. Unknown triggers land in
/// `other` (and `sqs`, which the model has no field for, is carried there too by the conversion).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Triggers {
    #[serde(default)]
    pub cpu: Option<Threshold>,
    #[serde(default)]
    pub memory: Option<Threshold>,
    #[serde(default)]
    pub gpu_utilization: Option<Threshold>,
    #[serde(default)]
    pub gpu_memory: Option<Threshold>,
    #[serde(default)]
    pub http: Option<Rate>,
    #[serde(default)]
    pub sqs: Option<Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `containers[].scale` (v3 and v2 output).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Scale {
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub cooldown_period: Option<i64>,
    /// v3 only.
    #[serde(default)]
    pub polling_interval: Option<i64>,
    #[serde(default)]
    pub triggers: Option<Triggers>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct DeployStatus {
    #[serde(default)]
    pub ready: Option<i64>,
    #[serde(default)]
    pub total: Option<i64>,
}

/// One region of a deployment (v3 `ContainerOutSerializerV3`, v2 `ContainerOutSerializer`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Container {
    #[serde(default)]
    pub region_id: Option<i64>,
    /// v3 only.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub deploy_status: Option<DeployStatus>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub scale: Option<Scale>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecAction {
    #[serde(default)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpGetAction {
    #[serde(default, deserialize_with = "text_map")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    /// `HTTP` or `HTTPS` (the API calls the scheme `schema`).
    #[serde(default)]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpSocketAction {
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub exec: Option<ExecAction>,
    #[serde(default)]
    pub http_get: Option<HttpGetAction>,
    #[serde(default)]
    pub tcp_socket: Option<TcpSocketAction>,
    #[serde(default)]
    pub failure_threshold: Option<i64>,
    #[serde(default)]
    pub initial_delay_seconds: Option<i64>,
    #[serde(default)]
    pub period_seconds: Option<i64>,
    #[serde(default)]
    pub success_threshold: Option<i64>,
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProbeConfig {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub probe: Option<Probe>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Probes {
    #[serde(default)]
    pub liveness_probe: Option<ProbeConfig>,
    #[serde(default)]
    pub readiness_probe: Option<ProbeConfig>,
    #[serde(default)]
    pub startup_probe: Option<ProbeConfig>,
}

/// `retention_policy`: `{period}` in the spec; an older API sent a bare number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RetentionPolicy {
    Policy {
        #[serde(default)]
        period: Option<i64>,
    },
    Days(i64),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Logging {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub destination_region_id: Option<i64>,
    #[serde(default)]
    pub topic_name: Option<String>,
    #[serde(default)]
    pub retention_policy: Option<RetentionPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IngressOpts {
    #[serde(default)]
    pub disable_response_buffering: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ObjectReference {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A v3 deployment (`InferenceInstanceOutSerializerV3`), as GET and the list return it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Deployment {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub project_id: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub listening_port: Option<i64>,
    #[serde(default)]
    pub flavor_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub credentials_name: Option<String>,
    #[serde(default)]
    pub command: Option<Command>,
    #[serde(default, deserialize_with = "text_map")]
    pub envs: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub auth_enabled: Option<bool>,
    #[serde(default)]
    pub api_keys: Option<Vec<String>>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub ingress_opts: Option<IngressOpts>,
    #[serde(default)]
    pub logging: Option<Logging>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(default)]
    pub object_references: Option<Vec<ObjectReference>>,
}

/// A legacy v2 deployment (`InferenceInstanceOutSerializer`, seed 001's PUT response).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DeploymentV2 {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub listening_port: Option<i64>,
    #[serde(default)]
    pub flavor_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub image_registry_id: Option<String>,
    #[serde(default)]
    pub command: Option<Command>,
    #[serde(default, deserialize_with = "text_map")]
    pub envs: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub timeout: Option<i64>,
    #[serde(default)]
    pub auth_enabled: Option<bool>,
    #[serde(default)]
    pub api_key_ids: Option<Vec<String>>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(default)]
    pub project_id: Option<i64>,
}

/// `GET .../logs` item. `time` carries up to 9 fractional digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LogLine {
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub region_id: Option<i64>,
    #[serde(default)]
    pub pod: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The v2 logs answer: the spec's schema is a single log object although it is described as a list; accept
/// an envelope, a bare array, or one object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LogsV2 {
    Page(Page<LogLine>),
    List(Vec<LogLine>),
    One(LogLine),
}

impl LogsV2 {
    pub fn into_lines(self) -> Vec<LogLine> {
        match self {
            LogsV2::Page(p) => p.results,
            LogsV2::List(l) => l,
            LogsV2::One(l) => vec![l],
        }
    }
}

/// `GET /cloud/v3/inference/flavors` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Flavor {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub cpu: Option<f64>,
    #[serde(default)]
    pub memory: Option<f64>,
    #[serde(default)]
    pub gpu: Option<i64>,
    #[serde(default)]
    pub gpu_model: Option<String>,
    #[serde(default)]
    pub gpu_memory: Option<f64>,
    #[serde(default)]
    pub gpu_compute_capability: Option<String>,
    #[serde(default)]
    pub is_gpu_shared: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /cloud/v2/inference/flavors/{flavor_id}` (`FlavorOutSerializer`): only the name is used.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FlavorV2 {
    #[serde(default)]
    pub name: String,
}

/// `GET /cloud/v3/inference/capacity` item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RegionCapacity {
    #[serde(default)]
    pub region_id: Option<i64>,
    #[serde(default)]
    pub capacity: Vec<FlavorCapacity>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FlavorCapacity {
    #[serde(default)]
    pub flavor_name: String,
    #[serde(default)]
    pub capacity: Option<i64>,
}

/// `GET /cloud/v1/regions` item (only what the client reads).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Region {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub has_ai: Option<bool>,
}

/// `POST /cloud/v2/pricing/inference/deployments` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct PricePreview {
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub price_per_hour: Option<f64>,
    #[serde(default)]
    pub price_per_month: Option<f64>,
    #[serde(default)]
    pub price_without_discount_per_month: Option<f64>,
    #[serde(default)]
    pub discount_percent: Option<f64>,
    #[serde(default)]
    pub tax_percent: Option<f64>,
    /// `error`, `hide` or `show`.
    #[serde(default)]
    pub price_status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn command_is_string_or_array() {
        let a: Command = serde_json::from_value(json!("nginx -g x")).unwrap();
        assert_eq!(a, Command::Text("nginx -g x".into()));
        let b: Command = serde_json::from_value(json!(["nginx", "-g"])).unwrap();
        assert_eq!(b, Command::List(vec!["nginx".into(), "-g".into()]));
    }

    #[test]
    fn sparse_and_odd_deployments_decode() {
        let d: Deployment = serde_json::from_value(json!({
            "name": "x", "containers": [{"region_id": 7, "scale": {"min": 0, "max": 1,
            "triggers": {"cpu": null, "kafka": {"lag": 5}}}}],
            "logging": {"enabled": true, "retention_policy": 30, "opensearch_dashboards_link": "x"},
            "status": "SOMETHING_NEW", "surprise": [1, 2]
        }))
        .unwrap();
        assert_eq!(d.status.as_deref(), Some("SOMETHING_NEW"));
        let t = d.containers[0].scale.as_ref().unwrap().triggers.as_ref().unwrap();
        assert!(t.cpu.is_none());
        assert_eq!(t.other["kafka"], json!({"lag": 5}));
        assert_eq!(d.logging.unwrap().retention_policy, Some(RetentionPolicy::Days(30)));
        let _: Deployment = serde_json::from_value(json!({})).unwrap();
    }

    #[test]
    fn v2_logs_in_any_shape() {
        let one =
            json!({"time": "2024-10-14T14:54:04.82851142Z", "pod": "p", "message": "m", "region_id": 7});
        for v in [json!({"count": 1, "results": [one.clone()]}), json!([one.clone()]), one] {
            let l: LogsV2 = serde_json::from_value(v).unwrap();
            assert_eq!(l.into_lines().len(), 1);
        }
    }
}
