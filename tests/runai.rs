//! Run:ai over real loopback HTTP: the client against the simulator (and, for the list filter, against a
//! stand-in server that ignores `filterBy`), plus contract checks of the simulator's bodies and the client's
//! request bodies against the official spec.

mod common;

use common::openapi::{Spec, seed_json_examples};
use infertop::model::{HttpGetAction, MetricTrigger, ProbeConfig, Probes, ProviderKind, ScaleUpdate, Status};
use infertop::provider::http::build_client;
use infertop::provider::runai::{RunaiClient, convert, wire};
use infertop::provider::{
    AccountSpec, Applied, Credentials, ErrorKind, MetricsQuery, Provider, Secret, connect, demo_accounts,
};
use infertop::sim::{SimConfig, SimHandle, start};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SPEC: &str = "runai-inference.openapi.json";
const SEED: &str = "003_365ee16a0720ec7b.txt";

async fn sim_with_ttl(ttl: u64) -> SimHandle {
    start(config(ttl), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn config(ttl: u64) -> SimConfig {
    // Both token endpoints and the metrics routes: these tests are about other things; the other readings are
    // tested in tests/ambiguities.rs.
    let ambiguities = infertop::sim::ambiguity::Ambiguities::default()
        .with(infertop::sim::ambiguity::RUNAI_TOKEN, "both")
        .with(infertop::sim::ambiguity::RUNAI_METRICS, "served")
        .with(infertop::sim::ambiguity::RUNAI_TYPE, "Inference");
    SimConfig { time_scale: 0.0, runai_token_ttl: ttl, ambiguities, ..Default::default() }
}

async fn sim() -> SimHandle {
    sim_with_ttl(3600).await
}

fn http() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(20))
}

fn account(h: &SimHandle) -> AccountSpec {
    demo_accounts(&h.base_url()).into_iter().find(|a| a.kind == ProviderKind::Runai).unwrap()
}

fn client(h: &SimHandle) -> Arc<dyn Provider> {
    connect(&account(h), http())
}

fn tokens_issued(h: &SimHandle) -> u64 {
    h.state.runai.lock().unwrap().tokens_issued
}

async fn id_of(p: &dyn Provider, name: &str) -> String {
    let list = p.list().await.unwrap();
    list.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} not listed")).key.id.clone()
}

/// A raw HTTP caller with its own token, to read wire bodies exactly as the server sends them.
struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    async fn new(h: &SimHandle) -> Raw {
        let http = http();
        let (status, body) = token_request(&http, &h.base_url(), "demo", "demo-secret").await;
        assert_eq!(status, 200);
        Raw { http, base: h.base_url(), token: body["access_token"].as_str().unwrap().to_string() }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

async fn token_request(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> (u16, Value) {
    let resp = http
        .post(format!("{base}/api/v2/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The spec's own example gives metric timestamps as `2023-06-06 12:09:18.211` (a space, which the API
/// really sends) while declaring `format: date-time`; that one contradiction is excluded, nothing else.
/// The check therefore runs on a copy whose measurement timestamps are rewritten to `2023-06-06T12:09:18.211Z`.
fn contract_errors(spec: &Spec, schema: &Value, body: &Value) -> Vec<String> {
    let mut body = body.clone();
    for m in body.get_mut("measurements").and_then(Value::as_array_mut).into_iter().flatten() {
        for v in m.get_mut("values").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(t) = v.get("timestamp").and_then(Value::as_str)
                && t.len() == 23
                && t.as_bytes()[10] == b' '
            {
                v["timestamp"] = json!(format!("{}Z", t.replacen(' ', "T", 1)));
            }
        }
    }
    spec.check(schema, &body)
}

fn assert_contract(spec: &Spec, method: &str, path: &str, status: u16, body: &Value) {
    let schema = spec.response_schema(method, path, status);
    let errors = contract_errors(spec, &schema, body);
    assert!(errors.is_empty(), "{method} {path} {status} does not match the spec:\n{}", errors.join("\n"));
}

fn assert_error_shape(spec: &Spec, body: &Value) {
    let errors = spec.check(&spec.component("Error"), body);
    assert!(errors.is_empty(), "not an Error body: {body}\n{}", errors.join("\n"));
}

fn now(h: &SimHandle) -> chrono::DateTime<chrono::Utc> {
    h.state.clock.now_utc()
}

// ---------------------------------------------------------------- documents

#[test]
fn seed_and_spec_examples_parse_and_convert() {
    // Seed 003 is prose only: nothing in it to parse. If a later copy gains JSON examples, this says so, and
    // each must then be parsed and converted here.
    let examples = seed_json_examples(SEED);
    assert!(examples.is_empty(), "seed 003 now has {} JSON examples: check each here", examples.len());
    // The spec's own examples.
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/tests/fixtures/specs/{SPEC}", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    )
    .unwrap();
    let composite = doc["components"]["schemas"]["MetricsCompositeResponse"]["example"].clone();
    let m: wire::MetricsResponse = serde_json::from_value(composite).unwrap();
    let start = wire::parse_time("2024-12-20T14:30:00Z").unwrap();
    let end = wire::parse_time("2024-12-20T14:37:00Z").unwrap();
    let s = convert::series(&m, start, end, 15);
    assert_eq!(s[0].name, "ALLOCATED_GPU");
    assert_eq!(s[0].points[0].value, Some(85.0));
    assert_eq!(s[0].points[1].value, Some(92.0));
    assert_eq!(s[0].points[14].value, Some(78.0));
    assert_eq!(s[0].points.iter().filter(|p| p.value.is_none()).count(), 12);
    let token =
        &doc["paths"]["/api/v2/token"]["post"]["responses"]["200"]["content"]["application/json"]["example"];
    let t: wire::TokenResponse = serde_json::from_value(token.clone()).unwrap();
    assert_eq!(t.expires_in, Some(3600));
    for (status, resp) in doc["components"]["responses"].as_object().unwrap() {
        let ex = resp["content"]["application/json"]["example"].to_string();
        let e = infertop::provider::runai::parse_error(
            ProviderKind::Runai,
            status[..3].parse().unwrap(),
            ex.as_bytes(),
        );
        assert!(!e.message.starts_with("HTTP "), "{status}: {}", e.message);
    }
    // The create body of the digest (runapy's example) is a valid creation request.
    let body = json!({"name":"inference-job1","useGivenNameAsPrefix":false,"projectId":"1",
        "clusterId":"7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01",
        "spec":{"image":"gcr.io/run-ai-demo/llm","imagePullPolicy":"Always","nodePools":["default"],
        "servingPort":{"protocol":"http","container":8000},
        "autoscaling":{"metric":"concurrency","minReplicas":0,"maxReplicas":3,"metricThreshold":2,"scaleToZeroRetentionSeconds":900},
        "compute":{"cpuCoreRequest":0.1,"cpuMemoryRequest":"100M","gpuRequestType":"portion","gpuDevicesRequest":1,"gpuPortionRequest":1},
        "environmentVariables":[{"name":"RUNAI_MODEL","value":"meta-llama/Llama-2-7b-chat-hf"}]}});
    let _: wire::InferenceCreationRequest = serde_json::from_value(body.clone()).unwrap();
    Spec::load(SPEC).assert_request("POST", "/api/v1/workloads/inferences", &body);
}

// ---------------------------------------------------------------- list and get

#[tokio::test]
async fn list_keeps_only_inferences() {
    let h = sim().await;
    let p = client(&h);
    let list = p.list().await.unwrap();
    let fleet = h.state.fleet.deployments_of(ProviderKind::Runai).count();
    assert_eq!(list.len(), fleet);
    assert!(!list.iter().any(|d| d.name == "bert-finetune" || d.name == "jupyter-alice"));
    // The server does hold other workload types.
    let raw = Raw::new(&h).await;
    let (_, all) = raw.get("/api/v1/workloads").await;
    assert_eq!(all["workloads"].as_array().unwrap().len(), fleet + 2);
    let (_, filtered) = raw.get("/api/v1/workloads?filterBy=type==Training").await;
    assert_eq!(filtered["workloads"].as_array().unwrap().len(), 1);
    // Paging with small pages gives the same deployments.
    let small = RunaiClient::new(&account(&h), http()).with_page_size(2);
    let paged = small.list().await.unwrap();
    let names = |v: &[infertop::model::Deployment]| v.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&paged), names(&list));
    let llama = list.iter().find(|d| d.name == "nim-llama-3-8b").unwrap();
    assert_eq!(llama.status, Status::Running);
    assert_eq!((llama.ready(), llama.total()), (3, 3));
    assert_eq!(llama.regions[0].region_id, "7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01");
    assert!(llama.address.as_deref().unwrap().starts_with("https://nim-llama-3-8b-"));
    assert!(!llama.detail);
}

/// With the count known, the list's pages are read several at once: every page arrives once, and the
/// deployments keep the server's order.
#[tokio::test]
async fn concurrent_pages_arrive_once_each_and_in_order() {
    let ambiguities =
        infertop::sim::ambiguity::Ambiguities::default().with(infertop::sim::ambiguity::RUNAI_TOKEN, "both");
    let config = SimConfig { fleet: Some(2_000), time_scale: 0.0, ambiguities, ..Default::default() };
    let h = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let raw = Raw::new(&h).await;
    let mut want = Vec::new();
    let mut workloads = 0;
    for offset in (0..).step_by(500) {
        let (_, page) = raw.get(&format!("/api/v1/workloads?offset={offset}&limit=500")).await;
        let items = page["workloads"].as_array().unwrap();
        workloads += items.len();
        want.extend(
            items
                .iter()
                .filter(|w| w["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("inference")))
                .map(|w| w["name"].as_str().unwrap().to_string()),
        );
        if page.get("next").is_none() {
            break;
        }
    }
    assert!(workloads > 600, "a list of many pages: {workloads}");
    let (_, count) = raw.get("/api/v1/workloads/count").await;
    assert_eq!(count["count"], json!(workloads), "the count is the list's length");
    let log_len = h.state.traffic.log().len();
    let c = RunaiClient::new(&account(&h), http()).with_page_size(50);
    let got: Vec<String> = c.list().await.unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(got, want, "every inference once, in the server's order");
    let log = h.state.traffic.log();
    let new = &log[log_len..];
    let pages = new.iter().filter(|l| l.ends_with(" /api/v1/workloads")).count();
    assert_eq!(pages, workloads.div_ceil(50), "each page read once: {new:?}");
    assert!(new.iter().any(|l| l.ends_with(" /api/v1/workloads/count")), "the count was asked: {new:?}");
}

/// Serves `app` (a stand-in for a Run:ai control plane) on loopback: the account that reads it.
async fn stand_in(app: axum::Router) -> AccountSpec {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    AccountSpec {
        name: "stand-in".into(),
        kind: ProviderKind::Runai,
        base_url: format!("http://{addr}"),
        credentials: Credentials::Runai { client_id: "x".into(), client_secret: Secret::new("y") },
        gcore_api: Default::default(),
        max_in_flight: 4,
        retry: Default::default(),
        rate_limit: Default::default(),
        limits: Default::default(),
    }
}

/// A token route for stand-ins.
fn stand_in_token(app: axum::Router) -> axum::Router {
    app.route(
        "/api/v2/token",
        axum::routing::post(|| async {
            axum::Json(json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}))
        }),
    )
}

/// A workload of type `kind` as a stand-in lists it.
fn stand_in_workload(id: &str, kind: &str, cluster: &str) -> Value {
    json!({"id": id, "name": format!("w-{id}"), "type": kind, "clusterId": cluster, "phase": "Running",
           "runningPods": 1, "requestedPods": {"number": 1, "min": 1, "max": 1}})
}

/// A stand-in whose count route answers `count` and whose list route answers `page(offset)`, holding page 2's
/// answer until page 4 is asked (or 10 s, so that a client reading one page at a time ends the test instead of
/// hanging it). Its events ("asked N", "answered N") are logged in order.
fn holding_stand_in(count: u64, page: fn(usize) -> Value) -> (axum::Router, Arc<Mutex<Vec<String>>>) {
    use axum::{Json, extract::RawQuery, routing::get};
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let fourth_asked = Arc::new(tokio::sync::Notify::new());
    let (ev, asked) = (events.clone(), fourth_asked);
    let app = stand_in_token(axum::Router::new())
        .route("/api/v1/workloads/count", get(move || async move { Json(json!({"count": count})) }))
        .route(
            "/api/v1/workloads",
            get(move |RawQuery(q): RawQuery| {
                let (ev, asked) = (ev.clone(), asked.clone());
                async move {
                    let offset = offset_of(q);
                    ev.lock().unwrap().push(format!("asked {offset}"));
                    match offset {
                        2 => {
                            let _ = tokio::time::timeout(Duration::from_secs(10), asked.notified()).await;
                        }
                        4 => asked.notify_one(),
                        _ => {}
                    }
                    ev.lock().unwrap().push(format!("answered {offset}"));
                    Json(page(offset))
                }
            }),
        );
    (app, events)
}

/// The `offset` a stand-in was asked for (0 when absent).
fn offset_of(query: Option<String>) -> usize {
    query
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("offset="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A stand-in server that ignores `filterBy` and pages with `next`: the client must follow every page and
/// keep only the inferences itself.
#[tokio::test]
async fn list_follows_next_and_filters_when_the_server_ignores_the_filter() {
    use axum::{Json, Router, extract::RawQuery, routing::get};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    let wl = |id: &str, kind: &str| stand_in_workload(id, kind, "c");
    let pages = [
        json!({"workloads": [wl("1", "Inference"), wl("2", "Training")], "next": 2}),
        json!({"workloads": [wl("3", "Workspace"), wl("4", "Inference")], "next": 4}),
        json!({"workloads": [wl("5", "Inference")]}),
    ];
    let app = stand_in_token(Router::new()).route(
        "/api/v1/workloads",
        get(move |RawQuery(q): RawQuery| {
            let seen = seen2.clone();
            let pages = pages.clone();
            async move {
                seen.lock().unwrap().push(q.clone().unwrap_or_default());
                let offset = offset_of(q);
                Json(pages[(offset / 2).min(2)].clone())
            }
        }),
    );
    let spec = stand_in(app).await;
    let list = connect(&spec, http()).list().await.unwrap();
    let ids: Vec<&str> = list.iter().map(|d| d.key.id.as_str()).collect();
    assert_eq!(ids, ["1", "4", "5"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    // The type's casing is not documented: no type filter is asked of the server, the client keeps them.
    assert!(seen.iter().all(|q| !q.contains("filterBy")), "{seen:?}");
}

/// With the count known, the pages after the first are asked together: the third page is asked while the
/// second is still unanswered. The stand-in holds the second page's answer until the third is asked (or 10 s,
/// so that a client reading one page at a time ends the test instead of hanging it); the order of the
/// stand-in's events is what is checked.
#[tokio::test]
async fn with_the_count_known_the_next_pages_are_asked_together() {
    let (app, events) = holding_stand_in(6, |offset| {
        let wl = |id: usize| stand_in_workload(&id.to_string(), "Inference", "c");
        let mut page = json!({"workloads": [wl(offset + 1), wl(offset + 2)]});
        if offset < 4 {
            page["next"] = json!(offset + 2);
        }
        page
    });
    let spec = stand_in(app).await;
    let list = RunaiClient::new(&spec, http()).with_page_size(2).list().await.unwrap();
    let ids: Vec<&str> = list.iter().map(|d| d.key.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"], "every page once, in order");
    let events = events.lock().unwrap();
    let at = |e: &str| events.iter().position(|x| x == e).unwrap_or_else(|| panic!("no {e}: {events:?}"));
    assert!(at("asked 4") < at("answered 2"), "the third page waited for the second: {events:?}");
}

/// A list that never ends is cut at the account's item cap, counted over every workload read (inference or
/// not): with a cap of 4 and pages of 2, the pages at offsets 2 and 4 are read, asked together (the count
/// says there are more), and nothing after. The stand-in holds page 2's answer until page 4 is asked (or
/// 10 s); the order of its events is what is checked.
#[tokio::test]
async fn an_endless_list_is_cut_at_the_item_cap_with_the_pages_up_to_it_asked_together() {
    let (app, events) = holding_stand_in(1000, |offset| {
        // Every other workload is a training one: the cap counts them too.
        let id = |n: usize| (offset + n).to_string();
        json!({"workloads": [stand_in_workload(&id(1), "Inference", "c"), stand_in_workload(&id(2), "Training", "c")],
               "next": offset + 2})
    });
    let mut spec = stand_in(app).await;
    spec.limits.max_list_items = 4;
    let listing = RunaiClient::new(&spec, http()).with_page_size(2).listing().await.unwrap();
    let ids: Vec<&str> = listing.items.iter().map(|d| d.key.id.as_str()).collect();
    assert_eq!(ids, ["1", "3"], "the inference workloads of the two pages within the cap");
    let cut = listing.cut.expect("cut at the cap").to_string();
    assert!(cut.contains("holds more than 4 items"), "{cut}");
    let events = events.lock().unwrap();
    let asked: Vec<&String> = events.iter().filter(|e| e.starts_with("asked")).collect();
    assert_eq!(asked.len(), 3, "pages 0, 2 and 4, nothing after: {events:?}");
    let at = |e: &str| events.iter().position(|x| x == e).unwrap_or_else(|| panic!("no {e}: {events:?}"));
    assert!(at("asked 4") < at("answered 2"), "page 4 waited for page 2: {events:?}");
}

/// A list whose count says it is huge and whose pages never end is read to 1000 pages and no further, and
/// says it was cut there: the pages planned from the count and the ones read after them add up to the limit.
/// Where the 1000th page's `next` does not move on (it points at itself), the list ends there, whole.
#[tokio::test]
async fn a_list_that_never_ends_is_read_to_a_thousand_pages_and_cut_there() {
    use axum::{Json, Router, extract::RawQuery, routing::get};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    for last_points_at_itself in [false, true] {
        let asked = Arc::new(AtomicUsize::new(0));
        let pages = asked.clone();
        let app = stand_in_token(Router::new())
            .route("/api/v1/workloads/count", get(|| async { Json(json!({"count": 1_000_000})) }))
            .route(
                "/api/v1/workloads",
                get(move |RawQuery(q): RawQuery| {
                    pages.fetch_add(1, SeqCst);
                    let offset = offset_of(q);
                    let next = if last_points_at_itself && offset == 999 { offset } else { offset + 1 };
                    let wl = stand_in_workload(&(offset + 1).to_string(), "Inference", "c");
                    async move { Json(json!({"workloads": [wl], "next": next})) }
                }),
            );
        let mut spec = stand_in(app).await;
        // A thousand requests at the default 20 a second would take 50 s.
        spec.rate_limit = infertop::provider::http::RateLimit::unlimited();
        let listing = RunaiClient::new(&spec, http()).with_page_size(1).listing().await.unwrap();
        assert_eq!(asked.load(SeqCst), 1000, "pages asked");
        assert_eq!(listing.items.len(), 1000);
        if last_points_at_itself {
            assert!(listing.cut.is_none(), "{:?}", listing.cut);
        } else {
            let cut = listing.cut.expect("cut at the page limit").to_string();
            assert!(cut.contains("it still had more after 1000 pages"), "{cut}");
        }
    }
}

/// An empty first page ends the list, whatever its `next` says: nothing more is asked, not even the count.
#[tokio::test]
async fn an_empty_first_page_ends_the_list_and_nothing_more_is_asked() {
    use axum::{Json, Router, routing::get};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let asked = Arc::new(AtomicUsize::new(0));
    let (pages, count) = (asked.clone(), asked.clone());
    let app = stand_in_token(Router::new())
        .route(
            "/api/v1/workloads/count",
            get(move || {
                count.fetch_add(100, SeqCst);
                async { Json(json!({"count": 0})) }
            }),
        )
        .route(
            "/api/v1/workloads",
            get(move || {
                pages.fetch_add(1, SeqCst);
                // A server that echoes the offset it was asked for as `next`.
                async { Json(json!({"workloads": [], "next": 0})) }
            }),
        );
    let spec = stand_in(app).await;
    let list = RunaiClient::new(&spec, http()).with_page_size(2).list().await.unwrap();
    assert!(list.is_empty());
    assert_eq!(asked.load(SeqCst), 1, "one page, no count (each count asked adds 100)");
}

/// Cluster names: asked when a cluster turns up that is not known, not again while every cluster is known;
/// a 5xx is tried again at the next list, a 403 or 404 (a control plane without the call) never again.
#[tokio::test]
async fn cluster_names_are_asked_only_for_unknown_clusters_and_not_again_where_the_call_is_not_served() {
    use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
    use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering::SeqCst};
    let status = Arc::new(AtomicU16::new(500));
    let asked = Arc::new(AtomicUsize::new(0));
    let (st, ask) = (status.clone(), asked.clone());
    let app = stand_in_token(Router::new())
        .route(
            "/api/v1/workloads",
            get(|| async {
                Json(json!({"workloads": [stand_in_workload("1", "Inference", "c1"), stand_in_workload("2", "Inference", "c2")]}))
            }),
        )
        .route(
            "/api/v1/clusters",
            get(move || {
                let (st, ask) = (st.clone(), ask.clone());
                async move {
                    ask.fetch_add(1, SeqCst);
                    match st.load(SeqCst) {
                        200 => Json(json!([{"uuid": "c1", "name": "east"}])).into_response(),
                        s => (StatusCode::from_u16(s).unwrap(), Json(json!({"code": s, "message": "no"})))
                            .into_response(),
                    }
                }
            }),
        );
    let mut account = stand_in(app).await;
    let names = |list: &[infertop::model::Deployment]| -> Vec<Option<String>> {
        list.iter().map(|d| d.regions[0].region_name.as_deref().map(str::to_string)).collect()
    };
    account.retry = infertop::provider::http::RetryPolicy::none();
    let c = connect(&account, http());
    // A 500: the ids are shown, and the next list asks again.
    assert_eq!(names(&c.list().await.unwrap()), [None, None]);
    assert_eq!(asked.load(SeqCst), 1);
    c.list().await.unwrap();
    assert_eq!(asked.load(SeqCst), 2, "a 500 is tried again");
    // Answered: c1 is named; c2, not in the answer, keeps its id and is not asked about again.
    status.store(200, SeqCst);
    assert_eq!(names(&c.list().await.unwrap()), [Some("east".to_string()), None]);
    assert_eq!(asked.load(SeqCst), 3);
    c.list().await.unwrap();
    assert_eq!(asked.load(SeqCst), 3, "every cluster is known: not asked");
    // A fresh client on a control plane without the call (404): asked once, never again.
    status.store(404, SeqCst);
    let c = connect(&account, http());
    assert_eq!(names(&c.list().await.unwrap()), [None, None]);
    assert_eq!(asked.load(SeqCst), 4);
    c.list().await.unwrap();
    assert_eq!(asked.load(SeqCst), 4, "a 404 is not asked again");
}

/// A workload's pods are read page by page while each page moves forward and holds pods: a `next` that does
/// not move on, or an empty page, ends the read (no loop, no page asked twice).
#[tokio::test]
async fn pods_pages_are_followed_while_they_move_forward_and_hold_pods() {
    use axum::{Json, Router, extract::Path, extract::RawQuery, routing::get};
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let pod = |n: usize| json!({"id": format!("p{n}"), "name": format!("pod-{n}"), "k8sPhase": "Running"});
    let app = stand_in_token(Router::new())
        .route(
            "/api/v1/workloads/inferences/{id}",
            get(|Path(id): Path<String>| async move {
                Json(json!({"name": format!("w-{id}"), "workloadId": id, "clusterId": "c1",
                            "actualPhase": "Running", "desiredPhase": "Running"}))
            }),
        )
        .route(
            "/api/v1/workloads/{id}",
            get(|Path(id): Path<String>| async move { Json(stand_in_workload(&id, "Inference", "c1")) }),
        )
        .route(
            "/api/v1/workloads/{id}/pods",
            get(move |Path(id): Path<String>, RawQuery(q): RawQuery| {
                let log = log.clone();
                async move {
                    let offset = offset_of(q);
                    log.lock().unwrap().push(format!("{id}@{offset}"));
                    Json(match (id.as_str(), offset) {
                        // Two pages, the second giving the same `next` again.
                        ("stuck", 0) => json!({"pods": [pod(1), pod(2)], "next": 2}),
                        ("stuck", _) => json!({"pods": [pod(3)], "next": 2}),
                        // Two pages, the second empty but pointing further.
                        ("empty", 0) => json!({"pods": [pod(1), pod(2)], "next": 2}),
                        ("empty", _) => json!({"pods": [], "next": 4}),
                        // Three pages, each moving forward.
                        (_, 0) => json!({"pods": [pod(1), pod(2)], "next": 2}),
                        (_, 2) => json!({"pods": [pod(3), pod(4)], "next": 4}),
                        _ => json!({"pods": [pod(5)]}),
                    })
                }
            }),
        );
    let spec = stand_in(app).await;
    let c = RunaiClient::new(&spec, http()).with_page_size(2);
    for id in ["stuck", "empty", "moving"] {
        c.get(id).await.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let seen = seen.lock().unwrap();
    let of = |id: &str| -> Vec<&str> {
        seen.iter().filter(|l| l.starts_with(&format!("{id}@"))).map(String::as_str).collect()
    };
    assert_eq!(of("stuck"), ["stuck@0", "stuck@2"]);
    assert_eq!(of("empty"), ["empty@0", "empty@2"]);
    assert_eq!(of("moving"), ["moving@0", "moving@2", "moving@4"]);
}

#[tokio::test]
async fn get_merges_inference_workload_and_pods() {
    let h = sim().await;
    let p = client(&h);
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let d = p.get(&id).await.unwrap();
    assert!(d.detail);
    assert_eq!(d.status, Status::Running);
    assert_eq!(d.image.as_deref(), Some("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3"));
    assert_eq!(d.port, Some(8000));
    assert_eq!(d.hardware.as_deref(), Some("1 GPU"));
    assert!(d.address.as_deref().unwrap().starts_with("https://"));
    assert_eq!(d.envs["NIM_MAX_MODEL_LEN"], "8192");
    // A secret reference is shown as a marker, never as the value.
    assert_eq!(d.envs["NGC_API_KEY"], "<secret ngc-api-key/NGC_API_KEY>");
    assert!(!format!("{d:?}").contains("nvapi-demo"));
    assert_eq!(d.regions.len(), 1);
    let r = &d.regions[0];
    assert_eq!(r.region_id, "7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01");
    // The cluster's name, from `GET /api/v1/clusters`.
    assert_eq!(r.region_name.as_deref(), Some("dgx-eu-west"));
    assert_eq!((r.ready, r.total), (3, 3));
    assert_eq!((r.scale.min, r.scale.max), (1, 3));
    assert_eq!(r.scale.triggers.metric, Some(MetricTrigger { metric: "concurrency".into(), threshold: 4 }));
    assert_eq!(r.error, None);
    assert_eq!(d.pods.len(), 3);
    let readiness = d.probes.as_ref().unwrap().readiness.as_ref().unwrap();
    assert!(readiness.enabled);
    let g = readiness.probe.http_get.as_ref().unwrap();
    assert_eq!((g.path.as_str(), g.port, g.scheme.as_str()), ("/v1/health/ready", 8000, "HTTP"));
    assert_eq!(readiness.probe.failure_threshold, Some(3));
    assert!(d.created_at.is_some());

    let get = |name: &'static str| {
        let p = p.clone();
        async move {
            let id = id_of(&*p, name).await;
            p.get(&id).await.unwrap()
        }
    };
    let riva = get("riva-asr").await;
    assert_eq!(riva.status, Status::Degraded);
    assert!(riva.regions[0].error.as_deref().unwrap().contains("Back-off pulling image"));
    assert_eq!((riva.ready(), riva.total()), (0, 1));
    let big = get("nim-mixtral-big").await;
    assert_eq!(big.status, Status::Pending);
    assert!(
        big.regions[0]
            .error
            .as_deref()
            .unwrap()
            .starts_with("Not enough resources in the requested nodepool")
    );
    assert_eq!((big.ready(), big.total()), (4, 4));
    assert_eq!(big.pods.len(), 12);
    assert_eq!(big.hardware.as_deref(), Some("2 GPU"));
    let stopped = get("sdxl-batch").await;
    assert_eq!(stopped.status, Status::Stopped);
    assert_eq!((stopped.ready(), stopped.total()), (0, 0));
    let zero = get("llm-scale-to-zero").await;
    assert_eq!(zero.status, Status::Running);
    assert_eq!((zero.ready(), zero.total(), zero.regions[0].scale.min), (0, 0, 0));
    assert_eq!(zero.regions[0].scale.scale_to_zero_retention_seconds, Some(900));
    assert_eq!(get("triton-resnet").await.hardware.as_deref(), Some("0.5 GPU"));

    let e = p.get("00000000-0000-4000-a000-000000000000").await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert_eq!(e.message, "Resource id not found.");
}

// ---------------------------------------------------------------- updates

#[tokio::test]
async fn update_scale_changes_only_the_edited_key_and_converges() {
    let h = sim().await;
    let p = client(&h);
    let raw = Raw::new(&h).await;
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let path = format!("/api/v1/workloads/inferences/{id}");
    let (_, before) = raw.get(&path).await;
    let d = p.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 5;
    let applied = p.update_scale(&id, &u).await.unwrap();
    assert!(matches!(applied, Applied::Done(_)));
    assert_eq!(applied.deployment().regions[0].scale.max, 5);
    let (_, after) = raw.get(&path).await;
    let mut expected = before.clone();
    expected["spec"]["autoscaling"]["maxReplicas"] = json!(5);
    assert_eq!(after, expected, "only maxReplicas may change");
    // initialReplicas, concurrencyHardLimit, scaleDownDelaySeconds and metricThresholdPercentage survived.
    for k in ["initialReplicas", "concurrencyHardLimit", "scaleDownDelaySeconds", "metricThresholdPercentage"]
    {
        assert!(after["spec"]["autoscaling"].get(k).is_some(), "{k} lost");
    }

    // Nothing to change: no PATCH is sent.
    let sent = h.state.runai.lock().unwrap().received.len();
    let again = p.update_scale(&id, &ScaleUpdate::from_deployment(applied.deployment())).await.unwrap();
    assert!(matches!(again, Applied::NoChange(_)));
    assert_eq!(h.state.runai.lock().unwrap().received.len(), sent);

    // Raising min above the demand: pods come up over simulated time, the status converges.
    let mut up = ScaleUpdate::from_deployment(applied.deployment());
    up.regions[0].scale.min = 5;
    let d = p.update_scale(&id, &up).await.unwrap().deployment().clone();
    assert_eq!(d.status, Status::Updating);
    assert_eq!((d.ready(), d.total()), (3, 3));
    h.advance(1.0);
    let d = p.get(&id).await.unwrap();
    assert_eq!(d.total(), 4);
    assert_eq!(d.status, Status::Updating);
    h.advance(30.0);
    let d = p.get(&id).await.unwrap();
    assert_eq!((d.status.clone(), d.ready(), d.total(), d.pods.len()), (Status::Running, 5, 5, 5));
}

#[tokio::test]
async fn the_simulator_really_replaces_the_autoscaling_section() {
    let h = sim().await;
    let raw = Raw::new(&h).await;
    let id = id_of(&*client(&h), "triton-resnet").await;
    let path = format!("/api/v1/workloads/inferences/{id}");
    let (status, body) = raw
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"spec": {"autoscaling": {"minReplicas": 2, "maxReplicas": 2}}})),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["spec"]["autoscaling"], json!({"minReplicas": 2, "maxReplicas": 2}));
    let (_, after) = raw.get(&path).await;
    assert!(after["spec"]["autoscaling"].get("initialReplicas").is_none(), "a naive PATCH loses keys");
}

#[tokio::test]
async fn scale_validation_errors_carry_the_providers_message_and_field() {
    let h = sim().await;
    let p = client(&h);
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let d = p.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 0;
    u.regions[0].scale.min = 0;
    let e = p.update_scale(&id, &u).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Validation, Some(400)));
    assert_eq!(e.message, "spec.autoscaling.maxReplicas: must be at least 1 (got 0)");
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.triggers.metric = None;
    let e = p.update_scale(&id, &u).await.unwrap_err();
    assert!(e.message.starts_with("spec.autoscaling.metric: is mandatory"), "{}", e.message);
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.scale_to_zero_retention_seconds = Some(60);
    let e = p.update_scale(&id, &u).await.unwrap_err();
    assert!(e.message.starts_with("spec.autoscaling.scaleToZeroRetentionSeconds"), "{}", e.message);
    assert!(e.to_string().starts_with("runai 400: spec.autoscaling.scaleToZeroRetentionSeconds"));
    // Nothing changed.
    assert_eq!(p.get(&id).await.unwrap().regions[0].scale, d.regions[0].scale);
}

/// What Run:ai cannot express is refused before anything is sent, each condition on its own: a trigger other
/// than its one metric (each kind), a cooldown or a polling interval, another cluster, a probe other than an
/// HTTP GET, a liveness or startup probe, a blank image. A region without a cluster named is the workload's
/// own. An edit of one section in `e` sends that section and no other.
#[tokio::test]
async fn what_runai_cannot_express_is_refused_alone_and_an_edit_sends_only_its_sections() {
    use infertop::model::settings::Settings;
    use infertop::model::{ExecAction, HttpTrigger, Scale, TcpSocketAction};
    let h = sim().await;
    let p = client(&h);
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let d = p.get(&id).await.unwrap();
    let patches = || h.state.runai.lock().unwrap().received.clone();
    let base = ScaleUpdate::from_deployment(&d);
    type Tweak = fn(&mut Scale);
    let tweaks: [(&str, Tweak); 8] = [
        ("cpu", |s| s.triggers.cpu = Some(80)),
        ("memory", |s| s.triggers.memory = Some(80)),
        ("gpu utilization", |s| s.triggers.gpu_utilization = Some(80)),
        ("gpu memory", |s| s.triggers.gpu_memory = Some(80)),
        ("http", |s| s.triggers.http = Some(HttpTrigger { rate: 10, window: 60 })),
        ("other", |s| {
            s.triggers.other.insert("sqs".into(), json!({"queue": "q"}));
        }),
        ("cooldown", |s| s.cooldown_seconds = Some(30)),
        ("polling", |s| s.polling_interval_seconds = Some(30)),
    ];
    let mut fields = Vec::new();
    for (what, tweak) in tweaks {
        let mut u = base.clone();
        tweak(&mut u.regions[0].scale);
        let e = p.update_scale(&id, &u).await.expect_err(what);
        assert_eq!(e.kind, ErrorKind::Validation, "{what}: {e}");
        fields.push(e.fields[0].0.clone());
    }
    let triggers = "regions[0].scale.triggers";
    assert_eq!(
        fields,
        [triggers, triggers, triggers, triggers, triggers, triggers, "regions[0].scale", "regions[0].scale"]
    );
    let mut u = base.clone();
    u.regions[0].region_id = "another-cluster".into();
    let e = p.update_scale(&id, &u).await.unwrap_err();
    assert_eq!(e.fields[0].0, "regions[0].region", "{e}");

    let readiness = d.probes.as_deref().and_then(|p| p.readiness.clone()).expect("a readiness probe");
    type ProbeTweak = fn(&mut infertop::model::Probe);
    let kinds: [(&str, ProbeTweak); 3] = [
        ("exec only", |p| {
            p.http_get = None;
            p.exec = Some(ExecAction { command: vec!["true".into()] });
        }),
        ("http and exec", |p| p.exec = Some(ExecAction { command: vec!["true".into()] })),
        ("http and tcp", |p| p.tcp_socket = Some(TcpSocketAction { port: 8000 })),
    ];
    for (what, tweak) in kinds {
        let mut r = readiness.clone();
        tweak(&mut r.probe);
        let probes = Probes { readiness: Some(r), ..Default::default() };
        let e = p.update_probes(&id, &probes).await.expect_err(what);
        assert_eq!(e.fields[0].0, "readiness.kind", "{what}: {e}");
    }

    let mut s = Settings::from_deployment(&d);
    s.image = Some("  ".into());
    let e = p.update_settings(&id, &s).await.unwrap_err();
    assert_eq!(e.fields, [("image".to_string(), "a Run:ai workload needs an image".to_string())]);
    let mut s = Settings::from_deployment(&d);
    let mut probes = s.probes.clone().unwrap_or_default();
    probes.startup = Some(readiness.clone());
    s.probes = Some(probes);
    let e = p.update_settings(&id, &s).await.unwrap_err();
    assert_eq!(e.fields[0].0, "probes", "{e}");
    assert_eq!(patches(), [], "nothing was sent for any refusal");

    // A region without a cluster named is the workload's own.
    let mut u = base.clone();
    u.regions[0].region_id = String::new();
    u.regions[0].scale.max += 1;
    assert!(matches!(p.update_scale(&id, &u).await.unwrap(), Applied::Done(_)));
    assert_eq!(patches().len(), 1);

    // In `e`, one section changed is that section sent, alone.
    let d = p.get(&id).await.unwrap();
    let mut s = Settings::from_deployment(&d);
    s.envs.insert("LOG_LEVEL_EXTRA".into(), "debug".into());
    p.update_settings(&id, &s).await.unwrap();
    let mut s = Settings::from_deployment(&p.get(&id).await.unwrap());
    s.scale.regions[0].scale.max += 1;
    p.update_settings(&id, &s).await.unwrap();
    let sent: Vec<Vec<String>> = patches()[1..]
        .iter()
        .map(|(_, body)| body["spec"].as_object().unwrap().keys().cloned().collect())
        .collect();
    assert_eq!(sent, [vec!["environmentVariables".to_string()], vec!["autoscaling".to_string()]]);
}

/// Run:ai metrics: a 404 on the inference metrics is an older control plane (the GPU series, marked partial);
/// any other failure of them is an error, not a partial answer.
#[tokio::test]
async fn only_a_404_on_the_inference_metrics_is_taken_as_an_older_control_plane() {
    use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
    use std::sync::atomic::{AtomicU16, Ordering::SeqCst};
    let status = Arc::new(AtomicU16::new(404));
    let st = status.clone();
    let app = stand_in_token(Router::new())
        .route(
            "/api/v1/workloads/inferences/{id}/metrics",
            get(move || {
                let s = st.load(SeqCst);
                async move {
                    (StatusCode::from_u16(s).unwrap(), Json(json!({"code": s, "message": "no"})))
                        .into_response()
                }
            }),
        )
        .route("/api/v1/workloads/{id}/metrics", get(|| async { Json(json!({"measurements": []})) }));
    let mut spec = stand_in(app).await;
    spec.retry = infertop::provider::http::RetryPolicy::none();
    let c = connect(&spec, http());
    let end = chrono::Utc::now();
    let q = MetricsQuery { start: end - chrono::Duration::minutes(10), end, samples: 5, pod: None };
    let m = c.metrics("w1", &q).await.expect("a 404: the GPU series alone");
    assert!(m.partial);
    status.store(500, SeqCst);
    let e = c.metrics("w1", &q).await.expect_err("a 500 is an error");
    assert_eq!(e.status, Some(500), "{e}");
}

#[tokio::test]
async fn update_probes_changes_only_the_edited_keys() {
    let h = sim().await;
    let p = client(&h);
    let raw = Raw::new(&h).await;
    let id = id_of(&*p, "triton-resnet").await;
    let path = format!("/api/v1/workloads/inferences/{id}");
    let (_, before) = raw.get(&path).await;
    let d = p.get(&id).await.unwrap();
    let mut probes = d.probes.as_deref().cloned().unwrap();
    let r = probes.readiness.as_mut().unwrap();
    r.probe.period_seconds = Some(5);
    r.probe.http_get.as_mut().unwrap().path = "/v2/health/live".into();
    let applied = p.update_probes(&id, &probes).await.unwrap();
    assert!(matches!(applied, Applied::Done(_)));
    assert_eq!(applied.deployment().probes.as_deref(), Some(&probes));
    let (_, after) = raw.get(&path).await;
    let mut expected = before.clone();
    expected["spec"]["probes"]["readiness"]["periodSeconds"] = json!(5);
    expected["spec"]["probes"]["readiness"]["handler"]["httpGet"]["path"] = json!("/v2/health/live");
    assert_eq!(after, expected);

    // Same probes again: nothing sent.
    assert!(matches!(p.update_probes(&id, &probes).await.unwrap(), Applied::NoChange(_)));

    // A bad path is refused by the server, naming the field.
    let mut bad = probes.clone();
    bad.readiness.as_mut().unwrap().probe.http_get.as_mut().unwrap().path = "no slash".into();
    let e = p.update_probes(&id, &bad).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Validation, Some(400)));
    assert!(e.message.starts_with("spec.probes.readiness.handler.httpGet.path"), "{}", e.message);
    let mut bad = probes.clone();
    bad.readiness.as_mut().unwrap().probe.failure_threshold = Some(0);
    let e = p.update_probes(&id, &bad).await.unwrap_err();
    assert_eq!(e.message, "spec.probes.readiness.failureThreshold: must be at least 1 (got 0)");

    // Liveness cannot be expressed: refused before anything is sent.
    let mut live = probes.clone();
    live.liveness = Some(ProbeConfig { enabled: true, probe: Default::default() });
    let e = p.update_probes(&id, &live).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert_eq!(e.fields, [("probes".to_string(), "Run:ai offers a readiness probe only".to_string())]);

    // Disabling readiness removes only it.
    let off = Probes { readiness: None, ..Default::default() };
    p.update_probes(&id, &off).await.unwrap();
    let (_, gone) = raw.get(&path).await;
    let mut expected = after.clone();
    expected["spec"]["probes"] = json!({});
    assert_eq!(gone, expected);
    assert_eq!(p.get(&id).await.unwrap().probes, Some(Default::default()));

    // And from nothing back to a probe.
    let on = Probes {
        readiness: Some(ProbeConfig {
            enabled: true,
            probe: infertop::model::Probe {
                http_get: Some(HttpGetAction {
                    path: "/ready".into(),
                    port: 8000,
                    scheme: "HTTPS".into(),
                    host: None,
                    headers: Default::default(),
                }),
                period_seconds: Some(7),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let d = p.update_probes(&id, &on).await.unwrap();
    assert_eq!(d.deployment().probes.as_deref(), Some(&on));
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn capabilities_and_unsupported_start_stop() {
    let h = sim().await;
    let p = client(&h);
    let c = p.capabilities();
    assert!(c.update_scale && c.update_probes && c.delete && c.metrics);
    assert!(!c.start_stop && !c.per_region_scale && !c.logs && !c.logging_config && !c.pricing);
    let id = id_of(&*p, "nim-embedqa").await;
    assert_eq!(p.start(&id).await.unwrap_err().kind, ErrorKind::Unsupported);
    assert_eq!(p.stop(&id).await.unwrap_err().kind, ErrorKind::Unsupported);
    let q = infertop::provider::LogQuery { limit: 10, region_id: None };
    assert_eq!(p.logs(&id, &q).await.unwrap_err().kind, ErrorKind::Unsupported);
}

#[tokio::test]
async fn delete_goes_through_deleting_then_disappears() {
    let h = sim().await;
    let p = client(&h);
    let id = id_of(&*p, "nim-embedqa").await;
    p.delete(&id).await.unwrap();
    let d = p.get(&id).await.unwrap();
    assert_eq!(d.status, Status::PhaseDeleting);
    assert!(p.list().await.unwrap().iter().any(|d| d.key.id == id && d.status == Status::PhaseDeleting));
    h.advance(10.0);
    assert_eq!(p.get(&id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert!(!p.list().await.unwrap().iter().any(|d| d.key.id == id));
    assert_eq!(p.delete(&id).await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn create_then_converge() {
    let h = sim().await;
    let c = RunaiClient::new(&account(&h), http());
    let req = wire::InferenceCreationRequest {
        name: "fresh-llm".into(),
        project_id: "1".into(),
        cluster_id: "c3f1d9a2-8e4b-4f0c-b7a6-5d4c3b2a1f02".into(),
        spec: Some(json!({
            "image": "vllm/vllm-openai:v0.6.3",
            "servingPort": {"container": 8000, "protocol": "http"},
            "compute": {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 0.5},
            "autoscaling": {"minReplicas": 1, "maxReplicas": 2, "metric": "throughput", "metricThreshold": 20}
        })),
        ..Default::default()
    };
    let d = c.create(&req).await.unwrap();
    assert_eq!(d.status, Status::Creating);
    assert_eq!(d.hardware.as_deref(), Some("0.5 GPU"));
    h.advance(10.0);
    let d = c.get(&d.key.id).await.unwrap();
    assert_eq!((d.status.clone(), d.ready(), d.total()), (Status::Running, 1, 1));
    // Missing image: the provider's message, naming the field.
    let mut bad = req.clone();
    bad.name = "other".into();
    bad.spec = Some(json!({"servingPort": {"container": 8000}}));
    let e = c.create(&bad).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert!(e.message.starts_with("spec.image:"), "{}", e.message);
}

// ---------------------------------------------------------------- metrics

#[tokio::test]
async fn metrics_are_deterministic_have_gaps_and_report_partial_results() {
    let h = sim().await;
    let p = client(&h);
    h.advance(600.0);
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let end = now(&h);
    let q = MetricsQuery { start: end - chrono::Duration::minutes(10), end, samples: 11, pod: None };
    let m = p.metrics(&id, &q).await.unwrap();
    assert!(!m.partial);
    let names: Vec<&str> = m.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["THROUGHPUT", "LATENCY", "GPU_UTILIZATION"]);
    for s in &m.series {
        assert_eq!(s.points.len(), 11);
        assert!(s.points.iter().all(|p| p.value.is_some_and(|v| v > 0.0)), "{}: {:?}", s.name, s.points);
    }
    assert_eq!(p.metrics(&id, &q).await.unwrap(), m, "same seed and time, same numbers");

    // The future has no samples yet: gaps.
    let ahead = MetricsQuery {
        start: end - chrono::Duration::minutes(5),
        end: end + chrono::Duration::minutes(5),
        samples: 11,
        pod: None,
    };
    let m = p.metrics(&id, &ahead).await.unwrap();
    let t = &m.series[0].points;
    assert!(t[..6].iter().all(|p| p.value.is_some()) && t[6..].iter().all(|p| p.value.is_none()));

    // No running pods, zero.
    let zero = id_of(&*p, "llm-scale-to-zero").await;
    let m = p.metrics(&zero, &q).await.unwrap();
    assert!(m.series.iter().all(|s| s.points.iter().all(|p| p.value == Some(0.0))));

    // A pod's metrics, then the same pod after it has gone: 207 with LATENCY missing.
    let d = p.get(&id).await.unwrap();
    let pod = d.pods[2].clone();
    let pq = MetricsQuery { pod: Some(pod.clone()), ..q.clone() };
    let m = p.metrics(&id, &pq).await.unwrap();
    assert!(!m.partial);
    assert_eq!(m.series.len(), 3);
    let mut down = ScaleUpdate::from_deployment(&d);
    down.regions[0].scale.min = 1;
    down.regions[0].scale.max = 1;
    down.regions[0].scale.triggers.metric = None;
    p.update_scale(&id, &down).await.unwrap();
    let m = p.metrics(&id, &pq).await.unwrap();
    assert!(m.partial);
    let names: Vec<&str> = m.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["THROUGHPUT"]);
    assert!(m.series[0].points.iter().all(|p| p.value == Some(0.0)));
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn a_wrong_secret_gives_the_providers_message_and_never_the_secret() {
    let h = sim().await;
    let mut spec = account(&h);
    spec.credentials =
        Credentials::Runai { client_id: "demo".into(), client_secret: Secret::new("wrong-s3cret") };
    let e = connect(&spec, http()).list().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Auth, Some(401)));
    assert_eq!(e.message, "could not get an access token: Client authentication failed (invalid_client)");
    assert!(!format!("{e} {e:?}").contains("wrong-s3cret"));
    let raw = reqwest::Client::new()
        .get(format!("{}/api/v1/workloads", h.base_url()))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body, json!({"code": 401, "message": "Issuer is not familiar."}));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_on_401_and_refreshes_are_single_flight() {
    let h = sim_with_ttl(600).await;
    let p = client(&h);
    let ids = {
        let list = p.list().await.unwrap();
        list.iter().map(|d| d.key.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(tokens_issued(&h), 1);
    // Past the server-side expiry (simulated time; the client's clock still thinks the token is good).
    h.advance(700.0);
    let results = futures::future::join_all(ids.iter().map(|id| p.get(id))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(tokens_issued(&h), 2, "every request got a 401, one refresh served them all");
    // A burst on a fresh client shares one token request.
    let fresh = client(&h);
    let results = futures::future::join_all(ids.iter().map(|id| fresh.get(id))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(tokens_issued(&h), 3);
}

/// A 401 is the only answer that makes the client sign in again: a read refused otherwise (here a 404 for a
/// workload that is gone) is not repeated and asks for no new token.
#[tokio::test]
async fn only_a_401_signs_in_again() {
    let h = sim().await;
    let p = client(&h);
    p.list().await.unwrap();
    assert_eq!(tokens_issued(&h), 1);
    let mark = h.state.traffic.log().len();
    let e = p.get("00000000-0000-4000-8000-00000000dead").await.unwrap_err();
    assert_eq!(e.status, Some(404), "{e}");
    let log = h.state.traffic.log();
    let new = &log[mark..];
    // A read asks the workload, its inference spec and its pods, each once.
    assert!(!new.is_empty() && new.iter().all(|l| l.starts_with("GET /api/v1/workloads/")), "{new:?}");
    let distinct: std::collections::HashSet<&String> = new.iter().collect();
    assert_eq!(distinct.len(), new.len(), "no request a second time: {new:?}");
    assert_eq!(tokens_issued(&h), 1, "no new sign-in");
}

// ---------------------------------------------------------------- contract

#[tokio::test]
async fn simulator_responses_and_client_requests_match_the_spec() {
    let h = sim().await;
    let spec = Spec::load(SPEC);
    let http = http();
    let (status, tok) = token_request(&http, &h.base_url(), "demo", "demo-secret").await;
    spec.assert_response("POST", "/api/v2/token", status, &tok);
    let (status, bad) = token_request(&http, &h.base_url(), "demo", "nope").await;
    spec.assert_response("POST", "/api/v2/token", status, &bad);
    let raw = Raw::new(&h).await;

    let (s, list) = raw.get("/api/v1/workloads?limit=3").await;
    assert_contract(&spec, "GET", "/api/v1/workloads", s, &list);
    assert_eq!(list["next"], json!(3));
    let (s, list) = raw.get("/api/v1/workloads").await;
    assert_contract(&spec, "GET", "/api/v1/workloads", s, &list);
    let (s, e) = raw.get("/api/v1/workloads?limit=0").await;
    assert_eq!(s, 400);
    assert_error_shape(&spec, &e);

    for w in list["workloads"].as_array().unwrap() {
        let id = w["id"].as_str().unwrap();
        let (s, body) = raw.get(&format!("/api/v1/workloads/{id}")).await;
        assert_contract(&spec, "GET", "/api/v1/workloads/{workloadId}", s, &body);
        let (s, body) = raw.get(&format!("/api/v1/workloads/{id}/pods")).await;
        assert_contract(&spec, "GET", "/api/v1/workloads/{workloadId}/pods", s, &body);
        if w["type"] == "Inference" {
            let (s, body) = raw.get(&format!("/api/v1/workloads/inferences/{id}")).await;
            assert_contract(&spec, "GET", "/api/v1/workloads/inferences/{workloadId}", s, &body);
        } else {
            let (s, body) = raw.get(&format!("/api/v1/workloads/inferences/{id}")).await;
            assert_eq!(s, 404);
            assert_contract(&spec, "GET", "/api/v1/workloads/inferences/{workloadId}", s, &body);
        }
    }

    // Metrics: 200, 207 (a type the simulator cannot serve), 400.
    let p = client(&h);
    let id = id_of(&*p, "nim-llama-3-8b").await;
    let end = now(&h);
    let range = format!(
        "start={}&end={}&numberOfSamples=5",
        (end - chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )
    .replace('+', "%2B");
    let path = "/api/v1/workloads/inferences/{workloadId}/metrics";
    let (s, m) = raw
        .get(&format!("/api/v1/workloads/inferences/{id}/metrics?metricType=THROUGHPUT,LATENCY&{range}"))
        .await;
    assert_eq!(s, 200);
    assert_contract(&spec, "GET", path, s, &m);
    assert!(m["measurements"][0]["values"][0]["timestamp"].as_str().unwrap().contains(' '));
    let wpath = "/api/v1/workloads/{workloadId}/metrics";
    let (s, m) = raw
        .get(&format!(
            "/api/v1/workloads/{id}/metrics?metricType=GPU_UTILIZATION,NIM_GPU_CACHE_USAGE_PERC&{range}"
        ))
        .await;
    assert_eq!(s, 207);
    assert_contract(&spec, "GET", wpath, s, &m);
    assert_eq!(m["measurements"].as_array().unwrap().len(), 1);
    let (s, e) = raw.get(&format!("/api/v1/workloads/{id}/metrics?metricType=BOGUS&{range}")).await;
    assert_eq!(s, 400);
    assert_contract(&spec, "GET", wpath, s, &e);
    let d = p.get(&id).await.unwrap();
    let (s, m) = raw
        .get(&format!(
            "/api/v1/workloads/inferences/{id}/pods/{}/metrics?metricType=THROUGHPUT&{range}",
            d.pods[0]
        ))
        .await;
    assert_contract(&spec, "GET", "/api/v1/workloads/inferences/{workloadId}/pods/{podId}/metrics", s, &m);
    // The generic pod metrics path is not in the cut spec; its body is a MetricsCompositeResponse.
    let (s, m) = raw
        .get(&format!("/api/v1/workloads/{id}/pods/{}/metrics?metricType=GPU_UTILIZATION&{range}", d.pods[0]))
        .await;
    assert_eq!(s, 200);
    assert!(contract_errors(&spec, &spec.component("MetricsCompositeResponse"), &m).is_empty());

    // Mutations by the client: capture its request bodies, check the responses.
    let d = p.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 4;
    p.update_scale(&id, &u).await.unwrap();
    let mut probes = d.probes.as_deref().cloned().unwrap();
    probes.readiness.as_mut().unwrap().probe.timeout_seconds = Some(4);
    p.update_probes(&id, &probes).await.unwrap();
    let c = RunaiClient::new(&account(&h), http.clone());
    let created = c
        .create(&wire::InferenceCreationRequest {
            name: "contract".into(),
            project_id: "1".into(),
            cluster_id: "7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01".into(),
            spec: Some(json!({"image": "nginx:1.27", "servingPort": {"container": 80}})),
            ..Default::default()
        })
        .await
        .unwrap();
    let received = h.state.runai.lock().unwrap().received.clone();
    assert_eq!(received.len(), 3);
    for (method, body) in &received {
        match method.as_str() {
            "PATCH" => spec.assert_request("PATCH", "/api/v1/workloads/inferences/{workloadId}", body),
            _ => spec.assert_request("POST", "/api/v1/workloads/inferences", body),
        }
    }
    assert_eq!(
        received[0].1,
        json!({"spec": {"autoscaling": {
            "minReplicas": 1, "maxReplicas": 4, "initialReplicas": 1, "concurrencyHardLimit": 16,
            "scaleDownDelaySeconds": 300, "metric": "concurrency", "metricThreshold": 4, "metricThresholdPercentage": 70
        }}})
    );
    let ipath = "/api/v1/workloads/inferences/{workloadId}";
    let (s, body) = raw
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/workloads/inferences/{id}"),
            Some(received[0].1.clone()),
        )
        .await;
    assert_contract(&spec, "PATCH", ipath, s, &body);
    let (s, body) = raw
        .send(
            reqwest::Method::POST,
            "/api/v1/workloads/inferences",
            Some(json!({"name": "contract-2", "projectId": "1", "clusterId": "7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01",
                        "spec": {"image": "nginx:1.27"}})),
        )
        .await;
    assert_eq!(s, 202);
    assert_contract(&spec, "POST", "/api/v1/workloads/inferences", s, &body);
    let (s, body) = raw
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/workloads/inferences/{id}"),
            Some(json!({"spec": {"autoscaling": {"maxReplicas": 0}}})),
        )
        .await;
    assert_eq!(s, 400);
    assert_error_shape(&spec, &body);
    let (s, body) = raw
        .send(reqwest::Method::DELETE, &format!("/api/v1/workloads/inferences/{}", created.key.id), None)
        .await;
    assert_contract(&spec, "DELETE", ipath, s, &body);
    let (s, body) = raw
        .send(
            reqwest::Method::DELETE,
            "/api/v1/workloads/inferences/00000000-0000-4000-a000-000000000000",
            None,
        )
        .await;
    assert_contract(&spec, "DELETE", ipath, s, &body);
    let resp = reqwest::Client::new().get(format!("{}/api/v1/workloads", h.base_url())).send().await.unwrap();
    let s = resp.status().as_u16();
    assert_contract(&spec, "GET", "/api/v1/workloads", s, &resp.json().await.unwrap());
}

/// The living demo (`--demo` without `--static`) moves Run:ai inferences through a wake from zero, pod
/// restarts and a capacity loss: through all of it, every workload, pods and inference answer matches the
/// spec, and the phases are the spec's `Phase` values.
#[tokio::test]
async fn the_living_demo_keeps_to_the_spec() {
    let h = start(SimConfig { live: true, ..config(3600) }, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let spec = Spec::load(SPEC);
    let raw = Raw::new(&h).await;
    let mut phases = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for _ in 0..30 {
        h.advance(1.0);
        let (s, list) = raw.get("/api/v1/workloads").await;
        assert_contract(&spec, "GET", "/api/v1/workloads", s, &list);
        for w in list["workloads"].as_array().unwrap().iter().filter(|w| w["type"] == "Inference") {
            let id = w["id"].as_str().unwrap();
            let (s, body) = raw.get(&format!("/api/v1/workloads/{id}")).await;
            assert_contract(&spec, "GET", "/api/v1/workloads/{workloadId}", s, &body);
            let (s, body) = raw.get(&format!("/api/v1/workloads/{id}/pods")).await;
            assert_contract(&spec, "GET", "/api/v1/workloads/{workloadId}/pods", s, &body);
            let (s, body) = raw.get(&format!("/api/v1/workloads/inferences/{id}")).await;
            assert_contract(&spec, "GET", "/api/v1/workloads/inferences/{workloadId}", s, &body);
            let name = w["name"].as_str().unwrap().to_string();
            phases.entry(name).or_default().insert(format!("{} {}", w["phase"], w["runningPods"]));
        }
    }
    // It did live: the scale-to-zero inference woke, and nim-embedqa was short of room for a while.
    assert!(phases["llm-scale-to-zero"].len() > 1, "{:?}", phases["llm-scale-to-zero"]);
    assert!(
        phases["nim-embedqa"].iter().any(|p| p.starts_with("\"Pending\"")),
        "{:?}",
        phases["nim-embedqa"]
    );
}
