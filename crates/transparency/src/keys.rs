//! The published development keys, a check that refuses them in production,
//! and key generation for the operator's command.

use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::note_key::{self, TYPE_COSIGNATURE_V1, TYPE_ED25519};

/// The development log key (type 0x01), named
/// `hellowork-takamatsu-access-log-dev`. It is published in this source and
/// protects nothing: anyone can sign checkpoints with it. Production refuses
/// it ([`is_development`]).
pub const DEVELOPMENT_LOG_KEY: &str = "PRIVATE+KEY+hellowork-takamatsu-access-log-dev+ee0d213e+AfEQyfBe8VPJeanmVKBHC9VQY4NPBAEMF989D7PVSzsi";

/// The development witness key (type 0x04), named `hellowork-witness-dev`.
/// It is published in this source and protects nothing: anyone can cosign
/// with it. Production refuses it ([`is_development`]).
pub const DEVELOPMENT_WITNESS_KEY: &str =
    "PRIVATE+KEY+hellowork-witness-dev+c7eadfb8+BKHN8XfwdfW9AhSUz4HqWUgKiRV+qlZrTr3C7v87kkfO";

/// The verifier key of [`DEVELOPMENT_LOG_KEY`], for development clients.
pub const DEVELOPMENT_LOG_VERIFIER_KEY: &str =
    "hellowork-takamatsu-access-log-dev+ee0d213e+AbWrDBtY296AxLo6vg80TwzhMJhwDu46JGdkZCOw2Syx";

/// The verifier key of [`DEVELOPMENT_WITNESS_KEY`], for a development log
/// and clients.
pub const DEVELOPMENT_WITNESS_VERIFIER_KEY: &str =
    "hellowork-witness-dev+c7eadfb8+BIwCE4+KTq2rom0vC88ETdOOGGfMiVRSvrPJYQwIYMW6";

/// Whether `skey` holds the key bytes of a development key, under any name
/// or type: production refuses such a key however it is relabelled. A
/// string that is no key is not a development key (reading it fails anyway).
pub fn is_development(skey: &str) -> bool {
    let types = [TYPE_ED25519, TYPE_COSIGNATURE_V1];
    let Ok(key) = note_key::parse_secret(skey, &types) else {
        return false;
    };
    [DEVELOPMENT_LOG_KEY, DEVELOPMENT_WITNESS_KEY]
        .into_iter()
        .filter_map(|published| note_key::parse_secret(published, &types).ok())
        .any(|published| published.signing == key.signing)
}

/// A fresh key pair in note format, `(private key, verifier key)`, from the
/// operating system's random numbers by `signed_note::generate_key`: for the
/// log, type 0x01; for a witness (`witness`), the same Ed25519 key in the
/// cosignature form, type 0x04.
///
/// # Panics
///
/// If `name` is not a valid key name (empty, or with a space or `+`; see
/// [`is_valid_name`]), or the operating system has no random numbers.
pub fn generate(name: &str, witness: bool) -> (String, String) {
    assert!(is_valid_name(name), "invalid key name {name:?}");
    let (skey, vkey) = signed_note::generate_key(&mut OsRng, name);
    if !witness {
        return (skey, vkey);
    }
    let skey = Zeroizing::new(skey);
    let key = note_key::parse_secret(&skey, &[TYPE_ED25519])
        .expect("signed_note writes keys this crate reads");
    let cosigning_skey = note_key::secret_text(name, TYPE_COSIGNATURE_V1, &key.signing);
    let cosigning_vkey =
        note_key::verifier_text(name, TYPE_COSIGNATURE_V1, &key.signing.verifying_key());
    (cosigning_skey.as_str().to_owned(), cosigning_vkey)
}

/// Whether `name` can name a key: non-empty, without spaces or `+`
/// (c2sp.org/signed-note).
pub fn is_valid_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name)
}
