//! infertop: a terminal dashboard for GPU inference deployments on Gcore, Sesterce and NVIDIA Run:ai.

pub mod model;
pub mod provider;
pub mod sim;
