//! The deployments table. Only the visible rows are built, so a frame costs the same for 10 or 10,000
//! deployments.

use super::{block, fit_number, fmt_age, number_column, table_column_widths};
use crate::app::state::{Pane, Row as DataRow, SortKey, State};
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
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
            Col::Price => "COST/H",
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
            Col::Price => Constraint::Length(10),
            Col::Age => Constraint::Length(4),
            Col::Data => Constraint::Length(9),
        }
    }

    /// A column of numbers: it widens to its widest value shown, and a value is never cut without a mark.
    fn is_number(self) -> bool {
        matches!(self, Col::Ready | Col::Price | Col::Age | Col::Data)
    }

    fn min_width(self) -> u16 {
        match self.width() {
            Constraint::Length(n) | Constraint::Min(n) => n,
            _ => 0,
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
                // The one health model: unknown is marked in every theme (mono has no colour to tell it by).
                let health = d.health();
                let label = match health {
                    crate::model::Health::Unknown => format!("? {}", d.status.label()),
                    _ => d.status.label(),
                };
                Cell::from(Span::styled(label, t.health(health)))
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
        Col::Ready | Col::Price | Col::Age | Col::Data => {
            let (text, style) = number(col, row, state).unwrap_or_default();
            Cell::from(Span::styled(text, style))
        }
        Col::Image => {
            Cell::from(Span::styled(sanitize(d.image.as_deref().unwrap_or("-")).into_owned(), t.dim))
        }
        Col::Hardware => Cell::from(sanitize(d.hardware.as_deref().unwrap_or("-")).into_owned()),
    }
}

/// The columns of free text that share what the fixed ones leave, by what the rows in view need.
const TEXT: [Col; 4] = [Col::Name, Col::Regions, Col::Hardware, Col::Image];

/// How wide a text column's cell is for a row (what [`cell`] draws).
fn text_width(col: Col, row: &DataRow, state: &State) -> usize {
    let d = &row.dep;
    let text = |s: &str| Span::raw(sanitize(s).into_owned()).width();
    match col {
        Col::Name => text(&d.name) + if state.marks.is_empty() { 0 } else { 2 },
        Col::Regions if row.awaiting_details(&state.accounts) => 1,
        Col::Regions => {
            let names: Vec<String> = state.snapshot(row).regions.iter().map(|r| r.display_name()).collect();
            Span::raw(names.join(",")).width()
        }
        Col::Hardware => text(d.hardware.as_deref().unwrap_or("-")),
        Col::Image => text(d.image.as_deref().unwrap_or("-")),
        _ => 0,
    }
}

/// Gives NAME, REGIONS, HARDWARE and IMAGE the room the rows in view need, shared fairly where there is not
/// enough for all (each first gets what it needs up to its usual width, then the rest goes one cell at a time
/// to the narrowest that still needs more); what is left over goes to NAME. On a screen too narrow even for
/// the usual widths, the widths stay as they are (and [`make_room`] takes over).
fn fit_text(widths: &mut [Constraint], cols: &[Col], visible: &[usize], state: &State, inner: u16) {
    let spacing = u16::try_from(cols.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let text: Vec<usize> = (0..cols.len()).filter(|&j| TEXT.contains(&cols[j])).collect();
    let fixed = (0..cols.len())
        .filter(|j| !text.contains(j))
        .map(|j| constraint_size(&widths[j]))
        .fold(spacing, u16::saturating_add);
    let usual = |c: Col| if c == Col::Image { 16 } else { c.min_width() };
    let Some(mut extra) = inner.checked_sub(fixed) else { return };
    let want: Vec<u16> = text
        .iter()
        .map(|&j| {
            let c = cols[j];
            let widest = visible.iter().map(|&i| text_width(c, &state.rows[i], state)).max().unwrap_or(0);
            u16::try_from(widest.max(c.title().len())).unwrap_or(u16::MAX)
        })
        .collect();
    let mut got: Vec<u16> = text.iter().zip(&want).map(|(&j, &w)| w.min(usual(cols[j]))).collect();
    let Some(left) = extra.checked_sub(got.iter().sum()) else { return };
    extra = left;
    while extra > 0 {
        let Some(k) = (0..got.len()).filter(|&k| got[k] < want[k]).min_by_key(|&k| got[k]) else { break };
        got[k] += 1;
        extra -= 1;
    }
    if let Some(k) = text.iter().position(|&j| cols[j] == Col::Name) {
        got[k] += extra;
    }
    for (&j, &w) in text.iter().zip(&got) {
        widths[j] = Constraint::Length(w);
    }
}

fn constraint_size(c: &Constraint) -> u16 {
    match c {
        Constraint::Length(n) | Constraint::Min(n) => *n,
        _ => 0,
    }
}

/// On a screen too narrow for every column, where a number would be cut, NAME and then STATUS give up room
/// (down to 8 cells each) first.
fn make_room(mut widths: Vec<Constraint>, cols: &[Col], inner: u16) -> Vec<Constraint> {
    let size = constraint_size;
    let spacing = u16::try_from(cols.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let need = widths.iter().map(size).fold(spacing, u16::saturating_add);
    let mut over = need.saturating_sub(inner);
    for give in [Col::Name, Col::Status] {
        let Some(j) = cols.iter().position(|c| *c == give) else { continue };
        let has = size(&widths[j]);
        let less = over.min(has.saturating_sub(8));
        over -= less;
        widths[j] = match widths[j] {
            Constraint::Min(_) => Constraint::Min(has - less),
            _ => Constraint::Length(has - less),
        };
    }
    widths
}

/// The text and style of a number column's cell (READY, COST/H, AGE, DATA); None for the other columns, and for
/// READY not read yet (drawn `…` by [`cell`]).
fn number(col: Col, row: &DataRow, state: &State) -> Option<(String, Style)> {
    let t = &state.theme;
    let d = state.snapshot(row);
    match col {
        Col::Ready if row.awaiting_details(&state.accounts) => None,
        Col::Ready => {
            let (r, tot) = (d.ready(), d.total());
            Some((format!("{r}/{tot}"), t.readiness(r, tot)))
        }
        // The same cost per hour as the header sums and the reviews show, in its currency; `-` where unknown.
        Col::Price => Some((
            crate::app::cost::deployment_cost(state, row.account, d)
                .map_or_else(|| "-".into(), |(currency, v)| format!("{v:.2} {currency}")),
            Style::new(),
        )),
        Col::Age => Some((
            d.created_at.map_or_else(|| "-".into(), |c| fmt_age((state.now - c).num_seconds())),
            Style::new(),
        )),
        Col::Data => {
            let age = fmt_age((state.now - row.fetched_at).num_seconds());
            Some(if state.row_is_stale(row) { (format!("STALE {age}"), t.failed) } else { (age, t.dim) })
        }
        _ => None,
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
    let visible = &state.view[start..end];
    // The numbers first: their columns widen to the widest shown, and where the screen is too narrow even so,
    // a number that does not fit ends in `…` rather than reading as another.
    let numbers: Vec<Vec<Option<(String, Style)>>> =
        visible.iter().map(|&i| cols.iter().map(|&c| number(c, &state.rows[i], state)).collect()).collect();
    let mut widths: Vec<Constraint> = cols
        .iter()
        .enumerate()
        .map(|(j, c)| {
            if c.is_number() {
                let values = numbers.iter().filter_map(|r| r[j].as_ref().map(|(s, _)| s.as_str()));
                number_column(c.min_width(), c.title(), values)
            } else {
                c.width()
            }
        })
        .collect();
    fit_text(&mut widths, &cols, visible, state, area.width.saturating_sub(2));
    let mut room = table_column_widths(&widths, area, 1);
    let numbers_short =
        cols.iter().zip(&widths).zip(&room).any(|((c, w), r)| c.is_number() && *r < constraint_size(w));
    if numbers_short {
        widths = make_room(widths, &cols, area.width.saturating_sub(2));
        room = table_column_widths(&widths, area, 1);
    }
    let rows: Vec<Row> = visible
        .iter()
        .zip(numbers)
        .map(|(&i, nums)| {
            let row = &state.rows[i];
            let cells = cols.iter().zip(nums).zip(&room).map(|((&c, n), &w)| match n {
                Some((text, style)) => Cell::from(Span::styled(fit_number(&text, w), style)),
                None => cell(c, row, state),
            });
            let r = Row::new(cells.collect::<Vec<_>>());
            if state.marks.contains(&row.dep.key) { r.style(t.marked) } else { r }
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| Cell::from(c.title())).collect::<Vec<_>>()).style(t.header);
    let table = Table::new(rows, widths)
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
