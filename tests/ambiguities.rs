//! Every edit path (Gcore v3, Gcore v2, Sesterce, Run:ai), scale and probes, under every reading of every
//! ambiguity that touches it, through the provider clients against the simulator over loopback: the read-back
//! equals the edit, or the fields that differ are exactly the ones the reading makes the provider drop.
//! Also: Run:ai login under each token flow, the Run:ai list under each casing, metrics on an old control plane,
//! the Gcore pricing floor, and the simulator's control API for the switches.

mod common;

use common::wire::{accounts_with_v2, changed_paths, derived, raw_deployment, runai_token};
use infertop::model::ImageSource;
use infertop::model::{
    Deployment, HttpGetAction, ProbeConfig, ProviderKind, RegionScale, Scale, ScaleUpdate, TcpSocketAction,
};
use infertop::provider::http::build_client;
use infertop::provider::sesterce::SesterceClient;
use infertop::provider::{self, AccountSpec, Applied, ErrorKind, MetricsQuery, Provider};
use infertop::sim::ambiguity::{self, Ambiguities, every_reading_of};
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const GCORE_V3: usize = 0;
const SESTERCE: usize = 1;
const RUNAI: usize = 2;
const GCORE_V2: usize = 3;

struct Env {
    sim: SimHandle,
    accounts: Vec<AccountSpec>,
    providers: Vec<Arc<dyn Provider>>,
    http: reqwest::Client,
}

async fn env(readings: Ambiguities) -> Env {
    // Frozen simulated time (tasks move by one state per poll); the epoch is now, so that the JWTs' `exp`
    // agrees with the wall clock the client reads it with.
    let sim =
        sim::start(SimConfig { time_scale: 0.0, ambiguities: readings, ..SimConfig::default() }, loopback())
            .await
            .unwrap();
    let accounts = accounts_with_v2(&sim.base_url());
    for (i, kind) in
        [(GCORE_V3, ProviderKind::Gcore), (SESTERCE, ProviderKind::Sesterce), (RUNAI, ProviderKind::Runai)]
    {
        assert_eq!(accounts[i].kind, kind);
    }
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    let providers = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    Env { sim, accounts, providers, http: reqwest::Client::new() }
}

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

impl Env {
    async fn raw(&self, account: usize, d: &Deployment) -> Value {
        raw_deployment(&self.http, &self.sim.base_url(), &self.accounts[account], &d.key.id).await
    }

    async fn pick(&self, account: usize, want: impl Fn(&Deployment) -> bool) -> Deployment {
        let p = &self.providers[account];
        for d in p.list().await.unwrap() {
            let full = p.get(&d.key.id).await.unwrap();
            if want(&full) {
                return full;
            }
        }
        panic!("no deployment of account {account} fits");
    }
}

/// The names of the scale fields (per region) where `got` differs from `want`.
fn scale_mismatch(want: &ScaleUpdate, got: &ScaleUpdate) -> Vec<String> {
    let mut out = Vec::new();
    for w in &want.regions {
        let Some(g) = got.regions.iter().find(|g| g.region_id == w.region_id) else {
            out.push(format!("{}: region", w.region_id));
            continue;
        };
        let (a, b) = (&w.scale, &g.scale);
        let t = (&a.triggers, &b.triggers);
        for (name, same) in [
            ("min", a.min == b.min),
            ("max", a.max == b.max),
            ("cooldown", a.cooldown_seconds == b.cooldown_seconds),
            ("polling", a.polling_interval_seconds == b.polling_interval_seconds),
            ("retention", a.scale_to_zero_retention_seconds == b.scale_to_zero_retention_seconds),
            ("triggers.cpu", t.0.cpu == t.1.cpu),
            ("triggers.memory", t.0.memory == t.1.memory),
            ("triggers.gpu_utilization", t.0.gpu_utilization == t.1.gpu_utilization),
            ("triggers.gpu_memory", t.0.gpu_memory == t.1.gpu_memory),
            ("triggers.http", t.0.http == t.1.http),
            ("triggers.metric", t.0.metric == t.1.metric),
        ] {
            if !same {
                out.push(name.to_string());
            }
        }
    }
    if got.regions.len() != want.regions.len() {
        out.push("regions".into());
    }
    out.sort();
    out.dedup();
    out
}

/// Paths of the raw JSON that changed outside `allowed` (and outside what the server derives).
fn changed_outside(before: &Value, after: &Value, allowed: &[&str]) -> Vec<String> {
    let mut changed = Vec::new();
    changed_paths(before, after, "", &mut changed);
    changed
        .into_iter()
        .filter(|p| !derived(p) && !allowed.iter().any(|a| p.starts_with(a)))
        .filter(|p| !p.ends_with("/updated_at") && !p.ends_with("/updatedAt"))
        .collect()
}

// ---------------------------------------------------------------------------------------------- Gcore

/// Max up, cooldown cleared, the cpu trigger removed, a memory trigger set: the read-back has every change
/// except what the reading drops. The v3 PATCH does not take a null cooldown (the spec), so a cleared cooldown
/// is left out and Gcore keeps its value under every reading; a trigger removed by null stays when null is
/// ignored.
#[tokio::test]
async fn gcore_v3_scale_edit_under_every_reading() {
    for readings in every_reading_of(&[ambiguity::GCORE_V3_NULL, ambiguity::GCORE_TRIGGER_NULL]) {
        let e = env(readings.clone()).await;
        let d = e
            .pick(GCORE_V3, |d| {
                d.regions.first().is_some_and(|r| {
                    r.scale.cooldown_seconds.is_some() && r.scale.triggers.cpu.is_some() && r.scale.max < 300
                })
            })
            .await;
        let before = e.raw(GCORE_V3, &d).await;
        let mut want = ScaleUpdate::from_deployment(&d);
        let s = &mut want.regions[0].scale;
        s.max += 1;
        s.cooldown_seconds = None;
        s.triggers.cpu = None;
        s.triggers.memory = Some(70);
        let applied = e.providers[GCORE_V3].update_scale(&d.key.id, &want).await.unwrap();
        assert!(matches!(applied, Applied::Done(_)), "{readings}");
        // Sent as meant: the cleared cooldown left out (never the old value), the removed trigger as null.
        let sent = last_body(&e, "PATCH");
        let region = d.regions[0].region_id.parse::<i64>().unwrap();
        let scale =
            sent["containers"].as_array().unwrap().iter().find(|c| c["region_id"] == json!(region)).unwrap()
                ["scale"]
                .clone();
        assert!(scale.get("cooldown_period").is_none(), "{readings}: {scale}");
        assert_eq!(
            (&scale["triggers"]["cpu"], &scale["triggers"]["memory"]),
            (&Value::Null, &json!({"threshold": 70}))
        );
        let got = ScaleUpdate::from_deployment(&e.providers[GCORE_V3].get(&d.key.id).await.unwrap());
        let mut expected = vec!["cooldown".to_string()];
        if readings.is(ambiguity::GCORE_TRIGGER_NULL, "ignored") {
            expected.push("triggers.cpu".into());
        }
        expected.sort();
        assert_eq!(scale_mismatch(&want, &got), expected, "{readings}");
        assert_eq!(got.regions[0].scale.cooldown_seconds, d.regions[0].scale.cooldown_seconds, "{readings}");
        let after = e.raw(GCORE_V3, &d).await;
        assert_eq!(changed_outside(&before, &after, &["/containers"]), Vec::<String>::new(), "{readings}");
    }
}

/// A probe's thresholds and path change under both readings; switching its handler (http -> tcp, the old
/// handler sent as null) lands only where null clears: where null keeps, the old handler is still there.
#[tokio::test]
async fn gcore_v3_probe_edit_under_every_reading() {
    for readings in every_reading_of(&[ambiguity::GCORE_V3_NULL]) {
        let e = env(readings.clone()).await;
        let d = e
            .pick(GCORE_V3, |d| {
                d.probes
                    .as_ref()
                    .and_then(|p| p.readiness.as_ref())
                    .is_some_and(|l| l.probe.http_get.is_some())
            })
            .await;
        let p = &e.providers[GCORE_V3];
        let before = e.raw(GCORE_V3, &d).await;
        let mut want = d.probes.as_deref().cloned().unwrap();
        let live = want.readiness.as_mut().unwrap();
        live.probe.period_seconds = Some(live.probe.period_seconds.unwrap_or(10) + 5);
        live.probe.http_get.as_mut().unwrap().path = "/healthz-2".into();
        p.update_probes(&d.key.id, &want).await.unwrap();
        let got = p.get(&d.key.id).await.unwrap().probes.unwrap();
        assert_eq!(*got, want, "{readings}");
        let after = e.raw(GCORE_V3, &d).await;
        assert_eq!(
            changed_outside(&before, &after, &["/probes/readiness_probe"]),
            Vec::<String>::new(),
            "{readings}"
        );

        let mut switch = want.clone();
        let live = switch.readiness.as_mut().unwrap();
        live.probe.http_get = None;
        live.probe.tcp_socket = Some(TcpSocketAction { port: 8080 });
        p.update_probes(&d.key.id, &switch).await.unwrap();
        let raw = e.raw(GCORE_V3, &d).await;
        let handler = &raw["probes"]["readiness_probe"]["probe"];
        assert_eq!(handler["tcp_socket"]["port"], json!(8080), "{readings}");
        if readings.is(ambiguity::GCORE_V3_NULL, "clears") {
            assert_eq!(handler["http_get"], Value::Null, "{readings}");
            assert_eq!(
                p.get(&d.key.id).await.unwrap().probes.as_deref().cloned().unwrap(),
                switch,
                "{readings}"
            );
        } else {
            // Exactly the handler sent as null did not take.
            assert!(handler["http_get"].is_object(), "{readings}");
            let got = p.get(&d.key.id).await.unwrap().probes.unwrap();
            let mut got_live = got.readiness.clone().unwrap();
            got_live.probe.http_get = None;
            assert_eq!(Some(got_live), switch.readiness, "{readings}");
        }
    }
}

fn last_body(e: &Env, method: &str) -> Value {
    let st = e.sim.state.gcore.lock().unwrap();
    st.received.iter().rev().find(|(m, _)| m == method).map(|(_, b)| b.clone()).expect("a body was sent")
}

/// The v2 PUT carries `project_id`, so it lands whatever the key's default project is; a cleared cooldown is
/// sent as null (v2 takes it) and read back unset; probes change as asked.
#[tokio::test]
async fn gcore_v2_scale_and_probe_edits_under_every_reading() {
    for readings in every_reading_of(&[ambiguity::GCORE_V2_PROJECT]) {
        let e = env(readings.clone()).await;
        let d = e
            .pick(GCORE_V2, |d| {
                d.regions.first().is_some_and(|r| r.scale.cooldown_seconds.is_some())
                    && d.probes.as_ref().and_then(|p| p.liveness.as_ref()).is_some()
            })
            .await;
        let p = &e.providers[GCORE_V2];
        let before = e.raw(GCORE_V2, &d).await;
        let mut want = ScaleUpdate::from_deployment(&d);
        want.regions[0].scale.max += 1;
        want.regions[0].scale.cooldown_seconds = None;
        p.update_scale(&d.key.id, &want).await.unwrap_or_else(|e| panic!("{readings}: {e}"));
        let sent = last_body(&e, "PUT");
        assert_eq!(sent["project_id"], json!(1), "{readings}");
        let got = ScaleUpdate::from_deployment(&p.get(&d.key.id).await.unwrap());
        // v2 has no polling interval of its own: it reads back as it was.
        let mismatch: Vec<String> =
            scale_mismatch(&want, &got).into_iter().filter(|f| f != "polling").collect();
        assert_eq!(mismatch, Vec::<String>::new(), "{readings}");
        let after = e.raw(GCORE_V2, &d).await;
        assert_eq!(changed_outside(&before, &after, &["/containers"]), Vec::<String>::new(), "{readings}");

        let mut probes = d.probes.as_deref().cloned().unwrap();
        let live = probes.liveness.as_mut().unwrap();
        live.probe.failure_threshold = Some(live.probe.failure_threshold.unwrap_or(3) + 2);
        p.update_probes(&d.key.id, &probes).await.unwrap_or_else(|e| panic!("{readings}: {e}"));
        assert_eq!(p.get(&d.key.id).await.unwrap().probes.as_deref().cloned().unwrap(), probes, "{readings}");
    }
}

/// A region that may run no container is priced as nothing: the preview never asks with `max` 0 (the
/// pricing schema wants `max >= 1`).
#[tokio::test]
async fn gcore_pricing_never_asks_with_max_zero() {
    let e = env(Ambiguities::default()).await;
    let p = &e.providers[GCORE_V3];
    let catalog = p.catalog().await.unwrap();
    let flavor = catalog.hardware.first().unwrap().id.clone();
    let regions: Vec<String> = catalog.regions.iter().take(2).map(|r| r.id.clone()).collect();
    let spec = |maxes: &[u32]| infertop::model::create::CreateSpec {
        provider: ProviderKind::Gcore,
        name: "priced".into(),
        source: infertop::model::create::ImageSource::Image {
            image: "nginx:latest".into(),
            credentials: None,
        },
        port: 80,
        hardware_id: flavor.clone(),
        gpu_devices: None,
        project_id: None,
        regions: regions
            .iter()
            .zip(maxes)
            .map(|(r, m)| RegionScale {
                region_id: r.clone(),
                scale: Scale { min: 0, max: *m, ..Scale::default() },
            })
            .collect(),
        envs: Default::default(),
        command: None,
        probes: None,
        logging: None,
    };
    let one = p.price(&spec(&[2, 0])).await.unwrap().unwrap();
    let both = p.price(&spec(&[2, 1])).await.unwrap().unwrap();
    assert!(one.per_hour > 0.0 && both.per_hour > one.per_hour, "{one:?} {both:?}");
    let none = p.price(&spec(&[0, 0])).await.unwrap().unwrap();
    assert_eq!(none.per_hour, 0.0);
}

// ---------------------------------------------------------------------------------------------- Sesterce

fn sesterce_model(e: &Env, id: &str) -> (Value, Value) {
    let s = e.sim.state.sesterce.lock().unwrap();
    let i = s.instances.iter().find(|i| i.id == id).unwrap();
    (i.model_id.clone(), i.registry_id.clone())
}

/// The details never give `modelId`/`registryId`, so the client leaves them out. Where Sesterce keeps what is
/// left out, the edit lands and the model stays; where it refuses, the edit is refused with a message that
/// asks for the model, nothing changes, and the edit with the model picked lands and keeps it.
#[tokio::test]
async fn sesterce_scale_edit_keeps_the_model_under_every_reading() {
    // An instance of a catalog model, and one of a registry image.
    for (readings, from_registry) in
        every_reading_of(&[ambiguity::SESTERCE_NO_MODEL, ambiguity::SESTERCE_NULL])
            .into_iter()
            .flat_map(|r| [(r.clone(), false), (r, true)])
    {
        let e = env(readings.clone()).await;
        let d = e
            .pick(SESTERCE, |d| {
                d.regions.first().is_some_and(|r| r.scale.max < 300)
                    && d.detail
                    && sesterce_model(&e, &d.key.id).1.is_string() == from_registry
            })
            .await;
        let (model, registry) = sesterce_model(&e, &d.key.id);
        assert!(model.is_string() != from_registry, "{model} {registry}");
        let before = e.raw(SESTERCE, &d).await;
        let mut want = ScaleUpdate::from_deployment(&d);
        want.regions[0].scale.max += 1;
        want.regions[0].scale.triggers.cpu = Some(66);
        // Cleared, and the whole configuration is sent, so it clears.
        want.regions[0].scale.cooldown_seconds = None;
        let p = &e.providers[SESTERCE];
        let result = p.update_scale(&d.key.id, &want).await;
        if readings.is(ambiguity::SESTERCE_NO_MODEL, "rejected") {
            let err = result.unwrap_err();
            assert_eq!((err.kind, err.status), (ErrorKind::Validation, Some(400)), "{readings}");
            assert!(err.fields.iter().any(|(f, _)| f == "modelId"), "{readings}: {err:?}");
            assert!(err.message.contains("Sesterce said: modelId"), "{readings}: {}", err.message);
            assert_eq!(e.raw(SESTERCE, &d).await, before, "{readings}: a refused edit changed something");
            // The user picks the instance's model (or registry): the edit lands.
            let source = match (&model, &registry) {
                (Value::String(m), _) => ImageSource::Model(m.clone()),
                (_, Value::String(r)) => ImageSource::Registry(r.clone()),
                _ => panic!("instance without model or registry"),
            };
            let client = SesterceClient::new(&e.accounts[SESTERCE], reqwest::Client::new());
            client.update_scale_with(&d.key.id, &want, Some(&source)).await.unwrap();
        } else {
            result.unwrap_or_else(|err| panic!("{readings}: {err}"));
        }
        let got = ScaleUpdate::from_deployment(&p.get(&d.key.id).await.unwrap());
        assert_eq!(scale_mismatch(&want, &got), Vec::<String>::new(), "{readings}");
        assert_eq!(sesterce_model(&e, &d.key.id), (model, registry), "{readings}: the model changed");
        let after = e.raw(SESTERCE, &d).await;
        assert_eq!(changed_outside(&before, &after, &["/containers"]), Vec::<String>::new(), "{readings}");
    }
}

/// The PATCH body never carries a null the client did not read: with the details as the seed gives them,
/// `modelId` and `registryId` are absent from the body (and so never clear anything under `clears`).
#[tokio::test]
async fn sesterce_patch_body_leaves_out_what_was_not_read() {
    let e = env(Ambiguities::default().with(ambiguity::SESTERCE_NO_MODEL, "keeps")).await;
    let d = e.pick(SESTERCE, |d| d.detail && !d.regions.is_empty()).await;
    let client = SesterceClient::new(&e.accounts[SESTERCE], reqwest::Client::new());
    let details = client.details(&d.key.id).await.unwrap();
    assert_eq!((details.model_id.as_ref(), details.registry_id.as_ref()), (None, None));
    let mut u = ScaleUpdate::from_deployment(&d);
    u.regions[0].scale.max += 1;
    let names = Default::default();
    let body = serde_json::to_value(client.update_body(&details, &u, &names).unwrap()).unwrap();
    assert!(body.get("modelId").is_none() && body.get("registryId").is_none(), "{body}");
    let raw = e.raw(SESTERCE, &d).await;
    for (k, v) in body.as_object().unwrap() {
        if v.is_null() {
            assert!(raw.get(k).is_some_and(Value::is_null), "{k} sent as null but not read as null");
        }
    }
}

// ---------------------------------------------------------------------------------------------- Run:ai

/// Scale and probe edits land under both null readings, and the image (never sent) survives.
#[tokio::test]
async fn runai_scale_and_probe_edits_under_every_reading() {
    for readings in every_reading_of(&[ambiguity::RUNAI_NULL, ambiguity::RUNAI_TOKEN]) {
        let e = env(readings.clone()).await;
        let d = e.pick(RUNAI, |d| d.regions.first().is_some_and(|r| r.scale.max < 10)).await;
        let p = &e.providers[RUNAI];
        let before = e.raw(RUNAI, &d).await;
        let image = before["spec"]["image"].clone();
        assert!(image.is_string());
        let mut want = ScaleUpdate::from_deployment(&d);
        want.regions[0].scale.max += 1;
        p.update_scale(&d.key.id, &want).await.unwrap_or_else(|err| panic!("{readings}: {err}"));
        let got = ScaleUpdate::from_deployment(&p.get(&d.key.id).await.unwrap());
        assert_eq!(scale_mismatch(&want, &got), Vec::<String>::new(), "{readings}");

        let mut probes = d.probes.as_deref().cloned().unwrap_or_default();
        probes.readiness = Some(ProbeConfig {
            enabled: true,
            probe: infertop::model::Probe {
                http_get: Some(HttpGetAction {
                    path: "/ready".into(),
                    port: 8000,
                    scheme: "HTTP".into(),
                    host: None,
                    headers: Default::default(),
                }),
                period_seconds: Some(7),
                failure_threshold: Some(4),
                ..Default::default()
            },
        });
        p.update_probes(&d.key.id, &probes).await.unwrap_or_else(|err| panic!("{readings}: {err}"));
        let after_dep = p.get(&d.key.id).await.unwrap();
        let got = after_dep.probes.clone().unwrap_or_default();
        assert_eq!(
            got.readiness.as_ref().map(|r| &r.probe.http_get),
            Some(&probes.readiness.as_ref().unwrap().probe.http_get),
            "{readings}"
        );
        assert_eq!(got.readiness.as_ref().and_then(|r| r.probe.period_seconds), Some(7), "{readings}");
        let after = e.raw(RUNAI, &d).await;
        assert_eq!(after["spec"]["image"], image, "{readings}: the image changed");
        assert_eq!(
            changed_outside(&before["spec"], &after["spec"], &["/autoscaling", "/probes"]),
            Vec::<String>::new(),
            "{readings}"
        );
    }
}

/// The client logs in whether the control plane serves v2 only, v1 only or both; on v1 the lifetime comes
/// from the JWT's `exp` (no `expires_in` there).
#[tokio::test]
async fn runai_login_under_every_token_flow() {
    for readings in every_reading_of(&[ambiguity::RUNAI_TOKEN]) {
        let e = env(readings.clone()).await;
        let list = e.providers[RUNAI].list().await.unwrap_or_else(|err| panic!("{readings}: {err}"));
        assert!(!list.is_empty(), "{readings}");
        let issued = e.sim.state.runai.lock().unwrap().tokens_issued;
        assert_eq!(issued, 1, "{readings}: one token for the whole list");
        let token = runai_token(&e.http, &e.sim.base_url()).await;
        assert_eq!(token.split('.').count(), 3, "JWT-shaped");
        let life = provider::runai::jwt_lifetime(&token).unwrap();
        assert!((3000..=3600).contains(&life), "{readings}: lifetime {life}");
    }
}

/// The inference workloads are found whatever the casing of their type and however `filterBy` matches.
#[tokio::test]
async fn runai_list_finds_the_inferences_under_every_casing() {
    for readings in every_reading_of(&[ambiguity::RUNAI_TYPE, ambiguity::RUNAI_FILTER]) {
        let e = env(readings.clone()).await;
        let fleet = e.sim.state.fleet.deployments_of(ProviderKind::Runai).count();
        let list = e.providers[RUNAI].list().await.unwrap();
        assert_eq!(list.len(), fleet, "{readings}");
        assert!(!list.iter().any(|d| d.name == "bert-finetune" || d.name == "jupyter-alice"), "{readings}");
    }
}

/// On a control plane older than 2.18 the inference metrics answer 404: the workload's GPU series is still
/// shown, marked partial, and the rest works.
#[tokio::test]
async fn runai_metrics_on_an_old_control_plane() {
    for readings in every_reading_of(&[ambiguity::RUNAI_METRICS]) {
        let e = env(readings.clone()).await;
        let p = &e.providers[RUNAI];
        let d = p.list().await.unwrap().into_iter().next().unwrap();
        let end = e.sim.state.clock.now_utc();
        let q = MetricsQuery { start: end - chrono::Duration::minutes(10), end, samples: 5, pod: None };
        let r = p.metrics(&d.key.id, &q).await;
        let m = r.unwrap_or_else(|err| panic!("{readings}: {err}"));
        let names: Vec<&str> = m.series.iter().map(|s| s.name.as_str()).collect();
        if readings.is(ambiguity::RUNAI_METRICS, "404") {
            // What there is (the workload's GPU), marked partial.
            assert_eq!((names, m.partial), (vec!["GPU_UTILIZATION"], true), "{readings}");
        } else {
            assert_eq!(names, ["THROUGHPUT", "LATENCY", "GPU_UTILIZATION"], "{readings}");
        }
        assert!(p.get(&d.key.id).await.is_ok(), "{readings}");
    }
}

// ---------------------------------------------------------------------------------------------- switches

/// `GET /_sim/ambiguities` lists every switch with its default (the first reading); `POST` changes readings,
/// refuses an unknown name or reading, and the change takes effect at once.
#[tokio::test]
async fn the_control_api_lists_and_switches_readings() {
    let e = env(Ambiguities::default()).await;
    let base = e.sim.base_url();
    let list: Value =
        e.http.get(format!("{base}/_sim/ambiguities")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), ambiguity::SWITCHES.len());
    assert!(list.as_array().unwrap().iter().all(|s| s["default"] == s["current"] && s["source"].is_string()));
    let v2_token = || {
        e.http.post(format!("{base}/api/v2/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo"),
            ("client_secret", "demo-secret"),
        ])
    };
    assert_eq!(v2_token().send().await.unwrap().status(), 404, "v1-only by default");
    let r = e
        .http
        .post(format!("{base}/_sim/ambiguities"))
        .json(&json!({"runai-token": "both"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(v2_token().send().await.unwrap().status(), 200);
    for bad in [json!({"runai-token": "v3"}), json!({"no-such-switch": "x"})] {
        let r = e.http.post(format!("{base}/_sim/ambiguities")).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}
