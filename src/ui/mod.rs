//! Drawing: a pure function of `&State`. Nothing here mutates state or does I/O. Every string that came from
//! the network goes through `model::text::sanitize` before it reaches the buffer.

pub mod catalog;
pub mod create;
pub mod details;
pub mod form;
pub mod help;
pub mod lifecycle;
pub mod logs;
pub mod metrics;
pub mod model_pick;
pub mod regions;
pub mod status;
pub mod table;
pub use crate::app::layout::{Areas, WIDE, layout};
pub use crate::app::theme;

use crate::app::state::{Mode, Pane, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Paragraph};

/// Draws the whole dashboard.
pub fn draw(f: &mut Frame, state: &State) {
    let area = f.area();
    let a = layout(area);
    status::header(f, a.header, state);
    table::draw(f, a.table, state);
    if area.width >= WIDE {
        regions::regions(f, a.regions, state);
        details::tabbed(f, a.tabs, state);
    } else if matches!(state.focus, Pane::Deployments | Pane::Regions) {
        regions::regions(f, a.regions, state);
    } else {
        details::tabbed(f, a.tabs, state);
    }
    status::status_line(f, a.status, state);
    status::bar(f, a.bar, state);
    status::toasts(f, area, state);
    match &state.mode {
        Mode::Help(view) => help::draw(f, area, state, view),
        Mode::Form(form) => form::draw_form(f, area, state, form),
        Mode::Confirm(c) => lifecycle::draw_confirm(f, area, state, c),
        Mode::Catalog(v) => catalog::draw(f, area, state, v),
        Mode::Create(c) => create::draw(f, area, state, c),
        _ => {}
    }
}

/// `5s`, `3m`, `4h`, `12d`.
pub fn fmt_age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86400)
    }
}

/// A bordered block whose border shows focus.
pub fn block<'a>(title: &'a str, focused: bool, state: &State) -> Block<'a> {
    let t = &state.theme;
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { t.border_focus } else { t.border })
        .title(Span::styled(format!(" {title} "), if focused { t.title } else { t.text }))
}

/// A pane with a message in place of its content.
pub(super) fn empty(f: &mut Frame, area: Rect, title: &str, focused: bool, state: &State, msg: &str) {
    f.render_widget(
        Paragraph::new(Span::styled(msg.to_string(), state.theme.dim)).block(block(title, focused, state)),
        area,
    );
}
