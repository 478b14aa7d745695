//! What a new user trips over on screen (issue 12): help that scrolls and filters, prompts built from the
//! freshest record, rollouts judged by the provider's own status, number fields that say why, the sort
//! column on screen. Drawn with `TestBackend` from the simulator over loopback through the real clients.

mod common;

use common::screen::{epoch, fixture, key, render, select, type_str};
use crossterm::event::KeyCode;
use infertop::app::state::{LifecycleOp, Mode};
use infertop::app::{AccountState, Effect, Landed, Msg, State, update};
use infertop::provider::{self, GcoreApi, Provider, http::build_client};
use infertop::sim::{self, SimConfig};
use std::sync::Arc;
use std::time::Duration;

async fn load_selected(
    state: &mut State,
    providers: &[Arc<dyn Provider>],
    at: chrono::DateTime<chrono::Utc>,
) {
    let row = state.selected_row().unwrap();
    let (key, account) = (row.dep.key.clone(), row.account);
    let result = providers[account].get(&key.id).await.map(Box::new);
    update(state, Msg::Detail { key, at, result });
}

#[tokio::test]
async fn help_at_80x24_and_200x50() {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut fx = fixture(w, h).await;
        key(&mut fx.state, KeyCode::Char('?'));
        let screen = render(&fx.state);
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen);
    }
}

#[tokio::test]
async fn help_at_80x24_reaches_its_last_entry_by_scrolling_and_closes_only_on_esc_question_or_q() {
    let mut fx = fixture(80, 24).await;
    key(&mut fx.state, KeyCode::Char('?'));
    let first = render(&fx.state);
    assert!(!first.contains(":q "), "the last entry is below the fold at 80×24:\n{first}");
    // Keys that are not Esc, ? or q keep help open.
    for c in [KeyCode::Char('x'), KeyCode::Enter, KeyCode::Tab] {
        key(&mut fx.state, c);
        assert!(matches!(fx.state.mode, Mode::Help(_)), "{c:?} closed help");
    }
    let mut seen = first.clone();
    for _ in 0..40 {
        key(&mut fx.state, KeyCode::Char('j'));
        seen = render(&fx.state);
        if seen.contains(":q ") {
            break;
        }
    }
    assert!(seen.contains(":q ") && seen.contains("Ctrl-d"), "j scrolls down to the end:\n{seen}");
    key(&mut fx.state, KeyCode::Char('g'));
    assert_eq!(render(&fx.state), first, "g goes back to the top");
    key(&mut fx.state, KeyCode::PageDown);
    key(&mut fx.state, KeyCode::PageDown);
    key(&mut fx.state, KeyCode::PageDown);
    assert!(render(&fx.state).contains(":q "), "PgDn reaches the end too");
    key(&mut fx.state, KeyCode::PageUp);
    key(&mut fx.state, KeyCode::PageUp);
    key(&mut fx.state, KeyCode::PageUp);
    assert_eq!(render(&fx.state), first, "PgUp back to the top");
    key(&mut fx.state, KeyCode::Char('G'));
    assert!(render(&fx.state).contains(":q "), "G goes to the end");

    // `/` narrows the list; typed letters go to the filter, not to the keys (q does not close).
    key(&mut fx.state, KeyCode::Char('/'));
    type_str(&mut fx.state, "quit");
    let filtered = render(&fx.state);
    assert!(matches!(fx.state.mode, Mode::Help(_)), "typing q into the filter keeps help open");
    assert!(filtered.contains("Ctrl-c") && filtered.contains(":q "), "{filtered}");
    assert!(!filtered.contains("move down"), "{filtered}");
    key(&mut fx.state, KeyCode::Enter);
    key(&mut fx.state, KeyCode::Char('q'));
    assert!(matches!(fx.state.mode, Mode::Normal), "q closes help");
    assert!(!fx.state.quit, "q in help closes help, it does not quit");
    for close in [KeyCode::Esc, KeyCode::Char('?')] {
        key(&mut fx.state, KeyCode::Char('?'));
        key(&mut fx.state, close);
        assert!(matches!(fx.state.mode, Mode::Normal), "{close:?} closes help");
    }
}

#[tokio::test]
async fn no_help_entry_is_cut_mid_word_at_any_width() {
    for w in [40u16, 60, 80, 100, 120, 160, 200] {
        let mut fx = fixture(w, 60).await;
        key(&mut fx.state, KeyCode::Char('?'));
        let s = render(&fx.state);
        // The longest descriptions end in these words: each is whole on some line.
        for word in ["SSH)", "(OSC", "confirm)", "price"] {
            assert!(
                s.lines().any(|l| l.split_whitespace().any(|x| x.trim_end_matches('│') == word)),
                "{word} cut at width {w}:\n{s}"
            );
        }
    }
}

#[tokio::test]
async fn sort_by_price_shows_the_price_column_at_common_widths() {
    for (w, h) in [(80, 24), (100, 30), (120, 40)] {
        let mut fx = fixture(w, h).await;
        key(&mut fx.state, KeyCode::Char(':'));
        type_str(&mut fx.state, "sort price");
        key(&mut fx.state, KeyCode::Enter);
        let s = render(&fx.state);
        let header = s.lines().find(|l| l.contains("NAME")).unwrap();
        assert!(header.contains("COST/H"), "no price column at {w}×{h}:\n{s}");
        assert!(header.contains("DATA"), "the last column still fits at {w}×{h}:\n{s}");
    }
}

#[tokio::test]
async fn letters_in_a_number_field_say_numbers_only_and_the_attention_count_goes_with_the_fix() {
    let mut fx = fixture(110, 36).await;
    select(&mut fx.state, "sdxl-turbo-images");
    let p = fx.providers.clone();
    load_selected(&mut fx.state, &p, epoch()).await;
    key(&mut fx.state, KeyCode::Char('s'));
    type_str(&mut fx.state, "x");
    let s = render(&fx.state);
    let line = s.lines().find(|l| l.contains("▶")).expect("the focused field");
    assert!(line.contains("numbers only"), "the reason shows at the focused field:\n{s}");
    type_str(&mut fx.state, "0");
    assert!(!render(&fx.state).contains("numbers only"), "a digit clears the notice");

    // max 20 > 300? no: make it invalid with 3 digits, then fix it.
    key(&mut fx.state, KeyCode::Char('0'));
    key(&mut fx.state, KeyCode::Char('0'));
    key(&mut fx.state, KeyCode::Enter);
    assert!(render(&fx.state).contains("1 field(s) need attention"), "{}", render(&fx.state));
    key(&mut fx.state, KeyCode::Backspace);
    key(&mut fx.state, KeyCode::Backspace);
    let s = render(&fx.state);
    assert!(!s.contains("need attention"), "the message outlived the fix:\n{s}");
}

#[tokio::test]
async fn t_after_a_stop_asks_to_start_from_the_newer_list_row_not_the_older_details() {
    let mut fx = fixture(120, 40).await;
    select(&mut fx.state, "llama-guard-3");
    let p = fx.providers.clone();
    load_selected(&mut fx.state, &p, epoch()).await;
    key(&mut fx.state, KeyCode::Char('t'));
    let Mode::Confirm(c) = &fx.state.mode else { panic!("a prompt") };
    assert_eq!(c.op, LifecycleOp::Stop);
    let s = render(&fx.state);
    assert!(s.contains("Stop llama-guard-3?") && s.contains("DISABLED"), "{s}");
    let fx_ = key(&mut fx.state, KeyCode::Char('y'));
    let Some(Effect::Lifecycle(req)) = fx_.into_iter().find(|e| matches!(e, Effect::Lifecycle(_))) else {
        panic!("y sends the stop")
    };
    let result = p[req.account].stop(&req.key.id).await;
    update(&mut fx.state, Msg::Lifecycle { key: req.key.clone(), name: req.name, op: req.op, result });
    // The next list shows it DISABLED; the detail fetch has not come round yet.
    let later = epoch() + chrono::Duration::seconds(5);
    fx.state.now = later;
    let result = p[req.account].list().await;
    update(&mut fx.state, Msg::Fleet { account: req.account, at: later, result });
    let s = render(&fx.state);
    assert!(s.lines().any(|l| l.contains("llama-guard-3") && l.contains("DISABLED")), "{s}");
    key(&mut fx.state, KeyCode::Char('t'));
    let Mode::Confirm(c) = &fx.state.mode else { panic!("a prompt") };
    assert_eq!(c.op, LifecycleOp::Start, "t on a DISABLED row asks to start, not to stop again");
    let s = render(&fx.state);
    assert!(s.contains("Start llama-guard-3?") && s.contains("now DISABLED"), "{s}");
    // The details pane shows the same snapshot as the row.
    key(&mut fx.state, KeyCode::Esc);
    let s = render(&fx.state);
    assert!(s.lines().any(|l| l.contains("status") && l.contains("DISABLED")), "{s}");
    assert!(s.contains("readiness"), "what only the detail had stays:\n{s}");
}

#[tokio::test]
async fn a_gcore_v2_scale_up_is_not_rolled_out_while_the_provider_says_partiallydeployed() {
    let sim = sim::start(
        SimConfig { seed: 7, time_scale: 0.0, epoch: Some(epoch()), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(20));
    let mut spec = provider::demo_accounts(&sim.base_url()).into_iter().next().unwrap();
    spec.gcore_api = GcoreApi::V2;
    let p: Arc<dyn Provider> = provider::connect(&spec, client);
    let mut state = State::new(vec![AccountState::of(p.as_ref())], Duration::from_secs(5), epoch());
    update(&mut state, Msg::Resize(120, 40));
    let result = p.list().await;
    update(&mut state, Msg::Fleet { account: 0, at: epoch(), result });
    select(&mut state, "llama-guard-3");
    load_selected(&mut state, std::slice::from_ref(&p), epoch()).await;

    // Raise max, then min, to 3: one more replica than runs.
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Backspace);
    type_str(&mut state, "3");
    key(&mut state, KeyCode::BackTab);
    key(&mut state, KeyCode::Backspace);
    type_str(&mut state, "3");
    key(&mut state, KeyCode::Enter);
    let fx = key(&mut state, KeyCode::Char('y'));
    let Some(Effect::Apply(req)) = fx.into_iter().find(|e| matches!(e, Effect::Apply(_))) else {
        panic!("y applies")
    };
    let Effect::Apply(_) = Effect::Apply(req.clone()) else { unreachable!() };
    let infertop::model::edit::Change::Scale(u) = &req.change else { panic!("a scale change") };
    let applied = p.update_scale(&req.key.id, u).await.expect("the simulator takes the scale-up");
    assert_eq!(applied.deployment().status.label(), "PARTIALLYDEPLOYED", "the read-back is mid-rollout");
    update(
        &mut state,
        Msg::Applied { key: req.key.clone(), result: Ok(Landed { applied, not_taken: vec![] }) },
    );

    // The first frame after the write.
    let s = render(&state);
    assert!(!s.contains("rolled out"), "rolled out while PARTIALLYDEPLOYED:\n{s}");
    assert!(s.lines().any(|l| l.contains("llama-guard-3") && l.contains("⟳")), "⟳ marks the rollout:\n{s}");
    assert!(state.pending.contains_key(&req.key));
}

#[tokio::test]
async fn runai_regions_show_cluster_names_not_uuids() {
    let fx = fixture(160, 48).await;
    let s = render(&fx.state);
    let runai: Vec<&str> = s.lines().filter(|l| l.contains("runai-demo")).collect();
    assert!(!runai.is_empty(), "{s}");
    for l in &runai {
        assert!(!l.contains("7b0e6a0e") && !l.contains("c3f1d9a2"), "a cluster uuid on screen: {l}");
    }
    let regions: Vec<String> = fx
        .state
        .rows
        .iter()
        .filter(|r| r.dep.key.provider == infertop::model::ProviderKind::Runai)
        .flat_map(|r| r.dep.regions.iter().map(|g| g.display_name()))
        .collect();
    assert!(regions.iter().all(|n| n.starts_with("dgx-")), "names from GET /api/v1/clusters: {regions:?}");
}
