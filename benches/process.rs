//! The real binary in a pseudo-terminal (tmux, 200×50): idle CPU, peak memory and start-up time.
//!
//! - Idle: 60 s of the dashboard on 1,000 deployments refreshing every 2 s, CPU time from `/proc/PID/stat`.
//!   Measured twice at once: `--demo` (the simulator runs inside the dashboard's process, so its share is
//!   included) and the dashboard against a separate `infertop sim` process (the dashboard's own share; the
//!   simulator's is printed beside it).
//! - Memory: peak resident set (`VmHWM`) with 10,000 deployments, after the first load and a few refreshes,
//!   for `--demo` and for the dashboard alone; then, for the dashboard alone, again once every Sesterce row's
//!   details are read.
//! - Start: `--demo` to the first frame that shows every account loaded; the dashboard logs "first complete
//!   frame" once, and the log line's timestamp is compared with the time the process was spawned.
//!
//! Skipped (with a message, and no figures) when tmux is missing.

mod common;

use common::{Tmux, cpu_seconds, status_mb};

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_infertop");
const IDLE_SECONDS: u64 = 60;
const START_RUNS: usize = 7;

/// A separate `infertop sim`, killed on drop.
struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start(fleet: usize) -> Sim {
        let (child, url) = common::start_sim(&["--fleet", &fleet.to_string()]);
        Sim { child, url }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infertop-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The dashboard's command line, with its state (log) directory set.
fn dashboard(state_dir: &Path, args: &str) -> String {
    format!(
        "env XDG_STATE_HOME={} BENCH_GCORE_KEY={} BENCH_SESTERCE_KEY={} BENCH_RUNAI_SECRET={} {BIN} {args}",
        state_dir.display(),
        infertop::sim::DEMO_GCORE_KEY,
        infertop::sim::DEMO_SESTERCE_KEY,
        infertop::sim::DEMO_RUNAI_SECRET,
    )
}

/// The time of the dashboard's "first complete frame" log line, waiting up to `limit` for it.
fn first_complete_frame(state_dir: &Path, limit: Duration) -> Option<SystemTime> {
    log_line(state_dir, "first complete frame", limit)
}

/// The time of the first line of the dashboard's log that holds `text`, waiting up to `limit` for it.
fn log_line(state_dir: &Path, text: &str, limit: Duration) -> Option<SystemTime> {
    let log = state_dir.join("infertop").join("infertop.log");
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Ok(all) = std::fs::read_to_string(&log)
            && let Some(line) = all.lines().find(|l| l.contains(text))
        {
            let stamp = line.split_whitespace().next()?;
            let t = chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
            return Some(SystemTime::from(t.with_timezone(&chrono::Utc)));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn idle(tmux: &Tmux, summary: &mut common::Summary) {
    let sim = Sim::start(1_000);
    let dir_sep = scratch("idle-sep");
    let dir_demo = scratch("idle-demo");
    let cfg = common::config_for(&dir_sep, &sim.url);
    let sep =
        tmux.spawn("idle-sep", &dashboard(&dir_sep, &format!("--config {} --refresh 2", cfg.display())));
    let demo = tmux.spawn("idle-demo", &dashboard(&dir_demo, "--demo --fleet 1000 --refresh 2"));
    for d in [&dir_sep, &dir_demo] {
        first_complete_frame(d, Duration::from_secs(30)).expect("the dashboard loads its fleet");
    }
    // Idle means after the first details pass (333 Sesterce instances at 20 requests/s): until then the
    // dashboard is busy reading, not idle.
    for d in [&dir_sep, &dir_demo] {
        log_line(d, "details first pass complete", Duration::from_secs(120))
            .expect("the first details pass ends");
    }
    // Let the first load's allocations and the regions catalogs settle.
    std::thread::sleep(Duration::from_secs(3));
    let pids = [demo, sep, sim.pid()];
    let before = pids.map(cpu_seconds);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(IDLE_SECONDS));
    let after = pids.map(cpu_seconds);
    let secs = start.elapsed().as_secs_f64();
    let pct = |i: usize| (after[i] - before[i]) / secs * 100.0;
    println!("idle {secs:.1} s, 1000 deployments, refresh 2 s, 200x50:");
    summary.row("idle_cpu_demo_1000", pct(0), "% of one core");
    summary.row("idle_cpu_dashboard_1000", pct(1), "% of one core");
    summary.row("idle_cpu_separate_sim_1000", pct(2), "% of one core");
    tmux.kill("idle-sep");
    tmux.kill("idle-demo");
}

fn memory(tmux: &Tmux, summary: &mut common::Summary) {
    let sim = Sim::start(10_000);
    let dir_sep = scratch("mem-sep");
    let dir_demo = scratch("mem-demo");
    let cfg = common::config_for(&dir_sep, &sim.url);
    let sep = tmux.spawn("mem-sep", &dashboard(&dir_sep, &format!("--config {} --refresh 2", cfg.display())));
    let demo = tmux.spawn("mem-demo", &dashboard(&dir_demo, "--demo --fleet 10000 --refresh 2"));
    for d in [&dir_sep, &dir_demo] {
        first_complete_frame(d, Duration::from_secs(60)).expect("the dashboard loads its fleet");
    }
    // A few refreshes after the first load: the peak includes a refresh on top of a full table.
    std::thread::sleep(Duration::from_secs(8));
    println!("peak resident set, 10000 deployments:");
    summary.row("memory_peak_demo_10000", status_mb(demo, "VmHWM:"), "MB");
    summary.row("memory_peak_dashboard_10000", status_mb(sep, "VmHWM:"), "MB");
    summary.row("memory_peak_separate_sim_10000", status_mb(sim.pid(), "VmHWM:"), "MB");
    tmux.kill("mem-demo");
    // Every Sesterce row's details read (3,334 at 20 requests/s, about 170 s), and a few refreshes after: the
    // rows hold more than the list gives them.
    log_line(&dir_sep, "details first pass complete", Duration::from_secs(400))
        .expect("the first details pass ends");
    std::thread::sleep(Duration::from_secs(8));
    summary.row("memory_peak_dashboard_10000_all_details_read", status_mb(sep, "VmHWM:"), "MB");
    tmux.kill("mem-sep");
}

fn start(tmux: &Tmux, summary: &mut common::Summary) {
    let mut times = Vec::new();
    for i in 0..START_RUNS {
        let dir = scratch(&format!("start-{i}"));
        let name = format!("start-{i}");
        let spawned = SystemTime::now();
        tmux.spawn(&name, &dashboard(&dir, "--demo"));
        let at = first_complete_frame(&dir, Duration::from_secs(30)).expect("the demo loads");
        times.push(at.duration_since(spawned).unwrap_or_default().as_secs_f64() * 1e3);
        tmux.kill(&name);
        let _ = std::fs::remove_dir_all(&dir);
    }
    times.sort_by(f64::total_cmp);
    println!("start-up runs (ms): {times:.1?}");
    summary.row("start_demo_first_complete_frame_median", times[times.len() / 2], "ms");
}

fn main() {
    // `cargo bench -- NAME` passes a filter; this bench has no sub-benches to pick from, so it ignores it.
    let Some(tmux) = Tmux::new("bench") else {
        println!("process bench skipped: tmux is not available");
        return;
    };
    let mut summary = common::Summary::default();
    start(&tmux, &mut summary);
    memory(&tmux, &mut summary);
    idle(&tmux, &mut summary);
    summary.write("process");
    for name in ["idle-sep", "idle-demo", "mem-sep", "mem-demo"] {
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("infertop-bench-{}-{name}", std::process::id())),
        );
    }
}
