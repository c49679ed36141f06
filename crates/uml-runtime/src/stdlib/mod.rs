//! The standard library (`docs/language.md` §10): every function's one
//! definition, and the pure kernels behind them.
//!
//! [`native`] says what a function is ([`native::Native`]: name,
//! parameters, failures, return kind, implementation); [`NATIVES`] lists
//! them all, in [`Func`]'s order, and [`builtins`] defines the functions of
//! §10 on the kernels below. The compiler's checker, the reference
//! evaluator and the executor all read this one table. Adding a function
//! is a body and a `Native` (in `builtins.rs` or a module of its own), one
//! line in the `natives!` table, its section in `docs/language.md`, and its
//! tests.
//!
//! The kernels know nothing of values, plans or the executor: inputs are
//! borrowed `&str`s and numbers, and results are
//!
//! - sub-slices of the input when nothing has to change (`trim`, `slice`,
//!   the unescaped values of `parse_logfmt`, the message of `parse_klog`),
//! - text appended to a `&mut String` (or `&mut Vec<u8>` for JSON output)
//!   owned by the caller, who reuses it from line to line,
//! - or small `Copy` structs and enums ([`level::Level`], [`klog::Klog`]).
//!
//! **The kernels allocate nothing on the success path** except by growing
//! the caller's buffer, and nothing allocates on failure: errors are
//! one-byte `Copy` enums whose `message()` is a `&'static str`, the text an
//! abort prints as `(f: message)` (§8). A few definitions take a buffer of
//! their own for an uncommon case (`parse_regex`'s capture positions, which
//! the executor keeps preallocated; an escaped logfmt value, path key or
//! access-log field, decoded before it is written). The one exception is compiling a
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
//! | [`common_log`] | `parse_common_log` (its definition too) |
//! | [`timestamp`] | `parse_timestamp`, and RFC 3339 for the CRI framing |
//! | [`json_string`] | JSON string output for the record writer and the functions |
//!
//! Regex patterns (`parse_regex`, `replace` and `split` with a regex) come
//! to a body compiled, as an [`native::Arg::Regex`].

pub mod ansi;
pub mod builtins;
pub mod common_log;
pub mod json_string;
pub mod klog;
pub mod level;
pub mod logfmt;
pub mod native;
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

use native::Native;

/// Declares the standard library: [`Func`], one variant per function, and
/// [`NATIVES`], the definition of each, in the same order.
macro_rules! natives {
    ($( $variant:ident = $native:path, )*) => {
        /// A standard library function, known by its name in rules; its
        /// definition is [`Func::native`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Func {
            $( $variant, )*
        }

        /// Every function's definition, in [`Func`]'s order.
        pub static NATIVES: &[Native] = &[$( $native ),*];

        impl Func {
            /// Every function, in declaration order.
            pub const ALL: &'static [Func] = &[$( Func::$variant ),*];
        }
    };
}

// The order of `docs/language.md` §10.
natives! {
    ParseJson = builtins::PARSE_JSON,
    ParseRegex = builtins::PARSE_REGEX,
    ParseKlog = builtins::PARSE_KLOG,
    ParseLogfmt = builtins::PARSE_LOGFMT,
    ParseCommonLog = common_log::PARSE_COMMON_LOG,
    ParseTimestamp = builtins::PARSE_TIMESTAMP,
    StripAnsiEscapeCodes = builtins::STRIP_ANSI_ESCAPE_CODES,
    Upcase = builtins::UPCASE,
    Downcase = builtins::DOWNCASE,
    Trim = builtins::TRIM,
    Contains = builtins::CONTAINS,
    StartsWith = builtins::STARTS_WITH,
    EndsWith = builtins::ENDS_WITH,
    Replace = builtins::REPLACE,
    Split = builtins::SPLIT,
    Slice = builtins::SLICE,
    Length = builtins::LENGTH,
    ToString = builtins::TO_STRING,
    ToInt = builtins::TO_INT,
    Truncate = builtins::TRUNCATE,
    Exists = builtins::EXISTS,
    IsNull = builtins::IS_NULL,
    IsObject = builtins::IS_OBJECT,
    IsString = builtins::IS_STRING,
    Get = builtins::GET,
    Level = builtins::LEVEL,
    EncodeJson = builtins::ENCODE_JSON,
}

impl Func {
    /// The function's definition: signature and implementation.
    pub fn native(self) -> &'static Native {
        &NATIVES[self as usize]
    }

    /// The name rules call it by.
    pub fn name(self) -> &'static str {
        self.native().name
    }

    /// The function rules call `name`.
    pub fn lookup(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }
}
