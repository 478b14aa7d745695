//! `infertop doctor`: a read-only conformance check of the user's own accounts.
//!
//! Per account it signs in the way the dashboard does (naming the flow), calls every endpoint the dashboard
//! and its edit forms read, once each (a paged list page by page, up to [`MAX_PAGES`]), and compares each body
//! with what infertop expects: the keys the documents and the wire types know, the few infertop relies on,
//! the words it knows for statuses and phases, the error body each provider documents. Each finding names the
//! endpoint (method and path template) and the JSON path.
//!
//! It never writes: the only requests it can send are GETs and the Run:ai token POSTs (v2, and v1 where v2 is
//! not served); [`ReadOnly`] has no other method. Nothing in its output comes from a credential, a header or an env value: values from bodies
//! are never copied, except a status-like word outside the known vocabulary.

mod gcore;
pub mod report;
mod runai;
mod sesterce;
pub mod shape;

use crate::model::ProviderKind;
use crate::provider::{AccountSpec, Secret};
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The most pages of one list the doctor reads before it calls the paging endless.
pub const MAX_PAGES: usize = 50;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Infertop copes (the field is ignored, the value shown as unknown).
    Warning,
    /// Would stop the dashboard or an edit, or show every row with it as UNKNOWN (a status infertop does not know).
    Error,
}

/// What kind of difference a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Sign-in refused or impossible.
    Auth,
    /// The endpoint answered 404 or 405.
    EndpointMissing,
    /// Any other failed call (status, network, body that is not JSON).
    CallFailed,
    /// A key no document or wire type knows.
    UnknownField,
    /// A status-like value outside the known words.
    UnknownValue,
    /// A key infertop relies on is absent or null.
    Missing,
    /// A key is there under other casing.
    OtherCasing,
    /// A value of another JSON type.
    OtherType,
    /// The dashboard's own decoder refuses the body.
    DoesNotDecode,
    /// An error body not in the provider's documented shape.
    ErrorShape,
    /// A list whose pages do not end (or repeat).
    PagingEndless,
    /// A later page holds items of an earlier one (the offset is read another way).
    PagingOverlap,
}

/// One difference between an account's API and what infertop expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// Method and path template, e.g. `GET /ai-inference/instances/{id}`; never a query or an id.
    pub endpoint: String,
    /// JSON path in the body (`$.results[*].status`), `$` for the whole body or call.
    pub path: String,
    pub message: String,
    /// How many times it was seen (one per list item, say).
    pub count: usize,
}

impl Finding {
    pub fn new(kind: FindingKind, severity: Severity, path: &str, message: String) -> Self {
        Finding { severity, kind, endpoint: String::new(), path: path.to_string(), message, count: 1 }
    }
}

/// How one endpoint went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// Method and path template.
    pub endpoint: String,
    /// What it is for in infertop (`list`, `get`, `logs`, `catalog: flavors`, ...).
    pub role: String,
    /// `ok`, `warning`, `error`, or `skipped`.
    pub outcome: String,
    /// HTTP status of the last page (none when the call was not made or did not get an answer).
    pub status: Option<u16>,
    /// Requests made (pages of a list).
    pub requests: usize,
    /// Wall time of all its requests, in milliseconds.
    pub latency_ms: u64,
    /// Why it was skipped, or what it found in a few words.
    pub note: String,
}

/// One account's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountReport {
    pub account: String,
    pub provider: String,
    /// The sign-in used, e.g. `POST /api/v2/token (client credentials)`.
    pub auth: String,
    pub calls: Vec<Call>,
    pub findings: Vec<Finding>,
    /// What the doctor does not check for this provider, and why.
    pub not_checked: Vec<String>,
}

impl AccountReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Format of this document; bumped when a key changes meaning.
    pub doctor_version: u32,
    pub infertop_version: String,
    pub accounts: Vec<AccountReport>,
    pub errors: usize,
    pub warnings: usize,
}

/// Exit status when a finding would stop the dashboard or an edit.
pub const EXIT_FINDINGS: i32 = 3;

impl Report {
    pub fn new(accounts: Vec<AccountReport>) -> Self {
        let errors = accounts.iter().map(AccountReport::errors).sum();
        let warnings = accounts.iter().map(AccountReport::warnings).sum();
        Report {
            doctor_version: 1,
            infertop_version: env!("CARGO_PKG_VERSION").into(),
            accounts,
            errors,
            warnings,
        }
    }

    /// 0 when nothing would stop the dashboard or an edit (warnings allowed), else [`EXIT_FINDINGS`].
    pub fn exit_code(&self) -> i32 {
        if self.errors > 0 { EXIT_FINDINGS } else { 0 }
    }
}

/// An answer to one request.
pub(crate) struct Answer {
    pub status: u16,
    /// The body as JSON; `None` when it is not JSON.
    pub json: Option<Value>,
    pub elapsed: Duration,
}

/// A failed request: no answer at all.
pub(crate) struct NoAnswer {
    pub what: String,
    pub elapsed: Duration,
}

/// The only way the doctor talks to a provider: GET, plus the Run:ai token POST. One attempt each, no retries
/// (a retry would hide what the user's API does).
pub(crate) struct ReadOnly {
    client: reqwest::Client,
    base: String,
}

/// A header of a request; the value may be a secret (never printed).
pub(crate) type Header<'a> = (&'static str, &'a str);

impl ReadOnly {
    pub fn new(client: reqwest::Client, spec: &AccountSpec) -> Self {
        ReadOnly { client, base: spec.base_url.trim_end_matches('/').to_string() }
    }

    async fn finish(&self, rb: reqwest::RequestBuilder, started: Instant) -> Result<Answer, NoAnswer> {
        let no = |what: String| NoAnswer { what, elapsed: started.elapsed() };
        let resp = rb.send().await.map_err(|e| {
            no(if e.is_timeout() {
                "the request timed out".into()
            } else if e.is_connect() {
                "could not reach the server".into()
            } else {
                "the connection failed".into()
            })
        })?;
        let status = resp.status().as_u16();
        let body =
            resp.bytes().await.map_err(|_| no("the connection broke while reading the answer".into()))?;
        let json = serde_json::from_slice(&body).ok();
        Ok(Answer { status, json, elapsed: started.elapsed() })
    }

    /// `GET base + path` with `query` and `headers`.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        headers: &[Header<'_>],
    ) -> Result<Answer, NoAnswer> {
        let mut rb = self.client.get(format!("{}{}", self.base, path)).header("accept", "application/json");
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if !query.is_empty() {
            rb = rb.query(query);
        }
        self.finish(rb, Instant::now()).await
    }

    /// The Run:ai token request: `POST base + path` with a form or a JSON body. The only POST there is.
    pub async fn token(&self, path: TokenPath, body: TokenBody<'_>) -> Result<Answer, NoAnswer> {
        let rb =
            self.client.post(format!("{}{}", self.base, path.as_str())).header("accept", "application/json");
        let rb = match body {
            TokenBody::Form(pairs) => rb.form(pairs),
            TokenBody::Json(v) => rb.json(&v),
        };
        self.finish(rb, Instant::now()).await
    }
}

/// The token endpoints: the only paths the doctor may POST to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenPath {
    V2,
    V1,
}

impl TokenPath {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPath::V2 => "/api/v2/token",
            TokenPath::V1 => "/api/v1/token",
        }
    }
}

pub(crate) enum TokenBody<'a> {
    Form(&'a [(&'static str, &'a str)]),
    Json(Value),
}

/// Collects the calls and findings of one account.
pub(crate) struct Recorder {
    pub report: AccountReport,
}

impl Recorder {
    pub fn new(spec: &AccountSpec) -> Self {
        Recorder {
            report: AccountReport {
                account: crate::model::text::sanitize(&spec.name).into_owned(),
                provider: spec.kind.label().to_string(),
                auth: String::new(),
                calls: Vec::new(),
                findings: Vec::new(),
                not_checked: Vec::new(),
            },
        }
    }

    /// Adds findings for `endpoint`, merging repeats (same kind, path and message) into one with a count.
    pub fn add(&mut self, endpoint: &str, found: Vec<Finding>) -> (usize, usize) {
        let (mut e, mut w) = (0, 0);
        for mut f in found {
            match f.severity {
                Severity::Error => e += 1,
                Severity::Warning => w += 1,
            }
            f.endpoint = endpoint.to_string();
            if let Some(g) = self.report.findings.iter_mut().find(|g| {
                g.endpoint == f.endpoint && g.kind == f.kind && g.path == f.path && g.message == f.message
            }) {
                g.count += f.count;
            } else {
                self.report.findings.push(f);
            }
        }
        (e, w)
    }

    pub fn skip(&mut self, endpoint: &str, role: &str, why: &str) {
        self.report.calls.push(Call {
            endpoint: endpoint.into(),
            role: role.into(),
            outcome: "skipped".into(),
            status: None,
            requests: 0,
            latency_ms: 0,
            note: why.into(),
        });
    }

    /// Records a finished call with its findings.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        endpoint: &str,
        role: &str,
        status: Option<u16>,
        requests: usize,
        elapsed: Duration,
        note: String,
        found: Vec<Finding>,
    ) {
        let (e, w) = self.add(endpoint, found);
        let outcome = if e > 0 {
            "error"
        } else if w > 0 {
            "warning"
        } else {
            "ok"
        };
        self.report.calls.push(Call {
            endpoint: endpoint.into(),
            role: role.into(),
            outcome: outcome.into(),
            status,
            requests,
            latency_ms: elapsed.as_millis().min(u64::MAX as u128) as u64,
            note,
        });
    }
}

/// Makes every error of `endpoint` a warning that says `why`: for reads the dashboard does without (names
/// instead of ids), whatever their answer.
pub(crate) fn at_most_warnings(rec: &mut Recorder, endpoint: &str, why: &str) {
    let mut changed = false;
    for f in
        rec.report.findings.iter_mut().filter(|f| f.endpoint == endpoint && f.severity == Severity::Error)
    {
        f.severity = Severity::Warning;
        f.message = format!("{}; {why}", f.message);
        changed = true;
    }
    if changed && let Some(c) = rec.report.calls.iter_mut().rev().find(|c| c.endpoint == endpoint) {
        c.outcome = "warning".into();
    }
}

/// What the body of a failed call says, in words that hold nothing from the body but its shape.
pub(crate) fn failure(status: u16) -> (FindingKind, Severity, String) {
    match status {
        401 | 403 => {
            (FindingKind::Auth, Severity::Error, format!("HTTP {status}: the credential was refused"))
        }
        404 | 405 => (
            FindingKind::EndpointMissing,
            Severity::Error,
            format!("HTTP {status}: this API does not serve the endpoint"),
        ),
        s => (FindingKind::CallFailed, Severity::Error, format!("HTTP {s}")),
    }
}

/// Checks one answer of a read: a 2xx JSON body is walked against `shape` and decoded as the dashboard does
/// (`decode`); anything else is a finding. Returns the body when it was 2xx JSON.
pub(crate) fn check_body(
    answer: &Answer,
    shape: &shape::Ty,
    decode: fn(&Value) -> Option<Finding>,
    out: &mut Vec<Finding>,
) -> Option<Value> {
    if !(200..300).contains(&answer.status) {
        let (kind, sev, msg) = failure(answer.status);
        out.push(Finding::new(kind, sev, "$", msg));
        return None;
    }
    let Some(v) = &answer.json else {
        out.push(Finding::new(FindingKind::CallFailed, Severity::Error, "$", "the body is not JSON".into()));
        return None;
    };
    let mut found = Vec::new();
    shape::walk(v, shape, "$", shape::Need::Required, &mut found);
    // The decoder's complaint is only news where the walk has not named an error at that path already.
    if let Some(d) = decode(v)
        && !found.iter().any(|f| f.severity == Severity::Error && f.path == d.path)
    {
        found.push(d);
    }
    out.extend(found);
    Some(v.clone())
}

/// Checks an error body against the provider's documented shape. `expected` are the statuses the call should
/// get (404 for a read of something absent).
pub(crate) fn check_error_shape(
    answer: &Answer,
    expected: &[u16],
    shape: &shape::Ty,
    out: &mut Vec<Finding>,
) {
    if !expected.contains(&answer.status) {
        out.push(Finding::new(
            FindingKind::ErrorShape,
            Severity::Warning,
            "$",
            format!("answered HTTP {}, where infertop expects {expected:?}", answer.status),
        ));
        return;
    }
    let Some(v) = &answer.json else {
        out.push(Finding::new(
            FindingKind::ErrorShape,
            Severity::Warning,
            "$",
            "the error body is not JSON: infertop shows the HTTP status only".into(),
        ));
        return;
    };
    let mut found = Vec::new();
    shape::walk(v, shape, "$", shape::Need::Required, &mut found);
    // An error body the dashboard cannot read costs the provider's message, not the dashboard.
    for mut f in found {
        f.severity = Severity::Warning;
        if f.kind != FindingKind::UnknownField {
            f.kind = FindingKind::ErrorShape;
        }
        out.push(f);
    }
}

/// Runs the doctor on `accounts` (all of them at once; the calls of one account one after another).
pub async fn examine(accounts: &[AccountSpec], client: reqwest::Client) -> Report {
    let runs = accounts.iter().map(|a| examine_account(a, client.clone()));
    Report::new(futures::future::join_all(runs).await)
}

async fn examine_account(spec: &AccountSpec, client: reqwest::Client) -> AccountReport {
    let http = ReadOnly::new(client, spec);
    let mut rec = Recorder::new(spec);
    match spec.kind {
        ProviderKind::Gcore => gcore::examine(spec, &http, &mut rec).await,
        ProviderKind::Sesterce => sesterce::examine(spec, &http, &mut rec).await,
        ProviderKind::Runai => runai::examine(spec, &http, &mut rec).await,
    }
    rec.report
}

/// "1 page", "3 pages".
pub(crate) fn pages(n: usize) -> String {
    count(n, "page")
}

/// "1 item", "3 items".
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// One path segment, percent-encoded (ids come from the network).
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The shape infertop expects of an endpoint's successful body (`"error"` for the provider's error body), as the
/// doctor checks it; for the contract tests that hold these shapes against the providers' own documents.
pub fn expected_shape(kind: ProviderKind, endpoint: &str) -> Option<shape::Ty> {
    match kind {
        ProviderKind::Gcore => gcore::shape_for(endpoint),
        ProviderKind::Sesterce => sesterce::shape_for(endpoint),
        ProviderKind::Runai => runai::shape_for(endpoint),
    }
}

/// The secret of an account, for the request headers only.
pub(crate) fn secret_of(spec: &AccountSpec) -> Option<&Secret> {
    use crate::provider::Credentials;
    match &spec.credentials {
        Credentials::Gcore { api_key, .. } => Some(api_key),
        Credentials::Sesterce { api_key } => Some(api_key),
        Credentials::Runai { client_secret, .. } => Some(client_secret),
    }
}

/// What a paged read got: every page's items and bodies, the last answer's status, the requests and time taken.
pub(crate) struct Paged {
    pub items: Vec<Value>,
    pub pages: Vec<Value>,
    pub status: Option<u16>,
    pub requests: usize,
    pub elapsed: Duration,
    pub failed: bool,
}

/// What tells one list item from another: its id, else its name.
fn identity(item: &Value) -> Option<String> {
    ["id", "_id", "workloadId", "name"].iter().find_map(|k| match item.get(*k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Reads a paged list, the loop shared by Gcore (`count`/`offset`) and Run:ai (`next`): `fetch(offset)` gets
/// one page, `next(&page, offset, items)` gives the next offset, or None at the end. Stops after [`MAX_PAGES`],
/// or when a page repeats the one before (the server ignored the offset): both are a finding.
pub(crate) async fn read_pages<F, Fut>(
    mut fetch: F,
    items_key: &str,
    next: fn(&Value, u64, usize) -> Option<u64>,
    shape: &shape::Ty,
    decode: fn(&Value) -> Option<Finding>,
    out: &mut Vec<Finding>,
) -> Paged
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Answer, NoAnswer>>,
{
    let mut p = Paged {
        items: Vec::new(),
        pages: Vec::new(),
        status: None,
        requests: 0,
        elapsed: Duration::ZERO,
        failed: false,
    };
    let mut offset = 0u64;
    let mut previous: Option<Vec<Value>> = None;
    let mut seen = std::collections::HashSet::new();
    let mut overlap_named = false;
    loop {
        if p.requests >= MAX_PAGES {
            out.push(Finding::new(
                FindingKind::PagingEndless,
                Severity::Error,
                "$",
                format!("the list still had more after {MAX_PAGES} pages (stopped there)"),
            ));
            return p;
        }
        p.requests += 1;
        let answer = match fetch(offset).await {
            Ok(a) => a,
            Err(no) => {
                p.elapsed += no.elapsed;
                p.failed = true;
                out.push(Finding::new(FindingKind::CallFailed, Severity::Error, "$", no.what));
                return p;
            }
        };
        p.elapsed += answer.elapsed;
        p.status = Some(answer.status);
        let mut found = Vec::new();
        let Some(v) = check_body(&answer, shape, decode, &mut found) else {
            out.extend(found);
            p.failed = true;
            return p;
        };
        out.extend(found);
        let items: Vec<Value> = v.get(items_key).and_then(Value::as_array).cloned().unwrap_or_default();
        if !items.is_empty() && previous.as_ref() == Some(&items) {
            out.push(Finding::new(
                FindingKind::PagingEndless,
                Severity::Error,
                "$",
                format!("page {} repeats the page before it: the server ignores the offset", p.requests),
            ));
            return p;
        }
        let ids: Vec<String> = items.iter().filter_map(identity).collect();
        let again = ids.iter().filter(|i| seen.contains(*i)).count();
        if again > 0 && !overlap_named {
            overlap_named = true;
            out.push(Finding::new(
                FindingKind::PagingOverlap,
                Severity::Error,
                "$",
                format!(
                    "page {} holds {again} items of earlier pages: the dashboard would list them twice",
                    p.requests
                ),
            ));
        }
        seen.extend(ids);
        let n = items.len();
        p.items.extend(items.iter().cloned());
        p.pages.push(v.clone());
        match next(&v, offset, n) {
            Some(o) if o > offset && n > 0 => offset = o,
            _ => return p,
        }
        previous = Some(items);
    }
}

/// `infertop doctor [--account NAME] [--json]`: the accounts of the config (or the demo's), examined and
/// printed. Returns the exit status ([`Report::exit_code`]).
pub async fn command(cli: &crate::cli::Cli, account: Option<&str>, json: bool) -> color_eyre::Result<i32> {
    let mut cfg = crate::run::load_config(cli)?;
    let no_such = |name: &str, names: Vec<String>| {
        crate::run::user_error(format!("no account named {name:?}; the accounts are: {}", names.join(", ")))
    };
    // `--account` examines that account alone: another account's unset variable is no reason to refuse.
    if let Some(name) = account
        && !cli.demo
    {
        let names: Vec<String> = cfg.accounts.iter().map(|a| a.name.clone()).collect();
        cfg.accounts.retain(|a| a.name == name);
        if cfg.accounts.is_empty() {
            return Err(no_such(name, names));
        }
    }
    let (mut accounts, _sim) = crate::run::accounts(cli, &cfg).await?;
    if let Some(name) = account {
        let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
        accounts.retain(|a| a.name == name);
        if accounts.is_empty() {
            return Err(no_such(name, names));
        }
    }
    let timeout = Duration::from_secs_f64(cli.timeout.clamp(0.2, 600.0));
    let client = crate::provider::http::build_client(Duration::from_secs(5), timeout);
    let report = examine(&accounts, client).await;
    let text = if json { report::json(&report) } else { report::human(&report) };
    let secrets: Vec<&str> = accounts.iter().filter_map(secret_of).map(Secret::expose).collect();
    let text = report::scrub(&text, &secrets);
    // A closed pipe (`| head`) is not an error worth a report.
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", text.trim_end());
    let _ = out.flush();
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_decode(_: &Value) -> Option<Finding> {
        None
    }

    /// Issue 25: a read answered 404 or 405 is a missing endpoint (an API that does not serve it), an error;
    /// a refused credential is an auth finding; anything else a failed call.
    #[test]
    fn a_404_or_a_405_is_a_missing_endpoint() {
        for status in [404, 405] {
            let (kind, severity, text) = failure(status);
            assert_eq!((kind, severity), (FindingKind::EndpointMissing, Severity::Error), "{status}");
            assert_eq!(text, format!("HTTP {status}: this API does not serve the endpoint"));
        }
        for status in [401, 403] {
            assert_eq!(failure(status).0, FindingKind::Auth, "{status}");
        }
        for status in [400, 406, 409, 500, 503] {
            let (kind, severity, text) = failure(status);
            assert_eq!(
                (kind, severity, text),
                (FindingKind::CallFailed, Severity::Error, format!("HTTP {status}"))
            );
        }
    }

    fn ok(v: Value) -> Result<Answer, NoAnswer> {
        Ok(Answer { status: 200, json: Some(v), elapsed: Duration::ZERO })
    }

    fn next(v: &Value, offset: u64, n: usize) -> Option<u64> {
        let total = v["count"].as_u64()?;
        (offset + (n as u64) < total).then_some(offset + n as u64)
    }

    #[tokio::test]
    async fn paging_is_followed_to_its_end_and_bounded() {
        let shape = shape::page(shape::Ty::Int);
        // Three pages of two, then the end.
        let mut out = Vec::new();
        let p = read_pages(
            |o| async move { ok(json!({"count": 5, "results": (o..(o + 2).min(5)).collect::<Vec<_>>()})) },
            "results",
            next,
            &shape,
            no_decode,
            &mut out,
        )
        .await;
        assert_eq!((p.items.len(), p.requests, out.len()), (5, 3, 0));
        // New items on every page, and a total never reached: stopped at the bound, and said so.
        let mut out = Vec::new();
        let p = read_pages(
            |o| async move { ok(json!({"count": u64::MAX, "results": [o, o + 1]})) },
            "results",
            next,
            &shape,
            no_decode,
            &mut out,
        )
        .await;
        assert_eq!(p.requests, MAX_PAGES);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].kind, out[0].severity), (FindingKind::PagingEndless, Severity::Error));
        assert!(out[0].message.contains(&format!("after {MAX_PAGES} pages")), "{}", out[0].message);
        // `next` read as a page number by the server: pages of three that step by one overlap.
        let mut out = Vec::new();
        let p = read_pages(
            |o| async move {
                let ids: Vec<Value> = (o..(o + 3).min(6)).map(|i| json!({"id": format!("w{i}")})).collect();
                ok(json!({"count": 6, "results": ids}))
            },
            "results",
            |v, o, n| next(v, o, n.min(1)),
            &shape::page(shape::Ty::Any),
            no_decode,
            &mut out,
        )
        .await;
        assert_eq!(p.requests, 6);
        assert_eq!(out.iter().map(|f| f.kind).collect::<Vec<_>>(), [FindingKind::PagingOverlap]);
        assert!(out[0].message.starts_with("page 2 holds 2 items of earlier pages"), "{}", out[0].message);
    }
}
