//! Checkpoint verification, as the witness runs it on what the log hands it
//! and a client on what the log serves. Stricter than signed_note's
//! `Note::verify`, which accepts a note signed by any known key and skips a
//! repeated line: here the log's own signature is required, and a key that
//! signs twice is refused.

use std::collections::BTreeSet;

use signed_note::{Note, Signature, StandardVerifier, Verifier, VerifierList};

use super::{CheckpointError, VerifiedCheckpoint};
use crate::KeyError;
use crate::cosignature::{self, CosignatureVerifier};

/// Verifies that `note` is a checkpoint for `origin` signed by `log` (a
/// verifier key), and which of `witnesses` (cosignature verifier keys)
/// cosigned it. Refused: malformed text, another origin, extension lines, no
/// valid log signature, two signatures by one key, and any signature by a
/// known key (the log's or a witness's) that does not verify. Signatures by
/// unknown keys are ignored.
pub fn verify(
    note: &[u8],
    origin: &str,
    log: &str,
    witnesses: &[String],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let log_verifier = StandardVerifier::new(log).map_err(KeyError::from)?;
    let (log_name, log_id) = (log_verifier.name().to_owned(), log_verifier.key_id());
    let mut known: Vec<Box<dyn Verifier>> = vec![Box::new(log_verifier)];
    for witness in witnesses {
        known.push(Box::new(CosignatureVerifier::new(witness)?));
    }

    let parsed = Note::from_bytes(note)?;
    refuse_repeated_keys(note, parsed.text().len())?;
    let (verified, _unknown) = parsed.verify(&VerifierList::new(known))?;
    let is_log = |signature: &Signature| signature.name() == log_name && signature.id() == log_id;
    if !verified.iter().any(is_log) {
        return Err(CheckpointError::NotSignedByLog);
    }

    let body = super::body(parsed.text())?;
    if body.origin() != origin {
        return Err(CheckpointError::WrongOrigin {
            expected: origin.to_owned(),
            found: body.origin().to_owned(),
        });
    }
    if !body.extension().is_empty() {
        return Err(CheckpointError::UnexpectedExtension);
    }
    let cosigned_by = verified
        .iter()
        .filter(|signature| !is_log(signature))
        .filter_map(|signature| {
            cosignature::timestamp(signature.signature())
                .map(|time| (signature.name().to_owned(), time))
        })
        .collect();
    Ok(VerifiedCheckpoint {
        origin: body.origin().to_owned(),
        size: body.size(),
        root: *body.hash(),
        cosigned_by,
    })
}

/// Refuses two signature lines with one key name and id. `Note::from_bytes`
/// has checked the lines; its note's text is `note` up to the blank line.
fn refuse_repeated_keys(note: &[u8], text_len: usize) -> Result<(), CheckpointError> {
    let lines = note
        .get(text_len + 1..)
        .and_then(|lines| lines.strip_suffix(b"\n"))
        .ok_or(CheckpointError::Malformed)?;
    let mut seen = BTreeSet::new();
    for line in lines.split(|&byte| byte == b'\n') {
        let signature = Signature::from_bytes(line)?;
        if !seen.insert((signature.name().to_owned(), signature.id())) {
            return Err(CheckpointError::DuplicateSignature {
                name: signature.name().to_owned(),
                id: signature.id(),
            });
        }
    }
    Ok(())
}
