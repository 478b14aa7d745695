//! Run:ai's deprecated `/api/v1/token` under each grant a control plane may take: the spec's
//! `client_credentials` (`clientID`/`clientSecret`), the `app_token` that NVIDIA's runapy sends
//! (`AppId`/`AppSecret`), or both. The dashboard's client and `doctor` sign in under every reading.

mod common;

use common::app::start_sim;
use infertop::provider::{self, http::build_client};
use infertop::sim::SimConfig;
use infertop::sim::ambiguity::{self, Ambiguities};
use std::time::Duration;

const RUNAI: usize = 2;

/// A simulator serving only `/api/v1/token`, taking the grants `reading` says.
fn v1_only(reading: &str) -> SimConfig {
    SimConfig {
        ambiguities: Ambiguities::default()
            .with(ambiguity::RUNAI_TOKEN, "v1-only")
            .with(ambiguity::RUNAI_V1_GRANT, reading),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn the_client_signs_in_under_every_v1_grant_and_remembers_the_one_taken() {
    for reading in ["app-token-only", "client-credentials-only", "both"] {
        let sim = start_sim(SimConfig {
            // A token that lives 2 s (refreshed at half its life): the refresh shows what was remembered.
            runai_token_ttl: 2,
            ..v1_only(reading)
        })
        .await;
        let spec = provider::demo_accounts(&sim.base_url()).into_iter().nth(RUNAI).unwrap();
        let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(20)));
        let mark = sim.state.traffic.log().len();
        let list = p.list().await.unwrap_or_else(|e| panic!("{reading}: the list: {e}"));
        assert!(!list.is_empty(), "{reading}");
        let v1 = |from: usize| {
            sim.state.traffic.log()[from..].iter().filter(|l| l.as_str() == "POST /api/v1/token").count()
        };
        // client_credentials first (the spec's example); app_token once it is refused.
        let want = if reading == "app-token-only" { 2 } else { 1 };
        assert_eq!(v1(mark), want, "{reading}: v1 sign-ins at first");
        // The next sign-in asks with the grant that was taken, at once.
        let mark = sim.state.traffic.log().len();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        p.get(&list[0].key.id).await.unwrap_or_else(|e| panic!("{reading}: a read after the refresh: {e}"));
        assert_eq!(v1(mark), 1, "{reading}: one v1 sign-in for the refresh");
    }
}

/// A secret the v1 endpoint refuses (401) is not sent again as an `app_token`: only a 400 (the grant refused)
/// makes the client try the other grant.
#[tokio::test]
async fn a_refused_secret_is_sent_once_not_again_under_the_other_grant() {
    for reading in ["app-token-only", "client-credentials-only", "both"] {
        let sim = start_sim(v1_only(reading)).await;
        let mut spec = provider::demo_accounts(&sim.base_url()).into_iter().nth(RUNAI).unwrap();
        let provider::Credentials::Runai { client_secret, .. } = &mut spec.credentials else {
            panic!("the third demo account is Run:ai")
        };
        *client_secret = provider::Secret::new("wrong-s3cret");
        let p = provider::connect(&spec, build_client(Duration::from_secs(5), Duration::from_secs(20)));
        let mark = sim.state.traffic.log().len();
        let e = p.list().await.unwrap_err();
        assert_eq!((e.kind, e.status), (provider::ErrorKind::Auth, Some(401)), "{reading}: {e}");
        let log = sim.state.traffic.log();
        let v1: Vec<&String> = log[mark..].iter().filter(|l| l.as_str() == "POST /api/v1/token").collect();
        // app-token-only refuses the first grant with 400 before the secret is checked: then the other grant is
        // tried once, and its 401 ends it.
        let want = if reading == "app-token-only" { 2 } else { 1 };
        assert_eq!(v1.len(), want, "{reading}: {:?}", &log[mark..]);
    }
}

#[test]
fn doctor_signs_in_with_the_grant_the_plane_takes() {
    for (reading, says) in [("app-token-only", true), ("client-credentials-only", false)] {
        let home = common::temp::TempDir::new("signin", reading);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_infertop"))
            .args(["doctor", "--demo", "--account", "runai-demo", "--ambiguity", "runai-token=v1-only"])
            .args(["--ambiguity", &format!("runai-v1-grant={reading}")])
            .env("HOME", &home.0)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let signin = text.lines().find(|l| l.contains("sign-in:")).unwrap_or_default().to_string();
        assert!(signin.contains("POST /api/v1/token") && !signin.contains(": refused"), "{reading}: {text}");
        assert_eq!(signin.contains("app_token"), says, "{reading}: {signin}");
        assert!(!text.contains("ERROR: POST /api/v1/token"), "{reading}: {text}");
    }
}
