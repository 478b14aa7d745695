//! Issue 25, "tests that bite": behaviours a user relies on that planted bugs slipped past. Each test here was
//! checked to fail with the behaviour broken by hand.
//!
//! Through the dashboard as the terminal loop drives it (keys into `update`, the editor session the loop would
//! run, effects to the real `Sync`) against the simulator over loopback, or through the real HTTP client
//! against a purpose-built misbehaving server on loopback. Orders are read from the simulator's request log,
//! never from clocks.

mod common;

use common::app::{Driver, driver, frozen_config, frozen_sim, start_sim};
use common::proxy::Proxy;
use common::wire::raw_deployment;
use crossterm::event::KeyCode;
use infertop::app::Msg;
use infertop::app::editor::{EditorOutcome, ReviewStage};
use infertop::app::state::Mode;
use infertop::model::ProviderKind;
use infertop::provider::http::{Http, Lane, Limits, RateLimit, Request, RetryPolicy, build_client, in_lane};
use infertop::provider::{self, AccountSpec};
use infertop::sim::ambiguity::{self, Ambiguities};
use infertop::sim::{SimConfig, SimHandle};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GCORE: usize = 0;
const SESTERCE: usize = 1;
const RUNAI: usize = 2;

// ------------------------------------------------------------------------------------------ the editor

/// A scratch directory holding the test's `$EDITOR`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("infertop-bite-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// An executable sh script that edits the file it is given (`$1`) in place, as a user would.
    fn editor(&self, body: &str) -> PathBuf {
        let path = self.0.join("editor.sh");
        std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `e`, the session the terminal loop would run with `editor`, and its outcome handed back.
async fn edit(d: &mut Driver, editor: &Path) -> Result<EditorOutcome, String> {
    d.key(KeyCode::Char('e'));
    let job = d.editor_jobs.pop().unwrap_or_else(|| panic!("e asked for no editor: {}", d.said()));
    let command = vec![editor.display().to_string()];
    let session = job.clone();
    let outcome =
        tokio::task::spawn_blocking(move || infertop::tui::edit_session(&session, &command)).await.unwrap();
    d.send(Msg::Edited { job: Box::new(job), outcome: outcome.clone() });
    outcome
}

/// `y` in the review, then the outcome.
async fn confirm(d: &mut Driver) {
    match &d.state.mode {
        Mode::Editor(r) => assert_eq!(r.stage, ReviewStage::Confirm),
        other => panic!("no review: {other:?} ({})", d.said()),
    }
    d.key(KeyCode::Char('y'));
    d.wait("the write's outcome", |s| match &s.mode {
        Mode::Editor(r) => r.stage != ReviewStage::Applying,
        _ => true,
    })
    .await;
    if let Mode::Editor(r) = &d.state.mode {
        panic!("not applied: {:?}", r.stage);
    }
}

/// Writes (`PATCH`, `PUT`, `POST` other than a token) in the simulator's request log.
fn writes(sim: &SimHandle) -> Vec<String> {
    sim.state
        .traffic
        .log()
        .into_iter()
        .filter(|l| {
            l.starts_with("PATCH") || l.starts_with("PUT") || (l.starts_with("POST") && !l.contains("token"))
        })
        .collect()
}

const SET_DESCRIPTION: &str = "sed -i 's|^description = .*|description = \"bite-edited\"|; \
                               s|^# description = .*|description = \"bite-edited\"|' \"$1\"";

/// A proxy that plays a provider keeping `description` at `kept` whatever a write asks (`path_has` picks the
/// writes it rewrites).
async fn keeps_description(sim: &SimHandle, path_has: &'static str, kept: Value) -> Proxy {
    Proxy::start(
        sim.base_url(),
        Arc::new(move |_m, path, body| {
            if path.contains(path_has)
                && let Some(o) = body.as_object_mut()
                && o.contains_key("description")
            {
                o.insert("description".into(), kept.clone());
            }
        }),
    )
    .await
}

/// #1: a settings field the provider did not take is named. `e` on a Gcore v3 deployment changes its
/// description; the provider keeps the old one. The outcome names the description (screen and audit), and
/// says nothing of "applied".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_the_provider_kept_after_e_is_named_not_applied() {
    let sim = frozen_sim(Ambiguities::default()).await;
    let scratch = Scratch::new("kept-description");
    let accounts = provider::demo_accounts(&sim.base_url());
    let mut probe = driver("bite-desc-probe", &accounts).await;
    let name = probe.pick_running(GCORE, |_, _| true).await;
    let id = probe.state.selected_row().unwrap().dep.key.id.clone();
    let raw = raw_deployment(&reqwest::Client::new(), &sim.base_url(), &accounts[GCORE], &id).await;
    let kept = raw["description"].clone();
    assert_ne!(kept, Value::from("bite-edited"));
    drop(probe);
    let proxy = keeps_description(&sim, "/inference/", kept.clone()).await;
    let mut d = driver("bite-desc", &provider::demo_accounts(&proxy.base)).await;
    d.select(GCORE, &name).await;
    let editor = scratch.editor(SET_DESCRIPTION);
    match edit(&mut d, &editor).await {
        Ok(EditorOutcome::Edited { settings, .. }) => {
            assert_eq!(settings.description.as_deref(), Some("bite-edited"))
        }
        other => panic!("{other:?}"),
    }
    confirm(&mut d).await;
    assert_eq!(proxy.rewritten.load(std::sync::atomic::Ordering::Relaxed), 1, "the write went through");
    let back = d.providers[GCORE].get(&id).await.unwrap();
    assert_ne!(back.description.as_deref(), Some("bite-edited"), "the provider kept its description");
    let audit = d.audit_edit(&name);
    assert_eq!(audit["result"], "partial", "{audit}");
    let fields: Vec<&str> =
        audit["not_taken"].as_array().unwrap().iter().map(|n| n["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["description"], "{audit}");
    assert_eq!(audit["not_taken"][0]["asked"], "\"bite-edited\"", "{audit}");
    d.pump(500).await;
    let said = d.said();
    assert!(said.contains("Gcore kept description"), "{said}");
    assert!(said.contains("(asked: \"bite-edited\")"), "{said}");
    assert!(!said.contains("applied") && !said.contains("rolled out"), "a false success: {said}");
}

/// #2: the audit's word for a mixed outcome. A Sesterce `e` that switches the registry (never shown back:
/// unverifiable) and changes the description, which the provider keeps: one field verifiably not taken
/// makes the whole `partial`, not "applied, not verified".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sesterce_edit_with_a_registry_and_a_kept_field_is_audited_partial() {
    let sim = frozen_sim(Ambiguities::default()).await;
    let scratch = Scratch::new("sesterce-mixed");
    let accounts = provider::demo_accounts(&sim.base_url());
    let mut probe = driver("bite-mixed-probe", &accounts).await;
    let name = probe.pick_running(SESTERCE, |_, _| true).await;
    let id = probe.state.selected_row().unwrap().dep.key.id.clone();
    drop(probe);
    let (registry, kept) = {
        let s = sim.state.sesterce.lock().unwrap();
        let i = s.instances.iter().find(|i| i.name == name).unwrap();
        let r = s.registries.iter().find(|r| i.registry_id.as_str() != Some(r.id.as_str())).unwrap();
        (r.id.clone(), i.description.clone())
    };
    let proxy = keeps_description(&sim, "/ai-inference/instances/", kept.clone()).await;
    let mut d = driver("bite-mixed", &provider::demo_accounts(&proxy.base)).await;
    d.select(SESTERCE, &name).await;
    let editor = scratch
        .editor(&format!("sed -i 's|^# registry = .*|registry = \"{registry}\"|' \"$1\"\n{SET_DESCRIPTION}"));
    match edit(&mut d, &editor).await {
        Ok(EditorOutcome::Edited { settings, .. }) => {
            assert!(settings.source.is_some(), "the registry is picked");
            assert_eq!(settings.description.as_deref(), Some("bite-edited"));
        }
        other => panic!("{other:?}"),
    }
    confirm(&mut d).await;
    assert_eq!(proxy.rewritten.load(std::sync::atomic::Ordering::Relaxed), 1, "the write went through");
    {
        let s = sim.state.sesterce.lock().unwrap();
        let i = s.instances.iter().find(|i| i.id == id).unwrap();
        assert_eq!(i.registry_id, Value::from(registry.clone()), "the registry switch landed");
        assert_eq!(i.description, kept, "the provider kept its description");
    }
    let audit = d.audit_edit(&name);
    assert_eq!(audit["result"], "partial", "{audit}");
    let fields: Vec<&str> =
        audit["not_taken"].as_array().unwrap().iter().map(|n| n["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"description"), "{audit}");
    d.pump(500).await;
    let said = d.said();
    assert!(said.contains("Sesterce kept description"), "{said}");
    assert!(!said.contains("applied"), "a false success: {said}");
}

/// #3: a Run:ai readiness probe switched off in `e` is switched off: the PATCH goes out without the probe,
/// the simulator holds none, and the edit is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runai_readiness_probe_switched_off_in_e_is_off() {
    let sim = frozen_sim(Ambiguities::default()).await;
    let scratch = Scratch::new("runai-probe-off");
    let accounts = provider::demo_accounts(&sim.base_url());
    let mut d = driver("bite-probe-off", &accounts).await;
    let name = d.pick_running(RUNAI, |_, _| true).await;
    let id = d.state.selected_row().unwrap().dep.key.id.clone();
    let http = reqwest::Client::new();
    let before = raw_deployment(&http, &sim.base_url(), &accounts[RUNAI], &id).await;
    assert!(before["spec"]["probes"]["readiness"].is_object(), "the probe is on to start with: {before}");
    let editor = scratch.editor("sed -i 's|^enabled = true|enabled = false|' \"$1\"");
    match edit(&mut d, &editor).await {
        Ok(EditorOutcome::Edited { settings, .. }) => {
            let r = settings.probes.as_ref().and_then(|p| p.readiness.as_ref());
            assert!(r.is_some_and(|r| !r.enabled), "the file turned it off: {r:?}");
        }
        other => panic!("{other:?}"),
    }
    let mark = writes(&sim).len();
    confirm(&mut d).await;
    assert_eq!(
        writes(&sim)[mark..],
        [format!("PATCH /api/v1/workloads/inferences/{id}")],
        "one write went out"
    );
    let after = raw_deployment(&http, &sim.base_url(), &accounts[RUNAI], &id).await;
    assert!(after["spec"]["probes"].get("readiness").is_none(), "the probe is off: {}", after["spec"]);
    let back = d.providers[RUNAI].get(&id).await.unwrap();
    assert!(
        back.probes.as_ref().and_then(|p| p.readiness.as_ref()).is_none_or(|r| !r.enabled),
        "{:?}",
        back.probes
    );
    let audit = d.audit_edit(&name);
    assert_eq!(audit["result"], "applied", "{audit}");
}

// ------------------------------------------------------------------------------------------ Run:ai sign-in

/// #4: a control plane answering 405 on `/api/v2/token` (the `runai-token=v1-only-405` reading) has no v2
/// token endpoint: the client signs in with v1, once, and remembers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runai_signs_in_with_v1_when_v2_token_answers_405() {
    // The simulator's clock is the real one here: the token's `exp` is what the client reads its life from.
    let sim = start_sim(SimConfig {
        ambiguities: Ambiguities::default().with(ambiguity::RUNAI_TOKEN, "v1-only-405"),
        // A token that lives 2 s (refreshed at half its life): the refresh shows what was remembered.
        runai_token_ttl: 2,
        ..SimConfig::default()
    })
    .await;
    let v2 = reqwest::Client::new()
        .post(format!("{}/api/v2/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), 405, "the reading answers 405");
    let mark = sim.state.traffic.log().len();
    let spec = provider::demo_accounts(&sim.base_url()).into_iter().nth(RUNAI).unwrap();
    let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(20)));
    let list = p.list().await.unwrap_or_else(|e| panic!("the list under v1-only-405: {e}"));
    assert!(!list.is_empty());
    let tokens = |from: usize| -> Vec<String> {
        sim.state.traffic.log()[from..].iter().filter(|l| l.contains("/token")).cloned().collect()
    };
    let first = tokens(mark);
    assert_eq!(first[..2], ["POST /api/v2/token", "POST /api/v1/token"], "{first:?}");
    assert!(first[2..].iter().all(|t| t == "POST /api/v1/token"), "v2 was asked again: {first:?}");
    // Once the token is due for refresh, the next one comes from v1 alone.
    let mark = sim.state.traffic.log().len();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    p.get(&list[0].key.id).await.unwrap();
    let later = tokens(mark);
    assert!(!later.is_empty(), "the token was refreshed");
    assert!(later.iter().all(|t| t == "POST /api/v1/token"), "v2 is not asked again: {later:?}");
}

// ------------------------------------------------------------------------------------------ lanes

/// Sesterce detail reads the simulator saw, in arrival order, from log position `from` on.
fn detail_reads(sim: &SimHandle, from: usize) -> Vec<String> {
    sim.state.traffic.log()[from..]
        .iter()
        .filter_map(|l| l.strip_prefix("GET /ai-inference/instances/"))
        .filter(|id| !id.contains('/'))
        .map(str::to_string)
        .collect()
}

/// #5: the Normal lane (reads of rows in view) goes ahead of the Background lane (the sweep). Forty sweep
/// reads are queued on an account limited to 10 requests/s; three reads of rows in view come after them and
/// reach the simulator before all but the sweep read that already had its turn. Order from the request log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_rows_in_view_go_ahead_of_a_queued_background_sweep() {
    let sim = start_sim(SimConfig { fleet: Some(200), ..frozen_config() }).await;
    let spec = AccountSpec {
        rate_limit: RateLimit { per_second: 10.0, burst: 1 },
        max_in_flight: 16,
        retry: RetryPolicy::none(),
        ..provider::demo_accounts(&sim.base_url()).into_iter().nth(SESTERCE).unwrap()
    };
    let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(30)));
    let ids: Vec<String> =
        p.list_summaries().await.expect("a list").unwrap().items.into_iter().map(|l| l.dep.key.id).collect();
    assert!(ids.len() >= 60, "{}", ids.len());
    // The catalog names are read once, here, so that every later get is one details read.
    p.get(&ids[0]).await.unwrap();
    let sweep: Vec<String> = ids[1..41].to_vec();
    let in_view: Vec<String> = ids[50..53].to_vec();
    let background: Vec<_> = sweep
        .iter()
        .map(|id| {
            let (p, id) = (p.clone(), id.clone());
            tokio::spawn(in_lane(Lane::Background, async move { p.get(&id).await.map(|_| ()) }))
        })
        .collect();
    // The sweep is under way (and its other reads wait their turn) once three of its reads went out.
    while detail_reads(&sim, 0).iter().filter(|id| sweep.contains(id)).count() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mark = sim.state.traffic.log().len();
    let normal: Vec<_> = in_view
        .iter()
        .map(|id| {
            let (p, id) = (p.clone(), id.clone());
            tokio::spawn(in_lane(Lane::Normal, async move { p.get(&id).await.map(|_| ()) }))
        })
        .collect();
    for h in normal {
        h.await.unwrap().unwrap();
    }
    let swept = detail_reads(&sim, 0).iter().filter(|id| sweep.contains(id)).count();
    for h in &background {
        h.abort();
    }
    let reads = detail_reads(&sim, mark);
    let last = reads.iter().rposition(|id| in_view.contains(id)).expect("the rows in view were read");
    let overtaking: Vec<&String> = reads[..last].iter().filter(|id| sweep.contains(id)).collect();
    // At most the sweep reads that had taken their turn before the rows in view asked for theirs.
    assert!(overtaking.len() <= 2, "{} sweep reads went first: {reads:?}", overtaking.len());
    assert!(swept < sweep.len(), "the sweep was still queued when the rows in view were read");
}

// ------------------------------------------------------------------------------------------ bounded reads

/// What the test server answers on a path.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    /// Send a `Content-Length`; without one, the body ends when the connection closes.
    announce: bool,
}

/// A small HTTP/1.1 server on loopback: one request per connection, answered by `answer(path)`, the body
/// written in pieces of 1000 bytes. Serves at most 64 connections and stops after a minute.
async fn serve(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    tokio::spawn(tokio::time::timeout(Duration::from_secs(60), async move {
        for _ in 0..64 {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
                    match s.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let a = answer(&path);
                let length =
                    if a.announce { format!("content-length: {}\r\n", a.body.len()) } else { String::new() };
                let start = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n",
                    a.status
                );
                if s.write_all(start.as_bytes()).await.is_err() {
                    return;
                }
                for piece in a.body.chunks(1000) {
                    if s.write_all(piece).await.is_err() {
                        return;
                    }
                    let _ = s.flush().await;
                }
                let _ = s.shutdown().await;
            });
        }
    }));
    base
}

fn http(limits: Limits) -> Http {
    Http::new(
        build_client(Duration::from_secs(5), Duration::from_secs(20)),
        ProviderKind::Sesterce,
        4,
        RetryPolicy::none(),
        provider::sesterce::parse_error,
    )
    .with_limits(limits)
}

fn get(base: &str, path: &str) -> Request {
    Request::new(reqwest::Method::GET, format!("{base}{path}"))
}

const CAP: usize = 4096;

/// #6: the body cap's edge. A body of exactly the cap is read whole; one byte more is "larger than the
/// limit" (not a parse error later), with or without `Content-Length`; an error body far over the 64 KiB an
/// error is read to still gives the provider's status and message.
#[tokio::test]
async fn a_body_one_byte_over_the_cap_is_refused_and_a_long_error_body_is_cut() {
    // JSON of exactly `n` bytes: a string padded to fit.
    let json_of = |n: usize| format!("\"{}\"", "x".repeat(n - 2)).into_bytes();
    let base = serve(move |path| match path {
        "/exact" => Answer { status: 200, body: json_of(CAP), announce: false },
        "/over" => Answer { status: 200, body: json_of(CAP + 1), announce: false },
        "/exact-announced" => Answer { status: 200, body: json_of(CAP), announce: true },
        "/over-announced" => Answer { status: 200, body: json_of(CAP + 1), announce: true },
        _ => Answer {
            status: 500,
            body: format!(
                "{{\"statusCode\":500,\"message\":\"upstream broke\",\"pad\":\"{}\"}}",
                "p".repeat(200 << 10)
            )
            .into_bytes(),
            announce: false,
        },
    })
    .await;
    let h = http(Limits { max_response_bytes: CAP, ..Limits::default() });
    for path in ["/exact", "/exact-announced"] {
        let r = h.send(&get(&base, path)).await.unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(r.body.len(), CAP, "{path}");
        let s: String = r.json(ProviderKind::Sesterce).unwrap();
        assert_eq!(s.len(), CAP - 2, "{path}");
    }
    let e = h.send(&get(&base, "/over")).await.expect_err("one byte over the cap");
    assert!(e.message.contains("GET /over is larger than the 4096 bytes limit; stopped reading"), "{e}");
    let e = h.send(&get(&base, "/over-announced")).await.expect_err("one byte over the cap, announced");
    assert!(e.message.contains("GET /over-announced is 4097 bytes, over the 4096 bytes limit"), "{e}");
    // An error body over 64 KiB without Content-Length, whatever the cap.
    for cap in [CAP, Limits::default().max_response_bytes] {
        let h = http(Limits { max_response_bytes: cap, ..Limits::default() });
        let e = h.send(&get(&base, "/fails")).await.expect_err("a 500");
        assert_eq!(e.status, Some(500), "{e}");
        assert!(!e.message.contains("limit"), "an error body is cut, not refused: {e}");
    }
}

/// The item cap's edge: a list of exactly `max_list_items` is kept whole; one more is refused with the
/// advice to raise the cap.
#[tokio::test]
async fn a_list_of_exactly_the_item_cap_is_kept_and_one_more_is_refused() {
    let list = |n: usize| Value::Array((0..n).map(|i| serde_json::json!({"id": i})).collect());
    let base = serve(move |path| {
        let n: usize = path.trim_start_matches("/list/").parse().unwrap_or(0);
        Answer { status: 200, body: list(n).to_string().into_bytes(), announce: true }
    })
    .await;
    let h = http(Limits { max_list_items: 5, ..Limits::default() });
    let items: Vec<Value> = h.json_list(&get(&base, "/list/5")).await.unwrap();
    assert_eq!(items.len(), 5);
    let e = h.json_list::<Value>(&get(&base, "/list/6")).await.expect_err("six items, cap five");
    assert!(e.message.contains("the list at /list/6 holds more than 5 items"), "{e}");
    assert!(e.message.contains("max_list_items"), "{e}");
    // The paged lists count their pages together with the same rule.
    assert!(h.check_items("http://x/pages", 5).is_ok());
    let e = h.check_items("http://x/pages", 6).expect_err("six over pages");
    assert!(e.message.contains("the list at /pages holds more than 5 items"), "{e}");
}
