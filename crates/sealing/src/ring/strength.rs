//! Production's rule for a secret that should be random: long enough, not a
//! repetition of a shorter pattern, not drawn from a handful of byte
//! values. It catches zeroed, patterned and padded keys and tiny alphabets,
//! not every weak secret: a key must come from a random generator
//! (`openssl rand -base64 32`).
//!
//! A secret that passes by chance would be refused by mistake; for one
//! drawn uniformly at random the rule stays silent with overwhelming
//! probability (the sums below are exact counts, not estimates):
//! - 32 random bytes: fewer than 7 distinct values 2.5e-41, a period of 16
//!   bytes or less below 3e-39 (256^-16 for period 16 dominates);
//! - 64 random hex digits (16 symbols): fewer than 7 distinct 4.4e-24;
//! - 44 random base64 characters: fewer than 7 distinct 4.4e-38.

/// The shortest secret production accepts: 256 bits, the strength of
/// AES-256 and of the HMAC-SHA256 block.
pub const MIN_SECRET_BYTES: usize = 32;

/// A secret with fewer distinct byte values than this is refused.
pub const MIN_DISTINCT_BYTES: usize = 7;

/// Why a secret is too weak for production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Weakness {
    #[error("shorter than {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error("a repetition of a pattern of at most half its length")]
    Repeating,
    #[error("fewer than {MIN_DISTINCT_BYTES} distinct byte values")]
    FewDistinctBytes,
}

/// Why `secret` is too weak for production, if it is.
pub fn weakness(secret: &[u8]) -> Option<Weakness> {
    if secret.len() < MIN_SECRET_BYTES {
        return Some(Weakness::TooShort);
    }
    if repeats(secret) {
        return Some(Weakness::Repeating);
    }
    let mut seen = [false; 256];
    for byte in secret {
        seen[usize::from(*byte)] = true;
    }
    if seen.iter().filter(|s| **s).count() < MIN_DISTINCT_BYTES {
        return Some(Weakness::FewDistinctBytes);
    }
    None
}

/// Whether `secret` is its first `p` bytes over and over (the last copy
/// possibly cut short) for some `p` of at most half its length; all bytes
/// equal is `p = 1`.
fn repeats(secret: &[u8]) -> bool {
    (1..=secret.len() / 2).any(|period| secret.iter().zip(&secret[period..]).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn zeroed_patterned_padded_and_short_secrets_are_weak() {
        let mut one_set = [0u8; 32];
        one_set[31] = 1;
        let mut doubled = [0u8; 32];
        rand::rng().fill_bytes(&mut doubled[..16]);
        doubled.copy_within(..16, 16);
        for (secret, expected) in [
            (vec![0u8; 32], Weakness::Repeating),
            (vec![0xff; 64], Weakness::Repeating),
            (b"abc".repeat(11), Weakness::Repeating),
            (doubled.to_vec(), Weakness::Repeating),
            (one_set.to_vec(), Weakness::FewDistinctBytes),
            (
                b"aaaaaabbbbbbccccccddddddeeeeeef".to_vec(),
                Weakness::TooShort,
            ),
            (
                b"aaaaaabbbbbbccccccddddddeeeeeeff".to_vec(),
                Weakness::FewDistinctBytes,
            ),
            (b"s3cr3t".to_vec(), Weakness::TooShort),
            (Vec::new(), Weakness::TooShort),
        ] {
            assert_eq!(weakness(&secret), Some(expected), "{secret:?}");
        }
    }

    #[test]
    fn random_keys_and_their_text_forms_pass() {
        use base64::Engine;
        let mut rng = rand::rng();
        for _ in 0..20_000 {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            assert_eq!(weakness(&key), None, "{key:?}");
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(weakness(hex.as_bytes()), None, "{hex}");
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            assert_eq!(weakness(text.as_bytes()), None, "{text}");
        }
    }
}
