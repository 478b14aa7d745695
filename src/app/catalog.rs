//! The catalog view: per account, what the provider offers (models, hardware, regions with capacity,
//! registries, projects), and the cache of catalogs and price previews the create form shares.

use crate::model::{Catalog, CreateSpec, Price, ProviderKind};
use crate::provider::ApiError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One part of a catalog, shown as a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogTab {
    Models,
    Hardware,
    Regions,
    Registries,
    Projects,
}

impl CatalogTab {
    /// The tabs a provider has, in order.
    pub fn for_provider(p: ProviderKind) -> &'static [CatalogTab] {
        match p {
            ProviderKind::Gcore => &[CatalogTab::Hardware, CatalogTab::Regions, CatalogTab::Registries],
            ProviderKind::Sesterce => {
                &[CatalogTab::Models, CatalogTab::Hardware, CatalogTab::Regions, CatalogTab::Registries]
            }
            ProviderKind::Runai => &[CatalogTab::Projects, CatalogTab::Regions],
        }
    }

    pub fn label(self, p: ProviderKind) -> &'static str {
        match (self, p) {
            (CatalogTab::Models, _) => "Models",
            (CatalogTab::Hardware, ProviderKind::Gcore) => "Flavors",
            (CatalogTab::Hardware, _) => "Hardware",
            (CatalogTab::Regions, ProviderKind::Runai) => "Clusters",
            (CatalogTab::Regions, _) => "Regions",
            (CatalogTab::Registries, ProviderKind::Gcore) => "Registry credentials",
            (CatalogTab::Registries, _) => "Registries",
            (CatalogTab::Projects, _) => "Projects",
        }
    }
}

/// The hardware a price is for and `(region, max)` per region.
pub type PriceKey = (String, Vec<(String, u32)>);

#[derive(Debug, Clone, PartialEq)]
pub enum CatalogEntry {
    Loading,
    Loaded { catalog: Catalog, at: DateTime<Utc> },
    Failed(ApiError),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PriceEntry {
    Loading,
    /// `None`: the provider gives no price for this.
    Known(Option<Price>),
    Failed(String),
}

/// Catalogs and price previews by account, kept while the dashboard runs.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    pub by_account: HashMap<usize, CatalogEntry>,
    pub prices: HashMap<(usize, PriceKey), PriceEntry>,
}

impl Catalogs {
    pub fn loaded(&self, account: usize) -> Option<&Catalog> {
        match self.by_account.get(&account) {
            Some(CatalogEntry::Loaded { catalog, .. }) => Some(catalog),
            _ => None,
        }
    }

    /// Whether the catalog of `account` should be fetched (never asked, or the last try failed).
    pub fn needs_load(&self, account: usize) -> bool {
        matches!(self.by_account.get(&account), None | Some(CatalogEntry::Failed(_)))
    }

    /// Marks the catalog of `account` as loading when it should be fetched; true when the caller must ask.
    pub fn start_load(&mut self, account: usize) -> bool {
        let go = self.needs_load(account);
        if go {
            self.by_account.insert(account, CatalogEntry::Loading);
        }
        go
    }

    pub fn price(&self, account: usize, key: &PriceKey) -> Option<&PriceEntry> {
        self.prices.get(&(account, key.clone()))
    }

    /// Marks a price as asked for; returns false when it already is (or is known).
    pub fn ask_price(&mut self, account: usize, spec: &CreateSpec) -> bool {
        let k = (account, spec.price_key());
        if self.prices.contains_key(&k) {
            return false;
        }
        // Bounded: previews are cheap to ask again.
        if self.prices.len() > 256 {
            self.prices.clear();
        }
        self.prices.insert(k, PriceEntry::Loading);
        true
    }
}

/// The catalog view's own state: which account, which tab, which row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogView {
    pub account: usize,
    pub tab: usize,
    pub sel: usize,
}

impl CatalogView {
    pub fn new(account: usize) -> Self {
        CatalogView { account, tab: 0, sel: 0 }
    }

    pub fn tab_of(&self, p: ProviderKind) -> CatalogTab {
        let tabs = CatalogTab::for_provider(p);
        tabs[self.tab.min(tabs.len() - 1)]
    }
}

/// Rows in a tab of a catalog (for moving the selection).
pub fn rows_in(c: &Catalog, tab: CatalogTab) -> usize {
    match tab {
        CatalogTab::Models => c.models.len(),
        CatalogTab::Hardware => c.hardware.len(),
        CatalogTab::Regions => c.regions.len(),
        CatalogTab::Registries => c.registries.len(),
        CatalogTab::Projects => c.projects.len(),
    }
}

/// The cheapest configuration to price a hardware option with: one replica in the first region with free
/// capacity for it (else the first region).
pub fn one_replica_spec(provider: ProviderKind, c: &Catalog, hardware_id: &str) -> Option<CreateSpec> {
    let region = c
        .regions
        .iter()
        .find(|r| c.capacity(r, hardware_id).is_some_and(|n| n > 0))
        .or_else(|| c.regions.first())?;
    Some(CreateSpec {
        provider,
        name: String::new(),
        source: crate::model::ImageSource::Image { image: String::new(), credentials: None },
        port: 80,
        hardware_id: hardware_id.to_string(),
        gpu_devices: None,
        project_id: None,
        regions: vec![crate::model::RegionScale {
            region_id: region.id.clone(),
            scale: crate::model::Scale { min: 1, max: 1, ..Default::default() },
        }],
        envs: Default::default(),
        command: None,
        probes: None,
        logging: None,
    })
}
