//! The simulated Gcore project: deployments (served by both the v3 and the legacy v2 API), tasks, the
//! flavors and regions catalogs, capacity, prices and generated logs.

use crate::model::ProviderKind;
use crate::sim::engine::{self, Replicas};
use crate::sim::fleet::{FleetSpec, SeedState};
use crate::sim::rng::Rng;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const PROJECT_ID: i64 = crate::sim::DEMO_GCORE_PROJECT;
/// Simulated seconds a task spends in each of NEW and RUNNING.
pub const TASK_STEP_SECONDS: f64 = 1.0;
/// Replicas the load asks of a deployment created through the API.
pub const NEW_DEPLOYMENT_DEMAND: u32 = 1;

/// A flavor of the catalog.
#[derive(Debug, Clone)]
pub struct Flavor {
    pub name: String,
    /// Stable across seeds: v2 refers to flavors by this uuid.
    pub id: String,
    pub cpu: f64,
    pub memory: f64,
    pub gpu: i64,
    pub gpu_model: String,
    pub gpu_memory: f64,
    pub compute_capability: String,
    pub description: String,
    pub price_per_hour: f64,
}

impl Flavor {
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: &str,
        cpu: f64,
        memory: f64,
        gpu: i64,
        model: &str,
        gpu_mem: f64,
        cc: &str,
        price: f64,
    ) -> Flavor {
        let description = if gpu > 0 {
            format!("{gpu}x{model} / {cpu} vCPU / {memory}GiB RAM")
        } else {
            format!("{cpu} vCPU / {memory}GiB RAM")
        };
        Flavor {
            name: name.to_string(),
            id: flavor_uuid(name),
            cpu,
            memory,
            gpu,
            gpu_model: model.to_string(),
            gpu_memory: gpu_mem,
            compute_capability: cc.to_string(),
            description,
            price_per_hour: price,
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "name": self.name, "cpu": self.cpu, "memory": self.memory, "gpu": self.gpu,
            "gpu_model": self.gpu_model, "gpu_memory": self.gpu_memory, "is_gpu_shared": false,
            "gpu_compute_capability": self.compute_capability, "description": self.description,
        })
    }

    /// The legacy v2 `FlavorOutSerializer` (`GET /cloud/v2/inference/flavors/{flavor_id}`): cpu in
    /// millicores, ram and GPU memory in MiB, and the uuid v2 deployments refer to.
    pub fn v2_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "description": self.description,
            "cpu": (self.cpu * 1000.0).round() as i64, "ram": (self.memory * 1024.0).round() as i64,
            "gpu_count": self.gpu, "gpu_model": self.gpu_model,
            "gpu_memory": (self.gpu_memory * 1024.0).round() as i64,
        })
    }
}

/// The uuid of a flavor: derived from its name only, so it is the same for every seed and every run.
pub fn flavor_uuid(name: &str) -> String {
    Rng::derive(0, &format!("gcore/flavor/{name}")).uuid()
}

/// A region of the inference catalog.
#[derive(Debug, Clone)]
pub struct Region {
    pub id: i64,
    pub name: String,
    pub capacity: BTreeMap<String, u32>,
    pub default_capacity: u32,
}

impl Region {
    pub fn capacity_for(&self, flavor: &str) -> u32 {
        self.capacity.get(flavor).copied().unwrap_or(self.default_capacity)
    }
}

/// One region of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub region_id: i64,
    pub min: u32,
    pub max: u32,
    pub cooldown: Option<i64>,
    pub polling: Option<i64>,
    /// Output shape: the six trigger keys, null when unset.
    pub triggers: Value,
    pub replicas: Replicas,
}

/// A deployment as the v3 API serializes it. Fields are declared in the byte order of their keys, the order a
/// `serde_json::Value` object writes them in, so both renderings give the same bytes.
#[derive(Serialize)]
pub struct V3View<'a> {
    address: Option<String>,
    api_keys: &'a [String],
    auth_enabled: bool,
    command: Option<String>,
    containers: Vec<V3Container<'a>>,
    created_at: String,
    credentials_name: &'a str,
    description: &'a str,
    envs: Option<&'a BTreeMap<String, String>>,
    flavor_name: &'a str,
    image: &'a str,
    ingress_opts: Option<&'a Value>,
    listening_port: i64,
    logging: Option<&'a Value>,
    name: &'a str,
    object_references: &'a [Value],
    probes: Option<&'a Value>,
    project_id: i64,
    status: &'static str,
    timeout: Option<i64>,
}

#[derive(Serialize)]
struct V3Container<'a> {
    address: Option<String>,
    deploy_status: DeployStatus,
    error_message: Option<String>,
    region_id: i64,
    scale: V3Scale<'a>,
}

#[derive(Serialize)]
struct DeployStatus {
    ready: u32,
    total: u32,
}

#[derive(Serialize)]
struct V3Scale<'a> {
    cooldown_period: Option<i64>,
    max: u32,
    min: u32,
    polling_interval: Option<i64>,
    triggers: &'a Value,
}

/// A deployment, stored once and rendered by both APIs.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub name: String,
    pub project_id: i64,
    pub image: String,
    pub port: i64,
    pub flavor: String,
    pub description: String,
    pub credentials_name: String,
    pub command: Option<Vec<String>>,
    pub envs: Option<BTreeMap<String, String>>,
    pub timeout: Option<i64>,
    pub auth_enabled: bool,
    pub api_keys: Vec<String>,
    pub ingress_opts: Option<Value>,
    pub logging: Option<Value>,
    /// Output shape (`{liveness_probe, readiness_probe, startup_probe}`), or None.
    pub probes: Option<Value>,
    pub object_references: Vec<Value>,
    pub created_at: DateTime<Utc>,
    pub stopped: bool,
    /// The delete task, once deletion started.
    pub deleting: Option<String>,
    /// Replicas the simulated load asks for.
    pub demand: u32,
    pub containers: Vec<Container>,
}

impl Deployment {
    pub fn desired(&self, c: &Container) -> u32 {
        if self.stopped || self.deleting.is_some() { 0 } else { self.demand.clamp(c.min, c.max.max(c.min)) }
    }

    pub fn status(&self) -> &'static str {
        if self.deleting.is_some() {
            return "DELETING";
        }
        let rs: Vec<&Replicas> = self.containers.iter().map(|c| &c.replicas).collect();
        engine::gcore_status(self.stopped, &rs)
    }

    fn address(&self, region: Option<i64>) -> String {
        match region {
            Some(r) => format!("https://{}-{}-r{r}.inference.sim.gcore.dev", self.name, self.project_id),
            None => format!("https://{}-{}.inference.sim.gcore.dev", self.name, self.project_id),
        }
    }

    /// Sets each region's desired replicas from demand, scale and state; scale-downs apply at once.
    pub fn resync(&mut self) {
        for i in 0..self.containers.len() {
            let d = self.desired(&self.containers[i]);
            let c = &mut self.containers[i];
            c.replicas.desired = d;
            c.replicas.step(0.0);
        }
    }

    /// Replaces every container when the pod spec (image, port, command, env) differs from `before`'s.
    pub fn roll_if_respecced(&mut self, before: &Deployment) {
        if (&self.image, self.port, &self.command, &self.envs)
            != (&before.image, before.port, &before.command, &before.envs)
        {
            for c in &mut self.containers {
                c.replicas.roll();
            }
        }
    }

    /// The configuration only (what an edit can change), for no-op detection.
    pub fn config(&self) -> Value {
        let mut v = self.v3_json();
        if let Some(o) = v.as_object_mut() {
            for k in ["status", "address"] {
                o.remove(k);
            }
            if let Some(Value::Array(cs)) = o.get_mut("containers") {
                for c in cs {
                    if let Some(c) = c.as_object_mut() {
                        c.remove("deploy_status");
                        c.remove("error_message");
                        c.remove("address");
                    }
                }
            }
        }
        v
    }

    /// `InferenceInstanceOutSerializerV3`: every required key present, null where the spec allows it.
    /// `command` is a space-joined string here, as the spec types it (the seed's example shows an array).
    pub fn v3_json(&self) -> Value {
        serde_json::to_value(self.v3_view()).unwrap_or(Value::Null)
    }

    /// [`Self::v3_json`] without an intermediate `Value`, for the lists and GETs.
    pub fn v3_view(&self) -> V3View<'_> {
        let status = self.status();
        V3View {
            address: (status != "DEPLOYING").then(|| self.address(None)),
            api_keys: &self.api_keys,
            auth_enabled: self.auth_enabled || !self.api_keys.is_empty(),
            command: self.command.as_ref().map(|c| c.join(" ")),
            containers: self
                .containers
                .iter()
                .map(|c| V3Container {
                    address: (c.replicas.total > 0).then(|| self.address(Some(c.region_id))),
                    deploy_status: DeployStatus { ready: c.replicas.ready, total: c.replicas.total },
                    error_message: c.replicas.error_message(),
                    region_id: c.region_id,
                    scale: V3Scale {
                        cooldown_period: c.cooldown,
                        max: c.max,
                        min: c.min,
                        polling_interval: c.polling,
                        triggers: &c.triggers,
                    },
                })
                .collect(),
            created_at: self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            credentials_name: &self.credentials_name,
            description: &self.description,
            envs: self.envs.as_ref(),
            flavor_name: &self.flavor,
            image: &self.image,
            ingress_opts: self.ingress_opts.as_ref(),
            listening_port: self.port,
            logging: self.logging.as_ref(),
            name: &self.name,
            object_references: &self.object_references,
            probes: self.probes.as_ref(),
            project_id: self.project_id,
            status,
            timeout: self.timeout,
        }
    }

    /// `InferenceInstanceOutSerializer` of the legacy v2 API (seed 001's response): uuids for the instance,
    /// flavor, registry and API keys; `command` an array; no `sqs` trigger and no polling interval.
    pub fn v2_json(&self) -> Value {
        let status = self.status();
        let address = if status == "DEPLOYING" { Value::Null } else { json!(self.address(None)) };
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                let mut t = c.triggers.as_object().cloned().unwrap_or_default();
                t.remove("sqs");
                json!({
                    "region_id": c.region_id,
                    "deploy_status": { "ready": c.replicas.ready, "total": c.replicas.total },
                    "error_message": c.replicas.error_message(),
                    "scale": { "min": c.min, "max": c.max, "cooldown_period": c.cooldown, "triggers": t },
                })
            })
            .collect();
        json!({
            "id": self.id,
            "name": self.name,
            "status": status,
            "address": address,
            "image": self.image,
            "listening_port": self.port,
            "flavor_id": flavor_uuid(&self.flavor),
            "description": if self.description.is_empty() { Value::Null } else { json!(self.description) },
            "image_registry_id": if self.credentials_name.is_empty() { Value::Null } else { json!(registry_uuid(&self.credentials_name)) },
            "command": self.command,
            "envs": self.envs,
            "timeout": self.timeout,
            "auth_enabled": self.auth_enabled || !self.api_keys.is_empty(),
            "api_key_ids": self.api_keys.iter().map(|k| api_key_uuid(k)).collect::<Vec<_>>(),
            "created_at": self.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "containers": containers,
            "probes": self.probes,
        })
    }
}

pub fn api_key_uuid(name: &str) -> String {
    if looks_like_uuid(name) {
        name.to_string()
    } else {
        Rng::derive(0, &format!("gcore/api-key/{name}")).uuid()
    }
}

pub fn registry_uuid(name: &str) -> String {
    if looks_like_uuid(name) {
        name.to_string()
    } else {
        Rng::derive(0, &format!("gcore/registry/{name}")).uuid()
    }
}

pub use crate::model::text::looks_like_uuid;

/// Which mutation a task carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskKind {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub kind: TaskKind,
    pub deployment: String,
    /// 0 NEW, 1 RUNNING, 2 done (FINISHED or ERROR).
    pub level: u8,
    pub created: f64,
    pub finished: Option<f64>,
    /// The error the task ends with.
    pub error: Option<String>,
    pub request_id: String,
}

impl Task {
    pub fn state(&self) -> &'static str {
        match (self.level, &self.error) {
            (0, _) => "NEW",
            (1, _) => "RUNNING",
            (_, Some(_)) => "ERROR",
            _ => "FINISHED",
        }
    }
}

pub struct Store {
    pub seed: u64,
    pub epoch: DateTime<Utc>,
    /// Simulated seconds the store has been advanced to.
    pub now: f64,
    pub deployments: Vec<Deployment>,
    pub tasks: BTreeMap<String, Task>,
    pub flavors: Vec<Flavor>,
    pub regions: Vec<Region>,
    counter: u64,
    /// Bodies of the v3 PATCHes and v2 PUTs received, as `(method, body)` (tests check what was sent).
    pub received: Vec<(String, Value)>,
    /// The demo fleet's life (restarts, capacity losses, pull failures, wake-ups); `None` keeps it static.
    pub life: Option<crate::sim::life::Life>,
}

fn seed_triggers(p: &crate::sim::fleet::RegionPlacement) -> Value {
    let th = |v: Option<u32>| v.map(|t| json!({ "threshold": t })).unwrap_or(Value::Null);
    let http = match (p.http_rate, p.http_window) {
        (Some(r), Some(w)) => json!({ "rate": r, "window": w }),
        (Some(r), None) => json!({ "rate": r, "window": 60 }),
        _ => Value::Null,
    };
    json!({
        "cpu": th(p.cpu), "memory": th(p.memory), "gpu_utilization": th(p.gpu_utilization),
        "gpu_memory": th(p.gpu_memory), "http": http, "sqs": null,
    })
}

fn seed_probes(port: u32, name: &str) -> Value {
    let readiness = json!({"enabled": true, "probe": {"exec": null, "tcp_socket": null,
        "http_get": {"headers": {}, "host": null, "path": "/health", "port": port, "schema": "HTTP"},
        "failure_threshold": 3, "initial_delay_seconds": 10, "period_seconds": 10, "success_threshold": 1,
        "timeout_seconds": 3}});
    let liveness = json!({"enabled": true, "probe": {"exec": null, "http_get": null, "tcp_socket": {"port": port},
        "failure_threshold": 5, "initial_delay_seconds": 30, "period_seconds": 15, "success_threshold": 1,
        "timeout_seconds": 3}});
    let startup = if name.starts_with("llama") {
        json!({"enabled": true, "probe": {"exec": {"command": ["cat", "/tmp/ready"]}, "http_get": null,
            "tcp_socket": null, "failure_threshold": 60, "initial_delay_seconds": 0, "period_seconds": 10,
            "success_threshold": 1, "timeout_seconds": 3}})
    } else {
        Value::Null
    };
    json!({ "liveness_probe": liveness, "readiness_probe": readiness, "startup_probe": startup })
}

impl Store {
    pub fn new(fleet: &FleetSpec, seed: u64, epoch: DateTime<Utc>) -> Self {
        let mut flavors = vec![
            Flavor::new("inference-16vcpu-232gib-1xh100-80gb", 16.0, 232.0, 1, "H100", 80.0, "9.0", 3.45),
            Flavor::new("inference-16vcpu-232gib-1xl40s-48gb", 16.0, 232.0, 1, "L40S", 48.0, "8.9", 1.55),
            Flavor::new("inference-4vcpu-16gib", 4.0, 16.0, 0, "", 0.0, "", 0.12),
            Flavor::new("inference-1vcpu-1gib", 1.0, 1.0, 0, "", 0.0, "", 0.03),
        ];
        for d in fleet.deployments_of(ProviderKind::Gcore) {
            if !flavors.iter().any(|f| f.name == d.hardware) {
                flavors.push(Flavor::new(&d.hardware, 8.0, 64.0, 0, "", 0.0, "", 0.5));
            }
        }
        let regions: Vec<Region> = fleet
            .regions_of(ProviderKind::Gcore)
            .filter_map(|r| {
                Some(Region {
                    id: r.id.parse().ok()?,
                    name: r.name.clone(),
                    capacity: r.capacity.clone(),
                    default_capacity: r.default_capacity,
                })
            })
            .collect();
        let mut deployments = Vec::new();
        for d in fleet.deployments_of(ProviderKind::Gcore) {
            let stopped = d.state == SeedState::Stopped;
            let mut containers = Vec::new();
            for p in &d.regions {
                let Ok(region_id) = p.region.parse::<i64>() else { continue };
                let mut triggers = seed_triggers(p);
                if d.name.contains("batch") {
                    // One seeded deployment scales on a queue, a trigger the model keeps verbatim.
                    triggers["sqs"] = json!({"queue_url": format!("https://sqs.eu-west-1.amazonaws.com/000000000000/{}", d.name),
                        "queue_length": 10, "activation_queue_length": 1, "scale_on_flight": false,
                        "scale_on_delayed": true, "aws_region": "eu-west-1", "aws_endpoint": null,
                        "secret_name": "sqs-reader"});
                }
                let desired = if stopped { 0 } else { d.demand.clamp(p.min, p.max.max(p.min)) };
                let cap = fleet.capacity(ProviderKind::Gcore, p, &d.hardware);
                containers.push(Container {
                    region_id,
                    min: p.min,
                    max: p.max,
                    cooldown: Some(p.cooldown.unwrap_or(60) as i64),
                    polling: Some(30),
                    triggers,
                    replicas: Replicas::settled(desired, cap, p.fault.clone()),
                });
            }
            let logging = d.log_topic.as_ref().map(|t| {
                json!({"enabled": true, "destination_region_id": containers.first().map(|c| c.region_id),
                       "topic_name": t, "retention_policy": {"period": 45}})
            });
            let first = d.name.starts_with("llama-3");
            deployments.push(Deployment {
                id: Rng::derive(seed, &format!("gcore/deployment/{}", d.name)).uuid(),
                name: d.name.clone(),
                project_id: PROJECT_ID,
                image: d.image.clone(),
                port: d.port as i64,
                flavor: d.hardware.clone(),
                description: d.description.clone(),
                credentials_name: if first { "gcore-registry".into() } else { String::new() },
                command: if d.command.is_empty() { None } else { Some(d.command.clone()) },
                envs: Some(d.envs.clone()),
                timeout: Some(if d.demand == 0 { 300 } else { 120 }),
                auth_enabled: first,
                api_keys: if first { vec!["chat-frontend".into()] } else { Vec::new() },
                ingress_opts: if first { Some(json!({"disable_response_buffering": true})) } else { None },
                logging,
                probes: Some(seed_probes(d.port, &d.name)),
                object_references: Vec::new(),
                created_at: epoch - chrono::Duration::hours(d.age_hours as i64),
                stopped,
                deleting: None,
                demand: d.demand,
                containers,
            });
        }
        Store {
            seed,
            epoch,
            now: 0.0,
            deployments,
            tasks: BTreeMap::new(),
            flavors,
            regions,
            counter: 0,
            received: Vec::new(),
            life: None,
        }
    }

    /// A fresh deterministic uuid (task ids, request ids, new deployments).
    pub fn uuid(&mut self, what: &str) -> String {
        self.counter += 1;
        Rng::derive(self.seed, &format!("gcore/{what}/{}", self.counter)).uuid()
    }

    pub fn time(&self, secs: f64) -> DateTime<Utc> {
        self.epoch + chrono::Duration::microseconds((secs * 1e6) as i64)
    }

    pub fn region(&self, id: i64) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn flavor(&self, name: &str) -> Option<&Flavor> {
        self.flavors.iter().find(|f| f.name == name)
    }

    pub fn capacity(&self, region: i64, flavor: &str) -> u32 {
        self.region(region).map(|r| r.capacity_for(flavor)).unwrap_or(0)
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.deployments.iter().position(|d| d.name == name)
    }

    pub fn find_id(&self, id: &str) -> Option<usize> {
        self.deployments.iter().position(|d| d.id == id)
    }

    /// Moves the store to simulated time `now`: replicas step toward desired, tasks progress with time.
    pub fn advance(&mut self, now: f64) {
        let dt = now - self.now;
        if dt > 0.0 {
            if let Some(mut life) = self.life.take() {
                life.apply_gcore(self, self.now, now);
                self.life = Some(life);
            }
            for d in &mut self.deployments {
                for i in 0..d.containers.len() {
                    let desired = d.desired(&d.containers[i]);
                    let c = &mut d.containers[i];
                    c.replicas.desired = desired;
                    c.replicas.step(dt);
                }
            }
            self.now = now;
        }
        let ids: Vec<String> = self.tasks.keys().cloned().collect();
        for id in ids {
            self.progress(&id, false);
        }
    }

    /// Moves a task along: with simulated time, and by one state per poll (so a frozen clock still ends).
    pub fn progress(&mut self, id: &str, poll: bool) {
        let now = self.now;
        let Some(t) = self.tasks.get_mut(id) else { return };
        if t.level >= 2 {
            return;
        }
        let by_time = ((now - t.created) / TASK_STEP_SECONDS).floor().clamp(0.0, 2.0) as u8;
        let mut level = t.level.max(by_time);
        if poll {
            level = level.max(t.level + 1);
        }
        t.level = level.min(2);
        if t.level == 2 {
            t.finished = Some(now);
            let (kind, dep, failed) = (t.kind.clone(), t.deployment.clone(), t.error.is_some());
            if kind == TaskKind::Delete && !failed {
                self.deployments.retain(|d| d.name != dep);
            }
        }
    }

    pub fn new_task(&mut self, kind: TaskKind, deployment: &str, error: Option<String>) -> String {
        let id = self.uuid("task");
        let request_id = self.uuid("request");
        self.tasks.insert(
            id.clone(),
            Task {
                id: id.clone(),
                kind,
                deployment: deployment.to_string(),
                level: 0,
                created: self.now,
                finished: None,
                error,
                request_id,
            },
        );
        id
    }

    pub fn task_json(&self, t: &Task) -> Value {
        let fmt = |s: f64| self.time(s).format("%Y-%m-%dT%H:%M:%S").to_string();
        let task_type = match t.kind {
            TaskKind::Create => "create_inference_instance",
            TaskKind::Update => "update_inference_instance",
            TaskKind::Delete => "delete_inference_instance",
        };
        let created_resources = if t.kind == TaskKind::Create && t.state() == "FINISHED" {
            json!({ "inference_instances": [t.deployment] })
        } else {
            Value::Null
        };
        json!({
            "id": t.id, "state": t.state(), "task_type": task_type, "user_id": 1, "user_client_id": null,
            "client_id": 1, "project_id": PROJECT_ID, "region_id": null, "request_id": t.request_id,
            "created_on": fmt(t.created), "updated_on": fmt(t.finished.unwrap_or(self.now)),
            "finished_on": t.finished.map(fmt), "error": if t.state() == "ERROR" { json!(t.error) } else { Value::Null },
            "created_resources": created_resources, "data": null, "detailed_state": null,
            "acknowledged_at": null, "acknowledged_by": null, "job_id": null, "lifecycle_policy_id": null,
            "schedule_id": null,
        })
    }

    /// Containers currently placed per (region, flavor), for the capacity endpoint.
    fn used(&self, region: i64, flavor: &str) -> u32 {
        self.deployments
            .iter()
            .filter(|d| d.flavor == flavor)
            .flat_map(|d| d.containers.iter())
            .filter(|c| c.region_id == region)
            .map(|c| c.replicas.total)
            .sum()
    }

    pub fn capacity_json(&self) -> Value {
        let results: Vec<Value> = self
            .regions
            .iter()
            .map(|r| {
                let caps: Vec<Value> = self
                    .flavors
                    .iter()
                    .map(|f| {
                        let free = r.capacity_for(&f.name).saturating_sub(self.used(r.id, &f.name));
                        json!({ "flavor_name": f.name, "capacity": free })
                    })
                    .collect();
                json!({ "region_id": r.id, "capacity": caps })
            })
            .collect();
        json!({ "count": results.len(), "results": results })
    }

    pub fn region_json(&self, r: &Region) -> Value {
        let (country, zone, lat, lon) = match r.name.split('-').next().unwrap_or("") {
            "Luxembourg" => ("LU", "EMEA", "49.6116", "6.1319"),
            "Amsterdam" => ("NL", "EMEA", "52.3676", "4.9041"),
            "Singapore" => ("SG", "APAC", "1.3521", "103.8198"),
            "Santa Clara" => ("US", "AMERICAS", "37.3541", "-121.9552"),
            _ => ("XX", "EMEA", "0", "0"),
        };
        let created =
            (self.epoch - chrono::Duration::days(900)).format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
        let slug = r.name.to_ascii_lowercase().replace(' ', "-");
        json!({
            "id": r.id, "display_name": r.name, "keystone_name": format!("{}-{}", slug, r.id), "slug": slug,
            "state": "ACTIVE", "country": country, "zone": zone, "task_id": null, "endpoint_type": "public",
            "external_network_id": null, "created_on": created, "created_at": created, "keystone_id": r.id,
            "has_kvm": true, "has_baremetal": false, "has_basic_vm": true, "has_sfs": false, "has_dbaas": false,
            "has_ddos": false, "vlan_physical_network": "physnet1", "available_volume_types": null,
            "metrics_database_id": null, "access_level": "core", "has_k8s": true, "has_ai": true,
            "has_ai_gpu": true, "coordinates": { "latitude": lat, "longitude": lon }, "file_share_types": null,
            "ddos_endpoint_id": null,
        })
    }

    /// Log lines of a deployment up to now, newest first: each pod of each region writes a line every few
    /// seconds, with nanosecond timestamps; everything follows from the seed, the names and the clock.
    pub fn logs(&self, d: &Deployment, region: Option<i64>) -> Vec<(DateTime<Utc>, i64, String, String)> {
        const PER_POD: i64 = 120;
        let now_ms = (self.now * 1000.0) as i64;
        let mut out = Vec::new();
        for c in d.containers.iter().filter(|c| region.is_none_or(|r| r == c.region_id)) {
            let mut rr = Rng::derive(self.seed, &format!("gcore/pods/{}/{}", d.name, c.region_id));
            let rs = rr.hex(10);
            for i in 0..c.replicas.total {
                let mut pr = Rng::derive(self.seed, &format!("gcore/pod/{}/{}/{i}", d.name, c.region_id));
                let suffix: String = (0..5)
                    .map(|_| {
                        *pr.pick(&[
                            'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'q', 'r', 's', 't',
                            'v', 'w', 'x', 'z', '2', '4', '5', '6', '7', '8', '9',
                        ])
                    })
                    .collect();
                let pod = format!("{}-{}-{}", d.name, rs, suffix);
                let interval = pr.range(2000, 9000) as i64;
                let last = now_ms.div_euclid(interval);
                for k in (last - PER_POD + 1)..=last {
                    let mut lr = Rng::derive(self.seed, &format!("gcore/log/{pod}/{k}"));
                    let ns = k * interval * 1_000_000 + lr.range(0, (interval as u64) * 500_000) as i64;
                    let t = self.epoch + chrono::Duration::nanoseconds(ns);
                    if t > self.time(self.now) || t < d.created_at {
                        continue;
                    }
                    // A region that cannot start logs its error now and then, verbatim.
                    let msg = match &c.replicas.fault {
                        Some(f) if k % 4 == 0 => format!("container failed to start: {f}"),
                        _ => log_message(&mut lr, d.port),
                    };
                    out.push((t, c.region_id, pod.clone(), msg));
                }
            }
        }
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        out
    }
}

fn log_message(r: &mut Rng, port: i64) -> String {
    match r.range(0, 7) {
        0 => format!(
            "INFO:     10.0.{}.{}:0 - \"GET /health HTTP/1.1\" 200 OK",
            r.range(0, 9),
            r.range(2, 250)
        ),
        1 => format!(
            "INFO:     10.0.{}.{}:0 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK",
            r.range(0, 9),
            r.range(2, 250)
        ),
        2 => format!(
            "Avg prompt throughput: {:.1} tokens/s, Avg generation throughput: {:.1} tokens/s",
            r.unit() * 900.0,
            r.unit() * 300.0
        ),
        3 => format!("GPU KV cache usage: {:.1}%, CPU KV cache usage: 0.0%", r.unit() * 95.0),
        4 => format!("POST /v1/embeddings 200 in {}ms", r.range(3, 180)),
        5 => format!("Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)"),
        6 => format!("WARNING: request queue depth {}", r.range(1, 40)),
        _ => format!("GET /v1/models 200 in {}ms", r.range(1, 9)),
    }
}

/// Nanosecond timestamps with trailing zeros trimmed, like `2024-10-14T14:54:04.82851142Z`.
pub fn log_time(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ns = t.timestamp_subsec_nanos();
    if ns == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{ns:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// Helper for the routes: the output-shaped default of a deployment's new region.
pub fn new_container(
    store: &Store,
    flavor: &str,
    c: &super::input::ContainerIn,
    old: Option<&Container>,
    keep_unset: bool,
) -> Container {
    use super::input::Field;
    let (cooldown, polling) = if keep_unset && let Some(o) = old {
        (
            match c.cooldown {
                Field::Set(v) => Some(v),
                _ => o.cooldown,
            },
            match c.polling {
                Field::Set(v) => Some(v),
                _ => o.polling,
            },
        )
    } else {
        (c.cooldown.or_default(Some(60)), c.polling.or_default(Some(30)))
    };
    let triggers = match (&c.triggers, old) {
        (Some(t), _) => t.clone(),
        (None, Some(o)) if keep_unset => o.triggers.clone(),
        _ => super::input::default_triggers(),
    };
    let cap = store.capacity(c.region_id, flavor);
    let replicas = match old {
        Some(o) => {
            let mut r = o.replicas.clone();
            r.capacity = cap;
            r
        }
        None => Replicas::new(0, cap, None),
    };
    Container { region_id: c.region_id, min: c.min, max: c.max, cooldown, polling, triggers, replicas }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_uuids_are_stable_and_uuid_shaped() {
        let a = flavor_uuid("inference-4vcpu-16gib");
        assert_eq!(a, flavor_uuid("inference-4vcpu-16gib"));
        assert!(looks_like_uuid(&a));
        assert_ne!(a, flavor_uuid("inference-1vcpu-1gib"));
    }

    #[test]
    fn log_times_keep_nanoseconds() {
        let t = DateTime::parse_from_rfc3339("2024-10-14T14:54:04.828511420Z").unwrap().with_timezone(&Utc);
        assert_eq!(log_time(t), "2024-10-14T14:54:04.82851142Z");
    }

    #[test]
    fn logs_are_deterministic_and_sorted() {
        let f = FleetSpec::demo();
        let epoch = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let a = Store::new(&f, 3, epoch);
        let b = Store::new(&f, 3, epoch);
        let d = &a.deployments[0];
        let la = a.logs(d, None);
        assert!(!la.is_empty());
        assert_eq!(la, b.logs(&b.deployments[0], None));
        assert!(la.windows(2).all(|w| w[0].0 >= w[1].0));
    }

    /// A list writes the view straight; a `Value` object writes its keys sorted: both must give the same bytes.
    #[test]
    fn the_v3_view_writes_the_bytes_of_its_json_value() {
        let mut f = FleetSpec::demo();
        f.deployments.push(crate::sim::fleet::hostile_deployment());
        let mut st = Store::new(&f, 5, Utc::now());
        for now in [0.0, 2.5, 600.0] {
            st.advance(now);
            for d in &st.deployments {
                let direct = serde_json::to_string(&d.v3_view()).unwrap();
                assert_eq!(direct, serde_json::to_string(&d.v3_json()).unwrap(), "{}", d.name);
            }
        }
    }

    #[test]
    fn generated_fleets_build_and_render() {
        let f = FleetSpec::generated(60, 9);
        let st = Store::new(&f, 9, Utc::now());
        assert_eq!(st.deployments.len(), 20);
        for d in &st.deployments {
            let v = d.v3_json();
            assert!(v["containers"].as_array().is_some_and(|c| !c.is_empty()));
            assert!(st.flavor(&d.flavor).is_some());
            assert_eq!(d.v2_json()["flavor_id"], json!(flavor_uuid(&d.flavor)));
        }
    }
}
