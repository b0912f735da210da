use super::*;

fn at(hour: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(hour, 0, 0))
        .unwrap()
        .and_utc()
}

fn cell(offering: &str, class: &str, counts: Option<(u64, u64)>, s: Suppression) -> Cell {
    Cell {
        slot_start: at(12),
        offering: offering.into(),
        class: class.into(),
        counts,
        suppression: s,
    }
}

fn sample() -> Report {
    Report {
        run: "ab12cd".into(),
        terms: Terms {
            version: "2023-12-18".into(),
            sha256: "0123456789abcdef0123".into(),
            published_now: true,
            meeting_app_version: "2024-04-01".into(),
            meeting_app_published_now: false,
        },
        people: vec![Person {
            job_seeker_id: "js-1".into(),
            device: "PC (Windows)".into(),
            counselling_at: at(1),
            counselling: "completed".into(),
            seminar: None,
            attendants: vec!["interpreter".into()],
        }],
        refused_join: "FailedPrecondition: Art. 12(4): complete the checklist".into(),
        revision: Revision {
            version: "2026-12-25".into(),
            effective_date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
            announced_at: at(12),
            notified: 1,
            people: 1,
        },
        legal: Legal {
            legal_request_id: "lr-1".into(),
            agency: "香川県警察本部".into(),
            citation: "刑事訴訟法第197条第2項".into(),
            case_number: "R8-ab12cd".into(),
            filed_by: "legal-officer-1".into(),
            approved_by: "approver-1".into(),
            other_officer: "legal-officer-2".into(),
            expires_at: at(12),
            disclosed_records: 3,
            refused: "PermissionDenied: not the named officer".into(),
        },
        access_log: AccessLog {
            slot_seconds: 3600,
            entries: vec![Entry {
                sequence: 7,
                slot_start: at(12),
                kind: "usage".into(),
                action: "SessionJoined".into(),
                device: Some(Device {
                    pseudonym: "9f86d081884c7d65".into(),
                    period: "2026-11".into(),
                    ip_prefix: "203.0.113.0/24".into(),
                    browser: "Chrome".into(),
                    os: "Windows".into(),
                    class: "PC".into(),
                }),
                legal_request_id: String::new(),
                record_count: 0,
            }],
            heard: BTreeMap::from([("SessionBooked".to_owned(), 2)]),
        },
        statistics: Statistics {
            k: 10,
            slot_seconds: 3600,
            cells: vec![
                cell("counselling", "PC", Some((10, 20)), Suppression::None),
                cell("counselling", "smartphone", None, Suppression::BelowK),
                cell("seminar", "PC", None, Suppression::Complementary),
            ],
        },
        verification: Verification {
            intact: true,
            checked: 40,
            from: 1,
            to: 40,
            head_hash: "ffeeddccbbaa99887766".into(),
            first_bad: None,
        },
    }
}

#[test]
fn the_operator_sees_pseudonyms_published_and_suppressed_cells_and_the_verdict() {
    let text = render(&sample());
    assert!(text.contains("9f86d081884c7d65"), "{text}");
    assert!(text.contains("203.0.113.0/24"), "{text}");
    assert!(text.contains("10 (20)"), "{text}");
    assert!(text.contains("<10"), "{text}");
    assert!(text.contains("(comp.)"), "{text}");
    assert!(
        text.contains("cells: 1 published, 2 suppressed (1 under k, 1 complementary)"),
        "{text}"
    );
    assert!(
        text.contains("Log verification (auditor): intact"),
        "{text}"
    );
    assert!(text.contains("SessionBooked ×2"), "{text}");
    // 01:00 UTC is 10:00 in Tokyo.
    assert!(text.contains("11-25 10:00 completed"), "{text}");
}

#[test]
fn a_broken_chain_is_named() {
    let mut report = sample();
    report.verification.intact = false;
    report.verification.first_bad = Some(5);
    assert!(render(&report).contains("BROKEN at sequence 5"));
}
