//! The metrics tab: sparklines from the provider's metrics API, or readiness recorded locally.

use super::{block, empty, fmt_age};
use crate::app::state::State;
use crate::model::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

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
            .series()
            .map(|(region, h)| {
                let name = row
                    .dep
                    .regions
                    .iter()
                    .find(|r| r.region_id == region)
                    .map(|r| r.display_name())
                    .unwrap_or_else(|| region.to_string());
                let pts: Vec<Option<f64>> = h.iter().map(|v| v.map(|x| x as f64)).collect();
                let last =
                    h.iter().rev().flatten().next().map(|v| format!("{v} ready")).unwrap_or("-".into());
                (name, pts, last)
            })
            .collect();
        spark_rows(f, rest, state, &series);
    }
}
