//! The published development keys, the checks that refuse them (and weak
//! keys) in production, and key generation for the operator's command.

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

/// Whether `vkey` is the verifier key of a development key, under any name
/// or type, by its public key bytes: production refuses to pin or accept it
/// however it is relabelled. A string that is no verifier key is not one.
pub fn is_development_verifier(vkey: &str) -> bool {
    let types = [TYPE_ED25519, TYPE_COSIGNATURE_V1];
    let Some(public) = types
        .iter()
        .find_map(|key_type| note_key::parse_verifier(vkey, *key_type).ok())
        .map(|(_, _, public)| public)
    else {
        return false;
    };
    [DEVELOPMENT_LOG_KEY, DEVELOPMENT_WITNESS_KEY]
        .into_iter()
        .filter_map(|published| note_key::parse_secret(published, &types).ok())
        .any(|published| published.signing.verifying_key() == public)
}

/// Why production refuses `skey`, if it does: a development key (by its
/// bytes, [`is_development`]) or a weak seed
/// (`hellowork_sealing::ring::weakness`). A string that is no key is left
/// to the key's reader.
pub fn production_refusal(skey: &str) -> Option<String> {
    if is_development(skey) {
        return Some("is the published development key; production needs its own".to_owned());
    }
    let key = note_key::parse_secret(skey, &[TYPE_ED25519, TYPE_COSIGNATURE_V1]).ok()?;
    hellowork_sealing::ring::weakness(key.signing.as_bytes())
        .map(|why| format!("is weak ({why}); production needs a generated key (hellowork log-key)"))
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

/// Where a process configures its signing key: a variable holding it, or
/// another naming a file that holds it (not both).
#[derive(Debug, Clone, Copy)]
pub struct KeySource<'a> {
    pub variable: &'a str,
    pub file_variable: &'a str,
    pub text: Option<&'a str>,
    pub file: Option<&'a str>,
}

/// A configured signing key refused, naming the variable at fault, never
/// key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct KeySourceError {
    pub variable: String,
    pub problem: String,
}

/// The private key `source` configures, with the variable it came from;
/// `development` (a published key) when neither is set outside production.
/// Production refuses a missing key and a published one, by its bytes.
pub fn configured(
    source: KeySource<'_>,
    production: bool,
    development: &str,
) -> Result<(String, Zeroizing<String>), KeySourceError> {
    let KeySource {
        variable,
        file_variable,
        text,
        file,
    } = source;
    let error = |variable: &str, problem: String| KeySourceError {
        variable: variable.to_owned(),
        problem,
    };
    let (at, skey) = match (text, file) {
        (Some(_), Some(_)) => {
            return Err(error(
                variable,
                format!("set either {variable} or {file_variable}, not both"),
            ));
        }
        (Some(text), None) => (variable, Zeroizing::new(text.trim().to_owned())),
        (None, Some(path)) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| error(file_variable, format!("cannot read {path}: {e}")))?,
            );
            (file_variable, Zeroizing::new(text.trim().to_owned()))
        }
        (None, None) if production => {
            return Err(error(
                variable,
                format!("required in production (or {file_variable})"),
            ));
        }
        (None, None) => (variable, Zeroizing::new(development.to_owned())),
    };
    match production_refusal(&skey).filter(|_| production) {
        Some(problem) => Err(error(at, problem)),
        None => Ok((at.to_owned(), skey)),
    }
}
