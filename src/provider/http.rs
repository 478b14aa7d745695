//! The one shared HTTP client: pooled connections, connect and request timeouts, a per-provider limit on
//! requests in flight, retries with backoff and jitter that honour `Retry-After` for requests that are safe
//! to repeat, and errors that carry the provider's own message. No credential ever reaches a log line here:
//! headers are not logged and error messages come from response bodies.

use super::{ApiError, ApiResult, ErrorKind};
use crate::model::ProviderKind;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Builds the one `reqwest::Client` the process uses.
pub fn build_client(connect_timeout: Duration, request_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(32)
        .user_agent(concat!("infertop/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("reqwest client with static settings")
}

/// Retry settings for safe requests.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` we honour; longer waits are reported instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Default::default() }
    }

    /// The delay before retry number `attempt` (0-based): exponential, capped, times a jitter in [0.75, 1].
    pub fn backoff(&self, attempt: u32, retry_after: Option<f64>) -> Duration {
        if let Some(s) = retry_after
            && s > 0.0
            && s <= self.max_retry_after.as_secs_f64()
        {
            return Duration::from_secs_f64(s);
        }
        let exp = self.base_delay.as_secs_f64() * 2f64.powi(attempt.min(16) as i32);
        let capped = exp.min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(capped * (0.75 + 0.25 * jitter_unit()))
    }
}

/// A number in [0, 1) that differs from call to call (no need for a crypto RNG here).
fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The body of a request.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` pairs. Values may be secrets: never logged.
    Form(Vec<(String, String)>),
}

/// One request, described so that it can be sent again on retry.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Body,
    /// Safe to repeat: GETs, and writes whose repetition cannot do harm.
    pub idempotent: bool,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        let idempotent = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::None,
            idempotent,
        }
    }

    pub fn query(mut self, k: &str, v: impl ToString) -> Self {
        self.query.push((k.to_string(), v.to_string()));
        self
    }

    pub fn json(mut self, v: serde_json::Value) -> Self {
        self.body = Body::Json(v);
        self
    }

    pub fn form(mut self, pairs: Vec<(String, String)>) -> Self {
        self.body = Body::Form(pairs);
        self
    }

    /// Adds a header. Header values marked sensitive are never printed by reqwest's Debug either.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(mut v) = reqwest::header::HeaderValue::from_str(value) {
            if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-api-key") {
                v.set_sensitive(true);
            }
            self.headers.insert(name, v);
        }
        self
    }

    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
}

/// A response with its body read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Response {
    /// Decodes the body; a bad body is an error, never a panic.
    pub fn json<T: DeserializeOwned>(&self, provider: ProviderKind) -> ApiResult<T> {
        // The plain decoder first: tracking the path costs time on every body, and is only needed to say where
        // a bad one went wrong.
        if let Ok(v) = serde_json::from_slice(&self.body) {
            return Ok(v);
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            ApiError::new(
                provider,
                ErrorKind::Decode,
                format!("could not read the response ({} at {})", e.inner(), e.path()),
            )
            .with_status(self.status.as_u16())
        })
    }
}

/// Parses a provider's error body into an [`ApiError`].
pub type ErrorParser = fn(ProviderKind, u16, &[u8]) -> ApiError;

/// A provider's handle on the shared client: its own limit on requests in flight and its retry policy.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    provider: ProviderKind,
    limiter: Arc<Semaphore>,
    limit: usize,
    pub policy: RetryPolicy,
    parse_error: ErrorParser,
}

impl Http {
    pub fn new(
        client: reqwest::Client,
        provider: ProviderKind,
        max_in_flight: usize,
        policy: RetryPolicy,
        parse_error: ErrorParser,
    ) -> Self {
        Http {
            client,
            provider,
            limiter: Arc::new(Semaphore::new(max_in_flight.max(1))),
            limit: max_in_flight.max(1),
            policy,
            parse_error,
        }
    }

    /// Requests in flight right now for this provider.
    /// The most requests this handle sends at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn in_flight(&self, max_in_flight: usize) -> usize {
        max_in_flight.saturating_sub(self.limiter.available_permits())
    }

    /// Sends with retries (for idempotent requests) and returns the response of a 2xx, else the error.
    pub async fn send(&self, req: &Request) -> ApiResult<Response> {
        let retries = if req.idempotent { self.policy.max_retries } else { 0 };
        let mut attempt = 0;
        loop {
            let result = self.send_once(req).await;
            match result {
                Ok(r) => return Ok(r),
                Err(e) if attempt < retries && e.is_transient() => {
                    let delay = self.policy.backoff(attempt, e.retry_after);
                    tracing::debug!(
                        provider = %self.provider, method = %req.method, url = %req.url,
                        attempt, ?delay, error = %e, "retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::debug!(provider = %self.provider, method = %req.method, url = %req.url, error = %e, "request failed");
                    return Err(e);
                }
            }
        }
    }

    /// Sends and decodes a JSON body.
    pub async fn json<T: DeserializeOwned>(&self, req: &Request) -> ApiResult<T> {
        self.send(req).await?.json(self.provider)
    }

    async fn send_once(&self, req: &Request) -> ApiResult<Response> {
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| ApiError::new(self.provider, ErrorKind::Other, "the client is shutting down"))?;
        let mut rb = self.client.request(req.method.clone(), &req.url).headers(req.headers.clone());
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        rb = match &req.body {
            Body::None => rb,
            Body::Json(v) => rb.json(v),
            Body::Form(pairs) => rb.form(pairs),
        };
        let resp = rb.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| self.transport_error(&e))?;
        if status.is_success() {
            return Ok(Response { status, headers, body });
        }
        let mut err = (self.parse_error)(self.provider, status.as_u16(), &body);
        err.status = Some(status.as_u16());
        err.retry_after = retry_after(&headers);
        Err(err)
    }

    fn transport_error(&self, e: &reqwest::Error) -> ApiError {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_decode() {
            ErrorKind::Decode
        } else {
            ErrorKind::Network
        };
        // reqwest's Display includes the URL, which never holds a credential here (all credentials travel in
        // headers or form bodies); drop the source chain detail to keep it short.
        let what = match kind {
            ErrorKind::Timeout => "the request timed out".to_string(),
            ErrorKind::Decode => "the response body was cut short or malformed".to_string(),
            _ => {
                let mut msg = "could not reach the server".to_string();
                let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
                while let Some(s) = src {
                    msg = format!("could not reach the server: {s}");
                    src = s.source();
                }
                msg
            }
        };
        ApiError::new(self.provider, kind, what)
    }
}

/// `Retry-After` as seconds, from `retry-after-ms`, a number of seconds, or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<f64> {
    if let Some(ms) =
        headers.get("retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<f64>().ok())
    {
        return Some(ms / 1000.0);
    }
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<f64>() {
        return Some(s);
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0;
    Some(secs.max(0.0))
}

/// Builds a short message from an error body that is not in the provider's shape.
pub fn fallback_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        let short: String = text.chars().take(200).collect();
        format!("HTTP {status}: {short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_honours_retry_after_within_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, Some(1.5)), Duration::from_millis(1500));
        // Too long or zero: fall back to exponential backoff.
        let d = p.backoff(0, Some(3600.0));
        assert!(d <= Duration::from_millis(300) && d >= Duration::from_millis(225));
        let d = p.backoff(10, None);
        assert!(d <= Duration::from_secs(8) && d >= Duration::from_secs(6));
    }

    #[test]
    fn retry_after_parses_seconds_and_ms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(2.0));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(0.25));
    }
}
