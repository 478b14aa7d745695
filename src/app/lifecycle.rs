//! Start, stop and delete: which one `t` means and what the confirm prompt says, both decided from the
//! freshest record of the deployment (the newer of the list row and the detail fetch), in the provider's
//! own terms.

use super::input::LineInput;
use super::state::{Confirm, LifecycleOp, Mode, State, toast};
use super::update::Effect;
use crate::model::text::sanitize;
use crate::model::{Deployment, DeploymentKey, ProviderKind};
use crate::provider::ApiError;

pub use crate::model::lifecycle::toggle_op;
use crossterm::event::{KeyCode, KeyEvent};

/// A start, stop or delete the user confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRequest {
    pub account: usize,
    pub key: DeploymentKey,
    pub name: String,
    pub op: LifecycleOp,
}

pub(super) fn open_confirm(state: &mut State, op: LifecycleOp, dep: &Deployment, account: usize) {
    state.mode = Mode::Confirm(Confirm {
        op,
        key: dep.key.clone(),
        account,
        name: dep.name.clone(),
        what: describe(op, dep),
        input: LineInput::default(),
    });
}

/// A key while the confirm prompt is open. `y` checks the deployment again: if it moved while the prompt
/// was open, nothing is sent.
pub(super) fn on_confirm_key(state: &mut State, mut c: Confirm, key: KeyEvent, fx: &mut Vec<Effect>) {
    state.dirty = true;
    match (c.op, key.code) {
        (_, KeyCode::Esc) | (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('n')) => {
            state.flash = Some(format!("{} cancelled", c.op.verb()));
        }
        (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('y'))
        | (LifecycleOp::Delete, KeyCode::Enter)
            if let Some(why) = state.in_flight_refusal(&c.key, &c.name) =>
        {
            state.flash = Some(why);
        }
        (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('y'))
            if let Some(now) = state.index.get(&c.key).map(|&i| state.snapshot(&state.rows[i]))
                && toggle_op(now) != Ok(c.op) =>
        {
            // The deployment moved while the prompt was open: what was asked no longer fits.
            state.flash =
                Some(format!("{} is {} now: nothing sent (press t again)", c.name, now.status.label()));
        }
        (LifecycleOp::Start | LifecycleOp::Stop, KeyCode::Char('y')) => {
            fx.push(Effect::Lifecycle(LifecycleRequest {
                account: c.account,
                key: c.key,
                name: c.name,
                op: c.op,
            }));
        }
        (LifecycleOp::Delete, KeyCode::Enter) => {
            if c.input.value() == c.name {
                fx.push(Effect::Lifecycle(LifecycleRequest {
                    account: c.account,
                    key: c.key,
                    name: c.name,
                    op: c.op,
                }));
            } else {
                state.flash = Some("the name does not match: nothing deleted".into());
            }
        }
        (LifecycleOp::Delete, _) => {
            c.input.handle(key);
            state.mode = Mode::Confirm(c);
        }
        _ => state.mode = Mode::Confirm(c),
    }
}

/// The outcome of a start, stop or delete: the account is refreshed to show it.
pub(super) fn on_result(
    state: &mut State,
    key: DeploymentKey,
    name: String,
    op: LifecycleOp,
    result: Result<(), ApiError>,
    fx: &mut Vec<Effect>,
) {
    match result {
        Ok(()) => {
            state.flash = Some(format!("{} {}: done", op.verb(), name));
            fx.push(Effect::Refresh(state.index.get(&key).map(|&i| state.rows[i].account)));
        }
        Err(e) => toast(state, format!("{} {name} failed: {e}", op.verb())),
    }
    state.dirty = true;
}

/// The prompt's sentence: what will be sent and what the provider then does, with the state it is in now.
pub fn describe(op: LifecycleOp, dep: &Deployment) -> String {
    let name = sanitize(&dep.name);
    let now = format!("now {}, {}/{} ready", dep.status.label(), dep.ready(), dep.total());
    let regions = dep.regions.len();
    match (dep.key.provider, op) {
        (ProviderKind::Gcore, LifecycleOp::Stop) => format!(
            "Stop {name}? Gcore stops it in {regions} region(s): DISABLED, not accepting any requests \
             ({now})."
        ),
        (ProviderKind::Gcore, LifecycleOp::Start) => {
            format!("Start {name}? Gcore starts it again in {regions} region(s), out of DISABLED ({now}).")
        }
        (ProviderKind::Gcore, LifecycleOp::Delete) => {
            format!("Delete {name}? Gcore deletes the deployment in {regions} region(s) ({now}).")
        }
        (ProviderKind::Sesterce, LifecycleOp::Stop) => {
            format!("Stop {name}? Sesterce stops the inference instance; it stops serving ({now}).")
        }
        (ProviderKind::Sesterce, LifecycleOp::Start) => {
            format!("Start {name}? Sesterce starts the stopped inference instance again ({now}).")
        }
        (ProviderKind::Sesterce, LifecycleOp::Delete) => {
            format!("Delete {name}? Sesterce deletes the inference instance ({now}).")
        }
        (ProviderKind::Runai, LifecycleOp::Delete) => {
            format!("Delete {name}? Run:ai deletes the inference workload and its pods ({now}).")
        }
        (ProviderKind::Runai, op) => format!("{} {name}? ({now})", op.verb()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeploymentKey, Status};

    fn dep(p: ProviderKind, status: Status) -> Deployment {
        let key = DeploymentKey { provider: p, account: "a".into(), id: "1".into() };
        Deployment::new(key, "llama", status)
    }

    #[test]
    fn t_starts_a_stopped_deployment_stops_a_running_one_and_waits_on_a_moving_one() {
        assert_eq!(toggle_op(&dep(ProviderKind::Gcore, Status::Disabled)), Ok(LifecycleOp::Start));
        assert_eq!(toggle_op(&dep(ProviderKind::Gcore, Status::Active)), Ok(LifecycleOp::Stop));
        assert_eq!(toggle_op(&dep(ProviderKind::Gcore, Status::ScaledToZero)), Ok(LifecycleOp::Stop));
        assert!(toggle_op(&dep(ProviderKind::Gcore, Status::Deleting)).is_err());
    }

    #[test]
    fn prompts_use_the_providers_terms() {
        let s = describe(LifecycleOp::Stop, &dep(ProviderKind::Gcore, Status::Active));
        assert!(s.starts_with("Stop llama?") && s.contains("DISABLED") && s.contains("now ACTIVE"), "{s}");
        let s = describe(LifecycleOp::Start, &dep(ProviderKind::Sesterce, Status::Disabled));
        assert!(s.contains("Sesterce starts the stopped inference instance"), "{s}");
    }
}
