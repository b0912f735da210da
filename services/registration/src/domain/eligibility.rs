//! The eligibility decision (Art. 2(1)-(3), 5, 6, 12(1), 12(4)): a pure
//! function of the job seeker, what the consent service and scheduling have
//! told us, and the instant asked about. Every unmet condition is listed.

use chrono::{DateTime, Utc};
use hellowork_values::Article;

use super::{
    contract::{
        EligibilityReason as Reason, EnvironmentFailure as Failure, EnvironmentItem,
        RegistrationStatus,
    },
    job_seeker::JobSeeker,
    tokyo_date,
};

/// One condition of eligibility not met, with the clauses it is owed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetCondition {
    pub reason: Reason,
    pub articles: Vec<Article>,
    /// The failing item and why, for [`Reason::EnvironmentItemFailed`].
    pub environment: Option<(EnvironmentItem, Failure)>,
}

impl UnmetCondition {
    /// The citation callers see: `Art. 2(1), 6`.
    pub fn article(&self) -> String {
        Article::cite(&self.articles)
    }
}

/// One consent receipt as learned from the consent service's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Unset if only the withdrawal has been seen so far.
    pub consented_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// A person's consent at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    Present,
    /// Consent was given and every consent given has been withdrawn.
    Withdrawn,
    Missing,
}

/// One refusal as learned from scheduling's events (Art. 12(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalRecord {
    /// Unset if only the lifting has been seen so far.
    pub refused_at: Option<DateTime<Utc>>,
    pub lifted_at: Option<DateTime<Utc>>,
}

/// Art. 2(1), 4, 6: consent is present at `at` when a receipt given by then
/// has not been withdrawn by then. Under Art. 13 a consent binds later
/// revisions of the terms without re-consent, so revisions do not end it.
pub fn consent_status(records: &[ConsentRecord], at: DateTime<Utc>) -> ConsentStatus {
    let given: Vec<&ConsentRecord> = records
        .iter()
        .filter(|r| r.consented_at.is_some_and(|c| c <= at))
        .collect();
    if given.iter().any(|r| r.withdrawn_at.is_none_or(|w| w > at)) {
        ConsentStatus::Present
    } else if given.is_empty() {
        ConsentStatus::Missing
    } else {
        ConsentStatus::Withdrawn
    }
}

/// Art. 12(1): refused at `at` when a refusal made by then is not lifted by
/// then.
pub fn is_refused(records: &[RefusalRecord], at: DateTime<Utc>) -> bool {
    records.iter().any(|r| {
        r.refused_at.is_some_and(|refused| refused <= at) && r.lifted_at.is_none_or(|l| l > at)
    })
}

/// Every condition of eligibility not met at `at`; eligible exactly when
/// the list is empty.
pub fn eligibility(
    job_seeker: &JobSeeker,
    consents: &[ConsentRecord],
    refusals: &[RefusalRecord],
    at: DateTime<Utc>,
) -> Vec<UnmetCondition> {
    let mut unmet = Vec::new();
    let mut add = |reason: Reason, articles: &[Article]| unmet.push(condition(reason, articles));
    // Art. 2(2): the job-seeker registration is complete.
    let complete = job_seeker
        .registration()
        .is_some_and(|r| r.status == RegistrationStatus::Complete);
    if !complete {
        add(Reason::RegistrationIncomplete, &[Article::Art2_2]);
    }
    // Art. 8: an erased person's record takes no further services.
    if job_seeker.is_erased() {
        add(Reason::Erased, &[Article::Art8]);
    }
    // Art. 2(1), 6: the person applied for online services.
    if job_seeker.latest_application().is_none() {
        add(Reason::NotApplied, &[Article::Art2_1, Article::Art6]);
    }
    // Art. 2(1), 4, 6: a consent to the terms is present, not withdrawn.
    match consent_status(consents, at) {
        ConsentStatus::Present => {}
        ConsentStatus::Missing => add(Reason::ConsentMissing, &[Article::Art2_1]),
        ConsentStatus::Withdrawn => add(Reason::ConsentWithdrawn, &[Article::Art2_1]),
    }
    // Art. 2(3): a capable device.
    if !job_seeker.has_capable_device() {
        add(Reason::NoCapableDevice, &[Article::Art2_3]);
    }
    // Art. 5, 12(4): the environment of a capable device, attested,
    // unexpired, every item passing at `at`.
    match job_seeker.current_environment() {
        None => add(
            Reason::EnvironmentNotAttested,
            &[Article::Art5, Article::Art12_4],
        ),
        Some(environment) => {
            let expired = environment
                .expires_at
                .is_none_or(|expires_at| at > expires_at);
            if expired {
                add(
                    Reason::EnvironmentAttestationExpired,
                    &[Article::Art5, Article::Art12_4],
                );
            }
            let mut os_support_ended_reported = false;
            for item in &environment.items {
                for failure in &item.failures {
                    os_support_ended_reported |= *failure == Failure::OsSupportEnded;
                    unmet.push(item_condition(item.item, *failure));
                }
            }
            // Art. 5(3): an OS supported when attested may reach its support
            // end before the instant asked about (e.g. the session date).
            let support_end = environment
                .os_support
                .as_ref()
                .and_then(|os| os.support_ends_on);
            if !os_support_ended_reported && support_end.is_some_and(|end| end < tokyo_date(at)) {
                unmet.push(item_condition(
                    EnvironmentItem::OperatingSystem,
                    Failure::OsSupportEnded,
                ));
            }
        }
    }
    // Art. 12(1): the office has not refused the person's online services.
    if is_refused(refusals, at) {
        unmet.push(condition(Reason::Refused, &[Article::Art12_1]));
    }
    unmet
}

fn condition(reason: Reason, articles: &[Article]) -> UnmetCondition {
    UnmetCondition {
        reason,
        articles: articles.to_vec(),
        environment: None,
    }
}

/// Art. 5(1)-(6), 12(4): a failing item, citing the clause its failure breaks.
fn item_condition(item: EnvironmentItem, failure: Failure) -> UnmetCondition {
    UnmetCondition {
        reason: Reason::EnvironmentItemFailed,
        articles: vec![failure.article()],
        environment: Some((item, failure)),
    }
}
