//! Art. 7(2), 8: what a job seeker may see of the disclosures of their
//! records. A disclosure under a legal request is shown to the persons
//! whose records it gave once the request's notification deferral has
//! passed (set at approval, with a reason, under a ceiling), and then only
//! what the person needs to hold the office to account — agency, legal
//! basis, date and how many of their records — never the case file
//! (case number, justification, scope, the officers).

use super::legal::LegalRequest;
use chrono::{DateTime, Utc};

/// Art. 7(2): whether the persons in the request's scope may be told of its
/// disclosures at `now`: the request was approved (it has a notification
/// time) and its deferral has passed.
pub fn due(request: &LegalRequest, now: DateTime<Utc>) -> bool {
    request
        .notify_subjects_after
        .is_some_and(|after| after <= now)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::legal::Filing;

    fn request(after: Option<DateTime<Utc>>) -> LegalRequest {
        LegalRequest {
            notify_subjects_after: after,
            ..LegalRequest::filed(Filing::default(), "officer".into(), String::new(), 1)
        }
    }

    #[test]
    fn a_disclosure_is_told_once_its_deferral_has_passed_and_never_before() {
        let now = Utc::now();
        assert!(due(&request(Some(now - Duration::seconds(1))), now));
        assert!(due(&request(Some(now)), now));
        assert!(!due(&request(Some(now + Duration::days(30))), now));
    }

    #[test]
    fn a_request_never_approved_has_nothing_to_tell() {
        assert!(!due(&request(None), Utc::now()));
    }
}
