//! The audit file: one JSON line per applied change (time, account, deployment, fields before and after,
//! result, and its origin: the dashboard or the command line). It never holds a secret: credentials are not
//! part of any section, probe header values are masked, and env values are not recorded (a create records
//! their names only).

use crate::app::edit::Picked;
use crate::app::{ApplyFailure, ApplyRequest, Landed, LifecycleRequest};
use crate::model::edit::Change;
use crate::model::settings::Settings;
use crate::model::{CreateSpec, Deployment, ImageSource, Probes, ScaleUpdate};
use crate::provider::{ApiError, ErrorKind, Provider};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    rotate_at: u64,
    origin: &'static str,
}

/// Where a change came from, as each audit line says in `origin`: the dashboard.
pub const FROM_DASHBOARD: &str = "dashboard";
/// ...or a command line (`infertop scale`, `stop`, `start`).
pub const FROM_COMMAND_LINE: &str = "command line";

/// The audit file is rotated before it would grow past this: the previous generation is kept as
/// `audit.jsonl.1`, so at most about twice this is kept (a few thousand edits per generation).
pub const AUDIT_ROTATE_BYTES: u64 = 16 << 20;

fn masked_probes(p: &Probes) -> Value {
    let mut p = p.clone();
    for slot in crate::model::ProbeSlot::ALL {
        if let Some(cfg) = p.get_mut(slot)
            && let Some(h) = cfg.probe.http_get.as_mut()
        {
            for v in h.headers.values_mut() {
                *v = "***".into();
            }
        }
    }
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// Whether the provider answered and said no (as opposed to an answer that never came or could not be read).
fn refused(e: &ApiError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Validation
            | ErrorKind::Forbidden
            | ErrorKind::Conflict
            | ErrorKind::NotFound
            | ErrorKind::Unsupported
            | ErrorKind::Other
    )
}

fn section(change: &Change) -> Value {
    match change {
        Change::Scale(u) => serde_json::to_value(u).unwrap_or(Value::Null),
        Change::Probes(p) => masked_probes(p),
        Change::Settings(s) => serde_json::to_value(s.masked()).unwrap_or(Value::Null),
    }
}

/// The model or registry sent with an edit, by id and by the name the catalog gives it (never a credential:
/// an image's credential is not sent).
fn source_json(s: &Picked) -> Value {
    let mut v = match &s.source {
        ImageSource::Model(id) => json!({ "model": id }),
        ImageSource::Registry(id) => json!({ "registry": id }),
        ImageSource::Image { image, .. } => json!({ "image": image }),
    };
    if let (Some(o), Some(name)) = (v.as_object_mut(), &s.name) {
        o.insert("name".into(), json!(name));
    }
    v
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog {
            path,
            lock: Arc::new(Mutex::new(())),
            rotate_at: AUDIT_ROTATE_BYTES,
            origin: FROM_DASHBOARD,
        }
    }

    /// Lines say the changes came from `origin` ([`FROM_DASHBOARD`] unless told).
    pub fn with_origin(mut self, origin: &'static str) -> AuditLog {
        self.origin = origin;
        self
    }

    /// Rotates at `bytes` instead of [`AUDIT_ROTATE_BYTES`].
    pub fn with_rotation(mut self, bytes: u64) -> AuditLog {
        self.rotate_at = bytes.max(1);
        self
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Where the previous generation is kept: `audit.jsonl.1`.
    pub fn previous_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".1");
        self.path.with_file_name(name)
    }

    fn append(&self, mut line: Value) {
        if let Some(o) = line.as_object_mut() {
            o.insert("origin".into(), json!(self.origin));
        }
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = line.to_string();
        text.push('\n');
        if let Err(e) = self.write_line(text.as_bytes()) {
            tracing::error!(path = %self.path.display(), error = %e, "could not write the audit file");
        }
    }

    /// One `write` of a whole line to a file opened `O_APPEND` (0600), so that a line is never split, even
    /// with two infertop processes appending; rotates first when the line would take the file past the size.
    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent()
            && let Some(note) = crate::config::private_dir(dir)?
        {
            tracing::warn!("{note}");
        }
        let (mut f, note) = crate::config::open_private_append(&self.path)?;
        if let Some(note) = note {
            tracing::warn!("{note}");
        }
        let size = f.metadata()?.len();
        if size > 0 && size + line.len() as u64 > self.rotate_at {
            drop(f);
            std::fs::rename(&self.path, self.previous_path())?;
            f = crate::config::open_private_append(&self.path)?.0;
        }
        let n = f.write(line)?;
        if n != line.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                format!("only {n} of {} bytes of the line were written", line.len()),
            ));
        }
        Ok(())
    }

    /// An edit's outcome: `applied` or `no change` only when the read-back holds every meant field;
    /// `partial` with the fields the provider did not take; `refused` with the provider's message; `conflict:
    /// not sent`; or `failed` with the error. `asked` is what was sent, `after` the section as read back.
    pub fn record_edit(
        &self,
        p: &dyn Provider,
        req: &ApplyRequest,
        before: Option<&Deployment>,
        outcome: &Result<Landed, ApplyFailure>,
        note: Option<&str>,
    ) {
        let kind = req.change.kind();
        let section_of = |d: &Deployment| match &req.change {
            Change::Scale(_) => serde_json::to_value(ScaleUpdate::from_deployment(d)).unwrap_or(Value::Null),
            Change::Probes(_) => masked_probes(&d.probes.clone().unwrap_or_default()),
            Change::Settings(_) => {
                serde_json::to_value(Settings::from_deployment(d).masked()).unwrap_or(Value::Null)
            }
        };
        let mut line = json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "account": p.account(),
            "provider": p.kind().label(),
            "deployment": { "id": req.key.id, "name": req.name },
            "change": kind,
            "before": before.map(section_of),
            "asked": section(&req.change),
            "note": note,
        });
        if let (Some(o), Some(src)) = (line.as_object_mut(), &req.source) {
            o.insert("source".into(), source_json(src));
        }
        let extra = match outcome {
            // Sent, and everything the read-back can show is there; the rest the provider never shows.
            Ok(Landed { applied, not_taken })
                if !not_taken.is_empty() && not_taken.iter().all(|n| !n.verifiable()) =>
            {
                json!({
                    "result": "applied, not verified",
                    "not_verified": not_taken.iter().map(|n| n.to_json()).collect::<Vec<_>>(),
                    "after": section_of(applied.deployment()),
                })
            }
            Ok(Landed { applied, not_taken }) if !not_taken.is_empty() => json!({
                "result": "partial",
                "not_taken": not_taken.iter().map(|n| n.to_json()).collect::<Vec<_>>(),
                "after": section_of(applied.deployment()),
            }),
            Ok(Landed { applied, .. }) => {
                // As on screen: "nothing to change" after a retried write whose first try landed is "applied".
                let took = crate::app::edit::was_applied(applied, before, Some(&req.change));
                json!({
                    "result": if took { "applied" } else { "no change" },
                    "after": section_of(applied.deployment()),
                })
            }
            Err(ApplyFailure::Conflict(latest)) => {
                json!({ "result": "conflict: not sent", "latest": section_of(latest) })
            }
            Err(ApplyFailure::Api(e)) if refused(e) => json!({
                "result": "refused",
                "status": e.status,
                "message": e.to_string(),
            }),
            Err(ApplyFailure::Api(e)) => json!({ "result": "failed", "message": e.to_string() }),
        };
        if let (Some(o), Value::Object(x)) = (line.as_object_mut(), extra) {
            o.extend(x);
        }
        self.append(line);
    }

    /// A create: the spec with env values and probe header values masked.
    pub fn record_create(&self, p: &dyn Provider, spec: &CreateSpec, id: Option<&str>, result: &str) {
        let mut spec = spec.clone();
        for v in spec.envs.values_mut() {
            *v = "***".into();
        }
        let probes = spec.probes.take().map(|pr| masked_probes(&pr));
        let mut after = serde_json::to_value(&spec).unwrap_or(Value::Null);
        if let (Some(o), Some(pr)) = (after.as_object_mut(), probes) {
            o.insert("probes".into(), pr);
        }
        self.append(json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "account": p.account(),
            "provider": p.kind().label(),
            "deployment": { "id": id, "name": spec.name },
            "change": "create",
            "after": after,
            "result": result,
        }));
    }

    pub fn record_lifecycle(&self, p: &dyn Provider, req: &LifecycleRequest, result: &str) {
        self.append(json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "account": p.account(),
            "provider": p.kind().label(),
            "deployment": { "id": req.key.id, "name": req.name },
            "change": req.op.verb(),
            "result": result,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fresh directory under the temp dir, removed when the test ends, passed or not.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("infertop-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn lines_are_private_whole_and_rotated() {
        let scratch = Scratch::new("audit-unit");
        let dir = scratch.0.clone();
        let log = AuditLog::new(dir.join("state/audit.jsonl")).with_rotation(1000);
        for i in 0..30 {
            log.append(json!({"n": i, "pad": "x".repeat(90)}));
        }
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("state")), 0o700);
        assert_eq!(mode(log.path()), 0o600);
        assert_eq!(mode(&log.previous_path()), 0o600);
        let now = std::fs::read_to_string(log.path()).unwrap();
        let before = std::fs::read_to_string(log.previous_path()).unwrap();
        assert!(now.len() <= 1000 && before.len() <= 1000);
        // Every line whole, the newest last, and the two generations adjacent.
        let ns: Vec<i64> = before
            .lines()
            .chain(now.lines())
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["n"].as_i64().unwrap())
            .collect();
        assert_eq!(ns, ((30 - ns.len() as i64)..30).collect::<Vec<_>>());
        // A file someone made readable by others is tightened at the next line.
        std::fs::set_permissions(log.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        log.append(json!({"n": 30}));
        assert_eq!(mode(log.path()), 0o600);
    }

    /// A file holds as many whole lines as fit in its size, to the byte: ten lines fill a file of exactly ten
    /// lines' size with no rotation; the eleventh starts a new file and keeps the ten as the previous one.
    #[test]
    fn rotation_comes_when_a_line_would_pass_the_size_not_before() {
        let scratch = Scratch::new("audit-edge");
        let line = |n: u32| json!({"n": n, "pad": "x".repeat(83)});
        // One line as written (with what the log adds), to size the file to ten of them exactly.
        let probe = AuditLog::new(scratch.0.join("probe.jsonl"));
        probe.append(line(0));
        let len = std::fs::metadata(probe.path()).unwrap().len();
        let log = AuditLog::new(scratch.0.join("audit.jsonl")).with_rotation(10 * len);
        for n in 0..10 {
            log.append(line(n));
        }
        assert_eq!(std::fs::metadata(log.path()).unwrap().len(), 10 * len, "ten lines, one file");
        assert!(!log.previous_path().exists(), "no rotation while the lines fit");
        log.append(line(0));
        assert_eq!(std::fs::metadata(log.previous_path()).unwrap().len(), 10 * len);
        assert_eq!(std::fs::metadata(log.path()).unwrap().len(), len);
    }

    /// A line longer than the rotation size, written to an empty file, is written there: the empty file is
    /// not rotated over the previous one (which would lose it), and a whole write is no error.
    #[test]
    fn a_long_line_into_an_empty_file_keeps_the_previous_file() {
        let scratch = Scratch::new("audit-empty");
        std::fs::create_dir_all(&scratch.0).unwrap();
        let log = AuditLog::new(scratch.0.join("audit.jsonl")).with_rotation(10);
        std::fs::write(log.previous_path(), "old\n").unwrap();
        let line = b"{\"a line\": \"longer than ten bytes\"}\n";
        assert!(log.write_line(line).is_ok(), "a whole line written is no error");
        assert_eq!(std::fs::read_to_string(log.previous_path()).unwrap(), "old\n");
        assert_eq!(std::fs::read(log.path()).unwrap(), line);
    }

    /// Issue 25: the audit file is created 0600, not created readable and tightened after (for that moment
    /// another user could open it, and every new file would log a bogus "tightened"); one that others can
    /// read is tightened, and that is said. (Under a umask of 077 a wider creation mode would not show.)
    #[test]
    fn a_new_audit_file_is_created_private_and_a_wide_one_is_tightened() {
        let scratch = Scratch::new("audit-new");
        let dir = scratch.0.clone();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let (_, note) = crate::config::open_private_append(&path).unwrap();
        assert_eq!(note, None, "a new file needed no tightening");
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (_, note) = crate::config::open_private_append(&path).unwrap();
        assert!(note.as_deref().is_some_and(|n| n.contains("from mode 640 to 600")), "{note:?}");
        assert_eq!(mode(&path), 0o600);
    }

    /// The audit line of a probes edit holds the probes asked for, whole, with every header value masked
    /// (the secrets test only shows that no secret is there, which an empty line also passes).
    #[test]
    fn a_probes_edit_is_audited_whole_with_header_values_masked() {
        use crate::model::{DeploymentKey, HttpGetAction, Probe, ProbeConfig, ProviderKind, Status};
        let scratch = Scratch::new("audit-probes");
        let dir = scratch.0.clone();
        let log = AuditLog::new(dir.join("audit.jsonl"));
        // The real client of a demo account (only its name and kind are read: nothing is sent).
        let spec = crate::provider::demo_accounts("http://127.0.0.1:9").remove(0);
        let p = crate::provider::connect(&spec, reqwest::Client::new());
        let key = DeploymentKey {
            provider: ProviderKind::Gcore,
            account: spec.name.as_str().into(),
            id: "d".into(),
        };
        let dep = Deployment::new(key.clone(), "d", Status::Active);
        let http_get = HttpGetAction {
            path: "/health".into(),
            port: 8080,
            scheme: "HTTP".into(),
            host: None,
            headers: [("X-Token".to_string(), "s3cret".to_string())].into(),
        };
        let probes = Probes {
            readiness: Some(ProbeConfig {
                enabled: true,
                probe: Probe { http_get: Some(http_get), period_seconds: Some(7), ..Default::default() },
            }),
            ..Default::default()
        };
        let req = ApplyRequest {
            account: 0,
            key,
            name: "d".into(),
            change: Change::Probes(Arc::new(probes)),
            expected: Box::new(dep.clone()),
            source: None,
        };
        let refused = ApiError::new(ProviderKind::Gcore, ErrorKind::Validation, "no").with_status(422);
        log.record_edit(p.as_ref(), &req, Some(&dep), &Err(ApplyFailure::Api(refused)), None);
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!((&line["change"], &line["result"]), (&json!("probes"), &json!("refused")), "{line}");
        let asked = &line["asked"]["readiness"];
        assert_eq!(asked["probe"]["http_get"]["headers"]["X-Token"], "***", "{line}");
        assert_eq!(
            (&asked["probe"]["http_get"]["path"], &asked["probe"]["period_seconds"]),
            (&json!("/health"), &json!(7))
        );
        assert_eq!(line["before"]["readiness"], Value::Null, "none before: {line}");
        // An answer that never came is not a refusal: the outcome is "failed", with what happened.
        let lost = ApiError::new(ProviderKind::Gcore, ErrorKind::Timeout, "the request timed out");
        log.record_edit(p.as_ref(), &req, Some(&dep), &Err(ApplyFailure::Api(lost)), None);
        let text = std::fs::read_to_string(log.path()).unwrap();
        let line: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(line["result"], "failed", "{line}");
        assert!(line["message"].as_str().unwrap().contains("timed out"), "{line}");
    }
}
