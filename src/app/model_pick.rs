//! The model prompt. Sesterce wants an instance's model or registry with every update, and its details do
//! not say which one an instance runs, so infertop leaves them out; where Sesterce then refuses, the edit
//! form does not guess (a wrong one would move the instance to another model): it shows Sesterce's message
//! and the account's catalog, the user picks what the instance runs, and `y` sends the same edit again with
//! it, through the same conflict check, write, verify and audit.

use super::catalog::{CatalogEntry, Catalogs};
use super::edit::apply_request;
use super::form::{Form, FormKind, Stage};
use super::state::State;
use super::update::Effect;
use crate::model::{Catalog, ImageSource};
use crate::provider::ApiError;
use crossterm::event::{KeyCode, KeyEvent};

/// Which part of the catalog the prompt lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Model,
    Registry,
}

impl SourceKind {
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Model => "Models",
            SourceKind::Registry => "Registries",
        }
    }

    fn other(self) -> SourceKind {
        match self {
            SourceKind::Model => SourceKind::Registry,
            SourceKind::Registry => SourceKind::Model,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelPick {
    /// The provider's own words, as it sent them.
    pub said: String,
    /// The review the user confirmed: what `y` sends again.
    pub diff: Vec<String>,
    pub kind: SourceKind,
    /// The row the user picked in the listed part: none until they pick one (infertop does not guess).
    pub sel: Option<usize>,
}

impl ModelPick {
    /// Rows in the listed part of `c`.
    pub fn rows(&self, c: &Catalog) -> usize {
        match self.kind {
            SourceKind::Model => c.models.len(),
            SourceKind::Registry => c.registries.len(),
        }
    }

    /// What the selected row names.
    pub fn choice(&self, c: &Catalog) -> Option<ImageSource> {
        let sel = self.sel?;
        match self.kind {
            SourceKind::Model => c.models.get(sel).map(|m| ImageSource::Model(m.id.clone())),
            SourceKind::Registry => c.registries.get(sel).map(|r| ImageSource::Registry(r.id.clone())),
        }
    }
}

/// Whether a refusal of `form`'s edit asks for the deployment's model or registry (Sesterce scale edits).
pub fn asks_for_source(form: &Form, e: &ApiError) -> bool {
    form.kind == FormKind::Scale && crate::provider::sesterce::wants_source(e)
}

/// The name the account's catalog gives the model or registry `source` names, when it knows it.
pub fn catalog_name(catalogs: &Catalogs, account: usize, source: &ImageSource) -> Option<String> {
    let c = catalogs.loaded(account)?;
    match source {
        ImageSource::Model(id) => c.models.iter().find(|m| &m.id == id).map(|m| m.name.clone()),
        ImageSource::Registry(id) => c.registries.iter().find(|r| &r.id == id).map(|r| r.name.clone()),
        ImageSource::Image { .. } => None,
    }
}

/// The model or registry `source` names, as the catalog calls it (its id when the catalog does not know it).
pub fn source_name(catalogs: &Catalogs, account: usize, source: &ImageSource) -> String {
    let name = catalog_name(catalogs, account, source);
    match source {
        ImageSource::Model(id) => format!("model {}", name.as_deref().unwrap_or(id)),
        ImageSource::Registry(id) => format!("registry {}", name.as_deref().unwrap_or(id)),
        ImageSource::Image { image, .. } => format!("image {image}"),
    }
}

/// What the user is told `y` does with the pick: the instance runs it from then on.
pub fn will_run(catalogs: &Catalogs, account: usize, source: &ImageSource) -> String {
    format!(
        "the instance will run {} (infertop cannot read which model it runs now)",
        source_name(catalogs, account, source)
    )
}

/// Turns the form into the prompt, with the provider's message; fetches the catalog if it is not there.
pub fn open(catalogs: &mut Catalogs, form: &mut Form, e: &ApiError, fx: &mut Vec<Effect>) {
    let said = if e.fields.is_empty() {
        e.message.clone()
    } else {
        e.fields.iter().map(|(f, m)| format!("{f} {m}")).collect::<Vec<_>>().join("; ")
    };
    let diff = form.validate().map(|c| form.diff(&c)).unwrap_or_default();
    // Nothing is picked, even when asked again after a pick the provider refused too: the user picks again
    // (the list shown is the part the last pick came from).
    let kind = match &form.source {
        Some(ImageSource::Registry(_)) => SourceKind::Registry,
        _ => SourceKind::Model,
    };
    form.stage = Stage::PickSource(Box::new(ModelPick { said, diff, kind, sel: None }));
    if catalogs.start_load(form.account) {
        fx.push(Effect::LoadCatalog(form.account));
    }
}

/// What Esc says: the edit was sent, and the provider refused it (its words); nothing else was sent.
pub fn refused_text(form: &Form, pick: &ModelPick) -> String {
    let p = crate::model::edit::provider_name(form.provider);
    let sent: Vec<String> = pick.diff.iter().map(|l| l.trim().to_string()).collect();
    let sent = if sent.is_empty() { String::new() } else { format!(" ({})", sent.join("; ")) };
    format!(
        "the edit{sent} was sent and {p} refused it: {}; nothing else was sent, the form keeps your values",
        crate::model::text::sanitize(&pick.said)
    )
}

pub fn on_key(state: &mut State, form: &mut Form, mut pick: ModelPick, key: KeyEvent, fx: &mut Vec<Effect>) {
    let account = form.account;
    let rows = state.catalogs.loaded(account).map(|c| pick.rows(c)).unwrap_or(0);
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') => {
            form.stage = Stage::Edit;
            state.flash = Some(refused_text(form, &pick));
            return;
        }
        // The first move picks the first row; nothing is picked before.
        KeyCode::Down | KeyCode::Char('j') if rows > 0 => {
            pick.sel = Some(pick.sel.map_or(0, |s| (s + 1).min(rows - 1)))
        }
        KeyCode::Up | KeyCode::Char('k') if rows > 0 => {
            pick.sel = Some(pick.sel.map_or(0, |s| s.saturating_sub(1)))
        }
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
            pick.kind = pick.kind.other();
            pick.sel = None;
        }
        KeyCode::Char('r') if state.catalogs.start_load(account) => fx.push(Effect::LoadCatalog(account)),
        KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
            match state.catalogs.loaded(account).and_then(|c| pick.choice(c)) {
                Some(source) => {
                    form.source = Some(source);
                    match form.validate() {
                        Some(change) => {
                            form.stage = Stage::Applying;
                            fx.push(Effect::Apply(Box::new(apply_request(&state.catalogs, form, change))));
                        }
                        None => {
                            form.stage = Stage::Edit;
                            state.flash =
                                Some(format!("{} field(s) need attention", form.error_count().max(1)));
                        }
                    }
                    return;
                }
                None => {
                    state.flash = Some(match state.catalogs.by_account.get(&account) {
                        Some(CatalogEntry::Loaded { .. }) if rows > 0 => format!(
                            "nothing sent: pick the {} the instance runs first (↑↓), then y",
                            match pick.kind {
                                SourceKind::Model => "model",
                                SourceKind::Registry => "registry",
                            }
                        ),
                        Some(CatalogEntry::Loaded { .. }) => {
                            format!(
                                "no {} to pick: Tab shows the other list",
                                pick.kind.label().to_lowercase()
                            )
                        }
                        Some(CatalogEntry::Failed(_)) => {
                            "the catalog could not be read: r tries again, Esc goes back".into()
                        }
                        _ => "the catalog is still loading".into(),
                    });
                }
            }
        }
        _ => {}
    }
    form.stage = Stage::PickSource(Box::new(pick));
}
