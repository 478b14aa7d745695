//! Sesterce Cloud AI Inference client (seed `004_044379b10d40206f.txt`).
//!
//! - Auth: `x-api-key` on every request. Errors: `{statusCode, message}`, `message` a string or a list of
//!   strings (validation).
//! - The instances list is a summary without containers, so [`Provider::list`] also reads the details of each
//!   instance, concurrently, bounded by the account's `max_in_flight` (the shared [`Http`] limiter): one refresh
//!   is `1 + N` requests (plus 4 catalog requests the first time). A failed detail keeps that instance's summary.
//! - Hardware, region, model and registry names come from the catalogs, fetched once and cached.
//! - PATCH takes every field (the seed marks all required): the client reads the details right before and
//!   sends every field back as it read it, changing only the scale. A field the details left out
//!   (description, podLifetime, startupCommand, envs, apiKeyIds may be) refuses the edit before sending,
//!   naming it: sent as null or left out, it would be cleared. The details do not give `modelId` or
//!   `registryId`: they are left out (never sent as null, which may detach the model) unless the caller
//!   names the instance's model or registry; a provider that refuses the PATCH without them is reported so.
//! - There are no probes, logs or metrics in this API.

pub mod convert;
pub mod create;
pub mod wire;

use super::http::{Http, Request, fallback_message};
use super::{
    AccountSpec, ApiError, ApiResult, Applied, Capabilities, Credentials, ErrorKind, Provider, Secret,
};
use crate::model::settings::Settings;
use crate::model::{
    Deployment, HardwareInfo, ImageSource, Probes, ProviderKind, RegionInfo, RegionScale, ScaleUpdate,
};
use async_trait::async_trait;
use convert::Names;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use wire::{
    AutoScalingConfiguration, CreateInstance, ErrorBody, InstanceDetails, InstanceSummary,
    PricingConfiguration, PricingRequest, PricingResponse, PricingScale, UpdateInstance,
};

const P: ProviderKind = ProviderKind::Sesterce;

pub struct SesterceClient {
    account: String,
    base_url: String,
    api_key: Option<Secret>,
    http: Http,
    /// Catalog names, fetched once (only a complete fetch is kept).
    names: tokio::sync::Mutex<Option<Arc<Names>>>,
}

impl std::fmt::Debug for SesterceClient {
    /// The API key prints as `***` (it is a [`Secret`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SesterceClient")
            .field("account", &self.account)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// A price estimate (`POST /ai-inference/instances/pricing`).
#[derive(Debug, Clone, PartialEq)]
pub struct PricePreview {
    pub currency: String,
    pub per_hour: f64,
    pub per_month: f64,
}

/// What the create form fills in (`POST /ai-inference/instances`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewInstance {
    pub name: String,
    /// A model of the catalog, or None with a registry for a custom image.
    pub model_id: Option<String>,
    pub registry_id: Option<String>,
    pub hardware_id: String,
    pub container_port: u32,
    pub description: Option<String>,
    pub pod_lifetime: Option<u32>,
    pub envs: Option<BTreeMap<String, String>>,
    pub startup_command: Option<String>,
    pub api_key_ids: Option<Vec<String>>,
    pub regions: Vec<RegionScale>,
}

/// The fields a refused update names when Sesterce wants the instance's model or registry.
pub const SOURCE_FIELDS: [&str; 2] = ["modelId", "registryId"];

/// Whether `e` refuses an update for want of the instance's model or registry (the user can pick it).
pub fn wants_source(e: &ApiError) -> bool {
    e.provider == P
        && e.kind == ErrorKind::Validation
        && e.fields.iter().any(|(f, _)| SOURCE_FIELDS.contains(&f.as_str()))
}

/// A refusal that names `modelId` or `registryId` (the details never give them) says what to do, keeping
/// the provider's own message and fields.
fn asks_for_model(mut e: ApiError, source_given: bool) -> ApiError {
    let names_source = e.fields.iter().any(|(f, _)| SOURCE_FIELDS.contains(&f.as_str()));
    if names_source && !source_given {
        let provider: Vec<String> = e.fields.iter().map(|(f, m)| format!("{f} {m}")).collect();
        e.message = format!(
            "Sesterce refused the update: it wants the instance's model (modelId) or registry (registryId) with \
             every update, and its details do not give them, so infertop does not guess them (a wrong one would \
             move the instance to another model). Make this change in the Sesterce console. Sesterce said: {}",
            provider.join("; ")
        );
    }
    e
}

/// Builds an [`ApiError`] from a Sesterce error body. A list `message` (validation) becomes one field error per
/// item, the field being the item's first word (`autoScalingConfigurations.0.scale.max must not be ...`).
pub fn parse_error(provider: ProviderKind, status: u16, body: &[u8]) -> ApiError {
    let kind = ApiError::kind_for_status(status);
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let Some(e) = parsed.filter(|e| !e.messages().is_empty()) else {
        return ApiError::new(provider, kind, fallback_message(status, body)).with_status(status);
    };
    let msgs = e.messages();
    let is_list = matches!(e.message, Some(Value::Array(_)));
    let mut err = ApiError::new(provider, kind, msgs.join("; ")).with_status(status);
    if is_list {
        let mut loose = Vec::new();
        for m in &msgs {
            match field_of(m) {
                Some(f) => err.fields.push(f),
                None => loose.push(m.clone()),
            }
        }
        err.message = if !loose.is_empty() {
            loose.join("; ")
        } else {
            e.error.clone().unwrap_or_else(|| "the request was rejected".to_string())
        };
    }
    err
}

/// `"autoScalingConfigurations.0.scale.max must not be greater than 300"` ->
/// `("autoScalingConfigurations.0.scale.max", "must not be greater than 300")`.
fn field_of(msg: &str) -> Option<(String, String)> {
    let (head, rest) = msg.trim().split_once(char::is_whitespace)?;
    let is_path = !head.is_empty()
        && head.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && head.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '[' | ']'));
    is_path.then(|| (head.to_string(), rest.trim().to_string()))
}

impl SesterceClient {
    /// One instance in full for the list, or its summary when the details cannot be had.
    async fn full_or_summary(&self, s: &InstanceSummary, names: &Names) -> Deployment {
        let details = match s.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self.details(id).await,
            None => Err(ApiError::new(P, ErrorKind::Decode, "instance without _id")),
        };
        match details {
            Ok(d) => {
                let mut full = convert::details(&self.account, &d, names);
                // The list knows the id even when a detail record forgot it.
                if full.key.id.is_empty() {
                    full.key.id = s.id.clone().unwrap_or_default();
                }
                full
            }
            Err(e) => {
                tracing::warn!(
                    account = %self.account, instance = s.id.as_deref().unwrap_or(""), error = %e,
                    "sesterce: details unavailable, showing the summary"
                );
                // The summary carries no replicas: the row's health is unknown, and says why.
                let mut d = convert::summary(&self.account, s);
                d.unknown = Some(super::details_unread(&d.key, &e));
                d
            }
        }
    }

    pub fn new(spec: &AccountSpec, client: impl Into<super::http::Clients>) -> Self {
        let api_key = match &spec.credentials {
            Credentials::Sesterce { api_key } => Some(api_key.clone()),
            _ => None,
        };
        SesterceClient {
            account: spec.name.clone(),
            base_url: spec.base_url.clone(),
            api_key,
            http: Http::new(client, P, spec.max_in_flight, spec.retry, parse_error)
                .with_rate_limit(spec.rate_limit)
                .with_limits(spec.limits)
                .with_secrets(spec.credentials.secrets()),
            names: tokio::sync::Mutex::new(None),
        }
    }

    /// `base_url` + path segments, each percent-encoded.
    fn url(&self, segments: &[&str]) -> ApiResult<String> {
        let mut url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| ApiError::new(P, ErrorKind::Other, format!("bad base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| ApiError::new(P, ErrorKind::Other, "bad base URL: it cannot have a path"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url.into())
    }

    fn request(&self, method: Method, segments: &[&str]) -> ApiResult<Request> {
        let key = self.api_key.as_ref().ok_or_else(|| {
            ApiError::new(P, ErrorKind::Auth, "this account has no Sesterce API key (x-api-key)")
        })?;
        Ok(Request::new(method, self.url(segments)?).header("x-api-key", key.expose()))
    }

    /// A JSON array whose items are read one by one (a bad item is dropped, not the whole list).
    async fn get_list<T: serde::de::DeserializeOwned>(&self, segments: &[&str]) -> ApiResult<Vec<T>> {
        self.get_list_map(segments, &|t| Some(t)).await
    }

    /// [`Self::get_list`], each item mapped by `keep` as soon as it is decoded.
    async fn get_list_map<T: serde::de::DeserializeOwned, U>(
        &self,
        segments: &[&str],
        keep: &(dyn Fn(T) -> Option<U> + Sync),
    ) -> ApiResult<Vec<U>> {
        let req = self.request(Method::GET, segments)?.large_body();
        self.http.json_list_map(&req, keep).await
    }

    pub async fn models(&self) -> ApiResult<Vec<wire::Model>> {
        self.get_list(&["ai-inference", "models"]).await
    }

    pub async fn hardwares(&self) -> ApiResult<Vec<wire::Hardware>> {
        self.get_list(&["ai-inference", "hardwares"]).await
    }

    pub async fn regions_wire(&self) -> ApiResult<Vec<wire::Region>> {
        self.get_list(&["ai-inference", "regions"]).await
    }

    pub async fn registries(&self) -> ApiResult<Vec<wire::Registry>> {
        self.get_list(&["ai-inference", "registries"]).await
    }

    /// The instances list as the API gives it (summaries).
    pub async fn list_summaries(&self) -> ApiResult<Vec<InstanceSummary>> {
        Ok(self.instances(&|s| Some(s), |s| s.id.as_deref()).await?.items)
    }

    /// The instances list, each item mapped by `keep` as soon as it is decoded; items that could not be read
    /// are counted and named, and an id listed twice is one item and a warning.
    async fn instances<U>(
        &self,
        keep: &(dyn Fn(InstanceSummary) -> Option<U> + Sync),
        id: impl Fn(&U) -> Option<&str>,
    ) -> ApiResult<super::Listing<U>> {
        let req = self.request(Method::GET, &["ai-inference", "instances"])?.large_body();
        let mut listing = self.http.json_listing_map(&req, "Sesterce instances", keep).await?;
        listing.dedup_by("Sesterce instances", id);
        Ok(listing)
    }

    /// The details of one instance as the API gives it.
    pub async fn details(&self, id: &str) -> ApiResult<InstanceDetails> {
        let req = self.request(Method::GET, &["ai-inference", "instances", id])?;
        self.http.json(&req).await
    }

    /// Forgets the cached catalogs; the next conversion fetches them again.
    pub async fn refresh_catalogs(&self) {
        *self.names.lock().await = None;
    }

    /// The catalog names, fetched once. A fetch that fails in part is used for this call but not kept.
    async fn names(&self) -> Arc<Names> {
        let mut guard = self.names.lock().await;
        if let Some(n) = guard.as_ref() {
            return n.clone();
        }
        let (hw, rg, md, rs) =
            tokio::join!(self.hardwares(), self.regions_wire(), self.models(), self.registries());
        let mut names = Names::default();
        let mut complete = true;
        match hw {
            Ok(v) => {
                names.hardware = v.into_iter().filter_map(|h| Some((h.id?, h.name?))).collect();
            }
            Err(e) => {
                complete = false;
                tracing::warn!(account = %self.account, error = %e, "sesterce: hardware catalog unavailable");
            }
        }
        match rg {
            Ok(v) => names.regions = v.into_iter().filter_map(|r| Some((r.id?, r.name?))).collect(),
            Err(e) => {
                complete = false;
                tracing::warn!(account = %self.account, error = %e, "sesterce: regions catalog unavailable");
            }
        }
        match md {
            Ok(v) => names.models = v.into_iter().filter_map(|m| Some((m.id?, m.name?))).collect(),
            Err(e) => {
                complete = false;
                tracing::warn!(account = %self.account, error = %e, "sesterce: models catalog unavailable");
            }
        }
        match rs {
            Ok(v) => names.registries = v.into_iter().filter_map(|r| Some((r.id?, r.url?))).collect(),
            Err(e) => {
                complete = false;
                tracing::warn!(account = %self.account, error = %e, "sesterce: registries unavailable");
            }
        }
        let names = Arc::new(names);
        if complete {
            *guard = Some(names.clone());
        }
        names
    }

    /// `POST /ai-inference/instances/pricing`: hardware hourly rate for the given maximum per region.
    pub async fn price_preview<R: AsRef<str>>(
        &self,
        hardware_id: &str,
        regions: &[(R, u32)],
    ) -> ApiResult<PricePreview> {
        let r = self.pricing(hardware_id, regions).await?;
        Ok(PricePreview {
            currency: r.currency_code.unwrap_or_else(|| "USD".into()),
            per_hour: r.price_per_hour.unwrap_or(0.0),
            per_month: r.price_per_month.unwrap_or(0.0),
        })
    }

    /// `POST /ai-inference/instances/pricing` as the API answers it.
    pub async fn pricing<R: AsRef<str>>(
        &self,
        hardware_id: &str,
        regions: &[(R, u32)],
    ) -> ApiResult<PricingResponse> {
        let body = PricingRequest {
            hardware_id: hardware_id.to_string(),
            auto_scaling_configurations: regions
                .iter()
                .map(|(r, max)| PricingConfiguration {
                    region_id: convert::region_id_json(r.as_ref()),
                    scale: PricingScale { max: Some(*max) },
                })
                .collect(),
        };
        let req = self
            .request(Method::POST, &["ai-inference", "instances", "pricing"])?
            .json(to_json(&body)?)
            .idempotent(true);
        self.http.json(&req).await
    }

    /// The body `create` sends for `new`.
    pub fn create_body(new: &NewInstance) -> CreateInstance {
        CreateInstance {
            model_id: new.model_id.clone(),
            container_port: new.container_port,
            name: new.name.clone(),
            description: new.description.clone(),
            auto_scaling_configurations: new
                .regions
                .iter()
                .map(|r| AutoScalingConfiguration {
                    region_id: convert::region_id_json(&r.region_id),
                    scale: convert::new_scale(&r.scale),
                })
                .collect(),
            pod_lifetime: new.pod_lifetime,
            envs: new.envs.clone(),
            hardware_id: new.hardware_id.clone(),
            startup_command: new.startup_command.clone(),
            registry_id: new.registry_id.clone(),
            api_key_ids: new.api_key_ids.clone(),
        }
    }

    /// `POST /ai-inference/instances` (201); returns the new instance as a summary.
    pub async fn create(&self, new: &NewInstance) -> ApiResult<Deployment> {
        let body = Self::create_body(new);
        let req = self.request(Method::POST, &["ai-inference", "instances"])?.json(to_json(&body)?);
        let created: InstanceSummary = self.http.json(&req).await?;
        Ok(convert::summary(&self.account, &created))
    }

    /// The PATCH body for `update`: every field as read in `before`, the scale changed as asked.
    pub fn update_body(
        &self,
        before: &InstanceDetails,
        update: &ScaleUpdate,
        names: &Names,
    ) -> ApiResult<UpdateInstance> {
        self.update_body_with(before, update, names, None)
    }

    /// [`Self::update_body`] with the instance's model or registry as the user picked it (the details do not
    /// give them). A field neither read nor given is left out of the body, never sent as null.
    pub fn update_body_with(
        &self,
        before: &InstanceDetails,
        update: &ScaleUpdate,
        names: &Names,
        source: Option<&ImageSource>,
    ) -> ApiResult<UpdateInstance> {
        let id = before.id.clone().unwrap_or_default();
        let echo = |field: &str, v: &Option<Value>| -> Option<Value> {
            if v.is_none() {
                tracing::debug!(instance = %id, field, "sesterce: {field} absent from the details; not sent");
            }
            v.clone()
        };
        let (model_id, registry_id) = match source {
            Some(ImageSource::Model(m)) => (Some(Value::from(m.clone())), Some(Value::Null)),
            Some(ImageSource::Registry(r)) => (Some(Value::Null), Some(Value::from(r.clone()))),
            Some(ImageSource::Image { .. }) => {
                let mut e = ApiError::new(
                    P,
                    ErrorKind::Validation,
                    "a Sesterce instance runs a model or a registry image",
                );
                e.fields
                    .push(("modelId".into(), "pick a model of the catalog or one of your registries".into()));
                return Err(e);
            }
            None => (echo("modelId", &before.model_id), echo("registryId", &before.registry_id)),
        };
        // Nothing is sent without them: a known outcome (Other, not the transient Decode).
        let container_port = before.container_port.clone().filter(|v| !v.is_null()).ok_or_else(|| {
            ApiError::new(
                P,
                ErrorKind::Other,
                "the instance details lack containerPort; not sending an update",
            )
        })?;
        let hardware_id = before
            .hardware_id
            .clone()
            .filter(|v| !v.is_null())
            .or_else(|| {
                let name = before.hardware_name.as_ref()?;
                names.hardware.iter().find(|(_, n)| *n == name).map(|(id, _)| Value::from(id.clone()))
            })
            .ok_or_else(|| {
                ApiError::new(
                    P,
                    ErrorKind::Other,
                    "the instance details lack hardwareId; not sending an update",
                )
            })?;
        let api_key_ids = match (&before.api_keys_ids, &before.api_key_ids) {
            (Some(v), _) | (None, Some(v)) => Some(v.clone()),
            (None, None) => echo("apiKeyIds", &None),
        };
        let configs = update
            .regions
            .iter()
            .map(|r| {
                match before.containers.iter().find(|c| convert::region_id_text(&c.region_id) == r.region_id)
                {
                    Some(c) => AutoScalingConfiguration {
                        region_id: c.region_id.clone(),
                        scale: convert::apply_scale(&c.scale, &r.scale),
                    },
                    None => AutoScalingConfiguration {
                        region_id: convert::region_id_json(&r.region_id),
                        scale: convert::new_scale(&r.scale),
                    },
                }
            })
            .collect();
        Ok(UpdateInstance {
            model_id,
            container_port,
            description: echo("description", &before.description),
            auto_scaling_configurations: configs,
            pod_lifetime: echo("podLifetime", &before.pod_lifetime),
            envs: echo("envs", &before.envs),
            hardware_id,
            startup_command: echo("startupCommand", &before.startup_command),
            registry_id,
            api_key_ids,
        })
    }

    /// A scale edit, with the instance's model or registry when the user picked it: the details never give
    /// them, and a provider that wants them refuses the edit (the error says so and names the field).
    pub async fn update_scale_with(
        &self,
        id: &str,
        update: &ScaleUpdate,
        source: Option<&ImageSource>,
    ) -> ApiResult<Applied> {
        let before = self.details(id).await?;
        let names = self.names().await;
        let body = self.update_body_with(&before, update, &names, source)?;

        let current: Vec<AutoScalingConfiguration> = before
            .containers
            .iter()
            .map(|c| AutoScalingConfiguration { region_id: c.region_id.clone(), scale: c.scale.clone() })
            .collect();
        if body.auto_scaling_configurations == current {
            let mut d = convert::details(&self.account, &before, &names);
            if d.key.id.is_empty() {
                d.key.id = id.to_string();
            }
            return Ok(Applied::NoChange(Box::new(d)));
        }
        unread(&body)?;
        // Safe to repeat: the PATCH carries every field with its absolute value.
        let req = self
            .request(Method::PATCH, &["ai-inference", "instances", id])?
            .json(to_json(&body)?)
            .idempotent(true);
        self.http.send(&req).await.map_err(|e| asks_for_model(e, source.is_some()))?;
        Ok(Applied::Done(Box::new(self.get(id).await?)))
    }

    /// A settings edit: the seed's full PATCH, every field as read except those the settings change. A
    /// cleared text or env map is sent empty, never as null (one reading of the API keeps a null's old value).
    pub async fn update_settings_with(&self, id: &str, s: &Settings) -> ApiResult<Applied> {
        if s.probes.as_ref().is_some_and(|p| *p != Probes::default()) || s.logging.is_some() {
            return Err(ApiError::unsupported(P, "probes or logging settings"));
        }
        let before = self.details(id).await?;
        let names = self.names().await;
        let mut cur_dep = convert::details(&self.account, &before, &names);
        if cur_dep.key.id.is_empty() {
            cur_dep.key.id = id.to_string();
        }
        let cur = Settings::from_deployment(&cur_dep);
        if s.image != cur.image && s.source.is_none() {
            return Err(ApiError::unsupported(P, "an image reference (pick a model or a registry)"));
        }
        let mut body = self.update_body_with(&before, &s.scale, &names, s.source.as_ref())?;
        let mut changed = s.source.is_some() || s.scale != cur.scale;
        if s.port != cur.port {
            body.container_port = Value::from(s.port.unwrap_or_default());
            changed = true;
        }
        if s.description != cur.description {
            body.description = Some(Value::from(s.description.clone().unwrap_or_default()));
            changed = true;
        }
        if s.command != cur.command {
            body.startup_command = Some(Value::from(s.command.clone().unwrap_or_default()));
            changed = true;
        }
        if s.envs != cur.envs {
            body.envs = Some(serde_json::to_value(&s.envs).unwrap_or(Value::Null));
            changed = true;
        }
        if !changed {
            return Ok(Applied::NoChange(Box::new(cur_dep)));
        }
        unread(&body)?;
        // Safe to repeat: the PATCH carries every field with its absolute value.
        let req = self
            .request(Method::PATCH, &["ai-inference", "instances", id])?
            .json(to_json(&body)?)
            .idempotent(true);
        self.http.send(&req).await.map_err(|e| asks_for_model(e, s.source.is_some()))?;
        Ok(Applied::Done(Box::new(self.get(id).await?)))
    }

    async fn post_action(&self, id: &str, action: &str) -> ApiResult<()> {
        // Repeating a start or a stop cannot do harm.
        let req = self.request(Method::POST, &["ai-inference", "instances", id, action])?.idempotent(true);
        self.http.send(&req).await.map(|_| ())
    }
}

/// Refuses a PATCH that lacks a field the details may leave out (seed 004's PATCH takes every field, and
/// Sesterce reads one left out as null): a field neither read nor set by the edit would be cleared. `modelId`
/// and `registryId`, never in the details, follow their own rule (see [`SesterceClient::update_body_with`]).
fn unread(body: &UpdateInstance) -> ApiResult<()> {
    let missing: Vec<&str> = [
        ("description", &body.description),
        ("podLifetime", &body.pod_lifetime),
        ("envs", &body.envs),
        ("startupCommand", &body.startup_command),
        ("apiKeyIds", &body.api_key_ids),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_none())
    .map(|(k, _)| k)
    .collect();
    if missing.is_empty() { Ok(()) } else { Err(ApiError::not_read(P, &missing, "clear")) }
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Value> {
    serde_json::to_value(v)
        .map_err(|e| ApiError::new(P, ErrorKind::Other, format!("could not build the request: {e}")))
}

#[async_trait]
impl Provider for SesterceClient {
    fn kind(&self) -> ProviderKind {
        P
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update_scale: true,
            update_probes: false,
            start_stop: true,
            delete: true,
            logs: false,
            metrics: false,
            logging_config: false,
            per_region_scale: true,
            pricing: true,
            create: true,
        }
    }

    async fn listing(&self) -> ApiResult<super::Listing> {
        let super::Listing { items: summaries, warnings, cut } =
            self.instances(&|s| Some(s), |s| s.id.as_deref()).await?;
        let names = self.names().await;
        // At most the account's limit of detail requests at once, each converted as it arrives: a large fleet
        // never holds a pending request, or a wire record, per instance.
        use futures::StreamExt;
        let mut pending = futures::stream::FuturesOrdered::new();
        let mut todo = summaries.iter();
        let mut out = Vec::with_capacity(summaries.len());
        loop {
            while pending.len() < self.http.limit() {
                match todo.next() {
                    Some(s) => pending.push_back(self.full_or_summary(s, &names)),
                    None => break,
                }
            }
            match pending.next().await {
                Some(d) => out.push(d),
                None => return Ok(super::Listing { items: out, warnings, cut }),
            }
        }
    }

    async fn list_summaries(&self) -> Option<ApiResult<super::Listing<super::Listed>>> {
        // Each summary is converted as soon as it is decoded: the list's wire records never exist at once.
        let listed = |s: InstanceSummary| {
            Some(super::Listed {
                dep: convert::summary(&self.account, &s),
                version: format!(
                    "{}@{}",
                    s.status.as_deref().unwrap_or(""),
                    s.updated_at.as_deref().unwrap_or("")
                ),
            })
        };
        Some(self.instances(&listed, |l| Some(l.dep.key.id.as_str())).await)
    }

    fn effective_rate(&self) -> Option<(f64, f64)> {
        self.http.effective_rate()
    }

    async fn get(&self, id: &str) -> ApiResult<Deployment> {
        let d = self.details(id).await?;
        let names = self.names().await;
        let mut out = convert::details(&self.account, &d, &names);
        if out.key.id.is_empty() {
            out.key.id = id.to_string();
        }
        Ok(out)
    }

    async fn update_scale(&self, id: &str, update: &ScaleUpdate) -> ApiResult<Applied> {
        self.update_scale_with(id, update, None).await
    }

    async fn update_scale_with_source(
        &self,
        id: &str,
        update: &ScaleUpdate,
        source: Option<&ImageSource>,
    ) -> ApiResult<Applied> {
        self.update_scale_with(id, update, source).await
    }

    async fn update_probes(&self, _id: &str, _probes: &Probes) -> ApiResult<Applied> {
        Err(ApiError::unsupported(P, "probes"))
    }

    async fn update_settings(&self, id: &str, settings: &Settings) -> ApiResult<Applied> {
        self.update_settings_with(id, settings).await
    }

    async fn start(&self, id: &str) -> ApiResult<()> {
        self.post_action(id, "start").await
    }

    async fn stop(&self, id: &str) -> ApiResult<()> {
        self.post_action(id, "stop").await
    }

    async fn delete(&self, id: &str) -> ApiResult<()> {
        let req = self.request(Method::DELETE, &["ai-inference", "instances", id])?;
        self.http.send(&req).await.map(|_| ())
    }

    async fn regions(&self) -> ApiResult<Vec<RegionInfo>> {
        let (regions, names) = tokio::join!(self.regions_wire(), self.names());
        Ok(regions?.iter().map(|r| convert::region_info(r, &names)).collect())
    }

    async fn hardware(&self) -> ApiResult<Vec<HardwareInfo>> {
        Ok(self.hardwares().await?.iter().map(convert::hardware).collect())
    }

    async fn catalog(&self) -> ApiResult<crate::model::Catalog> {
        self.catalog_all().await
    }

    async fn price(&self, spec: &crate::model::CreateSpec) -> ApiResult<Option<crate::model::Price>> {
        self.price_of(spec).await
    }

    async fn replica_price(&self, hardware: &str, region: &str) -> ApiResult<Option<crate::model::Price>> {
        self.replica_price_of(hardware, region).await
    }

    async fn create(&self, spec: &crate::model::CreateSpec) -> ApiResult<Applied> {
        self.create_from(spec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_list_becomes_field_errors() {
        let body = br#"{"statusCode":400,"message":["autoScalingConfigurations.0.scale.max must not be greater than 300","containerPort must not be less than 1"]}"#;
        let e = parse_error(P, 400, body);
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.status, Some(400));
        assert_eq!(
            e.fields,
            [
                (
                    "autoScalingConfigurations.0.scale.max".to_string(),
                    "must not be greater than 300".to_string()
                ),
                ("containerPort".to_string(), "must not be less than 1".to_string())
            ]
        );
        assert!(
            e.to_string().contains("autoScalingConfigurations.0.scale.max: must not be greater than 300")
        );
    }

    #[test]
    fn string_message_and_foreign_bodies() {
        let e = parse_error(P, 401, br#"{"statusCode":401,"message":"Invalid API key"}"#);
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Auth, "Invalid API key"));
        let e = parse_error(P, 502, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::Server);
        assert!(e.message.contains("bad gateway"));
        let e = parse_error(P, 500, b"");
        assert_eq!(e.message, "HTTP 500");
    }
}
