//! Soak: the dashboard against `infertop sim --faults chaos` (5xx, 429 with Retry-After, responses slower than
//! the client's timeout, dropped connections, truncated and malformed JSON, unknown fields and enum values,
//! nulls, and Run:ai tokens that expire mid-session) for a bounded time: no panic, keys answered throughout,
//! every injected fault class surfaced (on screen or in the log), an edit made during the soak applied exactly,
//! and the view correct again once the faults stop. `SOAK_SECONDS` sets the length (20 by default; the same
//! code runs longer by hand).

mod common;

use common::tmux::{BIN, Tmux, start_sim};
use std::time::{Duration, Instant};

#[test]
fn chaos_soak() {
    let soak =
        Duration::from_secs(std::env::var("SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20));
    let sim = start_sim(&["--faults", "chaos", "--runai-token-ttl", "4"]);
    let tmux = Tmux::new("soak");
    let cfg = tmux.dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[account]]\nname = \"gcore\"\nprovider = \"gcore\"\nbase_url = \"{u}\"\nproject_id = 1\napi_key_env = \"K1\"\n\n\
             [[account]]\nname = \"sesterce\"\nprovider = \"sesterce\"\nbase_url = \"{u}\"\napi_key_env = \"K2\"\n\n\
             [[account]]\nname = \"runai\"\nprovider = \"runai\"\nbase_url = \"{u}\"\nclient_id = \"demo\"\nclient_secret_env = \"K3\"\n",
            u = sim.url
        ),
    )
    .unwrap();
    let state = tmux.dir.join("state");
    tmux.start_sized(
        &format!(
            "env INFERTOP_CONFIG={cfg} XDG_STATE_HOME={st} INFERTOP_LOG=debug K1=demo-gcore-key K2=demo-sesterce-key \
             K3=demo-secret {BIN} --refresh 1 --timeout 2; echo INFERTOP-EXITED-$?; sleep 120",
            cfg = cfg.display(),
            st = state.display()
        ),
        160,
        50,
    );
    tmux.wait_for("the first data", Duration::from_secs(60), |s| s.contains("bge-m3-embed"));
    tmux.keys(&["/"]);
    tmux.type_text("bge-m3");
    tmux.keys(&["Enter"]);

    let client = reqwest::blocking::Client::new();
    let start = Instant::now();
    let mut screens = Vec::new();
    let mut edit_done = false;
    let mut edit_attempts = 0;
    while start.elapsed() < soak {
        // Responsive: help opens and closes on a key press, whatever the network is doing.
        tmux.keys(&["?"]);
        tmux.wait_for("help to open", Duration::from_secs(5), |s| s.contains("Esc ? q close"));
        tmux.keys(&["Escape"]);
        screens
            .push(tmux.wait_for("help to close", Duration::from_secs(5), |s| !s.contains("Esc ? q close")));
        if !edit_done && start.elapsed() > soak / 4 && edit_attempts < 10 {
            edit_attempts += 1;
            tmux.keys(&["s"]);
            let form = tmux.wait_for("the scale form or a message", Duration::from_secs(5), |s| {
                s.contains("Scale: bge-m3-embed") || s.contains("no scale data")
            });
            if form.contains("Scale: bge-m3-embed") {
                tmux.keys(&["BSpace"]);
                tmux.type_text("7");
                tmux.keys(&["Enter", "y"]);
                let out = tmux.wait_for("the outcome of the edit", Duration::from_secs(30), |s| {
                    s.contains("watching the rollout")
                        || s.contains("rolled out")
                        || s.contains("not applied")
                        || s.contains("changed since this form opened")
                        || s.contains("nothing changed")
                });
                if out.contains("not applied") || out.contains("changed since") {
                    // The outcome was shown; leave the form and try again later.
                    tmux.keys(&["x", "Escape", "Escape"]);
                } else if out.contains("nothing changed") {
                    // An earlier attempt did land (and was reported): the form opened on the new value.
                    tmux.keys(&["Escape"]);
                    edit_done = true;
                } else {
                    edit_done = true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(edit_done, "the edit never went through in {edit_attempts} attempts");

    // Faults off: the view recovers by itself.
    let counts: serde_json::Value = client
        .post(format!("{}/_sim/faults", sim.url))
        .json(&serde_json::json!({"profile": "none"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    tmux.keys(&["Escape", "Escape"]);
    let healthy = tmux.wait_for("every account healthy and nothing stale", Duration::from_secs(30), |s| {
        s.contains("✓ gcore")
            && s.contains("✓ sesterce")
            && s.contains("✓ runai")
            && !s.contains("STALE")
            && !s.contains("UNKNOWN(")
    });
    assert!(healthy.contains("bge-m3-embed"));

    // The edit is there exactly once.
    let dep: serde_json::Value = client
        .get(format!("{}/cloud/v3/inference/1/deployments/bge-m3-embed", sim.url))
        .header("Authorization", "APIKey demo-gcore-key")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(dep["containers"][0]["scale"]["max"], 7, "{dep}");
    let audit = std::fs::read_to_string(state.join("infertop/audit.jsonl")).unwrap_or_default();
    let applied =
        audit.lines().filter(|l| l.contains("bge-m3-embed") && l.contains("\"result\":\"applied\"")).count();
    // Never applied twice; an attempt whose outcome stayed unknown says so in its line instead.
    assert!(applied <= 1, "applied lines in the audit file:\n{audit}");
    assert!(
        applied == 1 || audit.contains("the outcome is unknown"),
        "the edit landed but no attempt reported it:\n{audit}"
    );

    println!("soak {}s: faults injected {counts}; edit attempts {edit_attempts}", soak.as_secs());
    // Every class was injected, and surfaced on screen or in the log.
    for class in
        ["server_error", "rate_limit", "slow", "drop", "truncate", "malformed", "unknown_values", "nulls"]
    {
        assert!(counts[class].as_u64().unwrap_or(0) > 0, "no {class} fault was injected: {counts}");
    }
    let log = std::fs::read_to_string(state.join("infertop/infertop.log")).unwrap();
    for (class, needle) in [
        ("server errors", "simulated server error"),
        ("rate limits", "simulated rate limit"),
        ("timeouts", "timed out"),
        ("dropped connections", "the connection failed: connection closed before message completed"),
        ("truncated JSON", "EOF while parsing"),
        ("malformed JSON", "could not read the response"),
    ] {
        assert!(log.contains(needle), "{class} never surfaced in the log");
    }
    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
