//! The transparency-dev/merkle proof vectors (tests/vectors/README.md) run
//! through `proof::verify_inclusion` and `verify_consistency`, and the
//! RFC 6962 reference tree of the eight standard leaves rebuilt with
//! `MemoryTree`: its roots, leaves and proofs must be the published ones.

use std::path::{Path, PathBuf};

use base64::prelude::*;
use hellowork_transparency::tree::MemoryTree;
use hellowork_transparency::{Hash, hash_from_bytes, leaf_hash, proof};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

/// The vectors whose verdict this crate cannot give: both roots are 10 bytes
/// long ("don't care"), which Go's verifier accepts for equal sizes because
/// it only compares them; a `Hash` is 32 bytes, so `hash_from_bytes` refuses
/// them before any verification.
const UNREPRESENTABLE: &[&str] =
    &["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"];

/// The eight leaves of the RFC 6962 reference tree (transparency-dev/merkle
/// `testonly/constants.go`, `LeafInputs`).
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// Its roots by size 0..=8 (`testonly/constants.go`, `RootHashes`).
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn every_inclusion_vector_gets_its_verdict() {
    let files = vectors("inclusion");
    assert_eq!(
        files.len(),
        98,
        "vectors missing from tests/vectors/inclusion"
    );
    let mut disagreements = Vec::new();
    for (name, text) in &files {
        let vector: Inclusion =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let verdict = verify_inclusion(&vector);
        if verdict.is_err() != vector.want_err {
            disagreements.push(format!("{name} ({}): {verdict:?}", vector.desc));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn every_consistency_vector_gets_its_verdict_but_the_unrepresentable() {
    let files = vectors("consistency");
    assert_eq!(
        files.len(),
        98,
        "vectors missing from tests/vectors/consistency"
    );
    let mut disagreements = Vec::new();
    for (name, text) in &files {
        let vector: Consistency =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let verdict = verify_consistency(&vector);
        if verdict.is_err() != vector.want_err {
            disagreements.push(name.clone());
        }
    }
    assert_eq!(disagreements, UNREPRESENTABLE);
}

#[test]
fn the_reference_tree_has_the_published_roots_leaves_and_proofs() {
    let mut tree = MemoryTree::new();
    assert_eq!(tree.root(), hex_hash(ROOTS[0]));
    for (index, data) in LEAVES.iter().enumerate() {
        assert_eq!(tree.push(leaf_hash(data)), index as u64);
        assert_eq!(
            tree.root(),
            hex_hash(ROOTS[index + 1]),
            "root of size {}",
            index + 1
        );
    }
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root_at(size as u64), Ok(hex_hash(root)));
    }

    let mut happy_paths = 0;
    for (name, text) in vectors("inclusion") {
        let vector: Inclusion = serde_json::from_str(&text).unwrap();
        if vector.desc != "happy path" {
            continue;
        }
        happy_paths += 1;
        let (index, size) = (vector.leaf_idx, vector.tree_size);
        assert_eq!(
            tree.leaf(index),
            Some(b64_hash(&vector.leaf_hash)),
            "{name}"
        );
        assert_eq!(tree.root_at(size), Ok(b64_hash(&vector.root)), "{name}");
        assert_eq!(
            tree.inclusion_proof(index, size),
            Ok(b64_hashes(&vector.proof)),
            "{name}"
        );
    }
    for (name, text) in vectors("consistency") {
        let vector: Consistency = serde_json::from_str(&text).unwrap();
        if vector.desc != "happy path" {
            continue;
        }
        happy_paths += 1;
        let (old, new) = (vector.size1, vector.size2);
        assert_eq!(tree.root_at(old), Ok(b64_hash(&vector.root1)), "{name}");
        assert_eq!(tree.root_at(new), Ok(b64_hash(&vector.root2)), "{name}");
        assert_eq!(
            tree.consistency_proof(old, new),
            Ok(b64_hashes(&vector.proof)),
            "{name}"
        );
    }
    assert_eq!(happy_paths, 10);
}

/// The verdict of `proof::verify_inclusion`, after reading the hashes as a
/// protobuf handler would (`hash_from_bytes`).
fn verify_inclusion(vector: &Inclusion) -> Result<(), String> {
    let leaf = read_hash(&vector.leaf_hash)?;
    let root = read_hash(&vector.root)?;
    let proof = read_hashes(&vector.proof)?;
    proof::verify_inclusion(&proof, vector.leaf_idx, vector.tree_size, leaf, root)
        .map_err(|e| e.to_string())
}

fn verify_consistency(vector: &Consistency) -> Result<(), String> {
    let old_root = read_hash(&vector.root1)?;
    let new_root = read_hash(&vector.root2)?;
    let proof = read_hashes(&vector.proof)?;
    proof::verify_consistency(&proof, vector.size1, old_root, vector.size2, new_root)
        .map_err(|e| e.to_string())
}

fn read_hash(base64: &str) -> Result<Hash, String> {
    let bytes = BASE64_STANDARD.decode(base64).map_err(|e| e.to_string())?;
    hash_from_bytes(&bytes).map_err(|e| e.to_string())
}

fn read_hashes(proof: &Option<Vec<String>>) -> Result<Vec<Hash>, String> {
    proof.iter().flatten().map(|hash| read_hash(hash)).collect()
}

fn b64_hash(base64: &str) -> Hash {
    read_hash(base64).unwrap()
}

fn b64_hashes(proof: &Option<Vec<String>>) -> Vec<Hash> {
    read_hashes(proof).unwrap()
}

fn hex_hash(hex: &str) -> Hash {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    hash_from_bytes(&bytes).unwrap()
}

/// Every `.json` under `tests/vectors/<kind>`, as (path from `vectors/`,
/// text), sorted by path.
fn vectors(kind: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.join(kind)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                let name = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}
