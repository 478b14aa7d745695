//! Thin: parse the command line, log to a file, install the error hooks, then run.

use clap::Parser;
use infertop::cli::{Cli, Command, SnapshotFormat};
use infertop::run::UserError;
use infertop::{config, run};

fn init_logging(to_file: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("INFERTOP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    if to_file {
        // The log may name deployments, accounts and errors: private to the user, like the directory.
        let dir = config::state_dir();
        let mut notes: Vec<String> = config::private_dir(&dir).ok()?.into_iter().collect();
        let (file, note) = config::open_private_append(&dir.join("infertop.log")).ok()?;
        notes.extend(note);
        // The default queue (128,000 lines) is allocated up front: megabytes of resident memory for a log that
        // writes a few lines a minute. When the queue is full, lines are dropped, never the UI blocked.
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(1024)
            .finish(file);
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).init();
        for n in notes {
            tracing::warn!("{n}");
        }
        Some(guard)
    } else {
        // Colour only for a terminal: journald and log files get plain text.
        use std::io::IsTerminal;
        let ansi = std::io::stderr().is_terminal();
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
        None
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, so after a few refreshes every
/// list body and page buffer is carved from the main heap, and the holes they leave stay resident. A fixed
/// threshold keeps large, short-lived buffers in mappings of their own, returned to the system when freed
/// (about 4.5 MB less at the peak with 10,000 deployments, measured with `MALLOC_MMAP_THRESHOLD_` set).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets one of malloc's parameters; it runs first thing in main, before any other
    // thread exists. A refusal (0) leaves the default, which is only slower to give memory back.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

/// A file descriptor 0, 1 or 2 that was closed when infertop started (`2>&-`) is opened on /dev/null: else the
/// first file infertop opens takes its number, and a message meant for stderr lands in it, or a write to it
/// fails and aborts the process.
fn fill_closed_std_fds() {
    for fd in 0..=2 {
        // SAFETY: fcntl(F_GETFD) only asks whether `fd` is open; open() of /dev/null returns the lowest free
        // descriptor, which is `fd` when it is the closed one (the lower ones are open by then).
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                let mode = if fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY };
                libc::open(c"/dev/null".as_ptr(), mode);
            }
        }
    }
}

/// Commands that print for a pipe (`| head`) end quietly when the reader goes away, as `cat` does: SIGPIPE
/// ends the process (status 141 in a shell) instead of a failed write becoming a panic report. The dashboard,
/// `serve` and the simulator keep Rust's default (the signal ignored, the error handled where it happens).
fn die_quietly_on_closed_pipe() {
    // SAFETY: restores the signal's default disposition, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    tune_allocator();
    fill_closed_std_fds();
    // A mistake the user can fix (a config, a credential, a flag, a path) is a plain message and exit 2, like
    // clap's own usage errors; any other failure is a plain message and exit 1. Neither is a bug, so neither
    // gets a location or a backtrace: color-eyre's report is kept for panics.
    if let Err(e) = try_main() {
        match e.downcast_ref::<UserError>() {
            Some(u) => {
                eprintln!("infertop: {u}");
                std::process::exit(2);
            }
            None => {
                eprintln!("infertop: {e:#}");
                std::process::exit(1);
            }
        }
    }
}

fn install_panic_report() -> color_eyre::Result<()> {
    use std::io::IsTerminal;
    let hook = color_eyre::config::HookBuilder::default();
    // Colour only for a terminal: a report piped to a file or an issue must read as plain text.
    let hook =
        if std::io::stderr().is_terminal() { hook } else { hook.theme(color_eyre::config::Theme::new()) };
    hook.install()
}

fn try_main() -> color_eyre::Result<()> {
    install_panic_report()?;
    let cli = Cli::parse();
    let prints_for_a_pipe = match &cli.command {
        None | Some(Command::Serve { .. }) => false,
        Some(Command::Sim { list_ambiguities, .. }) => *list_ambiguities,
        Some(_) => true,
    };
    if prints_for_a_pipe {
        die_quietly_on_closed_pipe();
    }
    // The dashboard runs on one thread: its work comes in small bursts, and one thread neither pays for waking
    // others nor keeps a malloc arena each (measured in `benches/process.rs`). The demo simulator gets a thread
    // of its own (see `run::accounts`).
    let mut rt = if matches!(cli.command, None | Some(Command::Serve { .. })) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let rt = rt.enable_all().build()?;
    match &cli.command {
        Some(Command::Sim { listen, list_ambiguities, sim }) => {
            if *list_ambiguities {
                print!("{}", infertop::sim::ambiguity::listing());
                return Ok(());
            }
            let _guard = init_logging(false);
            rt.block_on(run::simulator(sim, *listen))
        }
        Some(Command::Info) => {
            run::info();
            Ok(())
        }
        Some(Command::Serve { listen, listen_public, refresh, source }) => {
            // Headless (systemd, a container): logs go to stderr.
            let _guard = init_logging(false);
            let cli = Cli::with_source(source.clone());
            let result = rt.block_on(infertop::serve::serve(&cli, *listen, *listen_public, *refresh));
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            result
        }
        Some(Command::Snapshot {
            json: _,
            format: Some(SnapshotFormat::Prometheus),
            fail_on_unhealthy,
            source,
        }) => {
            let _guard = init_logging(true);
            let cli = Cli::with_source(source.clone());
            let (text, unhealthy) = rt.block_on(infertop::serve::snapshot(&cli))?;
            // A closed pipe is not an error worth a report.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            std::process::exit(if *fail_on_unhealthy && unhealthy { 3 } else { 0 });
        }
        Some(Command::Snapshot { json, format, fail_on_unhealthy, source }) => {
            let _guard = init_logging(true);
            let cli = Cli::with_source(source.clone());
            let json = *json || *format == Some(SnapshotFormat::Json);
            let code = rt.block_on(run::snapshot(&cli, json, *fail_on_unhealthy))?;
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            std::process::exit(code);
        }
        Some(Command::Doctor { account, json, source }) => {
            let _guard = init_logging(true);
            let cli = Cli::with_source(source.clone());
            let code = rt.block_on(run::doctor(&cli, account.as_deref(), *json))?;
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            std::process::exit(code);
        }
        Some(Command::Scale { min, max, cooldown, region, sesterce_model, change }) => {
            let _guard = init_logging(true);
            let bulk = infertop::model::bulk::BulkScale {
                min: min.unwrap_or_default(),
                max: max.unwrap_or_default(),
                cooldown: cooldown.unwrap_or_default(),
            };
            let what = infertop::script::What::Scale {
                change: bulk,
                region: region.clone(),
                sesterce_model: sesterce_model.clone(),
            };
            let code = rt.block_on(infertop::script::command(what, change))?;
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            std::process::exit(code);
        }
        Some(Command::Stop { change } | Command::Start { change }) => {
            let _guard = init_logging(true);
            let what = match &cli.command {
                Some(Command::Stop { .. }) => infertop::script::What::Stop,
                _ => infertop::script::What::Start,
            };
            let code = rt.block_on(infertop::script::command(what, change))?;
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            std::process::exit(code);
        }
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "infertop", &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Man) => {
            let page = run::man_page()?;
            // A closed pipe (`| head`) is not an error worth a report.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &page);
            Ok(())
        }
        Some(Command::Config { action: infertop::cli::ConfigAction::Check { path, allow_http } }) => {
            std::process::exit(run::config_check(path.as_deref(), *allow_http));
        }
        None => {
            // The screen belongs to the dashboard: logs go to a file, never to the terminal.
            let _guard = init_logging(true);
            let result = rt.block_on(run::dashboard(&cli));
            // Background tasks (pollers, the demo simulator) end with the runtime.
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
            result
        }
    }
}
