//! Polling tasks. They own the provider clients and talk to the app only through a bounded channel of
//! [`Msg`]s; they never hold anything the UI needs to draw.

use crate::app::state::LifecycleOp;
use crate::app::{ApplyFailure, ApplyRequest, Landed, LifecycleRequest, Msg, Watch};
use crate::model::CreateSpec;
use crate::model::Deployment;
use crate::model::edit::Change;
use crate::provider::{Applied, ErrorKind, LogQuery, MetricsQuery, Provider};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How often the selected deployment's details, metrics and logs are fetched.
pub const DETAIL_EVERY: Duration = Duration::from_secs(2);

/// Handle on the polling tasks; dropping it stops them.
pub struct Sync {
    providers: Vec<Arc<dyn Provider>>,
    tx: mpsc::Sender<Msg>,
    refresh: Vec<mpsc::Sender<()>>,
    watch: watch::Sender<Option<Watch>>,
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
        for (account, p) in providers.iter().cloned().enumerate() {
            // Capacity 1: a burst of `r` presses collapses into one extra refresh.
            let (rtx, rrx) = mpsc::channel(1);
            refresh.push(rtx);
            tasks.push(tokio::spawn(fleet_poller(account, p, tx.clone(), every, rrx)));
        }
        // The regions catalogs, once, for the scale form's "add region".
        for (account, p) in providers.iter().cloned().enumerate() {
            if p.capabilities().per_region_scale {
                let tx = tx.clone();
                tasks.push(tokio::spawn(async move {
                    let result = p.regions().await;
                    let _ = tx.send(Msg::Catalog { account, result }).await;
                }));
            }
        }
        let (wtx, wrx) = watch::channel(None);
        tasks.push(tokio::spawn(detail_poller(providers.clone(), tx.clone(), wrx)));
        Sync { providers, tx, refresh, watch: wtx, tasks, audit }
    }

    /// Applies an edit: re-reads the deployment, and only if the edited section is as the form saw it, sends
    /// the change; then checks the read-back field by field against what the user meant. Every outcome is
    /// appended to the audit log and reported back.
    pub fn apply(&self, req: Box<ApplyRequest>) {
        let Some(p) = self.providers.get(req.account).cloned() else { return };
        let tx = self.tx.clone();
        let audit = self.audit.clone();
        tokio::spawn(async move {
            let (before, result, note) = apply(p.as_ref(), &req).await;
            if let Some(a) = &audit {
                a.record_edit(p.as_ref(), &req, before.as_ref(), &result, note.as_deref());
            }
            let _ = tx.send(Msg::Applied { key: req.key, result }).await;
        });
    }

    /// Starts, stops or deletes a deployment (the user has confirmed).
    pub fn lifecycle(&self, req: LifecycleRequest) {
        let Some(p) = self.providers.get(req.account).cloned() else { return };
        let tx = self.tx.clone();
        let audit = self.audit.clone();
        tokio::spawn(async move {
            let result = match req.op {
                LifecycleOp::Start => p.start(&req.key.id).await,
                LifecycleOp::Stop => p.stop(&req.key.id).await,
                LifecycleOp::Delete => p.delete(&req.key.id).await,
            };
            if let Some(a) = &audit {
                let outcome = match &result {
                    Ok(()) => "done".to_string(),
                    Err(e) => format!("failed: {e}"),
                };
                a.record_lifecycle(p.as_ref(), &req, &outcome);
            }
            let _ = tx.send(Msg::Lifecycle { key: req.key, name: req.name, op: req.op, result }).await;
        });
    }

    /// Fetches an account's catalog.
    pub fn load_catalog(&self, account: usize) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = p.catalog().await;
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
            let result = p.price(&spec).await;
            let _ = tx.send(Msg::Priced { account, key: spec.price_key(), result }).await;
        });
    }

    /// Creates a deployment (the user has confirmed); the outcome goes to the audit log and back to the app.
    pub fn create(&self, account: usize, spec: Box<CreateSpec>) {
        let Some(p) = self.providers.get(account).cloned() else { return };
        let (tx, audit) = (self.tx.clone(), self.audit.clone());
        tokio::spawn(async move {
            let result = create(p.as_ref(), &spec, audit.as_ref()).await;
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
        Change::Scale(u) => p.update_scale_with_source(&req.key.id, u, req.source.as_ref()).await,
        Change::Probes(pr) => p.update_probes(&req.key.id, pr).await,
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

/// Lists one account on an interval, or at once when asked; one request in flight at a time.
async fn fleet_poller(
    account: usize,
    provider: Arc<dyn Provider>,
    tx: mpsc::Sender<Msg>,
    every: Duration,
    mut refresh: mpsc::Receiver<()>,
) {
    loop {
        if tx.send(Msg::Busy { account, busy: true }).await.is_err() {
            return;
        }
        let result = provider.list().await;
        let at = Utc::now();
        match &result {
            Ok(deps) => tracing::debug!(account = provider.account(), count = deps.len(), "fleet refreshed"),
            Err(e) => tracing::warn!(account = provider.account(), error = %e, "fleet refresh failed"),
        }
        if tx.send(Msg::Busy { account, busy: false }).await.is_err()
            || tx.send(Msg::Fleet { account, at, result }).await.is_err()
        {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            r = refresh.recv() => if r.is_none() { return },
        }
    }
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
