//! Art. 4, 6: applying for online services counts as agreeing to the terms
//! and to the meeting app's terms. This consumer of registration's stream
//! turns each `OnlineServicesApplied` into a `RecordConsent` command with
//! method DEEMED_BY_APPLICATION.
//!
//! It runs as a projection (durable consumer, inbox, checkpoint) whose
//! "update" is a command. The command's append is not part of the inbox
//! transaction, so a redelivery can repeat it; the receipt id is derived
//! from the application id, so the aggregate recognises the repetition and
//! writes nothing.

use hellowork_eventstore::{EventMetadata, Projection, ProjectionError, RecordedEvent};
use hellowork_proto::registration::v1::OnlineServicesApplied;
use prost::Message;
use sqlx::PgConnection;

use crate::{
    commands::{ConsentInput, ConsentService},
    domain::{
        consent::{AgreedTerms, ConsentMethod},
        values::{JobSeekerId, LanguageTag, derived_id, parse_uuid},
    },
    projections::rejected,
};

/// The durable consumer's name.
pub const NAME: &str = "consent-deemed-consent";

/// Records deemed consent from applications.
#[derive(Debug)]
pub struct DeemedConsent {
    service: ConsentService,
}

impl DeemedConsent {
    pub fn new(service: ConsentService) -> Self {
        Self { service }
    }
}

/// The receipt id of the consent an application counts as (Art. 6): the
/// same application always yields the same receipt.
pub fn receipt_id_for(application_id: uuid::Uuid) -> uuid::Uuid {
    derived_id("deemed-consent", &application_id.to_string())
}

/// The command an application amounts to, or why it cannot be read.
fn input_from(event: &RecordedEvent) -> Result<ConsentInput, String> {
    let applied =
        OnlineServicesApplied::decode(event.payload.as_slice()).map_err(|e| e.to_string())?;
    let application_id =
        parse_uuid(&applied.application_id).map_err(|e| format!("application_id {e}"))?;
    let job_seeker_id =
        JobSeekerId::new(&applied.job_seeker_id).map_err(|e| format!("job_seeker_id {e}"))?;
    let language = if applied.language.is_empty() {
        LanguageTag::japanese()
    } else {
        LanguageTag::new(&applied.language).map_err(|e| format!("language {e}"))?
    };
    Ok(ConsentInput {
        receipt_id: receipt_id_for(application_id),
        job_seeker_id,
        terms: AgreedTerms {
            terms_document_id: None,
            version: applied.terms_version,
            sha256: applied.terms_sha256,
        },
        meeting_app_terms: AgreedTerms {
            terms_document_id: None,
            version: applied.meeting_app_terms_version,
            sha256: applied.meeting_app_terms_sha256,
        },
        method: ConsentMethod::DeemedByApplication { application_id },
        // Art. 6: the consent was given by applying, when the person applied.
        consented_at: event.occurred_at,
        language,
    })
}

impl Projection for DeemedConsent {
    fn name(&self) -> &str {
        NAME
    }

    async fn apply(
        &self,
        _tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.event_type != "OnlineServicesApplied" {
            return Ok(());
        }
        let input = input_from(event).map_err(|reason| rejected(event, reason))?;
        // The consent is caused by the application: same correlation, the
        // application event as cause, the applicant as actor.
        let metadata = EventMetadata {
            correlation_id: event.metadata.correlation_id,
            causation_id: Some(event.event_id),
            actor: event.metadata.actor.clone(),
            traceparent: event.metadata.traceparent.clone(),
            tracestate: event.metadata.tracestate.clone(),
        };
        match self.service.record_consent(input, &metadata).await {
            Ok(_) => Ok(()),
            // Retried by the runner (nak): the database or a concurrent
            // writer was in the way.
            Err(error) if error.is_retryable() => Err(ProjectionError::Transient(Box::new(error))),
            // A rule of the terms refuses it (e.g. the version applied to is
            // not in force): retrying cannot help; the runner logs it.
            Err(error) => Err(rejected(event, error)),
        }
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        // No tables: the consents it recorded are events, never reset.
        Ok(())
    }
}
