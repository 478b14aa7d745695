//! Contract checks: validate a JSON body against a response or request schema of a provider's own OpenAPI
//! document (`tests/fixtures/specs`, copies of `../shared/specs`).

#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::PathBuf;

/// A loaded OpenAPI document.
pub struct Spec {
    doc: Value,
    /// OpenAPI 3.0 uses `nullable`, which JSON Schema does not know; it is rewritten on load.
    openapi_30: bool,
}

impl Spec {
    /// Loads `tests/fixtures/specs/NAME` (e.g. `gcore-inference.openapi.json`).
    pub fn load(name: &str) -> Spec {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let mut doc: Value = serde_json::from_str(&text).expect("spec is JSON");
        let openapi_30 = doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0"));
        if openapi_30 {
            rewrite_nullable(&mut doc);
        }
        Spec { doc, openapi_30 }
    }

    fn operation(&self, method: &str, path: &str) -> &Value {
        let op = &self.doc["paths"][path][method.to_ascii_lowercase()];
        assert!(!op.is_null(), "spec has no operation {method} {path}");
        op
    }

    /// The schema of the JSON response of `method path` with `status`.
    pub fn response_schema(&self, method: &str, path: &str, status: u16) -> Value {
        let op = self.operation(method, path);
        let resp = &op["responses"][status.to_string()];
        assert!(!resp.is_null(), "spec has no {status} response for {method} {path}");
        let resp = self.deref(resp);
        let schema = &resp["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "spec has no JSON schema for {status} of {method} {path}");
        schema.clone()
    }

    /// The schema of the JSON request body of `method path`.
    pub fn request_schema(&self, method: &str, path: &str) -> Value {
        let op = self.operation(method, path);
        let body = self.deref(&op["requestBody"]);
        let schema = &body["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "spec has no JSON request body for {method} {path}");
        schema.clone()
    }

    /// A named component schema.
    pub fn component(&self, name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.trim_start_matches('#');
                self.doc.pointer(ptr).unwrap_or_else(|| panic!("unresolved {r}"))
            }
            None => v,
        }
    }

    /// Validates `instance` against `schema` (which may `$ref` the spec's components). Returns every error.
    pub fn check(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut root = schema.clone();
        if let Value::Object(m) = &mut root {
            m.insert("components".into(), self.doc["components"].clone());
        } else {
            panic!("schema is not an object");
        }
        let draft = if self.openapi_30 { jsonschema::Draft::Draft4 } else { jsonschema::Draft::Draft202012 };
        let validator = jsonschema::options()
            .with_draft(draft)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema does not compile: {e}"));
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// Panics with every error when `instance` does not match the response schema.
    pub fn assert_response(&self, method: &str, path: &str, status: u16, instance: &Value) {
        let schema = self.response_schema(method, path, status);
        let errors = self.check(&schema, instance);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match the spec:\n{}",
            errors.join("\n")
        );
    }

    /// Panics with every error when `instance` does not match the request schema.
    pub fn assert_request(&self, method: &str, path: &str, instance: &Value) {
        let schema = self.request_schema(method, path);
        let errors = self.check(&schema, instance);
        assert!(errors.is_empty(), "{method} {path} request does not match the spec:\n{}", errors.join("\n"));
    }
}

/// OpenAPI 3.0 `nullable: true` becomes JSON Schema's "or null".
fn rewrite_nullable(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                rewrite_nullable(child);
            }
            if m.get("nullable").and_then(Value::as_bool) == Some(true) {
                m.remove("nullable");
                let inner = Value::Object(std::mem::take(m));
                m.insert("anyOf".into(), json!([inner, { "type": "null" }]));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_nullable),
        _ => {}
    }
}

/// The JSON examples of a seed document (`tests/fixtures/seeds/NAME`): every top-level `{...}` or `[...]`
/// block that parses as JSON, in order.
pub fn seed_json_examples(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at_line_start = i == 0 || bytes[i - 1] == b'\n' || bytes[i - 1] == b'\'';
        if (c == b'{' || c == b'[') && at_line_start {
            let mut de = serde_json::Deserializer::from_slice(&bytes[i..]).into_iter::<Value>();
            if let Some(Ok(v)) = de.next() {
                let consumed = de.byte_offset();
                if v.is_object()
                    || (v.is_array()
                        && v.as_array().is_some_and(|a| a.iter().all(Value::is_object) && !a.is_empty()))
                {
                    out.push(v);
                }
                i += consumed.max(1);
                continue;
            }
        }
        i += 1;
    }
    out
}
