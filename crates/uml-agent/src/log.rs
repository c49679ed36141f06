//! The agent's own log: one JSON object per line on standard error, so that
//! the node's log pipeline (this agent included) can read it as it reads
//! any structured logger:
//! `{"ts":"2026-11-20T10:00:00.123Z","level":"warn","msg":"…","key":"value"}`.
//!
//! It is written with one `write` per line, under the standard error lock,
//! so lines from threads never interleave.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// How serious a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Writes one line: `msg` and the fields, in order.
pub fn log(level: Level, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    let mut line = serde_json::Map::new();
    line.insert("ts".into(), now_rfc3339().into());
    line.insert("level".into(), level.as_str().into());
    line.insert("msg".into(), msg.into());
    for (k, v) in fields {
        line.insert((*k).into(), v.to_string().into());
    }
    let mut text = serde_json::Value::Object(line).to_string();
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub fn info(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Info, msg, fields);
}

pub fn warn(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Warn, msg, fields);
}

pub fn error(msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
    log(Level::Error, msg, fields);
}

/// With `UML_AGENT_TRACE` set, the follower also logs (at `info`) which
/// files it resumes at, reads and takes up: for finding out what a rare
/// failure did, not for production.
pub fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("UML_AGENT_TRACE").is_some())
}

/// Now, as `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub fn now_rfc3339() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339_millis(since.as_secs() as i64, since.subsec_millis())
}

/// `secs` since the epoch and milliseconds, as `YYYY-MM-DDThh:mm:ss.mmmZ`
/// (the civil-from-days algorithm of Howard Hinnant's date library).
fn rfc3339_millis(secs: i64, millis: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(super::rfc3339_millis(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339_millis(1_795_168_801, 5), "2026-11-20T10:00:01.005Z");
        assert_eq!(super::rfc3339_millis(951_782_400, 999), "2000-02-29T00:00:00.999Z");
    }
}
