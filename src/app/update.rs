//! `update(&mut State, Msg) -> Vec<Effect>`: every change to the dashboard goes through here. It does no I/O;
//! effects tell the sync layer what to fetch.

use super::form::{Form, RegionChoice, Stage, diff_against};
use super::input::LineInput;
use super::keymap::Action;
use super::state::{
    AccountState, Confirm, DetailCache, Filter, HISTORY_LEN, LOG_LINES, LifecycleOp, Mode, Pane, Pending,
    Row, SortKey, State, Toast, haystack,
};
use crate::model::edit::{Change, Edit, NotTaken};
use crate::model::{Deployment, DeploymentKey, LogLine, ProviderKind, RegionInfo};
use crate::provider::{ApiError, Applied, MetricsResult};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use std::cmp::Ordering;
use std::collections::VecDeque;

/// Something that happened: a key, a resize, a tick, or a result from the network.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick,
    /// A fleet refresh of one account started (`true`) or ended.
    Busy {
        account: usize,
        busy: bool,
    },
    Fleet {
        account: usize,
        at: DateTime<Utc>,
        result: Result<Vec<Deployment>, ApiError>,
    },
    Detail {
        key: DeploymentKey,
        at: DateTime<Utc>,
        result: Result<Box<Deployment>, ApiError>,
    },
    /// A summary list (Sesterce): every row at once, details to follow.
    Listed {
        account: usize,
        at: DateTime<Utc>,
        result: Result<Vec<crate::provider::Listed>, ApiError>,
    },
    /// Details read for rows of a summary list, in a batch.
    RowDetails {
        account: usize,
        at: DateTime<Utc>,
        items: Vec<RowDetail>,
    },
    /// An account's details progress (read, listed) and effective request rate.
    Progress {
        account: usize,
        details: Option<(usize, usize)>,
        /// Requests per second now, and configured.
        rate: Option<(f64, f64)>,
    },
    Metrics {
        key: DeploymentKey,
        at: DateTime<Utc>,
        result: Result<MetricsResult, ApiError>,
    },
    Logs {
        key: DeploymentKey,
        at: DateTime<Utc>,
        result: Result<Vec<LogLine>, ApiError>,
    },
    /// The outcome of an edit.
    Applied {
        key: DeploymentKey,
        result: Result<Landed, ApplyFailure>,
    },
    /// The outcome of start, stop or delete.
    Lifecycle {
        key: DeploymentKey,
        name: String,
        op: LifecycleOp,
        result: Result<(), ApiError>,
    },
    /// An account's regions catalog.
    Catalog {
        account: usize,
        result: Result<Vec<RegionInfo>, ApiError>,
    },
    /// An account's whole catalog (catalog view, create form).
    CatalogLoaded {
        account: usize,
        at: DateTime<Utc>,
        result: Result<crate::model::Catalog, ApiError>,
    },
    /// A price preview.
    Priced {
        account: usize,
        key: super::catalog::PriceKey,
        result: Result<Option<crate::model::Price>, ApiError>,
    },
    /// The outcome of a create.
    Created {
        account: usize,
        name: String,
        result: Result<Applied, ApiError>,
    },
    /// The editor closed (`Err`: it could not run).
    Edited {
        job: Box<super::editor::EditorJob>,
        outcome: Result<super::editor::EditorOutcome, String>,
    },
}

/// One row's details read, with the list entry's version it was read under.
#[derive(Debug)]
pub struct RowDetail {
    pub key: DeploymentKey,
    pub version: String,
    pub result: Result<Box<Deployment>, ApiError>,
}

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
    pub source: Option<crate::model::ImageSource>,
}

impl ApplyRequest {
    /// What the user meant: the fields the change sets differently from the deployment the form showed,
    /// which is what the review listed before `y`.
    pub fn edit(&self) -> Edit {
        Edit::new(&self.expected, self.change.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRequest {
    pub account: usize,
    pub key: DeploymentKey,
    pub name: String,
    pub op: LifecycleOp,
}

/// What the selected deployment needs fetched, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub key: DeploymentKey,
    pub account: usize,
    pub metrics: bool,
    pub logs: bool,
    /// Run:ai pod for pod-level metrics.
    pub pod: Option<String>,
    /// Only this region's logs.
    pub logs_region: Option<String>,
}

/// What the sync layer should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Refresh one account now, or all of them.
    Refresh(Option<usize>),
    /// Fetch details (and metrics/logs) of this deployment, or stop.
    Watch(Option<Watch>),
    /// The rows in view (visible, selected, with a pending edit): their details are read first.
    Eyes(Vec<DeploymentKey>),
    /// Re-read the deployment, and if it is as the form saw it, apply the change.
    Apply(Box<ApplyRequest>),
    Lifecycle(LifecycleRequest),
    /// Fetch an account's catalog.
    LoadCatalog(usize),
    /// Ask for the price of a configuration.
    Price {
        account: usize,
        spec: Box<crate::model::CreateSpec>,
    },
    /// Create a deployment (the user has confirmed).
    Create {
        account: usize,
        spec: Box<crate::model::CreateSpec>,
    },
    /// Hand the terminal to `$EDITOR` for this document (the terminal loop does it).
    Editor(Box<super::editor::EditorJob>),
    Quit,
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(key) => {
            if key.kind != KeyEventKind::Release {
                on_key(state, key, &mut fx);
            }
        }
        Msg::Mouse(m) => on_mouse(state, m),
        Msg::Resize(w, h) => {
            state.width = w;
            state.height = h;
            state.table_height = table_height(w, h);
            ensure_visible(state);
            state.dirty = true;
        }
        Msg::Tick => {
            // Ages and staleness move with time; toasts expire.
            state.toasts.retain(|t| (state.now - t.at).num_seconds() < 60);
            state.dirty = true;
        }
        Msg::Busy { account, busy } => {
            if let Some(a) = state.accounts.get_mut(account) {
                if busy {
                    a.in_flight += 1;
                } else {
                    a.in_flight = a.in_flight.saturating_sub(1);
                }
                state.dirty = true;
            }
        }
        Msg::Fleet { account, at, result } => on_fleet(state, account, at, result),
        Msg::Listed { account, at, result } => on_listed(state, account, at, result),
        Msg::RowDetails { account, at, items } => on_row_details(state, account, at, items),
        Msg::Progress { account, details, rate } => {
            if let Some(a) = state.accounts.get_mut(account) {
                a.details = details;
                a.rate = rate;
                state.dirty = true;
            }
        }
        Msg::Detail { key, at, result } => {
            let cache = state.details.entry(key.clone()).or_default();
            match result {
                Ok(d) => {
                    cache.detail = Some((*d, at));
                    cache.detail_error = None;
                    absorb_newer_summary(state, &key);
                    settle_pending(state, Some(&key));
                }
                Err(e) => {
                    let msg = e.to_string();
                    cache.detail_error = Some(e);
                    toast(state, msg);
                }
            }
            state.dirty = true;
        }
        Msg::Metrics { key, at, result } => {
            let cache = state.details.entry(key).or_default();
            match result {
                Ok(m) => {
                    cache.metrics = Some((m, at));
                    cache.metrics_error = None;
                }
                Err(e) => cache.metrics_error = Some(e),
            }
            state.dirty = true;
        }
        Msg::Applied { key, result } if matches!(state.mode, Mode::Editor(_)) => {
            super::editor::on_applied(state, &key, result, &mut fx)
        }
        Msg::Applied { key, result } => on_applied(state, key, result, &mut fx),
        Msg::Edited { job, outcome } => super::editor::on_edited(state, *job, outcome),
        Msg::Lifecycle { key, name, op, result } => {
            match result {
                Ok(()) => {
                    state.flash = Some(format!("{} {}: done", op.verb(), name));
                    fx.push(Effect::Refresh(state.index.get(&key).map(|&i| state.rows[i].account)));
                }
                Err(e) => toast(state, format!("{} {name} failed: {e}", op.verb())),
            }
            state.dirty = true;
        }
        Msg::Catalog { account, result } => {
            if let (Some(a), Ok(regions)) = (state.accounts.get_mut(account), result) {
                a.regions = regions;
            }
        }
        Msg::CatalogLoaded { account, at, result } => {
            super::create_flow::on_catalog_loaded(state, account, at, result, &mut fx)
        }
        Msg::Priced { account, key, result } => super::create_flow::on_priced(state, account, key, result),
        Msg::Created { account, name, result } => {
            super::create_flow::on_created(state, account, name, result, &mut fx)
        }
        Msg::Logs { key, at, result } => {
            let cache = state.details.entry(key).or_default();
            match result {
                Ok(lines) => {
                    merge_logs(cache, lines);
                    cache.logs_error = None;
                    cache.logs_at = Some(at);
                }
                Err(e) => cache.logs_error = Some(e),
            }
            state.dirty = true;
        }
    }
    if let Some(w) = watch_for(state)
        && state_watch_changed(state, &w)
    {
        fx.push(Effect::Watch(w));
    }
    let eyes = eyes_of(state);
    if eyes != state.eyes {
        state.eyes = eyes.clone();
        fx.push(Effect::Eyes(eyes));
    }
    fx
}

/// The rows in view: visible, selected, and those with a pending edit.
fn eyes_of(state: &State) -> Vec<DeploymentKey> {
    let start = state.table_offset.min(state.view.len());
    let end = (start + state.table_height).min(state.view.len());
    let mut keys: Vec<DeploymentKey> =
        state.view[start..end].iter().filter_map(|&i| state.rows.get(i)).map(|r| r.dep.key.clone()).collect();
    if let Some(r) = state.selected_row()
        && !keys.contains(&r.dep.key)
    {
        keys.push(r.dep.key.clone());
    }
    let mut pending: Vec<&DeploymentKey> = state.pending.keys().filter(|k| !keys.contains(k)).collect();
    pending.sort_by(|a, b| a.id.cmp(&b.id));
    keys.extend(pending.into_iter().cloned());
    keys
}

/// A summary list: new rows appear with what the list carries; a row whose details were read keeps them and
/// takes the list's status, name, address and price. Its data is renewed by the list when the entry is
/// unchanged since the details read and it is at rest.
fn on_listed(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    result: Result<Vec<crate::provider::Listed>, ApiError>,
) {
    let Some(a) = state.accounts.get_mut(account) else { return };
    a.lists_summaries = true;
    let listed = match result {
        Err(e) => return on_fleet(state, account, at, Err(e)),
        Ok(l) => l,
    };
    {
        let a = &mut state.accounts[account];
        a.last_ok = Some(at);
        if a.last_error.take().is_some() {
            let prefix = format!("{}: ", a.name);
            state.seen_errors.retain(|m| !m.starts_with(&prefix));
        }
    }
    let name = state.accounts[account].name.clone();
    let mut seen = std::collections::HashSet::with_capacity(listed.len());
    let new = listed.iter().filter(|l| !state.index.contains_key(&l.dep.key)).count();
    state.rows.reserve_exact(new);
    for l in listed {
        seen.insert(l.dep.key.clone());
        let Some(&i) = state.index.get(&l.dep.key) else {
            let hay = haystack(&l.dep, &name);
            state.index.insert(l.dep.key.clone(), state.rows.len());
            state.rows.push(Row {
                dep: l.dep,
                account,
                fetched_at: at,
                haystack: hay,
                history: Vec::new(),
                detail_version: None,
            });
            continue;
        };
        let row = &mut state.rows[i];
        if !row.dep.detail {
            row.haystack = haystack(&l.dep, &name);
            row.dep = l.dep;
            row.fetched_at = at;
            continue;
        }
        let unchanged = row.detail_version.as_deref() == Some(l.version.as_str());
        let d = l.dep;
        let moved = row.dep.status != d.status;
        row.dep.status = d.status;
        row.dep.name = d.name;
        row.dep.address = d.address;
        row.dep.price_per_hour = d.price_per_hour;
        row.dep.created_at = row.dep.created_at.or(d.created_at);
        if unchanged && !moved && crate::provider::settled(&row.dep) {
            row.fetched_at = at;
        }
        row.haystack = haystack(&row.dep, &name);
    }
    // Deployments gone from this account disappear.
    let before = state.rows.len();
    state.rows.retain(|r| r.account != account || seen.contains(&r.dep.key));
    if state.rows.len() != before {
        state.index = state.rows.iter().enumerate().map(|(i, r)| (r.dep.key.clone(), i)).collect();
        state.details.retain(|k, _| state.index.contains_key(k));
    }
    state.dirty = true;
    settle_pending(state, None);
    resort(state);
}

/// Details read for rows of a summary list: the row takes them (a failed read keeps what the row had).
fn on_row_details(state: &mut State, account: usize, at: DateTime<Utc>, items: Vec<RowDetail>) {
    let name = match state.accounts.get(account) {
        Some(a) => a.name.clone(),
        None => return,
    };
    let mut changed = false;
    for item in items {
        let Some(&i) = state.index.get(&item.key) else { continue };
        match item.result {
            Ok(d) => {
                let row = &mut state.rows[i];
                row.haystack = haystack(&d, &name);
                row.dep = *d;
                row.fetched_at = at;
                row.detail_version = Some(item.version);
                changed = true;
                settle_pending(state, Some(&item.key));
            }
            Err(e) => {
                tracing::debug!(id = %item.key.id, error = %e, "details read failed; the row keeps what it had")
            }
        }
    }
    if changed {
        state.dirty = true;
        resort(state);
    }
}

/// The watch the current selection and pane call for.
fn watch_for(state: &State) -> Option<Option<Watch>> {
    let row = state.selected_row();
    let w = row.map(|r| {
        let caps = state.accounts[r.account].capabilities;
        let visible = |p: Pane| state.focus == p || (state.tab == p);
        let pod = if state.metrics_sel > 0 { r.dep.pods.get(state.metrics_sel - 1).cloned() } else { None };
        let pod = pod.or_else(|| {
            state.details.get(&r.dep.key).and_then(|c| c.detail.as_ref()).and_then(|(d, _)| {
                if state.metrics_sel > 0 { d.pods.get(state.metrics_sel - 1).cloned() } else { None }
            })
        });
        Watch {
            key: r.dep.key.clone(),
            account: r.account,
            metrics: caps.metrics && visible(Pane::Metrics),
            logs: caps.logs && visible(Pane::Logs),
            pod,
            logs_region: state.logs_region.clone(),
        }
    });
    Some(w)
}

fn state_watch_changed(state: &mut State, w: &Option<Watch>) -> bool {
    if state.watching.as_ref() == Some(w) {
        false
    } else {
        state.watching = Some(w.clone());
        true
    }
}

fn merge_logs(cache: &mut DetailCache, lines: Vec<LogLine>) {
    let mut fresh: Vec<LogLine> = lines.into_iter().filter(|l| !cache.logs_seen.contains(l)).collect();
    fresh.sort_by_key(|l| l.time);
    for l in fresh {
        cache.logs_seen.insert(l.clone());
        cache.logs.push_back(l);
    }
    while cache.logs.len() > LOG_LINES {
        if let Some(old) = cache.logs.pop_front() {
            cache.logs_seen.remove(&old);
        }
    }
}

/// Adds a toast for an error not shown before.
pub(super) fn toast(state: &mut State, message: String) {
    if state.seen_errors.insert(message.clone()) {
        state.toasts.push(Toast { message, at: state.now });
        if state.toasts.len() > 20 {
            state.toasts.remove(0);
        }
    }
}

fn on_fleet(state: &mut State, account: usize, at: DateTime<Utc>, result: Result<Vec<Deployment>, ApiError>) {
    if account >= state.accounts.len() {
        return;
    }
    state.dirty = true;
    push_sample_time(&mut state.accounts[account], at);
    match result {
        Err(e) => {
            let msg = format!("{}: {}", state.accounts[account].name, e);
            let a = &mut state.accounts[account];
            a.errors += 1;
            a.last_error = Some(e);
            a.last_error_at = Some(at);
            toast(state, msg);
            // A gap in every recorded series of this account.
            for row in state.rows.iter_mut().filter(|r| r.account == account) {
                for (_, h) in row.history.iter_mut() {
                    push_bounded(h, None);
                }
            }
        }
        Ok(deps) => {
            let a = &mut state.accounts[account];
            a.last_ok = Some(at);
            if a.last_error.take().is_some() {
                // Recovered: the same error may be shown again if it comes back.
                let prefix = format!("{}: ", a.name);
                state.seen_errors.retain(|m| !m.starts_with(&prefix));
            }
            let name = state.accounts[account].name.clone();
            let samples = state.accounts[account].sample_times.len();
            // Readiness is recorded locally only where the provider has no metrics API to draw instead.
            let record = !state.accounts[account].capabilities.metrics;
            let mut seen = std::collections::HashSet::with_capacity(deps.len());
            // Exactly the room the new rows need: a doubled table of a large fleet is megabytes for nothing.
            let new = deps.iter().filter(|d| !state.index.contains_key(&d.key)).count();
            state.rows.reserve_exact(new);
            for dep in deps {
                seen.insert(dep.key.clone());
                let hay = haystack(&dep, &name);
                match state.index.get(&dep.key) {
                    Some(&i) => {
                        let row = &mut state.rows[i];
                        if record {
                            record_history(&mut row.history, &dep, samples);
                        }
                        // A list record does not replace a fuller one fetched later for the same data.
                        row.dep = dep;
                        row.fetched_at = at;
                        row.haystack = hay;
                    }
                    None => {
                        let mut history = Vec::new();
                        if record {
                            record_history(&mut history, &dep, samples);
                        }
                        state.index.insert(dep.key.clone(), state.rows.len());
                        state.rows.push(Row {
                            dep,
                            account,
                            fetched_at: at,
                            haystack: hay,
                            history,
                            detail_version: None,
                        });
                    }
                }
            }
            // Deployments gone from this account disappear.
            let before = state.rows.len();
            state.rows.retain(|r| r.account != account || seen.contains(&r.dep.key));
            if state.rows.len() != before {
                state.index = state.rows.iter().enumerate().map(|(i, r)| (r.dep.key.clone(), i)).collect();
                state.details.retain(|k, _| state.index.contains_key(k));
            }
        }
    }
    let cached: Vec<DeploymentKey> = state.details.keys().cloned().collect();
    for key in &cached {
        absorb_newer_summary(state, key);
    }
    settle_pending(state, None);
    resort(state);
}

/// Keeps one snapshot per deployment: when the list's summary is newer than the cached detail, its live
/// state (status, regions, counts) replaces the detail's, which keeps only what the list leaves out.
fn absorb_newer_summary(state: &mut State, key: &DeploymentKey) {
    let Some(&i) = state.index.get(key) else { return };
    let row = &state.rows[i];
    let Some(cache) = state.details.get_mut(key) else { return };
    if let Some((full, at)) = &cache.detail
        && *at < row.fetched_at
        && !row.dep.detail
    {
        cache.detail = Some((super::state::absorb_summary(full, &row.dep), row.fetched_at));
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
        let reflected = match &p.change {
            Change::Scale(u) => {
                let mut want: Vec<(&str, u32, u32)> =
                    u.regions.iter().map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max)).collect();
                let mut have: Vec<(&str, u32, u32)> =
                    dep.regions.iter().map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max)).collect();
                want.sort();
                have.sort();
                want == have && rolled_out(dep)
            }
            Change::Probes(_) => true,
            // An image change rolls the deployment: settled once the read shows it and every replica is ready.
            Change::Settings(s) => {
                let mut want: Vec<(&str, u32, u32)> = s
                    .scale
                    .regions
                    .iter()
                    .map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max))
                    .collect();
                let mut have: Vec<(&str, u32, u32)> =
                    dep.regions.iter().map(|r| (r.region_id.as_str(), r.scale.min, r.scale.max)).collect();
                want.sort();
                have.sort();
                want == have && (s.image.is_none() || s.image == dep.image) && rolled_out(dep)
            }
        };
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

/// Whether a deployment has settled, by the provider's own word: a settled status (Gcore/Sesterce `ACTIVE`
/// or `PENDING` scaled to zero, Run:ai `Running`), and in every region as many replicas as the minimum asks,
/// all of them ready. `PARTIALLYDEPLOYED` with equal counts is still rolling out.
pub fn rolled_out(dep: &Deployment) -> bool {
    use crate::model::Status;
    matches!(dep.status, Status::Active | Status::Running | Status::ScaledToZero)
        && dep.regions.iter().all(|r| r.ready == r.total && r.total >= r.scale.min)
}

fn on_applied(
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
            let (dep, mut what) = match applied {
                Applied::Done(d) => (d, "applied".to_string()),
                Applied::NoChange(d) => (d, "the provider reports nothing to change".to_string()),
            };
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
                            &Change::Probes(Box::new(latest.probes.clone().unwrap_or_default())),
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

fn push_sample_time(a: &mut AccountState, at: DateTime<Utc>) {
    a.sample_times.push_back(at);
    while a.sample_times.len() > HISTORY_LEN {
        a.sample_times.pop_front();
    }
}

fn push_bounded(h: &mut VecDeque<Option<u32>>, v: Option<u32>) {
    h.push_back(v);
    while h.len() > HISTORY_LEN {
        h.pop_front();
    }
}

/// Appends this sample's ready count per region, keeping every series aligned with the account's sample times.
pub(super) fn record_history(
    history: &mut Vec<(String, VecDeque<Option<u32>>)>,
    dep: &Deployment,
    samples: usize,
) {
    let target = samples.min(HISTORY_LEN);
    let mut next: Vec<(String, VecDeque<Option<u32>>)> = Vec::with_capacity(dep.regions.len());
    for r in &dep.regions {
        let mut h = match history.iter().position(|(id, _)| *id == r.region_id) {
            Some(i) => std::mem::take(&mut history[i].1),
            // Its full length at once: a series fills in two minutes anyway, and growing it by doubling would
            // end at 64 slots and leave the freed smaller buffers behind.
            None => VecDeque::with_capacity(HISTORY_LEN),
        };
        while h.len() + 1 < target {
            h.push_front(None);
        }
        push_bounded(&mut h, Some(r.ready));
        next.push((r.region_id.clone(), h));
    }
    *history = next;
}

fn compare(a: &Row, b: &Row, key: SortKey) -> Ordering {
    let by_name = || a.dep.name.cmp(&b.dep.name).then_with(|| a.dep.key.cmp(&b.dep.key));
    match key {
        SortKey::Name => by_name(),
        SortKey::Provider => a
            .dep
            .key
            .provider
            .cmp(&b.dep.key.provider)
            .then_with(|| a.dep.key.account.cmp(&b.dep.key.account))
            .then_with(by_name),
        SortKey::Status => a
            .dep
            .health()
            .cmp(&b.dep.health())
            .then_with(|| a.dep.status.label().cmp(&b.dep.status.label()))
            .then_with(by_name),
        SortKey::Ready => {
            // Least ready first: ready/total ascending, then absolute shortfall.
            let ratio = |r: &Row| {
                let t = r.dep.total();
                if t == 0 { 1.0 } else { r.dep.ready() as f64 / t as f64 }
            };
            ratio(a).partial_cmp(&ratio(b)).unwrap_or(Ordering::Equal).then_with(by_name)
        }
        SortKey::Age => b.dep.created_at.cmp(&a.dep.created_at).then_with(by_name),
        SortKey::Price => a
            .dep
            .price_per_hour
            .partial_cmp(&b.dep.price_per_hour)
            .unwrap_or(Ordering::Equal)
            .then_with(by_name),
    }
}

/// Recomputes the sort order, then the view.
pub fn resort(state: &mut State) {
    let rows = &state.rows;
    let key = state.sort;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| compare(&rows[a], &rows[b], key));
    if state.sort_desc {
        order.reverse();
    }
    state.sorted = order;
    refilter(state);
}

/// Recomputes the view from the sort order, the filter and the provider scope; keeps the selection on the
/// same deployment when it is still shown.
pub fn refilter(state: &mut State) {
    let rows = &state.rows;
    let filter = &state.filter;
    let scope = state.scope;
    state.view = state
        .sorted
        .iter()
        .copied()
        .filter(|&i| {
            let r = &rows[i];
            scope.is_none_or(|p| r.dep.key.provider == p) && filter.matches(&r.haystack)
        })
        .collect();
    let pos = if !state.user_selected { Some(0).filter(|_| !state.view.is_empty()) } else { None };
    let pos = pos.or_else(|| {
        state
            .selected_key
            .as_ref()
            .and_then(|k| state.index.get(k))
            .and_then(|&ri| state.view.iter().position(|&v| v == ri))
    });
    match pos {
        Some(p) => {
            state.selected = p;
            state.selected_key = state.selected_row().map(|r| r.dep.key.clone());
        }
        None => {
            state.selected = state.selected.min(state.view.len().saturating_sub(1));
            state.selected_key = state.selected_row().map(|r| r.dep.key.clone());
        }
    }
    ensure_visible(state);
    state.dirty = true;
}

/// Rows the deployments table can show at this terminal size (kept in sync with `ui::layout`).
pub fn table_height(w: u16, h: u16) -> usize {
    crate::ui::layout(ratatui::layout::Rect::new(0, 0, w, h)).table.height.saturating_sub(3) as usize
}

fn ensure_visible(state: &mut State) {
    let h = state.table_height.max(1);
    if state.selected < state.table_offset {
        state.table_offset = state.selected;
    } else if state.selected >= state.table_offset + h {
        state.table_offset = state.selected + 1 - h;
    }
    let max_off = state.view.len().saturating_sub(h);
    state.table_offset = state.table_offset.min(max_off);
}

fn select(state: &mut State, pos: usize) {
    state.user_selected = true;
    let pos = pos.min(state.view.len().saturating_sub(1));
    if pos != state.selected || state.selected_key.is_none() {
        state.selected = pos;
        state.selected_key = state.selected_row().map(|r| r.dep.key.clone());
        state.region_sel = 0;
        state.metrics_sel = 0;
        state.logs_scroll = 0;
        state.logs_region = None;
        state.reveal_envs = None;
    }
    ensure_visible(state);
    state.dirty = true;
}

fn move_in_pane(state: &mut State, delta: isize) {
    match state.focus {
        Pane::Deployments => {
            let pos = (state.selected as isize + delta).max(0) as usize;
            select(state, pos);
        }
        Pane::Regions => {
            let n = state.selected_deployment().map(|d| d.regions.len()).unwrap_or(0);
            state.region_sel = clamp_move(state.region_sel, delta, n);
        }
        Pane::Metrics => {
            let n = state.selected_deployment().map(|d| d.pods.len() + 1).unwrap_or(1);
            state.metrics_sel = clamp_move(state.metrics_sel, delta, n);
        }
        Pane::Logs => {
            // Scrolling back from the newest line.
            let n = state.selected_cache().map(|c| c.logs.len()).unwrap_or(0);
            state.logs_scroll = clamp_move(state.logs_scroll, -delta, n);
        }
        Pane::Details | Pane::Logging => {}
    }
    state.dirty = true;
}

fn clamp_move(cur: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (cur as isize + delta).clamp(0, n as isize - 1) as usize
}

fn focus(state: &mut State, pane: Pane) {
    state.focus = pane;
    if pane.is_tab() {
        state.tab = pane;
    }
    state.dirty = true;
}

fn cycle_pane(state: &mut State, forward: bool) {
    let order = Pane::ORDER;
    let i = order.iter().position(|p| *p == state.focus).unwrap_or(0);
    let n = order.len();
    let next = if forward { (i + 1) % n } else { (i + n - 1) % n };
    focus(state, order[next]);
}

fn set_sort(state: &mut State, key: SortKey) {
    if state.sort == key {
        state.sort_desc = !state.sort_desc;
    } else {
        state.sort = key;
        state.sort_desc = false;
    }
    state.flash =
        Some(format!("sorted by {}{}", key.label(), if state.sort_desc { " (descending)" } else { "" }));
    resort(state);
}

fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    // Ctrl-C quits from any mode.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        fx.push(Effect::Quit);
        return;
    }
    match std::mem::replace(&mut state.mode, Mode::Normal) {
        Mode::Help(view) => super::help::on_key(state, view, key),
        Mode::Filter(mut input) => match key.code {
            KeyCode::Esc => {
                state.filter = Filter::default();
                refilter(state);
            }
            KeyCode::Enter => {
                state.dirty = true;
            }
            _ => {
                if input.handle(key) {
                    state.filter = Filter::new(input.value());
                    refilter(state);
                }
                state.mode = Mode::Filter(input);
            }
        },
        Mode::Command(mut input) => match key.code {
            KeyCode::Esc => state.dirty = true,
            KeyCode::Enter => run_command(state, input.value().trim(), fx),
            _ => {
                input.handle(key);
                state.dirty = true;
                state.mode = Mode::Command(input);
            }
        },
        Mode::Form(mut form) => {
            state.dirty = true;
            on_form_key(state, &mut form, key, fx);
            if !state.quit && state.mode == Mode::Normal && !form_closed(&form) {
                state.mode = Mode::Form(form);
            }
        }
        Mode::Confirm(mut c) => {
            state.dirty = true;
            match (c.op, key.code) {
                (_, KeyCode::Esc) | (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('n')) => {
                    state.flash = Some(format!("{} cancelled", c.op.verb()));
                }
                (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('y'))
                    if let Some(now) = state.index.get(&c.key).map(|&i| state.snapshot(&state.rows[i]))
                        && super::lifecycle::toggle_op(now) != Ok(c.op) =>
                {
                    // The deployment moved while the prompt was open: what was asked no longer fits.
                    state.flash = Some(format!(
                        "{} is {} now: nothing sent (press t again)",
                        c.name,
                        now.status.label()
                    ));
                }
                (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('y')) => {
                    fx.push(Effect::Lifecycle(LifecycleRequest {
                        account: c.account,
                        key: c.key,
                        name: c.name,
                        op: c.op,
                    }));
                }
                (LifecycleOp::Delete, KeyCode::Enter) => {
                    if c.input.value() == c.name {
                        fx.push(Effect::Lifecycle(LifecycleRequest {
                            account: c.account,
                            key: c.key,
                            name: c.name,
                            op: c.op,
                        }));
                    } else {
                        state.flash = Some("the name does not match: nothing deleted".into());
                    }
                }
                (LifecycleOp::Delete, _) => {
                    c.input.handle(key);
                    state.mode = Mode::Confirm(c);
                }
                _ => state.mode = Mode::Confirm(c),
            }
        }
        Mode::Editor(review) => super::editor::on_key(state, review, key, fx),
        Mode::Catalog(view) => super::create_flow::on_catalog_key(state, view, key, fx),
        Mode::Create(form) => super::create_flow::on_create_key(state, form, key, fx),
        Mode::Normal => {
            state.flash = None;
            if let Some(action) = state.keymap.lookup(&key) {
                on_action(state, action, fx);
            }
        }
    }
}

fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    let page = state.table_height.max(1) as isize;
    match action {
        Action::Quit => {
            state.quit = true;
            fx.push(Effect::Quit);
        }
        Action::MoveDown => move_in_pane(state, 1),
        Action::MoveUp => move_in_pane(state, -1),
        Action::PageDown => move_in_pane(state, page),
        Action::PageUp => move_in_pane(state, -page),
        Action::Top => move_in_pane(state, isize::MIN / 2),
        Action::Bottom => move_in_pane(state, isize::MAX / 2),
        Action::NextPane => cycle_pane(state, true),
        Action::PrevPane => cycle_pane(state, false),
        Action::FocusDetail if state.focus == Pane::Regions => {
            // Enter on a region: tail that region's logs (again: all regions).
            let region = state
                .selected_deployment()
                .and_then(|d| d.regions.get(state.region_sel))
                .map(|r| r.region_id.clone());
            state.logs_region = if state.logs_region == region { None } else { region };
            state.logs_scroll = 0;
            focus(state, Pane::Logs);
        }
        Action::FocusDetail => focus(state, Pane::Details),
        Action::Back => {
            if state.focus != Pane::Deployments {
                focus(state, Pane::Deployments);
            } else if state.filter.is_active() || !state.filter.text.is_empty() {
                state.filter = Filter::default();
                refilter(state);
            }
            state.dirty = true;
        }
        Action::Filter => {
            state.mode = Mode::Filter(LineInput::new(state.filter.text.clone()));
            state.dirty = true;
        }
        Action::Command => {
            state.mode = Mode::Command(LineInput::default());
            state.dirty = true;
        }
        Action::SortName => set_sort(state, SortKey::Name),
        Action::SortStatus => set_sort(state, SortKey::Status),
        Action::SortReady => set_sort(state, SortKey::Ready),
        Action::SortProvider => set_sort(state, SortKey::Provider),
        Action::Refresh => {
            state.flash = Some("refreshing…".into());
            state.dirty = true;
            fx.push(Effect::Refresh(None));
            // The detail watch is re-sent so the selected deployment refreshes too.
            state.watching = None;
        }
        Action::Logs => focus(state, Pane::Logs),
        Action::Help => {
            state.mode = Mode::Help(Default::default());
            state.dirty = true;
        }
        a @ (Action::Scale | Action::Probes | Action::StartStop | Action::Delete) => open_mutation(state, a),
        Action::RevealEnvs => {
            let key = state.selected_row().map(|r| r.dep.key.clone());
            state.reveal_envs = if state.reveal_envs == key { None } else { key };
            state.flash = Some(
                if state.reveal_envs.is_some() {
                    "env values shown (v hides them)"
                } else {
                    "env values hidden"
                }
                .into(),
            );
            if state.reveal_envs.is_some() {
                focus(state, Pane::Details);
            }
            state.dirty = true;
        }
        Action::Copy => {
            match state.selected_deployment().and_then(|d| d.address.clone()) {
                Some(addr) => {
                    state.flash =
                        Some(format!("copied {} to the clipboard", crate::model::text::sanitize(&addr)));
                    state.clipboard = Some(addr);
                }
                None => state.flash = Some("this deployment has no address".into()),
            }
            state.dirty = true;
        }
        Action::Edit => super::editor::open(state, fx),
        Action::Catalog => super::create_flow::open_catalog(state, None, fx),
        Action::Create => super::create_flow::open_create(state, None, Default::default(), fx),
    }
}

/// A form that has been closed marks itself by leaving the Edit stage as `Stage::Edit` with no sections.
fn form_closed(form: &Form) -> bool {
    form.sections.is_empty()
}

const NEED_ATTENTION: &str = "field(s) need attention";

fn on_form_key(state: &mut State, form: &mut Form, key: KeyEvent, fx: &mut Vec<Effect>) {
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
                    fx.push(Effect::Apply(Box::new(apply_request(form, change))));
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
pub(super) fn apply_request(form: &Form, change: Change) -> ApplyRequest {
    ApplyRequest {
        account: form.account,
        key: form.key.clone(),
        name: form.base.name.clone(),
        change,
        expected: Box::new(form.base.clone()),
        source: form.source.clone(),
    }
}

/// Opens a form or a confirmation for the selected deployment, if the provider and mode allow it.
fn open_mutation(state: &mut State, action: Action) {
    state.dirty = true;
    if state.read_only {
        state.flash = Some("read-only mode: changes are off".into());
        return;
    }
    let Some(row) = state.selected_row() else {
        state.flash = Some("select a deployment first".into());
        return;
    };
    let account = row.account;
    let caps = state.accounts[account].capabilities;
    let provider = row.dep.key.provider;
    let dep = state.selected_deployment().cloned().unwrap_or_else(|| row.dep.clone());
    let refuse = |what: &str| format!("{provider} does not offer {what}");
    match action {
        Action::Scale if !caps.update_scale => state.flash = Some(refuse("scale edits")),
        Action::Probes if !caps.update_probes => state.flash = Some(refuse("probe edits")),
        Action::StartStop if !caps.start_stop => state.flash = Some(refuse("start and stop")),
        Action::Delete if !caps.delete => state.flash = Some(refuse("delete")),
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
                    capacity: r.capacity.get(&hw).copied(),
                })
                .collect();
            state.mode = Mode::Form(Box::new(Form::scale(&dep, account, caps.per_region_scale, choices)));
        }
        Action::Probes => state.mode = Mode::Form(Box::new(Form::probes(&dep, account))),
        Action::StartStop => match super::lifecycle::toggle_op(&dep) {
            Ok(op) => open_confirm(state, op, &dep, account),
            Err(why) => state.flash = Some(why),
        },
        Action::Delete => open_confirm(state, LifecycleOp::Delete, &dep, account),
        _ => {}
    }
}

fn open_confirm(state: &mut State, op: LifecycleOp, dep: &Deployment, account: usize) {
    state.mode = Mode::Confirm(Confirm {
        op,
        key: dep.key.clone(),
        account,
        name: dep.name.clone(),
        what: super::lifecycle::describe(op, dep),
        input: LineInput::default(),
    });
}

/// `:provider gcore`, `:sort ready`, `:q`, `:refresh`, `:help`.
fn run_command(state: &mut State, cmd: &str, fx: &mut Vec<Effect>) {
    let mut parts = cmd.split_whitespace();
    let head = parts.next().unwrap_or("");
    let arg = parts.next();
    state.dirty = true;
    match (head, arg) {
        ("q" | "quit" | "q!" | "exit", _) => {
            state.quit = true;
            fx.push(Effect::Quit);
        }
        ("provider" | "providers" | "p", None | Some("all" | "*")) => {
            state.scope = None;
            state.flash = Some("showing every provider".into());
            refilter(state);
        }
        ("provider" | "providers" | "p", Some(p)) => match ProviderKind::parse(p) {
            Some(k) => {
                state.scope = Some(k);
                state.flash = Some(format!("showing {k} only"));
                refilter(state);
            }
            None => state.flash = Some(format!("unknown provider {p:?}: gcore, sesterce, runai or all")),
        },
        (p @ ("gcore" | "sesterce" | "runai"), None) => {
            state.scope = ProviderKind::parse(p);
            refilter(state);
        }
        ("sort", Some(k)) => match SortKey::parse(k) {
            Some(key) => set_sort(state, key),
            None => {
                state.flash = Some(format!("unknown sort {k:?}: name, status, ready, provider, age, price"))
            }
        },
        ("refresh" | "r", _) => {
            fx.push(Effect::Refresh(None));
            state.watching = None;
        }
        ("help" | "h" | "?", _) => state.mode = Mode::Help(Default::default()),
        ("catalog" | "cat", p) => {
            let account = p.and_then(|p| super::create_flow::account_named(state, p));
            match (p, account) {
                (Some(p), None) => state.flash = Some(format!("no account or provider named {p:?}")),
                _ => super::create_flow::open_catalog(state, account, fx),
            }
        }
        ("create" | "new", _) => super::create_flow::open_create(state, None, Default::default(), fx),
        ("", _) => {}
        _ => {
            state.flash = Some(format!(
                "unknown command {head:?} (try :provider, :sort, :catalog, :create, :refresh, :q)"
            ))
        }
    }
}

fn on_mouse(state: &mut State, m: MouseEvent) {
    if state.mode != Mode::Normal {
        return;
    }
    let areas = crate::ui::layout(ratatui::layout::Rect::new(0, 0, state.width, state.height));
    let inside = |r: ratatui::layout::Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    match m.kind {
        MouseEventKind::ScrollDown => move_in_pane(state, 1),
        MouseEventKind::ScrollUp => move_in_pane(state, -1),
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
            if inside(areas.table) {
                focus(state, Pane::Deployments);
                // Border and header take the first two lines.
                let first = areas.table.y + 2;
                if m.row >= first && m.row < areas.table.y + areas.table.height.saturating_sub(1) {
                    let pos = state.table_offset + (m.row - first) as usize;
                    if pos < state.view.len() {
                        select(state, pos);
                    }
                }
            } else if state.width >= crate::ui::WIDE && inside(areas.regions) {
                focus(state, Pane::Regions);
            } else if inside(areas.tabs) {
                focus(state, state.tab);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RegionReplicas, Scale, Status};
    use crate::provider::{Capabilities, ErrorKind};
    use chrono::TimeZone;
    use crossterm::event::{MouseButton, MouseEvent};
    use std::time::Duration;

    fn caps() -> Capabilities {
        Capabilities {
            update_scale: true,
            update_probes: true,
            start_stop: true,
            delete: true,
            logs: true,
            metrics: false,
            logging_config: true,
            per_region_scale: true,
            pricing: false,
        }
    }

    fn dep(i: usize, name: &str, ready: u32) -> Deployment {
        let key = DeploymentKey { provider: ProviderKind::Gcore, account: "g".into(), id: format!("id-{i}") };
        let mut d =
            Deployment::new(key, name, if ready == 2 { Status::Active } else { Status::PartiallyDeployed });
        d.address = Some(format!("https://{name}.example"));
        d.envs.insert("TOKEN".into(), "s3cr3t".into());
        d.regions.push(RegionReplicas {
            region_id: "7".into(),
            region_name: Some("Luxembourg-2".into()),
            ready,
            total: 2,
            scale: Scale { min: 1, max: 2, ..Default::default() },
            error: None,
        });
        d
    }

    fn state() -> State {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut s = State::new(
            vec![AccountState::new("g", ProviderKind::Gcore, caps())],
            Duration::from_secs(5),
            now,
        );
        update(&mut s, Msg::Resize(120, 40));
        let deps = vec![dep(0, "alpha", 2), dep(1, "bravo", 0), dep(2, "charlie", 1)];
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(deps) });
        s
    }

    fn press(s: &mut State, c: KeyCode) -> Vec<Effect> {
        update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
    }

    fn names(s: &State) -> Vec<String> {
        s.view.iter().map(|&i| s.rows[i].dep.name.clone()).collect()
    }

    #[test]
    fn filter_narrows_inverts_and_esc_clears() {
        let mut s = state();
        press(&mut s, KeyCode::Char('/'));
        for c in "a.p".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        assert_eq!(names(&s), ["alpha"]);
        press(&mut s, KeyCode::Home);
        press(&mut s, KeyCode::Char('!'));
        assert_eq!(names(&s), ["bravo", "charlie"]);
        press(&mut s, KeyCode::Enter);
        assert_eq!(s.mode, Mode::Normal);
        press(&mut s, KeyCode::Esc);
        assert_eq!(names(&s).len(), 3);
    }

    #[test]
    fn an_invalid_regex_is_matched_literally_and_says_so() {
        let mut s = state();
        press(&mut s, KeyCode::Char('/'));
        press(&mut s, KeyCode::Char('('));
        assert!(s.filter.error.is_some());
        assert!(names(&s).is_empty());
    }

    #[test]
    fn shift_letters_sort_and_toggle_direction() {
        let mut s = state();
        press(&mut s, KeyCode::Char('R'));
        assert_eq!(names(&s), ["bravo", "charlie", "alpha"]);
        press(&mut s, KeyCode::Char('R'));
        assert_eq!(names(&s), ["alpha", "charlie", "bravo"]);
        press(&mut s, KeyCode::Char(':'));
        for c in "sort name".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Enter);
        assert_eq!(names(&s), ["alpha", "bravo", "charlie"]);
    }

    #[test]
    fn command_mode_scopes_and_quits() {
        let mut s = state();
        press(&mut s, KeyCode::Char(':'));
        for c in "provider runai".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        press(&mut s, KeyCode::Enter);
        assert!(names(&s).is_empty());
        press(&mut s, KeyCode::Char(':'));
        press(&mut s, KeyCode::Char('q'));
        let fx = press(&mut s, KeyCode::Enter);
        assert!(s.quit && fx.contains(&Effect::Quit));
    }

    #[test]
    fn read_only_blocks_every_mutation() {
        let mut s = state();
        s.read_only = true;
        for c in ['s', 'p', 't'] {
            press(&mut s, KeyCode::Char(c));
            assert_eq!(s.mode, Mode::Normal, "{c} opened something in read-only mode");
        }
        update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)));
        assert_eq!(s.mode, Mode::Normal);
    }

    #[test]
    fn delete_needs_the_typed_name() {
        let mut s = state();
        update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)));
        for c in "alph".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        assert!(press(&mut s, KeyCode::Enter).iter().all(|e| !matches!(e, Effect::Lifecycle(_))));
        update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)));
        for c in "alpha".chars() {
            press(&mut s, KeyCode::Char(c));
        }
        let fx = press(&mut s, KeyCode::Enter);
        assert!(fx.iter().any(|e| matches!(e, Effect::Lifecycle(r) if r.op == LifecycleOp::Delete)));
    }

    #[test]
    fn a_click_selects_the_row_under_the_mouse() {
        let mut s = state();
        let areas = crate::ui::layout(ratatui::layout::Rect::new(0, 0, 120, 40));
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row: areas.table.y + 2 + 2,
            modifiers: KeyModifiers::NONE,
        };
        update(&mut s, Msg::Mouse(click));
        assert_eq!(s.selected_row().unwrap().dep.name, "charlie");
    }

    #[test]
    fn copy_puts_the_address_on_the_clipboard_and_reveal_is_per_deployment() {
        let mut s = state();
        press(&mut s, KeyCode::Char('y'));
        assert_eq!(s.clipboard.as_deref(), Some("https://alpha.example"));
        press(&mut s, KeyCode::Char('v'));
        assert_eq!(s.reveal_envs.as_ref(), Some(&s.selected_row().unwrap().dep.key));
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Char('j'));
        assert_eq!(s.reveal_envs, None, "moving on hides the values again");
    }

    #[test]
    fn enter_on_a_region_tails_its_logs_and_the_watch_asks_for_them() {
        let mut s = state();
        press(&mut s, KeyCode::Tab);
        assert_eq!(s.focus, Pane::Regions);
        let fx = press(&mut s, KeyCode::Enter);
        assert_eq!(s.focus, Pane::Logs);
        assert_eq!(s.logs_region.as_deref(), Some("7"));
        let w = fx.iter().find_map(|e| match e {
            Effect::Watch(Some(w)) => Some(w.clone()),
            _ => None,
        });
        let w = w.expect("a new watch");
        assert!(w.logs && w.logs_region.as_deref() == Some("7"));
    }

    #[test]
    fn a_failed_refresh_keeps_the_data_marks_it_stale_and_records_a_gap() {
        let mut s = state();
        let later = s.now + chrono::Duration::seconds(2);
        s.now = later;
        let err = ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503);
        update(&mut s, Msg::Fleet { account: 0, at: later, result: Err(err) });
        assert_eq!(s.rows.len(), 3, "last good data stays");
        assert!(s.rows.iter().all(|r| s.row_is_stale(r)));
        assert_eq!(s.live_toasts().count(), 1);
        assert_eq!(s.rows[0].history[0].1.back(), Some(&None));
        // The same error again is not toasted twice; a recovery clears the marks.
        update(
            &mut s,
            Msg::Fleet {
                account: 0,
                at: later,
                result: Err(ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503)),
            },
        );
        assert_eq!(s.toasts.len(), 1);
        let deps = vec![dep(0, "alpha", 2)];
        update(&mut s, Msg::Fleet { account: 0, at: later, result: Ok(deps) });
        assert!(!s.rows.iter().any(|r| s.row_is_stale(r)));
        assert_eq!(s.rows.len(), 1, "gone deployments disappear");
    }

    #[test]
    fn row_regions_and_details_show_one_snapshot_the_newer_of_list_and_detail() {
        let mut s = state();
        let key = s.selected_row().unwrap().dep.key.clone();
        // A detail fetched after the list: the row shows it too (3/3 ACTIVE, not the list's 2/3).
        let t1 = s.now + chrono::Duration::seconds(1);
        let mut full = dep(0, "alpha", 2);
        full.status = Status::Active;
        full.regions[0].total = 3;
        full.regions[0].ready = 3;
        full.detail = true;
        full.command = Some("serve".into());
        update(&mut s, Msg::Detail { key: key.clone(), at: t1, result: Ok(Box::new(full)) });
        let row = s.selected_row().unwrap();
        assert_eq!((s.snapshot(row).ready(), s.snapshot(row).total()), (3, 3));
        // A newer list summary wins for the live state; what only the detail had stays.
        let t2 = t1 + chrono::Duration::seconds(1);
        let mut list = vec![dep(0, "alpha", 2), dep(1, "bravo", 0), dep(2, "charlie", 1)];
        list[0].status = Status::Disabled;
        update(&mut s, Msg::Fleet { account: 0, at: t2, result: Ok(list) });
        let d = s.selected_deployment().unwrap();
        assert_eq!(d.status, Status::Disabled);
        assert_eq!((d.ready(), d.total()), (2, 2));
        assert_eq!(d.command.as_deref(), Some("serve"));
    }

    #[test]
    fn partially_deployed_with_equal_counts_is_not_rolled_out() {
        let mut d = dep(0, "alpha", 2);
        d.status = Status::PartiallyDeployed;
        assert!(!rolled_out(&d));
        d.status = Status::Active;
        assert!(rolled_out(&d));
        d.regions[0].scale.min = 3;
        assert!(!rolled_out(&d), "fewer replicas than the minimum asks");
    }
}
