//! Scale and probe edits: opening the form, its keys, the review, the write's outcome, and following the
//! rollout until the provider reflects the change.

use super::form::{Form, RegionChoice, Stage, diff_against};
use super::keymap::Action;
use super::state::{LifecycleOp, Mode, Pending, State, toast};
use super::update::Effect;
use crate::model::edit::{Change, Edit, NotTaken};
use crate::model::{Deployment, DeploymentKey};
use crate::provider::{ApiError, Applied};
use crossterm::event::{KeyCode, KeyEvent};

/// Why an edit was not applied.
#[derive(Debug, Clone)]
pub enum ApplyFailure {
    /// The deployment changed since the form opened; nothing was sent. Holds the latest record.
    Conflict(Box<Deployment>),
    Api(ApiError),
}

/// A write that landed, verified: the meant fields the read-back does not hold as asked (none: all there).
#[derive(Debug, Clone, PartialEq)]
pub struct Landed {
    pub applied: Applied,
    pub not_taken: Vec<NotTaken>,
}

impl Landed {
    /// The deployment as read back after the write.
    pub fn deployment(&self) -> &Deployment {
        self.applied.deployment()
    }
}

/// An edit to send: the change, and the deployment as the form saw it (for the conflict check).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyRequest {
    pub account: usize,
    pub key: DeploymentKey,
    pub name: String,
    pub change: Change,
    pub expected: Box<Deployment>,
    /// The model or registry the user picked for a provider that wants it with the edit (Sesterce).
    pub source: Option<Picked>,
}

/// A model or registry the user picked, and its name as the account's catalog gives it (the audit line names
/// both).
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub source: crate::model::ImageSource,
    pub name: Option<String>,
}

impl ApplyRequest {
    /// What the user meant: the fields the change sets differently from the deployment the form showed,
    /// which is what the review listed before `y`.
    pub fn edit(&self) -> Edit {
        Edit::new(&self.expected, self.change.clone())
    }
}

/// Clears pending changes the provider now reflects: the regions and their min/max as applied, every region
/// ready, nothing in progress. Gives up after ten minutes with a toast.
pub(super) fn settle_pending(state: &mut State, only: Option<&DeploymentKey>) {
    let keys: Vec<DeploymentKey> = match only {
        Some(k) if state.pending.contains_key(k) => vec![k.clone()],
        Some(_) => return,
        None => state.pending.keys().cloned().collect(),
    };
    for key in keys {
        let Some(&i) = state.index.get(&key) else {
            state.pending.remove(&key);
            continue;
        };
        let dep = state.snapshot(&state.rows[i]);
        let Some(p) = state.pending.get(&key) else { continue };
        let reflected = p.change.rolled_out_in(dep);
        let name = dep.name.clone();
        if reflected {
            state.pending.remove(&key);
            state.flash = Some(format!("{name}: the change has rolled out"));
            state.dirty = true;
        } else if (state.now - p.since).num_minutes() >= 10 {
            state.pending.remove(&key);
            toast(state, format!("{name}: the change is applied but has not converged after 10 minutes"));
        }
    }
}

pub use crate::model::edit::rolled_out;

pub(super) fn on_applied(
    state: &mut State,
    key: DeploymentKey,
    result: Result<Landed, ApplyFailure>,
    fx: &mut Vec<Effect>,
) {
    state.dirty = true;
    let Mode::Form(form) = &mut state.mode else {
        return;
    };
    if form.key != key {
        return;
    }
    match result {
        Ok(Landed { applied, not_taken }) => {
            let change = form.validate();
            let name = form.base.name.clone();
            let account = form.account;
            let (dep, what) = landed(applied, Some(&form.base), change.as_ref());
            let mut what = what.to_string();
            if let Some(s) = &form.source {
                what.push_str(&format!(
                    " (sent with {})",
                    super::model_pick::source_name(&state.catalogs, account, s)
                ));
            }
            state.mode = Mode::Normal;
            if not_taken.is_empty() {
                if let Some(change) = change {
                    state.pending.insert(key.clone(), Pending { change, since: state.now });
                }
                state.flash = Some(format!("{name}: {what}; watching the rollout"));
            } else {
                // Never "applied" or "rolled out" while a meant field is missing: say which, and keep saying it.
                let missing: Vec<String> = not_taken.iter().map(|n| n.to_string()).collect();
                let message = format!("{name}: not everything took: {}", missing.join("; "));
                state.flash = Some(message.clone());
                toast(state, message);
            }
            // The read-back is the freshest record there is.
            state.details.entry(key.clone()).or_default().detail = Some((*dep, state.now));
            settle_pending(state, Some(&key));
            fx.push(Effect::Refresh(Some(account)));
        }
        Err(ApplyFailure::Conflict(latest)) => {
            let changes =
                diff_against(&form.base, &Change::Scale(crate::model::ScaleUpdate::from_deployment(&latest)))
                    .into_iter()
                    .chain(match form.kind {
                        super::form::FormKind::Probes => diff_against(
                            &form.base,
                            &Change::Probes(latest.probes.clone().unwrap_or_default()),
                        ),
                        super::form::FormKind::Scale => Vec::new(),
                    })
                    .collect::<Vec<_>>();
            let changes = if changes.is_empty() {
                vec!["  (fields outside this form changed)".to_string()]
            } else {
                changes
            };
            form.stage = Stage::Conflict { changes, latest };
        }
        Err(ApplyFailure::Api(e)) if super::model_pick::asks_for_source(form, &e) => {
            super::model_pick::open(&mut state.catalogs, form, &e, fx);
        }
        Err(ApplyFailure::Api(e)) => {
            form.stage = Stage::Failed(e.to_string());
        }
    }
}

/// A form that has been closed marks itself by leaving the Edit stage as `Stage::Edit` with no sections.
pub(super) fn form_closed(form: &Form) -> bool {
    form.sections.is_empty()
}

const NEED_ATTENTION: &str = "field(s) need attention";

pub(super) fn on_form_key(state: &mut State, form: &mut Form, key: KeyEvent, fx: &mut Vec<Effect>) {
    match form.stage.clone() {
        Stage::Edit => match form.handle_edit_key(key) {
            Some(false) => {
                // Esc: leave without changing anything.
                form.sections.clear();
                state.flash = Some("edit cancelled: nothing was sent".into());
            }
            Some(true) => match form.validate() {
                None => {
                    state.flash = Some(format!("{} {NEED_ATTENTION}", form.error_count().max(1)));
                }
                Some(change) => {
                    let diff = form.diff(&change);
                    if diff.is_empty() {
                        state.flash = Some("nothing changed".into());
                    } else {
                        form.stage = Stage::Confirm(diff);
                        super::cost::open_edit_review(state, form, &change, fx);
                    }
                }
            },
            None => {
                // The count of a failed review follows the edits, and goes once nothing needs attention.
                if state.flash.as_deref().is_some_and(|f| f.ends_with(NEED_ATTENTION)) {
                    let n = form.error_count();
                    state.flash = (n > 0).then(|| format!("{n} {NEED_ATTENTION}"));
                }
            }
        },
        Stage::Confirm(_) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                if let Some(change) = form.validate() {
                    form.stage = Stage::Applying;
                    fx.push(Effect::Apply(Box::new(apply_request(&state.catalogs, form, change))));
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => form.stage = Stage::Edit,
            _ => {}
        },
        Stage::Applying => {
            state.flash = Some("applying: waiting for the provider".into());
        }
        Stage::Conflict { latest, .. } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                form.rebase(*latest);
                if let Some(change) = form.validate() {
                    let diff = form.diff(&change);
                    form.stage = if diff.is_empty() { Stage::Edit } else { Stage::Confirm(diff) };
                    super::cost::open_edit_review(state, form, &change, fx);
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                form.rebase(*latest);
            }
            _ => {}
        },
        Stage::Failed(_) => form.stage = Stage::Edit,
        Stage::PickSource(pick) => super::model_pick::on_key(state, form, *pick, key, fx),
    }
}

/// The write of `change` from `form`: checked against the deployment as the form saw it.
pub(super) fn apply_request(
    catalogs: &super::catalog::Catalogs,
    form: &Form,
    change: Change,
) -> ApplyRequest {
    ApplyRequest {
        account: form.account,
        key: form.key.clone(),
        name: form.base.name.clone(),
        change,
        expected: Box::new(form.base.clone()),
        source: form.source.clone().map(|source| Picked {
            name: super::model_pick::catalog_name(catalogs, form.account, &source),
            source,
        }),
    }
}

/// The selected row (its index in `state.rows`) when changes are on and a row is selected; otherwise the status
/// line says why.
pub(super) fn row_to_change(state: &mut State) -> Option<usize> {
    state.dirty = true;
    if state.read_only {
        state.flash = Some("read-only mode: changes are off".into());
        return None;
    }
    let row = state.view.get(state.selected).copied().filter(|&i| i < state.rows.len());
    if row.is_none() {
        state.flash = Some("select a deployment first".into());
    }
    row
}

/// Opens a form or a confirmation for the selected deployment, if the provider and mode allow it.
pub(super) fn open_mutation(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let Some(row) = row_to_change(state) else { return };
    let row = &state.rows[row];
    let account = row.account;
    let caps = state.accounts[account].capabilities;
    let provider = row.dep.key.provider;
    let dep = state.selected_deployment().cloned().unwrap_or_else(|| (*row.dep).clone());
    let refuse = |what: &str| format!("{provider} does not offer {what}");
    match action {
        Action::Scale if !caps.update_scale => state.flash = Some(refuse("scale edits")),
        Action::Probes if !caps.update_probes => state.flash = Some(refuse("probe edits")),
        Action::StartStop if !caps.start_stop => state.flash = Some(refuse("start and stop")),
        Action::Delete if !caps.delete => state.flash = Some(refuse("delete")),
        Action::Scale | Action::Probes if !dep.detail && !super::state::list_is_whole(provider) => {
            // A summary row: what the form edits is only in the details (Sesterce's regions, Run:ai's metric
            // and probes). The form would start from blanks: it waits for them, and they are read now.
            state.flash = Some(if dep.regions.is_empty() {
                "no scale data yet: wait for the details to load (reading them now)".into()
            } else {
                format!(
                    "{provider} lists only part of it: reading its details, press the key again once shown"
                )
            });
            fx.push(Effect::ReadDetails(vec![(account, dep.key.clone())]));
        }
        Action::Scale => {
            if dep.regions.is_empty() {
                state.flash = Some("no scale data yet: wait for the details to load".into());
                return;
            }
            let hw = dep.hardware.clone().unwrap_or_default();
            let choices = state.accounts[account]
                .regions
                .iter()
                .map(|r| RegionChoice {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    capacity: r.capacity.get(&*hw).copied(),
                })
                .collect();
            state.mode = Mode::Form(Box::new(Form::scale(&dep, account, caps.per_region_scale, choices)));
        }
        Action::Probes => state.mode = Mode::Form(Box::new(Form::probes(&dep, account))),
        Action::StartStop => match super::lifecycle::toggle_op(&dep) {
            Ok(op) => super::lifecycle::open_confirm(state, op, &dep, account),
            Err(why) => state.flash = Some(why),
        },
        Action::Delete => super::lifecycle::open_confirm(state, LifecycleOp::Delete, &dep, account),
        _ => {}
    }
}

/// A key while a form is open; the form stays open unless it closed itself or a key quit.
pub(super) fn on_form_mode_key(state: &mut State, mut form: Box<Form>, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    on_form_key(state, &mut form, key, fx);
    if !state.quit && state.mode == Mode::Normal && !form_closed(&form) {
        state.mode = Mode::Form(form);
    }
}

/// Whether a write took: done, or "nothing to change" from the provider after a retried write whose first try
/// landed (the section then differs from the one the edit started from).
pub(crate) fn was_applied(applied: &Applied, base: Option<&Deployment>, change: Option<&Change>) -> bool {
    match applied {
        Applied::Done(_) => true,
        Applied::NoChange(d) => {
            matches!((base, change), (Some(b), Some(c)) if c.current_of(d) != c.current_of(b))
        }
    }
}

/// The read-back of a write and the word for it (see [`was_applied`]).
pub(crate) fn landed(
    applied: Applied,
    base: Option<&Deployment>,
    change: Option<&Change>,
) -> (Box<Deployment>, &'static str) {
    let word = if was_applied(&applied, base, change) {
        "applied"
    } else {
        "the provider reports nothing to change"
    };
    match applied {
        Applied::Done(d) | Applied::NoChange(d) => (d, word),
    }
}
