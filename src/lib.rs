//! infertop: a terminal dashboard for GPU inference deployments on Gcore, Sesterce and NVIDIA Run:ai.

pub mod app;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod model;
pub mod provider;
pub mod run;
pub mod script;
pub mod serve;
pub mod sim;
pub mod sync;
pub mod tui;
pub mod ui;
