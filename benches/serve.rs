//! `infertop serve` at 10,000 deployments: scrape time (the whole body read and, for gzip, decoded; Prometheus
//! text and OpenMetrics, gzip as Prometheus asks for it and plain) and the resident set of the `serve` process
//! (after the first load, and its peak, sampled every 20 ms to say when it was reached), against a separate
//! `infertop sim --fleet 10000`.
//!
//! The accounts keep their default limits (20 requests per second): the first full load waits on Sesterce's
//! one details read per instance, a few minutes. Figures go to `target/bench-summary.json` (see `common`).

mod common;

use common::status_mb;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_infertop");
const FLEET: usize = 10_000;
const SCRAPES: usize = 30;
/// How long the first full load may take (3,334 Sesterce details at 20 per second is under 3 minutes).
const LOAD_LIMIT: Duration = Duration::from_secs(480);

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and returns it with the URL its first line (`listening on URL ...`) names.
fn start(mut cmd: Command, stderr: Stdio) -> (Proc, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .strip_prefix("listening on ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    (Proc(child), url)
}

/// Wall time of one scrape, the body read to its end (and decoded when gzip); the bytes sent, and the body.
fn scrape(
    http: &reqwest::blocking::Client,
    url: &str,
    openmetrics: bool,
    gzip: bool,
) -> (f64, usize, String) {
    let mut req = http.get(format!("{url}/metrics"));
    if openmetrics {
        req = req.header("Accept", "application/openmetrics-text;version=1.0.0");
    }
    if gzip {
        req = req.header("Accept-Encoding", "gzip");
    }
    let t = Instant::now();
    let resp = req.send().unwrap();
    let encoded = resp.headers().get("content-encoding").is_some_and(|v| v == "gzip");
    assert_eq!(encoded, gzip);
    let raw = resp.bytes().unwrap();
    let body = if gzip {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_string(&mut text).unwrap();
        text
    } else {
        String::from_utf8(raw.to_vec()).unwrap()
    };
    (t.elapsed().as_secs_f64() * 1000.0, raw.len(), body)
}

/// The size of `gzip -6` of `text` (None when there is no `gzip`).
fn gzip_6(text: &str) -> Option<usize> {
    use std::io::Write;
    let mut child =
        Command::new("gzip").args(["-6", "-c"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().ok()?;
    let mut stdin = child.stdin.take()?;
    let text = text.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    Some(out.stdout.len())
}

/// Samples the resident set every 20 ms until `stop`; prints each new high with the time since `started`.
fn watch_rss(pid: u32, started: Instant, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(f64, f64)> {
    std::thread::spawn(move || {
        let (mut high, mut at) = (0.0, 0.0);
        while !stop.load(Ordering::Relaxed) {
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { break };
            let rss = common::status_field_mb(&status, "VmRSS:").unwrap_or(0.0);
            if rss > high + 0.5 {
                high = rss;
                at = started.elapsed().as_secs_f64();
                println!("  rss {high:6.1} MB at {at:5.1} s ({})", chrono::Utc::now().format("%H:%M:%S%.3f"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (high, at)
    })
}

fn main() {
    let dir = std::env::temp_dir().join(format!("infertop-bench-{}-serve", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut sim = Command::new(BIN);
    sim.args(["sim", "--fleet", &FLEET.to_string(), "--listen", "127.0.0.1:0"]);
    let (_sim, sim_url) = start(sim, Stdio::null());
    let cfg = common::config_for(&dir, &sim_url);
    let mut serve = Command::new(BIN);
    serve
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--config")
        .arg(&cfg)
        .env("XDG_STATE_HOME", &dir)
        .env("BENCH_GCORE_KEY", infertop::sim::DEMO_GCORE_KEY)
        .env("BENCH_SESTERCE_KEY", infertop::sim::DEMO_SESTERCE_KEY)
        .env("BENCH_RUNAI_SECRET", infertop::sim::DEMO_RUNAI_SECRET);
    // Its log says when and how long it encoded the per-deployment families.
    let log = dir.join("serve.log");
    serve.env("INFERTOP_LOG", "infertop::serve=debug");
    let (serve, url) = start(serve, Stdio::from(std::fs::File::create(&log).unwrap()));
    let pid = serve.0.id();
    let http =
        reqwest::blocking::Client::builder().no_gzip().timeout(Duration::from_secs(30)).build().unwrap();

    // Until every deployment is in the exposition.
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_rss(pid, started, stop.clone());
    // Every deployment listed, and the per-region series no longer growing: Sesterce's rows get theirs from
    // the details reads that follow its list (one per instance at the account's rate, a few minutes).
    let mut regions_before = 0;
    let loaded = loop {
        let (_, _, body) = scrape(&http, &url, false, true);
        let n = body.lines().filter(|l| l.starts_with("infertop_deployment_info{")).count();
        let regions = body.lines().filter(|l| l.starts_with("infertop_replicas_ready{")).count();
        let settled = regions > 0 && regions == std::mem::replace(&mut regions_before, regions);
        if n >= FLEET && settled {
            let at = started.elapsed().as_secs_f64();
            println!("all {n} deployments exposed, {regions} per-region series, after {at:.0} s");
            break at;
        }
        assert!(started.elapsed() < LOAD_LIMIT, "only {n} of {FLEET} deployments after {LOAD_LIMIT:?}");
        std::thread::sleep(Duration::from_secs(5));
    };
    // A few refreshes on top of the full state (and the Run:ai metrics walk under way).
    std::thread::sleep(Duration::from_secs(20));
    println!("  rss {:.1} MB after the first load and 20 s of refreshes", status_mb(pid, "VmRSS:"));

    let mut summary = common::Summary::default();
    for openmetrics in [false, true] {
        for gzip in [true, false] {
            let before = status_mb(pid, "VmRSS:");
            let mut times = Vec::new();
            let mut sent = 0;
            let mut text = 0;
            for _ in 0..SCRAPES {
                let (ms, bytes, body) = scrape(&http, &url, openmetrics, gzip);
                times.push(ms);
                (sent, text) = (bytes, body.len());
            }
            times.sort_by(f64::total_cmp);
            let format = if openmetrics { "openmetrics" } else { "text" };
            let format = if gzip { format!("{format}_gzip") } else { format.to_string() };
            summary.row(&format!("serve_scrape_{format}_10000_median"), times[SCRAPES / 2], "ms");
            summary.row(&format!("serve_scrape_{format}_10000_max"), times[SCRAPES - 1], "ms");
            summary.row(&format!("serve_scrape_{format}_10000_bytes_sent"), sent as f64, "B");
            if !gzip {
                summary.row(&format!("serve_scrape_{format}_10000_bytes"), text as f64, "B");
                // What `gzip -6` makes of the same text: the gzip answer is to be within 10 % of it.
                let (_, _, body) = scrape(&http, &url, openmetrics, false);
                if let Some(n) = gzip_6(&body) {
                    summary.row(&format!("serve_scrape_{format}_10000_gzip6_bytes"), n as f64, "B");
                }
            }
            println!("  rss {before:.1} MB before these scrapes, {:.1} MB after", status_mb(pid, "VmRSS:"));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (_, peak_at) = watcher.join().unwrap();
    summary.row("serve_first_load_10000", loaded, "s");
    summary.row("serve_rss_peak_at_10000", peak_at, "s");
    summary.row("serve_rss_10000", status_mb(pid, "VmRSS:"), "MB");
    summary.row("serve_rss_peak_10000", status_mb(pid, "VmHWM:"), "MB");
    let encodings: Vec<f64> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("per-deployment metrics encoded"))
        .filter_map(|l| {
            // The log's colours go first: `ESC [ ... m`.
            let plain = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap().replace_all(l, "").into_owned();
            plain.split(" ms=").nth(1)?.split_whitespace().next()?.parse().ok()
        })
        .collect();
    let mut sorted = encodings.clone();
    sorted.sort_by(f64::total_cmp);
    summary.row("serve_encodings_10000", encodings.len() as f64, "");
    if let (Some(mid), Some(max)) = (sorted.get(sorted.len() / 2), sorted.last()) {
        summary.row("serve_encoding_10000_median", *mid, "ms");
        summary.row("serve_encoding_10000_max", *max, "ms");
    }
    summary.write("serve");
    // Kept to read the encodings against the resident set's highs.
    let _ = std::fs::copy(&log, common::target_dir().join("bench-serve.log"));
    let _ = std::fs::remove_dir_all(&dir);
}
