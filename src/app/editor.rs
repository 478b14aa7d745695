//! `e`: the selected deployment's settings in `$EDITOR`. `update` asks for the editor with an
//! [`Effect::Editor`] (the terminal loop owns the terminal and hands it over); the outcome comes back as
//! [`Msg::Edited`] and opens the review: the same diff, `y`, conflict check, write, verify and audit as the
//! scale and probe forms, through [`Effect::Apply`] with a [`Change::Settings`].

use super::state::{Mode, Pending, State};
use super::update::{ApplyFailure, ApplyRequest, Effect, Landed};
use crate::model::edit::{Change, provider_name};
use crate::model::settings::{self, Editable, Settings};
use crate::model::{Deployment, DeploymentKey};
use crossterm::event::{KeyCode, KeyEvent};

/// What the terminal loop runs in the editor: the document, and what it is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct EditorJob {
    pub account: usize,
    pub key: DeploymentKey,
    /// The deployment the document was written from (the conflict check's and the diff's base).
    pub base: Box<Deployment>,
    pub editable: Editable,
    /// The file's first contents.
    pub text: String,
}

/// How an editor session ended.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorOutcome {
    /// Valid settings that differ from the base, and the text they were read from.
    Edited { settings: Box<Settings>, text: String },
    /// Saved without a change to any setting: nothing to send.
    Unchanged,
    /// Emptied, not fixed, or the editor failed: nothing to send, and why.
    Cancelled(String),
}

/// Where the review stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewStage {
    /// Showing the change; `y` applies it.
    Confirm,
    Applying,
    /// The deployment changed since the file was written: nothing was sent.
    Conflict {
        changes: Vec<String>,
        latest: Box<Deployment>,
    },
    /// The provider refused or the write failed.
    Failed(String),
}

/// The review of an edited file.
#[derive(Debug, Clone, PartialEq)]
pub struct EditorReview {
    pub job: EditorJob,
    pub settings: Box<Settings>,
    /// The user's text, for going back to the editor.
    pub text: String,
    pub stage: ReviewStage,
}

impl EditorReview {
    /// The review lines: every field that changes, old → new; env values only when revealed.
    pub fn lines(&self, reveal: bool) -> Vec<String> {
        review_lines(&self.job.base, &self.settings, reveal)
    }
}

/// Every field the settings change against `base`, as the review shows it.
pub fn review_lines(base: &Deployment, s: &Settings, reveal: bool) -> Vec<String> {
    let mut lines = settings::diff(base, s, reveal);
    lines.extend(super::form::diff_against(base, &Change::Settings(Box::new(s.clone()))));
    lines
}

/// `e` on the selected deployment: the editor job, or a message saying why not.
pub fn open(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(row) = super::edit::row_to_change(state) else { return };
    let row = &state.rows[row];
    let account = row.account;
    let dep = state.snapshot(row).clone();
    // The file holds every setting: it is written from a full read only, never from a list summary.
    if !dep.detail {
        state.flash = Some("the settings are not read yet: wait for the details to load".into());
        return;
    }
    if dep.regions.is_empty() {
        state.flash = Some("no scale data yet: wait for the details to load".into());
        return;
    }
    let caps = state.accounts[account].capabilities;
    let editable = Editable::of(dep.key.provider, caps.logging_config);
    let catalog = state.catalogs.loaded(account);
    let text = settings::render_with(&dep, &editable, catalog.filter(|_| editable.source));
    // The choices a Sesterce file lists come from the catalog: have it for the next time.
    if editable.source && state.catalogs.start_load(account) {
        fx.push(Effect::LoadCatalog(account));
    }
    fx.push(Effect::Editor(Box::new(EditorJob {
        account,
        key: dep.key.clone(),
        base: Box::new(dep),
        editable,
        text,
    })));
}

/// The editor is closed: review what it gave, or say why nothing is sent.
pub fn on_edited(
    state: &mut State,
    job: EditorJob,
    outcome: Result<EditorOutcome, String>,
    fx: &mut Vec<Effect>,
) {
    state.dirty = true;
    let name = crate::model::text::sanitize(&job.base.name).into_owned();
    match outcome {
        Ok(EditorOutcome::Edited { settings, text }) => {
            // The review shows what the new scale costs against today's.
            let reviewed = super::cost::Reviewed {
                account: job.account,
                key: Some(job.key.clone()),
                name: job.base.name.clone(),
                hardware: job.base.hardware.as_deref().map(String::from),
                old: crate::model::ScaleUpdate::from_deployment(&job.base).regions,
                new: settings.scale.regions.clone(),
            };
            super::cost::open_review(state, vec![reviewed], fx);
            state.mode =
                Mode::Editor(Box::new(EditorReview { job, settings, text, stage: ReviewStage::Confirm }));
        }
        Ok(EditorOutcome::Unchanged) => {
            state.flash = Some(format!("{name}: nothing changed: nothing was sent"))
        }
        Ok(EditorOutcome::Cancelled(why)) => state.flash = Some(format!("{name}: {why}")),
        Err(e) => state.flash = Some(format!("the editor could not run: {e}; nothing was sent")),
    }
}

/// A key in the review.
pub fn on_key(state: &mut State, mut review: Box<EditorReview>, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    let again = |state: &State, review: &EditorReview, base: Deployment, text: String| EditorJob {
        account: review.job.account,
        key: review.job.key.clone(),
        editable: Editable::of(
            base.key.provider,
            state.accounts[review.job.account].capabilities.logging_config,
        ),
        base: Box::new(base),
        text,
    };
    match (&review.stage, key.code) {
        (ReviewStage::Confirm, KeyCode::Char('y') | KeyCode::Char('Y')) => {
            review.stage = ReviewStage::Applying;
            fx.push(Effect::Apply(Box::new(ApplyRequest {
                account: review.job.account,
                key: review.job.key.clone(),
                name: review.job.base.name.clone(),
                change: Change::Settings(review.settings.clone()),
                expected: review.job.base.clone(),
                source: None,
            })));
            state.mode = Mode::Editor(review);
        }
        // Back to the editor with what the user wrote.
        (ReviewStage::Confirm | ReviewStage::Failed(_), KeyCode::Char('e')) => {
            let base = (*review.job.base).clone();
            let mut text = review.text.clone();
            if let ReviewStage::Failed(why) = &review.stage {
                text = settings::with_errors(&text, std::slice::from_ref(why));
            }
            fx.push(Effect::Editor(Box::new(again(state, &review, base, text))));
        }
        // Another writer changed it: a fresh document from the latest record.
        (ReviewStage::Conflict { latest, .. }, KeyCode::Char('e')) => {
            let base = (**latest).clone();
            let text = settings::render(&base, &review.job.editable);
            fx.push(Effect::Editor(Box::new(again(state, &review, base, text))));
        }
        (ReviewStage::Applying, _) => {
            state.flash = Some("applying: waiting for the provider".into());
            state.mode = Mode::Editor(review);
        }
        (_, KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q')) => {
            state.flash = Some("edit cancelled: nothing was sent".into());
        }
        _ => state.mode = Mode::Editor(review),
    }
}

/// The outcome of the write, when the review is still open for that deployment.
pub fn on_applied(
    state: &mut State,
    key: &DeploymentKey,
    result: Result<Landed, ApplyFailure>,
    fx: &mut Vec<Effect>,
) {
    let Mode::Editor(review) = &mut state.mode else { return };
    if &review.job.key != key {
        return;
    }
    state.dirty = true;
    match result {
        Ok(Landed { applied, not_taken }) => {
            let name = crate::model::text::sanitize(&review.job.base.name).into_owned();
            let account = review.job.account;
            let settings = review.settings.clone();
            let provider = provider_name(review.job.key.provider);
            let (dep, what) = super::edit::landed(
                applied,
                Some(&review.job.base),
                Some(&crate::model::edit::Change::Settings(settings.clone())),
            );
            state.mode = Mode::Normal;
            let (unverified, missing): (Vec<_>, Vec<_>) = not_taken.iter().partition(|n| !n.verifiable());
            if missing.is_empty() {
                state
                    .pending
                    .insert(key.clone(), Pending { change: Change::Settings(settings), since: state.now });
                let mut msg = format!("{name}: {what}; watching the rollout");
                for n in &unverified {
                    msg.push_str(&format!("; {n}"));
                }
                state.flash = Some(msg);
            } else {
                // Never "applied" while a meant field is missing: say which, and keep saying it.
                let list: Vec<String> = missing.iter().map(|n| n.to_string()).collect();
                let message = format!("{name}: not everything took at {provider}: {}", list.join("; "));
                state.flash = Some(message.clone());
                super::state::toast(state, message);
            }
            state.details.entry(key.clone()).or_default().detail = Some((*dep, state.now));
            super::edit::settle_pending(state, Some(key));
            fx.push(Effect::Refresh(Some(account)));
        }
        Err(ApplyFailure::Conflict(latest)) => {
            // Another writer's env values are not shown either.
            let mut changes = review_lines(&review.job.base, &Settings::from_deployment(&latest), false);
            if changes.is_empty() {
                changes.push("  (fields outside the settings changed)".into());
            }
            review.stage = ReviewStage::Conflict { changes, latest };
        }
        // Sesterce wants what the instance runs with every update, and its details never say: the file has
        // the place for it.
        Err(ApplyFailure::Api(e))
            if crate::provider::sesterce::wants_source(&e) && review.settings.source.is_none() =>
        {
            review.stage = ReviewStage::Failed(format!(
                "{e}. Sesterce wants the instance's model or registry with this update: press e and set `model` \
                 or `registry` in the file to what the instance runs"
            ))
        }
        Err(ApplyFailure::Api(e)) => review.stage = ReviewStage::Failed(e.to_string()),
    }
}
