//! Issue 13's figures at the DEFAULT account limits (20 requests/s, 16 in flight), through the real clients,
//! the real polling tasks (`sync::Sync`) and `tui::apply` (so the rows in view reach the details scheduler),
//! a 200×50 state, against the in-process simulator on its own runtime:
//! - 10,000 deployments: every row in the state; the visible rows' ready/total (the view scoped to Sesterce,
//!   whose details are read row by row); an edit's extra time while
//!   the background sweep is saturated (against the same edit on an idle account).
//! - 1,000 deployments: the whole fleet's first details read, and Sesterce requests per refresh at rest
//!   (after that first read, counted over five refresh intervals of 2 s).

mod common;

use chrono::Utc;
use infertop::app::{AccountState, ApplyRequest, Msg, State};
use infertop::model::edit::Change;
use infertop::model::{ProviderKind, ScaleUpdate};
use infertop::provider::http::{Lane, RateLimit, build_client, in_lane};
use infertop::provider::{self, AccountSpec, Provider};
use infertop::sim::{self, SimConfig, SimHandle};
use infertop::sync::Sync;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const REFRESH: Duration = Duration::from_secs(2);

fn accounts(sim: &SimHandle) -> Vec<AccountSpec> {
    provider::demo_accounts(&sim.base_url())
        .into_iter()
        .map(|a| AccountSpec { rate_limit: RateLimit::default(), max_in_flight: 16, ..a })
        .collect()
}

fn providers(accounts: &[AccountSpec]) -> Vec<Arc<dyn Provider>> {
    let client = build_client(Duration::from_secs(5), Duration::from_secs(120));
    accounts.iter().map(|a| provider::connect(a, client.clone())).collect()
}

fn sim(rt: &tokio::runtime::Runtime, fleet: usize) -> SimHandle {
    let config = SimConfig {
        fleet: Some(fleet),
        ambiguities: sim::ambiguity::Ambiguities::default().with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps"),
        ..SimConfig::default()
    };
    rt.block_on(sim::start(config, "127.0.0.1:0".parse().unwrap())).unwrap()
}

struct Dash {
    state: State,
    sync: Sync,
    rx: mpsc::Receiver<Msg>,
}

impl Dash {
    fn new(ps: &[Arc<dyn Provider>]) -> Dash {
        let accounts = ps.iter().map(|p| AccountState::of(p.as_ref())).collect();
        let mut state = State::new(accounts, REFRESH, Utc::now());
        let (tx, rx) = mpsc::channel(1024);
        let sync = Sync::spawn(ps.to_vec(), tx, REFRESH, None);
        infertop::tui::apply(&mut state, &sync, Msg::Resize(200, 50));
        Dash { state, sync, rx }
    }

    /// Types keys into the dashboard, as a user would.
    fn keys(&mut self, text: &str) {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        for c in text.chars() {
            let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
            infertop::tui::apply(
                &mut self.state,
                &self.sync,
                Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
            );
        }
    }

    /// Applies messages until `done` holds; the time from `start`.
    async fn until(&mut self, start: Instant, done: impl Fn(&State) -> bool) -> Duration {
        while !done(&self.state) {
            let m = tokio::time::timeout(Duration::from_secs(600), self.rx.recv())
                .await
                .expect("progress within ten minutes")
                .expect("the pollers run");
            infertop::tui::apply(&mut self.state, &self.sync, m);
        }
        start.elapsed()
    }
}

fn all_listed(s: &State) -> bool {
    s.accounts.iter().all(|a| a.last_ok.is_some())
}

fn visible_read(s: &State) -> bool {
    let end = (s.table_offset + s.table_height).min(s.view.len());
    all_listed(s) && s.view[s.table_offset..end].iter().all(|&i| !s.rows[i].awaiting_details(&s.accounts))
}

fn details_done(s: &State) -> bool {
    s.accounts.iter().all(|a| a.kind != ProviderKind::Sesterce || a.details.is_some_and(|d| d.all_read()))
}

/// One scale edit on `p` (max of its first region moved by one), start to verified read-back.
async fn edit(sync: &Sync, rx: &mut mpsc::Receiver<Msg>, p: &Arc<dyn Provider>, id: &str) -> Duration {
    let d = in_lane(Lane::User, p.get(id)).await.unwrap();
    let mut scale = ScaleUpdate::from_deployment(&d);
    let r = &mut scale.regions[0].scale;
    r.max = if r.max > r.min.max(1) { r.max - 1 } else { r.max + 1 };
    let start = Instant::now();
    sync.apply(Box::new(ApplyRequest {
        account: 1,
        key: d.key.clone(),
        name: d.name.clone(),
        change: Change::Scale(scale),
        expected: Box::new(d),
        source: None,
    }));
    loop {
        if let Msg::Applied { result, .. } = rx.recv().await.expect("an answer") {
            result.unwrap_or_else(|e| panic!("the edit failed: {e:?}"));
            return start.elapsed();
        }
    }
}

fn main() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut summary = common::Summary::default();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    println!("list first, 10,000 deployments, 20 req/s and 16 in flight per account, 200x50:");
    let big = sim(&sim_rt, 10_000);
    let ps = providers(&accounts(&big));
    let (rows, visible, extra, idle_edit, busy_edit) = rt.block_on(async {
        let start = Instant::now();
        let mut d = Dash::new(&ps);
        // Sesterce rows in view: theirs are the details read row by row (the other lists carry readiness).
        d.keys(":provider sesterce\n");
        let rows = d.until(start, all_listed).await;
        assert_eq!(d.state.rows.len(), 10_000, "every row");
        let visible = d.until(start, visible_read).await;
        assert!(d.state.view.iter().all(|&i| d.state.rows[i].dep.key.provider == ProviderKind::Sesterce));
        // The sweep is saturated now (3,334 Sesterce instances at 20/s). An edit of a row not in view:
        let ids: Vec<String> =
            d.state.rows.iter().filter(|r| r.account == 1).map(|r| r.dep.key.id.clone()).collect();
        let mut busy = Vec::new();
        for id in ids.iter().rev().take(3) {
            busy.push(edit(&d.sync, &mut d.rx, &ps[1], id).await);
        }
        drop(d);
        // The same edits on an idle account (new clients: a full bucket, nothing else in flight).
        let idle_ps = providers(&accounts(&big));
        let (tx, mut rx) = mpsc::channel(64);
        let idle_sync = Sync::spawn(idle_ps.clone(), tx, Duration::from_secs(3600), None);
        let mut idle = Vec::new();
        for id in ids.iter().rev().skip(3).take(3) {
            idle.push(edit(&idle_sync, &mut rx, &idle_ps[1], id).await);
        }
        busy.sort();
        idle.sort();
        let extra = busy[1].saturating_sub(idle[1]);
        (rows, visible, extra, idle[1], busy[1])
    });
    summary.row("list_first_10000_every_row", ms(rows), "ms");
    summary.row("list_first_10000_visible_ready", ms(visible), "ms");
    summary.row("edit_idle_10000", ms(idle_edit), "ms");
    summary.row("edit_under_sweep_10000", ms(busy_edit), "ms");
    summary.row("edit_extra_wait_under_sweep", ms(extra), "ms");
    drop(ps);
    drop(big);

    println!("\n1,000 deployments, 20 req/s: the first details read of the whole fleet, then at rest:");
    let small = sim(&sim_rt, 1_000);
    let ps = providers(&accounts(&small));
    let (first, per_refresh, instances) = rt.block_on(async {
        let start = Instant::now();
        let mut d = Dash::new(&ps);
        let first = d.until(start, details_done).await;
        let instances = d.state.rows.iter().filter(|r| r.account == 1).count();
        let before = small.state.traffic.of(ProviderKind::Sesterce).requests;
        let t0 = Instant::now();
        let _ = tokio::time::timeout(REFRESH * 5, d.until(t0, |_| false)).await;
        let made = small.state.traffic.of(ProviderKind::Sesterce).requests - before;
        (first, made as f64 / 5.0, instances)
    });
    println!(
        "  Sesterce instances: {instances}; bound (instances / rate) + 5 s = {:.1} s",
        instances as f64 / 20.0 + 5.0
    );
    summary.row("details_first_read_1000", ms(first), "ms");
    summary.row("sesterce_requests_per_refresh_1000_at_rest", per_refresh, "requests");
    summary.write("list_first");
}
