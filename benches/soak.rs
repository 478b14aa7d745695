//! Issue 26's soak, in minutes: the real dashboard (tmux, 200×50, default account limits: 20 requests/s, 16
//! in flight; default refresh, 5 s) against two `infertop sim --fleet N --faults flaky`, side by side.
//!
//! Phase 1, the first details pass: A under `flaky` throughout; B under `flaky` with `chaos` (the change
//! storm: unknown status values make every row read look changed and moving) from a quarter of the pass's
//! floor on, for 5 minutes of scenario time. Figures: each first pass (the dashboard's `details first pass
//! complete` log line), B's `details N/M` never going backwards (its status line sampled every 250 ms), each
//! dashboard's CPU during the storm (both reading at full rate), their resident sets.
//!
//! Phase 2, at rest after the pass: a storm on A (5 minutes, scenario time); its resident set before, at the end
//! and 5 minutes (scenario) after; its CPU during the storm beside B's under `flaky` alone. Then 429s on every
//! request to A for 10 s, and the time, once they stop, until A's status line no longer shows a lowered rate
//! (`x/20 req/s`).
//!
//! Then, in this process, against an in-process simulator under `chaos` with a details sweep and a change
//! storm under way at the default limits: how long an edit's first read (the user's lane) and a row brought
//! into view wait, and how many requests reach the simulator between the ask and theirs.
//!
//! `cargo bench --bench soak -- [--fleet N] [--time-scale K]`: N deployments (default 1,000: a third of them
//! Sesterce's, each one details read); K compresses the scenario's durations (the storm's length, the waits
//! after it) and is passed to the simulators' `--time-scale`. The default K is 10,000 / N: the first pass
//! takes time in proportion to the fleet, so its figures scale to the 10,000 by K. The rate's
//! recovery is the client's own clock and is not scaled.

mod common;

use common::{Tmux, cpu_seconds, status_mb};

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_infertop");
/// The default limits: what the first pass's floor is computed from.
const RATE: f64 = 20.0;
/// `flaky`: 15 % 5xx, 10 % 429.
const SUCCESS_SHARE: f64 = 0.75;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sim(fleet: usize, scale: f64) -> (Proc, String) {
    let (fleet, scale) = (fleet.to_string(), scale.to_string());
    let (child, url) = common::start_sim(&["--fleet", &fleet, "--faults", "flaky", "--time-scale", &scale]);
    (Proc(child), url)
}

fn set_faults(url: &str, body: serde_json::Value) {
    let r = reqwest::blocking::Client::new().post(format!("{url}/_sim/faults")).json(&body).send().unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

fn dashboard(dir: &Path, url: &str) -> String {
    let cfg = common::config_for(dir, url);
    format!(
        "env XDG_STATE_HOME={} BENCH_GCORE_KEY={} BENCH_SESTERCE_KEY={} BENCH_RUNAI_SECRET={} {BIN} --config {}",
        dir.display(),
        infertop::sim::DEMO_GCORE_KEY,
        infertop::sim::DEMO_SESTERCE_KEY,
        infertop::sim::DEMO_RUNAI_SECRET,
        cfg.display()
    )
}

/// Whether the dashboard's log has said `text` yet, reading only what was added since the last look.
struct LogWatch {
    path: PathBuf,
    pos: u64,
    found: bool,
}

impl LogWatch {
    fn new(dir: &Path) -> LogWatch {
        LogWatch { path: dir.join("infertop").join("infertop.log"), pos: 0, found: false }
    }

    fn has(&mut self, text: &str) -> bool {
        use std::io::{Read, Seek};
        if self.found {
            return true;
        }
        let Ok(mut f) = std::fs::File::open(&self.path) else { return false };
        // Back a little, in case the text was cut by the last read.
        let from = self.pos.saturating_sub(200);
        if f.seek(std::io::SeekFrom::Start(from)).is_err() {
            return false;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_ok() {
            self.pos = from + buf.len() as u64;
            self.found = String::from_utf8_lossy(&buf).contains(text);
        }
        self.found
    }
}

/// The Sesterce account's `details N/M` on a screen, if shown.
fn details(screen: &str) -> Option<(usize, usize)> {
    let at = screen.find("sesterce-demo")?;
    let rest = &screen[at..];
    let rest = &rest[..rest.find('│').unwrap_or(rest.len())];
    let d = rest.split("details ").nth(1)?;
    let (n, m) = d.split_whitespace().next()?.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infertop-soak-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Args {
    fleet: usize,
    scale: f64,
}

fn args() -> Args {
    let mut a = Args { fleet: 1_000, scale: 0.0 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--fleet" => a.fleet = it.next().and_then(|v| v.parse().ok()).expect("--fleet N"),
            "--time-scale" => a.scale = it.next().and_then(|v| v.parse().ok()).expect("--time-scale K"),
            // `cargo bench` adds `--bench`; a name filter is ignored.
            _ => {}
        }
    }
    if a.scale <= 0.0 {
        a.scale = 10_000.0 / a.fleet as f64;
    }
    a
}

fn main() {
    let a = args();
    let Some(tmux) = Tmux::new("soak") else {
        println!("soak bench skipped: tmux is not available");
        return;
    };
    let mut summary = common::Summary::default();
    let scaled = |scenario_s: f64| Duration::from_secs_f64(scenario_s / a.scale);
    let sesterce = a.fleet.div_ceil(3);
    let floor = sesterce as f64 / (RATE * SUCCESS_SHARE);
    println!(
        "soak: --fleet {} ({sesterce} Sesterce rows) --time-scale {}; first pass floor N/(rate × success share) = {floor:.1} s",
        a.fleet, a.scale
    );
    let (_sim_a, url_a) = sim(a.fleet, a.scale);
    let (_sim_b, url_b) = sim(a.fleet, a.scale);
    let (dir_a, dir_b) = (scratch("a"), scratch("b"));
    let started = Instant::now();
    let pid_a = tmux.spawn("a", &dashboard(&dir_a, &url_a));
    let pid_b = tmux.spawn("b", &dashboard(&dir_b, &url_b));
    // The storm: from a quarter of the floor (at 10,000: about a minute in), 5 minutes of scenario time.
    let storm_at = Duration::from_secs_f64(floor / 4.0);
    let storm_len = scaled(300.0);
    let after_wait = scaled(300.0);
    let (mut done_a, mut done_b) = (None, None);
    let (mut log_a, mut log_b) = (LogWatch::new(&dir_a), LogWatch::new(&dir_b));
    let mut seen: Vec<(f64, usize, usize)> = Vec::new();
    let mut backwards = Vec::new();
    let (mut storm, mut storm_end) = (None::<(f64, f64, f64, f64)>, None::<Instant>);
    let mut cpu = None;
    let limit = Duration::from_secs_f64(floor * 6.0 + 600.0);
    // Phase 1, the first pass: A under `flaky`, B with the storm in the middle of its pass.
    while done_a.is_none() || done_b.is_none() || storm_end.is_none() {
        assert!(started.elapsed() < limit, "the soak ran past {limit:?}");
        let t = started.elapsed();
        if storm.is_none() && t >= storm_at {
            set_faults(&url_b, serde_json::json!({"profile": "chaos"}));
            let s = (
                cpu_seconds(pid_a),
                cpu_seconds(pid_b),
                status_mb(pid_a, "VmRSS:"),
                status_mb(pid_b, "VmRSS:"),
            );
            println!("{:6.1} s: chaos on B; RSS A {:.1} MB, B {:.1} MB", t.as_secs_f64(), s.2, s.3);
            storm = Some(s);
        }
        if let Some((ca, cb, _, _)) = storm
            && storm_end.is_none()
            && t >= storm_at + storm_len
        {
            set_faults(&url_b, serde_json::json!({"profile": "flaky"}));
            let secs = storm_len.as_secs_f64();
            cpu = Some(((cpu_seconds(pid_a) - ca) / secs * 100.0, (cpu_seconds(pid_b) - cb) / secs * 100.0));
            storm_end = Some(Instant::now());
            println!(
                "{:6.1} s: chaos off B (back to flaky); RSS A {:.1} MB, B {:.1} MB",
                t.as_secs_f64(),
                status_mb(pid_a, "VmRSS:"),
                status_mb(pid_b, "VmRSS:")
            );
        }
        if done_a.is_none() && log_a.has("details first pass complete") {
            done_a = Some(t.as_secs_f64());
            println!("{:6.1} s: A's first pass complete", t.as_secs_f64());
        }
        if done_b.is_none() {
            if let Some((n, m)) = details(&tmux.screen("b")) {
                if let Some(&(at, before, _)) = seen.last()
                    && n < before
                {
                    backwards.push((at, before, t.as_secs_f64(), n));
                }
                seen.push((t.as_secs_f64(), n, m));
            }
            if log_b.has("details first pass complete") {
                done_b = Some(t.as_secs_f64());
                println!("{:6.1} s: B's first pass complete", t.as_secs_f64());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let (done_a, done_b) = (done_a.unwrap(), done_b.unwrap());
    let (cpu_a, cpu_b) = cpu.unwrap();
    let (_, _, rss_a_mid, rss_b_mid) = storm.unwrap();
    let (rss_a_end, rss_b_end) = (status_mb(pid_a, "VmRSS:"), status_mb(pid_b, "VmRSS:"));
    // Phase 2, at rest after the pass: a storm on A; its resident set before and 5 minutes (scenario) after.
    std::thread::sleep(scaled(60.0));
    let rss_before = status_mb(pid_a, "VmRSS:");
    let (ca, cb) = (cpu_seconds(pid_a), cpu_seconds(pid_b));
    set_faults(&url_a, serde_json::json!({"profile": "chaos"}));
    std::thread::sleep(storm_len);
    set_faults(&url_a, serde_json::json!({"profile": "flaky"}));
    let secs = storm_len.as_secs_f64();
    let (cpu_rest_a, cpu_rest_b) =
        ((cpu_seconds(pid_a) - ca) / secs * 100.0, (cpu_seconds(pid_b) - cb) / secs * 100.0);
    let rss_storm_end = status_mb(pid_a, "VmRSS:");
    std::thread::sleep(after_wait);
    let rss_after = status_mb(pid_a, "VmRSS:");
    let k = a.scale;
    println!(
        "figures as measured at --fleet {}, and ×{k} (the 10,000 of the issue) where they scale:",
        a.fleet
    );
    summary.row("soak_first_pass_flaky", done_a, "s");
    summary.row("soak_first_pass_flaky_scaled", done_a * k, "s");
    summary.row("soak_first_pass_floor_scaled", floor * k, "s");
    summary.row("soak_first_pass_flaky_over_floor", done_a / floor, "×");
    summary.row("soak_first_pass_with_storm", done_b, "s");
    summary.row("soak_first_pass_with_storm_scaled", done_b * k, "s");
    summary.row("soak_first_pass_storm_later_scaled", (done_b - done_a) * k, "s");
    summary.row("soak_progress_samples", seen.len() as f64, "");
    summary.row("soak_progress_backwards", backwards.len() as f64, "");
    for (t0, n0, t1, n1) in &backwards {
        println!("  details went back from {n0} at {t0:.2} s to {n1} at {t1:.2} s");
    }
    summary.row("soak_pass_cpu_storm_b", cpu_b, "% of one core");
    summary.row("soak_pass_cpu_flaky_a_same_time", cpu_a, "% of one core");
    summary.row("soak_pass_cpu_storm_over_flaky", cpu_b / cpu_a, "×");
    summary.row("soak_pass_rss_b_storm_start", rss_b_mid, "MB");
    summary.row("soak_pass_rss_a_storm_start", rss_a_mid, "MB");
    summary.row("soak_pass_rss_b_end", rss_b_end, "MB");
    summary.row("soak_pass_rss_a_end", rss_a_end, "MB");
    summary.row("soak_rest_cpu_storm_a", cpu_rest_a, "% of one core");
    summary.row("soak_rest_cpu_flaky_b_same_time", cpu_rest_b, "% of one core");
    summary.row("soak_rest_rss_a_before_storm", rss_before, "MB");
    summary.row("soak_rest_rss_a_storm_end", rss_storm_end, "MB");
    summary.row("soak_rest_rss_a_after_storm", rss_after, "MB");
    summary.row("soak_rest_rss_after_over_before", rss_after / rss_before, "×");
    summary.row("soak_rss_peak_a", status_mb(pid_a, "VmHWM:"), "MB");
    summary.row("soak_rss_peak_b", status_mb(pid_b, "VmHWM:"), "MB");

    // A spell of 429s on every request to A (too fast, as far as the client can tell), then none.
    let all = serde_json::json!({"rate_limit": 1.0});
    set_faults(&url_a, serde_json::json!({"gcore": all, "sesterce": all, "runai": all, "retry_after": 1}));
    let spell = Instant::now();
    let slowed = loop {
        let s = tmux.screen("a");
        if s.contains(" req/s") {
            break true;
        }
        if spell.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(10));
    let low = tmux.screen("a").lines().find(|l| l.contains("req/s")).map(str::to_string);
    set_faults(&url_a, serde_json::json!({"profile": "none"}));
    let spell = spell.elapsed().as_secs_f64();
    let stopped = Instant::now();
    let back = loop {
        if !tmux.screen("a").contains(" req/s") {
            break stopped.elapsed().as_secs_f64();
        }
        assert!(stopped.elapsed() < Duration::from_secs(300), "the rate never came back");
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("429s on every request for {spell:.0} s: rate lowered on screen: {slowed}; {low:?}");
    summary.row("soak_rate_back_after_429s_stop", back, "s");
    drop(tmux);

    lanes(a.fleet, &mut summary);
    summary.write("soak");
    for d in [dir_a, dir_b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// An edit's read and a row brought into view, during a change storm with a saturated sweep, in-process.
fn lanes(fleet: usize, summary: &mut common::Summary) {
    use infertop::model::{DeploymentKey, ProviderKind};
    use infertop::provider::http::{Lane, RateLimit, build_client, in_lane};
    use infertop::provider::{self, AccountSpec};
    use infertop::sim::{self, SimConfig};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config =
            SimConfig { fleet: Some(fleet), latency: Duration::from_millis(20), ..SimConfig::default() };
        let h = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = build_client(Duration::from_secs(5), Duration::from_secs(20));
        let providers: Vec<std::sync::Arc<dyn provider::Provider>> = provider::demo_accounts(&h.base_url())
            .into_iter()
            .map(|a| AccountSpec { rate_limit: RateLimit::default(), max_in_flight: 16, ..a })
            .map(|a| provider::connect(&a, client.clone()))
            .collect();
        let p = providers[1].clone();
        let ids: Vec<String> =
            p.list_summaries().await.unwrap().unwrap().items.into_iter().map(|l| l.dep.key.id).collect();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
        let sync = infertop::sync::Sync::spawn(providers.clone(), tx, Duration::from_secs(1), None);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        // Let the sweep fill its slots and read a tenth, then the storm: every list says every row changed.
        tokio::time::sleep(Duration::from_secs_f64(ids.len() as f64 / 10.0 / RATE)).await;
        *h.state.faults.write().unwrap() = sim::faults::FaultConfig::profile("chaos").unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let key = |id: &str| DeploymentKey {
            provider: ProviderKind::Sesterce,
            account: "sesterce-demo".into(),
            id: id.into(),
        };
        let (mut user, mut eyes) = (Vec::new(), Vec::new());
        for i in 0..20 {
            // An edit's first read, in the user's lane.
            let id = &ids[(i * 37) % ids.len()];
            let mark = h.state.traffic.log().len();
            let t = Instant::now();
            let _ = in_lane(Lane::User, p.get(id)).await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            let ahead = h.state.traffic.log()[mark..]
                .iter()
                .position(|l| l.ends_with(&format!("/instances/{id}")))
                .unwrap_or(usize::MAX);
            user.push((ms, ahead));
            // A row brought into view that was never asked for (from the end of the list, which the sweep
            // reaches last): it has to be read. One the sweep has asked for may wait in its queue.
            let log = h.state.traffic.log();
            let Some(id) =
                ids.iter().rev().find(|id| !log.iter().any(|l| l.ends_with(&format!("/instances/{id}"))))
            else {
                break;
            };
            let mark = log.len();
            let t = Instant::now();
            sync.eyes(vec![key(id)]);
            let want = format!("GET /ai-inference/instances/{id}");
            let ahead = loop {
                let log = h.state.traffic.log();
                if let Some(at) = log[mark.min(log.len())..].iter().position(|l| *l == want) {
                    break at;
                }
                assert!(t.elapsed() < Duration::from_secs(30), "the row in view was never read");
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            eyes.push((t.elapsed().as_secs_f64() * 1000.0, ahead));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for (name, mut v) in [("user_read", user), ("row_in_view", eyes)] {
            if v.is_empty() {
                continue;
            }
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            summary.row(&format!("soak_storm_{name}_wait_median"), v[v.len() / 2].0, "ms");
            summary.row(&format!("soak_storm_{name}_wait_max"), v[v.len() - 1].0, "ms");
            let most = v.iter().map(|x| x.1).max().unwrap_or(0);
            let mut ahead: Vec<usize> = v.iter().map(|x| x.1).collect();
            ahead.sort();
            summary.row(
                &format!("soak_storm_{name}_requests_ahead_median"),
                ahead[ahead.len() / 2] as f64,
                "",
            );
            summary.row(&format!("soak_storm_{name}_requests_ahead_max"), most as f64, "");
        }
        summary.row("soak_storm_token_interval", 1000.0 / RATE, "ms");
        drop(sync);
        drain.abort();
    });
}
