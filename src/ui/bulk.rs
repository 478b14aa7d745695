//! The bulk change, drawn over the dashboard: its form, the review (what changes, old → new, per deployment
//! and region, and what is left out and why), the progress per deployment and the end state.

use super::block;
use super::form::centered;
use crate::app::bulk::{Bulk, BulkForm, BulkStage, BulkWhat, Outcome, Planned};
use crate::app::state::State;
use crate::model::bulk::ScaleOp;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw(f: &mut Frame, area: Rect, state: &State) {
    let Some(bulk) = &state.bulk else { return };
    let r = centered(area, area.width.saturating_sub(6).min(120), area.height.saturating_sub(4));
    f.render_widget(Clear, r);
    let (lines, footer) = match &bulk.stage {
        BulkStage::Form(form) => form_lines(state, form),
        BulkStage::Reading { waiting, .. } => (
            vec![Line::from(Span::styled(
                format!(
                    "Reading the {} marked deployment(s) again, so that the review shows them as they are now: \
                     {} to go…",
                    state.marks.len(),
                    waiting.len()
                ),
                state.theme.progressing,
            ))],
            "Esc cancel".to_string(),
        ),
        BulkStage::Review => review_lines(state, bulk, r.width.saturating_sub(2) as usize),
        BulkStage::Running | BulkStage::Done => {
            outcome_lines(state, bulk, r.width.saturating_sub(2) as usize)
        }
    };
    let inner_h = r.height.saturating_sub(3) as usize;
    let scroll = bulk.scroll.min(lines.len().saturating_sub(inner_h.max(1)));
    let title = bulk.title();
    let blk = block(&title, true, state);
    let inner = blk.inner(r);
    f.render_widget(blk, r);
    if inner.height == 0 {
        return;
    }
    let body = Rect::new(inner.x, inner.y, inner.width, inner.height.saturating_sub(1));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll as u16, 0)), body);
    let foot = Rect::new(inner.x, inner.bottom().saturating_sub(1), inner.width, 1);
    f.render_widget(Paragraph::new(Line::from(Span::styled(footer, state.theme.header))), foot);
}

fn form_lines(state: &State, form: &BulkForm) -> (Vec<Line<'static>>, String) {
    let t = &state.theme;
    let mut lines = vec![
        Line::from(Span::styled(
            format!("{} marked deployment(s). Every region of each one gets the change.", state.marks.len()),
            t.text,
        )),
        Line::from(Span::styled(
            "Per field: empty leaves it · N sets it to N · +N or −N changes it by N.",
            t.dim,
        )),
        Line::from(""),
    ];
    for (i, (input, op)) in form.inputs.iter().zip(form.ops()).enumerate() {
        let focused = form.focus == i;
        let meaning = match &op {
            Ok(ScaleOp::Leave) => Span::styled("leave as is".to_string(), t.dim),
            Ok(op) => Span::styled(op.to_string(), t.accent),
            Err(e) => Span::styled(format!("✗ {e}"), t.failed),
        };
        let mut spans = vec![
            Span::styled(if focused { " ▶ " } else { "   " }, t.accent),
            Span::styled(format!("{:<10}", BulkForm::LABELS[i]), t.header),
            Span::styled(
                format!("[{:<8}]", sanitize(input.value())),
                if focused { t.selected } else { t.text },
            ),
            Span::raw("  "),
            meaning,
        ];
        if i == 2 {
            spans.push(Span::styled("  (Gcore and Sesterce; Run:ai has none)", t.dim));
        }
        if let Some(n) = form.notice.filter(|_| focused) {
            spans.push(Span::styled(format!("  ✗ {n}"), t.warning));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Each deployment is checked against its provider's limits; one that cannot take the change is listed \
         with the reason.",
        t.dim,
    )));
    (lines, "Enter review · Tab/↑↓ field · Esc cancel".into())
}

fn review_lines(state: &State, bulk: &Bulk, width: usize) -> (Vec<Line<'static>>, String) {
    let t = &state.theme;
    let mut lines = Vec::new();
    if bulk.items.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing will be sent: every marked deployment is left out.",
            t.warning,
        )));
    } else {
        lines.push(Line::from(Span::styled(
            format!(
                "These changes will be sent, each checked for another writer first ({}):",
                bulk.items.len()
            ),
            t.title,
        )));
    }
    for item in &bulk.items {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<9}", item.key.provider.label()), t.dim),
            Span::styled(sanitize(&item.name).into_owned(), t.header),
            Span::styled(format!("  ({})", sanitize(&item.key.account)), t.dim),
        ]));
        match &item.planned {
            Planned::Scale { regions, .. } => {
                for r in regions {
                    lines.push(Line::from(vec![
                        Span::styled(format!("      {}: ", sanitize(&r.name)), t.text),
                        Span::styled(r.changes().join(", "), t.accent),
                    ]));
                }
            }
            Planned::Lifecycle { what, .. } => {
                lines.push(Line::from(Span::styled(format!("      {}", sanitize(what)), t.accent)));
            }
        }
    }
    if matches!(bulk.what, crate::app::bulk::BulkWhat::Scale(_)) && !bulk.items.is_empty() {
        lines.push(Line::from(""));
        lines.extend(super::cost::review_lines(state));
    }
    left_out_lines(state, bulk, width, &mut lines);
    let footer = if bulk.items.is_empty() {
        "n/Esc back".to_string()
    } else {
        format!("y apply to {} · n/Esc back · j/k scroll", bulk.items.len())
    };
    (lines, footer)
}

fn left_out_lines(state: &State, bulk: &Bulk, width: usize, lines: &mut Vec<Line<'static>>) {
    let t = &state.theme;
    if bulk.left_out.is_empty() {
        return;
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("Left out, nothing sent ({}):", bulk.left_out.len()),
        t.warning,
    )));
    for l in &bulk.left_out {
        let head = vec![
            Span::styled(format!("  {:<9}", l.key.provider.label()), t.dim),
            Span::styled(format!("{}: ", sanitize(&l.name)), t.text),
        ];
        lines.extend(hanging(head, &sanitize(&l.why), 2 + 9 + 2, width, t.dim));
    }
}

fn outcome_style(state: &State, o: &Outcome) -> Style {
    let t = &state.theme;
    match o {
        Outcome::Applied(_) => t.ok,
        Outcome::Sent | Outcome::Ready => t.progressing,
        Outcome::Partial(_) | Outcome::Conflict(_) | Outcome::Unknown(_) => t.warning,
        Outcome::Refused(_) => t.failed,
    }
}

/// The first line's `head` spans, then `text` wrapped to what is left of `width` after `indent` cells, each
/// following line indented as far: a long reason stays in its column instead of running under the first.
fn hanging(
    head: Vec<Span<'static>>,
    text: &str,
    indent: usize,
    width: usize,
    style: Style,
) -> Vec<Line<'static>> {
    let head_w: usize = head.iter().map(Span::width).sum();
    let room = width.saturating_sub(indent).max(20);
    // The first line takes the words that fit after the head; the rest wrap in the column.
    let first_room = width.saturating_sub(head_w);
    let mut taken = 0;
    let mut first_text = String::new();
    for word in text.split_whitespace() {
        let need = if first_text.is_empty() { word.chars().count() } else { word.chars().count() + 1 };
        if first_text.chars().count() + need > first_room && !(first_text.is_empty() && head_w <= indent) {
            break;
        }
        if !first_text.is_empty() {
            first_text.push(' ');
        }
        first_text.push_str(word);
        taken += 1;
    }
    let rest: Vec<&str> = text.split_whitespace().skip(taken).collect();
    let mut first = head;
    first.push(Span::styled(first_text, style));
    let mut out = vec![Line::from(first)];
    if !rest.is_empty() {
        let rest = crate::app::help::wrap(&rest.join(" "), room);
        out.extend(rest.into_iter().map(|p| Line::from(Span::styled(format!("{:indent$}{p}", ""), style))));
    }
    out
}

fn outcome_lines(state: &State, bulk: &Bulk, width: usize) -> (Vec<Line<'static>>, String) {
    let t = &state.theme;
    let done = bulk.stage == BulkStage::Done;
    let mut lines = vec![
        Line::from(Span::styled(
            if done { format!("Done: {}", bulk.tally()) } else { format!("Applying: {}", bulk.tally()) },
            t.title,
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!("  {:<10}{:<9}{:<28}{}", "OUTCOME", "PROVIDER", "DEPLOYMENT", "WHAT"),
            t.header,
        )),
    ];
    let name_w = 27;
    for item in &bulk.items {
        let what = match (&item.outcome, &item.planned) {
            (Outcome::Sent, _) => "waiting for the provider…".to_string(),
            (Outcome::Applied(s), Planned::Scale { regions, .. }) => {
                let changes: Vec<String> =
                    regions.iter().map(|r| format!("{}: {}", r.name, r.changes().join(", "))).collect();
                format!("{}; {s}", changes.join("; "))
            }
            (o, _) => o.detail().to_string(),
        };
        let mut name = sanitize(&item.name).into_owned();
        if name.chars().count() > name_w {
            name = name.chars().take(name_w - 1).collect::<String>() + "…";
        }
        let head = vec![
            Span::styled(format!("  {:<10}", item.outcome.label()), outcome_style(state, &item.outcome)),
            Span::styled(format!("{:<9}", item.key.provider.label()), t.dim),
            Span::styled(format!("{name:<28}"), t.text),
        ];
        lines.extend(hanging(head, &sanitize(&what), 2 + 10 + 9 + 28, width, t.dim));
    }
    left_out_lines(state, bulk, width, &mut lines);
    if done && matches!(bulk.what, BulkWhat::Scale(_)) {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "Every change sent is in the audit file, one line per deployment.",
            t.dim,
        )));
    }
    let footer = if done {
        "Esc/Enter close · j/k scroll"
    } else {
        "Esc hides this (the change goes on) · j/k scroll"
    };
    (lines, footer.into())
}
