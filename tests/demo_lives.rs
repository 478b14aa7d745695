//! End to end in tmux: the demo fleet moves on screen within ten seconds with no key pressed, every provider's
//! rows among it, and `--static` keeps it still.

mod common;

use common::tmux::{BIN, Tmux};
use std::time::Duration;

/// What the table and the regions pane say: each deployment row's name, status and ready count, and each
/// region line's name and ready count (the DATA column's age and the status bar move by themselves: left out).
fn fleet_view(screen: &str) -> Vec<String> {
    let ready = |w: &&&str| w.contains('/') && w.split('/').all(|n| n.parse::<u32>().is_ok());
    let mut out = Vec::new();
    for line in screen.lines() {
        let inner = line.trim_start_matches('│');
        let words: Vec<&str> = inner.split_whitespace().collect();
        if matches!(words.first(), Some(&"gcore" | &"sesterce" | &"runai")) && words.len() > 3 {
            let r = words.iter().find(ready).copied().unwrap_or("-");
            out.push(format!("row {} {} {} {r}", words[0], words[1], words[2]));
        } else if line.contains("..") && !line.contains("Deployments") {
            // A regions-pane line: its name and ready count, within the left pane.
            let left: String = line.chars().take(57).collect();
            let w: Vec<&str> = left.trim_start_matches('│').split_whitespace().collect();
            if let Some(r) = w.iter().find(ready) {
                out.push(format!("region {} {r}", w[0]));
            }
        }
    }
    out
}

#[test]
fn the_demo_moves_within_ten_seconds_and_static_does_not() {
    let live = Tmux::new("lives");
    let still = Tmux::new("static");
    for (t, flags) in [(&live, ""), (&still, " --static")] {
        let state = t.dir.join("state");
        // Tall enough for the whole demo fleet in the table.
        t.start_sized(
            &format!("env XDG_STATE_HOME={} {BIN} --demo --refresh 1{flags}; sleep 30", state.display()),
            140,
            60,
        );
    }
    let first = |t: &Tmux| {
        // Every provider's rows: the accounts in the status bar show before their first list arrives.
        let s = t.wait_for("the first frame with every row", Duration::from_secs(20), |s| {
            fleet_view(s).iter().filter(|l| l.starts_with("row ")).count() >= 26
        });
        fleet_view(&s)
    };
    let (a_live, a_still) = (first(&live), first(&still));
    assert!(a_live.len() >= 24, "{a_live:#?}");
    std::thread::sleep(Duration::from_secs(10));
    let (b_live, b_still) = (fleet_view(&live.screen()), fleet_view(&still.screen()));
    assert_ne!(a_live, b_live, "nothing moved in 10 s on the live demo");
    assert_eq!(a_still, b_still, "the static demo moved");
    for p in ["gcore", "sesterce", "runai"] {
        let rows = |v: &[String]| {
            v.iter().filter(|l| l.starts_with(&format!("row {p} "))).cloned().collect::<Vec<_>>()
        };
        assert!(!rows(&a_live).is_empty(), "no {p} rows: {a_live:#?}");
        assert_ne!(rows(&a_live), rows(&b_live), "no {p} row moved in 10 s on the live demo");
    }
}
