//! Regexes the executor can do without: the idioms rules write to cut text
//! ([`idiom`]), and the trailing capture of the rest of the line.
//!
//! Splitting a capture regex that ends in `(?P<g>.*)$`: the common shape
//! of a rule's format patterns (`^(?P<lvl>INFO|…):\s+(?P<msg>.*)$`), where
//! the last group is the rest of the line. The capture engines cost in
//! proportion to the text they capture in, and here most of that text is
//! the rest of the line, which needs no engine at all: the executor runs
//! the head of the regex and takes the rest itself ([`RegexTail`]).
//!
//! [`RegexTail`]: uml_runtime::plan::RegexTail

use regex_syntax::hir::{Capture, Dot, Hir, HirKind, Look, Repetition};
use uml_runtime::plan::RegexIdiom;

/// The idiom `pattern` spells, judged by the regex it parses to: `\s+$`
/// and `\s{1,}$` are the same idiom, `(?m)\s+$` is not.
pub(super) fn idiom(pattern: &str) -> Option<RegexIdiom> {
    let parse = |p: &str| regex_syntax::Parser::new().parse(p).ok();
    let hir = parse(pattern)?;
    [(r"\s+$", RegexIdiom::TrailingWhitespace), (r"^.*\r", RegexIdiom::ThroughLastCarriageReturn)]
        .into_iter()
        .find(|(canonical, _)| parse(canonical).as_ref() == Some(&hir))
        .map(|(_, idiom)| idiom)
}

/// The head of `pattern` as a pattern of its own, and the index of the group
/// split off, when `pattern` is a concatenation ending in a capture of `.*`
/// (`.` without the `s` flag) followed by `$` (without the `m` flag).
///
/// Why the split is exact: without `s`, `.*$` matches wherever no `\n`
/// follows. So where the head's preferred match leaves no `\n` after it,
/// that match followed by the rest of the text is the whole regex's
/// preferred match: a match of the whole regex starting earlier, or
/// preferred at the same start, would have been the head's match too. The
/// executor checks for the `\n`, and lets the whole regex decide if there is
/// one.
pub(super) fn split(pattern: &str) -> Option<(String, u16)> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(items) = hir.kind() else { return None };
    let [head @ .., rest, end] = items.as_slice() else { return None };
    if *end.kind() != HirKind::Look(Look::End) {
        return None;
    }
    let HirKind::Capture(Capture { index, sub, .. }) = rest.kind() else { return None };
    let HirKind::Repetition(Repetition { min: 0, max: None, sub: any, .. }) = sub.kind() else { return None };
    if **any != Hir::dot(Dot::AnyCharExceptLF) {
        return None;
    }
    let group = u16::try_from(*index).ok()?;
    let head = Hir::concat(head.to_vec());
    // The head as the author wrote it, when cutting the text before the
    // group gives exactly that regex: it compiles faster than the printed
    // form, which spells out every Unicode class.
    let written = pattern.rfind("(?P<").or_else(|| pattern.rfind("(?<")).map(|at| &pattern[..at]);
    let parses_to_head = |text: &&str| regex_syntax::Parser::new().parse(text).is_ok_and(|h| h == head);
    match written.filter(parses_to_head) {
        Some(text) => Some((text.to_string(), group)),
        None => Some((head.to_string(), group)),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_a_trailing_capture_of_the_rest() {
        let (head, group) = split(r"^(?P<lvl>INFO|ERROR):\s+(?P<msg>.*)$").unwrap();
        assert_eq!(group, 2);
        assert_eq!(head, r"^(?P<lvl>INFO|ERROR):\s+", "the head as written");
        let re = regex::Regex::new(&head).unwrap();
        assert_eq!(re.captures_len(), 2);
        assert_eq!(re.capture_names().nth(1), Some(Some("lvl")));
        let caps = re.captures("ERROR:   boom").unwrap();
        assert_eq!(&caps["lvl"], "ERROR");
        assert_eq!(caps.get(0).unwrap().end(), 9);
        // Lazy and greedy are the same before `$`.
        assert_eq!(split(r"a(?P<m>.*?)$").map(|(_, g)| g), Some(1));
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
        ] {
            assert_eq!(split(pattern), None, "{pattern}");
        }
    }
}
