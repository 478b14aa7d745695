//! Gcore: what the dashboard reads (v3 or the legacy v2, as the account says), and the shapes it expects.

use super::shape::{Field, Ty, any, arr, obj, one_of, opt, page, req, sent_back};
use super::{Finding, FindingKind, ReadOnly, Recorder, Severity, check_body, check_error_shape, read_pages};
use crate::model::Status;
use crate::provider::gcore::{DEFAULT_PAGE_SIZE, wire};
use crate::provider::{AccountSpec, Credentials, GcoreApi};
use serde_json::Value;

fn status_known(s: &str) -> bool {
    !matches!(Status::from_gcore(s), Status::Unknown(_))
}

fn region_state_known(s: &str) -> bool {
    matches!(s, "ACTIVE" | "DELETED" | "DELETING" | "DELETION_FAILED" | "INACTIVE" | "MAINTENANCE" | "NEW")
}

fn status() -> Ty {
    Ty::Health { known: status_known, what: "Gcore deployment statuses" }
}

fn threshold() -> Ty {
    obj(vec![req("threshold", Ty::Int)])
}

fn triggers(v3: bool) -> Ty {
    let mut f = vec![
        opt("cpu", threshold()),
        opt("memory", threshold()),
        opt("gpu_utilization", threshold()),
        opt("gpu_memory", threshold()),
        opt("http", obj(vec![req("rate", Ty::Int), req("window", Ty::Int)])),
    ];
    if v3 {
        f.push(opt("sqs", Ty::Any));
    }
    obj(f)
}

/// `back`: how the scale fields an edit writes are needed ([`sent_back`] in v2's GET, where a PUT sends them
/// back; otherwise [`opt`]).
fn container(v3: bool, back: fn(&'static str, Ty) -> Field) -> Ty {
    let mut scale = vec![
        req("min", Ty::Int),
        req("max", Ty::Int),
        back("cooldown_period", Ty::Int),
        back("triggers", triggers(v3)),
    ];
    if v3 {
        scale.push(opt("polling_interval", Ty::Int));
    }
    let mut f = vec![
        req("region_id", Ty::Int),
        req("scale", obj(scale)),
        req("deploy_status", obj(vec![req("ready", Ty::Int), req("total", Ty::Int)])),
        opt("error_message", Ty::Str),
    ];
    if v3 {
        f.push(opt("address", Ty::Str));
    }
    obj(f)
}

fn probe_config() -> Ty {
    let probe = obj(vec![
        opt("exec", obj(vec![req("command", arr(Ty::Str))])),
        opt(
            "http_get",
            obj(vec![
                opt("headers", Ty::Map),
                opt("host", Ty::Str),
                opt("path", Ty::Str),
                req("port", Ty::Int),
                // Free text in the read schema (`type: string`, examples HTTP and HTTPS; no enum).
                opt("schema", Ty::Str),
            ]),
        ),
        opt("tcp_socket", obj(vec![req("port", Ty::Int)])),
        opt("failure_threshold", Ty::Int),
        opt("initial_delay_seconds", Ty::Int),
        opt("period_seconds", Ty::Int),
        opt("success_threshold", Ty::Int),
        opt("timeout_seconds", Ty::Int),
    ]);
    obj(vec![req("enabled", Ty::Bool), opt("probe", probe)])
}

fn probes() -> Ty {
    obj(vec![
        opt("liveness_probe", probe_config()),
        opt("readiness_probe", probe_config()),
        opt("startup_probe", probe_config()),
    ])
}

fn command() -> Ty {
    one_of(vec![Ty::Str, arr(Ty::Str)])
}

/// `InferenceInstanceOutSerializerV3`.
fn deployment_v3() -> Ty {
    let mut fields = vec![req("name", Ty::Str), opt("project_id", Ty::Int)];
    fields.extend(settings("flavor_name", "credentials_name", opt));
    fields.extend([
        opt("api_keys", arr(Ty::Str)),
        opt("created_at", Ty::Str),
        req("containers", arr(container(true, opt))),
        opt("ingress_opts", obj(vec![opt("disable_response_buffering", Ty::Bool)])),
        opt(
            "logging",
            obj(vec![
                opt("enabled", Ty::Bool),
                opt("destination_region_id", Ty::Int),
                opt("topic_name", Ty::Str),
                opt("retention_policy", one_of(vec![obj(vec![opt("period", Ty::Int)]), Ty::Int])),
            ]),
        ),
        opt("probes", probes()),
        opt("object_references", arr(obj(vec![opt("kind", Ty::Str), opt("name", Ty::Str)]))),
    ]);
    obj(fields)
}

/// `InferenceInstanceOutSerializer` (legacy v2). `read`: as the GET before an edit reads it, where every field
/// of the PUT must be there (the PUT replaces the whole deployment); the list's items may lack them.
fn deployment_v2(read: bool) -> Ty {
    let back = if read { sent_back } else { opt };
    let mut fields = vec![req("id", Ty::Str), req("name", Ty::Str)];
    fields.extend(settings("flavor_id", "image_registry_id", back));
    fields.extend([
        back("api_key_ids", arr(Ty::Str)),
        opt("created_at", Ty::Str),
        req("containers", arr(container(false, back))),
        back("probes", probes()),
        opt("project_id", Ty::Int),
    ]);
    obj(fields)
}

/// The fields from `status` to `auth_enabled`, which v3 and v2 list alike, in the same order; `flavor` and
/// `source` are each API's own (v3: `flavor_name`, `credentials_name`; v2: `flavor_id`, `image_registry_id`).
/// `back` makes the fields an edit writes (v2's GET: [`sent_back`]; otherwise [`opt`]).
fn settings(flavor: &'static str, source: &'static str, back: fn(&'static str, Ty) -> Field) -> [Field; 11] {
    [
        req("status", status()),
        opt("address", Ty::Str),
        back("image", Ty::Str),
        back("listening_port", Ty::Int),
        back(flavor, Ty::Str),
        back("description", Ty::Str),
        back(source, Ty::Str),
        back("command", command()),
        back("envs", Ty::Map),
        back("timeout", Ty::Int),
        back("auth_enabled", Ty::Bool),
    ]
}

fn log_line() -> Ty {
    obj(vec![req("time", Ty::Str), opt("region_id", Ty::Int), opt("pod", Ty::Str), req("message", Ty::Str)])
}

fn flavor() -> Ty {
    obj(vec![
        req("name", Ty::Str),
        opt("cpu", Ty::Num),
        opt("memory", Ty::Num),
        opt("gpu", Ty::Int),
        opt("gpu_model", Ty::Str),
        opt("gpu_memory", Ty::Num),
        opt("gpu_compute_capability", Ty::Str),
        opt("is_gpu_shared", Ty::Bool),
        opt("description", Ty::Str),
    ])
}

fn capacity() -> Ty {
    obj(vec![
        req("region_id", Ty::Int),
        req("capacity", arr(obj(vec![req("flavor_name", Ty::Str), req("capacity", Ty::Int)]))),
    ])
}

fn region() -> Ty {
    let mut f = vec![
        req("id", Ty::Int),
        req("display_name", Ty::Str),
        opt("state", Ty::Word { known: region_state_known, what: "Gcore region states" }),
        opt("has_ai", Ty::Bool),
    ];
    f.extend(any(&[
        "access_level",
        "available_volume_types",
        "coordinates",
        "country",
        "created_at",
        "created_on",
        "ddos_endpoint_id",
        "endpoint_type",
        "external_network_id",
        "file_share_types",
        "has_ai_gpu",
        "has_baremetal",
        "has_basic_vm",
        "has_dbaas",
        "has_ddos",
        "has_k8s",
        "has_kvm",
        "has_sfs",
        "keystone_id",
        "keystone_name",
        "metrics_database_id",
        "slug",
        "task_id",
        "vlan_physical_network",
        "zone",
    ]));
    obj(f)
}

fn registry_credential() -> Ty {
    obj(vec![
        req("name", Ty::Str),
        opt("project_id", Ty::Int),
        opt("registry_url", Ty::Str),
        opt("username", Ty::Str),
    ])
}

/// The Cloud API error body; some older endpoints answer `{"detail": ...}`, which infertop reads too.
fn error_body() -> Ty {
    let mut f = vec![req("exception_class", Ty::Str), req("message", Ty::Str), opt("request_id", Ty::Str)];
    f.extend(any(&["info", "invalid_fields", "traceback"]));
    one_of(vec![obj(f), obj(vec![req("detail", Ty::Any)])])
}

/// A list endpoint: its template, path, query, item shape and the dashboard's decoder.
type ListCall = (&'static str, String, Vec<(&'static str, String)>, Ty, Decoder);
type Decoder = fn(&Value) -> Option<Finding>;

fn dec<T: serde::de::DeserializeOwned>(v: &Value) -> Option<Finding> {
    super::shape::decode::<T>(v, "$")
}

fn no_decode(_: &Value) -> Option<Finding> {
    None
}

fn next_offset(v: &Value, offset: u64, n: usize) -> Option<u64> {
    let total = v.get("count").and_then(Value::as_u64)?;
    let next = offset + n as u64;
    (next < total).then_some(next)
}

pub(super) async fn examine(spec: &AccountSpec, http: &ReadOnly, rec: &mut Recorder) {
    let (key, project) = match &spec.credentials {
        Credentials::Gcore { api_key, project_id } => (api_key.expose().to_string(), *project_id),
        _ => (String::new(), 0),
    };
    let auth = format!("APIKey {key}");
    let headers = [("authorization", auth.as_str())];
    let v3 = spec.gcore_api == GcoreApi::V3;
    rec.report.auth = "Authorization: APIKey header".into();
    rec.report.not_checked = vec![
        "pricing: POST /cloud/v2/pricing/inference/deployments is a POST, and the doctor sends none".into(),
        "metrics: the Gcore inference API has none".into(),
        "edits and GET /cloud/v1/tasks/{task_id}: only a write makes a task; try a scale edit on a test deployment"
            .into(),
    ];

    // The list, page by page, as the dashboard reads it.
    let (list_ep, list_path, list_query, item_shape, list_decode): ListCall = if v3 {
        (
            "GET /cloud/v3/inference/{project_id}/deployments",
            format!("/cloud/v3/inference/{project}/deployments"),
            vec![],
            deployment_v3(),
            dec::<wire::Page<wire::Deployment>>,
        )
    } else {
        (
            "GET /cloud/v2/inference/deployments",
            "/cloud/v2/inference/deployments".to_string(),
            vec![("project_id", project.to_string())],
            deployment_v2(false),
            dec::<wire::Page<wire::DeploymentV2>>,
        )
    };
    let list_shape = page(item_shape.clone());
    let mut found = Vec::new();
    let paged = read_pages(
        |offset| {
            let mut q = list_query.clone();
            q.push(("limit", DEFAULT_PAGE_SIZE.to_string()));
            if offset > 0 {
                q.push(("offset", offset.to_string()));
            }
            let path = list_path.clone();
            async move { http.get(&path, &q, &headers).await }
        },
        "results",
        next_offset,
        &list_shape,
        list_decode,
        &mut found,
    )
    .await;
    let auth_refused = found.iter().any(|f| f.kind == FindingKind::Auth);
    let note =
        format!("{} in {}", super::count(paged.items.len(), "deployment"), super::pages(paged.pages.len()));
    rec.call(list_ep, "list", paged.status, paged.requests, paged.elapsed, note, found);
    if auth_refused {
        rec.report.auth = "Authorization: APIKey header: refused".into();
        rec.skip("*", "everything else", "the API key was refused");
        return;
    }
    if paged.status.is_none() {
        rec.skip("*", "everything else", "the server did not answer");
        return;
    }

    // One deployment, its logs.
    let key_field = if v3 { "name" } else { "id" };
    let first = paged.items.iter().find_map(|d| d.get(key_field).and_then(Value::as_str).map(str::to_string));
    let (get_ep, logs_ep) = if v3 {
        (
            "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}",
            "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs",
        )
    } else {
        (
            "GET /cloud/v2/inference/deployments/{instance_id}",
            "GET /cloud/v2/inference/deployments/{instance_id}/logs",
        )
    };
    let one = |id: &str| {
        if v3 {
            format!("/cloud/v3/inference/{project}/deployments/{}", super::enc(id))
        } else {
            format!("/cloud/v2/inference/deployments/{}", super::enc(id))
        }
    };
    match &first {
        None => {
            rec.skip(get_ep, "get", "no deployment to read");
            rec.skip(logs_ep, "logs", "no deployment to read");
        }
        Some(id) => {
            let get_decode: fn(&Value) -> Option<Finding> =
                if v3 { dec::<wire::Deployment> } else { dec::<wire::DeploymentV2> };
            // v2: the GET before an edit, which must give every field of the PUT.
            let get_shape = if v3 { item_shape.clone() } else { deployment_v2(true) };
            single(rec, http, &headers, get_ep, "get", &one(id), &[], &get_shape, get_decode).await;
            let q = vec![("limit", "100".to_string()), ("order_by", "time.desc".to_string())];
            if v3 {
                single(
                    rec,
                    http,
                    &headers,
                    logs_ep,
                    "logs",
                    &format!("{}/logs", one(id)),
                    &q,
                    &page(log_line()),
                    dec::<wire::Page<wire::LogLine>>,
                )
                .await;
            } else {
                // The v2 logs paths define no query parameters; the dashboard sends none.
                let shape = one_of(vec![page(log_line()), arr(log_line()), log_line()]);
                single(
                    rec,
                    http,
                    &headers,
                    logs_ep,
                    "logs",
                    &format!("{}/logs", one(id)),
                    &[],
                    &shape,
                    dec::<wire::LogsV2>,
                )
                .await;
            }
        }
    }
    if !v3 {
        v2_flavor(rec, http, &headers, &paged.items).await;
    }

    // The catalog the create form reads.
    paged_catalog(
        rec,
        http,
        &headers,
        "GET /cloud/v3/inference/flavors",
        "catalog: flavors",
        "/cloud/v3/inference/flavors".into(),
        vec![],
        flavor(),
        dec::<wire::Page<wire::Flavor>>,
    )
    .await;
    single(
        rec,
        http,
        &headers,
        "GET /cloud/v3/inference/capacity",
        "catalog: capacity",
        "/cloud/v3/inference/capacity",
        &[],
        &page(capacity()),
        dec::<wire::Page<wire::RegionCapacity>>,
    )
    .await;
    paged_catalog(
        rec,
        http,
        &headers,
        "GET /cloud/v1/regions",
        "catalog: regions",
        "/cloud/v1/regions".into(),
        vec![("product", "inference".into())],
        region(),
        dec::<wire::Page<wire::Region>>,
    )
    .await;
    paged_catalog(
        rec,
        http,
        &headers,
        "GET /cloud/v3/inference/{project_id}/registry_credentials",
        "catalog: registries",
        format!("/cloud/v3/inference/{project}/registry_credentials"),
        vec![],
        registry_credential(),
        no_decode,
    )
    .await;

    // The error body, from a read of a deployment that does not exist.
    let absent = if v3 { one("infertop-doctor-absent") } else { one("00000000-0000-4000-8000-000000000000") };
    error_probe(rec, http, &headers, get_ep, &absent, &error_body()).await;
}

/// The flavor a v2 deployment names by uuid, read by uuid as the dashboard does to show its name. Nothing
/// there stops anything: without it the dashboard shows the uuid.
async fn v2_flavor(rec: &mut Recorder, http: &ReadOnly, headers: &[super::Header<'_>], items: &[Value]) {
    let ep = "GET /cloud/v2/inference/flavors/{flavor_id}";
    let role = "flavor name (v2)";
    let id = items
        .iter()
        .filter_map(|d| d.get("flavor_id").and_then(Value::as_str))
        .find(|id| crate::model::text::looks_like_uuid(id));
    let Some(id) = id else {
        rec.skip(ep, role, "no deployment names its flavor by uuid");
        return;
    };
    let path = format!("/cloud/v2/inference/flavors/{}", super::enc(id));
    let body = single(rec, http, headers, ep, role, &path, &[], &flavor_v2(), dec::<wire::FlavorV2>).await;
    if body.is_some_and(|b| b.get("name").and_then(Value::as_str).is_none_or(str::is_empty)) {
        rec.add(
            ep,
            vec![Finding::new(
                FindingKind::Missing,
                Severity::Warning,
                "$.name",
                "no name: the dashboard shows the flavor by its uuid".into(),
            )],
        );
        if let Some(c) = rec.report.calls.last_mut().filter(|c| c.outcome == "ok") {
            c.outcome = "warning".into();
        }
    }
    super::at_most_warnings(rec, ep, "the dashboard shows the flavor's uuid instead of its name");
}

/// `FlavorOutSerializer` of the legacy v2 API. No document here lists its keys (the v2 reference types the
/// read only by name); infertop reads `name`, and the other keys are not looked at.
fn flavor_v2() -> Ty {
    Ty::Open(vec![opt("name", Ty::Str), opt("id", Ty::Str)])
}

/// One GET, checked.
#[allow(clippy::too_many_arguments)]
pub(super) async fn single(
    rec: &mut Recorder,
    http: &ReadOnly,
    headers: &[super::Header<'_>],
    endpoint: &str,
    role: &str,
    path: &str,
    query: &[(&str, String)],
    shape: &Ty,
    decode: fn(&Value) -> Option<Finding>,
) -> Option<Value> {
    let mut found = Vec::new();
    match http.get(path, query, headers).await {
        Ok(a) => {
            let body = check_body(&a, shape, decode, &mut found);
            rec.call(endpoint, role, Some(a.status), 1, a.elapsed, String::new(), found);
            body
        }
        Err(no) => {
            found.push(Finding::new(FindingKind::CallFailed, Severity::Error, "$", no.what));
            rec.call(endpoint, role, None, 1, no.elapsed, String::new(), found);
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn paged_catalog(
    rec: &mut Recorder,
    http: &ReadOnly,
    headers: &[super::Header<'_>],
    endpoint: &str,
    role: &str,
    path: String,
    query: Vec<(&str, String)>,
    item: Ty,
    decode: fn(&Value) -> Option<Finding>,
) {
    let mut found = Vec::new();
    let paged = read_pages(
        |offset| {
            let mut q = query.clone();
            q.push(("limit", DEFAULT_PAGE_SIZE.to_string()));
            if offset > 0 {
                q.push(("offset", offset.to_string()));
            }
            let path = path.clone();
            async move { http.get(&path, &q, headers).await }
        },
        "results",
        next_offset,
        &page(item),
        decode,
        &mut found,
    )
    .await;
    // A catalog item seen again on a later page is offered twice in the create form; a choice is by name, so
    // either of the two is the same: it stops nothing (a deployment listed twice is another matter).
    for f in found.iter_mut().filter(|f| f.kind == FindingKind::PagingOverlap) {
        f.severity = Severity::Warning;
        f.message = format!(
            "{}; the create form may offer them twice, and a choice by name is the same either way",
            f.message.split(':').next().unwrap_or_default()
        );
    }
    let note = super::count(paged.items.len(), "item");
    rec.call(endpoint, role, paged.status, paged.requests, paged.elapsed, note, found);
}

/// A GET of something absent: the answer's error body is compared with the documented one.
pub(super) async fn error_probe(
    rec: &mut Recorder,
    http: &ReadOnly,
    headers: &[super::Header<'_>],
    endpoint: &str,
    path: &str,
    shape: &Ty,
) {
    let mut found = Vec::new();
    match http.get(path, &[], headers).await {
        Ok(a) => {
            check_error_shape(&a, &[404], shape, &mut found);
            rec.call(
                endpoint,
                "error body (a read of something absent)",
                Some(a.status),
                1,
                a.elapsed,
                String::new(),
                found,
            );
        }
        Err(no) => {
            found.push(Finding::new(FindingKind::CallFailed, Severity::Error, "$", no.what));
            rec.call(
                endpoint,
                "error body (a read of something absent)",
                None,
                1,
                no.elapsed,
                String::new(),
                found,
            );
        }
    }
}

/// The shape expected of `endpoint`'s 200 body (for the contract tests against the providers' own specs).
pub(super) fn shape_for(endpoint: &str) -> Option<Ty> {
    Some(match endpoint {
        "GET /cloud/v3/inference/{project_id}/deployments" => page(deployment_v3()),
        "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}" => deployment_v3(),
        "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs" => page(log_line()),
        "GET /cloud/v2/inference/deployments" => page(deployment_v2(false)),
        "GET /cloud/v2/inference/deployments/{instance_id}" => deployment_v2(true),
        "GET /cloud/v2/inference/deployments/{instance_id}/logs" => {
            one_of(vec![page(log_line()), arr(log_line()), log_line()])
        }
        "GET /cloud/v3/inference/flavors" => page(flavor()),
        "GET /cloud/v2/inference/flavors/{flavor_id}" => flavor_v2(),
        "GET /cloud/v3/inference/capacity" => page(capacity()),
        "GET /cloud/v1/regions" => page(region()),
        "GET /cloud/v3/inference/{project_id}/registry_credentials" => page(registry_credential()),
        "error" => error_body(),
        _ => return None,
    })
}
