//! A deployment's editable settings as one document: what `e` writes to a file for `$EDITOR` (commented
//! TOML, provider-neutral, the provider's limits as comments), reads back, validates and compares. Only the
//! fields the provider's update can change are in the document; the rest are named as read-only.

use super::validate::{self, FieldError};
use super::{
    Deployment, ExecAction, HttpGetAction, HttpTrigger, ImageSource, LoggingConfig, MetricTrigger, Probe,
    ProbeConfig, ProbeSlot, Probes, ProviderKind, RegionScale, Scale, ScaleUpdate, TcpSocketAction, Triggers,
    text::sanitize,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which settings a provider's update can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Editable {
    pub provider: ProviderKind,
    pub image: bool,
    /// Sesterce: the catalog model or registry the instance runs (its details never say which).
    pub source: bool,
    pub port: bool,
    pub command: bool,
    pub description: bool,
    pub envs: bool,
    pub scale: bool,
    pub probes: bool,
    pub logging: bool,
    /// Why each field left out of the document cannot be changed, for its header.
    pub read_only: &'static str,
}

impl Editable {
    /// The fields each provider's update takes. `logging_config`: the account has a logging configuration
    /// (Gcore v3; the legacy v2 API has none).
    pub fn of(provider: ProviderKind, logging_config: bool) -> Editable {
        match provider {
            // v3 PATCH (partial) and v2 PUT (full replace) both take these (gcore.md §6, seed 001).
            ProviderKind::Gcore => Editable {
                provider,
                image: true,
                source: false,
                port: true,
                command: true,
                description: true,
                envs: true,
                scale: true,
                probes: true,
                logging: logging_config,
                read_only: if logging_config {
                    "name, flavor (hardware), address, status"
                } else {
                    "name, flavor (hardware), address, status; logging (the v2 API has no logging settings)"
                },
            },
            // Seed 004 PATCH: modelId, containerPort, description, envs, startupCommand, registryId and the
            // autoscaling configurations; there are no probes or logging in this API.
            ProviderKind::Sesterce => Editable {
                provider,
                image: false,
                source: true,
                port: true,
                command: true,
                description: true,
                envs: true,
                scale: true,
                probes: false,
                logging: false,
                read_only: "name, hardware, address, status, pod lifetime, API keys (Sesterce has no probes \
                            or logging settings)",
            },
            // InferenceUpdateRequest: image, environmentVariables, autoscaling and probes are patchable;
            // servingPort is not, and command/args are two fields the model shows joined.
            ProviderKind::Runai => Editable {
                provider,
                image: true,
                source: false,
                port: false,
                command: false,
                description: false,
                envs: true,
                scale: true,
                probes: true,
                logging: false,
                read_only: "name, project, cluster, compute, port (servingPort is not patchable), command and \
                            arguments, environment variables that reference a secret or config map",
            },
        }
    }
}

/// The editable settings of a deployment, whole. Fields a provider cannot change keep the value read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub image: Option<String>,
    /// Sesterce: switch to this catalog model or registry (None: keep what runs, which the details never say).
    pub source: Option<ImageSource>,
    pub port: Option<u32>,
    pub command: Option<String>,
    pub description: Option<String>,
    /// Plain values only (Run:ai references to secrets and config maps are not part of an edit).
    pub envs: BTreeMap<String, String>,
    pub scale: ScaleUpdate,
    pub probes: Option<Probes>,
    pub logging: Option<LoggingConfig>,
}

/// Whether an env value the model shows is a Run:ai reference (`<secret name/key>`, ...), not a value.
pub fn env_is_reference(provider: ProviderKind, value: &str) -> bool {
    provider == ProviderKind::Runai
        && ["<secret ", "<configMap ", "<userCredential ", "<podField "].iter().any(|p| value.starts_with(p))
        && value.ends_with('>')
}

impl Settings {
    /// The settings as `d` holds them.
    pub fn from_deployment(d: &Deployment) -> Settings {
        let provider = d.key.provider;
        Settings {
            image: d.image.as_deref().map(String::from),
            source: None,
            port: d.port,
            command: d.command.clone(),
            description: d.description.clone(),
            envs: d
                .envs
                .iter()
                .filter(|(_, v)| !env_is_reference(provider, v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            scale: ScaleUpdate::from_deployment(d),
            probes: d.probes.as_deref().cloned(),
            logging: d.logging.clone(),
        }
    }

    /// The settings with env values masked (the audit file's and the review's form).
    pub fn masked(&self) -> Settings {
        let mut s = self.clone();
        for v in s.envs.values_mut() {
            *v = "***".into();
        }
        if let Some(p) = s.probes.as_mut() {
            for slot in ProbeSlot::ALL {
                if let Some(h) = p.get_mut(slot).as_mut().and_then(|c| c.probe.http_get.as_mut()) {
                    for v in h.headers.values_mut() {
                        *v = "***".into();
                    }
                }
            }
        }
        s
    }
}

// ------------------------------------------------------------------------------------------ the document

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    image: Option<String>,
    model: Option<String>,
    registry: Option<String>,
    port: Option<u32>,
    command: Option<String>,
    description: Option<String>,
    envs: Option<BTreeMap<String, String>>,
    regions: Option<Vec<RegionDoc>>,
    probes: Option<ProbesDoc>,
    logging: Option<LoggingDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionDoc {
    id: String,
    min: u32,
    max: u32,
    cooldown: Option<u32>,
    polling: Option<u32>,
    scale_to_zero_retention: Option<u32>,
    cpu: Option<u32>,
    memory: Option<u32>,
    gpu_utilization: Option<u32>,
    gpu_memory: Option<u32>,
    http_rate: Option<u32>,
    http_window: Option<u32>,
    metric: Option<String>,
    metric_threshold: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbesDoc {
    liveness: Option<ProbeDoc>,
    readiness: Option<ProbeDoc>,
    startup: Option<ProbeDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeDoc {
    enabled: bool,
    http_path: Option<String>,
    http_port: Option<u32>,
    http_scheme: Option<String>,
    http_host: Option<String>,
    http_headers: Option<BTreeMap<String, String>>,
    tcp_port: Option<u32>,
    exec: Option<Vec<String>>,
    initial_delay: Option<u32>,
    period: Option<u32>,
    timeout: Option<u32>,
    success_threshold: Option<u32>,
    failure_threshold: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoggingDoc {
    enabled: bool,
    destination_region_id: Option<i64>,
    topic_name: Option<String>,
    retention_days: Option<u32>,
}

/// A TOML string literal (escaped).
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        k.to_string()
    } else {
        q(k)
    }
}

/// Network text inside a comment: control characters made visible, so nothing leaves the comment.
fn c(s: &str) -> String {
    sanitize(s).into_owned()
}

fn opt_line(out: &mut String, name: &str, v: Option<String>, unset_example: &str) {
    match v {
        Some(v) => {
            let _ = writeln!(out, "{name} = {v}");
        }
        None => {
            let _ = writeln!(out, "# {name} = {unset_example}    (unset)");
        }
    }
}

fn num_line(out: &mut String, name: &str, v: Option<u32>, limits: &str) {
    match v {
        Some(v) => {
            let _ = writeln!(out, "{name} = {v}    # {limits}");
        }
        None => {
            let _ = writeln!(out, "# {name} =    (unset; {limits})");
        }
    }
}

/// The first line of an error block (kubectl-style, at the top of a reopened file).
const ERRORS_BEGIN: &str = "# ---- infertop could not use this edit:";
const ERRORS_END: &str = "# ---- fix the lines above, then save again (an empty file cancels).";

/// The document `e` writes: commented TOML of what `ed` can change, starting from `d`.
pub fn render(d: &Deployment, ed: &Editable) -> String {
    render_with(d, ed, None)
}

/// Catalog entries listed in the file, at most (a catalog can be long; the rest is in `C`).
const LISTED: usize = 40;

/// [`render`], listing the models and registries of the account's catalog where the file offers a choice.
pub fn render_with(d: &Deployment, ed: &Editable, catalog: Option<&super::Catalog>) -> String {
    let p = ed.provider;
    let pname = super::edit::provider_name(p);
    let s = Settings::from_deployment(d);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# infertop: the settings of {} ({pname}, account {}, id {}).",
        c(&d.name),
        c(&d.key.account),
        c(&d.key.id)
    );
    o.push_str(
        "# Edit and save: infertop checks the file, then shows the change for review; nothing is sent before\n\
         # you press y. Saving it unchanged or empty cancels. Lines starting with # are comments; a commented\n\
         # `# key =` line is unset: remove the `# ` to set it.\n",
    );
    let _ = writeln!(o, "# Read-only here ({pname}'s update cannot change them): {}.", ed.read_only);
    o.push('\n');
    if ed.image {
        match p {
            ProviderKind::Gcore => o.push_str(
                "# The container image, name:tag: lowercase path segments and an optional tag (no registry\n\
                 # host, no @digest). Changing it rolls the deployment.\n",
            ),
            _ => o.push_str("# The container image. Changing it rolls the workload.\n"),
        }
        opt_line(&mut o, "image", s.image.as_deref().map(q), "\"name:tag\"");
        o.push('\n');
    }
    if ed.source {
        o.push_str(
            "# What the instance runs: a catalog model (model id) or the image of one of your registries\n\
             # (registry id). Sesterce's details do not say which one runs now, so both start unset: set ONE to\n\
             # switch (the instance rolls); leave both unset to keep it. Sesterce does not show it back, so a\n\
             # switch is sent but cannot be verified.\n\
             # model = \"<model id>\"\n\
             # registry = \"<registry id>\"\n",
        );
        match catalog {
            Some(cat) => {
                for m in cat.models.iter().take(LISTED) {
                    let _ = writeln!(o, "#   model = {}    # {}", q(&c(&m.id)), c(&m.name));
                }
                for r in cat.registries.iter().take(LISTED) {
                    let url = r.url.as_deref().map(|u| format!(" ({})", c(u))).unwrap_or_default();
                    let _ = writeln!(o, "#   registry = {}    # {}{url}", q(&c(&r.id)), c(&r.name));
                }
                if cat.models.len() > LISTED || cat.registries.len() > LISTED {
                    o.push_str("#   (more in the catalog: C)\n");
                }
            }
            None => o.push_str("# The catalog (C) lists the models and your registries with their ids.\n"),
        }
        o.push('\n');
    }
    if ed.port {
        let _ = writeln!(
            o,
            "# The port the container listens on ({}..{}).",
            validate::PORT_RANGE.0,
            validate::PORT_RANGE.1
        );
        opt_line(&mut o, "port", s.port.map(|v| v.to_string()), "8080");
        o.push('\n');
    }
    if ed.command {
        o.push_str("# The command line (shell quoting; unset: the image's own).\n");
        opt_line(&mut o, "command", s.command.as_deref().map(q), "\"\"");
        o.push('\n');
    }
    if ed.description {
        o.push_str("# A description.\n");
        opt_line(&mut o, "description", s.description.as_deref().map(q), "\"\"");
        o.push('\n');
    }
    if ed.envs {
        o.push_str("# Environment variables: NAME = \"value\". A name removed here is removed from the deployment.\n");
        if p == ProviderKind::Runai {
            let refs: Vec<String> = d
                .envs
                .iter()
                .filter(|(_, v)| env_is_reference(p, v))
                .map(|(k, v)| format!("{} = {}", c(k), c(v)))
                .collect();
            if !refs.is_empty() {
                let _ = writeln!(o, "# Kept as they are (references, not values): {}", refs.join(", "));
            }
        }
        o.push_str("[envs]\n");
        for (k, v) in &s.envs {
            let _ = writeln!(o, "{} = {}", key(k), q(v));
        }
        o.push('\n');
    }
    if ed.scale {
        match p {
            ProviderKind::Runai => o.push_str(
                "# Autoscaling: one block for the workload (id is its cluster). min >= 0, max >= 1, min <= max;\n\
                 # a metric (concurrency, throughput, latency or a custom one) and its threshold are required when\n\
                 # min < max (except min 0, max 1); scale_to_zero_retention (0..3600 s) only with min 0.\n",
            ),
            ProviderKind::Gcore => {
                let _ = writeln!(
                    o,
                    "# Per region ([[regions]], id is the region id; add or remove a block to place or remove it):\n\
                     # 0 <= min <= max <= {}, max >= 1; cooldown {}..{} s; polling {}..{} s; trigger thresholds {}..{} %;\n\
                     # http_rate {}..{} requests per http_window {}..{} s (set both).",
                    validate::GCORE_SCALE_MAX,
                    validate::COOLDOWN_RANGE.0,
                    validate::COOLDOWN_RANGE.1,
                    validate::POLLING_RANGE.0,
                    validate::POLLING_RANGE.1,
                    validate::THRESHOLD_RANGE.0,
                    validate::THRESHOLD_RANGE.1,
                    validate::HTTP_RATE_RANGE.0,
                    validate::HTTP_RATE_RANGE.1,
                    validate::HTTP_WINDOW_RANGE.0,
                    validate::HTTP_WINDOW_RANGE.1,
                );
            }
            ProviderKind::Sesterce => {
                let _ = writeln!(
                    o,
                    "# Per region ([[regions]], id is the region id; add or remove a block to place or remove it):\n\
                     # 0 <= min <= max <= {}, max >= 1 (min 0 needs the http trigger); cooldown {}..{} s; trigger\n\
                     # thresholds {}..{} %; http_rate {}..{} requests per http_window {}..{} s (set both).",
                    validate::GCORE_SCALE_MAX,
                    validate::COOLDOWN_RANGE.0,
                    validate::COOLDOWN_RANGE.1,
                    validate::THRESHOLD_RANGE.0,
                    validate::THRESHOLD_RANGE.1,
                    validate::HTTP_RATE_RANGE.0,
                    validate::HTTP_RATE_RANGE.1,
                    validate::HTTP_WINDOW_RANGE.0,
                    validate::HTTP_WINDOW_RANGE.1,
                );
            }
        }
        for r in &s.scale.regions {
            let region = d.regions.iter().find(|x| x.region_id == r.region_id);
            o.push_str("[[regions]]\n");
            let name = region.map(|x| x.display_name()).unwrap_or_default();
            let _ = writeln!(o, "id = {}    # {}", q(&r.region_id), c(&name));
            let sc = &r.scale;
            let _ = writeln!(o, "min = {}", sc.min);
            let _ = writeln!(o, "max = {}", sc.max);
            let t = &sc.triggers;
            if p == ProviderKind::Runai {
                num_line(
                    &mut o,
                    "scale_to_zero_retention",
                    sc.scale_to_zero_retention_seconds,
                    "seconds, 0..3600, min 0 only",
                );
                match &t.metric {
                    Some(m) => {
                        let _ = writeln!(o, "metric = {}", q(&m.metric));
                        let _ = writeln!(o, "metric_threshold = {}", m.threshold);
                    }
                    None => {
                        o.push_str("# metric = \"concurrency\"    (unset)\n# metric_threshold =    (unset)\n")
                    }
                }
            } else {
                num_line(&mut o, "cooldown", sc.cooldown_seconds, "seconds");
                if p == ProviderKind::Gcore {
                    num_line(&mut o, "polling", sc.polling_interval_seconds, "seconds");
                }
                num_line(&mut o, "cpu", t.cpu, "% trigger");
                num_line(&mut o, "memory", t.memory, "% trigger");
                num_line(&mut o, "gpu_utilization", t.gpu_utilization, "% trigger");
                num_line(&mut o, "gpu_memory", t.gpu_memory, "% trigger");
                num_line(&mut o, "http_rate", t.http.map(|h| h.rate), "requests per window");
                num_line(&mut o, "http_window", t.http.map(|h| h.window), "seconds");
                if !t.other.is_empty() {
                    let names: Vec<String> = t.other.keys().map(|k| c(k)).collect();
                    let _ = writeln!(o, "# kept as they are: the {} trigger(s)", names.join(", "));
                }
            }
            o.push('\n');
        }
    }
    if ed.probes {
        let probes = s.probes.clone().unwrap_or_default();
        if p == ProviderKind::Runai {
            o.push_str("# The readiness probe (Run:ai has no other, and probes HTTP GET only).\n");
        } else {
            o.push_str(
                "# Probes: [probes.liveness], [probes.readiness], [probes.startup]; a table removed turns the\n\
                 # probe off. One check each: http_path + http_port (+ http_scheme HTTP/HTTPS, http_host,\n\
                 # [..http_headers]), or tcp_port, or exec = [\"cmd\", \"arg\"]. Periods, timeouts and thresholds >= 1.\n",
            );
        }
        for slot in ProbeSlot::ALL {
            if p == ProviderKind::Runai && slot != ProbeSlot::Readiness {
                continue;
            }
            match probes.get(slot) {
                None => {
                    let _ = writeln!(o, "# [probes.{}]    (none)\n# enabled = true\n", slot.label());
                }
                Some(cfg) => {
                    let _ = writeln!(o, "[probes.{}]", slot.label());
                    let _ = writeln!(o, "enabled = {}", cfg.enabled);
                    let pr = &cfg.probe;
                    if let Some(h) = &pr.http_get {
                        let _ = writeln!(o, "http_path = {}", q(&h.path));
                        let _ = writeln!(o, "http_port = {}", h.port);
                        let _ = writeln!(o, "http_scheme = {}", q(&h.scheme));
                        if let Some(host) = &h.host {
                            let _ = writeln!(o, "http_host = {}", q(host));
                        }
                    }
                    if let Some(t) = &pr.tcp_socket {
                        let _ = writeln!(o, "tcp_port = {}", t.port);
                    }
                    if let Some(e) = &pr.exec {
                        let words: Vec<String> = e.command.iter().map(|w| q(w)).collect();
                        let _ = writeln!(o, "exec = [{}]", words.join(", "));
                    }
                    num_line(&mut o, "initial_delay", pr.initial_delay_seconds, "seconds");
                    num_line(&mut o, "period", pr.period_seconds, "seconds");
                    num_line(&mut o, "timeout", pr.timeout_seconds, "seconds");
                    num_line(&mut o, "success_threshold", pr.success_threshold, ">= 1");
                    num_line(&mut o, "failure_threshold", pr.failure_threshold, ">= 1");
                    if let Some(h) = pr.http_get.as_ref().filter(|h| !h.headers.is_empty()) {
                        let _ = writeln!(o, "[probes.{}.http_headers]", slot.label());
                        for (k, v) in &h.headers {
                            let _ = writeln!(o, "{} = {}", key(k), q(v));
                        }
                    }
                    o.push('\n');
                }
            }
        }
    }
    if ed.logging {
        o.push_str(
            "# Logging: enabled, destination_region_id, topic_name (1..223 lowercase letters, digits, - and .),\n\
             # retention_days (1..1825). Removing the table turns logging off.\n",
        );
        match &s.logging {
            None => o.push_str("# [logging]    (none)\n# enabled = true\n"),
            Some(l) => {
                o.push_str("[logging]\n");
                let _ = writeln!(o, "enabled = {}", l.enabled);
                opt_line(
                    &mut o,
                    "destination_region_id",
                    l.destination_region_id.map(|v| v.to_string()),
                    "0",
                );
                opt_line(&mut o, "topic_name", l.topic_name.as_deref().map(q), "\"\"");
                num_line(&mut o, "retention_days", l.retention_days, "days");
            }
        }
    }
    o
}

/// The file with the errors as comments at the top (a block from an earlier try is replaced), keeping
/// everything the user wrote.
pub fn with_errors(text: &str, errors: &[String]) -> String {
    let body = strip_errors(text);
    let mut o = String::new();
    o.push_str(ERRORS_BEGIN);
    o.push('\n');
    for e in errors {
        for line in e.lines() {
            let _ = writeln!(o, "#   {}", c(line));
        }
    }
    o.push_str(ERRORS_END);
    o.push('\n');
    o.push_str(body);
    o
}

/// The text without a leading error block.
pub fn strip_errors(text: &str) -> &str {
    if !text.starts_with(ERRORS_BEGIN) {
        return text;
    }
    match text.find(ERRORS_END) {
        Some(i) => {
            let rest = &text[i + ERRORS_END.len()..];
            rest.strip_prefix('\n').unwrap_or(rest)
        }
        None => text,
    }
}

/// Nothing but blank lines and comments.
pub fn is_empty(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// Reads an edited document into settings, starting from `base` (the deployment it was written from):
/// what the document does not hold keeps the value read. Every mistake is named, with what to do.
pub fn parse(text: &str, base: &Deployment, ed: &Editable) -> Result<Settings, Vec<String>> {
    let doc: Doc =
        toml::from_str(strip_errors(text)).map_err(|e| vec![e.to_string().trim_end().to_string()])?;
    let p = ed.provider;
    let pname = super::edit::provider_name(p);
    let mut out = Settings::from_deployment(base);
    let mut errors: Vec<FieldError> = Vec::new();
    let not_here = |errors: &mut Vec<FieldError>, field: &str| {
        errors.push(err(field, format!("{pname}'s update cannot change {field} here: remove the line")));
    };
    // image
    if ed.image {
        match doc.image.map(|s| s.trim().to_string()) {
            None => errors.push(err("image", "image is required")),
            Some(i) if i.is_empty() => errors.push(err("image", "image must not be empty")),
            Some(i) => {
                if p == ProviderKind::Gcore && !validate::gcore_image_ok(&i) {
                    errors.push(err(
                        "image",
                        "image must be lowercase path segments (a registry host may come first) with an optional :tag, no @digest",
                    ));
                }
                out.image = Some(i);
            }
        }
    } else if doc.image.is_some() {
        not_here(&mut errors, "image");
    }
    // model / registry
    if ed.source {
        match (doc.model, doc.registry) {
            (Some(_), Some(_)) => errors.push(err("model", "set either model or registry, not both")),
            (Some(m), None) if m.trim().is_empty() => errors.push(err("model", "model must be a model id")),
            (None, Some(r)) if r.trim().is_empty() => {
                errors.push(err("registry", "registry must be a registry id"))
            }
            (Some(m), None) => out.source = Some(ImageSource::Model(m.trim().to_string())),
            (None, Some(r)) => out.source = Some(ImageSource::Registry(r.trim().to_string())),
            (None, None) => out.source = None,
        }
    } else {
        if doc.model.is_some() {
            not_here(&mut errors, "model");
        }
        if doc.registry.is_some() {
            not_here(&mut errors, "registry");
        }
    }
    if ed.port {
        match doc.port {
            None => errors.push(err("port", "port is required")),
            Some(v) => {
                if let Err(e) = validate::port("port", v) {
                    errors.push(e);
                }
                out.port = Some(v);
            }
        }
    } else if doc.port.is_some() {
        not_here(&mut errors, "port");
    }
    if ed.command {
        out.command = match doc.command {
            Some(cmd) if cmd.trim().is_empty() => {
                errors.push(err("command", "command must not be blank (comment the line out to unset it)"));
                None
            }
            other => other,
        };
    } else if doc.command.is_some() {
        not_here(&mut errors, "command");
    }
    if ed.description {
        out.description = doc.description;
    } else if doc.description.is_some() {
        not_here(&mut errors, "description");
    }
    if ed.envs {
        let envs = doc.envs.unwrap_or_default();
        for k in envs.keys() {
            // A name as read goes back as read, whatever it holds; a new one must be one word.
            let new = !base.envs.contains_key(k);
            if new && (k.trim().is_empty() || k.contains(char::is_whitespace) || k.contains('=')) {
                errors.push(err("envs", format!("variable name {:?} must be one word without =", c(k))));
            } else if p == ProviderKind::Runai && base.envs.get(k).is_some_and(|v| env_is_reference(p, v)) {
                errors.push(err(
                    format!("envs.{}", c(k)),
                    "this variable references a secret or config map: change it in Run:ai",
                ));
            }
        }
        out.envs = envs;
    } else if doc.envs.is_some() {
        not_here(&mut errors, "envs");
    }
    if ed.scale {
        let regions = doc.regions.unwrap_or_default();
        let mut list = Vec::with_capacity(regions.len());
        for (i, r) in regions.into_iter().enumerate() {
            let at = format!("regions[{i}]");
            let old = base.regions.iter().find(|x| x.region_id == r.id.trim());
            let http = match (r.http_rate, r.http_window) {
                (Some(rate), Some(window)) => Some(HttpTrigger { rate, window }),
                (None, None) => None,
                _ => {
                    errors.push(err(
                        format!("{at}.http_rate"),
                        "set both http_rate and http_window, or neither",
                    ));
                    None
                }
            };
            let metric = match (r.metric, r.metric_threshold) {
                (Some(metric), Some(threshold)) => Some(MetricTrigger { metric, threshold }),
                (None, None) => None,
                _ => {
                    errors.push(err(
                        format!("{at}.metric"),
                        "set both metric and metric_threshold, or neither",
                    ));
                    None
                }
            };
            let wrong = |errors: &mut Vec<FieldError>, field: &str, set: bool| {
                if set {
                    errors.push(err(
                        format!("{at}.{field}"),
                        format!("{pname} has no {field} setting: remove the line"),
                    ));
                }
            };
            match p {
                ProviderKind::Runai => {
                    wrong(&mut errors, "cooldown", r.cooldown.is_some());
                    wrong(&mut errors, "polling", r.polling.is_some());
                    for (f, v) in [
                        ("cpu", r.cpu),
                        ("memory", r.memory),
                        ("gpu_utilization", r.gpu_utilization),
                        ("gpu_memory", r.gpu_memory),
                    ] {
                        wrong(&mut errors, f, v.is_some());
                    }
                    wrong(&mut errors, "http_rate", http.is_some());
                }
                ProviderKind::Sesterce => {
                    wrong(&mut errors, "polling", r.polling.is_some());
                    wrong(&mut errors, "scale_to_zero_retention", r.scale_to_zero_retention.is_some());
                    wrong(&mut errors, "metric", metric.is_some());
                }
                ProviderKind::Gcore => {
                    wrong(&mut errors, "scale_to_zero_retention", r.scale_to_zero_retention.is_some());
                    wrong(&mut errors, "metric", metric.is_some());
                }
            }
            let scale = Scale {
                min: r.min,
                max: r.max,
                cooldown_seconds: r.cooldown,
                polling_interval_seconds: r.polling,
                scale_to_zero_retention_seconds: r.scale_to_zero_retention,
                triggers: Triggers {
                    cpu: r.cpu,
                    memory: r.memory,
                    gpu_utilization: r.gpu_utilization,
                    gpu_memory: r.gpu_memory,
                    http,
                    metric,
                    // Triggers the document does not show travel back as read.
                    other: old.map(|o| o.scale.triggers.other.clone()).unwrap_or_default(),
                },
            };
            list.push(RegionScale { region_id: r.id.trim().to_string(), scale });
        }
        if p == ProviderKind::Runai
            && let ([r], [old]) = (list.as_slice(), base.regions.as_slice())
            && r.region_id != old.region_id
        {
            errors.push(err("regions[0].id", "a Run:ai workload stays in its cluster: keep the id"));
        }
        out.scale = ScaleUpdate { regions: list };
        errors.extend(validate::scale_update(p, &out.scale));
    } else if doc.regions.is_some() {
        not_here(&mut errors, "regions");
    }
    if ed.probes {
        let d = doc.probes;
        let mut probes = Probes::default();
        let (l, r, s) = match d {
            Some(d) => (d.liveness, d.readiness, d.startup),
            None => (None, None, None),
        };
        for (slot, pd) in [(ProbeSlot::Liveness, l), (ProbeSlot::Readiness, r), (ProbeSlot::Startup, s)] {
            let Some(pd) = pd else { continue };
            let at = format!("probes.{}", slot.label());
            let http = match (pd.http_path, pd.http_port) {
                (None, None) => {
                    if pd.http_scheme.is_some() || pd.http_host.is_some() || pd.http_headers.is_some() {
                        errors.push(err(
                            format!("{at}.http_port"),
                            "an HTTP check needs http_path and http_port",
                        ));
                    }
                    None
                }
                (Some(path), Some(port)) => Some(HttpGetAction {
                    path,
                    port,
                    scheme: pd.http_scheme.unwrap_or_else(|| "HTTP".into()),
                    host: pd.http_host,
                    headers: pd.http_headers.unwrap_or_default(),
                }),
                _ => {
                    errors.push(err(
                        format!("{at}.http_port"),
                        "an HTTP check needs both http_path and http_port",
                    ));
                    None
                }
            };
            let probe = Probe {
                exec: pd.exec.map(|command| ExecAction { command }),
                http_get: http,
                tcp_socket: pd.tcp_port.map(|port| TcpSocketAction { port }),
                initial_delay_seconds: pd.initial_delay,
                period_seconds: pd.period,
                timeout_seconds: pd.timeout,
                success_threshold: pd.success_threshold,
                failure_threshold: pd.failure_threshold,
            };
            *probes.get_mut(slot) = Some(ProbeConfig { enabled: pd.enabled, probe });
        }
        errors.extend(validate::probes(p, &probes).into_iter().map(|mut e| {
            e.field = format!("probes.{}", e.field);
            e
        }));
        // No probes read and none written: stays as read (None), so an untouched file is unchanged.
        let empty = probes == Probes::default();
        out.probes = if empty && base.probes.is_none() { None } else { Some(probes) };
    } else if doc.probes.is_some() {
        not_here(&mut errors, "probes");
    }
    if ed.logging {
        out.logging = doc.logging.map(|l| LoggingConfig {
            enabled: l.enabled,
            destination_region_id: l.destination_region_id,
            topic_name: l.topic_name,
            retention_days: l.retention_days,
        });
        if let Some(l) = &out.logging {
            if let Some(t) = &l.topic_name
                && !validate::gcore_topic_ok(t)
            {
                errors.push(err(
                    "logging.topic_name",
                    "topic must be 1 to 223 lowercase letters, digits, dashes and dots",
                ));
            }
            if let Some(d) = l.retention_days
                && !(validate::LOG_RETENTION_RANGE.0..=validate::LOG_RETENTION_RANGE.1).contains(&d)
            {
                errors.push(err(
                    "logging.retention_days",
                    format!("retention must be between 1 and 1825 days (got {d})"),
                ));
            }
        }
        // Removing the table turns logging off; nothing read and nothing written stays as read.
        if out.logging.is_none() && base.logging.as_ref().is_some_and(|l| l.enabled) {
            out.logging = Some(LoggingConfig { enabled: false, ..base.logging.clone().unwrap_or_default() });
        } else if out.logging.is_none() {
            out.logging = base.logging.clone();
        }
    } else if doc.logging.is_some() {
        not_here(&mut errors, "logging");
    }
    if errors.is_empty() { Ok(out) } else { Err(errors.iter().map(|e| e.to_string()).collect()) }
}

/// The review of the deployment-wide fields: one line per field that changes, old → new (the scale and
/// probes sections are reviewed as their forms review them). Env values are shown only with `reveal`.
pub fn diff(base: &Deployment, s: &Settings, reveal: bool) -> Vec<String> {
    let old = Settings::from_deployment(base);
    let mut out = Vec::new();
    let show =
        |v: &Option<String>| v.as_deref().map(|x| format!("{:?}", c(x))).unwrap_or_else(|| "unset".into());
    if old.image != s.image {
        out.push(format!("  image: {} → {}", show(&old.image), show(&s.image)));
    }
    match &s.source {
        Some(ImageSource::Model(m)) => out.push(format!("  model: (not shown by Sesterce) → {}", c(m))),
        Some(ImageSource::Registry(r)) => out.push(format!("  registry: (not shown by Sesterce) → {}", c(r))),
        _ => {}
    }
    if old.port != s.port {
        let p = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "unset".into());
        out.push(format!("  port: {} → {}", p(old.port), p(s.port)));
    }
    if old.command != s.command {
        out.push(format!("  command: {} → {}", show(&old.command), show(&s.command)));
    }
    if old.description != s.description {
        out.push(format!("  description: {} → {}", show(&old.description), show(&s.description)));
    }
    let v = |x: &str| if reveal { format!("{:?}", c(x)) } else { "***".to_string() };
    for (k, a) in &old.envs {
        match s.envs.get(k) {
            None => out.push(format!("- env {}: removed (was {})", c(k), v(a))),
            Some(b) if a != b => out.push(format!("  env {}: {} → {}", c(k), v(a), v(b))),
            _ => {}
        }
    }
    for (k, b) in &s.envs {
        if !old.envs.contains_key(k) {
            out.push(format!("+ env {}: {}", c(k), v(b)));
        }
    }
    if old.logging != s.logging {
        let l = |x: &Option<LoggingConfig>| match x {
            None => "none".to_string(),
            Some(l) => format!(
                "{} topic {} region {} retention {}",
                if l.enabled { "on" } else { "off" },
                l.topic_name.as_deref().map(c).unwrap_or_else(|| "unset".into()),
                l.destination_region_id.map(|v| v.to_string()).unwrap_or_else(|| "unset".into()),
                l.retention_days.map(|v| format!("{v} days")).unwrap_or_else(|| "unset".into()),
            ),
        };
        out.push(format!("  logging: {} → {}", l(&old.logging), l(&s.logging)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentKey, RegionReplicas, Status};

    fn dep(provider: ProviderKind) -> Deployment {
        let k = DeploymentKey { provider, account: "acct".into(), id: "llama".into() };
        let mut d = Deployment::new(k, "llama\n# injected", Status::Active);
        d.image = Some("vllm/vllm:0.6".into());
        d.port = Some(8000);
        d.command = Some("serve --x \"a b\"".into());
        d.envs = BTreeMap::from([("HF_TOKEN".into(), "s3cret".into()), ("weird key".into(), "v\"q".into())]);
        d.regions.push(RegionReplicas {
            region_id: "7".into(),
            region_name: Some("Luxembourg-2".into()),
            ready: 1,
            total: 1,
            scale: Scale {
                min: 1,
                max: 3,
                cooldown_seconds: Some(60),
                polling_interval_seconds: if provider == ProviderKind::Gcore { Some(30) } else { None },
                scale_to_zero_retention_seconds: None,
                triggers: Triggers {
                    cpu: Some(80),
                    other: BTreeMap::from([("sqs".to_string(), serde_json::json!({"q": 1}))]),
                    ..Default::default()
                },
            },
            error: None,
        });
        if provider == ProviderKind::Gcore {
            d.probes = Some(std::sync::Arc::new(Probes {
                readiness: Some(ProbeConfig {
                    enabled: true,
                    probe: Probe {
                        http_get: Some(HttpGetAction {
                            path: "/health".into(),
                            port: 8000,
                            scheme: "HTTP".into(),
                            host: None,
                            headers: BTreeMap::from([("X-T".into(), "tok".into())]),
                        }),
                        period_seconds: Some(10),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }));
            d.logging = Some(LoggingConfig {
                enabled: true,
                destination_region_id: Some(1),
                topic_name: Some("t.a".into()),
                retention_days: Some(7),
            });
        }
        d
    }

    #[test]
    fn an_untouched_document_reads_back_as_the_deployment() {
        for p in ProviderKind::ALL {
            let mut d = dep(p);
            if p == ProviderKind::Runai {
                d.regions[0].scale.cooldown_seconds = None;
                d.regions[0].scale.triggers = Triggers {
                    metric: Some(MetricTrigger { metric: "concurrency".into(), threshold: 3 }),
                    ..Default::default()
                };
                d.envs.insert("DB".into(), "<secret db/password>".into());
            }
            let ed = Editable::of(p, true);
            let text = render(&d, &ed);
            assert!(!text.contains("\n# injected"), "network text stays inside its comment:\n{text}");
            let s = parse(&text, &d, &ed).unwrap_or_else(|e| panic!("{p}: {e:?}\n{text}"));
            assert_eq!(s, Settings::from_deployment(&d), "{p}\n{text}");
            assert!(diff(&d, &s, false).is_empty());
        }
    }

    #[test]
    fn an_edited_image_and_env_show_in_the_review_masked() {
        let d = dep(ProviderKind::Gcore);
        let ed = Editable::of(ProviderKind::Gcore, true);
        let text = render(&d, &ed).replace("vllm/vllm:0.6", "vllm/vllm:0.7").replace("\"s3cret\"", "\"n3w\"");
        let s = parse(&text, &d, &ed).unwrap();
        assert_eq!(s.image.as_deref(), Some("vllm/vllm:0.7"));
        let lines = diff(&d, &s, false);
        assert_eq!(lines, ["  image: \"vllm/vllm:0.6\" → \"vllm/vllm:0.7\"", "  env HF_TOKEN: *** → ***"]);
        assert!(diff(&d, &s, true).iter().any(|l| l.contains("n3w")));
    }

    #[test]
    fn mistakes_are_named_and_the_error_block_is_replaced() {
        let d = dep(ProviderKind::Gcore);
        let ed = Editable::of(ProviderKind::Gcore, true);
        let text = render(&d, &ed).replace("vllm/vllm:0.6", "Bad Image").replace("max = 3", "max = 301");
        let errs = parse(&text, &d, &ed).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("image: "));
        assert!(errs[1].contains("max must be at most 300"));
        let again = with_errors(&text, &errs);
        assert!(again.starts_with(ERRORS_BEGIN) && again.ends_with(&text));
        let twice = with_errors(&again, &["x".into()]);
        assert_eq!(twice.matches(ERRORS_BEGIN).count(), 1);
        assert_eq!(strip_errors(&twice), text);
        // A TOML mistake and a key the document does not have.
        let errs = parse("image = \n", &d, &ed).unwrap_err();
        assert!(errs[0].contains("line 1"), "{errs:?}");
        let errs = parse(&format!("{text}\nflavor = \"x\"\n"), &d, &ed).unwrap_err();
        assert!(errs[0].contains("unknown field"), "{errs:?}");
    }

    #[test]
    fn fields_a_provider_cannot_change_are_refused() {
        let d = dep(ProviderKind::Runai);
        let ed = Editable::of(ProviderKind::Runai, false);
        let text = render(&d, &ed);
        assert!(!text.contains("\nport ="));
        let errs = parse(&format!("port = 1\n{text}"), &d, &ed).unwrap_err();
        assert!(errs.iter().any(|e| e.starts_with("port: ")), "{errs:?}");
        let d = dep(ProviderKind::Sesterce);
        let ed = Editable::of(ProviderKind::Sesterce, false);
        let text = render(&d, &ed);
        let s = parse(&text.replace("# registry = \"<registry id>\"", "registry = \"r1\""), &d, &ed).unwrap();
        assert_eq!(s.source, Some(ImageSource::Registry("r1".into())));
        assert!(is_empty("# only\n\n  # comments\n"));
    }

    #[test]
    fn a_sesterce_file_lists_the_catalog_choices_as_comments() {
        let d = dep(ProviderKind::Sesterce);
        let ed = Editable::of(ProviderKind::Sesterce, false);
        let cat = crate::model::Catalog {
            models: vec![crate::model::ModelInfo {
                id: "m-1".into(),
                name: "llama\n[envs]".into(),
                port: None,
                default_hardware_id: None,
                features: vec![],
            }],
            registries: vec![crate::model::RegistryInfo {
                id: "r-1".into(),
                name: "mine".into(),
                url: Some("docker.io/me/app:1".into()),
                username: None,
            }],
            ..Default::default()
        };
        let text = render_with(&d, &ed, Some(&cat));
        assert!(text.contains("#   model = \"m-1\"    # llama\\n[envs]"), "{text}");
        assert!(text.contains("#   registry = \"r-1\"    # mine (docker.io/me/app:1)"), "{text}");
        // The listing is comments: the file still reads back as the deployment.
        assert_eq!(parse(&text, &d, &ed).unwrap(), Settings::from_deployment(&d));
        assert!(render(&d, &ed).contains("The catalog (C) lists"));
    }
}
