//! Regex literals: validated with regex-syntax when the rules compile, with
//! errors pointing into the literal, and analysed for which named groups
//! always take part in a match (those bind `string`, the others
//! `string | null`).

use crate::hir::Regex;
use regex_syntax::hir::{Hir, HirKind};
use uml_syntax::{Code, Diagnostic, FileId, Span};

/// Checks the pattern of the `r'…'` literal at `span` (which starts with `r'`).
pub fn check(file: FileId, pattern: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Regex {
    let pattern_start = span.start as usize + 2;
    let at = |s: &regex_syntax::ast::Span| {
        Span::new(pattern_start + s.start.offset, pattern_start + s.end.offset.max(s.start.offset))
    };
    let ast = match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Ok(ast) => ast,
        Err(e) => {
            diags.push(
                Diagnostic::new(Code::InvalidRegex, format!("invalid regex: {}", e.kind()))
                    .primary(file, at(e.span()), "here")
                    .note("regex literals use the syntax of Rust's `regex` crate"),
            );
            return Regex { pattern: pattern.into(), names: Vec::new() };
        }
    };
    let hir = match regex_syntax::hir::translate::Translator::new().translate(pattern, &ast) {
        Ok(hir) => hir,
        Err(e) => {
            diags.push(Diagnostic::new(Code::InvalidRegex, format!("invalid regex: {}", e.kind())).primary(
                file,
                at(e.span()),
                "here",
            ));
            return Regex { pattern: pattern.into(), names: Vec::new() };
        }
    };
    let mut names = Vec::new();
    captures(&hir, false, &mut names);
    names.sort_by_key(|(i, _, _)| *i);
    Regex { pattern: pattern.into(), names }
}

/// Where each named group's name is written, as `(name, span)` in the
/// source of the `r'…'` literal at `span`. The pattern was checked already.
pub fn name_spans(pattern: &str, span: Span) -> Vec<(String, Span)> {
    struct Names(Vec<(String, regex_syntax::ast::Span)>);
    impl regex_syntax::ast::Visitor for Names {
        type Output = Vec<(String, regex_syntax::ast::Span)>;
        type Err = ();
        fn finish(self) -> Result<Self::Output, ()> {
            Ok(self.0)
        }
        fn visit_pre(&mut self, ast: &regex_syntax::ast::Ast) -> Result<(), ()> {
            if let regex_syntax::ast::Ast::Group(g) = ast
                && let regex_syntax::ast::GroupKind::CaptureName { name, .. } = &g.kind
            {
                self.0.push((name.name.clone(), name.span));
            }
            Ok(())
        }
    }
    let pattern_start = span.start as usize + 2;
    let Ok(ast) = regex_syntax::ast::parse::Parser::new().parse(pattern) else { return Vec::new() };
    let names = regex_syntax::ast::visit(&ast, Names(Vec::new())).unwrap_or_default();
    names
        .into_iter()
        .map(|(n, s)| (n, Span::new(pattern_start + s.start.offset, pattern_start + s.end.offset)))
        .collect()
}

/// The named groups of a pattern the regex engine rejected, as `(name,
/// span)`, found by reading the text: `(?P<name>` and `(?<name>` outside
/// escapes. Their names are declared anyway, so that a mistake in the
/// pattern does not also make every read of a capture an unknown variable.
pub fn names_of_invalid(pattern: &str, span: Span) -> Vec<(String, Span)> {
    let pattern_start = span.start as usize + 2;
    let bytes = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'(' => {
                let rest = &pattern[i + 1..];
                let open = ["?P<", "?<"].into_iter().find(|p| rest.starts_with(p)).map_or(0, str::len);
                let name_start = i + 1 + open;
                let len = pattern[name_start..].bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                if open > 0 && len > 0 && bytes.get(name_start + len) == Some(&b'>') {
                    let name = &pattern[name_start..name_start + len];
                    let at = Span::new(pattern_start + name_start, pattern_start + name_start + len);
                    out.push((name.to_string(), at));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Collects named groups; `optional` is set under an alternation or a
/// repetition that may match zero times. regex-syntax limits nesting, so the
/// recursion is bounded.
fn captures(hir: &Hir, optional: bool, out: &mut Vec<(usize, String, bool)>) {
    match hir.kind() {
        HirKind::Capture(c) => {
            if let Some(name) = &c.name {
                out.push((c.index as usize, name.to_string(), !optional));
            }
            captures(&c.sub, optional, out);
        }
        HirKind::Concat(all) => all.iter().for_each(|h| captures(h, optional, out)),
        HirKind::Alternation(all) => all.iter().for_each(|h| captures(h, true, out)),
        HirKind::Repetition(r) => captures(&r.sub, optional || r.min == 0, out),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<(usize, String, bool)> {
        let mut d = Vec::new();
        let r = check(FileId(0), p, Span::new(0, p.len() + 3), &mut d);
        assert!(d.is_empty(), "{d:?}");
        r.names
    }

    #[test]
    fn participation() {
        assert_eq!(
            names(r"^model-(?P<mvid>[a-z0-9]+)-[a-z0-9]{8,10}-(?<replica>[a-z]{5})$"),
            vec![(1, "mvid".into(), true), (2, "replica".into(), true)]
        );
        assert_eq!(names(r"(?P<a>x)|(?P<b>y)"), vec![(1, "a".into(), false), (2, "b".into(), false)]);
        assert_eq!(names(r"(?P<a>x)?(?P<b>y)+"), vec![(1, "a".into(), false), (2, "b".into(), true)]);
    }

    #[test]
    fn name_spans_point_at_the_names() {
        let src = r"x =~ r'^(?P<lvl>[A-Z]+) (?<msg>.*)$'";
        let start = src.find("r'").unwrap();
        let pattern = &src[start + 2..src.len() - 1];
        let spans = name_spans(pattern, Span::new(start, src.len()));
        let shown: Vec<(&str, &str)> =
            spans.iter().map(|(n, s)| (n.as_str(), &src[s.start as usize..s.end as usize])).collect();
        assert_eq!(shown, [("lvl", "lvl"), ("msg", "msg")]);
    }

    #[test]
    fn names_of_an_invalid_pattern_are_read_from_its_text() {
        let src = r"x =~ r'^(?P<mvid>[a-z0-9+)-\(?P<no>x)-(?<replica>.)'";
        let start = src.find("r'").unwrap();
        let pattern = &src[start + 2..src.len() - 1];
        let names = names_of_invalid(pattern, Span::new(start, src.len()));
        let shown: Vec<(&str, &str)> =
            names.iter().map(|(n, s)| (n.as_str(), &src[s.start as usize..s.end as usize])).collect();
        assert_eq!(shown, [("mvid", "mvid"), ("replica", "replica")]);
    }

    #[test]
    fn errors_point_into_the_literal() {
        let mut d = Vec::new();
        check(FileId(0), "ab(c", Span::new(10, 17), &mut d);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::InvalidRegex);
        let s = d[0].primary_span().unwrap();
        assert!(s.start >= 12 && s.end <= 16, "{s:?}");
    }
}
