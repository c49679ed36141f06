//! Rule clauses: the routing predicate and the stream directives.

use super::RuleChecker;
use crate::hir::{Expr, Format, Multiline};
use uml_syntax::ast::{self, Clause, Entry, ExprKind, Literal};
use uml_syntax::{Code, Diagnostic, Span};

/// Loki's default `max_line_size`: the most a record may hold.
pub const MAX_RECORD_SIZE: u64 = 256 * 1024;
const DEFAULT_MAX_LINES: u32 = 500;
const DEFAULT_IDLE_MS: u64 = 2_000;

pub(super) struct Clauses {
    pub when: Option<Expr>,
    /// What the `multiline` clause groups, as written.
    pub grouping: Grouping,
    pub framing: Option<Format>,
    pub multiline: Option<Multiline>,
    pub max_record_size: u32,
}

/// What a rule's `multiline` clause groups, whether or not it checked.
#[derive(Clone, Copy)]
pub(super) enum Grouping {
    /// No `multiline` clause.
    None,
    PythonTraceback,
    /// `multiline { start, continue }`, at the clause's span.
    Custom(Span),
    /// An unknown preset: reported already.
    Unknown,
}

impl RuleChecker<'_> {
    pub(super) fn clauses(&mut self, rule: &ast::Rule<'_>) -> Clauses {
        let mut out = Clauses {
            when: None,
            grouping: Grouping::None,
            framing: None,
            multiline: None,
            max_record_size: MAX_RECORD_SIZE as u32,
        };
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        for clause in &rule.clauses {
            let name = match clause {
                Clause::When(..) => "when",
                Clause::Framing(..) => "framing",
                Clause::Multiline { .. } => "multiline",
                Clause::MaxRecordSize(..) => "max_record_size",
            };
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let mut d = Diagnostic::new(Code::DuplicateClause, format!("`{name}` is given twice"))
                    .primary(self.file, clause.span(), "second one")
                    .secondary(self.file, *first, "first one");
                if name == "when" {
                    d = d.help("join the two conditions with `&&` in one `when`");
                }
                self.error(d);
                // The second `when` is not used, but its captures are bound,
                // so that their reads are not unknown variables too.
                if let Clause::When(e, _) = clause {
                    self.in_when = true;
                    let (mut cond, captures) = self.condition(e);
                    self.in_when = false;
                    self.bind_captures(&mut cond, captures);
                }
                continue;
            }
            seen.push((name, clause.span()));
            match clause {
                Clause::When(e, _) => {
                    self.in_when = true;
                    let (mut cond, captures) = self.condition(e);
                    self.in_when = false;
                    if cond.fallible {
                        self.unhandled(&cond);
                    }
                    self.bind_captures(&mut cond, captures);
                    out.when = Some(cond);
                }
                Clause::Framing(ident, _) => {
                    out.framing =
                        match (ident.name, Format::from_name(ident.name).filter(|f| f.in_files())) {
                            ("auto", _) => None,
                            (_, Some(format)) => Some(format),
                            (other, None) => {
                                let names: Vec<String> = std::iter::once("auto")
                                    .chain(Format::ALL.iter().filter(|f| f.in_files()).map(|f| f.name()))
                                    .map(|n| format!("`{n}`"))
                                    .collect();
                                self.error(
                                    Diagnostic::new(Code::UnknownDirective, format!("unknown framing `{other}`"))
                                        .primary(self.file, ident.span, format!("expected {}", or_list(&names))),
                                );
                                None
                            }
                        }
                }
                Clause::Multiline { preset, options, span } => {
                    out.grouping = match preset.as_ref().map(|p| p.name) {
                        None => Grouping::Custom(*span),
                        Some("python_traceback") => Grouping::PythonTraceback,
                        Some(_) => Grouping::Unknown,
                    };
                    out.multiline = self.multiline(preset.as_ref(), options.as_deref().unwrap_or(&[]), *span);
                }
                Clause::MaxRecordSize(e, _) => {
                    if let Some(size) = self.size(e) {
                        out.max_record_size = size;
                    }
                }
            }
        }
        out
    }

    fn size(&mut self, e: &ast::Expr<'_>) -> Option<u32> {
        let (value, unit) =
            match &e.kind {
                ExprKind::Literal(Literal::Quantity { value, unit }) => (*value, *unit),
                ExprKind::Literal(Literal::Int(i)) => {
                    self.error(
                        Diagnostic::new(Code::InvalidQuantity, "`max_record_size` takes a size with its unit")
                            .primary(self.file, e.span, "a number without a unit")
                            .help(format!("write the unit: `{i}B`, or in KiB, e.g. `64KiB`")),
                    );
                    return None;
                }
                _ => {
                    self.error(
                        Diagnostic::new(Code::InvalidQuantity, "`max_record_size` takes a size such as `64KiB`")
                            .primary(self.file, e.span, "not a size"),
                    );
                    return None;
                }
            };
        let scale = match unit {
            "B" => 1,
            "KiB" => 1024,
            "MiB" => 1024 * 1024,
            _ => {
                self.error(Diagnostic::new(Code::InvalidQuantity, format!("unknown size unit `{unit}`")).primary(
                    self.file,
                    e.span,
                    "sizes are in `B`, `KiB` or `MiB`",
                ));
                return None;
            }
        };
        let bytes = value.saturating_mul(scale);
        if !(1024..=MAX_RECORD_SIZE).contains(&bytes) {
            self.error(
                Diagnostic::new(Code::InvalidQuantity, "`max_record_size` must be between 1KiB and 256KiB")
                    .primary(self.file, e.span, format!("{bytes} bytes"))
                    .note("256KiB is Loki's default `max_line_size`: a longer line would be refused"),
            );
            return None;
        }
        Some(bytes as u32)
    }

    fn duration_ms(&mut self, e: &ast::Expr<'_>) -> Option<u64> {
        let ExprKind::Literal(Literal::Quantity { value, unit }) = &e.kind else {
            self.error(Diagnostic::new(Code::InvalidQuantity, "expected a duration such as `2s`").primary(
                self.file,
                e.span,
                "not a duration",
            ));
            return None;
        };
        let ms = match *unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            other => {
                self.error(Diagnostic::new(Code::InvalidQuantity, format!("unknown duration unit `{other}`")).primary(
                    self.file,
                    e.span,
                    "durations are in `ms`, `s` or `m`",
                ));
                return None;
            }
        };
        Some(value.saturating_mul(ms))
    }

    /// A regex option's pattern; `Err(())` after reporting a mistake.
    fn regex_option(&mut self, key: &str, e: &ast::Expr<'_>) -> Result<String, ()> {
        match &e.kind {
            ExprKind::Literal(Literal::Regex(p)) => {
                let before = self.diags.len();
                super::regex::check(self.file, p, e.span, self.diags);
                if self.diags.len() == before { Ok(p.to_string()) } else { Err(()) }
            }
            _ => {
                self.error(
                    Diagnostic::new(Code::RegexMisuse, format!("`{key}` takes a regex literal `r'…'`"))
                        .primary(self.file, e.span, "not a regex literal")
                        .help("write the pattern as `r'…'`, where backslashes need no escaping"),
                );
                Err(())
            }
        }
    }

    fn multiline(&mut self, preset: Option<&ast::Ident<'_>>, options: &[Entry<'_>], span: Span) -> Option<Multiline> {
        let mut head = None;
        let mut start = None;
        let mut continue_ = None;
        let mut max_lines = DEFAULT_MAX_LINES;
        let mut idle_ms = DEFAULT_IDLE_MS;
        let allowed: &[&str] = match preset.map(|p| p.name) {
            Some("python_traceback") => &["head", "max_lines", "idle"],
            None => &["start", "continue", "max_lines", "idle"],
            Some(other) => {
                self.error(
                    Diagnostic::new(Code::UnknownDirective, format!("unknown multiline preset `{other}`"))
                        .primary(self.file, preset.map_or(span, |p| p.span), "the preset is `python_traceback`")
                        .help("or give `{ start: r'…', continue: r'…' }` patterns"),
                );
                return None;
            }
        };
        for entry in options {
            let key = entry.key.name.as_ref();
            if !allowed.contains(&key) {
                self.error(
                    Diagnostic::new(Code::UnknownDirective, format!("unknown multiline option `{key}`"))
                        .primary(self.file, entry.key.span, "not an option here")
                        .note(format!("the options are: {}", allowed.join(", "))),
                );
                continue;
            }
            match key {
                "head" => head = self.regex_option(key, &entry.value).ok(),
                "start" => start = Some(self.regex_option(key, &entry.value)),
                "continue" => continue_ = Some(self.regex_option(key, &entry.value)),
                "max_lines" => match &entry.value.kind {
                    ExprKind::Literal(Literal::Int(n)) if (1..=100_000).contains(n) => max_lines = *n as u32,
                    _ => self.error(
                        Diagnostic::new(Code::InvalidQuantity, "`max_lines` takes an integer from 1 to 100000")
                            .primary(self.file, entry.value.span, "out of range or not an integer"),
                    ),
                },
                _ => {
                    if let Some(ms) = self.duration_ms(&entry.value) {
                        idle_ms = ms;
                    }
                }
            }
        }
        if preset.is_some() {
            return Some(Multiline::PythonTraceback { head, max_lines, idle_ms });
        }
        match (start, continue_) {
            (Some(Ok(start)), Some(Ok(continue_))) => Some(Multiline::Pattern { start, continue_, max_lines, idle_ms }),
            // Given, but wrong: reported already.
            (Some(_), Some(_)) => None,
            (start, continue_) => {
                let missing = match (start, continue_) {
                    (None, None) => "`start` and `continue`",
                    (None, _) => "`start`",
                    _ => "`continue`",
                };
                self.error(
                    Diagnostic::new(Code::UnknownDirective, format!("a multiline pattern needs {missing}"))
                        .primary(self.file, crate::check::keyword(span, "multiline"), format!("no {missing} given"))
                        .note("a `start` line opens a group, and the `continue` lines after it join the group")
                        .help("`multiline { start: r'^\\S', continue: r'^\\s' }`, or the `python_traceback` preset"),
                );
                None
            }
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
