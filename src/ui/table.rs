//! The deployments table. Only the visible rows are built, so a frame costs the same for 10 or 10,000
//! deployments.

use super::{block, fmt_age};
use crate::app::state::{Pane, Row as DataRow, SortKey, State};
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Provider,
    Account,
    Name,
    Status,
    Regions,
    Ready,
    Image,
    Hardware,
    Price,
    Age,
    Data,
}

impl Col {
    fn title(self) -> &'static str {
        match self {
            Col::Provider => "PROVIDER",
            Col::Account => "ACCOUNT",
            Col::Name => "NAME",
            Col::Status => "STATUS",
            Col::Regions => "REGIONS",
            Col::Ready => "READY",
            Col::Image => "IMAGE",
            Col::Hardware => "HARDWARE",
            Col::Price => "$/H",
            Col::Age => "AGE",
            Col::Data => "DATA",
        }
    }

    fn width(self) -> Constraint {
        match self {
            Col::Provider => Constraint::Length(8),
            Col::Account => Constraint::Length(14),
            Col::Name => Constraint::Min(18),
            Col::Status => Constraint::Length(17),
            Col::Regions => Constraint::Length(22),
            Col::Ready => Constraint::Length(7),
            Col::Image => Constraint::Fill(1),
            Col::Hardware => Constraint::Length(22),
            Col::Price => Constraint::Length(6),
            Col::Age => Constraint::Length(4),
            Col::Data => Constraint::Length(9),
        }
    }
}

/// Columns that fit the width, most important first; the sort column always shows.
fn columns(width: u16, sort: SortKey) -> Vec<Col> {
    let mut cols = columns_for_width(width);
    if sort == SortKey::Price && !cols.contains(&Col::Price) {
        let before_age = cols.iter().position(|c| *c == Col::Age).unwrap_or(cols.len());
        cols.insert(before_age, Col::Price);
        // Room for it: hardware is the least needed of the rest.
        cols.retain(|c| *c != Col::Hardware);
    }
    cols
}

fn columns_for_width(width: u16) -> Vec<Col> {
    use Col::*;
    if width >= 180 {
        vec![Provider, Account, Name, Status, Regions, Ready, Image, Hardware, Price, Age, Data]
    } else if width >= 140 {
        vec![Provider, Account, Name, Status, Regions, Ready, Hardware, Price, Age, Data]
    } else if width >= 110 {
        vec![Provider, Name, Status, Regions, Ready, Hardware, Age, Data]
    } else {
        vec![Provider, Name, Status, Ready, Age, Data]
    }
}

fn cell<'a>(col: Col, row: &'a DataRow, state: &State) -> Cell<'a> {
    let t = &state.theme;
    // The same snapshot the regions pane and details show.
    let d = state.snapshot(row);
    match col {
        Col::Provider => Cell::from(Span::styled(d.key.provider.label(), t.dim)),
        Col::Account => Cell::from(sanitize(&d.key.account).into_owned()),
        // A marked row carries ● (every theme, mono too); with marks, unmarked names keep their column.
        Col::Name if state.marks.contains(&d.key) => {
            Cell::from(Span::styled(format!("● {}", sanitize(&d.name)), t.marked))
        }
        Col::Name if !state.marks.is_empty() => Cell::from(format!("  {}", sanitize(&d.name))),
        Col::Name => Cell::from(sanitize(&d.name).into_owned()),
        Col::Status => {
            if let Some(f) = state.in_flight.get(&d.key) {
                // Sent and not confirmed yet: what the row is waiting for, not what it was.
                Cell::from(Span::styled(format!("⏳ {}", f.label()), t.progressing))
            } else if state.pending.contains_key(&d.key) {
                Cell::from(Span::styled(format!("⟳ {}", d.status.label()), t.progressing))
            } else {
                Cell::from(Span::styled(d.status.label(), t.health(d.health())))
            }
        }
        // Not read yet: the list does not carry them (the details sweep fills them in).
        Col::Regions | Col::Ready if row.awaiting_details(&state.accounts) => {
            Cell::from(Span::styled("…", t.dim))
        }
        Col::Regions => {
            let names: Vec<String> = d.regions.iter().map(|r| r.display_name()).collect();
            Cell::from(names.join(","))
        }
        Col::Ready => {
            let (r, tot) = (d.ready(), d.total());
            Cell::from(Span::styled(format!("{r}/{tot}"), t.readiness(r, tot)))
        }
        Col::Image => {
            Cell::from(Span::styled(sanitize(d.image.as_deref().unwrap_or("-")).into_owned(), t.dim))
        }
        Col::Hardware => Cell::from(sanitize(d.hardware.as_deref().unwrap_or("-")).into_owned()),
        Col::Price => Cell::from(match d.price_per_hour {
            Some(p) => format!("{p:.2}"),
            None => "-".into(),
        }),
        Col::Age => Cell::from(match d.created_at {
            Some(c) => fmt_age((state.now - c).num_seconds()),
            None => "-".into(),
        }),
        Col::Data => {
            let age = fmt_age((state.now - row.fetched_at).num_seconds());
            if state.row_is_stale(row) {
                Cell::from(Span::styled(format!("STALE {age}"), t.failed))
            } else {
                Cell::from(Span::styled(age, t.dim))
            }
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let focused = state.focus == Pane::Deployments;
    let title = format!(
        "Deployments [{}/{}]",
        if state.view.is_empty() { 0 } else { state.selected + 1 },
        state.view.len()
    );
    let blk = block(&title, focused, state);
    if state.view.is_empty() {
        let msg = if state.rows.is_empty() {
            if state.accounts.iter().any(|a| a.last_ok.is_some() || a.last_error.is_some()) {
                "No deployments."
            } else {
                "Loading…"
            }
        } else {
            "No deployment matches the filter (Esc clears it)."
        };
        f.render_widget(Paragraph::new(Line::from(Span::styled(msg, t.dim))).block(blk), area);
        return;
    }
    let cols = columns(area.width, state.sort);
    let height = area.height.saturating_sub(3) as usize;
    let start = state.table_offset.min(state.view.len().saturating_sub(1));
    let end = (start + height).min(state.view.len());
    let rows: Vec<Row> = state.view[start..end]
        .iter()
        .map(|&i| {
            let row = &state.rows[i];
            let r = Row::new(cols.iter().map(|&c| cell(c, row, state)).collect::<Vec<_>>());
            if state.marks.contains(&row.dep.key) { r.style(t.marked) } else { r }
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| Cell::from(c.title())).collect::<Vec<_>>()).style(t.header);
    let table = Table::new(rows, cols.iter().map(|c| c.width()).collect::<Vec<_>>())
        .header(header)
        .block(blk)
        .row_highlight_style(if focused {
            t.selected
        } else {
            t.selected.remove_modifier(ratatui::style::Modifier::BOLD)
        })
        .column_spacing(1);
    let mut ts = TableState::default();
    if state.selected >= start && state.selected < end {
        ts.select(Some(state.selected - start));
    }
    f.render_stateful_widget(table, area, &mut ts);
}
