//! Marks and bulk scale through the dashboard as the terminal loop drives it: keys into `update`, effects to
//! the real `Sync`, the simulator over loopback, on all four provider paths (Gcore v3, Gcore v2, Sesterce,
//! Run:ai). Each marked deployment's change goes through the single edit's path: conflict check, write,
//! verify-after-write, audit. Waits are bounded; nothing asserts on time.

mod common;

use chrono::{TimeZone, Utc};
use common::app::{Driver, driver};
use common::wire::{accounts_with_v2, assert_only_max_changed, raw_deployment};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::bulk::{BulkStage, Outcome};
use infertop::app::state::Mode;
use infertop::app::{Msg, State};
use infertop::model::{Deployment, ScaleUpdate};
use infertop::sim::ambiguity::{Ambiguities, SESTERCE_NO_MODEL};
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::Value;

/// One marked deployment per provider path: (account, name).
const MARKED: [(usize, &str); 4] = [
    (0, "llama-3-70b-chat"),    // Gcore v3
    (3, "mistral-7b-support"),  // Gcore v2 (the same simulated Gcore, another deployment)
    (1, "deepseek-r1-distill"), // Sesterce
    (2, "nim-llama-3-8b"),      // Run:ai
];

async fn sim(ambiguities: Ambiguities) -> SimHandle {
    sim::start(
        SimConfig {
            seed: 1,
            time_scale: 0.0,
            epoch: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
            ambiguities,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn get(d: &Driver, account: usize, name: &str) -> Deployment {
    let list = d.providers[account].list().await.unwrap();
    let id = list.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("{name}")).key.id.clone();
    d.providers[account].get(&id).await.unwrap()
}

/// Selects each of [`MARKED`] and marks it with Space; Esc then clears the filter, not the marks.
async fn mark_all_four(d: &mut Driver) {
    for (i, (account, name)) in MARKED.into_iter().enumerate() {
        d.select(account, name).await;
        d.key(KeyCode::Char(' '));
        d.key(KeyCode::Esc);
        assert!(d.state.filter.text.is_empty(), "Esc clears the filter first");
        assert_eq!(d.state.marks.len(), i + 1, "and keeps the marks");
    }
}

/// Enter in the bulk form: the marked deployments are read again, then the review.
async fn review(d: &mut Driver) {
    d.key(KeyCode::Enter);
    d.wait("the review", |s: &State| s.bulk.as_ref().is_some_and(|b| b.stage == BulkStage::Review)).await;
}

/// `s`, then `max +1`, Enter: the review.
async fn bulk_max_plus_one(d: &mut Driver) {
    d.key(KeyCode::Char('s'));
    assert!(matches!(d.state.mode, Mode::Bulk), "{:?}", d.state.mode);
    d.key(KeyCode::Tab);
    d.type_str("+1");
    review(d).await;
    let b = d.state.bulk.as_ref().unwrap();
    assert_eq!(b.stage, BulkStage::Review);
    assert!(b.left_out.is_empty(), "{:?}", b.left_out);
    assert_eq!(b.items.len(), 4);
}

async fn apply_and_wait(d: &mut Driver) {
    d.key(KeyCode::Char('y'));
    d.wait("every outcome", |s: &State| s.bulk.as_ref().is_some_and(|b| b.stage == BulkStage::Done)).await;
}

fn outcome(d: &Driver, name: &str) -> Outcome {
    let b = d.state.bulk.as_ref().unwrap();
    b.items.iter().find(|i| i.name == name).unwrap().outcome.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_max_plus_one_lands_on_all_four_provider_paths_and_keeps_the_rest() {
    // The reading where Sesterce takes a PATCH without the model (the refusing one is the next test's).
    let sim = sim(Ambiguities::default().with(SESTERCE_NO_MODEL, "keeps")).await;
    let accounts = accounts_with_v2(&sim.base_url());
    let mut d = driver("bulk-all", &accounts).await;
    let http = reqwest::Client::new();
    let mut before: Vec<(Deployment, Value)> = Vec::new();
    for (account, name) in MARKED {
        let dep = get(&d, account, name).await;
        let raw = raw_deployment(&http, &sim.base_url(), &accounts[account], &dep.key.id).await;
        before.push((dep, raw));
    }
    mark_all_four(&mut d).await;
    bulk_max_plus_one(&mut d).await;
    apply_and_wait(&mut d).await;
    for ((account, name), (old, raw_before)) in MARKED.into_iter().zip(before) {
        assert!(matches!(outcome(&d, name), Outcome::Applied(_)), "{name}: {:?}", outcome(&d, name));
        // The read-back equals the edit: every region's max one up, everything else of the scale as it was.
        let now = get(&d, account, name).await;
        let mut want = ScaleUpdate::from_deployment(&old);
        for r in &mut want.regions {
            r.scale.max += 1;
        }
        assert_eq!(ScaleUpdate::from_deployment(&now), want, "{name}");
        // On the wire: only the max fields (and what the simulator moves itself) changed.
        let raw_after = raw_deployment(&http, &sim.base_url(), &accounts[account], &old.key.id).await;
        assert_only_max_changed(name, &raw_before, &raw_after);
        let line = d.audit_edit(name);
        assert_eq!(line["result"], "applied", "{line}");
    }
    assert_eq!(d.audit_lines().len(), 4, "one audit line per deployment");
    // The end state says it, and closing it keeps the marks.
    assert!(
        d.state.bulk.as_ref().unwrap().tally().starts_with("4 applied · 0 conflict · 0 refused · 0 unknown")
    );
    d.key(KeyCode::Esc);
    assert!(matches!(d.state.mode, Mode::Normal));
    assert_eq!(d.state.marks.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_and_a_refusal_are_listed_and_the_rest_applied() {
    // The default reading: Sesterce refuses a PATCH without the instance's model (its own 400).
    let sim = sim(Ambiguities::default()).await;
    let accounts = accounts_with_v2(&sim.base_url());
    let mut d = driver("bulk-mixed", &accounts).await;
    mark_all_four(&mut d).await;
    bulk_max_plus_one(&mut d).await;
    // Another writer changes the Gcore v3 deployment after the review was shown.
    let other = get(&d, 0, "llama-3-70b-chat").await;
    let mut theirs = ScaleUpdate::from_deployment(&other);
    theirs.regions[0].scale.min += 1;
    d.providers[0].update_scale(&other.key.id, &theirs).await.unwrap();
    apply_and_wait(&mut d).await;

    match outcome(&d, "llama-3-70b-chat") {
        Outcome::Conflict(why) => assert!(why.contains("Luxembourg-2 min: 1 → 2"), "{why}"),
        o => panic!("llama-3-70b-chat: {o:?}"),
    }
    let now = get(&d, 0, "llama-3-70b-chat").await;
    assert_eq!(ScaleUpdate::from_deployment(&now), theirs, "the other writer's change stands, nothing sent");
    match outcome(&d, "deepseek-r1-distill") {
        Outcome::Refused(why) => assert!(why.contains("model or registry"), "{why}"),
        o => panic!("deepseek-r1-distill: {o:?}"),
    }
    for (account, name) in [(3, "mistral-7b-support"), (2, "nim-llama-3-8b")] {
        assert!(matches!(outcome(&d, name), Outcome::Applied(_)), "{name}: {:?}", outcome(&d, name));
        let now = get(&d, account, name).await;
        let old = d.state.bulk.as_ref().unwrap().items.iter().find(|i| i.name == name).unwrap().clone();
        let infertop::app::bulk::Planned::Scale { update, .. } = old.planned else { panic!() };
        assert_eq!(ScaleUpdate::from_deployment(&now), update, "{name}: read back as sent");
    }
    assert!(
        d.state.bulk.as_ref().unwrap().tally().starts_with("2 applied · 1 conflict · 1 refused · 0 unknown")
    );
    // Every line is in the audit file: one per deployment, whatever its outcome.
    assert_eq!(d.audit_edit("llama-3-70b-chat")["result"], "conflict: not sent");
    assert_eq!(d.audit_edit("deepseek-r1-distill")["result"], "refused");
    assert_eq!(d.audit_edit("mistral-7b-support")["result"], "applied");
    assert_eq!(d.audit_edit("nim-llama-3-8b")["result"], "applied");
    assert_eq!(d.audit_lines().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_deployment_cannot_take_is_left_out_with_the_reason_and_nothing_is_sent_for_it() {
    let sim = sim(Ambiguities::default().with(SESTERCE_NO_MODEL, "keeps")).await;
    let accounts = infertop::provider::demo_accounts(&sim.base_url());
    let mut d = driver("bulk-left-out", &accounts).await;
    // Ctrl-Space marks what the filter shows: two Gcore deployments, one at min 0 already.
    d.key(KeyCode::Char('/'));
    d.type_str("qwen2-vl-batch|bge-m3-embed");
    d.key(KeyCode::Enter);
    assert_eq!(d.state.view.len(), 2);
    d.send(Msg::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL)));
    assert_eq!(d.state.marks.len(), 2);
    // min −1: bge-m3-embed goes 2 → 1; qwen2-vl-batch is at 0 and cannot go below.
    d.key(KeyCode::Char('s'));
    d.type_str("-1");
    review(&mut d).await;
    let b = d.state.bulk.as_ref().unwrap();
    assert_eq!(b.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["bge-m3-embed"]);
    assert_eq!(b.left_out.len(), 1, "{:?}", b.left_out);
    assert_eq!(b.left_out[0].name, "qwen2-vl-batch");
    assert!(b.left_out[0].why.contains("below 0"), "{}", b.left_out[0].why);
    apply_and_wait(&mut d).await;
    assert!(matches!(outcome(&d, "bge-m3-embed"), Outcome::Applied(_)));
    assert_eq!(get(&d, 0, "bge-m3-embed").await.regions[0].scale.min, 1);
    assert_eq!(get(&d, 0, "qwen2-vl-batch").await.regions[0].scale.min, 0);
    assert_eq!(d.audit_lines().len(), 1, "nothing was sent for the one left out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_with_marks_stops_and_starts_each_after_one_confirm() {
    let sim = sim(Ambiguities::default()).await;
    let accounts = infertop::provider::demo_accounts(&sim.base_url());
    let mut d = driver("bulk-t", &accounts).await;
    // A running Gcore deployment and a stopped Sesterce one: `t` means stop for one, start for the other.
    for (account, name) in [(0, "llama-guard-3"), (1, "flux-schnell")] {
        d.select(account, name).await;
        d.key(KeyCode::Char(' '));
        d.key(KeyCode::Esc);
    }
    d.key(KeyCode::Char('t'));
    d.wait("the confirm", |s: &State| s.bulk.as_ref().is_some_and(|b| b.stage == BulkStage::Review)).await;
    let b = d.state.bulk.as_ref().unwrap();
    let what: Vec<String> = b
        .items
        .iter()
        .map(|i| match &i.planned {
            infertop::app::bulk::Planned::Lifecycle { what, .. } => what.clone(),
            p => panic!("{p:?}"),
        })
        .collect();
    assert!(what[0].starts_with("Stop llama-guard-3? Gcore stops it"), "{what:?}");
    assert!(what[1].starts_with("Start flux-schnell? Sesterce starts"), "{what:?}");
    apply_and_wait(&mut d).await;
    for name in ["llama-guard-3", "flux-schnell"] {
        assert!(matches!(outcome(&d, name), Outcome::Applied(_)), "{name}: {:?}", outcome(&d, name));
    }
    let lines = d.audit_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().any(|l| l["deployment"]["name"] == "llama-guard-3" && l["change"] == "stop"));
    assert!(lines.iter().any(|l| l["deployment"]["name"] == "flux-schnell" && l["change"] == "start"));
}
