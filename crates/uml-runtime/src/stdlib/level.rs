//! `level`: the many spellings of a log level, mapped to the record's four
//! (`docs/contract.md`, "Levels"; `docs/language.md` §10.4).
//!
//! Spellings are matched without building a lower-cased copy: a spelling is
//! at most eight bytes, so it is loaded into a `u64` with its letters
//! folded to lower case (one `OR` per word) and looked up in a table of the
//! same words. Numbers are read only with a [`Scale`], since a bare `3` or
//! `20` means something only per source.

use super::error_enum;

/// The four levels a record can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    /// The record's spelling: `"DEBUG"`, `"INFO"`, `"WARNING"` or `"ERROR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// How a numeric level is read: the `scale` argument of `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Python's `logging`: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50
    /// CRITICAL, and every number in between rounds down to one of them
    /// (25 is INFO, 5 is DEBUG).
    Python,
    /// The severity of syslog (RFC 5424): 0 emergency up to 7 debug.
    Syslog,
    /// pino's and bunyan's (Node.js): 10 trace, 20 debug, 30 info, 40 warn,
    /// 50 error, 60 fatal; a number in between rounds down.
    Pino,
}

impl Scale {
    /// The scale a `scale:` string literal names: `"python"`, `"syslog"`,
    /// or `"pino"` (also `"bunyan"`, the same scale).
    pub fn from_name(name: &str) -> Option<Scale> {
        match name {
            "python" => Some(Scale::Python),
            "syslog" => Some(Scale::Syslog),
            "pino" | "bunyan" => Some(Scale::Pino),
            _ => None,
        }
    }

    /// The scale's name in rules (`"pino"` for pino's and bunyan's).
    pub fn name(self) -> &'static str {
        match self {
            Scale::Python => "python",
            Scale::Syslog => "syslog",
            Scale::Pino => "pino",
        }
    }

    /// Every name [`Scale::from_name`] knows.
    pub const NAMES: [&str; 4] = ["python", "syslog", "pino", "bunyan"];
}

/// A word of at most eight bytes as a little-endian `u64`, with ASCII
/// upper-case letters folded to lower case and every other byte as it is,
/// padded with `0xFF`, a byte UTF-8 never uses (so `"info\0"` is not
/// `"info"`). The table's spellings are lower-case letters only, and the
/// only bytes that fold onto a lower-case letter are that letter and its
/// upper-case form, so two folded words are equal exactly when the words
/// are equal ignoring ASCII case.
const fn fold(word: &[u8]) -> u64 {
    let mut bytes = [PAD; 8];
    let mut i = 0;
    while i < word.len() {
        bytes[i] = word[i].to_ascii_lowercase();
        i += 1;
    }
    u64::from_le_bytes(bytes)
}

const PAD: u8 = 0xFF;

/// [`fold`] eight bytes at a time, for the hot path.
#[inline]
fn fold_swar(word: &[u8]) -> u64 {
    const fn splat(b: u8) -> u64 {
        u64::from_ne_bytes([b; 8])
    }
    let mut bytes = [PAD; 8];
    bytes[..word.len()].copy_from_slice(word);
    let x = u64::from_le_bytes(bytes);
    // Per byte, on its low seven bits (so no sum carries into the next byte):
    // the high bit of `at_least_a` is set for bytes >= 'A', that of `above_z`
    // for bytes > 'Z'; a byte with its own high bit set is not a letter.
    let low = x & splat(0x7f);
    let at_least_a = low + splat(0x80 - b'A');
    let above_z = low + splat(0x80 - b'Z' - 1);
    let upper = at_least_a & !above_z & !x & splat(0x80);
    x | (upper >> 2)
}

/// Every spelling of docs/contract.md, "Levels", but the bracketed ones, most
/// frequent first: on a table this small a scan in that order beats a search.
const SPELLINGS: [(u64, Level); 26] = [
    (fold(b"info"), Level::Info),
    (fold(b"error"), Level::Error),
    (fold(b"warning"), Level::Warning),
    (fold(b"warn"), Level::Warning),
    (fold(b"debug"), Level::Debug),
    (fold(b"i"), Level::Info),
    (fold(b"w"), Level::Warning),
    (fold(b"e"), Level::Error),
    (fold(b"erro"), Level::Error),
    (fold(b"debu"), Level::Debug),
    (fold(b"critical"), Level::Error),
    (fold(b"fatal"), Level::Error),
    (fold(b"d"), Level::Debug),
    (fold(b"v"), Level::Debug),
    (fold(b"f"), Level::Error),
    (fold(b"trace"), Level::Debug),
    (fold(b"notice"), Level::Info),
    (fold(b"normal"), Level::Info),
    (fold(b"debg"), Level::Debug),
    (fold(b"trac"), Level::Debug),
    (fold(b"crit"), Level::Error),
    (fold(b"fata"), Level::Error),
    (fold(b"pani"), Level::Error),
    (fold(b"panic"), Level::Error),
    // log15 (Go, and go-ethereum's loggers): `lvl=eror`, `lvl=dbug`.
    (fold(b"eror"), Level::Error),
    (fold(b"dbug"), Level::Debug),
];

/// The level a spelling names, or `None`: the table of docs/contract.md,
/// "Levels", matched case-insensitively after removing surrounding whitespace
/// (Unicode `White_Space`).
///
/// | level | spellings |
/// | --- | --- |
/// | DEBUG | `DEBUG` `DEBU` `DEBG` `DBUG` `TRACE` `TRAC` `V` `D` `[D]` `[V]` |
/// | INFO | `INFO` `I` `[I]` `NOTICE` `NORMAL` |
/// | WARNING | `WARNING` `WARN` `W` `[W]` |
/// | ERROR | `ERROR` `ERRO` `EROR` `E` `[E]` `CRITICAL` `CRIT` `FATAL` `FATA` `F` `[F]` `PANI` `PANIC` |
///
/// Decisions: the case-insensitivity is ASCII's (every spelling is ASCII, so
/// a KELVIN SIGN is not a `k`); a bracketed letter is accepted for every
/// one-letter spelling, so `[F]`, TensorRT's internal error, is ERROR like
/// `F`, although the platform's table lists only `[D] [V] [I] [W] [E]`;
/// inside the brackets there is no whitespace (`[ W ]` fails). Numbers are
/// not spellings: see [`parse_level`].
///
/// Never allocates.
///
/// ```
/// # use uml_runtime::stdlib::level::{normalize_level, Level};
/// assert_eq!(normalize_level("WARN"), Some(Level::Warning));
/// assert_eq!(normalize_level("[E]"), Some(Level::Error));
/// assert_eq!(normalize_level(" Normal\n"), Some(Level::Info));
/// assert_eq!(normalize_level("verbose"), None);
/// ```
pub fn normalize_level(value: &str) -> Option<Level> {
    let word = value.trim().as_bytes();
    match *word {
        [b'[', letter, b']'] => bracketed_letter(letter),
        [] | [_, _, _, _, _, _, _, _, _, ..] => None,
        _ => {
            let key = fold_swar(word);
            SPELLINGS.iter().find(|(spelling, _)| *spelling == key).map(|&(_, level)| level)
        }
    }
}

/// The level of a one-letter spelling in brackets. `| 0x20` maps only
/// `A..=Z` and `a..=z` onto lower-case letters, so no other byte reaches the
/// arms.
fn bracketed_letter(letter: u8) -> Option<Level> {
    match letter | 0x20 {
        b'd' | b'v' => Some(Level::Debug),
        b'i' => Some(Level::Info),
        b'w' => Some(Level::Warning),
        b'e' | b'f' => Some(Level::Error),
        _ => None,
    }
}

/// The level a number names on `scale`, or `None` when it names none: a
/// negative number, or a syslog severity above 7.
///
/// | level | python | syslog |
/// | --- | --- | --- |
/// | DEBUG | 0–19 | 7 |
/// | INFO | 20–29 | 5, 6 |
/// | WARNING | 30–39 | 4 |
/// | ERROR | 40 and above | 0–3 |
///
/// Floats are not levels (the language's `level` fails on them); the caller
/// passes `int`s only.
///
/// ```
/// # use uml_runtime::stdlib::level::{level_from_number, Level, Scale};
/// assert_eq!(level_from_number(25, Scale::Python), Some(Level::Info));
/// assert_eq!(level_from_number(3, Scale::Syslog), Some(Level::Error));
/// assert_eq!(level_from_number(8, Scale::Syslog), None);
/// ```
pub fn level_from_number(value: i64, scale: Scale) -> Option<Level> {
    match scale {
        Scale::Python => match value {
            0..=19 => Some(Level::Debug),
            20..=29 => Some(Level::Info),
            30..=39 => Some(Level::Warning),
            40.. => Some(Level::Error),
            _ => None,
        },
        Scale::Syslog => match value {
            0..=3 => Some(Level::Error),
            4 => Some(Level::Warning),
            5 | 6 => Some(Level::Info),
            7 => Some(Level::Debug),
            _ => None,
        },
        Scale::Pino => match value {
            0..=29 => Some(Level::Debug),
            30..=39 => Some(Level::Info),
            40..=49 => Some(Level::Warning),
            50.. => Some(Level::Error),
            _ => None,
        },
    }
}

error_enum! {
    /// Why a string names no level.
    pub enum LevelError {
        /// Not one of the spellings, and not a number.
        UnknownSpelling => "unknown level",
        /// Digits, but no `scale` to read them on.
        NumberWithoutScale => "a number is a level only with a scale",
        /// Digits outside the scale (a syslog severity above 7).
        OutOfScale => "number outside the level scale",
    }
}

/// `level` of a string: a spelling ([`normalize_level`]), or, with a
/// `scale`, a number written in decimal digits (a regex capture, a JSON
/// string `"20"`), read with [`level_from_number`].
///
/// Decisions: a number is ASCII digits only, after removing surrounding
/// whitespace: no sign (a negative level fails anyway), no fraction
/// (`"20.0"` is a float and fails, as a float does). A number too large for
/// 64 bits is ERROR on the python scale ("40 and above") and outside the
/// syslog scale.
///
/// Never allocates.
///
/// ```
/// # use uml_runtime::stdlib::level::{parse_level, Level, LevelError, Scale};
/// assert_eq!(parse_level("3", Some(Scale::Syslog)), Ok(Level::Error));
/// assert_eq!(parse_level("Info", Some(Scale::Python)), Ok(Level::Info));
/// assert_eq!(parse_level("20", None), Err(LevelError::NumberWithoutScale));
/// ```
pub fn parse_level(value: &str, scale: Option<Scale>) -> Result<Level, LevelError> {
    if let Some(level) = normalize_level(value) {
        return Ok(level);
    }
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LevelError::UnknownSpelling);
    }
    let scale = scale.ok_or(LevelError::NumberWithoutScale)?;
    let number = digits.parse::<i64>().unwrap_or(i64::MAX);
    level_from_number(number, scale).ok_or(LevelError::OutOfScale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_platform_table() {
        // docs/contract.md, "Levels", verbatim, and docs/language.md §10.4.
        let table: &[(Level, &[&str])] = &[
            (Level::Debug, &["DEBUG", "debug", "DEBU", "DEBG", "dbug", "TRACE", "TRAC", "V", "D", "[D]", "[V]"]),
            (Level::Info, &["INFO", "info", "I", "[I]", "NOTICE", "Normal"]),
            (Level::Warning, &["WARNING", "WARN", "warn", "W", "[W]", "Warning"]),
            (
                Level::Error,
                &[
                    "ERROR", "ERRO", "eror", "error", "E", "[E]", "CRITICAL", "CRIT", "FATAL", "FATA", "F", "PANI",
                    "panic",
                ],
            ),
        ];
        for &(level, spellings) in table {
            for spelling in spellings {
                assert_eq!(normalize_level(spelling), Some(level), "{spelling:?}");
                assert_eq!(parse_level(spelling, None), Ok(level), "{spelling:?}");
                assert_eq!(parse_level(spelling, Some(Scale::Syslog)), Ok(level), "{spelling:?}");
            }
        }
    }

    #[test]
    fn case_whitespace_and_brackets() {
        let cases: &[(&str, Option<Level>)] = &[
            // docs/language.md §10.4: "Error, warning, Info, PANIC, [i] and fatal all match".
            ("Error", Some(Level::Error)),
            ("warning", Some(Level::Warning)),
            ("Info", Some(Level::Info)),
            ("PANIC", Some(Level::Error)),
            ("[i]", Some(Level::Info)),
            ("fatal", Some(Level::Error)),
            ("  WARN\t", Some(Level::Warning)),
            ("\u{a0}info\u{2003}", Some(Level::Info)),
            ("normal", Some(Level::Info)),
            ("NORMAL", Some(Level::Info)),
            ("[F]", Some(Level::Error)),
            ("[v]", Some(Level::Debug)),
            ("v", Some(Level::Debug)),
            // Not spellings.
            ("", None),
            ("   ", None),
            ("[]", None),
            ("[X]", None),
            ("x", None),
            ("[ W ]", None),
            ("[W", None),
            ("W]", None),
            ("[WARN]", None),
            ("{w}", None),
            ("{e}", None),
            ("warnings", None),
            ("informational", None),
            ("panics", None),
            ("crit ical", None),
            ("INFO:", None),
            ("20", None),
            ("verbose", None),
            ("\u{212A}", None),
            ("ınfo", None),
            ("info\0", None),
            ("inf", None),
            ("errors!!", None),
        ];
        for &(input, want) in cases {
            assert_eq!(normalize_level(input), want, "{input:?}");
        }
    }

    #[test]
    fn numbers_per_scale() {
        use Level::*;
        let python: &[(i64, Option<Level>)] = &[
            (-1, None),
            (0, Some(Debug)),
            (5, Some(Debug)),
            (10, Some(Debug)),
            (19, Some(Debug)),
            (20, Some(Info)),
            (25, Some(Info)),
            (29, Some(Info)),
            (30, Some(Warning)),
            (39, Some(Warning)),
            (40, Some(Error)),
            (50, Some(Error)),
            (1000, Some(Error)),
            (i64::MIN, None),
        ];
        for &(n, want) in python {
            assert_eq!(level_from_number(n, Scale::Python), want, "python {n}");
        }
        let syslog: &[(i64, Option<Level>)] = &[
            (-1, None),
            (0, Some(Error)),
            (1, Some(Error)),
            (2, Some(Error)),
            (3, Some(Error)),
            (4, Some(Warning)),
            (5, Some(Info)),
            (6, Some(Info)),
            (7, Some(Debug)),
            (8, None),
            (i64::MAX, None),
        ];
        for &(n, want) in syslog {
            assert_eq!(level_from_number(n, Scale::Syslog), want, "syslog {n}");
        }
    }

    #[test]
    fn numeric_strings() {
        use LevelError::*;
        let cases: &[(&str, Option<Scale>, Result<Level, LevelError>)] = &[
            // docs/language.md §10.4.
            ("3", Some(Scale::Syslog), Ok(Level::Error)),
            ("20", Some(Scale::Python), Ok(Level::Info)),
            (" 40 ", Some(Scale::Python), Ok(Level::Error)),
            ("25", Some(Scale::Python), Ok(Level::Info)),
            ("05", Some(Scale::Python), Ok(Level::Debug)),
            ("99999999999999999999", Some(Scale::Python), Ok(Level::Error)),
            ("99999999999999999999", Some(Scale::Syslog), Err(OutOfScale)),
            ("8", Some(Scale::Syslog), Err(OutOfScale)),
            ("20", None, Err(NumberWithoutScale)),
            ("-1", Some(Scale::Python), Err(UnknownSpelling)),
            ("+20", Some(Scale::Python), Err(UnknownSpelling)),
            ("20.0", Some(Scale::Python), Err(UnknownSpelling)),
            ("", Some(Scale::Python), Err(UnknownSpelling)),
            ("loud", None, Err(UnknownSpelling)),
        ];
        for &(input, scale, want) in cases {
            assert_eq!(parse_level(input, scale), want, "{input:?} {scale:?}");
        }
        assert_eq!(Scale::from_name("python"), Some(Scale::Python));
        assert_eq!(Scale::from_name("syslog"), Some(Scale::Syslog));
        assert_eq!(Scale::from_name("Python"), None);
        assert_eq!(UnknownSpelling.message(), "unknown level");
    }

    #[test]
    fn swar_fold_is_the_plain_fold() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"xXaZ@[`{";
                word[at] = b;
                assert_eq!(fold_swar(&word), fold(&word), "byte {b:#x} at {at}");
                assert_eq!(fold_swar(&word[..at]), fold(&word[..at]));
            }
        }
    }

    #[test]
    fn record_spellings() {
        let all = [Level::Debug, Level::Info, Level::Warning, Level::Error];
        assert_eq!(all.map(Level::as_str), ["DEBUG", "INFO", "WARNING", "ERROR"]);
        for level in all {
            assert_eq!(normalize_level(level.as_str()), Some(level));
        }
    }
}
