//! The create form, drawn over the dashboard: fields by section with their errors, the price of the
//! configuration at its maximum scale, the review before `y`, and the provider's refusal with the input kept.

use super::block;
use crate::app::catalog::CatalogEntry;
use crate::app::cost::spec_price_text;
use crate::app::create::{CKind, CStage, CreateForm};
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

pub fn draw(f: &mut Frame, area: Rect, state: &State, form: &CreateForm) {
    let t = &state.theme;
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0usize;
    let mut footer: Vec<Line> = Vec::new();
    let price = form
        .spec
        .as_ref()
        .map(|s| format!("price at max scale: {}", spec_price_text(state, form.account, s)));
    match &form.stage {
        CStage::Edit | CStage::Failed(_) => {
            match state.catalogs.by_account.get(&form.account) {
                None | Some(CatalogEntry::Loading) => lines.push(Line::from(Span::styled(
                    "loading the catalog… (choices appear when it arrives)",
                    t.progressing,
                ))),
                Some(CatalogEntry::Failed(e)) => lines.push(Line::from(Span::styled(
                    format!("✗ no catalog: {}", sanitize(&e.to_string())),
                    t.failed,
                ))),
                Some(CatalogEntry::Loaded { .. }) => {}
            }
            let mut group = "";
            for (i, field) in form.fields.iter().enumerate() {
                if field.group != group {
                    group = &field.group;
                    lines.push(Line::from(Span::styled(sanitize(group).into_owned(), t.title)));
                }
                let focused = form.focus == i;
                if focused {
                    focus_line = lines.len();
                }
                let shown = match &field.kind {
                    CKind::Pick(_) => format!("‹ {} ›", sanitize(&field.shown())),
                    _ => sanitize(&field.shown()).into_owned(),
                };
                let mut spans = vec![
                    Span::styled(if focused { " ▶ " } else { "   " }, t.accent),
                    Span::styled(format!("{:<15}", field.label), t.header),
                    Span::styled(format!("[{shown:<24}]"), if focused { t.selected } else { t.text }),
                ];
                if let Some(e) = &field.error {
                    spans.push(Span::styled(format!("  ✗ {}", sanitize(e)), t.failed));
                }
                lines.push(Line::from(spans));
            }
            for e in &form.general_errors {
                lines.push(Line::from(Span::styled(format!("✗ {}", sanitize(e)), t.failed)));
            }
            if let CStage::Failed(msg) = &form.stage {
                footer.push(Line::from(Span::styled(
                    format!("✗ not created: {} (any key: back to the form)", sanitize(msg)),
                    t.failed,
                )));
            }
            match &price {
                Some(p) => footer.push(Line::from(Span::styled(p.clone(), t.accent))),
                None => footer.push(Line::from(Span::styled(
                    format!(
                        "{} field(s) need attention before the price and review",
                        form.error_count().max(1)
                    ),
                    t.warning,
                ))),
            }
            footer.push(Line::from(Span::styled(
                "Tab/↓ next · Shift-Tab/↑ previous · Space/←/→ choose · Enter review · Esc cancel",
                t.dim,
            )));
            if form.provider != crate::model::ProviderKind::Runai {
                footer
                    .push(Line::from(Span::styled("Ctrl-N add a region · Ctrl-D remove this region", t.dim)));
            }
        }
        CStage::Review(review) => {
            lines.push(Line::from(Span::styled("This deployment will be created:", t.title)));
            for l in review {
                lines.push(Line::from(Span::styled(sanitize(l).into_owned(), t.accent)));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(price.clone().unwrap_or_default(), t.header)));
            lines.extend(super::cost::review_lines(state));
            footer.push(Line::from(Span::styled(" y create · n or Esc back to the form", t.header)));
        }
        CStage::Creating => {
            lines.push(Line::from(Span::styled(
                "Creating… waiting for the provider to accept it (Gcore: following its task).",
                t.progressing,
            )));
        }
    }
    let r_w = 100.min(area.width);
    // Footer lines wrap: count the rows they take at this width.
    let row_w = r_w.saturating_sub(2).max(1) as usize;
    let foot_rows: usize = footer.iter().map(|l| l.width().max(1).div_ceil(row_w)).sum();
    let want = (lines.len() + foot_rows + 3) as u16;
    let r = centered(area, r_w, want.min(area.height.saturating_sub(2)).max(8));
    f.render_widget(Clear, r);
    let acct = state.accounts.get(form.account).map(|a| sanitize(&a.name).into_owned()).unwrap_or_default();
    let title = format!("Create a deployment on {acct} ({})", form.provider);
    let blk = block(&title, true, state);
    let inner = blk.inner(r);
    f.render_widget(blk, r);
    let foot_h = (foot_rows as u16).min(inner.height);
    let body_h = inner.height.saturating_sub(foot_h) as usize;
    let offset = focus_line.saturating_sub(body_h.saturating_sub(2));
    let body: Vec<Line> = lines.into_iter().skip(offset).take(body_h).collect();
    f.render_widget(Paragraph::new(body), Rect::new(inner.x, inner.y, inner.width, body_h as u16));
    let fy = inner.y + body_h as u16;
    f.render_widget(
        Paragraph::new(footer).wrap(Wrap { trim: true }),
        Rect::new(inner.x, fy, inner.width, inner.bottom().saturating_sub(fy)),
    );
}
