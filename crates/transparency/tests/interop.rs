//! Our notes checked by code nobody here wrote: signed_note's own parser and
//! `StandardVerifier`, tlog_tiles' checkpoint parser, signed_note's
//! `StandardSigner` (which must write the very same bytes), and the
//! cosignature bytes against the text of c2sp.org/tlog-cosignature and a
//! cosignature published in transparency-dev/formats' tests.

use base64::prelude::*;
use ed25519_dalek::Verifier as _;
use hellowork_transparency::checkpoint::{self, LogKey};
use hellowork_transparency::cosignature::{self, CosignatureVerifier, WitnessKey};
use hellowork_transparency::keys::{
    self, DEVELOPMENT_LOG_KEY, DEVELOPMENT_LOG_VERIFIER_KEY, DEVELOPMENT_WITNESS_KEY,
    DEVELOPMENT_WITNESS_VERIFIER_KEY,
};
use hellowork_transparency::leaf_hash;
use sha2::{Digest, Sha256};
use signed_note::{Note, Signer, StandardSigner, StandardVerifier, Verifier, VerifierList};

const ORIGIN: &str = "takamatsu.hellowork.example/access-log";

#[test]
fn signed_note_and_tlog_tiles_read_our_checkpoints() {
    let root = leaf_hash(b"entry");
    let signed = LogKey::from_note_key(DEVELOPMENT_LOG_KEY)
        .unwrap()
        .sign(ORIGIN, 42, root)
        .unwrap();

    let note = Note::from_bytes(&signed.note).unwrap();
    let verifier = StandardVerifier::new(DEVELOPMENT_LOG_VERIFIER_KEY).unwrap();
    let (verified, unverified) = note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name(), "hellowork-takamatsu-access-log-dev");
    assert!(unverified.is_empty());

    let body = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(
        (body.origin(), body.size(), *body.hash()),
        (ORIGIN, 42, root)
    );
    assert_eq!(body.extension(), "");
    assert_eq!(note.text(), format!("{ORIGIN}\n42\n{root}\n").as_bytes());
}

#[test]
fn our_log_signature_is_byte_for_byte_signed_notes() {
    let root = leaf_hash(b"entry");
    let ours = LogKey::from_note_key(DEVELOPMENT_LOG_KEY)
        .unwrap()
        .sign(ORIGIN, 7, root)
        .unwrap();
    let theirs = StandardSigner::new(DEVELOPMENT_LOG_KEY).unwrap();
    let body = tlog_tiles::Checkpoint::new(ORIGIN, 7, root, "")
        .unwrap()
        .to_bytes();
    let mut note = Note::new(&body, &[]).unwrap();
    note.add_sigs(&[&theirs]).unwrap();
    assert_eq!(note.to_bytes(), ours.note);
}

#[test]
fn a_cosigned_checkpoint_keeps_the_log_signature_for_signed_note() {
    let signed = LogKey::from_note_key(DEVELOPMENT_LOG_KEY)
        .unwrap()
        .sign(ORIGIN, 3, leaf_hash(b"x"))
        .unwrap();
    let cosigned = WitnessKey::from_note_key(DEVELOPMENT_WITNESS_KEY)
        .unwrap()
        .cosign(&signed.note, 1_765_432_100)
        .unwrap();
    assert!(cosigned.starts_with(&signed.note));
    let note = Note::from_bytes(&cosigned).unwrap();
    let log = StandardVerifier::new(DEVELOPMENT_LOG_VERIFIER_KEY).unwrap();
    let (verified, unverified) = note
        .verify(&VerifierList::new(vec![Box::new(log)]))
        .unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 1));
    assert_eq!(unverified[0].name(), "hellowork-witness-dev");
}

/// The cosignature line, taken apart by the specification's words: key id
/// `SHA-256(name || "\n" || 0x04 || public key)[:4]`, then the big-endian
/// time, then Ed25519 over `cosignature/v1\ntime <t>\n` and the note text.
#[test]
fn our_cosignature_is_the_one_the_specification_describes() {
    let time = 1_679_315_147;
    let signed = LogKey::from_note_key(DEVELOPMENT_LOG_KEY)
        .unwrap()
        .sign(ORIGIN, 20_852_163, leaf_hash(b"y"))
        .unwrap();
    let cosigned = WitnessKey::from_note_key(DEVELOPMENT_WITNESS_KEY)
        .unwrap()
        .cosign(&signed.note, time)
        .unwrap();
    let parsed = Note::from_bytes(&signed.note).unwrap();
    let text = parsed.text();
    let last = std::str::from_utf8(&cosigned)
        .unwrap()
        .lines()
        .last()
        .unwrap();
    let encoded = last.strip_prefix("— hellowork-witness-dev ").unwrap();
    let bytes = BASE64_STANDARD.decode(encoded).unwrap();
    assert_eq!(bytes.len(), 4 + 8 + 64);

    let (name, vkey) = DEVELOPMENT_WITNESS_VERIFIER_KEY.split_once('+').unwrap();
    let public = BASE64_STANDARD
        .decode(vkey.split_once('+').unwrap().1)
        .unwrap();
    assert_eq!(public[0], 0x04);
    let public = ed25519_dalek::VerifyingKey::from_bytes(public[1..].try_into().unwrap()).unwrap();

    let mut id = Sha256::new();
    id.update(name.as_bytes());
    id.update(b"\n\x04");
    id.update(public.as_bytes());
    assert_eq!(bytes[..4], id.finalize()[..4]);
    assert_eq!(bytes[4..12], time.to_be_bytes());
    let mut message = format!("cosignature/v1\ntime {time}\n").into_bytes();
    message.extend_from_slice(text);
    let signature = ed25519_dalek::Signature::from_slice(&bytes[12..]).unwrap();
    public.verify(&message, &signature).unwrap();

    let verifier = CosignatureVerifier::new(DEVELOPMENT_WITNESS_VERIFIER_KEY).unwrap();
    assert_eq!(verifier.key_id().to_be_bytes(), bytes[..4]);
    assert!(verifier.verify(text, &bytes[4..]));
}

/// transparency-dev/formats `note/note_cosigv1_test.go`, `TestCosignatureTimestamp`:
/// a cosignature of time 1727964367, and a plain Ed25519 signature, which
/// has no time.
#[test]
fn the_time_of_a_published_cosignature() {
    let cosignature = BASE64_STANDARD
        .decode("ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==")
        .unwrap();
    assert_eq!(
        cosignature::timestamp(&cosignature[4..]),
        Some(1_727_964_367)
    );
    let plain = BASE64_STANDARD
        .decode("eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=")
        .unwrap();
    assert_eq!(cosignature::timestamp(&plain[4..]), None);
}

/// A witness key in the plain Ed25519 form (type 0x01, as Go's
/// `note.GenerateKey` writes) cosigns under the 0x04 id, as
/// transparency-dev/formats' `NewSignerForCosignatureV1` does.
#[test]
fn a_plain_ed25519_key_cosigns_under_the_cosignature_id() {
    let (skey, plain_vkey) = keys::generate("witness.example/w1", false);
    let witness = WitnessKey::from_note_key(&skey).unwrap();
    assert_ne!(witness.verifier_key(), plain_vkey);
    let (cosigning, plain) = (key_bytes(&witness.verifier_key()), key_bytes(&plain_vkey));
    assert_eq!((cosigning[0], plain[0]), (0x04, 0x01));
    assert_eq!(cosigning[1..], plain[1..]);
    let signer = witness.at(5).unwrap();
    assert_eq!(
        signer.key_id(),
        CosignatureVerifier::new(&witness.verifier_key())
            .unwrap()
            .key_id()
    );

    let signed = LogKey::from_note_key(DEVELOPMENT_LOG_KEY)
        .unwrap()
        .sign(ORIGIN, 1, leaf_hash(b"z"))
        .unwrap();
    let cosigned = witness.cosign(&signed.note, 5).unwrap();
    let verified = checkpoint::verify(
        &cosigned,
        ORIGIN,
        DEVELOPMENT_LOG_VERIFIER_KEY,
        &[witness.verifier_key()],
    )
    .unwrap();
    assert_eq!(verified.cosigned_by, [("witness.example/w1".to_owned(), 5)]);
}

/// The `type || public key` bytes of a verifier key.
fn key_bytes(vkey: &str) -> Vec<u8> {
    BASE64_STANDARD
        .decode(vkey.splitn(3, '+').nth(2).unwrap())
        .unwrap()
}
