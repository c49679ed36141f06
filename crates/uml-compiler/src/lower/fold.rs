//! Constant folding over the HIR, by the reference evaluator itself.
//!
//! An expression folds when its value is known at compile time and computing
//! it cannot fail: it reads nothing of the line (literals, variables bound to
//! constants, and anything built from them with operators and the standard
//! library's functions), and the evaluator computes a scalar from it. There
//! is no second implementation of the functions here: a function added to
//! the evaluator folds. An expression that would fail (a comparison of a
//! string and an int, `level("nonsense")`) is left alone, so that the
//! failure happens at run time where a handler sees it.

use crate::eval::{Evaluator, OwnedValue};
use crate::hir::{Expr, VarId};
use std::collections::HashMap;

/// A known value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// The value of `e`, when it is known and computing it cannot fail: the
/// reference evaluator's answer on a closed expression (one that reads
/// nothing of the line), kept when it is a scalar.
pub(crate) fn fold(e: &Expr, known: &HashMap<VarId, Const>, evaluator: &mut Evaluator<'_>) -> Option<Const> {
    let value = evaluator.eval_closed(e, &|v| known.get(&v).map(Const::to_value))?;
    Some(match value {
        OwnedValue::Null => Const::Null,
        OwnedValue::Bool(b) => Const::Bool(b),
        OwnedValue::Int(i) => Const::Int(i),
        OwnedValue::Float(f) => Const::Float(f),
        OwnedValue::Str(s) => Const::Str(s),
        OwnedValue::Array(_) | OwnedValue::Object(_) => return None,
    })
}

impl Const {
    fn to_value(&self) -> OwnedValue {
        match self {
            Const::Null => OwnedValue::Null,
            Const::Bool(b) => OwnedValue::Bool(*b),
            Const::Int(i) => OwnedValue::Int(*i),
            Const::Float(f) => OwnedValue::Float(*f),
            Const::Str(s) => OwnedValue::Str(s.clone()),
        }
    }
}
