//! Generated requests against every RPC: a valid token of a role the RPC
//! allows (often a subject the test named), the payloads of
//! [`super::Generator`], and the one-field sweep of [`super::text_sweep`]
//! first; a failing case is shrunk by proptest.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex},
    time::Instant,
};

use hellowork_auth::{CallingService, Role};
use proptest::{
    collection::vec,
    prelude::*,
    sample::select,
    strategy::Union,
    test_runner::{Config, TestCaseError, TestError, TestRunner},
};

use super::{
    Generator, Hints, Outcome, Payload, Report, Target, Types, cases, dynamic, rpcs,
    session::Session, text_sweep::sweep,
};

/// One generated call: who calls and what they send.
#[derive(Clone)]
struct Case {
    role: Role,
    subject: String,
    payloads: Vec<Payload>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "as {} {:?}: {:?}",
            self.role, self.subject, self.payloads
        )
    }
}

/// The subjects of every service: a system token names one of them or is
/// refused before any RPC sees it.
pub(super) fn service_subjects() -> Vec<String> {
    CallingService::ALL.iter().map(|s| s.subject()).collect()
}

/// Who calls: an allowed role, and a subject the test named for that role
/// (3 times in 4) or a random one (for `system`, any service's).
fn callers(roles: &[Role], hints: &Hints) -> BoxedStrategy<(Role, String)> {
    let arms: Vec<BoxedStrategy<(Role, String)>> = roles
        .iter()
        .map(|&role| {
            let random = if role == Role::System {
                select(service_subjects())
                    .prop_map(move |s| (role, s))
                    .boxed()
            } else {
                "[a-z0-9:-]{1,24}".prop_map(move |s| (role, s)).boxed()
            };
            match hints.subjects.get(&role) {
                Some(known) if !known.is_empty() => prop_oneof![
                    3 => select(known.clone()).prop_map(move |s| (role, s)),
                    1 => random,
                ]
                .boxed(),
                _ => random,
            }
        })
        .collect();
    Union::new(arms).boxed()
}

/// Runs `cases` generated requests against every RPC of the target (valid
/// tokens of allowed roles) and returns what it answered; failures are in
/// the report, each with its shrunk case.
pub fn every_rpc(runtime: &tokio::runtime::Runtime, target: Target<'_>, hints: Hints) -> Report {
    let started = Instant::now();
    let session = runtime.block_on(Session::open(target));
    let types = Arc::new(Types::new(&dynamic::descriptor_set()));
    let hints = Arc::new(hints);
    let generator = Generator::new(types.clone(), hints.clone());
    let mut report = Report::default();
    for rpc in rpcs(target.service) {
        let rpc_started = Instant::now();
        let payload = generator.payload(&rpc.method, &rpc.input_type);
        let payloads = if rpc.client_streaming {
            vec(payload, 0..4).boxed()
        } else {
            payload.prop_map(|p| vec![p]).boxed()
        };
        let strategy =
            (callers(&rpc.roles, &hints), payloads).prop_map(|((role, subject), payloads)| Case {
                role,
                subject,
                payloads,
            });
        let counts = Mutex::new(BTreeMap::<Outcome, u32>::new());
        let swept = sweep(
            runtime,
            &session,
            &rpc,
            &types,
            &hints,
            &counts,
            &mut report.failures,
        );
        report.swept.insert(rpc.method.clone(), swept);
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        });
        let result = runner.run(&strategy, |case| {
            let token = target.env.token(&case.subject, &[case.role]);
            let authorization = token.parse().map_err(|e| {
                TestCaseError::fail(format!("a minted token is not header text: {e}"))
            })?;
            let messages = case.payloads.iter().map(Payload::bytes).collect();
            let outcome = runtime
                .block_on(session.check(&rpc, messages, Some(authorization)))
                .map_err(TestCaseError::fail)?;
            *counts.lock().unwrap().entry(outcome).or_default() += 1;
            Ok(())
        });
        if let Err(error) = result {
            report.failures.push(match error {
                TestError::Fail(reason, case) => {
                    format!("{}: {reason}\n  minimal case: {case:?}", rpc.method)
                }
                TestError::Abort(reason) => format!("{}: aborted: {reason}", rpc.method),
            });
        }
        report
            .counts
            .insert(rpc.method.clone(), counts.into_inner().unwrap());
        report
            .times
            .insert(rpc.method.clone(), rpc_started.elapsed());
    }
    if let Err(e) = runtime.block_on(session.healthy()) {
        report.failures.push(format!("after all cases: {e}"));
    }
    report.elapsed = started.elapsed();
    report
}
