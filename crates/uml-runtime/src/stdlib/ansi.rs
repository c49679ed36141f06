//! `strip_ansi_escape_codes`: terminal control sequences out of messages.
//!
//! The platform wants messages without colour codes (docs/contract.md, "The
//! unified record"), and the worst offender is kaniko, which forces colours
//! on: `\x1b[36mINFO\x1b[0m[0000] Retrieving image manifest python:3.11`.
//! Most lines have no escape character at all, so the caller asks
//! [`needs_strip`] first (one `memchr`) and keeps borrowing the line when it
//! says no; only lines with an `ESC` are copied.
//!
//! What is removed, following ECMA-48 (the standard behind "ANSI" codes),
//! each sequence starting at an `ESC` (U+001B):
//!
//! - **CSI** `ESC [`, parameter bytes (`0x30..=0x3F`) and intermediate bytes
//!   (`0x20..=0x2F`), then one final byte (`0x40..=0x7E`): colours
//!   (`\x1b[1;31m`), cursor movement (`\x1b[2K`), private modes (`\x1b[?25l`).
//!   A byte that cannot continue the sequence (a control character, a
//!   non-ASCII character) ends it: what came before is removed, that byte is
//!   kept, as is the rest of the line.
//! - **Control strings** `ESC ]` (OSC: window titles, `ESC ]8;;url` links),
//!   `ESC P` (DCS), `ESC X` (SOS), `ESC ^` (PM), `ESC _` (APC): everything up
//!   to and including the terminator, `BEL` (U+0007) or `ESC \` (ST). A
//!   control string without a terminator runs to the end of the input, as it
//!   would on a terminal. An `ESC` inside one that is not `ESC \` ends it and
//!   starts a new sequence (xterm does the same).
//! - **nF sequences** `ESC`, intermediate bytes, one final byte
//!   (`0x30..=0x7E`): character set selection, as in `\x1b(B` that `tput sgr0`
//!   writes.
//! - **Two-byte sequences** `ESC` and one byte in `0x30..=0x7E` (save and
//!   restore the cursor `\x1b7` `\x1b8`, keypad modes `\x1b=`, reset `\x1bc`).
//! - An `ESC` followed by anything else (a control character, a non-ASCII
//!   character, the end of the input) is removed on its own.
//!
//! Not removed: the 8-bit C1 forms (CSI as U+009B, OSC as U+009D). A raw
//! `0x9B` byte is not UTF-8 and has become U+FFFD by the time a line is a
//! `&str`; the code points U+0080..=U+009F written as UTF-8 are not emitted
//! by any of the platform's sources and UTF-8 terminals do not act on them.
//! Leaving them out keeps the common case a single search for `ESC`. Other
//! control characters (a bare `\r`, `BEL`, `\t`) are text and stay.
//!
//! Every removed range starts at an `ESC` and ends after an ASCII byte or at
//! the end of the input, so the output is always valid UTF-8 and no
//! character is ever split.

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// Whether `input` contains an escape character, and so may hold escape
/// sequences. When it does not, [`strip_ansi_escape_codes`] would copy it
/// unchanged: borrow it instead.
#[inline]
pub fn needs_strip(input: &str) -> bool {
    memchr::memchr(ESC, input.as_bytes()).is_some()
}

/// Appends `input` to `out` without its escape sequences (see the module
/// documentation for exactly which).
///
/// Allocates only by growing `out`, by at most `input.len()` bytes.
///
/// ```
/// use uml_runtime::stdlib::ansi::{needs_strip, strip_ansi_escape_codes};
///
/// let line = "\u{1b}[36mINFO\u{1b}[0m[0000] Retrieving image manifest python:3.11";
/// assert!(needs_strip(line));
/// let mut out = String::new();
/// strip_ansi_escape_codes(line, &mut out);
/// assert_eq!(out, "INFO[0000] Retrieving image manifest python:3.11");
/// ```
pub fn strip_ansi_escape_codes(input: &str, out: &mut String) {
    let bytes = input.as_bytes();
    let mut run = 0;
    while let Some(off) = memchr::memchr(ESC, &bytes[run..]) {
        let at = run + off;
        out.push_str(&input[run..at]);
        run = sequence_end(bytes, at);
    }
    out.push_str(&input[run..]);
}

/// The end (exclusive) of the escape sequence whose `ESC` is at `at`.
fn sequence_end(b: &[u8], at: usize) -> usize {
    let i = at + 1;
    match b.get(i) {
        Some(b'[') => csi_end(b, i + 1),
        Some(b']' | b'P' | b'X' | b'^' | b'_') => control_string_end(b, i + 1),
        Some(0x20..=0x2f) => {
            // nF: intermediates, then one final byte.
            let mut j = i + 1;
            while let Some(0x20..=0x2f) = b.get(j) {
                j += 1;
            }
            match b.get(j) {
                Some(0x30..=0x7e) => j + 1,
                _ => j,
            }
        }
        Some(0x30..=0x7e) => i + 1,
        // A lone ESC: at the end, or before a byte no sequence starts with.
        _ => i,
    }
}

/// The end of a CSI whose parameters start at `i`.
fn csi_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            0x20..=0x3f => i += 1,
            0x40..=0x7e => return i + 1,
            _ => return i,
        }
    }
    i
}

/// The end of a control string whose body starts at `i`: after its `BEL` or
/// `ESC \`, before an `ESC` that starts something else, or the end.
fn control_string_end(b: &[u8], i: usize) -> usize {
    match memchr::memchr2(BEL, ESC, &b[i..]) {
        None => b.len(),
        Some(off) => {
            let j = i + off;
            if b[j] == BEL {
                j + 1
            } else if b.get(j + 1) == Some(&b'\\') {
                j + 2
            } else {
                j
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::from("kept:");
        strip_ansi_escape_codes(s, &mut out);
        out.strip_prefix("kept:").expect("the function appends").to_owned()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            // docs/language.md §10.2 and docs/contract.md, "The five sources" (kaniko).
            (
                "\u{1b}[36mINFO\u{1b}[0m[0000] Retrieving image manifest python:3.11",
                "INFO[0000] Retrieving image manifest python:3.11",
            ),
            ("\x1b[33mWARN\x1b[0m[0003] no files changed       ", "WARN[0003] no files changed       "),
            ("no escapes at all", "no escapes at all"),
            ("", ""),
            ("\x1b[m", ""),
            ("\x1b[1;31mred\x1b[0m and \x1b[38;5;196mmore\x1b[39m", "red and more"),
            ("\x1b[38;2;255;0;0mtruecolor\x1b[0m", "truecolor"),
            ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
            ("progress\x1b[2K\r 50%", "progress\r 50%"),
            ("\x1b[1A\x1b[2Kup", "up"),
            // tput sgr0 writes a charset selection before the CSI.
            ("\x1b(B\x1b[mplain", "plain"),
            ("\x1b)0x", "x"),
            // Two-byte sequences.
            ("\x1b7saved\x1b8", "saved"),
            ("\x1b=keypad\x1b>", "keypad"),
            ("\x1bcreset", "reset"),
            // OSC with BEL and with ST; hyperlinks.
            ("\x1b]0;window title\x07text", "text"),
            ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ after", "link after"),
            ("\x1b]2;títle ünïcode\x07ok", "ok"),
            ("\x1bPq#0;2;0;0;0\x1b\\sixel", "sixel"),
            ("\x1b_apc\x1b\\x", "x"),
            // An unterminated control string runs to the end.
            ("before\x1b]0;never closed", "before"),
            // An ESC inside a control string starts a new sequence.
            ("\x1b]0;title\x1b[31mred", "red"),
            // Incomplete and broken sequences.
            ("cut\x1b[3", "cut"),
            ("cut\x1b[", "cut"),
            ("lone at end\x1b", "lone at end"),
            ("\x1b\x1b[0mdouble", "double"),
            ("\x1b\nnext line", "\nnext line"),
            ("\x1b[31\nstill text", "\nstill text"),
            ("\x1b[31é accent", "é accent"),
            ("\x1bé", "é"),
            ("\x1b(", ""),
            ("\x1b(\u{e9}", "\u{e9}"),
            // Other control characters are text.
            ("bell \x07 and \t tab\r", "bell \x07 and \t tab\r"),
            // 8-bit C1 forms stay (see the module documentation).
            ("\u{9b}31m", "\u{9b}31m"),
        ];
        for (input, want) in cases {
            assert_eq!(strip(input), *want, "input {input:?}");
            assert_eq!(needs_strip(input), input.contains('\x1b'), "input {input:?}");
        }
    }
}
