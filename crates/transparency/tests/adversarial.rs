//! Tampering: every single-bit change to a proof, a leaf, a root or an index
//! is refused; a size change is refused unless it leaves RFC 9162's
//! verification procedure the same steps (then no verifier can tell, and it
//! is the checkpoint's signature over the size that binds it). Every changed
//! bit of a checkpoint note is refused; foreign keys, origins, stripped or
//! repeated signatures are refused; a tampered cosignature is never counted.

use base64::prelude::*;
use hellowork_transparency::checkpoint::{self, CheckpointError, LogKey, SignedCheckpoint};
use hellowork_transparency::cosignature::WitnessKey;
use hellowork_transparency::keys::{self, DEVELOPMENT_LOG_KEY, DEVELOPMENT_WITNESS_KEY};
use hellowork_transparency::tree::MemoryTree;
use hellowork_transparency::{Hash, leaf_hash, proof};

const MAX_LEAVES: u64 = 16;
const ORIGIN: &str = "takamatsu.hellowork.example/access-log";

fn tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..MAX_LEAVES {
        tree.push(leaf_hash(format!("entry {i}").as_bytes()));
    }
    tree
}

fn flipped(hash: Hash, bit: usize) -> Hash {
    let mut bytes = hash.0;
    bytes[bit / 8] ^= 1 << (bit % 8);
    Hash(bytes)
}

/// RFC 9162 §2.1.3.2's steps for an inclusion proof of `len` hashes: for
/// each hash, whether it is hashed in on the left; `None` where the
/// procedure fails on sizes alone.
fn inclusion_steps(index: u64, size: u64, len: usize) -> Option<Vec<bool>> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut steps = Vec::new();
    for _ in 0..len {
        if s == 0 {
            return None;
        }
        let left = f & 1 == 1 || f == s;
        if left && f & 1 == 0 {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        steps.push(left);
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(steps)
}

/// RFC 9162 §2.1.4.2's steps for a consistency proof of `len` hashes:
/// whether the old root is prepended, then for each further hash whether it
/// is hashed into both roots (on the left) or into the new one only.
fn consistency_steps(old: u64, new: u64, len: usize) -> Option<(bool, Vec<bool>)> {
    if old == 0 || old > new {
        return None;
    }
    if old == new {
        return (len == 0).then(|| (false, Vec::new()));
    }
    let prepend = old.is_power_of_two();
    let count = len + usize::from(prepend);
    if count == 0 {
        return None;
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut steps = Vec::new();
    for _ in 1..count {
        if s == 0 {
            return None;
        }
        let both = f & 1 == 1 || f == s;
        if both && f & 1 == 0 {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        steps.push(both);
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some((prepend, steps))
}

#[test]
fn a_changed_bit_breaks_an_inclusion_proof() {
    let tree = tree();
    let mut indistinguishable_sizes = 0;
    for size in 1..=MAX_LEAVES {
        let root = tree.root_at(size).unwrap();
        for index in 0..size {
            let leaf = tree.leaf(index).unwrap();
            let proof = tree.inclusion_proof(index, size).unwrap();
            proof::verify_inclusion(&proof, index, size, leaf, root).unwrap();
            for bit in 0..256 {
                assert!(
                    proof::verify_inclusion(&proof, index, size, flipped(leaf, bit), root).is_err()
                );
                assert!(
                    proof::verify_inclusion(&proof, index, size, leaf, flipped(root, bit)).is_err()
                );
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flipped(bad[k], bit);
                    assert!(proof::verify_inclusion(&bad, index, size, leaf, root).is_err());
                }
            }
            for bit in 0..64 {
                let other = index ^ (1 << bit);
                assert!(
                    proof::verify_inclusion(&proof, other, size, leaf, root).is_err(),
                    "index {index} -> {other} in size {size}"
                );
                let other = size ^ (1 << bit);
                let accepted = proof::verify_inclusion(&proof, index, other, leaf, root).is_ok();
                let same_steps = inclusion_steps(index, other, proof.len())
                    .is_some_and(|steps| Some(steps) == inclusion_steps(index, size, proof.len()));
                assert_eq!(accepted, same_steps, "leaf {index}: size {size} -> {other}");
                indistinguishable_sizes += usize::from(accepted);
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(proof::verify_inclusion(&longer, index, size, leaf, root).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert!(proof::verify_inclusion(shorter, index, size, leaf, root).is_err());
            }
        }
    }
    // Such sizes exist (leaf 0 of 6 and of 7 take the same steps): the
    // oracle above is what tells them apart from a verifier's bug.
    assert!(indistinguishable_sizes > 0);
}

#[test]
fn a_changed_bit_breaks_a_consistency_proof() {
    let tree = tree();
    let mut indistinguishable_sizes = 0;
    for new in 1..=MAX_LEAVES {
        let new_root = tree.root_at(new).unwrap();
        for old in 1..=new {
            let old_root = tree.root_at(old).unwrap();
            let proof = tree.consistency_proof(old, new).unwrap();
            proof::verify_consistency(&proof, old, old_root, new, new_root).unwrap();
            for bit in 0..256 {
                assert!(
                    proof::verify_consistency(&proof, old, flipped(old_root, bit), new, new_root)
                        .is_err()
                );
                assert!(
                    proof::verify_consistency(&proof, old, old_root, new, flipped(new_root, bit))
                        .is_err()
                );
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flipped(bad[k], bit);
                    assert!(proof::verify_consistency(&bad, old, old_root, new, new_root).is_err());
                }
            }
            let steps = consistency_steps(old, new, proof.len());
            for bit in 0..64 {
                for (o, n) in [(old ^ (1 << bit), new), (old, new ^ (1 << bit))] {
                    let accepted =
                        proof::verify_consistency(&proof, o, old_root, n, new_root).is_ok();
                    let same_steps =
                        consistency_steps(o, n, proof.len()).is_some_and(|s| Some(s) == steps);
                    assert_eq!(accepted, same_steps, "sizes {old}..{new} -> {o}..{n}");
                    indistinguishable_sizes += usize::from(accepted);
                }
            }
            let mut longer = proof.clone();
            longer.push(new_root);
            assert!(proof::verify_consistency(&longer, old, old_root, new, new_root).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert!(proof::verify_consistency(shorter, old, old_root, new, new_root).is_err());
            }
        }
    }
    assert!(indistinguishable_sizes > 0);
}

fn log_key() -> LogKey {
    LogKey::from_note_key(DEVELOPMENT_LOG_KEY).unwrap()
}

fn witness_key() -> WitnessKey {
    WitnessKey::from_note_key(DEVELOPMENT_WITNESS_KEY).unwrap()
}

fn signed() -> SignedCheckpoint {
    log_key()
        .sign(ORIGIN, 12, tree().root_at(12).unwrap())
        .unwrap()
}

fn verify(note: &[u8]) -> Result<checkpoint::VerifiedCheckpoint, CheckpointError> {
    checkpoint::verify(
        note,
        ORIGIN,
        &log_key().verifier_key(),
        &[witness_key().verifier_key()],
    )
}

/// The byte range of the line of `note` that starts with `prefix`.
fn line(note: &[u8], prefix: &str) -> std::ops::Range<usize> {
    let text = std::str::from_utf8(note).unwrap();
    let start = text.find(&format!("\n{prefix}")).unwrap() + 1;
    start..start + text[start..].find('\n').unwrap() + 1
}

#[test]
fn a_signed_checkpoint_verifies_and_says_what_it_was_signed_for() {
    let signed = signed();
    let verified = verify(&signed.note).unwrap();
    assert_eq!(
        (verified.origin.as_str(), verified.size, verified.root),
        (ORIGIN, 12, signed.root)
    );
    assert!(verified.cosigned_by.is_empty());

    let cosigned = witness_key().cosign(&signed.note, 1_765_000_000).unwrap();
    let verified = verify(&cosigned).unwrap();
    assert_eq!(
        verified.cosigned_by,
        [("hellowork-witness-dev".to_owned(), 1_765_000_000)]
    );
    assert_eq!(verified.root, signed.root);
}

#[test]
fn every_changed_bit_of_a_checkpoint_is_refused() {
    let note = signed().note;
    for byte in 0..note.len() {
        for bit in 0..8 {
            let mut bad = note.clone();
            bad[byte] ^= 1 << bit;
            assert!(
                verify(&bad).is_err(),
                "byte {byte} bit {bit} of {:?}",
                String::from_utf8_lossy(&note)
            );
        }
    }
}

#[test]
fn a_changed_bit_of_a_cosigned_checkpoint_is_refused_or_not_counted() {
    let cosigned = witness_key().cosign(&signed().note, 1_765_000_000).unwrap();
    let cosignature = line(&cosigned, "— hellowork-witness-dev ");
    for byte in 0..cosigned.len() {
        for bit in 0..8 {
            let mut bad = cosigned.clone();
            bad[byte] ^= 1 << bit;
            let verdict = verify(&bad);
            if cosignature.contains(&byte) {
                // A witness name changed into an unknown one leaves the log's
                // signature standing, and no cosignature.
                assert!(
                    verdict.is_err() || verdict.unwrap().cosigned_by.is_empty(),
                    "byte {byte} bit {bit}"
                );
            } else {
                assert!(verdict.is_err(), "byte {byte} bit {bit}");
            }
        }
    }
}

#[test]
fn a_cosignature_with_another_time_is_not_counted() {
    let cosigned = witness_key().cosign(&signed().note, 1_765_000_000).unwrap();
    let range = line(&cosigned, "— hellowork-witness-dev ");
    let text = std::str::from_utf8(&cosigned[range.clone()]).unwrap();
    let encoded = text.trim_end().rsplit_once(' ').unwrap().1;
    let decoded = BASE64_STANDARD.decode(encoded).unwrap();
    for bit in 0..64 {
        let mut bytes = decoded.clone();
        bytes[4 + bit / 8] ^= 0x80 >> (bit % 8);
        let mut bad = cosigned[..range.start].to_vec();
        bad.extend_from_slice(
            format!(
                "— hellowork-witness-dev {}\n",
                BASE64_STANDARD.encode(&bytes)
            )
            .as_bytes(),
        );
        assert!(
            matches!(verify(&bad), Err(CheckpointError::InvalidSignature { ref name, .. }) if name == "hellowork-witness-dev"),
            "time bit {bit}"
        );
        // By a witness nobody configured, it is only ignored.
        let unwitnessed = checkpoint::verify(&bad, ORIGIN, &log_key().verifier_key(), &[]).unwrap();
        assert!(unwitnessed.cosigned_by.is_empty());
    }
}

#[test]
fn a_cosignature_by_an_unknown_witness_is_not_counted() {
    let (skey, _) = keys::generate("some-other-witness", true);
    let stranger = WitnessKey::from_note_key(&skey).unwrap();
    let cosigned = stranger.cosign(&signed().note, 1_765_000_000).unwrap();
    assert!(verify(&cosigned).unwrap().cosigned_by.is_empty());
    let both = witness_key().cosign(&cosigned, 1_765_000_001).unwrap();
    assert_eq!(
        verify(&both).unwrap().cosigned_by,
        [("hellowork-witness-dev".to_owned(), 1_765_000_001)]
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let (skey, _) = keys::generate("hellowork-takamatsu-access-log-dev", false);
    let impostor = LogKey::from_note_key(&skey).unwrap();
    let note = impostor.sign(ORIGIN, 12, signed().root).unwrap().note;
    assert!(matches!(
        verify(&note),
        Err(CheckpointError::NotSignedByLog)
    ));
    // Cosigned by a known witness, it is still not the log's.
    let cosigned = witness_key().cosign(&note, 1_765_000_000).unwrap();
    assert!(matches!(
        verify(&cosigned),
        Err(CheckpointError::NotSignedByLog)
    ));
}

#[test]
fn a_checkpoint_for_another_origin_is_refused() {
    let note = log_key()
        .sign("someone.else/log", 12, signed().root)
        .unwrap()
        .note;
    assert!(matches!(
        verify(&note),
        Err(CheckpointError::WrongOrigin { ref found, .. }) if found == "someone.else/log"
    ));
    for origin in ["", "two\nlines", "tab\there"] {
        assert!(matches!(
            log_key().sign(origin, 1, signed().root),
            Err(CheckpointError::InvalidOrigin)
        ));
    }
}

#[test]
fn stripped_or_repeated_signatures_are_refused() {
    let signed = signed();
    let cosigned = witness_key().cosign(&signed.note, 1_765_000_000).unwrap();
    let log_line = line(&cosigned, "— hellowork-takamatsu-access-log-dev ");

    let mut without_log = cosigned[..log_line.start].to_vec();
    without_log.extend_from_slice(&cosigned[log_line.end..]);
    assert!(matches!(
        verify(&without_log),
        Err(CheckpointError::NotSignedByLog)
    ));

    let body_end = log_line.start - 1;
    assert!(matches!(
        verify(&cosigned[..body_end + 1]),
        Err(CheckpointError::Malformed)
    ));

    for repeated in [
        log_line.clone(),
        line(&cosigned, "— hellowork-witness-dev "),
    ] {
        let mut twice = cosigned.clone();
        twice.extend_from_slice(&cosigned[repeated]);
        assert!(matches!(
            verify(&twice),
            Err(CheckpointError::DuplicateSignature { .. })
        ));
    }
}

#[test]
fn extension_lines_and_other_notes_are_refused() {
    let body = format!("{ORIGIN}\n12\n{}\nextra line\n", signed().root);
    let mut note = signed_note::Note::new(body.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&log_key()]).unwrap();
    assert!(matches!(
        verify(&note.to_bytes()),
        Err(CheckpointError::UnexpectedExtension)
    ));

    let mut letter = signed_note::Note::new(b"not a checkpoint\n", &[]).unwrap();
    letter.add_sigs(&[&log_key()]).unwrap();
    assert!(matches!(
        verify(&letter.to_bytes()),
        Err(CheckpointError::Malformed)
    ));
    assert!(matches!(
        witness_key().cosign(&letter.to_bytes(), 1),
        Err(CheckpointError::Malformed)
    ));
    assert!(matches!(
        verify(b"garbage"),
        Err(CheckpointError::Malformed)
    ));
}

#[test]
fn cosigning_refuses_times_beyond_the_format() {
    let note = signed().note;
    let max = hellowork_transparency::cosignature::MAX_TIME;
    assert!(witness_key().cosign(&note, max).is_ok());
    assert!(matches!(
        witness_key().cosign(&note, max + 1),
        Err(CheckpointError::TimeOutOfRange(_))
    ));
}

#[test]
fn a_witness_given_twice_or_a_bad_key_is_an_error() {
    let cosigned = witness_key().cosign(&signed().note, 1).unwrap();
    let witness = witness_key().verifier_key();
    let verdict = checkpoint::verify(
        &cosigned,
        ORIGIN,
        &log_key().verifier_key(),
        &[witness.clone(), witness],
    );
    assert!(matches!(verdict, Err(CheckpointError::AmbiguousKey { .. })));
    let verdict = checkpoint::verify(&cosigned, ORIGIN, "not a key", &[]);
    assert!(matches!(verdict, Err(CheckpointError::Key(_))));
    // A log key where a witness key belongs is of the wrong type.
    let verdict = checkpoint::verify(
        &cosigned,
        ORIGIN,
        &log_key().verifier_key(),
        &[log_key().verifier_key()],
    );
    assert!(matches!(
        verdict,
        Err(CheckpointError::Key(hellowork_transparency::KeyError::Type))
    ));
}
