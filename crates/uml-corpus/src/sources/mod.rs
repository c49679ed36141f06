//! One generator per source (docs/contract.md, "The five sources") and for
//! the files no rule may route ([`noise`]). Each keeps the small state that
//! makes its file read like one program's output (a build's phase, a server's
//! pid) and writes its messages straight into the burst's buffer.

pub(crate) mod build;
pub(crate) mod deploy;
pub(crate) mod gpu_build;
pub(crate) mod model;
pub(crate) mod noise;
pub(crate) mod watcher;

use crate::clock::Civil;
use crate::text::{push_py_json, push_u64};

/// Starts a python-json-logger object, as formatted by
/// `%(asctime)s %(levelname)s %(message)s`: `{"asctime": "…", "levelname": "INFO"`.
/// The caller adds `, "message": …` and any other key with [`py_key`], then `}`.
pub(crate) fn py_json_head(out: &mut Vec<u8>, civil: &Civil, level: &str) {
    out.extend_from_slice(b"{\"asctime\": \"");
    civil.asctime(out);
    out.extend_from_slice(b"\", \"levelname\": \"");
    out.extend_from_slice(level.as_bytes());
    out.push(b'"');
}

/// `, "key": ` (Python's separators).
pub(crate) fn py_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b", \"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
}

/// `, "key": "value"` with the value escaped by `json.dumps`.
pub(crate) fn py_str(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    py_key(out, key);
    push_py_json(out, value, true);
}

/// A tqdm bar: `Loading checkpoint shards:  50%|█████     | 2/4 [00:03<00:03,  1.52s/it]`
/// (without `desc: ` when `desc` is empty).
pub(crate) fn push_tqdm(out: &mut Vec<u8>, desc: &str, n: u64, total: u64, secs_per_it_x100: u64) {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if !desc.is_empty() {
        out.extend_from_slice(desc.as_bytes());
        out.extend_from_slice(b": ");
    }
    let percent = n * 100 / total.max(1);
    crate::text::push_padded(out, percent, 3, b' ');
    out.extend_from_slice(b"%|");
    let eighths = n * 80 / total.max(1);
    let full = (eighths / 8) as usize;
    for _ in 0..full {
        out.extend_from_slice("█".as_bytes());
    }
    let mut cells = full;
    if full < 10 {
        let part = EIGHTHS[(eighths % 8) as usize];
        out.extend_from_slice(part.as_bytes());
        cells += usize::from(!part.is_empty());
    }
    out.extend(std::iter::repeat_n(b' ', 10 - cells));
    out.extend_from_slice(b"| ");
    push_u64(out, n);
    out.push(b'/');
    push_u64(out, total);
    let elapsed = n * secs_per_it_x100 / 100;
    let left = (total - n) * secs_per_it_x100 / 100;
    out.extend_from_slice(b" [");
    push_minutes(out, elapsed);
    out.push(b'<');
    if n == 0 {
        out.extend_from_slice(b"?, ?it/s]");
        return;
    }
    push_minutes(out, left);
    out.extend_from_slice(b", ");
    if secs_per_it_x100 >= 100 {
        crate::text::push_padded(out, secs_per_it_x100 / 100, 2, b' ');
        out.push(b'.');
        crate::text::push_padded(out, secs_per_it_x100 % 100, 2, b'0');
        out.extend_from_slice(b"s/it]");
    } else {
        let per_s_x100 = 10_000 / secs_per_it_x100.max(1);
        crate::text::push_padded(out, per_s_x100 / 100, 2, b' ');
        out.push(b'.');
        crate::text::push_padded(out, per_s_x100 % 100, 2, b'0');
        out.extend_from_slice(b"it/s]");
    }
}

fn push_minutes(out: &mut Vec<u8>, secs: u64) {
    crate::text::push_padded(out, secs / 60, 2, b'0');
    out.push(b':');
    crate::text::push_padded(out, secs % 60, 2, b'0');
}

/// A bar redrawn `states` times on one line, each state after a `\r`, the
/// way tqdm writes to a pipe: the runtime sees one long line.
pub(crate) fn push_tqdm_redraws(
    out: &mut Vec<u8>,
    desc: &str,
    total: u64,
    states: u64,
    secs_per_it_x100: u64,
    lead_cr: bool,
) {
    let states = states.clamp(1, total + 1);
    for k in 0..states {
        if k > 0 || lead_cr {
            out.push(b'\r');
        }
        let n = if states == 1 { total } else { k * total / (states - 1) };
        push_tqdm(out, desc, n, total, secs_per_it_x100);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tqdm_bars() {
        let mut out = Vec::new();
        push_tqdm(&mut out, "Loading checkpoint shards", 2, 4, 152);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "Loading checkpoint shards:  50%|█████     | 2/4 [00:03<00:03,  1.52s/it]"
        );
        out.clear();
        push_tqdm(&mut out, "Converting", 291, 291, 15);
        assert_eq!(String::from_utf8_lossy(&out), "Converting: 100%|██████████| 291/291 [00:43<00:00,  6.66it/s]");
        out.clear();
        push_tqdm_redraws(&mut out, "x", 4, 3, 100, false);
        assert_eq!(out.iter().filter(|&&b| b == b'\r').count(), 2);
    }
}
