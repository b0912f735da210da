//! The published development keys of the transparency log and the witness,
//! relabelled under another name (and so another key id), as an operator
//! might copy one into production: refused by their bytes all the same.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::SigningKey;

/// `skey` (`PRIVATE+KEY+name+id+base64(type||seed)`) named `name`.
pub fn renamed_private(skey: &str, name: &str) -> String {
    let (key_type, seed) = decode(skey.strip_prefix("PRIVATE+KEY+").expect("a private key"));
    private(name, key_type, &seed)
}

/// `vkey` (`name+id+base64(type||public)`) named `name`.
pub fn renamed_verifier(vkey: &str, name: &str) -> String {
    let (key_type, public) = decode(vkey);
    text(name, key_type, &public)
}

/// A private key of `key_type` with the weak seed `seed`.
pub fn private(name: &str, key_type: u8, seed: &[u8; 32]) -> String {
    let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
    let id = key_id(name, key_type, &public);
    let encoded = STANDARD.encode([&[key_type], seed.as_slice()].concat());
    format!("PRIVATE+KEY+{name}+{id:08x}+{encoded}")
}

fn text(name: &str, key_type: u8, public: &[u8; 32]) -> String {
    let encoded = STANDARD.encode([&[key_type], public.as_slice()].concat());
    format!("{name}+{:08x}+{encoded}", key_id(name, key_type, public))
}

fn key_id(name: &str, key_type: u8, public: &[u8; 32]) -> u32 {
    signed_note::key_id(name, &[&[key_type], public.as_slice()].concat())
}

/// `name+id+base64` into its type byte and 32 key bytes.
fn decode(text: &str) -> (u8, [u8; 32]) {
    let mut parts = text.splitn(3, '+');
    let encoded = parts.nth(2).expect("name+id+key");
    let bytes = STANDARD.decode(encoded).expect("base64");
    let key = bytes[1..].try_into().expect("a type byte and 32 key bytes");
    (bytes[0], key)
}
