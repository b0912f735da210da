//! Who walks the journey and the device they join from.

use hellowork_proto::{
    registration::v1 as registration, scheduling::v1::DeviceIdentifiers, sealing::v1::HpkeSealed,
};

/// A person as their front system registers them (Art. 2(2)).
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: registration::PersonName,
    pub date_of_birth: registration::Date,
    pub email: String,
}

impl Person {
    /// An invented person (高松 花子, born 1990-04-01; no real person's
    /// data) reached at `email`, for journeys where who they are does not
    /// matter.
    pub fn invented(email: &str) -> Self {
        Self {
            name: registration::PersonName {
                family_name: "高松".into(),
                given_name: "花子".into(),
                family_name_reading: "タカマツ".into(),
                given_name_reading: "ハナコ".into(),
            },
            date_of_birth: registration::Date {
                year: 1990,
                month: 4,
                day: 1,
            },
            email: email.to_owned(),
        }
    }
}

/// The device identifiers a join or leave carries (Art. 7(1)): in clear,
/// for scheduling to seal on arrival, or already sealed to the audit-log by
/// the front system (Art. 7(2)), so scheduling never sees them.
#[derive(Debug, Clone, PartialEq)]
pub enum Device {
    Clear(DeviceIdentifiers),
    Sealed(HpkeSealed),
}

impl Device {
    /// The request's `device` and `sealed_device` fields.
    pub(crate) fn into_fields(self) -> (Option<DeviceIdentifiers>, Option<HpkeSealed>) {
        match self {
            Self::Clear(device) => (Some(device), None),
            Self::Sealed(sealed) => (None, Some(sealed)),
        }
    }
}

impl From<&DeviceIdentifiers> for Device {
    fn from(device: &DeviceIdentifiers) -> Self {
        Self::Clear(device.clone())
    }
}

impl From<HpkeSealed> for Device {
    fn from(sealed: HpkeSealed) -> Self {
        Self::Sealed(sealed)
    }
}
