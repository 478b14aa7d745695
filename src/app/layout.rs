//! Where each part of the screen goes: one geometry for drawing (`ui`) and for hit-testing the mouse and
//! sizing the table (`app`), so the two never disagree.

use ratatui::layout::{Constraint, Layout, Rect};

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub table: Rect,
    /// Regions pane; empty when the bottom shows only one pane (narrow terminals).
    pub regions: Rect,
    /// The tabbed pane (details, logging, metrics, logs).
    pub tabs: Rect,
    pub status: Rect,
    pub bar: Rect,
}

/// Terminals narrower than this show one bottom pane at a time.
pub const WIDE: u16 = 100;

pub fn layout(area: Rect) -> Areas {
    let [header, body, status, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [table, bottom] =
        Layout::vertical([Constraint::Percentage(52), Constraint::Percentage(48)]).areas(body);
    let (regions, tabs) = if area.width >= WIDE {
        let [r, t] =
            Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(bottom);
        (r, t)
    } else {
        (bottom, bottom)
    };
    Areas { header, table, regions, tabs, status, bar }
}
