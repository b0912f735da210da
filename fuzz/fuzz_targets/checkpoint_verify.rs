//! Whatever arrives as a checkpoint (from the log, a witness, a file a
//! verifier was handed), verifying it answers with what it says or an
//! error, never a panic; what verifies under the pinned log key does so by
//! signed_note's own verifier too, and carries a cosignature only if the
//! witness key verifies it.
#![no_main]

use hellowork_transparency::{DEFAULT_ORIGIN, checkpoint, keys};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let witnesses = [keys::DEVELOPMENT_WITNESS_VERIFIER_KEY.to_owned()];
    let Ok(verified) = checkpoint::verify(
        data,
        DEFAULT_ORIGIN,
        keys::DEVELOPMENT_LOG_VERIFIER_KEY,
        &witnesses,
    ) else {
        return;
    };
    let note = signed_note::Note::from_bytes(data).expect("a verified checkpoint is a note");
    let log = signed_note::StandardVerifier::new(keys::DEVELOPMENT_LOG_VERIFIER_KEY)
        .expect("the development verifier key parses");
    note.verify(&signed_note::VerifierList::new(vec![Box::new(log)]))
        .expect("signed_note agrees that the log signed it");
    assert_eq!(verified.origin, DEFAULT_ORIGIN);
    assert!(verified.cosigned_by.len() <= 1);
});
