//! Embedding uml in an agent: compile the rules once, apply them on several
//! threads. Run it with `cargo run --example embed`.

use uml::{FileInfo, Line, Outcome, Record, Rules, Stream};

fn main() {
    // Compile once; the rule set is shared by reference between threads.
    let rules = Rules::embedded();
    let files = [
        ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "org-50a9bc6b456e47aa88e0d81e622ea315", "model"),
        ("model-x5qe2qo-7d9f8b6c5d-q7rg5", "org-50a9bc6b456e47aa88e0d81e622ea315", "queue-proxy"),
    ];
    let lines = [
        r#"{"asctime": "2026-11-20 00:43:12,801", "levelname": "INFO", "message": "Executing model.load()..."}"#,
        "INFO:     Started server process [12625]",
        r#"{"levelname": "WARNING", "message": NaN}"#,
    ];
    std::thread::scope(|scope| {
        for (pod, namespace, container) in files {
            let rules = &rules;
            scope.spawn(move || {
                // One executor per thread; it reuses its buffers from line to line.
                let mut executor = rules.executor();
                let mut record = Record::default();
                let file = FileInfo { pod, namespace, container, ..FileInfo::default() };
                // Routing reads only the file's metadata: once per file and stream.
                let route = executor.route(&file, Stream::Stderr);
                for (i, text) in lines.iter().enumerate() {
                    let line = Line { text, traceback: None, timestamp: 1_795_135_392_801_000_000 + i as i64 };
                    match executor.apply(&route, line, &mut record) {
                        Outcome::Record => println!(
                            "{container}: {} {}",
                            String::from_utf8_lossy(record.labels_json()),
                            String::from_utf8_lossy(record.payload())
                        ),
                        other => println!("{container}: dropped ({})", rules.describe(&executor, other)),
                    }
                }
            });
        }
    });
}
