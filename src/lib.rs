//! infertop: a terminal dashboard for GPU inference deployments on Gcore, Sesterce and NVIDIA Run:ai.

pub mod model;
pub mod provider;
pub mod sim;
pub mod app;
pub mod ui;
pub mod cli;
pub mod config;
pub mod run;
pub mod sync;
pub mod tui;
