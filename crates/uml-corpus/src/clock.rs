//! Time: the container runtime's clock of one file, and the many ways the
//! sources print the same instant inside their messages.
//!
//! Every file starts on 2026-11-20 (the date of the examples in
//! docs/contract.md) at a time of day chosen by the seed, and its clock only
//! moves forward. The calendar breakdown is cached per second, because most
//! lines of a busy file share their second with the line before.

use crate::text::{push_padded, push_u64, push2, push9};

/// 2026-11-20T00:00:00Z, in seconds since the Unix epoch.
pub(crate) const DAY_START_S: i64 = 1_795_132_800;

/// The runtime's clock of one file, in nanoseconds since the Unix epoch.
pub(crate) struct Clock {
    ns: i64,
    cached_second: i64,
    civil: Civil,
}

/// An instant broken down into calendar fields (UTC).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Civil {
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub nanos: u32,
    /// Seconds since the Unix epoch.
    pub unix: i64,
    /// `2026-11-20T10:00:01`, written once per second.
    stamp: [u8; 19],
}

impl Clock {
    pub(crate) fn new(start_ns: i64) -> Clock {
        let mut clock = Clock { ns: start_ns, cached_second: i64::MIN, civil: civil_of(0) };
        clock.refresh();
        clock
    }

    pub(crate) fn now_ns(&self) -> i64 {
        self.ns
    }

    pub(crate) fn advance(&mut self, ns: u64) {
        self.ns += ns as i64;
        self.refresh();
    }

    /// Moves the clock forward to the next multiple of `10^power` ns, so
    /// that the CRI timestamp loses trailing digits (`.5Z`, `Z`) the way a
    /// real one sometimes does.
    pub(crate) fn round_up(&mut self, power: u32) {
        let unit = 10i64.pow(power);
        self.ns = (self.ns + unit - 1) / unit * unit;
        self.refresh();
    }

    pub(crate) fn civil(&self) -> Civil {
        self.civil
    }

    fn refresh(&mut self) {
        let second = self.ns.div_euclid(1_000_000_000);
        if second != self.cached_second {
            self.cached_second = second;
            self.civil = civil_of(second);
        }
        self.civil.nanos = self.ns.rem_euclid(1_000_000_000) as u32;
    }
}

/// The calendar fields of a second since the Unix epoch (Howard Hinnant's
/// `civil_from_days`).
fn civil_of(unix: i64) -> Civil {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut stamp = Vec::with_capacity(19);
    push_padded(&mut stamp, year.into(), 4, b'0');
    for (sep, n) in [(b'-', month), (b'-', day), (b'T', hour), (b':', minute), (b':', second)] {
        stamp.push(sep);
        push2(&mut stamp, n);
    }
    let stamp = stamp.try_into().expect("a four-digit year");
    Civil { year, month, day, nanos: 0, unix, stamp }
}

impl Civil {
    fn date(&self, out: &mut Vec<u8>, sep: u8) {
        let at = out.len();
        out.extend_from_slice(&self.stamp[..10]);
        out[at + 4] = sep;
        out[at + 7] = sep;
    }

    fn time(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.stamp[11..]);
    }

    fn fraction(&self, out: &mut Vec<u8>, digits: u32) {
        if digits == 9 {
            push9(out, self.nanos);
        } else {
            push_padded(out, u64::from(self.nanos / 10u32.pow(9 - digits)), digits as usize, b'0');
        }
    }

    /// containerd's `RFC3339Nano`: `2026-11-20T10:00:01.5Z`, trailing zeros
    /// of the fraction trimmed, and no fraction at all on a whole second.
    pub(crate) fn rfc3339_trimmed(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.stamp);
        if self.nanos != 0 {
            let mut nanos = self.nanos;
            let mut digits = 9;
            while nanos.is_multiple_of(10) {
                nanos /= 10;
                digits -= 1;
            }
            out.push(b'.');
            push_padded(out, nanos.into(), digits, b'0');
        }
        out.push(b'Z');
    }

    /// docker's `RFC3339NanoFixed`: always nine fraction digits.
    pub(crate) fn rfc3339_nanos(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.stamp);
        out.push(b'.');
        self.fraction(out, 9);
        out.push(b'Z');
    }

    /// `2026-11-20T00:43:12.801Z` (zap, envoy) or with micro seconds.
    pub(crate) fn rfc3339_digits(&self, out: &mut Vec<u8>, digits: u32) {
        self.date(out, b'-');
        out.push(b'T');
        self.time(out);
        out.push(b'.');
        self.fraction(out, digits);
        out.push(b'Z');
    }

    /// `2026-11-20T10:00:00Z`.
    pub(crate) fn rfc3339_seconds(&self, out: &mut Vec<u8>) {
        self.date(out, b'-');
        out.push(b'T');
        self.time(out);
        out.push(b'Z');
    }

    /// Python logging's `asctime`: `2026-11-20 00:43:12,801`.
    pub(crate) fn asctime(&self, out: &mut Vec<u8>) {
        self.date(out, b'-');
        out.push(b' ');
        self.time(out);
        out.push(b',');
        self.fraction(out, 3);
    }

    /// loguru's default: `2026-11-20 00:43:12.801`.
    pub(crate) fn loguru(&self, out: &mut Vec<u8>) {
        self.date(out, b'-');
        out.push(b' ');
        self.time(out);
        out.push(b'.');
        self.fraction(out, 3);
    }

    /// Go's `log` package: `2026/11/20 10:00:00`.
    pub(crate) fn go_log(&self, out: &mut Vec<u8>) {
        self.date(out, b'/');
        out.push(b' ');
        self.time(out);
    }

    /// TensorRT's logger: `[11/20/2026-13:22:01]`.
    pub(crate) fn tensorrt(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        push2(out, self.month);
        out.push(b'/');
        push2(out, self.day);
        out.push(b'/');
        push_padded(out, self.year.into(), 4, b'0');
        out.push(b'-');
        self.time(out);
        out.push(b']');
    }

    /// A klog header without its thread id: `I1120 10:00:00.000000`.
    pub(crate) fn klog(&self, out: &mut Vec<u8>, severity: u8) {
        out.push(severity);
        push2(out, self.month);
        push2(out, self.day);
        out.push(b' ');
        self.time(out);
        out.push(b'.');
        self.fraction(out, 6);
    }

    /// vLLM's logger: `11-20 04:54:33`.
    pub(crate) fn vllm(&self, out: &mut Vec<u8>) {
        push2(out, self.month);
        out.push(b'-');
        push2(out, self.day);
        out.push(b' ');
        self.time(out);
    }

    /// gunicorn's: `[2026-11-20 10:00:00 +0000]`.
    pub(crate) fn gunicorn(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        self.date(out, b'-');
        out.push(b' ');
        self.time(out);
        out.extend_from_slice(b" +0000]");
    }

    /// zap's epoch seconds as a float: `1763632800.2240348`.
    pub(crate) fn epoch_float(&self, out: &mut Vec<u8>) {
        push_u64(out, self.unix as u64);
        out.push(b'.');
        self.fraction(out, 7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&Civil, &mut Vec<u8>), ns: i64) -> String {
        let mut out = Vec::new();
        f(&Clock::new(ns).civil(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_of_one_instant() {
        let ns = 1_795_168_801_500_000_000; // 2026-11-20T10:00:01.5Z
        assert_eq!(text(Civil::rfc3339_trimmed, ns), "2026-11-20T10:00:01.5Z");
        assert_eq!(text(Civil::rfc3339_trimmed, ns - 500_000_000), "2026-11-20T10:00:01Z");
        assert_eq!(text(Civil::rfc3339_nanos, ns), "2026-11-20T10:00:01.500000000Z");
        assert_eq!(text(Civil::asctime, ns), "2026-11-20 10:00:01,500");
        assert_eq!(text(Civil::go_log, ns), "2026/11/20 10:00:01");
        assert_eq!(text(Civil::tensorrt, ns), "[11/20/2026-10:00:01]");
        assert_eq!(text(|c, o| c.klog(o, b'I'), ns), "I1120 10:00:01.500000");
        assert_eq!(text(Civil::vllm, ns), "11-20 10:00:01");
        assert_eq!(text(Civil::epoch_float, ns), "1795168801.5000000");
        assert_eq!(text(Civil::rfc3339_seconds, DAY_START_S * 1_000_000_000), "2026-11-20T00:00:00Z");
    }

    #[test]
    fn leap_years_and_month_ends() {
        // 2028-02-29T23:59:59Z and the second after it.
        let ns = 1_835_481_599 * 1_000_000_000;
        assert_eq!(text(Civil::rfc3339_seconds, ns), "2028-02-29T23:59:59Z");
        assert_eq!(text(Civil::rfc3339_seconds, ns + 1_000_000_000), "2028-03-01T00:00:00Z");
    }
}
