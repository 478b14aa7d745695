//! The demo fleet's life: now and then a replica restarts, a region loses and regains capacity, an image pull
//! fails and recovers, a scale-to-zero deployment wakes on traffic and sleeps again. The schedule is a
//! function of the seed and the simulated time alone (reproducible, also with `POST /_sim/advance`), repeats
//! every [`PERIOD`] simulated seconds with seeded jitter, and starts within the first seconds so that a
//! first-time viewer sees the panes move. Only the demo fleet lives, and only without `--static`.

use super::gcore::store::Store;
use super::rng::Rng;
use std::collections::BTreeMap;

/// Simulated seconds of one cycle of events.
pub const PERIOD: f64 = 30.0;

/// What happens to one region of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// One ready replica goes down (a container restart) and comes back through readiness.
    Restart,
    /// The region can place only one container of the deployment's flavor.
    CapacityLoss,
    /// The image cannot be pulled; no new container becomes ready.
    PullFailure,
    /// Traffic arrives at a deployment scaled to zero: demand rises, then falls back to zero.
    Wake,
}

/// One kind of event of the demo fleet: which Gcore deployment and region it touches.
#[derive(Debug, Clone, Copy)]
struct Target {
    deployment: &'static str,
    region: i64,
    change: Change,
    /// Earliest start within a cycle, simulated seconds; jitter adds up to [`JITTER`].
    start: f64,
    /// How long the change lasts (0 for an instant: a restart).
    lasts: f64,
}

const JITTER: f64 = 3.0;

/// The demo fleet's deployments chosen so that each change shows in the table (status, ready counts) and in
/// the regions pane.
const TARGETS: [Target; 5] = [
    Target { deployment: "qwen2-vl-batch", region: 91, change: Change::Wake, start: 0.5, lasts: 14.0 },
    Target { deployment: "rerank-v2", region: 91, change: Change::CapacityLoss, start: 1.0, lasts: 10.0 },
    Target { deployment: "mistral-7b-support", region: 38, change: Change::Restart, start: 2.0, lasts: 0.0 },
    Target { deployment: "llama-guard-3", region: 76, change: Change::PullFailure, start: 4.0, lasts: 12.0 },
    Target { deployment: "mistral-7b-support", region: 7, change: Change::Restart, start: 16.0, lasts: 0.0 },
];

/// The message Gcore shows for a region whose image cannot be pulled.
const PULL_ERROR: &str = "Back-off pulling image \"registry.gcore.com/inference/llama-guard-3:1.2\": \
                          ErrImagePull: unexpected EOF";

/// Demand a woken scale-to-zero deployment gets.
const WAKE_DEMAND: u32 = 2;

#[derive(Debug, Clone)]
pub struct Life {
    seed: u64,
    /// What each touched region had before the first change: restored when a change ends.
    saved: BTreeMap<(String, i64), Saved>,
}

#[derive(Debug, Clone, Copy)]
struct Saved {
    capacity: u32,
    demand: u32,
}

impl Life {
    pub fn new(seed: u64) -> Self {
        Life { seed, saved: BTreeMap::new() }
    }

    /// When event `i` starts in cycle `cycle`, in simulated seconds since start.
    fn start_of(&self, cycle: u64, i: usize) -> f64 {
        let mut rng = Rng::derive(self.seed, &format!("life/{cycle}/{i}"));
        cycle as f64 * PERIOD + TARGETS[i].start + rng.unit() * JITTER
    }

    /// Whether change `i` is in effect at `now`.
    fn active(&self, i: usize, now: f64) -> bool {
        let cycle = (now / PERIOD).floor().max(0.0) as u64;
        let t = self.start_of(cycle, i);
        t <= now && now < t + TARGETS[i].lasts
    }

    /// Whether instant event `i` happened in `(from, to]`.
    fn happened(&self, i: usize, from: f64, to: f64) -> bool {
        let first = (from / PERIOD).floor().max(0.0) as u64;
        let last = (to / PERIOD).floor().max(0.0) as u64;
        (first..=last.min(first + 2)).any(|c| {
            let t = self.start_of(c, i);
            from < t && t <= to
        })
    }

    /// The changes in effect at `now` and the instants in `(from, now]`, for tests and the README.
    pub fn changes(&self, from: f64, now: f64) -> Vec<(&'static str, i64, Change)> {
        (0..TARGETS.len())
            .filter(
                |&i| {
                    if TARGETS[i].lasts > 0.0 { self.active(i, now) } else { self.happened(i, from, now) }
                },
            )
            .map(|i| (TARGETS[i].deployment, TARGETS[i].region, TARGETS[i].change))
            .collect()
    }

    /// Applies the schedule to `store` as it moves from simulated second `from` to `now` (before its replicas
    /// step). A deployment the user deleted, stopped or moved out of the region is left alone.
    pub fn apply(&mut self, store: &mut Store, from: f64, now: f64) {
        for (i, t) in TARGETS.iter().enumerate() {
            let Some(d) = store.deployments.iter_mut().find(|d| d.name == t.deployment) else { continue };
            if d.stopped || d.deleting.is_some() {
                continue;
            }
            let Some(c) = d.containers.iter_mut().find(|c| c.region_id == t.region) else { continue };
            let saved = *self
                .saved
                .entry((t.deployment.to_string(), t.region))
                .or_insert(Saved { capacity: c.replicas.capacity, demand: d.demand });
            match t.change {
                Change::Restart => {
                    if self.happened(i, from, now) && c.replicas.ready > 0 {
                        c.replicas.ready -= 1;
                    }
                }
                Change::CapacityLoss => {
                    c.replicas.capacity = if self.active(i, now) { 1 } else { saved.capacity };
                }
                Change::PullFailure => {
                    let active = self.active(i, now);
                    if active && c.replicas.fault.is_none() {
                        c.replicas.fault = Some(PULL_ERROR.to_string());
                        // The failing pull is of a new container: the old ones are replaced one by one.
                        c.replicas.ready = c.replicas.ready.min(1);
                    } else if !active && c.replicas.fault.as_deref() == Some(PULL_ERROR) {
                        c.replicas.fault = None;
                    }
                }
                Change::Wake => {
                    // Only while the user has not set a demand of their own (scaled it by hand).
                    if d.demand == saved.demand || d.demand == WAKE_DEMAND {
                        d.demand = if self.active(i, now) { WAKE_DEMAND } else { saved.demand };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fleet::FleetSpec;
    use chrono::TimeZone;

    fn store() -> Store {
        let epoch = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Store::new(&FleetSpec::demo(), 1, epoch)
    }

    /// Each deployment's name, status, and each region's total, ready and error.
    type View = Vec<(String, String, Vec<(u32, u32, Option<String>)>)>;

    fn view(s: &Store) -> View {
        s.deployments
            .iter()
            .map(|d| {
                let rs = d
                    .containers
                    .iter()
                    .map(|c| (c.replicas.total, c.replicas.ready, c.replicas.error_message()))
                    .collect();
                (d.name.clone(), d.status().to_string(), rs)
            })
            .collect()
    }

    /// Every second for `secs` simulated seconds, the views seen.
    fn run(seed: Option<u64>, secs: u32) -> Vec<View> {
        let mut s = store();
        s.life = seed.map(Life::new);
        (1..=secs)
            .map(|t| {
                s.advance(t as f64);
                view(&s)
            })
            .collect()
    }

    #[test]
    fn each_kind_of_event_happens_within_the_first_cycle_and_ends() {
        let life = Life::new(1);
        let mut seen = std::collections::BTreeSet::new();
        for t in 1..=30 {
            for (_, _, c) in life.changes(t as f64 - 1.0, t as f64) {
                seen.insert(format!("{c:?}"));
            }
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
        // Something is in effect within the first ten seconds.
        assert!((1..=10).any(|t| !life.changes(0.0, t as f64).is_empty()));
    }

    #[test]
    fn the_fleet_moves_within_ten_seconds_and_comes_back() {
        let views = run(Some(1), 2 * PERIOD as u32);
        let still = run(None, 2 * PERIOD as u32);
        assert_ne!(views[9], still[9], "nothing moved within 10 s");
        // A woken scale-to-zero deployment, a pull error and a capacity loss all show in the first cycle.
        let all: String = views.iter().take(PERIOD as usize).map(|v| format!("{v:?}")).collect();
        assert!(all.contains("ErrImagePull"), "no pull failure");
        assert!(all.contains("No capacity available"), "no capacity loss");
        let woke = views.iter().any(|v| v.iter().any(|(n, _, rs)| n == "qwen2-vl-batch" && rs[0].1 > 0));
        assert!(woke, "the scale-to-zero deployment never woke");
        // Statuses come back to the static fleet's between events.
        let statuses = |v: &View| v.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect::<Vec<_>>();
        assert!(views.iter().any(|v| statuses(v) == statuses(&still[0])), "the fleet never recovered");
    }

    #[test]
    fn same_seed_same_life_other_seed_other_life() {
        assert_eq!(run(Some(7), 40), run(Some(7), 40));
        let a = Life::new(7);
        let b = Life::new(8);
        assert!((0..TARGETS.len()).any(|i| a.start_of(0, i) != b.start_of(0, i)));
    }
}
