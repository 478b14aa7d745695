//! The review of a settings file edited in `$EDITOR`, drawn over the dashboard.

use super::block;
use crate::app::editor::{EditorReview, ReviewStage};
use crate::app::state::State;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, review: &EditorReview) {
    let t = &state.theme;
    let reveal = state.reveal_envs.as_ref() == Some(&review.job.key);
    let mut lines: Vec<Line> = Vec::new();
    let footer: Vec<Line> = match &review.stage {
        ReviewStage::Confirm => {
            lines.push(Line::from(Span::styled("These changes will be sent:", t.title)));
            for d in review.lines(reveal) {
                lines.push(Line::from(Span::styled(sanitize(&d).into_owned(), t.accent)));
            }
            if !reveal && !review.settings.envs.is_empty() {
                lines.push(Line::from(Span::styled(
                    "  (env values hidden: v on the table shows them)",
                    t.dim,
                )));
            }
            lines.extend(super::cost::review_lines(state));
            vec![Line::from(Span::styled(" y apply · e back to the editor · n or Esc cancel", t.header))]
        }
        ReviewStage::Applying => {
            lines.push(Line::from(Span::styled(
                "Applying… waiting for the provider to accept the change.",
                t.progressing,
            )));
            vec![]
        }
        ReviewStage::Conflict { changes, .. } => {
            lines.push(Line::from(Span::styled(
                "The deployment changed since the file was written. Nothing was sent. What changed:",
                t.warning,
            )));
            for c in changes {
                lines.push(Line::from(Span::raw(sanitize(c).into_owned())));
            }
            vec![Line::from(Span::styled(
                " e edit again from the latest settings · Esc close (nothing sent)",
                t.header,
            ))]
        }
        ReviewStage::Failed(msg) => {
            lines.push(Line::from(Span::styled(format!("✗ not applied: {}", sanitize(msg)), t.failed)));
            vec![Line::from(Span::styled(" e back to the editor (the error on top) · Esc close", t.header))]
        }
    };
    let want = (lines.len() + footer.len() + 3) as u16;
    let r = centered(area, 96, want.min(area.height.saturating_sub(2)).max(8));
    f.render_widget(Clear, r);
    let title = format!("Edit: {} ({})", sanitize(&review.job.base.name), review.job.key.provider);
    let blk = block(&title, true, state);
    let inner = blk.inner(r);
    f.render_widget(blk, r);
    let body_h = inner.height.saturating_sub(footer.len() as u16);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        Rect::new(inner.x, inner.y, inner.width, body_h),
    );
    let fy = inner.y + body_h;
    f.render_widget(
        Paragraph::new(footer).wrap(Wrap { trim: true }),
        Rect::new(inner.x, fy, inner.width, inner.bottom().saturating_sub(fy)),
    );
}
