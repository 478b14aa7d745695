//! Command-line definitions.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "infertop",
    version,
    about = "A terminal dashboard for GPU inference deployments on Gcore, Sesterce and NVIDIA Run:ai"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Start the simulator in-process and watch its demo fleet (no cloud account needed).
    #[arg(long, global = true)]
    pub demo: bool,

    /// Config file (default: $INFERTOP_CONFIG, else $XDG_CONFIG_HOME/infertop/config.toml).
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// Seconds between fleet refreshes.
    #[arg(long, value_name = "SECONDS")]
    pub refresh: Option<f64>,

    /// Remove every mutation from keys, forms and help.
    #[arg(long = "read-only", alias = "readonly")]
    pub read_only: bool,

    /// Colour theme: dark, light or mono (mono is also used when NO_COLOR is set).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,

    /// Enable the mouse (click selects, wheel scrolls).
    #[arg(long)]
    pub mouse: bool,

    /// Allow plain http:// base URLs that are not loopback.
    #[arg(long, global = true)]
    pub allow_http: bool,

    /// Seconds before a request to a provider is given up (and retried, when safe).
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0, global = true)]
    pub timeout: f64,

    #[command(flatten)]
    pub sim: SimArgs,
}

/// Simulator settings, shared by `infertop sim` and `--demo`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Seed for the simulator's fleet, logs and metrics.
    #[arg(long, default_value_t = 1, global = true)]
    pub seed: u64,

    /// Generate this many deployments instead of the demo fleet.
    #[arg(long, value_name = "N", global = true)]
    pub fleet: Option<usize>,

    /// Delay added to every simulator response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0, global = true)]
    pub latency: u64,

    /// Delay added to Sesterce one-instance detail reads only, in milliseconds (on top of --latency).
    #[arg(long, value_name = "MS", default_value_t = 0, global = true)]
    pub details_latency: u64,

    /// Simulated seconds per real second (0 freezes time).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, global = true)]
    pub time_scale: f64,

    /// Inject faults: none, flaky, slow, chaos, or API drift (drift-unknown-field, drift-renamed-field,
    /// drift-unknown-enum, drift-missing-endpoint, drift-endless-paging, drift-error-shape, or drift for all).
    #[arg(long, value_name = "PROFILE", global = true)]
    pub faults: Option<String>,

    /// Add a deployment whose strings carry terminal escape sequences (to see them drawn inert).
    #[arg(long, global = true)]
    pub hostile: bool,

    /// Read an ambiguity of the providers' documents one way: NAME=READING (repeatable; default: the most
    /// hostile reading of each; list them with `infertop sim --list-ambiguities`).
    #[arg(long = "ambiguity", value_name = "NAME=READING", global = true)]
    pub ambiguity: Vec<String>,

    /// Lifetime of the simulator's Run:ai tokens, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, global = true)]
    pub runai_token_ttl: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the three providers' APIs on loopback, with the demo credentials.
    Sim {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// List the ambiguities, their readings, defaults and the documents that cause them, then exit.
        #[arg(long)]
        list_ambiguities: bool,
    },
    /// Print every path infertop uses.
    Info,
    /// Serve the fleet as Prometheus metrics (GET /metrics, GET /healthz), polling like the dashboard.
    Serve {
        /// Address to listen on; port 0 picks a free port. Loopback unless --listen-public.
        #[arg(long, default_value = "127.0.0.1:9477")]
        listen: SocketAddr,
        /// Allow an address that is not loopback (the metrics name every deployment of the accounts).
        #[arg(long)]
        listen_public: bool,
        /// Seconds between fleet refreshes.
        #[arg(long, value_name = "SECONDS")]
        refresh: Option<f64>,
    },
    /// Print the state of the fleet once (for scripts and cron), with the same clients as the dashboard.
    Snapshot {
        /// JSON instead of a table (the same as --format json).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// table, json, or prometheus (the families of `infertop serve`, for a textfile collector).
        #[arg(long, value_enum)]
        format: Option<SnapshotFormat>,
        /// Exit with status 3 when any deployment is not healthy (or an account could not be read).
        #[arg(long)]
        fail_on_unhealthy: bool,
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
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
    /// Check a config file and name the line and field of each mistake.
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
    /// Validate a config file (default: the one infertop would use).
    Check { path: Option<PathBuf> },
}
