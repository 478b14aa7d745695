//! The COST/H column and `:sort price` use the same prices as the header's sum: every provider that has
//! prices (Gcore in EUR, Sesterce in USD), unknown ones last, never a guess.

mod common;

use common::screen::{fixture, render};
use crossterm::event::KeyCode;
use infertop::model::ProviderKind;

#[tokio::test]
async fn every_priced_row_shows_its_cost_and_sort_price_orders_them_all() {
    let mut fx = fixture(200, 50).await;
    let screen = render(&fx.state);
    assert!(screen.contains("COST/H"), "{screen}");
    let line = |name: &str| screen.lines().find(|l| l.contains(name)).unwrap_or("").to_string();
    // A Gcore row is priced in EUR, a Sesterce row in USD, a Run:ai row has none.
    assert!(line("bge-m3-embed").contains(" EUR"), "{}", line("bge-m3-embed"));
    assert!(line("llama-3-8b-chat").contains(" USD"), "{}", line("llama-3-8b-chat"));
    fx.key(KeyCode::Char(':')).await;
    fx.type_str("sort price").await;
    fx.key(KeyCode::Enter).await;
    let st = &fx.state;
    let costs: Vec<(ProviderKind, Option<f64>)> = st
        .view
        .iter()
        .map(|&i| {
            let r = &st.rows[i];
            let c = infertop::app::cost::deployment_cost(st, r.account, st.snapshot(r)).map(|(_, v)| v);
            (r.dep.key.provider, c)
        })
        .collect();
    let priced: Vec<f64> = costs.iter().filter_map(|(_, c)| *c).collect();
    assert!(priced.len() >= 5, "{costs:?}");
    assert!(priced.windows(2).all(|w| w[0] <= w[1]), "not by cost: {costs:?}");
    let first_unknown = costs.iter().position(|(_, c)| c.is_none()).unwrap_or(costs.len());
    assert!(costs[first_unknown..].iter().all(|(_, c)| c.is_none()), "unknown costs last: {costs:?}");
    assert!(costs[..first_unknown].iter().any(|(p, _)| *p == ProviderKind::Gcore), "{costs:?}");
    assert!(costs[..first_unknown].iter().any(|(p, _)| *p == ProviderKind::Sesterce), "{costs:?}");
    assert!(costs[first_unknown..].iter().any(|(p, _)| *p == ProviderKind::Runai), "{costs:?}");
}

/// `snapshot --json` prices every row as the dashboard does: each Gcore and Sesterce deployment's cost per hour
/// with its currency (the same figure as the COST/H column), Run:ai's null with the reason, and the fleet's sum by
/// currency with the unpriced counted, as the header shows it (issue 23 item 5).
#[tokio::test]
async fn snapshot_json_prices_every_row_with_its_currency_as_the_dashboard_does() {
    let fx = fixture(200, 50).await;
    let home = common::temp::TempDir::new("prices", "snapshot");
    let config = home.join("config.toml");
    std::fs::write(&config, common::tmux::sim_accounts_config(&fx._sim.base_url(), "PRICES")).unwrap();
    // Awaited, not blocking: the simulator answers on this test's runtime.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_infertop"))
        .args(["snapshot", "--json", "--config"])
        .arg(&config)
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .envs(common::tmux::sim_credentials("PRICES"))
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let st = &fx.state;
    let mut checked = 0;
    for d in v["deployments"].as_array().unwrap() {
        let name = d["name"].as_str().unwrap();
        let row = st
            .rows
            .iter()
            .find(|r| r.dep.name == name && r.dep.key.provider.label() == d["provider"])
            .unwrap();
        match infertop::app::cost::deployment_cost(st, row.account, st.snapshot(row)) {
            Some((currency, amount)) => {
                assert_eq!(d["cost_per_hour"]["currency"], currency.as_str(), "{d}");
                assert!((d["cost_per_hour"]["amount"].as_f64().unwrap() - amount).abs() < 0.006, "{d}");
                assert_eq!(d["cost_unknown"], serde_json::Value::Null, "{d}");
                checked += 1;
            }
            None => {
                assert_eq!(d["cost_per_hour"], serde_json::Value::Null, "{d}");
                assert!(d["cost_unknown"].as_str().is_some_and(|r| !r.is_empty()), "a reason: {d}");
            }
        }
    }
    assert!(checked >= 15, "Gcore and Sesterce rows are priced: {checked}");
    let fleet = &st.cost.fleet;
    for (currency, sum) in &fleet.per_hour {
        assert!((v["cost_per_hour"][currency].as_f64().unwrap() - sum).abs() < 0.006, "{currency}: {v}");
    }
    assert_eq!(v["unpriced"].as_u64().unwrap() as usize, fleet.unpriced, "{}", v["unpriced"]);
}
