//! Provider-neutral model of an inference deployment.
//!
//! Wire types live in `crate::provider::*`; everything here is clean and shared by the dashboard, the
//! edit forms and the headless commands. The limits a form must enforce live in [`validate`], once.

pub mod bulk;
pub mod cost;
pub mod create;
pub mod demo;
pub mod edit;
pub mod lifecycle;
pub mod settings;
pub mod shared;
pub mod text;
pub mod validate;

pub use create::{Catalog, CreateSpec, ImageSource, ModelInfo, Price, ProjectInfo, RegistryInfo};
pub use shared::{Shared, intern, intern_probes};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The three providers infertop speaks to. Gcore's legacy v2 API is a flavour of Gcore, selected per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Gcore,
    Sesterce,
    Runai,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [ProviderKind::Gcore, ProviderKind::Sesterce, ProviderKind::Runai];

    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Gcore => "gcore",
            ProviderKind::Sesterce => "sesterce",
            ProviderKind::Runai => "runai",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "gcore" => Some(ProviderKind::Gcore),
            "sesterce" => Some(ProviderKind::Sesterce),
            "runai" | "run:ai" => Some(ProviderKind::Runai),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Identity of one deployment: which account of which provider, and the provider's own id.
/// For Gcore v3 the id is the deployment name; for Gcore v2 the instance uuid; Sesterce `_id`; Run:ai `workloadId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeploymentKey {
    pub provider: ProviderKind,
    /// Shared by every deployment of the account.
    #[serde(with = "shared::serde_one")]
    pub account: Shared,
    pub id: String,
}

/// Every status any of the three providers reports, with an escape for values we have never seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    // Gcore / Sesterce
    New,
    Deploying,
    PartiallyDeployed,
    Active,
    /// Gcore/Sesterce `PENDING`: running but scaled to zero.
    ScaledToZero,
    Disabled,
    Deleting,
    Deleted,
    Error,
    Failed,
    // Run:ai phases
    Creating,
    Initializing,
    Resuming,
    /// Run:ai `Pending`: waiting to be scheduled.
    Pending,
    Running,
    Updating,
    Stopped,
    Stopping,
    Degraded,
    Completed,
    Terminating,
    /// Run:ai `Failed` (Gcore's `FAILED` is [`Status::Failed`]): each provider's word is shown as it sends it.
    PhaseFailed,
    /// Run:ai `Deleting` (Gcore's `DELETING` is [`Status::Deleting`]).
    PhaseDeleting,
    /// Run:ai's own `Unknown` phase: the control plane does not know the workload's state. A value of its
    /// vocabulary, shown as `Unknown`, and never ok.
    PhaseUnknown,
    /// A value the provider sent that we do not know; shown as `UNKNOWN(VALUE)`.
    Unknown(String),
}

/// Colour bucket of a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Progressing,
    Warning,
    Failed,
    Inactive,
    /// Something a row's health depends on could not be read (details never read or the last read failed, a
    /// number out of range, an item that could not be decoded): never shown as ok.
    Unknown,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Progressing => "progressing",
            Health::Warning => "warning",
            Health::Failed => "failed",
            Health::Inactive => "inactive",
            Health::Unknown => "unknown",
        }
    }
}

impl Status {
    /// Parses the Gcore/Sesterce upper-case status vocabulary.
    pub fn from_gcore(s: &str) -> Status {
        match s {
            "NEW" => Status::New,
            "DEPLOYING" => Status::Deploying,
            "PARTIALLYDEPLOYED" => Status::PartiallyDeployed,
            "ACTIVE" => Status::Active,
            "PENDING" => Status::ScaledToZero,
            "DISABLED" => Status::Disabled,
            "DELETING" => Status::Deleting,
            "DELETED" => Status::Deleted,
            "ERROR" => Status::Error,
            "FAILED" => Status::Failed,
            other => Status::Unknown(other.to_string()),
        }
    }

    /// Parses the Run:ai `Phase` vocabulary.
    pub fn from_runai(s: &str) -> Status {
        match s {
            "Creating" => Status::Creating,
            "Initializing" => Status::Initializing,
            "Resuming" => Status::Resuming,
            "Pending" => Status::Pending,
            "Deleting" => Status::PhaseDeleting,
            "Running" => Status::Running,
            "Updating" => Status::Updating,
            "Stopped" => Status::Stopped,
            "Stopping" => Status::Stopping,
            "Degraded" => Status::Degraded,
            "Failed" => Status::PhaseFailed,
            "Completed" => Status::Completed,
            "Terminating" => Status::Terminating,
            "Unknown" => Status::PhaseUnknown,
            other => Status::Unknown(other.to_string()),
        }
    }

    /// The word shown in the table.
    pub fn label(&self) -> String {
        match self {
            Status::New => "NEW".into(),
            Status::Deploying => "DEPLOYING".into(),
            Status::PartiallyDeployed => "PARTIALLYDEPLOYED".into(),
            Status::Active => "ACTIVE".into(),
            Status::ScaledToZero => "PENDING".into(),
            Status::Disabled => "DISABLED".into(),
            Status::Deleting => "DELETING".into(),
            Status::Deleted => "DELETED".into(),
            Status::Error => "ERROR".into(),
            Status::Failed => "FAILED".into(),
            Status::Creating => "Creating".into(),
            Status::Initializing => "Initializing".into(),
            Status::Resuming => "Resuming".into(),
            Status::Pending => "Pending".into(),
            Status::Running => "Running".into(),
            Status::Updating => "Updating".into(),
            Status::Stopped => "Stopped".into(),
            Status::Stopping => "Stopping".into(),
            Status::Degraded => "Degraded".into(),
            Status::Completed => "Completed".into(),
            Status::Terminating => "Terminating".into(),
            Status::PhaseFailed => "Failed".into(),
            Status::PhaseDeleting => "Deleting".into(),
            Status::PhaseUnknown => "Unknown".into(),
            Status::Unknown(s) => format!("UNKNOWN({})", text::sanitize(s)),
        }
    }

    /// The bucket of the status alone. What shows a deployment's health uses [`Deployment::health`], which
    /// also reads its regions and what could not be read: an ACTIVE status is not enough to be ok.
    pub fn health(&self) -> Health {
        match self {
            Status::Active | Status::Running => Health::Ok,
            Status::PartiallyDeployed | Status::Degraded | Status::Unknown(_) => Health::Warning,
            Status::New
            | Status::Deploying
            | Status::Creating
            | Status::Initializing
            | Status::Resuming
            | Status::Pending
            | Status::Updating => Health::Progressing,
            Status::Error | Status::Failed | Status::PhaseFailed => Health::Failed,
            Status::PhaseUnknown => Health::Unknown,
            Status::ScaledToZero
            | Status::Disabled
            | Status::Deleting
            | Status::PhaseDeleting
            | Status::Deleted
            | Status::Stopped
            | Status::Stopping
            | Status::Completed
            | Status::Terminating => Health::Inactive,
        }
    }
}

/// Autoscaling triggers. Thresholds are percentages (1..=100).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Triggers {
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub gpu_utilization: Option<u32>,
    pub gpu_memory: Option<u32>,
    pub http: Option<HttpTrigger>,
    /// Run:ai: the autoscaling metric (`concurrency`, `throughput`, `latency` or custom) and its threshold.
    pub metric: Option<MetricTrigger>,
    /// Triggers the model has no field for (Gcore `sqs`, ...), kept verbatim so an edit sends them back.
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpTrigger {
    /// Requests per window.
    pub rate: u32,
    /// Window length in seconds.
    pub window: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricTrigger {
    pub metric: String,
    pub threshold: i64,
}

impl Triggers {
    /// One-line summary for the regions pane: `cpu 80% mem 70% http 10/60s`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.cpu {
            parts.push(format!("cpu {v}%"));
        }
        if let Some(v) = self.memory {
            parts.push(format!("mem {v}%"));
        }
        if let Some(v) = self.gpu_utilization {
            parts.push(format!("gpu {v}%"));
        }
        if let Some(v) = self.gpu_memory {
            parts.push(format!("gpumem {v}%"));
        }
        if let Some(h) = self.http {
            parts.push(format!("http {}/{}s", h.rate, h.window));
        }
        if let Some(m) = &self.metric {
            parts.push(format!("{} {}", text::sanitize(&m.metric), m.threshold));
        }
        for k in self.other.keys() {
            parts.push(text::sanitize(k).into_owned());
        }
        if parts.is_empty() { "-".into() } else { parts.join(" ") }
    }
}

/// Scale settings of one region (Gcore/Sesterce container) or of the whole workload (Run:ai).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub min: u32,
    pub max: u32,
    /// Seconds between trigger executions (Gcore `cooldown_period`, Sesterce `cooldownPeriod`).
    pub cooldown_seconds: Option<u32>,
    /// Gcore `polling_interval`.
    pub polling_interval_seconds: Option<u32>,
    /// Run:ai `scaleToZeroRetentionSeconds`.
    pub scale_to_zero_retention_seconds: Option<u32>,
    pub triggers: Triggers,
}

/// Replicas of a deployment in one region (Run:ai: in its cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionReplicas {
    /// The provider's region id (Gcore/Sesterce numeric id as text; Run:ai cluster id).
    pub region_id: String,
    /// Human name when the provider gives one (Sesterce/Gcore regions catalog), else None.
    #[serde(default, with = "shared::serde_opt")]
    pub region_name: Option<Shared>,
    pub ready: u32,
    pub total: u32,
    pub scale: Scale,
    /// The container error message for this region, when there is one.
    pub error: Option<String>,
}

impl RegionReplicas {
    pub fn display_name(&self) -> String {
        match &self.region_name {
            Some(n) => text::sanitize(n).into_owned(),
            None => text::sanitize(&self.region_id).into_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExecAction {
    pub command: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HttpGetAction {
    pub path: String,
    pub port: u32,
    /// `HTTP` or `HTTPS`.
    pub scheme: String,
    pub host: Option<String>,
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TcpSocketAction {
    pub port: u32,
}

/// One probe. Gcore may carry several handlers at once; all are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Probe {
    pub exec: Option<ExecAction>,
    pub http_get: Option<HttpGetAction>,
    pub tcp_socket: Option<TcpSocketAction>,
    pub initial_delay_seconds: Option<u32>,
    pub period_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub success_threshold: Option<u32>,
    pub failure_threshold: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeKindName {
    Exec,
    HttpGet,
    TcpSocket,
}

impl Probe {
    /// The handler that is in effect (first present of http_get, tcp_socket, exec).
    pub fn kind(&self) -> Option<ProbeKindName> {
        if self.http_get.is_some() {
            Some(ProbeKindName::HttpGet)
        } else if self.tcp_socket.is_some() {
            Some(ProbeKindName::TcpSocket)
        } else if self.exec.is_some() {
            Some(ProbeKindName::Exec)
        } else {
            None
        }
    }

    pub fn summary(&self) -> String {
        let handler = if let Some(h) = &self.http_get {
            format!("{} {}:{}{}", h.scheme, h.host.as_deref().unwrap_or(""), h.port, h.path)
        } else if let Some(t) = &self.tcp_socket {
            format!("tcp :{}", t.port)
        } else if let Some(e) = &self.exec {
            format!("exec {}", e.command.join(" "))
        } else {
            "no handler".into()
        };
        let mut s = text::sanitize(&handler).into_owned();
        if let Some(p) = self.period_seconds {
            s.push_str(&format!(" every {p}s"));
        }
        if let Some(f) = self.failure_threshold {
            s.push_str(&format!(" fail×{f}"));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProbeConfig {
    pub enabled: bool,
    pub probe: Probe,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Probes {
    pub liveness: Option<ProbeConfig>,
    pub readiness: Option<ProbeConfig>,
    pub startup: Option<ProbeConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeSlot {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeSlot {
    pub const ALL: [ProbeSlot; 3] = [ProbeSlot::Liveness, ProbeSlot::Readiness, ProbeSlot::Startup];
    pub fn label(self) -> &'static str {
        match self {
            ProbeSlot::Liveness => "liveness",
            ProbeSlot::Readiness => "readiness",
            ProbeSlot::Startup => "startup",
        }
    }
}

impl Probes {
    pub fn get(&self, slot: ProbeSlot) -> Option<&ProbeConfig> {
        match slot {
            ProbeSlot::Liveness => self.liveness.as_ref(),
            ProbeSlot::Readiness => self.readiness.as_ref(),
            ProbeSlot::Startup => self.startup.as_ref(),
        }
    }
    pub fn get_mut(&mut self, slot: ProbeSlot) -> &mut Option<ProbeConfig> {
        match slot {
            ProbeSlot::Liveness => &mut self.liveness,
            ProbeSlot::Readiness => &mut self.readiness,
            ProbeSlot::Startup => &mut self.startup,
        }
    }
}

/// Logging configuration (Gcore only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfig {
    pub enabled: bool,
    pub destination_region_id: Option<i64>,
    pub topic_name: Option<String>,
    pub retention_days: Option<u32>,
}

/// One point of a series; `None` is a gap (no sample).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub time: DateTime<Utc>,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub unit: String,
    pub labels: BTreeMap<String, String>,
    pub points: Vec<Point>,
}

/// One log line (Gcore logs endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub region_id: String,
    pub pod: String,
    pub message: String,
}

/// A provider-neutral inference deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub key: DeploymentKey,
    pub name: String,
    pub status: Status,
    #[serde(default, with = "shared::serde_opt")]
    pub image: Option<Shared>,
    pub port: Option<u32>,
    /// Gcore flavor name, Sesterce hardware name/id, Run:ai compute summary.
    #[serde(default, with = "shared::serde_opt")]
    pub hardware: Option<Shared>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub regions: Vec<RegionReplicas>,
    /// Shared by every deployment with the same probes (see [`shared::intern_probes`]); an edit changes its
    /// own copy (`Arc::make_mut`).
    #[serde(default, with = "shared::serde_probes")]
    pub probes: Option<std::sync::Arc<Probes>>,
    pub logging: Option<LoggingConfig>,
    pub envs: BTreeMap<String, String>,
    pub command: Option<String>,
    pub price_per_hour: Option<f64>,
    /// Run:ai pods (ids) when known, for per-pod metrics.
    pub pods: Vec<String>,
    /// Whether this record came from a list call (summary) or a full get (detail).
    pub detail: bool,
    /// Why part of this deployment could not be read (endpoint, JSON path, what was wrong), when it could not:
    /// its health is then unknown, never ok.
    #[serde(default)]
    pub unknown: Option<String>,
}

impl Deployment {
    /// An empty deployment with the given identity; conversions fill in the rest.
    pub fn new(key: DeploymentKey, name: impl Into<String>, status: Status) -> Self {
        Deployment {
            key,
            name: name.into(),
            status,
            image: None,
            port: None,
            hardware: None,
            address: None,
            description: None,
            created_at: None,
            regions: Vec::new(),
            probes: None,
            logging: None,
            envs: BTreeMap::new(),
            command: None,
            price_per_hour: None,
            pods: Vec::new(),
            detail: false,
            unknown: None,
        }
    }

    /// Ready replicas over all regions (saturating: the counts come from the network).
    pub fn ready(&self) -> u32 {
        self.regions.iter().fold(0, |n, r| n.saturating_add(r.ready))
    }

    /// Replicas over all regions (saturating).
    pub fn total(&self) -> u32 {
        self.regions.iter().fold(0, |n, r| n.saturating_add(r.total))
    }

    /// The one health of a deployment, from its status, its regions and what could not be read: what the
    /// table's colours and sorting, the regions and details panes, `snapshot`, `serve` and the alert rules
    /// show. See [`Deployment::assess`].
    pub fn health(&self) -> Health {
        self.judge(false).0
    }

    /// Why the deployment is not ok, when it is not and a reason can be named: what could not be read (always,
    /// for [`Health::Unknown`]), or the first region in trouble. Short, sanitized text.
    pub fn health_reason(&self) -> Option<String> {
        self.judge(true).1
    }

    /// The health and its reason:
    /// - [`Health::Unknown`] when part of the deployment could not be read ([`Deployment::unknown`]), its status
    ///   is a value infertop does not know, or its replicas were never read where its health depends on them
    ///   (a list entry without regions: Sesterce's list is a summary); a settled status with no region at all
    ///   in a full record is [`Health::Warning`];
    /// - the status' own bucket when it is failed, at rest ([`Health::Inactive`]: stopped, disabled, scaled to
    ///   zero on purpose, being deleted) or degraded;
    /// - else, for a settled status (ACTIVE, Running) or one still progressing: [`Health::Warning`] when a
    ///   region reports an error, or more replicas ready than run; [`Health::Progressing`] when a region has
    ///   fewer ready than it runs, or runs fewer than its minimum; [`Health::Ok`] only when every region has
    ///   ready = total ≥ min and no error.
    pub fn assess(&self) -> (Health, Option<String>) {
        self.judge(true)
    }

    /// [`Deployment::assess`]; the reason is written only when `reason` (the health alone allocates nothing).
    fn judge(&self, reason: bool) -> (Health, Option<String>) {
        let why = |s: &dyn Fn() -> String| reason.then(|| short(&s()));
        if let Some(u) = &self.unknown {
            return (Health::Unknown, why(&|| u.clone()));
        }
        if let Status::Unknown(s) = &self.status {
            return (
                Health::Unknown,
                why(&|| format!("the status {s:?} is not one infertop knows (its replicas may say more)")),
            );
        }
        if self.status == Status::PhaseUnknown {
            return (Health::Unknown, why(&|| "Run:ai reports its phase as Unknown".into()));
        }
        let status = self.status.health();
        match status {
            Health::Failed | Health::Inactive | Health::Unknown => return (status, None),
            Health::Warning | Health::Progressing | Health::Ok => {}
        }
        if self.regions.is_empty() && status == Health::Ok {
            return if self.detail {
                (Health::Warning, why(&|| "no region reported: nothing serves it".into()))
            } else {
                (Health::Unknown, why(&|| "its replicas were not read (the list does not give them)".into()))
            };
        }
        let rank = |h: Health| match h {
            Health::Warning => 2,
            Health::Progressing => 1,
            _ => 0,
        };
        let mut worst: (Health, Option<&RegionReplicas>) = (status, None);
        for r in &self.regions {
            let h = if r.error.is_some() || r.ready > r.total {
                Health::Warning
            } else if r.ready < r.total || r.total < r.scale.min {
                Health::Progressing
            } else {
                continue;
            };
            if rank(h) > rank(worst.0) || (rank(h) == rank(worst.0) && worst.1.is_none()) {
                worst = (h, Some(r));
            }
        }
        let (health, region) = worst;
        let text = region.and_then(|r| {
            why(&|| {
                let counts =
                    format!("{}: {}/{} ready, min {}", r.display_name(), r.ready, r.total, r.scale.min);
                match &r.error {
                    Some(e) => format!("{counts}: {e}"),
                    None if r.ready > r.total => format!("{counts}: more ready than running"),
                    None => counts,
                }
            })
        });
        (health, text)
    }
}

/// A reason as shown: control characters made visible, cut to a line's length with a mark.
fn short(s: &str) -> String {
    text::truncate(&text::sanitize(s), 240).into_owned()
}

/// The desired scale of every region: what an edit sends. Regions absent from the list are removed
/// (Gcore/Sesterce placement is the list); Run:ai has exactly one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleUpdate {
    pub regions: Vec<RegionScale>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionScale {
    pub region_id: String,
    pub scale: Scale,
}

impl ScaleUpdate {
    /// The current scale of a deployment, as an edit would start from it.
    pub fn from_deployment(d: &Deployment) -> ScaleUpdate {
        ScaleUpdate {
            regions: d
                .regions
                .iter()
                .map(|r| RegionScale { region_id: r.region_id.clone(), scale: r.scale.clone() })
                .collect(),
        }
    }
}

/// A region in a provider's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
    pub state: Option<String>,
    /// Capacity per hardware/flavor, where the API gives it.
    pub capacity: BTreeMap<String, u32>,
}

/// A hardware option / flavor in a provider's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareInfo {
    pub id: String,
    pub name: String,
    pub gpu_model: Option<String>,
    pub gpu_count: Option<u32>,
    pub gpu_memory_gib: Option<f64>,
    pub cpu: Option<f64>,
    pub memory_gib: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_word_is_shown_as_the_provider_sends_it() {
        for (word, health) in
            [("Failed", Health::Failed), ("Deleting", Health::Inactive), ("Unknown", Health::Unknown)]
        {
            let s = Status::from_runai(word);
            assert_eq!(s.label(), word, "Run:ai {word}");
            assert_eq!(s.health(), health, "Run:ai {word}");
        }
        for word in ["FAILED", "DELETING"] {
            assert_eq!(Status::from_gcore(word).label(), word);
        }
        let phase_unknown = deployment(Status::from_runai("Unknown"), vec![region(1, 1, 1, None)], true);
        let (h, why) = phase_unknown.assess();
        assert_eq!(h, Health::Unknown);
        assert!(why.unwrap().contains("Unknown"));
    }

    #[test]
    fn unknown_status_is_kept_and_shown() {
        let s = Status::from_gcore("FOO");
        assert_eq!(s, Status::Unknown("FOO".into()));
        assert_eq!(s.label(), "UNKNOWN(FOO)");
        assert_eq!(s.health(), Health::Warning);
    }

    #[test]
    fn gcore_pending_means_scaled_to_zero_not_runai_pending() {
        assert_eq!(Status::from_gcore("PENDING").health(), Health::Inactive);
        assert_eq!(Status::from_runai("Pending").health(), Health::Progressing);
    }

    fn region(ready: u32, total: u32, min: u32, error: Option<&str>) -> RegionReplicas {
        RegionReplicas {
            region_id: "76".into(),
            region_name: Some("Singapore-2".into()),
            ready,
            total,
            scale: Scale { min, max: 3, ..Default::default() },
            error: error.map(str::to_string),
        }
    }

    fn deployment(status: Status, regions: Vec<RegionReplicas>, detail: bool) -> Deployment {
        let key = DeploymentKey { provider: ProviderKind::Gcore, account: "g".into(), id: "d".into() };
        let mut d = Deployment::new(key, "d", status);
        d.regions = regions;
        d.detail = detail;
        d
    }

    #[test]
    fn health_comes_from_the_status_the_regions_and_what_could_not_be_read() {
        let ok = deployment(Status::Active, vec![region(3, 3, 1, None)], false);
        assert_eq!(ok.assess(), (Health::Ok, None));
        // ACTIVE, its only region at 0 of 3 ready with an error: not ok, and the reason names the region.
        let broken = deployment(Status::Active, vec![region(0, 3, 3, Some("pull failed"))], false);
        let (h, why) = broken.assess();
        assert_eq!(h, Health::Warning);
        assert_eq!(why.as_deref(), Some("Singapore-2: 0/3 ready, min 3: pull failed"));
        // Fewer ready than running, or fewer running than the minimum: still moving, not ok.
        let starting = deployment(Status::Running, vec![region(1, 3, 1, None)], true);
        assert_eq!(starting.health(), Health::Progressing);
        let short = deployment(Status::Active, vec![region(1, 1, 2, None)], true);
        assert_eq!(short.health(), Health::Progressing);
        // At rest and failed keep their own state, whatever the regions say.
        let stopped = deployment(Status::Disabled, vec![region(0, 3, 1, Some("x"))], true);
        assert_eq!(stopped.assess(), (Health::Inactive, None));
        assert_eq!(deployment(Status::Error, vec![], true).health(), Health::Failed);
        // Never read: a list entry without replicas is unknown, a full record without regions is not ok.
        let (h, why) = deployment(Status::Active, vec![], false).assess();
        assert_eq!(h, Health::Unknown);
        assert!(why.unwrap().contains("not read"));
        assert_eq!(deployment(Status::Active, vec![], true).health(), Health::Warning);
        // A reason set by the reader wins, sanitized and cut.
        let mut unread = ok.clone();
        unread.unknown = Some(format!("GET /x: \u{1b}[2J{}", "e".repeat(400)));
        let (h, why) = unread.assess();
        assert_eq!(h, Health::Unknown);
        let why = why.unwrap();
        assert!(!why.chars().any(char::is_control) && why.starts_with("GET /x: \\e[2J") && why.len() < 300);
        assert!(text::is_truncated(&why));
        // A status infertop does not know is unknown too.
        let odd = deployment(Status::Unknown("HIBERNATING".into()), vec![region(3, 3, 1, None)], true);
        assert_eq!(odd.health(), Health::Unknown);
    }

    #[test]
    fn triggers_summary_lists_each_trigger() {
        let t = Triggers {
            cpu: Some(80),
            http: Some(HttpTrigger { rate: 10, window: 60 }),
            ..Default::default()
        };
        assert_eq!(t.summary(), "cpu 80% http 10/60s");
        assert_eq!(Triggers::default().summary(), "-");
    }
}
