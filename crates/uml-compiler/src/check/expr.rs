//! Expressions: name resolution, types and fallibility, bottom-up.

use super::RuleChecker;
use crate::hir::{Expr, ExprKind, Meta, Part, Segment, VarKind};
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
            ast::ExprKind::Var(ident) => match self.lookup(ident.name) {
                Some(id) => {
                    let ty = self.vars[id.0 as usize].ty.clone();
                    expr(ExprKind::Var(id), ty, false, span)
                }
                None => {
                    let mut d = Diagnostic::new(Code::UnknownVariable, format!("unknown variable `{}`", ident.name))
                        .primary(self.file, span, "not bound here");
                    let names = self.visible_names();
                    if let Some(best) = names.iter().min_by_key(|n| stdlib::edit_distance(ident.name, n)) {
                        if stdlib::edit_distance(ident.name, best) <= 2 {
                            d = d.help(format!("did you mean `{best}`?"));
                        }
                    }
                    if Meta::ALL.iter().any(|(n, _)| *n == ident.name) {
                        d = d.help(format!("line metadata is written with `%`: `%{}`", ident.name));
                    }
                    self.error(d);
                    expr(ExprKind::Null, Type::NEVER, false, span)
                }
            },
            ast::ExprKind::Meta(ident) => self.meta(ident, span),
            ast::ExprKind::Output(out) => self.output_read(out, span),
            ast::ExprKind::Path { base, segments } => {
                let base = self.expr(base);
                if !base.ty.is_never() && !base.ty.may_be(Kinds::OBJECT.union(Kinds::ARRAY)) {
                    let ty = base.ty.clone();
                    self.error(
                        Diagnostic::new(Code::InvalidPath, format!("a value of type `{ty}` has no fields or elements"))
                            .primary(self.file, base.span, format!("this is `{ty}`"))
                            .help("paths apply to objects and arrays, such as the result of `parse_json`"),
                    );
                }
                let segments = segments
                    .iter()
                    .map(|s| match s {
                        ast::Segment::Field(k) => Segment::Key(k.name.to_string()),
                        ast::Segment::Index(i, _) => Segment::Index(*i),
                    })
                    .collect();
                let fallible = base.fallible;
                expr(ExprKind::Path { base: Box::new(base), segments }, Type::ANY, fallible, span)
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
                    self.scopes.pop();
                    ty = ty.union(&value.ty);
                    fallible |= cond.fallible || value.fallible;
                    out.push((cond, value));
                }
                let otherwise = self.expr(otherwise);
                ty = ty.union(&otherwise.ty);
                fallible |= otherwise.fallible;
                expr(ExprKind::If { branches: out, otherwise: Box::new(otherwise) }, ty, fallible, span)
            }
            ast::ExprKind::Group(inner) => self.expr(inner),
        }
    }

    /// An expression whose value is used as data: a bare regex is an error.
    pub(super) fn value(&mut self, e: &ast::Expr<'_>) -> Expr {
        let v = self.expr(e);
        if v.ty.is_only(Kinds::REGEX) && !v.ty.is_never() {
            self.error(
                Diagnostic::new(Code::RegexMisuse, "a regex is not a value")
                    .primary(self.file, v.span, "a regex literal")
                    .help("use it with `=~`, or as the pattern of `parse_regex`, `replace` or `split`"),
            );
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
                        .primary(self.file, span, "quantities are only used in clauses like `max_record_size`"),
                );
                expr(ExprKind::Int(*value as i64), Type::INT, false, span)
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
                            Diagnostic::new(Code::HoleType, format!("a template hole cannot print a `{ty}`"))
                                .primary(self.file, hole.span, format!("this is `{ty}`"))
                                .help("holes print strings, numbers and bools"),
                        );
                    }
                    fallible |= hole.fallible || !hole.ty.is_only(Kinds::SCALAR);
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
        expr(ExprKind::Meta(meta), meta.ty(), false, span)
    }

    fn output_read(&mut self, out: &ast::Output<'_>, span: Span) -> Expr {
        let Some(o) = self.resolve_output(out) else {
            return expr(ExprKind::Null, Type::NEVER, false, span);
        };
        if !self.flow.is_set(o) {
            let root = if out.root == ast::OutputRoot::Labels { "labels" } else { "payload" };
            self.error(
                Diagnostic::new(
                    Code::OutputReadBeforeSet,
                    format!("`{root}.{}` is read before it is set on every path", out.key.name),
                )
                .primary(self.file, span, "read here"),
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
                ast::ExprKind::Literal(Literal::Regex(p)) => super::regex::check(self.file, p, rhs.span, self.diags),
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::RegexMisuse,
                            format!("the right side of `{}` must be a regex literal", op.as_str()),
                        )
                        .primary(self.file, rhs.span, "not a regex literal")
                        .help("write the pattern as `r'…'`"),
                    );
                    crate::hir::Regex { pattern: String::new(), names: Vec::new() }
                }
            };
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
                let xs: Vec<Expr> = operands.iter().map(|o| self.value(o)).collect();
                // Every operand but the last falls through on failure or null.
                let (last, init) = xs.split_last().expect("a chain has at least two operands");
                let ty = init.iter().fold(last.ty.clone(), |acc, x| acc.union(&x.ty.without(Kinds::NULL)));
                let fallible = last.fallible;
                expr(ExprKind::Coalesce(xs), ty, fallible, span)
            }
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
                for (group, name, always) in &regex.names {
                    let ty = if *always { Type::STRING } else { Type::STRING.union(&Type::NULL) };
                    captures.push(PendingCapture { conjunct, group: *group, name: name.clone(), ty, span: c.span });
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
        let Some(sig) = stdlib::lookup(func.name) else {
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
                    self.error(
                        Diagnostic::new(
                            Code::ArgumentType,
                            format!("`{}` of `{}` takes `{param_ty}`, not `{ty}`", param.name, sig.name),
                        )
                        .primary(self.file, value.span, format!("this is `{ty}`")),
                    );
                } else if !value.ty.is_subtype_of(&param_ty) {
                    kind_check = true;
                }
            }
            checked.push(Some(value));
        }
        self.check_literal_args(sig, &checked);
        let first_ty = checked.first().and_then(|a| a.as_ref()).map_or(Type::NEVER, |a| a.ty.clone());
        let own = match sig.fails {
            Fails::Never => false,
            Fails::Always => true,
            Fails::WhenFirstArgMay(kinds) => first_ty.may_be(kinds),
        } || kind_check;
        if abort && !own {
            self.error(
                Diagnostic::new(
                    Code::AbortInfallible,
                    format!("`{}!` aborts on failure, but this call cannot fail", sig.name),
                )
                .primary(self.file, func.span, "cannot fail with these arguments")
                .help(format!("write `{}(…)` without `!`", sig.name)),
            );
        }
        let ty = (sig.returns)(&first_ty);
        let fallible = fallible_args || (own && !abort);
        expr(ExprKind::Call { func: sig.func, args: checked, abort }, ty, fallible, span)
    }

    /// Matches arguments to parameters: positional first, then by name.
    fn bind_args<'e, 'src>(
        &mut self,
        sig: &Signature,
        args: &'e [ast::Arg<'src>],
        span: Span,
    ) -> Vec<Option<&'e ast::Expr<'src>>> {
        let mut bound: Vec<Option<&ast::Expr<'_>>> = vec![None; sig.params.len()];
        let mut positional = 0;
        for arg in args {
            let slot = match &arg.name {
                None => {
                    let i = positional;
                    positional += 1;
                    if i >= sig.params.len() {
                        self.error(
                            Diagnostic::new(
                                Code::WrongArguments,
                                format!("`{}` takes at most {} arguments", sig.name, sig.params.len()),
                            )
                            .primary(self.file, arg.value.span, "one too many"),
                        );
                        continue;
                    }
                    i
                }
                Some(name) => match sig.params.iter().position(|p| p.name == name.name) {
                    Some(i) => i,
                    None => {
                        let names: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
                        self.error(
                            Diagnostic::new(
                                Code::WrongArguments,
                                format!("`{}` has no parameter `{}`", sig.name, name.name),
                            )
                            .primary(self.file, name.span, "unknown parameter")
                            .note(format!("its parameters are: {}", names.join(", "))),
                        );
                        continue;
                    }
                },
            };
            if bound[slot].is_some() {
                self.error(
                    Diagnostic::new(Code::WrongArguments, format!("`{}` is given twice", sig.params[slot].name))
                        .primary(self.file, arg.value.span, "given again here"),
                );
                continue;
            }
            bound[slot] = Some(&arg.value);
        }
        for (param, arg) in sig.params.iter().zip(&bound) {
            if param.required && arg.is_none() {
                self.error(
                    Diagnostic::new(
                        Code::WrongArguments,
                        format!("`{}` needs its `{}` argument", sig.name, param.name),
                    )
                    .primary(self.file, span, "missing an argument"),
                );
            }
        }
        bound
    }

    /// Literal arguments whose values are known: the `level` scale.
    fn check_literal_args(&mut self, sig: &Signature, args: &[Option<Expr>]) {
        if sig.func == stdlib::Func::Level {
            if let Some(Some(Expr { kind: ExprKind::Str(s), span, .. })) = args.get(1) {
                if s != "python" && s != "syslog" {
                    let span = *span;
                    self.error(Diagnostic::new(Code::ArgumentType, format!("unknown level scale \"{s}\"")).primary(
                        self.file,
                        span,
                        "expected \"python\" or \"syslog\"",
                    ));
                }
            }
        }
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
