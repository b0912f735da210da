//! Keys: the development constants are what their docs say, production can
//! recognise them under any name, generated keys are read back by us and by
//! signed_note, malformed keys are refused, and no key byte is printed.

use base64::prelude::*;
use hellowork_transparency::checkpoint::LogKey;
use hellowork_transparency::cosignature::{CosignatureVerifier, WitnessKey};
use hellowork_transparency::keys::{
    self, DEVELOPMENT_LOG_KEY, DEVELOPMENT_LOG_VERIFIER_KEY, DEVELOPMENT_WITNESS_KEY,
    DEVELOPMENT_WITNESS_VERIFIER_KEY,
};
use hellowork_transparency::{KeyError, ProofError, hash_from_bytes};
use signed_note::{StandardSigner, StandardVerifier};

#[test]
fn the_development_keys_are_what_they_say() {
    let log = LogKey::from_note_key(DEVELOPMENT_LOG_KEY).unwrap();
    assert_eq!(log.name(), "hellowork-takamatsu-access-log-dev");
    assert_eq!(log.verifier_key(), DEVELOPMENT_LOG_VERIFIER_KEY);
    StandardSigner::new(DEVELOPMENT_LOG_KEY).unwrap();
    StandardVerifier::new(DEVELOPMENT_LOG_VERIFIER_KEY).unwrap();

    let witness = WitnessKey::from_note_key(DEVELOPMENT_WITNESS_KEY).unwrap();
    assert_eq!(witness.name(), "hellowork-witness-dev");
    assert_eq!(witness.verifier_key(), DEVELOPMENT_WITNESS_VERIFIER_KEY);
    assert_eq!(secret_bytes(DEVELOPMENT_WITNESS_KEY)[0], 0x04);
    CosignatureVerifier::new(DEVELOPMENT_WITNESS_VERIFIER_KEY).unwrap();

    assert!(keys::is_development(DEVELOPMENT_LOG_KEY));
    assert!(keys::is_development(DEVELOPMENT_WITNESS_KEY));
}

#[test]
fn a_development_key_is_recognised_by_its_bytes_not_its_name() {
    for published in [DEVELOPMENT_LOG_KEY, DEVELOPMENT_WITNESS_KEY] {
        for key_type in [0x01, 0x04] {
            let relabelled = relabel(published, "production-log", key_type);
            assert!(keys::is_development(&relabelled), "{key_type:#04x}");
        }
    }
    for witness in [false, true] {
        let (fresh, _) = keys::generate("hellowork-takamatsu-access-log-dev", witness);
        assert!(!keys::is_development(&fresh));
    }
    assert!(!keys::is_development("not a key"));
}

#[test]
fn a_development_verifier_key_is_recognised_by_its_bytes_not_its_name() {
    assert!(keys::is_development_verifier(DEVELOPMENT_LOG_VERIFIER_KEY));
    assert!(keys::is_development_verifier(
        DEVELOPMENT_WITNESS_VERIFIER_KEY
    ));
    for published in [DEVELOPMENT_LOG_KEY, DEVELOPMENT_WITNESS_KEY] {
        let log = LogKey::from_note_key(&relabel(published, "office-log", 0x01)).unwrap();
        assert!(keys::is_development_verifier(&log.verifier_key()));
        let witness =
            WitnessKey::from_note_key(&relabel(published, "office-witness", 0x04)).unwrap();
        assert!(keys::is_development_verifier(&witness.verifier_key()));
    }
    let (_, fresh) = keys::generate("hellowork-witness-dev", true);
    assert!(!keys::is_development_verifier(&fresh));
    assert!(!keys::is_development_verifier("not a key"));
}

#[test]
fn production_refuses_development_and_weak_seeds_but_not_generated_keys() {
    let zero_seed = format!(
        "PRIVATE+KEY+office-log+00000000+{}",
        BASE64_STANDARD.encode([1u8; 33])
    );
    let weak = relabel(&zero_seed, "office-log", 0x01);
    let refusal = keys::production_refusal(&weak).unwrap();
    assert!(refusal.contains("weak"), "{refusal}");
    let relabelled = relabel(DEVELOPMENT_LOG_KEY, "office-log", 0x01);
    let refusal = keys::production_refusal(&relabelled).unwrap();
    assert!(refusal.contains("development"), "{refusal}");
    for witness in [false, true] {
        let (fresh, _) = keys::generate("office", witness);
        assert_eq!(keys::production_refusal(&fresh), None);
    }
}

#[test]
fn generated_keys_are_read_back() {
    let (skey, vkey) = keys::generate("takamatsu.hellowork.example/log", false);
    let log = LogKey::from_note_key(&skey).unwrap();
    assert_eq!(log.verifier_key(), vkey);
    StandardSigner::new(&skey).unwrap();
    StandardVerifier::new(&vkey).unwrap();
    assert_eq!(WitnessKey::from_note_key(&skey).map(|_| ()), Ok(()));

    let (skey, vkey) = keys::generate("witness.hellowork.example", true);
    let witness = WitnessKey::from_note_key(&skey).unwrap();
    assert_eq!(witness.verifier_key(), vkey);
    assert_eq!(CosignatureVerifier::new(&vkey).map(|_| ()), Ok(()));
    // A cosigning key is no log key, and signed_note knows no type 0x04.
    assert_eq!(
        LogKey::from_note_key(&skey).map(|_| ()),
        Err(KeyError::Type)
    );
    assert!(StandardVerifier::new(&vkey).is_err());
    assert_eq!(
        CosignatureVerifier::new(DEVELOPMENT_LOG_VERIFIER_KEY).map(|_| ()),
        Err(KeyError::Type)
    );
}

#[test]
#[should_panic(expected = "invalid key name")]
fn generating_a_key_with_an_invalid_name_panics() {
    keys::generate("two words", false);
}

#[test]
fn malformed_keys_are_refused() {
    let (name_id, key) = DEVELOPMENT_LOG_KEY.rsplit_once('+').unwrap(); // no `+` in its base64
    let cases = [
        ("", KeyError::Malformed),
        ("PRIVATE+KEY+", KeyError::Malformed),
        (
            &DEVELOPMENT_LOG_KEY["PRIVATE+KEY+".len()..],
            KeyError::Malformed,
        ),
        (
            &format!("{name_id}+{}", &key[..key.len() - 4]),
            KeyError::Malformed,
        ),
        (&format!("{name_id}+!{}", &key[1..]), KeyError::Malformed),
        (
            &DEVELOPMENT_LOG_KEY.replace("+ee0d213e+", "+ee0d213f+"),
            KeyError::KeyId,
        ),
        (
            &DEVELOPMENT_LOG_KEY.replace("+ee0d213e+", "+ee0d213+"),
            KeyError::Malformed,
        ),
        (
            &DEVELOPMENT_LOG_KEY.replace("+ee0d213e+", "+-e0d213e+"),
            KeyError::Malformed,
        ),
        (
            &DEVELOPMENT_LOG_KEY.replace("-dev+", "-dev +"),
            KeyError::Malformed,
        ),
        (&relabel(DEVELOPMENT_LOG_KEY, "x", 0x02), KeyError::Type),
    ];
    for (skey, want) in cases {
        assert_eq!(
            LogKey::from_note_key(skey).map(|_| ()),
            Err(want),
            "{skey:?}"
        );
    }
    let vkey = DEVELOPMENT_WITNESS_VERIFIER_KEY;
    assert_eq!(
        CosignatureVerifier::new(&vkey.replace("+c7eadfb8+", "+c7eadfb9+")).map(|_| ()),
        Err(KeyError::KeyId)
    );
    assert_eq!(
        CosignatureVerifier::new("name+c7eadfb8").map(|_| ()),
        Err(KeyError::Malformed)
    );
}

#[test]
fn no_key_byte_is_printed() {
    let log = LogKey::from_note_key(DEVELOPMENT_LOG_KEY).unwrap();
    let witness = WitnessKey::from_note_key(DEVELOPMENT_WITNESS_KEY).unwrap();
    let verifier = CosignatureVerifier::new(DEVELOPMENT_WITNESS_VERIFIER_KEY).unwrap();
    let printed = [
        format!("{log:?}"),
        format!("{witness:?}"),
        format!("{:?}", witness.at(1).unwrap()),
        format!("{verifier:?}"),
    ];
    assert_eq!(
        printed[0],
        "LogKey { name: \"hellowork-takamatsu-access-log-dev\", id: ee0d213e, .. }"
    );
    for (skey, vkey) in [
        (DEVELOPMENT_LOG_KEY, DEVELOPMENT_LOG_VERIFIER_KEY),
        (DEVELOPMENT_WITNESS_KEY, DEVELOPMENT_WITNESS_VERIFIER_KEY),
    ] {
        let secret = &secret_bytes(skey)[1..];
        let public = &BASE64_STANDARD
            .decode(vkey.splitn(3, '+').nth(2).unwrap())
            .unwrap()[1..];
        for key in [secret, public] {
            let forms = [
                BASE64_STANDARD.encode(key)[..20].to_owned(),
                key[..8].iter().map(|b| format!("{b:02x}")).collect(),
                format!("{:?}", &key[..8]).trim_end_matches(']').to_owned(),
            ];
            for text in &printed {
                for form in &forms {
                    assert!(!text.contains(form.as_str()), "{text} shows {form}");
                }
            }
        }
    }
    for error in [KeyError::Malformed, KeyError::Type, KeyError::KeyId] {
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn a_hash_is_exactly_32_bytes() {
    assert_eq!(hash_from_bytes(&[7; 32]).map(|hash| hash.0), Ok([7; 32]));
    assert_eq!(hash_from_bytes(&[7; 31]), Err(ProofError::HashLength(31)));
    assert_eq!(hash_from_bytes(&[7; 33]), Err(ProofError::HashLength(33)));
    assert_eq!(hash_from_bytes(&[]), Err(ProofError::HashLength(0)));
}

/// `type || seed` of a private key (its base64 may hold `+`).
fn secret_bytes(skey: &str) -> Vec<u8> {
    BASE64_STANDARD
        .decode(skey.splitn(5, '+').nth(4).unwrap())
        .unwrap()
}

/// The same seed under another name and signature type, with the id that
/// name and type give.
fn relabel(skey: &str, name: &str, key_type: u8) -> String {
    let seed: [u8; 32] = secret_bytes(skey)[1..].try_into().unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let id = signed_note::key_id(name, &[&[key_type], public.as_bytes().as_slice()].concat());
    let key = BASE64_STANDARD.encode([&[key_type], seed.as_slice()].concat());
    format!("PRIVATE+KEY+{name}+{id:08x}+{key}")
}
