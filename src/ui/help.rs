//! The help overlay, drawn from the lines `app::help` wraps, at the scroll position it keeps.

use super::block;
use crate::app::help::{HelpView, KEY_COL, geometry, lines};
use crate::app::state::State;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn draw(f: &mut Frame, area: Rect, state: &State, view: &HelpView) {
    let t = &state.theme;
    let (w, h, body) = geometry(area.width, area.height);
    let all = lines(state, view);
    // Short help needs no more room than it has lines.
    let h = h.min((all.len() + 3).max(6) as u16).min(area.height);
    let body = body.min(h.saturating_sub(3) as usize);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h);
    f.render_widget(Clear, r);
    let scroll = view.scroll.min(all.len().saturating_sub(body.max(1)));
    let mut text: Vec<Line> = all
        .iter()
        .skip(scroll)
        .take(body)
        .map(|l| {
            if l.heading {
                Line::from(Span::styled(l.keys.clone(), t.title))
            } else {
                Line::from(vec![
                    Span::styled(format!("{:<KEY_COL$} ", l.keys), t.header),
                    Span::styled(l.text.clone(), t.text),
                ])
            }
        })
        .collect();
    while text.len() < body {
        text.push(Line::from(""));
    }
    let shown_to = (scroll + body).min(all.len());
    let footer = if view.typing {
        Line::from(vec![
            Span::styled("/", t.accent),
            Span::raw(sanitize(view.filter.value()).into_owned()),
            Span::styled("   Enter keep · Esc clear", t.dim),
        ])
    } else if all.is_empty() {
        Line::from(Span::styled("nothing matches · / changes the filter · Esc ? q close", t.warning))
    } else {
        let filter = if view.filter.value().is_empty() {
            String::new()
        } else {
            format!("/{} · ", sanitize(view.filter.value()))
        };
        Line::from(Span::styled(
            format!(
                "{filter}{}–{} of {} · j/k PgUp/PgDn g/G scroll · / filter · Esc ? q close",
                scroll + 1,
                shown_to,
                all.len()
            ),
            t.dim,
        ))
    };
    if view.typing {
        let x = r.x + 2 + view.filter.cursor() as u16;
        f.set_cursor_position((x.min(r.right().saturating_sub(2)), r.y + 1 + body as u16));
    }
    text.push(footer);
    f.render_widget(Paragraph::new(text).block(block("Help", true, state)), r);
}
