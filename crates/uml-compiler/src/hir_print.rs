//! A readable rendering of the checked program, for `uml explain --stage hir`:
//! one line per statement, each value annotated with its static type.

use crate::hir::{Expr, ExprKind, Multiline, Output, Part, Program, Rule, Segment, Stmt};
use std::fmt::Write as _;

/// Renders `program` as indented text.
pub fn print(program: &Program) -> String {
    let mut out = String::new();
    let s = &program.schema;
    out.push_str("schema\n");
    for l in &s.labels {
        let _ = writeln!(out, "  label {}: {}{}", l.name, l.ty, if l.constant.is_some() { "  (constant)" } else { "" });
    }
    for f in &s.fields {
        let _ = writeln!(out, "  field {}{}: {}", f.name, if f.optional { "?" } else { "" }, f.ty);
    }
    if let Some(extra) = &s.extra {
        let _ = writeln!(out, "  field *: {extra}");
    }
    for rule in &program.rules {
        out.push('\n');
        print_rule(program, rule, &mut out);
    }
    if !program.tests.is_empty() {
        let _ = writeln!(out, "\n{} tests", program.tests.len());
    }
    out
}

fn print_rule(program: &Program, rule: &Rule, out: &mut String) {
    let _ = writeln!(out, "rule {}", rule.name);
    match &rule.when {
        Some(w) => {
            let _ = writeln!(out, "  when {}", expr(program, rule, w));
        }
        None => out.push_str("  when (every line)\n"),
    }
    let _ = writeln!(out, "  framing {:?}, max_record_size {} bytes", rule.framing, rule.max_record_size);
    if let Some(m) = &rule.multiline {
        let _ = match m {
            Multiline::PythonTraceback { head, max_lines, idle_ms } => writeln!(
                out,
                "  multiline python_traceback, head {}, max {max_lines} lines, idle {idle_ms} ms",
                head.as_deref().map_or("(default)".to_string(), |h| format!("r'{h}'"))
            ),
            Multiline::Pattern { start, continue_, max_lines, idle_ms } => writeln!(
                out,
                "  multiline start r'{start}' continue r'{continue_}', max {max_lines} lines, idle {idle_ms} ms"
            ),
        };
    }
    block(program, rule, &rule.body, 1, out);
}

fn block(program: &Program, rule: &Rule, stmts: &[Stmt], depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for s in stmts {
        match s {
            Stmt::Let { var, err, value, .. } => {
                let v = &rule.vars[var.0 as usize];
                let err = err.map(|e| format!(", {}", rule.vars[e.0 as usize].name)).unwrap_or_default();
                let _ = writeln!(out, "{pad}let {}{err}: {} = {}", v.name, v.ty, expr(program, rule, value));
            }
            Stmt::Assign { output, value, .. } => {
                let _ = writeln!(
                    out,
                    "{pad}{} = {}  : {}",
                    output_name(program, *output),
                    expr(program, rule, value),
                    value.ty
                );
            }
            Stmt::If { branches, otherwise, .. } => {
                for (i, (cond, body)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { "else if" };
                    let _ = writeln!(out, "{pad}{kw} {}", expr(program, rule, cond));
                    block(program, rule, body, depth + 1, out);
                }
                if let Some(body) = otherwise {
                    let _ = writeln!(out, "{pad}else");
                    block(program, rule, body, depth + 1, out);
                }
            }
            Stmt::Drop { reason, .. } => {
                let _ = writeln!(out, "{pad}drop {reason:?}");
            }
            Stmt::Emit { .. } => {
                let _ = writeln!(out, "{pad}emit");
            }
        }
    }
}

fn output_name(program: &Program, o: Output) -> String {
    match o {
        Output::Label(i) => format!("labels.{}", program.schema.labels[i as usize].name),
        Output::Field(i) => format!("payload.{}", program.schema.fields[i as usize].name),
        Output::Extra(i) => format!("payload.{} (extra)", program.extras[i as usize]),
    }
}

/// An expression in source-like syntax; fallible sub-expressions are marked `?`.
fn expr(program: &Program, rule: &Rule, e: &Expr) -> String {
    let x = |e: &Expr| expr(program, rule, e);
    let list = |xs: &[Expr], sep: &str| xs.iter().map(x).collect::<Vec<_>>().join(sep);
    let text = match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Regex(r) => format!("r'{}'", r.pattern),
        ExprKind::Template(parts) => {
            let parts: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => format!("{t:?}"),
                    Part::Hole(h) => x(h),
                })
                .collect();
            format!("concat({})", parts.join(", "))
        }
        ExprKind::Array(items) => format!("[{}]", list(items, ", ")),
        ExprKind::Object(entries) => {
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}: {}", x(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        ExprKind::Var(v) => rule.vars[v.0 as usize].name.clone(),
        ExprKind::Meta(m) => format!("%{}", m.name()),
        ExprKind::Output(o) => output_name(program, *o),
        ExprKind::Path { base, segments } => {
            let mut s = x(base);
            for seg in segments {
                match seg {
                    Segment::Key(k) => {
                        let _ = write!(s, ".{k}");
                    }
                    Segment::Index(i) => {
                        let _ = write!(s, "[{i}]");
                    }
                }
            }
            s
        }
        ExprKind::Call { func, args, abort } => {
            let name = func.name();
            let args: Vec<String> = args.iter().flatten().map(x).collect();
            format!("{name}{}({})", if *abort { "!" } else { "" }, args.join(", "))
        }
        ExprKind::Not(inner) => format!("!{}", x(inner)),
        ExprKind::Compare { op, lhs, rhs } => format!("({} {} {})", x(lhs), op.as_str(), x(rhs)),
        ExprKind::Match { subject, regex, negate, captures } => {
            let binds: Vec<String> =
                captures.iter().map(|(g, v)| format!("{}=${g}", rule.vars[v.0 as usize].name)).collect();
            let binds = if binds.is_empty() { String::new() } else { format!(" binds {}", binds.join(", ")) };
            format!("({} {} r'{}'{binds})", x(subject), if *negate { "!~" } else { "=~" }, regex.pattern)
        }
        ExprKind::And(xs) => format!("({})", list(xs, " && ")),
        ExprKind::Or(xs) => format!("({})", list(xs, " || ")),
        ExprKind::Coalesce(xs) => format!("({})", list(xs, " ?? ")),
        ExprKind::If { branches, otherwise } => {
            let mut s = String::new();
            for (i, (c, v)) in branches.iter().enumerate() {
                let _ = write!(s, "{}if {} {{ {} }} ", if i == 0 { "" } else { "else " }, x(c), x(v));
            }
            let _ = write!(s, "else {{ {} }}", x(otherwise));
            s
        }
    };
    if e.fallible { format!("{text}?") } else { text }
}
