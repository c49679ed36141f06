//! The law an agent's checkpoints rest on: reading a file again from
//! `min(settled_position, resume of every record not yet delivered)`
//! repeats only records already made, whole and byte for byte, and misses
//! none.
//!
//! Random CRI files of the model container (JSON lines, plain text,
//! tracebacks after error lines and alone, lines cut into `P` pieces on
//! both streams, empty and malformed lines, quiet gaps that close groups)
//! are read once to the end: the reference. Then the same file is read up
//! to a random crash point, a random prefix of the records made so far is
//! taken as delivered, the checkpoint is computed, and a new reader starts
//! there. The delivered records and the new reader's must hold every
//! reference record, and the new reader's must all be reference records.

use proptest::prelude::*;
use uml::Rules;
use uml::runtime::exec::Record;
use uml::runtime::pipeline::{FileState, Processor, Provenance};

const PATH: &str = "/var/log/pods/org-50a9bc6b456e47aa88e0d81e622ea315_model-x5qe2qo-7d9f8b6c5d-q7rg5_0d4a/model/0.log";

/// One record, as bytes, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Made {
    bytes: String,
    provenance: Provenance,
}

fn made(record: &Record, provenance: Provenance) -> Made {
    let bytes = format!(
        "{} {} {}",
        record.timestamp,
        String::from_utf8_lossy(record.labels_json()),
        String::from_utf8_lossy(record.payload())
    );
    Made { bytes, provenance }
}

/// Raw lines, each with its byte offset.
type RawLines<'a> = Vec<(u64, &'a [u8])>;

/// The raw lines of a file, each with its byte offset.
fn raw_lines(file: &[u8]) -> RawLines<'_> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in file.split_inclusive(|b| *b == b'\n') {
        out.push((at as u64, line));
        at += line.len();
    }
    out
}

/// Reads a whole file with the embedded rules: its records, its counters,
/// and its raw lines with their offsets.
fn read_all(file_bytes: &[u8]) -> (Vec<Made>, uml::runtime::pipeline::Stats, RawLines<'_>) {
    let rules = Rules::embedded();
    let mut processor = Processor::new(rules.plan());
    let lines = raw_lines(file_bytes);
    let mut file = FileState::from_path(PATH).starting_at(0);
    let made = read(&mut processor, &mut file, &lines, true);
    (made, file.stats, lines)
}

/// Reads `lines` into `file`; stops after `limit` lines without finishing.
fn read(processor: &mut Processor<'_>, file: &mut FileState, lines: &[(u64, &[u8])], finish: bool) -> Vec<Made> {
    let mut out = Vec::new();
    for &(at, raw) in lines {
        processor.push_at(file, raw, at, &mut |r, p| out.push(made(r, p)));
    }
    if finish {
        processor.finish(file, &mut |r, p| out.push(made(r, p)));
    }
    out
}

#[derive(Clone, Debug)]
enum Piece {
    Json(u32),
    Text(u32),
    ErrorLine,
    Traceback { frames: u8 },
    Long { stream: bool, pieces: u8, interleave: bool },
    Empty,
    Malformed,
    Gap,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => any::<u32>().prop_map(Piece::Json),
        3 => any::<u32>().prop_map(Piece::Text),
        1 => Just(Piece::ErrorLine),
        2 => (0u8..4).prop_map(|frames| Piece::Traceback { frames }),
        2 => (any::<bool>(), 2u8..4, any::<bool>())
            .prop_map(|(stream, pieces, interleave)| Piece::Long { stream, pieces, interleave }),
        1 => Just(Piece::Empty),
        1 => Just(Piece::Malformed),
        1 => Just(Piece::Gap),
    ]
}

/// Writes the pieces as a CRI file, one millisecond a raw line (a gap: 5 s).
fn cri_file(pieces: &[Piece], stderr_tracebacks: bool) -> Vec<u8> {
    let mut out = String::new();
    let mut ms: u64 = 0;
    let line = |out: &mut String, ms: &mut u64, stream: &str, tag: &str, text: &str| {
        *ms += 1;
        let (s, frac) = (*ms / 1000, *ms % 1000);
        out.push_str(&format!("2026-11-20T10:{:02}:{:02}.{frac:03}Z {stream} {tag} {text}\n", s / 60 % 60, s % 60));
    };
    let tb = if stderr_tracebacks { "stderr" } else { "stdout" };
    for (i, p) in pieces.iter().enumerate() {
        match p {
            Piece::Json(n) => line(
                &mut out,
                &mut ms,
                "stderr",
                "F",
                &format!(r#"{{"levelname": "INFO", "message": "json {n} #{i}"}}"#),
            ),
            Piece::Text(n) => line(&mut out, &mut ms, "stdout", "F", &format!("plain text {n} #{i}")),
            Piece::ErrorLine => line(&mut out, &mut ms, tb, "F", &format!("ERROR: predict failed #{i}")),
            Piece::Traceback { frames } => {
                line(&mut out, &mut ms, tb, "F", "Traceback (most recent call last):");
                for f in 0..*frames {
                    line(&mut out, &mut ms, tb, "F", &format!("  File \"/app/model.py\", line {f}, in predict"));
                }
                line(&mut out, &mut ms, tb, "F", &format!("ValueError: bad input #{i}"));
            }
            Piece::Long { stream, pieces, interleave } => {
                let (s, other) = if *stream { ("stdout", "stderr") } else { ("stderr", "stdout") };
                for k in 0..*pieces {
                    let tag = if k + 1 == *pieces { "F" } else { "P" };
                    line(&mut out, &mut ms, s, tag, &format!("part {k} of #{i} "));
                    if *interleave && k == 0 {
                        line(&mut out, &mut ms, other, "F", &format!("between #{i}"));
                    }
                }
            }
            Piece::Empty => line(&mut out, &mut ms, "stdout", "F", ""),
            Piece::Malformed => {
                ms += 1;
                out.push_str("not a CRI line\n");
            }
            Piece::Gap => ms += 5000,
        }
    }
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn reading_again_from_the_checkpoint_repeats_only_whole_records_and_misses_none(
        pieces in prop::collection::vec(piece(), 1..40),
        stderr_tracebacks in any::<bool>(),
        crash in any::<prop::sample::Index>(),
        delivered in any::<prop::sample::Index>(),
    ) {
        let rules = Rules::embedded();
        let file_bytes = cri_file(&pieces, stderr_tracebacks);
        let lines = raw_lines(&file_bytes);
        let mut processor = Processor::new(rules.plan());

        let mut file = FileState::from_path(PATH).starting_at(0);
        let reference = read(&mut processor, &mut file, &lines, true);
        let reference: Vec<&str> = reference.iter().map(|m| m.bytes.as_str()).collect();

        // The first run, cut short.
        let crash = crash.index(lines.len() + 1);
        let mut file = FileState::from_path(PATH).starting_at(0);
        let first = read(&mut processor, &mut file, &lines[..crash], false);
        let delivered = delivered.index(first.len() + 1);
        let checkpoint = first[delivered..]
            .iter()
            .map(|m| m.provenance.resume)
            .fold(file.settled_position(), u64::min);
        prop_assert!(checkpoint <= lines.get(crash).map_or(file_bytes.len() as u64, |l| l.0));
        prop_assert!(
            checkpoint == file_bytes.len() as u64 || lines.iter().any(|l| l.0 == checkpoint),
            "the checkpoint {} is not the start of a raw line", checkpoint
        );

        // The second run, from the checkpoint to the end.
        let from = lines.partition_point(|l| l.0 < checkpoint);
        let mut file = FileState::from_path(PATH).starting_at(checkpoint);
        let second = read(&mut processor, &mut file, &lines[from..], true);

        for m in &second {
            prop_assert!(reference.contains(&m.bytes.as_str()), "a record that the reference does not have: {}", m.bytes);
        }
        for r in &reference {
            let seen = first[..delivered].iter().chain(&second).any(|m| m.bytes == *r);
            prop_assert!(seen, "lost: {}", r);
        }
    }
}

/// A record's provenance names its raw lines and its cluster.
#[test]
fn a_line_joined_across_the_other_streams_line_resumes_at_its_first_piece() {
    let rules = Rules::embedded();
    let mut processor = Processor::new(rules.plan());
    let file_bytes = b"2026-11-20T10:00:00.001Z stdout P Hello, \n\
2026-11-20T10:00:00.002Z stderr F {\"levelname\": \"INFO\", \"message\": \"between\"}\n\
2026-11-20T10:00:00.003Z stdout F world\n";
    let lines = raw_lines(file_bytes);
    let mut file = FileState::from_path(PATH).starting_at(0);
    let mut out = Vec::new();
    for &(at, raw) in &lines {
        processor.push_at(&mut file, raw, at, &mut |r, p| out.push(made(r, p)));
        if at < lines[2].0 {
            assert_eq!(file.settled_position(), 0, "the open line began at 0");
        }
    }
    processor.finish(&mut file, &mut |r, p| out.push(made(r, p)));
    let provenance: Vec<_> =
        out.iter().map(|m| (m.provenance.origin.first, m.provenance.origin.last, m.provenance.resume)).collect();
    let (a, b, c) = (lines[0].0, lines[1].0, lines[2].0);
    // The joined line first (its first piece came first), then the stderr
    // line, whose reading again must start at the joined line's first piece.
    assert_eq!(provenance, [(a, c, a), (b, b, a)]);
    assert_eq!(file.settled_position(), file_bytes.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// One ordering stage: whatever finishes a unit late (a line joined from
    /// pieces, a traceback closed by the next line of its stream), records
    /// come out in the order of their first raw line, and no line is let
    /// through out of order while the queue has room.
    #[test]
    fn records_come_out_in_the_order_of_their_first_raw_line(
        pieces in prop::collection::vec(piece(), 1..60),
        stderr_tracebacks in any::<bool>(),
    ) {
        let file_bytes = cri_file(&pieces, stderr_tracebacks);
        let (made, stats, _) = read_all(&file_bytes);
        let firsts: Vec<u64> = made.iter().map(|m| m.provenance.origin.first).collect();
        prop_assert!(firsts.windows(2).all(|w| w[0] < w[1]), "out of order: {:?}", firsts);
        prop_assert_eq!(stats.reordered, 0);
        prop_assert!(stats.check().is_ok(), "{:?}", stats.check());
    }
}

/// A traceback on stderr that ends while a stdout line is still being
/// joined from pieces waits for that line: the joined line (first piece
/// first) comes out before it.
#[test]
fn a_traceback_finished_during_a_partial_line_waits_for_it() {
    let file_bytes = b"2026-11-20T10:00:00.001Z stdout P loading weights \n\
2026-11-20T10:00:00.002Z stderr F Traceback (most recent call last):\n\
2026-11-20T10:00:00.003Z stderr F   File \"/app/model.py\", line 3, in load\n\
2026-11-20T10:00:00.004Z stderr F OSError: weights.bin not found\n\
2026-11-20T10:00:00.005Z stderr F {\"levelname\": \"INFO\", \"message\": \"retrying\"}\n\
2026-11-20T10:00:00.006Z stdout F done\n";
    let (made, stats, lines) = read_all(file_bytes);
    let order: Vec<u64> = made.iter().map(|m| m.provenance.origin.first).collect();
    assert_eq!(order, [lines[0].0, lines[1].0, lines[4].0]);
    assert!(made[0].bytes.contains("loading weights done"), "{}", made[0].bytes);
    assert!(made[1].bytes.contains("OSError: weights.bin not found"), "{}", made[1].bytes);
    assert_eq!(stats.reordered, 0);
    assert!(stats.check().is_ok(), "{:?}", stats.check());
}

/// The queue behind a line still being joined is bounded: a partial line
/// that stays open while the other stream writes more than a group's
/// `max_lines` lets those lines through ahead of it, counted, and nothing
/// is lost.
#[test]
fn lines_behind_a_partial_line_that_stays_open_go_out_counted() {
    let mut text = String::from("2026-11-20T10:00:00.000Z stdout P the start of a long line \n");
    for i in 0..600 {
        text.push_str(&format!(
            "2026-11-20T10:00:00.{:03}Z stderr F {{\"levelname\": \"INFO\", \"message\": \"line {i}\"}}\n",
            i % 1000
        ));
    }
    text.push_str("2026-11-20T10:00:01.000Z stdout F and its end\n");
    let (made, stats, _) = read_all(text.as_bytes());
    assert_eq!(made.len(), 601);
    assert!(stats.reordered > 0 && stats.reordered <= 600, "{}", stats.reordered);
    assert!(made.iter().any(|m| m.bytes.contains("the start of a long line and its end")));
    assert!(stats.check().is_ok(), "{:?}", stats.check());
}
