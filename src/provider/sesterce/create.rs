//! Catalog, price preview and create for Sesterce: the provider-neutral `CreateSpec` mapped to
//! [`NewInstance`], and the catalog gathered from models, hardwares, regions (with capacity) and registries.

use super::{NewInstance, P, SesterceClient};
use crate::model::{Catalog, CreateSpec, ImageSource, ModelInfo, Price, RegistryInfo};
use crate::provider::{ApiError, ApiResult, Applied, ErrorKind, Provider};

/// The create request for `spec`.
pub fn new_instance(spec: &CreateSpec) -> ApiResult<NewInstance> {
    let (model_id, registry_id) = match &spec.source {
        ImageSource::Model(m) => (Some(m.clone()), None),
        ImageSource::Registry(r) => (None, Some(r.clone())),
        ImageSource::Image { .. } => {
            let mut e = ApiError::new(P, ErrorKind::Validation, "Sesterce deploys a model or a registry");
            e.fields.push(("model".into(), "choose a catalog model or a registry".into()));
            return Err(e);
        }
    };
    if spec.probes.is_some() {
        return Err(ApiError::unsupported(P, "probes"));
    }
    Ok(NewInstance {
        name: spec.name.clone(),
        model_id,
        registry_id,
        hardware_id: spec.hardware_id.clone(),
        container_port: spec.port,
        description: None,
        pod_lifetime: None,
        envs: (!spec.envs.is_empty()).then(|| spec.envs.clone()),
        startup_command: spec.command.clone(),
        api_key_ids: None,
        regions: spec.regions.clone(),
    })
}

impl SesterceClient {
    pub(super) async fn catalog_all(&self) -> ApiResult<Catalog> {
        let (models, hw, regions, registries) =
            tokio::join!(self.models(), self.hardware(), self.regions(), self.registries());
        let mut c = Catalog::default();
        match models {
            Ok(v) => {
                c.models = v
                    .into_iter()
                    .filter_map(|m| {
                        let id = m.id?;
                        Some(ModelInfo {
                            name: m.name.unwrap_or_else(|| id.clone()),
                            id,
                            port: m.port,
                            default_hardware_id: m.default_hardware_id,
                            features: m.features,
                        })
                    })
                    .collect()
            }
            Err(e) => c.problems.push(("models".into(), e.to_string())),
        }
        let mut essential_failed = 0;
        match hw {
            Ok(v) => c.hardware = v,
            Err(e) => {
                essential_failed += 1;
                c.problems.push(("hardwares".into(), e.to_string()));
            }
        }
        match regions {
            Ok(v) => c.regions = v,
            Err(e) => {
                essential_failed += 1;
                c.problems.push(("regions".into(), e.to_string()));
            }
        }
        match registries {
            Ok(v) => {
                c.registries = v
                    .into_iter()
                    .filter_map(|r| {
                        let id = r.id?;
                        Some(RegistryInfo {
                            name: r.name.clone().unwrap_or_else(|| id.clone()),
                            id,
                            url: r.url,
                            username: r.username,
                        })
                    })
                    .collect()
            }
            Err(e) => c.problems.push(("registries".into(), e.to_string())),
        }
        if essential_failed == 2 {
            let (_, msg) = c.problems.remove(c.problems.len() - 2);
            return Err(ApiError::new(P, ErrorKind::Other, msg));
        }
        Ok(c)
    }

    pub(super) async fn price_of(&self, spec: &CreateSpec) -> ApiResult<Option<Price>> {
        let regions: Vec<(&str, u32)> =
            spec.regions.iter().map(|r| (r.region_id.as_str(), r.scale.max)).collect();
        // A missing price or currency is no price, never a zero.
        let r = self.pricing(&spec.hardware_id, &regions).await?;
        Ok(match (r.price_per_hour, r.currency_code) {
            (Some(h), Some(c)) => Some(Price { currency: c, per_hour: h, per_month: r.price_per_month }),
            _ => None,
        })
    }

    /// One replica of `hardware` (a name or an id) in `region` for one hour. Seed 004's preview takes
    /// `scale.max` only and answers one `pricePerHour` without saying whether it is for `max` replicas or one:
    /// asked with `max: 1` in one region, both readings give one replica's price. A missing price or currency
    /// is no price, never a guess.
    pub(super) async fn replica_price_of(&self, hardware: &str, region: &str) -> ApiResult<Option<Price>> {
        let names = self.names().await;
        // Details give `hardwareId`, shown by its catalog name; an id the catalog did not name is shown as is.
        let id = names
            .hardware
            .iter()
            .find(|(id, name)| *id == hardware || *name == hardware)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| hardware.to_string());
        let r = self.pricing(&id, &[(region, 1)]).await?;
        Ok(match (r.price_per_hour, r.currency_code) {
            (Some(h), Some(c)) => Some(Price { currency: c, per_hour: h, per_month: r.price_per_month }),
            _ => None,
        })
    }

    /// Creates the instance (201), then reads its details so the regions are known at once.
    pub(super) async fn create_from(&self, spec: &CreateSpec) -> ApiResult<Applied> {
        let created = self.create(&new_instance(spec)?).await?;
        match self.get(&created.key.id).await {
            Ok(d) => Ok(Applied::Done(Box::new(d))),
            // Created, but the details are not readable yet: the summary is what there is.
            Err(e) => {
                tracing::warn!(account = %self.account, error = %e, "sesterce: new instance details unavailable");
                Ok(Applied::Done(Box::new(created)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RegionScale, Scale};

    #[test]
    fn model_and_registry_map_to_their_ids() {
        let mut spec = CreateSpec {
            provider: P,
            name: "chat".into(),
            source: ImageSource::Model("m-1".into()),
            port: 8000,
            hardware_id: "hw-1".into(),
            gpu_devices: None,
            project_id: None,
            regions: vec![RegionScale {
                region_id: "18".into(),
                scale: Scale { min: 1, max: 2, ..Default::default() },
            }],
            envs: Default::default(),
            command: None,
            probes: None,
            logging: None,
        };
        let n = new_instance(&spec).unwrap();
        assert_eq!((n.model_id.as_deref(), n.registry_id.as_deref()), (Some("m-1"), None));
        assert_eq!(n.envs, None);
        let body = serde_json::to_value(SesterceClient::create_body(&n)).unwrap();
        assert_eq!(body["autoScalingConfigurations"][0]["regionId"], serde_json::json!(18));
        spec.source = ImageSource::Registry("r-1".into());
        let n = new_instance(&spec).unwrap();
        assert_eq!((n.model_id, n.registry_id.as_deref()), (None, Some("r-1")));
    }
}
