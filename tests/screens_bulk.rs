//! Screen tests of marks and bulk changes: marked rows in every theme, the bulk form, its review and the end
//! state, drawn with `TestBackend` from the simulator's demo fleet (fixed seed and clock) through the real
//! clients. The writes of the end state go to the simulator through the real clients too.

mod common;

use common::screen::{fixture, render};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::bulk::BulkStage;
use infertop::app::state::Mode;
use infertop::app::{ApplyFailure, Effect, Landed, Msg, State, update};
use infertop::model::edit::Change;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(state: &mut State, c: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn type_str(state: &mut State, s: &str) {
    for c in s.chars() {
        key(state, KeyCode::Char(c));
    }
}

/// `/staging`, Enter, Ctrl-Space.
fn mark_staging(state: &mut State) {
    key(state, KeyCode::Char('/'));
    type_str(state, "staging");
    key(state, KeyCode::Enter);
    update(state, Msg::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL)));
}

#[tokio::test]
async fn marked_rows_in_every_theme() {
    use infertop::ui::theme::{Theme, ThemeName};
    let mut fx = fixture(120, 30).await;
    mark_staging(&mut fx.state);
    assert_eq!(fx.state.marks.len(), 3);
    // Esc clears the filter: the marked rows stay marked among the others (shown with a few of them).
    key(&mut fx.state, KeyCode::Esc);
    assert!(fx.state.filter.text.is_empty());
    assert_eq!(fx.state.marks.len(), 3);
    key(&mut fx.state, KeyCode::Char('/'));
    type_str(&mut fx.state, "staging|llama|embed");
    key(&mut fx.state, KeyCode::Enter);
    let text = render(&fx.state);
    assert!(text.contains("3 marked"), "{text}");
    for name in ["phi-3-mini-staging", "gemma-2-9b-staging", "nim-embedqa-staging"] {
        assert!(text.lines().any(|l| l.contains(&format!("● {name}"))), "{name} marked:\n{text}");
    }
    insta::assert_snapshot!("bulk_marked_rows", text);
    for (name, theme) in [("dark", ThemeName::Dark), ("light", ThemeName::Light), ("mono", ThemeName::Mono)] {
        fx.state.theme = Theme::named(theme);
        let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
        term.draw(|f| infertop::ui::draw(f, &fx.state)).unwrap();
        let styles = format!("{:?}", term.backend().buffer());
        if theme == ThemeName::Mono {
            let colours = styles.matches("fg: ").count() + styles.matches("bg: ").count();
            let resets = styles.matches("fg: Reset").count() + styles.matches("bg: Reset").count();
            assert_eq!(colours, resets, "mono uses no colours");
        }
        insta::assert_snapshot!(format!("bulk_marked_theme_{name}"), styles);
    }
}

#[tokio::test]
async fn bulk_form_review_and_end_state() {
    let mut fx = fixture(120, 36).await;
    mark_staging(&mut fx.state);
    key(&mut fx.state, KeyCode::Char('s'));
    assert!(matches!(fx.state.mode, Mode::Bulk));
    // A letter is refused beside the field, as the single form does, not only on the status line.
    type_str(&mut fx.state, "x");
    let refused = render(&fx.state);
    let field = refused.lines().find(|l| l.contains("▶ min")).unwrap_or_else(|| panic!("{refused}"));
    assert!(field.contains("✗ N sets, +N or −N changes, empty leaves as is"), "{refused}");
    type_str(&mut fx.state, "0");
    assert!(!render(&fx.state).contains("✗ N sets"), "the next key clears it");
    key(&mut fx.state, KeyCode::Tab);
    type_str(&mut fx.state, "+1");
    insta::assert_snapshot!("bulk_form", render(&fx.state));

    // Enter: the marked deployments are read again (here through the real clients), then the review.
    let reads = key(&mut fx.state, KeyCode::Enter);
    insta::assert_snapshot!("bulk_reading", render(&fx.state));
    for e in reads {
        if let Effect::ReadDetails(keys) = e {
            for (account, key) in keys {
                let result = fx.providers[account].get(&key.id).await.map(Box::new);
                update(&mut fx.state, Msg::Detail { key, at: common::screen::epoch(), result });
            }
        }
    }
    assert_eq!(fx.state.bulk.as_ref().unwrap().stage, BulkStage::Review);
    let review = render(&fx.state);
    assert!(review.contains("min 1 → 0, max 1 → 2"), "{review}");
    insta::assert_snapshot!("bulk_review", review);

    // `y`: one write per deployment, each sent here through the real client, its outcome fed back.
    let fx_out = key(&mut fx.state, KeyCode::Char('y'));
    let reqs: Vec<_> = fx_out
        .into_iter()
        .filter_map(|e| match e {
            Effect::Apply(r) => Some(*r),
            _ => None,
        })
        .collect();
    assert_eq!(reqs.len(), 3);
    let running = render(&fx.state);
    assert!(running.contains("waiting for the provider"), "{running}");
    for req in reqs {
        let Change::Scale(u) = &req.change else { panic!() };
        let result = match fx.providers[req.account].update_scale(&req.key.id, u).await {
            Ok(applied) => {
                let not_taken = req.edit().not_taken(applied.deployment());
                Ok(Landed { applied, not_taken })
            }
            Err(e) => Err(ApplyFailure::Api(e)),
        };
        update(&mut fx.state, Msg::Applied { key: req.key.clone(), result });
    }
    assert_eq!(fx.state.bulk.as_ref().unwrap().stage, BulkStage::Done);
    let done = render(&fx.state);
    // The demo's Sesterce wants the instance's model with an update (the default reading): refused, listed.
    assert!(done.contains("2 applied · 0 conflict · 1 refused · 0 unknown"), "{done}");
    insta::assert_snapshot!("bulk_end_state", done);
}
