//! The body of a Loki push request (`POST /loki/api/v1/push`).
//!
//! Loki takes a `PushRequest` protobuf (its `pkg/push/push.proto`) compressed
//! with snappy's block format, or the same request as JSON. The agent sends
//! protobuf: it is smaller on the wire and cheaper for Loki to decode. The
//! JSON form ([`Batch::encode_json`]) is there for proxies and debugging.
//!
//! Every record the agent ships goes through [`Batch::push`] and
//! [`Batch::encode`], so the protobuf is written by hand instead of through
//! message structs: [`Batch::push`] appends the entry's complete `entries`
//! field (head and line) to its stream's buffer and keeps the running size of
//! the request, and [`Batch::encode`] writes each stream's head and copies its
//! buffer in one piece. Once a batch's buffers have grown to their working
//! size, neither allocates per entry. The hand encoding is byte for byte what
//! `prost` makes of the derived messages in [`proto`]; the tests prove it.
//!
//! A request groups its entries into streams by their labels string, a
//! PromQL selector such as `{job="fluent-bit", namespace="ns"}`
//! ([`promql_labels`] writes one). Streams keep the order in which they first
//! appeared and entries keep their order within their stream: Loki accepts an
//! entry older than its stream's newest only within its out-of-order window,
//! so the agent must never reorder a stream's entries.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use prost::encoding::{WireType, encode_varint, encoded_len_varint};
use uml::runtime::stdlib::json_string::{write_json_string, write_json_string_body};

/// Nanoseconds in a second, for splitting a timestamp into a protobuf `Timestamp`.
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Up to this many streams, a labels string is looked up by a linear scan; beyond it, by a hash index.
const LINEAR_STREAMS: usize = 8;

/// The key byte of a field: all the fields written here have tags below 16, so every key is one byte.
const fn key(tag: u8, wire_type: WireType) -> u8 {
    (tag << 3) | wire_type as u8
}

/// `PushRequest.streams` (1, a `StreamAdapter`).
const REQUEST_STREAM: u8 = key(1, WireType::LengthDelimited);
/// `StreamAdapter.labels` (1, a string).
const STREAM_LABELS: u8 = key(1, WireType::LengthDelimited);
/// `StreamAdapter.entries` (2, an `EntryAdapter`).
const STREAM_ENTRY: u8 = key(2, WireType::LengthDelimited);
/// `EntryAdapter.timestamp` (1, a `google.protobuf.Timestamp`).
const ENTRY_TIMESTAMP: u8 = key(1, WireType::LengthDelimited);
/// `EntryAdapter.line` (2, a string).
const ENTRY_LINE: u8 = key(2, WireType::LengthDelimited);
/// `Timestamp.seconds` (1, an int64).
const TIMESTAMP_SECONDS: u8 = key(1, WireType::Varint);
/// `Timestamp.nanos` (2, an int32).
const TIMESTAMP_NANOS: u8 = key(2, WireType::Varint);

/// The size of a length-delimited field whose content is `len` bytes: key, length, content.
#[inline]
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// The size of a proto3 string field holding `len` bytes: nothing when empty (proto3 omits defaults).
#[inline]
fn string_field_len(len: usize) -> usize {
    if len == 0 { 0 } else { field_len(len) }
}

/// One entry: its timestamp split as `google.protobuf.Timestamp` splits it, and where its line is in its stream's
/// buffer.
#[derive(Clone, Copy, Debug)]
struct Entry {
    seconds: i64,
    /// In `0..1e9`, even for times before 1970 (floor division).
    nanos: u32,
    start: usize,
    len: usize,
}

impl Entry {
    /// The timestamp in nanoseconds since the epoch, as it was pushed.
    fn timestamp_ns(&self) -> i64 {
        // Wrapping: the product alone may be below i64::MIN when the sum is not.
        self.seconds.wrapping_mul(NANOS_PER_SECOND).wrapping_add(i64::from(self.nanos))
    }
}

/// One stream of the request being built.
#[derive(Debug, Default)]
struct Stream {
    labels: String,
    /// The `entries` fields of the `StreamAdapter` message, encoded.
    encoded: Vec<u8>,
    entries: Vec<Entry>,
}

impl Stream {
    /// The size of the `StreamAdapter` message: the labels field and every entries field.
    #[inline]
    fn message_len(&self) -> usize {
        string_field_len(self.labels.len()) + self.encoded.len()
    }

    /// Appends the `streams` field's key and length and the labels field: the message up to its entries.
    fn write_head(&self, out: &mut Vec<u8>) {
        out.push(REQUEST_STREAM);
        encode_varint(self.message_len() as u64, out);
        if !self.labels.is_empty() {
            out.push(STREAM_LABELS);
            encode_varint(self.labels.len() as u64, out);
            out.extend_from_slice(self.labels.as_bytes());
        }
    }

    #[inline]
    fn line(&self, entry: &Entry) -> &[u8] {
        &self.encoded[entry.start..entry.start + entry.len]
    }
}

/// One push request being built: entries grouped into streams by their labels string, in first-seen order.
///
/// A batch keeps its buffers across [`Batch::clear`]; once they have grown to a batch's working size, pushing and
/// encoding allocate nothing.
#[derive(Default)]
pub struct Batch {
    /// The streams in first-seen order; those past `live` are spares kept for their buffers.
    streams: Vec<Stream>,
    live: usize,
    entries: usize,
    /// The exact size of the encoded `PushRequest`.
    bytes: usize,
    /// The stream of the last push: consecutive pushes mostly go to the same stream.
    last: usize,
    /// Stream index by hash of its labels, kept only past `LINEAR_STREAMS` streams. On a collision the later
    /// stream is left out and found by a scan.
    index: HashMap<u64, usize>,
    hasher: RandomState,
}

impl fmt::Debug for Batch {
    /// The sizes and the streams, not the lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("entries", &self.entries)
            .field("bytes", &self.bytes)
            .field("streams", &self.streams().collect::<Vec<_>>())
            .finish()
    }
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Appends an entry to the stream of `labels` (a PromQL selector, see [`promql_labels`]), creating the stream
    /// at the end if it is new. `line` must be valid UTF-8 (protobuf strings and JSON both require it); the agent
    /// passes its JSON payloads.
    pub fn push(&mut self, labels: &str, timestamp_ns: i64, line: &[u8]) {
        debug_assert!(std::str::from_utf8(line).is_ok(), "a Loki line must be UTF-8");
        let seconds = timestamp_ns.div_euclid(NANOS_PER_SECOND);
        let nanos = timestamp_ns.rem_euclid(NANOS_PER_SECOND) as u32;
        let stream = self.stream_index(labels);
        let stream = &mut self.streams[stream];
        let before = field_len(stream.message_len());

        // The entries field up to the line's bytes: key, length, then the EntryAdapter's timestamp field (always
        // written, as Loki's gogoproto does) and its line's key and length.
        let seconds_len = if seconds == 0 { 0 } else { 1 + encoded_len_varint(seconds as u64) };
        let nanos_len = if nanos == 0 { 0 } else { 1 + encoded_len_varint(u64::from(nanos)) };
        let timestamp_len = seconds_len + nanos_len;
        let mut head = Head::default();
        head.push(STREAM_ENTRY);
        head.varint((field_len(timestamp_len) + string_field_len(line.len())) as u64);
        head.push(ENTRY_TIMESTAMP);
        head.push(timestamp_len as u8); // at most 11 + 6 bytes: a one-byte varint
        if seconds != 0 {
            head.push(TIMESTAMP_SECONDS);
            head.varint(seconds as u64);
        }
        if nanos != 0 {
            head.push(TIMESTAMP_NANOS);
            head.varint(u64::from(nanos));
        }
        if !line.is_empty() {
            head.push(ENTRY_LINE);
            head.varint(line.len() as u64);
        }
        stream.encoded.reserve(head.len + line.len());
        stream.encoded.extend_from_slice(head.bytes());
        let start = stream.encoded.len();
        stream.encoded.extend_from_slice(line);
        stream.entries.push(Entry { seconds, nanos, start, len: line.len() });

        self.bytes += field_len(stream.message_len()) - before;
        self.entries += 1;
    }

    /// The stream of `labels`, created if new.
    #[inline]
    fn stream_index(&mut self, labels: &str) -> usize {
        if self.last < self.live && self.streams[self.last].labels == labels {
            return self.last;
        }
        let live = &self.streams[..self.live];
        let found = if self.live <= LINEAR_STREAMS {
            live.iter().position(|s| s.labels == labels)
        } else {
            match self.index.get(&self.hasher.hash_one(labels)) {
                Some(&i) if live[i].labels == labels => Some(i),
                Some(_) => live.iter().position(|s| s.labels == labels),
                None => None,
            }
        };
        let i = match found {
            Some(i) => i,
            None => self.new_stream(labels),
        };
        self.last = i;
        i
    }

    /// Appends an empty stream for `labels`, reusing a spare's buffers.
    fn new_stream(&mut self, labels: &str) -> usize {
        let i = self.live;
        if i == self.streams.len() {
            self.streams.push(Stream::default());
        }
        let stream = &mut self.streams[i];
        stream.labels.clear();
        stream.labels.push_str(labels);
        stream.encoded.clear();
        stream.entries.clear();
        self.bytes += field_len(stream.message_len());
        self.live += 1;
        if self.live > LINEAR_STREAMS {
            let from = if self.live == LINEAR_STREAMS + 1 { 0 } else { i };
            for j in from..self.live {
                let hash = self.hasher.hash_one(self.streams[j].labels.as_str());
                self.index.entry(hash).or_insert(j);
            }
        }
        i
    }

    /// The number of entries.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The exact size of the uncompressed protobuf request ([`Batch::encode_protobuf`]'s output).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when the batch holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        for stream in &mut self.streams[..self.live] {
            stream.encoded.clear();
            stream.entries.clear();
        }
        self.live = 0;
        self.entries = 0;
        self.bytes = 0;
        self.last = 0;
        self.index.clear();
    }

    /// The labels and entry count of each stream, in request order.
    pub fn streams(&self) -> impl ExactSizeIterator<Item = (&str, usize)> + '_ {
        self.streams[..self.live].iter().map(|s| (s.labels.as_str(), s.entries.len()))
    }

    /// The entries of every stream, in request order, as `(labels, timestamp_ns, line)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64, &[u8])> + '_ {
        self.streams[..self.live]
            .iter()
            .flat_map(|s| s.entries.iter().map(move |e| (s.labels.as_str(), e.timestamp_ns(), s.line(e))))
    }

    /// Writes the request body Loki takes with `Content-Type: application/x-protobuf`: the protobuf
    /// `PushRequest`, snappy-compressed (block format), into `out`, cleared first. `scratch` holds a stream's
    /// head while it is compressed; pass the same buffers each time and encoding allocates nothing once they have
    /// grown.
    ///
    /// The protobuf is never put together uncompressed: each stream's head and its entries (already encoded in
    /// [`Batch::push`]) are compressed one after the other, as pieces of one snappy block. A snappy element only
    /// copies from the bytes before it, so elements compressed piece by piece decompress to the pieces in order.
    ///
    /// Panics if the protobuf exceeds snappy's limit of 4 GiB, which a batch bounded in bytes never nears.
    pub fn encode(&self, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        out.clear();
        let pieces = 2 * self.live;
        SNAPPY.with_borrow_mut(|(encoder, buffer)| {
            let mut block = Block::new(buffer, self.bytes, pieces);
            for stream in &self.streams[..self.live] {
                scratch.clear();
                stream.write_head(scratch);
                block.compress(encoder, scratch);
                block.compress(encoder, &stream.encoded);
            }
            out.extend_from_slice(block.finish());
        });
    }

    /// Writes the uncompressed protobuf `PushRequest` into `out`, cleared first; it is [`Batch::bytes`] long.
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(self.bytes);
        for stream in &self.streams[..self.live] {
            stream.write_head(out);
            out.extend_from_slice(&stream.encoded);
        }
        debug_assert_eq!(out.len(), self.bytes);
    }

    /// Writes the request body Loki takes with `Content-Type: application/json` into `out`, cleared first:
    /// `{"streams":[{"stream":{"name":"value",…},"values":[["<ns>","<line>"],…]},…]}`.
    ///
    /// The JSON form names the labels one by one, so each stream's labels string is parsed back
    /// ([`parse_labels`]); a string that is not a selector is an error and leaves `out` incomplete.
    pub fn encode_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        out.reserve(self.bytes + self.entries * 16 + 16);
        out.extend_from_slice(b"{\"streams\":[");
        for (n, stream) in self.streams[..self.live].iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"stream\":{");
            for (m, (name, value)) in parse_labels(&stream.labels)?.iter().enumerate() {
                if m > 0 {
                    out.push(b',');
                }
                write_json_string(out, name);
                out.push(b':');
                write_json_string(out, value);
            }
            out.extend_from_slice(b"},\"values\":[");
            for (m, entry) in stream.entries.iter().enumerate() {
                if m > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"[\"");
                write_i64(out, entry.timestamp_ns());
                out.extend_from_slice(b"\",\"");
                write_json_string_body(out, stream.line(entry));
                out.extend_from_slice(b"\"]");
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    /// Splits the batch in two halves by entries, for a request Loki found too large (413). The first half takes
    /// the first `entries() / 2` entries in request order (whole streams, then the head of the stream it ends in),
    /// the second the rest; both are non-empty when `entries() >= 2`. Each stream's entries keep their order, and
    /// a stream cut in two has its older entries in the first half: push the first half first.
    pub fn split(&self) -> (Batch, Batch) {
        let mut first = Batch::new();
        let mut second = Batch::new();
        let mut left = self.entries / 2;
        for stream in &self.streams[..self.live] {
            for entry in &stream.entries {
                let half = if left > 0 {
                    left -= 1;
                    &mut first
                } else {
                    &mut second
                };
                half.push(&stream.labels, entry.timestamp_ns(), stream.line(entry));
            }
        }
        (first, second)
    }
}

/// A stack buffer for the head of an entries field, at most 1 + 10 + 1 + 1 + 11 + 6 + 1 + 10 bytes.
struct Head {
    bytes: [u8; 48],
    len: usize,
}

impl Default for Head {
    #[inline]
    fn default() -> Head {
        Head { bytes: [0; 48], len: 0 }
    }
}

impl Head {
    #[inline]
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// A protobuf varint, as `prost::encoding::encode_varint` writes it.
    #[inline]
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.push(value as u8);
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Appends the decimal form of `value`.
fn write_i64(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

thread_local! {
    /// Per thread, a snappy encoder (it keeps a 32 KiB hash table that would otherwise be allocated per body) and
    /// the buffer it compresses into: snappy writes into an initialised slice of the worst-case size, and keeping
    /// that slice saves zeroing it for every body; only the compressed bytes are copied out.
    static SNAPPY: RefCell<(snap::raw::Encoder, Vec<u8>)> = RefCell::new((snap::raw::Encoder::new(), Vec::new()));
}

/// Compresses `input` into `out` (cleared first) in snappy's block format.
/// One snappy block (the raw format: the uncompressed length, then elements) written piece by piece into the
/// thread's buffer.
struct Block<'b> {
    buffer: &'b mut Vec<u8>,
    at: usize,
    /// The uncompressed length the preamble announces, and what the pieces have added up to so far.
    total: usize,
    seen: usize,
}

impl<'b> Block<'b> {
    /// A block of `total` uncompressed bytes that will come in at most `pieces` pieces.
    fn new(buffer: &'b mut Vec<u8>, total: usize, pieces: usize) -> Block<'b> {
        // Snappy's worst case for a piece of n bytes is 32 + n + n / 6; the preamble takes at most 10 bytes.
        let room = 10 + snap::raw::max_compress_len(total) + 32 * pieces;
        if buffer.len() < room {
            // Grown, never shrunk: zeroing the worst case for every body would cost more than compressing.
            buffer.resize(room, 0);
        }
        // The preamble: the uncompressed length, a varint like protobuf's.
        encode_varint(total as u64, &mut &mut buffer[..]);
        let at = encoded_len_varint(total as u64);
        Block { buffer, at, total, seen: 0 }
    }

    /// Appends the elements of `piece`.
    fn compress(&mut self, encoder: &mut snap::raw::Encoder, piece: &[u8]) {
        if piece.is_empty() {
            return;
        }
        self.seen += piece.len();
        debug_assert!(self.seen <= self.total, "the pieces outgrow the block's length");
        // The encoder writes the piece's own preamble before its elements. It is never longer than the block's
        // (a piece is never longer than the block), so it goes over the last bytes written, which are put back.
        let own = encoded_len_varint(piece.len() as u64);
        let start = self.at - own;
        let mut kept = [0u8; 10];
        kept[..own].copy_from_slice(&self.buffer[start..self.at]);
        let written =
            encoder.compress(piece, &mut self.buffer[start..]).expect("a piece is below snappy's 4 GiB limit");
        self.buffer[start..self.at].copy_from_slice(&kept[..own]);
        self.at = start + written;
    }

    /// The block.
    fn finish(self) -> &'b [u8] {
        debug_assert_eq!(self.seen, self.total, "the pieces do not add up to the block's length");
        &self.buffer[..self.at]
    }
}

/// Writes the PromQL selector of a label set into `out` (cleared first): `{name="value", …}`, labels sorted by
/// name (equal names keep their order), values quoted as Go's `strconv.Quote` quotes them (see [`quote_go`]).
/// This is the form Loki's protobuf push expects in `StreamAdapter.labels`. Names are written as they are: the
/// caller passes valid label names.
pub fn promql_labels(pairs: &[(&str, &str)], out: &mut String) {
    out.clear();
    let mut small = [0usize; 16];
    let mut large = Vec::new();
    let order: &mut [usize] = if pairs.len() <= small.len() {
        &mut small[..pairs.len()]
    } else {
        large.resize(pairs.len(), 0);
        &mut large
    };
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    order.sort_unstable_by_key(|&i| (pairs[i].0, i));
    out.push('{');
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(pairs[i].0);
        out.push('=');
        quote_go(pairs[i].1, out);
    }
    out.push('}');
}

/// Appends `value` as a double-quoted Go string literal: `\\` and `\"` escaped, and every control character
/// (Unicode category Cc) escaped as `strconv.Quote` escapes it (`\n`, `\t`, …, `\x1b`, `\u0085`). The other
/// characters `strconv.Quote` would escape (format characters, spaces other than U+0020, unassigned code points)
/// are written as they are: the LogQL parser reads them either way, and only a raw newline would break it.
pub fn quote_go(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(value.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (i, c) in value.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\x07' => "\\a",
            '\x08' => "\\b",
            '\x0c' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\x0b' => "\\v",
            c if c.is_control() => "",
            _ => continue,
        };
        out.push_str(&value[plain..i]);
        plain = i + c.len_utf8();
        if !escape.is_empty() {
            out.push_str(escape);
        } else if (c as u32) < 0x80 {
            out.push_str("\\x");
            out.push(HEX[c as usize >> 4] as char);
            out.push(HEX[c as usize & 15] as char);
        } else {
            // The C1 controls, U+0080 to U+009F.
            out.push_str("\\u00");
            out.push(HEX[(c as usize >> 4) & 15] as char);
            out.push(HEX[c as usize & 15] as char);
        }
    }
    out.push_str(&value[plain..]);
    out.push('"');
}

/// Parses a PromQL selector of equality matchers, `{name="value", …}`, into its pairs, in their order. Values are
/// Go double-quoted strings with any of Go's escapes. This reads what [`promql_labels`] writes, for the JSON body
/// and for tests.
pub fn parse_labels(selector: &str) -> Result<Vec<(String, String)>, String> {
    let error = |what: &str| format!("labels {selector:?}: {what}");
    let mut rest = selector.trim_start().strip_prefix('{').ok_or_else(|| error("no opening '{'"))?;
    let mut pairs = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return Err(error("text after the closing '}'"));
            }
            return Ok(pairs);
        }
        if !pairs.is_empty() {
            rest = rest.strip_prefix(',').ok_or_else(|| error("expected ',' or '}'"))?.trim_start();
        }
        let name_len = rest
            .bytes()
            .enumerate()
            .take_while(|&(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()))
            .count();
        if name_len == 0 {
            return Err(error("expected a label name"));
        }
        let name = &rest[..name_len];
        rest = rest[name_len..].trim_start().strip_prefix('=').ok_or_else(|| error("expected '='"))?.trim_start();
        if rest.starts_with('~') {
            return Err(error("only '=' matchers name a stream"));
        }
        let (value, after) = unquote_go(rest).map_err(|e| error(&e))?;
        pairs.push((name.to_owned(), value));
        rest = after;
    }
}

/// Reads a double-quoted Go string literal at the start of `text`: its value and the text after it.
fn unquote_go(text: &str) -> Result<(String, &str), String> {
    let body = text.strip_prefix('"').ok_or("expected '\"'")?;
    let bytes = body.as_bytes();
    let mut value = Vec::with_capacity(body.len());
    let mut i = 0;
    let digits = |from: usize, count: usize, radix: u32| -> Result<u32, String> {
        let s = body.get(from..from + count).ok_or("a truncated escape")?;
        if !s.bytes().all(|b| (b as char).is_digit(radix)) {
            return Err(format!("a bad escape digit in {s:?}"));
        }
        u32::from_str_radix(s, radix).map_err(|e| e.to_string())
    };
    loop {
        let Some(&b) = bytes.get(i) else { return Err("an unterminated string".into()) };
        match b {
            b'"' => {
                let value = String::from_utf8(value).map_err(|_| "escapes that are not UTF-8")?;
                return Ok((value, &body[i + 1..]));
            }
            b'\n' => return Err("a newline in a string".into()),
            b'\\' => {
                let Some(&e) = bytes.get(i + 1) else { return Err("an unterminated string".into()) };
                i += 2;
                let simple = match e {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0b),
                    b'\\' | b'"' | b'\'' => Some(e),
                    _ => None,
                };
                if let Some(byte) = simple {
                    value.push(byte);
                    continue;
                }
                match e {
                    b'x' => {
                        value.push(digits(i, 2, 16)? as u8);
                        i += 2;
                    }
                    b'0'..=b'7' => {
                        let byte = digits(i - 1, 3, 8)?;
                        value.push(u8::try_from(byte).map_err(|_| "an octal escape above \\377")?);
                        i += 2;
                    }
                    b'u' | b'U' => {
                        let count = if e == b'u' { 4 } else { 8 };
                        let c = char::from_u32(digits(i, count, 16)?).ok_or("an escape that is not a character")?;
                        value.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        i += count;
                    }
                    _ => return Err(format!("an unknown escape \\{}", e as char)),
                }
            }
            _ => {
                value.push(b);
                i += 1;
            }
        }
    }
}

/// Loki's push messages as `prost` derives them: the reference the hand encoding is tested against, and a
/// decoder for tests that play Loki ([`proto::decode_body`]).
pub mod proto {
    /// `logproto.PushRequest`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PushRequest {
        /// The streams, in request order.
        #[prost(message, repeated, tag = "1")]
        pub streams: Vec<StreamAdapter>,
    }

    /// `logproto.StreamAdapter`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StreamAdapter {
        /// The stream's labels as a PromQL selector.
        #[prost(string, tag = "1")]
        pub labels: String,
        /// The stream's entries.
        #[prost(message, repeated, tag = "2")]
        pub entries: Vec<EntryAdapter>,
        /// Loki's internal stream hash; clients leave it 0.
        #[prost(uint64, tag = "3")]
        pub hash: u64,
    }

    /// `logproto.EntryAdapter`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EntryAdapter {
        /// When the line was written.
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<Timestamp>,
        /// The log line.
        #[prost(string, tag = "2")]
        pub line: String,
        /// Per-entry metadata; the agent sends none.
        #[prost(message, repeated, tag = "3")]
        pub structured_metadata: Vec<LabelPairAdapter>,
    }

    /// `logproto.LabelPairAdapter`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPairAdapter {
        /// The name.
        #[prost(string, tag = "1")]
        pub name: String,
        /// The value.
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
    pub struct Timestamp {
        /// Seconds since the epoch, rounded down.
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        /// Nanoseconds past `seconds`, in `0..1e9`.
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }

    impl Timestamp {
        /// The timestamp of `ns` nanoseconds since the epoch.
        pub fn from_nanos(ns: i64) -> Timestamp {
            Timestamp { seconds: ns.div_euclid(1_000_000_000), nanos: ns.rem_euclid(1_000_000_000) as i32 }
        }

        /// Nanoseconds since the epoch.
        pub fn as_nanos(&self) -> i64 {
            self.seconds.wrapping_mul(1_000_000_000).wrapping_add(i64::from(self.nanos))
        }
    }

    /// Decodes a protobuf push body as Loki does: snappy block decompression, then `PushRequest`.
    pub fn decode_body(body: &[u8]) -> Result<PushRequest, String> {
        let raw = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| format!("snappy: {e}"))?;
        <PushRequest as prost::Message>::decode(raw.as_slice()).map_err(|e| format!("protobuf: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::proto::{EntryAdapter, PushRequest, StreamAdapter, Timestamp};
    use super::*;
    use proptest::prelude::*;
    use prost::Message;

    /// The request `prost` would build from the same entries.
    fn expected(entries: &[(&str, i64, &str)]) -> PushRequest {
        let mut request = PushRequest::default();
        for &(labels, ts, line) in entries {
            let entry = EntryAdapter {
                timestamp: Some(Timestamp::from_nanos(ts)),
                line: line.to_owned(),
                structured_metadata: vec![],
            };
            match request.streams.iter_mut().find(|s| s.labels == labels) {
                Some(stream) => stream.entries.push(entry),
                None => {
                    request.streams.push(StreamAdapter { labels: labels.to_owned(), entries: vec![entry], hash: 0 })
                }
            }
        }
        request
    }

    fn batch_of(entries: &[(&str, i64, &str)]) -> Batch {
        let mut batch = Batch::new();
        for &(labels, ts, line) in entries {
            batch.push(labels, ts, line.as_bytes());
        }
        batch
    }

    /// Checks the hand encoding against prost: same bytes, same decoded message, exact size, snappy round trip.
    fn check(batch: &Batch, entries: &[(&str, i64, &str)]) {
        let want = expected(entries);
        let mut raw = Vec::new();
        batch.encode_protobuf(&mut raw);
        assert_eq!(raw, want.encode_to_vec());
        assert_eq!(raw.len(), batch.bytes());
        assert_eq!(PushRequest::decode(raw.as_slice()).unwrap(), want);
        let (mut body, mut scratch) = (vec![1, 2, 3], vec![4]);
        batch.encode(&mut body, &mut scratch);
        // Compressed piece by piece, the body is the protobuf's one snappy block.
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&body).unwrap(), raw);
        assert_eq!(proto::decode_body(&body).unwrap(), want);
        assert_eq!(batch.entries(), entries.len());
        assert_eq!(batch.is_empty(), entries.is_empty());
        let counts: Vec<(&str, usize)> = batch.streams().collect();
        let want_counts: Vec<(&str, usize)> =
            want.streams.iter().map(|s| (s.labels.as_str(), s.entries.len())).collect();
        assert_eq!(counts, want_counts);
    }

    #[test]
    fn keys_are_what_prost_writes() {
        for (byte, tag, wire_type) in [
            (REQUEST_STREAM, 1, WireType::LengthDelimited),
            (STREAM_ENTRY, 2, WireType::LengthDelimited),
            (TIMESTAMP_SECONDS, 1, WireType::Varint),
            (TIMESTAMP_NANOS, 2, WireType::Varint),
        ] {
            let mut buf = Vec::new();
            prost::encoding::encode_key(tag, wire_type, &mut buf);
            assert_eq!(buf, [byte]);
        }
    }

    #[test]
    fn encodes_streams_in_first_seen_order() {
        let a = r#"{job="fluent-bit", model_version_id="x5qe2qo", namespace="org-50a9", unified_model_logs="1"}"#;
        let b = r#"{job="fluent-bit", model_version_id="other", namespace="org-50a9", unified_model_logs="1"}"#;
        let entries = [
            (a, 1_795_169_051_402_716_913, r#"{"levelname":"INFO","message":"Started"}"#),
            (b, 1_795_169_051_402_716_914, r#"{"message":"b"}"#),
            (a, 1_795_169_051_402_716_915, r#"{"message":"a again"}"#),
            (a, 0, ""),
            (b, -1, "before 1970"),
            (b, i64::MIN, "min"),
            (b, i64::MAX, "max"),
            (a, 1_000_000_000, "exact second"),
        ];
        check(&batch_of(&entries), &entries);
    }

    #[test]
    fn empty_batch_and_clear() {
        let mut batch = Batch::new();
        check(&batch, &[]);
        let entries = [("{a=\"1\"}", 5, "x"), ("{a=\"2\"}", 6, "y")];
        for &(labels, ts, line) in &entries {
            batch.push(labels, ts, line.as_bytes());
        }
        check(&batch, &entries);
        batch.clear();
        check(&batch, &[]);
        assert_eq!(format!("{batch:?}"), "Batch { entries: 0, bytes: 0, streams: [] }");
        // The spare streams are reused, in a new order.
        let entries = [("{a=\"2\"}", 7, "z"), ("{b=\"3\"}", 8, "w"), ("{a=\"2\"}", 9, "v")];
        for &(labels, ts, line) in &entries {
            batch.push(labels, ts, line.as_bytes());
        }
        check(&batch, &entries);
    }

    #[test]
    fn many_streams_use_the_index() {
        let labels: Vec<String> = (0..300).map(|i| format!("{{pod=\"p{}\"}}", i % 100)).collect();
        let lines: Vec<String> = (0..300).map(|i| format!("line {i}")).collect();
        let entries: Vec<(&str, i64, &str)> =
            labels.iter().zip(&lines).enumerate().map(|(i, (l, s))| (l.as_str(), i as i64, s.as_str())).collect();
        let mut batch = batch_of(&entries);
        check(&batch, &entries);
        assert_eq!(batch.streams().len(), 100);
        batch.clear();
        let entries = &entries[..150];
        for &(labels, ts, line) in entries {
            batch.push(labels, ts, line.as_bytes());
        }
        check(&batch, entries);
    }

    #[test]
    fn split_halves_by_entries_keeping_stream_order() {
        let entries = [("{a=\"1\"}", 1, "a1"), ("{b=\"1\"}", 2, "b1"), ("{a=\"1\"}", 3, "a2"), ("{b=\"1\"}", 4, "b2")];
        let batch = batch_of(&entries);
        let (first, second) = batch.split();
        // Request order is stream a (a1, a2) then stream b (b1, b2).
        check(&first, &[("{a=\"1\"}", 1, "a1"), ("{a=\"1\"}", 3, "a2")]);
        check(&second, &[("{b=\"1\"}", 2, "b1"), ("{b=\"1\"}", 4, "b2")]);

        let entries = [("{a=\"1\"}", 1, "a1"), ("{a=\"1\"}", 2, "a2"), ("{a=\"1\"}", 3, "a3")];
        let (first, second) = batch_of(&entries).split();
        check(&first, &entries[..1]);
        check(&second, &entries[1..]);

        let (first, second) = batch_of(&entries[..1]).split();
        assert!(first.is_empty());
        check(&second, &entries[..1]);
    }

    #[test]
    fn promql_labels_sorts_and_escapes() {
        let mut out = String::from("stale");
        promql_labels(
            &[
                ("unified_model_logs", "1"),
                ("namespace", "org-50a9bc6b456e47aa88e0d81e622ea315"),
                ("job", "fluent-bit"),
                ("model_version_id", "x5qe2qo"),
            ],
            &mut out,
        );
        assert_eq!(
            out,
            r#"{job="fluent-bit", model_version_id="x5qe2qo", namespace="org-50a9bc6b456e47aa88e0d81e622ea315", unified_model_logs="1"}"#
        );
        promql_labels(&[], &mut out);
        assert_eq!(out, "{}");
        promql_labels(&[("b", "x"), ("a", "q\"b\\s\nn\t\r\x07\x08\x0c\x0b\x00\x1b\x7f\u{85}é☃\u{1F600}")], &mut out);
        // What Go's strconv.Quote writes for the same value.
        assert_eq!(out, r#"{a="q\"b\\s\nn\t\r\a\b\f\v\x00\x1b\x7f\u0085é☃😀", b="x"}"#);
        assert_eq!(
            parse_labels(&out).unwrap(),
            [
                ("a".to_owned(), "q\"b\\s\nn\t\r\x07\x08\x0c\x0b\x00\x1b\x7f\u{85}é☃\u{1F600}".to_owned()),
                ("b".to_owned(), "x".to_owned())
            ]
        );
        // More than 16 labels, and equal names keeping their order.
        let names: Vec<String> = (0..20).rev().map(|i| format!("l{i:02}")).collect();
        let mut pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        pairs.push(("l05", "second"));
        promql_labels(&pairs, &mut out);
        let parsed = parse_labels(&out).unwrap();
        assert_eq!(parsed.len(), 21);
        assert!(parsed.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(parsed[5], ("l05".to_owned(), "v".to_owned()));
        assert_eq!(parsed[6], ("l05".to_owned(), "second".to_owned()));
    }

    #[test]
    fn parse_labels_reads_go_escapes_and_rejects_garbage() {
        assert_eq!(
            parse_labels(r#" { a = "\x41\101\u00e9\U0001F600\'" ,b="" } "#).unwrap(),
            [("a".to_owned(), "AAé😀'".to_owned()), ("b".to_owned(), String::new())]
        );
        for bad in [
            "",
            "a=\"1\"}",
            "{a=\"1\"",
            "{a=\"1\" b=\"2\"}",
            "{1a=\"1\"}",
            "{a=~\"1\"}",
            "{a=\"\\q\"}",
            "{a=\"\\xff\"}",
            "{a=\"\\400\"}",
            "{a=\"\n\"}",
            "{a=\"\\ud800\"}",
            "{a=\"1\"} x",
        ] {
            assert!(parse_labels(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_body() {
        let entries = [
            (r#"{job="fluent-bit", namespace="n\"s"}"#, 1_795_169_051_402_716_913, r#"{"message":"a\tb"}"#),
            ("{a=\"1\"}", -1, "x"),
            (r#"{job="fluent-bit", namespace="n\"s"}"#, 0, ""),
        ];
        let mut out = b"stale".to_vec();
        batch_of(&entries).encode_json(&mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"streams": [
                {"stream": {"job": "fluent-bit", "namespace": "n\"s"},
                 "values": [["1795169051402716913", r#"{"message":"a\tb"}"#], ["0", ""]]},
                {"stream": {"a": "1"}, "values": [["-1", "x"]]},
            ]})
        );
        batch_of(&[]).encode_json(&mut out).unwrap();
        assert_eq!(out, br#"{"streams":[]}"#);
        assert!(batch_of(&[("not a selector", 1, "x")]).encode_json(&mut out).is_err());
    }

    #[test]
    fn write_i64_writes_decimal() {
        for value in [0, 1, -1, 10, i64::MIN, i64::MAX, 1_795_169_051_402_716_913] {
            let mut out = Vec::new();
            write_i64(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
    }

    #[test]
    fn snappy_round_trip_of_a_large_body() {
        let line = r#"{"levelname":"INFO","message":"Started server process [12625]","replica":"q7rg5"}"#;
        let mut batch = Batch::new();
        for i in 0..20_000 {
            batch.push("{a=\"1\"}", i, line.as_bytes());
        }
        let (mut body, mut scratch, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        batch.encode(&mut body, &mut scratch);
        batch.encode_protobuf(&mut raw);
        assert!(body.len() < raw.len() / 4, "{} of {}", body.len(), raw.len());
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&body).unwrap(), raw);
    }

    fn timestamp() -> impl Strategy<Value = i64> {
        prop_oneof![any::<i64>(), -3_000_000_000i64..3_000_000_000, Just(0), Just(i64::MIN), Just(i64::MAX)]
    }

    proptest! {
        #[test]
        fn hand_encoding_matches_prost(
            label_sets in prop::collection::vec(
                prop::collection::vec(("[a-z_][a-z0-9_]{0,8}", any::<String>()), 0..4), 1..6),
            entries in prop::collection::vec((any::<prop::sample::Index>(), timestamp(), any::<String>()), 0..40),
            split_twice in any::<bool>(),
        ) {
            let selectors: Vec<String> = label_sets
                .iter()
                .map(|set| {
                    let pairs: Vec<(&str, &str)> = set.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                    let mut selector = String::new();
                    promql_labels(&pairs, &mut selector);
                    selector
                })
                .collect();
            for (selector, set) in selectors.iter().zip(&label_sets) {
                let mut sorted = set.clone();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                prop_assert_eq!(&parse_labels(selector).unwrap(), &sorted);
            }
            let entries: Vec<(&str, i64, &str)> = entries
                .iter()
                .map(|(i, ts, line)| (selectors[i.index(selectors.len())].as_str(), *ts, line.as_str()))
                .collect();
            let batch = batch_of(&entries);
            check(&batch, &entries);

            let (first, second) = batch.split();
            prop_assert_eq!(first.entries(), entries.len() / 2);
            prop_assert_eq!(second.entries(), entries.len() - entries.len() / 2);
            let joined: Vec<(&str, i64, &[u8])> = first.iter().chain(second.iter()).collect();
            let original: Vec<(&str, i64, &[u8])> = batch.iter().collect();
            prop_assert_eq!(joined, original);
            if split_twice {
                let (a, b) = second.split();
                prop_assert_eq!(a.entries() + b.entries(), second.entries());
            }

            let mut json = Vec::new();
            batch.encode_json(&mut json).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            let streams = value["streams"].as_array().unwrap();
            prop_assert_eq!(streams.len(), batch.streams().len());
            for (stream, (labels, count)) in streams.iter().zip(batch.streams()) {
                let values = stream["values"].as_array().unwrap();
                prop_assert_eq!(values.len(), count);
                // A JSON object keeps one of equal names.
                let names = stream["stream"].as_object().unwrap();
                let distinct: std::collections::BTreeSet<String> =
                    parse_labels(labels).unwrap().into_iter().map(|(name, _)| name).collect();
                prop_assert_eq!(names.len(), distinct.len());
            }
        }
    }
}
