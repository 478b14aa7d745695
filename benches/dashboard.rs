//! Dashboard benchmarks: frame time at fleet scale, one filter keystroke, and the bytes one change costs a
//! terminal. Criterion measures; the figures go to `target/bench-summary.json` (see `common`).

mod common;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use infertop::app::{AccountState, Msg, State, update};
use infertop::model::{Deployment, DeploymentKey, ProviderKind, RegionReplicas, Scale, Status, Triggers};
use infertop::provider::Capabilities;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn caps(per_region: bool) -> Capabilities {
    Capabilities {
        update_scale: true,
        update_probes: true,
        start_stop: true,
        delete: true,
        logs: per_region,
        metrics: !per_region,
        logging_config: per_region,
        per_region_scale: per_region,
        pricing: false,
        create: false,
    }
}

pub fn fleet(n: usize) -> Vec<Vec<Deployment>> {
    let mut per = vec![Vec::new(), Vec::new(), Vec::new()];
    let created = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    for i in 0..n {
        let a = i % 3;
        let provider = ProviderKind::ALL[a];
        let key = DeploymentKey {
            provider,
            account: format!("{provider}-bench").into(),
            id: format!("dep-{i:05}"),
        };
        let status = if i % 7 == 0 { Status::PartiallyDeployed } else { Status::Active };
        let mut d = Deployment::new(
            key,
            format!("model-{}-{i:05}", ["llama", "mistral", "bge", "whisper"][i % 4]),
            status,
        );
        d.image = Some(infertop::model::intern(&format!(
            "registry.example.com/inference/image-{}:1.{}",
            i % 50,
            i % 9
        )));
        d.hardware = Some("inference-16vcpu-232gib-1xh100-80gb".into());
        d.created_at = Some(created);
        d.price_per_hour = Some(1.5);
        for r in 0..(1 + i % 3) {
            d.regions.push(RegionReplicas {
                region_id: format!("{}", 7 + r),
                region_name: Some(["Luxembourg-2", "Amsterdam", "Santa Clara"][r].into()),
                ready: (i % 4) as u32,
                total: 3,
                scale: Scale {
                    min: 1,
                    max: 4,
                    triggers: Triggers { cpu: Some(80), ..Default::default() },
                    ..Default::default()
                },
                error: None,
            });
        }
        per[a].push(d);
    }
    per
}

pub fn loaded_state(n: usize, w: u16, h: u16) -> State {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let accounts = ProviderKind::ALL
        .iter()
        .map(|p| AccountState::new(format!("{p}-bench"), *p, caps(*p != ProviderKind::Runai)))
        .collect();
    let mut state = State::new(accounts, Duration::from_secs(5), now);
    update(&mut state, Msg::Resize(w, h));
    for (i, deps) in fleet(n).into_iter().enumerate() {
        update(&mut state, Msg::Fleet { account: i, at: now, result: Ok(deps) });
    }
    state
}

fn frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_200x50");
    for n in [10usize, 1_000, 10_000] {
        let state = loaded_state(n, 200, 50);
        let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                term.draw(|f| infertop::ui::draw(f, &state)).unwrap();
            })
        });
    }
    g.finish();
}

fn filter_keystroke(c: &mut Criterion) {
    let mut state = loaded_state(10_000, 200, 50);
    update(&mut state, Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)));
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut toggle = false;
    c.bench_function("filter_keystroke_10000", |b| {
        b.iter(|| {
            // Type one character, or delete it: each iteration is one keystroke's update and draw.
            let code = if toggle { KeyCode::Backspace } else { KeyCode::Char('7') };
            toggle = !toggle;
            update(&mut state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            term.draw(|f| infertop::ui::draw(f, &state)).unwrap();
        })
    });
}

/// One refresh of every account at 10,000 deployments: what `update` does with the three lists, the fleet's
/// cost summed again included (the lists' clones are made outside the measurement).
fn fleet_refresh(c: &mut Criterion) {
    let mut state = loaded_state(10_000, 200, 50);
    let now = state.now;
    let lists = fleet(10_000);
    c.bench_function("fleet_refresh_10000", |b| {
        b.iter_batched(
            || lists.clone(),
            |lists| {
                for (i, deps) in lists.into_iter().enumerate() {
                    update(&mut state, Msg::Fleet { account: i, at: now, result: Ok(deps) });
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

/// A writer that counts bytes.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.lock().unwrap() += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One frame as `tui::draw` writes it: inside a synchronized update.
fn sync_draw(term: &mut Terminal<CrosstermBackend<Counter>>, out: &mut Counter, state: &State) {
    crossterm::execute!(out, crossterm::terminal::BeginSynchronizedUpdate).unwrap();
    term.draw(|f| infertop::ui::draw(f, state)).unwrap();
    crossterm::execute!(out, crossterm::terminal::EndSynchronizedUpdate).unwrap();
}

/// Bytes written to a real crossterm backend: a full repaint, then the frame after one region's ready count
/// changes.
pub fn ssh_weight() -> (usize, usize) {
    let mut state = loaded_state(1_000, 200, 50);
    let mut counter = Counter::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut term = Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 200, 50)),
        },
    )
    .unwrap();
    sync_draw(&mut term, &mut counter, &state);
    let full = *counter.0.lock().unwrap();
    // One region of the selected deployment gains a ready replica.
    let now = state.now;
    let mut deps: Vec<Deployment> =
        state.rows.iter().filter(|r| r.account == 0).map(|r| (*r.dep).clone()).collect();
    let sel = state.selected_row().unwrap().dep.key.clone();
    let d = deps.iter_mut().find(|d| d.key == sel).unwrap();
    d.regions[0].ready = (d.regions[0].ready + 1) % 4;
    update(&mut state, Msg::Fleet { account: 0, at: now, result: Ok(deps) });
    *counter.0.lock().unwrap() = 0;
    sync_draw(&mut term, &mut counter, &state);
    let delta = *counter.0.lock().unwrap();
    (full, delta)
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = frame, filter_keystroke, fleet_refresh, row_details
}

/// Reads criterion's median estimate (ns) for a benchmark id.
fn median_ns(id: &str) -> Option<f64> {
    let path = common::target_dir().join(format!("criterion/{id}/new/estimates.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// One batch of details reads at 10,000 deployments, as the sweep sends them every 100 ms during a change
/// storm: two rows whose status moved. What `update` does with it (the resort and refilter included).
fn row_details(c: &mut Criterion) {
    let mut state = loaded_state(10_000, 200, 50);
    let now = state.now;
    let deps: Vec<Deployment> = fleet(10_000).swap_remove(0).into_iter().take(2).collect();
    let mut toggle = false;
    c.bench_function("row_details_10000", |b| {
        b.iter_batched(
            || {
                toggle = !toggle;
                let status = if toggle { Status::Degraded } else { Status::Active };
                deps.iter()
                    .map(|d| {
                        let mut d = d.clone();
                        d.status = status.clone();
                        infertop::app::RowDetail {
                            key: d.key.clone(),
                            version: "v".into(),
                            result: Ok(Box::new(d)),
                        }
                    })
                    .collect::<Vec<_>>()
            },
            |items| update(&mut state, Msg::RowDetails { account: 0, at: now, items }),
            criterion::BatchSize::SmallInput,
        )
    });
}

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    let (full, delta) = ssh_weight();
    let mut summary = common::Summary::default();
    println!("\nsummary");
    let mut frames = Vec::new();
    for n in [10, 1000, 10000] {
        if let Some(ns) = median_ns(&format!("frame_200x50/{n}")) {
            summary.row(&format!("frame_200x50_{n}_median"), ns / 1e6, "ms");
            frames.push(ns);
        }
    }
    if frames.len() == 3 {
        summary.row("frame_ratio_10000_over_10", frames[2] / frames[0], "x");
    }
    if let Some(ns) = median_ns("filter_keystroke_10000") {
        summary.row("filter_keystroke_10000_median", ns / 1e6, "ms");
    }
    if let Some(ns) = median_ns("fleet_refresh_10000") {
        summary.row("fleet_refresh_10000_median", ns / 1e6, "ms");
    }
    if let Some(ns) = median_ns("row_details_10000") {
        summary.row("row_details_10000_median", ns / 1e6, "ms");
    }
    summary.row("ssh_bytes_one_region_change_200x50", delta as f64, "bytes");
    summary.row("ssh_bytes_full_repaint_200x50", full as f64, "bytes");
    summary.write("dashboard");
}
