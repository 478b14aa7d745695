//! Catalog, price preview and create for Gcore v3: the provider-neutral `CreateSpec` mapped to
//! `InferenceInstanceInSerializerV3`, and the catalog gathered from flavors, regions with capacity and
//! registry credentials (which never carry their password).

use super::{GcoreClient, P, convert, region_int, wire};
use crate::model::{Catalog, CreateSpec, ImageSource, Price, RegistryInfo};
use crate::provider::{ApiError, ApiResult, ErrorKind, GcoreApi, Provider};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `GET /cloud/v3/inference/{project_id}/registry_credentials` item.
#[derive(Debug, Clone, Default, Deserialize)]
struct RegistryCredential {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    registry_url: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// The create body for `spec`. Triggers the form left unset are sent as null; the command is one line with
/// shell quoting, split into the list the API takes (`nginx -g "daemon off;"` -> `["nginx", "-g", "daemon off;"]`).
/// A command line with shell quoting as the list of its words; the error says what to fix.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    shell_words::split(line).map_err(|_| "a quote is not closed: close it, or escape it with \\".to_string())
}

pub fn create_body(spec: &CreateSpec) -> ApiResult<Value> {
    let mut b = Map::new();
    b.insert("name".into(), json!(spec.name));
    match &spec.source {
        ImageSource::Image { image, credentials } => {
            b.insert("image".into(), json!(image));
            if let Some(c) = credentials.as_ref().filter(|c| !c.is_empty()) {
                b.insert("credentials_name".into(), json!(c));
            }
        }
        _ => {
            let mut e = ApiError::new(P, ErrorKind::Validation, "Gcore deploys an image");
            e.fields.push(("image".into(), "enter an image".into()));
            return Err(e);
        }
    }
    b.insert("listening_port".into(), json!(spec.port));
    b.insert("flavor_name".into(), json!(spec.hardware_id));
    let mut containers = Vec::with_capacity(spec.regions.len());
    for (i, r) in spec.regions.iter().enumerate() {
        let rid = region_int(&format!("regions[{i}].region"), &r.region_id)?;
        let mut s = Map::new();
        s.insert("min".into(), json!(r.scale.min));
        s.insert("max".into(), json!(r.scale.max));
        if let Some(c) = r.scale.cooldown_seconds {
            s.insert("cooldown_period".into(), json!(c));
        }
        if let Some(p) = r.scale.polling_interval_seconds {
            s.insert("polling_interval".into(), json!(p));
        }
        s.insert("triggers".into(), convert::triggers_json(&r.scale.triggers, None));
        containers.push(json!({ "region_id": rid, "scale": Value::Object(s) }));
    }
    b.insert("containers".into(), Value::Array(containers));
    if !spec.envs.is_empty() {
        b.insert("envs".into(), json!(spec.envs));
    }
    if let Some(c) = &spec.command {
        let words = split_command(c).map_err(|msg| {
            let mut e = ApiError::new(P, ErrorKind::Validation, format!("the command cannot be read: {msg}"));
            e.fields.push(("command".into(), msg));
            e
        })?;
        b.insert("command".into(), json!(words));
    }
    if let Some(p) = &spec.probes {
        let slot = |c: &Option<crate::model::ProbeConfig>| {
            c.as_ref().map(convert::probe_config_json).unwrap_or(Value::Null)
        };
        b.insert(
            "probes".into(),
            json!({
                "liveness_probe": slot(&p.liveness),
                "readiness_probe": slot(&p.readiness),
                "startup_probe": slot(&p.startup),
            }),
        );
    }
    if let Some(l) = &spec.logging {
        b.insert(
            "logging".into(),
            json!({
                "enabled": l.enabled,
                "destination_region_id": l.destination_region_id,
                "topic_name": l.topic_name,
                "retention_policy": l.retention_days.map(|d| json!({ "period": d })),
            }),
        );
    }
    Ok(Value::Object(b))
}

impl GcoreClient {
    /// Registry credentials of the project (names, URLs and usernames; the API never returns passwords).
    pub async fn registry_credentials(&self) -> ApiResult<Vec<RegistryInfo>> {
        let path = format!("/cloud/v3/inference/{}/registry_credentials", self.project_id);
        let items: Vec<RegistryCredential> = self.paged(&path, &[]).await?;
        Ok(items
            .into_iter()
            .filter_map(|c| {
                let name = c.name?;
                Some(RegistryInfo { id: name.clone(), name, url: c.registry_url, username: c.username })
            })
            .collect())
    }

    pub(super) async fn catalog_all(&self) -> ApiResult<Catalog> {
        let (hw, regions, creds) = tokio::join!(self.hardware(), self.regions(), self.registry_credentials());
        let mut c = Catalog::default();
        let mut failed = 0;
        match hw {
            Ok(v) => c.hardware = v,
            Err(e) => {
                failed += 1;
                c.problems.push(("flavors".into(), e.to_string()));
            }
        }
        match regions {
            Ok(v) => c.regions = v,
            Err(e) => {
                failed += 1;
                c.problems.push(("regions".into(), e.to_string()));
            }
        }
        match creds {
            Ok(v) => c.registries = v,
            Err(e) => c.problems.push(("registry credentials".into(), e.to_string())),
        }
        if failed == 2 {
            // Nothing to deploy on: say so as an error rather than an empty catalog.
            let (_, msg) = c.problems.remove(0);
            return Err(ApiError::new(P, ErrorKind::Other, msg));
        }
        Ok(c)
    }

    pub(super) async fn price_of(&self, spec: &CreateSpec) -> ApiResult<Option<Price>> {
        let mut containers = Vec::with_capacity(spec.regions.len());
        for (i, r) in spec.regions.iter().enumerate() {
            containers.push((region_int(&format!("regions[{i}].region"), &r.region_id)?, r.scale.max));
        }
        // The pricing schema wants `max >= 1`: a region that may run no container costs nothing and is left
        // out. With none left, one container is priced for the currency and the price is zero.
        let nothing_runs = containers.iter().all(|(_, max)| *max == 0);
        containers.retain(|(_, max)| *max >= 1);
        if nothing_runs && let Some(first) = spec.regions.first() {
            containers.push((region_int("regions[0].region", &first.region_id)?, 1));
        }
        let mut p: wire::PricePreview = self.price_preview(&spec.hardware_id, &containers).await?;
        if nothing_runs {
            p.price_per_hour = p.price_per_hour.map(|_| 0.0);
            p.price_per_month = p.price_per_month.map(|_| 0.0);
        }
        match p.price_status.as_deref() {
            Some("hide") => Ok(None),
            Some("error") => Err(ApiError::new(P, ErrorKind::Other, "the price preview reported an error")),
            _ => Ok(p.price_per_hour.map(|h| Price {
                currency: p.currency_code.clone().unwrap_or_else(|| "EUR".into()),
                per_hour: h,
                per_month: p.price_per_month,
            })),
        }
    }

    /// One replica of `flavor` in `region` for one hour. The preview takes only `containers[].scale.max`, and
    /// the spec does not say whether its answer is for `max` replicas or for one ("Preview the billing price
    /// for an inference deployment"): asked with `max: 1` in one region, both readings give one replica's
    /// price. A hidden price (`price_status: hide`), a null price or a null currency is no price, never a
    /// guess. Legacy v2 deployments name their flavor by uuid, which the preview (`flavor_name`) does not
    /// take: they stay unpriced.
    pub(super) async fn replica_price_of(&self, flavor: &str, region: &str) -> ApiResult<Option<Price>> {
        // The preview takes a flavor name. A v2 deployment's hardware is its flavor's name once the flavor was
        // read; while it is still the uuid there is nothing to ask with.
        if self.api == GcoreApi::V2 && crate::model::text::looks_like_uuid(flavor) {
            return Ok(None);
        }
        let p = self.price_preview(flavor, &[(region_int("region", region)?, 1)]).await?;
        match p.price_status.as_deref() {
            Some("hide") => Ok(None),
            Some("error") => Err(ApiError::new(P, ErrorKind::Other, "the price preview reported an error")),
            _ => Ok(match (p.price_per_hour, p.currency_code) {
                (Some(h), Some(c)) => Some(Price { currency: c, per_hour: h, per_month: p.price_per_month }),
                _ => None,
            }),
        }
    }

    pub(super) async fn create_from(&self, spec: &CreateSpec) -> ApiResult<crate::provider::Applied> {
        if self.api != GcoreApi::V3 {
            return Err(ApiError::unsupported(P, "create on the legacy v2 API"));
        }
        // Not repeated on a transient failure (a create is not idempotent): the error goes back to the form.
        self.create(&create_body(spec)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HttpTrigger, RegionScale, Scale, Triggers};

    #[test]
    fn create_body_has_the_required_fields_and_integer_regions() {
        let spec = CreateSpec {
            provider: P,
            name: "my-llm".into(),
            source: ImageSource::Image { image: "vllm/vllm-openai:latest".into(), credentials: None },
            port: 8000,
            hardware_id: "inference-1xl40s".into(),
            gpu_devices: None,
            project_id: None,
            regions: vec![RegionScale {
                region_id: "7".into(),
                scale: Scale {
                    min: 1,
                    max: 3,
                    triggers: Triggers {
                        cpu: Some(80),
                        http: Some(HttpTrigger { rate: 10, window: 60 }),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            }],
            envs: [("A".to_string(), "1".to_string())].into(),
            command: Some("python serve.py".into()),
            probes: None,
            logging: None,
        };
        let b = create_body(&spec).unwrap();
        assert_eq!(b["containers"][0]["region_id"], json!(7));
        assert_eq!(b["containers"][0]["scale"]["triggers"]["cpu"], json!({"threshold": 80}));
        assert_eq!(b["containers"][0]["scale"]["triggers"]["http"], json!({"rate": 10, "window": 60}));
        assert_eq!(b["command"], json!(["python", "serve.py"]));
        let quoted = CreateSpec { command: Some(r#"nginx -g "daemon off;""#.into()), ..spec.clone() };
        assert_eq!(create_body(&quoted).unwrap()["command"], json!(["nginx", "-g", "daemon off;"]));
        let open = CreateSpec { command: Some(r#"sh -c "echo"#.into()), ..spec.clone() };
        let e = create_body(&open).unwrap_err();
        assert_eq!((e.kind, e.fields[0].0.as_str()), (ErrorKind::Validation, "command"));
        assert_eq!(b["flavor_name"], json!("inference-1xl40s"));
        assert!(b.get("credentials_name").is_none());
        let mut bad = spec.clone();
        bad.regions[0].region_id = "x".into();
        assert_eq!(create_body(&bad).unwrap_err().fields[0].0, "regions[0].region");
    }
}
