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
