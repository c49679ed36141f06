//! Laws of the standard library, checked with generated inputs: against the
//! standard library or a plain reference where one exists, as round trips
//! where the function has an inverse.

use proptest::prelude::*;
use uml_runtime::stdlib::ansi::{needs_strip, strip_ansi_escape_codes};
use uml_runtime::stdlib::klog::parse_klog;
use uml_runtime::stdlib::level::{Level, normalize_level};
use uml_runtime::stdlib::logfmt::{LogfmtValue, parse_logfmt};
use uml_runtime::stdlib::number::{format_float, format_int, parse_int};
use uml_runtime::stdlib::text::{
    contains, downcase, ends_with, length, replace, slice, split, starts_with, truncate, upcase,
};
use uml_runtime::stdlib::timestamp::{CivilDateTime, NANOS_PER_DAY, NANOS_PER_SECOND, civil_from_days};

/// Short strings over an alphabet where case mapping is interesting, so
/// generated needles often occur in generated haystacks.
fn casey() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'A', 'b', 'B', 'k', 'K', '\u{212A}', 'i', 'I', 'İ', '\u{307}', 'ß', 'σ', 'Σ', 'ς', 'é', 'É', ' ', '-',
            'ﬃ', 'ǅ',
        ]),
        0..8,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Greek words with accents and punctuation, where `downcase`'s final-sigma
/// rule is exact.
fn greek() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'Σ', 'Α', 'Ό', 'Ε', 'σ', 'ς', 'α', '\u{301}', '\u{308}', '\'', '’', '.', ':', ' ', ',', '-', 'A', '1',
        ]),
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn lower(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn mapped(f: fn(&str, &mut String), s: &str) -> String {
    let mut out = String::new();
    f(s, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn case_mapping_is_std(s in any::<String>(), g in greek()) {
        prop_assert_eq!(mapped(upcase, &s), s.to_uppercase());
        if !s.contains('Σ') {
            prop_assert_eq!(mapped(downcase, &s), s.to_lowercase());
        }
        prop_assert_eq!(mapped(upcase, &g), g.to_uppercase());
        prop_assert_eq!(mapped(downcase, &g), g.to_lowercase(), "{:?}", g);
    }

    /// Case-insensitive tests compare the lower-cased strings.
    #[test]
    fn substring_tests(value in casey(), sub in casey()) {
        let (lv, ls) = (lower(&value), lower(&sub));
        prop_assert_eq!(contains(&value, &sub, false), lv.contains(&ls));
        prop_assert_eq!(starts_with(&value, &sub, false), lv.starts_with(&ls));
        prop_assert_eq!(ends_with(&value, &sub, false), lv.ends_with(&ls));
        prop_assert_eq!(contains(&value, &sub, true), value.contains(&sub));
        prop_assert_eq!(starts_with(&value, &sub, true), value.starts_with(&sub));
        prop_assert_eq!(ends_with(&value, &sub, true), value.ends_with(&sub));
    }

    #[test]
    fn ascii_substring_tests(value in "[a-cA-C]{0,12}", sub in "[a-cA-C]{0,3}") {
        let (lv, ls) = (value.to_ascii_lowercase(), sub.to_ascii_lowercase());
        prop_assert_eq!(contains(&value, &sub, false), lv.contains(&ls));
        prop_assert_eq!(starts_with(&value, &sub, false), lv.starts_with(&ls));
        prop_assert_eq!(ends_with(&value, &sub, false), lv.ends_with(&ls));
    }

    #[test]
    fn replace_and_split_are_std(value in "[ab-]{0,10}", pattern in "[ab-]{0,2}", with in "[xy]{0,2}", count in -2i64..5) {
        let mut out = String::from(">");
        let n = replace(&value, &pattern, &with, count, &mut out);
        let want = if count < 0 { value.replace(&pattern, &with) } else { value.replacen(&pattern, &with, count as usize) };
        prop_assert_eq!(&out[1..], want);
        let matches = value.match_indices(&pattern).count();
        prop_assert_eq!(n, if count < 0 { matches } else { matches.min(count as usize) });

        let limit = if count < 0 { usize::MAX } else { count as usize };
        prop_assert_eq!(split(&value, &pattern, count).collect::<Vec<_>>(), value.splitn(limit, &pattern).collect::<Vec<_>>());
    }

    /// `slice` is the reference slice of the characters, VRL's rules.
    #[test]
    fn slice_and_length(s in casey(), start in -10i64..10, end in prop::option::of(-10i64..10)) {
        let chars: Vec<char> = s.chars().collect();
        let len = chars.len() as i64;
        prop_assert_eq!(length(&s), chars.len());
        let from = if start < 0 { start + len } else { start };
        let to = match end { None => len, Some(e) if e < 0 => e + len, Some(e) => e.min(len) };
        let want = if !(0..=len).contains(&from) || to < from {
            None
        } else {
            Some(chars[from as usize..to as usize].iter().collect::<String>())
        };
        prop_assert_eq!(slice(&s, start, end).ok().map(str::to_owned), want);
        // Cutting anywhere and joining gives the string back.
        for k in 0..=len {
            let joined = format!("{}{}", slice(&s, 0, Some(k)).unwrap(), slice(&s, k, None).unwrap());
            prop_assert_eq!(&joined, &s);
        }
    }

    #[test]
    fn truncate_never_splits_a_character(s in any::<String>(), limit in -2i64..40) {
        let t = truncate(&s, limit);
        prop_assert!(s.starts_with(t.kept));
        let n = s.chars().count();
        let keep = limit.max(0) as usize;
        prop_assert_eq!(length(t.kept), n.min(keep));
        prop_assert_eq!(t.cut, n > keep);
    }

    #[test]
    fn floats_print_as_serde_json_and_read_back(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let mut out = String::new();
        format_float(f, &mut out);
        prop_assert_eq!(&out, &serde_json::to_string(&f).unwrap());
        prop_assert_eq!(out.parse::<f64>().unwrap().to_bits(), f.to_bits());
    }

    /// Floats with few fraction bits and 17 or 18 significant digits, where
    /// two shortest forms can be equally near: ties go to the even digit.
    #[test]
    fn float_ties_print_as_serde_json(m in (1u64 << 52)..(1u64 << 53), e in -12i32..=12, negative in any::<bool>()) {
        let f = (m as f64) * 2f64.powi(e) * if negative { -1.0 } else { 1.0 };
        let mut out = String::new();
        format_float(f, &mut out);
        prop_assert_eq!(&out, &serde_json::to_string(&f).unwrap());
    }

    #[test]
    fn ints_print_and_read_back(i in any::<i64>(), s in "[-+]?[0-9]{0,21}") {
        let mut out = String::new();
        format_int(i, &mut out);
        prop_assert_eq!(&out, &i.to_string());
        prop_assert_eq!(parse_int(&out), Ok(i));
        prop_assert_eq!(parse_int(&s).ok(), s.parse::<i64>().ok());
    }
}

/// Every spelling of docs/contract.md, "Levels" (and log15's `dbug` and
/// `eror`), lower case, with its level.
const SPELLINGS: &[(&str, Level)] = &[
    ("debug", Level::Debug),
    ("debu", Level::Debug),
    ("debg", Level::Debug),
    ("dbug", Level::Debug),
    ("trace", Level::Debug),
    ("trac", Level::Debug),
    ("v", Level::Debug),
    ("d", Level::Debug),
    ("[d]", Level::Debug),
    ("[v]", Level::Debug),
    ("info", Level::Info),
    ("i", Level::Info),
    ("[i]", Level::Info),
    ("notice", Level::Info),
    ("normal", Level::Info),
    ("warning", Level::Warning),
    ("warn", Level::Warning),
    ("w", Level::Warning),
    ("[w]", Level::Warning),
    ("error", Level::Error),
    ("erro", Level::Error),
    ("eror", Level::Error),
    ("e", Level::Error),
    ("[e]", Level::Error),
    ("critical", Level::Error),
    ("crit", Level::Error),
    ("fatal", Level::Error),
    ("fata", Level::Error),
    ("f", Level::Error),
    ("[f]", Level::Error),
    ("pani", Level::Error),
    ("panic", Level::Error),
];

/// The plain reference: trim, lower-case, look up.
fn reference_level(s: &str) -> Option<Level> {
    let word = s.trim().to_ascii_lowercase();
    SPELLINGS.iter().find(|(spelling, _)| *spelling == word).map(|&(_, level)| level)
}

/// A spelling with each letter's case chosen at random and whitespace around it.
fn spelled() -> impl Strategy<Value = (String, Level)> {
    (prop::sample::select(SPELLINGS), prop::collection::vec(any::<bool>(), 8), "[ \t\r\n]{0,2}", "[ \t\r\n]{0,2}")
        .prop_map(|((word, level), upper, before, after)| {
            let cased: String =
                word.chars().zip(upper).map(|(c, u)| if u { c.to_ascii_uppercase() } else { c }).collect();
            (format!("{before}{cased}{after}"), level)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_spelling_in_any_case((text, level) in spelled()) {
        prop_assert_eq!(normalize_level(&text), Some(level), "{:?}", text);
    }

    #[test]
    fn normalize_level_is_the_reference(
        s in prop_oneof![any::<String>(), "[a-zA-Z\\[\\] \t\0]{0,9}", spelled().prop_map(|(t, _)| format!("{t}x"))],
    ) {
        prop_assert_eq!(normalize_level(&s), reference_level(&s), "{:?}", s);
        prop_assert_eq!(normalize_level(&s.to_ascii_uppercase()), normalize_level(&s.to_ascii_lowercase()));
    }
}

/// A well-formed escape sequence.
fn escape_sequence() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9;]{0,8}[A-Za-z@`~]".prop_map(|body| format!("\x1b[{body}")),
        "[?]?[0-9]{1,4}[hl]".prop_map(|body| format!("\x1b[{body}")),
        "[0-9];[^\x07\x1b]{0,12}".prop_map(|body| format!("\x1b]{body}\x07")),
        "8;;[a-z:/.]{0,16}".prop_map(|body| format!("\x1b]{body}\x1b\\")),
        "[()*+][0AB]".prop_map(|body| format!("\x1b{body}")),
        "[78=>cDEHM]".prop_map(|body| format!("\x1b{body}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn stripping_recovers_the_text(pieces in prop::collection::vec(("[^\x1b]{0,10}", escape_sequence()), 0..6), tail in "[^\x1b]{0,10}") {
        let mut line = String::new();
        let mut text = String::new();
        for (plain, sequence) in &pieces {
            line.push_str(plain);
            line.push_str(sequence);
            text.push_str(plain);
        }
        line.push_str(&tail);
        text.push_str(&tail);
        let mut out = String::new();
        strip_ansi_escape_codes(&line, &mut out);
        prop_assert_eq!(out, text);
    }

    #[test]
    fn stripping_removes_every_escape(s in prop_oneof![any::<String>(), "[\x1b\\[\\]0-9;mA-Z\x07\\\\ é]{0,20}"]) {
        let mut out = String::new();
        strip_ansi_escape_codes(&s, &mut out);
        prop_assert!(!out.contains('\x1b'));
        prop_assert_eq!(needs_strip(&s), s.contains('\x1b'));
        if !needs_strip(&s) {
            prop_assert_eq!(out, s);
        }
    }
}

/// A logfmt value as a writer would write it.
#[derive(Clone, Debug)]
enum Written {
    Bare(String),
    Quoted(String),
    Flag,
}

/// Go's quoting, as go-logfmt and logrus write it.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn logfmt_round_trip(
        pairs in prop::collection::vec(
            (
                "[a-zA-Z_][a-zA-Z0-9_.]{0,8}",
                prop_oneof![
                    "[^\\s\"][^\\s]{0,10}".prop_map(Written::Bare),
                    any::<String>().prop_map(Written::Quoted),
                    Just(Written::Flag),
                ],
                "[ \t]{1,3}",
            ),
            0..6,
        ),
    ) {
        let mut line = String::new();
        for (key, value, space) in &pairs {
            line.push_str(key);
            match value {
                Written::Bare(v) => line.push_str(&format!("={v}")),
                Written::Quoted(v) => line.push_str(&format!("={}", quote(v))),
                Written::Flag => {}
            }
            line.push_str(space);
        }
        let parsed: Vec<_> = parse_logfmt(&line).collect::<Result<_, _>>().expect("well-formed logfmt");
        prop_assert_eq!(parsed.len(), pairs.len());
        for (got, (key, value, _)) in parsed.iter().zip(&pairs) {
            prop_assert_eq!(got.key, key.as_str());
            match value {
                Written::Flag => prop_assert_eq!(got.value, LogfmtValue::True),
                Written::Bare(v) | Written::Quoted(v) => {
                    let mut decoded = String::new();
                    got.value.write(&mut decoded);
                    prop_assert_eq!(&decoded, v);
                    // Borrowed unless the writer had to escape something.
                    let escaped = matches!(value, Written::Quoted(v) if quote(v).len() != v.len() + 2);
                    prop_assert_eq!(matches!(got.value, LogfmtValue::Escaped(_)), escaped);
                }
            }
        }
    }

    /// A line written from a real instant parses back to its fields, and the
    /// time comes back exactly for any reference from that instant to 364
    /// days later.
    #[test]
    fn klog_round_trip(
        seconds in 0i64..9_000_000_000,
        micros in 0u32..1_000_000,
        letter in prop::sample::select(vec!['I', 'W', 'E', 'F']),
        id in any::<u32>(),
        pad in 1usize..8,
        file in "[a-z_/]{1,12}\\.(go|cc)",
        line in any::<u32>(),
        message in "[^\n]{0,40}",
        later in 0i64..364 * NANOS_PER_DAY,
    ) {
        let days = seconds.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days as i32);
        let of_day = seconds.rem_euclid(86_400) as u32;
        let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
        let text = format!(
            "{letter}{month:02}{day:02} {hour:02}:{minute:02}:{second:02}.{micros:06}{:pad$}{id} {file}:{line}] {message}",
            ""
        );
        let k = parse_klog(&text).expect("a klog line");
        prop_assert_eq!(
            (k.month, k.day, k.hour, k.minute, k.second, k.microsecond, k.id, k.file, k.line, k.message),
            (month, day, hour, minute, second, micros, u64::from(id), file.as_str(), line, message.as_str())
        );
        let instant = CivilDateTime { year, month, day, hour, minute, second, nanosecond: micros * 1000 }
            .to_unix_nanos(0)
            .unwrap();
        prop_assert_eq!(instant, seconds * NANOS_PER_SECOND + i64::from(micros) * 1000);
        prop_assert_eq!(k.timestamp(instant + later), Ok(instant));
    }
}
