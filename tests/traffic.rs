//! What one fleet refresh costs each provider, as the simulator counts it: the requests a list makes and the
//! most that are in flight at once, which must stay within the account's limit. (The time it takes is
//! measured in `benches/fleet.rs`, not asserted here.)

use infertop::model::ProviderKind;
use infertop::provider::{self, http::build_client};
use infertop::sim::{self, SimConfig};
use std::time::Duration;

#[tokio::test]
async fn one_refresh_costs_a_known_number_of_requests_and_keeps_to_the_limit() {
    let n = 90;
    let config = SimConfig { fleet: Some(n), latency: Duration::from_millis(20), ..SimConfig::default() };
    let h = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let limit = 4;
    let accounts: Vec<_> = provider::demo_accounts(&h.base_url())
        .into_iter()
        .map(|a| provider::AccountSpec { max_in_flight: limit, ..a })
        .collect();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    let providers: Vec<_> = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();

    // The first list also fetches catalogs and a token; count the second one.
    for p in &providers {
        assert_eq!(p.list().await.unwrap().len(), n / 3);
    }
    h.state.traffic.reset_peaks();
    let before = ProviderKind::ALL.map(|k| h.state.traffic.of(k).requests);
    let lists = futures::future::join_all(providers.iter().map(|p| p.list())).await;
    for (p, l) in providers.iter().zip(lists) {
        let l = l.unwrap();
        assert_eq!(l.len(), n / 3, "{}", p.account());
        assert!(l.iter().all(|d| !d.regions.is_empty()), "{}: every record is a full one", p.account());
    }
    for (i, k) in ProviderKind::ALL.iter().enumerate() {
        let t = h.state.traffic.of(*k);
        let made = t.requests - before[i];
        let expected = match k {
            // One page holds the whole list.
            ProviderKind::Gcore => 1,
            // The list, then one details read per instance.
            ProviderKind::Sesterce => 1 + n as u64 / 3,
            // One page of up to 200 workloads.
            ProviderKind::Runai => 1,
        };
        assert_eq!(made, expected, "{k}: requests in one refresh");
        assert!(t.peak_in_flight <= limit as u64, "{k}: {} in flight, limit {limit}", t.peak_in_flight);
    }
    // The details reads really overlap (up to the limit), rather than going one by one.
    assert!(h.state.traffic.of(ProviderKind::Sesterce).peak_in_flight >= 2);
}
