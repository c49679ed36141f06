//! The standard library allocates nothing on the hot path: with output
//! buffers that already have room, no call reaches the allocator. A counting
//! global allocator checks it, per thread, so other tests cannot interfere.

use uml_runtime::json::scan_value;
use uml_runtime::stdlib::ansi::{needs_strip, strip_ansi_escape_codes};
use uml_runtime::stdlib::json_string::{copy_json_string_body, write_json_string};
use uml_runtime::stdlib::klog::parse_klog;
use uml_runtime::stdlib::level::{Scale, normalize_level, parse_level};
use uml_runtime::stdlib::logfmt::parse_logfmt;
use uml_runtime::stdlib::number::{format_float, format_int, parse_int};
use uml_runtime::stdlib::text::{
    contains, downcase, ends_with, length, replace, slice, split, starts_with, trim, truncate, upcase,
};
use uml_runtime::stdlib::timestamp::{TimestampFormat, parse_rfc3339, parse_timestamp};

#[path = "support/counting_alloc.rs"]
pub mod counting_alloc;
use counting_alloc::allocations_in;

#[test]
fn no_allocation_with_warm_buffers() {
    let kaniko = "\x1b[36mINFO\x1b[0m[0000] Retrieving image manifest python:3.11       ";
    let unicode = "ΟΔΟΣ ━━━━ straße İstanbul \u{212A}elvin ✓";
    let klog = "I1120 10:00:00.000000       1 watcher.go:88] resync";
    let logfmt = r#"time="2026-11-20T10:00:00Z" level=info msg="a \"quoted\" value" dry_run"#;
    let json = "\"lone \\ud800 and a raw\ttab\"";
    let raw = scan_value(json.as_bytes()).unwrap();
    let asctime = TimestampFormat::compile("%Y-%m-%d %H:%M:%S,%3f").unwrap();
    let mut out = String::with_capacity(4096);
    let mut bytes = Vec::with_capacity(4096);

    let n = allocations_in(|| {
        for _ in 0..3 {
            out.clear();
            bytes.clear();
            assert!(needs_strip(kaniko));
            strip_ansi_escape_codes(kaniko, &mut out);
            upcase(unicode, &mut out);
            downcase(unicode, &mut out);
            assert!(!trim(unicode).is_empty());
            assert!(contains(unicode, "KELVIN", false));
            assert!(!contains(unicode, "STRASSE", false));
            assert!(starts_with(unicode, "οδοσ", false));
            assert!(ends_with(unicode, "✓", true));
            replace(unicode, "━", "=", -1, &mut out);
            assert_eq!(split(unicode, " ", 3).count(), 3);
            assert!(slice(unicode, -5, None).is_ok());
            assert!(length(unicode) > 0);
            truncate(unicode, 6).write("…", &mut out);
            format_int(i64::MIN, &mut out);
            format_float(1763632800.2240348, &mut out);
            format_float(1.5e-7, &mut out);
            format_float(3.0, &mut out);
            assert_eq!(parse_int("-137"), Ok(-137));
            assert!(normalize_level(" [W] ").is_some());
            assert!(parse_level("25", Some(Scale::Python)).is_ok());
            let k = parse_klog(klog).unwrap();
            assert!(k.timestamp(parse_rfc3339("2026-11-20T10:00:01.5Z").unwrap()).is_ok());
            for pair in parse_logfmt(logfmt) {
                pair.unwrap().value.write(&mut out);
            }
            assert!(asctime.parse("2026-11-20 00:43:12,801").is_ok());
            assert!(parse_timestamp("Fri Nov 20 10:00:00 2026", "%a %b %e %T %Y").is_ok());
            assert!(parse_timestamp("garbage", "%Y").is_err());
            write_json_string(&mut bytes, unicode);
            copy_json_string_body(&mut bytes, raw.string_body(json.as_bytes()), raw.flags);
        }
    });
    assert_eq!(n, 0, "allocations on the hot path");
    assert!(!out.is_empty() && !bytes.is_empty());

    // The counter works: a cold buffer grows.
    let mut cold = String::new();
    assert!(allocations_in(|| upcase("grows", &mut cold)) > 0);
}
