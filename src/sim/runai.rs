//! Simulated runai API (to be filled in by the runai work).

use super::SimState;
use super::fleet::FleetSpec;
use axum::Router;
use chrono::{DateTime, Utc};

pub struct Store {}

impl Store {
    pub fn new(_fleet: &FleetSpec, _seed: u64, _epoch: DateTime<Utc>) -> Self {
        Store {}
    }
}

pub fn router(_state: SimState) -> Router<SimState> {
    Router::new()
}
