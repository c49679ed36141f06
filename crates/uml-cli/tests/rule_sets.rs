//! Which rule set a command uses, by one rule for every command: the files
//! named (PATHs or `--rules DIR`), else `./rules/`, else the rules built
//! into uml; a rule set without a schema is checked against a `schema.uml`
//! beside it, else the built-in schema. Each command says which ran.

use std::path::Path;
use std::process::{Command, Output};

fn uml(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uml")).current_dir(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/var/log/containers");

#[test]
fn without_rules_every_command_uses_the_built_in_ones_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let check = uml(tmp.path(), &["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(stderr(&check), "ok: 6 files checked (the rules built into uml)\n");
    let run = uml(tmp.path(), &["run", SAMPLE]);
    assert!(stderr(&run).contains("\n  rules: the rules built into uml\n"), "{}", stderr(&run));
    let test = uml(tmp.path(), &["test"]);
    assert!(test.status.success(), "{}", stderr(&test));
    let fmt = uml(tmp.path(), &["fmt"]);
    assert_eq!(fmt.status.code(), Some(2));
    assert!(stderr(&fmt).contains("uml rules export DIR"), "{}", stderr(&fmt));
}

#[test]
fn an_edited_local_rules_directory_is_what_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let export = uml(tmp.path(), &["rules", "export", "rules"]);
    assert!(export.status.success(), "{}", stderr(&export));
    assert!(stderr(&export).contains("ok: 6 rule files written to rules"), "{}", stderr(&export));
    let again = uml(tmp.path(), &["rules", "export", "rules"]);
    assert_eq!(again.status.code(), Some(1), "an existing rule set is never overwritten");
    // Edit the model container's rule: every record gets an extra field.
    let file = tmp.path().join("rules/model_container.uml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen(
        "payload.source = \"model_container\"",
        "payload.source = \"model_container\"\n  payload.edited = \"yes\"",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    let run = uml(tmp.path(), &["run", SAMPLE]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains(r#"\"edited\":\"yes\""#), "the edited rules ran");
    assert!(stderr(&run).contains("\n  rules: rules/ (6 files)\n"), "{}", stderr(&run));
    let check = uml(tmp.path(), &["check"]);
    assert_eq!(stderr(&check), "ok: 6 files checked (rules/)\n");
}

#[test]
fn a_single_rule_file_is_checked_against_the_schema_beside_it_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("schema.uml"),
        "schema {\n  labels {\n    job: \"app\"\n  }\n  payload {\n    message: string\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("app.uml"),
        "rule app {\n  when %container == \"app\"\n  payload.message = %line\n}\n",
    )
    .unwrap();
    for command in [&["check", "app.uml"][..], &["test", "app.uml"], &["explain", "app.uml"]] {
        let out = uml(tmp.path(), command);
        assert!(out.status.success(), "{command:?}: {}", stderr(&out));
    }
    // The built-in schema has no `job: "app"` label: a file that sets one is
    // wrong against it, right against its own schema.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(tmp.path().join("app.uml"), elsewhere.path().join("app.uml")).unwrap();
    let out = uml(elsewhere.path(), &["check", "app.uml"]);
    assert!(!out.status.success(), "checked against the built-in schema: {}", stderr(&out));
}

/// `uml test`: a failure shows only the fields that differ and the line of
/// its `expect`; `--filter` runs the tests whose name contains a text.
#[test]
fn a_failing_test_shows_what_differs_and_where_and_tests_can_be_filtered() {
    let tmp = tempfile::tempdir().unwrap();
    let rule = r#"schema {
  labels {
    job: "app"
  }
  payload {
    message: string
    level: string
  }
}

rule app {
  when %container == "app"
  payload.message = %line
  payload.level = "INFO"
}

test "app passes lines through" {
  input {
    pod: "app-1",
    namespace: "default",
    container: "app",
    lines: ["hello"],
  }
  expect {
    payload: { message: "hello!", level: "INFO" },
  }
}

test "app keeps others" {
  input {
    pod: "app-1",
    namespace: "default",
    container: "app",
    lines: ["x"],
  }
  expect {
    payload: { message: "x", level: "INFO" },
  }
}
"#;
    std::fs::write(tmp.path().join("app.uml"), rule).unwrap();
    let out = uml(tmp.path(), &["test", "app.uml"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("outcome #1 (the `expect` at app.uml:24)"), "{text}");
    assert!(text.contains("    payload.message\n    - expected \"hello!\"\n    + actual   \"hello\"\n"), "{text}");
    assert!(!text.contains("payload.level"), "only the fields that differ: {text}");
    let out = uml(tmp.path(), &["test", "app.uml", "--filter", "keeps"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed, 0 failed, 0 skipped, 1 filtered out"), "{text}");
}
