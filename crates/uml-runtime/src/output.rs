//! Records to bytes: the two wire formats `uml run` writes, for any
//! embedder that ships records the same way.
//!
//! - [`Wire::Ndjson`]: one object per record,
//!   `{"ts":"<ns>","labels":{…},"line":"<payload as a JSON string>"}`;
//! - [`Wire::Loki`]: bodies for Loki's `POST /loki/api/v1/push`,
//!   `{"streams":[{"stream":{…},"values":[["<ns>","<payload>"],…]}]}`, one
//!   body per [`Encoder::take`], records grouped by their labels in the
//!   order each stream first appeared, each stream's values in time order
//!   (records of several files of one stream interleave in time).
//!
//! Both embed the payload as a JSON string. A record made with
//! [`PayloadForm::Escaped`] (as [`Processor::for_encoder`] makes them) holds
//! it escaped already, written in the same pass as the payload itself, and
//! is copied as it is. A record that holds JSON has it escaped here: the
//! record writer built it in valid UTF-8 with every control character
//! escaped, so that escapes only `"` and `\` ([`write_json_string_body`]
//! finds them a word at a time), with no UTF-8 validation.
//!
//! [`Processor::for_encoder`]: crate::pipeline::Processor::for_encoder
//!
//! An [`Encoder`] keeps its buffers; once they have grown to a chunk's
//! size, encoding a record allocates nothing (a Loki stream's labels are
//! copied once per body).

use crate::exec::{PayloadForm, Record};
use crate::stdlib::json_string::write_json_string_body;
use crate::stdlib::number::format_int_bytes;

/// A record wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// One `{"ts","labels","line"}` object per line.
    Ndjson,
    /// Loki push bodies, one per line of output.
    Loki,
}

/// Encodes records into a growing buffer; see the module documentation.
#[derive(Debug)]
pub struct Encoder {
    format: Wire,
    out: Vec<u8>,
    /// Loki: the streams of the current body, `(labels JSON, values JSON)`.
    streams: Vec<(Vec<u8>, Vec<u8>)>,
    /// Loki: each stream's values, `(timestamp, start, end)` in its JSON.
    entries: Vec<Vec<(i64, usize, usize)>>,
    /// Bytes in `streams`' values.
    pending: usize,
}

impl Encoder {
    pub fn new(format: Wire) -> Encoder {
        Encoder { format, out: Vec::new(), streams: Vec::new(), entries: Vec::new(), pending: 0 }
    }

    pub fn format(&self) -> Wire {
        self.format
    }

    /// The bytes encoded and not taken yet.
    pub fn len(&self) -> usize {
        self.out.len() + self.pending
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encodes one record.
    pub fn record(&mut self, record: &Record) {
        match self.format {
            Wire::Ndjson => {
                let out = &mut self.out;
                out.reserve(record.labels_json().len() + record.payload().len() + 64);
                out.extend_from_slice(b"{\"ts\":\"");
                format_int_bytes(record.timestamp, out);
                out.extend_from_slice(b"\",\"labels\":");
                out.extend_from_slice(record.labels_json());
                out.extend_from_slice(b",\"line\":\"");
                embed(out, record);
                out.extend_from_slice(b"\"}\n");
            }
            Wire::Loki => {
                let labels = record.labels_json();
                let at = match self.streams.iter().position(|(l, _)| l == labels) {
                    Some(at) => at,
                    None => {
                        self.streams.push((labels.to_vec(), Vec::new()));
                        self.streams.len() - 1
                    }
                };
                if self.entries.len() <= at {
                    self.entries.resize_with(at + 1, Vec::new);
                }
                let values = &mut self.streams[at].1;
                let before = values.len();
                values.extend_from_slice(b"[\"");
                format_int_bytes(record.timestamp, values);
                values.extend_from_slice(b"\",\"");
                embed(values, record);
                values.extend_from_slice(b"\"]");
                self.entries[at].push((record.timestamp, before, values.len()));
                // A comma between two values.
                self.pending += values.len() - before + 1;
            }
        }
    }

    /// Appends everything encoded so far to `dst` (a Loki body is closed
    /// here), leaving the encoder empty with its buffers kept.
    pub fn drain_into(&mut self, dst: &mut Vec<u8>) {
        self.close_body();
        dst.extend_from_slice(&self.out);
        self.out.clear();
    }

    /// Everything encoded so far as a new buffer of about `capacity` bytes'
    /// room for what follows (a Loki body is closed here): for handing
    /// chunks to another thread.
    pub fn take(&mut self, capacity: usize) -> Vec<u8> {
        self.take_with(Vec::with_capacity(capacity))
    }

    /// [`Encoder::take`], the encoder going on in `spare` (emptied first):
    /// for a caller that recycles the buffers it was handed.
    pub fn take_with(&mut self, mut spare: Vec<u8>) -> Vec<u8> {
        self.close_body();
        spare.clear();
        std::mem::replace(&mut self.out, spare)
    }

    /// Ends the current push body (Loki; nothing for NDJSON) without taking
    /// the bytes: what [`Encoder::take_with`] does first, for a caller that
    /// puts several inputs' output in one buffer, each in its own body.
    pub fn end_input(&mut self) {
        self.close_body();
    }

    fn close_body(&mut self) {
        if self.format != Wire::Loki || self.streams.is_empty() {
            return;
        }
        let out = &mut self.out;
        out.extend_from_slice(b"{\"streams\":[");
        for (i, (labels, values)) in self.streams.drain(..).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"stream\":");
            out.extend_from_slice(&labels);
            out.extend_from_slice(b",\"values\":[");
            // In time order; a stable sort keeps the order of equal times.
            let entries = &mut self.entries[i];
            if !entries.is_sorted_by_key(|e| e.0) {
                entries.sort_by_key(|e| e.0);
            }
            for (k, &(_, start, end)) in entries.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&values[start..end]);
            }
            entries.clear();
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}\n");
        self.pending = 0;
    }
}

/// Appends a record's payload as the inside of a JSON string.
fn embed(out: &mut Vec<u8>, record: &Record) {
    match record.form() {
        PayloadForm::Escaped => out.extend_from_slice(record.payload()),
        PayloadForm::Json => write_json_string_body(out, record.payload()),
    }
}
