//! Property test: over many generated deployments of all three providers, a random valid scale edit made
//! through the form code and `Sync::apply` lands exactly as asked, and nothing outside the scale section of
//! the wire deployment changes.

mod common;

use common::app::{frozen_config, start_sim};
use common::wire::{accounts_with_v2, changed_paths, derived, raw_deployment};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::form::{Change, Form};
use infertop::app::{ApplyRequest, Msg};
use infertop::model::{Deployment, ScaleUpdate};
use infertop::provider::{self, Provider, http::build_client};
use infertop::sim::{self, SimConfig};
use infertop::sync::Sync;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn in_scale_section(path: &str) -> bool {
    path.contains("/scale/") || path.starts_with("/spec/autoscaling/")
}

#[derive(Debug, Clone)]
struct Edit {
    deployment: usize,
    region: usize,
    field: &'static str,
    value: u32,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        0usize..1000,
        0usize..3,
        prop::sample::select(vec!["min", "max", "cooldown s", "cpu %", "GPU util %"]),
        1u32..=6,
    )
        .prop_map(|(deployment, region, field, value)| Edit { deployment, region, field, value })
}

#[test]
fn random_scale_edits_land_exactly_and_touch_nothing_else() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, accounts, providers, http) = rt.block_on(async {
        let sim = start_sim(SimConfig {
            seed: 11,
            fleet: Some(60),
            // Sesterce PATCHes without modelId are taken (the refusing reading: tests/ambiguities.rs).
            ambiguities: sim::ambiguity::Ambiguities::default()
                .with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps"),
            ..frozen_config()
        })
        .await;
        let accounts = accounts_with_v2(&sim.base_url());
        let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
        let providers: Vec<Arc<dyn Provider>> =
            accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
        (sim, accounts, providers, reqwest::Client::new())
    });
    let base = sim.base_url();
    let fleets: Vec<Vec<Deployment>> = rt.block_on(async {
        let mut v = Vec::new();
        for p in &providers {
            v.push(p.list().await.unwrap());
        }
        v
    });
    let mut runner = TestRunner::new(Config { cases: 40, ..Config::default() });
    let applied = std::cell::Cell::new(0u32);
    runner
        .run(&(0usize..4, edit()), |(account, e)| {
            let fleet = &fleets[account];
            let listed = &fleet[e.deployment % fleet.len()];
            let p = providers[account].clone();
            let d = rt.block_on(p.get(&listed.key.id)).unwrap();
            let region = e.region % d.regions.len().max(1);
            let mut form = Form::scale(&d, account, p.capabilities().per_region_scale, vec![]);
            let Some(fi) = form.sections[region].fields.iter().position(|f| f.label == e.field) else {
                return Err(TestCaseError::reject("field not offered by this provider"));
            };
            form.focus = (region, fi);
            for _ in 0..8 {
                form.handle_edit_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
            }
            for c in e.value.to_string().chars() {
                form.handle_edit_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
            let Some(change) = form.validate() else {
                return Err(TestCaseError::reject("edit not valid for this deployment"));
            };
            let Change::Scale(want) = change.clone() else { unreachable!() };
            if want == ScaleUpdate::from_deployment(&d) {
                return Err(TestCaseError::reject("no change"));
            }
            let raw =
                |d: &Deployment| rt.block_on(raw_deployment(&http, &base, &accounts[account], &d.key.id));
            let before = raw(&d);
            let result = rt.block_on(async {
                let (tx, mut rx) = mpsc::channel(16);
                let sync = Sync::spawn(providers.clone(), tx, Duration::from_secs(3600), None);
                sync.apply(Box::new(ApplyRequest {
                    account,
                    key: d.key.clone(),
                    name: d.name.clone(),
                    change,
                    expected: Box::new(d.clone()),
                    source: None,
                }));
                loop {
                    if let Some(Msg::Applied { result, .. }) = rx.recv().await {
                        return result;
                    }
                }
            });
            let after_dep = match result {
                Ok(a) => a.deployment().clone(),
                Err(e) => return Err(TestCaseError::fail(format!("{} {}: {e:?}", d.key.provider, d.name))),
            };
            let mut got = ScaleUpdate::from_deployment(&after_dep);
            let mut want = want;
            got.regions.sort_by(|a, b| a.region_id.cmp(&b.region_id));
            want.regions.sort_by(|a, b| a.region_id.cmp(&b.region_id));
            prop_assert_eq!(&got, &want, "read-back differs from the edit on {} {}", d.key.provider, d.name);
            let after = raw(&d);
            let mut changed = Vec::new();
            changed_paths(&before, &after, "", &mut changed);
            let outside: Vec<&String> =
                changed.iter().filter(|p| !derived(p) && !in_scale_section(p)).collect();
            prop_assert!(
                outside.is_empty(),
                "{} {}: changed outside the scale section: {:?}",
                d.key.provider,
                d.name,
                outside
            );
            applied.set(applied.get() + 1);
            Ok(())
        })
        .unwrap();
    println!("edits applied: {}", applied.get());
    assert!(applied.get() >= 20, "too few edits were applied: {}", applied.get());
}
