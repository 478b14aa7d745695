//! Safe retries of writes. A loopback proxy in front of the simulator fails the first N attempts of chosen
//! requests (503 in the provider's own error shape, or 429 with `Retry-After`) and counts every attempt.
//! A write that is harmless to repeat (setting absolute values, start, stop) is retried and lands; a create or
//! a delete is sent once and its error reaches the caller, with nothing changed; whatever happens, the caller
//! learns the outcome.

use infertop::model::{
    Deployment, HttpGetAction, Probe, ProbeConfig, Probes, ProviderKind, RegionScale, Scale, ScaleUpdate,
    Status,
};
use infertop::provider::http::{RateLimit, RetryPolicy, build_client};
use infertop::provider::{
    AccountSpec, ApiError, Applied, ErrorKind, GcoreApi, Provider, connect, demo_accounts, gcore, runai,
    sesterce,
};
use infertop::sim::{self, SimConfig, SimHandle};
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------- harness

/// Fail the first `times` requests with `method` whose path contains `path`.
#[derive(Clone)]
struct Rule {
    method: Method,
    path: String,
    times: u32,
    status: u16,
    /// `(header, value)` sent with the failure, e.g. `retry-after`.
    header: Option<(&'static str, &'static str)>,
}

fn fail(method: Method, path: &str, times: u32) -> Rule {
    Rule { method, path: path.to_string(), times, status: 503, header: None }
}

/// A loopback proxy to the simulator that fails requests per its rules and logs every attempt.
struct FailingProxy {
    base: String,
    seen: Arc<Mutex<Vec<(Method, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FailingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FailingProxy {
    async fn start(target: String, rules: Vec<Rule>) -> FailingProxy {
        use axum::response::IntoResponse;
        let seen: Arc<Mutex<Vec<(Method, String)>>> = Arc::default();
        let rules = Arc::new(Mutex::new(rules));
        let log = seen.clone();
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (log, rules, http, target) = (log.clone(), rules.clone(), http.clone(), target.clone());
            async move {
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                let pq = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                log.lock().unwrap().push((method.clone(), path.clone()));
                let failing = {
                    let mut rules = rules.lock().unwrap();
                    rules
                        .iter_mut()
                        .find(|r| r.method == method && path.contains(&r.path) && r.times > 0)
                        .map(|r| {
                            r.times -= 1;
                            r.clone()
                        })
                };
                if let Some(r) = failing {
                    let provider = sim::faults::provider_of(&path).unwrap_or(ProviderKind::Gcore);
                    let body = sim::faults::error_body(provider, r.status, "injected by the test proxy");
                    let status = axum::http::StatusCode::from_u16(r.status).unwrap();
                    let mut resp = (status, axum::Json(body)).into_response();
                    if let Some((k, v)) = r.header {
                        resp.headers_mut().insert(k, v.parse().unwrap());
                    }
                    return resp;
                }
                let headers = req.headers().clone();
                let bytes = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap_or_default();
                let mut rb = http.request(method, format!("{target}{pq}")).body(bytes.to_vec());
                for (k, v) in &headers {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let resp = rb.send().await.expect("forward to the simulator");
                let status = resp.status();
                let ct = resp.headers().get("content-type").cloned();
                let body = resp.bytes().await.unwrap_or_default();
                let mut out = (status, body).into_response();
                if let Some(ct) = ct {
                    out.headers_mut().insert("content-type", ct);
                }
                out
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FailingProxy { base: format!("http://{addr}"), seen, task }
    }

    /// Attempts of `method` on a path containing `path`.
    fn attempts(&self, method: Method, path: &str) -> usize {
        self.seen.lock().unwrap().iter().filter(|(m, p)| *m == method && p.contains(path)).count()
    }
}

async fn sim() -> SimHandle {
    // Sesterce PATCHes without modelId are taken (the refusing reading: tests/ambiguities.rs).
    let ambiguities = sim::ambiguity::Ambiguities::default().with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps");
    sim::start(
        SimConfig { time_scale: 0.0, ambiguities, ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Two retries, quick ones; a `Retry-After` up to a second is honoured.
fn spec(base: &str, kind: ProviderKind, api: GcoreApi) -> AccountSpec {
    let mut a = demo_accounts(base).into_iter().find(|a| a.kind == kind).unwrap();
    a.gcore_api = api;
    a.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(1),
    };
    a.rate_limit = RateLimit::unlimited();
    a
}

fn http() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(20))
}

fn gcore_client(base: &str, api: GcoreApi) -> gcore::GcoreClient {
    gcore::GcoreClient::new(&spec(base, ProviderKind::Gcore, api), http())
        .with_task_poll_interval(Duration::from_millis(2))
}

/// The simulator's own view, without the proxy.
fn direct(h: &SimHandle, kind: ProviderKind, api: GcoreApi) -> Arc<dyn Provider> {
    connect(&spec(&h.base_url(), kind, api), http())
}

async fn first(p: &dyn Provider) -> Deployment {
    let list = p.list().await.unwrap();
    let d = list.iter().find(|d| d.regions.len() == 1).or(list.first()).unwrap().clone();
    p.get(&d.key.id).await.unwrap()
}

fn raised(d: &Deployment) -> ScaleUpdate {
    let mut u = ScaleUpdate::from_deployment(d);
    u.regions[0].scale.max += 1;
    u
}

fn assert_injected(e: &ApiError) {
    assert_eq!(e.status, Some(503), "{e}");
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.contains("injected by the test proxy"), "{e}");
}

const GCORE_APIS: [(GcoreApi, Method, &str); 2] = [
    (GcoreApi::V3, Method::PATCH, "/cloud/v3/inference/1/deployments/"),
    (GcoreApi::V2, Method::PUT, "/cloud/v2/"),
];

// ---------------------------------------------------------------- idempotent writes are retried

#[tokio::test]
async fn gcore_scale_writes_are_retried_until_they_land() {
    for (api, method, path) in GCORE_APIS {
        let h = sim().await;
        let d = first(&*direct(&h, ProviderKind::Gcore, api)).await;
        let proxy = FailingProxy::start(h.base_url(), vec![fail(method.clone(), path, 2)]).await;
        let u = raised(&d);
        let applied = gcore_client(&proxy.base, api).update_scale(&d.key.id, &u).await.unwrap();
        assert!(matches!(applied, Applied::Done(_)), "{api:?}");
        assert_eq!(proxy.attempts(method, path), 3, "{api:?}: two failures, then the one that landed");
        let after = direct(&h, ProviderKind::Gcore, api).get(&d.key.id).await.unwrap();
        assert_eq!(after.regions[0].scale.max, u.regions[0].scale.max, "{api:?}");
    }
}

#[tokio::test]
async fn gcore_probe_writes_are_retried_until_they_land() {
    for (api, method, path) in GCORE_APIS {
        let h = sim().await;
        let d = first(&*direct(&h, ProviderKind::Gcore, api)).await;
        let proxy = FailingProxy::start(h.base_url(), vec![fail(method.clone(), path, 2)]).await;
        let probes = readiness(11);
        gcore_client(&proxy.base, api).update_probes(&d.key.id, &probes).await.unwrap();
        assert_eq!(proxy.attempts(method, path), 3, "{api:?}");
        let after = direct(&h, ProviderKind::Gcore, api).get(&d.key.id).await.unwrap();
        let period =
            after.probes.as_deref().and_then(|p| p.readiness.as_ref()).map(|r| r.probe.period_seconds);
        assert_eq!(period, Some(Some(11)), "{api:?}");
    }
}

fn readiness(period: u32) -> Probes {
    Probes {
        readiness: Some(ProbeConfig {
            enabled: true,
            probe: Probe {
                http_get: Some(HttpGetAction {
                    path: "/ready".into(),
                    port: 8000,
                    scheme: "HTTP".into(),
                    host: None,
                    headers: Default::default(),
                }),
                period_seconds: Some(period),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn gcore_start_and_stop_are_retried() {
    for api in [GcoreApi::V3, GcoreApi::V2] {
        let h = sim().await;
        let d = first(&*direct(&h, ProviderKind::Gcore, api)).await;
        let proxy = FailingProxy::start(
            h.base_url(),
            vec![fail(Method::POST, "/stop", 2), fail(Method::POST, "/start", 1)],
        )
        .await;
        let c = gcore_client(&proxy.base, api);
        c.stop(&d.key.id).await.unwrap();
        assert_eq!(proxy.attempts(Method::POST, "/stop"), 3, "{api:?}");
        c.start(&d.key.id).await.unwrap();
        assert_eq!(proxy.attempts(Method::POST, "/start"), 2, "{api:?}");
    }
}

#[tokio::test]
async fn sesterce_scale_patch_and_start_stop_are_retried() {
    let h = sim().await;
    let d = first(&*direct(&h, ProviderKind::Sesterce, GcoreApi::V3)).await;
    let proxy = FailingProxy::start(
        h.base_url(),
        vec![fail(Method::PATCH, "/ai-inference/instances/", 2), fail(Method::POST, "/stop", 2)],
    )
    .await;
    let c = sesterce::SesterceClient::new(&spec(&proxy.base, ProviderKind::Sesterce, GcoreApi::V3), http());
    let u = raised(&d);
    assert!(matches!(c.update_scale(&d.key.id, &u).await.unwrap(), Applied::Done(_)));
    assert_eq!(proxy.attempts(Method::PATCH, "/ai-inference/instances/"), 3);
    let after = direct(&h, ProviderKind::Sesterce, GcoreApi::V3).get(&d.key.id).await.unwrap();
    assert_eq!(after.regions[0].scale.max, u.regions[0].scale.max);
    c.stop(&d.key.id).await.unwrap();
    assert_eq!(proxy.attempts(Method::POST, "/stop"), 3);
}

#[tokio::test]
async fn runai_section_patches_are_retried() {
    let h = sim().await;
    let d = first(&*direct(&h, ProviderKind::Runai, GcoreApi::V3)).await;
    let path = "/api/v1/workloads/inferences/";
    let proxy = FailingProxy::start(h.base_url(), vec![fail(Method::PATCH, path, 2)]).await;
    let c = runai::RunaiClient::new(&spec(&proxy.base, ProviderKind::Runai, GcoreApi::V3), http());
    let u = raised(&d);
    c.update_scale(&d.key.id, &u).await.unwrap();
    assert_eq!(proxy.attempts(Method::PATCH, path), 3);
    let after = direct(&h, ProviderKind::Runai, GcoreApi::V3).get(&d.key.id).await.unwrap();
    assert_eq!(after.regions[0].scale.max, u.regions[0].scale.max);
}

/// More failures than retries: the write is tried 1 + max_retries times and the last error reaches the caller.
#[tokio::test]
async fn an_idempotent_write_that_keeps_failing_reports_the_error() {
    let h = sim().await;
    let d = first(&*direct(&h, ProviderKind::Sesterce, GcoreApi::V3)).await;
    let proxy =
        FailingProxy::start(h.base_url(), vec![fail(Method::PATCH, "/ai-inference/instances/", 10)]).await;
    let c = sesterce::SesterceClient::new(&spec(&proxy.base, ProviderKind::Sesterce, GcoreApi::V3), http());
    let e = c.update_scale(&d.key.id, &raised(&d)).await.unwrap_err();
    assert_injected(&e);
    assert_eq!(proxy.attempts(Method::PATCH, "/ai-inference/instances/"), 3);
    let after = direct(&h, ProviderKind::Sesterce, GcoreApi::V3).get(&d.key.id).await.unwrap();
    assert_eq!(after.regions[0].scale.max, d.regions[0].scale.max);
}

/// A refusal that is not transient (a validation error) is not repeated, idempotent or not.
#[tokio::test]
async fn a_validation_error_is_not_retried() {
    let h = sim().await;
    let d = first(&*direct(&h, ProviderKind::Gcore, GcoreApi::V3)).await;
    let path = "/cloud/v3/inference/1/deployments/";
    let rule = Rule { status: 400, ..fail(Method::PATCH, path, 1) };
    let proxy = FailingProxy::start(h.base_url(), vec![rule]).await;
    let e = gcore_client(&proxy.base, GcoreApi::V3).update_scale(&d.key.id, &raised(&d)).await.unwrap_err();
    assert_eq!((e.status, e.kind), (Some(400), ErrorKind::Validation));
    assert_eq!(proxy.attempts(Method::PATCH, path), 1);
}

// ---------------------------------------------------------------- Retry-After

#[tokio::test]
async fn retry_after_within_bounds_is_waited_for_and_a_longer_one_is_reported() {
    let h = sim().await;
    let list = "/ai-inference/instances";
    let short = Rule { status: 429, header: Some(("retry-after-ms", "20")), ..fail(Method::GET, list, 1) };
    let proxy = FailingProxy::start(h.base_url(), vec![short]).await;
    let c = sesterce::SesterceClient::new(&spec(&proxy.base, ProviderKind::Sesterce, GcoreApi::V3), http());
    c.list_summaries().await.unwrap();
    assert_eq!(proxy.attempts(Method::GET, list), 2);

    // An hour is more than the policy's one second: the caller hears about it at once.
    let long = Rule { status: 429, header: Some(("retry-after", "3600")), ..fail(Method::GET, list, 1) };
    let proxy = FailingProxy::start(h.base_url(), vec![long]).await;
    let c = sesterce::SesterceClient::new(&spec(&proxy.base, ProviderKind::Sesterce, GcoreApi::V3), http());
    let e = c.list_summaries().await.unwrap_err();
    assert_eq!((e.status, e.kind, e.retry_after), (Some(429), ErrorKind::RateLimited, Some(3600.0)));
    assert_eq!(proxy.attempts(Method::GET, list), 1);
}

// ---------------------------------------------------------------- create and delete are sent once

#[tokio::test]
async fn gcore_delete_and_create_are_not_retried() {
    for api in [GcoreApi::V3, GcoreApi::V2] {
        let h = sim().await;
        let d = first(&*direct(&h, ProviderKind::Gcore, api)).await;
        let proxy = FailingProxy::start(
            h.base_url(),
            vec![
                fail(Method::DELETE, "/deployments/", 1),
                fail(Method::POST, "/cloud/v3/inference/1/deployments", 1),
            ],
        )
        .await;
        let c = gcore_client(&proxy.base, api);
        assert_injected(&c.delete(&d.key.id).await.unwrap_err());
        assert_eq!(proxy.attempts(Method::DELETE, "/deployments/"), 1, "{api:?}");
        let still = direct(&h, ProviderKind::Gcore, api).get(&d.key.id).await.unwrap();
        assert_eq!(still.status, d.status, "{api:?}: nothing was deleted");
        if api == GcoreApi::V3 {
            let body = json!({
                "name": "retry-check", "image": "nginx:latest", "listening_port": 80,
                "flavor_name": "inference-4vcpu-16gib", "containers": [{"region_id": 7, "scale": {"min": 1, "max": 1}}]
            });
            assert_injected(&c.create(&body).await.unwrap_err());
            assert_eq!(proxy.attempts(Method::POST, "/cloud/v3/inference/1/deployments"), 1);
            let names: Vec<String> = direct(&h, ProviderKind::Gcore, api)
                .list()
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .collect();
            assert!(!names.contains(&"retry-check".to_string()), "nothing was created");
        }
    }
}

#[tokio::test]
async fn sesterce_delete_and_create_are_not_retried() {
    let h = sim().await;
    let before = direct(&h, ProviderKind::Sesterce, GcoreApi::V3).list().await.unwrap();
    let d = first(&*direct(&h, ProviderKind::Sesterce, GcoreApi::V3)).await;
    let proxy = FailingProxy::start(
        h.base_url(),
        vec![
            fail(Method::DELETE, "/ai-inference/instances/", 1),
            fail(Method::POST, "/ai-inference/instances", 1),
        ],
    )
    .await;
    let c = sesterce::SesterceClient::new(&spec(&proxy.base, ProviderKind::Sesterce, GcoreApi::V3), http());
    assert_injected(&c.delete(&d.key.id).await.unwrap_err());
    assert_eq!(proxy.attempts(Method::DELETE, "/ai-inference/instances/"), 1);

    let hw = c.hardwares().await.unwrap().into_iter().find_map(|h| h.id).unwrap();
    let model = c.models().await.unwrap().into_iter().find_map(|m| m.id);
    let new = sesterce::NewInstance {
        name: "retry-check".into(),
        model_id: model,
        hardware_id: hw,
        container_port: 8000,
        regions: vec![RegionScale {
            region_id: d.regions[0].region_id.clone(),
            scale: Scale { min: 1, max: 1, ..Default::default() },
        }],
        ..Default::default()
    };
    assert_injected(&c.create(&new).await.unwrap_err());
    assert_eq!(proxy.attempts(Method::POST, "/ai-inference/instances"), 1);
    let after = direct(&h, ProviderKind::Sesterce, GcoreApi::V3).list().await.unwrap();
    let ids = |l: &[Deployment]| l.iter().map(|d| (d.key.id.clone(), d.status.clone())).collect::<Vec<_>>();
    assert_eq!(ids(&after), ids(&before), "nothing deleted, nothing created");
}

#[tokio::test]
async fn runai_delete_and_create_are_not_retried() {
    let h = sim().await;
    let d = first(&*direct(&h, ProviderKind::Runai, GcoreApi::V3)).await;
    let path = "/api/v1/workloads/inferences";
    let proxy =
        FailingProxy::start(h.base_url(), vec![fail(Method::DELETE, path, 1), fail(Method::POST, path, 1)])
            .await;
    let c = runai::RunaiClient::new(&spec(&proxy.base, ProviderKind::Runai, GcoreApi::V3), http());
    assert_injected(&c.delete(&d.key.id).await.unwrap_err());
    assert_eq!(proxy.attempts(Method::DELETE, path), 1);
    let still = direct(&h, ProviderKind::Runai, GcoreApi::V3).get(&d.key.id).await.unwrap();
    assert_ne!(still.status, Status::Deleting);
    assert_eq!(still.status, d.status);

    let req = runai::wire::InferenceCreationRequest {
        name: "retry-check".into(),
        project_id: "1".into(),
        cluster_id: d.regions[0].region_id.clone(),
        spec: Some(json!({"image": "vllm/vllm-openai:v0.6.3", "servingPort": {"container": 8000}})),
        ..Default::default()
    };
    assert_injected(&c.create(&req).await.unwrap_err());
    assert_eq!(proxy.attempts(Method::POST, path), 1);
    let names: Vec<String> = direct(&h, ProviderKind::Runai, GcoreApi::V3)
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(!names.contains(&"retry-check".to_string()));
}
