//! Constant folding over the HIR, with the reference evaluator's semantics.
//!
//! An expression folds when its value is known at compile time and computing
//! it cannot fail: literals, variables bound to constants, templates,
//! `!`, `&&`, `||`, comparisons, `??`, `if` and the pure string functions on
//! constant arguments. An expression that would fail (a comparison of a
//! string and an int, `level("nonsense")`) is left alone, so that the
//! failure happens at run time where a handler sees it.

use crate::hir::{Expr, ExprKind, Part, VarId};
use crate::stdlib::Func;
use std::collections::HashMap;
use uml_runtime::stdlib::level::{Scale, parse_level};
use uml_runtime::stdlib::{number, text};
use uml_syntax::ast::CompareOp;

/// A known value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// The value of `e`, when it is known and computing it cannot fail.
pub(crate) fn fold(e: &Expr, known: &HashMap<VarId, Const>) -> Option<Const> {
    Some(match &e.kind {
        ExprKind::Null => Const::Null,
        ExprKind::Bool(b) => Const::Bool(*b),
        ExprKind::Int(i) => Const::Int(*i),
        ExprKind::Float(f) => Const::Float(*f),
        ExprKind::Str(s) => Const::Str(s.clone()),
        ExprKind::Var(v) => known.get(v)?.clone(),
        ExprKind::Template(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(t) => out.push_str(t),
                    Part::Hole(h) => match fold(h, known)? {
                        Const::Str(s) => out.push_str(&s),
                        Const::Int(i) => number::format_int(i, &mut out),
                        Const::Float(f) => number::format_float(f, &mut out),
                        Const::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                        Const::Null => return None,
                    },
                }
            }
            Const::Str(out)
        }
        ExprKind::Not(x) => match fold(x, known)? {
            Const::Bool(b) => Const::Bool(!b),
            _ => return None,
        },
        ExprKind::And(xs) => {
            for x in xs {
                match fold(x, known)? {
                    Const::Bool(true) => {}
                    Const::Bool(false) => return Some(Const::Bool(false)),
                    _ => return None,
                }
            }
            Const::Bool(true)
        }
        ExprKind::Or(xs) => {
            for x in xs {
                match fold(x, known)? {
                    Const::Bool(false) => {}
                    Const::Bool(true) => return Some(Const::Bool(true)),
                    _ => return None,
                }
            }
            Const::Bool(false)
        }
        ExprKind::Compare { op, lhs, rhs } => {
            let (l, r) = (fold(lhs, known)?, fold(rhs, known)?);
            Const::Bool(compare(*op, &l, &r)?)
        }
        ExprKind::Coalesce(xs) => {
            let (last, init) = xs.split_last()?;
            for x in init {
                match fold(x, known)? {
                    Const::Null => {}
                    c => return Some(c),
                }
            }
            fold(last, known)?
        }
        ExprKind::If { branches, otherwise } => {
            for (cond, value) in branches {
                match fold(cond, known)? {
                    Const::Bool(true) => return fold(value, known),
                    Const::Bool(false) => {}
                    _ => return None,
                }
            }
            fold(otherwise, known)?
        }
        ExprKind::Call { func, args, .. } => call(*func, args, known)?,
        _ => return None,
    })
}

fn call(func: Func, args: &[Option<Expr>], known: &HashMap<VarId, Const>) -> Option<Const> {
    let arg = |i: usize| -> Option<Option<Const>> {
        match args.get(i) {
            Some(Some(e)) => fold(e, known).map(Some),
            _ => Some(None),
        }
    };
    let string = |i: usize| -> Option<String> {
        match arg(i)? {
            Some(Const::Str(s)) => Some(s),
            _ => None,
        }
    };
    let case = |i: usize| -> Option<bool> {
        match arg(i)? {
            None => Some(true),
            Some(Const::Bool(b)) => Some(b),
            _ => None,
        }
    };
    let mut out = String::new();
    Some(match func {
        Func::Upcase => {
            text::upcase(&string(0)?, &mut out);
            Const::Str(out)
        }
        Func::Downcase => {
            text::downcase(&string(0)?, &mut out);
            Const::Str(out)
        }
        Func::Trim => Const::Str(text::trim(&string(0)?).to_string()),
        Func::Length => Const::Int(text::length(&string(0)?) as i64),
        Func::Contains => Const::Bool(text::contains(&string(0)?, &string(1)?, case(2)?)),
        Func::StartsWith => Const::Bool(text::starts_with(&string(0)?, &string(1)?, case(2)?)),
        Func::EndsWith => Const::Bool(text::ends_with(&string(0)?, &string(1)?, case(2)?)),
        Func::IsNull => Const::Bool(matches!(arg(0)?, None | Some(Const::Null))),
        Func::IsString => Const::Bool(matches!(arg(0)?, Some(Const::Str(_)))),
        Func::IsObject => match arg(0)? {
            Some(_) => Const::Bool(false),
            None => return None,
        },
        Func::ToString => match arg(0)? {
            Some(Const::Str(s)) => Const::Str(s),
            Some(Const::Int(i)) => {
                number::format_int(i, &mut out);
                Const::Str(out)
            }
            Some(Const::Float(f)) => {
                number::format_float(f, &mut out);
                Const::Str(out)
            }
            Some(Const::Bool(b)) => Const::Str(b.to_string()),
            Some(Const::Null) | None => Const::Str(String::new()),
        },
        Func::Level => {
            let scale = match arg(1)? {
                Some(Const::Str(s)) => Scale::from_name(&s),
                _ => None,
            };
            Const::Str(parse_level(&string(0)?, scale).ok()?.as_str().to_string())
        }
        _ => return None,
    })
}

fn compare(op: CompareOp, l: &Const, r: &Const) -> Option<bool> {
    use std::cmp::Ordering;
    let equal = match (l, r) {
        (Const::Int(a), Const::Float(b)) | (Const::Float(b), Const::Int(a)) => (*a as f64) == *b,
        _ => l == r,
    };
    let ordering = || -> Option<Ordering> {
        match (l, r) {
            (Const::Int(a), Const::Int(b)) => Some(a.cmp(b)),
            (Const::Str(a), Const::Str(b)) => Some(a.cmp(b)),
            (a, b) => {
                let n = |c: &Const| match c {
                    Const::Int(i) => Some(*i as f64),
                    Const::Float(f) => Some(*f),
                    _ => None,
                };
                n(a)?.partial_cmp(&n(b)?)
            }
        }
    };
    Some(match op {
        CompareOp::Eq => equal,
        CompareOp::NotEq => !equal,
        CompareOp::Lt => ordering()? == Ordering::Less,
        CompareOp::Le => ordering()? != Ordering::Greater,
        CompareOp::Gt => ordering()? == Ordering::Greater,
        CompareOp::Ge => ordering()? != Ordering::Less,
        CompareOp::Match | CompareOp::NotMatch => return None,
    })
}
