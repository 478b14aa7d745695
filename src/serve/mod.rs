//! `infertop serve`: the dashboard's accounts and polling, headless, as Prometheus metrics.
//!
//! The same engine as the dashboard: [`Sync`]'s pollers send [`Msg`]s, [`update`] applies them to a [`State`];
//! instead of drawing it, `GET /metrics` answers it: the per-deployment families encoded once per change and
//! kept deflated ([`cache`]), the small per-account and request ones fresh. Run:ai's latest metrics come from
//! the detail poller, which is pointed at each Run:ai deployment in turn.

pub mod api;
pub mod cache;
pub mod exposition;

use crate::app::{AccountState, Msg, State, Watch, update};
use crate::cli::Cli;
use crate::config;
use crate::model::DeploymentKey;
use crate::provider::{self, Provider};
use crate::sync::Sync;
use api::{ApiMetrics, Instrumented};
use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use cache::Packed;
use color_eyre::eyre::{Result, eyre};
use exposition::{AccountCollector, Part, PartCollector, Shared};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;

pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The shortest time between two walks over the Run:ai deployments for their metrics.
pub const METRICS_EVERY: Duration = Duration::from_secs(30);

/// What `serve` exposes: the per-deployment families, in parts each cached apart (see [`cache`] and
/// [`exposition::Part`]), then the per-account and request families (fresh at every scrape).
pub struct Exporter {
    shared: Shared,
    /// Each part's registry, and the fingerprint of the state it last encoded.
    parts: [(Part, Registry, Arc<AtomicU64>); 2],
    live: Registry,
    /// The packed parts, Prometheus text and OpenMetrics (`[part][openmetrics]`). The lock is held while one
    /// is encoded: a second scrape waits for that encoding rather than doing its own.
    packed: Mutex<[[Option<Arc<Packed>>; 2]; 2]>,
    encodings: [AtomicUsize; 2],
    /// When the last scrape came.
    last_scrape: Mutex<Option<std::time::Instant>>,
}

/// A scrape's answer: its length and pieces, compressed or not.
pub struct Scrape {
    pub len: u64,
    pub gzip: bool,
    pub pieces: Box<dyn Iterator<Item = std::io::Result<Bytes>> + Send>,
}

impl Exporter {
    pub fn new(shared: Shared, api: &ApiMetrics) -> Exporter {
        let parts = Part::ALL.map(|part| {
            let encoded = Arc::new(AtomicU64::new(0));
            let mut registry = Registry::default();
            registry.register_collector(Box::new(PartCollector {
                part,
                shared: shared.clone(),
                encoded: encoded.clone(),
            }));
            (part, registry, encoded)
        });
        let mut live = Registry::default();
        live.register_collector(Box::new(AccountCollector(shared.clone())));
        api.register(&mut live);
        Exporter {
            shared,
            parts,
            live,
            packed: Mutex::new([[None, None], [None, None]]),
            encodings: [AtomicUsize::new(0), AtomicUsize::new(0)],
            last_scrape: Mutex::new(None),
        }
    }

    /// The exposition as OpenMetrics text, or as Prometheus text (0.0.4); with its content type. Encoded
    /// whole, without the cache.
    pub fn render(&self, openmetrics: bool) -> Result<(&'static str, String), std::fmt::Error> {
        let mut out = String::new();
        self.write(openmetrics, &mut out)?;
        Ok((content_type(openmetrics), out))
    }

    /// Writes the exposition to `out` (see [`Exporter::render`]).
    pub fn write(&self, openmetrics: bool, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        for (_, registry, _) in &self.parts {
            write_registry(registry, openmetrics, out)?;
        }
        self.write_live(openmetrics, out)
    }

    /// The per-account and request families, and the end of the exposition.
    fn write_live(&self, openmetrics: bool, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        write_registry(&self.live, openmetrics, out)?;
        if openmetrics {
            prometheus_client::encoding::text::encode_eof(out)?;
        }
        Ok(())
    }

    /// Part `i` of the current state, packed: the cached one while the state's fingerprint for that part is
    /// the one it was encoded from, else encoded again. Blocks (the state's lock, and tens of milliseconds of
    /// encoding at 10,000 deployments): for a thread of its own.
    fn packed(&self, i: usize, openmetrics: bool) -> Result<Arc<Packed>, std::fmt::Error> {
        let (part, registry, encoded) = &self.parts[i];
        let mut packed = self.packed.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut packed[i][usize::from(openmetrics)];
        let now = part.fingerprint(&self.shared.lock());
        if let Some(p) = slot.as_ref().filter(|p| p.fingerprint == now) {
            return Ok(p.clone());
        }
        // The old one is not needed while the new one is built.
        *slot = None;
        let started = std::time::Instant::now();
        let out = cache::deflated(|w| write_registry(registry, openmetrics, w))?;
        let p = Arc::new(out.sync(encoded.load(Ordering::Acquire)).map_err(|_| std::fmt::Error)?);
        self.encodings[i].fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            part = ?part,
            openmetrics,
            text_bytes = p.text_len(),
            packed_bytes = p.size(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "per-deployment metrics encoded"
        );
        *slot = Some(p.clone());
        drop(packed);
        if *part == Part::Fleet {
            trim_heap();
        }
        Ok(p)
    }

    /// Encodes again the parts that changed, in the formats scraped so far, when a scrape came within
    /// `within`: the next scrape then finds them ready. Blocks, as a scrape does. Returns whether anything was
    /// encoded.
    pub fn repack(&self, within: Duration) -> bool {
        let recent = self
            .last_scrape
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|t| t.elapsed() < within);
        if !recent {
            return false;
        }
        let before = self.encodings(Part::Fleet) + self.encodings(Part::Runai);
        for i in 0..self.parts.len() {
            for openmetrics in [false, true] {
                let cached = self.packed.lock().unwrap_or_else(PoisonError::into_inner)[i]
                    [usize::from(openmetrics)]
                .is_some();
                if cached {
                    let _ = self.packed(i, openmetrics);
                }
            }
        }
        self.encodings(Part::Fleet) + self.encodings(Part::Runai) != before
    }

    /// How many times `part` was encoded.
    pub fn encodings(&self, part: Part) -> usize {
        let i = Part::ALL.iter().position(|p| *p == part).unwrap_or(0);
        self.encodings[i].load(Ordering::Relaxed)
    }

    /// A scrape's answer: the packed parts and fresh per-account and request families, gzipped or plain.
    pub fn scrape(&self, openmetrics: bool, gzip: bool) -> Result<Scrape, std::fmt::Error> {
        *self.last_scrape.lock().unwrap_or_else(PoisonError::into_inner) = Some(std::time::Instant::now());
        let parts =
            (0..self.parts.len()).map(|i| self.packed(i, openmetrics)).collect::<Result<Vec<_>, _>>()?;
        let mut tail = String::new();
        self.write_live(openmetrics, &mut tail)?;
        if gzip {
            let pieces = cache::gzip(&parts, &tail).map_err(|_| std::fmt::Error)?;
            let len = pieces.iter().map(|p| p.len() as u64).sum();
            return Ok(Scrape { len, gzip, pieces: Box::new(pieces.into_iter().map(Ok)) });
        }
        let (len, pieces) = cache::plain(&parts, tail);
        Ok(Scrape { len, gzip, pieces: Box::new(pieces) })
    }
}

fn write_registry(
    registry: &Registry,
    openmetrics: bool,
    out: &mut impl std::fmt::Write,
) -> std::fmt::Result {
    if openmetrics {
        prometheus_client::encoding::text::encode_registry(out, registry)
    } else {
        prometheus_client::encoding::prometheus_text::encode(out, registry)
    }
}

pub fn content_type(openmetrics: bool) -> &'static str {
    if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE
    }
}

/// Whether an `Accept` header asks for OpenMetrics (Prometheus sends it first when it prefers it).
pub fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().to_ascii_lowercase().starts_with("application/openmetrics-text"))
}

pub fn router(exporter: Arc<Exporter>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(exporter)
}

async fn metrics(Extract(exporter): Extract<Arc<Exporter>>, headers: HeaderMap) -> Response {
    let openmetrics = wants_openmetrics(&headers);
    let gzip = cache::accepts_gzip(&headers);
    // The state's lock and, after a change, the encoding: off the runtime's threads.
    let scrape = tokio::task::spawn_blocking(move || exporter.scrape(openmetrics, gzip)).await;
    let Ok(Ok(scrape)) = scrape else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "encoding the metrics failed\n").into_response();
    };
    let mut response = Body::from_stream(futures::stream::iter(scrape.pieces)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(openmetrics)));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(scrape.len));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if scrape.gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// How often [`keep_packed`] looks for a change of the fleet.
const REPACK_EVERY: Duration = Duration::from_secs(1);
/// How long after the last scrape [`keep_packed`] keeps encoding ahead (Prometheus' default interval is a
/// minute).
const REPACK_WHILE_SCRAPED_WITHIN: Duration = Duration::from_secs(300);

/// Encodes the per-deployment families soon after the fleet changes, so that a scrape finds them ready
/// instead of waiting tens of milliseconds at 10,000 deployments. A scrape that comes first encodes them
/// itself: what it answers is never older than the state. Encoding ahead takes at most half of one core.
async fn keep_packed(exporter: Arc<Exporter>) {
    loop {
        let ex = exporter.clone();
        let started = tokio::time::Instant::now();
        let encoded = tokio::task::spawn_blocking(move || ex.repack(REPACK_WHILE_SCRAPED_WITHIN)).await;
        let spent = if encoded.unwrap_or(false) { started.elapsed() } else { Duration::ZERO };
        tokio::time::sleep(REPACK_EVERY.max(spent)).await;
    }
}

/// Refuses an address that is not loopback unless the user said `--listen-public`.
pub fn check_listen(listen: SocketAddr, public: bool) -> Result<()> {
    if listen.ip().is_loopback() || public {
        return Ok(());
    }
    Err(eyre!(
        "{listen} is not a loopback address: the metrics name every deployment, image and hardware of your \
         accounts to whoever can reach it. Pass --listen-public as well to serve them there, or listen on \
         127.0.0.1"
    ))
}

/// The accounts' providers, each instrumented so its requests are counted.
fn providers(
    cli: &Cli,
    cfg: &config::Config,
    accounts: &[provider::AccountSpec],
) -> Result<Vec<Arc<dyn Provider>>> {
    api::install_observer();
    let client = crate::run::client(cli, cfg)?;
    for name in config::plain_http_accounts(accounts) {
        eprintln!("infertop: warning: account {name} talks plain http to a host that is not loopback");
    }
    Ok(accounts.iter().map(|a| provider::connect(a, client.clone())).collect())
}

/// `infertop serve`: prints `listening on http://ADDR` first, then serves until SIGINT or SIGTERM.
pub async fn serve(cli: &Cli, listen: SocketAddr, public: bool, refresh: Option<f64>) -> Result<()> {
    check_listen(listen, public)?;
    one_malloc_arena();
    let cfg = crate::run::load_config(cli)?;
    let (accounts, _sim) = crate::run::accounts(cli, &cfg).await?;
    let refresh = Duration::from_secs_f64(
        refresh.or(cli.refresh).or(cfg.refresh_seconds).unwrap_or(5.0).clamp(0.5, 3600.0),
    );
    let metrics = ApiMetrics::default();
    let providers: Vec<_> =
        providers(cli, &cfg, &accounts)?.into_iter().map(|p| Instrumented::wrap(p, &metrics)).collect();
    let states = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let shared = Shared::new(State::new(states, refresh, chrono::Utc::now()));
    let exporter = Arc::new(Exporter::new(shared.clone(), &metrics));

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| eyre!("cannot listen on {listen}: {e} (pick another address with --listen)"))?;
    let addr = listener.local_addr()?;
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on http://{addr} (GET /metrics, GET /healthz)");
        if !addr.ip().is_loopback() {
            let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
            let _ = writeln!(
                out,
                "exposing to the network: the names, status, hardware, images, replicas and prices of every \
                 deployment of the accounts {}; the names are printed as each account is first read",
                names.join(", ")
            );
        }
        let _ = out.flush();
    }

    let (tx, rx) = mpsc::channel(1024);
    let sync = Sync::spawn(providers, tx, refresh, None);
    let engine = tokio::spawn(engine(shared, rx, sync, refresh, !addr.ip().is_loopback()));
    let repacker = tokio::spawn(keep_packed(exporter.clone()));
    let server = axum::serve(listener, router(exporter)).with_graceful_shutdown(shutdown_signal());
    let result = server.await;
    engine.abort();
    repacker.abort();
    result.map_err(|e| eyre!("serving metrics failed: {e}"))
}

/// A long-running `serve` allocates on the runtime's thread and on the scrapes' blocking threads; glibc gives
/// each thread an arena of its own and keeps what they freed. One arena, trimmed after each encoding, keeps the
/// resident set near what is live. Blocks from 128 KiB up (response bodies, a list's items, the rows' tables,
/// the packed metrics) are mapped on their own and go back to the system when freed: left to glibc's sliding
/// threshold they come from the heap, where a large fleet's short-lived ones leave holes the resident set keeps.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc tuning calls with valid parameters; glibc serialises them with allocations.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: returns free heap pages to the system; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Applies the pollers' messages to the shared state, and walks the detail poller over the Run:ai
/// deployments (one at a time; a walk at most every refresh interval or [`METRICS_EVERY`], the longer) for
/// their latest metrics.
async fn engine(shared: Shared, mut rx: mpsc::Receiver<Msg>, sync: Sync, refresh: Duration, public: bool) {
    // Run:ai reports its metrics by the minute: a walk over its deployments every 30 s at most is enough.
    let metrics_every = refresh.max(METRICS_EVERY);
    let mut watched: Option<DeploymentKey> = None;
    let mut next_cycle = tokio::time::Instant::now();
    let mut cycle_started = next_cycle;
    let mut announced = HashSet::new();
    let mut tick = tokio::time::interval(refresh.max(Duration::from_secs(5)));
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                if public && let Msg::Fleet { account, result: Ok(deps), .. } = &msg && announced.insert(*account) {
                    announce(&shared, *account, deps).await;
                }
                let done = matches!(&msg, Msg::Metrics { key, .. } if Some(key) == watched.as_ref());
                apply(&shared, msg).await;
                if done {
                    let state = shared.lock_async().await;
                    watched = next_metrics_target(&state, watched.as_ref());
                    if watched.is_none() {
                        next_cycle = cycle_started + metrics_every;
                    }
                    sync.watch(watch_of(&state, watched.as_ref()));
                }
            }
            _ = tokio::time::sleep_until(next_cycle), if watched.is_none() => {
                cycle_started = tokio::time::Instant::now();
                let state = shared.lock_async().await;
                watched = next_metrics_target(&state, None);
                next_cycle = cycle_started + metrics_every;
                sync.watch(watch_of(&state, watched.as_ref()));
            }
            _ = tick.tick() => apply(&shared, Msg::Tick).await,
        }
    }
}

async fn apply(shared: &Shared, msg: Msg) {
    let msg = match msg {
        // The detail poller's full record comes with the metrics walk; `serve` exports the list's figures
        // (what the dashboard's table shows), so a second copy of every Run:ai deployment is not kept.
        Msg::Detail { .. } => return,
        Msg::Metrics { key, at, result } => Msg::Metrics { key, at, result: result.map(latest_only) },
        other => other,
    };
    let mut state = shared.lock_async().await;
    state.now = chrono::Utc::now();
    // Effects are the dashboard's answers to keys and edits; the pollers' messages ask for none that `serve`
    // needs (it has no selection and makes no changes).
    let fleet = matches!(msg, Msg::Fleet { .. });
    let _ = update(&mut state, msg);
    drop(state);
    if fleet {
        // The list just replaced is a large fleet's worth of freed memory.
        trim_heap();
    }
}

/// Each series cut to its latest value: what the exposition shows, and all `serve` keeps per deployment.
fn latest_only(mut m: provider::MetricsResult) -> provider::MetricsResult {
    for s in &mut m.series {
        let latest = s.points.iter().rposition(|p| p.value.is_some());
        s.points = match latest {
            Some(i) => vec![s.points.swap_remove(i)],
            None => Vec::new(),
        };
    }
    m
}

async fn announce(shared: &Shared, account: usize, deps: &[crate::model::Deployment]) {
    use crate::model::text::sanitize;
    let state = shared.lock_async().await;
    let name = state.accounts.get(account).map(|a| a.name.as_str()).unwrap_or("?");
    let names: Vec<String> = deps.iter().map(|d| sanitize(&d.name).into_owned()).collect();
    println!("exposing {} deployments of {}: {}", deps.len(), sanitize(name), names.join(", "));
}

/// The Run:ai deployment after `after` (in key order), among accounts whose provider has a metrics API.
fn next_metrics_target(state: &State, after: Option<&DeploymentKey>) -> Option<DeploymentKey> {
    state
        .rows
        .iter()
        .filter(|r| state.accounts.get(r.account).is_some_and(|a| a.capabilities.metrics))
        .map(|r| &r.dep.key)
        .filter(|k| after.is_none_or(|a| *k > a))
        .min()
        .cloned()
}

fn watch_of(state: &State, key: Option<&DeploymentKey>) -> Option<Watch> {
    let key = key?;
    let account = state.rows.get(*state.index.get(key)?)?.account;
    Some(Watch { key: key.clone(), account, metrics: true, logs: false, pod: None, logs_region: None })
}

/// `infertop snapshot --format prometheus`: the same families as `serve`, once, for a textfile collector.
/// Returns the exposition and whether any deployment is unhealthy or any account failed.
pub async fn snapshot(cli: &Cli) -> Result<(String, bool)> {
    use crate::model::Health;
    let cfg = crate::run::load_config(cli)?;
    let (accounts, _sim) = crate::run::accounts(cli, &cfg).await?;
    let metrics = ApiMetrics::default();
    let providers: Vec<_> =
        providers(cli, &cfg, &accounts)?.into_iter().map(|p| Instrumented::wrap(p, &metrics)).collect();
    let states = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(states, Duration::from_secs(5), chrono::Utc::now());
    let results = futures::future::join_all(providers.iter().map(|p| p.listing())).await;
    for (account, result) in results.into_iter().enumerate() {
        let (name, at) = (providers[account].account(), chrono::Utc::now());
        let listing = match result {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{name}: {e}");
                update(&mut state, Msg::Fleet { account, at, result: Err(e) });
                continue;
            }
        };
        for w in &listing.warnings {
            eprintln!("{name}: {w}");
        }
        update(&mut state, Msg::ListWarnings { account, warnings: listing.warnings });
        let msg = match listing.cut {
            None => Msg::Fleet { account, at, result: Ok(listing.items) },
            Some(error) => {
                eprintln!("{name}: {error}");
                Msg::FleetPartial { account, at, rows: listing.items, error }
            }
        };
        update(&mut state, msg);
    }
    let failed = state.accounts.iter().any(|a| a.last_ok.is_none());
    // The one health model, as `snapshot --json` and the dashboard: unknown (part of a deployment could not be
    // read) fails too, its reason on stderr.
    let mut unhealthy = false;
    for d in state.rows.iter().map(|r| &r.dep) {
        let (health, reason) = d.assess();
        unhealthy |= !matches!(health, Health::Ok | Health::Inactive);
        if health == Health::Unknown {
            use crate::model::text::sanitize;
            eprintln!(
                "{}: {} ({}): health unknown: {}",
                sanitize(&d.key.account),
                sanitize(&d.name),
                sanitize(&d.key.id),
                reason.as_deref().unwrap_or("-")
            );
        }
    }
    let exporter = Exporter::new(Shared::new(state), &metrics);
    let (_, text) = exporter.render(false).map_err(|_| eyre!("encoding the metrics failed"))?;
    Ok((text, failed || unhealthy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_only_when_the_accept_header_asks() {
        let mut h = HeaderMap::new();
        assert!(!wants_openmetrics(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert!(!wants_openmetrics(&h));
        // What Prometheus sends when it prefers OpenMetrics.
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            ),
        );
        assert!(wants_openmetrics(&h));
    }

    #[test]
    fn only_the_latest_value_of_each_series_is_kept() {
        use crate::model::{Point, Series};
        let now = chrono::Utc::now();
        let series = |values: &[Option<f64>]| Series {
            name: "THROUGHPUT".into(),
            unit: "req/s".into(),
            labels: Default::default(),
            points: values.iter().map(|v| Point { time: now, value: *v }).collect(),
        };
        let m = provider::MetricsResult {
            series: vec![series(&[Some(1.0), Some(2.0), None]), series(&[None, None])],
            partial: true,
        };
        let cut = latest_only(m);
        assert_eq!(cut.series[0].points.iter().map(|p| p.value).collect::<Vec<_>>(), [Some(2.0)]);
        assert!(cut.series[1].points.is_empty());
        assert!(cut.partial);
    }

    #[test]
    fn a_public_address_needs_listen_public() {
        assert!(check_listen("127.0.0.1:9477".parse().unwrap(), false).is_ok());
        assert!(check_listen("[::1]:9477".parse().unwrap(), false).is_ok());
        let err = check_listen("0.0.0.0:9477".parse().unwrap(), false).unwrap_err().to_string();
        assert!(err.contains("--listen-public"), "{err}");
        assert!(check_listen("0.0.0.0:9477".parse().unwrap(), true).is_ok());
    }

    /// The simulator's accounts, instrumented: every request of a call is counted under its account, with
    /// its status; requests made outside an instrumented call are not.
    #[tokio::test]
    async fn requests_are_counted_per_account_and_code() {
        let sim = crate::sim::start(crate::sim::SimConfig::default(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        api::install_observer();
        let metrics = ApiMetrics::default();
        let client = reqwest::Client::new();
        let accounts = provider::demo_accounts(&sim.base_url());
        let bare: Vec<_> = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
        let counted: Vec<_> = bare.iter().cloned().map(|p| Instrumented::wrap(p, &metrics)).collect();
        let served = |name: &str| sim.state.traffic.snapshot()[name]["requests"].as_f64().unwrap();
        let before: Vec<f64> = ["gcore", "sesterce", "runai"].iter().map(|n| served(n)).collect();
        for p in &counted {
            p.list().await.unwrap();
        }
        assert!(counted[0].get("no-such-deployment").await.is_err());
        let render = || {
            let state = State::new(vec![], Duration::from_secs(5), chrono::Utc::now());
            Exporter::new(Shared::new(state), &metrics).render(false).unwrap().1
        };
        let text = render();
        let value = |prefix: &str| -> f64 {
            let line = text.lines().find(|l| l.starts_with(prefix));
            line.unwrap_or_else(|| panic!("{prefix} in\n{text}")).rsplit_once(' ').unwrap().1.parse().unwrap()
        };
        for (p, name) in [(0, "gcore"), (1, "sesterce"), (2, "runai")] {
            let labels = format!(r#"provider="{name}",account="{}""#, accounts[p].name);
            let ok = value(&format!("infertop_api_requests_total{{{labels},code=\"200\"}}"));
            // Gcore: the read of an absent deployment; Run:ai: `/api/v2/token`, which the simulator's default
            // reading (`runai-token=v1-only`) does not serve, before the client falls back to v1.
            let not_found = if p == 1 { 0.0 } else { 1.0 };
            let nf_line = format!("infertop_api_requests_total{{{labels},code=\"404\"}}");
            assert_eq!(text.lines().any(|l| l.starts_with(&nf_line)), not_found > 0.0, "{name}: {text}");
            let count = value(&format!("infertop_api_request_duration_seconds_count{{{labels}}}"));
            assert_eq!(count, ok + not_found, "{name}: {text}");
            // Exactly the requests the simulator served for these calls.
            assert_eq!(ok + not_found, served(name) - before[p], "{name}: {text}");
        }
        let not_found = r#"infertop_api_requests_total{provider="gcore",account="gcore-demo",code="404"}"#;
        assert_eq!(value(not_found), 1.0);
        // Requests made outside an instrumented call are not counted.
        for p in &bare {
            p.list().await.unwrap();
        }
        assert_eq!(render(), text);
    }

    /// A state with one Gcore account holding `deps` (id, ready).
    fn gcore_state(deps: &[(&str, u32)]) -> State {
        use crate::model::ProviderKind;
        let spec = &provider::demo_accounts("http://127.0.0.1:9")[0];
        let caps = provider::connect(spec, reqwest::Client::new()).capabilities();
        let account = AccountState::new("g", ProviderKind::Gcore, caps);
        let mut state = State::new(vec![account], Duration::from_secs(5), chrono::Utc::now());
        set_fleet(&mut state, deps);
        state
    }

    fn set_fleet(state: &mut State, deps: &[(&str, u32)]) {
        use crate::model::{Deployment, ProviderKind, RegionReplicas, Scale, Status};
        let deps = deps
            .iter()
            .map(|(id, ready)| {
                let key =
                    DeploymentKey { provider: ProviderKind::Gcore, account: "g".into(), id: id.to_string() };
                let mut d = Deployment::new(key, format!("name-{id}"), Status::Active);
                d.regions.push(RegionReplicas {
                    region_id: "7".into(),
                    region_name: Some("Luxembourg-2".into()),
                    ready: *ready,
                    total: 2,
                    scale: Scale { min: 1, max: 3, ..Default::default() },
                    error: None,
                });
                d
            })
            .collect();
        update(state, Msg::Fleet { account: 0, at: chrono::Utc::now(), result: Ok(deps) });
    }

    fn scraped(exporter: &Exporter, openmetrics: bool) -> String {
        let scrape = exporter.scrape(openmetrics, false).unwrap();
        let body: Vec<u8> = scrape.pieces.map(Result::unwrap).collect::<Vec<_>>().concat();
        assert_eq!(scrape.len, body.len() as u64);
        String::from_utf8(body).unwrap()
    }

    #[test]
    fn the_fleet_is_encoded_once_per_change_and_a_deleted_deployment_leaves_the_next_scrape() {
        let shared = Shared::new(gcore_state(&[("a", 1), ("b", 2)]));
        let exporter = Exporter::new(shared.clone(), &ApiMetrics::default());
        let first = scraped(&exporter, false);
        // The cached body is the whole encoding, byte for byte.
        assert_eq!(first, exporter.render(false).unwrap().1);
        assert!(first.contains(r#"id="b""#), "{first}");
        assert_eq!(exporter.encodings(Part::Fleet), 1);
        assert_eq!(scraped(&exporter, false), first);
        assert_eq!(exporter.encodings(Part::Fleet), 1, "nothing changed: the cached families");

        // The same fleet read again: the per-deployment families stay cached, the account ones are fresh.
        std::thread::sleep(Duration::from_millis(5));
        set_fleet(&mut shared.lock(), &[("a", 1), ("b", 2)]);
        let again = scraped(&exporter, false);
        assert_eq!(exporter.encodings(Part::Fleet), 1);
        assert_eq!(again, exporter.render(false).unwrap().1);

        // A deletion: gone from the very next scrape.
        set_fleet(&mut shared.lock(), &[("a", 1)]);
        let second = scraped(&exporter, false);
        assert!(!second.contains(r#"id="b""#), "{second}");
        assert_eq!(second, exporter.render(false).unwrap().1);
        assert_eq!(exporter.encodings(Part::Fleet), 2);

        // A value: the same.
        set_fleet(&mut shared.lock(), &[("a", 2)]);
        let third = scraped(&exporter, false);
        assert!(third.contains(
            r#"infertop_replicas_ready{provider="gcore",account="g",id="a",region="Luxembourg-2"} 2"#
        ));
        assert_eq!(exporter.encodings(Part::Fleet), 3);

        // OpenMetrics is cached apart, and ends the exposition once.
        let om = scraped(&exporter, true);
        assert_eq!(om, exporter.render(true).unwrap().1);
        assert!(om.ends_with("# EOF\n") && om.matches("# EOF").count() == 1, "{om}");
        assert_eq!(scraped(&exporter, true), om);
        assert_eq!(exporter.encodings(Part::Fleet), 4);
    }

    #[test]
    fn a_change_is_encoded_ahead_for_the_formats_scraped_while_someone_scrapes() {
        let shared = Shared::new(gcore_state(&[("a", 1)]));
        let exporter = Exporter::new(shared.clone(), &ApiMetrics::default());
        let minute = Duration::from_secs(60);
        assert!(!exporter.repack(minute), "never scraped: nothing to prepare");
        scraped(&exporter, true);
        assert_eq!(exporter.encodings(Part::Fleet), 1);
        assert!(!exporter.repack(minute), "no change");
        set_fleet(&mut shared.lock(), &[("a", 2)]);
        assert!(exporter.repack(minute));
        assert_eq!(exporter.encodings(Part::Fleet), 2, "OpenMetrics only: text was never asked for");
        let om = scraped(&exporter, true);
        assert_eq!(exporter.encodings(Part::Fleet), 2, "the scrape found it ready");
        assert!(om.contains(
            r#"infertop_replicas_ready{provider="gcore",account="g",id="a",region="Luxembourg-2"} 2"#
        ));
        assert_eq!(om, exporter.render(true).unwrap().1);
        set_fleet(&mut shared.lock(), &[("a", 3)]);
        assert!(!exporter.repack(Duration::ZERO), "nobody scraped lately");
    }

    /// The wrapper that counts requests keeps what the providers do in the trait's methods with a default
    /// body: Sesterce's summary list (list first, details after) and its request rate.
    #[tokio::test]
    async fn the_counting_wrapper_keeps_the_sesterce_summary_list_and_rate() {
        let sim = crate::sim::start(crate::sim::SimConfig::default(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        api::install_observer();
        let metrics = ApiMetrics::default();
        let spec = &provider::demo_accounts(&sim.base_url())[1];
        let bare = provider::connect(spec, reqwest::Client::new());
        let counted = Instrumented::wrap(bare.clone(), &metrics);
        let listed = counted.list_summaries().await.expect("Sesterce lists summaries").unwrap();
        assert!(!listed.items.is_empty());
        assert_eq!(counted.effective_rate(), bare.effective_rate());
        assert!(counted.effective_rate().is_some());
        let state = State::new(vec![], Duration::from_secs(5), chrono::Utc::now());
        let text = Exporter::new(Shared::new(state), &metrics).render(false).unwrap().1;
        assert!(
            text.contains(
                r#"infertop_api_requests_total{provider="sesterce",account="sesterce-demo",code="200"}"#
            ),
            "{text}"
        );
    }

    /// Run:ai's metrics come one workload at a time: each one re-encodes their small part, not the fleet's.
    #[test]
    fn a_runai_metric_encodes_its_own_part_only() {
        use crate::model::{Deployment, Point, ProviderKind, Series, Status};
        let spec = &provider::demo_accounts("http://127.0.0.1:9")[2];
        let caps = provider::connect(spec, reqwest::Client::new()).capabilities();
        let account = AccountState::new("r", ProviderKind::Runai, caps);
        let mut state = State::new(vec![account], Duration::from_secs(5), chrono::Utc::now());
        let key = DeploymentKey { provider: ProviderKind::Runai, account: "r".into(), id: "w".into() };
        let d = Deployment::new(key.clone(), "w", Status::Active);
        update(&mut state, Msg::Fleet { account: 0, at: chrono::Utc::now(), result: Ok(vec![d]) });
        let shared = Shared::new(state);
        let exporter = Exporter::new(shared.clone(), &ApiMetrics::default());
        let metric = |value: f64| {
            let now = chrono::Utc::now();
            let series = Series {
                name: "THROUGHPUT".into(),
                unit: String::new(),
                labels: Default::default(),
                points: vec![Point { time: now, value: Some(value) }],
            };
            let result = provider::MetricsResult { series: vec![series], partial: false };
            update(&mut shared.lock(), Msg::Metrics { key: key.clone(), at: now, result: Ok(result) });
        };
        metric(1.5);
        let first = scraped(&exporter, false);
        assert!(
            first.contains(
                r#"infertop_runai_throughput_requests_per_second{provider="runai",account="r",id="w"} 1.5"#
            ),
            "{first}"
        );
        let counts = || (exporter.encodings(Part::Fleet), exporter.encodings(Part::Runai));
        assert_eq!(counts(), (1, 1));
        metric(2.5);
        let second = scraped(&exporter, false);
        assert!(
            second.contains(
                r#"infertop_runai_throughput_requests_per_second{provider="runai",account="r",id="w"} 2.5"#
            ),
            "{second}"
        );
        assert_eq!(second, exporter.render(false).unwrap().1);
        assert_eq!(counts(), (1, 2));
    }

    /// Over loopback HTTP: gzip only when `Accept-Encoding` allows it, one gzip member that decodes to the
    /// plain body, both with their length.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gzip_is_answered_only_when_accepted_and_decodes_to_the_plain_body() {
        use std::io::Read;
        let exporter = Arc::new(Exporter::new(
            Shared::new(gcore_state(&[("a", 1), ("b", 2), ("c", 0)])),
            &ApiMetrics::default(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let server = tokio::spawn(axum::serve(listener, router(exporter.clone())).into_future());
        let http = reqwest::Client::builder().no_gzip().timeout(Duration::from_secs(10)).build().unwrap();
        for openmetrics in [false, true] {
            let expected = exporter.render(openmetrics).unwrap().1;
            let get = |encoding: Option<&'static str>| {
                let mut req = http.get(&url);
                if openmetrics {
                    req = req.header("Accept", "application/openmetrics-text;version=1.0.0");
                }
                if let Some(e) = encoding {
                    req = req.header("Accept-Encoding", e);
                }
                async move {
                    let r = req.send().await.unwrap();
                    assert!(r.status().is_success());
                    let encoding =
                        r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
                    let length: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
                    let body = r.bytes().await.unwrap();
                    assert_eq!(length, body.len());
                    (encoding, body)
                }
            };
            for plain in [None, Some("identity"), Some("gzip;q=0, identity")] {
                let (encoding, body) = get(plain).await;
                assert_eq!(encoding, None, "{plain:?}");
                assert_eq!(String::from_utf8(body.to_vec()).unwrap(), expected, "{plain:?}");
            }
            let (encoding, body) = get(Some("gzip")).await;
            assert_eq!(encoding.as_deref(), Some("gzip"));
            let mut text = String::new();
            // A single-member decoder: the body is one member, its CRC and length checked.
            flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
            assert_eq!(text, expected);
        }
        assert_eq!(exporter.encodings(Part::Fleet), 2, "once per format");
        server.abort();
    }
}
