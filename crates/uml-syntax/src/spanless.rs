//! Comparing trees regardless of how their source was laid out.
//!
//! The formatter's law is that printing a tree and parsing the text gives the
//! same tree back, except for what the layout alone decides: the spans, which
//! point into a different text, the comments, and whether a key that needs
//! no quotes was written with them (the formatter removes such quotes).
//! Instead of a parallel equality trait with an impl per node, both trees are
//! put in a layout-free form and the derived `PartialEq` compares them. Every
//! node is destructured in full below, so a field added to the tree without
//! being handled here is a compile error.
//!
//! Comment texts are not in the tree: compare them separately, through the
//! source they were read from.
//!
//! ```
//! use uml_syntax::{parse, FileId, spanless};
//!
//! let a = parse(FileId(0), "rule r { payload.\"message\" = 1 }");
//! let b = parse(FileId(0), "rule r {\n  # Why.\n  payload.message = 1\n}\n");
//! assert_ne!(a.file, b.file);
//! assert!(spanless::eq(&a.file, &b.file));
//! ```

use crate::ast::*;
use crate::format::is_bare_key;
use crate::span::Span;

/// Whether `a` and `b` are the same tree, layout aside.
pub fn eq(a: &File<'_>, b: &File<'_>) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    strip_layout(&mut a);
    strip_layout(&mut b);
    a == b
}

/// Sets every span in `file` to [`Span::DUMMY`], removes its comments and
/// marks a key quoted only if it cannot be written bare.
pub fn strip_layout(file: &mut File<'_>) {
    let File { items, comments } = file;
    comments.clear();
    for item in items {
        match item {
            Item::Schema(schema) => strip_schema(schema),
            Item::Rule(rule) => strip_rule(rule),
            Item::Test(test) => strip_test(test),
        }
    }
}

/// [`strip_layout`] for one expression.
pub fn strip_expr_layout(expr: &mut Expr<'_>) {
    let Expr { kind, span } = expr;
    *span = Span::DUMMY;
    match kind {
        ExprKind::Literal(_) => {}
        ExprKind::Template(parts) => {
            for part in parts {
                match part {
                    TemplatePart::Text(_) => {}
                    TemplatePart::Hole(hole) => strip_expr_layout(hole),
                }
            }
        }
        ExprKind::Array(items) => items.iter_mut().for_each(strip_expr_layout),
        ExprKind::Object(entries) => entries.iter_mut().for_each(strip_entry),
        ExprKind::Var(name) | ExprKind::Meta(name) => strip_ident(name),
        ExprKind::Output(target) => strip_output(target),
        ExprKind::Path { base, segments } => {
            strip_expr_layout(base);
            for segment in segments {
                match segment {
                    Segment::Field(key) => strip_key(key),
                    Segment::Index(_, span) => *span = Span::DUMMY,
                }
            }
        }
        ExprKind::Call { func, abort: _, args } => {
            strip_ident(func);
            for Arg { name, value } in args {
                if let Some(name) = name {
                    strip_ident(name);
                }
                strip_expr_layout(value);
            }
        }
        ExprKind::Not(operand) | ExprKind::Group(operand) => strip_expr_layout(operand),
        ExprKind::Compare { op: _, op_span, lhs, rhs } => {
            *op_span = Span::DUMMY;
            strip_expr_layout(lhs);
            strip_expr_layout(rhs);
        }
        ExprKind::Chain { op: _, operands } => operands.iter_mut().for_each(strip_expr_layout),
        ExprKind::If { branches, otherwise } => {
            for (cond, value) in branches {
                strip_expr_layout(cond);
                strip_expr_layout(value);
            }
            strip_expr_layout(otherwise);
        }
    }
}

fn strip_schema(schema: &mut Schema<'_>) {
    let Schema { sections, span } = schema;
    *span = Span::DUMMY;
    for SchemaSection { kind: _, fields, span } in sections {
        *span = Span::DUMMY;
        for FieldDecl { name, optional: _, ty, span } in fields {
            *span = Span::DUMMY;
            match name {
                FieldName::Named(key) => strip_key(key),
                FieldName::Wildcard(span) => *span = Span::DUMMY,
            }
            strip_type(ty);
        }
    }
}

fn strip_type(ty: &mut TypeExpr<'_>) {
    match ty {
        TypeExpr::Named(name) => strip_ident(name),
        TypeExpr::Literal(_, span) => *span = Span::DUMMY,
        TypeExpr::Union(alternatives, span) => {
            *span = Span::DUMMY;
            alternatives.iter_mut().for_each(strip_type);
        }
    }
}

fn strip_rule(rule: &mut Rule<'_>) {
    let Rule { name, clauses, body, span } = rule;
    *span = Span::DUMMY;
    strip_ident(name);
    for clause in clauses {
        match clause {
            Clause::When(e, span) | Clause::MaxRecordSize(e, span) => {
                *span = Span::DUMMY;
                strip_expr_layout(e);
            }
            Clause::Framing(name, span) => {
                *span = Span::DUMMY;
                strip_ident(name);
            }
            Clause::Multiline { preset, options, span } => {
                *span = Span::DUMMY;
                if let Some(preset) = preset {
                    strip_ident(preset);
                }
                for entry in options.iter_mut().flatten() {
                    strip_entry(entry);
                }
            }
        }
    }
    body.iter_mut().for_each(strip_stmt);
}

fn strip_stmt(stmt: &mut Stmt<'_>) {
    let Stmt { kind, span } = stmt;
    *span = Span::DUMMY;
    match kind {
        StmtKind::Let { name, err, value } => {
            strip_ident(name);
            if let Some(err) = err {
                strip_ident(err);
            }
            strip_expr_layout(value);
        }
        StmtKind::Assign { target, value } => {
            strip_output(target);
            strip_expr_layout(value);
        }
        StmtKind::If { branches, otherwise } => {
            for (cond, block) in branches {
                strip_expr_layout(cond);
                strip_block(block);
            }
            if let Some(block) = otherwise {
                strip_block(block);
            }
        }
        StmtKind::Drop { reason } => strip_str(reason),
        StmtKind::Emit => {}
    }
}

fn strip_block(block: &mut Block<'_>) {
    let Block { stmts, span } = block;
    *span = Span::DUMMY;
    stmts.iter_mut().for_each(strip_stmt);
}

fn strip_test(test: &mut Test<'_>) {
    let Test { name, clauses, span } = test;
    *span = Span::DUMMY;
    strip_str(name);
    for clause in clauses {
        match clause {
            TestClause::Input(entries, span) | TestClause::Expect(entries, span) => {
                *span = Span::DUMMY;
                entries.iter_mut().for_each(strip_entry);
            }
            TestClause::ExpectDrop(reason, span) => {
                *span = Span::DUMMY;
                strip_str(reason);
            }
        }
    }
}

fn strip_entry(entry: &mut Entry<'_>) {
    let Entry { key, value } = entry;
    strip_key(key);
    strip_expr_layout(value);
}

fn strip_output(output: &mut Output<'_>) {
    let Output { root: _, key, span } = output;
    *span = Span::DUMMY;
    strip_key(key);
}

fn strip_key(key: &mut Key<'_>) {
    let Key { name, quoted, span } = key;
    *quoted = !is_bare_key(name);
    *span = Span::DUMMY;
}

fn strip_ident(ident: &mut Ident<'_>) {
    let Ident { name: _, span } = ident;
    *span = Span::DUMMY;
}

fn strip_str(s: &mut StrLit<'_>) {
    let StrLit { value: _, style: _, span } = s;
    *span = Span::DUMMY;
}
