//! Run:ai wire types -> the provider-neutral model.

use super::wire;
use crate::model::{
    Deployment, DeploymentKey, HttpGetAction, MetricTrigger, Point, Probe, ProbeConfig, Probes, ProviderKind,
    RegionReplicas, Scale, Series, Status,
};
use crate::provider::count;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

fn key(account: &str, id: &str) -> DeploymentKey {
    DeploymentKey {
        provider: ProviderKind::Runai,
        account: crate::model::intern(account),
        id: id.to_string(),
    }
}

fn to_u32(v: Option<i64>) -> Option<u32> {
    v.and_then(|n| u32::try_from(n.max(0)).ok())
}

/// Whether a status is one whose `phaseMessage` explains a problem worth showing as the region error.
fn shows_error(s: &Status) -> bool {
    matches!(
        s,
        Status::Degraded | Status::PhaseFailed | Status::Pending | Status::PhaseUnknown | Status::Unknown(_)
    )
}

fn nonempty(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Scale from `spec.autoscaling`, with the API's documented defaults: min 1; max = min, or 1 when min is 0.
pub fn scale(a: Option<&wire::AutoScaling>) -> Scale {
    let Some(a) = a else {
        return Scale { min: 1, max: 1, ..Default::default() };
    };
    let min = to_u32(a.min_replicas).unwrap_or(1);
    let max = to_u32(a.max_replicas).unwrap_or(if min == 0 { 1 } else { min });
    let mut s = Scale {
        min,
        max,
        scale_to_zero_retention_seconds: to_u32(a.scale_to_zero_retention_seconds),
        ..Default::default()
    };
    if let Some(metric) = a.metric.as_ref().filter(|m| !m.is_empty()) {
        s.triggers.metric =
            Some(MetricTrigger { metric: metric.clone(), threshold: a.metric_threshold.unwrap_or(0) });
    }
    s
}

/// One-line summary of `compute`: `1 GPU`, `0.5 GPU`, `2 GPU`, `10G GPU memory`, `CPU only`.
pub fn hardware(c: &wire::Compute) -> Option<String> {
    let devices = c.gpu_devices_request.unwrap_or(0).max(0);
    let kind = c.gpu_request_type.as_deref().unwrap_or("portion");
    if kind == "memory"
        && let Some(m) = c.gpu_memory_request.as_ref().filter(|m| !m.is_empty())
    {
        let n = if devices > 1 { format!("{devices}× ") } else { String::new() };
        return Some(format!("{n}{m} GPU memory"));
    }
    if devices > 1 {
        return Some(format!("{devices} GPU"));
    }
    if let Some(p) = c.gpu_portion_request.filter(|p| *p > 0.0) {
        let total = p * devices.max(1) as f64;
        return Some(format!("{} GPU", fmt_num(total)));
    }
    if devices == 1 {
        return Some("1 GPU".into());
    }
    match c.cpu_core_request {
        Some(cpu) if cpu > 0.0 => Some(format!("CPU only ({} cores)", fmt_num(cpu))),
        _ => Some("CPU only".into()),
    }
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `environmentVariables` as name -> value; references are shown as a marker and never resolved.
pub fn envs(list: &[Option<wire::EnvironmentVariable>]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in list.iter().flatten() {
        if e.exclude == Some(true) {
            continue;
        }
        let Some(name) = e.name.as_ref().filter(|n| !n.is_empty()) else { continue };
        let nk = |kind: &str, r: &wire::NameKey| {
            format!("<{kind} {}/{}>", r.name.as_deref().unwrap_or("?"), r.key.as_deref().unwrap_or("?"))
        };
        let v = if let Some(s) = &e.secret {
            nk("secret", s)
        } else if let Some(c) = &e.config_map {
            nk("configMap", c)
        } else if let Some(u) = &e.user_credential {
            nk("userCredential", u)
        } else if let Some(p) = &e.pod_field_ref {
            format!("<podField {}>", p.path.as_deref().unwrap_or("?"))
        } else {
            e.value.clone().unwrap_or_default()
        };
        out.insert(name.clone(), v);
    }
    out
}

/// The readiness probe, the only one the API has.
pub fn probes(p: Option<&wire::Probes>) -> Probes {
    let readiness =
        p.and_then(|p| p.readiness.as_ref()).map(|r| ProbeConfig { enabled: true, probe: probe(r) });
    Probes { liveness: None, readiness, startup: None }
}

pub fn probe(r: &wire::Probe) -> Probe {
    let http_get = r.handler.as_ref().and_then(|h| h.http_get.as_ref()).map(|g| HttpGetAction {
        path: g.path.clone().unwrap_or_else(|| "/".into()),
        port: to_u32(g.port).unwrap_or(0),
        scheme: g.scheme.clone().unwrap_or_else(|| "HTTP".into()),
        host: g.host.clone().filter(|h| !h.is_empty()),
        headers: BTreeMap::new(),
    });
    Probe {
        exec: None,
        http_get,
        tcp_socket: None,
        initial_delay_seconds: to_u32(r.initial_delay_seconds),
        period_seconds: to_u32(r.period_seconds),
        timeout_seconds: to_u32(r.timeout_seconds),
        success_threshold: to_u32(r.success_threshold),
        failure_threshold: to_u32(r.failure_threshold),
    }
}

/// A list item (`Workload`) as a summary. Scale bounds come from `requestedPods`; `total` is the requested
/// pod count (the pods call that tells scheduled pods apart is made for the detail only).
pub fn from_workload(account: &str, w: &wire::Workload) -> Option<Deployment> {
    let id = w.id.as_ref().filter(|s| !s.is_empty())?;
    let status = Status::from_runai(w.phase.as_deref().unwrap_or("Unknown"));
    let mut d = Deployment::new(key(account, id), w.name.clone().unwrap_or_default(), status);
    d.image = w.images.as_ref().and_then(|i| i.first()).map(|s| crate::model::intern(s));
    d.address = w.urls.as_ref().and_then(|u| u.first().cloned());
    d.created_at = w.created_at.as_deref().and_then(wire::parse_time);
    d.command = join_command(w.command.as_deref(), w.arguments.as_deref());
    if let Some(env) = &w.environment_variables {
        d.envs = env.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect();
    }
    // A count that could not be read is named, and the row is unknown: never 0.
    let mut bad = Vec::new();
    let ready = count::read(&w.running_pods, "runningPods", &mut bad).unwrap_or(0);
    let rp = w.requested_pods.clone().unwrap_or_default();
    let min = count::read(&rp.min, "requestedPods.min", &mut bad).unwrap_or(0);
    let max = count::read(&rp.max, "requestedPods.max", &mut bad).unwrap_or(min.max(1));
    let total = count::read(&rp.number, "requestedPods.number", &mut bad).unwrap_or(ready).max(ready);
    if !bad.is_empty() {
        d.unknown = Some(format!("GET /api/v1/workloads: {}", bad.join("; ")));
    }
    let error = if shows_error(&d.status) { nonempty(w.phase_message.as_ref()) } else { None };
    // Exactly one: a pushed first element would reserve room for four.
    d.regions = vec![RegionReplicas {
        region_id: w.cluster_id.clone().unwrap_or_default(),
        region_name: None,
        ready,
        total,
        scale: Scale { min, max, ..Default::default() },
        error,
    }];
    Some(d)
}

fn join_command(cmd: Option<&str>, args: Option<&str>) -> Option<String> {
    let parts: Vec<&str> =
        [cmd, args].into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect();
    if parts.is_empty() { None } else { Some(parts.join(" ")) }
}

/// A full deployment from the three reads: the inference (spec), the workload (phase, pods, urls) and its
/// pods. `workload` and `pods` may be missing (e.g. a create response), then the inference alone is used.
pub fn deployment(
    account: &str,
    inf: &wire::Inference,
    workload: Option<&wire::Workload>,
    pods: Option<&[wire::Pod]>,
) -> Deployment {
    let id = inf.workload_id.clone().or_else(|| workload.and_then(|w| w.id.clone())).unwrap_or_default();
    let phase = workload
        .and_then(|w| w.phase.clone())
        .or_else(|| inf.actual_phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let status = Status::from_runai(&phase);
    let name = inf.name.clone().or_else(|| workload.and_then(|w| w.name.clone())).unwrap_or_default();
    let mut d = Deployment::new(key(account, &id), name, status);
    let spec = inf.spec.clone().unwrap_or_default();
    d.image = spec
        .image
        .as_deref()
        .or_else(|| workload.and_then(|w| w.images.as_ref()?.first().map(String::as_str)))
        .map(crate::model::intern);
    d.port = spec.serving_port.as_ref().and_then(|p| to_u32(p.container));
    d.hardware = spec.compute.as_ref().and_then(hardware).map(|s| crate::model::intern(&s));
    d.address = workload.and_then(|w| w.urls.as_ref()?.first().cloned());
    d.created_at = inf
        .created_at
        .as_deref()
        .and_then(wire::parse_time)
        .or_else(|| workload.and_then(|w| w.created_at.as_deref()).and_then(wire::parse_time));
    d.envs = envs(spec.environment_variables.as_deref().unwrap_or(&[]));
    d.command = join_command(spec.command.as_deref(), spec.args.as_deref());
    d.probes = Some(crate::model::intern_probes(probes(spec.probes.as_ref())));
    let mut bad = Vec::new();
    let ready = workload.and_then(|w| count::read(&w.running_pods, "runningPods", &mut bad)).unwrap_or(0);
    if !bad.is_empty() {
        d.unknown = Some(format!("GET /api/v1/workloads/{{id}}: {}", bad.join("; ")));
    }
    let scheduled =
        pods.map(|p| p.iter().filter(|p| p.node_name.as_ref().is_some_and(|n| !n.is_empty())).count() as u32);
    let total = scheduled.unwrap_or(ready).max(ready);
    d.pods = pods.unwrap_or(&[]).iter().filter_map(|p| p.id.clone()).collect();
    let error =
        if shows_error(&d.status) { workload.and_then(|w| nonempty(w.phase_message.as_ref())) } else { None };
    d.regions.push(RegionReplicas {
        region_id: inf
            .cluster_id
            .clone()
            .or_else(|| workload.and_then(|w| w.cluster_id.clone()))
            .unwrap_or_default(),
        region_name: None,
        ready,
        total,
        scale: scale(spec.autoscaling.as_ref()),
        error,
    });
    d.detail = true;
    d
}

/// Unit shown for a metric type.
pub fn metric_unit(kind: &str) -> &'static str {
    match kind {
        "THROUGHPUT" => "req/s",
        "LATENCY" => "ms",
        "GPU_UTILIZATION" | "GPU_UTILIZATION_PER_GPU" => "%",
        k if k.ends_with("_BYTES") || k.ends_with("_BYTES_PER_GPU") => "B",
        k if k.ends_with("_CORES") => "cores",
        _ => "",
    }
}

/// Measurements on a grid of `samples` points from `start` to `end`: each sample lands on its nearest grid
/// point; grid points without a sample, and null or unreadable values, are gaps (`value: None`).
pub fn series(
    m: &wire::MetricsResponse,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    samples: u32,
) -> Vec<Series> {
    // The API's own limit; also keeps a silly request from allocating without bound.
    let n = samples.clamp(1, 1000) as usize;
    let span = (end - start).num_milliseconds().max(0) as f64;
    let step = if n > 1 { span / (n - 1) as f64 } else { 0.0 };
    let grid_time = |i: usize| start + chrono::Duration::milliseconds((step * i as f64).round() as i64);
    m.measurements
        .iter()
        .map(|meas| {
            let name = meas.kind.clone().unwrap_or_default();
            let mut points: Vec<Point> = (0..n).map(|i| Point { time: grid_time(i), value: None }).collect();
            for v in meas.values.iter().flatten().flatten() {
                let Some(t) = v.timestamp.as_deref().and_then(wire::parse_time) else { continue };
                let off = (t - start).num_milliseconds() as f64;
                let idx = if step > 0.0 { (off / step).round() } else { 0.0 };
                if idx < 0.0 || idx >= n as f64 || off < -step.max(1.0) {
                    continue;
                }
                let p = &mut points[idx as usize];
                if p.value.is_none() {
                    p.value = v.value;
                }
            }
            Series {
                unit: metric_unit(&name).to_string(),
                labels: meas
                    .labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                    .collect(),
                name,
                points,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compute_summaries() {
        let c = |v: serde_json::Value| hardware(&serde_json::from_value(v).unwrap()).unwrap();
        assert_eq!(
            c(json!({"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 1})),
            "1 GPU"
        );
        assert_eq!(
            c(json!({"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 0.5})),
            "0.5 GPU"
        );
        assert_eq!(c(json!({"gpuDevicesRequest": 2})), "2 GPU");
        assert_eq!(c(json!({"gpuRequestType": "memory", "gpuMemoryRequest": "10G"})), "10G GPU memory");
        assert_eq!(c(json!({"cpuCoreRequest": 0.5})), "CPU only (0.5 cores)");
    }

    #[test]
    fn secret_references_are_markers_and_excluded_vars_are_skipped() {
        let list: Vec<Option<wire::EnvironmentVariable>> = serde_json::from_value(json!([
            {"name": "A", "value": "1"},
            {"name": "TOKEN", "secret": {"name": "hf", "key": "HF_TOKEN"}},
            {"name": "X", "value": "x", "exclude": true},
            {"name": "POD", "podFieldRef": {"path": "metadata.name"}},
            null,
            {"value": "nameless"}
        ]))
        .unwrap();
        let e = envs(&list);
        assert_eq!(e["A"], "1");
        assert_eq!(e["TOKEN"], "<secret hf/HF_TOKEN>");
        assert_eq!(e["POD"], "<podField metadata.name>");
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn autoscaling_defaults_follow_the_spec() {
        assert_eq!((scale(None).min, scale(None).max), (1, 1));
        let a: wire::AutoScaling = serde_json::from_value(json!({"minReplicas": 0})).unwrap();
        assert_eq!((scale(Some(&a)).min, scale(Some(&a)).max), (0, 1));
        let a: wire::AutoScaling = serde_json::from_value(
            json!({"minReplicas": 1, "maxReplicas": 3, "metric": "concurrency", "metricThreshold": 4}),
        )
        .unwrap();
        let s = scale(Some(&a));
        assert_eq!(s.triggers.metric, Some(MetricTrigger { metric: "concurrency".into(), threshold: 4 }));
    }

    #[test]
    fn missing_samples_and_nulls_become_gaps() {
        let start = wire::parse_time("2023-06-06T12:00:00Z").unwrap();
        let end = wire::parse_time("2023-06-06T12:04:00Z").unwrap();
        let m: wire::MetricsResponse = serde_json::from_value(json!({"measurements": [{
        "type": "THROUGHPUT", "labels": {"pod": "a"},
        "values": [
            {"value": "1", "timestamp": "2023-06-06 12:00:00.000"},
            {"value": null, "timestamp": "2023-06-06 12:01:00.000"},
            {"value": "not a number", "timestamp": "2023-06-06 12:02:00.000"},
            {"value": "4.5", "timestamp": "2023-06-06T12:04:00.010Z"},
            {"value": "9", "timestamp": "2030-01-01T00:00:00Z"}
        ]}]}))
        .unwrap();
        let s = series(&m, start, end, 5);
        assert_eq!(s.len(), 1);
        let vals: Vec<Option<f64>> = s[0].points.iter().map(|p| p.value).collect();
        assert_eq!(vals, [Some(1.0), None, None, None, Some(4.5)]);
        assert_eq!(s[0].unit, "req/s");
        assert_eq!(s[0].labels["pod"], "a");
    }
}
