//! One health model (issue 22): a deployment is ok only when its status is settled and every region has
//! ready = total ≥ min and no error; what could not be read is "unknown" with its reason, never ok. Checked
//! through the real binary against a real `infertop sim` (snapshot --json, --fail-on-unhealthy, --format
//! prometheus, serve's /metrics), and through the real Sesterce client and the real `update` for the
//! dashboard's rows. The simulator misbehaves through its named faults (`stale-status`, `details-html`,
//! `details-429`, `details-huge-number`), never through a special case here.

mod common;

use common::temp::TempDir;

use common::tmux::{BIN, sim_credentials, start_sim};
use infertop::app::{AccountState, Msg, RowDetail, State, update};
use infertop::model::{DeploymentKey, Health, ProviderKind};
use infertop::provider::http::{RateLimit, RetryPolicy, build_client};
use infertop::provider::{connect, demo_accounts};
use infertop::sim::{self, SimConfig};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn run(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("INFERTOP_CONFIG")
        .env("HOME", &dir.0)
        .env("XDG_CONFIG_HOME", dir.0.join("config"))
        .env("XDG_STATE_HOME", dir.0.join("state"))
        .envs(sim_credentials("HEALTH"))
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// A Gcore v3 deployment that says ACTIVE while its only region runs 0 of 3 ready with an `error_message`
/// (the simulator's `stale-status` fault: the status lags behind the containers) is not ok: not in
/// `snapshot --json` (health, reason, `unhealthy`), not for `--fail-on-unhealthy` (exit 3), not in
/// `snapshot --format prometheus`, and not in `serve`'s exposition.
#[test]
fn active_with_its_only_region_at_0_of_3_and_an_error_is_not_ok_anywhere() {
    let sim = start_sim(&["--time-scale", "0", "--faults", "stale-status"]);
    let dir = TempDir::new("health", "active");
    let cfg = dir.0.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[account]]\nname = \"gcore-sim\"\nprovider = \"gcore\"\nbase_url = \"{}\"\nproject_id = 1\n\
             api_key_env = \"HEALTH_GCORE_KEY\"\n",
            sim.url
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    // whisper-large-v3's image cannot be pulled in region 76: keep that region only, at 3 replicas.
    let url = format!("{}/cloud/v3/inference/1/deployments/whisper-large-v3", sim.url);
    let resp = http()
        .patch(&url)
        .header("Authorization", "APIKey demo-gcore-key")
        .json(&json!({"containers": [{"region_id": 76, "scale": {"min": 3, "max": 3}}]}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().unwrap());
    let resp =
        http().post(format!("{}/_sim/advance", sim.url)).json(&json!({"seconds": 120})).send().unwrap();
    assert!(resp.status().is_success());
    // What the simulator answers: ACTIVE, one region, 0 of 3 ready, an error message.
    let raw: Value =
        http().get(&url).header("Authorization", "APIKey demo-gcore-key").send().unwrap().json().unwrap();
    assert_eq!(raw["status"], "ACTIVE", "{raw}");
    let containers = raw["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{raw}");
    assert_eq!(containers[0]["deploy_status"], json!({"ready": 0, "total": 3}), "{raw}");
    assert!(containers[0]["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{raw}");

    let out = run(&dir, &["snapshot", "--json", "--config", cfg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json_of(&out);
    let whisper = doc["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "whisper-large-v3")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(whisper["status"], "ACTIVE");
    assert_eq!(whisper["health"], "warning", "{whisper}");
    let reason = whisper["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("0/3 ready") && reason.contains("Failed to pull image"), "{reason}");
    assert!(doc["unhealthy"].as_u64().unwrap() >= 1, "{doc}");

    let out = run(&dir, &["snapshot", "--fail-on-unhealthy", "--config", cfg]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));

    let series = r#"infertop_deployment_health{provider="gcore",account="gcore-sim",id="whisper-large-v3",health="warning"} 1"#;
    let out = run(&dir, &["snapshot", "--format", "prometheus", "--fail-on-unhealthy", "--config", cfg]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l == series), "{text}");

    // serve: the same series once its first list is in.
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--refresh", "1", "--config", cfg])
        .env("XDG_STATE_HOME", dir.0.join("state"))
        .envs(sim_credentials("HEALTH"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let base =
        first.strip_prefix("listening on ").and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    let mut last = String::new();
    for _ in 0..60 {
        last = http().get(format!("{base}/metrics")).send().and_then(|r| r.text()).unwrap_or_default();
        if last.contains("infertop_deployment_health{") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(last.lines().any(|l| l == series), "{last}");
    assert!(!last.contains(r#"id="whisper-large-v3",health="ok""#), "{last}");
}

/// Sesterce details that answer an HTML page, a 429, or a count of `1e400`: every row the list gave is
/// "unknown" with a reason naming the endpoint, the account says how many of its rows are unknown, the
/// reasons are on stderr, and `--fail-on-unhealthy` exits 3 on a fleet that is otherwise healthy.
#[test]
fn sesterce_details_that_cannot_be_read_make_their_rows_unknown_with_the_reason() {
    let dir = TempDir::new("health", "details");
    // A generated fleet is healthy: without the fault, exit 0 (the same run, no fault, first).
    let base = ["snapshot", "--demo", "--fleet", "6", "--time-scale", "0", "--fail-on-unhealthy", "--json"];
    let out = run(&dir, &base);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    for (profile, what) in [
        ("details-html", "could not read the response"),
        ("details-429", "429"),
        ("details-huge-number", "out of range"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--faults", profile]);
        let out = run(&dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{profile}: {stderr}");
        let doc = json_of(&out);
        let rows: Vec<&Value> =
            doc["deployments"].as_array().unwrap().iter().filter(|d| d["provider"] == "sesterce").collect();
        assert!(!rows.is_empty(), "{doc}");
        for d in &rows {
            assert_eq!(d["health"], "unknown", "{profile}: {d}");
            let reason = d["reason"].as_str().unwrap_or_default();
            let id = d["id"].as_str().unwrap();
            assert!(reason.contains(&format!("GET /ai-inference/instances/{id}")), "{profile}: {reason}");
            assert!(reason.to_lowercase().contains(what), "{profile}: {reason}");
            let name = d["name"].as_str().unwrap();
            assert!(
                stderr.lines().any(|l| l.contains(name) && l.contains("health unknown") && l.contains(id)),
                "{profile}: {stderr}"
            );
        }
        let account =
            doc["accounts"].as_array().unwrap().iter().find(|a| a["provider"] == "sesterce").unwrap();
        assert_eq!(account["unknown"], json!(rows.len()), "{profile}: {account}");
        assert!(doc["unhealthy"].as_u64().unwrap() >= rows.len() as u64, "{profile}: {doc}");
        // Nothing else is unknown: the fault is on the one-deployment reads, which only Sesterce's list makes.
        let others = doc["deployments"].as_array().unwrap().iter().filter(|d| d["provider"] != "sesterce");
        assert!(
            others.clone().count() > 0 && others.clone().all(|d| d["health"] == "ok"),
            "{profile}: {doc}"
        );
    }
}

fn render(state: &State) -> Vec<String> {
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(state.width, state.height)).unwrap();
    term.draw(|f| infertop::ui::draw(f, state)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..state.height)
        .map(|y| (0..state.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect()
}

/// The dashboard: a Sesterce row from the summary list is unknown until its details are read; a details
/// read that fails (the real client against the simulator's `details-html`) makes it unknown with the reason,
/// a later list keeps that reason, and a good read clears it, for the details sweep's reads and the selected
/// row's reads alike.
#[tokio::test]
async fn a_failed_details_read_makes_a_dashboard_row_unknown_until_a_good_one() {
    let sim =
        sim::start(SimConfig { time_scale: 0.0, ..SimConfig::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let mut spec =
        demo_accounts(&sim.base_url()).into_iter().find(|a| a.kind == ProviderKind::Sesterce).unwrap();
    spec.retry = RetryPolicy::none();
    spec.rate_limit = RateLimit::unlimited();
    let p = connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(20)));
    let now = chrono::Utc::now();
    let mut state = State::new(vec![AccountState::of(p.as_ref())], Duration::from_secs(5), now);
    let listed = p.list_summaries().await.expect("a summary list").unwrap().items;
    update(&mut state, Msg::Listed { account: 0, at: now, result: Ok(listed.clone()) });
    // A running instance: deepseek-r1-distill.
    let key: DeploymentKey =
        listed.iter().find(|l| l.dep.name == "deepseek-r1-distill").unwrap().dep.key.clone();
    let row = |s: &State| s.rows[s.index[&key]].dep.clone();
    let (h, why) = row(&state).assess();
    assert_eq!(h, Health::Unknown, "never read");
    assert!(why.unwrap().contains("not read"));

    let set_faults = |body: Value| {
        let url = format!("{}/_sim/faults", sim.base_url());
        async move {
            assert!(reqwest::Client::new().post(url).json(&body).send().await.unwrap().status().is_success())
        }
    };
    set_faults(json!({"sesterce": {"details_html": 1.0}})).await;
    let failed = p.get(&key.id).await;
    assert!(failed.is_err(), "{failed:?}");
    let version = listed.iter().find(|l| l.dep.key == key).unwrap().version.clone();
    let item = |result: Result<infertop::model::Deployment, infertop::provider::ApiError>| RowDetail {
        key: key.clone(),
        version: version.clone(),
        result: result.map(Box::new),
    };
    update(&mut state, Msg::RowDetails { account: 0, at: now, items: vec![item(failed)] });
    let (h, why) = row(&state).assess();
    assert_eq!(h, Health::Unknown);
    let why = why.unwrap();
    assert!(why.contains(&format!("GET /ai-inference/instances/{}", key.id)), "{why}");
    // The table says so in every theme: mono has no colour to tell it by.
    update(&mut state, Msg::Resize(160, 48));
    let lines = render(&state);
    assert!(
        lines.iter().any(|l| l.contains("deepseek-r1-distill") && l.contains("? ACTIVE")),
        "{}",
        lines.join("\n")
    );
    // The next list (still served) does not make the row look read.
    update(&mut state, Msg::Listed { account: 0, at: now, result: Ok(listed.clone()) });
    assert_eq!(row(&state).assess(), (Health::Unknown, Some(why.clone())));

    set_faults(json!({"profile": "none"})).await;
    let good = p.get(&key.id).await;
    assert!(good.is_ok(), "{good:?}");
    update(&mut state, Msg::RowDetails { account: 0, at: now, items: vec![item(good)] });
    assert_eq!(row(&state).assess(), (Health::Ok, None), "a good read clears it");

    // The selected row's own reads (the detail poller) land the same way.
    set_faults(json!({"sesterce": {"details_rate_limit": 1.0}})).await;
    let later = now + chrono::Duration::seconds(1);
    update(
        &mut state,
        Msg::Detail { key: key.clone(), at: later, result: p.get(&key.id).await.map(Box::new) },
    );
    let (h, why) = row(&state).assess();
    assert_eq!(h, Health::Unknown);
    assert!(why.unwrap().contains("429"));
    set_faults(json!({"profile": "none"})).await;
    let at = later + chrono::Duration::seconds(1);
    update(&mut state, Msg::Detail { key: key.clone(), at, result: p.get(&key.id).await.map(Box::new) });
    assert_eq!(row(&state).health(), Health::Ok);
    assert_eq!(state.snapshot(&state.rows[state.index[&key]]).health(), Health::Ok);
}

/// The alert rules read the one health: `promtool test rules` on series as `serve` writes them. Unknown
/// alerts on its own, not ready (warning) alerts, and a deployment at rest alerts on nothing, not even with
/// no replica and a minimum above zero.
#[test]
fn the_alert_rules_fire_on_unknown_and_not_ready_and_never_at_rest() {
    if Command::new("promtool").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "promtool is not installed");
        eprintln!("*** SKIPPED: promtool is not installed ***");
        return;
    }
    let dir = TempDir::new("health", "rules");
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prometheus/alerts.yml");
    let info = |p: &str, a: &str, id: &str, status: &str| {
        format!(
            "      - series: 'infertop_deployment_info{{provider=\"{p}\",account=\"{a}\",id=\"{id}\",deployment=\"dep-{id}\",status=\"{status}\",hardware=\"\",image=\"\"}}'\n        values: '1x30'\n"
        )
    };
    let health = |p: &str, a: &str, id: &str, h: &str| {
        format!(
            "      - series: 'infertop_deployment_health{{provider=\"{p}\",account=\"{a}\",id=\"{id}\",health=\"{h}\"}}'\n        values: '1x30'\n"
        )
    };
    let region = |name: &str, id: &str, v: u32| {
        format!(
            "      - series: '{name}{{provider=\"gcore\",account=\"g\",id=\"{id}\",region=\"Amsterdam\"}}'\n        values: '{v}x30'\n"
        )
    };
    let mut series = String::new();
    series += &info("sesterce", "s", "a", "ACTIVE");
    series += &health("sesterce", "s", "a", "unknown");
    series += &info("gcore", "g", "b", "ACTIVE");
    series += &health("gcore", "g", "b", "warning");
    series += &info("gcore", "g", "c", "DISABLED");
    series += &health("gcore", "g", "c", "inactive");
    series += &region("infertop_replicas", "c", 0);
    series += &region("infertop_scale_min", "c", 1);
    let test = format!(
        r#"rule_files:
  - {rules}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{series}    alert_rule_test:
      - eval_time: 15m
        alertname: InfertopDeploymentHealthUnknown
        exp_alerts:
          - exp_labels: {{severity: warning, provider: sesterce, account: s, id: a, health: unknown, deployment: dep-a}}
            exp_annotations:
              summary: "infertop cannot tell whether dep-a (sesterce/s) is healthy"
              description: "Part of dep-a could not be read for 10 minutes, so its health is unknown. `infertop snapshot` prints the reason on stderr."
      - eval_time: 15m
        alertname: InfertopDeploymentNotReady
        exp_alerts:
          - exp_labels: {{severity: warning, provider: gcore, account: g, id: b, health: warning, deployment: dep-b}}
            exp_annotations:
              summary: "dep-b (gcore/g) is not fully ready"
              description: "dep-b has been neither healthy nor at rest for 10 minutes (its health: warning): a region with fewer ready replicas than it runs or than its minimum, an error, or a failed status. `infertop snapshot` says which."
      - eval_time: 15m
        alertname: InfertopScaledToZeroUnexpectedly
        exp_alerts: []
"#,
        rules = rules.display()
    );
    let file = dir.0.join("rules_test.yml");
    std::fs::write(&file, test).unwrap();
    let out = Command::new("promtool").args(["test", "rules"]).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
