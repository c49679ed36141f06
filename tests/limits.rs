//! Memory stays bounded whatever a rule builds: a line whose values outgrow
//! the executor's working memory (`uml_runtime::exec::MAX_SCRATCH`) is
//! dropped and counted as `value too large`. It is not a failure the rule
//! handles (no `??` turns it into a record), and the next line is processed
//! as if nothing had happened.

use uml::compiler::defaults::default_schema;
use uml::{FileInfo, Line, Outcome, Record, Rules, Stream};

/// A rule that copies a line of 256 KiB 300 times into one value: 75 MiB,
/// beyond the 64 MiB the executor allows a line.
fn rules() -> Rules {
    let holes = "{%line}".repeat(300);
    let rule = format!(
        r#"
rule big {{
  when %container == "model"
  labels.model_version_id = "m1"
  labels.namespace = %namespace
  payload.source = "model_container"
  payload.replica = "r1"
  payload.levelname = "INFO"
  let copies = if length(%line) > 100 {{ "{holes}" }} else {{ %line }}
  payload.message = truncate(copies, 20)
}}
"#
    );
    let schema = default_schema();
    Rules::from_sources([(schema.name, schema.text), ("big.uml".to_string(), rule)]).expect("the rule compiles")
}

#[test]
fn values_that_outgrow_the_executor_drop_the_line_and_only_it() {
    let rules = rules();
    let mut executor = rules.executor();
    let mut record = Record::default();
    let file = FileInfo {
        pod: "model-x5qe2qo-7d9f8b6c5d-q7rg5",
        namespace: "org-50a9bc6b456e47aa88e0d81e622ea315",
        container: "model",
        ..FileInfo::default()
    };
    let route = executor.route(&file, Stream::Stdout);
    let long = "x".repeat(256 * 1024);
    let line = Line { text: &long, traceback: None, timestamp: 1 };
    let outcome = executor.apply(&route, line, &mut record);
    assert_eq!(outcome, Outcome::TooLarge);
    assert_eq!(rules.describe(&executor, outcome), "value too large");

    let line = Line { text: "a short line", traceback: None, timestamp: 2 };
    assert_eq!(executor.apply(&route, line, &mut record), Outcome::Record);
    assert_eq!(rules.field(&record, "message"), Some("a short line".into()));
}
