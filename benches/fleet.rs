//! Fleet refresh over a slow link: 1,000 deployments spread over the three providers of the simulator, every
//! response delayed by 50 ms. Measures the time until every row of the dashboard's state holds data fetched
//! after the refresh began, through the real clients and the real polling tasks (`sync::Sync`), against a
//! baseline that makes the same calls one at a time (one request in flight per account, accounts one after
//! the other), in the same run. Also counts the requests one refresh makes per provider and the most that were
//! in flight at once, as the simulator saw them.

mod common;

use chrono::Utc;
use infertop::app::{Msg, State, update};
use infertop::model::ProviderKind;
use infertop::provider::{self, AccountSpec, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle, TrafficCount};
use infertop::sync::Sync;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const FLEET: usize = 1_000;
const LATENCY_MS: u64 = 50;
const WARM_RUNS: usize = 3;

fn providers(accounts: &[AccountSpec]) -> Vec<Arc<dyn Provider>> {
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    accounts.iter().map(|a| provider::connect(a, client.clone())).collect()
}

fn new_state(providers: &[Arc<dyn Provider>]) -> State {
    let accounts = providers.iter().map(|p| infertop::app::AccountState::of(p.as_ref())).collect();
    State::new(accounts, Duration::from_secs(3600), Utc::now())
}

/// Checks that every row was fetched at or after `since` and carries full records (a Sesterce row without
/// regions would be a summary whose details failed).
fn check_fresh(state: &State, since: chrono::DateTime<Utc>) {
    assert_eq!(state.rows.len(), FLEET, "every deployment is listed");
    for (i, a) in state.accounts.iter().enumerate() {
        assert!(a.last_error.is_none(), "account {i} failed: {:?}", a.last_error);
    }
    for r in &state.rows {
        assert!(r.fetched_at >= since, "{} is stale", r.dep.key.id);
        assert!(!r.dep.regions.is_empty(), "{} has no regions: details missing", r.dep.key.id);
    }
}

/// Applies messages until every account has delivered a fleet and, where the list is a summary (Sesterce),
/// every row holds details or a list confirmation newer than `start`; returns the time taken from `start`.
async fn until_all_fresh(state: &mut State, rx: &mut mpsc::Receiver<Msg>, start: Instant) -> Duration {
    let since = Utc::now() - chrono::Duration::from_std(start.elapsed()).unwrap_or_default();
    let mut done = vec![false; state.accounts.len()];
    let mut listed = vec![false; state.accounts.len()];
    while !done.iter().all(|d| *d) {
        let msg = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("a refresh within two minutes")
            .expect("the polling tasks are running");
        match &msg {
            Msg::Fleet { account, .. } => done[*account] = true,
            Msg::Listed { account, .. } => listed[*account] = true,
            _ => {}
        }
        state.now = Utc::now();
        update(state, msg);
        for (a, l) in listed.iter().enumerate() {
            if *l && !done[a] {
                done[a] = state
                    .rows
                    .iter()
                    .filter(|r| r.account == a)
                    .all(|r| r.fetched_at >= since && !r.awaiting_details(&state.accounts));
            }
        }
    }
    start.elapsed()
}

fn traffic(sim: &SimHandle) -> [TrafficCount; 3] {
    ProviderKind::ALL.map(|p| sim.state.traffic.of(p))
}

fn per_provider(before: &[TrafficCount; 3], after: &[TrafficCount; 3]) -> [u64; 3] {
    [0, 1, 2].map(|i| after[i].requests - before[i].requests)
}

struct Run {
    cold: Duration,
    cold_requests: [u64; 3],
    warm: Vec<Duration>,
    warm_requests: [u64; 3],
    peak: [u64; 3],
}

/// The dashboard's way: one polling task per account, each client bounded by its `max_in_flight`.
async fn concurrent(sim: &SimHandle, accounts: &[AccountSpec]) -> Run {
    let ps = providers(accounts);
    let mut state = new_state(&ps);
    let (tx, mut rx) = mpsc::channel(1024);
    sim.state.traffic.reset_peaks();
    let before = traffic(sim);
    let since = Utc::now();
    let start = Instant::now();
    // A refresh interval longer than the bench: every refresh after the first is the one asked for below.
    let sync = Sync::spawn(ps, tx, Duration::from_secs(3600), None);
    let cold = until_all_fresh(&mut state, &mut rx, start).await;
    check_fresh(&state, since);
    // The regions catalogs are fetched at start as well; let them land before counting the warm refreshes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(m) = rx.try_recv() {
        update(&mut state, m);
    }
    let cold_requests = per_provider(&before, &traffic(sim));
    let mut warm = Vec::new();
    let mut warm_requests = [0; 3];
    for _ in 0..WARM_RUNS {
        let before = traffic(sim);
        let since = Utc::now();
        let start = Instant::now();
        sync.refresh(None);
        warm.push(until_all_fresh(&mut state, &mut rx, start).await);
        check_fresh(&state, since);
        warm_requests = per_provider(&before, &traffic(sim));
    }
    let peak = traffic(sim).map(|t| t.peak_in_flight);
    drop(sync);
    Run { cold, cold_requests, warm, warm_requests, peak }
}

/// The baseline: the same clients and calls, one request in flight per account, accounts one after the other.
async fn one_at_a_time(sim: &SimHandle, accounts: &[AccountSpec]) -> (Duration, Duration, [u64; 3]) {
    let accounts: Vec<AccountSpec> =
        accounts.iter().cloned().map(|a| AccountSpec { max_in_flight: 1, ..a }).collect();
    let ps = providers(&accounts);
    let mut state = new_state(&ps);
    sim.state.traffic.reset_peaks();
    let mut times = Vec::new();
    for _ in 0..2 {
        let since = Utc::now();
        let start = Instant::now();
        for (account, p) in ps.iter().enumerate() {
            let result = p.list().await;
            update(&mut state, Msg::Fleet { account, at: Utc::now(), result });
        }
        times.push(start.elapsed());
        check_fresh(&state, since);
    }
    let peak = traffic(sim).map(|t| t.peak_in_flight);
    (times[0], times[1], peak)
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // The simulator runs on its own runtime, like a cloud at the other end of the link.
    let sim_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config =
        SimConfig { fleet: Some(FLEET), latency: Duration::from_millis(LATENCY_MS), ..SimConfig::default() };
    let sim = sim_rt.block_on(sim::start(config, "127.0.0.1:0".parse().unwrap())).unwrap();
    let accounts = provider::demo_accounts(&sim.base_url());
    let limit = accounts[0].max_in_flight;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    println!(
        "fleet refresh: {FLEET} deployments, {LATENCY_MS} ms per response, {limit} in flight per account, the \
         demo's 500 requests/s (and once more at the default 20 requests/s)"
    );
    let run = rt.block_on(concurrent(&sim, &accounts));
    // The same at the default account limits (20 requests/s, 16 in flight), which real accounts have.
    let default_limits: Vec<AccountSpec> = accounts
        .iter()
        .cloned()
        .map(|a| AccountSpec {
            rate_limit: infertop::provider::http::RateLimit::default(),
            max_in_flight: provider::DEFAULT_MAX_IN_FLIGHT,
            ..a
        })
        .collect();
    let run_default = rt.block_on(concurrent(&sim, &default_limits));
    let (base_cold, base_warm, base_peak) = rt.block_on(one_at_a_time(&sim, &accounts));

    println!(
        "\nrequests per provider         first load   refresh   peak in flight (limit {limit})   baseline peak"
    );
    for (i, p) in ProviderKind::ALL.iter().enumerate() {
        println!(
            "  {:<28}{:>10}{:>10}{:>18}{:>28}",
            p.label(),
            run.cold_requests[i],
            run.warm_requests[i],
            run.peak[i],
            base_peak[i]
        );
        assert!(run.peak[i] as usize <= limit, "{p} had {} requests in flight, over {limit}", run.peak[i]);
        assert!(base_peak[i] <= 1, "the baseline had {} requests in flight to {p}", base_peak[i]);
    }
    println!("warm refreshes: {:?}", run.warm);

    let warm = median(&run.warm);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut summary = common::Summary::default();
    println!("\nsummary");
    summary.row("fleet_refresh_1000_50ms", ms(warm), "ms");
    summary.row("fleet_refresh_1000_50ms_baseline", ms(base_warm), "ms");
    summary.row("fleet_refresh_speedup", base_warm.as_secs_f64() / warm.as_secs_f64(), "x");
    summary.row("fleet_first_load_1000_50ms", ms(run.cold), "ms");
    summary.row("fleet_first_load_1000_50ms_baseline", ms(base_cold), "ms");
    summary.row("fleet_first_load_speedup", base_cold.as_secs_f64() / run.cold.as_secs_f64(), "x");
    summary.row("fleet_refresh_1000_50ms_default_limits", ms(median(&run_default.warm)), "ms");
    summary.row("fleet_first_load_1000_50ms_default_limits", ms(run_default.cold), "ms");
    for (i, p) in ProviderKind::ALL.iter().enumerate() {
        summary.row(
            &format!("fleet_refresh_requests_{}", p.label()),
            run.warm_requests[i] as f64,
            "requests",
        );
        summary.row(&format!("fleet_peak_in_flight_{}", p.label()), run.peak[i] as f64, "requests");
    }
    summary.row("fleet_in_flight_limit", limit as f64, "requests");
    summary.write("fleet");
    drop(sim);
}
