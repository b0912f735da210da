//! Art. 2(3): the person owns a webcam-capable device (smartphone, PC,
//! tablet) and can prepare the designated meeting app (Art. 4) on it.

use super::contract::{DeviceFailure, DeviceKind};

/// What the person attests about one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCapability {
    pub kind: DeviceKind,
    pub owned: bool,
    pub has_webcam: bool,
    pub can_prepare_meeting_app: bool,
}

impl DeviceCapability {
    /// Art. 2(3): every reason the device does not qualify; empty when it is
    /// capable. A device that does not qualify is recorded, not refused.
    pub fn failures(&self) -> Vec<DeviceFailure> {
        [
            // Art. 2(3): the person must own (保有) the device.
            (!self.owned).then_some(DeviceFailure::NotOwned),
            // Art. 2(3): it must communicate by webcam.
            (!self.has_webcam).then_some(DeviceFailure::NoWebcam),
            // Art. 2(3), 4: the designated meeting app must be preparable on it.
            (!self.can_prepare_meeting_app).then_some(DeviceFailure::MeetingAppUnavailable),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
