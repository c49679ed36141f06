//! `uml run` writes the same bytes on every run, whatever `--threads` is:
//! inputs are written whole, in path order. In Loki bodies each stream's
//! values are in time order.

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_uml")).current_dir(root).arg("run").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn the_output_does_not_depend_on_the_threads() {
    let one = run(&["--threads", "1", "examples/var/log/containers"]);
    assert!(!one.is_empty());
    for threads in ["2", "3", "8"] {
        for _ in 0..3 {
            assert!(run(&["--threads", threads, "examples/var/log/containers"]) == one, "--threads {threads}");
        }
    }
}

#[test]
fn loki_bodies_hold_each_streams_values_in_time_order() {
    let out = run(&["--format", "loki", "--threads", "2", "examples/var/log/containers"]);
    let mut values = 0;
    for body in String::from_utf8(out).unwrap().lines() {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        for stream in body["streams"].as_array().unwrap() {
            let times: Vec<i128> =
                stream["values"].as_array().unwrap().iter().map(|v| v[0].as_str().unwrap().parse().unwrap()).collect();
            assert!(times.is_sorted(), "a stream's values out of time order: {times:?}");
            values += times.len();
        }
    }
    assert!(values > 100);
}
