//! A bulk scale change: per field "leave", "set to N", "+N" or "−N", applied to every region of a deployment.
//! Turning it into one deployment's [`ScaleUpdate`] is domain logic (it can fail: below zero, a field the
//! provider does not have); the documented limits are then checked by [`super::validate`], once.

use super::edit::provider_name;
use super::text::sanitize;
use super::{
    Deployment, DeploymentKey, ProviderKind, RegionReplicas, RegionScale, Scale, ScaleUpdate, Status,
};
use std::fmt;

/// What to do with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScaleOp {
    #[default]
    Leave,
    Set(u32),
    Add(u32),
    Sub(u32),
}

impl ScaleOp {
    /// `""` leaves, `N` (or `=N`) sets, `+N` adds, `-N` or `−N` subtracts.
    pub fn parse(s: &str) -> Result<ScaleOp, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(ScaleOp::Leave);
        }
        let (make, digits): (fn(u32) -> ScaleOp, &str) = if let Some(r) = s.strip_prefix('+') {
            (ScaleOp::Add, r)
        } else if let Some(r) = s.strip_prefix('-').or_else(|| s.strip_prefix('−')) {
            (ScaleOp::Sub, r)
        } else if let Some(r) = s.strip_prefix('=') {
            (ScaleOp::Set, r)
        } else {
            (ScaleOp::Set, s)
        };
        match digits.trim().parse::<u32>() {
            Ok(n) => Ok(make(n)),
            Err(_) => Err("write N to set, +N or −N to change, or leave it empty".into()),
        }
    }

    pub fn is_leave(self) -> bool {
        self == ScaleOp::Leave
    }

    /// The new value, or why there is none.
    fn apply(self, old: Option<u32>) -> Result<Option<u32>, String> {
        match (self, old) {
            (ScaleOp::Leave, v) => Ok(v),
            (ScaleOp::Set(n), _) => Ok(Some(n)),
            (ScaleOp::Add(n), Some(v)) => v.checked_add(n).map(Some).ok_or_else(|| "too large".into()),
            (ScaleOp::Sub(n), Some(v)) => {
                v.checked_sub(n).map(Some).ok_or_else(|| format!("{v} − {n} is below 0"))
            }
            (_, None) => Err("is unset: only \"set to N\" can give it a value".into()),
        }
    }
}

impl fmt::Display for ScaleOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaleOp::Leave => f.write_str("leave"),
            ScaleOp::Set(n) => write!(f, "set to {n}"),
            ScaleOp::Add(n) => write!(f, "+{n}"),
            ScaleOp::Sub(n) => write!(f, "−{n}"),
        }
    }
}

/// The fields a bulk scale change touches; every other setting of every region is sent back as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkScale {
    pub min: ScaleOp,
    pub max: ScaleOp,
    /// Gcore and Sesterce only (Run:ai has no cooldown).
    pub cooldown: ScaleOp,
}

impl BulkScale {
    pub fn is_noop(&self) -> bool {
        self.min.is_leave() && self.max.is_leave() && self.cooldown.is_leave()
    }

    /// `min set to 0, max +1`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [("min", self.min), ("max", self.max), ("cooldown", self.cooldown)]
            .into_iter()
            .filter(|(_, op)| !op.is_leave())
            .map(|(name, op)| format!("{name} {op}"))
            .collect();
        if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
    }

    /// The deployment's scale section with the change applied in every region, or why it cannot take it
    /// (before the provider's limits, which [`super::validate::scale_update`] checks).
    pub fn adjust(&self, d: &Deployment) -> Result<ScaleUpdate, String> {
        self.adjust_where(d, |_| true)
    }

    /// [`Self::adjust`] in the regions `pick` names only; the others are sent back as read.
    pub fn adjust_where(
        &self,
        d: &Deployment,
        pick: impl Fn(&RegionReplicas) -> bool,
    ) -> Result<ScaleUpdate, String> {
        if !self.cooldown.is_leave() && d.key.provider == ProviderKind::Runai {
            return Err("Run:ai has no cooldown".into());
        }
        let mut regions = Vec::with_capacity(d.regions.len());
        for r in &d.regions {
            if !pick(r) {
                regions.push(RegionScale { region_id: r.region_id.clone(), scale: r.scale.clone() });
                continue;
            }
            let at = |field: &str, e: String| format!("{field} in {}: {e}", r.display_name());
            let mut s: Scale = r.scale.clone();
            s.min = self.min.apply(Some(s.min)).map_err(|e| at("min", e))?.unwrap_or(s.min);
            s.max = self.max.apply(Some(s.max)).map_err(|e| at("max", e))?.unwrap_or(s.max);
            s.cooldown_seconds = self.cooldown.apply(s.cooldown_seconds).map_err(|e| at("cooldown", e))?;
            regions.push(RegionScale { region_id: r.region_id.clone(), scale: s });
        }
        Ok(ScaleUpdate { regions })
    }
}

/// The reason a deployment already as asked is left out: there is nothing to do for it.
pub const NOTHING_TO_CHANGE: &str = "already as asked: nothing to change";

/// One region of a planned scale change (Run:ai: its one autoscaling block).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionDelta {
    pub region_id: String,
    pub name: String,
    pub old: Scale,
    pub new: Scale,
}

impl RegionDelta {
    /// `min 1 → 0`, `max 3 → 4`: only the fields that change.
    pub fn changes(&self) -> Vec<String> {
        let (a, b) = (&self.old, &self.new);
        let mut out = Vec::new();
        if a.min != b.min {
            out.push(format!("min {} → {}", a.min, b.min));
        }
        if a.max != b.max {
            out.push(format!("max {} → {}", a.max, b.max));
        }
        if a.cooldown_seconds != b.cooldown_seconds {
            let s = |v: Option<u32>| v.map(|v| format!("{v}s")).unwrap_or_else(|| "unset".into());
            out.push(format!("cooldown {} → {}", s(a.cooldown_seconds), s(b.cooldown_seconds)));
        }
        out
    }
}

/// Where one deployment's change stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not sent yet (review).
    Ready,
    Sent,
    Applied(String),
    /// Written, but the read-back does not hold every field as asked: which.
    Partial(String),
    /// Another writer changed it since the review: nothing sent.
    Conflict(String),
    Refused(String),
    /// The write may or may not have landed.
    Unknown(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Ready => "ready",
            Outcome::Sent => "sending",
            Outcome::Applied(_) => "applied",
            Outcome::Partial(_) => "partial",
            Outcome::Conflict(_) => "conflict",
            Outcome::Refused(_) => "refused",
            Outcome::Unknown(_) => "unknown",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Outcome::Ready | Outcome::Sent => "",
            Outcome::Applied(s)
            | Outcome::Partial(s)
            | Outcome::Conflict(s)
            | Outcome::Refused(s)
            | Outcome::Unknown(s) => s,
        }
    }
}

/// A marked deployment that gets nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub key: DeploymentKey,
    pub name: String,
    pub why: String,
}

/// `3 applied · 1 conflict · 1 refused · 0 unknown` from each deployment's outcome label (partial only when
/// there is one; `sending` as waiting).
pub fn tally<'a>(labels: impl Iterator<Item = &'a str> + Clone, left_out: usize) -> String {
    let count = |l: &str| labels.clone().filter(|x| *x == l).count();
    let mut parts: Vec<String> =
        ["applied", "conflict", "refused", "unknown"].iter().map(|l| format!("{} {l}", count(l))).collect();
    if count("partial") > 0 {
        parts.insert(1, format!("{} partial", count("partial")));
    }
    if count("sending") > 0 {
        parts.push(format!("{} waiting", count("sending")));
    }
    if left_out > 0 {
        parts.push(format!("{left_out} left out"));
    }
    parts.join(" · ")
}

/// Whether `r` is the region `name` names: its id, or its name in any case.
pub fn is_region(r: &RegionReplicas, name: &str) -> bool {
    r.region_id == name || r.display_name().eq_ignore_ascii_case(name)
}

/// One deployment's scale change, planned from a full record of it (`details`: the record is one, not a list
/// summary): the scale section to send and the regions that change, old and new; or why it is left out.
/// `region`: only the region of that id or name changes. The documented limits are checked here, once.
pub fn plan_scale(
    dep: &Deployment,
    can_scale: bool,
    details: bool,
    change: &BulkScale,
    region: Option<&str>,
) -> Result<(ScaleUpdate, Vec<RegionDelta>), String> {
    let provider = dep.key.provider;
    if !can_scale {
        return Err(format!("{} does not offer scale edits", provider_name(provider)));
    }
    if matches!(dep.status, Status::Deleting | Status::PhaseDeleting | Status::Deleted | Status::Terminating)
    {
        return Err(format!("it is {}: nothing to scale", dep.status.label()));
    }
    if !details || dep.regions.is_empty() {
        return Err("details not read yet: wait for them to load, then try again".into());
    }
    if let Some(name) = region
        && !dep.regions.iter().any(|r| is_region(r, name))
    {
        let names: Vec<String> = dep.regions.iter().map(|r| r.display_name()).collect();
        return Err(format!("it has no region {} (it runs in {})", sanitize(name), names.join(", ")));
    }
    let update = change.adjust_where(dep, |r| region.is_none_or(|n| is_region(r, n)))?;
    let errors = super::validate::scale_update(provider, &update);
    if !errors.is_empty() {
        let why: Vec<String> =
            errors.iter().map(|e| limit_text(provider, dep, &e.field, &e.message)).collect();
        return Err(why.join("; "));
    }
    let regions: Vec<RegionDelta> = dep
        .regions
        .iter()
        .zip(&update.regions)
        .filter(|(r, u)| r.scale != u.scale)
        .map(|(r, u)| RegionDelta {
            region_id: r.region_id.clone(),
            name: if provider == ProviderKind::Runai { "autoscaling".into() } else { r.display_name() },
            old: r.scale.clone(),
            new: u.scale.clone(),
        })
        .collect();
    if regions.is_empty() {
        return Err(NOTHING_TO_CHANGE.into());
    }
    Ok((update, regions))
}

/// A validation message with the region named (`regions[1].scale.min` → `Amsterdam`).
fn limit_text(provider: ProviderKind, dep: &Deployment, field: &str, message: &str) -> String {
    let region = field
        .strip_prefix("regions[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| dep.regions.get(n));
    match region {
        Some(r) if provider != ProviderKind::Runai => format!("{} in {}", message, r.display_name()),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentKey, RegionReplicas, Status};

    fn dep(p: ProviderKind, scales: &[(u32, u32, Option<u32>)]) -> Deployment {
        let key = DeploymentKey { provider: p, account: "a".into(), id: "1".into() };
        let mut d = Deployment::new(key, "x", Status::Active);
        for (i, &(min, max, cooldown)) in scales.iter().enumerate() {
            d.regions.push(RegionReplicas {
                region_id: i.to_string(),
                region_name: Some(format!("r{i}").into()),
                ready: 1,
                total: 1,
                scale: Scale { min, max, cooldown_seconds: cooldown, ..Default::default() },
                error: None,
            });
        }
        d
    }

    #[test]
    fn ops_parse_as_written() {
        assert_eq!(ScaleOp::parse(""), Ok(ScaleOp::Leave));
        assert_eq!(ScaleOp::parse("0"), Ok(ScaleOp::Set(0)));
        assert_eq!(ScaleOp::parse("=3"), Ok(ScaleOp::Set(3)));
        assert_eq!(ScaleOp::parse("+1"), Ok(ScaleOp::Add(1)));
        assert_eq!(ScaleOp::parse("-2"), Ok(ScaleOp::Sub(2)));
        assert_eq!(ScaleOp::parse("−2"), Ok(ScaleOp::Sub(2)));
        assert!(ScaleOp::parse("+x").is_err());
    }

    #[test]
    fn every_region_moves_and_the_rest_stays() {
        let d = dep(ProviderKind::Gcore, &[(1, 3, Some(60)), (2, 4, None)]);
        let b = BulkScale { max: ScaleOp::Add(1), ..Default::default() };
        let u = b.adjust(&d).unwrap();
        assert_eq!((u.regions[0].scale.min, u.regions[0].scale.max), (1, 4));
        assert_eq!((u.regions[1].scale.min, u.regions[1].scale.max), (2, 5));
        assert_eq!(u.regions[0].scale.cooldown_seconds, Some(60));
    }

    /// Issue 25: `+N` adds N (not one) to every region's value, each from its own; past `u32::MAX` it says so.
    #[test]
    fn plus_n_adds_n_to_each_region_from_its_own_value() {
        assert_eq!(ScaleOp::parse(" +3 "), Ok(ScaleOp::Add(3)));
        assert_eq!(ScaleOp::parse("+ 12"), Ok(ScaleOp::Add(12)));
        assert_eq!(ScaleOp::Add(3).to_string(), "+3");
        let d = dep(ProviderKind::Gcore, &[(1, 3, Some(60)), (0, 7, Some(300))]);
        let b = BulkScale { min: ScaleOp::Add(2), max: ScaleOp::Add(3), cooldown: ScaleOp::Add(30) };
        assert_eq!(b.summary(), "min +2, max +3, cooldown +30");
        let u = b.adjust(&d).unwrap();
        let got: Vec<(u32, u32, Option<u32>)> =
            u.regions.iter().map(|r| (r.scale.min, r.scale.max, r.scale.cooldown_seconds)).collect();
        assert_eq!(got, [(3, 6, Some(90)), (2, 10, Some(330))]);
        assert_eq!(
            BulkScale { max: ScaleOp::Add(0), ..Default::default() }.adjust(&d).unwrap().regions[1].scale.max,
            7
        );
        let top = dep(ProviderKind::Gcore, &[(1, u32::MAX - 1, None)]);
        let u = BulkScale { max: ScaleOp::Add(1), ..Default::default() }.adjust(&top).unwrap();
        assert_eq!(u.regions[0].scale.max, u32::MAX);
        let e = BulkScale { max: ScaleOp::Add(2), ..Default::default() }.adjust(&top).unwrap_err();
        assert_eq!(e, "max in r0: too large");
    }

    #[test]
    fn what_cannot_be_done_says_why() {
        let d = dep(ProviderKind::Gcore, &[(0, 3, None)]);
        let e = BulkScale { min: ScaleOp::Sub(1), ..Default::default() }.adjust(&d).unwrap_err();
        assert!(e.contains("min in r0") && e.contains("below 0"), "{e}");
        let e = BulkScale { cooldown: ScaleOp::Add(5), ..Default::default() }.adjust(&d).unwrap_err();
        assert!(e.contains("cooldown in r0: is unset"), "{e}");
        let r = dep(ProviderKind::Runai, &[(1, 2, None)]);
        let e = BulkScale { cooldown: ScaleOp::Set(5), ..Default::default() }.adjust(&r).unwrap_err();
        assert_eq!(e, "Run:ai has no cooldown");
    }
}
