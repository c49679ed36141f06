//! The build: the `step-build` container of the Tekton TaskRun, where kaniko
//! builds the model image (docs/contract.md, "The five sources").
//!
//! The file is a sequence of builds, each in phases, as a real TaskRun's:
//!
//! 1. the Tekton entrypoint: a Go `log` line (`2026/11/20 03:28:29 warning:
//!    unsuccessful cred copy: …`) and zap objects (`{"level":"info","ts":…,"msg":…}`,
//!    and the well-known `KO_DATA_PATH` warning);
//! 2. kaniko's preamble, logrus lines with forced colours and padded
//!    messages (`\x1b[36mINFO\x1b[0m[0000] Retrieving image manifest python:3.11       `),
//!    in one of three styles per build: `[0012]` elapsed seconds (70 %),
//!    `[2026-11-20T03:28:31Z]` with colours (15 %) or without (15 %);
//! 3. per Dockerfile command, kaniko's lines, and after each `RUN` the
//!    step's raw output: pip (`Collecting`, `Downloading`, rich progress bars
//!    redrawn with `\r`, long enough for big wheels to be cut into partial
//!    pieces, `Successfully installed`, the root-user `WARNING:` and the
//!    `[notice]` lines with a blank line), apt-get, or a weight download
//!    script with tqdm bars;
//! 4. the push, or, for one build in five, a failure: pip `ERROR:` lines, a
//!    Python traceback, a Go panic or a kaniko `ERRO`/`FATA`, and always the
//!    untagged `error building image: …` line.
//!
//! kaniko writes to stderr, `RUN` steps mostly to stdout.

use crate::frame::{Burst, Cx, Generator, Stream};
use crate::names::Identity;
use crate::text::{HEX, pick, push_fixed, push_padded, push_random, push_u64};
use crate::traceback::{self, Pool};

pub(crate) struct Build {
    mvid: String,
    org: String,
    phase: Phase,
    /// Events left in the current phase.
    left: u32,
    /// Dockerfile commands left in this build.
    commands: u32,
    /// The build's start, for kaniko's `[0012]`.
    start_ns: i64,
    style: Style,
    fails: bool,
    base: &'static str,
    /// The next package pip collects.
    package: usize,
    /// The files a weight download script fetches.
    files: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Entrypoint,
    Preamble,
    Command,
    Pip,
    Apt,
    Script,
    Push,
    Failure,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Elapsed,
    ColouredTimestamp,
    PlainTimestamp,
}

#[derive(Clone, Copy)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

const BASES: [&str; 4] = [
    "python:3.11",
    "python:3.11-slim",
    "nvcr.io/nvidia/pytorch:24.05-py3",
    "baseten/truss-server-base:3.11-gpu-v0.9.0",
];

/// pip packages: name, version, wheel size in tenths of MB.
const PACKAGES: [(&str, &str, u64); 20] = [
    ("torch", "2.3.1", 7791),
    ("transformers", "4.46.3", 100),
    ("numpy", "1.26.4", 183),
    ("accelerate", "1.1.1", 3),
    ("safetensors", "0.4.5", 4),
    ("tokenizers", "0.20.3", 30),
    ("huggingface-hub", "0.26.2", 4),
    ("nvidia-cudnn-cu12", "9.1.0.70", 6648),
    ("nvidia-cublas-cu12", "12.1.3.1", 4106),
    ("triton", "2.3.1", 1681),
    ("scipy", "1.14.1", 412),
    ("pillow", "11.0.0", 44),
    ("sentencepiece", "0.2.0", 13),
    ("pydantic", "2.9.2", 4),
    ("fastapi", "0.115.5", 1),
    ("requests", "2.32.3", 1),
    ("sympy", "1.13.3", 62),
    ("networkx", "3.4.2", 17),
    ("jinja2", "3.1.4", 1),
    ("vllm", "0.6.4.post1", 2012),
];

const POOL: Pool = Pool {
    outer: &[
        ("/app/download_weights.py", "<module>", "main()"),
        ("/app/download_weights.py", "main", "snapshot_download(repo_id, local_dir=target)"),
    ],
    failures: &[
        (
            &[
                (
                    "/usr/local/lib/python3.11/site-packages/huggingface_hub/utils/_validators.py",
                    "_inner_fn",
                    "return fn(*args, **kwargs)",
                ),
                (
                    "/usr/local/lib/python3.11/site-packages/huggingface_hub/_snapshot_download.py",
                    "snapshot_download",
                    "raise LocalEntryNotFoundError(",
                ),
            ],
            "huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to locate the files on the Hub and we cannot find the appropriate snapshot folder for the specified revision on the local disk. Please check your internet connection and try again.",
        ),
        (
            &[
                (
                    "/usr/local/lib/python3.11/site-packages/huggingface_hub/utils/_validators.py",
                    "_inner_fn",
                    "return fn(*args, **kwargs)",
                ),
                (
                    "/usr/local/lib/python3.11/site-packages/huggingface_hub/utils/_http.py",
                    "hf_raise_for_status",
                    "raise _format(GatedRepoError, message, response) from e",
                ),
            ],
            "huggingface_hub.errors.GatedRepoError: 403 Client Error. (Request ID: Root=1-673db2c1-4f0e2a6b1c3d5e7f9a0b1c2d)\n\nCannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json.",
        ),
        (
            &[(
                "/usr/local/lib/python3.11/site-packages/requests/models.py",
                "raise_for_status",
                "raise HTTPError(http_error_msg, response=self)",
            )],
            "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/api/models/meta-llama/Llama-3.1-8B-Instruct/revision/main",
        ),
        (
            &[("/app/download_weights.py", "main", "from transformers import AutoTokenizer")],
            "ModuleNotFoundError: No module named 'transformers'",
        ),
        (
            &[("/usr/local/lib/python3.11/shutil.py", "copyfileobj", "fdst_write(buf)")],
            "OSError: [Errno 28] No space left on device",
        ),
    ],
};

impl Build {
    pub(crate) fn new(identity: &Identity) -> Build {
        Build {
            mvid: identity.mvid.clone(),
            org: identity.org.clone(),
            phase: Phase::Entrypoint,
            left: 0,
            commands: 0,
            start_ns: 0,
            style: Style::Elapsed,
            fails: false,
            base: BASES[0],
            package: 0,
            files: 0,
        }
    }

    /// Writes one kaniko (logrus) line in the build's style.
    fn kaniko(&self, cx: &mut Cx, b: &mut Burst, level: Level, message: &[u8]) {
        let civil = cx.clock.civil();
        let out = b.line(Stream::Stderr);
        let (name, colour): (&[u8], &[u8]) = match level {
            Level::Debug => (b"DEBU", b"\x1b[37m"),
            Level::Info => (b"INFO", b"\x1b[36m"),
            Level::Warn => (b"WARN", b"\x1b[33m"),
            Level::Error => (b"ERRO", b"\x1b[31m"),
            Level::Fatal => (b"FATA", b"\x1b[31m"),
        };
        if self.style != Style::PlainTimestamp {
            out.extend_from_slice(colour);
        }
        out.extend_from_slice(name);
        if self.style != Style::PlainTimestamp {
            out.extend_from_slice(b"\x1b[0m");
        }
        out.push(b'[');
        if self.style == Style::Elapsed {
            let elapsed = (cx.clock.now_ns() - self.start_ns).max(0) / 1_000_000_000;
            push_padded(out, elapsed as u64, 4, b'0');
        } else {
            civil.rfc3339_seconds(out);
        }
        out.extend_from_slice(b"] ");
        out.extend_from_slice(message);
        // logrus pads the message to 44 columns.
        let chars = std::str::from_utf8(message).map_or(message.len(), |s| s.chars().count());
        out.extend(std::iter::repeat_n(b' ', 44usize.saturating_sub(chars)));
    }

    fn enter(&mut self, cx: &mut Cx, phase: Phase) {
        self.phase = phase;
        self.left = match phase {
            Phase::Pip => cx.rng.u32(3..PACKAGES.len() as u32),
            Phase::Apt => cx.rng.u32(10..60),
            Phase::Script => {
                self.files = 0;
                cx.rng.u32(2..9)
            }
            _ => 1,
        };
    }

    fn entrypoint(&mut self, cx: &mut Cx, b: &mut Burst) {
        self.start_ns = cx.clock.now_ns();
        self.style = match cx.rng.u8(..20) {
            0..14 => Style::Elapsed,
            14..17 => Style::ColouredTimestamp,
            _ => Style::PlainTimestamp,
        };
        self.fails = cx.rng.u8(..5) == 0;
        self.base = pick(&mut cx.rng, &BASES);
        self.commands = cx.rng.u32(3..9);
        self.package = cx.rng.usize(..PACKAGES.len());
        let civil = cx.clock.civil();
        let zap = |out: &mut Vec<u8>, level: &[u8], caller: &[u8]| {
            out.extend_from_slice(b"{\"level\":\"");
            out.extend_from_slice(level);
            out.extend_from_slice(b"\",\"ts\":");
            civil.epoch_float(out);
            out.extend_from_slice(b",\"logger\":\"fallback-logger\",\"caller\":\"");
            out.extend_from_slice(caller);
            out.extend_from_slice(b"\",\"msg\":\"");
        };
        if cx.rng.u8(..3) == 0 {
            // The entrypoint's Go `log`, without a level.
            let out = b.line(Stream::Stderr);
            civil.go_log(out);
            out.extend_from_slice(b" warning: unsuccessful cred copy: \".docker\" from \"/tekton/creds\" to \"/\": unable to create destination directory: mkdir /.docker: permission denied");
        }
        if cx.rng.bool() {
            let out = b.line(Stream::Stderr);
            zap(out, b"warn", b"logging/config.go:61");
            out.extend_from_slice(
                b"Fetch GitHub commit ID from kodata failed\",\"error\":\"\\\"KO_DATA_PATH\\\" does not exist or is empty\"}",
            );
        }
        let out = b.line(Stream::Stderr);
        zap(out, b"info", b"git/git.go:102");
        out.extend_from_slice(b"Successfully cloned https://github.com/acme/");
        out.extend_from_slice(self.mvid.as_bytes());
        out.extend_from_slice(b" @ ");
        push_random(out, &mut cx.rng, HEX, 7);
        out.extend_from_slice(b" (grafted, HEAD) in path /workspace/source\"}");
        if cx.rng.bool() {
            let out = b.line(Stream::Stderr);
            zap(out, b"info", b"entrypoint/entrypointer.go:211");
            out.extend_from_slice(b"Waiting for /tekton/run/0/out \\u003e 0 bytes\"}");
        }
    }

    fn preamble(&mut self, cx: &mut Cx, b: &mut Burst) {
        let base = self.base.as_bytes();
        let mut line = |this: &Build, cx: &mut Cx, level, parts: &[&[u8]]| {
            this.text_of(parts, |message| this.kaniko(cx, b, level, message));
        };
        line(self, cx, Level::Info, &[b"Retrieving image manifest ", base]);
        line(self, cx, Level::Info, &[b"Retrieving image ", base, b" from registry index.docker.io"]);
        if cx.rng.u8(..4) == 0 {
            line(self, cx, Level::Warn, &[b"Failed to retrieve image library/", base, b" from remote mirror"]);
        }
        line(self, cx, Level::Info, &[b"Built cross stage deps: map[]"]);
        line(self, cx, Level::Info, &[b"Retrieving image manifest ", base]);
        line(self, cx, Level::Info, &[b"Returning cached image manifest"]);
        line(self, cx, Level::Info, &[b"Executing 0 build triggers"]);
        line(self, cx, Level::Info, &[b"Building stage '", base, b"' [idx: '0', base-idx: '-1']"]);
        if cx.rng.u8(..10) == 0 {
            line(self, cx, Level::Debug, &[b"Resolved base name ", base, b" to ", base]);
        }
        line(
            self,
            cx,
            Level::Info,
            &[b"Unpacking rootfs as cmd COPY requirements.txt /app/requirements.txt requires it."],
        );
    }

    /// Runs `f` on the concatenation of `parts`.
    fn text_of(&self, parts: &[&[u8]], f: impl FnOnce(&[u8])) {
        let mut text = Vec::with_capacity(96);
        for part in parts {
            text.extend_from_slice(part);
        }
        f(&text);
    }

    fn command(&mut self, cx: &mut Cx, b: &mut Burst) {
        self.commands -= 1;
        let last = self.commands == 0;
        let (cmd, run): (&[u8], Option<Phase>) = match cx.rng.u8(..8) {
            0 => (b"ENV PYTHONUNBUFFERED=1", None),
            1 => (b"WORKDIR /app", None),
            2 => (b"COPY requirements.txt /app/requirements.txt", None),
            3 => (
                b"RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 ffmpeg",
                Some(Phase::Apt),
            ),
            4 => (b"RUN python /app/download_weights.py", Some(Phase::Script)),
            _ => (b"RUN pip install --no-cache-dir -r requirements.txt", Some(Phase::Pip)),
        };
        let mut checksum = Vec::with_capacity(64);
        push_random(&mut checksum, &mut cx.rng, HEX, 64);
        let mut cache = Vec::with_capacity(160);
        cache.extend_from_slice(b"Checking for cached layer registry.internal/");
        cache.extend_from_slice(self.org.as_bytes());
        cache.extend_from_slice(b"/cache:");
        cache.extend_from_slice(&checksum);
        cache.extend_from_slice(b"...");
        self.kaniko(cx, b, Level::Info, &cache);
        if cx.rng.u8(..6) == 0 {
            let mut warn = b"Error while retrieving image from cache: registry.internal/cache:".to_vec();
            warn.extend_from_slice(&checksum[..12]);
            warn.extend_from_slice(b" GET https://registry.internal/v2/cache/manifests/");
            warn.extend_from_slice(&checksum[..12]);
            warn.extend_from_slice(b": MANIFEST_UNKNOWN: manifest unknown; map[Tag:");
            warn.extend_from_slice(&checksum[..12]);
            warn.push(b']');
            self.kaniko(cx, b, Level::Warn, &warn);
        }
        match run {
            None => {
                self.kaniko(cx, b, Level::Info, cmd);
                self.kaniko(cx, b, Level::Info, b"Taking snapshot of files...");
                self.enter(cx, if last { self.end() } else { Phase::Command });
            }
            Some(phase) => {
                let mut no_cache = b"No cached layer found for cmd ".to_vec();
                no_cache.extend_from_slice(cmd);
                self.kaniko(cx, b, Level::Info, &no_cache);
                self.kaniko(cx, b, Level::Info, cmd);
                self.kaniko(cx, b, Level::Info, b"Initializing snapshotter ...");
                self.kaniko(cx, b, Level::Info, b"Taking snapshot of full filesystem...");
                self.kaniko(cx, b, Level::Info, b"Cmd: /bin/sh");
                let shell = &cmd[4..];
                let mut args = b"Args: [-c ".to_vec();
                args.extend_from_slice(shell);
                args.push(b']');
                self.kaniko(cx, b, Level::Info, &args);
                let mut running = b"Running: [/bin/sh -c ".to_vec();
                running.extend_from_slice(shell);
                running.push(b']');
                self.kaniko(cx, b, Level::Info, &running);
                self.enter(cx, phase);
            }
        }
    }

    /// Where a build goes once its commands are done.
    fn end(&self) -> Phase {
        if self.fails { Phase::Failure } else { Phase::Push }
    }

    /// After a `RUN` step's output.
    fn after_run(&mut self, cx: &mut Cx, b: &mut Burst) {
        if self.commands == 0 || (self.fails && cx.rng.u8(..3) == 0) {
            self.enter(cx, self.end());
            if self.phase == Phase::Failure {
                return;
            }
        } else {
            self.enter(cx, Phase::Command);
        }
        self.kaniko(cx, b, Level::Info, b"Taking snapshot of full filesystem...");
        if cx.rng.bool() {
            let mut push = b"Pushing layer registry.internal/".to_vec();
            push.extend_from_slice(self.org.as_bytes());
            push.extend_from_slice(b"/cache:");
            push_random(&mut push, &mut cx.rng, HEX, 64);
            push.extend_from_slice(b" to cache now");
            self.kaniko(cx, b, Level::Info, &push);
        }
        // Snapshots take a while.
        b.pause(cx.rng.u64(1..40) * 1_000_000_000);
    }

    fn pip(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        if self.left == 0 {
            let out = b.line(Stream::Stdout);
            out.extend_from_slice(b"Installing collected packages: ");
            for k in 0..5 {
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(PACKAGES[(self.package + PACKAGES.len() - k) % PACKAGES.len()].0.as_bytes());
            }
            b.pause(rng.u64(3..90) * 1_000_000_000);
            let out = b.line(Stream::Stdout);
            out.extend_from_slice(b"Successfully installed");
            for k in 0..5 {
                let (name, version, _) = PACKAGES[(self.package + PACKAGES.len() - k) % PACKAGES.len()];
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
                out.push(b'-');
                out.extend_from_slice(version.as_bytes());
            }
            b.line(Stream::Stderr).extend_from_slice(b"WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager, possibly rendering your system unusable. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv. Use the --root-user-action option if you know what you are doing and want to suppress this warning.");
            if rng.bool() {
                b.line(Stream::Stderr);
                b.line(Stream::Stderr).extend_from_slice(b"[notice] A new release of pip is available: 24.0 -> 24.3.1");
                b.line(Stream::Stderr).extend_from_slice(b"[notice] To update, run: pip install --upgrade pip");
            }
            return self.after_run(cx, b);
        }
        self.left -= 1;
        self.package = (self.package + 1) % PACKAGES.len();
        let (name, version, size) = PACKAGES[self.package];
        if rng.u8(..4) == 0 {
            let out = b.line(Stream::Stdout);
            out.extend_from_slice(b"Requirement already satisfied: ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b" in /usr/local/lib/python3.11/site-packages (from -r requirements.txt (line ");
            push_u64(out, rng.u64(1..30));
            out.extend_from_slice(b")) (");
            out.extend_from_slice(version.as_bytes());
            out.push(b')');
            return;
        }
        let out = b.line(Stream::Stdout);
        out.extend_from_slice(b"Collecting ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"==");
        out.extend_from_slice(version.as_bytes());
        out.extend_from_slice(b" (from -r requirements.txt (line ");
        push_u64(out, rng.u64(1..30));
        out.extend_from_slice(b"))");
        let out = b.line(Stream::Stdout);
        out.extend_from_slice(b"  Downloading ");
        out.extend_from_slice(name.replace('-', "_").as_bytes());
        out.push(b'-');
        out.extend_from_slice(version.as_bytes());
        out.extend_from_slice(b"-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (");
        if size < 10 {
            push_u64(out, size * 100 + rng.u64(0..100));
            out.extend_from_slice(b" kB)");
        } else {
            push_fixed(out, size, 1);
            out.extend_from_slice(b" MB)");
        }
        if size >= 10 {
            // rich's bar, redrawn with `\r`; on a slow mirror a big wheel
            // gives a line of tens of KB.
            let states = if rng.u8(..12) == 0 { (size / 15).clamp(1, 600) } else { (size / 200).clamp(1, 40) };
            let speed = rng.u64(20..600);
            // The line ends when the download does.
            b.pause(size * 1_000_000_000 / speed);
            let out = b.line(Stream::Stdout);
            for k in 1..=states {
                out.push(b'\r');
                out.extend_from_slice(b"   ");
                let cells = k * 40 / states;
                for _ in 0..cells {
                    out.extend_from_slice("━".as_bytes());
                }
                if cells < 40 {
                    out.extend_from_slice("╸".as_bytes());
                    out.extend(std::iter::repeat_n(b' ', (39 - cells) as usize));
                }
                out.push(b' ');
                push_fixed(out, size * k / states, 1);
                out.push(b'/');
                push_fixed(out, size, 1);
                out.extend_from_slice(b" MB ");
                push_fixed(out, speed, 1);
                out.extend_from_slice(b" MB/s eta 0:");
                let eta = (size - size * k / states) / speed.max(1);
                push_padded(out, eta / 60 % 60, 2, b'0');
                out.push(b':');
                push_padded(out, eta % 60, 2, b'0');
            }
        }
    }

    fn apt(&mut self, cx: &mut Cx, b: &mut Burst) {
        if self.left == 0 {
            b.line(Stream::Stderr)
                .extend_from_slice(b"debconf: delaying package configuration, since apt-utils is not installed");
            b.line(Stream::Stdout).extend_from_slice(b"Processing triggers for libc-bin (2.36-9+deb12u9) ...");
            return self.after_run(cx, b);
        }
        self.left -= 1;
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        let package =
            pick(rng, &[&b"libgl1"[..], b"libglib2.0-0", b"ffmpeg", b"libgomp1", b"libavcodec59", b"libx264-164"]);
        match rng.u8(..6) {
            0 => {
                out.extend_from_slice(b"Get:");
                push_u64(out, rng.u64(1..120));
                out.extend_from_slice(b" http://deb.debian.org/debian bookworm/main amd64 ");
                out.extend_from_slice(package);
                out.extend_from_slice(b" amd64 1.6.0-1 [");
                push_u64(out, rng.u64(10..9000));
                out.extend_from_slice(b" kB]");
            }
            1 => {
                out.extend_from_slice(b"Selecting previously unselected package ");
                out.extend_from_slice(package);
                out.extend_from_slice(b":amd64.");
            }
            2 => {
                out.extend_from_slice(b"Unpacking ");
                out.extend_from_slice(package);
                out.extend_from_slice(b":amd64 (1.6.0-1) ...");
            }
            3 => {
                out.extend_from_slice(b"Setting up ");
                out.extend_from_slice(package);
                out.extend_from_slice(b":amd64 (1.6.0-1) ...");
            }
            4 => out.extend_from_slice(pick(
                rng,
                &[&b"Reading package lists..."[..], b"Building dependency tree...", b"Reading state information..."],
            )),
            _ => {
                out.extend_from_slice(b"Fetched ");
                push_u64(out, rng.u64(100..90_000));
                out.extend_from_slice(b" kB in ");
                push_u64(out, rng.u64(1..20));
                out.extend_from_slice(b"s (");
                push_u64(out, rng.u64(100..9000));
                out.extend_from_slice(b" kB/s)");
            }
        }
    }

    /// A script downloading weights: one line per file, then the bar
    /// that tqdm redrew all along, then a last line.
    fn script(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        if self.left == 0 {
            let files = u64::from(self.files);
            let secs_per_file_x100 = rng.u64(500..4000);
            b.pause(files * secs_per_file_x100 * 10_000_000 / 4);
            let out = b.line(Stream::Stderr);
            let name = format!("Fetching {files} files");
            crate::sources::push_tqdm_redraws(out, &name, files, files + 1, secs_per_file_x100, false);
            b.line(Stream::Stdout).extend_from_slice(b"Weights downloaded to /app/model_cache");
            return self.after_run(cx, b);
        }
        if self.files == 0 {
            self.files = self.left;
        }
        self.left -= 1;
        let out = b.line(Stream::Stdout);
        out.extend_from_slice(b"Downloading model-");
        push_padded(out, u64::from(self.files - self.left), 5, b'0');
        out.extend_from_slice(b"-of-");
        push_padded(out, u64::from(self.files), 5, b'0');
        out.extend_from_slice(b".safetensors to /app/model_cache");
    }

    fn failure(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let error: &[u8] = match rng.u8(..10) {
            0..4 => {
                b.line(Stream::Stderr).extend_from_slice(b"ERROR: Could not find a version that satisfies the requirement torch==9.9 (from versions: 2.0.0, 2.0.1, 2.1.0, 2.1.1, 2.1.2, 2.2.0, 2.2.1, 2.2.2, 2.3.0, 2.3.1)");
                b.line(Stream::Stderr).extend_from_slice(b"ERROR: No matching distribution found for torch==9.9");
                b"error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1"
            }
            4..6 => {
                traceback::python(rng, &POOL, b, Stream::Stderr);
                b"error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1"
            }
            6 => b"error building image: error building stage: failed to get filesystem from image: unexpected EOF",
            7 => {
                let frames = [
                    (
                        "github.com/GoogleContainerTools/kaniko/pkg/snapshot.(*Snapshotter).TakeSnapshotFS(0xc0004a6000)",
                        "/src/pkg/snapshot/snapshot.go",
                    ),
                    (
                        "github.com/GoogleContainerTools/kaniko/pkg/executor.(*stageBuilder).build(0xc0001f2b40)",
                        "/src/pkg/executor/build.go",
                    ),
                    (
                        "github.com/GoogleContainerTools/kaniko/pkg/executor.DoBuild(0xc0001a6000)",
                        "/src/pkg/executor/build.go",
                    ),
                    ("main.main()", "/src/cmd/executor/main.go"),
                ];
                traceback::go_panic(rng, b, Stream::Stderr, &frames);
                self.enter(cx, Phase::Entrypoint);
                return;
            }
            8 => {
                self.kaniko(
                    cx,
                    b,
                    Level::Error,
                    b"Error while pushing layer to cache: UNAUTHORIZED: authentication required",
                );
                b"error building image: error building stage: failed to take snapshot: write /kaniko/0/usr/local/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: no space left on device"
            }
            _ => {
                self.kaniko(cx, b, Level::Fatal, b"Error: error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context with --dockerfile");
                self.enter(cx, Phase::Entrypoint);
                return;
            }
        };
        b.line(Stream::Stderr).extend_from_slice(error);
        self.enter(cx, Phase::Entrypoint);
    }

    fn push(&mut self, cx: &mut Cx, b: &mut Burst) {
        let mut image = b"registry.internal/".to_vec();
        image.extend_from_slice(self.org.as_bytes());
        image.push(b'/');
        image.extend_from_slice(self.mvid.as_bytes());
        let mut line = b"Pushing image to ".to_vec();
        line.extend_from_slice(&image);
        line.extend_from_slice(b":latest");
        self.kaniko(cx, b, Level::Info, &line);
        let mut line = b"Pushed ".to_vec();
        line.extend_from_slice(&image);
        line.extend_from_slice(b"@sha256:");
        push_random(&mut line, &mut cx.rng, HEX, 64);
        self.kaniko(cx, b, Level::Info, &line);
        self.enter(cx, Phase::Entrypoint);
    }
}

impl Generator for Build {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        match self.phase {
            Phase::Entrypoint => {
                self.entrypoint(cx, b);
                self.enter(cx, Phase::Preamble);
            }
            Phase::Preamble => {
                self.preamble(cx, b);
                self.enter(cx, Phase::Command);
            }
            Phase::Command => self.command(cx, b),
            Phase::Pip => self.pip(cx, b),
            Phase::Apt => self.apt(cx, b),
            Phase::Script => self.script(cx, b),
            Phase::Push => self.push(cx, b),
            Phase::Failure => self.failure(cx, b),
        }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        let out = b.line(Stream::Stdout);
        match cx.rng.u8(..3) {
            0 => out.extend_from_slice(b"Reading package lists..."),
            1 => {
                out.extend_from_slice(b"  Using cached ");
                let (name, version, _) = pick(&mut cx.rng, &PACKAGES);
                out.extend_from_slice(name.as_bytes());
                out.push(b'-');
                out.extend_from_slice(version.as_bytes());
                out.extend_from_slice(b"-py3-none-any.whl");
            }
            _ => {
                let (name, version, _) = pick(&mut cx.rng, &PACKAGES);
                out.extend_from_slice(b"Requirement already satisfied: ");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"==");
                out.extend_from_slice(version.as_bytes());
            }
        }
    }

    fn mean_gap_ns(&self) -> u64 {
        150_000_000
    }

    fn mean_line_len(&self) -> usize {
        370
    }
}
