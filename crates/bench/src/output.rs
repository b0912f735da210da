//! Where reports go (`target/bench/<name>.json` under the workspace root)
//! and how their figures are rounded.

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

/// Rates to one decimal: more would be noise.
pub fn tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Milliseconds to two decimals.
pub fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Ratios to three decimals, so that one just below its target does not
/// print as reaching it.
pub fn thousandths(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The machine's cores, reported beside every figure.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
