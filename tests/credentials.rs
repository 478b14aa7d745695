//! Credentials from systemd's credential directory (issue 27): an account's `api_key_credential` /
//! `client_secret_credential` names a file of `$CREDENTIALS_DIRECTORY`, where systemd puts what a unit's
//! `LoadCredential=` loads. Checked through the real binary against a real `infertop sim`: every provider signs
//! in with them, `config check` names their source, and each mistake (no directory, no such credential, an
//! empty one) is one plain message and exit 2, from `serve` (what the unit runs) as from `snapshot`; no
//! output ever holds a credential.

mod common;

use common::temp::TempDir;
use common::tmux::{BIN, sim_accounts_config, start_sim};
use std::path::Path;
use std::process::{Command, Output};

/// The simulator's three accounts, each taking its credential from the credential directory.
fn config(dir: &TempDir, url: &str) -> std::path::PathBuf {
    let text = sim_accounts_config(url, "CREDS")
        .replace("api_key_env = \"CREDS_GCORE_KEY\"", "api_key_credential = \"infertop_gcore\"")
        .replace("api_key_env = \"CREDS_SESTERCE_KEY\"", "api_key_credential = \"infertop_sesterce\"")
        .replace(
            "client_secret_env = \"CREDS_RUNAI_SECRET\"",
            "client_secret_credential = \"infertop_runai\"",
        );
    assert!(!text.contains("_env"), "{text}");
    let path = dir.0.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A credential directory as systemd makes it: one file per credential, readable by the service alone.
fn credentials(dir: &TempDir, with: &[(&str, &str)]) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let creds = dir.0.join("credentials");
    let _ = std::fs::remove_dir_all(&creds);
    std::fs::create_dir_all(&creds).unwrap();
    for (name, value) in with {
        let f = creds.join(name);
        std::fs::write(&f, format!("{value}\n")).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    // (systemd makes it 0500; 0700 lets a test that is not root replace and remove it.)
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    creds
}

fn run(dir: &TempDir, args: &[&str], creds: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("INFERTOP_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("HOME", &dir.0)
        .env("XDG_CONFIG_HOME", dir.0.join("config"))
        .env("XDG_STATE_HOME", dir.0.join("state"));
    if let Some(creds) = creds {
        c.env("CREDENTIALS_DIRECTORY", creds);
    }
    c.output().unwrap()
}

const ALL: [(&str, &str); 3] = [
    ("infertop_gcore", infertop::sim::DEMO_GCORE_KEY),
    ("infertop_sesterce", infertop::sim::DEMO_SESTERCE_KEY),
    ("infertop_runai", infertop::sim::DEMO_RUNAI_SECRET),
];

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_no_credential(out: &Output) {
    let all = text(out);
    for (_, secret) in ALL {
        assert!(!all.contains(secret), "a credential in the output:\n{all}");
    }
}

#[test]
fn every_provider_signs_in_with_credentials_from_the_credential_directory() {
    let sim = start_sim(&[]);
    let dir = TempDir::new("creds", "ok");
    let cfg = config(&dir, &sim.url);
    let creds = credentials(&dir, &ALL);
    let cfg = cfg.to_str().unwrap();

    let check = run(&dir, &["config", "check", cfg], Some(&creds));
    assert!(check.status.success(), "{}", text(&check));
    let stdout = String::from_utf8_lossy(&check.stdout);
    for name in ["infertop_gcore", "infertop_sesterce", "infertop_runai"] {
        assert!(stdout.contains(&format!("from the systemd credential {name} (")), "{stdout}");
    }
    assert_no_credential(&check);

    let snap = run(&dir, &["snapshot", "--json", "--config", cfg], Some(&creds));
    assert!(snap.status.success(), "{}", text(&snap));
    let v: serde_json::Value = serde_json::from_slice(&snap.stdout).unwrap();
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3, "{v}");
    assert!(accounts.iter().all(|a| a["ok"] == true), "{v}");
    assert!(!v["deployments"].as_array().unwrap().is_empty());
    assert_no_credential(&snap);
}

#[test]
fn each_credential_mistake_is_one_plain_message_and_exit_2() {
    let sim = start_sim(&[]);
    let dir = TempDir::new("creds", "mistakes");
    let cfg = config(&dir, &sim.url);
    let cfg = cfg.to_str().unwrap();
    let empty_gcore = [("infertop_gcore", " "), ALL[1], ALL[2]];
    let no_gcore = [ALL[1], ALL[2]];
    type Files<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Option<Files>, &str); 3] = [
        (None, "$CREDENTIALS_DIRECTORY is not set"),
        (Some(&no_gcore), "no credential infertop_gcore in"),
        (Some(&empty_gcore), "infertop_gcore is empty"),
    ];
    for (with, expect) in cases {
        let creds = with.map(|w| credentials(&dir, w));
        // `serve` is what the unit runs: it stops before listening, with the reason.
        for args in
            [&["serve", "--listen", "127.0.0.1:0", "--config", cfg][..], &["snapshot", "--config", cfg]]
        {
            let out = run(&dir, args, creds.as_deref());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} ({expect}): {}", text(&out));
            assert!(stderr.contains(expect) && stderr.contains("account gcore-sim"), "{args:?}: {stderr}");
            assert_eq!(stderr.trim().lines().count(), 1, "one plain line: {stderr}");
            assert!(!stderr.contains("Location") && !stderr.contains("panicked"), "{stderr}");
            assert_no_credential(&out);
        }
    }
}
