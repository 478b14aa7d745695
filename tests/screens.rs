//! Screen tests: the dashboard drawn with `TestBackend` from a fixed simulator seed, compared with insta
//! snapshots, at 80×24 and 160×48. The data comes from the simulator over loopback HTTP through the real
//! clients; only the clock is fixed, so ages are stable.

mod common;

use common::screen::{Fixture, epoch, fixture, key, render, select, type_str};

use crossterm::event::KeyCode;
use infertop::app::{Msg, update};
use infertop::provider;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Fetches what the detail poller would for the selection.
async fn load_selected(fx: &mut Fixture, metrics: bool, logs: bool) {
    let row = fx.state.selected_row().unwrap();
    let (key, account) = (row.dep.key.clone(), row.account);
    let p = fx.providers[account].clone();
    let result = p.get(&key.id).await.map(Box::new);
    update(&mut fx.state, Msg::Detail { key: key.clone(), at: epoch(), result });
    if metrics {
        let q = provider::MetricsQuery {
            start: epoch() - chrono::Duration::minutes(15),
            end: epoch(),
            samples: 30,
            pod: None,
        };
        let result = p.metrics(&key.id, &q).await;
        update(&mut fx.state, Msg::Metrics { key: key.clone(), at: epoch(), result });
    }
    if logs {
        let result = p.logs(&key.id, &provider::LogQuery { limit: 50, region_id: None }).await;
        update(&mut fx.state, Msg::Logs { key, at: epoch(), result });
    }
}

async fn screens_at(w: u16, h: u16) {
    let size = format!("{w}x{h}");
    let mut fx = fixture(w, h).await;
    assert_eq!(fx.state.accounts.iter().filter(|a| a.last_ok.is_some()).count(), 3, "every account loaded");

    select(&mut fx.state, "whisper-large-v3");
    load_selected(&mut fx, false, false).await;
    insta::assert_snapshot!(format!("overview_{size}"), render(&fx.state));

    key(&mut fx.state, KeyCode::Tab);
    insta::assert_snapshot!(format!("regions_focus_{size}"), render(&fx.state));

    for _ in 0..2 {
        key(&mut fx.state, KeyCode::Tab);
    }
    insta::assert_snapshot!(format!("logging_{size}"), render(&fx.state));

    key(&mut fx.state, KeyCode::Tab);
    insta::assert_snapshot!(format!("metrics_local_{size}"), render(&fx.state));

    key(&mut fx.state, KeyCode::Tab);
    load_selected(&mut fx, false, true).await;
    insta::assert_snapshot!(format!("logs_{size}"), render(&fx.state));

    key(&mut fx.state, KeyCode::Esc);
    select(&mut fx.state, "nim-llama-3-8b");
    load_selected(&mut fx, true, false).await;
    key(&mut fx.state, KeyCode::Char('l'));
    key(&mut fx.state, KeyCode::BackTab);
    insta::assert_snapshot!(format!("metrics_runai_{size}"), render(&fx.state));

    key(&mut fx.state, KeyCode::Esc);
    key(&mut fx.state, KeyCode::Char('/'));
    type_str(&mut fx.state, "llama");
    insta::assert_snapshot!(format!("filter_{size}"), render(&fx.state));
    key(&mut fx.state, KeyCode::Esc);

    key(&mut fx.state, KeyCode::Char('?'));
    insta::assert_snapshot!(format!("help_{size}"), render(&fx.state));
}

#[tokio::test]
async fn screens_80x24() {
    screens_at(80, 24).await;
}

#[tokio::test]
async fn screens_160x48() {
    screens_at(160, 48).await;
}

#[tokio::test]
async fn form_screens() {
    use infertop::app::ApplyFailure;
    use infertop::app::state::Mode;
    let mut fx = fixture(110, 36).await;
    select(&mut fx.state, "sdxl-turbo-images");
    load_selected(&mut fx, false, false).await;

    // The scale form, as opened.
    key(&mut fx.state, KeyCode::Char('s'));
    insta::assert_snapshot!("form_scale_open", render(&fx.state));

    // An invalid value: the reason shows next to the field and Enter does not review.
    key(&mut fx.state, KeyCode::Backspace);
    type_str(&mut fx.state, "301");
    key(&mut fx.state, KeyCode::Enter);
    insta::assert_snapshot!("form_scale_invalid", render(&fx.state));

    // A valid change: Enter shows the diff.
    key(&mut fx.state, KeyCode::Backspace);
    key(&mut fx.state, KeyCode::Backspace);
    key(&mut fx.state, KeyCode::Backspace);
    type_str(&mut fx.state, "6");
    key(&mut fx.state, KeyCode::Enter);
    insta::assert_snapshot!("form_scale_diff", render(&fx.state));

    // y applies; the provider refuses (the simulator's own 400 for this deployment's flavor/region).
    key(&mut fx.state, KeyCode::Char('y'));
    let Mode::Form(form) = &fx.state.mode else { panic!("form stays open while applying") };
    let key_ = form.key.clone();
    let mut bad = infertop::model::ScaleUpdate::from_deployment(&form.base);
    bad.regions[0].scale.max = 5000;
    let refused =
        fx.providers[0].update_scale(&key_.id, &bad).await.expect_err("the simulator refuses max 5000");
    update(&mut fx.state, Msg::Applied { key: key_.clone(), result: Err(ApplyFailure::Api(refused)) });
    insta::assert_snapshot!("form_scale_refused", render(&fx.state));

    // Back to the form with the input kept; a change made elsewhere meanwhile is a conflict.
    key(&mut fx.state, KeyCode::Char('x'));
    let mut other =
        infertop::model::ScaleUpdate::from_deployment(&fx.state.selected_deployment().unwrap().clone());
    other.regions[1].scale.max = 3;
    fx.providers[0].update_scale(&key_.id, &other).await.unwrap();
    let latest = fx.providers[0].get(&key_.id).await.unwrap();
    update(
        &mut fx.state,
        Msg::Applied { key: key_.clone(), result: Err(ApplyFailure::Conflict(Box::new(latest))) },
    );
    insta::assert_snapshot!("form_scale_conflict", render(&fx.state));
    key(&mut fx.state, KeyCode::Esc);
    key(&mut fx.state, KeyCode::Esc);
    assert!(matches!(fx.state.mode, Mode::Normal), "Esc leaves the form");

    // The probes form.
    key(&mut fx.state, KeyCode::Char('p'));
    insta::assert_snapshot!("form_probes_open", render(&fx.state));
}

/// The three themes, with their styles: ratatui's `Buffer` debug form lists every style change.
#[tokio::test]
async fn themes() {
    use infertop::ui::theme::{Theme, ThemeName};
    let mut fx = fixture(80, 24).await;
    select(&mut fx.state, "whisper-large-v3");
    for (name, theme) in [("dark", ThemeName::Dark), ("light", ThemeName::Light), ("mono", ThemeName::Mono)] {
        fx.state.theme = Theme::named(theme);
        let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
        term.draw(|f| infertop::ui::draw(f, &fx.state)).unwrap();
        let styles = format!("{:?}", term.backend().buffer());
        if theme == ThemeName::Mono {
            let colours = styles.matches("fg: ").count() + styles.matches("bg: ").count();
            let resets = styles.matches("fg: Reset").count() + styles.matches("bg: Reset").count();
            assert_eq!(colours, resets, "mono uses no colours");
        }
        insta::assert_snapshot!(format!("theme_{name}"), styles);
    }
}
