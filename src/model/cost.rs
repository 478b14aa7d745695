//! The cost of a change, from the providers' own prices per replica (one replica of a hardware in a region for
//! one hour; see `app::cost` for where the prices come from and how they are kept). The same figures serve the
//! dashboard's reviews and `infertop scale --dry-run`.

use super::{DeploymentKey, Price, ProviderKind, RegionScale};
use crate::provider::ApiError;
use std::collections::BTreeMap;

/// The price of one replica for one hour, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// Asked for, no answer yet.
    Asking,
    Known {
        currency: String,
        per_hour: f64,
    },
    /// No price: the provider gives none for it, or its pricing failed. Says which.
    Unknown(String),
}

impl Unit {
    /// The unit a pricing answer gives: a usable price, or why there is none (never a guess).
    pub fn answered(kind: ProviderKind, result: Result<Option<Price>, ApiError>) -> Unit {
        match result {
            Ok(Some(p)) if p.per_hour.is_finite() && p.per_hour >= 0.0 => {
                Unit::Known { currency: p.currency, per_hour: p.per_hour }
            }
            Ok(Some(_)) => Unit::Unknown("the provider gave an unusable price".into()),
            Ok(None) => Unit::Unknown(format!("{kind} gives no price for this hardware")),
            Err(e) => Unit::Unknown(match e.status {
                Some(s) => format!("the price preview failed ({s})"),
                None => "the price preview failed".into(),
            }),
        }
    }
}

/// Providers that have a price per replica at all (Run:ai has none: nothing to ask).
pub fn has_prices(kind: ProviderKind) -> bool {
    !matches!(kind, ProviderKind::Runai)
}

pub fn no_price(kind: ProviderKind) -> Unit {
    Unit::Unknown(format!("{kind} gives no price"))
}

/// What one deployment costs now, as far as the prices go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Running<'a> {
    /// Replicas running (the provider's total per region, ready or starting) × the price of a replica there.
    Priced(&'a str, f64),
    /// A region's price is not known (`asking`: it is being asked for).
    Unpriced { asking: bool },
}

/// What `dep` costs per hour now: each region's replicas (its total, ready or starting) × the price of one
/// replica of its hardware there, as `unit(hardware, region)` has it. Unpriced when the provider has no prices,
/// the hardware or regions are not known, a region's price is not, or the regions' currencies differ.
pub fn running<'a>(
    dep: &super::Deployment,
    priced_kind: bool,
    unit: impl Fn(&str, &str) -> Option<&'a Unit>,
) -> Running<'a> {
    let hw = match dep.hardware.as_deref() {
        Some(hw) if priced_kind && !dep.regions.is_empty() => hw,
        _ => return Running::Unpriced { asking: false },
    };
    let mut out: Option<(&str, f64)> = None;
    for r in &dep.regions {
        match unit(hw, &r.region_id) {
            Some(Unit::Known { currency, per_hour }) => {
                let add = per_hour * f64::from(r.total);
                match &mut out {
                    Some((c, sum)) if *c == currency.as_str() => *sum += add,
                    // Several currencies in one deployment: not summed.
                    Some(_) => return Running::Unpriced { asking: false },
                    None => out = Some((currency.as_str(), add)),
                }
            }
            Some(Unit::Unknown(_)) => return Running::Unpriced { asking: false },
            Some(Unit::Asking) | None => return Running::Unpriced { asking: true },
        }
    }
    out.map_or(Running::Unpriced { asking: false }, |(c, sum)| Running::Priced(c, sum))
}

/// The cost of a change to one deployment, per region: what a review shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionCost {
    pub region_id: String,
    /// `(min, max)` today; None for a region the change adds.
    pub old: Option<(u32, u32)>,
    /// `(min, max)` after; None for a region the change removes.
    pub new: Option<(u32, u32)>,
    pub unit: Unit,
}

/// The change in cost per hour of one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct CostChange {
    pub key: Option<DeploymentKey>,
    pub name: String,
    pub regions: Vec<RegionCost>,
}

/// The cost per hour at one bound (every region at its minimum, or at its maximum), today and after.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Known {
        currency: String,
        old: f64,
        new: f64,
    },
    /// No replica runs at this bound, today or after: it costs nothing, whatever the price.
    Nothing,
    Asking,
    Unknown(String),
}

impl Figure {
    pub fn delta(&self) -> Option<f64> {
        match self {
            Figure::Known { old, new, .. } => Some(new - old),
            Figure::Nothing => Some(0.0),
            _ => None,
        }
    }
}

impl CostChange {
    /// Every region at its minimum.
    pub fn at_min(&self) -> Figure {
        self.figure(|(min, _)| min)
    }

    /// Every region at its maximum.
    pub fn at_max(&self) -> Figure {
        self.figure(|(_, max)| max)
    }

    /// Regions with no replica at the bound, today or after, need no price; every other one does.
    fn figure(&self, pick: fn((u32, u32)) -> u32) -> Figure {
        let mut out: Option<(String, f64, f64)> = None;
        let mut asking = false;
        for r in &self.regions {
            let (o, n) = (r.old.map(pick).unwrap_or(0), r.new.map(pick).unwrap_or(0));
            if o == 0 && n == 0 {
                continue;
            }
            match &r.unit {
                Unit::Known { currency, per_hour } => {
                    let (o, n) = (per_hour * f64::from(o), per_hour * f64::from(n));
                    match &mut out {
                        Some((c, so, sn)) if c == currency => {
                            *so += o;
                            *sn += n;
                        }
                        Some(_) => return Figure::Unknown("prices in several currencies".into()),
                        None => out = Some((currency.clone(), o, n)),
                    }
                }
                Unit::Unknown(why) => return Figure::Unknown(why.clone()),
                Unit::Asking => asking = true,
            }
        }
        match (asking, out) {
            (true, _) => Figure::Asking,
            (false, Some((currency, old, new))) => Figure::Known { currency, old, new },
            (false, None) => Figure::Nothing,
        }
    }
}

/// The change in cost per hour of several deployments, by currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostTotal {
    /// currency → (today, after), every region at its minimum.
    pub at_min: BTreeMap<String, (f64, f64)>,
    /// currency → (today, after), every region at its maximum.
    pub at_max: BTreeMap<String, (f64, f64)>,
    /// Deployments whose change has no price (left out of the sums).
    pub unpriced: usize,
    /// Of the unpriced, those whose price is being asked for.
    pub asking: usize,
}

/// Sums changes by currency; a deployment with either bound unpriced is counted, not summed.
pub fn total(changes: &[CostChange]) -> CostTotal {
    let mut t = CostTotal::default();
    for c in changes {
        let (min, max) = (c.at_min(), c.at_max());
        let unpriced = |f: &Figure| matches!(f, Figure::Asking | Figure::Unknown(_));
        if unpriced(&min) || unpriced(&max) {
            t.unpriced += 1;
            if min == Figure::Asking || max == Figure::Asking {
                t.asking += 1;
            }
            continue;
        }
        for (f, into) in [(min, &mut t.at_min), (max, &mut t.at_max)] {
            if let Figure::Known { currency, old, new } = f {
                let e = into.entry(currency).or_default();
                e.0 += old;
                e.1 += new;
            }
        }
    }
    t
}

impl CostChange {
    /// The change from `old` to `new` scale per region (a region in one only is added or removed), each
    /// region priced by `unit_of(region_id)`.
    pub fn between(
        key: Option<DeploymentKey>,
        name: &str,
        old: &[RegionScale],
        new: &[RegionScale],
        unit_of: impl Fn(&str) -> Unit,
    ) -> CostChange {
        let mut ids: Vec<&str> = old.iter().map(|r| r.region_id.as_str()).collect();
        for r in new {
            if !ids.contains(&r.region_id.as_str()) {
                ids.push(&r.region_id);
            }
        }
        let bounds = |list: &[RegionScale], id: &str| {
            list.iter().find(|r| r.region_id == id).map(|r| (r.scale.min, r.scale.max))
        };
        let regions = ids
            .into_iter()
            .map(|id| RegionCost {
                region_id: id.to_string(),
                old: bounds(old, id),
                new: bounds(new, id),
                unit: unit_of(id),
            })
            .collect();
        CostChange { key, name: name.to_string(), regions }
    }
}
