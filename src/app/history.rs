//! Readiness recorded locally, per region, where a provider has no metrics API (Gcore, Sesterce): one sample
//! per list of the account, aligned with the account's sample times. Compact: a series is a fixed ring of
//! `u32` counts (every count a provider can send, exactly) and a bit per gap, with no allocation of its own.

use super::state::HISTORY_LEN;
use crate::model::Deployment;

const _: () = assert!(HISTORY_LEN <= 64, "a ring's gaps are one bit each in a u64");

/// The last [`HISTORY_LEN`] ready counts of one region, oldest first, each exactly as read, or a gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    values: [u32; HISTORY_LEN],
    /// Bit `i` set: slot `i` is a gap (no sample).
    gaps: u64,
    /// Index of the oldest value.
    head: u8,
    len: u8,
}

impl Default for Ring {
    fn default() -> Self {
        Ring { values: [0; HISTORY_LEN], gaps: 0, head: 0, len: 0 }
    }
}

impl Ring {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a value (None: a gap), dropping the oldest when full.
    pub fn push(&mut self, v: Option<u32>) {
        if self.len() < HISTORY_LEN {
            self.put((self.head as usize + self.len()) % HISTORY_LEN, v);
            self.len += 1;
        } else {
            self.put(self.head as usize, v);
            self.head = ((self.head as usize + 1) % HISTORY_LEN) as u8;
        }
    }

    fn put(&mut self, i: usize, v: Option<u32>) {
        self.values[i] = v.unwrap_or(0);
        if v.is_some() {
            self.gaps &= !(1 << i);
        } else {
            self.gaps |= 1 << i;
        }
    }

    /// Replaces the newest value (appends when empty).
    fn set_last(&mut self, v: Option<u32>) {
        if self.is_empty() {
            return self.push(v);
        }
        let i = (self.head as usize + self.len() - 1) % HISTORY_LEN;
        self.put(i, v);
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Option<u32>> + '_ {
        (0..self.len()).map(move |k| {
            let i = (self.head as usize + k) % HISTORY_LEN;
            (self.gaps & (1 << i) == 0).then_some(self.values[i])
        })
    }

    /// The newest value (None when empty; Some(None) for a gap).
    pub fn last(&self) -> Option<Option<u32>> {
        self.iter().next_back()
    }
}

/// The series of one row: one per region the deployment has now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    series: Vec<(String, Ring)>,
    /// The account's sample (see [`super::state::AccountState::samples`]) the newest values belong to.
    sample: u64,
}

impl History {
    /// Each region's id and its series.
    pub fn series(&self) -> impl Iterator<Item = (&str, &Ring)> {
        self.series.iter().map(|(id, r)| (id.as_str(), r))
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Records the deployment's ready count per region as the account's sample `sample`. A second record
    /// for the same sample (details read after the list) replaces the first; samples missed since the last
    /// record are gaps, and so is every earlier sample of a region that is new. Regions the deployment no
    /// longer has are dropped.
    pub fn record(&mut self, dep: &Deployment, sample: u64) {
        let missed = sample.saturating_sub(self.sample).saturating_sub(1).min(HISTORY_LEN as u64) as usize;
        let same = sample == self.sample;
        let mut next = Vec::with_capacity(dep.regions.len());
        for r in &dep.regions {
            let ring = match self.series.iter().position(|(id, _)| *id == r.region_id) {
                Some(i) => {
                    let mut ring = std::mem::take(&mut self.series[i].1);
                    if same && !ring.is_empty() {
                        ring.set_last(Some(r.ready));
                    } else {
                        for _ in 0..missed {
                            ring.push(None);
                        }
                        ring.push(Some(r.ready));
                    }
                    ring
                }
                None => {
                    let mut ring = Ring::default();
                    let earlier = (sample as usize).min(HISTORY_LEN).saturating_sub(1);
                    for _ in 0..earlier {
                        ring.push(None);
                    }
                    ring.push(Some(r.ready));
                    ring
                }
            };
            next.push((r.region_id.clone(), ring));
        }
        self.series = next;
        self.sample = sample;
    }

    /// The account's sample `sample` could not be had: a gap in every series.
    pub fn gap(&mut self, sample: u64) {
        if sample == self.sample {
            return;
        }
        for (_, ring) in &mut self.series {
            ring.push(None);
        }
        self.sample = sample;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentKey, ProviderKind, RegionReplicas, Scale, Status};

    fn dep(ready: &[(&str, u32)]) -> Deployment {
        let key = DeploymentKey { provider: ProviderKind::Gcore, account: "g".into(), id: "d".into() };
        let mut d = Deployment::new(key, "d", Status::Active);
        for (id, n) in ready {
            d.regions.push(RegionReplicas {
                region_id: id.to_string(),
                region_name: None,
                ready: *n,
                total: 3,
                scale: Scale::default(),
                error: None,
            });
        }
        d
    }

    fn values(h: &History, region: &str) -> Vec<Option<u32>> {
        h.series().find(|(id, _)| *id == region).map(|(_, r)| r.iter().collect()).unwrap_or_default()
    }

    #[test]
    fn a_ring_keeps_the_newest_values_in_order() {
        let mut r = Ring::default();
        for v in 0..(HISTORY_LEN as u32 + 5) {
            r.push(if v % 10 == 3 { None } else { Some(v) });
        }
        let all: Vec<Option<u32>> = r.iter().collect();
        assert_eq!(all.len(), HISTORY_LEN);
        assert_eq!(all[0], Some(5));
        assert_eq!(r.last(), Some(Some(HISTORY_LEN as u32 + 4)));
        assert!(all.contains(&None));
        for huge in [65_535, 1_000_000, u32::MAX] {
            r.push(Some(huge));
            assert_eq!(r.last(), Some(Some(huge)), "a huge count is kept as read, not cut and not a gap");
        }
        r.push(None);
        assert_eq!(r.last(), Some(None));
        assert_eq!(r.iter().rev().nth(1), Some(Some(u32::MAX)), "a gap after it leaves it as it was");
    }

    #[test]
    fn samples_align_with_the_account_and_a_second_record_replaces() {
        let mut h = History::default();
        h.record(&dep(&[("7", 1)]), 3);
        assert_eq!(values(&h, "7"), [None, None, Some(1)], "earlier samples are gaps");
        // Details read after the same list: the same sample, newer count.
        h.record(&dep(&[("7", 2)]), 3);
        assert_eq!(values(&h, "7"), [None, None, Some(2)]);
        // Two lists later (one missed), a new region joins.
        h.record(&dep(&[("7", 3), ("9", 1)]), 5);
        assert_eq!(values(&h, "7"), [None, None, Some(2), None, Some(3)]);
        assert_eq!(values(&h, "9"), [None, None, None, None, Some(1)]);
        h.gap(6);
        assert_eq!(values(&h, "9").last(), Some(&None));
        h.record(&dep(&[("9", 2)]), 7);
        assert!(values(&h, "7").is_empty(), "a region the deployment left is dropped");
        assert_eq!(values(&h, "9")[4..], [Some(1), None, Some(2)]);
    }
}
