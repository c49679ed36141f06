//! Generators for the differential tests: rule programs (as source text) and
//! inputs (file metadata, lines, tracebacks, timestamps).
//!
//! Every generator draws its decisions from a [`Choices`] stream, a list of
//! numbers that proptest generates and shrinks. A value of 0 (and the end of
//! the list) always selects the simplest alternative, so shrinking the list
//! (fewer and smaller numbers) shrinks the program and the lines, and every
//! generator terminates once the list runs out.
//!
//! The program generator is type directed: each expression is built for a
//! wanted type, using only the variables, captures and outputs that are bound
//! (and definitely assigned) at that point, and every fallible expression is
//! handled (`??`, `let x, err =`, or `f!(…)`), so that nearly every program
//! passes the checker.

#![allow(dead_code)]

use std::fmt::Write as _;

/// A stream of decisions.
pub struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u32]) -> Self {
        Choices { data, pos: 0 }
    }

    fn raw(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    /// A number below `n`; 0 when the stream has run out.
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.raw() as usize % n }
    }

    /// True with about `pct` percent; false when the stream has run out.
    pub fn chance(&mut self, pct: u32) -> bool {
        let v = self.raw();
        v != 0 && v % 100 < pct
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// An index into `weights`, drawn by weight; 0 when the stream has run out.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut v = self.raw() % total.max(1);
        for (i, w) in weights.iter().enumerate() {
            if v < *w {
                return i;
            }
            v -= w;
        }
        0
    }
}

/// A deterministic source of choice lists (xorshift), for the tests that do
/// not go through proptest.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 32) as u32
    }

    pub fn choices(&mut self, n: usize) -> Vec<u32> {
        (0..n).map(|_| self.next_u32()).collect()
    }
}

// ---------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------

/// The schema every generated program is checked against.
pub const SCHEMA: &str = r#"schema {
  labels {
    model_version_id: string
    namespace: string
    job: "fluent-bit"
  }
  payload {
    levelname: "DEBUG" | "INFO" | "WARNING" | "ERROR"
    message: string
    replica: string
    source: string
    exc_info?: string
    *: string | int | float | bool
  }
}
"#;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// A static type as a set of kinds (a small mirror of the checker's lattice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ty(u16);

const S: u16 = 1;
const I: u16 = 2;
const F: u16 = 4;
const B: u16 = 8;
const N: u16 = 16;
const A: u16 = 32;
const O: u16 = 64;
const ALL: u16 = S | I | F | B | N | A | O;
/// With `S` only: one of the four level literals.
const LEVEL: u16 = 128;

impl Ty {
    fn kinds(self) -> u16 {
        self.0 & ALL
    }
    fn is(self, k: u16) -> bool {
        self.kinds() == k
    }
    fn may(self, k: u16) -> bool {
        self.kinds() & k != 0
    }
    fn within(self, k: u16) -> bool {
        self.kinds() & !k == 0
    }
    fn nullable(self) -> Ty {
        Ty(self.kinds() | N)
    }
}

/// What an expression generator is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Str,
    Level,
    Int,
    Float,
    Bool,
    /// `any`: parsed data.
    Any,
    Obj,
    Arr,
    /// `string | null`.
    OptStr,
}

impl Want {
    fn ty(self) -> Ty {
        Ty(match self {
            Want::Str => S,
            Want::Level => S | LEVEL,
            Want::Int => I,
            Want::Float => F,
            Want::Bool => B,
            Want::Any => ALL,
            Want::Obj => O,
            Want::Arr => A,
            Want::OptStr => S | N,
        })
    }
}

/// A generated expression: its text (safe to use as an operand), its type,
/// and whether it can fail.
#[derive(Clone, Debug)]
struct E {
    s: String,
    ty: Ty,
    fallible: bool,
}

fn e(s: impl Into<String>, ty: Ty, fallible: bool) -> E {
    E { s: s.into(), ty, fallible }
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
}

// ---------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------

const STR_LITS: &[&str] = &[
    r#""""#,
    r#""INFO""#,
    r#""x""#,
    r#""hello world""#,
    r#""warn""#,
    r#""a\"b""#,
    r#""caf\u{e9}""#,
    r#""tab\there""#,
    r#""line\nbreak""#,
    r#""\u{1b}[31mred\u{1b}[0m""#,
    r#""  padded  ""#,
    r#""E""#,
    r#""[I]""#,
    r#""25""#,
    r#""-7""#,
    r#""Normal""#,
    r#""bogus""#,
    r#"'{"a": 1, "b": [true, null]}'"#,
    r#"'raw \n {not a hole}'"#,
    r#""a literal \{ brace \}""#,
    r#""model-abc12-x7k2p""#,
    r#""I1012 01:17:48.317907 1 f.go:1] m""#,
    r#""level=warn msg=hi""#,
    r#""2026-11-20 00:43:12,801""#,
    r#""ERROR""#,
    r#""0""#,
    r#""😀""#,
];

const LEVEL_LITS: &[&str] = &[r#""INFO""#, r#""DEBUG""#, r#""WARNING""#, r#""ERROR""#];

/// Spellings for `level`, some unknown.
const LEVEL_SPELLINGS: &[&str] = &[
    r#""warn""#,
    r#""E""#,
    r#""[I]""#,
    r#""25""#,
    r#""Normal""#,
    r#""bogus""#,
    r#"" fatal ""#,
    r#""7""#,
    r#""PANI""#,
    r#""""#,
];

const INT_LITS: &[&str] =
    &["0", "1", "-1", "3", "137", "9223372036854775807", "-9223372036854775808", "42", "-5", "100"];

const FLOAT_LITS: &[&str] = &["0.5", "-1.5", "1e3", "2.5e-3", "1.0", "0.0", "-0.0", "3.25", "1e300"];

const METAS: &[(&str, u16)] = &[
    ("%line", S),
    ("%line", S),
    ("%line", S),
    ("%pod", S),
    ("%namespace", S),
    ("%container", S),
    ("%container_id", S),
    ("%file", S),
    ("%stream", S),
];

/// Keys read from parsed data; the line generator writes the same keys.
const KEYS: &[&str] = &[
    "message",
    "levelname",
    "level",
    "msg",
    "a",
    "b",
    "n",
    "exc_info",
    "request_id",
    "arr",
    "obj",
    "if",
    "nested",
    "x",
    "time",
    "id",
    "line",
    "file",
    "timestamp",
];

/// Keys that need quotes in a path (never in a template hole).
const QUOTED_KEYS: &[&str] = &["odd key", "é", "a.b", ""];

/// Patterns with named groups `{0}`, `{1}`; for each group, whether it may
/// not take part in a match (then it binds `string | null`).
const PATTERNS: &[(&str, &[bool])] = &[
    (r"^(?P<{0}>[A-Z]+):\s*(?P<{1}>.*)$", &[false, false]),
    (r"^(?P<{0}>[IWEF])(?P<{1}>\d{4}) ", &[false, false]),
    (r"(?P<{0}>\d+)", &[false]),
    (r"(?i)(?P<{0}>error|warn(?:ing)?)", &[false]),
    (r"^\{", &[]),
    (r"-(?P<{0}>[a-z0-9]{5})$", &[false]),
    (r"^(?P<{0}>\w+)(?:\[(?P<{1}>[^\]]*)\])?", &[false, true]),
    (r"(?P<{0}>é+)", &[false]),
    (r"^(?P<{0}>.*)\r", &[false]),
    (r"\x1b\[(?P<{0}>[0-9;]*)m", &[false]),
    (r"^$", &[]),
    (r"(?P<{0}>a)|(?P<{1}>b)", &[true, true]),
    (r"^\s*(?P<{0}>\S*)", &[false]),
    (r"(?P<{0}>[a-z]+)=(?P<{1}>\S+)", &[false, false]),
    (r"^(?P<{0}>model|app|django)-", &[false]),
    (r"org-(?P<{0}>[0-9a-f]+)", &[false]),
];

/// Patterns for `replace`, `split` and unbound `=~`.
const PLAIN_PATTERNS: &[&str] =
    &[r"\s+", r"^.*\r", r"\s+$", r"\x1b\[[0-9;]*m", r"(?P<w>[a-z]+)", r"\d", r"", r"(?i)ERROR", r"é", r"^", r"[{}]"];

const REPLACEMENTS: &[&str] =
    &[r#""""#, r#""-""#, r#"'$1'"#, r#"'${w}'"#, r#"'$$'"#, r#""é""#, r#""<$0>""#, r#"'[$w]'"#];

const SPLITTERS: &[&str] = &[r#"" ""#, r#""""#, r#"",""#, r#""\n""#, r#""é""#, r#""ab""#];

const TIMESTAMP_FORMATS: &[&str] = &[
    r#""%Y-%m-%d %H:%M:%S,%3f""#,
    r#""%Y-%m-%dT%H:%M:%S%z""#,
    r#""%Y-%m-%dT%H:%M:%SZ""#,
    r#""%d/%m/%Y""#,
    r#""%H:%M""#,
    r#""%s""#,
];

const DROP_REASONS: &[&str] =
    &[r#""dropped""#, r#""not json""#, r#"'raw reason'"#, r#""no {hole} here""#, r#""é\t""#, r#""""#];

/// The file metadata `when` conditions test; the input generator draws from
/// the same values.
pub const PODS: &[&str] =
    &["model-abc12-7d9f8b6c5d-q7rg5", "app-1", "django-5c8d7f9b6d-m2xvt", "watcher-x2mzq", "pod é", "", "model-x-y"];
pub const NAMESPACES: &[&str] = &["org-50a9bc6b456e47aa88e0d81e622ea315", "baseten", "default", "", "org-zz"];
pub const CONTAINERS: &[&str] = &["model", "app", "django", "sidecar", "", "builder"];
pub const CONTAINER_IDS: &[&str] = &["0123abcd", "", "ffffffffffff", "é1"];

// ---------------------------------------------------------------------------
// The program generator
// ---------------------------------------------------------------------------

/// Where in a rule body a statement is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the required outputs are assigned: no `emit`, no output reads.
    Pre,
    /// After: everything.
    Post,
}

/// The required outputs and the type each takes.
const REQUIRED: &[(&str, Want)] = &[
    ("labels.model_version_id", Want::Str),
    ("labels.namespace", Want::Str),
    ("payload.levelname", Want::Level),
    ("payload.message", Want::Str),
    ("payload.replica", Want::Str),
    ("payload.source", Want::Str),
];

/// Outputs that can be read back once assigned, with their types.
const READABLE: &[(&str, Want)] = &[
    ("labels.model_version_id", Want::Str),
    ("labels.namespace", Want::Str),
    ("payload.levelname", Want::Level),
    ("payload.message", Want::Str),
    ("payload.replica", Want::Str),
    ("payload.source", Want::Str),
];

/// Wildcard extras.
const EXTRAS: &[&str] = &["rid", "count", "ratio", "flag", r#""x-odd key""#, "if"];

struct Gen<'c, 'a> {
    c: &'c mut Choices<'a>,
    scopes: Vec<Vec<Var>>,
    next: u32,
    phase: Phase,
    out: String,
    indent: usize,
}

/// Generates a rule file: 1 to 3 rules.
pub fn program(c: &mut Choices<'_>) -> String {
    let mut g = Gen { c, scopes: Vec::new(), next: 0, phase: Phase::Pre, out: String::new(), indent: 0 };
    let rules = 1 + g.c.below(3);
    for r in 0..rules {
        g.rule(r, r + 1 == rules);
    }
    g.out
}

impl Gen<'_, '_> {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn declare(&mut self, name: String, ty: Ty) {
        self.scopes.last_mut().expect("a scope").push(Var { name, ty });
    }

    /// The visible variables (innermost binding of each name) that satisfy `pred`.
    fn vars(&self, pred: impl Fn(Ty) -> bool) -> Vec<Var> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if seen.contains(&v.name.as_str()) {
                    continue;
                }
                seen.push(&v.name);
                if pred(v.ty) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    fn var_where(&mut self, pred: impl Fn(Ty) -> bool) -> Option<Var> {
        let vs = self.vars(pred);
        if vs.is_empty() { None } else { Some(vs[self.c.below(vs.len())].clone()) }
    }

    fn rule(&mut self, index: usize, last: bool) {
        self.scopes = vec![Vec::new()];
        self.phase = Phase::Pre;
        let _ = writeln!(self.out, "rule r{index} {{");
        self.indent = 1;
        // The last rule is sometimes a catch-all.
        if !(last && self.c.chance(40)) {
            let (when, captures) = self.when();
            self.line(&format!("when {when}"));
            for v in captures {
                self.declare(v.name, v.ty);
            }
        }
        match self.c.weighted(&[20, 1, 1, 1, 1]) {
            1 => self.line("multiline python_traceback"),
            2 => self.line(r"multiline { start: r'^\S', continue: r'^\s', max_lines: 3 }"),
            3 => {
                let size = self.c.pick(&["1KiB", "2KiB", "256KiB"]);
                self.line(&format!("max_record_size {size}"))
            }
            4 => {
                let f = self.c.pick(&["auto", "cri", "docker"]);
                self.line(&format!("framing {f}"))
            }
            _ => {}
        }
        let pre = self.c.below(4);
        for _ in 0..pre {
            self.stmt(0);
        }
        self.prelude();
        self.phase = Phase::Post;
        let post = self.c.below(9);
        for _ in 0..post {
            self.stmt(0);
        }
        if self.c.chance(5) {
            self.line("emit");
        }
        self.indent = 0;
        self.out.push_str("}\n\n");
    }

    /// A `when` condition over file metadata, and the captures it binds.
    fn when(&mut self) -> (String, Vec<Var>) {
        let n = 1 + self.c.weighted(&[6, 3, 1]);
        let mut parts = Vec::new();
        let mut captures = Vec::new();
        for _ in 0..n {
            let part = match self.c.weighted(&[6, 5, 5, 2, 2, 2, 1, 1, 1, 1, 3]) {
                0 => format!("%container == \"{}\"", self.c.pick(CONTAINERS)),
                1 => format!("%container != \"{}\"", self.c.pick(CONTAINERS)),
                2 => {
                    let subject = self
                        .c
                        .pick(&["%pod", "%namespace", "%container_id", "%file", "downcase(%pod)", "trim(%namespace)"])
                        .to_string();
                    let (m, vars) = self.capture_match(&subject);
                    captures.extend(vars);
                    m
                }
                3 => format!("%namespace == \"{}\"", self.c.pick(NAMESPACES)),
                4 => format!("%stream == \"{}\"", self.c.pick(&["stdout", "stderr"])),
                5 => format!(
                    "(%container == \"{}\" || %pod =~ r'{}')",
                    self.c.pick(CONTAINERS),
                    self.c.pick(&["^model-", "é", "-1$"])
                ),
                6 => format!("starts_with(%pod, \"{}\")", self.c.pick(&["model-", "app", "", "django-"])),
                7 => format!("length(%pod) > {}", self.c.pick(&["3", "10", "0"])),
                8 => format!("!(%container == \"{}\")", self.c.pick(CONTAINERS)),
                9 => format!("contains(%namespace, \"{}\", case_sensitive: false)", self.c.pick(&["ORG", "base", ""])),
                _ => {
                    // Always true: a capture of the whole pod name, or a tautology.
                    let name = self.fresh("c");
                    match self.c.below(3) {
                        0 => {
                            captures.push(Var { name: name.clone(), ty: Ty(S) });
                            format!("%pod =~ r'^(?P<{name}>.*)$'")
                        }
                        1 => "(%stream == \"stdout\" || %stream == \"stderr\")".to_string(),
                        _ => "length(%container_id) >= 0".to_string(),
                    }
                }
            };
            parts.push(part);
        }
        (parts.join("\n    && "), captures)
    }

    /// `subject =~ r'…'` with fresh capture names; the variables it binds.
    fn capture_match(&mut self, subject: &str) -> (String, Vec<Var>) {
        let (pattern, groups) = self.c.pick(PATTERNS);
        let mut text = pattern.to_string();
        let mut vars = Vec::new();
        for (i, optional) in groups.iter().enumerate() {
            let name = self.fresh("c");
            text = text.replace(&format!("{{{i}}}"), &name);
            vars.push(Var { name, ty: Ty(if *optional { S | N } else { S }) });
        }
        (format!("{subject} =~ r'{text}'"), vars)
    }

    /// Assigns every required output, in a random order, some of them in both
    /// branches of an `if`.
    fn prelude(&mut self) {
        let mut order: Vec<usize> = (0..REQUIRED.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.c.below(i + 1);
            order.swap(i, j);
        }
        let mut i = 0;
        while i < order.len() {
            if self.c.chance(15) {
                // The next one to three outputs, in both branches of an if/else.
                let k = (1 + self.c.below(3)).min(order.len() - i);
                let chunk: Vec<usize> = order[i..i + k].to_vec();
                let (cond, captures) = self.cond(2, true);
                self.required_branch(&format!("if {cond} {{"), captures, &chunk);
                if self.c.chance(40) {
                    let (cond, captures) = self.cond(2, true);
                    self.required_branch(&format!("}} else if {cond} {{"), captures, &chunk);
                }
                self.required_branch("} else {", Vec::new(), &chunk);
                self.line("}");
                i += k;
            } else {
                self.assign_required(order[i]);
                i += 1;
            }
        }
    }

    /// A branch (its opening line given) that assigns the outputs of
    /// `chunk`, with the captures its condition binds in scope.
    fn required_branch(&mut self, header: &str, captures: Vec<Var>, chunk: &[usize]) {
        self.line(header);
        self.indent += 1;
        self.scopes.push(captures);
        for &o in chunk {
            self.assign_required(o);
        }
        self.scopes.pop();
        self.indent -= 1;
    }

    fn assign_required(&mut self, o: usize) {
        let (name, want) = REQUIRED[o];
        let v = self.value(want, 3);
        self.line(&format!("{name} = {v}"));
    }

    // ---- statements ----

    fn stmt(&mut self, depth: usize) {
        let post = self.phase == Phase::Post;
        let w = [
            14,                            // let
            8,                             // parse let
            4,                             // let with an error binding
            if post { 10 } else { 3 },     // output assignment
            if depth < 2 { 7 } else { 0 }, // if
            3,                             // drop under a condition
            if post { 3 } else { 0 },      // emit under a condition
            3,                             // shadowing let
            1,                             // aborting call
            if depth < 2 { 1 } else { 0 }, // constant if
        ];
        match self.c.weighted(&w) {
            0 => {
                let want = self.any_want();
                let v = self.value(want, 3);
                let name = self.fresh("v");
                self.line(&format!("let {name} = {v}"));
                self.declare(name, want.ty());
            }
            1 => self.parse_let(),
            2 => {
                let want = self.any_want();
                let x = self.fallible(want, 3);
                let name = self.fresh("v");
                let err = self.fresh("e");
                self.line(&format!("let {name}, {err} = {}", x.s));
                self.declare(name, x.ty.nullable());
                self.declare(err, Ty(S | N));
            }
            3 => self.assign(),
            4 => self.if_stmt(depth),
            5 => {
                let (cond, _) = self.cond(2, false);
                let reason = self.c.pick(DROP_REASONS);
                self.line(&format!("if {cond} {{"));
                self.indent += 1;
                self.line(&format!("drop {reason}"));
                self.indent -= 1;
                self.line("}");
            }
            6 => {
                let (cond, _) = self.cond(2, false);
                self.line(&format!("if {cond} {{"));
                self.indent += 1;
                self.line("emit");
                self.indent -= 1;
                self.line("}");
            }
            7 => {
                // Rebind a visible name, perhaps with another type.
                match self.var_where(|_| true) {
                    Some(old) if !old.name.starts_with('c') => {
                        let want = self.any_want();
                        let v = self.value(want, 2);
                        self.line(&format!("let {} = {v}", old.name));
                        self.declare(old.name, want.ty());
                    }
                    _ => {
                        let v = self.value(Want::Str, 2);
                        let name = self.fresh("v");
                        self.line(&format!("let {name} = {v}"));
                        self.declare(name, Ty(S));
                    }
                }
            }
            8 => self.abort_let(),
            _ => {
                let k = self.c.pick(&["true", "false", "1 < 2", "\"a\" == \"b\"", "!true", "contains(\"abc\", \"b\")"]);
                self.line(&format!("if {k} {{"));
                self.indent += 1;
                self.scopes.push(Vec::new());
                self.stmt(depth + 1);
                self.scopes.pop();
                self.indent -= 1;
                if self.c.chance(50) {
                    self.line("} else {");
                    self.indent += 1;
                    self.scopes.push(Vec::new());
                    self.stmt(depth + 1);
                    self.scopes.pop();
                    self.indent -= 1;
                }
                self.line("}");
            }
        }
    }

    fn any_want(&mut self) -> Want {
        const WANTS: [Want; 9] =
            [Want::Str, Want::Any, Want::Int, Want::Bool, Want::Obj, Want::Arr, Want::Level, Want::Float, Want::OptStr];
        WANTS[self.c.weighted(&[30, 15, 10, 10, 7, 7, 6, 3, 5])]
    }

    /// `let j = parse_json(…)` and the like: the forms the optimizer's
    /// pushdown looks for, and the ones it must leave alone.
    fn parse_let(&mut self) {
        let arg = self.str_arg(2);
        let arg = self.handled(arg, Want::Str);
        let (func, rest, ty) = match self.c.weighted(&[6, 3, 2, 2]) {
            0 => ("parse_json", String::new(), Ty(ALL)),
            1 => ("parse_klog", String::new(), Ty(O)),
            2 => ("parse_logfmt", String::new(), Ty(O)),
            _ => {
                let p = self.c.pick(PATTERNS).0.replace("{0}", "g0").replace("{1}", "g1");
                let numeric = self.c.pick(&["", ", numeric_groups: true", ", numeric_groups: false"]);
                ("parse_regex", format!(", r'{p}'{numeric}"), Ty(O))
            }
        };
        let name = self.fresh("v");
        match self.c.weighted(&[5, 1, 3]) {
            0 => {
                let err = self.fresh("e");
                self.line(&format!("let {name}, {err} = {func}({arg}{rest})"));
                self.declare(name, ty.nullable());
                self.declare(err, Ty(S | N));
            }
            1 => {
                self.line(&format!("let {name} = {func}!({arg}{rest})"));
                self.declare(name, ty);
            }
            _ => {
                let fallback = if ty.is(O) { "{}" } else { self.c.pick(&["{}", "null", "\"\"", "[]"]) };
                self.line(&format!("let {name} = {func}({arg}{rest}) ?? {fallback}"));
                self.declare(name, if ty.is(O) { ty } else { Ty(ALL) });
            }
        }
    }

    /// `let x = f!(…)`: an aborting call whose arguments cannot fail.
    fn abort_let(&mut self) {
        let name = self.fresh("v");
        let (call, ty) = match self.c.below(6) {
            0 => {
                let s = self.value(Want::Str, 1);
                let f = self.c.pick(TIMESTAMP_FORMATS);
                (format!("parse_timestamp!({s}, format: {f})"), Ty(I))
            }
            1 => {
                let x = self.level_arg();
                (format!("level!({x})"), Ty(S | LEVEL))
            }
            2 => {
                let s = self.value(Want::Str, 1);
                let a = self.c.pick(INT_LITS);
                (format!("slice!({s}, {a})"), Ty(S))
            }
            3 => {
                let s = self.value(Want::Str, 1);
                (format!("to_int!({s})"), Ty(I))
            }
            4 => {
                let x = self.value(Want::Any, 1);
                (format!("to_string!({x})"), Ty(S))
            }
            _ => {
                let s = self.value(Want::Str, 1);
                (format!("parse_logfmt!({s})"), Ty(O))
            }
        };
        self.line(&format!("let {name} = {call}"));
        self.declare(name, ty);
    }

    fn assign(&mut self) {
        match self.c.weighted(&[10, 4, 5, 1]) {
            0 => {
                let (name, want) = self.c.pick(REQUIRED);
                let v = self.value(want, 3);
                self.line(&format!("{name} = {v}"));
            }
            1 => {
                let v = self.value(Want::OptStr, 2);
                self.line(&format!("payload.exc_info = {v}"));
            }
            2 => {
                let key = self.c.pick(EXTRAS);
                let want = self.c.pick(&[Want::Str, Want::Int, Want::Float, Want::Bool, Want::Level, Want::Str]);
                let v = self.value(want, 2);
                self.line(&format!("payload.{key} = {v}"));
            }
            _ => self.line("labels.job = \"fluent-bit\""),
        }
    }

    fn if_stmt(&mut self, depth: usize) {
        let (cond, captures) = self.cond(2, true);
        self.line(&format!("if {cond} {{"));
        self.block(depth, captures);
        let elifs = self.c.weighted(&[6, 3, 1]);
        for _ in 0..elifs {
            let (cond, captures) = self.cond(2, true);
            self.line(&format!("}} else if {cond} {{"));
            self.block(depth, captures);
        }
        if self.c.chance(50) {
            self.line("} else {");
            self.block(depth, Vec::new());
        }
        self.line("}");
    }

    fn block(&mut self, depth: usize, captures: Vec<Var>) {
        self.indent += 1;
        self.scopes.push(captures);
        let n = self.c.below(4);
        for _ in 0..n {
            self.stmt(depth + 1);
        }
        if self.c.chance(10) {
            let reason = self.c.pick(DROP_REASONS);
            self.line(&format!("drop {reason}"));
        } else if self.phase == Phase::Post && self.c.chance(8) {
            self.line("emit");
        }
        self.scopes.pop();
        self.indent -= 1;
    }

    // ---- conditions ----

    /// A condition; with `bind`, some `&&` operands are matches whose
    /// captures the guarded block sees.
    fn cond(&mut self, d: u32, bind: bool) -> (String, Vec<Var>) {
        let n = 1 + self.c.weighted(&[6, 3, 1]);
        let mut parts = Vec::new();
        let mut captures = Vec::new();
        for _ in 0..n {
            if bind && self.c.chance(30) {
                let subject = self.value(Want::Str, 1);
                let (m, vars) = self.capture_match(&subject);
                parts.push(m);
                captures.extend(vars);
            } else {
                parts.push(self.value(Want::Bool, d));
            }
        }
        (parts.join(" && "), captures)
    }

    // ---- expressions ----

    /// An expression of type `want` that cannot fail.
    fn value(&mut self, want: Want, d: u32) -> String {
        let x = self.expr(want, d);
        self.handled(x, want)
    }

    /// Handles a fallible expression with a `??` fallback of its type.
    fn handled(&mut self, x: E, want: Want) -> String {
        if !x.fallible {
            return x.s;
        }
        let fallback = self.leaf(if want == Want::Any { Want::Str } else { want });
        format!("({} ?? {})", x.s, fallback)
    }

    /// An expression of type `want` that can fail (for `let x, err` and `??`).
    fn fallible(&mut self, want: Want, d: u32) -> E {
        for _ in 0..4 {
            let x = self.expr(want, d);
            if x.fallible {
                return x;
            }
        }
        // Always fallible, of every type.
        match want {
            Want::Str | Want::OptStr => e(format!("slice({}, 2)", self.value(Want::Str, 0)), Ty(S), true),
            Want::Level => e(format!("level({})", self.level_arg()), Ty(S | LEVEL), true),
            Want::Int => e(format!("to_int({})", self.value(Want::Str, 0)), Ty(I), true),
            Want::Float | Want::Bool => {
                e(format!("({} < {})", self.value(Want::Any, 0), self.c.pick(INT_LITS)), Ty(B), true)
            }
            Want::Any => e(format!("parse_json({})", self.value(Want::Str, 0)), Ty(ALL), true),
            Want::Obj => e(format!("parse_klog({})", self.value(Want::Str, 0)), Ty(O), true),
            Want::Arr => e(format!("slice({}, 1)", self.value(Want::Arr, 0)), Ty(A), true),
        }
    }

    /// A simple expression of type `want` that cannot fail.
    fn leaf(&mut self, want: Want) -> String {
        let var = match want {
            Want::Str => self.var_where(|t| t.is(S)),
            Want::Level => self.var_where(|t| t.0 == S | LEVEL),
            Want::Int => self.var_where(|t| t.is(I)),
            Want::Float => self.var_where(|t| t.is(F)),
            Want::Bool => self.var_where(|t| t.is(B)),
            Want::Any => self.var_where(|t| t.is(ALL)),
            Want::Obj => self.var_where(|t| t.is(O)),
            Want::Arr => self.var_where(|t| t.is(A)),
            Want::OptStr => self.var_where(|t| t.is(S | N)),
        };
        if let Some(v) = var
            && self.c.chance(50)
        {
            return v.name;
        }
        match want {
            Want::Str => {
                if self.c.chance(40) {
                    self.c.pick(METAS).0.to_string()
                } else if self.phase == Phase::Post && self.c.chance(15) {
                    let r: Vec<&str> = READABLE.iter().filter(|(_, w)| *w != Want::Level).map(|(n, _)| *n).collect();
                    self.c.pick(&r).to_string()
                } else {
                    self.c.pick(STR_LITS).to_string()
                }
            }
            Want::Level => {
                if self.phase == Phase::Post && self.c.chance(20) {
                    "payload.levelname".into()
                } else {
                    self.c.pick(LEVEL_LITS).to_string()
                }
            }
            Want::Int => {
                if self.c.chance(20) {
                    "%timestamp".into()
                } else {
                    self.c.pick(INT_LITS).to_string()
                }
            }
            Want::Float => self.c.pick(FLOAT_LITS).to_string(),
            Want::Bool => self.c.pick(&["true", "false"]).to_string(),
            Want::Any => {
                // A path into something parsed.
                match self.var_where(|t| t.may(O | A)) {
                    Some(v) => format!("{}{}", v.name, self.segments(false)),
                    None => format!("(parse_json({}) ?? {{}})", self.c.pick(&["%line", "'{\"a\": {\"b\": [1]}}'"])),
                }
            }
            Want::Obj => self.c.pick(&["{}", "{ a: 1 }", "{ message: \"m\", n: null }"]).to_string(),
            Want::Arr => self.c.pick(&["[]", "[1, \"a\"]", "[null, [true]]"]).to_string(),
            Want::OptStr => self
                .c
                .pick(&["%traceback", "(if %stream == \"stderr\" { %pod } else { null })", "(null ?? %traceback)"])
                .to_string(),
        }
    }

    /// Path segments, e.g. `.a.b`, `[0]`, `."odd key"`.
    fn segments(&mut self, in_hole: bool) -> String {
        let n = 1 + self.c.weighted(&[6, 3, 1]);
        let mut s = String::new();
        for _ in 0..n {
            match self.c.weighted(&[8, 2, if in_hole { 0 } else { 1 }]) {
                0 => {
                    let k = self.c.pick(KEYS);
                    let _ = write!(s, ".{k}");
                }
                1 => {
                    let i = self.c.pick(&["0", "1", "-1", "5", "-3"]);
                    let _ = write!(s, "[{i}]");
                }
                _ => {
                    let k = self.c.pick(QUOTED_KEYS);
                    let _ = write!(s, ".\"{k}\"");
                }
            }
        }
        s
    }

    /// An argument for a `string` parameter: a string, or something wider
    /// (which makes the call fallible).
    fn str_arg(&mut self, d: u32) -> E {
        match self.c.weighted(&[14, 4, 2]) {
            0 => self.expr(Want::Str, d),
            1 => self.expr(Want::Any, d.min(1)),
            _ => self.expr(Want::OptStr, d.min(1)),
        }
    }

    fn level_arg(&mut self) -> String {
        let x = match self.c.below(5) {
            0 => self.c.pick(LEVEL_SPELLINGS).to_string(),
            1 => self.value(Want::Any, 0),
            2 => self.c.pick(&["10", "25", "40", "3", "-1", "100"]).to_string(),
            3 => self.value(Want::Str, 1),
            _ => self.c.pick(LEVEL_LITS).to_string(),
        };
        match self.c.below(4) {
            0 => format!("{x}, scale: \"python\""),
            1 => format!("{x}, scale: \"syslog\""),
            _ => x,
        }
    }

    /// A call with one string argument and a result of type `ty`.
    fn call1(&mut self, f: &str, ty: Ty, d: u32, always: bool) -> E {
        let a = self.str_arg(d - 1);
        e(format!("{f}({})", a.s), ty, always || a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL))
    }

    fn expr(&mut self, want: Want, d: u32) -> E {
        if d == 0 || self.c.chance(25) {
            return e(self.leaf(want), want.ty(), false);
        }
        match want {
            Want::Str => self.str_expr(d),
            Want::Level => self.level_expr(d),
            Want::Int => self.int_expr(d),
            Want::Float => self.float_expr(d),
            Want::Bool => self.bool_expr(d),
            Want::Any => self.any_expr(d),
            Want::Obj => self.obj_expr(d),
            Want::Arr => self.arr_expr(d),
            Want::OptStr => self.optstr_expr(d),
        }
    }

    fn str_expr(&mut self, d: u32) -> E {
        let st = Ty(S);
        match self.c.weighted(&[6, 3, 3, 2, 3, 2, 4, 3, 2, 2, 4, 3, 2]) {
            0 => self.template(),
            1 => {
                let f = self.c.pick(&["upcase", "downcase", "trim", "strip_ansi_escape_codes"]);
                self.call1(f, st, d, false)
            }
            2 => {
                let a = self.str_arg(d - 1);
                let regex = self.c.chance(50);
                let pat = if regex {
                    format!("r'{}'", self.c.pick(PLAIN_PATTERNS))
                } else {
                    self.c.pick(&["\" \"", "\"a\"", "\"\"", "\"é\"", "\"\\r\""]).to_string()
                };
                let with = if regex { self.c.pick(REPLACEMENTS).to_string() } else { self.value(Want::Str, 0) };
                let count = match self.c.below(3) {
                    0 => String::new(),
                    _ => format!(", count: {}", self.c.pick(&["-1", "0", "1", "2"])),
                };
                let fallible = a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL);
                e(format!("replace({}, {pat}, {with}{count})", a.s), st, fallible)
            }
            3 => {
                let a = self.str_arg(d - 1);
                let n = self.value(Want::Int, 0);
                let suffix = match self.c.below(3) {
                    0 => format!(", suffix: {}", self.value(Want::Str, 0)),
                    _ => String::new(),
                };
                let fallible = a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL);
                e(format!("truncate({}, {n}{suffix})", a.s), st, fallible)
            }
            4 => {
                // to_string of anything: fallible when it may be an array or object.
                let want = self.c.pick(&[Want::Any, Want::Int, Want::Float, Want::Bool, Want::Str, Want::OptStr]);
                let a = self.expr(want, d - 1);
                let fallible = a.fallible || a.ty.may(A | O);
                e(format!("to_string({})", a.s), st, fallible)
            }
            5 => {
                let want = self.c.pick(&[Want::Any, Want::Obj, Want::Arr, Want::Str, Want::Float, Want::Int]);
                let a = self.expr(want, d - 1);
                e(format!("encode_json({})", a.s), st, a.fallible)
            }
            6 => {
                let a = self.value(Want::Str, d - 1);
                let start = self.c.pick(&["0", "1", "-1", "2", "-5", "100"]);
                let end = match self.c.below(2) {
                    0 => String::new(),
                    _ => format!(", {}", self.c.pick(&["0", "1", "3", "-1", "100"])),
                };
                e(format!("slice({a}, {start}{end})"), st, true)
            }
            7 => {
                // A `??` chain ending in a string.
                let n = 1 + self.c.below(2);
                let mut parts = Vec::new();
                for _ in 0..n {
                    let w = self.c.pick(&[Want::Str, Want::OptStr, Want::Level]);
                    let x = if w == Want::OptStr { self.expr(w, d - 1) } else { self.fallible(w, d - 1) };
                    parts.push(x.s);
                }
                parts.push(self.value(Want::Str, d - 1));
                e(format!("({})", parts.join(" ?? ")), st, false)
            }
            8 => self.if_expr(Want::Str, d),
            9 => {
                // A path into a split: `split(s, " ")[0]`, as text.
                let a = self.value(Want::Str, d - 1);
                let sp = self.c.pick(SPLITTERS);
                let i = self.c.pick(&["0", "1", "-1"]);
                e(format!("to_string(split({a}, {sp})[{i}])"), st, true)
            }
            10 => {
                // A member read, or a `??` chain of them (one op, optimized).
                let n = 1 + self.c.below(3);
                let mut reads = Vec::new();
                for _ in 0..n {
                    let k = self.c.pick(KEYS);
                    reads.push(match self.var_where(|t| t.may(O | A)) {
                        Some(v) => format!("{}.{k}", v.name),
                        None => format!("parse_json(%line).{k}"),
                    });
                }
                let read = if n == 1 { reads.remove(0) } else { format!("({} ?? null)", reads.join(" ?? ")) };
                e(format!("to_string({read})"), st, true)
            }
            11 => {
                // Constant subexpressions, for the folder.
                let s = self.c.pick(&[
                    "upcase(\"abc\")",
                    "trim(\"  x  \")",
                    "to_string(12)",
                    "to_string(0.1)",
                    "to_string(true)",
                    "\"a\\{b\\}c\"",
                    "downcase(\"ÀB\")",
                    "(\"a\" ?? \"b\")",
                    "(null ?? \"z\")",
                    "(if 1 < 2 { \"lt\" } else { \"ge\" })",
                    "strip_ansi_escape_codes(\"\\u{1b}[1mB\\u{1b}[0m\")",
                    "truncate(\"abcdef\", 3, suffix: \"…\")",
                    "replace(\"a-b-c\", \"-\", \"+\", count: 1)",
                ]);
                e(s, st, false)
            }
            _ => {
                // A capture of an `if` expression's condition.
                let subject = self.c.pick(METAS).0;
                let (m, vars) = self.capture_match(subject);
                let v = vars.iter().find(|v| v.ty.is(S)).map(|v| v.name.clone());
                match v {
                    Some(name) => {
                        let other = self.value(Want::Str, 0);
                        e(format!("(if {m} {{ {name} }} else {{ {other} }})"), st, false)
                    }
                    None => {
                        let a = self.value(Want::Str, 0);
                        let b = self.value(Want::Str, 0);
                        e(format!("(if {m} {{ {a} }} else {{ {b} }})"), st, false)
                    }
                }
            }
        }
    }

    /// A template with holes: paths of variables, metadata and outputs.
    fn template(&mut self) -> E {
        let n = 1 + self.c.below(3);
        let mut s = String::from("\"");
        let mut fallible = false;
        let texts = ["", "a ", " - ", "é", "\\\"q\\\"", "\\{", "\\}", "\\n", ":", "\\t"];
        for _ in 0..n {
            s.push_str(self.c.pick(&texts));
            let pad = if self.c.chance(10) { " " } else { "" };
            let hole = match self.c.weighted(&[5, 3, 2, 3, 1]) {
                0 => match self.var_where(|t| t.may(S | I | F | B)) {
                    Some(v) => {
                        fallible |= !v.ty.within(S | I | F | B);
                        v.name
                    }
                    None => "%pod".into(),
                },
                1 => {
                    let m = self.c.pick(&["%line", "%pod", "%timestamp", "%stream", "%traceback", "%container"]);
                    fallible |= m == "%traceback";
                    m.into()
                }
                2 => match self.var_where(|t| t.may(O | A)) {
                    Some(v) => {
                        fallible = true;
                        format!("{}{}", v.name, self.segments(true))
                    }
                    None => "%namespace".into(),
                },
                3 if self.phase == Phase::Post => self.c.pick(READABLE).0.to_string(),
                _ => "%container_id".into(),
            };
            let _ = write!(s, "{{{pad}{hole}{pad}}}");
        }
        s.push_str(self.c.pick(&texts));
        s.push('"');
        e(s, Ty(S), fallible)
    }

    fn if_expr(&mut self, want: Want, d: u32) -> E {
        let n = 1 + self.c.weighted(&[6, 2]);
        let mut s = String::from("(");
        let mut fallible = false;
        for i in 0..n {
            let (cond, captures) = self.cond(1, true);
            self.scopes.push(captures);
            let v = self.expr(want, d - 1);
            self.scopes.pop();
            fallible |= v.fallible;
            if i > 0 {
                s.push_str(" else ");
            }
            let _ = write!(s, "if {cond} {{ {} }}", v.s);
        }
        let v = self.expr(want, d - 1);
        fallible |= v.fallible;
        let _ = write!(s, " else {{ {} }})", v.s);
        e(s, want.ty(), fallible)
    }

    fn level_expr(&mut self, d: u32) -> E {
        let lt = Ty(S | LEVEL);
        match self.c.weighted(&[6, 3, 2]) {
            0 => e(format!("level({})", self.level_arg()), lt, true),
            1 => self.if_expr(Want::Level, d),
            _ => {
                let x = self.level_arg();
                let fb = self.c.pick(LEVEL_LITS);
                e(format!("(level({x}) ?? {fb})"), lt, false)
            }
        }
    }

    fn int_expr(&mut self, d: u32) -> E {
        let it = Ty(I);
        match self.c.weighted(&[4, 4, 2, 2, 1]) {
            0 => {
                let w = self.c.pick(&[Want::Str, Want::Arr, Want::Obj, Want::Any]);
                let a = self.expr(w, d - 1);
                let fallible = a.fallible || !a.ty.within(S | A | O);
                e(format!("length({})", a.s), it, fallible)
            }
            1 => {
                let w = self.c.pick(&[Want::Str, Want::Any, Want::Float, Want::Bool, Want::Int, Want::OptStr]);
                let a = self.expr(w, d - 1);
                let fallible = a.fallible || a.ty.may(S | A | O);
                e(format!("to_int({})", a.s), it, fallible)
            }
            2 => {
                let a = self.str_arg(d - 1);
                let f = self.c.pick(TIMESTAMP_FORMATS);
                e(format!("parse_timestamp({}, format: {f})", a.s), it, true)
            }
            3 => self.if_expr(Want::Int, d),
            _ => e(self.c.pick(&["length(\"héllo\")", "to_int(2.9)", "to_int(true)", "(null ?? 7)"]), it, false),
        }
    }

    fn float_expr(&mut self, d: u32) -> E {
        match self.c.below(2) {
            0 => self.if_expr(Want::Float, d),
            _ => {
                let a = self.leaf(Want::Float);
                e(format!("({a} ?? 1.5)"), Ty(F), false)
            }
        }
    }

    fn bool_expr(&mut self, d: u32) -> E {
        let bt = Ty(B);
        match self.c.weighted(&[6, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2]) {
            0 => {
                // == / != on any two values: never fails.
                let wants =
                    [Want::Str, Want::Any, Want::Int, Want::Float, Want::Obj, Want::Arr, Want::OptStr, Want::Bool];
                let (lw, rw) = (self.c.pick(&wants), self.c.pick(&wants));
                let l = self.expr(lw, d - 1);
                let r = self.expr(rw, d - 1);
                let op = self.c.pick(&["==", "!="]);
                e(format!("({} {op} {})", l.s, r.s), bt, l.fallible || r.fallible)
            }
            1 => {
                // Orderings: numbers with numbers, strings with strings, or parsed data.
                let op = self.c.pick(&["<", "<=", ">", ">="]);
                let (l, r) = match self.c.below(4) {
                    0 => {
                        let w = self.c.pick(&[Want::Int, Want::Float]);
                        (self.expr(Want::Int, d - 1), self.expr(w, d - 1))
                    }
                    1 => (self.expr(Want::Str, d - 1), self.expr(Want::Str, d - 1)),
                    2 => {
                        let w = self.c.pick(&[Want::Int, Want::Str]);
                        (self.expr(Want::Any, d - 1), self.expr(w, d - 1))
                    }
                    _ => (self.expr(Want::Float, d - 1), self.expr(Want::Int, d - 1)),
                };
                let fallible = l.fallible || r.fallible || l.ty.is(ALL) || r.ty.is(ALL);
                e(format!("({} {op} {})", l.s, r.s), bt, fallible)
            }
            2 => {
                // A match that binds nothing here.
                let a = self.str_arg(d - 1);
                let op = self.c.pick(&["=~", "!~"]);
                let p = self.c.pick(PLAIN_PATTERNS);
                let fallible = a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL);
                e(format!("({} {op} r'{p}')", a.s), bt, fallible)
            }
            3 => {
                let x = self.expr(Want::Bool, d - 1);
                e(format!("(!{})", x.s), bt, x.fallible)
            }
            4 => {
                let n = 2 + self.c.below(2);
                let op = self.c.pick(&[" && ", " || "]);
                let xs: Vec<E> = (0..n).map(|_| self.expr(Want::Bool, d - 1)).collect();
                let fallible = xs.iter().any(|x| x.fallible);
                let s: Vec<String> = xs.into_iter().map(|x| x.s).collect();
                e(format!("({})", s.join(op)), bt, fallible)
            }
            5 => {
                let f = self.c.pick(&["contains", "starts_with", "ends_with"]);
                let a = self.str_arg(d - 1);
                let b = self.value(Want::Str, 0);
                let cs = match self.c.below(3) {
                    0 => format!(", case_sensitive: {}", self.c.pick(&["true", "false"])),
                    _ => String::new(),
                };
                let fallible = a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL);
                e(format!("{f}({}, {b}{cs})", a.s), bt, fallible)
            }
            6 => {
                let f = self.c.pick(&["is_null", "is_object", "is_string"]);
                let w = self.c.pick(&[Want::Any, Want::Any, Want::OptStr, Want::Obj, Want::Str, Want::Int]);
                let a = self.expr(w, d - 1);
                e(format!("{f}({})", a.s), bt, a.fallible)
            }
            7 => match self.var_where(|t| t.may(O | A)) {
                Some(v) => e(format!("exists({}{})", v.name, self.segments(false)), bt, false),
                None => e("exists((parse_json(%line) ?? {}).a)", bt, false),
            },
            8 => {
                // `?? false`: a fallible condition, handled.
                let x = self.fallible(Want::Bool, d - 1);
                e(format!("({} ?? false)", x.s), bt, false)
            }
            9 => self.if_expr(Want::Bool, d),
            _ => e(
                self.c.pick(&[
                    "(1 < 2)",
                    "(\"a\" == \"a\")",
                    "(!false)",
                    "contains(\"abc\", \"B\", case_sensitive: false)",
                    "(1 == 1.0)",
                    "is_null(null)",
                    "(true && false)",
                    "(true || false)",
                    "(\"b\" >= \"a\")",
                ]),
                bt,
                false,
            ),
        }
    }

    fn any_expr(&mut self, d: u32) -> E {
        let at = Ty(ALL);
        match self.c.weighted(&[5, 3, 3, 2, 2, 2]) {
            0 => {
                let base = match self.c.below(3) {
                    0 => self.expr(Want::Obj, d - 1),
                    1 => self.expr(Want::Arr, d - 1),
                    _ => self.expr(Want::Any, d - 1),
                };
                let segs = self.segments(false);
                e(format!("{}{segs}", base.s), at, base.fallible)
            }
            1 => {
                let a = self.str_arg(d - 1);
                e(format!("parse_json({})", a.s), at, true)
            }
            2 => {
                let n = 1 + self.c.below(2);
                let mut parts = Vec::new();
                for _ in 0..n {
                    parts.push(self.expr(Want::Any, d - 1).s);
                }
                let w = self.c.pick(&[Want::Any, Want::Str, Want::Int]);
                let last = self.value(w, d - 1);
                parts.push(last);
                e(format!("({})", parts.join(" ?? ")), at, false)
            }
            3 => {
                let w = self.c.pick(&[Want::Any, Want::Obj, Want::Arr]);
                let base = self.value(w, d - 1);
                let (path, fallible) = match self.c.below(4) {
                    0 => ("[\"a\", 0]".to_string(), false),
                    1 => ("[\"nested\", \"x\"]".to_string(), false),
                    2 => (format!("[{}, -1]", self.value(Want::Str, 0)), false),
                    // An `any` element may be neither a string nor an int.
                    _ => (format!("[{}]", self.value(Want::Any, 0)), true),
                };
                e(format!("get({base}, {path})"), at, fallible)
            }
            4 => self.if_expr(Want::Any, d),
            _ => {
                let a = self.value(Want::Str, d - 1);
                let sp = if self.c.chance(50) {
                    self.c.pick(SPLITTERS).to_string()
                } else {
                    format!("r'{}'", self.c.pick(PLAIN_PATTERNS))
                };
                let limit = match self.c.below(3) {
                    0 => format!(", limit: {}", self.c.pick(&["0", "1", "2", "-1"])),
                    _ => String::new(),
                };
                let i = self.c.pick(&["0", "1", "-1", "2"]);
                e(format!("split({a}, {sp}{limit})[{i}]"), at, false)
            }
        }
    }

    fn obj_expr(&mut self, d: u32) -> E {
        let ot = Ty(O);
        match self.c.weighted(&[3, 3, 2, 2]) {
            0 => {
                let n = self.c.below(4);
                let mut entries = Vec::new();
                let mut fallible = false;
                for _ in 0..n {
                    let k = self.c.pick(&["a", "b", "message", "\"odd key\"", "if", "n", "a"]);
                    let w = self.c.pick(&[Want::Str, Want::Int, Want::Float, Want::Bool, Want::Any, Want::Arr]);
                    let v = self.expr(w, d - 1);
                    fallible |= v.fallible;
                    entries.push(format!("{k}: {}", v.s));
                }
                e(format!("{{ {} }}", entries.join(", ")), ot, fallible)
            }
            1 => self.call1("parse_klog", ot, d, true),
            2 => self.call1("parse_logfmt", ot, d, true),
            _ => {
                let a = self.str_arg(d - 1);
                let p = self.c.pick(PATTERNS).0.replace("{0}", "g0").replace("{1}", "g1");
                let numeric = self.c.pick(&["", ", numeric_groups: true"]);
                e(format!("parse_regex({}, r'{p}'{numeric})", a.s), ot, true)
            }
        }
    }

    fn arr_expr(&mut self, d: u32) -> E {
        let art = Ty(A);
        match self.c.weighted(&[3, 3, 1]) {
            0 => {
                let n = self.c.below(4);
                let mut items = Vec::new();
                let mut fallible = false;
                for _ in 0..n {
                    let w = self.c.pick(&[Want::Str, Want::Int, Want::Float, Want::Bool, Want::Any, Want::Obj]);
                    let v = self.expr(w, d - 1);
                    fallible |= v.fallible;
                    items.push(v.s);
                }
                e(format!("[{}]", items.join(", ")), art, fallible)
            }
            1 => {
                let a = self.str_arg(d - 1);
                let sp = if self.c.chance(50) {
                    self.c.pick(SPLITTERS).to_string()
                } else {
                    format!("r'{}'", self.c.pick(PLAIN_PATTERNS))
                };
                let limit = match self.c.below(3) {
                    0 => format!(", limit: {}", self.c.pick(&["0", "1", "2", "-1"])),
                    _ => String::new(),
                };
                let fallible = a.fallible || !a.ty.is(S) && !a.ty.is(S | LEVEL);
                e(format!("split({}, {sp}{limit})", a.s), art, fallible)
            }
            _ => {
                let a = self.value(Want::Arr, d - 1);
                let start = self.c.pick(&["0", "1", "-1", "3"]);
                e(format!("slice({a}, {start})"), art, true)
            }
        }
    }

    fn optstr_expr(&mut self, d: u32) -> E {
        let ot = Ty(S | N);
        match self.c.below(3) {
            0 => {
                let a = self.value(Want::Str, d - 1);
                e(format!("(if {} {{ {a} }} else {{ null }})", self.value(Want::Bool, 1)), ot, false)
            }
            1 => {
                let a = self.fallible(Want::Str, d - 1);
                e(format!("({} ?? null)", a.s), ot, false)
            }
            _ => {
                let a = self.value(Want::Str, d - 1);
                e(format!("(strip_ansi_escape_codes(%traceback) ?? {a})"), Ty(S), false)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// One file's metadata and stream.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub container_id: String,
    pub file: String,
    pub stderr: bool,
}

/// One unit of input: a line of a file.
#[derive(Clone, Debug)]
pub struct Input {
    pub file: usize,
    pub line: String,
    pub traceback: Option<String>,
    pub timestamp: i64,
}

pub fn file_meta(c: &mut Choices<'_>) -> FileMeta {
    let pod = c.pick(PODS).to_string();
    let namespace = c.pick(NAMESPACES).to_string();
    let container = c.pick(CONTAINERS).to_string();
    let container_id = c.pick(CONTAINER_IDS).to_string();
    let file = if c.chance(80) {
        format!("/var/log/containers/{pod}_{namespace}_{container}-{container_id}.log")
    } else {
        c.pick(&["", "x.log", "/tmp/é"]).to_string()
    };
    FileMeta { pod, namespace, container, container_id, file, stderr: c.chance(40) }
}

pub fn input(c: &mut Choices<'_>, files: usize) -> Input {
    let file = c.below(files);
    let line = line(c);
    let traceback = match c.weighted(&[8, 2, 1, 1]) {
        0 => None,
        1 => Some(
            "Traceback (most recent call last):\n  File \"/app/model.py\", line 12, in predict\nValueError: bad input"
                .to_string(),
        ),
        2 => Some(String::new()),
        _ => Some("\u{1b}[31mpanic: boom\u{1b}[0m\ngoroutine 1 [running]:\n\tmain.go:7 +0x1d".to_string()),
    };
    let timestamp = match c.below(5) {
        0 => 1_795_135_392_801_000_000,
        1 => 0,
        2 => -1_000_000_000,
        3 => 1_700_000_000_000_000_000 + i64::from(c.below(1 << 30) as u32),
        _ => 1_763_632_800_224_034_800,
    };
    Input { file, line, traceback, timestamp }
}

/// A line: JSON, klog, logfmt, text with colours and `\r`, empty, or arbitrary.
pub fn line(c: &mut Choices<'_>) -> String {
    match c.weighted(&[10, 3, 3, 4, 1, 3, 2, 2, 1, 2]) {
        8 => deep_json(c),
        9 => long_line(c),
        0 => {
            let mut s = String::new();
            json_object(c, 0, &mut s);
            s
        }
        1 => klog_line(c),
        2 => logfmt_line(c),
        3 => text_line(c),
        4 => c.pick(&["", " ", "\t", "\r"]).to_string(),
        5 => arbitrary(c),
        6 => {
            // Other JSON values and broken JSON.
            let mut s = String::new();
            json_value(c, 1, &mut s);
            match c.below(4) {
                0 => s,
                1 => {
                    let cut = c.below(s.len().max(1));
                    let mut cut = cut.min(s.len());
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s[..cut].to_string()
                }
                2 => format!("{s} trailing"),
                _ => format!("  {s}\n"),
            }
        }
        _ => c
            .pick(&[
                r#"{"a":1,}"#,
                r#"{"a":1 "b":2}"#,
                r#"{"message": "x", "message": "y"}"#,
                r#"{"message": NaN, "n": Infinity, "b": -Infinity}"#,
                r#"{"levelname": "INFO", "message": "Executing model.load()...", "request_id": "7c1e9f02"}"#,
                r#"{"a": {"b": [1, {"c": "\ud800"}]}, "x": "\ud83d\ude00"}"#,
                r#"{"message": "caf\u00e9 \"q\" \\ \/ \n\r\t\b\f"}"#,
                r#"{"n": 12345678901234567890, "x": 1.5e300, "b": -0.0, "a": 1E2}"#,
                r#"{"": "empty key", "odd key": 1, "é": "e"}"#,
                r#"{"level":"info","ts":1763632800.2240348,"msg":"Successfully cloned","error":"exit status 1"}"#,
                r#"[1, 2, {"a": 3}]"#,
                r#""just a string""#,
                "{\"message\": \"raw\u{1}control\"}",
                r#"{"a": "\u0000nul", "b": "\u001b[31m"}"#,
                r#"{"nested": {"x": {"y": {"z": [[[]]]}}}}"#,
                r#"{"message": {"event": "loaded", "ms": 12}, "exc_info": "Traceback\nValueError: x"}"#,
                r#"{"a": 1e400}"#,
                r#"{"a": 01}"#,
                r#"{"a": "\x"}"#,
                r#"{"a": "\u12"}"#,
                r#"{"a": tru}"#,
                "{\"a\": \"\u{7f}\u{80}\"}",
            ])
            .to_string(),
    }
}

/// JSON nested deeply, up to the parsers' limit of 128 arrays and objects
/// and beyond it; an object or array literal around a value at the limit
/// nests it deeper still (`literal_around_json_nested_128_deep`). The limit
/// itself is tested in `json_depth_limit_counts_scalars_in_the_evaluator_only`.
fn deep_json(c: &mut Choices<'_>) -> String {
    let depth = c.pick(&[1, 20, 120, 127, 128, 129, 130, 400]);
    let wrapped = c.chance(50);
    let inner = c.pick(&["", "1", "\"x\"", "null", "{}"]);
    let mut s = String::new();
    if wrapped {
        s.push_str("{\"message\": ");
    }
    let kinds: Vec<bool> = (0..depth).map(|_| c.chance(50)).collect();
    for &object in &kinds {
        s.push_str(if object { "{\"a\":" } else { "[" });
    }
    // An object needs a value: `{"a":}` is not JSON.
    let inner = if inner.is_empty() && kinds.last() == Some(&true) { "[]" } else { inner };
    s.push_str(inner);
    for &object in kinds.iter().rev() {
        s.push(if object { '}' } else { ']' });
    }
    if wrapped {
        s.push('}');
    }
    s
}

/// A line around `max_record_size`'s smaller limits (1KiB and 2KiB): a JSON
/// object with a long `message` and `exc_info`, or long text, full of
/// escapes and multi-byte characters where a cut may fall.
fn long_line(c: &mut Choices<'_>) -> String {
    const PIECES: &[&str] =
        &["abcdefghij", "é", "😀", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00", "\\/", "\\u0001", "\\ud800", " "];
    let body = |c: &mut Choices<'_>| {
        let target = c.pick(&[200, 500, 900, 1000, 1100, 2100]);
        let mut s = String::new();
        while s.len() < target {
            s.push_str(c.pick(PIECES));
        }
        s
    };
    match c.below(3) {
        0 => format!("{{\"message\": \"{}\"}}", body(c)),
        1 => format!("{{\"exc_info\": \"{}\", \"message\": \"{}\"}}", body(c), body(c)),
        _ => body(c),
    }
}

fn json_string(c: &mut Choices<'_>, out: &mut String) {
    out.push('"');
    let n = c.below(6);
    for _ in 0..n {
        out.push_str(c.pick(&[
            "a",
            "hello",
            "INFO",
            "warn",
            "\\\"",
            "\\\\",
            "\\n",
            "\\u00e9",
            "\\ud800",
            "\\ud83d\\ude00",
            "\\/",
            "é",
            " ",
            "\\t",
            "{x}",
            "\\u001b[31m",
            "E",
            "25",
            "\\r",
            "😀",
            "\\b",
            "\\f",
            "\\u001B",
        ]));
    }
    out.push('"');
}

fn json_key(c: &mut Choices<'_>, out: &mut String) {
    if c.chance(85) {
        let _ = write!(out, "\"{}\"", c.pick(KEYS));
    } else {
        match c.below(3) {
            0 => {
                let _ = write!(out, "\"{}\"", c.pick(QUOTED_KEYS));
            }
            1 => out.push_str("\"mes\\u0073age\""),
            _ => json_string(c, out),
        }
    }
}

fn json_value(c: &mut Choices<'_>, depth: usize, out: &mut String) {
    let w = if depth < 3 { [6, 4, 2, 1, 1, 1, 2, 2] } else { [6, 4, 2, 1, 1, 1, 0, 0] };
    match c.weighted(&w) {
        0 => json_string(c, out),
        1 => out.push_str(c.pick(&[
            "0",
            "1",
            "-1",
            "137",
            "3.25",
            "1e3",
            "-0.0",
            "12345678901234567890",
            "9223372036854775807",
            "-9223372036854775809",
            "1.0",
            "2.5E-3",
            "10",
            "40",
            "25",
            "1763632800.2240348",
        ])),
        2 => out.push_str(c.pick(&["true", "false"])),
        3 => out.push_str("null"),
        4 => out.push_str(c.pick(&["NaN", "Infinity", "-Infinity"])),
        5 => out.push_str(c.pick(&["\"\"", "\"INFO\"", "\"warning\""])),
        6 => json_object(c, depth + 1, out),
        _ => {
            out.push('[');
            let n = c.below(4);
            for i in 0..n {
                if i > 0 {
                    out.push_str(if c.chance(20) { " , " } else { "," });
                }
                json_value(c, depth + 1, out);
            }
            out.push(']');
        }
    }
}

fn json_object(c: &mut Choices<'_>, depth: usize, out: &mut String) {
    out.push('{');
    let n = c.below(6);
    for i in 0..n {
        if i > 0 {
            out.push_str(if c.chance(30) { ", " } else { "," });
        }
        json_key(c, out);
        out.push_str(if c.chance(40) { ": " } else { ":" });
        json_value(c, depth, out);
    }
    out.push('}');
}

fn klog_line(c: &mut Choices<'_>) -> String {
    let level = c.pick(&["I", "W", "E", "F", "X"]);
    let date = c.pick(&["1012", "0229", "1399", "0101", "1231"]);
    let time = c.pick(&["01:17:48.317907", "23:59:59.999999", "00:00:00.000000", "1:2:3.4"]);
    let spaces = c.pick(&[" ", "       "]);
    let id = c.pick(&["1", "42", "99999999999999999999"]);
    let file = c.pick(&["grpc_server.cc:2451", "watcher.go:88", "x.go", "a b.go:1"]);
    let msg = c.pick(&["Started GRPCInferenceService at 0.0.0.0:8001", "", "resync", "é \"q\""]);
    format!("{level}{date} {time}{spaces}{id} {file}] {msg}")
}

fn logfmt_line(c: &mut Choices<'_>) -> String {
    let n = 1 + c.below(5);
    let mut parts = Vec::new();
    for _ in 0..n {
        parts.push(
            c.pick(&[
                "time=\"2026-11-20T10:00:00Z\"",
                "level=info",
                "level=warn",
                "msg=\"resync \\\"done\\\"\"",
                "msg=hello",
                "objects=42",
                "flag",
                "a=",
                "key=\"unterminated",
                "é=1",
                "x=\"a b\"",
                "=v",
                "level=WARNING",
            ])
            .to_string(),
        );
    }
    parts.join(c.pick(&[" ", "  ", "\t"]))
}

fn text_line(c: &mut Choices<'_>) -> String {
    c.pick(&[
        "\u{1b}[36mINFO\u{1b}[0m[0000] Retrieving image manifest python:3.11",
        "progress 10%\rprogress 55%\rprogress 100%",
        "  padded line with trailing spaces   \t",
        "ERROR: boom",
        "INFO:     Started server process [12625]",
        "2026-11-20 07:07:55,838 - INFO - Loaded the weights",
        "WARN[0003] Failed to retrieve image",
        "error building image: error building stage: failed",
        "Traceback (most recent call last):",
        "plain print() output with {braces} and \"quotes\"",
        "café 😀 ünïcödé",
        "a=1 b=2",
        "line\nwith\nnewlines",
        "tabs\tand\u{0}nul",
        "\u{1b}[1m\u{1b}[31mbold red\u{1b}[0m\r",
        "x5qe2qo-b7x4k:42:42 [0] NCCL INFO Bootstrap",
        "[11/20/2026-13:22:01] [TRT-LLM] [I] Set plugin",
        "model-abc12-x7k2p",
        "2026-11-20T03:28:31Z",
        "2026-11-20 00:43:12,801",
        "0123",
        "-42",
    ])
    .to_string()
}

/// Arbitrary text.
fn arbitrary(c: &mut Choices<'_>) -> String {
    let n = c.below(24);
    let mut s = String::new();
    for _ in 0..n {
        let ch = match c.below(6) {
            0 => char::from_u32(0x20 + c.below(0x5f) as u32).unwrap_or('?'),
            1 => c.pick(&[
                '\u{0}', '\u{1b}', '\r', '\n', '\t', '\u{8}', '\u{c}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}',
            ]),
            2 => c.pick(&['é', 'ß', 'Ж', '中', '😀', '\u{fffd}', '\u{feff}', 'İ', 'ﬀ']),
            3 => c.pick(&['{', '}', '"', '\\', '[', ']', ':', ',', '=']),
            4 => char::from_u32(c.below(0x3000) as u32).filter(|c| !c.is_control()).unwrap_or('x'),
            _ => c.pick(&['a', 'b', ' ', '0', '-']),
        };
        s.push(ch);
    }
    s
}
