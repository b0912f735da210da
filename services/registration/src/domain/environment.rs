//! Art. 5(1)-(6), 12(4): the environment a person attests, evaluated item by
//! item, every failure with its clause. A failing item is recorded, not
//! refused; eligibility (see `eligibility`) reads the record.

use chrono::{DateTime, Datelike, Duration, Utc};
use hellowork_proto::registration::v1::{
    Date, EnvironmentFailureReason as Failure, EnvironmentItem as Item, EnvironmentItemResult,
    OsSupportStatus,
};
use hellowork_values::Article;
use unicode_normalization::UnicodeNormalization;

use super::{lifecycle::OsLifecycle, tokyo_date};

/// Art. 5(2): how the device reaches the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionType {
    None,
    HomeBroadband,
    MobileNetwork,
    ManagedNetwork,
    FreePublicWifi,
}

/// Art. 5(6): grade of the installed antivirus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AntivirusGrade {
    Free,
    PaidEquivalent,
}

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

/// Art. 5(5): the file-sharing software the office forbids, configurable
/// (`HELLOWORK_FILE_SHARING_SOFTWARE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSharingList(Vec<String>);

impl FileSharingList {
    /// Named in Art. 5(5) (Winny, Share) and the other peer-to-peer clients
    /// the office's guidance lists.
    pub const DEFAULT: &'static [&'static str] = &[
        "Winny",
        "Share",
        "Perfect Dark",
        "Cabos",
        "LimeWire",
        "WinMX",
        "BitTorrent",
        "µTorrent",
        "uTorrent",
        "qBittorrent",
        "BitComet",
        "Vuze",
        "Azureus",
        "Deluge",
        "Transmission",
        "eMule",
        "Shareaza",
        "FrostWire",
        "Xunlei",
    ];

    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(
            names
                .into_iter()
                .map(|name| fold(name.as_ref()))
                .filter(|name| !name.is_empty())
                .collect(),
        )
    }

    /// Whether an installed program's name is on the list: the folded name
    /// starts with a listed name not followed by a letter, so `Share EX2`
    /// and `Winny2` match while `SharePoint` does not.
    pub fn matches(&self, installed: &str) -> bool {
        let installed = fold(installed);
        self.0.iter().any(|listed| {
            installed
                .strip_prefix(listed.as_str())
                .is_some_and(|rest| !rest.starts_with(char::is_alphabetic))
        })
    }
}

impl Default for FileSharingList {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
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

/// The evaluated attestation.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentEvaluation {
    pub passed: bool,
    /// One result per item, in `EnvironmentItem` order.
    pub items: Vec<EnvironmentItemResult>,
    pub os_support: OsSupportStatus,
    pub file_sharing_found: Vec<String>,
    pub expires_at: DateTime<Utc>,
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
    let os_support = OsSupportStatus {
        os_name: report.operating_system.name.clone(),
        os_version: report.operating_system.version.clone(),
        support_ends_on: os_entry.map(|entry| Date {
            year: entry.support_end.year(),
            month: i32::try_from(entry.support_end.month()).unwrap_or_default(),
            day: i32::try_from(entry.support_end.day()).unwrap_or_default(),
        }),
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

fn item(
    item: Item,
    article: Article,
    failures: impl IntoIterator<Item = Option<Failure>>,
) -> EnvironmentItemResult {
    let failures: Vec<i32> = failures.into_iter().flatten().map(i32::from).collect();
    EnvironmentItemResult {
        item: item.into(),
        passed: failures.is_empty(),
        failures,
        article: article.to_string(),
    }
}

/// The article of one failure reason, for eligibility conditions.
pub(super) fn failure_article(failure: Failure) -> Article {
    match failure {
        Failure::CompromiseDetected => Article::Art5_1,
        Failure::NotConnected | Failure::UnsafePublicNetwork => Article::Art5_2,
        Failure::OsSupportEnded | Failure::OsUnknown | Failure::OsPatchesMissing => Article::Art5_3,
        Failure::FirewallDisabled | Failure::FirewallNotMinimal => Article::Art5_4,
        Failure::FileSharingSoftwarePresent => Article::Art5_5,
        Failure::AntivirusMissing
        | Failure::AntivirusNotPaidGrade
        | Failure::AntivirusPatternsOutdated => Article::Art5_6,
        Failure::MeetingAppNotReady
        | Failure::ConnectivityNotChecked
        | Failure::BrowserOutdated
        | Failure::Unspecified => Article::Art12_4,
    }
}

fn fold(name: &str) -> String {
    name.trim().nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at() -> DateTime<Utc> {
        "2026-11-25T01:00:00Z".parse().unwrap()
    }

    pub(crate) fn policy() -> EnvironmentPolicy {
        EnvironmentPolicy {
            lifecycle: OsLifecycle::embedded(),
            file_sharing: FileSharingList::default(),
            pattern_max_age: Duration::days(7),
            validity: Duration::days(30),
        }
    }

    /// A report on which every item passes at [`at`].
    pub(crate) fn good_report() -> EnvironmentReport {
        EnvironmentReport {
            compromise_detected: false,
            connection: ConnectionType::HomeBroadband,
            operating_system: OperatingSystemReport {
                name: "Windows".into(),
                version: "11 25H2".into(),
                latest_security_patches_applied: true,
            },
            firewall_enabled: true,
            firewall_minimal_allowed_services: true,
            installed_software: vec!["Microsoft Office".into(), "SharePoint".into()],
            antivirus: AntivirusReport {
                installed: true,
                grade: AntivirusGrade::PaidEquivalent,
                patterns_updated_at: Some(at() - Duration::hours(5)),
            },
            meeting_app_ready: true,
            connectivity_checked: true,
            browser_up_to_date: true,
        }
    }

    fn failures(report: &EnvironmentReport) -> Vec<(Item, Failure, String)> {
        evaluate_environment(report, &policy(), at())
            .items
            .iter()
            .flat_map(|result| {
                result.failures.iter().map(|f| {
                    (
                        result.item(),
                        Failure::try_from(*f).unwrap(),
                        result.article.clone(),
                    )
                })
            })
            .collect()
    }

    fn fails_with(
        change: impl FnOnce(&mut EnvironmentReport),
        item: Item,
        failure: Failure,
        article: &str,
    ) {
        let mut report = good_report();
        change(&mut report);
        assert_eq!(failures(&report), vec![(item, failure, article.to_owned())]);
    }

    #[test]
    fn a_good_environment_passes_every_item_and_expires_after_the_validity() {
        let evaluation = evaluate_environment(&good_report(), &policy(), at());
        assert!(evaluation.passed);
        assert_eq!(evaluation.items.len(), 9);
        assert_eq!(evaluation.expires_at, at() + Duration::days(30));
        assert_eq!(evaluation.os_support.lifecycle_table_version, "2026-11-25");
        assert!(
            evaluation
                .os_support
                .lifecycle_source
                .starts_with("https://learn.microsoft.com")
        );
    }

    #[test]
    fn art_5_1_an_infected_device_fails() {
        fails_with(
            |r| r.compromise_detected = true,
            Item::DeviceSecurity,
            Failure::CompromiseDetected,
            "Art. 5(1)",
        );
    }

    #[test]
    fn art_5_2_no_connection_or_free_public_wifi_fails() {
        fails_with(
            |r| r.connection = ConnectionType::None,
            Item::InternetConnection,
            Failure::NotConnected,
            "Art. 5(2)",
        );
        fails_with(
            |r| r.connection = ConnectionType::FreePublicWifi,
            Item::InternetConnection,
            Failure::UnsafePublicNetwork,
            "Art. 5(2)",
        );
    }

    #[test]
    fn art_5_3_an_os_out_of_support_unknown_or_unpatched_fails() {
        let os = |name: &str, version: &str| {
            let (name, version) = (name.to_owned(), version.to_owned());
            move |r: &mut EnvironmentReport| {
                r.operating_system.name = name;
                r.operating_system.version = version;
            }
        };
        fails_with(
            os("Windows", "10 22H2"),
            Item::OperatingSystem,
            Failure::OsSupportEnded,
            "Art. 5(3)",
        );
        fails_with(
            os("macOS", "12.7.6"),
            Item::OperatingSystem,
            Failure::OsSupportEnded,
            "Art. 5(3)",
        );
        fails_with(
            os("Android", "11"),
            Item::OperatingSystem,
            Failure::OsSupportEnded,
            "Art. 5(3)",
        );
        fails_with(
            os("Windows", "XP"),
            Item::OperatingSystem,
            Failure::OsUnknown,
            "Art. 5(3)",
        );
        fails_with(
            |r| r.operating_system.latest_security_patches_applied = false,
            Item::OperatingSystem,
            Failure::OsPatchesMissing,
            "Art. 5(3)",
        );
    }

    #[test]
    fn art_5_3_support_counts_until_the_last_day_in_tokyo() {
        let mut report = good_report();
        report.operating_system.version = "11 25H2".into();
        let last_day = "2027-10-12T14:59:59Z".parse().unwrap(); // 23:59:59 in Tokyo
        let mut fresh = report.clone();
        fresh.antivirus.patterns_updated_at = Some(last_day);
        assert!(evaluate_environment(&fresh, &policy(), last_day).passed);
        let next_day: DateTime<Utc> = "2027-10-12T15:00:00Z".parse().unwrap();
        fresh.antivirus.patterns_updated_at = Some(next_day);
        assert!(!evaluate_environment(&fresh, &policy(), next_day).passed);
    }

    #[test]
    fn art_5_4_a_disabled_or_permissive_firewall_fails() {
        fails_with(
            |r| r.firewall_enabled = false,
            Item::Firewall,
            Failure::FirewallDisabled,
            "Art. 5(4)",
        );
        fails_with(
            |r| r.firewall_minimal_allowed_services = false,
            Item::Firewall,
            Failure::FirewallNotMinimal,
            "Art. 5(4)",
        );
    }

    #[test]
    fn art_5_5_file_sharing_software_fails_and_only_matches_are_kept() {
        let mut report = good_report();
        report
            .installed_software
            .extend(["Winny 2.0b7.1".to_owned(), "ｓｈａｒｅ EX2".to_owned()]);
        let evaluation = evaluate_environment(&report, &policy(), at());
        assert_eq!(
            evaluation.file_sharing_found,
            ["Winny 2.0b7.1", "ｓｈａｒｅ EX2"]
        );
        fails_with(
            |r| r.installed_software.push("Perfect Dark".into()),
            Item::FileSharingSoftware,
            Failure::FileSharingSoftwarePresent,
            "Art. 5(5)",
        );
        let custom = FileSharingList::new(["Foo"]);
        assert!(custom.matches("foo 1.0") && !custom.matches("Winny") && !custom.matches("Foobar"));
    }

    #[test]
    fn art_5_6_missing_free_or_outdated_antivirus_fails() {
        fails_with(
            |r| r.antivirus.installed = false,
            Item::Antivirus,
            Failure::AntivirusMissing,
            "Art. 5(6)",
        );
        fails_with(
            |r| r.antivirus.grade = AntivirusGrade::Free,
            Item::Antivirus,
            Failure::AntivirusNotPaidGrade,
            "Art. 5(6)",
        );
        fails_with(
            |r| r.antivirus.patterns_updated_at = Some(at() - Duration::days(8)),
            Item::Antivirus,
            Failure::AntivirusPatternsOutdated,
            "Art. 5(6)",
        );
        fails_with(
            |r| r.antivirus.patterns_updated_at = None,
            Item::Antivirus,
            Failure::AntivirusPatternsOutdated,
            "Art. 5(6)",
        );
    }

    #[test]
    fn art_12_4_app_connectivity_and_browser_must_be_ready() {
        fails_with(
            |r| r.meeting_app_ready = false,
            Item::MeetingApp,
            Failure::MeetingAppNotReady,
            "Art. 12(4)",
        );
        fails_with(
            |r| r.connectivity_checked = false,
            Item::Connectivity,
            Failure::ConnectivityNotChecked,
            "Art. 12(4)",
        );
        fails_with(
            |r| r.browser_up_to_date = false,
            Item::Browser,
            Failure::BrowserOutdated,
            "Art. 12(4)",
        );
    }

    #[test]
    fn every_failing_item_is_reported_at_once() {
        let mut report = good_report();
        report.compromise_detected = true;
        report.connection = ConnectionType::FreePublicWifi;
        report.firewall_enabled = false;
        report.browser_up_to_date = false;
        assert_eq!(failures(&report).len(), 4);
    }
}
