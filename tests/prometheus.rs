//! `infertop serve` read by a real Prometheus: a real `infertop sim` process, `infertop serve` against it, and
//! Prometheus (Debian's package) scraping every second in a temp dir on a free loopback port. Everything is
//! read back through Prometheus' HTTP API; waits are bounded polls, nothing asserts on time.
//!
//! Without `prometheus`/`promtool` on the PATH the tests say so loudly and skip, except in CI (`CI` set),
//! where they fail: `.ci/run` installs the package.

mod common;

use common::temp::TempDir;

use common::tmux::{BIN, Sim, sim_accounts_config, sim_credentials, start_sim};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether `tool` runs; if not, panics in CI and prints a loud skip notice elsewhere.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is not installed: .ci/run installs Debian's prometheus package");
        }
        eprintln!(
            "\n*** SKIPPED: {tool} is not installed (apt-get install prometheus); this test FAILS in CI ***\n"
        );
    }
    ok
}

/// A child process killed (and reaped) on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn config_for(url: &str) -> String {
    sim_accounts_config(url, "PROM")
}

/// `infertop ARGS` with the config in `dir` and the simulator's credentials.
fn infertop(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--config")
        .arg(dir.join("config.toml"))
        .env("XDG_STATE_HOME", dir)
        .envs(sim_credentials("PROM"));
    c
}

/// `infertop serve` on a free loopback port; returns it with its base URL (from its first line).
fn start_serve(dir: &Path) -> (Proc, String) {
    let mut child = infertop(dir, &["serve", "--listen", "127.0.0.1:0", "--refresh", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start infertop serve");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .strip_prefix("listening on ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line names the address: {first:?}"))
        .to_string();
    (Proc(child), url)
}

/// Prometheus scraping `target` (host:port) every second, its data in `dir`; returns it with its base URL
/// once it answers ready.
fn start_prometheus(dir: &Path, target: &str) -> (Proc, String) {
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: infertop\n    static_configs:\n      - targets: ['{target}']\n",
            rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prometheus/alerts.yml").display(),
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus");
    let proc = Proc(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    for _ in 0..120 {
        if http.get(format!("{base}/-/ready")).send().is_ok_and(|r| r.status().is_success()) {
            return (proc, base);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "prometheus did not become ready; its log:\n{}",
        std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
    );
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// An instant query: each series' labels and value.
fn query(base: &str, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let v: Value = client()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", promql)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["status"], "success", "{promql}: {v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = serde_json::from_value(s["metric"].clone()).unwrap();
            let value = s["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

/// Polls `check` every half second, at most `tries` times; returns its last answer.
fn poll<T>(tries: usize, mut check: impl FnMut() -> (bool, T)) -> T {
    let mut last = None;
    for _ in 0..tries {
        let (done, v) = check();
        if done {
            return v;
        }
        last = Some(v);
        std::thread::sleep(Duration::from_millis(500));
    }
    last.unwrap()
}

type Key = (String, String, String, String);

/// Ready replicas per (provider, account, id, region), as `infertop snapshot --json` reads the simulator.
fn expected_ready(dir: &Path) -> BTreeMap<Key, f64> {
    let out = infertop(dir, &["snapshot", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut m = BTreeMap::new();
    for d in doc["deployments"].as_array().unwrap() {
        for r in d["regions"].as_array().unwrap() {
            let region = r["name"].as_str().or(r["region"].as_str()).unwrap().to_string();
            let key = (
                d["provider"].as_str().unwrap().to_string(),
                d["account"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap().to_string(),
                region,
            );
            m.insert(key, r["ready"].as_f64().unwrap());
        }
    }
    m
}

fn by_key(series: Vec<(BTreeMap<String, String>, f64)>) -> BTreeMap<Key, f64> {
    series
        .into_iter()
        .map(|(l, v)| {
            ((l["provider"].clone(), l["account"].clone(), l["id"].clone(), l["region"].clone()), v)
        })
        .collect()
}

/// The simulator's own numbers for Gcore, straight from its wire JSON: ready per (deployment, region id).
fn gcore_raw_ready(sim: &Sim) -> BTreeMap<(String, String), f64> {
    let v: Value = client()
        .get(format!("{}/cloud/v3/inference/1/deployments", sim.url))
        .header("Authorization", "APIKey demo-gcore-key")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut m = BTreeMap::new();
    for d in v["results"].as_array().unwrap() {
        for c in d["containers"].as_array().unwrap() {
            m.insert(
                (d["name"].as_str().unwrap().to_string(), c["region_id"].to_string()),
                c["deploy_status"]["ready"].as_f64().unwrap(),
            );
        }
    }
    m
}

#[test]
fn prometheus_scrapes_serve_and_sees_the_simulators_values_changes_and_deletions() {
    if !have("prometheus") {
        return;
    }
    // Simulated time stands still unless the test moves it: the values read two ways must be the same.
    let sim = start_sim(&["--time-scale", "0"]);
    let dir = TempDir::new("prom", "e2e");
    std::fs::write(dir.0.join("config.toml"), config_for(&sim.url)).unwrap();
    let (_serve, serve_url) = start_serve(&dir.0);
    let (_prom, prom) = start_prometheus(&dir.0, serve_url.trim_start_matches("http://"));

    // Every deployment and region, with the simulator's ready count.
    let expected = expected_ready(&dir.0);
    assert!(expected.keys().any(|k| k.0 == "gcore") && expected.keys().any(|k| k.0 == "sesterce"));
    assert!(expected.keys().any(|k| k.0 == "runai"));
    // The snapshot's Gcore numbers are the simulator's own.
    let raw = gcore_raw_ready(&sim);
    let snap = infertop(&dir.0, &["snapshot", "--json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&snap.stdout).unwrap();
    for d in doc["deployments"].as_array().unwrap().iter().filter(|d| d["provider"] == "gcore") {
        for r in d["regions"].as_array().unwrap() {
            let key = (d["name"].as_str().unwrap().to_string(), r["region"].as_str().unwrap().to_string());
            assert_eq!(raw.get(&key), r["ready"].as_f64().as_ref(), "{key:?}");
        }
    }
    let seen = poll(120, || {
        let got = by_key(query(&prom, "infertop_replicas_ready"));
        (got == expected, got)
    });
    assert_eq!(seen, expected, "infertop_replicas_ready in Prometheus against the simulator");
    // Each series finds its name on the one info series of its identity.
    let named = query(
        &prom,
        "infertop_replicas_ready * on (provider, account, id) group_left (deployment) infertop_deployment_info",
    );
    assert_eq!(named.len(), expected.len(), "{named:?}");
    assert!(named.iter().all(|(l, _)| l.get("deployment").is_some_and(|n| !n.is_empty())), "{named:?}");
    let up = query(&prom, "infertop_account_up");
    assert_eq!(up.len(), 3, "{up:?}");
    assert!(up.iter().all(|(_, v)| *v == 1.0), "{up:?}");
    let requests = query(&prom, "sum by (account) (infertop_api_requests_total{code=\"200\"})");
    assert_eq!(requests.len(), 3, "every account's requests are counted: {requests:?}");

    // The alert rules load and evaluate: a partly deployed deployment is pending "not ready" (for 10 minutes
    // before it fires); a disabled one is at rest and is not.
    let alerting = poll(60, || {
        let v: Value = client().get(format!("{prom}/api/v1/alerts")).send().unwrap().json().unwrap();
        let names: Vec<String> = v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == "InfertopDeploymentNotReady")
            .map(|a| a["labels"]["deployment"].as_str().unwrap_or_default().to_string())
            .collect();
        (names.iter().any(|n| n == "whisper-large-v3"), names)
    });
    assert!(alerting.iter().any(|n| n == "whisper-large-v3"), "{alerting:?}");
    assert!(!alerting.iter().any(|n| n == "phi-3-mini-staging"), "{alerting:?}");

    // A scale-up through the simulator's API: the new bounds, then ready climbing as simulated time passes.
    let http = client();
    let resp = http
        .patch(format!("{}/cloud/v3/inference/1/deployments/bge-m3-embed", sim.url))
        .header("Authorization", "APIKey demo-gcore-key")
        .json(&serde_json::json!({"containers": [{"region_id": 7, "scale": {"min": 3, "max": 5}}]}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    // Gcore's id is the deployment's name.
    let sel = r#"{provider="gcore",id="bge-m3-embed",region="Luxembourg-2"}"#;
    let bounds = poll(60, || {
        let min = query(&prom, &format!("infertop_scale_min{sel}"));
        let max = query(&prom, &format!("infertop_scale_max{sel}"));
        let got = (min.first().map(|s| s.1), max.first().map(|s| s.1));
        (got == (Some(3.0), Some(5.0)), got)
    });
    assert_eq!(bounds, (Some(3.0), Some(5.0)));
    let before = query(&prom, &format!("infertop_replicas_ready{sel}"))[0].1;
    let advance = |seconds: f64| {
        let r = http.post(format!("{}/_sim/advance", sim.url)).json(&serde_json::json!({"seconds": seconds}));
        assert!(r.send().unwrap().status().is_success());
    };
    advance(900.0);
    let ready = poll(60, || {
        let v = query(&prom, &format!("infertop_replicas_ready{sel}")).first().map(|s| s.1);
        (v.is_some_and(|v| v >= 3.0), v)
    });
    assert!(ready.is_some_and(|v| v >= 3.0 && v > before), "ready went from {before} to {ready:?}");

    // A deleted deployment's series go stale: gone from an instant query, while the others stay.
    let victim = "rerank-v2";
    let resp = http
        .delete(format!("{}/cloud/v3/inference/1/deployments/{victim}", sim.url))
        .header("Authorization", "APIKey demo-gcore-key")
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    advance(900.0);
    let left = poll(60, || {
        let v = query(&prom, &format!("{{__name__=~\"infertop_.+\",id=\"{victim}\"}}"));
        (v.is_empty(), v)
    });
    assert!(left.is_empty(), "series of the deleted deployment still there: {left:?}");
    assert!(!query(&prom, "infertop_replicas_ready{id=\"llama-3-70b-chat\"}").is_empty());
}

#[test]
fn alert_rules_and_scrapes_pass_promtool_with_hostile_strings_from_the_network() {
    if !have("promtool") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(root.join("assets/prometheus/alerts.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let sim = start_sim(&["--hostile"]);
    let dir = TempDir::new("prom", "hostile");
    std::fs::write(dir.0.join("config.toml"), config_for(&sim.url)).unwrap();
    let (_serve, url) = start_serve(&dir.0);
    let http = client();
    let text = poll(60, || {
        let t = http.get(format!("{url}/metrics")).send().unwrap().text().unwrap();
        (t.contains("hostile-strings") && t.contains("infertop_account_up{provider=\"runai\""), t)
    });
    assert!(text.contains("deployment=\"hostile-strings\""), "{text}");
    promtool_check_metrics(&text);

    // The snapshot writes the same families once.
    let snap = infertop(&dir.0, &["snapshot", "--format", "prometheus"]).output().unwrap();
    assert!(snap.status.success(), "{}", String::from_utf8_lossy(&snap.stderr));
    let snap = String::from_utf8(snap.stdout).unwrap();
    promtool_check_metrics(&snap);
    let families = |t: &str| -> Vec<String> {
        t.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.to_string()).collect()
    };
    assert_eq!(families(&snap), families(&text));
}

#[test]
fn hostile_label_values_keep_the_exposition_valid() {
    if !have("promtool") {
        return;
    }
    use infertop::app::{AccountState, Msg, State, update};
    use infertop::model::{Deployment, DeploymentKey, ProviderKind, RegionReplicas, Scale, Status};
    use infertop::serve::{Exporter, api::ApiMetrics, exposition::Shared};
    // Every byte a label value must survive: quotes, backslashes, newlines, escapes, C1, NUL, non-ASCII.
    let hostile = format!("{}\"q\\b\\n}}{{x=\"1\" \0 é {}", infertop::sim::fleet::HOSTILE, '\u{202e}');
    let sesterce = &infertop::provider::demo_accounts("http://127.0.0.1:9")[1];
    let caps = infertop::provider::connect(sesterce, reqwest::Client::new()).capabilities();
    let account = AccountState::new(hostile.clone(), ProviderKind::Sesterce, caps);
    let now = chrono::Utc::now();
    let mut state = State::new(vec![account], Duration::from_secs(5), now);
    let key = DeploymentKey {
        provider: ProviderKind::Sesterce,
        account: hostile.as_str().into(),
        id: hostile.clone(),
    };
    let mut d = Deployment::new(key, hostile.clone(), Status::Unknown(hostile.clone()));
    d.image = Some(hostile.as_str().into());
    d.hardware = Some(hostile.as_str().into());
    d.price_per_hour = Some(1.5);
    d.regions.push(RegionReplicas {
        region_id: hostile.clone(),
        region_name: Some(hostile.as_str().into()),
        ready: 1,
        total: 2,
        scale: Scale { min: 1, max: 3, ..Default::default() },
        error: Some(hostile.clone()),
    });
    update(&mut state, Msg::Fleet { account: 0, at: now, result: Ok(vec![d]) });
    let exporter = Exporter::new(Shared::new(state), &ApiMetrics::default());
    for openmetrics in [false, true] {
        let (_, text) = exporter.render(openmetrics).unwrap();
        assert!(text.contains("infertop_replicas_ready{"), "{text}");
        // One line per sample: no raw newline from a label value.
        assert_eq!(text.lines().filter(|l| l.starts_with("infertop_replicas_ready{")).count(), 1, "{text}");
        if std::env::var_os("SHOW_EXPOSITION").is_some() {
            println!("{text}");
        }
        // Control characters are made visible, as everywhere infertop shows a network string.
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.contains(r#"\\e[2J"#), "{text}");
        if !openmetrics {
            promtool_check_metrics(&text);
        }
    }
}

fn promtool_check_metrics(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serve_refuses_a_public_address_without_listen_public_and_answers_health_and_openmetrics() {
    let dir = TempDir::new("prom", "listen");
    std::fs::write(dir.0.join("config.toml"), config_for("http://127.0.0.1:9")).unwrap();
    let out = infertop(&dir.0, &["serve", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen-public") && !err.contains("panicked"), "{err}");

    let sim = start_sim(&[]);
    std::fs::write(dir.0.join("config.toml"), config_for(&sim.url)).unwrap();
    let (_serve, url) = start_serve(&dir.0);
    let http = client();
    let health = http.get(format!("{url}/healthz")).send().unwrap();
    assert!(health.status().is_success());
    let om = poll(60, || {
        let r = http
            .get(format!("{url}/metrics"))
            .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
            .send()
            .unwrap();
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        let body = r.text().unwrap();
        (body.contains("infertop_deployment_info{"), (ct, body))
    });
    assert!(om.0.starts_with("application/openmetrics-text"), "{}", om.0);
    assert!(om.1.ends_with("# EOF\n"), "{}", om.1);
    let plain = http.get(format!("{url}/metrics")).send().unwrap();
    assert!(plain.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));

    // Gzip when asked (as Prometheus asks), plain otherwise; the same families either way.
    let raw =
        reqwest::blocking::Client::builder().no_gzip().timeout(Duration::from_secs(10)).build().unwrap();
    let families = |t: &str| -> Vec<String> {
        t.lines().filter_map(|l| l.strip_prefix("# TYPE ")).map(|l| l.to_string()).collect()
    };
    for openmetrics in [false, true] {
        let get = |encoding: &str| {
            let mut req = raw.get(format!("{url}/metrics")).header("Accept-Encoding", encoding);
            if openmetrics {
                req = req.header("Accept", "application/openmetrics-text;version=1.0.0");
            }
            req.send().unwrap()
        };
        let plain = get("identity");
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.text().unwrap();
        let gz = get("gzip");
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.bytes().unwrap()[..]), &mut text)
            .unwrap();
        assert!(families(&text).len() > 10, "{text}");
        assert_eq!(families(&text), families(&plain));
        assert_eq!(text.ends_with("# EOF\n"), openmetrics);
    }
}
