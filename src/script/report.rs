//! What a scripted change prints: the plan (`--dry-run`, or before the question on a terminal) and the outcomes,
//! as a table or as one JSON object per deployment and line, in the bulk end table's words. Every string from a
//! provider is shown with its control characters made visible.

use super::{Run, What};
use crate::app::bulk::{Outcome, Planned};
use crate::model::bulk::{RegionDelta, tally};
use crate::model::cost::{CostChange, Figure};
use crate::model::text::sanitize;
use serde_json::{Value, json};

/// `account/name`.
fn who(key: &crate::model::DeploymentKey, name: &str) -> String {
    format!("{}/{}", sanitize(&key.account), sanitize(name))
}

fn regions_text(regions: &[RegionDelta]) -> String {
    regions
        .iter()
        .map(|r| format!("{}: {}", sanitize(&r.name), r.changes().join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn regions_json(regions: &[RegionDelta]) -> Value {
    let scale = |s: &crate::model::Scale| json!({"min": s.min, "max": s.max, "cooldown": s.cooldown_seconds});
    regions
        .iter()
        .map(|r| json!({"region": r.region_id, "name": r.name, "old": scale(&r.old), "new": scale(&r.new)}))
        .collect()
}

fn figure_json(f: &Figure) -> Value {
    match f {
        Figure::Known { currency, old, new } => json!({"currency": currency, "before": old, "after": new}),
        Figure::Nothing => json!({"before": 0.0, "after": 0.0}),
        Figure::Asking => json!({"unknown": "not priced"}),
        Figure::Unknown(why) => json!({"unknown": why}),
    }
}

fn cost_json(c: &CostChange) -> Value {
    json!({"per_hour_at_min": figure_json(&c.at_min()), "per_hour_at_max": figure_json(&c.at_max())})
}

/// The review's cost lines (`ui::cost::lines`), as plain text.
fn cost_lines(changes: &[CostChange]) -> Vec<String> {
    let theme = crate::app::theme::Theme::named(crate::app::theme::ThemeName::Mono);
    crate::ui::cost::lines(changes, &theme)
        .into_iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// One JSON line per deployment.
fn item_json(run: &Run, i: usize, dry_run: bool) -> Value {
    let item = &run.items[i];
    let mut v = json!({
        "account": &*item.key.account,
        "provider": item.key.provider.label(),
        "id": item.key.id,
        "name": item.name,
    });
    let o = v.as_object_mut().expect("an object");
    match &item.planned {
        Planned::Scale { regions, .. } => {
            o.insert("change".into(), json!("scale"));
            o.insert("regions".into(), regions_json(regions));
        }
        Planned::Lifecycle { op, .. } => {
            o.insert("change".into(), json!(op.verb()));
        }
    }
    if let Some(c) = &run.costs[i] {
        o.insert("cost".into(), cost_json(c));
    }
    if dry_run {
        o.insert("result".into(), json!("planned"));
        return v;
    }
    o.insert("result".into(), json!(item.outcome.label()));
    o.insert("detail".into(), json!(item.outcome.detail()));
    match &item.outcome {
        Outcome::Refused(m) | Outcome::Unknown(m) => {
            o.insert("message".into(), json!(m));
        }
        Outcome::Partial(_) => {
            o.insert("not_taken".into(), json!(run.not_taken[i]));
        }
        _ => {}
    }
    if let Some(r) = run.rolled_out[i] {
        o.insert("rolled_out".into(), json!(r));
    }
    v
}

fn left_out_json(l: &crate::app::bulk::LeftOut, nothing: bool) -> Value {
    json!({
        "account": &*l.key.account,
        "provider": l.key.provider.label(),
        "id": l.key.id,
        "name": l.name,
        "result": "left out",
        "reason": l.why,
        "nothing_to_do": nothing,
    })
}

/// The plan: what will be sent to each deployment (per region, old → new; or the start/stop and what the
/// provider then does), the cost per hour before → after, and what is left out and why. On stdout for
/// `--dry-run`; on stderr, where the question is, before asking.
pub fn plan(what: &What, run: &Run, json: bool, dry_run: bool) {
    if json {
        for i in 0..run.items.len() {
            println!("{}", item_json(run, i, true));
        }
        for (l, nothing) in &run.left_out {
            println!("{}", left_out_json(l, *nothing));
        }
        return;
    }
    let mut out = Vec::new();
    if let What::Scale { change, region, .. } = what {
        let only = region.as_deref().map(|r| format!(" in region {}", sanitize(r))).unwrap_or_default();
        out.push(format!("Scale: {}{only}.", change.summary()));
    }
    if run.items.is_empty() {
        out.push("Nothing would be sent: every deployment is left out.".into());
    } else {
        out.push(format!(
            "{} change{} {}, each checked for another writer first:",
            run.items.len(),
            if run.items.len() == 1 { "" } else { "s" },
            if dry_run { "would be sent (dry run: nothing is sent)" } else { "to send" }
        ));
    }
    for item in &run.items {
        out.push(format!("  {:<9}{}", item.key.provider.label(), who(&item.key, &item.name)));
        match &item.planned {
            Planned::Scale { regions, .. } => {
                for r in regions {
                    out.push(format!("      {}: {}", sanitize(&r.name), r.changes().join(", ")));
                }
            }
            Planned::Lifecycle { what, .. } => out.push(format!("      {}", sanitize(what))),
        }
    }
    let costs: Vec<CostChange> = run.costs.iter().flatten().cloned().collect();
    if !costs.is_empty() {
        out.push(String::new());
        out.extend(cost_lines(&costs));
    }
    left_out_text(run, &mut out);
    if dry_run {
        println!("{}", out.join("\n"));
    } else {
        eprintln!("{}", out.join("\n"));
    }
}

fn left_out_text(run: &Run, out: &mut Vec<String>) {
    if run.left_out.is_empty() {
        return;
    }
    out.push(String::new());
    out.push(format!("Left out, nothing sent ({}):", run.left_out.len()));
    for (l, _) in &run.left_out {
        out.push(format!("  {:<9}{}: {}", l.key.provider.label(), who(&l.key, &l.name), sanitize(&l.why)));
    }
}

/// The outcomes: one row (or JSON line) per deployment, then the tally on stderr.
pub fn outcomes(run: &Run, json: bool) {
    let labels = run.items.iter().map(|i| i.outcome.label());
    let summary = tally(labels, run.left_out.len());
    if json {
        for i in 0..run.items.len() {
            println!("{}", item_json(run, i, false));
        }
        for (l, nothing) in &run.left_out {
            println!("{}", left_out_json(l, *nothing));
        }
        eprintln!("{summary}");
        return;
    }
    let mut out = vec![format!("{:<10}{:<9}{:<36}WHAT", "OUTCOME", "PROVIDER", "DEPLOYMENT")];
    for (i, item) in run.items.iter().enumerate() {
        let mut what = match (&item.outcome, &item.planned) {
            (Outcome::Applied(s), Planned::Scale { regions, .. }) => {
                format!("{}; {s}", regions_text(regions))
            }
            (Outcome::Applied(s), Planned::Lifecycle { op, .. }) => format!("{}: {s}", op.verb()),
            (o, _) => o.detail().to_string(),
        };
        match run.rolled_out[i] {
            Some(true) => what.push_str("; rolled out"),
            Some(false) => what.push_str("; not rolled out yet (gave up waiting)"),
            None => {}
        }
        out.push(format!(
            "{:<10}{:<9}{:<36}{}",
            item.outcome.label(),
            item.key.provider.label(),
            who(&item.key, &item.name),
            sanitize(&what)
        ));
    }
    for (l, _) in &run.left_out {
        out.push(format!(
            "{:<10}{:<9}{:<36}{}",
            "left out",
            l.key.provider.label(),
            who(&l.key, &l.name),
            sanitize(&l.why)
        ));
    }
    println!("{}", out.join("\n"));
    eprintln!("{summary}");
}
