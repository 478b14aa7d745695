//! The fleet: rows from each account's lists (full or summary) and details reads, history of readiness,
//! one snapshot per deployment.

use super::state::{AccountState, HISTORY_LEN, Row, State, haystack, toast};
use super::update::RowDetail;
use crate::model::{Deployment, DeploymentKey};
use crate::provider::ApiError;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;

pub(super) fn on_busy(state: &mut State, account: usize, busy: bool) {
    if let Some(a) = state.accounts.get_mut(account) {
        if busy {
            a.in_flight += 1;
        } else {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
        state.dirty = true;
    }
}

pub(super) fn on_progress(
    state: &mut State,
    account: usize,
    details: Option<(usize, usize)>,
    rate: Option<(f64, f64)>,
) {
    if let Some(a) = state.accounts.get_mut(account) {
        a.details = details;
        a.rate = rate;
        state.dirty = true;
    }
}

/// The selected deployment's details: they become its snapshot unless the list is newer.
pub(super) fn on_detail(
    state: &mut State,
    key: DeploymentKey,
    at: DateTime<Utc>,
    result: Result<Box<Deployment>, ApiError>,
) {
    let cache = state.details.entry(key.clone()).or_default();
    match result {
        Ok(d) => {
            cache.detail = Some((*d, at));
            cache.detail_error = None;
            absorb_newer_summary(state, &key);
            super::edit::settle_pending(state, Some(&key));
        }
        Err(e) => {
            let msg = e.to_string();
            cache.detail_error = Some(e);
            toast(state, msg);
        }
    }
    state.dirty = true;
}

/// A summary list: new rows appear with what the list carries; a row whose details were read keeps them and
/// takes the list's status, name, address and price. Its data is renewed by the list when the entry is
/// unchanged since the details read and it is at rest.
pub(super) fn on_listed(
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
    super::edit::settle_pending(state, None);
    super::table::resort(state);
}

/// Details read for rows of a summary list: the row takes them (a failed read keeps what the row had).
pub(super) fn on_row_details(state: &mut State, account: usize, at: DateTime<Utc>, items: Vec<RowDetail>) {
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
                super::edit::settle_pending(state, Some(&item.key));
            }
            Err(e) => {
                tracing::debug!(id = %item.key.id, error = %e, "details read failed; the row keeps what it had")
            }
        }
    }
    if changed {
        state.dirty = true;
        super::table::resort(state);
    }
}

pub(super) fn on_fleet(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    result: Result<Vec<Deployment>, ApiError>,
) {
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
    super::edit::settle_pending(state, None);
    super::table::resort(state);
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

pub(super) fn push_sample_time(a: &mut AccountState, at: DateTime<Utc>) {
    a.sample_times.push_back(at);
    while a.sample_times.len() > HISTORY_LEN {
        a.sample_times.pop_front();
    }
}

pub(super) fn push_bounded(h: &mut VecDeque<Option<u32>>, v: Option<u32>) {
    h.push_back(v);
    while h.len() > HISTORY_LEN {
        h.pop_front();
    }
}

/// Appends this sample's ready count per region, keeping every series aligned with the account's sample times.
pub(crate) fn record_history(
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
