//! Finds, in the workspace's own sources, what enforces each article of the
//! terms, for `hellowork articles`: the rules (code citing an `Article`),
//! the tests (test code citing it in any form) and the metrics (a metric's
//! doc comment citing it). The findings are written to
//! `$OUT_DIR/article_uses.tsv`, so the listing is derived from the code
//! the binary was built from, never kept by hand.

#[path = "build/scan.rs"]
mod scan;

use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .and_then(|crates| crates.parent())
        .expect("crates/cli sits two levels below the workspace root")
        .to_path_buf();
    let mut uses = Vec::new();
    for top in ["services", "crates", "tests"] {
        let dir = root.join(top);
        println!("cargo:rerun-if-changed={}", dir.display());
        scan::walk(&root, &dir, &mut uses);
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("article_uses.tsv");
    let text: String = uses.iter().map(scan::Use::line).collect();
    fs::write(out, text).expect("OUT_DIR is writable");
}
