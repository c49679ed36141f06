//! Expressions: name resolution, types and fallibility, bottom-up.

use super::RuleChecker;
use crate::hir::{Expr, ExprKind, Meta, Part, Segment, VarKind};
use crate::prelude;
use crate::stdlib::{self, Fails, Signature};
use crate::types::{Kinds, Type};
use uml_syntax::ast::{self, ChainOp, CompareOp, Literal, TemplatePart};
use uml_syntax::{Code, Diagnostic, Span};

/// A named capture of a condition, to be declared in the guarded scope.
pub(super) struct PendingCapture {
    /// Which `&&` operand the match is (`None`: the whole condition).
    conjunct: Option<usize>,
    group: usize,
    name: String,
    ty: Type,
    span: Span,
}

fn expr(kind: ExprKind, ty: Type, fallible: bool, span: Span) -> Expr {
    Expr { kind, ty, fallible, span }
}

impl RuleChecker<'_> {
    pub(super) fn expr(&mut self, e: &ast::Expr<'_>) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Literal(lit) => self.literal(lit, span),
            ast::ExprKind::Template(parts) => self.template(parts, span),
            ast::ExprKind::Array(items) => {
                let items: Vec<Expr> = items.iter().map(|i| self.value(i)).collect();
                let fallible = items.iter().any(|i| i.fallible);
                expr(ExprKind::Array(items), Type::ARRAY, fallible, span)
            }
            ast::ExprKind::Object(entries) => {
                let entries: Vec<(String, Expr)> =
                    entries.iter().map(|en| (en.key.name.to_string(), self.value(&en.value))).collect();
                let fallible = entries.iter().any(|(_, v)| v.fallible);
                expr(ExprKind::Object(entries), Type::OBJECT, fallible, span)
            }
            ast::ExprKind::Var(ident) if self.substitution.as_ref().is_some_and(|(p, _)| *p == ident.name) => {
                self.substitution.as_ref().map(|(_, arg)| arg.clone()).expect("tested in the guard")
            }
            ast::ExprKind::Var(ident) => match self.lookup(ident.name) {
                Some(id) => {
                    let ty = self.vars[id.0 as usize].ty.clone();
                    expr(ExprKind::Var(id), ty, false, span)
                }
                None => {
                    let mut d = Diagnostic::new(Code::UnknownVariable, format!("unknown variable `{}`", ident.name))
                        .primary(self.file, span, "not bound here");
                    let names = self.visible_names();
                    let best = names
                        .iter()
                        .map(|n| (stdlib::edit_distance(ident.name, n), n.to_string()))
                        .filter(|(d, _)| *d <= 2)
                        .min();
                    if let Some((_, best)) = best {
                        d = d.help(format!("did you mean `{best}`?"));
                        // The misspelling is the mistake, not an unused `best`.
                        self.lookup(&best);
                    }
                    if Meta::ALL.iter().any(|(n, _)| *n == ident.name) {
                        d = d.help(format!("line metadata is written with `%`: `%{}`", ident.name));
                    }
                    let unbound = self
                        .capture_names
                        .iter()
                        .rev()
                        .flat_map(|(_, names)| names.iter())
                        .find(|(n, _)| n == ident.name)
                        .map(|(_, s)| *s);
                    if let Some(id) = self.expired(ident.name) {
                        let var = &self.vars[id.0 as usize];
                        d = match var.kind {
                            VarKind::Capture => d
                                .secondary(self.file, var.span, "a capture of this condition")
                                .note("the captures of an `if` condition are bound only in the block it guards"),
                            VarKind::Let | VarKind::Error => d
                                .secondary(self.file, var.span, "bound here, in a block that has ended")
                                .note("a `let` inside a block is gone after the block"),
                        };
                        d = d.help(format!(
                            "use `{}` inside that block, or bind it before the `if` (on every branch that needs it)",
                            ident.name
                        ));
                    } else if let Some(at) = unbound {
                        d = d.secondary(self.file, at, "a named group of a match that binds nothing here").note(
                            "a `=~` binds its captures when it is the condition or a top-level `&&` operand of it, \
                             and then only in the body or block that the condition guards",
                        );
                    }
                    self.error(d);
                    expr(ExprKind::Null, Type::NEVER, false, span)
                }
            },
            ast::ExprKind::Meta(ident) => self.meta(ident, span),
            ast::ExprKind::Output(out) => self.output_read(out, span),
            ast::ExprKind::Path { base, segments } => {
                let base = self.expr(base);
                // After a mistake the path's value is unknown: nothing is derived from it.
                let mut ty = if base.ty.is_never() { Type::NEVER } else { Type::ANY };
                if !base.ty.is_never() && !base.ty.may_be(Kinds::OBJECT.union(Kinds::ARRAY)) {
                    let base_ty = base.ty.clone();
                    self.error(
                        Diagnostic::new(
                            Code::InvalidPath,
                            format!("a value of type `{base_ty}` has no fields or elements"),
                        )
                        .primary(self.file, base.span, format!("this is `{base_ty}`"))
                        .help("paths apply to objects and arrays, such as the result of `parse_json`"),
                    );
                    ty = Type::NEVER;
                }
                let segments = segments
                    .iter()
                    .map(|s| match s {
                        ast::Segment::Field(k) => Segment::Key(k.name.to_string()),
                        ast::Segment::Index(i, _) => Segment::Index(*i),
                    })
                    .collect();
                let fallible = base.fallible;
                expr(ExprKind::Path { base: Box::new(base), segments }, ty, fallible, span)
            }
            ast::ExprKind::Call { func, abort, args } => self.call(func, *abort, args, span),
            ast::ExprKind::Not(inner) => {
                let inner = self.expr(inner);
                let fallible = self.expect_bool(&inner, "`!`") || inner.fallible;
                expr(ExprKind::Not(Box::new(inner)), Type::BOOL, fallible, span)
            }
            ast::ExprKind::Compare { op, op_span, lhs, rhs } => self.compare(*op, *op_span, lhs, rhs, span),
            ast::ExprKind::Chain { op, operands } => self.chain(*op, operands, span),
            ast::ExprKind::If { branches, otherwise } => {
                let mut out = Vec::new();
                let mut ty = Type::NEVER;
                let mut fallible = false;
                for (cond, value) in branches {
                    let (mut cond, captures) = self.condition(cond);
                    self.scopes.push(Vec::new());
                    self.bind_captures(&mut cond, captures);
                    let value = self.expr(value);
                    self.pop_scope();
                    ty = ty.union(&value.ty);
                    fallible |= cond.fallible || value.fallible;
                    out.push((cond, value));
                }
                let otherwise = self.expr(otherwise);
                ty = ty.union(&otherwise.ty);
                fallible |= otherwise.fallible;
                // After a mistake in a branch, the value is unknown.
                if otherwise.ty.is_never() || out.iter().any(|(_, v)| v.ty.is_never()) {
                    ty = Type::NEVER;
                }
                expr(ExprKind::If { branches: out, otherwise: Box::new(otherwise) }, ty, fallible, span)
            }
            ast::ExprKind::Group(inner) => self.expr(inner),
        }
    }

    /// An expression whose value is used as data: a bare regex is an error.
    pub(super) fn value(&mut self, e: &ast::Expr<'_>) -> Expr {
        let mut v = self.expr(e);
        if v.ty.is_only(Kinds::REGEX) && !v.ty.is_never() {
            self.error(
                Diagnostic::new(Code::RegexMisuse, "a regex is not a value")
                    .primary(self.file, v.span, "a regex literal")
                    .help(
                        "write the literal where it is used: right of `=~`, or as the pattern of `parse_regex`, \
                         `replace` or `split`",
                    ),
            );
            // Reported here; where the value goes, nothing more is said.
            v.ty = Type::NEVER;
        }
        v
    }

    fn literal(&mut self, lit: &Literal<'_>, span: Span) -> Expr {
        match lit {
            Literal::Null => expr(ExprKind::Null, Type::NULL, false, span),
            Literal::Bool(b) => expr(ExprKind::Bool(*b), Type::BOOL, false, span),
            Literal::Int(i) => expr(ExprKind::Int(*i), Type::INT, false, span),
            Literal::Float(f) => expr(ExprKind::Float(*f), Type::FLOAT, false, span),
            Literal::Str(s, _) => expr(ExprKind::Str(s.to_string()), Type::literal(s), false, span),
            Literal::Regex(pattern) => {
                let re = super::regex::check(self.file, pattern, span, self.diags);
                expr(ExprKind::Regex(re), Type::REGEX, false, span)
            }
            Literal::Quantity { value, unit } => {
                self.error(
                    Diagnostic::new(Code::InvalidQuantity, format!("`{value}{unit}` is a quantity, not a value"))
                        .primary(
                            self.file,
                            span,
                            "sizes and durations belong in `max_record_size` and the `multiline` options",
                        ),
                );
                expr(ExprKind::Int(*value as i64), Type::NEVER, false, span)
            }
        }
    }

    fn template(&mut self, parts: &[TemplatePart<'_>], span: Span) -> Expr {
        let mut out = Vec::new();
        let mut fallible = false;
        for part in parts {
            match part {
                TemplatePart::Text(t) => out.push(Part::Text(t.to_string())),
                TemplatePart::Hole(h) => {
                    let hole = self.expr(h);
                    if !hole.ty.is_never() && !hole.ty.may_be(Kinds::SCALAR) {
                        let ty = hole.ty.clone();
                        self.error(
                            Diagnostic::new(Code::HoleType, format!("a template hole cannot print a value of type `{ty}`"))
                                .primary(self.file, hole.span, format!("this is `{ty}`"))
                                .help("holes print strings, numbers and bools; to show structured data, print one of its fields"),
                        );
                    } else {
                        // A hole that may hold something else fails at run time.
                        fallible |= !hole.ty.is_only(Kinds::SCALAR);
                    }
                    fallible |= hole.fallible;
                    out.push(Part::Hole(hole));
                }
            }
        }
        expr(ExprKind::Template(out), Type::STRING, fallible, span)
    }

    fn meta(&mut self, ident: &ast::Ident<'_>, span: Span) -> Expr {
        let Some(&(_, meta)) = Meta::ALL.iter().find(|(n, _)| *n == ident.name) else {
            let names: Vec<String> = Meta::ALL.iter().map(|(n, _)| format!("%{n}")).collect();
            self.error(
                Diagnostic::new(Code::UnknownMetadata, format!("unknown metadata `%{}`", ident.name))
                    .primary(self.file, span, "not line metadata")
                    .note(format!("the metadata are {}", names.join(", "))),
            );
            return expr(ExprKind::Null, Type::NEVER, false, span);
        };
        if meta == Meta::Traceback && !self.in_when {
            self.traceback_reads.push(span);
        }
        if self.in_when && !meta.per_file() {
            self.error(
                Diagnostic::new(
                    Code::MetadataInWhen,
                    format!("`%{}` differs from line to line; `when` cannot read it", ident.name),
                )
                .primary(self.file, span, "per-line metadata")
                .note("a rule is chosen once per file (and stream), before any line is read")
                .help("test the line in the rule's body and `drop` what does not belong"),
            );
        }
        expr(ExprKind::Meta(meta), crate::hir::meta_type(meta), false, span)
    }

    fn output_read(&mut self, out: &ast::Output<'_>, span: Span) -> Expr {
        let Some(o) = self.resolve_output(out) else {
            return expr(ExprKind::Null, Type::NEVER, false, span);
        };
        // In code that never runs (reported as W0001), reads are not checked.
        if self.flow.reachable && !self.flow.is_set(o) {
            let root = if out.root == ast::OutputRoot::Labels { "labels" } else { "payload" };
            let mut d = Diagnostic::new(
                Code::OutputReadBeforeSet,
                format!("`{root}.{}` is read before it is set on every path", out.key.name),
            )
            .primary(self.file, span, "read here");
            if let Some(set) = self.partial_assignment(o, span) {
                d = d.secondary(self.file, set, "set here, but not on every path to the read");
            }
            self.error(
                d.note("an output can be read back only where every path to the read has assigned it")
                    .help("assign it before this point on every branch, or read the value it is assigned from"),
            );
        }
        let ty = self.output_type(o);
        expr(ExprKind::Output(o), ty, false, span)
    }

    /// Checks a `bool` operand; returns whether it needs a run-time check
    /// (its type is wider than `bool`).
    fn expect_bool(&mut self, e: &Expr, what: &str) -> bool {
        if e.ty.is_never() {
            return false;
        }
        if !e.ty.may_be(Kinds::BOOL) {
            let ty = e.ty.clone();
            self.error(Diagnostic::new(Code::OperatorType, format!("{what} takes a bool, not `{ty}`")).primary(
                self.file,
                e.span,
                format!("this is `{ty}`"),
            ));
            return false;
        }
        !e.ty.is_only(Kinds::BOOL)
    }

    fn compare(&mut self, op: CompareOp, op_span: Span, lhs: &ast::Expr<'_>, rhs: &ast::Expr<'_>, span: Span) -> Expr {
        if matches!(op, CompareOp::Match | CompareOp::NotMatch) {
            let subject = self.value(lhs);
            let regex = match &rhs.kind {
                ast::ExprKind::Literal(Literal::Regex(p)) => {
                    let before = self.diags.len();
                    let mut regex = super::regex::check(self.file, p, rhs.span, self.diags);
                    if self.diags.len() > before {
                        // Declare the groups of a pattern with a mistake anyway,
                        // with no type: their reads are not unknown variables.
                        let names = super::regex::names_of_invalid(p, rhs.span);
                        regex.names = names.iter().enumerate().map(|(i, (n, _))| (i + 1, n.clone(), true)).collect();
                        self.capture_names.push((span, names));
                        self.invalid_matches.push(span);
                    }
                    regex
                }
                _ => {
                    // Resolve it anyway: an unknown name is its own mistake,
                    // and a variable holding a regex was reported where it was bound.
                    let pattern = self.expr(rhs);
                    if !pattern.ty.is_never() && !pattern.ty.is_only(Kinds::REGEX) {
                        self.error(
                            Diagnostic::new(
                                Code::RegexMisuse,
                                format!("the right side of `{}` must be a regex literal", op.as_str()),
                            )
                            .primary(self.file, rhs.span, format!("this is `{}`", pattern.ty))
                            .help("write the pattern as `r'…'`; to compare with a string, use `==`"),
                        );
                    }
                    crate::hir::Regex { pattern: String::new(), names: Vec::new() }
                }
            };
            if !regex.names.is_empty()
                && let ast::ExprKind::Literal(Literal::Regex(p)) = &rhs.kind
            {
                let names = super::regex::name_spans(p, rhs.span);
                self.capture_names.push((span, names));
            }
            let mut fallible = subject.fallible;
            if !subject.ty.is_never() && !subject.ty.may_be(Kinds::STRING) {
                let ty = subject.ty.clone();
                self.error(
                    Diagnostic::new(Code::OperatorType, format!("`{}` matches strings, not `{ty}`", op.as_str()))
                        .primary(self.file, subject.span, format!("this is `{ty}`")),
                );
            } else if !subject.ty.is_only(Kinds::STRING) {
                fallible = true;
            }
            let kind = ExprKind::Match {
                subject: Box::new(subject),
                regex,
                negate: op == CompareOp::NotMatch,
                captures: Vec::new(),
            };
            return expr(kind, Type::BOOL, fallible, span);
        }
        let lhs = self.value(lhs);
        let rhs = self.value(rhs);
        let mut fallible = lhs.fallible || rhs.fallible;
        if !matches!(op, CompareOp::Eq | CompareOp::NotEq) && !lhs.ty.is_never() && !rhs.ty.is_never() {
            // Ordering compares two numbers or two strings.
            let orderable = |a: &Type, b: &Type| {
                (a.may_be(Kinds::NUMBER) && b.may_be(Kinds::NUMBER))
                    || (a.may_be(Kinds::STRING) && b.may_be(Kinds::STRING))
            };
            let exact = |a: &Type, b: &Type| {
                (a.is_only(Kinds::NUMBER) && b.is_only(Kinds::NUMBER))
                    || (a.is_only(Kinds::STRING) && b.is_only(Kinds::STRING))
            };
            if !orderable(&lhs.ty, &rhs.ty) {
                self.error(
                    Diagnostic::new(
                        Code::OperatorType,
                        format!("`{}` cannot order `{}` and `{}`", op.as_str(), lhs.ty, rhs.ty),
                    )
                    .primary(self.file, op_span, "compares two numbers or two strings")
                    .secondary(self.file, lhs.span, format!("`{}`", lhs.ty))
                    .secondary(self.file, rhs.span, format!("`{}`", rhs.ty)),
                );
            } else if !exact(&lhs.ty, &rhs.ty) {
                fallible = true;
            }
        }
        expr(ExprKind::Compare { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, Type::BOOL, fallible, span)
    }

    fn chain(&mut self, op: ChainOp, operands: &[ast::Expr<'_>], span: Span) -> Expr {
        match op {
            ChainOp::And | ChainOp::Or => {
                let what = if op == ChainOp::And { "`&&`" } else { "`||`" };
                let mut fallible = false;
                let xs: Vec<Expr> = operands
                    .iter()
                    .map(|o| {
                        let x = self.expr(o);
                        fallible |= self.expect_bool(&x, what) || x.fallible;
                        x
                    })
                    .collect();
                let kind = if op == ChainOp::And { ExprKind::And(xs) } else { ExprKind::Or(xs) };
                expr(kind, Type::BOOL, fallible, span)
            }
            ChainOp::Coalesce => {
                let mut clean = Vec::with_capacity(operands.len());
                let xs: Vec<Expr> = operands
                    .iter()
                    .map(|o| {
                        let errors_before = self.error_count();
                        let x = self.value(o);
                        clean.push(self.error_count() == errors_before);
                        x
                    })
                    .collect();
                // The first operand that neither fails nor is null ends the
                // chain: what follows it never applies.
                let dead = xs.split_last().and_then(|(_, init)| {
                    init.iter().position(|x| !x.fallible && !x.ty.may_be(Kinds::NULL) && !x.ty.is_never())
                });
                if let Some(i) = dead.filter(|&i| clean[i]) {
                    self.dead_fallback(&xs[i], &xs[i + 1..]);
                }
                // Every operand but the last falls through on failure or null.
                let (last, init) = xs.split_last().expect("a chain has at least two operands");
                // After a mistake in an operand, the value is unknown.
                let ty = if xs.iter().any(|x| x.ty.is_never()) {
                    Type::NEVER
                } else {
                    init.iter().fold(last.ty.clone(), |acc, x| acc.union(&x.ty.without(Kinds::NULL)))
                };
                let fallible = last.fallible;
                expr(ExprKind::Coalesce(xs), ty, fallible, span)
            }
        }
    }

    /// Warns that the fallbacks `rest` after `left` never apply: `left`
    /// neither fails nor is null.
    fn dead_fallback(&mut self, left: &Expr, rest: &[Expr]) {
        let (Some(first), Some(last)) = (rest.first(), rest.last()) else { return };
        let what = self.describe(left);
        let these = if rest.len() == 1 { "this fallback never applies" } else { "these fallbacks never apply" };
        let mut d = Diagnostic::new(Code::DeadFallback, format!("{these}: {what} never fails here and is never null"))
            .primary(self.file, first.span.to(last.span), "never used")
            .secondary(self.file, left.span, format!("this is `{}` and cannot fail", left.ty));
        // `to_string` of null is "", which is what `?? null` was meant to keep.
        if let ExprKind::Call { func: stdlib::Func::ToString, args, .. } = &left.kind
            && let Some(Some(arg)) = args.first()
            && arg.ty.may_be(Kinds::NULL)
        {
            let shown = self.describe(arg);
            d = d.note(format!("`to_string` turns null into `\"\"`: where {shown} is null, this is `\"\"`, not null"));
            if matches!(first.kind, ExprKind::Null) {
                d = d.help(if arg.ty.is_subtype_of(&Type::STRING.union(&Type::NULL)) {
                    format!("{shown} is already a string or null: use it without `to_string` to keep a null")
                } else {
                    "to keep a null, test for it first: `if x == null { null } else { to_string(x) }`".to_string()
                });
                self.diags.push(d);
                return;
            }
        }
        self.diags.push(d.help(format!("remove the `?? …`, or check that {what} is the value meant here")));
    }

    /// How an expression is named in a message: `x`, `%line`, `to_string(…)`.
    pub(super) fn describe(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Var(id) => format!("`{}`", self.vars[id.0 as usize].name),
            ExprKind::Meta(m) => format!("`%{}`", m.name()),
            ExprKind::Output(o) => format!("`{}`", self.output_name(*o)),
            ExprKind::Call { func, abort, .. } => {
                let name = func.name();
                format!("`{name}{}(…)`", if *abort { "!" } else { "" })
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Regex(_) => "a literal".into(),
            ExprKind::Template(_) => "this template".into(),
            ExprKind::Array(_) => "an array literal".into(),
            ExprKind::Object(_) => "an object literal".into(),
            ExprKind::Not(_)
            | ExprKind::Compare { .. }
            | ExprKind::Match { .. }
            | ExprKind::And(_)
            | ExprKind::Or(_) => "this condition".into(),
            ExprKind::If { .. } => "this `if` expression".into(),
            ExprKind::Path { .. } | ExprKind::Coalesce(_) => "the left side".into(),
        }
    }

    /// A condition (`if`, `when`): a bool whose top-level `=~` conjuncts
    /// bind their named captures in the scope the condition guards. The
    /// captures are returned pending; [`Self::bind_captures`] declares them
    /// once that scope is open.
    pub(super) fn condition(&mut self, e: &ast::Expr<'_>) -> (Expr, Vec<PendingCapture>) {
        let mut cond = self.expr(e);
        cond.fallible |= self.condition_type(&cond);
        let mut captures = Vec::new();
        let conjuncts: Vec<(Option<usize>, &Expr)> = match &cond.kind {
            ExprKind::And(xs) => xs.iter().enumerate().map(|(i, x)| (Some(i), x)).collect(),
            ExprKind::Match { .. } => vec![(None, &cond)],
            _ => Vec::new(),
        };
        for (conjunct, c) in conjuncts {
            if let ExprKind::Match { regex, negate: false, .. } = &c.kind {
                let spans = self.capture_names.iter().rev().find(|(s, _)| *s == c.span).map(|(_, n)| n.as_slice());
                let invalid = self.invalid_matches.contains(&c.span);
                for (group, name, always) in &regex.names {
                    let ty = match (invalid, *always) {
                        (true, _) => Type::NEVER,
                        (false, true) => Type::STRING,
                        (false, false) => Type::STRING.union(&Type::NULL),
                    };
                    // Point at the group's name in the pattern.
                    let span = spans.and_then(|n| n.iter().find(|(n, _)| n == name)).map_or(c.span, |(_, s)| *s);
                    captures.push(PendingCapture { conjunct, group: *group, name: name.clone(), ty, span });
                }
            }
        }
        (cond, captures)
    }

    /// Declares pending captures in the current scope and records their
    /// variables on the `Match` nodes of `cond`, so that evaluation binds them.
    pub(super) fn bind_captures(&mut self, cond: &mut Expr, captures: Vec<PendingCapture>) {
        for c in captures {
            let id = self.declare(&c.name, c.ty, VarKind::Capture, c.span);
            let node = match (&mut cond.kind, c.conjunct) {
                (ExprKind::And(xs), Some(i)) => &mut xs[i],
                _ => &mut *cond,
            };
            if let ExprKind::Match { captures, .. } = &mut node.kind {
                captures.push((c.group, id));
            }
        }
    }

    fn condition_type(&mut self, cond: &Expr) -> bool {
        if cond.ty.is_never() {
            return false;
        }
        if !cond.ty.may_be(Kinds::BOOL) {
            let ty = cond.ty.clone();
            self.error(
                Diagnostic::new(Code::ConditionType, format!("a condition must be a bool, not `{ty}`"))
                    .primary(self.file, cond.span, format!("this is `{ty}`"))
                    .help("compare it, e.g. `x != null` or `x == \"value\"`"),
            );
            return false;
        }
        !cond.ty.is_only(Kinds::BOOL)
    }

    fn call(&mut self, func: &ast::Ident<'_>, abort: bool, args: &[ast::Arg<'_>], span: Span) -> Expr {
        if let Some(def) = prelude::lookup(func.name) {
            return self.defined_call(def, func, abort, args, span);
        }
        let Some(id) = stdlib::lookup(func.name) else {
            let mut d = Diagnostic::new(Code::UnknownFunction, format!("unknown function `{}`", func.name)).primary(
                self.file,
                func.span,
                "not in the standard library",
            );
            if let Some(best) = stdlib::suggest(func.name) {
                d = d.help(format!("did you mean `{best}`?"));
            }
            self.error(d);
            for a in args {
                self.expr(&a.value);
            }
            return expr(ExprKind::Null, Type::NEVER, false, span);
        };
        let sig = id.native();
        let errors_before = self.error_count();
        let bound = self.bind_args(sig, args, span);
        let mut fallible_args = false;
        let mut kind_check = false;
        let mut checked: Vec<Option<Expr>> = Vec::with_capacity(sig.params.len());
        for (param, arg) in sig.params.iter().zip(bound) {
            let Some(arg) = arg else {
                checked.push(None);
                continue;
            };
            let is_regex_literal = matches!(arg.kind, ast::ExprKind::Literal(Literal::Regex(_)));
            let value =
                if is_regex_literal && param.kinds.contains(Kinds::REGEX) { self.expr(arg) } else { self.value(arg) };
            fallible_args |= value.fallible;
            if param.literal && !is_literal(&value) {
                self.error(
                    Diagnostic::new(Code::NotConstant, format!("`{}` of `{}` must be a literal", param.name, sig.name))
                        .primary(self.file, value.span, "computed at run time")
                        .note("the compiler prepares it once, when the rules load"),
                );
            }
            if !value.ty.is_never() {
                let param_ty = Type::of(param.kinds);
                if !value.ty.overlaps(&param_ty) {
                    let ty = value.ty.clone();
                    let mut d = Diagnostic::new(
                        Code::ArgumentType,
                        format!("`{}` of `{}` takes `{param_ty}`, not `{ty}`", param.name, sig.name),
                    )
                    .primary(self.file, value.span, format!("this is `{ty}`"))
                    .note(signature_note(sig));
                    if let Some(n) = ty.as_literal().filter(|_| param.kinds == Kinds::INT)
                        && n.parse::<i64>().is_ok()
                    {
                        d = d.help(format!("write the number without quotes: `{n}`"));
                    }
                    self.error(d);
                } else if !value.ty.is_subtype_of(&param_ty) {
                    kind_check = true;
                }
            }
            checked.push(Some(value));
        }
        self.check_literal_args(id, &checked);
        if id == stdlib::Func::Exists {
            self.check_exists_arg(args);
        }
        let first_ty = checked.first().and_then(|a| a.as_ref()).map_or(Type::NEVER, |a| a.ty.clone());
        let own = match sig.fails {
            Fails::Never => false,
            Fails::Always => true,
            Fails::WhenFirstArgMay(kinds) => first_ty.may_be(kinds),
        } || kind_check
            || (id == stdlib::Func::Get && !literal_path(checked.get(1).and_then(Option::as_ref)));
        // After a mistake in the arguments, whether the call can fail is unknown.
        if abort && !own && self.error_count() == errors_before {
            self.abort_infallible(sig.name, func.span, "cannot fail with these arguments");
        }
        // An argument that could not be resolved makes the result unknown too.
        let unknown = checked.iter().flatten().any(|a| a.ty.is_never());
        let ty = if unknown { Type::NEVER } else { stdlib::returns(sig, &first_ty) };
        let fallible = fallible_args || (own && !abort);
        expr(ExprKind::Call { func: id, args: checked, abort }, ty, fallible, span)
    }

    /// Matches arguments to parameters: positional first, then by name.
    /// A call of a function defined in the rule language: its body, checked
    /// with the argument in place of the parameter.
    fn defined_call(
        &mut self,
        def: &'static prelude::Def,
        func: &ast::Ident<'_>,
        abort: bool,
        args: &[ast::Arg<'_>],
        span: Span,
    ) -> Expr {
        let note = format!("the signature is `{}({}: any) -> {}`", def.name, def.param, def.returns);
        let arg = match args {
            [a] if a.name.as_ref().is_none_or(|n| n.name == def.param) => &a.value,
            _ => {
                let d = Diagnostic::new(
                    Code::WrongArguments,
                    format!("`{}` takes exactly 1 argument, `{}`", def.name, def.param),
                )
                .primary(self.file, span, "in this call")
                .note(note);
                self.error(d);
                for a in args {
                    self.expr(&a.value);
                }
                return expr(ExprKind::Null, Type::NEVER, false, span);
            }
        };
        let value = self.value(arg);
        if value.ty.is_never() {
            return expr(ExprKind::Null, Type::NEVER, false, span);
        }
        let param_ty = Type::of(def.kinds);
        if !value.ty.overlaps(&param_ty) {
            let ty = value.ty.clone();
            self.error(
                Diagnostic::new(
                    Code::ArgumentType,
                    format!("`{}` of `{}` takes `{param_ty}`, not `{ty}`", def.param, def.name),
                )
                .primary(self.file, value.span, format!("this is `{ty}`"))
                .note(note),
            );
            return expr(ExprKind::Null, Type::NEVER, false, span);
        }
        let Ok(mut body) = uml_syntax::parse_expr(self.file, def.body) else {
            unreachable!("the body of `{}` parses (prelude tests)", def.name)
        };
        uml_syntax::spanless::strip_expr_layout(&mut body);
        let outer = self.substitution.replace((def.param, value));
        let before = self.diags.len();
        let mut e = self.expr(&body);
        self.substitution = outer;
        // A body is written for every argument its parameter takes, so a
        // warning about one argument (a `??` that cannot apply to a string)
        // is not the caller's to see. An error is the definition's mistake:
        // the prelude tests check every body with every kind of argument.
        let body_errors = self.diags[before..].iter().any(Diagnostic::is_error);
        self.diags.truncate(before);
        if body_errors {
            debug_assert!(false, "`{}` does not check", def.name);
            self.error(
                Diagnostic::new(Code::ArgumentType, format!("`{}` cannot take this argument", def.name))
                    .primary(self.file, span, "in this call")
                    .note(note),
            );
            return expr(ExprKind::Null, Type::NEVER, false, span);
        }
        e.span = span;
        if abort {
            self.abort_infallible(def.name, func.span, "cannot fail");
        }
        e
    }

    /// `E0402`: `name!(…)` where the call cannot fail.
    fn abort_infallible(&mut self, name: &str, at: Span, label: &str) {
        self.error(
            Diagnostic::new(Code::AbortInfallible, format!("`{name}!` aborts on failure, but this call cannot fail"))
                .primary(self.file, at, label.to_string())
                .help(format!("write `{name}(…)` without `!`")),
        );
    }

    fn bind_args<'e, 'src>(
        &mut self,
        sig: &Signature,
        args: &'e [ast::Arg<'src>],
        span: Span,
    ) -> Vec<Option<&'e ast::Expr<'src>>> {
        let mut bound: Vec<Option<&ast::Expr<'_>>> = vec![None; sig.params.len()];
        let mut positional = 0;
        let mut first_named: Option<Span> = None;
        let mut mistaken = false;
        for arg in args {
            let slot = match &arg.name {
                None => {
                    if let Some(named) = first_named {
                        self.error(
                            Diagnostic::new(Code::WrongArguments, "positional arguments come before named ones")
                                .primary(self.file, arg.value.span, "positional argument after a named one")
                                .secondary(self.file, named, "named argument")
                                .note(signature_note(sig)),
                        );
                        mistaken = true;
                        continue;
                    }
                    let i = positional;
                    positional += 1;
                    if i >= sig.params.len() {
                        let n = sig.params.len();
                        self.error(
                            Diagnostic::new(
                                Code::WrongArguments,
                                format!(
                                    "`{}` takes {} {n} argument{}",
                                    sig.name,
                                    if sig.params.iter().all(|p| p.required) { "exactly" } else { "at most" },
                                    if n == 1 { "" } else { "s" }
                                ),
                            )
                            .primary(self.file, arg.value.span, "one too many")
                            .note(signature_note(sig)),
                        );
                        mistaken = true;
                        continue;
                    }
                    i
                }
                Some(name) => {
                    first_named.get_or_insert(name.span);
                    match sig.params.iter().position(|p| p.name == name.name) {
                        Some(i) => i,
                        None => {
                            let mut d = Diagnostic::new(
                                Code::WrongArguments,
                                format!("`{}` has no parameter `{}`", sig.name, name.name),
                            )
                            .primary(self.file, name.span, "unknown parameter")
                            .note(signature_note(sig));
                            let close = sig
                                .params
                                .iter()
                                .map(|p| (stdlib::edit_distance(name.name, p.name), p.name))
                                .filter(|(d, _)| *d <= 2)
                                .min();
                            if let Some((_, p)) = close {
                                d = d.help(format!("did you mean `{p}`?"));
                            }
                            self.error(d);
                            mistaken = true;
                            continue;
                        }
                    }
                }
            };
            if let Some(first) = bound[slot] {
                self.error(
                    Diagnostic::new(Code::WrongArguments, format!("`{}` is given twice", sig.params[slot].name))
                        .primary(self.file, arg.value.span, "given again here")
                        .secondary(self.file, first.span, "first given here")
                        .note(signature_note(sig)),
                );
                continue;
            }
            bound[slot] = Some(&arg.value);
        }
        // After a misnamed or misplaced argument, a "missing" one is usually that one.
        if !mistaken {
            for (param, arg) in sig.params.iter().zip(&bound) {
                if param.required && arg.is_none() {
                    self.error(
                        Diagnostic::new(
                            Code::WrongArguments,
                            format!("`{}` needs its `{}` argument", sig.name, param.name),
                        )
                        .primary(self.file, span, format!("no `{}` given", param.name))
                        .note(signature_note(sig)),
                    );
                }
            }
        }
        bound
    }

    /// Literal arguments whose values are known: the `level` scale.
    fn check_literal_args(&mut self, func: stdlib::Func, args: &[Option<Expr>]) {
        if func == stdlib::Func::Level
            && let Some(Some(Expr { kind: ExprKind::Str(s), span, .. })) = args.get(1)
            && uml_runtime::stdlib::level::Scale::from_name(s).is_none()
        {
            let span = *span;
            self.error(Diagnostic::new(Code::ArgumentType, format!("unknown level scale \"{s}\"")).primary(
                self.file,
                span,
                "expected \"python\", \"syslog\" or \"pino\" (\"bunyan\")",
            ));
        }
    }

    /// `exists` takes a path with at least one segment: it asks whether the
    /// last key or index is present, which only a path can say.
    fn check_exists_arg(&mut self, args: &[ast::Arg<'_>]) {
        let Some(arg) = args.first() else { return };
        let mut e = &arg.value;
        while let ast::ExprKind::Group(inner) = &e.kind {
            e = inner;
        }
        if !matches!(e.kind, ast::ExprKind::Path { .. }) {
            self.error(
                Diagnostic::new(Code::WrongArguments, "`exists` takes a path, such as `j.key` or `j.items[0]`")
                    .primary(self.file, arg.value.span, "not a path")
                    .help("to test a value, compare it: `x != null`, or use `is_null(x)`"),
            );
        }
    }
}

/// The signature of a function, for notes: `truncate(value, limit, suffix: …)`.
fn signature_note(sig: &Signature) -> String {
    let params: Vec<String> =
        sig.params.iter().map(|p| if p.required { p.name.to_string() } else { format!("{}: …", p.name) }).collect();
    format!("the signature is `{}({})`", sig.name, params.join(", "))
}

/// An array literal of values that are strings or ints: a path `get`
/// follows without failing.
fn literal_path(path: Option<&Expr>) -> bool {
    match path {
        Some(Expr { kind: ExprKind::Array(items), .. }) => {
            items.iter().all(|i| !i.ty.is_never() && i.ty.is_only(Kinds::STRING.union(Kinds::INT)))
        }
        // Unknown: already reported.
        None => true,
        Some(e) => e.ty.is_never(),
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Regex(_)
    )
}
