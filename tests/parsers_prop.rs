//! Parsers never panic. Random JSON, mutated copies of every seed example and mutated copies of real simulator
//! answers go to every wire type of the three providers and through every conversion into the model (and the
//! model's own summaries and validation); the same texts, cut short, go to every type from bytes; the error
//! parsers get every body too. Then the clients themselves run every call against a loopback proxy that
//! mutates the simulator's answers. Errors are fine; a panic, or a call that never ends, fails the test and
//! names the input.
//!
//! `PROPTEST_CASES` raises the number of cases of every test here (CI runs the defaults).

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::openapi::seed_json_examples;
use futures::FutureExt;
use infertop::model::{
    self, Deployment, HttpGetAction, Probe, ProbeConfig, ProbeSlot, Probes, ProviderKind, ScaleUpdate,
    Status, text, validate,
};
use infertop::provider::http::{RetryPolicy, build_client, retry_after};
use infertop::provider::{
    AccountSpec, ApiResult, GcoreApi, LogQuery, MetricsQuery, Provider, demo_accounts, gcore, runai, sesterce,
};
use infertop::sim::rng::Rng;
use infertop::sim::{self, SimConfig, SimHandle};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const SEEDS: [&str; 5] = [
    "000_b220e6409c3ab2b4.txt",
    "001_51b3ba8dd45b9c92.txt",
    "002_302b424bce316269.txt",
    "003_365ee16a0720ec7b.txt",
    "004_044379b10d40206f.txt",
];

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default)
}

// ------------------------------------------------------------------------------------------------ inputs

/// Every JSON example of every seed document.
fn seed_examples() -> &'static [Value] {
    static CELL: OnceLock<Vec<Value>> = OnceLock::new();
    CELL.get_or_init(|| {
        let all: Vec<Value> = SEEDS.iter().flat_map(|s| seed_json_examples(s)).collect();
        assert!(all.len() >= 20, "the seeds should give many examples, got {}", all.len());
        all
    })
}

/// Every JSON body the simulator sent while the clients made every call once (no mutation).
fn sim_tape() -> &'static [Value] {
    static CELL: OnceLock<Vec<Value>> = OnceLock::new();
    CELL.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let tape = rt.block_on(async {
            let mut tape = Vec::new();
            for target in Target::ALL {
                let run = run_case(target, 0, 0.0).await;
                assert!(run.panicked.is_none(), "{:?}", run.panicked);
                // Unmutated, the calls that the provider offers all work, and the dashboard shows the fleet.
                let drawn = run.results.iter().find(|(c, _)| *c == "dashboard").map(|(_, r)| r.clone());
                assert!(drawn.clone().is_some_and(|r| r.is_ok_and(|t| !t.starts_with("0 "))), "{drawn:?}");
                for (call, r) in &run.results {
                    let unsupported = r.as_ref().is_err_and(|e| e.contains("does not offer"));
                    assert!(r.is_ok() || unsupported, "{target:?} {call} failed unmutated: {r:?}");
                }
                tape.extend(run.bodies);
            }
            tape
        });
        assert!(tape.len() >= 40, "the simulator tape should hold many bodies, got {}", tape.len());
        tape
    })
}

/// Object keys seen in the seeds, so that random objects hit real fields.
fn vocabulary() -> &'static [String] {
    static CELL: OnceLock<Vec<String>> = OnceLock::new();
    CELL.get_or_init(collect_keys)
}

fn collect_keys() -> Vec<String> {
    let mut keys = std::collections::BTreeSet::new();
    fn walk(v: &Value, keys: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    keys.insert(k.clone());
                    walk(c, keys);
                }
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, keys)),
            _ => {}
        }
    }
    for v in seed_examples() {
        walk(v, &mut keys);
    }
    keys.into_iter().collect()
}

const ODD_TEXTS: &[&str] = &[
    "",
    " ",
    "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{7}",
    "\0",
    "\r\n\t",
    "\u{202e}evil\u{2066}",
    "\u{9b}31m",
    "🦀 llama-3 ✓",
    "e\u{301}\u{301}\u{301}",
    "\u{feff}\u{ffff}\u{10ffff}",
    "null",
    "-1",
    "4294967296",
    "18446744073709551616",
    "1e999",
    "NaN",
    "inf",
    "0.5",
    "9999-12-31T23:59:59.999999999+14:00",
    "+262143-12-31T23:59:59Z",
    "-262144-01-01T00:00:00Z",
    "262144-01-01T00:00:00Z",
    "2024-02-30T25:61:61Z",
    "0000-00-00 00:00:00",
    "2023-06-06 12:09:18.2113456789123",
    "2023-06-06T12:09:18+99:99",
    "2023-06-06T12:09",
    "FROBNICATING",
    "ACTIVE",
    "Running",
    "Unknown",
    "Inference",
    "FINISHED",
    "ERROR",
    "memory",
    "portion",
    "../../x",
    "a/b?c#d%2F",
    "http://evil.example/\u{0}",
];

fn odd_numbers() -> Vec<Value> {
    vec![
        json!(u64::MAX),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u32::MAX as u64 + 1),
        json!(u32::MAX),
        json!(-1),
        json!(-2_147_483_649i64),
        json!(1e308),
        json!(-1e308),
        json!(1e-300),
        json!(0.5),
        json!(-0.0),
        json!(9_007_199_254_740_993u64),
        json!(0),
    ]
}

fn long_text() -> String {
    "x\u{1b}".repeat(5000)
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        3 => select(ODD_TEXTS).prop_map(str::to_string),
        1 => Just(long_text()),
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(vocabulary().to_vec()), 1 => "[a-zA-Z_]{1,10}", 1 => any::<String>()]
}

/// Any JSON value, biased towards real field names and odd numbers and strings.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        select(odd_numbers()),
        arb_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 200, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((arb_key(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

// --------------------------------------------------------------------------------------------- mutations

#[derive(Debug, Clone)]
enum Mutation {
    /// Removes a key of an object.
    DropKey,
    Null,
    /// Gives the value another JSON type.
    ChangeType(u8),
    Number(Value),
    Text(String),
    /// Wraps the value in this many arrays (true) or objects (false).
    Nest(usize, bool),
    Replace(Value),
    /// Repeats an item of an array, or an array's worth of a value.
    Duplicate,
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::DropKey),
        3 => Just(Mutation::Null),
        3 => (0u8..8).prop_map(Mutation::ChangeType),
        3 => select(odd_numbers()).prop_map(Mutation::Number),
        3 => arb_text().prop_map(Mutation::Text),
        1 => (1usize..150, any::<bool>()).prop_map(|(d, a)| Mutation::Nest(d, a)),
        2 => arb_json().prop_map(Mutation::Replace),
        1 => Just(Mutation::Duplicate),
    ]
}

/// The same kinds of mutation, drawn from a seeded generator (for the mutating proxy).
fn random_mutation(rng: &mut Rng) -> Mutation {
    match rng.range(0, 19) {
        0..=2 => Mutation::DropKey,
        3..=5 => Mutation::Null,
        6..=8 => Mutation::ChangeType(rng.range(0, 7) as u8),
        9..=11 => Mutation::Number(rng.pick(&odd_numbers()).clone()),
        12..=14 => Mutation::Text(rng.pick(ODD_TEXTS).to_string()),
        15 => Mutation::Nest(rng.range(1, 150) as usize, rng.unit() < 0.5),
        16..=17 => Mutation::Replace(small_random_json(rng, 3)),
        _ => Mutation::Duplicate,
    }
}

fn small_random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.range(0, if depth == 0 { 3 } else { 5 }) {
        0 => Value::Null,
        1 => rng.pick(&odd_numbers()).clone(),
        2 => Value::String(rng.pick(ODD_TEXTS).to_string()),
        3 => Value::Bool(rng.unit() < 0.5),
        4 => Value::Array((0..rng.range(0, 4)).map(|_| small_random_json(rng, depth - 1)).collect()),
        _ => {
            let keys = vocabulary();
            Value::Object(
                (0..rng.range(0, 4))
                    .map(|_| (rng.pick(keys).clone(), small_random_json(rng, depth - 1)))
                    .collect(),
            )
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Idx(usize),
}

fn paths(v: &Value, cur: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(cur.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                cur.push(Step::Key(k.clone()));
                paths(c, cur, out);
                cur.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                cur.push(Step::Idx(i));
                paths(c, cur, out);
                cur.pop();
            }
        }
        _ => {}
    }
}

fn at_ref<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.get(k)?,
            Step::Idx(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

fn at_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.as_object_mut()?.get_mut(k)?,
            Step::Idx(i) => cur.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Applies `m` at the node `at` picks (in document order).
fn mutate(v: &mut Value, at: usize, m: &Mutation) {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    if let Mutation::DropKey = m {
        let keyed: Vec<&Vec<Step>> = all.iter().filter(|p| matches!(p.last(), Some(Step::Key(_)))).collect();
        if keyed.is_empty() {
            return;
        }
        let p = keyed[at % keyed.len()];
        let (Some(Step::Key(k)), parent) = (p.last(), &p[..p.len() - 1]) else { return };
        if let Some(Value::Object(o)) = at_mut(v, parent) {
            o.remove(k);
        }
        return;
    }
    // Numbers and texts replace values of their own kind when there are any: those get past the type checks
    // and reach the conversions.
    let same_kind: Vec<&Vec<Step>> = match m {
        Mutation::Number(_) => all.iter().filter(|p| at_ref(v, p).is_some_and(Value::is_number)).collect(),
        Mutation::Text(_) => all.iter().filter(|p| at_ref(v, p).is_some_and(Value::is_string)).collect(),
        _ => Vec::new(),
    };
    let p = if same_kind.is_empty() { &all[at % all.len()] } else { same_kind[at % same_kind.len()] };
    let Some(node) = at_mut(v, p) else { return };
    let old = node.take();
    *node = match m {
        Mutation::DropKey => old,
        Mutation::Null => Value::Null,
        Mutation::ChangeType(k) => change_type(old, *k),
        Mutation::Number(n) => n.clone(),
        Mutation::Text(t) => Value::String(t.clone()),
        Mutation::Nest(depth, arrays) => {
            let mut x = old;
            for _ in 0..*depth {
                x = if *arrays { Value::Array(vec![x]) } else { json!({ "value": x }) };
            }
            x
        }
        Mutation::Replace(r) => r.clone(),
        Mutation::Duplicate => match old {
            Value::Array(mut a) if !a.is_empty() => {
                let first = a[0].clone();
                a.extend(std::iter::repeat_n(first, 50));
                Value::Array(a)
            }
            other => Value::Array(vec![other; 3]),
        },
    };
}

fn change_type(v: Value, k: u8) -> Value {
    match (v, k) {
        (Value::Number(n), 0) => Value::String(n.to_string()),
        (Value::String(s), 0) => s.trim().parse::<f64>().ok().map(Value::from).unwrap_or(json!(0)),
        (Value::Object(o), 0) => Value::Array(o.into_iter().map(|(_, v)| v).collect()),
        (Value::Array(a), 0) => {
            Value::Object(a.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect())
        }
        (Value::Bool(b), 0) => Value::String(b.to_string()),
        (Value::Null, 0) => json!({}),
        (_, 1) => json!([]),
        (_, 2) => json!({}),
        (_, 3) => json!(""),
        (_, 4) => json!(true),
        (_, 5) => json!(1.5),
        (v, 6) => Value::String(v.to_string()),
        (v, _) => Value::Array(vec![v]),
    }
}

// -------------------------------------------------------------------------------------------- decoders

/// A decoder: reads a value as one wire type and, when that works, converts it into the model and looks at
/// the result the way the dashboard does.
type Decoder = (&'static str, fn(&Value), fn(&[u8]));

macro_rules! dec {
    ($name:literal, $t:ty, $conv:expr) => {
        (
            $name,
            (|v: &Value| {
                if let Ok(x) = serde_json::from_value::<$t>(v.clone()) {
                    let conv: fn(&$t, &Value) = $conv;
                    conv(&x, v);
                    black_box(format!("{x:?}"));
                }
            }) as fn(&Value),
            (|b: &[u8]| {
                if let Ok(x) = serde_json::from_slice::<$t>(b) {
                    let conv: fn(&$t, &Value) = $conv;
                    conv(&x, &serde_json::from_slice(b).unwrap_or(Value::Null));
                }
            }) as fn(&[u8]),
        )
    };
}

/// What the dashboard reads of a deployment: labels, sums, summaries, and the validation an edit runs.
fn touch(d: &Deployment) {
    black_box((d.status.label(), d.health(), d.ready(), d.total(), format!("{d:?}")));
    black_box((text::sanitize(&d.name), d.image.as_deref().map(text::sanitize)));
    for r in &d.regions {
        black_box((r.display_name(), r.scale.triggers.summary()));
    }
    if let Some(p) = &d.probes {
        for slot in ProbeSlot::ALL {
            if let Some(c) = p.get(slot) {
                black_box((c.probe.summary(), c.probe.kind()));
            }
        }
        black_box(validate::probes(d.key.provider, p));
    }
    let u = ScaleUpdate::from_deployment(d);
    black_box(validate::scale_update(d.key.provider, &u));
    black_box(validate::deployment_name(d.key.provider, &d.name).is_ok());
}

fn gcore_names() -> &'static gcore::convert::RegionNames {
    static CELL: OnceLock<gcore::convert::RegionNames> = OnceLock::new();
    CELL.get_or_init(|| [("7".to_string(), "Luxembourg".to_string())].into_iter().collect())
}

fn sesterce_names() -> &'static sesterce::convert::Names {
    static CELL: OnceLock<sesterce::convert::Names> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut n = sesterce::convert::Names::default();
        n.hardware.insert("h1".into(), "L40S".into());
        n.regions.insert("18".into(), "Helsinki".into());
        n.models.insert("m1".into(), "llama".into());
        n
    })
}

/// A client for `update_body`, which builds the PATCH from the details it read (no request is sent).
fn sesterce_client() -> &'static sesterce::SesterceClient {
    static CELL: OnceLock<sesterce::SesterceClient> = OnceLock::new();
    CELL.get_or_init(|| {
        let spec = demo_accounts("http://127.0.0.1:9").into_iter().find(|a| a.kind == ProviderKind::Sesterce);
        sesterce::SesterceClient::new(&spec.unwrap(), reqwest::Client::new())
    })
}

fn sesterce_updates(w: &sesterce::wire::InstanceDetails) {
    let d = sesterce::convert::details("a", w, sesterce_names());
    touch(&d);
    let mut u = ScaleUpdate::from_deployment(&d);
    let _ = black_box(
        sesterce_client().update_body(w, &u, sesterce_names()).map(|b| serde_json::to_value(b).ok()),
    );
    for r in &mut u.regions {
        r.scale.max = r.scale.max.saturating_add(1);
        r.scale.triggers.cpu = Some(50);
    }
    u.regions.push(model::RegionScale { region_id: "18".into(), scale: Default::default() });
    let _ = black_box(
        sesterce_client().update_body(w, &u, sesterce_names()).map(|b| serde_json::to_value(b).ok()),
    );
}

fn metric_ranges() -> [(DateTime<Utc>, DateTime<Utc>, u32); 4] {
    let t0 = Utc.with_ymd_and_hms(2023, 6, 6, 12, 0, 0).unwrap();
    [
        (t0, t0 + chrono::Duration::minutes(4), 5),
        (t0, t0, 1),
        (t0 + chrono::Duration::hours(1), t0, 0),
        (DateTime::<Utc>::UNIX_EPOCH, t0, 1000),
    ]
}

fn decoders() -> Vec<Decoder> {
    use gcore::{convert as gc, wire as gw};
    use runai::{convert as rc, wire as rw};
    use sesterce::{convert as sc, wire as sw};
    vec![
        // ---------------------------------------------------------------- gcore
        dec!("gcore Deployment", gw::Deployment, |d, _| touch(&gc::deployment_v3(
            d,
            "a",
            gcore_names(),
            true
        ))),
        dec!("gcore DeploymentV2", gw::DeploymentV2, |d, _| touch(&gc::deployment_v2(
            d,
            "a",
            gcore_names(),
            true
        ))),
        dec!("gcore Page<Deployment>", gw::Page<gw::Deployment>, |p, _| p
            .results
            .iter()
            .for_each(|d| touch(&gc::deployment_v3(d, "a", gcore_names(), false)))),
        dec!("gcore Page<DeploymentV2>", gw::Page<gw::DeploymentV2>, |p, _| p
            .results
            .iter()
            .for_each(|d| touch(&gc::deployment_v2(d, "a", gcore_names(), false)))),
        dec!("gcore Container", gw::Container, |c, _| {
            black_box(gc::region(c, gcore_names()).display_name());
        }),
        dec!("gcore Scale", gw::Scale, |s, raw| {
            let m = gc::scale(s);
            black_box(gc::triggers_json(&m.triggers, raw.get("triggers")));
            black_box(validate::scale(ProviderKind::Gcore, "s", &m));
        }),
        dec!("gcore Triggers", gw::Triggers, |t, raw| {
            let m = gc::triggers(t);
            black_box((gc::triggers_json(&m, Some(raw)), m.summary()));
        }),
        dec!("gcore Probes", gw::Probes, |p, _| {
            let m = gc::probes(p);
            for slot in ProbeSlot::ALL {
                if let Some(c) = m.get(slot) {
                    black_box(gc::probe_config_json(c));
                }
            }
            black_box(validate::probes(ProviderKind::Gcore, &m));
        }),
        dec!("gcore Probe", gw::Probe, |p, _| {
            let m = gc::probe(p);
            black_box((gc::probe_json(&m), m.summary()));
        }),
        dec!("gcore Logging", gw::Logging, |l, _| {
            black_box(gc::logging(l));
        }),
        dec!("gcore LogLine", gw::LogLine, |l, _| {
            black_box(gc::log_line(l, Some("7")));
        }),
        dec!("gcore LogsV2", gw::LogsV2, |l, _| l.clone().into_lines().iter().for_each(|l| {
            black_box(gc::log_line(l, None));
        })),
        dec!("gcore Page<LogLine>", gw::Page<gw::LogLine>, |p, _| p.results.iter().for_each(|l| {
            black_box(gc::log_line(l, None));
        })),
        dec!("gcore Flavor", gw::Flavor, |f, _| {
            black_box(gc::hardware(f));
        }),
        dec!("gcore Page<Flavor>", gw::Page<gw::Flavor>, |p, _| p.results.iter().for_each(|f| {
            black_box(gc::hardware(f));
        })),
        dec!("gcore Page<RegionCapacity>", gw::Page<gw::RegionCapacity>, |_, _| {}),
        dec!("gcore RegionCapacity", gw::RegionCapacity, |_, _| {}),
        dec!("gcore Page<Region>", gw::Page<gw::Region>, |_, _| {}),
        dec!("gcore Region", gw::Region, |_, _| {}),
        dec!("gcore PricePreview", gw::PricePreview, |_, _| {}),
        dec!("gcore Task", gw::Task, |_, _| {}),
        dec!("gcore TaskIds", gw::TaskIds, |_, _| {}),
        dec!("gcore ErrorBody", gw::ErrorBody, |_, _| {}),
        dec!("gcore Command", gw::Command, |c, _| {
            black_box(gc::command_text(c));
        }),
        dec!("gcore RetentionPolicy", gw::RetentionPolicy, |_, _| {}),
        // ---------------------------------------------------------------- sesterce
        dec!("sesterce InstanceSummary", sw::InstanceSummary, |s, _| touch(&sc::summary("a", s))),
        dec!("sesterce Vec<InstanceSummary>", Vec<sw::InstanceSummary>, |l, _| l
            .iter()
            .for_each(|s| touch(&sc::summary("a", s)))),
        dec!("sesterce InstanceDetails", sw::InstanceDetails, |d, _| sesterce_updates(d)),
        dec!("sesterce Container", sw::Container, |c, _| {
            black_box((sc::region_id_text(&c.region_id), sc::scale(&c.scale)));
        }),
        dec!("sesterce ScaleWire", sw::ScaleWire, |s, _| {
            let mut m = sc::scale(s);
            black_box(serde_json::to_value(sc::apply_scale(s, &m)).ok());
            m.max = m.max.saturating_add(1);
            m.triggers.http = Some(model::HttpTrigger { rate: 1, window: 60 });
            black_box(serde_json::to_value(sc::apply_scale(s, &m)).ok());
            black_box(sc::new_scale(&m));
            black_box(validate::scale(ProviderKind::Sesterce, "s", &m));
        }),
        dec!("sesterce TriggersWire", sw::TriggersWire, |_, _| {}),
        dec!("sesterce Hardware", sw::Hardware, |h, _| {
            black_box(sc::hardware(h));
        }),
        dec!("sesterce Region", sw::Region, |r, _| {
            black_box(sc::region_info(r, sesterce_names()));
        }),
        dec!("sesterce Model", sw::Model, |_, _| {}),
        dec!("sesterce Registry", sw::Registry, |_, _| {}),
        dec!("sesterce PricingResponse", sw::PricingResponse, |_, _| {}),
        dec!("sesterce ErrorBody", sw::ErrorBody, |e, _| {
            black_box(e.messages());
        }),
        dec!("sesterce UpdateInstance", sw::UpdateInstance, |u, _| {
            black_box(serde_json::to_value(u).ok());
        }),
        dec!("sesterce CreateInstance", sw::CreateInstance, |_, _| {}),
        // ---------------------------------------------------------------- runai
        dec!("runai Inference", rw::Inference, |i, _| touch(&rc::deployment("a", i, None, None))),
        dec!("runai Workload", rw::Workload, |w, _| {
            if let Some(d) = rc::from_workload("a", w) {
                touch(&d);
            }
            touch(&rc::deployment("a", &rw::Inference::default(), Some(w), Some(&[])));
        }),
        dec!("runai WorkloadsPage", rw::WorkloadsPage, |p, _| p.workloads.iter().for_each(|w| {
            if let Some(d) = rc::from_workload("a", w) {
                touch(&d);
            }
        })),
        dec!("runai PodsPage", rw::PodsPage, |p, _| touch(&rc::deployment(
            "a",
            &rw::Inference::default(),
            None,
            Some(&p.pods)
        ))),
        dec!("runai AutoScaling", rw::AutoScaling, |a, _| {
            let s = rc::scale(Some(a));
            black_box((validate::scale(ProviderKind::Runai, "s", &s), s.triggers.summary()));
        }),
        dec!("runai Compute", rw::Compute, |c, _| {
            black_box(rc::hardware(c));
        }),
        dec!("runai EnvironmentVariables", Vec<Option<rw::EnvironmentVariable>>, |l, _| {
            black_box(rc::envs(l));
        }),
        dec!("runai Probes", rw::Probes, |p, _| {
            let m = rc::probes(Some(p));
            black_box(validate::probes(ProviderKind::Runai, &m));
        }),
        dec!("runai Probe", rw::Probe, |p, _| {
            black_box(rc::probe(p).summary());
        }),
        dec!("runai MetricsResponse", rw::MetricsResponse, |m, _| {
            for (start, end, n) in metric_ranges() {
                black_box(rc::series(m, start, end, n));
            }
        }),
        dec!("runai InferenceSpec", rw::InferenceSpec, |_, _| {}),
        dec!("runai TokenResponse", rw::TokenResponse, |_, _| {}),
        dec!("runai OAuth2Error", rw::OAuth2Error, |_, _| {}),
        dec!("runai ErrorBody", rw::ErrorBody, |_, _| {}),
        dec!("runai HttpResponse", rw::HttpResponse, |_, _| {}),
        dec!("runai InferenceCreationRequest", rw::InferenceCreationRequest, |_, _| {}),
    ]
}

/// The three reads of a Run:ai deployment, each from the same value (their fields do not overlap much, so one
/// mutated body exercises all three at once).
fn runai_three_reads(v: &Value) {
    use runai::{convert as rc, wire as rw};
    let inf: Option<rw::Inference> = serde_json::from_value(v.clone()).ok();
    let wl: Option<rw::Workload> = serde_json::from_value(v.clone()).ok();
    let pods: Option<rw::PodsPage> = serde_json::from_value(v.clone()).ok();
    if let Some(inf) = inf {
        touch(&rc::deployment("a", &inf, wl.as_ref(), pods.as_ref().map(|p| p.pods.as_slice())));
    }
}

/// Every string in the value goes through the functions that read network text on its own.
fn strings(v: &Value) {
    match v {
        Value::String(s) => {
            black_box((
                gcore::convert::parse_time(s),
                sesterce::convert::parse_time(s),
                runai::wire::parse_time(s),
                text::sanitize(s),
                Status::from_gcore(s).label(),
                Status::from_runai(s).label(),
                sesterce::convert::region_id_json(s),
                runai::convert::metric_unit(s),
            ));
            if let Ok(h) = reqwest::header::HeaderValue::from_str(s) {
                let mut m = reqwest::header::HeaderMap::new();
                m.insert("retry-after", h.clone());
                black_box(retry_after(&m));
                m.insert("retry-after-ms", h);
                black_box(retry_after(&m));
            }
        }
        Value::Array(a) => a.iter().for_each(strings),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            black_box(text::sanitize(k));
            strings(v);
        }),
        _ => {}
    }
}

fn error_parsers(b: &[u8]) {
    for status in [400u16, 401, 403, 404, 409, 422, 429, 500, 503, 207, 0, 999] {
        for e in [
            gcore::parse_error(ProviderKind::Gcore, status, b),
            sesterce::parse_error(ProviderKind::Sesterce, status, b),
            runai::parse_error(ProviderKind::Runai, status, b),
        ] {
            black_box((e.to_string(), e.is_transient()));
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 3000 {
        format!("{}… ({} bytes)", s.chars().take(3000).collect::<String>(), s.len())
    } else {
        s
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Feeds a value to every decoder, as a value and as text, plus the string readers and the error parsers.
/// Returns the first panic, naming the decoder and the input.
fn feed(v: &Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(v).unwrap();
    for (name, from_value, from_bytes) in decoders() {
        quietly(|| from_value(v))
            .map_err(|p| format!("{name} panicked ({}) on {}", panic_text(p), short(v)))?;
        quietly(|| from_bytes(&bytes))
            .map_err(|p| format!("{name} (from text) panicked ({}) on {}", panic_text(p), short(v)))?;
    }
    quietly(|| runai_three_reads(v))
        .map_err(|p| format!("runai three reads panicked ({}) on {}", panic_text(p), short(v)))?;
    quietly(|| strings(v))
        .map_err(|p| format!("a string reader panicked ({}) on {}", panic_text(p), short(v)))?;
    quietly(|| error_parsers(&bytes))
        .map_err(|p| format!("an error parser panicked ({}) on {}", panic_text(p), short(v)))?;
    Ok(())
}

/// Feeds raw bytes (a cut text, say) to every decoder and the error parsers.
fn feed_bytes(b: &[u8]) -> Result<(), String> {
    let shown = || String::from_utf8_lossy(&b[..b.len().min(3000)]).into_owned();
    for (name, _, from_bytes) in decoders() {
        quietly(|| from_bytes(b))
            .map_err(|p| format!("{name} panicked ({}) on bytes {}", panic_text(p), shown()))?;
    }
    quietly(|| error_parsers(b))
        .map_err(|p| format!("an error parser panicked ({}) on bytes {}", panic_text(p), shown()))?;
    Ok(())
}

/// Mutates a copy of `base`, feeds it, then feeds its text cut at `cut`.
fn mutated_feed(base: &Value, muts: &[(Index, Mutation)], cut: Option<Index>) -> Result<(), String> {
    let mut v = base.clone();
    for (at, m) in muts {
        mutate(&mut v, at.index(usize::MAX), m);
    }
    feed(&v)?;
    if let Some(cut) = cut {
        let text = serde_json::to_vec(&v).unwrap();
        feed_bytes(&text[..cut.index(text.len().max(1))])?;
    }
    Ok(())
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic. The panic is reported with its input by the caller; the default hook would
/// print each one as well (and proptest may see hundreds), so it is silenced for this thread meanwhile
/// (`PARSERS_PROP_VERBOSE=1` shows them).
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    install_quiet_hook();
    let _quiet = Quiet::on();
    catch_unwind(AssertUnwindSafe(f))
}

/// Silences the panic hook on this thread until dropped (also when a panic unwinds through).
struct Quiet;

impl Quiet {
    fn on() -> Quiet {
        QUIET.with(|q| q.set(true));
        Quiet
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(false));
    }
}

fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) || std::env::var_os("PARSERS_PROP_VERBOSE").is_some() {
                default(info);
            }
        }));
    });
}

// ------------------------------------------------------------------------------- wire types and conversion

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn random_json_never_panics_a_parser(v in arb_json()) {
        if let Err(e) = feed(&v) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn random_bytes_never_panic_a_parser(b in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = feed_bytes(&b) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn mutated_seed_examples_never_panic_a_parser(
        which in any::<Index>(),
        muts in prop::collection::vec((any::<Index>(), arb_mutation()), 1..6),
        cut in prop::option::of(any::<Index>()),
    ) {
        let seeds = seed_examples();
        if let Err(e) = mutated_feed(&seeds[which.index(seeds.len())], &muts, cut) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn mutated_simulator_answers_never_panic_a_parser(
        which in any::<Index>(),
        muts in prop::collection::vec((any::<Index>(), arb_mutation()), 1..6),
        cut in prop::option::of(any::<Index>()),
    ) {
        let tape = sim_tape();
        if let Err(e) = mutated_feed(&tape[which.index(tape.len())], &muts, cut) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Every seed example and every simulator answer, unmutated, goes through every decoder (the mutations above
/// start from these, so each must at least be readable as itself).
#[test]
fn every_seed_example_and_simulator_answer_as_is() {
    for v in seed_examples().iter().chain(sim_tape()) {
        feed(v).unwrap();
    }
}

// -------------------------------------------------------------------------------------- client end to end

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    GcoreV3,
    GcoreV2,
    Sesterce,
    Runai,
}

impl Target {
    const ALL: [Target; 4] = [Target::GcoreV3, Target::GcoreV2, Target::Sesterce, Target::Runai];

    fn kind(self) -> ProviderKind {
        match self {
            Target::GcoreV3 | Target::GcoreV2 => ProviderKind::Gcore,
            Target::Sesterce => ProviderKind::Sesterce,
            Target::Runai => ProviderKind::Runai,
        }
    }
}

/// A loopback proxy in front of the simulator that mutates its answers (at `rate`, from a seeded generator)
/// and records every JSON body the simulator sent.
struct MutatingProxy {
    base: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MutatingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct ProxyState {
    target: String,
    http: reqwest::Client,
    seed: u64,
    rate: f64,
    counter: Arc<AtomicU64>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl MutatingProxy {
    async fn start(target: String, seed: u64, rate: f64) -> MutatingProxy {
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let st = ProxyState {
            target,
            http: reqwest::Client::new(),
            seed,
            rate,
            counter: Arc::default(),
            bodies: bodies.clone(),
        };
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let st = st.clone();
            async move { proxy(st, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MutatingProxy { base: format!("http://{addr}"), bodies, task }
    }
}

async fn proxy(st: ProxyState, req: axum::extract::Request) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let method = req.method().clone();
    let pq = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap_or_default();
    let mut rb = st.http.request(method, format!("{}{pq}", st.target)).body(body.to_vec());
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    let Ok(resp) = rb.send().await else { return StatusCode::BAD_GATEWAY.into_response() };
    let mut status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    let mut bytes = resp.bytes().await.unwrap_or_default().to_vec();
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    if let Some(v) = &parsed {
        st.bodies.lock().unwrap().push(v.clone());
    }
    let n = st.counter.fetch_add(1, Ordering::Relaxed);
    let mut rng = Rng::derive(st.seed, &format!("request-{n}"));
    let mut extra: Option<(&'static str, &'static str)> = None;
    if st.rate > 0.0 && rng.unit() < st.rate {
        match rng.range(0, 19) {
            // Cut the text short.
            0..=1 => {
                let cut = rng.range(0, bytes.len() as u64) as usize;
                bytes.truncate(cut);
            }
            // A body that is not JSON, or nothing.
            2 => bytes = b"<html>\x1b[2Jbad gateway</html>".to_vec(),
            3 => bytes.clear(),
            // A refusal with an odd Retry-After.
            4 => {
                status = if rng.unit() < 0.5 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::TOO_MANY_REQUESTS
                };
                let v =
                    *rng.pick(&["NaN", "-1", "1e999", "0.001", "3600", "Wed, 21 Oct 2015 07:28:00 GMT", "x"]);
                extra = Some(if rng.unit() < 0.5 { ("retry-after", v) } else { ("retry-after-ms", v) });
            }
            // Any JSON in place of the answer.
            5 => bytes = serde_json::to_vec(&small_random_json(&mut rng, 4)).unwrap(),
            // Mutations of the real answer.
            _ => {
                if let Some(mut v) = parsed {
                    for _ in 0..rng.range(1, 4) {
                        let m = random_mutation(&mut rng);
                        mutate(&mut v, rng.next_u64() as usize, &m);
                    }
                    bytes = serde_json::to_vec(&v).unwrap();
                }
            }
        }
    }
    let mut out = (status, bytes).into_response();
    if let Some(ct) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some((k, v)) = extra
        && let Ok(v) = HeaderValue::from_str(v)
    {
        out.headers_mut().insert(k, v);
    }
    out
}

/// The outcome of one case: each call's result (a value is summarised, an error is its text), the bodies
/// the simulator sent, and the first panic.
struct CaseRun {
    results: Vec<(&'static str, Result<String, String>)>,
    bodies: Vec<Value>,
    panicked: Option<String>,
}

fn spec_for(target: Target, base: &str) -> AccountSpec {
    let mut spec = demo_accounts(base).into_iter().find(|a| a.kind == target.kind()).unwrap();
    if target == Target::GcoreV2 {
        spec.gcore_api = GcoreApi::V2;
    }
    // One quick retry, so that the retry path runs too; a long Retry-After is reported, not waited for.
    spec.retry = RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(50),
    };
    spec.rate_limit = infertop::provider::http::RateLimit::unlimited();
    spec
}

fn http() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(10))
}

async fn start_sim() -> SimHandle {
    // Every call works unmutated: the readings under which each one is served (the others are tested in
    // tests/ambiguities.rs).
    let ambiguities = sim::ambiguity::Ambiguities::default()
        .with(sim::ambiguity::SESTERCE_NO_MODEL, "keeps")
        .with(sim::ambiguity::RUNAI_METRICS, "served");
    let config = SimConfig { time_scale: 0.0, ambiguities, ..Default::default() };
    sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn probes_edit() -> Probes {
    Probes {
        readiness: Some(ProbeConfig {
            enabled: true,
            probe: Probe {
                http_get: Some(HttpGetAction {
                    path: "/ready".into(),
                    port: 8000,
                    scheme: "HTTP".into(),
                    host: None,
                    headers: Default::default(),
                }),
                period_seconds: Some(7),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// Runs one case: a fresh simulator, a proxy mutating at `rate` with `seed`, and every call of the client.
async fn run_case(target: Target, seed: u64, rate: f64) -> CaseRun {
    let sim = start_sim().await;
    // The deployment to work on, read straight from the simulator.
    let direct = infertop::provider::connect(&spec_for(target, &sim.base_url()), http());
    let listed = direct.list().await.expect("the simulator lists");
    let mut pick = Rng::derive(seed, "pick");
    let first = pick.pick(&listed).clone();
    let full = direct.get(&first.key.id).await.expect("the simulator answers a get");
    let id = full.key.id.clone();
    let mut update = ScaleUpdate::from_deployment(&full);
    if let Some(r) = update.regions.first_mut() {
        r.scale.max = r.scale.max.saturating_add(1).max(r.scale.min);
    }
    let pod = full.pods.first().cloned();

    let proxy = MutatingProxy::start(sim.base_url(), seed, rate).await;
    let spec = spec_for(target, &proxy.base);
    let mut results: Vec<(&'static str, Result<String, String>)> = Vec::new();
    let mut panicked = None;

    macro_rules! call {
        ($name:literal, $fut:expr) => {
            if panicked.is_none() {
                let fut = AssertUnwindSafe(async { summarise($fut.await) }).catch_unwind();
                match tokio::time::timeout(Duration::from_secs(60), fut).await {
                    Ok(Ok(r)) => results.push(($name, r)),
                    Ok(Err(p)) => {
                        panicked = Some(format!("{target:?} {} panicked: {}", $name, panic_text(p)))
                    }
                    Err(_) => panicked = Some(format!("{target:?} {} did not end within 60 s", $name)),
                }
            }
        };
    }

    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let metrics = MetricsQuery { start: t0 - chrono::Duration::hours(1), end: t0, samples: 30, pod: None };
    let all_logs = LogQuery::default();
    let probes = probes_edit();
    let logs = LogQuery { limit: 50, region_id: full.regions.first().map(|r| r.region_id.clone()) };
    match target {
        Target::GcoreV3 | Target::GcoreV2 => {
            let c = gcore::GcoreClient::new(&spec, http())
                .with_task_poll_interval(Duration::from_millis(1))
                .with_task_timeout(Duration::from_secs(2));
            call!("list", c.list());
            call!("get", c.get(&id));
            call!("regions", c.regions());
            call!("hardware", c.hardware());
            call!("logs", c.logs(&id, &logs));
            call!("logs (all regions)", c.logs(&id, &all_logs));
            call!("metrics", c.metrics(&id, &metrics));
            call!("price_preview", c.price_preview("inference-4vcpu-16gib", &[(7, 2)]));
            call!("update_scale", c.update_scale(&id, &update));
            call!("update_probes", c.update_probes(&id, &probes));
            call!("stop", c.stop(&id));
            call!("start", c.start(&id));
            if target == Target::GcoreV3 {
                let body = json!({
                    "name": format!("fuzz-{}", seed % 100_000), "image": "nginx:latest", "listening_port": 80,
                    "flavor_name": "inference-4vcpu-16gib",
                    "containers": [{"region_id": 38, "scale": {"min": 1, "max": 2}}]
                });
                call!("create", c.create(&body));
            }
            call!("delete", c.delete(&id));
        }
        Target::Sesterce => {
            let d = sesterce::SesterceClient::new(&spec_for(target, &sim.base_url()), http());
            let hardware = d.hardwares().await.unwrap().into_iter().find_map(|h| h.id).unwrap();
            let model_id = d.models().await.unwrap().into_iter().find_map(|m| m.id);
            let c = sesterce::SesterceClient::new(&spec, http());
            call!("list", c.list());
            call!("get", c.get(&id));
            call!("regions", c.regions());
            call!("hardware", c.hardware());
            call!("logs", c.logs(&id, &logs));
            call!("metrics", c.metrics(&id, &metrics));
            call!("price_preview", c.price_preview(&hardware, &[("18", 2)]));
            call!("update_scale", c.update_scale(&id, &update));
            call!("update_probes", c.update_probes(&id, &probes));
            call!("stop", c.stop(&id));
            call!("start", c.start(&id));
            let new = sesterce::NewInstance {
                name: "fuzz".into(),
                model_id,
                hardware_id: hardware.clone(),
                container_port: 8000,
                regions: update.regions.clone(),
                ..Default::default()
            };
            call!("create", c.create(&new));
            call!("delete", c.delete(&id));
        }
        Target::Runai => {
            let c = runai::RunaiClient::new(&spec, http()).with_page_size(3);
            call!("list", c.list());
            call!("get", c.get(&id));
            call!("regions", c.regions());
            call!("hardware", c.hardware());
            call!("logs", c.logs(&id, &logs));
            call!("metrics", c.metrics(&id, &metrics));
            let pod_metrics = MetricsQuery { pod: pod.clone(), ..metrics.clone() };
            call!("metrics (pod)", c.metrics(&id, &pod_metrics));
            call!("update_scale", c.update_scale(&id, &update));
            call!("update_probes", c.update_probes(&id, &probes));
            call!("stop", c.stop(&id));
            call!("start", c.start(&id));
            let req = runai::wire::InferenceCreationRequest {
                name: "fuzz".into(),
                project_id: "1".into(),
                cluster_id: full.regions.first().map(|r| r.region_id.clone()).unwrap_or_default(),
                spec: Some(json!({"image": "vllm/vllm-openai:v0.6.3", "servingPort": {"container": 8000}})),
                ..Default::default()
            };
            call!("create", c.create(&req));
            call!("delete", c.delete(&id));
        }
    }
    // What the dashboard does with such answers: into the state through `update`, then drawn, every pane at
    // two sizes.
    if panicked.is_none() {
        let p = infertop::provider::connect(&spec, http());
        let dash = AssertUnwindSafe(dashboard(p, id.clone(), logs.clone(), metrics.clone())).catch_unwind();
        match tokio::time::timeout(Duration::from_secs(60), dash).await {
            Ok(Ok(rows)) => results.push(("dashboard", Ok(format!("{rows} rows drawn")))),
            Ok(Err(p)) => panicked = Some(format!("{target:?} dashboard panicked: {}", panic_text(p))),
            Err(_) => panicked = Some(format!("{target:?} dashboard did not end within 60 s")),
        }
    }
    let bodies = proxy.bodies.lock().unwrap().clone();
    CaseRun { results, bodies, panicked }
}

/// Returns the number of rows the table had.
async fn dashboard(p: Arc<dyn Provider>, id: String, logs: LogQuery, metrics: MetricsQuery) -> usize {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use infertop::app::{AccountState, Msg, State, update};
    let now = metrics.end;
    let mut state = State::new(vec![AccountState::of(p.as_ref())], Duration::from_secs(5), now);
    let key = |state: &mut State, c: KeyCode| {
        update(state, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    };
    update(&mut state, Msg::Resize(80, 24));
    update(&mut state, Msg::Fleet { account: 0, at: now, result: p.list().await });
    key(&mut state, KeyCode::Char('g'));
    if let Some(pos) = state.view.iter().position(|&i| state.rows[i].dep.key.id == id) {
        for _ in 0..pos {
            key(&mut state, KeyCode::Char('j'));
        }
    }
    if let Some(k) = state.selected_row().map(|r| r.dep.key.clone()) {
        update(&mut state, Msg::Detail { key: k.clone(), at: now, result: p.get(&k.id).await.map(Box::new) });
        update(&mut state, Msg::Logs { key: k.clone(), at: now, result: p.logs(&k.id, &logs).await });
        update(
            &mut state,
            Msg::Metrics { key: k.clone(), at: now, result: p.metrics(&k.id, &metrics).await },
        );
    }
    for (w, h) in [(80u16, 24u16), (160, 48), (20, 5)] {
        update(&mut state, Msg::Resize(w, h));
        for _ in 0..6 {
            let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
            term.draw(|f| infertop::ui::draw(f, &state)).unwrap();
            key(&mut state, KeyCode::Tab);
        }
    }
    state.rows.len()
}

/// A call's result in words: enough to see in a failure report, and it makes the value be looked at.
trait Summary {
    fn summary(&self) -> String;
}

impl Summary for Vec<Deployment> {
    fn summary(&self) -> String {
        self.iter().for_each(touch);
        format!("{} deployments", self.len())
    }
}

impl Summary for Deployment {
    fn summary(&self) -> String {
        touch(self);
        format!("{} {}", self.key.id, self.status.label())
    }
}

impl Summary for infertop::provider::Applied {
    fn summary(&self) -> String {
        self.deployment().summary()
    }
}

impl Summary for () {
    fn summary(&self) -> String {
        "ok".into()
    }
}

macro_rules! debug_summary {
    ($($t:ty),*) => {$(
        impl Summary for $t {
            fn summary(&self) -> String {
                let s = format!("{self:?}");
                s.chars().take(120).collect()
            }
        }
    )*};
}

debug_summary!(
    Vec<model::RegionInfo>,
    Vec<model::HardwareInfo>,
    Vec<model::LogLine>,
    infertop::provider::MetricsResult,
    gcore::wire::PricePreview,
    sesterce::PricePreview
);

fn summarise<T: Summary>(r: ApiResult<T>) -> Result<String, String> {
    match r {
        Ok(v) => Ok(v.summary()),
        Err(e) => Err(e.to_string()),
    }
}

fn run_cases(target: Target, n: u32) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config { cases: n, failure_persistence: None, ..Config::default() });
    install_quiet_hook();
    let outcome = runner.run(&any::<u64>(), |seed| {
        let run = {
            let _quiet = Quiet::on();
            rt.block_on(run_case(target, seed, 0.5))
        };
        if let Some(p) = run.panicked {
            return Err(TestCaseError::fail(format!("seed {seed}: {p}")));
        }
        prop_assert!(!run.results.is_empty());
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn gcore_v3_client_survives_mutated_answers() {
    run_cases(Target::GcoreV3, cases(40));
}

#[test]
fn gcore_v2_client_survives_mutated_answers() {
    run_cases(Target::GcoreV2, cases(40));
}

#[test]
fn sesterce_client_survives_mutated_answers() {
    run_cases(Target::Sesterce, cases(40));
}

#[test]
fn runai_client_survives_mutated_answers() {
    run_cases(Target::Runai, cases(40));
}

/// The mutating proxy does mutate: at rate 1 some calls fail that work unmutated (so the tests above would
/// see a panic if the clients had one to give).
#[tokio::test]
async fn the_proxy_really_mutates() {
    let run = run_case(Target::Sesterce, 7, 1.0).await;
    assert!(run.panicked.is_none(), "{:?}", run.panicked);
    let failed = run.results.iter().filter(|(_, r)| r.is_err()).count();
    assert!(failed >= 3, "{:?}", run.results);
}

// ------------------------------------------------------------------------------ regressions (one per fix)

/// A stand-in server: each request gets the answer of the first route whose path prefix matches (the
/// longest prefixes should come first); every path and query asked is recorded.
struct Canned {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Canned {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Canned {
    async fn start(routes: Vec<(&'static str, u16, Value)>) -> Canned {
        use axum::response::IntoResponse;
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        let routes = Arc::new(routes);
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (log, routes) = (log.clone(), routes.clone());
            async move {
                let path = req.uri().path().to_string();
                log.lock().unwrap().push(req.uri().to_string());
                match routes.iter().find(|(prefix, _, _)| path.starts_with(prefix)) {
                    Some((_, status, body)) => {
                        (axum::http::StatusCode::from_u16(*status).unwrap(), axum::Json(body.clone()))
                            .into_response()
                    }
                    None => axum::http::StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Canned { base: format!("http://{addr}"), seen, task }
    }
}

/// Found by `runai_client_survives_mutated_answers`: a token whose `expires_in` is huge made the token cache
/// add it to `Instant::now()`, which panics on overflow.
#[tokio::test]
async fn runai_token_with_a_huge_lifetime_is_kept_a_day() {
    for expires_in in [json!(i64::MAX), json!(u64::MAX), json!(1e300), json!("9223372036854775807")] {
        let server = Canned::start(vec![
            ("/api/v2/token", 200, json!({"access_token": "tok", "expires_in": expires_in})),
            (
                "/api/v1/workloads",
                200,
                json!({"workloads": [{"id": "w1", "name": "llm", "type": "Inference", "phase": "Running"}]}),
            ),
        ])
        .await;
        let c = runai::RunaiClient::new(&spec_for(Target::Runai, &server.base), http());
        let list = c.list().await.unwrap();
        assert_eq!(list.len(), 1);
        c.list().await.unwrap();
        let tokens = server.seen.lock().unwrap().iter().filter(|p| p.starts_with("/api/v2/token")).count();
        assert_eq!(tokens, 1, "the token is cached (expires_in {expires_in})");
    }
}

/// Found by `gcore_v2_client_survives_mutated_answers`: two regions with `u32::MAX` replicas made the
/// deployment's ready/total sums overflow (a panic in a debug build, a wrong count in release).
#[test]
fn replica_sums_saturate() {
    let w: gcore::wire::Deployment = serde_json::from_value(json!({
        "name": "x",
        "containers": [
            {"region_id": 1, "deploy_status": {"ready": i64::MAX, "total": i64::MAX}},
            {"region_id": 2, "deploy_status": {"ready": 4294967295u64, "total": 5}}
        ]
    }))
    .unwrap();
    let d = gcore::convert::deployment_v3(&w, "a", gcore_names(), true);
    assert_eq!((d.ready(), d.total()), (u32::MAX, u32::MAX));
}

/// A server whose `count` is never reached (each page is full, the offset ignored) no longer keeps the Gcore
/// client reading pages for ever: it stops with an error at the first page that repeats an earlier one (one
/// more may be sent alongside it).
#[tokio::test]
async fn gcore_list_that_never_ends_is_an_error() {
    let item = json!({"name": "loop", "status": "ACTIVE", "containers": []});
    let server = Canned::start(vec![
        ("/cloud/v1/regions", 200, json!({"count": 0, "results": []})),
        ("/cloud/v3/inference/", 200, json!({"count": u64::MAX, "results": [item]})),
    ])
    .await;
    let c = gcore::GcoreClient::new(&spec_for(Target::GcoreV3, &server.base), http());
    let e = c.list().await.unwrap_err();
    assert!(e.message.contains("did not end: page 2 repeats items of earlier pages"), "{e}");
    let pages = server.seen.lock().unwrap().iter().filter(|p| p.starts_with("/cloud/v3/")).count();
    assert!((2..=3).contains(&pages), "{pages} pages");
}

/// Run:ai ids come from the network: one holding `/`, `?` or `#` stays one path segment instead of asking
/// for another path.
#[tokio::test]
async fn runai_ids_are_one_path_segment() {
    let server = Canned::start(vec![
        ("/api/v2/token", 200, json!({"access_token": "tok", "expires_in": 3600})),
        ("/api/v1/workloads/", 404, json!({"code": 404, "message": "no such workload"})),
    ])
    .await;
    let c = runai::RunaiClient::new(&spec_for(Target::Runai, &server.base), http());
    let e = c.delete("a/b?c#d").await.unwrap_err();
    assert_eq!(e.status, Some(404));
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(
        seen.last().map(String::as_str),
        Some("/api/v1/workloads/inferences/a%2Fb%3Fc%23d"),
        "{seen:?}"
    );
}
