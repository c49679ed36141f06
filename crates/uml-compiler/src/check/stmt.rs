//! Statements: bindings, output assignments, branches, and the flow state
//! behind definite assignment and unreachable-code warnings.

use super::RuleChecker;
use crate::hir::{Output, Stmt, VarKind};
use crate::types::{Kinds, Type};
use uml_syntax::ast::{self, StmtKind};
use uml_syntax::{Code, Diagnostic};

impl RuleChecker<'_> {
    /// Checks a block's statements in the current scope.
    pub(super) fn block_stmts(&mut self, stmts: &[ast::Stmt<'_>]) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        let mut warned = false;
        for s in stmts {
            if !self.flow.reachable && !warned {
                warned = true;
                self.diags.push(
                    Diagnostic::new(Code::Unreachable, "this statement is never reached")
                        .primary(self.file, s.span, "unreachable")
                        .note("every path before it ends in `drop` or `emit`"),
                );
            }
            if let Some(stmt) = self.stmt(s) {
                out.push(stmt);
            }
        }
        out
    }

    /// Checks a nested block in a scope of its own.
    fn scoped_block(&mut self, stmts: &[ast::Stmt<'_>]) -> Vec<Stmt> {
        self.scopes.push(Vec::new());
        let out = self.block_stmts(stmts);
        self.pop_scope();
        out
    }

    fn stmt(&mut self, s: &ast::Stmt<'_>) -> Option<Stmt> {
        let span = s.span;
        match &s.kind {
            StmtKind::Let { name, err, value } => {
                let errors_before = self.error_count();
                let value = self.value(value);
                let mut ty = value.ty.clone();
                let mut needless = false;
                let err = match err {
                    Some(err_name) => {
                        // After a mistake in the value, whether it can fail is unknown.
                        if !value.fallible && self.error_count() == errors_before {
                            needless = true;
                            self.diags.push(
                                Diagnostic::new(
                                    Code::NeedlessErrorBinding,
                                    "this cannot fail, so the error is always null",
                                )
                                .primary(self.file, err_name.span, "always null")
                                .help(format!("write `let {} = …`", name.name)),
                            );
                        }
                        // After a mistake in the value, it stays unknown.
                        if !ty.is_never() {
                            ty = ty.union(&Type::NULL);
                        }
                        Some(err_name)
                    }
                    None => {
                        if value.fallible {
                            self.unhandled(&value);
                        }
                        None
                    }
                };
                let var = self.declare(name.name, ty, VarKind::Let, name.span);
                let err = err.map(|e| self.declare(e.name, Type::STRING.union(&Type::NULL), VarKind::Error, e.span));
                if let (true, Some(id)) = (needless, err) {
                    // One warning is enough: not also "never read".
                    self.used[id.0 as usize] = true;
                }
                Some(Stmt::Let { var, err, value, span })
            }
            StmtKind::Assign { target, value } => {
                let value = self.value(value);
                if value.fallible {
                    self.unhandled(&value);
                }
                let Some(output) = self.resolve_output(target) else {
                    // An undeclared output, reported: if it is a slip for a
                    // declared one, that one counts as set, so that the slip
                    // is one error and not also a missing output.
                    if let Some(meant) = self.meant_output(target) {
                        self.flow.set(meant);
                    }
                    return None;
                };
                if let Output::Extra(_) = output {
                    self.near_miss_field(target);
                }
                self.check_assignment(output, target, &value);
                self.flow.set(output);
                self.assignments.push((output, target.span));
                Some(Stmt::Assign { output, value, span })
            }
            StmtKind::If { branches, otherwise } => {
                let before = self.flow.clone();
                let mut after: Option<super::Flow> = None;
                let mut out = Vec::with_capacity(branches.len());
                for (cond, block) in branches {
                    let (mut cond, captures) = self.condition(cond);
                    if cond.fallible {
                        self.unhandled(&cond);
                    }
                    self.flow = before.clone();
                    self.scopes.push(Vec::new());
                    self.bind_captures(&mut cond, captures);
                    let stmts = self.block_stmts(&block.stmts);
                    self.pop_scope();
                    let branch_flow = std::mem::replace(&mut self.flow, before.clone());
                    after = Some(match after {
                        None => branch_flow,
                        Some(a) => a.join(branch_flow),
                    });
                    out.push((cond, stmts));
                }
                let otherwise = otherwise.as_ref().map(|b| self.scoped_block(&b.stmts));
                // Without `else`, the path where no condition holds falls through unchanged.
                let fallthrough = std::mem::replace(&mut self.flow, before);
                let joined = match after {
                    Some(a) => a.join(fallthrough),
                    None => fallthrough,
                };
                self.flow = joined;
                Some(Stmt::If { branches: out, otherwise, span })
            }
            StmtKind::Drop { reason } => {
                self.flow.reachable = false;
                Some(Stmt::Drop { reason: reason.value.to_string(), span })
            }
            StmtKind::Emit => {
                if self.flow.reachable {
                    self.check_emit(span, "the record is emitted here");
                }
                self.flow.reachable = false;
                Some(Stmt::Emit { span })
            }
        }
    }

    /// Records an extra payload field, taken by the schema's `*`, whose name
    /// looks like a slip for a declared field. It is reported at the end of
    /// the rule ([`RuleChecker::near_miss_warnings`]), unless an emit point
    /// that misses the declared field has pointed at it already.
    fn near_miss_field(&mut self, target: &ast::Output<'_>) {
        let name = target.key.name.as_ref();
        let close = self
            .schema
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| super::near_miss(name, &f.name))
            .min_by_key(|(_, f)| crate::stdlib::edit_distance(name, &f.name));
        if let Some((i, _)) = close {
            self.near_misses.push(super::NearMiss {
                name: name.to_string(),
                span: target.key.span,
                field: i as u16,
                shown: false,
            });
        }
    }

    /// W0007 for the near misses no E0507 has shown.
    pub(super) fn near_miss_warnings(&mut self) {
        for miss in std::mem::take(&mut self.near_misses) {
            if miss.shown {
                continue;
            }
            let field = &self.schema.fields[miss.field as usize];
            let name = &miss.name;
            self.diags.push(
                Diagnostic::new(
                    Code::NearMissField,
                    format!("`payload.{name}` is not declared: the schema's `*` takes it as an extra field"),
                )
                .primary(self.file, miss.span, format!("close to `{}`", field.name))
                .secondary(field.file, field.span, "declared here")
                .note(format!("this sets an extra field `{name}`, and leaves `{}` as it was", field.name))
                .help(format!("did you mean `{}`?", field.name)),
            );
        }
    }

    /// The value fits the output's declared type; constant labels keep their value.
    fn check_assignment(&mut self, output: Output, target: &ast::Output<'_>, value: &crate::hir::Expr) {
        if let Output::Label(i) = output {
            let label = &self.schema.labels[i as usize];
            if let Some(constant) = &label.constant {
                if value.ty.is_never() {
                    return;
                }
                let same = value.ty.as_literal() == Some(constant.as_str());
                let d = if same {
                    Diagnostic::new(
                        Code::RedundantConstant,
                        format!("`labels.{}` is always \"{constant}\"", label.name),
                    )
                    .primary(self.file, target.span, "the engine sets it")
                    .help("remove this assignment")
                } else {
                    Diagnostic::new(
                        Code::ConstantLabel,
                        format!(
                            "`labels.{}` is the constant \"{constant}\" and cannot be set to anything else",
                            label.name
                        ),
                    )
                    .primary(self.file, value.span, "another value")
                    .secondary(label.file, label.span, "declared constant here")
                };
                self.diags.push(d);
                return;
            }
        }
        let expected = self.output_type(output);
        if value.ty.is_never() || value.ty.is_subtype_of(&expected) {
            return;
        }
        let found = value.ty.clone();
        let root = if target.root == ast::OutputRoot::Labels { "labels" } else { "payload" };
        let decl = match output {
            Output::Label(i) => Some(&self.schema.labels[i as usize]),
            Output::Field(i) => Some(&self.schema.fields[i as usize]),
            Output::Extra(_) => None,
        };
        // The declared type as the schema writes it; wildcard extras show their type.
        let shown = decl.map_or_else(|| expected.without(Kinds::NULL).to_string(), |d| d.written.clone());
        let name = format!("{root}.{}", target.key.name);
        let (message, label) = if found == Type::NULL {
            (format!("`{name}` is required, and `null` would leave it out"), "this is `null`".to_string())
        } else if found.is_definite() {
            (format!("`{name}` is `{shown}`, but this is `{found}`"), format!("this is `{found}`"))
        } else {
            (format!("`{name}` is `{shown}`, but this may be `{found}`"), format!("this is `{found}`"))
        };
        let mut d = Diagnostic::new(Code::OutputType, message).primary(self.file, value.span, label);
        if let Some(decl) = decl {
            d = d.secondary(decl.file, decl.span, "declared here");
        }
        let levels = expected.string_values().is_some_and(|v| {
            v.len() == crate::stdlib::LEVELS.len() && crate::stdlib::LEVELS.iter().all(|l| v.contains(*l))
        });
        d = if let (Some(values), Some(literal)) = (expected.string_values(), found.as_literal()) {
            let close = values
                .iter()
                .map(|v| (crate::stdlib::edit_distance(&literal.to_lowercase(), &v.to_lowercase()), v))
                .filter(|(d, _)| *d <= 3)
                .min();
            match close {
                Some((_, v)) => d.help(format!("did you mean \"{v}\"?")),
                None => d.note(format!("the allowed values are {shown}")),
            }
        } else if levels && found.may_be(Kinds::STRING) {
            d.help("map it to one of the four levels with `level(…) ?? \"INFO\"`")
        } else if expected.string_values().is_some() && found.may_be(Kinds::STRING) {
            d.help("only the listed values are allowed: assign a literal, or an `if` expression that picks one")
        } else if found == Type::NULL {
            d.help("only optional fields (`name?: type`) can be left out; assign a value, e.g. `\"\"`")
        } else if found.without(Kinds::NULL).is_subtype_of(&expected) {
            d.help("it may be null: add a fallback with `?? …`")
        } else if expected.is_only(Kinds::STRING.union(Kinds::NULL)) {
            d.help("convert it with `to_string(…) ?? \"\"`")
        } else {
            d
        };
        self.diags.push(d);
    }
}
