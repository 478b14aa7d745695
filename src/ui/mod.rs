//! Drawing: a pure function of `&State`. Nothing here mutates state or does I/O. Every string that came from
//! the network goes through `model::text::sanitize` before it reaches the buffer.

pub mod bulk;
pub mod catalog;
pub mod cost;
pub mod create;
pub mod details;
pub mod editor;
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
        Mode::Editor(r) => editor::draw(f, area, state, r),
        Mode::Bulk => bulk::draw(f, area, state),
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

/// A number as it may be shown in `width` cells: whole when it fits, else cut and ending in `…`, so that a cut
/// number never reads as another (`1150/1200` is never `1150/12`).
pub fn fit_number(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.chars().count() <= width {
        return text.to_string();
    }
    match width {
        0 => String::new(),
        w => text.chars().take(w - 1).chain(['…']).collect(),
    }
}

/// The widths a bordered [`ratatui::widgets::Table`] of `area` without a highlight symbol and with
/// `spacing` between columns gives `widths` (the same layout the table makes): what each column really has.
pub fn table_column_widths(widths: &[ratatui::layout::Constraint], area: Rect, spacing: u16) -> Vec<u16> {
    let inner = Rect::new(0, 0, area.width.saturating_sub(2), 1);
    ratatui::layout::Layout::horizontal(widths.iter().copied())
        .flex(ratatui::layout::Flex::Start)
        .spacing(spacing)
        .split(inner)
        .iter()
        .map(|r| r.width)
        .collect()
}

/// A column at least `min` wide that widens to its title and to the widest of `values`.
pub fn number_column<'a>(
    min: u16,
    title: &str,
    values: impl Iterator<Item = &'a str>,
) -> ratatui::layout::Constraint {
    let widest = values.map(|v| v.chars().count()).max().unwrap_or(0).max(title.chars().count());
    ratatui::layout::Constraint::Length(min.max(u16::try_from(widest).unwrap_or(u16::MAX)))
}
