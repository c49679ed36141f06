//! `uml agent --config FILE --check` on the configurations the repository
//! ships: the one the Kubernetes ConfigMap carries and the local quick
//! start. A check validates and compiles, and starts nothing.

use std::path::Path;
use std::process::Command;

fn check(args: &[&str]) -> (Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_uml"))
        .current_dir(&root)
        .arg("agent")
        .args(args)
        .arg("--check")
        .output()
        .expect("uml runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_configmaps_configuration_checks_with_the_repositorys_rules() {
    // In the cluster the rules are the ConfigMap mounted at /etc/uml/rules;
    // here, the same files in rules/.
    let (code, stderr) = check(&["--config", "deploy/kubernetes/agent.toml", "--rules", "rules"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr
            .contains("ok: deploy/kubernetes/agent.toml is a valid configuration; the rules compile: rules (6 files)"),
        "{stderr}"
    );
}

#[test]
fn the_local_quick_start_checks() {
    let (code, stderr) = check(&["--config", "deploy/examples/local.toml"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_bad_configuration_names_the_key_and_line_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, "state = \"/tmp/x\"\n[loki]\nurl = \"http://l\"\nbatch_wait = \"soon\"\n").unwrap();
    let (code, stderr) = check(&["--config", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("agent.toml:4: loki.batch_wait"), "{stderr}");
    assert!(!dir.path().join("x").exists());
}

#[test]
fn rules_that_do_not_compile_are_shown_with_a_caret_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.uml"), "rule broken {\n  payload.message = nope(\n}\n").unwrap();
    let (code, stderr) =
        check(&["--rules", dir.path().to_str().unwrap(), "--state", dir.path().join("s").to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("error[E"), "{stderr}");
    assert!(stderr.contains('^'), "a caret under the problem: {stderr}");
    assert!(!dir.path().join("s").exists(), "nothing started");
}
