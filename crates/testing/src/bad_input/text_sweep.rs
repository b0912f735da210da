//! The one-field sweep: every valid request a test supplies, with each
//! text field set in turn to strings that have broken services before
//! (empty, NUL, control and bidi characters, very long text), sent as the
//! first role the RPC does not refuse outright.

use std::{collections::BTreeMap, sync::Mutex};

use hellowork_auth::Role;

use super::{
    Hints, Msg, Outcome, Rpc, Types, dynamic, random_requests::service_subjects, session::Session,
};

/// Strings every text field of a valid request is set to, one field at a
/// time: empty, with NUL (which PostgreSQL text refuses), control and
/// bidi-override characters, and 10 000 characters of kana.
fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        "x\0y".to_owned(),
        "\u{202e}\u{0301}\u{feff}\u{7}".to_owned(),
        "あ".repeat(10_000),
    ]
}

/// Copies of `msg` with one string, at any depth, replaced by `with`.
fn one_string_replaced(msg: &Msg, with: &str) -> Vec<Msg> {
    let mut copies = Vec::new();
    for (f, field) in msg.fields.iter().enumerate() {
        for (v, value) in field.values.iter().enumerate() {
            let replacements = match value {
                dynamic::Value::Str(_) => vec![dynamic::Value::Str(with.to_owned())],
                dynamic::Value::Message(nested) => one_string_replaced(nested, with)
                    .into_iter()
                    .map(dynamic::Value::Message)
                    .collect(),
                _ => Vec::new(),
            };
            for replacement in replacements {
                let mut copy = msg.clone();
                copy.fields[f].values[v] = replacement;
                copies.push(copy);
            }
        }
    }
    copies
}

/// The caller a seed is sent as: the first role (with a subject the test
/// named for it, else a made-up one) that is not refused outright.
fn seed_caller(
    runtime: &tokio::runtime::Runtime,
    session: &Session<'_>,
    rpc: &Rpc,
    hints: &Hints,
    seed: &[u8],
) -> Option<(Role, String)> {
    let candidates = rpc.roles.iter().flat_map(|&role| {
        let known = hints.subjects.get(&role).cloned().unwrap_or_default();
        let fallback = if role == Role::System {
            service_subjects()
        } else {
            vec![format!("{role}-sweep")]
        };
        known
            .into_iter()
            .chain(fallback)
            .map(move |subject| (role, subject))
    });
    for (role, subject) in candidates {
        let authorization = session.target.env.token(&subject, &[role]).parse().ok();
        let outcome = runtime.block_on(session.check(rpc, vec![seed.to_vec()], authorization));
        if !matches!(
            outcome,
            Ok(Outcome::PermissionDenied | Outcome::Unauthenticated)
        ) {
            return Some((role, subject));
        }
    }
    None
}

/// Every valid request of `rpc` with each text field set, one at a time, to
/// each of [`nasty_strings`]: answers judged like the random cases, counted
/// into `counts`. Returns how many calls it made.
pub(super) fn sweep(
    runtime: &tokio::runtime::Runtime,
    session: &Session<'_>,
    rpc: &Rpc,
    types: &Types,
    hints: &Hints,
    counts: &Mutex<BTreeMap<Outcome, u32>>,
    failures: &mut Vec<String>,
) -> u32 {
    let mut calls = 0;
    for seed in hints.seeds.get(&rpc.method).into_iter().flatten() {
        let Some((role, subject)) = seed_caller(runtime, session, rpc, hints, seed) else {
            continue;
        };
        let msg = dynamic::decode(types, &rpc.input_type, seed).expect("seeds decode");
        for nasty in nasty_strings() {
            for variant in one_string_replaced(&msg, &nasty) {
                let authorization = session.target.env.token(&subject, &[role]).parse().ok();
                calls += 1;
                let outcome =
                    runtime.block_on(session.check(rpc, vec![variant.encode()], authorization));
                match outcome {
                    Ok(outcome) => *counts.lock().unwrap().entry(outcome).or_default() += 1,
                    Err(reason) => failures.push(format!(
                        "{} (one text field of a valid request changed): {reason}\n  case: as {role} {subject:?}: {variant:?}",
                        rpc.method
                    )),
                }
            }
        }
    }
    calls
}
