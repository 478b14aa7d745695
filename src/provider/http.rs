//! The one shared HTTP client: pooled connections, connect and request timeouts, a per-provider limit on
//! requests in flight and on requests per second (a token bucket), retries with backoff and jitter that
//! honour `Retry-After` for requests that are safe to repeat, and errors that carry the provider's own
//! message. No credential ever reaches a log line here: headers are not logged, form values are not printed
//! by `Debug`, and error messages come from response bodies.

use super::{ApiError, ApiResult, ErrorKind};
use crate::model::ProviderKind;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

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

/// Requests per second to one account: a token bucket that refills at `per_second` and holds at most `burst`
/// tokens. Every attempt (retries included) takes a token; a request without one waits for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained rate; 0 (or anything not finite and positive) turns the limit off.
    pub per_second: f64,
    /// Requests that may go at once after a quiet spell.
    pub burst: u32,
}

impl Default for RateLimit {
    /// Generous: a dashboard refresh of a large fleet goes out at once, a runaway loop does not.
    fn default() -> Self {
        RateLimit { per_second: 20.0, burst: 40 }
    }
}

impl RateLimit {
    pub fn unlimited() -> Self {
        RateLimit { per_second: 0.0, burst: 0 }
    }

    pub fn is_unlimited(&self) -> bool {
        !(self.per_second.is_finite() && self.per_second > 0.0)
    }
}

/// The token bucket behind [`RateLimit`]. Tokens may go negative: each caller reserves its token at once and
/// waits for the debt ahead of it to be paid, so waiters are served in the order they arrived.
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(limit: RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        TokenBucket { limit, state: Mutex::new((burst, Instant::now())) }
    }

    /// Takes one token at `now` and returns how long the caller must wait before sending.
    pub fn reserve(&self, now: Instant) -> Duration {
        if self.limit.is_unlimited() {
            return Duration::ZERO;
        }
        let rate = self.limit.per_second;
        let burst = f64::from(self.limit.burst.max(1));
        let Ok(mut g) = self.state.lock() else { return Duration::ZERO };
        let (tokens, last) = &mut *g;
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * rate).min(burst);
        *last = now.max(*last);
        *tokens -= 1.0;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            // A rate so small that the wait does not fit a Duration waits an hour instead of panicking.
            Duration::try_from_secs_f64(-*tokens / rate).unwrap_or(Duration::from_secs(3600))
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
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
#[derive(Clone)]
pub enum Body {
    None,
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` pairs. Values may be secrets: never logged.
    Form(Vec<(String, String)>),
}

impl std::fmt::Debug for Body {
    /// Form values (a client secret, say) are not printed, only their names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::None => f.write_str("None"),
            Body::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Body::Form(pairs) => f
                .debug_tuple("Form")
                .field(&pairs.iter().map(|(k, _)| (k, "***")).collect::<Vec<_>>())
                .finish(),
        }
    }
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

/// A provider's handle on the shared client: its own limits on requests in flight and per second, and its
/// retry policy.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    provider: ProviderKind,
    limiter: Arc<Semaphore>,
    bucket: Arc<TokenBucket>,
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
            bucket: Arc::new(TokenBucket::new(RateLimit::default())),
            limit: max_in_flight.max(1),
            policy,
            parse_error,
        }
    }

    /// Sets the requests-per-second limit (the default is [`RateLimit::default`]).
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.bucket = Arc::new(TokenBucket::new(limit));
        self
    }

    /// Requests in flight right now for this provider.
    /// The most requests this handle sends at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn in_flight(&self, max_in_flight: usize) -> usize {
        max_in_flight.saturating_sub(self.limiter.available_permits())
    }

    /// Sends with retries (for idempotent requests) and returns the response of a 2xx, else the error. A
    /// request that is not safe to repeat is sent once and its error, whatever it is, goes to the caller; so
    /// does a `Retry-After` longer than the policy's `max_retry_after`.
    pub async fn send(&self, req: &Request) -> ApiResult<Response> {
        let retries = if req.idempotent { self.policy.max_retries } else { 0 };
        let max_wait = self.policy.max_retry_after.as_secs_f64();
        let mut attempt = 0;
        loop {
            let result = self.send_once(req).await;
            match result {
                Ok(r) => return Ok(r),
                Err(e)
                    if attempt < retries
                        && e.is_transient()
                        && e.retry_after.is_none_or(|s| s <= max_wait) =>
                {
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
        // The rate limit first, so that a request waiting for its turn does not hold a slot in flight.
        self.bucket.acquire().await;
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
        if e.is_body() && !e.is_timeout() {
            return ApiError::new(
                self.provider,
                ErrorKind::Network,
                "the connection broke while reading the response",
            );
        }
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
                // The innermost cause says what happened (refused, reset, closed early...).
                let mut cause = None;
                let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
                while let Some(s) = src {
                    cause = Some(s.to_string());
                    src = s.source();
                }
                let what =
                    if e.is_connect() { "could not reach the server" } else { "the connection failed" };
                match cause {
                    Some(c) => format!("{what}: {c}"),
                    None => what.to_string(),
                }
            }
        };
        ApiError::new(self.provider, kind, what)
    }
}

/// `Retry-After` as seconds, from `retry-after-ms`, a number of seconds, or an HTTP date. Only finite,
/// non-negative values count (`NaN`, `inf` and `-5` parse as floats but mean nothing here).
pub fn retry_after(headers: &HeaderMap) -> Option<f64> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(ms / 1000.0);
    }
    if let Some(s) = number("retry-after") {
        return Some(s);
    }
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
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

    #[test]
    fn retry_after_ignores_values_that_are_not_a_wait() {
        for bad in ["NaN", "inf", "-5", "1e999", "soon"] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", bad.parse().unwrap());
            assert_eq!(retry_after(&h), None, "retry-after: {bad}");
            let mut h = HeaderMap::new();
            h.insert("retry-after-ms", bad.parse().unwrap());
            assert_eq!(retry_after(&h), None, "retry-after-ms: {bad}");
        }
    }

    fn ms(d: Duration) -> u128 {
        (d.as_secs_f64() * 1000.0).round() as u128
    }

    #[test]
    fn token_bucket_allows_a_burst_then_spaces_requests() {
        let b = TokenBucket::new(RateLimit { per_second: 10.0, burst: 3 });
        let t0 = Instant::now();
        let waits: Vec<u128> = (0..6).map(|_| ms(b.reserve(t0))).collect();
        // Three at once, then one every 100 ms, each waiting behind the ones before it.
        assert_eq!(waits, [0, 0, 0, 100, 200, 300]);
        // A second later the debt of three is paid and the bucket is full again, but no fuller than the burst.
        let t1 = t0 + Duration::from_secs(1);
        let waits: Vec<u128> = (0..4).map(|_| ms(b.reserve(t1))).collect();
        assert_eq!(waits, [0, 0, 0, 100]);
        // Half a token's time later, the next one waits for the rest of the debt.
        let waits: Vec<u128> = (0..2).map(|_| ms(b.reserve(t1 + Duration::from_millis(50)))).collect();
        assert_eq!(waits, [150, 250]);
    }

    #[test]
    fn token_bucket_off_and_default() {
        let off = TokenBucket::new(RateLimit::unlimited());
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| off.reserve(t0).is_zero()));
        let nan = TokenBucket::new(RateLimit { per_second: f64::NAN, burst: 1 });
        assert!((0..100).all(|_| nan.reserve(t0).is_zero()));
        let tiny = TokenBucket::new(RateLimit { per_second: 1e-300, burst: 1 });
        assert!(tiny.reserve(t0).is_zero());
        assert_eq!(tiny.reserve(t0), Duration::from_secs(3600));
        // The default lets a burst of 40 through at once, then 20 per second.
        let d = TokenBucket::new(RateLimit::default());
        assert!((0..40).all(|_| d.reserve(t0).is_zero()));
        assert_eq!(ms(d.reserve(t0)), 50);
    }

    #[test]
    fn form_values_are_not_printed() {
        let r = Request::new(Method::POST, "http://x/api/v2/token")
            .form(vec![("client_secret".into(), "s3cr3t-value".into())])
            .header("authorization", "Bearer tok-abc");
        let text = format!("{r:?}");
        assert!(!text.contains("s3cr3t-value") && !text.contains("tok-abc"), "{text}");
        assert!(text.contains("client_secret"));
    }
}
