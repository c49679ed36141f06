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

use uml_peers::{Implementation, Input};

/// The allocator of the benchmark, so that the counts are its counts.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let names: Vec<&str> = Implementation::ALL.iter().map(|i| i.name()).collect();
    let Some(implementation) = args.get(1).and_then(|n| Implementation::ALL.into_iter().find(|i| i.name() == n)) else {
        eprintln!("usage: once IMPLEMENTATION [LINES] [--dry]; IMPLEMENTATION: {}", names.join(" "));
        std::process::exit(2);
    };
    let lines = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(uml_peers::BENCH_LINES);
    let dry = args.iter().any(|a| a == "--dry");
    let input = Input::model_container(lines, uml_peers::BENCH_SEED);
    let mut transform = implementation.transform();
    let mut out = Vec::with_capacity(input.bytes.len() * 2);
    if !dry {
        transform.run(&input.name, &input.bytes, &mut out);
    }
    println!("{}: {} lines in, {} bytes out", implementation.name(), input.lines, out.len());
}
