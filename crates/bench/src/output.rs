//! Where reports go: `target/bench/<name>.json` under the workspace root.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Writes `report` as pretty JSON and returns the file's path.
///
/// The workspace root is found from this crate's manifest directory, not from
/// `CARGO_TARGET_DIR`: builds may live elsewhere (a shared cache), but reports
/// belong with the sources they describe.
pub fn write_json(name: &str, report: &impl serde::Serialize) -> anyhow::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root
        .canonicalize()
        .with_context(|| format!("locating the workspace root {}", root.display()))?
        .join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
