//! Polling tasks. They own the provider clients and talk to the app only through a bounded channel of
//! [`Msg`]s; they never hold anything the UI needs to draw.

use crate::app::state::{DetailsProgress, LifecycleOp};
use crate::app::{ApplyFailure, ApplyRequest, Landed, LifecycleRequest, Msg, RowDetail, Watch};
use crate::model::CreateSpec;
use crate::model::edit::Change;
use crate::model::{Deployment, DeploymentKey};
use crate::provider::http::{Lane, in_lane};
use crate::provider::{Applied, ErrorKind, Listed, Listing, LogQuery, MetricsQuery, Provider, settled};
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often the selected deployment's details, metrics and logs are fetched.
pub const DETAIL_EVERY: Duration = Duration::from_secs(2);

/// Handle on the polling tasks; dropping it stops them.
pub struct Sync {
    providers: Vec<Arc<dyn Provider>>,
    tx: mpsc::Sender<Msg>,
    refresh: Vec<mpsc::Sender<()>>,
    watch: watch::Sender<Option<Watch>>,
    eyes: watch::Sender<Arc<Vec<DeploymentKey>>>,
    tasks: Vec<JoinHandle<()>>,
    audit: Option<audit::AuditLog>,
}

pub mod audit;

impl Sync {
    /// Starts one fleet poller per account and one detail poller.
    pub fn spawn(
        providers: Vec<Arc<dyn Provider>>,
        tx: mpsc::Sender<Msg>,
        every: Duration,
        audit: Option<audit::AuditLog>,
    ) -> Sync {
        let mut refresh = Vec::new();
        let mut tasks = Vec::new();
        let (eyes, eyes_rx) = watch::channel(Arc::new(Vec::new()));
        for (account, p) in providers.iter().cloned().enumerate() {
            // Capacity 1: a burst of `r` presses collapses into one extra refresh.
            let (rtx, rrx) = mpsc::channel(1);
            refresh.push(rtx);
            tasks.push(tokio::spawn(fleet_poller(account, p, tx.clone(), every, rrx, eyes_rx.clone())));
        }
        // The regions catalogs, once, for the scale form's "add region".
        for (account, p) in providers.iter().cloned().enumerate() {
            if p.capabilities().per_region_scale {
                let tx = tx.clone();
                tasks.push(tokio::spawn(async move {
                    let result = in_lane(Lane::User, p.regions()).await;
                    let _ = tx.send(Msg::Catalog { account, result }).await;
                }));
            }
        }
        let (wtx, wrx) = watch::channel(None);
        tasks.push(tokio::spawn(detail_poller(providers.clone(), tx.clone(), wrx)));
        Sync { providers, tx, refresh, watch: wtx, eyes, tasks, audit }
    }

    /// Applies an edit: re-reads the deployment, and only if the edited section is as the form saw it, sends
    /// the change; then checks the read-back field by field against what the user meant. Every outcome is
    /// appended to the audit log and reported back.
    pub fn apply(&self, req: Box<ApplyRequest>) {
        let Some(p) = self.providers.get(req.account).cloned() else { return };
        let tx = self.tx.clone();
        let audit = self.audit.clone();
        tokio::spawn(in_lane(Lane::User, async move {
            let result = apply_recorded(p.as_ref(), &req, audit.as_ref()).await;
            let _ = tx.send(Msg::Applied { key: req.key, result }).await;
        }));
    }

    /// Reads each deployment's details once, in the user's lane (the account's limiter bounds how many at
    /// once); each answer comes back as a [`Msg::Detail`].
    pub fn read_details(&self, keys: Vec<(usize, DeploymentKey)>) {
        for (account, key) in keys {
            let Some(p) = self.providers.get(account).cloned() else { continue };
            let tx = self.tx.clone();
            tokio::spawn(in_lane(Lane::User, async move {
                let result = p.get(&key.id).await.map(Box::new);
                let _ = tx.send(Msg::Detail { key, at: Utc::now(), result }).await;
            }));
        }
    }

    /// Starts, stops or deletes a deployment (the user has confirmed).
    pub fn lifecycle(&self, req: LifecycleRequest) {
        let Some(p) = self.providers.get(req.account).cloned() else { return };
        let tx = self.tx.clone();
        let audit = self.audit.clone();
        tokio::spawn(in_lane(Lane::User, async move {
            let Lifecycled { read, result, .. } = lifecycle_recorded(p.as_ref(), &req, audit.as_ref()).await;
            // The freshest read first, so that the row shows it when the mark goes.
            if let Some(d) = read {
                let key = req.key.clone();
                if tx.send(Msg::Detail { key, at: Utc::now(), result: Ok(Box::new(d)) }).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(Msg::Lifecycle { key: req.key, name: req.name, op: req.op, result }).await;
        }));
    }

    /// Fetches an account's catalog.
    pub fn load_catalog(&self, account: usize) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = in_lane(Lane::User, p.catalog()).await;
            if let Err(e) = &result {
                tracing::warn!(account = p.account(), error = %e, "catalog fetch failed");
            }
            let _ = tx.send(Msg::CatalogLoaded { account, at: Utc::now(), result }).await;
        });
    }

    /// Asks for the price of a configuration.
    pub fn price(&self, account: usize, spec: Box<CreateSpec>) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = in_lane(Lane::User, p.price(&spec)).await;
            let _ = tx.send(Msg::Priced { account, key: spec.price_key(), result }).await;
        });
    }

    /// Asks for the price of one replica of `hardware` in `region`: in the user's lane when a review waits
    /// for it, else in the dashboard's own (it never waits behind the background sweep, nor delays an edit).
    pub fn replica_price(&self, account: usize, hardware: String, region: String, user: bool) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let tx = self.tx.clone();
        let lane = if user { Lane::User } else { Lane::Normal };
        tokio::spawn(async move {
            let result = in_lane(lane, p.replica_price(&hardware, &region)).await;
            let _ = tx.send(Msg::ReplicaPriced { account, hardware, region, result }).await;
        });
    }

    /// Creates a deployment (the user has confirmed); the outcome goes to the audit log and back to the app.
    pub fn create(&self, account: usize, spec: Box<CreateSpec>) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let (tx, audit) = (self.tx.clone(), self.audit.clone());
        tokio::spawn(async move {
            let result = in_lane(Lane::User, create(p.as_ref(), &spec, audit.as_ref())).await;
            let _ = tx.send(Msg::Created { account, name: spec.name.clone(), result }).await;
        });
    }

    /// Asks one account, or all, to refresh now.
    pub fn refresh(&self, account: Option<usize>) {
        for (i, r) in self.refresh.iter().enumerate() {
            if account.is_none_or(|a| a == i) {
                let _ = r.try_send(());
            }
        }
    }

    /// Sets the rows in view (the visible ones, the selection, those with a pending edit): their details are
    /// read first.
    pub fn eyes(&self, keys: Vec<DeploymentKey>) {
        let _ = self.eyes.send(Arc::new(keys));
    }

    /// Sets what the detail poller fetches.
    pub fn watch(&self, w: Option<Watch>) {
        let _ = self.watch.send(w);
    }
}

impl Drop for Sync {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Creates through the provider and records the outcome: the path the create form takes, also used by tests.
pub async fn create(
    p: &dyn Provider,
    spec: &CreateSpec,
    audit: Option<&audit::AuditLog>,
) -> Result<crate::provider::Applied, crate::provider::ApiError> {
    let result = p.create(spec).await;
    match &result {
        Ok(a) => {
            tracing::info!(account = p.account(), name = %spec.name, id = %a.deployment().key.id, "created")
        }
        Err(e) => tracing::warn!(account = p.account(), name = %spec.name, error = %e, "create failed"),
    }
    if let Some(a) = audit {
        let (id, outcome) = match &result {
            Ok(d) => (Some(d.deployment().key.id.as_str()), "created".to_string()),
            Err(e) => (None, format!("failed: {e}")),
        };
        a.record_create(p, spec, id, &outcome);
    }
    result
}

/// What a start, stop or delete did: whether it was sent, the latest read of the deployment (the read-back
/// after the write, or the read that stopped it), and the outcome.
pub struct Lifecycled {
    pub sent: bool,
    pub read: Option<Deployment>,
    pub result: Result<(), crate::provider::ApiError>,
}

/// Start or stop: the deployment is read first, and the request goes only if what was asked still fits what
/// it is now (the screen may be a refresh behind: another writer, or a stop sent a moment ago); after the
/// write it is read back. Delete (whose prompt asked for the typed name): sent as asked.
pub async fn lifecycle(p: &dyn Provider, req: &LifecycleRequest) -> Lifecycled {
    let id = &req.key.id;
    let op = req.op;
    if op == LifecycleOp::Delete {
        return Lifecycled { sent: true, read: None, result: p.delete(id).await };
    }
    let now = match p.get(id).await {
        Ok(d) => d,
        Err(mut e) => {
            e.message =
                format!("{} (it could not be read before the {}: nothing sent)", e.message, op.verb());
            return Lifecycled { sent: false, read: None, result: Err(e) };
        }
    };
    if crate::model::lifecycle::toggle_op(&now) != Ok(op) {
        let message = format!(
            "{} is {} now: nothing sent",
            crate::model::text::sanitize(&req.name),
            now.status.label()
        );
        let e = crate::provider::ApiError::new(p.kind(), ErrorKind::Conflict, message);
        return Lifecycled { sent: false, read: Some(now), result: Err(e) };
    }
    let result = match op {
        LifecycleOp::Start => p.start(id).await,
        _ => p.stop(id).await,
    };
    let read = match &result {
        Ok(()) => p.get(id).await.ok(),
        Err(_) => None,
    };
    Lifecycled { sent: true, read, result }
}

/// An edit as [`Sync::apply`] sends it (conflict check, write, verify-after-write), its outcome appended to
/// the audit file: the dashboard's path, also taken by `infertop scale`.
pub async fn apply_recorded(
    p: &dyn Provider,
    req: &ApplyRequest,
    audit: Option<&audit::AuditLog>,
) -> Result<Landed, ApplyFailure> {
    let (before, result, note) = apply(p, req).await;
    if let Some(a) = audit {
        a.record_edit(p, req, before.as_ref(), &result, note.as_deref());
    }
    result
}

/// A start or stop as [`Sync::lifecycle`] sends it ([`lifecycle`]), its outcome appended to the audit file:
/// the dashboard's path, also taken by `infertop start` and `infertop stop`.
pub async fn lifecycle_recorded(
    p: &dyn Provider,
    req: &LifecycleRequest,
    audit: Option<&audit::AuditLog>,
) -> Lifecycled {
    let done = lifecycle(p, req).await;
    if let Some(a) = audit {
        let outcome = match &done.result {
            Ok(()) => "done".to_string(),
            Err(e) if !done.sent => format!("not sent: {e}"),
            Err(e) => format!("failed: {e}"),
        };
        a.record_lifecycle(p, req, &outcome);
    }
    done
}

/// The deployment as read before the write (None when that read failed: nothing was sent), the verified
/// outcome, and a note for the audit line.
async fn apply(
    p: &dyn Provider,
    req: &ApplyRequest,
) -> (Option<Deployment>, Result<Landed, ApplyFailure>, Option<String>) {
    let before = match p.get(&req.key.id).await {
        Ok(d) => d,
        Err(e) => return (None, Err(ApplyFailure::Api(e)), None),
    };
    if req.change.current_of(&before) != req.change.current_of(&req.expected) {
        return (Some(before.clone()), Err(ApplyFailure::Conflict(Box::new(before))), None);
    }
    let edit = req.edit();
    let mut result = match &req.change {
        Change::Scale(u) => {
            p.update_scale_with_source(&req.key.id, u, req.source.as_ref().map(|s| &s.source)).await
        }
        Change::Probes(pr) => p.update_probes(&req.key.id, pr).await,
        Change::Settings(s) => p.update_settings(&req.key.id, s).await,
    };
    // When the write may have reached the provider (the connection failed, or a later read of its task or of
    // the deployment ran out of retries; a write ending on a server error or a rate limit was retried, and an
    // earlier try may have reached it), the outcome is unknown: read the deployment again and say what is true.
    let mut note = None;
    if let Err(e) = &result
        && e.is_transient()
    {
        let mut reread = p.get(&req.key.id).await;
        for _ in 0..3 {
            if reread.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            reread = p.get(&req.key.id).await;
        }
        match reread {
            Ok(now) if edit.landed_in(&now) => {
                note = Some(format!("confirmed by a re-read after: {e}"));
                result = Ok(Applied::Done(Box::new(now)));
            }
            // A try the client stopped waiting for (a timeout, or one before a retry) may still be under way
            // at the provider: a re-read that does not show it yet proves nothing.
            Ok(_) if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Server | ErrorKind::RateLimited) => {
                let mut e2 = e.clone();
                e2.message = format!(
                    "{} (the outcome is unknown: a re-read does not show the change yet, but a try the provider \
                     is still working on may land; re-check before retrying)",
                    e.message
                );
                result = Err(e2);
            }
            Ok(_) => {
                let mut e2 = e.clone();
                e2.message =
                    format!("{} (a re-read shows the change is not there: nothing was applied)", e.message);
                result = Err(e2);
            }
            Err(_) => {
                let mut e2 = e.clone();
                e2.message = format!("{} (the outcome is unknown: re-check before retrying)", e.message);
                result = Err(e2);
            }
        }
    }
    // Verify after the write: every field the user meant, as the provider now holds it.
    let result = match result {
        Ok(applied) => {
            let not_taken = edit.not_taken(applied.deployment());
            Ok(Landed { applied, not_taken })
        }
        Err(e) => Err(ApplyFailure::Api(e)),
    };
    (Some(before), result, note)
}

/// Lists one account on an interval, or at once when asked; one list request in flight at a time. Where the
/// list is a summary (Sesterce), the list is shown at once and details are read by [`details_loop`].
async fn fleet_poller(
    account: usize,
    provider: Arc<dyn Provider>,
    tx: mpsc::Sender<Msg>,
    every: Duration,
    mut refresh: mpsc::Receiver<()>,
    eyes: watch::Receiver<Arc<Vec<DeploymentKey>>>,
) {
    if tx.send(Msg::Busy { account, busy: true }).await.is_err() {
        return;
    }
    if let Some(first) = provider.list_summaries().await {
        let _ = tx.send(Msg::Busy { account, busy: false }).await;
        details_loop(account, provider, tx, every, refresh, eyes, first).await;
        return;
    }
    let mut started = true;
    // The last answer's fingerprint: an answer that comes back as it was is not decoded again.
    let mut last: Option<u64> = None;
    let mut warned = Warned::default();
    loop {
        if !started && tx.send(Msg::Busy { account, busy: true }).await.is_err() {
            return;
        }
        started = false;
        let result = provider.list_unless_same(&mut last).await;
        let at = Utc::now();
        let mut warnings = None;
        let msg = match result {
            Ok(Some(listing)) => {
                warnings = Some(listing.warnings);
                match listing.cut {
                    None => {
                        let deps = listing.items;
                        tracing::debug!(account = provider.account(), count = deps.len(), "fleet refreshed");
                        Msg::Fleet { account, at, result: Ok(deps) }
                    }
                    Some(error) => {
                        tracing::warn!(account = provider.account(), error = %error, rows = listing.items.len(), "fleet list stopped part way");
                        Msg::FleetPartial { account, at, rows: listing.items, error }
                    }
                }
            }
            Ok(None) => Msg::FleetSame { account, at },
            Err(e) => {
                tracing::warn!(account = provider.account(), error = %e, "fleet refresh failed");
                Msg::Fleet { account, at, result: Err(e) }
            }
        };
        if tx.send(Msg::Busy { account, busy: false }).await.is_err()
            || tx.send(msg).await.is_err()
            || !warned.send(&tx, account, provider.as_ref(), warnings).await
            || tx.send(progress(account, provider.as_ref(), None)).await.is_err()
        {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            // A refresh the user asks for reads and shows everything again.
            r = refresh.recv() => if r.is_none() { return } else { last = None },
        }
    }
}

/// The warnings of an account's list last sent to the app: sent again only when they change.
#[derive(Default)]
struct Warned(Vec<String>);

impl Warned {
    /// Sends `warnings` (None: the list was not read anew, they stand) when they differ from the last sent,
    /// and logs each new one. False when the app is gone.
    async fn send(
        &mut self,
        tx: &mpsc::Sender<Msg>,
        account: usize,
        p: &dyn Provider,
        warnings: Option<Vec<String>>,
    ) -> bool {
        let Some(warnings) = warnings.filter(|w| *w != self.0) else { return true };
        for w in warnings.iter().filter(|w| !self.0.contains(w)) {
            tracing::warn!(account = p.account(), "{w}");
        }
        self.0 = warnings.clone();
        tx.send(Msg::ListWarnings { account, warnings }).await.is_ok()
    }
}

/// A row in view whose details are older than this is read again even when its list entry did not change.
pub const EYES_EVERY: Duration = Duration::from_secs(10);
/// The background sweep reads a row again once its details are older than this (when the rate leaves room).
/// It only reaches rows at rest whose list entry (status, `updatedAt`) has not changed and that are out of
/// view: every other row is read within the cycle or every [`EYES_EVERY`]. It is what bounds how late such a
/// row shows a change the list does not carry (a replica lost without a new `updatedAt`), so a minute.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// A row never read whose read failed is tried again after this (the sweep goes on with the others).
const UNREAD_RETRY: Duration = Duration::from_secs(5);
/// How long the sweep looks for no never-read row once every row was read: a new list resets it sooner.
const NO_UNREAD_BEFORE_RELIST: Duration = Duration::from_secs(3600);
/// Detail results go to the app in batches: at most this long after the first of a batch.
const BATCH_EVERY: Duration = Duration::from_millis(100);

/// The details read of one deployment.
struct Read {
    /// The list entry's version when the read was sent.
    version: String,
    at: Instant,
    /// Read, and at rest (nothing to follow until the list entry changes).
    settled: bool,
    /// Its details were read at least once (this read, or one before it).
    had: bool,
}

/// One details read: its lane, the id, the list version it was sent under, and the outcome.
type DetailFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = (Lane, String, String, crate::provider::ApiResult<Deployment>)>
            + Send,
    >,
>;

/// Background reads queued at once (the limiter decides when each goes).
const SWEEP_SLOTS: usize = crate::provider::DEFAULT_MAX_IN_FLIGHT;

/// The details scheduler of an account whose list is a summary. The list is read every `every` and shown at
/// once; then details are read, in this order: rows in view (never read, changed, or older than
/// [`EYES_EVERY`]) in the normal lane, at once; then, in the background lane, within [`SWEEP_SLOTS`] reads at
/// a time: rows whose list entry changed or that are still moving (the [`ChangeQueue`], each row once
/// however often it changes), and the sweep (never-read rows, then rows older than [`SWEEP_EVERY`]). While
/// the first pass is incomplete, the sweep has every other background read however long the change queue is,
/// so a storm of changes cannot stop the first pass; after it, changed rows go first.
async fn details_loop(
    account: usize,
    provider: Arc<dyn Provider>,
    tx: mpsc::Sender<Msg>,
    every: Duration,
    mut refresh: mpsc::Receiver<()>,
    mut eyes: watch::Receiver<Arc<Vec<DeploymentKey>>>,
    first: crate::provider::ApiResult<Listing<Listed>>,
) {
    use futures::StreamExt;
    let mut reads: HashMap<String, Read> = HashMap::new();
    // The list as last read: ids in list order, and each one's version.
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut versions: HashMap<String, String> = HashMap::new();
    let mut changed = ChangeQueue::default();
    // Rows being read, in either lane; and those being read in each.
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut in_background: HashSet<String> = HashSet::new();
    let mut in_normal: HashSet<String> = HashSet::new();
    let mut background = 0usize;
    let mut pending: futures::stream::FuturesUnordered<DetailFuture> = Default::default();
    let mut batch: Vec<RowDetail> = Vec::new();
    let mut batch_due: Option<Instant> = None;
    let mut next_list = Instant::now() + every;
    let mut list_result = Some(first);
    let mut listing: Option<ListFuture> = None;
    let mut warned = Warned::default();
    let read = |id: String, version: String, lane: Lane| -> DetailFuture {
        let p = provider.clone();
        Box::pin(in_lane(lane, async move {
            let r = p.get(&id).await;
            (lane, id, version, r)
        }))
    };
    let mut fresh_eyes = true;
    let mut first_pass_done = false;
    // While the first pass is incomplete, the sweep and the change queue take turns.
    let mut sweep_turn = true;
    let mut sweep = Sweep::default();
    loop {
        if let Some(result) = list_result.take() {
            let at = Utc::now();
            // A summary list is not paged: one that stopped part way is a failed list.
            let (result, warnings) = match result {
                Ok(l) => {
                    let warnings = Some(l.warnings);
                    (l.cut.map_or(Ok(l.items), Err), warnings)
                }
                Err(e) => (Err(e), None),
            };
            // A list that could not read some of its items does not forget what was read of them.
            let whole = warnings.as_ref().is_none_or(Vec::is_empty);
            if let Ok(items) = &result {
                listed = items.iter().map(|l| (l.dep.key.id.clone(), l.version.clone())).collect();
                versions = listed.iter().cloned().collect();
            }
            match &result {
                Ok(items) => tracing::debug!(account = provider.account(), count = items.len(), "list read"),
                Err(e) => tracing::warn!(account = provider.account(), error = %e, "fleet refresh failed"),
            }
            let ok = result.is_ok();
            if tx.send(Msg::Listed { account, at, result }).await.is_err()
                || !warned.send(&tx, account, provider.as_ref(), warnings).await
            {
                return;
            }
            if ok {
                sweep.relisted();
                if whole {
                    reads.retain(|id, _| versions.contains_key(id));
                }
                // Changed or still moving: queued (once) to be read again.
                for (id, version) in &listed {
                    let due = reads.get(id).is_some_and(|r| r.version != *version || !r.settled);
                    if due && !in_flight.contains(id) {
                        changed.push(id);
                    }
                }
                fresh_eyes = true;
            }
            if tx
                .send(progress(account, provider.as_ref(), Some(shown(&listed, &reads, &changed))))
                .await
                .is_err()
            {
                return;
            }
        }
        // Reads of rows in view just asked for: they reach their lane's queue as they are first polled, so the
        // background reads wait for the next turn of this loop (a read answered), not to get in ahead of them.
        let mut eyes_asked = false;
        if fresh_eyes {
            fresh_eyes = false;
            let keys = eyes.borrow_and_update().clone();
            for k in
                keys.iter().filter(|k| k.provider == provider.kind() && *k.account == *provider.account())
            {
                let Some(version) = versions.get(&k.id) else { continue };
                let due = reads
                    .get(&k.id)
                    .is_none_or(|r| r.version != *version || !r.settled || r.at.elapsed() >= EYES_EVERY);
                // A row being read in the background lane (queued behind the sweep, or waiting to retry) is
                // read again in this one: a row in view waits for no background read.
                if due && in_normal.insert(k.id.clone()) {
                    eyes_asked = true;
                    in_flight.insert(k.id.clone());
                    pending.push(read(k.id.clone(), version.to_string(), Lane::Normal));
                }
            }
        }
        // Top up the background reads: the change queue and the sweep (never-read rows first, in list order,
        // then the oldest), taking turns while the first pass is incomplete.
        let now = Instant::now();
        let first_pass = !first_pass_done;
        while background < SWEEP_SLOTS && !eyes_asked {
            let sweep_first = changed.is_empty() || (first_pass && sweep_turn);
            let mut picked = None;
            if sweep_first {
                picked = sweep.next(&listed, &reads, &mut in_flight, now);
                sweep_turn = picked.is_none();
            }
            if picked.is_none() {
                while let Some(id) = changed.pop() {
                    if let Some(version) = versions.get(&id)
                        && in_flight.insert(id.clone())
                    {
                        picked = Some((id, version.clone()));
                        sweep_turn = true;
                        break;
                    }
                }
            }
            let Some((id, version)) = picked else { break };
            background += 1;
            in_background.insert(id.clone());
            pending.push(read(id, version, Lane::Background));
        }
        let wake = batch_due.map_or(next_list, |b| b.min(next_list));
        tokio::select! {
            Some((lane, id, version, result)) = pending.next() => {
                if lane == Lane::Background {
                    background -= 1;
                    in_background.remove(&id);
                } else {
                    in_normal.remove(&id);
                }
                if !in_background.contains(&id) && !in_normal.contains(&id) {
                    in_flight.remove(&id);
                }
                let ok = result.is_ok();
                let settled = result.as_ref().is_ok_and(settled);
                if let Err(e) = &result {
                    tracing::warn!(account = provider.account(), id = %id, error = %e, "details read failed");
                }
                // A failed re-read leaves the row with the details it had.
                let had = ok || reads.get(&id).is_some_and(|r| r.had);
                reads.insert(id.clone(), Read { version: version.clone(), at: Instant::now(), settled, had });
                let key = DeploymentKey { provider: provider.kind(), account: crate::model::intern(provider.account()), id };
                batch.push(RowDetail { key, version, result: result.map(Box::new) });
                batch_due.get_or_insert(Instant::now() + BATCH_EVERY);
            }
            Some(r) = futures::future::OptionFuture::from(listing.as_mut()) => {
                listing = None;
                if tx.send(Msg::Busy { account, busy: false }).await.is_err() {
                    return;
                }
                list_result = Some(r);
            }
            _ = tokio::time::sleep_until(wake) => {}
            r = refresh.recv() => {
                if r.is_none() {
                    return;
                }
                next_list = Instant::now();
            }
            changed = eyes.changed() => {
                if changed.is_err() {
                    return;
                }
                fresh_eyes = true;
            }
        }
        let now = Instant::now();
        if batch_due.is_some_and(|d| d <= now) || (pending.is_empty() && !batch.is_empty()) {
            batch_due = None;
            let items = std::mem::take(&mut batch);
            let details = shown(&listed, &reads, &changed);
            if tx.send(Msg::RowDetails { account, at: Utc::now(), items }).await.is_err()
                || tx.send(progress(account, provider.as_ref(), Some(details))).await.is_err()
            {
                return;
            }
            // `benches/process.rs` waits for this line: idle is measured after the first pass.
            let (read, total) = count_read(&listed, &reads);
            if !first_pass_done && read == total {
                first_pass_done = true;
                tracing::info!(account = provider.account(), rows = total, "details first pass complete");
            }
        }
        // The list is read beside the details reads, not in their way: a slow list (a retry, a timeout) does
        // not hold back a row coming into view.
        if now >= next_list && listing.is_none() {
            next_list = now + every;
            if tx.send(Msg::Busy { account, busy: true }).await.is_err() {
                return;
            }
            let p = provider.clone();
            listing = Some(Box::pin(async move {
                p.list_summaries().await.unwrap_or_else(|| {
                    Err(crate::provider::ApiError::new(
                        p.kind(),
                        ErrorKind::Other,
                        "the list stopped being a summary",
                    ))
                })
            }));
        }
    }
}

/// A list read under way.
type ListFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = crate::provider::ApiResult<Listing<Listed>>> + Send>>;

/// Rows whose details are due again (their list entry changed, or they are still moving), each held once
/// however often it changes, in the order they were found due.
#[derive(Debug, Default)]
struct ChangeQueue {
    order: std::collections::VecDeque<String>,
    queued: HashSet<String>,
}

impl ChangeQueue {
    /// Queues `id` unless it is queued already.
    fn push(&mut self, id: &str) {
        if !self.queued.contains(id) {
            self.queued.insert(id.to_string());
            self.order.push_back(id.to_string());
        }
    }

    fn pop(&mut self) -> Option<String> {
        let id = self.order.pop_front()?;
        self.queued.remove(&id);
        Some(id)
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A change queue at least this long is a backlog the status line shows (`details N/M`): a few rows due
/// again are read within a round trip, and are no news.
const BACKLOG_SHOWN: usize = SWEEP_SLOTS;

/// What the status line says of the details reads: while a row listed was never read (the first pass, or rows
/// new since), rows with details of the rows listed; after it, while a backlog of changed rows waits, how many
/// wait (another word: the first pass's count never goes back); otherwise all read.
fn shown(
    listed: &[(String, String)],
    reads: &HashMap<String, Read>,
    changed: &ChangeQueue,
) -> DetailsProgress {
    let (read, listed) = count_read(listed, reads);
    if read < listed || changed.len() < BACKLOG_SHOWN {
        return DetailsProgress::Read { read, listed };
    }
    DetailsProgress::Backlog { waiting: changed.len(), listed }
}

/// The background sweep: never-read rows first, in list order (each tried again [`UNREAD_RETRY`] after a failed
/// read), then rows read [`SWEEP_EVERY`] ago. Without the first, a row whose first read failed waits for the
/// sweep to come round the whole list again, behind every row read a minute ago: a first pass that a change
/// storm had slowed then ends at a few rows a minute.
#[derive(Debug, Default)]
struct Sweep {
    unread: SweepCursor,
    old: SweepCursor,
}

/// Where a sweep looks next in the list, and the time before which a look at the whole list would find
/// nothing due (each wake skips the scan until then).
#[derive(Debug, Default)]
struct SweepCursor {
    at: usize,
    idle_until: Option<Instant>,
}

impl Sweep {
    /// A new list: any row may be due, new ones never read among them.
    fn relisted(&mut self) {
        self.unread.idle_until = None;
        self.old.idle_until = None;
    }

    /// The next row to read, marked in flight: the next never-read row due, else the next row due.
    fn next(
        &mut self,
        listed: &[(String, String)],
        reads: &HashMap<String, Read>,
        in_flight: &mut HashSet<String>,
        now: Instant,
    ) -> Option<(String, String)> {
        for (cursor, only_unread) in [(&mut self.unread, true), (&mut self.old, false)] {
            if cursor.idle_until.is_some_and(|t| now < t) {
                continue;
            }
            let (mut found, idle_until) =
                sweep_scan(listed, reads, in_flight, &mut cursor.at, 1, now, only_unread);
            cursor.idle_until = idle_until;
            if let Some(p) = found.pop() {
                return Some(p);
            }
        }
        None
    }
}

/// One look for the background sweep, from `cursor` on in list order: up to `free` rows due (never read, or
/// read [`SWEEP_EVERY`] ago) and not already being read, marked in flight. Also, when the whole list was looked
/// at with room to spare, when the first row falls due: no scan is needed before then (a read ending only
/// makes its row due later; a new list must reset it).
fn sweep_scan(
    listed: &[(String, String)],
    reads: &HashMap<String, Read>,
    in_flight: &mut HashSet<String>,
    cursor: &mut usize,
    free: usize,
    now: Instant,
    only_unread: bool,
) -> (Vec<(String, String)>, Option<Instant>) {
    let mut picked = Vec::new();
    let mut first_due: Option<Instant> = None;
    let mut looked = 0;
    while picked.len() < free && looked < listed.len() {
        *cursor %= listed.len();
        let (id, version) = &listed[*cursor];
        *cursor += 1;
        looked += 1;
        let read = reads.get(id);
        if only_unread && read.is_some_and(|r| r.had) {
            continue;
        }
        // A row never read is due again soon after a failed read; a row read, after SWEEP_EVERY.
        match read.map(|r| r.at + if r.had { SWEEP_EVERY } else { UNREAD_RETRY }) {
            Some(at) if now < at => first_due = Some(first_due.map_or(at, |f| f.min(at))),
            _ if in_flight.insert(id.clone()) => picked.push((id.clone(), version.clone())),
            // Due, and being read already: when it is due next is known only once that read ends.
            _ => first_due = Some(now),
        }
    }
    let whole = looked == listed.len() && picked.len() < free;
    // Every row read: no look finds a never-read row before a new list brings one.
    let none_unread = only_unread && first_due.is_none();
    (picked, if whole { first_due.or(none_unread.then(|| now + NO_UNREAD_BEFORE_RELIST)) } else { None })
}

/// Rows listed whose details were read (a failed re-read does not take them back), and how many are listed.
fn count_read(listed: &[(String, String)], reads: &HashMap<String, Read>) -> (usize, usize) {
    let read = listed.iter().filter(|(id, _)| reads.get(id).is_some_and(|r| r.had)).count();
    (read, listed.len())
}

fn progress(account: usize, p: &dyn Provider, details: Option<DetailsProgress>) -> Msg {
    Msg::Progress { account, details, rate: p.effective_rate() }
}

/// Fetches the selected deployment's details (and metrics/logs when their pane is shown), every
/// [`DETAIL_EVERY`] and at once when the selection changes; a change cancels the fetch under way.
async fn detail_poller(
    providers: Vec<Arc<dyn Provider>>,
    tx: mpsc::Sender<Msg>,
    mut watch: watch::Receiver<Option<Watch>>,
) {
    loop {
        let current = watch.borrow_and_update().clone();
        if let Some(w) = current
            && let Some(p) = providers.get(w.account).cloned()
        {
            let fetch = fetch_detail(p, w, tx.clone());
            tokio::select! {
                done = fetch => if !done { return },
                changed = watch.changed() => { if changed.is_err() { return } continue; }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(DETAIL_EVERY) => {}
            changed = watch.changed() => if changed.is_err() { return },
        }
    }
}

/// Returns false when the app is gone.
async fn fetch_detail(p: Arc<dyn Provider>, w: Watch, tx: mpsc::Sender<Msg>) -> bool {
    let result = p.get(&w.key.id).await.map(Box::new);
    if let Err(e) = &result {
        tracing::warn!(account = p.account(), id = %w.key.id, error = %e, "detail fetch failed");
    }
    if tx.send(Msg::Detail { key: w.key.clone(), at: Utc::now(), result }).await.is_err() {
        return false;
    }
    if w.metrics {
        let end = Utc::now();
        let q =
            MetricsQuery { start: end - chrono::Duration::minutes(15), end, samples: 60, pod: w.pod.clone() };
        let result = p.metrics(&w.key.id, &q).await;
        if tx.send(Msg::Metrics { key: w.key.clone(), at: Utc::now(), result }).await.is_err() {
            return false;
        }
    }
    if w.logs {
        let result = p.logs(&w.key.id, &LogQuery { limit: 200, region_id: w.logs_region.clone() }).await;
        if tx.send(Msg::Logs { key: w.key.clone(), at: Utc::now(), result }).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("i{i}"), "v".to_string())).collect()
    }

    fn read_at(at: Instant) -> Read {
        Read { version: "v".into(), at, settled: true, had: true }
    }

    fn ids(picked: &[(String, String)]) -> Vec<&str> {
        picked.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn the_sweep_reads_never_read_rows_in_list_order_within_its_slots() {
        let now = Instant::now();
        let listed = listed(5);
        let mut reads = HashMap::new();
        reads.insert("i1".to_string(), read_at(now));
        let (mut in_flight, mut cursor) = (HashSet::new(), 0);
        let (picked, idle) = sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 2, now, false);
        assert_eq!(ids(&picked), ["i0", "i2"]);
        assert_eq!(idle, None, "the list was not looked at whole: look again next time");
        let (picked, idle) = sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 2, now, false);
        assert_eq!(ids(&picked), ["i3", "i4"]);
        assert_eq!(idle, None);
        // Every row read or being read: the ones being read may be due as soon as their read ends.
        let (picked, idle) = sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 2, now, false);
        assert!(picked.is_empty());
        assert_eq!(idle, Some(now));
    }

    #[test]
    fn a_sweep_with_nothing_due_says_when_the_first_row_is_and_reads_it_then() {
        let t0 = Instant::now();
        let listed = listed(3);
        let mut reads = HashMap::new();
        reads.insert("i0".to_string(), read_at(t0 + Duration::from_secs(5)));
        reads.insert("i1".to_string(), read_at(t0));
        reads.insert("i2".to_string(), read_at(t0 + Duration::from_secs(9)));
        let (mut in_flight, mut cursor) = (HashSet::new(), 0);
        let later = t0 + Duration::from_secs(10);
        let (picked, idle) = sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 4, later, false);
        assert!(picked.is_empty());
        assert_eq!(idle, Some(t0 + SWEEP_EVERY), "i1, the oldest read, is the first due");
        let (picked, idle) =
            sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 4, t0 + SWEEP_EVERY, false);
        assert_eq!(ids(&picked), ["i1"]);
        assert_eq!(idle, Some(t0 + Duration::from_secs(5) + SWEEP_EVERY));
        // No slot free: nothing is read, and nothing is promised about the next look.
        let (picked, idle) =
            sweep_scan(&listed, &reads, &mut in_flight, &mut cursor, 0, t0 + SWEEP_EVERY * 2, false);
        assert!(picked.is_empty());
        assert_eq!(idle, None);
    }

    #[test]
    fn the_sweep_reads_never_read_rows_before_rows_read_a_minute_ago() {
        let t0 = Instant::now();
        let listed = listed(6);
        let mut reads = HashMap::new();
        // i0, i2, i4 read at t0; i1 never tried; i3's first read failed at t0; i5's failed just now.
        for id in ["i0", "i2", "i4"] {
            reads.insert(id.to_string(), read_at(t0));
        }
        let failed = |at| Read { version: "v".into(), at, settled: false, had: false };
        let now = t0 + SWEEP_EVERY + Duration::from_secs(1);
        reads.insert("i3".to_string(), failed(t0));
        reads.insert("i5".to_string(), failed(now));
        let (mut sweep, mut in_flight) = (Sweep::default(), HashSet::new());
        let mut next = |reads: &HashMap<String, Read>, at| {
            sweep.next(&listed, reads, &mut in_flight, at).map(|(id, _)| id)
        };
        // Every read row is due again, yet the never-read rows due come first; i5 is not due yet.
        assert_eq!(next(&reads, now).as_deref(), Some("i1"));
        assert_eq!(next(&reads, now).as_deref(), Some("i3"));
        assert_eq!(next(&reads, now).as_deref(), Some("i0"));
        assert_eq!(next(&reads, now).as_deref(), Some("i2"));
        // i5 falls due: it goes ahead of i4, which was due all along.
        let later = now + UNREAD_RETRY;
        assert_eq!(next(&reads, later).as_deref(), Some("i5"));
        assert_eq!(next(&reads, later).as_deref(), Some("i4"));
        assert_eq!(next(&reads, later), None, "every row is being read");
    }

    #[test]
    fn with_every_row_read_the_sweep_stops_looking_for_never_read_ones_until_a_new_list() {
        let t0 = Instant::now();
        let listed = listed(3);
        let reads: HashMap<String, Read> = listed.iter().map(|(id, _)| (id.clone(), read_at(t0))).collect();
        let (mut sweep, mut in_flight) = (Sweep::default(), HashSet::new());
        assert_eq!(sweep.next(&listed, &reads, &mut in_flight, t0), None);
        assert_eq!(sweep.unread.idle_until, Some(t0 + NO_UNREAD_BEFORE_RELIST));
        assert_eq!(sweep.old.idle_until, Some(t0 + SWEEP_EVERY));
        sweep.relisted();
        assert_eq!((sweep.unread.idle_until, sweep.old.idle_until), (None, None));
    }
}
