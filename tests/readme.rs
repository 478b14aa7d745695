//! Every command of the README's `sh` blocks is run: here with the built binary (on loopback, in a fresh
//! home; the dashboard in tmux until its first frame, then `q`), or, for the cargo commands that build and
//! install, by `.ci/run` (checked here to contain them). A command this test does not know how to run fails
//! it, so a new README command comes with its check. Every `infertop …` command written inline in the prose is
//! either one of the blocks' commands or run here too (a synopsis such as `[--json]` or `bash|zsh|fish` in each
//! of its forms).

mod common;

use common::tmux::{BIN, Tmux};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The `sh` blocks of the README, each with the heading of its section and its lines.
fn sh_blocks() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut cur: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("## ") => heading = l[3..].to_string(),
            (None, "```sh") => cur = Some(Vec::new()),
            (Some(_), "```") => blocks.push((heading.clone(), cur.take().unwrap())),
            (Some(b), l) => b.push(l.to_string()),
            _ => {}
        }
    }
    blocks
}

/// "Your real accounts", played by a simulator: the example config's account names, on loopback.
fn accounts_config(addr: &str) -> String {
    format!(
        "[[account]]\nname = \"gcore-prod\"\nprovider = \"gcore\"\nbase_url = \"http://{addr}\"\nproject_id = 1\n\
         api_key = \"demo-gcore-key\"\n\n[[account]]\nname = \"sesterce\"\nprovider = \"sesterce\"\n\
         base_url = \"http://{addr}\"\napi_key = \"demo-sesterce-key\"\n\n[[account]]\nname = \"runai\"\n\
         provider = \"runai\"\nbase_url = \"http://{addr}\"\nclient_id = \"demo\"\nclient_secret = \"demo-secret\"\n"
    )
}

/// A simulator started by a README line (`infertop sim --listen 127.0.0.1:8000`), on a free port instead.
struct Sim {
    child: Child,
    addr: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_sim(args: &[String]) -> Sim {
    spawn_listener(args, None)
}

/// `infertop sim` or `infertop serve` from a README line, on a free port (the README's fixed port, or the
/// command's default when it names none), in `home` when given; returns once it names its address.
fn spawn_listener(args: &[String], home: Option<&Path>) -> Sim {
    let mut args: Vec<String> = args.iter().map(|a| a.replace("127.0.0.1:8000", "127.0.0.1:0")).collect();
    if !args.iter().any(|a| a == "--listen") {
        args.extend(["--listen".to_string(), "127.0.0.1:0".to_string()]);
    }
    let mut c = Command::new(BIN);
    c.args(&args).stdout(Stdio::piped()).stderr(Stdio::null());
    if let Some(home) = home {
        c.env("HOME", home).env_remove("INFERTOP_CONFIG").env_remove("XDG_CONFIG_HOME");
        c.env("XDG_STATE_HOME", home.join("state")).current_dir(home);
    }
    let mut child = c.spawn().expect("start the listener");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    // `serve` adds what it serves after the address.
    let addr = first.trim().strip_prefix("listening on http://").expect("it names its address");
    let addr = addr.split_whitespace().next().unwrap_or_default().to_string();
    Sim { child, addr }
}

struct Runner {
    home: PathBuf,
    sim: Option<Sim>,
    ci: String,
    ran: usize,
}

impl Runner {
    /// The line with the README's fixed port (and the config that names it) moved to the running simulator.
    fn localize(&self, line: &str) -> String {
        let Some(sim) = &self.sim else { return line.to_string() };
        let cfg = self.home.join("sim.toml");
        let text = std::fs::read_to_string(Path::new(ROOT).join("assets/sim.toml")).unwrap();
        std::fs::write(&cfg, text.replace("127.0.0.1:8000", &sim.addr)).unwrap();
        line.replace("assets/sim.toml", cfg.to_str().unwrap()).replace("127.0.0.1:8000", &sim.addr)
    }

    fn env(&self, c: &mut Command) {
        let path = format!(
            "{}:{}",
            Path::new(BIN).parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("HOME", &self.home)
            .env_remove("INFERTOP_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env("XDG_STATE_HOME", self.home.join("state"))
            .current_dir(&self.home);
    }

    /// The dashboard in tmux: its first frame, then `q`, then a clean exit.
    fn dashboard(&mut self, args: &str) {
        eprintln!("README dashboard: {args}");
        // Both tests start dashboards at once: each session gets a name of its own.
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = Tmux::new(&format!("readme-{n}"));
        let path = format!(
            "{}:{}",
            Path::new(BIN).parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        t.start_sized(
            &format!(
                "cd {ROOT} && env HOME={} XDG_STATE_HOME={}/state PATH={path} infertop {args}; echo README-EXIT-$?; sleep 30",
                self.home.display(),
                self.home.display()
            ),
            120,
            40,
        );
        t.wait_for(&format!("the dashboard of `infertop {args}`"), Duration::from_secs(20), |s| {
            s.contains("Deployments") && s.contains("READY")
        });
        t.keys(&["q"]);
        let s = t.wait_for("the dashboard's exit", Duration::from_secs(10), |s| s.contains("README-EXIT-"));
        assert!(s.contains("README-EXIT-0"), "`infertop {args}` did not exit cleanly:\n{s}");
    }

    /// One shell line, with the exit status its comment states (`exit N`), else 0.
    fn shell(&mut self, line: &str, comment: &str) {
        eprintln!("README shell: {line}");
        let want: i32 = comment
            .split("exit ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut c = Command::new("bash");
        c.args(["-euo", "pipefail", "-c", line]);
        self.env(&mut c);
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(want),
            "`{line}`: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn line(&mut self, raw: &str) {
        let (cmd, comment) = match raw.split_once("  #") {
            Some((c, k)) => (c.trim(), k.trim()),
            None => (raw.trim(), ""),
        };
        if cmd.is_empty() || cmd.starts_with('#') {
            return;
        }
        self.ran += 1;
        // `cargo run --release -- ARGS` is the installed `infertop ARGS`; building it is `.ci/run`'s work.
        let cmd = cmd
            .strip_prefix("cargo run --release -- ")
            .map(|r| format!("infertop {r}"))
            .unwrap_or(cmd.to_string());
        // Installing the package needs root: `.ci/run` runs the line as written, as root, without sudo.
        if let Some(as_root) = cmd.strip_prefix("sudo ") {
            assert!(self.ci.contains(as_root), "`{cmd}`: .ci/run does not run `{as_root}`");
            return;
        }
        if cmd.starts_with("cargo ") || cmd.starts_with("bash .ci/run") {
            assert!(
                cmd == "bash .ci/run" || self.ci.contains(&cmd),
                "`{cmd}` is run neither here nor by .ci/run"
            );
            return;
        }
        let words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
        assert_eq!(words[0], "infertop", "a README command this test does not know how to run: `{cmd}`");
        if words.get(1).is_some_and(|w| w == "sim")
            && !words.iter().any(|w| w == "--list-ambiguities" || w == "--help")
        {
            // A simulator: started (in the background when the line ends with `&`), checked to listen.
            eprintln!("README simulator: {cmd}");
            let args: Vec<String> = words[1..].iter().filter(|w| *w != "&").cloned().collect();
            let sim = spawn_sim(&args);
            let r = reqwest::blocking::get(format!("http://{}/_sim/traffic", sim.addr)).unwrap();
            assert!(r.status().is_success());
            if cmd.ends_with('&') {
                self.sim = Some(sim);
            }
            return;
        }
        if words.get(1).is_some_and(|w| w == "serve") && !words.iter().any(|w| w == "--help") {
            // Headless: started, checked to answer `/healthz`, stopped.
            eprintln!("README serve: {cmd}");
            let serve = spawn_listener(&words[1..], Some(&self.home));
            let r = reqwest::blocking::get(format!("http://{}/healthz", serve.addr)).unwrap();
            assert!(r.status().is_success(), "`{cmd}`: /healthz answered {}", r.status());
            return;
        }
        let dashboard = words.len() == 1
            || (words[1].starts_with("--") && !words.iter().any(|w| w == "--help" || w == "--version"));
        let cmd = self.localize(&cmd);
        if dashboard {
            self.dashboard(cmd.strip_prefix("infertop").unwrap().trim());
        } else {
            self.shell(&cmd, comment);
        }
    }
}

#[test]
fn every_readme_command_runs() {
    let tmp = common::temp::TempDir::new("readme", "blocks");
    let home = tmp.0.clone();
    let ci = std::fs::read_to_string(Path::new(ROOT).join(".ci/run")).unwrap();
    let mut r = Runner { home: home.clone(), sim: None, ci, ran: 0 };
    let config = home.join(".config/infertop/config.toml");
    for (heading, block) in sh_blocks() {
        // The monitoring walk-through starts `serve` and Prometheus and leaves them running for the reader;
        // tests/prometheus.rs runs the same commands (serve, prometheus with the alert rules, its HTTP API) and
        // stops them.
        if heading == "Monitoring" {
            continue;
        }
        // The commands about your own accounts get a config whose accounts are a simulator's.
        let _accounts = (heading == "Connect your accounts").then(|| {
            let sim = spawn_sim(&["sim".into(), "--listen".into(), "127.0.0.1:0".into()]);
            std::fs::create_dir_all(config.parent().unwrap()).unwrap();
            std::fs::write(&config, accounts_config(&sim.addr)).unwrap();
            sim
        });
        if _accounts.is_none() {
            let _ = std::fs::remove_file(&config);
        }
        if block.iter().any(|l| l.contains("curl")) {
            // A script of its own (variables, continuations): run whole against a simulator.
            let sim = spawn_sim(&["sim".into(), "--listen".into(), "127.0.0.1:0".into()]);
            let script = block.join("\n").replace("127.0.0.1:8000", &sim.addr);
            let mut c = Command::new("bash");
            c.args(["-euo", "pipefail", "-c", &script]);
            r.env(&mut c);
            let out = c.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{script}\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
            assert!(!stdout.trim().is_empty(), "the curl block printed nothing");
            r.ran += 1;
            continue;
        }
        for line in &block {
            if line.trim() == "kill %1" {
                assert!(r.sim.take().is_some(), "`kill %1` without a simulator in the background");
                continue;
            }
            r.line(line);
        }
    }
    assert!(r.ran >= 10, "only {} README commands found", r.ran);
    let _ = std::fs::remove_dir_all(&home);
}

/// A README command as written, whitespace squashed, `cargo run --release -- ARGS` read as `infertop ARGS`.
fn normalize(cmd: &str) -> String {
    let cmd = cmd.split_whitespace().collect::<Vec<_>>().join(" ");
    cmd.strip_prefix("cargo run --release -- ").map(|r| format!("infertop {r}")).unwrap_or(cmd)
}

/// Every form of a synopsis: `[X]` without and with X, `a|b|c` (a word, not a ` | ` pipe) as each of them.
fn expand(cmd: &str) -> Vec<String> {
    if let (Some(a), Some(b)) = (cmd.find('['), cmd.find(']'))
        && a < b
    {
        let (head, opt, tail) = (&cmd[..a], &cmd[a + 1..b], &cmd[b + 1..]);
        return [format!("{head}{tail}"), format!("{head}{opt}{tail}")]
            .iter()
            .flat_map(|c| expand(&normalize(c)))
            .collect();
    }
    if let Some(w) = cmd.split(' ').find(|w| w.len() > 1 && w.contains('|')) {
        return w.split('|').flat_map(|alt| expand(&cmd.replacen(w, alt, 1))).collect();
    }
    vec![cmd.to_string()]
}

/// The `infertop …` commands written inline in the README's prose (code spans outside the fences; a span may
/// run over a line break, as in Markdown), synopses expanded.
fn inline_commands() -> BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            prose.push('\n');
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let mut out = BTreeSet::new();
    for para in prose.split("\n\n") {
        let spans: Vec<&str> = para.split('`').collect();
        assert!(spans.len() % 2 == 1, "an unmatched backtick in the README paragraph:\n{para}");
        for span in spans.iter().skip(1).step_by(2) {
            let cmd = normalize(span);
            if cmd == "infertop" || cmd.starts_with("infertop ") {
                out.extend(expand(&cmd));
            }
        }
    }
    out
}

/// The exit status the README's prose gives a command that is not 0: `--fail-on-unhealthy` with a deployment
/// neither healthy nor at rest (the simulator's fleet has some), `doctor` with a finding.
fn documented_exit(cmd: &str) -> i32 {
    let finding = cmd.starts_with("infertop doctor") && cmd.contains("--faults drift");
    if cmd.contains("--fail-on-unhealthy") || finding { 3 } else { 0 }
}

#[test]
fn synopses_expand_into_each_form() {
    let forms = expand("infertop snapshot [--json] [--fail-on-unhealthy]");
    assert_eq!(forms.len(), 4, "{forms:?}");
    assert!(forms.contains(&"infertop snapshot --json --fail-on-unhealthy".to_string()));
    assert_eq!(expand("infertop completions bash|zsh|fish").len(), 3);
    assert_eq!(expand("infertop man | man -l -"), ["infertop man | man -l -"]);
    assert_eq!(normalize("cargo run --release --  --demo"), "infertop --demo");
}

#[test]
fn every_inline_readme_command_is_a_block_command_or_runs() {
    let blocks: BTreeSet<String> = sh_blocks()
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .map(|l| normalize(l.split_once("  #").map_or(l.as_str(), |(c, _)| c)))
        .collect();
    let inline = inline_commands();
    assert!(inline.len() >= 10, "only {} inline commands found: {inline:?}", inline.len());
    let tmp = common::temp::TempDir::new("readme", "inline");
    let home = tmp.0.clone();
    // The prose's commands about your own accounts get a config whose accounts are a simulator's.
    let config = home.join(".config/infertop/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let _accounts = spawn_sim(&["sim".into()]);
    std::fs::write(&config, accounts_config(&_accounts.addr)).unwrap();
    let textfiles = home.join("node_exporter");
    std::fs::create_dir_all(&textfiles).unwrap();
    let ci = std::fs::read_to_string(Path::new(ROOT).join(".ci/run")).unwrap();
    let mut r = Runner { home: home.clone(), sim: None, ci, ran: 0 };
    for cmd in inline.iter().filter(|c| !blocks.contains(*c)) {
        let mut words = Vec::new();
        for w in cmd.split(' ') {
            // A synopsis's placeholder: the file of the accounts.
            match w {
                "PATH" => words.push(config.display().to_string()),
                w if w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase()) => {
                    panic!("`{cmd}`: a placeholder this test does not know: {w}")
                }
                w => words.push(w.to_string()),
            }
        }
        let line = words.join(" ").replace("/var/lib/node_exporter", textfiles.to_str().unwrap());
        r.line(&format!("{line}  # exit {}", documented_exit(cmd)));
    }
    assert!(r.ran >= 10, "only {} inline commands run", r.ran);
    assert!(textfiles.join("infertop.prom").exists(), "the textfile collector line wrote nothing");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_readme_capture_is_the_size_it_says() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let after = text.split("at 120×40").nth(1).expect("the README names the capture's size");
    let block = after.split("```\n").nth(1).expect("a capture follows");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(lines.len(), 40, "the capture is {} lines", lines.len());
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "a line wider than 120");
    assert_eq!(lines.iter().map(|l| l.chars().count()).max(), Some(120));
    assert!(lines[0].contains("26 deployments") && lines[39].contains("q quit"), "{block}");
}
