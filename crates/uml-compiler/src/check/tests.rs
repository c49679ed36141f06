//! `test` blocks: their inputs and expectations must be literals of the
//! right shape; they are turned into plain data for `uml test`.

use crate::hir::{Expectation, Test, TestInput, TestValue};
use crate::schema::Schema;
use uml_syntax::ast::{self, Entry, ExprKind, Literal, TestClause};
use uml_syntax::{Code, Diagnostic, FileId, Span};

pub(super) fn check(file: FileId, test: &ast::Test<'_>, schema: &Schema, diags: &mut Vec<Diagnostic>) -> Option<Test> {
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let mut c = TestChecker { file, diags };
    let mut input = None;
    let mut expect = Vec::new();
    for clause in &test.clauses {
        match clause {
            TestClause::Input(entries, span) => {
                if input.is_some() {
                    c.error(*span, "a test has one `input`");
                }
                input = Some(c.input(entries, *span));
            }
            TestClause::Expect(entries, span) => expect.push(c.expect(entries, *span, schema)),
            TestClause::ExpectDrop(reason, span) => {
                expect.push(Expectation::Drop { reason: reason.value.to_string(), span: *span })
            }
        }
    }
    let Some(input) = input else {
        c.error(test.span, "this test has no `input`");
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
    fn error(&mut self, span: Span, message: &str) {
        self.diags.push(Diagnostic::new(Code::InvalidTest, message.to_string()).primary(self.file, span, "here"));
    }

    fn string(&mut self, e: &ast::Expr<'_>) -> Option<String> {
        match &e.kind {
            ExprKind::Literal(Literal::Str(s, _)) => Some(s.to_string()),
            _ => {
                self.error(e.span, "expected a string literal");
                None
            }
        }
    }

    fn input(&mut self, entries: &[Entry<'_>], span: Span) -> TestInput {
        let mut input = TestInput::default();
        let mut stream = "stdout".to_string();
        let (mut has_pod, mut has_ns, mut has_container) = (false, false, false);
        for entry in entries {
            let v = &entry.value;
            match entry.key.name.as_ref() {
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
                    stream = self.string(v).unwrap_or_default();
                    if stream != "stdout" && stream != "stderr" {
                        self.error(v.span, "`stream` is \"stdout\" or \"stderr\"");
                    }
                }
                "timestamp" => match &v.kind {
                    ExprKind::Literal(Literal::Int(t)) => input.timestamp = *t,
                    _ => self.error(v.span, "`timestamp` is an integer: nanoseconds since the epoch"),
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
                                            _ => self.error(f.key.span, "a line object has `stream` and `line`"),
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
                    }
                    _ => self.error(v.span, "`lines` is an array of strings"),
                },
                other => self.error(entry.key.span, &format!("unknown input key `{other}`")),
            }
        }
        for (has, key) in [(has_pod, "pod"), (has_ns, "namespace"), (has_container, "container")] {
            if !has {
                self.error(span, &format!("the input needs `{key}`"));
            }
        }
        if input.lines.is_empty() {
            self.error(span, "the input needs `line` or `lines`");
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
                            self.error(f.key.span, &format!("the schema has no label `{}`", f.key.name));
                        }
                        if let Some(v) = self.string(&f.value) {
                            labels.push((f.key.name.to_string(), v));
                        }
                    }
                }
                ("payload", ExprKind::Object(fields)) => {
                    for f in fields {
                        if let Some(v) = self.value(&f.value) {
                            payload.push((f.key.name.to_string(), v));
                        }
                    }
                }
                ("labels" | "payload", _) => self.error(entry.value.span, "expected an object `{ key: value, … }`"),
                (other, _) => {
                    self.error(entry.key.span, &format!("unknown expect key `{other}`: use `labels` and `payload`"))
                }
            }
        }
        Expectation::Record { labels, payload, span }
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
            _ => {
                self.error(e.span, "expected values are literals");
                return None;
            }
        })
    }
}
