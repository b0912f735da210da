//! [`Service`]: the four services, each with its name, the event streams
//! it consumes and its default ports.

/// One of the four services; fixes its default ports, schema and stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Registration,
    Consent,
    Scheduling,
    AuditLog,
}

impl Service {
    /// The name used in proto packages, subjects and metrics (`auditlog` has
    /// no dash there, as in `hellowork.auditlog.v1`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Consent => "consent",
            Self::Scheduling => "scheduling",
            Self::AuditLog => "auditlog",
        }
    }

    pub const ALL: [Service; 4] = [
        Self::Registration,
        Self::Consent,
        Self::Scheduling,
        Self::AuditLog,
    ];

    /// The services whose event streams this one consumes (its own
    /// included where it reads it): whose producer keys it must trust, and
    /// what its NATS user may subscribe to.
    pub fn consumes(self) -> &'static [Service] {
        match self {
            Self::Registration => &[Self::Consent, Self::Scheduling],
            Self::Consent => &[Self::Consent, Self::Registration],
            Self::Scheduling => &[Self::Registration],
            Self::AuditLog => &[Self::Registration, Self::Consent, Self::Scheduling],
        }
    }

    pub(super) fn default_ports(self) -> (u16, u16) {
        match self {
            Self::Registration => (50051, 9101),
            Self::Consent => (50052, 9102),
            Self::Scheduling => (50053, 9103),
            Self::AuditLog => (50054, 9104),
        }
    }
}
