//! Simulated Sesterce Cloud AI Inference API (seed `004_044379b10d40206f.txt`), on the real paths:
//! catalogs (models, hardwares, regions), registries, instances (list, details, create, PATCH, start, stop,
//! delete) and the pricing preview. Auth is `x-api-key`; errors are `{statusCode, message}` with `message` a
//! list of strings (each naming its field) for a 400.
//!
//! The details carry exactly the seed's keys: no `modelId` or `registryId`, although PATCH marks both required
//! (see the `sesterce-patch-without-model` and `sesterce-null` switches in [`super::ambiguity`]); under
//! `sesterce-optional-fields=omitted` they also leave out description, podLifetime, startupCommand, envs and
//! apiKeysIds. Deviation
//! from the seed, on purpose: `DELETE` of an instance answers 204 (the seed has no delete; the CLI calls it). The validation limits are the documented ones; the
//! maximum of 300 containers per region is Gcore's, assumed here.

use super::SimState;
use super::ambiguity::{PRICING_PREVIEW, SESTERCE_NO_MODEL, SESTERCE_NULL, SESTERCE_OPTIONAL};
use super::engine::{self, Replicas};
use super::fleet::{FleetSpec, RegionPlacement, SeedState};
use super::rng::Rng;
use crate::model::ProviderKind;
use crate::model::validate::{
    COOLDOWN_RANGE, GCORE_SCALE_MAX, HTTP_RATE_RANGE, HTTP_WINDOW_RANGE, PORT_RANGE,
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{MatchedPath, Path, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

const P: ProviderKind = ProviderKind::Sesterce;
/// Simulated seconds an instance stays DELETING before it is gone.
pub const DELETE_SECONDS: f64 = 3.0;
/// The seed's hardware example keeps its id, so the seed's request examples work against the simulator.
const SEED_HARDWARE: (&str, &str) = ("1xL40S / 16 vCPU / 232GiB RAM", "59651ba4-657a-41d4-8c42-00f34f732375");
/// Hardware and model ids do not depend on the seed: they are catalog ids, stable across runs.
const CATALOG_SEED: u64 = 0x5e5_7e4ce;

#[derive(Debug, Clone)]
pub struct HardwareRec {
    pub id: String,
    pub name: String,
    pub cpu: u32,
    pub ram: u32,
    pub gpu_model: String,
    pub gpu_count: u32,
    pub gpu_memory: u32,
    /// Price of one container for one hour, USD.
    pub hourly_rate: f64,
}

#[derive(Debug, Clone)]
pub struct RegionRec {
    pub id: i64,
    pub name: String,
    pub country_code: String,
    /// Capacity per hardware name.
    pub capacity: BTreeMap<String, u32>,
    pub default_capacity: u32,
}

impl RegionRec {
    fn capacity_for(&self, hardware_name: &str) -> u32 {
        self.capacity.get(hardware_name).copied().unwrap_or(self.default_capacity)
    }
}

#[derive(Debug, Clone)]
pub struct ModelRec {
    pub id: String,
    pub name: String,
    pub port: u32,
    pub default_hardware_id: String,
    pub features: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RegistryRec {
    pub id: String,
    pub name: String,
    pub url: String,
    pub username: String,
    /// Kept, never returned.
    pub password: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `scale` of one region, as validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimScale {
    pub min: u32,
    pub max: u32,
    pub cooldown: Option<u32>,
    pub cpu: Option<u32>,
    pub gpu_memory: Option<u32>,
    pub gpu_utilization: Option<u32>,
    pub memory: Option<u32>,
    /// (rate, window)
    pub http: Option<(u32, u32)>,
}

impl SimScale {
    fn to_json(&self) -> Value {
        let mut s = Map::new();
        s.insert("min".into(), json!(self.min));
        s.insert("max".into(), json!(self.max));
        if let Some(c) = self.cooldown {
            s.insert("cooldownPeriod".into(), json!(c));
        }
        let mut t = Map::new();
        for (k, v) in [
            ("cpu", self.cpu),
            ("gpuMemory", self.gpu_memory),
            ("gpuUtilization", self.gpu_utilization),
            ("memory", self.memory),
        ] {
            if let Some(v) = v {
                t.insert(k.into(), json!({ "threshold": v }));
            }
        }
        if let Some((rate, window)) = self.http {
            t.insert("http".into(), json!({ "rate": rate, "window": window }));
        }
        s.insert("triggers".into(), Value::Object(t));
        Value::Object(s)
    }
}

#[derive(Debug, Clone)]
pub struct ContainerRec {
    pub region_id: i64,
    pub scale: SimScale,
    /// A fleet placement's capacity override, kept across updates.
    pub capacity_override: Option<u32>,
    pub replicas: Replicas,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub model_id: Value,
    pub registry_id: Value,
    pub container_port: u32,
    pub description: Value,
    pub pod_lifetime: Value,
    pub envs: Value,
    pub hardware_id: String,
    pub startup_command: Value,
    pub api_key_ids: Value,
    pub features: Vec<String>,
    pub address: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub stopped: bool,
    /// Simulated second the delete was asked.
    pub deleting_since: Option<f64>,
    /// Replicas the simulated load asks for.
    pub demand: u32,
    pub containers: Vec<ContainerRec>,
}

impl Instance {
    fn desired(&self, s: &SimScale) -> u32 {
        if self.stopped || self.deleting_since.is_some() { 0 } else { self.demand.clamp(s.min, s.max) }
    }

    pub(crate) fn refresh_desired(&mut self) {
        for i in 0..self.containers.len() {
            let d = self.desired(&self.containers[i].scale);
            self.containers[i].replicas.desired = d;
        }
    }

    pub fn status(&self) -> &'static str {
        if self.deleting_since.is_some() {
            return "DELETING";
        }
        let reps: Vec<&Replicas> = self.containers.iter().map(|c| &c.replicas).collect();
        engine::gcore_status(self.stopped, &reps)
    }
}

/// An instance in the list. Fields are declared in the byte order of their keys, the order a
/// `serde_json::Value` object writes them in, so both renderings give the same bytes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    #[serde(rename = "_id")]
    id: &'a str,
    address: &'a str,
    created_at: String,
    features: &'a [String],
    hourly_price: f64,
    name: &'a str,
    status: &'static str,
    updated_at: String,
}

/// An instance's details, keys in byte order like [`Summary`]. The optional ones are `None` (left out) under
/// `sesterce-optional-fields=omitted`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    #[serde(rename = "_id")]
    id: &'a str,
    address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_keys_ids: Option<&'a Value>,
    container_port: u32,
    containers: Vec<DetailsContainer>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    envs: Option<&'a Value>,
    features: &'a [String],
    hardware_id: &'a str,
    hourly_price: f64,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_lifetime: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    startup_command: Option<&'a Value>,
    status: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailsContainer {
    deploy_status: DeployStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    region_id: i64,
    scale: Value,
}

#[derive(Serialize)]
struct DeployStatus {
    ready: u32,
    total: u32,
}

pub struct Store {
    seed: u64,
    last_secs: f64,
    created: u64,
    pub hardwares: Vec<HardwareRec>,
    pub regions: Vec<RegionRec>,
    pub models: Vec<ModelRec>,
    pub registries: Vec<RegistryRec>,
    pub instances: Vec<Instance>,
    /// Requests answered, by `METHOD /path/{template}` (tests count what one refresh costs).
    pub requests: BTreeMap<String, u64>,
    /// The demo fleet's life (see [`super::life`]); `None` keeps it static.
    pub life: Option<super::life::Life>,
}

/// `2026-01-05T09:00:00.000Z` (the same text as the format `%Y-%m-%dT%H:%M:%S%.3fZ`, written faster).
fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `"1xH100 / 16 vCPU / 232GiB RAM"` -> a catalog record with a stable id.
fn hardware_from_name(name: &str) -> HardwareRec {
    let id = if name == SEED_HARDWARE.0 {
        SEED_HARDWARE.1.to_string()
    } else {
        Rng::derive(CATALOG_SEED, &format!("hardware:{name}")).uuid()
    };
    let parts: Vec<&str> = name.split('/').map(str::trim).collect();
    let (count, gpu) = parts
        .first()
        .and_then(|p| p.split_once('x'))
        .and_then(|(n, g)| Some((n.parse::<u32>().ok()?, g.to_string())))
        .unwrap_or((1, "GPU".to_string()));
    let vcpu = parts
        .get(1)
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(8);
    let ram_gib = parts
        .get(2)
        .and_then(|p| p.split("GiB").next())
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(64);
    let (memory, rate) = match gpu.as_str() {
        "L40S" => (48, 0.36),
        "H100" => (80, 2.19),
        "H200" => (141, 3.05),
        "A100" => (80, 1.29),
        "L4" => (24, 0.25),
        _ => (24, 1.0),
    };
    HardwareRec {
        id,
        name: name.to_string(),
        cpu: vcpu * 1000,
        ram: ram_gib * 1024,
        gpu_model: format!("NVIDIA-{gpu}"),
        gpu_count: count,
        gpu_memory: memory,
        hourly_rate: rate * count as f64,
    }
}

fn country_code(region: &str) -> &'static str {
    match region {
        "Singapore" => "SG",
        "Paris" => "FR",
        "Frankfurt" => "DE",
        "Amsterdam" => "NL",
        "Helsinki" => "FI",
        "London" => "GB",
        "Montreal" => "CA",
        "Dallas" | "New York" | "San Jose" => "US",
        _ => "ZZ",
    }
}

/// Numeric region id (the API's ids are numbers); a fleet id that is not a number gets a stable one.
fn region_number(id: &str) -> i64 {
    id.trim()
        .parse::<i64>()
        .unwrap_or_else(|_| 1000 + (Rng::derive(CATALOG_SEED, id).next_u64() % 9000) as i64)
}

fn placement_scale(p: &RegionPlacement) -> SimScale {
    SimScale {
        min: p.min,
        max: p.max,
        cooldown: p.cooldown,
        cpu: p.cpu,
        gpu_memory: p.gpu_memory,
        gpu_utilization: p.gpu_utilization,
        memory: p.memory,
        http: match (p.http_rate, p.http_window) {
            (Some(r), Some(w)) => Some((r, w)),
            (Some(r), None) => Some((r, 60)),
            _ => None,
        },
    }
}

fn model_features(name: &str) -> Vec<String> {
    let n = name.to_ascii_lowercase();
    if ["diffusion", "flux", "sdxl"].iter().any(|k| n.contains(k)) {
        vec!["image".into()]
    } else {
        vec!["chat".into()]
    }
}

impl Store {
    pub fn new(fleet: &FleetSpec, seed: u64, epoch: DateTime<Utc>) -> Self {
        let mut hw_names: BTreeSet<String> = BTreeSet::new();
        for r in fleet.regions_of(P) {
            hw_names.extend(r.capacity.keys().cloned());
        }
        for d in fleet.deployments_of(P) {
            hw_names.insert(d.hardware.clone());
        }
        hw_names.insert(SEED_HARDWARE.0.to_string());
        let hardwares: Vec<HardwareRec> = hw_names.iter().map(|n| hardware_from_name(n)).collect();
        let hw_id =
            |name: &str| hardwares.iter().find(|h| h.name == name).map(|h| h.id.clone()).unwrap_or_default();

        let regions: Vec<RegionRec> = fleet
            .regions_of(P)
            .map(|r| RegionRec {
                id: region_number(&r.id),
                name: r.name.clone(),
                country_code: country_code(&r.name).to_string(),
                capacity: r.capacity.clone(),
                default_capacity: r.default_capacity,
            })
            .collect();

        let created_at = |age: u32| epoch - chrono::Duration::hours(age as i64);
        let mut models: Vec<ModelRec> = Vec::new();
        let mut registries: Vec<RegistryRec> = Vec::new();
        for d in fleet.deployments_of(P) {
            if let Some(m) = d.image.strip_prefix("sesterce/") {
                if !models.iter().any(|x| x.name == m) {
                    models.push(ModelRec {
                        id: Rng::derive(CATALOG_SEED, &format!("model:{m}")).uuid(),
                        name: m.to_string(),
                        port: d.port,
                        default_hardware_id: hw_id(&d.hardware),
                        features: model_features(m),
                    });
                }
            } else if !registries.iter().any(|r| r.url == d.image) {
                let host = d.image.split('/').next().unwrap_or("registry").replace('.', "-");
                let t = created_at(d.age_hours + 1);
                registries.push(RegistryRec {
                    id: Rng::derive(seed, &format!("sesterce-registry:{}", d.image)).hex(24),
                    name: host,
                    url: d.image.clone(),
                    username: "demo".into(),
                    password: "demo-registry-password".into(),
                    created_at: t,
                    updated_at: t,
                });
            }
        }

        let mut instances = Vec::new();
        for d in fleet.deployments_of(P) {
            let mut rng = Rng::derive(seed, &format!("sesterce-instance:{}", d.name));
            let id = rng.hex(24);
            let (model_id, registry_id, features) = match d.image.strip_prefix("sesterce/") {
                Some(m) => {
                    let rec = models.iter().find(|x| x.name == m);
                    (
                        rec.map(|x| Value::from(x.id.clone())).unwrap_or(Value::Null),
                        Value::Null,
                        rec.map(|x| x.features.clone()).unwrap_or_default(),
                    )
                }
                None => (
                    Value::Null,
                    registries
                        .iter()
                        .find(|r| r.url == d.image)
                        .map(|r| Value::from(r.id.clone()))
                        .unwrap_or_default(),
                    vec!["chat".to_string()],
                ),
            };
            let stopped = d.state == SeedState::Stopped;
            let containers = d
                .regions
                .iter()
                .map(|p| {
                    let scale = placement_scale(p);
                    let desired = if stopped { 0 } else { d.demand.clamp(scale.min, scale.max) };
                    ContainerRec {
                        region_id: region_number(&p.region),
                        capacity_override: p.capacity,
                        replicas: Replicas::settled(
                            desired,
                            fleet.capacity(P, p, &d.hardware),
                            p.fault.clone(),
                        ),
                        scale,
                    }
                })
                .collect();
            let t = created_at(d.age_hours);
            instances.push(Instance {
                id,
                name: d.name.clone(),
                model_id,
                registry_id,
                container_port: d.port,
                description: if d.description.is_empty() {
                    Value::Null
                } else {
                    Value::from(d.description.clone())
                },
                pod_lifetime: json!(120),
                envs: json!(d.envs),
                hardware_id: hw_id(&d.hardware),
                startup_command: if d.command.is_empty() {
                    Value::Null
                } else {
                    Value::from(d.command.join(" "))
                },
                api_key_ids: json!([rng.hex(24)]),
                features,
                address: format!("https://{}-{}-{}.ai.sesterce.dev/", d.name, rng.hex(4), rng.hex(8)),
                created_at: t,
                updated_at: t,
                stopped,
                deleting_since: None,
                demand: d.demand,
                containers,
            });
        }
        Store {
            seed,
            last_secs: 0.0,
            created: 0,
            hardwares,
            regions,
            models,
            registries,
            instances,
            requests: BTreeMap::new(),
            life: None,
        }
    }

    /// Steps every region's replicas to simulated second `now` and ends finished deletions.
    pub fn advance(&mut self, now: f64) {
        let dt = now - self.last_secs;
        if dt <= 0.0 {
            return;
        }
        if let Some(mut life) = self.life.take() {
            life.apply_sesterce(self, self.last_secs, now);
            self.life = Some(life);
        }
        self.last_secs = now;
        for inst in &mut self.instances {
            inst.refresh_desired();
            for c in &mut inst.containers {
                c.replicas.step(dt);
            }
        }
        self.instances.retain(|i| i.deleting_since.is_none_or(|t| now - t < DELETE_SECONDS));
    }

    fn hardware(&self, id: &str) -> Option<&HardwareRec> {
        self.hardwares.iter().find(|h| h.id == id)
    }

    fn region(&self, id: i64) -> Option<&RegionRec> {
        self.regions.iter().find(|r| r.id == id)
    }

    fn capacity(&self, region: i64, hardware_id: &str, over: Option<u32>) -> u32 {
        if let Some(c) = over {
            return c;
        }
        let name = self.hardware(hardware_id).map(|h| h.name.as_str()).unwrap_or("");
        self.region(region).map(|r| r.capacity_for(name)).unwrap_or(0)
    }

    fn hourly_price(&self, inst: &Instance) -> f64 {
        let rate = self.hardware(&inst.hardware_id).map(|h| h.hourly_rate).unwrap_or(0.0);
        round2(rate * inst.containers.iter().map(|c| c.replicas.total).sum::<u32>() as f64)
    }

    fn summary_json(&self, i: &Instance) -> Value {
        serde_json::to_value(self.summary(i)).unwrap_or(Value::Null)
    }

    /// An instance as the list shows it, serialized without an intermediate `Value`.
    fn summary<'a>(&self, i: &'a Instance) -> Summary<'a> {
        Summary {
            id: &i.id,
            address: &i.address,
            created_at: fmt_time(i.created_at),
            features: &i.features,
            hourly_price: self.hourly_price(i),
            name: &i.name,
            status: i.status(),
            updated_at: fmt_time(i.updated_at),
        }
    }

    /// An instance as its GET shows it; `omit`: without the fields the details may leave out (description,
    /// podLifetime, startupCommand, envs, apiKeysIds).
    fn details<'a>(&self, i: &'a Instance, omit: bool) -> Details<'a> {
        let optional = |v: &'a Value| (!omit).then_some(v);
        Details {
            id: &i.id,
            address: &i.address,
            api_keys_ids: optional(&i.api_key_ids),
            container_port: i.container_port,
            containers: i
                .containers
                .iter()
                .map(|c| DetailsContainer {
                    deploy_status: DeployStatus { ready: c.replicas.ready, total: c.replicas.total },
                    error_message: c.replicas.error_message(),
                    region_id: c.region_id,
                    scale: c.scale.to_json(),
                })
                .collect(),
            created_at: fmt_time(i.created_at),
            description: optional(&i.description),
            envs: optional(&i.envs),
            features: &i.features,
            hardware_id: &i.hardware_id,
            hourly_price: self.hourly_price(i),
            name: &i.name,
            pod_lifetime: optional(&i.pod_lifetime),
            startup_command: optional(&i.startup_command),
            status: i.status(),
            updated_at: fmt_time(i.updated_at),
        }
    }

    fn apply_configs(&mut self, idx: usize, configs: Vec<(i64, SimScale)>) {
        let hardware_id = self.instances[idx].hardware_id.clone();
        let old = std::mem::take(&mut self.instances[idx].containers);
        let mut new = Vec::with_capacity(configs.len());
        for (region_id, scale) in configs {
            let prev = old.iter().find(|c| c.region_id == region_id);
            let over = prev.and_then(|c| c.capacity_override);
            let capacity = self.capacity(region_id, &hardware_id, over);
            let mut replicas = match prev {
                Some(c) => c.replicas.clone(),
                None => Replicas::new(0, capacity, None),
            };
            replicas.capacity = capacity;
            new.push(ContainerRec { region_id, scale, capacity_override: over, replicas });
        }
        let inst = &mut self.instances[idx];
        inst.containers = new;
        inst.refresh_desired();
    }
}

// ------------------------------------------------------------------------------------------- responses

fn error(status: StatusCode, message: impl Into<Value>) -> Response {
    (status, Json(json!({ "statusCode": status.as_u16(), "message": message.into() }))).into_response()
}

fn bad_request(messages: Vec<String>) -> Response {
    error(StatusCode::BAD_REQUEST, messages)
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("{what} not found"))
}

fn store(state: &SimState) -> MutexGuard<'_, Store> {
    let mut s = state.sesterce.lock().unwrap_or_else(|e| e.into_inner());
    s.advance(state.clock.now_secs());
    s
}

// ------------------------------------------------------------------------------------------ validation

/// Collects NestJS-style messages, each starting with the field's path.
#[derive(Default)]
struct Check {
    errors: Vec<String>,
}

impl Check {
    fn push(&mut self, path: &str, what: impl std::fmt::Display) {
        self.errors.push(format!("{path} {what}"));
    }

    fn int(&mut self, path: &str, v: Option<&Value>, (lo, hi): (u32, u32)) -> Option<u32> {
        match v {
            None | Some(Value::Null) => {
                self.push(path, "should not be null or undefined");
                None
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => {
                    if f < lo as f64 {
                        self.push(path, format!("must not be less than {lo}"));
                        None
                    } else if f > hi as f64 {
                        self.push(path, format!("must not be greater than {hi}"));
                        None
                    } else {
                        Some(f as u32)
                    }
                }
                _ => {
                    self.push(path, "must be an integer number");
                    None
                }
            },
            Some(_) => {
                self.push(path, "must be an integer number");
                None
            }
        }
    }

    fn opt_int(&mut self, path: &str, v: Option<&Value>, range: (u32, u32)) -> Option<u32> {
        match v {
            None | Some(Value::Null) => None,
            some => self.int(path, some, range),
        }
    }

    /// A nullable string: absent or null is `Null`.
    fn nullable_string(&mut self, path: &str, v: Option<&Value>) -> Value {
        match v {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => Value::from(s.clone()),
            Some(_) => {
                self.push(path, "must be a string");
                Value::Null
            }
        }
    }

    fn required_string(&mut self, path: &str, v: Option<&Value>) -> Option<String> {
        match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                self.push(path, "should not be empty");
                None
            }
            None | Some(Value::Null) => {
                self.push(path, "should not be null or undefined");
                None
            }
            Some(_) => {
                self.push(path, "must be a string");
                None
            }
        }
    }

    fn scale(&mut self, path: &str, v: Option<&Value>) -> Option<SimScale> {
        let Some(Value::Object(s)) = v else {
            self.push(path, "must be an object");
            return None;
        };
        let before = self.errors.len();
        let min = self.int(&format!("{path}.min"), s.get("min"), (0, u32::MAX));
        let max = self.int(&format!("{path}.max"), s.get("max"), (1, GCORE_SCALE_MAX));
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.push(&format!("{path}.max"), format!("must not be less than min ({min})"));
        }
        let cooldown =
            self.opt_int(&format!("{path}.cooldownPeriod"), s.get("cooldownPeriod"), COOLDOWN_RANGE);
        let mut out =
            SimScale { min: min.unwrap_or(0), max: max.unwrap_or(0), cooldown, ..Default::default() };
        match s.get("triggers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(t)) => {
                for (key, slot) in [
                    ("cpu", &mut out.cpu),
                    ("gpuMemory", &mut out.gpu_memory),
                    ("gpuUtilization", &mut out.gpu_utilization),
                    ("memory", &mut out.memory),
                ] {
                    match t.get(key) {
                        None | Some(Value::Null) => {}
                        Some(Value::Object(o)) => {
                            *slot = self.int(
                                &format!("{path}.triggers.{key}.threshold"),
                                o.get("threshold"),
                                (1, 100),
                            );
                        }
                        Some(_) => self.push(&format!("{path}.triggers.{key}"), "must be an object"),
                    }
                }
                match t.get("http") {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(o)) => {
                        let rate =
                            self.int(&format!("{path}.triggers.http.rate"), o.get("rate"), HTTP_RATE_RANGE);
                        let window = self.int(
                            &format!("{path}.triggers.http.window"),
                            o.get("window"),
                            HTTP_WINDOW_RANGE,
                        );
                        if let (Some(r), Some(w)) = (rate, window) {
                            out.http = Some((r, w));
                        }
                    }
                    Some(_) => self.push(&format!("{path}.triggers.http"), "must be an object"),
                }
            }
            Some(_) => self.push(&format!("{path}.triggers"), "must be an object"),
        }
        if min == Some(0)
            && out.http.is_none()
            && s.get("triggers").and_then(|t| t.get("http")).is_none_or(|h| h.is_null())
        {
            self.push(
                &format!("{path}.min"),
                "must not be less than 1 without an http trigger: only the HTTP trigger can scale to and from 0",
            );
        }
        (self.errors.len() == before).then_some(out)
    }

    fn configs(&mut self, store: &Store, v: Option<&Value>) -> Vec<(i64, SimScale)> {
        let path = "autoScalingConfigurations";
        let items = match v {
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(Value::Array(_)) => {
                self.push(path, "should not be empty");
                return Vec::new();
            }
            None | Some(Value::Null) => {
                self.push(path, "should not be null or undefined");
                return Vec::new();
            }
            Some(_) => {
                self.push(path, "must be an array");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}.{i}");
            let Value::Object(o) = item else {
                self.push(&p, "must be an object");
                continue;
            };
            let region = match o.get("regionId") {
                Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
                None | Some(Value::Null) => {
                    self.push(&format!("{p}.regionId"), "should not be null or undefined");
                    None
                }
                Some(_) => {
                    self.push(&format!("{p}.regionId"), "must be an integer number");
                    None
                }
            };
            if let Some(r) = region {
                if store.region(r).is_none() {
                    self.push(
                        &format!("{p}.regionId"),
                        format!("must be the id of an available region (got {r})"),
                    );
                } else if !seen.insert(r) {
                    self.push(&format!("{p}.regionId"), format!("must not repeat region {r}"));
                }
            }
            let scale = self.scale(&format!("{p}.scale"), o.get("scale"));
            if let (Some(r), Some(s)) = (region, scale) {
                out.push((r, s));
            }
        }
        out
    }
}

/// The validated fields of a create or full PATCH body.
struct InstanceBody {
    name: Option<String>,
    model_id: Value,
    registry_id: Value,
    container_port: u32,
    description: Value,
    configs: Vec<(i64, SimScale)>,
    pod_lifetime: Value,
    envs: Value,
    hardware_id: String,
    startup_command: Value,
    api_key_ids: Value,
}

fn parse_json(body: &Bytes) -> Result<Map<String, Value>, Vec<String>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(vec!["body must be a JSON object".into()]),
        Err(e) => Err(vec![format!("body is not valid JSON: {e}")]),
    }
}

/// Validates a create (`with_name`) or full PATCH body. A nullable field that is absent counts as `null`.
fn instance_body(
    store: &Store,
    b: &Map<String, Value>,
    with_name: bool,
) -> Result<InstanceBody, Vec<String>> {
    let mut c = Check::default();
    let name = if with_name { c.required_string("name", b.get("name")) } else { None };
    let model_id = c.nullable_string("modelId", b.get("modelId"));
    if let Value::String(id) = &model_id
        && !store.models.iter().any(|m| &m.id == id)
    {
        c.push("modelId", "must be the id of an available model");
    }
    let registry_id = c.nullable_string("registryId", b.get("registryId"));
    if let Value::String(id) = &registry_id
        && !store.registries.iter().any(|r| &r.id == id)
    {
        c.push("registryId", "must be the id of one of your registries");
    }
    let container_port = c.int("containerPort", b.get("containerPort"), PORT_RANGE);
    let description = c.nullable_string("description", b.get("description"));
    let configs = c.configs(store, b.get("autoScalingConfigurations"));
    let pod_lifetime = match b.get("podLifetime") {
        None | Some(Value::Null) => Value::Null,
        v => c.int("podLifetime", v, (0, u32::MAX)).map(Value::from).unwrap_or(Value::Null),
    };
    let envs = match b.get("envs") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if !v.is_string() {
                    c.push(&format!("envs.{k}"), "must be a string");
                }
            }
            Value::Object(m.clone())
        }
        Some(_) => {
            c.push("envs", "must be an object");
            Value::Null
        }
    };
    let hardware_id = c.required_string("hardwareId", b.get("hardwareId"));
    if let Some(h) = &hardware_id
        && store.hardware(h).is_none()
    {
        c.push("hardwareId", "must be the id of an available hardware");
    }
    let startup_command = c.nullable_string("startupCommand", b.get("startupCommand"));
    let api_key_ids = match b.get("apiKeyIds") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Value::Array(a.clone()),
        Some(_) => {
            c.push("apiKeyIds", "must be an array of strings");
            Value::Null
        }
    };
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    Ok(InstanceBody {
        name,
        model_id,
        registry_id,
        container_port: container_port.unwrap_or(0),
        description,
        configs,
        pod_lifetime,
        envs,
        hardware_id: hardware_id.unwrap_or_default(),
        startup_command,
        api_key_ids,
    })
}

// ------------------------------------------------------------------------------------------------ routes

pub fn router(state: SimState) -> Router<SimState> {
    Router::new()
        .route("/ai-inference/models", get(models))
        .route("/ai-inference/hardwares", get(hardwares))
        .route("/ai-inference/regions", get(regions))
        .route("/ai-inference/registries", get(list_registries).post(create_registry))
        .route("/ai-inference/registries/{id}", patch(update_registry).delete(delete_registry))
        .route("/ai-inference/instances", get(list_instances).post(create_instance))
        .route("/ai-inference/instances/pricing", post(pricing))
        .route(
            "/ai-inference/instances/{id}",
            get(get_instance).patch(update_instance).delete(delete_instance),
        )
        .route("/ai-inference/instances/{id}/start", post(start_instance))
        .route("/ai-inference/instances/{id}/stop", post(stop_instance))
        .route_layer(middleware::from_fn(auth))
        .route_layer(middleware::from_fn_with_state(state, count))
}

async fn auth(headers: HeaderMap, req: Request, next: Next) -> Response {
    let ok = headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(super::DEMO_SESTERCE_KEY);
    if !ok {
        return error(StatusCode::UNAUTHORIZED, "Invalid or missing API key");
    }
    next.run(req).await
}

async fn count(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let key = format!("{} {}", req.method(), path);
    *state.sesterce.lock().unwrap_or_else(|e| e.into_inner()).requests.entry(key).or_default() += 1;
    next.run(req).await
}

async fn models(State(state): State<SimState>) -> Response {
    let s = store(&state);
    let v: Vec<Value> = s
        .models
        .iter()
        .map(|m| {
            json!({"id": m.id, "name": m.name, "port": m.port, "defaultHardwareId": m.default_hardware_id,
                   "features": m.features})
        })
        .collect();
    Json(v).into_response()
}

async fn hardwares(State(state): State<SimState>) -> Response {
    let s = store(&state);
    let v: Vec<Value> = s
        .hardwares
        .iter()
        .map(|h| {
            json!({"id": h.id, "name": h.name, "cpu": h.cpu, "ram": h.ram,
                   "gpu": {"model": h.gpu_model, "count": h.gpu_count, "memory": h.gpu_memory}})
        })
        .collect();
    Json(v).into_response()
}

async fn regions(State(state): State<SimState>) -> Response {
    let s = store(&state);
    let v: Vec<Value> = s
        .regions
        .iter()
        .map(|r| {
            let caps: Vec<Value> = s
                .hardwares
                .iter()
                .map(|h| json!({"hardwareId": h.id, "capacity": r.capacity_for(&h.name)}))
                .collect();
            json!({"id": r.id, "name": r.name, "countryCode": r.country_code, "state": "ACTIVE", "capacities": caps})
        })
        .collect();
    Json(v).into_response()
}

fn registry_json(r: &RegistryRec, with_username: bool) -> Value {
    let mut v = json!({"_id": r.id, "name": r.name, "url": r.url});
    if with_username {
        v["username"] = Value::from(r.username.clone());
    }
    v["createdAt"] = Value::from(fmt_time(r.created_at));
    v["updatedAt"] = Value::from(fmt_time(r.updated_at));
    v
}

/// The seed's list example has no `username` (its create answer does): followed as written.
async fn list_registries(State(state): State<SimState>) -> Response {
    let s = store(&state);
    Json(s.registries.iter().map(|r| registry_json(r, false)).collect::<Vec<_>>()).into_response()
}

async fn create_registry(State(state): State<SimState>, body: Bytes) -> Response {
    let b = match parse_json(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let mut c = Check::default();
    let url = c.required_string("url", b.get("url"));
    let username = c.required_string("username", b.get("username"));
    let password = c.required_string("password", b.get("password"));
    let name = c.required_string("name", b.get("name"));
    let (Some(url), Some(username), Some(password), Some(name)) = (url, username, password, name) else {
        return bad_request(c.errors);
    };
    let now = state.clock.now_utc();
    let mut s = store(&state);
    s.created += 1;
    let id = Rng::derive(s.seed, &format!("sesterce-registry-created:{}", s.created)).hex(24);
    let rec = RegistryRec { id, name, url, username, password, created_at: now, updated_at: now };
    let out = registry_json(&rec, true);
    s.registries.push(rec);
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn update_registry(State(state): State<SimState>, Path(id): Path<String>, body: Bytes) -> Response {
    let b = match parse_json(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let mut c = Check::default();
    let url = c.required_string("url", b.get("url"));
    let username = c.required_string("username", b.get("username"));
    let password = c.required_string("password", b.get("password"));
    let now = state.clock.now_utc();
    let mut s = store(&state);
    let Some(r) = s.registries.iter_mut().find(|r| r.id == id) else {
        return not_found("Registry");
    };
    let (Some(url), Some(username), Some(password)) = (url, username, password) else {
        return bad_request(c.errors);
    };
    r.url = url;
    r.username = username;
    r.password = password;
    r.updated_at = now;
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_registry(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    let mut s = store(&state);
    if !s.registries.iter().any(|r| r.id == id) {
        return not_found("Registry");
    }
    if s.instances.iter().any(|i| i.registry_id.as_str() == Some(id.as_str())) {
        return error(StatusCode::CONFLICT, "Registry is used by an inference instance");
    }
    s.registries.retain(|r| r.id != id);
    StatusCode::NO_CONTENT.into_response()
}

async fn list_instances(State(state): State<SimState>) -> Response {
    let s = store(&state);
    Json(s.instances.iter().map(|i| s.summary(i)).collect::<Vec<_>>()).into_response()
}

async fn get_instance(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    let omit = state.reads(SESTERCE_OPTIONAL, "omitted");
    let s = store(&state);
    match s.instances.iter().find(|i| i.id == id) {
        Some(i) => Json(s.details(i, omit)).into_response(),
        None => not_found("Inference instance"),
    }
}

async fn create_instance(State(state): State<SimState>, body: Bytes) -> Response {
    let b = match parse_json(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let now = state.clock.now_utc();
    let mut s = store(&state);
    let v = match instance_body(&s, &b, true) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    s.created += 1;
    let mut rng = Rng::derive(s.seed, &format!("sesterce-instance-created:{}", s.created));
    let name = v.name.unwrap_or_default();
    let features = match &v.model_id {
        Value::String(m) => {
            s.models.iter().find(|x| &x.id == m).map(|x| x.features.clone()).unwrap_or_default()
        }
        _ => vec!["chat".to_string()],
    };
    let slug: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let inst = Instance {
        id: rng.hex(24),
        address: format!("https://{}-{}-{}.ai.sesterce.dev/", slug, rng.hex(4), rng.hex(8)),
        name,
        model_id: v.model_id,
        registry_id: v.registry_id,
        container_port: v.container_port,
        description: v.description,
        pod_lifetime: v.pod_lifetime,
        envs: v.envs,
        hardware_id: v.hardware_id,
        startup_command: v.startup_command,
        api_key_ids: v.api_key_ids,
        features,
        created_at: now,
        updated_at: now,
        stopped: false,
        deleting_since: None,
        demand: 1,
        containers: Vec::new(),
    };
    s.instances.push(inst);
    let idx = s.instances.len() - 1;
    s.apply_configs(idx, v.configs);
    let out = s.summary_json(&s.instances[idx]);
    (StatusCode::CREATED, Json(out)).into_response()
}

/// PATCH with the seed's body replaces every listed field with what is sent (an absent nullable field
/// becomes `null`), except as the switches read it: `modelId`/`registryId` left out are refused or kept
/// (`sesterce-patch-without-model`), and a null is a clear or is the same as "keep" (`sesterce-null`). A body
/// without `autoScalingConfigurations` but with the CLI's flat keys (`minContainers`, `maxContainers`, ...) is
/// taken as the CLI's partial update.
async fn update_instance(State(state): State<SimState>, Path(id): Path<String>, body: Bytes) -> Response {
    let b = match parse_json(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let absent_rejected = state.reads(SESTERCE_NO_MODEL, "rejected");
    let null_keeps = state.reads(SESTERCE_NULL, "keeps");
    let now = state.clock.now_utc();
    let mut s = store(&state);
    let Some(idx) = s.instances.iter().position(|i| i.id == id) else {
        return not_found("Inference instance");
    };
    if s.instances[idx].deleting_since.is_some() {
        return error(StatusCode::CONFLICT, "Inference instance is being deleted");
    }
    let flat = !b.contains_key("autoScalingConfigurations")
        && ["minContainers", "maxContainers", "regionsIds", "cooldownPeriod", "triggers"]
            .iter()
            .any(|k| b.contains_key(*k));
    if flat {
        if let Err(e) = flat_update(&mut s, idx, &b) {
            return bad_request(e);
        }
    } else {
        if absent_rejected {
            let missing: Vec<String> = ["modelId", "registryId"]
                .iter()
                .filter(|k| !b.contains_key(**k))
                .map(|k| format!("{k} should not be undefined"))
                .collect();
            if !missing.is_empty() {
                return bad_request(missing);
            }
        }
        let v = match instance_body(&s, &b, false) {
            Ok(v) => v,
            Err(e) => return bad_request(e),
        };
        // Whether the field's current value stays: left out (read as "keeps"), or null read as "keeps".
        let kept = |k: &str| match b.get(k) {
            None => !absent_rejected && matches!(k, "modelId" | "registryId"),
            Some(Value::Null) => null_keeps,
            Some(_) => false,
        };
        let inst = &mut s.instances[idx];
        let spec_before = (
            inst.model_id.clone(),
            inst.registry_id.clone(),
            inst.container_port,
            inst.envs.clone(),
            inst.startup_command.clone(),
        );
        if !kept("modelId") {
            inst.model_id = v.model_id;
        }
        if !kept("registryId") {
            inst.registry_id = v.registry_id;
        }
        inst.container_port = v.container_port;
        if !kept("description") {
            inst.description = v.description;
        }
        if !kept("podLifetime") {
            inst.pod_lifetime = v.pod_lifetime;
        }
        if !kept("envs") {
            inst.envs = v.envs;
        }
        inst.hardware_id = v.hardware_id;
        if !kept("startupCommand") {
            inst.startup_command = v.startup_command;
        }
        if !kept("apiKeyIds") {
            inst.api_key_ids = v.api_key_ids;
        }
        s.apply_configs(idx, v.configs);
        // A new model, image, port, command or env replaces every container: the instance rolls.
        let inst = &mut s.instances[idx];
        let spec_after = (
            inst.model_id.clone(),
            inst.registry_id.clone(),
            inst.container_port,
            inst.envs.clone(),
            inst.startup_command.clone(),
        );
        if spec_after != spec_before {
            for c in &mut inst.containers {
                c.replicas.roll();
            }
        }
    }
    s.instances[idx].updated_at = now;
    let out = s.summary_json(&s.instances[idx]);
    (StatusCode::OK, Json(out)).into_response()
}

/// The CLI's flat update: only the keys present change; min/max/cooldown/triggers apply to every region
/// (or to `regionsIds`, which then becomes the region list). Trigger values are plain numbers, null clears.
fn flat_update(s: &mut Store, idx: usize, b: &Map<String, Value>) -> Result<(), Vec<String>> {
    let mut c = Check::default();
    let min = c.opt_int("minContainers", b.get("minContainers"), (0, GCORE_SCALE_MAX));
    let max = c.opt_int("maxContainers", b.get("maxContainers"), (1, GCORE_SCALE_MAX));
    let cooldown = c.opt_int("cooldownPeriod", b.get("cooldownPeriod"), COOLDOWN_RANGE);
    let port = c.opt_int("containerPort", b.get("containerPort"), PORT_RANGE);
    let regions: Option<Vec<i64>> = match b.get("regionsIds") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let ids: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
            if ids.len() != a.len() || ids.is_empty() || ids.iter().any(|r| s.region(*r).is_none()) {
                c.push("regionsIds", "must be a non-empty array of available region ids");
            }
            Some(ids)
        }
        Some(_) => {
            c.push("regionsIds", "must be an array");
            None
        }
    };
    let inst = &s.instances[idx];
    let template = inst.containers.first().map(|x| x.scale.clone()).unwrap_or(SimScale {
        min: 1,
        max: 1,
        ..Default::default()
    });
    let region_list: Vec<i64> =
        regions.unwrap_or_else(|| inst.containers.iter().map(|x| x.region_id).collect());
    let mut configs = Vec::new();
    for r in region_list {
        let mut sc = inst
            .containers
            .iter()
            .find(|x| x.region_id == r)
            .map(|x| x.scale.clone())
            .unwrap_or(template.clone());
        if let Some(v) = min {
            sc.min = v;
        }
        if let Some(v) = max {
            sc.max = v;
        }
        if b.contains_key("cooldownPeriod") {
            sc.cooldown = cooldown;
        }
        if let Some(Value::Object(t)) = b.get("triggers") {
            for (key, slot) in [
                ("cpu", &mut sc.cpu),
                ("gpuMemory", &mut sc.gpu_memory),
                ("gpuUtilization", &mut sc.gpu_utilization),
                ("memory", &mut sc.memory),
            ] {
                if t.contains_key(key) {
                    *slot = c.opt_int(&format!("triggers.{key}"), t.get(key), (1, 100));
                }
            }
            if t.contains_key("http") {
                sc.http = c
                    .opt_int("triggers.http", t.get("http"), HTTP_RATE_RANGE)
                    .map(|rate| (rate, sc.http.map(|h| h.1).unwrap_or(60)));
            }
        }
        if sc.min > sc.max {
            c.push("maxContainers", format!("must not be less than minContainers ({})", sc.min));
        }
        if sc.min == 0 && sc.http.is_none() {
            c.push("minContainers", "must not be less than 1 without an http trigger");
        }
        configs.push((r, sc));
    }
    let envs = match b.get("envs") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Some(Value::Object(m.clone())),
        Some(_) => {
            c.push("envs", "must be an object of strings");
            None
        }
    };
    let startup = b
        .contains_key("startupCommand")
        .then(|| c.nullable_string("startupCommand", b.get("startupCommand")));
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let inst = &mut s.instances[idx];
    if let Some(p) = port {
        inst.container_port = p;
    }
    if let Some(e) = envs {
        inst.envs = e;
    }
    if let Some(cmd) = startup {
        inst.startup_command = cmd;
    }
    s.apply_configs(idx, configs);
    Ok(())
}

async fn set_stopped(state: &SimState, id: &str, stopped: bool) -> Response {
    let now = state.clock.now_utc();
    let mut s = store(state);
    let Some(inst) = s.instances.iter_mut().find(|i| i.id == id) else {
        return not_found("Inference instance");
    };
    if inst.deleting_since.is_some() {
        return error(StatusCode::CONFLICT, "Inference instance is being deleted");
    }
    if inst.stopped != stopped {
        inst.stopped = stopped;
        inst.updated_at = now;
        inst.refresh_desired();
        for c in &mut inst.containers {
            // Scale-down is immediate; a start climbs from the next step on.
            c.replicas.step(0.0);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn start_instance(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    set_stopped(&state, &id, false).await
}

async fn stop_instance(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    set_stopped(&state, &id, true).await
}

async fn delete_instance(State(state): State<SimState>, Path(id): Path<String>) -> Response {
    let now_secs = state.clock.now_secs();
    let now = state.clock.now_utc();
    let mut s = store(&state);
    let Some(inst) = s.instances.iter_mut().find(|i| i.id == id) else {
        return not_found("Inference instance");
    };
    if inst.deleting_since.is_none() {
        inst.deleting_since = Some(now_secs);
        inst.updated_at = now;
        inst.refresh_desired();
        for c in &mut inst.containers {
            c.replicas.step(0.0);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Price = the hardware's hourly rate x the sum of `max` over the regions (or x 1 under the `pricing-preview`
/// switch's `per-replica` reading); a month is 30 x the hour, as in the seed's example (1.44 -> 43.2).
async fn pricing(State(state): State<SimState>, body: Bytes) -> Response {
    let per_replica = state.reads(PRICING_PREVIEW, "per-replica");
    let b = match parse_json(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let s = store(&state);
    let mut c = Check::default();
    let hw = c.required_string("hardwareId", b.get("hardwareId"));
    let rate = hw.as_deref().and_then(|h| s.hardware(h)).map(|h| h.hourly_rate);
    if hw.is_some() && rate.is_none() {
        c.push("hardwareId", "must be the id of an available hardware");
    }
    let mut containers = 0u32;
    match b.get("autoScalingConfigurations") {
        Some(Value::Array(a)) if !a.is_empty() => {
            for (i, item) in a.iter().enumerate() {
                let p = format!("autoScalingConfigurations.{i}");
                match item.get("regionId").and_then(Value::as_i64) {
                    Some(r) if s.region(r).is_some() => {}
                    Some(r) => c.push(
                        &format!("{p}.regionId"),
                        format!("must be the id of an available region (got {r})"),
                    ),
                    None => c.push(&format!("{p}.regionId"), "must be an integer number"),
                }
                let max = c.int(
                    &format!("{p}.scale.max"),
                    item.get("scale").and_then(|s| s.get("max")),
                    (0, GCORE_SCALE_MAX),
                );
                containers += max.unwrap_or(0);
            }
        }
        Some(Value::Array(_)) => c.push("autoScalingConfigurations", "should not be empty"),
        _ => c.push("autoScalingConfigurations", "must be an array"),
    }
    if !c.errors.is_empty() {
        return bad_request(c.errors);
    }
    let containers = if per_replica { 1 } else { containers };
    let per_hour = round2(rate.unwrap_or(0.0) * containers as f64);
    // Sesterce's documented example (1.44 → 43.2) is the hourly price × 30; the client shows × 730 for all.
    let out =
        json!({"currencyCode": "USD", "pricePerHour": per_hour, "pricePerMonth": round2(per_hour * 30.0)});
    (StatusCode::CREATED, Json(out)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new(&FleetSpec::demo(), 1, Utc::now())
    }

    #[test]
    fn catalog_ids_are_stable_and_the_seed_hardware_keeps_its_id() {
        let a = store();
        let b = Store::new(&FleetSpec::demo(), 99, Utc::now());
        let ids = |s: &Store| s.hardwares.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        let l40s = a.hardwares.iter().find(|h| h.name == SEED_HARDWARE.0).unwrap();
        assert_eq!(l40s.id, SEED_HARDWARE.1);
        assert_eq!((l40s.cpu, l40s.ram, l40s.gpu_memory), (16000, 237568, 48));
    }

    /// The list and GET write their structs straight; a `Value` object writes its keys sorted: both must give
    /// the same bytes.
    #[test]
    fn summaries_and_details_write_the_bytes_of_their_json_values() {
        fn same(v: impl Serialize, name: &str) {
            let direct = serde_json::to_string(&v).unwrap();
            assert_eq!(direct, serde_json::to_value(&v).unwrap().to_string(), "{name}");
        }
        let mut s = store();
        for now in [0.0, 2.5, 600.0] {
            s.advance(now);
            for i in &s.instances {
                same(s.summary(i), &i.name);
                same(s.details(i, false), &i.name);
                same(s.details(i, true), &i.name);
            }
        }
    }

    #[test]
    fn fleet_statuses_cover_the_vocabulary() {
        let s = store();
        let status = |name: &str| s.instances.iter().find(|i| i.name == name).unwrap().status();
        assert_eq!(status("deepseek-r1-distill"), "ACTIVE");
        assert_eq!(status("flux-schnell"), "DISABLED");
        assert_eq!(status("e5-large-embed"), "PENDING");
        assert_eq!(status("parakeet-asr"), "PARTIALLYDEPLOYED");
        assert_eq!(status("mixtral-8x7b"), "PARTIALLYDEPLOYED");
    }

    #[test]
    fn a_generated_fleet_builds_and_converges() {
        let mut s = Store::new(&FleetSpec::generated(60, 7), 7, Utc::now());
        assert_eq!(s.instances.len(), 20);
        assert!(s.instances.iter().all(|i| s.hardware(&i.hardware_id).is_some()));
        assert!(s.instances.iter().all(|i| i.containers.iter().all(|c| s.region(c.region_id).is_some())));
        s.advance(1000.0);
        assert!(s.instances.iter().all(|i| matches!(i.status(), "ACTIVE" | "PENDING" | "PARTIALLYDEPLOYED")));
    }

    #[test]
    fn scale_checks_name_the_field() {
        let mut c = Check::default();
        let v = json!({"min": 0, "max": 301, "cooldownPeriod": 0, "triggers": {"cpu": {"threshold": 101}}});
        assert!(c.scale("s", Some(&v)).is_none());
        let fields: Vec<&str> = c.errors.iter().map(|e| e.split(' ').next().unwrap()).collect();
        assert_eq!(fields, ["s.max", "s.cooldownPeriod", "s.triggers.cpu.threshold", "s.min"]);
    }
}
