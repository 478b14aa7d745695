//! The simulated Run:ai tenant: workloads (inferences plus a few other types), their pods, and tokens.
//! Inference specs are stored as raw JSON so that a PATCH really replaces a section whole, as the server does.

use crate::model::ProviderKind;
use crate::sim::engine::Replicas;
use crate::sim::fleet::{FleetSpec, SeedState};
use crate::sim::rng::Rng;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

pub const PROJECT_ID: &str = "1";
pub const PROJECT_NAME: &str = "demo";
pub const DEPARTMENT_ID: &str = "1";
pub const DEPARTMENT_NAME: &str = "default";
pub const NAMESPACE: &str = "runai-demo";
pub const TENANT_ID: i64 = 1001;
/// Simulated seconds a deleted workload stays in `Deleting`.
pub const DELETE_SECONDS: f64 = 5.0;
pub const TYPE_INFERENCE: &str = "Inference";

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub capacity: u32,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub id: String,
    pub name: String,
    /// `Inference`, `Training`, `Workspace`.
    pub kind: String,
    pub cluster_id: String,
    pub cluster_name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// `InferenceSpecSpec` as JSON (for other types: just `image`).
    pub spec: Value,
    /// `Running | Stopped | Deleted`.
    pub desired_phase: String,
    pub demand: u32,
    pub replicas: Replicas,
    pub phase: String,
    pub phase_updated: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleting_since: Option<f64>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// A spec change is rolling out.
    pub updating: bool,
    /// The most pods this workload ever had (pod ids below it belonged to it).
    pub max_pods: u32,
}

impl Workload {
    pub fn is_inference(&self) -> bool {
        self.kind == TYPE_INFERENCE
    }

    /// min/max replicas with the API's defaults (min 1; max = min, or 1 when min is 0).
    pub fn bounds(&self) -> (u32, u32) {
        let a = &self.spec["autoscaling"];
        let int = |k: &str| a.get(k).and_then(Value::as_i64).map(|v| v.clamp(0, u32::MAX as i64) as u32);
        let min = int("minReplicas").unwrap_or(1);
        let max = int("maxReplicas").unwrap_or(if min == 0 { 1 } else { min });
        (min, max)
    }

    pub fn image(&self) -> Option<String> {
        self.spec.get("image").and_then(Value::as_str).map(str::to_string)
    }

    fn compute_phase(&self) -> String {
        let r = &self.replicas;
        let p = if self.deleting_since.is_some() {
            "Deleting"
        } else if !self.is_inference() {
            "Running"
        } else if self.desired_phase == "Stopped" {
            if r.total > 0 { "Stopping" } else { "Stopped" }
        } else if r.desired == 0 {
            // Scaled to zero: running, no pods.
            "Running"
        } else if r.fault.is_some() && r.total > 0 {
            "Degraded"
        } else if r.desired > r.capacity {
            "Pending"
        } else if r.total == 0 {
            "Creating"
        } else if r.ready < r.target() {
            if self.updating { "Updating" } else { "Initializing" }
        } else {
            "Running"
        };
        p.to_string()
    }

    pub fn phase_message(&self) -> Option<String> {
        let r = &self.replicas;
        match self.phase.as_str() {
            "Degraded" => r.fault.clone(),
            "Pending" => Some(format!(
                "Not enough resources in the requested nodepool ({} of {} pods scheduled)",
                r.total, r.desired
            )),
            _ => None,
        }
    }

    pub fn pod_id(&self, seed: u64, i: u32) -> String {
        Rng::derive(seed, &format!("runai/{}/pod/{i}", self.id)).uuid()
    }

    pub fn url(&self) -> String {
        format!("https://{}-{}.{}.inference.sim.run.ai", self.name, PROJECT_NAME, self.cluster_name)
    }

    /// GPUs one pod holds, from `compute`.
    pub fn gpu_per_pod(&self) -> f64 {
        let c = &self.spec["compute"];
        let devices = c.get("gpuDevicesRequest").and_then(Value::as_f64).unwrap_or(0.0);
        match c.get("gpuPortionRequest").and_then(Value::as_f64) {
            Some(p) if devices <= 1.0 => p * devices.max(1.0),
            _ => devices,
        }
    }

    /// The generic `Workload` record (`WorkloadDetailed`).
    pub fn workload_json(&self) -> Value {
        serde_json::to_value(self.view(true, false)).unwrap_or(Value::Null)
    }

    /// The `Workload` record, serialized without an intermediate `Value` (lists render hundreds of them per
    /// refresh): `detailed` adds what only the single GET has; `lower_type` gives `type` in lower case.
    pub fn view(&self, detailed: bool, lower_type: bool) -> WorkloadView<'_> {
        let r = &self.replicas;
        let (min, max) = self.bounds();
        let env: BTreeMap<&str, &str> = self.spec["environmentVariables"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e.get("name")?.as_str()?, e.get("value")?.as_str()?)))
            .collect();
        let gpu = self.gpu_per_pod();
        let running = self.phase == "Running";
        let message = self.phase_message();
        let phase_updated = ts(self.phase_updated);
        let cond = Condition {
            last_transition_time: phase_updated.clone(),
            message: message.clone(),
            reason: message
                .as_ref()
                .map(|_| if self.phase == "Pending" { "Unschedulable" } else { "PodsNotReady" }),
            status: if running { "True" } else { "False" },
            kind: "Ready",
        };
        let inference = self.is_inference();
        WorkloadView {
            actions_support: ActionsSupport { delete: true, suspend: false },
            allocated_resources: Gpu { gpu: gpu * r.total as f64 },
            category: match self.kind.as_str() {
                "Inference" => "Deploy",
                "Training" => "Train",
                _ => "Build",
            },
            cluster_id: &self.cluster_id,
            conditions: [cond],
            created_at: ts(self.created_at),
            current_node_pools: if r.total > 0 { &["default"] } else { &[] },
            deleted_at: self.deleted_at.map(ts),
            department_id: DEPARTMENT_ID,
            department_name: DEPARTMENT_NAME,
            environment_variables: env,
            id: &self.id,
            images: self.spec.get("image").and_then(Value::as_str).into_iter().collect(),
            k8s_phase: if r.ready > 0 || (running && r.desired == 0) { "Running" } else { "Pending" },
            k8s_phase_updated_at: phase_updated.clone(),
            name: &self.name,
            namespace: NAMESPACE,
            pending_scheduling_messages: (detailed && self.phase == "Pending").then_some([PendingMessage {
                node_pool: "default",
                phase_reason: "OverLimit",
                reason: "Not enough resources in the requested nodepool",
            }]),
            phase: &self.phase,
            phase_message: message,
            phase_updated_at: phase_updated,
            pods_requested_resources: PodsRequested {
                gpu: GpuRequest { request: gpu },
                gpu_request_type: "portion",
            },
            priority: if inference { 125 } else { 50 },
            priority_class_name: if inference { "inference" } else { "train" },
            project_id: PROJECT_ID,
            project_name: PROJECT_NAME,
            requested_node_pools: ["default"],
            requested_pods: RequestedPods { max, min, number: r.desired },
            running_pods: r.ready,
            source: "Control-plane",
            source_api: "WorkloadsV2",
            submitted_by: &self.created_by,
            tenant_id: TENANT_ID,
            total_pending_time_seconds: 0,
            total_running_time_seconds: 0,
            kind: if lower_type {
                Cow::Owned(self.kind.to_ascii_lowercase())
            } else {
                Cow::Borrowed(&self.kind)
            },
            updated_at: ts(self.updated_at),
            urls: if inference { vec![self.url()] } else { Vec::new() },
        }
    }

    /// `Inference1`.
    pub fn inference_json(&self) -> Value {
        json!({
            "name": self.name,
            "requestedName": self.name,
            "workloadId": self.id,
            "projectId": PROJECT_ID,
            "departmentId": DEPARTMENT_ID,
            "clusterId": self.cluster_id,
            "createdBy": self.created_by,
            "createdAt": ts(self.created_at),
            "deletedAt": self.deleted_at.map(ts),
            "desiredPhase": self.desired_phase,
            "actualPhase": self.phase,
            "spec": self.spec,
        })
    }

    /// Every pod: scheduled ones first (ready, then not ready), then those the nodepool cannot place.
    pub fn pods_json(&self, seed: u64) -> Vec<Value> {
        let r = &self.replicas;
        let image = self.image().unwrap_or_default();
        (0..r.desired.max(r.total))
            .map(|i| {
                let scheduled = i < r.total;
                let running = i < r.ready;
                let id = self.pod_id(seed, i);
                json!({
                    "tenantId": TENANT_ID,
                    "name": format!("{}-predictor-{}", self.name, &id[..5]),
                    "priorityClassName": "inference",
                    "id": id,
                    "workloadId": self.id,
                    "clusterId": self.cluster_id,
                    "projectId": PROJECT_ID,
                    "nodeName": if scheduled { json!(format!("dgx-node-{}", i % 4 + 1)) } else { Value::Null },
                    "createdAt": ts(self.updated_at),
                    "containers": [{ "name": "inference", "image": image,
                        "startedAt": if running { json!(ts(self.updated_at)) } else { Value::Null } }],
                    "currentNodePool": if scheduled { json!("default") } else { Value::Null },
                    "k8sPhase": if running { "Running" } else { "Pending" },
                    "k8sPhaseUpdatedAt": ts(self.phase_updated),
                    "updatedAt": ts(self.updated_at),
                    "ip": if scheduled { json!(format!("10.244.{}.{}", i / 250, i % 250 + 2)) } else { Value::Null },
                })
            })
            .collect()
    }
}

/// The `Workload` record as Run:ai serializes it. Fields are declared in the byte order of their keys, the
/// order a `serde_json::Value` object writes them in, so both renderings give the same bytes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadView<'a> {
    actions_support: ActionsSupport,
    allocated_resources: Gpu,
    category: &'static str,
    cluster_id: &'a str,
    conditions: [Condition; 1],
    created_at: String,
    current_node_pools: &'static [&'static str],
    deleted_at: Option<String>,
    department_id: &'static str,
    department_name: &'static str,
    environment_variables: BTreeMap<&'a str, &'a str>,
    id: &'a str,
    images: Vec<&'a str>,
    k8s_phase: &'static str,
    k8s_phase_updated_at: String,
    name: &'a str,
    namespace: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_scheduling_messages: Option<[PendingMessage; 1]>,
    phase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase_message: Option<String>,
    phase_updated_at: String,
    pods_requested_resources: PodsRequested,
    priority: i64,
    priority_class_name: &'static str,
    project_id: &'static str,
    project_name: &'static str,
    requested_node_pools: [&'static str; 1],
    requested_pods: RequestedPods,
    running_pods: u32,
    source: &'static str,
    source_api: &'static str,
    submitted_by: &'a str,
    tenant_id: i64,
    total_pending_time_seconds: i64,
    total_running_time_seconds: i64,
    #[serde(rename = "type")]
    kind: Cow<'a, str>,
    updated_at: String,
    urls: Vec<String>,
}

#[derive(Serialize)]
struct ActionsSupport {
    delete: bool,
    suspend: bool,
}

#[derive(Serialize)]
struct Gpu {
    gpu: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    last_transition_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingMessage {
    node_pool: &'static str,
    phase_reason: &'static str,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodsRequested {
    gpu: GpuRequest,
    gpu_request_type: &'static str,
}

#[derive(Serialize)]
struct GpuRequest {
    request: f64,
}

#[derive(Serialize)]
struct RequestedPods {
    max: u32,
    min: u32,
    number: u32,
}

pub struct Store {
    pub seed: u64,
    pub clusters: Vec<Cluster>,
    pub workloads: Vec<Workload>,
    tokens: HashMap<String, f64>,
    /// How many tokens were issued (tests prove refreshes are single-flight with it).
    pub tokens_issued: u64,
    /// Request bodies of every PATCH and POST on inferences, for contract tests.
    pub received: Vec<(String, Value)>,
    last: f64,
    /// The demo fleet's life (see [`crate::sim::life`]); `None` keeps it static.
    pub life: Option<crate::sim::life::Life>,
}

fn secret_like(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD"].iter().any(|w| n.contains(w))
}

/// `compute` for the fleet's hardware text (GPU count: "1", "0.5", "2").
pub fn compute_for(hardware: &str) -> Value {
    let gpus: f64 = hardware.trim().parse().unwrap_or(1.0);
    if gpus > 1.0 {
        json!({ "gpuDevicesRequest": gpus.round() as i64, "gpuRequestType": "portion",
                "cpuCoreRequest": 4.0, "cpuMemoryRequest": "32G" })
    } else {
        json!({ "gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": gpus,
                "cpuCoreRequest": 2.0, "cpuMemoryRequest": "16G" })
    }
}

impl Store {
    pub fn new(fleet: &FleetSpec, seed: u64, epoch: DateTime<Utc>) -> Self {
        let clusters: Vec<Cluster> = fleet
            .regions_of(ProviderKind::Runai)
            .map(|r| Cluster { id: r.id.clone(), name: r.name.clone(), capacity: r.default_capacity })
            .collect();
        let mut workloads = Vec::new();
        for d in fleet.deployments_of(ProviderKind::Runai) {
            let Some(place) = d.regions.first() else { continue };
            let cluster_name =
                clusters.iter().find(|c| c.id == place.region).map(|c| c.name.clone()).unwrap_or_default();
            let capacity = fleet.capacity(ProviderKind::Runai, place, &d.hardware);
            let mut autoscaling = json!({
                "minReplicas": place.min,
                "maxReplicas": place.max,
                "initialReplicas": place.min,
                "concurrencyHardLimit": 16,
                "scaleDownDelaySeconds": 300,
            });
            if place.min < place.max {
                autoscaling["metric"] = json!("concurrency");
                autoscaling["metricThreshold"] = json!(4);
                autoscaling["metricThresholdPercentage"] = json!(70);
            }
            if place.min == 0 {
                autoscaling["scaleToZeroRetentionSeconds"] = json!(900);
                autoscaling["activationReplicas"] = json!(1);
            }
            let env: Vec<Value> = d
                .envs
                .iter()
                .map(|(k, v)| {
                    if secret_like(k) {
                        json!({ "name": k, "secret": { "name": k.to_ascii_lowercase().replace('_', "-"), "key": k } })
                    } else {
                        json!({ "name": k, "value": v })
                    }
                })
                .collect();
            let health = if d.image.contains("triton") { "/v2/health/ready" } else { "/v1/health/ready" };
            let mut spec = json!({
                "image": d.image,
                "imagePullPolicy": "IfNotPresent",
                "nodePools": ["default"],
                "labels": [{ "name": "team", "value": "ml-platform" }],
                "compute": compute_for(&d.hardware),
                "servingPort": { "container": d.port, "protocol": "http", "authorizationType": "public" },
                "autoscaling": autoscaling,
                "servingConfiguration": { "initializationTimeoutSeconds": 600 },
                "probes": { "readiness": {
                    "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 2,
                    "successThreshold": 1, "failureThreshold": 3,
                    "handler": { "httpGet": { "path": health, "port": d.port, "scheme": "HTTP" } }
                } },
                "environmentVariables": env,
            });
            if !d.command.is_empty() {
                spec["command"] = json!(d.command.join(" "));
            }
            let stopped = d.state == SeedState::Stopped;
            let desired = if stopped { 0 } else { d.demand.max(place.min).min(place.max) };
            let created_at = epoch - chrono::Duration::hours(d.age_hours as i64);
            let mut w = Workload {
                id: Rng::derive(seed, &format!("runai/workload/{}", d.name)).uuid(),
                name: d.name.clone(),
                kind: TYPE_INFERENCE.into(),
                cluster_id: place.region.clone(),
                cluster_name,
                created_at,
                created_by: "ml-team@example.com".into(),
                spec,
                desired_phase: if stopped { "Stopped" } else { "Running" }.into(),
                demand: d.demand,
                replicas: Replicas::settled(desired, capacity, place.fault.clone()),
                phase: String::new(),
                phase_updated: epoch - chrono::Duration::minutes(30),
                updated_at: epoch - chrono::Duration::minutes(30),
                deleting_since: None,
                deleted_at: None,
                updating: false,
                max_pods: desired,
            };
            w.phase = w.compute_phase();
            workloads.push(w);
        }
        // Workloads of other types, so that listing has something to filter out.
        for (i, (name, kind, image)) in [
            ("bert-finetune", "Training", "nvcr.io/nvidia/pytorch:24.08-py3"),
            ("jupyter-alice", "Workspace", "jupyter/scipy-notebook:latest"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(c) = clusters.get(i % clusters.len().max(1)) else { break };
            workloads.push(Workload {
                id: Rng::derive(seed, &format!("runai/workload/{name}")).uuid(),
                name: name.into(),
                kind: kind.into(),
                cluster_id: c.id.clone(),
                cluster_name: c.name.clone(),
                created_at: epoch - chrono::Duration::hours(20 + i as i64),
                created_by: "alice@example.com".into(),
                spec: json!({ "image": image, "compute": { "gpuDevicesRequest": 1 } }),
                desired_phase: "Running".into(),
                demand: 1,
                replicas: Replicas::settled(1, c.capacity, None),
                phase: "Running".into(),
                phase_updated: epoch - chrono::Duration::hours(1),
                updated_at: epoch - chrono::Duration::hours(1),
                deleting_since: None,
                deleted_at: None,
                updating: false,
                max_pods: 1,
            });
        }
        Store {
            seed,
            clusters,
            workloads,
            tokens: HashMap::new(),
            tokens_issued: 0,
            received: Vec::new(),
            last: 0.0,
            life: None,
        }
    }

    /// Steps every workload to simulated time `now` (seconds since start; `now_utc` the same instant).
    pub fn advance(&mut self, now: f64, now_utc: DateTime<Utc>) {
        let dt = (now - self.last).max(0.0);
        if dt > 0.0
            && let Some(mut life) = self.life.take()
        {
            life.apply_runai(self, self.last, now);
            self.life = Some(life);
        }
        self.last = self.last.max(now);
        for w in self.workloads.iter_mut().filter(|w| w.deleted_at.is_none()) {
            if let Some(since) = w.deleting_since
                && now - since >= DELETE_SECONDS
            {
                w.deleted_at = Some(now_utc);
                w.replicas.desired = 0;
                w.replicas.step(dt);
                continue;
            }
            let (min, max) = w.bounds();
            w.replicas.desired = if w.desired_phase == "Running" && w.is_inference() {
                w.demand.max(min).min(max)
            } else if w.is_inference() {
                0
            } else {
                1
            };
            w.replicas.step(dt);
            w.max_pods = w.max_pods.max(w.replicas.desired.max(w.replicas.total));
            if w.replicas.converged() {
                w.updating = false;
            }
            let phase = w.compute_phase();
            if phase != w.phase {
                w.phase = phase;
                w.phase_updated = now_utc;
            }
        }
    }

    pub fn find(&self, id: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.id == id && w.deleted_at.is_none())
    }

    pub fn find_mut(&mut self, id: &str) -> Option<&mut Workload> {
        self.workloads.iter_mut().find(|w| w.id == id && w.deleted_at.is_none())
    }

    /// A JWT-shaped token (base64url header and payload with `exp`, `iat`, `sub`; a random signature), as
    /// NVIDIA's clients decode it to read `exp`. `now_unix` is the simulated wall clock in Unix seconds.
    pub fn issue_token(&mut self, now: f64, now_unix: i64, ttl: u64, subject: &str) -> String {
        use base64::Engine;
        let b64 = |v: &Value| -> String {
            // runapy decodes the payload with the standard alphabet: pad the JSON with spaces until its
            // base64url form has no `-` or `_`, so that both alphabets read it alike.
            let mut text = v.to_string();
            loop {
                let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes());
                if !enc.contains(['-', '_']) || text.len() > 4096 {
                    return enc;
                }
                text.insert(text.len() - 1, ' ');
            }
        };
        self.tokens_issued += 1;
        let mut rng = Rng::derive(self.seed, &format!("runai/token/{}", self.tokens_issued));
        let header = b64(&json!({"alg": "RS256", "typ": "JWT", "kid": "sim"}));
        let payload = b64(&json!({
            "exp": now_unix + ttl as i64,
            "iat": now_unix,
            "sub": subject,
            "jti": rng.uuid(),
            "iss": "infertop-sim",
        }));
        let token = format!("{header}.{payload}.{}", rng.hex(43));
        self.tokens.insert(token.clone(), now + ttl as f64);
        token
    }

    /// Checks a bearer token; the error is the message of the 401.
    pub fn check_token(&self, token: &str, now: f64) -> Result<(), &'static str> {
        match self.tokens.get(token) {
            None => Err("Issuer is not familiar."),
            Some(exp) if *exp <= now => Err("Token is expired."),
            Some(_) => Ok(()),
        }
    }

    /// Creates an inference from a validated request; returns its index.
    pub fn create(&mut self, name: String, cluster_id: &str, spec: Value, now_utc: DateTime<Utc>) -> usize {
        let cluster = self.clusters.iter().find(|c| c.id == cluster_id).cloned();
        let n = self.workloads.len();
        let id = Rng::derive(self.seed, &format!("runai/created/{n}/{name}")).uuid();
        let mut w = Workload {
            id,
            name,
            kind: TYPE_INFERENCE.into(),
            cluster_id: cluster_id.to_string(),
            cluster_name: cluster.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            created_at: now_utc,
            created_by: "api@example.com".into(),
            spec,
            desired_phase: "Running".into(),
            demand: 1,
            replicas: Replicas::new(0, cluster.map(|c| c.capacity).unwrap_or(0), None),
            phase: "Creating".into(),
            phase_updated: now_utc,
            updated_at: now_utc,
            deleting_since: None,
            deleted_at: None,
            updating: false,
            max_pods: 0,
        };
        let (min, max) = w.bounds();
        w.replicas.desired = w.demand.max(min).min(max);
        self.workloads.push(w);
        n
    }
}
