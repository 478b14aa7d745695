//! Issue 13 at the default account limits (20 requests/s, 16 in flight), against a simulated fleet of 2,000:
//! the list shows every row before any details read completes; rows in view are read before the background
//! sweep; a user's edit reaches the simulator ahead of the reads queued before it; a 429 with `Retry-After`
//! lowers the effective rate and it comes back. Issue 26: 429s that come at random are bad luck, not a
//! reason to slow down; a storm of changes cannot stop the first pass nor delay a row in view; a failed
//! re-read does not bring the progress back. Orders are checked with the simulator's request log, never
//! with clocks.

use infertop::app::state::LifecycleOp;
use infertop::app::{AccountState, ApplyRequest, DetailsProgress, LifecycleRequest, Msg, State, update};
use infertop::model::edit::Change;
use infertop::model::{DeploymentKey, ProviderKind, ScaleUpdate};
use infertop::provider::http::{Lane, RateLimit, build_client, in_lane};
use infertop::provider::{self, AccountSpec, Provider};
use infertop::sim::{self, SimConfig, SimHandle};
use infertop::sync::Sync;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const FLEET: usize = 2000;

/// The demo accounts at the default limits (the demo's own accounts allow 500/s), with `max_in_flight`.
fn default_limits(sim: &SimHandle, max_in_flight: usize) -> Vec<AccountSpec> {
    provider::demo_accounts(&sim.base_url())
        .into_iter()
        .map(|a| AccountSpec { rate_limit: RateLimit::default(), max_in_flight, ..a })
        .collect()
}

async fn start(config: SimConfig) -> (SimHandle, Vec<Arc<dyn Provider>>) {
    start_with(config, 16).await
}

async fn start_with(config: SimConfig, max_in_flight: usize) -> (SimHandle, Vec<Arc<dyn Provider>>) {
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(60));
    let providers =
        default_limits(&sim, max_in_flight).iter().map(|a| provider::connect(a, client.clone())).collect();
    (sim, providers)
}

/// The Sesterce instance ids of the simulator, in list order, read with a client of its own.
async fn sesterce_ids(sim: &SimHandle) -> Vec<String> {
    let spec = provider::demo_accounts(&sim.base_url()).into_iter().nth(1).unwrap();
    let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(30)));
    let listed = p.list_summaries().await.expect("a summary list").unwrap();
    listed.items.into_iter().map(|l| l.dep.key.id).collect()
}

/// Sesterce detail reads the simulator saw, in arrival order, from log position `from` on.
fn detail_reads(sim: &SimHandle, from: usize) -> Vec<String> {
    sim.state.traffic.log()[from..]
        .iter()
        .filter_map(|l| l.strip_prefix("GET /ai-inference/instances/"))
        .filter(|id| !id.contains('/'))
        .map(str::to_string)
        .collect()
}

fn key(id: &str) -> DeploymentKey {
    DeploymentKey { provider: ProviderKind::Sesterce, account: "sesterce-demo".into(), id: id.into() }
}

#[tokio::test]
async fn the_first_frame_lists_every_row_of_every_provider_before_any_details_read_completes() {
    // Details answer only after 3 s: whatever the dashboard shows before then came from the lists.
    let (sim, providers) = start(SimConfig {
        fleet: Some(FLEET),
        details_latency: Duration::from_secs(3),
        ..SimConfig::default()
    })
    .await;
    let accounts = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(accounts, Duration::from_secs(2), chrono::Utc::now());
    update(&mut state, Msg::Resize(200, 50));
    let (tx, mut rx) = mpsc::channel(256);
    let _sync = Sync::spawn(providers.clone(), tx, Duration::from_secs(2), None);
    while !state.accounts.iter().all(|a| a.last_ok.is_some() || a.last_error.is_some()) {
        let msg = rx.recv().await.expect("the pollers run");
        assert!(
            !matches!(msg, Msg::RowDetails { .. }),
            "a details read completed before every account's list was shown"
        );
        update(&mut state, msg);
    }
    assert!(state.accounts.iter().all(|a| a.last_error.is_none()), "every list answered");
    assert_eq!(state.rows.len(), FLEET, "every row of every provider");
    for kind in ProviderKind::ALL {
        assert!(state.rows.iter().any(|r| r.dep.key.provider == kind), "{kind} rows shown");
    }
    // The Sesterce rows say their details are not read yet, and the status line says how far along they are.
    let sesterce = state.accounts.iter().position(|a| a.kind == ProviderKind::Sesterce).unwrap();
    let waiting = state.rows.iter().filter(|r| r.awaiting_details(&state.accounts)).count();
    let listed = state.rows.iter().filter(|r| r.account == sesterce).count();
    assert_eq!(waiting, listed);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50)).unwrap();
    term.draw(|f| infertop::ui::draw(f, &state)).unwrap();
    let screen: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains(&format!("details 0/{listed}")), "progress on the status line");
    // No details read has been answered (the simulator holds them), so the lists were all it took.
    assert!(detail_reads(&sim, 0).len() <= 16, "at most one in-flight window of details reads was sent");
}

#[tokio::test]
async fn rows_in_view_are_read_before_the_background_sweep() {
    // One request in flight at a time, so that the simulator sees the reads in the order the account's gate
    // handed them their turns. With sixteen, reads handed their turns together reach it in any order: on a
    // loaded machine a sweep read that had its turn after the last rows in view sometimes arrived before
    // them (3 of 25 runs), which says nothing of the lanes.
    let (sim, providers) = start_with(SimConfig { fleet: Some(FLEET), ..SimConfig::default() }, 1).await;
    let ids = sesterce_ids(&sim).await;
    // The last rows of the list: the sweep, which goes in list order, would come to them last.
    let eyes: Vec<String> = ids[ids.len() - 45..].to_vec();
    let mark = sim.state.traffic.log().len();
    let (tx, mut rx) = mpsc::channel(256);
    let sync = Sync::spawn(providers, tx, Duration::from_secs(2), None);
    sync.eyes(eyes.iter().map(|id| key(id)).collect());
    let mut read = 0;
    while read < 200 {
        if let Msg::RowDetails { items, .. } = rx.recv().await.expect("the pollers run") {
            read += items.len();
        }
    }
    let reads = detail_reads(&sim, mark);
    let first: std::collections::HashSet<&String> = reads[..eyes.len()].iter().collect();
    let wanted: std::collections::HashSet<&String> = eyes.iter().collect();
    assert_eq!(first, wanted, "the rows in view were the first details read");
}

#[tokio::test]
async fn an_edit_during_a_saturated_sweep_reaches_the_simulator_ahead_of_the_queued_reads() {
    let (sim, providers) = start(SimConfig {
        fleet: Some(FLEET),
        // The form cannot pick a Sesterce model: the reading that keeps it (the refusing one is another test).
        ambiguities: sim::ambiguity::Ambiguities::default().with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps"),
        ..SimConfig::default()
    })
    .await;
    let ids = sesterce_ids(&sim).await;
    let (tx, mut rx) = mpsc::channel(1024);
    let sync = Sync::spawn(providers.clone(), tx, Duration::from_secs(2), None);
    // Four hundred rows "in view": at 20/s that queues twenty seconds of reads ahead of the sweep.
    sync.eyes(ids[..400].iter().map(|id| key(id)).collect());
    let mut read = 0;
    while read < 20 {
        if let Msg::RowDetails { items, .. } = rx.recv().await.expect("the pollers run") {
            read += items.len();
        }
    }
    // Scale the last row (not in view, not read yet) to what it is: a real edit through the dashboard's path.
    let target = ids.last().unwrap().clone();
    let d = in_lane(Lane::User, providers[1].get(&target)).await.unwrap();
    let mut scale = ScaleUpdate::from_deployment(&d);
    let region = scale.regions.first_mut().expect("a region");
    region.scale.max =
        if region.scale.max > region.scale.min.max(1) { region.scale.max - 1 } else { region.scale.max + 1 };
    let mark = sim.state.traffic.log().len();
    sync.apply(Box::new(ApplyRequest {
        account: 1,
        key: d.key.clone(),
        name: d.name.clone(),
        change: Change::Scale(scale),
        expected: Box::new(d.clone()),
        source: None,
    }));
    loop {
        match rx.recv().await.expect("an answer") {
            Msg::Applied { result, .. } => {
                result.unwrap_or_else(|e| panic!("the edit failed: {e:?}"));
                break;
            }
            _ => continue,
        }
    }
    let log = sim.state.traffic.log();
    let patch = format!("PATCH /ai-inference/instances/{target}");
    let at = log[mark..]
        .iter()
        .position(|l| *l == patch)
        .unwrap_or_else(|| panic!("the edit's write reached the simulator: {:?}", &log[mark..]));
    // Between the edit and its write the simulator saw the edit's own reads and at most one in-flight window
    // of others; the queued reads of the rows in view were mostly still waiting.
    let others = log[mark..mark + at]
        .iter()
        .filter(|l| l.starts_with("GET /ai-inference/instances/") && !l.ends_with(&target))
        .count();
    assert!(others <= 16, "{others} other reads went between the edit and its write");
    // And the reads queued before it were still waiting when it was written.
    let rows_in_view_read = detail_reads(&sim, 0).iter().filter(|id| ids[..400].contains(id)).count();
    assert!(rows_in_view_read < 400, "the queued reads were not all served first");
    // A lifecycle action goes ahead too.
    let mark = sim.state.traffic.log().len();
    sync.lifecycle(LifecycleRequest {
        account: 1,
        key: key(&ids[1]),
        name: "x".into(),
        op: LifecycleOp::Stop,
    });
    loop {
        if let Msg::Lifecycle { .. } = rx.recv().await.expect("an answer") {
            break;
        }
    }
    let log = sim.state.traffic.log();
    let stop = format!("POST /ai-inference/instances/{}/stop", ids[1]);
    let at = log[mark..].iter().position(|l| *l == stop).expect("the stop reached the simulator");
    assert!(at <= 16, "{at} requests went ahead of the stop");
}

#[tokio::test]
async fn a_429_with_retry_after_lowers_the_effective_rate_and_it_recovers() {
    let (sim, providers) = start(SimConfig { fleet: Some(30), ..SimConfig::default() }).await;
    let p = &providers[1];
    let configured = RateLimit::default().per_second;
    assert_eq!(p.effective_rate(), Some((configured, configured)));
    let ids = sesterce_ids(&sim).await;
    {
        let mut f = sim.state.faults.write().unwrap();
        f.sesterce.rate_limit = 1.0;
        f.retry_after = 1;
    }
    let e = p.get(&ids[0]).await.expect_err("every answer is a 429");
    assert_eq!(e.status, Some(429));
    let (now, _) = p.effective_rate().unwrap();
    assert!(now < configured, "the rate came down: {now}");
    // Three answers, a second apart (the Retry-After): one window too fast, one decrease, by half.
    assert!(now >= configured / 2.0, "once, not once per 429: {now}");
    *sim.state.faults.write().unwrap() = sim::faults::FaultConfig::default();
    let mut rates = vec![now];
    for i in 0..400 {
        p.get(&ids[i % ids.len()]).await.unwrap();
        rates.push(p.effective_rate().unwrap().0);
        if rates.last() == Some(&configured) {
            break;
        }
    }
    assert_eq!(rates.last(), Some(&configured), "the rate came back");
    assert!(rates.windows(2).all(|w| w[1] >= w[0]), "it came back step by step: {rates:?}");
    assert!(rates.len() > 10, "slowly, not at once");
}

/// Each provider's client tells the status line its rate: the configured one at first, lower after a
/// window of 429s (Gcore and Run:ai here; Sesterce above).
#[tokio::test]
async fn every_provider_reports_its_effective_rate_and_a_lowered_one_after_429s() {
    let (sim, providers) = start(SimConfig { fleet: Some(30), ..SimConfig::default() }).await;
    let configured = RateLimit::default().per_second;
    for (i, kind) in [(0, ProviderKind::Gcore), (2, ProviderKind::Runai)] {
        let p = &providers[i];
        assert_eq!(p.kind(), kind);
        // Signed in and listed once at the configured rate.
        p.listing().await.expect("a list before the faults");
        assert_eq!(p.effective_rate(), Some((configured, configured)), "{kind:?}");
        {
            let mut f = sim.state.faults.write().unwrap();
            match kind {
                ProviderKind::Gcore => f.gcore.rate_limit = 1.0,
                _ => f.runai.rate_limit = 1.0,
            }
            f.retry_after = 1;
        }
        let e = p.listing().await.expect_err("every answer is a 429");
        assert_eq!(e.status, Some(429), "{kind:?}: {e}");
        let (now, limit) = p.effective_rate().unwrap();
        assert_eq!(limit, configured, "{kind:?}: the configured limit stays what it is");
        assert!(now < configured && now >= configured / 2.0, "{kind:?}: lowered once: {now}");
        *sim.state.faults.write().unwrap() = sim::faults::FaultConfig::default();
    }
}

/// The Sesterce details reads the simulator saw from `from` on, and the list reads among them, in order.
fn sesterce_reads(sim: &SimHandle, from: usize) -> Vec<String> {
    sim.state.traffic.log()[from..]
        .iter()
        .filter(|l| l.starts_with("GET /ai-inference/instances"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_share_of_429s_that_come_at_random_does_not_lower_the_rate() {
    let (sim, providers) = start(SimConfig { fleet: Some(600), ..SimConfig::default() }).await;
    let p = providers[1].clone();
    let ids = sesterce_ids(&sim).await;
    sim.state.faults.write().unwrap().sesterce.rate_limit = 0.05;
    sim.state.faults.write().unwrap().retry_after = 1;
    let configured = RateLimit::default().per_second;
    // Every row read twice, sixteen at a time: some hundreds of answers, one in twenty a 429.
    let mut rates = Vec::new();
    let mut reads = futures::stream::iter(ids.iter().chain(ids.iter()).cloned())
        .map(|id| {
            let p = p.clone();
            async move { p.get(&id).await }
        })
        .buffer_unordered(16);
    use futures::StreamExt;
    while let Some(r) = reads.next().await {
        r.expect("a 429 is retried after its Retry-After");
        rates.push(p.effective_rate().unwrap().0);
    }
    let counts = sim.state.fault_counters.snapshot();
    assert!(counts["rate_limit"].as_u64().unwrap() >= 5, "429s were answered: {counts}");
    assert!(rates.iter().all(|r| *r == configured), "the rate was lowered by bad luck: {rates:?}");
}

#[tokio::test]
async fn a_storm_of_changes_neither_stops_the_first_pass_nor_delays_a_row_in_view() {
    let (sim, providers) = start(SimConfig { fleet: Some(900), ..SimConfig::default() }).await;
    let ids = sesterce_ids(&sim).await;
    let (tx, mut rx) = mpsc::channel(1024);
    let sync = Sync::spawn(providers, tx, Duration::from_secs(1), None);
    let mut read = 0;
    while read < 60 {
        if let Msg::RowDetails { items, .. } = rx.recv().await.expect("the pollers run") {
            read += items.len();
        }
    }
    // The storm: every Sesterce answer carries status values nobody knows, so every list shows every row
    // read as changed, and every row read as still moving.
    sim.state.faults.write().unwrap().sesterce.unknown_values = 1.0;
    let mark = sim.state.traffic.log().len();
    let before: std::collections::HashSet<String> = detail_reads(&sim, 0).into_iter().collect();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    // Let the lists queue the rows read again (a list a second) before looking.
    loop {
        let lists = sesterce_reads(&sim, mark).iter().filter(|l| *l == "GET /ai-inference/instances").count();
        if lists >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A row at the end of the list, never read, comes into view.
    let last = ids.last().unwrap().clone();
    assert!(!before.contains(&last));
    let eye_mark = sim.state.traffic.log().len();
    sync.eyes(vec![key(&last)]);
    let mut reads;
    loop {
        reads = detail_reads(&sim, mark);
        if reads.len() >= 160 && detail_reads(&sim, eye_mark).contains(&last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ahead = detail_reads(&sim, eye_mark).iter().position(|id| *id == last).unwrap();
    assert!(ahead <= 16, "{ahead} details reads went ahead of the row in view");
    // The first pass keeps its share of the reads however many rows the storm queues.
    let mut seen = before.clone();
    let fresh = reads[..160].iter().filter(|id| seen.insert(id.to_string())).count();
    let again = 160 - fresh;
    assert!(again >= 40, "the storm queued rows to read again: {again} of 160");
    assert!(fresh >= 60, "never-read rows had {fresh} of the first 160 reads of the storm");
    drop(sync);
    drain.abort();
}

#[tokio::test]
async fn a_failed_re_read_after_the_first_pass_does_not_bring_the_progress_back() {
    let (sim, providers) = start(SimConfig { fleet: Some(30), ..SimConfig::default() }).await;
    let ids = sesterce_ids(&sim).await;
    let p = providers[1].clone();
    let (tx, mut rx) = mpsc::channel(1024);
    let _sync = Sync::spawn(providers, tx, Duration::from_secs(1), None);
    let total = ids.len();
    loop {
        if let Msg::Progress { account: 1, details: Some(DetailsProgress::Read { read, listed }), .. } =
            rx.recv().await.unwrap()
            && read == listed
            && listed == total
        {
            break;
        }
    }
    // A row changes, and its re-read fails.
    let target = ids[0].clone();
    p.stop(&target).await.unwrap();
    sim.state.faults.write().unwrap().sesterce.details_html = 1.0;
    let mut failed = false;
    loop {
        match rx.recv().await.unwrap() {
            Msg::RowDetails { items, .. } => {
                failed |= items.iter().any(|i| i.key.id == target && i.result.is_err());
            }
            Msg::Progress { account: 1, details: Some(d), .. } if failed => {
                assert_eq!(
                    d,
                    DetailsProgress::Read { read: total, listed: total },
                    "one failed re-read is no backlog"
                );
                break;
            }
            _ => {}
        }
    }
}

/// The status line's `details N/M` counts the first pass and never goes back: a change storm after it is a
/// backlog, shown in a word of its own (`re-reading K`), not as `details` with a smaller N (the soak at 10,000
/// saw 3332/3333 followed by 311/3333 as the first pass ended during a storm).
#[tokio::test]
async fn after_the_first_pass_a_storm_is_a_backlog_and_the_count_never_goes_back() {
    let (sim, providers) = start(SimConfig { fleet: Some(150), ..SimConfig::default() }).await;
    let (tx, mut rx) = mpsc::channel(1024);
    let _sync = Sync::spawn(providers, tx, Duration::from_secs(1), None);
    let mut last_read = 0;
    let mut storm = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let msg = tokio::time::timeout_at(deadline, rx.recv()).await.expect("a backlog after the first pass");
        let Msg::Progress { account: 1, details: Some(d), .. } = msg.expect("the pollers run") else {
            continue;
        };
        match d {
            DetailsProgress::Read { read, listed } => {
                assert!(read >= last_read, "details went back from {last_read} to {read} of {listed}");
                last_read = read;
                if read == listed && !storm {
                    // Every row read: now every answer carries status values nobody knows, so every list
                    // shows every row as changed.
                    sim.state.faults.write().unwrap().sesterce.unknown_values = 1.0;
                    storm = true;
                }
            }
            DetailsProgress::Backlog { waiting, listed } => {
                assert!(storm, "a backlog before the first pass ended");
                assert!(waiting >= 16 && waiting <= listed, "{waiting} of {listed}");
                assert_eq!(d.shown(), Some(format!("re-reading {waiting}")));
                break;
            }
        }
    }
}
