//! `update(&mut State, Msg) -> Vec<Effect>`: every change to the dashboard goes through here. It does no I/O
//! and holds no feature's logic: it hands each message and key to the feature module that owns it
//! (`fleet`, `table`, `watch`, `edit`, `lifecycle`, `command`, `mouse`, `help`, `create_flow`, …); effects tell
//! the sync layer what to fetch.

use super::input::LineInput;
use super::keymap::Action;
use super::state::{Filter, LifecycleOp, Mode, Pane, SortKey, State};
use super::table::{cycle_pane, focus, move_in_pane, refilter, set_sort};
use super::{bulk, command, cost, edit, fleet, in_flight, lifecycle, mouse, table, watch};
use crate::model::{Deployment, DeploymentKey, LogLine, RegionInfo};
use crate::provider::{ApiError, Applied, MetricsResult};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};

pub use super::edit::{ApplyFailure, ApplyRequest, Landed};
pub use super::lifecycle::LifecycleRequest;
pub use super::watch::Watch;

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
    /// The account's list stopped part way (paging that repeats or runs past its total): the rows read up
    /// to there, shown as a partial list, and the error, as for a failed list.
    FleetPartial {
        account: usize,
        at: DateTime<Utc>,
        rows: Vec<Deployment>,
        error: ApiError,
    },
    /// What was wrong with the account's list as last read (items that could not be read, ids listed
    /// twice); empty once nothing is.
    ListWarnings {
        account: usize,
        warnings: Vec<String>,
    },
    /// The account's list answered byte for byte as the last one that came as [`Msg::Fleet`]: the rows are
    /// as they were, now seen at `at`.
    FleetSame {
        account: usize,
        at: DateTime<Utc>,
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
        details: Option<super::state::DetailsProgress>,
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
    /// The price of one replica of a hardware in a region (see `app::cost`).
    ReplicaPriced {
        account: usize,
        hardware: String,
        region: String,
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

/// What the sync layer should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Refresh one account now, or all of them.
    Refresh(Option<usize>),
    /// Fetch details (and metrics/logs) of this deployment, or stop.
    Watch(Option<Watch>),
    /// The rows in view (visible, selected, with a pending edit): their details are read first.
    Eyes(Vec<DeploymentKey>),
    /// Read these deployments' details now, once (a bulk change plans from fresh full records).
    ReadDetails(Vec<(usize, DeploymentKey)>),
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
    /// Ask for the price of one replica of `hardware` in `region` (`user`: a review waits for it, else the
    /// header's total does).
    ReplicaPrice {
        account: usize,
        hardware: String,
        region: String,
        user: bool,
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
    in_flight::on_msg(state, &msg);
    match msg {
        Msg::Key(key) => {
            if key.kind != KeyEventKind::Release {
                on_key(state, key, &mut fx);
            }
        }
        Msg::Mouse(m) => mouse::on_mouse(state, m),
        Msg::Resize(w, h) => table::on_resize(state, w, h),
        Msg::Tick => {
            // Ages and staleness move with time; toasts expire.
            state.toasts.retain(|t| (state.now - t.at).num_seconds() < 60);
            state.dirty = true;
        }
        Msg::Busy { account, busy } => fleet::on_busy(state, account, busy),
        Msg::Fleet { account, at, result } => {
            let before = cost::cached_inputs(state, account);
            let changed = fleet::on_fleet(state, account, at, result);
            cost::on_account_refreshed(state, account, changed, &before, &mut fx);
            bulk::prune_marks(state);
        }
        Msg::FleetPartial { account, at, rows, error } => {
            let before = cost::cached_inputs(state, account);
            let changed = fleet::on_fleet_partial(state, account, at, rows, error);
            cost::on_account_refreshed(state, account, changed, &before, &mut fx);
            bulk::prune_marks(state);
        }
        Msg::ListWarnings { account, warnings } => fleet::on_list_warnings(state, account, warnings),
        Msg::FleetSame { account, at } => {
            let before = cost::cached_inputs(state, account);
            fleet::on_fleet_same(state, account, at);
            cost::on_account_refreshed(state, account, false, &before, &mut fx);
        }
        Msg::Listed { account, at, result } => {
            let before = cost::cached_inputs(state, account);
            let changed = fleet::on_listed(state, account, at, result);
            cost::on_account_refreshed(state, account, changed, &before, &mut fx);
            bulk::prune_marks(state);
        }
        Msg::RowDetails { account, at, items } => {
            let before = cost::cached_inputs(state, account);
            let changed = fleet::on_row_details(state, account, at, items);
            cost::on_account_refreshed(state, account, changed, &before, &mut fx);
        }
        Msg::Progress { account, details, rate } => fleet::on_progress(state, account, details, rate),
        Msg::Detail { key, at, result } => {
            let failed = result.as_ref().err().map(|e| e.to_string());
            if fleet::on_detail(state, key.clone(), at, result) {
                cost::on_detail(state, &key, &mut fx);
            }
            bulk::on_detail(state, &key, failed, &mut fx);
        }
        Msg::Metrics { key, at, result } => watch::on_metrics(state, key, at, result),
        Msg::Logs { key, at, result } => watch::on_logs(state, key, at, result),
        Msg::Applied { key, result } if bulk::owns(state, &key) => {
            bulk::on_applied(state, key, result, &mut fx)
        }
        Msg::Applied { key, result } if matches!(state.mode, Mode::Editor(_)) => {
            super::editor::on_applied(state, &key, result, &mut fx)
        }
        Msg::Applied { key, result } => edit::on_applied(state, key, result, &mut fx),
        Msg::Edited { job, outcome } => super::editor::on_edited(state, *job, outcome, &mut fx),
        Msg::Lifecycle { key, result, .. } if bulk::owns(state, &key) => {
            bulk::on_lifecycle(state, key, result, &mut fx)
        }
        Msg::Lifecycle { key, name, op, result } => {
            lifecycle::on_result(state, key, name, op, result, &mut fx)
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
        Msg::ReplicaPriced { account, hardware, region, result } => {
            cost::on_priced(state, account, hardware, region, result, &mut fx)
        }
        Msg::Created { account, name, result } => {
            super::create_flow::on_created(state, account, name, result, &mut fx)
        }
    }
    if let Some(w) = watch::watch_for(state)
        && watch::state_watch_changed(state, &w)
    {
        fx.push(Effect::Watch(w));
    }
    in_flight::mark(state, &fx);
    let eyes = table::eyes_of(state);
    if eyes != state.eyes {
        state.eyes = eyes.clone();
        fx.push(Effect::Eyes(eyes));
    }
    fx
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
        Mode::Filter(input) => table::on_filter_key(state, input, key),
        Mode::Command(input) => command::on_key(state, input, key, fx),
        Mode::Form(form) => edit::on_form_mode_key(state, form, key, fx),
        Mode::Confirm(c) => lifecycle::on_confirm_key(state, c, key, fx),
        Mode::Editor(review) => super::editor::on_key(state, review, key, fx),
        Mode::Catalog(view) => super::create_flow::on_catalog_key(state, view, key, fx),
        Mode::Create(form) => super::create_flow::on_create_key(state, form, key, fx),
        Mode::Bulk => bulk::on_key(state, key, fx),
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
            } else {
                bulk::clear_marks(state);
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
        a @ (Action::Scale | Action::StartStop) if !state.marks.is_empty() => bulk::open(state, a, fx),
        Action::Scale | Action::Probes | Action::StartStop | Action::Delete | Action::Edit
            if !state.read_only && in_flight::refused(state) => {}
        a @ (Action::Scale | Action::Probes | Action::StartStop | Action::Delete) => {
            edit::open_mutation(state, a, fx)
        }
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
        Action::Mark | Action::MarkAll if state.read_only => {
            state.flash = Some("read-only mode: changes are off".into());
            state.dirty = true;
        }
        Action::Mark => bulk::toggle_mark(state),
        Action::MarkAll => bulk::mark_all_shown(state),
        Action::Catalog => super::create_flow::open_catalog(state, None, fx),
        Action::Create => super::create_flow::open_create(state, None, Default::default(), fx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AccountState;
    use crate::app::edit::rolled_out;
    use crate::app::state::DetailsProgress;
    use crate::model::{ProviderKind, RegionReplicas, Scale, Status};
    use crate::provider::{Capabilities, ErrorKind};
    use chrono::TimeZone;
    use crossterm::event::{MouseButton, MouseEventKind};
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
            create: true,
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
        let areas = crate::app::layout::layout(ratatui::layout::Rect::new(0, 0, 120, 40));
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
        assert_eq!(s.rows[0].history.series().next().unwrap().1.last(), Some(None));
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

    /// The fleet of `state()` on hardware `h` in region 7, at a known price of 2 EUR per replica and hour:
    /// alpha 2 replicas, bravo 2, charlie 2.
    fn priced() -> State {
        let mut s = state();
        let deps = priced_fleet();
        list(&mut s, Ok(deps));
        let price = crate::model::Price { currency: "EUR".into(), per_hour: 2.0, per_month: None };
        let fx = update(
            &mut s,
            Msg::ReplicaPriced {
                account: 0,
                hardware: "h".into(),
                region: "7".into(),
                result: Ok(Some(price)),
            },
        );
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&12.0));
        s
    }

    fn priced_fleet() -> Vec<Deployment> {
        let mut deps = vec![dep(0, "alpha", 2), dep(1, "bravo", 0), dep(2, "charlie", 1)];
        for d in &mut deps {
            d.hardware = Some("h".into());
        }
        deps
    }

    /// A list of account 0 read now.
    fn list(s: &mut State, result: Result<Vec<Deployment>, ApiError>) -> Vec<Effect> {
        let at = s.now;
        update(s, Msg::Fleet { account: 0, at, result })
    }

    fn asks(fx: &[Effect]) -> usize {
        fx.iter().filter(|e| matches!(e, Effect::ReplicaPrice { .. })).count()
    }

    #[test]
    fn a_list_that_changes_nothing_draws_no_frame_of_its_own_and_a_changed_one_does() {
        let mut s = priced();
        s.dirty = false;
        s.now += chrono::Duration::seconds(2);
        let fx = list(&mut s, Ok(priced_fleet()));
        assert!(!s.dirty, "an unchanged list is drawn by the next tick, not at once");
        assert_eq!(asks(&fx), 0);
        // The refresh's start and end draw nothing either; a tick does.
        update(&mut s, Msg::Busy { account: 0, busy: true });
        update(&mut s, Msg::Busy { account: 0, busy: false });
        assert!(!s.dirty);
        update(&mut s, Msg::Tick);
        assert!(s.dirty);
        // One row's readiness changed: drawn at once.
        s.dirty = false;
        let mut deps = priced_fleet();
        deps[1].regions[0].ready = 1;
        list(&mut s, Ok(deps.clone()));
        assert!(s.dirty, "a changed row is drawn");
        // A row gone: drawn, and no longer counted in the cost.
        s.dirty = false;
        deps.pop();
        list(&mut s, Ok(deps));
        assert!(s.dirty);
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&8.0));
    }

    #[test]
    fn a_list_that_came_back_as_it_was_leaves_the_state_the_same_list_would() {
        for record in [false, true] {
            let (mut full, mut same) = (priced(), priced());
            for s in [&mut full, &mut same] {
                // With and without readiness recorded locally (a provider without metrics).
                s.accounts[0].capabilities.metrics = !record;
                s.dirty = false;
                s.now += chrono::Duration::seconds(2);
            }
            let fx_full = list(&mut full, Ok(priced_fleet()));
            let at = same.now;
            let fx_same = update(&mut same, Msg::FleetSame { account: 0, at });
            assert_eq!(format!("{:?}", full.rows), format!("{:?}", same.rows), "record {record}");
            assert_eq!(format!("{:?}", full.accounts), format!("{:?}", same.accounts));
            assert_eq!((full.dirty, same.dirty), (false, false));
            assert_eq!((asks(&fx_full), asks(&fx_same)), (0, 0));
            assert_eq!(full.cost.fleet, same.cost.fleet);
            assert!(same.rows.iter().all(|r| r.fetched_at == at));
        }
        // After a failed list, an answer as before is the account back: drawn at once, the error cleared.
        let mut s = priced();
        list(&mut s, Err(ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503)));
        s.dirty = false;
        let at = s.now;
        update(&mut s, Msg::FleetSame { account: 0, at });
        assert!(s.dirty);
        assert!(s.accounts[0].last_error.is_none());
    }

    #[test]
    fn a_failed_list_and_the_first_list_after_it_are_drawn_at_once() {
        let mut s = priced();
        s.dirty = false;
        let err = ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503);
        list(&mut s, Err(err));
        assert!(s.dirty, "the status line counts the error and the rows turn stale");
        s.dirty = false;
        // The same error again is not toasted again, but its count moves.
        let err = ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503);
        list(&mut s, Err(err));
        assert!(s.dirty);
        s.dirty = false;
        list(&mut s, Ok(priced_fleet()));
        assert!(s.dirty, "the account recovered: its mark changes though no row did");
    }

    #[test]
    fn an_empty_first_list_is_drawn() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut s = State::new(
            vec![AccountState::new("g", ProviderKind::Gcore, caps())],
            Duration::from_secs(5),
            now,
        );
        s.dirty = false;
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(vec![]) });
        assert!(s.dirty, "never → answered");
    }

    #[test]
    fn a_changed_replica_count_sums_the_cost_again_and_an_unchanged_list_keeps_it() {
        let mut s = priced();
        let mut deps = priced_fleet();
        deps[0].regions[0].total = 5;
        list(&mut s, Ok(deps.clone()));
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&18.0));
        list(&mut s, Ok(deps));
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&18.0));
        // New hardware on a row: its price is asked for at once, not when the old one falls due.
        let mut deps = priced_fleet();
        deps[2].hardware = Some("h2".into());
        let fx = list(&mut s, Ok(deps));
        assert_eq!(asks(&fx), 1, "{fx:?}");
        assert_eq!(s.cost.fleet.asking, 1);
    }

    #[test]
    fn a_price_falling_due_is_asked_again_by_an_unchanged_list() {
        let mut s = priced();
        s.now += chrono::Duration::seconds(crate::app::cost::PRICE_TTL_SECONDS - 1);
        let fx = list(&mut s, Ok(priced_fleet()));
        assert_eq!(asks(&fx), 0, "not due yet");
        s.now += chrono::Duration::seconds(1);
        let fx = list(&mut s, Ok(priced_fleet()));
        assert_eq!(asks(&fx), 1, "due: renewed though no row changed");
        // Not answered: asked again after the retry's wait, still with no row changed.
        s.now += chrono::Duration::seconds(crate::app::cost::RETRY_SECONDS - 1);
        let fx = list(&mut s, Ok(priced_fleet()));
        assert_eq!(asks(&fx), 0);
        s.now += chrono::Duration::seconds(1);
        let fx = list(&mut s, Ok(priced_fleet()));
        assert_eq!(asks(&fx), 1);
    }

    #[test]
    fn a_details_read_is_drawn_and_summed_only_when_it_changes_what_is_shown() {
        let mut s = priced();
        let key = s.selected_row().unwrap().dep.key.clone();
        let t1 = s.now + chrono::Duration::seconds(1);
        let mut full = priced_fleet().remove(0);
        full.detail = true;
        full.regions[0].total = 3;
        s.dirty = false;
        update(&mut s, Msg::Detail { key: key.clone(), at: t1, result: Ok(Box::new(full.clone())) });
        assert!(s.dirty, "the details show more than the list");
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&14.0), "the snapshot's 3 replicas are summed");
        s.dirty = false;
        let t2 = t1 + chrono::Duration::seconds(2);
        update(&mut s, Msg::Detail { key: key.clone(), at: t2, result: Ok(Box::new(full.clone())) });
        assert!(!s.dirty, "the same details again: nothing to draw");
        // A list newer than the details, itself unchanged, gives the snapshot its live counts back (2 replicas):
        // the cost follows though no row changed.
        s.now = t2 + chrono::Duration::seconds(1);
        list(&mut s, Ok(priced_fleet()));
        assert_eq!(s.cost.fleet.per_hour.get("EUR"), Some(&12.0));
        // A failed read is drawn; the next good one is drawn again (the error goes).
        s.dirty = false;
        let err = ApiError::new(ProviderKind::Gcore, ErrorKind::Server, "boom").with_status(503);
        let at = s.now;
        update(&mut s, Msg::Detail { key: key.clone(), at, result: Err(err) });
        assert!(s.dirty);
        s.dirty = false;
        let same = s.selected_deployment().unwrap().clone();
        let at = s.now;
        update(&mut s, Msg::Detail { key, at, result: Ok(Box::new(same)) });
        assert!(s.dirty, "the error line goes");
    }

    #[test]
    fn progress_is_drawn_only_when_the_status_line_shows_it_differently() {
        let mut s = state();
        let mut progress = |details, rate: f64| {
            s.dirty = false;
            update(&mut s, Msg::Progress { account: 0, details: Some(details), rate: Some((rate, 20.0)) });
            s.dirty
        };
        let read = |read| DetailsProgress::Read { read, listed: 3 };
        assert!(
            !progress(read(3), 20.0),
            "every row read, at the configured rate: the status line shows neither"
        );
        assert!(progress(read(2), 20.0));
        assert!(progress(read(3), 20.0), "the progress goes away");
        assert!(progress(read(3), 10.0), "slowed down");
        assert!(progress(DetailsProgress::Backlog { waiting: 40, listed: 3 }, 10.0), "a backlog shows");
        assert!(!progress(DetailsProgress::Backlog { waiting: 40, listed: 3 }, 10.0), "the same backlog");
    }

    /// A Run:ai row as its list shows it (replica bounds only) and as its details do (the metric too).
    fn runai(detail: bool) -> Deployment {
        let key = DeploymentKey { provider: ProviderKind::Runai, account: "r".into(), id: "w1".into() };
        let mut d = Deployment::new(key, "nim", Status::Running);
        let mut scale = Scale { min: 1, max: 3, ..Default::default() };
        if detail {
            scale.triggers.metric =
                Some(crate::model::MetricTrigger { metric: "concurrency".into(), threshold: 4 });
            scale.scale_to_zero_retention_seconds = Some(900);
        }
        d.envs.insert("MODEL".into(), "llama".into());
        if detail {
            d.envs.insert("HF_TOKEN".into(), "<secret hf/HF_TOKEN>".into());
        }
        d.regions.push(RegionReplicas {
            region_id: "c1".into(),
            region_name: None,
            ready: 1,
            total: 1,
            scale,
            error: None,
        });
        d.detail = detail;
        d
    }

    #[test]
    fn the_runai_scale_form_waits_for_details_and_a_list_never_blanks_the_metric() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut s = State::new(
            vec![AccountState::new("r", ProviderKind::Runai, caps())],
            Duration::from_secs(5),
            now,
        );
        update(&mut s, Msg::Fleet { account: 0, at: now, result: Ok(vec![runai(false)]) });
        // Before the details: no form from the list's blanks; the details are read now.
        let fx = press(&mut s, KeyCode::Char('s'));
        assert_eq!(s.mode, Mode::Normal);
        assert!(s.flash.as_deref().is_some_and(|f| f.contains("reading its details")), "{:?}", s.flash);
        assert!(fx.iter().any(|e| matches!(e, Effect::ReadDetails(k) if k.len() == 1)), "{fx:?}");
        let key = s.rows[0].dep.key.clone();
        let t1 = now + chrono::Duration::seconds(1);
        update(&mut s, Msg::Detail { key: key.clone(), at: t1, result: Ok(Box::new(runai(true))) });
        // A list newer than the details: its bounds are live, the metric and retention stay.
        let t2 = t1 + chrono::Duration::seconds(1);
        let mut listed = runai(false);
        listed.regions[0].scale.max = 4;
        update(&mut s, Msg::Fleet { account: 0, at: t2, result: Ok(vec![listed]) });
        let d = s.selected_deployment().unwrap();
        assert_eq!(d.regions[0].scale.max, 4);
        assert_eq!(d.regions[0].scale.triggers.summary(), "concurrency 4");
        assert_eq!(d.regions[0].scale.scale_to_zero_retention_seconds, Some(900));
        assert_eq!(d.envs.get("HF_TOKEN").map(String::as_str), Some("<secret hf/HF_TOKEN>"), "{:?}", d.envs);
        assert_eq!(d.envs.get("MODEL").map(String::as_str), Some("llama"));
        press(&mut s, KeyCode::Char('s'));
        let Mode::Form(form) = &s.mode else { panic!("the form: {:?} {:?}", s.mode, s.flash) };
        let metric = form.sections[0].fields.iter().find(|f| f.label == "metric").unwrap();
        assert_eq!(metric.value(), "concurrency");
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

    #[test]
    fn nothing_to_change_after_a_landed_retry_is_applied_and_only_then() {
        use crate::app::edit::landed;
        use crate::model::ScaleUpdate;
        use crate::model::edit::Change;
        let base = dep(1, "a", 2);
        let mut asked = ScaleUpdate::from_deployment(&base);
        asked.regions[0].scale.max = 7;
        let mut after = base.clone();
        after.regions[0].scale.max = 7;
        let change = Change::Scale(asked);
        // A retried write whose first try landed: the provider finds nothing left to change.
        let (_, word) = landed(Applied::NoChange(Box::new(after)), Some(&base), Some(&change));
        assert_eq!(word, "applied");
        // Nothing changed at all: said as the provider said it.
        let (_, word) = landed(Applied::NoChange(Box::new(base.clone())), Some(&base), Some(&change));
        assert_eq!(word, "the provider reports nothing to change");
    }
}
