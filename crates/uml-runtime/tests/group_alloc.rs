//! Grouping allocates nothing once warm: after one pass over a file, a
//! second pass over the same lines (tracebacks with heads, chains, exception
//! groups, Go panics, the other stream waiting behind them, `max_lines`
//! cuts, idle flushes) never reaches the allocator. A counting global
//! allocator checks it, per thread, so other tests cannot interfere.

use regex::Regex;
use uml_runtime::group::{Group, GroupConfig, Grouper, Stream};

#[path = "support/counting_alloc.rs"]
pub mod counting_alloc;
use counting_alloc::allocations_in;

const O: Stream = Stream::Stdout;
const E: Stream = Stream::Stderr;

/// A file's lines: (stream, ms, text).
const FILE: &[(Stream, i64, &str)] = &[
    (O, 1, "INFO:     Started server process [12625]"),
    (E, 2, "ERROR:    Exception in ASGI application"),
    (O, 3, "request 1 done"),
    (E, 4, "Traceback (most recent call last):"),
    (O, 5, "request 2 done"),
    (E, 6, "  File \"/app/model/model.py\", line 12, in predict"),
    (E, 7, "    raise ValueError(\"bad input\")"),
    (E, 8, "ValueError: bad input"),
    (E, 9, ""),
    (E, 10, "During handling of the above exception, another exception occurred:"),
    (E, 11, ""),
    (E, 12, "Traceback (most recent call last):"),
    (E, 13, "  File \"/app/main.py\", line 5, in <module>"),
    (O, 14, "request 3 done"),
    (E, 15, "RuntimeError: cannot serve"),
    (E, 16, "  + Exception Group Traceback (most recent call last):"),
    (E, 17, "  | ExceptionGroup: eg (2 sub-exceptions)"),
    (E, 18, "  +-+---------------- 1 ----------------"),
    (E, 19, "    | ValueError: 1"),
    (E, 20, "    +------------------------------------"),
    (O, 21, "panic: runtime error: index out of range [5] with length 3"),
    (O, 22, ""),
    (O, 23, "goroutine 1 [running]:"),
    (O, 24, "main.main()"),
    (O, 25, "\t/app/main.go:8 +0x1d"),
    (O, 26, "exit status 2"),
    (O, 27, "panic: not a crash"),
    (O, 28, "INFO: next"),
    (E, 29, "Traceback (most recent call last):"),
    (E, 30, "  File \"/app/a.py\", line 1, in a"),
    (E, 31, "  File \"/app/b.py\", line 2, in b"),
    (E, 32, "  File \"/app/c.py\", line 3, in c"),
    (E, 33, "  File \"/app/d.py\", line 4, in d"),
    (E, 34, "  File \"/app/e.py\", line 5, in e"),
    (E, 35, "KeyError: 'x'"),
    (O, 36, "a stdout line while stderr waits"),
    (E, 5000, "ERROR: idle head"),
    (O, 9000, "after the idle flush"),
];

fn pass(grouper: &mut Grouper) -> (u64, u64) {
    let (mut lines, mut tracebacks) = (0_u64, 0_u64);
    let mut sink = |g: Group<'_>| {
        lines += u64::from(g.lines);
        tracebacks += u64::from(g.traceback.is_some());
    };
    for &(stream, ms, text) in FILE {
        if ms == 9000 {
            grouper.flush_idle(8000 * 1_000_000, &mut sink);
        }
        grouper.push(stream, ms * 1_000_000, text, &mut sink);
    }
    grouper.finish(&mut sink);
    (lines, tracebacks)
}

#[test]
fn no_allocation_once_warm() {
    let configs = [
        GroupConfig::python_traceback(),
        GroupConfig::PythonTraceback { head: None, max_lines: 4, idle_ms: 2000 },
        GroupConfig::Pattern {
            start: Regex::new(r"^\S").unwrap(),
            continue_: Regex::new(r"^\s").unwrap(),
            max_lines: 3,
            idle_ms: 2000,
        },
    ];
    for config in &configs {
        let mut grouper = Grouper::new(config);
        let warm = pass(&mut grouper);
        assert_eq!(warm.0, FILE.len() as u64);
        let mut again = (0, 0);
        let n = allocations_in(|| again = pass(&mut grouper));
        assert_eq!(again, warm);
        assert_eq!(n, 0, "{n} allocations in a warm pass with {config:?}");
    }
}

#[test]
fn the_counter_counts() {
    // The allocator above is the one in use: a grouper's first traceback
    // allocates its buffers (a new grouper allocates nothing).
    assert_eq!(allocations_in(|| drop(Grouper::new(&GroupConfig::python_traceback()))), 0);
    let first_traceback = || {
        let mut grouper = Grouper::new(&GroupConfig::python_traceback());
        for line in ["ERROR: failed", "Traceback (most recent call last):", "  File \"m.py\", line 1", "E: e"] {
            grouper.push(Stream::Stderr, 0, line, &mut |_: Group<'_>| {});
        }
    };
    assert!(allocations_in(first_traceback) > 0);
}
