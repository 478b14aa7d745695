//! What a provider offers (its catalog) and what a new deployment asks for (`CreateSpec`), provider-neutral.
//! Each client maps these to its own create body; the limits are checked in `validate::create_spec`.

use super::{HardwareInfo, LoggingConfig, Probes, ProviderKind, RegionInfo, RegionScale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A model of a provider's catalog (Sesterce `GET /ai-inference/models`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub port: Option<u32>,
    pub default_hardware_id: Option<String>,
    pub features: Vec<String>,
}

/// A registry (Sesterce) or registry credential (Gcore). Never holds the password: the APIs do not return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryInfo {
    /// Sesterce `_id`; Gcore the credential's name (what a deployment references).
    pub id: String,
    pub name: String,
    pub url: Option<String>,
    pub username: Option<String>,
}

/// A Run:ai project, as the workloads expose it (the inference API has no projects endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub id: String,
    pub name: String,
}

/// One provider account's catalog. A part the provider does not offer is empty; a part that failed to load
/// says why in `problems`, and the rest is still shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub models: Vec<ModelInfo>,
    pub hardware: Vec<HardwareInfo>,
    /// Regions with capacity per hardware; for Run:ai, the clusters the workloads run in.
    pub regions: Vec<RegionInfo>,
    pub registries: Vec<RegistryInfo>,
    pub projects: Vec<ProjectInfo>,
    /// `(part, message)` for parts that could not be read.
    pub problems: Vec<(String, String)>,
}

impl Catalog {
    /// The capacity of a region for a hardware option (looked up by id, then by name).
    pub fn capacity(&self, region: &RegionInfo, hardware_id: &str) -> Option<u32> {
        if let Some(c) = region.capacity.get(hardware_id) {
            return Some(*c);
        }
        let hw = self.hardware.iter().find(|h| h.id == hardware_id)?;
        region.capacity.get(&hw.name).copied()
    }
}

/// Where the container image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageSource {
    /// An image reference (Gcore, Run:ai), with the registry credential to pull it (Gcore `credentials_name`).
    Image { image: String, credentials: Option<String> },
    /// A model of the provider's catalog (Sesterce `modelId`).
    Model(String),
    /// A registry of the account, which names the image (Sesterce `registryId`).
    Registry(String),
}

/// A new deployment, as the create form builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateSpec {
    pub provider: ProviderKind,
    pub name: String,
    pub source: ImageSource,
    pub port: u32,
    /// Gcore flavor name; Sesterce hardware id; empty for Run:ai (see `gpu_devices`).
    pub hardware_id: String,
    /// Run:ai `compute.gpuDevicesRequest`.
    pub gpu_devices: Option<u32>,
    /// Run:ai project id.
    pub project_id: Option<String>,
    /// Gcore/Sesterce: one entry per region. Run:ai: exactly one, the cluster.
    pub regions: Vec<RegionScale>,
    pub envs: BTreeMap<String, String>,
    /// The command line; split on whitespace where the API wants a list.
    pub command: Option<String>,
    pub probes: Option<Probes>,
    /// Gcore only.
    pub logging: Option<LoggingConfig>,
}

impl CreateSpec {
    /// The replicas the price is for: `(region_id, max)` per region.
    pub fn price_key(&self) -> (String, Vec<(String, u32)>) {
        (self.hardware_id.clone(), self.regions.iter().map(|r| (r.region_id.clone(), r.scale.max)).collect())
    }
}

/// A price preview for a configuration at its maximum scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub currency: String,
    pub per_hour: f64,
    pub per_month: Option<f64>,
}

/// Hours in a month (8760 / 12), for every provider's monthly figure.
pub const HOURS_PER_MONTH: f64 = 730.0;

impl Price {
    /// The hourly price and a month of it. The month is always the hourly price × [`HOURS_PER_MONTH`], the
    /// same rule for every provider: the providers' own monthly figures disagree (Sesterce's documented
    /// example is the hourly price × 30, Gcore's × 730).
    pub fn summary(&self) -> String {
        let m = self.per_hour * HOURS_PER_MONTH;
        format!("{:.2} {}/h ({m:.2}/month)", self.per_hour, super::text::sanitize(&self.currency))
    }
}
