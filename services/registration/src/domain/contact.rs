//! How the office reaches a person: an e-mail address and/or a telephone
//! number, both validated and normalized.

use unicode_normalization::UnicodeNormalization;

use super::field::FieldError;

/// RFC 5321 limits.
const MAX_EMAIL_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
/// ITU-T E.164: at most 15 digits; Japanese numbers have 10 or 11.
const MIN_PHONE_DIGITS: usize = 10;
const MAX_PHONE_DIGITS: usize = 15;

/// An e-mail address (ASCII `local@domain.tld`), stored as typed after
/// trimming; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        let invalid = || "must be an e-mail address like name@example.jp".to_owned();
        if email.len() > MAX_EMAIL_LEN {
            return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= MAX_LOCAL_LEN
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A telephone number: full-width digits folded, spaces, hyphens and
/// parentheses removed; a domestic number starting with 0, or an
/// international one starting with `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let folded: String = raw
            .trim()
            .nfkc()
            .filter(|c| {
                !matches!(
                    c,
                    ' ' | '-' | '(' | ')' | '\u{2010}' | '\u{2212}' | '\u{30FC}'
                )
            })
            .collect();
        let (plus, digits) = match folded.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, folded.as_str()),
        };
        let valid = digits.chars().all(|c| c.is_ascii_digit())
            && (MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits.len())
            && (plus || digits.starts_with('0'));
        if valid {
            Ok(Self(folded))
        } else {
            Err("must be a telephone number of 10-15 digits, domestic starting with 0 or international starting with +".into())
        }
    }

    /// Digits with an optional leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least one way to reach the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
}

impl Contact {
    /// Parses both fields (empty = absent), reporting every problem with a
    /// path relative to the contact message.
    pub fn parse(email: &str, phone: &str) -> Result<Self, Vec<FieldError>> {
        let email = (!email.trim().is_empty())
            .then(|| EmailAddress::parse(email).map_err(|e| FieldError::new("email", e)))
            .transpose();
        let phone = (!phone.trim().is_empty())
            .then(|| PhoneNumber::parse(phone).map_err(|e| FieldError::new("phone_number", e)))
            .transpose();
        match (email, phone) {
            (Ok(None), Ok(None)) => Err(vec![FieldError::new(
                "",
                "an e-mail address or a telephone number is required",
            )]),
            (Ok(email), Ok(phone)) => Ok(Self { email, phone }),
            (email, phone) => Err([email.err(), phone.err()].into_iter().flatten().collect()),
        }
    }

    /// The contact as the duplicate check compares it.
    pub fn identity_form(&self) -> String {
        format!(
            "{}\u{1f}{}",
            self.email
                .as_ref()
                .map(|e| e.as_str().to_ascii_lowercase())
                .unwrap_or_default(),
            self.phone
                .as_ref()
                .map(PhoneNumber::as_str)
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_and_numbers_are_accepted() {
        assert!(EmailAddress::parse(" taro.yamada+job@example.co.jp ").is_ok());
        assert_eq!(
            PhoneNumber::parse("087-811-8609").unwrap().as_str(),
            "0878118609"
        );
        assert_eq!(
            PhoneNumber::parse("０９０－１２３４－５６７８")
                .unwrap()
                .as_str(),
            "09012345678"
        );
        assert_eq!(
            PhoneNumber::parse("+81 87 811 8609").unwrap().as_str(),
            "+81878118609"
        );
    }

    #[test]
    fn malformed_addresses_and_numbers_are_refused() {
        for email in [
            "taro",
            "@example.jp",
            "taro@",
            "taro@example",
            "ta..ro@example.jp",
            "taro@-x.jp",
            "山田@example.jp",
        ] {
            assert!(EmailAddress::parse(email).is_err(), "{email}");
        }
        for phone in [
            "12345",
            "8781186090",
            "090-1234-567a",
            "+1234",
            "0".repeat(16).as_str(),
        ] {
            assert!(PhoneNumber::parse(phone).is_err(), "{phone}");
        }
    }

    #[test]
    fn a_contact_needs_at_least_one_way() {
        let errors = Contact::parse(" ", "").unwrap_err();
        assert_eq!(errors[0].field, "");
        let errors = Contact::parse("x", "y").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn the_identity_ignores_email_case_and_phone_punctuation() {
        let a = Contact::parse("Taro@Example.JP", "090-1234-5678").unwrap();
        let b = Contact::parse("taro@example.jp", "09012345678").unwrap();
        assert_eq!(a.identity_form(), b.identity_form());
    }
}
