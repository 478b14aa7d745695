//! Cost figures: the fleet's cost per hour in the header, and the change in cost a review shows.

use crate::app::cost::{CostChange, Figure, total};
use crate::app::state::State;
use crate::app::theme::Theme;
use crate::model::text::sanitize;
use ratatui::text::{Line, Span};
use std::collections::BTreeMap;

/// `12.34 EUR/h`.
fn money(currency: &str, per_hour: f64) -> String {
    format!("{per_hour:.2} {}/h", sanitize(currency))
}

/// `+2.00` / `-1.50` / `±0.00`.
fn signed(x: f64) -> String {
    if x.abs() < 0.005 { "±0.00".to_string() } else { format!("{x:+.2}") }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("{n} {one}") } else { format!("{n} {one}s") }
}

/// The header's cost in the `room` columns left: ` · 12.34 EUR/h · 3.10 USD/h · 8 deployments unpriced`,
/// shorter forms where that does not fit (`8 unpriced`, then the sums alone, cut by the edge if need be).
pub fn header_spans(state: &State, room: usize) -> Vec<Span<'static>> {
    let t = &state.theme;
    let c = &state.cost.fleet;
    if state.rows.is_empty() {
        return Vec::new();
    }
    let mut money_spans = Vec::new();
    if c.per_hour.is_empty() {
        money_spans.push(Span::styled(" · cost unknown", t.dim));
    }
    for (currency, sum) in &c.per_hour {
        money_spans.push(Span::styled(format!(" · {}", money(currency, *sum)), t.text));
    }
    let asking = if c.asking > 0 { format!(" ({} being priced)", c.asking) } else { String::new() };
    let forms = [
        format!(" · {} unpriced{asking}", plural(c.unpriced, "deployment")),
        format!(" · {} unpriced", c.unpriced),
    ];
    let width = |v: &[Span]| v.iter().map(|s| s.width()).sum::<usize>();
    for unpriced in forms {
        let mut v = money_spans.clone();
        if c.unpriced > 0 {
            v.push(Span::styled(unpriced, t.dim));
        }
        if width(&v) <= room {
            return v;
        }
    }
    money_spans
}

/// `at min 2.00 → 4.00 EUR/h (+2.00)`, or why it is not known.
fn figure(label: &str, f: &Figure) -> String {
    match f {
        Figure::Known { currency, old, new } => {
            format!("{label} {old:.2} → {} ({})", money(currency, *new), signed(new - old))
        }
        Figure::Nothing => format!("{label} nothing runs (±0.00)"),
        Figure::Asking => format!("{label} asking the provider…"),
        Figure::Unknown(why) => format!("{label} unknown ({})", sanitize(why)),
    }
}

/// The change by currency: `+2.00 EUR/h, -1.00 USD/h`.
fn sums(m: &BTreeMap<String, (f64, f64)>) -> String {
    if m.is_empty() {
        return "±0.00".into();
    }
    m.iter()
        .map(|(c, (old, new))| format!("{} {}/h", signed(new - old), sanitize(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cost part of a review: one line per deployment, and a total when there are several.
pub fn lines(changes: &[CostChange], t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if changes.is_empty() {
        return out;
    }
    out.push(Line::from(Span::styled("Cost per hour, today → after:", t.title)));
    for c in changes {
        let (min, max) = (c.at_min(), c.at_max());
        let style = match (&min, &max) {
            (Figure::Unknown(_), _) | (_, Figure::Unknown(_)) => t.warning,
            (Figure::Asking, _) | (_, Figure::Asking) => t.dim,
            _ => t.text,
        };
        let text = if let (Figure::Unknown(why), Figure::Unknown(_)) = (&min, &max) {
            format!("  {}: unknown ({})", sanitize(&c.name), sanitize(why))
        } else {
            format!("  {}: {} · {}", sanitize(&c.name), figure("at min", &min), figure("at max", &max))
        };
        out.push(Line::from(Span::styled(text, style)));
    }
    if changes.len() > 1 {
        let tot = total(changes);
        let mut text = format!("  total: at min {} · at max {}", sums(&tot.at_min), sums(&tot.at_max));
        if tot.unpriced > 0 {
            text.push_str(&format!(" · {} unpriced (not in the total)", plural(tot.unpriced, "deployment")));
        }
        out.push(Line::from(Span::styled(text, t.header)));
    }
    out
}

/// The cost lines of the open review (single edit, create).
pub fn review_lines(state: &State) -> Vec<Line<'static>> {
    lines(&crate::app::cost::review_changes(state), &state.theme)
}
