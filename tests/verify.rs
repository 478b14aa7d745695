//! Verify after every write, field by field, through the dashboard as the terminal loop drives it: keys into
//! `update`, effects to the real `Sync`, the simulator over loopback. A field the provider did not take is
//! named on screen and in the audit line (`"result": "partial"`), and "applied" / "rolled out" is said only
//! when every meant field is there. A proxy in front of the simulator plays a provider that drops a field.

mod common;

use common::app::{Driver, driver, driver_with_timeout, frozen_sim};
use common::proxy::{Proxy, WriteAnswer};
use common::wire::accounts_with_v2;
use crossterm::event::KeyCode;
use infertop::app::form::Stage;
use infertop::app::state::Mode;
use infertop::sim::SimHandle;
use infertop::sim::ambiguity::{self, Ambiguities};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

async fn sim() -> SimHandle {
    frozen_sim(Ambiguities::default()).await
}

/// Enter, check the review holds `line`, `y`, and wait for the outcome.
async fn review_and_apply(d: &mut Driver, line: &str) {
    d.key(KeyCode::Enter);
    match d.stage() {
        Stage::Confirm(diff) => assert!(diff.iter().any(|l| l.contains(line)), "review: {diff:?}"),
        other => panic!("expected the review, got {other:?} ({:?})", d.form().general_errors),
    }
    d.key(KeyCode::Char('y'));
    assert_eq!(d.stage(), Stage::Applying);
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
}

/// The case: on a Gcore v3 row, `s`, clear the cooldown, Enter, `y`. It ends as applied (the
/// provider holds no cooldown) or as "Gcore kept cooldown 60 in Luxembourg-2", never as a false success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleared_cooldown_ends_applied_or_named_never_a_false_success() {
    let sim = sim().await;
    let mut d = driver("verify-cooldown", &infertop::provider::demo_accounts(&sim.base_url())).await;
    d.select(0, "llama-3-70b-chat").await;
    d.key(KeyCode::Char('s'));
    d.set(0, "cooldown s", "");
    review_and_apply(&mut d, "Luxembourg-2 cooldown: 60 → unset").await;
    assert!(matches!(d.state.mode, Mode::Normal), "{:?}", d.state.mode);
    let now = d.providers[0].get("llama-3-70b-chat").await.unwrap();
    let held = now.regions.iter().find(|r| r.region_id == "7").unwrap().scale.cooldown_seconds;
    let audit = d.audit_edit("llama-3-70b-chat");
    // Let the rollout watch and a few refreshes run: what is said must stay true.
    d.pump(1500).await;
    let said = d.said();
    println!("outcome: {said}");
    match held {
        None => {
            assert_eq!(audit["result"], "applied", "{audit}");
            assert!(said.contains("llama-3-70b-chat: applied") || said.contains("rolled out"), "{said}");
        }
        Some(kept) => {
            assert_eq!(audit["result"], "partial", "{audit}");
            let nt = audit["not_taken"].as_array().unwrap();
            assert_eq!(nt.len(), 1, "{audit}");
            assert_eq!(
                (&nt[0]["region"], &nt[0]["field"], &nt[0]["asked"], &nt[0]["kept"]),
                (
                    &Value::from("7"),
                    &Value::from("cooldown"),
                    &Value::from("unset"),
                    &Value::from(kept.to_string())
                )
            );
            assert!(
                said.contains(&format!("Gcore kept cooldown {kept} in Luxembourg-2 (asked: unset)")),
                "{said}"
            );
            assert!(!said.contains("applied") && !said.contains("rolled out"), "a false success: {said}");
            // The audit's `after` is what the provider holds, not what was asked.
            assert_eq!(audit["after"]["regions"][0]["scale"]["cooldown_seconds"], kept);
        }
    }
}

/// Sets `containers[*].scale.max` (Gcore) back to `keep` for region `region`: a provider that does not take
/// a new max.
fn gcore_keeps_max(region: i64, keep: u32) -> common::proxy::Rewrite {
    Arc::new(move |_m, path, body| {
        if !path.contains("/inference/") {
            return;
        }
        for c in body["containers"].as_array_mut().into_iter().flatten() {
            if c["region_id"] == region {
                c["scale"]["max"] = keep.into();
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_the_provider_did_not_take_is_named_and_the_rest_is_not_judged() {
    let sim = sim().await;
    let proxy = Proxy::start(sim.base_url(), gcore_keeps_max(7, 4)).await;
    let mut d = driver("verify-partial", &infertop::provider::demo_accounts(&proxy.base)).await;
    d.select(0, "llama-3-70b-chat").await;
    d.key(KeyCode::Char('s'));
    d.set(0, "max", "6");
    d.set(0, "cpu %", "70");
    review_and_apply(&mut d, "Luxembourg-2 max: 4 → 6").await;
    assert_eq!(
        proxy.rewritten.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "the write went through the proxy"
    );
    let now = d.providers[0].get("llama-3-70b-chat").await.unwrap();
    let lux = &now.regions.iter().find(|r| r.region_id == "7").unwrap().scale;
    assert_eq!((lux.max, lux.triggers.cpu), (4, Some(70)), "the provider took the cpu trigger only");
    let audit = d.audit_edit("llama-3-70b-chat");
    assert_eq!(audit["result"], "partial", "{audit}");
    let nt: Vec<(&str, &str, &str)> = audit["not_taken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["field"].as_str().unwrap(), n["asked"].as_str().unwrap(), n["kept"].as_str().unwrap()))
        .collect();
    assert_eq!(nt, [("max", "6", "4")], "only the field not taken is named: {audit}");
    d.pump(1500).await;
    let said = d.said();
    assert!(said.contains("Gcore kept max 4 in Luxembourg-2 (asked: 6)"), "{said}");
    assert!(!said.contains("cpu"), "the cpu trigger was taken: {said}");
    assert!(!said.contains("applied") && !said.contains("rolled out"), "a false success: {said}");
    assert!(d.state.pending.is_empty(), "no rollout is watched for a change that did not fully take");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_field_the_provider_did_not_take_is_named_on_runai() {
    let sim = sim().await;
    // Run:ai replaces the probes section whole: drop the period on the way and it is gone.
    let proxy = Proxy::start(
        sim.base_url(),
        Arc::new(|_m, path, body| {
            if path.starts_with("/api/v1/workloads/inferences/")
                && let Some(r) = body.pointer_mut("/spec/probes/readiness")
                && let Some(o) = r.as_object_mut()
            {
                o.remove("periodSeconds");
            }
        }),
    )
    .await;
    let mut d = driver("verify-runai-probe", &infertop::provider::demo_accounts(&proxy.base)).await;
    d.select(2, "nim-llama-3-8b").await;
    d.key(KeyCode::Char('p'));
    if d.form().sections[0].fields[0].input.value() != "on" {
        d.key(KeyCode::Char(' '));
        d.set(0, "http port", "8080");
    }
    d.set(0, "period s", "17");
    review_and_apply(&mut d, "readiness probe").await;
    assert!(proxy.rewritten.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let audit = d.audit_edit("nim-llama-3-8b");
    assert_eq!(audit["result"], "partial", "{audit}");
    assert_eq!(audit["not_taken"][0]["probe"], "readiness", "{audit}");
    assert_eq!(audit["not_taken"][0]["field"], "period", "{audit}");
    let said = d.said();
    assert!(said.contains("Run:ai kept readiness probe period"), "{said}");
    assert!(said.contains("(asked: 17)"), "{said}");
    assert!(!said.contains("applied"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_taken_is_applied_then_rolled_out() {
    let sim = sim().await;
    let mut d = driver("verify-applied", &accounts_with_v2(&sim.base_url())).await;
    d.select(3, "mistral-7b-support").await;
    d.key(KeyCode::Char('s'));
    d.set(1, "max", "4");
    review_and_apply(&mut d, "Amsterdam max: 3 → 4").await;
    let audit = d.audit_edit("mistral-7b-support");
    assert_eq!(audit["result"], "applied", "{audit}");
    assert!(audit.get("not_taken").is_none(), "{audit}");
    assert_eq!(audit["asked"], audit["after"], "the provider holds what was asked: {audit}");
    let said = d.said();
    assert!(
        said == "mistral-7b-support: applied; watching the rollout"
            || said == "mistral-7b-support: the change has rolled out",
        "{said}"
    );
    sim.advance(120.0);
    d.wait("rolled out", |s| s.flash.as_deref() == Some("mistral-7b-support: the change has rolled out"))
        .await;
    assert!(d.state.toasts.is_empty(), "nothing to warn about: {}", d.said());
}

/// The connection breaks on every write: whether the edit landed is decided by reading the deployment again,
/// and by the fields the user meant. The edit is a Sesterce one, on the reading where Sesterce takes a PATCH
/// without the model: under the other the lost answer is a refusal, and asking for the model is
/// `tests/model_pick.rs`'s subject.
async fn write_with_broken_answers(answer: WriteAnswer, tag: &str) -> (Driver, SimHandle, Proxy) {
    let sim = frozen_sim(Ambiguities::default().with(ambiguity::SESTERCE_NO_MODEL, "keeps")).await;
    let proxy = Proxy::start_with(sim.base_url(), Arc::new(|_, _, _| {}), answer).await;
    let mut d = driver(tag, &infertop::provider::demo_accounts(&proxy.base)).await;
    d.select(1, "deepseek-r1-distill").await;
    d.key(KeyCode::Char('s'));
    d.set(0, "max", "5");
    d.key(KeyCode::Enter);
    d.key(KeyCode::Char('y'));
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
    (d, sim, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_answer_was_lost_is_confirmed_by_a_re_read() {
    let (d, _sim, _proxy) = write_with_broken_answers(WriteAnswer::BreakAfter, "verify-reread-landed").await;
    assert!(matches!(d.state.mode, Mode::Normal), "{:?}", d.state.mode);
    let line = d.audit_edit("deepseek-r1-distill");
    assert_eq!(line["result"], "applied", "{line}");
    assert!(line["note"].as_str().unwrap().starts_with("confirmed by a re-read after:"), "{line}");
    let said = d.said();
    assert!(said.contains("deepseek-r1-distill: applied") || said.contains("rolled out"), "{said}");
    assert!(d.state.toasts.is_empty(), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_never_arrived_is_not_claimed() {
    let (d, _sim, _proxy) = write_with_broken_answers(WriteAnswer::Lose, "verify-reread-lost").await;
    match d.stage() {
        Stage::Failed(msg) => {
            assert!(msg.contains("a re-read shows the change is not there: nothing was applied"), "{msg}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let line = d.audit_edit("deepseek-r1-distill");
    assert_eq!(line["result"], "failed", "{line}");
    assert!(line["message"].as_str().unwrap().contains("nothing was applied"), "{line}");
    let now = d.providers[1].list().await.unwrap();
    let dep = now.iter().find(|x| x.name == "deepseek-r1-distill").unwrap();
    assert_ne!(dep.regions[0].scale.max, 5);
}

/// A write held past the client's timeout reaches the provider after the client gave up on it (and on its
/// retries): the re-read that follows cannot show it yet, so the outcome is unknown, never "nothing was
/// applied"; and the edit does land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_client_stopped_waiting_for_is_never_called_unapplied() {
    let sim = frozen_sim(Ambiguities::default().with(ambiguity::SESTERCE_NO_MODEL, "keeps")).await;
    let late = WriteAnswer::Late(Duration::from_secs(6));
    let proxy = Proxy::start_with(sim.base_url(), Arc::new(|_, _, _| {}), late).await;
    let accounts = infertop::provider::demo_accounts(&proxy.base);
    let mut d = driver_with_timeout("verify-late", &accounts, Duration::from_secs(1)).await;
    d.select(1, "deepseek-r1-distill").await;
    let id = d.state.selected_row().unwrap().dep.key.id.clone();
    d.key(KeyCode::Char('s'));
    d.set(0, "max", "5");
    review_and_apply(&mut d, "Singapore max: 3 → 5").await;
    let line = d.audit_edit("deepseek-r1-distill");
    match &d.state.mode {
        Mode::Form(f) => {
            let Stage::Failed(msg) = &f.stage else { panic!("expected the outcome, got {:?}", f.stage) };
            assert!(msg.contains("the outcome is unknown"), "{msg}");
            assert!(!msg.contains("nothing was applied"), "{msg}");
            assert_eq!(line["result"], "failed", "{line}");
            assert!(line["message"].as_str().unwrap().contains("the outcome is unknown"), "{line}");
        }
        // The re-read came late enough to see the first try land.
        _ => assert!(line["note"].as_str().unwrap_or("").starts_with("confirmed by a re-read"), "{line}"),
    }
    let mut held = 0;
    for _ in 0..40 {
        if let Ok(dep) = d.providers[1].get(&id).await {
            held = dep.regions[0].scale.max;
            if held == 5 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(held, 5, "the late write landed");
}

/// A retried write whose first try landed (its answer lost) and whose later tries were answered 503: the last
/// answer is a server error, but the change is there. It is confirmed by a re-read, not reported as failed
/// (the soak's "the edit landed but no attempt reported it").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_write_ending_on_a_server_error_is_confirmed_by_a_re_read() {
    let (d, _sim, _proxy) =
        write_with_broken_answers(WriteAnswer::LandThenFail, "verify-land-then-503").await;
    assert!(matches!(d.state.mode, Mode::Normal), "{:?}", d.state.mode);
    let line = d.audit_edit("deepseek-r1-distill");
    assert_eq!(line["result"], "applied", "{line}");
    assert!(
        line["note"].as_str().unwrap().starts_with("confirmed by a re-read after: sesterce 503"),
        "{line}"
    );
    let now = d.providers[1].list().await.unwrap();
    assert_eq!(now.iter().find(|x| x.name == "deepseek-r1-distill").unwrap().regions[0].scale.max, 5);
}
