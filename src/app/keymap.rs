//! Keys are bound to named actions; help is generated from the live keymap, so a remapped key shows as
//! remapped. Bindings can be overridden by action name (`move_down = ["j", "down"]`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// Everything a key can do in the normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    MoveUp,
    MoveDown,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    FocusDetail,
    Filter,
    Command,
    SortName,
    SortStatus,
    SortReady,
    SortProvider,
    Refresh,
    Logs,
    Help,
    Back,
    Scale,
    Probes,
    StartStop,
    Delete,
    Edit,
    RevealEnvs,
    Copy,
    Catalog,
    Create,
    Mark,
    MarkAll,
}

impl Action {
    /// Every action, in the order help lists them.
    pub const ALL: [Action; 31] = [
        Action::MoveDown,
        Action::MoveUp,
        Action::Top,
        Action::Bottom,
        Action::PageDown,
        Action::PageUp,
        Action::NextPane,
        Action::PrevPane,
        Action::FocusDetail,
        Action::Back,
        Action::Filter,
        Action::Command,
        Action::SortName,
        Action::SortStatus,
        Action::SortReady,
        Action::SortProvider,
        Action::Refresh,
        Action::Logs,
        Action::RevealEnvs,
        Action::Copy,
        Action::Mark,
        Action::MarkAll,
        Action::Scale,
        Action::Probes,
        Action::Edit,
        Action::StartStop,
        Action::Delete,
        Action::Catalog,
        Action::Create,
        Action::Help,
        Action::Quit,
    ];

    /// The name used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::MoveUp => "move_up",
            Action::MoveDown => "move_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::FocusDetail => "focus_detail",
            Action::Filter => "filter",
            Action::Command => "command",
            Action::SortName => "sort_name",
            Action::SortStatus => "sort_status",
            Action::SortReady => "sort_ready",
            Action::SortProvider => "sort_provider",
            Action::Refresh => "refresh",
            Action::Logs => "logs",
            Action::Help => "help",
            Action::Back => "back",
            Action::Scale => "scale",
            Action::Probes => "probes",
            Action::StartStop => "start_stop",
            Action::Delete => "delete",
            Action::Edit => "edit",
            Action::RevealEnvs => "reveal_envs",
            Action::Copy => "copy",
            Action::Catalog => "catalog",
            Action::Create => "create",
            Action::Mark => "mark",
            Action::MarkAll => "mark_all",
        }
    }

    pub fn from_name(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == s)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::MoveUp => "move up",
            Action::MoveDown => "move down",
            Action::Top => "go to the top",
            Action::Bottom => "go to the bottom",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::FocusDetail => "focus the details",
            Action::Filter => "filter by regex (! inverts)",
            Action::Command => "command mode (:provider, :sort, :q)",
            Action::SortName => "sort by name",
            Action::SortStatus => "sort by status",
            Action::SortReady => "sort by readiness",
            Action::SortProvider => "sort by provider",
            Action::Refresh => "refresh now",
            Action::Logs => "show logs",
            Action::Help => "this help",
            Action::Back => "back / clear the filter / clear the marks",
            Action::Scale => "edit scale (with marks: all marked, in bulk)",
            Action::Probes => "edit probes",
            Action::StartStop => "start or stop (asks first; with marks: all marked)",
            Action::Delete => "delete (type the name to confirm)",
            Action::Edit => "edit the settings in $EDITOR (image, env, scale, probes...)",
            Action::RevealEnvs => "show or hide env values of the selected deployment",
            Action::Copy => "copy the address (OSC 52, works over SSH)",
            Action::Catalog => "catalog: GPUs, regions, capacity, price",
            Action::Create => "create a deployment",
            Action::Mark => "mark or unmark the deployment (for s and t in bulk)",
            Action::MarkAll => "mark every deployment the filter shows",
        }
    }

    /// Actions that change something at a provider (hidden in read-only mode).
    pub fn mutates(self) -> bool {
        matches!(
            self,
            Action::Scale
                | Action::Probes
                | Action::Edit
                | Action::StartStop
                | Action::Delete
                | Action::Create
                | Action::Mark
                | Action::MarkAll
        )
    }
}

/// One key, as written in the config: `j`, `G`, `ctrl-c`, `tab`, `shift-tab`, `enter`, `esc`, `up`, `pgdn`...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn ch(c: char) -> Key {
        Key { code: KeyCode::Char(c), ctrl: false }
    }
    pub const fn code(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }
    pub const fn ctrl(c: char) -> Key {
        Key { code: KeyCode::Char(c), ctrl: true }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        // Terminals report Shift-Tab as BackTab, which the keymap names `shift-tab`.
        Key { code: ev.code, ctrl: ev.modifiers.contains(KeyModifiers::CONTROL) }
    }

    pub fn parse(s: &str) -> Option<Key> {
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ctrl-") {
            if rest == "space" {
                return Some(Key::ctrl(' '));
            }
            let mut chars = rest.chars();
            let c = chars.next()?;
            return if chars.next().is_none() { Some(Key::ctrl(c)) } else { None };
        }
        let code = match lower.as_str() {
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            _ => {
                let mut chars = s.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCode::Char(c)
            }
        };
        Some(Key { code, ctrl: false })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The live keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        let b = vec![
            (Key::ch('j'), MoveDown),
            (Key::code(KeyCode::Down), MoveDown),
            (Key::ch('k'), MoveUp),
            (Key::code(KeyCode::Up), MoveUp),
            (Key::ch('g'), Top),
            (Key::code(KeyCode::Home), Top),
            (Key::ch('G'), Bottom),
            (Key::code(KeyCode::End), Bottom),
            (Key::code(KeyCode::PageDown), PageDown),
            (Key::ctrl('f'), PageDown),
            (Key::code(KeyCode::PageUp), PageUp),
            (Key::ctrl('b'), PageUp),
            (Key::code(KeyCode::Tab), NextPane),
            (Key::code(KeyCode::BackTab), PrevPane),
            (Key::code(KeyCode::Enter), FocusDetail),
            (Key::code(KeyCode::Esc), Back),
            (Key::ch('/'), Filter),
            (Key::ch(':'), Command),
            (Key::ch('N'), SortName),
            (Key::ch('S'), SortStatus),
            (Key::ch('R'), SortReady),
            (Key::ch('P'), SortProvider),
            (Key::ch('r'), Refresh),
            (Key::ch('l'), Logs),
            (Key::ch('s'), Scale),
            (Key::ch('p'), Probes),
            (Key::ch('e'), Edit),
            (Key::ch('t'), StartStop),
            (Key::ctrl('d'), Delete),
            (Key::ch('v'), RevealEnvs),
            (Key::ch('y'), Copy),
            (Key::ch(' '), Mark),
            // Terminals send Ctrl-Space as NUL, which reads as Ctrl-Space or Ctrl-@.
            (Key::ctrl(' '), MarkAll),
            (Key::ctrl('@'), MarkAll),
            (Key::ch('C'), Catalog),
            (Key::ch('c'), Create),
            (Key::ch('?'), Help),
            (Key::ch('q'), Quit),
            (Key::ctrl('c'), Quit),
        ];
        Keymap { bindings: b }
    }
}

impl Keymap {
    pub fn lookup(&self, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        self.bindings.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
    }

    /// The keys bound to an action, in binding order.
    pub fn keys_for(&self, action: Action) -> Vec<Key> {
        self.bindings.iter().filter(|(_, a)| *a == action).map(|(k, _)| *k).collect()
    }

    /// Replaces the keys of `action`. Ctrl-C always quits, whatever the config says.
    pub fn rebind(&mut self, action: Action, keys: &[Key]) {
        self.bindings.retain(|(k, a)| *a != action || (*k == Key::ctrl('c') && action == Action::Quit));
        // A key can do one thing: the new binding wins over an old one elsewhere.
        self.bindings.retain(|(k, _)| !keys.contains(k));
        for k in keys {
            self.bindings.push((*k, action));
        }
        if !self.bindings.iter().any(|(k, _)| *k == Key::ctrl('c')) {
            self.bindings.push((Key::ctrl('c'), Action::Quit));
        }
    }

    /// Rows of the help screen: keys and what they do, in `Action::ALL` order.
    pub fn help_rows(&self, read_only: bool) -> Vec<(String, &'static str)> {
        Action::ALL
            .into_iter()
            .filter(|a| !(read_only && a.mutates()))
            .filter_map(|a| {
                let keys = self.keys_for(a);
                if keys.is_empty() {
                    return None;
                }
                // Marks are for bulk changes, which read-only mode has none of.
                let what =
                    if read_only && a == Action::Back { "back / clear the filter" } else { a.describe() };
                Some((keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" "), what))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebinding_shows_in_help_and_lookup() {
        let mut km = Keymap::default();
        km.rebind(Action::MoveDown, &[Key::parse("n").unwrap()]);
        let ev = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&ev), Some(Action::MoveDown));
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&j), None);
        let rows = km.help_rows(false);
        assert!(rows.contains(&("n".to_string(), "move down")));
    }

    #[test]
    fn ctrl_c_always_quits() {
        let mut km = Keymap::default();
        km.rebind(Action::Quit, &[Key::ch('x')]);
        let ev = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&ev), Some(Action::Quit));
    }

    #[test]
    fn ctrl_space_reads_as_nul_does_and_parses_by_name() {
        let km = Keymap::default();
        for c in [' ', '@'] {
            let ev = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
            assert_eq!(km.lookup(&ev), Some(Action::MarkAll), "Ctrl-{c}");
        }
        assert_eq!(Key::parse("ctrl-space"), Some(Key::ctrl(' ')));
        assert_eq!(Key::parse("space"), Some(Key::ch(' ')));
        assert_eq!(Key::ctrl(' ').to_string(), "Ctrl-Space");
    }

    #[test]
    fn read_only_help_hides_mutations() {
        let rows = Keymap::default().help_rows(true);
        // Every mutation is gone, and so are the marks, which are only for bulk changes.
        for (_, d) in &rows {
            for word in ["edit scale", "edit probes", "delete", "start or stop", "create", "mark"] {
                assert!(!d.contains(word), "read-only help offers {word:?}: {d}");
            }
        }
        let writable = Keymap::default().help_rows(false);
        assert!(writable.iter().any(|(_, d)| d.contains("clear the marks")), "{writable:?}");
        assert!(writable.iter().any(|(_, d)| d.starts_with("edit scale")), "{writable:?}");
    }
}
