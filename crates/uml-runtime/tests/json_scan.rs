//! The JSON scanner against serde_json as the oracle.

use proptest::prelude::*;
use serde_json::{Map, Value};
use uml_runtime::json::{
    JsonErrorKind, JsonKind, MAX_DEPTH, RawValue, decode_string, get_element, get_member, scan_object,
    scan_object_present, scan_value,
};

fn scan(input: &str, keys: &[&str]) -> Result<Vec<Option<String>>, JsonErrorKind> {
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let mut found = vec![None; keys.len()];
    scan_object(input.as_bytes(), &keys, &mut found).map_err(|e| e.kind)?;
    Ok(found.iter().map(|v| v.map(|v| String::from_utf8(v.text(input.as_bytes()).to_vec()).unwrap())).collect())
}

#[test]
fn finds_wanted_keys_only() {
    let line = r#"{"asctime": "2026-11-20 00:43:12,801", "levelname": "INFO", "message": "hi", "n": [1, {"x": 2}]}"#;
    let got = scan(line, &["levelname", "message", "exc_info", "n"]).unwrap();
    assert_eq!(got, vec![Some("\"INFO\"".into()), Some("\"hi\"".into()), None, Some("[1, {\"x\": 2}]".into())]);
}

#[test]
fn last_duplicate_key_wins() {
    assert_eq!(scan(r#"{"a": 1, "a": 2}"#, &["a"]).unwrap(), vec![Some("2".into())]);
}

#[test]
fn escaped_keys_match() {
    assert_eq!(scan(r#"{"mess\u0061ge": "x"}"#, &["message"]).unwrap(), vec![Some("\"x\"".into())]);
}

#[test]
fn python_nonfinite_numbers_are_accepted_and_flagged() {
    let line = br#"{"a": NaN, "b": -Infinity, "c": Infinity}"#;
    let mut found = [None; 3];
    scan_object(line, &[b"a", b"b", b"c"], &mut found).unwrap();
    assert!(found.iter().all(|v| v.unwrap().has(RawValue::NONFINITE) && v.unwrap().kind == JsonKind::Number));
}

#[test]
fn raw_control_characters_are_flagged_not_rejected() {
    let line = "{\"m\": \"a\tb\"}";
    let mut found = [None];
    scan_object(line.as_bytes(), &[b"m"], &mut found).unwrap();
    assert!(found[0].unwrap().has(RawValue::CONTROL));
}

#[test]
fn string_flags() {
    let line = br#"{"a": "plain text long enough to use the wide path", "b": "x\ny", "c": "\ud800"}"#;
    let mut found = [None; 3];
    scan_object(line, &[b"a", b"b", b"c"], &mut found).unwrap();
    assert_eq!(found[0].unwrap().flags, 0);
    assert_eq!(found[1].unwrap().flags, RawValue::ESCAPED);
    assert_eq!(found[2].unwrap().flags, RawValue::ESCAPED | RawValue::UNICODE);
}

#[test]
fn lone_surrogates_decode_to_replacement() {
    let mut out = Vec::new();
    decode_string(br"a\ud800b\ud83d\ude00c\udc00", |c| out.extend_from_slice(c));
    assert_eq!(String::from_utf8(out).unwrap(), "a\u{FFFD}b\u{1F600}c\u{FFFD}");
}

#[test]
fn not_an_object() {
    assert_eq!(scan("[1]", &[]), Err(JsonErrorKind::NotAnObject));
    assert_eq!(scan("\"x\"", &[]), Err(JsonErrorKind::NotAnObject));
    assert_eq!(scan("INFO: Started server", &[]), Err(JsonErrorKind::UnexpectedByte));
    assert_eq!(scan("", &[]), Err(JsonErrorKind::UnexpectedEnd));
}

#[test]
fn malformed_objects_fail() {
    for bad in [
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{]}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":tru}",
        "{} x",
        "{\"a\":\"open}",
        "{\"a\":[}",
        "{\"a\":{\"b\":1]}",
    ] {
        assert!(scan(bad, &["a"]).is_err(), "{bad} should fail");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(scan(&deep, &["a"]), Err(JsonErrorKind::TooDeep));
    let ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(scan(&ok, &["a"]).is_ok());
    let over = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(scan(&over, &["a"]), Err(JsonErrorKind::TooDeep));
}

#[test]
fn error_messages_are_written_as_displayed() {
    for text in ["", "x", "{\"a\": tru}", "[1,", "\"\\q\"", "-", "[1] 2", &"[".repeat(MAX_DEPTH + 1)] {
        let e = scan_value(text.as_bytes()).unwrap_err();
        let mut written = String::from("prefix: ");
        e.write_message(&mut written);
        assert_eq!(written, format!("prefix: {e}"), "{text:?}");
    }
    let e = scan_object(b"[]", &[b"a"], &mut [None]).unwrap_err();
    let mut written = String::new();
    e.write_message(&mut written);
    assert_eq!(written, "not a JSON object at byte 0");
    assert_eq!(
        scan_value("[".repeat(MAX_DEPTH + 1).as_bytes()).unwrap_err().what(),
        format!("arrays and objects nested deeper than {MAX_DEPTH}")
    );
}

#[test]
fn member_and_element_lookup() {
    let line = br#"{"a": {"b": [10, "x", {"c": true}]}}"#;
    let mut found = [None];
    scan_object(line, &[b"a"], &mut found).unwrap();
    let b = get_member(line, found[0].unwrap(), b"b").unwrap();
    assert_eq!(b.kind, JsonKind::Array);
    assert_eq!(get_element(line, b, 0).unwrap().text(line), b"10");
    assert_eq!(get_element(line, b, -1).unwrap().text(line), br#"{"c": true}"#);
    assert_eq!(get_element(line, b, -3).unwrap().text(line), b"10");
    assert!(get_element(line, b, 3).is_none());
    assert!(get_element(line, b, -4).is_none());
    assert!(get_member(line, b, b"c").is_none());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        "[a\\\\\"\u{0}-\u{1f}\u{80}-\u{10ffff}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-e]{1,3}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(("[a-e]{1,3}|message|levelname", arb_json()), 0..8).prop_map(|kv| kv.into_iter().collect())
}

proptest! {
    /// Every member of a serde_json-serialised object is found, and its raw
    /// text parses back to the same value.
    #[test]
    fn finds_what_serde_wrote(obj in arb_object(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&obj) } else { serde_json::to_string(&obj) }.unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        let found = scan(&text, &keys).unwrap();
        for (k, raw) in keys.iter().zip(found) {
            let raw = raw.expect("every key is found");
            let parsed: Value = serde_json::from_str(&raw).unwrap();
            prop_assert_eq!(&parsed, &obj[*k]);
        }
    }

    /// Decoding a scanned string gives what serde_json decodes.
    #[test]
    fn decodes_like_serde(s in ".{0,40}", ascii_only in any::<bool>()) {
        let mut text = serde_json::to_string(&Value::String(s.clone())).unwrap();
        if ascii_only {
            // Force \u escapes (including surrogate pairs) like Python's ensure_ascii.
            text = text.chars().map(|c| if c.is_ascii() { c.to_string() } else {
                c.encode_utf16(&mut [0; 2]).iter().map(|u| format!("\\u{u:04x}")).collect()
            }).collect();
        }
        let v = scan_value(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        decode_string(v.string_body(text.as_bytes()), |c| out.extend_from_slice(c));
        prop_assert_eq!(String::from_utf8(out).unwrap(), s);
    }

    /// On arbitrary text the scanner never panics, and it accepts an object
    /// exactly when serde_json does (for inputs without the Python extensions
    /// and raw control characters the scanner tolerates on purpose). Long
    /// enough for strings across the scanner's 64-byte blocks.
    #[test]
    fn agrees_with_serde_on_validity(input in "[{}\\[\\]\":,0-9a-z \\\\.eE+-]{0,160}") {
        let ours = scan(&input, &["a"]).is_ok();
        let theirs = serde_json::from_str::<Map<String, Value>>(&input).is_ok();
        prop_assert_eq!(ours, theirs, "input: {}", input);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut found = [None; 2];
        let _ = scan_object(&bytes, &[b"a", b"b"], &mut found);
        let _ = scan_value(&bytes);
    }
}

proptest! {
    /// An indexed key set finds what a list of the same keys finds, and a
    /// scan with it extracts the same values.
    #[test]
    fn a_key_set_finds_what_a_list_finds(
        keys in proptest::collection::btree_set("[a-z@._]{0,12}", 0..40),
        probe in "[a-z@._]{0,12}",
        members in proptest::collection::vec(("[a-z@._]{0,12}", 0u32..1000), 0..12),
    ) {
        use uml_runtime::json::{KeySet, WantedKeys};
        let list: Vec<&str> = keys.iter().map(String::as_str).collect();
        let set = KeySet::new(list.iter().copied());
        prop_assert_eq!(set.find(probe.as_bytes()), list.find(probe.as_bytes()));
        for key in &list {
            prop_assert_eq!(set.find(key.as_bytes()), list.find(key.as_bytes()));
        }
        let object: Map<String, Value> = members.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        let text = Value::Object(object).to_string();
        let (mut by_list, mut by_set) = (vec![None; list.len()], vec![None; list.len()]);
        scan_object(text.as_bytes(), &list, &mut by_list).unwrap();
        scan_object(text.as_bytes(), &set, &mut by_set).unwrap();
        prop_assert_eq!(&by_list, &by_set);
        // The executor's form: what it found says which places hold a
        // value, whatever they held before.
        let mut stale = vec![Some(RawValue { kind: JsonKind::Null, start: 0, end: 0, flags: 0 }); list.len()];
        let (_, present) = scan_object_present(text.as_bytes(), &set, &mut stale).unwrap();
        for (i, expected) in by_list.iter().enumerate() {
            let got = (present >> i & 1 == 1).then_some(stale[i]).flatten();
            prop_assert_eq!(got, *expected, "key {}", i);
        }
    }
}
