//! The witness's own storage, outside the audit-log's database: a directory
//! holding `leaves` (every accepted leaf hash, 32 bytes each, in order) and
//! `state.json` (the accepted checkpoint with the witness's cosignature,
//! and a refusal once one happened). Leaves are appended and synced before
//! the state that counts them is replaced (write, sync, rename), so a crash
//! leaves at most uncounted leaves, which loading drops.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
};

use hellowork_transparency::{Hash, tree::MemoryTree};
use serde::{Deserialize, Serialize};

/// The version of `state.json`'s format.
const FORMAT: u32 = 1;
const LEAVES: &str = "leaves";
const STATE: &str = "state.json";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the witness's state in {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the witness's state in {dir} is damaged: {problem}")]
    Damaged { dir: PathBuf, problem: String },
}

/// A refusal, kept until an operator has looked into it: the witness never
/// cosigns for the log again on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// `hellowork.witness.v1.Inconsistency` name, e.g. `INCONSISTENCY_FORK`.
    pub kind: String,
    pub detail: String,
    /// Unix seconds.
    pub at: i64,
}

/// What `state.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub format: u32,
    pub tree_size: u64,
    /// The accepted checkpoint as a signed note with the witness's
    /// cosignature; empty before the first.
    pub cosigned_note: String,
    /// Unix seconds.
    pub cosigned_at: i64,
    pub refusal: Option<Refusal>,
}

impl Default for Accepted {
    fn default() -> Self {
        Self {
            format: FORMAT,
            tree_size: 0,
            cosigned_note: String::new(),
            cosigned_at: 0,
            refusal: None,
        }
    }
}

/// The state directory, loaded.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    fn io(&self, source: std::io::Error) -> StateError {
        StateError::Io {
            dir: self.dir.clone(),
            source,
        }
    }

    fn damaged(&self, problem: impl Into<String>) -> StateError {
        StateError::Damaged {
            dir: self.dir.clone(),
            problem: problem.into(),
        }
    }

    /// Opens (creating) `dir` and rebuilds the accepted tree from its leaves.
    pub fn open(dir: &Path) -> Result<(Self, Accepted, MemoryTree), StateError> {
        let store = Self {
            dir: dir.to_path_buf(),
        };
        std::fs::create_dir_all(dir).map_err(|e| store.io(e))?;
        let accepted = match std::fs::read(dir.join(STATE)) {
            Ok(bytes) => serde_json::from_slice::<Accepted>(&bytes)
                .map_err(|e| store.damaged(format!("{STATE}: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Accepted::default(),
            Err(e) => return Err(store.io(e)),
        };
        if accepted.format != FORMAT {
            return Err(store.damaged(format!("{STATE} has format {}", accepted.format)));
        }
        let mut bytes = Vec::new();
        match File::open(dir.join(LEAVES)) {
            Ok(mut file) => {
                file.read_to_end(&mut bytes).map_err(|e| store.io(e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(store.io(e)),
        }
        let counted = accepted.tree_size as usize * 32;
        if bytes.len() < counted {
            return Err(store.damaged(format!(
                "{LEAVES} holds {} leaves, {STATE} counts {}",
                bytes.len() / 32,
                accepted.tree_size
            )));
        }
        if bytes.len() > counted {
            // Appended before a crash, never counted: drop them.
            let file = OpenOptions::new()
                .write(true)
                .open(dir.join(LEAVES))
                .map_err(|e| store.io(e))?;
            file.set_len(counted as u64).map_err(|e| store.io(e))?;
            file.sync_all().map_err(|e| store.io(e))?;
        }
        let mut tree = MemoryTree::default();
        for chunk in bytes[..counted].chunks_exact(32) {
            tree.push(Hash(chunk.try_into().expect("32 bytes")));
        }
        Ok((store, accepted, tree))
    }

    /// Appends `leaves` to the leaves file, synced.
    pub fn append_leaves(&self, leaves: &[Hash]) -> Result<(), StateError> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(LEAVES))
            .map_err(|e| self.io(e))?;
        let bytes: Vec<u8> = leaves.iter().flat_map(|leaf| leaf.0).collect();
        file.write_all(&bytes).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))
    }

    /// Replaces `state.json`: written beside it, synced, renamed over it.
    pub fn save(&self, accepted: &Accepted) -> Result<(), StateError> {
        let temporary = self.dir.join(format!("{STATE}.new"));
        let bytes = serde_json::to_vec_pretty(accepted).expect("the state serializes");
        let mut file = File::create(&temporary).map_err(|e| self.io(e))?;
        file.write_all(&bytes).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        std::fs::rename(&temporary, self.dir.join(STATE)).map_err(|e| self.io(e))?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| self.io(e))
    }
}

#[cfg(test)]
mod tests {
    use hellowork_transparency::leaf_hash;

    use super::*;

    #[test]
    fn a_saved_state_reopens_with_the_same_tree_and_uncounted_leaves_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (store, mut accepted, mut tree) = Store::open(dir.path()).unwrap();
        assert_eq!(tree.size(), 0);
        let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        store.append_leaves(&leaves[..3]).unwrap();
        for leaf in &leaves[..3] {
            tree.push(*leaf);
        }
        accepted.tree_size = 3;
        accepted.cosigned_note = "note".to_owned();
        store.save(&accepted).unwrap();
        // A crash after appending, before saving the count.
        store.append_leaves(&leaves[3..]).unwrap();
        let (_, reopened, rebuilt) = Store::open(dir.path()).unwrap();
        assert_eq!(reopened, accepted);
        assert_eq!(rebuilt.size(), 3);
        assert_eq!(rebuilt.root(), tree.root());
    }

    #[test]
    fn missing_leaves_or_a_foreign_format_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, mut accepted, _) = Store::open(dir.path()).unwrap();
        accepted.tree_size = 2;
        store.save(&accepted).unwrap();
        let error = Store::open(dir.path()).unwrap_err();
        assert!(matches!(error, StateError::Damaged { .. }), "{error}");
        accepted.tree_size = 0;
        accepted.format = 9;
        store.save(&accepted).unwrap();
        assert!(Store::open(dir.path()).is_err());
    }
}
