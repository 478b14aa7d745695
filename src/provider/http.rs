//! The one shared HTTP client: pooled connections, connect and request timeouts, a per-provider limit on
//! requests in flight and on requests per second (a token bucket), retries with backoff and jitter that
//! honour `Retry-After` for requests that are safe to repeat, and errors that carry the provider's own
//! message. No credential ever reaches a log line here: headers are not logged, form values are not printed
//! by `Debug`, and every error leaves [`Http::send`] (and [`Response`]'s decoders) scrubbed of the account's
//! credentials ([`Scrubber`]), since a server may echo them in what it answers.
//!
//! Nothing from the network is taken on trust: redirects are not followed (a 3xx is an error naming its
//! `Location`), and every body, list and string is bounded by the account's [`Limits`].

use super::secret::{Scrubber, Secret};
use super::{ApiError, ApiResult, ErrorKind};
use crate::model::ProviderKind;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Builds the one `reqwest::Client` the process uses.
pub fn build_client(connect_timeout: Duration, request_timeout: Duration) -> reqwest::Client {
    build_client_with_roots(connect_timeout, request_timeout, Vec::new())
        .expect("reqwest client with static settings")
}

/// [`build_client`], trusting `extra_roots` (a corporate CA, say) besides the system's roots.
///
/// Redirects are never followed: an API answer has no reason to send us elsewhere, and following one would
/// carry headers reqwest does not know to be credentials (Sesterce's `x-api-key`) to another host, or from
/// https to http. A 3xx comes back to [`Http`], which turns it into an error that names the `Location`.
pub fn build_client_with_roots(
    connect_timeout: Duration,
    request_timeout: Duration,
    extra_roots: Vec<reqwest::Certificate>,
) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(32)
        .user_agent(concat!("infertop/", env!("CARGO_PKG_VERSION")));
    if !extra_roots.is_empty() {
        b = b.tls_certs_merge(extra_roots);
    }
    b.build().map_err(|e| format!("could not set up the HTTP client: {e}"))
}

/// The connection pools an account's requests go through. hyper grows a connection's read buffer to fit the
/// largest body it has read (up to about 400 KB) and keeps it while the connection is pooled, so lists (large
/// bodies) go through a pool of their own: the many connections of the details reads keep small buffers.
/// From one `reqwest::Client`, both are the same pool.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Every request but lists.
    pub small: reqwest::Client,
    /// Lists and their pages ([`Request::large_body`]).
    pub lists: reqwest::Client,
}

impl From<reqwest::Client> for Clients {
    fn from(c: reqwest::Client) -> Self {
        Clients { small: c.clone(), lists: c }
    }
}

/// [`build_client_with_roots`] twice: one pool for lists, one for everything else (see [`Clients`]).
pub fn build_clients(
    connect_timeout: Duration,
    request_timeout: Duration,
    extra_roots: Vec<reqwest::Certificate>,
) -> Result<Clients, String> {
    Ok(Clients {
        small: build_client_with_roots(connect_timeout, request_timeout, extra_roots.clone())?,
        lists: build_client_with_roots(connect_timeout, request_timeout, extra_roots)?,
    })
}

/// The certificates of a PEM file (one or more `BEGIN CERTIFICATE` blocks).
pub fn load_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("ca_file {}: not a PEM certificate bundle ({e})", path.display()))?;
    if certs.is_empty() {
        return Err(format!("ca_file {}: holds no certificate", path.display()));
    }
    Ok(certs)
}

/// Bounds on what one account's answers may make infertop hold in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest response body read (after decompression); a larger one is an error. It is also what all
    /// of the account's bodies together may hold at once ([`BodyBudget`]): sixteen reads in flight, each a
    /// gzip bomb, hold one cap between them, not sixteen.
    pub max_response_bytes: usize,
    /// The most items one list (all its pages together) may hold.
    pub max_list_items: usize,
    /// The longest string kept from a response; longer ones are cut, ending in a visible mark.
    pub max_string_bytes: usize,
}

/// The shortest string cap: room for a little text and the mark (which must fit in what it replaces).
pub const MIN_STRING_BYTES: usize = 64;

impl Default for Limits {
    /// 64 MiB is far above the largest page a real fleet gives (a 10,000-deployment Gcore list in pages of
    /// 1,000 is a few MiB a page); 100,000 items is ten times the largest fleet measured in the benches;
    /// 256 KiB is twice what Linux lets a single environment value or argument be
    /// (`MAX_ARG_STRLEN`), so no value a container can use is ever cut.
    fn default() -> Self {
        Limits { max_response_bytes: 64 << 20, max_list_items: 100_000, max_string_bytes: 256 << 10 }
    }
}

/// The bytes one account's response bodies hold at once, all its reads together: a body takes its share as
/// its buffer grows and gives it back when its [`Response`] is dropped (or its read fails). A read that finds
/// the budget spent is refused with an error, not made to wait: two reads each waiting for the other's share
/// would never end.
#[derive(Debug)]
pub struct BodyBudget {
    used: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl BodyBudget {
    pub fn new(max: usize) -> Self {
        BodyBudget { used: std::sync::atomic::AtomicUsize::new(0), max }
    }

    /// Bytes taken by bodies now.
    pub fn used(&self) -> usize {
        self.used.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Takes `n` bytes if they are left.
    fn take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.used.fetch_update(SeqCst, SeqCst, |u| u.checked_add(n).filter(|&t| t <= self.max)).is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// One body's share of its account's [`BodyBudget`], given back when dropped.
#[derive(Debug)]
pub struct BudgetShare {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

impl BudgetShare {
    fn new(budget: Arc<BodyBudget>) -> Self {
        BudgetShare { budget, bytes: 0 }
    }

    /// Grows the share by `n` bytes, if the budget has them.
    fn grow(&mut self, n: usize) -> bool {
        let ok = self.budget.take(n);
        if ok {
            self.bytes += n;
        }
        ok
    }
}

impl Drop for BudgetShare {
    fn drop(&mut self) {
        self.budget.give(self.bytes);
    }
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
/// tokens. Every attempt (retries included) takes a token; a request without one waits for it, asleep in its
/// lane's queue ([`super::rate::Gate`]). The rate adapts to the provider's 429s ([`super::rate`]).
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

/// Which queue a request waits in. User actions (an edit's reads and write, lifecycle, catalog, price) go
/// ahead of the dashboard's own reads, which go ahead of the background sweep; within a lane, first come
/// first served. Set for a task with [`in_lane`]; a request outside any is [`Lane::Normal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    User,
    Normal,
    Background,
}

tokio::task_local! {
    static LANE: Lane;
}

/// Runs `f` with its requests in `lane`.
pub async fn in_lane<F: std::future::Future>(lane: Lane, f: F) -> F::Output {
    LANE.scope(lane, f).await
}

/// The lane of the running task.
pub fn current_lane() -> Lane {
    LANE.try_with(|l| *l).unwrap_or(Lane::Normal)
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
    /// A list or a page of one: sent through the lists' pool (see [`Clients`]).
    pub large_body: bool,
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
            large_body: false,
        }
    }

    /// Marks a list (or a page of one), whose answer is large: see [`Clients`].
    pub fn large_body(mut self) -> Self {
        self.large_body = true;
        self
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
    /// The account's credentials, taken out of any error a decoder builds from the body.
    pub secrets: Scrubber,
    /// The body's share of its account's [`BodyBudget`], held while the body lives.
    pub share: Option<Arc<BudgetShare>>,
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
            self.secrets.error(
                ApiError::new(
                    provider,
                    ErrorKind::Decode,
                    format!("could not read the response ({} at {})", e.inner(), e.path()),
                )
                .with_status(self.status.as_u16()),
            )
        })
    }
}

impl Response {
    /// Decodes a page of a list: an object whose `key` holds the items (`null`: none; absent: none, or an
    /// error when `required`). Each item is
    /// mapped by `keep` as soon as it is decoded, so a page's wire records never exist all at once; the
    /// object's other fields are decoded as `M` (the page's `count`, `next`…). A bad item is an error for the
    /// whole page, as it would be for a plain `Vec<T>`.
    pub fn json_page<T: DeserializeOwned, U, M: DeserializeOwned>(
        &self,
        provider: ProviderKind,
        key: &str,
        required: bool,
        keep: &dyn Fn(T) -> Option<U>,
    ) -> ApiResult<MappedPage<U, M>> {
        let decode = |track: Option<&mut serde_path_to_error::Track>| {
            let seed = PageSeed { key, required, keep, item: std::marker::PhantomData::<T> };
            let mut de = serde_json::Deserializer::from_slice(&self.body);
            let page = match track {
                None => serde::de::DeserializeSeed::deserialize(seed, &mut de),
                Some(t) => serde::de::DeserializeSeed::deserialize(
                    seed,
                    serde_path_to_error::Deserializer::new(&mut de, t),
                ),
            };
            page.and_then(|p| de.end().map(|_| p))
        };
        let (items, seen, rest) = match decode(None) {
            Ok(p) => p,
            Err(_) => {
                // Again, tracking the path this time, only to say where the body went wrong.
                let mut track = serde_path_to_error::Track::new();
                let e = decode(Some(&mut track)).err();
                let at = track.path();
                let what = e.map_or_else(|| "could not read the response".to_string(), |e| e.to_string());
                return Err(self.secrets.error(
                    ApiError::new(
                        provider,
                        ErrorKind::Decode,
                        format!("could not read the response ({what} at {at})"),
                    )
                    .with_status(self.status.as_u16()),
                ));
            }
        };
        let meta = serde_json::from_value(serde_json::Value::Object(rest)).map_err(|e| {
            self.secrets.error(
                ApiError::new(provider, ErrorKind::Decode, format!("could not read the response ({e})"))
                    .with_status(self.status.as_u16()),
            )
        })?;
        Ok(MappedPage { items, seen, meta })
    }
}

/// A page of a list decoded by [`Response::json_page`].
#[derive(Debug)]
pub struct MappedPage<U, M> {
    /// The items `keep` kept, in the page's order.
    pub items: Vec<U>,
    /// How many items the page held, kept or not.
    pub seen: usize,
    /// The page's other fields.
    pub meta: M,
}

/// The object of a page: the list under `key`, mapped item by item, and the other fields as JSON.
struct PageSeed<'a, T, U> {
    key: &'a str,
    required: bool,
    keep: &'a dyn Fn(T) -> Option<U>,
    item: std::marker::PhantomData<T>,
}

type PageParts<U> = (Vec<U>, usize, serde_json::Map<String, serde_json::Value>);

impl<'de, T: DeserializeOwned, U> serde::de::DeserializeSeed<'de> for PageSeed<'_, T, U> {
    type Value = PageParts<U>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned, U> serde::de::Visitor<'de> for PageSeed<'_, T, U> {
    type Value = PageParts<U>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut items, mut seen, mut rest) = (Vec::new(), 0, serde_json::Map::new());
        let mut found = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == self.key && !found {
                found = true;
                (items, seen) = map.next_value_seed(ItemsSeed { keep: self.keep, item: self.item })?;
            } else {
                let v = map.next_value::<serde_json::Value>()?;
                rest.insert(k, v);
            }
        }
        if self.required && !found {
            return Err(serde::de::Error::custom(format_args!("missing field `{}`", self.key)));
        }
        Ok((items, seen, rest))
    }
}

/// A list (or `null`) whose items are mapped as each is decoded.
struct ItemsSeed<'a, T, U> {
    keep: &'a dyn Fn(T) -> Option<U>,
    item: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned, U> serde::de::DeserializeSeed<'de> for ItemsSeed<'_, T, U> {
    type Value = (Vec<U>, usize);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: DeserializeOwned, U> serde::de::Visitor<'de> for ItemsSeed<'_, T, U> {
    type Value = (Vec<U>, usize);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    // No list, no items. (cargo-mutants' `Ok(Default::default())` here and in `visit_unit` is this same
    // value: an equivalent mutant.)
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok((Vec::new(), 0))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok((Vec::new(), 0))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut seen = 0;
        while let Some(t) = seq.next_element::<T>()? {
            seen += 1;
            out.extend((self.keep)(t));
        }
        Ok((out, seen))
    }
}

/// Parses a provider's error body into an [`ApiError`].
pub type ErrorParser = fn(ProviderKind, u16, &[u8]) -> ApiError;

/// Called after each request sent (every retry counts) with its outcome and how long the exchange took, the
/// wait for a slot excluded. Set once by `infertop serve` to count requests; unset, nothing is measured.
pub static REQUEST_OBSERVER: std::sync::OnceLock<fn(&ApiResult<Response>, Duration)> =
    std::sync::OnceLock::new();

/// A provider's handle on the shared client: its own limits on requests in flight and per second, and its
/// retry policy.
#[derive(Clone)]
pub struct Http {
    clients: Clients,
    provider: ProviderKind,
    gate: Arc<super::rate::Gate>,
    limit: usize,
    pub policy: RetryPolicy,
    parse_error: ErrorParser,
    limits: Limits,
    /// The account's credentials, scrubbed from every error (see [`Scrubber`]).
    secrets: Scrubber,
    /// What all of the account's bodies may hold at once: `limits.max_response_bytes`.
    budget: Arc<BodyBudget>,
}

impl Http {
    pub fn new(
        clients: impl Into<Clients>,
        provider: ProviderKind,
        max_in_flight: usize,
        policy: RetryPolicy,
        parse_error: ErrorParser,
    ) -> Self {
        Http {
            clients: clients.into(),
            provider,
            gate: super::rate::Gate::new(RateLimit::default(), max_in_flight.max(1)),
            limit: max_in_flight.max(1),
            policy,
            parse_error,
            limits: Limits::default(),
            secrets: Scrubber::new(),
            budget: Arc::new(BodyBudget::new(Limits::default().max_response_bytes)),
        }
    }

    /// Registers the account's credentials (its key, its client secret): no error this handle returns shows
    /// them, whatever the server echoes.
    pub fn with_secrets<'a>(self, secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        for s in secrets {
            self.secrets.add(s);
        }
        self
    }

    /// Registers an access token obtained at sign-in (Run:ai's bearer token), from then on scrubbed as well.
    pub fn remember_token(&self, token: &Secret) {
        self.secrets.add_token(token);
    }

    /// The account's credentials, to scrub an error built from a response's content outside this module (a
    /// Gcore task's message).
    pub fn scrubber(&self) -> &Scrubber {
        &self.secrets
    }

    /// Sets the bounds on bodies, lists and strings (the default is [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.budget = Arc::new(BodyBudget::new(limits.max_response_bytes));
        self
    }

    /// The most items a list read from this account may hold.
    pub fn max_list_items(&self) -> usize {
        self.limits.max_list_items
    }

    /// An error once a list read from `endpoint` holds more than `max_list_items`: a server whose pages
    /// never end, or a list too large to keep.
    pub fn check_items(&self, endpoint: &str, items: usize) -> ApiResult<()> {
        let max = self.limits.max_list_items;
        if items <= max {
            return Ok(());
        }
        Err(ApiError::new(
            self.provider,
            ErrorKind::Other,
            format!(
                "the list at {} holds more than {max} items; stopped reading (raise max_list_items in the account's config if the list is real)",
                path_of(endpoint)
            ),
        ))
    }

    /// Sends and decodes a JSON array item by item: an item that does not decode as `T` is dropped (and
    /// logged), not the whole list, and the list stops with an error past `max_list_items` without holding
    /// every item as generic JSON first.
    pub async fn json_list<T: DeserializeOwned>(&self, req: &Request) -> ApiResult<Vec<T>> {
        self.json_list_map(req, &|t| Some(t)).await
    }

    /// [`Http::json_list`], each item mapped by `keep` as soon as it is decoded (so the list's wire records
    /// never exist all at once).
    pub async fn json_list_map<T: DeserializeOwned, U>(
        &self,
        req: &Request,
        keep: &(dyn Fn(T) -> Option<U> + Sync),
    ) -> ApiResult<Vec<U>> {
        let listing = self.json_listing_map(req, "items", keep).await?;
        for w in &listing.warnings {
            tracing::warn!(provider = %self.provider, endpoint = %path_of(&req.url), "{w}");
        }
        Ok(listing.items)
    }

    /// [`Http::json_list_map`], with the items that could not be read counted and named in the listing's
    /// warnings ("1 of 9 `what` could not be read: [3] status: …").
    pub async fn json_listing_map<T: DeserializeOwned, U>(
        &self,
        req: &Request,
        what: &str,
        keep: &(dyn Fn(T) -> Option<U> + Sync),
    ) -> ApiResult<super::Listing<U>> {
        let resp = self.send(req).await?;
        let over = std::cell::Cell::new(false);
        let bad = std::cell::RefCell::new(BadItems::default());
        let seed = ListSeed::<T, U> {
            max: self.limits.max_list_items,
            over: &over,
            bad: &bad,
            keep,
            item: std::marker::PhantomData,
        };
        let mut de = serde_json::Deserializer::from_slice(&resp.body);
        let items = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|v| de.end().map(|_| v));
        if over.get() {
            return self.check_items(&req.url, usize::MAX).map(|_| super::Listing::whole(Vec::new()));
        }
        let items = items.map_err(|e| {
            self.secrets.error(
                ApiError::new(self.provider, ErrorKind::Decode, format!("could not read the response ({e})"))
                    .with_status(resp.status.as_u16()),
            )
        })?;
        let mut listing = super::Listing::whole(items);
        listing.warnings.extend(bad.into_inner().describe(what, &path_of(&req.url)));
        Ok(listing)
    }

    /// Sets the requests-per-second limit (the default is [`RateLimit::default`]).
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.gate = super::rate::Gate::new(limit, self.limit);
        self
    }

    /// The most requests this handle sends at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sends with retries (for idempotent requests) and returns the response of a 2xx, else the error. A
    /// request that is not safe to repeat is sent once and its error, whatever it is, goes to the caller; so
    /// does a `Retry-After` longer than the policy's `max_retry_after`.
    pub async fn send(&self, req: &Request) -> ApiResult<Response> {
        // A value cut short when it was read must never be written back as if it were whole.
        if let Body::Json(v) = &req.body
            && let Some(at) = truncated_at(v, "")
        {
            return Err(ApiError::new(
                self.provider,
                ErrorKind::Validation,
                format!(
                    "{} was cut short when it was read (longer than the account's max_string_kib); not writing it back",
                    crate::model::text::sanitize(&at)
                ),
            ));
        }
        let retries = if req.idempotent { self.policy.max_retries } else { 0 };
        let max_wait = self.policy.max_retry_after.as_secs_f64();
        let mut attempt = 0;
        loop {
            // Every error, whatever built it (the provider's body, a redirect's `Location`, the transport), is
            // scrubbed here, before it is logged, retried or returned.
            let result = self.send_once(req).await.map_err(|e| self.secrets.error(e));
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

    /// Requests per second this account is sent right now, and the configured limit (None: no limit).
    pub fn effective_rate(&self) -> Option<(f64, f64)> {
        Some((self.gate.effective_rate()?, self.gate.limit().per_second))
    }

    /// Waits (asleep) for this request's turn in its lane: a token and a slot in flight, handed by the
    /// account's gate to the first waiter of the highest lane (first come first served within a lane).
    /// Background reads hold at most `max_in_flight - 1` slots, so one is always left to the others.
    async fn turn(&self) -> super::rate::Turn {
        self.gate.turn(current_lane()).await
    }

    async fn send_once(&self, req: &Request) -> ApiResult<Response> {
        let _turn = self.turn().await;
        let started = Instant::now();
        let result = self.exchange(req).await;
        if let Some(observe) = REQUEST_OBSERVER.get() {
            observe(&result, started.elapsed());
        }
        // Every answer counts towards the rate's window; a failure without one (the network) says nothing.
        let status = match &result {
            Ok(r) => Some(r.status.as_u16()),
            Err(e) => e.status,
        };
        if let Some(status) = status {
            let throttled = status == 429;
            let max = self.policy.max_retry_after.as_secs_f64();
            let wait = result
                .as_ref()
                .err()
                .and_then(|e| e.retry_after)
                .filter(|s| throttled && *s <= max)
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            if self.gate.answered(started, throttled, wait) {
                tracing::info!(provider = %self.provider, rate = ?self.gate.effective_rate(), pause = ?self.gate.pause_left(), "rate limited: too many 429s in a window, slowing down");
            }
        }
        result
    }

    /// One request and its answer, on the slot that `send_once` holds.
    async fn exchange(&self, req: &Request) -> ApiResult<Response> {
        let client = if req.large_body { &self.clients.lists } else { &self.clients.small };
        let mut rb = client.request(req.method.clone(), &req.url).headers(req.headers.clone());
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
        if status.is_redirection() {
            // The body of a redirect is not read: nothing in it is ours.
            return Err(self.redirect_error(req, status, &headers));
        }
        // An error body only needs its message: a little of it is enough, whatever the size limit.
        let cap = if status.is_success() {
            self.limits.max_response_bytes
        } else {
            self.limits.max_response_bytes.min(ERROR_BODY_BYTES)
        };
        let (mut body, share) = self.read_body(resp, req, cap, status.is_success()).await?;
        cut_long_strings(&mut body, self.limits.max_string_bytes);
        let body = bytes::Bytes::from(body);
        if status.is_success() {
            let share = Some(Arc::new(share));
            return Ok(Response { status, headers, body, secrets: self.secrets.clone(), share });
        }
        // The body is scrubbed before it is parsed, so that no cut of it (the first 200 characters of a body
        // not in the provider's shape) can leave part of a credential.
        let body = self.secrets.scrub_bytes(&body);
        let mut err = self.secrets.error((self.parse_error)(self.provider, status.as_u16(), &body));
        err.status = Some(status.as_u16());
        err.retry_after = retry_after(&headers);
        // Only whether a debug line is written (`!=` is an equivalent mutant as far as any caller can see).
        if status == StatusCode::TOO_MANY_REQUESTS {
            tracing::debug!(provider = %self.provider, retry_after = ?err.retry_after, "rate limited");
        }
        Err(err)
    }

    /// Reads the body chunk by chunk, never holding more than `cap` bytes: a `Content-Length` over the cap is
    /// refused before reading, and a body without one stops at the cap. Over the cap is an error when
    /// `strict`; otherwise (an error body) what was read so far is kept. The buffer's room is taken from the
    /// account's [`BodyBudget`] before it is allocated; when the budget is spent, a `strict` read is an
    /// error ([`Self::over_budget`]) and an error body keeps what it has.
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        req: &Request,
        cap: usize,
        strict: bool,
    ) -> ApiResult<(Vec<u8>, BudgetShare)> {
        let announced = resp.content_length();
        if strict && let Some(n) = announced.filter(|&n| n > cap as u64) {
            return Err(self.too_large(req, Some(n)));
        }
        let mut share = BudgetShare::new(self.budget.clone());
        // Room for what the server announced (within the cap), else grown as chunks come.
        let first = announced.unwrap_or(0).min(cap as u64) as usize;
        if !share.grow(first) {
            return Err(self.over_budget(req));
        }
        let mut buf: Vec<u8> = Vec::with_capacity(first);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&e))? {
            if buf.len() + chunk.len() > cap {
                if strict {
                    return Err(self.too_large(req, None));
                }
                let rest = cap - buf.len();
                if share.grow((buf.len() + rest).saturating_sub(buf.capacity())) {
                    buf.reserve_exact(rest);
                    buf.extend_from_slice(&chunk[..rest]);
                }
                break;
            }
            if buf.capacity() - buf.len() < chunk.len() {
                // Doubling, but never past the cap: the buffer is the one copy of the body.
                let want = (buf.capacity() * 2).max(buf.len() + chunk.len()).max(16 << 10).min(cap);
                if !share.grow(want.saturating_sub(buf.capacity())) {
                    if strict {
                        return Err(self.over_budget(req));
                    }
                    break;
                }
                buf.reserve_exact(want - buf.len());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf, share))
    }

    /// A read refused because the account's other reads hold its whole body budget (a bomb on every read).
    fn over_budget(&self, req: &Request) -> ApiError {
        let limit = fmt_size(self.limits.max_response_bytes as u64);
        ApiError::new(
            self.provider,
            ErrorKind::Other,
            format!(
                "the response to {} {} was not read: this account's answers being read at once already hold its {limit} limit (max_response_mib applies to all of an account's answers together)",
                req.method,
                path_of(&req.url),
            ),
        )
    }

    fn too_large(&self, req: &Request, announced: Option<u64>) -> ApiError {
        let limit = fmt_size(self.limits.max_response_bytes as u64);
        let what = match announced {
            Some(n) => format!("is {}, over the {limit} limit; not read", fmt_size(n)),
            None => format!("is larger than the {limit} limit; stopped reading"),
        };
        ApiError::new(
            self.provider,
            ErrorKind::Other,
            format!(
                "the response to {} {} {what} (raise max_response_mib in the account's config if the answer is real)",
                req.method,
                path_of(&req.url),
            ),
        )
    }

    /// A 3xx: the status and where it pointed (without credentials, query or control characters), and what
    /// to do about it.
    fn redirect_error(&self, req: &Request, status: StatusCode, headers: &HeaderMap) -> ApiError {
        let location = headers
            .get(reqwest::header::LOCATION)
            .map(|v| clean_location(&req.url, &String::from_utf8_lossy(v.as_bytes())))
            .unwrap_or_else(|| "(none)".into());
        ApiError::new(
            self.provider,
            ErrorKind::Other,
            format!(
                "{} {} was answered with a redirect ({status}) to {location}; infertop does not follow redirects (they could carry the credential elsewhere): fix the account's base_url",
                req.method,
                path_of(&req.url),
            ),
        )
        .with_status(status.as_u16())
    }

    /// An error from reqwest: sending (connect, TLS, the request) or reading the body. A body that breaks
    /// part-way comes back from `Response::chunk` as a decode error, its cause inside (the connection closed,
    /// a gzip stream corrupt); a timeout, wherever it struck, is one.
    fn transport_error(&self, e: &reqwest::Error) -> ApiError {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_decode() {
            ErrorKind::Decode
        } else {
            ErrorKind::Network
        };
        // reqwest's Display includes the URL, which never holds a credential here (all credentials travel in
        // headers or form bodies); the innermost cause says what happened (refused, reset, closed early...).
        let mut cause = None;
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = src {
            cause = Some(s.to_string());
            src = s.source();
        }
        let what = match kind {
            ErrorKind::Timeout => "the request timed out",
            ErrorKind::Decode => "the response body was cut short or malformed",
            _ if e.is_connect() => "could not reach the server",
            _ => "the connection failed",
        };
        let what = match cause {
            Some(c) if kind != ErrorKind::Timeout => format!("{what}: {c}"),
            _ => what.to_string(),
        };
        ApiError::new(self.provider, kind, what)
    }
}

/// Where in `v` a string carries the truncation mark, as a JSON path (`spec.env[2].value`).
fn truncated_at(v: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => crate::model::text::is_truncated(s).then(|| at.to_string()),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, x)| truncated_at(x, &format!("{at}[{i}]")))
        }
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let here = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if crate::model::text::is_truncated(k) { Some(here) } else { truncated_at(x, &here) }
        }),
        _ => None,
    }
}

/// Error bodies are read up to this much: the message is at the start.
const ERROR_BODY_BYTES: usize = 64 << 10;

/// The longest `Location` shown in an error.
const LOCATION_CHARS: usize = 200;

/// `1 MiB`, `64 MiB`, or bytes for less than a MiB.
fn fmt_size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else {
        format!("{n} bytes")
    }
}

/// The path of a URL, without scheme, host, query or fragment: what an error names as the endpoint.
pub fn path_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => crate::model::text::sanitize(u.path()).into_owned(),
        Err(_) => crate::model::text::sanitize(url.split(['?', '#']).next().unwrap_or("")).into_owned(),
    }
}

/// A `Location` as it may be shown: resolved against the request's URL, without user and password, query or
/// fragment (any of which may hold a token), control characters made visible, and cut to a readable length.
pub fn clean_location(request_url: &str, location: &str) -> String {
    let shown = match reqwest::Url::parse(request_url).and_then(|base| base.join(location.trim())) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => {
            let no_query = location.split(['?', '#']).next().unwrap_or("");
            no_query.rsplit_once('@').map(|(_, rest)| rest).unwrap_or(no_query).to_string()
        }
    };
    let shown = crate::model::text::sanitize(&shown).into_owned();
    if shown.chars().count() > LOCATION_CHARS {
        let cut: String = shown.chars().take(LOCATION_CHARS).collect();
        format!("{cut}…")
    } else {
        shown
    }
}

/// Cuts, in place, every JSON string in `body` longer than `max` bytes as written on the wire (escapes
/// included), keeping its start on a character (and escape) boundary and ending it with
/// [`crate::model::text::truncation_mark`]. The body only shrinks, so no second copy is made. Bodies that are
/// not JSON pass through unharmed (a quote just starts a "string"). Returns how many strings were cut.
pub fn cut_long_strings(body: &mut Vec<u8>, max: usize) -> usize {
    let max = max.max(MIN_STRING_BYTES);
    // No string can be longer than the body: the common case costs nothing.
    if body.len() <= max {
        return 0;
    }
    // What is kept of a cut string leaves room for the mark (at most 3 + 3 + 20 + 7 bytes) inside the bytes
    // it replaces, so writing never overtakes reading.
    let keep = max - 40;
    let n = body.len();
    let (mut r, mut w, mut cuts) = (0usize, 0usize, 0usize);
    // (`r <= n` would be an equivalent mutant: at `r == n` the pass finds no quote, copies nothing, breaks.)
    while r < n {
        // Up to and including the next opening quote; bytes move only once something was cut.
        let Some(q) = body[r..].iter().position(|&b| b == b'"') else {
            body.copy_within(r..n, w);
            w += n - r;
            break;
        };
        if w != r {
            body.copy_within(r..r + q + 1, w);
        }
        r += q + 1;
        w += q + 1;
        // A string's content runs from `r` to its closing quote (or the end of a broken body).
        let start = r;
        let mut end = start;
        while end < n && body[end] != b'"' {
            end += if body[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(n);
        if end - start <= max {
            if w != start {
                body.copy_within(start..end, w);
            }
            w += end - start;
        } else {
            let mut kept = 0;
            loop {
                let unit = json_unit_len(&body[start + kept..end]);
                if unit == 0 || kept + unit > keep {
                    break;
                }
                kept += unit;
            }
            body.copy_within(start..start + kept, w);
            w += kept;
            let mark = crate::model::text::truncation_mark(end - start - kept);
            body[w..w + mark.len()].copy_from_slice(mark.as_bytes());
            w += mark.len();
            cuts += 1;
        }
        if end < n {
            body[w] = b'"';
            w += 1;
        }
        r = end + 1;
    }
    body.truncate(w);
    cuts
}

/// The length of the first unit of JSON string content in `s`: one escape (a surrogate pair of `\\u`
/// escapes counts as one), or one UTF-8 character. Cutting between units keeps the string valid.
fn json_unit_len(s: &[u8]) -> usize {
    let Some(&b) = s.first() else { return 0 };
    let len = if b == b'\\' {
        if s.get(1) == Some(&b'u') {
            let high = std::str::from_utf8(s.get(2..6).unwrap_or(b""))
                .ok()
                .and_then(|h| u16::from_str_radix(h, 16).ok())
                .is_some_and(|v| (0xD800..0xDC00).contains(&v));
            if high && s.get(6..8) == Some(b"\\u") { 12 } else { 6 }
        } else {
            2
        }
    } else {
        match b {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        }
    };
    len.min(s.len())
}

/// Items of a list that could not be read: how many the list held, and each bad one's place and why (the
/// first few).
#[derive(Debug, Default)]
struct BadItems {
    seen: usize,
    count: usize,
    named: Vec<(usize, String)>,
}

/// Bad items named one by one in a warning; the rest are counted.
const BAD_ITEMS_NAMED: usize = 3;

impl BadItems {
    fn push<T: DeserializeOwned>(&mut self, index: usize, raw: &str) {
        self.count += 1;
        if self.named.len() >= BAD_ITEMS_NAMED {
            return;
        }
        // Again, tracking the path this time, only to say where the item went wrong.
        let mut de = serde_json::Deserializer::from_str(raw);
        let why = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            // The reason first: a path nested deep would leave no room for it.
            Err(e) => {
                let path = e.path().to_string();
                let cut = |s: &str, n| crate::model::text::truncate(s, n).into_owned();
                // serde_json ends with where in the item's own text it stopped ("at line 1 column 9"),
                // which says nothing to a reader of the whole list: the item's place and path say where.
                let inner = e.inner();
                let at = format!(" at line {} column {}", inner.line(), inner.column());
                let text = inner.to_string();
                let why = cut(text.strip_suffix(&at).unwrap_or(&text), 200);
                match path.as_str() {
                    "." | "" => why,
                    _ => format!("{why} (at {})", cut(&path, 60)),
                }
            }
            Ok(_) => "could not be read".to_string(),
        };
        self.named.push((index, why));
    }

    /// None when every item was read; else "2 of 9 `what` could not be read: [3] at status: …; [5] …".
    fn describe(self, what: &str, endpoint: &str) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let named: Vec<String> = self
            .named
            .iter()
            .map(|(i, why)| format!("[{i}] {}", crate::model::text::sanitize(why)))
            .collect();
        let more = self.count - self.named.len();
        let more = if more > 0 { format!("; and {more} more") } else { String::new() };
        Some(format!(
            "{} of {} {what} could not be read (GET {endpoint}): {}{more}",
            self.count,
            self.seen,
            named.join("; ")
        ))
    }
}

/// Deserializes a JSON array into the items that decode as `T`, stopping (and setting `over`) past `max`;
/// the items that do not decode are counted and named in `bad`.
struct ListSeed<'a, T, U> {
    max: usize,
    over: &'a std::cell::Cell<bool>,
    bad: &'a std::cell::RefCell<BadItems>,
    keep: &'a (dyn Fn(T) -> Option<U> + Sync),
    item: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned, U> serde::de::DeserializeSeed<'de> for ListSeed<'_, T, U> {
    type Value = Vec<U>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<U>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned, U> serde::de::Visitor<'de> for ListSeed<'_, T, U> {
    type Value = Vec<U>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<U>, A::Error> {
        let mut out = Vec::new();
        let mut seen = 0usize;
        // Each item as its raw text (borrowed from the body, no copy), then decoded on its own: a bad one is
        // counted and named, without failing the list.
        while let Some(raw) = seq.next_element::<&serde_json::value::RawValue>()? {
            seen += 1;
            if seen > self.max {
                self.over.set(true);
                return Err(serde::de::Error::custom("too many items"));
            }
            match serde_json::from_str(raw.get()) {
                Ok(t) => out.extend((self.keep)(t)),
                Err(_) => self.bad.borrow_mut().push::<T>(seen - 1, raw.get()),
            }
        }
        self.bad.borrow_mut().seen = seen;
        Ok(out)
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

    fn ok(body: &str) -> Response {
        Response {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
            secrets: Scrubber::new(),
            share: None,
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Item {
        a: u32,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    struct Count {
        #[serde(default)]
        count: Option<u64>,
    }

    fn page(body: &str, required: bool) -> ApiResult<MappedPage<u32, Count>> {
        // Keeps the even ones, doubled: what is kept and what is counted differ.
        let keep = |i: Item| i.a.is_multiple_of(2).then_some(i.a * 2);
        ok(body).json_page::<Item, u32, Count>(ProviderKind::Gcore, "results", required, &keep)
    }

    #[test]
    fn a_page_maps_its_items_counts_them_all_and_reads_its_other_fields() {
        let p =
            page(r#"{"results": [{"a": 1}, {"a": 2}, {"a": 4}], "count": 9, "next": "x"}"#, true).unwrap();
        assert_eq!((p.items, p.seen, p.meta.count), (vec![4, 8], 3, Some(9)));
        // The list first or last, it is the same page.
        let p = page(r#"{"count": 9, "results": [{"a": 2}]}"#, true).unwrap();
        assert_eq!((p.items, p.seen, p.meta.count), (vec![4], 1, Some(9)));
    }

    #[test]
    fn a_page_without_its_list_is_an_error_only_where_the_list_is_required() {
        let e = page(r#"{"count": 1}"#, true).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode);
        assert!(e.message.contains("missing field `results`"), "{e}");
        let p = page(r#"{"count": 1}"#, false).unwrap();
        assert_eq!((p.items.len(), p.seen), (0, 0));
        let p = page(r#"{"results": null}"#, true).unwrap();
        assert_eq!((p.items.len(), p.seen), (0, 0));
    }

    #[test]
    fn a_bad_item_or_field_fails_the_page_and_says_where() {
        let e = page(r#"{"results": [{"a": 2}, {"a": "two"}]}"#, true).unwrap_err();
        assert_eq!((e.kind, e.status), (ErrorKind::Decode, Some(200)));
        assert!(e.message.contains("results[1].a"), "{e}");
        let e = page(r#"{"results": [], "count": "many"}"#, true).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode);
        for junk in [r#"[{"a": 2}]"#, r#"{"results": [{"a": 2}]} trailing"#, "<html>"] {
            assert_eq!(page(junk, true).unwrap_err().kind, ErrorKind::Decode, "{junk}");
        }
        // What was expected, in the provider's words for the page and its list.
        let e = page(r#"[{"a": 2}]"#, true).unwrap_err();
        assert!(e.message.contains("expected an object with `results`"), "{e}");
        let e = page(r#"{"results": {"a": 2}}"#, true).unwrap_err();
        assert!(e.message.contains("expected a list"), "{e}");
    }

    /// What the handle scrubs: the account's credentials and, once remembered, a token it signed in with,
    /// bare (no `Bearer ` before it to give it away).
    #[test]
    fn the_scrubber_masks_the_credentials_and_a_remembered_token_bare() {
        let secret = crate::provider::Secret::new("client-secret-0123456789");
        let http = handle(RetryPolicy::none()).with_secrets([&secret]);
        let token = crate::provider::Secret::new("tok.abcdefghijklmnop.qrstuvwxyz");
        let echoed = "the server said: client-secret-0123456789 and tok.abcdefghijklmnop.qrstuvwxyz";
        assert!(!http.scrubber().scrub(echoed).contains("client-secret-0123456789"));
        assert!(http.scrubber().scrub(echoed).contains("tok.abcdefghijklmnop"), "not remembered yet");
        http.remember_token(&token);
        let scrubbed = http.scrubber().scrub(echoed);
        assert!(
            !scrubbed.contains("client-secret") && !scrubbed.contains("tok.abcdefghijklmnop"),
            "{scrubbed}"
        );
    }

    /// Sizes in errors: whole MiB as such, other sizes of a MiB or more to a tenth, less in bytes.
    #[test]
    fn sizes_are_shown_in_mib_from_one_mib_and_in_bytes_below() {
        let mib = 1u64 << 20;
        assert_eq!(fmt_size(0), "0 bytes");
        assert_eq!(fmt_size(1500), "1500 bytes");
        assert_eq!(fmt_size(mib - 1), "1048575 bytes");
        assert_eq!(fmt_size(mib), "1 MiB");
        assert_eq!(fmt_size(64 * mib), "64 MiB");
        assert_eq!(fmt_size(3 * mib + mib / 2), "3.5 MiB");
        assert_eq!(fmt_size(3 * mib + 1), "3.0 MiB");
    }

    /// The backoff's jitter: in [0, 1), and not the same every time (retries of many requests spread out).
    #[test]
    fn the_jitter_is_a_unit_fraction_that_varies() {
        let draws: Vec<f64> = (0..64).map(|_| jitter_unit()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)), "{draws:?}");
        let distinct: std::collections::BTreeSet<u64> = draws.iter().map(|j| j.to_bits()).collect();
        assert!(distinct.len() > 32, "{} distinct of 64", distinct.len());
    }

    #[test]
    fn body_shares_take_from_one_budget_and_give_back_when_dropped() {
        let budget = Arc::new(BodyBudget::new(100));
        let mut a = BudgetShare::new(budget.clone());
        let mut b = BudgetShare::new(budget.clone());
        assert!(a.grow(60) && !b.grow(41) && b.grow(40));
        assert_eq!(budget.used(), 100);
        assert!(!a.grow(1), "spent");
        drop(a);
        assert_eq!(budget.used(), 40);
        assert!(b.grow(60) && !b.grow(usize::MAX));
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn backoff_honours_retry_after_within_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, Some(1.5)), Duration::from_millis(1500));
        // Too long or zero: fall back to exponential backoff.
        let d = p.backoff(0, Some(3600.0));
        assert!(d <= Duration::from_millis(300) && d >= Duration::from_millis(225));
        let d = p.backoff(0, Some(0.0));
        assert!(d <= Duration::from_millis(300) && d >= Duration::from_millis(225), "a zero wait: {d:?}");
        assert_eq!(p.backoff(0, Some(60.0)), Duration::from_secs(60), "the longest wait honoured");
        let d = p.backoff(10, None);
        assert!(d <= Duration::from_secs(8) && d >= Duration::from_secs(6));
    }

    /// `RetryPolicy::none` sends once and never again, with the rest of the policy as by default;
    /// `RateLimit::unlimited` turns the limit off, as a rate that is not finite and positive does.
    #[test]
    fn no_retries_and_no_rate_limit_are_what_they_say() {
        let (none, default) = (RetryPolicy::none(), RetryPolicy::default());
        assert_eq!(none.max_retries, 0);
        assert_eq!(default.max_retries, 2);
        assert_eq!(
            (none.base_delay, none.max_delay, none.max_retry_after),
            (default.base_delay, default.max_delay, default.max_retry_after)
        );
        assert!(RateLimit::unlimited().is_unlimited());
        assert_eq!(RateLimit::unlimited().per_second, 0.0);
        assert!(!RateLimit::default().is_unlimited());
        for per_second in [f64::NAN, f64::INFINITY, -1.0, 0.0] {
            assert!(RateLimit { per_second, burst: 40 }.is_unlimited(), "{per_second}");
        }
        assert!(!RateLimit { per_second: 0.5, burst: 1 }.is_unlimited());
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

    /// Issue 25: `Retry-After` as an HTTP date is the wait until then; a date gone by is no wait at all.
    #[test]
    fn retry_after_reads_an_http_date() {
        let at = chrono::Utc::now() + chrono::Duration::seconds(30);
        for text in [at.to_rfc2822(), at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", text.parse().unwrap());
            let s = retry_after(&h).unwrap_or_else(|| panic!("{text}"));
            assert!((20.0..=30.0).contains(&s), "{text}: {s}");
        }
        let mut h = HeaderMap::new();
        let gone = chrono::Utc::now() - chrono::Duration::seconds(30);
        h.insert("retry-after", gone.to_rfc2822().parse().unwrap());
        assert_eq!(retry_after(&h), Some(0.0));
        // Milliseconds win over a date, seconds over a date.
        h.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(1.5));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    fn cut(json: &str, max: usize) -> (String, usize) {
        let mut b = json.as_bytes().to_vec();
        let n = cut_long_strings(&mut b, max);
        (String::from_utf8(b).expect("still UTF-8"), n)
    }

    #[test]
    fn long_strings_are_cut_in_place_and_stay_valid_json() {
        let long = "é".repeat(100) + &"x".repeat(200);
        let doc =
            serde_json::json!({"short": "ok", "long": long, "list": [long, "\u{1b}[2J", "😀".repeat(80)]});
        let (out, n) = cut(&doc.to_string(), 100);
        assert_eq!(n, 3);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON after the cut");
        assert_eq!(v["short"], "ok");
        assert_eq!(v["list"][1], "\u{1b}[2J");
        let cut_long = v["long"].as_str().unwrap();
        assert!(cut_long.starts_with("éééé") && crate::model::text::is_truncated(cut_long), "{cut_long}");
        assert!(cut_long.len() <= 100, "{}", cut_long.len());
        // What was left out is counted in wire bytes: kept + left out = the original.
        let kept = cut_long.rsplit_once('…').unwrap().0.len();
        assert_eq!(kept, 60, "as much as fits whole: the cap less 40 bytes of room for the mark");
        assert!(cut_long.ends_with(&format!("[+{} bytes]", long.len() - kept)), "{cut_long}");
        assert!(crate::model::text::is_truncated(v["list"][2].as_str().unwrap()));
        // A body whose strings all fit is untouched.
        let (same, n) = cut(&doc.to_string(), 1 << 20);
        assert_eq!((same.as_str(), n), (doc.to_string().as_str(), 0));
    }

    #[test]
    fn a_cut_never_splits_an_escape_or_a_surrogate_pair() {
        for pad in 0..16 {
            let raw = format!("[\"{}{}\"]", "a".repeat(pad), r"\ud83d\ude00\n\\\u00e9".repeat(20));
            let (out, n) = cut(&raw, 64);
            assert_eq!(n, 1);
            let v: Vec<String> = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{pad}: {e}: {out}"));
            assert!(crate::model::text::is_truncated(&v[0]));
        }
        // Escapes one after another are units of their own (only a surrogate pair is one): after one byte,
        // three fit in the 24 bytes kept under a cap of 64 (19 bytes), not just one pair (13).
        let (out, n) = cut(&format!("[\"a{}\"]", r"\u0041".repeat(40)), 64);
        assert_eq!(n, 1);
        assert_eq!(out.split_once('…').unwrap().0, format!("[\"a{}", r"\u0041".repeat(3)));
        // An unterminated string in a broken body: cut, still no panic, and not closed as if it were whole.
        let (out, _) = cut(&format!("{{\"a\": \"{}", "z".repeat(500)), 64);
        assert!(out.contains("…[+") && out.ends_with("bytes]"), "{out}");
        let (out, n) = cut("[\"short", 64);
        assert_eq!((out.as_str(), n), ("[\"short", 0));
    }

    proptest::proptest! {
        /// Any JSON, any cap: still valid JSON, short strings untouched, long ones cut to the cap with the mark.
        #[test]
        fn cutting_keeps_any_json_valid(
            strings in proptest::collection::vec("(\\PC|[\\x00-\\x1f\"\\\\]|😀){0,120}", 1..12),
            max in 64usize..200,
        ) {
            let doc = serde_json::Value::Array(strings.iter().map(|s| serde_json::json!({"k": s})).collect());
            let mut body = doc.to_string().into_bytes();
            cut_long_strings(&mut body, max);
            let back: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON after the cut");
            for (before, after) in strings.iter().zip(back.as_array().unwrap()) {
                let after = after["k"].as_str().unwrap();
                let wire = serde_json::to_string(before).unwrap().len() - 2;
                if wire <= max || doc.to_string().len() <= max {
                    proptest::prop_assert_eq!(after, before.as_str());
                } else {
                    proptest::prop_assert!(crate::model::text::is_truncated(after), "{after}");
                    proptest::prop_assert!(serde_json::to_string(after).unwrap().len() - 2 <= max);
                }
            }
        }
    }

    #[test]
    fn a_truncated_value_is_never_written_back() {
        let body = serde_json::json!({"spec": {"env": [{"name": "A", "value": "abc…[+12 bytes]"}]}});
        assert_eq!(truncated_at(&body, "").as_deref(), Some("spec.env[0].value"));
        assert_eq!(truncated_at(&serde_json::json!({"a": ["x", 1]}), ""), None);
    }

    #[test]
    fn location_is_shown_without_secrets_or_control_characters() {
        let base = "http://127.0.0.1:1/api/v1/x";
        assert_eq!(
            clean_location(base, "http://user:pw@localhost:9/next?token=abc#frag"),
            "http://localhost:9/next"
        );
        assert_eq!(clean_location(base, "/other?sig=1"), "http://127.0.0.1:1/other");
        assert_eq!(clean_location(base, "http://h/\u{1b}]0;x\u{7}/y"), "http://h/%1B]0;x%07/y");
        // Not a URL at all: the raw text, still without query, userinfo or control characters.
        assert_eq!(clean_location("not a url", "u:p@h\u{1b}/x?t=1"), "h\\e/x");
        let long = clean_location(base, &format!("http://h/{}", "p".repeat(500)));
        assert!(long.chars().count() <= LOCATION_CHARS + 1 && long.ends_with('…'));
        // The edge: exactly the longest shown is shown whole; one more is cut to it and marked.
        let at = |n: usize| clean_location(base, &format!("http://h/{}", "p".repeat(n - "http://h/".len())));
        assert_eq!(at(LOCATION_CHARS).chars().count(), LOCATION_CHARS);
        assert!(!at(LOCATION_CHARS).ends_with('…'));
        assert_eq!(at(LOCATION_CHARS + 1).chars().count(), LOCATION_CHARS + 1);
        assert!(at(LOCATION_CHARS + 1).ends_with('…'));
        assert_eq!(path_of("https://api.example/cloud/v3/x?limit=5&token=t"), "/cloud/v3/x");
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

    fn handle(policy: RetryPolicy) -> Http {
        let client = build_client(Duration::from_secs(5), Duration::from_secs(30));
        Http::new(client, ProviderKind::Gcore, 4, policy, crate::provider::gcore::parse_error)
    }

    /// A response whose body comes in exactly these pieces (a stream, so no `Content-Length`), or breaks
    /// with `fail` after them.
    fn streamed(chunks: &[usize], fail: Option<std::io::ErrorKind>) -> reqwest::Response {
        let mut frames: Vec<Result<http_body::Frame<bytes::Bytes>, std::io::Error>> =
            chunks.iter().map(|&n| Ok(http_body::Frame::data(bytes::Bytes::from(vec![b'7'; n])))).collect();
        if let Some(kind) = fail {
            frames.push(Err(std::io::Error::new(kind, "test: the stream broke")));
        }
        let body = http_body_util::StreamBody::new(futures::stream::iter(frames));
        axum::http::Response::new(reqwest::Body::wrap(body)).into()
    }

    /// A loopback server that answers every connection with `answer`, raw, then closes it.
    async fn raw_server(answer: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut head = [0u8; 4096];
                let _ = sock.read(&mut head).await;
                let _ = sock.write_all(answer).await;
            }
        });
        format!("http://{addr}/v3/x")
    }

    /// [`raw_server`] answering 200 with `body` as it is, its length announced.
    async fn json_server(body: &str) -> String {
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        raw_server(Box::leak(answer.into_bytes().into_boxed_slice())).await
    }

    /// A body read without a length takes its buffer's room from the account's budget before the buffer has
    /// it, exactly that room: the buffer starts at 16 KiB and doubles (reading stays linear), a chunk that
    /// fills it to the byte does not grow it, it never grows past the cap, and the room is given back when
    /// the body goes.
    #[tokio::test]
    async fn a_streamed_body_takes_from_the_budget_exactly_the_room_its_buffer_has() {
        let http = handle(RetryPolicy::none());
        let req = Request::new(Method::GET, "http://127.0.0.1:9/v3/x");
        let mib = 1 << 20;
        for (chunks, cap, room) in [
            // 64 KiB in KiB pieces: 16, 32, 64 KiB, and the last piece fits to the byte.
            (vec![1024; 64], mib, 64 << 10),
            // One KiB more: 128 KiB.
            (vec![1024; 65], mib, 128 << 10),
            // 20,000 bytes in pieces of 1000: 16 KiB, then 32 KiB (the start is 16 KiB, not the first piece).
            (vec![1000; 20], mib, 32 << 10),
            // A piece bigger than twice the room: room for it, no more.
            (vec![1000, 50_000], mib, 51_000),
            // 100,000 bytes under a cap of exactly that: 16, 32, 64 KiB, then the cap, not 128 KiB.
            (vec![1000; 100], 100_000, 100_000),
        ] {
            let total: usize = chunks.iter().sum();
            let (buf, share) = http.read_body(streamed(&chunks, None), &req, cap, true).await.unwrap();
            let what = format!("{} bytes in {} pieces, cap {cap}", total, chunks.len());
            assert_eq!(buf.len(), total, "{what}");
            assert_eq!((buf.capacity(), share.bytes, http.budget.used()), (room, room, room), "{what}");
            drop(share);
            assert_eq!(http.budget.used(), 0, "{what}: given back");
        }
        // The cap, in one piece: exactly the cap is read, one byte over is refused (the words name the
        // account's limit, which the cap passed here stands in for).
        let (buf, _) = http.read_body(streamed(&[1000], None), &req, 1000, true).await.unwrap();
        assert_eq!(buf.len(), 1000);
        let e = http.read_body(streamed(&[1000], None), &req, 999, true).await.unwrap_err();
        assert!(e.message.contains("is larger than the 64 MiB limit; stopped reading"), "{e}");
        // An error body over the cap keeps the cap's worth, and its room is taken from the budget too.
        let (buf, share) = http.read_body(streamed(&[600, 600], None), &req, 1000, false).await.unwrap();
        assert_eq!((buf.len(), share.bytes), (1000, buf.capacity()));
        drop(share);
        assert_eq!(http.budget.used(), 0);
    }

    /// What a broken read says: a body that breaks part-way, a read that times out, a server that could not
    /// be reached, a connection closed before any answer. Each keeps its kind and, but for the timeout,
    /// its cause.
    #[tokio::test]
    async fn a_broken_read_says_how_it_broke() {
        let http = handle(RetryPolicy::none());
        let req = Request::new(Method::GET, "http://127.0.0.1:9/v3/x");
        let e = http.read_body(streamed(&[10], Some(std::io::ErrorKind::TimedOut)), &req, 1 << 20, true);
        let e = e.await.unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Timeout, "the request timed out"));
        let e =
            http.read_body(streamed(&[10], Some(std::io::ErrorKind::ConnectionReset)), &req, 1 << 20, true);
        let e = e.await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{e}");
        assert_eq!(e.message, "the response body was cut short or malformed: test: the stream broke");

        // Over loopback: 100 bytes announced, 6 sent, then the connection closed.
        let url = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\": ").await;
        let e = http.send(&Request::new(Method::GET, url)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{e}");
        assert!(e.message.starts_with("the response body was cut short or malformed: "), "{e}");
        // No answer at all.
        let url = raw_server(b"").await;
        let e = http.send(&Request::new(Method::GET, url)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{e}");
        assert!(e.message.starts_with("the connection failed: "), "{e}");
        // Nobody listening.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let e = http.send(&Request::new(Method::GET, format!("http://{closed}/v3/x"))).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{e}");
        assert!(e.message.starts_with("could not reach the server: "), "{e}");
    }

    /// A window of 429s lowers the rate and pauses the account for their `Retry-After`, when that is a wait
    /// the policy honours: one longer than `max_retry_after` pauses nothing (it is shown, not obeyed).
    #[tokio::test]
    async fn a_window_of_429s_pauses_for_their_retry_after_only_when_it_is_honoured() {
        async fn hammer(retry_after: &'static str) -> Http {
            let app = axum::Router::new().route(
                "/v3/x",
                axum::routing::get(move || async move {
                    (axum::http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", retry_after)], "{}")
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let http =
                handle(RetryPolicy { max_retry_after: Duration::from_secs(60), ..RetryPolicy::none() });
            let req = Request::new(Method::GET, format!("http://{addr}/v3/x"));
            // Until the window closes (a second of answers at least): at the default rate, some tens.
            for _ in 0..400 {
                assert_eq!(http.send(&req).await.unwrap_err().status, Some(429));
                if http.gate.decreases() > 0 {
                    break;
                }
            }
            http
        }
        let honoured = hammer("30").await;
        assert_eq!(honoured.gate.decreases(), 1);
        let pause = honoured.gate.pause_left();
        assert!(pause > Duration::ZERO && pause <= Duration::from_secs(30), "{pause:?}");
        let too_long = hammer("3600").await;
        assert_eq!(too_long.gate.decreases(), 1);
        assert_eq!(too_long.gate.pause_left(), Duration::ZERO);
    }

    /// A list's items that do not decode are counted and named (place, then why), the first three of them:
    /// the rest are counted. The good ones around them are kept.
    #[tokio::test]
    async fn a_lists_bad_items_are_counted_and_the_first_three_named() {
        let url =
            json_server(r#"[{"a": 2}, 42, {"a": "x"}, {"a": 4}, {"b": 1}, [], {"a": -1}, {"a": 6}]"#).await;
        let http = handle(RetryPolicy::none());
        let keep = |i: Item| Some(i.a);
        let listing = http.json_listing_map(&Request::new(Method::GET, url), "things", &keep).await.unwrap();
        assert_eq!(listing.items, [2, 4, 6]);
        assert_eq!(
            listing.warnings,
            ["5 of 8 things could not be read (GET /v3/x): \
                 [1] invalid type: integer `42`, expected struct Item; \
                 [2] invalid type: string \"x\", expected u32 (at a); \
                 [4] missing field `a`; \
                 and 2 more"]
        );
        // Three bad: all named, nothing more to count.
        let url = json_server(r#"[true, {"a": 8}, null, "a"]"#).await;
        let listing = http.json_listing_map(&Request::new(Method::GET, url), "things", &keep).await.unwrap();
        assert_eq!(listing.items, [8]);
        let [w] = listing.warnings.as_slice() else { panic!("{:?}", listing.warnings) };
        assert!(w.starts_with("3 of 4 things could not be read (GET /v3/x): [0] "), "{w}");
        assert!(w.contains("; [2] ") && w.contains("; [3] ") && !w.contains("more"), "{w}");
        // Not a list at all: the list fails, and says what it expected.
        let url = json_server("{}").await;
        let e = http.json_listing_map(&Request::new(Method::GET, url), "things", &keep).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode);
        assert!(e.message.contains("invalid type: map, expected a list"), "{e}");
        // Every item good: no warning.
        let url = json_server(r#"[{"a": 2}]"#).await;
        let listing = http.json_listing_map(&Request::new(Method::GET, url), "things", &keep).await.unwrap();
        assert_eq!((listing.items, listing.warnings), (vec![2], Vec::<String>::new()));
    }
}
