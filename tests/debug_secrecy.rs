//! API keys, client secrets and access tokens never appear in `Debug` output: every type that holds one is
//! formatted with `{:?}` and `{:#?}` after it has done its work (the Run:ai client with a token in its cache)
//! and the secret text must be absent.

use axum::response::IntoResponse;
use infertop::model::ProviderKind;
use infertop::provider::http::{Body, Request, RetryPolicy, build_client};
use infertop::provider::{
    AccountSpec, Credentials, GcoreApi, Provider, Secret, demo_accounts, gcore, runai, sesterce,
};
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const GCORE_KEY: &str = "gk-SECRET-1f2e3d";
const SESTERCE_KEY: &str = "sk-SECRET-4c5b6a";
const RUNAI_SECRET: &str = "rs-SECRET-7a8b9c";
const RUNAI_TOKEN: &str = "tok-SECRET-0d0e0f";
const SECRETS: [&str; 4] = [GCORE_KEY, SESTERCE_KEY, RUNAI_SECRET, RUNAI_TOKEN];

fn assert_hidden(what: &str, v: &dyn std::fmt::Debug) {
    for text in [format!("{v:?}"), format!("{v:#?}")] {
        for s in SECRETS {
            assert!(!text.contains(s), "{what} shows a secret: {text}");
        }
        // The part of a secret that makes it one does not leak either.
        assert!(!text.contains("SECRET"), "{what}: {text}");
    }
}

fn specs(base: &str) -> Vec<AccountSpec> {
    let mut specs = demo_accounts(base);
    for s in &mut specs {
        s.retry = RetryPolicy::none();
        s.credentials = match s.kind {
            ProviderKind::Gcore => Credentials::Gcore { api_key: Secret::new(GCORE_KEY), project_id: 1 },
            ProviderKind::Sesterce => Credentials::Sesterce { api_key: Secret::new(SESTERCE_KEY) },
            ProviderKind::Runai => {
                Credentials::Runai { client_id: "app".into(), client_secret: Secret::new(RUNAI_SECRET) }
            }
        };
    }
    specs
}

/// A stand-in server: a Run:ai token endpoint that hands out `RUNAI_TOKEN` and checks the client secret, a
/// workloads list, and a 401 everywhere else; it records the credentials it was sent.
async fn stand_in() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let log = log.clone();
        async move {
            let path = req.uri().path().to_string();
            for h in ["authorization", "x-api-key"] {
                if let Some(v) = req.headers().get(h).and_then(|v| v.to_str().ok()) {
                    log.lock().unwrap().push(v.to_string());
                }
            }
            let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap_or_default();
            log.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
            match path.as_str() {
                "/api/v2/token" => {
                    axum::Json(json!({"access_token": RUNAI_TOKEN, "expires_in": 3600})).into_response()
                }
                "/api/v1/workloads" => axum::Json(json!({"workloads": [
                    {"id": "w1", "name": "llm", "type": "Inference", "phase": "Running"}
                ]}))
                .into_response(),
                _ => (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "no"})))
                    .into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn no_credential_shows_in_debug_output() {
    let (base, seen) = stand_in().await;
    let http = build_client(Duration::from_secs(5), Duration::from_secs(10));
    let specs = specs(&base);
    for s in &specs {
        assert_hidden("AccountSpec", s);
        assert_hidden("Credentials", &s.credentials);
    }
    let spec = |k: ProviderKind| specs.iter().find(|s| s.kind == k).unwrap();

    let g = gcore::GcoreClient::new(spec(ProviderKind::Gcore), http.clone());
    let mut g2 = spec(ProviderKind::Gcore).clone();
    g2.gcore_api = GcoreApi::V2;
    let g2 = gcore::GcoreClient::new(&g2, http.clone());
    let s = sesterce::SesterceClient::new(spec(ProviderKind::Sesterce), http.clone());
    let r = runai::RunaiClient::new(spec(ProviderKind::Runai), http.clone());

    // Every client sends its credential (the stand-in refuses the Gcore and Sesterce ones), and the errors that
    // come back are formatted too.
    let errors = [g.list().await.unwrap_err(), g2.list().await.unwrap_err(), s.list().await.unwrap_err()];
    for e in &errors {
        assert_eq!(e.status, Some(401), "{e}");
        assert_hidden("ApiError", e);
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
    assert_eq!(r.list().await.unwrap().len(), 1);
    let sent = seen.lock().unwrap().join("\n");
    for secret in SECRETS {
        assert!(
            sent.contains(secret),
            "the stand-in should have seen {secret}; the test would prove nothing"
        );
    }

    assert_hidden("GcoreClient", &g);
    assert_hidden("GcoreClient v2", &g2);
    assert_hidden("SesterceClient", &s);
    // The Run:ai client holds the token it was given, in its cache: formatted, but not in clear.
    let shown = format!("{r:?}");
    assert!(shown.contains("token: Some(Token { value: Secret(***)"), "{shown}");
    assert_hidden("RunaiClient", &r);

    // A request as a client builds it: the header marked sensitive and the form values are not printed.
    let req = Request::new(Method::POST, format!("{base}/api/v2/token"))
        .header("authorization", &format!("Bearer {RUNAI_TOKEN}"))
        .header("x-api-key", SESTERCE_KEY)
        .form(vec![("client_secret".into(), RUNAI_SECRET.into()), ("client_id".into(), "app".into())]);
    assert_hidden("Request", &req);
    assert_hidden("Body", &Body::Form(vec![("client_secret".into(), RUNAI_SECRET.into())]));
    assert_hidden("Secret", &Secret::new(GCORE_KEY));
}
