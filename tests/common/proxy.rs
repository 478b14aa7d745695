//! A loopback proxy in front of the simulator that can rewrite the body of a write on its way, to play a
//! provider that does not take a field it was sent. Bounded: it serves at most 2000 requests and stops by
//! itself after two minutes (or when dropped).

#![allow(dead_code)]

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Rewrites a write's JSON body: (method, path, body).
pub type Rewrite = Arc<dyn Fn(&str, &str, &mut Value) + Send + Sync>;

/// What happens to the answer of a write (PATCH or PUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAnswer {
    /// Passed on.
    Pass,
    /// The write reaches the provider, then the connection breaks before its answer is read.
    BreakAfter,
    /// The write never reaches the provider; the connection breaks.
    Lose,
    /// The write is held this long (longer than the client waits), then reaches the provider even though
    /// the client has hung up (as a real server goes on with a request).
    Late(Duration),
    /// The first write reaches the provider and its answer is lost; every later one is answered 503 without
    /// reaching it: a retried write whose last answer is a server error, though an earlier try landed.
    LandThenFail,
    /// Writes pass; every pricing preview (a POST whose path has `/pricing`) answers 404 without reaching
    /// the provider: an endpoint the provider does not serve (any more).
    NoPricing,
}

/// Half a body, then a reset connection.
fn broken() -> axum::response::Response {
    let stream = futures::stream::iter(vec![
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"tas")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "test proxy: connection broken")),
    ]);
    axum::response::Response::builder().status(200).body(axum::body::Body::from_stream(stream)).unwrap()
}

pub struct Proxy {
    pub base: String,
    /// Writes whose body was rewritten.
    pub rewritten: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(target: String, rewrite: Rewrite) -> Proxy {
        Proxy::start_with(target, rewrite, WriteAnswer::Pass).await
    }

    pub async fn start_with(target: String, rewrite: Rewrite, answer: WriteAnswer) -> Proxy {
        let http = reqwest::Client::new();
        let served = Arc::new(AtomicU32::new(0));
        let rewritten = Arc::new(AtomicU32::new(0));
        let count = rewritten.clone();
        let writes = Arc::new(AtomicU32::new(0));
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (http, target, rewrite, served, count, writes) = (
                http.clone(),
                target.clone(),
                rewrite.clone(),
                served.clone(),
                count.clone(),
                writes.clone(),
            );
            async move {
                if served.fetch_add(1, Ordering::Relaxed) >= 2000 {
                    return axum::response::Response::builder()
                        .status(503)
                        .body(axum::body::Body::from("test proxy: request budget spent"))
                        .unwrap();
                }
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                let pq = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                let headers = req.headers().clone();
                let mut bytes =
                    axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default().to_vec();
                if answer == WriteAnswer::NoPricing && method == "POST" && path.contains("/pricing") {
                    return axum::response::Response::builder()
                        .status(404)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(r#"{"message":"test proxy: no such endpoint"}"#))
                        .unwrap();
                }
                let write = matches!(method.as_str(), "PATCH" | "PUT");
                if write && answer == WriteAnswer::Lose {
                    return broken();
                }
                let first_write = write && writes.fetch_add(1, Ordering::Relaxed) == 0;
                if write && answer == WriteAnswer::LandThenFail && !first_write {
                    return axum::response::Response::builder()
                        .status(503)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(
                            r#"{"statusCode":503,"message":"test proxy: unavailable"}"#,
                        ))
                        .unwrap();
                }
                if write && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
                    let before = v.clone();
                    rewrite(method.as_str(), &path, &mut v);
                    if v != before {
                        count.fetch_add(1, Ordering::Relaxed);
                        bytes = serde_json::to_vec(&v).unwrap();
                    }
                }
                let mut rb = http.request(method, format!("{target}{pq}")).body(bytes);
                for (k, v) in &headers {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let resp = match answer {
                    // Its own task: it goes on when the client hangs up.
                    WriteAnswer::Late(d) if write => tokio::spawn(async move {
                        tokio::time::sleep(d).await;
                        rb.send().await
                    })
                    .await
                    .expect("the late write's task"),
                    _ => rb.send().await,
                }
                .expect("forward to the simulator");
                if write && (answer == WriteAnswer::BreakAfter || answer == WriteAnswer::LandThenFail) {
                    return broken();
                }
                let mut out = axum::response::Response::builder().status(resp.status());
                for (k, v) in resp.headers() {
                    if k != "content-length" && k != "transfer-encoding" {
                        out = out.header(k, v);
                    }
                }
                out.body(axum::body::Body::from(resp.bytes().await.unwrap_or_default())).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(120), axum::serve(listener, app)).await;
        });
        Proxy { base, rewritten, task }
    }
}
