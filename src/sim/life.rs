//! The demo fleet's life: now and then a replica restarts, a region loses and regains capacity, a container
//! fails to start and recovers, a scale-to-zero deployment wakes on traffic and sleeps again, the load rises
//! and the autoscaler adds containers. Each provider's deployments live through that provider's own
//! documented states only: Gcore and Sesterce statuses (ACTIVE, PARTIALLYDEPLOYED, DEPLOYING, PENDING) and
//! per-region `ready/total` with `error_message`/`errorMessage`; Run:ai phases (Running, Creating,
//! Initializing, Pending) with `runningPods` and the pods list. The schedule is a function of the seed and
//! the simulated time alone (reproducible, also with `POST /_sim/advance`), repeats every [`PERIOD`] simulated
//! seconds with seeded jitter, and starts within the first seconds for every provider so that a first-time
//! viewer sees the panes move. Only the demo fleet lives, and only without `--static`.
//!
//! Each provider's store keeps its own [`Life`] (the stores step time separately); all of them read the one
//! schedule, [`TARGETS`].

use super::engine::Replicas;
use super::rng::Rng;
use crate::model::ProviderKind;
use std::collections::BTreeMap;

/// Simulated seconds of one cycle of events.
pub const PERIOD: f64 = 30.0;

/// What happens to one region (Run:ai: the cluster) of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// One ready replica goes down (a container or pod restart) and comes back through readiness.
    Restart,
    /// The region can place only one container (pod) of the deployment's hardware.
    CapacityLoss,
    /// New containers fail with this message (the provider's own wording); no new one becomes ready.
    Fault(&'static str),
    /// Traffic arrives: the load asks for this many replicas, then falls back. On a deployment scaled to zero
    /// (allowed by Gcore and Run:ai, and by Sesterce with an HTTP trigger) this is a wake from zero.
    Load(u32),
}

/// One event of the demo fleet: which deployment and region it touches.
#[derive(Debug, Clone, Copy)]
struct Target {
    provider: ProviderKind,
    deployment: &'static str,
    /// Gcore and Sesterce: the region id; Run:ai: the cluster id.
    region: &'static str,
    change: Change,
    /// Earliest start within a cycle, simulated seconds; jitter adds up to [`JITTER`].
    start: f64,
    /// How long the change lasts (0 for an instant: a restart).
    lasts: f64,
}

const JITTER: f64 = 3.0;

const fn ev(
    provider: ProviderKind,
    deployment: &'static str,
    region: &'static str,
    change: Change,
    start: f64,
    lasts: f64,
) -> Target {
    Target { provider, deployment, region, change, start, lasts }
}

/// Gcore's message for a region whose image cannot be pulled.
const GCORE_PULL_ERROR: &str = "Back-off pulling image \"registry.gcore.com/inference/llama-guard-3:1.2\": \
                                ErrImagePull: unexpected EOF";

/// Sesterce's `errorMessage`, word for word from the instance details example of seed 004.
const SESTERCE_LAUNCH_ERROR: &str =
    "Unexpected error occurred while launching the instance. Please contact the support team.";

const GCORE: ProviderKind = ProviderKind::Gcore;
const SESTERCE: ProviderKind = ProviderKind::Sesterce;
const RUNAI: ProviderKind = ProviderKind::Runai;
/// The demo fleet's Run:ai clusters (`assets/demo-fleet.toml`).
const DGX_EU_WEST: &str = "7b0e6a0e-3c1f-4a55-9d5e-0a1b2c3d4e01";
const DGX_US_EAST: &str = "c3f1d9a2-8e4b-4f0c-b7a6-5d4c3b2a1f02";

/// The demo fleet's events, chosen so that each change shows in the table (status or phase, ready counts)
/// and in the regions pane. New events go at the end: an event's jitter is derived from its index.
const TARGETS: [Target; 14] = [
    ev(GCORE, "qwen2-vl-batch", "91", Change::Load(2), 0.5, 14.0),
    ev(GCORE, "rerank-v2", "91", Change::CapacityLoss, 1.0, 10.0),
    ev(GCORE, "mistral-7b-support", "38", Change::Restart, 2.0, 0.0),
    ev(GCORE, "llama-guard-3", "76", Change::Fault(GCORE_PULL_ERROR), 4.0, 12.0),
    ev(GCORE, "mistral-7b-support", "7", Change::Restart, 16.0, 0.0),
    // Scale from zero through its HTTP trigger ("only the HTTP requests trigger can scale pods to and from 0").
    ev(SESTERCE, "e5-large-embed", "18", Change::Load(1), 1.5, 12.0),
    ev(SESTERCE, "llama-3-8b-chat", "78", Change::Restart, 3.0, 0.0),
    ev(SESTERCE, "deepseek-r1-distill", "41", Change::Fault(SESTERCE_LAUNCH_ERROR), 5.0, 10.0),
    ev(SESTERCE, "stable-diffusion", "18", Change::Load(4), 8.0, 10.0),
    ev(SESTERCE, "gemma-2-9b", "41", Change::Restart, 19.0, 0.0),
    // Scale from zero to `activationReplicas` (1 in the demo fleet's spec).
    ev(RUNAI, "llm-scale-to-zero", DGX_EU_WEST, Change::Load(1), 1.0, 14.0),
    ev(RUNAI, "nim-llama-3-8b", DGX_EU_WEST, Change::Restart, 2.5, 0.0),
    ev(RUNAI, "nim-embedqa", DGX_US_EAST, Change::CapacityLoss, 6.0, 10.0),
    ev(RUNAI, "triton-resnet", DGX_EU_WEST, Change::Restart, 17.0, 0.0),
];

#[derive(Debug, Clone)]
pub struct Life {
    seed: u64,
    /// What each touched region had before its first change: restored when a change ends.
    saved: BTreeMap<(&'static str, &'static str), Saved>,
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

    /// The changes in effect at `now` and the instants in `(from, now]`: provider, deployment, region, change.
    pub fn changes(&self, from: f64, now: f64) -> Vec<(ProviderKind, &'static str, &'static str, Change)> {
        (0..TARGETS.len())
            .filter(
                |&i| {
                    if TARGETS[i].lasts > 0.0 { self.active(i, now) } else { self.happened(i, from, now) }
                },
            )
            .map(|i| (TARGETS[i].provider, TARGETS[i].deployment, TARGETS[i].region, TARGETS[i].change))
            .collect()
    }

    /// The events of `provider`: their index and target.
    fn targets(provider: ProviderKind) -> impl Iterator<Item = (usize, &'static Target)> {
        TARGETS.iter().enumerate().filter(move |(_, t)| t.provider == provider)
    }

    /// Applies event `i` to one region of a deployment as time moves from `from` to `now` (before the region's
    /// replicas step). `demand` is the deployment's simulated load, `r` the region's replicas. On a deployment
    /// that is not `running` (stopped or being deleted by the user) nothing new starts, and a change in effect
    /// ends, so that it does not outlive a stop and start.
    fn touch(
        &mut self,
        i: usize,
        running: bool,
        (from, now): (f64, f64),
        demand: &mut u32,
        r: &mut Replicas,
    ) {
        let t = &TARGETS[i];
        let saved = *self
            .saved
            .entry((t.deployment, t.region))
            .or_insert(Saved { capacity: r.capacity, demand: *demand });
        let active = running && self.active(i, now);
        match t.change {
            Change::Restart => {
                if running && self.happened(i, from, now) && r.ready > 0 {
                    r.ready -= 1;
                }
            }
            Change::CapacityLoss => {
                r.capacity = if active { 1 } else { saved.capacity };
            }
            Change::Fault(message) => {
                if active && r.fault.is_none() {
                    r.fault = Some(message.to_string());
                    // The failing container is a new one: the old ones are replaced one by one.
                    r.ready = r.ready.min(1);
                } else if !active && r.fault.as_deref() == Some(message) {
                    r.fault = None;
                }
            }
            Change::Load(n) => {
                // Only while the user has not set a demand of their own (scaled it by hand).
                if *demand == saved.demand || *demand == n {
                    *demand = if active { n } else { saved.demand };
                }
            }
        }
    }

    /// The events of `provider` on its deployments `items`, as time moves over `span` (from, now): `part` picks
    /// an event's deployment and region. A deployment moved out of the region is left alone.
    fn apply<D>(&mut self, provider: ProviderKind, items: &mut [D], span: (f64, f64), part: PartOf<D>) {
        for (i, t) in Self::targets(provider) {
            if let Some((running, demand, r)) = items.iter_mut().find_map(|d| part(d, t)) {
                self.touch(i, running, span, demand, r);
            }
        }
    }

    /// The Gcore events, on `store` moving from simulated second `from` to `now`.
    pub fn apply_gcore(&mut self, store: &mut super::gcore::Store, from: f64, now: f64) {
        self.apply(GCORE, &mut store.deployments, (from, now), |d, t| {
            if d.name != t.deployment {
                return None;
            }
            let running = !d.stopped && d.deleting.is_none();
            let c = d.containers.iter_mut().find(|c| c.region_id.to_string() == t.region)?;
            Some((running, &mut d.demand, &mut c.replicas))
        });
    }

    /// The Sesterce events (statuses from the same roll-up as Gcore's: ACTIVE, PARTIALLYDEPLOYED, DEPLOYING,
    /// PENDING).
    pub fn apply_sesterce(&mut self, store: &mut super::sesterce::Store, from: f64, now: f64) {
        self.apply(SESTERCE, &mut store.instances, (from, now), |d, t| {
            if d.name != t.deployment {
                return None;
            }
            let running = !d.stopped && d.deleting_since.is_none();
            let c = d.containers.iter_mut().find(|c| c.region_id.to_string() == t.region)?;
            Some((running, &mut d.demand, &mut c.replicas))
        });
    }

    /// The Run:ai events (phases from the workload's own roll-up).
    pub fn apply_runai(&mut self, store: &mut super::runai::Store, from: f64, now: f64) {
        self.apply(RUNAI, &mut store.workloads, (from, now), |w, t| {
            let here = w.name == t.deployment && w.cluster_id == t.region && w.deleted_at.is_none();
            let running = w.desired_phase == "Running" && w.deleting_since.is_none();
            here.then_some((running, &mut w.demand, &mut w.replicas))
        });
    }
}

/// One deployment's part in an event, if it is the event's: whether it is running (not stopped or being
/// deleted by the user), its simulated load, and the replicas of the event's region.
type PartOf<D> = for<'a> fn(&'a mut D, &Target) -> Option<(bool, &'a mut u32, &'a mut Replicas)>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, SimInner, SimState};
    use chrono::TimeZone;

    /// Each deployment of one provider: its name, status (Run:ai: phase), and each region's total, ready and
    /// error (Run:ai: the phase message), as the provider's API shows them.
    type Row = (String, String, Vec<(u32, u32, Option<String>)>);
    type View = Vec<Row>;

    fn sim(seed: u64, live: bool, fleet: Option<usize>) -> SimState {
        let epoch = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        SimInner::new(SimConfig {
            seed,
            live,
            fleet,
            time_scale: 0.0,
            epoch: Some(epoch),
            ..Default::default()
        })
    }

    /// One provider's view with its store moved to simulated second `now`.
    fn view(s: &SimState, p: ProviderKind, now: f64) -> View {
        let region = |r: &Replicas, e: Option<String>| (r.total, r.ready, e);
        match p {
            ProviderKind::Gcore => {
                let mut st = s.gcore.lock().unwrap();
                st.advance(now);
                st.deployments
                    .iter()
                    .map(|d| {
                        let rs = d.containers.iter().map(|c| region(&c.replicas, c.replicas.error_message()));
                        (d.name.clone(), d.status().to_string(), rs.collect())
                    })
                    .collect()
            }
            ProviderKind::Sesterce => {
                let mut st = s.sesterce.lock().unwrap();
                st.advance(now);
                st.instances
                    .iter()
                    .map(|d| {
                        let rs = d.containers.iter().map(|c| region(&c.replicas, c.replicas.error_message()));
                        (d.name.clone(), d.status().to_string(), rs.collect())
                    })
                    .collect()
            }
            ProviderKind::Runai => {
                let mut st = s.runai.lock().unwrap();
                st.advance(now, s.clock.epoch() + chrono::Duration::seconds(now as i64));
                st.workloads
                    .iter()
                    .map(|w| (w.name.clone(), w.phase.clone(), vec![region(&w.replicas, w.phase_message())]))
                    .collect()
            }
        }
    }

    /// Every simulated second for `secs` seconds, the views of `p` seen.
    fn run(s: &SimState, p: ProviderKind, secs: u32) -> Vec<View> {
        (1..=secs).map(|t| view(s, p, t as f64)).collect()
    }

    fn find<'a>(v: &'a View, name: &str) -> &'a Row {
        v.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("{name} is not in {v:?}"))
    }

    #[test]
    fn each_provider_has_an_event_of_each_kind_it_lives_through_within_the_first_cycle() {
        let life = Life::new(1);
        for p in ProviderKind::ALL {
            let mut seen = std::collections::HashSet::new();
            for t in 1..=30 {
                for (q, _, _, c) in life.changes(t as f64 - 1.0, t as f64) {
                    if q == p {
                        seen.insert(std::mem::discriminant(&c));
                    }
                }
            }
            assert!(seen.len() >= 3, "{p}: {seen:?}");
            // Something of this provider is in effect within the first ten seconds.
            assert!((1..=10).any(|t| life.changes(0.0, t as f64).iter().any(|c| c.0 == p)), "{p}");
        }
    }

    #[test]
    fn every_provider_moves_within_ten_seconds_and_comes_back_and_static_stays_still() {
        for p in ProviderKind::ALL {
            let views = run(&sim(1, true, None), p, 2 * PERIOD as u32);
            let still = run(&sim(1, false, None), p, 2 * PERIOD as u32);
            assert!((0..10).any(|t| views[t] != still[t]), "{p}: nothing moved within 10 s");
            assert!(still.iter().all(|v| *v == still[0]), "{p}: the static fleet moved");
            // Statuses come back to the static fleet's between events.
            let statuses = |v: &View| v.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect::<Vec<_>>();
            assert!(
                views.iter().any(|v| statuses(v) == statuses(&still[0])),
                "{p}: the fleet never recovered"
            );
        }
    }

    #[test]
    fn gcore_wakes_loses_capacity_and_fails_a_pull() {
        let views = run(&sim(1, true, None), ProviderKind::Gcore, PERIOD as u32);
        let all: String = views.iter().map(|v| format!("{v:?}")).collect();
        assert!(all.contains("ErrImagePull"), "no pull failure");
        assert!(all.contains("No capacity available"), "no capacity loss");
        let woke = views.iter().any(|v| find(v, "qwen2-vl-batch").2[0].1 > 0);
        assert!(woke, "the scale-to-zero deployment never woke");
    }

    #[test]
    fn sesterce_wakes_through_its_http_trigger_scales_restarts_and_fails_a_launch_in_its_own_terms() {
        let views = run(&sim(1, true, None), ProviderKind::Sesterce, PERIOD as u32);
        // The statuses of sesterce-cli's `InferenceInstanceStatus`, and the seed's own `errorMessage`.
        let documented =
            ["NEW", "ACTIVE", "PENDING", "ERROR", "DISABLED", "DELETED", "DELETING", "DEPLOYING"];
        for v in &views {
            for (n, s, _) in v {
                assert!(
                    documented.contains(&s.as_str()) || s == "FAILED" || s == "PARTIALLYDEPLOYED",
                    "{n}: {s}"
                );
            }
        }
        let e5: Vec<&str> = views.iter().map(|v| find(v, "e5-large-embed").1.as_str()).collect();
        assert_eq!(e5[0], "PENDING", "{e5:?}");
        assert!(e5.contains(&"ACTIVE"), "e5-large-embed never woke from zero: {e5:?}");
        assert_eq!(e5.last(), Some(&"PENDING"), "e5-large-embed never went back to zero: {e5:?}");
        let launch = views.iter().any(|v| {
            find(v, "deepseek-r1-distill").2.iter().any(|r| r.2.as_deref() == Some(SESTERCE_LAUNCH_ERROR))
        });
        assert!(launch, "deepseek-r1-distill never failed a launch");
        let scaled = views.iter().map(|v| find(v, "stable-diffusion").2[0].0).max();
        assert_eq!(scaled, Some(4), "stable-diffusion never scaled up to its max of 4");
        let restarted = views.iter().any(|v| find(v, "llama-3-8b-chat").1 == "PARTIALLYDEPLOYED");
        assert!(restarted, "llama-3-8b-chat never restarted a container");
    }

    #[test]
    fn runai_wakes_from_zero_restarts_a_pod_and_loses_capacity_in_its_own_phases() {
        let views = run(&sim(1, true, None), ProviderKind::Runai, PERIOD as u32);
        let phases = [
            "Creating",
            "Initializing",
            "Resuming",
            "Pending",
            "Deleting",
            "Running",
            "Updating",
            "Stopped",
            "Stopping",
            "Degraded",
            "Failed",
            "Completed",
            "Terminating",
            "Unknown",
        ];
        for v in &views {
            for (n, s, _) in v {
                assert!(phases.contains(&s.as_str()), "{n}: {s}");
            }
        }
        let woke = views.iter().any(|v| find(v, "llm-scale-to-zero").2[0].1 == 1);
        assert!(woke, "llm-scale-to-zero never woke to its activationReplicas");
        let restarted = views.iter().any(|v| find(v, "nim-llama-3-8b").1 != "Running");
        assert!(restarted, "nim-llama-3-8b never restarted a pod");
        let pending = views.iter().any(|v| {
            let w = find(v, "nim-embedqa");
            w.1 == "Pending" && w.2[0].2.as_deref().is_some_and(|m| m.contains("Not enough resources"))
        });
        assert!(pending, "nim-embedqa never lost capacity");
        assert_eq!(find(views.last().unwrap(), "nim-embedqa").1, "Running");
    }

    #[test]
    fn a_change_in_effect_ends_when_the_user_stops_the_deployment_and_none_starts_while_stopped() {
        let s = sim(1, true, None);
        let life = Life::new(1);
        let i = TARGETS.iter().position(|t| t.deployment == "deepseek-r1-distill").unwrap();
        let on = (1..60).find(|&t| life.active(i, t as f64)).unwrap();
        let fault = |s: &SimState| {
            let st = s.sesterce.lock().unwrap();
            let d = st.instances.iter().find(|d| d.name == "deepseek-r1-distill").unwrap();
            d.containers.iter().find(|c| c.region_id == 41).unwrap().replicas.fault.clone()
        };
        view(&s, ProviderKind::Sesterce, on as f64);
        assert_eq!(fault(&s).as_deref(), Some(SESTERCE_LAUNCH_ERROR));
        s.sesterce.lock().unwrap().instances.iter_mut().for_each(|d| d.stopped = true);
        // Through the rest of this cycle and all of the next one (when the fault would start again).
        for t in on + 1..on + 2 * PERIOD as u32 {
            view(&s, ProviderKind::Sesterce, t as f64);
            assert_eq!(fault(&s), None, "at {t} s");
        }
    }

    #[test]
    fn generated_fleets_and_test_simulators_stay_still() {
        let generated = sim(1, true, Some(30));
        let default = SimInner::new(SimConfig::default());
        for s in [generated, default] {
            assert!(s.gcore.lock().unwrap().life.is_none());
            assert!(s.sesterce.lock().unwrap().life.is_none());
            assert!(s.runai.lock().unwrap().life.is_none());
        }
    }

    #[test]
    fn same_seed_same_life_other_seed_other_life() {
        for p in ProviderKind::ALL {
            assert_eq!(run(&sim(7, true, None), p, 40), run(&sim(7, true, None), p, 40), "{p}");
        }
        let a = Life::new(7);
        let b = Life::new(8);
        assert!((0..TARGETS.len()).any(|i| a.start_of(0, i) != b.start_of(0, i)));
    }
}
