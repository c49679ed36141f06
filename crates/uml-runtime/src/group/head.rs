//! The default `head`, matched by hand.
//!
//! A `python_traceback` rule without `head` runs the default pattern on
//! the lines that a traceback, a crash or an indented line follows (and on
//! every line while the other stream interleaves), and nearly every line is
//! not a head. The regex
//! engine finds no literal to skip ahead with in `(?i)`-words between
//! `\b`s. This matcher lowers the line's letters a word at a time (into a
//! block on the stack), finds where a head could start with a SIMD
//! multi-pattern searcher (aho-corasick's Teddy) over the first three
//! letters of the level words, and `[E]`, and checks the whole test on the
//! line only there; where Teddy is not available it walks the line's ASCII
//! words once, a table load per byte. Either way it must agree with
//! [`GroupConfig::DEFAULT_HEAD`] on every line; `tests/group_props.rs`
//! checks that both do.
//!
//! [`GroupConfig::DEFAULT_HEAD`]: super::GroupConfig::DEFAULT_HEAD

use aho_corasick::packed;
use std::sync::LazyLock;

/// The first three letters of every level word of the default head, and
/// `[E]`, as they read in a line whose bytes have had 0x20 set (ASCII
/// letters lowered, `[` and `]` made `{` and `}`); `None` where the CPU has
/// no Teddy. Only letters lower to letters, so a level word in any case
/// shows as one of these, and each hit is checked on the line itself. The
/// leftmost-first search misses a candidate only inside an earlier one,
/// where a level word cannot start: the byte before it is a letter, and
/// not the `m` that ends a colour code (or, inside `[E]`, the `E` before
/// `]`).
static STARTS: LazyLock<Option<packed::Searcher>> = LazyLock::new(|| {
    let patterns: [&[u8]; 6] = [b"{e}", b"err", b"cri", b"fat", b"pan", b"exc"];
    packed::Config::new().only_teddy(true).builder().extend(patterns).build()
});

/// How much of a line is lowered at a time, on the stack.
const BLOCK: usize = 512;

/// Whether `line` matches [`GroupConfig::DEFAULT_HEAD`]:
/// `(?i-u:(?:\b|\x1b\[[0-9;]*m)(?:error|erro|critical|crit|fatal|fata|panic|pani|exception)\b)|\[E\]|^[EF][0-9]{4} `.
///
/// [`GroupConfig::DEFAULT_HEAD`]: super::GroupConfig::DEFAULT_HEAD
pub fn matches_default_head(line: &str) -> bool {
    let b = line.as_bytes();
    match &*STARTS {
        Some(starts) => {
            is_klog_error(b)
                || lowered_blocks(b, |at, lowered| starts.find_iter(lowered).any(|m| head_at(b, at + m.start())))
        }
        None => matches_default_head_by_walking(line),
    }
}

/// Calls `f` with the start and the lowered copy of each block of `b` until
/// it says yes. Blocks overlap by two bytes, so that every three-byte
/// pattern lies whole in one of them.
fn lowered_blocks(b: &[u8], mut f: impl FnMut(usize, &[u8]) -> bool) -> bool {
    let mut block = [0u8; BLOCK];
    let mut at = 0;
    loop {
        let part = &b[at..b.len().min(at + BLOCK)];
        let lowered = &mut block[..part.len()];
        let mut words = lowered.chunks_exact_mut(8);
        let mut from = part.chunks_exact(8);
        for (to, word) in (&mut words).zip(&mut from) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            to.copy_from_slice(&(word | 0x2020_2020_2020_2020).to_le_bytes());
        }
        for (to, c) in words.into_remainder().iter_mut().zip(from.remainder()) {
            *to = c | 0x20;
        }
        if f(at, lowered) {
            return true;
        }
        if at + BLOCK >= b.len() {
            return false;
        }
        at += BLOCK - 2;
    }
}

/// A klog error or fatal line: `E1120 ` or `F1120 `.
fn is_klog_error(b: &[u8]) -> bool {
    matches!(b, [b'E' | b'F', d0, d1, d2, d3, b' ', ..] if [d0, d1, d2, d3].iter().all(|d| d.is_ascii_digit()))
}

/// Whether a head starts at `at`, where [`STARTS`] found what may be `[E]`
/// or the start of a level word.
fn head_at(b: &[u8], at: usize) -> bool {
    if b[at] == b'[' || b[at] == b'{' {
        return b.get(at..at + 3) == Some(b"[E]");
    }
    // With ASCII word boundaries on both sides, a level word must be a whole
    // run of ASCII word characters, or the rest of one after an ANSI colour
    // code (`\x1b[31mERRO`: `m` and `E` are both word characters).
    let starts_word = at == 0 || CLASS[usize::from(b[at - 1])] != WORD || after_colour_code(&b[..at]);
    starts_word && is_level_word(&b[at..word_end(b, at)])
}

/// Whether `before` ends with an ANSI colour code: `\x1b[`, digits and `;`s, `m`.
fn after_colour_code(before: &[u8]) -> bool {
    let Some(rest) = before.strip_suffix(b"m") else { return false };
    let params = rest.iter().rev().take_while(|c| c.is_ascii_digit() || **c == b';').count();
    rest[..rest.len() - params].ends_with(b"\x1b[")
}

/// [`matches_default_head`] without a SIMD searcher: one walk over the
/// line's words. Public so that the tests hold it to the pattern too.
#[doc(hidden)]
pub fn matches_default_head_by_walking(line: &str) -> bool {
    let b = line.as_bytes();
    if is_klog_error(b) {
        return true;
    }
    // With ASCII word boundaries on both sides, a level word must be a whole
    // run of ASCII word characters, or the rest of one after an ANSI colour
    // code (`\x1b[31mERRO`: `m` and `E` are both word characters).
    let n = b.len();
    let mut i = 0;
    while i < n {
        match CLASS[usize::from(b[i])] {
            WORD => {
                let end = word_end(b, i + 1);
                if is_level_word(&b[i..end]) {
                    return true;
                }
                i = end;
            }
            BRACKET => {
                if b.get(i + 1..i + 3) == Some(b"E]") {
                    return true;
                }
                i += 1;
            }
            ESCAPE => {
                if b.get(i + 1) == Some(&b'[') {
                    let mut m = i + 2;
                    while m < n && (b[m].is_ascii_digit() || b[m] == b';') {
                        m += 1;
                    }
                    if b.get(m) == Some(&b'm') && is_level_word(&b[m + 1..word_end(b, m + 1)]) {
                        return true;
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    false
}

const OTHER: u8 = 0;
const WORD: u8 = 1;
const BRACKET: u8 = 2;
const ESCAPE: u8 = 3;

/// The class of each byte: one table load per byte keeps the loop tight.
static CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let byte = c as u8;
        class[c] = if byte.is_ascii_alphanumeric() || byte == b'_' {
            WORD
        } else if byte == b'[' {
            BRACKET
        } else if byte == 0x1b {
            ESCAPE
        } else {
            OTHER
        };
        c += 1;
    }
    class
};

/// The end of the run of word characters from `start`.
fn word_end(b: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < b.len() && CLASS[usize::from(b[end])] == WORD {
        end += 1;
    }
    end
}

fn is_level_word(word: &[u8]) -> bool {
    const WORDS: [&[u8]; 9] =
        [b"error", b"erro", b"critical", b"crit", b"fatal", b"fata", b"panic", b"pani", b"exception"];
    matches!(word.len(), 4 | 5 | 8 | 9)
        && matches!(word[0] | 0x20, b'e' | b'c' | b'f' | b'p')
        && WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::GroupConfig;

    #[test]
    fn agrees_with_the_pattern_on_examples() {
        let regex = GroupConfig::default_head();
        let lines = [
            ("ERROR:root:predict failed", true),
            ("ERROR:    Exception in ASGI application", true),
            ("Exception in thread Thread-1 (worker):", true),
            ("2026-11-20 07:07:55,838 - ERROR - model: load failed", true),
            ("\x1b[31mERRO\x1b[0m[0107] build step failed", true),
            ("\x1b[1;31mfatal\x1b[0m", true),
            ("\x1b[2Kerror", false),
            ("[11/20/2026-13:22:03] [TRT] [E] 1: out of memory", true),
            ("E1120 10:00:00.000000       1 watcher.go:88] lost", true),
            ("F1120 10:00:00.000000       1 watcher.go:88] lost", true),
            ("I1120 10:00:00.000000       1 watcher.go:88] resync", false),
            ("e1120 10:00:00.000000", false),
            (r#"{"levelname": "ERROR", "message": "x"}"#, true),
            ("panic: boom", true),
            ("PANI[0000] x", true),
            ("ValueError: bad input", false),
            ("0 errors, no exceptions", false),
            ("error_count=0", false),
            ("éerror", true),
            ("INFO: fine", false),
            ("Loading checkpoint shards: 100%|██████████| 4/4", false),
            ("", false),
        ];
        for (line, expected) in lines {
            assert_eq!(regex.is_match(line), expected, "the pattern on {line:?}");
            assert_eq!(matches_default_head(line), expected, "the matcher on {line:?}");
            assert_eq!(matches_default_head_by_walking(line), expected, "the walk on {line:?}");
        }
    }
}
