//! uml and its peers on the same bytes: one group, `peers/<name>/bytes` and
//! `peers/<name>/lines` per implementation, on 200,000 lines of the model
//! container corpus, one thread; then one table of lines/s, MB/s and the
//! ratio to uml, read from criterion's estimates.
//!
//! `cargo bench -p uml-peers` (add `-- --warm-up-time 1 --measurement-time 3`
//! for a short run). The table reads `target/criterion/peers/<name>_lines/new/estimates.json`:
//! after a run filtered to some implementations, the others' rows are
//! those of their last run. MB are 10^6 bytes of the input file.
//!
//! A second group, `peers_builds/<source>/<name>`, runs uml and the careful
//! peer's ports of the two build rules on 50,000 lines of each build's
//! corpus (`cargo bench -p uml-peers -- peers_builds`).

use criterion::{Criterion, Throughput, criterion_group};
use std::path::{Path, PathBuf};
use std::time::Duration;
use uml_peers::{Implementation, Input, Source};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: usize = uml_peers::BENCH_LINES;
const SEED: u64 = uml_peers::BENCH_SEED;
const GROUP: &str = "peers";

fn peers(c: &mut Criterion) {
    let input = Input::model_container(LINES, SEED);
    let mut group = c.benchmark_group(GROUP);
    let mut out = Vec::with_capacity(input.bytes.len() * 2);
    for implementation in Implementation::ALL {
        let mut transform = implementation.transform();
        for (unit, throughput) in
            [("bytes", Throughput::Bytes(input.bytes.len() as u64)), ("lines", Throughput::Elements(LINES as u64))]
        {
            group.throughput(throughput);
            group.bench_function(format!("{}/{unit}", implementation.name()), |b| {
                b.iter(|| {
                    out.clear();
                    transform.run(&input.name, &input.bytes, &mut out);
                    out.len()
                })
            });
        }
    }
    group.finish();
}

/// uml and the careful peer on each build's corpus: the rows of the
/// per-kind table that have no model container lines.
fn builds(c: &mut Criterion) {
    const BUILD_LINES: usize = 50_000;
    let mut group = c.benchmark_group("peers_builds");
    let mut out = Vec::new();
    for source in [Source::Build, Source::GpuBuild] {
        let input = Input::of(source, BUILD_LINES, SEED);
        group.throughput(Throughput::Elements(input.lines as u64));
        for implementation in [Implementation::Uml, Implementation::SerdeCareful] {
            let Some(mut transform) = implementation.transform_of(source) else { continue };
            group.bench_function(format!("{}/{}", source.name(), implementation.name()), |b| {
                b.iter(|| {
                    out.clear();
                    transform.run(&input.name, &input.bytes, &mut out);
                    out.len()
                })
            });
        }
    }
    group.finish();
}

/// The mean time of one run of `name`, from criterion's last estimates.
fn mean_seconds(name: &str) -> Option<f64> {
    // Cargo runs benchmarks in the package's directory; criterion writes to
    // the workspace's target directory.
    let workspace_target = || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(workspace_target, PathBuf::from);
    // Criterion writes the id `<name>/lines` as the directory `<name>_lines`.
    let path = target.join("criterion").join(GROUP).join(format!("{name}_lines")).join("new/estimates.json");
    let estimates = std::fs::read_to_string(path).ok()?;
    let mean = estimates.split("\"mean\":").nth(1)?;
    let point = mean.split("\"point_estimate\":").nth(1)?;
    point.split([',', '}']).next()?.trim().parse::<f64>().ok().map(|ns| ns / 1e9)
}

fn table() {
    let input = Input::model_container(LINES, SEED);
    let megabytes = input.bytes.len() as f64 / 1e6;
    println!("\n{LINES} lines, {megabytes:.1} MB, one thread");
    println!("{:<20} {:>14} {:>10} {:>10}", "implementation", "lines/s", "MB/s", "vs uml");
    let uml = mean_seconds(Implementation::Uml.name());
    for implementation in Implementation::ALL {
        let Some(seconds) = mean_seconds(implementation.name()) else {
            println!("{:<20} (not measured)", implementation.name());
            continue;
        };
        let ratio = uml.map_or_else(|| "-".to_owned(), |uml| format!("{:.2}x", uml / seconds));
        println!(
            "{:<20} {:>14.0} {:>10.1} {:>10}",
            implementation.name(),
            LINES as f64 / seconds,
            megabytes / seconds,
            ratio
        );
    }
}

// The defaults here, so that `-- --measurement-time 3` and the like on the
// command line still win (a group's own settings would override them).
criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    targets = peers, builds
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    table();
}
