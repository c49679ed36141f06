//! The pure core of the standard library (`docs/language.md` §10).
//!
//! These are the functions behind `strip_ansi_escape_codes`, `upcase`,
//! `trim`, `level`, `parse_klog`, `parse_timestamp` and the rest, written
//! once for both the executor and the reference evaluator. They know nothing
//! of values, plans or the executor: inputs are borrowed `&str`s and numbers,
//! and results are
//!
//! - sub-slices of the input when nothing has to change (`trim`, `slice`,
//!   the unescaped values of `parse_logfmt`, the message of `parse_klog`),
//! - text appended to a `&mut String` (or `&mut Vec<u8>` for JSON output)
//!   owned by the caller, who reuses it from line to line,
//! - or small `Copy` structs and enums ([`level::Level`], [`klog::Klog`]).
//!
//! **Nothing here allocates on the success path** except by growing the
//! caller's buffer, and nothing allocates on failure: errors are one-byte
//! `Copy` enums whose `message()` is a `&'static str`, the text an abort
//! prints as `(f: message)` (§8). The one exception is compiling a
//! [`timestamp::TimestampFormat`], which happens once, with the rule set.
//! Where the common case can avoid a copy altogether there is a cheap test
//! first ([`ansi::needs_strip`]) or a borrowed result ([`text::Truncation`]).
//!
//! Strings are Unicode where the language says so (case mapping, character
//! counts and positions, `trim`'s whitespace), with an ASCII fast path
//! wherever ASCII text can take one.
//!
//! | module | functions |
//! | --- | --- |
//! | [`ansi`] | `strip_ansi_escape_codes` |
//! | [`text`] | `upcase`, `downcase`, `trim`, `contains`, `starts_with`, `ends_with`, `replace` (literal patterns), `split` (literal patterns), `slice`, `length`, `truncate` |
//! | [`number`] | the `to_string` and `to_int` conversions of numbers and strings |
//! | [`level`] | `level` |
//! | [`klog`] | `parse_klog` |
//! | [`logfmt`] | `parse_logfmt` |
//! | [`timestamp`] | `parse_timestamp`, and RFC 3339 for the CRI framing |
//! | [`json_string`] | JSON string output for the record writer |
//!
//! Regex patterns (`parse_regex`, `replace` and `split` with a regex) belong
//! to the executor, which owns the compiled `regex` objects.

pub mod ansi;
pub mod json_string;
pub mod klog;
pub mod level;
pub mod logfmt;
pub mod number;
pub mod text;
pub mod timestamp;

/// Declares a one-byte error enum with a static message per variant, and its
/// `message`, `Display` and `Error` implementations.
macro_rules! error_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $message:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// What went wrong, in the words an abort prints.
            pub fn message(self) -> &'static str {
                match self {
                    $( Self::$variant => $message, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.message())
            }
        }

        impl std::error::Error for $name {}
    };
}

pub(crate) use error_enum;
