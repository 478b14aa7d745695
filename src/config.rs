//! The config file: accounts (provider, base URL, where the credential comes from), refresh, read-only,
//! theme. Credentials never live in the struct as plain strings: they are read from the environment (or a
//! command) into a [`Secret`] when the accounts are built.

use crate::model::ProviderKind;
use crate::provider::{
    AccountSpec, Credentials, GcoreApi, Secret,
    http::{Limits, RateLimit, RetryPolicy},
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub mod check;

/// The defaults, embedded; a user's file is merged over them.
pub const DEFAULTS_TOML: &str = include_str!("../assets/default-config.toml");

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seconds between fleet refreshes.
    pub refresh_seconds: Option<f64>,
    pub read_only: Option<bool>,
    pub theme: Option<String>,
    /// A PEM file of extra CA certificates to trust besides the system's (a corporate proxy's CA, say).
    pub ca_file: Option<PathBuf>,
    /// Keys by action name.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountConfig>,
}

/// Merges `over` into `base`: tables merge key by key, everything else (arrays included) is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub name: String,
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    /// Gcore: the project id.
    pub project_id: Option<i64>,
    /// Gcore: `v3` (default) or `v2` (legacy full-replace PUT).
    pub api: Option<GcoreApi>,
    /// Gcore / Sesterce: the environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// Gcore / Sesterce: a command whose first line of output is the API key (e.g. `pass show gcore`).
    pub api_key_command: Option<String>,
    /// Gcore / Sesterce: the API key itself. Prefer `api_key_env` or `api_key_command`; infertop warns when a
    /// file holding one is readable by others.
    pub api_key: Option<String>,
    /// Gcore / Sesterce: the name of a systemd credential holding the API key, read from
    /// `$CREDENTIALS_DIRECTORY/<name>` (a unit's `LoadCredential=`).
    pub api_key_credential: Option<String>,
    /// Run:ai: the client id (not a secret).
    pub client_id: Option<String>,
    /// Run:ai: the environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Run:ai: a command printing the client secret.
    pub client_secret_command: Option<String>,
    /// Run:ai: the client secret itself (see `api_key`).
    pub client_secret: Option<String>,
    /// Run:ai: the name of a systemd credential holding the client secret (see `api_key_credential`).
    pub client_secret_credential: Option<String>,
    /// Requests in flight to this account at most.
    pub max_in_flight: Option<usize>,
    /// Requests per second to this account at most (default 20; 0 turns the limit off).
    pub requests_per_second: Option<f64>,
    /// Requests that may go at once after a quiet spell (default 40).
    pub request_burst: Option<u32>,
    /// The largest response body read from this account, in MiB (default 64); also what all of its bodies
    /// read at once may hold together.
    pub max_response_mib: Option<u64>,
    /// The most items one list from this account may hold (default 100000).
    pub max_list_items: Option<usize>,
    /// The longest string kept from this account's answers, in KiB (default 256); longer ones are cut.
    pub max_string_kib: Option<usize>,
}

/// Where the config is looked for: `$INFERTOP_CONFIG`, else `$XDG_CONFIG_HOME/infertop/config.toml`, else
/// `~/.config/infertop/config.toml` (on macOS too).
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("INFERTOP_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(x).join("infertop/config.toml"));
    }
    dirs::home_dir().map(|h| h.join(".config/infertop/config.toml"))
}

/// Directory of the log and audit files: `$XDG_STATE_HOME/infertop`, else `~/.local/state/infertop`.
pub fn state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(x).join("infertop");
    }
    dirs::home_dir().map(|h| h.join(".local/state/infertop")).unwrap_or_else(|| PathBuf::from(".infertop"))
}

/// Creates `dir` (and any missing parent) with mode 0700; an existing `dir` that others can read or enter
/// is tightened to 0700. Returns a line for the log when it tightened something.
pub fn private_dir(dir: &Path) -> std::io::Result<Option<String>> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        return Ok(None);
    }
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(Some(format!(
        "tightened {} from mode {mode:03o} to 700: it is infertop's private state",
        dir.display()
    )))
}

/// Opens `path` for appending (`O_APPEND`: every `write` lands whole at the end, whoever else appends),
/// created with mode 0600; an existing file that others can read is tightened to 0600 through the open
/// handle. Returns a line for the log when it tightened the file.
pub fn open_private_append(path: &Path) -> std::io::Result<(std::fs::File, Option<String>)> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok((file, None));
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let note = format!("tightened {} from mode {mode:03o} to 600: others could read it", path.display());
    Ok((file, Some(note)))
}

impl Config {
    /// The embedded defaults alone.
    pub fn defaults() -> Config {
        Config::parse("").expect("the embedded defaults are valid (checked by a test)")
    }

    /// The keymap this config asks for: the defaults with each configured action's keys replaced.
    pub fn keymap(&self) -> Result<crate::app::keymap::Keymap, String> {
        use crate::app::keymap::{Action, Key, Keymap};
        let defaults = Keymap::default();
        let mut km = Keymap::default();
        for (name, keys) in &self.keys {
            let action = Action::from_name(name).ok_or_else(|| format!("keys.{name}: no such action"))?;
            let parsed: Vec<Key> = keys
                .iter()
                .map(|k| Key::parse(k).ok_or_else(|| format!("keys.{name}: {k:?} is not a key name")))
                .collect::<Result<_, _>>()?;
            // Only what differs from the defaults is rebound, so a key the user moves elsewhere is not taken
            // back by its old action's default entry.
            if parsed != defaults.keys_for(action) {
                km.rebind(action, &parsed);
            }
        }
        Ok(km)
    }

    /// Whether any account holds a credential inline.
    pub fn has_inline_secret(&self) -> bool {
        self.accounts.iter().any(|a| a.api_key.is_some() || a.client_secret.is_some())
    }

    /// Warnings about the config file itself: an inline credential in a file others can read.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if self.has_inline_secret() {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                out.push(format!(
                    "{} holds a credential and is readable by others (mode {:o}): chmod 600 it, or use *_env / *_command",
                    path.display(),
                    meta.permissions().mode() & 0o777
                ));
            }
        }
        out
    }

    /// Parses a user's file and merges it over the embedded defaults. The https rule for base URLs is not
    /// applied here: it depends on the command's `--allow-http` ([`Self::load`], [`Self::accounts`]).
    pub fn parse(text: &str) -> Result<Config, String> {
        let mistakes = check::mistakes(text, true);
        if !mistakes.is_empty() {
            return Err(mistakes.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n"));
        }
        let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut merged: toml::Table = toml::from_str(DEFAULTS_TOML).map_err(|e| format!("defaults: {e}"))?;
        merge(&mut merged, user);
        let cfg: Config =
            toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| e.to_string())?;
        cfg.keymap()?;
        Ok(cfg)
    }

    /// Reads and parses the file. A file that names a command to run (any `*_command`) is refused unless
    /// only its owner (or root) can change it: whoever can write it can run code as the user. `allow_http`
    /// is the command's `--allow-http`.
    pub fn load(path: &Path, allow_http: bool) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Err(errors) = check_text(&text, allow_http) {
            let shown = path.display();
            let lines: Vec<String> = errors.iter().map(|e| format!("{shown}:{e}")).collect();
            return Err(format!(
                "{}\n(check the file with: infertop config check {shown})",
                lines.join("\n")
            ));
        }
        let cfg = Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(key) = command_key(&text) {
            check_private(path, &key)?;
        }
        Ok(cfg)
    }

    /// Builds the accounts, reading each credential. `allow_http` lifts the https rule for non-loopback URLs.
    pub fn accounts(&self, allow_http: bool) -> Result<Vec<AccountSpec>, String> {
        self.accounts.iter().map(|a| a.to_spec(allow_http)).collect()
    }
}

/// The largest `max_response_mib` taken (4 GiB).
const MAX_RESPONSE_MIB: u64 = 4096;
/// The largest `max_string_kib` taken (64 MiB).
const MAX_STRING_KIB: usize = 65_536;

/// The first `*_command` key set in a config's text (a command infertop would run with `sh -c`).
pub fn command_key(text: &str) -> Option<String> {
    fn find(t: &toml::Table) -> Option<String> {
        t.iter().find_map(|(k, v)| match v {
            _ if k.ends_with("_command") => Some(k.clone()),
            toml::Value::Table(t) => find(t),
            toml::Value::Array(items) => items.iter().find_map(|i| i.as_table().and_then(find)),
            _ => None,
        })
    }
    find(&toml::from_str(text).ok()?)
}

/// Like ssh with its keys: a file (and the directory holding it) that names a command must be writable by
/// no one but its owner, and owned by the user running infertop or by root.
pub fn check_private(path: &Path, key: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    let mode = meta.mode() & 0o777;
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "{shown} sets {key}, a command infertop would run, but the file belongs to another user (uid {}): \
             refusing to use it. Make it yours (chown {me} {shown}) or move the command out of it.",
            meta.uid()
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "{shown} sets {key}, a command infertop would run, but others can change the file (mode {mode:03o}): \
             refusing to use it. Run: chmod go-w {shown}"
        ));
    }
    // Others who can write the directory can replace the file (unless the sticky bit stops them).
    if let Some(dir) = path.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d })
        && let Ok(d) = std::fs::metadata(dir)
        && d.mode() & 0o022 != 0
        && d.mode() & 0o1000 == 0
    {
        return Err(format!(
            "{shown} sets {key}, a command infertop would run, but others can replace the file: its directory {} \
             is writable by group or others (mode {:03o}): refusing to use it. Run: chmod go-w {}",
            dir.display(),
            d.mode() & 0o777,
            dir.display()
        ));
    }
    Ok(())
}

fn default_base_url(p: ProviderKind) -> Option<&'static str> {
    match p {
        ProviderKind::Gcore => Some("https://api.gcore.com"),
        ProviderKind::Sesterce => Some("https://api.cloud.sesterce.com"),
        // Every Run:ai tenant has its own control-plane URL.
        ProviderKind::Runai => None,
    }
}

/// `https://` is required, except on loopback or with `--allow-http`.
pub fn check_base_url(url: &str, allow_http: bool) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if lower.starts_with("http://") {
        if allow_http || !is_plain_http_remote(url) {
            return Ok(());
        }
        return Err(format!("{url}: plain http is allowed only on loopback (or with --allow-http)"));
    }
    Err(format!("{url}: the base URL must start with https://"))
}

/// Plain `http://` to a host that is not loopback: the credential and every answer travel in clear.
pub fn is_plain_http_remote(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // `user@host` hides the real host after the `@`.
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or(host_port)
    } else {
        host_port.rsplit_once(':').map(|(h, _)| h).unwrap_or(host_port)
    };
    let loopback = host == "localhost"
        || host == "[::1]"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// The accounts whose base URL is plain http to a host that is not loopback (allowed by `--allow-http`).
pub fn plain_http_accounts(accounts: &[AccountSpec]) -> Vec<String> {
    accounts.iter().filter(|a| is_plain_http_remote(&a.base_url)).map(|a| a.name.clone()).collect()
}

/// Where an account's credential comes from, as its settings say (the first set is used, in this order).
struct Sources<'a> {
    inline: Option<&'a str>,
    env: Option<&'a str>,
    credential: Option<&'a str>,
    command: Option<&'a str>,
}

fn secret_from(account: &str, what: &str, sources: Sources<'_>) -> Result<Secret, String> {
    let Sources { inline, env, credential, command } = sources;
    if let Some(v) = inline.filter(|v| !v.trim().is_empty()) {
        return Ok(Secret::new(v.trim()));
    }
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(format!(
                "account {account}: the environment variable {var} is not set: export {var}=<your {what}> before \
                 starting infertop"
            )),
        };
    }
    if let Some(name) = credential {
        return read_credential(account, what, name, credentials_directory().as_deref());
    }
    if let Some(cmd) = command {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("account {account}: could not run the {what} command: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "account {account}: the {what} command failed ({}): run it yourself to see why",
                out.status
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err(format!("account {account}: the {what} command printed nothing"));
        }
        return Ok(Secret::new(first));
    }
    Err(format!(
        "account {account}: say where the {what} comes from (an *_env, *_credential or *_command setting)"
    ))
}

/// The directory systemd hands a service's credentials in (`LoadCredential=`): `$CREDENTIALS_DIRECTORY`.
pub fn credentials_directory() -> Option<PathBuf> {
    std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// A credential's name is a file name in the credential directory: not empty, no `/`, not `.` or `..`.
pub fn is_credential_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The largest credential file read (a key is a few hundred bytes at most).
const MAX_CREDENTIAL_BYTES: u64 = 64 * 1024;

/// Reads the credential `name` from systemd's credential directory `dir` (`$CREDENTIALS_DIRECTORY`): its one
/// line, surrounding whitespace trimmed. Every refusal says what to do, and none shows the file's content.
pub fn read_credential(account: &str, what: &str, name: &str, dir: Option<&Path>) -> Result<Secret, String> {
    use std::io::Read;
    if !is_credential_name(name) {
        return Err(format!(
            "account {account}: the {what} credential {name:?} is not a credential's name: name a file of the \
             credential directory, without any /"
        ));
    }
    let Some(dir) = dir else {
        return Err(format!(
            "account {account}: the {what} comes from the systemd credential {name}, but $CREDENTIALS_DIRECTORY \
             is not set: systemd sets it for a service that loads credentials (LoadCredential=, as the \
             infertop-serve unit does); outside such a service, use the *_env or *_command setting instead"
        ));
    };
    let path = dir.join(name);
    let mut text = String::new();
    let read = std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_CREDENTIAL_BYTES + 1).read_to_string(&mut text).map(|_| ()));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut present: Vec<String> = std::fs::read_dir(dir)
                .map(|it| {
                    it.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
                })
                .unwrap_or_default();
            present.sort();
            let present = if present.is_empty() {
                "it holds none".to_string()
            } else {
                format!("it holds {}", present.join(", "))
            };
            return Err(crate::model::text::sanitize(&format!(
                "account {account}: no credential {name} in {} ($CREDENTIALS_DIRECTORY; {present}): load it in the \
                 unit with LoadCredential={name}:/path/to/the/file (the infertop-serve unit loads each file F of \
                 /etc/infertop/credentials/ as infertop_F)",
                dir.display()
            ))
            .into_owned());
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(format!("account {account}: the credential {} is not text", path.display()));
        }
        Err(e) => {
            return Err(format!("account {account}: cannot read the credential {}: {e}", path.display()));
        }
        Ok(()) => {}
    }
    if text.len() as u64 > MAX_CREDENTIAL_BYTES {
        return Err(format!(
            "account {account}: the credential {} is larger than {} KiB: put only the {what} in it",
            path.display(),
            MAX_CREDENTIAL_BYTES / 1024
        ));
    }
    let value = text.trim();
    if value.is_empty() {
        return Err(format!(
            "account {account}: the credential {} is empty: put the {what} in it",
            path.display()
        ));
    }
    if value.contains(['\n', '\r']) {
        return Err(format!(
            "account {account}: the credential {} holds more than one line: put only the {what} in it",
            path.display()
        ));
    }
    Ok(Secret::new(value))
}

/// Where an account's credential comes from, in words (never the credential itself).
pub fn credential_source(a: &AccountConfig) -> String {
    let (what, inline, env, credential, command) = match a.provider {
        ProviderKind::Runai => (
            "client secret",
            &a.client_secret,
            &a.client_secret_env,
            &a.client_secret_credential,
            &a.client_secret_command,
        ),
        _ => ("API key", &a.api_key, &a.api_key_env, &a.api_key_credential, &a.api_key_command),
    };
    // The same order as `secret_from`.
    if inline.as_deref().is_some_and(|v| !v.trim().is_empty()) {
        format!("{what} inline in the file")
    } else if let Some(var) = env {
        let set = std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
        format!("{what} from ${var} ({})", if set { "set" } else { "not set" })
    } else if let Some(name) = credential {
        let state = match credentials_directory() {
            None => "$CREDENTIALS_DIRECTORY not set".to_string(),
            Some(d) if d.join(name).is_file() => format!("{} present", d.join(name).display()),
            Some(d) => format!("{} missing", d.join(name).display()),
        };
        crate::model::text::sanitize(&format!("{what} from the systemd credential {name} ({state})"))
            .into_owned()
    } else if let Some(cmd) = command {
        format!("{what} from the command `{}`", crate::model::text::sanitize(cmd))
    } else {
        format!("no source for the {what}")
    }
}

impl AccountConfig {
    fn key_sources(&self) -> Sources<'_> {
        Sources {
            inline: self.api_key.as_deref(),
            env: self.api_key_env.as_deref(),
            credential: self.api_key_credential.as_deref(),
            command: self.api_key_command.as_deref(),
        }
    }

    pub fn to_spec(&self, allow_http: bool) -> Result<AccountSpec, String> {
        let base_url = match (&self.base_url, default_base_url(self.provider)) {
            (Some(u), _) => u.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(format!("account {}: base_url is required for {}", self.name, self.provider));
            }
        };
        check_base_url(&base_url, allow_http).map_err(|e| format!("account {}: {e}", self.name))?;
        let credentials = match self.provider {
            ProviderKind::Gcore => Credentials::Gcore {
                api_key: secret_from(&self.name, "API key", self.key_sources())?,
                project_id: self
                    .project_id
                    .ok_or_else(|| format!("account {}: project_id is required for gcore", self.name))?,
            },
            ProviderKind::Sesterce => {
                Credentials::Sesterce { api_key: secret_from(&self.name, "API key", self.key_sources())? }
            }
            ProviderKind::Runai => Credentials::Runai {
                client_id: self
                    .client_id
                    .clone()
                    .ok_or_else(|| format!("account {}: client_id is required for runai", self.name))?,
                client_secret: secret_from(
                    &self.name,
                    "client secret",
                    Sources {
                        inline: self.client_secret.as_deref(),
                        env: self.client_secret_env.as_deref(),
                        credential: self.client_secret_credential.as_deref(),
                        command: self.client_secret_command.as_deref(),
                    },
                )?,
            },
        };
        Ok(AccountSpec {
            name: self.name.clone(),
            kind: self.provider,
            base_url,
            credentials,
            gcore_api: self.api.unwrap_or_default(),
            max_in_flight: self.max_in_flight.unwrap_or(crate::provider::DEFAULT_MAX_IN_FLIGHT).clamp(1, 64),
            retry: RetryPolicy::default(),
            rate_limit: self.rate_limit(),
            limits: self.limits(),
        })
    }

    /// The account's bounds: the defaults, overridden by the settings (kept within sane ranges).
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_response_bytes: self
                .max_response_mib
                .map(|m| (m.clamp(1, MAX_RESPONSE_MIB) as usize) << 20)
                .unwrap_or(d.max_response_bytes),
            max_list_items: self.max_list_items.map(|n| n.max(1)).unwrap_or(d.max_list_items),
            max_string_bytes: self
                .max_string_kib
                .map(|k| k.clamp(1, MAX_STRING_KIB) << 10)
                .unwrap_or(d.max_string_bytes),
        }
    }

    /// The account's requests-per-second limit: the defaults, overridden by the two settings.
    pub fn rate_limit(&self) -> RateLimit {
        let d = RateLimit::default();
        RateLimit {
            per_second: self
                .requests_per_second
                .filter(|r| r.is_finite() && (0.0..=10_000.0).contains(r))
                .unwrap_or(d.per_second),
            burst: self.request_burst.unwrap_or(d.burst).max(1),
        }
    }
}

/// Checks a config's text without reading any credential: syntax, known keys, types and ranges, what each
/// account needs (see [`check::mistakes`]), and that the `ca_file` can be read. Each error starts with
/// `LINE:COLUMN: ` (so that `FILE:` before it makes a location); returns the number of accounts when valid.
/// `allow_http` is the command's `--allow-http`.
pub fn check_text(text: &str, allow_http: bool) -> Result<usize, Vec<String>> {
    let mistakes = check::mistakes(text, allow_http);
    if !mistakes.is_empty() {
        return Err(mistakes.iter().map(|m| m.to_string()).collect());
    }
    let cfg = Config::parse(text).map_err(|e| vec![format!("1:1: {e}")])?;
    if let Some(p) = &cfg.ca_file
        && let Err(e) = crate::provider::http::load_ca_file(p)
    {
        let line = text.lines().position(|l| l.trim_start().starts_with("ca_file")).map_or(1, |i| i + 1);
        return Err(vec![format!("{line}:1: ca_file: {e}")]);
    }
    Ok(cfg.accounts.len())
}

/// What to tell a user who has no config yet.
pub fn no_config_help(path: Option<&Path>) -> String {
    let where_ =
        path.map(|p| p.display().to_string()).unwrap_or_else(|| "~/.config/infertop/config.toml".into());
    format!(
        "no accounts configured.\n\
         \n\
         Try the demo first (no cloud account needed):\n\
         \x20   infertop --demo\n\
         \n\
         To watch your own deployments, write {where_} (or point INFERTOP_CONFIG at a file), e.g.:\n\
         \n\
         \x20   [[account]]\n\
         \x20   name = \"gcore-prod\"\n\
         \x20   provider = \"gcore\"\n\
         \x20   project_id = 1234\n\
         \x20   api_key_env = \"GCORE_API_KEY\"\n\
         \n\
         \x20   [[account]]\n\
         \x20   name = \"runai\"\n\
         \x20   provider = \"runai\"\n\
         \x20   base_url = \"https://myorg.run.ai\"\n\
         \x20   client_id = \"my-app\"\n\
         \x20   client_secret_env = \"RUNAI_CLIENT_SECRET\"\n\
         \n\
         then set the environment variables it names. See assets/config.example.toml for every setting."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        assert!(check_base_url("https://api.gcore.com", false).is_ok());
        assert!(check_base_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_base_url("http://localhost:1/x", false).is_ok());
        assert!(check_base_url("http://[::1]:80", false).is_ok());
        assert!(check_base_url("http://example.com", false).is_err());
        assert!(check_base_url("http://example.com", true).is_ok());
        assert!(check_base_url("ftp://example.com", true).is_err());
    }

    #[test]
    fn account_needs_its_credential_and_never_shows_it() {
        let cfg = Config::parse(
            r#"
            [[account]]
            name = "g"
            provider = "gcore"
            project_id = 1
            api_key_env = "INFERTOP_TEST_UNSET_VAR_123"
            "#,
        )
        .unwrap();
        let err = cfg.accounts(false).unwrap_err();
        assert!(err.contains("INFERTOP_TEST_UNSET_VAR_123"), "{err}");
        let cfg = Config::parse(
            r#"
            [[account]]
            name = "s"
            provider = "sesterce"
            api_key_command = "echo s3cret-value"
            "#,
        )
        .unwrap();
        let spec = &cfg.accounts(false).unwrap()[0];
        assert!(!format!("{spec:?}").contains("s3cret-value"));
        match &spec.credentials {
            Credentials::Sesterce { api_key } => assert_eq!(api_key.expose(), "s3cret-value"),
            _ => panic!("wrong credentials"),
        }
    }

    /// `api_key_credential` reads `$CREDENTIALS_DIRECTORY/<name>` (systemd's `LoadCredential=`): its one line,
    /// trimmed; each way it can be wrong is a message saying what to do, never showing what the file holds.
    #[test]
    fn a_credential_comes_from_the_credential_directory() {
        let dir = std::env::temp_dir().join(format!("infertop-cfg-creds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("infertop_gcore"), "k3y-in-the-file\n").unwrap();
        let read = |name: &str, dir: Option<&Path>| read_credential("g", "API key", name, dir);
        assert_eq!(read("infertop_gcore", Some(&dir)).unwrap().expose(), "k3y-in-the-file");

        let no_dir = read("infertop_gcore", None).unwrap_err();
        assert!(no_dir.contains("$CREDENTIALS_DIRECTORY is not set") && no_dir.contains("LoadCredential="));
        let missing = read("infertop_gcor", Some(&dir)).unwrap_err();
        assert!(
            missing.contains("no credential infertop_gcor") && missing.contains("it holds infertop_gcore")
        );
        assert!(missing.contains("LoadCredential=infertop_gcor:"), "{missing}");
        for bad in ["../gcore", "a/b", "", ".", ".."] {
            let e = read(bad, Some(&dir)).unwrap_err();
            assert!(e.contains("is not a credential's name"), "{bad:?}: {e}");
        }
        std::fs::write(dir.join("empty"), " \n").unwrap();
        assert!(read("empty", Some(&dir)).unwrap_err().contains("is empty"));
        std::fs::write(dir.join("two"), "k3y-in-the-file\nsecond-line-secret\n").unwrap();
        let two = read("two", Some(&dir)).unwrap_err();
        assert!(two.contains("more than one line"), "{two}");
        std::fs::write(dir.join("huge"), "x".repeat(70_000)).unwrap();
        assert!(read("huge", Some(&dir)).unwrap_err().contains("larger than 64 KiB"));
        for e in [no_dir, missing, two] {
            assert!(!e.contains("k3y-in-the-file") && !e.contains("second-line-secret"), "{e}");
        }

        // From the config: `config check` takes both keys, and refuses a name that is not a file name.
        let text = r#"
            [[account]]
            name = "r"
            provider = "runai"
            base_url = "https://x.run.ai"
            client_id = "c"
            client_secret_credential = "infertop_runai"

            [[account]]
            name = "s"
            provider = "sesterce"
            api_key_credential = "infertop_sesterce"
            "#;
        assert_eq!(check_text(text, false), Ok(2));
        let cfg = Config::parse(text).unwrap();
        assert!(credential_source(&cfg.accounts[0]).starts_with("client secret from the systemd credential"));
        let errors = check_text(&text.replace("infertop_sesterce", "../sesterce"), false).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("api_key_credential") && e.contains("not a credential's name"))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rate_limit_defaults_and_settings() {
        let text = r#"
            [[account]]
            name = "s"
            provider = "sesterce"
            api_key_command = "echo k"

            [[account]]
            name = "t"
            provider = "sesterce"
            api_key_command = "echo k"
            requests_per_second = 2.5
            request_burst = 5
            "#;
        let specs = Config::parse(text).unwrap().accounts(false).unwrap();
        assert_eq!(specs[0].rate_limit, RateLimit::default());
        assert_eq!(specs[1].rate_limit, RateLimit { per_second: 2.5, burst: 5 });
        assert_eq!(check_text(text, false), Ok(2));
        let bad = text.replace("2.5", "-1").replace("burst = 5", "burst = 0");
        let errors = check_text(&bad, false).unwrap_err();
        assert!(errors.iter().any(|e| e.contains("requests_per_second")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("request_burst")), "{errors:?}");
    }

    #[test]
    fn limits_defaults_settings_and_checks() {
        let text = r#"
            [[account]]
            name = "s"
            provider = "sesterce"
            api_key_env = "K"

            [[account]]
            name = "t"
            provider = "sesterce"
            api_key_env = "K"
            max_response_mib = 2
            max_list_items = 10
            max_string_kib = 4
            "#;
        let cfg = Config::parse(text).unwrap();
        assert_eq!(cfg.accounts[0].limits(), Limits::default());
        assert_eq!(
            cfg.accounts[1].limits(),
            Limits { max_response_bytes: 2 << 20, max_list_items: 10, max_string_bytes: 4 << 10 }
        );
        assert_eq!(check_text(text, false), Ok(2));
        let bad = text.replace("= 2\n", "= 0\n").replace("= 10", "= 0").replace("= 4\n", "= 100000\n");
        let errors = check_text(&bad, false).unwrap_err();
        for field in ["max_response_mib", "max_list_items", "max_string_kib"] {
            assert!(errors.iter().any(|e| e.contains(field)), "{field}: {errors:?}");
        }
    }

    #[test]
    fn command_keys_are_found_wherever_they_are() {
        assert_eq!(command_key("[[account]]\nname = \"a\"\napi_key_env = \"X\"\n"), None);
        let t = "[[account]]\nname = \"a\"\n[[account]]\nname = \"b\"\nclient_secret_command = \"pass x\"\n";
        assert_eq!(command_key(t).as_deref(), Some("client_secret_command"));
    }

    #[test]
    fn a_file_naming_a_command_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("infertop-cfg-modes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "").unwrap();
        for (mode, ok) in [(0o600, true), (0o644, true), (0o660, false), (0o602, false), (0o664, false)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = check_private(&path, "api_key_command");
            assert_eq!(r.is_ok(), ok, "{mode:o}: {r:?}");
            if let Err(e) = r {
                assert!(e.contains("chmod go-w") && e.contains(&format!("mode {mode:03o}")), "{e}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(Config::parse("refresh = 5").is_err());
    }
}
