//! Gcore Everywhere Inference client: the v3 API (`/cloud/v3/inference/{project_id}/deployments`, partial
//! PATCH, task polling) and the legacy v2 API (`/cloud/v2/inference/deployments/{instance_id}`, full-replace
//! PUT), chosen per account by [`AccountSpec::gcore_api`].
//!
//! Edits always read the deployment's wire JSON right before sending and change only what the edit changes:
//! on v3 the PATCH carries only `containers` (sent whole, each with the cooldown, polling and triggers it
//! had) or only `probes`; on v2 the PUT carries every field of the deployment as read, because a v2 PUT
//! resets whatever it leaves out. A v2 field the read did not return (its schema requires few) is not made
//! up: the edit is refused before sending, naming it.

pub mod convert;
pub mod create;
pub mod wire;

use super::http::{Http, Request, fallback_message};
use super::paging::{self, PageGuard};
use super::{
    AccountSpec, ApiError, ApiResult, Applied, Capabilities, Credentials, ErrorKind, GcoreApi, Listing,
    LogQuery, Provider, Secret,
};
use crate::model::settings::Settings;
use crate::model::{
    Deployment, HardwareInfo, LogLine, ProbeSlot, Probes, ProviderKind, RegionInfo, RegionScale, ScaleUpdate,
};
use async_trait::async_trait;
use convert::RegionNames;
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::sync::Mutex;
use std::time::Duration;

const P: ProviderKind = ProviderKind::Gcore;

/// The fields of a v2 PUT body (seed 001) other than `project_id` (which [`GcoreClient::v2_put`] sets): the PUT
/// replaces the whole deployment, so each of them left out is reset to its default.
const V2_PUT_FIELDS: [&str; 13] = [
    "name",
    "image",
    "listening_port",
    "flavor_id",
    "containers",
    "description",
    "image_registry_id",
    "command",
    "envs",
    "timeout",
    "auth_enabled",
    "api_key_ids",
    "probes",
];

/// Default page size of list calls (the API's maximum and default).
pub const DEFAULT_PAGE_SIZE: u32 = 1000;
/// How long a failed regions catalog is left alone before it is asked again.
const REGIONS_RETRY: std::time::Duration = std::time::Duration::from_secs(300);
/// The most pages a list call reads.
const MAX_PAGES: usize = 1000;
/// Pages of a list read at once once its first page gives the total: enough to hide each round trip behind
/// the others, few enough that the pages decoded ahead of their turn stay a small part of memory.
const PAGES_AT_ONCE: usize = 2;

/// The id a deployment is listed under.
fn dep_id(d: &Deployment) -> Option<&str> {
    Some(d.key.id.as_str())
}

/// A list answer's fingerprint: its bytes and `salt` (what else went into its items).
fn fingerprint(salt: u64, body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    salt.hash(&mut h);
    body.hash(&mut h);
    h.finish()
}

/// A page's items, mapped, and the total it announces.
struct MappedItems<U> {
    results: Vec<U>,
    count: Option<u64>,
}
/// Default interval between two polls of a task.
pub const DEFAULT_TASK_POLL: Duration = Duration::from_secs(1);
/// How long a task may take before the client gives up waiting.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(1800);

pub struct GcoreClient {
    account: String,
    api: GcoreApi,
    base_url: String,
    api_key: Secret,
    project_id: i64,
    http: Http,
    page_size: u32,
    task_poll: Duration,
    task_timeout: Duration,
    /// The regions catalog (id -> display name), fetched once.
    region_names: Mutex<Option<RegionNames>>,
    /// When the regions catalog last failed: names are asked again only [`REGIONS_RETRY`] later.
    regions_failed_at: Mutex<Option<std::time::Instant>>,
    /// v2 only: flavor uuid -> name from `GET /cloud/v2/inference/flavors/{flavor_id}` (None: no name for it;
    /// not asked again). Each uuid is asked once per client.
    flavor_names: Mutex<std::collections::HashMap<String, Option<String>>>,
    /// Set once a flavor read answered 401 or 403: hardware stays the uuid and nothing more is asked.
    flavors_forbidden: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for GcoreClient {
    /// The API key prints as `***` (it is a [`Secret`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcoreClient")
            .field("account", &self.account)
            .field("api", &self.api)
            .field("base_url", &self.base_url)
            .field("project_id", &self.project_id)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// Parses the Cloud API's error body `{exception_class, message, request_id, invalid_fields?}`.
pub fn parse_error(provider: ProviderKind, status: u16, body: &[u8]) -> ApiError {
    let kind = ApiError::kind_for_status(status);
    let parsed: Option<wire::ErrorBody> = serde_json::from_slice(body).ok();
    let Some(b) = parsed.filter(|b| b.message.is_some() || b.exception_class.is_some() || b.detail.is_some())
    else {
        return ApiError::new(provider, kind, fallback_message(status, body)).with_status(status);
    };
    let message = match (&b.message, &b.detail) {
        (Some(m), _) => m.clone(),
        (None, Some(Value::String(d))) => d.clone(),
        (None, Some(d)) => d.to_string(),
        (None, None) => b.exception_class.clone().unwrap_or_default(),
    };
    let mut fields = Vec::new();
    for (field, v) in b.invalid_fields.unwrap_or_default() {
        match v {
            Value::Array(msgs) => {
                for m in msgs {
                    fields.push((
                        field.clone(),
                        m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()),
                    ));
                }
            }
            Value::String(m) => fields.push((field, m)),
            other => fields.push((field, other.to_string())),
        }
    }
    let mut e = ApiError::new(provider, kind, message).with_status(status);
    e.fields = fields;
    e.request_id = b.request_id;
    e
}

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        ApiError::new(
            P,
            ErrorKind::Decode,
            format!("could not read the response ({} at {})", e.inner(), e.path()),
        )
    })
}

fn region_int(field: &str, id: &str) -> ApiResult<i64> {
    id.trim().parse::<i64>().map_err(|_| {
        let mut e = ApiError::new(P, ErrorKind::Validation, format!("region id {id:?} is not a number"));
        e.fields.push((field.to_string(), "Gcore region ids are integers".into()));
        e
    })
}

impl GcoreClient {
    pub fn new(spec: &AccountSpec, client: impl Into<super::http::Clients>) -> Self {
        let (api_key, project_id) = match &spec.credentials {
            Credentials::Gcore { api_key, project_id } => (api_key.clone(), *project_id),
            // A mismatched account spec: every call then fails with 401 from the server.
            _ => (Secret::new(""), 0),
        };
        GcoreClient {
            account: spec.name.clone(),
            api: spec.gcore_api,
            base_url: spec.base_url.trim_end_matches('/').to_string(),
            api_key,
            project_id,
            http: Http::new(client, P, spec.max_in_flight, spec.retry, parse_error)
                .with_rate_limit(spec.rate_limit)
                .with_limits(spec.limits)
                .with_secrets(spec.credentials.secrets()),
            page_size: DEFAULT_PAGE_SIZE,
            task_poll: DEFAULT_TASK_POLL,
            task_timeout: DEFAULT_TASK_TIMEOUT,
            region_names: Mutex::new(None),
            regions_failed_at: Mutex::new(None),
            flavor_names: Mutex::new(Default::default()),
            flavors_forbidden: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// v2 deployments name their hardware by flavor uuid: each uuid not seen before is read once from the
    /// flavor endpoint, and the hardware is shown by name where one came back. A failed read keeps the uuid;
    /// the list never fails for a name.
    async fn name_flavors(&self, deps: &mut [Deployment]) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.api != GcoreApi::V2 {
            return;
        }
        let unknown: Vec<String> = {
            let known = self.flavor_names.lock().unwrap_or_else(|e| e.into_inner());
            let mut ids: Vec<String> = deps
                .iter()
                .filter_map(|d| d.hardware.as_deref())
                .filter(|h| crate::model::text::looks_like_uuid(h) && !known.contains_key(*h))
                .map(str::to_string)
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        for id in unknown {
            if self.flavors_forbidden.load(Relaxed) {
                break;
            }
            let req = self.req(Method::GET, &format!("/cloud/v2/inference/flavors/{}", Self::enc(&id)));
            let name = match self.http.send(&req).await.and_then(|r| r.json::<wire::FlavorV2>(P)) {
                Ok(f) => Some(f.name).filter(|n| !n.is_empty()),
                Err(e) if matches!(e.status, Some(401 | 403)) => {
                    self.flavors_forbidden.store(true, Relaxed);
                    None
                }
                Err(e) => {
                    tracing::debug!("gcore v2 flavor {id}: {e}");
                    None
                }
            };
            self.flavor_names.lock().unwrap_or_else(|e| e.into_inner()).insert(id, name);
        }
        self.known_flavor_names(deps);
    }

    /// Names the hardware of v2 deployments from the flavors already read (no request).
    fn known_flavor_names(&self, deps: &mut [Deployment]) {
        let known = self.flavor_names.lock().unwrap_or_else(|e| e.into_inner());
        for d in deps {
            if let Some(Some(name)) = d.hardware.as_deref().and_then(|h| known.get(h)) {
                d.hardware = Some(crate::model::shared::intern(name));
            }
        }
    }

    /// Items per list request (1..=1000).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 1000);
        self
    }

    /// Interval between two polls of a task.
    pub fn with_task_poll_interval(mut self, d: Duration) -> Self {
        self.task_poll = d;
        self
    }

    /// Longest wait for a task.
    pub fn with_task_timeout(mut self, d: Duration) -> Self {
        self.task_timeout = d;
        self
    }

    pub fn api(&self) -> GcoreApi {
        self.api
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn req(&self, method: Method, path: &str) -> Request {
        Request::new(method, self.url(path))
            .header("authorization", &format!("APIKey {}", self.api_key.expose()))
            .header("accept", "application/json")
    }

    fn enc(s: &str) -> String {
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

    fn v3(&self, rest: &str) -> String {
        format!("/cloud/v3/inference/{}/deployments{rest}", self.project_id)
    }

    fn v3_one(&self, name: &str, rest: &str) -> String {
        self.v3(&format!("/{}{rest}", Self::enc(name)))
    }

    fn v2_one(&self, id: &str, rest: &str) -> String {
        format!("/cloud/v2/inference/deployments/{}{rest}", Self::enc(id))
    }

    /// Every page of a `{count, results}` list.
    async fn paged<T: serde::de::DeserializeOwned + Send>(
        &self,
        path: &str,
        extra: &[(&str, String)],
    ) -> ApiResult<Vec<T>> {
        self.paged_map(path, extra, |t| t, |_: &T| None).await?.complete()
    }

    /// Every page of a `{count, results}` list, each item mapped as soon as it is decoded (so that not even one
    /// page's wire records are held at once). The first page gives the total: the pages it announces are
    /// then read [`PAGES_AT_ONCE`] at a time (the account's limiter still decides when each goes) and taken in
    /// order, up to the item cap; pages the list grew by meanwhile follow one by one. A page of items (by
    /// `id`) all read already, or more pages than the total implies, stops the list ([`PageGuard`]).
    async fn paged_map<T: serde::de::DeserializeOwned + Send, U>(
        &self,
        path: &str,
        extra: &[(&str, String)],
        f: impl Fn(T) -> U + Sync,
        id: impl Fn(&U) -> Option<&str>,
    ) -> ApiResult<Listing<U>> {
        Ok(self
            .paged_map_unless_same(path, extra, f, id, None)
            .await?
            .unwrap_or_else(|| Listing::whole(Vec::new())))
    }

    /// [`Self::paged_map`]; with `same` (the last answer's fingerprint, and what else went into its items),
    /// None when the first page is byte for byte the last answer, which was the whole list in one page. The
    /// fingerprint is kept only for a list that fits one page: a longer one is always read in full. An error
    /// after the first page stops the list: the items read until then are a partial list ([`Listing::cut`]).
    async fn paged_map_unless_same<T: serde::de::DeserializeOwned + Send, U>(
        &self,
        path: &str,
        extra: &[(&str, String)],
        f: impl Fn(T) -> U + Sync,
        id: impl Fn(&U) -> Option<&str>,
        same: Option<(&mut Option<u64>, u64)>,
    ) -> ApiResult<Option<Listing<U>>> {
        use futures::StreamExt;
        let keep = |t: T| Some(f(t));
        let page_at = |offset: u64| {
            let mut r = self.req(Method::GET, path);
            for (k, v) in extra {
                r = r.query(k, v);
            }
            r = r.query("limit", self.page_size).large_body();
            if offset > 0 {
                r = r.query("offset", offset);
            }
            async move { self.http.send(&r).await }
        };
        let read_page = |resp: super::http::Response| {
            let page = resp.json_page::<T, U, wire::PageCount>(P, "results", true, &keep)?;
            Ok::<_, ApiError>(MappedItems { results: page.items, count: page.meta.count })
        };
        let first = page_at(0).await?;
        let mut same = same.map(|(slot, salt)| {
            let print = fingerprint(salt, &first.body);
            let unchanged = slot.take() == Some(print);
            (slot, print, unchanged)
        });
        if let Some((slot, print, true)) = same.as_mut() {
            **slot = Some(*print);
            return Ok(None);
        }
        let first = read_page(first)?;
        let step = first.results.len() as u64;
        let mut total = first.count.unwrap_or(0);
        let mut guard = PageGuard::new(P, path);
        guard.total(total, step);
        let hashes = |items: &[U]| {
            items.iter().map(|u| id(u).filter(|i| !i.is_empty()).map(paging::id_hash)).collect::<Vec<_>>()
        };
        guard.page(hashes(&first.results))?;
        let mut out: Vec<U> = Vec::with_capacity((total as usize).min(self.http.max_list_items()));
        out.extend(first.results);
        self.http.check_items(path, out.len())?;
        let mut offset = step;
        if step == 0 || offset >= total {
            if let Some((slot, print, _)) = same {
                *slot = Some(print);
            }
            return Ok(Some(Listing::whole(out)));
        }
        // From here, an error stops the list with what was read.
        let cut =
            |out: Vec<U>, e: ApiError| Ok(Some(Listing { items: out, warnings: Vec::new(), cut: Some(e) }));
        // The pages the first one announces, but none past the item cap: one item over it is enough to say so.
        let end = total.min(self.http.max_list_items() as u64 + 1);
        let planned: Vec<u64> = (1..MAX_PAGES as u64).map(|k| k * step).take_while(|o| *o < end).collect();
        let read = planned.len() + 1;
        let read_at = |offset: u64| {
            let (sent, read_page) = (page_at(offset), &read_page);
            async move { read_page(sent.await?) }
        };
        let mut pages = futures::stream::iter(planned).map(read_at).buffered(PAGES_AT_ONCE);
        while let Some(page) = pages.next().await {
            let page = match page.and_then(|p| guard.page(hashes(&p.results)).map(|_| p)) {
                Ok(p) => p,
                Err(e) => return cut(out, e),
            };
            let n = page.results.len() as u64;
            out.extend(page.results);
            if let Err(e) = self.http.check_items(path, out.len()) {
                return cut(out, e);
            }
            total = page.count.unwrap_or(total);
            if n == 0 {
                // The list shrank while it was read: nothing after an empty page.
                return Ok(Some(Listing::whole(out)));
            }
            offset += n;
        }
        drop(pages);
        // A guard against a server whose pages never end (a `count` that is never reached).
        for _ in read..MAX_PAGES {
            if offset >= total {
                return Ok(Some(Listing::whole(out)));
            }
            let page = match read_at(offset).await.and_then(|p| guard.page(hashes(&p.results)).map(|_| p)) {
                Ok(p) => p,
                Err(e) => return cut(out, e),
            };
            let n = page.results.len() as u64;
            out.extend(page.results);
            if let Err(e) = self.http.check_items(path, out.len()) {
                return cut(out, e);
            }
            offset += n;
            total = page.count.unwrap_or(0);
            if n == 0 {
                return Ok(Some(Listing::whole(out)));
            }
        }
        let e = guard.stop(format!("it still had more after {MAX_PAGES} pages"));
        cut(out, e)
    }

    /// The regions catalog's names, fetched on first use; an unreachable catalog only costs the names, and is
    /// asked again only after [`REGIONS_RETRY`] (not on every list and details read).
    async fn names(&self) -> RegionNames {
        if let Some(n) = self.region_names.lock().ok().and_then(|g| g.clone()) {
            return n;
        }
        let failed_at = self.regions_failed_at.lock().ok().and_then(|g| *g);
        if failed_at.is_some_and(|at| at.elapsed() < REGIONS_RETRY) {
            return RegionNames::new();
        }
        match self.fetch_regions().await {
            Ok(regions) => {
                let names: RegionNames = regions
                    .iter()
                    .filter_map(|r| Some((r.id?.to_string(), r.display_name.clone()?)))
                    .collect();
                if let Ok(mut g) = self.region_names.lock() {
                    *g = Some(names.clone());
                }
                names
            }
            Err(e) => {
                tracing::debug!(account = %self.account, error = %e, "gcore regions catalog unavailable");
                if let Ok(mut g) = self.regions_failed_at.lock() {
                    *g = Some(std::time::Instant::now());
                }
                RegionNames::new()
            }
        }
    }

    async fn fetch_regions(&self) -> ApiResult<Vec<wire::Region>> {
        self.paged("/cloud/v1/regions", &[("product", "inference".to_string())]).await
    }

    /// The deployment's wire JSON, exactly as the API returned it (v3 by name, v2 by instance id).
    pub async fn raw(&self, id: &str) -> ApiResult<Value> {
        let path = match self.api {
            GcoreApi::V3 => self.v3_one(id, ""),
            GcoreApi::V2 => self.v2_one(id, ""),
        };
        self.http.json(&self.req(Method::GET, &path)).await
    }

    fn convert(&self, raw: Value, names: &RegionNames, detail: bool) -> ApiResult<Deployment> {
        Ok(match self.api {
            GcoreApi::V3 => convert::deployment_v3(&decode(raw)?, &self.account, names, detail),
            GcoreApi::V2 => {
                let mut d = convert::deployment_v2(&decode(raw)?, &self.account, names, detail);
                self.known_flavor_names(std::slice::from_mut(&mut d));
                d
            }
        })
    }

    /// Follows tasks until each is FINISHED; a task in ERROR becomes an error carrying the task's message.
    async fn wait_tasks(&self, ids: &[String]) -> ApiResult<Vec<wire::Task>> {
        let mut done = Vec::with_capacity(ids.len());
        let deadline = tokio::time::Instant::now() + self.task_timeout;
        for id in ids {
            loop {
                let path = format!("/cloud/v1/tasks/{}", Self::enc(id));
                let task: wire::Task = self.http.json(&self.req(Method::GET, &path)).await?;
                match task.state.as_deref() {
                    Some("FINISHED") => {
                        done.push(task);
                        break;
                    }
                    Some("ERROR") => {
                        let msg = task.error.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| {
                            format!("task {id} ({}) failed", task.task_type.as_deref().unwrap_or("?"))
                        });
                        let mut e = ApiError::new(P, ErrorKind::Other, msg);
                        e.request_id = task.request_id;
                        // The task's message is the server's text, as an error body's is.
                        return Err(self.http.scrubber().error(e));
                    }
                    _ => {}
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApiError::new(
                        P,
                        ErrorKind::Timeout,
                        format!("task {id} did not finish within {} s", self.task_timeout.as_secs()),
                    ));
                }
                tokio::time::sleep(self.task_poll).await;
            }
        }
        Ok(done)
    }

    /// Sends a v3 mutation that answers `{"tasks": [...]}`, follows the tasks, and reads the deployment back.
    async fn v3_mutation(&self, name: &str, body: Value) -> ApiResult<Applied> {
        // Safe to repeat: the body sets absolute values (the whole containers list, or whole probe configs),
        // so a second PATCH after a lost answer lands on the same state.
        let r = self.req(Method::PATCH, &self.v3_one(name, "")).json(body).idempotent(true);
        let ids: wire::TaskIds = self.http.json(&r).await?;
        if ids.tasks.is_empty() {
            return Ok(Applied::NoChange(Box::new(self.get(name).await?)));
        }
        self.wait_tasks(&ids.tasks).await?;
        Ok(Applied::Done(Box::new(self.get(name).await?)))
    }

    /// Sends a v2 full-replace PUT built from the deployment as read, then reads it back.
    async fn v2_put(&self, id: &str, mut body: Value) -> ApiResult<Applied> {
        // Seed 001: without `project_id` the key's default project is used, which need not be this one.
        body["project_id"] = json!(self.project_id);
        let r = self.req(Method::PUT, &self.v2_one(id, "")).json(body).idempotent(true);
        self.http.send(&r).await?;
        Ok(Applied::Done(Box::new(self.get(id).await?)))
    }

    /// The wire `containers` for a scale edit, each starting from the region's current JSON (`raw`).
    fn containers_json(&self, raw: &Value, update: &ScaleUpdate) -> ApiResult<Vec<Value>> {
        let current = raw.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Vec::with_capacity(update.regions.len());
        for (i, RegionScale { region_id, scale }) in update.regions.iter().enumerate() {
            let rid = region_int(&format!("regions[{i}].region"), region_id)?;
            let old = current.iter().find(|c| c.get("region_id").and_then(Value::as_i64) == Some(rid));
            let old_scale = old.and_then(|c| c.get("scale")).and_then(Value::as_object);
            let mut s = Map::new();
            s.insert("min".into(), json!(scale.min));
            s.insert("max".into(), json!(scale.max));
            // An unset cooldown or polling interval is meant as unset, never as the old value: v3's PATCH
            // does not take null for them (the spec), so they are left out and the read-back tells whether
            // Gcore kept the old value; v2's PUT takes null.
            let unset = |v: Option<u32>| -> Option<Value> {
                match (v, self.api) {
                    (Some(v), _) => Some(json!(v)),
                    (None, GcoreApi::V3) => None,
                    (None, GcoreApi::V2) => Some(Value::Null),
                }
            };
            if let Some(v) = unset(scale.cooldown_seconds) {
                s.insert("cooldown_period".into(), v);
            }
            let polling = unset(scale.polling_interval_seconds);
            let mut triggers =
                convert::triggers_json(&scale.triggers, old_scale.and_then(|o| o.get("triggers")));
            if self.api == GcoreApi::V2 {
                // v2 has neither a polling interval nor an sqs trigger.
                if let Some(t) = triggers.as_object_mut()
                    && t.get("sqs").is_some_and(Value::is_null)
                {
                    t.remove("sqs");
                }
                if let Some(p) = old_scale.and_then(|o| o.get("polling_interval")) {
                    s.insert("polling_interval".into(), p.clone());
                }
            } else if let Some(p) = polling {
                s.insert("polling_interval".into(), p);
            }
            s.insert("triggers".into(), triggers);
            // Unknown keys of the old scale object travel back untouched.
            if let Some(o) = old_scale {
                for (k, v) in o {
                    if !s.contains_key(k) && !matches!(k.as_str(), "cooldown_period" | "polling_interval") {
                        s.insert(k.clone(), v.clone());
                    }
                }
            }
            out.push(json!({ "region_id": rid, "scale": Value::Object(s) }));
        }
        Ok(out)
    }

    /// The wire `probes` for a probes edit starting from the deployment's JSON (`raw`), or None when nothing
    /// changes. v3 (PATCH): only the slots that change, a slot turned off as `{"enabled": false}`. v2 (PUT):
    /// every slot, the untouched ones exactly as read.
    fn probes_wire(&self, raw: &Value, probes: &Probes) -> ApiResult<Option<Value>> {
        let current_wire: Option<wire::Probes> = match raw.get("probes") {
            Some(v) if !v.is_null() => Some(decode(v.clone())?),
            _ => None,
        };
        let current = current_wire.as_ref().map(convert::probes).unwrap_or_default();
        let key = |slot: ProbeSlot| match slot {
            ProbeSlot::Liveness => "liveness_probe",
            ProbeSlot::Readiness => "readiness_probe",
            ProbeSlot::Startup => "startup_probe",
        };
        let changed = ProbeSlot::ALL.iter().any(|&slot| probes.get(slot) != current.get(slot));
        if !changed {
            return Ok(None);
        }
        match self.api {
            GcoreApi::V3 => {
                // PATCH: a slot left out is left unchanged; `{"enabled": false}` turns a probe off.
                let mut patch = Map::new();
                for slot in ProbeSlot::ALL {
                    let (want, have) = (probes.get(slot), current.get(slot));
                    if want == have {
                        continue;
                    }
                    let v = match want {
                        Some(c) => convert::probe_config_json(c),
                        None => json!({ "enabled": false }),
                    };
                    patch.insert(key(slot).into(), v);
                }
                Ok(Some(Value::Object(patch)))
            }
            GcoreApi::V2 => {
                // The untouched slots go back as read: unread, they would be reset.
                if raw.get("probes").is_none() {
                    return Err(ApiError::not_read(P, &["probes"], "reset"));
                }
                let old = raw.get("probes").and_then(Value::as_object).cloned().unwrap_or_default();
                let mut out = Map::new();
                for slot in ProbeSlot::ALL {
                    let (want, have) = (probes.get(slot), current.get(slot));
                    let v = if want == have {
                        old.get(key(slot)).cloned().unwrap_or(Value::Null)
                    } else {
                        want.map(convert::probe_config_json).unwrap_or(Value::Null)
                    };
                    out.insert(key(slot).into(), v);
                }
                let all_null = out.values().all(Value::is_null);
                Ok(Some(if all_null { Value::Null } else { Value::Object(out) }))
            }
        }
    }

    /// A v2 PUT body from the deployment's wire JSON: every field as read, minus the read-only ones. A field
    /// the answer left out stays out (see [`Self::v2_unread`], which refuses such a PUT); only a null read
    /// where the PUT takes no null becomes its empty value.
    fn v2_body(raw: &Value) -> Value {
        let mut body = raw.as_object().cloned().unwrap_or_default();
        for k in ["id", "status", "address", "created_at"] {
            body.remove(k);
        }
        if body.get("envs").is_some_and(Value::is_null) {
            body.insert("envs".into(), json!({}));
        }
        if body.get("api_key_ids").is_some_and(Value::is_null) {
            body.insert("api_key_ids".into(), json!([]));
        }
        if body.get("auth_enabled").is_some_and(Value::is_null) {
            body.remove("auth_enabled");
        }
        if let Some(Value::Array(cs)) = body.get_mut("containers") {
            for c in cs.iter_mut() {
                if let Some(o) = c.as_object_mut() {
                    o.remove("deploy_status");
                    o.remove("error_message");
                    o.remove("address");
                }
            }
        }
        Value::Object(body)
    }

    /// Refuses a v2 PUT that would carry a field the read before it did not return (`raw` lacks the key) and
    /// the edit does not set (`given`): the PUT replaces the whole deployment, so it would reset that field.
    /// The same for each region's cooldown and triggers (see [`Self::v2_scale_unread`]); `scale` is the
    /// scale the edit sends, None when the containers go back as read.
    fn v2_unread(raw: &Value, given: &[&str], scale: Option<&ScaleUpdate>) -> ApiResult<()> {
        let mut missing: Vec<String> = V2_PUT_FIELDS
            .into_iter()
            .filter(|k| raw.get(k).is_none() && !given.contains(k))
            .map(String::from)
            .collect();
        missing.extend(Self::v2_scale_unread(raw, scale));
        if missing.is_empty() {
            Ok(())
        } else {
            let names: Vec<&str> = missing.iter().map(String::as_str).collect();
            Err(ApiError::not_read(P, &names, "reset"))
        }
    }

    /// The optional scale fields of the v2 answer's regions (`cooldown_period`, `triggers`: a PUT that leaves
    /// them out resets them to their defaults) that the read did not return and the edit does not set: an
    /// unset cooldown or an empty trigger set in `scale` is what the form showed for the absent value, not a
    /// choice. `scale` None: the containers go back as read. A region the edit removes needs nothing.
    fn v2_scale_unread(raw: &Value, scale: Option<&ScaleUpdate>) -> Vec<String> {
        let mut out = Vec::new();
        for c in raw.get("containers").and_then(Value::as_array).into_iter().flatten() {
            let rid = c.get("region_id").and_then(Value::as_i64);
            let region = rid.map_or_else(|| "?".to_string(), |r| r.to_string());
            let given = scale.map(|u| u.regions.iter().find(|r| r.region_id == region));
            let given = match given {
                Some(None) => continue,
                Some(Some(r)) => Some(&r.scale),
                None => None,
            };
            let read = |k: &str| c.get("scale").and_then(Value::as_object).is_some_and(|s| s.contains_key(k));
            if !read("cooldown_period") && given.is_none_or(|g| g.cooldown_seconds.is_none()) {
                out.push(format!("the cooldown_period of region {region}"));
            }
            if !read("triggers") && given.is_none_or(|g| g.triggers == Default::default()) {
                out.push(format!("the triggers of region {region}"));
            }
        }
        out
    }

    /// Price of a configuration: `containers` is `(region_id, max replicas)`.
    pub async fn price_preview(
        &self,
        flavor: &str,
        containers: &[(i64, u32)],
    ) -> ApiResult<wire::PricePreview> {
        let body = json!({
            "flavor_name": flavor,
            "containers": containers
                .iter()
                .map(|(r, max)| json!({ "region_id": r, "scale": { "max": max } }))
                .collect::<Vec<_>>(),
        });
        let r = self.req(Method::POST, "/cloud/v2/pricing/inference/deployments").json(body).idempotent(true);
        self.http.json(&r).await
    }

    /// Creates a v3 deployment from a create body (`InferenceInstanceInSerializerV3`), follows its task and
    /// reads the new deployment.
    pub async fn create(&self, body: &Value) -> ApiResult<Applied> {
        if self.api != GcoreApi::V3 {
            return Err(ApiError::unsupported(P, "create on the legacy v2 API"));
        }
        let r = self.req(Method::POST, &self.v3("")).json(body.clone());
        let ids: wire::TaskIds = self.http.json(&r).await?;
        if ids.tasks.is_empty() {
            return Err(ApiError::new(P, ErrorKind::Decode, "the create answer held no task"));
        }
        let tasks = self.wait_tasks(&ids.tasks).await?;
        let name = tasks
            .iter()
            .filter_map(|t| t.created_resources.as_ref()?.inference_instances.as_ref()?.first().cloned())
            .next()
            .or_else(|| body.get("name").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| ApiError::new(P, ErrorKind::Decode, "the create task named no deployment"))?;
        Ok(Applied::Done(Box::new(self.get(&name).await?)))
    }

    /// The flavors catalog (wire form).
    pub async fn flavors(&self) -> ApiResult<Vec<wire::Flavor>> {
        self.paged("/cloud/v3/inference/flavors", &[]).await
    }

    /// Capacity per region and flavor (wire form).
    pub async fn capacity(&self) -> ApiResult<Vec<wire::RegionCapacity>> {
        let r = self.req(Method::GET, "/cloud/v3/inference/capacity");
        let page: wire::Page<wire::RegionCapacity> = self.http.json(&r).await?;
        Ok(page.results)
    }
}

#[async_trait]
impl Provider for GcoreClient {
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
            start_stop: true,
            delete: true,
            logs: true,
            metrics: false,
            logging_config: self.api == GcoreApi::V3,
            per_region_scale: true,
            // Gcore prices a configuration (`price_preview`), not a deployment: no price per deployment.
            pricing: false,
            create: self.api == GcoreApi::V3,
        }
    }

    async fn listing(&self) -> ApiResult<Listing> {
        let names = self.names().await;
        let mut listing = match self.api {
            GcoreApi::V3 => {
                self.paged_map(
                    &self.v3(""),
                    &[],
                    |w: wire::Deployment| convert::deployment_v3(&w, &self.account, &names, false),
                    dep_id,
                )
                .await?
            }
            GcoreApi::V2 => {
                let mut listing = self
                    .paged_map(
                        "/cloud/v2/inference/deployments",
                        &[("project_id", self.project_id.to_string())],
                        |w: wire::DeploymentV2| convert::deployment_v2(&w, &self.account, &names, false),
                        dep_id,
                    )
                    .await?;
                self.name_flavors(&mut listing.items).await;
                listing
            }
        };
        listing.dedup_by("Gcore deployments", dep_id);
        Ok(listing)
    }

    async fn list_unless_same(&self, last: &mut Option<u64>) -> ApiResult<Option<Listing>> {
        if self.api == GcoreApi::V2 {
            // v2 names its hardware by further reads: always in full.
            *last = None;
            return self.listing().await.map(Some);
        }
        let names = self.names().await;
        // The region names go into every row: a changed catalog is a changed answer.
        let salt = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            names.hash(&mut h);
            h.finish()
        };
        let listing = self
            .paged_map_unless_same(
                &self.v3(""),
                &[],
                |w: wire::Deployment| convert::deployment_v3(&w, &self.account, &names, false),
                dep_id,
                Some((last, salt)),
            )
            .await?;
        Ok(listing.map(|mut l| {
            l.dedup_by("Gcore deployments", dep_id);
            l
        }))
    }

    async fn get(&self, id: &str) -> ApiResult<Deployment> {
        let raw = self.raw(id).await?;
        let names = self.names().await;
        let mut d = self.convert(raw, &names, true)?;
        self.name_flavors(std::slice::from_mut(&mut d)).await;
        Ok(d)
    }

    async fn update_scale(&self, id: &str, update: &ScaleUpdate) -> ApiResult<Applied> {
        let raw = self.raw(id).await?;
        let containers = self.containers_json(&raw, update)?;
        match self.api {
            GcoreApi::V3 => self.v3_mutation(id, json!({ "containers": containers })).await,
            GcoreApi::V2 => {
                let mut body = Self::v2_body(&raw);
                let before = body.get("containers").cloned();
                if before.as_ref() == Some(&Value::Array(containers.clone())) {
                    return Ok(Applied::NoChange(Box::new(self.get(id).await?)));
                }
                Self::v2_unread(&raw, &["containers"], Some(update))?;
                body["containers"] = Value::Array(containers);
                self.v2_put(id, body).await
            }
        }
    }

    async fn update_probes(&self, id: &str, probes: &Probes) -> ApiResult<Applied> {
        let raw = self.raw(id).await?;
        let Some(wire) = self.probes_wire(&raw, probes)? else {
            return Ok(Applied::NoChange(Box::new(self.get(id).await?)));
        };
        match self.api {
            GcoreApi::V3 => self.v3_mutation(id, json!({ "probes": wire })).await,
            GcoreApi::V2 => {
                Self::v2_unread(&raw, &["probes"], None)?;
                let mut body = Self::v2_body(&raw);
                body["probes"] = wire;
                self.v2_put(id, body).await
            }
        }
    }

    async fn update_settings(&self, id: &str, s: &Settings) -> ApiResult<Applied> {
        let raw = self.raw(id).await?;
        let names = self.names().await;
        let cur = Settings::from_deployment(&self.convert(raw.clone(), &names, true)?);
        if s.source.is_some() {
            return Err(ApiError::unsupported(P, "a catalog model or registry (set the image instead)"));
        }
        // Only what changed: v3's PATCH is partial, and v2's PUT gets everything else as read.
        let mut changed = Map::new();
        if s.image != cur.image {
            changed.insert("image".into(), json!(s.image));
        }
        if s.port != cur.port {
            changed.insert("listening_port".into(), json!(s.port));
        }
        if s.command != cur.command {
            let words = match &s.command {
                Some(c) => create::split_command(c).map_err(|msg| {
                    let mut e =
                        ApiError::new(P, ErrorKind::Validation, format!("the command cannot be read: {msg}"));
                    e.fields.push(("command".into(), msg));
                    e
                })?,
                // v3 reads a null as "unchanged": an empty list clears it; v2's PUT takes null.
                None if self.api == GcoreApi::V3 => Vec::new(),
                None => {
                    changed.insert("command".into(), Value::Null);
                    Vec::new()
                }
            };
            changed.entry("command").or_insert(json!(words));
        }
        if s.description != cur.description {
            // The API's unset description is "".
            changed.insert("description".into(), json!(s.description.clone().unwrap_or_default()));
        }
        if s.envs != cur.envs {
            changed.insert("envs".into(), json!(s.envs));
        }
        if s.scale != cur.scale {
            changed.insert("containers".into(), Value::Array(self.containers_json(&raw, &s.scale)?));
        }
        if let Some(wire) = self.probes_wire(&raw, &s.probes.clone().unwrap_or_default())? {
            changed.insert("probes".into(), wire);
        }
        if s.logging != cur.logging {
            if self.api == GcoreApi::V2 {
                return Err(ApiError::unsupported(P, "logging settings on the v2 API"));
            }
            changed.insert(
                "logging".into(),
                match &s.logging {
                    Some(l) => json!({
                        "enabled": l.enabled,
                        "destination_region_id": l.destination_region_id,
                        "topic_name": l.topic_name,
                        "retention_policy": l.retention_days.map(|d| json!({ "period": d })),
                    }),
                    None => json!({ "enabled": false }),
                },
            );
        }
        if changed.is_empty() {
            return Ok(Applied::NoChange(Box::new(self.get(id).await?)));
        }
        match self.api {
            GcoreApi::V3 => self.v3_mutation(id, Value::Object(changed)).await,
            GcoreApi::V2 => {
                let given: Vec<&str> = changed.keys().map(String::as_str).collect();
                let scale = changed.contains_key("containers").then_some(&s.scale);
                Self::v2_unread(&raw, &given, scale)?;
                let mut body = Self::v2_body(&raw);
                for (k, v) in changed {
                    body[k] = v;
                }
                self.v2_put(id, body).await
            }
        }
    }

    async fn start(&self, id: &str) -> ApiResult<()> {
        let path = match self.api {
            GcoreApi::V3 => self.v3_one(id, "/start"),
            GcoreApi::V2 => self.v2_one(id, "/start"),
        };
        self.http.send(&self.req(Method::POST, &path).idempotent(true)).await.map(|_| ())
    }

    async fn stop(&self, id: &str) -> ApiResult<()> {
        let path = match self.api {
            GcoreApi::V3 => self.v3_one(id, "/stop"),
            GcoreApi::V2 => self.v2_one(id, "/stop"),
        };
        self.http.send(&self.req(Method::POST, &path).idempotent(true)).await.map(|_| ())
    }

    async fn delete(&self, id: &str) -> ApiResult<()> {
        match self.api {
            GcoreApi::V3 => {
                let ids: wire::TaskIds =
                    self.http.json(&self.req(Method::DELETE, &self.v3_one(id, ""))).await?;
                self.wait_tasks(&ids.tasks).await.map(|_| ())
            }
            GcoreApi::V2 => self.http.send(&self.req(Method::DELETE, &self.v2_one(id, ""))).await.map(|_| ()),
        }
    }

    async fn logs(&self, id: &str, query: &LogQuery) -> ApiResult<Vec<LogLine>> {
        let limit = if query.limit == 0 { 100 } else { query.limit.min(1000) };
        match self.api {
            GcoreApi::V3 => {
                let mut r = self
                    .req(Method::GET, &self.v3_one(id, "/logs"))
                    .query("limit", limit)
                    .query("order_by", "time.desc");
                if let Some(region) = &query.region_id {
                    r = r.query("region_id", region_int("region_id", region)?);
                }
                let page: wire::Page<wire::LogLine> = self.http.json(&r).await?;
                Ok(page.results.iter().map(|l| convert::log_line(l, None)).collect())
            }
            GcoreApi::V2 => {
                let path = match &query.region_id {
                    Some(region) => {
                        self.v2_one(id, &format!("/regions/{}/logs", region_int("region_id", region)?))
                    }
                    None => self.v2_one(id, "/logs"),
                };
                // The v2 logs paths define no query parameters: the newest `limit` lines are cut here.
                let r = self.req(Method::GET, &path);
                let logs: wire::LogsV2 = self.http.json(&r).await?;
                let mut lines: Vec<LogLine> = logs
                    .into_lines()
                    .iter()
                    .map(|l| convert::log_line(l, query.region_id.as_deref()))
                    .collect();
                lines.sort_by_key(|l| std::cmp::Reverse(l.time));
                lines.truncate(limit as usize);
                Ok(lines)
            }
        }
    }

    async fn regions(&self) -> ApiResult<Vec<RegionInfo>> {
        let regions = self.fetch_regions().await?;
        let capacity = self.capacity().await?;
        let names: RegionNames =
            regions.iter().filter_map(|r| Some((r.id?.to_string(), r.display_name.clone()?))).collect();
        if let Ok(mut g) = self.region_names.lock() {
            *g = Some(names);
        }
        Ok(regions
            .iter()
            .filter_map(|r| {
                let id = r.id?;
                let cap = capacity
                    .iter()
                    .find(|c| c.region_id == Some(id))
                    .map(|c| {
                        c.capacity
                            .iter()
                            .map(|f| {
                                (
                                    f.flavor_name.clone(),
                                    f.capacity.unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some(RegionInfo {
                    id: id.to_string(),
                    name: r.display_name.clone().unwrap_or_else(|| id.to_string()),
                    state: r.state.clone(),
                    capacity: cap,
                })
            })
            .collect())
    }

    async fn hardware(&self) -> ApiResult<Vec<HardwareInfo>> {
        Ok(self.flavors().await?.iter().map(convert::hardware).collect())
    }

    async fn catalog(&self) -> ApiResult<crate::model::Catalog> {
        self.catalog_all().await
    }

    async fn price(&self, spec: &crate::model::CreateSpec) -> ApiResult<Option<crate::model::Price>> {
        self.price_of(spec).await
    }

    async fn replica_price(&self, hardware: &str, region: &str) -> ApiResult<Option<crate::model::Price>> {
        self.replica_price_of(hardware, region).await
    }

    async fn create(&self, spec: &crate::model::CreateSpec) -> ApiResult<Applied> {
        self.create_from(spec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_carries_message_fields_and_request_id() {
        let body =
            br#"{"exception_class":"ValidationError","message":"Validation Error: {'name': ['too short']}",
            "request_id":"r-1","invalid_fields":{"name":["too short"],"port":"bad"}}"#;
        let e = parse_error(P, 400, body);
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.status, Some(400));
        assert!(e.message.contains("Validation Error"));
        assert_eq!(e.fields, vec![("name".into(), "too short".into()), ("port".into(), "bad".into())]);
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
    }

    #[test]
    fn error_body_not_in_shape_falls_back() {
        let e = parse_error(P, 502, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::Server);
        assert!(e.message.contains("HTTP 502"));
        let e = parse_error(P, 401, b"");
        assert_eq!(e.kind, ErrorKind::Auth);
    }

    #[test]
    fn v2_body_drops_read_only_fields_and_keeps_the_rest() {
        let raw = json!({"id": "x", "status": "ACTIVE", "address": null, "created_at": "t", "name": "n",
            "envs": null, "api_key_ids": null, "surprise": 1,
            "containers": [{"region_id": 7, "deploy_status": {}, "scale": {"min": 1}}]});
        let b = GcoreClient::v2_body(&raw);
        assert_eq!(
            b,
            json!({"name": "n", "envs": {}, "api_key_ids": [], "surprise": 1,
                   "containers": [{"region_id": 7, "scale": {"min": 1}}]})
        );
    }

    #[test]
    fn a_v2_field_left_out_of_the_answer_stays_out_and_refuses_the_put() {
        let mut raw = json!({"id": "x", "status": "ACTIVE", "name": "n", "image": "i", "listening_port": 80,
            "flavor_id": "f", "containers": [], "description": null, "image_registry_id": null,
            "command": null, "envs": {"A": "1"}, "timeout": 120, "auth_enabled": false, "api_key_ids": [],
            "probes": null});
        assert_eq!(GcoreClient::v2_unread(&raw, &[], None), Ok(()));
        let o = raw.as_object_mut().unwrap();
        o.remove("envs");
        o.remove("command");
        let b = GcoreClient::v2_body(&raw);
        assert!(b.get("envs").is_none() && b.get("command").is_none(), "{b}");
        let e = GcoreClient::v2_unread(&raw, &["containers"], None).unwrap_err();
        assert_eq!(
            e.message,
            "Gcore did not return command and envs: sending this edit would reset them. Nothing was sent."
        );
        // What the edit sets itself need not have been read.
        assert_eq!(GcoreClient::v2_unread(&raw, &["command", "envs"], None), Ok(()));
    }

    #[test]
    fn a_v2_region_without_its_cooldown_or_triggers_needs_the_edit_to_set_them() {
        use crate::model::{Scale, Triggers};
        let raw = json!({"containers": [
            {"region_id": 7, "scale": {"min": 1, "max": 2, "cooldown_period": null, "triggers": null}},
            {"region_id": 8, "scale": {"min": 1, "max": 2}}]});
        let region = |id: &str, cooldown: Option<u32>, cpu: Option<u32>| RegionScale {
            region_id: id.into(),
            scale: Scale {
                min: 1,
                max: 3,
                cooldown_seconds: cooldown,
                triggers: Triggers { cpu, ..Triggers::default() },
                ..Scale::default()
            },
        };
        // Sent back as read (a probes edit, say): region 8's are unread.
        assert_eq!(
            GcoreClient::v2_scale_unread(&raw, None),
            ["the cooldown_period of region 8", "the triggers of region 8"]
        );
        // A scale edit that leaves them as the form showed them (unset).
        let both = ScaleUpdate { regions: vec![region("7", None, None), region("8", None, None)] };
        assert_eq!(GcoreClient::v2_scale_unread(&raw, Some(&both)).len(), 2);
        // Set by the edit, or the region removed: nothing unread.
        let set = ScaleUpdate { regions: vec![region("7", None, None), region("8", Some(30), Some(80))] };
        assert!(GcoreClient::v2_scale_unread(&raw, Some(&set)).is_empty());
        let removed = ScaleUpdate { regions: vec![region("7", None, None)] };
        assert!(GcoreClient::v2_scale_unread(&raw, Some(&removed)).is_empty());
    }
}
