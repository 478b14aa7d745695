//! What the selected deployment needs fetched (details, metrics, logs), and what comes back.

use super::state::{DetailCache, LOG_LINES, Pane, State};
use crate::model::{DeploymentKey, LogLine};
use crate::provider::{ApiError, MetricsResult};
use chrono::{DateTime, Utc};

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

/// The watch the current selection and pane call for.
pub(super) fn watch_for(state: &State) -> Option<Option<Watch>> {
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

pub(super) fn state_watch_changed(state: &mut State, w: &Option<Watch>) -> bool {
    if state.watching.as_ref() == Some(w) {
        false
    } else {
        state.watching = Some(w.clone());
        true
    }
}

pub(super) fn merge_logs(cache: &mut DetailCache, lines: Vec<LogLine>) {
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

pub(super) fn on_metrics(
    state: &mut State,
    key: DeploymentKey,
    at: DateTime<Utc>,
    result: Result<MetricsResult, ApiError>,
) {
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

pub(super) fn on_logs(
    state: &mut State,
    key: DeploymentKey,
    at: DateTime<Utc>,
    result: Result<Vec<LogLine>, ApiError>,
) {
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
