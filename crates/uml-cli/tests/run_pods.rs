//! `uml run` on kubelet's pods tree: a container log is its rotated files
//! (compressed or not) and its live file, read in writing order as one
//! stream.

#[path = "../../uml-agent/tests/support/mod.rs"]
mod support;

use support::kubelet::{Kubelet, model_line, model_pod, seq_of};

#[test]
fn a_container_log_is_read_through_its_rotations_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(&tmp.path().join("pods"));
    let (ns, pod) = model_pod("x5qe2qo", "q7rg5");
    let mut log = kubelet.container(&ns, &pod, "model");
    let mut seq = 0;
    for _ in 0..3 {
        for _ in 0..50 {
            log.write_line("stderr", &model_line(seq));
            seq += 1;
        }
        log.rotate();
    }
    // A traceback cut by a rotation.
    log.write_line("stderr", "ERROR: predict failed");
    log.write_line("stderr", "Traceback (most recent call last):");
    log.rotate();
    log.write_line("stderr", "  File \"/app/model/model.py\", line 12, in predict");
    log.write_line("stderr", "ValueError: bad input");
    log.write_line("stderr", &model_line(seq));
    assert!(log.rotated_files().iter().any(|p| p.extension().is_some_and(|e| e == "gz")), "a compressed file");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_uml")).arg("run").arg(kubelet.root()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let payloads: Vec<serde_json::Value> =
        records.iter().map(|r| serde_json::from_str(r["line"].as_str().unwrap()).unwrap()).collect();
    let seqs: Vec<u64> = payloads.iter().filter_map(|p| seq_of(p["message"].as_str()?)).collect();
    assert_eq!(seqs, (0..=seq).collect::<Vec<_>>(), "every line once, in the order written");
    let traceback: Vec<_> = payloads.iter().filter(|p| p["exc_info"].is_string()).collect();
    assert_eq!(traceback.len(), 1, "one record for the traceback across the rotation: {payloads:?}");
    assert!(traceback[0]["exc_info"].as_str().unwrap().ends_with("ValueError: bad input"));
}
