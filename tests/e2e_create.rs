//! End-to-end: the real binary on its `--demo` simulator in tmux, read from the screen as a user would. The
//! create form is opened with `c`, filled in, reviewed with its price, confirmed with `y`; the new deployment
//! is selected and seen becoming ready region by region. Waits are bounded polls; nothing asserts on time.

mod common;

use common::tmux::{BIN, Tmux, region_ready};
use std::time::{Duration, Instant};

#[test]
fn create_on_the_demo_from_the_form_and_watch_it_become_ready() {
    let tmux = Tmux::new("create");
    let script = format!(
        "env XDG_STATE_HOME={state} {BIN} --demo --refresh 1; echo INFERTOP-EXITED-$?; sleep 60",
        state = tmux.dir.display()
    );
    tmux.start(&script);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| s.contains("bge-m3-embed"));

    // `c` opens the form on the selected row's account (Gcore, first by provider); the catalog fills it.
    tmux.keys(&["c"]);
    let form = tmux.wait_for("the create form with its catalog", Duration::from_secs(15), |s| {
        s.contains("Create a deployment on gcore-demo") && s.contains(" free ›")
    });
    assert!(form.contains("name must be 4 to 30 characters"), "validated before typing:\n{form}");
    tmux.type_text("e2e-created");
    tmux.keys(&["Tab"]);
    tmux.type_text("vllm/vllm-openai:v0.6");
    // name → image → registry cred. → port → flavor → region → min → max
    for _ in 0..6 {
        tmux.keys(&["Tab"]);
    }
    tmux.keys(&["BSpace"]);
    tmux.type_text("2");
    let priced = tmux.wait_for("the price at max scale", Duration::from_secs(10), |s| {
        s.contains("price at max scale:") && s.contains("/h")
    });
    let region = priced
        .lines()
        .find(|l| l.contains("region ") && l.contains(" free ›"))
        .and_then(|l| l.split('‹').nth(1))
        .and_then(|r| r.split(" · ").next())
        .map(|r| r.trim().to_string())
        .expect("the chosen region");

    // Enter reviews (nothing is sent yet); y creates.
    tmux.keys(&["Enter"]);
    let review = tmux
        .wait_for("the review", Duration::from_secs(5), |s| s.contains("This deployment will be created"));
    assert!(review.contains("+ e2e-created on gcore-demo"), "{review}");
    assert!(review.contains(&format!("+ {region}: min 1 max 2")), "{review}");
    tmux.keys(&["y"]);
    let s = tmux
        .wait_for("the new row selected", Duration::from_secs(30), |s| s.contains("Regions: e2e-created"));
    assert!(s.lines().any(|l| l.contains("e2e-created")), "{s}");

    // Ready climbs in the regions pane until the requested minimum is up and the row is ACTIVE.
    let mut seen: Vec<(u32, u32)> = Vec::new();
    let start = Instant::now();
    loop {
        let s = tmux.screen();
        if let Some(rt) = region_ready(&s, &region)
            && seen.last() != Some(&rt)
        {
            seen.push(rt);
        }
        let row_active = s.lines().any(|l| l.contains("e2e-created") && l.contains("ACTIVE"));
        if row_active && seen.last().is_some_and(|(r, t)| r == t && *r >= 1) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "never became ready; saw {seen:?}\n{s}");
        std::thread::sleep(Duration::from_millis(150));
    }
    eprintln!("ready in {region} as seen on screen: {seen:?}");
    assert!(seen.len() >= 2, "expected to see it deploying before ready, saw {seen:?}");
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("an audit line");
    assert!(
        audit.lines().any(|l| l.contains("\"change\":\"create\"")
            && l.contains("e2e-created")
            && l.contains("\"result\":\"created\"")),
        "{audit}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
