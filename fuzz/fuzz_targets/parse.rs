//! The parser on arbitrary text.
//!
//! Laws: `parse` and `parse_expr` never panic or overflow the stack, every
//! diagnostic has a label and every span they report (diagnostics,
//! comments, items) lies within the source on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uml_syntax::{Code, Diagnostic, FileId, Span, parse, parse_expr};

fn check_span(src: &str, span: Span, what: &str) {
    let range = span.range();
    assert!(range.start <= range.end && range.end <= src.len(), "{what} span {span:?} outside the source");
    assert!(src.is_char_boundary(range.start) && src.is_char_boundary(range.end), "{what} span {span:?} splits a char");
}

fn check_diagnostics(src: &str, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        assert!(!d.labels.is_empty() || d.code == Code::TooManyErrors, "{} has no label: {}", d.code, d.message);
        for label in &d.labels {
            check_span(src, label.span, d.code.as_str());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let parsed = parse(FileId(0), &src);
    check_diagnostics(&src, &parsed.diagnostics);
    for comment in &parsed.file.comments {
        check_span(&src, comment.span, "comment");
        assert!(src[comment.span.range()].starts_with('#'), "comment span {:?} is not at a `#`", comment.span);
    }
    for item in &parsed.file.items {
        check_span(&src, item.span(), "item");
    }
    if let Err(diagnostics) = parse_expr(FileId(0), &src) {
        check_diagnostics(&src, &diagnostics);
    }
});
