//! The standard library as the checker sees it: names, parameters, return
//! types and fallibility. The implementations live in the runtime crate.
//!
//! A call is fallible when the function itself can fail (`parse_json` on
//! text that is not JSON), or when an argument's type is wider than the
//! parameter's (an `any` passed for a `string`), because then the runtime
//! must check the kind. An argument whose type cannot overlap the
//! parameter's at all is a compile error.

use crate::types::{Kinds, Type};

/// A standard library function; the runtime implements it.
pub use uml_runtime::plan::Func;

/// One parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kinds: Kinds,
    pub required: bool,
    /// The argument must be a literal (a regex, a format, a scale name),
    /// because the compiler prepares it once.
    pub literal: bool,
}

/// When a function fails, beyond argument kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fails {
    Never,
    Always,
    /// Only when the first argument may have one of these kinds.
    WhenFirstArgMay(Kinds),
}

#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// The function, which carries its name (`Func::name`).
    pub func: Func,
    pub params: &'static [Param],
    pub fails: Fails,
    /// The return type, given the first argument's type.
    pub returns: fn(&Type) -> Type,
}

const fn p(name: &'static str, kinds: Kinds) -> Param {
    Param { name, kinds, required: true, literal: false }
}

const fn opt(name: &'static str, kinds: Kinds) -> Param {
    Param { name, kinds, required: false, literal: false }
}

const fn lit(name: &'static str, kinds: Kinds, required: bool) -> Param {
    Param { name, kinds, required, literal: true }
}

const S: Kinds = Kinds::STRING;
const ANY: Kinds = Kinds::JSON.union(Kinds::REGEX);
const STR_OR_RE: Kinds = Kinds::STRING.union(Kinds::REGEX);

fn string(_: &Type) -> Type {
    Type::STRING
}
fn any(_: &Type) -> Type {
    Type::ANY
}
fn object(_: &Type) -> Type {
    Type::OBJECT
}
fn int(_: &Type) -> Type {
    Type::INT
}
fn boolean(_: &Type) -> Type {
    Type::BOOL
}
fn array(_: &Type) -> Type {
    Type::ARRAY
}
fn level(_: &Type) -> Type {
    Type::one_of(LEVELS)
}
fn same_container(first: &Type) -> Type {
    Type::of(first.kinds().intersect(Kinds::STRING.union(Kinds::ARRAY)))
}

/// The four normalised levels.
pub const LEVELS: [&str; 4] = ["DEBUG", "INFO", "WARNING", "ERROR"];

/// Every function, in the order of `docs/language.md` §10.
pub const SIGNATURES: &[Signature] = &[
    Signature { func: Func::ParseJson, params: &[p("value", S)], fails: Fails::Always, returns: any },
    Signature {
        func: Func::ParseRegex,
        params: &[p("value", S), lit("pattern", Kinds::REGEX, true), lit("numeric_groups", Kinds::BOOL, false)],
        fails: Fails::Always,
        returns: object,
    },
    Signature { func: Func::ParseKlog, params: &[p("value", S)], fails: Fails::Always, returns: object },
    Signature { func: Func::ParseLogfmt, params: &[p("value", S)], fails: Fails::Always, returns: object },
    Signature {
        func: Func::ParseTimestamp,
        params: &[p("value", S), lit("format", S, true)],
        fails: Fails::Always,
        returns: int,
    },
    Signature { func: Func::StripAnsiEscapeCodes, params: &[p("value", S)], fails: Fails::Never, returns: string },
    Signature { func: Func::Upcase, params: &[p("value", S)], fails: Fails::Never, returns: string },
    Signature { func: Func::Downcase, params: &[p("value", S)], fails: Fails::Never, returns: string },
    Signature { func: Func::Trim, params: &[p("value", S)], fails: Fails::Never, returns: string },
    Signature {
        func: Func::Contains,
        params: &[p("value", S), p("substring", S), opt("case_sensitive", Kinds::BOOL)],
        fails: Fails::Never,
        returns: boolean,
    },
    Signature {
        func: Func::StartsWith,
        params: &[p("value", S), p("substring", S), opt("case_sensitive", Kinds::BOOL)],
        fails: Fails::Never,
        returns: boolean,
    },
    Signature {
        func: Func::EndsWith,
        params: &[p("value", S), p("substring", S), opt("case_sensitive", Kinds::BOOL)],
        fails: Fails::Never,
        returns: boolean,
    },
    Signature {
        func: Func::Replace,
        params: &[p("value", S), p("pattern", STR_OR_RE), p("with", S), opt("count", Kinds::INT)],
        fails: Fails::Never,
        returns: string,
    },
    Signature {
        func: Func::Split,
        params: &[p("value", S), p("pattern", STR_OR_RE), opt("limit", Kinds::INT)],
        fails: Fails::Never,
        returns: array,
    },
    Signature {
        func: Func::Slice,
        params: &[p("value", Kinds::STRING.union(Kinds::ARRAY)), p("start", Kinds::INT), opt("end", Kinds::INT)],
        fails: Fails::Always,
        returns: same_container,
    },
    Signature {
        func: Func::Length,
        params: &[p("value", Kinds::STRING.union(Kinds::ARRAY).union(Kinds::OBJECT))],
        fails: Fails::Never,
        returns: int,
    },
    Signature {
        func: Func::ToString,
        params: &[p("value", ANY)],
        fails: Fails::WhenFirstArgMay(Kinds::ARRAY.union(Kinds::OBJECT).union(Kinds::REGEX)),
        returns: string,
    },
    Signature {
        func: Func::ToInt,
        params: &[p("value", ANY)],
        fails: Fails::WhenFirstArgMay(Kinds::STRING.union(Kinds::ARRAY).union(Kinds::OBJECT).union(Kinds::REGEX)),
        returns: int,
    },
    Signature {
        func: Func::Truncate,
        params: &[p("value", S), p("limit", Kinds::INT), opt("suffix", S)],
        fails: Fails::Never,
        returns: string,
    },
    Signature { func: Func::Exists, params: &[p("path", ANY)], fails: Fails::Never, returns: boolean },
    Signature { func: Func::IsNull, params: &[p("value", ANY)], fails: Fails::Never, returns: boolean },
    Signature { func: Func::IsObject, params: &[p("value", ANY)], fails: Fails::Never, returns: boolean },
    Signature { func: Func::IsString, params: &[p("value", ANY)], fails: Fails::Never, returns: boolean },
    Signature {
        func: Func::Get,
        params: &[p("value", Kinds::JSON), p("path", Kinds::ARRAY)],
        fails: Fails::Never,
        returns: any,
    },
    Signature {
        func: Func::Level,
        params: &[p("value", Kinds::JSON), lit("scale", S, false)],
        fails: Fails::Always,
        returns: level,
    },
    Signature { func: Func::EncodeJson, params: &[p("value", Kinds::JSON)], fails: Fails::Never, returns: string },
];

pub fn lookup(name: &str) -> Option<&'static Signature> {
    SIGNATURES.iter().find(|s| s.name() == name)
}

/// The signature of `func`: [`SIGNATURES`] lists the functions in the
/// order [`Func`] declares them (a test holds it).
pub fn signature(func: Func) -> &'static Signature {
    let sig = &SIGNATURES[func as usize];
    debug_assert_eq!(sig.func, func);
    sig
}

impl Signature {
    /// The name rules call the function by.
    pub fn name(&self) -> &'static str {
        self.func.name()
    }
}

/// The known function names closest to `name`, for "did you mean" help.
pub fn suggest(name: &str) -> Option<&'static str> {
    SIGNATURES
        .iter()
        .map(|s| s.name())
        .chain(crate::prelude::DEFS.iter().map(|d| d.name))
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance, for suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for s in SIGNATURES {
            assert_eq!(lookup(s.name()).map(|f| f.func), Some(s.func));
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("parse_jsn"), Some("parse_json"));
        assert_eq!(suggest("uppercase"), None);
        assert_eq!(suggest("upcas"), Some("upcase"));
    }

    /// One signature per function, in the order `Func` declares them, so
    /// that [`signature`] is an index.
    #[test]
    fn signatures_follow_the_functions() {
        let funcs: Vec<Func> = SIGNATURES.iter().map(|s| s.func).collect();
        assert_eq!(funcs, Func::ALL);
        for f in Func::ALL {
            assert_eq!(signature(*f).func, *f);
            assert_eq!(lookup(f.name()).map(|s| s.func), Some(*f));
        }
    }
}
