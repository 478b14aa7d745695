//! Command-line definitions. Each command takes only its own flags: the dashboard's display flags live on
//! the top level, where to read the fleet from ([`SourceArgs`]) on the dashboard, `snapshot` and `doctor`,
//! the simulator's settings ([`SimArgs`]) on `sim` and wherever `--demo` is taken (`scale`, `stop` and `start`
//! take both within [`ChangeArgs`]); `info`, `man`, `completions` and `config check` take none of them.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// What each exit status of `infertop snapshot` means (also in the README and the man page).
pub const SNAPSHOT_EXIT: &str = "Exit status:\n  \
     0  the snapshot was printed, even with unhealthy deployments or an account that could not be read (named \
     on stderr, and \"ok\": false with --json), unless --fail-on-unhealthy is given\n  \
     3  with --fail-on-unhealthy: a deployment is neither healthy nor at rest (stopped or scaled to zero): \
     failed, degraded, progressing, or unknown (part of it could not be read; the reason is on stderr), or an \
     account could not be read\n  \
     2  a mistake to fix: no config, a bad config file, an unset variable, a bad flag\n  \
     1  any other failure";

/// What each exit status of `infertop scale`, `stop` and `start` means (also in the README and the man page).
pub const CHANGE_EXIT: &str = "Exit status:\n  \
     0  every change was applied and read back as asked (with --wait: and rolled out), or there was nothing to \
     do; --dry-run: the plan was printed\n  \
     4  something was not applied: a conflict (another writer changed it since it was read: nothing sent), a \
     refusal (the provider's message is shown), a partial or unknown outcome, a deployment left out for a \
     reason other than being as asked already, or with --wait one not rolled out in time\n  \
     2  a mistake to fix: nothing matched, an ambiguous name, no terminal and no --yes, a read-only config, \
     a bad flag or config; or the question was answered no. Nothing was sent\n  \
     1  any other failure (an account could not be read: nothing was sent)";

/// Which deployments a change is for, how it is confirmed and reported (`scale`, `stop`, `start`).
#[derive(Debug, Clone, Args)]
pub struct ChangeArgs {
    /// The deployments: ACCOUNT/NAME, or a NAME that only one account has (else the candidates are listed).
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,

    /// Every deployment the dashboard's / filter would show for REGEX (case-insensitive; !REGEX inverts).
    #[arg(long, value_name = "REGEX", conflicts_with = "selectors")]
    pub filter: Option<String>,

    /// Only accounts of this provider: gcore, sesterce or runai (repeatable).
    #[arg(long, value_name = "PROVIDER", value_parser = clap::builder::PossibleValuesParser::new(["gcore", "sesterce", "runai"]))]
    pub provider: Vec<String>,

    /// Only this account, by its name in the config (repeatable).
    #[arg(long, value_name = "NAME")]
    pub account: Vec<String>,

    /// Print the plan (per deployment and region old → new, what is left out and why, the cost per hour before
    /// → after) and send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Send without asking. Without it, infertop asks once on a terminal, and refuses (exit 2) without one.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Then follow the rollout until every changed deployment has settled (the dashboard's ⟳ rule), at most
    /// SECONDS (default 600).
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, require_equals = true, default_missing_value = "600")]
    pub wait: Option<u64>,

    /// One JSON object per deployment and line instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// `--min` and friends: `N` sets, `+N` or `-N` changes by N.
fn scale_op(s: &str) -> Result<crate::model::bulk::ScaleOp, String> {
    match crate::model::bulk::ScaleOp::parse(s) {
        Ok(crate::model::bulk::ScaleOp::Leave) => Err("give N to set, +N or -N to change".into()),
        other => other,
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "infertop",
    version,
    about = "A terminal dashboard for GPU inference deployments on Gcore, Sesterce and NVIDIA Run:ai",
    // The dashboard's flags belong to the dashboard: `infertop --mouse snapshot` is refused, not ignored.
    args_conflicts_with_subcommands = true,
    after_help = "Without a command, infertop opens the dashboard on the accounts of the config (or on the \
                  demo simulator with --demo). Press ? in it for the keys."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Seconds between fleet refreshes, 0.5 to 3600 (default: refresh_seconds of the config, else 5).
    #[arg(long, value_name = "SECONDS", value_parser = refresh_seconds)]
    pub refresh: Option<f64>,

    /// Remove every mutation from keys, forms and help.
    #[arg(long = "read-only", alias = "readonly")]
    pub read_only: bool,

    /// Colour theme: dark, light or mono (mono is also used when NO_COLOR is set).
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(["dark", "light", "mono"]))]
    pub theme: Option<String>,

    /// Enable the mouse (click selects, wheel scrolls).
    #[arg(long)]
    pub mouse: bool,
}

/// `cli.demo`, `cli.config`… read the source of the fleet, whichever command carried it.
impl std::ops::Deref for Cli {
    type Target = SourceArgs;
    fn deref(&self) -> &SourceArgs {
        &self.source
    }
}

/// `--refresh`: seconds between refreshes, in the range the config's `refresh_seconds` takes.
fn refresh_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if (0.5..=3600.0).contains(&v) { Ok(v) } else { Err(format!("{s} is out of range: 0.5 to 3600 seconds")) }
}

impl SimArgs {
    /// The simulator settings given that differ from their defaults, by flag: they only mean something where
    /// a simulator runs (`--demo`, `infertop sim`).
    pub fn flags_given(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut given = |set: bool, flag: &'static str| {
            if set {
                out.push(flag);
            }
        };
        given(self.seed != 1, "--seed");
        given(self.static_fleet, "--static");
        given(self.fleet.is_some(), "--fleet");
        given(self.latency != 0, "--latency");
        given(self.details_latency != 0, "--details-latency");
        given(self.time_scale != 1.0, "--time-scale");
        given(self.faults.is_some(), "--faults");
        given(self.hostile, "--hostile");
        given(!self.ambiguity.is_empty(), "--ambiguity");
        given(self.runai_token_ttl != 3600, "--runai-token-ttl");
        out
    }
}

impl Cli {
    /// The dashboard's settings with `source` as the fleet's source (for `snapshot` and `doctor`).
    pub fn with_source(source: SourceArgs) -> Cli {
        Cli { command: None, source, refresh: None, read_only: false, theme: None, mouse: false }
    }
}

/// Where the fleet is read from: the config's accounts, or the demo simulator.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Start the simulator in-process and watch its demo fleet (no cloud account needed).
    #[arg(long)]
    pub demo: bool,

    /// The config file to read the accounts from (default: $INFERTOP_CONFIG, else
    /// $XDG_CONFIG_HOME/infertop/config.toml, else ~/.config/infertop/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Allow plain http:// base URLs that are not loopback.
    #[arg(long)]
    pub allow_http: bool,

    /// Seconds before a request to a provider is given up (and retried, when safe).
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub timeout: f64,

    #[command(flatten)]
    pub sim: SimArgs,
}

/// Simulator settings, for `infertop sim` and `--demo`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Simulator (infertop sim, --demo)")]
pub struct SimArgs {
    /// Seed for the simulator's fleet, its life, logs and metrics.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Freeze the demo fleet: no replica restarts, capacity losses, pull failures or wake-ups on their own.
    #[arg(long = "static")]
    pub static_fleet: bool,

    /// Generate this many deployments instead of the demo fleet (a generated fleet is static).
    #[arg(long, value_name = "N")]
    pub fleet: Option<usize>,

    /// Delay added to every simulator response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency: u64,

    /// Delay added to Sesterce one-instance detail reads only, in milliseconds (on top of --latency).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub details_latency: u64,

    /// Simulated seconds per real second (0 freezes time).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub time_scale: f64,

    /// Inject faults: none, flaky, slow, chaos, or API drift (drift-unknown-field, drift-renamed-field,
    /// drift-unknown-enum, drift-missing-endpoint, drift-endless-paging, drift-error-shape, or drift for all);
    /// details-html, details-429, details-huge-number (every one-deployment read, Sesterce's details among
    /// them, fails that way); stale-status (Gcore and Sesterce say ACTIVE while containers fail);
    /// echo-credentials (errors that repeat the credentials each request carried).
    #[arg(long, value_name = "PROFILE", value_parser = clap::builder::PossibleValuesParser::new(crate::sim::faults::PROFILES))]
    pub faults: Option<String>,

    /// Add a deployment whose strings carry terminal escape sequences (to see them drawn inert).
    #[arg(long)]
    pub hostile: bool,

    /// Read an ambiguity of the providers' documents one way: NAME=READING (repeatable; default: the most
    /// hostile reading of each; list them with `infertop sim --list-ambiguities`).
    #[arg(long = "ambiguity", value_name = "NAME=READING")]
    pub ambiguity: Vec<String>,

    /// Lifetime of the simulator's Run:ai tokens, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub runai_token_ttl: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the three providers' APIs on loopback, with the demo credentials.
    #[command(
        after_help = "Point the dashboard at it with assets/sim.toml (listen on 127.0.0.1:8000 for it)."
    )]
    Sim {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// List the ambiguities, their readings, defaults and the documents that cause them, then exit.
        #[arg(long)]
        list_ambiguities: bool,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Print every path infertop uses (the config, the state directory, the log and audit files).
    Info,
    /// Serve the fleet as Prometheus metrics (GET /metrics, GET /healthz), polling like the dashboard.
    Serve {
        /// Address to listen on; port 0 picks a free port. Loopback unless --listen-public.
        #[arg(long, default_value = "127.0.0.1:9477")]
        listen: SocketAddr,
        /// Allow an address that is not loopback (the metrics name every deployment of the accounts).
        #[arg(long)]
        listen_public: bool,
        /// Seconds between fleet refreshes, 0.5 to 3600.
        #[arg(long, value_name = "SECONDS", value_parser = refresh_seconds)]
        refresh: Option<f64>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Print the state of the fleet once (for scripts and cron), with the same clients as the dashboard.
    #[command(after_help = SNAPSHOT_EXIT)]
    Snapshot {
        /// JSON instead of a table (the same as --format json).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// table, json, or prometheus (the families of `infertop serve`, for a textfile collector).
        #[arg(long, value_enum)]
        format: Option<SnapshotFormat>,
        /// Exit with status 3 when any deployment is neither healthy nor at rest (failed, degraded, still
        /// progressing, or unknown: part of it could not be read, the reason on stderr), or an account could not
        /// be read.
        #[arg(long)]
        fail_on_unhealthy: bool,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Check each account's API against what infertop expects, read-only: sign-in, every endpoint infertop
    /// reads (once each, with its latency), unknown or missing fields, other casing, unknown statuses, error
    /// bodies, paging. Exits 3 when something would stop the dashboard or an edit.
    Doctor {
        /// Only this account (its name in the config).
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
        /// A stable JSON report to share (no secret, no env value).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Change the scale of deployments without the dashboard (scripts, cron, runbooks), through the dashboard's
    /// edit path: each deployment read again, checked for another writer, written, read back and audited.
    #[command(after_help = CHANGE_EXIT, allow_negative_numbers = true)]
    Scale {
        /// The minimum replicas in every region: N, +N or -N.
        #[arg(long, value_name = "N|+N|-N", value_parser = scale_op, allow_hyphen_values = true)]
        min: Option<crate::model::bulk::ScaleOp>,
        /// The maximum replicas in every region: N, +N or -N.
        #[arg(long, value_name = "N|+N|-N", value_parser = scale_op, allow_hyphen_values = true)]
        max: Option<crate::model::bulk::ScaleOp>,
        /// The cooldown in seconds in every region (Gcore, Sesterce): N, +N or -N.
        #[arg(long, value_name = "N|+N|-N", value_parser = scale_op, allow_hyphen_values = true)]
        cooldown: Option<crate::model::bulk::ScaleOp>,
        /// Only this region (its id or name); the others are sent back as read.
        #[arg(long, value_name = "NAME")]
        region: Option<String>,
        /// Sesterce wants the instance's model with every update and does not give it: send this model id with
        /// each Sesterce change (never guessed; a wrong one moves the instance to another model).
        #[arg(long, value_name = "ID")]
        sesterce_model: Option<String>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Stop deployments (those running; each decided from a fresh read, as the dashboard's t does).
    #[command(after_help = CHANGE_EXIT)]
    Stop {
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Start stopped deployments (each decided from a fresh read, as the dashboard's t does).
    #[command(after_help = CHANGE_EXIT)]
    Start {
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): `infertop man | man -l -`.
    Man,
    /// Check a config file: each mistake with its line, and every account's credential.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnapshotFormat {
    Table,
    Json,
    Prometheus,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Check a config file without contacting any provider: each mistake with file:line:column, the field and
    /// what is allowed; then each account's credential source (variable set, command runs and prints a line,
    /// file private), never printing a secret. Exit 0 when every account could start, else 2.
    Check {
        /// The file to check (default: $INFERTOP_CONFIG, else $XDG_CONFIG_HOME/infertop/config.toml, else
        /// ~/.config/infertop/config.toml).
        path: Option<PathBuf>,
        /// Accept plain http:// base URLs that are not loopback, as the other commands' --allow-http does.
        #[arg(long)]
        allow_http: bool,
    },
}
