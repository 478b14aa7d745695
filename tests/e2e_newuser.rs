//! End-to-end (issue 12): the real binary in tmux with `--demo`, read from the screen as a user would.
//! Waits are bounded polls for a condition; nothing asserts on time.

mod common;

use common::tmux::{BIN, Tmux};
use std::time::Duration;

fn demo(tmux: &Tmux, w: u16, h: u16) {
    let script = format!(
        "env XDG_STATE_HOME={state} {BIN} --demo --refresh 1; echo INFERTOP-EXITED-$?; sleep 60",
        state = tmux.dir.display()
    );
    tmux.start_sized(&script, w, h);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| s.contains("llama-guard-3"));
}

#[test]
fn help_at_80x24_scrolls_to_its_last_entry_and_only_esc_question_or_q_close_it() {
    let tmux = Tmux::new("help");
    demo(&tmux, 80, 24);
    tmux.keys(&["?"]);
    let first = tmux.wait_for("help", Duration::from_secs(5), |s| s.contains("move down"));
    assert!(!first.contains(":q "), "the last entry is off screen before scrolling:\n{first}");
    tmux.keys(&["x", "Enter"]);
    tmux.keys(&["PageDown"]);
    tmux.keys(&["j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j"]);
    let end = tmux.wait_for("the last entry", Duration::from_secs(5), |s| s.contains(":q "));
    assert!(end.contains("Ctrl-d") && end.contains("of 40"), "{end}");
    tmux.keys(&["g"]);
    tmux.wait_for("the top again", Duration::from_secs(5), |s| s.contains("move down") && !s.contains(":q "));
    tmux.keys(&["q"]);
    tmux.wait_for("help closed", Duration::from_secs(5), |s| !s.contains("move down"));
    tmux.keys(&["q"]);
    tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}

#[test]
fn t_right_after_a_stop_asks_to_start_and_sends_no_second_stop() {
    let tmux = Tmux::new("stop");
    demo(&tmux, 120, 40);
    tmux.keys(&["/"]);
    tmux.type_text("llama-guard");
    tmux.keys(&["Enter"]);
    let row = |s: &str, status: &str| s.lines().any(|l| l.contains("llama-guard-3") && l.contains(status));
    tmux.wait_for("the row ACTIVE", Duration::from_secs(15), |s| row(s, "ACTIVE"));
    tmux.wait_for("its details", Duration::from_secs(15), |s| s.contains("readiness"));
    tmux.keys(&["t"]);
    let p = tmux.wait_for("the stop prompt", Duration::from_secs(5), |s| s.contains("Stop llama-guard-3?"));
    assert!(p.contains("DISABLED"), "the prompt says what Gcore does:\n{p}");
    tmux.keys(&["y"]);
    // As soon as the row says DISABLED, t asks to start.
    tmux.wait_for("the row DISABLED", Duration::from_secs(20), |s| row(s, "DISABLED"));
    tmux.keys(&["t"]);
    let p = tmux.wait_for("a prompt", Duration::from_secs(5), |s| s.contains("llama-guard-3?"));
    assert!(p.contains("Start llama-guard-3?") && !p.contains("Stop llama-guard-3?"), "{p}");
    tmux.keys(&["Escape", "Escape", "q"]);
    tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("an audit line");
    let stops = audit.lines().filter(|l| l.contains("llama-guard-3") && l.contains("\"stop\"")).count();
    assert_eq!(stops, 1, "one stop sent:\n{audit}");
}
