//! The executor allocates nothing per line once warm: thousands of lines of
//! every source, grouped as the rules declare and applied with the embedded
//! rules, under a counting global allocator.
//!
//! Two things legitimately allocate on a line never seen before, and both
//! stop once warm:
//!
//! - the reusable buffers (scratch, record, grouper) grow to the size of the
//!   longest line seen (the corpus has 50–130 KB lines);
//! - the regex crate's lazy DFA adds states the first time input drives a
//!   pattern through them (its cache is bounded: 2 MB per regex by default).
//!
//! So the test warms up on the first lines, then runs fresh lines (which may
//! allocate, but rarely: at most one line in a hundred), then replays those
//! lines, which must allocate nothing at all. Records are written in both
//! forms: as JSON, and escaped for an encoder, as `uml run` writes them.

#[path = "../crates/uml-runtime/tests/support/counting_alloc.rs"]
pub mod counting_alloc;

use counting_alloc::allocations_in;
use std::cell::Cell;
use uml::runtime::group::{Group, Grouper};
use uml::{FileInfo, Line, Outcome, PayloadForm, Record, Rules, Stream};
use uml_corpus::{Framing, Source, generate, messages};

const WARM_UP: usize = 4_000;
const MEASURED: usize = 4_000;

#[test]
fn steady_state_lines_allocate_nothing_for_every_source() {
    let rules = Rules::embedded();
    let forms = [PayloadForm::Json, PayloadForm::Escaped];
    for (source, form) in Source::ALL.into_iter().flat_map(|s| forms.map(|f| (s, f))) {
        let file = generate(source, Framing::Cri, 1, 11);
        let info = FileInfo {
            pod: &file.pod,
            namespace: &file.namespace,
            container: &file.container,
            container_id: &file.container_id,
            file: &file.name,
        };
        let lines = messages(source, WARM_UP + MEASURED, 5);
        let mut executor = rules.executor();
        let mut record = Record::with_form(form);
        let route = executor.route(&info, Stream::Stderr);
        let rule = route.rule().unwrap_or_else(|| panic!("{}: the corpus routes", source.name()));
        let config = rules.plan().rules[usize::from(rule)].multiline.clone();
        let mut grouper = config.as_ref().map(Grouper::new);
        let (records, drops) = (Cell::new(0usize), Cell::new(0usize));
        let mut feed = |executor: &mut uml::Executor<'_>, text: &str, ts: i64| {
            let mut apply = |line: Line<'_>| match executor.apply(&route, line, &mut record) {
                Outcome::Record => records.set(records.get() + 1),
                _ => drops.set(drops.get() + 1),
            };
            match grouper.as_mut() {
                Some(g) => g.push(Stream::Stderr, ts, text, &mut |group: Group<'_>| {
                    apply(Line { text: group.line, traceback: group.traceback, timestamp: group.timestamp_ns })
                }),
                None => apply(Line { text, traceback: None, timestamp: ts }),
            }
        };
        for (i, text) in lines[..WARM_UP].iter().enumerate() {
            feed(&mut executor, text, i as i64);
        }
        let mut pass = |executor: &mut uml::Executor<'_>| {
            let (mut allocations, mut allocating_lines) = (0, 0);
            for (i, text) in lines[WARM_UP..].iter().enumerate() {
                let n = allocations_in(|| feed(executor, text, (WARM_UP + i) as i64));
                if n > 0 && std::env::var_os("UML_SHOW_ALLOCATING_LINES").is_some() {
                    eprintln!("{}: {n} allocations at line {}: {text:.200?}", source.name(), WARM_UP + i);
                }
                allocations += n;
                allocating_lines += usize::from(n > 0);
            }
            (allocations, allocating_lines)
        };
        let (_, fresh) = pass(&mut executor);
        assert!(fresh <= MEASURED / 100, "{} {form:?}: {fresh} of {MEASURED} fresh lines allocated", source.name());
        let (replayed, _) = pass(&mut executor);
        assert_eq!(replayed, 0, "{} {form:?}: {replayed} allocations replaying {MEASURED} lines", source.name());
        let (records, drops) = (records.get(), drops.get());
        assert!(records > MEASURED / 2, "{}: {records} records, {drops} drops", source.name());
    }
}
