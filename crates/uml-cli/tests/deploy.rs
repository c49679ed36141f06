//! The deployment files (`deploy/`, `Dockerfile`) agree with the repository
//! and with each other: the rules ConfigMap holds `rules/` byte for byte, and
//! the DaemonSet mounts what `deploy/kubernetes/agent.toml` names. (CI also
//! validates the manifests against the Kubernetes schemas: `.ci/run`.)
//!
//! No YAML crate: the ConfigMap is read with a strict reader of exactly what
//! `gen-rules-configmap.sh` writes (literal block scalars), which fails on
//! anything else; the DaemonSet's facts are read from its lines.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    let path = repo().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `rules/*.uml` as (file name, text), sorted by name.
fn rule_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo().join("rules"))
        .expect("rules/")
        .map(|e| e.expect("rules/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "uml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("a rule file"))
        })
        .collect();
    files.sort();
    files
}

/// The `data` of a ConfigMap as `gen-rules-configmap.sh` writes it: under a
/// top-level `data:`, keys indented by two, each `""` or a literal block
/// scalar (`|`, with an optional indentation indicator and chomping
/// indicator) whose lines are indented by four. Panics on anything else.
fn configmap_data(yaml: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = yaml.split('\n').collect();
    let start = lines.iter().position(|l| *l == "data:").expect("a top-level `data:`") + 1;
    let mut data = Vec::new();
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() && i == lines.len() - 1 {
            break; // the file's final newline
        }
        let entry = line.strip_prefix("  ").unwrap_or_else(|| panic!("line {}: not a data key: {line:?}", i + 1));
        assert!(!entry.starts_with(' '), "line {}: a data key is indented by two: {line:?}", i + 1);
        let (key, header) = entry.split_once(": ").unwrap_or_else(|| panic!("line {}: not `key: value`", i + 1));
        i += 1;
        if header == "\"\"" {
            data.push((key.to_string(), String::new()));
            continue;
        }
        let indicators = header.strip_prefix('|').unwrap_or_else(|| panic!("{key}: not a literal block scalar"));
        let (explicit, chomp) = match indicators {
            "" => (false, ""),
            "-" | "+" => (false, indicators),
            "2" => (true, ""),
            "2-" | "2+" => (true, &indicators[1..]),
            other => panic!("{key}: unexpected indicators {other:?}"),
        };
        // The block: empty lines and lines indented by at least four.
        let mut body = Vec::new();
        while i < lines.len() && (lines[i].is_empty() || lines[i].starts_with("    ")) {
            body.push(lines[i]);
            i += 1;
        }
        if i == lines.len() && body.last() == Some(&"") {
            body.pop(); // the file's final newline ends the last line, it is not a line
        }
        if !explicit {
            let first = body.iter().find(|l| !l.trim_start_matches(' ').is_empty());
            if let Some(first) = first {
                let indent = first.len() - first.trim_start_matches(' ').len();
                assert_eq!(indent, 4, "{key}: the first line sets the indentation: {first:?}");
            }
        }
        // A line no longer than the indentation and all spaces is empty.
        let content: Vec<&str> = body.iter().map(|l| if l.len() <= 4 { "" } else { &l[4..] }).collect();
        let last_content = content.iter().rposition(|l| !l.is_empty());
        let mut value = String::new();
        match chomp {
            "+" => {
                for l in &content {
                    value.push_str(l);
                    value.push('\n');
                }
            }
            _ => {
                if let Some(last) = last_content {
                    for l in &content[..=last] {
                        value.push_str(l);
                        value.push('\n');
                    }
                    if chomp == "-" {
                        value.pop();
                    }
                }
            }
        }
        data.push((key.to_string(), value));
    }
    data
}

#[test]
fn the_rules_configmap_holds_the_rule_files_byte_for_byte() {
    let yaml = read("deploy/kubernetes/rules-configmap.yaml");
    assert!(yaml.contains("\nkind: ConfigMap\n") && yaml.contains("\n  name: uml-agent-rules\n"), "{yaml:.400}");
    let data = configmap_data(&yaml);
    let want = rule_files();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&data),
        names(&want),
        "deploy/kubernetes/rules-configmap.yaml is out of date: run deploy/kubernetes/gen-rules-configmap.sh"
    );
    for ((name, got), (_, want)) in data.iter().zip(&want) {
        assert!(
            got == want,
            "{name} differs from rules/{name}: run deploy/kubernetes/gen-rules-configmap.sh\n{}",
            first_difference(got, want)
        );
    }
}

fn first_difference(got: &str, want: &str) -> String {
    let at = got.bytes().zip(want.bytes()).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    let line = want[..at.min(want.len())].matches('\n').count() + 1;
    format!("first difference at byte {at} (line {line}); lengths {} and {}", got.len(), want.len())
}

#[test]
fn the_script_writes_the_committed_configmap() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules-configmap.yaml");
    let status = Command::new("bash")
        .arg(repo().join("deploy/kubernetes/gen-rules-configmap.sh"))
        .arg(repo().join("rules"))
        .arg(&out)
        .status()
        .expect("bash runs");
    assert!(status.success(), "gen-rules-configmap.sh failed: {status}");
    let generated = std::fs::read_to_string(&out).unwrap();
    assert!(
        generated == read("deploy/kubernetes/rules-configmap.yaml"),
        "deploy/kubernetes/rules-configmap.yaml is not what the script writes: run deploy/kubernetes/gen-rules-configmap.sh"
    );
}

#[test]
fn the_configmap_reader_keeps_every_ending() {
    // What the script writes for files with unusual beginnings and endings.
    let yaml = "data:\n  a: |\n    x\n\n    y\n  b: |-\n    no newline\n  c: |+\n    x\n\n\n  d: |2\n      lead\n    \
                x\n  e: \"\"\n  f: |2+\n\n  g: |2\n\n      \n    z\n";
    let data = configmap_data(yaml);
    let want = [
        ("a", "x\n\ny\n"),
        ("b", "no newline"),
        ("c", "x\n\n\n"),
        ("d", "  lead\nx\n"),
        ("e", ""),
        ("f", "\n"),
        ("g", "\n  \nz\n"),
    ];
    let got: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(got, want);
}

/// The lines of the list item (`- …`) that holds a line equal to `needle`
/// (trimmed, and without a leading `- `): up to the next line indented no
/// deeper than its dash.
fn item<'a>(yaml: &'a str, needle: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let at = lines
        .iter()
        .position(|l| {
            let t = l.trim();
            t == needle || t.strip_prefix("- ") == Some(needle)
        })
        .unwrap_or_else(|| panic!("no line `{needle}`"));
    let start = (0..=at)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with("- ") && indent(lines[i]) <= indent(lines[at]))
        .unwrap_or_else(|| panic!("`{needle}` is not in a list item"));
    let dash = indent(lines[start]);
    let end = (start + 1..lines.len())
        .find(|&i| {
            let t = lines[i].trim_start();
            !t.is_empty() && !t.starts_with('#') && indent(lines[i]) <= dash
        })
        .unwrap_or(lines.len());
    lines[start..end].to_vec()
}

fn has(lines: &[&str], line: &str) -> bool {
    lines.iter().any(|l| l.trim() == line || l.trim().strip_prefix("- ") == Some(line))
}

/// The YAML without its comments (whole-line ones, which is all it has).
fn uncommented(yaml: &str) -> String {
    yaml.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")
}

fn seconds(duration: &str) -> u64 {
    let n = duration.strip_suffix('s').unwrap_or_else(|| panic!("{duration:?}: expected seconds such as \"10s\""));
    n.parse().unwrap_or_else(|_| panic!("{duration:?}: expected seconds"))
}

#[test]
fn the_daemonset_mounts_what_agent_toml_names() {
    let ds = uncommented(&read("deploy/kubernetes/daemonset.yaml"));
    let config: toml::Table = toml::from_str(&read("deploy/kubernetes/agent.toml")).expect("agent.toml is TOML");
    let get = |key: &str| config.get(key).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("agent.toml: {key}"));

    // The configuration file, where the image's default arguments and the
    // DaemonSet look for it.
    let args = r#"args: ["--config", "/etc/uml/agent.toml"]"#;
    assert!(has(&ds.lines().collect::<Vec<_>>(), args), "the DaemonSet passes {args}");
    let image = r#"
ENTRYPOINT ["/uml", "agent"]
CMD ["--config", "/etc/uml/agent.toml"]
"#;
    assert!(read("Dockerfile").contains(image), "the Dockerfile ends with {image}");
    let config_mount = item(&ds, "mountPath: /etc/uml");
    assert!(has(&config_mount, "name: config"), "{config_mount:?}");
    let config_volume = item(&ds, "name: uml-agent-config");
    assert!(has(&config_volume, "key: agent.toml") && has(&config_volume, "path: agent.toml"), "{config_volume:?}");

    // The logs, read-only, at the path the roots name.
    let logs = item(&ds, "mountPath: /var/log");
    assert!(has(&logs, "readOnly: true"), "/var/log is mounted read-only: {logs:?}");
    let roots = config["roots"].as_array().expect("agent.toml: roots");
    for root in roots {
        let root = root.as_str().unwrap();
        assert!(root.starts_with("/var/log/"), "root {root} is under the /var/log mount");
    }
    let varlog = item(&ds, "path: /var/log");
    assert!(has(&varlog, "hostPath:"), "{varlog:?}");

    // The positions on the node, writable, where `state` says.
    assert_eq!(get("state"), "/var/lib/uml");
    let state_mount = item(&ds, "mountPath: /var/lib/uml");
    assert!(!has(&state_mount, "readOnly: true"), "{state_mount:?}");
    let state = item(&ds, "path: /var/lib/uml");
    assert!(has(&state, "hostPath:") && has(&state, "type: DirectoryOrCreate"), "{state:?}");

    // The rules as a directory: a subPath mount never sees a ConfigMap update.
    assert_eq!(get("rules"), "/etc/uml/rules");
    let rules = item(&ds, "mountPath: /etc/uml/rules");
    assert!(has(&rules, "name: rules"), "{rules:?}");
    assert!(!ds.contains("subPath"), "no subPath mounts");
    let rules_volume = item(&ds, "name: uml-agent-rules");
    assert!(has(&rules_volume, "configMap:") && has(&rules_volume, "- name: rules"), "{rules_volume:?}");

    // The probes and the scrape annotations on the metrics port.
    assert_eq!(get("metrics"), ":9731");
    let port = item(&ds, "name: metrics");
    assert!(has(&port, "containerPort: 9731"), "{port:?}");
    assert!(ds.contains("prometheus.io/port: \"9731\""));
    for probe in ["path: /healthz", "path: /ready"] {
        assert!(has(&ds.lines().collect::<Vec<_>>(), probe), "{probe}");
    }

    // Time to drain at SIGTERM.
    let grace = seconds(get("grace"));
    let period: u64 = ds
        .lines()
        .find_map(|l| l.trim().strip_prefix("terminationGracePeriodSeconds: "))
        .expect("terminationGracePeriodSeconds")
        .parse()
        .expect("a number of seconds");
    assert!(period > grace, "terminationGracePeriodSeconds ({period}) must exceed the agent's grace ({grace} s)");

    // Secrets come from the environment, never from the file.
    let loki = config["loki"].as_table().expect("agent.toml: [loki]");
    assert!(!loki.contains_key("password") && !loki.contains_key("bearer_token"));
    for var in ["UML_LOKI_PASSWORD", "UML_LOKI_BEARER_TOKEN"] {
        let env = item(&ds, &format!("name: {var}"));
        assert!(has(&env, "name: uml-agent-loki") && has(&env, "optional: true"), "{env:?}");
    }
}
