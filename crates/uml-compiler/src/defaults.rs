//! The default rule set: `rules/` of this repository, compiled into every
//! binary, so that `uml run` works with no flags. `--rules DIR` replaces it.
//!
//! The list is checked against the directory by a test
//! (`tests/defaults.rs`): a rule file added to `rules/` must be added here.

use crate::compile::Unit;

/// `(name, text)` of every file of the default rule set, in path order.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("rules/build.uml", include_str!("../../../rules/build.uml")),
    ("rules/deploy.uml", include_str!("../../../rules/deploy.uml")),
    ("rules/gpu_build.uml", include_str!("../../../rules/gpu_build.uml")),
    ("rules/model_container.uml", include_str!("../../../rules/model_container.uml")),
    ("rules/pod_lifecycle_watcher.uml", include_str!("../../../rules/pod_lifecycle_watcher.uml")),
    ("rules/schema.uml", include_str!("../../../rules/schema.uml")),
];

/// The default rule set as compiler units.
pub fn default_units() -> Vec<Unit> {
    DEFAULT_RULES.iter().map(|(name, text)| Unit { name: (*name).to_string(), text: (*text).to_string() }).collect()
}

/// The default schema alone, for commands given rule files without one.
pub fn default_schema() -> Unit {
    let (name, text) =
        DEFAULT_RULES.iter().find(|(n, _)| n.ends_with("/schema.uml")).expect("the defaults have a schema");
    Unit { name: format!("<embedded {name}>"), text: (*text).to_string() }
}
