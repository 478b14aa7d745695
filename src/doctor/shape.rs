//! What infertop expects of a response body, and the walk that compares a body with it.
//!
//! A shape lists the keys the documents and infertop's wire types know, and marks the few infertop relies on
//! (required: absent, null or of another type stops the dashboard or an edit). The walk reports keys nobody
//! knows, values outside a known set, required keys that are missing, keys that are there in other casing, and
//! values of another type. It never copies a value into a finding, except a value outside a known set of
//! words (a status, a phase), and even that only when it looks like a word.

use super::{Finding, FindingKind, Severity};
use serde_json::Value;

/// The type of a value.
#[derive(Debug, Clone)]
pub enum Ty {
    Str,
    Int,
    Num,
    Bool,
    /// An integer, or a string holding one (where the client reads leniently).
    IntOrText,
    /// A number, or a string holding one.
    NumOrText,
    /// A whole number or a string holding one, as Sesterce's client reads counts (`"2"`, `"2.0"`, `2.0`).
    CountOrText,
    /// A word that `known` accepts; `what` says which vocabulary (shown in the finding).
    Word {
        known: fn(&str) -> bool,
        what: &'static str,
    },
    /// The status (or phase) a row's health is read from: a word outside `known` shows the row as UNKNOWN and
    /// fails `snapshot --fail-on-unhealthy`, so it is an error, not a warning.
    Health {
        known: fn(&str) -> bool,
        what: &'static str,
    },
    Obj(Vec<Field>),
    /// An object whose keys no document here lists beyond `fields`: those are checked, the others are not
    /// looked at (no unknown-field warning for a key nobody documented either way).
    Open(Vec<Field>),
    Arr(Box<Ty>),
    /// An object with free keys (envs, labels, headers): its keys and values are never looked at.
    Map,
    /// Anything (a documented key whose content infertop does not read).
    Any,
    /// Whichever of these fits best (of the body's JSON type, fewest errors, then fewest warnings).
    OneOf(Vec<Ty>),
}

/// Whether infertop relies on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Must be present, not null, and of its type.
    Required,
    /// Documented; may be absent or null.
    Optional,
    /// May be absent, but an edit writes it: in other casing or of another type, the edit goes wrong.
    Edited,
    /// May be null, but a full-body edit (Gcore v2 PUT, Sesterce PATCH) sends it back as read: absent, the
    /// edit cannot be sent (infertop refuses it rather than clear the field).
    SentBack,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub need: Need,
    /// Another key infertop reads the same value from (listed as a field of its own too).
    pub alt: Option<&'static str>,
}

pub fn req(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, need: Need::Required, alt: None }
}

pub fn opt(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, need: Need::Optional, alt: None }
}

pub fn edited(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, need: Need::Edited, alt: None }
}

pub fn sent_back(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, need: Need::SentBack, alt: None }
}

/// [`sent_back`], read from `name` or else from `alt`.
pub fn sent_back_or(name: &'static str, alt: &'static str, ty: Ty) -> Field {
    Field { name, ty, need: Need::SentBack, alt: Some(alt) }
}

/// Documented keys whose content infertop does not read.
pub fn any(names: &[&'static str]) -> Vec<Field> {
    names.iter().map(|n| opt(n, Ty::Any)).collect()
}

pub fn obj(fields: Vec<Field>) -> Ty {
    Ty::Obj(fields)
}

pub fn arr(t: Ty) -> Ty {
    Ty::Arr(Box::new(t))
}

pub fn one_of(ts: Vec<Ty>) -> Ty {
    Ty::OneOf(ts)
}

/// `{"count": int, "results": [item]}`.
pub fn page(item: Ty) -> Ty {
    obj(vec![req("count", Ty::Int), req("results", arr(item))])
}

/// Appends `key` to a JSON path; a key that is not a plain word is not copied (it could be anything).
pub fn child(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.len() <= 64
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '@'));
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}.<key of {} characters>", key.chars().count())
    }
}

/// A key for comparing casings: lower case, without `_` and `-`.
fn fold(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect()
}

/// The JSON type of a value, in words.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expected(t: &Ty) -> String {
    match t {
        Ty::Str => "a string".into(),
        Ty::Int => "an integer".into(),
        Ty::Num => "a number".into(),
        Ty::Bool => "a boolean".into(),
        Ty::IntOrText => "an integer".into(),
        Ty::NumOrText => "a number".into(),
        Ty::CountOrText => "a whole number".into(),
        Ty::Word { what, .. } | Ty::Health { what, .. } => format!("a string ({what})"),
        Ty::Obj(_) | Ty::Open(_) | Ty::Map => "an object".into(),
        Ty::Arr(_) => "an array".into(),
        Ty::Any => "anything".into(),
        Ty::OneOf(ts) => ts.iter().map(expected).collect::<Vec<_>>().join(" or "),
    }
}

/// `active` -> `Active` (Run:ai's casing of a phase).
fn capitalized(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A value outside a vocabulary is shown only when it looks like a word (a status, not a sentence or a key).
pub(crate) fn shown_word(s: &str) -> String {
    let word = !s.is_empty()
        && s.len() <= 40
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    if word { format!("{s:?}") } else { format!("a value of {} characters", s.chars().count()) }
}

/// Compares `v` with `t` at `path`; what does not fit goes to `out`. `need` is the need of the key holding `v`.
pub fn walk(v: &Value, t: &Ty, path: &str, need: Need, out: &mut Vec<Finding>) {
    let sev = if need == Need::Optional { Severity::Warning } else { Severity::Error };
    let other_type = |out: &mut Vec<Finding>| {
        out.push(Finding::new(
            FindingKind::OtherType,
            sev,
            path,
            format!("{}, where infertop reads {}", kind_of(v), expected(t)),
        ));
    };
    if v.is_null() {
        // A null where a value is required is reported by the object holding it (as missing).
        return;
    }
    match t {
        Ty::Any => {}
        Ty::Str => {
            if !v.is_string() {
                other_type(out)
            }
        }
        Ty::Bool => {
            if !v.is_boolean() {
                other_type(out)
            }
        }
        Ty::Num => {
            if !v.is_number() {
                other_type(out)
            }
        }
        Ty::Int => {
            if !(v.is_i64() || v.is_u64()) {
                other_type(out)
            }
        }
        Ty::IntOrText => {
            let ok = v.is_i64()
                || v.is_u64()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
                || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok());
            if !ok {
                other_type(out)
            }
        }
        Ty::NumOrText => {
            let ok = v.is_number()
                || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok_and(f64::is_finite));
            if !ok {
                other_type(out)
            }
        }
        Ty::CountOrText => {
            if crate::provider::sesterce::wire::value_to_u32(v).is_none() {
                other_type(out)
            }
        }
        Ty::Health { known, what } => match v.as_str() {
            None => other_type(out),
            Some(s) if known(s) => {}
            Some(s) => {
                // `Active` for `ACTIVE`: the whole vocabulary drifted, not one new word.
                let casing = [s.to_uppercase(), capitalized(s)].into_iter().find(|c| c != s && known(c));
                let saw = match &casing {
                    Some(c) => format!("{} where infertop reads {}", shown_word(s), shown_word(c)),
                    None => format!("{} is not a value infertop knows ({what})", shown_word(s)),
                };
                out.push(Finding::new(
                    FindingKind::UnknownValue,
                    Severity::Error,
                    path,
                    format!("{saw}: the row shows UNKNOWN and `snapshot --fail-on-unhealthy` fails for it"),
                ));
            }
        },
        Ty::Word { known, what } => match v.as_str() {
            None => other_type(out),
            Some(s) if known(s) => {}
            Some(s) => out.push(Finding::new(
                FindingKind::UnknownValue,
                Severity::Warning,
                path,
                format!("{} is not a value infertop knows ({what})", shown_word(s)),
            )),
        },
        Ty::Map => {
            if !v.is_object() {
                other_type(out)
            }
        }
        Ty::Arr(item) => match v.as_array() {
            None => other_type(out),
            Some(items) => {
                let p = format!("{path}[*]");
                for i in items {
                    walk(i, item, &p, Need::Optional, out);
                }
            }
        },
        Ty::OneOf(ts) => {
            // The best fit of the body's JSON type: the shape that knows the most of the body's keys, then the
            // fewest errors, then the fewest warnings, the first of equals. (Not the first of the right type: an
            // object with one key more is that object with a warning, not a page missing `count` and
            // `results`.) A body none of them knows a key of is compared with the first, the documented one.
            // (keys known, reversed; errors; warnings): lower is better.
            type Fit = (std::cmp::Reverse<usize>, usize, usize);
            let mut best: Option<(Fit, Vec<Finding>)> = None;
            for t in ts {
                let mut found = Vec::new();
                walk(v, t, path, need, &mut found);
                if found.is_empty() {
                    return;
                }
                let same_type = !found.iter().any(|f| f.kind == FindingKind::OtherType && f.path == path);
                if !same_type {
                    continue;
                }
                let known = match (t, v.as_object()) {
                    (Ty::Obj(fields) | Ty::Open(fields), Some(m)) => {
                        m.keys().filter(|k| fields.iter().any(|f| f.name == k.as_str())).count()
                    }
                    _ => 0,
                };
                let errors = found.iter().filter(|f| f.severity == Severity::Error).count();
                let score = if known == 0 {
                    (std::cmp::Reverse(0), usize::MAX, usize::MAX)
                } else {
                    (std::cmp::Reverse(known), errors, found.len() - errors)
                };
                if best.as_ref().is_none_or(|(b, _)| score < *b) {
                    best = Some((score, found));
                }
            }
            match best {
                Some((_, found)) => out.extend(found),
                None => other_type(out),
            }
        }
        Ty::Obj(fields) | Ty::Open(fields) => {
            let open = matches!(t, Ty::Open(_));
            let Some(m) = v.as_object() else { return other_type(out) };
            let mut consumed: Vec<&str> = Vec::new();
            for f in fields {
                let p = child(path, f.name);
                match m.get(f.name) {
                    Some(val) if !val.is_null() => walk(val, &f.ty, &p, f.need, out),
                    present => {
                        // Absent (or null): is it there under other casing?
                        let other = m.keys().find(|k| {
                            k.as_str() != f.name
                                && fold(k) == fold(f.name)
                                && !fields.iter().any(|g| g.name == k.as_str())
                        });
                        if present.is_none()
                            && let Some(k) = other
                        {
                            consumed.push(k);
                            let sev =
                                if f.need == Need::Optional { Severity::Warning } else { Severity::Error };
                            out.push(Finding::new(
                                FindingKind::OtherCasing,
                                sev,
                                &p,
                                format!("sent as {:?}; infertop reads {:?}", k, f.name),
                            ));
                        } else if f.need == Need::Required {
                            let what = if present.is_some() { "null" } else { "missing" };
                            out.push(Finding::new(
                                FindingKind::Missing,
                                Severity::Error,
                                &p,
                                format!("{what}, and infertop relies on it"),
                            ));
                        } else if f.need == Need::SentBack
                            && present.is_none()
                            && !f.alt.is_some_and(|a| m.contains_key(a))
                        {
                            out.push(Finding::new(
                                FindingKind::Missing,
                                Severity::Error,
                                &p,
                                "missing, and an edit must send it back (the write replaces every field): \
                                 infertop refuses edits without it"
                                    .to_string(),
                            ));
                        }
                    }
                }
            }
            for k in m.keys() {
                if open || fields.iter().any(|f| f.name == k.as_str()) || consumed.contains(&k.as_str()) {
                    continue;
                }
                out.push(Finding::new(
                    FindingKind::UnknownField,
                    Severity::Warning,
                    &child(path, k),
                    "a field infertop does not know (ignored)".to_string(),
                ));
            }
        }
    }
}

/// Decodes `v` into the wire type `T` the dashboard uses; a failure is a finding at the path serde names.
/// The message names types only: quoted text from the body is masked.
pub fn decode<T: serde::de::DeserializeOwned>(v: &Value, root: &str) -> Option<Finding> {
    let e = serde_path_to_error::deserialize::<_, T>(v.clone()).err()?;
    let raw_path = e.path().to_string();
    let path = if raw_path == "." || raw_path.is_empty() {
        root.to_string()
    } else {
        let mut p = String::from(root);
        for seg in raw_path.split('.') {
            // `results[3]` -> `results[*]`
            let seg = match seg.find('[') {
                Some(i) => format!("{}[*]", &seg[..i]),
                None => seg.to_string(),
            };
            if let Some(stripped) = seg.strip_prefix('[') {
                p.push('[');
                p.push_str(stripped);
            } else if !seg.is_empty() {
                p = child(&p, seg.trim_end_matches("[*]"));
                if seg.ends_with("[*]") {
                    p.push_str("[*]");
                }
            }
        }
        p
    };
    Some(Finding::new(
        FindingKind::DoesNotDecode,
        Severity::Error,
        &path,
        format!("the dashboard cannot read this body: {}", mask_quoted(&e.inner().to_string())),
    ))
}

/// Replaces every quoted string (and backquoted one) in a decoder message with `"…"`.
pub fn mask_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_quote: Option<char> = None;
    for c in s.chars() {
        match in_quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                in_quote = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                in_quote = Some(c);
            }
            None => out.push(c),
        }
    }
    if in_quote.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status_word(s: &str) -> bool {
        matches!(s, "ACTIVE" | "DISABLED")
    }

    fn shape() -> Ty {
        obj(vec![
            req("name", Ty::Str),
            req("status", Ty::Word { known: status_word, what: "test statuses" }),
            opt("envs", Ty::Map),
            req("items", arr(obj(vec![req("min", Ty::Int), opt("note", Ty::Str)]))),
            opt("command", one_of(vec![Ty::Str, arr(Ty::Str)])),
        ])
    }

    fn run(v: Value) -> Vec<(FindingKind, Severity, String)> {
        let mut out = Vec::new();
        walk(&v, &shape(), "$", Need::Required, &mut out);
        out.into_iter().map(|f| (f.kind, f.severity, f.path)).collect()
    }

    #[test]
    fn a_body_as_expected_has_no_findings() {
        let v = json!({"name": "a", "status": "ACTIVE", "envs": {"SECRET": "x"}, "items": [{"min": 1}],
            "command": ["a", "b"]});
        assert!(run(v).is_empty());
        let v = json!({"name": "a", "status": "ACTIVE", "envs": null, "items": [], "command": "a b"});
        assert!(run(v).is_empty());
    }

    #[test]
    fn each_kind_of_drift_is_named_with_its_path() {
        let v = json!({"Name": "a", "status": "HIBERNATING", "items": [{"min": "1"}, {"min": 2, "extra": 1}],
            "command": 5, "new": true});
        let mut got = run(v);
        got.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(
            got,
            vec![
                (FindingKind::OtherType, Severity::Warning, "$.command".into()),
                (FindingKind::UnknownField, Severity::Warning, "$.items[*].extra".into()),
                (FindingKind::OtherType, Severity::Error, "$.items[*].min".into()),
                (FindingKind::OtherCasing, Severity::Error, "$.name".into()),
                (FindingKind::UnknownField, Severity::Warning, "$.new".into()),
                (FindingKind::UnknownValue, Severity::Warning, "$.status".into()),
            ]
        );
        let got = run(json!({"name": null, "status": "ACTIVE"}));
        assert_eq!(
            got,
            vec![
                (FindingKind::Missing, Severity::Error, "$.name".into()),
                (FindingKind::Missing, Severity::Error, "$.items".into()),
            ]
        );
    }

    #[test]
    fn one_of_takes_the_best_fit_not_the_first_object() {
        let line = obj(vec![req("time", Ty::Str), req("message", Ty::Str)]);
        let t = one_of(vec![page(line.clone()), line]);
        let mut out = Vec::new();
        walk(&json!({"time": "t", "message": "m", "stream": "stdout"}), &t, "$", Need::Required, &mut out);
        let got: Vec<_> = out.iter().map(|f| (f.kind, f.severity, f.path.as_str())).collect();
        assert_eq!(got, [(FindingKind::UnknownField, Severity::Warning, "$.stream")]);
        // A body that shares no key with either is compared with the first.
        let mut out = Vec::new();
        walk(&json!({"fault": 1}), &t, "$", Need::Required, &mut out);
        let missing: Vec<_> =
            out.iter().filter(|f| f.kind == FindingKind::Missing).map(|f| f.path.as_str()).collect();
        assert_eq!(missing, ["$.count", "$.results"]);
    }

    #[test]
    fn a_health_word_outside_the_vocabulary_is_an_error_that_names_the_casing() {
        let t = Ty::Health { known: status_word, what: "test statuses" };
        let mut out = Vec::new();
        walk(&json!("Active"), &t, "$.status", Need::Required, &mut out);
        assert_eq!((out[0].kind, out[0].severity), (FindingKind::UnknownValue, Severity::Error));
        assert!(
            out[0].message.starts_with(r#""Active" where infertop reads "ACTIVE""#),
            "{}",
            out[0].message
        );
        let mut out = Vec::new();
        walk(&json!("HIBERNATING"), &t, "$.status", Need::Required, &mut out);
        assert!(out[0].message.contains("is not a value infertop knows"), "{}", out[0].message);
        assert_eq!(out[0].severity, Severity::Error);
    }

    #[test]
    fn values_and_odd_keys_never_reach_a_finding() {
        let mut out = Vec::new();
        let v = json!({"name": "a", "status": "sk-live-0123456789abcdef0123456789abcdef0123456789",
            "items": [], "the key=hunter2": 1});
        walk(&v, &shape(), "$", Need::Required, &mut out);
        let text = format!("{out:?}");
        assert!(!text.contains("sk-live") && !text.contains("hunter2"), "{text}");
        assert!(text.contains("<key of 15 characters>"), "{text}");
    }

    #[test]
    fn decode_errors_name_the_path_and_mask_values() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct W {
            results: Vec<I>,
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct I {
            status: Option<String>,
        }
        let f = decode::<W>(&json!({"results": [{"status": "ok"}, {"status": 5}]}), "$").unwrap();
        assert_eq!(f.path, "$.results[*].status");
        let f = decode::<I>(&json!({"status": {"token": "hunter2"}}), "$").unwrap();
        assert!(!f.message.contains("hunter2"), "{}", f.message);
        assert_eq!(
            mask_quoted(r#"invalid type: string "hunter2", expected u32"#),
            r#"invalid type: string "…", expected u32"#
        );
    }
}
