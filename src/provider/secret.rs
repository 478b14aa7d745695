//! A credential that never shows itself: `Debug` and `Display` print `***`; and a [`Scrubber`] that takes every
//! credential an account holds out of the texts its servers send back.

use std::fmt;
use std::sync::{Arc, RwLock};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret value, for building a request header or form. Never log or display the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

/// The credentials of one account (its key or client secret, and the access tokens obtained with them), to be
/// taken out of every text a server sends back before it is shown, logged or written anywhere: a server may
/// echo a request's `Authorization` or `x-api-key`, or a token request's `client_secret=…`, in an error.
///
/// Each credential is masked as `***` as written raw, JSON-escaped and form- or percent-encoded; besides,
/// whatever follows `Bearer `, `APIKey ` (8 characters or more) or `client_secret=` is masked, so a token
/// forgotten since (a refreshed one) does not show either. Clones share one set: a token remembered by one is
/// scrubbed by all.
#[derive(Clone, Default)]
pub struct Scrubber(Arc<RwLock<Masks>>);

#[derive(Default)]
struct Masks {
    /// The account's own credentials, in every form they may be echoed in.
    fixed: Vec<String>,
    /// Access tokens obtained at sign-in, newest last, at most [`TOKENS_KEPT`] of them.
    tokens: std::collections::VecDeque<Vec<String>>,
}

/// Access tokens remembered (a token refreshed every few seconds must not grow the set without end; older ones
/// are still masked after `Bearer `).
const TOKENS_KEPT: usize = 16;

/// Credentials shorter than this are not masked: they would mask ordinary words.
pub const MIN_SECRET_LEN: usize = 4;

/// The mask that replaces a credential.
pub const MASK: &str = "***";

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scrubber(***)")
    }
}

/// The forms a credential may be echoed in: raw, JSON-escaped, form-encoded, percent-encoded.
fn forms(s: &str) -> Vec<String> {
    if s.len() < MIN_SECRET_LEN {
        return Vec::new();
    }
    let json = serde_json::to_string(s).unwrap_or_default();
    let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_string();
    let encode = |plus: bool| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
                b' ' if plus => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    let mut v = vec![s.to_string(), json, encode(true), encode(false)];
    v.sort();
    v.dedup();
    // The longest first, so that a form containing another is masked whole.
    v.sort_by_key(|f| std::cmp::Reverse(f.len()));
    v
}

impl Scrubber {
    pub fn new() -> Self {
        Scrubber::default()
    }

    /// Adds one of the account's credentials (a key, a client secret).
    pub fn add(&self, secret: &Secret) {
        let f = forms(secret.expose());
        if let Ok(mut m) = self.0.write() {
            for x in f {
                if !m.fixed.contains(&x) {
                    m.fixed.push(x);
                }
            }
            m.fixed.sort_by_key(|f| std::cmp::Reverse(f.len()));
        }
    }

    /// Remembers an access token obtained at sign-in (the newest [`TOKENS_KEPT`] are kept).
    pub fn add_token(&self, token: &Secret) {
        let f = forms(token.expose());
        if f.is_empty() {
            return;
        }
        if let Ok(mut m) = self.0.write() {
            if m.tokens.iter().any(|t| *t == f) {
                return;
            }
            if m.tokens.len() >= TOKENS_KEPT {
                m.tokens.pop_front();
            }
            m.tokens.push_back(f);
        }
    }

    /// `text` without any credential of the account.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Ok(m) = self.0.read() {
            // Tokens first: a token is longer than a key, and may hold one.
            for f in m.tokens.iter().rev().flatten().chain(m.fixed.iter()) {
                if out.contains(f.as_str()) {
                    out = out.replace(f.as_str(), MASK);
                }
            }
        }
        mask_after_markers(&out)
    }

    /// A body without any credential of the account (bytes that are not UTF-8 are replaced).
    pub fn scrub_bytes(&self, body: &[u8]) -> Vec<u8> {
        self.scrub(&String::from_utf8_lossy(body)).into_bytes()
    }

    /// The error with every text of it scrubbed.
    pub fn error(&self, mut e: super::ApiError) -> super::ApiError {
        e.message = self.scrub(&e.message);
        for (field, msg) in &mut e.fields {
            *field = self.scrub(field);
            *msg = self.scrub(msg);
        }
        e.request_id = e.request_id.map(|r| self.scrub(&r));
        e
    }
}

/// Masks what follows `Bearer `, `APIKey ` (when 8 characters or more: "Bearer token" stays) and
/// `client_secret=` (in any case), up to a space, quote, `&`, `,` or `;`.
fn mask_after_markers(text: &str) -> String {
    const MARKERS: [(&str, usize); 3] = [("bearer ", 8), ("apikey ", 8), ("client_secret=", 1)];
    let lower = text.to_ascii_lowercase();
    if !MARKERS.iter().any(|(m, _)| lower.contains(m)) {
        return text.to_string();
    }
    let ends = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ',' | ';' | '\\' | '<' | '>');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < text.len() {
        for (m, min) in MARKERS {
            if lower[i..].starts_with(m) {
                let start = i + m.len();
                // Spaces after the word.
                let value_at = start + text[start..].len() - text[start..].trim_start_matches(' ').len();
                let len = text[value_at..].find(ends).unwrap_or(text.len() - value_at);
                let value = &text[value_at..value_at + len];
                if len >= min && value != MASK {
                    out.push_str(&text[i..value_at]);
                    out.push_str(MASK);
                    i = value_at + len;
                    continue 'scan;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrubber_masks_each_credential_in_every_form_and_after_its_markers() {
        let s = Scrubber::new();
        s.add(&Secret::new("demo-gcore-key"));
        s.add(&Secret::new("se cr\"e+t/"));
        s.add(&Secret::new("ab"));
        let text = "APIKey demo-gcore-key; x=demo-gcore-key; se cr\"e+t/ | se+cr%22e%2Bt%2F | se%20cr%22e%2Bt%2F | \
                    se cr\\\"e+t/ | ab stays";
        let out = s.scrub(text);
        assert_eq!(out, "APIKey ***; x=***; *** | *** | *** | *** | ab stays");
        // A token: remembered, and masked whole; an unknown one after `Bearer ` too.
        s.add_token(&Secret::new("tok-1234567890"));
        assert_eq!(s.scrub("got tok-1234567890."), "got ***.");
        assert_eq!(s.scrub("Authorization: Bearer eyJold.token.here, or"), "Authorization: Bearer ***, or");
        assert_eq!(s.scrub("a Bearer token is required"), "a Bearer token is required");
        assert_eq!(
            s.scrub("grant_type=client_credentials&client_id=demo&CLIENT_SECRET=anything&x=1"),
            "grant_type=client_credentials&client_id=demo&CLIENT_SECRET=***&x=1"
        );
        assert_eq!(s.scrub("né Bearer  ééééééééé"), "né Bearer  ***");
        // Clones share one set.
        let c = s.clone();
        c.add_token(&Secret::new("later-token-xyz"));
        assert_eq!(s.scrub("later-token-xyz"), "***");
        assert_eq!(format!("{s:?}"), "Scrubber(***)");
    }

    #[test]
    fn only_the_newest_tokens_are_kept() {
        let s = Scrubber::new();
        for i in 0..100 {
            s.add_token(&Secret::new(format!("token-number-{i:03}")));
        }
        assert_eq!(s.0.read().unwrap().tokens.len(), TOKENS_KEPT);
        assert_eq!(s.scrub("token-number-099"), "***");
    }

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("demo-gcore-key");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(Secret(***))");
        assert_eq!(s.expose(), "demo-gcore-key");
    }
}
