//! The first hour of a new user, with the real binary: no config, a bad file, the example config with its
//! variables unset, `assets/sim.toml` against a separate `infertop sim`, each command's own flags, the man page,
//! and the simulator's faults endpoint without a content type.

mod common;

use common::tmux::{BIN, start_sim};
use std::path::Path;
use std::process::{Command, Output};

/// A fresh, private home for one test.
fn fresh_home(tag: &str) -> common::temp::TempDir {
    common::temp::TempDir::new("new-user", tag)
}

/// The binary in `home`, with nothing of the caller's environment that would find a config, and a backtrace
/// asked for (as many machines do).
fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("INFERTOP_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("GCORE_API_KEY")
        .env_remove("SESTERCE_API_KEY")
        .env_remove("RUNAI_CLIENT_SECRET")
        .env("HOME", home)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A user's mistake reads as a plain message: no report, no location, no backtrace, no colour in a pipe.
fn assert_plain(err: &str) {
    for bad in ["Location:", "Backtrace", "backtrace", "\x1b[", "Error: ", "  0: ", "src/"] {
        assert!(!err.contains(bad), "{bad:?} in:\n{err}");
    }
    assert!(err.starts_with("infertop: ") || err.contains(".toml:"), "{err}");
}

#[test]
fn no_config_is_a_plain_message_and_exit_2() {
    let home = fresh_home("none");
    for args in [&[][..], &["snapshot"][..], &["doctor"][..]] {
        let out = run(&home, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_plain(&err);
        assert!(err.contains("no accounts configured") && err.contains("infertop --demo"), "{args:?}: {err}");
        assert!(err.contains(&home.join(".config/infertop/config.toml").display().to_string()), "{err}");
    }
    let out = run(&home, &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_plain(&err);
    assert!(err.contains("no such file") && err.contains("no accounts configured"), "{err}");
}

#[test]
fn a_bad_file_names_every_mistake_plainly_and_exits_2() {
    let home = fresh_home("bad");
    let path = home.join("bad.toml");
    std::fs::write(
        &path,
        "refresh_seconds = \"five\"\n\n[[account]]\nname = \"a\"\nprovider = \"sesterse\"\n",
    )
    .unwrap();
    let shown = path.display().to_string();
    for args in [vec!["--config", &shown], vec!["config", "check", &shown]] {
        let out = run(&home, &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_plain(&err);
        assert!(err.contains(&format!("{shown}:1:19: refresh_seconds: expected a number")), "{err}");
        assert!(err.contains(&format!("{shown}:5:12: account \"a\".provider:")), "{err}");
        assert!(err.contains("did you mean \"sesterce\"?"), "{err}");
    }
    // An unset variable, named, with what to do.
    std::fs::write(
        &path,
        "[[account]]\nname = \"s\"\nprovider = \"sesterce\"\napi_key_env = \"INFERTOP_NU_UNSET\"\n",
    )
    .unwrap();
    let out = run(&home, &["snapshot", "--config", &shown]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_plain(&err);
    assert!(err.contains("INFERTOP_NU_UNSET is not set: export INFERTOP_NU_UNSET="), "{err}");
    // A bad flag value of the simulator is a mistake too: clap's own message, naming the values it takes.
    let out = run(&home, &["snapshot", "--demo", "--faults", "chaotic"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: invalid value 'chaotic' for '--faults") && err.contains("chaos"),
        "{err}"
    );
    for bad in ["Location:", "Backtrace", "  0: ", "src/"] {
        assert!(!err.contains(bad), "{bad:?} in:\n{err}");
    }
}

#[test]
fn config_check_names_each_missing_variable_of_the_example() {
    let home = fresh_home("example");
    let path = home.join("config.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config.example.toml"), &path).unwrap();
    // The example names a command: only a private file may.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = run(&home, &["config", "check", path.to_str().unwrap()]);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    for (account, var) in
        [("gcore-prod", "GCORE_API_KEY"), ("sesterce", "SESTERCE_API_KEY"), ("runai", "RUNAI_CLIENT_SECRET")]
    {
        let line = stdout.lines().find(|l| l.contains(&format!(" {account} ("))).unwrap_or_default();
        assert!(line.contains("FAIL") && line.contains(&format!("{var} is not set")), "{account}: {stdout}");
    }
    assert!(err.contains("accounts would not start"), "{err}");
    // Set, they pass, and the value is never printed.
    let out = Command::new(BIN)
        .args(["config", "check", path.to_str().unwrap()])
        .env("HOME", &home)
        .env("GCORE_API_KEY", "nu-secret-gcore-value")
        .env("SESTERCE_API_KEY", "nu-secret-sesterce-value")
        .env("RUNAI_CLIENT_SECRET", "nu-secret-runai-value")
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("nu-secret"), "{all}");
    assert!(all.contains("ok    gcore-prod (gcore): API key from $GCORE_API_KEY (set)"), "{all}");
    // gcore-staging's `pass show …` is no command on this machine, or has no such entry: it still fails.
    assert!(all.contains("FAIL  gcore-staging"), "{all}");
}

#[test]
fn sim_toml_against_a_separate_simulator() {
    let home = fresh_home("simtoml");
    let sim = start_sim(&[]);
    let text_of =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sim.toml")).unwrap();
    assert_eq!(text_of.matches("http://127.0.0.1:8000").count(), 3);
    let path = home.join("sim.toml");
    std::fs::write(&path, text_of.replace("http://127.0.0.1:8000", &sim.url)).unwrap();
    let out = run(&home, &["config", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = run(&home, &["snapshot", "--json", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let providers: std::collections::BTreeSet<&str> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ok"] == true)
        .map(|a| a["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers.into_iter().collect::<Vec<_>>(), ["gcore", "runai", "sesterce"]);
    let deps = v["deployments"].as_array().unwrap();
    for p in ["gcore", "sesterce", "runai"] {
        assert!(deps.iter().any(|d| d["provider"] == p), "{p}");
    }
}

#[test]
fn each_command_takes_only_its_own_flags() {
    let home = fresh_home("flags");
    for args in [
        &["info", "--demo"][..],
        &["man", "--seed", "5"][..],
        &["completions", "bash", "--timeout", "3"][..],
        &["config", "check", "--demo"][..],
        &["--demo", "snapshot"][..],
        &["--mouse", "snapshot"][..],
        &["sim", "--config", "x.toml"][..],
    ] {
        let out = run(&home, args);
        assert_eq!(out.status.code(), Some(2), "{args:?} was accepted");
    }
    let help = |args: &[&str]| text(&run(&home, args).stdout);
    let info = help(&["info", "--help"]);
    assert!(!info.contains("--seed") && !info.contains("--demo"), "{info}");
    let snap = help(&["snapshot", "--help"]);
    for want in
        ["--demo", "--config", "--seed", "--static", "Exit status", "  0  ", "  3  ", "  2  ", "  1  "]
    {
        assert!(snap.contains(want), "{want}: {snap}");
    }
    assert!(!snap.contains("--mouse") && !snap.contains("--listen"), "{snap}");
    let check = help(&["config", "check", "--help"]);
    assert!(check.contains("[PATH]") && check.contains("~/.config/infertop/config.toml"), "{check}");
    let top = help(&["--help"]);
    assert!(top.contains("--config <PATH>") && top.contains("$INFERTOP_CONFIG"), "{top}");
}

#[test]
fn the_man_page_has_its_sections_and_references_no_other_page() {
    let home = fresh_home("man");
    let out = run(&home, &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    for section in
        [".SH KEYS", ".SH FILES", ".SH ENVIRONMENT", ".SH \"EXIT STATUS\"", ".SH EXAMPLES", ".SH COMMANDS"]
    {
        assert!(page.contains(section), "{section}");
    }
    assert!(!page.contains("infertop-"), "a page of its own is referenced");
    for cmd in ["sim", "info", "snapshot", "doctor", "completions", "man", "config"] {
        assert!(page.contains(&format!(".SS \"infertop {cmd}\"")), "{cmd}");
    }
}

#[test]
fn sim_faults_without_a_content_type_answers_the_active_profile() {
    let sim = start_sim(&["--faults", "flaky"]);
    let client = reqwest::blocking::Client::new();
    let url = format!("{}/_sim/faults", sim.url);
    let empty: serde_json::Value = client.post(&url).send().unwrap().json().unwrap();
    assert_eq!(empty["profile"], "flaky", "{empty}");
    let r = client.post(&url).body(r#"{"profile": "none"}"#).send().unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["profile"], "none", "{v}");
    assert!(v["requests"].is_u64(), "{v}");
    let bad = client.post(&url).body(r#"{"profile": "nope"}"#).send().unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("chaos"), "the allowed profiles are named");
}
