//! The `uml` binary as a process: what only a real process shows (exit
//! statuses, a pipe closed by its reader, colour choice from the
//! environment, clap's own output). Command behaviour is tested through the
//! library in the workspace's `tests/cli.rs`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BROKEN: &str = "rule app {\n  let = 1\n}\n";
const UNFORMATTED: &str = "rule app{when %container==\"app\"\n      payload.message=%line}";

fn uml() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_uml"));
    command.env_remove("NO_COLOR");
    command
}

/// Runs `uml ARGS…` with `stdin` as input.
fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the uml binary starts");
    child.stdin.take().expect("piped").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("uml runs")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

#[test]
fn exit_statuses() {
    let rule_set = "schema {\n  labels {\n    job: \"app\"\n  }\n}\n\nrule app {\n  emit\n}\n";
    let ok = run(uml().args(["check", "-"]), rule_set);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stderr), "ok: 1 file checked\n");

    let errors = run(uml().args(["check", "-"]), BROKEN);
    assert_eq!(errors.status.code(), Some(1));
    assert!(text(&errors.stderr).starts_with("error[E0201]"), "{}", text(&errors.stderr));

    let unreadable = run(uml().args(["check", "no/such/dir/x.uml"]), "");
    assert_eq!(unreadable.status.code(), Some(2));
    assert_eq!(text(&unreadable.stderr), "uml: cannot read no/such/dir/x.uml: No such file or directory\n");

    let usage = run(uml().args(["check", "--no-such-flag"]), "");
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn help_and_version() {
    let help = run(uml().arg("--help"), "");
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    // One line per subcommand, whatever the column width clap chooses.
    let command = |name: &str, about: &str| {
        help.lines().any(|l| l.trim_start().strip_prefix(name).is_some_and(|rest| rest.trim() == about))
    };
    assert!(
        command("run", "Transform container log files into unified records (NDJSON or Loki push bodies)"),
        "{help}"
    );
    assert!(command("check", "Report syntax, type and schema errors in a rule set"), "{help}");
    assert!(command("test", "Run the rule set's `test` blocks and show a diff for each failing one"), "{help}");
    assert!(command("explain", "Print what the compiler makes of a rule set, stage by stage"), "{help}");
    assert!(command("fmt", "Rewrite rule files in canonical form"), "{help}");
    assert!(help.contains("Examples:\n  uml run "), "{help}");

    let version = run(uml().arg("--version"), "");
    assert_eq!(text(&version.stdout), format!("uml {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_pipe_closed_by_its_reader_ends_quietly() {
    // `uml fmt - | head -0`: the reader is gone before uml writes.
    // Output larger than a pipe buffer, in case the reader were still there.
    let input = format!("{UNFORMATTED}\n{}", "# padding\n".repeat(20_000));
    let mut child = uml()
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the uml binary starts");
    drop(child.stdout.take());
    child.stdin.take().expect("piped").write_all(input.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("uml runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let coloured = |command: &mut Command| run(command, BROKEN).stderr.contains(&0x1b);
    // Standard error is a pipe here, so `auto` means no colour.
    assert!(!coloured(uml().args(["check", "-"])));
    assert!(coloured(uml().args(["--color", "always", "check", "-"])));
    assert!(coloured(uml().args(["check", "--color=always", "-"]).env("NO_COLOR", "1")));
    assert!(!coloured(uml().args(["check", "--color", "never", "-"])));
}
