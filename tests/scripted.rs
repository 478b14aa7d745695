//! Scripted fleet changes (issue 24): `infertop scale`, `stop` and `start` through the real binary against a
//! real `infertop sim` over loopback, on the four provider paths (Gcore v3, Gcore v2, Sesterce, Run:ai). They
//! take the dashboard's path: a fresh read, the conflict check, the write, the read-back, one audit line each,
//! marked as coming from the command line. The simulator's request log shows what was sent; another writer
//! between a read and a write is the simulator's `another-writer` switch, never a special case here. Waits are
//! bounded; nothing asserts on time.

mod common;

use common::temp::TempDir;
use common::tmux::{BIN, Sim, sim_accounts_config, sim_credentials, start_sim};
use common::wire::{accounts_with_v2, assert_only_max_changed, raw_deployment};
use infertop::model::{Deployment, ScaleUpdate};
use infertop::provider::{AccountSpec, connect};
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};

/// One deployment per provider path: (the config's account, the index of its spec in [`accounts_with_v2`],
/// name).
const FOUR: [(&str, usize, &str); 4] = [
    ("gcore-sim", 0, "llama-3-70b-chat"),
    ("gcore-v2", 3, "mistral-7b-support"),
    ("sesterce-sim", 1, "deepseek-r1-distill"),
    ("runai-sim", 2, "nim-llama-3-8b"),
];

/// The dashboard's filter for [`FOUR`], each on its own path (the filter matches `provider account name …`).
const FOUR_FILTER: &str = "^gcore gcore-sim llama-3-70b-chat |^gcore gcore-v2 mistral-7b-support |^sesterce \
                           sesterce-sim deepseek-r1-distill |^runai runai-sim nim-llama-3-8b ";

/// A directory with a config of the simulator's accounts plus a Gcore account on the v2 API.
struct Env {
    dir: TempDir,
    sim: Sim,
    specs: Vec<AccountSpec>,
}

impl Env {
    fn new(tag: &str, sim_args: &[&str]) -> Env {
        let sim = start_sim(&[&["--static"], sim_args].concat());
        let dir = TempDir::new("scripted", tag);
        let v2 = format!(
            "\n[[account]]\nname = \"gcore-v2\"\nprovider = \"gcore\"\napi = \"v2\"\nbase_url = \"{}\"\n\
             project_id = 1\napi_key_env = \"SCRIPTED_GCORE_KEY\"\n",
            sim.url
        );
        let config = sim_accounts_config(&sim.url, "SCRIPTED") + &v2;
        std::fs::write(dir.0.join("config.toml"), config).unwrap();
        let specs = accounts_with_v2(&sim.url);
        Env { dir, sim, specs }
    }

    fn config(&self) -> String {
        self.dir.0.join("config.toml").display().to_string()
    }

    /// The binary with `args`, the config, no terminal on stdin.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .args(["--config", &self.config()])
            .env_remove("INFERTOP_CONFIG")
            .env("HOME", &self.dir.0)
            .env("XDG_STATE_HOME", self.dir.0.join("state"))
            .envs(sim_credentials("SCRIPTED"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.0.join("state/infertop/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every request the simulator logged so far.
    fn requests(&self) -> Vec<String> {
        reqwest::blocking::get(format!("{}/_sim/requests", self.sim.url)).unwrap().json().unwrap()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.sim.url))
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.text().unwrap());
        resp.json().unwrap()
    }

    /// A deployment through the library's client (the dashboard's conversion), and its raw wire JSON.
    fn read(&self, spec: usize, id: &str) -> (Deployment, Value) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let client = infertop::provider::http::build_client(
                std::time::Duration::from_secs(5),
                std::time::Duration::from_secs(20),
            );
            let p = connect(&self.specs[spec], client);
            let dep = p.get(id).await.unwrap();
            let raw = raw_deployment(&reqwest::Client::new(), &self.sim.url, &self.specs[spec], id).await;
            (dep, raw)
        })
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The JSON lines of `--json`, by `account/name`.
fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", text(out))))
        .collect()
}

fn line<'a>(all: &'a [Value], account: &str, name: &str) -> &'a Value {
    all.iter()
        .find(|v| v["account"] == account && v["name"] == name)
        .unwrap_or_else(|| panic!("{account}/{name} not in {all:#?}"))
}

/// Requests that change something: anything but a read, a price preview or a Run:ai sign-in.
fn writes(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| !l.starts_with("GET ") && !l.contains("/pricing") && !l.ends_with("/token"))
        .collect()
}

/// How many times the log reads the one deployment `id` (`name` for Gcore v3), as the simulator counts them.
fn reads_of(log: &[String], kind: infertop::model::ProviderKind, id: &str) -> u32 {
    log.iter()
        .filter_map(|l| l.strip_prefix("GET "))
        .filter(|path| {
            infertop::sim::faults::is_deployment_get(kind, path) && path.rsplit('/').next() == Some(id)
        })
        .count() as u32
}

/// A scale by the dashboard's filter lands on all four paths: the read-back equals the edit, every untouched
/// field is as it was on the wire, and the audit has one line per write, marked as from the command line.
#[test]
fn a_scale_by_filter_lands_on_all_four_provider_paths_and_keeps_the_rest() {
    let env = Env::new("lands", &["--time-scale", "0", "--ambiguity", "sesterce-patch-without-model=keeps"]);
    let plan = env.run(&["scale", "--filter", FOUR_FILTER, "--max", "+1", "--dry-run", "--json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let plan = lines(&plan);
    assert_eq!(plan.len(), 4, "{plan:#?}");
    let mut before = Vec::new();
    for (account, spec, name) in FOUR {
        let id = line(&plan, account, name)["id"].as_str().unwrap().to_string();
        before.push((id.clone(), env.read(spec, &id)));
    }
    let out = env.run(&["scale", "--filter", FOUR_FILTER, "--max", "+1", "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let done = lines(&out);
    assert_eq!(done.len(), 4, "{done:#?}");
    for ((account, spec, name), (id, (old, raw_before))) in FOUR.into_iter().zip(before) {
        assert_eq!(line(&done, account, name)["result"], "applied", "{}", text(&out));
        let (now, raw_after) = env.read(spec, &id);
        let mut want = ScaleUpdate::from_deployment(&old);
        for r in &mut want.regions {
            r.scale.max += 1;
        }
        assert_eq!(ScaleUpdate::from_deployment(&now), want, "{name}: read back as the edit");
        assert_only_max_changed(name, &raw_before, &raw_after);
    }
    let audit = env.audit();
    assert_eq!(audit.len(), 4, "one line per write: {audit:#?}");
    for (account, _, name) in FOUR {
        let l = audit.iter().find(|l| l["account"] == account && l["deployment"]["name"] == name).unwrap();
        assert_eq!((&l["result"], &l["origin"]), (&json!("applied"), &json!("command line")), "{l}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 applied · 0 conflict · 0 refused · 0 unknown"));
}

/// `--dry-run` prints the plan (old → new per region, cost per hour before → after, what is left out and why)
/// and sends nothing: the simulator sees reads (and price previews) only, and the audit file stays empty.
#[test]
fn a_dry_run_prints_the_plan_and_sends_nothing() {
    let env = Env::new("dry", &["--time-scale", "0"]);
    let skip = env.requests().len();
    let out = env.run(&["scale", "--filter", "staging|qwen2-vl-batch", "--min", "-1", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("gcore-sim/phi-3-mini-staging") && plan.contains("Luxembourg-2: min 1 → 0"),
        "{plan}"
    );
    assert!(
        plan.contains("sesterce-sim/gemma-2-9b-staging") && plan.contains("Frankfurt: min 1 → 0"),
        "{plan}"
    );
    assert!(
        plan.contains("runai-sim/nim-embedqa-staging") && plan.contains("autoscaling: min 1 → 0"),
        "{plan}"
    );
    assert!(plan.contains("Cost per hour, today → after:"), "{plan}");
    assert!(plan.contains("gcore-sim/phi-3-mini-staging: at min 0.12 → 0.00 EUR/h (-0.12)"), "{plan}");
    assert!(plan.contains("unknown (runai gives no price)"), "{plan}");
    // qwen2-vl-batch is at min 0 already: left out, and why.
    assert!(plan.contains("Left out, nothing sent") && plan.contains("qwen2-vl-batch: min in"), "{plan}");
    assert!(plan.contains("is below 0"), "{plan}");
    for args in [
        &["stop", "--filter", "staging", "--dry-run"][..],
        &["start", "--filter", "staging", "--dry-run", "--json"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    let log = env.requests()[skip..].to_vec();
    assert!(log.iter().any(|l| l.starts_with("GET ")), "{log:?}");
    assert!(writes(&log).is_empty(), "a dry run sent: {:?}", writes(&log));
    assert!(env.audit().is_empty(), "{:?}", env.audit());
}

/// Another writer changes a deployment between the command's read and its write: that one is a conflict and
/// nothing is sent for it, the rest are applied, exit 4. Twice, so that each of the four paths has one.
#[test]
fn another_writer_between_the_read_and_the_write_is_a_conflict_and_the_rest_are_applied() {
    let env =
        Env::new("conflict", &["--time-scale", "0", "--ambiguity", "sesterce-patch-without-model=keeps"]);
    for (round, conflicted) in [[0usize, 2], [1, 3]].into_iter().enumerate() {
        // The reads a run makes before it writes are those of its dry run: the writer acts after them.
        let skip = env.requests().len();
        let plan = env.run(&["scale", "--filter", FOUR_FILTER, "--max", "+1", "--dry-run", "--json"]);
        assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
        let log = env.requests()[skip..].to_vec();
        let plan = lines(&plan);
        let id = |k: usize| line(&plan, FOUR[k].0, FOUR[k].2)["id"].as_str().unwrap().to_string();
        let mut before = Vec::new();
        for (k, (_, spec, name)) in FOUR.into_iter().enumerate() {
            before.push(env.read(spec, &id(k)).0);
            if conflicted.contains(&k) {
                let kind = env.specs[spec].kind;
                let after_reads = reads_of(&log, kind, &id(k));
                assert!(after_reads >= 1, "{name}: the plan reads it: {log:?}");
                env.post(
                    "/_sim/another-writer",
                    json!({"provider": kind.label(), "deployment": name, "after_reads": after_reads}),
                );
            }
        }
        let skip = env.requests().len();
        let out = env.run(&["scale", "--filter", FOUR_FILTER, "--max", "+1", "--yes", "--json"]);
        assert_eq!(out.status.code(), Some(4), "round {round}: {}", text(&out));
        let done = lines(&out);
        let sent = writes(&env.requests()[skip..]).into_iter().cloned().collect::<Vec<_>>();
        for (k, (account, spec, name)) in FOUR.into_iter().enumerate() {
            let (now, _) = env.read(spec, &id(k));
            let got = ScaleUpdate::from_deployment(&now);
            let mut want = ScaleUpdate::from_deployment(&before[k]);
            if conflicted.contains(&k) {
                let l = line(&done, account, name);
                assert_eq!(l["result"], "conflict", "{name}: {}", text(&out));
                assert!(l["detail"].as_str().unwrap().contains("changed by another writer"), "{l}");
                // The other writer's change stands; nothing of this run was sent.
                want.regions[0].scale.min += 1;
                want.regions[0].scale.max = want.regions[0].scale.max.max(want.regions[0].scale.min);
                assert!(!sent.iter().any(|s| s.contains(&id(k))), "{name}: sent {sent:?}");
            } else {
                assert_eq!(line(&done, account, name)["result"], "applied", "{name}: {}", text(&out));
                for r in &mut want.regions {
                    r.scale.max += 1;
                }
            }
            assert_eq!(got, want, "round {round}: {name}");
        }
    }
    // One audit line per deployment and run, the conflicts among them.
    let audit = env.audit();
    assert_eq!(audit.len(), 8, "{audit:#?}");
    assert_eq!(audit.iter().filter(|l| l["result"] == "conflict: not sent").count(), 4, "{audit:#?}");
    assert!(audit.iter().all(|l| l["origin"] == "command line"), "{audit:#?}");
}

/// Sesterce refuses a change without the instance's model (the documents' hostile reading): the refusal is
/// reported with Sesterce's own words and how to send it again (`--sesterce-model ID`, never guessed), exit
/// 4; sent again with the model, it lands.
#[test]
fn a_refusal_is_reported_with_the_providers_message_and_the_model_flag_sends_it_again() {
    let env = Env::new("refused", &["--time-scale", "0"]);
    let out = env.run(&["scale", "deepseek-r1-distill", "--max", "+1", "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let l = &lines(&out)[0];
    assert_eq!(l["result"], "refused", "{l}");
    let message = l["message"].as_str().unwrap();
    assert!(message.contains("modelId should not be undefined"), "the provider's words: {message}");
    assert!(message.contains("--sesterce-model ID"), "{message}");
    assert_eq!(env.audit()[0]["result"], "refused");
    let models: Vec<Value> = reqwest::blocking::Client::new()
        .get(format!("{}/ai-inference/models", env.sim.url))
        .header("x-api-key", infertop::sim::DEMO_SESTERCE_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let model =
        models.iter().find(|m| m["name"] == "deepseek-r1-distill-llama-8b").unwrap()["id"].as_str().unwrap();
    let out = env.run(&["scale", "deepseek-r1-distill", "--max", "+1", "--sesterce-model", model, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"), "{}", text(&out));
    let audit = env.audit();
    assert_eq!((&audit[1]["result"], &audit[1]["source"]["model"]), (&json!("applied"), &json!(model)));
}

/// Mistakes exit 2 with what to write instead, and send nothing: a name two accounts have (the candidates
/// listed), nothing matched, no terminal and no --yes, a read-only config.
#[test]
fn mistakes_exit_2_and_send_nothing() {
    let env = Env::new("mistakes", &["--time-scale", "0"]);
    let skip = env.requests().len();
    let out = env.run(&["scale", "phi-3-mini-staging", "--min", "0", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ambiguous") && err.contains("gcore-sim/phi-3-mini-staging"), "{err}");
    assert!(err.contains("gcore-v2/phi-3-mini-staging") && err.contains("ACCOUNT/NAME"), "{err}");
    // Named with its account, it is one.
    let out = env.run(&["scale", "gcore-v2/phi-3-mini-staging", "--min", "0", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for args in [
        &["scale", "--filter", "no-such-deployment", "--min", "0", "--yes"][..],
        &["stop", "--provider", "runai", "--filter", "llama-3-70b-chat", "--yes"],
        &["start", "no-such-deployment", "--yes"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nothing matched") || err.contains("no deployment named"), "{err}");
    }
    assert!(writes(&env.requests()[skip..]).is_empty());
    // No terminal, no --yes: refused before anything is read.
    let skip = env.requests().len();
    let out = env.run(&["scale", "--filter", "staging", "--min", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"), "{}", text(&out));
    assert_eq!(env.requests().len(), skip, "nothing was sent, not even a read");
    // A read-only config changes nothing.
    let cfg = std::fs::read_to_string(env.config()).unwrap();
    std::fs::write(env.config(), format!("read_only = true\n{cfg}")).unwrap();
    let out = env.run(&["stop", "gcore-sim/llama-3-70b-chat", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read_only = true"), "{}", text(&out));
    assert_eq!(env.requests().len(), skip);
    assert!(env.audit().is_empty());
}

/// One deployment per path that `--min +1 --max +1` takes above what its load asks for: new replicas must
/// start before it has rolled out.
const GROWING: [(&str, usize, &str); 4] = [
    ("gcore-sim", 0, "bge-m3-embed"),
    ("gcore-v2", 3, "qwen2-vl-batch"),
    ("sesterce-sim", 1, "gemma-2-9b-staging"),
    ("runai-sim", 2, "triton-resnet"),
];

const GROWING_FILTER: &str = "^gcore gcore-sim bge-m3-embed |^gcore gcore-v2 qwen2-vl-batch |^sesterce \
                              sesterce-sim gemma-2-9b-staging |^runai runai-sim triton-resnet ";

/// `--wait` returns once every changed deployment has rolled out by the dashboard's rule: with the clock
/// frozen it gives up (exit 4, `rolled_out: false`); with time moving it returns with each one rolled out.
#[test]
fn wait_returns_once_rolled_out() {
    let args = ["scale", "--filter", GROWING_FILTER, "--min", "+1", "--max", "+1", "--yes", "--json"];
    let keeps = ["--ambiguity", "sesterce-patch-without-model=keeps"];
    let frozen = Env::new("wait-frozen", &[&["--time-scale", "0"][..], &keeps].concat());
    let out = frozen.run(&[&args[..], &["--wait=3"]].concat());
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let done = lines(&out);
    assert_eq!(done.len(), 4, "{}", text(&out));
    for l in done {
        assert_eq!((&l["result"], &l["rolled_out"]), (&json!("applied"), &json!(false)), "{l}");
    }
    let env = Env::new("wait", &[&["--time-scale", "4"][..], &keeps].concat());
    let out = env.run(&[&args[..], &["--wait=120"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let done = lines(&out);
    for (account, spec, name) in GROWING {
        let l = line(&done, account, name);
        assert_eq!((&l["result"], &l["rolled_out"]), (&json!("applied"), &json!(true)), "{l}");
        let (now, _) = env.read(spec, l["id"].as_str().unwrap());
        assert!(infertop::model::edit::rolled_out(&now), "{name}: {:?} {:?}", now.status, now.regions);
        let new_min = |r: &Value| r["new"]["min"].as_u64().unwrap() as u32;
        let asked: Vec<u32> = l["regions"].as_array().unwrap().iter().map(new_min).collect();
        let have: Vec<u32> = now.regions.iter().map(|r| r.total).collect();
        assert!(have.iter().zip(&asked).all(|(h, a)| h >= a), "{name}: {have:?} replicas, asked {asked:?}");
    }
}

/// `stop` and `start` are decided from a fresh read, as the dashboard's `t` is: what is stopped already is
/// left out as nothing to do (exit 0), a running one is stopped and, with --wait, followed until it is.
#[test]
fn stop_and_start_follow_the_dashboards_rule() {
    let env = Env::new("lifecycle", &["--time-scale", "4"]);
    let out = env.run(&["stop", "gcore-sim/phi-3-mini-staging", "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(0), "already stopped: {}", text(&out));
    let l = &lines(&out)[0];
    assert_eq!((&l["result"], &l["nothing_to_do"]), (&json!("left out"), &json!(true)), "{l}");
    let out =
        env.run(&["stop", "gcore-v2/rerank-v2", "sesterce-sim/gemma-2-9b", "--yes", "--json", "--wait=120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for l in lines(&out) {
        assert_eq!(
            (&l["result"], &l["rolled_out"], &l["change"]),
            (&json!("applied"), &json!(true), &json!("stop")),
            "{l}"
        );
    }
    let out = env.run(&["start", "gcore-v2/rerank-v2", "--yes", "--json", "--wait=120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(lines(&out)[0]["rolled_out"], true);
    let audit = env.audit();
    let changes: Vec<(&str, &str)> =
        audit.iter().map(|l| (l["change"].as_str().unwrap(), l["result"].as_str().unwrap())).collect();
    assert_eq!(changes, [("stop", "done"), ("stop", "done"), ("start", "done")], "{audit:#?}");
    assert!(audit.iter().all(|l| l["origin"] == "command line"));
}

/// On a terminal, without `--yes`, the plan is shown and asked about once: `n` sends nothing (exit 2), `y`
/// sends it (exit 0).
#[test]
fn on_a_terminal_the_plan_is_asked_about_once() {
    let env = Env::new("terminal", &["--time-scale", "0"]);
    let creds: Vec<String> = sim_credentials("SCRIPTED").iter().map(|(k, v)| format!("{k}={v}")).collect();
    for (answer, exit) in [("n", 2), ("y", 0)] {
        let skip = env.requests().len();
        let t = common::tmux::Tmux::new(&format!("scripted-{answer}"));
        t.start_sized(
            &format!(
                "env HOME={home} XDG_STATE_HOME={home}/state {creds} {BIN} scale gcore-sim/llama-3-70b-chat \
                 --max +1 --config {config}; echo SCRIPTED-EXIT-$?; sleep 30",
                home = env.dir.0.display(),
                creds = creds.join(" "),
                config = env.config(),
            ),
            160,
            40,
        );
        let s = t.wait_for("the question", std::time::Duration::from_secs(30), |s| {
            s.contains("Send 1 change? [y/N]")
        });
        assert!(s.contains("gcore-sim/llama-3-70b-chat") && s.contains("max 4 → 5"), "the plan first:\n{s}");
        assert!(writes(&env.requests()[skip..]).is_empty(), "nothing sent before the answer");
        t.type_text(answer);
        t.keys(&["Enter"]);
        let done = format!("SCRIPTED-EXIT-{exit}");
        t.wait_for(&done, std::time::Duration::from_secs(30), |s| s.contains(&done));
        let sent = writes(&env.requests()[skip..]).len();
        assert_eq!(sent > 0, answer == "y", "{answer}: {sent} writes");
    }
    assert_eq!(env.audit().len(), 1, "{:?}", env.audit());
}
