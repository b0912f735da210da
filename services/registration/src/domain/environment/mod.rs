//! Art. 5(1)-(6), 12(4): the environment a person attests, evaluated item by
//! item, every failure with its clause. A failing item is recorded, not
//! refused; eligibility (see `eligibility`) reads the record.
//!
//! - `file_sharing`: the Art. 5(5) list and its matching;
//! - `outcome`: what an evaluation found, and as its event records it.

mod file_sharing;
mod outcome;

use chrono::{DateTime, Duration, Utc};
use hellowork_values::Article;

pub use file_sharing::FileSharingList;
pub use outcome::{EnvironmentEvaluation, ItemResult, OsSupport};

use super::{
    contract::{
        AntivirusGrade, ConnectionType, EnvironmentFailure as Failure, EnvironmentItem as Item,
    },
    lifecycle::OsLifecycle,
    tokyo_date,
};

/// Art. 5(3), 12(4): the reported operating system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatingSystemReport {
    pub name: String,
    pub version: String,
    pub latest_security_patches_applied: bool,
}

/// Art. 5(6): the reported antivirus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntivirusReport {
    pub installed: bool,
    pub grade: AntivirusGrade,
    pub patterns_updated_at: Option<DateTime<Utc>>,
}

/// What the person (or the front system's check) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentReport {
    pub compromise_detected: bool,
    pub connection: ConnectionType,
    pub operating_system: OperatingSystemReport,
    pub firewall_enabled: bool,
    pub firewall_minimal_allowed_services: bool,
    pub installed_software: Vec<String>,
    pub antivirus: AntivirusReport,
    pub meeting_app_ready: bool,
    pub connectivity_checked: bool,
    pub browser_up_to_date: bool,
}

/// The office's settings the evaluation depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentPolicy {
    pub lifecycle: OsLifecycle,
    pub file_sharing: FileSharingList,
    /// Art. 5(6): oldest acceptable antivirus pattern file.
    pub pattern_max_age: Duration,
    /// How long an attestation counts: patches and patterns age.
    pub validity: Duration,
}

/// Evaluates `report` at `at` under `policy`.
pub fn evaluate_environment(
    report: &EnvironmentReport,
    policy: &EnvironmentPolicy,
    at: DateTime<Utc>,
) -> EnvironmentEvaluation {
    let os_entry = policy.lifecycle.lookup(
        &report.operating_system.name,
        &report.operating_system.version,
    );
    let file_sharing_found: Vec<String> = report
        .installed_software
        .iter()
        .filter(|name| policy.file_sharing.matches(name))
        .cloned()
        .collect();
    let items = vec![
        // Art. 5(1): the device is free of infection or other compromise.
        item(
            Item::DeviceSecurity,
            Article::Art5_1,
            [report
                .compromise_detected
                .then_some(Failure::CompromiseDetected)],
        ),
        // Art. 5(2): connected, and not through a free public service of
        // unknown confidentiality, safety or route management.
        item(
            Item::InternetConnection,
            Article::Art5_2,
            [match report.connection {
                ConnectionType::None => Some(Failure::NotConnected),
                ConnectionType::FreePublicWifi => Some(Failure::UnsafePublicNetwork),
                ConnectionType::HomeBroadband
                | ConnectionType::MobileNetwork
                | ConnectionType::ManagedNetwork => None,
            }],
        ),
        // Art. 5(3), 12(4): the OS is in the lifecycle table, its vendor
        // support has not ended before the check date, and its latest
        // security patches are applied.
        item(
            Item::OperatingSystem,
            Article::Art5_3,
            [
                match os_entry {
                    None => Some(Failure::OsUnknown),
                    Some(entry) if entry.support_end < tokyo_date(at) => {
                        Some(Failure::OsSupportEnded)
                    }
                    Some(_) => None,
                },
                (!report.operating_system.latest_security_patches_applied)
                    .then_some(Failure::OsPatchesMissing),
            ],
        ),
        // Art. 5(4), 12(4): a personal firewall is on and allows only the
        // services needed ("minimal" is meaningless when it is off).
        item(
            Item::Firewall,
            Article::Art5_4,
            [
                (!report.firewall_enabled).then_some(Failure::FirewallDisabled),
                (report.firewall_enabled && !report.firewall_minimal_allowed_services)
                    .then_some(Failure::FirewallNotMinimal),
            ],
        ),
        // Art. 5(5): no file-sharing software (Winny, Share, …) installed.
        item(
            Item::FileSharingSoftware,
            Article::Art5_5,
            [(!file_sharing_found.is_empty()).then_some(Failure::FileSharingSoftwarePresent)],
        ),
        // Art. 5(6): antivirus of paid-product grade with current patterns.
        item(
            Item::Antivirus,
            Article::Art5_6,
            antivirus_failures(&report.antivirus, policy, at),
        ),
        // Art. 12(4): the designated meeting app (Art. 4) is ready.
        item(
            Item::MeetingApp,
            Article::Art12_4,
            [(!report.meeting_app_ready).then_some(Failure::MeetingAppNotReady)],
        ),
        // Art. 12(4): the connection has been checked.
        item(
            Item::Connectivity,
            Article::Art12_4,
            [(!report.connectivity_checked).then_some(Failure::ConnectivityNotChecked)],
        ),
        // Art. 12(4): browser and software at their latest versions.
        item(
            Item::Browser,
            Article::Art12_4,
            [(!report.browser_up_to_date).then_some(Failure::BrowserOutdated)],
        ),
    ];
    let os_support = OsSupport {
        os_name: report.operating_system.name.clone(),
        os_version: report.operating_system.version.clone(),
        support_ends_on: os_entry.map(|entry| entry.support_end),
        lifecycle_table_version: policy.lifecycle.table_version.clone(),
        lifecycle_source: os_entry
            .map(|entry| entry.source.clone())
            .unwrap_or_default(),
    };
    EnvironmentEvaluation {
        passed: items.iter().all(|item| item.passed),
        items,
        os_support,
        file_sharing_found,
        expires_at: at + policy.validity,
    }
}

/// Art. 5(6): installed, paid-product grade, patterns no older than the
/// configured limit (missing pattern dates count as outdated).
fn antivirus_failures(
    antivirus: &AntivirusReport,
    policy: &EnvironmentPolicy,
    at: DateTime<Utc>,
) -> Vec<Option<Failure>> {
    if !antivirus.installed {
        return vec![Some(Failure::AntivirusMissing)];
    }
    let outdated = antivirus
        .patterns_updated_at
        .is_none_or(|updated| at - updated > policy.pattern_max_age);
    vec![
        (antivirus.grade == AntivirusGrade::Free).then_some(Failure::AntivirusNotPaidGrade),
        outdated.then_some(Failure::AntivirusPatternsOutdated),
    ]
}

/// One item's result; `article` is the clause the rule above it cites,
/// the one the item reports (`EnvironmentItem::article`).
fn item(
    item: Item,
    article: Article,
    failures: impl IntoIterator<Item = Option<Failure>>,
) -> ItemResult {
    debug_assert_eq!(article, item.article(), "{item:?}");
    let failures: Vec<Failure> = failures.into_iter().flatten().collect();
    ItemResult {
        item,
        passed: failures.is_empty(),
        failures,
    }
}

#[cfg(test)]
mod tests;
