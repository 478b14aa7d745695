//! Start, stop and delete: which one a deployment's state allows, decided from a fresh record (the dashboard's
//! `t`, its bulk `t`, and `infertop start` / `infertop stop` use this one rule).

use super::text::sanitize;
use super::{Deployment, Status};

/// Start, stop or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleOp {
    Start,
    Stop,
    Delete,
}

impl LifecycleOp {
    pub fn verb(self) -> &'static str {
        match self {
            LifecycleOp::Start => "start",
            LifecycleOp::Stop => "stop",
            LifecycleOp::Delete => "delete",
        }
    }
}

/// What `t` does for a deployment in this state: start, stop, or nothing (and why).
pub fn toggle_op(dep: &Deployment) -> Result<LifecycleOp, String> {
    let name = sanitize(&dep.name);
    match &dep.status {
        Status::Disabled | Status::Stopped => Ok(LifecycleOp::Start),
        s @ (Status::Stopping
        | Status::Deleting
        | Status::PhaseDeleting
        | Status::Deleted
        | Status::Terminating) => Err(format!("{name} is {}: nothing to start or stop yet", s.label())),
        _ => Ok(LifecycleOp::Stop),
    }
}
