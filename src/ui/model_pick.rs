//! The model prompt inside the edit form (state and keys in `app::model_pick`): the provider's message, the
//! edit that `y` sends again, and the account's models or registries to pick from.

use crate::app::catalog::CatalogEntry;
use crate::app::form::Form;
use crate::app::model_pick::{ModelPick, SourceKind, will_run};
use crate::app::state::State;
use crate::model::edit::provider_name;
use crate::model::text::sanitize;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

/// Greedy word wrap to `width` columns (the form's body does not wrap, so that it can scroll by line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// The body, the footer, and the line of the selected row (kept in view when the body scrolls).
pub fn body(
    state: &State,
    form: &Form,
    pick: &ModelPick,
    width: usize,
) -> (Vec<Line<'static>>, Vec<Line<'static>>, usize) {
    let t = &state.theme;
    let p = provider_name(form.provider);
    let name = sanitize(&form.base.name).into_owned();
    let mut lines: Vec<Line> = Vec::new();
    let para = |lines: &mut Vec<Line>, text: &str, style| {
        for l in wrap(text, width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    para(&mut lines, &format!("✗ {p} refused the edit. {p} said: {}", sanitize(&pick.said)), t.failed);
    para(
        &mut lines,
        &format!(
            "{p} wants the instance's model or registry with every update, and its details do not say which one \
             {name} runs. infertop does not guess: pick the one it runs (another one would move it to another model)."
        ),
        t.text,
    );
    if let Some(cmd) = &form.base.command {
        para(&mut lines, &format!("Its startup command: {}", sanitize(cmd)), t.dim);
    }
    lines.push(Line::from(Span::styled("Your edit, sent again with the pick:", t.title)));
    for d in &pick.diff {
        lines.push(Line::from(Span::styled(sanitize(d).into_owned(), t.accent)));
    }
    let choice = state.catalogs.loaded(form.account).and_then(|c| pick.choice(c));
    match &choice {
        Some(source) => para(
            &mut lines,
            &format!("y sends it: {}", sanitize(&will_run(&state.catalogs, form.account, source))),
            t.warning,
        ),
        None => para(&mut lines, "Nothing is picked yet: ↑↓ picks the one it runs, then y sends.", t.dim),
    }
    let mut tabs = vec![Span::raw(" ")];
    for k in [SourceKind::Model, SourceKind::Registry] {
        let style = if k == pick.kind { t.title.add_modifier(Modifier::REVERSED) } else { t.dim };
        tabs.push(Span::styled(format!(" {} ", k.label()), style));
        tabs.push(Span::raw(" "));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(tabs));
    let mut focus = lines.len();
    match state.catalogs.by_account.get(&form.account) {
        Some(CatalogEntry::Loaded { catalog: c, .. }) => {
            let rows: Vec<String> = match pick.kind {
                SourceKind::Model => c
                    .models
                    .iter()
                    .map(|m| {
                        let port = m.port.map(|p| format!("port {p}")).unwrap_or_default();
                        format!("{:<44} {:<10} {}", sanitize(&m.name), port, sanitize(&m.features.join(" ")))
                    })
                    .collect(),
                SourceKind::Registry => c
                    .registries
                    .iter()
                    .map(|r| {
                        format!("{:<44} {}", sanitize(&r.name), sanitize(r.url.as_deref().unwrap_or("")))
                    })
                    .collect(),
            };
            if rows.is_empty() {
                let what = pick.kind.label().to_lowercase();
                lines.push(Line::from(Span::styled(format!("   the catalog has no {what}"), t.dim)));
            }
            for (i, row) in rows.into_iter().enumerate() {
                let selected = pick.sel == Some(i);
                if selected {
                    focus = lines.len();
                }
                lines.push(Line::from(vec![
                    Span::styled(if selected { " ▶ " } else { "   " }, t.accent),
                    Span::styled(row, if selected { t.selected } else { t.text }),
                ]));
            }
            for (part, msg) in &c.problems {
                lines.push(Line::from(Span::styled(
                    format!("   ✗ {}: {}", sanitize(part), sanitize(msg)),
                    t.warning,
                )));
            }
        }
        Some(CatalogEntry::Failed(e)) => lines.push(Line::from(Span::styled(
            format!("   ✗ the catalog could not be read: {} (r: try again)", sanitize(&e.to_string())),
            t.failed,
        ))),
        _ => lines.push(Line::from(Span::styled("   reading the account's catalog…", t.progressing))),
    }
    let footer = vec![Line::from(Span::styled(
        " ↑↓ pick · Tab models/registries · y send with it · Esc back to the form",
        t.header,
    ))];
    (lines, footer, focus)
}
