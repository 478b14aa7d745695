//! The model prompt (issue 11). Sesterce wants an instance's model or registry with every update, and its
//! details do not say which, so a scale edit is sent without them. Where Sesterce refuses that, the form
//! shows Sesterce's message and the account's catalog; the user picks what the instance runs, and `y` sends
//! the same edit again through the conflict check, write, verify and audit; the read-back equals the edit and
//! the instance runs the picked model. Where Sesterce keeps what is left out, the edit applies at once without
//! asking. Driven as the terminal loop drives it (keys into `update`, effects to the real `Sync`), against the
//! simulator over loopback, under both readings, for an instance of a catalog model and one of a registry.

mod common;

use common::app::{Driver, driver, frozen_sim};
use crossterm::event::KeyCode;
use infertop::app::form::Stage;
use infertop::app::model_pick::SourceKind;
use infertop::app::state::Mode;
use infertop::model::edit::Change;
use infertop::model::{ImageSource, ScaleUpdate};
use infertop::sim::SimHandle;
use infertop::sim::ambiguity::{self, every_reading_of};
use serde_json::{Value, json};

const SESTERCE: usize = 1;

/// The model and registry the simulator holds for an instance (its details never show them).
fn held(sim: &SimHandle, name: &str) -> (Value, Value) {
    let s = sim.state.sesterce.lock().unwrap();
    let i = s.instances.iter().find(|i| i.name == name).unwrap();
    (i.model_id.clone(), i.registry_id.clone())
}

/// An instance of the seed fleet that runs a catalog model (or a registry's image), and what it runs.
fn instance(sim: &SimHandle, registry: bool) -> (String, ImageSource) {
    let s = sim.state.sesterce.lock().unwrap();
    let i = s
        .instances
        .iter()
        .filter(|i| !i.containers.is_empty() && i.deleting_since.is_none())
        .find(|i| if registry { i.registry_id.is_string() } else { i.model_id.is_string() })
        .expect("a Sesterce instance of that kind in the seed fleet");
    let source = if registry {
        ImageSource::Registry(i.registry_id.as_str().unwrap().to_string())
    } else {
        ImageSource::Model(i.model_id.as_str().unwrap().to_string())
    };
    (i.name.clone(), source)
}

/// `s`, max one higher, Enter, `y`, and the outcome: returns the scale section the edit sends.
async fn raise_max(d: &mut Driver, name: &str) -> ScaleUpdate {
    d.select(SESTERCE, name).await;
    d.key(KeyCode::Char('s'));
    let max: u32 =
        d.form().sections[0].fields.iter().find(|f| f.label == "max").unwrap().value().parse().unwrap();
    d.set(0, "max", &(max + 1).to_string());
    let Some(Change::Scale(want)) = d.form().clone().validate() else { panic!("a valid scale change") };
    send_again(d).await;
    want
}

/// Enter, the review, `y`, and the outcome.
async fn send_again(d: &mut Driver) {
    d.key(KeyCode::Enter);
    assert!(matches!(d.stage(), Stage::Confirm(_)), "the review: {:?}", d.stage());
    d.key(KeyCode::Char('y'));
    assert_eq!(d.stage(), Stage::Applying);
    d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying)).await;
}

fn audit_of(d: &Driver, name: &str) -> Vec<Value> {
    d.audit_lines().into_iter().filter(|l| l["deployment"]["name"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sesterce_edit_keeps_its_model_under_every_reading_asking_for_it_where_refused() {
    for readings in every_reading_of(&[ambiguity::SESTERCE_NO_MODEL]) {
        for registry in [false, true] {
            let sim = frozen_sim(readings.clone()).await;
            let (name, source) = instance(&sim, registry);
            let runs = held(&sim, &name);
            let tag = format!("pick-{}-{registry}", readings.reading(ambiguity::SESTERCE_NO_MODEL));
            let mut d = driver(&tag, &infertop::provider::demo_accounts(&sim.base_url())).await;
            let before = d.providers[SESTERCE].get(&instance_id(&d, &name)).await.unwrap();
            let want = raise_max(&mut d, &name).await;
            let context = format!("{readings}, {name}");

            if readings.is(ambiguity::SESTERCE_NO_MODEL, "rejected") {
                // Refused: the form asks, with Sesterce's own words, and nothing changed.
                let Stage::PickSource(pick) = d.stage() else {
                    panic!("{context}: the prompt, got {:?}", d.stage())
                };
                assert!(pick.said.contains("modelId should not be undefined"), "{context}: {}", pick.said);
                assert!(pick.diff.iter().any(|l| l.contains("max")), "{context}: {:?}", pick.diff);
                let now = d.providers[SESTERCE].get(&before.key.id).await.unwrap();
                assert_eq!(
                    ScaleUpdate::from_deployment(&now),
                    ScaleUpdate::from_deployment(&before),
                    "{context}"
                );
                let lines = audit_of(&d, &name);
                assert_eq!(lines.len(), 1, "{context}: {lines:?}");
                assert_eq!(lines[0]["result"], "refused", "{context}");

                // Esc goes back to the form with the edit kept, saying what was sent and refused; the next try
                // asks again.
                d.key(KeyCode::Esc);
                assert_eq!(d.stage(), Stage::Edit, "{context}");
                let said = d.said();
                assert!(
                    said.contains("was sent and Sesterce refused it") && !said.contains("nothing was sent"),
                    "{context}: {said}"
                );
                assert_eq!(
                    d.form().sections[0].fields.iter().find(|f| f.label == "max").unwrap().value(),
                    want.regions[0].scale.max.to_string()
                );
                send_again(&mut d).await;
                assert!(
                    matches!(d.stage(), Stage::PickSource(_)),
                    "{context}: asked again, got {:?}",
                    d.stage()
                );

                // The catalog comes in; pick what the instance runs.
                d.wait("the catalog", |s| s.catalogs.loaded(SESTERCE).is_some()).await;
                let catalog = d.state.catalogs.loaded(SESTERCE).unwrap().clone();
                let index = match &source {
                    ImageSource::Model(m) => catalog.models.iter().position(|x| &x.id == m),
                    ImageSource::Registry(r) => catalog.registries.iter().position(|x| &x.id == r),
                    ImageSource::Image { .. } => None,
                }
                .expect("the instance's model or registry is in the account's catalog");
                if registry {
                    d.key(KeyCode::Tab);
                }
                // Nothing is picked until the user moves: the first move picks the first row.
                let Stage::PickSource(pick) = d.stage() else { panic!("{context}: the prompt") };
                assert_eq!(pick.sel, None, "{context}: a pick before the user made one");
                for _ in 0..=index {
                    d.key(KeyCode::Char('j'));
                }
                let Stage::PickSource(pick) = d.stage() else { panic!("{context}: the prompt") };
                assert_eq!(pick.kind, if registry { SourceKind::Registry } else { SourceKind::Model });
                assert_eq!(pick.choice(&catalog), Some(source.clone()), "{context}");
                d.key(KeyCode::Char('y'));
                assert_eq!(d.stage(), Stage::Applying, "{context}");
                d.wait("the outcome", |s| !matches!(&s.mode, Mode::Form(f) if f.stage == Stage::Applying))
                    .await;
            }

            // Applied: the read-back equals the edit, the instance runs what it ran, and it is said so.
            assert!(matches!(d.state.mode, Mode::Normal), "{context}: {:?}", d.state.mode);
            let now = d.providers[SESTERCE].get(&before.key.id).await.unwrap();
            assert_eq!(ScaleUpdate::from_deployment(&now), want, "{context}");
            assert_eq!(held(&sim, &name), runs, "{context}: the model changed");
            let lines = audit_of(&d, &name);
            let last = lines.last().unwrap();
            assert_eq!(last["result"], "applied", "{context}: {last}");
            assert_eq!(last["asked"], last["after"], "{context}: {last}");
            let said = d.said();
            if readings.is(ambiguity::SESTERCE_NO_MODEL, "rejected") {
                assert_eq!(lines.len(), 3, "refused twice, then applied: {lines:?}");
                let (kind, id) = match &source {
                    ImageSource::Model(m) => ("model", m),
                    ImageSource::Registry(r) => ("registry", r),
                    ImageSource::Image { .. } => unreachable!(),
                };
                let catalog = d.state.catalogs.loaded(SESTERCE).unwrap();
                let named = match &source {
                    ImageSource::Model(m) => catalog.models.iter().find(|x| &x.id == m).map(|x| &x.name),
                    ImageSource::Registry(r) => {
                        catalog.registries.iter().find(|x| &x.id == r).map(|x| &x.name)
                    }
                    ImageSource::Image { .. } => None,
                };
                // By id and by name.
                assert_eq!(last["source"], json!({ kind: id, "name": named.unwrap() }), "{context}: {last}");
                // The simulator's rollout is instant: the flash may already say it has rolled out.
                assert!(
                    said.contains(&format!("{name}: applied (sent with {kind} "))
                        || said.contains(&format!("{name}: the change has rolled out")),
                    "{context}: {said}"
                );
            } else {
                // Asked nothing: one write, without a model.
                assert_eq!(lines.len(), 1, "{context}: {lines:?}");
                assert!(last.get("source").is_none(), "{context}: {last}");
                assert!(
                    said.contains(&format!("{name}: applied; watching the rollout"))
                        || said.contains(&format!("{name}: the change has rolled out")),
                    "{context}: {said}"
                );
            }
        }
    }
}

fn instance_id(d: &Driver, name: &str) -> String {
    d.state
        .rows
        .iter()
        .find(|r| r.account == SESTERCE && r.dep.name == name)
        .map(|r| r.dep.key.id.clone())
        .expect("the instance is listed")
}

/// Writes (`PATCH`) in the simulator's log.
async fn patches(sim: &SimHandle) -> usize {
    let log: Vec<String> =
        reqwest::get(format!("{}/_sim/requests", sim.base_url())).await.unwrap().json().await.unwrap();
    log.iter().filter(|l| l.starts_with("PATCH")).count()
}

/// The prompt starts with nothing picked: a reflexive `y y` after the refusal sends nothing and says to pick
/// one. Once one is picked, the prompt says what the instance will run and that infertop cannot read what it
/// runs now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_prompt_starts_with_nothing_picked_and_y_y_sends_nothing() {
    let readings = ambiguity::Ambiguities::default().with(ambiguity::SESTERCE_NO_MODEL, "rejected");
    let sim = frozen_sim(readings).await;
    let (name, _) = instance(&sim, false);
    let mut d = driver("pick-yy", &infertop::provider::demo_accounts(&sim.base_url())).await;
    raise_max(&mut d, &name).await;
    assert!(matches!(d.stage(), Stage::PickSource(_)), "the prompt: {:?}", d.stage());
    d.wait("the catalog", |s| s.catalogs.loaded(SESTERCE).is_some()).await;
    assert!(!d.state.catalogs.loaded(SESTERCE).unwrap().models.is_empty());
    let refused = patches(&sim).await;
    assert_eq!(refused, 1, "the refused edit");

    d.key(KeyCode::Char('y'));
    d.key(KeyCode::Char('y'));
    let Stage::PickSource(pick) = d.stage() else { panic!("still the prompt: {:?}", d.stage()) };
    assert_eq!(pick.sel, None);
    assert!(d.said().contains("nothing sent: pick the model"), "{}", d.said());
    d.pump(300).await;
    assert_eq!(patches(&sim).await, refused, "y with nothing picked sent a write");
    assert_eq!(audit_of(&d, &name).len(), 1, "only the refused edit is audited");

    d.key(KeyCode::Char('j'));
    let catalog = d.state.catalogs.loaded(SESTERCE).unwrap().clone();
    let Stage::PickSource(pick) = d.stage() else { panic!("the prompt") };
    assert_eq!(pick.choice(&catalog), Some(ImageSource::Model(catalog.models[0].id.clone())));
    // The prompt's text as drawn (wrapped at its width), joined back into sentences.
    let (lines, _, _) = infertop::ui::model_pick::body(&d.state, d.form(), &pick, 100);
    let screen = lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" ");
    let want = format!(
        "the instance will run model {} (infertop cannot read which model it runs now)",
        catalog.models[0].name
    );
    assert!(screen.contains(&want), "{want}\n{screen}");
}
