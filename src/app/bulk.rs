//! Marks and bulk changes. `Space` marks the selected row, `Ctrl-Space` every row the filter shows, `Esc`
//! (when it has nothing else to do) clears them; marks are kept by [`DeploymentKey`], so they survive refreshes
//! and resorts, and a deployment that is gone drops out.
//!
//! With marks, `s` opens a bulk scale form and `t` a bulk start/stop. Each marked deployment is planned from
//! its freshest snapshot: either a change (every region, old → new) or left out with the reason. `y` sends
//! each change as its own [`ApplyRequest`], so it takes the single edit's path (conflict check, write,
//! verify-after-write, audit); the sync layer's per-account limiter bounds how many run at once. A failure on
//! one never stops or undoes the others; the end state says, per deployment, what happened.

use super::edit::{ApplyFailure, ApplyRequest, Landed};
use super::input::LineInput;
use super::keymap::Action;
use super::lifecycle::{LifecycleRequest, describe, toggle_op};
use super::state::{LifecycleOp, Mode, Pending, State};
use super::update::Effect;
use crate::model::bulk::{BulkScale, ScaleOp};
pub use crate::model::bulk::{LeftOut, Outcome, RegionDelta};
use crate::model::edit::{Change, provider_name};
use crate::model::text::sanitize;
use crate::model::{Deployment, DeploymentKey, ScaleUpdate, Status};
use crate::provider::ApiError;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeSet;

/// The bulk scale form: one line per field, each "" (leave), `N`, `+N` or `−N`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkForm {
    /// min, max, cooldown.
    pub inputs: [LineInput; 3],
    pub focus: usize,
    /// Why the last key was not taken, shown beside the focused field (as the single form does) until the
    /// next key.
    pub notice: Option<&'static str>,
}

impl BulkForm {
    pub const LABELS: [&'static str; 3] = ["min", "max", "cooldown"];

    /// Each field's op, or its error.
    pub fn ops(&self) -> [Result<ScaleOp, String>; 3] {
        self.inputs.clone().map(|i| ScaleOp::parse(i.value()))
    }

    pub fn change(&self) -> Option<BulkScale> {
        match self.ops() {
            [Ok(min), Ok(max), Ok(cooldown)] => Some(BulkScale { min, max, cooldown }),
            _ => None,
        }
    }
}

/// What a bulk run does.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkWhat {
    Scale(BulkScale),
    StartStop,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BulkStage {
    Form(BulkForm),
    /// The marked deployments are read again, in full: the review is planned from those records.
    Reading {
        waiting: BTreeSet<DeploymentKey>,
        failed: Vec<(DeploymentKey, String)>,
    },
    /// The list of what will be sent and what is left out; `y` sends.
    Review,
    /// Sent; outcomes arrive one by one.
    Running,
    /// Every outcome is in.
    Done,
}

/// What one deployment will get.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// The scale section to send, checked against `expected` (the snapshot the review showed); `regions` are
    /// the ones that change, old and new, for the review and for a cost delta.
    Scale {
        expected: Box<Deployment>,
        update: ScaleUpdate,
        regions: Vec<RegionDelta>,
    },
    Lifecycle {
        op: LifecycleOp,
        what: String,
    },
}

/// One deployment of a bulk run. Carries the key and, for scale, the old and new scale per region, which is
/// what a cost delta per deployment (and a total) is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    pub key: DeploymentKey,
    pub account: usize,
    pub name: String,
    pub planned: Planned,
    pub outcome: Outcome,
}

impl BulkItem {
    /// The edit a planned scale change sends (the single edit's request, checked against the planned record),
    /// with the model or registry `source` when one was picked.
    pub fn apply_request(&self, source: Option<super::edit::Picked>) -> Option<ApplyRequest> {
        let Planned::Scale { expected, update, .. } = &self.planned else { return None };
        Some(ApplyRequest {
            account: self.account,
            key: self.key.clone(),
            name: self.name.clone(),
            change: Change::Scale(update.clone()),
            expected: expected.clone(),
            source,
        })
    }
}

/// A bulk change from its form to its end state.
#[derive(Debug, Clone, PartialEq)]
pub struct Bulk {
    pub what: BulkWhat,
    pub stage: BulkStage,
    pub items: Vec<BulkItem>,
    pub left_out: Vec<LeftOut>,
    /// First line shown of the review or the end state.
    pub scroll: usize,
}

impl Bulk {
    /// `3 applied · 1 conflict · 1 refused · 0 unknown` (partial only when there is one).
    pub fn tally(&self) -> String {
        crate::model::bulk::tally(self.items.iter().map(|i| i.outcome.label()), self.left_out.len())
    }

    /// `min set to 0` or `start/stop`.
    pub fn title(&self) -> String {
        match &self.what {
            BulkWhat::Scale(b) => format!("Bulk scale: {}", b.summary()),
            BulkWhat::StartStop => "Bulk start/stop".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------- marks

/// Space: marks or unmarks the selected row.
pub(super) fn toggle_mark(state: &mut State) {
    state.dirty = true;
    let Some(key) = state.selected_row().map(|r| r.dep.key.clone()) else {
        state.flash = Some("select a deployment first".into());
        return;
    };
    if !state.marks.remove(&key) {
        state.marks.insert(key);
    }
    state.flash = Some(marked_text(state));
}

/// Ctrl-Space: marks every row the filter (and provider scope) shows.
pub(super) fn mark_all_shown(state: &mut State) {
    state.dirty = true;
    for &i in &state.view {
        state.marks.insert(state.rows[i].dep.key.clone());
    }
    state.flash = Some(marked_text(state));
}

/// Esc, once nothing else was left to undo: clears the marks. Returns whether there were any.
pub(super) fn clear_marks(state: &mut State) -> bool {
    if state.marks.is_empty() {
        return false;
    }
    state.marks.clear();
    state.flash = Some("marks cleared".into());
    state.dirty = true;
    true
}

fn marked_text(state: &State) -> String {
    match state.marks.len() {
        0 => "no marks".into(),
        n => format!("{n} marked: s scales, t starts/stops them all; Esc clears"),
    }
}

/// After a list: deployments that are gone drop out of the marks.
pub(super) fn prune_marks(state: &mut State) {
    let before = state.marks.len();
    state.marks.retain(|k| state.index.contains_key(k));
    if state.marks.len() != before {
        state.dirty = true;
    }
}

/// The marked rows in table order (sorted, whatever the filter shows).
fn marked_in_order(state: &State) -> Vec<usize> {
    state.sorted.iter().copied().filter(|&i| state.marks.contains(&state.rows[i].dep.key)).collect()
}

// ---------------------------------------------------------------------------------------------- planning

/// `s` or `t` with marks: the bulk form, or straight to the start/stop review. A run still under way is
/// shown again instead.
pub(super) fn open(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    state.dirty = true;
    if state.read_only {
        state.flash = Some("read-only mode: changes are off".into());
        return;
    }
    // A run under way, or finished but not looked at yet, is shown again.
    if let Some(b) = &state.bulk
        && matches!(b.stage, BulkStage::Running | BulkStage::Done)
    {
        state.mode = Mode::Bulk;
        return;
    }
    let mut bulk = Bulk {
        what: BulkWhat::Scale(BulkScale::default()),
        stage: BulkStage::Form(BulkForm::default()),
        items: Vec::new(),
        left_out: Vec::new(),
        scroll: 0,
    };
    if action == Action::StartStop {
        bulk.what = BulkWhat::StartStop;
        start_reading(state, &mut bulk, fx);
    }
    state.bulk = Some(Box::new(bulk));
    state.mode = Mode::Bulk;
}

/// Asks for a fresh full read of every marked deployment; the review follows when all have answered.
fn start_reading(state: &State, bulk: &mut Bulk, fx: &mut Vec<Effect>) {
    let keys: Vec<(usize, DeploymentKey)> = marked_in_order(state)
        .into_iter()
        .map(|i| (state.rows[i].account, state.rows[i].dep.key.clone()))
        .collect();
    bulk.stage =
        BulkStage::Reading { waiting: keys.iter().map(|(_, k)| k.clone()).collect(), failed: Vec::new() };
    bulk.scroll = 0;
    if keys.is_empty() {
        plan(state, bulk, &[]);
    } else {
        fx.push(Effect::ReadDetails(keys));
    }
}

/// A details read answered: once every marked deployment has, the review.
pub(super) fn on_detail(
    state: &mut State,
    key: &DeploymentKey,
    failed: Option<String>,
    fx: &mut Vec<Effect>,
) {
    let Some(mut bulk) = state.bulk.take() else { return };
    let mut planned = false;
    if let BulkStage::Reading { waiting, failed: errors } = &mut bulk.stage
        && waiting.remove(key)
    {
        if let Some(e) = failed {
            errors.push((key.clone(), e));
        }
        if waiting.is_empty() {
            let errors = std::mem::take(errors);
            plan(state, &mut bulk, &errors);
            planned = true;
        }
        state.dirty = true;
    }
    if planned {
        super::cost::open_review(state, cost_items(&bulk), fx);
    }
    state.bulk = Some(bulk);
}

/// What the review's cost lines are computed from: each scale change's old and new scale, whole.
fn cost_items(bulk: &Bulk) -> Vec<super::cost::Reviewed> {
    bulk.items
        .iter()
        .filter_map(|item| match &item.planned {
            Planned::Scale { expected, update, .. } => Some(super::cost::Reviewed {
                account: item.account,
                key: Some(item.key.clone()),
                name: item.name.clone(),
                hardware: expected.hardware.as_deref().map(String::from),
                old: crate::model::ScaleUpdate::from_deployment(expected).regions,
                new: update.regions.clone(),
            }),
            Planned::Lifecycle { .. } => None,
        })
        .collect()
}

/// The review: every marked deployment planned from its freshest record.
fn plan(state: &State, bulk: &mut Bulk, failed: &[(DeploymentKey, String)]) {
    let (items, left_out) = match &bulk.what {
        BulkWhat::Scale(c) => plan_scale(state, c, failed),
        BulkWhat::StartStop => plan_start_stop(state, failed),
    };
    bulk.items = items;
    bulk.left_out = left_out;
    bulk.scroll = 0;
    bulk.stage = BulkStage::Review;
}

/// Why a marked deployment's record cannot be planned from: its read failed, or there is no full one.
fn unread(state: &State, i: usize, failed: &[(DeploymentKey, String)]) -> Option<String> {
    let row = &state.rows[i];
    if let Some((_, e)) = failed.iter().find(|(k, _)| *k == row.dep.key) {
        return Some(format!("could not read it: {e}"));
    }
    if let Some(f) = state.in_flight.get(&row.dep.key) {
        return Some(format!("{} sent earlier is not confirmed yet: nothing sent", f.what()));
    }
    (!state.snapshot(row).detail).then(|| "details not read yet: try again".to_string())
}

/// Every marked deployment, planned for `change` from its freshest snapshot.
pub fn plan_scale(
    state: &State,
    change: &BulkScale,
    failed: &[(DeploymentKey, String)],
) -> (Vec<BulkItem>, Vec<LeftOut>) {
    let mut items = Vec::new();
    let mut left_out = Vec::new();
    for i in marked_in_order(state) {
        let row = &state.rows[i];
        let dep = state.snapshot(row);
        let name = sanitize(&dep.name).into_owned();
        let out = |why: String| LeftOut { key: dep.key.clone(), name: name.clone(), why };
        match unread(state, i, failed).map_or_else(|| scale_one(state, i, change), Err) {
            Ok(planned) => items.push(BulkItem {
                key: dep.key.clone(),
                account: row.account,
                name: dep.name.clone(),
                planned,
                outcome: Outcome::Ready,
            }),
            Err(why) => left_out.push(out(why)),
        }
    }
    (items, left_out)
}

fn scale_one(state: &State, i: usize, change: &BulkScale) -> Result<Planned, String> {
    let row = &state.rows[i];
    let dep = state.snapshot(row);
    if row.awaiting_details(&state.accounts) {
        return Err("details not read yet: wait for them to load, then try again".into());
    }
    let can = state.accounts[row.account].capabilities.update_scale;
    let (update, regions) = crate::model::bulk::plan_scale(dep, can, true, change, None)?;
    Ok(Planned::Scale { expected: Box::new(dep.clone()), update, regions })
}

/// What `t` would do to each marked deployment, from its freshest snapshot.
fn plan_start_stop(state: &State, failed: &[(DeploymentKey, String)]) -> (Vec<BulkItem>, Vec<LeftOut>) {
    let mut items = Vec::new();
    let mut left_out = Vec::new();
    for i in marked_in_order(state) {
        let row = &state.rows[i];
        let dep = state.snapshot(row);
        let caps = state.accounts[row.account].capabilities;
        let planned = if let Some(why) = unread(state, i, failed) {
            Err(why)
        } else if !caps.start_stop {
            Err(format!("{} does not offer start and stop", provider_name(dep.key.provider)))
        } else {
            toggle_op(dep)
        };
        match planned {
            Ok(op) => items.push(BulkItem {
                key: dep.key.clone(),
                account: row.account,
                name: dep.name.clone(),
                planned: Planned::Lifecycle { op, what: describe(op, dep) },
                outcome: Outcome::Ready,
            }),
            Err(why) => {
                left_out.push(LeftOut { key: dep.key.clone(), name: sanitize(&dep.name).into_owned(), why })
            }
        }
    }
    (items, left_out)
}

// ---------------------------------------------------------------------------------------------- keys

/// A key while the bulk view is open.
pub(super) fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    let Some(mut bulk) = state.bulk.take() else { return };
    state.mode = Mode::Bulk;
    match bulk.stage.clone() {
        BulkStage::Form(mut form) => {
            if !on_form_key(state, &mut bulk, &mut form, key, fx) {
                state.mode = Mode::Normal;
                return;
            }
            if let BulkStage::Form(_) = bulk.stage {
                bulk.stage = BulkStage::Form(form);
            }
        }
        BulkStage::Reading { .. } => {
            if key.code == KeyCode::Esc {
                state.mode = Mode::Normal;
                state.flash = Some("bulk change cancelled: nothing was sent".into());
                return;
            }
        }
        BulkStage::Review => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') if !bulk.items.is_empty() => send(state, &mut bulk, fx),
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                state.flash = Some("nothing to send: every marked deployment is left out".into())
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => match bulk.what {
                BulkWhat::Scale(c) => {
                    let mut form = BulkForm::default();
                    for (input, op) in form.inputs.iter_mut().zip([c.min, c.max, c.cooldown]) {
                        if !op.is_leave() {
                            input.set(op_text(op));
                        }
                    }
                    bulk.stage = BulkStage::Form(form);
                }
                BulkWhat::StartStop => {
                    state.mode = Mode::Normal;
                    state.flash = Some("start/stop cancelled: nothing was sent".into());
                    return;
                }
            },
            _ => scroll(&mut bulk, key),
        },
        BulkStage::Running => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                state.mode = Mode::Normal;
                state.flash = Some("the bulk change goes on: s or t shows it again".into());
            }
            _ => scroll(&mut bulk, key),
        },
        BulkStage::Done => match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {
                state.mode = Mode::Normal;
                state.flash = Some(format!("bulk change: {}", bulk.tally()));
                // Closed: the next s or t with marks starts a new one.
                return;
            }
            _ => scroll(&mut bulk, key),
        },
    }
    state.bulk = Some(bulk);
}

/// A key in the bulk form; false when the form is closed.
fn on_form_key(
    state: &mut State,
    bulk: &mut Bulk,
    form: &mut BulkForm,
    key: KeyEvent,
    fx: &mut Vec<Effect>,
) -> bool {
    form.notice = None;
    match key.code {
        KeyCode::Esc => {
            state.flash = Some("bulk change cancelled: nothing was sent".into());
            state.bulk = None;
            return false;
        }
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
        KeyCode::Enter => match form.change() {
            None => form.notice = Some("a field needs attention: N sets, +N or −N changes, empty leaves"),
            Some(c) if c.is_noop() => form.notice = Some("every field says leave: nothing to change"),
            Some(c) => {
                bulk.what = BulkWhat::Scale(c);
                start_reading(state, bulk, fx);
            }
        },
        _ => {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            if let KeyCode::Char(c) = key.code
                && !ctrl
                && !(c.is_ascii_digit() || matches!(c, '+' | '-' | '−' | '='))
            {
                form.notice = Some("N sets, +N or −N changes, empty leaves as is");
            } else {
                form.inputs[form.focus].handle(key);
            }
            if let Some(c) = form.change() {
                bulk.what = BulkWhat::Scale(c);
            }
        }
    }
    true
}

fn op_text(op: ScaleOp) -> String {
    match op {
        ScaleOp::Leave => String::new(),
        ScaleOp::Set(n) => n.to_string(),
        ScaleOp::Add(n) => format!("+{n}"),
        ScaleOp::Sub(n) => format!("-{n}"),
    }
}

fn scroll(bulk: &mut Bulk, key: KeyEvent) {
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => bulk.scroll += 1,
        KeyCode::Char('k') | KeyCode::Up => bulk.scroll = bulk.scroll.saturating_sub(1),
        KeyCode::PageDown => bulk.scroll += 10,
        KeyCode::PageUp => bulk.scroll = bulk.scroll.saturating_sub(10),
        KeyCode::Char('g') | KeyCode::Home => bulk.scroll = 0,
        _ => {}
    }
}

/// `y`: every planned change goes out as its own request.
fn send(state: &mut State, bulk: &mut Bulk, fx: &mut Vec<Effect>) {
    bulk.stage = BulkStage::Running;
    bulk.scroll = 0;
    for item in &mut bulk.items {
        match &item.planned {
            Planned::Scale { .. } => {
                fx.extend(item.apply_request(None).map(|r| Effect::Apply(Box::new(r))));
                item.outcome = Outcome::Sent;
            }
            Planned::Lifecycle { op, .. } => {
                // As the single prompt does: if it moved since the review, what was asked no longer fits.
                let now = state.index.get(&item.key).map(|&i| state.snapshot(&state.rows[i]));
                match now.map(toggle_op) {
                    Some(Ok(o)) if o == *op => {
                        fx.push(Effect::Lifecycle(LifecycleRequest {
                            account: item.account,
                            key: item.key.clone(),
                            name: item.name.clone(),
                            op: *op,
                        }));
                        item.outcome = Outcome::Sent;
                    }
                    _ => {
                        let now = now.map(|d| d.status.label()).unwrap_or_else(|| "gone".into());
                        item.outcome = Outcome::Refused(format!("it is {now} now: nothing sent"));
                    }
                }
            }
        }
    }
    finish_if_done(state, bulk);
}

// ---------------------------------------------------------------------------------------------- outcomes

/// Whether an outcome for `key` belongs to the bulk run under way.
pub(super) fn owns(state: &State, key: &DeploymentKey) -> bool {
    state.bulk.as_ref().is_some_and(|b| b.items.iter().any(|i| &i.key == key && i.outcome == Outcome::Sent))
}

/// The outcome of one bulk scale change.
pub(super) fn on_applied(
    state: &mut State,
    key: DeploymentKey,
    result: Result<Landed, ApplyFailure>,
    fx: &mut Vec<Effect>,
) {
    state.dirty = true;
    let Some(mut bulk) = state.bulk.take() else { return };
    if let Some(item) = bulk.items.iter_mut().find(|i| i.key == key && i.outcome == Outcome::Sent)
        && let Planned::Scale { expected, update, .. } = &item.planned
    {
        let (outcome, read_back) = scale_outcome(expected, update, result, |_| {
            // One prompt per instance would be N prompts: the single edit (s on the row alone) asks for it.
            "Sesterce wants the instance's model or registry: clear the marks (Esc), then s on it picks one"
                .into()
        });
        if let Some(dep) = read_back {
            // A stopped deployment has nothing to roll out until it is started.
            let at_rest = matches!(dep.status, Status::Disabled | Status::Stopped);
            if matches!(outcome, Outcome::Applied(_)) && !at_rest {
                // Followed until it has rolled out, as a single edit is (the row shows ⟳).
                let change = Change::Scale(update.clone());
                state.pending.insert(key.clone(), Pending { change, since: state.now });
            }
            // The read-back is the freshest record there is.
            state.details.entry(key.clone()).or_default().detail = Some((*dep, state.now));
            fx.push(Effect::Refresh(Some(item.account)));
        }
        item.outcome = outcome;
    }
    finish_if_done(state, &mut bulk);
    state.bulk = Some(bulk);
}

/// The outcome of a scale change planned from `expected` and sent as `update`, in the bulk end table's words
/// (also `infertop scale`'s), and the read-back when the write landed. `sesterce_hint`: what to say when
/// Sesterce refuses for want of the instance's model.
pub fn scale_outcome(
    expected: &Deployment,
    update: &ScaleUpdate,
    result: Result<Landed, ApplyFailure>,
    sesterce_hint: impl FnOnce(&ApiError) -> String,
) -> (Outcome, Option<Box<Deployment>>) {
    match result {
        Ok(Landed { applied, not_taken }) => {
            let change = Change::Scale(update.clone());
            let (dep, word) = super::edit::landed(applied, Some(expected), Some(&change));
            let outcome = if not_taken.is_empty() {
                Outcome::Applied(format!("{word}; read back as asked"))
            } else {
                let missing: Vec<String> = not_taken.iter().map(|n| n.to_string()).collect();
                Outcome::Partial(missing.join("; "))
            };
            (outcome, Some(dep))
        }
        Err(ApplyFailure::Conflict(latest)) => {
            let changed =
                super::form::diff_against(expected, &Change::Scale(ScaleUpdate::from_deployment(&latest)));
            let changed: Vec<String> = changed.iter().map(|l| l.trim().to_string()).collect();
            let outcome = Outcome::Conflict(if changed.is_empty() {
                "changed by another writer since the review: nothing sent".into()
            } else {
                format!("changed by another writer since the review ({}): nothing sent", changed.join("; "))
            });
            (outcome, None)
        }
        Err(ApplyFailure::Api(e)) if crate::provider::sesterce::wants_source(&e) => {
            (Outcome::Refused(sesterce_hint(&e)), None)
        }
        Err(ApplyFailure::Api(e)) => {
            // A refusal or a failure, sorted: the write may have landed (unknown), or it did not.
            let text = e.to_string();
            let outcome = if text.contains("the outcome is unknown") {
                Outcome::Unknown(text)
            } else {
                Outcome::Refused(text)
            };
            (outcome, None)
        }
    }
}

/// The outcome of one bulk start or stop.
pub(super) fn on_lifecycle(
    state: &mut State,
    key: DeploymentKey,
    result: Result<(), ApiError>,
    fx: &mut Vec<Effect>,
) {
    state.dirty = true;
    let Some(mut bulk) = state.bulk.take() else { return };
    if let Some(item) = bulk.items.iter_mut().find(|i| i.key == key && i.outcome == Outcome::Sent) {
        item.outcome = match result {
            Ok(()) => {
                fx.push(Effect::Refresh(Some(item.account)));
                Outcome::Applied("done".into())
            }
            Err(e) => Outcome::Refused(e.to_string()),
        };
    }
    finish_if_done(state, &mut bulk);
    state.bulk = Some(bulk);
}

fn finish_if_done(state: &mut State, bulk: &mut Bulk) {
    if bulk.stage == BulkStage::Running && !bulk.items.iter().any(|i| i.outcome == Outcome::Sent) {
        bulk.stage = BulkStage::Done;
        bulk.scroll = 0;
        if state.mode != Mode::Bulk {
            state.flash = Some(format!("bulk change done: {} (s or t shows it)", bulk.tally()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AccountState;
    use crate::app::update::{Msg, update};
    use crate::model::{ProviderKind, RegionReplicas, Scale};
    use crate::provider::Capabilities;
    use chrono::TimeZone;
    use std::time::Duration;

    fn caps(start_stop: bool) -> Capabilities {
        Capabilities {
            update_scale: true,
            update_probes: true,
            start_stop,
            delete: true,
            logs: true,
            metrics: false,
            logging_config: true,
            per_region_scale: true,
            pricing: false,
            create: true,
        }
    }

    fn dep(account: &str, p: ProviderKind, name: &str, status: Status, min: u32, max: u32) -> Deployment {
        let key = DeploymentKey { provider: p, account: account.into(), id: name.into() };
        let mut d = Deployment::new(key, name, status);
        d.regions.push(RegionReplicas {
            region_id: "7".into(),
            region_name: Some("Luxembourg-2".into()),
            ready: min,
            total: min,
            scale: Scale { min, max, ..Default::default() },
            error: None,
        });
        d
    }

    fn state() -> State {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut s = State::new(
            vec![
                AccountState::new("g", ProviderKind::Gcore, caps(true)),
                AccountState::new("r", ProviderKind::Runai, caps(false)),
            ],
            Duration::from_secs(5),
            now,
        );
        update(&mut s, Msg::Resize(120, 40));
        let g = vec![
            dep("g", ProviderKind::Gcore, "alpha-staging", Status::Active, 1, 2),
            dep("g", ProviderKind::Gcore, "bravo", Status::Disabled, 1, 3),
            dep("g", ProviderKind::Gcore, "charlie-staging", Status::Deleting, 0, 2),
        ];
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(g) });
        let r = vec![dep("r", ProviderKind::Runai, "delta-staging", Status::Running, 1, 1)];
        update(&mut s, Msg::Fleet { account: 1, at: now, result: Ok(r) });
        s
    }

    fn press(s: &mut State, c: KeyCode) -> Vec<Effect> {
        update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
    }

    fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
        update(s, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)))
    }

    /// Answers the fresh reads a bulk asks for, as the sync layer would: each row's record, read in full.
    fn answer_reads(s: &mut State, fx: Vec<Effect>) {
        for e in fx {
            if let Effect::ReadDetails(keys) = e {
                for (_, key) in keys {
                    let mut d = s.rows[s.index[&key]].dep.clone();
                    d.detail = true;
                    let at = s.now;
                    update(s, Msg::Detail { key, at, result: Ok(d) });
                }
            }
        }
    }

    fn marked(s: &State) -> Vec<&str> {
        s.marks.iter().map(|k| k.id.as_str()).collect()
    }

    fn filter(s: &mut State, text: &str) {
        press(s, KeyCode::Char('/'));
        for c in text.chars() {
            press(s, KeyCode::Char(c));
        }
        press(s, KeyCode::Enter);
    }

    /// Marks what `text` filters to and asks a bulk scale of min 2: the effects of the Enter (the reads).
    fn scale_min_to_2(s: &mut State, text: &str) -> Vec<Effect> {
        filter(s, text);
        ctrl(s, ' ');
        press(s, KeyCode::Char('s'));
        press(s, KeyCode::Char('2'));
        press(s, KeyCode::Enter)
    }

    /// Marks alpha and bravo, asks max +1, answers the reads and presses y: the scale changes sent.
    fn send_max_plus_one(s: &mut State) -> Vec<ApplyRequest> {
        filter(s, "alpha|bravo");
        ctrl(s, ' ');
        press(s, KeyCode::Char('s'));
        press(s, KeyCode::Tab);
        for c in "+1".chars() {
            press(s, KeyCode::Char(c));
        }
        let fx = press(s, KeyCode::Enter);
        answer_reads(s, fx);
        press(s, KeyCode::Char('y'))
            .into_iter()
            .filter_map(|e| match e {
                Effect::Apply(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn marking_says_how_many_are_marked_and_what_they_are_for() {
        let mut s = state();
        let said = |n: usize| format!("{n} marked: s scales, t starts/stops them all; Esc clears");
        press(&mut s, KeyCode::Char(' '));
        assert_eq!(s.flash.as_deref(), Some(said(1).as_str()));
        press(&mut s, KeyCode::Char(' '));
        assert_eq!(s.flash.as_deref(), Some("no marks"), "Space again unmarks");
        ctrl(&mut s, ' ');
        let n = s.marks.len();
        assert!(n > 1, "every row shown is marked");
        assert_eq!(s.flash.as_deref(), Some(said(n).as_str()));
    }

    #[test]
    fn marks_follow_the_deployment_through_resorts_and_refreshes_and_drop_when_it_is_gone() {
        let mut s = state();
        press(&mut s, KeyCode::Char(' '));
        assert_eq!(marked(&s), ["alpha-staging"]);
        press(&mut s, KeyCode::Char('N'));
        press(&mut s, KeyCode::Char('N'));
        let now = s.now;
        let g = vec![
            dep("g", ProviderKind::Gcore, "bravo", Status::Disabled, 1, 3),
            dep("g", ProviderKind::Gcore, "alpha-staging", Status::Active, 1, 2),
        ];
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(g.clone()) });
        assert_eq!(marked(&s), ["alpha-staging"], "kept by key, not by row");
        // Space again unmarks; a deployment gone from the list drops out.
        ctrl(&mut s, ' ');
        assert_eq!(s.marks.len(), 3);
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(vec![g[0].clone()]) });
        assert_eq!(marked(&s), ["bravo", "delta-staging"]);
    }

    #[test]
    fn ctrl_space_and_ctrl_at_mark_what_the_filter_shows_and_esc_clears_last() {
        let mut s = state();
        filter(&mut s, "staging");
        ctrl(&mut s, '@');
        assert_eq!(marked(&s), ["alpha-staging", "charlie-staging", "delta-staging"]);
        s.marks.clear();
        ctrl(&mut s, ' ');
        assert_eq!(s.marks.len(), 3);
        // Esc first clears the filter, then the marks.
        press(&mut s, KeyCode::Esc);
        assert!(s.filter.text.is_empty());
        assert_eq!(s.marks.len(), 3);
        press(&mut s, KeyCode::Esc);
        assert!(s.marks.is_empty());
    }

    #[test]
    fn bulk_scale_lists_what_changes_and_what_is_left_out_and_why() {
        let mut s = state();
        ctrl(&mut s, ' ');
        press(&mut s, KeyCode::Char('s'));
        assert_eq!(s.mode, Mode::Bulk);
        for c in "0".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Char('9'));
        let fx = press(&mut s, KeyCode::Enter);
        assert!(matches!(s.bulk.as_ref().unwrap().stage, BulkStage::Reading { .. }));
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Review);
        let names: Vec<&str> = b.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["alpha-staging", "bravo"]);
        let Planned::Scale { regions, .. } = &b.items[0].planned else { panic!() };
        assert_eq!(regions[0].changes(), ["min 1 → 0", "cooldown unset → 9s"]);
        let why: Vec<(&str, &str)> = b.left_out.iter().map(|l| (l.name.as_str(), l.why.as_str())).collect();
        assert_eq!(
            why,
            [
                ("charlie-staging", "it is DELETING: nothing to scale"),
                ("delta-staging", "Run:ai has no cooldown"),
            ]
        );
        // +1 on a field that is unset has nothing to add to; below zero is refused, not clamped.
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Tab);
        press(&mut s, KeyCode::Backspace);
        press(&mut s, KeyCode::Char('+'));
        press(&mut s, KeyCode::Enter);
        let BulkStage::Form(form) = &s.bulk.as_ref().unwrap().stage else { panic!("still the form") };
        assert!(form.notice.unwrap().contains("needs attention"), "a bare + is no op");
        press(&mut s, KeyCode::Char('1'));
        let fx = press(&mut s, KeyCode::Enter);
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Review, "{:?}", s.flash);
        assert!(
            b.left_out.iter().any(|l| l.why.contains("cooldown in Luxembourg-2: is unset")),
            "{:?}",
            b.left_out
        );
    }

    /// Issue 25: a marked Run:ai deployment that is `Terminating` is left out with its reason, as one
    /// `Deleting` is; nothing is planned for it.
    #[test]
    fn a_terminating_runai_deployment_is_left_out_with_its_reason() {
        let mut s = state();
        let now = s.now;
        let r = vec![
            dep("r", ProviderKind::Runai, "delta-staging", Status::Running, 1, 1),
            dep("r", ProviderKind::Runai, "echo-staging", Status::Terminating, 1, 1),
        ];
        update(&mut s, Msg::Fleet { account: 1, at: now, result: Ok(r) });
        filter(&mut s, "delta|echo");
        ctrl(&mut s, ' ');
        assert_eq!(marked(&s), ["delta-staging", "echo-staging"]);
        // min +1 and max +1: 1..1 becomes 2..2, which Run:ai takes without a metric.
        press(&mut s, KeyCode::Char('s'));
        for c in "+1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Tab);
        for c in "+1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        let fx = press(&mut s, KeyCode::Enter);
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Review, "{:?}", s.flash);
        let names: Vec<&str> = b.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["delta-staging"]);
        let why: Vec<(&str, &str)> = b.left_out.iter().map(|l| (l.name.as_str(), l.why.as_str())).collect();
        assert_eq!(why, [("echo-staging", "it is Terminating: nothing to scale")]);
    }

    #[test]
    fn y_sends_one_apply_per_deployment_and_routes_the_outcomes_to_the_bulk() {
        let mut s = state();
        let sent = send_max_plus_one(&mut s);
        assert_eq!(sent.len(), 2);
        let Change::Scale(u) = &sent[0].change else { panic!() };
        assert_eq!((u.regions[0].scale.min, u.regions[0].scale.max), (1, 3));
        // Hidden while it runs, the outcomes still land in it.
        press(&mut s, KeyCode::Esc);
        assert_eq!(s.mode, Mode::Normal);
        // Its rows are in flight: p, e and Ctrl-D on one say so and send nothing.
        let selected = s.selected_row().unwrap().dep.key.clone();
        assert!(sent.iter().any(|r| r.key == selected));
        assert_eq!(s.in_flight.get(&selected).map(|f| f.label()).as_deref(), Some("applying scale"));
        for k in ['p', 'e', 'd'] {
            let fx = if k == 'd' { ctrl(&mut s, 'd') } else { press(&mut s, KeyCode::Char(k)) };
            assert!(
                fx.iter().all(|e| !matches!(e, Effect::Apply(_) | Effect::Lifecycle(_) | Effect::Editor(_))),
                "{k}: {fx:?}"
            );
            assert_eq!(s.mode, Mode::Normal, "{k}");
            assert!(
                s.flash.as_deref().is_some_and(|f| f.contains("a scale edit was sent")),
                "{k}: {:?}",
                s.flash
            );
        }
        let key = sent[1].key.clone();
        let err =
            ApiError::new(ProviderKind::Gcore, crate::provider::ErrorKind::Validation, "no").with_status(422);
        update(&mut s, Msg::Applied { key, result: Err(ApplyFailure::Api(err)) });
        let mut read_back = (*sent[0].expected).clone();
        read_back.regions[0].scale.max = 3;
        let landed =
            Landed { applied: crate::provider::Applied::Done(Box::new(read_back)), not_taken: vec![] };
        update(&mut s, Msg::Applied { key: sent[0].key.clone(), result: Ok(landed) });
        assert!(s.in_flight.is_empty(), "both outcomes landed: {:?}", s.in_flight);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Done);
        assert!(b.tally().starts_with("1 applied · 0 conflict · 1 refused · 0 unknown"), "{}", b.tally());
        assert!(s.flash.as_deref().unwrap().contains("bulk change done"), "{:?}", s.flash);
        assert!(s.pending.contains_key(&sent[0].key), "the applied one is followed until it rolls out");
        // s shows the end state again; closing it forgets it.
        press(&mut s, KeyCode::Char('s'));
        assert_eq!(s.mode, Mode::Bulk);
        press(&mut s, KeyCode::Esc);
        assert!(s.bulk.is_none());
    }

    #[test]
    fn a_row_with_a_stop_in_flight_is_left_out_of_a_bulk_start_stop() {
        let mut s = state();
        // A single stop of alpha-staging, sent and not confirmed yet.
        press(&mut s, KeyCode::Char('t'));
        let fx = press(&mut s, KeyCode::Char('y'));
        assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Lifecycle(_))).count(), 1);
        ctrl(&mut s, ' ');
        let fx = press(&mut s, KeyCode::Char('t'));
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        let names: Vec<&str> = b.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["bravo"]);
        let out = b.left_out.iter().find(|l| l.name == "alpha-staging").expect("left out");
        assert!(out.why.contains("a stop sent earlier is not confirmed yet"), "{}", out.why);
    }

    #[test]
    fn t_with_marks_lists_what_it_would_do_to_each_and_sends_after_one_y() {
        let mut s = state();
        ctrl(&mut s, ' ');
        let fx = press(&mut s, KeyCode::Char('t'));
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Review);
        let what: Vec<String> = b
            .items
            .iter()
            .map(|i| match &i.planned {
                Planned::Lifecycle { op, .. } => format!("{} {}", op.verb(), i.name),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(what, ["stop alpha-staging", "start bravo"]);
        assert_eq!(b.left_out.len(), 2, "{:?}", b.left_out);
        assert!(b.left_out[1].why.contains("does not offer start and stop"));
        let fx = press(&mut s, KeyCode::Char('y'));
        assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Lifecycle(_))).count(), 2);
        // Sent and not confirmed: the rows say so, and nothing more is sent for them.
        press(&mut s, KeyCode::Esc);
        let alpha = s.selected_row().unwrap().dep.key.clone();
        assert_eq!(s.in_flight.get(&alpha).map(|f| f.label()).as_deref(), Some("stopping"));
        ctrl(&mut s, 'd');
        assert_eq!(s.mode, Mode::Normal);
        assert!(s.flash.as_deref().is_some_and(|f| f.contains("a stop was sent")), "{:?}", s.flash);
        let name = "alpha-staging".to_string();
        update(&mut s, Msg::Lifecycle { key: alpha.clone(), name, op: LifecycleOp::Stop, result: Ok(()) });
        assert!(!s.in_flight.contains_key(&alpha), "confirmed: the mark goes");
        // Ctrl-D stays single-row: the delete prompt names the selected deployment only.
        ctrl(&mut s, 'd');
        assert!(
            matches!(&s.mode, Mode::Confirm(c) if c.op == LifecycleOp::Delete && c.name == "alpha-staging")
        );
    }

    #[test]
    fn the_review_is_planned_from_fresh_full_reads_and_a_failed_read_is_left_out() {
        let mut s = state();
        let fx = scale_min_to_2(&mut s, "alpha|bravo");
        let Some(Effect::ReadDetails(keys)) = fx.into_iter().find(|e| matches!(e, Effect::ReadDetails(_)))
        else {
            panic!("no reads asked for")
        };
        assert_eq!(keys.len(), 2);
        // alpha was scaled by someone else since the list: the review shows the fresh record's values.
        let mut alpha = s.rows[s.index[&keys[0].1]].dep.clone();
        alpha.detail = true;
        alpha.regions[0].scale.max = 5;
        let at = s.now;
        update(&mut s, Msg::Detail { key: keys[0].1.clone(), at, result: Ok(alpha) });
        assert!(matches!(s.bulk.as_ref().unwrap().stage, BulkStage::Reading { .. }), "one to go");
        let err =
            ApiError::new(ProviderKind::Gcore, crate::provider::ErrorKind::Server, "boom").with_status(503);
        update(&mut s, Msg::Detail { key: keys[1].1.clone(), at, result: Err(err) });
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Review);
        let Planned::Scale { regions, expected, .. } = &b.items[0].planned else { panic!() };
        assert_eq!((regions[0].changes(), expected.regions[0].scale.max), (vec!["min 1 → 2".to_string()], 5));
        assert_eq!(b.left_out[0].name, "bravo");
        assert!(b.left_out[0].why.starts_with("could not read it:"), "{}", b.left_out[0].why);
    }

    /// While the fresh reads are under way only Esc does anything (it cancels, nothing sent); in a review
    /// where every marked deployment is left out, y sends nothing and says so.
    #[test]
    fn while_reading_only_esc_cancels_and_y_with_all_left_out_sends_nothing() {
        let mut s = state();
        scale_min_to_2(&mut s, "alpha|bravo");
        for c in [KeyCode::Char('j'), KeyCode::Char('y'), KeyCode::Enter] {
            assert!(press(&mut s, c).is_empty());
            assert_eq!(s.mode, Mode::Bulk, "{c:?} while reading");
            assert!(matches!(s.bulk.as_ref().unwrap().stage, BulkStage::Reading { .. }), "{c:?}");
        }
        assert!(press(&mut s, KeyCode::Esc).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert_eq!(s.flash.as_deref(), Some("bulk change cancelled: nothing was sent"));
        assert_eq!(marked(&s), ["alpha-staging", "bravo"], "the marks stay");

        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Esc);
        let fx = scale_min_to_2(&mut s, "charlie");
        answer_reads(&mut s, fx);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!((b.stage.clone(), b.items.len(), b.left_out.len()), (BulkStage::Review, 0, 1));
        assert!(press(&mut s, KeyCode::Char('y')).is_empty(), "nothing is sent");
        assert_eq!(s.flash.as_deref(), Some("nothing to send: every marked deployment is left out"));
        assert_eq!(s.bulk.as_ref().unwrap().stage, BulkStage::Review);
    }

    /// The review scrolls: j/Down and k/Up by one, PageDown/PageUp by ten, never above the top, g/Home to it.
    #[test]
    fn the_review_scrolls_by_line_and_page_and_back_to_the_top() {
        let mut s = state();
        let fx = scale_min_to_2(&mut s, "alpha|bravo");
        answer_reads(&mut s, fx);
        assert_eq!(s.bulk.as_ref().unwrap().stage, BulkStage::Review);
        let steps = [
            (KeyCode::Char('j'), 1),
            (KeyCode::Down, 2),
            (KeyCode::PageDown, 12),
            (KeyCode::Char('k'), 11),
            (KeyCode::Up, 10),
            (KeyCode::PageUp, 0),
            (KeyCode::Up, 0),
            (KeyCode::PageDown, 10),
            (KeyCode::PageDown, 20),
            (KeyCode::PageUp, 10),
            (KeyCode::Char('g'), 0),
            (KeyCode::Char('j'), 1),
            (KeyCode::Char('k'), 0),
            (KeyCode::Char('k'), 0),
            (KeyCode::PageUp, 0),
            (KeyCode::PageDown, 10),
            (KeyCode::Home, 0),
        ];
        for (key, want) in steps {
            press(&mut s, key);
            assert_eq!(s.bulk.as_ref().unwrap().scroll, want, "after {key:?}");
        }
    }

    /// The form's focus moves both ways round its three fields; Enter with every field empty is refused and
    /// sends nothing; `n` in the review brings back the fields as typed; Esc in the form closes it all.
    #[test]
    fn the_form_moves_both_ways_n_brings_the_fields_back_and_esc_closes_it() {
        let mut s = state();
        filter(&mut s, "alpha|bravo");
        ctrl(&mut s, ' ');
        press(&mut s, KeyCode::Char('s'));
        let focus = |s: &State| match &s.bulk.as_ref().unwrap().stage {
            BulkStage::Form(f) => f.focus,
            other => panic!("not the form: {other:?}"),
        };
        let steps = [
            (KeyCode::Up, 2),
            (KeyCode::BackTab, 1),
            (KeyCode::Up, 0),
            (KeyCode::Tab, 1),
            (KeyCode::Down, 2),
        ];
        for (key, want) in steps {
            press(&mut s, key);
            assert_eq!(focus(&s), want, "after {key:?}");
        }
        press(&mut s, KeyCode::Tab);
        assert!(press(&mut s, KeyCode::Enter).is_empty(), "every field empty: nothing to read or send");
        let BulkStage::Form(form) = &s.bulk.as_ref().unwrap().stage else { panic!("still the form") };
        assert_eq!(form.notice, Some("every field says leave: nothing to change"));

        press(&mut s, KeyCode::Char('2'));
        press(&mut s, KeyCode::Tab);
        for c in "+1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Tab);
        for c in "-1".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        let fx = press(&mut s, KeyCode::Enter);
        answer_reads(&mut s, fx);
        assert_eq!(s.bulk.as_ref().unwrap().stage, BulkStage::Review);
        press(&mut s, KeyCode::Char('n'));
        let BulkStage::Form(form) = &s.bulk.as_ref().unwrap().stage else {
            panic!("n goes back to the form")
        };
        assert_eq!(form.inputs.each_ref().map(|i| i.value()), ["2", "+1", "-1"]);

        assert!(press(&mut s, KeyCode::Esc).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert!(s.bulk.is_none());
        assert_eq!(s.flash.as_deref(), Some("bulk change cancelled: nothing was sent"));
    }

    /// `y` checks each start/stop again: one whose deployment moved since the review (stopped by someone else)
    /// is refused with what it is now, and only the rest are sent.
    #[test]
    fn a_start_stop_whose_deployment_moved_since_the_review_is_refused_not_sent() {
        let mut s = state();
        filter(&mut s, "alpha|bravo");
        ctrl(&mut s, ' ');
        let fx = press(&mut s, KeyCode::Char('t'));
        answer_reads(&mut s, fx);
        // A list read after the review's reads.
        let now = s.now + chrono::Duration::seconds(1);
        let g = vec![
            dep("g", ProviderKind::Gcore, "alpha-staging", Status::Disabled, 1, 2),
            dep("g", ProviderKind::Gcore, "bravo", Status::Disabled, 1, 3),
        ];
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(g) });
        let fx = press(&mut s, KeyCode::Char('y'));
        let sent: Vec<(&str, LifecycleOp)> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Lifecycle(r) => Some((r.key.id.as_str(), r.op)),
                _ => None,
            })
            .collect();
        assert_eq!(sent, [("bravo", LifecycleOp::Start)]);
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.items[0].name, "alpha-staging");
        assert_eq!(b.items[0].outcome, Outcome::Refused("it is DISABLED now: nothing sent".into()));
    }

    /// Each start/stop outcome lands on its own deployment, whatever the order; a single start sent beside the
    /// run (not one of its deployments) keeps its own outcome.
    #[test]
    fn start_stop_outcomes_land_on_their_own_rows_and_a_single_write_beside_keeps_its_own() {
        let mut s = state();
        let now = s.now;
        let g = vec![
            dep("g", ProviderKind::Gcore, "alpha-staging", Status::Active, 1, 2),
            dep("g", ProviderKind::Gcore, "bravo", Status::Disabled, 1, 3),
            dep("g", ProviderKind::Gcore, "foxtrot", Status::Disabled, 1, 1),
        ];
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(g) });
        filter(&mut s, "alpha|bravo");
        ctrl(&mut s, ' ');
        let fx = press(&mut s, KeyCode::Char('t'));
        answer_reads(&mut s, fx);
        let fx = press(&mut s, KeyCode::Char('y'));
        assert_eq!(fx.iter().filter(|e| matches!(e, Effect::Lifecycle(_))).count(), 2);
        press(&mut s, KeyCode::Esc);
        // Filter, then marks, cleared: t is the single prompt again.
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Esc);
        assert!(s.marks.is_empty());
        filter(&mut s, "foxtrot");
        press(&mut s, KeyCode::Char('t'));
        let fx = press(&mut s, KeyCode::Char('y'));
        let Some(Effect::Lifecycle(single)) = fx.into_iter().find(|e| matches!(e, Effect::Lifecycle(_)))
        else {
            panic!("the single start was not sent")
        };
        assert_eq!((single.key.id.as_str(), single.op), ("foxtrot", LifecycleOp::Start));

        let key =
            |id: &str| DeploymentKey { provider: ProviderKind::Gcore, account: "g".into(), id: id.into() };
        let err =
            ApiError::new(ProviderKind::Gcore, crate::provider::ErrorKind::Validation, "quota exceeded")
                .with_status(422);
        let (name, op) = ("bravo".to_string(), LifecycleOp::Start);
        update(&mut s, Msg::Lifecycle { key: key("bravo"), name, op, result: Err(err) });
        let (name, op) = ("foxtrot".to_string(), LifecycleOp::Start);
        update(&mut s, Msg::Lifecycle { key: key("foxtrot"), name, op, result: Ok(()) });
        assert_eq!(s.flash.as_deref(), Some("start foxtrot: done"), "the single start's own outcome");
        let b = s.bulk.as_ref().unwrap();
        let outcomes: Vec<(&str, &str)> =
            b.items.iter().map(|i| (i.name.as_str(), i.outcome.label())).collect();
        assert_eq!(outcomes, [("alpha-staging", "sending"), ("bravo", "refused")]);
        assert!(b.items[1].outcome.detail().contains("quota exceeded"), "{:?}", b.items[1].outcome);
        let (name, op) = ("alpha-staging".to_string(), LifecycleOp::Stop);
        update(&mut s, Msg::Lifecycle { key: key("alpha-staging"), name, op, result: Ok(()) });
        let b = s.bulk.as_ref().unwrap();
        assert_eq!((b.stage.clone(), b.items[0].outcome.label()), (BulkStage::Done, "applied"));
    }

    /// A scale change applied to a stopped deployment is not followed as a rollout (it has none until started);
    /// a refusal that is not Sesterce's want of a model keeps the provider's words.
    #[test]
    fn an_applied_scale_on_a_stopped_deployment_is_not_followed_and_refusals_keep_their_words() {
        let mut s = state();
        let sent = send_max_plus_one(&mut s);
        let names: Vec<&str> = sent.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["alpha-staging", "bravo"]);
        let err =
            ApiError::new(ProviderKind::Gcore, crate::provider::ErrorKind::Validation, "max over quota")
                .with_status(422);
        update(&mut s, Msg::Applied { key: sent[0].key.clone(), result: Err(ApplyFailure::Api(err)) });
        let mut read_back = (*sent[1].expected).clone();
        read_back.regions[0].scale.max = 4;
        let applied = crate::provider::Applied::Done(Box::new(read_back));
        update(
            &mut s,
            Msg::Applied { key: sent[1].key.clone(), result: Ok(Landed { applied, not_taken: vec![] }) },
        );
        let b = s.bulk.as_ref().unwrap();
        assert_eq!(b.stage, BulkStage::Done);
        assert_eq!(b.items[0].outcome.label(), "refused");
        assert!(b.items[0].outcome.detail().contains("max over quota"), "{:?}", b.items[0].outcome);
        assert_eq!(b.items[1].outcome.label(), "applied", "{:?}", b.items[1].outcome);
        assert!(s.pending.is_empty(), "bravo is DISABLED: no rollout to follow; {:?}", s.pending.keys());
        let detail = s.details.get(&sent[1].key).and_then(|d| d.detail.as_ref());
        assert_eq!(detail.map(|(d, _)| d.regions[0].scale.max), Some(4), "the read-back is the record");
    }

    #[test]
    fn read_only_has_no_marks_and_no_bulk() {
        let mut s = state();
        s.read_only = true;
        press(&mut s, KeyCode::Char(' '));
        ctrl(&mut s, ' ');
        assert!(s.marks.is_empty());
        s.marks.insert(s.rows[0].dep.key.clone());
        press(&mut s, KeyCode::Char('s'));
        press(&mut s, KeyCode::Char('t'));
        assert_eq!(s.mode, Mode::Normal);
        assert!(s.bulk.is_none());
    }
}
