//! The deployments table: sort, filter, provider scope, selection and scrolling, pane focus, and the rows in
//! view (whose details are read first).

use super::input::LineInput;
use super::state::{Filter, Mode, Pane, Row, SortKey, State};
use crate::model::DeploymentKey;
use crossterm::event::{KeyCode, KeyEvent};
use std::cmp::Ordering;

pub(super) fn on_resize(state: &mut State, w: u16, h: u16) {
    state.width = w;
    state.height = h;
    state.table_height = table_height(w, h);
    ensure_visible(state);
    state.dirty = true;
}

/// A key in filter mode: the view follows every keystroke; Esc clears the filter, Enter keeps it.
pub(super) fn on_filter_key(state: &mut State, mut input: LineInput, key: KeyEvent) {
    match key.code {
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
    }
}

/// The rows in view: visible, selected, and those with a pending edit.
pub(super) fn eyes_of(state: &State) -> Vec<DeploymentKey> {
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
        // Sorted by the costs `resort` works out beforehand (they need the prices): see there.
        SortKey::Price => by_name(),
    }
}

/// Recomputes the sort order, then the view.
pub fn resort(state: &mut State) {
    let rows = &state.rows;
    let key = state.sort;
    // From the last order when it still covers the rows (it is then a permutation of them): the comparisons
    // below are a total order, so the result is the same from any start, and the sort of an order that a
    // batch of details barely moved costs about one comparison per row instead of a full sort.
    let mut order = std::mem::take(&mut state.sorted);
    if order.len() != rows.len() {
        order = (0..rows.len()).collect();
    }
    if key == SortKey::Price {
        // What each row costs per hour now, as the COST/H column shows it (every provider, every currency by
        // its amount); rows without a known cost last, by name.
        let cost: Vec<Option<f64>> = rows
            .iter()
            .map(|r| super::cost::deployment_cost(state, r.account, state.snapshot(r)).map(|(_, v)| v))
            .collect();
        order.sort_by(|&a, &b| {
            match (cost[a], cost[b]) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
            .then_with(|| compare(&rows[a], &rows[b], key))
        });
    } else {
        order.sort_by(|&a, &b| compare(&rows[a], &rows[b], key));
    }
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

/// Rows the deployments table can show at this terminal size (kept in sync with `layout::layout`).
pub fn table_height(w: u16, h: u16) -> usize {
    super::layout::layout(ratatui::layout::Rect::new(0, 0, w, h)).table.height.saturating_sub(3) as usize
}

pub(super) fn ensure_visible(state: &mut State) {
    let h = state.table_height.max(1);
    if state.selected < state.table_offset {
        state.table_offset = state.selected;
    } else if state.selected >= state.table_offset + h {
        state.table_offset = state.selected + 1 - h;
    }
    let max_off = state.view.len().saturating_sub(h);
    state.table_offset = state.table_offset.min(max_off);
}

pub(super) fn select(state: &mut State, pos: usize) {
    state.user_selected = true;
    let pos = pos.min(state.view.len().saturating_sub(1));
    if pos != state.selected || state.selected_key.is_none() {
        state.selected = pos;
        state.selected_key = state.selected_row().map(|r| r.dep.key.clone());
        state.region_sel = 0;
        state.metrics_sel = 0;
        state.logs_scroll = 0;
        state.details_scroll = 0;
        state.logs_region = None;
        state.reveal_envs = None;
    }
    ensure_visible(state);
    state.dirty = true;
}

pub(super) fn move_in_pane(state: &mut State, delta: isize) {
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
        Pane::Details => {
            // The drawing stops at the last line (it knows how lines wrap); this bound, the pane's lines
            // unwrapped (at most 24 besides the envs) less its height, keeps `k` from having far to come back.
            let area = ratatui::layout::Rect::new(0, 0, state.width, state.height);
            let inner = super::layout::layout(area).tabs.height.saturating_sub(3) as usize;
            let n = state
                .selected_deployment()
                .map(|d| (d.envs.len() + 24).saturating_sub(inner) + 1)
                .unwrap_or(0);
            state.details_scroll = clamp_move(state.details_scroll, delta, n);
        }
        Pane::Logging => {}
    }
    state.dirty = true;
}

fn clamp_move(cur: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (cur as isize + delta).clamp(0, n as isize - 1) as usize
}

pub(super) fn focus(state: &mut State, pane: Pane) {
    state.focus = pane;
    if pane.is_tab() {
        state.tab = pane;
    }
    state.dirty = true;
}

pub(super) fn cycle_pane(state: &mut State, forward: bool) {
    let order = Pane::ORDER;
    let i = order.iter().position(|p| *p == state.focus).unwrap_or(0);
    let n = order.len();
    let next = if forward { (i + 1) % n } else { (i + n - 1) % n };
    focus(state, order[next]);
}

pub(super) fn set_sort(state: &mut State, key: SortKey) {
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
