//! The screen tests' fixture: the simulator from a fixed seed and clock, the real clients, every account
//! loaded into a `State`; and the screen as text.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::{AccountState, Effect, Msg, State, update};
use infertop::provider::{self, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Duration;

pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

pub struct Fixture {
    pub _sim: SimHandle,
    pub providers: Vec<Arc<dyn Provider>>,
    pub state: State,
}

pub async fn fixture(w: u16, h: u16) -> Fixture {
    let sim = sim::start(
        SimConfig {
            seed: 7,
            time_scale: 0.0,
            epoch: Some(epoch()),
            // The screens show Run:ai's inference metrics (a control plane of 2.18 or later).
            ambiguities: sim::ambiguity::Ambiguities::default().with(sim::ambiguity::RUNAI_METRICS, "served"),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(20));
    let providers: Vec<Arc<dyn Provider>> = provider::demo_accounts(&sim.base_url())
        .iter()
        .map(|a| provider::connect(a, client.clone()))
        .collect();
    let accounts = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(accounts, Duration::from_secs(5), epoch());
    update(&mut state, Msg::Resize(w, h));
    let mut fx = Fixture { _sim: sim, providers, state };
    for i in 0..fx.providers.len() {
        let result = fx.providers[i].list().await;
        // The prices per replica the header's cost needs are asked for as the sync layer would.
        fx.apply(Msg::Fleet { account: i, at: epoch(), result }).await;
    }
    fx
}

/// The screen as text, one trimmed line per row.
pub fn render(state: &State) -> String {
    let (w, h) = (state.width, state.height);
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| infertop::ui::draw(f, state)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

impl Fixture {
    /// Applies a message and runs the catalog and price effects it asks for (as the sync layer would).
    pub async fn apply(&mut self, msg: Msg) {
        let mut queue = update(&mut self.state, msg);
        while let Some(fx) = queue.pop() {
            let msg = match fx {
                Effect::LoadCatalog(account) => {
                    let result = self.providers[account].catalog().await;
                    Msg::CatalogLoaded { account, at: epoch(), result }
                }
                Effect::Price { account, spec } => {
                    let result = self.providers[account].price(&spec).await;
                    Msg::Priced { account, key: spec.price_key(), result }
                }
                Effect::ReplicaPrice { account, hardware, region, .. } => {
                    let result = self.providers[account].replica_price(&hardware, &region).await;
                    Msg::ReplicaPriced { account, hardware, region, result }
                }
                _ => continue,
            };
            queue.extend(update(&mut self.state, msg));
        }
    }

    pub async fn key(&mut self, c: KeyCode) {
        self.apply(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))).await;
    }

    pub async fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }
}

/// One key into `update`, as the terminal loop sends it; the effects it asks for.
pub fn key(state: &mut State, c: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

pub fn type_str(state: &mut State, s: &str) {
    for c in s.chars() {
        key(state, KeyCode::Char(c));
    }
}

/// Moves the cursor to the row named `name`: to the top with `g`, then down with `j`.
pub fn select(state: &mut State, name: &str) {
    let pos = state.view.iter().position(|&i| state.rows[i].dep.name == name).expect("deployment in view");
    key(state, KeyCode::Char('g'));
    for _ in 0..pos {
        key(state, KeyCode::Char('j'));
    }
    assert_eq!(state.selected_row().unwrap().dep.name, name);
}
