//! Sesterce: the seed's examples, the client against the simulator over loopback, and the contract check.
//!
//! There is no OpenAPI document for Sesterce: the contract is the seed's own JSON examples. [`shape`] checks
//! that a body has the same keys with the same JSON types, recursively, with every exception named.

mod common;

use common::openapi::seed_json_examples;
use infertop::model::{HttpTrigger, ProviderKind, RegionScale, Scale, ScaleUpdate, Status, Triggers};
use infertop::provider::http::{RetryPolicy, build_client};
use infertop::provider::sesterce::convert::{self, Names};
use infertop::provider::sesterce::{NewInstance, SesterceClient, wire};
use infertop::provider::{AccountSpec, Applied, Credentials, ErrorKind, Provider, Secret, demo_accounts};
use infertop::sim::{self, SimConfig, SimHandle, SimInner};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SEED: &str = "004_044379b10d40206f.txt";

// ------------------------------------------------------------------------------------------------ helpers

fn http_client() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(20))
}

async fn sim() -> SimHandle {
    // PATCHes without modelId are taken here (the refusing reading is tested in tests/ambiguities.rs).
    let ambiguities = sim::ambiguity::Ambiguities::default().with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps");
    sim::start(
        SimConfig { time_scale: 0.0, ambiguities, ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn spec(base_url: &str) -> AccountSpec {
    let mut s = demo_accounts(base_url).into_iter().find(|a| a.kind == ProviderKind::Sesterce).unwrap();
    s.retry = RetryPolicy::none();
    s
}

fn client(base_url: &str) -> SesterceClient {
    SesterceClient::new(&spec(base_url), http_client())
}

/// A raw request to the simulator with the demo key.
async fn raw(h: &SimHandle, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = http_client()
        .request(method, format!("{}{path}", h.base_url()))
        .header("x-api-key", infertop::sim::DEMO_SESTERCE_KEY);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, v)
}

async fn id_of(c: &SesterceClient, name: &str) -> String {
    c.list_summaries()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name.as_deref() == Some(name))
        .unwrap()
        .id
        .unwrap()
}

fn seed_examples() -> Vec<Value> {
    seed_json_examples(SEED)
}

/// The seed example that has all `keys` (the first item for a list).
fn seed_example(keys: &[&str]) -> Value {
    seed_examples()
        .into_iter()
        .find(|v| {
            let o = if let Value::Array(a) = v { &a[0] } else { v };
            keys.iter().all(|k| o.get(k).is_some())
        })
        .unwrap_or_else(|| panic!("no seed example with {keys:?}"))
}

/// The first seed example (the first item for a list) that has every key of `has` and none of `lacks`.
fn seed_find(has: &[&str], lacks: &[&str]) -> Value {
    seed_examples()
        .into_iter()
        .find(|v| {
            let o = if let Value::Array(a) = v { &a[0] } else { v };
            has.iter().all(|k| o.get(k).is_some()) && lacks.iter().all(|k| o.get(k).is_none())
        })
        .unwrap_or_else(|| panic!("no seed example with {has:?} and without {lacks:?}"))
}

/// Exceptions to "same keys, same JSON types": keys that may be absent, keys that may be null, and keys the
/// simulator adds on purpose. Paths are dotted with `[]` for array items, e.g. `containers[].errorMessage`.
#[derive(Default)]
struct Allow<'a> {
    optional: &'a [&'a str],
    nullable: &'a [&'a str],
    extra: &'a [&'a str],
}

/// Objects that are maps (free keys): each value is checked against the example's first value.
const MAPS: &[&str] = &["envs"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between `actual` and the seed's example `expected`: every key of the example must be there
/// with the same JSON type (recursively; each item of an array against the example's first item), and no
/// key may be added, except as `allow` says.
fn shape(expected: &Value, actual: &Value, allow: &Allow) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, "", allow, &mut out);
    out
}

fn walk(expected: &Value, actual: &Value, path: &str, allow: &Allow, out: &mut Vec<String>) {
    let shown = if path.is_empty() { "(root)" } else { path };
    if actual.is_null() && allow.nullable.contains(&path) {
        return;
    }
    if type_name(expected) != type_name(actual) {
        out.push(format!("{shown}: expected {}, got {}", type_name(expected), type_name(actual)));
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) if MAPS.contains(&path) => {
            if let Some(first) = e.values().next() {
                for (k, av) in a {
                    walk(first, av, &format!("{path}.{k}"), allow, out);
                }
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match a.get(k) {
                    Some(av) => walk(ev, av, &p, allow, out),
                    None if allow.optional.contains(&p.as_str()) => {}
                    None => out.push(format!("{p}: missing")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if !allow.extra.contains(&p.as_str()) {
                    out.push(format!("{p}: not in the seed"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let Some(first) = e.first() {
                for av in a {
                    walk(first, av, &format!("{path}[]"), allow, out);
                }
            }
        }
        _ => {}
    }
}

fn assert_shape(what: &str, expected: &Value, actual: &Value, allow: &Allow) {
    let d = shape(expected, actual, allow);
    assert!(d.is_empty(), "{what} differs from the seed's example:\n{}\n{actual:#}", d.join("\n"));
}

/// Fields of the details the seed's own request docs mark nullable, so `null` is a right value for them.
const DETAILS_NULLABLE: &[&str] = &["description", "podLifetime", "envs", "startupCommand", "apiKeysIds"];
/// Triggers and cooldown are present only when configured (optional in the CLI's domain types; the seed's
/// example just configures all of them). An instance created with the seed's body shows all of them.
const SCALE_OPTIONAL: &[&str] = &[
    "containers[].scale.cooldownPeriod",
    "containers[].scale.triggers.cpu",
    "containers[].scale.triggers.gpuMemory",
    "containers[].scale.triggers.gpuUtilization",
    "containers[].scale.triggers.memory",
    "containers[].scale.triggers.http",
];
/// No key the seed's details lack: not even `modelId`/`registryId`, which PATCH requires.
const DETAILS_EXTRA: &[&str] = &[];

// ------------------------------------------------------------------------------------------- seed examples

#[test]
fn the_shape_check_can_fail() {
    let e = json!({"a": 1, "b": [{"c": "x"}]});
    assert!(shape(&e, &json!({"a": 2, "b": [{"c": "y"}, {"c": "z"}]}), &Allow::default()).is_empty());
    assert_eq!(shape(&e, &json!({"a": "1", "b": []}), &Allow::default()), ["a: expected number, got string"]);
    assert_eq!(
        shape(&e, &json!({"a": 1, "b": [{"d": 1}], "z": 0}), &Allow::default()),
        ["b[].c: missing", "b[].d: not in the seed", "z: not in the seed"]
    );
    let m = json!({"envs": {"PORT": "1"}});
    assert!(shape(&m, &json!({"envs": {"A": "x", "B": "y"}}), &Allow::default()).is_empty());
    assert_eq!(
        shape(&m, &json!({"envs": {"A": 1}}), &Allow::default()),
        ["envs.A: expected string, got number"]
    );
}

#[test]
fn every_seed_example_parses_and_converts() {
    let examples = seed_examples();
    let names = Names {
        hardware: [(
            "59651ba4-657a-41d4-8c42-00f34f732375".to_string(),
            "1xL40S / 16 vCPU / 232GiB RAM".to_string(),
        )]
        .into(),
        regions: [("78".to_string(), "Paris".to_string())].into(),
        ..Default::default()
    };
    let mut seen = BTreeMap::<&str, usize>::new();
    for ex in &examples {
        let first = if let Value::Array(a) = ex { a[0].clone() } else { ex.clone() };
        let has = |k: &str| first.get(k).is_some();
        let kind = if has("defaultHardwareId") {
            let v: Vec<wire::Model> = serde_json::from_value(ex.clone()).unwrap();
            assert_eq!(v[0].features, ["image"]);
            "models"
        } else if has("gpu") {
            let v: Vec<wire::Hardware> = serde_json::from_value(ex.clone()).unwrap();
            let h = convert::hardware(&v[0]);
            assert_eq!((h.cpu, h.memory_gib, h.gpu_count), (Some(16.0), Some(232.0), Some(1)));
            "hardwares"
        } else if has("capacities") {
            let v: Vec<wire::Region> = serde_json::from_value(ex.clone()).unwrap();
            let r = convert::region_info(&v[0], &names);
            assert_eq!((r.id.as_str(), r.name.as_str()), ("18", "Singapore"));
            assert_eq!(r.capacity.values().sum::<u32>(), 38 + 19);
            "regions"
        } else if has("password") && has("name") {
            let _: wire::RegistryCreate = serde_json::from_value(ex.clone()).unwrap();
            "registry create request"
        } else if has("password") {
            let _: wire::RegistryUpdate = serde_json::from_value(ex.clone()).unwrap();
            "registry update request"
        } else if has("url") && has("_id") {
            let items = if ex.is_array() { ex.clone() } else { json!([ex]) };
            let v: Vec<wire::Registry> = serde_json::from_value(items).unwrap();
            assert_eq!(v[0].url.as_deref(), Some("docker.io/library/user/image:tag"));
            "registry"
        } else if has("containers") {
            let d: wire::InstanceDetails = serde_json::from_value(ex.clone()).unwrap();
            let m = convert::details("acc", &d, &names);
            assert_eq!(m.status, Status::Active);
            assert_eq!(m.hardware.as_deref(), Some("1xL40S / 16 vCPU / 232GiB RAM"));
            assert_eq!((m.port, m.price_per_hour), (Some(80), Some(2.55)));
            assert_eq!((m.ready(), m.total()), (1, 2));
            let r = &m.regions[0];
            assert_eq!((r.region_id.as_str(), r.region_name.as_deref()), ("78", Some("Paris")));
            assert_eq!((r.scale.min, r.scale.max, r.scale.cooldown_seconds), (1, 4, Some(300)));
            assert_eq!(r.scale.triggers.http, Some(HttpTrigger { rate: 12, window: 20 }));
            assert!(r.error.as_deref().unwrap().starts_with("Unexpected error"));
            assert_eq!(m.envs.get("PORT").map(String::as_str), Some("3333"));
            assert_eq!(m.command.as_deref(), Some("npx create-llama"));
            assert!(m.created_at.is_some() && m.detail);
            // The seed's details say `apiKeysIds`; PATCH takes `apiKeyIds`.
            assert_eq!(d.api_keys_ids, Some(json!(["6721058be81810b9dd045f40"])));
            "instance details"
        } else if has("autoScalingConfigurations") && has("name") {
            let c: wire::CreateInstance = serde_json::from_value(ex.clone()).unwrap();
            assert_eq!(c.auto_scaling_configurations[0].region_id, json!(18));
            "instance create request"
        } else if has("autoScalingConfigurations") && has("containerPort") {
            let u: wire::UpdateInstance = serde_json::from_value(ex.clone()).unwrap();
            assert_eq!(serde_json::to_value(&u).unwrap(), *ex, "the PATCH body type loses nothing");
            "instance update request"
        } else if has("autoScalingConfigurations") {
            let p: wire::PricingRequest = serde_json::from_value(ex.clone()).unwrap();
            assert_eq!(p.auto_scaling_configurations[0].scale.max, Some(4));
            "pricing request"
        } else if has("currencyCode") {
            let p: wire::PricingResponse = serde_json::from_value(ex.clone()).unwrap();
            assert_eq!((p.price_per_hour, p.price_per_month), (Some(1.44), Some(43.2)));
            "pricing response"
        } else if has("status") && has("_id") {
            let items = if ex.is_array() { ex.clone() } else { json!([ex]) };
            let v: Vec<wire::InstanceSummary> = serde_json::from_value(items).unwrap();
            let m = convert::summary("acc", &v[0]);
            assert_eq!((m.status, m.price_per_hour, m.detail), (Status::Active, Some(2.55), false));
            assert_eq!(m.key.id, "6721058be81810b9dd045f40");
            "instance summary"
        } else {
            panic!("seed example not recognised: {ex}")
        };
        *seen.entry(kind).or_default() += 1;
    }
    // models, hardwares, regions, registry create req+resp, registry list, registry patch, instance create
    // req+resp, list, details, pricing req+resp, PATCH req+resp (start, stop, deletes have no body).
    assert_eq!(examples.len(), 15, "{seen:?}");
    assert_eq!(seen.get("instance summary"), Some(&3), "create, list and PATCH answers");
    assert_eq!(seen.get("registry"), Some(&2));
    assert_eq!(seen.len(), 12, "{seen:?}");
}

/// The client's request bodies have the seed's request examples' shape.
#[test]
fn client_request_bodies_match_the_seed() {
    let details: wire::InstanceDetails = serde_json::from_value(seed_example(&["containers"])).unwrap();
    let mut details_with_ids = details.clone();
    details_with_ids.model_id = Some(json!("201a99c3-7cd4-4831-865e-b261082fda4b"));
    details_with_ids.registry_id = Some(json!("6721058be81810b9dd045f40"));
    let c = client("http://127.0.0.1:9");
    let mut update = ScaleUpdate::from_deployment(&convert::details("a", &details, &Names::default()));
    update.regions[0].scale.max = 6;
    let body =
        serde_json::to_value(c.update_body(&details_with_ids, &update, &Names::default()).unwrap()).unwrap();
    let patch_example = seed_find(&["autoScalingConfigurations", "containerPort"], &["name"]);
    assert_shape("PATCH body", &patch_example, &body, &Allow::default());
    assert_eq!(body["apiKeyIds"], json!(["6721058be81810b9dd045f40"]), "apiKeysIds read, apiKeyIds sent");
    assert_eq!(body["autoScalingConfigurations"][0]["scale"]["max"], json!(6));
    // Without modelId/registryId in the details (as in the seed), they are left out, never sent as null.
    let body = serde_json::to_value(c.update_body(&details, &update, &Names::default()).unwrap()).unwrap();
    assert_eq!((body.get("modelId"), body.get("registryId")), (None, None));

    let new = NewInstance {
        name: "example-inference-instance".into(),
        model_id: Some("201a99c3-7cd4-4831-865e-b261082fda4b".into()),
        registry_id: Some("6721058be81810b9dd045f40".into()),
        hardware_id: "59651ba4-657a-41d4-8c42-00f34f732375".into(),
        container_port: 80,
        description: Some("example description.".into()),
        pod_lifetime: Some(120),
        envs: Some([("PORT".to_string(), "3333".to_string())].into()),
        startup_command: Some("npx create-llama".into()),
        api_key_ids: Some(vec!["6721058be81810b9dd045f40".into()]),
        regions: vec![RegionScale { region_id: "18".into(), scale: seed_scale() }],
    };
    let body = serde_json::to_value(SesterceClient::create_body(&new)).unwrap();
    let create_example = seed_example(&["autoScalingConfigurations", "name"]);
    assert_eq!(body, create_example, "the form's values give exactly the seed's create body");
}

fn seed_scale() -> Scale {
    Scale {
        min: 1,
        max: 4,
        cooldown_seconds: Some(300),
        triggers: Triggers {
            cpu: Some(92),
            memory: Some(92),
            gpu_utilization: Some(92),
            gpu_memory: Some(92),
            http: Some(HttpTrigger { rate: 12, window: 20 }),
            ..Default::default()
        },
        ..Default::default()
    }
}

// ------------------------------------------------------------------------------------------------ contract

#[tokio::test]
async fn simulator_responses_have_the_seed_shapes() {
    let h = sim().await;
    let c = client(&h.base_url());
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let none = Allow::default();

    let (s, v) = raw(&h, get.clone(), "/ai-inference/models", None).await;
    assert_eq!(s, 200);
    assert_shape("models", &seed_example(&["defaultHardwareId"]), &v, &none);
    let model_id = v[0]["id"].as_str().unwrap().to_string();
    let (s, v) = raw(&h, get.clone(), "/ai-inference/hardwares", None).await;
    assert_eq!(s, 200);
    assert_shape("hardwares", &seed_example(&["gpu"]), &v, &none);
    let (s, v) = raw(&h, get.clone(), "/ai-inference/regions", None).await;
    assert_eq!(s, 200);
    assert_shape("regions", &seed_example(&["capacities"]), &v, &none);

    // Registries: create with the seed's body, list, update, delete.
    let create_reg = seed_example(&["password", "name"]);
    let (s, v) = raw(&h, post.clone(), "/ai-inference/registries", Some(create_reg)).await;
    assert_eq!(s, 201);
    assert_shape("registry create", &seed_example(&["_id", "url", "username"]), &v, &none);
    assert!(v.get("password").is_none());
    let registry_id = v["_id"].as_str().unwrap().to_string();
    let (s, v) = raw(&h, get.clone(), "/ai-inference/registries", None).await;
    assert_eq!(s, 200);
    let list_example =
        seed_examples().into_iter().find(|x| x.is_array() && x[0].get("url").is_some()).unwrap();
    assert_shape("registry list", &list_example, &v, &none);
    assert!(!v.to_string().contains("securepassword") && !v.to_string().contains("password"));
    let (s, v) = raw(
        &h,
        reqwest::Method::PATCH,
        &format!("/ai-inference/registries/{registry_id}"),
        Some(seed_find(&["password"], &["name"])),
    )
    .await;
    assert_eq!((s, v), (204, Value::Null));

    // Instances: list, details (one with an error message, one without).
    let (s, v) = raw(&h, get.clone(), "/ai-inference/instances", None).await;
    assert_eq!(s, 200);
    let list_example =
        seed_examples().into_iter().find(|x| x.is_array() && x[0].get("status").is_some()).unwrap();
    assert_shape("instances list", &list_example, &v, &none);
    let details_example = seed_example(&["containers"]);
    let strict = Allow { nullable: DETAILS_NULLABLE, extra: DETAILS_EXTRA, optional: SCALE_OPTIONAL };
    let broken = id_of(&c, "parakeet-asr").await;
    let (s, v) = raw(&h, get.clone(), &format!("/ai-inference/instances/{broken}"), None).await;
    assert_eq!(s, 200);
    assert_shape("details (with an error)", &details_example, &v, &strict);
    let healthy = id_of(&c, "deepseek-r1-distill").await;
    let (_, v) = raw(&h, get.clone(), &format!("/ai-inference/instances/{healthy}"), None).await;
    let healthy_optional: Vec<&str> =
        SCALE_OPTIONAL.iter().copied().chain(["containers[].errorMessage"]).collect();
    let healthy_allow =
        Allow { optional: &healthy_optional, nullable: DETAILS_NULLABLE, extra: DETAILS_EXTRA };
    assert_shape("details (healthy)", &details_example, &v, &healthy_allow);

    // Create with the seed's own body (its model and registry ids replaced by the simulator's).
    let mut create = seed_example(&["autoScalingConfigurations", "name"]);
    create["modelId"] = json!(model_id);
    create["registryId"] = json!(registry_id);
    let (s, created) = raw(&h, post.clone(), "/ai-inference/instances", Some(create)).await;
    assert_eq!(s, 201, "{created}");
    let summary_example = seed_example(&["_id", "status", "hourlyPrice"]);
    assert_shape("create answer", &summary_example, &created, &none);
    let new_id = created["_id"].as_str().unwrap().to_string();
    // Its details show every trigger: only the error message may be missing (it has none), nothing is null.
    let (_, v) = raw(&h, get.clone(), &format!("/ai-inference/instances/{new_id}"), None).await;
    let only_error =
        Allow { optional: &["containers[].errorMessage"], extra: DETAILS_EXTRA, ..Default::default() };
    assert_shape("details (created from the seed's body)", &details_example, &v, &only_error);

    // PATCH with the seed's body.
    let mut patch = seed_find(&["autoScalingConfigurations", "containerPort"], &["name"]);
    patch["modelId"] = json!(model_id);
    patch["registryId"] = json!(registry_id);
    let (s, v) =
        raw(&h, reqwest::Method::PATCH, &format!("/ai-inference/instances/{new_id}"), Some(patch)).await;
    assert_eq!(s, 200, "{v}");
    assert_shape("PATCH answer", &summary_example, &v, &none);

    // Pricing with the seed's body, verbatim: the simulator gives the seed's numbers.
    let pricing_request = seed_find(&["hardwareId"], &["containerPort"]);
    let (s2, v2) = raw(&h, post.clone(), "/ai-inference/instances/pricing", Some(pricing_request)).await;
    assert_eq!(s2, 201);
    assert_shape("pricing", &seed_example(&["currencyCode"]), &v2, &none);
    assert_eq!(v2, seed_example(&["currencyCode"]));

    // Start and stop answer 204 with no body.
    for action in ["stop", "start"] {
        let (s, v) = raw(&h, post.clone(), &format!("/ai-inference/instances/{new_id}/{action}"), None).await;
        assert_eq!((s, v), (204, Value::Null));
    }

    // Errors are {statusCode, message}; a 400's message is a list of strings.
    let r = http_client().get(format!("{}/ai-inference/instances", h.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_shape("401", &json!({"statusCode": 401, "message": "x"}), &v, &none);
    let (s, v) =
        raw(&h, post.clone(), "/ai-inference/instances/pricing", Some(json!({"hardwareId": 5}))).await;
    assert_eq!(s, 400);
    assert_shape("400", &json!({"statusCode": 400, "message": ["x"]}), &v, &none);
    let (s, v) = raw(&h, get.clone(), "/ai-inference/instances/nope", None).await;
    assert_eq!(s, 404);
    assert_shape("404", &json!({"statusCode": 404, "message": "x"}), &v, &none);

    // Registry delete: in use -> 409; unused -> 204.
    let (s, _) =
        raw(&h, reqwest::Method::DELETE, &format!("/ai-inference/registries/{registry_id}"), None).await;
    assert_eq!(s, 409);
    let (s, _) = raw(&h, reqwest::Method::DELETE, &format!("/ai-inference/instances/{new_id}"), None).await;
    assert_eq!(s, 204);
    h.advance(10.0);
    let (s, v) =
        raw(&h, reqwest::Method::DELETE, &format!("/ai-inference/registries/{registry_id}"), None).await;
    assert_eq!((s, v), (204, Value::Null));
}

// ----------------------------------------------------------------------------------------- list and get

#[tokio::test]
async fn list_reads_every_instance_in_full() {
    let h = sim().await;
    let p = infertop::provider::connect(&spec(&h.base_url()), http_client());
    assert_eq!(p.kind(), ProviderKind::Sesterce);
    let list = p.list().await.unwrap();
    assert_eq!(list.len(), 9);
    assert!(list.iter().all(|d| d.detail && &*d.key.account == "sesterce-demo" && !d.key.id.is_empty()));
    let by = |n: &str| list.iter().find(|d| d.name == n).unwrap().clone();

    let d = by("deepseek-r1-distill");
    assert_eq!(d.status, Status::Active);
    assert_eq!(d.hardware.as_deref(), Some("1xH100 / 16 vCPU / 232GiB RAM"));
    // The seed's details do not give the model (no modelId): nothing to show.
    assert_eq!(d.image, None);
    assert_eq!(d.port, Some(8000));
    assert_eq!(d.command.as_deref(), Some("vllm serve deepseek-ai/DeepSeek-R1-Distill-Llama-8B"));
    assert_eq!(d.envs.get("PORT").map(String::as_str), Some("8000"));
    let names: Vec<_> = d.regions.iter().map(|r| r.region_name.as_deref().unwrap()).collect();
    assert_eq!(names, ["Singapore", "Frankfurt"]);
    assert_eq!((d.ready(), d.total()), (6, 6));
    assert_eq!(d.regions[0].scale.triggers.gpu_utilization, Some(80));
    assert_eq!(d.price_per_hour, Some(13.14), "6 containers x 2.19");
    assert!(d.address.as_deref().unwrap().starts_with("https://deepseek-r1-distill-"));
    assert!(d.created_at.is_some());

    let p2 = by("parakeet-asr");
    assert_eq!(p2.status, Status::PartiallyDeployed);
    assert_eq!(p2.image, None, "no registryId in the details either");
    assert!(p2.regions[0].error.as_deref().unwrap().contains("Unexpected error"));
    assert_eq!(by("mixtral-8x7b").regions[0].error.as_deref().map(|e| e.contains("capacity")), Some(true));
    assert_eq!(by("e5-large-embed").status, Status::ScaledToZero);
    assert_eq!(by("flux-schnell").status, Status::Disabled);

    let one = p.get(&d.key.id).await.unwrap();
    assert_eq!(one, d);
    let e = p.get("000000000000000000000000").await.unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.message.as_str()),
        (ErrorKind::NotFound, Some(404), "Inference instance not found")
    );
}

/// One refresh is 1 list + N details; the catalogs are read once and then cached.
#[tokio::test]
async fn one_refresh_costs_one_list_plus_one_detail_per_instance() {
    let h = sim().await;
    let c = client(&h.base_url());
    let first = c.list().await.unwrap();
    let counts = |h: &SimHandle| h.state.sesterce.lock().unwrap().requests.clone();
    let after_first = counts(&h);
    for cat in ["models", "hardwares", "regions", "registries"] {
        assert_eq!(after_first.get(&format!("GET /ai-inference/{cat}")), Some(&1), "{after_first:?}");
    }
    h.state.sesterce.lock().unwrap().requests.clear();
    let second = c.list().await.unwrap();
    assert_eq!(second.len(), first.len());
    let after = counts(&h);
    let n = first.len() as u64;
    assert_eq!(after.get("GET /ai-inference/instances"), Some(&1));
    assert_eq!(after.get("GET /ai-inference/instances/{id}"), Some(&n));
    assert_eq!(after.values().sum::<u64>(), 1 + n, "{after:?}");
}

/// Serves `state`'s router behind `layer` (outermost, so it sees the simulated latency too).
async fn serve_wrapped(
    state: infertop::sim::SimState,
    layer: impl Fn(axum::Router) -> axum::Router,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = layer(sim::router(state));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn details_run_concurrently_within_the_account_limit() {
    let state = SimInner::new(SimConfig {
        time_scale: 0.0,
        latency: Duration::from_millis(40),
        ..Default::default()
    });
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n2, p2) = (now.clone(), peak.clone());
    let (base, task) = serve_wrapped(state, move |r| {
        let (n, p) = (n2.clone(), p2.clone());
        r.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let (n, p) = (n.clone(), p.clone());
                async move {
                    let cur = n.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(cur, Ordering::SeqCst);
                    let resp = next.run(req).await;
                    n.fetch_sub(1, Ordering::SeqCst);
                    resp
                }
            },
        ))
    })
    .await;
    let mut s = spec(&base);
    s.max_in_flight = 3;
    let c = SesterceClient::new(&s, http_client());
    let list = c.list().await.unwrap();
    assert_eq!(list.len(), 9);
    assert!(list.iter().all(|d| d.detail));
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} requests in flight with a limit of 3");
    assert!(peak >= 2, "the details were read one by one (peak {peak})");
    task.abort();
}

#[tokio::test]
async fn a_failed_detail_keeps_that_instance_as_a_summary() {
    let h = sim().await;
    let victim = id_of(&client(&h.base_url()), "gemma-2-9b").await;
    let v2 = victim.clone();
    let (base, task) = serve_wrapped(h.state.clone(), move |r| {
        let v = v2.clone();
        r.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let v = v.clone();
                async move {
                    if req.uri().path() == format!("/ai-inference/instances/{v}") {
                        use axum::response::IntoResponse;
                        return (
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            axum::Json(json!({"statusCode": 500, "message": "Internal server error"})),
                        )
                            .into_response();
                    }
                    next.run(req).await
                }
            },
        ))
    })
    .await;
    let c = client(&base);
    let list = c.list().await.unwrap();
    assert_eq!(list.len(), 9);
    let g = list.iter().find(|d| d.key.id == victim).unwrap();
    assert!(!g.detail && g.regions.is_empty());
    assert_eq!((g.name.as_str(), g.status.clone()), ("gemma-2-9b", Status::Active));
    assert!(g.price_per_hour.is_some());
    assert_eq!(list.iter().filter(|d| d.detail).count(), 8);
    let e = c.get(&victim).await.unwrap_err();
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Server, "Internal server error"));
    task.abort();
}

// ------------------------------------------------------------------------------------------------ updates

/// Every key of the details except the ones a scale change may move.
fn untouched(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["containers", "status", "hourlyPrice", "updatedAt"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn container(v: &Value, region: i64) -> &Value {
    v["containers"].as_array().unwrap().iter().find(|c| c["regionId"] == json!(region)).unwrap()
}

#[tokio::test]
async fn update_scale_changes_only_the_scale_and_converges_region_by_region() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "deepseek-r1-distill").await;
    let (_, before) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    assert!(!before["envs"].is_null() && !before["startupCommand"].is_null());
    let model_of = |id: &str| {
        h.state.sesterce.lock().unwrap().instances.iter().find(|i| i.id == id).unwrap().model_id.clone()
    };
    let model = model_of(&id);
    assert!(model.is_string());

    let d = c.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    assert_eq!(u.regions[0].region_id, "18");
    u.regions[0].scale.min = 4;
    u.regions[0].scale.max = 5;
    u.regions[0].scale.triggers.cpu = Some(70);
    let applied = c.update_scale(&id, &u).await.unwrap();
    let Applied::Done(after_model) = &applied else { panic!("expected Done, got {applied:?}") };
    assert_eq!((after_model.regions[0].scale.min, after_model.regions[0].scale.max), (4, 5));
    assert_eq!(after_model.status, Status::PartiallyDeployed, "region 18 has 3 of 4");

    let (_, after) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    assert_eq!(untouched(&after), untouched(&before), "a field the edit did not touch changed");
    assert_eq!(container(&after, 41), container(&before, 41), "the other region changed");
    let mut want18 = container(&before, 18)["scale"].clone();
    want18["min"] = json!(4);
    want18["max"] = json!(5);
    want18["triggers"]["cpu"] = json!({"threshold": 70});
    assert_eq!(container(&after, 18)["scale"], want18);
    assert_eq!(model_of(&id), model, "the instance kept its model");

    // Demand 3 is now below min 4: region 18 climbs to 4, region 41 stays at 3.
    let mut seen = Vec::new();
    for _ in 0..6 {
        let d = c.get(&id).await.unwrap();
        seen.push((d.regions[0].ready, d.regions[0].total, d.regions[1].ready, d.status.clone()));
        h.advance(1.0);
    }
    assert_eq!(seen[0], (3, 3, 3, Status::PartiallyDeployed));
    assert_eq!(seen.last().unwrap(), &(4, 4, 3, Status::Active));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");

    // Sending the same scale again changes nothing and sends nothing.
    let now = c.get(&id).await.unwrap();
    h.state.sesterce.lock().unwrap().requests.clear();
    let again = c.update_scale(&id, &ScaleUpdate::from_deployment(&now)).await.unwrap();
    assert!(matches!(again, Applied::NoChange(_)));
    assert_eq!(h.state.sesterce.lock().unwrap().requests.get("PATCH /ai-inference/instances/{id}"), None);
}

/// The simulator's PATCH really replaces every listed field: a body without `modelId`, `envs` or
/// `startupCommand` clears them. This is what the test above would catch if the client dropped a field.
#[tokio::test]
async fn a_patch_that_drops_a_field_loses_it() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "deepseek-r1-distill").await;
    let (_, before) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    let body = json!({
        "containerPort": before["containerPort"],
        "hardwareId": before["hardwareId"],
        "autoScalingConfigurations": before["containers"].as_array().unwrap().iter()
            .map(|c| json!({"regionId": c["regionId"], "scale": c["scale"]})).collect::<Vec<_>>(),
    });
    let (s, _) = raw(&h, reqwest::Method::PATCH, &format!("/ai-inference/instances/{id}"), Some(body)).await;
    assert_eq!(s, 200);
    let (_, after) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    for k in ["modelId", "envs", "startupCommand", "apiKeysIds", "description", "podLifetime"] {
        assert!(after[k].is_null(), "{k} survived a PATCH without it");
    }
    assert_ne!(untouched(&after), untouched(&before));
}

#[tokio::test]
async fn add_and_remove_regions() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "llama-3-8b-chat").await;
    let d = c.get(&id).await.unwrap();
    assert_eq!(d.regions.iter().map(|r| r.region_id.as_str()).collect::<Vec<_>>(), ["78", "18"]);
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions.remove(1);
    u.regions
        .push(RegionScale { region_id: "41".into(), scale: Scale { min: 1, max: 2, ..Default::default() } });
    let Applied::Done(after) = c.update_scale(&id, &u).await.unwrap() else { panic!() };
    let ids: Vec<_> =
        after.regions.iter().map(|r| (r.region_id.as_str(), r.region_name.as_deref(), r.total)).collect();
    assert_eq!(ids, [("78", Some("Paris"), 4), ("41", Some("Frankfurt"), 0)]);
    h.advance(10.0);
    let d = c.get(&id).await.unwrap();
    assert_eq!((d.regions[1].ready, d.regions[1].total, d.status), (2, 2, Status::Active));
}

#[tokio::test]
async fn validation_errors_carry_the_providers_message_and_field() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "gemma-2-9b").await;
    let d = c.get(&id).await.unwrap();
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max = 301;
    u.regions[0].scale.cooldown_seconds = Some(0);
    let e = c.update_scale(&id, &u).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Validation, Some(400)));
    // Nothing of a rejected edit is taken: the whole scale section is as it was.
    assert_eq!(ScaleUpdate::from_deployment(&c.get(&id).await.unwrap()), ScaleUpdate::from_deployment(&d));
    assert_eq!(
        e.fields,
        [
            ("autoScalingConfigurations.0.scale.max".to_string(), "must not be greater than 300".to_string()),
            (
                "autoScalingConfigurations.0.scale.cooldownPeriod".to_string(),
                "must not be less than 1".to_string()
            ),
        ]
    );
    assert!(
        e.to_string().contains("autoScalingConfigurations.0.scale.max: must not be greater than 300"),
        "{e}"
    );

    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.min = 0;
    let e = c.update_scale(&id, &u).await.unwrap_err();
    assert_eq!(ScaleUpdate::from_deployment(&c.get(&id).await.unwrap()), ScaleUpdate::from_deployment(&d));
    assert_eq!(e.fields.len(), 1);
    assert_eq!(e.fields[0].0, "autoScalingConfigurations.0.scale.min");
    assert!(e.fields[0].1.contains("only the HTTP trigger can scale to and from 0"));
    u.regions[0].scale.triggers.http = Some(HttpTrigger { rate: 5, window: 60 });
    assert!(
        matches!(c.update_scale(&id, &u).await.unwrap(), Applied::Done(_)),
        "with an HTTP trigger, min 0 is fine"
    );

    let applied = ScaleUpdate::from_deployment(&c.get(&id).await.unwrap());
    assert_eq!(applied.regions[0].scale.min, 0, "the accepted edit is there");
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.triggers.gpu_memory = Some(101);
    u.regions
        .push(RegionScale { region_id: "999".into(), scale: Scale { min: 1, max: 1, ..Default::default() } });
    let e = c.update_scale(&id, &u).await.unwrap_err();
    let fields: Vec<_> = e.fields.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        fields,
        [
            "autoScalingConfigurations.0.scale.triggers.gpuMemory.threshold",
            "autoScalingConfigurations.1.regionId"
        ]
    );
    // Nothing was changed by the rejected edit: no region added, no trigger taken, every value as it was.
    let now = c.get(&id).await.unwrap();
    assert_eq!(now.regions.len(), 1);
    assert_ne!(now.regions[0].scale.triggers.gpu_memory, Some(101));
    assert_eq!(ScaleUpdate::from_deployment(&now), applied);
}

#[tokio::test]
async fn probes_logs_and_metrics_are_not_offered() {
    let h = sim().await;
    let c = client(&h.base_url());
    let caps = c.capabilities();
    assert!(caps.update_scale && caps.start_stop && caps.delete && caps.per_region_scale && caps.pricing);
    assert!(!caps.update_probes && !caps.logs && !caps.metrics && !caps.logging_config);
    let id = id_of(&c, "gemma-2-9b").await;
    let e = c.update_probes(&id, &Default::default()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(c.logs(&id, &Default::default()).await.unwrap_err().kind, ErrorKind::Unsupported);
}

// ---------------------------------------------------------------------------------- start, stop, delete

#[tokio::test]
async fn stop_start_and_delete() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "deepseek-r1-distill").await;
    c.stop(&id).await.unwrap();
    let d = c.get(&id).await.unwrap();
    assert_eq!(
        (d.status.clone(), d.ready(), d.total(), d.price_per_hour),
        (Status::Disabled, 0, 0, Some(0.0))
    );
    c.stop(&id).await.unwrap();
    c.start(&id).await.unwrap();
    assert_eq!(c.get(&id).await.unwrap().status, Status::Deploying);
    h.advance(1.0);
    assert_eq!(c.get(&id).await.unwrap().status, Status::PartiallyDeployed);
    h.advance(10.0);
    let d = c.get(&id).await.unwrap();
    assert_eq!((d.status.clone(), d.ready()), (Status::Active, 6));

    c.delete(&id).await.unwrap();
    assert_eq!(c.get(&id).await.unwrap().status, Status::Deleting);
    assert_eq!(c.start(&id).await.unwrap_err().kind, ErrorKind::Conflict);
    h.advance(5.0);
    assert_eq!(c.get(&id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(c.list().await.unwrap().len(), 8);
    assert_eq!(c.delete(&id).await.unwrap_err().status, Some(404));
}

#[tokio::test]
async fn bad_credentials_get_401_with_the_providers_message() {
    let h = sim().await;
    let mut s = spec(&h.base_url());
    s.credentials = Credentials::Sesterce { api_key: Secret::new("wrong-key") };
    let c = SesterceClient::new(&s, http_client());
    let e = c.list().await.unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.message.as_str()),
        (ErrorKind::Auth, Some(401), "Invalid or missing API key")
    );
    assert!(!e.to_string().contains("wrong-key") && !format!("{e:?}").contains("wrong-key"));
    assert_eq!(c.regions().await.unwrap_err().kind, ErrorKind::Auth);
}

// ------------------------------------------------------------------------------------ catalogs and create

#[tokio::test]
async fn catalogs_pricing_and_create() {
    let h = sim().await;
    let c = client(&h.base_url());
    let hw = c.hardware().await.unwrap();
    let l40s = hw.iter().find(|x| x.name == "1xL40S / 16 vCPU / 232GiB RAM").unwrap();
    assert_eq!(l40s.id, "59651ba4-657a-41d4-8c42-00f34f732375");
    assert_eq!(
        (l40s.gpu_model.as_deref(), l40s.gpu_count, l40s.gpu_memory_gib),
        (Some("NVIDIA-L40S"), Some(1), Some(48.0))
    );
    let regions = c.regions().await.unwrap();
    let sg = regions.iter().find(|r| r.id == "18").unwrap();
    assert_eq!((sg.name.as_str(), sg.state.as_deref()), ("Singapore", Some("ACTIVE")));
    assert_eq!(sg.capacity.get("1xL40S / 16 vCPU / 232GiB RAM"), Some(&38));
    assert_eq!(sg.capacity.get("1xH100 / 16 vCPU / 232GiB RAM"), Some(&19));

    let p = c.price_preview(&l40s.id, &[("18", 4)]).await.unwrap();
    assert_eq!((p.currency.as_str(), p.per_hour, p.per_month), ("USD", 1.44, 43.2));
    let p = c.price_preview(&l40s.id, &[("18", 4), ("78", 1)]).await.unwrap();
    assert_eq!(p.per_hour, 1.8);
    let e = c.price_preview("nope", &[("18", 4)]).await.unwrap_err();
    assert_eq!(e.fields[0].0, "hardwareId");

    let models = c.models().await.unwrap();
    let sd = models.iter().find(|m| m.name.as_deref() == Some("stable-diffusion")).unwrap();
    let new = NewInstance {
        name: "my-sd".into(),
        model_id: sd.id.clone(),
        hardware_id: l40s.id.clone(),
        container_port: 8000,
        regions: vec![RegionScale {
            region_id: "78".into(),
            scale: Scale { min: 2, max: 3, ..Default::default() },
        }],
        ..Default::default()
    };
    let created = c.create(&new).await.unwrap();
    assert_eq!(
        (created.name.as_str(), created.status.clone(), created.detail),
        ("my-sd", Status::Deploying, false)
    );
    h.advance(10.0);
    let d = c.get(&created.key.id).await.unwrap();
    assert_eq!(
        (d.status.clone(), d.ready(), d.image.as_deref()),
        // The seed's details do not give the model.
        (Status::Active, 2, None)
    );
    assert_eq!(d.hardware.as_deref(), Some("1xL40S / 16 vCPU / 232GiB RAM"));
    assert_eq!(c.list().await.unwrap().len(), 10);

    let e = c.create(&NewInstance { name: String::new(), ..new }).await.unwrap_err();
    let fields: Vec<_> = e.fields.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(fields, ["name"]);
}

/// The CLI's flat PATCH body (`minContainers`, `maxContainers`) is accepted as a partial update.
#[tokio::test]
async fn the_clis_flat_patch_is_a_partial_update() {
    let h = sim().await;
    let c = client(&h.base_url());
    let id = id_of(&c, "deepseek-r1-distill").await;
    let (_, before) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    let (s, _) = raw(
        &h,
        reqwest::Method::PATCH,
        &format!("/ai-inference/instances/{id}"),
        Some(json!({"minContainers": 2, "maxContainers": 6, "triggers": {"cpu": 75}})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, after) = raw(&h, reqwest::Method::GET, &format!("/ai-inference/instances/{id}"), None).await;
    assert_eq!(untouched(&after), untouched(&before));
    for r in [18, 41] {
        let s = &container(&after, r)["scale"];
        assert_eq!(
            (s["min"].clone(), s["max"].clone(), s["triggers"]["cpu"].clone()),
            (json!(2), json!(6), json!({"threshold": 75}))
        );
        assert_eq!(s["triggers"]["gpuUtilization"], json!({"threshold": 80}));
    }
    let (s, v) = raw(
        &h,
        reqwest::Method::PATCH,
        &format!("/ai-inference/instances/{id}"),
        Some(json!({"minContainers": 7, "maxContainers": 6})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["message"][0].as_str().unwrap().starts_with("maxContainers"), "{v}");
}

/// Odd bodies are shown, never a panic: junk list items are dropped, an unknown status is kept, a body that is
/// not JSON is a decode error.
#[tokio::test]
async fn odd_bodies_are_tolerated() {
    let h = sim().await;
    let (base, task) = serve_wrapped(h.state.clone(), |r| {
        r.layer(axum::middleware::from_fn(|req: axum::extract::Request, next: axum::middleware::Next| async move {
            use axum::response::IntoResponse;
            match req.uri().path() {
                "/ai-inference/instances" => {
                    axum::Json(json!([{"_id": "x1", "name": 5, "status": "HIBERNATING", "hourlyPrice": "1.5"}, 7, "s"]))
                        .into_response()
                }
                "/ai-inference/hardwares" => "<html>oops</html>".into_response(),
                _ => next.run(req).await,
            }
        }))
    })
    .await;
    let c = client(&base);
    let list = c.list().await.unwrap();
    assert_eq!(list.len(), 1);
    let d = &list[0];
    assert_eq!((d.name.as_str(), d.price_per_hour, d.detail), ("5", Some(1.5), false));
    assert_eq!(d.status.label(), "UNKNOWN(HIBERNATING)");
    // The dashboard's list-first path reads the same list item by item too.
    let listed = Provider::list_summaries(&c).await.expect("Sesterce lists summaries").unwrap().items;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].dep.name.as_str(), listed[0].version.as_str()), ("5", "HIBERNATING@"));
    assert_eq!(c.hardware().await.unwrap_err().kind, ErrorKind::Decode);
    task.abort();
}

/// The living demo (`--demo` without `--static`) moves Sesterce instances through wake-ups, restarts, a
/// scale-up and a failed launch: through all of it, every list and details answer keeps to the seed's shape,
/// and the statuses are sesterce-cli's.
#[tokio::test]
async fn the_living_demo_keeps_to_the_seeds_shape_and_statuses() {
    let h = sim::start(
        SimConfig { live: true, time_scale: 0.0, ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let get = reqwest::Method::GET;
    let list_example =
        seed_examples().into_iter().find(|x| x.is_array() && x[0].get("status").is_some()).unwrap();
    let details_example = seed_example(&["containers"]);
    let optional: Vec<&str> = SCALE_OPTIONAL.iter().copied().chain(["containers[].errorMessage"]).collect();
    let allow = Allow { optional: &optional, nullable: DETAILS_NULLABLE, extra: DETAILS_EXTRA };
    let documented = [
        "NEW",
        "ACTIVE",
        "PENDING",
        "ERROR",
        "DISABLED",
        "DELETED",
        "DELETING",
        "DEPLOYING",
        "FAILED",
        "PARTIALLYDEPLOYED",
    ];
    let mut seen = BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for t in 0..30 {
        h.advance(1.0);
        let (s, list) = raw(&h, get.clone(), "/ai-inference/instances", None).await;
        assert_eq!(s, 200);
        assert_shape(&format!("instances list at {t} s"), &list_example, &list, &Allow::default());
        for item in list.as_array().unwrap() {
            let (name, status) = (item["name"].as_str().unwrap(), item["status"].as_str().unwrap());
            assert!(documented.contains(&status), "{name}: {status}");
            let (s, d) = raw(
                &h,
                get.clone(),
                &format!("/ai-inference/instances/{}", item["_id"].as_str().unwrap()),
                None,
            )
            .await;
            assert_eq!(s, 200);
            assert_shape(&format!("details of {name} at {t} s"), &details_example, &d, &allow);
            seen.entry(name.to_string()).or_default().insert(format!("{} {}", d["status"], d["containers"]));
        }
    }
    // It did live: the scale-to-zero instance woke, and a healthy one showed the seed's own launch error.
    assert!(seen["e5-large-embed"].len() > 1, "{:?}", seen["e5-large-embed"]);
    let deepseek = format!("{:?}", seen["deepseek-r1-distill"]);
    assert!(deepseek.contains("Unexpected error occurred while launching the instance"), "{deepseek}");
}
