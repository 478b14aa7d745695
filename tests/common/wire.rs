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

/// Only the max fields of a scale (and what the simulator moves itself) changed on the wire, and they did.
pub fn assert_only_max_changed(name: &str, before: &Value, after: &Value) {
    let mut changed = Vec::new();
    changed_paths(before, after, "", &mut changed);
    let allowed = |p: &String| p.ends_with("scale/max") || p.ends_with("autoscaling/maxReplicas");
    let unexpected: Vec<&String> = changed.iter().filter(|p| !derived(p) && !allowed(p)).collect();
    assert!(unexpected.is_empty(), "{name}: untouched fields changed: {unexpected:?}");
    assert!(changed.iter().any(allowed), "{name}: the change is not on the wire: {changed:?}");
}

/// The simulator's demo accounts plus a Gcore account on the legacy v2 API (index 3).
pub fn accounts_with_v2(base: &str) -> Vec<infertop::provider::AccountSpec> {
    let mut accounts = infertop::provider::demo_accounts(base);
    let mut v2 = accounts[0].clone();
    v2.name = "gcore-v2".into();
    v2.gcore_api = infertop::provider::GcoreApi::V2;
    accounts.push(v2);
    accounts
}

/// The raw wire JSON of a deployment, straight from the simulator, with the demo credentials.
pub async fn raw_deployment(
    http: &reqwest::Client,
    base: &str,
    account: &infertop::provider::AccountSpec,
    id: &str,
) -> Value {
    use infertop::model::ProviderKind;
    use infertop::provider::GcoreApi;
    let req = match (account.kind, account.gcore_api) {
        (ProviderKind::Gcore, GcoreApi::V3) => http
            .get(format!("{base}/cloud/v3/inference/1/deployments/{id}"))
            .header("Authorization", "APIKey demo-gcore-key"),
        (ProviderKind::Gcore, GcoreApi::V2) => http
            .get(format!("{base}/cloud/v2/inference/deployments/{id}"))
            .header("Authorization", "APIKey demo-gcore-key"),
        (ProviderKind::Sesterce, _) => {
            http.get(format!("{base}/ai-inference/instances/{id}")).header("x-api-key", "demo-sesterce-key")
        }
        (ProviderKind::Runai, _) => {
            let tok = runai_token(http, base).await;
            http.get(format!("{base}/api/v1/workloads/inferences/{id}")).bearer_auth(tok)
        }
    };
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "raw GET {}", resp.status());
    resp.json().await.unwrap()
}

/// A Run:ai access token from the simulator, by `/api/v2/token` or else `/api/v1/token` (which one is served
/// is the `runai-token` ambiguity).
pub async fn runai_token(http: &reqwest::Client, base: &str) -> String {
    let v2 = http
        .post(format!("{base}/api/v2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo"),
            ("client_secret", "demo-secret"),
        ])
        .send()
        .await
        .unwrap();
    if v2.status().is_success() {
        let tok: Value = v2.json().await.unwrap();
        return tok["access_token"].as_str().unwrap().to_string();
    }
    let tok: Value = http
        .post(format!("{base}/api/v1/token"))
        .json(&serde_json::json!({"grantType": "client_credentials", "clientID": "demo", "clientSecret": "demo-secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tok["accessToken"].as_str().unwrap().to_string()
}
