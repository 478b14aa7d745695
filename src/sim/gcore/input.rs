//! Request validation with the documented limits, in the shape the Cloud API reports it: a map of dotted
//! field paths to pydantic-style messages (`invalid_fields`), plus the parsing of the pieces of a body into
//! the simulator's normalised (output-shaped) JSON.

use regex::Regex;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub const NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
pub const IMAGE_PATTERN: &str = r"^(?:(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$";
pub const TOPIC_PATTERN: &str = r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])*)*$";

static NAME_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(NAME_PATTERN).expect("static regex"));
static IMAGE_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(IMAGE_PATTERN).expect("static regex"));
static TOPIC_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(TOPIC_PATTERN).expect("static regex"));
static SCHEMA_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(HTTP|HTTPS)$").expect("static regex"));

/// Accumulated validation errors.
#[derive(Debug, Default)]
pub struct Check {
    pub errors: BTreeMap<String, Vec<String>>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

impl Check {
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.entry(field.to_string()).or_default().push(msg.into());
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message of the 400 body: `Validation Error: {'field': ['msg']}`.
    pub fn message(&self) -> String {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(k, v)| {
                let msgs: Vec<String> = v.iter().map(|m| format!("'{}'", m.replace('\'', "\\'"))).collect();
                format!("'{k}': [{}]", msgs.join(", "))
            })
            .collect();
        format!("Validation Error: {{{}}}", parts.join(", "))
    }

    pub fn int(&mut self, v: &Value, field: &str, min: Option<i64>, max: Option<i64>) -> Option<i64> {
        let Some(n) = v.as_i64() else {
            self.add(field, "Input should be a valid integer");
            return None;
        };
        if let Some(lo) = min
            && n < lo
        {
            self.add(field, format!("Input should be greater than or equal to {lo}"));
            return None;
        }
        if let Some(hi) = max
            && n > hi
        {
            self.add(field, format!("Input should be less than or equal to {hi}"));
            return None;
        }
        Some(n)
    }

    /// An optional, nullable integer: absent -> `Absent`, null -> `Null`.
    pub fn opt_int(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        prefix: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Field<i64> {
        match obj.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => match self.int(v, &join(prefix, key), min, max) {
                Some(n) => Field::Set(n),
                None => Field::Invalid,
            },
        }
    }

    pub fn string(&mut self, v: &Value, field: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.add(field, "Input should be a valid string");
                None
            }
        }
    }

    pub fn boolean(&mut self, v: &Value, field: &str) -> Option<bool> {
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.add(field, "Input should be a valid boolean");
                None
            }
        }
    }

    pub fn object<'a>(&mut self, v: &'a Value, field: &str) -> Option<&'a Map<String, Value>> {
        match v.as_object() {
            Some(o) => Some(o),
            None => {
                self.add(field, "Input should be a valid dictionary");
                None
            }
        }
    }

    pub fn required<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        prefix: &str,
    ) -> Option<&'a Value> {
        match obj.get(key) {
            Some(v) => Some(v),
            None => {
                self.add(&join(prefix, key), "Field required");
                None
            }
        }
    }

    pub fn strings(&mut self, v: &Value, field: &str) -> Option<Vec<String>> {
        let Some(a) = v.as_array() else {
            self.add(field, "Input should be a valid list");
            return None;
        };
        let mut out = Vec::with_capacity(a.len());
        for (i, item) in a.iter().enumerate() {
            out.push(self.string(item, &format!("{field}.{i}"))?);
        }
        Some(out)
    }

    pub fn string_map(&mut self, v: &Value, field: &str) -> Option<BTreeMap<String, String>> {
        let o = self.object(v, field)?;
        let mut out = BTreeMap::new();
        for (k, v) in o {
            out.insert(k.clone(), self.string(v, &format!("{field}.{k}"))?);
        }
        Some(out)
    }

    pub fn name(&mut self, v: &Value, field: &str) -> Option<String> {
        let s = self.string(v, field)?;
        let n = s.chars().count();
        if n < 4 {
            self.add(field, "String should have at least 4 characters");
            return None;
        }
        if n > 30 {
            self.add(field, "String should have at most 30 characters");
            return None;
        }
        if !NAME_RE.is_match(&s) {
            self.add(field, format!("String should match pattern '{NAME_PATTERN}'"));
            return None;
        }
        Some(s)
    }

    pub fn image(&mut self, v: &Value, field: &str) -> Option<String> {
        let s = self.string(v, field)?;
        if !IMAGE_RE.is_match(&s) {
            self.add(field, format!("String should match pattern '{IMAGE_PATTERN}'"));
            return None;
        }
        Some(s)
    }

    pub fn port(&mut self, v: &Value, field: &str) -> Option<i64> {
        self.int(v, field, Some(1), Some(65535))
    }
}

/// A field of a partial body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<T> {
    Absent,
    Null,
    Set(T),
    Invalid,
}

impl<T> Field<T> {
    /// Absent means the default; null stays null.
    pub fn or_default(self, default: Option<T>) -> Option<T> {
        match self {
            Field::Absent | Field::Invalid => default,
            Field::Null => None,
            Field::Set(v) => Some(v),
        }
    }
}

/// The triggers of create (absent keys are null), in output shape (all six keys).
pub fn triggers(c: &mut Check, v: &Value, field: &str) -> Option<Value> {
    let o = c.object(v, field)?;
    let mut out = Map::new();
    for key in ["cpu", "memory", "gpu_utilization", "gpu_memory"] {
        let f = join(field, key);
        let val = match o.get(key) {
            None | Some(Value::Null) => Value::Null,
            Some(t) => match c.object(t, &f).and_then(|t| c.required(t, "threshold", &f).cloned()) {
                Some(th) => match c.int(&th, &join(&f, "threshold"), Some(1), Some(100)) {
                    Some(n) => json!({ "threshold": n }),
                    None => Value::Null,
                },
                None => Value::Null,
            },
        };
        out.insert(key.into(), val);
    }
    let f = join(field, "http");
    let http = match o.get("http") {
        None | Some(Value::Null) => Value::Null,
        Some(h) => match c.object(h, &f) {
            Some(h) => {
                let rate = c.required(h, "rate", &f).cloned();
                let window = c.required(h, "window", &f).cloned();
                let rate = rate.and_then(|r| c.int(&r, &join(&f, "rate"), Some(1), Some(1000)));
                let window = window.and_then(|w| c.int(&w, &join(&f, "window"), Some(1), Some(3600)));
                match (rate, window) {
                    (Some(r), Some(w)) => json!({ "rate": r, "window": w }),
                    _ => Value::Null,
                }
            }
            None => Value::Null,
        },
    };
    out.insert("http".into(), http);
    let f = join(field, "sqs");
    let sqs = match o.get("sqs") {
        None | Some(Value::Null) => Value::Null,
        Some(s) => sqs(c, s, &f).unwrap_or(Value::Null),
    };
    out.insert("sqs".into(), sqs);
    for k in o.keys() {
        if !out.contains_key(k) {
            c.add(&join(field, k), "Extra inputs are not permitted");
        }
    }
    Some(Value::Object(out))
}

fn sqs(c: &mut Check, v: &Value, f: &str) -> Option<Value> {
    let o = c.object(v, f)?;
    let mut out = Map::new();
    for key in ["queue_url", "aws_region", "secret_name"] {
        if let Some(s) = c.required(o, key, f).cloned().and_then(|s| c.string(&s, &join(f, key))) {
            if s.is_empty() {
                c.add(&join(f, key), "String should have at least 1 character");
            }
            out.insert(key.into(), json!(s));
        }
    }
    for key in ["queue_length", "activation_queue_length"] {
        if let Some(n) = c.required(o, key, f).cloned().and_then(|n| c.int(&n, &join(f, key), Some(1), None))
        {
            out.insert(key.into(), json!(n));
        }
    }
    let endpoint = match o.get("aws_endpoint") {
        None | Some(Value::Null) => Value::Null,
        Some(e) => c.string(e, &join(f, "aws_endpoint")).map(Value::from).unwrap_or(Value::Null),
    };
    out.insert("aws_endpoint".into(), endpoint);
    for key in ["scale_on_flight", "scale_on_delayed"] {
        let b = match o.get(key) {
            None | Some(Value::Null) => false,
            Some(b) => c.boolean(b, &join(f, key)).unwrap_or(false),
        };
        out.insert(key.into(), json!(b));
    }
    Some(Value::Object(out))
}

/// The default triggers of create: cpu and memory at 80 %.
pub fn default_triggers() -> Value {
    json!({"cpu": {"threshold": 80}, "memory": {"threshold": 80}, "gpu_utilization": null,
           "gpu_memory": null, "http": null, "sqs": null})
}

/// One probe in output shape, from a full (create / v2) probe body with the documented defaults.
pub fn probe(c: &mut Check, v: &Value, f: &str) -> Option<Value> {
    let o = c.object(v, f)?;
    let mut base = default_probe();
    merge_probe(c, &mut base, o, f);
    Some(base)
}

pub fn default_probe() -> Value {
    json!({"exec": null, "http_get": null, "tcp_socket": null, "failure_threshold": 3,
           "initial_delay_seconds": 0, "period_seconds": 10, "success_threshold": 1, "timeout_seconds": 3})
}

/// Merges a probe body into `base`: a handler given replaces the handler (null removes it), a threshold
/// given replaces the threshold, anything absent is kept.
pub fn merge_probe(c: &mut Check, base: &mut Value, o: &Map<String, Value>, f: &str) {
    for (key, lo) in [
        ("failure_threshold", 1),
        ("initial_delay_seconds", 0),
        ("period_seconds", 1),
        ("success_threshold", 1),
        ("timeout_seconds", 1),
    ] {
        if let Some(v) = o.get(key)
            && let Some(n) = c.int(v, &join(f, key), Some(lo), None)
        {
            base[key] = json!(n);
        }
    }
    if let Some(e) = o.get("exec") {
        let fe = join(f, "exec");
        base["exec"] = match e {
            Value::Null => Value::Null,
            e => match c.object(e, &fe).and_then(|e| c.required(e, "command", &fe).cloned()) {
                Some(cmd) => match c.strings(&cmd, &join(&fe, "command")) {
                    Some(cmd) => json!({ "command": cmd }),
                    None => Value::Null,
                },
                None => Value::Null,
            },
        };
    }
    if let Some(h) = o.get("http_get") {
        let fh = join(f, "http_get");
        base["http_get"] = match h {
            Value::Null => Value::Null,
            h => match c.object(h, &fh) {
                Some(h) => {
                    let port =
                        c.required(h, "port", &fh).cloned().and_then(|p| c.port(&p, &join(&fh, "port")));
                    let path = match h.get("path") {
                        None | Some(Value::Null) => Some("/".to_string()),
                        Some(p) => c.string(p, &join(&fh, "path")),
                    };
                    let schema = match h.get("schema") {
                        None | Some(Value::Null) => Some("HTTP".to_string()),
                        Some(s) => c.string(s, &join(&fh, "schema")).filter(|s| {
                            let ok = SCHEMA_RE.is_match(s);
                            if !ok {
                                c.add(&join(&fh, "schema"), "String should match pattern '^(HTTP|HTTPS)$'");
                            }
                            ok
                        }),
                    };
                    let host = match h.get("host") {
                        None | Some(Value::Null) => Value::Null,
                        Some(s) => c.string(s, &join(&fh, "host")).map(Value::from).unwrap_or(Value::Null),
                    };
                    let headers = match h.get("headers") {
                        None | Some(Value::Null) => Some(BTreeMap::new()),
                        Some(m) => c.string_map(m, &join(&fh, "headers")),
                    };
                    match (port, path, schema, headers) {
                        (Some(port), Some(path), Some(schema), Some(headers)) => json!({
                            "headers": headers, "host": host, "path": path, "port": port, "schema": schema
                        }),
                        _ => Value::Null,
                    }
                }
                None => Value::Null,
            },
        };
    }
    if let Some(t) = o.get("tcp_socket") {
        let ft = join(f, "tcp_socket");
        base["tcp_socket"] = match t {
            Value::Null => Value::Null,
            t => match c.object(t, &ft).and_then(|t| c.required(t, "port", &ft).cloned()) {
                Some(p) => match c.port(&p, &join(&ft, "port")) {
                    Some(p) => json!({ "port": p }),
                    None => Value::Null,
                },
                None => Value::Null,
            },
        };
    }
}

pub const PROBE_SLOTS: [&str; 3] = ["liveness_probe", "readiness_probe", "startup_probe"];

/// Full probes (create, v2 PUT): null or `{slot: null | {enabled*, probe}}`, in output shape.
pub fn probes(c: &mut Check, v: &Value, f: &str) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    let o = c.object(v, f)?;
    let mut out = Map::new();
    for slot in PROBE_SLOTS {
        let fs = join(f, slot);
        let val = match o.get(slot) {
            None | Some(Value::Null) => Value::Null,
            Some(cfg) => match c.object(cfg, &fs) {
                Some(cfg) => {
                    let enabled = c
                        .required(cfg, "enabled", &fs)
                        .cloned()
                        .and_then(|e| c.boolean(&e, &join(&fs, "enabled")));
                    let probe = match cfg.get("probe") {
                        None | Some(Value::Null) => Value::Null,
                        Some(p) => probe(c, p, &join(&fs, "probe")).unwrap_or(Value::Null),
                    };
                    json!({ "enabled": enabled.unwrap_or(false), "probe": probe })
                }
                None => Value::Null,
            },
        };
        out.insert(slot.into(), val);
    }
    for k in o.keys() {
        if !PROBE_SLOTS.contains(&k.as_str()) {
            c.add(&join(f, k), "Extra inputs are not permitted");
        }
    }
    Some(Value::Object(out))
}

/// PATCH probes: a slot absent is left unchanged; a slot given is merged into the current one. A null (slot,
/// `probe` or handler) removes what it names when `null_clears`, else it is the same as absent.
pub fn patch_probes(
    c: &mut Check,
    current: Option<&Value>,
    v: &Value,
    f: &str,
    null_clears: bool,
) -> Option<Value> {
    let Some(o) = c.object(v, f) else {
        return current.cloned();
    };
    let mut out = match current {
        Some(Value::Object(m)) => m.clone(),
        _ => PROBE_SLOTS.iter().map(|s| (s.to_string(), Value::Null)).collect(),
    };
    for k in o.keys() {
        if !PROBE_SLOTS.contains(&k.as_str()) {
            c.add(&join(f, k), "Extra inputs are not permitted");
        }
    }
    for slot in PROBE_SLOTS {
        let fs = join(f, slot);
        if null_clears && o.get(slot).is_some_and(Value::is_null) {
            out.insert(slot.to_string(), Value::Null);
            continue;
        }
        let Some(cfg) = o.get(slot).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(cfg) = c.object(cfg, &fs) else {
            continue;
        };
        let mut cur = match out.get(slot) {
            Some(Value::Object(m)) => Value::Object(m.clone()),
            _ => json!({ "enabled": false, "probe": null }),
        };
        if let Some(e) = cfg.get("enabled")
            && let Some(b) = c.boolean(e, &join(&fs, "enabled"))
        {
            cur["enabled"] = json!(b);
        }
        if null_clears && cfg.get("probe").is_some_and(Value::is_null) {
            cur["probe"] = Value::Null;
        }
        if let Some(p) = cfg.get("probe").filter(|p| !p.is_null())
            && let Some(po) = c.object(p, &join(&fs, "probe"))
        {
            let mut po = po.clone();
            if !null_clears {
                po.retain(|_, v| !v.is_null());
            }
            let po = &po;
            let mut base = match &cur["probe"] {
                Value::Object(_) => cur["probe"].clone(),
                _ => default_probe(),
            };
            merge_probe(c, &mut base, po, &join(&fs, "probe"));
            cur["probe"] = base;
        }
        out.insert(slot.into(), cur);
    }
    Some(Value::Object(out))
}

/// Logging config in output shape.
pub fn logging(c: &mut Check, v: &Value, f: &str) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    let o = c.object(v, f)?;
    let enabled = match o.get("enabled") {
        None | Some(Value::Null) => false,
        Some(b) => c.boolean(b, &join(f, "enabled")).unwrap_or(false),
    };
    let dest = c.opt_int(o, "destination_region_id", f, None, None).or_default(None);
    let topic = match o.get("topic_name") {
        None | Some(Value::Null) => None,
        Some(t) => c.string(t, &join(f, "topic_name")).filter(|t| {
            let ok = !t.is_empty() && t.len() <= 223 && TOPIC_RE.is_match(t);
            if !ok {
                c.add(&join(f, "topic_name"), format!("String should match pattern '{TOPIC_PATTERN}'"));
            }
            ok
        }),
    };
    let retention = match o.get("retention_policy") {
        None | Some(Value::Null) => Value::Null,
        Some(r) => {
            let fr = join(f, "retention_policy");
            match c.object(r, &fr) {
                Some(r) => match c.required(r, "period", &fr).cloned() {
                    Some(Value::Null) => json!({ "period": null }),
                    Some(p) => match c.int(&p, &join(&fr, "period"), Some(1), Some(1825)) {
                        Some(p) => json!({ "period": p }),
                        None => Value::Null,
                    },
                    None => Value::Null,
                },
                None => Value::Null,
            }
        }
    };
    Some(json!({
        "destination_region_id": dest, "enabled": enabled, "retention_policy": retention, "topic_name": topic
    }))
}

pub fn ingress_opts(c: &mut Check, v: &Value, f: &str) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    let o = c.object(v, f)?;
    let b = match o.get("disable_response_buffering") {
        None | Some(Value::Null) => false,
        Some(b) => c.boolean(b, &join(f, "disable_response_buffering")).unwrap_or(false),
    };
    Some(json!({ "disable_response_buffering": b }))
}

/// One container of a body: region, scale bounds, and the optional settings as given.
#[derive(Debug, Clone)]
pub struct ContainerIn {
    pub region_id: i64,
    pub min: u32,
    pub max: u32,
    pub cooldown: Field<i64>,
    pub polling: Field<i64>,
    /// Normalised triggers when given.
    pub triggers: Option<Value>,
}

/// `containers` of a body. `nullable_settings`: create allows null cooldown/polling, PATCH does not.
pub fn containers(c: &mut Check, v: &Value, f: &str, nullable_settings: bool) -> Option<Vec<ContainerIn>> {
    let Some(a) = v.as_array() else {
        c.add(f, "Input should be a valid list");
        return None;
    };
    if a.is_empty() {
        c.add(f, "List should have at least 1 item after validation, not 0");
        return None;
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, item) in a.iter().enumerate() {
        let fi = format!("{f}.{i}");
        let Some(o) = c.object(item, &fi) else { continue };
        let region = c
            .required(o, "region_id", &fi)
            .cloned()
            .and_then(|r| c.int(&r, &join(&fi, "region_id"), None, None));
        let Some(scale) = c.required(o, "scale", &fi).cloned() else { continue };
        let fs = join(&fi, "scale");
        let Some(s) = c.object(&scale, &fs) else { continue };
        let min =
            c.required(s, "min", &fs).cloned().and_then(|m| c.int(&m, &join(&fs, "min"), Some(0), None));
        let max =
            c.required(s, "max", &fs).cloned().and_then(|m| c.int(&m, &join(&fs, "max"), None, Some(300)));
        let mut cooldown = c.opt_int(s, "cooldown_period", &fs, Some(1), Some(3600));
        let mut polling = c.opt_int(s, "polling_interval", &fs, Some(5), Some(3600));
        if !nullable_settings {
            for (field, key) in [(&mut cooldown, "cooldown_period"), (&mut polling, "polling_interval")] {
                if *field == Field::Null {
                    c.add(&join(&fs, key), "Input should be a valid integer");
                    *field = Field::Invalid;
                }
            }
        }
        let triggers = match s.get("triggers") {
            None => None,
            Some(Value::Null) if nullable_settings => None,
            Some(t) => triggers(c, t, &join(&fs, "triggers")),
        };
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            c.add(
                &fs,
                format!("Value error, scale.min ({lo}) must be less than or equal to scale.max ({hi})"),
            );
        }
        if let Some(r) = region
            && !seen.insert(r)
        {
            c.add(&join(&fi, "region_id"), format!("Value error, region {r} appears more than once"));
        }
        if let (Some(region_id), Some(min), Some(max)) = (region, min, max) {
            out.push(ContainerIn {
                region_id,
                min: min.clamp(0, 300) as u32,
                max: max.clamp(0, 300) as u32,
                cooldown,
                polling,
                triggers,
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_reported_by_field() {
        let mut c = Check::default();
        let v = json!([{"region_id": 7, "scale": {"min": 2, "max": 301, "cooldown_period": 0,
                        "triggers": {"cpu": {"threshold": 101}, "http": {"rate": 0, "window": 60}}}}]);
        containers(&mut c, &v, "containers", true);
        let fields: Vec<&str> = c.errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "containers.0.scale.cooldown_period",
                "containers.0.scale.max",
                "containers.0.scale.triggers.cpu.threshold",
                "containers.0.scale.triggers.http.rate"
            ]
        );
        assert!(c.message().starts_with("Validation Error: {'containers.0.scale.cooldown_period'"));
    }

    #[test]
    fn names_and_images() {
        let mut c = Check::default();
        assert!(c.name(&json!("abc"), "name").is_none());
        assert!(c.name(&json!("my-instance"), "name").is_some());
        assert!(c.image(&json!("nginx:latest"), "image").is_some());
        assert!(
            c.image(&json!("registry.gcore.com/inference/vllm-llama-3.1-70b-instruct:1.4"), "image")
                .is_some()
        );
        assert!(c.image(&json!("Nginx:latest"), "image").is_none());
        assert!(c.image(&json!("host:5000/x"), "image").is_none());
    }

    #[test]
    fn patch_probes_merges() {
        let mut c = Check::default();
        let cur = json!({"liveness_probe": {"enabled": true, "probe": {"exec": null, "http_get": null,
            "tcp_socket": {"port": 80}, "failure_threshold": 3, "initial_delay_seconds": 0, "period_seconds": 10,
            "success_threshold": 1, "timeout_seconds": 3}}, "readiness_probe": null, "startup_probe": null});
        let out = patch_probes(
            &mut c,
            Some(&cur),
            &json!({"liveness_probe": {"probe": {"period_seconds": 5}},
            "readiness_probe": null}),
            "probes",
            false,
        )
        .unwrap();
        assert!(c.ok());
        assert_eq!(out["liveness_probe"]["probe"]["period_seconds"], 5);
        assert_eq!(out["liveness_probe"]["probe"]["tcp_socket"]["port"], 80);
        assert_eq!(out["liveness_probe"]["enabled"], true);
        assert_eq!(out["readiness_probe"], Value::Null);
    }
}
