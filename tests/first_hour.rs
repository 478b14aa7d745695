//! The first hour, round two, with the real binary: `--allow-http` on every command, a pipe that closes
//! early, no terminal, and `doctor --account` with another account's variable unset.

mod common;

use common::tmux::{BIN, sim_accounts_config, sim_credentials, start_sim};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh, private home for one test.
fn fresh_home(tag: &str) -> common::temp::TempDir {
    common::temp::TempDir::new("first-hour", tag)
}

fn command(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("INFERTOP_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env("HOME", home)
        .stdin(Stdio::null());
    c
}

fn run(home: &Path, args: &[&str], envs: &[(String, &str)]) -> Output {
    let mut c = command(home, args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The simulator's accounts at `http://0.0.0.0:PORT`: plain http to an address that is not loopback by its
/// name (Linux takes a connection to 0.0.0.0 to this machine, so nothing leaves it).
fn remote_http_config(home: &Path, sim_url: &str) -> PathBuf {
    let port = sim_url.rsplit(':').next().unwrap();
    let path = home.join("remote.toml");
    std::fs::write(&path, sim_accounts_config(&format!("http://0.0.0.0:{port}"), "FH")).unwrap();
    path
}

const HTTP_RULE: &str = "plain http is allowed only on loopback";

#[test]
fn allow_http_lets_every_command_reach_a_plain_http_host_that_is_not_loopback() {
    let sim = start_sim(&["--static"]);
    let home = fresh_home("allow-http");
    let config = remote_http_config(&home, &sim.url);
    let config = config.to_str().unwrap();
    let creds = sim_credentials("FH");

    // Without the flag, every command refuses the file with the rule and how to lift it.
    for args in [
        &["snapshot", "--config", config][..],
        &["doctor", "--config", config][..],
        &["serve", "--config", config, "--listen", "127.0.0.1:0"][..],
        &["--config", config][..],
        &["config", "check", config][..],
    ] {
        let out = run(&home, args, &creds);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(HTTP_RULE) && err.contains("--allow-http"), "{args:?}: {err}");
    }

    // With it, the file is taken and the accounts are read.
    let out = run(&home, &["snapshot", "--allow-http", "--config", config, "--json"], &creds);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("plain http"), "the snapshot warns about plain http: {err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3, "{doc}");
    assert!(accounts.iter().all(|a| a["ok"] == true), "{doc}");
    assert!(!doc["deployments"].as_array().unwrap().is_empty(), "{doc}");

    let out = run(&home, &["doctor", "--allow-http", "--config", config, "--account", "gcore-sim"], &creds);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert!(!err.contains(HTTP_RULE) && !stdout.contains(HTTP_RULE), "{stdout}{err}");
    assert!(stdout.contains("gcore-sim"), "{stdout}{err}");
    assert_ne!(out.status.code(), Some(2), "{stdout}{err}");

    let out = run(&home, &["config", "check", "--allow-http", config], &creds);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));

    // The dashboard gets past its config to the next thing it needs: a terminal, which this test has not.
    let out = run(&home, &["--allow-http", "--config", config], &creds);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains(HTTP_RULE) && err.contains("needs a terminal"), "{err}");

    // serve listens, and says which accounts it reads in clear.
    let mut c = command(&home, &["serve", "--allow-http", "--config", config, "--listen", "127.0.0.1:0"]);
    for (k, v) in &creds {
        c.env(k, v);
    }
    let mut serve = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let _ = serve.kill();
    let out = serve.wait_with_output().unwrap();
    assert!(first.starts_with("listening on "), "{first}{}", text(&out.stderr));
}

#[test]
fn a_pipe_closed_early_ends_the_snapshot_quietly() {
    let home = fresh_home("pipe");
    for i in 0..40 {
        let mut child = command(&home, &["snapshot", "--demo", "--static"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("PROVIDER"), "run {i}: {first}");
        drop(out);
        let done = child.wait_with_output().unwrap();
        let err = text(&done.stderr);
        let quiet = done.status.code() == Some(0) || done.status.signal() == Some(libc::SIGPIPE);
        assert!(quiet && err.is_empty(), "run {i}: {:?} {err}", done.status);
    }
}

#[test]
fn a_closed_stderr_and_a_closed_pipe_end_quietly() {
    use std::os::unix::process::CommandExt;
    let home = fresh_home("stderr");
    for i in 0..20 {
        // `snapshot 2>&- | head -1`: descriptor 2 closed before infertop starts, and stdout closed early.
        let mut c = command(&home, &["snapshot", "--demo", "--static"]);
        c.stdout(Stdio::piped());
        // SAFETY: close(2) in the child between fork and exec touches nothing of the parent's.
        unsafe {
            c.pre_exec(|| {
                libc::close(2);
                Ok(())
            });
        }
        let mut child = c.spawn().unwrap();
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        drop(out);
        let status = child.wait().unwrap();
        let quiet = status.code() == Some(0) || status.signal() == Some(libc::SIGPIPE);
        assert!(quiet, "run {i}: {status:?} (an abort is signal 6)");
    }
    // A mistake with stderr closed is still exit 2, and its message does not land in the log file that
    // infertop opens (which would otherwise take descriptor 2).
    let mut c = command(&home, &["snapshot", "--config", "/nonexistent/infertop.toml"]);
    unsafe {
        c.pre_exec(|| {
            libc::close(2);
            Ok(())
        });
    }
    let status = c.status().unwrap();
    assert_eq!(status.code(), Some(2), "{status:?}");
    let log = home.join(".local/state/infertop/infertop.log");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.contains("nonexistent"), "the message went to the log: {logged}");
}

#[test]
fn the_dashboard_without_a_terminal_says_what_to_use_instead() {
    let home = fresh_home("no-tty");
    let out = run(&home, &["--demo"], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("infertop: ") && err.contains("infertop snapshot"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn doctor_for_one_account_needs_only_that_accounts_credential() {
    let sim = start_sim(&["--static"]);
    let home = fresh_home("doctor-one");
    let path = home.join("c.toml");
    std::fs::write(&path, sim_accounts_config(&sim.url, "FHD")).unwrap();
    // Only the Gcore key is set: the Sesterce and Run:ai variables are not.
    let creds = [("FHD_GCORE_KEY".to_string(), infertop::sim::DEMO_GCORE_KEY)];
    let out = run(&home, &["doctor", "--config", path.to_str().unwrap(), "--account", "gcore-sim"], &creds);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(!err.contains("FHD_SESTERCE_KEY") && !err.contains("FHD_RUNAI_SECRET"), "{err}");
    assert!(stdout.contains("gcore-sim"), "{stdout}{err}");
    // A name that is not in the file is still a plain mistake listing the accounts.
    let out = run(&home, &["doctor", "--config", path.to_str().unwrap(), "--account", "gc"], &creds);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no account named \"gc\"") && err.contains("gcore-sim"), "{err}");
}

#[test]
fn a_refresh_out_of_range_is_refused_with_the_range() {
    let home = fresh_home("refresh");
    for args in [
        &["--demo", "--refresh", "0"][..],
        &["--demo", "--refresh=-1"][..],
        &["--demo", "--refresh", "soon"][..],
        &["serve", "--demo", "--refresh", "0"][..],
        &["serve", "--demo", "--refresh", "7200"][..],
    ] {
        let out = run(&home, args, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--refresh"), "{args:?}: {err}");
        assert!(err.contains("0.5 to 3600") || err.contains("not a number"), "{args:?}: {err}");
    }
}

#[test]
fn simulator_flags_without_a_simulator_are_a_mistake_not_ignored() {
    let home = fresh_home("sim-flags");
    let path = home.join("c.toml");
    std::fs::write(&path, sim_accounts_config("http://127.0.0.1:9", "FHS")).unwrap();
    let creds = sim_credentials("FHS");
    let config = path.to_str().unwrap();
    for (args, flag) in [
        (&["snapshot", "--config", config, "--latency", "50"][..], "--latency"),
        (&["doctor", "--config", config, "--faults", "chaos"][..], "--faults"),
        (&["serve", "--config", config, "--hostile"][..], "--hostile"),
    ] {
        let out = run(&home, args, &creds);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag) && err.contains("--demo"), "{args:?}: {err}");
    }
    // With --demo they are the simulator's, and taken.
    let out = run(&home, &["snapshot", "--demo", "--static", "--latency", "1"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn completions_offer_the_values_of_theme_and_faults() {
    let home = fresh_home("completions");
    let out = run(&home, &["completions", "bash"], &[]);
    assert!(out.status.success());
    let script = text(&out.stdout);
    // bash completion lists a flag's values where clap knows them, instead of file names.
    let theme = script.lines().skip_while(|l| !l.contains("--theme)")).nth(1).unwrap_or("");
    assert!(theme.contains("dark light mono"), "--theme completes: {theme}");
    let faults = script.lines().skip_while(|l| !l.contains("--faults)")).nth(1).unwrap_or("");
    assert!(faults.contains("flaky") && faults.contains("chaos"), "--faults completes: {faults}");
    let out = run(&home, &["--demo", "--theme", "neon"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("dark"), "{}", text(&out.stderr));
}

#[test]
fn serve_logs_without_colour_when_not_on_a_terminal() {
    let home = fresh_home("serve-log");
    let mut serve = command(&home, &["serve", "--demo", "--static", "--listen", "127.0.0.1:0"])
        .env("INFERTOP_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let mut err = BufReader::new(serve.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(first.starts_with("listening on "), "{first}");
    assert!(line.contains("INFO"), "a log line: {line:?}");
    assert!(!line.contains('\x1b'), "colour in a log that is not a terminal: {line:?}");
}

/// A Gcore account on the legacy v2 API is told at `c` that it cannot create, before a catalog is read, a
/// price asked or a review shown; the create form never offers it as an account to switch to.
#[test]
fn create_on_a_gcore_v2_account_is_refused_before_anything_is_asked() {
    use crossterm::event::KeyCode;
    use infertop::app::state::{AccountState, Mode, State};
    use infertop::provider::{GcoreApi, connect, demo_accounts};
    let specs = demo_accounts("http://127.0.0.1:9");
    let mut v2 = specs[0].clone();
    v2.name = "gcore-legacy".into();
    v2.gcore_api = GcoreApi::V2;
    let client = reqwest::Client::new();
    let accounts = vec![
        AccountState::new("gcore-legacy", v2.kind, connect(&v2, client.clone()).capabilities()),
        AccountState::new("gcore-demo", specs[0].kind, connect(&specs[0], client.clone()).capabilities()),
    ];
    let mut state = State::new(accounts, std::time::Duration::from_secs(5), chrono::Utc::now());
    // The v2 account is the one `c` starts on (no row selected: the first account).
    let fx = common::screen::key(&mut state, KeyCode::Char('c'));
    assert!(!matches!(state.mode, Mode::Create(_)), "the create form opened on a v2 account");
    let asks = fx
        .iter()
        .filter(|e| format!("{e:?}").starts_with("LoadCatalog") || format!("{e:?}").starts_with("Price"));
    assert_eq!(asks.count(), 0, "nothing is asked for a v2 account: {fx:?}");
    let flash = state.flash.clone().unwrap_or_default();
    assert!(
        flash.contains("gcore-legacy") && flash.contains("v2") && flash.contains("gcore-demo"),
        "{flash}"
    );
}

/// A Gcore regions catalog that fails costs its names, and is not asked again on every list.
#[tokio::test]
async fn a_failing_gcore_regions_catalog_is_not_asked_on_every_list() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let sim = common::app::frozen_sim(Default::default()).await;
    let target = sim.base_url();
    let regions = Arc::new(AtomicU32::new(0));
    let (asked, http) = (regions.clone(), reqwest::Client::new());
    // In front of the simulator: every regions catalog read answers 503, the rest passes.
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (asked, http, target) = (asked.clone(), http.clone(), target.clone());
        async move {
            if req.uri().path() == "/cloud/v1/regions" {
                asked.fetch_add(1, Ordering::Relaxed);
                return axum::response::Response::builder()
                    .status(503)
                    .body(axum::body::Body::empty())
                    .unwrap();
            }
            let url = format!("{target}{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            let mut out = http.request(req.method().clone(), url);
            for (k, v) in req.headers() {
                if k != "host" {
                    out = out.header(k, v);
                }
            }
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
            let answer = out.body(body).send().await.unwrap();
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.unwrap();
            axum::response::Response::builder().status(status).body(axum::body::Body::from(bytes)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let spec = infertop::provider::demo_accounts(&base).remove(0);
    let gcore = infertop::provider::connect(&spec, reqwest::Client::new());
    for _ in 0..5 {
        let rows = gcore.list().await.expect("the list reads without region names");
        assert!(!rows.is_empty());
    }
    let id = gcore.list().await.unwrap()[0].key.id.clone();
    gcore.get(&id).await.expect("a details read without region names");
    // The client's own retries may ask more than once at the first failure; never once per list.
    let n = regions.load(Ordering::Relaxed);
    assert!((1..=4).contains(&n), "the regions catalog was asked {n} times over 7 reads");
    server.abort();
}

#[test]
fn one_account_is_one_account_in_the_header() {
    use infertop::app::state::{AccountState, State};
    use infertop::provider::{connect, demo_accounts};
    let spec = demo_accounts("http://127.0.0.1:9").remove(0);
    let caps = connect(&spec, reqwest::Client::new()).capabilities();
    let one = State::new(
        vec![AccountState::new("g", spec.kind, caps)],
        std::time::Duration::from_secs(5),
        chrono::Utc::now(),
    );
    let screen = common::screen::render(&one);
    let header = screen.lines().next().unwrap_or("");
    assert!(header.contains("· 1 account") && !header.contains("1 accounts"), "{header}");
}
