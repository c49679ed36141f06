//! `test` blocks: their inputs and expectations must be literals of the
//! right shape; they are turned into plain data for `uml test`.

use super::keyword;
use crate::hir::{Expectation, Test, TestInput, TestValue};
use crate::schema::Schema;
use crate::types::Type;
use uml_syntax::ast::{self, Entry, ExprKind, Literal, TestClause};
use uml_syntax::{Code, Diagnostic, FileId, Span};

/// The keys of `input`, for notes.
const INPUT_KEYS: &str = "pod, namespace, container, container_id, stream, file, timestamp, line, lines";

pub(super) fn check(file: FileId, test: &ast::Test<'_>, schema: &Schema, diags: &mut Vec<Diagnostic>) -> Option<Test> {
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let mut c = TestChecker { file, diags };
    let mut input: Option<(TestInput, Span)> = None;
    let mut expect = Vec::new();
    for clause in &test.clauses {
        match clause {
            TestClause::Input(entries, span) => {
                let this = c.input(entries, *span);
                match &input {
                    Some((_, first)) => c.report(
                        c.invalid(keyword(*span, "input"), "a test has one `input`", "second `input`")
                            .secondary(file, keyword(*first, "input"), "first `input`")
                            .help("put all the lines in one `lines: [ … ]`"),
                    ),
                    None => input = Some((this, *span)),
                }
            }
            TestClause::Expect(entries, span) => expect.push(c.expect(entries, *span, schema)),
            TestClause::ExpectDrop(reason, span) => {
                expect.push(Expectation::Drop { reason: reason.value.to_string(), span: *span })
            }
        }
    }
    if expect.is_empty() {
        c.report(
            c.invalid(test.name.span, "this test expects nothing", "no `expect`")
                .help("add `expect { labels: {…}, payload: {…} }` for a record, or `expect drop \"reason\"`"),
        );
    }
    let Some((input, _)) = input else {
        c.report(
            c.invalid(test.name.span, "this test has no `input`", "no `input`")
                .help("add `input { pod: …, namespace: …, container: …, line: … }`"),
        );
        return None;
    };
    let errors = c.diags.iter().filter(|d| d.is_error()).count();
    (errors == errors_before).then(|| Test { name: test.name.value.to_string(), file, span: test.span, input, expect })
}

struct TestChecker<'a> {
    file: FileId,
    diags: &'a mut Vec<Diagnostic>,
}

impl TestChecker<'_> {
    fn invalid(&self, span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Code::InvalidTest, message).primary(self.file, span, label)
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn error(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        let d = self.invalid(span, message, label);
        self.report(d);
    }

    fn string(&mut self, e: &ast::Expr<'_>) -> Option<String> {
        match &e.kind {
            ExprKind::Literal(Literal::Str(s, _)) => Some(s.to_string()),
            ExprKind::Template(_) => {
                self.template(e.span);
                None
            }
            _ => {
                self.error(e.span, "expected a string literal", "not a string literal");
                None
            }
        }
    }

    /// A cooked string with holes: test values are constants.
    fn template(&mut self, span: Span) {
        let d = self
            .invalid(span, "a test value is a constant, but this string has a `{…}` hole", "a template")
            .help("write JSON and other text with braces as a raw string `'…'`, or escape the braces: `\\{`, `\\}`");
        self.report(d);
    }

    fn input(&mut self, entries: &[Entry<'_>], span: Span) -> TestInput {
        let mut input = TestInput::default();
        let mut stream = "stdout".to_string();
        let (mut has_pod, mut has_ns, mut has_container) = (false, false, false);
        // `line` or `lines`: which was given, and where.
        let mut lines_key: Option<(&str, Span)> = None;
        for entry in entries {
            let v = &entry.value;
            let key = entry.key.name.as_ref();
            if matches!(key, "line" | "lines") {
                if let Some((first, at)) = lines_key {
                    let d = self
                        .invalid(entry.key.span, "an input has `line` or `lines`, not both", "more lines")
                        .secondary(self.file, at, format!("`{first}` given here"))
                        .help("put every line in one `lines: [ … ]`");
                    self.report(d);
                    continue;
                }
                lines_key = Some((if key == "line" { "line" } else { "lines" }, entry.key.span));
            }
            match key {
                "pod" => {
                    has_pod = true;
                    input.pod = self.string(v).unwrap_or_default();
                }
                "namespace" => {
                    has_ns = true;
                    input.namespace = self.string(v).unwrap_or_default();
                }
                "container" => {
                    has_container = true;
                    input.container = self.string(v).unwrap_or_default();
                }
                "container_id" => input.container_id = self.string(v).unwrap_or_default(),
                "file" => input.file = self.string(v),
                "stream" => {
                    if let Some(s) = self.string(v) {
                        if s != "stdout" && s != "stderr" {
                            self.error(v.span, "`stream` is \"stdout\" or \"stderr\"", "another stream");
                        }
                        stream = s;
                    }
                }
                "timestamp" => match &v.kind {
                    ExprKind::Literal(Literal::Int(t)) => input.timestamp = *t,
                    _ => self.error(v.span, "`timestamp` is an integer: nanoseconds since the epoch", "not an integer"),
                },
                "line" => {
                    if let Some(line) = self.string(v) {
                        input.lines.push((String::new(), line));
                    }
                }
                "lines" => match &v.kind {
                    ExprKind::Array(items) => {
                        for item in items {
                            match &item.kind {
                                ExprKind::Object(fields) => {
                                    let mut line = (String::new(), String::new());
                                    for f in fields {
                                        match f.key.name.as_ref() {
                                            "stream" => line.0 = self.string(&f.value).unwrap_or_default(),
                                            "line" => line.1 = self.string(&f.value).unwrap_or_default(),
                                            _ => self.error(
                                                f.key.span,
                                                "a line object has `stream` and `line`",
                                                "unknown key",
                                            ),
                                        }
                                    }
                                    input.lines.push(line);
                                }
                                _ => {
                                    if let Some(line) = self.string(item) {
                                        input.lines.push((String::new(), line));
                                    }
                                }
                            }
                        }
                        if items.is_empty() {
                            self.error(v.span, "`lines` is empty", "no lines");
                        }
                    }
                    _ => self.error(v.span, "`lines` is an array of strings", "not an array"),
                },
                other => {
                    let d = self
                        .invalid(entry.key.span, format!("unknown input key `{other}`"), "not an input key")
                        .note(format!("the keys are: {INPUT_KEYS}"));
                    self.report(d);
                }
            }
        }
        let at = keyword(span, "input");
        for (has, key) in [(has_pod, "pod"), (has_ns, "namespace"), (has_container, "container")] {
            if !has {
                let d = self
                    .invalid(at, format!("the input needs `{key}`"), format!("no `{key}`"))
                    .note("routing reads the pod, namespace and container, so a test names all three");
                self.report(d);
            }
        }
        if lines_key.is_none() {
            self.error(at, "the input needs `line` or `lines`", "no lines");
        }
        for line in &mut input.lines {
            if line.0.is_empty() {
                line.0 = stream.clone();
            }
        }
        input
    }

    fn expect(&mut self, entries: &[Entry<'_>], span: Span, schema: &Schema) -> Expectation {
        let mut labels = Vec::new();
        let mut payload = Vec::new();
        for entry in entries {
            match (entry.key.name.as_ref(), &entry.value.kind) {
                ("labels", ExprKind::Object(fields)) => {
                    for f in fields {
                        if schema.label(&f.key.name).is_none() {
                            let known: Vec<&str> = schema.labels.iter().map(|l| l.name.as_str()).collect();
                            let d = self
                                .invalid(f.key.span, format!("the schema has no label `{}`", f.key.name), "not a label")
                                .note(format!("the labels are: {}", known.join(", ")));
                            self.report(d);
                        }
                        if let Some(v) = self.string(&f.value) {
                            if let Some((_, decl)) = schema.label(&f.key.name) {
                                let name = format!("labels.{}", f.key.name);
                                self.fits(&f.value, &Type::literal(&v), (&decl.ty, &decl.written), &name);
                            }
                            labels.push((f.key.name.to_string(), v));
                        }
                    }
                }
                ("payload", ExprKind::Object(fields)) => {
                    for f in fields {
                        if schema.field(&f.key.name).is_none() && schema.extra.is_none() {
                            let known: Vec<&str> = schema.fields.iter().map(|l| l.name.as_str()).collect();
                            let d = self
                                .invalid(
                                    f.key.span,
                                    format!("the schema has no payload field `{}`", f.key.name),
                                    "not a payload field",
                                )
                                .note(format!("the payload fields are: {}", known.join(", ")));
                            self.report(d);
                        }
                        if let Some(v) = self.value(&f.value) {
                            // A field set to null is left out, so a record never holds null.
                            let declared = match schema.field(&f.key.name) {
                                Some((_, decl)) => Some((decl.ty.clone(), decl.written.clone())),
                                None => schema.extra.clone().map(|t| (t.clone(), t.to_string())),
                            };
                            if let Some((ty, written)) = declared {
                                let name = format!("payload.{}", f.key.name);
                                self.fits(&f.value, &type_of(&v), (&ty, &written), &name);
                            }
                            payload.push((f.key.name.to_string(), v));
                        }
                    }
                }
                ("labels" | "payload", _) => {
                    self.error(entry.value.span, "expected an object `{ key: value, … }`", "not an object")
                }
                (other, _) => {
                    let d = self
                        .invalid(entry.key.span, format!("unknown expect key `{other}`"), "not an expect key")
                        .help("a record is `expect { labels: {…}, payload: {…} }`");
                    self.report(d);
                }
            }
        }
        Expectation::Record { labels, payload, span }
    }

    /// Reports an expected value the record can never have.
    /// `declared` is the type and how the schema writes it.
    fn fits(&mut self, e: &ast::Expr<'_>, found: &Type, (declared, written): (&Type, &str), name: &str) {
        if found.is_subtype_of(declared) {
            return;
        }
        let d = if *found == Type::NULL {
            self.invalid(e.span, format!("`{name}` is never null in a record"), "never in a record")
                .note("an output set to null is left out of the record: leave it out of `expect` too")
        } else {
            self.invalid(
                e.span,
                format!("`{name}` is `{written}` in every record, never `{found}`"),
                "never in a record",
            )
            .note("this expectation cannot be met: the schema does not allow the value")
        };
        self.report(d);
    }

    fn value(&mut self, e: &ast::Expr<'_>) -> Option<TestValue> {
        Some(match &e.kind {
            ExprKind::Literal(Literal::Null) => TestValue::Null,
            ExprKind::Literal(Literal::Bool(b)) => TestValue::Bool(*b),
            ExprKind::Literal(Literal::Int(i)) => TestValue::Int(*i),
            ExprKind::Literal(Literal::Float(f)) => TestValue::Float(*f),
            ExprKind::Literal(Literal::Str(s, _)) => TestValue::Str(s.to_string()),
            ExprKind::Array(items) => TestValue::Array(items.iter().map(|i| self.value(i)).collect::<Option<_>>()?),
            ExprKind::Object(fields) => TestValue::Object(
                fields.iter().map(|f| Some((f.key.name.to_string(), self.value(&f.value)?))).collect::<Option<_>>()?,
            ),
            ExprKind::Template(_) => {
                self.template(e.span);
                return None;
            }
            _ => {
                let d = self
                    .invalid(e.span, "a test value is a constant", "computed")
                    .help("write the value itself: a string, number, bool, null, array or object literal");
                self.report(d);
                return None;
            }
        })
    }
}

/// The type of an expected value, for checking it against the schema.
fn type_of(v: &TestValue) -> Type {
    match v {
        TestValue::Null => Type::NULL,
        TestValue::Bool(_) => Type::BOOL,
        TestValue::Int(_) => Type::INT,
        TestValue::Float(_) => Type::FLOAT,
        TestValue::Str(s) => Type::literal(s),
        TestValue::Array(_) => Type::ARRAY,
        TestValue::Object(_) => Type::OBJECT,
    }
}
