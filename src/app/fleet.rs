//! The fleet: rows from each account's lists (full or summary) and details reads, history of readiness,
//! one snapshot per deployment.

use super::history::History;
use super::state::{AccountState, HISTORY_LEN, Row, State, haystack, toast};
use super::update::RowDetail;
use crate::model::{Deployment, DeploymentKey};
use crate::provider::ApiError;
use chrono::{DateTime, Utc};

pub(super) fn on_busy(state: &mut State, account: usize, busy: bool) {
    if let Some(a) = state.accounts.get_mut(account) {
        if busy {
            a.in_flight += 1;
        } else {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
        // No frame of its own: a list that answers within a second is never worth a spinner, and a slower one
        // shows it on the next tick's frame (as does its end, with the list's own frame when it changes rows).
    }
}

pub(super) fn on_progress(
    state: &mut State,
    account: usize,
    details: Option<super::state::DetailsProgress>,
    rate: Option<(f64, f64)>,
) {
    if let Some(a) = state.accounts.get_mut(account)
        && (a.details != details || a.rate != rate)
    {
        // The status line shows progress only while details are missing, and the rate only while slowed down.
        let shown = |d: Option<super::state::DetailsProgress>, r: Option<(f64, f64)>| {
            (d.and_then(|d| d.shown()), r.filter(|(now, configured)| now < configured))
        };
        if shown(a.details, a.rate) != shown(details, rate) {
            state.dirty = true;
        }
        a.details = details;
        a.rate = rate;
    }
}

/// An account's list answered: it is up, and after an error the same error may be shown again if it returns.
/// Whether its status line shows it differently (its first answer, or the end of a failure); its age moves
/// with the tick.
fn list_answered(state: &mut State, account: usize, at: DateTime<Utc>) -> bool {
    let a = &mut state.accounts[account];
    let first = a.last_ok.replace(at).is_none();
    a.partial = false;
    if a.last_error.take().is_some() {
        let prefix = format!("{}: ", a.name);
        state.seen_errors.retain(|m| !m.starts_with(&prefix));
        return true;
    }
    first
}

/// The selected deployment's details: they become its snapshot unless the list is newer. Whether its
/// snapshot changed (a read that finds it as it was is no new frame, and no new sum of the cost).
pub(super) fn on_detail(
    state: &mut State,
    key: DeploymentKey,
    at: DateTime<Utc>,
    result: Result<Box<Deployment>, ApiError>,
) -> bool {
    let before = shown_snapshot(state, &key);
    // Where the list is a summary (Sesterce), the row's replicas come from details reads: a failed one makes
    // its health unknown, the next good one clears that.
    let summary_row = state
        .index
        .get(&key)
        .and_then(|&i| state.accounts.get(state.rows[i].account))
        .is_some_and(|a| a.lists_summaries);
    if summary_row && let Some(&i) = state.index.get(&key) {
        state.rows[i].dep.unknown = result.as_ref().err().map(|e| crate::provider::details_unread(&key, e));
    }
    let cache = state.details.entry(key.clone()).or_default();
    match result {
        Ok(d) => {
            let recovered = cache.detail_error.take().is_some();
            cache.detail = Some((*d, at));
            absorb_newer_summary(state, &key);
            super::edit::settle_pending(state, Some(&key));
            let changed = shown_snapshot(state, &key) != before;
            if changed || recovered {
                state.dirty = true;
            }
            changed
        }
        Err(e) => {
            let msg = e.to_string();
            if summary_row && let Some((d, _)) = cache.detail.as_mut() {
                d.unknown = Some(crate::provider::details_unread(&key, &e));
            }
            cache.detail_error = Some(e);
            toast(state, msg);
            state.dirty = true;
            false
        }
    }
}

/// The deployment as the screen shows it (its row's snapshot), or as its details cache holds it without a row.
fn shown_snapshot(state: &State, key: &DeploymentKey) -> Option<Deployment> {
    match state.index.get(key) {
        Some(&i) => Some(state.snapshot(&state.rows[i]).clone()),
        None => state.details.get(key).and_then(|c| c.detail.as_ref()).map(|(d, _)| d.clone()),
    }
}

/// A summary list: new rows appear with what the list carries; a row whose details were read keeps them and
/// takes the list's status, name, address and price. Its data is renewed by the list when the entry is
/// unchanged since the details read and it is at rest. Whether any row changed, came or went.
pub(super) fn on_listed(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    result: Result<Vec<crate::provider::Listed>, ApiError>,
) -> bool {
    let Some(a) = state.accounts.get_mut(account) else { return false };
    a.lists_summaries = true;
    let listed = match result {
        Err(e) => return on_fleet(state, account, at, Err(e)),
        Ok(l) => l,
    };
    let answered = list_answered(state, account, at);
    let sample = push_sample_time(&mut state.accounts[account], at);
    // Readiness is recorded locally only where the provider has no metrics API to draw instead; a row's
    // sample is what its details last said (a details read after this list replaces it).
    let record = !state.accounts[account].capabilities.metrics;
    let name = state.accounts[account].name.clone();
    let new = listed.iter().filter(|l| !state.index.contains_key(&l.dep.key)).count();
    state.rows.reserve_exact(new);
    let mut seen = vec![false; state.rows.len() + new];
    // Whether anything the table sorts, filters or shows besides the data's age changed: an unchanged list
    // costs no new filter text and no new sort.
    let mut changed = new > 0;
    for l in listed {
        let Some(&i) = state.index.get(&l.dep.key) else {
            let hay = haystack(&l.dep, &name);
            seen[state.rows.len()] = true;
            state.index.insert(l.dep.key.clone(), state.rows.len());
            state.rows.push(Row {
                dep: Box::new(l.dep),
                account,
                fetched_at: at,
                haystack: hay,
                history: History::default(),
                detail_version: None,
            });
            continue;
        };
        seen[i] = true;
        let row = &mut state.rows[i];
        if !row.dep.detail {
            // A details read that failed stays the row's reason until one succeeds.
            let mut dep = l.dep;
            if dep.unknown.is_none() {
                dep.unknown.clone_from(&row.dep.unknown);
            }
            if *row.dep != dep {
                row.haystack = haystack(&dep, &name);
                *row.dep = dep;
                changed = true;
            }
            row.fetched_at = at;
            continue;
        }
        let unchanged = row.detail_version.as_deref() == Some(l.version.as_str());
        let d = l.dep;
        let moved = row.dep.status != d.status;
        let created_at = row.dep.created_at.or(d.created_at);
        if moved
            || row.dep.name != d.name
            || row.dep.address != d.address
            || row.dep.price_per_hour != d.price_per_hour
            || row.dep.created_at != created_at
        {
            row.dep.status = d.status;
            row.dep.name = d.name;
            row.dep.address = d.address;
            row.dep.price_per_hour = d.price_per_hour;
            row.dep.created_at = created_at;
            row.haystack = haystack(&row.dep, &name);
            changed = true;
        }
        if unchanged && !moved && crate::provider::settled(&row.dep) {
            row.fetched_at = at;
        }
        if record {
            row.history.record(&row.dep, sample);
        }
    }
    // Deployments gone from this account disappear.
    if remove_unseen(state, account, &seen) {
        changed = true;
    }
    // A list that changes nothing shown but the ages draws no frame of its own: the tick's frame moves them.
    if changed || answered {
        state.dirty = true;
    }
    super::edit::settle_pending(state, None);
    if changed {
        super::table::resort(state);
    }
    changed
}

/// Removes the rows of `account` not `seen` in its list (by row position); whether any was.
fn remove_unseen(state: &mut State, account: usize, seen: &[bool]) -> bool {
    let before = state.rows.len();
    let mut k = 0;
    state.rows.retain(|r| {
        let keep = r.account != account || seen.get(k).copied().unwrap_or(true);
        k += 1;
        keep
    });
    if state.rows.len() == before {
        return false;
    }
    state.index = state.rows.iter().enumerate().map(|(i, r)| (r.dep.key.clone(), i)).collect();
    state.details.retain(|k, _| state.index.contains_key(k));
    true
}

/// Details read for rows of a summary list: the row takes them (a failed read keeps what the row had).
/// Whether any row changed (only then is there a frame to draw).
pub(super) fn on_row_details(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    items: Vec<RowDetail>,
) -> bool {
    let (name, sample, record) = match state.accounts.get(account) {
        Some(a) => (a.name.clone(), a.samples, !a.capabilities.metrics),
        None => return false,
    };
    let mut changed = false;
    for item in items {
        let Some(&i) = state.index.get(&item.key) else { continue };
        match item.result {
            Ok(d) => {
                let row = &mut state.rows[i];
                if row.dep != d {
                    row.haystack = haystack(&d, &name);
                    row.dep = d;
                    changed = true;
                }
                row.fetched_at = at;
                row.detail_version = Some(item.version);
                if record {
                    row.history.record(&row.dep, sample);
                }
                super::edit::settle_pending(state, Some(&item.key));
            }
            Err(e) => {
                // The row keeps what it had, but its health is unknown until a read succeeds, and says why.
                tracing::debug!(id = %item.key.id, error = %e, "details read failed; the row keeps what it had");
                let why = crate::provider::details_unread(&item.key, &e);
                let row = &mut state.rows[i];
                if row.dep.unknown.as_deref() != Some(why.as_str()) {
                    row.dep.unknown = Some(why.clone());
                    changed = true;
                }
                if let Some(c) = state.details.get_mut(&item.key)
                    && let Some((d, _)) = c.detail.as_mut()
                {
                    d.unknown = Some(why);
                }
            }
        }
    }
    if changed {
        state.dirty = true;
        super::table::resort(state);
    }
    changed
}

/// A full list, or a failed list of any kind. Whether any row changed, came or went.
pub(super) fn on_fleet(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    result: Result<Vec<Deployment>, ApiError>,
) -> bool {
    if account >= state.accounts.len() {
        return false;
    }
    let sample = push_sample_time(&mut state.accounts[account], at);
    // Whether anything the table sorts or filters on changed (see `on_listed`).
    let mut changed = false;
    match result {
        Err(e) => list_failed(state, account, at, sample, e),
        Ok(deps) => {
            if list_answered(state, account, at) {
                state.dirty = true;
            }
            let seen;
            (changed, seen) = take_rows(state, account, at, sample, deps);
            // Deployments gone from this account disappear.
            changed |= remove_unseen(state, account, &seen);
        }
    }
    after_list(state);
    if changed {
        // A list that changes nothing shown but the ages draws no frame of its own (see `on_listed`).
        state.dirty = true;
        super::table::resort(state);
    }
    changed
}

/// A list that stopped part way: its rows are taken, none is removed (a partial list does not say which
/// are gone), and the account fails as after any failed list. Whether any row changed or came.
pub(super) fn on_fleet_partial(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    rows: Vec<Deployment>,
    error: ApiError,
) -> bool {
    if account >= state.accounts.len() {
        return false;
    }
    let sample = push_sample_time(&mut state.accounts[account], at);
    let (changed, _) = take_rows(state, account, at, sample, rows);
    state.accounts[account].partial = true;
    list_failed(state, account, at, sample, error);
    after_list(state);
    if changed {
        state.dirty = true;
        super::table::resort(state);
    }
    changed
}

/// The warnings of the account's list: each new one is toasted once; the status line counts them.
pub(super) fn on_list_warnings(state: &mut State, account: usize, warnings: Vec<String>) {
    let Some(a) = state.accounts.get_mut(account) else { return };
    if a.list_warnings == warnings {
        return;
    }
    let name = a.name.clone();
    a.list_warnings = warnings.clone();
    state.dirty = true;
    for w in warnings {
        toast(state, format!("{name}: {w}"));
    }
}

/// A failed list: the status line counts the error and marks the account failing; its rows turn stale.
fn list_failed(state: &mut State, account: usize, at: DateTime<Utc>, sample: u64, e: ApiError) {
    let msg = format!("{}: {}", state.accounts[account].name, e);
    let a = &mut state.accounts[account];
    a.errors += 1;
    a.last_error = Some(e);
    a.last_error_at = Some(at);
    toast(state, msg);
    state.dirty = true;
    // A gap in every recorded series of this account (rows read by a partial list have their sample).
    for row in state.rows.iter_mut().filter(|r| r.account == account) {
        row.history.gap(sample);
    }
}

/// The rows of a full list, or of a partial one, taken into the table: whether any changed or came, and
/// which rows (by position) the list holds.
fn take_rows(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    sample: u64,
    deps: Vec<Deployment>,
) -> (bool, Vec<bool>) {
    let name = state.accounts[account].name.clone();
    // Readiness is recorded locally only where the provider has no metrics API to draw instead.
    let record = !state.accounts[account].capabilities.metrics;
    // Exactly the room the new rows need: a doubled table of a large fleet is megabytes for nothing.
    let new = deps.iter().filter(|d| !state.index.contains_key(&d.key)).count();
    state.rows.reserve_exact(new);
    let mut seen = vec![false; state.rows.len() + new];
    let mut changed = new > 0;
    for dep in deps {
        match state.index.get(&dep.key) {
            Some(&i) => {
                seen[i] = true;
                let row = &mut state.rows[i];
                if record {
                    row.history.record(&dep, sample);
                }
                // A list record does not replace a fuller one fetched later for the same data.
                if *row.dep != dep {
                    row.haystack = haystack(&dep, &name);
                    *row.dep = dep;
                    changed = true;
                }
                row.fetched_at = at;
            }
            None => {
                let mut history = History::default();
                if record {
                    history.record(&dep, sample);
                }
                seen[state.rows.len()] = true;
                state.index.insert(dep.key.clone(), state.rows.len());
                state.rows.push(Row {
                    haystack: haystack(&dep, &name),
                    dep: Box::new(dep),
                    account,
                    fetched_at: at,
                    history,
                    detail_version: None,
                });
            }
        }
    }
    (changed, seen)
}

/// The account's list came back as it was ([`super::Msg::FleetSame`]): what [`on_fleet`] does with a list equal
/// to its rows, without the list. Each row is seen now and records its sample; nothing changes, comes or goes.
pub(super) fn on_fleet_same(state: &mut State, account: usize, at: DateTime<Utc>) {
    if account >= state.accounts.len() {
        return;
    }
    let sample = push_sample_time(&mut state.accounts[account], at);
    if list_answered(state, account, at) {
        state.dirty = true;
    }
    let record = !state.accounts[account].capabilities.metrics;
    for row in state.rows.iter_mut().filter(|r| r.account == account) {
        if record {
            row.history.record(&row.dep, sample);
        }
        row.fetched_at = at;
    }
    after_list(state);
}

/// What every list answer does last: cached details take the newer list state, and pending edits that the
/// list shows done are settled.
fn after_list(state: &mut State) {
    let cached: Vec<DeploymentKey> = state.details.keys().cloned().collect();
    for key in &cached {
        absorb_newer_summary(state, key);
    }
    super::edit::settle_pending(state, None);
}

/// Keeps one snapshot per deployment: when the list's summary is newer than the cached detail, its live
/// state (status, regions, counts) replaces the detail's, which keeps only what the list leaves out.
pub(super) fn absorb_newer_summary(state: &mut State, key: &DeploymentKey) {
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

/// A new readiness sample of the account (one per list); returns its number.
pub(super) fn push_sample_time(a: &mut AccountState, at: DateTime<Utc>) -> u64 {
    a.sample_times.push_back(at);
    while a.sample_times.len() > HISTORY_LEN {
        a.sample_times.pop_front();
    }
    a.samples += 1;
    a.samples
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::update::{Msg, update};
    use crate::model::{ProviderKind, RegionReplicas, Scale, Status};
    use crate::provider::{Capabilities, Listed};
    use chrono::TimeZone;
    use std::time::Duration;

    fn caps() -> Capabilities {
        Capabilities {
            update_scale: true,
            update_probes: false,
            start_stop: true,
            delete: false,
            logs: false,
            metrics: false,
            logging_config: false,
            per_region_scale: true,
            pricing: true,
            create: true,
        }
    }

    fn key(id: &str) -> DeploymentKey {
        DeploymentKey { provider: ProviderKind::Sesterce, account: "s".into(), id: id.into() }
    }

    fn listed(id: &str, version: &str) -> Listed {
        Listed { dep: Deployment::new(key(id), id, Status::Active), version: version.into() }
    }

    fn details(id: &str, ready: u32) -> RowDetail {
        let mut d = Deployment::new(key(id), id, Status::Active);
        d.detail = true;
        d.regions.push(RegionReplicas {
            region_id: "18".into(),
            region_name: Some("Singapore".into()),
            ready,
            total: 2,
            scale: Scale { min: 1, max: 2, ..Default::default() },
            error: None,
        });
        RowDetail { key: key(id), version: "v1".into(), result: Ok(Box::new(d)) }
    }

    fn series(s: &State, id: &str) -> Vec<Option<u32>> {
        let row = &s.rows[s.index[&key(id)]];
        row.history.series().find(|(r, _)| *r == "18").map(|(_, h)| h.iter().collect()).unwrap_or_default()
    }

    /// A summary list (Sesterce) and its details batches record readiness like a full list does: one sample per
    /// list, the details read after a list filling in that list's sample.
    #[test]
    fn summary_lists_and_detail_batches_record_readiness_history() {
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut s = State::new(
            vec![AccountState::new("s", ProviderKind::Sesterce, caps())],
            Duration::from_secs(2),
            t0,
        );
        let at = |k: i64| t0 + chrono::Duration::seconds(2 * k);
        update(
            &mut s,
            Msg::Listed { account: 0, at: at(0), result: Ok(vec![listed("a", "v1"), listed("b", "v1")]) },
        );
        update(&mut s, Msg::RowDetails { account: 0, at: at(0), items: vec![details("a", 1)] });
        assert_eq!(series(&s, "a"), [Some(1)]);
        assert!(series(&s, "b").is_empty(), "nothing known of b's regions yet");
        // The next list: a's last known count is its sample; a details read after it replaces that.
        update(
            &mut s,
            Msg::Listed { account: 0, at: at(1), result: Ok(vec![listed("a", "v1"), listed("b", "v1")]) },
        );
        assert_eq!(series(&s, "a"), [Some(1), Some(1)]);
        update(
            &mut s,
            Msg::RowDetails { account: 0, at: at(1), items: vec![details("a", 2), details("b", 0)] },
        );
        assert_eq!(series(&s, "a"), [Some(1), Some(2)]);
        assert_eq!(series(&s, "b"), [None, Some(0)], "b's earlier sample is a gap");
        update(
            &mut s,
            Msg::Listed { account: 0, at: at(2), result: Ok(vec![listed("a", "v1"), listed("b", "v1")]) },
        );
        assert_eq!(series(&s, "b"), [None, Some(0), Some(0)]);
        assert_eq!(s.accounts[0].sample_times.len(), 3);
    }

    /// A list that stopped part way: its rows are taken and none is removed (it cannot say which are gone),
    /// the account fails as after any failed list (never ✓, every row stale) and is marked partial until a
    /// list is read whole; list warnings are toasted once each.
    #[test]
    fn a_partial_list_takes_its_rows_removes_none_and_fails_the_account() {
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut s = State::new(
            vec![AccountState::new("s", ProviderKind::Sesterce, caps())],
            Duration::from_secs(2),
            t0,
        );
        let dep = |id: &str| Deployment::new(key(id), id, Status::Active);
        update(&mut s, Msg::Fleet { account: 0, at: t0, result: Ok(vec![dep("a"), dep("b")]) });
        let err = ApiError::new(ProviderKind::Sesterce, crate::provider::ErrorKind::Other, "did not end");
        let t1 = t0 + chrono::Duration::seconds(1);
        update(&mut s, Msg::FleetPartial { account: 0, at: t1, rows: vec![dep("a"), dep("c")], error: err });
        let mut ids: Vec<&str> = s.rows.iter().map(|r| r.dep.key.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["a", "b", "c"], "b was not read, not removed");
        let a = &s.accounts[0];
        assert!(a.partial && a.last_error.is_some() && a.errors == 1);
        assert!(s.rows.iter().all(|r| s.row_is_stale(r)), "a failing account's rows are stale");
        let w = vec!["1 of 3 Sesterce instances could not be read: [1] …".to_string()];
        update(&mut s, Msg::ListWarnings { account: 0, warnings: w.clone() });
        update(&mut s, Msg::ListWarnings { account: 0, warnings: w.clone() });
        let toasts = s.live_toasts().filter(|t| t.message.contains("could not be read")).count();
        assert_eq!(toasts, 1);
        assert_eq!(s.accounts[0].list_warnings, w);
        // A whole list: the account is ok again, no longer partial, and rows it does not hold are gone.
        update(
            &mut s,
            Msg::Fleet { account: 0, at: t1 + chrono::Duration::seconds(1), result: Ok(vec![dep("a")]) },
        );
        assert!(!s.accounts[0].partial);
        assert_eq!(s.rows.len(), 1);
    }
}
