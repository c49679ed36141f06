//! JSON string output against serde_json as the oracle.

use proptest::prelude::*;
use uml_runtime::json::{RawValue, decode_string, scan_value};
use uml_runtime::stdlib::json_string::{
    copy_json_string_body, write_json_string, write_json_string_body, write_json_string_body_twice,
};

/// Strings with plenty of what needs escaping.
fn awkward_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            2 => prop::sample::select(vec!['"', '\\', '\n', '\r', '\t', '\x00', '\x08', '\x0c', '\x1b', '\x1f', '\x7f', '/', '\u{2028}', 'é', '😀']),
            4 => prop::char::range('a', 'z'),
        ],
        0..64,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// The pieces of a JSON string body as a writer might produce it, valid for
/// the scanner: plain text, short escapes, `\u` escapes of any code unit
/// (lone surrogates included, in either case), and raw control characters.
fn body_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<char>().prop_filter("plain", |c| *c != '"' && *c != '\\' && *c >= ' ').prop_map(String::from),
        2 => prop::sample::select(vec![r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t"]).prop_map(str::to_owned),
        2 => (any::<u16>(), any::<bool>()).prop_map(|(u, upper)| if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") }),
        1 => (0xD800u16..0xDC00, 0xDC00u16..0xE000).prop_map(|(hi, lo)| format!("\\u{hi:04x}\\u{lo:04x}")),
        1 => (0u8..0x20).prop_map(|c| char::from(c).to_string()),
        2 => "[a-z ]{1,12}",
    ]
}

fn decoded(body: &[u8]) -> String {
    let mut bytes = Vec::new();
    decode_string(body, |chunk| bytes.extend_from_slice(chunk));
    String::from_utf8(bytes).expect("decode_string writes UTF-8")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The output is exactly serde_json's, so it parses back to the input.
    #[test]
    fn write_matches_serde_json(s in awkward_string()) {
        let mut out = b"prefix".to_vec();
        write_json_string(&mut out, &s);
        prop_assert_eq!(&out[..6], b"prefix");
        let written = std::str::from_utf8(&out[6..]).unwrap();
        prop_assert_eq!(written, serde_json::to_string(&s).unwrap());
        prop_assert_eq!(serde_json::from_str::<String>(written).unwrap(), s.clone());

        let mut body = Vec::new();
        write_json_string_body(&mut body, s.as_bytes());
        prop_assert_eq!(&body[..], &out[7..out.len() - 1]);
    }

    /// Escaping twice in one pass is escaping the escape.
    #[test]
    fn write_twice_is_the_escape_escaped(s in awkward_string()) {
        let mut once = Vec::new();
        write_json_string_body(&mut once, s.as_bytes());
        let mut again = b"prefix".to_vec();
        write_json_string_body(&mut again, &once);
        let mut twice = b"prefix".to_vec();
        write_json_string_body_twice(&mut twice, s.as_bytes());
        prop_assert_eq!(twice, again);
    }

    #[test]
    fn write_any_unicode(s in any::<String>()) {
        let mut out = Vec::new();
        write_json_string(&mut out, &s);
        prop_assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
    }

    /// The copy is what the writer writes for the decoded string (which
    /// `parse_json` decodes the original to): serde_json's output.
    #[test]
    fn copy_is_the_writers_output(pieces in prop::collection::vec(body_piece(), 0..24)) {
        let json = format!("\"{}\"", pieces.concat());
        let raw = scan_value(json.as_bytes()).expect("the generated string scans");
        let body = raw.string_body(json.as_bytes());
        let mut out = Vec::new();
        copy_json_string_body(&mut out, body, raw.flags);
        let copied = std::str::from_utf8(&out).expect("the copy is UTF-8");
        let written = serde_json::to_string(&decoded(body)).unwrap();
        prop_assert_eq!(copied, &written[1..written.len() - 1]);
        if !raw.has(RawValue::UNICODE) && !raw.has(RawValue::SLASH) && !raw.has(RawValue::CONTROL) {
            prop_assert_eq!(&out[..], body, "copied unchanged");
        }
        // Without lone surrogates and raw controls serde_json reads the
        // original too, and agrees.
        if let Ok(original) = serde_json::from_str::<String>(&json) {
            prop_assert_eq!(serde_json::from_str::<String>(&written).unwrap(), original);
        }
    }
}
