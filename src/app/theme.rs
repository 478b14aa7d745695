//! Colours. `dark` is the default; `light` stays readable on light terminals; `mono` (also when `NO_COLOR`
//! is set) uses only bold, dim, underline and reverse.

use crate::model::Health;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    Mono,
}

impl ThemeName {
    pub fn parse(s: &str) -> Option<ThemeName> {
        match s.to_ascii_lowercase().as_str() {
            "dark" => Some(ThemeName::Dark),
            "light" => Some(ThemeName::Light),
            "mono" | "monochrome" | "none" => Some(ThemeName::Mono),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub name: ThemeName,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub header: Style,
    pub selected: Style,
    pub ok: Style,
    pub progressing: Style,
    pub warning: Style,
    pub failed: Style,
    pub inactive: Style,
    pub accent: Style,
    pub toast: Style,
    /// Marked rows (with the ● glyph, so they show in every theme).
    pub marked: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    pub fn named(name: ThemeName) -> Theme {
        match name {
            ThemeName::Dark => Theme::dark(),
            ThemeName::Light => Theme::light(),
            ThemeName::Mono => Theme::mono(),
        }
    }

    pub fn dark() -> Theme {
        Theme {
            name: ThemeName::Dark,
            text: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::DarkGray),
            border_focus: Style::new().fg(Color::Cyan),
            header: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Rgb(40, 60, 90)).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Green),
            progressing: Style::new().fg(Color::Cyan),
            warning: Style::new().fg(Color::Yellow),
            failed: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            inactive: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Magenta),
            toast: Style::new().fg(Color::White).bg(Color::Red),
            marked: Style::new().fg(Color::LightMagenta).add_modifier(Modifier::BOLD),
        }
    }

    pub fn light() -> Theme {
        Theme {
            name: ThemeName::Light,
            text: Style::new().fg(Color::Black),
            dim: Style::new().fg(Color::Rgb(100, 100, 100)),
            title: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::Rgb(140, 140, 140)),
            border_focus: Style::new().fg(Color::Blue),
            header: Style::new().fg(Color::Rgb(120, 60, 0)).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Rgb(200, 220, 255)).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Rgb(0, 120, 0)),
            progressing: Style::new().fg(Color::Blue),
            warning: Style::new().fg(Color::Rgb(160, 90, 0)),
            failed: Style::new().fg(Color::Rgb(180, 0, 0)).add_modifier(Modifier::BOLD),
            inactive: Style::new().fg(Color::Rgb(110, 110, 110)),
            accent: Style::new().fg(Color::Magenta),
            toast: Style::new().fg(Color::White).bg(Color::Rgb(180, 0, 0)),
            marked: Style::new().fg(Color::Rgb(130, 0, 130)).add_modifier(Modifier::BOLD),
        }
    }

    pub fn mono() -> Theme {
        let plain = Style::new();
        Theme {
            name: ThemeName::Mono,
            text: plain,
            dim: plain.add_modifier(Modifier::DIM),
            title: plain.add_modifier(Modifier::BOLD),
            border: plain,
            border_focus: plain.add_modifier(Modifier::BOLD),
            header: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED),
            ok: plain,
            progressing: plain.add_modifier(Modifier::ITALIC),
            warning: plain.add_modifier(Modifier::BOLD),
            failed: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            inactive: plain.add_modifier(Modifier::DIM),
            accent: plain.add_modifier(Modifier::BOLD),
            toast: plain.add_modifier(Modifier::REVERSED),
            marked: plain.add_modifier(Modifier::BOLD | Modifier::ITALIC),
        }
    }

    pub fn health(&self, h: Health) -> Style {
        match h {
            Health::Ok => self.ok,
            Health::Progressing => self.progressing,
            Health::Warning => self.warning,
            Health::Failed => self.failed,
            Health::Inactive => self.inactive,
            Health::Unknown => self.warning,
        }
    }

    /// Colour of a ready/total pair.
    pub fn readiness(&self, ready: u32, total: u32) -> Style {
        if total == 0 {
            self.inactive
        } else if ready >= total {
            self.ok
        } else if ready == 0 {
            self.failed
        } else {
            self.warning
        }
    }
}
