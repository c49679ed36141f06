//! The plan as text, for `uml explain --stage plan`: one op per line with
//! its index, slots as `$n` (outputs by name), constants inline, and where
//! each op goes when it fails.

use crate::plan::{Aux, Buf, FailEdge, Op, OpId, Piece, Plan, Run, Segment, Slot, Value};
use std::fmt::{self, Write};

struct Printer<'p> {
    plan: &'p Plan,
}

impl Printer<'_> {
    fn slot(&self, s: Slot) -> String {
        if let Some(l) = self.plan.labels.iter().find(|l| l.slot == s) {
            return format!("labels.{}", l.name);
        }
        if let Some(f) = self.plan.fields.iter().find(|f| f.slot == s) {
            return format!("payload.{}", f.name);
        }
        s.to_string()
    }

    fn value(&self, v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Str(t) if t.buf == Buf::Const => format!("{:?}", self.plan.const_str(*t)),
            Value::Str(t) | Value::JsonStr(t, _) | Value::JsonContainer(t, _) => {
                format!("<{:?} {}..{}>", t.buf, t.start, t.end)
            }
        }
    }

    fn path(&self, p: u32) -> String {
        let mut out = String::new();
        for seg in &self.plan.paths[p as usize] {
            match seg {
                Segment::Key(k) => {
                    let _ = write!(out, ".{k}");
                }
                Segment::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }

    fn args(&self, args: Run) -> String {
        let slots = args.of(&self.plan.args);
        let parts: Vec<String> =
            slots.iter().map(|&s| if s == crate::plan::NO_SLOT { "_".to_string() } else { self.slot(s) }).collect();
        parts.join(", ")
    }

    fn op(&self, op: &Op) -> String {
        let p = self.plan;
        let fail = |f: Option<FailEdge>| f.map_or(String::new(), |f| format!("  ! {}", f.op()));
        match op {
            Op::Const { dst, value } => format!("{} = {}", self.slot(*dst), self.value(value)),
            Op::Meta { dst, meta } => format!("{} = %{}", self.slot(*dst), meta.name()),
            Op::Move { dst, src } => format!("{} = {}", self.slot(*dst), self.slot(*src)),
            Op::Path { dst, src, path } => format!("{} = {}{}", self.slot(*dst), self.slot(*src), self.path(*path)),
            Op::FirstPresent { dst, items } => {
                let items: Vec<String> = items
                    .of(&p.firsts)
                    .iter()
                    .map(|&(src, path)| match path {
                        Some(path) => format!("{}{}", self.slot(src), self.path(path)),
                        None => self.slot(src),
                    })
                    .collect();
                format!("{} = {}", self.slot(*dst), items.join(" ?? "))
            }
            Op::Present { dst, mask, bit } => format!("{} = present({}, bit {bit})", self.slot(*dst), self.slot(*mask)),
            Op::Exists { dst, src, path } => {
                format!("{} = exists({}{})", self.slot(*dst), self.slot(*src), self.path(*path))
            }
            Op::Call { dst, func, args, aux, fail: f } => {
                let aux = match aux {
                    Aux::None => String::new(),
                    Aux::Regex(r) => {
                        let idiom = match p.regex_idioms.get(*r as usize).copied().flatten() {
                            Some(crate::plan::RegexIdiom::TrailingWhitespace) => " (idiom: trailing whitespace)",
                            Some(crate::plan::RegexIdiom::ThroughLastCarriageReturn) => {
                                " (idiom: through the last \\r)"
                            }
                            None => "",
                        };
                        format!(" r'{}'{idiom}", p.regexes[*r as usize].as_str())
                    }
                    Aux::Format(i) => format!(" format {:?}", p.formats[*i as usize].0),
                    Aux::Scale(Some(s)) => format!(" scale {:?}", s.name()),
                    Aux::Scale(None) => String::new(),
                };
                format!("{} = {func}({}){aux}{}", self.slot(*dst), self.args(*args), fail(*f))
            }
            Op::ParseJson { dst, src, members, fail: f } => {
                let members = match members {
                    None => String::new(),
                    Some(m) => {
                        let keys: Vec<String> = p.key_sets[m.keys as usize]
                            .keys()
                            .enumerate()
                            .map(|(i, k)| format!("{k}→{}", self.slot(m.member(i))))
                            .collect();
                        format!(" keys {{{}}} present→{}", keys.join(", "), self.slot(m.mask()))
                    }
                };
                format!("{} = parse_json({}){members}{}", self.slot(*dst), self.slot(*src), fail(*f))
            }
            Op::ParseKlog { dst, src, fields, whole, fail: f } => {
                let fields: Vec<String> = fields
                    .of(&p.captures)
                    .iter()
                    .map(|(i, s)| format!("{}→{}", crate::plan::KLOG_FIELDS[usize::from(*i)], self.slot(*s)))
                    .collect();
                let dst = if *whole { self.slot(*dst) } else { "_".into() };
                format!("{dst} = parse_klog({}) fields {{{}}}{}", self.slot(*src), fields.join(", "), fail(*f))
            }
            Op::Match { dst, src, regex, negate, captures, fail: f } => {
                let caps: Vec<String> =
                    captures.of(&p.captures).iter().map(|(g, s)| format!("{g}→{}", self.slot(*s))).collect();
                let caps = if caps.is_empty() { String::new() } else { format!(" captures {{{}}}", caps.join(", ")) };
                let split = match p.regex_splits.get(*regex as usize).copied().flatten() {
                    // The head's pattern is the regex parser's own rendering,
                    // Unicode classes spelled out: not for reading.
                    Some(split) if !caps.is_empty() => {
                        let lead = split.lead.map(|g| format!("group {g} split off: the text before the rest's match"));
                        let rest = split.rest.map(|g| format!("group {g} split off: the rest of the line"));
                        format!(" ({})", lead.into_iter().chain(rest).collect::<Vec<_>>().join("; "))
                    }
                    _ => String::new(),
                };
                format!(
                    "{} = {} {} r'{}'{caps}{split}{}",
                    self.slot(*dst),
                    self.slot(*src),
                    if *negate { "!~" } else { "=~" },
                    p.regexes[*regex as usize].as_str(),
                    fail(*f)
                )
            }
            Op::Compare { dst, cmp, lhs, rhs, fail: f } => {
                format!("{} = {} {} {}{}", self.slot(*dst), self.slot(*lhs), cmp.as_str(), self.slot(*rhs), fail(*f))
            }
            Op::Not { dst, src, fail: f } => format!("{} = !{}{}", self.slot(*dst), self.slot(*src), fail(*f)),
            Op::Template { dst, pieces, fail: f } => {
                let mut s = String::new();
                for piece in pieces.of(&p.pieces) {
                    match piece {
                        Piece::Text(t) => s.push_str(p.const_str(*t)),
                        Piece::Hole(slot) => {
                            let _ = write!(s, "{{{}}}", self.slot(*slot));
                        }
                    }
                }
                format!("{} = {s:?}{}", self.slot(*dst), fail(*f))
            }
            Op::Array { dst, items } => {
                let items: Vec<String> = items.of(&p.args).iter().map(|s| self.slot(*s)).collect();
                format!("{} = [{}]", self.slot(*dst), items.join(", "))
            }
            Op::Object { dst, entries } => {
                let entries: Vec<String> = entries
                    .of(&p.entries)
                    .iter()
                    .map(|(k, s)| format!("{}: {}", p.const_str(*k), self.slot(*s)))
                    .collect();
                format!("{} = {{{}}}", self.slot(*dst), entries.join(", "))
            }
            Op::Jump { target } => format!("jump {target}"),
            Op::JumpIfFalse { cond, target, fail: f } => format!("if !{} jump {target}{}", self.slot(*cond), fail(*f)),
            Op::JumpIfNotNull { src, target } => format!("if {} != null jump {target}", self.slot(*src)),
            Op::JumpIfNull { src, target } => format!("if {} == null jump {target}", self.slot(*src)),
            Op::JumpIfKind { src, kind, when, target } => {
                format!("if {}{}({}) jump {target}", if *when { "" } else { "!" }, kind.name(), self.slot(*src))
            }
            Op::BindError { value, err } => format!("{} = null, {} = error", self.slot(*value), self.slot(*err)),
            Op::Emit => "emit".into(),
            Op::Drop { site } => format!("drop {:?}", p.drops[*site as usize].reason),
            Op::Abort { site } => {
                let a = &p.aborts[*site as usize];
                match a.func {
                    Some(f) => format!("abort ({f} at {})", a.location),
                    None => format!("abort (unhandled failure at {})", a.location),
                }
            }
            Op::Route { rule } => format!("route → {}", p.rules[usize::from(*rule)].name),
            Op::Unrouted => "unrouted".into(),
        }
    }
}

pub(crate) fn print(plan: &Plan, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let printer = Printer { plan };
    let labels: Vec<String> = plan
        .labels
        .iter()
        .map(|l| match &l.constant {
            Some(c) => format!("{}={c:?}", l.name),
            None => format!("{}←{}", l.name, printer.slot(l.slot)),
        })
        .collect();
    writeln!(f, "labels: {}", labels.join(", "))?;
    let fields: Vec<&str> = plan.fields.iter().map(|x| x.name.as_str()).collect();
    writeln!(f, "payload: {}", fields.join(", "))?;
    writeln!(f, "slots: {}, ops: {}, regexes: {}", plan.slot_count, plan.ops.len(), plan.regexes.len())?;
    let mut starts: Vec<(OpId, String)> = vec![(plan.route_entry, "routing (once per file and stream)".into())];
    for r in &plan.rules {
        let multiline = match &r.multiline {
            None => String::new(),
            Some(crate::group::GroupConfig::PythonTraceback { .. }) => ", multiline python_traceback".into(),
            Some(crate::group::GroupConfig::Pattern { .. }) => ", multiline pattern".into(),
        };
        starts.push((
            r.entry,
            format!(
                "rule {} (framing {}, max_record_size {}{multiline})",
                r.name,
                r.framing.map_or("auto", |f| f.name()),
                r.max_record_size
            ),
        ));
    }
    for (i, op) in plan.ops.iter().enumerate() {
        for (_, title) in starts.iter().filter(|(s, _)| s.index() == i) {
            writeln!(f, "\n{title}:")?;
        }
        writeln!(f, "{i:>5}  {}", printer.op(op))?;
    }
    Ok(())
}
