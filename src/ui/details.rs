//! The tabbed pane and its details and logging tabs.

use super::{block, empty, fmt_age};
use crate::app::state::{Pane, State};
use crate::model::ProbeSlot;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};

pub fn tabbed(f: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let tab = if state.focus.is_tab() { state.focus } else { state.tab };
    let focused = state.focus == tab;
    let [tabs_area, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let titles = [Pane::Details, Pane::Logging, Pane::Metrics, Pane::Logs];
    let idx = titles.iter().position(|p| *p == tab).unwrap_or(0);
    f.render_widget(
        Tabs::new(titles.iter().map(|p| p.title()))
            .select(idx)
            .style(t.dim)
            .highlight_style(if focused { t.title } else { t.text })
            .divider(symbols::line::VERTICAL),
        tabs_area,
    );
    match tab {
        Pane::Logging => logging(f, body, state, focused),
        Pane::Metrics => super::metrics::metrics(f, body, state, focused),
        Pane::Logs => super::logs::logs(f, body, state, focused),
        _ => details(f, body, state, focused),
    }
}

fn kv<'a>(k: &'a str, v: String, state: &State) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{k:<12}"), state.theme.header), Span::raw(v)])
}

fn opt(s: Option<&str>) -> String {
    s.map(|v| sanitize(v).into_owned()).unwrap_or_else(|| "-".into())
}

pub fn details(f: &mut Frame, area: Rect, state: &State, focused: bool) {
    let Some(d) = state.selected_deployment() else {
        return empty(f, area, "Details", focused, state, "Select a deployment.");
    };
    let t = &state.theme;
    let mut lines = vec![
        kv("name", sanitize(&d.name).into_owned(), state),
        kv("provider", format!("{} ({})", d.key.provider, sanitize(&d.key.account)), state),
        kv("id", sanitize(&d.key.id).into_owned(), state),
        Line::from(vec![
            Span::styled(format!("{:<12}", "status"), t.header),
            Span::styled(d.status.label(), t.health(d.health())),
            Span::styled(format!("  {}/{} ready", d.ready(), d.total()), t.readiness(d.ready(), d.total())),
            Span::styled(
                match state.in_flight.get(&d.key) {
                    Some(f) => format!("  ⏳ {}: {} sent, not confirmed yet", f.label(), f.what()),
                    None => String::new(),
                },
                t.progressing,
            ),
        ]),
        kv("image", opt(d.image.as_deref()), state),
        kv("port", d.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into()), state),
        kv("hardware", opt(d.hardware.as_deref()), state),
        kv("address", opt(d.address.as_deref()), state),
        kv(
            "created",
            match d.created_at {
                Some(c) => format!(
                    "{} ({} ago)",
                    c.format("%Y-%m-%d %H:%M UTC"),
                    fmt_age((state.now - c).num_seconds())
                ),
                None => "-".into(),
            },
            state,
        ),
        kv("command", opt(d.command.as_deref()), state),
    ];
    // The one health (see `Deployment::assess`) under the status when it is not ok, with what makes it so.
    let (health, why) = d.assess();
    if health != crate::model::Health::Ok {
        let mut spans = vec![
            Span::styled(format!("{:<12}", "health"), t.header),
            Span::styled(health.label(), t.health(health)),
        ];
        if let Some(why) = why {
            spans.push(Span::styled(format!(": {why}"), t.health(health)));
        }
        lines.insert(4, Line::from(spans));
    }
    if let Some(desc) = d.description.as_deref().filter(|s| !s.is_empty()) {
        lines.push(kv("description", sanitize(desc).into_owned(), state));
    }
    if let Some(p) = d.price_per_hour {
        lines.push(kv("price", format!("{p:.2} / hour"), state));
    }
    lines.push(Line::from(Span::styled("probes", t.header)));
    let probes_offered =
        state.selected_row().is_some_and(|r| state.accounts[r.account].capabilities.update_probes);
    match &d.probes {
        None if !probes_offered => lines
            .push(Line::from(Span::styled(format!("  {} has no health probes API", d.key.provider), t.dim))),
        None => lines.push(Line::from(Span::styled("  none reported", t.dim))),
        Some(ps) => {
            for slot in ProbeSlot::ALL {
                let v = match ps.get(slot) {
                    None => "-".to_string(),
                    Some(c) if !c.enabled => "disabled".to_string(),
                    Some(c) => c.probe.summary(),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<10}", slot.label()), t.dim),
                    Span::raw(v),
                ]));
            }
        }
    }
    let reveal = state.reveal_envs.as_ref() == Some(&d.key);
    lines.push(Line::from(vec![
        Span::styled(format!("envs ({})", d.envs.len()), t.header),
        Span::styled(if reveal { "  shown: v hides" } else { "  values hidden: v shows" }, t.dim),
    ]));
    for (k, v) in &d.envs {
        let shown = if reveal { format!("={}", sanitize(v)) } else { "=••••••".to_string() };
        lines.push(Line::from(vec![Span::raw(format!("  {}", sanitize(k))), Span::styled(shown, t.dim)]));
    }
    if let Some(e) = state.selected_cache().and_then(|c| c.detail_error.as_ref()) {
        lines.push(Line::from(Span::styled(
            format!("last detail fetch failed: {}", sanitize(&e.to_string())),
            t.failed,
        )));
    }
    // Scrolled with j/k when focused, never past the last line; the title says where more is.
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let inner_h = area.height.saturating_sub(2) as usize;
    let total = para.line_count(area.width.saturating_sub(2));
    let offset = state.details_scroll.min(total.saturating_sub(inner_h));
    let title = match (offset > 0, offset + inner_h < total) {
        (true, true) => "Details ↑↓",
        (true, false) => "Details ↑",
        (false, true) => "Details ↓ more",
        (false, false) => "Details",
    };
    let para = para.scroll((offset.min(u16::MAX as usize) as u16, 0)).block(block(title, focused, state));
    f.render_widget(para, area);
}

pub fn logging(f: &mut Frame, area: Rect, state: &State, focused: bool) {
    let Some(row) = state.selected_row() else {
        return empty(f, area, "Logging", focused, state, "Select a deployment.");
    };
    let caps = state.accounts[row.account].capabilities;
    if !caps.logging_config {
        let msg = format!("{} has no logging configuration.", row.dep.key.provider);
        return empty(f, area, "Logging", focused, state, &msg);
    }
    let d = state.selected_deployment().unwrap_or(&row.dep);
    let lines = match &d.logging {
        None => vec![Line::from(Span::styled("Logging is not configured.", state.theme.dim))],
        Some(l) => vec![
            kv("enabled", if l.enabled { "yes".into() } else { "no".into() }, state),
            kv(
                "destination",
                l.destination_region_id.map(|r| format!("region {r}")).unwrap_or_else(|| "-".into()),
                state,
            ),
            kv("topic", opt(l.topic_name.as_deref()), state),
            kv(
                "retention",
                l.retention_days.map(|r| format!("{r} days")).unwrap_or_else(|| "-".into()),
                state,
            ),
        ],
    };
    f.render_widget(Paragraph::new(lines).block(block("Logging", focused, state)), area);
}
