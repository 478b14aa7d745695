//! Another writer: a client of the same account that changes a deployment while infertop is between its read
//! and its write. `POST /_sim/another-writer {"provider": "gcore", "deployment": NAME, "after_reads": N}` arms
//! it: the deployment's next N one-deployment reads are answered as they are, and right before the one after
//! them is answered, another writer raises the minimum of its first region by one (and the maximum with it
//! when needed), as a PATCH from elsewhere would. Then it is disarmed. `GET /_sim/another-writer` lists what is
//! armed and what was done. Nothing happens unless a test arms it.
//!
//! A client that reads a deployment to plan a change and reads it again right before writing (the conflict
//! check) sees the change between the two reads: a test counts the reads its plan takes (the request log of a
//! `--dry-run`) and arms the writer after that many.

use super::SimState;
use crate::model::ProviderKind;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Mutex;

/// What is armed, and what was done.
#[derive(Debug, Default)]
pub struct AnotherWriter {
    armed: Mutex<Vec<Armed>>,
    done: Mutex<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Armed {
    provider: ProviderKind,
    name: String,
    /// The last path segment a read of it ends with: its name or id.
    keys: Vec<String>,
    reads_left: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    provider: String,
    deployment: String,
    #[serde(default)]
    after_reads: u32,
}

/// `POST /_sim/another-writer`.
pub async fn arm(State(state): State<SimState>, Json(a): Json<Arm>) -> Response {
    let Some(provider) = ProviderKind::parse(&a.provider) else {
        return (StatusCode::BAD_REQUEST, format!("unknown provider {:?}", a.provider)).into_response();
    };
    let Some(keys) = keys_of(&state, provider, &a.deployment) else {
        return (StatusCode::NOT_FOUND, format!("no {provider} deployment named {:?}", a.deployment))
            .into_response();
    };
    let armed = Armed { provider, name: a.deployment, keys, reads_left: a.after_reads };
    if let Ok(mut v) = state.another_writer.armed.lock() {
        v.push(armed);
    }
    listing(&state).into_response()
}

/// `GET /_sim/another-writer`.
pub async fn get(State(state): State<SimState>) -> Json<Value> {
    listing(&state)
}

fn listing(state: &SimState) -> Json<Value> {
    let w = &state.another_writer;
    let armed: Vec<Value> = w
        .armed
        .lock()
        .map(|v| {
            v.iter()
                .map(|a| json!({"provider": a.provider.label(), "deployment": a.name, "reads_left": a.reads_left}))
                .collect()
        })
        .unwrap_or_default();
    let done = w.done.lock().map(|d| d.clone()).unwrap_or_default();
    Json(json!({"armed": armed, "done": done}))
}

/// The name and id a one-deployment read of `name` may end with.
fn keys_of(state: &SimState, p: ProviderKind, name: &str) -> Option<Vec<String>> {
    match p {
        ProviderKind::Gcore => {
            let st = state.gcore.lock().ok()?;
            let d = st.deployments.iter().find(|d| d.name == name)?;
            Some(vec![d.name.clone(), d.id.clone()])
        }
        ProviderKind::Sesterce => {
            let st = state.sesterce.lock().ok()?;
            let i = st.instances.iter().find(|i| i.name == name)?;
            Some(vec![i.id.clone()])
        }
        ProviderKind::Runai => {
            let st = state.runai.lock().ok()?;
            let w = st.workloads.iter().find(|w| w.name == name)?;
            Some(vec![w.id.clone()])
        }
    }
}

/// Raises the first region's minimum by one (and the maximum with it when it would be below).
fn write(state: &SimState, a: &Armed) {
    let raise = |min: &mut u32, max: &mut u32| {
        *min += 1;
        *max = (*max).max(*min);
    };
    match a.provider {
        ProviderKind::Gcore => {
            if let Ok(mut st) = state.gcore.lock()
                && let Some(d) = st.deployments.iter_mut().find(|d| d.name == a.name)
                && let Some(c) = d.containers.first_mut()
            {
                raise(&mut c.min, &mut c.max);
                d.resync();
            }
        }
        ProviderKind::Sesterce => {
            if let Ok(mut st) = state.sesterce.lock()
                && let Some(i) = st.instances.iter_mut().find(|i| i.name == a.name)
                && let Some(c) = i.containers.first_mut()
            {
                raise(&mut c.scale.min, &mut c.scale.max);
                i.refresh_desired();
            }
        }
        ProviderKind::Runai => {
            if let Ok(mut st) = state.runai.lock()
                && let Some(w) = st.workloads.iter_mut().find(|w| w.name == a.name)
            {
                let (mut min, mut max) = w.bounds();
                raise(&mut min, &mut max);
                w.spec["autoscaling"]["minReplicas"] = json!(min);
                w.spec["autoscaling"]["maxReplicas"] = json!(max);
                w.updating = true;
            }
        }
    }
    if let Ok(mut d) = state.another_writer.done.lock() {
        d.push(format!("{} {}: min +1 in its first region", a.provider.label(), a.name));
    }
}

/// The middleware: counts the one-deployment reads of an armed deployment, and writes before the one due.
pub async fn before_reads(State(state): State<SimState>, req: Request, next: Next) -> Response {
    if req.method() == Method::GET
        && let Some(p) = super::faults::provider_of(req.uri().path())
        && super::faults::is_deployment_get(p, req.uri().path())
    {
        let last = req.uri().path().rsplit('/').next().unwrap_or_default().to_string();
        let due = match state.another_writer.armed.lock() {
            Ok(mut v) => match v.iter().position(|a| a.provider == p && a.keys.contains(&last)) {
                Some(i) if v[i].reads_left == 0 => Some(v.remove(i)),
                Some(i) => {
                    v[i].reads_left -= 1;
                    None
                }
                None => None,
            },
            Err(_) => None,
        };
        if let Some(a) = due {
            write(&state, &a);
        }
    }
    next.run(req).await
}
