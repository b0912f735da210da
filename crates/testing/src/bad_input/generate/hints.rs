//! [`Hints`]: what a test knows that helps random requests reach past
//! validation (valid requests to mutate, ids it created, token subjects,
//! instants), given to the generator.

use std::collections::HashMap;

use hellowork_auth::Role;

/// What a test knows that helps random requests reach past validation:
/// valid requests to mutate, ids of what it created, token subjects.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Values used for any string field (ids of created entities, versions
    /// in force, …).
    pub strings: Vec<String>,
    /// Values used for string fields of that name.
    pub fields: HashMap<String, Vec<String>>,
    /// Token subjects per role besides random ones (job seeker and
    /// counsellor ids), so that "only on their own records" checks pass
    /// often enough to reach what lies behind them.
    pub subjects: HashMap<Role, Vec<String>>,
    /// Instants (Unix seconds) timestamps cluster around besides now.
    pub instants: Vec<i64>,
    /// Valid requests per RPC method name, encoded.
    pub seeds: HashMap<String, Vec<Vec<u8>>>,
}

impl Hints {
    /// `request` is a valid request of `method`: cases mutate it.
    pub fn seed(&mut self, method: &str, request: &impl prost::Message) -> &mut Self {
        self.seeds
            .entry(method.to_owned())
            .or_default()
            .push(request.encode_to_vec());
        self
    }

    /// A value for any string field.
    pub fn string(&mut self, value: impl Into<String>) -> &mut Self {
        self.strings.push(value.into());
        self
    }

    /// A value for string fields named `field`.
    pub fn field(&mut self, field: &str, value: impl Into<String>) -> &mut Self {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(value.into());
        self
    }

    /// A token subject for `role`; also a value for any string field.
    pub fn subject(&mut self, role: Role, subject: impl Into<String>) -> &mut Self {
        let subject = subject.into();
        self.strings.push(subject.clone());
        self.subjects.entry(role).or_default().push(subject);
        self
    }

    pub fn instant(&mut self, unix_seconds: i64) -> &mut Self {
        self.instants.push(unix_seconds);
        self
    }
}
