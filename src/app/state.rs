//! The dashboard's state. Network tasks never hold any of it: they send messages, `update` applies them.

use super::input::LineInput;
use super::keymap::Keymap;
use crate::model::{Deployment, DeploymentKey, LogLine, ProviderKind};
use crate::provider::{ApiError, Capabilities, MetricsResult};
use chrono::{DateTime, Utc};
use regex::Regex;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

/// Samples of locally recorded readiness kept per region (Gcore and Sesterce have no metrics API).
pub const HISTORY_LEN: usize = 60;
/// Log lines kept per deployment.
pub const LOG_LINES: usize = 500;
/// How long a toast stays.
pub const TOAST_SECONDS: i64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Deployments,
    Regions,
    Details,
    Logging,
    Metrics,
    Logs,
}

impl Pane {
    pub const ORDER: [Pane; 6] =
        [Pane::Deployments, Pane::Regions, Pane::Details, Pane::Logging, Pane::Metrics, Pane::Logs];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Deployments => "Deployments",
            Pane::Regions => "Regions",
            Pane::Details => "Details",
            Pane::Logging => "Logging",
            Pane::Metrics => "Metrics",
            Pane::Logs => "Logs",
        }
    }

    /// The panes shown as tabs at the bottom right.
    pub fn is_tab(self) -> bool {
        matches!(self, Pane::Details | Pane::Logging | Pane::Metrics | Pane::Logs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Provider,
    Name,
    Status,
    Ready,
    Age,
    Price,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<SortKey> {
        match s.to_ascii_lowercase().as_str() {
            "provider" | "p" => Some(SortKey::Provider),
            "name" | "n" => Some(SortKey::Name),
            "status" | "s" => Some(SortKey::Status),
            "ready" | "readiness" | "r" => Some(SortKey::Ready),
            "age" | "created" => Some(SortKey::Age),
            "price" => Some(SortKey::Price),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Provider => "provider",
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::Ready => "ready",
            SortKey::Age => "age",
            SortKey::Price => "price",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Filter(LineInput),
    Command(LineInput),
    Help(super::help::HelpView),
    Form(Box<super::form::Form>),
    Confirm(Confirm),
    Catalog(super::catalog::CatalogView),
    Create(Box<super::create::CreateForm>),
    /// The review of a settings file edited in `$EDITOR`.
    Editor(Box<super::editor::EditorReview>),
    /// The bulk change in `State::bulk`: its form, review, progress or end state.
    Bulk,
}

pub use crate::model::lifecycle::LifecycleOp;

/// A confirmation dialog for start/stop (y/n) or delete (type the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub op: LifecycleOp,
    pub key: DeploymentKey,
    pub account: usize,
    pub name: String,
    /// What the provider will do, in its own terms, from the freshest record when the prompt opened.
    pub what: String,
    pub input: LineInput,
}

/// What a write sent and not confirmed yet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlightOp {
    Lifecycle(LifecycleOp),
    /// An edit: `scale`, `probes` or `settings` (`crate::model::edit::Change::kind`).
    Edit(&'static str),
}

/// A start, stop, delete or edit sent and not confirmed yet: its row says so, and nothing else is sent for it
/// until its result (and read-back) lands.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight {
    pub op: InFlightOp,
    pub since: DateTime<Utc>,
}

impl InFlight {
    /// What the status cell shows: `stopping`, `starting`, `deleting`, `applying scale`.
    pub fn label(&self) -> String {
        match self.op {
            InFlightOp::Lifecycle(LifecycleOp::Start) => "starting".into(),
            InFlightOp::Lifecycle(LifecycleOp::Stop) => "stopping".into(),
            InFlightOp::Lifecycle(LifecycleOp::Delete) => "deleting".into(),
            InFlightOp::Edit(kind) => format!("applying {kind}"),
        }
    }

    /// `a stop`, `a scale edit`.
    pub fn what(&self) -> String {
        match self.op {
            InFlightOp::Lifecycle(op) => format!("a {}", op.verb()),
            InFlightOp::Edit(kind) => format!("a {kind} edit"),
        }
    }
}

/// An applied change still rolling out.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub change: crate::model::edit::Change,
    pub since: DateTime<Utc>,
}

/// How far an account whose details are read row by row is (Sesterce's summary list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailsProgress {
    /// Rows with details read, of the rows listed: the first pass while `read < listed` (or rows new since).
    Read { read: usize, listed: usize },
    /// Every row read, and this many changed rows waiting to be read again: a backlog (a change storm). A
    /// different word on the status line, not `details N/M` with a smaller N: the first pass never goes back.
    Backlog { waiting: usize, listed: usize },
}

impl DetailsProgress {
    /// Whether every row listed has details.
    pub fn all_read(self) -> bool {
        match self {
            DetailsProgress::Read { read, listed } => read >= listed,
            DetailsProgress::Backlog { .. } => true,
        }
    }

    /// What the status line shows, if anything: rows still to read the first time, or a backlog.
    pub fn shown(self) -> Option<String> {
        match self {
            DetailsProgress::Read { read, listed } if read < listed => {
                Some(format!("details {read}/{listed}"))
            }
            DetailsProgress::Read { .. } => None,
            DetailsProgress::Backlog { waiting, .. } => Some(format!("re-reading {waiting}")),
        }
    }
}

/// One account's refresh state, for the status line and staleness.
#[derive(Debug, Clone)]
pub struct AccountState {
    pub name: String,
    pub kind: ProviderKind,
    pub capabilities: Capabilities,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_error: Option<ApiError>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub in_flight: u32,
    pub errors: u64,
    /// Times of the readiness samples recorded for this account, oldest first.
    pub sample_times: VecDeque<DateTime<Utc>>,
    /// Samples taken so far (one per list, failed or not): the newest is sample number `samples`.
    pub samples: u64,
    /// The provider's regions catalog (for adding regions), when it has one.
    pub regions: Vec<crate::model::RegionInfo>,
    /// The list is a summary and details are read row by row (Sesterce): rows not read yet say so.
    pub lists_summaries: bool,
    /// Where details are read row by row: how far the reads are.
    pub details: Option<DetailsProgress>,
    /// Requests per second the account is sent now (lower than configured after a 429), and configured.
    pub rate: Option<(f64, f64)>,
    /// What was wrong with the list as last read (items that could not be read, ids listed twice).
    pub list_warnings: Vec<String>,
    /// The last list stopped part way: its rows are a partial list (the account is failing until a list
    /// is read whole).
    pub partial: bool,
}

impl AccountState {
    pub fn new(name: impl Into<String>, kind: ProviderKind, capabilities: Capabilities) -> Self {
        AccountState {
            name: name.into(),
            kind,
            capabilities,
            last_ok: None,
            last_error: None,
            last_error_at: None,
            in_flight: 0,
            errors: 0,
            sample_times: VecDeque::new(),
            samples: 0,
            regions: Vec::new(),
            lists_summaries: false,
            details: None,
            rate: None,
            list_warnings: Vec::new(),
            partial: false,
        }
    }

    /// For a provider client.
    pub fn of(p: &dyn crate::provider::Provider) -> Self {
        AccountState::new(p.account(), p.kind(), p.capabilities())
    }
}

/// A row of the deployments table.
#[derive(Debug, Clone)]
pub struct Row {
    pub dep: Box<Deployment>,
    pub account: usize,
    pub fetched_at: DateTime<Utc>,
    /// Lower-cased text the filter matches against.
    pub haystack: String,
    /// Ready replicas per region over time (aligned with the account's `sample_times`).
    pub history: super::history::History,
    /// Where the list is a summary: the list entry's version (status and `updatedAt`) the details were read
    /// under; None until they are.
    pub detail_version: Option<String>,
}

impl Row {
    /// The row shows only what its account's summary list carries: ready/total and regions are not read yet.
    pub fn awaiting_details(&self, accounts: &[AccountState]) -> bool {
        !self.dep.detail && accounts.get(self.account).is_some_and(|a| a.lists_summaries)
    }
}

/// The compiled filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: String,
    pub inverted: bool,
    pub regex: Option<Regex>,
    /// The regex did not compile: the text is matched literally and this says why.
    pub error: Option<String>,
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        let (inverted, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if pattern.is_empty() {
            return Filter { text: text.to_string(), inverted, regex: None, error: None };
        }
        match Regex::new(&format!("(?i){pattern}")) {
            Ok(r) => Filter { text: text.to_string(), inverted, regex: Some(r), error: None },
            Err(_) => Filter {
                text: text.to_string(),
                inverted,
                regex: Regex::new(&format!("(?i){}", regex::escape(pattern))).ok(),
                error: Some("not a valid regex: matching the text literally".into()),
            },
        }
    }

    pub fn is_active(&self) -> bool {
        self.regex.is_some()
    }

    pub fn matches(&self, haystack: &str) -> bool {
        match &self.regex {
            None => true,
            Some(r) => r.is_match(haystack) != self.inverted,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub message: String,
    pub at: DateTime<Utc>,
}

/// Data fetched for the selected deployment.
#[derive(Debug, Clone, Default)]
pub struct DetailCache {
    pub detail: Option<(Deployment, DateTime<Utc>)>,
    pub detail_error: Option<ApiError>,
    pub metrics: Option<(MetricsResult, DateTime<Utc>)>,
    pub metrics_error: Option<ApiError>,
    pub logs: VecDeque<LogLine>,
    pub logs_seen: HashSet<LogLine>,
    pub logs_error: Option<ApiError>,
    pub logs_at: Option<DateTime<Utc>>,
}

/// The whole dashboard.
#[derive(Debug)]
pub struct State {
    pub accounts: Vec<AccountState>,
    pub rows: Vec<Row>,
    pub index: HashMap<DeploymentKey, usize>,
    /// Row indices in sort order (all rows).
    pub sorted: Vec<usize>,
    /// Row indices shown: `sorted` through the filter and provider scope.
    pub view: Vec<usize>,
    /// Selected position in `view`.
    pub selected: usize,
    pub selected_key: Option<DeploymentKey>,
    /// The user has moved the selection: it then follows that deployment; before, it stays on the first row.
    pub user_selected: bool,
    /// First visible row of the table (kept by `update` so drawing stays pure).
    pub table_offset: usize,
    pub table_height: usize,
    pub focus: Pane,
    /// The tab shown at the bottom right when focus is elsewhere.
    pub tab: Pane,
    pub mode: Mode,
    pub filter: Filter,
    pub scope: Option<ProviderKind>,
    pub sort: SortKey,
    pub sort_desc: bool,
    pub keymap: Keymap,
    pub read_only: bool,
    /// Accounts reached over plain http on a host that is not loopback (`--allow-http`): warned about for
    /// as long as the dashboard runs.
    pub plain_http: Vec<String>,
    pub toasts: Vec<Toast>,
    pub seen_errors: HashSet<String>,
    pub details: HashMap<DeploymentKey, DetailCache>,
    /// The deployment whose env values the user chose to show (masked otherwise).
    pub reveal_envs: Option<DeploymentKey>,
    /// Text to put on the clipboard with OSC 52 at the next draw (taken by the terminal loop).
    pub clipboard: Option<String>,
    /// Applied changes still rolling out.
    pub pending: HashMap<DeploymentKey, Pending>,
    /// Starts, stops, deletes and edits sent and not confirmed yet (see [`InFlight`]).
    pub in_flight: HashMap<DeploymentKey, InFlight>,
    /// Marked deployments (Space, Ctrl-Space), by key: they survive refreshes and resorts.
    pub marks: BTreeSet<DeploymentKey>,
    /// The bulk change being prepared, under way, or finished and not closed yet.
    pub bulk: Option<Box<super::bulk::Bulk>>,
    /// Provider catalogs and price previews (catalog view, create form).
    pub catalogs: super::catalog::Catalogs,
    /// Prices per replica, the fleet's cost and the change a review shows.
    pub cost: super::cost::Costs,
    /// Selected region in the regions pane (its index).
    pub region_sel: usize,
    /// Selected metrics scope: 0 = the workload, n = pod n-1.
    pub metrics_sel: usize,
    pub logs_scroll: usize,
    /// Lines the details pane is scrolled down by (the drawing keeps it within what there is to show).
    pub details_scroll: usize,
    /// Show only this region's log lines (chosen with Enter in the regions pane).
    pub logs_region: Option<String>,
    pub refresh: Duration,
    pub now: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub width: u16,
    pub height: u16,
    /// A one-line message in the command bar (result of a command).
    pub flash: Option<String>,
    /// The watch last sent to the sync layer (None: nothing sent yet).
    pub watching: Option<Option<super::watch::Watch>>,
    /// The rows in view last told to the sync layer.
    pub eyes: Vec<DeploymentKey>,
    pub theme: super::theme::Theme,
    pub quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
}

impl State {
    pub fn new(accounts: Vec<AccountState>, refresh: Duration, now: DateTime<Utc>) -> State {
        State {
            accounts,
            rows: Vec::new(),
            index: HashMap::new(),
            sorted: Vec::new(),
            view: Vec::new(),
            selected: 0,
            selected_key: None,
            user_selected: false,
            table_offset: 0,
            table_height: 10,
            focus: Pane::Deployments,
            tab: Pane::Details,
            mode: Mode::Normal,
            filter: Filter::default(),
            scope: None,
            sort: SortKey::Provider,
            sort_desc: false,
            keymap: Keymap::default(),
            read_only: false,
            plain_http: Vec::new(),
            toasts: Vec::new(),
            seen_errors: HashSet::new(),
            details: HashMap::new(),
            pending: HashMap::new(),
            in_flight: HashMap::new(),
            marks: BTreeSet::new(),
            bulk: None,
            reveal_envs: None,
            clipboard: None,
            catalogs: Default::default(),
            cost: Default::default(),
            region_sel: 0,
            metrics_sel: 0,
            logs_scroll: 0,
            details_scroll: 0,
            logs_region: None,
            refresh,
            now,
            started: now,
            width: 80,
            height: 24,
            flash: None,
            watching: None,
            eyes: Vec::new(),
            theme: super::theme::Theme::default(),
            quit: false,
            dirty: true,
        }
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.view.get(self.selected).and_then(|&i| self.rows.get(i))
    }

    /// The freshest record of the selected deployment (see [`State::snapshot`]).
    pub fn selected_deployment(&self) -> Option<&Deployment> {
        Some(self.snapshot(self.selected_row()?))
    }

    /// The one snapshot of a row's deployment that the row, the regions pane, the details and every confirm
    /// prompt show: whichever of the list record and the detail fetch is newer. `update` folds a newer list
    /// summary into the cached detail (see [`absorb_summary`]), so the newer record is never a half one.
    pub fn snapshot<'a>(&'a self, row: &'a Row) -> &'a Deployment {
        match self.details.get(&row.dep.key).and_then(|c| c.detail.as_ref()) {
            Some((d, at)) if *at >= row.fetched_at => d,
            _ => &row.dep,
        }
    }

    pub fn selected_cache(&self) -> Option<&DetailCache> {
        self.details.get(&self.selected_row()?.dep.key)
    }

    /// A row is stale when its account's last refresh failed, or its own data is older than three refresh
    /// intervals. A row's data is its last read: the list, or where the list is a summary (Sesterce), its
    /// details read, renewed by each list that shows its entry unchanged while it is at rest (a row that is
    /// moving or changed is read again within the cycle, and rows in view every `sync::EYES_EVERY`).
    pub fn row_is_stale(&self, row: &Row) -> bool {
        let acct = &self.accounts[row.account];
        let failed_since = match (acct.last_error_at, acct.last_ok) {
            (Some(e), Some(ok)) => e > ok,
            (Some(_), None) => true,
            _ => false,
        };
        let limit = chrono::Duration::from_std(self.refresh * 3).unwrap_or(chrono::Duration::seconds(15));
        failed_since || self.now - row.fetched_at > limit
    }

    /// Why nothing may be sent for `key` now: a write sent for it is not confirmed yet. Says what and since when.
    pub fn in_flight_refusal(&self, key: &DeploymentKey, name: &str) -> Option<String> {
        let f = self.in_flight.get(key)?;
        let secs = (self.now - f.since).num_seconds().max(0);
        Some(format!(
            "{}: {} was sent {}s ago and is not confirmed yet: nothing sent (wait for its outcome)",
            crate::model::text::sanitize(name),
            f.what(),
            secs
        ))
    }

    /// Visible toasts (recent ones), newest last.
    pub fn live_toasts(&self) -> impl Iterator<Item = &Toast> {
        let now = self.now;
        self.toasts.iter().filter(move |t| (now - t.at).num_seconds() < TOAST_SECONDS)
    }
}

/// A list summary newer than a full record: the summary's live state (status, regions and their counts)
/// and every field it carries, the full record's for the fields a list leaves out.
pub fn absorb_summary(full: &Deployment, summary: &Deployment) -> Deployment {
    fn or<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
        if a.is_none() {
            a.clone_from(b);
        }
    }
    let mut d = summary.clone();
    or(&mut d.image, &full.image);
    or(&mut d.port, &full.port);
    or(&mut d.hardware, &full.hardware);
    or(&mut d.address, &full.address);
    or(&mut d.description, &full.description);
    or(&mut d.created_at, &full.created_at);
    or(&mut d.probes, &full.probes);
    or(&mut d.logging, &full.logging);
    or(&mut d.command, &full.command);
    or(&mut d.price_per_hour, &full.price_per_hour);
    if d.envs.is_empty() {
        d.envs.clone_from(&full.envs);
    } else if !list_is_whole(summary.key.provider) {
        // Run:ai's list leaves out the variables that are not plain values (secrets, config maps): the
        // details' stay, the list's values are the newer.
        let mut envs = full.envs.clone();
        envs.extend(std::mem::take(&mut d.envs));
        d.envs = envs;
    }
    if d.pods.is_empty() {
        d.pods.clone_from(&full.pods);
    }
    for r in &mut d.regions {
        if let Some(f) = full.regions.iter().find(|f| f.region_id == r.region_id) {
            or(&mut r.region_name, &f.region_name);
            if !list_is_whole(summary.key.provider) {
                // The list's replica bounds are live; the rest of the scale (the autoscaling metric and its
                // threshold, the scale-to-zero retention) is only in the details: never blanked by a list.
                let (min, max) = (r.scale.min, r.scale.max);
                r.scale = crate::model::Scale { min, max, ..f.scale.clone() };
            }
        }
    }
    d.detail = full.detail;
    d
}

/// Whether a provider's list carries what a deployment's details do (Gcore's containers, envs and probes, whole).
/// Run:ai's workloads list carries the replica bounds only (`requestedPods`), not the autoscaling metric, its
/// threshold or the scale-to-zero retention, nor the variables that are not plain values; Sesterce's list carries
/// no regions at all. Where it does not, the scale and probe forms wait for the details and a list never blanks
/// what they hold.
pub fn list_is_whole(provider: ProviderKind) -> bool {
    provider == ProviderKind::Gcore
}

/// Builds the text the filter matches: provider, account, name, status, image, hardware, regions.
pub fn haystack(dep: &Deployment, account: &str) -> String {
    let mut s = String::with_capacity(96);
    s.push_str(dep.key.provider.label());
    s.push(' ');
    s.push_str(account);
    s.push(' ');
    s.push_str(&dep.name);
    s.push(' ');
    s.push_str(&dep.status.label());
    s.push(' ');
    s.push_str(dep.image.as_deref().unwrap_or(""));
    s.push(' ');
    s.push_str(dep.hardware.as_deref().unwrap_or(""));
    for r in &dep.regions {
        s.push(' ');
        s.push_str(r.region_name.as_deref().unwrap_or(&r.region_id));
    }
    s.to_lowercase()
}

/// Adds a toast for an error not shown before.
pub(crate) fn toast(state: &mut State, message: String) {
    if state.seen_errors.insert(message.clone()) {
        state.toasts.push(Toast { message, at: state.now });
        state.dirty = true;
        if state.toasts.len() > 20 {
            state.toasts.remove(0);
        }
    }
}
