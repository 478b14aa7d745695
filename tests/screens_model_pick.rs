//! Screen tests of the Sesterce model prompt, drawn with `TestBackend` from a fixed simulator seed and
//! compared with insta snapshots. The refusal is the simulator's own answer (default reading: a PATCH without
//! `modelId` is refused) to the form's change sent through the real client; the catalog comes from the
//! simulator too.

mod common;

use common::screen::{Fixture, epoch, fixture, render};

use crossterm::event::KeyCode;
use infertop::app::form::Stage;
use infertop::app::state::Mode;
use infertop::app::{ApplyFailure, Msg, update};
use infertop::model::edit::Change;

const SESTERCE: usize = 1;

/// Selects `name` with its details loaded, opens the scale form, raises the first region's max by one, reviews
/// and confirms; then feeds back what the simulator answers to that change.
async fn refused_edit(fx: &mut Fixture, name: &str) {
    let pos = fx.state.view.iter().position(|&i| fx.state.rows[i].dep.name == name).expect("in view");
    fx.key(KeyCode::Char('g')).await;
    for _ in 0..pos {
        fx.key(KeyCode::Char('j')).await;
    }
    let key = fx.state.selected_row().unwrap().dep.key.clone();
    let result = fx.providers[SESTERCE].get(&key.id).await.map(Box::new);
    fx.apply(Msg::Detail { key: key.clone(), at: epoch(), result }).await;
    fx.key(KeyCode::Char('s')).await;
    let Mode::Form(form) = &fx.state.mode else { panic!("the scale form") };
    let max = form.sections[0].fields[1].value().parse::<u32>().unwrap() + 1;
    fx.key(KeyCode::Backspace).await;
    fx.type_str(&max.to_string()).await;
    fx.key(KeyCode::Enter).await;
    fx.key(KeyCode::Char('y')).await;
    let Mode::Form(form) = &fx.state.mode else { panic!("the form stays open while applying") };
    assert_eq!(form.stage, Stage::Applying);
    let Some(Change::Scale(u)) = form.clone().validate() else { panic!("a scale change") };
    let refused =
        fx.providers[SESTERCE].update_scale(&key.id, &u).await.expect_err("refused without the model");
    // Not through `apply`: the catalog it asks for is loaded by the caller, so the wait can be drawn.
    update(&mut fx.state, Msg::Applied { key, result: Err(ApplyFailure::Api(refused)) });
}

async fn load_catalog(fx: &mut Fixture) {
    let result = fx.providers[SESTERCE].catalog().await;
    fx.apply(Msg::CatalogLoaded { account: SESTERCE, at: epoch(), result }).await;
}

#[tokio::test]
async fn model_prompt_screens() {
    let mut fx = fixture(120, 40).await;
    refused_edit(&mut fx, "deepseek-r1-distill").await;
    insta::assert_snapshot!("model_prompt_loading", render(&fx.state));
    load_catalog(&mut fx).await;
    fx.key(KeyCode::Char('j')).await;
    insta::assert_snapshot!("model_prompt_models", render(&fx.state));
    fx.key(KeyCode::Tab).await;
    insta::assert_snapshot!("model_prompt_registries", render(&fx.state));
    // Esc: back to the form, the edit kept, saying what was sent and refused.
    fx.key(KeyCode::Esc).await;
    let Mode::Form(form) = &fx.state.mode else { panic!("back in the form") };
    assert_eq!(form.stage, Stage::Edit);
    let said = fx.state.flash.clone().unwrap_or_default();
    assert!(said.starts_with("the edit (") && said.contains("was sent and Sesterce refused it"), "{said}");
}

#[tokio::test]
async fn model_prompt_80x24() {
    let mut fx = fixture(80, 24).await;
    refused_edit(&mut fx, "deepseek-r1-distill").await;
    load_catalog(&mut fx).await;
    insta::assert_snapshot!("model_prompt_80x24", render(&fx.state));
}
