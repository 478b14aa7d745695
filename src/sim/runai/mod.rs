//! Simulated NVIDIA Run:ai control plane: the token endpoint, the generic workloads list/get/pods/metrics,
//! and the inference create/get/patch/delete/metrics routes, on their real paths with the real status codes
//! (202 for mutations, 207 for partial metrics) and error bodies (`{code, message}`; OAuth2 on the token path).
//! Tokens are JWT-shaped (`exp`, `iat`, `sub`), from `/api/v2/token` and/or the deprecated `/api/v1/token`.
//! The `runai-*` switches of [`super::ambiguity`] pick which token paths are served, the casing of the
//! workload `type` and how `filterBy` matches it, whether inference metrics exist, and what a null in a PATCH
//! does.

pub mod check;
pub mod metrics;
pub mod store;

use super::SimState;
use super::ambiguity::{RUNAI_FILTER, RUNAI_METRICS, RUNAI_NULL, RUNAI_TOKEN, RUNAI_TYPE, RUNAI_V1_GRANT};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::MutexGuard;

pub use store::Store;

type Params = Vec<(String, String)>;

/// `{code, message}` with the status.
fn error(status: u16, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({ "code": status, "message": message.into() }))).into_response()
}

/// A failed check, answered as `{code, message}` (small, unlike a whole `Response`).
struct Fail(u16, String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

fn not_found() -> Response {
    error(404, "Resource id not found.")
}

fn now_of(state: &SimState) -> (f64, DateTime<Utc>) {
    let secs = state.clock.now_secs();
    (secs, state.clock.epoch() + chrono::Duration::microseconds((secs * 1e6) as i64))
}

fn lock(state: &SimState) -> MutexGuard<'_, Store> {
    state.runai.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks the bearer token, then brings the store up to the current simulated time.
fn authorize<'a>(state: &'a SimState, headers: &HeaderMap) -> Result<MutexGuard<'a, Store>, Fail> {
    let (now, now_utc) = now_of(state);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        return Err(Fail(401, "Authorization header with a Bearer token is required.".into()));
    };
    let mut store = lock(state);
    store.check_token(&token, now).map_err(|m| Fail(401, m.into()))?;
    store.advance(now, now_utc);
    Ok(store)
}

fn param<'a>(q: &'a Params, k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

fn int_param(q: &Params, k: &str, default: i64, lo: i64, hi: i64) -> Result<i64, Fail> {
    match param(q, k) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(Fail(400, format!("{k}: must be an integer between {lo} and {hi} (got {v:?})"))),
        },
    }
}

/// Array parameters with `explode: false` come comma-joined; repeated keys are accepted too.
fn list_param(q: &Params, k: &str) -> Vec<String> {
    q.iter()
        .filter(|(key, _)| key == k)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses `application/x-www-form-urlencoded`.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub fn router(_state: SimState) -> Router<SimState> {
    Router::new()
        .route("/api/v2/token", post(token))
        .route("/api/v1/token", post(token_v1))
        .route("/api/v1/clusters", get(list_clusters))
        .route("/api/v1/workloads", get(list_workloads))
        .route("/api/v1/workloads/count", get(count_workloads))
        .route("/api/v1/workloads/{workload_id}", get(get_workload))
        .route("/api/v1/workloads/{workload_id}/pods", get(workload_pods))
        .route("/api/v1/workloads/{workload_id}/metrics", get(workload_metrics))
        .route("/api/v1/workloads/{workload_id}/pods/{pod_id}/metrics", get(workload_pod_metrics))
        .route("/api/v1/workloads/inferences", post(create_inference))
        .route(
            "/api/v1/workloads/inferences/{workload_id}",
            get(get_inference).patch(patch_inference).delete(delete_inference),
        )
        .route("/api/v1/workloads/inferences/{workload_id}/metrics", get(inference_metrics))
        .route("/api/v1/workloads/inferences/{workload_id}/pods/{pod_id}/metrics", get(inference_pod_metrics))
}

/// The simulated wall clock in Unix seconds (tokens carry it in `iat` and `exp`).
fn now_unix(state: &SimState) -> (f64, i64) {
    let (now, now_utc) = now_of(state);
    (now, now_utc.timestamp())
}

/// `POST /api/v2/token`: OAuth2 client credentials, form-encoded; answers `access_token` and `expires_in`.
async fn token(State(state): State<SimState>, body: Bytes) -> Response {
    if state.reads(RUNAI_TOKEN, "v1-only") {
        return error(404, "Not found");
    }
    if state.reads(RUNAI_TOKEN, "v1-only-405") {
        return error(405, "Method Not Allowed");
    }
    let form = parse_form(&body);
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only client_credentials is supported here",
            );
        }
    }
    if get("client_id") != Some(super::DEMO_RUNAI_CLIENT_ID)
        || get("client_secret") != Some(super::DEMO_RUNAI_SECRET)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let (now, unix) = now_unix(&state);
    let ttl = state.config.runai_token_ttl;
    let token = lock(&state).issue_token(now, unix, ttl, super::DEMO_RUNAI_CLIENT_ID);
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl })).into_response()
}

/// `POST /api/v1/token` (deprecated, still served): JSON `TokenRequest`. Keys are matched without regard to
/// case, as the Go control plane decodes them (runapy sends `AppId`/`AppSecret`, the spec says
/// `appID`/`appSecret`). Answers `{accessToken}` only: `expiresIn` is optional in the spec, so the lifetime is
/// in the token's `exp` claim alone.
async fn token_v1(State(state): State<SimState>, body: Bytes) -> Response {
    if state.reads(RUNAI_TOKEN, "v2-only") {
        return error(404, "Not found");
    }
    let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "body: expected a JSON object");
    };
    let get = |k: &str| b.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str());
    let (id, secret) = match get("grantType") {
        Some("app_token") if !state.reads(RUNAI_V1_GRANT, "client-credentials-only") => {
            (get("appID"), get("appSecret"))
        }
        Some("client_credentials") if !state.reads(RUNAI_V1_GRANT, "app-token-only") => {
            (get("clientID"), get("clientSecret"))
        }
        Some(other) => return error(400, format!("grantType: {other:?} is not supported here")),
        None => return error(400, "grantType: required"),
    };
    if id != Some(super::DEMO_RUNAI_CLIENT_ID) || secret != Some(super::DEMO_RUNAI_SECRET) {
        return error(401, "Invalid credentials");
    }
    let (now, unix) = now_unix(&state);
    let ttl = state.config.runai_token_ttl;
    let token = lock(&state).issue_token(now, unix, ttl, super::DEMO_RUNAI_CLIENT_ID);
    Json(json!({ "accessToken": token })).into_response()
}

/// One `filterBy` item: `field` `op` `value`.
fn parse_filter(f: &str) -> Option<(&str, &str, &str)> {
    const OPS: [&str; 8] = ["==", "!=", "<=", ">=", "=@", "!@", "=^", "=$"];
    const FIELDS: [&str; 26] = [
        "type",
        "name",
        "clusterId",
        "projectId",
        "projectName",
        "departmentId",
        "departmentName",
        "createdAt",
        "deletedAt",
        "submittedBy",
        "phase",
        "completedAt",
        "nodepool",
        "distributedFramework",
        "allocatedGPU",
        "idleGpus",
        "idleAllocatedGpus",
        "phaseUpdatedAt",
        "category",
        "totalPendingTimeSeconds",
        "totalRunningTimeSeconds",
        "priority",
        "priorityClassName",
        "guaranteedRuntimeEndsAt",
        "aiApplicationId",
        "aiApplicationName",
    ];
    let field = FIELDS.iter().filter(|name| f.starts_with(*name)).max_by_key(|name| name.len())?;
    let rest = &f[field.len()..];
    let op = OPS.iter().find(|op| rest.starts_with(*op))?;
    let value = &rest[op.len()..];
    (!value.is_empty()).then_some((field, op, value))
}

fn filter_matches(w: &Value, (field, op, value): (&str, &str, &str)) -> bool {
    let Some(actual) = w.get(field).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }) else {
        // Fields this simulator does not model are accepted and ignored.
        return true;
    };
    match op {
        "==" => actual == value,
        "!=" => actual != value,
        "=@" => actual.contains(value),
        "!@" => !actual.contains(value),
        "=^" => actual.starts_with(value),
        "=$" => actual.ends_with(value),
        "<=" => actual.as_str() <= value,
        ">=" => actual.as_str() >= value,
        _ => true,
    }
}

async fn list_workloads(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    let offset = match int_param(&q, "offset", 0, 0, i32::MAX as i64) {
        Ok(v) => v as usize,
        Err(r) => return r.into_response(),
    };
    let limit = match int_param(&q, "limit", 50, 1, 500) {
        Ok(v) => v as usize,
        Err(r) => return r.into_response(),
    };
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let mut all = match matching_workloads(&state, &store, &q) {
        Ok(all) => all,
        Err(r) => return *r,
    };
    if let Some(by) = param(&q, "sortBy") {
        // A sort makes `matching_workloads` build every item's JSON.
        let key = |w: &Listed| match w {
            Listed::Json(v) => v.get(by).map(|v| v.to_string()).unwrap_or_default(),
            Listed::Raw(_) => String::new(),
        };
        all.sort_by_key(key);
    }
    if param(&q, "sortOrder") == Some("desc") {
        all.reverse();
    }
    let total = all.len();
    let lower = state.reads(RUNAI_TYPE, "inference");
    let workloads: Vec<ListItem> = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|w| match w {
            Listed::Json(v) => ListItem::Json(v),
            Listed::Raw(w) => ListItem::View(Box::new(w.view(false, lower))),
        })
        .collect();
    let next = (offset + limit < total).then_some(offset + limit);
    Json(WorkloadsPage { next, workloads }).into_response()
}

/// `{next?, workloads}`, keys in the order a JSON object writes them.
#[derive(serde::Serialize)]
struct WorkloadsPage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<usize>,
    workloads: Vec<ListItem<'a>>,
}

/// A list item as sent: the JSON a filter or sort already needed, or the record rendered straight from the
/// store (only for the page's items).
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ListItem<'a> {
    Json(Value),
    View(Box<store::WorkloadView<'a>>),
}

/// A workload a list or count selected: its list JSON when a filter or sort had to read it, else the record.
enum Listed<'a> {
    Json(Value),
    Raw(&'a store::Workload),
}

/// `GET /api/v1/workloads/count`: `{count}` of the workloads the list would give with the same `filterBy`,
/// `search` and `deleted`.
async fn count_workloads(
    State(state): State<SimState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match matching_workloads(&state, &store, &q) {
        Ok(all) => Json(json!({ "count": all.len() })).into_response(),
        Err(r) => *r,
    }
}

/// The list item of a workload: the `Workload` record (without what only the single GET has), `type` cased
/// as the current reading says.
fn list_json(state: &SimState, w: &store::Workload) -> Value {
    serde_json::to_value(w.view(false, state.reads(RUNAI_TYPE, "inference"))).unwrap_or(Value::Null)
}

/// The workloads a list or count selects (`deleted`, `filterBy`, `search`). Their JSON is built only when a
/// filter or a sort must read it; otherwise the list renders just its page.
fn matching_workloads<'a>(
    state: &SimState,
    store: &'a Store,
    q: &Params,
) -> Result<Vec<Listed<'a>>, Box<Response>> {
    let deleted = param(q, "deleted") == Some("true");
    let mut filters = Vec::new();
    for f in list_param(q, "filterBy") {
        match parse_filter(&f) {
            Some(p) => filters.push((p.0.to_string(), p.1.to_string(), p.2.to_string())),
            None => {
                return Err(Box::new(error(400, format!("filterBy: invalid filter {f:?}")).into_response()));
            }
        }
    }
    let search = param(q, "search").map(str::to_ascii_lowercase);
    let needs_json = !filters.is_empty() || param(q, "sortBy").is_some();
    let all: Vec<Listed> = store
        .workloads
        .iter()
        .filter(|w| w.deleted_at.is_some() == deleted)
        .filter(|w| search.as_ref().is_none_or(|s| w.name.to_ascii_lowercase().contains(s.as_str())))
        .filter_map(|w| {
            if !needs_json {
                return Some(Listed::Raw(w));
            }
            let v = list_json(state, w);
            let keep = filters.iter().all(|(f, o, v2)| {
                (f == "type" && state.reads(RUNAI_FILTER, "ignored")) || filter_matches(&v, (f, o, v2))
            });
            keep.then_some(Listed::Json(v))
        })
        .collect();
    Ok(all)
}

/// `GET /api/v1/clusters`: the clusters as Run:ai's organizations API lists them (`uuid`, `tenantId`,
/// `name`, `createdAt` are the required fields; the optional ones are left out).
async fn list_clusters(State(state): State<SimState>, headers: HeaderMap) -> Response {
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let clusters: Vec<Value> = store
        .clusters
        .iter()
        .map(|c| json!({"uuid": c.id, "tenantId": 1, "name": c.name, "createdAt": "2026-01-05T09:00:00Z"}))
        .collect();
    Json(Value::Array(clusters)).into_response()
}

async fn get_workload(State(state): State<SimState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match store.find(&id) {
        Some(w) => Json(w.view(true, state.reads(RUNAI_TYPE, "inference"))).into_response(),
        None => not_found(),
    }
}

async fn workload_pods(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let (offset, limit) =
        match (int_param(&q, "offset", 0, 0, i32::MAX as i64), int_param(&q, "limit", 50, 1, 500)) {
            (Ok(o), Ok(l)) => (o as usize, l as usize),
            (Err(r), _) | (_, Err(r)) => return r.into_response(),
        };
    let Some(w) = store.find(&id) else { return not_found() };
    let pods = w.pods_json(store.seed);
    let total = pods.len();
    let mut body = json!({ "pods": pods.into_iter().skip(offset).take(limit).collect::<Vec<_>>() });
    if offset + limit < total {
        body["next"] = json!(offset + limit);
    }
    Json(body).into_response()
}

/// A metrics query: types (each checked against `allowed`), start, end, number of samples.
struct MetricsQuery {
    types: Vec<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    samples: u32,
}

fn metrics_query(q: &Params, allowed: &[&str]) -> Result<MetricsQuery, Fail> {
    let types = list_param(q, "metricType");
    if types.is_empty() {
        return Err(Fail(400, "metricType: Required parameter is missing".into()));
    }
    if let Some(bad) = types.iter().find(|t| !allowed.contains(&t.as_str())) {
        return Err(Fail(400, format!("metricType: unsupported metric type {bad:?}")));
    }
    let time = |k: &str| -> Result<DateTime<Utc>, Fail> {
        let v = param(q, k).ok_or_else(|| Fail(400, format!("{k}: Required parameter is missing")))?;
        DateTime::parse_from_rfc3339(v)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| Fail(400, format!("{k}: must be an ISO 8601 date-time (got {v:?})")))
    };
    let start = time("start")?;
    let end = time("end")?;
    if end < start {
        return Err(Fail(400, "end: must not be before start".into()));
    }
    let samples = int_param(q, "numberOfSamples", 20, 0, 1000)? as u32;
    Ok(MetricsQuery { types, start, end, samples })
}

fn metrics_response(measurements: Vec<Value>, partial: bool) -> Response {
    let status = if partial { StatusCode::MULTI_STATUS } else { StatusCode::OK };
    (status, Json(json!({ "measurements": measurements }))).into_response()
}

/// Metrics of a workload (`pod` None) or of one of its pods. `inference` picks the inference endpoints.
fn metrics_for(
    state: &SimState,
    headers: &HeaderMap,
    id: &str,
    pod: Option<&str>,
    q: &Params,
    inference: bool,
) -> Response {
    let store = match authorize(state, headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let allowed = match (inference, pod.is_some()) {
        (true, _) => metrics::INFERENCE_TYPES,
        (false, false) => metrics::WORKLOAD_TYPES,
        (false, true) => metrics::POD_TYPES,
    };
    let mq = match metrics_query(q, allowed) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let Some(w) = store.find(id) else { return not_found() };
    if inference && !w.is_inference() {
        return not_found();
    }
    // A control plane older than 2.18 has no inference metrics routes.
    if inference && state.reads(RUNAI_METRICS, "404") {
        return error(404, "Not found");
    }
    let (_, now_utc) = now_of(state);
    let r = &w.replicas;
    let mut served: Vec<&str> = metrics::SERVED.to_vec();
    let (label, running, total) = match pod {
        None => (w.id.clone(), r.ready, r.total),
        Some(pod) => {
            let Some(i) = (0..w.max_pods.max(r.desired)).find(|i| w.pod_id(store.seed, *i) == pod) else {
                return not_found();
            };
            if i >= r.total.max(r.desired) {
                // The pod has gone: only its (zero) throughput can still be served.
                served = vec!["THROUGHPUT"];
            }
            (format!("{}/{i}", w.id), u32::from(i < r.ready), u32::from(i < r.total))
        }
    };
    let src = metrics::Source {
        seed: store.seed,
        label: &label,
        running,
        total,
        gpu_per_pod: w.gpu_per_pod(),
        from: w.created_at,
        until: now_utc,
    };
    let (m, partial) = src.measurements(&mq.types, &served, mq.start, mq.end, mq.samples);
    metrics_response(m, partial)
}

async fn workload_metrics(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    metrics_for(&state, &headers, &id, None, &q, false)
}

async fn workload_pod_metrics(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((id, pod)): Path<(String, String)>,
    Query(q): Query<Params>,
) -> Response {
    metrics_for(&state, &headers, &id, Some(&pod), &q, false)
}

async fn inference_metrics(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    metrics_for(&state, &headers, &id, None, &q, true)
}

async fn inference_pod_metrics(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((id, pod)): Path<(String, String)>,
    Query(q): Query<Params>,
) -> Response {
    metrics_for(&state, &headers, &id, Some(&pod), &q, true)
}

fn json_body(body: &[u8]) -> Result<Value, Fail> {
    serde_json::from_slice(body).map_err(|e| Fail(400, format!("body: invalid JSON ({e})")))
}

async fn create_inference(State(state): State<SimState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    store.received.push(("POST".into(), body.clone()));
    let (mut name, project, cluster, prefix, spec) = match check::create(&body) {
        Ok(v) => v,
        Err(m) => return error(400, m),
    };
    if project != store::PROJECT_ID {
        return error(400, format!("projectId: project {project} does not exist"));
    }
    if !store.clusters.iter().any(|c| c.id == cluster) {
        return error(400, format!("clusterId: cluster {cluster} does not exist"));
    }
    let (now, now_utc) = now_of(&state);
    if prefix {
        let n = store.workloads.len();
        name = format!(
            "{name}-{}",
            crate::sim::rng::Rng::derive(store.seed, &format!("runai/prefix/{n}")).hex(5)
        );
    }
    if store.workloads.iter().any(|w| w.deleted_at.is_none() && w.name == name) {
        return error(400, format!("name: a workload named {name} already exists in the project"));
    }
    let i = store.create(name, &cluster, spec, now_utc);
    store.advance(now, now_utc);
    (StatusCode::ACCEPTED, Json(store.workloads[i].inference_json())).into_response()
}

async fn get_inference(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match store.find(&id).filter(|w| w.is_inference()) {
        Some(w) => Json(w.inference_json()).into_response(),
        None => not_found(),
    }
}

async fn patch_inference(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if store.find(&id).filter(|w| w.is_inference()).is_none() {
        return not_found();
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    store.received.push(("PATCH".into(), body.clone()));
    let sections = match check::update(&body) {
        Ok(s) => s,
        Err(m) => return error(400, m),
    };
    let (now, now_utc) = now_of(&state);
    let Some(w) = store.find_mut(&id) else { return not_found() };
    // Sections are replaced whole, never merged: a key left out is gone. A null removes the section, or,
    // read as the Go control plane decodes it, is the same as absent.
    let null_keeps = state.reads(RUNAI_NULL, "keeps");
    let before = w.spec.clone();
    for (k, v) in sections {
        if v.is_null() && null_keeps {
            continue;
        }
        if v.is_null() {
            if let Some(m) = w.spec.as_object_mut() {
                m.remove(&k);
            }
        } else {
            w.spec[k] = v;
        }
    }
    // A new pod spec replaces every pod: the workload rolls (Updating) until the new ones are ready.
    if ["image", "environmentVariables", "command", "args"].iter().any(|k| before.get(*k) != w.spec.get(*k)) {
        w.replicas.roll();
    }
    w.updating = true;
    w.updated_at = now_utc;
    store.advance(now, now_utc);
    match store.find(&id) {
        Some(w) => (StatusCode::ACCEPTED, Json(w.inference_json())).into_response(),
        None => not_found(),
    }
}

async fn delete_inference(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut store = match authorize(&state, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let (now, now_utc) = now_of(&state);
    let Some(w) = store.find_mut(&id).filter(|w| w.is_inference()) else { return not_found() };
    if w.deleting_since.is_none() {
        w.deleting_since = Some(now);
        w.desired_phase = "Deleted".into();
        w.updated_at = now_utc;
    }
    store.advance(now, now_utc);
    (StatusCode::ACCEPTED, Json(json!({ "code": 202, "message": "Request has been accepted." })))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fleet::FleetSpec;

    /// Lists write the view straight; a `Value` object writes its keys sorted: both must give the same bytes,
    /// in the list's form and the GET's, under both casings of `type`.
    #[test]
    fn the_workload_view_writes_the_bytes_of_its_json_value() {
        let epoch = Utc::now();
        let mut st = Store::new(&FleetSpec::demo(), 3, epoch);
        for now in [0.0, 2.5, 600.0] {
            st.advance(now, epoch + chrono::Duration::milliseconds((now * 1000.0) as i64));
            for w in &st.workloads {
                for (detailed, lower) in [(true, false), (false, false), (false, true)] {
                    let view = w.view(detailed, lower);
                    let direct = serde_json::to_string(&view).unwrap();
                    assert_eq!(direct, serde_json::to_value(&view).unwrap().to_string(), "{}", w.name);
                }
            }
        }
        assert!(st.workloads.iter().any(|w| w.phase == "Pending"), "the GET's extra field is covered");
    }

    #[test]
    fn form_decoding() {
        let f =
            parse_form(b"grant_type=client_credentials&client_id=a%20b&client_secret=x+y%2B&empty=&bad=%zz");
        assert_eq!(f[0], ("grant_type".into(), "client_credentials".into()));
        assert_eq!(f[1].1, "a b");
        assert_eq!(f[2].1, "x y+");
        assert_eq!(f[3].1, "");
        assert_eq!(f[4].1, "%zz");
    }

    #[test]
    fn filters_parse() {
        assert_eq!(parse_filter("type==Inference"), Some(("type", "==", "Inference")));
        assert_eq!(parse_filter("name=@llm"), Some(("name", "=@", "llm")));
        assert_eq!(parse_filter("bogus==1"), None);
        assert_eq!(parse_filter("type=="), None);
    }

    #[test]
    fn demo_store_has_inferences_and_others() {
        let s = Store::new(&FleetSpec::demo(), 1, "2024-01-01T00:00:00Z".parse().unwrap());
        assert!(s.workloads.iter().filter(|w| w.is_inference()).count() >= 5);
        assert!(s.workloads.iter().any(|w| !w.is_inference()));
        let phases: Vec<&str> = s.workloads.iter().map(|w| w.phase.as_str()).collect();
        for p in ["Running", "Degraded", "Pending", "Stopped"] {
            assert!(phases.contains(&p), "no {p} in {phases:?}");
        }
    }
}
