//! The lexer on arbitrary text.
//!
//! Laws: lexing never panics, and the tokens, lexical errors and skipped
//! whitespace tile the source: spans are in order, do not overlap, lie on
//! character boundaries, error spans are not empty, and only whitespace
//! lies between two spans.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uml_syntax::lexer::{self, Token};

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let mut end = 0;
    for (span, token) in lexer::lex(&src) {
        let range = span.range();
        assert!(end <= range.start && range.start <= range.end && range.end <= src.len(), "span {span:?} out of order");
        assert!(src.is_char_boundary(range.start) && src.is_char_boundary(range.end), "span {span:?} splits a char");
        let gap = &src[end..range.start];
        assert!(gap.bytes().all(|b| b" \t\r\n\x0c".contains(&b)), "{gap:?} skipped before {span:?}");
        let text = &src[range.clone()];
        match token {
            Err(()) => assert!(!text.is_empty(), "empty error span at {span:?}"),
            Ok(token) => {
                assert!(!text.is_empty(), "empty token {token:?} at {span:?}");
                if let Some(fixed) = token.text() {
                    assert_eq!(text, fixed);
                }
                match token {
                    Token::Meta(name) => assert_eq!(&text[1..], name),
                    Token::Comment(s)
                    | Token::Ident(s)
                    | Token::Int(s)
                    | Token::Float(s)
                    | Token::Quantity(s)
                    | Token::Str(s)
                    | Token::UnterminatedStr(s)
                    | Token::RawStr(s)
                    | Token::Regex(s)
                    | Token::UnterminatedRaw(s) => assert_eq!(text, s),
                    _ => {}
                }
            }
        }
        end = range.end;
    }
    let rest = &src[end..];
    assert!(rest.bytes().all(|b| b" \t\r\n\x0c".contains(&b)), "{rest:?} left at the end");
});
