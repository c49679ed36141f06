//! Regexes the executor can do without: the idioms rules write to cut text
//! ([`idiom`]), and the captures at either end of a format pattern
//! ([`split`]).
//!
//! A rule's format patterns are mostly `^(?P<lvl>INFO|…):\s+(?P<msg>.*)$`:
//! the last group is the rest of the line. Some also start with a lazy
//! `^(?P<head>.*?)`: everything before the first place the rest matches
//! (vLLM's `(APIServer pid=1) INFO 11-20 …`). The capture engines cost in
//! proportion to the text they capture in, and the lazy head makes the
//! bounded backtracker try every start; neither end needs an engine at all.
//! The executor runs the middle of the regex ([`RegexSplit`]'s head) and
//! takes the ends itself.
//!
//! [`RegexSplit`]: uml_runtime::plan::RegexSplit

use regex_syntax::hir::{Capture, Class, Dot, Hir, HirKind, Literal, Look, Repetition};
use uml_runtime::plan::{FirstBytes, RegexIdiom};

/// The idiom `pattern` spells, judged by the regex it parses to: `\s+$`
/// and `\s{1,}$` are the same idiom, `(?m)\s+$` is not.
pub(super) fn idiom(pattern: &str) -> Option<RegexIdiom> {
    static IDIOMS: std::sync::LazyLock<Vec<(Hir, RegexIdiom)>> = std::sync::LazyLock::new(|| {
        [(r"\s+$", RegexIdiom::TrailingWhitespace), (r"^.*\r", RegexIdiom::ThroughLastCarriageReturn)]
            .into_iter()
            .filter_map(|(canonical, idiom)| Some((regex_syntax::Parser::new().parse(canonical).ok()?, idiom)))
            .collect()
    });
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    IDIOMS.iter().find(|(canonical, _)| *canonical == hir).map(|(_, idiom)| *idiom)
}

/// The bytes a text `pattern` matches must start with, when `pattern` is
/// anchored at the start of the text (`^`, without the `m` flag) and what
/// follows the anchor matches no empty text: a set that may be larger than
/// the bytes that really start a match, never smaller. `None` when that is
/// not known.
pub(super) fn first_bytes(pattern: &str) -> Option<FirstBytes> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(items) = hir.kind() else { return None };
    let [anchor, first, ..] = items.as_slice() else { return None };
    if !matches!(anchor.kind(), HirKind::Look(Look::Start)) {
        return None;
    }
    let mut set = FirstBytes::default();
    starts(first, &mut set).then_some(set)
}

/// Adds to `set` the first bytes of every match of `hir`; `false` when
/// `hir` may match an empty text, or its first bytes are not known.
fn starts(hir: &Hir, set: &mut FirstBytes) -> bool {
    match hir.kind() {
        HirKind::Literal(Literal(bytes)) => match bytes.first() {
            Some(&b) => {
                set.insert(b);
                true
            }
            None => false,
        },
        HirKind::Class(Class::Bytes(class)) => {
            class.ranges().iter().for_each(|r| (r.start()..=r.end()).for_each(|b| set.insert(b)));
            true
        }
        HirKind::Class(Class::Unicode(class)) => {
            for r in class.ranges() {
                let (start, end) = (u32::from(r.start()), u32::from(r.end()));
                (start..=end.min(0x7f)).for_each(|b| set.insert(b as u8));
                if end > 0x7f {
                    // Any lead byte of a longer UTF-8 sequence: more than
                    // the range's, never fewer.
                    (0xc2..=0xf4).for_each(|b| set.insert(b));
                }
            }
            true
        }
        HirKind::Capture(Capture { sub, .. }) => starts(sub, set),
        HirKind::Repetition(Repetition { min, sub, .. }) if *min >= 1 => starts(sub, set),
        HirKind::Alternation(alternatives) => alternatives.iter().all(|a| starts(a, set)),
        HirKind::Concat(items) => items.first().is_some_and(|first| starts(first, set)),
        _ => false,
    }
}

/// A capture regex split at its ends: `head` is the pattern without them,
/// with the same group numbers.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Split {
    pub head: String,
    /// The group of a leading `^(?P<g>.*?)`, left empty in `head`, which is
    /// unanchored.
    pub lead: Option<u16>,
    /// The group of a trailing `(?P<g>.*)$`, the last, dropped from `head`.
    pub rest: Option<u16>,
}

/// Whether `hir` is `.*` or `.*?` (as `lazy` says) with `.` not matching
/// `\n`.
fn is_any_line(hir: &Hir, lazy: bool) -> bool {
    match hir.kind() {
        HirKind::Repetition(Repetition { min: 0, max: None, greedy, sub }) => {
            *greedy != lazy && **sub == Hir::dot(Dot::AnyCharExceptLF)
        }
        _ => false,
    }
}

/// `pattern` split at its ends, when it is a concatenation that starts with
/// `^` and a capture of `.*?`, or ends with a capture of `.*` and `$`, or
/// both (`.` without the `s` flag, `^` and `$` without the `m` flag).
///
/// Why the split is exact. Without `s`, `.*$` matches wherever no `\n`
/// follows: where the head's preferred match leaves no `\n` after it, that
/// match followed by the rest of the text is the whole regex's preferred
/// match (a match of the whole regex starting earlier, or preferred at the
/// same start, would have been the head's match too). And `^.*?R` tries
/// each start in turn from the left and takes the first where `R` matches,
/// with `R`'s preferred match there: exactly what an unanchored search for
/// `R` finds, as long as `.*?` can cross the text before that start, which
/// it can where that text has no `\n`. The executor checks both for a
/// `\n`, and lets the whole regex decide if there is one.
pub(super) fn split(pattern: &str) -> Option<Split> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(items) = hir.kind() else { return None };
    let mut items: &[Hir] = items;
    let mut rest = None;
    if let [before @ .., last, end] = items
        && let (HirKind::Capture(Capture { index, sub, .. }), HirKind::Look(Look::End)) = (last.kind(), end.kind())
        && (is_any_line(sub, false) || is_any_line(sub, true))
    {
        rest = Some(u16::try_from(*index).ok()?);
        items = before;
    }
    let mut lead = None;
    let mut head: Vec<Hir> = items.to_vec();
    if let [start, first, ..] = items
        && let (HirKind::Look(Look::Start), HirKind::Capture(capture)) = (start.kind(), first.kind())
        && is_any_line(&capture.sub, true)
    {
        lead = Some((u16::try_from(capture.index).ok()?, capture.name.clone()));
        let empty = Hir::capture(Capture { sub: Box::new(Hir::empty()), ..capture.clone() });
        head.splice(0..2, [empty]);
    }
    if lead.is_none() && rest.is_none() {
        return None;
    }
    let head = Hir::concat(head);
    // The head as the author wrote it, when cutting the text gives exactly
    // that regex: it compiles faster than the printed form, which spells
    // out every Unicode class.
    let mut written = pattern;
    if rest.is_some() {
        written = pattern.rfind("(?P<").or_else(|| pattern.rfind("(?<")).map_or("", |at| &pattern[..at]);
    }
    let written = match &lead {
        Some((_, Some(name))) => [format!("^(?P<{name}>.*?)"), format!("^(?<{name}>.*?)")]
            .into_iter()
            .find_map(|prefix| written.strip_prefix(prefix.as_str()).map(|tail| format!("(?P<{name}>){tail}"))),
        Some((_, None)) => None,
        None => Some(written.to_string()),
    };
    let parses_to_head = |text: &String| regex_syntax::Parser::new().parse(text).is_ok_and(|h| h == head);
    let head = written.filter(parses_to_head).unwrap_or_else(|| head.to_string());
    Some(Split { head, lead: lead.map(|(index, _)| index), rest })
}

#[cfg(test)]
mod tests {
    use super::{Split, first_bytes, split};
    use proptest::prelude::*;

    /// Patterns of the rules' kinds, anchored or not.
    const PATTERNS: &[&str] = &[
        r"^(?P<lvl>TRAC|DEBU|INFO|WARN|ERRO|FATA|PANI)\[[^\]]*\]\s*(?P<msg>.*)$",
        r#"^time="[^"]*" level=[a-z]+(?: |$)"#,
        r"^(?P<lvl>(?i:error|warning)|E|W): ",
        r"^[0-9]{4}/[0-9]{2}/[0-9]{2} (?P<msg>.*)$",
        r"^\[[0-9]{2}/[0-9]{2}/[0-9]{4}\] (?P<tags>(?:\[[^\]]+\] )*?)\[(?P<lvl>[A-Z])\] (?P<msg>.*)$",
        r"^\S+:[0-9]+: [A-Za-z]*Warning: ",
        r"^(?P<head>.*?)(?P<lvl>DEBUG|INFO) (?P<msg>.*)$",
        r"^é+x",
        r"^(?:ab)?c",
        r"(?m)^ERROR",
        r"ERROR",
        r"^$",
        r"^\p{Greek}",
    ];

    #[test]
    fn first_bytes_of_anchored_patterns() {
        let admits = |p: &str, text: &str| first_bytes(p).map(|f| f.admits(text.as_bytes()));
        assert_eq!(admits(PATTERNS[0], "INFO[0001] x"), Some(true));
        assert_eq!(admits(PATTERNS[0], "  Downloading torch"), Some(false));
        assert_eq!(admits(PATTERNS[2], "warning: x"), Some(true));
        assert_eq!(admits(PATTERNS[2], "Error: x"), Some(true));
        assert_eq!(admits(PATTERNS[3], ""), Some(false));
        // Not anchored, may match empty at the start, or `^` of every line:
        // not known.
        for p in [r"^(?P<head>.*?)(?P<lvl>DEBUG|INFO) (?P<msg>.*)$", r"^(?:ab)?c", r"(?m)^ERROR", r"ERROR", r"^$"] {
            assert_eq!(first_bytes(p), None, "{p}");
        }
    }

    proptest! {
        /// A text a pattern's first bytes rule out is one it does not match.
        #[test]
        fn first_bytes_rule_out_only_what_does_not_match(
            p in prop::sample::select(PATTERNS),
            text in r#"(INFO|ERRO|time="|error|warning|Error|E|W|2026|\[|é|α|x|:| |\]|1|/|-){0,8}"#,
        ) {
            if let Some(first) = first_bytes(p) && !first.admits(text.as_bytes()) {
                prop_assert!(!regex::Regex::new(p).unwrap().is_match(&text), "{} matches {:?}", p, text);
            }
        }
    }

    #[test]
    fn splits_a_trailing_capture_of_the_rest() {
        let Split { head, lead, rest } = split(r"^(?P<lvl>INFO|ERROR):\s+(?P<msg>.*)$").unwrap();
        assert_eq!((lead, rest), (None, Some(2)));
        assert_eq!(head, r"^(?P<lvl>INFO|ERROR):\s+", "the head as written");
        let re = regex::Regex::new(&head).unwrap();
        assert_eq!(re.captures_len(), 2);
        assert_eq!(re.capture_names().nth(1), Some(Some("lvl")));
        let caps = re.captures("ERROR:   boom").unwrap();
        assert_eq!(&caps["lvl"], "ERROR");
        assert_eq!(caps.get(0).unwrap().end(), 9);
        // Lazy and greedy are the same before `$`.
        assert_eq!(split(r"a(?P<m>.*?)$").map(|s| s.rest), Some(Some(1)));
    }

    #[test]
    fn splits_a_leading_lazy_capture() {
        let vllm = r"^(?P<head>.*?)(?P<lvl>INFO|ERROR) [0-9]{2}-[0-9]{2} (?P<msg>.*)$";
        let Split { head, lead, rest } = split(vllm).unwrap();
        assert_eq!((lead, rest), (Some(1), Some(3)));
        assert_eq!(head, r"(?P<head>)(?P<lvl>INFO|ERROR) [0-9]{2}-[0-9]{2} ", "the head as written, unanchored");
        let re = regex::Regex::new(&head).unwrap();
        assert_eq!(re.captures_len(), 3, "the lead's group is kept, empty");
        let caps = re.captures("(APIServer pid=1) INFO 11-20 ready").unwrap();
        assert_eq!((caps.get(0).unwrap().start(), &caps["lvl"]), (18, "INFO"));
        // A lead alone, unnamed groups, and `(?<name>…)`.
        let Split { head, lead, rest } = split(r"^(.*?)(ab|c)+$").unwrap();
        assert_eq!((lead, rest, regex::Regex::new(&head).unwrap().captures_len()), (Some(1), None, 3));
        assert_eq!(split(r"^(?<h>.*?)x").map(|s| s.head), Some("(?P<h>)x".to_string()));
    }

    #[test]
    fn recognises_idioms_by_their_regex() {
        use uml_runtime::plan::RegexIdiom::*;
        assert_eq!(super::idiom(r"\s+$"), Some(TrailingWhitespace));
        assert_eq!(super::idiom(r"\s{1,}$"), Some(TrailingWhitespace));
        assert_eq!(super::idiom(r"^.*\r"), Some(ThroughLastCarriageReturn));
        assert_eq!(super::idiom(r"^.*\x0D"), Some(ThroughLastCarriageReturn));
        for other in [r"(?m)\s+$", r"\s*$", r"[ \t]+$", r"(?s)^.*\r", r"^.*?\r", r".*\r", r"(?-u)\s+$"] {
            assert_eq!(super::idiom(other), None, "{other}");
        }
    }

    #[test]
    fn leaves_other_shapes_alone() {
        for pattern in [
            r"^(?P<lvl>INFO):(?P<msg>.*)",
            r"^(?P<lvl>INFO):(?s)(?P<msg>.*)$",
            r"(?m)^(?P<lvl>INFO):(?P<msg>.*)$",
            r"^(?P<lvl>INFO):(?P<msg>.+)$",
            r"^(?P<lvl>INFO):(?P<msg>\S*)$",
            r"^(?P<lvl>INFO):(?:.*)$",
            r"(?P<msg>.*)",
            // Leads that are not a lazy `.*?` from the start of the text.
            r"^(?P<h>.*)INFO",
            r"(?P<h>.*?)INFO",
            r"(?m)^(?P<h>.*?)INFO",
            r"(?s)^(?P<h>.*?)INFO",
            r"^(?P<h>.+?)INFO",
            r"^(?:.*?)INFO",
        ] {
            assert_eq!(split(pattern), None, "{pattern}");
        }
    }
}
