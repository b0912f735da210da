//! Art. 2: whether a person may book, asked of the registration service
//! (`CheckEligibility`) and the consent service (`GetConsentStatus`) over
//! gRPC as `system`, within what is left of the booking's deadline. A peer
//! that cannot be asked gives UNAVAILABLE, one too slow for the deadline
//! DEADLINE_EXCEEDED: scheduling never guesses.

use chrono::{DateTime, Utc};
use hellowork_platform::{Article, ArticleViolation, ServiceError, SystemAuth};
use hellowork_proto::{
    consent::v1::{
        ConsentStatus, GetConsentStatusRequest, consent_service_client::ConsentServiceClient,
    },
    registration::v1::{
        CheckEligibilityRequest, EligibilityReason,
        registration_service_client::RegistrationServiceClient,
    },
};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};

use crate::domain::timestamp;

/// Clients of the two peers, on lazily connected channels.
#[derive(Debug, Clone)]
pub struct EligibilityClient {
    registration: RegistrationServiceClient<InterceptedService<Channel, SystemAuth>>,
    consent: ConsentServiceClient<InterceptedService<Channel, SystemAuth>>,
}

/// The first article a peer's condition cites (`Art. 2(1), 6` → 2(1); the
/// full citation stays in the violation's description); one no clause
/// matches falls back to Art. 2, the eligibility article.
pub fn first_article(text: &str) -> Article {
    Article::first_cited(text).unwrap_or(Article::Art2)
}

fn peer_failed(peer: &'static str, status: &tonic::Status) -> ServiceError {
    tracing::warn!(peer, code = ?status.code(), "eligibility peer call failed");
    ServiceError::from_peer(peer, status)
}

impl EligibilityClient {
    pub fn new(registration: Channel, consent: Channel, auth: SystemAuth) -> Self {
        Self {
            registration: RegistrationServiceClient::with_interceptor(registration, auth.clone()),
            consent: ConsentServiceClient::with_interceptor(consent, auth),
        }
    }

    /// Every unmet condition of eligibility at `at` (the session start), or
    /// why a peer could not say ([`ServiceError::from_peer`]).
    pub async fn unmet(
        &self,
        job_seeker_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<ArticleViolation>, ServiceError> {
        let mut registration = self.registration.clone();
        let mut consent = self.consent.clone();
        let (eligibility, consent_status) = tokio::join!(
            registration.check_eligibility(CheckEligibilityRequest {
                job_seeker_id: job_seeker_id.to_owned(),
                at: Some(timestamp(at)),
            }),
            consent.get_consent_status(GetConsentStatusRequest {
                job_seeker_id: job_seeker_id.to_owned(),
                at: Some(timestamp(at)),
            }),
        );
        let mut unmet = Vec::new();
        match eligibility {
            Ok(response) => {
                for condition in response.into_inner().unmet_conditions {
                    unmet.push(ArticleViolation {
                        article: first_article(&condition.article),
                        subject: condition.reason().as_str_name().to_owned(),
                        description: format!("{}: {:?}", condition.article, condition.reason()),
                    });
                }
            }
            // Art. 2(2): a person the registration service does not know has
            // no job-seeker registration.
            Err(status) if status.code() == Code::NotFound => unmet.push(ArticleViolation {
                article: Article::Art2_2,
                subject: EligibilityReason::RegistrationIncomplete
                    .as_str_name()
                    .to_owned(),
                description: "Art. 2(2): the person is not registered as a job seeker".to_owned(),
            }),
            Err(status) => return Err(peer_failed("the registration service", &status)),
        }
        let status = match consent_status {
            Ok(response) => response.into_inner().status(),
            Err(status) if status.code() == Code::NotFound => ConsentStatus::None,
            Err(status) => return Err(peer_failed("the consent service", &status)),
        };
        // Art. 2(1), 4, 6: consent to the terms, from the consent service
        // itself (registration's view of it may lag).
        let consent_reason = match status {
            ConsentStatus::Consented => None,
            ConsentStatus::Withdrawn => Some(EligibilityReason::ConsentWithdrawn),
            ConsentStatus::None | ConsentStatus::Unspecified => {
                Some(EligibilityReason::ConsentMissing)
            }
        };
        // Registration's own consent conditions are replaced by the consent
        // service's answer, the authority on consent.
        unmet.retain(|v| {
            v.subject != EligibilityReason::ConsentMissing.as_str_name()
                && v.subject != EligibilityReason::ConsentWithdrawn.as_str_name()
        });
        if let Some(reason) = consent_reason {
            unmet.push(ArticleViolation {
                article: Article::Art2_1,
                subject: reason.as_str_name().to_owned(),
                description: format!("Art. 2(1): consent to the terms of use: {reason:?}"),
            });
        }
        Ok(unmet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_articles_map_to_their_first_article() {
        assert_eq!(first_article("Art. 2(1), 6"), Article::Art2_1);
        assert_eq!(first_article("Art. 5, 12(4)"), Article::Art5);
        assert_eq!(first_article("Art. 5(3)"), Article::Art5_3);
        assert_eq!(first_article("Art. 12(1)"), Article::Art12_1);
        assert_eq!(first_article("something odd"), Article::Art2);
    }
}
