//! Edits through the same code the forms use (`Form` → `Change` → `Sync::apply` → the provider client),
//! against the simulator over loopback, for each provider path: Gcore v3, Gcore v2, Sesterce, Run:ai. Each
//! test checks the change is there and that every wire field the edit did not touch is identical.

mod common;

use common::app::{driver, frozen_config, start_sim};
use common::wire::{accounts_with_v2, changed_paths, derived, raw_deployment};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::form::{Change, Form, Stage};
use infertop::app::state::Mode;
use infertop::app::{ApplyFailure, ApplyRequest, Msg};
use infertop::model::{Deployment, ScaleUpdate};
use infertop::provider::{self, AccountSpec, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle};
use infertop::sync::Sync;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Env {
    sim: SimHandle,
    accounts: Vec<AccountSpec>,
    providers: Vec<Arc<dyn Provider>>,
    http: reqwest::Client,
}

async fn env(fleet: Option<usize>, seed: u64) -> Env {
    let sim = start_sim(SimConfig {
        seed,
        fleet,
        // These edits are about keeping what the form did not touch; the refusing reading, and the model
        // prompt it leads to, are covered in tests/ambiguities.rs and tests/model_pick.rs.
        ambiguities: sim::ambiguity::Ambiguities::default().with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps"),
        ..frozen_config()
    })
    .await;
    let accounts = accounts_with_v2(&sim.base_url());
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    let providers = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    Env { sim, accounts, providers, http: reqwest::Client::new() }
}

impl Env {
    /// The raw wire JSON of a deployment, straight from the simulator.
    async fn raw(&self, account: usize, d: &Deployment) -> Value {
        raw_deployment(&self.http, &self.sim.base_url(), &self.accounts[account], &d.key.id).await
    }

    /// Applies a form's change exactly as the dashboard does and returns the outcome.
    async fn apply(&self, account: usize, form: &mut Form) -> Result<Deployment, ApplyFailure> {
        let change = form.validate().unwrap_or_else(|| panic!("form invalid: {:?}", form.general_errors));
        let (tx, mut rx) = mpsc::channel(64);
        let sync = Sync::spawn(Vec::clone(&self.providers), tx, Duration::from_secs(3600), None);
        sync.apply(Box::new(ApplyRequest {
            account,
            key: form.key.clone(),
            name: form.base.name.clone(),
            change,
            expected: Box::new(form.base.clone()),
            source: None,
        }));
        loop {
            match rx.recv().await.expect("an answer") {
                Msg::Applied { result, .. } => return result.map(|a| a.deployment().clone()),
                _ => continue,
            }
        }
    }
}

fn set(form: &mut Form, section: usize, label: &str, value: &str) {
    let fi = form.sections[section]
        .fields
        .iter()
        .position(|f| f.label == label)
        .unwrap_or_else(|| panic!("no field {label}"));
    form.focus = (section, fi);
    for _ in 0..24 {
        form.handle_edit_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    }
    for c in value.chars() {
        form.handle_edit_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

async fn find(env: &Env, account: usize, name: &str) -> Deployment {
    let list = env.providers[account].list().await.unwrap();
    let d = list.into_iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} in the fleet"));
    env.providers[account].get(&d.key.id).await.unwrap()
}

/// Edits max of the first region and checks only that (and derived fields) changed on the wire.
async fn scale_edit_keeps_the_rest(account: usize, name: &str, allowed: &[&str]) {
    let env = env(None, 1).await;
    let d = find(&env, account, name).await;
    let before = env.raw(account, &d).await;
    let mut form = Form::scale(&d, account, env.providers[account].capabilities().per_region_scale, vec![]);
    let new_max = d.regions[0].scale.max + 1;
    set(&mut form, 0, "max", &new_max.to_string());
    let after_dep = env.apply(account, &mut form).await.unwrap_or_else(|e| panic!("apply failed: {e:?}"));
    assert_eq!(after_dep.regions[0].scale.max, new_max, "read-back shows the change");
    let after = env.raw(account, &d).await;
    let mut changed = Vec::new();
    changed_paths(&before, &after, "", &mut changed);
    let unexpected: Vec<&String> =
        changed.iter().filter(|p| !derived(p) && !allowed.iter().any(|a| p.ends_with(a))).collect();
    assert!(
        unexpected.is_empty(),
        "fields the edit did not touch changed: {unexpected:?}\nall changes: {changed:?}"
    );
    assert!(
        changed.iter().any(|p| allowed.iter().any(|a| p.ends_with(a))),
        "the change is not on the wire: {changed:?}"
    );
}

#[tokio::test]
async fn gcore_v3_scale_edit() {
    scale_edit_keeps_the_rest(0, "llama-3-70b-chat", &["containers/0/scale/max"]).await;
}

#[tokio::test]
async fn gcore_v2_scale_edit_sends_everything_back() {
    scale_edit_keeps_the_rest(3, "llama-3-70b-chat", &["containers/0/scale/max"]).await;
}

#[tokio::test]
async fn sesterce_scale_edit() {
    scale_edit_keeps_the_rest(1, "deepseek-r1-distill", &["containers/0/scale/max"]).await;
}

#[tokio::test]
async fn runai_scale_edit() {
    scale_edit_keeps_the_rest(2, "nim-llama-3-8b", &["spec/autoscaling/maxReplicas"]).await;
}

async fn probe_edit_keeps_the_rest(account: usize, name: &str, section: usize, allowed: &[&str]) {
    let env = env(None, 1).await;
    let d = find(&env, account, name).await;
    let before = env.raw(account, &d).await;
    let mut form = Form::probes(&d, account);
    // Make sure the probe is on with an HTTP handler, then change its period.
    let enabled =
        form.sections[section].fields.iter().find(|f| f.label == "enabled").unwrap().input.value() == "on";
    if !enabled {
        let fi = form.sections[section].fields.iter().position(|f| f.label == "enabled").unwrap();
        form.focus = (section, fi);
        form.handle_edit_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE));
        set(&mut form, section, "http port", "8080");
        set(&mut form, section, "http path", "/healthz");
    }
    set(&mut form, section, "period s", "17");
    let after_dep = env.apply(account, &mut form).await.unwrap_or_else(|e| panic!("apply failed: {e:?}"));
    let slot = form.sections[section].slot.unwrap();
    let p = after_dep.probes.as_ref().and_then(|p| p.get(slot)).expect("probe read back");
    assert!(p.enabled);
    assert_eq!(p.probe.period_seconds, Some(17));
    let after = env.raw(account, &d).await;
    let mut changed = Vec::new();
    changed_paths(&before, &after, "", &mut changed);
    let unexpected: Vec<&String> =
        changed.iter().filter(|p| !derived(p) && !allowed.iter().any(|a| p.contains(a))).collect();
    assert!(
        unexpected.is_empty(),
        "fields the edit did not touch changed: {unexpected:?}\nall changes: {changed:?}"
    );
}

#[tokio::test]
async fn gcore_v3_probe_edit() {
    probe_edit_keeps_the_rest(0, "llama-3-70b-chat", 1, &["probes/readiness_probe"]).await;
}

#[tokio::test]
async fn gcore_v2_probe_edit() {
    probe_edit_keeps_the_rest(3, "llama-3-70b-chat", 1, &["probes/readiness_probe", "/probes"]).await;
}

#[tokio::test]
async fn runai_probe_edit() {
    probe_edit_keeps_the_rest(2, "nim-llama-3-8b", 0, &["spec/probes"]).await;
}

#[tokio::test]
async fn a_change_made_elsewhere_meanwhile_is_a_conflict_and_nothing_is_sent() {
    let env = env(None, 1).await;
    let d = find(&env, 0, "mistral-7b-support").await;
    let mut form = Form::scale(&d, 0, true, vec![]);
    set(&mut form, 0, "max", "5");
    // Someone else changes region 38's max through the API after the form opened.
    let resp = env
        .http
        .patch(format!("{}/cloud/v3/inference/1/deployments/mistral-7b-support", env.sim.base_url()))
        .header("Authorization", "APIKey demo-gcore-key")
        .json(&serde_json::json!({"containers": [
            {"region_id": 7, "scale": {"min": 1, "max": 3}},
            {"region_id": 38, "scale": {"min": 1, "max": 2}},
            {"region_id": 91, "scale": {"min": 1, "max": 2}}
        ]}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let latest = match env.apply(0, &mut form).await {
        Err(ApplyFailure::Conflict(latest)) => latest,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert_eq!(latest.regions.iter().find(|r| r.region_id == "38").unwrap().scale.max, 2);
    // Nothing was sent: region 7 still has the other writer's max.
    let now = env.providers[0].get("mistral-7b-support").await.unwrap();
    assert_eq!(now.regions.iter().find(|r| r.region_id == "7").unwrap().scale.max, 3);
    // Rebased, the user's edit applies on top of the latest.
    form.rebase(*latest);
    let Some(Change::Scale(u)) = form.validate() else { panic!("valid after rebase") };
    assert_eq!(u.regions.iter().find(|r| r.region_id == "7").unwrap().scale.max, 5);
    assert_eq!(u.regions.iter().find(|r| r.region_id == "38").unwrap().scale.max, 2);
    let applied = env.apply(0, &mut form).await.unwrap();
    assert_eq!(applied.regions.iter().find(|r| r.region_id == "7").unwrap().scale.max, 5);
}

/// A change the form would not build (it keeps to the documented limits) but the provider's own validation
/// refuses: the user makes a valid edit through the dashboard, and the request is replaced on its way to
/// `Sync::apply` with one that breaks `tamper`'s rule. The provider's refusal must reach the audit line
/// (`"result": "refused"` with the provider's message) and come back to the form with that message, the
/// input kept, and nothing changed on the provider.
async fn a_refused_edit(
    account: usize,
    name: &str,
    tamper: impl Fn(&mut ScaleUpdate),
    providers_words: &str,
) {
    let env = env(None, 1).await;
    let mut d = driver(&format!("refused-{account}"), &env.accounts).await;
    d.select(account, name).await;
    let before = env.providers[account].get(&d.state.selected_row().unwrap().dep.key.id).await.unwrap();
    d.key(KeyCode::Char('s'));
    let max = (before.regions[0].scale.max + 1).to_string();
    d.set(0, "max", &max);
    d.hold_writes = true;
    d.key(KeyCode::Enter);
    d.key(KeyCode::Char('y'));
    let mut req = d.held.pop().expect("the write");
    let Change::Scale(u) = &mut req.change else { panic!("a scale change") };
    tamper(u);
    d.sync.apply(Box::new(req));
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
    match d.stage() {
        Stage::Failed(msg) => {
            assert!(msg.contains(providers_words), "the form shows the provider's message: {msg}")
        }
        other => panic!("expected the provider's refusal in the form, got {other:?}"),
    }
    let line = d.audit_edit(name);
    assert_eq!(line["result"], "refused", "{line}");
    assert!(line["message"].as_str().unwrap().contains(providers_words), "{line}");
    assert_eq!(line["change"], "scale");
    // Any key goes back to the form, the user's input kept.
    d.key(KeyCode::Char('x'));
    assert_eq!(d.stage(), Stage::Edit);
    assert_eq!(d.form().sections[0].fields.iter().find(|f| f.label == "max").unwrap().input.value(), max);
    let now = env.providers[account].get(&before.key.id).await.unwrap();
    assert_eq!(ScaleUpdate::from_deployment(&now), ScaleUpdate::from_deployment(&before), "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_gcore_v3_edit_is_audited_and_comes_back_with_the_providers_message() {
    let zero_cooldown = |u: &mut ScaleUpdate| u.regions[0].scale.cooldown_seconds = Some(0);
    a_refused_edit(0, "llama-3-70b-chat", zero_cooldown, "Input should be greater than or equal to 1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_gcore_v2_edit_is_audited_and_comes_back_with_the_providers_message() {
    let unknown_region = |u: &mut ScaleUpdate| {
        let mut r = u.regions[0].clone();
        r.region_id = "999".into();
        u.regions.push(r);
    };
    a_refused_edit(3, "llama-3-70b-chat", unknown_region, "region 999 is not available for inference").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sesterce_edit_is_audited_and_comes_back_with_the_providers_message() {
    let zero_cooldown = |u: &mut ScaleUpdate| u.regions[0].scale.cooldown_seconds = Some(0);
    a_refused_edit(1, "deepseek-r1-distill", zero_cooldown, "cooldownPeriod: must not be less than 1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_runai_edit_is_audited_and_comes_back_with_the_providers_message() {
    let long_retention =
        |u: &mut ScaleUpdate| u.regions[0].scale.scale_to_zero_retention_seconds = Some(4000);
    a_refused_edit(2, "nim-llama-3-8b", long_retention, "scaleToZeroRetentionSeconds: must be at most 3600")
        .await;
}

/// Another writer changes a probe after the form opened: the probes edit is a conflict, nothing is sent,
/// the audit says so, and the dashboard shows what the other writer changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_changed_elsewhere_meanwhile_is_a_conflict_and_nothing_is_sent() {
    let env = env(None, 1).await;
    let mut d = driver("probe-conflict", &env.accounts).await;
    d.select(0, "llama-3-70b-chat").await;
    d.key(KeyCode::Char('p'));
    let readiness = 1;
    if d.form().sections[readiness].fields[0].input.value() != "on" {
        d.set(readiness, "http port", "8080");
        d.form_toggle(readiness, "enabled");
    }
    d.set(readiness, "period s", "17");
    // Someone else changes the readiness probe's timeout through the API after the form opened.
    let resp = env
        .http
        .patch(format!("{}/cloud/v3/inference/1/deployments/llama-3-70b-chat", env.sim.base_url()))
        .header("Authorization", "APIKey demo-gcore-key")
        .json(&serde_json::json!({"probes": {"readiness_probe": {"enabled": true, "probe": {
            "http_get": {"port": 8080, "path": "/ready"}, "timeout_seconds": 9}}}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    env.sim.advance(10.0);
    let other = env.providers[0].get("llama-3-70b-chat").await.unwrap();
    let other_readiness =
        other.probes.as_ref().and_then(|p| p.readiness.clone()).expect("the other writer's probe");
    assert_eq!(other_readiness.probe.timeout_seconds, Some(9));
    d.key(KeyCode::Enter);
    d.key(KeyCode::Char('y'));
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
    assert!(
        matches!(d.state.mode, Mode::Form(_)),
        "the edit was sent over the other writer's change: {}",
        d.said()
    );
    match d.stage() {
        Stage::Conflict { changes, latest } => {
            assert!(changes.iter().any(|l| l.contains("readiness probe")), "{changes:?}");
            assert_eq!(latest.probes.as_ref().unwrap().readiness.as_ref(), Some(&other_readiness));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let line = d.audit_edit("llama-3-70b-chat");
    assert_eq!(
        (line["change"].as_str(), line["result"].as_str()),
        (Some("probes"), Some("conflict: not sent"))
    );
    // Nothing was sent: the provider still has the other writer's probe, without the period.
    let now = env.providers[0].get("llama-3-70b-chat").await.unwrap();
    assert_eq!(now.probes.as_ref().unwrap().readiness.as_ref(), Some(&other_readiness));
    assert_ne!(other_readiness.probe.period_seconds, Some(17));
}
