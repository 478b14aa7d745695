//! Screen tests of `e`: the file each provider's deployment is edited in (the document `$EDITOR` opens), and
//! the review drawn with `TestBackend` after an edit, with env values masked and then revealed. From a fixed
//! simulator seed and clock, through the real clients; compared with insta snapshots.

mod common;

use common::screen::{Fixture, epoch, fixture, render};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::editor::EditorOutcome;
use infertop::app::state::Mode;
use infertop::app::{Effect, Msg, State, update};
use infertop::model::ProviderKind;
use infertop::model::settings::{self, Editable};

fn key(state: &mut State, c: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

/// Selects the first running deployment of `provider` and reads its details as the detail poller would.
async fn select(fx: &mut Fixture, provider: ProviderKind) {
    key(&mut fx.state, KeyCode::Char('g'));
    for _ in 0..fx.state.view.len() {
        let row = fx.state.selected_row().unwrap();
        if row.dep.key.provider == provider && row.dep.health() == infertop::model::Health::Ok {
            break;
        }
        key(&mut fx.state, KeyCode::Char('j'));
    }
    let row = fx.state.selected_row().unwrap();
    assert_eq!(row.dep.key.provider, provider);
    let (k, account) = (row.dep.key.clone(), row.account);
    let result = fx.providers[account].get(&k.id).await.map(Box::new);
    update(&mut fx.state, Msg::Detail { key: k, at: epoch(), result });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_of_each_provider() {
    let mut fx = fixture(120, 40).await;
    for p in ProviderKind::ALL {
        select(&mut fx, p).await;
        let fxs = key(&mut fx.state, KeyCode::Char('e'));
        let Some(Effect::Editor(job)) = fxs.into_iter().find(|e| matches!(e, Effect::Editor(_))) else {
            panic!("e asked for no editor: {:?}", fx.state.flash)
        };
        assert_eq!(job.editable, Editable::of(p, p == ProviderKind::Gcore));
        insta::assert_snapshot!(format!("editor_file_{p}"), job.text);
        // The file as written reads back as the deployment: an untouched file changes nothing.
        assert_eq!(
            settings::parse(&job.text, &job.base, &job.editable).unwrap(),
            settings::Settings::from_deployment(&job.base)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_masks_env_values_until_revealed() {
    let mut fx = fixture(120, 40).await;
    select(&mut fx, ProviderKind::Gcore).await;
    let fxs = key(&mut fx.state, KeyCode::Char('e'));
    let Some(Effect::Editor(job)) = fxs.into_iter().find(|e| matches!(e, Effect::Editor(_))) else {
        panic!("no editor")
    };
    let text = job
        .text
        .replacen("\nimage = ", "\nimage = \"vllm/vllm-openai:v0.7.1\"\n# was: ", 1)
        .replacen("[envs]\n", "[envs]\nNEW_SECRET = \"hunter2\"\n", 1)
        .replace("max = ", "max = 1");
    let s = settings::parse(&text, &job.base, &job.editable).unwrap();
    let outcome = Ok(EditorOutcome::Edited { settings: Box::new(s), text });
    update(&mut fx.state, Msg::Edited { job, outcome });
    assert!(matches!(fx.state.mode, Mode::Editor(_)));
    let masked = render(&fx.state);
    assert!(!masked.contains("hunter2"));
    insta::assert_snapshot!("editor_review_masked", masked);
    // `v` is the table's key: the review shows the values only for a deployment the user revealed.
    fx.state.reveal_envs = fx.state.selected_row().map(|r| r.dep.key.clone());
    fx.state.dirty = true;
    let shown = render(&fx.state);
    assert!(shown.contains("hunter2"));
    key(&mut fx.state, KeyCode::Esc);
    assert!(matches!(fx.state.mode, Mode::Normal));
    assert_eq!(fx.state.flash.as_deref(), Some("edit cancelled: nothing was sent"));
}
