//! What a standard-library function is: its name, its parameters, when it
//! fails, what it returns, and its one implementation ([`Native`]).
//!
//! The table of every function is [`super::NATIVES`], indexed by
//! [`super::Func`]. The compiler's checker reads the signature from it, the
//! reference evaluator and constant folding call [`Native::call`] on their
//! values, and the executor calls it on slot values, so a function is
//! written once. The executor may run an operation of its own instead where
//! it knows more than the call does (a precompiled timestamp format, a regex
//! idiom, a JSON string still undecoded; see `exec/funcs.rs`); the
//! differential tests hold such a fast path to this definition.
//!
//! A call sees its arguments as borrowed [`Arg`]s: strings already decoded,
//! containers as their JSON text. It answers with a [`Ret`]: a scalar, a
//! part of an argument (no copy), or text it wrote to the caller's `out`
//! buffer, which the caller reuses from line to line.

use std::fmt;

use regex::Regex;

use crate::json::{JsonKind, RawValue};

/// A set of value kinds, one bit each: what a parameter accepts, what a
/// function returns, and the checker's types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kinds(u8);

impl Kinds {
    pub const NULL: Kinds = Kinds(1);
    pub const BOOL: Kinds = Kinds(2);
    pub const INT: Kinds = Kinds(4);
    pub const FLOAT: Kinds = Kinds(8);
    pub const STRING: Kinds = Kinds(16);
    pub const ARRAY: Kinds = Kinds(32);
    pub const OBJECT: Kinds = Kinds(64);
    pub const REGEX: Kinds = Kinds(128);
    /// The kinds a JSON value can have.
    pub const JSON: Kinds = Kinds(1 | 2 | 4 | 8 | 16 | 32 | 64);
    pub const NUMBER: Kinds = Kinds(4 | 8);
    /// Values that print as text in a template hole or `to_string`.
    pub const SCALAR: Kinds = Kinds(2 | 4 | 8 | 16);
    /// Each kind and its name, in the order types are printed.
    pub const NAMES: [(Kinds, &'static str); 8] = [
        (Kinds::STRING, "string"),
        (Kinds::INT, "int"),
        (Kinds::FLOAT, "float"),
        (Kinds::BOOL, "bool"),
        (Kinds::ARRAY, "array"),
        (Kinds::OBJECT, "object"),
        (Kinds::REGEX, "regex"),
        (Kinds::NULL, "null"),
    ];

    pub const fn empty() -> Kinds {
        Kinds(0)
    }

    pub const fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    pub const fn intersect(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    pub const fn without(self, other: Kinds) -> Kinds {
        Kinds(self.0 & !other.0)
    }

    pub const fn contains(self, other: Kinds) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Exactly one kind.
    pub const fn is_single(self) -> bool {
        self.0.count_ones() == 1
    }
}

/// One parameter of a function.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kinds: Kinds,
    pub required: bool,
    /// The argument must be a literal (a regex, a format, a scale name),
    /// because the compiler prepares it once.
    pub literal: bool,
}

impl Param {
    /// A required parameter.
    pub const fn new(name: &'static str, kinds: Kinds) -> Param {
        Param { name, kinds, required: true, literal: false }
    }

    /// An optional parameter.
    pub const fn optional(name: &'static str, kinds: Kinds) -> Param {
        Param { name, kinds, required: false, literal: false }
    }

    /// A parameter whose argument must be a literal.
    pub const fn literal(name: &'static str, kinds: Kinds, required: bool) -> Param {
        Param { name, kinds, required, literal: true }
    }
}

/// When a function fails, beyond arguments of the wrong kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fails {
    Never,
    Always,
    /// Only when the first argument may have one of these kinds.
    WhenFirstArgMay(Kinds),
}

/// What a function returns, as the checker types it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// A value of these kinds.
    Kinds(Kinds),
    /// One of the four level names.
    Level,
    /// The kind of the first argument, a string or an array.
    SameContainer,
}

/// An argument as a function sees it.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string, decoded.
    Str(&'a str),
    /// An array or an object: `raw` in `bytes`, valid JSON.
    Json(&'a [u8], RawValue),
    /// A regex literal, compiled once with the rule set.
    Regex(&'a Regex),
}

impl Arg<'_> {
    /// The name of the argument's kind, as error messages say it.
    pub fn kind(&self) -> &'static str {
        match self {
            Arg::Null => "null",
            Arg::Bool(_) => "bool",
            Arg::Int(_) => "int",
            Arg::Float(_) => "float",
            Arg::Str(_) => "string",
            Arg::Json(_, raw) if raw.kind == JsonKind::Array => "array",
            Arg::Json(..) => "object",
            Arg::Regex(_) => "regex",
        }
    }
}

/// What a function returns.
#[derive(Clone, Copy, Debug)]
pub enum Ret<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string: a part of a string argument, or a `'static` one.
    Str(&'a str),
    /// The string the call wrote to `out`.
    Written,
    /// The JSON value (of this kind) the call wrote to `out`.
    WrittenJson(JsonKind),
    /// A JSON value inside a container argument: `raw` in its `bytes`.
    Json(&'a [u8], RawValue),
}

impl Ret<'_> {
    /// The result when it borrows nothing; `None` for [`Ret::Str`] and
    /// [`Ret::Json`].
    pub fn owned(self) -> Option<Ret<'static>> {
        Some(match self {
            Ret::Null => Ret::Null,
            Ret::Bool(v) => Ret::Bool(v),
            Ret::Int(v) => Ret::Int(v),
            Ret::Float(v) => Ret::Float(v),
            Ret::Written => Ret::Written,
            Ret::WrittenJson(kind) => Ret::WrittenJson(kind),
            Ret::Str(_) | Ret::Json(..) => return None,
        })
    }
}

/// Why a call failed: a message in up to three parts, so that a kind name
/// can be put in without formatting (`expected a string, found int`), and
/// the byte a parse failed at, if it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    parts: [&'static str; 3],
    at: Option<u32>,
}

impl Failure {
    pub const fn new(message: &'static str) -> Failure {
        Failure { parts: [message, "", ""], at: None }
    }

    /// `prefix`, a kind's name, `suffix`.
    pub const fn kind(prefix: &'static str, kind: &'static str, suffix: &'static str) -> Failure {
        Failure { parts: [prefix, kind, suffix], at: None }
    }

    /// `message at byte N`.
    pub const fn at(message: &'static str, offset: u32) -> Failure {
        Failure { parts: [message, "", ""], at: Some(offset) }
    }

    /// The message's parts, to be written one after the other.
    pub fn parts(&self) -> &[&'static str; 3] {
        &self.parts
    }

    /// The byte offset that ends the message (` at byte N`), if any.
    pub fn offset(&self) -> Option<u32> {
        self.at
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.parts.iter().try_for_each(|p| f.write_str(p))?;
        match self.at {
            Some(at) => write!(f, " at byte {at}"),
            None => Ok(()),
        }
    }
}

/// The most parameters a function has.
pub const MAX_PARAMS: usize = 4;

/// A call's arguments, by parameter position; `None` where an optional
/// argument was not given.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a, 'r> {
    args: &'r [Option<Arg<'a>>],
}

impl<'a, 'r> Args<'a, 'r> {
    pub fn new(args: &'r [Option<Arg<'a>>]) -> Self {
        Args { args }
    }

    /// The argument at `i`, if given.
    pub fn get(&self, i: usize) -> Option<Arg<'a>> {
        self.args.get(i).copied().flatten()
    }

    /// The string at `i`.
    pub fn string(&self, i: usize) -> Result<&'a str, Failure> {
        match self.get(i) {
            Some(Arg::Str(s)) => Ok(s),
            Some(other) => Err(Failure::kind("expected a string, found ", other.kind(), "")),
            None => Err(Failure::new("missing argument")),
        }
    }

    /// The int at `i`, or `default` when it was not given.
    pub fn int_or(&self, i: usize, default: i64) -> Result<i64, Failure> {
        match self.get(i) {
            None => Ok(default),
            Some(Arg::Int(n)) => Ok(n),
            Some(other) => Err(Failure::kind("expected an int, found ", other.kind(), "")),
        }
    }

    /// The bool at `i`, or `default` when it was not given.
    pub fn bool_or(&self, i: usize, default: bool) -> Result<bool, Failure> {
        match self.get(i) {
            None => Ok(default),
            Some(Arg::Bool(b)) => Ok(b),
            Some(other) => Err(Failure::kind("expected a bool, found ", other.kind(), "")),
        }
    }

    /// The regex at `i` (a literal).
    pub fn regex(&self, i: usize) -> Option<&'a Regex> {
        match self.get(i) {
            Some(Arg::Regex(re)) => Some(re),
            _ => None,
        }
    }
}

/// What a call knows besides its arguments.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// The line's timestamp, ns since the epoch: the year of a klog
    /// timestamp, which has none, is the one that puts it nearest to this.
    pub now_ns: i64,
}

/// A function's implementation: the arguments, the buffer to write a
/// result to (empty on entry), and the context.
pub type Body = for<'a> fn(Args<'a, '_>, &mut String, &Context) -> Result<Ret<'a>, Failure>;

/// A standard-library function.
///
/// Calling it is a protocol both callers follow: [`Native::check_args`]
/// first, then [`Native::call`], whose body may then take each required
/// string, int or bool argument as given.
#[derive(Clone, Copy, Debug)]
pub struct Native {
    /// The name rules call it by.
    pub name: &'static str,
    pub params: &'static [Param],
    pub fails: Fails,
    pub returns: Returns,
    /// The implementation; `None` for a special form, whose argument is not
    /// a value (`exists` asks whether a path is present).
    pub call: Option<Body>,
}

impl Native {
    /// Checks the arguments of the required parameters that take exactly a
    /// string, an int or a bool, in parameter order: the first one missing
    /// or of another kind fails the call, as `expected a string, found
    /// null`. `kind_of(i)` is the name of argument `i`'s kind ([`Arg::kind`]),
    /// `None` when it was not given. Parameters of several kinds, optional
    /// ones and literals are the body's to check.
    #[inline]
    pub fn check_args(&self, kind_of: impl Fn(usize) -> Option<&'static str>) -> Result<(), Failure> {
        for (i, p) in self.params.iter().enumerate() {
            if !p.required || p.literal {
                continue;
            }
            let (wanted, expected) = match p.kinds {
                Kinds::STRING => ("string", "expected a string, found "),
                Kinds::INT => ("int", "expected an int, found "),
                Kinds::BOOL => ("bool", "expected a bool, found "),
                _ => continue,
            };
            match kind_of(i) {
                None => return Err(Failure::new("missing argument")),
                Some(kind) if kind != wanted => return Err(Failure::kind(expected, kind, "")),
                Some(_) => {}
            }
        }
        Ok(())
    }
}
