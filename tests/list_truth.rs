//! Lists tell the truth at their edges (issue 22, items 2 and 3), through the real clients, the real `Sync`
//! and the real binary:
//! - a count that is not a count (`2^70`, `-3`) in Sesterce details or a Run:ai list makes its row unknown,
//!   naming the field and the value, never 0; `1e400` (no JSON reader holds it) fails the read, naming where;
//! - a Sesterce list item that cannot be read is counted and named, in the client's listing, `snapshot`
//!   (stderr and `--json`) and `doctor`;
//! - an id listed twice is one row and a warning naming it, in `snapshot` as in the dashboard;
//! - paging that never ends (the simulator's `endless_paging` drift: every page is the first, and says there
//!   is more) stops with an error naming the endpoint, the rows read shown as partial; against it the
//!   dashboard's poller sends a bounded number of requests per refresh.
//!
//! The misbehaving Sesterce and Run:ai servers are small axum routers in this file: each answers fixed bodies.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use infertop::app::Msg;
use infertop::model::ProviderKind;
use infertop::provider::http::{RateLimit, RetryPolicy, build_client};
use infertop::provider::{self, AccountSpec, GcoreApi, Provider};
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_infertop");

/// 2^70: a JSON number any reader takes (as a float), and no count.
const HUGE: &str = "1180591620717411303424";

/// A server answering `GET path` with the raw body `bodies[path]` (200), and 404 to anything else.
async fn canned(bodies: HashMap<String, String>) -> String {
    let bodies = Arc::new(bodies);
    let app = Router::new().fallback(move |req: Request<Body>| {
        let bodies = bodies.clone();
        async move {
            let path = req.uri().path().to_string();
            let key = if req.method() == axum::http::Method::POST { format!("POST {path}") } else { path };
            match bodies.get(&key) {
                Some(b) => Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from(b.clone()))
                    .unwrap(),
                None => (StatusCode::NOT_FOUND, r#"{"message":"not found"}"#).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn account(kind: ProviderKind, base: &str) -> AccountSpec {
    let mut a = provider::demo_accounts(base).into_iter().find(|a| a.kind == kind).unwrap();
    a.retry = RetryPolicy::none();
    a.rate_limit = RateLimit::unlimited();
    a
}

fn connect(a: &AccountSpec) -> Arc<dyn Provider> {
    provider::connect(a, build_client(Duration::from_secs(5), Duration::from_secs(20)))
}

fn details(id: &str, deploy_status: &str) -> String {
    format!(
        r#"{{"_id": "{id}", "name": "{id}", "status": "ACTIVE", "containerPort": 8000,
            "containers": [{{"regionId": 18, "scale": {{"min": 1, "max": 2}}, "deployStatus": {deploy_status}}}]}}"#
    )
}

/// A Sesterce account whose instances' details carry `2^70`, `-3`, `1e400` and a good count.
async fn sesterce_bad_counts() -> String {
    let mut b = HashMap::new();
    let list: Vec<Value> = ["huge", "negative", "overflow", "fine"]
        .iter()
        .map(|id| json!({"_id": id, "name": id, "status": "ACTIVE"}))
        .collect();
    b.insert("/ai-inference/instances".to_string(), Value::Array(list).to_string());
    b.insert(
        "/ai-inference/instances/huge".into(),
        details("huge", &format!(r#"{{"total": {HUGE}, "ready": 1}}"#)),
    );
    b.insert("/ai-inference/instances/negative".into(), details("negative", r#"{"total": 2, "ready": -3}"#));
    b.insert(
        "/ai-inference/instances/overflow".into(),
        details("overflow", r#"{"total": 1e400, "ready": 1}"#),
    );
    b.insert("/ai-inference/instances/fine".into(), details("fine", r#"{"total": 2, "ready": 2}"#));
    for c in ["hardwares", "regions", "models", "registries"] {
        b.insert(format!("/ai-inference/{c}"), "[]".into());
    }
    canned(b).await
}

/// A Run:ai control plane whose one page of workloads carries `2^70`, `-3` and a good count.
async fn runai_bad_counts() -> String {
    let w = |id: &str, running: &str, number: &str| {
        format!(
            r#"{{"id": "{id}", "name": "{id}", "type": "Inference", "phase": "Running", "clusterId": "c1",
                "runningPods": {running}, "requestedPods": {{"number": {number}, "min": 1, "max": 3}}}}"#
        )
    };
    let page = format!(
        r#"{{"workloads": [{}, {}, {}]}}"#,
        w("huge", "1", HUGE),
        w("negative", "-3", "2"),
        w("fine", "2", "2")
    );
    let mut b = HashMap::new();
    b.insert("POST /api/v2/token".to_string(), r#"{"access_token": "t", "expires_in": 3600}"#.to_string());
    b.insert("/api/v1/workloads".to_string(), page);
    canned(b).await
}

fn fresh_home(tag: &str) -> common::temp::TempDir {
    common::temp::TempDir::new("list-truth", tag)
}

/// `infertop snapshot --json` against one account; (JSON, stderr).
fn snapshot(tag: &str, account: &str) -> (Value, String) {
    let home = fresh_home(tag);
    let cfg = home.join("config.toml");
    std::fs::write(&cfg, account).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["snapshot", "--json", "--config", cfg.to_str().unwrap()])
        .env_remove("INFERTOP_CONFIG")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("T_KEY", "demo-sesterce-key")
        .env("T_SECRET", "demo-runai-secret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let _ = std::fs::remove_dir_all(&home);
    (doc, stderr)
}

fn sesterce_config(url: &str) -> String {
    format!(
        "[[account]]\nname = \"s\"\nprovider = \"sesterce\"\nbase_url = \"{url}\"\napi_key_env = \"T_KEY\"\n"
    )
}

fn runai_config(url: &str) -> String {
    format!(
        "[[account]]\nname = \"r\"\nprovider = \"runai\"\nbase_url = \"{url}\"\nclient_id = \"demo\"\nclient_secret_env = \"T_SECRET\"\n"
    )
}

fn row<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let rows: Vec<&Value> = doc["deployments"].as_array().unwrap().iter().filter(|d| d["id"] == id).collect();
    assert_eq!(rows.len(), 1, "one row for {id}: {doc:#}");
    rows[0]
}

// ---------------------------------------------------------------------------------------------------------
// Counts that are not counts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sesterce_details_with_counts_that_are_not_counts_are_unknown_with_the_reason() {
    let base = sesterce_bad_counts().await;
    let p = connect(&account(ProviderKind::Sesterce, &base));
    let huge = p.get("huge").await.unwrap();
    let why = huge.unknown.as_deref().expect("2^70 is no count: the row is unknown");
    assert!(why.contains("containers[0].deployStatus.total: 1.18059162071741"), "{why}");
    assert!(why.contains("/ai-inference/instances/"), "the reason names the endpoint: {why}");
    let negative = p.get("negative").await.unwrap();
    let why = negative.unknown.as_deref().expect("-3 is no count");
    assert!(why.contains("containers[0].deployStatus.ready: -3 is not a count"), "{why}");
    // No reader holds 1e400: the read fails, saying where.
    let e = p.get("overflow").await.unwrap_err().to_string();
    assert!(e.contains("deployStatus"), "{e}");
    assert_eq!(p.get("fine").await.unwrap().unknown, None);

    let (doc, _) = tokio::task::spawn_blocking(move || snapshot("sesterce-counts", &sesterce_config(&base)))
        .await
        .unwrap();
    let why = row(&doc, "huge")["unknown"].as_str().unwrap_or_else(|| panic!("{doc:#}")).to_string();
    assert!(why.contains("deployStatus.total: 1.18059162071741"), "{why}");
    let why = row(&doc, "negative")["unknown"].as_str().unwrap_or_else(|| panic!("{doc:#}")).to_string();
    assert!(why.contains("deployStatus.ready: -3 is not a count"), "{why}");
    assert_eq!(row(&doc, "fine")["unknown"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runai_list_counts_that_are_not_counts_are_unknown_with_the_reason() {
    let base = runai_bad_counts().await;
    let p = connect(&account(ProviderKind::Runai, &base));
    let rows = p.list().await.unwrap();
    let by_id = |id: &str| rows.iter().find(|d| d.key.id == id).unwrap().clone();
    let why = by_id("huge").unknown.expect("2^70 is no count");
    assert!(why.contains("requestedPods.number: 1.18059162071741"), "{why}");
    assert!(why.contains("GET /api/v1/workloads"), "{why}");
    let why = by_id("negative").unknown.expect("-3 is no count");
    assert!(why.contains("runningPods: -3 is not a count"), "{why}");
    assert_eq!(by_id("fine").unknown, None);

    let (doc, _) =
        tokio::task::spawn_blocking(move || snapshot("runai-counts", &runai_config(&base))).await.unwrap();
    let why = row(&doc, "huge")["unknown"].as_str().unwrap_or_else(|| panic!("{doc:#}")).to_string();
    assert!(why.contains("requestedPods.number"), "{why}");
    let why = row(&doc, "negative")["unknown"].as_str().unwrap_or_else(|| panic!("{doc:#}")).to_string();
    assert!(why.contains("runningPods: -3"), "{why}");
}

/// Gcore reads replica counts as whole numbers: `2^70` fails the list, saying where; `-3` (which it used to
/// clamp to 0) makes the row unknown.
#[tokio::test]
async fn gcore_counts_that_are_not_counts_fail_the_list_or_make_the_row_unknown() {
    let dep = |total: &str| {
        format!(
            r#"{{"count": 1, "results": [{{"name": "d", "status": "ACTIVE",
                "containers": [{{"region_id": 1, "deploy_status": {{"ready": 1, "total": {total}}}}}]}}]}}"#
        )
    };
    for (total, unknown) in
        [(HUGE, None), ("-3", Some("containers[0].deploy_status.total: -3 is not a count"))]
    {
        let mut b = HashMap::new();
        b.insert("/cloud/v1/regions".to_string(), r#"{"count": 0, "results": []}"#.to_string());
        b.insert("/cloud/v3/inference/1/deployments".to_string(), dep(total));
        let p = connect(&account(ProviderKind::Gcore, &canned(b).await));
        match unknown {
            None => {
                let e = p.list().await.unwrap_err().to_string();
                assert!(e.contains("results[0].containers[0].deploy_status.total"), "{e}");
            }
            Some(why) => {
                let rows = p.list().await.unwrap();
                let shown = rows[0].unknown.as_deref().unwrap_or_default();
                assert!(shown.contains(why), "{shown:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Items that cannot be read, ids listed twice

/// A Sesterce list of five: one item nested far too deep, one that is not an object, one whose price no
/// reader holds, one listed twice (`a`), and one fine.
async fn sesterce_bad_items() -> String {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let list = format!(
        r#"[{{"_id": "a", "name": "a", "status": "ACTIVE"}},
            {{"_id": "deep", "name": "deep", "status": "ACTIVE", "features": {deep}}},
            42,
            {{"_id": "b", "name": "b", "status": "ACTIVE"}},
            {{"_id": "a", "name": "a", "status": "ACTIVE"}}]"#
    );
    let mut b = HashMap::new();
    b.insert("/ai-inference/instances".to_string(), list);
    b.insert("/ai-inference/instances/a".into(), details("a", r#"{"total": 1, "ready": 1}"#));
    b.insert("/ai-inference/instances/b".into(), details("b", r#"{"total": 1, "ready": 1}"#));
    for c in ["hardwares", "regions", "models", "registries"] {
        b.insert(format!("/ai-inference/{c}"), "[]".into());
    }
    canned(b).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sesterce_items_that_cannot_be_read_are_counted_and_named_and_a_twice_listed_id_is_one_row() {
    let base = sesterce_bad_items().await;
    let p = connect(&account(ProviderKind::Sesterce, &base));
    let listing = p.listing().await.unwrap();
    let ids: Vec<&str> = listing.items.iter().map(|d| d.key.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(listing.cut, None);
    let [bad, twice] = listing.warnings.as_slice() else { panic!("{:?}", listing.warnings) };
    assert!(
        bad.starts_with("2 of 5 Sesterce instances could not be read (GET /ai-inference/instances): "),
        "{bad}"
    );
    assert!(
        bad.contains("[1] ") && bad.contains("recursion limit"),
        "the deep item, by place and why: {bad}"
    );
    assert!(bad.contains("[2] ") && bad.contains("invalid type: integer `42`"), "{bad}");
    assert_eq!(twice, "Sesterce instances: id a is listed 2 times; one row is shown");
    // The summary list the dashboard shows first says the same.
    let summaries = p.list_summaries().await.unwrap().unwrap();
    assert_eq!(summaries.items.len(), 2);
    assert_eq!(summaries.warnings, listing.warnings);

    let url = base.clone();
    let (doc, stderr) =
        tokio::task::spawn_blocking(move || snapshot("sesterce-items", &sesterce_config(&url)))
            .await
            .unwrap();
    row(&doc, "a");
    row(&doc, "b");
    assert_eq!(doc["deployments"].as_array().unwrap().len(), 2, "{doc:#}");
    let warnings = &doc["accounts"][0]["warnings"];
    assert!(
        warnings[0].as_str().unwrap().starts_with("2 of 5 Sesterce instances could not be read"),
        "{doc:#}"
    );
    assert_eq!(warnings[1], "Sesterce instances: id a is listed 2 times; one row is shown");
    assert!(stderr.contains("s: 2 of 5 Sesterce instances could not be read"), "{stderr}");
    assert!(stderr.contains("s: Sesterce instances: id a is listed 2 times"), "{stderr}");

    // The doctor counts them too (it reads the list as JSON: the deep item is left out here, no JSON reader
    // takes it whole).
    let mut b = HashMap::new();
    b.insert(
        "/ai-inference/instances".to_string(),
        r#"[{"_id": "a", "name": "a", "status": "ACTIVE"}, 42, "x", {"_id": "b", "name": "b", "status": "ACTIVE"}]"#
            .to_string(),
    );
    b.insert("/ai-inference/instances/a".into(), details("a", r#"{"total": 1, "ready": 1}"#));
    let base = canned(b).await;
    let report = infertop::doctor::examine(
        &[account(ProviderKind::Sesterce, &base)],
        build_client(Duration::from_secs(5), Duration::from_secs(20)),
    )
    .await;
    let found: Vec<_> = report.accounts[0]
        .findings
        .iter()
        .filter(|f| f.endpoint == "GET /ai-inference/instances" && f.message.contains("cannot be read"))
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", report.accounts[0].findings);
    assert!(found[0].message.starts_with("2 of 4 items cannot be read"), "{}", found[0].message);
    assert!(found[0].message.contains("(first: item [1])"), "{}", found[0].message);
}

// ---------------------------------------------------------------------------------------------------------
// Paging that never ends

async fn endless_sim() -> SimHandle {
    let mut faults = sim::faults::FaultConfig::profile("drift-endless-paging").unwrap();
    faults.sesterce = Default::default();
    sim::start(SimConfig { time_scale: 0.0, faults, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn list_requests(sim: &SimHandle, endpoint: &str) -> usize {
    sim.state.traffic.log().iter().filter(|l| l.as_str() == format!("GET {endpoint}")).count()
}

#[tokio::test]
async fn endless_gcore_and_runai_paging_stops_with_an_error_and_the_rows_read_are_partial() {
    let sim = endless_sim().await;
    for (kind, api, endpoint, rows) in [
        (ProviderKind::Gcore, GcoreApi::V3, "/cloud/v3/inference/1/deployments", 9),
        (ProviderKind::Gcore, GcoreApi::V2, "/cloud/v2/inference/deployments", 9),
        (ProviderKind::Runai, GcoreApi::V3, "/api/v1/workloads", 8),
    ] {
        let mut a = account(kind, &sim.base_url());
        a.gcore_api = api;
        let p = connect(&a);
        let before = list_requests(&sim, endpoint);
        let listing = p.listing().await.unwrap();
        let cut = listing.cut.as_ref().unwrap_or_else(|| panic!("{kind:?} {api:?}: read as complete"));
        let e = cut.to_string();
        assert!(e.contains(&format!("the list at {endpoint} did not end")), "{e}");
        assert!(e.contains("page 2 repeats items of earlier pages"), "{e}");
        assert!(e.contains("the rows shown are partial"), "{e}");
        // The first page's rows, once each.
        assert_eq!(listing.items.len(), rows, "{kind:?} {api:?}");
        // The first page, the one that repeats it, and at most one more sent alongside.
        let sent = list_requests(&sim, endpoint) - before;
        assert!((2..=3).contains(&sent), "{kind:?} {api:?}: {sent} page requests");
        // Read to its end or not at all: `list` is the error.
        assert_eq!(p.list().await.unwrap_err().to_string(), e);
    }
}

/// The dashboard's poller against endless paging: every refresh ends in a partial list (never a whole one),
/// and costs a bounded number of requests, so the account's request rate is that bound over the refresh
/// interval (at the dashboard's default of 5 s, 4 requests are 0.8 per second).
#[tokio::test]
async fn the_dashboard_poller_against_endless_paging_sends_a_bounded_number_of_requests_per_refresh() {
    let sim = endless_sim().await;
    for (kind, endpoint) in [
        (ProviderKind::Gcore, "/cloud/v3/inference/1/deployments"),
        (ProviderKind::Runai, "/api/v1/workloads"),
    ] {
        let p = connect(&account(kind, &sim.base_url()));
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let sync = infertop::sync::Sync::spawn(vec![p], tx, Duration::from_millis(200), None);
        let requests = || sim.state.traffic.of(kind).requests;
        let mut partial = 0;
        let mut at_first = 0;
        const CYCLES: usize = 5;
        while partial <= CYCLES {
            let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap().unwrap();
            match msg {
                Msg::FleetPartial { rows, error, .. } => {
                    assert!(!rows.is_empty());
                    assert!(
                        error.to_string().contains(&format!("the list at {endpoint} did not end")),
                        "{error}"
                    );
                    partial += 1;
                    if partial == 1 {
                        at_first = requests();
                    }
                }
                Msg::Fleet { result, .. } => {
                    panic!("{kind:?}: a list read as whole or failed outright: {result:?}")
                }
                _ => {}
            }
        }
        let per_cycle = (requests() - at_first) as f64 / CYCLES as f64;
        drop(sync);
        assert!(
            per_cycle <= 4.0,
            "{kind:?}: {per_cycle} requests per refresh; the last ones: {:?}",
            sim.state.traffic.log()
        );
    }
}

/// The dashboard, end to end from the real pollers to the screen: an account whose paging never ends is
/// failing and marked `partial list` (its rows shown, never `✓`), and one whose list has items that cannot
/// be read and an id listed twice shows one row per id, its warnings counted on the status line and toasted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_marks_a_partial_list_and_counts_list_warnings() {
    use infertop::app::{AccountState, State, update};
    let sim = endless_sim().await;
    let sesterce = sesterce_bad_items().await;
    let providers = vec![
        connect(&account(ProviderKind::Gcore, &sim.base_url())),
        connect(&account(ProviderKind::Sesterce, &sesterce)),
    ];
    let now = chrono::Utc::now();
    let accounts = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(accounts, Duration::from_secs(5), now);
    update(&mut state, Msg::Resize(160, 48));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _sync = infertop::sync::Sync::spawn(providers, tx, Duration::from_secs(5), None);
    let shown = |s: &State| s.accounts[0].partial && !s.accounts[1].list_warnings.is_empty();
    while !shown(&state) {
        let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap().unwrap();
        update(&mut state, msg);
    }
    state.now = chrono::Utc::now();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| infertop::ui::draw(f, &state)).unwrap();
    let buf = term.backend().buffer().clone();
    let lines: Vec<String> =
        (0..48).map(|y| (0..160).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()).collect();
    let status = lines
        .iter()
        .find(|l| l.contains(" gcore-demo ") && l.contains(" sesterce-demo ") && l.contains(" │"))
        .unwrap_or_else(|| panic!("no status line: {lines:#?}"));
    assert!(status.contains("✗ gcore-demo") && status.contains("partial list"), "{status}");
    assert!(!status.contains("✓ gcore-demo"), "{status}");
    assert!(status.contains("⚠ 2 list warnings"), "{status}");
    let gcore_rows = state.rows.iter().filter(|r| r.account == 0).count();
    assert_eq!(gcore_rows, 9, "the rows the partial list read are shown");
    let mut sesterce_ids: Vec<&str> =
        state.rows.iter().filter(|r| r.account == 1).map(|r| r.dep.key.id.as_str()).collect();
    sesterce_ids.sort();
    assert_eq!(sesterce_ids, ["a", "b"]);
    let toasts: Vec<&str> = state.live_toasts().map(|t| t.message.as_str()).collect();
    assert!(
        toasts.iter().any(|t| t.starts_with("sesterce-demo: 2 of 5 Sesterce instances could not be read")),
        "{toasts:?}"
    );
    assert!(toasts.iter().any(|t| t.contains("id a is listed 2 times")), "{toasts:?}");
}
