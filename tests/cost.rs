//! The cost of the fleet and of a change, through the real `Sync` path against the simulator over loopback.
//! Expected figures come from the simulator's own pricing answers, asked here over raw HTTP, never from
//! numbers written into the test; each test runs under every reading of the `pricing-preview` switch.

mod common;

use chrono::{TimeZone, Utc};
use common::app::{Driver, driver};
use common::wire::{accounts_with_v2, raw_deployment};
use crossterm::event::KeyCode;
use infertop::app::cost::{Figure, review_changes};
use infertop::app::form::Stage;
use infertop::model::ProviderKind;
use infertop::provider::AccountSpec;
use infertop::sim::ambiguity::{Ambiguities, PRICING_PREVIEW, every_reading_of};
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::collections::BTreeMap;

async fn sim_under(a: Ambiguities) -> (SimHandle, Vec<AccountSpec>) {
    let sim = sim::start(
        SimConfig {
            seed: 1,
            time_scale: 0.0,
            epoch: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
            ambiguities: a,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let accounts = accounts_with_v2(&sim.base_url());
    (sim, accounts)
}

/// The simulator's pricing preview for `max` replicas of `hardware` in `region`, asked over raw HTTP:
/// `(currency, price per hour)`.
async fn preview(
    http: &reqwest::Client,
    base: &str,
    kind: ProviderKind,
    hardware: &str,
    region: &Value,
    max: u64,
) -> (String, f64) {
    let resp = match kind {
        ProviderKind::Gcore => http
            .post(format!("{base}/cloud/v2/pricing/inference/deployments"))
            .header("Authorization", "APIKey demo-gcore-key")
            .json(&json!({"flavor_name": hardware, "containers": [{"region_id": region, "scale": {"max": max}}]})),
        ProviderKind::Sesterce => http
            .post(format!("{base}/ai-inference/instances/pricing"))
            .header("x-api-key", "demo-sesterce-key")
            .json(&json!({"hardwareId": hardware, "autoScalingConfigurations": [{"regionId": region, "scale": {"max": max}}]})),
        ProviderKind::Runai => unreachable!("Run:ai has no pricing"),
    }
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_success(), "pricing preview {}", resp.status());
    let v: Value = resp.json().await.unwrap();
    match kind {
        ProviderKind::Gcore => {
            (v["currency_code"].as_str().unwrap().to_string(), v["price_per_hour"].as_f64().unwrap())
        }
        _ => (v["currencyCode"].as_str().unwrap().to_string(), v["pricePerHour"].as_f64().unwrap()),
    }
}

/// `(hardware, [(region, running replicas, min, max)])` of a deployment, from its raw wire JSON.
fn placement(kind: ProviderKind, raw: &Value) -> (String, Vec<(Value, u64, u64, u64)>) {
    let (hw, region, status) = match kind {
        ProviderKind::Gcore => ("flavor_name", "region_id", "deploy_status"),
        _ => ("hardwareId", "regionId", "deployStatus"),
    };
    let regions = raw["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[region].clone(),
                c[status]["total"].as_u64().unwrap(),
                c["scale"]["min"].as_u64().unwrap(),
                c["scale"]["max"].as_u64().unwrap(),
            )
        })
        .collect();
    (raw[hw].as_str().unwrap().to_string(), regions)
}

/// Waits until every Sesterce row has its details and no price is still being asked for.
async fn priced(d: &mut Driver) {
    d.wait("details and prices", |s| {
        s.rows.iter().all(|r| s.accounts[r.account].kind != ProviderKind::Sesterce || s.snapshot(r).detail)
            && s.cost.fleet.asking == 0
            && s.cost.fleet.priced > 0
    })
    .await;
}

#[tokio::test]
async fn the_header_total_is_running_replicas_times_the_simulators_price_per_replica() {
    for reading in every_reading_of(&[PRICING_PREVIEW]) {
        let per_replica = reading.is(PRICING_PREVIEW, "per-replica");
        let (sim, accounts) = sim_under(reading.clone()).await;
        let base = sim.base_url();
        let http = reqwest::Client::new();
        let mut d = driver("cost-header", &accounts).await;
        priced(&mut d).await;

        let mut want: BTreeMap<String, f64> = BTreeMap::new();
        let mut want_unpriced = 0;
        let rows: Vec<(usize, String)> =
            d.state.rows.iter().map(|r| (r.account, r.dep.key.id.clone())).collect();
        for (account, id) in rows {
            let kind = accounts[account].kind;
            // Run:ai has no price.
            if kind == ProviderKind::Runai {
                want_unpriced += 1;
                continue;
            }
            let mut raw = raw_deployment(&http, &base, &accounts[account], &id).await;
            if let Some(flavor_id) = raw["flavor_id"].as_str() {
                // The legacy v2 API names its flavor by uuid: the preview takes the flavor's name.
                let flavor: Value = http
                    .get(format!("{base}/cloud/v2/inference/flavors/{flavor_id}"))
                    .header("Authorization", "APIKey demo-gcore-key")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                raw["flavor_name"] = flavor["name"].clone();
            }
            let (hw, regions) = placement(kind, &raw);
            for (region, running, _, _) in regions {
                if running == 0 {
                    continue;
                }
                // Priced as the simulator prices `running` replicas: under "at-max" that is the answer itself,
                // under "per-replica" the answer is one replica's price.
                let (currency, p) = preview(&http, &base, kind, &hw, &region, running).await;
                *want.entry(currency).or_default() += if per_replica { p * running as f64 } else { p };
            }
        }
        let got = &d.state.cost.fleet;
        assert_eq!(got.unpriced, want_unpriced, "unpriced under {reading}");
        assert_eq!(got.per_hour.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "currencies");
        for (c, w) in &want {
            let g = got.per_hour[c];
            assert!((g - w).abs() < 0.01, "{c}: header {g} vs simulator {w} under {reading}");
        }
        assert!(want.values().all(|v| *v > 0.0), "the fleet runs priced replicas: {want:?}");
        let header: String =
            infertop::ui::cost::header_spans(&d.state, 200).iter().map(|s| s.content.to_string()).collect();
        for (c, w) in &want {
            assert!(header.contains(&format!("{w:.2} {c}/h")), "{header}");
        }
        assert!(header.contains(&format!("{want_unpriced} deployments unpriced")), "{header}");
    }
}

/// Opens the scale form of `name`, raises every region's min by 1 and max by 2, and goes to the review.
async fn review_raise(d: &mut Driver, account: usize, name: &str) {
    d.select(account, name).await;
    d.key(KeyCode::Char('s'));
    let sections = d.form().sections.len();
    for i in 0..sections {
        let (min, max) = {
            let s = &d.form().base.regions[i].scale;
            (s.min, s.max)
        };
        d.set(i, "max", &(max + 2).to_string());
        d.set(i, "min", &(min + 1).to_string());
    }
    d.key(KeyCode::Enter);
    assert!(matches!(d.stage(), Stage::Confirm(_)), "review open: {:?}", d.stage());
    d.wait("the review's prices", |s| {
        review_changes(s).iter().all(|c| c.at_min() != Figure::Asking && c.at_max() != Figure::Asking)
    })
    .await;
}

#[tokio::test]
async fn a_scale_review_shows_new_minus_old_times_the_price_per_replica() {
    for reading in every_reading_of(&[PRICING_PREVIEW]) {
        let (sim, accounts) = sim_under(reading.clone()).await;
        let base = sim.base_url();
        let http = reqwest::Client::new();
        let mut d = driver("cost-review", &accounts).await;
        for (account, name) in [(0, "sdxl-turbo-images"), (1, "deepseek-r1-distill")] {
            review_raise(&mut d, account, name).await;
            let kind = accounts[account].kind;
            let id = d.form().key.id.clone();
            let raw = raw_deployment(&http, &base, &accounts[account], &id).await;
            let (hw, regions) = placement(kind, &raw);
            assert!(regions.len() >= 2, "{name} runs in several regions");
            let (mut dmin, mut dmax, mut old_min, mut currency) = (0.0, 0.0, 0.0, String::new());
            for (region, _, min, _) in &regions {
                // One replica's price: the preview for max 1 gives it under every reading.
                let (c, unit) = preview(&http, &base, kind, &hw, region, 1).await;
                currency = c;
                dmin += unit; // min + 1
                dmax += 2.0 * unit; // max + 2
                old_min += unit * *min as f64;
            }
            let changes = review_changes(&d.state);
            assert_eq!(changes.len(), 1);
            let (at_min, at_max) = (changes[0].at_min(), changes[0].at_max());
            assert!((at_min.delta().unwrap() - dmin).abs() < 1e-6, "{name} at min: {at_min:?} vs +{dmin}");
            assert!((at_max.delta().unwrap() - dmax).abs() < 1e-6, "{name} at max: {at_max:?} vs +{dmax}");
            match &at_min {
                Figure::Known { currency: c, old, .. } => {
                    assert_eq!(c, &currency);
                    assert!((old - old_min).abs() < 1e-6, "{name} today at min {old} vs {old_min}");
                }
                other => panic!("{name}: {other:?}"),
            }
            // Nothing is sent: the review is left with `n`, then the form with Esc.
            d.key(KeyCode::Char('n'));
            d.key(KeyCode::Esc);
            d.key(KeyCode::Esc);
        }
        // Run:ai gives no price: the review says "unknown", never a figure.
        review_raise(&mut d, 2, "nim-llama-3-8b").await;
        let changes = review_changes(&d.state);
        assert!(
            matches!(&changes[0].at_max(), Figure::Unknown(w) if w.contains("runai gives no price")),
            "{changes:?}"
        );
        let lines: Vec<String> = infertop::ui::cost::lines(&changes, &d.state.theme)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.to_string()).collect())
            .collect();
        assert!(lines.iter().any(|l| l.contains("unknown (runai gives no price)")), "{lines:?}");
    }
}

/// Pricing previews the simulator has served.
async fn pricing_requests(http: &reqwest::Client, base: &str) -> usize {
    let log: Vec<String> =
        http.get(format!("{base}/_sim/requests")).send().await.unwrap().json().await.unwrap();
    log.iter().filter(|l| l.starts_with("POST ") && l.contains("/pricing")).count()
}

#[tokio::test]
async fn a_price_is_asked_once_per_hardware_and_region_however_often_the_fleet_refreshes() {
    let (sim, accounts) = sim_under(Ambiguities::default()).await;
    let http = reqwest::Client::new();
    let mut d = driver("cost-once", &accounts).await;
    priced(&mut d).await;
    // Several more refreshes of every account (every 300 ms) and details reads.
    d.pump(1500).await;
    let mut pairs = std::collections::HashSet::new();
    let mut placements = 0;
    for r in &d.state.rows {
        let dep = d.state.snapshot(r);
        // Gcore v3, v2 and Sesterce ask; Run:ai has no pricing.
        if d.state.accounts[r.account].kind == ProviderKind::Runai {
            continue;
        }
        for g in &dep.regions {
            placements += 1;
            pairs.insert((r.account, dep.hardware.clone().unwrap(), g.region_id.clone()));
        }
    }
    assert!(pairs.len() < placements, "deployments share hardware and regions: {} pairs", pairs.len());
    assert_eq!(pricing_requests(&http, &sim.base_url()).await, pairs.len(), "one ask per pair: {pairs:?}");
}

#[tokio::test]
async fn a_missing_pricing_endpoint_leaves_the_cost_unknown_without_a_toast() {
    use common::proxy::{Proxy, WriteAnswer};
    let (sim, _) = sim_under(Ambiguities::default()).await;
    let proxy = Proxy::start_with(
        sim.base_url(),
        std::sync::Arc::new(|_: &str, _: &str, _: &mut Value| {}),
        WriteAnswer::NoPricing,
    )
    .await;
    let accounts = infertop::provider::demo_accounts(&proxy.base);
    let mut d = driver("cost-missing", &accounts).await;
    d.wait("details and price answers", |s| {
        s.rows.iter().all(|r| s.accounts[r.account].kind != ProviderKind::Sesterce || s.snapshot(r).detail)
            && s.cost.fleet.asking == 0
    })
    .await;
    d.pump(900).await;
    let fleet = d.state.cost.fleet.clone();
    assert!(fleet.per_hour.is_empty(), "no figure without a price: {fleet:?}");
    assert_eq!(fleet.unpriced, d.state.rows.len());
    assert!(!d.said().to_lowercase().contains("pric"), "no toast about prices: {}", d.said());
    let header: String =
        infertop::ui::cost::header_spans(&d.state, 200).iter().map(|s| s.content.to_string()).collect();
    assert!(header.contains("cost unknown"), "{header}");
    assert!(header.contains(&format!("{} deployments unpriced", d.state.rows.len())), "{header}");
    review_raise(&mut d, 0, "sdxl-turbo-images").await;
    let changes = review_changes(&d.state);
    assert!(matches!(&changes[0].at_max(), Figure::Unknown(w) if w.contains("failed (404)")), "{changes:?}");
}
