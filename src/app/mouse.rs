//! The mouse: wheel scrolls the focused pane, a click focuses a pane or selects a row. Hit-testing uses the
//! same layout the drawing uses.

use super::state::{Mode, Pane, State};
use super::table::{focus, move_in_pane, select};
use crossterm::event::{MouseEvent, MouseEventKind};

pub(super) fn on_mouse(state: &mut State, m: MouseEvent) {
    if state.mode != Mode::Normal {
        return;
    }
    let areas = super::layout::layout(ratatui::layout::Rect::new(0, 0, state.width, state.height));
    let inside = |r: ratatui::layout::Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    match m.kind {
        MouseEventKind::ScrollDown => move_in_pane(state, 1),
        MouseEventKind::ScrollUp => move_in_pane(state, -1),
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
            if inside(areas.table) {
                focus(state, Pane::Deployments);
                // Border and header take the first two lines.
                let first = areas.table.y + 2;
                if m.row >= first && m.row < areas.table.y + areas.table.height.saturating_sub(1) {
                    let pos = state.table_offset + (m.row - first) as usize;
                    if pos < state.view.len() {
                        select(state, pos);
                    }
                }
            } else if state.width >= super::layout::WIDE && inside(areas.regions) {
                focus(state, Pane::Regions);
            } else if inside(areas.tabs) {
                focus(state, state.tab);
            }
        }
        _ => {}
    }
}
