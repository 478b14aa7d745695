//! Which deployments a scripted change is for: `ACCOUNT/NAME`, a bare name that only one account has, or the
//! dashboard's `/` filter; each within the accounts `--provider` and `--account` leave. Every mistake is a
//! [`crate::run::UserError`] (exit 2) that says what to write instead.

use crate::app::state::{Filter, haystack};
use crate::model::Deployment;
use crate::model::text::sanitize;
use crate::run::user_error;
use color_eyre::eyre::Result;

/// One account's deployments, as listed.
pub struct Listed<'a> {
    pub account: &'a str,
    pub items: &'a [Deployment],
}

/// The dashboard's filter for `--filter`; a pattern that is not a regex is a mistake here (the dashboard
/// matches it literally and says so, a script gets no second look).
pub fn filter(text: &str) -> Result<Filter> {
    let f = Filter::new(text);
    match &f.error {
        Some(_) => Err(user_error(format!(
            "--filter {text:?} is not a valid regex: fix it, or escape the characters it uses (\\. \\( \\[)"
        ))),
        None => Ok(f),
    }
}

/// The deployments picked, as (index into `lists`, index into its items), each once, in list order.
pub fn pick(lists: &[Listed], selectors: &[String], filter: Option<&Filter>) -> Result<Vec<(usize, usize)>> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    if let Some(f) = filter {
        for (a, l) in lists.iter().enumerate() {
            for (i, d) in l.items.iter().enumerate() {
                if f.matches(&haystack(d, l.account)) {
                    out.push((a, i));
                }
            }
        }
    }
    if selectors.is_empty() && filter.is_none() {
        // --provider / --account alone: every deployment of the accounts they leave.
        for (a, l) in lists.iter().enumerate() {
            out.extend((0..l.items.len()).map(|i| (a, i)));
        }
    }
    for s in selectors {
        let found = one(lists, s)?;
        if !out.contains(&found) {
            out.push(found);
        }
    }
    if filter.is_some() || selectors.is_empty() {
        out.sort();
    }
    Ok(out)
}

/// The one deployment `selector` names: by name, else by id.
fn one(lists: &[Listed], selector: &str) -> Result<(usize, usize)> {
    let (scope, name): (Vec<usize>, &str) = match selector.split_once('/') {
        Some((account, name)) if lists.iter().any(|l| l.account == account) => {
            (lists.iter().enumerate().filter(|(_, l)| l.account == account).map(|(a, _)| a).collect(), name)
        }
        _ => ((0..lists.len()).collect(), selector),
    };
    let find = |by_id: bool| -> Vec<(usize, usize)> {
        scope
            .iter()
            .flat_map(|&a| {
                lists[a]
                    .items
                    .iter()
                    .enumerate()
                    .filter(move |(_, d)| if by_id { d.key.id == name } else { d.name == name })
                    .map(move |(i, _)| (a, i))
            })
            .collect()
    };
    let mut found = find(false);
    if found.is_empty() {
        found = find(true);
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let accounts: Vec<&str> = scope.iter().map(|&a| lists[a].account).collect();
            Err(user_error(format!(
                "no deployment named {} in {}: names are exact (infertop snapshot lists them); --filter REGEX \
                 matches as the dashboard's / does",
                sanitize(selector),
                if accounts.len() == 1 {
                    format!("account {}", accounts[0])
                } else {
                    format!("the accounts {}", accounts.join(", "))
                }
            )))
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|&(a, i)| format!("{}/{}", lists[a].account, sanitize(&lists[a].items[i].name)))
                .collect();
            Err(user_error(format!(
                "{} is ambiguous: {} deployments have that name ({}); name one as ACCOUNT/NAME",
                sanitize(selector),
                many.len(),
                names.join(", ")
            )))
        }
    }
}
