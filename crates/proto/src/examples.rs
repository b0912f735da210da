//! Example messages a conforming client sends, written by hand: the one
//! environment report that passes every check, shared by the tests (through
//! `hellowork_testing::passing_environment`), the benchmarks and the demo.
//! It lives here, beside the contract it fills in, because the demo is part
//! of the production `hellowork` binary and may not depend on the test
//! support; one definition keeps the demo from drifting from what the
//! registration service's tests prove passes.

use std::time::SystemTime;

use crate::registration::v1 as registration;

/// An environment report that passes every Art. 5(1)-(6) and 12(4) item
/// now: a scanned, clean device on home broadband, a supported and patched
/// OS (Windows 11 25H2, supported until 2027-10-12), firewall on with
/// minimal services, no file-sharing software, paid-grade antivirus with
/// fresh patterns, and the meeting app, connection and browser ready.
pub fn passing_environment() -> registration::EnvironmentReport {
    let now = Some(prost_types::Timestamp::from(SystemTime::now()));
    registration::EnvironmentReport {
        device_security: Some(registration::DeviceSecurityReport {
            compromise_detected: false,
            last_scanned_at: now,
        }),
        connection_type: registration::ConnectionType::HomeBroadband.into(),
        operating_system: Some(registration::OperatingSystemReport {
            name: "Windows".into(),
            version: "11 25H2".into(),
            latest_security_patches_applied: true,
        }),
        firewall: Some(registration::FirewallReport {
            enabled: true,
            minimal_allowed_services: true,
        }),
        installed_software_names: vec!["LibreOffice".into()],
        antivirus: Some(registration::AntivirusReport {
            installed: true,
            product_name: "Security Suite".into(),
            grade: registration::AntivirusGrade::PaidEquivalent.into(),
            patterns_updated_at: now,
        }),
        readiness: Some(registration::SessionReadinessReport {
            meeting_app_ready: true,
            connectivity_checked: true,
            browser_name: "Firefox".into(),
            browser_version: "145".into(),
            browser_up_to_date: true,
        }),
    }
}
