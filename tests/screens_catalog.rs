//! Screen tests of the catalog view and the create form: drawn with `TestBackend` from a fixed simulator
//! seed and compared with insta snapshots. Catalogs, prices and the create come from the simulator over
//! loopback through the real clients; the effects `update` asks for are run here in place of the sync layer.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::state::Mode;
use infertop::app::{AccountState, Effect, Msg, State, update};
use infertop::provider::{self, Provider, http::build_client};
use infertop::sim::{self, SimConfig, SimHandle};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Duration;

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

struct Fixture {
    _sim: SimHandle,
    providers: Vec<Arc<dyn Provider>>,
    state: State,
}

async fn fixture(w: u16, h: u16) -> Fixture {
    let sim = sim::start(
        SimConfig { seed: 7, time_scale: 0.0, epoch: Some(epoch()), ..SimConfig::default() },
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
    for (i, p) in providers.iter().enumerate() {
        let result = p.list().await;
        update(&mut state, Msg::Fleet { account: i, at: epoch(), result });
    }
    Fixture { _sim: sim, providers, state }
}

impl Fixture {
    /// Applies a message and runs the catalog and price effects it asks for (as the sync layer would).
    async fn apply(&mut self, msg: Msg) {
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
                _ => continue,
            };
            queue.extend(update(&mut self.state, msg));
        }
    }

    async fn key(&mut self, c: KeyCode) {
        self.apply(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))).await;
    }

    async fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }

    async fn command(&mut self, s: &str) {
        self.key(KeyCode::Char(':')).await;
        self.type_str(s).await;
        self.key(KeyCode::Enter).await;
    }

    /// Tabs to the create form's field at `path`.
    async fn focus(&mut self, path: &str) {
        for _ in 0..80 {
            let Mode::Create(f) = &self.state.mode else { panic!("not in the create form") };
            if f.focused().map(|x| x.path.as_str()) == Some(path) {
                return;
            }
            self.key(KeyCode::Tab).await;
        }
        panic!("no field {path}");
    }
}

fn render(state: &State) -> String {
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

#[tokio::test]
async fn catalog_screens() {
    let mut fx = fixture(140, 36).await;
    fx.command("catalog gcore-demo").await;
    insta::assert_snapshot!("catalog_gcore_flavors", render(&fx.state));
    fx.key(KeyCode::Char('j')).await;
    fx.key(KeyCode::Char('j')).await;
    insta::assert_snapshot!("catalog_gcore_flavors_third", render(&fx.state));
    fx.key(KeyCode::Tab).await;
    insta::assert_snapshot!("catalog_gcore_regions", render(&fx.state));
    fx.key(KeyCode::Tab).await;
    insta::assert_snapshot!("catalog_gcore_registries", render(&fx.state));
    fx.key(KeyCode::Right).await;
    insta::assert_snapshot!("catalog_sesterce_models", render(&fx.state));
    fx.key(KeyCode::Tab).await;
    insta::assert_snapshot!("catalog_sesterce_hardware", render(&fx.state));
    fx.key(KeyCode::Right).await;
    insta::assert_snapshot!("catalog_runai_projects", render(&fx.state));
    fx.key(KeyCode::Esc).await;
    assert!(matches!(fx.state.mode, Mode::Normal));

    // Read-only: browsing only; the footer does not offer create.
    fx.state.read_only = true;
    fx.key(KeyCode::Char('C')).await;
    insta::assert_snapshot!("catalog_read_only", render(&fx.state));
}

#[tokio::test]
async fn create_form_screens() {
    let mut fx = fixture(120, 44).await;
    // From the catalog's flavors tab, `c` opens the form on that flavor.
    fx.command("catalog gcore-demo").await;
    fx.key(KeyCode::Char('c')).await;
    insta::assert_snapshot!("create_gcore_open", render(&fx.state));

    fx.focus("name").await;
    fx.type_str("Bad").await;
    insta::assert_snapshot!("create_gcore_invalid", render(&fx.state));

    for _ in 0..3 {
        fx.key(KeyCode::Backspace).await;
    }
    // The name of a deployment that exists: the provider will refuse it (the form cannot know).
    let taken = fx
        .state
        .rows
        .iter()
        .find(|r| r.dep.key.provider == infertop::model::ProviderKind::Gcore)
        .map(|r| r.dep.name.clone())
        .unwrap();
    fx.type_str(&taken).await;
    fx.focus("image").await;
    fx.type_str("vllm/vllm-openai:v0.6").await;
    fx.focus("regions[0].scale.max").await;
    fx.key(KeyCode::Backspace).await;
    fx.type_str("3").await;
    fx.focus("envs").await;
    fx.type_str("HF_TOKEN=hidden").await;
    insta::assert_snapshot!("create_gcore_valid_priced", render(&fx.state));

    fx.key(KeyCode::Enter).await;
    insta::assert_snapshot!("create_gcore_review", render(&fx.state));

    // y sends; the provider's refusal comes back to the form with the input kept.
    fx.key(KeyCode::Char('y')).await;
    let Mode::Create(form) = &fx.state.mode else { panic!("form stays open while creating") };
    let spec = form.spec.clone().unwrap();
    let account = form.account;
    let result = fx.providers[account].create(&spec).await;
    assert!(result.is_err(), "the simulator refuses a taken name");
    fx.apply(Msg::Created { account, name: spec.name.clone(), result }).await;
    insta::assert_snapshot!("create_gcore_refused", render(&fx.state));

    // Sesterce at 80×24: model and registry instead of an image.
    let mut fx = fixture(80, 24).await;
    fx.command("catalog sesterce-demo").await;
    fx.key(KeyCode::Char('c')).await;
    insta::assert_snapshot!("create_sesterce_80x24", render(&fx.state));
}
