//! End-to-end: the real binary on its `--demo` simulator in tmux. Filter `staging`, `Ctrl-Space` marks every
//! row shown (one per provider), `s`, min "set to 0", the review, `y`: every marked deployment ends at min 0
//! as read back after the write, and the audit file has one line for each. Waits are bounded polls; nothing
//! asserts on time.

mod common;

use common::tmux::{BIN, Tmux};
use serde_json::Value;
use std::time::Duration;

const STAGING: [&str; 3] = ["phi-3-mini-staging", "gemma-2-9b-staging", "nim-embedqa-staging"];

#[test]
fn staging_to_min_zero_in_one_bulk_change() {
    let tmux = Tmux::new("bulk");
    // The reading where Sesterce takes an update without the instance's model; under the default one it is
    // refused and listed as such (tests/bulk.rs).
    let script = format!(
        "env XDG_STATE_HOME={state} {BIN} --demo --refresh 1 --ambiguity sesterce-patch-without-model=keeps; \
         echo INFERTOP-EXITED-$?; sleep 60",
        state = tmux.dir.display()
    );
    tmux.start(&script);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| STAGING.iter().all(|n| s.contains(n)));
    tmux.keys(&["/"]);
    tmux.type_text("staging");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the filter", Duration::from_secs(5), |s| s.contains("3/26 deployments"));
    // tmux sends Ctrl-Space as NUL, which the terminal reads as Ctrl-Space (or Ctrl-@).
    tmux.keys(&["C-Space"]);
    let marked = tmux.wait_for("the marks", Duration::from_secs(5), |s| s.contains("3 marked"));
    for n in STAGING {
        assert!(marked.lines().any(|l| l.contains(&format!("● {n}"))), "{n} marked:\n{marked}");
    }
    tmux.keys(&["s"]);
    tmux.wait_for("the bulk form", Duration::from_secs(5), |s| s.contains("Bulk scale"));
    tmux.type_text("0");
    tmux.keys(&["Enter"]);
    let review =
        tmux.wait_for("the review", Duration::from_secs(20), |s| s.contains("These changes will be sent"));
    assert!(!review.contains("Left out"), "{review}");
    for n in STAGING {
        assert!(review.contains(n), "{n} in the review:\n{review}");
    }
    assert_eq!(review.matches("min 1 → 0").count(), 3, "{review}");
    tmux.keys(&["y"]);
    let done = tmux.wait_for("the end state", Duration::from_secs(30), |s| s.contains("Done:"));
    assert!(done.contains("Done: 3 applied · 0 conflict · 0 refused · 0 unknown"), "{done}");

    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("the audit file");
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one line per deployment:\n{audit}");
    for n in STAGING {
        let line =
            lines.iter().find(|l| l["deployment"]["name"] == n).unwrap_or_else(|| panic!("{n}: {audit}"));
        assert_eq!(line["result"], "applied", "{line}");
        // The read-back after the write: min 0 in every region.
        let regions = line["after"]["regions"].as_array().unwrap();
        assert!(!regions.is_empty() && regions.iter().all(|r| r["scale"]["min"] == 0), "{n}: {line}");
    }
    tmux.keys(&["Escape"]);
    tmux.wait_for("the table again", Duration::from_secs(5), |s| !s.contains("Done:"));
    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
