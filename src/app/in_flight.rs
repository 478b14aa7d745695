//! Writes in flight: a start, stop, delete or edit sent and not confirmed yet marks its row (the table's status
//! cell and the details show it) until its outcome lands; `t`, `s`, `p`, `e` and delete on that row say what is
//! in flight and send nothing (a bulk change leaves it out).

use super::state::{InFlight, InFlightOp, State};
use super::update::{Effect, Msg};

/// A write's outcome landed (an edit's verified read-back, or a start/stop's after its read-back): it is no longer
/// in flight. Its own handler shows the outcome, a failure included.
pub(super) fn on_msg(state: &mut State, msg: &Msg) {
    if let Msg::Applied { key, .. } | Msg::Lifecycle { key, .. } = msg
        && state.in_flight.remove(key).is_some()
    {
        state.dirty = true;
    }
}

/// Every write about to be sent marks its row until its outcome lands (single, bulk, editor or model prompt).
pub(super) fn mark(state: &mut State, fx: &[Effect]) {
    for e in fx {
        let (key, op) = match e {
            Effect::Lifecycle(r) => (&r.key, InFlightOp::Lifecycle(r.op)),
            Effect::Apply(r) => (&r.key, InFlightOp::Edit(r.change.kind())),
            _ => continue,
        };
        state.in_flight.insert(key.clone(), InFlight { op, since: state.now });
        state.dirty = true;
    }
}

/// `t`, `s`, `p`, `e` or delete on a row with a write in flight: says what is in flight; true when refused.
pub(super) fn refused(state: &mut State) -> bool {
    let Some(row) = state.selected_row() else { return false };
    let Some(why) = state.in_flight_refusal(&row.dep.key, &row.dep.name) else { return false };
    state.flash = Some(why);
    state.dirty = true;
    true
}
