//! Every mistake of a config file at once, each with its line and column, the field's path, what is
//! allowed, and a "did you mean" for a misspelt key, provider, theme or action. Works on toml's spanned
//! tables, so a file with two mistakes reports both and a value of the wrong type names its own line.

use crate::model::ProviderKind;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One mistake in a config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistake {
    pub line: usize,
    pub column: usize,
    /// The field's path, `account[2].provider`, `keys.move_down`; empty for a syntax error.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Mistake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(f, "{}:{}: {}: {}", self.line, self.column, self.path, self.message)
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The candidate closest to `word`, if it is close enough to be a slip of the fingers.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1) || (word.len() >= 3 && c.starts_with(&word)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What a field takes.
#[derive(Clone, Copy)]
enum Kind {
    /// A number (integer or float) in a range.
    Number(f64, f64),
    /// An integer in a range.
    Integer(i64, i64),
    Bool,
    /// A non-empty string.
    Text,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

const TOP: &[(&str, Kind)] = &[
    ("refresh_seconds", Kind::Number(0.5, 3600.0)),
    ("read_only", Kind::Bool),
    ("theme", Kind::OneOf(&["dark", "light", "mono"])),
    ("ca_file", Kind::Text),
];

const ACCOUNT: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("provider", Kind::OneOf(&["gcore", "sesterce", "runai"])),
    ("base_url", Kind::Text),
    ("project_id", Kind::Integer(1, i64::MAX)),
    ("api", Kind::OneOf(&["v3", "v2"])),
    ("api_key_env", Kind::Text),
    ("api_key_command", Kind::Text),
    ("api_key", Kind::Text),
    ("api_key_credential", Kind::Text),
    ("client_id", Kind::Text),
    ("client_secret_env", Kind::Text),
    ("client_secret_command", Kind::Text),
    ("client_secret", Kind::Text),
    ("client_secret_credential", Kind::Text),
    ("max_in_flight", Kind::Integer(1, 64)),
    ("requests_per_second", Kind::Number(0.0, 10_000.0)),
    ("request_burst", Kind::Integer(1, u32::MAX as i64)),
    ("max_response_mib", Kind::Integer(1, super::MAX_RESPONSE_MIB as i64)),
    ("max_list_items", Kind::Integer(1, i64::MAX)),
    ("max_string_kib", Kind::Integer(1, super::MAX_STRING_KIB as i64)),
];

const KEY_SOURCES: &str = "set api_key_env (or api_key_command, or api_key_credential) for the API key";

/// Keys only one provider takes.
const GCORE_ONLY: &[&str] = &["project_id", "api"];
const KEY_ONLY: &[&str] = &["api_key_env", "api_key_command", "api_key", "api_key_credential"];
/// The client id, then the client secret's sources.
const RUNAI_ONLY: &[&str] =
    &["client_id", "client_secret_env", "client_secret_command", "client_secret", "client_secret_credential"];

struct Checker<'t> {
    text: &'t str,
    out: Vec<Mistake>,
    /// `--allow-http`: plain http to a host that is not loopback is then no mistake.
    allow_http: bool,
}

impl Checker<'_> {
    fn at(&mut self, span: Range<usize>, path: &str, message: String) {
        let (line, column) = position(self.text, span.start);
        self.out.push(Mistake { line, column, path: path.to_string(), message });
    }

    fn unknown_key(&mut self, key: &Spanned<std::borrow::Cow<'_, str>>, path: &str, known: &[&str]) {
        let k = key.get_ref();
        let hint = match did_you_mean(k, known) {
            Some(m) => format!("; did you mean `{m}`?"),
            None => String::new(),
        };
        let path = if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
        self.at(key.span(), &path, format!("unknown key `{k}`{hint} (allowed: {})", known.join(", ")));
    }

    fn value(&mut self, v: &Spanned<DeValue<'_>>, path: &str, kind: Kind) {
        let found = describe(v.get_ref());
        match (kind, v.get_ref()) {
            (Kind::Bool, DeValue::Boolean(_)) => {}
            (Kind::Bool, _) => self.at(v.span(), path, format!("expected true or false, found {found}")),
            (Kind::Text, DeValue::String(s)) if !s.trim().is_empty() => {}
            (Kind::Text, _) => self.at(v.span(), path, format!("expected a non-empty string, found {found}")),
            (Kind::OneOf(words), DeValue::String(s)) => {
                if !words.contains(&s.as_ref()) {
                    let hint =
                        did_you_mean(s, words).map(|m| format!("; did you mean {m:?}?")).unwrap_or_default();
                    self.at(v.span(), path, format!("{s:?} is not one of {}{hint}", words.join(", ")));
                }
            }
            (Kind::OneOf(words), _) => self.at(
                v.span(),
                path,
                format!("expected one of {} (a string), found {found}", words.join(", ")),
            ),
            (Kind::Number(lo, hi), _) => match number(v.get_ref()) {
                Some(n) if (lo..=hi).contains(&n) => {}
                Some(n) => self.at(v.span(), path, format!("{n} is out of range: between {lo} and {hi}")),
                None => {
                    self.at(v.span(), path, format!("expected a number between {lo} and {hi}, found {found}"))
                }
            },
            (Kind::Integer(lo, hi), DeValue::Integer(i)) => {
                let n = i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok();
                match n {
                    Some(n) if (lo..=hi).contains(&n) => {}
                    _ => {
                        self.at(v.span(), path, format!("{} is out of range: {}", i.as_str(), range(lo, hi)))
                    }
                }
            }
            (Kind::Integer(lo, hi), _) => {
                self.at(v.span(), path, format!("expected a whole number {}, found {found}", range(lo, hi)))
            }
        }
    }

    fn keys(&mut self, v: &Spanned<DeValue<'_>>) {
        use crate::app::keymap::{Action, Key};
        let DeValue::Table(t) = v.get_ref() else {
            self.at(
                v.span(),
                "keys",
                format!("expected a table of action = [keys], found {}", describe(v.get_ref())),
            );
            return;
        };
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        for (k, keys) in t.iter() {
            let path = format!("keys.{}", k.get_ref());
            if Action::from_name(k.get_ref()).is_none() {
                let hint = did_you_mean(k.get_ref(), &names)
                    .map(|m| format!("; did you mean `{m}`?"))
                    .unwrap_or_default();
                self.at(
                    k.span(),
                    &path,
                    format!("no such action{hint} (the actions are listed by `?` in the dashboard)"),
                );
                continue;
            }
            let DeValue::Array(items) = keys.get_ref() else {
                self.at(
                    keys.span(),
                    &path,
                    format!("expected a list of key names, found {}", describe(keys.get_ref())),
                );
                continue;
            };
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::String(s) if Key::parse(s).is_some() => {}
                    DeValue::String(s) => self.at(
                        item.span(),
                        &path,
                        format!("{s:?} is not a key name (a letter, ctrl-x, alt-x, shift-x, f1, up, pgdn, enter, esc…)"),
                    ),
                    other => self.at(item.span(), &path, format!("expected a key name, found {}", describe(other))),
                }
            }
        }
    }

    fn account(&mut self, i: usize, v: &Spanned<DeValue<'_>>, names: &mut Vec<String>) {
        let DeValue::Table(t) = v.get_ref() else {
            let path = format!("account[{i}]");
            self.at(
                v.span(),
                &path,
                format!("expected an [[account]] table, found {}", describe(v.get_ref())),
            );
            return;
        };
        // Fields are named by the account's name when it has one, else by its place among the accounts.
        let path = match t.iter().find(|(k, _)| k.get_ref() == "name").map(|(_, v)| v.get_ref()) {
            Some(DeValue::String(n)) => format!("account {n:?}"),
            _ => format!("account[{i}]"),
        };
        let known: Vec<&str> = ACCOUNT.iter().map(|(k, _)| *k).collect();
        for (k, val) in t.iter() {
            let field = format!("{path}.{}", k.get_ref());
            match ACCOUNT.iter().find(|(name, _)| *name == k.get_ref().as_ref()) {
                Some((_, kind)) => self.value(val, &field, *kind),
                None => self.unknown_key(k, &path, &known),
            }
        }
        let get = |key: &str| t.iter().find(|(k, _)| k.get_ref() == key).map(|(k, v)| (k.span(), v));
        let text_of = |key: &str| match get(key).map(|(_, v)| v.get_ref()) {
            Some(DeValue::String(s)) => Some(s.to_string()),
            _ => None,
        };
        let has = |key: &str| get(key).is_some();
        // Missing fields are named at the account's name (or its header when it has none).
        let anchor = get("name").map(|(s, _)| s).unwrap_or_else(|| v.span());
        match text_of("name") {
            Some(n) if names.contains(&n) => {
                let span = get("name").map(|(_, v)| v.span()).unwrap_or(anchor.clone());
                self.at(
                    span,
                    &format!("{path}.name"),
                    "appears twice: each account needs its own name".to_string(),
                );
            }
            Some(n) => names.push(n),
            None if !has("name") => {
                self.at(anchor.clone(), &format!("{path}.name"), "required: the account's name".into())
            }
            None => {}
        }
        let Some(provider) = text_of("provider").and_then(|p| ProviderKind::parse(&p)) else {
            if !has("provider") {
                self.at(
                    anchor,
                    &format!("{path}.provider"),
                    "required: gcore, sesterce or runai".to_string(),
                );
            }
            return;
        };
        let mut need = |ok: bool, field: &str, what: &str| {
            if !ok {
                self.at(anchor.clone(), &format!("{path}.{field}"), what.to_string());
            }
        };
        let key_source = KEY_ONLY.iter().any(|k| has(k));
        let secret_source = RUNAI_ONLY[1..].iter().any(|k| has(k));
        match provider {
            ProviderKind::Gcore => {
                need(has("project_id"), "project_id", "required for gcore (the project's number)");
                need(key_source, "api_key_env", KEY_SOURCES);
            }
            ProviderKind::Sesterce => {
                need(key_source, "api_key_env", KEY_SOURCES);
            }
            ProviderKind::Runai => {
                need(has("base_url"), "base_url", "required for runai (your tenant's URL)");
                need(has("client_id"), "client_id", "required for runai");
                need(
                    secret_source,
                    "client_secret_env",
                    "set client_secret_env (or client_secret_command, or client_secret_credential)",
                );
            }
        }
        let misplaced: Vec<&str> = match provider {
            ProviderKind::Gcore => RUNAI_ONLY.to_vec(),
            ProviderKind::Sesterce => [GCORE_ONLY, RUNAI_ONLY].concat(),
            ProviderKind::Runai => [GCORE_ONLY, KEY_ONLY].concat(),
        };
        for key in misplaced {
            if let Some((span, _)) = get(key) {
                self.at(span, &format!("{path}.{key}"), format!("{provider} accounts do not take it"));
            }
        }
        for key in ["api_key_credential", "client_secret_credential"] {
            if let Some(name) = text_of(key)
                && !super::is_credential_name(&name)
                && let Some((_, v)) = get(key)
            {
                self.at(
                    v.span(),
                    &format!("{path}.{key}"),
                    format!("{name:?} is not a credential's name: name a file of the credential directory, without any /"),
                );
            }
        }
        if let Some(url) = text_of("base_url")
            && let Err(e) = super::check_base_url(&url, self.allow_http)
            && let Some((_, v)) = get("base_url")
        {
            self.at(v.span(), &format!("{path}.base_url"), e);
        }
    }
}

fn range(lo: i64, hi: i64) -> String {
    if hi == i64::MAX { format!("at least {lo}") } else { format!("between {lo} and {hi}") }
}

fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => {
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok().map(|n| n as f64)
        }
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("the string {s:?}"),
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(d) => format!("the date {d}"),
        DeValue::Array(_) => "a list".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// Every mistake of `text`, in file order. Empty when the file is valid. `allow_http` (the command's
/// `--allow-http`) lifts the https rule for hosts that are not loopback.
pub fn mistakes(text: &str, allow_http: bool) -> Vec<Mistake> {
    let mut c = Checker { text, out: Vec::new(), allow_http };
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // Values after a syntax error are guesses: report the syntax alone.
        for e in errors {
            let at = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().to_string();
            let (line, _) = position(text, at);
            c.at(at..at, "", format!("TOML parse error at line {line}: {msg}"));
        }
        return c.out;
    }
    let top_known: Vec<&str> = TOP.iter().map(|(k, _)| *k).chain(["keys", "account"]).collect();
    let mut names = Vec::new();
    for (k, v) in root.get_ref().iter() {
        let key = k.get_ref().as_ref();
        if let Some((_, kind)) = TOP.iter().find(|(name, _)| *name == key) {
            c.value(v, key, *kind);
        } else if key == "keys" {
            c.keys(v);
        } else if key == "account" {
            match v.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        c.account(i, item, &mut names);
                    }
                }
                other => c.at(
                    v.span(),
                    "account",
                    format!("expected [[account]] tables, found {}", describe(other)),
                ),
            }
        } else {
            c.unknown_key(k, "", &top_known);
        }
    }
    c.out.sort_by_key(|m| (m.line, m.column));
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_mistakes_both_reported_with_positions_and_hints() {
        let text =
            "refresh_seconds = \"five\"\n\n[[account]]\nname = \"a\"\nprovider = \"gcor\"\nproject_idd = 3\n";
        let m = mistakes(text, false);
        let shown: Vec<String> = m.iter().map(|m| m.to_string()).collect();
        assert_eq!(m.len(), 3, "{shown:#?}");
        assert_eq!((m[0].line, m[0].column, m[0].path.as_str()), (1, 19, "refresh_seconds"));
        assert!(
            shown[0].contains("expected a number between 0.5 and 3600, found the string \"five\""),
            "{shown:?}"
        );
        assert_eq!((m[1].line, m[1].column), (5, 12));
        assert!(
            shown[1].contains("account \"a\".provider") && shown[1].contains("did you mean \"gcore\"?"),
            "{shown:?}"
        );
        assert_eq!((m[2].line, m[2].column), (6, 1));
        assert!(shown[2].contains("unknown key `project_idd`; did you mean `project_id`?"), "{shown:?}");
    }

    #[test]
    fn missing_fields_and_wrong_provider_keys() {
        let text = "[[account]]\nname = \"r\"\nprovider = \"runai\"\nproject_id = 4\n";
        let shown: Vec<String> = mistakes(text, false).iter().map(|m| m.to_string()).collect();
        for want in [
            "base_url: required for runai",
            "client_id: required",
            "client_secret_env",
            "project_id: runai accounts do not take it",
        ] {
            assert!(shown.iter().any(|s| s.contains(want)), "{want}: {shown:#?}");
        }
        assert!(shown.iter().all(|s| s.starts_with("2:1: ") || s.starts_with("4:1: ")), "{shown:#?}");
    }

    #[test]
    fn the_defaults_and_the_examples_have_no_mistake() {
        assert_eq!(mistakes(super::super::DEFAULTS_TOML, false), vec![]);
        assert_eq!(mistakes(include_str!("../../assets/config.example.toml"), false), vec![]);
        assert_eq!(mistakes(include_str!("../../assets/sim.toml"), false), vec![]);
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position("a\nbé=c", 5), (2, 3));
        assert_eq!(did_you_mean("sesterc", &["gcore", "sesterce", "runai"]), Some("sesterce"));
        assert_eq!(did_you_mean("aws", &["gcore", "sesterce", "runai"]), None);
    }
}
