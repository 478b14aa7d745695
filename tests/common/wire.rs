//! Comparing raw wire JSON before and after an edit.

#![allow(dead_code)]

use serde_json::Value;

/// Every JSON path whose value differs between `a` and `b`.
pub fn changed_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                changed_paths(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}/{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                changed_paths(p, q, &format!("{path}/{i}"), out);
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}

/// Fields the simulator itself moves after any change (status, rollout counters, timestamps).
pub fn derived(path: &str) -> bool {
    [
        "status",
        "deploy_status",
        "deployStatus",
        "error_message",
        "errorMessage",
        "updatedAt",
        "updated_at",
        "actualPhase",
    ]
    .iter()
    .any(|k| path.split('/').any(|seg| seg == *k))
}
