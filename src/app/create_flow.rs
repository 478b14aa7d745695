//! The update side of the catalog view and the create form: opening them, their keys, and the catalogs,
//! prices and create outcomes coming back from the sync layer. Called from `update`; no I/O here.

use super::catalog::{
    CatalogEntry, CatalogTab, CatalogView, PriceEntry, PriceKey, one_replica_spec, rows_in,
};
use super::create::{AccountChoice, CStage, CreateForm, Outcome, Prefill};
use super::edit::settle_pending;
use super::form::Change;
use super::state::{Filter, Mode, Pane, Pending, Row, State, haystack};
use super::table::{refilter, resort};
use super::update::Effect;
use crate::model::{Catalog, Price, ScaleUpdate};
use crate::provider::{ApiError, Applied};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};

/// The account named `p`, or the first account of provider `p`.
pub fn account_named(state: &State, p: &str) -> Option<usize> {
    state.accounts.iter().position(|a| a.name == p).or_else(|| {
        let kind = crate::model::ProviderKind::parse(p)?;
        state.accounts.iter().position(|a| a.kind == kind)
    })
}

fn choices(state: &State) -> Vec<AccountChoice> {
    state
        .accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.capabilities.create)
        .map(|(index, a)| AccountChoice { index, name: a.name.clone(), kind: a.kind })
        .collect()
}

/// The account to start on: the one asked for, else the selected deployment's, else the first.
fn start_account(state: &State, account: Option<usize>) -> Option<usize> {
    account
        .or_else(|| state.selected_row().map(|r| r.account))
        .or((!state.accounts.is_empty()).then_some(0))
        .filter(|&a| a < state.accounts.len())
}

fn ensure_catalog(state: &mut State, account: usize, fx: &mut Vec<Effect>) {
    if state.catalogs.start_load(account) {
        fx.push(Effect::LoadCatalog(account));
    }
}

pub fn open_catalog(state: &mut State, account: Option<usize>, fx: &mut Vec<Effect>) {
    state.dirty = true;
    let Some(account) = start_account(state, account) else {
        state.flash = Some("no account to show a catalog of".into());
        return;
    };
    state.mode = Mode::Catalog(CatalogView::new(account));
    ensure_catalog(state, account, fx);
    ask_catalog_price(state, fx);
}

pub fn open_create(state: &mut State, account: Option<usize>, prefill: Prefill, fx: &mut Vec<Effect>) {
    state.dirty = true;
    if state.read_only {
        state.flash = Some("read-only mode: changes are off".into());
        return;
    }
    let Some(account) = start_account(state, account) else {
        state.flash = Some("no account to create on".into());
        return;
    };
    if !state.accounts[account].capabilities.create {
        // Said before anything is asked or priced: not after a catalog, a price and a review.
        let name = crate::model::text::sanitize(&state.accounts[account].name).into_owned();
        let others: Vec<String> =
            choices(state).iter().map(|c| crate::model::text::sanitize(&c.name).into_owned()).collect();
        state.flash = Some(if others.is_empty() {
            format!("{name} cannot create deployments (Gcore's legacy v2 API has no create in infertop)")
        } else {
            format!(
                "{name} cannot create deployments (Gcore's legacy v2 API has no create in infertop): \
                 select a row of {} first",
                others.join(", ")
            )
        });
        return;
    }
    ensure_catalog(state, account, fx);
    let form = CreateForm::new(choices(state), account, state.catalogs.loaded(account), &prefill);
    ask_price(state, &form, fx);
    state.mode = Mode::Create(Box::new(form));
}

/// The price of the selected hardware (one replica where it is free), for the catalog's hardware tab.
fn ask_catalog_price(state: &mut State, fx: &mut Vec<Effect>) {
    let Mode::Catalog(view) = &state.mode else { return };
    let kind = state.accounts[view.account].kind;
    if view.tab_of(kind) != CatalogTab::Hardware {
        return;
    }
    let account = view.account;
    let Some(c) = state.catalogs.loaded(account) else { return };
    let Some(spec) = c.hardware.get(view.sel).and_then(|h| one_replica_spec(kind, c, &h.id)) else { return };
    if state.catalogs.ask_price(account, &spec) {
        fx.push(Effect::Price { account, spec: Box::new(spec) });
    }
}

/// The form's price at max scale comes from prices per replica (see `app::cost`).
fn ask_price(state: &mut State, form: &CreateForm, fx: &mut Vec<Effect>) {
    if let Some(spec) = &form.spec {
        super::cost::ask_spec(state, form.account, spec, fx);
    }
}

/// The price of a configuration as text: `3.45 EUR/h (2518.50/month)`, or why it is unknown.
pub fn price_text(state: &State, account: usize, key: &PriceKey) -> String {
    let kind = state.accounts.get(account).map(|a| a.kind);
    match state.catalogs.price(account, key) {
        None | Some(PriceEntry::Loading) => "asking the provider…".into(),
        Some(PriceEntry::Known(Some(p))) => Price::summary(p),
        Some(PriceEntry::Known(None)) => match kind {
            Some(k @ crate::model::ProviderKind::Runai) => format!("unknown ({k} gives no price preview)"),
            _ => "unknown (the provider hides it for this configuration)".into(),
        },
        Some(PriceEntry::Failed(e)) => format!("unknown ({e})"),
    }
}

fn prefill_from(view: &CatalogView, kind: crate::model::ProviderKind, c: Option<&Catalog>) -> Prefill {
    let mut p = Prefill::default();
    let Some(c) = c else { return p };
    let i = view.sel;
    match view.tab_of(kind) {
        CatalogTab::Models => p.model = c.models.get(i).map(|m| m.id.clone()),
        CatalogTab::Hardware => p.hardware = c.hardware.get(i).map(|h| h.id.clone()),
        CatalogTab::Regions => p.region = c.regions.get(i).map(|r| r.id.clone()),
        CatalogTab::Registries => p.registry = c.registries.get(i).map(|r| r.id.clone()),
        CatalogTab::Projects => p.project = c.projects.get(i).map(|r| r.id.clone()),
    }
    p
}

pub fn on_catalog_key(state: &mut State, mut view: CatalogView, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    let n_accounts = state.accounts.len().max(1);
    let kind = state.accounts[view.account].kind;
    let tabs = CatalogTab::for_provider(kind).len();
    let rows = state.catalogs.loaded(view.account).map(|c| rows_in(c, view.tab_of(kind))).unwrap_or(0);
    let last = rows.saturating_sub(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => return,
        KeyCode::Tab => (view.tab, view.sel) = ((view.tab + 1) % tabs, 0),
        KeyCode::BackTab => (view.tab, view.sel) = ((view.tab + tabs - 1) % tabs, 0),
        KeyCode::Right | KeyCode::Char('l') | KeyCode::Char(']') => {
            view = CatalogView::new((view.account + 1) % n_accounts);
            ensure_catalog(state, view.account, fx);
        }
        KeyCode::Left | KeyCode::Char('h') | KeyCode::Char('[') => {
            view = CatalogView::new((view.account + n_accounts - 1) % n_accounts);
            ensure_catalog(state, view.account, fx);
        }
        KeyCode::Down | KeyCode::Char('j') => view.sel = (view.sel + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => view.sel = view.sel.saturating_sub(1),
        KeyCode::Home | KeyCode::Char('g') => view.sel = 0,
        KeyCode::End | KeyCode::Char('G') => view.sel = last,
        KeyCode::PageDown => view.sel = (view.sel + 10).min(last),
        KeyCode::PageUp => view.sel = view.sel.saturating_sub(10),
        KeyCode::Char('r') => {
            state.catalogs.by_account.insert(view.account, CatalogEntry::Loading);
            fx.push(Effect::LoadCatalog(view.account));
        }
        KeyCode::Char('c') => {
            if state.read_only {
                state.flash = Some("read-only mode: changes are off".into());
            } else {
                let prefill = prefill_from(&view, kind, state.catalogs.loaded(view.account));
                open_create(state, Some(view.account), prefill, fx);
                return;
            }
        }
        _ => {}
    }
    state.mode = Mode::Catalog(view);
    ask_catalog_price(state, fx);
}

pub fn on_create_key(state: &mut State, mut form: Box<CreateForm>, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    match form.stage.clone() {
        CStage::Edit => {
            let outcome = form.handle_edit_key(key, state.catalogs.loaded(form.account));
            match outcome {
                Some(Outcome::Cancel) => {
                    state.flash = Some("create cancelled: nothing was sent".into());
                    return;
                }
                Some(Outcome::Review) => {
                    let catalog = state.catalogs.loaded(form.account);
                    match form.revalidate(catalog) {
                        None => {
                            state.flash =
                                Some(format!("{} field(s) need attention", form.error_count().max(1)));
                        }
                        Some(spec) => {
                            let lines = form.review(&spec, catalog);
                            form.stage = CStage::Review(lines);
                            super::cost::open_create_review(state, form.account, &spec, fx);
                        }
                    }
                }
                Some(Outcome::AccountChanged) => {
                    ensure_catalog(state, form.account, fx);
                    form.rebuild(state.catalogs.loaded(form.account));
                }
                None => {}
            }
        }
        CStage::Review(_) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                if let Some(spec) = form.spec.clone() {
                    form.stage = CStage::Creating;
                    fx.push(Effect::Create { account: form.account, spec: Box::new(spec) });
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => form.stage = CStage::Edit,
            _ => {}
        },
        CStage::Creating => state.flash = Some("creating: waiting for the provider".into()),
        CStage::Failed(_) => form.stage = CStage::Edit,
    }
    ask_price(state, &form, fx);
    state.mode = Mode::Create(form);
}

pub fn on_catalog_loaded(
    state: &mut State,
    account: usize,
    at: DateTime<Utc>,
    result: Result<Catalog, ApiError>,
    fx: &mut Vec<Effect>,
) {
    if account >= state.accounts.len() {
        return;
    }
    state.dirty = true;
    match result {
        Ok(catalog) => {
            if state.accounts[account].regions.is_empty()
                && state.accounts[account].capabilities.per_region_scale
            {
                state.accounts[account].regions = catalog.regions.clone();
            }
            state.catalogs.by_account.insert(account, CatalogEntry::Loaded { catalog, at });
        }
        Err(e) => {
            state.catalogs.by_account.insert(account, CatalogEntry::Failed(e));
        }
    }
    let mode = std::mem::replace(&mut state.mode, Mode::Normal);
    state.mode = match mode {
        Mode::Create(mut form) if form.account == account => {
            form.rebuild(state.catalogs.loaded(account));
            ask_price(state, &form, fx);
            Mode::Create(form)
        }
        other => other,
    };
    ask_catalog_price(state, fx);
}

pub fn on_priced(state: &mut State, account: usize, key: PriceKey, result: Result<Option<Price>, ApiError>) {
    let entry = match result {
        Ok(p) => PriceEntry::Known(p),
        Err(e) => PriceEntry::Failed(e.to_string()),
    };
    state.catalogs.prices.insert((account, key), entry);
    state.dirty = true;
}

pub fn on_created(
    state: &mut State,
    account: usize,
    name: String,
    result: Result<Applied, ApiError>,
    fx: &mut Vec<Effect>,
) {
    state.dirty = true;
    let form_here = matches!(&state.mode, Mode::Create(f) if f.account == account);
    let dep = match result {
        Err(e) => {
            match &mut state.mode {
                Mode::Create(form) if form_here => {
                    form.stage = CStage::Failed(e.to_string());
                    form.apply_refusal(&e.fields);
                }
                _ => super::state::toast(state, format!("create {name} failed: {e}")),
            }
            return;
        }
        Ok(applied) => applied.deployment().clone(),
    };
    let spec = match std::mem::replace(&mut state.mode, Mode::Normal) {
        Mode::Create(form) if form_here => form.spec,
        other => {
            state.mode = other;
            None
        }
    };
    if account >= state.accounts.len() {
        return;
    }
    let key = dep.key.clone();
    let hay = haystack(&dep, &state.accounts[account].name);
    let sample = state.accounts[account].samples;
    match state.index.get(&key) {
        Some(&i) => {
            let row = &mut state.rows[i];
            *row.dep = dep.clone();
            row.fetched_at = state.now;
            row.haystack = hay;
        }
        None => {
            let mut history = super::history::History::default();
            history.record(&dep, sample);
            state.index.insert(key.clone(), state.rows.len());
            state.rows.push(Row {
                dep: Box::new(dep.clone()),
                account,
                fetched_at: state.now,
                haystack: hay,
                history,
                detail_version: None,
            });
        }
    }
    state.details.entry(key.clone()).or_default().detail = Some((dep, state.now));
    if let Some(spec) = spec {
        let change = Change::Scale(ScaleUpdate { regions: spec.regions });
        state.pending.insert(key.clone(), Pending { change, since: state.now });
    }
    // Select the new row, and make sure it is shown.
    if state.scope.is_some_and(|p| p != key.provider) {
        state.scope = None;
    }
    if !state.filter.matches(&state.rows[state.index[&key]].haystack) {
        state.filter = Filter::default();
    }
    state.user_selected = true;
    state.selected_key = Some(key.clone());
    state.focus = Pane::Deployments;
    resort(state);
    state.region_sel = 0;
    state.metrics_sel = 0;
    state.logs_scroll = 0;
    refilter(state);
    state.flash = Some(format!("{name}: created; watching it deploy"));
    settle_pending(state, Some(&key));
    fx.push(Effect::Refresh(Some(account)));
    // The watch is re-sent so the new deployment's details are fetched at once.
    state.watching = None;
}
