//! An edit's intent: the section it sends, and which fields of it the user meant to change (per region or
//! probe slot). `app` builds it from a form; `sync` uses it to check for another writer before the write and
//! to verify the read-back after it, field by field, so that a field the provider did not take is named and
//! a field the user did not touch is never judged.

use super::settings::Settings;
use super::{Deployment, HttpGetAction, ProbeConfig, ProbeSlot, Probes, ProviderKind, Scale, ScaleUpdate};
use serde_json::{Value, json};
use std::fmt;

/// The section an edit sends, whole: the deployment's section as read with the user's edits applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Scale(ScaleUpdate),
    Probes(std::sync::Arc<Probes>),
    /// Everything `e` edits at once (image, port, command, description, envs, scale, probes, logging).
    Settings(Box<Settings>),
}

impl Change {
    /// The same section of a deployment, for conflict checks.
    pub fn current_of(&self, d: &Deployment) -> Change {
        match self {
            Change::Scale(_) => Change::Scale(ScaleUpdate::from_deployment(d)),
            Change::Probes(_) => Change::Probes(d.probes.clone().unwrap_or_default()),
            Change::Settings(_) => Change::Settings(Box::new(Settings::from_deployment(d))),
        }
    }

    /// The scale this change sends, if it sends one.
    pub fn scale(&self) -> Option<&ScaleUpdate> {
        match self {
            Change::Scale(u) => Some(u),
            Change::Settings(s) => Some(&s.scale),
            Change::Probes(_) => None,
        }
    }

    /// The probes this change sends, if it sends them (none read counts as all off).
    pub fn probes(&self) -> Option<Probes> {
        match self {
            Change::Probes(p) => Some((**p).clone()),
            Change::Settings(s) => Some(s.probes.clone().unwrap_or_default()),
            Change::Scale(_) => None,
        }
    }

    /// `scale` or `probes` (the audit file's word).
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Scale(_) => "scale",
            Change::Probes(_) => "probes",
            Change::Settings(_) => "settings",
        }
    }

    /// Whether `dep` shows this change rolled out: every region with the min and max sent (a settings change:
    /// and its image), and [`rolled_out`]. The dashboard's ⟳ goes when it holds, and `--wait` returns.
    pub fn rolled_out_in(&self, dep: &Deployment) -> bool {
        fn bounds(u: &ScaleUpdate) -> Vec<(&str, u32, u32)> {
            let mut v: Vec<(&str, u32, u32)> =
                u.regions.iter().map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max)).collect();
            v.sort();
            v
        }
        let mut have: Vec<(&str, u32, u32)> =
            dep.regions.iter().map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max)).collect();
        have.sort();
        match self {
            Change::Scale(u) => bounds(u) == have && rolled_out(dep),
            Change::Probes(_) => true,
            // An image change rolls the deployment: settled once the read shows it and every replica is ready.
            Change::Settings(s) => {
                bounds(&s.scale) == have
                    && (s.image.is_none() || s.image.as_deref() == dep.image.as_deref())
                    && rolled_out(dep)
            }
        }
    }
}

/// Whether a deployment has settled, by the provider's own word: a settled status (Gcore/Sesterce `ACTIVE`
/// or `PENDING` scaled to zero, Run:ai `Running`), and in every region as many replicas as the minimum asks,
/// all of them ready. `PARTIALLYDEPLOYED` with equal counts is still rolling out.
pub fn rolled_out(dep: &Deployment) -> bool {
    use crate::model::Status;
    matches!(dep.status, Status::Active | Status::Running | Status::ScaledToZero)
        && dep.regions.iter().all(|r| r.ready == r.total && r.total >= r.scale.min)
}

/// Where a field lives: a region (Run:ai: its cluster) or a probe slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Region(String),
    Probe(ProbeSlot),
    /// A deployment-wide setting (image, port, ...).
    Deployment,
    /// One environment variable, by name.
    Env(String),
}

/// One field of a scale or probes section, as the review names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The region itself: added or removed.
    Placement,
    Min,
    Max,
    Cooldown,
    Polling,
    ScaleToZeroRetention,
    CpuTrigger,
    MemoryTrigger,
    GpuUtilTrigger,
    GpuMemoryTrigger,
    HttpTrigger,
    Metric,
    Enabled,
    HttpCheck,
    TcpCheck,
    ExecCheck,
    InitialDelay,
    Period,
    Timeout,
    SuccessThreshold,
    FailureThreshold,
    Image,
    /// Sesterce's model or registry: sent, never shown back.
    Source,
    Port,
    Command,
    Description,
    Env,
    Logging,
}

const SCALE_FIELDS: [Field; 11] = [
    Field::Min,
    Field::Max,
    Field::Cooldown,
    Field::Polling,
    Field::ScaleToZeroRetention,
    Field::CpuTrigger,
    Field::MemoryTrigger,
    Field::GpuUtilTrigger,
    Field::GpuMemoryTrigger,
    Field::HttpTrigger,
    Field::Metric,
];

const PROBE_FIELDS: [Field; 9] = [
    Field::Enabled,
    Field::HttpCheck,
    Field::TcpCheck,
    Field::ExecCheck,
    Field::InitialDelay,
    Field::Period,
    Field::Timeout,
    Field::SuccessThreshold,
    Field::FailureThreshold,
];

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Placement => "placement",
            Field::Min => "min",
            Field::Max => "max",
            Field::Cooldown => "cooldown",
            Field::Polling => "polling",
            Field::ScaleToZeroRetention => "scale-to-zero retention",
            Field::CpuTrigger => "cpu trigger",
            Field::MemoryTrigger => "memory trigger",
            Field::GpuUtilTrigger => "GPU util trigger",
            Field::GpuMemoryTrigger => "GPU memory trigger",
            Field::HttpTrigger => "http trigger",
            Field::Metric => "metric",
            Field::Enabled => "enabled",
            Field::HttpCheck => "HTTP check",
            Field::TcpCheck => "TCP check",
            Field::ExecCheck => "exec check",
            Field::InitialDelay => "initial delay",
            Field::Period => "period",
            Field::Timeout => "timeout",
            Field::SuccessThreshold => "success threshold",
            Field::FailureThreshold => "failure threshold",
            Field::Image => "image",
            Field::Source => "model or registry",
            Field::Port => "port",
            Field::Command => "command",
            Field::Description => "description",
            Field::Env => "env",
            Field::Logging => "logging",
        }
    }
}

/// A field the user meant to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meant {
    pub place: Place,
    pub field: Field,
}

/// A meant field the read-back does not show as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotTaken {
    pub provider: ProviderKind,
    pub place: Place,
    /// The region's name, or the probe slot, for people.
    pub at: String,
    pub field: Field,
    /// The value asked for, as the review showed it.
    pub asked: String,
    /// The value the provider holds.
    pub kept: String,
}

/// The provider's name in a sentence.
pub fn provider_name(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::Gcore => "Gcore",
        ProviderKind::Sesterce => "Sesterce",
        ProviderKind::Runai => "Run:ai",
    }
}

impl fmt::Display for NotTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = provider_name(self.provider);
        match (&self.place, self.field) {
            (_, Field::Source) => write!(
                f,
                "{p} does not show the model or registry back: {} was sent, not verified",
                self.asked
            ),
            (Place::Env(name), _) => write!(f, "{p} kept env {name} {} (asked: {})", self.kept, self.asked),
            (Place::Deployment, field) => {
                write!(f, "{p} kept {} {} (asked: {})", field.label(), self.kept, self.asked)
            }
            (_, Field::Placement) if self.asked == "add" => write!(f, "{p} did not add {}", self.at),
            (_, Field::Placement) => write!(f, "{p} kept {} (asked: {})", self.at, self.asked),
            (Place::Probe(_), field) => write!(
                f,
                "{p} kept {} probe {} {} (asked: {})",
                self.at,
                field.label(),
                self.kept,
                self.asked
            ),
            // Run:ai has one autoscaling block: no region to name.
            (Place::Region(_), field) if self.provider == ProviderKind::Runai => {
                write!(f, "{p} kept {} {} (asked: {})", field.label(), self.kept, self.asked)
            }
            (Place::Region(_), field) => {
                write!(f, "{p} kept {} {} in {} (asked: {})", field.label(), self.kept, self.at, self.asked)
            }
        }
    }
}

impl NotTaken {
    /// Whether the read-back could show the field at all (Sesterce never shows its model or registry).
    pub fn verifiable(&self) -> bool {
        self.field != Field::Source
    }

    /// The audit file's record of it (probe header values are never in it: a check shows header names).
    pub fn to_json(&self) -> Value {
        let (kind, id) = match &self.place {
            Place::Region(id) => ("region", id.clone()),
            Place::Probe(slot) => ("probe", slot.label().to_string()),
            Place::Deployment => ("setting", self.field.label().to_string()),
            Place::Env(name) => ("env", name.clone()),
        };
        json!({
            kind: id,
            "at": self.at,
            "field": self.field.label(),
            "asked": self.asked,
            "kept": self.kept,
            "text": self.to_string(),
        })
    }
}

/// What an edit sends and what the user meant by it.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub change: Change,
    pub meant: Vec<Meant>,
    /// Region names as the user saw them, for messages.
    names: Vec<(String, String)>,
}

fn show(v: Option<u32>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "unset".into())
}

/// A field's value: what is compared, and how it is shown.
fn scale_value(s: &Scale, field: Field) -> (Value, String) {
    let num = |v: Option<u32>| (json!(v), show(v));
    let t = &s.triggers;
    match field {
        Field::Min => (json!(s.min), s.min.to_string()),
        Field::Max => (json!(s.max), s.max.to_string()),
        Field::Cooldown => num(s.cooldown_seconds),
        Field::Polling => num(s.polling_interval_seconds),
        Field::ScaleToZeroRetention => num(s.scale_to_zero_retention_seconds),
        Field::CpuTrigger => num(t.cpu),
        Field::MemoryTrigger => num(t.memory),
        Field::GpuUtilTrigger => num(t.gpu_utilization),
        Field::GpuMemoryTrigger => num(t.gpu_memory),
        Field::HttpTrigger => (
            json!(t.http.map(|h| (h.rate, h.window))),
            t.http.map(|h| format!("{}/{}s", h.rate, h.window)).unwrap_or_else(|| "unset".into()),
        ),
        Field::Metric => (
            json!(t.metric.as_ref().map(|m| (&m.metric, m.threshold))),
            t.metric
                .as_ref()
                .map(|m| format!("{} {}", m.metric, m.threshold))
                .unwrap_or_else(|| "unset".into()),
        ),
        _ => (Value::Null, String::new()),
    }
}

/// An HTTP check as shown: header names only, never their values.
fn http_check(h: &HttpGetAction) -> String {
    let mut s = format!("{} {}:{}{}", h.scheme, h.host.as_deref().unwrap_or(""), h.port, h.path);
    if !h.headers.is_empty() {
        let names: Vec<&str> = h.headers.keys().map(String::as_str).collect();
        s.push_str(&format!(" (headers {})", names.join(", ")));
    }
    s
}

/// A probe field's value; an absent slot reads as a disabled probe with nothing set.
fn probe_value(c: Option<&ProbeConfig>, field: Field) -> (Value, String) {
    let default = ProbeConfig { enabled: false, probe: Default::default() };
    let c = c.unwrap_or(&default);
    let p = &c.probe;
    let num = |v: Option<u32>| (json!(v), show(v));
    match field {
        Field::Enabled => (json!(c.enabled), if c.enabled { "on" } else { "off" }.into()),
        Field::HttpCheck => (
            serde_json::to_value(&p.http_get).unwrap_or(Value::Null),
            p.http_get.as_ref().map(http_check).unwrap_or_else(|| "none".into()),
        ),
        Field::TcpCheck => (
            json!(p.tcp_socket.map(|t| t.port)),
            p.tcp_socket.map(|t| format!("tcp :{}", t.port)).unwrap_or_else(|| "none".into()),
        ),
        Field::ExecCheck => (
            json!(p.exec.as_ref().map(|e| &e.command)),
            p.exec.as_ref().map(|e| format!("exec {}", e.command.join(" "))).unwrap_or_else(|| "none".into()),
        ),
        Field::InitialDelay => num(p.initial_delay_seconds),
        Field::Period => num(p.period_seconds),
        Field::Timeout => num(p.timeout_seconds),
        Field::SuccessThreshold => num(p.success_threshold),
        Field::FailureThreshold => num(p.failure_threshold),
        _ => (Value::Null, String::new()),
    }
}

/// A deployment-wide setting's value: what is compared, and how it is shown.
fn setting_value(s: &Settings, field: Field) -> (Value, String) {
    let text = |v: &Option<String>| {
        (json!(v), v.as_deref().map(|x| format!("{x:?}")).unwrap_or_else(|| "unset".into()))
    };
    match field {
        Field::Image => text(&s.image),
        Field::Port => (json!(s.port), show(s.port)),
        Field::Command => text(&s.command),
        Field::Description => text(&s.description),
        Field::Logging => (
            serde_json::to_value(&s.logging).unwrap_or(Value::Null),
            match &s.logging {
                None => "none".into(),
                Some(l) => format!(
                    "{} topic {} retention {}",
                    if l.enabled { "on" } else { "off" },
                    l.topic_name.as_deref().unwrap_or("unset"),
                    show(l.retention_days)
                ),
            },
        ),
        Field::Source => (
            serde_json::to_value(&s.source).unwrap_or(Value::Null),
            match &s.source {
                Some(super::ImageSource::Model(m)) => format!("model {m}"),
                Some(super::ImageSource::Registry(r)) => format!("registry {r}"),
                Some(super::ImageSource::Image { image, .. }) => image.clone(),
                None => "unchanged".into(),
            },
        ),
        _ => (Value::Null, String::new()),
    }
}

const SETTING_FIELDS: [Field; 5] =
    [Field::Image, Field::Port, Field::Command, Field::Description, Field::Logging];

impl Edit {
    /// The intent of `change`, made from `base` (the deployment as the form read it): every field whose value
    /// the change sets differently, which is exactly what the review listed and the user confirmed.
    pub fn new(base: &Deployment, change: Change) -> Edit {
        let mut meant = Vec::new();
        match &change {
            Change::Scale(u) => {
                for r in &u.regions {
                    let place = Place::Region(r.region_id.clone());
                    let old = base.regions.iter().find(|b| b.region_id == r.region_id);
                    if old.is_none() {
                        meant.push(Meant { place: place.clone(), field: Field::Placement });
                    }
                    for field in SCALE_FIELDS {
                        // A new region: every setting of it is meant.
                        if old
                            .is_none_or(|o| scale_value(&o.scale, field).0 != scale_value(&r.scale, field).0)
                        {
                            meant.push(Meant { place: place.clone(), field });
                        }
                    }
                }
                for b in &base.regions {
                    if !u.regions.iter().any(|r| r.region_id == b.region_id) {
                        meant.push(Meant {
                            place: Place::Region(b.region_id.clone()),
                            field: Field::Placement,
                        });
                    }
                }
            }
            Change::Probes(p) => {
                let old = base.probes.clone().unwrap_or_default();
                for slot in ProbeSlot::ALL {
                    let (a, b) = (old.get(slot), p.get(slot));
                    for field in PROBE_FIELDS {
                        if probe_value(a, field).0 != probe_value(b, field).0 {
                            meant.push(Meant { place: Place::Probe(slot), field });
                        }
                    }
                }
            }
            Change::Settings(s) => {
                let old = Settings::from_deployment(base);
                for field in SETTING_FIELDS {
                    if setting_value(&old, field).0 != setting_value(s, field).0 {
                        meant.push(Meant { place: Place::Deployment, field });
                    }
                }
                if s.source.is_some() {
                    meant.push(Meant { place: Place::Deployment, field: Field::Source });
                }
                let names: std::collections::BTreeSet<&String> =
                    old.envs.keys().chain(s.envs.keys()).collect();
                for k in names {
                    if old.envs.get(k) != s.envs.get(k) {
                        meant.push(Meant { place: Place::Env(k.clone()), field: Field::Env });
                    }
                }
                meant.extend(Edit::new(base, Change::Scale(s.scale.clone())).meant);
                let probes = s.probes.clone().unwrap_or_default();
                if probes != old.probes.clone().unwrap_or_default() {
                    meant.extend(Edit::new(base, Change::Probes(std::sync::Arc::new(probes))).meant);
                }
            }
        }
        let names = base.regions.iter().map(|r| (r.region_id.clone(), r.display_name())).collect();
        Edit { change, meant, names }
    }

    fn region_name(&self, id: &str, d: &Deployment) -> String {
        self.names
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, n)| n.clone())
            .or_else(|| d.regions.iter().find(|r| r.region_id == id).map(|r| r.display_name()))
            .unwrap_or_else(|| format!("region {id}"))
    }

    /// The meant fields that `d` (the deployment as read back after the write) does not hold as asked.
    pub fn not_taken(&self, d: &Deployment) -> Vec<NotTaken> {
        let provider = d.key.provider;
        let mut out: Vec<NotTaken> = Vec::new();
        for m in &self.meant {
            let (at, asked, kept) = match &m.place {
                Place::Region(id) => {
                    let Some(u) = self.change.scale() else { continue };
                    let want = u.regions.iter().find(|r| &r.region_id == id);
                    let have = d.regions.iter().find(|r| &r.region_id == id);
                    let at = self.region_name(id, d);
                    match (want, have) {
                        // Placement has no value of its own: a region on both sides is placed as asked.
                        (Some(w), Some(h)) => {
                            let (a, b) = (scale_value(&w.scale, m.field), scale_value(&h.scale, m.field));
                            if a.0 == b.0 {
                                continue;
                            }
                            (at, a.1, b.1)
                        }
                        (None, None) => continue,
                        // A region asked for and absent is named once, by its placement.
                        (Some(_), None) if m.field != Field::Placement => continue,
                        (Some(_), None) => (at, "add".to_string(), "absent".to_string()),
                        (None, Some(_)) => (at, "remove".to_string(), "present".to_string()),
                    }
                }
                Place::Probe(slot) => {
                    let Some(p) = self.change.probes() else { continue };
                    let have = d.probes.as_ref().and_then(|ps| ps.get(*slot));
                    let (a, b) = (probe_value(p.get(*slot), m.field), probe_value(have, m.field));
                    if a.0 == b.0 {
                        continue;
                    }
                    (slot.label().to_string(), a.1, b.1)
                }
                Place::Deployment => {
                    let Change::Settings(s) = &self.change else { continue };
                    let (a, b) =
                        (setting_value(s, m.field), setting_value(&Settings::from_deployment(d), m.field));
                    // The model or registry is never shown back: named as sent and not verified.
                    if m.field != Field::Source && a.0 == b.0 {
                        continue;
                    }
                    let kept = if m.field == Field::Source { "not shown".to_string() } else { b.1 };
                    (m.field.label().to_string(), a.1, kept)
                }
                Place::Env(k) => {
                    let Change::Settings(s) = &self.change else { continue };
                    let have = Settings::from_deployment(d);
                    let (want, got) = (s.envs.get(k), have.envs.get(k));
                    if want == got {
                        continue;
                    }
                    // Values are never shown: a variable is set, unset, or holds another value.
                    let word = |v: Option<&String>| if v.is_some() { "set" } else { "unset" };
                    let kept = if want.is_some() && got.is_some() { "another value" } else { word(got) };
                    (k.clone(), word(want).to_string(), kept.to_string())
                }
            };
            out.push(NotTaken { provider, place: m.place.clone(), at, field: m.field, asked, kept });
        }
        out
    }

    /// Whether `d` holds every meant field as asked.
    pub fn landed_in(&self, d: &Deployment) -> bool {
        self.not_taken(d).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        DeploymentKey, HttpTrigger, MetricTrigger, Probe, RegionReplicas, RegionScale, Status, Triggers,
    };
    use std::collections::BTreeMap;

    fn dep(provider: ProviderKind) -> Deployment {
        let k = DeploymentKey { provider, account: "a".into(), id: "llama".into() };
        let mut d = Deployment::new(k, "llama", Status::Active);
        for (id, name) in [("7", "Luxembourg-2"), ("91", "Santa Clara")] {
            d.regions.push(RegionReplicas {
                region_id: id.into(),
                region_name: Some(name.into()),
                ready: 2,
                total: 2,
                scale: Scale {
                    min: 1,
                    max: 4,
                    cooldown_seconds: Some(60),
                    polling_interval_seconds: Some(30),
                    scale_to_zero_retention_seconds: None,
                    triggers: Triggers { cpu: Some(80), ..Default::default() },
                },
                error: None,
            });
        }
        d.probes = Some(std::sync::Arc::new(Probes {
            readiness: Some(ProbeConfig {
                enabled: true,
                probe: Probe {
                    http_get: Some(HttpGetAction {
                        path: "/health".into(),
                        port: 8080,
                        scheme: "HTTP".into(),
                        host: None,
                        headers: BTreeMap::from([("X-Token".to_string(), "s3cret".to_string())]),
                    }),
                    period_seconds: Some(10),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }));
        d
    }

    fn scale_of(d: &Deployment) -> ScaleUpdate {
        ScaleUpdate::from_deployment(d)
    }

    /// The dashboard's ⟳ and `--wait` go by this: every region with the bounds sent (whatever the order, none
    /// more, none less), the image sent, and the deployment settled. A probes change has nothing to roll.
    #[test]
    fn a_change_is_rolled_out_only_with_every_region_s_bounds_its_image_and_the_deployment_settled() {
        let d = dep(ProviderKind::Gcore);
        let mut u = scale_of(&d);
        u.regions[1].scale.max = 6;
        let scale = Change::Scale(u.clone());
        assert!(!scale.rolled_out_in(&d), "the read still shows max 4");
        let mut back = d.clone();
        back.regions[1].scale.max = 6;
        assert!(scale.rolled_out_in(&back));
        let mut swapped = back.clone();
        swapped.regions.reverse();
        assert!(scale.rolled_out_in(&swapped), "the regions' order is not the change's");
        let mut other_min = back.clone();
        other_min.regions[1].scale.min = 2;
        other_min.regions[1].total = 2;
        assert!(!scale.rolled_out_in(&other_min), "a min not sent");
        let mut other_region = back.clone();
        other_region.regions[0].region_id = "8".into();
        assert!(!scale.rolled_out_in(&other_region), "a region not sent");
        let mut fewer = back.clone();
        fewer.regions.pop();
        assert!(!scale.rolled_out_in(&fewer), "a region gone");
        let mut more = back.clone();
        more.regions.push(RegionReplicas { region_id: "5".into(), ..back.regions[0].clone() });
        assert!(!scale.rolled_out_in(&more), "a region more");
        // Bounds as sent, but not settled: a replica not ready, fewer than the min, or a status still moving.
        let mut not_ready = back.clone();
        not_ready.regions[0].ready = 1;
        assert!(!scale.rolled_out_in(&not_ready));
        let mut short = back.clone();
        short.regions[0].scale.min = 3;
        let mut u3 = u.clone();
        u3.regions[0].scale.min = 3;
        assert!(!Change::Scale(u3).rolled_out_in(&short), "2 replicas of a min of 3");
        let mut moving = back.clone();
        moving.status = Status::PartiallyDeployed;
        assert!(!scale.rolled_out_in(&moving));
        // A probes change: nothing to roll, whatever the deployment shows.
        assert!(Change::Probes(std::sync::Arc::new(Probes::default())).rolled_out_in(&moving));
        // Settings: the bounds, the image sent, and settled.
        let mut settings = Settings::from_deployment(&back);
        settings.image = Some("registry.example.com/llama:2".into());
        let settings = Change::Settings(Box::new(settings));
        assert!(!settings.rolled_out_in(&back), "the old image");
        let mut rolled = back.clone();
        rolled.image = Some("registry.example.com/llama:2".into());
        assert!(settings.rolled_out_in(&rolled));
        let mut rolling = rolled.clone();
        rolling.regions[1].ready = 1;
        assert!(!settings.rolled_out_in(&rolling), "the new image, not every replica ready");
        let mut narrower = rolled.clone();
        narrower.regions[1].scale.max = 4;
        assert!(!settings.rolled_out_in(&narrower), "the image, but a max not sent");
        let mut no_image = Settings::from_deployment(&back);
        no_image.image = None;
        assert!(Change::Settings(Box::new(no_image)).rolled_out_in(&back), "no image sent: any image");
    }

    #[test]
    fn a_cleared_cooldown_that_the_provider_kept_is_named() {
        let d = dep(ProviderKind::Gcore);
        let mut u = scale_of(&d);
        u.regions[0].scale.cooldown_seconds = None;
        let edit = Edit::new(&d, Change::Scale(u));
        assert_eq!(edit.meant, [Meant { place: Place::Region("7".into()), field: Field::Cooldown }]);
        let nt = edit.not_taken(&d);
        assert_eq!(nt.len(), 1);
        assert_eq!(nt[0].to_string(), "Gcore kept cooldown 60 in Luxembourg-2 (asked: unset)");
        assert_eq!(nt[0].to_json()["region"], "7");
        assert_eq!(nt[0].to_json()["kept"], "60");
        assert!(!edit.landed_in(&d));
        let mut taken = d.clone();
        taken.regions[0].scale.cooldown_seconds = None;
        assert!(edit.landed_in(&taken));
    }

    #[test]
    fn fields_the_user_did_not_touch_are_not_judged() {
        let d = dep(ProviderKind::Sesterce);
        let mut u = scale_of(&d);
        u.regions[1].scale.max = 6;
        let edit = Edit::new(&d, Change::Scale(u));
        let mut back = d.clone();
        back.regions[1].scale.max = 6;
        // The provider filled in defaults the user never asked about: not judged.
        back.regions[0].scale.polling_interval_seconds = None;
        back.regions[1].scale.triggers.memory = Some(80);
        back.regions[1].scale.cooldown_seconds = Some(300);
        assert!(edit.landed_in(&back), "{:?}", edit.not_taken(&back));
        back.regions[1].scale.max = 4;
        let nt = edit.not_taken(&back);
        assert_eq!(nt.len(), 1);
        assert_eq!(nt[0].to_string(), "Sesterce kept max 4 in Santa Clara (asked: 6)");
    }

    #[test]
    fn every_scale_field_is_compared() {
        let d = dep(ProviderKind::Gcore);
        let mut u = scale_of(&d);
        let s = &mut u.regions[0].scale;
        s.min = 2;
        s.max = 5;
        s.cooldown_seconds = Some(61);
        s.polling_interval_seconds = Some(31);
        s.scale_to_zero_retention_seconds = Some(5);
        s.triggers.cpu = Some(81);
        s.triggers.memory = Some(70);
        s.triggers.gpu_utilization = Some(50);
        s.triggers.gpu_memory = Some(60);
        s.triggers.http = Some(HttpTrigger { rate: 10, window: 60 });
        s.triggers.metric = Some(MetricTrigger { metric: "concurrency".into(), threshold: 3 });
        let edit = Edit::new(&d, Change::Scale(u.clone()));
        assert_eq!(edit.meant.len(), SCALE_FIELDS.len());
        let nt = edit.not_taken(&d);
        let shown: Vec<(&str, &str, &str)> =
            nt.iter().map(|n| (n.field.label(), n.asked.as_str(), n.kept.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("min", "2", "1"),
                ("max", "5", "4"),
                ("cooldown", "61", "60"),
                ("polling", "31", "30"),
                ("scale-to-zero retention", "5", "unset"),
                ("cpu trigger", "81", "80"),
                ("memory trigger", "70", "unset"),
                ("GPU util trigger", "50", "unset"),
                ("GPU memory trigger", "60", "unset"),
                ("http trigger", "10/60s", "unset"),
                ("metric", "concurrency 3", "unset"),
            ]
        );
        let mut back = d.clone();
        back.regions[0].scale = u.regions[0].scale.clone();
        assert!(edit.landed_in(&back));
        // Each field on its own: one wrong value is one finding.
        for field in SCALE_FIELDS {
            let mut one = back.clone();
            let s = &mut one.regions[0].scale;
            match field {
                Field::Min => s.min = 1,
                Field::Max => s.max = 6,
                Field::Cooldown => s.cooldown_seconds = None,
                Field::Polling => s.polling_interval_seconds = Some(5),
                Field::ScaleToZeroRetention => s.scale_to_zero_retention_seconds = Some(6),
                Field::CpuTrigger => s.triggers.cpu = Some(1),
                Field::MemoryTrigger => s.triggers.memory = None,
                Field::GpuUtilTrigger => s.triggers.gpu_utilization = Some(51),
                Field::GpuMemoryTrigger => s.triggers.gpu_memory = Some(61),
                Field::HttpTrigger => s.triggers.http = Some(HttpTrigger { rate: 10, window: 61 }),
                Field::Metric => {
                    s.triggers.metric = Some(MetricTrigger { metric: "concurrency".into(), threshold: 4 })
                }
                _ => unreachable!(),
            }
            let nt = edit.not_taken(&one);
            assert_eq!(nt.iter().map(|n| n.field).collect::<Vec<_>>(), [field]);
        }
    }

    #[test]
    fn regions_added_or_removed_are_checked_by_placement() {
        let d = dep(ProviderKind::Gcore);
        let mut u = scale_of(&d);
        u.regions.remove(0);
        u.regions.push(RegionScale {
            region_id: "38".into(),
            scale: Scale { min: 1, max: 1, ..Default::default() },
        });
        let edit = Edit::new(&d, Change::Scale(u.clone()));
        assert!(edit.meant.contains(&Meant { place: Place::Region("38".into()), field: Field::Placement }));
        assert!(edit.meant.contains(&Meant { place: Place::Region("7".into()), field: Field::Placement }));
        let texts: Vec<String> = edit.not_taken(&d).iter().map(|n| n.to_string()).collect();
        assert_eq!(texts, ["Gcore did not add region 38", "Gcore kept Luxembourg-2 (asked: remove)"]);
        // Added with other settings than asked: each is named.
        let mut back = d.clone();
        back.regions.remove(0);
        let mut added = back.regions[0].clone();
        added.region_id = "38".into();
        added.region_name = Some("Amsterdam".into());
        added.scale = Scale { min: 1, max: 2, ..Default::default() };
        back.regions.push(added);
        let texts: Vec<String> = edit.not_taken(&back).iter().map(|n| n.to_string()).collect();
        assert_eq!(texts, ["Gcore kept max 2 in Amsterdam (asked: 1)"]);
        back.regions[1].scale.max = 1;
        assert!(edit.landed_in(&back));
    }

    #[test]
    fn runai_names_no_region() {
        let mut d = dep(ProviderKind::Runai);
        d.regions.truncate(1);
        let mut u = scale_of(&d);
        u.regions[0].scale.max = 5000;
        let edit = Edit::new(&d, Change::Scale(u));
        assert_eq!(edit.not_taken(&d)[0].to_string(), "Run:ai kept max 4 (asked: 5000)");
    }

    #[test]
    fn probe_fields_are_compared_per_slot_without_header_values() {
        let d = dep(ProviderKind::Gcore);
        let mut p = d.probes.clone().unwrap();
        let r = std::sync::Arc::make_mut(&mut p).readiness.as_mut().unwrap();
        r.probe.period_seconds = Some(17);
        r.probe.http_get.as_mut().unwrap().port = 9090;
        std::sync::Arc::make_mut(&mut p).liveness = Some(ProbeConfig {
            enabled: true,
            probe: Probe {
                tcp_socket: Some(crate::model::TcpSocketAction { port: 80 }),
                ..Default::default()
            },
        });
        let edit = Edit::new(&d, Change::Probes(p.clone()));
        let fields: Vec<(Place, Field)> = edit.meant.iter().map(|m| (m.place.clone(), m.field)).collect();
        assert_eq!(
            fields,
            [
                (Place::Probe(ProbeSlot::Liveness), Field::Enabled),
                (Place::Probe(ProbeSlot::Liveness), Field::TcpCheck),
                (Place::Probe(ProbeSlot::Readiness), Field::HttpCheck),
                (Place::Probe(ProbeSlot::Readiness), Field::Period),
            ]
        );
        let texts: Vec<String> = edit.not_taken(&d).iter().map(|n| n.to_string()).collect();
        assert_eq!(
            texts,
            [
                "Gcore kept liveness probe enabled off (asked: on)",
                "Gcore kept liveness probe TCP check none (asked: tcp :80)",
                "Gcore kept readiness probe HTTP check HTTP :8080/health (headers X-Token) (asked: HTTP :9090/health (headers X-Token))",
                "Gcore kept readiness probe period 10 (asked: 17)",
            ]
        );
        assert!(!edit.not_taken(&d).iter().any(|n| n.to_json().to_string().contains("s3cret")));
        let mut back = d.clone();
        back.probes = Some(p);
        assert!(edit.landed_in(&back));
        // A probe turned off that the provider reports as absent is off.
        let mut off = d.probes.clone().unwrap();
        std::sync::Arc::make_mut(&mut off).readiness.as_mut().unwrap().enabled = false;
        let edit = Edit::new(&d, Change::Probes(off));
        assert_eq!(edit.meant.len(), 1);
        let mut gone = d.clone();
        gone.probes = Some(Default::default());
        assert!(edit.landed_in(&gone));
    }

    #[test]
    fn every_probe_field_is_compared() {
        let d = dep(ProviderKind::Gcore);
        let mut p = d.probes.clone().unwrap();
        let r = &mut std::sync::Arc::make_mut(&mut p).readiness.as_mut().unwrap().probe;
        r.exec = Some(crate::model::ExecAction { command: vec!["true".into()] });
        r.initial_delay_seconds = Some(1);
        r.timeout_seconds = Some(2);
        r.success_threshold = Some(3);
        r.failure_threshold = Some(4);
        let edit = Edit::new(&d, Change::Probes(p.clone()));
        let fields: Vec<Field> = edit.meant.iter().map(|m| m.field).collect();
        assert_eq!(
            fields,
            [
                Field::ExecCheck,
                Field::InitialDelay,
                Field::Timeout,
                Field::SuccessThreshold,
                Field::FailureThreshold
            ]
        );
        let shown: Vec<(String, String)> =
            edit.not_taken(&d).into_iter().map(|n| (n.asked, n.kept)).collect();
        assert_eq!(
            shown,
            [
                ("exec true".to_string(), "none".to_string()),
                ("1".into(), "unset".into()),
                ("2".into(), "unset".into()),
                ("3".into(), "unset".into()),
                ("4".into(), "unset".into()),
            ]
        );
    }

    /// Issue 25: every deployment-wide setting `e` edits is compared after the write, like every scale and
    /// probe field: one the provider kept is named, each on its own; the model or registry, never shown back,
    /// is named as not verified whatever the read-back holds.
    #[test]
    fn every_setting_field_is_compared() {
        let d = dep(ProviderKind::Gcore);
        let logging = crate::model::LoggingConfig {
            enabled: true,
            destination_region_id: Some(7),
            topic_name: Some("bite".into()),
            retention_days: Some(7),
        };
        let mut s = Settings::from_deployment(&d);
        s.image = Some("nginx:1.27".into());
        s.port = Some(9000);
        s.command = Some("serve --fast".into());
        s.description = Some("edited".into());
        s.logging = Some(logging.clone());
        s.envs.insert("A".into(), "1".into());
        s.source = Some(crate::model::ImageSource::Model("m-1".into()));
        let edit = Edit::new(&d, Change::Settings(Box::new(s.clone())));
        let meant: Vec<(Place, Field)> = edit.meant.iter().map(|m| (m.place.clone(), m.field)).collect();
        let setting = |f: Field| (Place::Deployment, f);
        assert_eq!(
            meant,
            [
                setting(Field::Image),
                setting(Field::Port),
                setting(Field::Command),
                setting(Field::Description),
                setting(Field::Logging),
                setting(Field::Source),
                (Place::Env("A".into()), Field::Env),
            ]
        );
        let texts: Vec<String> = edit.not_taken(&d).iter().map(|n| n.to_string()).collect();
        assert_eq!(
            texts,
            [
                "Gcore kept image unset (asked: \"nginx:1.27\")",
                "Gcore kept port unset (asked: 9000)",
                "Gcore kept command unset (asked: \"serve --fast\")",
                "Gcore kept description unset (asked: \"edited\")",
                "Gcore kept logging none (asked: on topic bite retention 7)",
                "Gcore does not show the model or registry back: model m-1 was sent, not verified",
                "Gcore kept env A unset (asked: set)",
            ]
        );
        let mut back = d.clone();
        back.image = Some("nginx:1.27".into());
        back.port = Some(9000);
        back.command = Some("serve --fast".into());
        back.description = Some("edited".into());
        back.logging = Some(logging);
        back.envs.insert("A".into(), "1".into());
        let only_source = |d: &Deployment| edit.not_taken(d).iter().map(|n| n.field).collect::<Vec<_>>();
        assert_eq!(only_source(&back), [Field::Source], "all taken: the source alone is unverifiable");
        // Each setting on its own: one the provider kept is one finding.
        for field in SETTING_FIELDS {
            let mut one = back.clone();
            match field {
                Field::Image => one.image = Some("nginx:1.26".into()),
                Field::Port => one.port = Some(8080),
                Field::Command => one.command = None,
                Field::Description => one.description = Some("old".into()),
                Field::Logging => one.logging.as_mut().unwrap().retention_days = Some(30),
                _ => unreachable!(),
            }
            assert_eq!(only_source(&one), [field, Field::Source], "{field:?}");
        }
        let mut other = back.clone();
        other.envs.insert("A".into(), "2".into());
        let nt = edit.not_taken(&other);
        assert_eq!(nt[1].to_string(), "Gcore kept env A another value (asked: set)");
    }

    #[test]
    fn conflict_checks_read_the_same_section() {
        let d = dep(ProviderKind::Gcore);
        let scale = Change::Scale(ScaleUpdate { regions: Vec::new() });
        assert_eq!(scale.current_of(&d), Change::Scale(scale_of(&d)));
        assert_eq!(scale.kind(), "scale");
        let probes = Change::Probes(Default::default());
        assert_eq!(probes.current_of(&d), Change::Probes(d.probes.clone().unwrap()));
        assert_eq!(probes.kind(), "probes");
        let mut other = d.clone();
        std::sync::Arc::make_mut(other.probes.as_mut().unwrap())
            .readiness
            .as_mut()
            .unwrap()
            .probe
            .timeout_seconds = Some(9);
        assert_ne!(probes.current_of(&other), probes.current_of(&d));
    }
}
