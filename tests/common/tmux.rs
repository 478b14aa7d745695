//! Driving the real binary in tmux, and a real `infertop sim` process, for end-to-end tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_infertop");

pub struct Sim {
    pub child: Child,
    pub url: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config of the simulator's three accounts at `url` (`gcore-sim`, `sesterce-sim`, `runai-sim`), their
/// credentials read from `{prefix}_GCORE_KEY`, `{prefix}_SESTERCE_KEY` and `{prefix}_RUNAI_SECRET` (each test
/// its own prefix); [`sim_credentials`] gives those variables the simulator's values.
pub fn sim_accounts_config(url: &str, prefix: &str) -> String {
    format!(
        r#"
[[account]]
name = "gcore-sim"
provider = "gcore"
base_url = "{url}"
project_id = 1
api_key_env = "{prefix}_GCORE_KEY"

[[account]]
name = "sesterce-sim"
provider = "sesterce"
base_url = "{url}"
api_key_env = "{prefix}_SESTERCE_KEY"

[[account]]
name = "runai-sim"
provider = "runai"
base_url = "{url}"
client_id = "demo"
client_secret_env = "{prefix}_RUNAI_SECRET"
"#
    )
}

/// The variables of [`sim_accounts_config`] with the simulator's demo credentials.
pub fn sim_credentials(prefix: &str) -> [(String, &'static str); 3] {
    [
        (format!("{prefix}_GCORE_KEY"), infertop::sim::DEMO_GCORE_KEY),
        (format!("{prefix}_SESTERCE_KEY"), infertop::sim::DEMO_SESTERCE_KEY),
        (format!("{prefix}_RUNAI_SECRET"), infertop::sim::DEMO_RUNAI_SECRET),
    ]
}

pub fn start_sim(extra: &[&str]) -> Sim {
    let mut child = Command::new(BIN)
        .args(["sim", "--listen", "127.0.0.1:0", "--seed", "3"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start infertop sim");
    let mut first = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    // Keep draining the simulator's output so it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first.trim().strip_prefix("listening on ").expect("first line names the address").to_string();
    Sim { child, url }
}

/// A private tmux server whose socket is in the test's own directory (`-S`, not `-L`, which would leave a
/// socket file behind in tmux's directory for every test run); both go on drop.
pub struct Tmux {
    pub socket: PathBuf,
    pub dir: PathBuf,
}

impl Tmux {
    pub fn new(tag: &str) -> Tmux {
        let dir = std::env::temp_dir().join(format!("infertop-e2e-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Tmux { socket: dir.join("tmux.sock"), dir }
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out =
            Command::new("tmux").arg("-S").arg(&self.socket).args(args).output().expect("tmux is installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `script` (a shell line) in a 120×60 session (tall enough for the whole demo fleet).
    pub fn start(&self, script: &str) {
        self.start_sized(script, 120, 60);
    }

    /// Starts `script` in a `w`×`h` session.
    pub fn start_sized(&self, script: &str, w: u16, h: u16) {
        let (w, h) = (w.to_string(), h.to_string());
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["new-session", "-d", "-s", "main", "-x", &w, "-y", &h, script])
            .output()
            .expect("tmux is installed");
        assert!(out.status.success(), "tmux failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "main", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    pub fn type_text(&self, s: &str) {
        self.cmd(&["send-keys", "-t", "main", "-l", s]);
        std::thread::sleep(Duration::from_millis(100));
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "main"])
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `bound`.
    pub fn wait_for(&self, what: &str, bound: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > bound {
                panic!("never saw {what}; last screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.cmd(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `READY` numbers of the regions-pane line of `region`.
pub fn region_ready(screen: &str, region: &str) -> Option<(u32, u32)> {
    let line =
        screen.lines().find(|l| l.contains(region) && l.contains("..") && !l.contains("Deployments"))?;
    let word = line
        .split_whitespace()
        .find(|w| w.contains('/') && w.split('/').all(|n| n.parse::<u32>().is_ok()))?;
    let (a, b) = word.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
