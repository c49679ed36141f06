//! Standard-library functions written in the rule language itself.
//!
//! Some general knowledge is a table rather than an algorithm: under which
//! keys each structured logger writes its message, its level and its
//! traceback, and which values mean "no traceback". Such a function is
//! defined here once, as a rule-language expression over one parameter,
//! next to its documentation in `docs/language.md` (§10.5).
//!
//! A call is checked as its expression with the argument in place of the
//! parameter: the expression is inlined. So field pushdown still extracts
//! only the keys the expression names (a `parse_json` object read through
//! `log_level(j)` costs what the same keys written out in the rule cost),
//! and types, fallibility and folding work on it as on the rule's own code.
//! The argument is evaluated once per use of the parameter; every function
//! here is meant to be given a variable.
//!
//! Every definition checks cleanly for any argument of its parameter's
//! kinds, and cannot fail (the tests below hold both).

use crate::types::Kinds;

/// One function defined in the rule language.
#[derive(Clone, Copy, Debug)]
pub struct Def {
    pub name: &'static str,
    pub param: &'static str,
    /// The kinds the argument may have.
    pub kinds: Kinds,
    /// The return type, as documented.
    pub returns: &'static str,
    /// The body: one expression over `param`.
    pub body: &'static str,
}

/// The functions, by name.
pub const DEFS: &[Def] = &[
    Def {
        name: "log_message",
        param: "object",
        kinds: Kinds::OBJECT,
        returns: "any",
        // python-json-logger's `message`; pino's, bunyan's, zap's and
        // log15's `msg`; structlog's `event`; Serilog's compact JSON (CLEF)
        // `@m` and its template `@mt`; loguru's `record.message`; GELF's
        // `short_message`.
        body: r#"object.message
            ?? object.msg
            ?? object.event
            ?? object."@m"
            ?? object."@mt"
            ?? object.record.message
            ?? object.short_message
            ?? null"#,
    },
    Def {
        name: "log_level",
        param: "object",
        kinds: Kinds::OBJECT,
        returns: r#""DEBUG" | "INFO" | "WARNING" | "ERROR" | null"#,
        // Python's `levelname` and `levelno`; a number under `level` is
        // GELF's syslog severity on a line with `short_message`, else pino's
        // or bunyan's (Python loggers write `levelno`), and a word there is
        // anyone's; zap's and Google Cloud's `severity`; log15's `lvl`;
        // Elastic's `log.level`, flat or nested; CLEF's `@l`; loguru's
        // `record.level.name`.
        body: r#"level(object.levelname, scale: "python")
            ?? level(object.levelno, scale: "python")
            ?? (if is_null(object.short_message) {
                level(object.level, scale: "pino") ?? null
            } else {
                level(object.level, scale: "syslog") ?? null
            })
            ?? level(object.severity)
            ?? level(object.lvl)
            ?? level(object."log.level")
            ?? level(object.log.level)
            ?? level(object."@l")
            ?? level(object.record.level.name)
            ?? null"#,
    },
    Def {
        name: "log_exception",
        param: "object",
        kinds: Kinds::OBJECT,
        returns: "any",
        // python-json-logger's `exc_info`; structlog's `exception` (text,
        // or structured with logstash's `exception.stacktrace`); Google
        // Cloud's `_exception.stackTrace`; CLEF's `@x`; GELF's
        // `full_message`; `traceback`, `stack_trace`, `stacktrace`, `stack`;
        // Elastic's `error.stack_trace`, flat or nested; pino's `err.stack`;
        // loguru's `record.exception`.
        body: r#"object.exc_info
            ?? object.exception.stacktrace
            ?? object.exception
            ?? object._exception.stackTrace
            ?? object."@x"
            ?? object.full_message
            ?? object.traceback
            ?? object.stack_trace
            ?? object.stacktrace
            ?? object.stack
            ?? object."error.stack_trace"
            ?? object.error.stack_trace
            ?? object.err.stack
            ?? object.record.exception
            ?? null"#,
    },
    Def {
        name: "exception_text",
        param: "value",
        kinds: Kinds::JSON,
        returns: "string | null",
        // `null`, a boolean (structlog's `exc_info=True` left unrendered),
        // blank text, `"None"` and `"NoneType: None"` (Python's
        // `logging.exception` outside an `except`) name no traceback.
        body: r#"if is_null(value) || value == true || value == false || value == "None" || value == "NoneType: None" {
                null
            } else if is_string(value) {
                if trim(to_string(value) ?? "") == "" || trim(to_string(value) ?? "") == "None" {
                    null
                } else {
                    trim(to_string(value) ?? "")
                }
            } else {
                trim(encode_json(value))
            }"#,
    },
];

/// The function named `name`, if it is defined here.
pub fn lookup(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Unit, compile};
    use crate::defaults::default_schema;
    use uml_syntax::Code;

    fn check(call: &str) -> Result<(), Vec<Code>> {
        let rule = format!(
            "rule r {{\n  when %container == \"app\"\n  labels.model_version_id = \"m\"\n  labels.namespace = %namespace\n  \
             payload.source = \"model_container\"\n  payload.replica = \"r\"\n  payload.levelname = \"INFO\"\n  \
             let j = parse_json(%line) ?? null\n  if is_null(j) {{\n    drop \"no JSON\"\n  }}\n  let v = {call}\n  payload.message = encode_json(v)\n}}\n"
        );
        let units = [default_schema(), Unit { name: "r.uml".into(), text: rule }];
        match compile(&units, Default::default()) {
            Ok(c) if c.warnings.is_empty() => Ok(()),
            Ok(c) => Err(c.warnings.iter().map(|d| d.code).collect()),
            Err(ds) => Err(ds.iter().map(|d| d.code).collect()),
        }
    }

    /// Every body checks with any argument of its kinds (a mistake in one
    /// would trip the checker's debug assertion), and cannot fail: a call
    /// needs no `??`.
    #[test]
    fn every_definition_checks_and_cannot_fail() {
        for def in DEFS {
            for arg in ["j", "{}", "{\"a\": [1, null]}"] {
                assert_eq!(check(&format!("{}({arg})", def.name)), Ok(()), "{}({arg})", def.name);
            }
            assert_eq!(check(&format!("{}({}: j)", def.name, def.param)), Ok(()), "{} by name", def.name);
        }
        assert_eq!(check("exception_text(\"text\")"), Ok(()));
        assert_eq!(check("exception_text(1)"), Ok(()));
    }

    #[test]
    fn mistaken_calls_are_the_callers_diagnostics() {
        assert_eq!(check("log_level(\"INFO\")"), Err(vec![Code::ArgumentType]));
        assert_eq!(check("log_level(j, j)"), Err(vec![Code::WrongArguments]));
        assert_eq!(check("log_level()"), Err(vec![Code::WrongArguments]));
        assert_eq!(check("log_level(value: j)"), Err(vec![Code::WrongArguments]));
        assert_eq!(check("log_level!(j)"), Err(vec![Code::AbortInfallible]));
    }
}
