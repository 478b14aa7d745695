//! The help overlay: every key from the live keymap and every `:` command, wrapped to the width at word
//! boundaries, scrolled with j/k, PgUp/PgDn, g/G and narrowed with `/`. It closes only on Esc, `?` or `q`.
//! The wrapping lives here, not in `ui`, so `update` knows how far the list scrolls.

use super::input::LineInput;
use super::state::{Mode, State};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The help overlay's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpView {
    /// First line shown.
    pub scroll: usize,
    pub filter: LineInput,
    /// Keys go to the filter (after `/`, until Enter or Esc).
    pub typing: bool,
}

/// Width of the keys column.
pub const KEY_COL: usize = 14;
/// The widest the box gets.
const MAX_W: u16 = 78;

/// The box's size on a `w`×`h` screen and the lines its body shows (borders and the footer line excluded).
pub fn geometry(w: u16, h: u16) -> (u16, u16, usize) {
    let bw = MAX_W.min(w);
    let bh = h.saturating_sub(2).max(3).min(h);
    (bw, bh, bh.saturating_sub(3) as usize)
}

/// One line of the help text: the keys (empty on a wrapped continuation) and the description part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub keys: String,
    pub text: String,
    pub heading: bool,
}

/// Every entry: keys and what they do, then the `:` commands (marked `true`).
pub fn entries(state: &State) -> Vec<(String, String, bool)> {
    let mut e: Vec<(String, String, bool)> =
        state.keymap.help_rows(state.read_only).into_iter().map(|(k, d)| (k, d.to_string(), false)).collect();
    let mut commands = vec![
        (":provider P", "show one provider (gcore, sesterce, runai, all)"),
        (":sort KEY", "sort by name, status, ready, provider, age or price"),
        (":catalog [P]", "catalog of an account or provider"),
        (":refresh", "refresh every account now"),
        (":help", "this help"),
        (":q", "quit"),
    ];
    if !state.read_only {
        commands.insert(3, (":create", "create a deployment"));
    }
    e.extend(commands.into_iter().map(|(k, d)| (k.to_string(), d.to_string(), true)));
    e
}

/// The lines shown at this width through the filter.
pub fn lines(state: &State, view: &HelpView) -> Vec<HelpLine> {
    let (bw, _, _) = geometry(state.width, state.height);
    // Borders, the keys column and a space between the columns.
    let text_w = (bw as usize).saturating_sub(2 + KEY_COL + 1).max(8);
    let needle = view.filter.value().to_lowercase();
    let mut out = Vec::new();
    let mut commands_started = false;
    for (keys, text, command) in entries(state) {
        if !needle.is_empty()
            && !keys.to_lowercase().contains(&needle)
            && !text.to_lowercase().contains(&needle)
        {
            continue;
        }
        if command && !commands_started {
            commands_started = true;
            out.push(HelpLine { keys: String::new(), text: String::new(), heading: false });
            out.push(HelpLine { keys: "Commands".into(), text: String::new(), heading: true });
        }
        for (i, part) in wrap(&text, text_w).into_iter().enumerate() {
            out.push(HelpLine {
                keys: if i == 0 { keys.clone() } else { String::new() },
                text: part,
                heading: false,
            });
        }
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces; a word longer than a line is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let need = if line.is_empty() { 0 } else { line.chars().count() + 1 };
        if need + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The furthest the list scrolls: its last line at the bottom of the box.
pub fn max_scroll(state: &State, view: &HelpView) -> usize {
    let (_, _, body) = geometry(state.width, state.height);
    lines(state, view).len().saturating_sub(body.max(1))
}

/// Handles a key while help is open; puts the mode back unless the key closes help.
pub fn on_key(state: &mut State, mut view: HelpView, key: KeyEvent) {
    state.dirty = true;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if view.typing {
        match key.code {
            KeyCode::Enter => view.typing = false,
            KeyCode::Esc => {
                view.typing = false;
                view.filter = LineInput::default();
            }
            _ => {
                view.filter.handle(key);
            }
        }
        view.scroll = view.scroll.min(max_scroll(state, &view));
        state.mode = Mode::Help(view);
        return;
    }
    let (_, _, body) = geometry(state.width, state.height);
    let page = body.max(1);
    let max = max_scroll(state, &view);
    match key.code {
        KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') if !ctrl => return,
        KeyCode::Char('j') | KeyCode::Down => view.scroll = (view.scroll + 1).min(max),
        KeyCode::Char('k') | KeyCode::Up => view.scroll = view.scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => view.scroll = (view.scroll + page).min(max),
        KeyCode::Char('f') if ctrl => view.scroll = (view.scroll + page).min(max),
        KeyCode::PageUp => view.scroll = view.scroll.saturating_sub(page),
        KeyCode::Char('b') if ctrl => view.scroll = view.scroll.saturating_sub(page),
        KeyCode::Char('g') | KeyCode::Home => view.scroll = 0,
        KeyCode::Char('G') | KeyCode::End => view.scroll = max,
        KeyCode::Char('/') => {
            view.typing = true;
            view.scroll = 0;
        }
        _ => {}
    }
    state.mode = Mode::Help(view);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_only_a_word_too_long_for_a_line() {
        assert_eq!(
            wrap("copy the address (OSC 52, works over SSH)", 16),
            ["copy the address", "(OSC 52, works", "over SSH)"]
        );
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap("", 5), [""]);
    }
}
