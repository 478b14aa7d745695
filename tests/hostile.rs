//! Hostile data: a simulator deployment whose error message, description, command, env value and log lines
//! carry ESC, OSC (title, clipboard), BEL and C1 sequences is drawn inert: checked on the rendered buffer and,
//! end to end, on what tmux shows.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::{AccountState, Msg, State, update};
use infertop::provider::{self, LogQuery, Provider, http::build_client};
use infertop::sim::{self, SimConfig};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn key(state: &mut State, c: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn render(state: &State) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(state.width, state.height)).unwrap();
    term.draw(|f| infertop::ui::draw(f, state)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..state.height)
        .map(|y| (0..state.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>())
        .collect()
}

fn assert_inert(lines: &[String]) {
    for (y, l) in lines.iter().enumerate() {
        assert!(!l.chars().any(|c| c.is_control()), "control character on line {y}: {l:?}");
    }
}

#[tokio::test]
async fn hostile_strings_render_as_visible_text_in_every_pane() {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let sim = sim::start(
        SimConfig { hostile: true, time_scale: 0.0, epoch: Some(now), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let client = build_client(Duration::from_secs(5), Duration::from_secs(20));
    let providers: Vec<Arc<dyn Provider>> = provider::demo_accounts(&sim.base_url())
        .iter()
        .map(|a| provider::connect(a, client.clone()))
        .collect();
    let mut state = State::new(
        providers.iter().map(|p| AccountState::of(p.as_ref())).collect(),
        Duration::from_secs(5),
        now,
    );
    update(&mut state, Msg::Resize(220, 60));
    for (i, p) in providers.iter().enumerate() {
        update(&mut state, Msg::Fleet { account: i, at: now, result: p.list().await });
    }
    key(&mut state, KeyCode::Char('/'));
    for c in "hostile".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    key(&mut state, KeyCode::Enter);
    let dep = state.selected_row().expect("the hostile deployment").dep.clone();
    assert_eq!(dep.name, "hostile-strings");
    // The model keeps the provider's bytes; only drawing makes them visible.
    assert!(dep.regions[0].error.as_deref().unwrap().contains('\u{1b}'));
    let detail = providers[0].get(&dep.key.id).await.map(Box::new);
    update(&mut state, Msg::Detail { key: dep.key.clone(), at: now, result: detail });
    let logs = providers[0].logs(&dep.key.id, &LogQuery { limit: 100, region_id: None }).await;
    assert!(
        logs.as_ref().unwrap().iter().any(|l| l.message.contains('\u{1b}')),
        "the simulator sends hostile log lines"
    );
    update(&mut state, Msg::Logs { key: dep.key.clone(), at: now, result: logs });

    // Regions pane with the error box (Tab to regions), details, logs.
    key(&mut state, KeyCode::Tab);
    let regions = render(&state);
    assert_inert(&regions);
    assert!(
        regions.iter().any(|l| l.contains("pull failed\\e[2J")),
        "the error is shown, escaped:\n{}",
        regions.join("\n")
    );
    key(&mut state, KeyCode::Tab);
    let details = render(&state);
    assert_inert(&details);
    assert!(details.iter().any(|l| l.contains("\\e]0;pwned-title\\a")), "{}", details.join("\n"));
    // Env values stay masked even when hostile: the env line shows the mask, and the value's bytes (which the
    // description and command also carry) show up one more time only when the user reveals the values.
    let env_line = details.iter().find(|l| l.contains("INJECT")).expect("the env line");
    assert!(env_line.contains("INJECT=••••••"), "{env_line}");
    let count = |lines: &[String], s: &str| lines.iter().map(|l| l.matches(s).count()).sum::<usize>();
    state.reveal_envs = Some(dep.key.clone());
    let revealed = render(&state);
    state.reveal_envs = None;
    assert_inert(&revealed);
    for part in ["pwned-title", "cm0gLXJmIH4="] {
        assert_eq!(
            count(&revealed, part),
            count(&details, part) + 1,
            "{part} is hidden until revealed:\n{}\n---\n{}",
            details.join("\n"),
            revealed.join("\n")
        );
    }
    key(&mut state, KeyCode::Char('l'));
    let logs = render(&state);
    assert_inert(&logs);
    assert!(
        // The line wraps at the pane's edge (between "pull" and "failed"); its escapes stay visible text.
        logs.iter().any(|l| l.contains("container failed to start: pull"))
            && logs.iter().any(|l| l.contains("failed\\e[2J\\e[H\\e]0;pwned-title\\a")),
        "{}",
        logs.join("\n")
    );
}

fn tmux(socket: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("tmux").arg("-S").arg(socket).args(args).output().expect("tmux is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn end_to_end_the_terminal_title_clipboard_and_screen_are_untouched() {
    let dir = std::env::temp_dir().join(format!("infertop-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The server's socket in the test's directory (`-S`), so that nothing is left in tmux's own.
    let socket = dir.join("tmux.sock");
    let bin = env!("CARGO_BIN_EXE_infertop");
    let script = format!("env XDG_STATE_HOME={} {bin} --demo --hostile; sleep 30", dir.display());
    let ok = Command::new("tmux")
        .arg("-S")
        .arg(&socket)
        .args(["new-session", "-d", "-s", "h", "-x", "200", "-y", "50", &script])
        .status()
        .unwrap();
    assert!(ok.success());
    // tmux would honour OSC 52 into its paste buffers and OSC 0 into the pane title if they got through.
    tmux(&socket, &["set-option", "-g", "set-clipboard", "on"]);
    tmux(&socket, &["set-option", "-g", "allow-rename", "on"]);
    let title_before = tmux(&socket, &["display-message", "-p", "-t", "h", "#{pane_title}"]);
    let wait = |what: &str, pred: &dyn Fn(&str) -> bool| -> String {
        let start = Instant::now();
        loop {
            let s = tmux(&socket, &["capture-pane", "-p", "-t", "h"]);
            if pred(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "never saw {what}:\n{s}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait("the fleet", &|s| s.contains("hostile-strings"));
    for k in ["/", "h", "o", "s", "t", "i", "l", "e", "Enter", "Enter"] {
        tmux(&socket, &["send-keys", "-t", "h", k]);
    }
    let screen = wait("the escaped description", &|s| s.contains("\\e]0;pwned-title\\a"));
    // The header is still on the first line: nothing cleared the screen or moved the cursor home.
    assert!(screen.lines().next().unwrap_or("").contains("infertop"), "{screen}");
    tmux(&socket, &["send-keys", "-t", "h", "l"]);
    // The log line wraps at the pane's edge; its escapes are visible text.
    wait("escaped log lines", &|s| {
        s.contains("container failed to start: pull") && s.contains("failed\\e[2J\\e[H")
    });
    let title_after = tmux(&socket, &["display-message", "-p", "-t", "h", "#{pane_title}"]);
    assert_eq!(title_before, title_after, "the window title changed");
    assert!(!title_after.contains("pwned"));
    let buffers = tmux(&socket, &["list-buffers"]);
    assert!(!buffers.contains("rm -rf"), "the clipboard was written: {buffers}");
    assert!(buffers.trim().is_empty(), "a paste buffer appeared: {buffers}");
    tmux(&socket, &["kill-server"]);
    let _ = std::fs::remove_dir_all(&dir);
}
