//! Gcore over real loopback HTTP: the client against the simulator (v3 and legacy v2), with a recording proxy
//! in between so the client's request bodies can be checked too, and contract checks against the official
//! OpenAPI documents.

mod common;

use common::openapi::{Spec, seed_json_examples};
use infertop::model::{
    HttpGetAction, Probe, ProbeConfig, ProviderKind, RegionScale, ScaleUpdate, Status, TcpSocketAction,
};
use infertop::provider::gcore::{GcoreClient, convert, wire};
use infertop::provider::http::build_client;
use infertop::provider::{
    AccountSpec, Applied, Credentials, ErrorKind, GcoreApi, LogQuery, Provider, Secret,
};
use infertop::sim::{SimConfig, SimHandle};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const V3_ONE: &str = "/cloud/v3/inference/{project_id}/deployments/{deployment_name}";
const V3_LIST: &str = "/cloud/v3/inference/{project_id}/deployments";
const V2_ONE: &str = "/cloud/v2/inference/deployments/{instance_id}";
const V2_LIST: &str = "/cloud/v2/inference/deployments";

// ---------------------------------------------------------------- harness

/// A request the client sent, as the recording proxy saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path_and_query: String,
    authorization: String,
    body: Option<Value>,
}

/// A loopback proxy that records every request and forwards it to the simulator.
struct Recorder {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    async fn start(target: String) -> Recorder {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (log, http, target) = (log.clone(), http.clone(), target.clone());
            async move {
                let method = req.method().clone();
                let pq = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                let headers = req.headers().clone();
                let bytes = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap_or_default();
                log.lock().unwrap().push(Seen {
                    method: method.to_string(),
                    path_and_query: pq.clone(),
                    authorization: headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string(),
                    body: serde_json::from_slice(&bytes).ok(),
                });
                let mut rb = http.request(method, format!("{target}{pq}")).body(bytes.to_vec());
                for (k, v) in &headers {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let resp = rb.send().await.expect("forward to the simulator");
                let status = resp.status();
                let body = resp.bytes().await.unwrap_or_default();
                axum::response::Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Recorder { base, seen, task }
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn sim() -> SimHandle {
    infertop::sim::start(SimConfig { time_scale: 0.0, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn gcore_spec(base: &str, api: GcoreApi) -> AccountSpec {
    let mut spec = infertop::provider::demo_accounts(base)
        .into_iter()
        .find(|a| a.kind == ProviderKind::Gcore)
        .expect("a gcore demo account");
    spec.gcore_api = api;
    spec.retry = infertop::provider::http::RetryPolicy::none();
    spec
}

fn http() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(20))
}

fn client(base: &str, api: GcoreApi) -> GcoreClient {
    GcoreClient::new(&gcore_spec(base, api), http()).with_task_poll_interval(Duration::from_millis(5))
}

/// Raw GET with the demo key, returning status and JSON.
async fn raw_get(base: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("authorization", "APIKey demo-gcore-key")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    v
}

fn v3_spec() -> Spec {
    Spec::load("gcore-inference.openapi.json")
}

fn v2_spec() -> Spec {
    Spec::load("gcore-inference-v2-legacy.openapi.json")
}

// ---------------------------------------------------------------- seeds

#[test]
fn seed_000_examples_parse_and_convert() {
    let ex = seed_json_examples("000_b220e6409c3ab2b4.txt");
    assert!(!ex.is_empty());
    let mut logging_seen = false;
    for v in &ex {
        if v.get("topic_name").is_some() {
            let l: wire::Logging = serde_json::from_value(v.clone()).unwrap();
            let m = convert::logging(&l);
            assert!(m.enabled);
            assert_eq!(m.destination_region_id, Some(1));
            assert_eq!(m.topic_name.as_deref(), Some("my-log-name"));
            assert_eq!(m.retention_days, Some(45));
            logging_seen = true;
        } else if v.get("disable_response_buffering").is_some() {
            let i: wire::IngressOpts = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(i.disable_response_buffering, Some(true));
        } else {
            let envs: std::collections::BTreeMap<String, String> = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(envs["KEY"], "12345");
        }
    }
    assert!(logging_seen);
}

#[test]
fn seed_001_v2_examples_parse_and_convert() {
    let ex = seed_json_examples("001_51b3ba8dd45b9c92.txt");
    let full: Vec<&Value> = ex.iter().filter(|v| v.get("flavor_id").is_some()).collect();
    assert!(full.len() >= 2, "the PUT request and response");
    for v in &full {
        let w: wire::DeploymentV2 = serde_json::from_value((*v).clone()).unwrap();
        let names = [("7".to_string(), "Luxembourg-2".to_string())].into_iter().collect();
        let d = convert::deployment_v2(&w, "acc", &names, true);
        assert_eq!(d.name, "my-instance");
        assert_eq!(d.command.as_deref(), Some("nginx -g \"daemon off;\""));
        assert_eq!(d.regions[0].region_id, "7");
        assert_eq!(d.regions[0].region_name.as_deref(), Some("Luxembourg-2"));
        assert_eq!((d.regions[0].scale.min, d.regions[0].scale.max), (1, 3));
        assert_eq!(d.regions[0].scale.triggers.memory, Some(70));
        let p = d.probes.as_ref().unwrap();
        let live = p.liveness.as_ref().unwrap();
        assert!(live.enabled);
        assert_eq!(live.probe.http_get.as_ref().unwrap().path, "/healthz");
        assert_eq!(live.probe.exec.as_ref().unwrap().command, ["ls", "-l"]);
        assert_eq!(d.envs["DEBUG_MODE"], "False");
    }
    // The response carries id, status and deploy_status.
    let resp = full.iter().find(|v| v.get("id").is_some()).unwrap();
    let w: wire::DeploymentV2 = serde_json::from_value((*resp).clone()).unwrap();
    let d = convert::deployment_v2(&w, "acc", &Default::default(), true);
    assert_eq!(d.key.id, "3fa85f64-5717-4562-b3fc-2c963f66afa6");
    assert_eq!(d.status, Status::Active);
    assert_eq!((d.ready(), d.total()), (1, 3));
    assert_eq!(d.created_at.unwrap().to_rfc3339(), "2023-08-22T11:21:00+00:00");
    // The smaller examples (containers lists) parse as containers.
    for v in ex.iter().filter(|v| v.is_array()) {
        let _: Vec<wire::Container> = serde_json::from_value(v.clone()).unwrap();
    }
    // The seed's PUT body is a valid v2 request; its response a valid v2 deployment.
    let spec = v2_spec();
    let req = full.iter().find(|v| v.get("id").is_none()).unwrap();
    spec.assert_request("PUT", V2_ONE, req);
    spec.assert_response("PUT", V2_ONE, 200, resp);
}

#[test]
fn seed_002_v3_get_parses_and_converts() {
    let ex = seed_json_examples("002_302b424bce316269.txt");
    let get = ex.iter().find(|v| v.get("flavor_name").is_some() && v.get("status").is_some()).unwrap();
    let w: wire::Deployment = serde_json::from_value(get.clone()).unwrap();
    let d = convert::deployment_v3(&w, "acc", &Default::default(), true);
    assert_eq!(d.key.id, "my-instance");
    assert_eq!(d.status, Status::Active);
    assert_eq!(d.hardware.as_deref(), Some("inference-16vcpu-232gib-1xh100-80gb"));
    assert_eq!(d.port, Some(8080));
    assert_eq!(d.address.as_deref(), Some("https://example.com"));
    assert_eq!(d.command.as_deref(), Some("nginx -g \"daemon off;\""));
    assert_eq!(d.regions.len(), 1);
    assert_eq!(d.regions[0].region_id, "1");
    assert_eq!((d.regions[0].ready, d.regions[0].total), (1, 3));
    assert_eq!(d.regions[0].scale.cooldown_seconds, Some(60));
    assert_eq!(d.regions[0].scale.triggers.cpu, Some(80));
    let l = d.logging.as_ref().unwrap();
    assert_eq!((l.enabled, l.retention_days), (true, Some(45)));
    assert!(d.probes.as_ref().unwrap().startup.is_some());
    assert_eq!(d.description.as_deref(), Some("My first instance"));
    // The seed's example against the spec: only `command` (an array where the spec says string|null) and the
    // keys the example leaves out (object_references, containers[].address/error_message, polling_interval,
    // the null triggers) differ.
    let spec = v3_spec();
    let errors = spec.check(&spec.response_schema("GET", V3_ONE, 200), get);
    assert!(!errors.is_empty());
    for e in &errors {
        assert!(
            e.contains("/command")
                || e.contains("object_references")
                || e.contains("\"address\"")
                || e.contains("error_message")
                || e.contains("polling_interval")
                || e.contains("gpu_utilization")
                || e.contains("gpu_memory")
                || e.contains("\"http\"")
                || e.contains("\"sqs\""),
            "unexpected difference between the seed and the spec: {e}"
        );
    }
    assert!(errors.iter().any(|e| e.contains("/command")), "the seed's command is an array: {errors:?}");
}

// ---------------------------------------------------------------- contract

#[tokio::test]
async fn simulator_answers_match_the_v3_spec() {
    let h = sim().await;
    let base = h.base_url();
    let spec = v3_spec();
    let (s, list) = raw_get(&base, "/cloud/v3/inference/1/deployments").await;
    assert_eq!(s, 200);
    spec.assert_response("GET", V3_LIST, 200, &list);
    let names: Vec<String> =
        list["results"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    assert!(names.len() >= 9);
    for n in &names {
        let (s, d) = raw_get(&base, &format!("/cloud/v3/inference/1/deployments/{n}")).await;
        assert_eq!(s, 200);
        spec.assert_response("GET", V3_ONE, 200, &d);
        // The simulator emits `command` as the spec types it: a string (or null).
        assert!(d["command"].is_string() || d["command"].is_null());
        let (s, logs) = raw_get(&base, &format!("/cloud/v3/inference/1/deployments/{n}/logs?limit=5")).await;
        assert_eq!(s, 200);
        spec.assert_response("GET", &format!("{V3_ONE}/logs"), 200, &logs);
    }
    let (_, flavors) = raw_get(&base, "/cloud/v3/inference/flavors").await;
    spec.assert_response("GET", "/cloud/v3/inference/flavors", 200, &flavors);
    let (_, flavor) = raw_get(&base, "/cloud/v3/inference/flavors/inference-4vcpu-16gib").await;
    spec.assert_response("GET", "/cloud/v3/inference/flavors/{flavor_name}", 200, &flavor);
    let (_, cap) = raw_get(&base, "/cloud/v3/inference/capacity").await;
    spec.assert_response("GET", "/cloud/v3/inference/capacity", 200, &cap);
    let (_, regions) = raw_get(&base, "/cloud/v1/regions?product=inference").await;
    spec.assert_response("GET", "/cloud/v1/regions", 200, &regions);
    assert_eq!(regions["count"], 4);
}

#[tokio::test]
async fn client_requests_and_task_answers_match_the_v3_spec() {
    let h = sim().await;
    let rec = Recorder::start(h.base_url()).await;
    let c = client(&rec.base, GcoreApi::V3);
    let spec = v3_spec();

    let d = c.get("mistral-7b-support").await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 4;
    c.update_scale("mistral-7b-support", &u).await.unwrap();
    let mut p = d.probes.as_deref().cloned().unwrap();
    p.readiness.as_mut().unwrap().probe.period_seconds = Some(7);
    p.startup = Some(ProbeConfig {
        enabled: true,
        probe: Probe {
            tcp_socket: Some(TcpSocketAction { port: 8080 }),
            failure_threshold: Some(30),
            ..Default::default()
        },
    });
    c.update_probes("mistral-7b-support", &p).await.unwrap();
    let create = json!({
        "name": "contract-check", "image": "nginx:latest", "listening_port": 80,
        "flavor_name": "inference-4vcpu-16gib", "containers": [{"region_id": 7, "scale": {"min": 1, "max": 2}}]
    });
    c.create(&create).await.unwrap();
    c.price_preview("inference-4vcpu-16gib", &[(7, 2), (38, 1)]).await.unwrap();

    let seen = rec.take();
    let patches: Vec<&Seen> = seen.iter().filter(|s| s.method == "PATCH").collect();
    assert_eq!(patches.len(), 2);
    for s in &patches {
        spec.assert_request("PATCH", V3_ONE, s.body.as_ref().unwrap());
    }
    let post =
        seen.iter().find(|s| s.method == "POST" && s.path_and_query.ends_with("/deployments")).unwrap();
    spec.assert_request("POST", V3_LIST, post.body.as_ref().unwrap());
    let price = seen.iter().find(|s| s.path_and_query.starts_with("/cloud/v2/pricing")).unwrap();
    spec.assert_request("POST", "/cloud/v2/pricing/inference/deployments", price.body.as_ref().unwrap());
    assert!(seen.iter().all(|s| s.authorization == "APIKey demo-gcore-key"));
    assert!(seen.iter().any(|s| s.path_and_query.starts_with("/cloud/v1/tasks/")));

    // The answers themselves: a task list, a task, a price.
    let base = h.base_url();
    let r = reqwest::Client::new()
        .patch(format!("{base}/cloud/v3/inference/1/deployments/bge-m3-embed"))
        .header("authorization", "APIKey demo-gcore-key")
        .json(&json!({"timeout": 300}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids: Value = r.json().await.unwrap();
    spec.assert_response("PATCH", V3_ONE, 200, &ids);
    let task_id = ids["tasks"][0].as_str().unwrap();
    for _ in 0..3 {
        let (s, t) = raw_get(&base, &format!("/cloud/v1/tasks/{task_id}")).await;
        assert_eq!(s, 200);
        spec.assert_response("GET", "/cloud/v1/tasks/{task_id}", 200, &t);
    }
    let r = reqwest::Client::new()
        .post(format!("{base}/cloud/v2/pricing/inference/deployments"))
        .header("authorization", "APIKey demo-gcore-key")
        .json(&json!({"flavor_name": "inference-16vcpu-232gib-1xh100-80gb", "containers": [{"region_id": 7, "scale": {"max": 2}}]}))
        .send()
        .await
        .unwrap();
    let price: Value = r.json().await.unwrap();
    spec.assert_response("POST", "/cloud/v2/pricing/inference/deployments", 200, &price);
}

#[tokio::test]
async fn simulator_and_client_match_the_v2_spec() {
    let h = sim().await;
    let rec = Recorder::start(h.base_url()).await;
    let spec = v2_spec();
    let base = h.base_url();
    let (s, list) = raw_get(&base, "/cloud/v2/inference/deployments?project_id=1").await;
    assert_eq!(s, 200);
    spec.assert_response("GET", V2_LIST, 200, &list);
    for d in list["results"].as_array().unwrap() {
        let (s, one) =
            raw_get(&base, &format!("/cloud/v2/inference/deployments/{}", d["id"].as_str().unwrap())).await;
        assert_eq!(s, 200);
        spec.assert_response("GET", V2_ONE, 200, &one);
        assert!(one["command"].is_array() || one["command"].is_null());
    }
    let c = client(&rec.base, GcoreApi::V2);
    let all = c.list().await.unwrap();
    let d = all.iter().find(|d| d.name == "rerank-v2").unwrap();
    let mut u = ScaleUpdate::from_deployment(d);
    u.regions[0].scale.max = 5;
    c.update_scale(&d.key.id, &u).await.unwrap();
    let mut p = d.probes.as_deref().cloned().unwrap();
    p.liveness = None;
    c.update_probes(&d.key.id, &p).await.unwrap();
    let puts: Vec<Seen> = rec.take().into_iter().filter(|s| s.method == "PUT").collect();
    assert_eq!(puts.len(), 2);
    for s in &puts {
        spec.assert_request("PUT", V2_ONE, s.body.as_ref().unwrap());
    }
    let (_, one) = raw_get(&base, &format!("/cloud/v2/inference/deployments/{}", d.key.id)).await;
    spec.assert_response("PUT", V2_ONE, 200, &one);
}

// ---------------------------------------------------------------- v3 behaviour

/// A list that comes back byte for byte as the last one is not decoded again (the dashboard then keeps its
/// rows); a changed answer, a list of several pages, and the v2 API are read in full.
#[tokio::test]
async fn a_list_as_it_was_is_not_decoded_again_and_a_changed_one_is() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let mut last = None;
    let first = c.list_unless_same(&mut last).await.unwrap().expect("the first list is read").items;
    assert_eq!(first.len(), 9);
    assert!(last.is_some());
    assert!(c.list_unless_same(&mut last).await.unwrap().is_none(), "the same answer");
    let d = first.iter().find(|d| d.status == Status::Active).unwrap();
    let mut u = ScaleUpdate::from_deployment(d);
    u.regions[0].scale.max += 1;
    c.update_scale(&d.key.id, &u).await.unwrap();
    let again = c.list_unless_same(&mut last).await.unwrap().expect("a changed list is read").items;
    let now = again.iter().find(|x| x.key == d.key).unwrap();
    assert_eq!(now.regions[0].scale.max, u.regions[0].scale.max);
    assert!(c.list_unless_same(&mut last).await.unwrap().is_none());
    // The fingerprint belongs to the answer: another client's last answer is not this one's.
    let mut stale = Some(0);
    assert!(c.list_unless_same(&mut stale).await.unwrap().is_some());
    let paged = client(&h.base_url(), GcoreApi::V3).with_page_size(2);
    let v2 = client(&h.base_url(), GcoreApi::V2);
    for p in [&paged, &v2] {
        let mut last = None;
        for _ in 0..2 {
            assert!(!p.list_unless_same(&mut last).await.unwrap().expect("read in full").items.is_empty());
            assert!(last.is_none());
        }
    }
}

#[tokio::test]
async fn list_pages_through_every_deployment() {
    let h = sim().await;
    let rec = Recorder::start(h.base_url()).await;
    let c = GcoreClient::new(&gcore_spec(&rec.base, GcoreApi::V3), http()).with_page_size(2);
    let all = c.list().await.unwrap();
    assert_eq!(all.len(), 9);
    let mut names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 9, "no page read twice: {names:?}");
    let mut pages: Vec<String> = rec
        .take()
        .into_iter()
        .filter(|s| s.path_and_query.starts_with("/cloud/v3/inference/1/deployments"))
        .map(|s| s.path_and_query)
        .collect();
    // The first page gives the total; the others go out together, so only the first is in a known place.
    assert_eq!(pages[0], "/cloud/v3/inference/1/deployments?limit=2");
    pages[1..].sort();
    assert_eq!(
        pages,
        [
            "/cloud/v3/inference/1/deployments?limit=2",
            "/cloud/v3/inference/1/deployments?limit=2&offset=2",
            "/cloud/v3/inference/1/deployments?limit=2&offset=4",
            "/cloud/v3/inference/1/deployments?limit=2&offset=6",
            "/cloud/v3/inference/1/deployments?limit=2&offset=8",
        ]
    );
    // Through `connect` too, with region names from the catalog.
    let p = infertop::provider::connect(&gcore_spec(&h.base_url(), GcoreApi::V3), http());
    let all = p.list().await.unwrap();
    let llama = all.iter().find(|d| d.name == "llama-3-70b-chat").unwrap();
    assert_eq!(llama.regions[0].region_name.as_deref(), Some("Luxembourg-2"));
    assert!(!llama.detail);
    let stopped = all.iter().find(|d| d.name == "phi-3-mini-staging").unwrap();
    assert_eq!(stopped.status, Status::Disabled);
    let zero = all.iter().find(|d| d.name == "qwen2-vl-batch").unwrap();
    assert_eq!(zero.status, Status::ScaledToZero);
    let broken = all.iter().find(|d| d.name == "whisper-large-v3").unwrap();
    assert_eq!(broken.status, Status::PartiallyDeployed);
    assert!(
        broken.regions.iter().any(|r| r.error.as_deref().is_some_and(|e| e.contains("Failed to pull image")))
    );
}

/// Pages read several at once (the first gives the total) arrive once each, and the list keeps the
/// server's order, on v3 and v2.
#[tokio::test]
async fn concurrent_pages_arrive_once_each_and_in_order() {
    let h = infertop::sim::start(
        SimConfig { fleet: Some(2_000), time_scale: 0.0, ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let rec = Recorder::start(h.base_url()).await;
    for (api, path, one_page) in [
        (GcoreApi::V3, "/cloud/v3/inference/1/deployments", "/cloud/v3/inference/1/deployments?limit=1000"),
        (
            GcoreApi::V2,
            "/cloud/v2/inference/deployments",
            "/cloud/v2/inference/deployments?project_id=1&limit=1000",
        ),
    ] {
        let (_, whole) = raw_get(&h.base_url(), one_page).await;
        let want: Vec<&str> =
            whole["results"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert!(want.len() > 600, "a fleet of many pages: {}", want.len());
        let c = GcoreClient::new(&gcore_spec(&rec.base, api), http()).with_page_size(50);
        let got = c.list().await.unwrap();
        let got: Vec<&str> = got.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(got, want, "{api:?}: every deployment once, in the server's order");
        let offsets: Vec<u64> = rec
            .take()
            .into_iter()
            .filter(|s| s.path_and_query.starts_with(path))
            .map(|s| {
                s.path_and_query
                    .split(['?', '&'])
                    .find_map(|q| q.strip_prefix("offset="))
                    .map_or(0, |o| o.parse().unwrap())
            })
            .collect();
        assert_eq!(offsets[0], 0, "{api:?}: the first page first");
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        let pages = want.len().div_ceil(50) as u64;
        assert_eq!(sorted, (0..pages).map(|k| k * 50).collect::<Vec<_>>(), "{api:?}: each page read once");
    }
}

#[tokio::test]
async fn get_converts_every_part() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let d = c.get("llama-3-70b-chat").await.unwrap();
    assert!(d.detail);
    assert_eq!(d.key.id, "llama-3-70b-chat");
    assert_eq!(d.status, Status::Active);
    assert_eq!(d.hardware.as_deref(), Some("inference-16vcpu-232gib-1xh100-80gb"));
    assert_eq!(d.regions.len(), 2);
    assert_eq!(d.regions[1].region_name.as_deref(), Some("Santa Clara"));
    assert_eq!((d.regions[0].ready, d.regions[0].total), (4, 4));
    let s = &d.regions[0].scale;
    assert_eq!((s.min, s.max, s.cooldown_seconds, s.polling_interval_seconds), (1, 4, Some(60), Some(30)));
    assert_eq!(s.triggers.gpu_utilization, Some(75));
    assert_eq!(s.triggers.http.map(|h| (h.rate, h.window)), Some((50, 60)));
    let l = d.logging.as_ref().unwrap();
    assert!(l.enabled);
    assert_eq!(l.topic_name.as_deref(), Some("llama-chat-logs"));
    assert_eq!(d.envs["MAX_MODEL_LEN"], "8192");
    assert_eq!(d.command.as_deref(), Some("python3 -m vllm.entrypoints.openai.api_server --port 8080"));
    let p = d.probes.as_ref().unwrap();
    assert_eq!(p.readiness.as_ref().unwrap().probe.http_get.as_ref().unwrap().path, "/health");
    assert_eq!(p.startup.as_ref().unwrap().probe.exec.as_ref().unwrap().command, ["cat", "/tmp/ready"]);
    assert!(d.created_at.is_some());
    assert!(d.address.as_deref().unwrap().starts_with("https://"));
    let e = c.get("no-such-thing").await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert!(e.message.contains("not found"));
}

#[tokio::test]
async fn update_scale_changes_only_the_scale() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let name = "mistral-7b-support";
    let before = c.raw(name).await.unwrap();
    let d = c.get(name).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    assert_eq!(u.regions.len(), 3);
    u.regions[1].scale.max = 5; // region 38
    u.regions.truncate(2); // region 91 goes
    let applied = c.update_scale(name, &u).await.unwrap();
    assert!(matches!(applied, Applied::Done(_)));
    assert_eq!(applied.deployment().regions.len(), 2);
    let after = c.raw(name).await.unwrap();
    assert_eq!(without(&after, &["containers"]), without(&before, &["containers"]));
    let (b, a) = (&before["containers"], &after["containers"]);
    assert_eq!(a[0], b[0]);
    let mut expected = b[1].clone();
    expected["scale"]["max"] = json!(5);
    assert_eq!(a[1], expected);
    assert_eq!(a.as_array().unwrap().len(), 2);

    // The same edit again is a no-op: the API answers `{"tasks": []}`.
    let again = c.update_scale(name, &u).await.unwrap();
    assert!(matches!(again, Applied::NoChange(_)));
}

#[tokio::test]
async fn update_scale_keeps_the_sqs_trigger_and_ready_counts_climb() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let before = c.raw("qwen2-vl-batch").await.unwrap();
    let sqs = before["containers"][0]["scale"]["triggers"]["sqs"].clone();
    assert!(sqs.is_object());
    let d = c.get("qwen2-vl-batch").await.unwrap();
    assert!(d.regions[0].scale.triggers.other.contains_key("sqs"));
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 4;
    c.update_scale("qwen2-vl-batch", &u).await.unwrap();
    let after = c.raw("qwen2-vl-batch").await.unwrap();
    assert_eq!(after["containers"][0]["scale"]["triggers"], before["containers"][0]["scale"]["triggers"]);
    assert_eq!(after["containers"][0]["scale"]["max"], 4);

    // Scale up sdxl-turbo-images in region 7 (demand 5): the ready count climbs with simulated time.
    let d = c.get("sdxl-turbo-images").await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    let i = u.regions.iter().position(|r| r.region_id == "7").unwrap();
    u.regions[i].scale.max = 5;
    let done = c.update_scale("sdxl-turbo-images", &u).await.unwrap();
    let r = &done.deployment().regions[i];
    assert_eq!((r.ready, r.total), (2, 2));
    assert_eq!(done.deployment().status, Status::PartiallyDeployed);
    h.advance(1.0);
    let r1 = c.get("sdxl-turbo-images").await.unwrap().regions[i].clone();
    assert_eq!(r1.total, 3);
    h.advance(20.0);
    let d = c.get("sdxl-turbo-images").await.unwrap();
    assert_eq!((d.regions[i].ready, d.regions[i].total), (5, 5));
    // Region 38 has 2 H100 slots for a demand of 5: it stays short, and says so.
    let r38 = d.regions.iter().find(|r| r.region_id == "38").unwrap();
    assert_eq!(r38.total, 2);
    assert!(r38.error.as_deref().is_some_and(|e| e.starts_with("No capacity available")));
    assert_eq!(d.status, Status::PartiallyDeployed);
}

#[tokio::test]
async fn update_probes_changes_only_the_probes() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let name = "bge-m3-embed";
    let before = c.raw(name).await.unwrap();
    let d = c.get(name).await.unwrap();
    let mut p = d.probes.as_deref().cloned().unwrap();
    let r = p.readiness.as_mut().unwrap();
    r.probe.period_seconds = Some(5);
    r.probe.http_get = Some(HttpGetAction {
        path: "/ready".into(),
        port: 80,
        scheme: "HTTP".into(),
        host: None,
        headers: [("X-Check".to_string(), "1".to_string())].into_iter().collect(),
    });
    p.liveness = None; // turned off
    let applied = c.update_probes(name, &p).await.unwrap();
    assert!(matches!(applied, Applied::Done(_)));
    let after = c.raw(name).await.unwrap();
    assert_eq!(without(&after, &["probes"]), without(&before, &["probes"]));
    let (bp, ap) = (&before["probes"], &after["probes"]);
    assert_eq!(ap["startup_probe"], bp["startup_probe"]);
    let mut expected = bp["readiness_probe"].clone();
    expected["probe"]["period_seconds"] = json!(5);
    expected["probe"]["http_get"] =
        json!({"headers": {"X-Check": "1"}, "host": null, "path": "/ready", "port": 80, "schema": "HTTP"});
    assert_eq!(ap["readiness_probe"], expected);
    assert_eq!(ap["liveness_probe"]["enabled"], false);
    assert_eq!(ap["liveness_probe"]["probe"], bp["liveness_probe"]["probe"]);
    let got = applied.deployment().probes.as_deref().cloned().unwrap();
    assert_eq!(got.readiness, p.readiness);

    // Sending the probes as they are changes nothing.
    let now = c.get(name).await.unwrap().probes.unwrap();
    assert!(matches!(c.update_probes(name, &now).await.unwrap(), Applied::NoChange(_)));
}

#[tokio::test]
async fn stop_start_and_delete() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let name = "llama-guard-3";
    c.stop(name).await.unwrap();
    let d = c.get(name).await.unwrap();
    assert_eq!(d.status, Status::Disabled);
    assert_eq!(d.total(), 0);
    c.start(name).await.unwrap();
    let d = c.get(name).await.unwrap();
    assert_eq!(d.status, Status::Deploying);
    h.advance(10.0);
    let d = c.get(name).await.unwrap();
    assert_eq!(d.status, Status::Active);
    assert_eq!((d.ready(), d.total()), (2, 2));

    // Delete: DELETING while the task runs, gone once it finished (the client follows the task).
    let base = h.base_url();
    let r = reqwest::Client::new()
        .delete(format!("{base}/cloud/v3/inference/1/deployments/rerank-v2"))
        .header("authorization", "APIKey demo-gcore-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, d) = raw_get(&base, "/cloud/v3/inference/1/deployments/rerank-v2").await;
    assert_eq!(d["status"], "DELETING");
    h.advance(5.0);
    let (s, _) = raw_get(&base, "/cloud/v3/inference/1/deployments/rerank-v2").await;
    assert_eq!(s, 404);

    c.delete(name).await.unwrap();
    let e = c.get(name).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(c.list().await.unwrap().len(), 7);
}

#[tokio::test]
async fn a_failed_task_is_an_error_with_the_tasks_message() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let before = c.raw("bge-m3-embed").await.unwrap();
    let d = c.get("bge-m3-embed").await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions.push(RegionScale { region_id: "999".into(), scale: u.regions[0].scale.clone() });
    let e = c.update_scale("bge-m3-embed", &u).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other);
    assert_eq!(e.message, "Region 999 is not available for inference");
    assert_eq!(c.raw("bge-m3-embed").await.unwrap(), before);
}

#[tokio::test]
async fn logs_are_generated_per_region_and_pod() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let lines = c.logs("mistral-7b-support", &LogQuery { limit: 50, region_id: None }).await.unwrap();
    assert_eq!(lines.len(), 50);
    assert!(lines.windows(2).all(|w| w[0].time >= w[1].time), "newest first");
    assert!(lines.iter().any(|l| l.time.timestamp_subsec_nanos() % 1000 != 0), "nanosecond timestamps");
    let regions: std::collections::BTreeSet<&str> = lines.iter().map(|l| l.region_id.as_str()).collect();
    assert!(regions.len() > 1);
    let again = c.logs("mistral-7b-support", &LogQuery { limit: 50, region_id: None }).await.unwrap();
    assert_eq!(lines, again, "deterministic for the same seed and clock");
    let only =
        c.logs("mistral-7b-support", &LogQuery { limit: 20, region_id: Some("38".into()) }).await.unwrap();
    assert!(!only.is_empty());
    assert!(only.iter().all(|l| l.region_id == "38" && l.pod.starts_with("mistral-7b-support-")));
    // Time moves, new lines appear.
    h.advance(60.0);
    let later = c.logs("mistral-7b-support", &LogQuery { limit: 1, region_id: None }).await.unwrap();
    assert!(later[0].time > lines[0].time);
    let e =
        c.logs("mistral-7b-support", &LogQuery { limit: 1, region_id: Some("x".into()) }).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
}

#[tokio::test]
async fn bad_credentials_and_other_projects_get_gcore_errors() {
    let h = sim().await;
    let mut spec = gcore_spec(&h.base_url(), GcoreApi::V3);
    spec.credentials = Credentials::Gcore { api_key: Secret::new("wrong-key"), project_id: 1 };
    let c = GcoreClient::new(&spec, http());
    let e = c.list().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Auth, Some(401)));
    assert_eq!(e.message, "Invalid API key");
    assert!(!format!("{e} {e:?}").contains("wrong-key"));

    let base = h.base_url();
    let r = reqwest::Client::new()
        .get(format!("{base}/cloud/v3/inference/1/deployments"))
        .header("authorization", "Bearer demo-gcore-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Given token not valid for any token type");
    assert_eq!(body["exception_class"], "token_not_valid");
    assert!(body["request_id"].is_string());
    // The word is case-insensitive.
    let r = reqwest::Client::new()
        .get(format!("{base}/cloud/v3/inference/1/deployments"))
        .header("authorization", "apikey demo-gcore-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    spec.credentials = Credentials::Gcore { api_key: Secret::new("demo-gcore-key"), project_id: 2 };
    let e = GcoreClient::new(&spec, http()).list().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert_eq!(e.message, "Project 2 not found");
}

#[tokio::test]
async fn create_validates_with_the_documented_limits() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let bad = json!({
        "name": "abc", "image": "nginx:latest", "listening_port": 80, "flavor_name": "inference-4vcpu-16gib",
        "containers": [{"region_id": 7, "scale": {"min": 0, "max": 301}}]
    });
    let e = c.create(&bad).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Validation, Some(400)));
    assert!(e.message.starts_with("Validation Error: {"), "{}", e.message);
    assert!(e.fields.contains(&("name".into(), "String should have at least 4 characters".into())));
    assert!(
        e.fields
            .contains(&("containers.0.scale.max".into(), "Input should be less than or equal to 300".into()))
    );
    assert!(e.request_id.is_some());
    let shown = e.to_string();
    assert!(shown.contains("containers.0.scale.max: Input should be less than or equal to 300"), "{shown}");

    let good = json!({
        "name": "fresh-nginx", "image": "nginx:latest", "listening_port": 80, "flavor_name": "inference-4vcpu-16gib",
        "containers": [{"region_id": 38, "scale": {"min": 1, "max": 2}}], "envs": {"A": "1"}
    });
    let done = c.create(&good).await.unwrap();
    let d = done.deployment();
    assert_eq!(d.name, "fresh-nginx");
    assert_eq!(d.regions[0].region_name.as_deref(), Some("Amsterdam"));
    // Server-side defaults.
    let raw = c.raw("fresh-nginx").await.unwrap();
    assert_eq!(raw["timeout"], 120);
    assert_eq!(raw["description"], "");
    assert_eq!(raw["credentials_name"], "");
    assert_eq!(raw["containers"][0]["scale"]["cooldown_period"], 60);
    assert_eq!(raw["containers"][0]["scale"]["polling_interval"], 30);
    assert_eq!(raw["containers"][0]["scale"]["triggers"]["cpu"]["threshold"], 80);
    assert_eq!(raw["containers"][0]["scale"]["triggers"]["memory"]["threshold"], 80);
    h.advance(10.0);
    assert_eq!(c.get("fresh-nginx").await.unwrap().status, Status::Active);
    let e = c.create(&good).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Conflict, Some(409)));
}

#[tokio::test]
async fn catalogs_capacity_and_prices() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V3);
    let regions = c.regions().await.unwrap();
    assert_eq!(regions.len(), 4);
    let lux = regions.iter().find(|r| r.id == "7").unwrap();
    assert_eq!(lux.name, "Luxembourg-2");
    assert_eq!(lux.state.as_deref(), Some("ACTIVE"));
    // 6 H100 slots in Luxembourg-2, 4 used by llama-3-70b-chat and 2 by sdxl-turbo-images.
    assert_eq!(lux.capacity["inference-16vcpu-232gib-1xh100-80gb"], 0);
    assert!(lux.capacity["inference-16vcpu-232gib-1xl40s-48gb"] > 0);
    let hw = c.hardware().await.unwrap();
    let h100 = hw.iter().find(|f| f.id == "inference-16vcpu-232gib-1xh100-80gb").unwrap();
    assert_eq!(
        (h100.gpu_model.as_deref(), h100.gpu_count, h100.gpu_memory_gib),
        (Some("H100"), Some(1), Some(80.0))
    );
    let p = c.price_preview("inference-16vcpu-232gib-1xh100-80gb", &[(7, 2), (38, 1)]).await.unwrap();
    assert_eq!(p.price_status.as_deref(), Some("show"));
    assert_eq!(p.currency_code.as_deref(), Some("EUR"));
    assert!((p.price_per_hour.unwrap() - 3.0 * 3.45).abs() < 1e-9);
    let e = c.price_preview("no-such-flavor", &[(7, 1)]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert!(e.fields.iter().any(|(f, _)| f == "flavor_name"));
}

// ---------------------------------------------------------------- v2 behaviour

#[tokio::test]
async fn v2_put_really_replaces_and_the_client_keeps_everything() {
    let h = sim().await;
    let base = h.base_url();
    let c = client(&base, GcoreApi::V2);
    let all = c.list().await.unwrap();
    assert_eq!(all.len(), 9);
    let id_of = |n: &str| all.iter().find(|d| d.name == n).unwrap().key.id.clone();

    // A naive PUT with only the required fields and containers wipes envs, probes, command, description...
    let naive_id = id_of("llama-3-70b-chat");
    let raw = c.raw(&naive_id).await.unwrap();
    assert!(!raw["envs"].as_object().unwrap().is_empty());
    assert!(raw["probes"].is_object());
    let naive = json!({
        "name": raw["name"], "image": raw["image"], "listening_port": raw["listening_port"],
        "flavor_id": raw["flavor_id"], "project_id": 1,
        "containers": raw["containers"].as_array().unwrap().iter()
            .map(|c| json!({"region_id": c["region_id"], "scale": {"min": 1, "max": 2}})).collect::<Vec<_>>(),
    });
    let r = reqwest::Client::new()
        .put(format!("{base}/cloud/v2/inference/deployments/{naive_id}"))
        .header("authorization", "APIKey demo-gcore-key")
        .json(&naive)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let wiped: Value = r.json().await.unwrap();
    assert_eq!(wiped["envs"], json!({}));
    assert_eq!(wiped["probes"], Value::Null);
    assert_eq!(wiped["command"], Value::Null);
    assert_eq!(wiped["description"], Value::Null);
    assert_eq!(wiped["api_key_ids"], json!([]));
    assert_eq!(wiped["image_registry_id"], Value::Null);

    // The client's update reads the deployment and sends every field back: nothing it did not touch is lost.
    let id = id_of("mistral-7b-support");
    let before = c.raw(&id).await.unwrap();
    assert!(!before["envs"].as_object().unwrap().is_empty());
    let d = c.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 6;
    let applied = c.update_scale(&id, &u).await.unwrap();
    assert!(matches!(applied, Applied::Done(_)));
    let after = c.raw(&id).await.unwrap();
    assert_eq!(without(&after, &["containers"]), without(&before, &["containers"]));
    let mut expected = before["containers"].clone();
    expected[0]["scale"]["max"] = json!(6);
    assert_eq!(after["containers"], expected);
    // The v3 view agrees, and kept what v2 does not know (polling interval, logging).
    let v3 = client(&base, GcoreApi::V3);
    let v3raw = v3.raw("mistral-7b-support").await.unwrap();
    assert_eq!(v3raw["containers"][0]["scale"]["polling_interval"], 30);
    assert_eq!(v3raw["containers"][0]["scale"]["max"], 6);
    // Unchanged edit: no PUT at all.
    assert!(matches!(c.update_scale(&id, &u).await.unwrap(), Applied::NoChange(_)));

    // Probes through v2, with the same guarantee.
    let before = c.raw(&id).await.unwrap();
    let mut p = c.get(&id).await.unwrap().probes.as_deref().cloned().unwrap();
    p.liveness.as_mut().unwrap().probe.failure_threshold = Some(9);
    c.update_probes(&id, &p).await.unwrap();
    let after = c.raw(&id).await.unwrap();
    assert_eq!(without(&after, &["probes"]), without(&before, &["probes"]));
    assert_eq!(after["probes"]["readiness_probe"], before["probes"]["readiness_probe"]);
    assert_eq!(after["probes"]["liveness_probe"]["probe"]["failure_threshold"], 9);
}

#[tokio::test]
async fn v2_start_stop_delete_and_logs() {
    let h = sim().await;
    let c = client(&h.base_url(), GcoreApi::V2);
    let all = c.list().await.unwrap();
    let d = all.iter().find(|d| d.name == "whisper-large-v3").unwrap();
    // v2 names flavors by uuid; the client shows the flavor's name read from the flavor endpoint.
    assert!(d.hardware.as_deref().is_some_and(|f| f.starts_with("inference-")), "{:?}", d.hardware);
    c.stop(&d.key.id).await.unwrap();
    assert_eq!(c.get(&d.key.id).await.unwrap().status, Status::Disabled);
    c.start(&d.key.id).await.unwrap();
    h.advance(10.0);
    assert_eq!(c.get(&d.key.id).await.unwrap().status, Status::PartiallyDeployed);
    let lines = c.logs(&d.key.id, &LogQuery { limit: 10, region_id: None }).await.unwrap();
    assert_eq!(lines.len(), 10);
    let only = c.logs(&d.key.id, &LogQuery { limit: 10, region_id: Some("38".into()) }).await.unwrap();
    assert!(only.iter().all(|l| l.region_id == "38"));
    c.delete(&d.key.id).await.unwrap();
    assert_eq!(c.get(&d.key.id).await.unwrap().status, Status::Deleting);
    h.advance(5.0);
    assert_eq!(c.get(&d.key.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let caps = c.capabilities();
    assert!(caps.update_scale && caps.update_probes && caps.logs && !caps.metrics && !caps.logging_config);
}

#[tokio::test]
async fn v2_hardware_is_named_from_the_flavor_read_once_per_uuid() {
    let h = sim().await;
    let rec = Recorder::start(h.base_url()).await;
    let base = h.base_url();
    let (_, list) = raw_get(&base, "/cloud/v2/inference/deployments?project_id=1").await;
    let uuids: std::collections::BTreeSet<String> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["flavor_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!uuids.is_empty());
    let c = client(&rec.base, GcoreApi::V2);
    let first = c.list().await.unwrap();
    for d in &first {
        let id = list["results"].as_array().unwrap().iter().find(|w| w["id"] == d.key.id.as_str()).unwrap();
        let (s, flavor) =
            raw_get(&base, &format!("/cloud/v2/inference/flavors/{}", id["flavor_id"].as_str().unwrap()))
                .await;
        assert_eq!(s, 200);
        // FlavorOutSerializer's required fields, and the name is what the row shows.
        for k in ["name", "description", "cpu", "ram", "id"] {
            assert!(!flavor[k].is_null(), "{k} missing in {flavor}");
        }
        assert_eq!(d.hardware.as_deref(), flavor["name"].as_str(), "{}", d.name);
        assert!(!uuids.contains(d.hardware.as_deref().unwrap()), "still a uuid: {:?}", d.hardware);
    }
    // A second list and a details read ask for no flavor again.
    c.list().await.unwrap();
    let one = c.get(&first[0].key.id).await.unwrap();
    assert_eq!(one.hardware, first[0].hardware);
    let mut asked: Vec<String> = rec
        .take()
        .into_iter()
        .filter(|s| s.path_and_query.starts_with("/cloud/v2/inference/flavors/"))
        .map(|s| s.path_and_query)
        .collect();
    let n = asked.len();
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), n, "a flavor read twice: {asked:?}");
    assert_eq!(n, uuids.len(), "each uuid read once: {asked:?}");
}
