//! Static types: what a value may be at run time.
//!
//! A [`Type`] is a set of runtime kinds, refined for strings by an optional
//! set of literal values. That is enough to express everything the checker
//! needs: `string`, `any` (a value read from parsed data: any JSON kind),
//! `string | null`, and the literal unions that schemas use for enumerations
//! (`"DEBUG" | "INFO" | "WARNING" | "ERROR"`). Types form a lattice under
//! [`Type::union`] with [`Type::NEVER`] at the bottom; [`Type::is_subtype_of`]
//! is set inclusion.

use std::collections::BTreeSet;
use std::fmt;

/// The kinds of values, one bit each: the runtime's, which the standard
/// library's signatures are written in.
pub use uml_runtime::stdlib::native::Kinds;

/// The static type of an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    kinds: Kinds,
    /// With [`Kinds::STRING`] in `kinds`: `None` for any string, or the
    /// exact set of string values possible.
    strings: Option<BTreeSet<Box<str>>>,
}

impl Type {
    /// No value: the type of an expression that never produces one.
    pub const NEVER: Type = Type::of(Kinds::empty());
    pub const NULL: Type = Type::of(Kinds::NULL);
    pub const BOOL: Type = Type::of(Kinds::BOOL);
    pub const INT: Type = Type::of(Kinds::INT);
    pub const FLOAT: Type = Type::of(Kinds::FLOAT);
    pub const STRING: Type = Type::of(Kinds::STRING);
    pub const ARRAY: Type = Type::of(Kinds::ARRAY);
    pub const OBJECT: Type = Type::of(Kinds::OBJECT);
    pub const REGEX: Type = Type::of(Kinds::REGEX);
    /// A value read from parsed data: any JSON value.
    pub const ANY: Type = Type::of(Kinds::JSON);

    pub const fn of(kinds: Kinds) -> Type {
        Type { kinds, strings: None }
    }

    /// Exactly the string `s`.
    pub fn literal(s: &str) -> Type {
        Type { kinds: Kinds::STRING, strings: Some(BTreeSet::from([s.into()])) }
    }

    /// One of the given strings.
    pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Type {
        Type { kinds: Kinds::STRING, strings: Some(values.into_iter().map(Into::into).collect()) }
    }

    pub fn kinds(&self) -> Kinds {
        self.kinds
    }

    /// The possible string values, if they are known.
    pub fn string_values(&self) -> Option<&BTreeSet<Box<str>>> {
        self.strings.as_ref().filter(|_| self.kinds.contains(Kinds::STRING))
    }

    /// The one value this type allows, if it is a single string literal.
    pub fn as_literal(&self) -> Option<&str> {
        match self.string_values() {
            Some(set) if self.kinds == Kinds::STRING && set.len() == 1 => set.first().map(|s| &**s),
            _ => None,
        }
    }

    /// True when the type names one kind, or one string literal: a value
    /// of it is known to be that, not just possibly.
    pub fn is_definite(&self) -> bool {
        self.kinds.is_single()
            && (!self.kinds.contains(Kinds::STRING) || self.strings.as_ref().is_none_or(|s| s.len() == 1))
    }

    pub fn is_never(&self) -> bool {
        self.kinds.is_empty()
    }

    pub fn may_be(&self, kinds: Kinds) -> bool {
        self.kinds.intersects(kinds)
    }

    /// True when every value of this type has one of `kinds`.
    pub fn is_only(&self, kinds: Kinds) -> bool {
        kinds.contains(self.kinds)
    }

    /// The least type containing both.
    pub fn union(&self, other: &Type) -> Type {
        let strings = match (self.kinds.contains(Kinds::STRING), other.kinds.contains(Kinds::STRING)) {
            (true, true) => match (&self.strings, &other.strings) {
                (Some(a), Some(b)) => Some(a.union(b).cloned().collect()),
                _ => None,
            },
            (true, false) => self.strings.clone(),
            (false, true) => other.strings.clone(),
            (false, false) => None,
        };
        Type { kinds: self.kinds.union(other.kinds), strings }
    }

    /// This type without the given kinds (`string | null` without null is `string`).
    pub fn without(&self, kinds: Kinds) -> Type {
        let kinds = self.kinds.without(kinds);
        let strings = if kinds.contains(Kinds::STRING) { self.strings.clone() } else { None };
        Type { kinds, strings }
    }

    /// True when every value of `self` is a value of `other`.
    pub fn is_subtype_of(&self, other: &Type) -> bool {
        if !other.kinds.contains(self.kinds) {
            return false;
        }
        if !self.kinds.contains(Kinds::STRING) {
            return true;
        }
        match (&self.strings, &other.strings) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a.is_subset(b),
        }
    }

    /// True when some value belongs to both types.
    pub fn overlaps(&self, other: &Type) -> bool {
        let common = self.kinds.intersect(other.kinds);
        if common.without(Kinds::STRING).is_empty() && common.contains(Kinds::STRING) {
            return match (&self.strings, &other.strings) {
                (Some(a), Some(b)) => !a.is_disjoint(b),
                _ => true,
            };
        }
        !common.is_empty()
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("never");
        }
        let mut parts: Vec<String> = Vec::new();
        let mut rest = self.kinds;
        // `any` names the whole JSON set; it absorbs the kinds it covers.
        if rest.contains(Kinds::JSON) && self.strings.is_none() {
            parts.push("any".into());
            rest = rest.without(Kinds::JSON);
        }
        for (kind, name) in Kinds::NAMES {
            if !rest.contains(kind) {
                continue;
            }
            match (&self.strings, kind == Kinds::STRING) {
                (Some(values), true) => parts.extend(values.iter().map(|v| format!("{v:?}"))),
                _ => parts.push(name.into()),
            }
        }
        f.write_str(&parts.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> Type {
        Type::one_of(["DEBUG", "INFO", "WARNING", "ERROR"])
    }

    #[test]
    fn literal_unions_are_subtypes_of_string() {
        assert!(Type::literal("INFO").is_subtype_of(&levels()));
        assert!(levels().is_subtype_of(&Type::STRING));
        assert!(!Type::STRING.is_subtype_of(&levels()));
        assert!(!Type::literal("info").is_subtype_of(&levels()));
        assert!(!Type::ANY.is_subtype_of(&Type::STRING));
        assert!(Type::STRING.is_subtype_of(&Type::ANY));
    }

    #[test]
    fn union_and_without() {
        let t = Type::STRING.union(&Type::NULL);
        assert_eq!(t.to_string(), "string | null");
        assert_eq!(t.without(Kinds::NULL), Type::STRING);
        let l = Type::literal("ERROR").union(&Type::literal("INFO"));
        assert_eq!(l.to_string(), "\"ERROR\" | \"INFO\"");
        assert_eq!(l.union(&Type::STRING), Type::STRING);
        assert_eq!(Type::ANY.to_string(), "any");
        assert_eq!(Type::ANY.union(&Type::REGEX).to_string(), "any | regex");
        assert_eq!(Type::NEVER.union(&Type::INT), Type::INT);
    }

    #[test]
    fn definite_types() {
        assert!(Type::OBJECT.is_definite());
        assert!(Type::literal("INFO").is_definite());
        assert!(Type::STRING.is_definite());
        assert!(!levels().is_definite());
        assert!(!Type::STRING.union(&Type::NULL).is_definite());
        assert!(!Type::ANY.is_definite());
        assert!(!Type::NEVER.is_definite());
    }

    #[test]
    fn overlap() {
        assert!(Type::ANY.overlaps(&Type::STRING));
        assert!(!Type::INT.overlaps(&Type::STRING));
        assert!(!Type::literal("a").overlaps(&Type::literal("b")));
        assert!(Type::literal("a").overlaps(&Type::STRING));
    }
}
