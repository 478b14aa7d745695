//! The installed Debian package, run as its unit runs it (issue 27). Ignored by `cargo test`: it needs the package
//! installed (`dpkg -i "$(scripts/deb)"`) and root; `.ci/run` runs it after installing the package, with
//! `cargo test --test package -- --ignored`.
//!
//! No systemd runs on the CI machine, so the test does what systemd would do with the installed unit file, read
//! from where the package put it: the `ExecStart=` command (the installed binary, its config path), as the
//! unit's user (`DynamicUser=`: an unprivileged uid and gid without a passwd entry, no supplementary groups, no
//! capabilities, no new privileges, the `UMask=`), with the files `LoadCredential=` names copied into the
//! service's credential directory, `/run/credentials/infertop-serve.service`, readable by that user alone and
//! passed as `$CREDENTIALS_DIRECTORY` (a directory's files named `ID_FILE`, as systemd names them), its
//! `StateDirectory=` made in `/var/lib` as the service's own and passed as `$STATE_DIRECTORY`, the unit's
//! `Environment=` (with `%S`), and stdout and stderr to pipes, as journald takes them. The config and the
//! credentials are written where the unit reads them (`/etc/infertop/`). Against the installed `infertop sim`,
//! it scrapes `/metrics` until every account is up, then stops the service with SIGTERM as systemd does. It
//! refuses to run where any file or directory it would make exists, and removes all it made, however it ends.
//! What systemd would do that the test does not: the file-system sandbox (`ProtectSystem=` and the like), and
//! the listen address (`--listen 127.0.0.1:0` is added, so that a busy 9477 on a shared machine does not fail
//! it).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UNIT_PATHS: [&str; 2] =
    ["/usr/lib/systemd/system/infertop-serve.service", "/lib/systemd/system/infertop-serve.service"];

/// The first uid of the range systemd picks `DynamicUser=` users from (61184–65519).
const DYNAMIC_UID: u32 = 61184;

/// The `[Service]` settings of the installed unit, in order (a key may repeat).
fn service_settings(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        assert!(!line.ends_with('\\'), "a continued line, which this test does not read: {line}");
        if section == "[Service]"
            && let Some((k, v)) = line.split_once('=')
        {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// What the test made outside its temp dir (the config, the credential files, their directories), removed when
/// it ends however it ends, so that `dpkg -r` finds the system as the package left it.
#[derive(Default)]
struct Made {
    files: Vec<PathBuf>,
    trees: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    children: Vec<Child>,
}

impl Made {
    /// Makes `d` and its missing parents, mode 755.
    fn dir(&mut self, d: &Path) {
        let missing: Vec<&Path> = d.ancestors().take_while(|a| !a.exists()).collect();
        for a in missing.into_iter().rev() {
            std::fs::create_dir(a).unwrap();
            std::fs::set_permissions(a, std::fs::Permissions::from_mode(0o755)).unwrap();
            self.dirs.push(a.to_path_buf());
        }
    }

    /// Makes `d` (which must not exist yet) and its missing parents; `d` is removed whole at the end.
    fn tree(&mut self, d: &Path) {
        assert!(!d.exists(), "{} exists: this test makes it, and would not touch yours", d.display());
        self.dir(d);
        self.trees.push(d.to_path_buf());
    }

    fn file(&mut self, f: &Path, text: &str, mode: u32) {
        assert!(!f.exists(), "{} exists: this test writes it, and would not overwrite yours", f.display());
        self.dir(f.parent().unwrap());
        std::fs::write(f, text).unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
        self.files.push(f.to_path_buf());
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        for t in &self.trees {
            let _ = std::fs::remove_dir_all(t);
        }
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The address a listener prints first (`listening on http://ADDR …`); the rest of its stdout is kept.
fn address(child: &mut Child, what: &str) -> (String, std::thread::JoinHandle<String>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{what} did not say where it listens: {first:?}"))
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut s = first;
        let _ = reader.read_to_string(&mut s);
        s
    });
    (addr, rest)
}

#[test]
#[ignore = "needs the package installed and root: .ci/run runs it after dpkg -i"]
fn the_installed_unit_serves_the_fleet_with_credentials_from_the_credential_directory() {
    let unit = UNIT_PATHS.iter().map(Path::new).find(|p| p.exists()).unwrap_or_else(|| {
        panic!(
            "infertop-serve.service is not installed: install the package first (dpkg -i \"$(scripts/deb)\")"
        )
    });
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test runs the service as another user: run it as root");
    let settings = service_settings(&std::fs::read_to_string(unit).unwrap());
    let all = |key: &str| -> Vec<&str> {
        settings.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    };
    let one = |key: &str| -> Option<&str> { all(key).last().copied() };

    // What the unit promises, read from it: a user of its own, no credential in the unit, the options asked.
    assert_eq!(one("DynamicUser"), Some("yes"), "the unit runs as a dynamic user");
    assert!(
        one("User").is_none(),
        "DynamicUser= with a fixed User= is another setup than this test emulates"
    );
    assert!(all("SetCredential").is_empty(), "a credential written in the unit");
    for env in all("Environment") {
        let upper = env.to_ascii_uppercase();
        assert!(!upper.contains("KEY") && !upper.contains("SECRET"), "a credential in the unit? {env}");
    }
    for (key, want) in [
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("Restart", "on-failure"),
    ] {
        assert_eq!(one(key), Some(want), "{key}=");
    }

    // ExecStart=: the installed binary, `serve`, the config path.
    let exec = shell_words::split(one("ExecStart").expect("ExecStart=")).unwrap();
    assert!(
        !exec[0].starts_with(['-', '+', '!', '@', ':']),
        "an ExecStart= prefix this test does not emulate"
    );
    assert_eq!(exec[0], "/usr/bin/infertop");
    assert_eq!(exec.get(1).map(String::as_str), Some("serve"));
    let config = exec.iter().position(|w| w == "--config").map(|i| PathBuf::from(&exec[i + 1]));
    let config = config.expect("ExecStart= names its config with --config");
    assert_eq!(config, Path::new("/etc/infertop/config.toml"));

    let mut made = Made::default();

    // The credentials where the unit loads them from, as root's private files; the accounts name them as
    // systemd will name them in the credential directory.
    let (creds_id, creds_from) =
        one("LoadCredential").and_then(|v| v.split_once(':')).expect("LoadCredential=");
    let creds_from = Path::new(creds_from);
    let secrets = [
        ("gcore", infertop::sim::DEMO_GCORE_KEY),
        ("sesterce", infertop::sim::DEMO_SESTERCE_KEY),
        ("runai", infertop::sim::DEMO_RUNAI_SECRET),
    ];
    let is_dir = !creds_from.is_file();
    let name = |file: &str| if is_dir { format!("{creds_id}_{file}") } else { creds_id.to_string() };
    assert!(
        is_dir,
        "LoadCredential= names one file: this test gives three accounts one directory of credentials"
    );
    made.dir(creds_from);
    std::fs::set_permissions(creds_from, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (file, secret) in secrets {
        made.file(&creds_from.join(file), &format!("{secret}\n"), 0o600);
    }

    // The simulator, from the package too.
    let mut sim = Command::new("/usr/bin/infertop")
        .args(["sim", "--listen", "127.0.0.1:0", "--seed", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sim_addr, _) = address(&mut sim, "infertop sim");
    made.children.push(sim);
    let url = format!("http://{sim_addr}");
    let cfg = format!(
        "[[account]]\nname = \"gcore-sim\"\nprovider = \"gcore\"\nbase_url = \"{url}\"\nproject_id = 1\n\
         api_key_credential = \"{}\"\n\n[[account]]\nname = \"sesterce-sim\"\nprovider = \"sesterce\"\n\
         base_url = \"{url}\"\napi_key_credential = \"{}\"\n\n[[account]]\nname = \"runai-sim\"\n\
         provider = \"runai\"\nbase_url = \"{url}\"\nclient_id = \"demo\"\nclient_secret_credential = \"{}\"\n",
        name("gcore"),
        name("sesterce"),
        name("runai")
    );
    made.file(&config, &cfg, 0o644);

    // What systemd makes for the service: its credential directory (the unit's user alone can read it) ...
    let uid = DYNAMIC_UID;
    // SAFETY: getpwuid reads the user database; the pointer is only compared with null.
    assert!(unsafe { libc::getpwuid(uid) }.is_null(), "uid {uid} has a passwd entry: not a dynamic user");
    let chown = |p: &Path| std::os::unix::fs::chown(p, Some(uid), Some(uid)).unwrap();
    let cred_dir = Path::new("/run/credentials/infertop-serve.service");
    made.tree(cred_dir);
    for entry in std::fs::read_dir(creds_from).unwrap() {
        let entry = entry.unwrap();
        let to = cred_dir.join(name(&entry.file_name().to_string_lossy()));
        std::fs::copy(entry.path(), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o400)).unwrap();
        chown(&to);
    }
    std::fs::set_permissions(cred_dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    chown(cred_dir);
    // ... its state directory, in `%S`, where system services' state directories are ...
    let state_root = Path::new("/var/lib");
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()),
        ("HOME".into(), "/".into()),
        ("USER".into(), "infertop-serve".into()),
        ("LOGNAME".into(), "infertop-serve".into()),
        ("SHELL".into(), "/usr/sbin/nologin".into()),
        ("CREDENTIALS_DIRECTORY".into(), cred_dir.display().to_string()),
    ];
    if let Some(state) = one("StateDirectory") {
        let dir = state_root.join(state);
        made.tree(&dir);
        let mode = one("StateDirectoryMode").map(|m| u32::from_str_radix(m, 8).unwrap()).unwrap_or(0o755);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        chown(&dir);
        env.push(("STATE_DIRECTORY".into(), dir.display().to_string()));
    }
    for e in all("Environment") {
        for assignment in shell_words::split(e).unwrap() {
            let (k, v) = assignment.split_once('=').expect("Environment=NAME=VALUE");
            assert!(!v.contains('%') || v.contains("%S"), "a specifier this test does not expand: {v}");
            env.push((k.to_string(), v.replace("%S", &state_root.display().to_string())));
        }
    }
    // ... and the user, its umask and privileges; stdout and stderr go to pipes, as to the journal.
    let umask = one("UMask").unwrap_or("0022");
    let mut serve = Command::new("setpriv");
    serve
        .args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into()])
        .args(["--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--", "/bin/sh", "-c"])
        .arg(format!("umask {umask} && exec \"$@\""))
        .arg("sh")
        .args(&exec)
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .envs(env)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut serve = serve.spawn().expect("setpriv (util-linux)");
    let mut stderr = serve.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut first = String::new();
    let mut out = BufReader::new(serve.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    if !first.starts_with("listening on http://") {
        let status = serve.wait().unwrap();
        panic!("the service did not start ({status}): {first}{}", stderr.join().unwrap());
    }
    let serve_addr = first["listening on http://".len()..].split_whitespace().next().unwrap().to_string();
    let stdout = std::thread::spawn(move || {
        let mut s = first;
        let _ = out.read_to_string(&mut s);
        s
    });
    made.children.push(serve);

    // Every account up, read with the credentials from the credential directory.
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let started = Instant::now();
    let mut body = String::new();
    let up = |b: &str, account: &str| {
        b.lines().any(|l| {
            l.starts_with("infertop_account_up{")
                && l.contains(&format!("account=\"{account}\""))
                && l.ends_with(" 1")
        })
    };
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = client.get(format!("http://{serve_addr}/metrics")).send() {
            body = r.text().unwrap_or_default();
            if ["gcore-sim", "sesterce-sim", "runai-sim"].iter().all(|a| up(&body, a)) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for account in ["gcore-sim", "sesterce-sim", "runai-sim"] {
        assert!(up(&body, account), "{account} is not up:\n{body}");
    }
    assert!(body.contains("infertop_replicas_ready{"), "no deployment in the scrape:\n{body}");

    // Stopped as systemd stops it: SIGTERM, then a clean exit.
    let mut serve = made.children.pop().unwrap();
    // SAFETY: kill sends a signal to our own child, which has not been waited for.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    let status = serve.wait().unwrap();
    let log = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "the service did not stop cleanly on SIGTERM ({status}):\n{log}");
    assert!(!log.contains('\x1b'), "colour in the journal:\n{log}");
    for (_, secret) in secrets {
        assert!(!log.contains(secret) && !body.contains(secret), "a credential in the output");
    }
}
