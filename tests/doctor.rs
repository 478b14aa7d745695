//! `infertop doctor` against the simulator over loopback: the demo is green with every endpoint listed (the only
//! findings under its default, hostile readings are the documented 404 of Run:ai's inference metrics on a
//! control plane older than 2.18); under every reading of every ambiguity of the documents, exactly what that
//! reading should show; each drift fault (an unknown field, a renamed field, an unknown status, a missing endpoint, endless
//! paging) is named exactly, by endpoint and JSON path, with nothing else found and the exit status it
//! deserves; no output holds a demo secret or env value; and no request the doctor sends is a write (the
//! simulator's request log holds only GETs and the Run:ai token POST).

mod common;

use infertop::doctor::{self, FindingKind, Report, Severity};
use infertop::model::ProviderKind;
use infertop::provider::http::build_client;
use infertop::sim::ambiguity::{
    Ambiguities, GCORE_V2_OPTIONAL, RUNAI_METRICS, RUNAI_TOKEN, SESTERCE_OPTIONAL, SWITCHES,
};
use infertop::sim::{self, SimConfig, SimHandle, faults::FaultConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_infertop");

/// Strings no doctor output may hold: the demo credentials, env values of the demo fleet, token prefixes.
const SECRETS: [&str; 7] = [
    sim::DEMO_GCORE_KEY,
    sim::DEMO_SESTERCE_KEY,
    sim::DEMO_RUNAI_SECRET,
    "hf_demo_",
    "sim-runai.",
    "Bearer ",
    // The start of every JWT (the Run:ai access tokens).
    "eyJ",
];

/// The simulator with its default (most hostile) readings.
async fn start() -> SimHandle {
    start_with(Ambiguities::default()).await
}

async fn start_with(ambiguities: Ambiguities) -> SimHandle {
    let config = SimConfig { ambiguities, ..SimConfig::default() };
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// The readings under which the demo has no finding at all.
fn quiet() -> Ambiguities {
    Ambiguities::default().with(RUNAI_METRICS, "served")
}

const RUNAI_METRICS_INF: &str = "GET /api/v1/workloads/inferences/{workloadId}/metrics";
const RUNAI_POD_METRICS_INF: &str = "GET /api/v1/workloads/inferences/{workloadId}/pods/{podId}/metrics";

/// What a control plane older than 2.18 shows: its inference metrics are missing, as seed 003 foresees.
fn old_plane() -> BTreeSet<Named> {
    [RUNAI_METRICS_INF, RUNAI_POD_METRICS_INF]
        .into_iter()
        .map(|ep| finding("runai-demo", Severity::Warning, FindingKind::EndpointMissing, ep, "$"))
        .collect()
}

fn set_profile(h: &SimHandle, profile: &str) {
    *h.state.faults.write().unwrap() = FaultConfig::profile(profile).unwrap();
}

/// The demo accounts plus a Gcore account on the legacy v2 API.
async fn examine(h: &SimHandle) -> Report {
    let accounts = common::wire::accounts_with_v2(&h.base_url());
    doctor::examine(&accounts, build_client(Duration::from_secs(5), Duration::from_secs(20))).await
}

/// Every request the simulator saw is a GET, or a Run:ai token POST (v2, or the v1 fallback).
fn assert_read_only(h: &SimHandle) {
    let log = h.state.fault_counters.requests_logged();
    assert!(!log.is_empty());
    let writes: Vec<&String> =
        log.iter().filter(|l| !l.starts_with("GET ") && !TOKEN_POSTS.contains(&l.as_str())).collect();
    assert!(writes.is_empty(), "write requests reached the simulator: {writes:?}");
}

/// The log sees every method (so that an empty list of writes above means something).
#[tokio::test]
async fn the_request_log_records_writes_too() {
    let h = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/ai-inference/instances/x/stop", h.base_url());
    let _ = http.post(url).header("x-api-key", sim::DEMO_SESTERCE_KEY).send().await.unwrap();
    let log = h.state.fault_counters.requests_logged();
    assert_eq!(log, ["POST /ai-inference/instances/x/stop"]);
}

const TOKEN_POSTS: [&str; 2] = ["POST /api/v2/token", "POST /api/v1/token"];

type Named = (String, Severity, FindingKind, String, String);

/// (account, severity, kind, endpoint, path) of every finding.
fn named(r: &Report) -> BTreeSet<Named> {
    r.accounts
        .iter()
        .flat_map(|a| {
            a.findings
                .iter()
                .map(|f| (a.account.clone(), f.severity, f.kind, f.endpoint.clone(), f.path.clone()))
        })
        .collect()
}

fn finding(account: &str, severity: Severity, kind: FindingKind, endpoint: &str, path: &str) -> Named {
    (account.into(), severity, kind, endpoint.into(), path.into())
}

const GCORE_V3_GET: &str = "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}";
const GCORE_V2_GET: &str = "GET /cloud/v2/inference/deployments/{instance_id}";
const GCORE_V2_LIST: &str = "GET /cloud/v2/inference/deployments";
const GCORE_V2_LOGS: &str = "GET /cloud/v2/inference/deployments/{instance_id}/logs";
const GCORE_V2_FLAVOR: &str = "GET /cloud/v2/inference/flavors/{flavor_id}";
const SESTERCE_GET: &str = "GET /ai-inference/instances/{id}";
const RUNAI_GET: &str = "GET /api/v1/workloads/inferences/{workloadId}";

fn endpoints(r: &Report, account: &str) -> Vec<(String, String)> {
    let a = r.accounts.iter().find(|a| a.account == account).unwrap();
    a.calls.iter().map(|c| (c.endpoint.clone(), c.outcome.clone())).collect()
}

#[tokio::test]
async fn the_demo_is_green_with_every_endpoint_listed() {
    let h = start().await;
    let r = examine(&h).await;
    assert_eq!(named(&r), old_plane(), "{}", doctor::report::human(&r));
    assert_eq!((r.errors, r.warnings, r.exit_code()), (0, 2, 0));
    let ok = |eps: &[&str]| eps.iter().map(|e| (e.to_string(), "ok".to_string())).collect::<Vec<_>>();
    assert_eq!(
        endpoints(&r, "gcore-demo"),
        ok(&[
            "GET /cloud/v3/inference/{project_id}/deployments",
            GCORE_V3_GET,
            "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs",
            "GET /cloud/v3/inference/flavors",
            "GET /cloud/v3/inference/capacity",
            "GET /cloud/v1/regions",
            "GET /cloud/v3/inference/{project_id}/registry_credentials",
            GCORE_V3_GET,
        ])
    );
    assert_eq!(
        endpoints(&r, "gcore-v2"),
        ok(&[
            "GET /cloud/v2/inference/deployments",
            GCORE_V2_GET,
            "GET /cloud/v2/inference/deployments/{instance_id}/logs",
            GCORE_V2_FLAVOR,
            "GET /cloud/v3/inference/flavors",
            "GET /cloud/v3/inference/capacity",
            "GET /cloud/v1/regions",
            "GET /cloud/v3/inference/{project_id}/registry_credentials",
            GCORE_V2_GET,
        ])
    );
    assert_eq!(
        endpoints(&r, "sesterce-demo"),
        ok(&[
            "GET /ai-inference/instances",
            SESTERCE_GET,
            "GET /ai-inference/models",
            "GET /ai-inference/hardwares",
            "GET /ai-inference/regions",
            "GET /ai-inference/registries",
            SESTERCE_GET,
        ])
    );
    let mut runai = ok(&[
        "POST /api/v2/token",
        "POST /api/v1/token",
        "GET /api/v1/workloads",
        "GET /api/v1/clusters",
        RUNAI_GET,
        "GET /api/v1/workloads/{workloadId}",
        "GET /api/v1/workloads/{workloadId}/pods",
        RUNAI_METRICS_INF,
        "GET /api/v1/workloads/{workloadId}/metrics",
        RUNAI_POD_METRICS_INF,
        "GET /api/v1/workloads/{workloadId}/pods/{podId}/metrics",
        RUNAI_GET,
    ]);
    runai[7].1 = "warning".into();
    runai[9].1 = "warning".into();
    assert_eq!(endpoints(&r, "runai-demo"), runai);
    let auth: Vec<&str> = r.accounts.iter().map(|a| a.auth.as_str()).collect();
    assert_eq!(auth[0], "Authorization: APIKey header");
    assert_eq!(auth[1], "x-api-key header");
    // The simulator's v1 answer has no `expiresIn`: the lifetime comes from the JWT's `exp` (seconds left vary).
    assert!(
        auth[2].starts_with(
            "POST /api/v1/token (v1 fallback: /api/v2/token is not served), no expiry in the answer; the JWT's exp says "
        ),
        "{}",
        auth[2]
    );
    assert_eq!(auth[3], "Authorization: APIKey header");
    // The error bodies were read too (a GET of something absent answers 404 in the documented shape).
    for a in &r.accounts {
        let probe = a.calls.iter().find(|c| c.role.starts_with("error body")).unwrap();
        assert_eq!(probe.status, Some(404), "{}", a.account);
    }
    assert_read_only(&h);
    let log = h.state.fault_counters.requests_logged();
    assert!(log.iter().any(|l| l == "POST /api/v1/token"), "{log:?}");
}

/// What a v2 GET must give for a PUT (and seed 001's answer need not), and what Sesterce's details must give
/// for a PATCH (and may leave out).
const V2_SENT_BACK: [&str; 10] = [
    "api_key_ids",
    "containers[*].scale.cooldown_period",
    "containers[*].scale.triggers",
    "auth_enabled",
    "command",
    "description",
    "envs",
    "image_registry_id",
    "probes",
    "timeout",
];
const SESTERCE_SENT_BACK: [&str; 5] = ["apiKeysIds", "description", "envs", "podLifetime", "startupCommand"];

/// An error for each field of `fields` missing from `endpoint`'s answer (an edit must send it back).
fn not_sent_back(account: &str, endpoint: &str, fields: &[&str]) -> BTreeSet<Named> {
    fields
        .iter()
        .map(|f| finding(account, Severity::Error, FindingKind::Missing, endpoint, &format!("$.{f}")))
        .collect()
}

/// Every reading of every switch, the others at their quiet reading: the demo has no finding, except the
/// documented 404 of an old control plane's inference metrics; the Run:ai sign-in follows the token reading.
/// Where an answer leaves out a field a full-body edit sends back, each such field is an error on that read.
#[tokio::test]
async fn every_reading_of_every_ambiguity_shows_exactly_what_it_should() {
    for sw in SWITCHES {
        for reading in sw.readings {
            let h = start_with(quiet().with(sw.name, reading)).await;
            let r = examine(&h).await;
            let what = format!("{}={reading}", sw.name);
            let expected = match (sw.name, *reading) {
                (RUNAI_METRICS, "404") => old_plane(),
                (GCORE_V2_OPTIONAL, "omitted") => not_sent_back("gcore-v2", GCORE_V2_GET, &V2_SENT_BACK),
                (SESTERCE_OPTIONAL, "omitted") => {
                    not_sent_back("sesterce-demo", SESTERCE_GET, &SESTERCE_SENT_BACK)
                }
                _ => BTreeSet::new(),
            };
            assert_eq!(named(&r), expected, "{what}:\n{}", doctor::report::human(&r));
            let errors = expected.iter().any(|f| f.1 == Severity::Error);
            assert_eq!(r.exit_code(), if errors { doctor::EXIT_FINDINGS } else { 0 }, "{what}");
            let runai = r.accounts.iter().find(|a| a.account == "runai-demo").unwrap();
            let v1 = runai.auth.starts_with("POST /api/v1/token (v1 fallback")
                || runai.auth.starts_with(
                    "POST /api/v1/token with the app_token grant (client_credentials refused) (v1 fallback",
                );
            let token_reading =
                if sw.name == RUNAI_TOKEN { *reading } else { Ambiguities::default().reading(RUNAI_TOKEN) };
            assert_eq!(v1, token_reading.starts_with("v1-only"), "{what}: {}", runai.auth);
            let workloads = runai.calls.iter().find(|c| c.endpoint == "GET /api/v1/workloads").unwrap();
            assert!(
                workloads.note.starts_with("8 of 10 workloads are inference"),
                "{what}: {}",
                workloads.note
            );
            assert_read_only(&h);
        }
    }
}

#[tokio::test]
async fn each_drift_is_named_exactly_with_its_exit_status() {
    use FindingKind::*;
    use Severity::*;
    let cases: Vec<(&str, Vec<Named>, i32)> = vec![
        (
            "drift-unknown-field",
            vec![
                finding("gcore-demo", Warning, UnknownField, GCORE_V3_GET, "$.x_drift_field"),
                finding("gcore-v2", Warning, UnknownField, GCORE_V2_GET, "$.x_drift_field"),
                finding("sesterce-demo", Warning, UnknownField, SESTERCE_GET, "$.x_drift_field"),
                finding("runai-demo", Warning, UnknownField, RUNAI_GET, "$.x_drift_field"),
            ],
            0,
        ),
        (
            "drift-renamed-field",
            vec![
                finding("gcore-demo", Error, OtherCasing, GCORE_V3_GET, "$.status"),
                finding("gcore-v2", Error, OtherCasing, GCORE_V2_GET, "$.status"),
                finding("sesterce-demo", Error, OtherCasing, SESTERCE_GET, "$.status"),
                finding("runai-demo", Error, OtherCasing, RUNAI_GET, "$.spec.autoscaling.minReplicas"),
            ],
            doctor::EXIT_FINDINGS,
        ),
        (
            // A status outside the vocabulary shows the row as UNKNOWN and fails `--fail-on-unhealthy`.
            "drift-unknown-enum",
            vec![
                finding("gcore-demo", Error, UnknownValue, GCORE_V3_GET, "$.status"),
                finding("gcore-v2", Error, UnknownValue, GCORE_V2_GET, "$.status"),
                finding("sesterce-demo", Error, UnknownValue, SESTERCE_GET, "$.status"),
                finding("runai-demo", Error, UnknownValue, RUNAI_GET, "$.actualPhase"),
            ],
            doctor::EXIT_FINDINGS,
        ),
        (
            "drift-missing-endpoint",
            vec![
                finding(
                    "gcore-demo",
                    Error,
                    EndpointMissing,
                    "GET /cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs",
                    "$",
                ),
                finding(
                    "gcore-v2",
                    Error,
                    EndpointMissing,
                    "GET /cloud/v2/inference/deployments/{instance_id}/logs",
                    "$",
                ),
                finding("sesterce-demo", Error, EndpointMissing, "GET /ai-inference/hardwares", "$"),
                finding("runai-demo", Error, EndpointMissing, "GET /api/v1/workloads/{workloadId}/pods", "$"),
            ],
            doctor::EXIT_FINDINGS,
        ),
        (
            "drift-error-shape",
            [
                ("gcore-demo", GCORE_V3_GET, ["$.exception_class", "$.message"]),
                ("gcore-v2", GCORE_V2_GET, ["$.exception_class", "$.message"]),
                ("sesterce-demo", SESTERCE_GET, ["$.statusCode", "$.message"]),
                ("runai-demo", RUNAI_GET, ["$.code", "$.message"]),
            ]
            .into_iter()
            .flat_map(|(account, ep, paths)| {
                paths.into_iter().map(move |p| finding(account, Warning, ErrorShape, ep, p)).chain([finding(
                    account,
                    Warning,
                    UnknownField,
                    ep,
                    "$.fault",
                )])
            })
            .collect(),
            0,
        ),
        (
            "drift-endless-paging",
            vec![
                finding(
                    "gcore-demo",
                    Error,
                    PagingEndless,
                    "GET /cloud/v3/inference/{project_id}/deployments",
                    "$",
                ),
                finding("gcore-v2", Error, PagingEndless, "GET /cloud/v2/inference/deployments", "$"),
                finding("runai-demo", Error, PagingEndless, "GET /api/v1/workloads", "$"),
            ],
            doctor::EXIT_FINDINGS,
        ),
    ];
    for (profile, expected, exit) in cases {
        let h = start_with(quiet()).await;
        set_profile(&h, profile);
        let r = examine(&h).await;
        assert_eq!(named(&r), expected.into_iter().collect(), "{profile}:\n{}", doctor::report::human(&r));
        assert_eq!(r.exit_code(), exit, "{profile}");
        // The finding says what it saw, in words and without values it should not show.
        let text = doctor::report::human(&r);
        match profile {
            "drift-renamed-field" => assert!(text.contains(r#"sent as "MinReplicas""#), "{text}"),
            "drift-unknown-enum" => assert!(text.contains(r#""HIBERNATING" is not a value"#), "{text}"),
            _ => {}
        }
        assert_read_only(&h);
    }
}

/// Runs the real binary with `args` (HOME and the state dir in a temporary directory).
async fn run_bin(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let tmp = common::temp::TempDir::unique("doctor-test");
    let home = tmp.0.clone();
    let mut c = tokio::process::Command::new(BIN);
    c.args(args)
        .env_remove("INFERTOP_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), c.output()).await.unwrap().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s:?} in the output:\n{text}");
    }
}

#[tokio::test]
async fn the_binary_on_the_demo_prints_green_reports_without_secrets() {
    let (code, out, err) = run_bin(&["doctor", "--demo", "--json"], &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_no_secret(&out);
    assert_no_secret(&err);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["doctor_version"], 1);
    // The demo's readings are the hostile ones: an old Run:ai control plane without inference metrics.
    assert_eq!((v["errors"].as_u64(), v["warnings"].as_u64()), (Some(0), Some(2)));
    let accounts: Vec<&str> =
        v["accounts"].as_array().unwrap().iter().map(|a| a["account"].as_str().unwrap()).collect();
    assert_eq!(accounts, ["gcore-demo", "sesterce-demo", "runai-demo"]);
    for a in v["accounts"].as_array().unwrap() {
        for key in ["provider", "auth", "calls", "findings", "not_checked"] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
        for c in a["calls"].as_array().unwrap() {
            let metrics_404 =
                c["endpoint"].as_str().unwrap().starts_with("GET /api/v1/workloads/inferences/")
                    && c["status"] == 404
                    && c["role"].as_str().unwrap().contains("metrics");
            assert_eq!(c["outcome"], if metrics_404 { "warning" } else { "ok" }, "{c}");
            assert!(c["latency_ms"].is_u64() && c["requests"].as_u64() == Some(1), "{c}");
        }
    }

    let (code, out, err) = run_bin(&["doctor", "--demo"], &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("infertop doctor: 3 accounts, green, 2 warnings"), "{out}");
    assert!(out.contains("GET /ai-inference/instances/{id}"), "{out}");
    assert_no_secret(&out);

    // With inference metrics served, the demo is all green.
    let (code, out, _) =
        run_bin(&["doctor", "--demo", "--ambiguity", "runai-inference-metrics=served"], &[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("infertop doctor: 3 accounts, all green"), "{out}");
    assert!(!out.contains("warning"), "{out}");

    let (code, out, _) = run_bin(&["doctor", "--demo", "--account", "sesterce-demo"], &[]).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("infertop doctor: 1 account, all green") && out.contains("sesterce-demo"),
        "{out}"
    );
    let (code, _, err) = run_bin(&["doctor", "--demo", "--account", "nope"], &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains(r#"no account named "nope""#) && err.contains("gcore-demo"), "{err}");

    let (code, out, _) =
        run_bin(&["doctor", "--demo", "--json", "--faults", "drift-renamed-field"], &[]).await;
    assert_eq!(code, doctor::EXIT_FINDINGS, "{out}");
    assert_no_secret(&out);
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = &v["accounts"][0]["findings"][0];
    assert_eq!(
        (f["severity"].as_str(), f["kind"].as_str(), f["endpoint"].as_str(), f["path"].as_str()),
        (Some("error"), Some("other-casing"), Some(GCORE_V3_GET), Some("$.status"))
    );
}

#[tokio::test]
async fn the_binary_against_a_config_reads_and_never_writes() {
    let h = start_with(quiet()).await;
    let tmp = common::temp::TempDir::new("doctor-config", "bin");
    let dir = tmp.0.clone();
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/valid_configs/all-providers.toml"),
    )
    .unwrap()
    .replace("{SIM}", &h.base_url());
    std::fs::write(&path, text).unwrap();
    let env = [
        ("T_GCORE_KEY", sim::DEMO_GCORE_KEY),
        ("T_SESTERCE_KEY", sim::DEMO_SESTERCE_KEY),
        ("T_RUNAI_SECRET", sim::DEMO_RUNAI_SECRET),
    ];
    let config = path.to_str().unwrap();
    let (code, out, err) = run_bin(&["doctor", "--config", config], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("gcore-prod (gcore)  all green") && out.contains("runai (runai)  all green"),
        "{out}"
    );
    assert_no_secret(&out);
    assert_read_only(&h);
    // Every provider was reached.
    for p in ProviderKind::ALL {
        assert!(h.state.traffic.of(p).requests > 0, "{p}");
    }

    // A missing endpoint stops the check's exit status, and only that account says so.
    set_profile(&h, "drift-missing-endpoint");
    let (code, out, err) = run_bin(&["doctor", "--config", config, "--account", "sesterce"], &env).await;
    assert_eq!(code, doctor::EXIT_FINDINGS, "{out}{err}");
    assert!(out.contains("ERROR: GET /ai-inference/hardwares $: endpoint-missing"), "{out}");
    assert!(!out.contains("gcore-prod"), "{out}");
    assert_read_only(&h);

    // A refused key is an auth error, and the rest is skipped rather than hammered.
    set_profile(&h, "none");
    let bad = [("T_GCORE_KEY", "wrong-key"), env[1], env[2]];
    let (code, out, _) = run_bin(&["doctor", "--config", config, "--account", "gcore-prod"], &bad).await;
    assert_eq!(code, doctor::EXIT_FINDINGS, "{out}");
    assert!(out.contains("sign-in: Authorization: APIKey header: refused"), "{out}");
    assert!(out.contains("ERROR: GET /cloud/v3/inference/{project_id}/deployments $: auth"), "{out}");
    assert!(!out.contains("wrong-key"), "{out}");
}

/// A server that does not answer is one error per account, the rest skipped; a refused Run:ai secret is an auth
/// error on the token endpoint, with nothing of the secret in the report.
#[tokio::test]
async fn no_answer_and_a_refused_secret_are_named_once() {
    // A loopback port with nobody listening: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut accounts = infertop::provider::demo_accounts(&format!("http://127.0.0.1:{port}"));
    accounts.retain(|a| a.kind != ProviderKind::Runai);
    let r = doctor::examine(&accounts, build_client(Duration::from_secs(2), Duration::from_secs(5))).await;
    let got: BTreeSet<(String, FindingKind, String)> = r
        .accounts
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| (a.account.clone(), f.kind, f.endpoint.clone())))
        .collect();
    let expected: BTreeSet<_> = [
        ("gcore-demo", "GET /cloud/v3/inference/{project_id}/deployments"),
        ("sesterce-demo", "GET /ai-inference/instances"),
    ]
    .into_iter()
    .map(|(a, e)| (a.to_string(), FindingKind::CallFailed, e.to_string()))
    .collect();
    assert_eq!(got, expected, "{}", doctor::report::human(&r));
    assert_eq!(r.exit_code(), doctor::EXIT_FINDINGS);
    for a in &r.accounts {
        assert_eq!(a.calls.last().unwrap().note, "the server did not answer", "{}", a.account);
    }

    let h = start_with(quiet().with(RUNAI_TOKEN, "both")).await;
    let mut runai = infertop::provider::demo_accounts(&h.base_url());
    runai.retain(|a| a.kind == ProviderKind::Runai);
    runai[0].credentials = infertop::provider::Credentials::Runai {
        client_id: sim::DEMO_RUNAI_CLIENT_ID.into(),
        client_secret: infertop::provider::Secret::new("not-the-secret-4242"),
    };
    let r = doctor::examine(&runai, build_client(Duration::from_secs(5), Duration::from_secs(20))).await;
    assert_eq!(
        named(&r),
        [finding("runai-demo", Severity::Error, FindingKind::Auth, "POST /api/v2/token", "$")]
            .into_iter()
            .collect(),
        "{}",
        doctor::report::human(&r)
    );
    let text = doctor::report::human(&r) + &doctor::report::json(&r);
    assert!(!text.contains("not-the-secret-4242"), "{text}");
    assert!(r.accounts[0].auth.contains("refused (HTTP 401)"), "{}", r.accounts[0].auth);
    assert_read_only(&h);
}

// ---------------------------------------------------------------------------------------------- contracts

/// The raw OpenAPI document `tests/fixtures/specs/NAME`.
fn spec_doc(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A body with every property the schema documents, each with a value of its documented type (the schema's own
/// example or default for a plain value, the first of an enum, the first non-null alternative of a union).
fn example(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 48 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("no {r}"));
        return example(doc, target, depth + 1);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut out = serde_json::Map::new();
        for s in all {
            if let Value::Object(m) = example(doc, s, depth + 1) {
                out.extend(m);
            }
        }
        if let Some(Value::Object(own)) = schema.get("properties") {
            for (k, s) in own {
                out.insert(k.clone(), example(doc, s, depth + 1));
            }
        }
        return Value::Object(out);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let alt = alts.iter().find(|a| a.get("type").and_then(Value::as_str) != Some("null")).unwrap();
            return example(doc, alt, depth + 1);
        }
    }
    if let Some(e) =
        schema.get("enum").and_then(Value::as_array).and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return e.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null")
        }
        Some(Value::String(t)) => t.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "any",
    };
    let given = ["example", "default"]
        .iter()
        .filter_map(|k| schema.get(*k))
        .chain(schema.get("examples").and_then(Value::as_array).and_then(|e| e.first()))
        .find(|v| !v.is_null() && !v.is_object() && !v.is_array());
    if let (Some(v), "string" | "integer" | "number" | "boolean") = (given, ty) {
        return v.clone();
    }
    match ty {
        "object" => Value::Object(
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.iter().map(|(k, s)| (k.clone(), example(doc, s, depth + 1))).collect())
                .unwrap_or_default(),
        ),
        "array" => Value::Array(vec![example(doc, &schema["items"], depth + 1)]),
        "string" => Value::String("2024-01-01T00:00:00Z".into()),
        "integer" => serde_json::json!(1),
        "number" => serde_json::json!(1.5),
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    }
}

/// What the doctor finds in `body` for `endpoint` (every finding, as text).
fn findings_for(kind: ProviderKind, endpoint: &str, body: &Value) -> Vec<String> {
    let shape = doctor::expected_shape(kind, endpoint).unwrap_or_else(|| panic!("no shape for {endpoint}"));
    let mut out = Vec::new();
    doctor::shape::walk(body, &shape, "$", doctor::shape::Need::Required, &mut out);
    out.iter().map(|f| format!("{:?} {} {}", f.kind, f.path, f.message)).collect()
}

/// A body with every key the providers' own OpenAPI documents give each endpoint, of its documented type, is
/// what the doctor expects: no unknown field, no other type, no unknown enum value (so a real API that keeps to
/// its document is green, and the doctor's shapes invent nothing the documents contradict).
#[test]
fn the_providers_documents_are_what_the_doctor_expects() {
    // (spec file, provider, [(method, path, status)]).
    type Case<'a> = (&'a str, ProviderKind, &'a [(&'a str, &'a str, u16)]);
    let cases: [Case; 3] = [
        (
            "gcore-inference.openapi.json",
            ProviderKind::Gcore,
            &[
                ("GET", "/cloud/v3/inference/{project_id}/deployments", 200),
                ("GET", "/cloud/v3/inference/{project_id}/deployments/{deployment_name}", 200),
                ("GET", "/cloud/v3/inference/{project_id}/deployments/{deployment_name}/logs", 200),
                ("GET", "/cloud/v3/inference/flavors", 200),
                ("GET", "/cloud/v3/inference/capacity", 200),
                ("GET", "/cloud/v1/regions", 200),
                ("GET", "/cloud/v3/inference/{project_id}/registry_credentials", 200),
            ],
        ),
        (
            "gcore-inference-v2-legacy.openapi.json",
            ProviderKind::Gcore,
            &[
                ("GET", "/cloud/v2/inference/deployments", 200),
                ("GET", "/cloud/v2/inference/deployments/{instance_id}", 200),
                ("GET", "/cloud/v2/inference/deployments/{instance_id}/logs", 200),
            ],
        ),
        (
            "runai-inference.openapi.json",
            ProviderKind::Runai,
            &[
                ("POST", "/api/v2/token", 200),
                ("POST", "/api/v1/token", 200),
                ("GET", "/api/v1/workloads", 200),
                ("GET", "/api/v1/workloads/{workloadId}", 200),
                ("GET", "/api/v1/workloads/{workloadId}/pods", 200),
                ("GET", "/api/v1/workloads/inferences/{workloadId}", 200),
                ("GET", "/api/v1/workloads/inferences/{workloadId}/metrics", 200),
                ("GET", "/api/v1/workloads/inferences/{workloadId}/pods/{podId}/metrics", 200),
                ("GET", "/api/v1/workloads/{workloadId}/metrics", 200),
                ("GET", "/api/v1/workloads/inferences/{workloadId}", 404),
            ],
        ),
    ];
    let mut problems = Vec::new();
    for (file, kind, endpoints) in cases {
        let doc = spec_doc(file);
        for (method, path, status) in endpoints {
            let op = &doc["paths"][path][method.to_ascii_lowercase()];
            let mut resp = op["responses"][status.to_string()].clone();
            if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
                resp = doc.pointer(r.trim_start_matches('#')).unwrap().clone();
            }
            let schema = &resp["content"]["application/json"]["schema"];
            assert!(!schema.is_null(), "{file}: no schema for {method} {path} {status}");
            let body = example(&doc, schema, 0);
            let endpoint = if *status == 404 { "error".to_string() } else { format!("{method} {path}") };
            for f in findings_for(kind, &endpoint, &body) {
                problems.push(format!("{file} {method} {path}: {f}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The seed documents' own response examples (seed 002: a v3 deployment; seed 001: the v2 PUT answer; seed
/// 004: every Sesterce read) raise no finding.
#[test]
fn the_seed_examples_raise_no_finding() {
    let mut problems = Vec::new();
    let mut check = |kind, endpoint: &str, body: &Value| {
        for f in findings_for(kind, endpoint, body) {
            problems.push(format!("{endpoint}: {f}"));
        }
    };
    let v3: Vec<Value> = common::openapi::seed_json_examples("002_302b424bce316269.txt")
        .into_iter()
        .filter(|v| v.get("containers").is_some() && v.get("status").is_some())
        .collect();
    assert!(!v3.is_empty());
    for v in &v3 {
        check(ProviderKind::Gcore, GCORE_V3_GET, v);
    }
    let v2: Vec<Value> = common::openapi::seed_json_examples("001_51b3ba8dd45b9c92.txt")
        .into_iter()
        .filter(|v| v.get("status").is_some() && v.get("flavor_id").is_some())
        .collect();
    assert!(!v2.is_empty());
    for v in &v2 {
        check(ProviderKind::Gcore, GCORE_V2_GET, v);
    }
    let sesterce = common::openapi::seed_json_examples("004_044379b10d40206f.txt");
    let first =
        |v: &Value, key: &str| v.as_array().and_then(|a| a.first()).is_some_and(|i| i.get(key).is_some());
    let mut seen = BTreeSet::new();
    for v in &sesterce {
        let endpoint = if first(v, "hourlyPrice") {
            "GET /ai-inference/instances"
        } else if v.get("containers").is_some() && v.get("_id").is_some() {
            SESTERCE_GET
        } else if first(v, "defaultHardwareId") {
            "GET /ai-inference/models"
        } else if first(v, "ram") {
            "GET /ai-inference/hardwares"
        } else if first(v, "capacities") {
            "GET /ai-inference/regions"
        } else if first(v, "url") && first(v, "_id") {
            "GET /ai-inference/registries"
        } else {
            continue;
        };
        seen.insert(endpoint);
        check(ProviderKind::Sesterce, endpoint, v);
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------- data the documents allow (issue 23)

const FLAVOR_UUID: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const DEPLOYMENT_UUID: &str = "0b7c5a3e-1f2d-4c6b-9a8e-7d6c5b4a3f21";

/// A v2 deployment as seed 001 shows it, with `status` as given and a probe whose `schema` is in lower case (free
/// text in the read schema).
fn v2_deployment(status: &str) -> Value {
    let probe = serde_json::json!({
        "enabled": true,
        "probe": {
            "exec": null, "tcp_socket": null,
            "http_get": {"headers": {}, "host": null, "path": "/health", "port": 8080, "schema": "http"},
            "failure_threshold": 3, "initial_delay_seconds": 0, "period_seconds": 5, "success_threshold": 1,
            "timeout_seconds": 1
        }
    });
    serde_json::json!({
        "id": DEPLOYMENT_UUID, "name": "llm", "status": status, "address": null, "image": "vllm/vllm-openai:latest",
        "listening_port": 8080, "flavor_id": FLAVOR_UUID, "description": null, "image_registry_id": null,
        "command": null, "envs": {}, "timeout": 120, "auth_enabled": false, "api_key_ids": [],
        "created_at": "2026-01-05T09:00:00Z", "project_id": 1,
        "containers": [{"region_id": 7, "error_message": null,
            "scale": {"min": 1, "max": 1, "cooldown_period": 60, "triggers": {}},
            "deploy_status": {"ready": 1, "total": 1}}],
        "probes": {"liveness_probe": probe, "readiness_probe": probe, "startup_probe": {"enabled": false, "probe": null}}
    })
}

/// A Gcore account on the legacy v2 API that answers what the documents allow and the simulator does not: the
/// logs as the v2 document's one object, with a key more; a flavor name on two catalog pages; a probe `schema`
/// in lower case; every deployment `status` as `status`. Serves the v2 flavor read by uuid.
async fn gcore_v2_server(status: &'static str) -> String {
    use axum::http::{StatusCode, Uri};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move |uri: Uri| async move {
        let path = uri.path().to_string();
        let offset: u64 = uri
            .query()
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("offset="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let page = |count: u64, results: Value| serde_json::json!({"count": count, "results": results});
        let v2 = "/cloud/v2/inference/deployments";
        let body = if path == v2 {
            page(1, serde_json::json!([v2_deployment(status)]))
        } else if path == format!("{v2}/{DEPLOYMENT_UUID}") {
            v2_deployment(status)
        } else if path == format!("{v2}/{DEPLOYMENT_UUID}/logs") {
            serde_json::json!({"time": "2026-01-05T09:00:01.123456789Z", "region_id": 7, "pod": "llm-7f9c-x2x4z",
                "message": "INFO: started", "stream": "stdout"})
        } else if path == format!("/cloud/v2/inference/flavors/{FLAVOR_UUID}") {
            serde_json::json!({"id": FLAVOR_UUID, "name": "inference-16vcpu-232gib-1xl40s-48gb", "cpu": 16000,
                "ram": 237568, "gpu_count": 1})
        } else if path == "/cloud/v3/inference/flavors" {
            // Two pages that both hold the L40S flavor (a catalog listed per region, say).
            let flavor = |name: &str| serde_json::json!({"name": name, "cpu": 16, "memory": 232, "gpu": 1});
            if offset == 0 {
                page(3, serde_json::json!([flavor("inference-4vcpu-16gib"), flavor("inference-l40s")]))
            } else {
                page(3, serde_json::json!([flavor("inference-l40s")]))
            }
        } else if path == "/cloud/v1/regions" {
            page(1, serde_json::json!([{"id": 7, "display_name": "Luxembourg-2", "state": "ACTIVE", "has_ai": true}]))
        } else if path == "/cloud/v3/inference/capacity" || path.ends_with("/registry_credentials") {
            page(0, serde_json::json!([]))
        } else {
            let err = serde_json::json!({"exception_class": "NotFound", "message": "not found", "request_id": "r1"});
            return (StatusCode::NOT_FOUND, axum::Json(err)).into_response();
        };
        axum::Json(body).into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn examine_v2(base: &str) -> Report {
    let mut accounts = common::wire::accounts_with_v2(base);
    accounts.retain(|a| a.name == "gcore-v2");
    doctor::examine(&accounts, build_client(Duration::from_secs(5), Duration::from_secs(20))).await
}

/// What the documents allow raises no error: the v2 logs as one object with a key more is that object with an
/// unknown field (not a page missing `count` and `results`); a flavor name on two catalog pages is a warning
/// that says why it stops nothing; a probe `schema` in lower case is free text. The v2 flavor read by uuid,
/// which the dashboard makes to name the flavor, is checked.
#[tokio::test]
async fn data_the_documents_allow_is_no_error() {
    use FindingKind::*;
    use Severity::*;
    let base = gcore_v2_server("ACTIVE").await;
    let r = examine_v2(&base).await;
    let text = doctor::report::human(&r);
    let expected: BTreeSet<Named> = [
        finding("gcore-v2", Warning, UnknownField, GCORE_V2_LOGS, "$.stream"),
        finding("gcore-v2", Warning, PagingOverlap, "GET /cloud/v3/inference/flavors", "$"),
    ]
    .into_iter()
    .collect();
    assert_eq!(named(&r), expected, "{text}");
    assert_eq!(r.exit_code(), 0, "{text}");
    assert!(text.contains("a choice by name is the same either way"), "{text}");
    let calls = endpoints(&r, "gcore-v2");
    assert!(calls.contains(&(GCORE_V2_FLAVOR.to_string(), "ok".to_string())), "{text}");
    assert!(calls.contains(&(GCORE_V2_LOGS.to_string(), "warning".to_string())), "{text}");
}

/// A status vocabulary that drifted in casing (`Active` for `ACTIVE`) shows every row as UNKNOWN and fails
/// `snapshot --fail-on-unhealthy`: an error on the list and on the read, naming the casing infertop reads.
#[tokio::test]
async fn a_status_in_other_casing_is_an_error() {
    use FindingKind::*;
    use Severity::*;
    let base = gcore_v2_server("Active").await;
    let r = examine_v2(&base).await;
    let text = doctor::report::human(&r);
    let errors: BTreeSet<Named> = named(&r).into_iter().filter(|f| f.1 == Error).collect();
    let expected: BTreeSet<Named> = [
        finding("gcore-v2", Error, UnknownValue, GCORE_V2_LIST, "$.results[*].status"),
        finding("gcore-v2", Error, UnknownValue, GCORE_V2_GET, "$.status"),
    ]
    .into_iter()
    .collect();
    assert_eq!(errors, expected, "{text}");
    assert_eq!(r.exit_code(), doctor::EXIT_FINDINGS, "{text}");
    assert!(text.contains(r#""Active" where infertop reads "ACTIVE""#), "{text}");
    assert!(text.contains("--fail-on-unhealthy"), "{text}");
}

/// The v2 logs under the `gcore-v2-logs=object` reading are one log object (the v2 document's schema): the
/// client shows that line and the doctor is green; under `page` the client cuts the page to its limit.
#[tokio::test]
async fn the_v2_logs_as_one_object_are_read_and_green() {
    use infertop::provider::Provider;
    use infertop::sim::ambiguity::GCORE_V2_LOGS as SWITCH;
    for reading in ["object", "page"] {
        let h = start_with(quiet().with(SWITCH, reading)).await;
        let accounts = common::wire::accounts_with_v2(&h.base_url());
        let v2 = accounts.iter().find(|a| a.name == "gcore-v2").unwrap();
        let c = infertop::provider::gcore::GcoreClient::new(
            v2,
            build_client(Duration::from_secs(5), Duration::from_secs(20)),
        );
        let d = c.list().await.unwrap().into_iter().find(|d| d.name == "whisper-large-v3").unwrap();
        let url = format!("{}/cloud/v2/inference/deployments/{}/logs", h.base_url(), d.key.id);
        let raw: Value = reqwest::Client::new()
            .get(url)
            .header("authorization", format!("APIKey {}", sim::DEMO_GCORE_KEY))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let q = infertop::provider::LogQuery { limit: 5, region_id: None };
        let lines = c.logs(&d.key.id, &q).await.unwrap();
        if reading == "object" {
            assert!(raw.get("message").is_some() && raw.get("results").is_none(), "{raw}");
            assert_eq!(lines.len(), 1, "{reading}");
            assert_eq!(lines[0].message, raw["message"].as_str().unwrap(), "{reading}");
        } else {
            assert!(raw["results"].as_array().unwrap().len() > 5, "{raw}");
            assert_eq!(lines.len(), 5, "{reading}");
        }
        let r = examine(&h).await;
        assert_eq!(named(&r), BTreeSet::new(), "{reading}:\n{}", doctor::report::human(&r));
        assert!(endpoints(&r, "gcore-v2").contains(&(GCORE_V2_LOGS.to_string(), "ok".to_string())));
    }
}

/// Sesterce counts written as text the way its client reads them (`"2"`, `"2.0"`, a whole float) are no
/// finding: the client takes them (its lenient readers), so the doctor does too; a region id as text too.
#[test]
fn numbers_as_text_the_client_reads_are_no_finding() {
    let details: Vec<Value> = common::openapi::seed_json_examples("004_044379b10d40206f.txt")
        .into_iter()
        .filter(|v| v.get("containers").is_some() && v.get("_id").is_some())
        .collect();
    let mut body = details.first().cloned().expect("seed 004 has the details");
    body["containerPort"] = "80.0".into();
    body["podLifetime"] = "120".into();
    let c = &mut body["containers"][0];
    c["regionId"] = "eu-1".into();
    c["scale"]["min"] = "1.0".into();
    c["scale"]["max"] = serde_json::json!(2.0);
    c["deployStatus"] = serde_json::json!({"total": "2", "ready": "1e0"});
    let found = findings_for(ProviderKind::Sesterce, SESTERCE_GET, &body);
    assert!(found.is_empty(), "{found:#?}");
    // What the client makes of them.
    let w: infertop::provider::sesterce::wire::InstanceDetails = serde_json::from_value(body).unwrap();
    let c = &w.containers[0];
    assert_eq!((c.scale.min, c.scale.max), (Some(1), Some(2)));
    let ds = c.deploy_status.as_ref().unwrap();
    use infertop::provider::count::Count;
    assert_eq!((ds.total.clone(), ds.ready.clone()), (Some(Count::Fits(2)), Some(Count::Fits(1))));
    // A word where a count goes is still named.
    let mut bad = details[0].clone();
    bad["containers"][0]["scale"]["min"] = "one".into();
    let found = findings_for(ProviderKind::Sesterce, SESTERCE_GET, &bad);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("OtherType $.containers[*].scale.min"), "{found:#?}");
}
