//! Every command of the README's `sh` blocks is run: here with the built binary (on loopback, in a fresh
//! home; the dashboard in tmux until its first frame, then `q`), or, for the cargo commands that build and
//! install, by `.ci/run` (checked here to contain them). A command this test does not know how to run fails
//! it, so a new README command comes with its check.

mod common;

use common::tmux::{BIN, Tmux};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The `sh` blocks of the README, each with the heading of its section and its lines.
fn sh_blocks() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut cur: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("## ") => heading = l[3..].to_string(),
            (None, "```sh") => cur = Some(Vec::new()),
            (Some(_), "```") => blocks.push((heading.clone(), cur.take().unwrap())),
            (Some(b), l) => b.push(l.to_string()),
            _ => {}
        }
    }
    blocks
}

/// "Your real accounts", played by a simulator: the example config's account names, on loopback.
fn accounts_config(addr: &str) -> String {
    format!(
        "[[account]]\nname = \"gcore-prod\"\nprovider = \"gcore\"\nbase_url = \"http://{addr}\"\nproject_id = 1\n\
         api_key = \"demo-gcore-key\"\n\n[[account]]\nname = \"sesterce\"\nprovider = \"sesterce\"\n\
         base_url = \"http://{addr}\"\napi_key = \"demo-sesterce-key\"\n\n[[account]]\nname = \"runai\"\n\
         provider = \"runai\"\nbase_url = \"http://{addr}\"\nclient_id = \"demo\"\nclient_secret = \"demo-secret\"\n"
    )
}

/// A simulator started by a README line (`infertop sim --listen 127.0.0.1:8000`), on a free port instead.
struct Sim {
    child: Child,
    addr: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_sim(args: &[String]) -> Sim {
    let args: Vec<String> = args.iter().map(|a| a.replace("127.0.0.1:8000", "127.0.0.1:0")).collect();
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sim");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr =
        first.trim().strip_prefix("listening on http://").expect("the sim names its address").to_string();
    Sim { child, addr }
}

struct Runner {
    home: PathBuf,
    sim: Option<Sim>,
    ci: String,
    ran: usize,
}

impl Runner {
    /// The line with the README's fixed port (and the config that names it) moved to the running simulator.
    fn localize(&self, line: &str) -> String {
        let Some(sim) = &self.sim else { return line.to_string() };
        let cfg = self.home.join("sim.toml");
        let text = std::fs::read_to_string(Path::new(ROOT).join("assets/sim.toml")).unwrap();
        std::fs::write(&cfg, text.replace("127.0.0.1:8000", &sim.addr)).unwrap();
        line.replace("assets/sim.toml", cfg.to_str().unwrap()).replace("127.0.0.1:8000", &sim.addr)
    }

    fn env(&self, c: &mut Command) {
        let path = format!(
            "{}:{}",
            Path::new(BIN).parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("HOME", &self.home)
            .env_remove("INFERTOP_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env("XDG_STATE_HOME", self.home.join("state"))
            .current_dir(&self.home);
    }

    /// The dashboard in tmux: its first frame, then `q`, then a clean exit.
    fn dashboard(&mut self, args: &str) {
        eprintln!("README dashboard: {args}");
        let t = Tmux::new(&format!("readme-{}", self.ran));
        let path = format!(
            "{}:{}",
            Path::new(BIN).parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        t.start_sized(
            &format!(
                "cd {ROOT} && env HOME={} XDG_STATE_HOME={}/state PATH={path} infertop {args}; echo README-EXIT-$?; sleep 30",
                self.home.display(),
                self.home.display()
            ),
            120,
            40,
        );
        t.wait_for(&format!("the dashboard of `infertop {args}`"), Duration::from_secs(20), |s| {
            s.contains("Deployments") && s.contains("READY")
        });
        t.keys(&["q"]);
        let s = t.wait_for("the dashboard's exit", Duration::from_secs(10), |s| s.contains("README-EXIT-"));
        assert!(s.contains("README-EXIT-0"), "`infertop {args}` did not exit cleanly:\n{s}");
    }

    /// One shell line, with the exit status its comment states (`exit N`), else 0.
    fn shell(&mut self, line: &str, comment: &str) {
        eprintln!("README shell: {line}");
        let want: i32 = comment
            .split("exit ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut c = Command::new("bash");
        c.args(["-euo", "pipefail", "-c", line]);
        self.env(&mut c);
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(want),
            "`{line}`: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn line(&mut self, raw: &str) {
        let (cmd, comment) = match raw.split_once("  #") {
            Some((c, k)) => (c.trim(), k.trim()),
            None => (raw.trim(), ""),
        };
        if cmd.is_empty() || cmd.starts_with('#') {
            return;
        }
        self.ran += 1;
        // `cargo run --release -- ARGS` is the installed `infertop ARGS`; building it is `.ci/run`'s work.
        let cmd = cmd
            .strip_prefix("cargo run --release -- ")
            .map(|r| format!("infertop {r}"))
            .unwrap_or(cmd.to_string());
        if cmd.starts_with("cargo ") || cmd.starts_with("bash .ci/run") {
            assert!(
                cmd == "bash .ci/run" || self.ci.contains(&cmd),
                "`{cmd}` is run neither here nor by .ci/run"
            );
            return;
        }
        let words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
        assert_eq!(words[0], "infertop", "a README command this test does not know how to run: `{cmd}`");
        if words.get(1).is_some_and(|w| w == "sim")
            && !words.iter().any(|w| w == "--list-ambiguities" || w == "--help")
        {
            // A simulator: started (in the background when the line ends with `&`), checked to listen.
            let args: Vec<String> = words[1..].iter().filter(|w| *w != "&").cloned().collect();
            let sim = spawn_sim(&args);
            let r = reqwest::blocking::get(format!("http://{}/_sim/traffic", sim.addr)).unwrap();
            assert!(r.status().is_success());
            if cmd.ends_with('&') {
                self.sim = Some(sim);
            }
            return;
        }
        let dashboard = words.len() == 1
            || (words[1].starts_with("--") && !words.iter().any(|w| w == "--help" || w == "--version"));
        let cmd = self.localize(&cmd);
        if dashboard {
            self.dashboard(cmd.strip_prefix("infertop").unwrap().trim());
        } else {
            self.shell(&cmd, comment);
        }
    }
}

#[test]
fn every_readme_command_runs() {
    let home = std::env::temp_dir().join(format!("infertop-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let ci = std::fs::read_to_string(Path::new(ROOT).join(".ci/run")).unwrap();
    let mut r = Runner { home: home.clone(), sim: None, ci, ran: 0 };
    let config = home.join(".config/infertop/config.toml");
    for (heading, block) in sh_blocks() {
        // The monitoring walk-through starts `serve` and Prometheus and leaves them running for the reader;
        // tests/prometheus.rs runs the same commands (serve, prometheus with the alert rules, its HTTP API) and
        // stops them.
        if heading == "Monitoring" {
            continue;
        }
        // The commands about your own accounts get a config whose accounts are a simulator's.
        let _accounts = (heading == "Against your real accounts").then(|| {
            let sim = spawn_sim(&["sim".into(), "--listen".into(), "127.0.0.1:0".into()]);
            std::fs::create_dir_all(config.parent().unwrap()).unwrap();
            std::fs::write(&config, accounts_config(&sim.addr)).unwrap();
            sim
        });
        if _accounts.is_none() {
            let _ = std::fs::remove_file(&config);
        }
        if block.iter().any(|l| l.contains("curl")) {
            // A script of its own (variables, continuations): run whole against a simulator.
            let sim = spawn_sim(&["sim".into(), "--listen".into(), "127.0.0.1:0".into()]);
            let script = block.join("\n").replace("127.0.0.1:8000", &sim.addr);
            let mut c = Command::new("bash");
            c.args(["-euo", "pipefail", "-c", &script]);
            r.env(&mut c);
            let out = c.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{script}\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
            assert!(!stdout.trim().is_empty(), "the curl block printed nothing");
            r.ran += 1;
            continue;
        }
        for line in &block {
            if line.trim() == "kill %1" {
                assert!(r.sim.take().is_some(), "`kill %1` without a simulator in the background");
                continue;
            }
            r.line(line);
        }
    }
    assert!(r.ran >= 10, "only {} README commands found", r.ran);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_readme_capture_is_the_size_it_says() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let after = text.split("at 120×40").nth(1).expect("the README names the capture's size");
    let block = after.split("```\n").nth(1).expect("a capture follows");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(lines.len(), 40, "the capture is {} lines", lines.len());
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "a line wider than 120");
    assert_eq!(lines.iter().map(|l| l.chars().count()).max(), Some(120));
    assert!(lines[0].contains("26 deployments") && lines[39].contains("q quit"), "{block}");
}
