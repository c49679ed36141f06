//! Writing the pieces of a message straight into a byte buffer: numbers,
//! random identifiers, and JSON strings escaped the way each writer escapes
//! them (Python's `json.dumps`, Go's `encoding/json`, docker's json-file).
//!
//! Nothing here formats through `std::fmt`: a million lines must take well
//! under a second, and every message is built from these few calls.

use fastrand::Rng;

/// The characters of Kubernetes' generated name suffixes (no vowels, no
/// look-alikes).
pub(crate) const SUFFIX: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
pub(crate) const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const HEX: &[u8] = b"0123456789abcdef";

/// One of `items`, uniformly.
pub(crate) fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(..items.len())]
}

/// A reference to one of `items`, uniformly.
pub(crate) fn pick_ref<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// The two-digit numbers `00` to `99`, back to back.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The decimal digits of `n`, at the end of a 20-byte buffer, and where
/// they start.
fn digits(mut n: u64) -> ([u8; 20], usize) {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[n as usize * 2..n as usize * 2 + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    (buf, at)
}

pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    // Most numbers are short: copies of a known length are inlined.
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        push2(out, n as u32);
    } else if n < 10_000 {
        let (buf, _) = digits(n);
        if n < 1000 { out.extend_from_slice(&buf[17..]) } else { out.extend_from_slice(&buf[16..]) }
    } else {
        let (buf, at) = digits(n);
        out.extend_from_slice(&buf[at..]);
    }
}

/// `n` (below 100) as two digits.
pub(crate) fn push2(out: &mut Vec<u8>, n: u32) {
    let at = n as usize % 100 * 2;
    out.extend_from_slice(&PAIRS[at..at + 2]);
}

/// `n` (below 10^9) as exactly nine digits: a nanosecond fraction.
pub(crate) fn push9(out: &mut Vec<u8>, n: u32) {
    let pair = |k: u32| {
        let at = (k % 100) as usize * 2;
        [PAIRS[at], PAIRS[at + 1]]
    };
    let [a, b] = pair(n / 10_000_000);
    let [c, d] = pair(n / 100_000);
    let [e, f] = pair(n / 1000);
    let [g, h] = pair(n / 10);
    out.extend_from_slice(&[a, b, c, d, e, f, g, h, b'0' + (n % 10) as u8]);
}

/// `n`, padded on the left with `pad` to at least `width` characters.
pub(crate) fn push_padded(out: &mut Vec<u8>, n: u64, width: usize, pad: u8) {
    let (buf, at) = digits(n);
    for _ in buf.len() - at..width {
        out.push(pad);
    }
    out.extend_from_slice(&buf[at..]);
}

/// `n / 10^decimals` with exactly `decimals` digits after the point:
/// `push_fixed(out, 1163, 2)` writes `11.63`.
pub(crate) fn push_fixed(out: &mut Vec<u8>, n: u64, decimals: u32) {
    let unit = 10u64.pow(decimals);
    push_u64(out, n / unit);
    if decimals > 0 {
        out.push(b'.');
        push_padded(out, n % unit, decimals as usize, b'0');
    }
}

/// `n` characters drawn from `alphabet`.
pub(crate) fn push_random(out: &mut Vec<u8>, rng: &mut Rng, alphabet: &[u8], n: usize) {
    if alphabet.len() == 16 {
        // Sixteen characters: four bits each, sixteen from one number.
        let mut left = n;
        while left > 0 {
            let mut bits = rng.u64(..);
            for _ in 0..left.min(16) {
                out.push(alphabet[(bits & 0xf) as usize]);
                bits >>= 4;
            }
            left = left.saturating_sub(16);
        }
        return;
    }
    for _ in 0..n {
        out.push(alphabet[rng.usize(..alphabet.len())]);
    }
}

pub(crate) fn random_string(rng: &mut Rng, alphabet: &[u8], n: usize) -> String {
    let mut out = Vec::with_capacity(n);
    push_random(&mut out, rng, alphabet, n);
    String::from_utf8(out).expect("alphabets are ASCII")
}

/// A version 4 UUID: `7c1e9f02-4d7b-4b43-9a51-0d6bd1b0c5e2`.
pub(crate) fn push_uuid(out: &mut Vec<u8>, rng: &mut Rng) {
    push_random(out, rng, HEX, 8);
    out.push(b'-');
    push_random(out, rng, HEX, 4);
    out.extend_from_slice(b"-4");
    push_random(out, rng, HEX, 3);
    out.push(b'-');
    out.push(pick(rng, b"89ab"));
    push_random(out, rng, HEX, 3);
    out.push(b'-');
    push_random(out, rng, HEX, 12);
}

/// A pod IP with a port: `10.4.2.17:53630`.
pub(crate) fn push_pod_address(out: &mut Vec<u8>, rng: &mut Rng) {
    out.extend_from_slice(b"10.");
    push_u64(out, rng.u64(0..8));
    out.push(b'.');
    push_u64(out, rng.u64(0..16));
    out.push(b'.');
    push_u64(out, rng.u64(2..254));
    out.push(b':');
    push_u64(out, rng.u64(32768..61000));
}

/// Python's `json.dumps` of a string, quotes included: with
/// `ensure_ascii` (the default) every non-ASCII character becomes `\uXXXX`
/// (a surrogate pair above U+FFFF), lowercase hex; without it only `"`,
/// `\` and control characters are escaped. `s` must be UTF-8.
pub(crate) fn push_py_json(out: &mut Vec<u8>, s: &[u8], ensure_ascii: bool) {
    out.push(b'"');
    let table = if ensure_ascii { &PY_ASCII } else { &PY_UTF8 };
    escape(out, s, &[b'"', b'\\', 0x7f], false, table, |out, rest| {
        let b = rest[0];
        if b < 0x80 {
            push_short_escape(out, b);
            return 1;
        }
        let width = utf8_width(b).min(rest.len());
        let c = std::str::from_utf8(&rest[..width]).ok().and_then(|t| t.chars().next()).unwrap_or('\u{fffd}');
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            push_u_escape(out, *unit);
        }
        width
    });
    out.push(b'"');
}

/// The bytes `json.dumps` escapes with `ensure_ascii`: controls, `"`, `\\`,
/// DEL and every byte of a non-ASCII character.
static PY_ASCII: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b >= 0x7f || b == b'"' as usize || b == b'\\' as usize;
        b += 1;
    }
    t
};

/// The bytes `json.dumps` escapes without `ensure_ascii`.
static PY_UTF8: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize;
        b += 1;
    }
    t
};

/// The bytes of valid UTF-8 that Go's encoder may escape: controls, `"`,
/// `\\`, `<`, `>`, `&`, and the lead byte of U+2028 and U+2029.
static GO_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || matches!(b as u8, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xe2);
        b += 1;
    }
    t
};

/// Go's `encoding/json` of a string, quotes included, as zap, logrus and
/// the Tekton entrypoint write it: `<`, `>` and `&` become `\u003c`…,
/// U+2028 and U+2029 are escaped, and each invalid byte becomes `\ufffd`.
pub(crate) fn push_go_json(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    push_go_json_body(out, s);
    out.push(b'"');
}

/// [`push_go_json`] without the quotes: docker's json-file escapes its
/// `log` value this way (moby's `jsonlog`).
pub(crate) fn push_go_json_body(out: &mut Vec<u8>, s: &[u8]) {
    if std::str::from_utf8(s).is_ok() {
        return push_go_json_valid(out, s);
    }
    for chunk in s.utf8_chunks() {
        push_go_json_valid(out, chunk.valid().as_bytes());
        // Go replaces each invalid byte.
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
}

/// [`push_go_json_body`] of valid UTF-8, where only ASCII needs escapes,
/// and U+2028 and U+2029 (E2 80 A8 and E2 80 A9).
fn push_go_json_valid(out: &mut Vec<u8>, s: &[u8]) {
    escape(out, s, b"\"\\<>&", true, &GO_SPECIAL, |out, rest| match rest {
        [0xe2, 0x80, last @ (0xa8 | 0xa9), ..] => {
            push_u_escape(out, if *last == 0xa8 { 0x2028 } else { 0x2029 });
            3
        }
        [0xe2, ..] => {
            out.push(0xe2);
            1
        }
        [b @ (b'<' | b'>' | b'&'), ..] => {
            push_u_escape(out, (*b).into());
            1
        }
        _ => {
            push_short_escape(out, rest[0]);
            1
        }
    });
}

/// Copies `s` to `out`, eight bytes at a time up to a byte that may need
/// an escape, and hands each byte that `table` marks to `special`, which
/// writes its escape and returns how many bytes it took.
fn escape(
    out: &mut Vec<u8>,
    s: &[u8],
    specials: &[u8],
    separators: bool,
    table: &[bool; 256],
    mut special: impl FnMut(&mut Vec<u8>, &[u8]) -> usize,
) {
    let high = table[0x80];
    let mut at = 0;
    while let Some(chunk) = s.get(at..at + 8) {
        let chunk: [u8; 8] = chunk.try_into().expect("eight bytes");
        // Copy all eight (a copy of known length is a single move), then
        // keep those before the first byte that may need an escape.
        out.extend_from_slice(&chunk);
        match first_marked(u64::from_le_bytes(chunk), specials, high, separators) {
            None => at += 8,
            Some(k) => {
                out.truncate(out.len() - 8 + k);
                at += k;
                at += escape_one(out, &s[at..], table, &mut special);
            }
        }
    }
    while at < s.len() {
        at += escape_one(out, &s[at..], table, &mut special);
    }
}

/// The first byte of `rest`, escaped by `special` if `table` marks it.
#[inline(always)]
fn escape_one(
    out: &mut Vec<u8>,
    rest: &[u8],
    table: &[bool; 256],
    special: &mut impl FnMut(&mut Vec<u8>, &[u8]) -> usize,
) -> usize {
    if table[usize::from(rest[0])] {
        special(out, rest)
    } else {
        out.push(rest[0]);
        1
    }
}

/// The index of the first of the eight bytes in `v` (little endian) that
/// may be a control character or one of `specials`, or, if `high`, 0x80 or
/// more, or, if `separators`, the `E2 80` that starts U+2028 and U+2029.
/// It may be early (never late): the caller looks at that byte again.
#[inline]
fn first_marked(v: u64, specials: &[u8], high: bool, separators: bool) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut hit = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
    if high {
        hit |= v & HIGH;
    }
    for &b in specials {
        hit |= has_zero(v ^ (ONES * u64::from(b)));
    }
    if separators {
        // An E2 followed by 80, or an E2 in the last byte (its next byte
        // is in the next chunk).
        let followed_by_80 = has_zero((v >> 8) ^ (ONES * 0x80)) | 1 << 63;
        hit |= has_zero(v ^ (ONES * 0xe2)) & followed_by_80;
    }
    (hit != 0).then(|| hit.trailing_zeros() as usize / 8)
}

#[inline]
fn push_short_escape(out: &mut Vec<u8>, b: u8) {
    let letter = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => return push_u_escape(out, b.into()),
    };
    out.extend_from_slice(&[b'\\', letter]);
}

#[inline]
fn push_u_escape(out: &mut Vec<u8>, unit: u16) {
    let hex = |shift: u16| HEX[usize::from(unit >> shift & 0xf)];
    out.extend_from_slice(&[b'\\', b'u', hex(12), hex(8), hex(4), hex(0)]);
}

fn utf8_width(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(s: &str, ascii: bool) -> String {
        let mut out = Vec::new();
        push_py_json(&mut out, s.as_bytes(), ascii);
        String::from_utf8(out).unwrap()
    }

    fn go(s: &[u8]) -> String {
        let mut out = Vec::new();
        push_go_json(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn python_json_dumps() {
        assert_eq!(py("a \"b\" \\ \n\t\x1b[0m", true), r#""a \"b\" \\ \n\t\u001b[0m""#);
        assert_eq!(py("café 🚀", true), r#""caf\u00e9 \ud83d\ude80""#);
        assert_eq!(py("café 🚀", false), "\"café 🚀\"");
    }

    #[test]
    fn go_encoding_json() {
        assert_eq!(go(b"<a> & \"b\"\r\n"), r#""\u003ca\u003e \u0026 \"b\"\r\n""#);
        assert_eq!(go("x\u{2028}y é".as_bytes()), r#""x\u2028y é""#);
        assert_eq!(go(b"ok \xff\xe2\x82"), r#""ok \ufffd\ufffd\ufffd""#);
    }

    /// Go's encoder, one character at a time.
    fn go_naive(s: &[u8]) -> String {
        let mut out = String::from("\"");
        for chunk in s.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            for _ in chunk.invalid() {
                out.push_str("\\ufffd");
            }
        }
        out.push('"');
        out
    }

    /// `json.dumps` with `ensure_ascii`, one character at a time.
    fn py_naive(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                ' '..='~' => out.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn escapes_agree_with_one_character_at_a_time() {
        let pieces: [&[u8]; 14] = [
            b"a",
            b"plain text ",
            b"\"",
            b"\\",
            b"<",
            b">",
            b"&",
            b"\x1b",
            b"\r\n",
            "\u{2028}".as_bytes(),
            "\u{2029}".as_bytes(),
            "\u{2501}é🚀".as_bytes(),
            b"\xe2\x80",
            b"\xff",
        ];
        let mut rng = Rng::with_seed(3);
        for _ in 0..5000 {
            let mut s = Vec::new();
            for _ in 0..rng.usize(0..30) {
                s.extend_from_slice(pick(&mut rng, &pieces));
            }
            assert_eq!(go(&s), go_naive(&s), "{s:?}");
            let text = String::from_utf8_lossy(&s);
            assert_eq!(py(&text, true), py_naive(&text), "{text:?}");
        }
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        push_fixed(&mut out, 1163, 2);
        out.push(b' ');
        push_padded(&mut out, 7, 3, b'0');
        out.push(b' ');
        push9(&mut out, 5_000_001);
        out.push(b' ');
        push_fixed(&mut out, 5, 1);
        assert_eq!(out, b"11.63 007 005000001 0.5");
    }
}
