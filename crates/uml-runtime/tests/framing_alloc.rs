//! Framing allocates nothing per line once warm, and its memory is bounded
//! by the maximum line length, not by the input. A counting global
//! allocator checks both, per thread, so other tests cannot interfere.

use uml_runtime::framing::{DEFAULT_MAX_LINE_BYTES, Format, Framer};

#[path = "support/counting_alloc.rs"]
pub mod counting_alloc;
use counting_alloc::{allocations_in, peak_in};

/// Frames `raw` and touches every line, returning how many came out.
fn frame(framer: &mut Framer, raw: &[Vec<u8>]) -> usize {
    let mut n = 0;
    for line in raw {
        if let Some(Ok(line)) = framer.push(line) {
            n += line.text.len().min(1);
        }
    }
    while framer.finish().is_some() {}
    n
}

fn cri_lines() -> Vec<Vec<u8>> {
    let mut long = b"2026-11-20T10:00:09Z stdout F ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10_000));
    vec![
        br#"2026-11-20T10:00:01.5Z stderr F {"asctime": "2026-11-20 00:43:12,801", "levelname": "INFO", "message": "172.17.0.1:53630 - \"POST /v1/models/model%3Apredict HTTP/1.1\" 200"}"#.to_vec(),
        b"2026-11-20T10:00:02Z stdout P price: 5\xe2\x82".to_vec(),
        b"2026-11-20T10:00:02.1Z stderr F:x interleaved".to_vec(),
        b"2026-11-20T10:00:03Z stdout F \xac (euro) and \xff invalid".to_vec(),
        b"2026-11-20T10:00:04Z stdout F caf\xe9".to_vec(),
        b"2026-11-20T10:00:05Z stdout F ".to_vec(),
        b"not a CRI line".to_vec(),
        b"".to_vec(),
        b"2026-11-20T05:00:06.123456789-05:00 stdout F  \xe2\x94\x81\xe2\x94\x81 757.3/757.3 MB\r".to_vec(),
        long,
        b"2026-11-20T10:00:10Z stderr P dangling at the end".to_vec(),
    ]
}

fn docker_lines() -> Vec<Vec<u8>> {
    let mut long = br#"{"log":"\""#.to_vec();
    long.extend(std::iter::repeat_n(b'y', 10_000));
    long.extend_from_slice(br#"\n","stream":"stdout","time":"2026-11-20T10:00:09Z"}"#);
    vec![
        br#"{"log":"{\"asctime\": \"2026-11-20 00:43:12,801\", \"levelname\": \"INFO\", \"message\": \"Executing model.load()...\"}\n","stream":"stderr","time":"2026-11-20T10:00:01.123456789Z"}"#.to_vec(),
        br#"{"log":"plain, borrowed\n","stream":"stdout","time":"2026-11-20T10:00:02Z"}"#.to_vec(),
        br#"{"log":"\u001b[36mINFO\u001b[0m a partial ","stream":"stdout","time":"2026-11-20T10:00:03Z"}"#.to_vec(),
        br#"{"log":"lone \ud800 and the end\n","stream":"stdout","time":"2026-11-20T10:00:04Z"}"#.to_vec(),
        br#"{"log":"\n","stream":"stdout","time":"2026-11-20T10:00:05Z"}"#.to_vec(),
        br#"{"log":42,"stream":"stdout","time":"2026-11-20T10:00:06Z"}"#.to_vec(),
        long,
        br#"{"log":"dangling","stream":"stderr","time":"2026-11-20T10:00:10Z"}"#.to_vec(),
    ]
}

#[test]
fn no_allocation_once_warm() {
    for (format, raw) in [(Format::Cri, cri_lines()), (Format::Docker, docker_lines())] {
        // A small maximum, so that the long line is cut without making the
        // test slow.
        let mut framer = Framer::new(None).with_max_line_bytes(4096);
        let warm = frame(&mut framer, &raw);
        assert!(warm >= 4, "{format:?}: the lines frame");
        assert_eq!(framer.format(), Some(format));
        let n = allocations_in(|| {
            for _ in 0..2000 {
                assert_eq!(frame(&mut framer, &raw), warm);
            }
        });
        assert_eq!(n, 0, "{format:?}: allocations after warm-up");
        let c = framer.counters();
        assert_eq!(c.raw_lines, c.framed_pieces + c.dropped());
        assert_eq!(c.raw_lines, 2001 * raw.len() as u64);
    }
}

/// A 64 MiB line in 16 KiB pieces (the runtime's cut) takes no more memory
/// than the maximum line and one piece, in either format.
#[test]
fn memory_is_bounded_by_the_maximum() {
    const PIECES: usize = 4096;
    let payload = "z".repeat(16 * 1024);
    let cri_p = format!("2026-11-20T10:00:01Z stdout P {payload}").into_bytes();
    let cri_f = format!("2026-11-20T10:00:02Z stdout F {payload}").into_bytes();
    let docker_p = format!(r#"{{"log":"\t{payload}","stream":"stdout","time":"2026-11-20T10:00:01Z"}}"#).into_bytes();
    let docker_f = format!(r#"{{"log":"\t{payload}\n","stream":"stdout","time":"2026-11-20T10:00:02Z"}}"#).into_bytes();
    for (partial, full) in [(&cri_p, &cri_f), (&docker_p, &docker_f)] {
        let mut framer = Framer::new(None);
        let peak = peak_in(|| {
            for _ in 0..PIECES {
                assert!(framer.push(partial).is_none());
            }
            let line = framer.push(full).unwrap().unwrap();
            assert!(line.truncated && line.text.len() <= DEFAULT_MAX_LINE_BYTES);
            assert_eq!(line.pieces, PIECES as u64 + 1);
        });
        // The joined bytes (the maximum and three), and for docker the
        // decoded `log` of one piece.
        let bound = DEFAULT_MAX_LINE_BYTES + 3 + 2 * payload.len() + 16;
        assert!(peak <= bound as isize, "peak {peak} bytes for a 64 MiB line");
    }
}
