//! Requests to the providers, counted per account: a provider wrapper marks every call with its account
//! (a task-local), and the HTTP layer's observer hook records each request under that mark.

use crate::model::{
    Catalog, CreateSpec, Deployment, HardwareInfo, LogLine, Price, Probes, ProviderKind, RegionInfo,
    ScaleUpdate,
};
use crate::provider::http::{REQUEST_OBSERVER, Response};
use crate::provider::{
    ApiResult, Applied, Capabilities, ErrorKind, LogQuery, MetricsQuery, MetricsResult, Provider,
};
use async_trait::async_trait;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

/// Upper bounds of the request duration buckets, in seconds: from a loopback answer to the default timeout.
const DURATION_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub provider: &'static str,
    pub account: String,
    /// The HTTP status, or what happened instead of one (`timeout`, `network`, ...).
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    pub provider: &'static str,
    pub account: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The request counter and duration histogram of one `serve`.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<AccountLabels, Histogram, fn() -> Histogram>,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        ApiMetrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
        }
    }
}

impl ApiMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "infertop_api_requests",
            "Requests infertop sent to a provider account, by HTTP status (or timeout/network when none came)",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "infertop_api_request_duration",
            "Time from sending a request to a provider account to the end of its answer",
            Unit::Seconds,
            self.durations.clone(),
        );
    }

    /// Records one request of `probe`'s account.
    pub fn record(&self, probe: &AccountProbe, code: String, elapsed: Duration) {
        let provider = probe.kind.label();
        self.requests.get_or_create(&RequestLabels { provider, account: probe.account.clone(), code }).inc();
        self.durations
            .get_or_create(&AccountLabels { provider, account: probe.account.clone() })
            .observe(elapsed.as_secs_f64());
    }
}

/// Which account a request belongs to, and where it is counted.
#[derive(Debug)]
pub struct AccountProbe {
    pub kind: ProviderKind,
    pub account: String,
    pub metrics: ApiMetrics,
}

tokio::task_local! {
    static PROBE: Arc<AccountProbe>;
}

/// The `code` label of an outcome.
pub fn code_of(result: &ApiResult<Response>) -> String {
    match result {
        Ok(r) => r.status.as_u16().to_string(),
        Err(e) => match (e.status, e.kind) {
            (Some(s), _) => s.to_string(),
            (None, ErrorKind::Timeout) => "timeout".into(),
            (None, ErrorKind::Network) => "network".into(),
            (None, _) => "error".into(),
        },
    }
}

fn observe(result: &ApiResult<Response>, elapsed: Duration) {
    // Requests made outside an instrumented call (the dashboard, tests in the same process) are not ours.
    let _ = PROBE.try_with(|p| p.metrics.record(p, code_of(result), elapsed));
}

/// Installs the HTTP layer's hook (once per process; later calls change nothing).
pub fn install_observer() {
    let _ = REQUEST_OBSERVER.set(observe);
}

/// A provider whose every call runs with its account's probe set, so its requests are counted.
pub struct Instrumented {
    inner: Arc<dyn Provider>,
    probe: Arc<AccountProbe>,
}

impl Instrumented {
    pub fn wrap(inner: Arc<dyn Provider>, metrics: &ApiMetrics) -> Arc<dyn Provider> {
        let probe = Arc::new(AccountProbe {
            kind: inner.kind(),
            account: inner.account().to_string(),
            metrics: metrics.clone(),
        });
        Arc::new(Instrumented { inner, probe })
    }
}

#[async_trait]
impl Provider for Instrumented {
    fn kind(&self) -> ProviderKind {
        self.inner.kind()
    }
    fn account(&self) -> &str {
        self.inner.account()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn listing(&self) -> ApiResult<crate::provider::Listing> {
        PROBE.scope(self.probe.clone(), self.inner.listing()).await
    }
    async fn list_unless_same(&self, last: &mut Option<u64>) -> ApiResult<Option<crate::provider::Listing>> {
        PROBE.scope(self.probe.clone(), self.inner.list_unless_same(last)).await
    }
    // Every method is forwarded, those with a default body too: left to the default, `serve` would lose what
    // the provider does there (Sesterce's list first, then details; its rate; the model with an edit).
    async fn list_summaries(&self) -> Option<ApiResult<crate::provider::Listing<crate::provider::Listed>>> {
        PROBE.scope(self.probe.clone(), self.inner.list_summaries()).await
    }
    fn effective_rate(&self) -> Option<(f64, f64)> {
        self.inner.effective_rate()
    }
    async fn update_scale_with_source(
        &self,
        id: &str,
        update: &ScaleUpdate,
        source: Option<&crate::model::ImageSource>,
    ) -> ApiResult<Applied> {
        PROBE.scope(self.probe.clone(), self.inner.update_scale_with_source(id, update, source)).await
    }
    async fn get(&self, id: &str) -> ApiResult<Deployment> {
        PROBE.scope(self.probe.clone(), self.inner.get(id)).await
    }
    async fn update_scale(&self, id: &str, update: &ScaleUpdate) -> ApiResult<Applied> {
        PROBE.scope(self.probe.clone(), self.inner.update_scale(id, update)).await
    }
    async fn update_probes(&self, id: &str, probes: &Probes) -> ApiResult<Applied> {
        PROBE.scope(self.probe.clone(), self.inner.update_probes(id, probes)).await
    }
    async fn start(&self, id: &str) -> ApiResult<()> {
        PROBE.scope(self.probe.clone(), self.inner.start(id)).await
    }
    async fn stop(&self, id: &str) -> ApiResult<()> {
        PROBE.scope(self.probe.clone(), self.inner.stop(id)).await
    }
    async fn delete(&self, id: &str) -> ApiResult<()> {
        PROBE.scope(self.probe.clone(), self.inner.delete(id)).await
    }
    async fn logs(&self, id: &str, query: &LogQuery) -> ApiResult<Vec<LogLine>> {
        PROBE.scope(self.probe.clone(), self.inner.logs(id, query)).await
    }
    async fn metrics(&self, id: &str, query: &MetricsQuery) -> ApiResult<MetricsResult> {
        PROBE.scope(self.probe.clone(), self.inner.metrics(id, query)).await
    }
    async fn regions(&self) -> ApiResult<Vec<RegionInfo>> {
        PROBE.scope(self.probe.clone(), self.inner.regions()).await
    }
    async fn hardware(&self) -> ApiResult<Vec<HardwareInfo>> {
        PROBE.scope(self.probe.clone(), self.inner.hardware()).await
    }
    async fn catalog(&self) -> ApiResult<Catalog> {
        PROBE.scope(self.probe.clone(), self.inner.catalog()).await
    }
    async fn price(&self, spec: &CreateSpec) -> ApiResult<Option<Price>> {
        PROBE.scope(self.probe.clone(), self.inner.price(spec)).await
    }
    async fn create(&self, spec: &CreateSpec) -> ApiResult<Applied> {
        PROBE.scope(self.probe.clone(), self.inner.create(spec)).await
    }
}
