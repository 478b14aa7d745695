//! A server that echoes the credentials it was sent (issue 22): the simulator's `echo-credentials` fault answers
//! every request but the Run:ai sign-in with an error that repeats the request's `Authorization` (`APIKey …`,
//! `Bearer …`) or `x-api-key` value, and for Run:ai `client_secret=…`; Sesterce's in HTML with the key across
//! the 200th character. No credential, nor the start of one, reaches the screen, `infertop.log`, the audit
//! file, `snapshot` (text, stderr, `--json`), `doctor` (text and `--json`) or `serve` (`/metrics`, its log).

mod common;

use common::tmux::{BIN, Tmux, sim_accounts_config, sim_credentials, start_sim};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each credential, and a start of it long enough to be one: a cut that keeps half a key is a leak too.
/// `eyJhbGci` is how every JWT the simulator's Run:ai signs in with begins (`{"alg"` in base64url).
const SECRETS: [&str; 7] =
    ["demo-gcore-key", "demo-sesterce-key", "demo-secret", "demo-gco", "demo-ses", "demo-sec", "eyJhbGci"];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains {s:?}:\n{text}");
    }
}

fn config(dir: &Path, url: &str) -> std::path::PathBuf {
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, sim_accounts_config(url, "ECHO")).unwrap();
    cfg
}

fn run(dir: &Path, cfg: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("INFERTOP_CONFIG", cfg)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("INFERTOP_LOG", "debug")
        .envs(sim_credentials("ECHO"))
        .output()
        .unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn echoed_credentials_never_reach_snapshot_doctor_serve_or_their_logs() {
    let sim = start_sim(&["--faults", "echo-credentials"]);
    let tmp = common::temp::TempDir::new("echoed", "all");
    let dir = tmp.0.clone();
    let cfg = config(&dir, &sim.url);

    let (out, err) = run(&dir, &cfg, &["snapshot"]);
    assert_clean("snapshot stdout", &out);
    assert_clean("snapshot stderr", &err);
    // The echo reached infertop and was masked, for every account.
    for account in ["gcore-sim", "sesterce-sim", "runai-sim"] {
        assert!(err.contains(account), "{account} named on stderr: {err}");
    }
    assert!(err.contains("APIKey ***") && err.contains("Bearer ***"), "{err}");
    assert!(err.contains("client_secret=***") && err.contains("x-api-key: ***"), "{err}");

    let (out, err) = run(&dir, &cfg, &["snapshot", "--json"]);
    assert_clean("snapshot --json", &out);
    assert_clean("snapshot --json stderr", &err);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let errors: Vec<String> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(errors.len(), 3, "{v}");
    assert!(
        errors.iter().all(|e| e.contains("***")),
        "every account's error is the echo, masked: {errors:?}"
    );

    for args in [&["doctor"][..], &["doctor", "--json"]] {
        let (out, err) = run(&dir, &cfg, args);
        assert_clean("doctor", &out);
        assert_clean("doctor stderr", &err);
        // doctor names the failure by its status, not by the server's text.
        assert!(out.contains("HTTP 400"), "{out}");
    }

    // serve: its metrics, and its log (on stderr) at debug level, after a few failed refreshes.
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--refresh", "1"])
        .env("INFERTOP_CONFIG", &cfg)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("INFERTOP_LOG", "debug")
        .envs(sim_credentials("ECHO"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve-stderr.txt")).unwrap())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let url =
        first.strip_prefix("listening on ").and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    let http = reqwest::blocking::Client::new();
    let started = Instant::now();
    let metrics = loop {
        let m = http.get(format!("{url}/metrics")).send().and_then(|r| r.text()).unwrap_or_default();
        let log = std::fs::read_to_string(dir.join("serve-stderr.txt")).unwrap_or_default();
        if log.matches("Bearer ***").count() >= 2 || started.elapsed() > Duration::from_secs(30) {
            break m;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_clean("serve /metrics", &metrics);
    let log = std::fs::read_to_string(dir.join("serve-stderr.txt")).unwrap();
    assert!(
        log.contains("Bearer ***") && log.contains("APIKey ***"),
        "serve logged the masked echoes: {log}"
    );
    assert_clean("serve's log", &log);

    let log = std::fs::read_to_string(dir.join("state/infertop/infertop.log")).expect("a log file");
    assert!(log.contains("DEBUG") && log.contains("***"), "{log}");
    assert_clean("infertop.log of snapshot and doctor", &log);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn echoed_credentials_never_reach_the_dashboard_its_log_or_the_audit_file() {
    // Tokens live 3 s: they are refreshed (and remembered) while the server echoes the newest ones.
    let sim = start_sim(&["--runai-token-ttl", "3"]);
    let tmux = Tmux::new("echoed");
    let cfg = config(&tmux.dir, &sim.url);
    let state = tmux.dir.join("state");
    let env: Vec<String> = sim_credentials("ECHO").iter().map(|(k, v)| format!("{k}={v}")).collect();
    tmux.start_sized(
        &format!(
            "env {env} INFERTOP_CONFIG={cfg} XDG_STATE_HOME={state} INFERTOP_LOG=debug {BIN} --refresh 1 \
             2>{err}; echo INFERTOP-EXITED-$?; sleep 60",
            env = env.join(" "),
            cfg = cfg.display(),
            state = state.display(),
            err = tmux.dir.join("stderr.txt").display(),
        ),
        160,
        50,
    );
    let mut screens = vec![tmux.wait_for("every account loaded", Duration::from_secs(30), |s| {
        s.contains("✓ gcore-sim") && s.contains("✓ sesterce-sim") && s.contains("✓ runai-sim")
    })];
    // A scale edit, ready to send; then the server turns hostile, and the edit's answer is the echo.
    tmux.keys(&["s", "Tab", "BSpace"]);
    tmux.type_text("3");
    let set = reqwest::blocking::Client::new()
        .post(format!("{}/_sim/faults", sim.url))
        .json(&serde_json::json!({"profile": "echo-credentials"}))
        .send()
        .unwrap();
    assert!(set.status().is_success());
    tmux.keys(&["Enter", "y"]);
    screens.push(tmux.wait_for("the edit refused with the echo", Duration::from_secs(20), |s| {
        s.contains("credentials are refused")
    }));
    screens.push(tmux.wait_for("every account failing", Duration::from_secs(30), |s| {
        !s.contains("✓ gcore-sim") && !s.contains("✓ sesterce-sim") && !s.contains("✓ runai-sim")
    }));
    // A few refreshes and Run:ai sign-ins later, every pane and the help.
    std::thread::sleep(Duration::from_secs(4));
    for k in ["Escape", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "?", "Escape", "Enter"] {
        tmux.keys(&[k]);
        screens.push(tmux.screen());
    }
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-"));
    for s in &screens {
        assert_clean("the screen", s);
    }
    let log = std::fs::read_to_string(state.join("infertop/infertop.log")).expect("a log file");
    assert!(log.contains("Bearer ***") && log.contains("APIKey ***"), "the log has the masked echoes: {log}");
    assert!(log.contains("client_secret=***"), "{log}");
    assert_clean("the log file", &log);
    let audit = std::fs::read_to_string(state.join("infertop/audit.jsonl")).expect("an audit file");
    assert!(audit.contains("credentials are refused") && audit.contains("***"), "{audit}");
    assert_clean("the audit file", &audit);
    assert_clean("stderr", &std::fs::read_to_string(tmux.dir.join("stderr.txt")).unwrap_or_default());
}

/// A `Location` is the server's text too: a redirect to a path that holds the key names it masked.
#[tokio::test]
async fn a_redirect_to_a_path_holding_the_key_names_it_masked() {
    use axum::http::{StatusCode, header};
    let app = axum::Router::new().route(
        "/ai-inference/instances",
        axum::routing::get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "http://127.0.0.1:9/keys/demo-sesterce-key/x?k=demo-sesterce-key")],
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let spec = infertop::provider::demo_accounts(&base)
        .into_iter()
        .find(|a| a.kind == infertop::model::ProviderKind::Sesterce)
        .unwrap();
    let p = infertop::provider::connect(
        &spec,
        infertop::provider::http::build_client(Duration::from_secs(5), Duration::from_secs(20)),
    );
    let e = p.list().await.expect_err("a redirect is an error").to_string();
    assert!(e.contains("http://127.0.0.1:9/keys/***/x"), "{e}");
    assert_clean("the redirect error", &e);
}
