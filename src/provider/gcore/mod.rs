//! Gcore client (placeholder until the gcore work lands: every call says it is not implemented).

use super::{AccountSpec, ApiError, ApiResult, Applied, Capabilities, ErrorKind, Provider};
use crate::model::{Deployment, Probes, ProviderKind, ScaleUpdate};
use async_trait::async_trait;

pub struct GcoreClient {
    account: String,
}

impl GcoreClient {
    pub fn new(spec: &AccountSpec, _client: reqwest::Client) -> Self {
        GcoreClient { account: spec.name.clone() }
    }

    fn todo<T>(&self) -> ApiResult<T> {
        Err(ApiError::new(ProviderKind::Gcore, ErrorKind::Unsupported, "not implemented yet"))
    }
}

#[async_trait]
impl Provider for GcoreClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gcore
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update_scale: false,
            update_probes: false,
            start_stop: false,
            delete: false,
            logs: false,
            metrics: false,
            logging_config: false,
            per_region_scale: true,
            pricing: false,
        }
    }
    async fn list(&self) -> ApiResult<Vec<Deployment>> {
        self.todo()
    }
    async fn get(&self, _id: &str) -> ApiResult<Deployment> {
        self.todo()
    }
    async fn update_scale(&self, _id: &str, _u: &ScaleUpdate) -> ApiResult<Applied> {
        self.todo()
    }
    async fn update_probes(&self, _id: &str, _p: &Probes) -> ApiResult<Applied> {
        self.todo()
    }
    async fn start(&self, _id: &str) -> ApiResult<()> {
        self.todo()
    }
    async fn stop(&self, _id: &str) -> ApiResult<()> {
        self.todo()
    }
    async fn delete(&self, _id: &str) -> ApiResult<()> {
        self.todo()
    }
}
