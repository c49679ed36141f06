//! The formatter's laws, on every input that parses without errors.
//!
//! - The formatted text parses without errors, to the same tree up to
//!   layout (`spanless::eq`: spans, comment placement, needless key quotes).
//! - No comment is lost or changed: the comment texts come out in order.
//! - Formatting is idempotent: formatting the formatted text changes nothing.
//!
//! Inputs with errors are kept out of the corpus, which would otherwise
//! fill with the parser's error paths (they are the `parse` target's job)
//! and leave few valid files to mutate.
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use uml_syntax::ast::File;
use uml_syntax::{FileId, format::format, parse, spanless};

fn comment_texts<'a>(file: &File<'_>, src: &'a str) -> Vec<&'a str> {
    file.comments.iter().map(|c| src[c.span.range()].trim_end()).collect()
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let src = String::from_utf8_lossy(data);
    let parsed = parse(FileId(0), &src);
    if parsed.has_errors() {
        return Corpus::Reject;
    }
    let formatted = format(&parsed.file, &src);
    let reparsed = parse(FileId(0), &formatted);
    assert!(
        !reparsed.has_errors(),
        "the formatted text does not parse: {:#?}\n--- source\n{src}\n--- formatted\n{formatted}",
        reparsed.diagnostics,
    );
    assert!(
        spanless::eq(&parsed.file, &reparsed.file),
        "formatting changed the tree\n--- source\n{src}\n--- formatted\n{formatted}",
    );
    assert_eq!(
        comment_texts(&parsed.file, &src),
        comment_texts(&reparsed.file, &formatted),
        "formatting changed the comments\n--- formatted\n{formatted}",
    );
    let again = format(&reparsed.file, &formatted);
    assert_eq!(formatted, again, "formatting is not idempotent\n--- source\n{src}");
    Corpus::Keep
});
