//! Unknown values from the API are shown as what they are: with the simulator's fault injection renaming every
//! status, phase and state to `FROBNICATING` (and adding fields nobody knows), each client still lists every
//! deployment and reads each one, with the status `Status::Unknown("FROBNICATING")`, drawn `UNKNOWN(FROBNICATING)`.
//! With nulls where values usually are, no list fails and no deployment goes missing.

use infertop::model::{Deployment, ProviderKind, Status};
use infertop::provider::http::{RateLimit, RetryPolicy, build_client};
use infertop::provider::{AccountSpec, GcoreApi, Provider, connect, demo_accounts};
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn sim() -> SimHandle {
    sim::start(SimConfig { time_scale: 0.0, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn account(h: &SimHandle, kind: ProviderKind, api: GcoreApi) -> AccountSpec {
    let mut a = demo_accounts(&h.base_url()).into_iter().find(|a| a.kind == kind).unwrap();
    a.gcore_api = api;
    // A fault must show as itself, not be hidden by a retry.
    a.retry = RetryPolicy::none();
    a.rate_limit = RateLimit::unlimited();
    a
}

fn client(h: &SimHandle, kind: ProviderKind, api: GcoreApi) -> Arc<dyn Provider> {
    connect(&account(h, kind, api), build_client(Duration::from_secs(5), Duration::from_secs(20)))
}

/// `POST /_sim/faults` with `rates` for one provider (every other rate zero).
async fn set_faults(h: &SimHandle, kind: ProviderKind, rates: Value) {
    let key = match kind {
        ProviderKind::Gcore => "gcore",
        ProviderKind::Sesterce => "sesterce",
        ProviderKind::Runai => "runai",
    };
    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/faults", h.base_url()))
        .json(&json!({ key: rates }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap_or_default());
}

async fn fault_counts(h: &SimHandle) -> Value {
    reqwest::get(format!("{}/_sim/faults", h.base_url())).await.unwrap().json().await.unwrap()
}

const TARGETS: [(ProviderKind, GcoreApi); 4] = [
    (ProviderKind::Gcore, GcoreApi::V3),
    (ProviderKind::Gcore, GcoreApi::V2),
    (ProviderKind::Sesterce, GcoreApi::V3),
    (ProviderKind::Runai, GcoreApi::V3),
];

fn ids(list: &[Deployment]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|d| d.key.id.clone()).collect();
    v.sort();
    v
}

fn assert_unknown(d: &Deployment, what: &str) {
    assert_eq!(d.status, Status::Unknown("FROBNICATING".into()), "{what} {}", d.name);
    assert_eq!(d.status.label(), "UNKNOWN(FROBNICATING)");
}

#[tokio::test]
async fn unknown_statuses_are_kept_and_shown_for_every_provider() {
    for (kind, api) in TARGETS {
        let h = sim().await;
        let p = client(&h, kind, api);
        let before = p.list().await.unwrap();
        assert!(!before.is_empty());
        assert!(before.iter().all(|d| !matches!(d.status, Status::Unknown(_))), "{kind} {api:?}: {before:?}");

        set_faults(&h, kind, json!({ "unknown_values": 1.0 })).await;
        let list = p.list().await.unwrap_or_else(|e| panic!("{kind} {api:?} list: {e}"));
        assert_eq!(ids(&list), ids(&before), "{kind} {api:?}: no deployment dropped");
        for d in &list {
            assert_unknown(d, &format!("{kind} {api:?} list"));
        }
        for d in &before {
            let full =
                p.get(&d.key.id).await.unwrap_or_else(|e| panic!("{kind} {api:?} get {}: {e}", d.name));
            assert_unknown(&full, &format!("{kind} {api:?} get"));
            // The rest of the deployment is read as usual.
            assert_eq!(full.name, d.name);
            assert!(!full.regions.is_empty(), "{kind} {api:?} {}", d.name);
        }
        let counts = fault_counts(&h).await;
        assert!(counts["unknown_values"].as_u64().unwrap() > before.len() as u64, "{counts}");
    }
}

/// Region catalogs carry a `state`: an unknown one is kept as text, the region is not dropped.
#[tokio::test]
async fn unknown_region_states_are_kept() {
    for kind in [ProviderKind::Gcore, ProviderKind::Sesterce] {
        let h = sim().await;
        let p = client(&h, kind, GcoreApi::V3);
        let before = p.regions().await.unwrap();
        assert!(!before.is_empty());
        set_faults(&h, kind, json!({ "unknown_values": 1.0 })).await;
        let after = p.regions().await.unwrap();
        assert_eq!(after.len(), before.len(), "{kind}");
        assert!(after.iter().all(|r| r.state.as_deref() == Some("FROBNICATING")), "{kind}: {after:?}");
    }
}

#[tokio::test]
async fn nulls_never_fail_a_list_or_drop_a_deployment() {
    for (kind, api) in TARGETS {
        let h = sim().await;
        let p = client(&h, kind, api);
        let before = p.list().await.unwrap();
        set_faults(&h, kind, json!({ "nulls": 1.0 })).await;
        let list = p.list().await.unwrap_or_else(|e| panic!("{kind} {api:?} list with nulls: {e}"));
        assert_eq!(ids(&list), ids(&before), "{kind} {api:?}");
        for d in &before {
            let full =
                p.get(&d.key.id).await.unwrap_or_else(|e| panic!("{kind} {api:?} get {}: {e}", d.name));
            assert_eq!(full.name, d.name);
            assert_eq!(full.status, d.status, "{kind} {api:?} {}: nulls touch no status", d.name);
            // Nulled addresses and images read as absent, not as the text "null".
            assert!(
                full.address.is_none() && full.image.as_deref() != Some("null"),
                "{kind} {api:?} {full:?}"
            );
        }
        let counts = fault_counts(&h).await;
        assert!(counts["nulls"].as_u64().unwrap() > before.len() as u64, "{counts}");
    }
}

/// Both at once, as the `chaos` profile may do to one answer.
#[tokio::test]
async fn unknown_values_and_nulls_together() {
    for (kind, api) in TARGETS {
        let h = sim().await;
        let p = client(&h, kind, api);
        let before = p.list().await.unwrap();
        set_faults(&h, kind, json!({ "unknown_values": 1.0, "nulls": 1.0 })).await;
        let list = p.list().await.unwrap_or_else(|e| panic!("{kind} {api:?}: {e}"));
        assert_eq!(ids(&list), ids(&before), "{kind} {api:?}");
        list.iter().for_each(|d| assert_unknown(d, &format!("{kind} {api:?}")));
    }
}
