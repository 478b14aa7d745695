//! End-to-end: the real binary on its `--demo` simulator in tmux, whose Sesterce refuses a PATCH without the
//! instance's model (the default reading). A scale edit of a Sesterce instance comes back as the model prompt
//! with Sesterce's message; the instance's model is picked from the catalog and `y` lands the edit, which the
//! audit file records with the model sent. Waits are bounded polls; nothing asserts on time.

mod common;

use common::tmux::{BIN, Tmux};
use std::time::Duration;

const NAME: &str = "deepseek-r1-distill";
/// The catalog model the demo's instance runs.
const MODEL: &str = "deepseek-r1-distill-llama-8b";

#[test]
fn a_refused_sesterce_edit_asks_for_the_model_and_lands_with_it() {
    let tmux = Tmux::new("pick");
    let script = format!(
        "env XDG_STATE_HOME={state} {BIN} --demo --refresh 1; echo INFERTOP-EXITED-$?; sleep 60",
        state = tmux.dir.display()
    );
    tmux.start(&script);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| s.contains(NAME));
    tmux.keys(&["/"]);
    tmux.type_text(NAME);
    tmux.keys(&["Enter"]);
    tmux.keys(&["s"]);
    let form =
        tmux.wait_for("the scale form", Duration::from_secs(10), |s| s.contains(&format!("Scale: {NAME}")));
    // The focus starts on the first region's max: raise it by one.
    let max: u32 = form
        .lines()
        .find(|l| l.contains("▶ max"))
        .and_then(|l| l.split('[').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the max field:\n{form}"));
    for _ in 0..4 {
        tmux.keys(&["BSpace"]);
    }
    tmux.type_text(&(max + 1).to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("the review", Duration::from_secs(5), |s| s.contains("These changes will be sent"));
    tmux.keys(&["y"]);
    let prompt = tmux.wait_for("the model prompt with the catalog", Duration::from_secs(20), |s| {
        s.contains("Sesterce refused the edit") && s.contains(MODEL)
    });
    assert!(prompt.contains("modelId should not be undefined"), "Sesterce's message:\n{prompt}");
    for _ in 0..20 {
        if tmux.screen().lines().any(|l| l.contains('▶') && l.contains(MODEL)) {
            break;
        }
        tmux.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["y"]);
    let done = tmux.wait_for("the outcome", Duration::from_secs(20), |s| {
        s.contains(&format!("{NAME}: applied (sent with model {MODEL})"))
            || s.contains(&format!("{NAME}: the change has rolled out"))
            || s.contains("not applied")
    });
    assert!(!done.contains("not applied"), "{done}");
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("the audit file");
    let lines: Vec<&str> = audit.lines().filter(|l| l.contains(NAME)).collect();
    assert_eq!(lines.len(), 2, "refused, then applied:\n{audit}");
    assert!(lines[0].contains("\"result\":\"refused\""), "{audit}");
    assert!(
        lines[1].contains("\"result\":\"applied\"") && lines[1].contains("\"source\":{\"model\":"),
        "{audit}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
