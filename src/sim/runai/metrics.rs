//! Generated metrics: deterministic per seed, workload (or pod), type and timestamp; zero without running pods.

use crate::sim::rng::Rng;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::f64::consts::TAU;

/// `InferenceWorkloadMetricType` / `InferencePodMetricType`.
pub const INFERENCE_TYPES: &[&str] = &["THROUGHPUT", "LATENCY"];

/// `WorkloadMetricType`.
pub const WORKLOAD_TYPES: &[&str] = &[
    "GPU_UTILIZATION",
    "GPU_MEMORY_USAGE_BYTES",
    "GPU_MEMORY_REQUEST_BYTES",
    "CPU_USAGE_CORES",
    "CPU_REQUEST_CORES",
    "CPU_LIMIT_CORES",
    "CPU_MEMORY_USAGE_BYTES",
    "CPU_MEMORY_REQUEST_BYTES",
    "CPU_MEMORY_LIMIT_BYTES",
    "POD_COUNT",
    "RUNNING_POD_COUNT",
    "GPU_ALLOCATION",
    "NIM_NUM_REQUESTS_RUNNING",
    "NIM_NUM_REQUESTS_WAITING",
    "NIM_NUM_REQUEST_MAX",
    "NIM_REQUEST_SUCCESS_TOTAL",
    "NIM_REQUEST_FAILURE_TOTAL",
    "NIM_GPU_CACHE_USAGE_PERC",
    "NIM_TIME_TO_FIRST_TOKEN_SECONDS",
    "NIM_E2E_REQUEST_LATENCY_SECONDS",
    "NIM_TIME_TO_FIRST_TOKEN_SECONDS_PERCENTILES",
    "NIM_E2E_REQUEST_LATENCY_SECONDS_PERCENTILES",
    "NVLINK_BANDWIDTH_TOTAL",
];

/// `PodMetricType` (the generic pod endpoint), as listed in the digest.
pub const POD_TYPES: &[&str] = &[
    "GPU_UTILIZATION_PER_GPU",
    "GPU_UTILIZATION",
    "GPU_MEMORY_USAGE_BYTES_PER_GPU",
    "GPU_MEMORY_USAGE_BYTES",
    "CPU_USAGE_CORES",
    "CPU_MEMORY_USAGE_BYTES",
    "GPU_GRAPHICS_ENGINE_ACTIVITY_PER_GPU",
    "GPU_SM_ACTIVITY_PER_GPU",
    "GPU_SM_OCCUPANCY_PER_GPU",
    "GPU_TENSOR_ACTIVITY_PER_GPU",
    "GPU_FP64_ENGINE_ACTIVITY_PER_GPU",
    "GPU_FP32_ENGINE_ACTIVITY_PER_GPU",
    "GPU_FP16_ENGINE_ACTIVITY_PER_GPU",
    "GPU_MEMORY_BANDWIDTH_UTILIZATION_PER_GPU",
    "GPU_NVLINK_TRANSMITTED_BANDWIDTH_PER_GPU",
    "GPU_NVLINK_RECEIVED_BANDWIDTH_PER_GPU",
    "GPU_PCIE_TRANSMITTED_BANDWIDTH_PER_GPU",
    "GPU_PCIE_RECEIVED_BANDWIDTH_PER_GPU",
    "GPU_SWAP_MEMORY_BYTES_PER_GPU",
    "NIM_NUM_REQUESTS_RUNNING",
    "NIM_NUM_REQUESTS_WAITING",
    "NIM_NUM_REQUEST_MAX",
    "NIM_REQUEST_SUCCESS_TOTAL",
    "NIM_REQUEST_FAILURE_TOTAL",
    "NIM_GPU_CACHE_USAGE_PERC",
    "NIM_TIME_TO_FIRST_TOKEN_SECONDS",
    "NIM_E2E_REQUEST_LATENCY_SECONDS",
    "NIM_TIME_TO_FIRST_TOKEN_SECONDS_PERCENTILES",
    "NIM_E2E_REQUEST_LATENCY_SECONDS_PERCENTILES",
    "NVLINK_BANDWIDTH_TOTAL",
    "NVLINK_BANDWIDTH_TOTAL_PER_GPU",
];

/// The types this simulator can generate; any other valid type is answered with 207 and left out.
pub const SERVED: &[&str] = &[
    "THROUGHPUT",
    "LATENCY",
    "GPU_UTILIZATION",
    "GPU_MEMORY_USAGE_BYTES",
    "GPU_MEMORY_REQUEST_BYTES",
    "CPU_USAGE_CORES",
    "CPU_REQUEST_CORES",
    "POD_COUNT",
    "RUNNING_POD_COUNT",
    "GPU_ALLOCATION",
];

/// What the numbers are generated from.
pub struct Source<'a> {
    pub seed: u64,
    /// Workload id, or workload id + pod index.
    pub label: &'a str,
    pub running: u32,
    pub total: u32,
    pub gpu_per_pod: f64,
    /// No sample before this instant (creation) or after it (now).
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Source<'_> {
    fn value(&self, kind: &str, t: DateTime<Utc>) -> f64 {
        let noise = Rng::derive(self.seed, &format!("{}/{kind}/{}", self.label, t.timestamp_millis())).unit();
        let phase = Rng::derive(self.seed, self.label).unit() * TAU;
        let wave = (t.timestamp() as f64 / 1800.0 * TAU + phase).sin();
        let r = self.running as f64;
        let busy = self.running > 0;
        match kind {
            "THROUGHPUT" if busy => r * (12.0 + 5.0 * wave + 2.0 * noise),
            "LATENCY" if busy => 140.0 + 50.0 * wave + 30.0 * noise,
            "GPU_UTILIZATION" if busy => (60.0 + 25.0 * wave + 10.0 * noise).clamp(0.0, 100.0),
            "GPU_MEMORY_USAGE_BYTES" => (r * self.gpu_per_pod * 80e9 * (0.7 + 0.1 * noise)).round(),
            "GPU_MEMORY_REQUEST_BYTES" => (self.total as f64 * self.gpu_per_pod * 80e9).round(),
            "CPU_USAGE_CORES" if busy => r * (1.0 + noise),
            "CPU_REQUEST_CORES" => self.total as f64 * 2.0,
            "POD_COUNT" => self.total as f64,
            "RUNNING_POD_COUNT" => r,
            "GPU_ALLOCATION" => self.total as f64 * self.gpu_per_pod,
            _ => 0.0,
        }
    }

    /// The `measurements` for `types`, on `n` samples from `start` to `end`; the flag says some type was
    /// not served (a 207).
    pub fn measurements(
        &self,
        types: &[String],
        served: &[&str],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        n: u32,
    ) -> (Vec<Value>, bool) {
        let span = (end - start).num_milliseconds().max(0) as f64;
        let step = if n > 1 { span / (n - 1) as f64 } else { 0.0 };
        let mut partial = false;
        let mut out = Vec::new();
        for kind in types {
            if !served.contains(&kind.as_str()) {
                partial = true;
                continue;
            }
            let values: Vec<Value> = (0..n)
                .map(|i| start + chrono::Duration::milliseconds((step * i as f64).round() as i64))
                .filter(|t| *t >= self.from && *t <= self.until)
                .map(|t| {
                    json!({
                        "value": fmt_value(self.value(kind, t)),
                        "timestamp": t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                    })
                })
                .collect();
            out.push(json!({ "type": kind, "labels": Value::Null, "values": values }));
        }
        (out, partial)
    }
}

/// Numbers as the API sends them: a string, no needless decimals.
fn fmt_value(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_zero_without_pods() {
        let t0: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        let t1 = t0 + chrono::Duration::minutes(10);
        let src = |running| Source {
            seed: 7,
            label: "w",
            running,
            total: running,
            gpu_per_pod: 1.0,
            from: t0,
            until: t1,
        };
        let types = vec!["THROUGHPUT".to_string(), "NIM_GPU_CACHE_USAGE_PERC".to_string()];
        let (a, partial) = src(2).measurements(&types, SERVED, t0, t1, 11);
        let (b, _) = src(2).measurements(&types, SERVED, t0, t1, 11);
        assert_eq!(a, b);
        assert!(partial);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0]["values"].as_array().unwrap().len(), 11);
        let (z, _) = src(0).measurements(&types, SERVED, t0, t1, 3);
        assert!(z[0]["values"].as_array().unwrap().iter().all(|v| v["value"] == "0"));
    }
}
