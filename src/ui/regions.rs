//! The regions pane: per-region readiness (ready/total against min/max) of the selected deployment.

use super::{block, empty, fit_number, number_column, table_column_widths};
use crate::app::state::{Pane, State};
use crate::model::Health;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

/// A bar of `width` cells: filled for ready, shaded for created-not-ready, empty for the rest up to max.
fn bar(ready: u32, total: u32, max: u32, width: usize) -> (String, String, String) {
    let scale = max.max(total).max(1) as f64;
    let r = ((ready as f64 / scale) * width as f64).round() as usize;
    let t = (((total as f64 / scale) * width as f64).round() as usize).max(r);
    let t = t.min(width);
    let r = r.min(t);
    ("█".repeat(r), "▒".repeat(t - r), "·".repeat(width - t))
}

pub fn regions(f: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Pane::Regions;
    let Some(d) = state.selected_deployment() else {
        return empty(f, area, "Regions", focused, state, "Select a deployment.");
    };
    let t = &state.theme;
    // The deployment's one health (see `Deployment::assess`): in the title when it is not ok, with its reason
    // where the pane has no region error to show instead.
    let (health, why) = d.assess();
    let title = match health {
        Health::Ok => format!("Regions: {}", sanitize(&d.name)),
        h => format!("Regions: {} ({})", sanitize(&d.name), h.label()),
    };
    if d.regions.is_empty() {
        let Some(why) = why.filter(|_| health == Health::Unknown) else {
            return empty(f, area, &title, focused, state, "No region data (yet).");
        };
        let text = format!("Health unknown: {why}");
        return f.render_widget(
            Paragraph::new(Span::styled(text, t.health(health)))
                .wrap(Wrap { trim: true })
                .block(block(&title, focused, state)),
            area,
        );
    }
    let wide = area.width >= 90;
    let bar_w = if wide { 10 } else { 6 };
    // READY and MIN..MAX widen to their widest value; a value that still does not fit ends in `…`.
    let ready: Vec<String> = d.regions.iter().map(|r| format!("{}/{}", r.ready, r.total)).collect();
    let bounds: Vec<String> = d.regions.iter().map(|r| format!("{}..{}", r.scale.min, r.scale.max)).collect();
    let mut widths = vec![
        Constraint::Length(14),
        Constraint::Length(bar_w as u16),
        number_column(7, "READY", ready.iter().map(String::as_str)),
        number_column(8, "MIN..MAX", bounds.iter().map(String::as_str)),
    ];
    if wide {
        widths.push(Constraint::Length(22));
    }
    widths.push(Constraint::Fill(1));
    let room = table_column_widths(&widths, area, 1);
    let rows: Vec<Row> = d
        .regions
        .iter()
        .zip(ready.iter().zip(&bounds))
        .map(|(r, (ready, bounds))| {
            let (a, b, c) = bar(r.ready, r.total, r.scale.max, bar_w);
            let style = t.readiness(r.ready, r.total);
            let mut cells = vec![
                Cell::from(r.display_name()),
                Cell::from(Line::from(vec![
                    Span::styled(a, style),
                    Span::styled(b, t.warning),
                    Span::styled(c, t.dim),
                ])),
                Cell::from(Span::styled(fit_number(ready, room[2]), style)),
                Cell::from(fit_number(bounds, room[3])),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(r.scale.triggers.summary(), t.dim)));
            }
            let err = r.error.as_deref().map(|e| sanitize(e).into_owned()).unwrap_or_default();
            cells.push(Cell::from(Span::styled(err, t.failed)));
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["REGION", "", "READY", "MIN..MAX"];
    if wide {
        header.push("TRIGGERS");
    }
    header.push("ERROR");
    let [table_area, err_area] = Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(area);
    // The error box: the picked region's error when the pane has focus, else the first region in trouble.
    let selected_err = if focused {
        d.regions.get(state.region_sel).and_then(|r| r.error.as_deref())
    } else {
        d.regions.iter().find_map(|r| r.error.as_deref())
    };
    // What could not be read comes before what was read.
    let unknown = why.filter(|_| health == Health::Unknown).map(|w| format!("Health unknown: {w}"));
    let selected_err = unknown.as_deref().or(selected_err);
    let table_area = if selected_err.is_some() && area.height > 8 { table_area } else { area };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header))
        .block(block(&title, focused, state))
        .row_highlight_style(if focused { t.selected } else { Style::new() })
        .column_spacing(1);
    let mut ts = TableState::default();
    ts.select(Some(state.region_sel.min(d.regions.len() - 1)));
    f.render_stateful_widget(table, table_area, &mut ts);
    if let Some(e) = selected_err
        && area.height > 8
    {
        f.render_widget(
            Paragraph::new(Span::styled(sanitize(e).into_owned(), t.failed))
                .wrap(Wrap { trim: true })
                .block(block(if unknown.is_some() { "Unknown" } else { "Error" }, false, state)),
            err_area,
        );
    }
}
