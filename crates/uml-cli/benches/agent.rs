//! `uml agent` end to end, against a local receiver that acknowledges every
//! push at once, next to `uml run` on the same file. A bench binary, not a
//! criterion group: one measurement is a whole process run to a condition
//! (every line acknowledged), repeated, the fastest kept.
//!
//! - **Throughput.** One generated model container file (CRI, 500,000
//!   lines), laid out as kubelet's pods tree. `uml agent` (pinned to one
//!   core with `taskset`) reads it, pushes protobuf + snappy to the
//!   receiver (on the other core), and the time runs until its metrics say
//!   every line is acknowledged, joined or dropped. `uml run --threads 1`,
//!   pinned the same way, writes the same file's NDJSON to `/dev/null`.
//! - **Memory with Loki down.** 1,000 container logs of 300 lines each,
//!   the receiver answering 503: the agent's peak resident memory once it
//!   has read what its budget allows and follows every file; and the same
//!   with Loki up and everything delivered, against one file, for the
//!   memory per followed file.
//!
//! `cargo bench -p uml-cli --bench agent` (about a minute; the corpus is
//! generated into a temporary directory and removed after).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uml_corpus::{Framing, Source, generate};

const UML: &str = env!("CARGO_BIN_EXE_uml");
const RUNS: usize = 3;

/// A receiver that reads each request and answers at once: 204, or 503
/// while `down`.
struct Receiver {
    url: String,
    down: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let down = Arc::new(AtomicBool::new(false));
        let bytes = Arc::new(AtomicU64::new(0));
        let (d, b) = (Arc::clone(&down), Arc::clone(&bytes));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (d, b) = (Arc::clone(&d), Arc::clone(&b));
                std::thread::spawn(move || serve(stream, &d, &b));
            }
        });
        Receiver { url, down, bytes }
    }
}

fn serve(mut stream: std::net::TcpStream, down: &AtomicBool, bytes: &AtomicU64) {
    let mut buf = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 256 << 10];
    loop {
        // Headers, then the body by Content-Length.
        let header_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < header_end + len {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        bytes.fetch_add(len as u64, Ordering::Relaxed);
        buf.drain(..header_end + len);
        let answer: &[u8] = if down.load(Ordering::Relaxed) {
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"
        } else {
            b"HTTP/1.1 204 No Content\r\n\r\n"
        };
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}

/// Writes `files` as a pods tree under `root`.
fn pods_tree(root: &Path, files: &[uml_corpus::File]) {
    for (i, f) in files.iter().enumerate() {
        let dir = root.join(format!("{}_{}_uid-{i:05}", f.namespace, f.pod)).join(&f.container);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("0.log"), &f.bytes).unwrap();
    }
}

struct Agent {
    child: Child,
    metrics: String,
}

impl Agent {
    fn start(root: &Path, state: &Path, loki: &str, pin: bool) -> Agent {
        let _ = std::fs::remove_dir_all(state);
        let mut cmd = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0", UML]);
            c
        } else {
            Command::new(UML)
        };
        cmd.args(["agent", "--loki", loki, "--metrics", "127.0.0.1:0", "--state"])
            .arg(state)
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("uml starts");
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let metrics = loop {
            line.clear();
            if std::io::BufRead::read_line(&mut stderr, &mut line).unwrap_or(0) == 0 {
                panic!("the agent ended before serving metrics");
            }
            if let Some(at) = line.find("\"address\":\"") {
                let rest = &line[at + 11..];
                break rest[..rest.find('"').unwrap()].to_string();
            }
        };
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = stderr.read_to_string(&mut sink);
        });
        Agent { child, metrics }
    }

    fn metric(&self, name: &str) -> f64 {
        let Ok(mut s) = std::net::TcpStream::connect(&self.metrics) else { return 0.0 };
        let _ = write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok()).sum()
    }

    /// Peak resident memory (VmHWM), bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// User and system CPU time of the process so far, seconds.
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // utime and stime are fields 14 and 15, the 12th and 13th after the name.
        (ticks(11) + ticks(12)) / 100.0
    }

    /// CPU time of each thread so far, by thread name.
    fn thread_cpu(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.child.id())) else { return out };
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let name = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')).map_or("", |(n, _)| n).to_string();
            let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
            let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            out.push((name, (ticks(11) + ticks(12)) / 100.0));
        }
        out
    }

    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    fn wait_for(&self, what: &str, deadline: Duration, mut cond: impl FnMut(&Agent) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(start.elapsed() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line read is acknowledged, joined or dropped.
    fn settled(&self, lines: f64) -> bool {
        let done = self.metric("uml_agent_lines_total{");
        self.metric("uml_agent_lines_read_total") >= lines && done >= lines
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let tmp = std::env::temp_dir().join(format!("uml-bench-agent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    throughput(&tmp);
    memory(&tmp);
    let _ = std::fs::remove_dir_all(&tmp);
}

fn throughput(tmp: &Path) {
    let lines = 500_000;
    let file = generate(Source::ModelContainer, Framing::Cri, lines, 1);
    let bytes = file.bytes.len() as f64;
    let root = tmp.join("one");
    pods_tree(&root, std::slice::from_ref(&file));
    let flat: PathBuf = tmp.join(&file.name);
    std::fs::write(&flat, &file.bytes).unwrap();
    let receiver = Receiver::start();
    let mut agent_best = f64::MAX;
    let mut agent_cpu = f64::MAX;
    let mut reader_cpu = f64::MAX;
    let mut run_best = f64::MAX;
    for _ in 0..RUNS {
        let start = Instant::now();
        let agent = Agent::start(&root, &tmp.join("state"), &receiver.url, true);
        agent.wait_for("every line acknowledged", Duration::from_secs(300), |a| a.settled(lines as f64));
        agent_best = agent_best.min(start.elapsed().as_secs_f64());
        agent_cpu = agent_cpu.min(agent.cpu());
        let reader: f64 = agent.thread_cpu().iter().filter(|(n, _)| n == "uml").map(|(_, c)| c).sum();
        reader_cpu = reader_cpu.min(reader);
        drop(agent);
        let start = Instant::now();
        let status = Command::new("taskset")
            .args(["-c", "0", UML, "run", "--threads", "1", "-o", "/dev/null"])
            .arg(&flat)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        run_best = run_best.min(start.elapsed().as_secs_f64());
    }
    let l = lines as f64;
    println!("agent/model_container ({lines} lines, {:.1} MB, one core):", bytes / 1e6);
    println!(
        "  uml agent → receiver   {:>8.3} s  {:>10.0} lines/s  {:>7.1} MB/s  (compressed bodies: {:.1} MB a run)",
        agent_best,
        l / agent_best,
        bytes / agent_best / 1e6,
        receiver.bytes.load(Ordering::Relaxed) as f64 / RUNS as f64 / 1e6
    );
    println!(
        "  uml agent, CPU time     {:>8.3} s  {:>10.0} lines/s  {:>7.1} MB/s  (both threads; wall time above includes \
         up to 250 ms of metrics staleness)",
        agent_cpu,
        l / agent_cpu,
        bytes / agent_cpu / 1e6
    );
    println!(
        "  uml run → /dev/null    {:>8.3} s  {:>10.0} lines/s  {:>7.1} MB/s",
        run_best,
        l / run_best,
        bytes / run_best / 1e6
    );
    println!(
        "  agent / run (CPU)      {:>8.2}   reading thread / run: {:.2}",
        run_best / agent_cpu,
        run_best / reader_cpu
    );
}

fn memory(tmp: &Path) {
    let files: Vec<uml_corpus::File> =
        (0..1000).map(|i| generate(Source::ModelContainer, Framing::Cri, 300, 100 + i)).collect();
    let lines: usize = files.iter().map(|f| f.lines).sum();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let root = tmp.join("many");
    pods_tree(&root, &files);
    let receiver = Receiver::start();

    receiver.down.store(true, Ordering::Relaxed);
    let agent = Agent::start(&root, &tmp.join("state-many"), &receiver.url, false);
    agent.wait_for("every stream followed", Duration::from_secs(120), |a| a.metric("uml_agent_streams ") >= 1000.0);
    agent.wait_for("reading to pause or every file read", Duration::from_secs(120), |a| {
        a.metric("uml_agent_backpressure ") == 1.0 || a.metric("uml_agent_lines_read_total") >= lines as f64
    });
    std::thread::sleep(Duration::from_secs(3));
    let down_peak = agent.peak_rss();
    let read = agent.metric("uml_agent_lines_read_total");
    receiver.down.store(false, Ordering::Relaxed);
    agent.wait_for("everything delivered", Duration::from_secs(300), |a| a.settled(lines as f64));
    let up_rss = agent.rss();
    let up_peak = agent.peak_rss();
    drop(agent);

    let one = tmp.join("one-small");
    pods_tree(&one, &files[..1]);
    let agent = Agent::start(&one, &tmp.join("state-one"), &receiver.url, false);
    agent.wait_for("one file delivered", Duration::from_secs(60), |a| a.settled(files[0].lines as f64));
    std::thread::sleep(Duration::from_secs(1));
    let one_rss = agent.rss();
    drop(agent);

    println!("agent/memory (1,000 model container logs, {lines} lines, {:.1} MB; budget 64 MiB):", bytes as f64 / 1e6);
    println!("  Loki down: peak RSS {:.1} MiB after reading {read} lines", down_peak as f64 / (1 << 20) as f64);
    println!(
        "  Loki up, all delivered: RSS {:.1} MiB (peak {:.1} MiB); one file followed: RSS {:.1} MiB",
        up_rss as f64 / (1 << 20) as f64,
        up_peak as f64 / (1 << 20) as f64,
        one_rss as f64 / (1 << 20) as f64
    );
    println!("  memory per followed file: {:.1} KiB", (up_rss.saturating_sub(one_rss)) as f64 / 999.0 / 1024.0);
}
