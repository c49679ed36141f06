//! Laws of multiline grouping, for any interleaving of the two streams:
//!
//! - every input line ends up in exactly one group, and a stream's groups,
//!   read in order, give back that stream's lines in order (nothing lost,
//!   duplicated, reordered or moved to the other stream);
//! - groups come out in the order of their first line, with its timestamp;
//! - what the grouper holds back stays within a bound set by `max_lines`;
//! - with lines still being joined before the grouper (a barrier, as the
//!   stream layer sets one for a line the framer joins from pieces), the
//!   same laws hold, groups come out in the order of their first raw line,
//!   and a line is let through ahead of a barrier only when the queue is
//!   full, counted.
//!
//! The streams are made of whole tracebacks, panics and runs of continued
//! lines cut at random places, and of single lines that look like pieces of
//! them, so that every state of the grammar meets every kind of line.

use proptest::prelude::*;
use regex::Regex;
use uml_runtime::group::{
    Group, GroupConfig, Grouper, Origin, Stream, matches_default_head, matches_default_head_by_walking,
};

const CHUNKS: &[&[&str]] = &[
    &["Traceback (most recent call last):", "  File \"/app/m.py\", line 1, in f", "    g()", "ValueError: bad input"],
    &[
        "ERROR:root:failed",
        "Traceback (most recent call last):",
        "  File \"/app/m.py\", line 1, in f",
        "KeyError: 'x'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        "  File \"/app/m.py\", line 3, in f",
        "RuntimeError: again",
    ],
    &[
        "  + Exception Group Traceback (most recent call last):",
        "  |   File \"/app/m.py\", line 2, in f",
        "  | ExceptionGroup: eg (2 sub-exceptions)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: 1",
        "    +---------------- 2 ----------------",
        "    | TypeError: 2",
        "    +------------------------------------",
    ],
    &[
        "  | ExceptionGroup:  (1 sub-exception)",
        "  +-+---------------- 1 ----------------",
        "    | OSError: x",
        "    +----",
    ],
    &["  File \"/app/broken.py\", line 1", "    def f(:", "          ^", "SyntaxError: invalid syntax"],
    &[
        "panic: boom",
        "",
        "goroutine 1 [running]:",
        "main.main()",
        "\t/app/main.go:8 +0x1d",
        "",
        "goroutine 2 [chan receive]:",
        "created by main.main in goroutine 1",
    ],
    &["fatal error: all goroutines are asleep - deadlock!", "", "goroutine 1 [chan receive]:", "main.main()"],
    &["Collecting torch", "  Downloading torch.whl", "  Using cached x.whl"],
];

const SINGLES: &[&str] = &[
    "INFO: serving",
    "ERROR: something failed",
    "\u{1b}[31mERRO\u{1b}[0m[0107] step failed",
    "",
    "    indented",
    "\tpanic: nested",
    "Traceback (most recent call last):",
    "ValueError: orphan",
    "The above exception was the direct cause of the following exception:",
    "  | ExceptionGroup: orphan (2 sub-exceptions)",
    "  +-+---------------- 1 ----------------",
    "panic: not a crash",
    "[signal SIGSEGV: segmentation violation]",
    "goroutine 7 [running]:",
    "main.main()",
    "exit status 2",
    "ΟΔΟΣ ━━━━ ✓",
    "E1120 10:00:00.000000       1 main.go:42] failed:",
    "I1120 10:00:00.000000       1 main.go:43] an error in prose",
    "terminate called after throwing an instance of 'std::bad_alloc'",
    "#3 0x00007f in f()",
    "{\"levelname\": \"ERROR\", \"message\": \"failed\"}",
];

/// Lines with process tags, which a group's text leaves out (so that the
/// laws that read a group's lines back do not hold for them).
const TAGGED: &[&str] = &[
    "(APIServer pid=1) ERROR 11-20 04:54:33 [engine.py:160] failed",
    "(APIServer pid=1) Traceback (most recent call last):",
    "(APIServer pid=1)   File \"/app/m.py\", line 1, in f",
    "(APIServer pid=1) ValueError: bad",
    "(APIServer pid=1) INFO 11-20 04:54:34 [api_server.py:598] ok",
    "[rank0]: Exception in thread Thread-1:",
    "[rank0]: Traceback (most recent call last):",
];

/// One stream's lines: whole chunks cut at a random length, and these
/// single lines.
fn stream_lines_of(singles: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    let piece = prop_oneof![
        (0..CHUNKS.len(), 1..12_usize).prop_map(|(i, n)| CHUNKS[i][..n.min(CHUNKS[i].len())].to_vec()),
        (0..singles.len()).prop_map(move |i| vec![singles[i]]),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

#[derive(Clone, Debug)]
enum Event {
    /// The next line of a stream, after this many ms.
    Line { stream: Stream, line: &'static str, gap_ms: i64 },
    /// `flush_idle` this many ms after the last line.
    FlushIdle { after_ms: i64 },
}

#[derive(Clone, Debug)]
struct Scenario {
    stdout: Vec<&'static str>,
    stderr: Vec<&'static str>,
    /// Which stream's line comes next, and when; and `flush_idle` calls.
    schedule: Vec<(bool, i64, Option<i64>)>,
    pattern: bool,
    max_lines: u32,
    idle_ms: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_of(SINGLES)
}

/// A scenario whose streams have these single lines.
fn scenario_of(singles: &'static [&'static str]) -> impl Strategy<Value = Scenario> {
    let gap = prop_oneof![8 => Just(1_i64), 1 => 1..3000_i64];
    let flush = prop_oneof![6 => Just(None), 1 => (0..3000_i64).prop_map(Some)];
    (
        stream_lines_of(singles),
        stream_lines_of(singles),
        prop::collection::vec((any::<bool>(), gap, flush), 0..300),
        any::<bool>(),
        prop_oneof![Just(1_u32), 2..10_u32, Just(500_u32)],
        prop_oneof![Just(1_u64), 100..3000_u64],
    )
        .prop_map(|(stdout, stderr, schedule, pattern, max_lines, idle_ms)| Scenario {
            stdout,
            stderr,
            schedule,
            pattern,
            max_lines,
            idle_ms,
        })
}

/// The order of events: each stream's lines in order, interleaved as the
/// schedule says, the rest appended.
fn events(s: &Scenario) -> Vec<Event> {
    let (mut out, mut err) = (0, 0);
    let mut events = Vec::new();
    for &(stderr, gap_ms, flush) in &s.schedule {
        let (next, lines, stream) =
            if stderr { (&mut err, &s.stderr, Stream::Stderr) } else { (&mut out, &s.stdout, Stream::Stdout) };
        if let Some(&line) = lines.get(*next) {
            *next += 1;
            events.push(Event::Line { stream, line, gap_ms });
        }
        if let Some(after_ms) = flush {
            events.push(Event::FlushIdle { after_ms });
        }
    }
    events.extend(s.stdout[out..].iter().map(|&line| Event::Line { stream: Stream::Stdout, line, gap_ms: 1 }));
    events.extend(s.stderr[err..].iter().map(|&line| Event::Line { stream: Stream::Stderr, line, gap_ms: 1 }));
    events
}

#[derive(Debug)]
struct Out {
    stream: Stream,
    timestamp_ns: i64,
    /// The group's input lines, as far as they can be read back.
    lines: Vec<String>,
}

/// The input lines a group holds, in order: a head line (with the indented
/// lines that continue it) then the traceback's lines, or the traceback's
/// lines, or `line`'s.
fn lines_of(g: &Group<'_>) -> Vec<String> {
    let split = |text: &str| text.split('\n').map(str::to_owned).collect::<Vec<_>>();
    match g.traceback {
        Some(tb) => {
            let (head, mut lines) = (split(g.line), split(tb));
            if head.len() + lines.len() == g.lines as usize {
                assert!(
                    head[1..].iter().all(|l| l.starts_with([' ', '\t'])),
                    "a head line goes on only with indented lines: {g:?}"
                );
                lines.splice(0..0, head);
            } else {
                assert!(tb.contains(g.line), "a headless traceback's line is one of its lines: {g:?}");
            }
            lines
        }
        None => split(g.line),
    }
}

/// The scenario's grouping: start/continue patterns, or tracebacks.
fn config(s: &Scenario) -> GroupConfig {
    if s.pattern {
        GroupConfig::Pattern {
            start: Regex::new(r"^\S").unwrap(),
            continue_: Regex::new(r"^\s").unwrap(),
            max_lines: s.max_lines,
            idle_ms: s.idle_ms,
        }
    } else {
        GroupConfig::PythonTraceback { head: None, max_lines: s.max_lines, idle_ms: s.idle_ms }
    }
}

fn check(s: &Scenario) -> Result<(), TestCaseError> {
    let mut grouper = Grouper::new(&config(s));
    let mut outs: Vec<Out> = Vec::new();
    let mut sink = |g: Group<'_>| {
        assert!(g.lines >= 1);
        let lines = lines_of(&g);
        assert_eq!(lines.len(), g.lines as usize, "the line count of {g:?}");
        outs.push(Out { stream: g.stream, timestamp_ns: g.timestamp_ns, lines });
    };
    // Timestamps are unique and increasing, so "in the order of the first
    // line" is "in the order of timestamps".
    let mut stamps: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
    let mut now_ms = 0;
    let bound = 3 * s.max_lines as usize;
    for event in events(s) {
        match event {
            Event::Line { stream, line, gap_ms } => {
                now_ms += gap_ms;
                stamps[stream as usize].push(now_ms * 1_000_000);
                grouper.push(stream, now_ms * 1_000_000, line, &mut sink);
            }
            Event::FlushIdle { after_ms } => grouper.flush_idle((now_ms + after_ms) * 1_000_000, &mut sink),
        }
        prop_assert!(grouper.buffered_lines() <= bound, "{} lines held, more than {bound}", grouper.buffered_lines());
    }
    grouper.finish(&mut sink);
    prop_assert_eq!(grouper.buffered_lines(), 0);

    let total: usize = outs.iter().map(|o| o.lines.len()).sum();
    prop_assert_eq!(total, s.stdout.len() + s.stderr.len());
    for pair in outs.windows(2) {
        prop_assert!(pair[0].timestamp_ns < pair[1].timestamp_ns, "out of order: {:?} then {:?}", pair[0], pair[1]);
    }
    for (stream, input) in [(Stream::Stdout, &s.stdout), (Stream::Stderr, &s.stderr)] {
        let mine: Vec<&Out> = outs.iter().filter(|o| o.stream == stream).collect();
        let read_back: Vec<&str> = mine.iter().flat_map(|o| o.lines.iter().map(String::as_str)).collect();
        prop_assert_eq!(&read_back, input, "{:?} lines read back", stream);
        // Each group's timestamp is its first line's.
        let mut first = 0;
        for o in mine {
            prop_assert_eq!(o.timestamp_ns, stamps[stream as usize][first]);
            first += o.lines.len();
        }
    }
    Ok(())
}

/// [`check`]'s laws with barriers: a stream's line chosen by `partial`
/// is taken as a line whose pieces are still being joined. Its position is
/// reserved when it would have been pushed, the barrier set there; it is
/// pushed (with that position) when its stream's next line comes, or at the
/// end, and the barrier moves on. No line of its stream comes in between,
/// as with the framer.
fn check_barriers(s: &Scenario, partial: &[bool]) -> Result<(), TestCaseError> {
    let mut grouper = Grouper::new(&config(s));
    let mut outs: Vec<(Stream, u64, Vec<String>)> = Vec::new();
    let mut sink = |g: Group<'_>| outs.push((g.stream, g.origin.first, lines_of(&g)));
    let bound = 3 * s.max_lines as usize;
    drive_events(&mut grouper, s, partial, &[false], &mut sink, |grouper| {
        prop_assert!(grouper.buffered_lines() <= bound, "{} lines held, more than {bound}", grouper.buffered_lines());
        Ok(())
    })?;
    prop_assert_eq!(grouper.buffered_lines(), 0);

    let total: usize = outs.iter().map(|o| o.2.len()).sum();
    prop_assert_eq!(total, s.stdout.len() + s.stderr.len());
    if grouper.reordered() == 0 {
        for pair in outs.windows(2) {
            prop_assert!(pair[0].1 < pair[1].1, "out of order: {:?} then {:?}", pair[0], pair[1]);
        }
    }
    for (stream, input) in [(Stream::Stdout, &s.stdout), (Stream::Stderr, &s.stderr)] {
        let read_back: Vec<&str> =
            outs.iter().filter(|o| o.0 == stream).flat_map(|o| o.2.iter().map(String::as_str)).collect();
        prop_assert_eq!(&read_back, input, "{:?} lines read back", stream);
    }
    Ok(())
}

/// [`SINGLES`], [`TAGGED`], and two lines longer than a line held with its
/// head test left for later may be (8 KiB).
static ALL_SINGLES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let long = |head: &str, fill: &str| -> &'static str { format!("{head}{}", fill.repeat(8300)).leak() };
    let mut all: Vec<&'static str> = SINGLES.iter().chain(TAGGED).copied().collect();
    all.extend([long("ERROR: a long line ", "x"), long("INFO: a long line ", "y")]);
    all
});

/// A group as the sink saw it, owned.
type Seen = (Stream, i64, String, Option<String>, u32, Origin);

/// Runs `grouper` through the scenario's events, with the lines `partial`
/// picks joined from pieces as in [`check_barriers`], calling `settle`
/// after the events `settle` picks; returns the groups in the order they
/// came and the count of reordered lines.
fn drive(mut grouper: Grouper, s: &Scenario, partial: &[bool], settle: &[bool]) -> (Vec<Seen>, u64) {
    let mut outs: Vec<Seen> = Vec::new();
    let mut sink = |g: Group<'_>| {
        outs.push((g.stream, g.timestamp_ns, g.line.to_owned(), g.traceback.map(str::to_owned), g.lines, g.origin))
    };
    let driven = drive_events(&mut grouper, s, partial, settle, &mut sink, |_| Ok(()));
    assert!(driven.is_ok(), "no check to fail");
    (outs, grouper.reordered())
}

/// Feeds the scenario's events to `grouper`, the lines `partial` picks
/// taken as lines joined from pieces (their position reserved when they
/// would have been pushed, the barrier set there; pushed with that
/// position when their stream's next line comes, or at the end, as the
/// framer does), `settle` called after the events `settle` picks and
/// `each` after every event; then the dangling lines, oldest first, and
/// `finish`.
fn drive_events(
    grouper: &mut Grouper,
    s: &Scenario,
    partial: &[bool],
    settle: &[bool],
    sink: &mut impl FnMut(Group<'_>),
    mut each: impl FnMut(&Grouper) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    // Per stream: the line being joined (its position, timestamp, text).
    let mut open: [Option<(u64, i64, &str)>; 2] = [None, None];
    let barrier = |open: &[Option<(u64, i64, &str)>; 2]| open.iter().flatten().map(|o| o.0).min();
    let (mut next, mut now_ms) = (0u64, 0i64);
    let mut toggles = partial.iter().copied().cycle();
    let mut settles = settle.iter().copied().cycle();
    for event in events(s) {
        match event {
            Event::Line { stream, line, gap_ms } => {
                now_ms += gap_ms;
                let i = stream as usize;
                if let Some((at, ts, text)) = open[i].take() {
                    grouper.push_at(stream, ts, text, Origin::at(at), sink);
                    grouper.set_barrier(barrier(&open), sink);
                }
                let at = next;
                next += 1;
                if toggles.next().unwrap_or(false) {
                    open[i] = Some((at, now_ms * 1_000_000, line));
                    grouper.set_barrier(barrier(&open), sink);
                } else {
                    grouper.push_at(stream, now_ms * 1_000_000, line, Origin::at(at), sink);
                }
            }
            Event::FlushIdle { after_ms } => grouper.flush_idle((now_ms + after_ms) * 1_000_000, sink),
        }
        if settles.next().unwrap_or(false) {
            grouper.settle(sink);
        }
        each(grouper)?;
    }
    // The dangling lines, oldest first, as the stream layer finishes them.
    while let Some(i) = (0..2).filter(|&i| open[i].is_some()).min_by_key(|&i| open[i].map(|o| o.0)) {
        let (at, ts, text) = open[i].take().unwrap_or_default();
        let stream = if i == 0 { Stream::Stdout } else { Stream::Stderr };
        grouper.push_at(stream, ts, text, Origin::at(at), sink);
        grouper.set_barrier(barrier(&open), sink);
    }
    grouper.finish(sink);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The `head` test left until the next line could join a head line
    /// gives the same groups, in the same order, as the test run on every
    /// line as it comes, however often `settle` is called.
    #[test]
    fn a_head_decided_later_changes_nothing(
        s in scenario_of(ALL_SINGLES.as_slice()),
        partial in prop::collection::vec(prop_oneof![5 => Just(false), 1 => Just(true)], 1..64),
        settle in prop::collection::vec(prop_oneof![3 => Just(false), 1 => Just(true)], 1..64),
    ) {
        let lazy = drive(Grouper::new(&config(&s)), &s, &partial, &settle);
        let eager = drive(Grouper::new(&config(&s)).with_head_decided_at_once(), &s, &partial, &[false]);
        prop_assert_eq!(lazy, eager);
    }

    #[test]
    fn every_line_in_one_group_in_order(s in scenario()) {
        check(&s)?;
    }

    #[test]
    fn barriers_keep_the_order_and_the_bound(
        s in scenario(),
        partial in prop::collection::vec(prop_oneof![5 => Just(false), 1 => Just(true)], 1..64),
    ) {
        check_barriers(&s, &partial)?;
    }
}

/// Pieces of lines around the default head's words and their edges.
const HEAD_PIECES: &[&str] = &[
    "error",
    "ERRO",
    "Crit",
    "critical",
    "FATAL",
    "fata",
    "panic",
    "PANI",
    "Exception",
    "errors",
    "xerror",
    "_",
    "1",
    "E",
    "F",
    "1120",
    "[E]",
    "[e]",
    "[",
    "]",
    "\u{1b}[",
    "\u{1b}",
    "31",
    "1;31",
    ";",
    "m",
    "K",
    " ",
    ":",
    "=",
    "é",
    "━",
    "\u{1b}[0m",
    "E1120 ",
    "F0000 ",
];

fn head_line() -> impl Strategy<Value = String> {
    let pieces = || prop::collection::vec(prop::sample::select(HEAD_PIECES), 0..8).prop_map(|pieces| pieces.concat());
    prop_oneof![
        pieces(),
        ".*",
        "[\\x00-\\x7f]{0,40}",
        // Long lines, the pieces anywhere around the matcher's 512-byte
        // blocks, after spaces or after letters.
        (490usize..1060, prop::sample::select(vec![" ", "a", "é"]), pieces())
            .prop_map(|(n, pad, tail)| format!("{}{tail}", pad.repeat(n / pad.len()))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The hand-written default head agrees with its pattern.
    #[test]
    fn default_head_matcher_is_the_pattern(line in head_line()) {
        let expected = GroupConfig::default_head().is_match(&line);
        prop_assert_eq!(matches_default_head(&line), expected, "on {:?}", line);
        prop_assert_eq!(matches_default_head_by_walking(&line), expected, "walking, on {:?}", line);
    }
}

/// Reusing a grouper for the next file gives the same groups as a new one.
#[test]
fn finish_leaves_the_grouper_like_new() {
    let config = GroupConfig::python_traceback();
    let lines: Vec<&str> = CHUNKS.iter().flat_map(|c| c.iter().copied()).chain(SINGLES.iter().copied()).collect();
    let run = |grouper: &mut Grouper| {
        let mut groups = Vec::new();
        for (ts, line) in (1..).zip(&lines) {
            let stream = if ts % 3 == 0 { Stream::Stderr } else { Stream::Stdout };
            grouper.push(stream, ts, line, &mut |g| groups.push(format!("{g:?}")));
        }
        grouper.finish(&mut |g| groups.push(format!("{g:?}")));
        groups
    };
    let mut grouper = Grouper::new(&config);
    let first = run(&mut grouper);
    assert!(first.len() > 10 && first.len() < lines.len(), "{first:#?}");
    assert_eq!(run(&mut grouper), first);
}
