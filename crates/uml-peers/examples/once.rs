//! Runs one implementation once over the benchmark's input, for a
//! repeatable instruction count where the machine's clock is too noisy:
//!
//! ```sh
//! cargo build --release -p uml-peers --example once
//! valgrind --tool=callgrind target/release/examples/once uml 2>&1 | grep Collected
//! valgrind --tool=callgrind target/release/examples/once serde_json_careful 2>&1 | grep Collected
//! ```
//!
//! Each count includes generating the input and building the transform;
//! `once NAME LINES --dry` does both and runs nothing, for the difference.
//! `--kind KIND` keeps only the lines of one kind (`json-access`,
//! `json-exc-info`, `json`, `text`), for a count per kind of line;
//! `--source build` (or `gpu_build`) runs on that source's corpus instead
//! of the model container's, for the implementations written for it.

use uml_peers::{Implementation, Input, LineKind, Source};

/// The allocator of the benchmark, so that the counts are its counts.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let names: Vec<&str> = Implementation::ALL.iter().map(|i| i.name()).collect();
    let Some(implementation) = args.get(1).and_then(|n| Implementation::ALL.into_iter().find(|i| i.name() == n)) else {
        eprintln!(
            "usage: once IMPLEMENTATION [LINES] [--dry] [--kind KIND] [--source SOURCE]; IMPLEMENTATION: {}",
            names.join(" ")
        );
        std::process::exit(2);
    };
    let lines = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(uml_peers::BENCH_LINES);
    let dry = args.iter().any(|a| a == "--dry");
    let source = match args.iter().position(|a| a == "--source").and_then(|i| args.get(i + 1)) {
        None => Source::ModelContainer,
        Some(name) => Source::from_name(name).unwrap_or_else(|| {
            eprintln!("--source: one of {}", Source::ALL.map(|s| s.name()).join(" "));
            std::process::exit(2);
        }),
    };
    let Some(mut transform) = implementation.transform_of(source) else {
        eprintln!("{} is not written for {}", implementation.name(), source.name());
        std::process::exit(2);
    };
    let mut input = Input::of(source, lines, uml_peers::BENCH_SEED);
    if let Some(kind) = args.iter().position(|a| a == "--kind").and_then(|i| args.get(i + 1)) {
        let Some(kind) = LineKind::ALL.into_iter().find(|k| k.name() == kind) else {
            eprintln!("--kind: one of {}", LineKind::ALL.map(LineKind::name).join(" "));
            std::process::exit(2);
        };
        if source != Source::ModelContainer {
            eprintln!("--kind: the kinds are those of the model container's lines");
            std::process::exit(2);
        }
        input = input.only(kind);
    }
    let mut out = Vec::with_capacity(input.bytes.len() * 2);
    if !dry {
        transform.run(&input.name, &input.bytes, &mut out);
    }
    println!("{}: {} lines in, {} bytes out", implementation.name(), input.lines, out.len());
}
