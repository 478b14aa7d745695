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

/// A private tmux server for a bench's dashboards, killed on drop, its socket (and directory) removed.
pub struct Tmux {
    dir: std::path::PathBuf,
    socket: String,
}

impl Tmux {
    /// A server on a socket of its own in a directory of its own (`infertop-{name}-{pid}`); None where tmux
    /// cannot start.
    pub fn new(name: &str) -> Option<Tmux> {
        let dir = std::env::temp_dir().join(format!("infertop-tmux-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let socket = dir.join("tmux.sock").display().to_string();
        let t = Tmux { dir, socket };
        // A placeholder session keeps the server up, so later sessions don't pay for its start.
        t.cmd(&["new-session", "-d", "-s", "keep", "-x", "200", "-y", "50", "sleep 3600"]).then_some(t)
    }

    pub fn cmd(&self, args: &[&str]) -> bool {
        std::process::Command::new("tmux")
            .args(["-S", &self.socket])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts `command` (run through `sh -c`, with `exec`) in a 200×50 session; returns its pid.
    pub fn spawn(&self, name: &str, command: &str) -> u32 {
        let exec = format!("exec {command}");
        assert!(
            self.cmd(&["new-session", "-d", "-s", name, "-x", "200", "-y", "50", &exec]),
            "tmux session {name}"
        );
        let out = std::process::Command::new("tmux")
            .args(["-S", &self.socket, "list-panes", "-t", name, "-F", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("pane pid")
    }

    /// What session `name` shows now.
    pub fn screen(&self, name: &str) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-S", &self.socket, "capture-pane", "-p", "-t", name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn kill(&self, name: &str) {
        self.cmd(&["kill-session", "-t", name]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `infertop sim` with `args` on a loopback port of its own; its process and base URL (from the
/// first line it prints).
pub fn start_sim(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infertop"))
        .arg("sim")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").expect("the simulator's first line").to_string();
    (child, url)
}

/// A figure of a `/proc/{pid}/status` text (`VmRSS:`, `VmHWM:`), in MB.
pub fn status_field_mb(status: &str, field: &str) -> Option<f64> {
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(kb / 1024.0)
}

/// A figure of the process's status now, in MB (the process must be alive).
pub fn status_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process alive");
    status_field_mb(&status, field).unwrap_or_else(|| panic!("{field}"))
}

/// CPU seconds a process has used (all its threads).
pub fn cpu_seconds(pid: u32) -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process alive");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / ticks
}
