//! The fleet as Prometheus metric families. `encode_fleet` writes the per-deployment families (the bulk of a
//! scrape) and `encode_runai` Run:ai's latest metrics, each cached by [`crate::serve::cache`] under the
//! fingerprint of what it reads (see [`Part`]); `encode_accounts` writes the small per-account ones, fresh at
//! every scrape. prometheus-client writes (and escapes) everything.
//!
//! Series follow Prometheus' info pattern: every per-deployment series is identified by `provider`, `account`
//! and `id` (the one key that is unique: Run:ai names repeat across projects and can be reused after a
//! delete); the descriptive labels (`deployment` name, `status`, `hardware`, `image`) are on
//! `infertop_deployment_info` only, joined with `* on (provider, account, id) group_left (deployment) ...`.
//! Gcore's id is its name, and a name on every series would be a third of the body.

use crate::app::State;
use crate::model::Deployment;
use crate::model::text::sanitize;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Run:ai's metric types exported as their latest value: (metric type, name, help, unit, factor to base unit).
const RUNAI_LATEST: [(&str, &str, &str, Option<Unit>, f64); 3] = [
    (
        "THROUGHPUT",
        "infertop_runai_throughput_requests_per_second",
        "Latest throughput of a Run:ai inference workload, as its metrics API reports it",
        None,
        1.0,
    ),
    (
        "LATENCY",
        "infertop_runai_latency",
        "Latest request latency of a Run:ai inference workload, as its metrics API reports it",
        Some(Unit::Seconds),
        0.001,
    ),
    (
        "GPU_UTILIZATION",
        "infertop_runai_gpu_utilization_ratio",
        "Latest GPU utilisation of a Run:ai inference workload (0 to 1), as its metrics API reports it",
        None,
        0.01,
    ),
];

/// The dashboard's state, shared between the task that applies the pollers' messages and the scrapes.
#[derive(Clone)]
pub struct Shared(pub Arc<Mutex<State>>);

impl Shared {
    pub fn new(state: State) -> Shared {
        Shared(Arc::new(Mutex::new(state)))
    }

    /// The state, even if a panic elsewhere poisoned the lock: a scrape of what is there beats none. Blocks:
    /// for the scrape's encoder, on a thread of its own.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, for a task on the runtime: it waits without blocking the thread, which meanwhile sends the
    /// body of the scrape that holds the state.
    pub async fn lock_async(&self) -> std::sync::MutexGuard<'_, State> {
        loop {
            match self.0.try_lock() {
                Ok(g) => return g,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shared(State)")
    }
}

/// The cached parts of the exposition, each with its own fingerprint: Run:ai's latest metrics come one
/// deployment at a time (a walk over thousands of workloads changes them several times a second), the rest of
/// the per-deployment families only when a list or a details read brings something new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Fleet,
    Runai,
}

impl Part {
    pub const ALL: [Part; 2] = [Part::Fleet, Part::Runai];

    /// A hash of everything this part's families read from `state`: equal fingerprints, equal families.
    pub fn fingerprint(self, state: &State) -> u64 {
        match self {
            Part::Fleet => fingerprint(state),
            Part::Runai => fingerprint_runai(state),
        }
    }

    pub fn encode(self, state: &State, encoder: &mut DescriptorEncoder) -> fmt::Result {
        match self {
            Part::Fleet => encode_fleet(state, encoder),
            Part::Runai => encode_runai(state, encoder),
        }
    }
}

/// Collects one part's families from the shared state, and notes the fingerprint of the state it encoded
/// (under the same lock, so the two always match).
#[derive(Debug)]
pub struct PartCollector {
    pub part: Part,
    pub shared: Shared,
    pub encoded: Arc<AtomicU64>,
}

impl Collector for PartCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let state = self.shared.lock();
        self.encoded.store(self.part.fingerprint(&state), Ordering::Release);
        self.part.encode(&state, &mut encoder)
    }
}

/// Collects the per-account families from the shared state.
#[derive(Debug)]
pub struct AccountCollector(pub Shared);

impl Collector for AccountCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        encode_accounts(&self.0.lock(), &mut encoder)
    }
}

/// Label values come from the network: the format's own escaping keeps the exposition valid, and control
/// characters are made visible so that `curl /metrics` in a terminal cannot be steered by them.
type Label<'a> = (&'static str, Cow<'a, str>);

/// The identity of a deployment's series (provider, account, id), then `N - 3` more.
fn deployment_labels<'a, const N: usize>(d: &'a Deployment, more: [Label<'a>; N]) -> [Label<'a>; N]
where
    [Label<'a>; N]: Sized,
{
    let mut out = more;
    // The identity goes first; `more` fills the tail (callers pass placeholders for the first three).
    out[0] = ("provider", Cow::Borrowed(d.key.provider.label()));
    out[1] = ("account", sanitize(&d.key.account));
    out[2] = ("id", sanitize(&d.key.id));
    out
}

const EMPTY: Label<'static> = ("", Cow::Borrowed(""));

/// One gauge family: its descriptor, then one sample per label set. Integers are written as integers.
fn gauges<
    'a,
    L: EncodeLabelSet + 'a,
    V: EncodeGaugeValue + fmt::Debug + Default + Copy + Send + Sync + 'static,
>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: impl Iterator<Item = (L, V)>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

type RegionValue = fn(&crate::model::RegionReplicas) -> i64;

/// The per-region families: name, help, value.
const PER_REGION: [(&str, &str, RegionValue); 5] = [
    ("infertop_replicas_ready", "Replicas ready to serve, per deployment and region", |r| r.ready.into()),
    // Not `_total`: that suffix is reserved for counters (promtool's lint rejects it on a gauge).
    ("infertop_replicas", "Replicas running or starting (ready or not), per deployment and region", |r| {
        r.total.into()
    }),
    ("infertop_scale_min", "Lower bound of the autoscaler, per deployment and region", |r| {
        r.scale.min.into()
    }),
    ("infertop_scale_max", "Upper bound of the autoscaler, per deployment and region", |r| {
        r.scale.max.into()
    }),
    (
        "infertop_region_error",
        "1 when the provider reports an error for the deployment's containers in this region, else 0",
        |r| r.error.is_some().into(),
    ),
];

fn region_label(r: &crate::model::RegionReplicas) -> &str {
    r.region_name.as_deref().unwrap_or(&r.region_id)
}

/// The latest value of each of [`RUNAI_LATEST`] for the deployment of `detail`, in base units.
fn runai_latest(detail: &crate::app::state::DetailCache) -> Option<[Option<f64>; 3]> {
    let (metrics, _) = detail.metrics.as_ref()?;
    let value = |(kind, _, _, _, factor): &(&str, &str, &str, Option<Unit>, f64)| {
        let series = metrics.series.iter().find(|s| s.name == *kind)?;
        let latest = series.points.iter().rev().find_map(|p| p.value)?;
        Some(latest * factor)
    };
    let values = [value(&RUNAI_LATEST[0]), value(&RUNAI_LATEST[1]), value(&RUNAI_LATEST[2])];
    values.iter().any(Option::is_some).then_some(values)
}

/// The deployments (of the rows, in row order) with a latest Run:ai metric, and their values. From the
/// details (the few with metrics) to the rows, not the other way: one lookup for each, not three for each row.
fn runai_rows(state: &State) -> Vec<(&Deployment, [Option<f64>; 3])> {
    let mut found: Vec<(usize, [Option<f64>; 3])> = state
        .details
        .iter()
        .filter_map(|(key, detail)| Some((*state.index.get(key)?, runai_latest(detail)?)))
        .collect();
    found.sort_unstable_by_key(|(row, _)| *row);
    found.into_iter().filter_map(|(row, values)| Some((&*state.rows.get(row)?.dep, values))).collect()
}

/// A hash of everything [`encode_fleet`] reads from `state`, in the order it reads it: equal fingerprints,
/// equal families. A few milliseconds at 10,000 deployments, against tens for the encoding.
pub fn fingerprint(state: &State) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    state.rows.len().hash(&mut h);
    for d in state.rows.iter().map(|r| &r.dep) {
        d.key.hash(&mut h);
        d.name.hash(&mut h);
        d.status.label().hash(&mut h);
        d.hardware.hash(&mut h);
        d.image.hash(&mut h);
        d.price_per_hour.map(f64::to_bits).hash(&mut h);
        d.health().hash(&mut h);
        d.regions.len().hash(&mut h);
        for r in &d.regions {
            region_label(r).hash(&mut h);
            for (_, _, value) in &PER_REGION {
                value(r).hash(&mut h);
            }
        }
    }
    h.finish()
}

/// A hash of everything [`encode_runai`] reads from `state`, in the order it reads it.
pub fn fingerprint_runai(state: &State) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for (d, values) in runai_rows(state) {
        d.key.hash(&mut h);
        values.map(|v| v.map(f64::to_bits)).hash(&mut h);
    }
    h.finish()
}

/// The per-deployment families from `state` but Run:ai's metrics: per region, per deployment. What they read
/// is hashed by [`fingerprint`]: a new input here goes there too.
pub fn encode_fleet(state: &State, encoder: &mut DescriptorEncoder) -> fmt::Result {
    let deps = || state.rows.iter().map(|r| &r.dep);
    for (name, help, value) in PER_REGION {
        gauges(
            encoder,
            name,
            help,
            None,
            deps().flat_map(|d| {
                d.regions.iter().map(move |r| {
                    let region = ("region", sanitize(region_label(r)));
                    (deployment_labels(d, [EMPTY, EMPTY, EMPTY, region]), value(r))
                })
            }),
        )?;
    }

    {
        let mut family = encoder.encode_descriptor(
            "infertop_deployment",
            "A deployment's name, status, hardware and image (the value is always 1)",
            None,
            MetricType::Info,
        )?;
        for d in deps() {
            let labels = deployment_labels(
                d,
                [
                    EMPTY,
                    EMPTY,
                    EMPTY,
                    ("deployment", sanitize(&d.name)),
                    // Already made safe by `label`.
                    ("status", Cow::Owned(d.status.label())),
                    ("hardware", sanitize(d.hardware.as_deref().unwrap_or(""))),
                    ("image", sanitize(d.image.as_deref().unwrap_or(""))),
                ],
            );
            family.encode_info(&labels)?;
        }
    }

    gauges(
        encoder,
        "infertop_deployment_health",
        "A deployment's one health, in its label (the value is always 1): ok, progressing, warning, failed, \
         inactive (at rest: stopped, disabled, scaled to zero) or unknown (part of it could not be read)",
        None,
        deps().map(|d| {
            let health = ("health", Cow::Borrowed(d.health().label()));
            (deployment_labels(d, [EMPTY, EMPTY, EMPTY, health]), 1i64)
        }),
    )?;

    gauges(
        encoder,
        "infertop_deployment_hourly_price",
        "Price of a deployment per hour, where the provider gives one",
        None,
        deps().filter_map(|d| {
            let price = d.price_per_hour?;
            // Sesterce is the one provider with a price on its deployments, and it quotes dollars.
            let currency = ("currency", Cow::Borrowed(currency(d)?));
            Some((deployment_labels(d, [EMPTY, EMPTY, EMPTY, currency]), price))
        }),
    )?;
    Ok(())
}

/// Run:ai's latest metrics, per deployment. What they read is hashed by [`fingerprint_runai`].
pub fn encode_runai(state: &State, encoder: &mut DescriptorEncoder) -> fmt::Result {
    let rows = runai_rows(state);
    for (i, (_, name, help, unit, _)) in RUNAI_LATEST.iter().enumerate() {
        gauges(
            encoder,
            name,
            help,
            unit.as_ref(),
            rows.iter().filter_map(|(d, values)| Some((deployment_labels(d, [EMPTY; 3]), values[i]?))),
        )?;
    }
    Ok(())
}

/// The per-account families: small, and changing at every read of an account (its last success).
pub fn encode_accounts(state: &State, encoder: &mut DescriptorEncoder) -> fmt::Result {
    gauges(
        encoder,
        "infertop_account_up",
        "1 when the last read of the account's deployments succeeded, else 0",
        None,
        state.accounts.iter().map(|a| {
            let up = match (a.last_ok, a.last_error_at) {
                (Some(ok), Some(err)) => ok > err,
                (Some(_), None) => true,
                (None, _) => false,
            };
            (account_labels(a), i64::from(up))
        }),
    )?;
    gauges(
        encoder,
        "infertop_account_list_warnings",
        "What was wrong with the account's last list: items that could not be read, ids listed twice (each \
         named in the log and on the dashboard)",
        None,
        state.accounts.iter().map(|a| (account_labels(a), a.list_warnings.len() as i64)),
    )?;
    gauges(
        encoder,
        "infertop_account_last_success_timestamp",
        "When the account's deployments were last read successfully (Unix time)",
        Some(&Unit::Seconds),
        state.accounts.iter().filter_map(|a| {
            let ok = a.last_ok?;
            Some((account_labels(a), ok.timestamp_millis() as f64 / 1000.0))
        }),
    )?;
    Ok(())
}

fn account_labels(a: &crate::app::AccountState) -> [Label<'_>; 2] {
    [("provider", Cow::Borrowed(a.kind.label())), ("account", sanitize(&a.name))]
}

/// The currency of a deployment's hourly price, where it is known.
fn currency(d: &Deployment) -> Option<&'static str> {
    match d.key.provider {
        crate::model::ProviderKind::Sesterce => Some("USD"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AccountState, Msg, update};
    use crate::model::{DeploymentKey, Point, ProviderKind, RegionReplicas, Scale, Series, Status};
    use crate::provider::{ApiError, ErrorKind, MetricsResult};
    use crate::serve::Exporter;
    use crate::serve::api::ApiMetrics;
    use chrono::Utc;
    use std::collections::BTreeMap;

    fn caps(kind: ProviderKind) -> crate::provider::Capabilities {
        let spec = crate::provider::demo_accounts("http://127.0.0.1:9")
            .into_iter()
            .find(|a| a.kind == kind)
            .unwrap();
        crate::provider::connect(&spec, reqwest::Client::new()).capabilities()
    }

    fn state() -> State {
        let accounts = vec![
            AccountState::new("g", ProviderKind::Gcore, caps(ProviderKind::Gcore)),
            AccountState::new("r", ProviderKind::Runai, caps(ProviderKind::Runai)),
        ];
        State::new(accounts, std::time::Duration::from_secs(5), Utc::now())
    }

    fn dep(provider: ProviderKind, account: &str, id: &str, ready: u32) -> Deployment {
        let key = DeploymentKey { provider, account: account.into(), id: id.into() };
        let mut d = Deployment::new(key, format!("name-{id}"), Status::Active);
        d.regions.push(RegionReplicas {
            region_id: "7".into(),
            region_name: Some("Luxembourg-2".into()),
            ready,
            total: 2,
            scale: Scale { min: 1, max: 3, ..Default::default() },
            error: None,
        });
        d
    }

    /// Sample lines of a Prometheus text exposition: `name{labels}` to value.
    fn samples(state: State) -> BTreeMap<String, f64> {
        let (_, text) = Exporter::new(Shared::new(state), &ApiMetrics::default()).render(false).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect()
    }

    fn fleet(state: &mut State, account: usize, result: Result<Vec<Deployment>, ApiError>) {
        update(state, Msg::Fleet { account, at: Utc::now(), result });
    }

    #[test]
    fn every_region_is_a_sample_and_a_deleted_deployment_leaves_the_next_exposition() {
        let mut s = state();
        fleet(
            &mut s,
            0,
            Ok(vec![dep(ProviderKind::Gcore, "g", "a", 1), dep(ProviderKind::Gcore, "g", "b", 2)]),
        );
        let first = samples(s);
        let ready = r#"infertop_replicas_ready{provider="gcore",account="g",id="a",region="Luxembourg-2"}"#;
        assert_eq!(first.get(ready), Some(&1.0), "{first:#?}");
        assert_eq!(first.get(&ready.replace("_ready", "")), Some(&2.0));
        assert_eq!(first.get(&ready.replace("replicas_ready", "scale_max")), Some(&3.0));
        assert_eq!(first.get(&ready.replace("replicas_ready", "region_error")), Some(&0.0));
        assert!(first.keys().any(|k| k.contains(r#"id="b""#)));
        // The name is on the info series only, with the other descriptive labels.
        let info = r#"infertop_deployment_info{provider="gcore",account="g",id="a",deployment="name-a",status="ACTIVE",hardware="",image=""}"#;
        assert_eq!(first.get(info), Some(&1.0), "{first:#?}");
        assert_eq!(first.keys().filter(|k| k.contains("deployment=")).count(), 2, "{first:#?}");
        // One health series each, the deployment's one health in its label: a has 1 of 2 ready.
        let health = |id: &str, h: &str| {
            format!(r#"infertop_deployment_health{{provider="gcore",account="g",id="{id}",health="{h}"}}"#)
        };
        assert_eq!(first.get(&health("a", "progressing")), Some(&1.0), "{first:#?}");
        assert_eq!(first.get(&health("b", "ok")), Some(&1.0), "{first:#?}");
        assert_eq!(first.keys().filter(|k| k.starts_with("infertop_deployment_health")).count(), 2);

        let mut s = state();
        fleet(
            &mut s,
            0,
            Ok(vec![dep(ProviderKind::Gcore, "g", "a", 1), dep(ProviderKind::Gcore, "g", "b", 2)]),
        );
        fleet(&mut s, 0, Ok(vec![dep(ProviderKind::Gcore, "g", "a", 2)]));
        let second = samples(s);
        assert!(!second.keys().any(|k| k.contains(r#"id="b""#)), "{second:#?}");
        assert_eq!(second.get(ready), Some(&2.0));
    }

    #[test]
    fn account_up_follows_the_last_read_and_its_time_stays() {
        let mut s = state();
        let up = r#"infertop_account_up{provider="gcore",account="g"}"#;
        let last = r#"infertop_account_last_success_timestamp_seconds{provider="gcore",account="g"}"#;
        fleet(&mut s, 0, Ok(vec![]));
        let ok_at = s.accounts[0].last_ok.unwrap();
        let m = samples(s);
        assert_eq!(m.get(up), Some(&1.0));
        assert_eq!(m.get(last), Some(&(ok_at.timestamp_millis() as f64 / 1000.0)));
        // Never read: down, and no time at all.
        assert_eq!(m.get(r#"infertop_account_up{provider="runai",account="r"}"#), Some(&0.0));
        assert!(!m.keys().any(|k| k.contains("timestamp") && k.contains(r#"account="r""#)));

        let mut s = state();
        fleet(&mut s, 0, Ok(vec![dep(ProviderKind::Gcore, "g", "a", 1)]));
        std::thread::sleep(std::time::Duration::from_millis(2));
        fleet(&mut s, 0, Err(ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom")));
        let m = samples(s);
        assert_eq!(m.get(up), Some(&0.0));
        assert!(m.contains_key(last));
        // The dashboard keeps the last rows of an account it cannot read (shown stale): so does serve.
        assert!(m.keys().any(|k| k.starts_with("infertop_replicas_ready") && k.contains(r#"id="a""#)));
    }

    #[test]
    fn runai_latest_metrics_in_base_units_and_prices_only_where_the_currency_is_known() {
        let mut s = state();
        let mut priced = dep(ProviderKind::Gcore, "g", "p", 2);
        priced.price_per_hour = Some(4.0);
        fleet(&mut s, 0, Ok(vec![priced]));
        let d = dep(ProviderKind::Runai, "r", "w", 2);
        let key = d.key.clone();
        fleet(&mut s, 1, Ok(vec![d]));
        let now = Utc::now();
        let series = |name: &str, values: &[Option<f64>]| Series {
            name: name.into(),
            unit: String::new(),
            labels: Default::default(),
            points: values.iter().map(|v| Point { time: now, value: *v }).collect(),
        };
        let result = MetricsResult {
            series: vec![
                series("THROUGHPUT", &[Some(1.0), Some(7.5), None]),
                series("LATENCY", &[Some(250.0)]),
                series("GPU_UTILIZATION", &[Some(40.0), Some(80.0)]),
            ],
            partial: false,
        };
        update(&mut s, Msg::Metrics { key, at: now, result: Ok(result) });
        let m = samples(s);
        let labels = r#"{provider="runai",account="r",id="w"}"#;
        assert_eq!(m.get(&format!("infertop_runai_throughput_requests_per_second{labels}")), Some(&7.5));
        assert_eq!(m.get(&format!("infertop_runai_latency_seconds{labels}")), Some(&0.25));
        assert_eq!(m.get(&format!("infertop_runai_gpu_utilization_ratio{labels}")), Some(&0.8));
        // Gcore's deployments carry no currency: no price rather than a guessed one.
        assert!(!m.keys().any(|k| k.starts_with("infertop_deployment_hourly_price")), "{m:#?}");
    }

    /// A state with a Gcore deployment (edited by `edit`) and a Run:ai one with a latest throughput.
    fn fingerprint_of(edit: impl Fn(&mut Deployment), throughput: f64) -> (u64, u64) {
        let mut s = state();
        let mut d = dep(ProviderKind::Gcore, "g", "a", 1);
        d.price_per_hour = Some(2.0);
        d.image = Some("img".into());
        d.hardware = Some("hw".into());
        edit(&mut d);
        fleet(&mut s, 0, Ok(vec![d]));
        let w = dep(ProviderKind::Runai, "r", "w", 1);
        let key = w.key.clone();
        fleet(&mut s, 1, Ok(vec![w]));
        let now = Utc::now();
        let series = Series {
            name: "THROUGHPUT".into(),
            unit: String::new(),
            labels: Default::default(),
            points: vec![Point { time: now, value: Some(throughput) }],
        };
        let result = MetricsResult { series: vec![series], partial: false };
        update(&mut s, Msg::Metrics { key, at: now, result: Ok(result) });
        (fingerprint(&s), fingerprint_runai(&s))
    }

    #[test]
    fn the_fingerprints_change_with_every_value_their_families_show_and_only_with_them() {
        let base = fingerprint_of(|_| {}, 1.0);
        assert_eq!(fingerprint_of(|_| {}, 1.0), base);
        // What the exposition does not show leaves the cached one valid.
        assert_eq!(fingerprint_of(|d| d.description = Some("other".into()), 1.0), base);
        assert_eq!(fingerprint_of(|d| d.port = Some(1234), 1.0), base);
        let metric = fingerprint_of(|_| {}, 2.0);
        assert!(metric.0 == base.0 && metric.1 != base.1, "a Run:ai metric: its own part only");
        type Edit = fn(&mut Deployment);
        let edits: [(&str, Edit); 14] = [
            ("id", |d| d.key.id = "a2".into()),
            ("name", |d| d.name = "renamed".into()),
            ("status", |d| d.status = Status::Unknown("X".into())),
            ("hardware", |d| d.hardware = None),
            ("image", |d| d.image = Some("img2".into())),
            ("price", |d| d.price_per_hour = Some(2.5)),
            ("region", |d| d.regions[0].region_name = Some("Paris".into())),
            ("ready", |d| d.regions[0].ready = 2),
            ("total", |d| d.regions[0].total = 3),
            ("min", |d| d.regions[0].scale.min = 0),
            ("max", |d| d.regions[0].scale.max = 9),
            ("error", |d| d.regions[0].error = Some("boom".into())),
            ("regions", |d| d.regions.clear()),
            ("unknown", |d| d.unknown = Some("details not read".into())),
        ];
        for (what, edit) in edits {
            assert_ne!(fingerprint_of(edit, 1.0).0, base.0, "{what}");
        }
    }
}
