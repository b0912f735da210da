//! Reading the token out of an `authorization: Bearer <token>` value (RFC 6750).

use crate::error::AuthError;

/// The token of an `authorization` header value `Bearer <token>`.
///
/// The scheme is matched case-insensitively (RFC 9110, section 11.1).
/// An empty value or a scheme without a token is [`AuthError::Missing`];
/// any other scheme, or a token containing whitespace, is [`AuthError::Malformed`].
pub fn bearer_token(header_value: &str) -> Result<&str, AuthError> {
    let value = header_value.trim();
    if value.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed);
    }
    let token = token.trim_start();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.contains(char::is_whitespace) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_token() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(bearer_token("bearer abc"), Ok("abc"));
        assert_eq!(bearer_token("BEARER   abc  "), Ok("abc"));
    }

    #[test]
    fn rejects_other_shapes() {
        assert_eq!(bearer_token(""), Err(AuthError::Missing));
        assert_eq!(bearer_token("   "), Err(AuthError::Missing));
        assert_eq!(bearer_token("Bearer"), Err(AuthError::Missing));
        assert_eq!(bearer_token("Bearer   "), Err(AuthError::Missing));
        assert_eq!(
            bearer_token("Basic dXNlcjpwYXNz"),
            Err(AuthError::Malformed)
        );
        assert_eq!(bearer_token("abc.def.ghi"), Err(AuthError::Malformed));
        assert_eq!(bearer_token("Bearerabc"), Err(AuthError::Malformed));
        assert_eq!(bearer_token("Bearer a b"), Err(AuthError::Malformed));
    }
}
