//! End-to-end: the real binary in tmux against a real `infertop sim` process, read from the screen as a
//! user would. Waits are bounded polls for a condition; nothing asserts on time.

mod common;

use common::tmux::{BIN, Tmux, region_ready, sim_accounts_config, start_sim};
use std::time::{Duration, Instant};

fn config_for(url: &str) -> String {
    sim_accounts_config(url, "E2E")
}

fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(needle))
}

#[test]
fn dashboard_shows_every_provider_follows_selection_filters_sees_changes_and_quits_cleanly() {
    let sim = start_sim(&[]);
    let tmux = Tmux::new("main");
    let cfg = tmux.dir.join("config.toml");
    std::fs::write(&cfg, config_for(&sim.url)).unwrap();
    let script = format!(
        "env INFERTOP_CONFIG={cfg} XDG_STATE_HOME={state} E2E_GCORE_KEY=demo-gcore-key \
         E2E_SESTERCE_KEY=demo-sesterce-key E2E_RUNAI_SECRET=demo-secret {BIN} --refresh 1; \
         echo INFERTOP-EXITED-$?; sleep 60",
        cfg = cfg.display(),
        state = tmux.dir.display(),
    );
    tmux.start(&script);

    // Every provider's deployments, with ready/total.
    let screen = tmux.wait_for("deployments of all three providers", Duration::from_secs(30), |s| {
        ["gcore", "sesterce", "runai"].iter().all(|p| s.lines().filter(|l| l.contains(p)).count() >= 2)
            && s.contains("llama-3-70b-chat")
    });
    let row = line_with(&screen, "llama-3-70b-chat").unwrap();
    assert!(
        row.split_whitespace().any(|w| w.contains('/') && w.split('/').all(|n| n.parse::<u32>().is_ok())),
        "{row}"
    );

    // Moving the selection changes the regions pane.
    let first = tmux.wait_for("a regions pane", Duration::from_secs(10), |s| s.contains("Regions: "));
    let title = |s: &str| line_with(s, "Regions: ").map(|l| l.to_string()).unwrap_or_default();
    let before = title(&first);
    tmux.keys(&["j"]);
    tmux.wait_for("the regions pane to follow the selection", Duration::from_secs(10), |s| {
        title(s) != before
    });

    // A filter narrows the table.
    tmux.keys(&["/"]);
    tmux.type_text("bge-m3");
    tmux.keys(&["Enter"]);
    let filtered = tmux.wait_for("the filter to apply", Duration::from_secs(10), |s| {
        s.contains("1/") && s.contains("bge-m3-embed") && !s.contains("llama-3-70b-chat")
    });
    assert!(line_with(&filtered, "deployments").unwrap().contains("1/"), "{filtered}");

    // A scale change made through the simulator's API shows on screen within a refresh.
    tmux.wait_for("bge-m3-embed's regions", Duration::from_secs(10), |s| {
        line_with(s, "Regions: ").is_some_and(|l| l.contains("bge-m3-embed")) && s.contains("2..4")
    });
    let client = reqwest::blocking::Client::new();
    let resp = client
        .patch(format!("{}/cloud/v3/inference/1/deployments/bge-m3-embed", sim.url))
        .header("Authorization", "APIKey demo-gcore-key")
        .json(&serde_json::json!({"containers": [{"region_id": 7, "scale": {"min": 3, "max": 5}}]}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    tmux.wait_for("the new scale on screen", Duration::from_secs(15), |s| s.contains("3..5"));

    // q exits and leaves the terminal as it was: the normal screen, with the shell's output on it.
    tmux.keys(&["Escape", "Escape", "q"]);
    let after =
        tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
    assert!(!after.contains("Deployments ["), "the dashboard is still on screen:\n{after}");
    assert_eq!(tmux.cmd(&["display-message", "-p", "-t", "main", "#{alternate_on}"]).trim(), "0");
    assert_eq!(tmux.cmd(&["display-message", "-p", "-t", "main", "#{cursor_flag}"]).trim(), "1");
}

#[test]
fn raising_max_in_the_scale_form_is_confirmed_with_y_and_ready_climbs_on_screen() {
    let tmux = Tmux::new("scale");
    let script = format!(
        "env XDG_STATE_HOME={state} {BIN} --demo --refresh 1; echo INFERTOP-EXITED-$?; sleep 60",
        state = tmux.dir.display()
    );
    tmux.start(&script);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| s.contains("sdxl-turbo-images"));
    tmux.keys(&["/"]);
    tmux.type_text("sdxl");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("sdxl's regions at 2/2", Duration::from_secs(15), |s| {
        region_ready(s, "Luxembourg-2") == Some((2, 2)) && s.contains("1..2")
    });
    assert!(s.contains("Regions: sdxl-turbo-images"), "{s}");

    // Open the form: Amsterdam comes first, Luxembourg-2 second; move to its max.
    tmux.keys(&["s"]);
    tmux.wait_for("the scale form", Duration::from_secs(5), |s| s.contains("Scale: sdxl-turbo-images"));
    for _ in 0..10 {
        tmux.keys(&["Tab"]);
    }
    tmux.keys(&["BSpace"]);
    tmux.type_text("5");
    // Enter alone applies nothing: it shows the diff.
    tmux.keys(&["Enter"]);
    let diff =
        tmux.wait_for("the diff", Duration::from_secs(5), |s| s.contains("These changes will be sent"));
    assert!(diff.contains("Luxembourg-2 max: 2 → 5"), "{diff}");
    assert!(!diff.contains("Amsterdam max"), "only the edited field is in the diff:\n{diff}");
    tmux.keys(&["y"]);

    // Ready climbs region by region on screen until the new target.
    let mut seen = vec![(2, 2)];
    let start = Instant::now();
    loop {
        let s = tmux.screen();
        if let Some(rt) = region_ready(&s, "Luxembourg-2")
            && *seen.last().unwrap() != rt
        {
            seen.push(rt);
        }
        if seen.last() == Some(&(5, 5)) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "ready never reached 5/5; saw {seen:?}\n{s}");
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(seen.len() >= 3, "expected intermediate counts on the way up, saw {seen:?}");
    assert!(seen.windows(2).all(|w| w[1].1 >= w[0].1), "total never goes down while scaling up: {seen:?}");
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("an audit line");
    assert!(audit.contains("\"result\":\"applied\"") && audit.contains("sdxl-turbo-images"), "{audit}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
