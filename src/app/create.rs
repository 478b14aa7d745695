//! The create form: provider account, name, image or catalog model, port, hardware, regions with min/max and
//! triggers, envs, command, a readiness probe and (Gcore) logging. Choices come from the account's catalog;
//! every key re-validates against `model::validate::create_spec`, so errors show next to the field as the
//! user types. Enter reviews (with the price), `y` creates; a refusal comes back here with the input kept.

use super::input::LineInput;
use crate::model::validate::{self, FieldError};
use crate::model::{
    Catalog, CreateSpec, HttpGetAction, HttpTrigger, ImageSource, LoggingConfig, MetricTrigger, Probe,
    ProbeConfig, Probes, ProviderKind, RegionScale, Scale, Triggers,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CKind {
    Text,
    /// A required whole number.
    Count,
    /// A whole number; empty means unset.
    OptCount,
    /// One of the given `(value, label)` options; Space and ←/→ cycle.
    Pick(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CField {
    pub label: &'static str,
    /// The validation path this field answers to (`name`, `regions[0].scale.max`, ...).
    pub path: String,
    /// The section the field is drawn under.
    pub group: String,
    pub input: LineInput,
    pub kind: CKind,
    pub error: Option<String>,
}

impl CField {
    fn new(label: &'static str, path: impl Into<String>, group: &str, kind: CKind, value: &str) -> CField {
        CField {
            label,
            path: path.into(),
            group: group.to_string(),
            input: LineInput::new(value),
            kind,
            error: None,
        }
    }

    pub fn value(&self) -> &str {
        self.input.value().trim()
    }

    /// What to show: the option's label for a pick, else the text.
    pub fn shown(&self) -> String {
        match &self.kind {
            CKind::Pick(opts) if opts.is_empty() => "(none available)".into(),
            CKind::Pick(opts) => opts
                .iter()
                .find(|(v, _)| v == self.input.value())
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| self.input.value().to_string()),
            _ => self.input.value().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CStage {
    Edit,
    /// What will be created, waiting for `y` (the price is read from the shared cache).
    Review(Vec<String>),
    Creating,
    /// The provider refused; the input is kept.
    Failed(String),
}

/// An account the form can create on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChoice {
    pub index: usize,
    pub name: String,
    pub kind: ProviderKind,
}

/// Values to start from (from the catalog view's selection, or the form before a rebuild).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefill {
    pub model: Option<String>,
    pub hardware: Option<String>,
    pub region: Option<String>,
    pub project: Option<String>,
    pub registry: Option<String>,
}

/// What a key did, beyond editing a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Review,
    Cancel,
    /// Another account was picked: the form must be rebuilt on its catalog.
    AccountChanged,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateForm {
    pub account: usize,
    pub provider: ProviderKind,
    pub accounts: Vec<AccountChoice>,
    pub fields: Vec<CField>,
    pub focus: usize,
    pub stage: CStage,
    /// Errors that belong to no single field.
    pub general_errors: Vec<String>,
    /// Number of region sections (Run:ai: 1, the cluster).
    pub regions: usize,
    /// The spec as last validated, when valid.
    pub spec: Option<CreateSpec>,
    /// The catalog had arrived when the form was last built.
    pub has_catalog: bool,
}

const ONOFF: [&str; 2] = ["off", "on"];

fn pick(opts: Vec<(String, String)>) -> CKind {
    CKind::Pick(opts)
}

fn hardware_label(h: &crate::model::HardwareInfo) -> String {
    let mut s = h.name.clone();
    if let Some(m) = &h.gpu_model {
        s.push_str(&format!(" · {}×{m}", h.gpu_count.unwrap_or(1)));
        if let Some(g) = h.gpu_memory_gib {
            s.push_str(&format!(" {g:.0}GiB"));
        }
    }
    s
}

impl CreateForm {
    /// A fresh form on `account`, with choices from `catalog` (None while it loads).
    pub fn new(
        accounts: Vec<AccountChoice>,
        account: usize,
        catalog: Option<&Catalog>,
        prefill: &Prefill,
    ) -> CreateForm {
        let provider =
            accounts.iter().find(|a| a.index == account).map(|a| a.kind).unwrap_or(ProviderKind::Gcore);
        let empty = Catalog::default();
        let c = catalog.unwrap_or(&empty);
        let mut f = Vec::new();
        let g = "deployment";
        let acct_opts =
            accounts.iter().map(|a| (a.index.to_string(), format!("{} ({})", a.name, a.kind))).collect();
        f.push(CField::new("account", "account", g, pick(acct_opts), &account.to_string()));
        f.push(CField::new("name", "name", g, CKind::Text, ""));
        let first_or = |want: &Option<String>, opts: &[(String, String)]| -> String {
            want.clone()
                .filter(|w| opts.iter().any(|(v, _)| v == w))
                .or_else(|| opts.first().map(|(v, _)| v.clone()))
                .unwrap_or_default()
        };
        let hw_opts: Vec<(String, String)> =
            c.hardware.iter().map(|h| (h.id.clone(), hardware_label(h))).collect();
        let registries: Vec<(String, String)> = c
            .registries
            .iter()
            .map(|r| {
                (r.id.clone(), format!("{} {}", r.name, r.url.clone().unwrap_or_default()).trim().to_string())
            })
            .collect();
        let mut port = "80".to_string();
        let mut hardware_default = prefill.hardware.clone();
        match provider {
            ProviderKind::Gcore => {
                f.push(CField::new("image", "image", g, CKind::Text, ""));
                let mut opts = vec![(String::new(), "none (public image)".to_string())];
                opts.extend(registries);
                let v = prefill.registry.clone().unwrap_or_default();
                f.push(CField::new("registry cred.", "credentials", g, pick(opts), &v));
            }
            ProviderKind::Sesterce => {
                let mut opts = vec![(String::new(), "none (image of a registry)".to_string())];
                opts.extend(c.models.iter().map(|m| (m.id.clone(), m.name.clone())));
                let model = prefill.model.clone().filter(|m| c.models.iter().any(|x| &x.id == m));
                if let Some(m) = model.as_ref().and_then(|m| c.models.iter().find(|x| &x.id == m)) {
                    if let Some(p) = m.port {
                        port = p.to_string();
                    }
                    if hardware_default.is_none() {
                        hardware_default = m.default_hardware_id.clone();
                    }
                } else {
                    port = "8000".into();
                }
                f.push(CField::new("model", "model", g, pick(opts), model.as_deref().unwrap_or("")));
                let mut ropts = vec![(String::new(), "none (catalog model)".to_string())];
                ropts.extend(registries);
                let v = if model.is_some() {
                    String::new()
                } else {
                    prefill.registry.clone().unwrap_or_default()
                };
                f.push(CField::new("registry", "registry", g, pick(ropts), &v));
            }
            ProviderKind::Runai => {
                port = "8000".into();
                if c.projects.is_empty() {
                    f.push(CField::new(
                        "project id",
                        "project",
                        g,
                        CKind::Text,
                        prefill.project.as_deref().unwrap_or(""),
                    ));
                } else {
                    let opts: Vec<(String, String)> = c
                        .projects
                        .iter()
                        .map(|p| (p.id.clone(), format!("{} (id {})", p.name, p.id)))
                        .collect();
                    let v = first_or(&prefill.project, &opts);
                    f.push(CField::new("project", "project", g, pick(opts), &v));
                }
                f.push(CField::new("image", "image", g, CKind::Text, ""));
            }
        }
        f.push(CField::new("port", "port", g, CKind::Count, &port));
        match provider {
            ProviderKind::Runai => f.push(CField::new("GPUs / replica", "gpus", g, CKind::OptCount, "1")),
            _ => {
                let v = first_or(&hardware_default, &hw_opts);
                let label = if provider == ProviderKind::Gcore { "flavor" } else { "hardware" };
                f.push(CField::new(label, "hardware", g, pick(hw_opts), &v));
            }
        }
        let mut form = CreateForm {
            account,
            provider,
            accounts,
            fields: f,
            focus: 1,
            stage: CStage::Edit,
            general_errors: Vec::new(),
            regions: 0,
            spec: None,
            has_catalog: catalog.is_some(),
        };
        form.push_region(c, prefill.region.clone());
        let tail = "options";
        let mut t = vec![
            CField::new("envs", "envs", tail, CKind::Text, ""),
            CField::new("command", "command", tail, CKind::Text, ""),
        ];
        if provider != ProviderKind::Sesterce {
            t.push(CField::new("readiness path", "readiness.http_get.path", tail, CKind::Text, ""));
            t.push(CField::new("readiness port", "readiness.http_get.port", tail, CKind::OptCount, ""));
        }
        if provider == ProviderKind::Gcore {
            let onoff = ONOFF.iter().map(|s| (s.to_string(), s.to_string())).collect();
            t.push(CField::new("logging", "logging.enabled", tail, pick(onoff), "off"));
            t.push(CField::new("log topic", "logging.topic_name", tail, CKind::Text, ""));
            let mut opts = vec![(String::new(), "default".to_string())];
            opts.extend(c.regions.iter().map(|r| (r.id.clone(), r.name.clone())));
            t.push(CField::new("log region", "logging.destination_region", tail, pick(opts), ""));
            t.push(CField::new("retention days", "logging.retention_days", tail, CKind::OptCount, ""));
        }
        form.fields.extend(t);
        form.revalidate(catalog);
        form
    }

    /// The same form on another account or with a newly loaded catalog: every value that still fits is kept.
    pub fn rebuild(&mut self, catalog: Option<&Catalog>) {
        let values: Vec<(String, String)> =
            self.fields.iter().map(|f| (f.path.clone(), f.input.value().to_string())).collect();
        let get =
            |p: &str| values.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        let prefill = Prefill {
            model: get("model"),
            hardware: get("hardware"),
            region: get("regions[0].region"),
            project: get("project"),
            registry: get("credentials").or_else(|| get("registry")),
        };
        let regions = self.regions;
        let focus_path = self.fields.get(self.focus).map(|f| f.path.clone());
        let mut fresh = CreateForm::new(self.accounts.clone(), self.account, catalog, &prefill);
        if fresh.provider != ProviderKind::Runai {
            let c = Catalog::default();
            while fresh.regions < regions {
                fresh.push_region(catalog.unwrap_or(&c), None);
            }
        }
        for f in &mut fresh.fields {
            let Some((_, v)) = values.iter().find(|(k, _)| *k == f.path) else { continue };
            let fits = match &f.kind {
                CKind::Pick(opts) => opts.iter().any(|(o, _)| o == v),
                _ => true,
            };
            if fits && f.path != "account" {
                f.input.set(v.clone());
            }
        }
        if let Some(p) = focus_path
            && let Some(i) = fresh.fields.iter().position(|f| f.path == p)
        {
            fresh.focus = i;
        }
        fresh.stage = std::mem::replace(&mut self.stage, CStage::Edit);
        *self = fresh;
        self.revalidate(catalog);
    }

    fn region_options(&self, c: &Catalog) -> Vec<(String, String)> {
        let hw = self.value("hardware").to_string();
        c.regions
            .iter()
            .map(|r| {
                let label = match (self.provider, c.capacity(r, &hw)) {
                    (ProviderKind::Runai, _) => r.name.clone(),
                    (_, Some(n)) => format!("{} · {n} free", r.name),
                    (_, None) => format!("{} · capacity unknown", r.name),
                };
                (r.id.clone(), label)
            })
            .collect()
    }

    /// Adds a region section after the last one (before the options).
    fn push_region(&mut self, c: &Catalog, want: Option<String>) {
        let i = self.regions;
        let group = if self.provider == ProviderKind::Runai {
            "cluster".to_string()
        } else {
            format!("region {}", i + 1)
        };
        let opts = self.region_options(c);
        let hw = self.value("hardware").to_string();
        let taken: Vec<String> =
            (0..i).map(|j| self.value(&format!("regions[{j}].region")).to_string()).collect();
        let v = want
            .filter(|w| opts.iter().any(|(o, _)| o == w))
            .or_else(|| {
                c.regions
                    .iter()
                    .filter(|r| !taken.contains(&r.id))
                    .find(|r| c.capacity(r, &hw).is_some_and(|n| n > 0))
                    .map(|r| r.id.clone())
            })
            .or_else(|| opts.iter().find(|(o, _)| !taken.contains(o)).map(|(o, _)| o.clone()))
            .unwrap_or_default();
        let p = format!("regions[{i}].scale");
        let label = if self.provider == ProviderKind::Runai { "cluster" } else { "region" };
        let mut sec = vec![
            CField::new(label, format!("regions[{i}].region"), &group, pick(opts), &v),
            CField::new("min", format!("{p}.min"), &group, CKind::Count, "1"),
            CField::new("max", format!("{p}.max"), &group, CKind::Count, "1"),
        ];
        match self.provider {
            ProviderKind::Runai => {
                sec.push(CField::new("metric", format!("{p}.metric"), &group, CKind::Text, ""));
                sec.push(CField::new("threshold", format!("{p}.threshold"), &group, CKind::OptCount, ""));
            }
            _ => {
                sec.push(CField::new("cpu %", format!("{p}.triggers.cpu"), &group, CKind::OptCount, "80"));
                sec.push(CField::new(
                    "GPU util %",
                    format!("{p}.triggers.gpu_utilization"),
                    &group,
                    CKind::OptCount,
                    "",
                ));
                sec.push(CField::new(
                    "http rate",
                    format!("{p}.triggers.http.rate"),
                    &group,
                    CKind::OptCount,
                    "",
                ));
                sec.push(CField::new(
                    "http window s",
                    format!("{p}.triggers.http.window"),
                    &group,
                    CKind::OptCount,
                    "",
                ));
            }
        }
        let at = self.fields.iter().position(|f| f.group == "options").unwrap_or(self.fields.len());
        self.fields.splice(at..at, sec);
        self.regions += 1;
        if i > 0 {
            self.focus = at;
        }
    }

    /// Removes the region section the focus is in (one stays).
    fn remove_region(&mut self) -> bool {
        if self.provider == ProviderKind::Runai || self.regions <= 1 {
            return false;
        }
        let Some(i) = self.fields.get(self.focus).and_then(|f| region_index(&f.path)) else { return false };
        self.fields.retain(|f| region_index(&f.path) != Some(i));
        // Renumber the sections after it.
        for f in &mut self.fields {
            if let Some(j) = region_index(&f.path)
                && j > i
            {
                f.path = f.path.replacen(&format!("regions[{j}]"), &format!("regions[{}]", j - 1), 1);
                f.group = format!("region {j}");
            }
        }
        self.regions -= 1;
        self.focus = self.focus.min(self.fields.len() - 1);
        true
    }

    pub fn field(&self, path: &str) -> Option<&CField> {
        self.fields.iter().find(|f| f.path == path)
    }

    fn field_mut(&mut self, path: &str) -> Option<&mut CField> {
        self.fields.iter_mut().find(|f| f.path == path)
    }

    pub fn value(&self, path: &str) -> &str {
        self.field(path).map(|f| f.value()).unwrap_or("")
    }

    pub fn focused(&self) -> Option<&CField> {
        self.fields.get(self.focus)
    }

    /// Handles a key while editing; `catalog` gives the choices' details (model ports, capacity labels).
    pub fn handle_edit_key(&mut self, key: KeyEvent, catalog: Option<&Catalog>) -> Option<Outcome> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = self.fields.len();
        match key.code {
            KeyCode::Esc => return Some(Outcome::Cancel),
            KeyCode::Enter => return Some(Outcome::Review),
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            KeyCode::Char('n') if ctrl => {
                if self.provider != ProviderKind::Runai {
                    let c = Catalog::default();
                    self.push_region(catalog.unwrap_or(&c), None);
                }
            }
            KeyCode::Char('d') if ctrl => {
                self.remove_region();
            }
            _ => {
                let field = self.fields.get_mut(self.focus)?;
                let path = field.path.clone();
                let before = field.input.value().to_string();
                match &field.kind {
                    CKind::Pick(opts) => {
                        if opts.is_empty()
                            || !matches!(key.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right)
                        {
                            return None;
                        }
                        let i = opts.iter().position(|(v, _)| v == field.input.value()).unwrap_or(0);
                        let next = if key.code == KeyCode::Left {
                            (i + opts.len() - 1) % opts.len()
                        } else {
                            (i + 1) % opts.len()
                        };
                        let v = opts[next].0.clone();
                        field.input.set(v);
                    }
                    CKind::Count | CKind::OptCount => {
                        if let KeyCode::Char(c) = key.code
                            && !c.is_ascii_digit()
                            && !ctrl
                        {
                            return None;
                        }
                        field.input.handle(key);
                    }
                    CKind::Text => {
                        field.input.handle(key);
                    }
                }
                let after = field.input.value().to_string();
                if after != before {
                    if path == "account" {
                        self.account = after.parse().unwrap_or(self.account);
                        return Some(Outcome::AccountChanged);
                    }
                    self.on_changed(&path, &after, catalog);
                }
            }
        }
        self.revalidate(catalog);
        None
    }

    /// Choices that follow from another: a model brings its port and default hardware; a model and a
    /// registry exclude each other.
    fn on_changed(&mut self, path: &str, value: &str, catalog: Option<&Catalog>) {
        match path {
            "model" if !value.is_empty() => {
                if let Some(f) = self.field_mut("registry") {
                    f.input.set("");
                }
                let m = catalog.and_then(|c| c.models.iter().find(|m| m.id == value)).cloned();
                if let Some(m) = m {
                    if let Some(p) = m.port
                        && let Some(f) = self.field_mut("port")
                    {
                        f.input.set(p.to_string());
                    }
                    if let Some(h) = m.default_hardware_id
                        && let Some(f) = self.field_mut("hardware")
                        && matches!(&f.kind, CKind::Pick(o) if o.iter().any(|(v, _)| *v == h))
                    {
                        f.input.set(h);
                    }
                }
            }
            "registry" if !value.is_empty() => {
                if let Some(f) = self.field_mut("model") {
                    f.input.set("");
                }
            }
            _ => {}
        }
    }

    /// Refreshes the capacity labels, parses every field and validates; sets each field's error. Keeps the
    /// spec when everything is valid.
    pub fn revalidate(&mut self, catalog: Option<&Catalog>) -> Option<CreateSpec> {
        if let Some(c) = catalog {
            let opts = self.region_options(c);
            for f in &mut self.fields {
                if f.path.ends_with("].region") {
                    f.kind = CKind::Pick(opts.clone());
                }
            }
        }
        for f in &mut self.fields {
            f.error = None;
        }
        self.general_errors.clear();
        let mut errors = Vec::new();
        let spec = self.build(&mut errors);
        if let Some(s) = &spec {
            errors.extend(validate::create_spec(s));
        }
        for e in &errors {
            match self
                .fields
                .iter_mut()
                .find(|f| f.path == e.field || e.field.starts_with(&format!("{}.", f.path)))
            {
                Some(f) if f.error.is_none() => f.error = Some(e.message.clone()),
                Some(_) => {}
                None => self.general_errors.push(e.to_string()),
            }
        }
        self.spec = if errors.is_empty() { spec } else { None };
        self.spec.clone()
    }

    pub fn error_count(&self) -> usize {
        self.fields.iter().filter(|f| f.error.is_some()).count() + self.general_errors.len()
    }

    fn num(&self, path: &str, errors: &mut Vec<FieldError>) -> Option<Option<u32>> {
        let f = self.field(path)?;
        let v = f.value();
        if v.is_empty() {
            if f.kind == CKind::Count {
                errors.push(FieldError { field: path.into(), message: "required".into() });
                return None;
            }
            return Some(None);
        }
        match v.parse::<u32>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errors.push(FieldError { field: path.into(), message: "a whole number, please".into() });
                None
            }
        }
    }

    /// The spec the fields describe (before the model's validation), or None with parse errors.
    fn build(&self, errors: &mut Vec<FieldError>) -> Option<CreateSpec> {
        // A field that does not parse has pushed its error; it counts as unset here.
        let num = |path: &str, errors: &mut Vec<FieldError>| self.num(path, errors).flatten();
        let source = match self.provider {
            ProviderKind::Sesterce => {
                let (m, r) = (self.value("model"), self.value("registry"));
                if !m.is_empty() { ImageSource::Model(m.into()) } else { ImageSource::Registry(r.into()) }
            }
            _ => ImageSource::Image {
                image: self.value("image").into(),
                credentials: Some(self.value("credentials").to_string()).filter(|c| !c.is_empty()),
            },
        };
        let port = num("port", errors).unwrap_or(0);
        let gpu_devices = if self.provider == ProviderKind::Runai { num("gpus", errors) } else { None };
        let mut regions = Vec::new();
        for i in 0..self.regions {
            let p = format!("regions[{i}].scale");
            let min = num(&format!("{p}.min"), errors).unwrap_or(0);
            let max = num(&format!("{p}.max"), errors).unwrap_or(0);
            let mut scale = Scale { min, max, ..Default::default() };
            if self.provider == ProviderKind::Runai {
                let metric = self.value(&format!("{p}.metric")).to_string();
                let threshold = num(&format!("{p}.threshold"), errors);
                scale.triggers.metric = match (metric.is_empty(), threshold) {
                    (true, None) => None,
                    (false, Some(t)) => Some(MetricTrigger { metric, threshold: t as i64 }),
                    (false, None) => {
                        errors.push(FieldError {
                            field: format!("{p}.threshold"),
                            message: "a metric needs a threshold".into(),
                        });
                        None
                    }
                    (true, Some(_)) => {
                        errors.push(FieldError {
                            field: format!("{p}.metric"),
                            message: "a threshold needs a metric".into(),
                        });
                        None
                    }
                };
            } else {
                let cpu = num(&format!("{p}.triggers.cpu"), errors);
                let gpu = num(&format!("{p}.triggers.gpu_utilization"), errors);
                let rate = num(&format!("{p}.triggers.http.rate"), errors);
                let window = num(&format!("{p}.triggers.http.window"), errors);
                let http = match (rate, window) {
                    (Some(rate), Some(window)) => Some(HttpTrigger { rate, window }),
                    (None, None) => None,
                    _ => {
                        errors.push(FieldError {
                            field: format!("{p}.triggers.http.rate"),
                            message: "set both the HTTP rate and window, or neither".into(),
                        });
                        None
                    }
                };
                scale.triggers = Triggers { cpu, gpu_utilization: gpu, http, ..Default::default() };
            }
            regions
                .push(RegionScale { region_id: self.value(&format!("regions[{i}].region")).into(), scale });
        }
        let mut envs = BTreeMap::new();
        for part in self.value("envs").split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((k, v)) => {
                    envs.insert(k.trim().to_string(), v.trim().to_string());
                }
                None => errors
                    .push(FieldError { field: "envs".into(), message: "write KEY=value; KEY2=value".into() }),
            }
        }
        let command = Some(self.value("command").to_string()).filter(|c| !c.is_empty());
        // Gcore takes the command as a list: one line with shell quoting (`nginx -g "daemon off;"`).
        if self.provider == ProviderKind::Gcore
            && let Some(c) = &command
            && let Err(message) = crate::provider::gcore::create::split_command(c)
        {
            errors.push(FieldError { field: "command".into(), message });
        }
        let probe_path = self.value("readiness.http_get.path").to_string();
        let probe_port = num("readiness.http_get.port", errors);
        let probes = (!probe_path.is_empty() || probe_port.is_some()).then(|| Probes {
            readiness: Some(ProbeConfig {
                enabled: true,
                probe: Probe {
                    http_get: Some(HttpGetAction {
                        path: if probe_path.is_empty() { "/".into() } else { probe_path.clone() },
                        port: probe_port.unwrap_or(port),
                        scheme: "HTTP".into(),
                        host: None,
                        headers: BTreeMap::new(),
                    }),
                    ..Default::default()
                },
            }),
            ..Default::default()
        });
        let logging = if self.provider == ProviderKind::Gcore && self.value("logging.enabled") == "on" {
            let topic = self.value("logging.topic_name").to_string();
            Some(LoggingConfig {
                enabled: true,
                destination_region_id: self.value("logging.destination_region").parse().ok(),
                topic_name: Some(topic).filter(|t| !t.is_empty()),
                retention_days: num("logging.retention_days", errors),
            })
        } else {
            None
        };
        let project_id = (self.provider == ProviderKind::Runai).then(|| self.value("project").to_string());
        let spec = CreateSpec {
            provider: self.provider,
            name: self.value("name").into(),
            source,
            port,
            hardware_id: self.value("hardware").into(),
            gpu_devices,
            project_id,
            regions,
            envs,
            command,
            probes,
            logging,
        };
        errors.is_empty().then_some(spec)
    }

    /// What will be created, one line per choice, with names from the catalog. Env values are not shown.
    pub fn review(&self, spec: &CreateSpec, catalog: Option<&Catalog>) -> Vec<String> {
        let acct =
            self.accounts.iter().find(|a| a.index == self.account).map(|a| a.name.as_str()).unwrap_or("?");
        let mut out = vec![format!("+ {} on {acct} ({})", spec.name, spec.provider)];
        let src = match &spec.source {
            ImageSource::Image { image, credentials: Some(c) } => format!("image {image} (pulled with {c})"),
            ImageSource::Image { image, credentials: None } => format!("image {image}"),
            ImageSource::Model(m) => format!(
                "model {}",
                catalog
                    .and_then(|c| c.models.iter().find(|x| &x.id == m))
                    .map(|x| x.name.as_str())
                    .unwrap_or(m)
            ),
            ImageSource::Registry(r) => format!(
                "image of registry {}",
                self.field("registry").map(|f| f.shown()).unwrap_or_else(|| r.clone())
            ),
        };
        out.push(format!("  {src}, port {}", spec.port));
        if let Some(project) = &spec.project_id {
            out.push(format!("  project {project}"));
        }
        if let Some(g) = spec.gpu_devices {
            out.push(format!("  {g} GPU(s) per replica"));
        }
        if !spec.hardware_id.is_empty() {
            out.push(format!("  hardware {}", self.field("hardware").map(|f| f.shown()).unwrap_or_default()));
        }
        for r in &spec.regions {
            let region = catalog.and_then(|c| c.regions.iter().find(|x| x.id == r.region_id));
            let name = region.map(|x| x.name.clone()).unwrap_or_else(|| r.region_id.clone());
            let free = match (catalog, region) {
                (Some(c), Some(x)) if spec.provider != ProviderKind::Runai => {
                    c.capacity(x, &spec.hardware_id).map(|n| format!(" ({n} free now)")).unwrap_or_default()
                }
                _ => String::new(),
            };
            let t = r.scale.triggers.summary();
            out.push(format!("  + {name}: min {} max {} · triggers {t}{free}", r.scale.min, r.scale.max));
        }
        if !spec.envs.is_empty() {
            out.push(format!(
                "  envs {} (values not shown)",
                spec.envs.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if let Some(c) = &spec.command {
            out.push(format!("  command {c}"));
        }
        if let Some(p) = spec.probes.as_ref().and_then(|p| p.readiness.as_ref()) {
            out.push(format!("  readiness probe {}", p.probe.summary()));
        }
        if let Some(l) = &spec.logging {
            out.push(format!(
                "  logging on{}{}",
                l.topic_name.as_ref().map(|t| format!(", topic {t}")).unwrap_or_default(),
                l.retention_days.map(|d| format!(", {d} days")).unwrap_or_default()
            ));
        }
        out
    }

    /// Puts the provider's field messages next to the fields they name, where the name is recognisable.
    pub fn apply_refusal(&mut self, fields: &[(String, String)]) {
        for (field, msg) in fields {
            let f = field.as_str();
            let path = if f.contains("name") && !f.contains("flavor") && !f.contains("credentials") {
                "name"
            } else if f.contains("image") {
                "image"
            } else if f.contains("port") && !f.contains("probe") {
                "port"
            } else if f.contains("flavor") || f.contains("hardware") {
                "hardware"
            } else if f.contains("model") {
                "model"
            } else if f.contains("registry") || f.contains("credentials") {
                if self.provider == ProviderKind::Gcore { "credentials" } else { "registry" }
            } else if f.contains("project") {
                "project"
            } else {
                ""
            };
            match self.fields.iter_mut().find(|x| x.path == path) {
                Some(x) => x.error = Some(format!("{}: {msg}", crate::model::text::sanitize(field))),
                None => self.general_errors.push(format!("{field}: {msg}")),
            }
        }
    }
}

/// `regions[3].scale.max` -> 3.
fn region_index(path: &str) -> Option<usize> {
    path.strip_prefix("regions[")?.split(']').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HardwareInfo, ModelInfo, RegionInfo};

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn catalog() -> Catalog {
        Catalog {
            hardware: vec![
                HardwareInfo {
                    id: "hw-a".into(),
                    name: "1xL40S".into(),
                    gpu_model: Some("L40S".into()),
                    gpu_count: Some(1),
                    gpu_memory_gib: Some(48.0),
                    cpu: None,
                    memory_gib: None,
                },
                HardwareInfo {
                    id: "hw-b".into(),
                    name: "1xH100".into(),
                    gpu_model: Some("H100".into()),
                    gpu_count: Some(1),
                    gpu_memory_gib: Some(80.0),
                    cpu: None,
                    memory_gib: None,
                },
            ],
            regions: vec![
                RegionInfo {
                    id: "7".into(),
                    name: "Lux".into(),
                    state: None,
                    capacity: [("hw-b".to_string(), 0)].into(),
                },
                RegionInfo {
                    id: "9".into(),
                    name: "Paris".into(),
                    state: None,
                    capacity: [("hw-b".to_string(), 4)].into(),
                },
            ],
            models: vec![ModelInfo {
                id: "m1".into(),
                name: "llama".into(),
                port: Some(9000),
                default_hardware_id: Some("hw-b".into()),
                features: vec![],
            }],
            ..Default::default()
        }
    }

    fn accounts() -> Vec<AccountChoice> {
        vec![
            AccountChoice { index: 0, name: "g".into(), kind: ProviderKind::Gcore },
            AccountChoice { index: 1, name: "s".into(), kind: ProviderKind::Sesterce },
        ]
    }

    fn type_into(f: &mut CreateForm, path: &str, s: &str, c: &Catalog) {
        f.focus = f.fields.iter().position(|x| x.path == path).unwrap();
        for _ in 0..40 {
            f.handle_edit_key(k(KeyCode::Backspace), Some(c));
        }
        for ch in s.chars() {
            f.handle_edit_key(k(KeyCode::Char(ch)), Some(c));
        }
    }

    #[test]
    fn gcore_form_validates_as_the_user_types_and_builds_the_spec() {
        let c = catalog();
        let mut f = CreateForm::new(
            accounts(),
            0,
            Some(&c),
            &Prefill { hardware: Some("hw-b".into()), ..Default::default() },
        );
        // The region with free capacity for the hardware is chosen.
        assert_eq!(f.value("regions[0].region"), "9");
        assert!(f.field("regions[0].region").unwrap().shown().contains("4 free"));
        assert!(f.spec.is_none());
        assert_eq!(f.field("name").unwrap().error.as_deref().map(|e| e.contains("4 to 30")), Some(true));
        type_into(&mut f, "name", "Bad", &c);
        assert!(f.field("name").unwrap().error.is_some());
        type_into(&mut f, "name", "my-llm", &c);
        type_into(&mut f, "image", "vllm/vllm-openai:latest", &c);
        type_into(&mut f, "regions[0].scale.max", "301", &c);
        assert!(f.field("regions[0].scale.max").unwrap().error.as_deref().unwrap().contains("300"));
        type_into(&mut f, "regions[0].scale.max", "3", &c);
        type_into(&mut f, "envs", "A=1; B = two", &c);
        // The command is one line with shell quoting; an open quote is the user's to fix.
        type_into(&mut f, "command", r#"nginx -g "daemon off;"#, &c);
        assert!(f.field("command").unwrap().error.as_deref().unwrap().contains("quote"));
        type_into(&mut f, "command", r#"nginx -g "daemon off;""#, &c);
        assert_eq!(f.field("command").unwrap().error, None);
        let spec = f.spec.clone().expect("valid");
        assert_eq!(spec.command.as_deref(), Some(r#"nginx -g "daemon off;""#));
        assert_eq!(spec.regions[0].scale.max, 3);
        assert_eq!(spec.envs.get("B").map(String::as_str), Some("two"));
        assert_eq!(spec.hardware_id, "hw-b");
        // Ctrl-N adds a second region, the other one.
        f.handle_edit_key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL), Some(&c));
        assert_eq!(f.regions, 2);
        assert_eq!(f.value("regions[1].region"), "7");
        f.handle_edit_key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL), Some(&c));
        assert_eq!(f.regions, 1);
        assert!(f.review(&spec, Some(&c)).iter().any(|l| l.contains("Paris")));
    }

    #[test]
    fn sesterce_model_brings_its_port_and_hardware_and_rebuild_keeps_values() {
        let c = catalog();
        let mut f = CreateForm::new(accounts(), 1, Some(&c), &Prefill::default());
        type_into(&mut f, "name", "chat", &c);
        f.focus = f.fields.iter().position(|x| x.path == "model").unwrap();
        f.handle_edit_key(k(KeyCode::Char(' ')), Some(&c));
        assert_eq!(f.value("model"), "m1");
        assert_eq!(f.value("port"), "9000");
        assert_eq!(f.value("hardware"), "hw-b");
        assert!(
            f.spec.is_some(),
            "{:?} {:?}",
            f.general_errors,
            f.fields.iter().filter_map(|x| x.error.clone()).collect::<Vec<_>>()
        );
        f.rebuild(Some(&c));
        assert_eq!((f.value("name"), f.value("model")), ("chat", "m1"));
        // Switching the account to Gcore keeps the name and asks for an image.
        f.focus = 0;
        assert_eq!(f.handle_edit_key(k(KeyCode::Left), Some(&c)), Some(Outcome::AccountChanged));
        f.rebuild(Some(&c));
        assert_eq!(f.provider, ProviderKind::Gcore);
        assert_eq!(f.value("name"), "chat");
        assert!(f.field("image").unwrap().error.is_some());
    }
}
