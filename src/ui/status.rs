//! The header (fleet totals), the status line (accounts, errors, rate) and the key bar, and toasts.

use super::{WIDE, fmt_age};
use crate::app::state::{Mode, State};
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn header(f: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let total = state.rows.len();
    let shown = state.view.len();
    // Each part with its rank: when the line is too narrow, parts go from the lowest rank up, whole, so that no
    // word or figure is ever cut.
    let mut parts: Vec<(u8, Span)> = vec![
        (9, Span::styled(" infertop ", t.title.add_modifier(Modifier::REVERSED))),
        (9, Span::raw(" ")),
        (
            9,
            Span::styled(
                if shown == total {
                    format!("{total} deployments")
                } else {
                    format!("{shown}/{total} deployments")
                },
                t.text,
            ),
        ),
        (
            1,
            Span::styled(
                format!(
                    " · {} account{}",
                    state.accounts.len(),
                    if state.accounts.len() == 1 { "" } else { "s" }
                ),
                t.dim,
            ),
        ),
    ];
    if !state.marks.is_empty() {
        parts.push((8, Span::styled(format!(" · {} marked", state.marks.len()), t.marked)));
    }
    if let Some(p) = state.scope {
        parts.push((7, Span::styled(format!(" · provider {p}"), t.accent)));
    }
    if !state.filter.text.is_empty() {
        parts.push((7, Span::styled(format!(" · filter /{}/", sanitize(&state.filter.text)), t.accent)));
    }
    parts.push((
        0,
        Span::styled(
            format!(" · sort {}{}", state.sort.label(), if state.sort_desc { " ↓" } else { " ↑" }),
            t.dim,
        ),
    ));
    if state.read_only {
        parts.push((9, Span::styled(" · READ-ONLY", t.warning)));
    }
    let width = area.width as usize;
    let kept: usize = parts.iter().filter(|(rank, _)| *rank >= 7).map(|(_, s)| s.width()).sum();
    for (i, span) in super::cost::header_spans(state, width.saturating_sub(kept)).into_iter().enumerate() {
        // The first currency ranks above the others and above the unpriced count.
        parts.push((if i == 0 { 5 } else { 4 }, span));
    }
    while parts.iter().map(|(_, s)| s.width()).sum::<usize>() > width {
        let Some(lowest) = parts.iter().map(|(rank, _)| *rank).filter(|r| *r < 9).min() else { break };
        let at = parts.iter().rposition(|(rank, _)| *rank == lowest).unwrap_or(0);
        parts.remove(at);
    }
    f.render_widget(Paragraph::new(Line::from(parts.into_iter().map(|(_, s)| s).collect::<Vec<_>>())), area);
}

pub(super) fn status_line(f: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let mut spans = Vec::new();
    if !state.plain_http.is_empty() {
        let names: Vec<_> = state.plain_http.iter().map(|n| sanitize(n).into_owned()).collect();
        spans.push(Span::styled(format!(" ⚠ plain http (not encrypted): {} ", names.join(", ")), t.failed));
        spans.push(Span::styled("│", t.border));
    }
    for a in &state.accounts {
        let failing = match (a.last_error_at, a.last_ok) {
            (Some(e), Some(ok)) => e > ok,
            (Some(_), None) => true,
            _ => false,
        };
        let (mark, style) = if failing {
            ("✗", t.failed)
        } else if a.last_ok.is_some() {
            ("✓", t.ok)
        } else {
            ("…", t.dim)
        };
        spans.push(Span::styled(format!(" {mark} "), style));
        spans.push(Span::styled(sanitize(&a.name).into_owned(), t.text));
        let age = match a.last_ok {
            Some(ok) => format!(" {}", fmt_age((state.now - ok).num_seconds())),
            None => " never".into(),
        };
        spans.push(Span::styled(age, t.dim));
        if a.errors > 0 {
            spans.push(Span::styled(format!(" err {}", a.errors), if failing { t.failed } else { t.dim }));
        }
        // The rows shown are what a list that stopped part way read: never the whole list.
        if a.partial && failing {
            spans.push(Span::styled(" partial list", t.failed));
        }
        // Items that could not be read, ids listed twice: each was toasted once.
        if !a.list_warnings.is_empty() {
            let n = a.list_warnings.len();
            let what = if n == 1 { "list warning" } else { "list warnings" };
            spans.push(Span::styled(format!(" ⚠ {n} {what}"), t.warning));
        }
        if a.in_flight > 0 {
            spans.push(Span::styled(format!(" ⟳{}", a.in_flight), t.progressing));
        }
        // Details still being read for the first time (a summary list): how far along; or a backlog of changed
        // rows waiting to be read again.
        if let Some(text) = a.details.and_then(|d| d.shown()) {
            spans.push(Span::styled(format!(" {text}"), t.progressing));
        }
        // Slowed down by the provider (429): the rate it is sent now.
        if let Some((now, configured)) = a.rate.filter(|(now, configured)| now < configured) {
            spans.push(Span::styled(format!(" {now:.1}/{configured:.0} req/s"), t.warning));
        }
        spans.push(Span::styled(" │", t.border));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub(super) fn bar(f: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let line = match &state.mode {
        Mode::Filter(input) => {
            let mut spans =
                vec![Span::styled("/", t.accent), Span::raw(sanitize(input.value()).into_owned())];
            if let Some(e) = &state.filter.error {
                spans.push(Span::styled(format!("   {e}"), t.warning));
            }
            spans.push(Span::styled("   Enter keep · Esc clear · ! inverts", t.dim));
            f.set_cursor_position((area.x + 1 + input.cursor() as u16, area.y));
            Line::from(spans)
        }
        Mode::Command(input) => {
            f.set_cursor_position((area.x + 1 + input.cursor() as u16, area.y));
            Line::from(vec![
                Span::styled(":", t.accent),
                Span::raw(sanitize(input.value()).into_owned()),
                Span::styled(
                    "   provider gcore|sesterce|runai|all · sort name|status|ready|provider|age|price · q",
                    t.dim,
                ),
            ])
        }
        _ => match &state.flash {
            // A flash can quote the network (names, a value a provider kept): drawn inert, like the toasts.
            Some(msg) => Line::from(Span::styled(format!(" {}", sanitize(msg)), t.accent)),
            None => {
                let hint = |a| state.keymap.keys_for(a).first().map(|k| k.to_string()).unwrap_or_default();
                use crate::app::keymap::Action as A;
                let narrow = area.width < WIDE;
                let mut items = vec![
                    (hint(A::Help), "help"),
                    (hint(A::Filter), "filter"),
                    (hint(A::Command), "command"),
                    (hint(A::NextPane), "pane"),
                ];
                if !narrow {
                    items.push((hint(A::Refresh), "refresh"));
                    items.push((hint(A::Logs), "logs"));
                }
                if !state.read_only {
                    items.push((hint(A::Scale), "scale"));
                    if !narrow {
                        items.push((hint(A::Probes), "probes"));
                        items.push((hint(A::Edit), "edit"));
                        items.push((hint(A::Mark), "mark"));
                    }
                }
                items.push((hint(A::Quit), "quit"));
                let mut spans = Vec::new();
                for (k, d) in items {
                    spans.push(Span::styled(format!(" {k}"), t.header));
                    spans.push(Span::styled(format!(" {d} "), t.dim));
                }
                Line::from(spans)
            }
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

pub(super) fn toasts(f: &mut Frame, area: Rect, state: &State) {
    let live: Vec<_> = state.live_toasts().collect();
    let width = (area.width / 2).max(30).min(area.width);
    let mut y = area.y + 1;
    for toast in live.iter().rev().take(3) {
        let text = sanitize(&toast.message).into_owned();
        let inner = width.saturating_sub(2).max(1) as usize;
        let lines = (text.chars().count() / inner + 1).min(3) as u16;
        let h = lines + 2;
        if y + h > area.bottom() {
            break;
        }
        let r = Rect::new(area.right().saturating_sub(width), y, width, h);
        f.render_widget(Clear, r);
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(state.theme.toast)
                .block(Block::default().borders(Borders::ALL).title(" error ")),
            r,
        );
        y += h;
    }
}
