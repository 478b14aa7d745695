//! The panes below the table: regions, and the tabs details / logging / metrics / logs.

use super::{block, fmt_age};
use crate::app::state::{Pane, State};
use crate::model::text::sanitize;
use crate::model::{Deployment, ProbeSlot};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table, TableState, Tabs, Wrap};

fn empty(f: &mut Frame, area: Rect, title: &str, focused: bool, state: &State, msg: &str) {
    f.render_widget(
        Paragraph::new(Span::styled(msg.to_string(), state.theme.dim)).block(block(title, focused, state)),
        area,
    );
}

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
    let title = format!("Regions: {}", sanitize(&d.name));
    if d.regions.is_empty() {
        return empty(f, area, &title, focused, state, "No region data (yet).");
    }
    let wide = area.width >= 90;
    let bar_w = if wide { 10 } else { 6 };
    let rows: Vec<Row> = d
        .regions
        .iter()
        .map(|r| {
            let (a, b, c) = bar(r.ready, r.total, r.scale.max, bar_w);
            let style = t.readiness(r.ready, r.total);
            let mut cells = vec![
                Cell::from(r.display_name()),
                Cell::from(Line::from(vec![
                    Span::styled(a, style),
                    Span::styled(b, t.warning),
                    Span::styled(c, t.dim),
                ])),
                Cell::from(Span::styled(format!("{}/{}", r.ready, r.total), style)),
                Cell::from(format!("{}..{}", r.scale.min, r.scale.max)),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(r.scale.triggers.summary(), t.dim)));
            }
            let err = r.error.as_deref().map(|e| sanitize(e).into_owned()).unwrap_or_default();
            cells.push(Cell::from(Span::styled(err, t.failed)));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(14),
        Constraint::Length(bar_w as u16),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    if wide {
        widths.push(Constraint::Length(22));
    }
    widths.push(Constraint::Fill(1));
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
                .block(block("Error", false, state)),
            err_area,
        );
    }
}

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
        Pane::Metrics => metrics(f, body, state, focused),
        Pane::Logs => logs(f, body, state, focused),
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
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(block("Details", focused, state)),
        area,
    );
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

/// Compresses or pads a series to `width` bars; `None` stays a gap.
fn fit(points: &[Option<f64>], width: usize) -> Vec<Option<u64>> {
    let tail = if points.len() > width { &points[points.len() - width..] } else { points };
    let max = tail.iter().flatten().cloned().fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { 100.0 / max } else { 1.0 };
    tail.iter().map(|p| p.map(|v| (v * scale).round().max(0.0) as u64)).collect()
}

fn spark_rows(f: &mut Frame, area: Rect, state: &State, series: &[(String, Vec<Option<f64>>, String)]) {
    let t = &state.theme;
    if series.is_empty() || area.height < 2 {
        return;
    }
    let per = (area.height / series.len() as u16).clamp(1, 4);
    for (i, (name, points, last)) in series.iter().enumerate() {
        let y = area.y + i as u16 * per;
        if y + per > area.bottom() {
            break;
        }
        let label_w = 24.min(area.width / 2);
        let label = Rect::new(area.x, y, label_w, 1);
        let val = Rect::new(area.x, y + 1.min(per - 1), label_w, 1);
        f.render_widget(Paragraph::new(Span::styled(sanitize(name).into_owned(), t.header)), label);
        if per > 1 {
            f.render_widget(Paragraph::new(Span::raw(last.clone())), val);
        }
        let spark_area = Rect::new(area.x + label_w, y, area.width - label_w, per);
        let data = fit(points, spark_area.width as usize);
        f.render_widget(
            Sparkline::default()
                .data(data)
                .max(100)
                .style(t.ok)
                .absent_value_symbol("·")
                .absent_value_style(t.dim),
            spark_area,
        );
    }
}

pub fn metrics(f: &mut Frame, area: Rect, state: &State, focused: bool) {
    let Some(row) = state.selected_row() else {
        return empty(f, area, "Metrics", focused, state, "Select a deployment.");
    };
    let t = &state.theme;
    let caps = state.accounts[row.account].capabilities;
    let blk = block("Metrics", focused, state);
    let inner = blk.inner(area);
    f.render_widget(blk, area);
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    if caps.metrics {
        let d = state.selected_deployment().unwrap_or(&row.dep);
        let scope = if state.metrics_sel == 0 {
            "workload".to_string()
        } else {
            d.pods.get(state.metrics_sel - 1).map(|p| format!("pod {}", sanitize(p))).unwrap_or_default()
        };
        let cache = state.selected_cache();
        let mut head = vec![
            Span::styled(format!("{scope}  "), t.accent),
            Span::styled(format!("(j/k picks workload or one of {} pods)", d.pods.len()), t.dim),
        ];
        if let Some((m, at)) = cache.and_then(|c| c.metrics.as_ref()) {
            head.push(Span::styled(format!("  {} ago", fmt_age((state.now - *at).num_seconds())), t.dim));
            if m.partial {
                head.push(Span::styled("  partial result (207)", t.warning));
            }
        }
        if let Some(e) = cache.and_then(|c| c.metrics_error.as_ref()) {
            head.push(Span::styled(format!("  {}", sanitize(&e.to_string())), t.failed));
        }
        f.render_widget(Paragraph::new(Line::from(head)), top);
        let series: Vec<(String, Vec<Option<f64>>, String)> = cache
            .and_then(|c| c.metrics.as_ref())
            .map(|(m, _)| {
                m.series
                    .iter()
                    .map(|s| {
                        let pts: Vec<Option<f64>> = s.points.iter().map(|p| p.value).collect();
                        let last = pts
                            .iter()
                            .rev()
                            .flatten()
                            .next()
                            .map(|v| format!("{v:.1} {}", s.unit))
                            .unwrap_or("-".into());
                        (s.name.clone(), pts, last)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if series.is_empty() {
            f.render_widget(Paragraph::new(Span::styled("Waiting for metrics…", t.dim)), rest);
        } else {
            spark_rows(f, rest, state, &series);
        }
    } else {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "{} has no metrics API: ready replicas per region, recorded by infertop",
                    row.dep.key.provider
                ),
                t.dim,
            )),
            top,
        );
        let series: Vec<(String, Vec<Option<f64>>, String)> = row
            .history
            .iter()
            .map(|(region, h)| {
                let name = row
                    .dep
                    .regions
                    .iter()
                    .find(|r| r.region_id == *region)
                    .map(|r| r.display_name())
                    .unwrap_or_else(|| region.clone());
                let pts: Vec<Option<f64>> = h.iter().map(|v| v.map(|x| x as f64)).collect();
                let last =
                    h.iter().rev().flatten().next().map(|v| format!("{v} ready")).unwrap_or("-".into());
                (name, pts, last)
            })
            .collect();
        spark_rows(f, rest, state, &series);
    }
}

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
    let start = end.saturating_sub(h);
    let mut lines: Vec<Line> = lines_all[start..end]
        .iter()
        .map(|l| {
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
        })
        .collect();
    if lines.is_empty() {
        let msg = match cache.and_then(|c| c.logs_error.as_ref()) {
            Some(e) => Span::styled(sanitize(&e.to_string()).into_owned(), t.failed),
            None => Span::styled("Waiting for logs…", t.dim),
        };
        lines.push(Line::from(msg));
    }
    f.render_widget(Paragraph::new(lines).block(blk), area);
}
