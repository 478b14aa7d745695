//! `infertop serve`: the dashboard's accounts and polling, headless, as Prometheus metrics.
//!
//! The same engine as the dashboard: [`Sync`]'s pollers send [`Msg`]s, [`update`] applies them to a [`State`];
//! instead of drawing it, `GET /metrics` encodes it. Run:ai's latest metrics come from the detail poller, which
//! is pointed at each Run:ai deployment in turn.

pub mod api;
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
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use color_eyre::eyre::{Result, eyre};
use exposition::{FleetCollector, Shared};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The shortest time between two walks over the Run:ai deployments for their metrics.
pub const METRICS_EVERY: Duration = Duration::from_secs(30);

/// What `serve` exposes: the fleet from the shared state and the request metrics.
pub struct Exporter {
    registry: Registry,
}

impl Exporter {
    pub fn new(shared: Shared, api: &ApiMetrics) -> Exporter {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(FleetCollector(shared)));
        api.register(&mut registry);
        Exporter { registry }
    }

    /// The exposition as OpenMetrics text, or as Prometheus text (0.0.4); with its content type.
    pub fn render(&self, openmetrics: bool) -> Result<(&'static str, String), std::fmt::Error> {
        let mut out = String::new();
        self.write(openmetrics, &mut out)?;
        Ok((content_type(openmetrics), out))
    }

    /// Writes the exposition to `out` (see [`Exporter::render`]).
    pub fn write(&self, openmetrics: bool, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        if openmetrics {
            prometheus_client::encoding::text::encode(out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(out, &self.registry)
        }
    }
}

pub fn content_type(openmetrics: bool) -> &'static str {
    if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE
    }
}

/// Size of the pieces a scrape's body is sent in.
const CHUNK_BYTES: usize = 64 * 1024;
/// Pieces encoded ahead of the reader (1 MiB).
const CHUNKS_AHEAD: usize = 16;
/// How long the encoder waits for a reader that does not read before it gives the scrape up (it holds the
/// state meanwhile, so the pollers' messages wait too).
const READER_PATIENCE: Duration = Duration::from_secs(10);

type Chunk = Result<bytes::Bytes, std::io::Error>;

/// Sends `item`, waiting for room at most [`READER_PATIENCE`]; false when the reader is gone or stalled. Runs
/// on the encoder's blocking thread.
fn send_patiently(tx: &mpsc::Sender<Chunk>, item: Chunk) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
    runtime.block_on(tokio::time::timeout(READER_PATIENCE, tx.send(item))).is_ok_and(|sent| sent.is_ok())
}

/// A writer that sends what it is given in [`CHUNK_BYTES`] pieces: a large fleet's exposition (megabytes) is
/// never held whole.
struct ChunkWriter {
    buf: String,
    tx: mpsc::Sender<Chunk>,
}

impl ChunkWriter {
    fn flush(&mut self) -> std::fmt::Result {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, String::with_capacity(CHUNK_BYTES));
        if send_patiently(&self.tx, Ok(bytes::Bytes::from(chunk))) { Ok(()) } else { Err(std::fmt::Error) }
    }
}

impl std::fmt::Write for ChunkWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.buf.push_str(s);
        if self.buf.len() >= CHUNK_BYTES { self.flush() } else { Ok(()) }
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
    let (tx, rx) = mpsc::channel::<Chunk>(CHUNKS_AHEAD);
    // Encoding a large fleet takes milliseconds of CPU: off the runtime's threads, streamed as it goes.
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter { buf: String::with_capacity(CHUNK_BYTES), tx: tx.clone() };
        if exporter.write(openmetrics, &mut out).and_then(|_| out.flush()).is_err() {
            // The body ends in an error, never as a shorter exposition that would parse.
            let _ = send_patiently(&tx, Err(std::io::Error::other("encoding the metrics failed")));
        }
        trim_heap();
    });
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type(openmetrics)))], Body::from_stream(body))
        .into_response()
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
    let server = axum::serve(listener, router(exporter)).with_graceful_shutdown(shutdown_signal());
    let result = server.await;
    engine.abort();
    result.map_err(|e| eyre!("serving metrics failed: {e}"))
}

/// A long-running `serve` allocates on the runtime's thread and on the scrapes' blocking threads; glibc gives
/// each thread an arena of its own and keeps what they freed. One arena, trimmed after each scrape, keeps the
/// resident set near what is live.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a malloc tuning call with a valid parameter; glibc serialises it with allocations.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
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
    let results = futures::future::join_all(providers.iter().map(|p| p.list())).await;
    for (account, result) in results.into_iter().enumerate() {
        if let Err(e) = &result {
            eprintln!("{}: {e}", providers[account].account());
        }
        update(&mut state, Msg::Fleet { account, at: chrono::Utc::now(), result });
    }
    let failed = state.accounts.iter().any(|a| a.last_ok.is_none());
    let unhealthy = state.rows.iter().any(|r| !matches!(r.dep.health(), Health::Ok | Health::Inactive));
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
}
