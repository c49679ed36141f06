//! The agent as a child process: started on a state directory and a pods
//! root, its standard error collected, its metrics read, stopped with
//! `SIGTERM` or killed with `SIGKILL`.

use crate::support::fake_loki::{Entry, FakeLoki};
use crate::support::kubelet::{ContainerLog, Kubelet, model_pod};
use crate::support::{DEADLINE, wait_until};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const UML: &str = env!("CARGO_BIN_EXE_uml");

/// What most tests start from: a temporary directory, a fake Loki, and a
/// kubelet writing under `<tmp>/pods`.
pub struct Scene {
    pub tmp: tempfile::TempDir,
    pub loki: FakeLoki,
    pub kubelet: Kubelet,
}

impl Scene {
    pub fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let kubelet = Kubelet::new(&tmp.path().join("pods"));
        Scene { tmp, loki: FakeLoki::start(), kubelet }
    }
}

/// The model container of model version `x5qe2qo`, replica `q7rg5`.
pub fn model_container(kubelet: &mut Kubelet) -> ContainerLog {
    let (ns, pod) = model_pod("x5qe2qo", "q7rg5");
    kubelet.container(&ns, &pod, "model")
}

/// A running `uml agent`.
pub struct Agent {
    child: Option<Child>,
    stderr: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    pub metrics_addr: Option<String>,
}

/// How to start one.
#[derive(Clone)]
pub struct Options {
    pub loki: Option<String>,
    pub state: PathBuf,
    pub roots: Vec<PathBuf>,
    pub extra: Vec<String>,
}

impl Options {
    pub fn new(loki: &FakeLoki, state: &Path, root: &Path) -> Options {
        Options { loki: Some(loki.url()), state: state.to_path_buf(), roots: vec![root.to_path_buf()], extra: vec![] }
    }

    pub fn arg(mut self, a: &str) -> Options {
        self.extra.push(a.to_string());
        self
    }
}

impl Agent {
    /// Starts the agent and waits until its metrics listener is up (which
    /// is after the state lock and the rules).
    pub fn start(options: &Options) -> Agent {
        let agent = Agent::spawn(options);
        let mut agent = agent;
        let stderr = Arc::clone(&agent.stderr);
        let mut addr = None;
        wait_until(DEADLINE, "the agent to start its metrics listener", || {
            addr = stderr.lock().unwrap().iter().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                (v["msg"] == "serving metrics").then(|| v["address"].as_str().unwrap().to_string())
            });
            addr.is_some()
        });
        agent.metrics_addr = addr;
        agent
    }

    /// Starts the agent without waiting for anything.
    pub fn spawn(options: &Options) -> Agent {
        let mut cmd = Command::new(UML);
        cmd.arg("agent").arg("--state").arg(&options.state).args(["--metrics", "127.0.0.1:0", "--batch-wait", "100ms"]);
        if let Some(loki) = &options.loki {
            cmd.args(["--loki", loki]);
        }
        cmd.args(&options.extra).args(&options.roots);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the uml binary starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (e, o) = (Arc::clone(&stderr), Arc::clone(&stdout));
        let err = child.stderr.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                e.lock().unwrap().push(line);
            }
        });
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Agent { child: Some(child), stderr, stdout, metrics_addr: None }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.lock().unwrap().clone()
    }

    /// `SIGTERM`, and the exit status (within the deadline).
    pub fn terminate(mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        signal(child.id(), "TERM");
        let status = wait_exit(child, DEADLINE).expect("the agent exits after SIGTERM");
        self.child = None;
        self.keep_log("terminated");
        status
    }

    /// `SIGKILL`: the agent has no time to do anything.
    pub fn kill9(mut self) {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        self.keep_log("killed");
    }

    /// With `UML_TEST_AGENT_LOGS=DIR`, appends the agent's log to
    /// `DIR/<test name>.log`: every agent of a crash test, not only the last
    /// one's tail, to find out what a rare failure did (`UML_AGENT_TRACE=1`
    /// adds the files read).
    fn keep_log(&self, how: &str) {
        use std::io::Write;
        let Some(dir) = std::env::var_os("UML_TEST_AGENT_LOGS") else { return };
        let test = std::thread::current().name().unwrap_or("test").replace("::", "-");
        let path = Path::new(&dir).join(format!("{test}.log"));
        let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) else { return };
        let _ = writeln!(file, "--- agent {how} ---");
        for line in self.stderr() {
            let _ = writeln!(file, "{line}");
        }
    }

    pub fn hup(&self) {
        signal(self.pid(), "HUP");
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(mut self, deadline: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let status = wait_exit(child, deadline).expect("the agent exits");
        self.child = None;
        status
    }

    /// The metrics, by series (`name{labels}` → value).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let addr = self.metrics_addr.as_ref().expect("the agent serves metrics");
        let text = http_get(addr, "/metrics").map(|(_, body)| body).unwrap_or_default();
        parse_metrics(&text)
    }

    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.metrics_addr.as_ref()?, path)
    }

    /// The open file descriptors of the process.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map(|d| d.count()).unwrap_or(0)
    }

    /// Resident memory in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let lines = self.stderr();
            eprintln!("--- the agent's last log lines ---");
            for l in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{l}");
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.keep_log("dropped");
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -{name} {pid}");
}

fn wait_exit(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET on the agent's listener: status and body.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// Prometheus text to `series → value`.
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The sequence numbers in the entries Loki stored, with how often each came.
pub fn seqs(entries: &[Entry]) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for e in entries {
        if let Some(seq) = e.seq() {
            *out.entry(seq).or_default() += 1;
        }
    }
    out
}

/// Asserts that every sequence number in `0..n` is there.
#[track_caller]
pub fn assert_all(seqs: &BTreeMap<u64, usize>, n: u64) {
    let missing: Vec<u64> = (0..n).filter(|s| !seqs.contains_key(s)).collect();
    assert!(
        missing.is_empty(),
        "{} of {n} sequence numbers missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
}

/// Waits until the entries hold every sequence number of `0..n`; says
/// which are missing if they do not come.
#[track_caller]
pub fn wait_for_all(loki: &FakeLoki, n: u64, deadline: Duration) {
    let start = Instant::now();
    loop {
        let s = seqs(&loki.entries());
        let missing: Vec<u64> = (0..n).filter(|i| !s.contains_key(i)).collect();
        if missing.is_empty() {
            return;
        }
        if start.elapsed() > deadline {
            let repeated: Vec<u64> = s.iter().filter(|(_, c)| **c > 1).map(|(k, _)| *k).collect();
            panic!(
                "timed out after {deadline:?} waiting for Loki to hold 0..{n}: {} missing, first {:?}, {} entries stored, \
                 {} repeated, first {:?}",
                missing.len(),
                &missing[..missing.len().min(20)],
                loki.entries().len(),
                repeated.len(),
                &repeated[..repeated.len().min(20)],
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
