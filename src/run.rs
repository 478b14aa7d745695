//! The run modes: the dashboard (on a config or on the in-process demo simulator), the simulator alone,
//! and `info`.

use crate::app::{AccountState, State};
use crate::cli::{Cli, SimArgs};
use crate::config::{self, Config};
use crate::provider::{self, AccountSpec, http};
use crate::sim::{self, SimConfig};
use crate::sync::Sync;
use crate::tui::{self, TerminalGuard};
use crate::ui::theme::{Theme, ThemeName};
use color_eyre::eyre::{Result, eyre};
use std::time::Duration;

/// A mistake the user can fix (a config, a credential, a flag, a path): `main` prints it plainly, with what
/// to do, and exits 2. Anything else that fails is not the user's mistake and exits 1.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// A [`UserError`] as a report.
pub fn user_error(message: impl Into<String>) -> color_eyre::Report {
    color_eyre::Report::new(UserError(message.into()))
}

pub fn sim_config(a: &SimArgs) -> Result<SimConfig> {
    let faults = match a.faults.as_deref() {
        None => sim::faults::FaultConfig::default(),
        Some(name) => sim::faults::FaultConfig::profile(name).ok_or_else(|| {
            user_error(format!("unknown fault profile {name:?}: {}", sim::faults::PROFILES.join(", ")))
        })?,
    };
    let mut ambiguities = sim::ambiguity::Ambiguities::default();
    for pair in &a.ambiguity {
        ambiguities.set_pair(pair).map_err(user_error)?;
    }
    Ok(SimConfig {
        ambiguities,
        seed: a.seed,
        fleet: a.fleet,
        latency: Duration::from_millis(a.latency),
        details_latency: Duration::from_millis(a.details_latency),
        time_scale: a.time_scale,
        runai_token_ttl: a.runai_token_ttl,
        faults,
        hostile: a.hostile,
        live: !a.static_fleet,
        ..SimConfig::default()
    })
}

/// `infertop sim`: prints `listening on http://ADDR` first, then the credentials, and serves until killed.
pub async fn simulator(args: &SimArgs, listen: std::net::SocketAddr) -> Result<()> {
    let handle = sim::start(sim_config(args)?, listen).await?;
    // A reader that closes the pipe after the first line must not take the simulator down.
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", handle.base_url());
    let _ = writeln!(out, "{}", sim::credentials_banner());
    let _ = out.flush();
    tokio::signal::ctrl_c().await?;
    drop(handle);
    Ok(())
}

/// `infertop info`.
pub fn info() {
    let cfg_path = config::default_path();
    let exists = cfg_path.as_ref().is_some_and(|p| p.exists());
    println!(
        "config:     {}{}",
        cfg_path.map(|p| p.display().to_string()).unwrap_or("-".into()),
        if exists { "" } else { " (not present: built-in defaults)" }
    );
    println!("state dir:  {}", config::state_dir().display());
    println!("log file:   {}", config::state_dir().join("infertop.log").display());
    println!("audit file: {}", config::state_dir().join("audit.jsonl").display());
}

/// The config in effect: `--config`, else the default path if it exists, else empty. Warnings about the
/// file (an inline credential others can read) go to stderr and the log.
pub fn load_config(cli: &Cli) -> Result<Config> {
    let path = match (&cli.config, config::default_path()) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) if p.exists() => Some(p),
        _ => None,
    };
    let Some(path) = path else { return Ok(Config::default()) };
    let cfg = Config::load(&path, cli.allow_http).map_err(user_error)?;
    for w in cfg.warnings(&path) {
        eprintln!("infertop: warning: {w}");
        tracing::warn!("{w}");
    }
    Ok(cfg)
}

/// The accounts to watch: the demo simulator's (started here; keep the handle alive) or the config's.
pub async fn accounts(cli: &Cli, cfg: &Config) -> Result<(Vec<AccountSpec>, Option<sim::SimHandle>)> {
    if cli.demo {
        let h = start_demo_sim(sim_config(&cli.sim)?).await?;
        tracing::info!(url = %h.base_url(), "demo simulator started");
        return Ok((provider::demo_accounts(&h.base_url()), Some(h)));
    }
    let ignored = cli.sim.flags_given();
    if !ignored.is_empty() {
        return Err(user_error(format!(
            "{} set{} the simulator, which runs only with --demo (or as `infertop sim`): add --demo, or drop {}",
            ignored.join(", "),
            if ignored.len() == 1 { "s" } else { "" },
            if ignored.len() == 1 { "it" } else { "them" }
        )));
    }
    let accts = cfg.accounts(cli.allow_http).map_err(user_error)?;
    if accts.is_empty() {
        return Err(user_error(config::no_config_help(config::default_path().as_deref())));
    }
    Ok((accts, None))
}

/// Starts the simulator on a thread and runtime of its own, so that serving a large fleet never holds up the
/// dashboard's loop. The thread lives as long as the process; dropping the handle stops the server.
async fn start_demo_sim(config: SimConfig) -> Result<sim::SimHandle> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("demo-sim".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        rt.block_on(async move {
            let started = sim::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await;
            if tx.send(started).is_ok() {
                std::future::pending::<()>().await;
            }
        });
    })?;
    Ok(rx.await.map_err(|_| eyre!("the demo simulator's thread ended"))??)
}

/// The HTTP clients (one pool for lists, one for the rest), trusting the config's `ca_file` besides the
/// system's roots.
pub fn client(cli: &Cli, cfg: &Config) -> Result<http::Clients> {
    let roots = match &cfg.ca_file {
        Some(p) => http::load_ca_file(p).map_err(user_error)?,
        None => Vec::new(),
    };
    let timeout = Duration::from_secs_f64(cli.timeout.clamp(0.2, 600.0));
    http::build_clients(Duration::from_secs(5), timeout, roots).map_err(|e| eyre!(e))
}

/// `infertop snapshot`: the fleet once, as a table or JSON. Returns the process exit code.
pub async fn snapshot(cli: &Cli, json: bool, fail_on_unhealthy: bool) -> Result<i32> {
    use crate::model::Health;
    let cfg = load_config(cli)?;
    let (accts, _sim) = accounts(cli, &cfg).await?;
    let client = client(cli, &cfg)?;
    for name in config::plain_http_accounts(&accts) {
        eprintln!("infertop: warning: account {name} talks plain http to a host that is not loopback");
    }
    let providers: Vec<_> = accts.iter().map(|a| provider::connect(a, client.clone())).collect();
    let results = futures::future::join_all(providers.iter().map(|p| p.listing())).await;
    let mut unhealthy = 0usize;
    let mut failed_accounts = 0usize;
    let mut out_accounts = Vec::new();
    let mut out_deps = Vec::new();
    let mut rows: Vec<crate::model::Deployment> = Vec::new();
    for (p, r) in providers.iter().zip(results) {
        match r {
            Ok(listing) => {
                // What was wrong with the list (items that could not be read, ids listed twice), and a list
                // that stopped part way: its rows are shown, the account is not ok.
                for w in &listing.warnings {
                    eprintln!("{}: {w}", p.account());
                }
                let mut account = serde_json::json!({
                    "name": p.account(), "provider": p.kind().label(), "ok": listing.cut.is_none(),
                    "warnings": listing.warnings,
                });
                if let Some(e) = &listing.cut {
                    failed_accounts += 1;
                    eprintln!("{}: {e}", p.account());
                    account["partial"] = serde_json::json!(true);
                    account["error"] = serde_json::json!(e.to_string());
                }
                out_accounts.push(account);
                rows.extend(listing.items);
            }
            Err(e) => {
                failed_accounts += 1;
                out_accounts.push(serde_json::json!({
                    "name": p.account(), "provider": p.kind().label(), "ok": false, "error": e.to_string()
                }));
                eprintln!("{}: {e}", p.account());
            }
        }
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.name.cmp(&b.name)));
    let costs = snapshot_costs(&providers, &rows).await;
    // Rows whose health is unknown, per account (the account was read, but not all of it).
    let mut unknown_rows: std::collections::HashMap<(crate::model::ProviderKind, String), usize> =
        Default::default();
    for d in &rows {
        // The one health model: stopped and scaled-to-zero deployments are at rest, not unhealthy; unknown
        // (something could not be read) is never healthy.
        let (health, reason) = d.assess();
        if !matches!(health, Health::Ok | Health::Inactive) {
            unhealthy += 1;
        }
        if health == Health::Unknown {
            *unknown_rows.entry((d.key.provider, d.key.account.to_string())).or_default() += 1;
            eprintln!(
                "{}: {} ({}): health unknown: {}",
                crate::model::text::sanitize(&d.key.account),
                crate::model::text::sanitize(&d.name),
                crate::model::text::sanitize(&d.key.id),
                reason.as_deref().unwrap_or("-")
            );
        }
        out_deps.push(serde_json::json!({
            "provider": d.key.provider.label(),
            "account": &*d.key.account,
            "id": d.key.id,
            "name": d.name,
            "status": d.status.label(),
            "health": health.label(),
            "reason": reason,
            "ready": d.ready(),
            "total": d.total(),
            "cost_per_hour": costs.get(&d.key).and_then(|c| c.as_ref().ok()).map(|(currency, amount)| {
                serde_json::json!({"amount": (amount * 100.0).round() / 100.0, "currency": currency})
            }),
            "cost_unknown": costs.get(&d.key).and_then(|c| c.as_ref().err()),
            "unknown": d.unknown,
            "regions": d.regions.iter().map(|r| serde_json::json!({
                "region": r.region_id, "name": r.region_name.as_deref(), "ready": r.ready, "total": r.total,
                "min": r.scale.min, "max": r.scale.max, "error": r.error,
            })).collect::<Vec<_>>(),
        }));
    }
    for a in &mut out_accounts {
        let kind = a["provider"].as_str().and_then(crate::model::ProviderKind::parse);
        let name = a["name"].as_str().unwrap_or_default().to_string();
        let n = kind.and_then(|k| unknown_rows.get(&(k, name))).copied().unwrap_or(0);
        a["unknown"] = serde_json::json!(n);
    }
    if json {
        // The fleet's cost per hour by currency, as the dashboard's header sums it; what is unpriced is counted.
        let mut fleet: std::collections::BTreeMap<&str, f64> = Default::default();
        for (currency, amount) in costs.values().flatten() {
            *fleet.entry(currency.as_str()).or_default() += amount;
        }
        let fleet: serde_json::Map<String, serde_json::Value> = fleet
            .into_iter()
            .map(|(c, v)| (c.to_string(), serde_json::json!((v * 100.0).round() / 100.0)))
            .collect();
        let doc = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "accounts": out_accounts,
            "deployments": out_deps,
            "unhealthy": unhealthy,
            "cost_per_hour": fleet,
            "unpriced": costs.values().filter(|c| c.is_err()).count(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        use crate::model::text::sanitize;
        println!(
            "{:<9} {:<16} {:<28} {:<18} {:<11} {:>7}  REGIONS",
            "PROVIDER", "ACCOUNT", "NAME", "STATUS", "HEALTH", "READY"
        );
        for d in &rows {
            let regions: Vec<String> =
                d.regions.iter().map(|r| format!("{}:{}/{}", r.display_name(), r.ready, r.total)).collect();
            println!(
                "{:<9} {:<16} {:<28} {:<18} {:<11} {:>7}  {}",
                d.key.provider.label(),
                sanitize(&d.key.account),
                sanitize(&d.name),
                d.status.label(),
                d.health().label(),
                format!("{}/{}", d.ready(), d.total()),
                regions.join(" ")
            );
        }
    }
    Ok(if fail_on_unhealthy && (unhealthy > 0 || failed_accounts > 0) { 3 } else { 0 })
}

/// What each deployment costs per hour now (currency, amount), from the providers' prices per replica as the
/// dashboard's COST/H column has them (each hardware and region asked once), or why it is not known.
async fn snapshot_costs(
    providers: &[std::sync::Arc<dyn provider::Provider>],
    rows: &[crate::model::Deployment],
) -> std::collections::HashMap<crate::model::DeploymentKey, std::result::Result<(String, f64), String>> {
    use crate::model::cost::{Running, Unit, has_prices};
    let index = |d: &crate::model::Deployment| providers.iter().position(|p| p.account() == &*d.key.account);
    let pairs = rows.iter().filter(|d| has_prices(d.key.provider)).flat_map(|d| {
        let (i, hw) = (index(d), d.hardware.as_deref());
        d.regions.iter().filter_map(move |r| Some((i?, hw?.to_string(), r.region_id.clone())))
    });
    let units = provider::replica_prices(providers, pairs).await;
    rows.iter()
        .map(|d| {
            let i = index(d).unwrap_or(usize::MAX);
            let unit = |hw: &str, region: &str| units.get(&(i, hw.to_string(), region.to_string()));
            let cost = match crate::model::cost::running(d, has_prices(d.key.provider), unit) {
                Running::Priced(currency, amount) => Ok((currency.to_string(), amount)),
                Running::Unpriced { .. } if !has_prices(d.key.provider) => {
                    Err(format!("{} gives no price", d.key.provider))
                }
                Running::Unpriced { .. } if d.hardware.is_none() => Err("its hardware was not read".into()),
                Running::Unpriced { .. } if d.regions.is_empty() => Err("no region reported".into()),
                Running::Unpriced { .. } => Err(d
                    .regions
                    .iter()
                    .find_map(|r| match d.hardware.as_deref().and_then(|hw| unit(hw, &r.region_id)) {
                        Some(Unit::Unknown(why)) => Some(format!("{}: {why}", r.display_name())),
                        _ => None,
                    })
                    .unwrap_or_else(|| "its regions are priced in different currencies".into())),
            };
            (d.key.clone(), cost)
        })
        .collect()
}

/// `infertop doctor`: see [`crate::doctor`]. Returns the exit status.
pub async fn doctor(cli: &Cli, account: Option<&str>, json: bool) -> Result<i32> {
    crate::doctor::command(cli, account, json).await
}

/// `infertop config check [PATH]`: every mistake of the file with its location, then every account's
/// credential resolved (never shown). 0 when every account could start, else 2.
pub fn config_check(path: Option<&std::path::Path>, allow_http: bool) -> i32 {
    let path = match path.map(|p| p.to_path_buf()).or_else(config::default_path) {
        Some(p) => p,
        None => {
            eprintln!(
                "infertop: no config path: pass one (infertop config check PATH), or set INFERTOP_CONFIG"
            );
            return 2;
        }
    };
    let shown = path.display();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("infertop: {shown}: no such file. {}", config::no_config_help(Some(&path)));
            return 2;
        }
        Err(e) => {
            eprintln!("infertop: {shown}: {e}");
            return 2;
        }
    };
    if let Some(key) = config::command_key(&text)
        && let Err(e) = config::check_private(&path, &key)
    {
        eprintln!("infertop: {e}");
        return 2;
    }
    let n = match config::check_text(&text, allow_http) {
        Ok(n) => n,
        Err(errors) => {
            for e in &errors {
                eprintln!("{shown}:{e}");
            }
            eprintln!(
                "infertop: {} mistake{} in {shown}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return 2;
        }
    };
    let cfg = match Config::parse(&text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{shown}: {e}");
            return 2;
        }
    };
    for w in cfg.warnings(&path) {
        eprintln!("infertop: warning: {w}");
    }
    println!("{shown}: the file is valid ({n} account{})", if n == 1 { "" } else { "s" });
    let mut failing = 0;
    for a in &cfg.accounts {
        let source = config::credential_source(a);
        match a.to_spec(allow_http) {
            Ok(_) => println!("  ok    {} ({}): {source}", a.name, a.provider),
            Err(e) => {
                failing += 1;
                let why = e.trim_start_matches(&format!("account {}: ", a.name)).to_string();
                println!("  FAIL  {} ({}): {why}", a.name, a.provider);
            }
        }
    }
    if failing > 0 {
        eprintln!(
            "infertop: {failing} of {n} account{} would not start; fix what each FAIL line says, then run this again",
            if n == 1 { "" } else { "s" }
        );
        return 2;
    }
    0
}

/// The dashboard.
pub async fn dashboard(cli: &Cli) -> Result<()> {
    use std::io::IsTerminal;
    let cfg = load_config(cli)?;
    // The demo simulator lives as long as the dashboard.
    let (accounts, _sim) = accounts(cli, &cfg).await?;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(user_error(
            "the dashboard needs a terminal on its input and output; for a script or a pipe use \
             `infertop snapshot` (or `snapshot --json`)",
        ));
    }
    let refresh =
        Duration::from_secs_f64(cli.refresh.or(cfg.refresh_seconds).unwrap_or(5.0).clamp(0.5, 3600.0));
    let theme_name = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        ThemeName::Mono
    } else {
        match cli.theme.as_deref().or(cfg.theme.as_deref()) {
            Some(t) => ThemeName::parse(t)
                .ok_or_else(|| user_error(format!("unknown theme {t:?}: dark, light or mono")))?,
            None => ThemeName::Dark,
        }
    };

    let client = client(cli, &cfg)?;
    let providers: Vec<_> = accounts.iter().map(|a| provider::connect(a, client.clone())).collect();
    let account_states = providers.iter().map(|p| AccountState::of(p.as_ref())).collect();
    let mut state = State::new(account_states, refresh, chrono::Utc::now());
    state.plain_http = config::plain_http_accounts(&accounts);
    state.read_only = cli.read_only || cfg.read_only.unwrap_or(false);
    state.keymap = cfg.keymap().map_err(user_error)?;
    state.theme = Theme::named(theme_name);

    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let audit = crate::sync::audit::AuditLog::new(config::state_dir().join("audit.jsonl"));
    let sync = Sync::spawn(providers, tx, refresh, Some(audit));
    let (mut terminal, guard) = TerminalGuard::enter(cli.mouse)?;
    let exit = tui::run_loop(&mut terminal, &mut state, &sync, rx, cli.mouse).await;
    drop(guard);
    drop(sync);
    let exit = exit?;
    tracing::info!(?exit, "dashboard closed");
    Ok(())
}

/// Roff text: backslashes and dashes escaped, no line starting with a control character.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    s.lines()
        .map(|l| if l.starts_with('.') || l.starts_with('\'') { format!("\\&{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `infertop man`: one page for the whole tool (no page per command, so none is referenced): the name,
/// synopsis, description and options from the command line's own definitions, every command with its
/// flags, then KEYS, FILES, ENVIRONMENT, EXIT STATUS and EXAMPLES.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let cmd = <Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut w = Vec::new();
    man.render_title(&mut w)?;
    man.render_name_section(&mut w)?;
    man.render_synopsis_section(&mut w)?;
    man.render_description_section(&mut w)?;
    man.render_options_section(&mut w)?;
    writeln!(w, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands() {
        writeln!(w, ".SS \"infertop {}\"", sub.get_name())?;
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            writeln!(w, "{}", roff(&about.to_string()))?;
        }
        let subs: Vec<_> = sub.get_subcommands().collect();
        let commands = if subs.is_empty() { vec![sub] } else { subs };
        for c in commands {
            if c.get_name() != sub.get_name() {
                writeln!(w, ".PP\n\\fBinfertop {} {}\\fR", sub.get_name(), c.get_name())?;
                if let Some(about) = c.get_long_about().or(c.get_about()) {
                    writeln!(w, "{}", roff(&about.to_string()))?;
                }
            }
            for a in c.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help") {
                let name = match (a.get_long(), a.get_value_names()) {
                    (Some(l), Some(v)) if a.get_action().takes_values() => {
                        format!("\\-\\-{} {}", roff(l), v[0])
                    }
                    (Some(l), _) => format!("\\-\\-{}", roff(l)),
                    (None, Some(v)) => format!("[{}]", v[0]),
                    (None, None) => format!("<{}>", a.get_id().as_str().to_uppercase()),
                };
                writeln!(w, ".TP\n\\fB{name}\\fR")?;
                if let Some(h) = a.get_long_help().or(a.get_help()) {
                    writeln!(w, "{}", roff(&h.to_string()))?;
                }
            }
            if let Some(after) = c.get_after_help() {
                writeln!(w, ".PP\n{}", roff(&after.to_string()).replace("\n", "\n.br\n"))?;
            }
        }
    }
    writeln!(
        w,
        ".SH KEYS\nIn the dashboard (the defaults; a config's [keys] table rebinds them; ? shows the live keymap):"
    )?;
    for (keys, what) in crate::app::keymap::Keymap::default().help_rows(false) {
        writeln!(w, ".TP\n\\fB{}\\fR\n{}", roff(&keys), roff(what))?;
    }
    let files = [
        (
            "$INFERTOP_CONFIG, else $XDG_CONFIG_HOME/infertop/config.toml, else ~/.config/infertop/config.toml",
            "The config: accounts, refresh, theme, keys (see assets/config.example.toml). --config names another.",
        ),
        (
            "$XDG_STATE_HOME/infertop/infertop.log, else ~/.local/state/infertop/infertop.log",
            "The log (mode 600). INFERTOP_LOG sets its level.",
        ),
        (
            "$XDG_STATE_HOME/infertop/audit.jsonl, else ~/.local/state/infertop/audit.jsonl",
            "One line per change sent to a provider, and its outcome (mode 600).",
        ),
    ];
    writeln!(w, ".SH FILES")?;
    for (f, what) in files {
        writeln!(w, ".TP\n\\fI{}\\fR\n{}", roff(f), roff(what))?;
    }
    let env = [
        ("INFERTOP_CONFIG", "The config file, before the XDG path."),
        ("XDG_CONFIG_HOME, XDG_STATE_HOME, HOME", "Where the config and the state directory are looked for."),
        ("INFERTOP_LOG", "The log's filter (error, warn, info, debug, trace; default info)."),
        ("NO_COLOR", "When set and not empty, the mono theme."),
        (
            "VISUAL, EDITOR",
            "The editor e opens (VISUAL first, else EDITOR, else vi), split into words like a shell: code --wait.",
        ),
        ("the variables a config names", "Credentials: each account's api_key_env or client_secret_env."),
        (
            "CREDENTIALS_DIRECTORY",
            "Set by systemd for a unit with LoadCredential=: where each account's api_key_credential or \
             client_secret_credential is read (the infertop-serve unit).",
        ),
    ];
    writeln!(w, ".SH ENVIRONMENT")?;
    for (v, what) in env {
        writeln!(w, ".TP\n\\fB{}\\fR\n{}", roff(v), roff(what))?;
    }
    writeln!(w, ".SH \"EXIT STATUS\"")?;
    for (code, what) in [
        ("0", "Success. snapshot: the snapshot was printed (see 3)."),
        (
            "1",
            "A failure that is not a mistake of yours (a terminal or network error the tool could not get past).",
        ),
        (
            "2",
            "A mistake to fix: no config, a bad config file (every mistake is named with file:line:column), an \
               unset credential variable, a bad flag. config check: some account would not start. scale, stop, \
               start: nothing matched, an ambiguous name, no terminal and no \\-\\-yes, a read-only config \
               (nothing was sent).",
        ),
        (
            "3",
            "snapshot \\-\\-fail\\-on\\-unhealthy: a deployment is neither healthy nor at rest (its health \
               unknown included: part of it could not be read), or an account could not be read. doctor: \
               something would stop the dashboard or an edit.",
        ),
        (
            "4",
            "scale, stop, start: a change was not applied: a conflict (another writer changed it since it was \
               read; nothing sent), a refusal (the provider's message is shown), a partial or unknown outcome, a \
               deployment left out for a reason other than being as asked already, or with \\-\\-wait one not \
               rolled out in time.",
        ),
    ] {
        writeln!(w, ".TP\n\\fB{code}\\fR\n{}", what.replace("\\-", "-").replace('-', "\\-"))?;
    }
    writeln!(w, ".SH EXAMPLES")?;
    for (cmdline, what) in [
        ("infertop \\-\\-demo", "The dashboard on the in-process simulator's demo fleet."),
        ("infertop config check", "Check the config and every account's credential."),
        ("infertop", "The dashboard on the config's accounts."),
        (
            "infertop snapshot \\-\\-json \\-\\-fail\\-on\\-unhealthy",
            "The fleet once, for a script; exit 3 when unhealthy.",
        ),
        (
            "infertop scale \\-\\-filter staging \\-\\-min 0 \\-\\-dry\\-run",
            "The plan of scaling every deployment the filter staging shows to a minimum of 0, with its cost per \
             hour; nothing sent.",
        ),
        (
            "0 20 * * 1\\-5 infertop scale \\-\\-filter staging \\-\\-min 0 \\-\\-yes",
            "A crontab line: staging scaled to zero on weekday nights; exit 4 when something was not applied.",
        ),
        (
            "infertop sim \\-\\-listen 127.0.0.1:8000",
            "The simulator alone; then infertop --config assets/sim.toml.",
        ),
        ("infertop man | man \\-l \\-", "Read this page."),
    ] {
        writeln!(w, ".TP\n\\fB{cmdline}\\fR\n{}", roff(what))?;
    }
    man.render_version_section(&mut w)?;
    Ok(w)
}
