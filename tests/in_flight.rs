//! Actions in flight are state (issue 22). A start or stop sent and not confirmed yet marks its row; `t`, `s`,
//! `p`, `e` and delete on it say what is in flight and send nothing; the mark goes when the outcome and the
//! read-back land. Single-row `t` reads the deployment before sending. And the Run:ai scale form never starts
//! from a list row that lacks the autoscaling metric its details hold. Driven as the terminal loop drives it
//! (keys into `update`, effects to the real `Sync`), against the simulator over loopback; what was sent is
//! counted in the simulator's request log. Nothing asserts on time.

mod common;

use common::app::{Driver, driver, frozen_config, start_sim};
use common::screen::render;
use crossterm::event::KeyCode;
use infertop::app::form::Stage;
use infertop::app::state::{LifecycleOp, Mode};
use infertop::model::Status;
use infertop::sim::{SimConfig, SimHandle};
use std::time::Duration;

const GCORE: usize = 0;
const RUNAI: usize = 2;

/// The simulator's request log (`"METHOD /path"`, oldest first).
async fn requests(sim: &SimHandle) -> Vec<String> {
    reqwest::get(format!("{}/_sim/requests", sim.base_url())).await.unwrap().json().await.unwrap()
}

/// The stop requests for Gcore deployment `name` in the log.
async fn stops(sim: &SimHandle, name: &str) -> usize {
    let tail = format!("/{name}/stop");
    requests(sim).await.iter().filter(|l| l.starts_with("POST ") && l.ends_with(&tail)).count()
}

/// A running Gcore deployment of the demo fleet (by name).
fn running_gcore(d: &Driver) -> String {
    d.state
        .rows
        .iter()
        .filter(|r| r.account == GCORE && r.dep.status == Status::Active)
        .map(|r| r.dep.name.clone())
        .min()
        .expect("an ACTIVE Gcore deployment")
}

fn selected_key(d: &Driver) -> infertop::model::DeploymentKey {
    d.state.selected_row().expect("a selected row").dep.key.clone()
}

/// At a provider's latency of a second, `t y t y` sends one stop: the first `y` marks the row, the second `t`
/// says the stop is in flight (the second `y` is then only the copy key). The mark shows in the table and goes
/// when the stop and its read-back land; the row then reads DISABLED and `t` offers a start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_y_t_y_at_a_second_of_latency_sends_one_stop() {
    let sim = start_sim(SimConfig { latency: Duration::from_millis(1000), ..frozen_config() }).await;
    let mut d = driver("inflight-tyty", &infertop::provider::demo_accounts(&sim.base_url())).await;
    let name = running_gcore(&d);
    d.select(GCORE, &name).await;
    let key = selected_key(&d);

    d.key(KeyCode::Char('t'));
    assert!(matches!(&d.state.mode, Mode::Confirm(c) if c.op == LifecycleOp::Stop), "{:?}", d.state.mode);
    d.key(KeyCode::Char('y'));
    assert_eq!(d.state.in_flight.get(&key).map(|f| f.label()).as_deref(), Some("stopping"));
    let screen = render(&d.state);
    assert!(
        screen.lines().any(|l| l.contains(&name) && l.contains('⏳') && l.contains("stopping")),
        "the row shows the stop in flight:\n{screen}"
    );
    // The row still reads ACTIVE (nothing confirmed yet): `t` would offer the stop again.
    d.key(KeyCode::Char('t'));
    assert_eq!(d.state.mode, Mode::Normal, "no second prompt");
    let said = d.said();
    assert!(said.contains("a stop was sent") && said.contains("nothing sent"), "{said}");
    d.key(KeyCode::Char('y'));
    for k in ['s', 'p'] {
        d.key(KeyCode::Char(k));
        assert_eq!(d.state.mode, Mode::Normal, "{k} opened a form on a row with a stop in flight");
    }

    d.wait("the stop's outcome", |s| !s.in_flight.contains_key(&key)).await;
    assert_eq!(stops(&sim, &name).await, 1, "exactly one stop reached the simulator");
    let row = d.state.selected_row().unwrap();
    assert_eq!(d.state.snapshot(row).status, Status::Disabled, "the read-back shows it stopped");
    assert!(!render(&d.state).contains("⏳"), "the mark is gone");
    d.key(KeyCode::Char('t'));
    assert!(matches!(&d.state.mode, Mode::Confirm(c) if c.op == LifecycleOp::Start), "{:?}", d.state.mode);
    d.key(KeyCode::Esc);
    assert_eq!(stops(&sim, &name).await, 1);
}

/// Single-row `t` reads the deployment before sending: stopped meanwhile by another writer (the screen a refresh
/// behind), the stop is not sent, the user is told why, and the row shows what the read found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_not_sent_when_the_read_before_it_finds_the_deployment_stopped() {
    let sim = start_sim(frozen_config()).await;
    let mut d = driver("inflight-reread", &infertop::provider::demo_accounts(&sim.base_url())).await;
    let name = running_gcore(&d);
    d.select(GCORE, &name).await;
    let key = selected_key(&d);
    // Another writer stops it; the dashboard has not seen a refresh since (nothing is fed to it meanwhile).
    d.providers[GCORE].stop(&key.id).await.unwrap();
    assert_eq!(stops(&sim, &name).await, 1);
    assert_ne!(d.state.snapshot(d.state.selected_row().unwrap()).status, Status::Disabled);

    d.key(KeyCode::Char('t'));
    assert!(matches!(&d.state.mode, Mode::Confirm(c) if c.op == LifecycleOp::Stop), "{:?}", d.state.mode);
    d.key(KeyCode::Char('y'));
    d.wait("the outcome", |s| !s.in_flight.contains_key(&key)).await;
    assert_eq!(stops(&sim, &name).await, 1, "no second stop");
    let said = d.said();
    assert!(said.contains("is DISABLED now: nothing sent"), "{said}");
    assert_eq!(d.state.snapshot(d.state.selected_row().unwrap()).status, Status::Disabled);
    let audit = d.audit_lines();
    let line = audit.iter().find(|l| l["deployment"]["name"] == name.as_str()).expect("an audit line");
    assert!(line["result"].as_str().unwrap().starts_with("not sent"), "{line}");
}

/// The Run:ai list carries the replica bounds only. Right after a list refresh (newer than the details), the
/// scale form still holds the autoscaling metric the details read, and an edit of max lands without a false
/// conflict ("metric: unset → concurrency 4").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runai_form_opened_right_after_a_list_refresh_holds_the_metric() {
    let sim = start_sim(frozen_config()).await;
    let mut d = driver("inflight-runai", &infertop::provider::demo_accounts(&sim.base_url())).await;
    let mut name = None;
    let ids: Vec<(String, String)> = d
        .state
        .rows
        .iter()
        .filter(|r| r.account == RUNAI)
        .map(|r| (r.dep.key.id.clone(), r.dep.name.clone()))
        .collect();
    for (id, n) in ids {
        let full = d.providers[RUNAI].get(&id).await.unwrap();
        if full.regions[0].scale.triggers.metric.is_some() && full.status == Status::Running {
            name = Some(n);
            break;
        }
    }
    let name = name.expect("a running Run:ai inference with an autoscaling metric");
    d.select(RUNAI, &name).await;
    let key = selected_key(&d);
    // A list newer than the details: the snapshot is the list's live state over the details.
    d.wait("a list refresh after the details", |s| {
        let row = &s.rows[s.index[&key]];
        !row.dep.detail
            && s.details
                .get(&key)
                .and_then(|c| c.detail.as_ref())
                .is_some_and(|(_, at)| *at == row.fetched_at)
    })
    .await;
    let row = d.state.selected_row().unwrap();
    let metric = d.state.snapshot(row).regions[0].scale.triggers.metric.clone();
    assert!(metric.is_some(), "the list blanked the metric the details hold");

    d.key(KeyCode::Char('s'));
    let field = |d: &Driver, label: &str| {
        d.form().sections[0].fields.iter().find(|f| f.label == label).map(|f| f.value().to_string())
    };
    assert_eq!(field(&d, "metric"), metric.as_ref().map(|m| m.metric.clone()), "the form's metric");
    let max: u32 = field(&d, "max").unwrap().parse().unwrap();
    d.set(0, "max", &(max + 1).to_string());
    d.key(KeyCode::Enter);
    assert!(matches!(d.stage(), Stage::Confirm(_)), "the review: {:?} ({})", d.stage(), d.said());
    d.key(KeyCode::Char('y'));
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
    assert_eq!(d.state.mode, Mode::Normal, "applied, no conflict: {:?}", d.state.mode);
    assert_eq!(d.audit_edit(&name)["result"], "applied");
}
