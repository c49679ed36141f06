//! uml itself: the embedded rules through the stream layer, as `uml run`
//! runs a file, minus the file I/O.

use uml::Rules;
use uml::runtime::output::{Encoder, Wire};
use uml::runtime::pipeline::{FileState, Processor};

/// The size of the chunks the encoder's output goes out in.
const CHUNK: usize = 256 << 10;

/// The embedded rule set, compiled once.
pub struct Uml {
    rules: Rules,
    encoder: Encoder,
}

impl Default for Uml {
    fn default() -> Uml {
        Uml { rules: Rules::embedded(), encoder: Encoder::new(Wire::Ndjson) }
    }
}

impl crate::Transform for Uml {
    fn run(&mut self, file_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
        let mut processor = Processor::for_encoder(self.rules.plan());
        let mut file = FileState::from_path(file_name);
        let encoder = &mut self.encoder;
        // Into `out` itself when it is empty, as the other peers write: `uml
        // run` hands its chunks to the writer without copying them, and a
        // copy here would be counted a byte at a time by callgrind (`rep
        // movsb`). Otherwise out in chunks, appended.
        let straight = out.is_empty();
        let spare = if straight { Some(encoder.take_with(std::mem::take(out))) } else { None };
        for line in crate::lines(bytes) {
            processor.push(&mut file, line, &mut |record, _| encoder.record(record));
            if !straight && encoder.len() >= CHUNK {
                encoder.drain_into(out);
            }
        }
        processor.finish(&mut file, &mut |record, _| encoder.record(record));
        match spare {
            Some(spare) => *out = encoder.take_with(spare),
            None => encoder.drain_into(out),
        }
    }
}
