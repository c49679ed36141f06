//! The standard library as the checker sees it. Each function is defined
//! once, in the runtime (`uml_runtime::stdlib::NATIVES`: name, parameters,
//! fallibility, return kind, implementation); this module turns a
//! definition's return kind into a [`Type`] and suggests names.
//!
//! A call is fallible when the function itself can fail (`parse_json` on
//! text that is not JSON), or when an argument's type is wider than the
//! parameter's (an `any` passed for a `string`), because then the runtime
//! must check the kind. An argument whose type cannot overlap the
//! parameter's at all is a compile error.

use crate::types::{Kinds, Type};

pub use uml_runtime::stdlib::Func;
/// A function's definition: name, parameters, failures, return kind and
/// implementation, all in the runtime's table.
pub use uml_runtime::stdlib::native::{Fails, Native as Signature, Param, Returns};

/// The four normalised levels.
pub const LEVELS: [&str; 4] = ["DEBUG", "INFO", "WARNING", "ERROR"];

/// The function rules call `name`.
pub fn lookup(name: &str) -> Option<Func> {
    Func::lookup(name)
}

/// The type a call returns, given its first argument's type.
pub fn returns(sig: &Signature, first: &Type) -> Type {
    match sig.returns {
        Returns::Kinds(kinds) => Type::of(kinds),
        Returns::Level => Type::one_of(LEVELS),
        Returns::SameContainer => Type::of(first.kinds().intersect(Kinds::STRING.union(Kinds::ARRAY))),
    }
}

/// The known function names closest to `name`, for "did you mean" help.
pub fn suggest(name: &str) -> Option<&'static str> {
    Func::ALL
        .iter()
        .map(|f| f.name())
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
        for f in Func::ALL {
            assert_eq!(lookup(f.name()), Some(*f));
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("parse_jsn"), Some("parse_json"));
        assert_eq!(suggest("uppercase"), None);
        assert_eq!(suggest("upcas"), Some("upcase"));
    }

    /// Every parameter list fits the executor's argument array, and only
    /// the special form has no implementation.
    #[test]
    fn definitions_fit_the_executor() {
        for f in Func::ALL {
            let native = f.native();
            assert!(native.params.len() <= uml_runtime::stdlib::native::MAX_PARAMS, "{f}");
            assert_eq!(native.call.is_none(), *f == Func::Exists, "{f}");
        }
    }
}
