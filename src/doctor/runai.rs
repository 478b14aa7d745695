//! NVIDIA Run:ai: the sign-in (v2 token, v1 as the fallback), what the dashboard reads, and the shapes it
//! expects (the control-plane spec's `Workload`, `Inference1`, `Pod1`, `MetricsResponse`).

use super::gcore::{error_probe, single};
use super::shape::{Field, Ty, any, arr, edited, obj, opt, req};
use super::{
    Finding, FindingKind, ReadOnly, Recorder, Severity, TokenBody, TokenPath, check_body, check_error_shape,
    read_pages,
};
use crate::model::Status;
use crate::provider::runai::wire;
use crate::provider::{AccountSpec, Credentials};
use serde_json::{Value, json};

/// Page size of the dashboard's list calls.
const PAGE: u32 = 200;

fn phase_known(s: &str) -> bool {
    // `Unknown` is a phase the spec names; infertop keeps it as it is.
    !matches!(Status::from_runai(s), Status::Unknown(_))
}

fn desired_phase_known(s: &str) -> bool {
    matches!(s, "Running" | "Stopped" | "Deleted")
}

fn scheme_known(s: &str) -> bool {
    matches!(s, "HTTP" | "HTTPS")
}

fn phase() -> Ty {
    Ty::Health { known: phase_known, what: "Run:ai phases" }
}

fn workload_fields() -> Vec<Field> {
    let mut f = vec![
        req("id", Ty::Str),
        req("name", Ty::Str),
        req("type", Ty::Str),
        req("phase", phase()),
        opt("clusterId", Ty::Str),
        opt("projectId", Ty::Any),
        opt("projectName", Ty::Str),
        opt("departmentId", Ty::Any),
        opt("createdAt", Ty::Str),
        opt("phaseMessage", Ty::Str),
        opt("runningPods", Ty::IntOrText),
        opt(
            "requestedPods",
            obj(vec![
                opt("number", Ty::IntOrText),
                opt("min", Ty::IntOrText),
                opt("max", Ty::IntOrText),
                opt("parallelism", Ty::Any),
                opt("completions", Ty::Any),
            ]),
        ),
        opt("urls", arr(Ty::Str)),
        opt("images", arr(Ty::Str)),
        opt("environmentVariables", Ty::Map),
        opt("command", Ty::Str),
        opt("arguments", Ty::Str),
    ];
    f.extend(any(&[
        "actionsSupport",
        "additionalFields",
        "aiApplicationId",
        "aiApplicationName",
        "allocatedResources",
        "category",
        "childrenIds",
        "completedAt",
        "conditions",
        "currentNodePools",
        "datasources",
        "deletedAt",
        "departmentName",
        "distributedFramework",
        "environments",
        "externalConnections",
        "guaranteedRuntimeEndsAt",
        "idleAllocatedGpus",
        "idleGpus",
        "k8sPhase",
        "k8sPhaseUpdatedAt",
        "namespace",
        "phaseReason",
        "phaseUpdatedAt",
        "podsRequestedResources",
        "preemptible",
        "priority",
        "priorityClassName",
        "requestedNodePools",
        "source",
        "sourceApi",
        "submittedBy",
        "tenantId",
        "topology",
        "totalPendingTimeSeconds",
        "totalRunningTimeSeconds",
        "updatedAt",
        "workloadRequestedResources",
        // Documented on `WorkloadDetailed`; a list item of the same workload may carry it too.
        "pendingSchedulingMessages",
    ]));
    f
}

fn workloads_page() -> Ty {
    obj(vec![opt("next", Ty::IntOrText), req("workloads", arr(obj(workload_fields())))])
}

fn workload_detailed() -> Ty {
    obj(workload_fields())
}

/// `Inference1`; `spec` is `InferenceSpecSpec`, with the sections an edit rewrites spelled out.
fn inference() -> Ty {
    let autoscaling = obj(vec![
        edited("minReplicas", Ty::IntOrText),
        edited("maxReplicas", Ty::IntOrText),
        opt("initialReplicas", Ty::IntOrText),
        opt("activationReplicas", Ty::IntOrText),
        edited("metric", Ty::Str),
        edited("metricThreshold", Ty::IntOrText),
        opt("metricThresholdPercentage", Ty::NumOrText),
        opt("concurrencyHardLimit", Ty::IntOrText),
        edited("scaleToZeroRetentionSeconds", Ty::IntOrText),
        opt("scaleDownDelaySeconds", Ty::IntOrText),
        opt("initializationTimeoutSeconds", Ty::Any),
    ]);
    let readiness = obj(vec![
        edited("initialDelaySeconds", Ty::IntOrText),
        edited("periodSeconds", Ty::IntOrText),
        edited("timeoutSeconds", Ty::IntOrText),
        edited("successThreshold", Ty::IntOrText),
        edited("failureThreshold", Ty::IntOrText),
        edited(
            "handler",
            obj(vec![edited(
                "httpGet",
                obj(vec![
                    edited("path", Ty::Str),
                    edited("port", Ty::IntOrText),
                    edited("host", Ty::Str),
                    edited("scheme", Ty::Word { known: scheme_known, what: "HTTP or HTTPS" }),
                ]),
            )]),
        ),
    ]);
    let mut spec = vec![
        opt("image", Ty::Str),
        opt("command", Ty::Str),
        opt("args", Ty::Str),
        opt("compute", Ty::Any),
        opt("environmentVariables", arr(Ty::Any)),
        opt(
            "servingPort",
            obj(vec![
                opt("container", Ty::IntOrText),
                opt("protocol", Ty::Str),
                opt("authorizationType", Ty::Str),
                opt("authorizedUsers", Ty::Any),
                opt("authorizedGroups", Ty::Any),
                opt("clusterLocalAccessOnly", Ty::Any),
            ]),
        ),
        edited("autoscaling", autoscaling),
        edited("probes", obj(vec![edited("readiness", readiness)])),
    ];
    spec.extend(any(&[
        "annotations",
        "category",
        "createHomeDir",
        "exposedUrls",
        "imagePullPolicy",
        "imagePullSecrets",
        "labels",
        "nodeAffinityRequired",
        "nodePools",
        "nodeType",
        "podAffinity",
        "ports",
        "preemptibility",
        "priorityClass",
        "relatedUrls",
        "security",
        "servingConfiguration",
        "storage",
        "tolerations",
        "workingDir",
    ]));
    obj(vec![
        opt("name", Ty::Str),
        opt("requestedName", Ty::Str),
        opt("workloadId", Ty::Str),
        opt("projectId", Ty::Any),
        opt("departmentId", Ty::Any),
        opt("clusterId", Ty::Str),
        opt("createdBy", Ty::Str),
        opt("createdAt", Ty::Str),
        opt("deletedAt", Ty::Str),
        opt("desiredPhase", Ty::Word { known: desired_phase_known, what: "Run:ai desired phases" }),
        opt("actualPhase", phase()),
        req("spec", obj(spec)),
    ])
}

fn pods_page() -> Ty {
    let mut pod =
        vec![req("id", Ty::Str), opt("name", Ty::Str), opt("k8sPhase", Ty::Str), opt("nodeName", Ty::Str)];
    pod.extend(any(&[
        "allocatedResources",
        "clusterId",
        "completedAt",
        "containers",
        "createdAt",
        "currentNodePool",
        "deletedAt",
        "ip",
        "k8sPhaseUpdatedAt",
        "nodeAffinity",
        "priorityClassName",
        "projectId",
        "projectName",
        "requestedNodePools",
        "requestedResources",
        "revisionId",
        "tenantId",
        "tolerations",
        "updatedAt",
        "workloadId",
        "workloadName",
    ]));
    obj(vec![opt("next", Ty::IntOrText), req("pods", arr(obj(pod)))])
}

fn metrics(composite: bool) -> Ty {
    // `type` is free text in `MeasurementResponse` ("specifies what data returned", example ALLOCATED_GPU).
    let measurement = obj(vec![
        req("type", Ty::Str),
        opt("labels", Ty::Map),
        opt("values", arr(obj(vec![opt("value", Ty::NumOrText), opt("timestamp", Ty::Str)]))),
    ]);
    let mut f = vec![req("measurements", arr(measurement))];
    if composite {
        f.push(opt("histogram", Ty::Any));
    }
    obj(f)
}

fn error_body() -> Ty {
    obj(vec![req("code", Ty::IntOrText), req("message", Ty::Str), opt("details", Ty::Str)])
}

fn oauth_error() -> Ty {
    obj(vec![req("error", Ty::Str), opt("error_description", Ty::Str), opt("error_uri", Ty::Str)])
}

fn token_v2() -> Ty {
    obj(vec![
        req("access_token", Ty::Str),
        opt("token_type", Ty::Str),
        opt("expires_in", Ty::IntOrText),
        opt("refresh_token", Ty::Any),
        opt("id_token", Ty::Any),
        opt("scope", Ty::Any),
    ])
}

fn token_v1() -> Ty {
    obj(vec![
        req("accessToken", Ty::Str),
        opt("expiresIn", Ty::IntOrText),
        opt("idToken", Ty::Any),
        opt("refreshToken", Ty::Any),
    ])
}

fn dec<T: serde::de::DeserializeOwned>(v: &Value) -> Option<Finding> {
    super::shape::decode::<T>(v, "$")
}

fn next_of(v: &Value, _offset: u64, _n: usize) -> Option<u64> {
    match v.get("next")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn is_inference(w: &Value) -> bool {
    w.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("inference"))
}

/// The sign-in: `POST /api/v2/token` with client credentials, and `POST /api/v1/token` when v2 is not served.
/// Returns the access token.
async fn sign_in(spec: &AccountSpec, http: &ReadOnly, rec: &mut Recorder) -> Option<String> {
    let (client_id, secret) = match &spec.credentials {
        Credentials::Runai { client_id, client_secret } => {
            (client_id.clone(), client_secret.expose().to_string())
        }
        _ => (String::new(), String::new()),
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let v2_ep = "POST /api/v2/token";
    let answer = match http.token(TokenPath::V2, TokenBody::Form(&form)).await {
        Ok(a) => a,
        Err(no) => {
            let f = Finding::new(FindingKind::Auth, Severity::Error, "$", no.what);
            rec.call(v2_ep, "sign-in", None, 1, no.elapsed, String::new(), vec![f]);
            rec.report.auth = "POST /api/v2/token: no answer".into();
            return None;
        }
    };
    if !matches!(answer.status, 404 | 405) {
        let mut found = Vec::new();
        let token = if (200..300).contains(&answer.status) {
            check_body(&answer, &token_v2(), dec::<wire::TokenResponse>, &mut found)
                .and_then(|v| v.get("access_token").and_then(Value::as_str).map(str::to_string))
        } else {
            found.push(Finding::new(
                FindingKind::Auth,
                Severity::Error,
                "$",
                format!("HTTP {}: the client credentials were refused", answer.status),
            ));
            // A refusal in another shape than OAuth2's costs the provider's message.
            let mut shape = Vec::new();
            check_error_shape(&answer, &[400, 401, 403], &oauth_error(), &mut shape);
            found.extend(shape);
            None
        };
        let expiry = answer
            .json
            .as_ref()
            .and_then(|v| v.get("expires_in"))
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.trim().parse().ok()));
        rec.report.auth = match (&token, expiry) {
            (Some(_), Some(s)) => format!("POST /api/v2/token (client credentials), token valid {s} s"),
            (Some(t), None) => format!("POST /api/v2/token (client credentials), {}", jwt_expiry(t)),
            (None, _) => format!("POST /api/v2/token (client credentials): refused (HTTP {})", answer.status),
        };
        rec.call(v2_ep, "sign-in", Some(answer.status), 1, answer.elapsed, String::new(), found);
        return token;
    }
    // v2 is not served: the deprecated v1 token, as older control planes have it.
    rec.call(
        v2_ep,
        "sign-in",
        Some(answer.status),
        1,
        answer.elapsed,
        "not served; trying v1".into(),
        vec![],
    );
    let v1_ep = "POST /api/v1/token";
    let body = json!({ "grantType": "client_credentials", "clientID": client_id, "clientSecret": secret });
    let mut answer = match http.token(TokenPath::V1, TokenBody::Json(body)).await {
        Ok(a) => a,
        Err(no) => {
            let f = Finding::new(FindingKind::Auth, Severity::Error, "$", no.what);
            rec.call(v1_ep, "sign-in", None, 1, no.elapsed, String::new(), vec![f]);
            rec.report.auth = "POST /api/v1/token: no answer".into();
            return None;
        }
    };
    // A plane that refuses the client_credentials grant (400) may take the `app_token` grant NVIDIA's own
    // client sends, as the dashboard then does.
    let mut grant = "";
    if answer.status == 400 {
        let body = json!({ "grantType": "app_token", "AppId": client_id, "AppSecret": secret });
        if let Ok(a) = http.token(TokenPath::V1, TokenBody::Json(body)).await
            && (200..300).contains(&a.status)
        {
            answer = a;
            grant = " with the app_token grant (client_credentials refused)";
        }
    }
    let mut found = Vec::new();
    let token = if (200..300).contains(&answer.status) {
        check_body(&answer, &token_v1(), dec::<wire::TokenResponseV1>, &mut found)
            .and_then(|v| v.get("accessToken").and_then(Value::as_str).map(str::to_string))
    } else {
        let (kind, sev, msg) = super::failure(answer.status);
        let kind = if kind == FindingKind::CallFailed { FindingKind::Auth } else { kind };
        found.push(Finding::new(kind, sev, "$", msg));
        None
    };
    let expiry = answer
        .json
        .as_ref()
        .and_then(|v| v.get("expiresIn"))
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.trim().parse().ok()));
    rec.report.auth = match (&token, expiry) {
        (Some(_), Some(s)) => {
            format!("POST /api/v1/token{grant} (v1 fallback: /api/v2/token is not served), token valid {s} s")
        }
        (Some(t), None) => {
            format!("POST /api/v1/token{grant} (v1 fallback: /api/v2/token is not served), {}", jwt_expiry(t))
        }
        (None, _) => format!("POST /api/v1/token (v1 fallback): refused (HTTP {})", answer.status),
    };
    rec.call(v1_ep, "sign-in", Some(answer.status), 1, answer.elapsed, String::new(), found);
    token
}

pub(super) async fn examine(spec: &AccountSpec, http: &ReadOnly, rec: &mut Recorder) {
    rec.report.not_checked = vec![
        "logs and pricing: the Run:ai API has neither".into(),
        "edits (PATCH of the inference spec): a write; try a scale edit on a test workload".into(),
    ];
    let Some(token) = sign_in(spec, http, rec).await else {
        rec.skip("*", "everything else", "no access token");
        return;
    };
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let list_ep = "GET /api/v1/workloads";

    // The dashboard's list and the create form's catalog read every workload (no `filterBy`: the casing of
    // `type` is not documented) and keep the inference ones, whatever the casing of their type.
    let mut found = Vec::new();
    let all = read_pages(
        |offset| {
            let q = vec![("offset", offset.to_string()), ("limit", PAGE.to_string())];
            async move { http.get("/api/v1/workloads", &q, &headers).await }
        },
        "workloads",
        next_of,
        &workloads_page(),
        dec::<wire::WorkloadsPage>,
        &mut found,
    )
    .await;
    let refused = found.iter().any(|f| f.kind == FindingKind::Auth);
    let inferences: Vec<&Value> = all.items.iter().filter(|w| is_inference(w)).collect();
    let spelled: std::collections::BTreeSet<String> = inferences
        .iter()
        .filter_map(|w| w.get("type").and_then(Value::as_str))
        .map(super::shape::shown_word)
        .collect();
    let note = format!(
        "{} of {} workloads are inference{} in {}",
        inferences.len(),
        all.items.len(),
        if spelled.is_empty() {
            String::new()
        } else {
            format!(" (type {})", spelled.into_iter().collect::<Vec<_>>().join(", "))
        },
        super::pages(all.pages.len())
    );
    rec.call(
        list_ep,
        "list, and the catalog's projects and clusters",
        all.status,
        all.requests,
        all.elapsed,
        note,
        found,
    );
    if refused {
        rec.skip("*", "everything else", "the access token was refused");
        return;
    }

    let first = inferences.first().and_then(|w| w.get("id").and_then(Value::as_str)).map(str::to_string);
    let eps = [
        ("GET /api/v1/workloads/inferences/{workloadId}", "get (spec)"),
        ("GET /api/v1/workloads/{workloadId}", "get (phase, pods, urls)"),
        ("GET /api/v1/workloads/{workloadId}/pods", "get (pods)"),
        ("GET /api/v1/workloads/inferences/{workloadId}/metrics", "metrics: throughput, latency"),
        ("GET /api/v1/workloads/{workloadId}/metrics", "metrics: GPU"),
        (
            "GET /api/v1/workloads/inferences/{workloadId}/pods/{podId}/metrics",
            "pod metrics: throughput, latency",
        ),
        ("GET /api/v1/workloads/{workloadId}/pods/{podId}/metrics", "pod metrics: GPU"),
    ];
    let Some(id) = first else {
        rec.skip(CLUSTERS, CLUSTERS_ROLE, "no inference workload: the dashboard does not read it");
        for (ep, role) in eps {
            rec.skip(ep, role, "no inference workload to read");
        }
        error_probe(rec, http, &headers, eps[0].0, &absent_path(), &error_body()).await;
        return;
    };
    clusters(rec, http, &headers).await;
    let id = super::enc(&id);
    single(
        rec,
        http,
        &headers,
        eps[0].0,
        eps[0].1,
        &format!("/api/v1/workloads/inferences/{id}"),
        &[],
        &inference(),
        dec::<wire::Inference>,
    )
    .await;
    single(
        rec,
        http,
        &headers,
        eps[1].0,
        eps[1].1,
        &format!("/api/v1/workloads/{id}"),
        &[],
        &workload_detailed(),
        dec::<wire::Workload>,
    )
    .await;

    let mut found = Vec::new();
    let pods_path = format!("/api/v1/workloads/{id}/pods");
    let pods = read_pages(
        |offset| {
            let q = vec![("offset", offset.to_string()), ("limit", PAGE.to_string())];
            let path = pods_path.clone();
            async move { http.get(&path, &q, &headers).await }
        },
        "pods",
        next_of,
        &pods_page(),
        dec::<wire::PodsPage>,
        &mut found,
    )
    .await;
    let note = super::count(pods.items.len(), "pod");
    rec.call(eps[2].0, eps[2].1, pods.status, pods.requests, pods.elapsed, note, found);

    let end = chrono::Utc::now();
    let start = end - chrono::Duration::hours(1);
    let q = |types: &str| {
        vec![
            ("metricType", types.to_string()),
            ("start", start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ("end", end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ("numberOfSamples", "20".to_string()),
        ]
    };
    let inf_metrics = metrics(false);
    let gpu_metrics = metrics(true);
    single(
        rec,
        http,
        &headers,
        eps[3].0,
        eps[3].1,
        &format!("/api/v1/workloads/inferences/{id}/metrics"),
        &q("THROUGHPUT,LATENCY"),
        &inf_metrics,
        dec::<wire::MetricsResponse>,
    )
    .await;
    documented_metrics_404(rec, eps[3].0);
    single(
        rec,
        http,
        &headers,
        eps[4].0,
        eps[4].1,
        &format!("/api/v1/workloads/{id}/metrics"),
        &q("GPU_UTILIZATION"),
        &gpu_metrics,
        dec::<wire::MetricsResponse>,
    )
    .await;
    let pod = pods.items.iter().find_map(|p| p.get("id").and_then(Value::as_str)).map(super::enc);
    match pod {
        None => {
            rec.skip(eps[5].0, eps[5].1, "no pod to read");
            rec.skip(eps[6].0, eps[6].1, "no pod to read");
        }
        Some(pod) => {
            single(
                rec,
                http,
                &headers,
                eps[5].0,
                eps[5].1,
                &format!("/api/v1/workloads/inferences/{id}/pods/{pod}/metrics"),
                &q("THROUGHPUT,LATENCY"),
                &inf_metrics,
                dec::<wire::MetricsResponse>,
            )
            .await;
            documented_metrics_404(rec, eps[5].0);
            single(
                rec,
                http,
                &headers,
                eps[6].0,
                eps[6].1,
                &format!("/api/v1/workloads/{id}/pods/{pod}/metrics"),
                &q("GPU_UTILIZATION"),
                &gpu_metrics,
                dec::<wire::MetricsResponse>,
            )
            .await;
        }
    }
    error_probe(rec, http, &headers, eps[0].0, &absent_path(), &error_body()).await;
}

const CLUSTERS: &str = "GET /api/v1/clusters";
const CLUSTERS_ROLE: &str = "cluster names";

/// The clusters list the dashboard reads to name each workload's cluster. Nothing there stops anything: without
/// it the dashboard shows cluster ids.
async fn clusters(rec: &mut Recorder, http: &ReadOnly, headers: &[super::Header<'_>]) {
    let body = single(
        rec,
        http,
        headers,
        CLUSTERS,
        CLUSTERS_ROLE,
        "/api/v1/clusters",
        &[],
        &clusters_shape(),
        dec::<Vec<wire::Cluster>>,
    )
    .await;
    if let (Some(c), Some(b)) = (rec.report.calls.last_mut(), body) {
        c.note = super::count(b.as_array().map_or(0, Vec::len), "cluster");
    }
    super::at_most_warnings(rec, CLUSTERS, "the dashboard shows cluster ids instead of names");
}

/// `GET /api/v1/clusters`: an array of clusters. No document here lists a cluster's keys; infertop reads
/// `uuid` (what a workload's `clusterId` names) and `name`, and the other keys are not looked at.
fn clusters_shape() -> Ty {
    arr(Ty::Open(vec![req("uuid", Ty::Str), opt("name", Ty::Str)]))
}

/// How long a token lives by its own `exp` claim (a JWT), as the dashboard reads it when no lifetime is given.
fn jwt_expiry(token: &str) -> String {
    match crate::provider::runai::jwt_lifetime(token) {
        Some(s) => format!("no expiry in the answer; the JWT's exp says {s} s"),
        None => "no expiry in the answer and not a JWT with exp: refreshed after an hour or on a 401".into(),
    }
}

/// Seed 003: inference metrics are served from control plane 2.18 on. A 404 there is an older plane, which the
/// documents foresee: a warning that names it, not an API that moved.
fn documented_metrics_404(rec: &mut Recorder, endpoint: &str) {
    let mut downgraded = false;
    for f in rec.report.findings.iter_mut() {
        if f.endpoint == endpoint
            && f.kind == FindingKind::EndpointMissing
            && f.message.starts_with("HTTP 404")
        {
            f.severity = Severity::Warning;
            f.message =
                "HTTP 404: a control plane older than 2.18 (NVIDIA documents the inference metrics from 2.18 on): the dashboard shows the GPU series only, marked partial".into();
            downgraded = true;
        }
    }
    if downgraded && let Some(c) = rec.report.calls.iter_mut().rev().find(|c| c.endpoint == endpoint) {
        c.outcome = "warning".into();
    }
}

fn absent_path() -> String {
    "/api/v1/workloads/inferences/00000000-0000-4000-8000-000000000000".into()
}

/// The shape expected of `endpoint`'s 2xx body (for the contract tests against the control-plane spec).
pub(super) fn shape_for(endpoint: &str) -> Option<Ty> {
    Some(match endpoint {
        "POST /api/v2/token" => token_v2(),
        "POST /api/v1/token" => token_v1(),
        "GET /api/v1/workloads" => workloads_page(),
        "GET /api/v1/clusters" => clusters_shape(),
        "GET /api/v1/workloads/{workloadId}" => workload_detailed(),
        "GET /api/v1/workloads/{workloadId}/pods" => pods_page(),
        "GET /api/v1/workloads/inferences/{workloadId}" => inference(),
        "GET /api/v1/workloads/inferences/{workloadId}/metrics"
        | "GET /api/v1/workloads/inferences/{workloadId}/pods/{podId}/metrics" => metrics(false),
        "GET /api/v1/workloads/{workloadId}/metrics"
        | "GET /api/v1/workloads/{workloadId}/pods/{podId}/metrics" => metrics(true),
        "error" => error_body(),
        _ => return None,
    })
}
