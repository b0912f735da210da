//! Art. 7(2): device identifiers are sealed where they enter. A join or
//! leave brings them either in clear — sealed here, to the audit-log's
//! current public key, before anything else touches them — or already
//! sealed by the front system, so that scheduling never sees them. Either
//! way scheduling stores and publishes only the sealed blob, which it cannot
//! open: only the audit-log holds the private keys.
//!
//! The public keys come from the audit-log (`GetSealingKeys`), kept for
//! [`REFRESH`] and fetched again at once when a pre-sealed blob names a key
//! not yet seen (a rotation). A pre-sealed blob is checked by the audit-log
//! (`CheckSealedDevice`) before it is stored, so a forged, truncated or
//! wrong-key blob is INVALID_ARGUMENT naming the field, and nothing is
//! written.

use std::time::{Duration, Instant};

use hellowork_platform::{FieldViolation, ServiceError, SystemAuth};
use hellowork_proto::{
    auditlog::v1::{
        CheckSealedDeviceRequest, GetSealingKeysRequest,
        audit_log_service_client::AuditLogServiceClient,
    },
    scheduling::v1::DeviceIdentifiers,
    sealing::v1::{self as sealing, HpkeSealed},
};
use hellowork_sealing::device::{SealError, SealingKeys};
use prost::Message;
use tokio::sync::RwLock;
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

use crate::domain::BookingId;

/// How long published keys are used before they are fetched again, so a
/// rotation reaches sealing in clear within this bound.
pub const REFRESH: Duration = Duration::from_secs(300);
/// At most one fetch for an unknown key id per this interval, so a caller
/// naming made-up key ids cannot make every request a round trip.
const UNKNOWN_KEY_REFETCH: Duration = Duration::from_secs(1);

/// What a join or leave brought.
#[derive(Clone)]
pub enum Presence {
    Clear(DeviceIdentifiers),
    Sealed(HpkeSealed),
}

/// Art. 7, 8: never print device identifiers.
impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Clear(_) => f.write_str("Presence::Clear"),
            Self::Sealed(sealed) => write!(f, "Presence::Sealed(key_id={})", sealed.key_id),
        }
    }
}

#[derive(Debug)]
struct Fetched {
    keys: SealingKeys,
    at: Instant,
}

/// Seals device identifiers to the audit-log's keys.
#[derive(Debug)]
pub struct DeviceSealer {
    auditlog: AuditLogServiceClient<InterceptedService<Channel, SystemAuth>>,
    keys: RwLock<Option<Fetched>>,
}

fn peer_failed(status: &Status) -> ServiceError {
    tracing::warn!(peer = "auditlog", code = ?status.code(), "sealing peer call failed");
    ServiceError::from_peer("auditlog", status)
}

fn invalid(error: &SealError) -> ServiceError {
    ServiceError::invalid(
        format!("sealed_device.{}", error.field()),
        error.to_string(),
    )
}

impl DeviceSealer {
    pub fn new(auditlog: Channel, auth: SystemAuth) -> Self {
        Self {
            auditlog: AuditLogServiceClient::with_interceptor(auditlog, auth),
            keys: RwLock::new(None),
        }
    }

    /// The sealed identifiers of a join or leave of `booking_id`, its
    /// associated data.
    pub async fn sealed(
        &self,
        booking_id: BookingId,
        presence: Presence,
    ) -> Result<HpkeSealed, ServiceError> {
        match presence {
            Presence::Clear(device) => {
                let plaintext = zeroize::Zeroizing::new(
                    sealing::DeviceIdentifiers {
                        device_id: device.device_id,
                        ip_address: device.ip_address,
                        user_agent: device.user_agent,
                        os_name: device.os_name,
                        os_version: device.os_version,
                    }
                    .encode_to_vec(),
                );
                let keys = self.keys(None).await?;
                Ok(keys
                    .seal(&plaintext, booking_id.to_string().as_bytes())
                    .into())
            }
            Presence::Sealed(sealed) => {
                let keys = self.keys(Some(&sealed.key_id)).await?;
                keys.check(&sealed.clone().into())
                    .map_err(|error| invalid(&error))?;
                self.check_opens(&sealed, &booking_id.to_string()).await?;
                Ok(sealed)
            }
        }
    }

    /// The audit-log's answer whether `sealed` opens for `booking_id`.
    async fn check_opens(&self, sealed: &HpkeSealed, booking_id: &str) -> Result<(), ServiceError> {
        let mut client = self.auditlog.clone();
        match client
            .check_sealed_device(CheckSealedDeviceRequest {
                sealed_device: Some(sealed.clone()),
                context_id: booking_id.to_owned(),
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::InvalidArgument => {
                let violations = status
                    .get_error_details()
                    .bad_request()
                    .map(|bad| {
                        bad.field_violations
                            .iter()
                            .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                Err(ServiceError::InvalidArgument(violations))
            }
            Err(status) => Err(peer_failed(&status)),
        }
    }

    /// The published keys: those held if fresh (and, when `needed` is
    /// given, knowing that key id), else fetched.
    async fn keys(&self, needed: Option<&str>) -> Result<SealingKeys, ServiceError> {
        let usable = |fetched: &Fetched| {
            let knows =
                needed.is_none_or(|kid| fetched.keys.keys().iter().any(|k| k.key_id == kid));
            let fresh = fetched.at.elapsed() < REFRESH;
            let may_refetch = fetched.at.elapsed() >= UNKNOWN_KEY_REFETCH;
            fresh && (knows || !may_refetch)
        };
        if let Some(fetched) = self.keys.read().await.as_ref().filter(|f| usable(f)) {
            return Ok(fetched.keys.clone());
        }
        let mut held = self.keys.write().await;
        if let Some(fetched) = held.as_ref().filter(|f| usable(f)) {
            return Ok(fetched.keys.clone());
        }
        let mut client = self.auditlog.clone();
        let published = client
            .get_sealing_keys(GetSealingKeysRequest {})
            .await
            .map_err(|status| peer_failed(&status))?
            .into_inner();
        let keys = SealingKeys::from_proto(&published.keys).ok_or_else(|| {
            ServiceError::internal(std::io::Error::other(
                "the audit-log published no usable current sealing key",
            ))
        })?;
        *held = Some(Fetched {
            keys: keys.clone(),
            at: Instant::now(),
        });
        Ok(keys)
    }
}
