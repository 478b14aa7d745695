//! Simulated Gcore Everywhere Inference API on its real paths: the v3 deployments API (PATCH + tasks), the
//! legacy v2 API (full-replace PUT) over the same deployments, tasks, flavors, capacity, regions, pricing
//! and logs. Auth is `Authorization: APIKey <key>` (the word in any case); errors use the Cloud API's body
//! `{exception_class, message, request_id, invalid_fields?}`.
//!
//! Semantics that the documents leave open, as simulated (see the digest §6, §14):
//! - PATCH: a field absent is left unchanged; a null resets it or is ignored (the `gcore-v3-null` switch of
//!   [`super::ambiguity`]); `containers` is the full placement (regions left out are removed); a container's
//!   cooldown and polling interval left out keep their values (null is refused: the spec does not allow it);
//!   a given `triggers` replaces the set, except that a trigger left null stays under `gcore-trigger-null=
//!   ignored`; in `probes`, a slot given is merged into the current one (a handler given replaces the handler;
//!   a null slot, probe or handler is removed or ignored as `gcore-v3-null` says); a PATCH that changes
//!   nothing answers `{"tasks": []}`.
//! - v2 PUT without `project_id` goes to the key's default project (seed 001), which `gcore-v2-default-project`
//!   reads as another project (404).
//! - v2 PUT replaces every v2 field, resetting what the body leaves out to its default; the v3-only settings
//!   (logging, ingress options, polling interval, the sqs trigger) are kept.
//! - v2 answers carry every field, or (`gcore-v2-optional-fields=omitted`) only those their schema requires.
//! - Tasks move NEW -> RUNNING -> FINISHED with simulated time (one second each) and by one state per poll.
//! - A region outside the catalog makes the task end in ERROR (nothing is applied); a region without capacity
//!   for the flavor is refused at once with 403 ForbiddenError.

// Helpers return a ready error `Response` to the handler; its size does not matter on this path.
#![allow(clippy::result_large_err)]

pub mod input;
pub mod store;

pub use store::Store;

use super::SimState;
use super::ambiguity::{
    GCORE_TRIGGER_NULL, GCORE_V2_LOGS, GCORE_V2_OPTIONAL, GCORE_V2_PROJECT, GCORE_V3_NULL, PRICING_PREVIEW,
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use input::{Check, Field};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use store::{Deployment, TaskKind};

type Q = Query<BTreeMap<String, String>>;

pub fn router(_state: SimState) -> Router<SimState> {
    let v3 = "/cloud/v3/inference/{project_id}/deployments";
    let v2 = "/cloud/v2/inference/deployments";
    Router::new()
        .route(v3, get(v3_list).post(v3_create))
        .route(&format!("{v3}/{{name}}"), get(v3_get).patch(v3_patch).delete(v3_delete))
        .route(&format!("{v3}/{{name}}/start"), post(v3_start))
        .route(&format!("{v3}/{{name}}/stop"), post(v3_stop))
        .route(&format!("{v3}/{{name}}/logs"), get(v3_logs))
        .route("/cloud/v3/inference/flavors", get(flavors))
        .route("/cloud/v3/inference/flavors/{flavor_name}", get(flavor))
        .route("/cloud/v3/inference/capacity", get(capacity))
        .route("/cloud/v1/tasks/{task_id}", get(task))
        .route("/cloud/v1/regions", get(regions))
        .route("/cloud/v2/pricing/inference/deployments", post(pricing))
        .route("/cloud/v3/inference/{project_id}/registry_credentials", get(registry_credentials))
        .route(v2, get(v2_list).post(v2_create))
        .route(&format!("{v2}/{{id}}"), get(v2_get).put(v2_put).delete(v2_delete))
        .route(&format!("{v2}/{{id}}/start"), post(v2_start))
        .route(&format!("{v2}/{{id}}/stop"), post(v2_stop))
        .route(&format!("{v2}/{{id}}/logs"), get(v2_logs))
        .route(&format!("{v2}/{{id}}/regions/{{region_id}}/logs"), get(v2_region_logs))
        .route("/cloud/v2/inference/flavors/{flavor_id}", get(v2_flavor))
}

// ---------------------------------------------------------------- errors and auth

static REQUESTS: AtomicU64 = AtomicU64::new(0);

fn request_id() -> String {
    super::rng::Rng::derive(REQUESTS.fetch_add(1, Ordering::Relaxed), "gcore/request-id").uuid()
}

fn error(status: StatusCode, class: &str, message: impl Into<String>) -> Response {
    let body = json!({ "exception_class": class, "message": message.into(), "request_id": request_id() });
    let mut r = (status, Json(body)).into_response();
    if status == StatusCode::CONFLICT {
        // The SDK retries 409 unless told not to.
        r.headers_mut().insert("x-should-retry", "false".parse().expect("static header"));
    }
    r
}

fn invalid(c: &Check) -> Response {
    let body = json!({
        "exception_class": "ValidationError", "message": c.message(), "request_id": request_id(),
        "invalid_fields": c.errors,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn invalid1(field: &str, msg: &str) -> Response {
    let mut c = Check::default();
    c.add(field, msg);
    invalid(&c)
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "NotFoundError", what)
}

fn auth(h: &HeaderMap) -> Result<(), Response> {
    let Some(v) = h.get(header::AUTHORIZATION) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Authentication credentials were not provided.",
        ));
    };
    let v = v.to_str().unwrap_or("").trim();
    let (word, token) = v.split_once(' ').unwrap_or((v, ""));
    if !word.eq_ignore_ascii_case("apikey") {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "token_not_valid",
            "Given token not valid for any token type",
        ));
    }
    if token.trim() != super::DEMO_GCORE_KEY {
        return Err(error(StatusCode::UNAUTHORIZED, "token_not_valid", "Invalid API key"));
    }
    Ok(())
}

fn project(p: &str) -> Result<(), Response> {
    match p.parse::<i64>() {
        Ok(store::PROJECT_ID) => Ok(()),
        Ok(other) => Err(not_found(&format!("Project {other} not found"))),
        Err(_) => Err(invalid1("project_id", "Input should be a valid integer")),
    }
}

/// Runs `f` on the store advanced to the current simulated time. The lock is never held across an await.
fn with_store(s: &SimState, f: impl FnOnce(&mut Store) -> Response) -> Response {
    let mut st = s.gcore.lock().unwrap_or_else(|p| p.into_inner());
    st.advance(s.clock.now_secs());
    f(&mut st)
}

fn guarded(
    s: &SimState,
    h: &HeaderMap,
    project_id: Option<&str>,
    f: impl FnOnce(&mut Store) -> Response,
) -> Response {
    if let Err(r) = auth(h) {
        return r;
    }
    if let Some(p) = project_id
        && let Err(r) = project(p)
    {
        return r;
    }
    with_store(s, f)
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid1("body", "Field required"));
    }
    serde_json::from_slice(body).map_err(|e| invalid1("body", &format!("JSON decode error: {e}")))
}

/// `limit` (1..=max, default `default`) and `offset` (>= 0).
fn paging(q: &BTreeMap<String, String>, default: usize, max: usize) -> Result<(usize, usize), Response> {
    let mut c = Check::default();
    let limit = match q.get("limit") {
        None => default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 && n as usize <= max => n as usize,
            Ok(n) if n < 1 => {
                c.add("limit", "Input should be greater than 0");
                0
            }
            Ok(_) => {
                c.add("limit", format!("Input should be less than or equal to {max}"));
                0
            }
            Err(_) => {
                c.add("limit", "Input should be a valid integer, unable to parse string as an integer");
                0
            }
        },
    };
    let offset = match q.get("offset") {
        None => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n as usize,
            Ok(_) => {
                c.add("offset", "Input should be greater than or equal to 0");
                0
            }
            Err(_) => {
                c.add("offset", "Input should be a valid integer, unable to parse string as an integer");
                0
            }
        },
    };
    if c.ok() { Ok((limit, offset)) } else { Err(invalid(&c)) }
}

/// `{count, results}`: the window `offset..offset + limit` of `items`, each rendered by `render` (only those).
fn page<'a, T, R: serde::Serialize>(
    items: &'a [T],
    limit: usize,
    offset: usize,
    render: impl Fn(&'a T) -> R,
) -> Response {
    #[derive(serde::Serialize)]
    struct Page<R> {
        count: usize,
        results: Vec<R>,
    }
    let results = items.iter().skip(offset).take(limit).map(render).collect();
    Json(Page { count: items.len(), results }).into_response()
}

fn tasks(ids: &[String]) -> Response {
    Json(json!({ "tasks": ids })).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn v3_missing(name: &str) -> Response {
    not_found(&format!("Inference instance '{name}' not found"))
}

fn v2_missing(id: &str) -> Response {
    not_found(&format!("Inference instance {id} not found"))
}

fn being_deleted(name: &str) -> Response {
    error(StatusCode::CONFLICT, "ConflictError", format!("Inference instance '{name}' is being deleted"))
}

// ---------------------------------------------------------------- building deployments from bodies

fn blank(st: &mut Store) -> Deployment {
    Deployment {
        id: st.uuid("deployment"),
        name: String::new(),
        project_id: store::PROJECT_ID,
        image: String::new(),
        port: 0,
        flavor: String::new(),
        description: String::new(),
        credentials_name: String::new(),
        command: None,
        envs: Some(BTreeMap::new()),
        timeout: Some(120),
        auth_enabled: false,
        api_keys: Vec::new(),
        ingress_opts: None,
        logging: None,
        probes: None,
        object_references: Vec::new(),
        created_at: st.time(st.now),
        stopped: false,
        deleting: None,
        demand: store::NEW_DEPLOYMENT_DEMAND,
        containers: Vec::new(),
    }
}

/// Regions of `d` that are not in the catalog (the task then ends in ERROR), or a 403 when a region has no
/// capacity at all for the flavor.
fn placement_problem(st: &Store, d: &Deployment) -> Result<Option<String>, Response> {
    for c in &d.containers {
        match st.region(c.region_id) {
            None => return Ok(Some(format!("Region {} is not available for inference", c.region_id))),
            Some(r) if r.capacity_for(&d.flavor) == 0 => {
                return Err(error(
                    StatusCode::FORBIDDEN,
                    "ForbiddenError",
                    format!("The region {} has reached the limit of flavor {}", c.region_id, d.flavor),
                ));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Applies a v3 create body (`base` None) or PATCH body (`base` Some) and returns the resulting deployment.
/// How a v3 PATCH reads a null (see [`super::ambiguity`]).
#[derive(Debug, Clone, Copy, Default)]
struct NullReading {
    /// A top-level field or a probe slot sent as null is reset.
    clears: bool,
    /// A trigger sent as null (or left out of a given `triggers`) is removed.
    trigger_removes: bool,
}

impl NullReading {
    fn of(s: &SimState) -> Self {
        NullReading {
            clears: s.reads(GCORE_V3_NULL, "clears"),
            trigger_removes: s.reads(GCORE_TRIGGER_NULL, "removes"),
        }
    }
}

fn v3_apply(
    st: &mut Store,
    body: &Value,
    base: Option<&Deployment>,
    nulls: NullReading,
) -> Result<Deployment, Response> {
    let Some(o) = body.as_object() else {
        return Err(invalid1("body", "Input should be a valid dictionary"));
    };
    let create = base.is_none();
    let mut d = match base {
        Some(b) => b.clone(),
        None => blank(st),
    };
    let mut c = Check::default();
    // Required on create, optional (null = unchanged) on PATCH.
    let given = |c: &mut Check, key: &str, nullable_in_patch: bool| -> Option<Value> {
        match o.get(key) {
            None if create => {
                c.add(key, "Field required");
                None
            }
            None => None,
            Some(Value::Null) if !create && nullable_in_patch => None,
            Some(v) => Some(v.clone()),
        }
    };
    if create && let Some(v) = given(&mut c, "name", false) {
        d.name = c.name(&v, "name").unwrap_or_default();
    }
    if let Some(v) = given(&mut c, "image", true)
        && let Some(s) = c.image(&v, "image")
    {
        d.image = s;
    }
    if let Some(v) = given(&mut c, "listening_port", true)
        && let Some(p) = c.port(&v, "listening_port")
    {
        d.port = p;
    }
    if let Some(v) = given(&mut c, "flavor_name", false)
        && let Some(f) = c.string(&v, "flavor_name")
    {
        if f.is_empty() {
            c.add("flavor_name", "String should have at least 1 character");
        } else if st.flavor(&f).is_none() {
            c.add("flavor_name", format!("Value error, flavor '{f}' does not exist"));
        } else {
            d.flavor = f;
        }
    }
    for key in ["description", "credentials_name"] {
        let v = match o.get(key) {
            Some(Value::Null) if !create && nulls.clears => String::new(),
            None | Some(Value::Null) if !create => continue,
            None | Some(Value::Null) => String::new(),
            Some(v) => match c.string(v, key) {
                Some(s) => s,
                None => continue,
            },
        };
        if key == "description" {
            d.description = v;
        } else {
            d.credentials_name = v;
        }
    }
    match o.get("command") {
        Some(Value::Null) if !create && nulls.clears => d.command = None,
        None | Some(Value::Null) => {}
        Some(v) => {
            if let Some(cmd) = c.strings(v, "command") {
                d.command = if cmd.is_empty() { None } else { Some(cmd) };
            }
        }
    }
    match o.get("envs") {
        None => {}
        Some(Value::Null) if !create && nulls.clears => d.envs = None,
        Some(Value::Null) if !create => {}
        Some(v) => {
            if let Some(m) = c.string_map(v, "envs") {
                d.envs = Some(m);
            }
        }
    }
    match c.opt_int(o, "timeout", "", Some(0), None) {
        Field::Set(t) => d.timeout = Some(t),
        Field::Null if create || nulls.clears => d.timeout = None,
        _ => {}
    }
    if o.get("api_keys").is_some_and(|v| !v.is_null()) && o.get("auth_enabled").is_some_and(|v| !v.is_null())
    {
        c.add("api_keys", "Value error, auth_enabled and api_keys cannot be used together");
    }
    if let Some(v) = o.get("api_keys").filter(|v| !v.is_null())
        && let Some(keys) = c.strings(v, "api_keys")
    {
        d.api_keys = keys;
        d.auth_enabled = !d.api_keys.is_empty();
    }
    if let Some(v) = o.get("auth_enabled").filter(|v| !v.is_null())
        && let Some(b) = c.boolean(v, "auth_enabled")
    {
        d.auth_enabled = b;
    }
    for key in ["ingress_opts", "logging"] {
        match o.get(key) {
            None => {}
            Some(Value::Null) if !create && !nulls.clears => {}
            Some(v) => {
                let parsed = if key == "logging" {
                    input::logging(&mut c, v, key)
                } else {
                    input::ingress_opts(&mut c, v, key)
                };
                if key == "logging" {
                    d.logging = parsed;
                } else {
                    d.ingress_opts = parsed;
                }
            }
        }
    }
    match o.get("probes") {
        None => {}
        Some(Value::Null) if !create && nulls.clears => d.probes = None,
        Some(Value::Null) if !create => {}
        Some(v) if create => d.probes = input::probes(&mut c, v, "probes"),
        Some(v) => d.probes = input::patch_probes(&mut c, d.probes.as_ref(), v, "probes", nulls.clears),
    }
    if let Some(v) = given(&mut c, "containers", true)
        && let Some(list) = input::containers(&mut c, &v, "containers", create)
    {
        let old = d.containers.clone();
        d.containers = list
            .iter()
            .map(|ci| {
                let prev = old.iter().find(|o| o.region_id == ci.region_id);
                let mut k = store::new_container(st, &d.flavor, ci, prev, !create);
                // Read as "null is ignored", a trigger left null in a given `triggers` keeps its value.
                if !create
                    && !nulls.trigger_removes
                    && ci.triggers.is_some()
                    && let Some(p) = prev
                    && let (Some(new), Some(old)) = (k.triggers.as_object_mut(), p.triggers.as_object())
                {
                    for (key, v) in new.iter_mut() {
                        if v.is_null() {
                            *v = old.get(key).cloned().unwrap_or(Value::Null);
                        }
                    }
                }
                k
            })
            .collect();
    }
    if !c.ok() {
        return Err(invalid(&c));
    }
    for k in 0..d.containers.len() {
        let cap = st.capacity(d.containers[k].region_id, &d.flavor);
        d.containers[k].replicas.capacity = cap;
    }
    d.resync();
    Ok(d)
}

/// Applies a v2 create or PUT body: every v2 field is set from the body or reset to its default.
fn v2_apply(st: &mut Store, body: &Value, base: Option<&Deployment>) -> Result<Deployment, Response> {
    let Some(o) = body.as_object() else {
        return Err(invalid1("body", "Input should be a valid dictionary"));
    };
    let mut d = match base {
        Some(b) => b.clone(),
        None => blank(st),
    };
    let mut c = Check::default();
    if let Some(v) = c.required(o, "name", "").cloned() {
        d.name = c.name(&v, "name").unwrap_or_default();
    }
    if let Some(v) = c.required(o, "image", "").cloned()
        && let Some(s) = c.image(&v, "image")
    {
        d.image = s;
    }
    if let Some(v) = c.required(o, "listening_port", "").cloned()
        && let Some(p) = c.port(&v, "listening_port")
    {
        d.port = p;
    }
    if let Some(v) = c.required(o, "flavor_id", "").cloned()
        && let Some(id) = c.string(&v, "flavor_id")
    {
        match st.flavors.iter().find(|f| f.id == id) {
            Some(f) => d.flavor = f.name.clone(),
            None if store::looks_like_uuid(&id) => {
                c.add("flavor_id", format!("Value error, flavor {id} does not exist"))
            }
            None => c.add("flavor_id", "Input should be a valid UUID"),
        }
    }
    d.description = match o.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(v) => c.string(v, "description").unwrap_or_default(),
    };
    d.command = match o.get("command") {
        None | Some(Value::Null) => None,
        Some(v) => c.strings(v, "command").filter(|v| !v.is_empty()),
    };
    d.envs = match o.get("envs") {
        None => Some(BTreeMap::new()),
        Some(v) => c.string_map(v, "envs"),
    };
    d.timeout = c.opt_int(o, "timeout", "", Some(0), None).or_default(Some(120));
    d.auth_enabled = match o.get("auth_enabled") {
        None | Some(Value::Null) => false,
        Some(v) => c.boolean(v, "auth_enabled").unwrap_or(false),
    };
    let old_keys = d.api_keys.clone();
    d.api_keys = match o.get("api_key_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => c
            .strings(v, "api_key_ids")
            .unwrap_or_default()
            .into_iter()
            .map(|id| old_keys.iter().find(|k| store::api_key_uuid(k) == id).cloned().unwrap_or(id))
            .collect(),
    };
    let old_registry = d.credentials_name.clone();
    d.credentials_name = match o.get("image_registry_id") {
        None | Some(Value::Null) => String::new(),
        Some(v) => match c.string(v, "image_registry_id") {
            Some(id) if store::registry_uuid(&old_registry) == id => old_registry,
            Some(id) => id,
            None => String::new(),
        },
    };
    d.probes = match o.get("probes") {
        None => None,
        Some(v) => input::probes(&mut c, v, "probes"),
    };
    if let Some(p) = o.get("project_id").filter(|p| !p.is_null())
        && p.as_i64() != Some(store::PROJECT_ID)
    {
        c.add("project_id", "Value error, project does not match the API key's project");
    }
    if let Some(v) = c.required(o, "containers", "").cloned()
        && let Some(list) = input::containers(&mut c, &v, "containers", true)
    {
        let old = d.containers.clone();
        let mut out = Vec::new();
        for (i, ci) in list.iter().enumerate() {
            if st.region(ci.region_id).is_none() {
                c.add(
                    &format!("containers.{i}.region_id"),
                    format!("Value error, region {} is not available for inference", ci.region_id),
                );
                continue;
            }
            let prev = old.iter().find(|o| o.region_id == ci.region_id);
            let mut k = store::new_container(st, &d.flavor, ci, prev, false);
            // v2 knows neither the polling interval nor the sqs trigger: a PUT keeps them.
            if let Some(p) = prev {
                k.polling = p.polling;
                let sqs_given = ci.triggers.as_ref().is_some_and(|t| !t["sqs"].is_null());
                if !sqs_given {
                    k.triggers["sqs"] = p.triggers["sqs"].clone();
                }
            }
            out.push(k);
        }
        d.containers = out;
    }
    if !c.ok() {
        return Err(invalid(&c));
    }
    for k in 0..d.containers.len() {
        let cap = st.capacity(d.containers[k].region_id, &d.flavor);
        d.containers[k].replicas.capacity = cap;
    }
    d.resync();
    Ok(d)
}

// ---------------------------------------------------------------- v3

async fn v3_list(State(s): State<SimState>, h: HeaderMap, Path(p): Path<String>, Query(q): Q) -> Response {
    guarded(&s, &h, Some(&p), |st| match paging(&q, 1000, 1000) {
        Ok((limit, offset)) => page(&st.deployments, limit, offset, Deployment::v3_view),
        Err(r) => r,
    })
}

async fn v3_get(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
) -> Response {
    guarded(&s, &h, Some(&p), |st| match st.find(&name) {
        Some(i) => Json(st.deployments[i].v3_view()).into_response(),
        None => v3_missing(&name),
    })
}

async fn v3_create(State(s): State<SimState>, h: HeaderMap, Path(p): Path<String>, body: Bytes) -> Response {
    guarded(&s, &h, Some(&p), |st| {
        let body = match parse_body(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let d = match v3_apply(st, &body, None, NullReading::default()) {
            Ok(d) => d,
            Err(r) => return r,
        };
        if st.find(&d.name).is_some() {
            return error(
                StatusCode::CONFLICT,
                "ConflictError",
                format!("Inference instance with name '{}' already exists", d.name),
            );
        }
        let problem = match placement_problem(st, &d) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let failed = problem.is_some();
        let id = st.new_task(TaskKind::Create, &d.name, problem);
        if !failed {
            st.deployments.push(d);
        }
        tasks(&[id])
    })
}

async fn v3_patch(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let nulls = NullReading::of(&s);
    guarded(&s, &h, Some(&p), |st| {
        let Some(i) = st.find(&name) else { return v3_missing(&name) };
        if st.deployments[i].deleting.is_some() {
            return being_deleted(&name);
        }
        let body = match parse_body(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        st.received.push(("PATCH".into(), body.clone()));
        let base = st.deployments[i].clone();
        let d = match v3_apply(st, &body, Some(&base), nulls) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let problem = match placement_problem(st, &d) {
            Ok(p) => p,
            Err(r) => return r,
        };
        if problem.is_none() && d.config() == base.config() {
            return tasks(&[]);
        }
        let failed = problem.is_some();
        let id = st.new_task(TaskKind::Update, &name, problem);
        if !failed {
            let mut d = d;
            d.roll_if_respecced(&base);
            st.deployments[i] = d;
        }
        tasks(&[id])
    })
}

async fn v3_delete(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
) -> Response {
    guarded(&s, &h, Some(&p), |st| {
        let Some(i) = st.find(&name) else { return v3_missing(&name) };
        if st.deployments[i].deleting.is_some() {
            return being_deleted(&name);
        }
        let id = st.new_task(TaskKind::Delete, &name, None);
        st.deployments[i].deleting = Some(id.clone());
        st.deployments[i].resync();
        tasks(&[id])
    })
}

fn set_stopped(st: &mut Store, i: usize, stopped: bool) -> Response {
    if st.deployments[i].deleting.is_some() {
        let name = st.deployments[i].name.clone();
        return being_deleted(&name);
    }
    st.deployments[i].stopped = stopped;
    st.deployments[i].resync();
    no_content()
}

async fn v3_start(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
) -> Response {
    guarded(&s, &h, Some(&p), |st| match st.find(&name) {
        Some(i) => set_stopped(st, i, false),
        None => v3_missing(&name),
    })
}

async fn v3_stop(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
) -> Response {
    guarded(&s, &h, Some(&p), |st| match st.find(&name) {
        Some(i) => set_stopped(st, i, true),
        None => v3_missing(&name),
    })
}

/// Log lines of deployment `i`: `order_by` time.asc|time.desc (default desc), `region_id`, paging.
fn logs_answer(
    st: &Store,
    i: usize,
    q: &BTreeMap<String, String>,
    region: Option<i64>,
    with_region: bool,
) -> Response {
    let (limit, offset) = match paging(q, 1000, 1000) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let asc = match q.get("order_by").map(String::as_str) {
        None | Some("time.desc") => false,
        Some("time.asc") => true,
        Some(_) => return invalid1("order_by", "Input should be 'time.asc' or 'time.desc'"),
    };
    let region = match (region, q.get("region_id")) {
        (Some(r), _) => Some(r),
        (None, None) => None,
        (None, Some(v)) if v.is_empty() || v == "null" => None,
        (None, Some(v)) => match v.parse::<i64>() {
            Ok(r) => Some(r),
            Err(_) => {
                return invalid1(
                    "region_id",
                    "Input should be a valid integer, unable to parse string as an integer",
                );
            }
        },
    };
    let mut lines = st.logs(&st.deployments[i], region);
    if asc {
        lines.reverse();
    }
    let items = lines
        .into_iter()
        .map(|(t, r, pod, message)| {
            if with_region {
                json!({ "time": store::log_time(t), "region_id": r, "pod": pod, "message": message })
            } else {
                json!({ "time": store::log_time(t), "pod": pod, "message": message })
            }
        })
        .collect::<Vec<Value>>();
    page(&items, limit, offset, |v| v)
}

async fn v3_logs(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    guarded(&s, &h, Some(&p), |st| match st.find(&name) {
        Some(i) => logs_answer(st, i, &q, None, true),
        None => v3_missing(&name),
    })
}

// ---------------------------------------------------------------- catalogs, tasks, pricing

async fn flavors(State(s): State<SimState>, h: HeaderMap, Query(q): Q) -> Response {
    guarded(&s, &h, None, |st| match paging(&q, 1000, 1000) {
        Ok((limit, offset)) => page(&st.flavors, limit, offset, store::Flavor::json),
        Err(r) => r,
    })
}

async fn flavor(State(s): State<SimState>, h: HeaderMap, Path(name): Path<String>) -> Response {
    guarded(&s, &h, None, |st| match st.flavor(&name) {
        Some(f) => Json(f.json()).into_response(),
        None => not_found(&format!("Flavor '{name}' not found")),
    })
}

/// A legacy v2 flavor by its uuid. Only the per-flavor read is served: the v2 list's 200 is typed as one
/// `FlavorOutSerializer` in the reference, not a list, and a client must not depend on either reading.
async fn v2_flavor(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    guarded(&s, &h, None, |st| match st.flavors.iter().find(|f| f.id == id) {
        Some(f) => Json(f.v2_json()).into_response(),
        None => not_found(&format!("Flavor '{id}' not found")),
    })
}

/// Registry credentials (`{name, project_id, registry_url, username}`; the password is never returned).
async fn registry_credentials(
    State(s): State<SimState>,
    h: HeaderMap,
    Path(p): Path<String>,
    Query(q): Q,
) -> Response {
    guarded(&s, &h, Some(&p), |_| match paging(&q, 1000, 1000) {
        Ok((limit, offset)) => {
            let project: i64 = p.parse().unwrap_or_default();
            let items = [
                ("dockerhub-ci", "registry-1.docker.io", "infertop-ci"),
                ("ghcr-models", "ghcr.io", "models-bot"),
            ]
            .iter()
            .map(
                |(n, u, user)| json!({"name": n, "project_id": project, "registry_url": u, "username": user}),
            )
            .collect::<Vec<Value>>();
            page(&items, limit, offset, |v| v)
        }
        Err(r) => r,
    })
}

async fn capacity(State(s): State<SimState>, h: HeaderMap) -> Response {
    guarded(&s, &h, None, |st| Json(st.capacity_json()).into_response())
}

async fn regions(State(s): State<SimState>, h: HeaderMap, Query(q): Q) -> Response {
    guarded(&s, &h, None, |st| {
        let (limit, offset) = match paging(&q, 100, 1000) {
            Ok(p) => p,
            Err(r) => return r,
        };
        if let Some(p) = q.get("product")
            && p != "inference"
            && p != "containers"
        {
            return invalid1("product", "Input should be 'containers' or 'inference'");
        }
        let mut list: Vec<&store::Region> = st.regions.iter().collect();
        if let Some(n) = q.get("display_name") {
            list.retain(|r| r.name == *n);
        }
        match q.get("order_by").map(String::as_str) {
            None | Some("created_at.desc") | Some("created_at.asc") => {}
            Some("display_name.asc") => list.sort_by(|a, b| a.name.cmp(&b.name)),
            Some("display_name.desc") => list.sort_by(|a, b| b.name.cmp(&a.name)),
            Some(_) => {
                return invalid1(
                    "order_by",
                    "Input should be 'created_at.asc', 'created_at.desc', 'display_name.asc' or 'display_name.desc'",
                );
            }
        }
        page(&list, limit, offset, |r| st.region_json(r))
    })
}

async fn task(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    guarded(&s, &h, None, |st| {
        if !st.tasks.contains_key(&id) {
            return not_found(&format!("Task {id} not found"));
        }
        st.progress(&id, true);
        match st.tasks.get(&id) {
            Some(t) => Json(st.task_json(t)).into_response(),
            None => not_found(&format!("Task {id} not found")),
        }
    })
}

/// Price = the flavor's hourly price x the sum of `max` over the containers (x 1 under the `pricing-preview`
/// switch's `per-replica` reading).
async fn pricing(State(s): State<SimState>, h: HeaderMap, body: Bytes) -> Response {
    let per_replica = s.reads(PRICING_PREVIEW, "per-replica");
    guarded(&s, &h, None, |st| {
        let body = match parse_body(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut c = Check::default();
        let Some(o) = c.object(&body, "body") else { return invalid(&c) };
        let flavor = c.required(o, "flavor_name", "").cloned().and_then(|f| c.string(&f, "flavor_name"));
        let mut replicas: u64 = 0;
        if let Some(list) = c.required(o, "containers", "").cloned() {
            match list.as_array() {
                None => c.add("containers", "Input should be a valid list"),
                Some(a) if a.is_empty() => {
                    c.add("containers", "List should have at least 1 item after validation, not 0")
                }
                Some(a) => {
                    for (i, item) in a.iter().enumerate() {
                        let f = format!("containers.{i}");
                        let Some(io) = c.object(item, &f) else { continue };
                        let region = c
                            .required(io, "region_id", &f)
                            .cloned()
                            .and_then(|r| c.int(&r, &format!("{f}.region_id"), None, None));
                        if let Some(r) = region
                            && st.region(r).is_none()
                        {
                            c.add(
                                &format!("{f}.region_id"),
                                format!("Value error, region {r} is not available for inference"),
                            );
                        }
                        let scale = c.required(io, "scale", &f).cloned();
                        let max = scale
                            .as_ref()
                            .and_then(|s| c.object(s, &format!("{f}.scale")).cloned())
                            .and_then(|so| c.required(&so, "max", &format!("{f}.scale")).cloned())
                            .and_then(|m| {
                                c.int(&m, &format!("{f}.scale.max"), Some(1), Some(10_000_000_000_000_000))
                            });
                        replicas = replicas.saturating_add(max.unwrap_or(0) as u64);
                    }
                }
            }
        }
        let fl = match flavor {
            Some(f) => match st.flavor(&f) {
                Some(fl) => Some(fl.clone()),
                None => {
                    c.add("flavor_name", format!("Value error, flavor '{f}' does not exist"));
                    None
                }
            },
            None => None,
        };
        if !c.ok() {
            return invalid(&c);
        }
        let Some(fl) = fl else { return invalid(&c) };
        let replicas = if per_replica { 1 } else { replicas };
        let hour = ((fl.price_per_hour * replicas as f64) * 10_000.0).round() / 10_000.0;
        let month = ((hour * 730.0) * 100.0).round() / 100.0;
        Json(json!({
            "currency_code": "EUR", "price_per_hour": hour, "price_per_month": month,
            "price_without_discount_per_month": month, "discount_percent": 0.0, "tax_percent": 0.0,
            "price_status": "show",
        }))
        .into_response()
    })
}

// ---------------------------------------------------------------- v2 (legacy)

/// The fields of `InferenceInstanceOutSerializer` its schema does not require (seed 001, v2 spec), and those of
/// `ContainerOutSerializer`: under `gcore-v2-optional-fields=omitted` an answer leaves every one of them out.
const V2_OPTIONAL: [&str; 10] = [
    "address",
    "api_key_ids",
    "auth_enabled",
    "command",
    "created_at",
    "description",
    "envs",
    "image_registry_id",
    "probes",
    "timeout",
];
const V2_CONTAINER_OPTIONAL: [&str; 1] = ["error_message"];
/// `ContainerScaleSerializer` requires only `min` and `max`.
const V2_SCALE_OPTIONAL: [&str; 2] = ["cooldown_period", "triggers"];

/// A v2 deployment as an answer shows it: in full, or (`omit`) with only what the schema requires.
fn v2_out(d: &Deployment, omit: bool) -> Value {
    let mut v = d.v2_json();
    if omit && let Some(o) = v.as_object_mut() {
        for k in V2_OPTIONAL {
            o.remove(k);
        }
        if let Some(Value::Array(cs)) = o.get_mut("containers") {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                for k in V2_CONTAINER_OPTIONAL {
                    c.remove(k);
                }
                if let Some(scale) = c.get_mut("scale").and_then(Value::as_object_mut) {
                    for k in V2_SCALE_OPTIONAL {
                        scale.remove(k);
                    }
                }
            }
        }
    }
    v
}

fn v2_project(q: &BTreeMap<String, String>) -> Result<(), Response> {
    match q.get("project_id") {
        None => Ok(()),
        Some(p) => project(p),
    }
}

async fn v2_list(State(s): State<SimState>, h: HeaderMap, Query(q): Q) -> Response {
    if let Err(r) = auth(&h).and_then(|_| v2_project(&q)) {
        return r;
    }
    let omit = s.reads(GCORE_V2_OPTIONAL, "omitted");
    with_store(&s, |st| {
        let (limit, offset) = match paging(&q, 1000, 1000) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let mut list: Vec<&Deployment> = st.deployments.iter().collect();
        match q.get("order_by").map(String::as_str) {
            Some("name.asc") => list.sort_by(|a, b| a.name.cmp(&b.name)),
            Some("name.desc") => list.sort_by(|a, b| b.name.cmp(&a.name)),
            _ => {}
        }
        page(&list, limit, offset, |d| v2_out(d, omit))
    })
}

async fn v2_get(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    let omit = s.reads(GCORE_V2_OPTIONAL, "omitted");
    guarded(&s, &h, None, |st| match st.find_id(&id) {
        Some(i) => Json(v2_out(&st.deployments[i], omit)).into_response(),
        None => v2_missing(&id),
    })
}

async fn v2_create(State(s): State<SimState>, h: HeaderMap, body: Bytes) -> Response {
    let omit = s.reads(GCORE_V2_OPTIONAL, "omitted");
    guarded(&s, &h, None, |st| {
        let body = match parse_body(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let d = match v2_apply(st, &body, None) {
            Ok(d) => d,
            Err(r) => return r,
        };
        if st.find(&d.name).is_some() {
            return error(
                StatusCode::CONFLICT,
                "ConflictError",
                format!("Inference instance with name '{}' already exists", d.name),
            );
        }
        if let Err(r) = placement_problem(st, &d) {
            return r;
        }
        let out = v2_out(&d, omit);
        st.deployments.push(d);
        Json(out).into_response()
    })
}

async fn v2_put(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    // Seed 001: without `project_id` the key's default project is used; read as "that is another project",
    // the deployment is not found there.
    let default_elsewhere = s.reads(GCORE_V2_PROJECT, "other");
    let omit = s.reads(GCORE_V2_OPTIONAL, "omitted");
    guarded(&s, &h, None, |st| {
        let Some(i) = st.find_id(&id) else { return v2_missing(&id) };
        if default_elsewhere
            && serde_json::from_slice::<Value>(&body)
                .ok()
                .is_some_and(|b| b.get("project_id").is_none_or(Value::is_null))
        {
            return v2_missing(&id);
        }
        if st.deployments[i].deleting.is_some() {
            let name = st.deployments[i].name.clone();
            return being_deleted(&name);
        }
        let body = match parse_body(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        st.received.push(("PUT".into(), body.clone()));
        let base = st.deployments[i].clone();
        let d = match v2_apply(st, &body, Some(&base)) {
            Ok(d) => d,
            Err(r) => return r,
        };
        if d.name != base.name && st.find(&d.name).is_some() {
            return error(
                StatusCode::CONFLICT,
                "ConflictError",
                format!("Inference instance with name '{}' already exists", d.name),
            );
        }
        if let Err(r) = placement_problem(st, &d) {
            return r;
        }
        let mut d = d;
        d.roll_if_respecced(&base);
        let out = v2_out(&d, omit);
        st.deployments[i] = d;
        Json(out).into_response()
    })
}

async fn v2_delete(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    guarded(&s, &h, None, |st| {
        let Some(i) = st.find_id(&id) else { return v2_missing(&id) };
        if st.deployments[i].deleting.is_some() {
            return no_content();
        }
        let name = st.deployments[i].name.clone();
        // The deployment shows DELETING for a short while, then goes (v2 answers 204, no task to follow).
        let task = st.new_task(TaskKind::Delete, &name, None);
        st.deployments[i].deleting = Some(task);
        st.deployments[i].resync();
        no_content()
    })
}

async fn v2_start(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    guarded(&s, &h, None, |st| match st.find_id(&id) {
        Some(i) => set_stopped(st, i, false),
        None => v2_missing(&id),
    })
}

async fn v2_stop(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>) -> Response {
    guarded(&s, &h, None, |st| match st.find_id(&id) {
        Some(i) => set_stopped(st, i, true),
        None => v2_missing(&id),
    })
}

/// The v2 logs answer under the `gcore-v2-logs` reading: the `{count, results}` page the v3 API gives, or the
/// single `InferenceInstanceLogOutSerializer` the v2 document types it as (the newest line; `[]` when there is
/// none, as one object cannot say "no line").
fn v2_logs_answer(
    s: &SimState,
    st: &Store,
    i: usize,
    q: &BTreeMap<String, String>,
    region: Option<i64>,
    with_region: bool,
) -> Response {
    if !s.reads(GCORE_V2_LOGS, "object") {
        return logs_answer(st, i, q, region, with_region);
    }
    match st.logs(&st.deployments[i], region).into_iter().next() {
        None => Json(json!([])).into_response(),
        Some((t, r, pod, message)) => {
            let mut line = json!({ "time": store::log_time(t), "pod": pod, "message": message });
            if with_region {
                line["region_id"] = json!(r);
            }
            Json(line).into_response()
        }
    }
}

async fn v2_logs(State(s): State<SimState>, h: HeaderMap, Path(id): Path<String>, Query(q): Q) -> Response {
    guarded(&s, &h, None, |st| match st.find_id(&id) {
        Some(i) => v2_logs_answer(&s, st, i, &q, None, true),
        None => v2_missing(&id),
    })
}

async fn v2_region_logs(
    State(s): State<SimState>,
    h: HeaderMap,
    Path((id, region)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    guarded(&s, &h, None, |st| {
        let Ok(region) = region.parse::<i64>() else {
            return invalid1("region_id", "Input should be a valid integer");
        };
        match st.find_id(&id) {
            Some(i) => v2_logs_answer(&s, st, i, &q, Some(region), false),
            None => v2_missing(&id),
        }
    })
}
