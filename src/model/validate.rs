//! The documented limits a form enforces before anything is sent (see `shared/api/README.md`).
//! Each function names the field and says why, in words a user can act on.

use super::{HttpTrigger, Probe, ProbeConfig, Probes, ProviderKind, Scale, ScaleUpdate, Triggers};
use regex::Regex;
use std::sync::LazyLock;

/// A validation failure for one field. `field` is a dotted path such as `regions[0].scale.max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

pub const GCORE_SCALE_MAX: u32 = 300;
pub const COOLDOWN_RANGE: (u32, u32) = (1, 3600);
pub const POLLING_RANGE: (u32, u32) = (5, 3600);
pub const THRESHOLD_RANGE: (u32, u32) = (1, 100);
pub const HTTP_RATE_RANGE: (u32, u32) = (1, 1000);
pub const HTTP_WINDOW_RANGE: (u32, u32) = (1, 3600);
pub const PORT_RANGE: (u32, u32) = (1, 65535);
pub const RUNAI_RETENTION_RANGE: (u32, u32) = (0, 3600);

static GCORE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("static regex"));
static RUNAI_METRIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$").expect("static regex"));
static RUNAI_PROBE_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(/[a-zA-Z0-9\-_./]*)?$").expect("static regex"));

fn in_range(field: &str, v: u32, (lo, hi): (u32, u32), what: &str) -> Result<(), FieldError> {
    if v < lo || v > hi {
        Err(err(field, format!("{what} must be between {lo} and {hi} (got {v})")))
    } else {
        Ok(())
    }
}

/// Gcore deployment name: 4–30 characters, lowercase letters, digits and inner dashes.
pub fn deployment_name(provider: ProviderKind, name: &str) -> Result<(), FieldError> {
    match provider {
        ProviderKind::Gcore => {
            let n = name.chars().count();
            if !(4..=30).contains(&n) {
                return Err(err("name", format!("name must be 4 to 30 characters (got {n})")));
            }
            if !GCORE_NAME.is_match(name) {
                return Err(err(
                    "name",
                    "name may hold only lowercase letters, digits and dashes, and must start and end with a letter or digit",
                ));
            }
            Ok(())
        }
        ProviderKind::Sesterce | ProviderKind::Runai => {
            if name.trim().is_empty() {
                Err(err("name", "name must not be empty"))
            } else {
                Ok(())
            }
        }
    }
}

pub fn port(field: &str, p: u32) -> Result<(), FieldError> {
    in_range(field, p, PORT_RANGE, "port")
}

/// Validates the triggers of one region (`prefix` is e.g. `regions[0].scale.triggers`).
pub fn triggers(prefix: &str, t: &Triggers) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (name, v) in [
        ("cpu", t.cpu),
        ("memory", t.memory),
        ("gpu_utilization", t.gpu_utilization),
        ("gpu_memory", t.gpu_memory),
    ] {
        if let Some(v) = v
            && let Err(e) = in_range(&format!("{prefix}.{name}"), v, THRESHOLD_RANGE, "threshold (%)")
        {
            out.push(e);
        }
    }
    if let Some(HttpTrigger { rate, window }) = t.http {
        if let Err(e) = in_range(&format!("{prefix}.http.rate"), rate, HTTP_RATE_RANGE, "HTTP rate") {
            out.push(e);
        }
        if let Err(e) =
            in_range(&format!("{prefix}.http.window"), window, HTTP_WINDOW_RANGE, "HTTP window (s)")
        {
            out.push(e);
        }
    }
    out
}

/// Validates one scale block for the given provider.
pub fn scale(provider: ProviderKind, prefix: &str, s: &Scale) -> Vec<FieldError> {
    let mut out = Vec::new();
    match provider {
        ProviderKind::Gcore | ProviderKind::Sesterce => {
            if s.max > GCORE_SCALE_MAX {
                out.push(err(
                    format!("{prefix}.max"),
                    format!("max must be at most {GCORE_SCALE_MAX} (got {})", s.max),
                ));
            }
            if s.max < 1 {
                out.push(err(format!("{prefix}.max"), "max must be at least 1"));
            }
            if s.min > s.max {
                out.push(err(
                    format!("{prefix}.min"),
                    format!("min ({}) must not exceed max ({})", s.min, s.max),
                ));
            }
            if let Some(c) = s.cooldown_seconds
                && let Err(e) = in_range(&format!("{prefix}.cooldown"), c, COOLDOWN_RANGE, "cooldown (s)")
            {
                out.push(e);
            }
            if let Some(p) = s.polling_interval_seconds {
                if provider == ProviderKind::Sesterce {
                    out.push(err(format!("{prefix}.polling"), "Sesterce has no polling interval"));
                } else if let Err(e) =
                    in_range(&format!("{prefix}.polling"), p, POLLING_RANGE, "polling interval (s)")
                {
                    out.push(e);
                }
            }
            if s.min == 0 && s.triggers.http.is_none() && provider == ProviderKind::Sesterce {
                out.push(err(
                    format!("{prefix}.min"),
                    "only the HTTP trigger can scale to and from 0: set an HTTP trigger or min ≥ 1",
                ));
            }
            out.extend(triggers(&format!("{prefix}.triggers"), &s.triggers));
        }
        ProviderKind::Runai => {
            if s.max < 1 {
                out.push(err(format!("{prefix}.max"), "max replicas must be at least 1"));
            }
            if s.min > s.max {
                out.push(err(
                    format!("{prefix}.min"),
                    format!("min ({}) must not exceed max ({})", s.min, s.max),
                ));
            }
            if let Some(r) = s.scale_to_zero_retention_seconds {
                if let Err(e) = in_range(
                    &format!("{prefix}.scale_to_zero_retention"),
                    r,
                    RUNAI_RETENTION_RANGE,
                    "scale-to-zero retention (s)",
                ) {
                    out.push(e);
                } else if s.min != 0 && r != 0 {
                    out.push(err(
                        format!("{prefix}.scale_to_zero_retention"),
                        "scale-to-zero retention applies only when min is 0",
                    ));
                }
            }
            match &s.triggers.metric {
                Some(m) => {
                    if !RUNAI_METRIC.is_match(&m.metric) {
                        out.push(err(
                            format!("{prefix}.metric"),
                            "metric must be a metric name such as concurrency, throughput or latency",
                        ));
                    }
                    if m.threshold < 1 {
                        out.push(err(format!("{prefix}.threshold"), "metric threshold must be at least 1"));
                    }
                    if s.min == 0 && m.metric == "latency" {
                        out.push(err(
                            format!("{prefix}.metric"),
                            "only throughput and concurrency support scale-to-zero",
                        ));
                    }
                }
                None => {
                    if s.min < s.max && !(s.min == 0 && s.max == 1) {
                        out.push(err(
                            format!("{prefix}.metric"),
                            "a metric is required when min < max (except min 0, max 1)",
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Validates a whole scale edit.
pub fn scale_update(provider: ProviderKind, u: &ScaleUpdate) -> Vec<FieldError> {
    let mut out = Vec::new();
    if u.regions.is_empty() {
        out.push(err("regions", "at least one region is required"));
    }
    if provider == ProviderKind::Runai && u.regions.len() > 1 {
        out.push(err("regions", "Run:ai workloads have one autoscaling block"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in u.regions.iter().enumerate() {
        if !seen.insert(r.region_id.as_str()) {
            out.push(err(format!("regions[{i}].region"), format!("region {} appears twice", r.region_id)));
        }
        out.extend(scale(provider, &format!("regions[{i}].scale"), &r.scale));
    }
    out
}

/// Validates one probe.
pub fn probe(provider: ProviderKind, prefix: &str, p: &Probe) -> Vec<FieldError> {
    let mut out = Vec::new();
    let at_least = |out: &mut Vec<FieldError>, name: &str, v: Option<u32>, lo: u32| {
        if let Some(v) = v
            && v < lo
        {
            out.push(err(format!("{prefix}.{name}"), format!("{name} must be at least {lo} (got {v})")));
        }
    };
    at_least(&mut out, "period_seconds", p.period_seconds, 1);
    at_least(&mut out, "timeout_seconds", p.timeout_seconds, 1);
    at_least(&mut out, "success_threshold", p.success_threshold, 1);
    at_least(&mut out, "failure_threshold", p.failure_threshold, 1);
    if p.kind().is_none() {
        out.push(err(format!("{prefix}.kind"), "choose exec, HTTP GET or TCP"));
    }
    if let Some(h) = &p.http_get {
        if let Err(e) = port(&format!("{prefix}.http_get.port"), h.port) {
            out.push(e);
        }
        if h.scheme != "HTTP" && h.scheme != "HTTPS" {
            out.push(err(format!("{prefix}.http_get.scheme"), "scheme must be HTTP or HTTPS"));
        }
        if provider == ProviderKind::Runai && !RUNAI_PROBE_PATH.is_match(&h.path) {
            out.push(err(
                format!("{prefix}.http_get.path"),
                "path must start with / and hold only letters, digits, - _ . /",
            ));
        }
        if !h.path.is_empty() && !h.path.starts_with('/') {
            out.push(err(format!("{prefix}.http_get.path"), "path must start with /"));
        }
    }
    if let Some(t) = &p.tcp_socket
        && let Err(e) = port(&format!("{prefix}.tcp_socket.port"), t.port)
    {
        out.push(e);
    }
    if let Some(e) = &p.exec
        && e.command.iter().all(|c| c.trim().is_empty())
    {
        out.push(err(format!("{prefix}.exec.command"), "exec command must not be empty"));
    }
    if provider == ProviderKind::Runai && (p.exec.is_some() || p.tcp_socket.is_some()) {
        out.push(err(format!("{prefix}.kind"), "Run:ai probes support HTTP GET only"));
    }
    out
}

/// Validates a whole probes edit.
pub fn probes(provider: ProviderKind, ps: &Probes) -> Vec<FieldError> {
    let mut out = Vec::new();
    for slot in super::ProbeSlot::ALL {
        if let Some(ProbeConfig { enabled, probe: p }) = ps.get(slot) {
            if provider == ProviderKind::Runai && slot != super::ProbeSlot::Readiness {
                out.push(err(slot.label(), "Run:ai offers a readiness probe only"));
                continue;
            }
            if *enabled {
                out.extend(probe(provider, slot.label(), p));
            }
        }
    }
    out
}

static GCORE_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$",
    )
    .expect("static regex")
});
/// Whether `image` is what Gcore's image pattern accepts (lowercase path segments, optional tag).
pub fn gcore_image_ok(image: &str) -> bool {
    GCORE_IMAGE.is_match(image)
}

/// Whether `topic` is a Gcore logging topic name (1 to 223 lowercase letters, digits, dashes and dots).
pub fn gcore_topic_ok(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 223 && GCORE_TOPIC.is_match(topic)
}

static GCORE_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])*)*$")
        .expect("static regex")
});
pub const LOG_RETENTION_RANGE: (u32, u32) = (1, 1825);

/// Validates a new deployment against the documented limits of its provider.
pub fn create_spec(spec: &super::CreateSpec) -> Vec<FieldError> {
    use super::ImageSource;
    let provider = spec.provider;
    let mut out = Vec::new();
    if let Err(e) = deployment_name(provider, &spec.name) {
        out.push(e);
    }
    match (provider, &spec.source) {
        (ProviderKind::Gcore, ImageSource::Image { image, .. }) => {
            if image.trim().is_empty() {
                out.push(err("image", "image is required"));
            } else if !GCORE_IMAGE.is_match(image) {
                out.push(err(
                    "image",
                    "image must be lowercase path segments (a registry host may come first) with an optional :tag, no @digest",
                ));
            }
        }
        (ProviderKind::Runai, ImageSource::Image { image, .. }) => {
            if image.trim().is_empty() {
                out.push(err("image", "image is required"));
            }
        }
        (ProviderKind::Sesterce, ImageSource::Model(id) | ImageSource::Registry(id)) => {
            if id.trim().is_empty() {
                out.push(err("model", "choose a catalog model or a registry"));
            }
        }
        (ProviderKind::Sesterce, ImageSource::Image { .. }) => {
            out.push(err("model", "Sesterce deploys a catalog model or the image of one of your registries"))
        }
        (_, _) => out.push(err("image", format!("{provider} deploys an image, not a catalog model"))),
    }
    if let Err(e) = port("port", spec.port) {
        out.push(e);
    }
    match provider {
        ProviderKind::Gcore | ProviderKind::Sesterce => {
            if spec.hardware_id.trim().is_empty() {
                out.push(err("hardware", "choose a hardware option"));
            }
            if spec.gpu_devices.is_some() {
                out.push(err("gpus", "the hardware option sets the GPUs"));
            }
        }
        ProviderKind::Runai => {
            if spec.project_id.as_deref().is_none_or(|p| p.trim().is_empty()) {
                out.push(err("project", "choose a project"));
            }
        }
    }
    for (i, r) in spec.regions.iter().enumerate() {
        if r.region_id.trim().is_empty() {
            let what = if provider == ProviderKind::Runai { "cluster" } else { "region" };
            out.push(err(format!("regions[{i}].region"), format!("choose a {what}")));
        } else if provider != ProviderKind::Runai && r.region_id.trim().parse::<i64>().is_err() {
            out.push(err(format!("regions[{i}].region"), "region ids are numbers"));
        }
    }
    out.extend(scale_update(provider, &ScaleUpdate { regions: spec.regions.clone() }));
    for k in spec.envs.keys() {
        if k.trim().is_empty() || k.contains(char::is_whitespace) {
            out.push(err("envs", format!("variable name {k:?} must be one word")));
        }
    }
    if spec.command.as_deref().is_some_and(|c| c.trim().is_empty()) {
        out.push(err("command", "command must not be blank (leave it unset instead)"));
    }
    if let Some(p) = &spec.probes {
        if provider == ProviderKind::Sesterce {
            out.push(err("probes", "Sesterce has no probes"));
        } else {
            out.extend(probes(provider, p));
        }
    }
    if let Some(l) = &spec.logging {
        if provider != ProviderKind::Gcore {
            out.push(err("logging", format!("{provider} has no logging configuration")));
        } else if l.enabled {
            if let Some(t) = &l.topic_name
                && (t.is_empty() || t.len() > 223 || !GCORE_TOPIC.is_match(t))
            {
                out.push(err(
                    "logging.topic_name",
                    "topic must be 1 to 223 lowercase letters, digits, dashes and dots",
                ));
            }
            if let Some(d) = l.retention_days
                && let Err(e) = in_range("logging.retention_days", d, LOG_RETENTION_RANGE, "retention (days)")
            {
                out.push(e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HttpGetAction, MetricTrigger, RegionScale, TcpSocketAction};

    fn s(min: u32, max: u32) -> Scale {
        Scale { min, max, ..Default::default() }
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn gcore_name_limits() {
        assert!(deployment_name(ProviderKind::Gcore, "llama-3").is_ok());
        assert!(deployment_name(ProviderKind::Gcore, "abc").is_err());
        assert!(deployment_name(ProviderKind::Gcore, &"a".repeat(31)).is_err());
        assert!(deployment_name(ProviderKind::Gcore, &"a".repeat(30)).is_ok());
        assert!(deployment_name(ProviderKind::Gcore, "Llama").is_err());
        assert!(deployment_name(ProviderKind::Gcore, "-abcd").is_err());
        assert!(deployment_name(ProviderKind::Gcore, "abcd-").is_err());
        assert!(deployment_name(ProviderKind::Sesterce, "").is_err());
    }

    #[test]
    fn port_limits() {
        assert!(port("port", 0).is_err());
        assert!(port("port", 1).is_ok());
        assert!(port("port", 65535).is_ok());
        assert!(port("port", 65536).is_err());
    }

    #[test]
    fn gcore_scale_limits() {
        let g = ProviderKind::Gcore;
        assert!(scale(g, "s", &s(0, 300)).is_empty());
        assert_eq!(fields(&scale(g, "s", &s(0, 301))), ["s.max"]);
        assert_eq!(fields(&scale(g, "s", &s(4, 3))), ["s.min"]);
        let mut c = s(1, 2);
        c.cooldown_seconds = Some(0);
        assert_eq!(fields(&scale(g, "s", &c)), ["s.cooldown"]);
        c.cooldown_seconds = Some(3600);
        assert!(scale(g, "s", &c).is_empty());
        c.cooldown_seconds = Some(3601);
        assert_eq!(fields(&scale(g, "s", &c)), ["s.cooldown"]);
        let mut p = s(1, 2);
        p.polling_interval_seconds = Some(4);
        assert_eq!(fields(&scale(g, "s", &p)), ["s.polling"]);
        p.polling_interval_seconds = Some(5);
        assert!(scale(g, "s", &p).is_empty());
        p.polling_interval_seconds = Some(3601);
        assert_eq!(fields(&scale(g, "s", &p)), ["s.polling"]);
    }

    #[test]
    fn trigger_limits() {
        let mut t =
            Triggers { cpu: Some(0), memory: Some(101), gpu_utilization: Some(100), ..Default::default() };
        assert_eq!(fields(&triggers("t", &t)), ["t.cpu", "t.memory"]);
        t = Triggers { http: Some(HttpTrigger { rate: 0, window: 3601 }), ..Default::default() };
        assert_eq!(fields(&triggers("t", &t)), ["t.http.rate", "t.http.window"]);
        t = Triggers {
            http: Some(HttpTrigger { rate: 1000, window: 3600 }),
            gpu_memory: Some(1),
            ..Default::default()
        };
        assert!(triggers("t", &t).is_empty());
        t.http = Some(HttpTrigger { rate: 1001, window: 1 });
        assert_eq!(fields(&triggers("t", &t)), ["t.http.rate"]);
    }

    #[test]
    fn sesterce_scale_to_zero_needs_http_trigger() {
        let e = scale(ProviderKind::Sesterce, "s", &s(0, 2));
        assert_eq!(fields(&e), ["s.min"]);
        let mut ok = s(0, 2);
        ok.triggers.http = Some(HttpTrigger { rate: 5, window: 60 });
        assert!(scale(ProviderKind::Sesterce, "s", &ok).is_empty());
    }

    #[test]
    fn runai_autoscaling_rules() {
        let r = ProviderKind::Runai;
        assert_eq!(fields(&scale(r, "a", &s(1, 3))), ["a.metric"]);
        assert!(scale(r, "a", &s(0, 1)).is_empty());
        assert!(scale(r, "a", &s(2, 2)).is_empty());
        assert_eq!(fields(&scale(r, "a", &s(0, 0))), ["a.max"]);
        let mut m = s(1, 3);
        m.triggers.metric = Some(MetricTrigger { metric: "concurrency".into(), threshold: 2 });
        assert!(scale(r, "a", &m).is_empty());
        m.triggers.metric = Some(MetricTrigger { metric: "bad metric".into(), threshold: 0 });
        assert_eq!(fields(&scale(r, "a", &m)), ["a.metric", "a.threshold"]);
        let mut z = s(1, 1);
        z.scale_to_zero_retention_seconds = Some(60);
        assert_eq!(fields(&scale(r, "a", &z)), ["a.scale_to_zero_retention"]);
        z.min = 0;
        z.scale_to_zero_retention_seconds = Some(3601);
        assert_eq!(fields(&scale(r, "a", &z)), ["a.scale_to_zero_retention"]);
    }

    #[test]
    fn scale_update_rejects_duplicate_and_empty_regions() {
        let u = ScaleUpdate { regions: vec![] };
        assert_eq!(fields(&scale_update(ProviderKind::Gcore, &u)), ["regions"]);
        let r = RegionScale { region_id: "7".into(), scale: s(1, 2) };
        let u = ScaleUpdate { regions: vec![r.clone(), r] };
        assert_eq!(fields(&scale_update(ProviderKind::Gcore, &u)), ["regions[1].region"]);
    }

    #[test]
    fn probe_limits() {
        let mut p = Probe {
            tcp_socket: Some(TcpSocketAction { port: 0 }),
            period_seconds: Some(0),
            timeout_seconds: Some(0),
            success_threshold: Some(0),
            failure_threshold: Some(0),
            initial_delay_seconds: Some(0),
            ..Default::default()
        };
        assert_eq!(
            fields(&probe(ProviderKind::Gcore, "p", &p)),
            [
                "p.period_seconds",
                "p.timeout_seconds",
                "p.success_threshold",
                "p.failure_threshold",
                "p.tcp_socket.port"
            ]
        );
        p = Probe {
            http_get: Some(HttpGetAction {
                path: "/health z".into(),
                port: 8080,
                scheme: "FTP".into(),
                host: None,
                headers: Default::default(),
            }),
            ..Default::default()
        };
        assert_eq!(fields(&probe(ProviderKind::Runai, "p", &p)), ["p.http_get.scheme", "p.http_get.path"]);
        assert_eq!(fields(&probe(ProviderKind::Gcore, "p", &Probe::default())), ["p.kind"]);
    }
}
