//! Sesterce wire -> model, and the model's scale edit -> wire.

use super::wire::{self, Container, InstanceDetails, InstanceSummary, ScaleWire, Threshold, TriggersWire};
use crate::model::{
    Deployment, DeploymentKey, HardwareInfo, HttpTrigger, ProviderKind, RegionInfo, RegionReplicas, Scale,
    Status, Triggers,
};
use crate::provider::count;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Names from the catalogs, for turning ids into words. Empty maps just leave the ids.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// hardware id -> name.
    pub hardware: HashMap<String, String>,
    /// region id (as text) -> name.
    pub regions: HashMap<String, String>,
    /// model id -> name.
    pub models: HashMap<String, String>,
    /// registry id -> url.
    pub registries: HashMap<String, String>,
}

/// Timestamps with or without a zone (no zone means UTC), `T` or space, up to 9 fractional digits.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let spaced = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&spaced, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// The text form of a region id (`18`), whatever JSON type it came as.
pub fn region_id_text(v: &Value) -> String {
    wire::value_to_string(v).unwrap_or_default()
}

/// The JSON form of a region id for a request: a number when it reads as one (as the seed sends it).
pub fn region_id_json(id: &str) -> Value {
    match id.trim().parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(id),
    }
}

fn key(account: &str, id: Option<&String>) -> DeploymentKey {
    DeploymentKey {
        provider: ProviderKind::Sesterce,
        account: crate::model::intern(account),
        id: id.cloned().unwrap_or_default(),
    }
}

fn status(s: Option<&String>) -> Status {
    Status::from_gcore(s.map(String::as_str).unwrap_or(""))
}

/// A list item (no containers: no regions, no readiness).
pub fn summary(account: &str, w: &InstanceSummary) -> Deployment {
    let mut d = Deployment::new(
        key(account, w.id.as_ref()),
        w.name.clone().unwrap_or_default(),
        status(w.status.as_ref()),
    );
    d.address = w.address.clone().filter(|a| !a.is_empty());
    d.price_per_hour = w.hourly_price;
    d.created_at = w.created_at.as_deref().and_then(parse_time);
    d.detail = false;
    d
}

/// The scale of a container, in model terms. Unknown triggers go to `Triggers::other`.
pub fn scale(w: &ScaleWire) -> Scale {
    let t = w.triggers.clone().unwrap_or_default();
    let th = |x: &Option<Threshold>| x.as_ref().and_then(|t| t.threshold);
    Scale {
        min: w.min.unwrap_or(0),
        max: w.max.unwrap_or(0),
        cooldown_seconds: w.cooldown_period,
        polling_interval_seconds: None,
        scale_to_zero_retention_seconds: None,
        triggers: Triggers {
            cpu: th(&t.cpu),
            memory: th(&t.memory),
            gpu_utilization: th(&t.gpu_utilization),
            gpu_memory: th(&t.gpu_memory),
            http: t.http.as_ref().and_then(|h| match (h.rate, h.window) {
                (Some(rate), Some(window)) => Some(HttpTrigger { rate, window }),
                _ => None,
            }),
            metric: None,
            other: t.extra.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        },
    }
}

/// A region of the details; a count that could not be read is added to `bad` (field and value).
fn region(i: usize, c: &Container, names: &Names, bad: &mut Vec<String>) -> RegionReplicas {
    let id = region_id_text(&c.region_id);
    let ds = c.deploy_status.clone().unwrap_or_default();
    let field = |f: &str| format!("containers[{i}].deployStatus.{f}");
    let ready = count::read(&ds.ready, &field("ready"), bad);
    let total = count::read(&ds.total, &field("total"), bad);
    RegionReplicas {
        region_name: names.regions.get(&id).map(|n| crate::model::intern(n)),
        region_id: id,
        ready: ready.unwrap_or(0),
        total: total.unwrap_or(0),
        scale: scale(&c.scale),
        error: c.error_message.clone().filter(|m| !m.trim().is_empty()),
    }
}

fn opt_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().and_then(wire::value_to_string).filter(|s| !s.is_empty())
}

/// The full record of `GET /ai-inference/instances/{id}`.
pub fn details(account: &str, w: &InstanceDetails, names: &Names) -> Deployment {
    let mut d = Deployment::new(
        key(account, w.id.as_ref()),
        w.name.clone().unwrap_or_default(),
        status(w.status.as_ref()),
    );
    d.address = w.address.clone().filter(|a| !a.is_empty());
    d.price_per_hour = w.hourly_price;
    d.created_at = w.created_at.as_deref().and_then(parse_time);
    d.port = w.container_port.as_ref().and_then(wire::value_to_u32);
    d.description = opt_text(&w.description);
    d.command = opt_text(&w.startup_command);
    let hardware_id = opt_text(&w.hardware_id);
    d.hardware = hardware_id
        .as_ref()
        .and_then(|id| names.hardware.get(id).cloned())
        .or_else(|| w.hardware_name.clone())
        .or(hardware_id)
        .map(|s| crate::model::intern(&s));
    d.image = opt_text(&w.model_id)
        .map(|id| names.models.get(&id).cloned().unwrap_or(id))
        .or_else(|| opt_text(&w.registry_id).and_then(|id| names.registries.get(&id).cloned()))
        .map(|s| crate::model::intern(&s));
    if let Some(Value::Object(m)) = &w.envs {
        d.envs = m.iter().filter_map(|(k, v)| wire::value_to_string(v).map(|v| (k.clone(), v))).collect();
    }
    let mut bad = Vec::new();
    d.regions = w.containers.iter().enumerate().map(|(i, c)| region(i, c, names, &mut bad)).collect();
    if !bad.is_empty() {
        d.unknown = Some(format!("GET /ai-inference/instances/{{id}}: {}", bad.join("; ")));
    }
    d.detail = true;
    d
}

pub fn hardware(w: &wire::Hardware) -> HardwareInfo {
    let gpu = w.gpu.clone().unwrap_or_default();
    HardwareInfo {
        id: w.id.clone().unwrap_or_default(),
        name: w.name.clone().or_else(|| w.id.clone()).unwrap_or_default(),
        gpu_model: gpu.model,
        gpu_count: gpu.count,
        gpu_memory_gib: gpu.memory,
        cpu: w.cpu.map(|m| m / 1000.0),
        memory_gib: w.ram.map(|m| m / 1024.0),
    }
}

/// A region of the catalog; capacity is keyed by hardware name where the name is known.
pub fn region_info(w: &wire::Region, names: &Names) -> RegionInfo {
    let mut capacity = BTreeMap::new();
    for c in &w.capacities {
        if let (Some(id), Some(n)) = (&c.hardware_id, c.capacity) {
            capacity.insert(names.hardware.get(id).cloned().unwrap_or_else(|| id.clone()), n);
        }
    }
    RegionInfo {
        id: w.id.clone().unwrap_or_default(),
        name: w.name.clone().or_else(|| w.id.clone()).unwrap_or_default(),
        state: w.state.clone(),
        capacity,
    }
}

/// Writes a model scale onto the wire scale read from the server, changing only what the model covers:
/// unknown keys of `scale`, of `triggers` and of each trigger stay as they came.
pub fn apply_scale(base: &ScaleWire, s: &Scale) -> ScaleWire {
    let mut out = base.clone();
    out.min = Some(s.min);
    out.max = Some(s.max);
    out.cooldown_period = s.cooldown_seconds;
    let had_triggers = base.triggers.is_some();
    let mut t = base.triggers.clone().unwrap_or_default();
    let set = |slot: &mut Option<Threshold>, v: Option<u32>| {
        *slot = v.map(|v| {
            let mut th = slot.clone().unwrap_or_default();
            th.threshold = Some(v);
            th
        });
    };
    set(&mut t.cpu, s.triggers.cpu);
    set(&mut t.memory, s.triggers.memory);
    set(&mut t.gpu_utilization, s.triggers.gpu_utilization);
    set(&mut t.gpu_memory, s.triggers.gpu_memory);
    t.http = s.triggers.http.map(|h| {
        let mut w = t.http.clone().unwrap_or_default();
        w.rate = Some(h.rate);
        w.window = Some(h.window);
        w
    });
    t.extra = s.triggers.other.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let empty = t == TriggersWire::default();
    out.triggers = if empty && !had_triggers { None } else { Some(t) };
    out
}

/// A fresh wire scale for a region the instance did not have.
pub fn new_scale(s: &Scale) -> ScaleWire {
    apply_scale(&ScaleWire::default(), s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_with_and_without_zone() {
        let a = parse_time("2019-06-26T13:00:00.000Z").unwrap();
        assert_eq!(parse_time("2019-06-26T13:00:00").unwrap(), a);
        assert_eq!(parse_time("2019-06-26 13:00:00.000000000").unwrap(), a);
        assert_eq!(parse_time("2019-06-26T15:00:00.123456789+02:00").unwrap().timestamp(), a.timestamp());
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn apply_scale_keeps_unknown_keys_and_changes_the_rest() {
        let base: ScaleWire = serde_json::from_value(json!({
            "min": 1, "max": 4, "cooldownPeriod": 300, "future": true,
            "triggers": {"cpu": {"threshold": 92, "mode": "avg"}, "http": {"rate": 12, "window": 20}, "sqs": {"q": 1}}
        }))
        .unwrap();
        let mut s = scale(&base);
        assert_eq!(s.triggers.other.len(), 1);
        s.max = 6;
        s.triggers.cpu = Some(50);
        s.triggers.http = None;
        let out = serde_json::to_value(apply_scale(&base, &s)).unwrap();
        assert_eq!(
            out,
            json!({"min": 1, "max": 6, "cooldownPeriod": 300, "future": true,
                   "triggers": {"cpu": {"threshold": 50, "mode": "avg"}, "sqs": {"q": 1}}})
        );
    }

    #[test]
    fn region_ids_go_back_as_numbers() {
        assert_eq!(region_id_json("18"), json!(18));
        assert_eq!(region_id_json("eu-1"), json!("eu-1"));
        assert_eq!(region_id_text(&json!(18)), "18");
    }
}
