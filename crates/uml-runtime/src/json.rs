//! One-pass JSON scanning on borrowed bytes, for field pushdown.
//!
//! A rule that parses a JSON line usually reads a handful of its keys
//! (`levelname`, `message`, `exc_info`). The compiler records those keys in
//! the plan; [`scan_object`] then makes one pass over the line that validates
//! the whole object and notes where the value of each wanted key lies, and
//! nothing else: no tree is built, no string is unescaped, nothing is
//! allocated. Values are [`RawValue`]s, byte ranges into the input with a
//! kind and a few flags that tell the output writer whether a string can be
//! copied through as it is.
//!
//! What is accepted is JSON (RFC 8259) plus what Python's `json` module
//! writes: the bare numbers `NaN`, `Infinity` and `-Infinity`. Raw control
//! characters inside strings, which strict JSON forbids, are accepted too
//! and flagged ([`RawValue::CONTROL`]), because dropping a log line over them
//! would lose it; the writer escapes them. Nesting deeper than [`MAX_DEPTH`]
//! is an error, never a stack overflow: containers are skipped with an
//! explicit bit stack, not by recursion.

use std::fmt;
use wide::u8x16;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// The kind of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// A JSON value located in the input: `start..end` is its whole text,
/// quotes included for a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawValue {
    pub kind: JsonKind,
    pub start: u32,
    pub end: u32,
    /// [`Self::ESCAPED`], [`Self::UNICODE`], [`Self::SLASH`], [`Self::CONTROL`],
    /// [`Self::NONFINITE`].
    pub flags: u8,
}

impl RawValue {
    /// A string that contains a backslash escape.
    pub const ESCAPED: u8 = 1;
    /// A string that contains a `\u` escape (which may be a lone surrogate).
    pub const UNICODE: u8 = 2;
    /// A string that contains a raw control character (below U+0020).
    pub const CONTROL: u8 = 4;
    /// A number written as `NaN`, `Infinity` or `-Infinity`.
    pub const NONFINITE: u8 = 8;
    /// A string that contains the escape `\/`, which JSON writers need not
    /// use (`/` is written as it is).
    pub const SLASH: u8 = 16;

    pub fn text<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        &input[self.start as usize..self.end as usize]
    }

    /// For a string, the bytes between the quotes, escapes undecoded.
    pub fn string_body<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        debug_assert_eq!(self.kind, JsonKind::String);
        &input[self.start as usize + 1..self.end as usize - 1]
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Why JSON text was rejected, and where: the one vocabulary of JSON errors,
/// shared by this scanner and the compiler's reference evaluator, whose
/// messages (`parse_json`'s failure, an abort's drop reason) users see.
/// Displayed as `<what was wrong> at byte N`, `N` counting from 0 in the
/// text given to the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub offset: u32,
    pub kind: JsonErrorKind,
}

/// What was wrong; each variant says where its offset points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The text is valid up to here but is not an object (at the value).
    NotAnObject,
    /// A byte that cannot start or continue the JSON here (at the byte; for
    /// a misspelt `true`, `false`, `null`, `NaN`, `Infinity` or
    /// `-Infinity`, at its first byte).
    UnexpectedByte,
    /// The text ended inside a value (at the end of the text).
    UnexpectedEnd,
    /// An array or object nested deeper than [`MAX_DEPTH`] (at its opening
    /// bracket).
    TooDeep,
    /// A backslash not followed by `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`
    /// or `u` and four hex digits (at the backslash).
    InvalidEscape,
    /// A `-` without digits, or a `.`, `e` or `E` without digits after it
    /// (at the number's first byte).
    InvalidNumber,
}

impl JsonError {
    /// What was wrong, without where.
    pub fn what(&self) -> &'static str {
        match self.kind {
            JsonErrorKind::NotAnObject => "not a JSON object",
            JsonErrorKind::UnexpectedByte => "unexpected character",
            JsonErrorKind::UnexpectedEnd => "unexpected end of input",
            JsonErrorKind::TooDeep => TOO_DEEP,
            JsonErrorKind::InvalidEscape => "invalid escape in string",
            JsonErrorKind::InvalidNumber => "invalid number",
        }
    }

    /// Appends the message, as [`fmt::Display`] writes it, without the
    /// formatting machinery: a line that is not JSON fails this way, and
    /// rules often parse every line to find out.
    pub fn write_message(&self, out: &mut String) {
        out.push_str(self.what());
        out.push_str(" at byte ");
        crate::stdlib::number::format_int(i64::from(self.offset), out);
    }
}

/// [`JsonErrorKind::TooDeep`]'s message.
const TOO_DEEP: &str = "arrays and objects nested deeper than 128";
const _: () = assert!(MAX_DEPTH == 128, "TOO_DEEP names the limit");

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what(), self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Scans `input`, which must be exactly one JSON object with optional
/// surrounding whitespace, validating all of it. For each `keys[i]`, `found[i]`
/// is set to the value of the last member with that key (as Python and
/// serde_json keep the last of duplicate keys), or `None`.
///
/// `found` must be at least as long as `keys`. Returns the object itself.
pub fn scan_object<K: WantedKeys + ?Sized>(
    input: &[u8],
    keys: &K,
    found: &mut [Option<RawValue>],
) -> Result<RawValue, JsonError> {
    debug_assert!(found.len() >= keys.count());
    found[..keys.count()].fill(None);
    scan_object_with(input, keys, |i, value| found[i] = Some(value))
}

/// [`scan_object`] for at most 64 keys, which says which were present
/// instead of clearing `found` first: bit `i` of the mask is set when
/// `found[i]` holds the `i`th key's value; the other places are left as
/// they were. For the executor, which writes the absent keys' slots in bulk.
pub fn scan_object_present<K: WantedKeys + ?Sized>(
    input: &[u8],
    keys: &K,
    found: &mut [Option<RawValue>],
) -> Result<(RawValue, u64), JsonError> {
    assert!(keys.count() <= 64 && found.len() >= keys.count(), "at most 64 keys, with a place each");
    let mut present = 0u64;
    let object = scan_object_with(input, keys, |i, value| {
        found[i] = Some(value);
        present |= 1 << i;
    })?;
    Ok((object, present))
}

/// The scan of [`scan_object`], calling `wanted(i, value)` for each member
/// whose key is the `i`th wanted one, in order.
#[inline(always)]
fn scan_object_with<K: WantedKeys + ?Sized>(
    input: &[u8],
    keys: &K,
    mut wanted: impl FnMut(usize, RawValue),
) -> Result<RawValue, JsonError> {
    let mut s = Scanner::new(input, 0);
    s.skip_ws();
    let start = s.pos;
    if s.peek() != Some(b'{') {
        // Tell "not JSON at all" from "JSON, but not an object".
        let kind = match s.peek() {
            Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => JsonErrorKind::NotAnObject,
            None => JsonErrorKind::UnexpectedEnd,
            _ => JsonErrorKind::UnexpectedByte,
        };
        return Err(s.error(kind));
    }
    s.pos += 1;
    s.skip_ws();
    if s.peek() == Some(b'}') {
        s.pos += 1;
    } else {
        loop {
            let key = s.string()?;
            s.skip_ws();
            s.expect(b':')?;
            s.skip_ws();
            // Most values of a log line are strings: their scan inline.
            let value = if s.peek() == Some(b'"') { s.string()? } else { s.value(1)? };
            if let Some(i) = find_key(keys, key, input) {
                wanted(i, value);
            }
            s.skip_ws();
            match s.next_byte()? {
                b',' => s.skip_ws(),
                b'}' => break,
                _ => return Err(s.error_before(JsonErrorKind::UnexpectedByte)),
            }
        }
    }
    let end = s.pos;
    s.skip_ws();
    if s.pos != input.len() {
        return Err(s.error(JsonErrorKind::UnexpectedByte));
    }
    Ok(RawValue { kind: JsonKind::Object, start: start as u32, end: end as u32, flags: 0 })
}

/// Looks up `key` in an object that [`scan_object`] (or an enclosing scan)
/// already validated. Returns the last member's value, or `None`.
pub fn get_member(input: &[u8], object: RawValue, key: &[u8]) -> Option<RawValue> {
    let mut found = None;
    for_each_member(input, object, |k, v| {
        if find_key(&[key], k, input).is_some() {
            found = Some(v);
        }
        true
    });
    found
}

/// The element at `index` of a validated array; a negative index counts
/// from the end.
pub fn get_element(input: &[u8], array: RawValue, index: i64) -> Option<RawValue> {
    if array.kind != JsonKind::Array {
        return None;
    }
    let text = array.text(input);
    let mut s = Scanner::new(text, 1);
    let mut elements = 0usize;
    let mut wanted = usize::try_from(index).ok();
    let mut hit = None;
    // A negative index needs the length first; arrays in log lines are
    // short, so two passes are fine.
    if index < 0 {
        let len = array_len(text)?;
        wanted = len.checked_sub(index.unsigned_abs() as usize);
    }
    let wanted = wanted?;
    s.skip_ws();
    if s.peek() == Some(b']') {
        return None;
    }
    loop {
        let v = s.skip_valid().ok()?;
        if elements == wanted {
            hit = Some(v.offset(array.start));
            break;
        }
        elements += 1;
        s.skip_ws();
        match s.next_byte().ok()? {
            b',' => s.skip_ws(),
            _ => break,
        }
    }
    hit
}

fn array_len(text: &[u8]) -> Option<usize> {
    let mut s = Scanner::new(text, 1);
    s.skip_ws();
    if s.peek() == Some(b']') {
        return Some(0);
    }
    let mut n = 0;
    loop {
        s.skip_valid().ok()?;
        n += 1;
        s.skip_ws();
        match s.next_byte().ok()? {
            b',' => s.skip_ws(),
            _ => return Some(n),
        }
    }
}

/// Calls `f(key, value)` for each member of an object that a scan already
/// validated, in order (duplicate keys included). `key` is the raw key
/// string (quotes included). Stops early when `f` returns `false`.
pub fn for_each_member(input: &[u8], object: RawValue, mut f: impl FnMut(RawValue, RawValue) -> bool) {
    if object.kind != JsonKind::Object {
        return;
    }
    let text = object.text(input);
    let mut s = Scanner::new(text, 1);
    s.skip_ws();
    if s.peek() == Some(b'}') {
        return;
    }
    loop {
        let Ok(key) = s.string() else { return };
        s.skip_ws();
        if s.expect(b':').is_err() {
            return;
        }
        s.skip_ws();
        let Ok(value) = s.skip_valid() else { return };
        if !f(key.offset(object.start), value.offset(object.start)) {
            return;
        }
        s.skip_ws();
        match s.next_byte() {
            Ok(b',') => s.skip_ws(),
            _ => return,
        }
    }
}

/// Calls `f(element)` for each element of an array that a scan already
/// validated, in order. Stops early when `f` returns `false`.
pub fn for_each_element(input: &[u8], array: RawValue, mut f: impl FnMut(RawValue) -> bool) {
    if array.kind != JsonKind::Array {
        return;
    }
    let text = array.text(input);
    let mut s = Scanner::new(text, 1);
    s.skip_ws();
    if s.peek() == Some(b']') {
        return;
    }
    loop {
        let Ok(v) = s.skip_valid() else { return };
        if !f(v.offset(array.start)) {
            return;
        }
        s.skip_ws();
        match s.next_byte() {
            Ok(b',') => s.skip_ws(),
            _ => return,
        }
    }
}

/// Validates `input` as one JSON value of any kind (with optional
/// surrounding whitespace) and returns it.
pub fn scan_value(input: &[u8]) -> Result<RawValue, JsonError> {
    let mut s = Scanner::new(input, 0);
    s.skip_ws();
    let v = s.value(0)?;
    s.skip_ws();
    if s.pos != input.len() {
        return Err(s.error(JsonErrorKind::UnexpectedByte));
    }
    Ok(v)
}

impl RawValue {
    fn offset(self, by: u32) -> RawValue {
        RawValue { start: self.start + by, end: self.end + by, ..self }
    }
}

#[inline(always)]
fn find_key<K: WantedKeys + ?Sized>(keys: &K, raw_key: RawValue, input: &[u8]) -> Option<usize> {
    if keys.count() == 0 {
        return None;
    }
    let body = raw_key.string_body(input);
    if !raw_key.has(RawValue::ESCAPED) {
        return keys.find(body);
    }
    // An escaped key (`"mess\u0061ge"`) is decoded into a small stack
    // buffer; a key longer than it cannot be one of the (short) wanted keys.
    let mut buf = [0u8; 64];
    let mut len = 0;
    let mut ok = true;
    decode_string(body, |chunk| {
        if len + chunk.len() > buf.len() {
            ok = false;
        } else {
            buf[len..len + chunk.len()].copy_from_slice(chunk);
            len += chunk.len();
        }
    });
    if !ok {
        return None;
    }
    keys.find(&buf[..len])
}

/// The keys a scan looks for ([`scan_object`]): which of them a member's
/// (decoded) key is.
pub trait WantedKeys {
    /// How many keys there are; `found` has a place for each.
    fn count(&self) -> usize;
    /// The position of `key` among them.
    fn find(&self, key: &[u8]) -> Option<usize>;
}

/// A few keys, compared in turn.
impl<K: AsRef<[u8]>> WantedKeys for [K] {
    fn count(&self) -> usize {
        self.len()
    }

    fn find(&self, key: &[u8]) -> Option<usize> {
        self.iter().position(|k| same_bytes(k.as_ref(), key))
    }
}

impl<K: AsRef<[u8]>> WantedKeys for Vec<K> {
    fn count(&self) -> usize {
        self.len()
    }

    fn find(&self, key: &[u8]) -> Option<usize> {
        self[..].find(key)
    }
}

impl<K: AsRef<[u8]>, const N: usize> WantedKeys for [K; N] {
    fn count(&self) -> usize {
        N
    }

    fn find(&self, key: &[u8]) -> Option<usize> {
        self[..].find(key)
    }
}

/// Many keys (the fields a rule reads from a `parse_json` object, 28 for
/// the model container's), indexed by length and last byte: a member's key
/// is compared with the one or two wanted keys in its bucket, where a list
/// takes a comparison per wanted key. Built once, with the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySet {
    keys: Vec<Box<str>>,
    /// The wanted keys of bucket `b` are `order[starts[b]..starts[b + 1]]`.
    starts: Box<[u16; BUCKETS + 1]>,
    order: Vec<u16>,
}

const BUCKETS: usize = 64;

impl KeySet {
    pub fn new(keys: impl IntoIterator<Item = impl Into<Box<str>>>) -> KeySet {
        let keys: Vec<Box<str>> = keys.into_iter().map(Into::into).collect();
        let mut order: Vec<u16> = (0..keys.len().min(usize::from(u16::MAX)) as u16).collect();
        order.sort_by_key(|&i| Self::bucket(keys[usize::from(i)].as_bytes()));
        let mut starts = Box::new([0u16; BUCKETS + 1]);
        for (b, start) in starts.iter_mut().enumerate() {
            *start = order.iter().take_while(|&&i| Self::bucket(keys[usize::from(i)].as_bytes()) < b).count() as u16;
        }
        KeySet { keys, starts, order }
    }

    #[inline]
    fn bucket(key: &[u8]) -> usize {
        let last = key.last().copied().unwrap_or(0);
        (key.len().wrapping_mul(7) ^ usize::from(last)) % BUCKETS
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in the order of their positions.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| &**k)
    }
}

impl WantedKeys for KeySet {
    fn count(&self) -> usize {
        self.keys.len()
    }

    #[inline(always)]
    fn find(&self, key: &[u8]) -> Option<usize> {
        let b = Self::bucket(key);
        let (from, to) = (usize::from(self.starts[b]), usize::from(self.starts[b + 1]));
        let candidates = self.order.get(from..to)?;
        candidates.iter().map(|&i| usize::from(i)).find(|&i| same_bytes(self.keys[i].as_bytes(), key))
    }
}

/// `a == b`, for the short keys of a JSON object without a call to
/// `memcmp`: the lengths first, then two loads that overlap when the length
/// is not a whole number of words (`levelname`: bytes 0..8 and 1..9).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("four bytes"));
    match n {
        0..4 => a == b,
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Decodes a validated JSON string body (between the quotes), passing the
/// UTF-8 output to `out` in chunks. Lone surrogate escapes become U+FFFD.
pub fn decode_string(body: &[u8], mut out: impl FnMut(&[u8])) {
    let mut run = 0;
    while let Some(off) = memchr::memchr(b'\\', &body[run..]) {
        let at = run + off;
        out(&body[run..at]);
        let (c, used) = unescape(&body[at..]);
        out(c.encode_utf8(&mut [0; 4]).as_bytes());
        run = at + used;
    }
    out(&body[run.min(body.len())..]);
}

/// [`decode_string`] for a body in a `str`, appended to `out`: the runs
/// between escapes (cut at an ASCII `\\`) are `str`s themselves, so nothing
/// is validated again.
pub fn decode_str(body: &str, out: &mut String) {
    out.reserve(body.len());
    let bytes = body.as_bytes();
    let mut run = 0;
    while let Some(off) = memchr::memchr(b'\\', &bytes[run..]) {
        let at = run + off;
        out.push_str(&body[run..at]);
        let (c, used) = unescape(&bytes[at..]);
        out.push(c);
        run = at + used;
    }
    out.push_str(body.get(run..).unwrap_or(""));
}

/// The character of the escape at the start of `s` (which starts with `\\`)
/// and the bytes it takes: two, or six (twelve for a surrogate pair) for
/// `\\u`. A malformed escape, which a validated body cannot hold, takes two
/// bytes and decodes to itself or U+FFFD.
#[inline]
fn unescape(s: &[u8]) -> (char, usize) {
    let simple = match s.get(1).copied().unwrap_or(b'\\') {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return decode_unicode_escape(s),
    };
    (simple, 2)
}

/// Decodes `\uXXXX` (and a following low surrogate `\uXXXX` if the first is a
/// high one) at the start of `s`. Returns the character and the bytes used;
/// a lone or malformed surrogate decodes to U+FFFD.
pub fn decode_unicode_escape(s: &[u8]) -> (char, usize) {
    let Some(hi) = hex4(s.get(2..6)) else { return ('\u{FFFD}', 2) };
    match hi {
        0xD800..=0xDBFF => {
            if s.get(6) == Some(&b'\\')
                && s.get(7) == Some(&b'u')
                && let Some(lo @ 0xDC00..=0xDFFF) = hex4(s.get(8..12))
            {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return (char::from_u32(c).unwrap_or('\u{FFFD}'), 12);
            }
            ('\u{FFFD}', 6)
        }
        0xDC00..=0xDFFF => ('\u{FFFD}', 6),
        c => (char::from_u32(c).unwrap_or('\u{FFFD}'), 6),
    }
}

fn hex4(s: Option<&[u8]>) -> Option<u32> {
    let s = s?;
    let mut v = 0u32;
    for &b in s {
        v = v * 16 + (b as char).to_digit(16)?;
    }
    Some(v)
}

fn error_at(offset: usize, kind: JsonErrorKind) -> JsonError {
    JsonError { offset: offset as u32, kind }
}

struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    /// The offset of the 64-byte block of `input` that `specials` indexes
    /// (a multiple of 64; `usize::MAX` before the first).
    block: usize,
    /// One bit per byte of that block: set for `"`, `\\` and bytes below
    /// 0x20, the bytes a string's scan stops at ([`special_block`]).
    specials: u64,
}

/// A stack of container kinds, one bit per level (set: object).
struct Nesting {
    bits: [u64; MAX_DEPTH / 64],
    depth: usize,
}

impl Nesting {
    fn push(&mut self, object: bool) -> bool {
        if self.depth == MAX_DEPTH {
            return false;
        }
        let (word, bit) = (self.depth / 64, self.depth % 64);
        if object {
            self.bits[word] |= 1 << bit;
        } else {
            self.bits[word] &= !(1 << bit);
        }
        self.depth += 1;
        true
    }

    fn top_is_object(&self) -> bool {
        let d = self.depth - 1;
        self.bits[d / 64] & (1 << (d % 64)) != 0
    }
}

const fn repeat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The bits of `x` whose byte is `"`, `\\` or below 0x20 (SWAR: eight
/// bytes per step), one bit (0x80) per byte. Not exact byte by byte: a
/// borrow can flag a byte just above a special one. Its lowest set bit is
/// exact, so the mask is exact as a boolean (nonzero when some byte is
/// special) and, on a word read
/// little-endian, `trailing_zeros() / 8` is the index of the first special
/// byte. For [`find_special`], which the JSON string copier uses between
/// escapes; the scanner and the escaping loop compare sixteen bytes at a
/// time ([`special_chunk`]).
#[inline(always)]
pub(crate) fn special_mask(x: u64) -> u64 {
    const LO: u64 = repeat(0x01);
    const HI: u64 = repeat(0x80);
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(repeat(0x20)) & !x & HI;
    has_zero(x ^ repeat(b'"')) | has_zero(x ^ repeat(b'\\')) | below_space
}

/// The index of the first byte at or after `from` that is `"`, `\\` or
/// below 0x20: eight bytes per step, then the tail one by one.
#[inline(always)]
pub(crate) fn find_special(b: &[u8], mut from: usize) -> Option<usize> {
    while let Some(w) = b.get(from..from + 8) {
        let mask = special_mask(u64::from_le_bytes(w.try_into().expect("eight bytes")));
        if mask != 0 {
            return Some(from + mask.trailing_zeros() as usize / 8);
        }
        from += 8;
    }
    let tail = b.get(from..)?;
    tail.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|i| from + i)
}

/// The bits of `chunk` whose byte is `"`, `\\` or below 0x20, one per
/// byte, from three 16-byte vector compares (SSE2 on x86-64, NEON on
/// aarch64, scalar elsewhere, through `wide`).
#[inline(always)]
pub(crate) fn special_chunk(chunk: [u8; 16]) -> u64 {
    let v = u8x16::new(chunk);
    let control = v.min(u8x16::splat(0x1f)).cmp_eq(v);
    let special = v.cmp_eq(u8x16::splat(b'"')) | v.cmp_eq(u8x16::splat(b'\\')) | control;
    u64::from(special.move_mask() as u16)
}

/// The special bytes (as [`special_chunk`]) of the 64 bytes of `input` from
/// `start` on, or of the fewer left before its end, one bit per byte.
///
/// The scanner indexes a line a block at a time, as it reaches it, instead
/// of looking for the end of each string on its own: a JSON log line's
/// strings are short, and finding the next special byte is then a shift
/// and a count of trailing zeros. The index of one block at a time keeps
/// the memory fixed whatever the line's length.
fn special_block(input: &[u8], start: usize) -> u64 {
    let end = input.len().min(start.saturating_add(64));
    let mut bits = 0;
    let mut at = start;
    while let Some(chunk) = input.get(at..at + 16).filter(|_| at + 16 <= end) {
        bits |= special_chunk(chunk.try_into().expect("sixteen bytes")) << (at - start);
        at += 16;
    }
    if at < end {
        // The last bytes, padded with spaces, which are not special.
        let mut chunk = [b' '; 16];
        chunk[..end - at].copy_from_slice(&input[at..end]);
        bits |= special_chunk(chunk) << (at - start);
    }
    bits
}

impl<'a> Scanner<'a> {
    fn new(input: &'a [u8], pos: usize) -> Scanner<'a> {
        Scanner { input, pos, block: usize::MAX, specials: 0 }
    }

    /// The index of the first byte at or after `from` that is `"`, `\\` or
    /// below 0x20, from the block index.
    #[inline]
    fn next_special(&mut self, from: usize) -> Option<usize> {
        let mut block = from & !63;
        let mut skip = from & 63;
        while block < self.input.len() {
            if block != self.block {
                self.block = block;
                self.specials = special_block(self.input, block);
            }
            let bits = self.specials >> skip;
            if bits != 0 {
                return Some(block + skip + bits.trailing_zeros() as usize);
            }
            block += 64;
            skip = 0;
        }
        None
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn error(&self, kind: JsonErrorKind) -> JsonError {
        error_at(self.pos, kind)
    }

    fn error_before(&self, kind: JsonErrorKind) -> JsonError {
        error_at(self.pos.saturating_sub(1), kind)
    }

    fn next_byte(&mut self) -> Result<u8, JsonError> {
        let b = self.peek().ok_or_else(|| self.error(JsonErrorKind::UnexpectedEnd))?;
        self.pos += 1;
        Ok(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        match self.peek() {
            Some(x) if x == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(JsonErrorKind::UnexpectedByte)),
            None => Err(self.error(JsonErrorKind::UnexpectedEnd)),
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// A string starting at the current `"`. Most strings of a log line
    /// end at the first special byte after the quote; the rest (escapes,
    /// control characters, errors) go through [`Self::string_rest`].
    #[inline(always)]
    fn string(&mut self) -> Result<RawValue, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'"')
            && let Some(end) = self.next_special(start + 1).filter(|&end| self.input[end] == b'"')
        {
            self.pos = end + 1;
            return Ok(RawValue { kind: JsonKind::String, start: start as u32, end: self.pos as u32, flags: 0 });
        }
        self.string_rest(start)
    }

    /// [`Self::string`], byte by special byte, from the `"` at `start`.
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Result<RawValue, JsonError> {
        self.pos = start;
        self.expect(b'"')?;
        let mut flags = 0;
        let input = self.input;
        loop {
            // Straight to the next byte that is not plain text.
            self.pos = self.next_special(self.pos).unwrap_or(input.len());
            let b = self.next_byte()?;
            match b {
                b'"' => {
                    return Ok(RawValue { kind: JsonKind::String, start: start as u32, end: self.pos as u32, flags });
                }
                b'\\' => {
                    let backslash = self.pos - 1;
                    flags |= RawValue::ESCAPED;
                    match self.next_byte()? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'/' => flags |= RawValue::SLASH,
                        b'u' => {
                            flags |= RawValue::UNICODE;
                            let digits = input.get(self.pos..self.pos + 4);
                            if hex4(digits).is_none() {
                                return Err(error_at(backslash, JsonErrorKind::InvalidEscape));
                            }
                            self.pos += 4;
                        }
                        _ => return Err(error_at(backslash, JsonErrorKind::InvalidEscape)),
                    }
                }
                0x00..=0x1f => flags |= RawValue::CONTROL,
                _ => {}
            }
        }
    }

    fn literal(&mut self, word: &[u8], kind: JsonKind, flags: u8) -> Result<RawValue, JsonError> {
        let start = self.pos;
        if self.input.get(start..start + word.len()) != Some(word) {
            return Err(self.error(JsonErrorKind::UnexpectedByte));
        }
        self.pos += word.len();
        Ok(RawValue { kind, start: start as u32, end: self.pos as u32, flags })
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<RawValue, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if self.peek() == Some(b'I') {
                self.pos = start;
                return self.literal(b"-Infinity", JsonKind::Number, RawValue::NONFINITE);
            }
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(error_at(start, JsonErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(error_at(start, JsonErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(error_at(start, JsonErrorKind::InvalidNumber));
            }
        }
        Ok(RawValue { kind: JsonKind::Number, start: start as u32, end: self.pos as u32, flags: 0 })
    }

    /// Skips the value at the current position of text that was validated
    /// already (by a scan, or written by the executor itself, whose object
    /// and array literals may nest a parsed value deeper than the scan's
    /// limit): a container by counting its brackets outside strings, with no
    /// depth limit, since nothing recurses.
    fn skip_valid(&mut self) -> Result<RawValue, JsonError> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => JsonKind::Object,
            Some(b'[') => JsonKind::Array,
            _ => return self.value(0),
        };
        let mut open = 0usize;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'{' | b'[') => {
                    open += 1;
                    self.pos += 1;
                }
                Some(b'}' | b']') => {
                    open -= 1;
                    self.pos += 1;
                    if open == 0 {
                        return Ok(RawValue { kind, start: start as u32, end: self.pos as u32, flags: 0 });
                    }
                }
                Some(_) => self.pos += 1,
                None => return Err(self.error(JsonErrorKind::UnexpectedEnd)),
            }
        }
    }

    /// Any value at the current position; `depth` is the nesting it sits in.
    fn value(&mut self, depth: usize) -> Result<RawValue, JsonError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{') | Some(b'[') => self.container(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", JsonKind::Bool, 0),
            Some(b'f') => self.literal(b"false", JsonKind::Bool, 0),
            Some(b'n') => self.literal(b"null", JsonKind::Null, 0),
            Some(b'N') => self.literal(b"NaN", JsonKind::Number, RawValue::NONFINITE),
            Some(b'I') => self.literal(b"Infinity", JsonKind::Number, RawValue::NONFINITE),
            Some(_) => Err(self.error(JsonErrorKind::UnexpectedByte)),
            None => Err(self.error(JsonErrorKind::UnexpectedEnd)),
        }
    }

    /// Skips (validating) the array or object that starts here, without
    /// recursion.
    fn container(&mut self, depth: usize) -> Result<RawValue, JsonError> {
        let start = self.pos;
        let kind = if self.input[start] == b'{' { JsonKind::Object } else { JsonKind::Array };
        let mut nesting = Nesting { bits: [0; MAX_DEPTH / 64], depth: 0 };
        // Levels already used by the enclosing containers count too.
        nesting.depth = depth.min(MAX_DEPTH);
        let open = |s: &mut Self, nesting: &mut Nesting| -> Result<(), JsonError> {
            let object = s.input[s.pos] == b'{';
            if !nesting.push(object) {
                return Err(s.error(JsonErrorKind::TooDeep));
            }
            s.pos += 1;
            Ok(())
        };
        open(self, &mut nesting)?;
        // After an opening bracket: a first member or element, or the close.
        let mut first = true;
        loop {
            self.skip_ws();
            let object = nesting.top_is_object();
            let close = if object { b'}' } else { b']' };
            if first && self.peek() == Some(close) {
                self.pos += 1;
                nesting.depth -= 1;
            } else {
                if object {
                    self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    self.skip_ws();
                }
                match self.peek() {
                    Some(b'{' | b'[') => {
                        open(self, &mut nesting)?;
                        first = true;
                        continue;
                    }
                    _ => {
                        self.value(nesting.depth)?;
                    }
                }
            }
            // After a value or a closed container: `,` or the close, which may
            // end several levels at once.
            loop {
                if nesting.depth == depth.min(MAX_DEPTH) {
                    return Ok(RawValue { kind, start: start as u32, end: self.pos as u32, flags: 0 });
                }
                self.skip_ws();
                let close = if nesting.top_is_object() { b'}' } else { b']' };
                match self.next_byte()? {
                    b',' => {
                        first = false;
                        break;
                    }
                    b if b == close => nesting.depth -= 1,
                    _ => return Err(self.error_before(JsonErrorKind::UnexpectedByte)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scanner;
    use proptest::prelude::*;

    fn special(b: u8) -> bool {
        b == b'"' || b == b'\\' || b < 0x20
    }

    proptest! {
        /// The block index finds the first special byte at or after any
        /// position, across 16- and 64-byte boundaries, in any order of
        /// lookups (the block it keeps is replaced as needed), and nothing
        /// past the end.
        #[test]
        fn next_special_is_the_first_special_byte(
            bytes in prop::collection::vec(prop_oneof![4 => 0x20u8..0x7f, 1 => any::<u8>()], 0..300),
            froms in prop::collection::vec(0usize..320, 1..12),
        ) {
            let mut scanner = Scanner::new(&bytes, 0);
            for from in froms {
                let want = bytes.iter().skip(from).position(|&b| special(b)).map(|i| from + i);
                prop_assert_eq!(scanner.next_special(from), want, "from {}", from);
            }
        }

        /// The overlapping-load comparison of keys is `==`, at every length
        /// around its word sizes.
        #[test]
        fn same_bytes_is_equality(a in prop::collection::vec(0u8..4, 0..20), flip in any::<prop::sample::Index>()) {
            prop_assert!(super::same_bytes(&a, &a.clone()));
            let mut b = a.clone();
            if !b.is_empty() {
                let i = flip.index(b.len());
                b[i] ^= 1;
            }
            prop_assert_eq!(super::same_bytes(&a, &b), a == b);
            prop_assert_eq!(super::same_bytes(&a, &a[..a.len() / 2]), a.is_empty());
        }
    }
}

/// Whether two member keys of validated JSON name the same member: their
/// bodies compared decoded.
pub fn same_key(bytes: &[u8], a: RawValue, b: RawValue) -> bool {
    if !a.has(RawValue::ESCAPED) && !b.has(RawValue::ESCAPED) {
        return a.string_body(bytes) == b.string_body(bytes);
    }
    let (mut x, mut y) = (String::new(), String::new());
    decode_lossy(&mut x, a.string_body(bytes));
    decode_lossy(&mut y, b.string_body(bytes));
    x == y
}

/// Decodes a string body; a body that is not UTF-8 decodes to U+FFFD.
fn decode_lossy(out: &mut String, body: &[u8]) {
    match std::str::from_utf8(body) {
        Ok(body) => decode_str(body, out),
        Err(_) => out.push('\u{FFFD}'),
    }
}

/// Appends the validated JSON value `raw` of `bytes` in the language's
/// compact form (`encode_json`, composite payload fields): no whitespace,
/// members in first-seen order with a repeated key keeping its last value,
/// strings decoded and escaped again, numbers in the language's formatting
/// (a number too large for a float, such as `1e400`, is kept as a string
/// of its text). Recursion is bounded by the scan's [`MAX_DEPTH`].
pub fn write_compact(bytes: &[u8], raw: RawValue, out: &mut String) {
    use crate::stdlib::json_string::push_json_str;
    use crate::stdlib::number;
    match raw.kind {
        JsonKind::Null => out.push_str("null"),
        JsonKind::Bool => out.push_str(if bytes.get(raw.start as usize) == Some(&b't') { "true" } else { "false" }),
        JsonKind::String => push_json_decoded(out, raw.string_body(bytes)),
        JsonKind::Number => {
            let text = std::str::from_utf8(raw.text(bytes)).unwrap_or("");
            match number_value(text, raw) {
                Number::Int(i) => number::format_int(i, out),
                Number::Float(f) => number::format_float(f, out),
                Number::Text => push_json_str(out, text),
            }
        }
        JsonKind::Array => {
            out.push('[');
            let mut first = true;
            for_each_element(bytes, raw, |el| {
                if !first {
                    out.push(',');
                }
                first = false;
                write_compact(bytes, el, out);
                true
            });
            out.push(']');
        }
        JsonKind::Object => {
            out.push('{');
            let mut first = true;
            for_each_member(bytes, raw, |key, _| {
                if first_occurrence(bytes, raw, key) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    push_json_decoded(out, key.string_body(bytes));
                    out.push(':');
                    write_compact(bytes, last_value(bytes, raw, key), out);
                }
                true
            });
            out.push('}');
        }
    }
}

/// A JSON number as the language reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Not finite as a float (`1e400`): kept as its text, a string.
    Text,
}

/// How the language reads the number `text` (the text of `raw`): an int
/// when it has no fraction or exponent and fits, else a finite float, else
/// its text.
pub fn number_value(text: &str, raw: RawValue) -> Number {
    if raw.has(RawValue::NONFINITE) {
        return Number::Text;
    }
    if !text.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'))
        && let Ok(i) = text.parse::<i64>()
    {
        return Number::Int(i);
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Number::Float(f),
        _ => Number::Text,
    }
}

/// Appends a JSON string body decoded and escaped again, with its quotes.
pub fn push_json_decoded(out: &mut String, body: &[u8]) {
    use crate::stdlib::json_string::push_json_body;
    out.push('"');
    decode_string(body, |chunk| match std::str::from_utf8(chunk) {
        Ok(s) => push_json_body(out, s),
        Err(_) => out.push('\u{FFFD}'),
    });
    out.push('"');
}

/// Whether `key` is the first member of `object` with its name.
pub fn first_occurrence(bytes: &[u8], object: RawValue, key: RawValue) -> bool {
    let mut first = true;
    for_each_member(bytes, object, |k, _| {
        if k.start >= key.start {
            return false;
        }
        first &= !same_key(bytes, k, key);
        first
    });
    first
}

/// The value of the last member of `object` named as `key`.
pub fn last_value(bytes: &[u8], object: RawValue, key: RawValue) -> RawValue {
    let mut found = RawValue { kind: JsonKind::Null, start: 0, end: 0, flags: 0 };
    for_each_member(bytes, object, |k, v| {
        if same_key(bytes, k, key) {
            found = v;
        }
        true
    });
    found
}

/// The number of distinct member names of a validated object (a repeated
/// key counts once), or of elements of an array.
pub fn container_len(bytes: &[u8], raw: RawValue) -> usize {
    let mut n = 0;
    match raw.kind {
        JsonKind::Array => for_each_element(bytes, raw, |_| {
            n += 1;
            true
        }),
        _ => for_each_member(bytes, raw, |key, _| {
            n += usize::from(first_occurrence(bytes, raw, key));
            true
        }),
    }
    n
}
