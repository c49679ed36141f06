//! Decoding `"…"` strings: backslash escapes and `{…}` template holes.
//!
//! Holes hold a path only — a variable, `%meta`, or `payload.x`/`labels.x`,
//! followed by `.key` and `[index]` segments — never a full expression. That
//! keeps templates readable and lets them be decoded here, without the
//! parser re-entering itself; a computed value is bound with `let` first.

use crate::ast::{Expr, ExprKind, Ident, Key, Output, OutputRoot, Segment, TemplatePart};
use crate::diagnostic::{Code, Diagnostic};
use crate::parser::Ctx;
use crate::span::Span;
use std::borrow::Cow;

/// Decodes a cooked string body starting at byte `offset` of the file into
/// text and hole parts. Errors are reported on `ctx`; decoding goes on.
pub(crate) fn decode<'src>(ctx: &mut Ctx<'src>, body: &'src str, offset: usize) -> Vec<TemplatePart<'src>> {
    let mut parts = Vec::new();
    let mut text = Text::new(body);
    let mut i = 0;
    while i < body.len() {
        let b = body.as_bytes()[i];
        match b {
            b'\\' => i = escape(ctx, body, offset, i, &mut text),
            b'{' => {
                let Some(close) = body[i + 1..].find('}').map(|c| i + 1 + c) else {
                    let span = Span::new(offset + i, offset + i + 1);
                    ctx.literal(
                        Diagnostic::new(Code::InvalidTemplateHole, "unclosed template hole")
                            .primary(ctx.file(), span, "this `{` has no closing `}`")
                            .help("close the hole with `}`, or write `\\{` for a literal brace"),
                    );
                    break;
                };
                if let Some(t) = text.take(i) {
                    parts.push(TemplatePart::Text(t));
                }
                if let Some(hole) = hole(ctx, &body[i + 1..close], offset + i + 1) {
                    parts.push(TemplatePart::Hole(hole));
                }
                i = close + 1;
                text.restart(i);
            }
            b'}' => {
                ctx.literal_error(
                    Code::InvalidTemplateHole,
                    Span::new(offset + i, offset + i + 1),
                    "unmatched `}` in a string".into(),
                    "write `\\}` for a literal brace",
                );
                text.push_owned(i, "}");
                text.skip_to(i + 1);
                i += 1;
            }
            _ => i += utf8_len(b),
        }
    }
    if let Some(t) = text.take(body.len()) {
        parts.push(TemplatePart::Text(t));
    }
    parts
}

/// Decodes a cooked string body with escapes only; braces are literal.
pub(crate) fn decode_plain<'src>(ctx: &mut Ctx<'src>, body: &'src str, offset: usize) -> Cow<'src, str> {
    let mut text = Text::new(body);
    let mut i = 0;
    while i < body.len() {
        let b = body.as_bytes()[i];
        if b == b'\\' {
            i = escape(ctx, body, offset, i, &mut text);
        } else {
            i += utf8_len(b);
        }
    }
    text.take(body.len()).unwrap_or(Cow::Borrowed(""))
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// A run of text being decoded: borrowed while no escape was seen.
struct Text<'src> {
    body: &'src str,
    start: usize,
    /// Set once an escape forced a copy.
    owned: Option<String>,
    /// Where the not-yet-copied borrowed run begins.
    run: usize,
}

impl<'src> Text<'src> {
    fn new(body: &'src str) -> Self {
        Text { body, start: 0, owned: None, run: 0 }
    }

    fn restart(&mut self, at: usize) {
        self.start = at;
        self.run = at;
        self.owned = None;
    }

    /// Appends decoded text that replaces `body[self.run..at]`'s tail escape.
    fn push_owned(&mut self, at: usize, decoded: &str) {
        let owned = self.owned.get_or_insert_with(String::new);
        owned.push_str(&self.body[self.run..at]);
        owned.push_str(decoded);
    }

    fn skip_to(&mut self, at: usize) {
        self.run = at;
    }

    /// The text from the last restart to `end`, or `None` if empty.
    fn take(&mut self, end: usize) -> Option<Cow<'src, str>> {
        let result = match self.owned.take() {
            Some(mut s) => {
                s.push_str(&self.body[self.run..end]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.body[self.start..end]),
        };
        (!result.is_empty()).then_some(result)
    }
}

/// Decodes the escape at `body[i]` (a backslash) and returns the index after it.
fn escape(ctx: &mut Ctx<'_>, body: &str, offset: usize, i: usize, text: &mut Text<'_>) -> usize {
    let Some(c) = body[i + 1..].chars().next() else {
        // A trailing backslash only occurs in an unterminated string, which
        // was reported already.
        text.push_owned(i, "");
        text.skip_to(body.len());
        return body.len();
    };
    let simple = match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        '0' => Some('\0'),
        '\\' => Some('\\'),
        '"' => Some('"'),
        '\'' => Some('\''),
        '{' => Some('{'),
        '}' => Some('}'),
        _ => None,
    };
    if let Some(ch) = simple {
        text.push_owned(i, ch.encode_utf8(&mut [0; 4]));
        text.skip_to(i + 2);
        return i + 2;
    }
    if c == 'u' {
        return unicode_escape(ctx, body, offset, i, text);
    }
    let end = i + 1 + c.len_utf8();
    ctx.literal(
        Diagnostic::new(Code::UnknownEscape, format!("unknown escape sequence `\\{c}`"))
            .primary(ctx.file(), Span::new(offset + i, offset + end), "not an escape")
            .help("write `\\\\` for a backslash, or use a raw string '…', which has no escapes"),
    );
    text.push_owned(i, "");
    text.skip_to(end);
    end
}

/// `\u{1F600}`: one to six hex digits naming a scalar value.
fn unicode_escape(ctx: &mut Ctx<'_>, body: &str, offset: usize, i: usize, text: &mut Text<'_>) -> usize {
    let rest = &body[i + 2..];
    let (end_of_escape, message, help) = match rest.strip_prefix('{').and_then(|r| r.find('}')) {
        Some(close) => {
            let digits = &rest[1..1 + close];
            let end = i + 2 + close + 2;
            let hex = !digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_hexdigit());
            let value = hex.then(|| u32::from_str_radix(digits, 16).ok()).flatten();
            match value.map(|v| (v, char::from_u32(v))) {
                Some((_, Some(ch))) => {
                    text.push_owned(i, ch.encode_utf8(&mut [0; 4]));
                    text.skip_to(end);
                    return end;
                }
                Some((v, None)) if (0xD800..=0xDFFF).contains(&v) => (
                    end,
                    format!("`\\u{{{digits}}}` is a surrogate code point, not a character"),
                    "UTF-16 surrogates cannot appear in text; write the character's own code point".to_string(),
                ),
                Some(_) => (
                    end,
                    format!("`\\u{{{digits}}}` is beyond U+10FFFF"),
                    "the largest code point is `\\u{10FFFF}`".to_string(),
                ),
                None => (
                    end,
                    "invalid unicode escape".to_string(),
                    "`\\u{…}` takes 1 to 6 hex digits, e.g. `\\u{2603}`".to_string(),
                ),
            }
        }
        None => {
            let digits: String = rest.chars().take_while(char::is_ascii_hexdigit).take(6).collect();
            let example = if digits.is_empty() { "2603".to_string() } else { digits };
            (i + 2, "invalid unicode escape".to_string(), format!("write the code point in braces: `\\u{{{example}}}`"))
        }
    };
    ctx.literal(
        Diagnostic::new(Code::InvalidUnicodeEscape, message)
            .primary(ctx.file(), Span::new(offset + i, offset + end_of_escape), "invalid escape")
            .help(help),
    );
    text.push_owned(i, "\u{FFFD}");
    text.skip_to(end_of_escape);
    end_of_escape
}

/// Parses a hole's content (between the braces) at file offset `offset`,
/// reporting a hole that is not a path.
fn hole<'src>(ctx: &mut Ctx<'src>, content: &'src str, offset: usize) -> Option<Expr<'src>> {
    let parsed = hole_path(content, offset);
    if parsed.is_none() {
        let span = Span::new(offset - 1, offset + content.len() + 1);
        let trimmed = content.trim();
        let looks_like_call = trimmed.ends_with(')')
            && trimmed.find('(').is_some_and(|p| {
                let name = trimmed[..p].trim_end().trim_end_matches('!');
                !name.is_empty() && name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
            });
        let d = if trimmed.is_empty() {
            Diagnostic::new(Code::InvalidTemplateHole, "empty template hole")
                .primary(ctx.file(), span, "nothing between the braces")
                .help("put a variable or path between the braces, or write `\\{\\}` for literal braces")
        } else if looks_like_call {
            Diagnostic::new(Code::InvalidTemplateHole, "a template hole cannot call a function")
                .primary(ctx.file(), span, "a function call")
                .note("a hole holds a path: a variable, `%meta` or `payload.key`, then any `.key` or `[n]`")
                .help(format!("bind the value first with `let value = {trimmed}`, then write `{{value}}`"))
        } else {
            let message = if content.chars().count() <= 24 {
                format!("template hole `{{{content}}}` is not a path")
            } else {
                "template hole is not a path".to_string()
            };
            let d = Diagnostic::new(Code::InvalidTemplateHole, message)
                .primary(ctx.file(), span, "not a path")
                .note("a hole holds a path: a variable, `%meta` or `payload.key`, then any `.key` or `[n]`");
            if content.contains(['"', ':']) {
                d.help("for literal braces write `\\{` and `\\}`, or use a raw string '…', which has no holes (handy for JSON)")
            } else {
                d.help("compute other values with `let` first; write `\\{` for a literal brace")
            }
        };
        ctx.literal(d);
    }
    parsed
}

fn hole_path(content: &str, offset: usize) -> Option<Expr<'_>> {
    let mut p = HolePath { s: content, pos: 0, offset };
    p.skip_ws();
    let start = p.pos;
    let root = match p.peek() {
        Some(b'%') => {
            p.pos += 1;
            let name = p.ident()?;
            ExprKind::Meta(name)
        }
        Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
            let name = p.ident()?;
            match name.name {
                "payload" | "labels" if p.peek() == Some(b'.') => {
                    p.pos += 1;
                    let key = p.ident()?;
                    let root = if name.name == "payload" { OutputRoot::Payload } else { OutputRoot::Labels };
                    ExprKind::Output(Output {
                        root,
                        key: Key { name: Cow::Borrowed(key.name), quoted: false, span: key.span },
                        span: p.span(start, p.pos),
                    })
                }
                _ => ExprKind::Var(name),
            }
        }
        _ => None?,
    };
    let mut expr = Expr { kind: root, span: p.span(start, p.pos) };
    let mut segments = Vec::new();
    loop {
        match p.peek() {
            Some(b'.') => {
                p.pos += 1;
                let key = p.ident()?;
                segments.push(Segment::Field(Key { name: Cow::Borrowed(key.name), quoted: false, span: key.span }));
            }
            Some(b'[') => {
                p.pos += 1;
                let digits_start = p.pos;
                if p.peek() == Some(b'-') {
                    p.pos += 1;
                }
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.pos += 1;
                }
                let index: i64 = content[digits_start..p.pos].parse().ok()?;
                let span = p.span(digits_start, p.pos);
                (p.peek() == Some(b']')).then_some(())?;
                p.pos += 1;
                segments.push(Segment::Index(index, span));
            }
            _ => break,
        }
    }
    let end = p.pos;
    p.skip_ws();
    if p.pos != content.len() {
        None?;
    }
    if !segments.is_empty() {
        expr = Expr { kind: ExprKind::Path { base: Box::new(expr), segments }, span: p.span(start, end) };
    }
    Some(expr)
}

/// A cursor over a hole's text.
struct HolePath<'src> {
    s: &'src str,
    pos: usize,
    offset: usize,
}

impl<'src> HolePath<'src> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ' || c == b'\t') {
            self.pos += 1;
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.offset + start, self.offset + end)
    }

    fn ident(&mut self) -> Option<Ident<'src>> {
        let start = self.pos;
        if !self.peek().is_some_and(|c| c == b'_' || c.is_ascii_alphabetic()) {
            return None;
        }
        while self.peek().is_some_and(|c| c == b'_' || c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        Some(Ident { name: &self.s[start..self.pos], span: self.span(start, self.pos) })
    }
}
