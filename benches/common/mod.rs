//! The bench summary: each bench writes its figures to `target/bench-summary-<bench>.json`, then rebuilds
//! `target/bench-summary.json` from every part present, so one `cargo bench` leaves one file with all figures
//! (and `cargo bench --bench X` refreshes X's figures without losing the others).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The parts, in the order they appear in the combined summary.
const PARTS: [&str; 6] = ["dashboard", "fleet", "list_first", "process", "serve", "soak"];

pub fn target_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
}

/// Figures of one bench, printed as they are added.
#[derive(Default)]
pub struct Summary {
    rows: Vec<serde_json::Value>,
}

impl Summary {
    pub fn row(&mut self, name: &str, value: f64, unit: &str) {
        println!("{name:<44} {value:>12.3} {unit}");
        self.rows.push(serde_json::json!({"name": name, "value": value, "unit": unit}));
    }

    /// Writes this bench's part and the combined summary.
    pub fn write(&self, part: &str) {
        let dir = target_dir();
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("bench-summary-{part}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&self.rows).unwrap()).unwrap();
        println!("wrote {}", path.display());
        let mut all = Vec::new();
        for p in PARTS {
            let text = match std::fs::read_to_string(dir.join(format!("bench-summary-{p}.json"))) {
                Ok(t) => t,
                Err(_) => continue,
            };
            if let Ok(serde_json::Value::Array(rows)) = serde_json::from_str(&text) {
                all.extend(rows);
            }
        }
        let path = dir.join("bench-summary.json");
        std::fs::write(&path, serde_json::to_string_pretty(&all).unwrap()).unwrap();
        println!("wrote {} ({} figures)", path.display(), all.len());
    }
}

/// A config for the three demo accounts of a simulator at `url`; credentials come from the environment.
pub fn config_for(dir: &Path, url: &str) -> PathBuf {
    let text = format!(
        r#"[[account]]
name = "gcore-demo"
provider = "gcore"
base_url = "{url}"
project_id = {project}
api_key_env = "BENCH_GCORE_KEY"

[[account]]
name = "sesterce-demo"
provider = "sesterce"
base_url = "{url}"
api_key_env = "BENCH_SESTERCE_KEY"

[[account]]
name = "runai-demo"
provider = "runai"
base_url = "{url}"
client_id = "{client}"
client_secret_env = "BENCH_RUNAI_SECRET"
"#,
        project = infertop::sim::DEMO_GCORE_PROJECT,
        client = infertop::sim::DEMO_RUNAI_CLIENT_ID,
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}
