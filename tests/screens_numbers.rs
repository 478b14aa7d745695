//! Columns never cut a number (issue 22): a Run:ai control plane whose workload has 1150 of 1200 pods running,
//! scales between 1000 and 1200 and was created 21,770 days ago, read through the real client, drawn with
//! `TestBackend`. READY, MIN..MAX and AGE widen to their values (NAME and STATUS give up room first); where the
//! screen is too narrow even so, a value ends in `…`. `1150/1200` never shows as `1150/12`, nor `21770d` as `2177`.

mod common;

use axum::Router;
use axum::routing::{get, post};
use common::screen::{epoch, key, render};
use crossterm::event::KeyCode;
use infertop::app::{AccountState, Msg, State, update};
use infertop::model::ProviderKind;
use infertop::provider::http::build_client;
use infertop::provider::{self, demo_accounts};
use std::time::Duration;

/// A Run:ai control plane serving one inference workload with large numbers.
async fn control_plane() -> String {
    let created = (epoch() - chrono::Duration::days(21_770)).to_rfc3339();
    let workloads = serde_json::json!({"workloads": [{
        "id": "w-big", "name": "big-fleet", "type": "Inference", "clusterId": "c-1", "projectId": "1",
        "createdAt": created, "phase": "Running", "runningPods": 1150,
        "requestedPods": {"number": 1200, "min": 1000, "max": 1200},
    }]});
    let app = Router::new()
        .route(
            "/api/v2/token",
            post(|| async {
                axum::Json(
                    serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}),
                )
            }),
        )
        .route("/api/v1/workloads", get(move || async move { axum::Json(workloads.clone()) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn state_at(url: &str, w: u16, h: u16) -> State {
    let spec = demo_accounts(url).into_iter().find(|a| a.kind == ProviderKind::Runai).unwrap();
    let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(20)));
    let mut state = State::new(vec![AccountState::of(p.as_ref())], Duration::from_secs(5), epoch());
    update(&mut state, Msg::Resize(w, h));
    let result = p.list().await;
    assert_eq!(result.as_ref().map(Vec::len), Ok(1), "{result:?}");
    update(&mut state, Msg::Fleet { account: 0, at: epoch(), result });
    state
}

/// Every word of `screen` that starts like `whole` (its first `start` characters, or a start of it ending in
/// `…`) is `whole`, or a start of it ending in `…`; and one such word shows.
fn never_cut(screen: &str, whole: &str, start: &str) {
    let marked = |w: &str| w.strip_suffix('…').is_some_and(|cut| !cut.is_empty() && whole.starts_with(cut));
    let words: Vec<&str> = screen
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| w.starts_with(start) || marked(w))
        .collect();
    assert!(!words.is_empty(), "{whole} is shown:\n{screen}");
    for w in words {
        assert!(w == whole || marked(w), "{whole} shown as {w:?}:\n{screen}");
    }
}

#[tokio::test]
async fn numbers_widen_their_columns_or_end_in_an_ellipsis() {
    let url = control_plane().await;
    for (w, h) in [(80, 24), (160, 48), (60, 24), (44, 24)] {
        let mut state = state_at(&url, w, h).await;
        let table = render(&state);
        never_cut(&table, "1150/1200", "1150/");
        never_cut(&table, "21770d", "2177");
        // The regions pane, focused (at 80 wide it shows only then).
        key(&mut state, KeyCode::Tab);
        let regions = render(&state);
        never_cut(&regions, "1150/1200", "1150/");
        never_cut(&regions, "1000..1200", "1000.");
        if w >= 60 {
            // Room enough, once NAME and STATUS gave theirs: the whole values.
            for v in ["1150/1200", "21770d"] {
                assert!(table.contains(v), "{w}x{h}: {v}:\n{table}");
            }
            assert!(regions.contains("1000..1200"), "{w}x{h}:\n{regions}");
        }
    }
}
