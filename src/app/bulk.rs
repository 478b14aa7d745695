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
use crate::model::edit::{Change, provider_name};
use crate::model::text::sanitize;
use crate::model::{Deployment, DeploymentKey, ProviderKind, Scale, ScaleUpdate, validate};
use crate::provider::{ApiError, Applied};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The bulk scale form: one line per field, each "" (leave), `N`, `+N` or `−N`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkForm {
    /// min, max, cooldown.
    pub inputs: [LineInput; 3],
    pub focus: usize,
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
    /// The list of what will be sent and what is left out; `y` sends.
    Review,
    /// Sent; outcomes arrive one by one.
    Running,
    /// Every outcome is in.
    Done,
}

/// One region of a planned scale change (Run:ai: its one autoscaling block).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionDelta {
    pub region_id: String,
    pub name: String,
    pub old: Scale,
    pub new: Scale,
}

impl RegionDelta {
    /// `min 1 → 0`, `max 3 → 4`: only the fields that change.
    pub fn changes(&self) -> Vec<String> {
        let (a, b) = (&self.old, &self.new);
        let mut out = Vec::new();
        if a.min != b.min {
            out.push(format!("min {} → {}", a.min, b.min));
        }
        if a.max != b.max {
            out.push(format!("max {} → {}", a.max, b.max));
        }
        if a.cooldown_seconds != b.cooldown_seconds {
            let s = |v: Option<u32>| v.map(|v| format!("{v}s")).unwrap_or_else(|| "unset".into());
            out.push(format!("cooldown {} → {}", s(a.cooldown_seconds), s(b.cooldown_seconds)));
        }
        out
    }
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

/// Where one deployment's change stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not sent yet (review).
    Ready,
    Sent,
    Applied(String),
    /// Written, but the read-back does not hold every field as asked: which.
    Partial(String),
    /// Another writer changed it since the review: nothing sent.
    Conflict(String),
    Refused(String),
    /// The write may or may not have landed.
    Unknown(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Ready => "ready",
            Outcome::Sent => "sending",
            Outcome::Applied(_) => "applied",
            Outcome::Partial(_) => "partial",
            Outcome::Conflict(_) => "conflict",
            Outcome::Refused(_) => "refused",
            Outcome::Unknown(_) => "unknown",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Outcome::Ready | Outcome::Sent => "",
            Outcome::Applied(s)
            | Outcome::Partial(s)
            | Outcome::Conflict(s)
            | Outcome::Refused(s)
            | Outcome::Unknown(s) => s,
        }
    }
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

/// A marked deployment that gets nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub key: DeploymentKey,
    pub name: String,
    pub why: String,
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
    pub fn count(&self, label: &str) -> usize {
        self.items.iter().filter(|i| i.outcome.label() == label).count()
    }

    /// `3 applied · 1 conflict · 1 refused · 0 unknown` (partial only when there is one).
    pub fn tally(&self) -> String {
        let mut parts: Vec<String> = ["applied", "conflict", "refused", "unknown"]
            .iter()
            .map(|l| format!("{} {l}", self.count(l)))
            .collect();
        if self.count("partial") > 0 {
            parts.insert(1, format!("{} partial", self.count("partial")));
        }
        if self.count("sending") > 0 {
            parts.push(format!("{} waiting", self.count("sending")));
        }
        if !self.left_out.is_empty() {
            parts.push(format!("{} left out", self.left_out.len()));
        }
        parts.join(" · ")
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
pub(super) fn open(state: &mut State, action: Action) {
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
    let bulk = match action {
        Action::Scale => Bulk {
            what: BulkWhat::Scale(BulkScale::default()),
            stage: BulkStage::Form(BulkForm::default()),
            items: Vec::new(),
            left_out: Vec::new(),
            scroll: 0,
        },
        _ => {
            let (items, left_out) = plan_start_stop(state);
            Bulk { what: BulkWhat::StartStop, stage: BulkStage::Review, items, left_out, scroll: 0 }
        }
    };
    state.bulk = Some(Box::new(bulk));
    state.mode = Mode::Bulk;
}

/// Every marked deployment, planned for `change` from its freshest snapshot.
pub fn plan_scale(state: &State, change: &BulkScale) -> (Vec<BulkItem>, Vec<LeftOut>) {
    let mut items = Vec::new();
    let mut left_out = Vec::new();
    for i in marked_in_order(state) {
        let row = &state.rows[i];
        let dep = state.snapshot(row);
        let name = sanitize(&dep.name).into_owned();
        let out = |why: String| LeftOut { key: dep.key.clone(), name: name.clone(), why };
        match scale_one(state, i, change) {
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
    let provider = dep.key.provider;
    if !state.accounts[row.account].capabilities.update_scale {
        return Err(format!("{} does not offer scale edits", provider_name(provider)));
    }
    if row.awaiting_details(&state.accounts) || dep.regions.is_empty() {
        return Err("details not read yet: wait for them to load, then try again".into());
    }
    let update = change.adjust(dep)?;
    let errors = validate::scale_update(provider, &update);
    if !errors.is_empty() {
        let why: Vec<String> =
            errors.iter().map(|e| limit_text(provider, dep, &e.field, &e.message)).collect();
        return Err(why.join("; "));
    }
    let regions: Vec<RegionDelta> = dep
        .regions
        .iter()
        .zip(&update.regions)
        .filter(|(r, u)| r.scale != u.scale)
        .map(|(r, u)| RegionDelta {
            region_id: r.region_id.clone(),
            name: if provider == ProviderKind::Runai { "autoscaling".into() } else { r.display_name() },
            old: r.scale.clone(),
            new: u.scale.clone(),
        })
        .collect();
    if regions.is_empty() {
        return Err("already as asked: nothing to change".into());
    }
    Ok(Planned::Scale { expected: Box::new(dep.clone()), update, regions })
}

/// A validation message with the region named (`regions[1].scale.min` → `Amsterdam`).
fn limit_text(provider: ProviderKind, dep: &Deployment, field: &str, message: &str) -> String {
    let region = field
        .strip_prefix("regions[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| dep.regions.get(n));
    match region {
        Some(r) if provider != ProviderKind::Runai => format!("{} in {}", message, r.display_name()),
        _ => message.to_string(),
    }
}

/// What `t` would do to each marked deployment, from its freshest snapshot.
fn plan_start_stop(state: &State) -> (Vec<BulkItem>, Vec<LeftOut>) {
    let mut items = Vec::new();
    let mut left_out = Vec::new();
    for i in marked_in_order(state) {
        let row = &state.rows[i];
        let dep = state.snapshot(row);
        let caps = state.accounts[row.account].capabilities;
        let planned = if !caps.start_stop {
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
            if !on_form_key(state, &mut bulk, &mut form, key) {
                state.mode = Mode::Normal;
                return;
            }
            if let BulkStage::Form(_) = bulk.stage {
                bulk.stage = BulkStage::Form(form);
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
fn on_form_key(state: &mut State, bulk: &mut Bulk, form: &mut BulkForm, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Esc => {
            state.flash = Some("bulk change cancelled: nothing was sent".into());
            state.bulk = None;
            return false;
        }
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
        KeyCode::Enter => match form.change() {
            None => {
                state.flash = Some("a field needs attention: N sets, +N or −N changes, empty leaves".into())
            }
            Some(c) if c.is_noop() => state.flash = Some("every field says leave: nothing to change".into()),
            Some(c) => {
                let (items, left_out) = plan_scale(state, &c);
                bulk.what = BulkWhat::Scale(c);
                bulk.items = items;
                bulk.left_out = left_out;
                bulk.scroll = 0;
                bulk.stage = BulkStage::Review;
            }
        },
        _ => {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            if let KeyCode::Char(c) = key.code
                && !ctrl
                && !(c.is_ascii_digit() || matches!(c, '+' | '-' | '−' | '='))
            {
                state.flash = Some("N sets, +N or −N changes, empty leaves as is".into());
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
            Planned::Scale { expected, update, .. } => {
                fx.push(Effect::Apply(Box::new(ApplyRequest {
                    account: item.account,
                    key: item.key.clone(),
                    name: item.name.clone(),
                    change: Change::Scale(update.clone()),
                    expected: expected.clone(),
                    source: None,
                })));
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
    if let Some(item) = bulk.items.iter_mut().find(|i| i.key == key && i.outcome == Outcome::Sent) {
        item.outcome = match result {
            Ok(Landed { applied, not_taken }) => {
                let (dep, word) = match applied {
                    Applied::Done(d) => (d, "applied"),
                    Applied::NoChange(d) => (d, "the provider reports nothing to change"),
                };
                let outcome = if not_taken.is_empty() {
                    if let Planned::Scale { update, .. } = &item.planned {
                        // Followed until it has rolled out, as a single edit is (the row shows ⟳).
                        state.pending.insert(
                            key.clone(),
                            Pending { change: Change::Scale(update.clone()), since: state.now },
                        );
                    }
                    Outcome::Applied(format!("{word}; read back as asked"))
                } else {
                    let missing: Vec<String> = not_taken.iter().map(|n| n.to_string()).collect();
                    Outcome::Partial(missing.join("; "))
                };
                // The read-back is the freshest record there is.
                state.details.entry(key.clone()).or_default().detail = Some((*dep, state.now));
                fx.push(Effect::Refresh(Some(item.account)));
                outcome
            }
            Err(ApplyFailure::Conflict(latest)) => {
                let changed = match &item.planned {
                    Planned::Scale { expected, .. } => super::form::diff_against(
                        expected,
                        &Change::Scale(ScaleUpdate::from_deployment(&latest)),
                    ),
                    Planned::Lifecycle { .. } => Vec::new(),
                };
                let changed: Vec<String> = changed.iter().map(|l| l.trim().to_string()).collect();
                Outcome::Conflict(if changed.is_empty() {
                    "changed by another writer since the review: nothing sent".into()
                } else {
                    format!(
                        "changed by another writer since the review ({}): nothing sent",
                        changed.join("; ")
                    )
                })
            }
            Err(ApplyFailure::Api(e)) => api_outcome(&e),
        };
    }
    finish_if_done(state, &mut bulk);
    state.bulk = Some(bulk);
}

/// A refusal or a failure, sorted: the write may have landed (unknown), or it did not.
fn api_outcome(e: &ApiError) -> Outcome {
    if crate::provider::sesterce::wants_source(e) {
        // One prompt per instance would be N prompts: the single edit (s on the row alone) asks for it.
        return Outcome::Refused(
            "Sesterce wants the instance's model or registry with the edit: unmark the others and press s on \
             it alone to pick it"
                .into(),
        );
    }
    let text = e.to_string();
    if text.contains("the outcome is unknown") { Outcome::Unknown(text) } else { Outcome::Refused(text) }
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
