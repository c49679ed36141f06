//! `uml rules export DIR`: the rules built into uml, written out as files,
//! to read or to edit (and then to use with `--rules DIR`, or as `./rules/`).

use crate::error::Error;
use crate::{Io, Status};
use std::path::Path;

/// Writes every built-in rule file into `dir`; an existing file is left as
/// it is and reported, so that an edited rule set is never overwritten.
pub fn run(dir: &Path, io: &mut Io<'_>) -> Result<Status, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Write { path: dir.to_path_buf(), error: e })?;
    let mut written = 0;
    let mut kept = Vec::new();
    for (name, text) in uml_compiler::defaults::DEFAULT_RULES {
        let file = Path::new(name).file_name().map_or_else(|| Path::new(name).to_path_buf(), |n| dir.join(n));
        if file.exists() {
            kept.push(file.display().to_string());
            continue;
        }
        std::fs::write(&file, text).map_err(|e| Error::Write { path: file.clone(), error: e })?;
        written += 1;
    }
    let _ = writeln!(io.stderr, "ok: {} written to {}", crate::report::count(written, "rule file"), dir.display());
    for k in &kept {
        let _ = writeln!(io.stderr, "uml: {k} exists; left as it is");
    }
    Ok(if kept.is_empty() { Status::Success } else { Status::Failure })
}
