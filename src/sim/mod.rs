//! `infertop sim`: one loopback server that speaks all three providers' APIs on their real paths, with
//! auth, validation, error bodies in each provider's shape, state that converges over simulated time,
//! generated logs and metrics, and injectable latency. `infertop --demo` runs it in-process.

pub mod ambiguity;
pub mod engine;
pub mod faults;
pub mod fleet;
pub mod gcore;
pub mod life;
pub mod rng;
pub mod runai;
pub mod sesterce;
pub mod writer;

use axum::{
    Json, Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
    routing::post,
};
use chrono::{DateTime, Utc};
use fleet::FleetSpec;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub use crate::model::demo::{
    DEMO_GCORE_KEY, DEMO_GCORE_PROJECT, DEMO_RUNAI_CLIENT_ID, DEMO_RUNAI_SECRET, DEMO_SESTERCE_KEY,
};

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Generate this many deployments instead of the demo fleet.
    pub fleet: Option<usize>,
    /// Delay added to every response (a cloud-like round trip).
    pub latency: Duration,
    /// Delay added to one-instance detail reads only (Sesterce `GET /ai-inference/instances/{id}`), on top of
    /// `latency`: lets a test see what a client shows before any details read completes.
    pub details_latency: Duration,
    /// Simulated seconds per real second; 0 freezes time (tests then move it with `POST /_sim/advance`).
    pub time_scale: f64,
    /// The wall-clock instant simulated time starts at; `None` means now.
    pub epoch: Option<DateTime<Utc>>,
    /// Lifetime of a Run:ai access token, in seconds.
    pub runai_token_ttl: u64,
    /// Faults to inject from the start (they can be changed at run time with `POST /_sim/faults`).
    pub faults: faults::FaultConfig,
    /// Add a Gcore deployment whose error message, description, env values and logs carry terminal escape
    /// sequences (ESC, OSC title and clipboard, BEL), to show they are drawn inert.
    pub hostile: bool,
    /// The demo fleet lives (see [`life`]): `infertop sim` and `--demo` unless `--static`. A generated fleet
    /// (`fleet`) never does.
    pub live: bool,
    /// The reading of each ambiguity of the documents (default: the most hostile of each).
    pub ambiguities: ambiguity::Ambiguities,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            fleet: None,
            latency: Duration::ZERO,
            details_latency: Duration::ZERO,
            time_scale: 1.0,
            epoch: None,
            runai_token_ttl: 3600,
            faults: faults::FaultConfig::default(),
            hostile: false,
            live: false,
            ambiguities: ambiguity::Ambiguities::default(),
        }
    }
}

/// Simulated time: real time scaled, plus manual advances.
#[derive(Debug)]
pub struct Clock {
    origin: Instant,
    epoch: DateTime<Utc>,
    scale: f64,
    /// Manual offset in microseconds.
    manual_us: AtomicU64,
}

impl Clock {
    pub fn new(epoch: DateTime<Utc>, scale: f64) -> Self {
        Clock { origin: Instant::now(), epoch, scale, manual_us: AtomicU64::new(0) }
    }

    /// Simulated seconds since start.
    pub fn now_secs(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * self.scale + self.manual_us.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// Simulated wall-clock time.
    pub fn now_utc(&self) -> DateTime<Utc> {
        self.epoch + chrono::Duration::microseconds((self.now_secs() * 1e6) as i64)
    }

    pub fn epoch(&self) -> DateTime<Utc> {
        self.epoch
    }

    pub fn advance(&self, secs: f64) {
        self.manual_us.fetch_add((secs.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }
}

/// State shared by every route.
pub struct SimInner {
    pub config: SimConfig,
    pub clock: Clock,
    pub fleet: FleetSpec,
    pub gcore: Mutex<gcore::Store>,
    pub sesterce: Mutex<sesterce::Store>,
    pub runai: Mutex<runai::Store>,
    pub faults: std::sync::RwLock<faults::FaultConfig>,
    /// The current readings (they can be changed at run time with `POST /_sim/ambiguities`).
    pub ambiguities: std::sync::RwLock<ambiguity::Ambiguities>,
    pub fault_counters: faults::FaultCounters,
    /// Requests served and requests in flight, per provider.
    pub traffic: Traffic,
    /// Another writer a test can arm (see [`writer`]).
    pub another_writer: writer::AnotherWriter,
}

/// Requests per provider, and the most that were in flight at once (latency included), so that benches and
/// tests can check what one refresh costs and that a client keeps to its limit.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Indexed like [`crate::model::ProviderKind::ALL`].
    requests: [AtomicU64; 3],
    in_flight: [AtomicU64; 3],
    peak: [AtomicU64; 3],
    /// The most recent requests, in the order they arrived: `"METHOD /path"`.
    log: std::sync::Mutex<std::collections::VecDeque<String>>,
}

/// How many requests the log keeps (the oldest go first).
pub const REQUEST_LOG_LEN: usize = 20_000;

/// Counts of one provider's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrafficCount {
    pub requests: u64,
    /// The most requests in flight at once since the last [`Traffic::reset_peaks`].
    pub peak_in_flight: u64,
}

impl Traffic {
    fn slot(p: crate::model::ProviderKind) -> usize {
        crate::model::ProviderKind::ALL.iter().position(|k| *k == p).unwrap_or(0)
    }

    pub fn of(&self, p: crate::model::ProviderKind) -> TrafficCount {
        let i = Self::slot(p);
        TrafficCount {
            requests: self.requests[i].load(Ordering::Relaxed),
            peak_in_flight: self.peak[i].load(Ordering::Relaxed),
        }
    }

    /// The logged requests (`"METHOD /path"`), oldest first.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    fn record(&self, line: String) {
        if let Ok(mut l) = self.log.lock() {
            if l.len() >= REQUEST_LOG_LEN {
                l.pop_front();
            }
            l.push_back(line);
        }
    }

    pub fn reset_peaks(&self) {
        for p in &self.peak {
            p.store(0, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for p in crate::model::ProviderKind::ALL {
            let c = self.of(p);
            m.insert(
                p.to_string(),
                serde_json::json!({"requests": c.requests, "peak_in_flight": c.peak_in_flight}),
            );
        }
        serde_json::Value::Object(m)
    }
}

pub type SimState = Arc<SimInner>;

impl SimInner {
    /// The current readings of the ambiguities.
    pub fn ambiguities(&self) -> ambiguity::Ambiguities {
        self.ambiguities.read().map(|a| a.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Whether ambiguity `name` is read as `reading` right now.
    pub fn reads(&self, name: &str, reading: &str) -> bool {
        match self.ambiguities.read() {
            Ok(a) => a.is(name, reading),
            Err(e) => e.into_inner().is(name, reading),
        }
    }
}

impl SimInner {
    pub fn new(config: SimConfig) -> SimState {
        let epoch = config.epoch.unwrap_or_else(|| {
            let now = Utc::now();
            now - chrono::Duration::nanoseconds(now.timestamp_subsec_nanos() as i64)
        });
        let clock = Clock::new(epoch, config.time_scale);
        let mut fleet = match config.fleet {
            Some(n) => FleetSpec::generated(n, config.seed),
            None => FleetSpec::demo(),
        };
        if config.hostile {
            fleet.deployments.push(fleet::hostile_deployment());
        }
        let mut gcore = gcore::Store::new(&fleet, config.seed, epoch);
        let mut sesterce = sesterce::Store::new(&fleet, config.seed, epoch);
        let mut runai = runai::Store::new(&fleet, config.seed, epoch);
        if config.live && config.fleet.is_none() {
            // Each store steps its own time, so each keeps its own copy of the one schedule.
            gcore.life = Some(life::Life::new(config.seed));
            sesterce.life = Some(life::Life::new(config.seed));
            runai.life = Some(life::Life::new(config.seed));
        }
        let fault_config = config.faults.clone();
        Arc::new(SimInner {
            faults: std::sync::RwLock::new(fault_config),
            ambiguities: std::sync::RwLock::new(config.ambiguities.clone()),
            fault_counters: faults::FaultCounters::default(),
            traffic: Traffic::default(),
            another_writer: writer::AnotherWriter::default(),
            config,
            clock,
            fleet,
            gcore: Mutex::new(gcore),
            sesterce: Mutex::new(sesterce),
            runai: Mutex::new(runai),
        })
    }
}

/// The whole simulator as one router.
pub fn router(state: SimState) -> Router {
    Router::new()
        .merge(gcore::router(state.clone()))
        .merge(sesterce::router(state.clone()))
        .merge(runai::router(state.clone()))
        .route("/_sim/advance", post(advance))
        .route("/_sim/faults", post(set_faults).get(get_faults))
        .route("/_sim/traffic", axum::routing::get(get_traffic))
        .route("/_sim/requests", axum::routing::get(get_requests))
        .route("/_sim/ambiguities", post(set_ambiguities).get(get_ambiguities))
        .route("/_sim/another-writer", post(writer::arm).get(writer::get))
        .layer(middleware::from_fn_with_state(state.clone(), writer::before_reads))
        .layer(middleware::from_fn_with_state(state.clone(), faults::inject))
        .layer(middleware::from_fn_with_state(state.clone(), latency))
        .layer(middleware::from_fn_with_state(state.clone(), traffic))
        .with_state(state)
}

/// Outermost, so that in flight covers the added latency too.
async fn traffic(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let Some(p) = faults::provider_of(req.uri().path()) else {
        return next.run(req).await;
    };
    let t = &state.traffic;
    let i = Traffic::slot(p);
    t.record(format!("{} {}", req.method(), req.uri().path()));
    t.requests[i].fetch_add(1, Ordering::Relaxed);
    let now = t.in_flight[i].fetch_add(1, Ordering::Relaxed) + 1;
    t.peak[i].fetch_max(now, Ordering::Relaxed);
    // Decrement even when the client goes away mid-response and this future is dropped.
    struct Leave<'a>(&'a AtomicU64);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let _leave = Leave(&t.in_flight[i]);
    next.run(req).await
}

/// `GET /_sim/traffic`: requests served and the peak in flight, per provider.
async fn get_traffic(State(state): State<SimState>) -> Json<serde_json::Value> {
    Json(state.traffic.snapshot())
}

async fn latency(State(state): State<SimState>, req: Request, next: Next) -> Response {
    if !state.config.latency.is_zero() && !req.uri().path().starts_with("/_sim/") {
        tokio::time::sleep(state.config.latency).await;
    }
    if !state.config.details_latency.is_zero() && is_details_read(&req) {
        tokio::time::sleep(state.config.details_latency).await;
    }
    next.run(req).await
}

/// `GET /ai-inference/instances/{id}` (not the list, not the pricing POST).
fn is_details_read(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == axum::http::Method::GET
        && path.strip_prefix("/ai-inference/instances/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// `GET /_sim/requests`: the logged requests, oldest first.
async fn get_requests(State(state): State<SimState>) -> Json<Vec<String>> {
    Json(state.traffic.log())
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

/// `POST /_sim/advance {"seconds": N}` moves simulated time forward (tests use it with a frozen clock).
async fn advance(State(state): State<SimState>, Json(a): Json<Advance>) -> Json<serde_json::Value> {
    state.clock.advance(a.seconds);
    Json(serde_json::json!({ "now": state.clock.now_utc().to_rfc3339(), "seconds": state.clock.now_secs() }))
}

/// `POST /_sim/faults` with `{"profile": "chaos"}` or a full [`faults::FaultConfig`], with or without a JSON
/// content type (`curl -d`); an empty body changes nothing. Answers the counts of injected faults, the
/// active profile's name (`custom` for a full config matching none) and its settings.
async fn set_faults(
    State(state): State<SimState>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, (axum::http::StatusCode, String)> {
    let bad = |e: String| (axum::http::StatusCode::BAD_REQUEST, e);
    if !body.iter().all(u8::is_ascii_whitespace) {
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        let cfg = if let Some(name) = v.get("profile").and_then(|p| p.as_str()) {
            faults::FaultConfig::profile(name).ok_or_else(|| {
                bad(format!("unknown fault profile {name:?}: {}", faults::PROFILES.join(", ")))
            })?
        } else {
            serde_json::from_value(v).map_err(|e| bad(e.to_string()))?
        };
        if let Ok(mut w) = state.faults.write() {
            *w = cfg;
        }
    }
    Ok(Json(faults_answer(&state)))
}

/// The fault counts, with the active profile and its settings.
fn faults_answer(state: &SimState) -> serde_json::Value {
    let active = state.faults.read().map(|f| f.clone()).unwrap_or_else(|e| e.into_inner().clone());
    let name = faults::PROFILES
        .iter()
        .find(|p| faults::FaultConfig::profile(p).as_ref() == Some(&active))
        .copied()
        .unwrap_or("custom");
    let mut v = state.fault_counters.snapshot();
    if let Some(o) = v.as_object_mut() {
        o.insert("profile".into(), name.into());
        o.insert("config".into(), serde_json::to_value(&active).unwrap_or_default());
    }
    v
}

/// `POST /_sim/ambiguities {"NAME": "READING", ...}`: changes readings (all or none), answers the list.
async fn set_ambiguities(
    State(state): State<SimState>,
    Json(v): Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<serde_json::Value>, (axum::http::StatusCode, String)> {
    let mut next = state.ambiguities();
    for (name, reading) in &v {
        let reading = reading.as_str().unwrap_or_default();
        next.set(name, reading).map_err(|e| (axum::http::StatusCode::BAD_REQUEST, e))?;
    }
    if let Ok(mut w) = state.ambiguities.write() {
        *w = next.clone();
    }
    Ok(Json(next.to_json()))
}

/// `GET /_sim/ambiguities`: every switch with its readings, default, current reading and source.
async fn get_ambiguities(State(state): State<SimState>) -> Json<serde_json::Value> {
    Json(state.ambiguities().to_json())
}

/// `GET /_sim/faults`: the counts of injected faults by class, and the active profile.
async fn get_faults(State(state): State<SimState>) -> Json<serde_json::Value> {
    Json(faults_answer(&state))
}

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub state: SimState,
    task: tokio::task::JoinHandle<()>,
}

impl SimHandle {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Moves simulated time forward.
    pub fn advance(&self, secs: f64) {
        self.state.clock.advance(secs);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the simulator on `listen` (port 0 picks a free port) and returns once it accepts connections.
pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let state = SimInner::new(config);
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(SimHandle { addr, state, task })
}

/// Text printed by `infertop sim` after the `listening on` line.
pub fn credentials_banner() -> String {
    format!(
        "credentials:\n  gcore    Authorization: APIKey {DEMO_GCORE_KEY}   (project {DEMO_GCORE_PROJECT})\n  sesterce x-api-key: {DEMO_SESTERCE_KEY}\n  runai    POST /api/v2/token grant_type=client_credentials client_id={DEMO_RUNAI_CLIENT_ID} client_secret={DEMO_RUNAI_SECRET}\n           or POST /api/v1/token {{\"grantType\":\"client_credentials\",\"clientID\":\"{DEMO_RUNAI_CLIENT_ID}\",\"clientSecret\":\"{DEMO_RUNAI_SECRET}\"}}\n           (which is served: --ambiguity runai-token=...; all switches: infertop sim --list-ambiguities)"
    )
}
