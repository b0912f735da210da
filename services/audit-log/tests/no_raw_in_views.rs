//! Art. 7(2), property: no `ListAccessLog` or `GetUsageStatistics` response
//! ever contains an ingested device id, full IP address or full user agent.

mod support;

use chrono::{Duration, Utc};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config as ProptestConfig, TestRunner},
};
use support::{World, range, record, seeker, slot_range};

prop_compose! {
    fn identifiers()(
        device in "dev-[a-zA-Z0-9]{8,24}",
        v4 in any::<bool>(),
        a in 1u8..=223, b in any::<u8>(), c in any::<u8>(), d in 1u8..=254,
        segments in proptest::array::uniform8(1u16..=0xffff),
        ua_tail in "[A-Za-z0-9]{6,16}",
        browser in prop::sample::select(vec!["Chrome/120.0.1", "Firefox/121.0", "Version/17.1 Mobile/15E148 Safari/604.1", "Edg/120.0.2"]),
        os in prop::sample::select(vec!["Windows NT 10.0; Win64; x64", "iPhone; CPU iPhone OS 17_1 like Mac OS X", "Linux; Android 14; Pixel 8", "Macintosh; Intel Mac OS X 10_15_7"]),
    ) -> (String, String, String) {
        let ip = if v4 {
            format!("{a}.{b}.{c}.{d}")
        } else {
            std::net::Ipv6Addr::from(segments).to_string()
        };
        (device, ip, format!("Mozilla/5.0 ({os}) AppleWebKit/537.36 {browser} X-{ua_tail}"))
    }
}

/// Generated cases run against one service, which is dropped (database
/// and streams removed) when the test ends.
#[tokio::test]
async fn no_view_contains_a_raw_identifier() {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    let strategy = proptest::collection::vec(identifiers(), 1..4);
    let cases: Vec<Vec<(String, String, String)>> = (0..24)
        .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
        .collect();
    let mut world = World::start().await;
    let mut recorded = 0;
    for ids in cases {
        {
            let now = Utc::now();
            let records: Vec<_> = ids
                .iter()
                .enumerate()
                .map(|(i, (device, ip, ua))| {
                    let mut r = record(&seeker(i), device, ip, now);
                    r.device.as_mut().unwrap().user_agent = ua.clone();
                    r
                })
                .collect();
            let request = world.req(
                futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
                "system:front",
                Role::System,
            );
            world.client.record_usage_batch(request).await.unwrap();
            recorded += ids.len() as i64;
            world.settled(recorded).await;
            let time_range = Some(range(now - Duration::hours(2), now + Duration::hours(2)));
            let mut printed = String::new();
            for role in [
                Role::Operator,
                Role::Counsellor,
                Role::Supervisor,
                Role::Auditor,
                Role::LegalOfficer,
            ] {
                let request = world.req(
                    proto::ListAccessLogRequest {
                        time_range,
                        page_size: 1000,
                        ..Default::default()
                    },
                    "viewer",
                    role,
                );
                printed.push_str(&format!(
                    "{:?}",
                    world
                        .client
                        .list_access_log(request)
                        .await
                        .unwrap()
                        .into_inner()
                ));
            }
            let request = world.req(
                proto::GetUsageStatisticsRequest {
                    time_range: Some(slot_range(
                        now - Duration::hours(2),
                        now + Duration::hours(2),
                        3600,
                    )),
                    slot_length: None,
                },
                "viewer",
                Role::Operator,
            );
            printed.push_str(&format!(
                "{:?}",
                world
                    .client
                    .get_usage_statistics(request)
                    .await
                    .unwrap()
                    .into_inner()
            ));
            for (device, ip, ua) in &ids {
                assert!(!printed.contains(device.as_str()), "device id leaked");
                assert!(
                    !printed.contains(&format!("\"{ip}\"")) && !printed.contains(&format!("{ip}/")),
                    "full ip leaked"
                );
                assert!(!printed.contains(ua.as_str()), "user agent leaked");
            }
        }
    }
}
