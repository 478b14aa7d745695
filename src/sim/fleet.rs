//! The simulator's seed fleet: provider-neutral descriptions that each provider module turns into its own
//! records. The default demo fleet is `assets/demo-fleet.toml`, embedded in the binary; `--fleet N`
//! generates N deployments instead, deterministically from the seed.

use super::rng::Rng;
use crate::model::ProviderKind;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const DEMO_FLEET_TOML: &str = include_str!("../../assets/demo-fleet.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    #[serde(default, rename = "region")]
    pub regions: Vec<RegionSpec>,
    #[serde(default, rename = "deployment")]
    pub deployments: Vec<DeploymentSpec>,
}

/// A region (Run:ai: a cluster) of one provider's catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub provider: ProviderKind,
    pub id: String,
    pub name: String,
    /// Containers a deployment may place here, per hardware name; missing hardware means `default_capacity`.
    #[serde(default)]
    pub capacity: BTreeMap<String, u32>,
    #[serde(default = "default_capacity")]
    pub default_capacity: u32,
}

fn default_capacity() -> u32 {
    64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SeedState {
    #[default]
    Running,
    Stopped,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    pub provider: ProviderKind,
    pub name: String,
    pub image: String,
    /// Gcore flavor name, Sesterce hardware name, Run:ai GPU count as text ("1", "0.5").
    pub hardware: String,
    #[serde(default = "default_port")]
    pub port: u32,
    #[serde(default)]
    pub description: String,
    /// Replicas the simulated load asks for; each region runs clamp(demand, min, max).
    #[serde(default = "default_demand")]
    pub demand: u32,
    #[serde(default)]
    pub state: SeedState,
    #[serde(default)]
    pub envs: BTreeMap<String, String>,
    #[serde(default)]
    pub command: Vec<String>,
    /// Hours ago it was created.
    #[serde(default = "default_age")]
    pub age_hours: u32,
    /// Gcore: logging enabled to this topic.
    #[serde(default)]
    pub log_topic: Option<String>,
    pub regions: Vec<RegionPlacement>,
}

fn default_port() -> u32 {
    8080
}
fn default_demand() -> u32 {
    2
}
fn default_age() -> u32 {
    72
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPlacement {
    pub region: String,
    pub min: u32,
    pub max: u32,
    #[serde(default)]
    pub cooldown: Option<u32>,
    /// A fault that keeps this region's containers from becoming ready.
    #[serde(default)]
    pub fault: Option<String>,
    /// Overrides the region's capacity for this deployment.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Triggers: cpu/memory/gpu_utilization/gpu_memory thresholds, http rate/window.
    #[serde(default)]
    pub cpu: Option<u32>,
    #[serde(default)]
    pub memory: Option<u32>,
    #[serde(default)]
    pub gpu_utilization: Option<u32>,
    #[serde(default)]
    pub gpu_memory: Option<u32>,
    #[serde(default)]
    pub http_rate: Option<u32>,
    #[serde(default)]
    pub http_window: Option<u32>,
}

impl FleetSpec {
    /// The embedded demo fleet.
    pub fn demo() -> FleetSpec {
        toml::from_str(DEMO_FLEET_TOML).expect("assets/demo-fleet.toml is valid (checked by a test)")
    }

    pub fn regions_of(&self, p: ProviderKind) -> impl Iterator<Item = &RegionSpec> {
        self.regions.iter().filter(move |r| r.provider == p)
    }

    pub fn deployments_of(&self, p: ProviderKind) -> impl Iterator<Item = &DeploymentSpec> {
        self.deployments.iter().filter(move |d| d.provider == p)
    }

    /// Capacity of `region` for `hardware`, honouring a placement override.
    pub fn capacity(&self, p: ProviderKind, placement: &RegionPlacement, hardware: &str) -> u32 {
        if let Some(c) = placement.capacity {
            return c;
        }
        self.regions_of(p)
            .find(|r| r.id == placement.region)
            .map(|r| r.capacity.get(hardware).copied().unwrap_or(r.default_capacity))
            .unwrap_or(0)
    }

    /// `n` generated deployments spread over the three providers, with the demo fleet's regions.
    pub fn generated(n: usize, seed: u64) -> FleetSpec {
        let demo = FleetSpec::demo();
        let mut rng = Rng::new(seed);
        let families = [
            ("llm", "vllm/vllm-openai:v0.6.3"),
            ("embed", "ghcr.io/huggingface/text-embeddings-inference:1.5"),
            ("whisper", "onerahmet/openai-whisper-asr-webservice:v1.6"),
            ("sdxl", "ghcr.io/sesterce/sdxl-turbo:2024.10"),
        ];
        let mut deployments = Vec::with_capacity(n);
        for i in 0..n {
            let provider = ProviderKind::ALL[i % 3];
            let (fam, image) = *rng.pick(&families);
            let hardware = match provider {
                ProviderKind::Gcore => rng
                    .pick(&[
                        "inference-16vcpu-232gib-1xh100-80gb",
                        "inference-16vcpu-232gib-1xl40s-48gb",
                        "inference-4vcpu-16gib",
                    ])
                    .to_string(),
                ProviderKind::Sesterce => {
                    rng.pick(&["1xL40S / 16 vCPU / 232GiB RAM", "1xH100 / 16 vCPU / 232GiB RAM"]).to_string()
                }
                ProviderKind::Runai => rng.pick(&["1", "0.5", "2"]).to_string(),
            };
            let regions: Vec<&RegionSpec> = demo.regions_of(provider).collect();
            let count = if provider == ProviderKind::Runai {
                1
            } else {
                rng.range(1, 3.min(regions.len() as u64)) as usize
            };
            let start = rng.range(0, regions.len() as u64 - 1) as usize;
            let placements = (0..count)
                .map(|k| {
                    let min = rng.range(0, 2) as u32;
                    let max = min + rng.range(1, 4) as u32;
                    RegionPlacement {
                        region: regions[(start + k) % regions.len()].id.clone(),
                        min,
                        max,
                        cooldown: Some(60),
                        fault: None,
                        // Generated fleets are healthy: every region has room for its max.
                        capacity: Some(max),
                        cpu: Some(80),
                        memory: None,
                        gpu_utilization: None,
                        gpu_memory: None,
                        http_rate: if min == 0 { Some(10) } else { None },
                        http_window: if min == 0 { Some(60) } else { None },
                    }
                })
                .collect();
            deployments.push(DeploymentSpec {
                provider,
                name: format!("{fam}-{i:05}"),
                image: image.to_string(),
                hardware,
                port: 8080,
                description: String::new(),
                demand: rng.range(1, 4) as u32,
                state: SeedState::Running,
                envs: BTreeMap::new(),
                command: Vec::new(),
                age_hours: rng.range(1, 2000) as u32,
                log_topic: None,
                regions: placements,
            });
        }
        FleetSpec { regions: demo.regions, deployments }
    }
}

/// The escape sequences a hostile API could send: clear screen, move the cursor, set the window title (OSC 0),
/// write the clipboard (OSC 52), ring the bell, and a C1 CSI.
pub const HOSTILE: &str = "pull failed\u{1b}[2J\u{1b}[H\u{1b}]0;pwned-title\u{7}\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{9b}31mred\r\nforged line";

/// A Gcore deployment whose strings carry [`HOSTILE`].
pub fn hostile_deployment() -> DeploymentSpec {
    let mut envs = BTreeMap::new();
    envs.insert("INJECT".to_string(), HOSTILE.to_string());
    DeploymentSpec {
        provider: ProviderKind::Gcore,
        name: "hostile-strings".into(),
        image: "registry.example.com/evil:1".into(),
        hardware: "inference-16vcpu-232gib-1xl40s-48gb".into(),
        port: 8080,
        description: HOSTILE.into(),
        demand: 2,
        state: SeedState::Running,
        envs,
        command: vec!["sh".into(), "-c".into(), HOSTILE.into()],
        age_hours: 1,
        log_topic: None,
        regions: vec![RegionPlacement {
            region: "7".into(),
            min: 1,
            max: 2,
            cooldown: None,
            fault: Some(HOSTILE.into()),
            capacity: None,
            cpu: Some(80),
            memory: None,
            gpu_utilization: None,
            gpu_memory: None,
            http_rate: None,
            http_window: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fleet_parses_and_covers_every_provider() {
        let f = FleetSpec::demo();
        for p in ProviderKind::ALL {
            assert!(f.deployments_of(p).count() >= 5, "{p} has too few demo deployments");
            assert!(f.regions_of(p).count() >= 1);
        }
        for d in &f.deployments {
            for r in &d.regions {
                assert!(
                    f.regions_of(d.provider).any(|x| x.id == r.region),
                    "{} uses unknown region {}",
                    d.name,
                    r.region
                );
            }
        }
        assert!(f.deployments.iter().any(|d| d.state == SeedState::Stopped));
        assert!(f.deployments.iter().any(|d| d.regions.iter().any(|r| r.fault.is_some())));
        assert!(f.deployments.iter().any(|d| d.demand == 0));
    }

    #[test]
    fn generated_fleet_is_deterministic() {
        let a = FleetSpec::generated(30, 42);
        let b = FleetSpec::generated(30, 42);
        assert_eq!(a.deployments.len(), 30);
        let names = |f: &FleetSpec| {
            f.deployments.iter().map(|d| (d.name.clone(), d.regions.len())).collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
    }
}
