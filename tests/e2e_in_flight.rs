//! End-to-end: the real binary in tmux against a real `infertop sim --latency 1000` process (a provider's round
//! trip of a second). `t`, `y`, then `t`, `y` again while the stop is in flight sends exactly one stop, counted in
//! the simulator's request log; the row shows `⏳ stopping` until the stop and its read-back land. Waits are
//! bounded polls; nothing asserts on time.

mod common;

use common::tmux::{BIN, Tmux, sim_accounts_config, start_sim};
use std::time::Duration;

const NAME: &str = "bge-m3-embed";

fn row(screen: &str) -> String {
    screen.lines().find(|l| l.contains(NAME) && l.contains("gcore")).unwrap_or_default().to_string()
}

#[test]
fn t_y_t_y_at_a_second_of_latency_sends_one_stop() {
    let sim = start_sim(&["--latency", "1000", "--static"]);
    let tmux = Tmux::new("inflight");
    let cfg = tmux.dir.join("config.toml");
    std::fs::write(&cfg, sim_accounts_config(&sim.url, "INFL")).unwrap();
    let script = format!(
        "env INFERTOP_CONFIG={cfg} XDG_STATE_HOME={state} INFL_GCORE_KEY=demo-gcore-key \
         INFL_SESTERCE_KEY=demo-sesterce-key INFL_RUNAI_SECRET=demo-secret {BIN} --refresh 1; \
         echo INFERTOP-EXITED-$?; sleep 60",
        cfg = cfg.display(),
        state = tmux.dir.display(),
    );
    tmux.start(&script);
    tmux.wait_for("the Gcore deployment", Duration::from_secs(30), |s| row(s).contains("ACTIVE"));
    tmux.keys(&["/"]);
    tmux.type_text(NAME);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the filtered row with its details", Duration::from_secs(15), |s| {
        s.contains("1/")
            && row(s).contains("ACTIVE")
            && s.lines().any(|l| l.contains("status") && l.contains("ACTIVE"))
    });

    tmux.keys(&["t"]);
    tmux.wait_for("the stop prompt", Duration::from_secs(10), |s| s.contains(&format!("Stop {NAME}?")));
    tmux.keys(&["y"]);
    tmux.wait_for("the stop in flight on the row", Duration::from_secs(10), |s| {
        let r = row(s);
        r.contains('⏳') && r.contains("stopping")
    });
    // The reflex: t and y again, while the row still says ACTIVE underneath.
    tmux.keys(&["t", "y"]);
    let done = tmux.wait_for("the stop confirmed", Duration::from_secs(30), |s| {
        let r = row(s);
        r.contains("DISABLED") && !r.contains('⏳')
    });
    assert!(!done.contains(&format!("Stop {NAME}?")), "a second stop prompt:\n{done}");

    let log: Vec<String> =
        reqwest::blocking::get(format!("{}/_sim/requests", sim.url)).unwrap().json().unwrap();
    let tail = format!("/{NAME}/stop");
    let stops: Vec<&String> = log.iter().filter(|l| l.starts_with("POST ") && l.ends_with(&tail)).collect();
    assert_eq!(stops.len(), 1, "exactly one stop reached the simulator: {stops:?}");
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("the audit file");
    let lines: Vec<&str> = audit.lines().filter(|l| l.contains(NAME)).collect();
    assert_eq!(lines.len(), 1, "one stop audited:\n{audit}");

    tmux.keys(&["Escape", "Escape", "q"]);
    tmux.wait_for("a clean exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
