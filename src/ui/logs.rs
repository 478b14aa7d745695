//! The logs tab: the selected deployment's log lines, newest last, scrollable.

use super::{block, empty};
use crate::app::state::State;
use crate::model::Deployment;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn logs(f: &mut Frame, area: Rect, state: &State, focused: bool) {
    let Some(row) = state.selected_row() else {
        return empty(f, area, "Logs", focused, state, "Select a deployment.");
    };
    let t = &state.theme;
    if !state.accounts[row.account].capabilities.logs {
        let msg = format!("{} offers no logs API.", row.dep.key.provider);
        return empty(f, area, "Logs", focused, state, &msg);
    }
    let d: &Deployment = state.selected_deployment().unwrap_or(&row.dep);
    let cache = state.selected_cache();
    let only = state.logs_region.as_deref();
    let lines_all: Vec<&crate::model::LogLine> = cache
        .map(|c| c.logs.iter().filter(|l| only.is_none_or(|r| l.region_id == r)).collect())
        .unwrap_or_default();
    let title = match only {
        Some(r) => {
            let name = d
                .regions
                .iter()
                .find(|x| x.region_id == r)
                .map(|x| x.display_name())
                .unwrap_or_else(|| r.to_string());
            format!("Logs: {name} (newest last; Enter on a region in Regions picks another)")
        }
        None => "Logs: all regions (newest last; Enter on a region in Regions tails just it)".to_string(),
    };
    let blk = block(&title, focused, state);
    let inner = blk.inner(area);
    let h = inner.height as usize;
    let end = lines_all.len().saturating_sub(state.logs_scroll);
    // Long lines wrap (a message is never cut at the pane's edge): from the newest shown back, as many lines
    // as fill the pane, the oldest of them cut at the top when it does not fit whole.
    let line = |l: &crate::model::LogLine| {
        let region = d
            .regions
            .iter()
            .find(|r| r.region_id == l.region_id)
            .map(|r| r.display_name())
            .unwrap_or_else(|| sanitize(&l.region_id).into_owned());
        Line::from(vec![
            Span::styled(l.time.format("%H:%M:%S ").to_string(), t.dim),
            Span::styled(format!("{region:<12} "), t.accent),
            Span::styled(format!("{} ", sanitize(&l.pod)), t.dim),
            Span::raw(sanitize(&l.message).into_owned()),
        ])
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut rows = 0usize;
    for l in lines_all[..end].iter().rev() {
        if rows >= h {
            break;
        }
        let l = line(l);
        rows += Paragraph::new(l.clone()).wrap(Wrap { trim: false }).line_count(inner.width).max(1);
        lines.push(l);
    }
    lines.reverse();
    let over = u16::try_from(rows.saturating_sub(h)).unwrap_or(u16::MAX);
    if lines.is_empty() {
        let msg = match cache.and_then(|c| c.logs_error.as_ref()) {
            Some(e) => Span::styled(sanitize(&e.to_string()).into_owned(), t.failed),
            None => Span::styled("Waiting for logs…", t.dim),
        };
        lines.push(Line::from(msg));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((over, 0)).block(blk), area);
}
