//! `infertop scale`, `infertop stop` and `infertop start`: the dashboard's bulk changes without a terminal, for
//! scripts, cron and runbooks. They take the dashboard's path, not one of their own: the deployments picked are
//! read again in full and planned as the bulk form plans them ([`crate::model::bulk::plan_scale`], the
//! start/stop rule of `t`), priced as the reviews price them, and each change goes through
//! [`crate::sync::apply_recorded`] or [`crate::sync::lifecycle_recorded`] (conflict check, write,
//! verify-after-write, one audit line marked as coming from the command line). The outcomes are the bulk end
//! table's words, and `--wait` follows the rollout with the dashboard's ⟳ rule.

mod report;
mod select;

use crate::app::bulk::{BulkItem, LeftOut, Outcome, Planned, scale_outcome};
use crate::app::edit::Picked;
use crate::app::lifecycle::{LifecycleRequest, describe};
use crate::cli::{ChangeArgs, Cli};
use crate::config;
use crate::model::bulk::{BulkScale, NOTHING_TO_CHANGE, plan_scale};
use crate::model::cost::{CostChange, Unit, has_prices, no_price};
use crate::model::edit::Change;
use crate::model::lifecycle::{LifecycleOp, toggle_op};
use crate::model::text::sanitize;
use crate::model::{Deployment, ImageSource, ProviderKind, ScaleUpdate, Status};
use crate::provider::http::{Lane, in_lane};
use crate::provider::{ApiError, ErrorKind, Provider};
use crate::run::{self, user_error};
use crate::sync::audit::{AuditLog, FROM_COMMAND_LINE};
use color_eyre::eyre::{Result, eyre};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// What a scripted command changes.
#[derive(Debug, Clone)]
pub enum What {
    Scale { change: BulkScale, region: Option<String>, sesterce_model: Option<String> },
    Stop,
    Start,
}

impl What {
    fn verb(&self) -> &'static str {
        match self {
            What::Scale { .. } => "scale",
            What::Stop => "stop",
            What::Start => "start",
        }
    }
}

/// How often `--wait` reads each changed deployment again (the dashboard's detail poll).
const WAIT_EVERY: Duration = crate::sync::DETAIL_EVERY;

/// One deployment of the run, and what became of it.
pub(crate) struct Run {
    pub items: Vec<BulkItem>,
    /// Left out, and whether that is because there is nothing to do (as asked already).
    pub left_out: Vec<(LeftOut, bool)>,
    /// Per item: the change in cost per hour (scale).
    pub costs: Vec<Option<CostChange>>,
    /// Per item: the fields the read-back does not hold as asked (partial).
    pub not_taken: Vec<Vec<serde_json::Value>>,
    /// Per item, with `--wait`: whether it rolled out in time (None: not followed, it was not applied).
    pub rolled_out: Vec<Option<bool>>,
}

/// Runs the command; returns the exit status (see [`crate::cli::CHANGE_EXIT`]).
pub async fn command(what: What, a: &ChangeArgs) -> Result<i32> {
    in_lane(Lane::User, run_command(what, a)).await
}

async fn run_command(what: What, a: &ChangeArgs) -> Result<i32> {
    let cli = Cli::with_source(a.source.clone());
    let cfg = run::load_config(&cli)?;
    if cfg.read_only.unwrap_or(false) {
        return Err(user_error(format!(
            "the config says read_only = true: `infertop {}` changes nothing under it (set it to false, or use \
             another config with --config)",
            what.verb()
        )));
    }
    if let What::Scale { change, .. } = &what
        && change.is_noop()
    {
        return Err(user_error(
            "say what to change: --min, --max or --cooldown (N sets, +N or -N changes by N)",
        ));
    }
    if a.selectors.is_empty() && a.filter.is_none() && a.provider.is_empty() && a.account.is_empty() {
        return Err(user_error(format!(
            "say which deployments: ACCOUNT/NAME or NAME, --filter REGEX, --provider or --account (e.g. `infertop \
             {} --filter staging --dry-run`)",
            what.verb()
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !a.dry_run && !a.yes && !interactive {
        return Err(user_error(
            "no terminal to confirm on: add --yes to send the changes, or --dry-run to see the plan (nothing \
             was sent)",
        ));
    }
    let filter = a.filter.as_deref().map(select::filter).transpose()?;
    let (accounts, _sim) = run::accounts(&cli, &cfg).await?;
    for name in &a.account {
        if !accounts.iter().any(|x| x.name == *name) {
            let names: Vec<&str> = accounts.iter().map(|x| x.name.as_str()).collect();
            return Err(user_error(format!(
                "no account {} in the config (its accounts: {})",
                sanitize(name),
                names.join(", ")
            )));
        }
    }
    let scope: Vec<_> = accounts
        .into_iter()
        .filter(|x| a.provider.is_empty() || a.provider.iter().any(|p| p == x.kind.label()))
        .filter(|x| a.account.is_empty() || a.account.contains(&x.name))
        .collect();
    if scope.is_empty() {
        return Err(user_error("no account of the config is left by --provider and --account"));
    }
    let client = run::client(&cli, &cfg)?;
    for name in config::plain_http_accounts(&scope) {
        eprintln!("infertop: warning: account {name} talks plain http to a host that is not loopback");
    }
    let providers: Vec<Arc<dyn Provider>> =
        scope.iter().map(|x| crate::provider::connect(x, client.clone())).collect();

    // Never act on what was not read: an account that cannot be listed stops the run before anything is sent.
    let lists = futures::future::join_all(providers.iter().map(|p| p.listing())).await;
    let mut listed: Vec<Vec<Deployment>> = Vec::new();
    let mut failed = Vec::new();
    for (p, r) in providers.iter().zip(lists) {
        match r.and_then(|l| l.complete()) {
            Ok(items) => listed.push(items),
            Err(e) => {
                failed.push(format!("{}: {e}", p.account()));
                listed.push(Vec::new());
            }
        }
    }
    if !failed.is_empty() {
        return Err(eyre!(
            "could not read {}; nothing was sent (leave an account out with --account or --provider)",
            failed.join("; ")
        ));
    }
    let views: Vec<select::Listed> = providers
        .iter()
        .zip(&listed)
        .map(|(p, items)| select::Listed { account: p.account(), items })
        .collect();
    let picked = select::pick(&views, &a.selectors, filter.as_ref())?;
    if picked.is_empty() {
        return Err(user_error(format!(
            "nothing matched{}: nothing was sent",
            a.filter.as_deref().map(|f| format!(" --filter {f:?}")).unwrap_or_default()
        )));
    }

    // The plan is made from a fresh full read of each, as the bulk review's is.
    let fresh = futures::future::join_all(picked.iter().map(|&(acc, i)| {
        let p = providers[acc].clone();
        let id = listed[acc][i].key.id.clone();
        async move { p.get(&id).await }
    }))
    .await;
    let mut run = plan(&what, &providers, &picked, &listed, fresh);
    if matches!(what, What::Scale { .. }) {
        run.costs = price(&providers, &run.items).await;
    }
    let to_send = run.items.len();
    if a.dry_run {
        report::plan(&what, &run, a.json, true);
        return Ok(0);
    }
    if to_send == 0 {
        report::outcomes(&run, a.json);
        return Ok(exit_status(&run));
    }
    if !a.yes {
        report::plan(&what, &run, false, false);
        if !confirm(to_send)? {
            eprintln!("infertop: nothing was sent");
            return Ok(2);
        }
    }

    let audit = AuditLog::new(config::state_dir().join("audit.jsonl")).with_origin(FROM_COMMAND_LINE);
    let source = match &what {
        What::Scale { sesterce_model: Some(id), .. } => {
            Some(Picked { source: ImageSource::Model(id.clone()), name: None })
        }
        _ => None,
    };
    let outcomes = futures::future::join_all(run.items.iter().map(|item| {
        let p = providers[item.account].clone();
        send(p, item, source.clone(), &audit)
    }))
    .await;
    for (i, (outcome, not_taken)) in outcomes.into_iter().enumerate() {
        run.items[i].outcome = outcome;
        run.not_taken[i] = not_taken;
    }
    if let Some(seconds) = a.wait {
        run.rolled_out = wait(&providers, &run.items, Duration::from_secs(seconds)).await;
    }
    report::outcomes(&run, a.json);
    Ok(exit_status(&run))
}

/// Each deployment picked, planned from its fresh read: a change, or left out with the reason.
fn plan(
    what: &What,
    providers: &[Arc<dyn Provider>],
    picked: &[(usize, usize)],
    listed: &[Vec<Deployment>],
    fresh: Vec<crate::provider::ApiResult<Deployment>>,
) -> Run {
    let mut items = Vec::new();
    let mut left_out = Vec::new();
    for (&(acc, i), read) in picked.iter().zip(fresh) {
        let listed = &listed[acc][i];
        let out =
            |why: String| LeftOut { key: listed.key.clone(), name: sanitize(&listed.name).into_owned(), why };
        let dep = match read {
            Ok(d) => d,
            Err(e) => {
                left_out.push((out(format!("could not read it: {e}")), false));
                continue;
            }
        };
        let caps = providers[acc].capabilities();
        let planned = match what {
            What::Scale { change, region, .. } => {
                plan_scale(&dep, caps.update_scale, dep.detail, change, region.as_deref())
                    .map(|(update, regions)| Planned::Scale {
                        expected: Box::new(dep.clone()),
                        update,
                        regions,
                    })
                    .map_err(|why| {
                        let nothing = why == NOTHING_TO_CHANGE;
                        (why, nothing)
                    })
            }
            What::Stop | What::Start => {
                let want = if matches!(what, What::Stop) { LifecycleOp::Stop } else { LifecycleOp::Start };
                lifecycle_plan(&dep, caps.start_stop, want)
                    .map(|op| Planned::Lifecycle { op, what: describe(op, &dep) })
            }
        };
        match planned {
            Ok(planned) => items.push(BulkItem {
                key: dep.key.clone(),
                account: acc,
                name: dep.name.clone(),
                planned,
                outcome: Outcome::Ready,
            }),
            Err((why, nothing)) => left_out.push((out(why), nothing)),
        }
    }
    let n = items.len();
    Run { items, left_out, costs: vec![None; n], not_taken: vec![Vec::new(); n], rolled_out: vec![None; n] }
}

/// Whether `want` is what the dashboard's `t` would do to `dep` now; else why not, and whether that is because
/// it is as asked already (nothing to do).
fn lifecycle_plan(dep: &Deployment, can: bool, want: LifecycleOp) -> Result<LifecycleOp, (String, bool)> {
    if !can {
        let provider = crate::model::edit::provider_name(dep.key.provider);
        return Err((format!("{provider} does not offer start and stop"), false));
    }
    let status = dep.status.label();
    match (toggle_op(dep), want) {
        (Ok(op), w) if op == w => Ok(op),
        (Ok(_), LifecycleOp::Stop) => Err((format!("it is {status}: already stopped, nothing to do"), true)),
        (Ok(_), _) => Err((format!("it is {status}, not stopped: nothing to start"), true)),
        (Err(_), LifecycleOp::Stop) if dep.status == Status::Stopping => {
            Err((format!("it is {status}: already stopping, nothing to do"), true))
        }
        (Err(why), _) => Err((why, false)),
    }
}

/// The change in cost per hour of each scale change, from the providers' prices per replica (each hardware
/// and region asked once), as the reviews show it.
async fn price(providers: &[Arc<dyn Provider>], items: &[BulkItem]) -> Vec<Option<CostChange>> {
    let pairs = items.iter().flat_map(|item| {
        let Planned::Scale { expected, update, .. } = &item.planned else { return Vec::new() };
        let (Some(hw), true) = (expected.hardware.as_deref(), has_prices(item.key.provider)) else {
            return Vec::new();
        };
        let regions =
            expected.regions.iter().map(|r| &r.region_id).chain(update.regions.iter().map(|r| &r.region_id));
        regions.map(|r| (item.account, hw.to_string(), r.clone())).collect()
    });
    let units = crate::provider::replica_prices(providers, pairs).await;
    items
        .iter()
        .map(|item| {
            let Planned::Scale { expected, update, .. } = &item.planned else { return None };
            let kind = item.key.provider;
            let unit = |region: &str| match expected.hardware.as_deref() {
                _ if !has_prices(kind) => no_price(kind),
                None => Unit::Unknown("hardware not read".into()),
                Some(hw) => units
                    .get(&(item.account, hw.to_string(), region.to_string()))
                    .cloned()
                    .unwrap_or_else(|| Unit::Unknown("not priced".into())),
            };
            let old = ScaleUpdate::from_deployment(expected).regions;
            // Named with the account: the same name may be in several.
            let name = format!("{}/{}", item.key.account, item.name);
            Some(CostChange::between(Some(item.key.clone()), &name, &old, &update.regions, unit))
        })
        .collect()
}

/// Asks once, on the terminal, for the whole plan.
fn confirm(n: usize) -> Result<bool> {
    use std::io::Write;
    let mut err = std::io::stderr();
    write!(err, "Send {n} change{}? [y/N] ", if n == 1 { "" } else { "s" })?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Sends one planned change the dashboard's way and says what became of it (and, for a partial write, the
/// fields not taken).
async fn send(
    p: Arc<dyn Provider>,
    item: &BulkItem,
    source: Option<Picked>,
    audit: &AuditLog,
) -> (Outcome, Vec<serde_json::Value>) {
    match &item.planned {
        Planned::Scale { expected, update, .. } => {
            let source = source.filter(|_| item.key.provider == ProviderKind::Sesterce);
            // Always there for a scale item; without it nothing is sent, and the run says so (exit 4).
            let Some(req) = item.apply_request(source) else { return (Outcome::Ready, Vec::new()) };
            let result = crate::sync::apply_recorded(p.as_ref(), &req, Some(audit)).await;
            let not_taken = match &result {
                Ok(l) => l.not_taken.iter().map(|n| n.to_json()).collect(),
                Err(_) => Vec::new(),
            };
            let (outcome, _) = scale_outcome(expected, update, result, sesterce_hint);
            (outcome, not_taken)
        }
        Planned::Lifecycle { op, .. } => {
            let req = LifecycleRequest {
                account: item.account,
                key: item.key.clone(),
                name: item.name.clone(),
                op: *op,
            };
            let done = crate::sync::lifecycle_recorded(p.as_ref(), &req, Some(audit)).await;
            let outcome = match done.result {
                Ok(()) => Outcome::Applied("done".into()),
                // Read again right before the write, it no longer fits what was asked: another writer.
                Err(e) if !done.sent && e.kind == ErrorKind::Conflict => Outcome::Conflict(e.message),
                Err(e) => Outcome::Refused(e.to_string()),
            };
            (outcome, Vec::new())
        }
    }
}

/// Sesterce refused for want of the instance's model: say so with its own words, and how to send it again.
fn sesterce_hint(e: &ApiError) -> String {
    let said: Vec<String> = e.fields.iter().map(|(f, m)| format!("{f} {m}")).collect();
    format!(
        "Sesterce wants the instance's model (modelId) with every update, and its details do not give it; \
         infertop does not guess it. Send again with --sesterce-model ID (the model the instance runs). \
         Sesterce said: {}",
        if said.is_empty() { e.message.clone() } else { said.join("; ") }
    )
}

/// Follows every applied change until it has settled by the dashboard's rule (the ⟳ mark goes): a scale
/// change is in every region and rolled out (at once when the deployment is stopped: nothing rolls out), a
/// stop has stopped it, a start has it rolled out. A progress line on a terminal only.
async fn wait(providers: &[Arc<dyn Provider>], items: &[BulkItem], limit: Duration) -> Vec<Option<bool>> {
    let started = tokio::time::Instant::now();
    let mut done: Vec<Option<bool>> =
        items.iter().map(|i| matches!(i.outcome, Outcome::Applied(_)).then_some(false)).collect();
    let progress = std::io::stderr().is_terminal();
    loop {
        let open: Vec<usize> = (0..items.len()).filter(|&i| done[i] == Some(false)).collect();
        let reads = futures::future::join_all(open.iter().map(|&i| {
            let p = providers[items[i].account].clone();
            let id = items[i].key.id.clone();
            async move { p.get(&id).await }
        }))
        .await;
        for (&i, read) in open.iter().zip(reads) {
            if let Ok(d) = read
                && settled(&items[i].planned, &d)
            {
                done[i] = Some(true);
            }
        }
        let total = done.iter().filter(|d| d.is_some()).count();
        let settled_n = done.iter().filter(|d| **d == Some(true)).count();
        let elapsed = started.elapsed();
        if progress {
            eprint!(
                "\r\x1b[2Kwaiting for the rollout: {settled_n} of {total} settled ({}s)",
                elapsed.as_secs()
            );
        }
        if settled_n == total || elapsed >= limit {
            break;
        }
        tokio::time::sleep(WAIT_EVERY.min(limit.saturating_sub(elapsed))).await;
    }
    if progress {
        eprintln!();
    }
    done
}

/// The dashboard's rule for a change that has rolled out.
fn settled(planned: &Planned, d: &Deployment) -> bool {
    let at_rest = matches!(d.status, Status::Disabled | Status::Stopped);
    match planned {
        Planned::Scale { update, .. } => at_rest || Change::Scale(update.clone()).rolled_out_in(d),
        Planned::Lifecycle { op: LifecycleOp::Stop, .. } => at_rest,
        Planned::Lifecycle { .. } => crate::model::edit::rolled_out(d),
    }
}

/// 0 when everything was applied (and rolled out, with `--wait`) or there was nothing to do; 4 otherwise.
fn exit_status(run: &Run) -> i32 {
    let applied = run.items.iter().all(|i| matches!(i.outcome, Outcome::Applied(_)));
    let rolled = run.rolled_out.iter().all(|r| *r != Some(false));
    let nothing_else = run.left_out.iter().all(|(_, nothing)| *nothing);
    if applied && rolled && nothing_else { 0 } else { 4 }
}
