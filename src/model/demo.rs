//! The demo accounts' credentials: shared by the simulator (which accepts them) and the dashboard's `--demo`
//! accounts (which send them), so neither side imports the other.

pub const DEMO_GCORE_KEY: &str = "demo-gcore-key";
pub const DEMO_GCORE_PROJECT: i64 = 1;
pub const DEMO_SESTERCE_KEY: &str = "demo-sesterce-key";
pub const DEMO_RUNAI_CLIENT_ID: &str = "demo";
pub const DEMO_RUNAI_SECRET: &str = "demo-secret";
