//! The shared test helpers find the seed documents' JSON examples and check shapes against the specs.

mod common;

use common::openapi::{Spec, seed_json_examples};
use serde_json::json;

#[test]
fn seed_documents_yield_their_full_examples() {
    let gcore_get = seed_json_examples("002_302b424bce316269.txt");
    assert!(gcore_get.iter().any(|v| v.get("containers").is_some() && v.get("probes").is_some()));
    let gcore_put = seed_json_examples("001_51b3ba8dd45b9c92.txt");
    assert!(
        gcore_put.iter().filter(|v| v.get("flavor_id").is_some() && v.get("containers").is_some()).count()
            >= 2
    );
    let sesterce = seed_json_examples("004_044379b10d40206f.txt");
    assert!(sesterce.iter().any(|v| v.get("autoScalingConfigurations").is_some()));
    assert!(sesterce.iter().any(|v| v.get("containers").is_some() && v.get("_id").is_some()));
}

#[test]
fn contract_checker_accepts_the_right_shape_and_rejects_a_wrong_one() {
    let spec = Spec::load("gcore-inference.openapi.json");
    let path = "/cloud/v3/inference/{project_id}/deployments/{deployment_name}";
    let schema = spec.response_schema("PATCH", path, 200);
    assert!(spec.check(&schema, &json!({"tasks": []})).is_empty());
    assert!(!spec.check(&schema, &json!({"tasks": "x"})).is_empty());
    let runai = Spec::load("runai-inference.openapi.json");
    let token = runai.response_schema("POST", "/api/v2/token", 200);
    assert!(
        runai
            .check(&token, &json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}))
            .is_empty()
    );
    assert!(!runai.check(&token, &json!({"token_type": "Bearer"})).is_empty());
}
