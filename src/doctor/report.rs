//! The doctor's report as text for a terminal, and as JSON for sharing. Both go through [`scrub`] last, so
//! that not even a server that echoes a credential back can get one into the output.

use super::{Report, Severity};
use crate::model::text::sanitize;

/// A compact report per account: the sign-in, one line per endpoint (outcome, latency, what it is for), then
/// the findings, each with its endpoint and JSON path.
pub fn human(r: &Report) -> String {
    let mut s = String::new();
    let verdict = |errors: usize, warnings: usize| match (errors, warnings) {
        (0, 0) => "all green".to_string(),
        (0, w) => format!("green, {w} warning{}", plural(w)),
        (e, w) => format!("{e} error{}, {w} warning{}", plural(e), plural(w)),
    };
    s.push_str(&format!(
        "infertop doctor: {} account{}, {}\n",
        r.accounts.len(),
        plural(r.accounts.len()),
        verdict(r.errors, r.warnings)
    ));
    for a in &r.accounts {
        s.push('\n');
        s.push_str(&format!(
            "{} ({})  {}\n",
            sanitize(&a.account),
            a.provider,
            verdict(a.errors(), a.warnings())
        ));
        s.push_str(&format!("  sign-in: {}\n", sanitize(&a.auth)));
        let width = a.calls.iter().map(|c| c.endpoint.len()).max().unwrap_or(0);
        for c in &a.calls {
            let latency =
                if c.outcome == "skipped" { "-".to_string() } else { format!("{} ms", c.latency_ms) };
            let status = c.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            let mut line = format!(
                "  {:<7} {:>3} {:>7}  {:<width$}  {}",
                c.outcome,
                status,
                latency,
                c.endpoint,
                c.role,
                width = width
            );
            if c.requests > 1 {
                line.push_str(&format!(" ({} requests)", c.requests));
            }
            if !c.note.is_empty() {
                line.push_str(&format!(": {}", sanitize(&c.note)));
            }
            s.push_str(line.trim_end());
            s.push('\n');
        }
        let mut findings: Vec<_> = a.findings.iter().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in findings {
            let sev = match f.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "warning",
            };
            let times = if f.count > 1 { format!(" (x{})", f.count) } else { String::new() };
            s.push_str(&format!(
                "  {sev}: {} {}: {}: {}{times}\n",
                f.endpoint,
                sanitize(&f.path),
                serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                sanitize(&f.message)
            ));
        }
        for n in &a.not_checked {
            s.push_str(&format!("  not checked: {n}\n"));
        }
    }
    if r.errors > 0 {
        s.push_str(
            "\nErrors would stop the dashboard or an edit. Share `infertop doctor --json` in an issue.\n",
        );
    }
    s
}

/// The report as pretty JSON (the shape is [`Report`]'s, `doctor_version` 1).
pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|_| "{}".into())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Replaces every occurrence of each secret (at least 4 characters long) with `***`.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(*s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_masks_every_secret_and_leaves_short_ones() {
        assert_eq!(scrub("a key-123 b key-123", &["key-123", "ab"]), "a *** b ***");
    }
}
