//! `e` end to end: the real binary on `--demo` in tmux, with `$EDITOR` a script. The dashboard hands the
//! terminal over (the editor runs on the normal screen, in cooked mode), takes it back, shows the review, and
//! `y` lands the new image (audited).

mod common;

use common::tmux::{BIN, Tmux};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

#[test]
fn the_editor_gets_the_terminal_and_the_new_image_lands() {
    let tmux = Tmux::new("editor");
    let dir = tmux.dir.display().to_string();
    // The editor notes whether the terminal is in cooked mode, shows itself, waits for the test to have seen
    // it (bounded), then edits the image.
    let editor = tmux.dir.join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nstty -a > {dir}/stty.txt\nstat -c %a \"$1\" > {dir}/mode.txt\necho EDITOR-RUNNING-ON \"$1\"\n\
             i=0; while [ ! -e {dir}/go ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done\n\
             sed -i 's|^image = .*|image = \"nginx:1.27\"|' \"$1\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!(
        "env -u VISUAL XDG_STATE_HOME={dir} EDITOR='{}' {BIN} --demo --static --refresh 1; echo INFERTOP-EXITED-$?; sleep 60",
        editor.display()
    );
    tmux.start(&script);
    tmux.wait_for("the demo fleet", Duration::from_secs(30), |s| s.contains("bge-m3-embed"));
    tmux.keys(&["/"]);
    tmux.type_text("bge-m3");
    tmux.keys(&["Enter"]);
    tmux.wait_for("its details", Duration::from_secs(15), |s| s.contains("text-embeddings-inference"));
    tmux.keys(&["e"]);
    let s = tmux.wait_for("the editor", Duration::from_secs(10), |s| s.contains("EDITOR-RUNNING-ON"));
    assert!(!s.contains("Deployments"), "the dashboard left the screen to the editor:\n{s}");
    let stty = std::fs::read_to_string(tmux.dir.join("stty.txt")).unwrap();
    assert!(
        stty.split_whitespace().any(|w| w == "icanon") && stty.split_whitespace().any(|w| w == "echo"),
        "cooked mode: {stty}"
    );
    assert_eq!(std::fs::read_to_string(tmux.dir.join("mode.txt")).unwrap().trim(), "600");
    let path = s.split("EDITOR-RUNNING-ON").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    std::fs::write(tmux.dir.join("go"), "").unwrap();
    let review =
        tmux.wait_for("the review", Duration::from_secs(10), |s| s.contains("These changes will be sent"));
    assert!(review.contains("→ \"nginx:1.27\""), "{review}");
    assert!(review.contains("Deployments"), "the dashboard is back:\n{review}");
    assert!(!std::path::Path::new(&path).exists(), "the file is removed");
    tmux.keys(&["y"]);
    tmux.wait_for("the outcome", Duration::from_secs(20), |s| s.contains("bge-m3-embed: applied"));
    let audit = std::fs::read_to_string(tmux.dir.join("infertop/audit.jsonl")).expect("an audit line");
    assert!(audit.contains("\"change\":\"settings\"") && audit.contains("\"result\":\"applied\""), "{audit}");
    assert!(audit.contains("nginx:1.27"), "{audit}");
    tmux.keys(&["q"]);
    tmux.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("INFERTOP-EXITED-0"));
}
