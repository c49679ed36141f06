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
use crate::stdlib::Fails;
use crate::types::{Kinds, Type};
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
    // Where each rule's name is written, for diagnostics about whole rules.
    let mut names: Vec<(FileId, Span)> = Vec::new();
    // Each rule as written, in the order rules are tried.
    let mut written: Vec<(FileId, &ast::Rule<'_>)> = Vec::new();
    let mut tests = Vec::new();
    for source in sources {
        for item in &source.ast.items {
            match item {
                Item::Schema(_) => {}
                Item::Rule(rule) => {
                    if let Some(i) = rules.iter().position(|r| r.name == rule.name.name) {
                        let (file, span) = names[i];
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateRule,
                                format!("a rule named `{}` already exists", rule.name.name),
                            )
                            .primary(source.file, rule.name.span, "second rule with this name")
                            .secondary(file, span, "first defined here")
                            .note("rule names appear in drop counters, so each must be unique in the rule set"),
                        );
                    }
                    let checker = RuleChecker::new(&schema, &mut extras, source.file, &mut diags);
                    rules.push(checker.rule(rule));
                    names.push((source.file, rule.name.span));
                    written.push((source.file, rule));
                }
                Item::Test(test) => {
                    if let Some(t) = tests::check(source.file, test, &schema, &mut diags) {
                        tests.push(t);
                    }
                }
            }
        }
    }
    shadowing(&written, &mut diags);

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
                            .primary(source.file, keyword(s.span, "schema"), "second schema")
                            .secondary(file, keyword(first.span, "schema"), "first schema")
                            .help("declare every label and payload field in the one schema"),
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

/// The span of the keyword `word` that starts the construct at `span`.
pub(crate) fn keyword(span: Span, word: &str) -> Span {
    let start = span.start as usize;
    Span::new(start, (start + word.len()).min(span.end as usize))
}

/// Rules are tried in order and the first whose `when` holds takes the
/// file, so a rule never runs when an earlier one takes every file it
/// would take. A rule without `when` takes every file: the rules after it
/// never run. Otherwise, when an earlier rule's `when` is a conjunction
/// whose every operand is also one of a later rule's (the same
/// condition, or a part of it), the later rule never runs. Conditions are
/// compared as written, layout aside: this finds copies and extensions of
/// a condition, not every implication.
fn shadowing(rules: &[(FileId, &ast::Rule<'_>)], diags: &mut Vec<Diagnostic>) {
    let whens: Vec<Option<(&ast::Expr<'_>, Span)>> = rules
        .iter()
        .map(|(_, r)| {
            r.clauses.iter().find_map(|c| match c {
                ast::Clause::When(e, span) => Some((e, *span)),
                _ => None,
            })
        })
        .collect();
    let catch_all = whens.iter().position(Option::is_none);
    if let Some(i) = catch_all
        && let Some(&(next_file, next)) = rules.get(i + 1)
    {
        let (file, r) = rules[i];
        let later = match rules.len() - i - 1 {
            1 => format!("rule `{}` never runs", next.name.name),
            n => format!("the {n} rules after it, from `{}` on, never run", next.name.name),
        };
        diags.push(
            Diagnostic::new(Code::ShadowingRule, format!("rule `{}` has no `when`, so {later}", r.name.name))
                .primary(file, r.name.span, "takes every line")
                .secondary(next_file, next.name.span, "never reached")
                .help("give the rule a `when`, or move it last as a catch-all"),
        );
    }
    // The rules after a catch-all are reported with it.
    let end = catch_all.unwrap_or(rules.len());
    let conjuncts: Vec<Vec<ast::Expr<'_>>> = whens[..end]
        .iter()
        .map(|w| {
            let mut out = Vec::new();
            if let Some((e, _)) = w {
                spanless_conjuncts(e, &mut out);
            }
            out
        })
        .collect();
    for later in 1..end {
        let Some((_, later_span)) = whens[later] else { continue };
        let Some(earlier) = (0..later).find(|&i| conjuncts[i].iter().all(|c| conjuncts[later].contains(c))) else {
            continue;
        };
        let Some((_, earlier_span)) = whens[earlier] else { continue };
        let same = conjuncts[later].iter().all(|c| conjuncts[earlier].contains(c));
        let (a, b) = (rules[earlier].1.name.name, rules[later].1.name.name);
        let (label, help) = if same {
            (
                "the same condition, tried first".to_string(),
                "merge the two rules, or make their conditions differ".into(),
            )
        } else {
            (
                format!("tried first: `{b}`'s `when` is this and more"),
                format!("move `{b}` before `{a}`: the narrower rule goes first"),
            )
        };
        diags.push(
            Diagnostic::new(
                Code::ShadowingRule,
                format!("rule `{b}` never runs: rule `{a}` before it takes every file it would take"),
            )
            .primary(rules[later].0, keyword(later_span, "when"), format!("every file this takes, `{a}` takes first"))
            .secondary(rules[earlier].0, keyword(earlier_span, "when"), label)
            .note("rules are tried in order, and the first whose `when` holds takes the file")
            .help(help),
        );
    }
}

/// The `&&` operands of a condition, parentheses and layout removed.
fn spanless_conjuncts<'src>(e: &ast::Expr<'src>, out: &mut Vec<ast::Expr<'src>>) {
    match &e.kind {
        ast::ExprKind::Group(inner) => spanless_conjuncts(inner, out),
        ast::ExprKind::Chain { op: ast::ChainOp::And, operands } => {
            operands.iter().for_each(|o| spanless_conjuncts(o, out));
        }
        _ => {
            let mut e = e.clone();
            uml_syntax::spanless::strip_expr_layout(&mut e);
            out.push(e);
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

/// An extra payload field whose name is close to a declared field's.
struct NearMiss {
    name: String,
    /// Where the extra field's name is written.
    span: Span,
    /// The declared field it is close to.
    field: u16,
    /// Whether an E0507 about the declared field pointed at it already.
    shown: bool,
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
    /// Bindings of blocks that have ended, for "bound only inside" help.
    expired: Vec<(String, VarId)>,
    /// The group names of each `=~` with named captures, by the span of
    /// the match: where a capture is declared.
    capture_names: Vec<(Span, Vec<(String, Span)>)>,
    /// Every output assignment so far, in source order, for pointing at
    /// one that does not cover every path.
    assignments: Vec<(Output, Span)>,
    /// The spans of the `=~` whose regex literal has a mistake: their
    /// captures are declared without a type.
    invalid_matches: Vec<Span>,
    /// Extra payload fields whose names are close to a declared field's.
    near_misses: Vec<NearMiss>,
    /// Where the body reads `%traceback`.
    traceback_reads: Vec<Span>,
    /// Set while checking `when`: only per-file metadata may be read.
    in_when: bool,
    /// While checking the body of a function defined in the rule language
    /// (`crate::prelude`): its parameter's name and the checked argument.
    substitution: Option<(&'static str, crate::hir::Expr)>,
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
            expired: Vec::new(),
            assignments: Vec::new(),
            capture_names: Vec::new(),
            near_misses: Vec::new(),
            invalid_matches: Vec::new(),
            traceback_reads: Vec::new(),
            in_when: false,
            substitution: None,
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

    /// Closes the innermost block scope; its bindings go out of sight.
    fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("a scope was pushed");
        self.expired.extend(scope);
    }

    /// A binding of `name` in a block that has ended, if there is one.
    fn expired(&mut self, name: &str) -> Option<VarId> {
        let id = self.expired.iter().rev().find(|(n, _)| n == name).map(|(_, id)| *id)?;
        // It is used, only in the wrong place: no "never read" warning too.
        self.used[id.0 as usize] = true;
        Some(id)
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
        self.near_miss_warnings();
        self.traceback_warning(rule, &clauses);
        for (i, var) in self.vars.iter().enumerate() {
            // A capture of a regex with a mistake has no type: it is an echo.
            if self.used[i] || var.name.starts_with('_') || var.ty.is_never() {
                continue;
            }
            let d = Diagnostic::new(Code::UnusedBinding, format!("`{}` is never read", var.name));
            self.diags.push(match var.kind {
                VarKind::Let => d
                    .primary(self.file, var.span, "bound here")
                    .help(format!("remove it, or name it `_{}` if that is intended", var.name)),
                VarKind::Error => d
                    .primary(self.file, var.span, "the error is bound here")
                    .help(format!("name it `_{}` to ignore the error on purpose, or handle it with `??`", var.name)),
                VarKind::Capture => d.primary(self.file, var.span, "a named capture").help(format!(
                    "make it a group without a name, `(…)`, or name it `_{}` if that is intended",
                    var.name
                )),
            });
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

    /// `%traceback` is null unless the rule groups Python tracebacks: one
    /// warning for all its reads in a rule that does not.
    fn traceback_warning(&mut self, rule: &ast::Rule<'_>, clauses: &clauses::Clauses) {
        let Some((&first, rest)) = self.traceback_reads.split_first() else { return };
        let d = Diagnostic::new(Code::TracebackAlwaysNull, "`%traceback` is always null in this rule").primary(
            self.file,
            first,
            "always null here",
        );
        let d = rest.iter().fold(d, |d, &at| d.secondary(self.file, at, "and here"));
        let d = match clauses.grouping {
            clauses::Grouping::PythonTraceback | clauses::Grouping::Unknown => return,
            clauses::Grouping::None => d
                .secondary(self.file, rule.name.span, "this rule has no `multiline` clause")
                .note("`%traceback` holds the Python traceback that `multiline python_traceback` groups")
                .help("add `multiline python_traceback` to the rule's clauses"),
            clauses::Grouping::Custom(span) => d
                .secondary(self.file, keyword(span, "multiline"), "groups lines, not tracebacks")
                .note("with `multiline { start, continue }`, the group's lines are `%line`, and `%traceback` is null")
                .help("read `%line`, or group with `multiline python_traceback`"),
        };
        self.diags.push(d);
    }

    /// Reports required outputs not set on the current path at an emit point.
    fn check_emit(&mut self, at: Span, what: &str) {
        let mut missing = Vec::new();
        for (i, label) in self.schema.labels.iter().enumerate() {
            if !self.flow.labels[i] {
                missing.push((format!("labels.{}", label.name), Output::Label(i as u16)));
            }
        }
        for (i, field) in self.schema.fields.iter().enumerate() {
            if !field.optional && !self.flow.fields[i] {
                missing.push((format!("payload.{}", field.name), Output::Field(i as u16)));
            }
        }
        if missing.is_empty() {
            return;
        }
        let list = missing.iter().map(|(m, _)| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        let (noun, verb, it) = if missing.len() == 1 { ("output", "is", "it") } else { ("outputs", "are", "each") };
        let mut d = Diagnostic::new(
            Code::MissingOutput,
            format!("required {noun} {list} {verb} not set on every path that emits a record"),
        )
        .primary(self.file, at, what);
        for (name, out) in &missing {
            if let Some(set) = self.partial_assignment(*out, at) {
                d = d.secondary(self.file, set, format!("`{name}` is set here, but not on every path"));
            }
            // A misspelt field set before this point: the likely cause.
            if let Output::Field(i) = out
                && let Some(miss) = self.near_misses.iter_mut().rev().find(|m| m.field == *i && m.span.start < at.start)
            {
                miss.shown = true;
                d = d.secondary(
                    self.file,
                    miss.span,
                    format!("an extra field `{}`: did you mean `{name}`?", miss.name),
                );
            }
        }
        self.diags
            .push(d.note("every record must carry every label and every required payload field of the schema").help(
                format!("set {it} on every path before this point, or `drop` the line on the paths that cannot"),
            ));
    }

    /// The last assignment of `out` before `at`: one that some path to `at` misses.
    fn partial_assignment(&self, out: Output, at: Span) -> Option<Span> {
        self.assignments.iter().rev().find(|(o, s)| *o == out && s.start < at.start).map(|(_, s)| *s)
    }

    /// The output a `labels.x`/`payload.x` names, declaring wildcard extras.
    fn resolve_output(&mut self, out: &ast::Output<'_>) -> Option<Output> {
        let name = out.key.name.as_ref();
        match out.root {
            ast::OutputRoot::Labels => match self.schema.label(name) {
                Some((i, _)) => Some(Output::Label(i as u16)),
                None => {
                    let known: Vec<&str> = self.schema.labels.iter().map(|l| l.name.as_str()).collect();
                    let mut d =
                        Diagnostic::new(Code::UndeclaredOutput, format!("the schema declares no label `{name}`"))
                            .primary(self.file, out.key.span, "not a label of the schema")
                            .note(format!("the labels are: {}", known.join(", ")))
                            .note(
                                "every extra label multiplies Loki's streams; per-line metadata belongs in the payload",
                            );
                    if let Some(Output::Label(i)) = self.meant_output(out) {
                        d = d.help(format!("did you mean `{}`?", self.schema.labels[i as usize].name));
                    }
                    self.error(d);
                    None
                }
            },
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
                    let mut d = Diagnostic::new(
                        Code::UndeclaredOutput,
                        format!("the schema declares no payload field `{name}`"),
                    )
                    .primary(self.file, out.key.span, "not a field of the schema")
                    .note(format!("the payload fields are: {}", known.join(", ")));
                    if let Some(Output::Field(i)) = self.meant_output(out) {
                        d = d.help(format!("did you mean `{}`?", self.schema.fields[i as usize].name));
                    }
                    self.error(d);
                    None
                }
            },
        }
    }

    /// The declared output an undeclared `labels.x` or `payload.x` was
    /// likely meant to be: one whose name is a slip away ([`near_miss`]).
    fn meant_output(&self, out: &ast::Output<'_>) -> Option<Output> {
        let name = out.key.name.as_ref();
        let decls = match out.root {
            ast::OutputRoot::Labels => &self.schema.labels,
            ast::OutputRoot::Payload => &self.schema.fields,
        };
        let (i, _) = decls
            .iter()
            .enumerate()
            .filter(|(_, d)| near_miss(name, &d.name))
            .min_by_key(|(_, d)| crate::stdlib::edit_distance(name, &d.name))?;
        Some(match out.root {
            ast::OutputRoot::Labels => Output::Label(i as u16),
            ast::OutputRoot::Payload => Output::Field(i as u16),
        })
    }

    /// An output as it is written: `labels.namespace`, `payload.message`.
    fn output_name(&self, out: Output) -> String {
        match out {
            Output::Label(i) => format!("labels.{}", self.schema.labels[i as usize].name),
            Output::Field(i) => format!("payload.{}", self.schema.fields[i as usize].name),
            Output::Extra(i) => format!("payload.{}", self.extras[i as usize]),
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

    /// Reports an unhandled fallible expression where its failure comes from.
    fn unhandled(&mut self, e: &hir::Expr) {
        let why = why_fallible(innermost_fallible(e));
        let mut d = Diagnostic::new(Code::UnhandledFallible, "this can fail, and nothing handles the failure")
            .primary(self.file, why.span, why.label);
        if let Some(note) = why.note {
            d = d.note(note);
        }
        self.error(d.help(why.help.unwrap_or_else(|| {
            "handle it with `?? fallback`, bind the error with `let x, err = …`, or drop the line with `f!(…)`".into()
        })));
    }

    /// The number of errors reported so far: checks that only make sense
    /// for correct code compare it before and after a sub-expression, so
    /// that one mistake does not draw a second, derived diagnostic.
    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }
}

/// Why an expression can fail, as shown to the rule author.
struct Why {
    span: Span,
    label: String,
    note: Option<String>,
    help: Option<String>,
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

/// Why `e` fails on its own (its operands, if fallible, were reported
/// first by [`innermost_fallible`]).
fn why_fallible(e: &hir::Expr) -> Why {
    use hir::ExprKind as K;
    let why = |span: Span, label: String| Why { span, label, note: None, help: None };
    match &e.kind {
        K::Call { func, args, .. } => {
            let sig = func.native();
            let name = sig.name;
            let first = args.first().and_then(Option::as_ref);
            match (sig.fails, first) {
                (Fails::Always, _) => return why(e.span, format!("`{name}` can fail")),
                (Fails::WhenFirstArgMay(kinds), Some(arg)) if arg.ty.may_be(kinds) => {
                    let cases = describe_kinds(arg.ty.kinds().intersect(kinds));
                    return Why {
                        span: arg.span,
                        label: format!("this is `{}`; `{name}` fails when it is {cases}", arg.ty),
                        note: None,
                        help: None,
                    };
                }
                _ => {}
            }
            // An argument wider than its parameter: the kind is checked at run time.
            for (param, arg) in sig.params.iter().zip(args) {
                let Some(arg) = arg else { continue };
                let param_ty = Type::of(param.kinds);
                if !arg.ty.is_subtype_of(&param_ty) {
                    return Why {
                        span: arg.span,
                        label: format!("this is `{}`, but `{}` of `{name}` takes `{param_ty}`", arg.ty, param.name),
                        note: Some(format!("the call fails when the value is not `{param_ty}`")),
                        help: (param_ty == Type::STRING).then(|| {
                            "convert it first, e.g. `to_string(x) ?? \"\"`, or handle the call with `?? …`".into()
                        }),
                    };
                }
            }
            if let (crate::stdlib::Func::Get, Some(Some(path))) = (func, args.get(1)) {
                return Why {
                    span: path.span,
                    label: "an element of this path may be neither a string nor an int".into(),
                    note: Some("`get` is infallible only when its path is an array literal of strings and ints".into()),
                    help: None,
                };
            }
            why(e.span, format!("`{name}` can fail"))
        }
        K::Template(parts) => {
            let hole = parts.iter().find_map(|p| match p {
                hir::Part::Hole(h) if !h.ty.is_only(Kinds::SCALAR) => Some(h),
                _ => None,
            });
            match hole {
                Some(h) => Why {
                    span: h.span,
                    label: format!("this is `{}`; a hole prints only strings, numbers and bools", h.ty),
                    note: None,
                    help: Some(if h.ty.may_be(Kinds::NULL) {
                        "a hole holds a path, so bind a fallback first (`let x = … ?? \"\"`, then `{x}`), \
                         or handle the whole template with `?? …`"
                            .into()
                    } else {
                        "handle the whole template with `?? …`, or bind the value with `let x = to_string(…) ?? \"\"` first"
                            .into()
                    }),
                },
                None => why(e.span, "a hole may hold a value that is not text".into()),
            }
        }
        K::Compare { op, lhs, rhs } => {
            let loose = |x: &hir::Expr| !x.ty.is_only(Kinds::NUMBER) && !x.ty.is_only(Kinds::STRING);
            let operand = if loose(lhs) { lhs } else { rhs };
            Why {
                span: operand.span,
                label: format!("this is `{}`; `{}` orders two numbers or two strings", operand.ty, op.as_str()),
                note: Some("the comparison fails when the values cannot be ordered".into()),
                help: Some("convert it first, e.g. `to_int(x) ?? 0`, or handle the comparison with `?? false`".into()),
            }
        }
        K::Match { subject, negate, .. } => Why {
            span: subject.span,
            label: format!("this is `{}`; `{}` matches strings", subject.ty, if *negate { "!~" } else { "=~" }),
            note: Some("the match fails when the value is not a string".into()),
            help: Some("bind the text first, `let s = to_string(x) ?? \"\"`, and match `s`".into()),
        },
        K::Not(x) => not_bool(x, "`!`"),
        K::And(xs) | K::Or(xs) => {
            let what = if matches!(e.kind, K::And(_)) { "`&&`" } else { "`||`" };
            let operand = xs.iter().find(|x| !x.ty.is_only(Kinds::BOOL)).unwrap_or(e);
            not_bool(operand, what)
        }
        // Nothing else fails by itself: this is a condition whose type is
        // wider than `bool`.
        _ => not_bool(e, "a condition"),
    }
}

fn not_bool(e: &hir::Expr, what: &str) -> Why {
    Why {
        span: e.span,
        label: format!("this is `{}`, but {what} takes a bool", e.ty),
        note: Some("there is no truthiness: this fails when the value is not `true` or `false`".into()),
        help: Some("compare it, e.g. `x == true` or `x != null`".into()),
    }
}

/// `an array or an object`, for messages.
fn describe_kinds(kinds: Kinds) -> String {
    let names: Vec<&str> = [
        (Kinds::STRING, "a string"),
        (Kinds::INT, "an int"),
        (Kinds::FLOAT, "a float"),
        (Kinds::BOOL, "a bool"),
        (Kinds::ARRAY, "an array"),
        (Kinds::OBJECT, "an object"),
        (Kinds::REGEX, "a regex"),
        (Kinds::NULL, "null"),
    ]
    .into_iter()
    .filter(|(k, _)| kinds.contains(*k))
    .map(|(_, n)| n)
    .collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
        None => "never".into(),
    }
}

/// Whether `name` looks like a slip for `declared`: two adjacent characters
/// swapped, or, for a name of four characters or more, at most two edits
/// (insertions, deletions, substitutions) away.
fn near_miss(name: &str, declared: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (name.chars().collect(), declared.chars().collect());
    if a == b {
        return false;
    }
    let differ: Vec<usize> = (0..a.len()).filter(|&i| b.get(i) != a.get(i)).collect();
    let swapped = a.len() == b.len() && differ.len() == 2 && differ[1] == differ[0] + 1 && {
        let i = differ[0];
        a[i] == b[i + 1] && a[i + 1] == b[i]
    };
    swapped || (a.len() >= 4 && crate::stdlib::edit_distance(name, declared) <= 2)
}

#[cfg(test)]
mod near_miss_tests {
    use super::near_miss;

    #[test]
    fn near_misses() {
        assert!(near_miss("exc_inof", "exc_info"));
        assert!(near_miss("mesage", "message"));
        assert!(near_miss("Message", "message"));
        assert!(near_miss("sorce", "source"));
        assert!(near_miss("ts", "st"));
        assert!(!near_miss("message", "message"));
        assert!(!near_miss("request_id", "replica"));
        assert!(!near_miss("detail", "message"));
        assert!(!near_miss("id", "ip"));
        assert!(!near_miss("level", "levelname"));
    }
}
