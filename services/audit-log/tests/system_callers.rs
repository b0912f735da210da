//! Least privilege per calling service (Art. 7, 8): each RPC a service
//! calls accepts only the services that need it — usage records only from
//! the front system that sees the accesses (no other service can put a
//! backdated access on anyone's record), a sealed device checked only for
//! scheduling, the log's structure and cosignatures only for the witness.
//! Every other service's valid token is PERMISSION_DENIED naming the RPC.

mod support;

use chrono::{Duration, Utc};
use hellowork_platform::CallingService;
use hellowork_proto::auditlog::v1 as proto;
use support::{SEEKER_1, World, record};
use tonic::Code;

fn assert_denied_naming<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    rpc: &str,
    who: CallingService,
) {
    let status = result.unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "{rpc} {who}: {status:?}"
    );
    assert!(
        status.message().starts_with(&format!("{rpc}: ")),
        "{who}: {}",
        status.message()
    );
}

/// Let through by authorization: an answer or any refusal but
/// PERMISSION_DENIED (e.g. no checkpoint yet, a missing field).
fn assert_admitted<T>(result: Result<T, tonic::Status>, rpc: &str, who: CallingService) {
    if let Err(status) = result {
        assert_ne!(
            status.code(),
            Code::PermissionDenied,
            "{rpc} {who}: {status:?}"
        );
        assert_ne!(
            status.code(),
            Code::Unauthenticated,
            "{rpc} {who}: {status:?}"
        );
    }
}

#[tokio::test]
async fn usage_is_recorded_only_from_the_front_system() {
    let world = World::start().await;
    let mut client = world.client.clone();
    let backdated = Utc::now() - Duration::days(30);
    for service in CallingService::ALL {
        let usage = record(SEEKER_1, "device-1", "198.51.100.7", backdated);
        let single = client
            .record_usage(world.env.system_request(
                proto::RecordUsageRequest {
                    record: Some(usage.clone()),
                },
                service,
            ))
            .await;
        let batch = client
            .record_usage_batch(world.env.system_request(
                futures::stream::iter(vec![proto::RecordUsageBatchRequest {
                    records: vec![usage],
                }]),
                service,
            ))
            .await;
        if service == CallingService::Front {
            assert!(!single.unwrap().into_inner().duplicate);
            assert_eq!(batch.unwrap().into_inner().duplicate_count, 1);
        } else {
            assert_denied_naming(single, "RecordUsage", service);
            assert_denied_naming(batch, "RecordUsageBatch", service);
        }
    }
    assert_eq!(world.stored("UsageRecorded").await, 1, "the front's only");
}

#[tokio::test]
async fn each_service_reaches_only_the_rpcs_it_needs() {
    let world = World::start().await;
    let mut client = world.client.clone();
    for service in CallingService::ALL {
        let env = &world.env;
        let witness = service == CallingService::Witness;

        let keys = client
            .get_sealing_keys(env.system_request(proto::GetSealingKeysRequest {}, service))
            .await;
        if matches!(service, CallingService::Scheduling | CallingService::Front) {
            assert_admitted(keys, "GetSealingKeys", service);
        } else {
            assert_denied_naming(keys, "GetSealingKeys", service);
        }

        // Nothing sealed: INVALID_ARGUMENT once past authorization.
        let checked = client
            .check_sealed_device(
                env.system_request(proto::CheckSealedDeviceRequest::default(), service),
            )
            .await;
        if service == CallingService::Scheduling {
            assert_eq!(checked.unwrap_err().code(), Code::InvalidArgument);
        } else {
            assert_denied_naming(checked, "CheckSealedDevice", service);
        }

        let checkpoint = client
            .get_checkpoint(env.system_request(proto::GetCheckpointRequest::default(), service))
            .await;
        let leaves = client
            .list_log_leaves(env.system_request(proto::ListLogLeavesRequest::default(), service))
            .await;
        let consistency = client
            .get_consistency_proof(env.system_request(
                proto::GetConsistencyProofRequest {
                    first_tree_size: 1,
                    second_tree_size: 0,
                },
                service,
            ))
            .await;
        let cosigned = client
            .add_cosignature(env.system_request(proto::AddCosignatureRequest::default(), service))
            .await;
        if witness {
            assert_admitted(checkpoint, "GetCheckpoint", service);
            assert_admitted(leaves, "ListLogLeaves", service);
            assert_admitted(consistency, "GetConsistencyProof", service);
            assert_eq!(cosigned.unwrap_err().code(), Code::InvalidArgument);
        } else {
            assert_denied_naming(checkpoint, "GetCheckpoint", service);
            assert_denied_naming(leaves, "ListLogLeaves", service);
            assert_denied_naming(consistency, "GetConsistencyProof", service);
            assert_denied_naming(cosigned, "AddCosignature", service);
        }

        // No service needs an inclusion proof: the witness checks
        // consistency, people check their own leaves.
        let inclusion = client
            .get_inclusion_proof(env.system_request(
                proto::GetInclusionProofRequest {
                    sequence: 1,
                    ..Default::default()
                },
                service,
            ))
            .await;
        assert_denied_naming(inclusion, "GetInclusionProof", service);

        // The people's views refuse every service by role.
        let log = client
            .list_access_log(env.system_request(proto::ListAccessLogRequest::default(), service))
            .await;
        assert_eq!(log.unwrap_err().code(), Code::PermissionDenied, "{service}");
        let mine = client
            .list_my_disclosures(
                env.system_request(proto::ListMyDisclosuresRequest::default(), service),
            )
            .await;
        assert_eq!(
            mine.unwrap_err().code(),
            Code::PermissionDenied,
            "{service}"
        );
    }
}
