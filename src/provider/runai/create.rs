//! Catalog and create for Run:ai. The inference API has no projects or clusters endpoint: the catalog lists
//! the projects and clusters the account's workloads run in. A create answers 202 with the inference; the
//! client then polls until the workload can be read.

use super::{MAX_PAGES, P, RunaiClient, wire};
use crate::model::{Catalog, CreateSpec, ImageSource, ProjectInfo, RegionInfo};
use crate::provider::http::Request;
use crate::provider::{ApiError, ApiResult, Applied, ErrorKind, Provider};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often and how long to wait for a new workload to become readable.
const CREATE_POLL: Duration = Duration::from_millis(500);
const CREATE_POLLS: u32 = 120;

/// The `InferenceCreationRequest` for `spec`.
pub fn creation_request(spec: &CreateSpec) -> ApiResult<wire::InferenceCreationRequest> {
    let ImageSource::Image { image, .. } = &spec.source else {
        let mut e = ApiError::new(P, ErrorKind::Validation, "Run:ai deploys an image");
        e.fields.push(("image".into(), "enter an image".into()));
        return Err(e);
    };
    let [region] = spec.regions.as_slice() else {
        let mut e = ApiError::new(P, ErrorKind::Validation, "a Run:ai workload runs in one cluster");
        e.fields.push(("regions".into(), "choose one cluster".into()));
        return Err(e);
    };
    let mut s = Map::new();
    s.insert("image".into(), json!(image));
    s.insert("servingPort".into(), json!({ "container": spec.port }));
    let sc = &region.scale;
    let mut a = Map::new();
    a.insert("minReplicas".into(), json!(sc.min));
    a.insert("maxReplicas".into(), json!(sc.max));
    if let Some(m) = &sc.triggers.metric {
        a.insert("metric".into(), json!(m.metric));
        a.insert("metricThreshold".into(), json!(m.threshold));
    }
    if let Some(r) = sc.scale_to_zero_retention_seconds {
        a.insert("scaleToZeroRetentionSeconds".into(), json!(r));
    }
    s.insert("autoscaling".into(), Value::Object(a));
    if let Some(g) = spec.gpu_devices {
        s.insert("compute".into(), json!({ "gpuDevicesRequest": g }));
    }
    if !spec.envs.is_empty() {
        let list: Vec<Value> = spec.envs.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect();
        s.insert("environmentVariables".into(), Value::Array(list));
    }
    if let Some(c) = &spec.command {
        s.insert("command".into(), json!(c));
    }
    if let Some(r) = spec.probes.as_ref().and_then(|p| p.readiness.as_ref()).filter(|c| c.enabled) {
        let p = &r.probe;
        let Some(h) = &p.http_get else {
            return Err(ApiError::new(P, ErrorKind::Validation, "Run:ai probes support HTTP GET only"));
        };
        let mut g = Map::new();
        g.insert("path".into(), json!(h.path));
        g.insert("port".into(), json!(h.port));
        g.insert("scheme".into(), json!(h.scheme));
        if let Some(host) = &h.host {
            g.insert("host".into(), json!(host));
        }
        let mut rd = Map::new();
        for (k, v) in [
            ("initialDelaySeconds", p.initial_delay_seconds),
            ("periodSeconds", p.period_seconds),
            ("timeoutSeconds", p.timeout_seconds),
            ("successThreshold", p.success_threshold),
            ("failureThreshold", p.failure_threshold),
        ] {
            if let Some(v) = v {
                rd.insert(k.into(), json!(v));
            }
        }
        rd.insert("handler".into(), json!({ "httpGet": Value::Object(g) }));
        s.insert("probes".into(), json!({ "readiness": Value::Object(rd) }));
    }
    Ok(wire::InferenceCreationRequest {
        name: spec.name.clone(),
        use_given_name_as_prefix: None,
        project_id: spec.project_id.clone().unwrap_or_default(),
        cluster_id: region.region_id.clone(),
        template_id: None,
        spec: Some(Value::Object(s)),
    })
}

impl RunaiClient {
    /// Projects and clusters seen on the account's workloads (every type, every page).
    pub(super) async fn catalog_all(&self) -> ApiResult<Catalog> {
        let mut projects: BTreeMap<String, String> = BTreeMap::new();
        let mut clusters: BTreeMap<String, usize> = BTreeMap::new();
        let mut offset: i64 = 0;
        for _ in 0..MAX_PAGES {
            let req = Request::new(Method::GET, self.url("/api/v1/workloads"))
                .query("offset", offset)
                .query("limit", self.page);
            let page: wire::WorkloadsPage = self.get_json(req).await?;
            let n = page.workloads.len();
            for w in &page.workloads {
                if let Some(p) = w.project_id.clone().filter(|p| !p.is_empty()) {
                    let name = w.project_name.clone().unwrap_or_else(|| p.clone());
                    projects.entry(p).or_insert(name);
                }
                if let Some(c) = w.cluster_id.clone().filter(|c| !c.is_empty()) {
                    *clusters.entry(c).or_default() += 1;
                }
            }
            match page.next {
                Some(next) if next > offset && n > 0 => offset = next,
                _ => break,
            }
        }
        let mut c = Catalog {
            projects: projects.into_iter().map(|(id, name)| ProjectInfo { id, name }).collect(),
            regions: clusters
                .into_iter()
                .map(|(id, n)| RegionInfo {
                    name: format!("cluster {id} ({n} workloads)"),
                    id,
                    state: None,
                    capacity: Default::default(),
                })
                .collect(),
            ..Default::default()
        };
        if c.projects.is_empty() {
            c.problems.push((
                "projects".into(),
                "no workload names a project yet: the inference API has no projects list".into(),
            ));
        }
        Ok(c)
    }

    /// `POST /api/v1/workloads/inferences` (202), then reads the workload until it exists.
    pub(super) async fn create_from(&self, spec: &CreateSpec) -> ApiResult<Applied> {
        let created = self.create(&creation_request(spec)?).await?;
        let id = created.key.id.clone();
        if id.is_empty() {
            return Err(ApiError::new(P, ErrorKind::Decode, "the create answer held no workloadId"));
        }
        let mut last = None;
        for _ in 0..CREATE_POLLS {
            match self.get(&id).await {
                Ok(d) => return Ok(Applied::Done(Box::new(d))),
                Err(e) if e.kind == ErrorKind::NotFound => last = Some(e),
                Err(e) => return Err(e),
            }
            tokio::time::sleep(CREATE_POLL).await;
        }
        let why = last.map(|e| e.to_string()).unwrap_or_default();
        Err(ApiError::new(
            P,
            ErrorKind::Timeout,
            format!("workload {id} was accepted but never appeared ({why})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricTrigger, RegionScale, Scale, Triggers};

    #[test]
    fn request_carries_cluster_project_and_autoscaling() {
        let spec = CreateSpec {
            provider: P,
            name: "qa".into(),
            source: ImageSource::Image { image: "vllm/vllm-openai:v1".into(), credentials: None },
            port: 8000,
            hardware_id: String::new(),
            gpu_devices: Some(1),
            project_id: Some("1".into()),
            regions: vec![RegionScale {
                region_id: "c".into(),
                scale: Scale {
                    min: 1,
                    max: 3,
                    triggers: Triggers {
                        metric: Some(MetricTrigger { metric: "concurrency".into(), threshold: 4 }),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            }],
            envs: [("K".to_string(), "v".to_string())].into(),
            command: None,
            probes: None,
            logging: None,
        };
        let r = creation_request(&spec).unwrap();
        assert_eq!((r.project_id.as_str(), r.cluster_id.as_str()), ("1", "c"));
        let s = r.spec.unwrap();
        assert_eq!(
            s["autoscaling"],
            json!({"minReplicas": 1, "maxReplicas": 3, "metric": "concurrency", "metricThreshold": 4})
        );
        assert_eq!(s["environmentVariables"], json!([{"name": "K", "value": "v"}]));
        assert_eq!(s["compute"], json!({"gpuDevicesRequest": 1}));
    }
}
