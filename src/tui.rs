//! The terminal: enter and restore (also on panic, Ctrl-C, SIGTERM and SIGHUP), and the event loop that
//! feeds keys, network messages and ticks into `update` and draws only when something changed.

use crate::app::editor::{EditorJob, EditorOutcome};
use crate::app::{Effect, Msg, State, update};
use crate::sync::Sync;
use crossterm::event::{Event, EventStream};
use crossterm::{execute, queue, terminal};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use std::io::Write;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// Restores the terminal when dropped, whatever way the loop ends.
pub struct TerminalGuard {
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> std::io::Result<(DefaultTerminal, TerminalGuard)> {
        // ratatui::init installs a panic hook that restores the terminal before the report is printed.
        let term = ratatui::try_init()?;
        if mouse {
            execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        }
        Ok((term, TerminalGuard { mouse }))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.mouse {
            let _ = execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        ratatui::restore();
    }
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    InputClosed,
}

/// The shortest time between two frames that only the network asked for.
const NETWORK_FRAME_GAP: Duration = Duration::from_millis(250);

/// Runs the dashboard until the user quits or a signal arrives.
pub async fn run_loop(
    terminal: &mut DefaultTerminal,
    state: &mut State,
    sync: &Sync,
    mut rx: mpsc::Receiver<Msg>,
    mouse: bool,
) -> std::io::Result<Exit> {
    let mut events = EventStream::new();
    // Ages and staleness move once a second; nothing else redraws without a change.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let size = terminal.size()?;
    apply(state, sync, Msg::Resize(size.width, size.height));
    // For testing the restore path: panic once every account has loaded.
    let panic_after_load = std::env::var_os("INFERTOP_PANIC_AFTER_LOAD").is_some();
    let mut complete_logged = false;
    let mut editor: Option<Box<EditorJob>> = None;
    // Input redraws at once; what the network changes is drawn at most every `NETWORK_FRAME_GAP`, so a busy
    // refresh (its start, its lists, details batches) costs one frame rather than one per message.
    let mut last_draw = tokio::time::Instant::now();
    let mut input = true;
    loop {
        if let Some(job) = editor.take() {
            // crossterm's reader would take keys meant for the editor: it stops with the stream.
            drop(events);
            run_editor(terminal, state, sync, &mut rx, &mut sigint, job, mouse).await?;
            events = EventStream::new();
        }
        if panic_after_load && state.accounts.iter().all(|a| a.last_ok.is_some()) {
            panic!("INFERTOP_PANIC_AFTER_LOAD is set: panicking on purpose");
        }
        let redraw_at = last_draw + NETWORK_FRAME_GAP;
        // The first frame with every account loaded is not held back either.
        let first_complete = !complete_logged && state.accounts.iter().all(|a| a.last_ok.is_some());
        if state.dirty && (input || first_complete || tokio::time::Instant::now() >= redraw_at) {
            input = false;
            last_draw = tokio::time::Instant::now();
            draw(terminal, state)?;
            // A frame was just drawn: the next tick is a second from now, not from the last tick, so ages still
            // move every second but a tick never redraws right after an event did.
            tick.reset();
            // The log's timestamp on this line is how `benches/process.rs` measures start-up.
            if !complete_logged && state.accounts.iter().all(|a| a.last_ok.is_some()) {
                tracing::info!(
                    accounts = state.accounts.len(),
                    rows = state.rows.len(),
                    "first complete frame"
                );
                complete_logged = true;
            }
        }
        let waiting = state.dirty;
        let exit = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => { input = true; editor = apply(state, sync, Msg::Key(k)); None }
                Some(Ok(Event::Mouse(m))) => { input = true; apply(state, sync, Msg::Mouse(m)); None }
                Some(Ok(Event::Resize(w, h))) => { input = true; apply(state, sync, Msg::Resize(w, h)); None }
                Some(Ok(_)) => None,
                Some(Err(_)) | None => Some(Exit::InputClosed),
            },
            msg = rx.recv() => match msg {
                Some(m) => {
                    apply(state, sync, m);
                    // Drain whatever else arrived so a burst costs one frame.
                    while let Ok(m) = rx.try_recv() {
                        apply(state, sync, m);
                    }
                    None
                }
                None => Some(Exit::InputClosed),
            },
            _ = tick.tick() => { apply(state, sync, Msg::Tick); None }
            _ = tokio::time::sleep_until(redraw_at), if waiting => None,
            _ = sigterm.recv() => Some(Exit::Signal("SIGTERM")),
            _ = sighup.recv() => Some(Exit::Signal("SIGHUP")),
            _ = sigint.recv() => Some(Exit::Signal("SIGINT")),
        };
        if let Some(e) = exit {
            return Ok(e);
        }
        if state.quit {
            return Ok(Exit::Quit);
        }
    }
}

/// Feeds one message to `update` and hands its effects to the sync layer (also used by tests to drive the
/// dashboard exactly as the terminal loop does). An editor to run is returned: only the loop that owns the
/// terminal can hand it over.
pub fn apply(state: &mut State, sync: &Sync, msg: Msg) -> Option<Box<EditorJob>> {
    state.now = chrono::Utc::now();
    let mut editor = None;
    for fx in update(state, msg) {
        match fx {
            Effect::Editor(job) => editor = Some(job),
            Effect::Refresh(account) => sync.refresh(account),
            Effect::Watch(w) => sync.watch(w),
            Effect::Eyes(keys) => sync.eyes(keys),
            Effect::ReadDetails(keys) => sync.read_details(keys),
            Effect::Apply(req) => sync.apply(req),
            Effect::Lifecycle(req) => sync.lifecycle(req),
            Effect::LoadCatalog(account) => sync.load_catalog(account),
            Effect::Price { account, spec } => sync.price(account, spec),
            Effect::ReplicaPrice { account, hardware, region, user } => {
                sync.replica_price(account, hardware, region, user)
            }
            Effect::Create { account, spec } => sync.create(account, spec),
            Effect::Quit => state.quit = true,
        }
    }
    editor
}

/// The editor's command line: `$VISUAL`, else `$EDITOR`, else `vi`, split into words with shell quoting
/// (`code --wait`, `"/opt/my editor/bin/ed" -w`), as kubectl does.
pub fn editor_command(visual: Option<&str>, editor: Option<&str>) -> Result<Vec<String>, String> {
    let line = [visual, editor].into_iter().flatten().map(str::trim).find(|s| !s.is_empty()).unwrap_or("vi");
    let words =
        shell_words::split(line).map_err(|_| format!("the editor command {line:?} has an unclosed quote"))?;
    if words.is_empty() { Ok(vec!["vi".into()]) } else { Ok(words) }
}

/// A new file only this user can read (0600) in the temp directory, holding `text`.
fn private_temp_file(text: &str) -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::temp_dir();
    for n in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("infertop-edit-{}-{nanos}-{n}.toml", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut f) => {
                f.write_all(text.as_bytes())?;
                f.flush()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("could not make a temporary file"))
}

/// Runs `command` on `text` in a private temporary file and returns what was saved; the file is removed
/// whatever happens.
fn edit_once(command: &[String], text: &str) -> Result<String, String> {
    let path = private_temp_file(text).map_err(|e| format!("could not write the temporary file: {e}"))?;
    let status = std::process::Command::new(&command[0]).args(&command[1..]).arg(&path).status();
    let saved = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    match status {
        Err(e) => return Err(format!("{}: {e}", crate::model::text::sanitize(&command[0]))),
        Ok(s) if !s.success() => return Err(format!("the editor exited with {s}")),
        Ok(_) => {}
    }
    saved.map_err(|e| format!("could not read the edited file back: {e}"))
}

/// One editing session, kubectl-style: the editor opens on the document; a file that cannot be used opens
/// again with the errors as comments at the top, keeping what was written; an empty file, or one saved
/// again with its errors unfixed, cancels. Blocking: run it where blocking is fine.
pub fn edit_session(job: &EditorJob, command: &[String]) -> Result<EditorOutcome, String> {
    use crate::model::settings;
    let base_settings = settings::Settings::from_deployment(&job.base);
    let mut text = job.text.clone();
    let mut tries = 0;
    loop {
        tries += 1;
        let saved = edit_once(command, &text)?;
        if settings::is_empty(settings::strip_errors(&saved)) {
            return Ok(EditorOutcome::Cancelled("the file was saved empty: nothing was sent".into()));
        }
        match settings::parse(&saved, &job.base, &job.editable) {
            Ok(s) if s == base_settings => return Ok(EditorOutcome::Unchanged),
            Ok(s) => {
                return Ok(EditorOutcome::Edited {
                    settings: Box::new(s),
                    text: settings::strip_errors(&saved).to_string(),
                });
            }
            Err(_) if tries > 1 && saved == text => {
                return Ok(EditorOutcome::Cancelled("the errors were not fixed: nothing was sent".into()));
            }
            Err(errors) => text = settings::with_errors(&saved, &errors),
        }
    }
}

/// Runs an editor session with the terminal handed over. The polling tasks keep running: their messages are
/// applied meanwhile (and drawn after). The outcome goes to `update` as [`Msg::Edited`].
async fn run_editor(
    terminal: &mut DefaultTerminal,
    state: &mut State,
    sync: &Sync,
    rx: &mut mpsc::Receiver<Msg>,
    sigint: &mut tokio::signal::unix::Signal,
    job: Box<EditorJob>,
    mouse: bool,
) -> std::io::Result<()> {
    let visual = std::env::var("VISUAL").ok();
    let editor = std::env::var("EDITOR").ok();
    let outcome = match editor_command(visual.as_deref(), editor.as_deref()) {
        Err(e) => Err(e),
        Ok(command) => {
            suspend()?;
            let session = (*job).clone();
            let mut task = tokio::task::spawn_blocking(move || edit_session(&session, &command));
            let result = loop {
                tokio::select! {
                    r = &mut task => break r,
                    Some(m) = rx.recv() => { let _ = apply(state, sync, m); }
                    // Ctrl-C in the editor is the editor's (it shares the terminal's process group).
                    _ = sigint.recv() => {}
                }
            };
            resume(terminal, mouse)?;
            // The terminal may have been resized meanwhile.
            let size = terminal.size()?;
            let _ = apply(state, sync, Msg::Resize(size.width, size.height));
            result.unwrap_or_else(|e| Err(format!("the editor session failed: {e}")))
        }
    };
    let _ = apply(state, sync, Msg::Edited { job, outcome });
    state.dirty = true;
    Ok(())
}

/// Hands the terminal to the editor: mouse capture, the alternate screen and raw mode off (in that order),
/// the cursor shown; [`resume`] undoes it.
fn suspend() -> std::io::Result<()> {
    let mut out = std::io::stdout();
    let _ = execute!(out, crossterm::event::DisableMouseCapture);
    execute!(out, terminal::LeaveAlternateScreen, crossterm::cursor::Show)?;
    terminal::disable_raw_mode()
}

fn resume(terminal: &mut DefaultTerminal, mouse: bool) -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    let mut out = std::io::stdout();
    execute!(out, terminal::EnterAlternateScreen)?;
    if mouse {
        execute!(out, crossterm::event::EnableMouseCapture)?;
    }
    // Whatever the editor left is wiped, and an empty frame makes ratatui's last frame blank too, so the next
    // frame is drawn whole. (`Terminal::clear` would ask the terminal where the cursor is, which needs the
    // event reader this loop has just stopped.)
    execute!(out, terminal::Clear(terminal::ClearType::All))?;
    terminal.draw(|_| {})?;
    Ok(())
}

/// One frame inside a synchronized update, so a slow link never shows a half-drawn screen.
fn draw(terminal: &mut DefaultTerminal, state: &mut State) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    // Queued, not executed: the frame's begin, body and end leave in as few writes as stdout's buffer allows.
    let _ = queue!(out, terminal::BeginSynchronizedUpdate);
    terminal.draw(|f| crate::ui::draw(f, state))?;
    let _ = queue!(out, terminal::EndSynchronizedUpdate);
    if let Some(text) = state.clipboard.take() {
        // OSC 52: the terminal (also over SSH, and tmux with set-clipboard) puts the text on the clipboard.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        let _ = write!(out, "\x1b]52;c;{b64}\x07");
    }
    let _ = out.flush();
    state.dirty = false;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_is_visual_then_editor_then_vi_split_like_a_shell() {
        assert_eq!(editor_command(Some("code --wait"), Some("nano")).unwrap(), ["code", "--wait"]);
        assert_eq!(editor_command(None, Some("nano")).unwrap(), ["nano"]);
        assert_eq!(editor_command(Some("  "), Some("")).unwrap(), ["vi"]);
        assert_eq!(editor_command(None, None).unwrap(), ["vi"]);
        assert_eq!(
            editor_command(None, Some("'/opt/my editor/bin/ed' -w")).unwrap(),
            ["/opt/my editor/bin/ed", "-w"]
        );
        assert!(editor_command(Some("vim \"unclosed"), None).unwrap_err().contains("unclosed quote"));
    }
}
