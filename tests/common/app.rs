//! The dashboard driven as the terminal loop drives it: keys into `update`, effects to the real `Sync`,
//! messages back into `update`. Writes can be held back so a test can look at (or replace) the request.

#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::form::{Form, Stage};
use infertop::app::state::Mode;
use infertop::app::{AccountState, ApplyRequest, Effect, Msg, State, update};
use infertop::provider::{self, AccountSpec, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle, ambiguity::Ambiguities};
use infertop::sync::{Sync, audit::AuditLog};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub struct Driver {
    pub providers: Vec<Arc<dyn Provider>>,
    pub state: State,
    pub sync: Sync,
    rx: mpsc::Receiver<Msg>,
    pub audit: PathBuf,
    /// When set, writes are kept here instead of being sent.
    pub hold_writes: bool,
    pub held: Vec<ApplyRequest>,
    /// Editor sessions asked for (the terminal loop would run them): see `tests/editor.rs`.
    pub editor_jobs: Vec<infertop::app::editor::EditorJob>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.audit);
    }
}

/// The tests' simulator settings: seed 1, its clock frozen at [`super::screen::epoch`] (time moves only when
/// a test advances it).
pub fn frozen_config() -> SimConfig {
    SimConfig { seed: 1, time_scale: 0.0, epoch: Some(super::screen::epoch()), ..SimConfig::default() }
}

/// A simulator on loopback with `config`.
pub async fn start_sim(config: SimConfig) -> SimHandle {
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// A frozen simulator ([`frozen_config`]) reading the documents' ambiguities as `ambiguities` says.
pub async fn frozen_sim(ambiguities: Ambiguities) -> SimHandle {
    start_sim(SimConfig { ambiguities, ..frozen_config() }).await
}

/// A dashboard on `accounts` with an audit file of its own.
pub async fn driver(tag: &str, accounts: &[AccountSpec]) -> Driver {
    driver_with_timeout(tag, accounts, Duration::from_secs(30)).await
}

/// [`driver`] whose requests give up after `timeout`.
pub async fn driver_with_timeout(tag: &str, accounts: &[AccountSpec], timeout: Duration) -> Driver {
    let client = build_client(Duration::from_secs(5), timeout);
    let providers: Vec<Arc<dyn Provider>> =
        accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    let state = State::new(
        providers.iter().map(|p| AccountState::of(p.as_ref())).collect(),
        Duration::from_millis(300),
        chrono::Utc::now(),
    );
    let (tx, rx) = mpsc::channel(256);
    let audit = std::env::temp_dir().join(format!("infertop-{tag}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&audit);
    let sync =
        Sync::spawn(providers.clone(), tx, Duration::from_millis(300), Some(AuditLog::new(audit.clone())));
    let mut d = Driver {
        providers,
        state,
        sync,
        rx,
        audit,
        hold_writes: false,
        held: Vec::new(),
        editor_jobs: Vec::new(),
    };
    d.send(Msg::Resize(160, 48));
    d.wait("every account listed", |s| s.accounts.iter().all(|a| a.last_ok.is_some())).await;
    d
}

impl Driver {
    /// `tui::apply`, except that writes may be held.
    pub fn send(&mut self, msg: Msg) {
        self.state.now = chrono::Utc::now();
        for fx in update(&mut self.state, msg) {
            match fx {
                Effect::Apply(req) if self.hold_writes => self.held.push(*req),
                Effect::Refresh(account) => self.sync.refresh(account),
                Effect::Watch(w) => self.sync.watch(w),
                Effect::Eyes(keys) => self.sync.eyes(keys),
                Effect::ReadDetails(keys) => self.sync.read_details(keys),
                Effect::Apply(req) => self.sync.apply(req),
                Effect::Lifecycle(req) => self.sync.lifecycle(req),
                Effect::LoadCatalog(account) => self.sync.load_catalog(account),
                Effect::Price { account, spec } => self.sync.price(account, spec),
                Effect::ReplicaPrice { account, hardware, region, user } => {
                    self.sync.replica_price(account, hardware, region, user)
                }
                Effect::Create { account, spec } => self.sync.create(account, spec),
                Effect::Editor(job) => self.editor_jobs.push(*job),
                Effect::Quit => self.state.quit = true,
            }
        }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Feeds messages from the sync layer until `cond` holds (bounded wait).
    pub async fn wait(&mut self, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !cond(&self.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => self.send(m),
                _ => panic!("timed out waiting for: {what}"),
            }
        }
    }

    /// The first (by name) deployment of `account` that is ok and for which `also` holds, selected with its
    /// details. Ok only once read: a Sesterce list entry is a summary whose health is unknown until its details
    /// come, so this waits for the sweep to read one rather than taking the table as the list left it.
    pub async fn pick_running(
        &mut self,
        account: usize,
        also: impl Fn(&State, &infertop::app::state::Row) -> bool,
    ) -> String {
        let ok = |s: &State, r: &infertop::app::state::Row| {
            r.account == account && r.dep.health() == infertop::model::Health::Ok && also(s, r)
        };
        self.wait("a running deployment read", |s| s.rows.iter().any(|r| ok(s, r))).await;
        let name = self.state.rows.iter().filter(|r| ok(&self.state, r)).map(|r| r.dep.name.clone()).min();
        let name = name.expect("a running deployment");
        self.select(account, &name).await;
        name
    }

    /// Feeds whatever the sync layer sends for `ms` milliseconds.
    pub async fn pump(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(m)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.send(m);
        }
    }

    /// Filters the table by `name` and selects its row on `account`, with its details loaded.
    pub async fn select(&mut self, account: usize, name: &str) {
        self.key(KeyCode::Char('/'));
        let account_name = self.state.accounts[account].name.clone();
        self.type_str(&format!(" {account_name} {name} "));
        self.key(KeyCode::Enter);
        for _ in 0..8 {
            match self.state.selected_row() {
                Some(r) if r.account == account && r.dep.name == name => break,
                _ => self.key(KeyCode::Char('j')),
            }
        }
        let row = self.state.selected_row().expect("a selected row");
        assert_eq!((row.account, row.dep.name.as_str()), (account, name), "selected");
        let key = row.dep.key.clone();
        self.wait("the details", |s| s.details.get(&key).is_some_and(|c| c.detail.is_some())).await;
    }

    pub fn form(&self) -> &Form {
        match &self.state.mode {
            Mode::Form(f) => f,
            other => panic!("not in a form: {other:?}"),
        }
    }

    pub fn stage(&self) -> Stage {
        self.form().stage.clone()
    }

    /// Tabs to a field of a section and replaces its text.
    pub fn set(&mut self, section: usize, label: &str, value: &str) {
        for _ in 0..200 {
            let f = self.form();
            if f.focus.0 == section && f.focused().is_some_and(|x| x.label == label) {
                for _ in 0..24 {
                    self.key(KeyCode::Backspace);
                }
                self.type_str(value);
                assert_eq!(self.form().focused().unwrap().input.value(), value, "field {label}");
                return;
            }
            self.key(KeyCode::Tab);
        }
        panic!("no field {label} in section {section}");
    }

    /// Tabs to a choice field of a section and moves it to its next value.
    pub fn form_toggle(&mut self, section: usize, label: &str) {
        for _ in 0..200 {
            let f = self.form();
            if f.focus.0 == section && f.focused().is_some_and(|x| x.label == label) {
                self.key(KeyCode::Char(' '));
                return;
            }
            self.key(KeyCode::Tab);
        }
        panic!("no field {label} in section {section}");
    }

    pub fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The one audit line of an edit of `name`.
    pub fn audit_edit(&self, name: &str) -> Value {
        let lines: Vec<Value> =
            self.audit_lines().into_iter().filter(|l| l["deployment"]["name"] == name).collect();
        assert_eq!(lines.len(), 1, "one audit line for {name}: {lines:?}");
        lines.into_iter().next().unwrap()
    }

    /// Everything the user can read of the outcome: the flash and the toasts.
    pub fn said(&self) -> String {
        let mut s = self.state.flash.clone().unwrap_or_default();
        for t in &self.state.toasts {
            s.push('\n');
            s.push_str(&t.message);
        }
        s
    }
}
