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
    pub sel: usize,
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
        match self.kind {
            SourceKind::Model => c.models.get(self.sel).map(|m| ImageSource::Model(m.id.clone())),
            SourceKind::Registry => c.registries.get(self.sel).map(|r| ImageSource::Registry(r.id.clone())),
        }
    }
}

/// Whether a refusal of `form`'s edit asks for the deployment's model or registry (Sesterce scale edits).
pub fn asks_for_source(form: &Form, e: &ApiError) -> bool {
    form.kind == FormKind::Scale && crate::provider::sesterce::wants_source(e)
}

/// The model or registry `source` names, as the catalog calls it (its id when the catalog does not know it).
pub fn source_name(catalogs: &Catalogs, account: usize, source: &ImageSource) -> String {
    let c = catalogs.loaded(account);
    match source {
        ImageSource::Model(id) => format!(
            "model {}",
            c.and_then(|c| c.models.iter().find(|m| &m.id == id)).map(|m| &m.name).unwrap_or(id)
        ),
        ImageSource::Registry(id) => format!(
            "registry {}",
            c.and_then(|c| c.registries.iter().find(|r| &r.id == id)).map(|r| &r.name).unwrap_or(id)
        ),
        ImageSource::Image { image, .. } => format!("image {image}"),
    }
}

/// Turns the form into the prompt, with the provider's message; fetches the catalog if it is not there.
pub fn open(catalogs: &mut Catalogs, form: &mut Form, e: &ApiError, fx: &mut Vec<Effect>) {
    let said = if e.fields.is_empty() {
        e.message.clone()
    } else {
        e.fields.iter().map(|(f, m)| format!("{f} {m}")).collect::<Vec<_>>().join("; ")
    };
    let diff = form.validate().map(|c| form.diff(&c)).unwrap_or_default();
    // Asked again after a pick (the provider refused that one too): start on it.
    let c = catalogs.loaded(form.account);
    let (kind, sel) = match (&form.source, c) {
        (Some(ImageSource::Registry(id)), Some(c)) => {
            (SourceKind::Registry, c.registries.iter().position(|r| &r.id == id).unwrap_or(0))
        }
        (Some(ImageSource::Registry(_)), None) => (SourceKind::Registry, 0),
        (Some(ImageSource::Model(id)), Some(c)) => {
            (SourceKind::Model, c.models.iter().position(|m| &m.id == id).unwrap_or(0))
        }
        _ => (SourceKind::Model, 0),
    };
    form.stage = Stage::PickSource(Box::new(ModelPick { said, diff, kind, sel }));
    if catalogs.start_load(form.account) {
        fx.push(Effect::LoadCatalog(form.account));
    }
}

pub fn on_key(state: &mut State, form: &mut Form, mut pick: ModelPick, key: KeyEvent, fx: &mut Vec<Effect>) {
    let account = form.account;
    let rows = state.catalogs.loaded(account).map(|c| pick.rows(c)).unwrap_or(0);
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') => {
            form.stage = Stage::Edit;
            state.flash = Some("nothing was sent: the form keeps your values".into());
            return;
        }
        KeyCode::Down | KeyCode::Char('j') => pick.sel = (pick.sel + 1).min(rows.saturating_sub(1)),
        KeyCode::Up | KeyCode::Char('k') => pick.sel = pick.sel.saturating_sub(1),
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
            pick.kind = pick.kind.other();
            pick.sel = 0;
        }
        KeyCode::Char('r') if state.catalogs.start_load(account) => fx.push(Effect::LoadCatalog(account)),
        KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
            match state.catalogs.loaded(account).and_then(|c| pick.choice(c)) {
                Some(source) => {
                    form.source = Some(source);
                    match form.validate() {
                        Some(change) => {
                            form.stage = Stage::Applying;
                            fx.push(Effect::Apply(Box::new(apply_request(form, change))));
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
