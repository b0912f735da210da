//! A problem with one input field, found while parsing.

/// One invalid field: its path in the request (e.g. `name.family_name`) and
/// what is wrong, without echoing the value (it may be personal data, Art. 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub description: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }

    /// The same problem under a parent path: `family_name` → `name.family_name`
    /// (an empty parent keeps the path, an empty path names the parent).
    #[must_use]
    pub fn under(self, parent: &str) -> Self {
        let field = match (parent.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => parent.to_owned(),
            (false, false) => format!("{parent}.{}", self.field),
        };
        Self { field, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_under_their_parent() {
        assert_eq!(
            FieldError::new("email", "x").under("contact").field,
            "contact.email"
        );
        assert_eq!(FieldError::new("", "x").under("contact").field, "contact");
        assert_eq!(FieldError::new("language", "x").under("").field, "language");
    }
}
