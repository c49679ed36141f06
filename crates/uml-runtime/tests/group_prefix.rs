//! Tracebacks whose every line carries a process tag (vLLM's and Ray's
//! `(Name pid=N) `, torch.distributed's `[rankN]: `): the tag is not part of
//! the traceback. The grammar reads each line without the tag the group
//! began with, the group's text leaves it out, and a head line keeps it
//! (its rule reads it). A line of another process ends the group.

use uml_runtime::group::{Group, GroupConfig, Grouper, Stream};

fn groups(lines: &[&str]) -> Vec<(String, Option<String>, u32)> {
    let mut grouper = Grouper::new(&GroupConfig::python_traceback());
    let mut out = Vec::new();
    let mut sink = |g: Group<'_>| out.push((g.line.to_string(), g.traceback.map(str::to_string), g.lines));
    for (ts, line) in (1..).zip(lines) {
        grouper.push(Stream::Stderr, ts, line, &mut sink);
    }
    grouper.finish(&mut sink);
    out
}

#[test]
fn a_tagged_traceback_is_one_group_without_its_tags() {
    let got = groups(&[
        "(APIServer pid=1) INFO 11-20 04:54:33 [api_server.py:598] Supported tasks: ['generate']",
        "(APIServer pid=1) ERROR 11-20 04:54:34 [core.py:700] EngineCore failed to start.",
        "(APIServer pid=1) Traceback (most recent call last):",
        "(APIServer pid=1)   File \"/app/engine.py\", line 12, in run",
        "(APIServer pid=1)     raise RuntimeError(\"CUDA out of memory\")",
        "(APIServer pid=1) RuntimeError: CUDA out of memory",
        "(APIServer pid=1) INFO 11-20 04:54:35 [launcher.py:80] Shutting down",
    ]);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(got[1].0, "(APIServer pid=1) ERROR 11-20 04:54:34 [core.py:700] EngineCore failed to start.");
    assert_eq!(
        got[1].1.as_deref(),
        Some(
            "Traceback (most recent call last):\n  File \"/app/engine.py\", line 12, in run\n    raise \
             RuntimeError(\"CUDA out of memory\")\nRuntimeError: CUDA out of memory"
        )
    );
    assert_eq!(got[1].2, 5);
}

#[test]
fn rank_tags_blank_tag_lines_and_another_process() {
    let got = groups(&[
        "[rank0]: Traceback (most recent call last):",
        "[rank0]:   File \"train.py\", line 3, in <module>",
        "[rank0]: ValueError: bad shard",
        "[rank0]:",
        "[rank0]: During handling of the above exception, another exception occurred:",
        "[rank0]: Traceback (most recent call last):",
        "[rank0]:   File \"train.py\", line 9, in <module>",
        "[rank1]:   File \"train.py\", line 3, in <module>",
    ]);
    assert_eq!(got[0].0, "ValueError: bad shard");
    let tb = got[0].1.as_deref().unwrap();
    assert!(tb.starts_with("Traceback (most recent call last):\n  File \"train.py\", line 3"), "{tb}");
    assert!(!tb.contains("[rank"), "the tags are not part of the traceback: {tb}");
    assert_eq!(got[0].2, 7, "the chain, its blank line included");
    assert_eq!(got.len(), 2, "rank1's line is another process's: {got:#?}");
}

/// A JSON line says its level itself: with the default head, an INFO line
/// whose message has an error word does not take the traceback after it;
/// an ERROR line does.
#[test]
fn a_json_line_is_a_head_only_at_an_error_level() {
    let got = groups(&[
        r#"{"levelname": "INFO", "message": "retrying after a connection error"}"#,
        "Traceback (most recent call last):",
        "  File \"/app/model.py\", line 12, in predict",
        "ValueError: bad input",
    ]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[1].0, "ValueError: bad input");
    let got = groups(&[
        r#"{"level": 50, "msg": "request failed: connection error"}"#,
        "Traceback (most recent call last):",
        "ValueError: bad input",
    ]);
    assert_eq!(got.len(), 1, "pino's 50 is an error: {got:#?}");
}
