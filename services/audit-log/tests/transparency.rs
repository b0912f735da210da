//! The access log as a transparency log, through the gRPC API against real
//! PostgreSQL and NATS: signed checkpoints verify under the log's key (and
//! with signed_note's own verifier), proofs verify on the client side, the
//! leaves served from the rows rebuild the signed root, a witness's
//! cosignature is kept and a forged one refused, job seekers get proofs only
//! for leaves they hold, a rebuild grows the same tree, and a log from
//! before the tree gets it at start-up.

mod support;

use chrono::Utc;
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use hellowork_transparency::{
    Hash, checkpoint,
    cosignature::WitnessKey,
    hash_from_bytes, keys,
    proof::{verify_consistency, verify_inclusion},
    tree::MemoryTree,
};
use support::{World, eventually, record, record_batch, seeker};
use tonic::Code;

const ORIGIN: &str = hellowork_transparency::DEFAULT_ORIGIN;

async fn usage(world: &mut World, count: usize) {
    let now = Utc::now();
    let records = (0..count)
        .map(|i| record(&seeker(i % 5), &format!("d{i}"), "198.51.100.4", now))
        .collect();
    record_batch(world, records).await;
}

/// The latest checkpoint once it covers at least `size` entries.
async fn checkpoint_of(world: &World, size: u64) -> proto::Checkpoint {
    let client = world.client.clone();
    eventually(&format!("a checkpoint of {size} entries"), || {
        let mut client = client.clone();
        let request = world.req(
            proto::GetCheckpointRequest::default(),
            "auditor-1",
            Role::Auditor,
        );
        async move {
            let checkpoint = client
                .get_checkpoint(request)
                .await
                .ok()?
                .into_inner()
                .checkpoint?;
            (checkpoint.tree_size >= size).then_some(checkpoint)
        }
    })
    .await
}

fn hashes(all: &[Vec<u8>]) -> Vec<Hash> {
    all.iter()
        .map(|bytes| hash_from_bytes(bytes).unwrap())
        .collect()
}

async fn leaves(world: &mut World, size: u64) -> Vec<Hash> {
    let response = world
        .client
        .list_log_leaves(world.req(
            proto::ListLogLeavesRequest {
                start_sequence: 1,
                page_size: 0,
                tree_size: size,
            },
            "auditor-1",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner();
    hashes(&response.leaf_hashes)
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoints_and_proofs_verify_on_the_client_side_and_the_rows_rebuild_the_root() {
    let mut world = World::start_with(&[("HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL", "200ms")]).await;
    usage(&mut world, 7).await;
    world.settled(7).await;
    let first = checkpoint_of(&world, 7).await;
    let log_key = keys::DEVELOPMENT_LOG_VERIFIER_KEY;
    let verified = checkpoint::verify(&first.signed_note, ORIGIN, log_key, &[]).unwrap();
    assert_eq!(
        (verified.size, verified.root.0.to_vec()),
        (first.tree_size, first.root_hash.clone())
    );
    // An implementation nobody here wrote accepts it too.
    let note = signed_note::Note::from_bytes(&first.signed_note).unwrap();
    let verifier = signed_note::StandardVerifier::new(log_key).unwrap();
    note.verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .unwrap();

    let served = leaves(&mut world, first.tree_size).await;
    let mut rebuilt = MemoryTree::new();
    for leaf in &served {
        rebuilt.push(*leaf);
    }
    assert_eq!(
        rebuilt.root(),
        verified.root,
        "the rows hash to the signed root"
    );

    usage(&mut world, 6).await;
    world.settled(13).await;
    let second = checkpoint_of(&world, 13).await;
    let later = checkpoint::verify(&second.signed_note, ORIGIN, log_key, &[]).unwrap();
    let consistency = world
        .client
        .get_consistency_proof(world.req(
            proto::GetConsistencyProofRequest {
                first_tree_size: first.tree_size,
                second_tree_size: second.tree_size,
            },
            "someone",
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner();
    verify_consistency(
        &hashes(&consistency.proof),
        verified.size,
        verified.root,
        later.size,
        later.root,
    )
    .unwrap();
    for sequence in 1..=later.size {
        let proof = world
            .client
            .get_inclusion_proof(world.req(
                proto::GetInclusionProofRequest {
                    sequence,
                    tree_size: later.size,
                    leaf_hash: Vec::new(),
                },
                "auditor-1",
                Role::Auditor,
            ))
            .await
            .unwrap()
            .into_inner();
        let leaf = hash_from_bytes(&proof.leaf_hash).unwrap();
        verify_inclusion(
            &hashes(&proof.proof),
            sequence - 1,
            later.size,
            leaf,
            later.root,
        )
        .unwrap();
    }

    // A job seeker gets a proof only for a leaf they hold.
    let without = world
        .client
        .get_inclusion_proof(world.req(
            proto::GetInclusionProofRequest {
                sequence: 2,
                tree_size: 0,
                leaf_hash: Vec::new(),
            },
            "js-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(without.code(), Code::InvalidArgument);
    let mut other = served[1].0;
    other[0] ^= 1;
    let wrong = world
        .client
        .get_inclusion_proof(world.req(
            proto::GetInclusionProofRequest {
                sequence: 2,
                tree_size: 0,
                leaf_hash: other.to_vec(),
            },
            "js-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::NotFound);
    let held = world
        .client
        .get_inclusion_proof(world.req(
            proto::GetInclusionProofRequest {
                sequence: 2,
                tree_size: 0,
                leaf_hash: served[1].0.to_vec(),
            },
            "js-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap();
    assert!(!held.into_inner().proof.is_empty());

    // Leaves are the auditors' and witnesses' only.
    let refused = world
        .client
        .list_log_leaves(world.req(proto::ListLogLeavesRequest::default(), "op", Role::Operator))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // A row edited behind the service's back shows in the served leaves.
    sqlx::query("UPDATE access_log SET action = 'edited' WHERE sequence = 4")
        .execute(&world.pool)
        .await
        .unwrap();
    let after = leaves(&mut world, later.size).await;
    let changed: Vec<usize> = (0..served.len())
        .filter(|i| after[*i] != served[*i])
        .collect();
    assert_eq!(changed, vec![3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_cosignature_is_kept_and_a_forged_one_refused() {
    let mut world = World::start_with(&[("HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL", "200ms")]).await;
    usage(&mut world, 3).await;
    world.settled(3).await;
    let latest = checkpoint_of(&world, 3).await;
    let none = world
        .client
        .get_checkpoint(world.req(
            proto::GetCheckpointRequest { witnessed: true },
            "a",
            Role::Auditor,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        none.code(),
        Code::FailedPrecondition,
        "nothing witnessed yet"
    );

    let witness = WitnessKey::from_note_key(keys::DEVELOPMENT_WITNESS_KEY).unwrap();
    let now = Utc::now().timestamp() as u64;
    let cosigned = witness.cosign(&latest.signed_note, now).unwrap();
    let (stranger, _) = keys::generate("stranger-witness", true);
    let forged = WitnessKey::from_note_key(&stranger)
        .unwrap()
        .cosign(&latest.signed_note, now)
        .unwrap();
    for (note, why) in [
        (forged, "an unknown witness"),
        (latest.signed_note.clone(), "no cosignature"),
    ] {
        let refused = world
            .client
            .add_cosignature(world.req(
                proto::AddCosignatureRequest { signed_note: note },
                "system:witness",
                Role::System,
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{why}");
    }
    let mut flipped = cosigned.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 1;
    assert!(
        world
            .client
            .add_cosignature(world.req(
                proto::AddCosignatureRequest {
                    signed_note: flipped
                },
                "system:witness",
                Role::System
            ))
            .await
            .is_err()
    );
    let by_auditor = world
        .client
        .add_cosignature(world.req(
            proto::AddCosignatureRequest {
                signed_note: cosigned.clone(),
            },
            "a",
            Role::Auditor,
        ))
        .await
        .unwrap_err();
    assert_eq!(by_auditor.code(), Code::PermissionDenied);

    world
        .client
        .add_cosignature(world.req(
            proto::AddCosignatureRequest {
                signed_note: cosigned.clone(),
            },
            "system:witness",
            Role::System,
        ))
        .await
        .unwrap();
    let witnessed = world
        .client
        .get_checkpoint(world.req(
            proto::GetCheckpointRequest { witnessed: true },
            "js",
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner()
        .checkpoint
        .unwrap();
    assert!(witnessed.witnessed);
    assert_eq!(witnessed.signed_note, cosigned);
    let verified = checkpoint::verify(
        &witnessed.signed_note,
        ORIGIN,
        keys::DEVELOPMENT_LOG_VERIFIER_KEY,
        &[witness.verifier_key()],
    )
    .unwrap();
    assert_eq!(verified.cosigned_by.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_grows_the_same_tree_and_a_log_from_before_the_tree_gets_it_at_start() {
    let mut world = World::start_with(&[("HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL", "200ms")]).await;
    usage(&mut world, 9).await;
    world.settled(9).await;
    let signed = checkpoint_of(&world, 9).await;
    let (_, _, _) = support::rebuilt(&world.pool).await;
    let root_after_rebuild = leaves(&mut world, signed.tree_size).await;
    let mut tree = MemoryTree::new();
    for leaf in &root_after_rebuild {
        tree.push(*leaf);
    }
    assert_eq!(
        tree.root().0.to_vec(),
        signed.root_hash,
        "the rebuilt log is consistent with what was signed"
    );
    let again = checkpoint_of(&world, signed.tree_size).await;
    assert_eq!(again.root_hash, signed.root_hash);

    // The log as Step 8 left it: entries, no tree.
    sqlx::query("DELETE FROM log_hashes")
        .execute(&world.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE chain_head SET tree_size = 0")
        .execute(&world.pool)
        .await
        .unwrap();
    let grown = hellowork_audit_log::store::catch_up(&world.pool)
        .await
        .unwrap();
    assert!(grown >= 9, "{grown}");
    let proof = world
        .client
        .get_consistency_proof(world.req(
            proto::GetConsistencyProofRequest {
                first_tree_size: signed.tree_size,
                second_tree_size: 0,
            },
            "a",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner();
    let latest = checkpoint_of(&world, signed.tree_size).await;
    verify_consistency(
        &hashes(&proof.proof),
        signed.tree_size,
        hash_from_bytes(&signed.root_hash).unwrap(),
        latest.tree_size,
        hash_from_bytes(&latest.root_hash).unwrap(),
    )
    .unwrap();
}
