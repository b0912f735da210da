//! The registration domain: pure, no I/O and no clock (every instant is an
//! input). Parsing newtypes (a value that exists is valid), the [`JobSeeker`]
//! aggregate, the environment evaluation of Art. 5 and 12(4), and the
//! eligibility decision of Art. 2, 5, 6 and 12, and the erasure of a
//! person's personal data (Art. 8).
//!
//! The aggregate's state and commands hold domain values only: ids as
//! UUIDs or [`JobSeekerId`], instants as `chrono`, and the domain's own
//! enums (`contract`), each converting both ways with the contract's. The
//! events are the contract's protobuf messages by design; `records` reads
//! each back into what the aggregate keeps.
//!
//! Rules are documented where they are enforced, each doc comment starting
//! with its article, so `grep -rn "Art. 5" src/domain` finds them.

mod birth;
mod command;
mod contact;
mod contract;
mod dates;
mod device;
mod eligibility;
mod environment;
mod erasure;
mod error;
mod event;
mod field;
mod identity;
mod job_seeker;
mod lifecycle;
mod name;
mod personal;
mod records;
mod registrant;
mod served;
mod terms;

pub use birth::DateOfBirth;
pub use command::{
    ApplyForOnlineServices, AttestDevice, AttestEnvironment, Command, EraseJobSeeker,
    RegisterJobSeeker,
};
pub use contact::{Contact, EmailAddress, PhoneNumber};
pub use contract::{
    AntivirusGrade, Channel, ConnectionType, DeviceFailure, DeviceKind, EligibilityReason,
    EnvironmentFailure, EnvironmentItem, ErasureReason, RegistrantCategory, RegistrationStatus,
    Unspecified,
};
pub use dates::{message as date_message, of as date_of};
pub use device::DeviceCapability;
pub use eligibility::{
    ConsentRecord, ConsentStatus, RefusalRecord, UnmetCondition, consent_status, eligibility,
    is_refused,
};
pub use environment::{
    AntivirusReport, EnvironmentEvaluation, EnvironmentPolicy, EnvironmentReport, FileSharingList,
    ItemResult, OperatingSystemReport, OsSupport, evaluate_environment,
};
pub use erasure::ErasureReference;
pub use error::DomainError;
pub use event::{Event, Registered};
pub use field::FieldError;
pub use hellowork_values::time::tokyo_date;
pub use identity::{IdentityKey, JobSeekerId, derived_id, stream_name};
pub use job_seeker::JobSeeker;
pub use lifecycle::{LifecycleError, OsLifecycle, OsLifecycleEntry};
pub use name::{NamePart, PersonName, Reading};
pub use personal::{PersonRecord, Personal, PersonalData};
pub use records::{
    Application, AppliedTerms, DeviceAttestation, EnvironmentAttestation, Erasure, Registration,
};
pub use registrant::Registrant;
pub use served::require_served;
pub use terms::{LanguageTag, Sha256Hex, TermsShown, TermsVersion};
