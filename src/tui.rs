//! The terminal: enter and restore (also on panic, Ctrl-C, SIGTERM and SIGHUP), and the event loop that
//! feeds keys, network messages and ticks into `update` and draws only when something changed.

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
    // Input redraws at once; what the network changes is drawn at most every `NETWORK_FRAME_GAP`, so a busy
    // refresh (its start, its lists, details batches) costs one frame rather than one per message.
    let mut last_draw = tokio::time::Instant::now();
    let mut input = true;
    loop {
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
                Some(Ok(Event::Key(k))) => { input = true; apply(state, sync, Msg::Key(k)); None }
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
/// dashboard exactly as the terminal loop does).
pub fn apply(state: &mut State, sync: &Sync, msg: Msg) {
    state.now = chrono::Utc::now();
    for fx in update(state, msg) {
        match fx {
            Effect::Refresh(account) => sync.refresh(account),
            Effect::Watch(w) => sync.watch(w),
            Effect::Eyes(keys) => sync.eyes(keys),
            Effect::Apply(req) => sync.apply(req),
            Effect::Lifecycle(req) => sync.lifecycle(req),
            Effect::LoadCatalog(account) => sync.load_catalog(account),
            Effect::Price { account, spec } => sync.price(account, spec),
            Effect::Create { account, spec } => sync.create(account, spec),
            Effect::Quit => state.quit = true,
        }
    }
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
