//! Screen tests of the catalog view and the create form: drawn with `TestBackend` from a fixed simulator
//! seed and compared with insta snapshots. Catalogs, prices and the create come from the simulator over
//! loopback through the real clients; the effects `update` asks for are run here in place of the sync layer.

mod common;

use common::screen::{Fixture, fixture, render};

use crossterm::event::KeyCode;
use infertop::app::Msg;
use infertop::app::state::Mode;

trait CatalogFixture {
    async fn command(&mut self, s: &str);
    async fn focus(&mut self, path: &str);
}

impl CatalogFixture for Fixture {
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
