//! The cost of the fleet and of a change, from the providers' own prices per replica.
//!
//! A price is always one replica of a hardware in a region for one hour, as the provider's pricing preview
//! answers it when asked for `max: 1` in that one region (Gcore `POST /cloud/v2/pricing/inference/deployments`,
//! Sesterce `POST /ai-inference/instances/pricing`). Neither document says whether its answer is for `max`
//! replicas or for one; with `max: 1` both readings give the same figure, so nothing is derived from an
//! assumption about that. Sesterce's `hourlyPrice` is not used: seed 004 does not say whether it is one
//! replica's price or the instance's (its example, 2.55 for 2 replicas of min 1 / max 4, fits neither test).
//! Run:ai has no price at all. Where there is no price, the cost is "unknown", never a guess.
//!
//! Prices are cached per (account, hardware, region) and asked again after [`PRICE_TTL_SECONDS`]; a failed or
//! unanswered ask is retried after [`RETRY_SECONDS`], without a toast. Only the hardware/region pairs of the
//! fleet are asked for, each once, however many deployments share them.
//!
//! A review (single scale edit, create, and the bulk and `$EDITOR` reviews) shows the change in cost per hour
//! at the new minimum and maximum against today's: when it opens, call [`open_review`] with one [`Reviewed`]
//! per deployment (it asks for missing prices in the user's lane) and draw `ui::cost::review_lines`; or call
//! [`ask_change`], then draw `ui::cost::lines` of [`change_cost`] per deployment (and [`total`]).

use super::state::State;
use super::update::Effect;
pub use crate::model::cost::{CostChange, CostTotal, Figure, RegionCost, Unit, total};
use crate::model::cost::{Running, has_prices, no_price};
use crate::model::{Deployment, DeploymentKey, Price, RegionScale};
use crate::provider::ApiError;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// A known price is asked for again after this long (prices change rarely).
pub const PRICE_TTL_SECONDS: i64 = 600;
/// A failed ask, or one never answered, is tried again after this long.
pub const RETRY_SECONDS: i64 = 120;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    unit: Unit,
    asked: DateTime<Utc>,
    /// An ask is out (a known price stays shown while it is renewed).
    in_flight: bool,
    /// The last ask failed: tried again sooner than a known answer is renewed.
    failed: bool,
}

/// The fleet's cost per hour now: replicas running × price per replica, by currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetCost {
    pub per_hour: BTreeMap<String, f64>,
    pub priced: usize,
    /// Deployments whose price per replica is not known (Run:ai, a failed preview, details not read yet).
    pub unpriced: usize,
    /// Of the unpriced, those whose price is being asked for.
    pub asking: usize,
}

/// One deployment a review shows the cost of (a new one has no key yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    pub account: usize,
    pub key: Option<DeploymentKey>,
    pub name: String,
    pub hardware: Option<String>,
    pub old: Vec<RegionScale>,
    pub new: Vec<RegionScale>,
}

/// Prices per replica, the fleet's cost, and what the open review shows the cost of.
#[derive(Debug, Clone, Default)]
pub struct Costs {
    /// account → hardware → region → price.
    units: HashMap<usize, AccountUnits>,
    /// Each account's cost; `fleet` is their sum.
    by_account: HashMap<usize, FleetCost>,
    /// When each account's sum must run again though its rows have not changed: its first price ask (or
    /// renewal, or retry) falling due.
    next_pass: HashMap<usize, DateTime<Utc>>,
    pub fleet: FleetCost,
    pub review: Vec<Reviewed>,
}

impl Costs {
    /// The price of one replica of `hardware` in `region` on `account`, as far as it is known.
    pub fn unit(&self, account: usize, hardware: &str, region: &str) -> Option<&Unit> {
        self.units.get(&account)?.get(hardware)?.get(region).map(|e| &e.unit)
    }

    fn entry(&self, account: usize, hardware: &str, region: &str) -> Option<&Entry> {
        self.units.get(&account)?.get(hardware)?.get(region)
    }

    fn set(&mut self, account: usize, hardware: &str, region: &str, e: Entry) {
        self.units
            .entry(account)
            .or_default()
            .entry(hardware.to_string())
            .or_default()
            .insert(region.to_string(), e);
    }

    /// Pairs the cache holds (for tests and the debug view).
    pub fn len(&self) -> usize {
        self.units.values().flat_map(|h| h.values()).map(|r| r.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a deployment costs per hour now, and in which currency: its replicas running × the price of one
/// replica in each region, from the same prices as the header's sum. None while any region's price is not
/// known (Run:ai has none; a preview failed or is being asked for).
pub fn deployment_cost(state: &State, account: usize, dep: &Deployment) -> Option<(String, f64)> {
    let kind = state.accounts.get(account)?.kind;
    match running(state.cost.units.get(&account), has_prices(kind), dep) {
        Running::Priced(currency, per_hour) => Some((currency.to_string(), per_hour)),
        Running::Unpriced { .. } => None,
    }
}

/// The price for a pair, where no ask is needed: Run:ai (none), no hardware known.
fn unit_for(state: &State, account: usize, hardware: Option<&str>, region: &str) -> Unit {
    let Some(kind) = state.accounts.get(account).map(|a| a.kind) else {
        return Unit::Unknown("no such account".into());
    };
    if !has_prices(kind) {
        return no_price(kind);
    }
    let Some(hw) = hardware else {
        return Unit::Unknown("hardware not read yet".into());
    };
    state.cost.unit(account, hw, region).cloned().unwrap_or(Unit::Asking)
}

/// Whether a pair should be asked for now: never asked, a known price grown old, a failure or a silence
/// grown old. At most one ask is out per pair.
fn due(e: Option<&Entry>, now: DateTime<Utc>) -> bool {
    due_at(e).is_none_or(|at| now >= at)
}

/// When a pair falls due (None: it is due, never asked).
fn due_at(e: Option<&Entry>) -> Option<DateTime<Utc>> {
    let e = e?;
    // A failure, or an answer lost (or still coming): asked again only after a while.
    let wait = if e.in_flight || e.failed { RETRY_SECONDS } else { PRICE_TTL_SECONDS };
    Some(e.asked + chrono::Duration::seconds(wait))
}

/// Asks for the pair when it is due; `user`: a review waits for it.
fn ask(state: &mut State, account: usize, hardware: &str, region: &str, user: bool, fx: &mut Vec<Effect>) {
    let Some(kind) = state.accounts.get(account).map(|a| a.kind) else { return };
    if !has_prices(kind) || hardware.is_empty() || region.is_empty() {
        return;
    }
    let now = state.now;
    let prev = state.cost.entry(account, hardware, region).cloned();
    if !due(prev.as_ref(), now) {
        return;
    }
    let unit = match prev {
        // A price already known stays shown while it is renewed.
        Some(Entry { unit: u @ Unit::Known { .. }, .. }) => u,
        _ => Unit::Asking,
    };
    state.cost.set(account, hardware, region, Entry { unit, asked: now, in_flight: true, failed: false });
    fx.push(Effect::ReplicaPrice {
        account,
        hardware: hardware.to_string(),
        region: region.to_string(),
        user,
    });
}

type AccountUnits = HashMap<String, HashMap<String, Entry>>;

/// Borrows everything: this runs for every row at every refresh.
fn running<'a>(units: Option<&'a AccountUnits>, priced_kind: bool, dep: &Deployment) -> Running<'a> {
    let by_hw = |hw: &str| units.and_then(|u| u.get(hw));
    crate::model::cost::running(dep, priced_kind, |hw, region| by_hw(hw)?.get(region).map(|e| &e.unit))
}

/// What a deployment's cost is summed from: its hardware, and each region's replicas.
#[derive(Debug, Clone, PartialEq)]
struct Inputs {
    hardware: Option<std::sync::Arc<str>>,
    regions: Vec<(String, u32)>,
}

impl Inputs {
    fn of(dep: &Deployment) -> Inputs {
        Inputs {
            hardware: dep.hardware.clone(),
            regions: dep.regions.iter().map(|r| (r.region_id.clone(), r.total)).collect(),
        }
    }
}

/// The cost inputs of an account's rows that have a details cache: their snapshot (see `State::snapshot`) can
/// change with a list or details read that changes no row. Taken before a refresh and handed to
/// [`on_account_refreshed`] after it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedInputs(Vec<(DeploymentKey, Inputs)>);

pub fn cached_inputs(state: &State, account: usize) -> CachedInputs {
    CachedInputs(
        state
            .details
            .keys()
            .filter_map(|k| state.index.get(k).map(|&i| &state.rows[i]))
            .filter(|r| r.account == account)
            .map(|r| (r.dep.key.clone(), Inputs::of(state.snapshot(r))))
            .collect(),
    )
}

/// An account's list or details batch was taken in: its cost is summed again only when something it is summed
/// from may have changed (`rows_changed`: a row changed, came or went; or a cached snapshot changed from
/// `before`), or when a price falls due. At rest, most refreshes cost no pass over the rows.
pub fn on_account_refreshed(
    state: &mut State,
    account: usize,
    rows_changed: bool,
    before: &CachedInputs,
    fx: &mut Vec<Effect>,
) {
    let waiting = state.cost.next_pass.get(&account).is_some_and(|&at| state.now < at);
    if waiting && !rows_changed && cached_inputs(state, account) == *before {
        return;
    }
    on_account_changed(state, account, fx);
}

/// An account's deployments changed (a list, details) or a price came back: asks for the prices of its
/// hardware/region pairs that are due, and sums its cost again. One pass over the rows, allocating only for
/// what it asks.
pub fn on_account_changed(state: &mut State, account: usize, fx: &mut Vec<Effect>) {
    let Some(kind) = state.accounts.get(account).map(|a| a.kind) else { return };
    let priced_kind = has_prices(kind);
    let mut sum = FleetCost::default();
    let mut wanted: Vec<(String, String)> = Vec::new();
    // The earliest a pair of this account falls due (one asked now falls due again after a retry's wait).
    let never = state.now + chrono::Duration::days(365);
    let mut next_pass = never;
    {
        let units = state.cost.units.get(&account);
        let mut seen: std::collections::HashSet<(&str, &str)> = Default::default();
        for row in state.rows.iter().filter(|r| r.account == account) {
            let dep = state.snapshot(row);
            if priced_kind && let Some(hw) = dep.hardware.as_deref() {
                let by_region = units.and_then(|u| u.get(hw));
                for r in &dep.regions {
                    let e = by_region.and_then(|m| m.get(&r.region_id));
                    if due(e, state.now) {
                        if seen.insert((hw, &r.region_id)) {
                            wanted.push((hw.to_string(), r.region_id.clone()));
                        }
                        next_pass = next_pass.min(state.now + chrono::Duration::seconds(RETRY_SECONDS));
                    } else if let Some(at) = due_at(e) {
                        next_pass = next_pass.min(at);
                    }
                }
            }
            match running(units, priced_kind, dep) {
                Running::Priced(currency, s) => {
                    sum.priced += 1;
                    match sum.per_hour.get_mut(currency) {
                        Some(v) => *v += s,
                        None => {
                            sum.per_hour.insert(currency.to_string(), s);
                        }
                    }
                }
                Running::Unpriced { asking } => {
                    sum.unpriced += 1;
                    sum.asking += usize::from(asking);
                }
            }
        }
    }
    for (hw, region) in wanted {
        ask(state, account, &hw, &region, false, fx);
    }
    state.cost.by_account.insert(account, sum);
    state.cost.next_pass.insert(account, next_pass);
    let mut fleet = FleetCost::default();
    for a in state.cost.by_account.values() {
        for (c, v) in &a.per_hour {
            *fleet.per_hour.entry(c.clone()).or_default() += v;
        }
        fleet.priced += a.priced;
        fleet.unpriced += a.unpriced;
        fleet.asking += a.asking;
    }
    if fleet != state.cost.fleet {
        state.cost.fleet = fleet;
        state.dirty = true;
    }
}

/// A deployment's details came in: its account is summed again.
pub fn on_detail(state: &mut State, key: &DeploymentKey, fx: &mut Vec<Effect>) {
    if let Some(account) = state.index.get(key).and_then(|&i| state.rows.get(i)).map(|r| r.account) {
        on_account_changed(state, account, fx);
    }
}

/// A price came back. A failure is kept as "unknown" for the pair (shown where it matters), never toasted:
/// a pricing endpoint that is down must not bury the screen.
pub fn on_priced(
    state: &mut State,
    account: usize,
    hardware: String,
    region: String,
    result: Result<Option<Price>, ApiError>,
    fx: &mut Vec<Effect>,
) {
    let Some(kind) = state.accounts.get(account).map(|a| a.kind) else { return };
    let failed = result.is_err();
    if let Err(e) = &result {
        tracing::debug!(account, hardware = %hardware, region = %region, error = %e, "price preview failed");
    }
    let unit = match (&result, state.cost.unit(account, &hardware, &region)) {
        // A renewal that failed keeps the price it renews.
        (Err(_), Some(u @ Unit::Known { .. })) => u.clone(),
        _ => Unit::answered(kind, result),
    };
    let asked = state.cost.entry(account, &hardware, &region).map(|e| e.asked).unwrap_or(state.now);
    state.cost.set(account, &hardware, &region, Entry { unit, asked, in_flight: false, failed });
    state.dirty = true;
    on_account_changed(state, account, fx);
    if state.sort == super::state::SortKey::Price {
        super::table::resort(state);
    }
}

/// The cost change of a deployment of `account` on `hardware` from `old` to `new` scale per region.
pub fn change_cost_of(
    state: &State,
    account: usize,
    hardware: Option<&str>,
    key: Option<DeploymentKey>,
    name: &str,
    old: &[RegionScale],
    new: &[RegionScale],
) -> CostChange {
    CostChange::between(key, name, old, new, |region| unit_for(state, account, hardware, region))
}

/// The cost change of the deployment `key` from `old` to `new` scale per region (what the single, bulk and
/// editor reviews show). A deployment no longer in the table is unpriced.
pub fn change_cost(
    state: &State,
    key: &DeploymentKey,
    old: &[RegionScale],
    new: &[RegionScale],
) -> CostChange {
    match state.index.get(key).and_then(|&i| state.rows.get(i)) {
        Some(row) => {
            let dep = state.snapshot(row);
            change_cost_of(
                state,
                row.account,
                dep.hardware.as_deref(),
                Some(key.clone()),
                &dep.name,
                old,
                new,
            )
        }
        None => CostChange {
            key: Some(key.clone()),
            name: key.id.clone(),
            regions: vec![RegionCost {
                region_id: String::new(),
                old: None,
                new: None,
                unit: Unit::Unknown("the deployment is no longer listed".into()),
            }],
        },
    }
}

/// Asks (in the user's lane) for the prices a review of `key` going to `new` needs and has not got.
pub fn ask_change(state: &mut State, key: &DeploymentKey, new: &[RegionScale], fx: &mut Vec<Effect>) {
    let Some(row) = state.index.get(key).and_then(|&i| state.rows.get(i)) else { return };
    let account = row.account;
    let dep = state.snapshot(row);
    let Some(hw) = dep.hardware.clone() else { return };
    let mut regions: Vec<String> = dep.regions.iter().map(|r| r.region_id.clone()).collect();
    regions.extend(new.iter().map(|r| r.region_id.clone()));
    for region in regions {
        ask(state, account, &hw, &region, true, fx);
    }
}

/// Opens the cost part of a review: what it shows, and the prices it needs asked for.
pub fn open_review(state: &mut State, items: Vec<Reviewed>, fx: &mut Vec<Effect>) {
    for it in &items {
        let Some(hw) = it.hardware.clone() else { continue };
        for r in it.old.iter().chain(&it.new) {
            ask(state, it.account, &hw, &r.region_id, true, fx);
        }
    }
    state.cost.review = items;
    state.dirty = true;
}

/// The review of an edit in `form`: a scale change shows its cost; other changes cost nothing more.
pub fn open_edit_review(
    state: &mut State,
    form: &super::form::Form,
    change: &crate::model::edit::Change,
    fx: &mut Vec<Effect>,
) {
    match change {
        crate::model::edit::Change::Scale(new) => open_scale_review(state, form, new, fx),
        crate::model::edit::Change::Probes(_) | crate::model::edit::Change::Settings(_) => {
            state.cost.review.clear()
        }
    }
}

/// The review of a scale edit of `form`'s deployment going to `new`.
pub fn open_scale_review(
    state: &mut State,
    form: &super::form::Form,
    new: &crate::model::ScaleUpdate,
    fx: &mut Vec<Effect>,
) {
    let item = Reviewed {
        account: form.account,
        key: Some(form.key.clone()),
        name: form.base.name.clone(),
        hardware: form.base.hardware.as_deref().map(String::from),
        old: crate::model::ScaleUpdate::from_deployment(&form.base).regions,
        new: new.regions.clone(),
    };
    open_review(state, vec![item], fx);
}

/// The review of a new deployment: nothing today, its regions after.
pub fn open_create_review(
    state: &mut State,
    account: usize,
    spec: &crate::model::CreateSpec,
    fx: &mut Vec<Effect>,
) {
    let hardware = (!spec.hardware_id.is_empty()).then(|| spec.hardware_id.clone());
    let item = Reviewed {
        account,
        key: None,
        name: spec.name.clone(),
        hardware,
        old: Vec::new(),
        new: spec.regions.clone(),
    };
    open_review(state, vec![item], fx);
}

/// The cost changes the open review shows.
pub fn review_changes(state: &State) -> Vec<CostChange> {
    state
        .cost
        .review
        .iter()
        .map(|r| {
            change_cost_of(state, r.account, r.hardware.as_deref(), r.key.clone(), &r.name, &r.old, &r.new)
        })
        .collect()
}

/// Asks (in the user's lane) for the prices of a configuration being created, per region.
pub fn ask_spec(state: &mut State, account: usize, spec: &crate::model::CreateSpec, fx: &mut Vec<Effect>) {
    if spec.hardware_id.is_empty() {
        return;
    }
    for r in &spec.regions {
        ask(state, account, &spec.hardware_id, &r.region_id, true, fx);
    }
}

/// The price of a configuration at its maximum scale, from the prices per replica: right whether a
/// provider's preview prices `max` replicas or one (the `pricing-preview` ambiguity).
pub fn spec_price_text(state: &State, account: usize, spec: &crate::model::CreateSpec) -> String {
    let hw = (!spec.hardware_id.is_empty()).then_some(spec.hardware_id.as_str());
    match change_cost_of(state, account, hw, None, &spec.name, &[], &spec.regions).at_max() {
        Figure::Known { currency, new, .. } => Price { currency, per_hour: new, per_month: None }.summary(),
        Figure::Nothing => "nothing runs at max scale (0.00/h)".into(),
        Figure::Asking => "asking the provider…".into(),
        Figure::Unknown(why) => format!("unknown ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    fn eur(per_hour: f64) -> Unit {
        Unit::Known { currency: "EUR".into(), per_hour }
    }

    fn region(id: &str, old: Option<(u32, u32)>, new: Option<(u32, u32)>, unit: Unit) -> RegionCost {
        RegionCost { region_id: id.into(), old, new, unit }
    }

    fn change(regions: Vec<RegionCost>) -> CostChange {
        CostChange { key: None, name: "d".into(), regions }
    }

    #[test]
    fn a_bound_sums_replicas_times_the_price_per_region_and_added_or_removed_regions_count() {
        let c = change(vec![
            region("a", Some((1, 2)), Some((2, 4)), eur(1.5)),
            region("b", None, Some((1, 1)), eur(2.0)),
            region("c", Some((1, 3)), None, eur(0.5)),
        ]);
        assert_eq!(c.at_min(), Figure::Known { currency: "EUR".into(), old: 2.0, new: 5.0 });
        assert_eq!(c.at_max(), Figure::Known { currency: "EUR".into(), old: 4.5, new: 8.0 });
    }

    #[test]
    fn a_region_with_no_replica_at_the_bound_needs_no_price_and_unknown_wins_over_asking() {
        let c = change(vec![region("a", Some((0, 2)), Some((0, 3)), Unit::Unknown("none".into()))]);
        assert_eq!(c.at_min(), Figure::Nothing);
        assert_eq!(c.at_max(), Figure::Unknown("none".into()));
        let c = change(vec![
            region("a", Some((1, 1)), Some((1, 2)), Unit::Asking),
            region("b", Some((1, 1)), Some((1, 2)), Unit::Unknown("down".into())),
        ]);
        assert_eq!(c.at_max(), Figure::Unknown("down".into()));
        let c = change(vec![region("a", Some((1, 1)), Some((1, 2)), Unit::Asking)]);
        assert_eq!(c.at_max(), Figure::Asking);
        assert_eq!(c.at_max().delta(), None, "no figure while asking");
    }

    #[test]
    fn several_currencies_in_one_deployment_are_not_summed() {
        let usd = Unit::Known { currency: "USD".into(), per_hour: 1.0 };
        let c = change(vec![
            region("a", Some((1, 1)), Some((1, 1)), eur(1.0)),
            region("b", Some((1, 1)), None, usd),
        ]);
        assert!(matches!(c.at_min(), Figure::Unknown(w) if w.contains("currencies")));
    }

    #[test]
    fn the_total_sums_by_currency_and_counts_the_unpriced_apart() {
        let usd = Unit::Known { currency: "USD".into(), per_hour: 3.0 };
        let t = total(&[
            change(vec![region("a", Some((1, 2)), Some((1, 3)), eur(2.0))]),
            change(vec![region("a", Some((1, 2)), Some((1, 3)), eur(1.0))]),
            change(vec![region("a", Some((0, 1)), Some((0, 2)), usd)]),
            change(vec![region("a", Some((1, 1)), Some((1, 2)), Unit::Unknown("runai".into()))]),
            change(vec![region("a", Some((1, 1)), Some((1, 2)), Unit::Asking)]),
        ]);
        assert_eq!(t.at_max["EUR"], (6.0, 9.0));
        assert_eq!(t.at_max["USD"], (3.0, 6.0));
        assert_eq!(t.at_min["EUR"], (3.0, 3.0));
        assert!(!t.at_min.contains_key("USD"), "nothing runs at min: no figure in that currency");
        assert_eq!((t.unpriced, t.asking), (2, 1));
    }

    fn caps() -> crate::provider::Capabilities {
        crate::provider::Capabilities {
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

    /// 10,000 deployments on 3 flavors × 3 regions (Gcore) and 2,000 on Run:ai.
    fn big_fleet(state: &mut State) {
        use crate::model::{RegionReplicas, Scale, Status};
        let mut fleets: Vec<Vec<Deployment>> = vec![Vec::new(), Vec::new()];
        for i in 0..12_000 {
            let account = usize::from(i >= 10_000);
            let provider = [ProviderKind::Gcore, ProviderKind::Runai][account];
            let key = DeploymentKey { provider, account: "a".into(), id: format!("d{i}") };
            let mut d = Deployment::new(key, format!("d{i}"), Status::Active);
            d.hardware = Some(format!("flavor-{}", i % 3).into());
            d.regions.push(RegionReplicas {
                region_id: format!("{}", i % 3),
                region_name: None,
                ready: 2,
                total: 2,
                scale: Scale { min: 1, max: 3, ..Default::default() },
                error: None,
            });
            fleets[account].push(d);
        }
        for (account, deps) in fleets.into_iter().enumerate() {
            let fx = crate::app::update(
                state,
                crate::app::Msg::Fleet { account, at: state.now, result: Ok(deps) },
            );
            let asks: Vec<_> = fx.iter().filter(|e| matches!(e, Effect::ReplicaPrice { .. })).collect();
            // Gcore: one ask per flavor and region in the fleet (3 × 3 but `i % 3` pairs them: 3); Run:ai: none.
            assert_eq!(asks.len(), if account == 0 { 3 } else { 0 }, "{asks:?}");
        }
    }

    #[test]
    fn ten_thousand_deployments_ask_once_per_hardware_and_region() {
        use crate::app::{AccountState, Msg, update};
        let now = Utc::now();
        let accounts = vec![
            AccountState::new("g", ProviderKind::Gcore, caps()),
            AccountState::new("r", ProviderKind::Runai, caps()),
        ];
        let mut state = State::new(accounts, std::time::Duration::from_secs(5), now);
        big_fleet(&mut state);
        assert_eq!(state.cost.fleet.asking, 10_000);
        // The same fleet again: nothing more is asked while the asks are out.
        let again = update(&mut state, Msg::Fleet { account: 0, at: now, result: Ok(Vec::new()) });
        assert!(!again.iter().any(|e| matches!(e, Effect::ReplicaPrice { .. })));
        big_fleet_answers(&mut state);
        let f = &state.cost.fleet;
        assert_eq!(
            (f.priced, f.unpriced, f.asking),
            (0, 2_000, 0),
            "the emptied Gcore list left only Run:ai"
        );
    }

    fn big_fleet_answers(state: &mut State) {
        for i in 0..3 {
            let price = Price { currency: "EUR".into(), per_hour: 1.0 + i as f64, per_month: None };
            crate::app::update(
                state,
                crate::app::Msg::ReplicaPriced {
                    account: 0,
                    hardware: format!("flavor-{i}"),
                    region: format!("{i}"),
                    result: Ok(Some(price)),
                },
            );
        }
    }

    #[test]
    fn the_fleet_total_is_running_replicas_times_the_price_per_replica() {
        let now = Utc::now();
        let accounts = vec![
            crate::app::AccountState::new("g", ProviderKind::Gcore, caps()),
            crate::app::AccountState::new("r", ProviderKind::Runai, caps()),
        ];
        let mut state = State::new(accounts, std::time::Duration::from_secs(5), now);
        big_fleet(&mut state);
        big_fleet_answers(&mut state);
        let f = &state.cost.fleet;
        // 10,000 deployments of 2 replicas each, a third of them at 1, 2 and 3 EUR per replica-hour.
        let want: f64 = (0..10_000).map(|i| 2.0 * (1.0 + (i % 3) as f64)).sum();
        assert_eq!((f.priced, f.unpriced, f.asking), (10_000, 2_000, 0));
        assert!((f.per_hour["EUR"] - want).abs() < 1e-6, "{} vs {want}", f.per_hour["EUR"]);
    }

    #[test]
    fn a_price_is_asked_again_only_when_it_has_grown_old() {
        let at = Utc::now();
        let e = |in_flight, failed| Entry { unit: eur(1.0), asked: at, in_flight, failed };
        let later = |s| at + chrono::Duration::seconds(s);
        assert!(due(None, at));
        assert!(!due(Some(&e(false, false)), later(RETRY_SECONDS)));
        assert!(due(Some(&e(false, false)), later(PRICE_TTL_SECONDS)));
        assert!(!due(Some(&e(true, false)), later(RETRY_SECONDS - 1)), "one ask out at a time");
        assert!(due(Some(&e(true, false)), later(RETRY_SECONDS)), "a lost answer is asked again");
        assert!(due(Some(&e(false, true)), later(RETRY_SECONDS)), "a failure is retried sooner");
    }
}
