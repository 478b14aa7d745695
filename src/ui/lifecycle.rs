//! The start / stop / delete confirm prompt.

use super::block;
use super::form::centered;
use crate::app::state::{Confirm, LifecycleOp, State};
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw_confirm(f: &mut Frame, area: Rect, state: &State, c: &Confirm) {
    let t = &state.theme;
    let r = centered(area, 74, 9);
    f.render_widget(Clear, r);
    let what = sanitize(&c.what).into_owned();
    let lines = match c.op {
        LifecycleOp::Start | LifecycleOp::Stop => vec![
            Line::from(Span::styled(what, t.title)),
            Line::from(""),
            Line::from(Span::styled("y yes · n or Esc no", t.header)),
        ],
        LifecycleOp::Delete => vec![
            Line::from(Span::styled(format!("{what} This cannot be undone."), t.failed)),
            Line::from(Span::styled("Type the deployment's name and press Enter (Esc cancels):", t.text)),
            Line::from(vec![Span::styled("> ", t.accent), Span::raw(sanitize(c.input.value()).into_owned())]),
        ],
    };
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block(
            capital(c.op.verb()).as_str(),
            true,
            state,
        )),
        r,
    );
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
