//! `uml-corpus SOURCE LINES SEED [--docker] > file`: writes a generated log
//! file to stdout and its kubelet file name to stderr.
//!
//! SOURCE is a source's rule name (`model_container`, `build`, `gpu_build`,
//! `pod_lifecycle_watcher`, `deploy`) or a noise container's name
//! (`queue-proxy`, `istio-proxy`, `storage-initializer`, `place-scripts`,
//! `coredns`, `celery`).

use std::io::Write;
use std::process::ExitCode;
use uml_corpus::{Framing, Noise, Source};

const USAGE: &str = "usage: uml-corpus SOURCE LINES SEED [--docker] > file
SOURCE: model_container build gpu_build pod_lifecycle_watcher deploy
        queue-proxy istio-proxy storage-initializer place-scripts coredns celery";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let docker = args.iter().any(|a| a == "--docker");
    let positional: Vec<&str> = args.iter().filter(|a| *a != "--docker").map(String::as_str).collect();
    let [source, lines, seed] = positional[..] else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (Ok(lines), Ok(seed)) = (lines.parse::<usize>(), seed.parse::<u64>()) else {
        eprintln!("LINES and SEED must be numbers\n{USAGE}");
        return ExitCode::from(2);
    };
    let framing = if docker { Framing::Docker } else { Framing::Cri };
    let file = if let Some(source) = Source::from_name(source) {
        uml_corpus::generate(source, framing, lines, seed)
    } else if let Some(kind) = Noise::ALL.into_iter().find(|n| n.name() == source) {
        uml_corpus::noise(kind, framing, lines, seed)
    } else {
        eprintln!("unknown source `{source}`\n{USAGE}");
        return ExitCode::from(2);
    };
    eprintln!("{}", file.name);
    match std::io::stdout().lock().write_all(&file.bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uml-corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
