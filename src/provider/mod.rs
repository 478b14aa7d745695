//! One trait over the three providers. Each submodule holds the wire types (serde, exactly the API's JSON),
//! the client, and the conversion to the model. `http` is the one shared reqwest client with retries.

pub mod count;
pub mod gcore;
pub mod http;
pub mod paging;
pub mod rate;
pub mod runai;
pub mod secret;
pub mod sesterce;

pub use secret::Secret;

use crate::model::{
    Catalog, CreateSpec, Deployment, HardwareInfo, LogLine, Price, Probes, ProviderKind, RegionInfo,
    ScaleUpdate, Series,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

/// Which Gcore API an account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GcoreApi {
    /// `/cloud/v3/inference/{project_id}/deployments/{name}`: PATCH updates, task polling.
    #[default]
    V3,
    /// Legacy `/cloud/v2/inference/deployments/{instance_id}`: full-replace PUT updates.
    V2,
}

/// The credential of one account. Every secret is a [`Secret`], which never prints itself.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `Authorization: APIKey <key>`; the project id goes in every v3 path.
    Gcore { api_key: Secret, project_id: i64 },
    /// `x-api-key: <key>`.
    Sesterce { api_key: Secret },
    /// Client credentials for `POST /api/v2/token`.
    Runai { client_id: String, client_secret: Secret },
}

impl Credentials {
    /// The secrets of the credential (what must never be shown, even when a server echoes it).
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Credentials::Gcore { api_key, .. } | Credentials::Sesterce { api_key } => vec![api_key],
            Credentials::Runai { client_secret, .. } => vec![client_secret],
        }
    }
}

/// Requests in flight to one account unless the config says otherwise. Sesterce lists need one request per
/// instance: at 16, a thousand-deployment fleet behind a 50 ms round trip refreshes in about a second, while
/// one account still holds at most 16 connections.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;

/// Everything needed to talk to one account.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    /// The account's name in the config (shown in the table).
    pub name: String,
    pub kind: ProviderKind,
    /// e.g. `https://api.gcore.com`; no trailing slash needed.
    pub base_url: String,
    pub credentials: Credentials,
    pub gcore_api: GcoreApi,
    /// Limit on requests in flight to this account.
    pub max_in_flight: usize,
    pub retry: http::RetryPolicy,
    /// Limit on requests per second to this account.
    pub rate_limit: http::RateLimit,
    /// Bounds on response bodies, lists and strings from this account.
    pub limits: http::Limits,
}

impl AccountSpec {
    /// `base_url` + `path`, with exactly one slash between.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url.trim_end_matches('/'), path.trim_start_matches('/'))
    }
}

/// Builds the client for an account. `client` is the process's shared connection pools (or one
/// `reqwest::Client` for both).
pub fn connect(spec: &AccountSpec, client: impl Into<http::Clients>) -> Arc<dyn Provider> {
    match spec.kind {
        ProviderKind::Gcore => Arc::new(gcore::GcoreClient::new(spec, client)),
        ProviderKind::Sesterce => Arc::new(sesterce::SesterceClient::new(spec, client)),
        ProviderKind::Runai => Arc::new(runai::RunaiClient::new(spec, client)),
    }
}

/// The accounts of a simulator at `base_url`, with its demo credentials.
pub fn demo_accounts(base_url: &str) -> Vec<AccountSpec> {
    let mk = |name: &str, kind, credentials| AccountSpec {
        name: name.to_string(),
        kind,
        base_url: base_url.to_string(),
        credentials,
        gcore_api: GcoreApi::V3,
        max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        retry: http::RetryPolicy::default(),
        // The simulator is our own, in-process: no provider to spare, so a high limit (still in the path).
        rate_limit: http::RateLimit { per_second: 500.0, burst: 500 },
        limits: http::Limits::default(),
    };
    vec![
        mk(
            "gcore-demo",
            ProviderKind::Gcore,
            Credentials::Gcore {
                api_key: Secret::new(crate::model::demo::DEMO_GCORE_KEY),
                project_id: crate::model::demo::DEMO_GCORE_PROJECT,
            },
        ),
        mk(
            "sesterce-demo",
            ProviderKind::Sesterce,
            Credentials::Sesterce { api_key: Secret::new(crate::model::demo::DEMO_SESTERCE_KEY) },
        ),
        mk(
            "runai-demo",
            ProviderKind::Runai,
            Credentials::Runai {
                client_id: crate::model::demo::DEMO_RUNAI_CLIENT_ID.to_string(),
                client_secret: Secret::new(crate::model::demo::DEMO_RUNAI_SECRET),
            },
        ),
    ]
}

/// What kind of failure an [`ApiError`] is, for the UI and the retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 401, or a token that could not be had.
    Auth,
    /// 403.
    Forbidden,
    NotFound,
    /// 400/422 with the provider's validation message.
    Validation,
    Conflict,
    RateLimited,
    /// 5xx.
    Server,
    /// Connection refused, reset, DNS, TLS.
    Network,
    Timeout,
    /// The body could not be understood.
    Decode,
    /// The provider does not offer this operation.
    Unsupported,
    /// A Gcore task that ended in ERROR, or anything else.
    Other,
}

/// An error from a provider, carrying the provider's own message and the HTTP status.
/// Never carries a credential: messages are built from response bodies and our own words only.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub provider: ProviderKind,
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: String,
    /// Field-level messages (`invalid_fields` for Gcore), as `(field, message)`.
    pub fields: Vec<(String, String)>,
    pub request_id: Option<String>,
    /// Seconds the server asked us to wait (`Retry-After`).
    pub retry_after: Option<f64>,
}

impl ApiError {
    pub fn new(provider: ProviderKind, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            provider,
            kind,
            status: None,
            message: message.into(),
            fields: Vec::new(),
            request_id: None,
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn unsupported(provider: ProviderKind, what: &str) -> Self {
        ApiError::new(provider, ErrorKind::Unsupported, format!("{provider} does not offer {what}"))
    }

    /// A full-body write refused before it was sent: the read before it did not return `fields` (absent, not
    /// null), the write must carry them, and leaving them out or sending them empty would `effect` ("clear",
    /// "reset") values nobody read. Names every field.
    /// Not transient: nothing was sent, so the outcome is known (no re-read, never "unknown").
    pub fn not_read(provider: ProviderKind, fields: &[&str], effect: &str) -> Self {
        let list = match fields {
            [] => String::new(),
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        let it = if fields.len() == 1 { "it" } else { "them" };
        let name = match provider {
            ProviderKind::Gcore => "Gcore",
            ProviderKind::Sesterce => "Sesterce",
            ProviderKind::Runai => "Run:ai",
        };
        ApiError::new(
            provider,
            ErrorKind::Other,
            format!("{name} did not return {list}: sending this edit would {effect} {it}. Nothing was sent."),
        )
    }

    /// Maps an HTTP status to a kind.
    pub fn kind_for_status(status: u16) -> ErrorKind {
        match status {
            400 | 422 => ErrorKind::Validation,
            401 => ErrorKind::Auth,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Other,
        }
    }

    /// Whether repeating the request could help (for requests that are safe to repeat). A body that could not
    /// be read counts: it is usually cut short on the way.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Network
                | ErrorKind::Timeout
                | ErrorKind::Decode
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} {}: {}", self.provider, s, self.message)?,
            None => write!(f, "{}: {}", self.provider, self.message)?,
        }
        for (field, msg) in &self.fields {
            write!(f, "; {field}: {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// Which operations a provider offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub update_scale: bool,
    pub update_probes: bool,
    pub start_stop: bool,
    pub delete: bool,
    pub logs: bool,
    pub metrics: bool,
    /// Has a logging configuration (Gcore).
    pub logging_config: bool,
    /// Scale is per region (Gcore, Sesterce) rather than one block (Run:ai).
    pub per_region_scale: bool,
    /// Gives a price per hour.
    pub pricing: bool,
    /// Creates deployments (not Gcore's legacy v2 API).
    pub create: bool,
}

/// A logs request: newest first, up to `limit` lines, optionally one region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub limit: u32,
    pub region_id: Option<String>,
}

/// A metrics request over a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub samples: u32,
    /// Run:ai pod id for pod-level metrics; None for the workload.
    pub pod: Option<String>,
}

/// Metric series plus whether the provider reported a partial result (Run:ai 207).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsResult {
    pub series: Vec<Series>,
    pub partial: bool,
}

/// How a mutation ended, as far as the provider says.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Accepted and finished (Gcore task FINISHED, or a synchronous API), with the deployment read back.
    Done(Box<Deployment>),
    /// The provider reported nothing to change (Gcore `{"tasks": []}`).
    NoChange(Box<Deployment>),
}

impl Applied {
    pub fn deployment(&self) -> &Deployment {
        match self {
            Applied::Done(d) | Applied::NoChange(d) => d,
        }
    }
}

/// One entry of a list that carries less than the details (Sesterce): the deployment as the list gives it,
/// and what changes in the list entry when the deployment changes (status and `updatedAt`).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub dep: Deployment,
    pub version: String,
}

/// Why a deployment's details could not be read, for [`Deployment::unknown`]: the endpoint and what was wrong,
/// control characters made visible and cut to a line.
pub fn details_unread(key: &crate::model::DeploymentKey, e: &ApiError) -> String {
    use crate::model::text::{sanitize, truncate};
    let id = truncate(&key.id, 64);
    let endpoint = match key.provider {
        ProviderKind::Sesterce => format!("GET /ai-inference/instances/{id}"),
        ProviderKind::Runai => format!("GET /api/v1/workloads/inferences/{id}"),
        ProviderKind::Gcore => format!("GET deployments/{id}"),
    };
    let what = e.to_string();
    sanitize(&format!("details not read ({endpoint}): {}", truncate(&what, 200))).into_owned()
}

/// A list as read: its items, what was wrong with it, and whether it was read to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T = Deployment> {
    /// The items read (one per id: a duplicate is dropped and named in `warnings`).
    pub items: Vec<T>,
    /// What was read but not right, each in words that name it: items that could not be read (counted, with
    /// where and why), ids listed twice.
    pub warnings: Vec<String>,
    /// The list stopped before its end (paging that repeats or runs past its total): `items` are the rows
    /// read up to there, a partial list, never the whole one.
    pub cut: Option<ApiError>,
}

impl<T> Listing<T> {
    /// A list read whole, with nothing wrong.
    pub fn whole(items: Vec<T>) -> Self {
        Listing { items, warnings: Vec::new(), cut: None }
    }

    /// The items of a list read to its end, or the error it stopped on (the warnings are dropped).
    pub fn complete(self) -> ApiResult<Vec<T>> {
        match self.cut {
            Some(e) => Err(e),
            None => Ok(self.items),
        }
    }

    /// Keeps the first item of each id (`id` of an item; None or empty: not compared) and names each id listed
    /// again, with how many times: `what` names the items ("Gcore deployments").
    pub fn dedup_by(&mut self, what: &str, id: impl Fn(&T) -> Option<&str>) {
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut again: Vec<String> = Vec::new();
        self.items.retain(|t| {
            let Some(i) = id(t).filter(|i| !i.is_empty()) else { return true };
            match seen.get_mut(i) {
                None => {
                    seen.insert(i.to_string(), 1);
                    true
                }
                Some(n) => {
                    if *n == 1 {
                        again.push(i.to_string());
                    }
                    *n += 1;
                    false
                }
            }
        });
        for i in again {
            let n = seen.get(&i).copied().unwrap_or(2);
            self.warnings.push(format!(
                "{what}: id {} is listed {n} times; one row is shown",
                crate::model::text::truncate(&crate::model::text::sanitize(&i), 80)
            ));
        }
    }
}

/// The price of one replica of each (account, hardware, region), each pair asked once and all at once: what
/// `snapshot` and the change commands price with (the dashboard keeps its own cache, `app::cost`).
pub async fn replica_prices(
    providers: &[Arc<dyn Provider>],
    pairs: impl IntoIterator<Item = (usize, String, String)>,
) -> std::collections::HashMap<(usize, String, String), crate::model::cost::Unit> {
    let mut unique: Vec<(usize, String, String)> = Vec::new();
    for pair in pairs {
        if !unique.contains(&pair) {
            unique.push(pair);
        }
    }
    let answers = futures::future::join_all(unique.iter().map(|(account, hw, region)| {
        let p = providers[*account].clone();
        async move { crate::model::cost::Unit::answered(p.kind(), p.replica_price(hw, region).await) }
    }))
    .await;
    unique.into_iter().zip(answers).collect()
}

/// A deployment that will not change by itself: healthy (every region ready, see [`Deployment::health`]), or
/// deliberately at rest (stopped, scaled to zero, failed). Anything else (deploying, partly ready, a region in
/// error, not read) is still moving or not known, and worth re-reading.
pub fn settled(d: &Deployment) -> bool {
    use crate::model::Health;
    match d.health() {
        Health::Ok => true,
        Health::Inactive | Health::Failed => {
            !matches!(d.status, crate::model::Status::Deleting | crate::model::Status::PhaseDeleting)
        }
        Health::Progressing | Health::Warning | Health::Unknown => false,
    }
}

/// One account of one provider. Implementations are cheap to share (`Arc<dyn Provider>`).
#[async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    /// The account name from the config (e.g. `gcore-prod`).
    fn account(&self) -> &str;
    fn capabilities(&self) -> Capabilities;

    /// Every inference deployment of the account (all pages), with what was wrong with the list; a list that
    /// stopped part way is the rows read and why it stopped ([`Listing::cut`]).
    async fn listing(&self) -> ApiResult<Listing>;
    /// [`Self::listing`] read to its end: its rows, or the error it stopped on.
    async fn list(&self) -> ApiResult<Vec<Deployment>> {
        self.listing().await?.complete()
    }
    /// [`Self::listing`], or None when the answer is byte for byte the last one, whose fingerprint `last`
    /// holds (then nothing is decoded). `last` is set where the provider can tell (a list that fits one page)
    /// and cleared otherwise; a failed list clears it too.
    async fn list_unless_same(&self, last: &mut Option<u64>) -> ApiResult<Option<Listing>> {
        *last = None;
        self.listing().await.map(Some)
    }
    /// Where [`Self::listing`] needs a details read per deployment (Sesterce), the list alone, in one
    /// request: the dashboard shows it at once and reads details where they matter ([`Self::get`]). None
    /// where `listing` already is the cheap call.
    async fn list_summaries(&self) -> Option<ApiResult<Listing<Listed>>> {
        None
    }
    /// Requests per second this account is sent right now (lower than configured after a 429), and the
    /// configured limit; None where there is no limit.
    fn effective_rate(&self) -> Option<(f64, f64)> {
        None
    }
    /// One deployment in full.
    async fn get(&self, id: &str) -> ApiResult<Deployment>;
    /// Sets the scale of every region; regions absent from `update` are removed. Reads the deployment right
    /// before sending so that nothing the edit did not touch is lost, then reads it back.
    async fn update_scale(&self, id: &str, update: &ScaleUpdate) -> ApiResult<Applied>;
    /// [`Self::update_scale`] with the deployment's model or registry as the user picked it, for a provider
    /// that wants it with every update but does not give it in its details (Sesterce).
    async fn update_scale_with_source(
        &self,
        id: &str,
        update: &ScaleUpdate,
        source: Option<&crate::model::ImageSource>,
    ) -> ApiResult<Applied> {
        match source {
            None => self.update_scale(id, update).await,
            Some(_) => Err(ApiError::unsupported(self.kind(), "choosing the model with an edit")),
        }
    }
    /// Sets the probes; same guarantees as `update_scale`.
    async fn update_probes(&self, id: &str, probes: &Probes) -> ApiResult<Applied>;
    /// Sets the settings `e` edits ([`crate::model::settings::Settings`]): only the fields the provider's update
    /// can change, each sent back exactly as read unless the settings change it (or left out where the update
    /// is partial); then reads the deployment back.
    async fn update_settings(
        &self,
        id: &str,
        settings: &crate::model::settings::Settings,
    ) -> ApiResult<Applied> {
        let _ = (id, settings);
        Err(ApiError::unsupported(self.kind(), "settings edits"))
    }
    async fn start(&self, id: &str) -> ApiResult<()>;
    async fn stop(&self, id: &str) -> ApiResult<()>;
    async fn delete(&self, id: &str) -> ApiResult<()>;
    async fn logs(&self, id: &str, query: &LogQuery) -> ApiResult<Vec<LogLine>> {
        let _ = (id, query);
        Err(ApiError::unsupported(self.kind(), "logs"))
    }
    async fn metrics(&self, id: &str, query: &MetricsQuery) -> ApiResult<MetricsResult> {
        let _ = (id, query);
        Err(ApiError::unsupported(self.kind(), "metrics"))
    }
    /// Regions of the catalog, with capacity where the API gives it.
    async fn regions(&self) -> ApiResult<Vec<RegionInfo>> {
        Err(ApiError::unsupported(self.kind(), "a regions catalog"))
    }
    /// Hardware / flavors of the catalog.
    async fn hardware(&self) -> ApiResult<Vec<HardwareInfo>> {
        Err(ApiError::unsupported(self.kind(), "a hardware catalog"))
    }
    /// Everything a create form offers: models, hardware, regions with capacity, registries (never their
    /// secrets), projects.
    async fn catalog(&self) -> ApiResult<Catalog> {
        Err(ApiError::unsupported(self.kind(), "a catalog"))
    }
    /// The price of a configuration at its maximum scale; `None` when the provider does not give one.
    async fn price(&self, spec: &CreateSpec) -> ApiResult<Option<Price>> {
        let _ = spec;
        Ok(None)
    }
    /// The price of ONE replica of `hardware` (as a deployment names it: Gcore flavor name, Sesterce hardware
    /// name or id) for one hour in `region`, from the provider's own pricing. `None` where the provider gives
    /// no price for it: never an estimate.
    async fn replica_price(&self, hardware: &str, region: &str) -> ApiResult<Option<Price>> {
        let _ = (hardware, region);
        Ok(None)
    }
    /// Creates a deployment and returns it once the provider knows it (Gcore: its task finished; Run:ai: the
    /// workload exists). It may still be deploying.
    async fn create(&self, spec: &CreateSpec) -> ApiResult<Applied> {
        let _ = spec;
        Err(ApiError::unsupported(self.kind(), "create"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentKey, RegionReplicas, Scale, Status};

    fn dep(status: Status, ready: u32, total: u32, error: Option<&str>) -> Deployment {
        let key = DeploymentKey { provider: ProviderKind::Sesterce, account: "s".into(), id: "i".into() };
        let mut d = Deployment::new(key, "i", status);
        d.detail = true;
        d.regions.push(RegionReplicas {
            region_id: "18".into(),
            region_name: None,
            ready,
            total,
            scale: Scale { min: 1, max: 3, ..Default::default() },
            error: error.map(str::to_string),
        });
        d
    }

    /// Settled follows the one health: only a healthy or at-rest deployment is left alone; one whose details
    /// could not be read, or with a region in error, is read again.
    #[test]
    fn settled_follows_the_one_health() {
        assert!(settled(&dep(Status::Active, 3, 3, None)));
        assert!(settled(&dep(Status::Disabled, 0, 0, None)));
        assert!(!settled(&dep(Status::Active, 3, 3, Some("OOMKilled"))));
        assert!(!settled(&dep(Status::Active, 1, 3, None)));
        let mut unread = dep(Status::Active, 0, 0, None);
        unread.regions.clear();
        unread.detail = false;
        unread.unknown = Some("details not read (GET /ai-inference/instances/i): sesterce 429".into());
        assert!(!settled(&unread));
        assert!(!settled(&Deployment { unknown: None, ..unread }), "a summary without replicas is not read");
    }
}
