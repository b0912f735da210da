//! Art. 8: erasing a person's personal data: under which case (why is a
//! [`super::ErasureReason`]).

/// Longest case reference, in bytes (all ASCII).
const MAX_REFERENCE: usize = 64;

/// Art. 8: the case or ticket number an erasure is made under. It outlives
/// the erasure in the event, so by contract it never holds personal data;
/// the narrow character set (ASCII letters, digits, `-_./#:`) refuses names
/// in Japanese script and e-mail addresses outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReference(String);

impl ErasureReference {
    /// `None` for an empty reference (it is optional).
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.len() > MAX_REFERENCE {
            return Err(format!("must be at most {MAX_REFERENCE} characters"));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_./#:".contains(&b);
        if !raw.bytes().all(allowed) {
            return Err(
                "must be a case number of ASCII letters, digits and -_./#: (never personal data)"
                    .to_owned(),
            );
        }
        Ok(Some(Self(raw.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_8_the_reason_is_required() {
        use crate::domain::ErasureReason;
        use hellowork_proto::registration::v1 as proto;
        assert!(ErasureReason::try_from(proto::ErasureReason::Unspecified).is_err());
        assert_eq!(
            ErasureReason::try_from(proto::ErasureReason::AppiRequest),
            Ok(ErasureReason::AppiRequest)
        );
    }

    #[test]
    fn art_8_a_reference_is_a_short_case_number_never_a_name_or_address() {
        assert_eq!(ErasureReference::parse("  "), Ok(None));
        assert_eq!(
            ErasureReference::parse(" APPI-2026/0042#3 ")
                .unwrap()
                .unwrap()
                .as_str(),
            "APPI-2026/0042#3"
        );
        for bad in ["山田太郎", "taro@example.jp", "a b", &"x".repeat(65)] {
            assert!(ErasureReference::parse(bad).is_err(), "{bad}");
        }
        assert!(ErasureReference::parse(&"x".repeat(64)).is_ok());
    }
}
