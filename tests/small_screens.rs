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

/// Every key the scale form names stays on screen at 80×24, the per-region keys included, however the
/// footer wraps (issue 23 item 6: the Ctrl-N/Ctrl-D line was cut).
#[tokio::test]
async fn the_scale_form_at_80x24_shows_every_key_it_takes() {
    let mut fx = fixture(80, 24).await;
    fx.apply(Msg::Resize(80, 24)).await;
    select(&mut fx.state, "llama-3-70b-chat");
    fx.key(KeyCode::Enter).await;
    fx.key(KeyCode::Char('s')).await;
    let screen = render(&fx.state);
    assert!(screen.contains("Scale: llama-3-70b-chat"), "the form is open:\n{screen}");
    for keys in ["Tab/↓ next", "Enter review", "Esc cancel", "Ctrl-D remove this region"] {
        assert!(screen.contains(keys), "{keys:?} is on screen:\n{screen}");
    }
    // The provider refuses (its own message, long enough to wrap): the refusal and every key stay on screen.
    let infertop::app::state::Mode::Form(form) = &fx.state.mode else { panic!("the form is open") };
    let key = form.key.clone();
    let mut bad = infertop::model::ScaleUpdate::from_deployment(&form.base);
    bad.regions[0].scale.max = 5000;
    let refused =
        fx.providers[0].update_scale(&key.id, &bad).await.expect_err("the simulator refuses max 5000");
    fx.apply(Msg::Applied { key, result: Err(infertop::app::ApplyFailure::Api(refused)) }).await;
    let screen = render(&fx.state);
    assert!(screen.contains("not applied"), "{screen}");
    for keys in ["(any key: back to the form)", "Esc cancel", "Ctrl-D remove this region"] {
        let flat: String =
            screen.lines().map(|l| l.trim_matches(|c| c == '│' || c == ' ')).collect::<Vec<_>>().join(" ");
        assert!(flat.contains(keys), "{keys:?} is on screen:\n{screen}");
    }
}

/// At 160 columns the free-text columns share the room by what the rows need: a hardware name and a list of
/// regions that fit are shown whole, not cut at a fixed 22 cells while NAME keeps blank room (issue 23 item 6).
#[tokio::test]
async fn at_160_columns_hardware_and_regions_are_whole_where_they_fit() {
    let mut fx = fixture(160, 40).await;
    fx.apply(Msg::Resize(160, 40)).await;
    let screen = render(&fx.state);
    let row = screen.lines().find(|l| l.contains("llama-3-70b-chat")).unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("Luxembourg-2,Santa Clara "), "{row}");
    assert!(row.contains("inference-16vcpu-232gib-1xh100 "), "{row}");
}

/// At 80×24 a log line longer than the pane wraps: every message in view is whole, its last word included,
/// and the newest line is the last one drawn (issue 23 item 6: lines were cut at the pane's edge).
#[tokio::test]
async fn log_lines_wrap_in_a_narrow_pane_and_the_newest_stays_last() {
    let mut fx = fixture(80, 24).await;
    fx.apply(Msg::Resize(80, 24)).await;
    select(&mut fx.state, "whisper-large-v3");
    for _ in 0..5 {
        fx.key(KeyCode::Tab).await;
    }
    let row = fx.state.selected_row().unwrap();
    let (key, account) = (row.dep.key.clone(), row.account);
    let p = fx.providers[account].clone();
    let detail = p.get(&key.id).await.map(Box::new);
    fx.apply(Msg::Detail { key: key.clone(), at: common::screen::epoch(), result: detail }).await;
    let query = infertop::provider::LogQuery { limit: 50, region_id: None };
    let logs = p.logs(&key.id, &query).await.unwrap();
    let newest = logs.iter().max_by_key(|l| l.time).unwrap().message.clone();
    assert!(newest.len() + 60 > 78, "the test wants a newest line wider than the pane: {newest:?}");
    fx.apply(Msg::Logs { key, at: common::screen::epoch(), result: Ok(logs) }).await;
    let screen = render(&fx.state);
    assert!(screen.contains("Logs: all regions"), "the logs pane is shown:\n{screen}");
    // The pane's text, its rows joined: the newest message whole, at the end.
    let pane: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Logs: all regions"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .map(|l| l.trim_start_matches('│').trim_end_matches('│').trim_end())
        .collect();
    let text = pane.join(" ");
    assert!(text.trim_end().ends_with(newest.split_whitespace().last().unwrap()), "{screen}");
    let words: Vec<&str> = newest.split_whitespace().collect();
    assert!(text.split_whitespace().collect::<Vec<_>>().windows(words.len()).any(|w| w == words), "{screen}");
}
