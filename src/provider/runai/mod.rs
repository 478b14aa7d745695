//! NVIDIA Run:ai inference workloads.
//!
//! Auth is a client-credentials token from `POST /api/v2/token`, or from the deprecated `POST /api/v1/token`
//! when v2 answers 404/405 (older control planes); its lifetime is `expires_in`, else the JWT's `exp`. It is
//! cached, refreshed 60 s before it expires and once on a 401 (the request is then repeated once); refreshes
//! are single-flight. There is no inference list endpoint: `GET /api/v1/workloads` is paged and the
//! inference workloads are kept here, whatever the casing of their `type` (no document fixes it). A
//! deployment is three reads merged: the inference (spec), the generic workload (phase, running pods, urls)
//! and its pods. PATCH replaces whole sections of the spec, so an edit starts from the section as it is right
//! now and changes only the keys the edit changes.

pub mod convert;
pub mod create;
pub mod wire;

use super::http::{ErrorParser, Http, MappedPage, Request, Response, fallback_message};
use super::paging::{self, PageGuard};
use super::{
    AccountSpec, ApiError, ApiResult, Applied, Capabilities, Credentials, ErrorKind, Listing, MetricsQuery,
    MetricsResult, Provider, Secret,
};
use crate::model::settings::Settings;
use crate::model::{Deployment, Probe, Probes, ProviderKind, Scale, ScaleUpdate};
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

const P: ProviderKind = ProviderKind::Runai;
/// A workload of the list: its id (hashed, for the page guard) and, for an inference one, the deployment.
type WorkloadItem = (Option<u64>, Option<Deployment>);
/// Refresh a token this long before the server says it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
const PAGE: u32 = 200;
/// A guard against a server whose `next` never ends.
const MAX_PAGES: usize = 1000;
/// Pages of the workloads list read at once when the count is known (see the Gcore client's).
const PAGES_AT_ONCE: usize = 2;
/// The longest a token is kept, whatever the server says (seconds).
const MAX_TOKEN_LIFETIME: i64 = 86_400;

/// The cached access token; its value prints as `***`.
#[derive(Debug)]
struct Token {
    value: Secret,
    refresh_at: Instant,
}

pub struct RunaiClient {
    account: String,
    base_url: String,
    client_id: String,
    client_secret: Option<Secret>,
    http: Http,
    /// Page size of list calls.
    page: u32,
    /// The cached token. Held across the token request so that concurrent callers share one refresh.
    token: tokio::sync::Mutex<Option<Token>>,
    /// Set once `/api/v2/token` answered 404 or 405: the control plane has only the v1 token endpoint.
    v1_only: std::sync::atomic::AtomicBool,
    /// The v1 token endpoint refused the client_credentials grant and took `app_token`: asked that way since.
    v1_app_token: std::sync::atomic::AtomicBool,
    /// Cluster uuid -> name from `GET /api/v1/clusters` (None: the list had no name for it). Read at most
    /// once per list (refresh cycle), and only when a cluster turns up that it has not seen.
    cluster_names: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
    /// Set once the clusters call answered 403 or 404: names stay ids, and the call is not repeated.
    clusters_unavailable: std::sync::atomic::AtomicBool,
    /// Set once the workloads count answered 403, 404 or 405: lists are read page by page.
    count_unavailable: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for RunaiClient {
    /// The client secret and the cached token print as `***` (both are [`Secret`]s).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("RunaiClient");
        d.field("account", &self.account)
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret);
        match self.token.try_lock() {
            Ok(t) => d.field("token", &*t),
            Err(_) => d.field("token", &"<being refreshed>"),
        };
        d.finish_non_exhaustive()
    }
}

/// Reads Run:ai error bodies: `{code, message, details?}`, or OAuth2 `{error, error_description}` on the
/// token path.
pub fn parse_error(provider: ProviderKind, status: u16, body: &[u8]) -> ApiError {
    let kind = ApiError::kind_for_status(status);
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        v.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    };
    let message = if let Some(m) = field("message") {
        match field("details") {
            Some(d) if d != m => format!("{m} ({d})"),
            _ => m.to_string(),
        }
    } else if let Some(e) = field("error") {
        match field("error_description") {
            Some(d) => format!("{d} ({e})"),
            None => e.to_string(),
        }
    } else {
        fallback_message(status, body)
    };
    ApiError::new(provider, kind, message).with_status(status)
}

fn decode<T: serde::de::DeserializeOwned>(v: Value, status: u16) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        ApiError::new(
            P,
            ErrorKind::Decode,
            format!("could not read the response ({} at {})", e.inner(), e.path()),
        )
        .with_status(status)
    })
}

/// An edit refused before sending: the field and why are in `fields`.
fn invalid(field: &str, msg: &str) -> ApiError {
    let mut e = ApiError::new(P, ErrorKind::Validation, "the edit cannot be expressed in the Run:ai API");
    e.fields.push((field.to_string(), msg.to_string()));
    e
}

/// One path segment, percent-encoded: ids come from the network, and an id holding `/`, `?` or `#` must not
/// turn a request for one workload into a request for another path.
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl RunaiClient {
    pub fn new(spec: &AccountSpec, client: impl Into<super::http::Clients>) -> Self {
        let (client_id, client_secret) = match &spec.credentials {
            Credentials::Runai { client_id, client_secret } => {
                (client_id.clone(), Some(client_secret.clone()))
            }
            _ => (String::new(), None),
        };
        let parser: ErrorParser = parse_error;
        RunaiClient {
            account: spec.name.clone(),
            base_url: spec.base_url.trim_end_matches('/').to_string(),
            client_id,
            client_secret,
            http: Http::new(client, P, spec.max_in_flight, spec.retry, parser)
                .with_rate_limit(spec.rate_limit)
                .with_limits(spec.limits)
                .with_secrets(spec.credentials.secrets()),
            page: PAGE,
            token: tokio::sync::Mutex::new(None),
            v1_only: std::sync::atomic::AtomicBool::new(false),
            v1_app_token: std::sync::atomic::AtomicBool::new(false),
            cluster_names: Default::default(),
            clusters_unavailable: std::sync::atomic::AtomicBool::new(false),
            count_unavailable: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Uses pages of `n` items in list calls (1..=500; the API's default is 50).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page = n.clamp(1, 500);
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// A valid token: the cached one unless it is due for refresh or is `stale` (the one a 401 was given
    /// for). The lock is held during the token request, so a burst of callers makes one request.
    async fn token(&self, stale: Option<&Secret>) -> ApiResult<Secret> {
        let mut guard = self.token.lock().await;
        // (`<=` would be an equivalent mutant: it differs only at the very instant of `refresh_at`.)
        if let Some(t) = guard.as_ref()
            && Some(&t.value) != stale
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        *guard = None;
        let secret = self.client_secret.as_ref().ok_or_else(|| {
            ApiError::new(P, ErrorKind::Auth, "the account has no Run:ai client credentials")
        })?;
        use std::sync::atomic::Ordering;
        let (access_token, expires_in) = if self.v1_only.load(Ordering::Relaxed) {
            self.token_v1(secret).await?
        } else {
            match self.token_v2(secret).await {
                // An older control plane has only the v1 endpoint (as NVIDIA's own clients use).
                Err(e) if matches!(e.status, Some(404 | 405)) => {
                    tracing::info!(account = %self.account, "runai: /api/v2/token not served, using /api/v1/token");
                    let t = self.token_v1(secret).await?;
                    self.v1_only.store(true, Ordering::Relaxed);
                    t
                }
                other => other?,
            }
        };
        // The lifetime: `expires_in` when given, else the token's own `exp` claim (a JWT), else an hour (a
        // 401 refreshes it early anyway).
        let secs = expires_in.or_else(|| jwt_lifetime(&access_token)).unwrap_or(3600);
        // A token said to live longer than a day is refreshed after a day anyway; the cap also keeps a huge
        // lifetime from overflowing the clock.
        let lifetime = Duration::from_secs(secs.clamp(0, MAX_TOKEN_LIFETIME) as u64);
        // A short-lived token is refreshed at half its life rather than on every request.
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let value = Secret::new(access_token);
        // From now on a server that echoes it (`Bearer …`) is scrubbed.
        self.http.remember_token(&value);
        *guard = Some(Token { value: value.clone(), refresh_at: Instant::now() + lifetime - margin });
        Ok(value)
    }

    /// A token error says what it was and counts as an auth error when the credentials were refused.
    fn token_error(mut e: ApiError) -> ApiError {
        if matches!(e.status, Some(400 | 401 | 403)) {
            e.kind = ErrorKind::Auth;
        }
        e.message = format!("could not get an access token: {}", e.message);
        e
    }

    /// `POST /api/v2/token`, form-encoded client credentials: (token, `expires_in`).
    async fn token_v2(&self, secret: &Secret) -> ApiResult<(String, Option<i64>)> {
        let req = Request::new(Method::POST, self.url("/api/v2/token"))
            .form(vec![
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), self.client_id.clone()),
                ("client_secret".into(), secret.expose().to_string()),
            ])
            .idempotent(true);
        // A 404 or 405 keeps its status through `token_error`: the caller falls back to v1 on it.
        let resp = self.http.send(&req).await.map_err(Self::token_error)?;
        let t: wire::TokenResponse = resp.json(P)?;
        if t.access_token.is_empty() {
            return Err(ApiError::new(P, ErrorKind::Auth, "the token response held no access token")
                .with_status(resp.status.as_u16()));
        }
        Ok((t.access_token, t.expires_in))
    }

    /// `POST /api/v1/token` (deprecated, the only one on older control planes), JSON: client credentials as
    /// the spec gives them, or, where the plane refuses that grant (400), the `app_token` grant NVIDIA's own
    /// client sends (`AppId`/`AppSecret`), remembered for later sign-ins: (token, `expiresIn`).
    async fn token_v1(&self, secret: &Secret) -> ApiResult<(String, Option<i64>)> {
        use std::sync::atomic::Ordering;
        let body = |app: bool| {
            if app {
                json!({ "grantType": "app_token", "AppId": self.client_id, "AppSecret": secret.expose() })
            } else {
                json!({ "grantType": "client_credentials", "clientID": self.client_id, "clientSecret": secret.expose() })
            }
        };
        let send = |app: bool| {
            let req = Request::new(Method::POST, self.url("/api/v1/token")).json(body(app)).idempotent(true);
            async move { self.http.send(&req).await }
        };
        let app = self.v1_app_token.load(Ordering::Relaxed);
        let resp = match send(app).await {
            Err(e) if e.status == Some(400) && !app => {
                tracing::info!(account = %self.account, "runai: /api/v1/token refused client_credentials, trying app_token");
                let resp = send(true).await.map_err(Self::token_error)?;
                self.v1_app_token.store(true, Ordering::Relaxed);
                resp
            }
            other => other.map_err(Self::token_error)?,
        };
        let t: wire::TokenResponseV1 = resp.json(P)?;
        if t.access_token.is_empty() {
            return Err(ApiError::new(P, ErrorKind::Auth, "the token response held no access token")
                .with_status(resp.status.as_u16()));
        }
        Ok((t.access_token, t.expires_in))
    }

    /// Sends with a bearer token; on a 401 refreshes the token once and repeats the request once.
    async fn call(&self, req: Request) -> ApiResult<Response> {
        let token = self.token(None).await?;
        let first = req.clone().header("authorization", &format!("Bearer {}", token.expose()));
        match self.http.send(&first).await {
            Err(e) if e.status == Some(401) => {
                let fresh = self.token(Some(&token)).await?;
                let again = req.header("authorization", &format!("Bearer {}", fresh.expose()));
                self.http.send(&again).await
            }
            other => other,
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, req: Request) -> ApiResult<T> {
        self.call(req).await?.json(P)
    }

    /// `GET /api/v1/workloads/count`, for reading a long list's pages at once. None when it cannot be had
    /// (an older control plane answers 404 or 403: not asked again), and the list is read page by page.
    async fn count_workloads(&self) -> Option<i64> {
        use std::sync::atomic::Ordering::Relaxed;
        if self.count_unavailable.load(Relaxed) {
            return None;
        }
        let req = Request::new(Method::GET, self.url("/api/v1/workloads/count"));
        match self.get_json::<wire::WorkloadsCount>(req).await {
            Ok(c) => c.count.filter(|n| *n >= 0),
            Err(e) => {
                if matches!(e.status, Some(403..=405)) {
                    self.count_unavailable.store(true, Relaxed);
                }
                tracing::debug!(account = %self.account, error = %e, "run:ai workloads count unavailable");
                None
            }
        }
    }

    /// Re-reads the cluster names. A failure keeps the last names (or the ids): names are a nicety, the
    /// list must not fail for them.
    async fn refresh_cluster_names(&self, wanted: &[&Deployment]) {
        use std::sync::atomic::Ordering::Relaxed;
        let ids: Vec<String> = {
            let known = self.cluster_names.lock().unwrap_or_else(|e| e.into_inner());
            wanted
                .iter()
                .flat_map(|d| &d.regions)
                .filter(|r| !known.contains_key(&r.region_id))
                .map(|r| r.region_id.clone())
                .collect()
        };
        if ids.is_empty() || self.clusters_unavailable.load(Relaxed) {
            return;
        }
        let req = Request::new(Method::GET, self.url("/api/v1/clusters"));
        match self.get_json::<Vec<wire::Cluster>>(req).await {
            Ok(clusters) => {
                let mut names: std::collections::HashMap<String, Option<String>> = clusters
                    .into_iter()
                    .filter_map(|c| Some((c.uuid?, c.name.filter(|n| !n.is_empty()))))
                    .collect();
                // Not in the list: shown by id, and not asked about again until the next unknown cluster.
                for id in ids {
                    names.entry(id).or_insert(None);
                }
                *self.cluster_names.lock().unwrap_or_else(|e| e.into_inner()) = names;
            }
            Err(e) if matches!(e.status, Some(403 | 404)) => self.clusters_unavailable.store(true, Relaxed),
            Err(e) => tracing::debug!("runai clusters: {e}"),
        }
    }

    /// Shows each region (cluster) by its name where the clusters list gave one.
    fn name_clusters(&self, d: &mut Deployment) {
        let names = self.cluster_names.lock().unwrap_or_else(|e| e.into_inner());
        for r in &mut d.regions {
            if r.region_name.is_none() {
                r.region_name = names.get(&r.region_id).and_then(|n| n.as_deref()).map(crate::model::intern);
            }
        }
    }

    fn inference_path(id: &str) -> String {
        format!("/api/v1/workloads/inferences/{}", seg(id))
    }

    /// The inference as raw JSON (what an edit starts from) and as wire type.
    async fn read_inference(&self, id: &str) -> ApiResult<(Value, wire::Inference)> {
        let resp = self.call(Request::new(Method::GET, self.url(&Self::inference_path(id)))).await?;
        let raw: Value = resp.json(P)?;
        let inf = decode(raw.clone(), resp.status.as_u16())?;
        Ok((raw, inf))
    }

    async fn pods(&self, id: &str) -> ApiResult<Vec<wire::Pod>> {
        let mut out = Vec::new();
        let mut offset: i64 = 0;
        for _ in 0..MAX_PAGES {
            let req = Request::new(Method::GET, self.url(&format!("/api/v1/workloads/{}/pods", seg(id))))
                .query("offset", offset)
                .query("limit", self.page);
            let page: wire::PodsPage = self.get_json(req).await?;
            let n = page.pods.len();
            out.extend(page.pods);
            self.http.check_items("/api/v1/workloads/{id}/pods", out.len())?;
            match page.next {
                Some(next) if next > offset && n > 0 => offset = next,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Sends one section of the spec (replaced whole by the server) and reads the deployment back.
    async fn patch_section(&self, id: &str, section: &str, value: Value) -> ApiResult<Applied> {
        let body = json!({ "spec": { section: value } });
        // Repeating the same whole-section replace is harmless.
        let req =
            Request::new(Method::PATCH, self.url(&Self::inference_path(id))).json(body).idempotent(true);
        let resp = self.call(req).await?;
        let _: wire::Inference = resp.json(P)?;
        Ok(Applied::Done(Box::new(self.get(id).await?)))
    }

    /// Creates an inference workload (`POST /api/v1/workloads/inferences`, 202). The returned deployment is
    /// built from the create response alone (the workload is still being created).
    pub async fn create(&self, request: &wire::InferenceCreationRequest) -> ApiResult<Deployment> {
        let body = serde_json::to_value(request)
            .map_err(|e| ApiError::new(P, ErrorKind::Other, format!("could not encode the request: {e}")))?;
        let req = Request::new(Method::POST, self.url("/api/v1/workloads/inferences")).json(body);
        let inf: wire::Inference = self.get_json(req).await?;
        Ok(convert::deployment(&self.account, &inf, None, None))
    }

    async fn metrics_call(
        &self,
        path: String,
        types: &str,
        q: &MetricsQuery,
    ) -> ApiResult<(wire::MetricsResponse, bool)> {
        let req = Request::new(Method::GET, self.url(&path))
            .query("metricType", types)
            .query("start", rfc3339(q.start))
            .query("end", rfc3339(q.end))
            .query("numberOfSamples", q.samples.min(1000));
        let resp = self.call(req).await?;
        let partial = resp.status == StatusCode::MULTI_STATUS;
        Ok((resp.json(P)?, partial))
    }
}

/// Sets `key` to `v` (or removes it for None); says whether anything was written.
fn put(obj: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    match v {
        Some(v) => {
            obj.insert(key.to_string(), v);
        }
        None => {
            obj.remove(key);
        }
    }
}

fn object_at(v: &Value, key: &str) -> Map<String, Value> {
    v.get(key).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The new `environmentVariables` list: every item as read, a plain value changed or removed as `envs` says,
/// references and excluded items untouched (a reference's name is never appended as a plain value), new
/// names appended.
fn edit_envs(current: Option<&Value>, envs: &std::collections::BTreeMap<String, String>) -> Vec<Value> {
    let list = current.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(list.len() + envs.len());
    let mut seen = std::collections::BTreeSet::new();
    for item in list {
        let Some(obj) = item.as_object() else {
            out.push(item);
            continue;
        };
        let name = obj.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let reference = !["secret", "configMap", "userCredential", "podFieldRef"]
            .iter()
            .all(|k| obj.get(*k).is_none_or(Value::is_null));
        let excluded = obj.get("exclude").and_then(Value::as_bool) == Some(true);
        if reference || excluded || name.is_empty() {
            // A reference is shown by its marker (`<secret name/key>`): its name is taken, and the marker is
            // never sent back as a plain value. A change to it does not take, and the read-back says so.
            if reference && !excluded && !name.is_empty() {
                seen.insert(name);
            }
            out.push(item);
            continue;
        }
        if let Some(v) = envs.get(&name) {
            let mut o = obj.clone();
            o.insert("value".into(), json!(v));
            out.push(Value::Object(o));
            seen.insert(name);
        }
    }
    for (k, v) in envs {
        if !seen.contains(k) {
            out.push(json!({ "name": k, "value": v }));
        }
    }
    out
}

/// The new `autoscaling` object: the current one with only the keys the edit changes rewritten.
fn edit_autoscaling(
    current_raw: &Map<String, Value>,
    current: &Scale,
    want: &Scale,
) -> Option<Map<String, Value>> {
    let mut obj = current_raw.clone();
    let mut changed = false;
    if want.min != current.min {
        put(&mut obj, "minReplicas", Some(json!(want.min)));
        changed = true;
    }
    if want.max != current.max {
        put(&mut obj, "maxReplicas", Some(json!(want.max)));
        changed = true;
    }
    if want.scale_to_zero_retention_seconds != current.scale_to_zero_retention_seconds {
        put(&mut obj, "scaleToZeroRetentionSeconds", want.scale_to_zero_retention_seconds.map(|v| json!(v)));
        changed = true;
    }
    if want.triggers.metric != current.triggers.metric {
        match &want.triggers.metric {
            Some(m) => {
                put(&mut obj, "metric", Some(json!(m.metric)));
                put(&mut obj, "metricThreshold", Some(json!(m.threshold)));
            }
            None => {
                obj.remove("metric");
                obj.remove("metricThreshold");
            }
        }
        changed = true;
    }
    changed.then_some(obj)
}

/// The new `probes` object, or None when the edit changes nothing.
fn edit_probes(
    current_raw: &Map<String, Value>,
    current: Option<&Probe>,
    want: Option<&Probe>,
) -> Option<Map<String, Value>> {
    let mut obj = current_raw.clone();
    let Some(want) = want else {
        if current.is_some() {
            obj.remove("readiness");
            return Some(obj);
        }
        return None;
    };
    let empty = Probe::default();
    let cur = current.unwrap_or(&empty);
    let mut r = object_at(&Value::Object(current_raw.clone()), "readiness");
    let mut changed = current.is_none();
    for (key, w, c) in [
        ("initialDelaySeconds", want.initial_delay_seconds, cur.initial_delay_seconds),
        ("periodSeconds", want.period_seconds, cur.period_seconds),
        ("timeoutSeconds", want.timeout_seconds, cur.timeout_seconds),
        ("successThreshold", want.success_threshold, cur.success_threshold),
        ("failureThreshold", want.failure_threshold, cur.failure_threshold),
    ] {
        if w != c {
            put(&mut r, key, w.map(|v| json!(v)));
            changed = true;
        }
    }
    let mut handler = object_at(&Value::Object(r.clone()), "handler");
    let mut hg = object_at(&Value::Object(handler.clone()), "httpGet");
    let mut handler_changed = false;
    if let Some(h) = &want.http_get {
        let ch = cur.http_get.as_ref();
        if ch.map(|c| &c.path) != Some(&h.path) {
            put(&mut hg, "path", Some(json!(h.path)));
            handler_changed = true;
        }
        if ch.map(|c| c.port) != Some(h.port) {
            put(&mut hg, "port", Some(json!(h.port)));
            handler_changed = true;
        }
        if ch.map(|c| &c.scheme) != Some(&h.scheme) {
            put(&mut hg, "scheme", Some(json!(h.scheme)));
            handler_changed = true;
        }
        if ch.map(|c| &c.host) != Some(&h.host) {
            put(&mut hg, "host", h.host.as_ref().map(|v| json!(v)));
            handler_changed = true;
        }
    }
    if handler_changed {
        handler.insert("httpGet".into(), Value::Object(hg));
        r.insert("handler".into(), Value::Object(handler));
        changed = true;
    }
    if !changed {
        return None;
    }
    obj.insert("readiness".into(), Value::Object(r));
    Some(obj)
}

/// Seconds until a JWT's `exp` claim, read from its payload without checking the signature (it only sets
/// when the token is refreshed). None when the token is not a JWT or has no `exp`.
pub fn jwt_lifetime(token: &str) -> Option<i64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let trimmed = payload.trim_end_matches('=');
    // base64url per RFC 7519; some issuers use the standard alphabet.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()? as i64;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some((exp - now).max(0))
}

#[async_trait]
impl Provider for RunaiClient {
    fn effective_rate(&self) -> Option<(f64, f64)> {
        self.http.effective_rate()
    }

    fn kind(&self) -> ProviderKind {
        P
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update_scale: true,
            update_probes: true,
            // The inference API (as cut in the spec and the seed) has no suspend/resume.
            start_stop: false,
            delete: true,
            logs: false,
            metrics: true,
            logging_config: false,
            per_region_scale: false,
            pricing: false,
            create: true,
        }
    }

    async fn listing(&self) -> ApiResult<Listing> {
        use futures::StreamExt;
        // No `filterBy=type==...`: the type's casing and how the filter matches it are not documented,
        // so every workload is read and the inference ones are kept here, whatever their casing.
        // Each workload is converted as soon as it is decoded, and only the inference ones are kept; every
        // workload's id is kept (hashed) for the page guard.
        let convert = |w: wire::Workload| {
            let inference = w.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("inference"));
            let id = w.id.as_deref().filter(|i| !i.is_empty()).map(paging::id_hash);
            Some((id, if inference { convert::from_workload(&self.account, &w) } else { None }))
        };
        const ENDPOINT: &str = "/api/v1/workloads";
        let page_at = |offset: i64| {
            let req = Request::new(Method::GET, self.url(ENDPOINT))
                .query("offset", offset)
                .query("limit", self.page)
                .large_body();
            let convert = &convert;
            async move {
                let page = async {
                    self.call(req).await?.json_page::<wire::Workload, WorkloadItem, wire::PageNext>(
                        P,
                        "workloads",
                        false,
                        convert,
                    )
                };
                (offset, page.await)
            }
        };
        let mut out = Vec::new();
        let mut guard = PageGuard::new(P, ENDPOINT);
        // Counted before the type filter: an endless list of other workloads must end too.
        let mut seen = 0usize;
        let mut keep = |page: MappedPage<WorkloadItem, wire::PageNext>,
                        out: &mut Vec<Deployment>,
                        guard: &mut PageGuard|
         -> ApiResult<usize> {
            let n = page.seen;
            seen += n;
            guard.page(page.items.iter().map(|(id, _)| *id))?;
            self.http.check_items(ENDPOINT, seen)?;
            out.extend(page.items.into_iter().filter_map(|(_, d)| d));
            Ok(n)
        };
        let first = page_at(0).await.1?;
        let step = first.seen as i64;
        // The offset of the last page read and the `next` it gave.
        let (mut offset, mut next) = (0, first.meta.next);
        keep(first, &mut out, &mut guard)?;
        // From here, an error stops the list with what was read.
        let rest = async {
            let mut read = 1;
            // `next` reads as the next offset when the first page says so; then the pages the count announces
            // are read several at once and taken in order.
            if step > 0
                && next == Some(step)
                && let Some(total) = self.count_workloads().await
            {
                guard.total(total as u64, step as u64);
                let end = total.min(self.http.max_list_items() as i64 + 1);
                let planned: Vec<i64> =
                    (1..MAX_PAGES as i64).map(|k| k * step).take_while(|o| *o < end).collect();
                read += planned.len();
                let mut pages = futures::stream::iter(planned).map(page_at).buffered(PAGES_AT_ONCE);
                while let Some((o, page)) = pages.next().await {
                    let page = page?;
                    (offset, next) = (o, page.meta.next);
                    if keep(page, &mut out, &mut guard)? == 0 {
                        // The list shrank while it was read: nothing after an empty page.
                        next = None;
                        break;
                    }
                }
            }
            // One by one from there: the pages the list grew by meanwhile, or all of them without a count.
            for _ in read..MAX_PAGES {
                match next {
                    Some(n) if n > offset => offset = n,
                    _ => return Ok(()),
                }
                let page = page_at(offset).await.1?;
                next = page.meta.next;
                if keep(page, &mut out, &mut guard)? == 0 {
                    return Ok(());
                }
            }
            match next {
                Some(n) if n > offset => {
                    Err(guard.stop(format!("it still had more after {MAX_PAGES} pages")))
                }
                _ => Ok(()),
            }
        };
        let cut: ApiResult<()> = rest.await;
        self.refresh_cluster_names(&out.iter().collect::<Vec<_>>()).await;
        for d in &mut out {
            self.name_clusters(d);
        }
        let mut listing = Listing { items: out, warnings: Vec::new(), cut: cut.err() };
        listing.dedup_by("Run:ai workloads", |d| Some(d.key.id.as_str()));
        Ok(listing)
    }

    async fn get(&self, id: &str) -> ApiResult<Deployment> {
        let workload_req = Request::new(Method::GET, self.url(&format!("/api/v1/workloads/{}", seg(id))));
        let (inf, workload, pods) = tokio::join!(
            self.read_inference(id),
            self.get_json::<wire::Workload>(workload_req),
            self.pods(id)
        );
        let (_, inf) = inf?;
        let workload = workload?;
        let pods = pods?;
        let mut d = convert::deployment(&self.account, &inf, Some(&workload), Some(&pods));
        self.refresh_cluster_names(&[&d]).await;
        self.name_clusters(&mut d);
        Ok(d)
    }

    async fn update_scale(&self, id: &str, update: &ScaleUpdate) -> ApiResult<Applied> {
        let [region] = update.regions.as_slice() else {
            return Err(invalid("regions", "Run:ai workloads have exactly one autoscaling block"));
        };
        let want = &region.scale;
        let t = &want.triggers;
        if t.cpu.is_some()
            || t.memory.is_some()
            || t.gpu_utilization.is_some()
            || t.gpu_memory.is_some()
            || t.http.is_some()
            || !t.other.is_empty()
        {
            return Err(invalid(
                "regions[0].scale.triggers",
                "Run:ai scales on one metric (concurrency, throughput, latency or custom)",
            ));
        }
        if want.cooldown_seconds.is_some() || want.polling_interval_seconds.is_some() {
            return Err(invalid("regions[0].scale", "Run:ai has no cooldown or polling interval"));
        }
        let (raw, inf) = self.read_inference(id).await?;
        if let Some(cluster) = inf.cluster_id.as_deref()
            && !region.region_id.is_empty()
            && region.region_id != cluster
        {
            return Err(invalid("regions[0].region", "the workload runs in another cluster"));
        }
        let spec = raw.get("spec").cloned().unwrap_or(Value::Null);
        let current = convert::scale(inf.spec.as_ref().and_then(|s| s.autoscaling.as_ref()));
        match edit_autoscaling(&object_at(&spec, "autoscaling"), &current, want) {
            Some(obj) => self.patch_section(id, "autoscaling", Value::Object(obj)).await,
            None => Ok(Applied::NoChange(Box::new(self.get(id).await?))),
        }
    }

    async fn update_probes(&self, id: &str, probes: &Probes) -> ApiResult<Applied> {
        if probes.liveness.is_some() || probes.startup.is_some() {
            return Err(invalid("probes", "Run:ai offers a readiness probe only"));
        }
        let want = probes.readiness.as_ref().filter(|c| c.enabled).map(|c| &c.probe);
        if let Some(p) = want
            && (p.http_get.is_none() || p.exec.is_some() || p.tcp_socket.is_some())
        {
            return Err(invalid("readiness.kind", "Run:ai probes support HTTP GET only"));
        }
        let (raw, inf) = self.read_inference(id).await?;
        let spec = raw.get("spec").cloned().unwrap_or(Value::Null);
        let current = convert::probes(inf.spec.as_ref().and_then(|s| s.probes.as_ref()));
        let current = current.readiness.as_ref().map(|c| &c.probe);
        match edit_probes(&object_at(&spec, "probes"), current, want) {
            Some(obj) => self.patch_section(id, "probes", Value::Object(obj)).await,
            None => Ok(Applied::NoChange(Box::new(self.get(id).await?))),
        }
    }

    async fn update_settings(&self, id: &str, s: &Settings) -> ApiResult<Applied> {
        let (raw, inf) = self.read_inference(id).await?;
        let spec = raw.get("spec").cloned().unwrap_or(Value::Null);
        let cur_dep = convert::deployment(&self.account, &inf, None, None);
        let cur = Settings::from_deployment(&cur_dep);
        if s.source.is_some() {
            return Err(ApiError::unsupported(P, "a catalog model or registry (set the image instead)"));
        }
        for (what, differs) in [
            ("port (servingPort is not patchable)", s.port != cur.port),
            ("the command", s.command != cur.command),
            ("a description", s.description != cur.description),
            ("logging settings", s.logging.is_some()),
        ] {
            if differs {
                return Err(ApiError::unsupported(P, &format!("changing {what}")));
            }
        }
        // Like NVIDIA's own client, only the sections that change are sent; each is sent whole.
        let mut sections = Map::new();
        if s.image != cur.image {
            match &s.image {
                Some(i) if !i.trim().is_empty() => {
                    sections.insert("image".into(), json!(i));
                }
                _ => return Err(invalid("image", "a Run:ai workload needs an image")),
            }
        }
        if s.envs != cur.envs {
            sections.insert(
                "environmentVariables".into(),
                Value::Array(edit_envs(spec.get("environmentVariables"), &s.envs)),
            );
        }
        if s.scale != cur.scale {
            let [region] = s.scale.regions.as_slice() else {
                return Err(invalid("regions", "Run:ai workloads have exactly one autoscaling block"));
            };
            let current = convert::scale(inf.spec.as_ref().and_then(|x| x.autoscaling.as_ref()));
            if let Some(obj) = edit_autoscaling(&object_at(&spec, "autoscaling"), &current, &region.scale) {
                sections.insert("autoscaling".into(), Value::Object(obj));
            }
        }
        let want_probes = s.probes.clone().unwrap_or_default();
        if want_probes != cur.probes.clone().unwrap_or_default() {
            if want_probes.liveness.is_some() || want_probes.startup.is_some() {
                return Err(invalid("probes", "Run:ai offers a readiness probe only"));
            }
            let want = want_probes.readiness.as_ref().filter(|c| c.enabled).map(|c| &c.probe);
            let current = convert::probes(inf.spec.as_ref().and_then(|x| x.probes.as_ref()));
            let current = current.readiness.as_ref().map(|c| &c.probe);
            if let Some(obj) = edit_probes(&object_at(&spec, "probes"), current, want) {
                sections.insert("probes".into(), Value::Object(obj));
            }
        }
        if sections.is_empty() {
            return Ok(Applied::NoChange(Box::new(self.get(id).await?)));
        }
        let body = json!({ "spec": Value::Object(sections) });
        // Repeating the same whole-section replace is harmless.
        let req =
            Request::new(Method::PATCH, self.url(&Self::inference_path(id))).json(body).idempotent(true);
        let resp = self.call(req).await?;
        let _: wire::Inference = resp.json(P)?;
        Ok(Applied::Done(Box::new(self.get(id).await?)))
    }

    async fn start(&self, _id: &str) -> ApiResult<()> {
        Err(ApiError::unsupported(P, "starting an inference (the inference API has no resume)"))
    }

    async fn stop(&self, _id: &str) -> ApiResult<()> {
        Err(ApiError::unsupported(P, "stopping an inference (the inference API has no suspend)"))
    }

    async fn delete(&self, id: &str) -> ApiResult<()> {
        let req = Request::new(Method::DELETE, self.url(&Self::inference_path(id)));
        let _: wire::HttpResponse = self.get_json(req).await?;
        Ok(())
    }

    async fn metrics(&self, id: &str, query: &MetricsQuery) -> ApiResult<MetricsResult> {
        let id = seg(id);
        let (inf_path, wl_path) = match query.pod.as_deref().map(seg) {
            Some(pod) => (
                format!("/api/v1/workloads/inferences/{id}/pods/{pod}/metrics"),
                format!("/api/v1/workloads/{id}/pods/{pod}/metrics"),
            ),
            None => (
                format!("/api/v1/workloads/inferences/{id}/metrics"),
                format!("/api/v1/workloads/{id}/metrics"),
            ),
        };
        let (a, b) = tokio::join!(
            self.metrics_call(inf_path, "THROUGHPUT,LATENCY", query),
            self.metrics_call(wl_path, "GPU_UTILIZATION", query)
        );
        let (b, pb) = b?;
        // The workload's metrics answered, so it exists: a 404 on the inference metrics is a control plane
        // older than 2.18 (seed 003), which has none. The GPU series is still shown, marked partial.
        let (a, pa) = match a {
            Err(e) if e.status == Some(404) => {
                tracing::info!(account = %self.account, "runai: no inference metrics (control plane older than 2.18?)");
                (wire::MetricsResponse::default(), true)
            }
            other => other?,
        };
        let mut series = convert::series(&a, query.start, query.end, query.samples);
        series.extend(convert::series(&b, query.start, query.end, query.samples));
        Ok(MetricsResult { series, partial: pa || pb })
    }
    async fn catalog(&self) -> ApiResult<crate::model::Catalog> {
        self.catalog_all().await
    }

    async fn create(&self, spec: &crate::model::CreateSpec) -> ApiResult<Applied> {
        self.create_from(spec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HttpGetAction, MetricTrigger};

    #[test]
    fn error_bodies_in_both_shapes() {
        let e = parse_error(
            P,
            400,
            br#"{"code":400,"message":"spec.autoscaling.maxReplicas: must be at least 1"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.message, "spec.autoscaling.maxReplicas: must be at least 1");
        let e = parse_error(
            P,
            401,
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.message, "Client authentication failed (invalid_client)");
        let e = parse_error(P, 502, b"<html>bad gateway</html>");
        assert_eq!(e.message, "HTTP 502: <html>bad gateway</html>");
    }

    /// The document's optional `details` follows the message in brackets, unless it only repeats it.
    #[test]
    fn error_details_follow_the_message_once() {
        let msg = |body: &str| parse_error(P, 409, body.as_bytes()).message;
        assert_eq!(
            msg(r#"{"code":409,"message":"workload exists","details":"name llm is taken in project p1"}"#),
            "workload exists (name llm is taken in project p1)"
        );
        assert_eq!(
            msg(r#"{"code":409,"message":"workload exists","details":"workload exists"}"#),
            "workload exists"
        );
        assert_eq!(msg(r#"{"code":409,"message":"workload exists","details":"  "}"#), "workload exists");
    }

    /// An env edit keeps every item as read (references, excluded items, items without a name, non-objects),
    /// changes or removes plain values as asked, and appends new names; a reference shown by its marker is
    /// not sent back as a plain value.
    #[test]
    fn env_edit_changes_plain_values_and_keeps_the_rest_as_read() {
        let current = json!([
            {"name": "A", "value": "1"},
            {"name": "GONE", "value": "g"},
            {"name": "NGC_API_KEY", "secret": {"name": "ngc-api-key", "key": "NGC_API_KEY"}},
            {"name": "X", "value": "x", "exclude": true},
            {"name": "", "value": "e"},
            "junk"
        ]);
        let objects: Vec<Option<wire::EnvironmentVariable>> = current
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v.is_object())
            .map(|v| serde_json::from_value(v.clone()).unwrap())
            .collect();
        let read = convert::envs(&objects);
        assert_eq!(read["NGC_API_KEY"], "<secret ngc-api-key/NGC_API_KEY>");
        let mut envs = read.clone();
        envs.insert("A".into(), "2".into());
        envs.remove("GONE");
        envs.insert("NEW".into(), "n".into());
        assert_eq!(
            Value::Array(edit_envs(Some(&current), &envs)),
            json!([
                {"name": "A", "value": "2"},
                {"name": "NGC_API_KEY", "secret": {"name": "ngc-api-key", "key": "NGC_API_KEY"}},
                {"name": "X", "value": "x", "exclude": true},
                {"name": "", "value": "e"},
                "junk",
                {"name": "NEW", "value": "n"}
            ])
        );
    }

    #[test]
    fn autoscaling_edit_keeps_untouched_keys() {
        let raw: Map<String, Value> = serde_json::from_value(json!({
            "minReplicas": 1, "maxReplicas": 3, "metric": "concurrency", "metricThreshold": 4,
            "initialReplicas": 2, "concurrencyHardLimit": 10, "futureKey": {"x": 1}
        }))
        .unwrap();
        let a: wire::AutoScaling = serde_json::from_value(Value::Object(raw.clone())).unwrap();
        let cur = convert::scale(Some(&a));
        assert!(edit_autoscaling(&raw, &cur, &cur).is_none());
        let mut want = cur.clone();
        want.max = 5;
        let out = edit_autoscaling(&raw, &cur, &want).unwrap();
        let mut expected = raw.clone();
        expected.insert("maxReplicas".into(), json!(5));
        assert_eq!(out, expected);
        want.triggers.metric = Some(MetricTrigger { metric: "throughput".into(), threshold: 9 });
        let out = edit_autoscaling(&raw, &cur, &want).unwrap();
        assert_eq!((out["metric"].clone(), out["metricThreshold"].clone()), (json!("throughput"), json!(9)));
        assert_eq!(out["futureKey"], json!({"x": 1}));
    }

    #[test]
    fn probe_edit_from_nothing_and_removal() {
        let want = Probe {
            http_get: Some(HttpGetAction {
                path: "/ready".into(),
                port: 8000,
                scheme: "HTTP".into(),
                host: None,
                headers: Default::default(),
            }),
            period_seconds: Some(5),
            ..Default::default()
        };
        let out = edit_probes(&Map::new(), None, Some(&want)).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"readiness": {"periodSeconds": 5, "handler": {"httpGet": {"path": "/ready", "port": 8000, "scheme": "HTTP"}}}})
        );
        let raw: Map<String, Value> =
            serde_json::from_value(json!({"readiness": {"periodSeconds": 5}, "other": 1})).unwrap();
        assert_eq!(Value::Object(edit_probes(&raw, Some(&want), None).unwrap()), json!({"other": 1}));
        assert!(edit_probes(&Map::new(), None, None).is_none());
    }

    #[test]
    fn jwt_lifetime_reads_exp_in_either_alphabet() {
        use base64::Engine;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let payload = json!({"exp": now + 600, "sub": "a?b>c"}).to_string();
        for engine in
            [base64::engine::general_purpose::URL_SAFE_NO_PAD, base64::engine::general_purpose::STANDARD]
        {
            let token = format!("h.{}.s", engine.encode(payload.as_bytes()));
            let life = jwt_lifetime(&token).unwrap();
            assert!((590..=600).contains(&life), "{life}");
        }
        let past =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"exp": now - 5}).to_string());
        assert_eq!(jwt_lifetime(&format!("h.{past}.s")), Some(0));
        assert_eq!(jwt_lifetime("not-a-jwt"), None);
        assert_eq!(jwt_lifetime("a.bm8.c"), None);
    }
}
