//! The careful peer with simd-json in place of serde_json: the same
//! borrowed struct ([`crate::careful`]), decoded by simd-json's serde
//! deserializer (its SIMD structural index, AVX2 or SSE4.2 chosen at run
//! time) with reused buffers, and the same hand-written record.
//!
//! simd-json rewrites the text it parses (strings are unescaped in place),
//! so each line is first copied into a reused buffer, as any user of it
//! must. Strings it returns borrow that buffer; the ones whose bytes are
//! still those of the line (no escapes) are moved back to borrow the line,
//! the others are owned, which is what serde_json's borrowing gives the
//! careful peer.

use crate::careful::Object;
use crate::rule::{self, Fields, Payload, Route, SerdePeer, TextBranch};
use std::borrow::Cow;

pub struct SimdCareful {
    text: TextBranch,
    /// The payload of the current record, before it is embedded as a string.
    payload: Vec<u8>,
    /// The line being parsed, which simd-json rewrites.
    line: Vec<u8>,
    buffers: simd_json::Buffers,
}

impl Default for SimdCareful {
    fn default() -> SimdCareful {
        SimdCareful {
            text: TextBranch::default(),
            payload: Vec::new(),
            line: Vec::new(),
            buffers: simd_json::Buffers::new(4096),
        }
    }
}

impl crate::Transform for SimdCareful {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.text);
        rule::run(self, &text, file_name, bytes, out);
        self.text = text;
    }
}

/// `text`, which borrows `copy`, as a borrow of `line` (of which `copy`
/// was a copy) when it is the same bytes at the same place there, owned
/// otherwise.
fn rebase<'a>(text: Cow<'_, str>, copy: usize, line: &'a str) -> Cow<'a, str> {
    if let Cow::Borrowed(s) = &text {
        let at = (s.as_ptr() as usize).wrapping_sub(copy);
        if let Some(same) = line.get(at..at.wrapping_add(s.len())).filter(|same| same == s) {
            return Cow::Borrowed(same);
        }
    }
    Cow::Owned(text.into_owned())
}

impl SerdePeer for SimdCareful {
    fn fields<'a>(&mut self, line: &'a str) -> Option<Fields<'a>> {
        // Not JSON at all: as quick a no as serde_json's first byte.
        if !line.trim_start().starts_with('{') {
            return None;
        }
        self.line.clear();
        self.line.extend_from_slice(line.as_bytes());
        let copy = self.line.as_ptr() as usize;
        let object: Object<'_> = simd_json::serde::from_slice_with_buffers(&mut self.line, &mut self.buffers).ok()?;
        let fields = object.into_fields();
        Some(Fields {
            said: fields.said.map(|t| rebase(t, copy, line)),
            level: fields.level,
            thrown: fields.thrown.map(|t| rebase(t, copy, line)),
            request_id: fields.request_id.map(|t| rebase(t, copy, line)),
        })
    }

    fn write(&mut self, out: &mut Vec<u8>, timestamp_ns: i64, route: &Route, payload: &Payload<'_>) {
        rule::write_payload_record(out, &mut self.payload, timestamp_ns, route, payload);
    }
}
