//! The edit forms (scale and probes): fields validated as the user types against the model's validation
//! functions, a diff of only what changes, and the change built by applying only the edited fields to the
//! deployment as it was read, so nothing the user did not touch is lost.

use super::input::LineInput;
use crate::model::validate::{self, FieldError};
use crate::model::{
    Deployment, DeploymentKey, ExecAction, HttpGetAction, HttpTrigger, MetricTrigger, Probe, ProbeConfig,
    ProbeSlot, Probes, ProviderKind, RegionScale, Scale, ScaleUpdate, TcpSocketAction,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
// The change and its intent live in the model; re-exported for the form's callers.
pub use crate::model::edit::{Change, Edit};
use std::collections::BTreeMap;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A required whole number.
    Count,
    /// A whole number; empty means unset.
    OptCount,
    /// Free text.
    Text,
    /// One of a few values; Space cycles.
    Choice(&'static [&'static str]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    /// The validation path this field answers to (e.g. `regions[0].scale.max`).
    pub path: String,
    pub input: LineInput,
    pub initial: String,
    pub kind: FieldKind,
    pub error: Option<String>,
}

impl Field {
    fn new(label: &'static str, path: String, kind: FieldKind, value: String) -> Field {
        Field { label, path, input: LineInput::new(value.clone()), initial: value, kind, error: None }
    }

    pub fn changed(&self) -> bool {
        self.input.value() != self.initial
    }

    pub fn value(&self) -> &str {
        self.input.value().trim()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    /// Scale: the region this section edits. Probes: the slot.
    pub region_id: Option<String>,
    pub slot: Option<ProbeSlot>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Scale,
    Probes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Edit,
    /// The diff, waiting for `y`.
    Confirm(Vec<String>),
    Applying,
    /// The deployment changed since the form opened: what changed, and the latest record.
    Conflict {
        changes: Vec<String>,
        latest: Box<Deployment>,
    },
    /// The provider refused; the input is kept.
    Failed(String),
    /// The provider refused for want of the deployment's model or registry: pick it, then `y` sends again.
    PickSource(Box<super::model_pick::ModelPick>),
}

/// A region the scale form can add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionChoice {
    pub id: String,
    pub name: String,
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub kind: FormKind,
    pub key: DeploymentKey,
    pub account: usize,
    pub provider: ProviderKind,
    /// The deployment as read when the form opened (or after a conflict, as read then).
    pub base: Deployment,
    pub sections: Vec<Section>,
    /// (section, field)
    pub focus: (usize, usize),
    pub stage: Stage,
    /// Errors that belong to no single field.
    pub general_errors: Vec<String>,
    /// Why the last key did nothing, shown at the focused field ("numbers only"); cleared by the next key.
    pub notice: Option<&'static str>,
    /// Regions offered by "add region" (scale form, per-region providers).
    pub region_choices: Vec<RegionChoice>,
    pub per_region: bool,
    /// The model or registry the user picked when the provider asked for it; sent with every later try.
    pub source: Option<crate::model::ImageSource>,
}

const TRIGGER_FIELDS: [(&str, &str); 4] = [
    ("cpu %", "cpu"),
    ("memory %", "memory"),
    ("GPU util %", "gpu_utilization"),
    ("GPU mem %", "gpu_memory"),
];

fn opt(v: Option<u32>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn scale_section(provider: ProviderKind, i: usize, region_id: &str, title: String, s: &Scale) -> Section {
    let p = format!("regions[{i}].scale");
    let mut fields = vec![
        Field::new("min", format!("{p}.min"), FieldKind::Count, s.min.to_string()),
        Field::new("max", format!("{p}.max"), FieldKind::Count, s.max.to_string()),
    ];
    match provider {
        ProviderKind::Runai => {
            let (metric, threshold) = match &s.triggers.metric {
                Some(m) => (m.metric.clone(), m.threshold.to_string()),
                None => (String::new(), String::new()),
            };
            fields.push(Field::new("metric", format!("{p}.metric"), FieldKind::Text, metric));
            fields.push(Field::new("threshold", format!("{p}.threshold"), FieldKind::OptCount, threshold));
            fields.push(Field::new(
                "zero retention s",
                format!("{p}.scale_to_zero_retention"),
                FieldKind::OptCount,
                opt(s.scale_to_zero_retention_seconds),
            ));
        }
        _ => {
            fields.push(Field::new(
                "cooldown s",
                format!("{p}.cooldown"),
                FieldKind::OptCount,
                opt(s.cooldown_seconds),
            ));
            if provider == ProviderKind::Gcore {
                fields.push(Field::new(
                    "polling s",
                    format!("{p}.polling"),
                    FieldKind::OptCount,
                    opt(s.polling_interval_seconds),
                ));
            }
            let t = &s.triggers;
            let vals = [t.cpu, t.memory, t.gpu_utilization, t.gpu_memory];
            for ((label, name), v) in TRIGGER_FIELDS.iter().zip(vals) {
                fields.push(Field::new(label, format!("{p}.triggers.{name}"), FieldKind::OptCount, opt(v)));
            }
            fields.push(Field::new(
                "http rate",
                format!("{p}.triggers.http.rate"),
                FieldKind::OptCount,
                opt(t.http.map(|h| h.rate)),
            ));
            fields.push(Field::new(
                "http window s",
                format!("{p}.triggers.http.window"),
                FieldKind::OptCount,
                opt(t.http.map(|h| h.window)),
            ));
        }
    }
    Section { title, region_id: Some(region_id.to_string()), slot: None, fields }
}

const KINDS: &[&str] = &["http", "tcp", "exec"];
const KINDS_RUNAI: &[&str] = &["http"];
const SCHEMES: &[&str] = &["HTTP", "HTTPS"];
const ONOFF: &[&str] = &["on", "off"];

fn probe_section(provider: ProviderKind, slot: ProbeSlot, cfg: Option<&ProbeConfig>) -> Section {
    let p = slot.label();
    let probe = cfg.map(|c| c.probe.clone()).unwrap_or_default();
    let enabled = cfg.is_some_and(|c| c.enabled);
    let kind = match probe.kind() {
        Some(crate::model::ProbeKindName::Exec) => "exec",
        Some(crate::model::ProbeKindName::TcpSocket) => "tcp",
        _ => "http",
    };
    let http = probe.http_get.clone();
    let headers = http
        .as_ref()
        .map(|h| h.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))
        .unwrap_or_default();
    let mut fields = vec![
        Field::new(
            "enabled",
            format!("{p}.enabled"),
            FieldKind::Choice(ONOFF),
            if enabled { "on" } else { "off" }.into(),
        ),
        Field::new(
            "kind",
            format!("{p}.kind"),
            FieldKind::Choice(if provider == ProviderKind::Runai { KINDS_RUNAI } else { KINDS }),
            kind.into(),
        ),
        Field::new(
            "http path",
            format!("{p}.http_get.path"),
            FieldKind::Text,
            http.as_ref().map(|h| h.path.clone()).unwrap_or_default(),
        ),
        Field::new(
            "http port",
            format!("{p}.http_get.port"),
            FieldKind::OptCount,
            opt(http.as_ref().map(|h| h.port)),
        ),
        Field::new(
            "http scheme",
            format!("{p}.http_get.scheme"),
            FieldKind::Choice(SCHEMES),
            http.as_ref().map(|h| h.scheme.clone()).unwrap_or_else(|| "HTTP".into()),
        ),
        Field::new(
            "http host",
            format!("{p}.http_get.host"),
            FieldKind::Text,
            http.as_ref().and_then(|h| h.host.clone()).unwrap_or_default(),
        ),
    ];
    if provider != ProviderKind::Runai {
        fields.push(Field::new("http headers", format!("{p}.http_get.headers"), FieldKind::Text, headers));
        fields.push(Field::new(
            "tcp port",
            format!("{p}.tcp_socket.port"),
            FieldKind::OptCount,
            opt(probe.tcp_socket.map(|t| t.port)),
        ));
        fields.push(Field::new(
            "exec command",
            format!("{p}.exec.command"),
            FieldKind::Text,
            probe.exec.as_ref().map(|e| e.command.join(" ")).unwrap_or_default(),
        ));
    }
    fields.extend([
        Field::new(
            "initial delay s",
            format!("{p}.initial_delay_seconds"),
            FieldKind::OptCount,
            opt(probe.initial_delay_seconds),
        ),
        Field::new("period s", format!("{p}.period_seconds"), FieldKind::OptCount, opt(probe.period_seconds)),
        Field::new(
            "timeout s",
            format!("{p}.timeout_seconds"),
            FieldKind::OptCount,
            opt(probe.timeout_seconds),
        ),
        Field::new(
            "success thr",
            format!("{p}.success_threshold"),
            FieldKind::OptCount,
            opt(probe.success_threshold),
        ),
        Field::new(
            "failure thr",
            format!("{p}.failure_threshold"),
            FieldKind::OptCount,
            opt(probe.failure_threshold),
        ),
    ]);
    Section { title: format!("{p} probe"), region_id: None, slot: Some(slot), fields }
}

impl Form {
    pub fn scale(
        d: &Deployment,
        account: usize,
        per_region: bool,
        region_choices: Vec<RegionChoice>,
    ) -> Form {
        let provider = d.key.provider;
        let sections = d
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let title = if provider == ProviderKind::Runai {
                    "autoscaling".to_string()
                } else {
                    r.display_name()
                };
                scale_section(provider, i, &r.region_id, title, &r.scale)
            })
            .collect();
        let mut f = Form {
            kind: FormKind::Scale,
            key: d.key.clone(),
            account,
            provider,
            base: d.clone(),
            sections,
            focus: (0, 1),
            stage: Stage::Edit,
            general_errors: Vec::new(),
            notice: None,
            region_choices,
            per_region,
            source: None,
        };
        f.validate();
        f
    }

    pub fn probes(d: &Deployment, account: usize) -> Form {
        let provider = d.key.provider;
        let probes = d.probes.clone().unwrap_or_default();
        let slots: &[ProbeSlot] =
            if provider == ProviderKind::Runai { &[ProbeSlot::Readiness] } else { &ProbeSlot::ALL };
        let sections = slots.iter().map(|&s| probe_section(provider, s, probes.get(s))).collect();
        let mut f = Form {
            kind: FormKind::Probes,
            key: d.key.clone(),
            account,
            provider,
            base: d.clone(),
            sections,
            focus: (0, 0),
            stage: Stage::Edit,
            general_errors: Vec::new(),
            notice: None,
            region_choices: Vec::new(),
            per_region: false,
            source: None,
        };
        f.validate();
        f
    }

    pub fn focused(&self) -> Option<&Field> {
        self.sections.get(self.focus.0).and_then(|s| s.fields.get(self.focus.1))
    }

    fn focused_mut(&mut self) -> Option<&mut Field> {
        self.sections.get_mut(self.focus.0).and_then(|s| s.fields.get_mut(self.focus.1))
    }

    fn move_focus(&mut self, forward: bool) {
        let flat: Vec<(usize, usize)> = self
            .sections
            .iter()
            .enumerate()
            .flat_map(|(si, s)| (0..s.fields.len()).map(move |fi| (si, fi)))
            .collect();
        if flat.is_empty() {
            return;
        }
        let i = flat.iter().position(|p| *p == self.focus).unwrap_or(0);
        let n = flat.len();
        self.focus = flat[if forward { (i + 1) % n } else { (i + n - 1) % n }];
    }

    /// Regions that can still be added.
    pub fn addable_regions(&self) -> Vec<&RegionChoice> {
        self.region_choices
            .iter()
            .filter(|c| !self.sections.iter().any(|s| s.region_id.as_deref() == Some(c.id.as_str())))
            .collect()
    }

    fn renumber(&mut self) {
        for (i, s) in self.sections.iter_mut().enumerate() {
            for f in &mut s.fields {
                if let Some(rest) = f.path.split_once("].").map(|(_, r)| r.to_string()) {
                    f.path = format!("regions[{i}].{rest}");
                }
            }
        }
    }

    /// Adds the next addable region with min 1, max 1 and the first region's triggers.
    pub fn add_region(&mut self) -> bool {
        if self.kind != FormKind::Scale || !self.per_region {
            return false;
        }
        let Some(choice) = self.addable_regions().first().map(|c| (*c).clone()) else {
            return false;
        };
        let template = self.base.regions.first().map(|r| r.scale.clone()).unwrap_or_default();
        let s = Scale { min: 1, max: 1, ..template };
        let i = self.sections.len();
        let mut sec = scale_section(self.provider, i, &choice.id, choice.name.clone(), &s);
        // A new region: every field counts as changed.
        for f in &mut sec.fields {
            f.initial = String::from("\u{0}");
        }
        self.sections.push(sec);
        self.focus = (i, 1);
        self.validate();
        true
    }

    /// Removes the focused region (at least one stays).
    pub fn remove_region(&mut self) -> bool {
        if self.kind != FormKind::Scale || !self.per_region || self.sections.len() <= 1 {
            return false;
        }
        self.sections.remove(self.focus.0);
        self.focus = (self.focus.0.min(self.sections.len() - 1), 1);
        self.renumber();
        self.validate();
        true
    }

    /// Handles a key while editing. Returns `Some(true)` when the user asks to review (Enter), `Some(false)`
    /// when they leave (Esc).
    pub fn handle_edit_key(&mut self, key: KeyEvent) -> Option<bool> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        self.notice = None;
        match key.code {
            KeyCode::Esc => return Some(false),
            KeyCode::Enter => return Some(true),
            KeyCode::Tab | KeyCode::Down => self.move_focus(true),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(false),
            KeyCode::Char('n') if ctrl => {
                self.add_region();
            }
            KeyCode::Char('d') if ctrl => {
                self.remove_region();
            }
            _ => {
                let field = self.focused_mut()?;
                match field.kind {
                    FieldKind::Choice(options) => {
                        if matches!(key.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) {
                            let i = options.iter().position(|o| *o == field.input.value()).unwrap_or(0);
                            let next = if key.code == KeyCode::Left {
                                (i + options.len() - 1) % options.len()
                            } else {
                                (i + 1) % options.len()
                            };
                            field.input.set(options[next]);
                        }
                    }
                    FieldKind::Count | FieldKind::OptCount => {
                        if let KeyCode::Char(c) = key.code
                            && !c.is_ascii_digit()
                            && !ctrl
                        {
                            self.notice = Some("numbers only");
                            return None;
                        }
                        field.input.handle(key);
                    }
                    FieldKind::Text => {
                        field.input.handle(key);
                    }
                }
                self.validate();
            }
        }
        None
    }

    /// Parses every field and runs the model's validation; sets each field's error. Returns the change when
    /// everything is valid.
    pub fn validate(&mut self) -> Option<Change> {
        for s in &mut self.sections {
            for f in &mut s.fields {
                f.error = None;
            }
        }
        self.general_errors.clear();
        let mut errors: Vec<FieldError> = Vec::new();
        let change = match self.kind {
            FormKind::Scale => self.build_scale(&mut errors).map(Change::Scale),
            FormKind::Probes => {
                self.build_probes(&mut errors).map(|p| Change::Probes(std::sync::Arc::new(p)))
            }
        };
        if let Some(c) = &change {
            errors.extend(match c {
                Change::Scale(u) => validate::scale_update(self.provider, u),
                Change::Probes(p) => validate::probes(self.provider, p),
                Change::Settings(_) => Vec::new(),
            });
        }
        for e in &errors {
            let target =
                self.sections.iter_mut().flat_map(|s| s.fields.iter_mut()).find(|f| f.path == e.field);
            match target {
                Some(f) if f.error.is_none() => f.error = Some(e.message.clone()),
                Some(_) => {}
                None => self.general_errors.push(e.to_string()),
            }
        }
        if errors.is_empty() { change } else { None }
    }

    pub fn error_count(&self) -> usize {
        self.sections.iter().flat_map(|s| &s.fields).filter(|f| f.error.is_some()).count()
            + self.general_errors.len()
    }

    fn num(f: &Field, errors: &mut Vec<FieldError>) -> Option<Option<u32>> {
        let v = f.value();
        if v.is_empty() {
            return match f.kind {
                FieldKind::Count => {
                    errors.push(FieldError { field: f.path.clone(), message: "required".into() });
                    None
                }
                _ => Some(None),
            };
        }
        match v.parse::<u32>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errors.push(FieldError { field: f.path.clone(), message: "a whole number, please".into() });
                None
            }
        }
    }

    fn build_scale(&self, errors: &mut Vec<FieldError>) -> Option<ScaleUpdate> {
        let mut regions = Vec::new();
        let mut ok = true;
        for s in &self.sections {
            let region_id = s.region_id.clone().unwrap_or_default();
            // Start from the region as it was read, so unmodelled settings stay as they are.
            let mut scale = self
                .base
                .regions
                .iter()
                .find(|r| r.region_id == region_id)
                .map(|r| r.scale.clone())
                .or_else(|| self.base.regions.first().map(|r| Scale { min: 1, max: 1, ..r.scale.clone() }))
                .unwrap_or_default();
            let get = |label: &str| s.fields.iter().find(|f| f.label == label);
            let mut http_rate = None;
            let mut http_window = None;
            let mut http_touched = false;
            for f in &s.fields {
                if !f.changed() {
                    continue;
                }
                let parsed = match f.kind {
                    FieldKind::Text => continue,
                    _ => match Self::num(f, errors) {
                        Some(v) => v,
                        None => {
                            ok = false;
                            continue;
                        }
                    },
                };
                match f.label {
                    "min" => scale.min = parsed.unwrap_or(0),
                    "max" => scale.max = parsed.unwrap_or(0),
                    "cooldown s" => scale.cooldown_seconds = parsed,
                    "polling s" => scale.polling_interval_seconds = parsed,
                    "zero retention s" => scale.scale_to_zero_retention_seconds = parsed,
                    "cpu %" => scale.triggers.cpu = parsed,
                    "memory %" => scale.triggers.memory = parsed,
                    "GPU util %" => scale.triggers.gpu_utilization = parsed,
                    "GPU mem %" => scale.triggers.gpu_memory = parsed,
                    "http rate" => {
                        http_rate = parsed;
                        http_touched = true;
                    }
                    "http window s" => {
                        http_window = parsed;
                        http_touched = true;
                    }
                    _ => {}
                }
            }
            if http_touched {
                let rate = if get("http rate").is_some_and(|f| f.changed()) {
                    http_rate
                } else {
                    scale.triggers.http.map(|h| h.rate)
                };
                let window = if get("http window s").is_some_and(|f| f.changed()) {
                    http_window
                } else {
                    scale.triggers.http.map(|h| h.window)
                };
                scale.triggers.http = match (rate, window) {
                    (Some(rate), Some(window)) => Some(HttpTrigger { rate, window }),
                    (None, None) => None,
                    _ => {
                        let p =
                            s.fields[0].path.rsplit_once('.').map(|(a, _)| a.to_string()).unwrap_or_default();
                        errors.push(FieldError {
                            field: format!("{p}.triggers.http.rate"),
                            message: "set both the HTTP rate and window, or neither".into(),
                        });
                        ok = false;
                        None
                    }
                };
            }
            if self.provider == ProviderKind::Runai {
                let metric = get("metric");
                let threshold = get("threshold");
                if metric.is_some_and(|f| f.changed()) || threshold.is_some_and(|f| f.changed()) {
                    let name = metric.map(|f| f.value().to_string()).unwrap_or_default();
                    let th = match threshold.map(|f| Self::num(f, errors)) {
                        Some(Some(v)) => v,
                        Some(None) => {
                            ok = false;
                            None
                        }
                        None => None,
                    };
                    scale.triggers.metric = match (name.is_empty(), th) {
                        (true, None) => None,
                        (false, Some(t)) => Some(MetricTrigger { metric: name, threshold: t as i64 }),
                        (false, None) => {
                            errors.push(FieldError {
                                field: threshold.map(|f| f.path.clone()).unwrap_or_default(),
                                message: "a metric needs a threshold".into(),
                            });
                            ok = false;
                            None
                        }
                        (true, Some(_)) => {
                            errors.push(FieldError {
                                field: metric.map(|f| f.path.clone()).unwrap_or_default(),
                                message: "a threshold needs a metric".into(),
                            });
                            ok = false;
                            None
                        }
                    };
                }
            }
            regions.push(RegionScale { region_id, scale });
        }
        ok.then_some(ScaleUpdate { regions })
    }

    fn build_probes(&self, errors: &mut Vec<FieldError>) -> Option<Probes> {
        let mut probes = self.base.probes.as_deref().cloned().unwrap_or_default();
        let mut ok = true;
        for s in &self.sections {
            let Some(slot) = s.slot else { continue };
            if !s.fields.iter().any(|f| f.changed()) {
                continue;
            }
            let get = |label: &str| s.fields.iter().find(|f| f.label == label);
            let value = |label: &str| get(label).map(|f| f.value().to_string()).unwrap_or_default();
            let mut cfg =
                probes.get(slot).cloned().unwrap_or(ProbeConfig { enabled: false, probe: Probe::default() });
            cfg.enabled = value("enabled") == "on";
            let kind = value("kind");
            let kind_changed = get("kind").is_some_and(|f| f.changed());
            let probe = &mut cfg.probe;
            let mut nums: BTreeMap<&str, Option<u32>> = BTreeMap::new();
            for f in &s.fields {
                if matches!(f.kind, FieldKind::Count | FieldKind::OptCount) {
                    match Self::num(f, errors) {
                        Some(v) => {
                            nums.insert(f.label, v);
                        }
                        None => ok = false,
                    }
                }
            }
            let changed = |label: &str| get(label).is_some_and(|f| f.changed());
            for (label, slot_ref) in [
                ("initial delay s", &mut probe.initial_delay_seconds),
                ("period s", &mut probe.period_seconds),
                ("timeout s", &mut probe.timeout_seconds),
                ("success thr", &mut probe.success_threshold),
                ("failure thr", &mut probe.failure_threshold),
            ] {
                if changed(label) {
                    *slot_ref = nums.get(label).copied().flatten();
                }
            }
            // The chosen handler is built from its fields; when the kind changes, the others are dropped.
            let http_changed = ["http path", "http port", "http scheme", "http host", "http headers"]
                .iter()
                .any(|l| changed(l));
            match kind.as_str() {
                "http" if kind_changed || http_changed || probe.http_get.is_none() => {
                    let headers: BTreeMap<String, String> = value("http headers")
                        .split(';')
                        .filter_map(|kv| kv.split_once(':'))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .filter(|(k, _)| !k.is_empty())
                        .collect();
                    let port = nums.get("http port").copied().flatten();
                    if cfg.enabled && port.is_none() {
                        errors.push(FieldError {
                            field: get("http port").map(|f| f.path.clone()).unwrap_or_default(),
                            message: "port is required".into(),
                        });
                        ok = false;
                    }
                    let host = value("http host");
                    let path = value("http path");
                    probe.http_get = Some(HttpGetAction {
                        path: if path.is_empty() { "/".into() } else { path },
                        port: port.unwrap_or(0),
                        scheme: value("http scheme"),
                        host: if host.is_empty() { None } else { Some(host) },
                        headers,
                    });
                    if kind_changed {
                        probe.tcp_socket = None;
                        probe.exec = None;
                    }
                }
                "tcp" if kind_changed || changed("tcp port") || probe.tcp_socket.is_none() => {
                    let port = nums.get("tcp port").copied().flatten();
                    if cfg.enabled && port.is_none() {
                        errors.push(FieldError {
                            field: get("tcp port").map(|f| f.path.clone()).unwrap_or_default(),
                            message: "port is required".into(),
                        });
                        ok = false;
                    }
                    probe.tcp_socket = Some(TcpSocketAction { port: port.unwrap_or(0) });
                    if kind_changed {
                        probe.http_get = None;
                        probe.exec = None;
                    }
                }
                "exec" if kind_changed || changed("exec command") || probe.exec.is_none() => {
                    let command: Vec<String> =
                        value("exec command").split_whitespace().map(String::from).collect();
                    probe.exec = Some(ExecAction { command });
                    if kind_changed {
                        probe.http_get = None;
                        probe.tcp_socket = None;
                    }
                }
                _ => {}
            }
            *probes.get_mut(slot) = Some(cfg);
        }
        ok.then_some(probes)
    }

    /// The deployment changed under the form: start again from `latest`, keeping every value the user
    /// changed (matched by field path) and taking the latest value of every other field.
    pub fn rebase(&mut self, latest: Deployment) {
        let edited: Vec<(String, String)> = self
            .sections
            .iter()
            .flat_map(|s| s.fields.iter())
            .filter(|f| f.changed())
            .map(|f| (f.path.clone(), f.input.value().to_string()))
            .collect();
        let wanted_regions: Vec<(String, String)> = self
            .sections
            .iter()
            .filter_map(|s| s.region_id.clone().map(|id| (id, s.title.clone())))
            .collect();
        let fresh = match self.kind {
            FormKind::Scale => {
                Form::scale(&latest, self.account, self.per_region, self.region_choices.clone())
            }
            FormKind::Probes => Form::probes(&latest, self.account),
        };
        let focus = self.focus;
        *self = Form { stage: Stage::Edit, source: self.source.take(), ..fresh };
        if self.kind == FormKind::Scale && self.per_region {
            // Keep the user's placement: regions they added stay, regions they removed stay removed.
            self.sections.retain(|s| wanted_regions.iter().any(|(id, _)| s.region_id.as_deref() == Some(id)));
            for (id, title) in &wanted_regions {
                if !self.sections.iter().any(|s| s.region_id.as_deref() == Some(id)) {
                    let template = latest.regions.first().map(|r| r.scale.clone()).unwrap_or_default();
                    let i = self.sections.len();
                    let mut sec = scale_section(
                        self.provider,
                        i,
                        id,
                        title.clone(),
                        &Scale { min: 1, max: 1, ..template },
                    );
                    for f in &mut sec.fields {
                        f.initial = String::from("\u{0}");
                    }
                    self.sections.push(sec);
                }
            }
            self.renumber();
        }
        for s in &mut self.sections {
            for f in &mut s.fields {
                if let Some((_, v)) = edited.iter().find(|(p, _)| *p == f.path) {
                    f.input.set(v.clone());
                }
            }
        }
        self.focus = (focus.0.min(self.sections.len().saturating_sub(1)), focus.1);
        self.validate();
    }

    /// The lines of the diff between the deployment as read and the change: only what changes, old → new.
    pub fn diff(&self, change: &Change) -> Vec<String> {
        let names: Vec<(String, String)> = self
            .sections
            .iter()
            .filter_map(|s| s.region_id.clone().map(|id| (id, s.title.clone())))
            .collect();
        diff_with_names(&self.base, change, &names)
    }
}

fn region_name(d: &Deployment, id: &str, names: &[(String, String)]) -> String {
    d.regions
        .iter()
        .find(|r| r.region_id == id)
        .map(|r| r.display_name())
        .or_else(|| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()))
        .unwrap_or_else(|| format!("region {id}"))
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_else(|| "unset".into())
}

/// What `change` changes relative to `base`, one line per changed value.
pub fn diff_against(base: &Deployment, change: &Change) -> Vec<String> {
    diff_with_names(base, change, &[])
}

fn diff_with_names(base: &Deployment, change: &Change, names: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    match change {
        Change::Scale(u) => {
            for r in &u.regions {
                let name = region_name(base, &r.region_id, names);
                let Some(old) = base.regions.iter().find(|x| x.region_id == r.region_id).map(|x| &x.scale)
                else {
                    out.push(format!("+ {name}: add with min {} max {}", r.scale.min, r.scale.max));
                    continue;
                };
                let new = &r.scale;
                let mut line = |what: &str, a: String, b: String| {
                    if a != b {
                        out.push(format!("  {name} {what}: {a} → {b}"));
                    }
                };
                line("min", old.min.to_string(), new.min.to_string());
                line("max", old.max.to_string(), new.max.to_string());
                line("cooldown", show(&old.cooldown_seconds), show(&new.cooldown_seconds));
                line("polling", show(&old.polling_interval_seconds), show(&new.polling_interval_seconds));
                line(
                    "scale-to-zero retention",
                    show(&old.scale_to_zero_retention_seconds),
                    show(&new.scale_to_zero_retention_seconds),
                );
                line("cpu trigger", show(&old.triggers.cpu), show(&new.triggers.cpu));
                line("memory trigger", show(&old.triggers.memory), show(&new.triggers.memory));
                line(
                    "GPU util trigger",
                    show(&old.triggers.gpu_utilization),
                    show(&new.triggers.gpu_utilization),
                );
                line("GPU memory trigger", show(&old.triggers.gpu_memory), show(&new.triggers.gpu_memory));
                let http = |h: &Option<HttpTrigger>| {
                    h.map(|h| format!("{}/{}s", h.rate, h.window)).unwrap_or("unset".into())
                };
                line("http trigger", http(&old.triggers.http), http(&new.triggers.http));
                let metric = |m: &Option<MetricTrigger>| {
                    m.as_ref().map(|m| format!("{} {}", m.metric, m.threshold)).unwrap_or("unset".into())
                };
                line("metric", metric(&old.triggers.metric), metric(&new.triggers.metric));
            }
            for r in &base.regions {
                if !u.regions.iter().any(|x| x.region_id == r.region_id) {
                    out.push(format!("- {}: remove (now {}/{} ready)", r.display_name(), r.ready, r.total));
                }
            }
        }
        Change::Probes(p) => {
            let old = base.probes.clone().unwrap_or_default();
            for slot in ProbeSlot::ALL {
                let (a, b) = (old.get(slot), p.get(slot));
                if a == b {
                    continue;
                }
                let desc = |c: Option<&ProbeConfig>| match c {
                    None => "none".to_string(),
                    Some(c) if !c.enabled => format!("disabled ({})", c.probe.summary()),
                    Some(c) => c.probe.summary(),
                };
                out.push(format!("  {} probe: {} → {}", slot.label(), desc(a), desc(b)));
                if let (Some(a), Some(b)) = (a, b) {
                    let pa = &a.probe;
                    let pb = &b.probe;
                    for (what, x, y) in [
                        ("initial delay", pa.initial_delay_seconds, pb.initial_delay_seconds),
                        ("period", pa.period_seconds, pb.period_seconds),
                        ("timeout", pa.timeout_seconds, pb.timeout_seconds),
                        ("success threshold", pa.success_threshold, pb.success_threshold),
                        ("failure threshold", pa.failure_threshold, pb.failure_threshold),
                    ] {
                        if x != y {
                            out.push(format!("    {what}: {} → {}", show(&x), show(&y)));
                        }
                    }
                }
            }
        }
        // The editor's settings: its scale and probes sections, reviewed as their forms review them.
        Change::Settings(s) => {
            out.extend(diff_with_names(base, &Change::Scale(s.scale.clone()), names));
            let probes = s.probes.clone().unwrap_or_default();
            if probes != base.probes.as_deref().cloned().unwrap_or_default() {
                out.extend(diff_with_names(base, &Change::Probes(std::sync::Arc::new(probes)), names));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RegionReplicas, Status, Triggers};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn dep() -> Deployment {
        let k = DeploymentKey { provider: ProviderKind::Gcore, account: "a".into(), id: "llama".into() };
        let mut d = Deployment::new(k, "llama", Status::Active);
        let mut other = BTreeMap::new();
        other.insert("sqs".to_string(), serde_json::json!({"queue_url": "q"}));
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
                    triggers: Triggers { cpu: Some(80), other: other.clone(), ..Default::default() },
                },
                error: None,
            });
        }
        d.probes = Some(std::sync::Arc::new(Probes {
            liveness: Some(ProbeConfig {
                enabled: true,
                probe: Probe {
                    exec: Some(ExecAction { command: vec!["ls".into()] }),
                    tcp_socket: Some(TcpSocketAction { port: 80 }),
                    period_seconds: Some(5),
                    ..Default::default()
                },
            }),
            readiness: None,
            startup: None,
        }));
        d
    }

    fn set_field(form: &mut Form, section: usize, label: &str, value: &str) {
        let fi = form.sections[section].fields.iter().position(|f| f.label == label).unwrap();
        form.focus = (section, fi);
        for _ in 0..20 {
            form.handle_edit_key(key(KeyCode::Backspace));
        }
        for c in value.chars() {
            form.handle_edit_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn editing_one_max_changes_only_that_and_keeps_unmodelled_triggers() {
        let d = dep();
        let mut form = Form::scale(&d, 0, true, vec![]);
        set_field(&mut form, 0, "max", "6");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid") };
        assert_eq!(u.regions[0].scale.max, 6);
        let mut expect = ScaleUpdate::from_deployment(&d);
        expect.regions[0].scale.max = 6;
        assert_eq!(u, expect);
        assert!(u.regions[0].scale.triggers.other.contains_key("sqs"));
        assert_eq!(form.diff(&Change::Scale(u)), vec!["  Luxembourg-2 max: 4 → 6".to_string()]);
    }

    #[test]
    fn invalid_values_show_next_to_the_field_and_block_review() {
        let mut form = Form::scale(&dep(), 0, true, vec![]);
        set_field(&mut form, 1, "max", "301");
        assert!(form.validate().is_none());
        let f = form.sections[1].fields.iter().find(|f| f.label == "max").unwrap();
        assert!(f.error.as_deref().unwrap().contains("at most 300"), "{:?}", f.error);
        set_field(&mut form, 1, "cpu %", "0");
        let f = form.sections[1].fields.iter().find(|f| f.label == "cpu %").unwrap();
        assert!(f.error.is_some());
        // Letters never reach a number field.
        set_field(&mut form, 0, "min", "x");
        assert_eq!(form.sections[0].fields[0].input.value(), "");
        assert_eq!(form.sections[0].fields[0].error.as_deref(), Some("required"));
    }

    #[test]
    fn esc_leaves_and_enter_reviews() {
        let mut form = Form::scale(&dep(), 0, true, vec![]);
        assert_eq!(form.handle_edit_key(key(KeyCode::Enter)), Some(true));
        assert_eq!(form.handle_edit_key(key(KeyCode::Esc)), Some(false));
    }

    #[test]
    fn regions_can_be_added_and_removed() {
        let choices = vec![RegionChoice { id: "38".into(), name: "Amsterdam".into(), capacity: Some(2) }];
        let mut form = Form::scale(&dep(), 0, true, choices);
        assert!(form.add_region());
        assert!(!form.add_region(), "no region left to add");
        form.focus = (0, 1);
        assert!(form.remove_region());
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid") };
        let ids: Vec<&str> = u.regions.iter().map(|r| r.region_id.as_str()).collect();
        assert_eq!(ids, ["91", "38"]);
        let diff = form.diff(&Change::Scale(u));
        assert!(diff.iter().any(|l| l.starts_with("+ Amsterdam")));
        assert!(diff.iter().any(|l| l.starts_with("- Luxembourg-2")));
    }

    #[test]
    fn probe_edit_keeps_other_slots_and_handlers() {
        let d = dep();
        let mut form = Form::probes(&d, 0);
        set_field(&mut form, 0, "period s", "9");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid") };
        let live = p.liveness.as_ref().unwrap();
        assert_eq!(live.probe.period_seconds, Some(9));
        // Both handlers Gcore sent are still there: the kind was not touched.
        assert!(live.probe.exec.is_some() && live.probe.tcp_socket.is_some());
        assert_eq!(p.readiness, None);
        assert_eq!(p.startup, None);
    }

    #[test]
    fn switching_probe_kind_needs_a_port() {
        let mut form = Form::probes(&dep(), 0);
        // readiness: enable, http without a port
        let s = 1;
        form.focus = (s, 0);
        form.handle_edit_key(key(KeyCode::Char(' ')));
        assert!(form.validate().is_none());
        set_field(&mut form, s, "http port", "8080");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        let r = p.readiness.clone().unwrap();
        assert!(r.enabled);
        assert_eq!(r.probe.http_get.unwrap().port, 8080);
    }

    #[test]
    fn rebase_keeps_the_users_edits_over_the_latest() {
        let d = dep();
        let mut form = Form::scale(&d, 0, true, vec![]);
        set_field(&mut form, 0, "max", "6");
        let mut latest = d.clone();
        latest.regions[1].scale.max = 9;
        form.rebase(latest);
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid") };
        assert_eq!(u.regions[0].scale.max, 6);
        assert_eq!(u.regions[1].scale.max, 9);
    }

    #[test]
    fn an_added_region_starts_at_one_replica_with_the_first_regions_triggers() {
        let mut d = dep();
        d.regions[0].scale.min = 2;
        let choices = vec![RegionChoice { id: "38".into(), name: "Amsterdam".into(), capacity: Some(2) }];
        let mut form = Form::scale(&d, 0, true, choices);
        assert!(form.add_region());
        let added = form.sections.last().unwrap();
        let value =
            |label: &str| added.fields.iter().find(|f| f.label == label).unwrap().input.value().to_string();
        assert_eq!((value("min"), value("max"), value("cpu %")), ("1".into(), "1".into(), "80".into()));
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        let new = &u.regions.iter().find(|r| r.region_id == "38").unwrap().scale;
        assert_eq!((new.min, new.max, new.triggers.cpu), (1, 1, Some(80)));
    }

    #[test]
    fn a_field_with_two_errors_shows_the_first() {
        let k = DeploymentKey { provider: ProviderKind::Runai, account: "r".into(), id: "w".into() };
        let mut d = Deployment::new(k, "w", Status::Running);
        d.regions.push(RegionReplicas {
            region_id: "c".into(),
            region_name: None,
            ready: 1,
            total: 1,
            scale: Scale { min: 1, max: 1, ..Default::default() },
            error: None,
        });
        let mut form = Form::probes(&d, 0);
        form.focus = (0, 0);
        form.handle_edit_key(key(KeyCode::Char(' ')));
        set_field(&mut form, 0, "http port", "8080");
        set_field(&mut form, 0, "http path", "x");
        assert!(form.validate().is_none());
        let path = form.sections[0].fields.iter().find(|f| f.label == "http path").unwrap();
        assert_eq!(
            path.error.as_deref(),
            Some("path must start with / and hold only letters, digits, - _ . /"),
            "the first of the two messages for this field"
        );
    }

    #[test]
    fn an_http_rate_edit_keeps_the_window_and_a_window_edit_keeps_the_rate() {
        let mut d = dep();
        d.regions[0].scale.triggers.http = Some(HttpTrigger { rate: 50, window: 60 });
        let mut form = Form::scale(&d, 0, true, vec![]);
        set_field(&mut form, 0, "http rate", "70");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid") };
        assert_eq!(u.regions[0].scale.triggers.http, Some(HttpTrigger { rate: 70, window: 60 }));
        let mut form = Form::scale(&d, 0, true, vec![]);
        set_field(&mut form, 0, "http window s", "120");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid") };
        assert_eq!(u.regions[0].scale.triggers.http, Some(HttpTrigger { rate: 50, window: 120 }));
    }

    #[test]
    fn every_scale_field_reaches_the_change() {
        let d = dep();
        type Took = fn(&Scale) -> bool;
        let cases: [(&str, &str, Took); 8] = [
            ("min", "2", |s| s.min == 2),
            ("max", "6", |s| s.max == 6),
            ("cooldown s", "90", |s| s.cooldown_seconds == Some(90)),
            ("polling s", "45", |s| s.polling_interval_seconds == Some(45)),
            ("cpu %", "70", |s| s.triggers.cpu == Some(70)),
            ("memory %", "60", |s| s.triggers.memory == Some(60)),
            ("GPU util %", "50", |s| s.triggers.gpu_utilization == Some(50)),
            ("GPU mem %", "40", |s| s.triggers.gpu_memory == Some(40)),
        ];
        for (label, value, took) in cases {
            let mut form = Form::scale(&d, 0, true, vec![]);
            set_field(&mut form, 0, label, value);
            let Some(Change::Scale(u)) = form.validate() else {
                panic!("{label}: {:?}", form.general_errors)
            };
            assert!(took(&u.regions[0].scale), "{label} {value}: {:?}", u.regions[0].scale);
            assert_eq!(
                u.regions[1],
                ScaleUpdate::from_deployment(&d).regions[1],
                "{label}: the other region"
            );
        }
        // Run:ai: the retention (min 0) and the metric, a text field with its threshold.
        let k = DeploymentKey { provider: ProviderKind::Runai, account: "r".into(), id: "w".into() };
        let mut r = Deployment::new(k, "w", Status::Running);
        r.regions.push(RegionReplicas {
            region_id: "c".into(),
            region_name: None,
            ready: 1,
            total: 1,
            scale: Scale { min: 0, max: 1, ..Default::default() },
            error: None,
        });
        let mut form = Form::scale(&r, 0, false, vec![]);
        set_field(&mut form, 0, "zero retention s", "60");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        assert_eq!(u.regions[0].scale.scale_to_zero_retention_seconds, Some(60));
        let mut form = Form::scale(&r, 0, false, vec![]);
        set_field(&mut form, 0, "max", "3");
        set_field(&mut form, 0, "metric", "concurrency");
        set_field(&mut form, 0, "threshold", "4");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        assert_eq!(
            u.regions[0].scale.triggers.metric,
            Some(MetricTrigger { metric: "concurrency".into(), threshold: 4 })
        );
        // The threshold alone: the metric stays.
        r.regions[0].scale = Scale { min: 1, max: 3, ..u.regions[0].scale.clone() };
        let mut form = Form::scale(&r, 0, false, vec![]);
        set_field(&mut form, 0, "threshold", "9");
        let Some(Change::Scale(u)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        assert_eq!(
            u.regions[0].scale.triggers.metric,
            Some(MetricTrigger { metric: "concurrency".into(), threshold: 9 })
        );
    }

    fn with_liveness(probe: Probe) -> Deployment {
        let mut d = dep();
        std::sync::Arc::make_mut(d.probes.as_mut().unwrap()).liveness =
            Some(ProbeConfig { enabled: true, probe });
        d
    }

    fn http(port: u32, headers: &[(&str, &str)]) -> Probe {
        Probe {
            http_get: Some(HttpGetAction {
                path: String::new(),
                port,
                scheme: "HTTP".into(),
                host: None,
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_untouched_check_is_kept_verbatim() {
        // Values the text fields cannot carry back exactly: an empty path, a header value with "; " and ": ",
        // an exec argument with spaces.
        let mut d = with_liveness(http(8080, &[("X-Route", "a; b: c")]));
        let exec = Probe {
            exec: Some(ExecAction { command: vec!["sh".into(), "-c".into(), "echo a  b".into()] }),
            ..Default::default()
        };
        std::sync::Arc::make_mut(d.probes.as_mut().unwrap()).readiness =
            Some(ProbeConfig { enabled: true, probe: exec });
        let tcp = Probe { tcp_socket: Some(TcpSocketAction { port: 81 }), ..Default::default() };
        std::sync::Arc::make_mut(d.probes.as_mut().unwrap()).startup =
            Some(ProbeConfig { enabled: true, probe: tcp });
        let mut form = Form::probes(&d, 0);
        for s in 0..3 {
            set_field(&mut form, s, "period s", "9");
        }
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        for slot in ProbeSlot::ALL {
            let (was, now) =
                (&d.probes.as_ref().unwrap().get(slot).unwrap().probe, &p.get(slot).unwrap().probe);
            assert_eq!(
                (&now.http_get, &now.tcp_socket, &now.exec),
                (&was.http_get, &was.tcp_socket, &was.exec),
                "{slot:?}"
            );
            assert_eq!(now.period_seconds, Some(9));
        }
    }

    #[test]
    fn an_edited_check_takes_the_new_value_and_keeps_the_rest() {
        let d = with_liveness(http(8080, &[("X-A", "1")]));
        let mut form = Form::probes(&d, 0);
        set_field(&mut form, 0, "http port", "8081");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        let h = p.liveness.clone().unwrap().probe.http_get.unwrap();
        assert_eq!(
            (h.port, h.path.as_str(), h.headers.get("X-A").map(String::as_str)),
            (8081, "/", Some("1"))
        );
        let d = with_liveness(Probe { tcp_socket: Some(TcpSocketAction { port: 80 }), ..Default::default() });
        let mut form = Form::probes(&d, 0);
        set_field(&mut form, 0, "tcp port", "81");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        assert_eq!(p.liveness.clone().unwrap().probe.tcp_socket, Some(TcpSocketAction { port: 81 }));
        let d = with_liveness(Probe {
            exec: Some(ExecAction { command: vec!["ls".into()] }),
            ..Default::default()
        });
        let mut form = Form::probes(&d, 0);
        set_field(&mut form, 0, "exec command", "cat /tmp/ready");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        assert_eq!(p.liveness.clone().unwrap().probe.exec.unwrap().command, ["cat", "/tmp/ready"]);
    }

    #[test]
    fn switching_the_probe_kind_replaces_the_handler() {
        let from_http = with_liveness(http(8080, &[]));
        let from_tcp =
            with_liveness(Probe { tcp_socket: Some(TcpSocketAction { port: 80 }), ..Default::default() });
        for (d, kind, field, value) in [
            (&from_http, "tcp", "tcp port", "9000"),
            (&from_http, "exec", "exec command", "true"),
            (&from_tcp, "http", "http port", "8081"),
        ] {
            let mut form = Form::probes(d, 0);
            let fi = form.sections[0].fields.iter().position(|f| f.label == "kind").unwrap();
            form.focus = (0, fi);
            while form.sections[0].fields[fi].input.value() != kind {
                form.handle_edit_key(key(KeyCode::Char(' ')));
            }
            set_field(&mut form, 0, field, value);
            let Some(Change::Probes(p)) = form.validate() else {
                panic!("{kind}: {:?}", form.general_errors)
            };
            let probe = &p.liveness.as_ref().unwrap().probe;
            let handlers = (probe.http_get.is_some(), probe.tcp_socket.is_some(), probe.exec.is_some());
            let want = match kind {
                "http" => (true, false, false),
                "tcp" => (false, true, false),
                _ => (false, false, true),
            };
            assert_eq!(handlers, want, "{kind}");
            match kind {
                "tcp" => assert_eq!(probe.tcp_socket.unwrap().port, 9000),
                "exec" => assert_eq!(probe.exec.as_ref().unwrap().command, ["true"]),
                _ => assert_eq!(probe.http_get.as_ref().unwrap().port, 8081),
            }
        }
    }

    #[test]
    fn the_probe_review_names_each_changed_value() {
        let d = dep();
        let mut form = Form::probes(&d, 0);
        set_field(&mut form, 0, "period s", "9");
        let change = form.validate().unwrap();
        assert_eq!(
            form.diff(&change),
            ["  liveness probe: tcp :80 every 5s → tcp :80 every 9s", "    period: 5 → 9"]
        );
        let mut form = Form::probes(&d, 0);
        form.focus = (0, 0);
        form.handle_edit_key(key(KeyCode::Char(' ')));
        let change = form.validate().unwrap();
        assert_eq!(form.diff(&change), ["  liveness probe: tcp :80 every 5s → disabled (tcp :80 every 5s)"]);
    }

    #[test]
    fn a_disabled_probe_needs_no_port() {
        let d = with_liveness(http(8080, &[]));
        let mut form = Form::probes(&d, 0);
        form.focus = (0, 0);
        form.handle_edit_key(key(KeyCode::Char(' ')));
        let fi = form.sections[0].fields.iter().position(|f| f.label == "kind").unwrap();
        form.focus = (0, fi);
        form.handle_edit_key(key(KeyCode::Char(' ')));
        assert_eq!(form.sections[0].fields[fi].input.value(), "tcp");
        let Some(Change::Probes(p)) = form.validate() else { panic!("valid: {:?}", form.general_errors) };
        let live = p.liveness.clone().unwrap();
        assert!(!live.enabled);
        assert_eq!(live.probe.tcp_socket, Some(TcpSocketAction { port: 0 }));
    }
}
