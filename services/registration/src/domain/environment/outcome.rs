//! Art. 5(1)-(6), 12(4): what an environment evaluation found, as domain
//! values, and as the `EnvironmentAttested` event records it.

use chrono::{DateTime, NaiveDate, Utc};
use hellowork_proto::registration::v1 as proto;
use hellowork_values::Article;

use crate::domain::{
    contract::{EnvironmentFailure, EnvironmentItem},
    dates,
};

impl EnvironmentItem {
    /// The clause each item checks: Art. 5(1)-(6) one by one, and the
    /// readiness of Art. 12(4) for the meeting app, the connection and the
    /// browser.
    pub fn article(self) -> Article {
        match self {
            Self::DeviceSecurity => Article::Art5_1,
            Self::InternetConnection => Article::Art5_2,
            Self::OperatingSystem => Article::Art5_3,
            Self::Firewall => Article::Art5_4,
            Self::FileSharingSoftware => Article::Art5_5,
            Self::Antivirus => Article::Art5_6,
            Self::MeetingApp | Self::Connectivity | Self::Browser => Article::Art12_4,
        }
    }
}

impl EnvironmentFailure {
    /// The clause a failure breaks, for eligibility conditions.
    pub fn article(self) -> Article {
        match self {
            Self::CompromiseDetected => Article::Art5_1,
            Self::NotConnected | Self::UnsafePublicNetwork => Article::Art5_2,
            Self::OsSupportEnded | Self::OsUnknown | Self::OsPatchesMissing => Article::Art5_3,
            Self::FirewallDisabled | Self::FirewallNotMinimal => Article::Art5_4,
            Self::FileSharingSoftwarePresent => Article::Art5_5,
            Self::AntivirusMissing
            | Self::AntivirusNotPaidGrade
            | Self::AntivirusPatternsOutdated => Article::Art5_6,
            Self::MeetingAppNotReady | Self::ConnectivityNotChecked | Self::BrowserOutdated => {
                Article::Art12_4
            }
        }
    }
}

/// One evaluated item and every reason it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    pub item: EnvironmentItem,
    pub passed: bool,
    pub failures: Vec<EnvironmentFailure>,
}

impl ItemResult {
    /// The clause the item checks.
    pub fn article(&self) -> Article {
        self.item.article()
    }

    /// As the event records it, with its article.
    pub fn message(&self) -> proto::EnvironmentItemResult {
        proto::EnvironmentItemResult {
            item: self.item.into(),
            passed: self.passed,
            failures: self.failures.iter().copied().map(i32::from).collect(),
            article: self.article().to_string(),
        }
    }

    /// The result an event records; `None` for an item this build does not
    /// know (failures it does not know are left out alike).
    pub fn of(message: &proto::EnvironmentItemResult) -> Option<Self> {
        Some(Self {
            item: EnvironmentItem::try_from(message.item).ok()?,
            passed: message.passed,
            failures: message
                .failures
                .iter()
                .filter_map(|failure| EnvironmentFailure::try_from(*failure).ok())
                .collect(),
        })
    }
}

/// Art. 5(3): the reported OS and what the lifecycle table says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsSupport {
    pub os_name: String,
    pub os_version: String,
    /// `None` when the table does not know the release.
    pub support_ends_on: Option<NaiveDate>,
    pub lifecycle_table_version: String,
    pub lifecycle_source: String,
}

impl OsSupport {
    pub fn message(&self) -> proto::OsSupportStatus {
        proto::OsSupportStatus {
            os_name: self.os_name.clone(),
            os_version: self.os_version.clone(),
            support_ends_on: self.support_ends_on.map(dates::message),
            lifecycle_table_version: self.lifecycle_table_version.clone(),
            lifecycle_source: self.lifecycle_source.clone(),
        }
    }

    pub fn of(message: &proto::OsSupportStatus) -> Self {
        Self {
            os_name: message.os_name.clone(),
            os_version: message.os_version.clone(),
            support_ends_on: message.support_ends_on.as_ref().and_then(dates::of),
            lifecycle_table_version: message.lifecycle_table_version.clone(),
            lifecycle_source: message.lifecycle_source.clone(),
        }
    }
}

/// The evaluated attestation.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentEvaluation {
    pub passed: bool,
    /// One result per item, in `EnvironmentItem` order.
    pub items: Vec<ItemResult>,
    pub os_support: OsSupport,
    pub file_sharing_found: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_os_support_round_trip_through_the_event() {
        let result = ItemResult {
            item: EnvironmentItem::OperatingSystem,
            passed: false,
            failures: vec![
                EnvironmentFailure::OsSupportEnded,
                EnvironmentFailure::OsPatchesMissing,
            ],
        };
        let message = result.message();
        assert_eq!(message.article, "Art. 5(3)");
        assert_eq!(ItemResult::of(&message), Some(result));
        let os = OsSupport {
            os_name: "Windows".into(),
            os_version: "11 25H2".into(),
            support_ends_on: NaiveDate::from_ymd_opt(2027, 10, 12),
            lifecycle_table_version: "2026-11-25".into(),
            lifecycle_source: "https://example.jp".into(),
        };
        assert_eq!(OsSupport::of(&os.message()), os);
    }

    #[test]
    fn every_failure_cites_the_clause_of_its_item() {
        use EnvironmentFailure as F;
        use EnvironmentItem as I;
        for (item, failures) in [
            (I::DeviceSecurity, &[F::CompromiseDetected][..]),
            (
                I::InternetConnection,
                &[F::NotConnected, F::UnsafePublicNetwork],
            ),
            (
                I::OperatingSystem,
                &[F::OsSupportEnded, F::OsUnknown, F::OsPatchesMissing],
            ),
            (I::Firewall, &[F::FirewallDisabled, F::FirewallNotMinimal]),
            (I::FileSharingSoftware, &[F::FileSharingSoftwarePresent]),
            (
                I::Antivirus,
                &[
                    F::AntivirusMissing,
                    F::AntivirusNotPaidGrade,
                    F::AntivirusPatternsOutdated,
                ],
            ),
            (I::MeetingApp, &[F::MeetingAppNotReady]),
            (I::Connectivity, &[F::ConnectivityNotChecked]),
            (I::Browser, &[F::BrowserOutdated]),
        ] {
            for failure in failures {
                assert_eq!(failure.article(), item.article(), "{failure:?}");
            }
        }
    }
}
