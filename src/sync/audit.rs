//! The audit file: one JSON line per applied change (time, account, deployment, fields before and after,
//! result). It never holds a secret: credentials are not part of any section, probe header values are masked,
//! and env values are not recorded (a create records their names only).

use crate::app::{ApplyFailure, ApplyRequest, Landed, LifecycleRequest};
use crate::model::edit::Change;
use crate::model::{CreateSpec, Deployment, Probes, ScaleUpdate};
use crate::provider::{ApiError, Applied, ErrorKind, Provider};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

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
    }
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog { path, lock: Arc::new(Mutex::new(())) }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn append(&self, line: Value) {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::error!(path = %self.path.display(), error = %e, "could not write the audit file");
        }
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
        let extra = match outcome {
            Ok(Landed { applied, not_taken }) if !not_taken.is_empty() => json!({
                "result": "partial",
                "not_taken": not_taken.iter().map(|n| n.to_json()).collect::<Vec<_>>(),
                "after": section_of(applied.deployment()),
            }),
            Ok(Landed { applied, .. }) => json!({
                "result": match applied {
                    Applied::Done(_) => "applied",
                    Applied::NoChange(_) => "no change",
                },
                "after": section_of(applied.deployment()),
            }),
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
