//! The string functions of `docs/language.md` §10.2.
//!
//! Positions and lengths count characters (Unicode scalar values), where VRL
//! counts bytes: `slice`, `length` and `truncate` never split a character.
//! Case mapping is Unicode's (`ß` upcases to `SS`). ASCII text, which is
//! almost all of a log, takes a fast path in each function.
//!
//! `replace` and `split` here take a literal pattern; with a regex pattern
//! they are the executor's, which owns the compiled regex.

use std::str::SplitN;

use super::error_enum;

/// Appends `value` with every letter upper-cased (Unicode's full mapping:
/// `ß` becomes `SS`), the same as [`str::to_uppercase`].
///
/// Allocates only by growing `out` (by `value.len()` bytes for ASCII text;
/// a few case mappings grow a character, up to three times its length).
///
/// ```
/// # use uml_runtime::stdlib::text::upcase;
/// let mut out = String::new();
/// upcase("warn", &mut out);
/// assert_eq!(out, "WARN");
/// ```
pub fn upcase(value: &str, out: &mut String) {
    map_case(value, out, str::make_ascii_uppercase, |c, _, out| out.extend(c.to_uppercase()));
}

/// Appends `value` with every letter lower-cased, the same as
/// [`str::to_lowercase`] including its one context-dependent rule: a capital
/// sigma `Σ` at the end of a word becomes `ς`, elsewhere `σ`.
///
/// Decision: the rule needs Unicode's `Case_Ignorable` property, which the
/// standard library does not expose. Here it is approximated by the marks,
/// modifier letters and word-internal punctuation that occur next to Greek
/// letters (combining diacritics, `'`, `’`, `.`, `:`, `·`, zero-width
/// characters, variation selectors); a sigma next to one of the other
/// case-ignorable characters, rare outside scripts without case, may get the
/// non-final form where `str::to_lowercase` gives the final one.
///
/// Allocates only by growing `out`.
///
/// ```
/// # use uml_runtime::stdlib::text::downcase;
/// let mut out = String::new();
/// downcase("Container_Terminated", &mut out);
/// assert_eq!(out, "container_terminated");
/// ```
pub fn downcase(value: &str, out: &mut String) {
    map_case(value, out, str::make_ascii_lowercase, |c, at, out| {
        if c == 'Σ' {
            out.push(sigma_lowercase(value, at));
        } else {
            out.extend(c.to_lowercase());
        }
    });
}

/// Copies runs of ASCII with `ascii` applied in place, and maps every other
/// character (at byte offset `at` of `value`) with `other`, except those of
/// the blocks [`has_no_case`] knows, which are copied.
#[inline]
fn map_case(value: &str, out: &mut String, ascii: fn(&mut str), other: impl Fn(char, usize, &mut String)) {
    out.reserve(value.len());
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = ascii_run_end(bytes, i);
        if run > i {
            let start = out.len();
            out.push_str(&value[i..run]);
            ascii(&mut out[start..]);
            i = run;
        }
        for c in value[i..].chars().take_while(|c| !c.is_ascii()) {
            if has_no_case(c) {
                out.push(c);
            } else {
                other(c, i, out);
            }
            i += c.len_utf8();
        }
    }
}

/// The end of the run of ASCII bytes that starts at `i`, eight at a time.
fn ascii_run_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(word) = bytes.get(i..i + 8) {
        if u64::from_ne_bytes(word.try_into().expect("eight bytes")) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    while bytes.get(i).is_some_and(u8::is_ascii) {
        i += 1;
    }
    i
}

/// Blocks frequent in logs whose characters have no case, so mapping skips
/// the table lookup: general punctuation (dashes, quotes, `…`), box drawing
/// and block elements (progress bars: `━`, `█`), geometric shapes, symbols
/// and dingbats (`✓`, `✗`), CJK and kana, Hangul syllables. A test checks
/// every character of them against the standard library's mappings.
fn has_no_case(c: char) -> bool {
    matches!(c, '\u{2000}'..='\u{206F}' | '\u{2500}'..='\u{27BF}' | '\u{3000}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}')
}

/// `σ` or, at the end of a word, `ς`: Unicode's `Final_Sigma` condition (a
/// cased letter before, none after, skipping case-ignorable characters).
fn sigma_lowercase(value: &str, at: usize) -> char {
    let cased_before = value[..at].chars().rev().find(|&c| !is_case_ignorable(c)).is_some_and(is_cased);
    let cased_after = value[at + 'Σ'.len_utf8()..].chars().find(|&c| !is_case_ignorable(c)).is_some_and(is_cased);
    if cased_before && !cased_after { 'ς' } else { 'σ' }
}

/// Unicode's `Cased`: `Lowercase`, `Uppercase` or a titlecase letter (`Lt`).
fn is_cased(c: char) -> bool {
    c.is_lowercase()
        || c.is_uppercase()
        || matches!(
            c,
            '\u{01C5}'
                | '\u{01C8}'
                | '\u{01CB}'
                | '\u{01F2}'
                | '\u{1F88}'..='\u{1F8F}'
                | '\u{1F98}'..='\u{1F9F}'
                | '\u{1FA8}'..='\u{1FAF}'
                | '\u{1FBC}'
                | '\u{1FCC}'
                | '\u{1FFC}'
        )
}

/// An approximation of Unicode's `Case_Ignorable` (see [`downcase`]).
fn is_case_ignorable(c: char) -> bool {
    matches!(
        c,
        '\'' | '.'
            | ':'
            | '^'
            | '`'
            | '\u{A8}'
            | '\u{AD}'
            | '\u{AF}'
            | '\u{B4}'
            | '\u{B7}'
            | '\u{B8}'
            | '\u{2B0}'..='\u{36F}'
            | '\u{374}'
            | '\u{375}'
            | '\u{37A}'
            | '\u{384}'
            | '\u{385}'
            | '\u{387}'
            | '\u{483}'..='\u{489}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{1FBD}'
            | '\u{1FBF}'..='\u{1FC1}'
            | '\u{1FCD}'..='\u{1FCF}'
            | '\u{1FDD}'..='\u{1FDF}'
            | '\u{1FED}'..='\u{1FEF}'
            | '\u{1FFD}'
            | '\u{1FFE}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{2024}'
            | '\u{2027}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
            | '\u{FEFF}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// `value` without leading and trailing whitespace (Unicode `White_Space`,
/// which includes `\r`, `\n` and `\t`). Borrows; never copies.
///
/// ```
/// # use uml_runtime::stdlib::text::trim;
/// assert_eq!(trim("Exception in ASGI application\n"), "Exception in ASGI application");
/// ```
#[inline]
pub fn trim(value: &str) -> &str {
    value.trim()
}

/// Whether `substring` occurs in `value`. An empty `substring` occurs in
/// every string.
///
/// Case-insensitively, both strings are compared after mapping every
/// character to lower case (Unicode's full mapping, without the final-sigma
/// rule, so `Σ` matches `σ` but not `ς`), so `"\u{212A}"` (KELVIN SIGN)
/// contains `"k"`; this is VRL's `downcase(value)` containing
/// `downcase(substring)`. With an ASCII `substring` this is a
/// `memchr`-driven search over the bytes; otherwise it compares character
/// streams and takes time proportional to `value`'s length times
/// `substring`'s.
///
/// Never allocates.
pub fn contains(value: &str, substring: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        return memchr::memmem::find(value.as_bytes(), substring.as_bytes()).is_some();
    }
    if substring.is_ascii() {
        // An ASCII substring found among ASCII bytes is a match whatever
        // surrounds it. Of the non-ASCII characters only two lower-case to
        // anything ASCII (a test checks every character), so without them
        // there is no other match.
        if ascii_find_ignore_case(value.as_bytes(), substring.as_bytes()) {
            return true;
        }
        if value.is_ascii() || !value.contains(LOWERCASE_TO_ASCII) {
            return false;
        }
    }
    let mut hay = lowercase_chars(value);
    loop {
        if starts_with_chars(hay.clone(), lowercase_chars(substring)) {
            return true;
        }
        if hay.next().is_none() {
            return false;
        }
    }
}

/// The non-ASCII characters whose lower case has an ASCII character: `İ`
/// (`i` and a combining dot) and the KELVIN SIGN (`k`).
const LOWERCASE_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

/// Whether `value` starts with `substring`; case-insensitively as in
/// [`contains`]. Never allocates.
///
/// ```
/// # use uml_runtime::stdlib::text::starts_with;
/// let line = "error building image: error building stage: failed to get filesystem from image";
/// assert!(starts_with(line, "error building image:", true));
/// assert!(starts_with(line, "ERROR BUILDING", false));
/// ```
pub fn starts_with(value: &str, substring: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        return value.as_bytes().starts_with(substring.as_bytes());
    }
    // When the part of `value` that could match is ASCII, it maps to exactly
    // as many lower-case characters, so bytes decide.
    let n = substring.len();
    if substring.is_ascii() && value.len() >= n && value.as_bytes()[..n].is_ascii() {
        return value.as_bytes()[..n].eq_ignore_ascii_case(substring.as_bytes());
    }
    starts_with_chars(lowercase_chars(value), lowercase_chars(substring))
}

/// Whether `value` ends with `substring`; case-insensitively as in
/// [`contains`]. Never allocates.
pub fn ends_with(value: &str, substring: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        return value.as_bytes().ends_with(substring.as_bytes());
    }
    let n = substring.len();
    if substring.is_ascii() && value.len() >= n && value.as_bytes()[value.len() - n..].is_ascii() {
        return value.as_bytes()[value.len() - n..].eq_ignore_ascii_case(substring.as_bytes());
    }
    starts_with_chars(lowercase_chars_rev(value), lowercase_chars_rev(substring))
}

fn lowercase_chars(s: &str) -> impl Iterator<Item = char> + Clone + '_ {
    s.chars().flat_map(char::to_lowercase)
}

/// The lower-case characters of `s`, last first.
fn lowercase_chars_rev(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().rev().flat_map(|c| c.to_lowercase().rev())
}

fn starts_with_chars(mut hay: impl Iterator<Item = char>, needle: impl Iterator<Item = char>) -> bool {
    for n in needle {
        if hay.next() != Some(n) {
            return false;
        }
    }
    true
}

fn ascii_find_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else { return true };
    if needle.len() > hay.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    while let Some(off) = memchr::memchr2(lo, up, &hay[i..=last_start]) {
        let at = i + off;
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return true;
        }
        i = at + 1;
        if i > last_start {
            break;
        }
    }
    false
}

/// Appends `value` with its non-overlapping occurrences of `pattern`, left
/// to right, replaced by `with`: all of them when `count` is negative (the
/// language's default is `-1`), at most `count` otherwise (`0`: none).
/// Returns how many were replaced.
///
/// An empty `pattern` matches at every character boundary, as in
/// [`str::replace`] (and VRL): `replace("ab", "", "-")` is `"-a-b-"`.
///
/// Allocates only by growing `out`.
///
/// ```
/// # use uml_runtime::stdlib::text::replace;
/// let mut out = String::new();
/// assert_eq!(replace("a-b-c", "-", "+", -1, &mut out), 2);
/// assert_eq!(out, "a+b+c");
/// ```
pub fn replace(value: &str, pattern: &str, with: &str, count: i64, out: &mut String) -> usize {
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    let mut last = 0;
    let mut done = 0;
    let mut emit = |start: usize, len: usize, done: &mut usize| {
        out.push_str(&value[last..start]);
        out.push_str(with);
        last = start + len;
        *done += 1;
    };
    if pattern.is_empty() {
        for (start, _) in value.match_indices("").take(limit) {
            emit(start, 0, &mut done);
        }
    } else {
        for start in memchr::memmem::find_iter(value.as_bytes(), pattern.as_bytes()).take(limit) {
            emit(start, pattern.len(), &mut done);
        }
    }
    out.push_str(&value[last..]);
    done
}

/// The pieces of `value` between the occurrences of `pattern`: at most
/// `limit` of them, the last holding the rest of `value`. A negative `limit`
/// means no limit; `0` gives no pieces.
///
/// An empty `pattern` splits at every character boundary, as [`str::split`]
/// does: `"ab"` gives `""`, `"a"`, `"b"`, `""`. An empty `value` gives one
/// empty piece. Borrows; never allocates.
///
/// ```
/// # use uml_runtime::stdlib::text::split;
/// let pod = "kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq";
/// assert_eq!(split(pod, "-", -1).last(), Some("x2mzq"));
/// assert_eq!(split("a b c", " ", 2).collect::<Vec<_>>(), ["a", "b c"]);
/// ```
pub fn split<'a, 'p>(value: &'a str, pattern: &'p str, limit: i64) -> SplitN<'a, &'p str> {
    value.splitn(usize::try_from(limit).unwrap_or(usize::MAX), pattern)
}

error_enum! {
    /// Why `slice` failed.
    pub enum SliceError {
        /// `start` is outside `-length..=length`.
        StartOutOfRange => "start is out of range",
        /// `end` (after counting a negative one from the end) is before `start`.
        EndBeforeStart => "end is before start",
    }
}

/// The characters of `value` from `start` up to, not including, `end`
/// (`None`: the length). Negative positions count from the end; an `end`
/// past the end is the end. Borrows; never allocates.
///
/// Fails when `start` is outside `-length..=length`, or when `end` is
/// before `start`.
///
/// ```
/// # use uml_runtime::stdlib::text::slice;
/// assert_eq!(slice("I1012 01:17:48.317907 1 grpc_server.cc:2451]", 0, Some(1)), Ok("I"));
/// assert_eq!(slice("größe", -3, None), Ok("öße"));
/// ```
pub fn slice(value: &str, start: i64, end: Option<i64>) -> Result<&str, SliceError> {
    let ascii = value.is_ascii();
    // A string is at most isize::MAX bytes, so its length fits an i64.
    let len = if ascii { value.len() } else { value.chars().count() } as i64;
    let start = if start < 0 { start + len } else { start };
    if !(0..=len).contains(&start) {
        return Err(SliceError::StartOutOfRange);
    }
    let end = match end {
        None => len,
        Some(e) if e < 0 => e + len,
        Some(e) => e.min(len),
    };
    if end < start {
        return Err(SliceError::EndBeforeStart);
    }
    let (start, end) = (start as usize, end as usize);
    if ascii {
        return Ok(&value[start..end]);
    }
    let from = char_offset(value, start);
    let to = from + char_offset(&value[from..], end - start);
    Ok(&value[from..to])
}

/// The byte offset of character `n` of `s`, or `s.len()` past the end.
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The number of characters (Unicode scalar values) of `value`. Never
/// allocates; the standard library counts eight bytes at a time.
///
/// ```
/// # use uml_runtime::stdlib::text::length;
/// assert_eq!(length("Executing model.load()..."), 25);
/// assert_eq!(length("━━━━"), 4);
/// ```
#[inline]
pub fn length(value: &str) -> usize {
    value.chars().count()
}

/// The result of [`truncate`]: what is kept of the value, and whether
/// anything was cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation<'a> {
    pub kept: &'a str,
    pub cut: bool,
}

impl Truncation<'_> {
    /// Appends the truncated value: what is kept, and `suffix` if anything
    /// was cut. Allocates only by growing `out`.
    pub fn write(self, suffix: &str, out: &mut String) {
        out.push_str(self.kept);
        if self.cut {
            out.push_str(suffix);
        }
    }
}

/// The first `limit` characters of `value`. The language's
/// `truncate(value, limit, suffix)` is this followed by `suffix` when
/// something was cut ([`Truncation::write`]); when nothing was, the value is
/// borrowed as it is. The suffix does not count towards `limit`.
///
/// Decision: a negative `limit` keeps nothing, like `0` (the function is
/// infallible).
///
/// Never allocates. For ASCII, or any value of at most `limit` bytes, it is
/// O(1); otherwise it walks the first `limit` characters.
///
/// ```
/// # use uml_runtime::stdlib::text::truncate;
/// let mut out = String::new();
/// truncate("Retrieving image manifest", 10).write(" [truncated]", &mut out);
/// assert_eq!(out, "Retrieving [truncated]");
/// assert!(!truncate("short", 1000).cut);
/// ```
pub fn truncate(value: &str, limit: i64) -> Truncation<'_> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if value.len() <= limit {
        return Truncation { kept: value, cut: false };
    }
    let at = if value.is_char_boundary(limit) && value.as_bytes()[..limit].is_ascii() {
        limit
    } else {
        char_offset(value, limit)
    };
    Truncation { kept: &value[..at], cut: at < value.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(s: &str) -> String {
        let mut out = String::new();
        upcase(s, &mut out);
        out
    }

    fn down(s: &str) -> String {
        let mut out = String::new();
        downcase(s, &mut out);
        out
    }

    #[test]
    fn case_mapping() {
        let cases: &[(&str, &str, &str)] = &[
            // (input, upcase, downcase); the first two from docs/language.md §10.2.
            ("warn", "WARN", "warn"),
            ("Container_Terminated", "CONTAINER_TERMINATED", "container_terminated"),
            ("", "", ""),
            ("straße", "STRASSE", "straße"),
            ("İstanbul", "İSTANBUL", "i\u{307}stanbul"),
            ("ΟΔΟΣ", "ΟΔΟΣ", "οδος"),
            ("ΟΔΟΣ ΣΑΣ Σ", "ΟΔΟΣ ΣΑΣ Σ", "οδος σας σ"),
            ("ΌΣΟΣ.", "ΌΣΟΣ.", "όσος."),
            ("ΑΣ'Β", "ΑΣ'Β", "ασ'β"),
            ("ﬃ ǅ", "FFI Ǆ", "ﬃ ǆ"),
            ("mixed ÄÖÜ text", "MIXED ÄÖÜ TEXT", "mixed äöü text"),
            ("日本語 ok", "日本語 OK", "日本語 ok"),
        ];
        for (input, u, d) in cases {
            assert_eq!(up(input), *u, "upcase {input:?}");
            assert_eq!(down(input), *d, "downcase {input:?}");
            assert_eq!(up(input), input.to_uppercase());
            assert_eq!(down(input), input.to_lowercase());
        }
    }

    #[test]
    fn caseless_blocks_have_no_case() {
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32).filter(|&c| has_no_case(c)) {
            assert!(c.to_lowercase().eq([c]) && c.to_uppercase().eq([c]), "{c:?}");
        }
    }

    #[test]
    fn only_two_characters_lower_case_to_ascii() {
        let found: Vec<char> =
            (0x80..=0x10FFFF).filter_map(char::from_u32).filter(|c| c.to_lowercase().any(|l| l.is_ascii())).collect();
        assert_eq!(found, LOWERCASE_TO_ASCII);
    }

    #[test]
    fn case_mapping_appends() {
        let mut out = String::from("x=");
        upcase("ab", &mut out);
        downcase("CD", &mut out);
        assert_eq!(out, "x=ABcd");
    }

    #[test]
    fn trims_unicode_whitespace_and_borrows() {
        for (input, want) in [
            ("Exception in ASGI application\n", "Exception in ASGI application"),
            ("  \t padded \r\n", "padded"),
            ("\u{a0}\u{3000}wide\u{2029}", "wide"),
            ("", ""),
            (" \n ", ""),
        ] {
            let got = trim(input);
            assert_eq!(got, want);
            // A sub-slice of the input, not a copy.
            let range = input.as_bytes().as_ptr_range();
            assert!(got.is_empty() || range.contains(&got.as_ptr()));
        }
    }

    #[test]
    fn substrings() {
        let oom = "[11/20/2026-13:22:03] [TRT] [E] 1: Error Code 1: Cuda Runtime (OUT OF MEMORY)";
        let bar = "━━━━━━━━ 757.3/757.3 MB 11.6 MB/s eta 0:00:00";
        let failed = "error building image: error building stage: failed to get filesystem from image";
        // (value, substring, case_sensitive, contains, starts_with, ends_with)
        let cases: &[(&str, &str, bool, bool, bool, bool)] = &[
            (failed, "error building image:", true, true, true, false),
            (oom, "out of memory", false, true, false, false),
            (oom, "out of memory", true, false, false, false),
            (oom, "memory)", false, true, false, true),
            (bar, "eta 0:00:00", true, true, false, true),
            (bar, "━━", true, true, true, false),
            ("anything", "", true, true, true, true),
            ("anything", "", false, true, true, true),
            ("", "", false, true, true, true),
            ("", "a", false, false, false, false),
            ("short", "longer than value", false, false, false, false),
            ("Straße", "STRASSE", false, false, false, false),
            ("STRASSE", "straße", false, false, false, false),
            ("Ünïcödé Text", "ÜNÏ", false, true, true, false),
            ("Ünïcödé Text", "cödé t", false, true, false, false),
            ("Ünïcödé Text", "TEXT", false, true, false, true),
            ("Ünïcödé Text", "Text", true, true, false, true),
            // KELVIN SIGN lower-cases to an ASCII k.
            ("\u{212A}elvin", "kelvin", false, true, true, true),
            ("\u{212A}elvin", "kelvin", true, false, false, false),
            ("ΣΑΣ", "σασ", false, true, true, true),
            ("abcabd", "ABD", false, true, false, true),
            ("aaab", "AAB", false, true, false, true),
        ];
        for &(value, sub, cs, c, s, e) in cases {
            assert_eq!(contains(value, sub, cs), c, "contains({value:?}, {sub:?}, {cs})");
            assert_eq!(starts_with(value, sub, cs), s, "starts_with({value:?}, {sub:?}, {cs})");
            assert_eq!(ends_with(value, sub, cs), e, "ends_with({value:?}, {sub:?}, {cs})");
        }
    }

    fn replaced(value: &str, pattern: &str, with: &str, count: i64) -> (String, usize) {
        let mut out = String::new();
        let n = replace(value, pattern, with, count, &mut out);
        (out, n)
    }

    #[test]
    fn replaces_literal_patterns() {
        let cases: &[(&str, &str, &str, i64, &str, usize)] = &[
            ("a-b-c", "-", "+", -1, "a+b+c", 2),
            ("a-b-c", "-", "+", 1, "a+b-c", 1),
            ("a-b-c", "-", "+", 0, "a-b-c", 0),
            ("a-b-c", "-", "+", -7, "a+b+c", 2),
            ("a-b-c", "-", "+", 99, "a+b+c", 2),
            ("aaaa", "aa", "b", -1, "bb", 2),
            ("aaa", "aa", "b", -1, "ba", 1),
            ("no match", "xyz", "!", -1, "no match", 0),
            ("", "x", "y", -1, "", 0),
            ("ab", "", "-", -1, "-a-b-", 3),
            ("ab", "", "-", 2, "-a-b", 2),
            ("", "", "-", -1, "-", 1),
            ("größe", "ö", "oe", -1, "groeße", 1),
            ("size 1 KiB", " KiB", "", -1, "size 1", 1),
        ];
        for &(value, pattern, with, count, want, n) in cases {
            assert_eq!(replaced(value, pattern, with, count), (want.to_owned(), n), "{value:?} {pattern:?} {count}");
            assert_eq!(replaced(value, pattern, with, -1).0, value.replace(pattern, with));
            if count >= 0 {
                assert_eq!(replaced(value, pattern, with, count).0, value.replacen(pattern, with, count as usize));
            }
        }
    }

    #[test]
    fn splits_literal_patterns() {
        let pieces = |v, p, l| split(v, p, l).collect::<Vec<_>>();
        // docs/language.md §10.2.
        assert_eq!(pieces("kube-pod-lifecycle-watcher-6f7c9d8b4-x2mzq", "-", -1).last(), Some(&"x2mzq"));
        assert_eq!(pieces("a,b,,c", ",", -1), ["a", "b", "", "c"]);
        assert_eq!(pieces("a,b,,c", ",", 2), ["a", "b,,c"]);
        assert_eq!(pieces("a,b,,c", ",", 1), ["a,b,,c"]);
        assert_eq!(pieces("a,b,,c", ",", 0), Vec::<&str>::new());
        assert_eq!(pieces("a,b,,c", ",", -5), ["a", "b", "", "c"]);
        assert_eq!(pieces("", ",", -1), [""]);
        assert_eq!(pieces("ab", "", -1), ["", "a", "b", ""]);
        assert_eq!(pieces("a::b", "::", -1), ["a", "b"]);
        assert_eq!(pieces("é—ü", "—", -1), ["é", "ü"]);
    }

    #[test]
    fn slices_by_character() {
        let line = "I1012 01:17:48.317907 1 grpc_server.cc:2451] Started";
        type Case = (&'static str, i64, Option<i64>, Result<&'static str, SliceError>);
        let cases: &[Case] = &[
            // docs/language.md §10.2.
            (line, 0, Some(1), Ok("I")),
            ("hello", 1, None, Ok("ello")),
            ("hello", -3, None, Ok("llo")),
            ("hello", 1, Some(-1), Ok("ell")),
            ("hello", 0, Some(99), Ok("hello")),
            ("hello", 5, None, Ok("")),
            ("hello", -5, None, Ok("hello")),
            ("hello", 6, None, Err(SliceError::StartOutOfRange)),
            ("hello", -6, None, Err(SliceError::StartOutOfRange)),
            ("hello", 3, Some(2), Err(SliceError::EndBeforeStart)),
            ("hello", 0, Some(-6), Err(SliceError::EndBeforeStart)),
            ("hello", 2, Some(2), Ok("")),
            ("", 0, None, Ok("")),
            ("", 0, Some(-1), Err(SliceError::EndBeforeStart)),
            ("größe", 2, Some(4), Ok("öß")),
            ("größe", -1, None, Ok("e")),
            ("━━x━━", 2, Some(3), Ok("x")),
            ("😀a😀", 1, Some(2), Ok("a")),
            ("hello", i64::MIN, None, Err(SliceError::StartOutOfRange)),
            ("hello", i64::MAX, None, Err(SliceError::StartOutOfRange)),
            ("hello", 0, Some(i64::MIN), Err(SliceError::EndBeforeStart)),
        ];
        for &(value, start, end, want) in cases {
            assert_eq!(slice(value, start, end), want, "slice({value:?}, {start}, {end:?})");
        }
        assert_eq!(SliceError::StartOutOfRange.message(), "start is out of range");
    }

    #[test]
    fn lengths_count_characters() {
        for (value, n) in [("", 0), ("INFO", 4), ("größe", 5), ("━━━━", 4), ("😀", 1), ("e\u{301}", 2)] {
            assert_eq!(length(value), n, "{value:?}");
        }
    }

    #[test]
    fn truncates_at_characters() {
        let cases: &[(&str, i64, &str, bool)] = &[
            ("hello", 3, "hel", true),
            ("hello", 5, "hello", false),
            ("hello", 99, "hello", false),
            ("hello", 0, "", true),
            ("hello", -1, "", true),
            ("", 0, "", false),
            ("", -3, "", false),
            ("größe", 3, "grö", true),
            ("größe", 5, "größe", false),
            ("größe", 6, "größe", false),
            ("━━━━", 2, "━━", true),
            ("━━━━", 4, "━━━━", false),
            // Six bytes, two characters: within the byte length, walks the characters.
            ("━━", 4, "━━", false),
        ];
        for &(value, limit, kept, cut) in cases {
            assert_eq!(truncate(value, limit), Truncation { kept, cut }, "truncate({value:?}, {limit})");
        }
        // docs/language.md §10.2: the suffix follows only a cut value.
        let long = "x".repeat(1500);
        let mut out = String::new();
        truncate(&long, 1000).write(" [truncated]", &mut out);
        assert_eq!(out, format!("{} [truncated]", "x".repeat(1000)));
        out.clear();
        truncate("short line", 1000).write(" [truncated]", &mut out);
        assert_eq!(out, "short line");
    }
}
