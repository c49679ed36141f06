//! `uml agent`, the real binary as a child process, against a fake Loki that
//! decodes real protobuf + snappy and a kubelet simulator that writes,
//! rotates, compresses and deletes as kubelet does. Every test waits for
//! conditions with generous deadlines, never for fixed times.

#[path = "../../../uml-agent/tests/support/mod.rs"]
mod support;

mod crash;
mod harness;

use harness::{Agent, Options, Scene, assert_all, model_container, seqs, wait_for_all};
use std::time::Duration;
use support::fake_loki::{FakeLoki, Step};
use support::kubelet::{Kubelet, model_line, model_pod};
use support::{DEADLINE, wait_until};

/// Every line of a growing file arrives once, with the four labels and a
/// payload that meets the contract.
#[test]
fn delivers_every_line_of_a_growing_file_once() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    for seq in 0..100 {
        log.write_line("stderr", &model_line(seq));
    }
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    wait_for_all(&loki, 100, DEADLINE);
    for seq in 100..300 {
        log.write_line("stderr", &model_line(seq));
    }
    wait_for_all(&loki, 300, DEADLINE);
    assert!(agent.terminate().success());
    let entries = loki.entries();
    assert_eq!(entries.len(), 300, "no duplicates");
    assert_eq!(loki.errors(), Vec::<String>::new());
    let e = &entries[0];
    assert_eq!(
        e.labels_raw,
        format!(
            r#"{{job="fluent-bit", model_version_id="x5qe2qo", namespace="{}", unified_model_logs="1"}}"#,
            log.namespace()
        )
    );
    assert_eq!(
        e.line,
        r#"{"levelname":"INFO","message":"request seq=0 done","replica":"q7rg5","source":"model_container"}"#
    );
    // Each stream's entries are in time order.
    assert!(entries.windows(2).all(|w| w[0].timestamp_ns <= w[1].timestamp_ns));
}

/// Rotation while running: the renamed file is finished, then the new one;
/// compressed files are read from their `.gz`.
#[test]
fn follows_kubelet_rotations_and_compression() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    let mut seq = 0;
    for round in 0..8u64 {
        for _ in 0..200 {
            log.write_line("stderr", &model_line(seq));
            seq += 1;
        }
        log.rotate();
        // Kubelet rotates every 10 s at most, and keeps 3 rotated files
        // here: the agent may lag two rotations behind, never more, or
        // kubelet deletes a file it has not read.
        if round >= 2 {
            wait_for_all(&loki, (round - 1) * 200, DEADLINE);
        }
    }
    wait_for_all(&loki, seq, DEADLINE);
    assert!(agent.terminate().success());
    let counts = seqs(&loki.entries());
    assert!(counts.values().all(|n| *n == 1), "no duplicates");
    let order: Vec<u64> = loki.entries().iter().filter_map(|e| e.seq()).collect();
    let disorder: Vec<_> = order.windows(2).filter(|w| w[0] >= w[1]).collect();
    assert!(disorder.is_empty(), "in the order written: {disorder:?}");
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// SIGTERM and a restart: none missing, none repeated; a rotation while the
/// agent is stopped is caught up from the rotated (and compressed) files.
#[test]
fn a_graceful_restart_sends_no_duplicates_and_catches_up_rotations() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let options = Options::new(&loki, &tmp.path().join("state"), kubelet.root());
    let mut seq = 0;
    for round in 0..3 {
        let agent = Agent::start(&options);
        for _ in 0..150 {
            log.write_line("stderr", &model_line(seq));
            seq += 1;
        }
        wait_for_all(&loki, seq, DEADLINE);
        assert!(agent.terminate().success(), "round {round}");
        // While the agent is away: lines, two rotations (the first file is
        // compressed at the second), more lines.
        for _ in 0..2 {
            for _ in 0..100 {
                log.write_line("stderr", &model_line(seq));
                seq += 1;
            }
            log.rotate();
        }
    }
    let agent = Agent::start(&options);
    wait_for_all(&loki, seq, DEADLINE);
    assert!(agent.terminate().success());
    let counts = seqs(&loki.entries());
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "repeated after graceful restarts: {repeated:?}");
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// A new container's empty live file, its position saved before anything
/// is written (offset 0, no first bytes to know the file by), and the agent
/// killed. Two rotations later, with compression, kubelet has freed that
/// file's inode number and the newest live file has it (on ext4, which gives
/// a freed number to the next new file). The restarted agent must not take
/// the newest file for the one it saved and skip the two between.
#[test]
fn a_restart_does_not_take_a_newer_file_with_the_inode_of_an_empty_one() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let state = tmp.path().join("state");
    let options = Options::new(&loki, &state, kubelet.root());
    let agent = Agent::start(&options);
    let saved_on_the_empty_file = || {
        let text = std::fs::read_to_string(state.join("positions.json")).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        v["streams"].as_object().is_some_and(|streams| {
            streams.values().any(|p| p["file"] == "0.log" && p["offset"] == 0 && p["fingerprint"]["len"] == 0)
        })
    };
    wait_until(DEADLINE, "the position saved on the empty live file", saved_on_the_empty_file);
    let ino = |path: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap());
    let saved_ino = ino(&log.path());
    agent.kill9();
    let mut seq = 0;
    for round in 0..3 {
        for _ in 0..100 {
            log.write_line("stderr", &model_line(seq));
            seq += 1;
        }
        if round < 2 {
            log.rotate();
        }
    }
    eprintln!("the saved file's inode was {saved_ino}; the live file's is {}", ino(&log.path()));
    let agent = Agent::start(&options);
    wait_for_all(&loki, seq, DEADLINE);
    assert!(agent.terminate().success());
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// Loki failing for a while (500s, a 429 with Retry-After, a hung request,
/// a reset connection): nothing is lost, and the retries are counted.
#[test]
fn nothing_is_lost_while_loki_fails() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    loki.script(vec![
        Step::Status(500, "ingester unavailable".into()),
        Step::TooManyRequests { retry_after_secs: 1 },
        Step::Reset,
        Step::Hang,
        Step::Status(503, "".into()),
    ]);
    let mut log = model_container(&mut kubelet);
    for seq in 0..500 {
        log.write_line("stderr", &model_line(seq));
    }
    let options = Options::new(&loki, &tmp.path().join("state"), kubelet.root()).arg("--timeout").arg("1s");
    let agent = Agent::start(&options);
    wait_for_all(&loki, 500, Duration::from_secs(60));
    let m = agent.metrics();
    assert!(m.get(r#"uml_agent_push_retries_total{status="500"}"#).copied().unwrap_or(0.0) >= 1.0, "{m:?}");
    assert!(m.get(r#"uml_agent_push_retries_total{status="429"}"#).copied().unwrap_or(0.0) >= 1.0, "{m:?}");
    assert!(m.get(r#"uml_agent_push_retries_total{status="error"}"#).copied().unwrap_or(0.0) >= 2.0, "{m:?}");
    loki.release_hung();
    assert!(agent.terminate().success());
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// A 400 for one stream: Loki keeps the request's other streams; the agent
/// counts the refused records as dropped, does not send them again, and
/// moves on.
#[test]
fn a_400_is_counted_and_never_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let loki = FakeLoki::start();
    loki.script(vec![Step::RejectStreams {
        label: "model_version_id".into(),
        value: "bad0000".into(),
        reason: "entry for stream has timestamp too old".into(),
    }]);
    let mut kubelet = Kubelet::new(&tmp.path().join("pods"));
    let (ns, pod) = model_pod("x5qe2qo", "q7rg5");
    let mut good = kubelet.container(&ns, &pod, "model");
    let (ns2, pod2) = model_pod("bad0000", "b2b2b");
    let mut bad = kubelet.container(&ns2, &pod2, "model");
    for seq in 0..20 {
        good.write_line("stderr", &model_line(seq));
        bad.write_line("stderr", &model_line(1000 + seq));
    }
    let options = Options::new(&loki, &tmp.path().join("state"), kubelet.root()).arg("--batch-wait").arg("2s");
    let agent = Agent::start(&options);
    wait_for_all(&loki, 20, DEADLINE);
    wait_until(DEADLINE, "the refused records counted", || {
        agent.metrics().get(r#"uml_agent_lines_dropped_total{reason="rejected by Loki (400)"}"#).copied().unwrap_or(0.0)
            >= 1.0
    });
    let requests = loki.requests().len();
    assert!(agent.terminate().success());
    // The refused stream is not sent again after a restart either.
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    good.write_line("stderr", &model_line(20));
    wait_for_all(&loki, 21, DEADLINE);
    assert!(agent.terminate().success());
    let bad_seen = loki.entries().iter().filter(|e| e.labels["model_version_id"] == "bad0000").count();
    assert!(bad_seen < 20, "the refused stream's records were not all stored: {bad_seen}");
    assert!(loki.requests().len() > requests);
    assert!(seqs(&loki.entries()).iter().filter(|(s, _)| **s < 1000).all(|(_, n)| *n == 1));
}

/// A second agent on the same state directory is refused, clearly.
#[test]
fn one_agent_per_state_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let loki = FakeLoki::start();
    std::fs::create_dir_all(tmp.path().join("pods")).unwrap();
    let options = Options::new(&loki, &tmp.path().join("state"), &tmp.path().join("pods"));
    let first = Agent::start(&options);
    let second = Agent::spawn(&options);
    wait_until(DEADLINE, "the second agent to say why it cannot run", || {
        second.stderr().iter().any(|l| l.contains("another uml agent is using the state directory"))
    });
    assert_eq!(second.wait_exit(DEADLINE).code(), Some(2));
    assert!(first.terminate().success());
}

/// Long lines (300 KiB, 20 MiB, in CRI pieces and as one raw line): bounded
/// records, and the agent goes on.
#[test]
fn long_lines_give_bounded_records() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    log.write_line("stderr", &model_line(0));
    let piece = "x".repeat(16 * 1024);
    let pieces_300k: Vec<&str> = std::iter::repeat_n(piece.as_str(), 300 / 16 + 1).collect();
    log.write_pieces("stdout", &pieces_300k);
    log.write_line("stderr", &model_line(1));
    let pieces_20m: Vec<&str> = std::iter::repeat_n(piece.as_str(), 20 * 64).collect();
    log.write_pieces("stdout", &pieces_20m);
    log.write_line("stderr", &model_line(2));
    let mut raw = b"2026-11-20T10:00:00.5Z stdout F ".to_vec();
    raw.extend(std::iter::repeat_n(b'y', 3 << 20));
    raw.push(b'\n');
    log.write_raw(&raw);
    log.write_line("stderr", &model_line(3));
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    wait_for_all(&loki, 4, Duration::from_secs(60));
    wait_until(DEADLINE, "the long lines' records", || loki.entries().len() >= 7);
    assert!(agent.terminate().success());
    for e in loki.entries() {
        assert!(e.line.len() <= 256 * 1024, "a record of {} bytes", e.line.len());
    }
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// Without `--loki`, records go to standard output as NDJSON, following
/// the files, with positions kept the same way.
#[test]
fn without_loki_records_are_ndjson_on_standard_output() {
    let tmp = tempfile::tempdir().unwrap();
    let mut kubelet = Kubelet::new(&tmp.path().join("pods"));
    let (ns, pod) = model_pod("x5qe2qo", "q7rg5");
    let mut log = kubelet.container(&ns, &pod, "model");
    for seq in 0..10 {
        log.write_line("stderr", &model_line(seq));
    }
    let options = Options {
        loki: None,
        state: tmp.path().join("state"),
        roots: vec![kubelet.root().to_path_buf()],
        extra: vec![],
    };
    let agent = Agent::start(&options);
    wait_until(DEADLINE, "ten records on standard output", || {
        agent.stdout().iter().filter(|b| **b == b'\n').count() >= 10
    });
    log.write_line("stderr", &model_line(10));
    wait_until(DEADLINE, "the appended line", || agent.stdout().iter().filter(|b| **b == b'\n').count() >= 11);
    let out = String::from_utf8(agent.stdout()).unwrap();
    assert!(agent.terminate().success());
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["labels"]["model_version_id"], "x5qe2qo");
    // A restart prints nothing again.
    let agent = Agent::start(&options);
    log.write_line("stderr", &model_line(11));
    wait_until(DEADLINE, "the new line", || !agent.stdout().is_empty());
    let out = String::from_utf8(agent.stdout()).unwrap();
    assert!(agent.terminate().success());
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("seq=11"));
}

/// The accounting law holds in the metrics once everything is delivered.
#[test]
fn the_metrics_account_for_every_line() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let (ns, pod) = (log.namespace().to_string(), log.pod().to_string());
    let mut sidecar = kubelet.container(&ns, &pod, "queue-proxy");
    for seq in 0..50 {
        log.write_line("stderr", &model_line(seq));
        sidecar.write_line("stdout", "sidecar noise");
    }
    log.write_line("stdout", "");
    log.write_pieces("stdout", &["a ", "b ", "c"]);
    log.write_raw(b"not a CRI line\n");
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    wait_for_all(&loki, 50, DEADLINE);
    wait_until(DEADLINE, "the law to hold with nothing pending", || {
        let m = agent.metrics();
        let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
        let read = get("uml_agent_lines_read_total");
        let outcomes: f64 = m.iter().filter(|(k, _)| k.starts_with("uml_agent_lines_total{")).map(|(_, v)| v).sum();
        let pending: f64 = m.iter().filter(|(k, _)| k.starts_with("uml_agent_lines_pending{")).map(|(_, v)| v).sum();
        read == 50.0 + 50.0 + 1.0 + 3.0 + 1.0 && pending == 0.0 && outcomes == read
    });
    let m = agent.metrics();
    assert_eq!(m[r#"uml_agent_lines_dropped_total{reason="unrouted"}"#], 50.0);
    assert_eq!(m[r#"uml_agent_lines_total{outcome="joined"}"#], 2.0);
    assert_eq!(agent.get("/healthz").map(|r| r.0), Some(200));
    assert_eq!(agent.get("/ready").map(|r| r.0), Some(200));
    assert!(agent.terminate().success());
    assert_all(&seqs(&loki.entries()), 50);
}

/// A directory laid out as kubelet lays out a ConfigMap volume: the files in
/// a hidden timestamped directory, `..data` linking to it, and a link per
/// file through `..data`. `publish` swaps `..data` atomically, as kubelet
/// does on an update.
struct ConfigMapDir {
    dir: std::path::PathBuf,
    version: u32,
}

impl ConfigMapDir {
    fn new(dir: &std::path::Path, files: &[(String, String)]) -> ConfigMapDir {
        std::fs::create_dir_all(dir).unwrap();
        let mut c = ConfigMapDir { dir: dir.to_path_buf(), version: 0 };
        c.publish(files);
        for (name, _) in files {
            std::os::unix::fs::symlink(format!("..data/{name}"), dir.join(name)).unwrap();
        }
        c
    }

    fn publish(&mut self, files: &[(String, String)]) {
        self.version += 1;
        let stamp = format!("..2026_11_20_10_00_00.{:09}", self.version);
        let target = self.dir.join(&stamp);
        std::fs::create_dir(&target).unwrap();
        for (name, text) in files {
            std::fs::write(target.join(name), text).unwrap();
        }
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&stamp, &tmp).unwrap();
        let old = std::fs::read_link(self.dir.join("..data")).ok();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        if let Some(old) = old {
            std::fs::remove_dir_all(self.dir.join(old)).unwrap();
        }
    }
}

fn rule_files(edit: impl Fn(&str, String) -> String) -> Vec<(String, String)> {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut files: Vec<(String, String)> = std::fs::read_dir(rules)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            let text = edit(&name, text);
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// Rules from a ConfigMap: an edit is picked up without a signal; a broken
/// edit changes nothing but a metric and a log line; SIGHUP reloads too.
#[test]
fn rules_reload_from_a_configmap_and_a_broken_edit_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let loki = FakeLoki::start();
    let mut rules = ConfigMapDir::new(&tmp.path().join("rules"), &rule_files(|_, t| t));
    let mut kubelet = Kubelet::new(&tmp.path().join("pods"));
    let (ns, pod) = model_pod("x5qe2qo", "q7rg5");
    let mut log = kubelet.container(&ns, &pod, "model");
    let options = Options::new(&loki, &tmp.path().join("state"), kubelet.root())
        .arg("--rules")
        .arg(tmp.path().join("rules").to_str().unwrap());
    let agent = Agent::start(&options);
    log.write_line("stderr", &model_line(0));
    wait_for_all(&loki, 1, DEADLINE);
    assert!(!loki.entries()[0].line.contains("rules_version"));

    // A good edit: an extra payload field.
    let tagged = |version: &'static str| {
        move |name: &str, text: String| {
            if name == "model_container.uml" {
                text.replacen(
                    "payload.source = \"model_container\"",
                    &format!("payload.source = \"model_container\"\n  payload.rules_version = \"{version}\""),
                    1,
                )
            } else {
                text
            }
        }
    };
    rules.publish(&rule_files(tagged("2")));
    wait_until(DEADLINE, "the edited rules to be loaded", || {
        agent.metrics().get(r#"uml_agent_rules_reloads_total{result="success"}"#).copied() == Some(1.0)
    });
    log.write_line("stderr", &model_line(1));
    wait_for_all(&loki, 2, DEADLINE);
    let last = loki.entries().into_iter().find(|e| e.seq() == Some(1)).unwrap();
    assert!(last.line.contains(r#""rules_version":"2""#), "{}", last.line);

    // A broken edit: a source the schema does not allow.
    rules.publish(&rule_files(|name, text| {
        if name == "model_container.uml" {
            text.replacen("payload.source = \"model_container\"", "payload.source = \"nonsense\"", 1)
        } else {
            text
        }
    }));
    wait_until(DEADLINE, "the broken rules to be refused", || {
        agent.metrics().get(r#"uml_agent_rules_reloads_total{result="failure"}"#).copied() == Some(1.0)
    });
    wait_until(DEADLINE, "the diagnostics in the agent's log", || {
        agent.stderr().iter().any(|l| l.contains("the new rules do not compile"))
    });
    log.write_line("stderr", &model_line(2));
    wait_for_all(&loki, 3, DEADLINE);
    let last = loki.entries().into_iter().find(|e| e.seq() == Some(2)).unwrap();
    assert!(last.line.contains(r#""rules_version":"2""#), "the old rules go on: {}", last.line);
    assert_eq!(agent.get("/ready").map(|r| r.0), Some(200));

    // SIGHUP reloads as well.
    rules.publish(&rule_files(tagged("3")));
    agent.hup();
    wait_until(DEADLINE, "a reload after SIGHUP", || {
        agent.metrics().get(r#"uml_agent_rules_reloads_total{result="success"}"#).copied() >= Some(2.0)
    });
    log.write_line("stderr", &model_line(3));
    wait_for_all(&loki, 4, DEADLINE);
    assert!(agent.terminate().success());
    let counts = seqs(&loki.entries());
    assert!(counts.values().all(|n| *n == 1), "a reload repeats nothing: {counts:?}");
    assert_eq!(loki.errors(), Vec::<String>::new());
}

/// A container restart (`1.log`) and a deleted pod: every line arrives,
/// and the deleted pod's stream is forgotten once done.
#[test]
fn restarts_and_deleted_pods() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    for seq in 0..10 {
        log.write_line("stderr", &model_line(seq));
    }
    // A partial line the dead container never finished: emitted as it is
    // once the container is known to write no more.
    log.write_partial("stdout", "cut short seq=10 by the crash");
    log.restart();
    for seq in 11..20 {
        log.write_line("stderr", &model_line(seq));
    }
    wait_for_all(&loki, 20, DEADLINE);
    log.delete_pod();
    wait_until(DEADLINE, "the deleted pod's streams to be forgotten", || {
        agent.metrics().get("uml_agent_streams").copied() == Some(0.0)
    });
    assert!(agent.terminate().success());
    assert!(seqs(&loki.entries()).values().all(|n| *n == 1));
}

/// A traceback's head line waits for what follows; with nothing after it,
/// the group closes after the rule's `idle` time, by the lines' clock moved
/// on by the time since the last line came.
#[test]
fn an_open_group_closes_after_its_idle_time() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    log.write_line("stderr", "ERROR: predict failed seq=0");
    log.write_line("stderr", "Traceback (most recent call last):");
    log.write_line("stderr", "  File \"/app/model/model.py\", line 12, in predict");
    log.write_line("stderr", "ValueError: bad input");
    // Nothing more is written: the traceback may still go on (a chained
    // one), until the rule's idle time says it is over.
    wait_for_all(&loki, 1, DEADLINE);
    let e = &loki.entries()[0];
    let payload = e.payload();
    assert_eq!(payload["levelname"], "ERROR");
    assert_eq!(payload["message"], "predict failed seq=0");
    assert!(payload["exc_info"].as_str().unwrap().ends_with("ValueError: bad input"), "{payload}");
    assert!(agent.terminate().success());
    assert_eq!(loki.entries().len(), 1);
}

/// A live file truncated in place is read again from its start, and counted.
#[test]
fn a_truncated_file_is_read_again_from_its_start() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    let mut log = model_container(&mut kubelet);
    for seq in 0..20 {
        log.write_line("stderr", &model_line(seq));
    }
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    wait_for_all(&loki, 20, DEADLINE);
    // Truncate in place (copytruncate), then write on.
    std::fs::OpenOptions::new().write(true).open(log.path()).unwrap().set_len(0).unwrap();
    for seq in 20..25 {
        log.write_line("stderr", &model_line(seq));
    }
    wait_for_all(&loki, 25, DEADLINE);
    wait_until(DEADLINE, "the truncation counted", || {
        agent.metrics().get("uml_agent_truncated_files_total").copied() == Some(1.0)
    });
    assert!(agent.terminate().success());
    assert!(seqs(&loki.entries()).values().all(|n| *n == 1));
}

/// 413: the batch is split until Loki takes the halves.
#[test]
fn a_batch_too_large_is_split() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    loki.set_default(Step::TooLargeOver(2000));
    let mut log = model_container(&mut kubelet);
    for seq in 0..200 {
        log.write_line("stderr", &model_line(seq));
    }
    let agent = Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()));
    wait_for_all(&loki, 200, DEADLINE);
    let m = agent.metrics();
    assert!(m["uml_agent_batch_splits_total"] >= 1.0, "{m:?}");
    assert!(agent.terminate().success());
    assert!(seqs(&loki.entries()).values().all(|n| *n == 1));
}

/// 401: retried slowly, `/ready` says why; the records arrive once Loki
/// takes the credentials.
#[test]
fn refused_credentials_make_the_agent_not_ready() {
    let Scene { tmp, loki, mut kubelet } = Scene::new();
    loki.script(vec![Step::Status(401, "no org id".into())]);
    let mut log = model_container(&mut kubelet);
    log.write_line("stderr", &model_line(0));
    let agent =
        Agent::start(&Options::new(&loki, &tmp.path().join("state"), kubelet.root()).arg("--tenant").arg("team-a"));
    wait_until(DEADLINE, "/ready to fail on the credentials", || {
        agent.get("/ready").is_some_and(|(status, body)| status == 503 && body.contains("401/403"))
    });
    assert!(agent.terminate().success());
    assert_eq!(loki.requests()[0].tenant.as_deref(), Some("team-a"));
}
