//! The registration domain: pure, no I/O and no clock (every instant is an
//! input). Parsing newtypes (a value that exists is valid), the [`JobSeeker`]
//! aggregate, the environment evaluation of Art. 5 and 12(4), and the
//! eligibility decision of Art. 2, 5, 6 and 12, and the erasure of a
//! person's personal data (Art. 8).
//!
//! Rules are documented where they are enforced, each doc comment starting
//! with its article, so `grep -rn "Art. 5" src/domain` finds them.

mod birth;
mod command;
mod contact;
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
mod registrant;
mod served;
mod terms;

pub use birth::DateOfBirth;
pub use command::{
    ApplyForOnlineServices, AttestDevice, AttestEnvironment, Command, EraseJobSeeker,
    RegisterJobSeeker,
};
pub use contact::{Contact, EmailAddress, PhoneNumber};
pub use device::{DeviceCapability, DeviceKind};
pub use eligibility::{
    ConsentRecord, ConsentStatus, RefusalRecord, consent_status, eligibility, is_refused,
};
pub use environment::{
    AntivirusGrade, AntivirusReport, ConnectionType, EnvironmentPolicy, EnvironmentReport,
    FileSharingList, OperatingSystemReport, evaluate_environment,
};
pub use erasure::{ErasureReason, ErasureReference};
pub use error::DomainError;
pub use event::{Event, Registered};
pub use field::FieldError;
pub use hellowork_values::time::tokyo_date;
pub use identity::{IdentityKey, JobSeekerId, derived_id, stream_name};
pub use job_seeker::{
    Channel, JobSeeker, RegistrantCategory, Registration, RegistrationStatus,
    proto_category as job_seeker_category,
};
pub use lifecycle::{LifecycleError, OsLifecycle, OsLifecycleEntry};
pub use name::{NamePart, PersonName, Reading};
pub use personal::{Personal, PersonalData};
pub use registrant::Registrant;
pub use served::require_served;
pub use terms::{LanguageTag, Sha256Hex, TermsShown, TermsVersion};
