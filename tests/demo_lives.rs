//! End to end in tmux: the demo fleet moves on screen within ten seconds with no key pressed, and `--static`
//! keeps it still.

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
            out.push(format!("row {} {} {r}", words[1], words[2]));
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
        // Every account's rows, not only the status line's account names.
        let s = t.wait_for("the first frame", Duration::from_secs(20), |s| {
            ["│gcore", "│sesterce", "│runai"].iter().all(|p| s.contains(p)) && s.contains("READY")
        });
        fleet_view(&s)
    };
    let (a_live, a_still) = (first(&live), first(&still));
    assert!(a_live.len() >= 24, "{a_live:#?}");
    std::thread::sleep(Duration::from_secs(10));
    let (b_live, b_still) = (fleet_view(&live.screen()), fleet_view(&still.screen()));
    assert_ne!(a_live, b_live, "nothing moved in 10 s on the live demo");
    assert_eq!(a_still, b_still, "the static demo moved");
}
