//! Lists go through a connection pool of their own (`http::Clients`): hyper keeps each pooled connection's
//! read buffer at the size of the largest body it read, so the details reads' many connections must never
//! carry a list. Each pool here adds its own header, and the simulator's router records which one every
//! request came through.

use infertop::model::ProviderKind;
use infertop::provider::http::{Clients, RetryPolicy};
use infertop::provider::{self, demo_accounts};
use infertop::sim::{self, SimConfig, SimInner};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn pool(name: &'static str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-test-pool", name.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// The simulator, recording each request's path and the pool it came through.
async fn recording_sim() -> (String, Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let state = SimInner::new(SimConfig { time_scale: 0.0, fleet: Some(40), ..Default::default() });
    let log = seen.clone();
    let app = sim::router(state).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let log = log.clone();
            async move {
                let pool = req.headers().get("x-test-pool").and_then(|v| v.to_str().ok()).unwrap_or("none");
                log.lock().unwrap().push((req.uri().path().to_string(), pool.to_string()));
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen, task)
}

#[tokio::test]
async fn lists_go_through_their_own_pool_and_everything_else_through_the_other() {
    let (base, seen, task) = recording_sim().await;
    let clients = Clients { small: pool("small"), lists: pool("lists") };
    let mut list_paths = Vec::new();
    for mut spec in demo_accounts(&base) {
        spec.retry = RetryPolicy::none();
        let p = provider::connect(&spec, clients.clone());
        let first = match spec.kind {
            ProviderKind::Sesterce => {
                let listed = p.list_summaries().await.expect("Sesterce lists summaries").unwrap();
                listed.items.into_iter().next().unwrap().dep
            }
            _ => p.list().await.unwrap().into_iter().next().unwrap(),
        };
        p.get(&first.key.id).await.unwrap();
        list_paths.push(match spec.kind {
            ProviderKind::Gcore => format!("/cloud/v3/inference/{}/deployments", sim::DEMO_GCORE_PROJECT),
            ProviderKind::Sesterce => "/ai-inference/instances".to_string(),
            ProviderKind::Runai => "/api/v1/workloads".to_string(),
        });
    }
    let seen = seen.lock().unwrap().clone();
    for list in &list_paths {
        let through: Vec<&str> =
            seen.iter().filter(|(p, _)| p == list).map(|(_, pool)| pool.as_str()).collect();
        assert!(!through.is_empty(), "{list} was never asked");
        assert!(through.iter().all(|p| *p == "lists"), "{list}: {through:?}");
    }
    // A details read (a path under a list's path) and everything that is not a list: the small pool.
    let details: Vec<_> =
        seen.iter().filter(|(p, _)| list_paths.iter().any(|l| p.starts_with(&format!("{l}/")))).collect();
    assert!(details.len() >= 3, "{seen:?}");
    assert!(details.iter().all(|(_, pool)| pool == "small"), "{details:?}");
    assert!(seen.iter().all(|(_, pool)| pool != "none"), "{seen:?}");
    task.abort();
}

/// One `reqwest::Client` is both pools: tests and tools that pass one keep working as before.
#[tokio::test]
async fn one_client_serves_as_both_pools() {
    let (base, seen, task) = recording_sim().await;
    let spec = demo_accounts(&base).into_iter().find(|a| a.kind == ProviderKind::Gcore).unwrap();
    let p = provider::connect(&spec, pool("one"));
    let first = p.list().await.unwrap().into_iter().next().unwrap();
    p.get(&first.key.id).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2 && seen.iter().all(|(_, pool)| pool == "one"), "{seen:?}");
    task.abort();
}
