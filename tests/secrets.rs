//! Secrets stay secret: a session that uses every credential kind (an environment variable, a command, an
//! inline value in a private file, and a Run:ai token that expires and is refreshed) never shows one on
//! screen, in the log file (at debug level), in the audit file, or in a panic report.

mod common;

use common::tmux::{BIN, Tmux, start_sim};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const SECRETS: [&str; 4] = ["demo-gcore-key", "demo-sesterce-key", "demo-secret", "sim-runai."];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains {s:?}:\n{text}");
    }
}

#[test]
fn no_credential_reaches_the_screen_the_log_the_audit_file_or_a_panic_report() {
    // Tokens live 3 simulated (= real) seconds, so the session refreshes them several times.
    let sim = start_sim(&["--runai-token-ttl", "3"]);
    let tmux = Tmux::new("secrets");
    let cfg = tmux.dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[[account]]
name = "gcore-env"
provider = "gcore"
base_url = "{url}"
project_id = 1
api_key_env = "SECRETS_GCORE_KEY"

[[account]]
name = "sesterce-cmd"
provider = "sesterce"
base_url = "{url}"
api_key_command = "printf demo-sesterce-key"

[[account]]
name = "runai-inline"
provider = "runai"
base_url = "{url}"
client_id = "demo"
client_secret = "demo-secret"
"#,
            url = sim.url
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let state = tmux.dir.join("state");
    let run = |extra_env: &str, stderr: &str| {
        format!(
            "env {extra_env} INFERTOP_CONFIG={cfg} XDG_STATE_HOME={state} INFERTOP_LOG=debug \
             SECRETS_GCORE_KEY=demo-gcore-key {BIN} --refresh 1 2>{err}; echo INFERTOP-EXITED-$?; sleep 60",
            cfg = cfg.display(),
            state = state.display(),
            err = tmux.dir.join(stderr).display(),
        )
    };
    tmux.start_sized(&run("", "stderr.txt"), 160, 50);
    let mut screens = Vec::new();
    screens.push(tmux.wait_for("every account loaded", Duration::from_secs(30), |s| {
        s.contains("✓ gcore-env") && s.contains("✓ sesterce-cmd") && s.contains("✓ runai-inline")
    }));
    // Walk every pane, the help, the details with env values revealed, and make an edit (an audit line).
    for k in ["Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "?"] {
        tmux.keys(&[k]);
        screens.push(tmux.screen());
    }
    tmux.keys(&["Escape", "v"]);
    screens.push(tmux.screen());
    tmux.keys(&["s", "Tab", "BSpace"]);
    tmux.type_text("3");
    tmux.keys(&["Enter", "y"]);
    screens.push(tmux.wait_for("the edit to apply", Duration::from_secs(20), |s| {
        s.contains("watching the rollout") || s.contains("rolled out")
    }));
    // Let a few Run:ai tokens expire and be refreshed.
    std::thread::sleep(Duration::from_secs(7));
    screens.push(tmux.wait_for("Run:ai still fine after token refreshes", Duration::from_secs(10), |s| {
        s.contains("✓ runai-inline")
    }));
    tmux.keys(&["q"]);
    tmux.wait_for("exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
    for s in &screens {
        assert_clean("the screen", s);
    }

    let log = std::fs::read_to_string(state.join("infertop/infertop.log")).expect("a log file");
    assert!(log.contains("DEBUG"), "the log ran at debug level");
    assert_clean("the log file", &log);
    let audit = std::fs::read_to_string(state.join("infertop/audit.jsonl")).expect("an audit file");
    assert!(audit.contains("\"result\":\"applied\""), "{audit}");
    assert_clean("the audit file", &audit);
    assert_clean("stderr", &std::fs::read_to_string(tmux.dir.join("stderr.txt")).unwrap_or_default());

    // A panic: the report is printed after the terminal is restored, and holds no credential either.
    tmux.cmd(&["kill-server"]);
    let tmux2 = Tmux::new("secrets-panic");
    tmux2.start_sized(
        &run("INFERTOP_PANIC_AFTER_LOAD=1 RUST_BACKTRACE=1", "../infertop-secrets-panic.txt"),
        160,
        50,
    );
    tmux2.wait_for("the process to exit after the panic", Duration::from_secs(30), |s| {
        s.contains("INFERTOP-EXITED-")
    });
    let report =
        std::fs::read_to_string(tmux2.dir.join("../infertop-secrets-panic.txt")).expect("a panic report");
    assert!(report.contains("panicking on purpose"), "{report}");
    assert_clean("the panic report", &report);
    assert_eq!(
        tmux2.cmd(&["display-message", "-p", "-t", "main", "#{alternate_on}"]).trim(),
        "0",
        "terminal restored"
    );
    let _ = std::fs::remove_file(tmux2.dir.join("../infertop-secrets-panic.txt"));
}
