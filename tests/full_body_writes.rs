//! Full-body writes need a full read (issue 22, item 4). A Gcore v2 PUT replaces the whole deployment and a
//! Sesterce PATCH takes every field, so each field such a write carries must have been read. The simulator's
//! `gcore-v2-optional-fields=omitted` and `sesterce-optional-fields=omitted` readings answer without every
//! field the documents let an answer leave out. Under them an edit (scale, probes, settings) through the real
//! provider clients, and the scale form of the dashboard, is refused before anything is sent: the error names
//! the field, no write reaches the simulator, and the provider's record, read back in full through the
//! simulator, is unchanged. `doctor` calls such an answer an error. Under the full reading the same edits land
//! and keep every other field.

mod common;

use common::app::{driver, frozen_config, start_sim};
use common::wire::{accounts_with_v2, changed_paths, derived, raw_deployment};
use crossterm::event::KeyCode;
use infertop::app::form::Stage;
use infertop::app::state::Mode;
use infertop::doctor::{self, FindingKind, Severity};
use infertop::model::settings::Settings;
use infertop::model::{Deployment, ProbeConfig, ProviderKind, ScaleUpdate, TcpSocketAction};
use infertop::provider::http::build_client;
use infertop::provider::{self, AccountSpec, ErrorKind, Provider};
use infertop::sim::ambiguity::{
    Ambiguities, GCORE_V2_OPTIONAL, RUNAI_METRICS, SESTERCE_NO_MODEL, SESTERCE_OPTIONAL,
};
use infertop::sim::{SimConfig, SimHandle};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const SESTERCE: usize = 1;
const GCORE_V2: usize = 3;

/// What a v2 PUT must carry and seed 001's answer need not give.
const V2_UNREQUIRED: [&str; 8] = [
    "api_key_ids",
    "auth_enabled",
    "command",
    "description",
    "envs",
    "image_registry_id",
    "probes",
    "timeout",
];
/// What a Sesterce PATCH must carry and the details may leave out (the client's names for them).
const SESTERCE_UNREQUIRED: [&str; 5] = ["description", "podLifetime", "startupCommand", "envs", "apiKeyIds"];

struct Env {
    sim: SimHandle,
    accounts: Vec<AccountSpec>,
    providers: Vec<Arc<dyn Provider>>,
    http: reqwest::Client,
}

/// `reading`: "sent" (every field) or "omitted" (only what the documents require), for both providers.
async fn env(reading: &str) -> Env {
    let ambiguities = Ambiguities::default()
        .with(GCORE_V2_OPTIONAL, reading)
        .with(SESTERCE_OPTIONAL, reading)
        // Sesterce keeps the model when the PATCH leaves modelId out, so that a PATCH, if sent, lands.
        .with(SESTERCE_NO_MODEL, "keeps");
    let sim = start_sim(SimConfig { ambiguities, ..frozen_config() }).await;
    let accounts = accounts_with_v2(&sim.base_url());
    assert_eq!(
        (accounts[SESTERCE].kind, accounts[GCORE_V2].kind),
        (ProviderKind::Sesterce, ProviderKind::Gcore)
    );
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    let providers = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    Env { sim, accounts, providers, http: reqwest::Client::new() }
}

impl Env {
    async fn set_reading(&self, name: &str, reading: &str) {
        let r = self
            .http
            .post(format!("{}/_sim/ambiguities", self.sim.base_url()))
            .json(&json!({ name: reading }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// The provider's record in full: the simulator's answer under the full reading, the reading it had
    /// restored afterwards.
    async fn record(&self, account: usize, id: &str) -> Value {
        let switch = if account == GCORE_V2 { GCORE_V2_OPTIONAL } else { SESTERCE_OPTIONAL };
        let now = self.sim.state.ambiguities.read().unwrap().reading(switch);
        self.set_reading(switch, "sent").await;
        let v = raw_deployment(&self.http, &self.sim.base_url(), &self.accounts[account], id).await;
        self.set_reading(switch, now).await;
        v
    }

    /// What the client reads, under the current reading.
    async fn answer(&self, account: usize, id: &str) -> Value {
        raw_deployment(&self.http, &self.sim.base_url(), &self.accounts[account], id).await
    }

    /// The edits the simulator has seen (PUT and PATCH: the dashboard's other POSTs are sign-ins and price
    /// previews).
    fn writes(&self) -> Vec<String> {
        let log = self.sim.state.fault_counters.requests_logged();
        log.into_iter().filter(|l| l.starts_with("PUT ") || l.starts_with("PATCH ")).collect()
    }

    /// A v2 deployment whose record has envs, a command, a description and probes (what a careless PUT wipes).
    async fn v2_deployment(&self) -> Deployment {
        let id = {
            let st = self.sim.state.gcore.lock().unwrap();
            st.deployments
                .iter()
                .find(|d| {
                    d.envs.as_ref().is_some_and(|e| !e.is_empty())
                        && d.command.as_ref().is_some_and(|c| !c.is_empty())
                        && !d.description.is_empty()
                        && d.probes.is_some()
                        && d.deleting.is_none()
                })
                .expect("a v2 deployment with envs, command, description and probes")
                .id
                .clone()
        };
        self.providers[GCORE_V2].get(&id).await.unwrap()
    }

    /// A Sesterce instance (its details read), with a podLifetime and API keys on record.
    async fn sesterce_instance(&self) -> Deployment {
        let p = &self.providers[SESTERCE];
        for d in p.list().await.unwrap() {
            let full = p.get(&d.key.id).await.unwrap();
            let rec = self.record(SESTERCE, &d.key.id).await;
            if full.detail
                && !full.regions.is_empty()
                && full.regions[0].scale.max < 300
                && rec["podLifetime"].is_number()
                && rec["apiKeysIds"].as_array().is_some_and(|a| !a.is_empty())
            {
                return full;
            }
        }
        panic!("no Sesterce instance with podLifetime and API keys");
    }
}

fn one_more(d: &Deployment) -> ScaleUpdate {
    let mut u = ScaleUpdate::from_deployment(d);
    u.regions[0].scale.max += 1;
    u
}

/// The refusal names every field the answer left out, says what sending would do, and is not a provider's
/// answer (no HTTP status: nothing was sent).
fn assert_names(err: &provider::ApiError, provider: &str, fields: &[&str], effect: &str) {
    let text = err.to_string();
    assert_eq!((err.kind, err.status), (ErrorKind::Other, None), "{text}");
    // Known not sent: the dashboard does not re-read to guess, and bulk never calls it "unknown".
    assert!(!err.is_transient(), "{text}");
    assert!(text.contains(&format!("{provider} did not return ")), "{text}");
    assert!(text.contains(&format!("sending this edit would {effect}")), "{text}");
    assert!(text.contains("Nothing was sent"), "{text}");
    for f in fields {
        assert!(text.contains(f), "{f} not named: {text}");
    }
}

fn msg_of(drv: &common::app::Driver) -> String {
    match drv.stage() {
        Stage::Failed(msg) => msg,
        other => format!("{other:?}"),
    }
}

/// Paths that differ between two records, minus what the simulator moves by itself.
fn changed(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    changed_paths(before, after, "", &mut out);
    out.retain(|p| !derived(p));
    out
}

#[tokio::test]
async fn a_v2_edit_built_from_a_sparse_answer_is_refused_before_sending() {
    let e = env("omitted").await;
    let d = e.v2_deployment().await;
    let answer = e.answer(GCORE_V2, &d.key.id).await;
    for k in V2_UNREQUIRED {
        assert!(answer.get(k).is_none(), "the omitted reading still answers {k}: {answer}");
    }
    let before = e.record(GCORE_V2, &d.key.id).await;
    assert!(before["envs"].as_object().is_some_and(|m| !m.is_empty()), "{before}");
    let p = &e.providers[GCORE_V2];

    for c in answer["containers"].as_array().unwrap() {
        assert!(c["scale"].get("cooldown_period").is_none() && c["scale"].get("triggers").is_none(), "{c}");
    }
    let region = &d.regions[0].region_id;
    let nested =
        [format!("the cooldown_period of region {region}"), format!("the triggers of region {region}")];

    let err = p.update_scale(&d.key.id, &one_more(&d)).await.unwrap_err();
    assert_names(&err, "Gcore", &V2_UNREQUIRED, "reset");
    assert_names(&err, "Gcore", &[nested[0].as_str(), nested[1].as_str()], "reset");

    // The scale form with a cooldown and a trigger typed in: those are the user's, the rest is still unread.
    let mut typed = one_more(&d);
    for r in &mut typed.regions {
        r.scale.cooldown_seconds = Some(30);
        r.scale.triggers.cpu = Some(70);
    }
    let err = p.update_scale(&d.key.id, &typed).await.unwrap_err();
    assert_names(&err, "Gcore", &V2_UNREQUIRED, "reset");
    assert!(!err.to_string().contains("of region"), "{err}");

    // The probes edit and the settings editor (a new description, the rest as shown) are refused alike.
    // The answer gave no probes: a new liveness probe would go with the other slots reset.
    let mut probes = d.probes.as_deref().cloned().unwrap_or_default();
    probes.liveness = Some(ProbeConfig {
        enabled: true,
        probe: infertop::model::Probe {
            tcp_socket: Some(TcpSocketAction { port: 8080 }),
            period_seconds: Some(7),
            ..Default::default()
        },
    });
    let err = p.update_probes(&d.key.id, &probes).await.unwrap_err();
    assert!(err.to_string().contains("did not return probes"), "{err}");
    let mut s = Settings::from_deployment(&d);
    s.description = Some("edited".into());
    let err = p.update_settings(&d.key.id, &s).await.unwrap_err();
    let others: Vec<&str> = V2_UNREQUIRED.into_iter().filter(|f| *f != "description").collect();
    assert_names(&err, "Gcore", &others, "reset");
    // The containers go back as read: their cooldown and triggers were not.
    assert_names(&err, "Gcore", &[nested[0].as_str(), nested[1].as_str()], "reset");

    assert_eq!(e.writes(), Vec::<String>::new(), "a write was sent");
    assert_eq!(e.sim.state.gcore.lock().unwrap().received.len(), 0, "a PUT reached the simulator");
    let after = e.record(GCORE_V2, &d.key.id).await;
    assert_eq!(after, before, "the record changed");
}

#[tokio::test]
async fn a_sesterce_edit_built_from_sparse_details_is_refused_before_sending() {
    let e = env("omitted").await;
    let d = e.sesterce_instance().await;
    let answer = e.answer(SESTERCE, &d.key.id).await;
    for k in ["description", "podLifetime", "startupCommand", "envs", "apiKeysIds", "apiKeyIds"] {
        assert!(answer.get(k).is_none(), "the omitted reading still answers {k}: {answer}");
    }
    let before = e.record(SESTERCE, &d.key.id).await;
    let p = &e.providers[SESTERCE];

    let err = p.update_scale(&d.key.id, &one_more(&d)).await.unwrap_err();
    assert_names(&err, "Sesterce", &SESTERCE_UNREQUIRED, "clear");
    assert!(err.to_string().contains("Sesterce did not return description, podLifetime"), "{err}");

    // The settings editor: a new command is the user's, the rest still unread.
    let mut s = Settings::from_deployment(&d);
    s.command = Some("serve --fast".into());
    let err = p.update_settings(&d.key.id, &s).await.unwrap_err();
    let others: Vec<&str> = SESTERCE_UNREQUIRED.into_iter().filter(|f| *f != "startupCommand").collect();
    assert_names(&err, "Sesterce", &others, "clear");
    assert!(!err.to_string().contains("startupCommand"), "{err}");

    assert_eq!(e.writes(), Vec::<String>::new(), "a write was sent");
    let after = e.record(SESTERCE, &d.key.id).await;
    assert_eq!(after, before, "the record changed");
}

/// Under the full reading the same edits land, and nothing but the scale changes on record (podLifetime,
/// apiKeysIds, envs, command and description included).
#[tokio::test]
async fn with_every_field_read_the_same_edits_land_and_keep_the_rest() {
    let e = env("sent").await;
    let d = e.v2_deployment().await;
    let before = e.record(GCORE_V2, &d.key.id).await;
    let want = one_more(&d);
    e.providers[GCORE_V2].update_scale(&d.key.id, &want).await.unwrap();
    assert_eq!(e.writes().len(), 1, "the PUT is in the simulator's log (so an empty log elsewhere means it)");
    let after = e.record(GCORE_V2, &d.key.id).await;
    assert_eq!(after["containers"][0]["scale"]["max"], json!(want.regions[0].scale.max));
    let other: Vec<String> =
        changed(&before, &after).into_iter().filter(|p| !p.starts_with("/containers")).collect();
    assert_eq!(other, Vec::<String>::new(), "v2: fields the edit did not touch changed");

    let d = e.sesterce_instance().await;
    let before = e.record(SESTERCE, &d.key.id).await;
    let want = one_more(&d);
    e.providers[SESTERCE].update_scale(&d.key.id, &want).await.unwrap();
    assert_eq!(e.writes().len(), 2, "the PATCH is in the simulator's log");
    let after = e.record(SESTERCE, &d.key.id).await;
    assert_eq!(after["containers"][0]["scale"]["max"], json!(want.regions[0].scale.max));
    let other: Vec<String> =
        changed(&before, &after).into_iter().filter(|p| !p.starts_with("/containers")).collect();
    assert_eq!(other, Vec::<String>::new(), "Sesterce: fields the edit did not touch changed");
    assert!(after["podLifetime"].is_number() && after["apiKeysIds"].is_array(), "{after}");
}

/// The dashboard's scale form: the refusal comes back to the form naming the field (as known: no re-read to
/// guess whether it landed), the audit says it was refused, and nothing was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_form_says_which_field_was_not_read() {
    let e = env("omitted").await;
    let v2 = e.v2_deployment().await;
    let ses = e.sesterce_instance().await;
    for (account, d, words) in [
        (GCORE_V2, &v2, "Gcore did not return description, image_registry_id, command, envs"),
        (SESTERCE, &ses, "Sesterce did not return description, podLifetime"),
    ] {
        let before = e.record(account, &d.key.id).await;
        let mut drv = driver(&format!("full-body-{account}"), &e.accounts).await;
        drv.select(account, &d.name).await;
        drv.key(KeyCode::Char('s'));
        drv.set(0, "max", &(d.regions[0].scale.max + 1).to_string());
        drv.key(KeyCode::Enter);
        drv.key(KeyCode::Char('y'));
        drv.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
        match drv.stage() {
            Stage::Failed(msg) => assert!(msg.contains(words), "{msg}"),
            other => panic!("expected the refusal in the form, got {other:?}"),
        }
        assert!(!msg_of(&drv).contains("re-read"), "{}", msg_of(&drv));
        let line = drv.audit_edit(&d.name);
        assert_eq!(line["result"], "refused", "{line}");
        assert!(line["message"].as_str().unwrap().contains(words), "{line}");
        assert_eq!(e.writes(), Vec::<String>::new(), "a write was sent");
        assert_eq!(e.record(account, &d.key.id).await, before, "the record changed");
    }
}

/// `doctor` against the sparse answers: an error for each field an edit must send back, on the reads that
/// precede an edit (v2 GET, Sesterce details); the v2 list, which no edit is built from, is not one.
#[tokio::test]
async fn doctor_calls_a_field_an_edit_must_send_back_missing_an_error() {
    let e = env("omitted").await;
    e.set_reading(RUNAI_METRICS, "served").await;
    let report =
        doctor::examine(&e.accounts, build_client(Duration::from_secs(5), Duration::from_secs(20))).await;
    let found: BTreeSet<(String, Severity, FindingKind, String, String)> = report
        .accounts
        .iter()
        .flat_map(|a| {
            a.findings
                .iter()
                .map(|f| (a.account.clone(), f.severity, f.kind, f.endpoint.clone(), f.path.clone()))
        })
        .collect();
    let mut want = BTreeSet::new();
    for f in V2_UNREQUIRED
        .iter()
        .map(|f| f.to_string())
        .chain(["containers[*].scale.cooldown_period".into(), "containers[*].scale.triggers".into()])
    {
        want.insert((
            "gcore-v2".to_string(),
            Severity::Error,
            FindingKind::Missing,
            "GET /cloud/v2/inference/deployments/{instance_id}".to_string(),
            format!("$.{f}"),
        ));
    }
    for f in ["description", "podLifetime", "startupCommand", "envs", "apiKeysIds"] {
        want.insert((
            e.accounts[SESTERCE].name.clone(),
            Severity::Error,
            FindingKind::Missing,
            "GET /ai-inference/instances/{id}".to_string(),
            format!("$.{f}"),
        ));
    }
    assert_eq!(found, want, "{}", doctor::report::human(&report));
    assert_ne!(report.exit_code(), 0);
    let v2 = report.accounts.iter().find(|a| a.account == "gcore-v2").unwrap();
    let msg = &v2.findings.iter().find(|f| f.path == "$.envs").unwrap().message;
    assert!(msg.contains("an edit must send it back"), "{msg}");
}

/// Bulk `max +1` over a Gcore v3 deployment (a partial PATCH: nothing to read in full), a v2 one and a
/// Sesterce one under the omitted readings: the v3 edit lands, the other two are refused (never "unknown")
/// with the field named, and their records are unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_refuses_the_full_body_writes_and_applies_the_rest() {
    use infertop::app::State;
    use infertop::app::bulk::{BulkStage, Outcome};
    let e = env("omitted").await;
    let v2 = e.v2_deployment().await;
    let ses = e.sesterce_instance().await;
    // A v3 deployment other than the v2 one (both APIs serve the same simulated deployments).
    let v3 = if v2.name == "llama-3-70b-chat" { "mistral-7b-support" } else { "llama-3-70b-chat" };
    let marked = [(0usize, v3.to_string()), (GCORE_V2, v2.name.clone()), (SESTERCE, ses.name.clone())];
    let v2_before = e.record(GCORE_V2, &v2.key.id).await;
    let ses_before = e.record(SESTERCE, &ses.key.id).await;
    let mut drv = driver("full-body-bulk", &e.accounts).await;
    for (i, (account, name)) in marked.iter().enumerate() {
        drv.select(*account, name).await;
        drv.key(KeyCode::Char(' '));
        drv.key(KeyCode::Esc);
        assert_eq!(drv.state.marks.len(), i + 1);
    }
    drv.key(KeyCode::Char('s'));
    assert!(matches!(drv.state.mode, Mode::Bulk), "{:?}", drv.state.mode);
    drv.key(KeyCode::Tab);
    drv.type_str("+1");
    drv.key(KeyCode::Enter);
    drv.wait("the review", |s: &State| s.bulk.as_ref().is_some_and(|b| b.stage == BulkStage::Review)).await;
    assert_eq!(drv.state.bulk.as_ref().unwrap().items.len(), 3);
    drv.key(KeyCode::Char('y'));
    drv.wait("every outcome", |s: &State| s.bulk.as_ref().is_some_and(|b| b.stage == BulkStage::Done)).await;
    let outcome = |name: &str| {
        let b = drv.state.bulk.as_ref().unwrap();
        b.items.iter().find(|i| i.name == name).unwrap().outcome.clone()
    };
    assert!(matches!(outcome(v3), Outcome::Applied(_)), "{:?}", outcome(v3));
    for (name, words) in [
        (&v2.name, "Gcore did not return description"),
        (&ses.name, "Sesterce did not return description, podLifetime"),
    ] {
        match outcome(name) {
            Outcome::Refused(text) => {
                assert!(text.contains(words) && text.contains("Nothing was sent"), "{text}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        drv.state
            .bulk
            .as_ref()
            .unwrap()
            .tally()
            .starts_with("1 applied · 0 conflict · 2 refused · 0 unknown"),
        "{}",
        drv.state.bulk.as_ref().unwrap().tally()
    );
    assert_eq!(e.writes().iter().filter(|l| !l.contains("/cloud/v3/")).count(), 0, "{:?}", e.writes());
    assert_eq!(e.record(GCORE_V2, &v2.key.id).await, v2_before, "the v2 record changed");
    assert_eq!(e.record(SESTERCE, &ses.key.id).await, ses_before, "the Sesterce record changed");
}

/// Details without containerPort or hardwareId (the seed's details have both): no PATCH can be built, and the
/// error is a known "not sent" (not transient: the dashboard neither re-reads to guess nor calls it unknown).
#[test]
fn details_without_port_or_hardware_build_no_patch_and_say_so_as_known() {
    use infertop::provider::sesterce::{SesterceClient, wire::InstanceDetails};
    let spec = &infertop::provider::demo_accounts("http://127.0.0.1:9")[SESTERCE];
    let client = SesterceClient::new(spec, reqwest::Client::new());
    let full = json!({"_id": "a", "containerPort": 80, "hardwareId": "h", "description": null,
        "podLifetime": null, "envs": null, "startupCommand": null, "apiKeysIds": null,
        "containers": [{"regionId": 18, "scale": {"min": 1, "max": 2}}]});
    let u = ScaleUpdate {
        regions: vec![infertop::model::RegionScale {
            region_id: "18".into(),
            scale: infertop::model::Scale { min: 1, max: 3, ..Default::default() },
        }],
    };
    let names = Default::default();
    let details: InstanceDetails = serde_json::from_value(full.clone()).unwrap();
    assert!(client.update_body(&details, &u, &names).is_ok());
    for key in ["containerPort", "hardwareId"] {
        let mut v = full.clone();
        v.as_object_mut().unwrap().remove(key);
        let details: InstanceDetails = serde_json::from_value(v).unwrap();
        let err = client.update_body(&details, &u, &names).unwrap_err();
        assert!(err.message.contains(key) && !err.is_transient(), "{key}: {err:?}");
    }
}
