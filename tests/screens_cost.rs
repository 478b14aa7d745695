//! Screen tests of the cost figures: the header's cost of the fleet, and the cost lines of a review (single
//! scale edit, Run:ai's "unknown", several deployments with a total). The simulator from a fixed seed and
//! clock, the real clients over loopback; prices per replica come from the simulator's pricing previews.

mod common;

use common::screen::{Fixture, fixture, render};
use crossterm::event::KeyCode;
use infertop::app::cost::change_cost;
use infertop::model::ScaleUpdate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::Paragraph;

/// Selects the row whose name is `name`.
async fn select(fx: &mut Fixture, name: &str) {
    let pos = fx.state.view.iter().position(|&i| fx.state.rows[i].dep.name == name).expect("in view");
    fx.key(KeyCode::Char('g')).await;
    for _ in 0..pos {
        fx.key(KeyCode::Char('j')).await;
    }
    assert_eq!(fx.state.selected_row().unwrap().dep.name, name);
}

/// Opens the scale form of the selection, sets the first region's max to `max`, and reviews.
async fn review_max(fx: &mut Fixture, max: &str) {
    fx.key(KeyCode::Char('s')).await;
    // The form opens on the first region's max.
    for _ in 0..4 {
        fx.key(KeyCode::Backspace).await;
    }
    fx.type_str(max).await;
    fx.key(KeyCode::Enter).await;
}

#[tokio::test]
async fn the_header_shows_the_fleets_cost_by_currency_and_the_unpriced() {
    let fx = fixture(160, 48).await;
    let screen = render(&fx.state);
    let header = screen.lines().next().unwrap().to_string();
    assert!(header.contains("EUR/h") && header.contains("USD/h") && header.contains("unpriced"), "{header}");
    insta::assert_snapshot!("cost_header_160", header);
    // Narrower: the shorter form.
    let mut fx = fx;
    infertop::app::update(&mut fx.state, infertop::app::Msg::Resize(100, 30));
    insta::assert_snapshot!("cost_header_100", render(&fx.state).lines().next().unwrap().to_string());
}

#[tokio::test]
async fn a_scale_review_shows_the_cost_at_min_and_max() {
    let mut fx = fixture(120, 36).await;
    select(&mut fx, "whisper-large-v3").await;
    review_max(&mut fx, "9").await;
    insta::assert_snapshot!("cost_review_gcore", render(&fx.state));
}

#[tokio::test]
async fn a_runai_review_says_unknown() {
    let mut fx = fixture(120, 36).await;
    select(&mut fx, "nim-llama-3-8b").await;
    // Run:ai's list carries the replica bounds only: the form opens once the details are read.
    let key = fx.state.selected_row().unwrap().dep.key.clone();
    let result = fx.providers[2].get(&key.id).await.map(Box::new);
    fx.apply(infertop::app::Msg::Detail { key, at: common::screen::epoch(), result }).await;
    // Run:ai wants a metric when min < max: max down to min needs none.
    review_max(&mut fx, "1").await;
    let screen = render(&fx.state);
    assert!(screen.contains("unknown (runai gives no price)"), "{screen}");
    insta::assert_snapshot!("cost_review_runai", screen);
}

#[tokio::test]
async fn several_changes_show_a_total_and_the_unpriced() {
    let fx = fixture(120, 36).await;
    let names = ["sdxl-turbo-images", "deepseek-r1-distill", "nim-llama-3-8b", "llama-guard-3"];
    let changes: Vec<_> = names
        .iter()
        .map(|n| {
            let row = fx.state.rows.iter().find(|r| r.dep.name == *n).expect("in the fleet");
            let old = ScaleUpdate::from_deployment(&row.dep).regions;
            let mut new = old.clone();
            for r in &mut new {
                r.scale.max += 1;
            }
            change_cost(&fx.state, &row.dep.key, &old, &new)
        })
        .collect();
    let lines = infertop::ui::cost::lines(&changes, &fx.state.theme);
    let mut term = Terminal::new(TestBackend::new(120, lines.len() as u16)).unwrap();
    term.draw(|f| f.render_widget(Paragraph::new(lines), f.area())).unwrap();
    let buf = term.backend().buffer().clone();
    let text: String = (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            format!("{}\n", row.trim_end())
        })
        .collect();
    assert!(text.contains("1 deployment unpriced"), "{text}");
    insta::assert_snapshot!("cost_lines_several", text);
}
