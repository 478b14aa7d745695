//! The catalog view: one account's models, hardware (GPU model, count, memory, where it is free), regions with
//! capacity per hardware, registries (never a password) and projects, drawn over the dashboard body.

use super::block;
use crate::app::catalog::{CatalogEntry, CatalogTab, CatalogView, one_replica_spec};
use crate::app::create_flow::price_text;
use crate::app::state::State;
use crate::model::text::sanitize;
use crate::model::{Catalog, HardwareInfo};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

fn s(x: &str) -> String {
    sanitize(x).into_owned()
}

fn num(v: Option<f64>) -> String {
    v.map(|x| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") })
        .unwrap_or_else(|| "-".into())
}

/// `1×H100` for a hardware option, or its id when the catalog does not know it.
fn short_hw(c: &Catalog, key: &str) -> String {
    match c.hardware.iter().find(|h| h.id == key || h.name == key) {
        Some(HardwareInfo { gpu_model: Some(m), gpu_count, .. }) => {
            format!("{}×{}", gpu_count.unwrap_or(1), s(m))
        }
        Some(h) => s(&h.name),
        None => s(key),
    }
}

/// Regions with free capacity for `hw`, most free first: `Luxembourg-2 12, Santa Clara 3`.
fn free_where(c: &Catalog, hw: &HardwareInfo) -> (u32, String) {
    let mut v: Vec<(u32, &str)> = c
        .regions
        .iter()
        .filter_map(|r| c.capacity(r, &hw.id).filter(|n| *n > 0).map(|n| (n, r.name.as_str())))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let total = v.iter().map(|(n, _)| n).sum();
    let text = v.iter().map(|(n, r)| format!("{} {n}", s(r))).collect::<Vec<_>>().join(", ");
    (total, if text.is_empty() { "nowhere".into() } else { text })
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, view: &CatalogView) {
    let t = &state.theme;
    // Between the header line and the status line.
    let r = Rect::new(area.x, area.y + 1, area.width, area.height.saturating_sub(3));
    f.render_widget(Clear, r);
    let Some(acct) = state.accounts.get(view.account) else { return };
    let kind = acct.kind;
    let title = format!(
        "Catalog: {} ({kind}) · account {}/{}",
        s(&acct.name),
        view.account + 1,
        state.accounts.len()
    );
    let blk = block(&title, true, state);
    let inner = blk.inner(r);
    f.render_widget(blk, r);
    let [tabs_area, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(3)]).areas(inner);
    let tab = view.tab_of(kind);
    let mut spans = Vec::new();
    for (i, tb) in CatalogTab::for_provider(kind).iter().enumerate() {
        let style = if i == view.tab { t.title.add_modifier(Modifier::REVERSED) } else { t.dim };
        spans.push(Span::styled(format!(" {} ", tb.label(kind)), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), tabs_area);
    let mut foot_lines: Vec<Line> = Vec::new();
    match state.catalogs.by_account.get(&view.account) {
        None | Some(CatalogEntry::Loading) => {
            f.render_widget(Paragraph::new(Span::styled("loading the catalog…", t.progressing)), body);
        }
        Some(CatalogEntry::Failed(e)) => {
            f.render_widget(
                Paragraph::new(Span::styled(
                    format!("✗ the catalog could not be read: {}", s(&e.to_string())),
                    t.failed,
                ))
                .wrap(Wrap { trim: true }),
                body,
            );
        }
        Some(CatalogEntry::Loaded { catalog: c, .. }) => {
            table(f, body, state, c, tab, view.sel, kind);
            if tab == CatalogTab::Hardware
                && let Some(hw) = c.hardware.get(view.sel)
            {
                let (_, where_) = free_where(c, hw);
                foot_lines.push(Line::from(vec![
                    Span::styled(format!("{} free in: ", short_hw(c, &hw.id)), t.header),
                    Span::styled(where_, t.text),
                ]));
                if let Some(spec) = one_replica_spec(kind, c, &hw.id) {
                    let region =
                        c.regions.iter().find(|r| r.id == spec.regions[0].region_id).map(|r| s(&r.name));
                    foot_lines.push(Line::from(Span::styled(
                        format!(
                            "price of 1 replica in {}: {}",
                            region.unwrap_or_default(),
                            price_text(state, view.account, &spec.price_key())
                        ),
                        t.accent,
                    )));
                }
            }
            if tab == CatalogTab::Registries {
                foot_lines.push(Line::from(Span::styled(
                    "passwords are never shown (the API does not return them)",
                    t.dim,
                )));
            }
            for (part, msg) in &c.problems {
                foot_lines.push(Line::from(Span::styled(format!("✗ {}: {}", s(part), s(msg)), t.warning)));
            }
        }
    }
    let mut keys = "←/→ account · Tab part · j/k move · r reload · Esc close".to_string();
    if !state.read_only {
        keys.push_str(" · c create from this");
    }
    foot_lines.truncate(2);
    while foot_lines.len() < 2 {
        foot_lines.push(Line::from(""));
    }
    foot_lines.push(Line::from(Span::styled(keys, t.dim)));
    f.render_widget(Paragraph::new(foot_lines), foot);
}

fn table(
    f: &mut Frame,
    area: Rect,
    state: &State,
    c: &Catalog,
    tab: CatalogTab,
    sel: usize,
    kind: crate::model::ProviderKind,
) {
    let t = &state.theme;
    let (header, widths, rows): (Vec<&str>, Vec<Constraint>, Vec<Vec<String>>) = match tab {
        CatalogTab::Models => (
            vec!["MODEL", "PORT", "DEFAULT HARDWARE", "FEATURES"],
            vec![Constraint::Fill(2), Constraint::Length(6), Constraint::Fill(2), Constraint::Fill(1)],
            c.models
                .iter()
                .map(|m| {
                    vec![
                        s(&m.name),
                        m.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                        m.default_hardware_id
                            .as_deref()
                            .map(|h| short_hw(c, h))
                            .unwrap_or_else(|| "-".into()),
                        s(&m.features.join(" ")),
                    ]
                })
                .collect(),
        ),
        CatalogTab::Hardware => (
            vec!["HARDWARE", "GPU", "×", "GPU GiB", "vCPU", "RAM GiB", "FREE"],
            vec![
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(2),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Length(5),
            ],
            c.hardware
                .iter()
                .map(|h| {
                    vec![
                        s(&h.name),
                        s(h.gpu_model.as_deref().unwrap_or("none")),
                        h.gpu_count.filter(|n| *n > 0).map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                        num(h.gpu_memory_gib.filter(|g| *g > 0.0)),
                        num(h.cpu),
                        num(h.memory_gib),
                        free_where(c, h).0.to_string(),
                    ]
                })
                .collect(),
        ),
        CatalogTab::Regions if kind == crate::model::ProviderKind::Runai => {
            (vec!["CLUSTER"], vec![Constraint::Fill(1)], c.regions.iter().map(|r| vec![s(&r.name)]).collect())
        }
        CatalogTab::Regions => (
            vec!["REGION", "ID", "STATE", "FREE PER HARDWARE"],
            vec![Constraint::Length(18), Constraint::Length(6), Constraint::Length(8), Constraint::Fill(1)],
            c.regions
                .iter()
                .map(|r| {
                    let cap = r
                        .capacity
                        .iter()
                        .map(|(hw, n)| format!("{} {n}", short_hw(c, hw)))
                        .collect::<Vec<_>>()
                        .join(" · ");
                    vec![
                        s(&r.name),
                        s(&r.id),
                        s(r.state.as_deref().unwrap_or("-")),
                        if cap.is_empty() { "unknown".into() } else { cap },
                    ]
                })
                .collect(),
        ),
        CatalogTab::Registries => (
            vec!["NAME", "URL", "USERNAME"],
            vec![Constraint::Fill(1), Constraint::Fill(2), Constraint::Fill(1)],
            c.registries
                .iter()
                .map(|r| {
                    vec![
                        s(&r.name),
                        s(r.url.as_deref().unwrap_or("-")),
                        s(r.username.as_deref().unwrap_or("-")),
                    ]
                })
                .collect(),
        ),
        CatalogTab::Projects => (
            vec!["PROJECT", "ID"],
            vec![Constraint::Fill(1), Constraint::Length(12)],
            c.projects.iter().map(|p| vec![s(&p.name), s(&p.id)]).collect(),
        ),
    };
    if rows.is_empty() {
        let what = tab.label(kind).to_lowercase();
        f.render_widget(Paragraph::new(Span::styled(format!("no {what} in this catalog"), t.dim)), area);
        return;
    }
    let table = Table::new(
        rows.into_iter().map(|r| Row::new(r.into_iter().map(|x| Cell::from(Span::styled(x, t.text))))),
        widths,
    )
    .header(Row::new(header.into_iter().map(|h| Cell::from(Span::styled(h, t.header)))))
    .row_highlight_style(t.selected)
    .column_spacing(1);
    let mut ts = TableState::default().with_selected(Some(sel));
    f.render_stateful_widget(table, area, &mut ts);
}
