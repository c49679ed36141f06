//! The generated files against the runtime's own readers: every raw line
//! frames, every file name parses back, sizes are exact, seeds determine
//! the bytes.

use uml_corpus::{File, Framing, Noise, Source, generate, messages, noise};
use uml_runtime::framing::{Framer, Stream, parse_cri, parse_docker, parse_file_name};

const SIZES: [usize; 4] = [1, 10, 137, 5_000];

fn all_files(framing: Framing, lines: usize, seed: u64) -> Vec<File> {
    let sources = Source::ALL.into_iter().map(|s| generate(s, framing, lines, seed));
    sources.chain(Noise::ALL.into_iter().map(|n| noise(n, framing, lines, seed))).collect()
}

fn raw_lines(file: &File) -> impl Iterator<Item = &[u8]> {
    file.bytes.strip_suffix(b"\n").unwrap_or(&file.bytes).split(|&b| b == b'\n')
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for framing in [Framing::Cri, Framing::Docker] {
        for (a, b) in all_files(framing, 3_000, 42).iter().zip(all_files(framing, 3_000, 42).iter()) {
            assert_eq!(a, b, "{}", a.name);
        }
        for (a, b) in all_files(framing, 300, 42).iter().zip(all_files(framing, 300, 43).iter()) {
            assert_ne!(a.bytes, b.bytes, "{}", a.name);
            assert_ne!(a.name, b.name);
        }
    }
    assert_eq!(messages(Source::Build, 500, 9), messages(Source::Build, 500, 9));
}

#[test]
fn sizes_are_exact() {
    for framing in [Framing::Cri, Framing::Docker] {
        for lines in SIZES {
            for file in all_files(framing, lines, lines as u64) {
                assert_eq!(file.lines, lines, "{}", file.name);
                assert_eq!(file.bytes.iter().filter(|&&b| b == b'\n').count(), lines, "{}", file.name);
                assert!(file.bytes.ends_with(b"\n"));
            }
        }
        assert!(generate(Source::ModelContainer, framing, 0, 1).bytes.is_empty());
    }
    for source in Source::ALL {
        for lines in SIZES {
            assert_eq!(messages(source, lines, 3).len(), lines);
        }
    }
}

#[test]
fn every_cri_line_parses_and_time_never_goes_back() {
    for file in all_files(Framing::Cri, 10_000, 5) {
        let mut last = i64::MIN;
        for line in raw_lines(&file) {
            let cri =
                parse_cri(line).unwrap_or_else(|e| panic!("{}: {e:?}: {}", file.name, String::from_utf8_lossy(line)));
            assert!(cri.timestamp_ns >= last, "{}: time went back", file.name);
            assert!(cri.message.len() <= 16 * 1024);
            last = cri.timestamp_ns;
        }
    }
}

#[test]
fn every_docker_line_parses_and_time_never_goes_back() {
    let mut buf = Vec::new();
    for file in all_files(Framing::Docker, 10_000, 5) {
        let mut last = i64::MIN;
        for line in raw_lines(&file) {
            let docker = parse_docker(line, &mut buf, usize::MAX)
                .unwrap_or_else(|e| panic!("{}: {e:?}: {}", file.name, String::from_utf8_lossy(line)));
            assert!(docker.timestamp_ns >= last, "{}: time went back", file.name);
            assert!(!docker.lone_surrogate, "docker never writes a lone surrogate in `log`");
            last = docker.timestamp_ns;
        }
    }
}

#[test]
fn file_names_parse_back() {
    for seed in 0..50 {
        for file in all_files(Framing::Cri, 1, seed) {
            let path = format!("/var/log/containers/{}", file.name);
            let meta = parse_file_name(&path).unwrap();
            assert_eq!((meta.pod, meta.namespace, meta.container), (&*file.pod, &*file.namespace, &*file.container));
            assert_eq!(meta.container_id, file.container_id);
            assert_eq!(file.container_id.len(), 64);
            assert!(!meta.cut);
        }
    }
}

#[test]
fn pod_names_follow_the_platform() {
    let suffix = |s: &str| s.len() == 5 && s.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b));
    let org =
        |s: &str| s.strip_prefix("org-").is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    for seed in 0..50 {
        let model = generate(Source::ModelContainer, Framing::Cri, 1, seed);
        let parts: Vec<&str> = model.pod.split('-').collect();
        assert_eq!((parts.len(), parts[0], parts[1].len()), (4, "model", 7), "{}", model.pod);
        assert!((8..=10).contains(&parts[2].len()) && suffix(parts[3]), "{}", model.pod);
        assert!(org(&model.namespace));
        let build = generate(Source::Build, Framing::Cri, 1, seed);
        assert_eq!(build.pod, format!("build-{}-{}-pod", parts[1], &build.pod[14..19]));
        assert!(suffix(&build.pod[14..19]) && build.container == "step-build");
        let gpu = generate(Source::GpuBuild, Framing::Cri, 1, seed);
        assert!(gpu.pod.starts_with(&format!("gpu-build-{}-", parts[1])) && suffix(&gpu.pod[18..]));
        let watcher = generate(Source::PodLifecycleWatcher, Framing::Cri, 1, seed);
        assert_eq!((&*watcher.namespace, &*watcher.container), ("baseten-system", "watcher"));
        let django = generate(Source::Deploy, Framing::Cri, 1, seed);
        assert_eq!((&*django.namespace, &*django.container), ("baseten", "django"));
        // The sidecars belong to the model's pod.
        assert_eq!(noise(Noise::QueueProxy, Framing::Cri, 1, seed).pod, model.pod);
    }
}

/// Frames a file with the runtime's framer and returns its lines.
fn framed(file: &File) -> Vec<(Stream, String)> {
    let mut framer = Framer::new(None);
    let mut out = Vec::new();
    for line in raw_lines(file) {
        if let Some(Ok(l)) = framer.push(line) {
            out.push((l.stream, l.text.to_owned()));
        }
    }
    while let Some(l) = framer.finish() {
        if let Ok(l) = l {
            out.push((l.stream, l.text.to_owned()));
        }
    }
    out
}

#[test]
fn both_framings_carry_the_same_kinds_of_lines() {
    for source in Source::ALL {
        let cri = generate(source, Framing::Cri, 2_000, 11);
        let docker = generate(source, Framing::Docker, 2_000, 11);
        let (a, b) = (framed(&cri), framed(&docker));
        // The same generator and seed: the same messages, except where a
        // character was cut between two docker pieces (U+FFFD).
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert!(same * 100 >= a.len() * 99, "{}: {same} of {}", source.name(), a.len());
    }
}

#[test]
fn the_platform_features_are_present() {
    let model = generate(Source::ModelContainer, Framing::Cri, 100_000, 1);
    let lines: Vec<&[u8]> = raw_lines(&model).collect();
    let count = |f: &dyn Fn(&[u8]) -> bool| lines.iter().filter(|l| f(l)).count();
    fn has(needle: &'static [u8]) -> impl Fn(&[u8]) -> bool {
        move |l| l.windows(needle.len()).any(|w| w == needle)
    }
    assert!(count(&|l| l[..l.len().min(40)].windows(3).any(|w| w == b" P ")) > 5, "partial pieces");
    assert!(count(&|l| l.ends_with(b" F ")) > 5, "empty lines");
    assert!(count(&has(b"\r")) > 50, "progress bars");
    assert!(count(&has(b"\x1b[")) > 50, "ANSI colours");
    assert!(count(&has(b"NaN")) > 5);
    assert!(count(&has(b"\\udc")) > 0, "lone surrogates");
    assert!(count(&has(b"\\u00")) > 50, "unicode escapes");
    assert!(count(&has(b"Traceback (most recent call last):")) > 50);
    assert!(count(&|l| std::str::from_utf8(l).is_err()) > 5, "invalid UTF-8");
    assert!(count(&has(b"stdout")) > 5_000 && count(&has(b"stderr")) > 50_000);
    let fractions: std::collections::HashSet<usize> = lines
        .iter()
        .map(|l| {
            l.iter().position(|&b| b == b'Z').unwrap() - l.iter().position(|&b| b == b'.').map_or(19, |p| p.min(19))
        })
        .collect();
    assert!(fractions.len() >= 8, "timestamps with 0 to 9 fraction digits: {fractions:?}");
    let mean = model.bytes.len() / model.lines;
    assert!((240..320).contains(&mean), "mean CRI line of the model container: {mean} bytes");
}
