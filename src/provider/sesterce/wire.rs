//! Sesterce Cloud AI Inference wire types: the JSON of seed `004_044379b10d40206f.txt`, exactly.
//!
//! All lenience lives here: every field is optional, numbers may arrive as strings, ids as numbers, unknown
//! keys are kept (`extra`) so that what we read can be sent back unchanged. Fields the client sends back
//! verbatim on PATCH (`containerPort`, `description`, `envs`, ...) are kept as raw JSON, with `null` and
//! absent told apart ([`present`]).

use crate::provider::count::Count;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

// ------------------------------------------------------------------------------------------ lenient readers

/// A field that is present keeps its raw value, `null` included (`Some(Value::Null)`); absent stays `None`
/// (with `#[serde(default)]`).
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A string, or a number/bool written as text; anything else is `None`.
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_string(&Value::deserialize(d)?))
}

/// A number, or a string holding one; anything else is `None`.
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(value_to_f64(&Value::deserialize(d)?))
}

/// A non-negative integer (a whole float or a numeric string counts); anything else is `None`.
pub fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(value_to_u32(&Value::deserialize(d)?))
}

/// A list of strings; non-string items are written as text, a non-list is empty.
pub fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a.iter().filter_map(value_to_string).collect(),
        _ => Vec::new(),
    })
}

/// A list of `T`, where items that do not parse are dropped instead of failing the whole list.
pub fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect(),
        _ => Vec::new(),
    })
}

pub fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn value_to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

pub fn value_to_u32(v: &Value) -> Option<u32> {
    let f = value_to_f64(v)?;
    if f >= 0.0 && f <= u32::MAX as f64 && f.fract() == 0.0 { Some(f as u32) } else { None }
}

// ------------------------------------------------------------------------------------------------ catalogs

/// `GET /ai-inference/models` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    pub port: Option<u32>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub default_hardware_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_strings")]
    pub features: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /ai-inference/hardwares` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hardware {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// Millicores (16000 for "16 vCPU").
    #[serde(default, deserialize_with = "lenient_f64")]
    pub cpu: Option<f64>,
    /// MiB (237568 for "232GiB").
    #[serde(default, deserialize_with = "lenient_f64")]
    pub ram: Option<f64>,
    #[serde(default, deserialize_with = "lenient_gpu")]
    pub gpu: Option<Gpu>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lenient_gpu<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Gpu>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    #[serde(default, deserialize_with = "lenient_string")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    pub count: Option<u32>,
    /// GB.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub memory: Option<f64>,
}

/// `GET /ai-inference/regions` item. `id` is a number in the seed; a string is accepted too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub country_code: Option<String>,
    /// `ACTIVE` in the seed; other values unknown, kept as text.
    #[serde(default, deserialize_with = "lenient_string")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub capacities: Vec<Capacity>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    #[serde(default, deserialize_with = "lenient_string")]
    pub hardware_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    pub capacity: Option<u32>,
}

/// A registry (`POST`/`GET /ai-inference/registries`). The password is never returned.
/// The seed's list example has no `username`; its create response has one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registry {
    #[serde(rename = "_id", default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub updated_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /ai-inference/registries` body (all required).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryCreate {
    pub url: String,
    pub username: String,
    pub password: String,
    pub name: String,
}

/// `PATCH /ai-inference/registries/{id}` body (all required; answers 204).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryUpdate {
    pub url: String,
    pub username: String,
    pub password: String,
}

// ----------------------------------------------------------------------------------------------- instances

/// `GET /ai-inference/instances` item, and the answer of create and PATCH.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSummary {
    #[serde(rename = "_id", default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// `NEW|ACTIVE|PENDING|ERROR|DISABLED|DELETED|DELETING|DEPLOYING|FAILED|PARTIALLYDEPLOYED`, or anything.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub hourly_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    pub features: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub updated_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /ai-inference/instances/{id}`.
///
/// The fields a PATCH must send back are kept raw: `Some(Value::Null)` is a `null` the server sent, `None` a key
/// it did not send. The seed's details carry `apiKeysIds` (sic) while PATCH takes `apiKeyIds`; both are read.
/// `modelId` and `registryId` are not in the seed's details (the simulator adds them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDetails {
    #[serde(rename = "_id", default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub hourly_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    pub features: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub container_port: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub pod_lifetime: Option<Value>,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub containers: Vec<Container>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub hardware_id: Option<Value>,
    /// The CLI's `InferenceInstanceDetails` has `hardwareName`; the seed does not.
    #[serde(default, deserialize_with = "lenient_string", skip_serializing_if = "Option::is_none")]
    pub hardware_name: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub envs: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub startup_command: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub api_keys_ids: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub api_key_ids: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub model_id: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<Value>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub updated_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One region of an instance (`containers[]` of the details).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// A number in the seed; kept raw so that it goes back exactly as it came.
    #[serde(default)]
    pub region_id: Value,
    #[serde(default)]
    pub scale: ScaleWire,
    #[serde(default, deserialize_with = "lenient_deploy_status")]
    pub deploy_status: Option<DeployStatus>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lenient_deploy_status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeployStatus>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeployStatus {
    /// A value that is not a count is kept to be named, never read as 0.
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub total: Option<Count>,
    #[serde(default, deserialize_with = "crate::provider::count::count")]
    pub ready: Option<Count>,
}

/// `scale` of a container, and of an `autoScalingConfigurations` item. Unknown keys are kept and sent back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleWire {
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<u32>,
    #[serde(default, deserialize_with = "lenient_triggers", skip_serializing_if = "Option::is_none")]
    pub triggers: Option<TriggersWire>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lenient_triggers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TriggersWire>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

/// Triggers; a trigger we do not model lands in `extra` and is sent back as it came.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggersWire {
    #[serde(default, deserialize_with = "lenient_threshold", skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Threshold>,
    #[serde(default, deserialize_with = "lenient_threshold", skip_serializing_if = "Option::is_none")]
    pub gpu_memory: Option<Threshold>,
    #[serde(default, deserialize_with = "lenient_threshold", skip_serializing_if = "Option::is_none")]
    pub gpu_utilization: Option<Threshold>,
    #[serde(default, deserialize_with = "lenient_threshold", skip_serializing_if = "Option::is_none")]
    pub memory: Option<Threshold>,
    #[serde(default, deserialize_with = "lenient_http", skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpWire>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lenient_threshold<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Threshold>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

fn lenient_http<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpWire>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpWire {
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32", skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One item of `autoScalingConfigurations` (create, PATCH, pricing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoScalingConfiguration {
    #[serde(default)]
    pub region_id: Value,
    #[serde(default)]
    pub scale: ScaleWire,
}

/// `PATCH /ai-inference/instances/{id}` body. The seed marks every field required (nullable ones may be
/// `null`), but the details do not give `modelId` or `registryId`: a field the client did not read is left
/// out (`None`), never sent as `null`; a field read as `null` is sent back as `null` (`Some(Null)`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInstance {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub model_id: Option<Value>,
    #[serde(default)]
    pub container_port: Value,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default)]
    pub auto_scaling_configurations: Vec<AutoScalingConfiguration>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub pod_lifetime: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub envs: Option<Value>,
    #[serde(default)]
    pub hardware_id: Value,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub startup_command: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub api_key_ids: Option<Value>,
}

/// `POST /ai-inference/instances` body: the PATCH fields plus `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInstance {
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub container_port: u32,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub auto_scaling_configurations: Vec<AutoScalingConfiguration>,
    #[serde(default)]
    pub pod_lifetime: Option<u32>,
    #[serde(default)]
    pub envs: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub hardware_id: String,
    #[serde(default)]
    pub startup_command: Option<String>,
    #[serde(default)]
    pub registry_id: Option<String>,
    #[serde(default)]
    pub api_key_ids: Option<Vec<String>>,
}

/// `POST /ai-inference/instances/pricing` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingRequest {
    #[serde(default)]
    pub hardware_id: String,
    #[serde(default)]
    pub auto_scaling_configurations: Vec<PricingConfiguration>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingConfiguration {
    #[serde(default)]
    pub region_id: Value,
    #[serde(default)]
    pub scale: PricingScale,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PricingScale {
    #[serde(default, deserialize_with = "lenient_u32")]
    pub max: Option<u32>,
}

/// `POST /ai-inference/instances/pricing` answer (201).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingResponse {
    #[serde(default, deserialize_with = "lenient_string")]
    pub currency_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub price_per_hour: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub price_per_month: Option<f64>,
}

// ------------------------------------------------------------------------------------------------- errors

/// The error body: `{statusCode, message}` where a validation error's `message` may be a list of strings
/// (NestJS style); `error` may come along.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "lenient_u32")]
    pub status_code: Option<u32>,
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub error: Option<String>,
}

impl ErrorBody {
    /// The messages, one per item of an array `message`, or the single string.
    pub fn messages(&self) -> Vec<String> {
        match &self.message {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(value_to_string).collect(),
            Some(other) => value_to_string(other).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_and_absent_are_told_apart() {
        let d: InstanceDetails = serde_json::from_value(json!({"_id": "a", "modelId": null})).unwrap();
        assert_eq!(d.model_id, Some(Value::Null));
        assert_eq!(d.registry_id, None);
    }

    #[test]
    fn odd_values_do_not_fail_the_whole_record() {
        let d: InstanceDetails = serde_json::from_value(json!({
            "_id": 42, "name": ["x"], "hourlyPrice": "2.5", "features": "chat",
            "containers": [
                {"regionId": "18", "scale": {"min": "1", "max": 2.0, "triggers": {"cpu": 80, "sqs": {"x": 1}}},
                 "deployStatus": "weird"},
                "not a container"
            ]
        }))
        .unwrap();
        assert_eq!(d.id.as_deref(), Some("42"));
        assert_eq!(d.name, None);
        assert_eq!(d.hourly_price, Some(2.5));
        assert_eq!(d.containers.len(), 1);
        let c = &d.containers[0];
        assert_eq!((c.scale.min, c.scale.max), (Some(1), Some(2)));
        let t = c.scale.triggers.as_ref().unwrap();
        assert_eq!(t.cpu, None);
        assert_eq!(t.extra.get("sqs"), Some(&json!({"x": 1})));
        assert_eq!(c.deploy_status, None);
    }

    #[test]
    fn error_message_may_be_string_or_list() {
        let e: ErrorBody =
            serde_json::from_value(json!({"statusCode": 400, "message": ["a b", "c d"]})).unwrap();
        assert_eq!(e.messages(), ["a b", "c d"]);
        let e: ErrorBody = serde_json::from_value(json!({"statusCode": 401, "message": "nope"})).unwrap();
        assert_eq!(e.messages(), ["nope"]);
    }
}
