//! Config: discovery, merging over the embedded defaults, every fixture under `tests/valid_configs/` starts
//! (checked and used for a real snapshot against the simulator) and every one under `tests/invalid_configs/`
//! fails with the message its first line expects; keymap overrides show in the help; the headless snapshot.

mod common;

use common::tmux::{BIN, start_sim};
use infertop::config::Config;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

fn infertop(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let tmp = common::temp::TempDir::unique("config-test");
    let home = tmp.0.clone();
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("INFERTOP_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("T_GCORE_KEY", "demo-gcore-key")
        .env("T_SESTERCE_KEY", "demo-sesterce-key")
        .env("T_RUNAI_SECRET", "demo-secret");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn every_valid_config_starts_against_the_simulator() {
    let sim = start_sim(&[]);
    let tmp = common::temp::TempDir::new("valid", "configs");
    let dir = tmp.0.clone();
    for f in fixtures("valid_configs") {
        let text = std::fs::read_to_string(&f).unwrap().replace("{SIM}", &sim.url);
        let path = dir.join(f.file_name().unwrap());
        std::fs::write(&path, &text).unwrap();
        let check = infertop(&["config", "check", path.to_str().unwrap()], &[]);
        assert!(check.status.success(), "{}: {}", f.display(), String::from_utf8_lossy(&check.stderr));
        let snap = infertop(&["snapshot", "--json", "--config", path.to_str().unwrap()], &[]);
        assert!(snap.status.success(), "{}: {}", f.display(), String::from_utf8_lossy(&snap.stderr));
        let v: serde_json::Value = serde_json::from_slice(&snap.stdout).unwrap();
        let accounts = v["accounts"].as_array().unwrap();
        assert!(accounts.iter().all(|a| a["ok"] == true), "{}: {v}", f.display());
        assert!(!v["deployments"].as_array().unwrap().is_empty(), "{}", f.display());
    }
}

#[test]
fn every_invalid_config_fails_with_a_clear_message() {
    for f in fixtures("invalid_configs") {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect =
            text.lines().next().unwrap().strip_prefix("# expect: ").expect("first line says what to expect");
        let out = infertop(&["config", "check", f.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{} passed the check", f.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{}: expected {expect:?} in:\n{err}", f.display());
        // The dashboard refuses it too, before touching the terminal.
        let run = infertop(&["--config", f.to_str().unwrap()], &[]);
        assert!(!run.status.success(), "{} started", f.display());
    }
}

#[test]
fn discovery_order_is_env_then_xdg_then_home() {
    let tmp = std::env::temp_dir().join(format!("infertop-discovery-{}", std::process::id()));
    let info = |env: &[(&str, &str)]| String::from_utf8_lossy(&infertop(&["info"], env).stdout).into_owned();
    assert!(info(&[("INFERTOP_CONFIG", "/x/y.toml")]).contains("config:     /x/y.toml"));
    let xdg = tmp.join("xdg");
    let s = info(&[("XDG_CONFIG_HOME", xdg.to_str().unwrap())]);
    assert!(s.contains(&format!("config:     {}/infertop/config.toml", xdg.display())), "{s}");
    let s = info(&[]);
    assert!(s.contains(".config/infertop/config.toml"), "{s}");
    assert!(s.contains("not present: built-in defaults"), "{s}");
    assert!(s.contains("log file:") && s.contains("audit file:"), "{s}");
}

#[test]
fn a_users_file_is_merged_over_the_defaults() {
    let d = Config::defaults();
    assert_eq!(d.refresh_seconds, Some(5.0));
    assert_eq!(d.theme.as_deref(), Some("dark"));
    let c = Config::parse("theme = \"light\"\n[keys]\nmove_down = [\"n\"]\n").unwrap();
    assert_eq!(c.theme.as_deref(), Some("light"));
    assert_eq!(c.refresh_seconds, Some(5.0), "untouched defaults stay");
    assert_eq!(c.keys["move_up"], vec!["k", "up"], "untouched keys stay");
    let km = c.keymap().unwrap();
    let help = km.help_rows(false);
    assert!(help.iter().any(|(k, d)| k == "n" && *d == "move down"), "{help:?}");
    assert!(help.iter().any(|(k, d)| k == "k ↑" && *d == "move up"), "{help:?}");
}

#[test]
fn snapshot_json_and_fail_on_unhealthy() {
    let demo = infertop(&["snapshot", "--json", "--demo"], &[]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let v: serde_json::Value = serde_json::from_slice(&demo.stdout).unwrap();
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 26);
    for p in ["gcore", "sesterce", "runai"] {
        assert!(deps.iter().any(|d| d["provider"] == p));
    }
    let whisper = deps.iter().find(|d| d["name"] == "whisper-large-v3").unwrap();
    assert_eq!(whisper["health"], "warning");
    assert!(whisper["regions"].as_array().unwrap().iter().any(|r| r["error"].is_string()));
    assert!(v["unhealthy"].as_u64().unwrap() > 0);
    // The demo fleet has deployments in trouble: --fail-on-unhealthy says so with exit code 3.
    let fail = infertop(&["snapshot", "--demo", "--fail-on-unhealthy"], &[]);
    assert_eq!(fail.status.code(), Some(3));
    let table = String::from_utf8_lossy(&fail.stdout);
    assert!(table.contains("whisper-large-v3") && table.contains("PARTIALLYDEPLOYED"), "{table}");
    // A generated fleet without faults is healthy once settled: exit 0.
    let ok = infertop(&["snapshot", "--demo", "--fleet", "9", "--fail-on-unhealthy"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
}
