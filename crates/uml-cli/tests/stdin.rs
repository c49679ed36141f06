//! `uml run -`: standard input and the flags that go with it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uml"))
        .arg("run")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

const MODEL: [&str; 6] = [
    "--pod",
    "model-x5qe2qo-7d9f8b6c5d-q7rg5",
    "--namespace",
    "org-50a9bc6b456e47aa88e0d81e622ea315",
    "--container",
    "model",
];

#[test]
fn kubectl_logs_output_is_read_as_raw_text() {
    // What `kubectl logs` prints: the container's lines, unframed.
    let text = "INFO:     Started server process [12625]\nERROR:root:predict failed\n\
                Traceback (most recent call last):\n  File \"/app/model.py\", line 12, in predict\nValueError: bad input\n";
    let mut args = vec!["--framing", "raw", "-o", "-"];
    args.extend(MODEL);
    args.push("-");
    let out = run(&args, text);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let records: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let payload: serde_json::Value = serde_json::from_str(records[1]["line"].as_str().unwrap()).unwrap();
    assert_eq!(payload["levelname"], "ERROR");
    assert!(payload["exc_info"].as_str().unwrap().ends_with("ValueError: bad input"));
    assert!(!stderr.contains("warning"), "the metadata was given: {stderr}");
}

#[test]
fn standard_input_without_metadata_warns() {
    let out = run(&["-"], "2026-11-20T10:00:00Z stdout F hello\n");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: standard input read without --pod"));
}

#[test]
fn flags_that_do_not_apply_are_errors() {
    for (args, says) in [
        (&["-", "a.log"][..], "cannot be read together with files"),
        (&["--pod", "p", "a.log"], "--pod applies to standard input"),
        (&["--threads", "2", "-"], "--threads does not apply to standard input"),
        (&["--framing", "raw", "a.log"], "--framing applies to standard input"),
    ] {
        let out = run(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
