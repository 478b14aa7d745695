//! The layering STYLE.md asks for, checked on the source: `ui` draws from `app`, never the reverse; the
//! simulator and the provider clients do not know each other; each feature's update lives in its own module
//! so `app/update.rs` only dispatches.

use std::fs;
use std::path::Path;

fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), fs::read_to_string(&p).unwrap()));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

fn offenders(dir: &str, needles: &[&str]) -> Vec<String> {
    sources(dir)
        .into_iter()
        .flat_map(|(path, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim_start().starts_with("//") && needles.iter().any(|n| l.contains(n)))
                .map(|(i, l)| format!("{path}:{}: {}", i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn app_never_reaches_into_ui() {
    let bad = offenders("src/app", &["crate::ui", "infertop::ui"]);
    assert!(bad.is_empty(), "app depends on ui:\n{}", bad.join("\n"));
}

#[test]
fn provider_clients_never_import_the_simulator() {
    let bad = offenders("src/provider", &["crate::sim"]);
    assert!(bad.is_empty(), "provider depends on sim:\n{}", bad.join("\n"));
}

#[test]
fn update_only_dispatches() {
    // Every feature's handlers live in its own module; the dispatcher holds no `fn on_…` of its own beyond the
    // two that route keys and actions.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app/update.rs");
    let text = fs::read_to_string(path).unwrap();
    let body = text.split("#[cfg(test)]").next().unwrap();
    let fns: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("fn ") || l.starts_with("pub fn ") || l.starts_with("pub(super) fn "))
        .collect();
    assert_eq!(
        fns,
        vec![
            "pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {",
            "fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {",
            "fn on_action(state: &mut State, action: Action, fx: &mut Vec<Effect>) {",
        ],
        "app/update.rs grew logic of its own: put it in the feature's module"
    );
}
