//! The edit forms and the confirmation dialogs, drawn over the dashboard.

use super::block;
use crate::app::form::{FieldKind, Form, FormKind, Stage};
use crate::app::state::State;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

pub fn draw_form(f: &mut Frame, area: Rect, state: &State, form: &Form) {
    let t = &state.theme;
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0usize;
    let footer: Vec<Line>;
    match &form.stage {
        Stage::Edit | Stage::Failed(_) => {
            for (si, s) in form.sections.iter().enumerate() {
                let mut head = vec![Span::styled(sanitize(&s.title).into_owned(), t.title)];
                if let Some(id) = &s.region_id
                    && form.per_region
                {
                    head.push(Span::styled(format!("  (region {})", sanitize(id)), t.dim));
                }
                lines.push(Line::from(head));
                for (fi, field) in s.fields.iter().enumerate() {
                    let focused = form.focus == (si, fi);
                    if focused {
                        focus_line = lines.len();
                    }
                    let shown = match field.kind {
                        FieldKind::Choice(_) => format!("‹ {} ›", field.input.value()),
                        _ => sanitize(field.input.value()).into_owned(),
                    };
                    let value_style = if focused {
                        t.selected
                    } else if field.changed() {
                        t.accent
                    } else {
                        t.text
                    };
                    let mut spans = vec![
                        Span::styled(if focused { " ▶ " } else { "   " }, t.accent),
                        Span::styled(format!("{:<17}", field.label), t.header),
                        Span::styled(format!("[{shown:<16}]"), value_style),
                    ];
                    if field.changed() && !field.initial.starts_with('\u{0}') {
                        spans.push(Span::styled(format!(" was {}", sanitize(&field.initial)), t.dim));
                    }
                    if let Some(n) = form.notice.filter(|_| focused) {
                        spans.push(Span::styled(format!("  ✗ {n}"), t.warning));
                    } else if let Some(e) = &field.error {
                        spans.push(Span::styled(format!("  ✗ {e}"), t.failed));
                    }
                    lines.push(Line::from(spans));
                }
            }
            for e in &form.general_errors {
                lines.push(Line::from(Span::styled(format!("✗ {}", sanitize(e)), t.failed)));
            }
            let has_choice = form
                .sections
                .iter()
                .flat_map(|s| &s.fields)
                .any(|f| matches!(f.kind, crate::app::form::FieldKind::Choice(_)));
            let space = if has_choice { " · Space cycles a choice" } else { "" };
            let mut foot = vec![Line::from(Span::styled(
                format!(" Tab/↓ next · Shift-Tab/↑ previous{space} · Enter review · Esc cancel"),
                t.dim,
            ))];
            if form.per_region && form.kind == FormKind::Scale {
                let add = match form.addable_regions().first() {
                    Some(c) => format!(
                        " Ctrl-N add {}{} · ",
                        sanitize(&c.name),
                        c.capacity.map(|n| format!(" (capacity {n})")).unwrap_or_default()
                    ),
                    None => " ".to_string(),
                };
                foot.push(Line::from(Span::styled(format!("{add}Ctrl-D remove this region"), t.dim)));
            }
            if let Stage::Failed(msg) = &form.stage {
                foot.insert(
                    0,
                    Line::from(Span::styled(
                        format!("✗ not applied: {} (any key: back to the form)", sanitize(msg)),
                        t.failed,
                    )),
                );
            }
            footer = foot;
        }
        Stage::Confirm(diff) => {
            lines.push(Line::from(Span::styled("These changes will be sent:", t.title)));
            for d in diff {
                lines.push(Line::from(Span::styled(sanitize(d).into_owned(), t.accent)));
            }
            if form.kind == FormKind::Scale {
                lines.extend(super::cost::review_lines(state));
            }
            footer = vec![Line::from(Span::styled(" y apply · n or Esc back to the form", t.header))];
        }
        Stage::Applying => {
            lines.push(Line::from(Span::styled(
                "Applying… waiting for the provider to accept the change.",
                t.progressing,
            )));
            footer = vec![];
        }
        Stage::PickSource(pick) => {
            let (body, foot, focus) =
                super::model_pick::body(state, form, pick, area.width.min(96).saturating_sub(2) as usize);
            lines = body;
            focus_line = focus;
            footer = foot;
        }
        Stage::Conflict { changes, .. } => {
            lines.push(Line::from(Span::styled(
                "The deployment changed since this form opened. Nothing was sent. What changed:",
                t.warning,
            )));
            for c in changes {
                lines.push(Line::from(Span::raw(sanitize(c).into_owned())));
            }
            footer = vec![Line::from(Span::styled(
                " y review your edit on top of the latest · n back to the form (with the latest values)",
                t.header,
            ))];
        }
    }
    // The footer as it wraps at the form's width: every key it names stays on screen, on a narrow one too.
    let width = 96.min(area.width);
    let footer = Paragraph::new(footer).wrap(Wrap { trim: true });
    let footer_h = footer.line_count(width.saturating_sub(2)) as u16;
    // As tall as the content needs, so the dashboard stays visible around a short form.
    let want = lines.len() as u16 + footer_h + 3;
    let r = centered(area, width, want.min(area.height.saturating_sub(2)).max(8));
    f.render_widget(Clear, r);
    let what = match form.kind {
        FormKind::Scale => "Scale",
        FormKind::Probes => "Probes",
    };
    let title = format!("{what}: {} ({})", sanitize(&form.base.name), form.provider);
    let blk = block(&title, true, state);
    let inner = blk.inner(r);
    f.render_widget(blk, r);
    let body_h = inner.height.saturating_sub(footer_h) as usize;
    // Scroll so the focused field stays visible.
    let offset = focus_line.saturating_sub(body_h.saturating_sub(2));
    let body: Vec<Line> = lines.into_iter().skip(offset).take(body_h).collect();
    f.render_widget(Paragraph::new(body), Rect::new(inner.x, inner.y, inner.width, body_h as u16));
    let fy = inner.y + body_h as u16;
    f.render_widget(footer, Rect::new(inner.x, fy, inner.width, inner.bottom().saturating_sub(fy)));
}
