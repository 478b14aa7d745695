//! At 80×24: the header keeps whole words and figures, and the details pane scrolls to what does not fit.

mod common;

use common::screen::{fixture, render, select};
use crossterm::event::KeyCode;
use infertop::app::Msg;

#[tokio::test]
async fn the_header_at_80_columns_drops_whole_parts_never_cuts_one() {
    let mut fx = fixture(80, 24).await;
    fx.apply(Msg::Resize(80, 24)).await;
    let screen = render(&fx.state);
    let header = screen.lines().next().unwrap().to_string();
    assert!(header.chars().count() <= 80, "{header}");
    assert!(header.contains("26 deployments"), "{header}");
    // Every figure of money is whole: digits, a point, two digits, a currency, "/h".
    let money = regex::Regex::new(r"^\d+\.\d\d (EUR|USD)/h$").unwrap();
    for part in header.split(" · ").skip(1) {
        let part = part.trim();
        if part.chars().next().is_some_and(|c| c.is_ascii_digit()) && !part.contains("deploy") {
            assert!(money.is_match(part) || part.ends_with("unpriced"), "a cut figure {part:?} in {header}");
        }
    }
    // At 160 columns everything fits, the sort included.
    fx.apply(Msg::Resize(160, 40)).await;
    let wide = render(&fx.state);
    let header = wide.lines().next().unwrap();
    assert!(header.contains("· sort ") && header.contains("3 accounts"), "{header}");
}

#[tokio::test]
async fn the_details_pane_scrolls_to_its_last_line_and_no_further() {
    let mut fx = fixture(80, 24).await;
    select(&mut fx.state, "llama-3-70b-chat");
    fx.key(KeyCode::Enter).await;
    let before = render(&fx.state);
    assert!(before.contains("Details ↓ more"), "{before}");
    assert!(!before.contains("envs ("), "the test wants a deployment whose envs do not fit:\n{before}");
    for _ in 0..60 {
        fx.key(KeyCode::Char('j')).await;
    }
    let after = render(&fx.state);
    assert!(after.contains("envs ("), "the envs are reachable:\n{after}");
    assert!(after.contains("Details ↑") && !after.contains("↓ more"), "at the end:\n{after}");
    // Back up: k brings the lines above back within a few presses, and enough of them reach the top.
    let mut presses = 0;
    while !render(&fx.state).contains("Details ↑↓") {
        fx.key(KeyCode::Char('k')).await;
        presses += 1;
        assert!(presses <= 12, "k did not move the view back after {presses} presses");
    }
    for _ in 0..60 {
        fx.key(KeyCode::Char('k')).await;
    }
    assert_eq!(render(&fx.state), before);
}
