//! `e`: a deployment's settings edited in `$EDITOR`, driven as the terminal loop drives it (keys into
//! `update`, the editor session the loop would run, effects to the real `Sync`), against the simulator over
//! loopback, on each provider path: Gcore v3 PATCH, Gcore v2 PUT, Sesterce PATCH, Run:ai spec PATCH. The
//! "editor" is a small sh script that edits the file in place, as a user would.

mod common;

use chrono::{TimeZone, Utc};
use common::app::{Driver, driver};
use common::wire::{accounts_with_v2, changed_paths, derived, raw_deployment};
use crossterm::event::KeyCode;
use infertop::app::Msg;
use infertop::app::editor::{EditorOutcome, ReviewStage};
use infertop::app::state::Mode;
use infertop::sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const GCORE_V3: usize = 0;
const SESTERCE: usize = 1;
const RUNAI: usize = 2;
const GCORE_V2: usize = 3;

async fn sim() -> SimHandle {
    sim::start(
        SimConfig {
            seed: 1,
            time_scale: 0.0,
            epoch: Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// A scratch directory of this test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("infertop-editor-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// An executable sh script: the test's `$EDITOR`. It also notes the file's path and mode, and keeps a
    /// copy of what it was given, in `seen.log` and `given.N.toml`.
    fn editor(&self, body: &str) -> PathBuf {
        let path = self.0.join("editor.sh");
        let dir = self.0.display();
        let script = format!(
            "#!/bin/sh\nset -e\nn=$(ls {dir} | grep -c '^given' || true)\ncp \"$1\" {dir}/given.$n.toml\n\
             echo \"$1 $(stat -c %a \"$1\")\" >> {dir}/seen.log\n{body}\n"
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn given(&self, n: usize) -> String {
        std::fs::read_to_string(self.0.join(format!("given.{n}.toml"))).unwrap()
    }

    /// `(path, mode)` of every file the editor was given.
    fn seen(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.0.join("seen.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let (p, m) = l.rsplit_once(' ').unwrap();
                (p.to_string(), m.to_string())
            })
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running deployment of `account` with its details read, selected: running with replicas, so that an image
/// change has something to roll.
async fn pick(d: &mut Driver, account: usize) -> String {
    d.pick_running(account, |s, r| r.dep.total() > 0 || r.awaiting_details(&s.accounts)).await
}

/// Presses `e`, runs the session the terminal loop would run with `editor`, and hands its outcome back.
async fn edit(d: &mut Driver, editor: &Path) -> Result<EditorOutcome, String> {
    d.key(KeyCode::Char('e'));
    let job = d.editor_jobs.pop().unwrap_or_else(|| panic!("e asked for no editor: {}", d.said()));
    let command = vec![editor.display().to_string()];
    let session = job.clone();
    let outcome =
        tokio::task::spawn_blocking(move || infertop::tui::edit_session(&session, &command)).await.unwrap();
    d.send(Msg::Edited { job: Box::new(job), outcome: outcome.clone() });
    outcome
}

/// Requests that write (`PATCH`, `PUT`, `POST` other than a token or a price) in the simulator's log.
async fn writes(sim: &SimHandle) -> Vec<String> {
    let log: Vec<String> =
        reqwest::get(format!("{}/_sim/requests", sim.base_url())).await.unwrap().json().await.unwrap();
    log.into_iter()
        .filter(|l| {
            l.starts_with("PATCH")
                || l.starts_with("PUT")
                || (l.starts_with("POST") && !l.contains("token") && !l.contains("pricing"))
        })
        .collect()
}

/// `y` in the review, then the outcome.
async fn confirm(d: &mut Driver) {
    match &d.state.mode {
        Mode::Editor(r) => assert_eq!(r.stage, ReviewStage::Confirm),
        other => panic!("no review: {other:?} ({})", d.said()),
    }
    d.key(KeyCode::Char('y'));
    d.wait("the write's outcome", |s| match &s.mode {
        Mode::Editor(r) => r.stage != ReviewStage::Applying,
        _ => true,
    })
    .await;
    if let Mode::Editor(r) = &d.state.mode {
        panic!("not applied: {:?}", r.stage);
    }
}

/// The wire JSON of the selected deployment, straight from the simulator.
async fn raw(sim: &SimHandle, d: &Driver, account: usize) -> Value {
    let id = d.state.selected_row().unwrap().dep.key.id.clone();
    let accounts = accounts_with_v2(&sim.base_url());
    raw_deployment(&reqwest::Client::new(), &sim.base_url(), &accounts[account], &id).await
}

/// The paths that changed between two reads, minus what the simulator moves by itself.
fn changed(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    changed_paths(before, after, "", &mut out);
    out.retain(|p| !derived(p));
    out
}

/// An image change through the editor on a provider path whose update takes `image`: the read-back holds the
/// new image, nothing else the file held changed on the wire, and the audit line says applied.
async fn image_change(account: usize, image_path: &str, tag: &str) {
    let sim = sim().await;
    let scratch = Scratch::new(tag);
    let mut d = driver(&format!("editor-{tag}"), &accounts_with_v2(&sim.base_url())).await;
    let name = pick(&mut d, account).await;
    let before = raw(&sim, &d, account).await;
    let image = "vllm/vllm-openai:v0.7.1";
    let editor = scratch.editor(&format!("sed -i 's|^image = .*|image = \"{image}\"|' \"$1\""));
    match edit(&mut d, &editor).await {
        Ok(EditorOutcome::Edited { settings, .. }) => assert_eq!(settings.image.as_deref(), Some(image)),
        other => panic!("{other:?}"),
    }
    let Mode::Editor(review) = &d.state.mode else { panic!("no review: {}", d.said()) };
    let lines = review.lines(false);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("  image: ") && lines[0].ends_with(&format!("→ \"{image}\"")), "{lines:?}");
    confirm(&mut d).await;
    assert!(d.said().contains("applied; watching the rollout"), "{}", d.said());
    let after = raw(&sim, &d, account).await;
    assert_eq!(changed(&before, &after), [image_path.to_string()], "only the image moved");
    let back = d.providers[account].get(&d.state.selected_row().unwrap().dep.key.id).await.unwrap();
    assert_eq!(back.image.as_deref(), Some(image));
    // The new image rolls the deployment: no replica is ready until its replacement is, then it converges
    // (simulated time, moved by hand).
    assert!(back.total() > 0 && back.ready() < back.total(), "rolling: {}/{}", back.ready(), back.total());
    assert!(!infertop::app::edit::rolled_out(&back));
    reqwest::Client::new()
        .post(format!("{}/_sim/advance", sim.base_url()))
        .json(&serde_json::json!({ "seconds": 120.0 }))
        .send()
        .await
        .unwrap();
    let settled = d.providers[account].get(&back.key.id).await.unwrap();
    assert!(
        infertop::app::edit::rolled_out(&settled),
        "converged: {:?} {}/{}",
        settled.status,
        settled.ready(),
        settled.total()
    );
    assert_eq!(settled.image.as_deref(), Some(image));
    let line = d.audit_edit(&name);
    assert_eq!(line["change"], "settings");
    assert_eq!(line["result"], "applied");
    assert_eq!(line["after"]["image"], image);
    assert_eq!(writes(&sim).await.len(), 1, "one write");
    // The file was private and is gone.
    let seen = scratch.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1, "600");
    assert!(!Path::new(&seen[0].0).exists(), "the temporary file is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_change_lands_on_gcore_v3() {
    image_change(GCORE_V3, "/image", "v3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_change_lands_on_gcore_v2_put() {
    image_change(GCORE_V2, "/image", "v2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_change_lands_on_runai() {
    image_change(RUNAI, "/spec/image", "runai").await;
}

/// Sesterce runs a catalog model or a registry's image, and its details never say which: the switch is sent
/// with the seed's full PATCH, said to be unverifiable, and every field the details show stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_switch_lands_on_sesterce_with_everything_else_as_read() {
    let sim = sim().await;
    let scratch = Scratch::new("sesterce");
    let mut d = driver("editor-sesterce", &accounts_with_v2(&sim.base_url())).await;
    let name = pick(&mut d, SESTERCE).await;
    let registry = {
        let s = sim.state.sesterce.lock().unwrap();
        let i = s.instances.iter().find(|i| i.name == name).unwrap();
        s.registries.iter().find(|r| i.registry_id.as_str() != Some(r.id.as_str())).unwrap().id.clone()
    };
    let before = raw(&sim, &d, SESTERCE).await;
    let editor = scratch.editor(&format!("sed -i 's|^# registry = .*|registry = \"{registry}\"|' \"$1\""));
    assert!(matches!(edit(&mut d, &editor).await, Ok(EditorOutcome::Edited { .. })));
    confirm(&mut d).await;
    assert!(d.said().contains("does not show the model or registry back"), "{}", d.said());
    let after = raw(&sim, &d, SESTERCE).await;
    assert_eq!(changed(&before, &after), Vec::<String>::new(), "the fields Sesterce shows are as read");
    {
        let s = sim.state.sesterce.lock().unwrap();
        let i = s.instances.iter().find(|i| i.name == name).unwrap();
        assert_eq!(i.registry_id, Value::from(registry.clone()), "the instance runs the registry's image");
        assert_eq!(i.model_id, Value::Null);
    }
    let line = d.audit_edit(&name);
    assert_eq!(line["result"], "applied, not verified");
    assert_eq!(
        writes(&sim).await,
        [format!("PATCH /ai-inference/instances/{}", d.state.selected_row().unwrap().dep.key.id)]
    );
}

/// A file that cannot be used opens again with the errors as comments at the top, keeping what was written;
/// the second run sees them and fixes the line; an env value changed on the way is masked in the audit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_edit_reopens_with_the_error_and_the_fix_lands() {
    let sim = sim().await;
    let scratch = Scratch::new("invalid");
    let mut d = driver("editor-invalid", &accounts_with_v2(&sim.base_url())).await;
    let name = pick(&mut d, GCORE_V3).await;
    let before = raw(&sim, &d, GCORE_V3).await;
    let editor = scratch.editor(
        "if grep -q '^# ---- infertop could not use this edit' \"$1\"; then\n\
           sed -i 's|^image = .*|image = \"nginx:1.27\"|' \"$1\"\n\
         else\n\
           sed -i 's|^image = .*|image = \"Not An Image!\"|' \"$1\"\n\
           sed -i 's|^\\[envs\\]$|[envs]\\nEDITOR_TEST = \"hunter2\"|' \"$1\"\n\
         fi",
    );
    let outcome = edit(&mut d, &editor).await;
    let Ok(EditorOutcome::Edited { settings, .. }) = outcome else { panic!("{outcome:?}") };
    assert_eq!(settings.image.as_deref(), Some("nginx:1.27"));
    assert_eq!(settings.envs.get("EDITOR_TEST").map(String::as_str), Some("hunter2"));
    let second = scratch.given(1);
    assert!(
        second.starts_with("# ---- infertop could not use this edit:\n#   image: image must be lowercase"),
        "{second}"
    );
    assert!(second.contains("image = \"Not An Image!\""), "what was written is kept");
    assert!(second.contains("EDITOR_TEST = \"hunter2\""), "what was written is kept");
    let Mode::Editor(review) = &d.state.mode else { panic!("no review") };
    assert!(review.lines(false).contains(&"+ env EDITOR_TEST: ***".to_string()), "{:?}", review.lines(false));
    confirm(&mut d).await;
    let after = raw(&sim, &d, GCORE_V3).await;
    assert_eq!(changed(&before, &after), ["/envs/EDITOR_TEST", "/image"]);
    assert_eq!(after["envs"]["EDITOR_TEST"], "hunter2");
    let line = d.audit_edit(&name);
    assert_eq!(line["result"], "applied");
    assert!(!line.to_string().contains("hunter2"), "env values never reach the audit file: {line}");
    assert_eq!(line["asked"]["envs"]["EDITOR_TEST"], "***");
    assert_eq!(scratch.seen().len(), 2);
    assert!(scratch.seen().iter().all(|(p, m)| m == "600" && !Path::new(p).exists()));
}

/// Saved unchanged, saved empty, or saved again with its errors unfixed: nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_or_empty_file_sends_nothing() {
    let sim = sim().await;
    let scratch = Scratch::new("unchanged");
    let mut d = driver("editor-unchanged", &accounts_with_v2(&sim.base_url())).await;
    for account in [GCORE_V3, SESTERCE, RUNAI, GCORE_V2] {
        pick(&mut d, account).await;
        let unchanged = scratch.editor("true");
        assert_eq!(edit(&mut d, &unchanged).await, Ok(EditorOutcome::Unchanged), "account {account}");
        assert!(matches!(d.state.mode, Mode::Normal));
        assert!(d.said().contains("nothing changed: nothing was sent"), "{}", d.said());
        d.key(KeyCode::Esc);
    }
    let empty = scratch.editor(": > \"$1\"");
    pick(&mut d, GCORE_V3).await;
    assert!(matches!(edit(&mut d, &empty).await, Ok(EditorOutcome::Cancelled(_))));
    let stubborn = scratch.editor("sed -i 's|^port = .*|port = 0|' \"$1\"");
    let outcome = edit(&mut d, &stubborn).await;
    assert_eq!(outcome, Ok(EditorOutcome::Cancelled("the errors were not fixed: nothing was sent".into())));
    d.pump(300).await;
    assert_eq!(writes(&sim).await, Vec::<String>::new(), "no write reached the simulator");
    assert!(d.audit_lines().is_empty());
}

/// Read-only mode: `e` opens nothing, and help does not offer it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_has_no_editor() {
    let sim = sim().await;
    let mut d = driver("editor-ro", &accounts_with_v2(&sim.base_url())).await;
    pick(&mut d, GCORE_V3).await;
    d.state.read_only = true;
    d.key(KeyCode::Char('e'));
    assert!(d.editor_jobs.is_empty());
    assert!(d.said().contains("read-only"));
    let rows = d.state.keymap.help_rows(true);
    assert!(!rows.iter().any(|(k, _)| k == "e"));
    assert!(d.state.keymap.help_rows(false).iter().any(|(k, _)| k == "e"));
}

/// Another writer changes the deployment between `e` and `y`: nothing is sent, the review says what changed,
/// and `e` starts again from the latest settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_by_another_writer_meanwhile_is_a_conflict_and_nothing_is_sent() {
    let sim = sim().await;
    let scratch = Scratch::new("conflict");
    let mut d = driver("editor-conflict", &accounts_with_v2(&sim.base_url())).await;
    pick(&mut d, GCORE_V3).await;
    let editor = scratch.editor("sed -i 's|^image = .*|image = \"nginx:1.27\"|' \"$1\"");
    assert!(matches!(edit(&mut d, &editor).await, Ok(EditorOutcome::Edited { .. })));
    let id = d.state.selected_row().unwrap().dep.key.id.clone();
    let now = d.providers[GCORE_V3].get(&id).await.unwrap();
    let mut other = infertop::model::ScaleUpdate::from_deployment(&now);
    other.regions[0].scale.max += 1;
    d.providers[GCORE_V3].update_scale(&id, &other).await.unwrap();
    d.key(KeyCode::Char('y'));
    d.wait("the conflict", |s| matches!(&s.mode, Mode::Editor(r) if r.stage != ReviewStage::Applying)).await;
    let Mode::Editor(review) = &d.state.mode else { unreachable!() };
    let ReviewStage::Conflict { changes, .. } = &review.stage else { panic!("{:?}", review.stage) };
    assert!(changes.iter().any(|c| c.contains(" max: ")), "{changes:?}");
    assert_eq!(writes(&sim).await.len(), 1, "only the other writer's");
    assert_eq!(d.providers[GCORE_V3].get(&id).await.unwrap().image, now.image, "the image is as it was");
    d.key(KeyCode::Char('e'));
    let job = d.editor_jobs.pop().expect("e edits again");
    assert!(job.text.contains(&format!("max = {}", other.regions[0].scale.max)), "from the latest settings");
}

/// Under the reading where Sesterce refuses an update without the instance's model or registry, an edit
/// that does not name one is refused; the review says to set it in the file, `e` reopens the file with the
/// refusal on top, and naming the registry lands the edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sesterce_refusal_for_want_of_the_model_is_fixed_in_the_file() {
    let sim = sim().await;
    let scratch = Scratch::new("sesterce-refused");
    let mut d = driver("editor-sesterce-refused", &accounts_with_v2(&sim.base_url())).await;
    let name = pick(&mut d, SESTERCE).await;
    let registry = {
        let s = sim.state.sesterce.lock().unwrap();
        s.registries[0].id.clone()
    };
    let editor = scratch.editor(&format!(
        "if grep -q '^# ---- infertop could not use this edit' \"$1\"; then\n\
           sed -i 's|^# registry = .*|registry = \"{registry}\"|' \"$1\"\n\
         else\n\
           sed -i 's|^description = .*|description = \"edited\"|; s|^# description = .*|description = \"edited\"|' \"$1\"\n\
         fi"
    ));
    assert!(matches!(edit(&mut d, &editor).await, Ok(EditorOutcome::Edited { .. })));
    d.key(KeyCode::Char('y'));
    d.wait("the refusal", |s| matches!(&s.mode, Mode::Editor(r) if r.stage != ReviewStage::Applying)).await;
    let Mode::Editor(review) = &d.state.mode else { unreachable!() };
    let ReviewStage::Failed(why) = &review.stage else { panic!("{:?}", review.stage) };
    assert!(why.contains("press e and set `model` or `registry`"), "{why}");
    let outcome = edit(&mut d, &editor).await;
    assert!(matches!(outcome, Ok(EditorOutcome::Edited { .. })), "{outcome:?}");
    assert!(scratch.given(1).contains("Sesterce wants the instance's model or registry"));
    confirm(&mut d).await;
    let back = d.providers[SESTERCE].get(&d.state.selected_row().unwrap().dep.key.id).await.unwrap();
    assert_eq!(back.description.as_deref(), Some("edited"));
    let lines: Vec<Value> = d.audit_lines().into_iter().filter(|l| l["deployment"]["name"] == name).collect();
    let results: Vec<&str> = lines.iter().map(|l| l["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["refused", "applied, not verified"]);
}
