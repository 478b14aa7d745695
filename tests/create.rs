//! Create on each provider through the same code the form uses: keys into `update` (`:catalog`, `c`, typing,
//! Enter, `y`), effects to the real `Sync` (catalog, price, create, audit), messages back into `update`, as
//! the terminal loop does (`tui::apply`). Then the new deployment is found in the provider's `list()` with the
//! requested regions and scale, selected in the table, and recorded in the audit file.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::cost::{Figure, review_changes};
use infertop::app::create::CStage;
use infertop::app::state::Mode;
use infertop::app::{AccountState, Msg, State};
use infertop::model::ProviderKind;
use infertop::provider::{self, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle};
use infertop::sync::{Sync, audit::AuditLog};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Driver {
    _sim: SimHandle,
    providers: Vec<Arc<dyn Provider>>,
    state: State,
    sync: Sync,
    rx: mpsc::Receiver<Msg>,
    audit: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.audit);
    }
}

async fn driver(tag: &str) -> Driver {
    let sim = sim::start(
        SimConfig {
            seed: 11,
            time_scale: 0.0,
            epoch: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
    let providers: Vec<Arc<dyn Provider>> = provider::demo_accounts(&sim.base_url())
        .iter()
        .map(|a| provider::connect(a, client.clone()))
        .collect();
    let accounts = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let state = State::new(accounts, Duration::from_millis(300), Utc::now());
    let (tx, rx) = mpsc::channel(256);
    let audit = std::env::temp_dir().join(format!("infertop-create-{tag}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&audit);
    let sync =
        Sync::spawn(providers.clone(), tx, Duration::from_millis(300), Some(AuditLog::new(audit.clone())));
    let mut d = Driver { _sim: sim, providers, state, sync, rx, audit };
    d.apply(Msg::Resize(160, 48));
    d.wait("every account listed", |s| s.accounts.iter().all(|a| a.last_ok.is_some())).await;
    d
}

impl Driver {
    fn apply(&mut self, msg: Msg) {
        infertop::tui::apply(&mut self.state, &self.sync, msg);
    }

    fn key(&mut self, code: KeyCode) {
        self.apply(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn ctrl(&mut self, c: char) {
        self.apply(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    }

    fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Feeds messages from the sync layer until `cond` holds (bounded wait).
    async fn wait(&mut self, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !cond(&self.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => self.apply(m),
                _ => panic!("timed out waiting for: {what}"),
            }
        }
    }

    fn form(&self) -> &infertop::app::create::CreateForm {
        match &self.state.mode {
            Mode::Create(f) => f,
            other => panic!("not in the create form: {other:?}"),
        }
    }

    /// Tabs to the field at `path` and replaces its text.
    fn set(&mut self, path: &str, value: &str) {
        self.focus(path);
        self.ctrl('u');
        self.type_str(value);
        assert_eq!(self.form().value(path), value, "field {path}");
    }

    fn focus(&mut self, path: &str) {
        for _ in 0..80 {
            if self.form().focused().map(|f| f.path.as_str()) == Some(path) {
                return;
            }
            self.key(KeyCode::Tab);
        }
        panic!("no field {path}");
    }

    fn account(&self, name: &str) -> usize {
        self.state.accounts.iter().position(|a| a.name == name).unwrap()
    }

    /// `:catalog NAME`, wait for it, `c`: the create form on that account.
    async fn open_form(&mut self, name: &str) {
        self.key(KeyCode::Char(':'));
        self.type_str(&format!("catalog {name}"));
        self.key(KeyCode::Enter);
        let a = self.account(name);
        assert!(matches!(self.state.mode, Mode::Catalog(_)));
        self.wait("catalog", |s| s.catalogs.loaded(a).is_some()).await;
        self.key(KeyCode::Char('c'));
        assert_eq!(self.form().account, a);
    }

    /// Enter (review), wait for the price, `y`, wait for the outcome.
    async fn review_and_create(&mut self) {
        self.key(KeyCode::Enter);
        assert!(
            matches!(self.form().stage, CStage::Review(_)),
            "review: {:?}",
            self.form().fields.iter().filter_map(|f| f.error.clone()).collect::<Vec<_>>()
        );
        self.wait("price", |s| review_changes(s).iter().all(|c| c.at_max() != Figure::Asking)).await;
        self.key(KeyCode::Char('y'));
        assert!(matches!(self.form().stage, CStage::Creating));
        self.wait("create outcome", |s| !matches!(&s.mode, Mode::Create(f) if f.stage == CStage::Creating))
            .await;
    }

    /// The review's price at max scale (from the prices per replica).
    fn price_at_max(&self) -> Figure {
        let changes = review_changes(&self.state);
        assert_eq!(changes.len(), 1, "one deployment reviewed");
        changes[0].at_max()
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The new deployment is selected, in the provider's list, with the regions and scale asked for.
    async fn check_created(&mut self, account: usize, name: &str, want: &[(String, u32, u32)]) {
        assert!(matches!(self.state.mode, Mode::Normal), "{:?}", self.state.mode);
        assert_eq!(self.state.selected_row().map(|r| r.dep.name.as_str()), Some(name));
        let listed = self.providers[account].list().await.unwrap();
        let dep = listed.iter().find(|d| d.name == name).expect("in the provider's list");
        let full = self.providers[account].get(&dep.key.id).await.unwrap();
        let mut have: Vec<(String, u32, u32)> =
            full.regions.iter().map(|r| (r.region_id.clone(), r.scale.min, r.scale.max)).collect();
        let mut want = want.to_vec();
        have.sort();
        want.sort();
        assert_eq!(have, want);
        // The next fleet refresh keeps it in the table.
        let key = dep.key.clone();
        self.wait("in the fleet", |s| {
            s.rows.iter().any(|r| r.dep.key == key && r.account == account && r.fetched_at > s.started)
        })
        .await;
        let lines = self.audit_lines();
        let line = lines
            .iter()
            .find(|l| l["change"] == "create" && l["deployment"]["name"] == name)
            .expect("audited");
        assert_eq!(line["result"], "created");
        assert_eq!(line["deployment"]["id"], serde_json::json!(dep.key.id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_on_gcore_in_two_regions() {
    let mut d = driver("gcore").await;
    let a = d.account("gcore-demo");
    d.open_form("gcore-demo").await;
    // Prefilled from the catalog's first flavor, in a region where it is free.
    let flavor = d.form().value("hardware").to_string();
    assert!(!flavor.is_empty());
    d.set("name", "created-llm");
    d.set("image", "vllm/vllm-openai:v0.6");
    d.set("port", "8000");
    d.set("regions[0].scale.max", "2");
    d.ctrl('n');
    assert_eq!(d.form().regions, 2);
    d.set("regions[1].scale.min", "0");
    d.set("regions[1].scale.max", "3");
    d.set("envs", "HF_TOKEN=secret-value");
    d.set("readiness.http_get.path", "/health");
    let spec = d.form().spec.clone().expect("valid form");
    let want: Vec<(String, u32, u32)> =
        spec.regions.iter().map(|r| (r.region_id.clone(), r.scale.min, r.scale.max)).collect();
    assert_ne!(want[0].0, want[1].0);
    d.review_and_create().await;
    match d.price_at_max() {
        Figure::Known { new, old, .. } => assert!(new > 0.0 && old == 0.0, "{new} {old}"),
        other => panic!("the Gcore simulator prices configurations: {other:?}"),
    }
    d.check_created(a, "created-llm", &want).await;
    let audit = std::fs::read_to_string(&d.audit).unwrap();
    assert!(!audit.contains("secret-value"), "env values never reach the audit file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_on_sesterce_from_a_catalog_model() {
    let mut d = driver("sesterce").await;
    let a = d.account("sesterce-demo");
    d.open_form("sesterce-demo").await;
    // The catalog view opens on its models tab: the form starts from the first model, its port and hardware.
    let model = d.form().value("model").to_string();
    assert!(!model.is_empty(), "prefilled with the selected model");
    d.set("name", "created-chat");
    d.set("regions[0].scale.min", "1");
    d.set("regions[0].scale.max", "2");
    let spec = d.form().spec.clone().expect("valid form");
    let want = vec![(spec.regions[0].region_id.clone(), 1, 2)];
    d.review_and_create().await;
    match d.price_at_max() {
        Figure::Known { new, old, .. } => assert!(new > 0.0 && old == 0.0, "{new} {old}"),
        other => panic!("Sesterce prices configurations: {other:?}"),
    }
    d.check_created(a, "created-chat", &want).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_on_runai_in_a_project_and_cluster() {
    let mut d = driver("runai").await;
    let a = d.account("runai-demo");
    d.open_form("runai-demo").await;
    assert!(!d.form().value("project").is_empty(), "a project from the workloads");
    assert!(!d.form().value("regions[0].region").is_empty(), "a cluster from the workloads");
    d.set("name", "created-qa");
    d.set("image", "nvcr.io/nim/meta/llama3:latest");
    d.set("regions[0].scale.max", "3");
    // min < max needs a metric: the form says so before anything is sent.
    assert!(d.form().spec.is_none());
    assert!(d.form().field("regions[0].scale.metric").unwrap().error.is_some());
    d.set("regions[0].scale.metric", "concurrency");
    d.set("regions[0].scale.threshold", "4");
    let spec = d.form().spec.clone().expect("valid form");
    let want = vec![(spec.regions[0].region_id.clone(), 1, 3)];
    d.review_and_create().await;
    assert!(matches!(d.price_at_max(), Figure::Unknown(_)), "Run:ai gives no price");
    d.check_created(a, "created-qa", &want).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_comes_back_to_the_form_with_the_input_kept() {
    let mut d = driver("refused").await;
    let existing = d
        .state
        .rows
        .iter()
        .find(|r| r.dep.key.provider == ProviderKind::Gcore)
        .map(|r| r.dep.name.clone())
        .unwrap();
    d.open_form("gcore-demo").await;
    d.set("name", &existing);
    d.set("image", "nginx:1.27");
    d.review_and_create().await;
    let f = d.form();
    match &f.stage {
        CStage::Failed(msg) => assert!(msg.contains("already exists"), "{msg}"),
        other => panic!("expected the provider's refusal, got {other:?}"),
    }
    assert_eq!((f.value("name"), f.value("image")), (existing.as_str(), "nginx:1.27"));
    // Any key goes back to the form, still filled in.
    d.key(KeyCode::Char('x'));
    assert_eq!(d.form().stage, CStage::Edit);
    assert_eq!(d.form().value("image"), "nginx:1.27");
    let lines = d.audit_lines();
    assert!(lines.iter().any(|l| l["change"] == "create"
        && l["result"].as_str().is_some_and(|r| r.starts_with("failed"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_browses_the_catalog_but_cannot_create() {
    let mut d = driver("readonly").await;
    d.state.read_only = true;
    d.key(KeyCode::Char('c'));
    assert!(matches!(d.state.mode, Mode::Normal));
    assert!(d.state.flash.as_deref().unwrap().contains("read-only"));
    d.key(KeyCode::Char('C'));
    assert!(matches!(d.state.mode, Mode::Catalog(_)));
    let a = match &d.state.mode {
        Mode::Catalog(v) => v.account,
        _ => unreachable!(),
    };
    d.wait("catalog", |s| s.catalogs.loaded(a).is_some()).await;
    d.key(KeyCode::Char('c'));
    assert!(matches!(d.state.mode, Mode::Catalog(_)), "still browsing");
    assert!(d.state.flash.as_deref().unwrap().contains("read-only"));
    let help = d.state.keymap.help_rows(true);
    assert!(!help.iter().any(|(_, what)| *what == "create a deployment"));
    assert!(help.iter().any(|(_, what)| what.starts_with("catalog")));
}
