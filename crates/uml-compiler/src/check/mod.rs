//! Semantic analysis: AST to checked [`hir::Program`].
//!
//! One pass per rule resolves names, infers types bottom-up and tracks
//! fallibility (an expression is fallible when it can fail at run time and
//! nothing inside it handles that). Statements carry a flow state for
//! definite assignment: which outputs are set on every path so far, and
//! whether the current point is reachable. The language has no loops, so
//! the analysis is a single forward walk that joins branch states at the
//! end of each `if` (intersection of the branches that fall through).
//!
//! Every problem is a diagnostic; checking goes on after one, so a run
//! reports as much as it can. A program is returned only when there is no
//! error.

mod clauses;
mod expr;
mod regex;
mod stmt;
mod tests;

use crate::hir::{self, Output, Program, Var, VarId, VarKind};
use crate::schema::{self, Schema};
use crate::types::Type;
use uml_syntax::ast::{self, Item};
use uml_syntax::{Code, Diagnostic, FileId, Span};

/// One parsed file of a rule set.
#[derive(Clone, Copy)]
pub struct Source<'a, 'src> {
    pub file: FileId,
    pub ast: &'a ast::File<'src>,
}

/// The outcome of checking a rule set.
#[derive(Debug)]
pub struct Checked {
    /// The checked program, when no error was found.
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a rule set: all its files together, in the given order (which is
/// the order rules are tried in).
pub fn check(sources: &[Source<'_, '_>]) -> Checked {
    let mut diags = Vec::new();
    let schema = find_schema(sources, &mut diags);
    let Some(schema) = schema else {
        return Checked { program: None, diagnostics: diags };
    };

    let mut extras = Vec::new();
    let mut rules: Vec<hir::Rule> = Vec::new();
    let mut tests = Vec::new();
    for source in sources {
        for item in &source.ast.items {
            match item {
                Item::Schema(_) => {}
                Item::Rule(rule) => {
                    if let Some(first) = rules.iter().find(|r| r.name == rule.name.name) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateRule,
                                format!("a rule named `{}` already exists", rule.name.name),
                            )
                            .primary(source.file, rule.name.span, "second rule with this name")
                            .secondary(first.file, first.span, "first defined here"),
                        );
                    }
                    let checker = RuleChecker::new(&schema, &mut extras, source.file, &mut diags);
                    rules.push(checker.rule(rule));
                }
                Item::Test(test) => {
                    if let Some(t) = tests::check(source.file, test, &schema, &mut diags) {
                        tests.push(t);
                    }
                }
            }
        }
    }
    shadowing(&rules, &mut diags);

    let program = (!diags.iter().any(Diagnostic::is_error)).then_some(Program { schema, rules, extras, tests });
    Checked { program, diagnostics: diags }
}

fn find_schema(sources: &[Source<'_, '_>], diags: &mut Vec<Diagnostic>) -> Option<Schema> {
    let mut found: Option<(FileId, &ast::Schema<'_>)> = None;
    for source in sources {
        for item in &source.ast.items {
            if let Item::Schema(s) = item {
                match found {
                    None => found = Some((source.file, s)),
                    Some((file, first)) => diags.push(
                        Diagnostic::new(Code::DuplicateSchemaItem, "a rule set has exactly one schema")
                            .primary(source.file, s.span, "second schema")
                            .secondary(file, first.span, "first schema"),
                    ),
                }
            }
        }
    }
    match found {
        Some((file, s)) => Some(schema::lower(file, s, diags)),
        None => {
            let mut d = Diagnostic::new(Code::MissingSchema, "the rule set declares no `schema`")
                .help("add `rules/schema.uml` with `schema { labels { … } payload { … } }`");
            if let Some(first) = sources.first() {
                d = d.primary(first.file, Span::new(0, 0), "the rule set starts here");
            }
            diags.push(d);
            None
        }
    }
}

/// A rule without `when` takes every line; rules after it never run.
fn shadowing(rules: &[hir::Rule], diags: &mut Vec<Diagnostic>) {
    if let Some((i, r)) = rules.iter().enumerate().find(|(_, r)| r.when.is_none()) {
        if let Some(next) = rules.get(i + 1) {
            diags.push(
                Diagnostic::new(
                    Code::ShadowingRule,
                    format!("rule `{}` has no `when`, so rule `{}` and those after it never run", r.name, next.name),
                )
                .primary(r.file, r.span, "takes every line")
                .secondary(next.file, next.span, "never reached")
                .help("give the rule a `when`, or move it last as a catch-all"),
            );
        }
    }
}

/// The outputs a path has definitely set, and whether it is reachable.
#[derive(Clone, Debug)]
struct Flow {
    labels: Vec<bool>,
    fields: Vec<bool>,
    /// Extras are never required; set ones are remembered for reads.
    extras: Vec<u16>,
    reachable: bool,
}

impl Flow {
    fn is_set(&self, out: Output) -> bool {
        match out {
            Output::Label(i) => self.labels[i as usize],
            Output::Field(i) => self.fields[i as usize],
            Output::Extra(i) => self.extras.contains(&i),
        }
    }

    fn set(&mut self, out: Output) {
        match out {
            Output::Label(i) => self.labels[i as usize] = true,
            Output::Field(i) => self.fields[i as usize] = true,
            Output::Extra(i) => {
                if !self.extras.contains(&i) {
                    self.extras.push(i);
                }
            }
        }
    }

    /// The state after either of two paths; a path that stops does not count.
    fn join(mut self, other: Flow) -> Flow {
        match (self.reachable, other.reachable) {
            (false, _) => other,
            (_, false) => self,
            (true, true) => {
                self.labels.iter_mut().zip(&other.labels).for_each(|(a, b)| *a &= b);
                self.fields.iter_mut().zip(&other.fields).for_each(|(a, b)| *a &= b);
                self.extras.retain(|e| other.extras.contains(e));
                self
            }
        }
    }
}

/// Checks one rule.
struct RuleChecker<'a> {
    schema: &'a Schema,
    extras: &'a mut Vec<String>,
    file: FileId,
    diags: &'a mut Vec<Diagnostic>,
    vars: Vec<Var>,
    used: Vec<bool>,
    scopes: Vec<Vec<(String, VarId)>>,
    /// Set while checking `when`: only per-file metadata may be read.
    in_when: bool,
    flow: Flow,
}

impl<'a> RuleChecker<'a> {
    fn new(schema: &'a Schema, extras: &'a mut Vec<String>, file: FileId, diags: &'a mut Vec<Diagnostic>) -> Self {
        // Constant labels are filled in by the engine: they start out set.
        let labels = schema.labels.iter().map(|l| l.constant.is_some()).collect();
        let fields = vec![false; schema.fields.len()];
        RuleChecker {
            schema,
            extras,
            file,
            diags,
            vars: Vec::new(),
            used: Vec::new(),
            scopes: vec![Vec::new()],
            in_when: false,
            flow: Flow { labels, fields, extras: Vec::new(), reachable: true },
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn declare(&mut self, name: &str, ty: Type, kind: VarKind, span: Span) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push(Var { name: name.to_string(), ty, kind, span });
        self.used.push(false);
        self.scopes.last_mut().expect("a scope is always open").push((name.to_string(), id));
        id
    }

    fn lookup(&mut self, name: &str) -> Option<VarId> {
        let id = self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)?;
        self.used[id.0 as usize] = true;
        Some(id)
    }

    fn visible_names(&self) -> Vec<&str> {
        self.scopes.iter().flat_map(|s| s.iter().map(|(n, _)| n.as_str())).collect()
    }

    fn rule(mut self, rule: &ast::Rule<'_>) -> hir::Rule {
        let clauses = self.clauses(rule);
        let body = self.block_stmts(&rule.body);
        if self.flow.reachable {
            // Falling off the end of the body emits the record.
            let end = Span::new(rule.span.end as usize - 1, rule.span.end as usize);
            self.check_emit(end, "the record is emitted at the end of the rule");
        }
        for (i, var) in self.vars.iter().enumerate() {
            if !self.used[i] && var.kind != VarKind::Capture && !var.name.starts_with('_') {
                self.diags.push(
                    Diagnostic::new(Code::UnusedBinding, format!("`{}` is never read", var.name))
                        .primary(self.file, var.span, "bound here")
                        .help(format!("remove it, or name it `_{}` if that is intended", var.name)),
                );
            }
        }
        hir::Rule {
            name: rule.name.name.to_string(),
            file: self.file,
            span: rule.span,
            when: clauses.when,
            framing: clauses.framing,
            multiline: clauses.multiline,
            max_record_size: clauses.max_record_size,
            vars: self.vars,
            body,
        }
    }

    /// Reports required outputs not set on the current path at an emit point.
    fn check_emit(&mut self, at: Span, what: &str) {
        let mut missing = Vec::new();
        for (i, label) in self.schema.labels.iter().enumerate() {
            if !self.flow.labels[i] {
                missing.push(format!("labels.{}", label.name));
            }
        }
        for (i, field) in self.schema.fields.iter().enumerate() {
            if !field.optional && !self.flow.fields[i] {
                missing.push(format!("payload.{}", field.name));
            }
        }
        if missing.is_empty() {
            return;
        }
        let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        let (noun, verb) = if missing.len() == 1 { ("output", "is") } else { ("outputs", "are") };
        self.diags.push(
            Diagnostic::new(
                Code::MissingOutput,
                format!("required {noun} {list} {verb} not set on every path that emits a record"),
            )
            .primary(self.file, at, what)
            .note("every record must carry every label and every required payload field of the schema")
            .help("set it on each branch before this point, or `drop` the line on the branches that cannot"),
        );
    }

    /// The output a `labels.x`/`payload.x` names, declaring wildcard extras.
    fn resolve_output(&mut self, out: &ast::Output<'_>) -> Option<Output> {
        let name = out.key.name.as_ref();
        match out.root {
            ast::OutputRoot::Labels => {
                match self.schema.label(name) {
                    Some((i, _)) => Some(Output::Label(i as u16)),
                    None => {
                        let known: Vec<&str> = self.schema.labels.iter().map(|l| l.name.as_str()).collect();
                        self.error(
                        Diagnostic::new(Code::UndeclaredOutput, format!("the schema declares no label `{name}`"))
                            .primary(self.file, out.key.span, "not a label of the schema")
                            .note(format!("the labels are: {}", known.join(", ")))
                            .note("every extra label multiplies Loki's streams; per-line metadata belongs in the payload"),
                    );
                        None
                    }
                }
            }
            ast::OutputRoot::Payload => match self.schema.field(name) {
                Some((i, _)) => Some(Output::Field(i as u16)),
                None if self.schema.extra.is_some() => {
                    let i = match self.extras.iter().position(|e| e == name) {
                        Some(i) => i,
                        None => {
                            self.extras.push(name.to_string());
                            self.extras.len() - 1
                        }
                    };
                    Some(Output::Extra(i as u16))
                }
                None => {
                    let known: Vec<&str> = self.schema.fields.iter().map(|f| f.name.as_str()).collect();
                    self.error(
                        Diagnostic::new(
                            Code::UndeclaredOutput,
                            format!("the schema declares no payload field `{name}`"),
                        )
                        .primary(self.file, out.key.span, "not a field of the schema")
                        .note(format!("the payload fields are: {}", known.join(", "))),
                    );
                    None
                }
            },
        }
    }

    /// The declared type of an output (optional fields may also be null).
    fn output_type(&self, out: Output) -> Type {
        match out {
            Output::Label(i) => self.schema.labels[i as usize].ty.clone(),
            Output::Field(i) => {
                let f = &self.schema.fields[i as usize];
                if f.optional { f.ty.union(&Type::NULL) } else { f.ty.clone() }
            }
            Output::Extra(_) => self.schema.extra.clone().unwrap_or(Type::ANY).union(&Type::NULL),
        }
    }

    /// Reports an unhandled fallible expression at its innermost source.
    fn unhandled(&mut self, e: &hir::Expr) {
        let source = innermost_fallible(e);
        self.error(
            Diagnostic::new(Code::UnhandledFallible, "this can fail, and nothing handles the failure")
                .primary(self.file, source.span, fallibility_reason(source))
                .help(
                    "handle it with `?? fallback`, bind the error with `let x, err = …`, or drop the line with `f!(…)`",
                ),
        );
    }
}

/// The deepest fallible sub-expression: where the failure comes from.
fn innermost_fallible(e: &hir::Expr) -> &hir::Expr {
    use hir::ExprKind as K;
    let children: Vec<&hir::Expr> = match &e.kind {
        K::Template(parts) => parts
            .iter()
            .filter_map(|p| match p {
                hir::Part::Hole(h) => Some(h),
                hir::Part::Text(_) => None,
            })
            .collect(),
        K::Array(items) => items.iter().collect(),
        K::Object(entries) => entries.iter().map(|(_, v)| v).collect(),
        K::Path { base, .. } => vec![base],
        K::Call { args, .. } => args.iter().flatten().collect(),
        K::Not(x) => vec![x],
        K::Compare { lhs, rhs, .. } => vec![lhs, rhs],
        K::Match { subject, .. } => vec![subject],
        K::And(xs) | K::Or(xs) => xs.iter().collect(),
        K::Coalesce(xs) => xs.last().into_iter().collect(),
        K::If { branches, otherwise } => {
            branches.iter().flat_map(|(c, v)| [c, v]).chain(std::iter::once(&**otherwise)).collect()
        }
        _ => Vec::new(),
    };
    match children.into_iter().find(|c| c.fallible) {
        Some(c) => innermost_fallible(c),
        None => e,
    }
}

fn fallibility_reason(e: &hir::Expr) -> String {
    match &e.kind {
        hir::ExprKind::Call { func, .. } => {
            let name = crate::stdlib::SIGNATURES.iter().find(|s| s.func == *func).map_or("?", |s| s.name);
            format!("`{name}` can fail")
        }
        hir::ExprKind::Template(_) => "a hole may hold a value that is not text".into(),
        hir::ExprKind::Compare { .. } | hir::ExprKind::Match { .. } => {
            "an operand may have a type the operator does not take".into()
        }
        _ => format!("the type is `{}`, wider than what is accepted here", e.ty),
    }
}
