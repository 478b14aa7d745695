//! Command mode: `:provider gcore`, `:sort ready`, `:catalog`, `:create`, `:refresh`, `:help`, `:q`.

use super::input::LineInput;
use super::state::{Mode, SortKey, State};
use super::table::{refilter, set_sort};
use super::update::Effect;
use crate::model::ProviderKind;
use crossterm::event::{KeyCode, KeyEvent};

pub(super) fn on_key(state: &mut State, mut input: LineInput, key: KeyEvent, fx: &mut Vec<Effect>) {
    match key.code {
        KeyCode::Esc => state.dirty = true,
        KeyCode::Enter => run_command(state, input.value().trim(), fx),
        _ => {
            input.handle(key);
            state.dirty = true;
            state.mode = Mode::Command(input);
        }
    }
}

/// `:provider gcore`, `:sort ready`, `:q`, `:refresh`, `:help`.
pub(super) fn run_command(state: &mut State, cmd: &str, fx: &mut Vec<Effect>) {
    let mut parts = cmd.split_whitespace();
    let head = parts.next().unwrap_or("");
    let arg = parts.next();
    state.dirty = true;
    match (head, arg) {
        ("q" | "quit" | "q!" | "exit", _) => {
            state.quit = true;
            fx.push(Effect::Quit);
        }
        ("provider" | "providers" | "p", None | Some("all" | "*")) => {
            state.scope = None;
            state.flash = Some("showing every provider".into());
            refilter(state);
        }
        ("provider" | "providers" | "p", Some(p)) => match ProviderKind::parse(p) {
            Some(k) => {
                state.scope = Some(k);
                state.flash = Some(format!("showing {k} only"));
                refilter(state);
            }
            None => state.flash = Some(format!("unknown provider {p:?}: gcore, sesterce, runai or all")),
        },
        (p @ ("gcore" | "sesterce" | "runai"), None) => {
            state.scope = ProviderKind::parse(p);
            refilter(state);
        }
        ("sort", Some(k)) => match SortKey::parse(k) {
            Some(key) => set_sort(state, key),
            None => {
                state.flash = Some(format!("unknown sort {k:?}: name, status, ready, provider, age, price"))
            }
        },
        ("refresh" | "r", _) => {
            fx.push(Effect::Refresh(None));
            state.watching = None;
        }
        ("help" | "h" | "?", _) => state.mode = Mode::Help(Default::default()),
        ("catalog" | "cat", p) => {
            let account = p.and_then(|p| super::create_flow::account_named(state, p));
            match (p, account) {
                (Some(p), None) => state.flash = Some(format!("no account or provider named {p:?}")),
                _ => super::create_flow::open_catalog(state, account, fx),
            }
        }
        ("create" | "new", _) => super::create_flow::open_create(state, None, Default::default(), fx),
        ("", _) => {}
        _ => {
            state.flash = Some(format!(
                "unknown command {head:?} (try :provider, :sort, :catalog, :create, :refresh, :q)"
            ))
        }
    }
}
