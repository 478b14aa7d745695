//! Sesterce: what the dashboard reads, and the shapes it expects (seed 004).

use super::gcore::{error_probe, single};
use super::shape::{Ty, arr, obj, one_of, opt, req, sent_back, sent_back_or};
use super::{Finding, ReadOnly, Recorder};
use crate::model::Status;
use crate::provider::sesterce::wire;
use crate::provider::{AccountSpec, Credentials};
use serde_json::Value;

fn status_known(s: &str) -> bool {
    !matches!(Status::from_gcore(s), Status::Unknown(_))
}

fn feature_known(s: &str) -> bool {
    matches!(s, "chat" | "image")
}

fn region_state_known(s: &str) -> bool {
    s == "ACTIVE"
}

fn summary_fields() -> Vec<super::shape::Field> {
    vec![
        req("_id", Ty::Str),
        req("name", Ty::Str),
        req("status", Ty::Health { known: status_known, what: "Sesterce instance statuses" }),
        opt("hourlyPrice", Ty::NumOrText),
        opt("features", arr(Ty::Word { known: feature_known, what: "chat or image" })),
        opt("address", Ty::Str),
        opt("createdAt", Ty::Str),
        opt("updatedAt", Ty::Str),
    ]
}

/// A region id: a number in the seed; the client keeps any text (`eu-1`) too.
fn region_id() -> Ty {
    one_of(vec![Ty::CountOrText, Ty::Str])
}

fn threshold() -> Ty {
    obj(vec![req("threshold", Ty::CountOrText)])
}

fn details() -> Ty {
    let scale = obj(vec![
        req("min", Ty::CountOrText),
        req("max", Ty::CountOrText),
        opt("cooldownPeriod", Ty::CountOrText),
        opt(
            "triggers",
            obj(vec![
                opt("cpu", threshold()),
                opt("gpuMemory", threshold()),
                opt("gpuUtilization", threshold()),
                opt("memory", threshold()),
                opt("http", obj(vec![req("rate", Ty::CountOrText), req("window", Ty::CountOrText)])),
            ]),
        ),
    ]);
    let container = obj(vec![
        req("regionId", region_id()),
        req("scale", scale),
        req("deployStatus", obj(vec![req("total", Ty::CountOrText), req("ready", Ty::CountOrText)])),
        opt("errorMessage", Ty::Str),
    ]);
    let mut f = summary_fields();
    f.extend([
        // A scale edit sends the instance back whole: without the port it is refused before sending.
        req("containerPort", Ty::CountOrText),
        // Each of these goes back in the PATCH as read (null included); absent, the edit is refused.
        sent_back("description", Ty::Str),
        sent_back("podLifetime", Ty::CountOrText),
        req("containers", arr(container)),
        opt("hardwareId", Ty::Str),
        opt("hardwareName", Ty::Str),
        sent_back("envs", Ty::Map),
        sent_back("startupCommand", Ty::Str),
        sent_back_or("apiKeysIds", "apiKeyIds", arr(Ty::Str)),
        opt("apiKeyIds", arr(Ty::Str)),
        opt("modelId", Ty::Str),
        opt("registryId", Ty::Str),
    ]);
    obj(f)
}

fn model() -> Ty {
    obj(vec![
        req("id", Ty::Str),
        req("name", Ty::Str),
        opt("port", Ty::CountOrText),
        opt("defaultHardwareId", Ty::Str),
        opt("features", arr(Ty::Word { known: feature_known, what: "chat or image" })),
    ])
}

fn hardware() -> Ty {
    obj(vec![
        req("id", Ty::Str),
        req("name", Ty::Str),
        opt("cpu", Ty::NumOrText),
        opt("ram", Ty::NumOrText),
        opt(
            "gpu",
            obj(vec![opt("model", Ty::Str), opt("count", Ty::CountOrText), opt("memory", Ty::NumOrText)]),
        ),
    ])
}

fn region() -> Ty {
    obj(vec![
        req("id", region_id()),
        req("name", Ty::Str),
        opt("countryCode", Ty::Str),
        opt("state", Ty::Word { known: region_state_known, what: "Sesterce region states" }),
        opt("capacities", arr(obj(vec![req("hardwareId", Ty::Str), req("capacity", Ty::CountOrText)]))),
    ])
}

fn registry() -> Ty {
    obj(vec![
        req("_id", Ty::Str),
        req("name", Ty::Str),
        req("url", Ty::Str),
        opt("username", Ty::Str),
        opt("createdAt", Ty::Str),
        opt("updatedAt", Ty::Str),
    ])
}

fn error_body() -> Ty {
    obj(vec![
        req("statusCode", Ty::CountOrText),
        req("message", one_of(vec![Ty::Str, arr(Ty::Str)])),
        opt("error", Ty::Str),
    ])
}

/// The dashboard reads lists item by item and shows no row for an item it cannot read (it names it in a
/// warning): counted here, with the first one's place and why.
fn items<T: serde::de::DeserializeOwned>(v: &Value) -> Option<Finding> {
    let a = match v.as_array() {
        None => return super::shape::decode::<Vec<Value>>(v, "$"),
        Some(a) => a,
    };
    let mut bad = a.iter().enumerate().filter_map(|(i, x)| Some((i, super::shape::decode::<T>(x, "$[*]")?)));
    let (first, mut f) = bad.next()?;
    let n = 1 + bad.count();
    f.message = format!(
        "{n} of {} items cannot be read: the dashboard shows no row for them (first: item [{first}]); {}",
        a.len(),
        f.message
    );
    f.count = n;
    Some(f)
}

fn dec<T: serde::de::DeserializeOwned>(v: &Value) -> Option<Finding> {
    super::shape::decode::<T>(v, "$")
}

pub(super) async fn examine(spec: &AccountSpec, http: &ReadOnly, rec: &mut Recorder) {
    let key = match &spec.credentials {
        Credentials::Sesterce { api_key } => api_key.expose().to_string(),
        _ => String::new(),
    };
    let headers = [("x-api-key", key.as_str())];
    rec.report.auth = "x-api-key header".into();
    rec.report.not_checked = vec![
        "pricing: POST /ai-inference/instances/pricing is a POST, and the doctor sends none (the list's hourlyPrice is checked)".into(),
        "logs and metrics: the Sesterce API has none".into(),
        "edits, start and stop: writes; try a scale edit on a test instance".into(),
    ];

    let list_ep = "GET /ai-inference/instances";
    let list = single(
        rec,
        http,
        &headers,
        list_ep,
        "list",
        "/ai-inference/instances",
        &[],
        &arr(obj(summary_fields())),
        items::<wire::InstanceSummary>,
    )
    .await;
    let refused =
        rec.report.findings.iter().any(|f| f.endpoint == list_ep && f.kind == super::FindingKind::Auth);
    if refused {
        rec.report.auth = "x-api-key header: refused".into();
        rec.skip("*", "everything else", "the API key was refused");
        return;
    }
    if rec.report.calls.last().is_some_and(|c| c.status.is_none()) {
        rec.skip("*", "everything else", "the server did not answer");
        return;
    }
    if let (Some(call), Some(l)) = (rec.report.calls.last_mut(), &list) {
        call.note = super::count(l.as_array().map_or(0, Vec::len), "instance");
    }
    let first = list
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find_map(|i| i.get("_id").and_then(Value::as_str).map(str::to_string)));
    let get_ep = "GET /ai-inference/instances/{id}";
    match first {
        None => rec.skip(get_ep, "get", "no instance to read"),
        Some(id) => {
            let path = format!("/ai-inference/instances/{}", super::enc(&id));
            single(rec, http, &headers, get_ep, "get", &path, &[], &details(), dec::<wire::InstanceDetails>)
                .await;
        }
    }
    for (what, shape, decode) in [
        ("models", arr(model()), items::<wire::Model> as fn(&Value) -> Option<Finding>),
        ("hardwares", arr(hardware()), items::<wire::Hardware>),
        ("regions", arr(region()), items::<wire::Region>),
        ("registries", arr(registry()), items::<wire::Registry>),
    ] {
        let ep = format!("GET /ai-inference/{what}");
        let body = single(
            rec,
            http,
            &headers,
            &ep,
            &format!("catalog: {what}"),
            &format!("/ai-inference/{what}"),
            &[],
            &shape,
            decode,
        )
        .await;
        if let (Some(call), Some(b)) = (rec.report.calls.last_mut(), body) {
            call.note = super::count(b.as_array().map_or(0, Vec::len), "item");
        }
    }
    error_probe(
        rec,
        http,
        &headers,
        get_ep,
        "/ai-inference/instances/000000000000000000000000",
        &error_body(),
    )
    .await;
}

/// The shape expected of `endpoint`'s 200 body (seed 004 has examples, not a schema).
pub(super) fn shape_for(endpoint: &str) -> Option<Ty> {
    Some(match endpoint {
        "GET /ai-inference/instances" => arr(obj(summary_fields())),
        "GET /ai-inference/instances/{id}" => details(),
        "GET /ai-inference/models" => arr(model()),
        "GET /ai-inference/hardwares" => arr(hardware()),
        "GET /ai-inference/regions" => arr(region()),
        "GET /ai-inference/registries" => arr(registry()),
        "error" => error_body(),
        _ => return None,
    })
}
