//! The run modes: the dashboard (on a config or on the in-process demo simulator), the simulator alone,
//! and `info`.

use crate::app::{AccountState, State};
use crate::cli::{Cli, SimArgs};
use crate::config::{self, Config};
use crate::provider::{self, AccountSpec, http::build_client};
use crate::sim::{self, SimConfig};
use crate::sync::Sync;
use crate::tui::{self, TerminalGuard};
use crate::ui::theme::{Theme, ThemeName};
use color_eyre::eyre::{Result, eyre};
use std::time::Duration;

pub fn sim_config(a: &SimArgs) -> Result<SimConfig> {
    let faults = match a.faults.as_deref() {
        None => sim::faults::FaultConfig::default(),
        Some(name) => sim::faults::FaultConfig::profile(name)
            .ok_or_else(|| eyre!("unknown fault profile {name:?}: none, flaky, slow or chaos"))?,
    };
    Ok(SimConfig {
        seed: a.seed,
        fleet: a.fleet,
        latency: Duration::from_millis(a.latency),
        time_scale: a.time_scale,
        runai_token_ttl: a.runai_token_ttl,
        faults,
        ..SimConfig::default()
    })
}

/// `infertop sim`: prints `listening on http://ADDR` first, then the credentials, and serves until killed.
pub async fn simulator(args: &SimArgs, listen: std::net::SocketAddr) -> Result<()> {
    let handle = sim::start(sim_config(args)?, listen).await?;
    println!("listening on {}", handle.base_url());
    println!("{}", sim::credentials_banner());
    tokio::signal::ctrl_c().await?;
    drop(handle);
    Ok(())
}

/// `infertop info`.
pub fn info() {
    println!("config:     {}", config::default_path().map(|p| p.display().to_string()).unwrap_or("-".into()));
    println!("state dir:  {}", config::state_dir().display());
    println!("log file:   {}", config::state_dir().join("infertop.log").display());
    println!("audit file: {}", config::state_dir().join("audit.jsonl").display());
}

/// The dashboard.
pub async fn dashboard(cli: &Cli) -> Result<()> {
    let file_cfg = match (&cli.config, config::default_path()) {
        (Some(p), _) => Some(Config::load(p).map_err(|e| eyre!(e))?),
        (None, Some(p)) if p.exists() => Some(Config::load(&p).map_err(|e| eyre!(e))?),
        _ => None,
    };
    let cfg = file_cfg.clone().unwrap_or_default();
    // The demo simulator lives as long as the dashboard.
    let mut _sim = None;
    let accounts: Vec<AccountSpec> = if cli.demo {
        let h = sim::start(sim_config(&cli.sim)?, "127.0.0.1:0".parse()?).await?;
        let accts = provider::demo_accounts(&h.base_url());
        tracing::info!(url = %h.base_url(), "demo simulator started");
        _sim = Some(h);
        accts
    } else {
        let accts = cfg.accounts(cli.allow_http).map_err(|e| eyre!(e))?;
        if accts.is_empty() {
            return Err(eyre!(config::no_config_help(config::default_path().as_deref())));
        }
        accts
    };
    let refresh =
        Duration::from_secs_f64(cli.refresh.or(cfg.refresh_seconds).unwrap_or(5.0).clamp(0.5, 3600.0));
    let theme_name = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        ThemeName::Mono
    } else {
        match cli.theme.as_deref().or(cfg.theme.as_deref()) {
            Some(t) => {
                ThemeName::parse(t).ok_or_else(|| eyre!("unknown theme {t:?}: dark, light or mono"))?
            }
            None => ThemeName::Dark,
        }
    };

    let client = build_client(Duration::from_secs(5), Duration::from_secs(20));
    let providers: Vec<_> = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    let account_states = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(account_states, refresh, chrono::Utc::now());
    state.read_only = cli.read_only || cfg.read_only.unwrap_or(false);
    state.theme = Theme::named(theme_name);

    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let audit = crate::sync::audit::AuditLog::new(config::state_dir().join("audit.jsonl"));
    let sync = Sync::spawn(providers, tx, refresh, Some(audit));
    let (mut terminal, guard) = TerminalGuard::enter(cli.mouse)?;
    let exit = tui::run_loop(&mut terminal, &mut state, &sync, rx).await;
    drop(guard);
    drop(sync);
    let exit = exit?;
    tracing::info!(?exit, "dashboard closed");
    Ok(())
}
