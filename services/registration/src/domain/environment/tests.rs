//! Tests of the environment evaluation, item by item.
use super::*;
use crate::domain::OsLifecycle;

fn at() -> DateTime<Utc> {
    "2026-11-25T01:00:00Z".parse().unwrap()
}

fn policy() -> EnvironmentPolicy {
    EnvironmentPolicy {
        lifecycle: OsLifecycle::embedded(),
        file_sharing: FileSharingList::default(),
        pattern_max_age: Duration::days(7),
        validity: Duration::days(30),
    }
}

/// A report on which every item passes at [`at`].
fn good_report() -> EnvironmentReport {
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
            result
                .failures
                .iter()
                .map(|f| (result.item, *f, result.article().to_string()))
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
