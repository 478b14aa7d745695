//! The state engine: actual replicas move toward desired over simulated seconds, region by region.
//! Provider modules keep their own wire-shaped records and embed one [`Replicas`] per region.

use serde::{Deserialize, Serialize};

/// Simulated seconds for one new container to be created.
pub const CREATE_SECONDS: f64 = 1.0;
/// Simulated seconds for a created container to become ready.
pub const READY_SECONDS: f64 = 2.0;

/// Replicas of one deployment in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replicas {
    /// What the autoscaler wants: clamp(demand, min, max); 0 when stopped.
    pub desired: u32,
    /// Containers created (scheduled).
    pub total: u32,
    /// Containers passing readiness.
    pub ready: u32,
    /// How many containers the region can hold for this deployment's hardware.
    pub capacity: u32,
    /// A fault that keeps containers from becoming ready (an image pull error, say).
    pub fault: Option<String>,
    /// Progress toward the next create / ready step, in simulated seconds.
    create_clock: f64,
    ready_clock: f64,
}

impl Replicas {
    pub fn new(desired: u32, capacity: u32, fault: Option<String>) -> Self {
        Replicas { desired, total: 0, ready: 0, capacity, fault, create_clock: 0.0, ready_clock: 0.0 }
    }

    /// A region already converged (for the seed fleet).
    pub fn settled(desired: u32, capacity: u32, fault: Option<String>) -> Self {
        let mut r = Replicas::new(desired, capacity, fault);
        r.step(1e6);
        r
    }

    /// Where `total` is heading: desired, limited by capacity.
    pub fn target(&self) -> u32 {
        self.desired.min(self.capacity)
    }

    /// The error message the provider shows for this region, if any.
    pub fn error_message(&self) -> Option<String> {
        if let Some(f) = &self.fault
            && self.target() > 0
        {
            return Some(f.clone());
        }
        if self.desired > self.capacity {
            return Some(format!(
                "No capacity available in the region: {} of {} containers placed",
                self.capacity, self.desired
            ));
        }
        None
    }

    pub fn converged(&self) -> bool {
        let target = self.target();
        self.total == target && (self.ready == target || self.fault.is_some())
    }

    /// A new pod spec (image, command, env): every container is replaced, so none is ready until its
    /// replacement is, and the region converges again over [`READY_SECONDS`] per container.
    pub fn roll(&mut self) {
        self.ready = 0;
        self.ready_clock = 0.0;
    }

    /// Advances `dt` simulated seconds: one container created per [`CREATE_SECONDS`], one becomes ready per
    /// [`READY_SECONDS`]; scaling down is immediate for total and ready.
    pub fn step(&mut self, dt: f64) {
        let target = self.target();
        if self.total > target {
            self.total = target;
            self.create_clock = 0.0;
        }
        if self.ready > self.total {
            self.ready = self.total;
        }
        if self.total < target {
            self.create_clock += dt;
            let n = (self.create_clock / CREATE_SECONDS).floor() as u32;
            if n > 0 {
                let add = n.min(target - self.total);
                self.total += add;
                self.create_clock -= add as f64 * CREATE_SECONDS;
                if self.total == target {
                    self.create_clock = 0.0;
                }
            }
        }
        if self.fault.is_some() {
            // A broken image never becomes ready; at most one stale replica from before keeps serving.
            self.ready = self.ready.min(self.total.min(1));
            self.ready_clock = 0.0;
            return;
        }
        if self.ready < self.total {
            self.ready_clock += dt;
            let n = (self.ready_clock / READY_SECONDS).floor() as u32;
            if n > 0 {
                let add = n.min(self.total - self.ready);
                self.ready += add;
                self.ready_clock -= add as f64 * READY_SECONDS;
                if self.ready == self.total {
                    self.ready_clock = 0.0;
                }
            }
        } else {
            self.ready_clock = 0.0;
        }
    }
}

/// Roll-up of a deployment's regions into the Gcore/Sesterce status vocabulary.
pub fn gcore_status(stopped: bool, regions: &[&Replicas]) -> &'static str {
    if stopped {
        return "DISABLED";
    }
    if regions.iter().all(|r| r.desired == 0) {
        return "PENDING";
    }
    let total: u32 = regions.iter().map(|r| r.total).sum();
    if total == 0 {
        return "DEPLOYING";
    }
    if regions.iter().all(|r| r.converged() && r.fault.is_none() && r.desired <= r.capacity) {
        "ACTIVE"
    } else {
        "PARTIALLYDEPLOYED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbs_toward_desired_then_settles() {
        let mut r = Replicas::new(3, 10, None);
        r.step(1.0);
        assert_eq!((r.total, r.ready), (1, 0));
        r.step(2.0);
        assert_eq!((r.total, r.ready), (3, 1));
        r.step(4.0);
        assert_eq!((r.total, r.ready), (3, 3));
        assert!(r.converged());
    }

    #[test]
    fn capacity_limits_and_reports() {
        let r = Replicas::settled(5, 2, None);
        assert_eq!((r.total, r.ready), (2, 2));
        assert!(r.error_message().unwrap().contains("No capacity"));
    }

    #[test]
    fn pull_error_never_ready() {
        let r = Replicas::settled(3, 10, Some("ErrImagePull".into()));
        assert_eq!((r.total, r.ready), (3, 0));
        assert_eq!(gcore_status(false, &[&r]), "PARTIALLYDEPLOYED");
    }

    #[test]
    fn scale_down_is_immediate_and_statuses_roll_up() {
        let mut r = Replicas::settled(4, 10, None);
        assert_eq!(gcore_status(false, &[&r]), "ACTIVE");
        r.desired = 0;
        r.step(0.1);
        assert_eq!((r.total, r.ready), (0, 0));
        assert_eq!(gcore_status(false, &[&r]), "PENDING");
        assert_eq!(gcore_status(true, &[&r]), "DISABLED");
        let fresh = Replicas::new(2, 10, None);
        assert_eq!(gcore_status(false, &[&fresh]), "DEPLOYING");
    }
}
