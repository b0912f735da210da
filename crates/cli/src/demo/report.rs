//! What a demo run found, as data (so it can be checked) and as the text an
//! operator reads. Nothing here holds a raw device identifier, an IP
//! address or a name: the report is built only from what the operator's
//! views return (Art. 7(2), 8).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
};

use chrono::{DateTime, NaiveDate, Utc};

use super::TOKYO;

#[derive(Debug, Clone)]
pub struct Report {
    /// A short id; every person, device and counsellor of the run carries it.
    pub run: String,
    pub terms: Terms,
    pub people: Vec<Person>,
    /// What the service answered to a join before the checklist.
    pub refused_join: String,
    pub revision: Revision,
    pub legal: Legal,
    pub access_log: AccessLog,
    pub statistics: Statistics,
    pub verification: Verification,
}

#[derive(Debug, Clone)]
pub struct Terms {
    pub version: String,
    pub sha256: String,
    /// Whether this run published it (a fresh stack) or found it.
    pub published_now: bool,
    pub meeting_app_version: String,
    pub meeting_app_published_now: bool,
}

#[derive(Debug, Clone)]
pub struct Person {
    /// The keyed id registration gives; never the name.
    pub job_seeker_id: String,
    /// e.g. `PC (Windows)`.
    pub device: String,
    pub counselling_at: DateTime<Utc>,
    /// The booking's state at the end, e.g. `completed`.
    pub counselling: String,
    pub seminar: Option<String>,
    pub attendants: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Revision {
    pub version: String,
    pub effective_date: NaiveDate,
    pub announced_at: DateTime<Utc>,
    /// Job seekers of this run with a notice of it.
    pub notified: usize,
    pub people: usize,
}

#[derive(Debug, Clone)]
pub struct Legal {
    pub legal_request_id: String,
    pub agency: String,
    pub citation: String,
    pub case_number: String,
    pub filed_by: String,
    pub approved_by: String,
    pub other_officer: String,
    pub expires_at: DateTime<Utc>,
    /// How many records went to the filing officer (their content does not
    /// appear in the operator's view).
    pub disclosed_records: usize,
    /// What the service answered the other officer.
    pub refused: String,
}

#[derive(Debug, Clone)]
pub struct AccessLog {
    pub slot_seconds: i64,
    /// Usage and legal entries of the run.
    pub entries: Vec<Entry>,
    /// Events heard from the other services during the run, by type.
    pub heard: BTreeMap<String, usize>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub sequence: u64,
    pub slot_start: DateTime<Utc>,
    pub kind: String,
    pub action: String,
    pub device: Option<Device>,
    pub legal_request_id: String,
    pub record_count: u64,
}

/// A device as the views show it.
#[derive(Debug, Clone)]
pub struct Device {
    pub pseudonym: String,
    pub period: String,
    pub ip_prefix: String,
    pub browser: String,
    pub os: String,
    pub class: String,
}

#[derive(Debug, Clone)]
pub struct Statistics {
    pub k: u32,
    pub slot_seconds: i64,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub slot_start: DateTime<Utc>,
    pub offering: String,
    pub class: String,
    /// Persons and records; only for published cells.
    pub counts: Option<(u64, u64)>,
    pub suppression: Suppression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    None,
    /// Fewer than k persons.
    BelowK,
    /// Would let a below-k cell be derived from the published ones.
    Complementary,
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub intact: bool,
    pub checked: u64,
    pub from: u64,
    pub to: u64,
    pub head_hash: String,
    pub first_bad: Option<u64>,
}

/// Offerings (Art. 1) by their number in the contract.
pub fn offering_label(offering: i32) -> &'static str {
    match offering {
        1 => "counselling",
        2 => "job referral",
        3 => "seminar",
        4 => "interview",
        5 => "managed selection",
        _ => "-",
    }
}

const CLASSES: [&str; 4] = ["smartphone", "tablet", "PC", "other"];

fn jst(at: DateTime<Utc>, format: &str) -> String {
    at.with_timezone(&TOKYO).format(format).to_string()
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

/// The operator's view of the run.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Hello Work Takamatsu — operator view of demo run {}\n",
        report.run
    );
    terms(&mut out, report);
    people(&mut out, report);
    legal(&mut out, &report.legal);
    access_log(&mut out, &report.access_log);
    statistics(&mut out, &report.statistics);
    verification(&mut out, &report.verification);
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

fn found(published_now: bool) -> &'static str {
    if published_now {
        "published by this run"
    } else {
        "already published"
    }
}

fn terms(out: &mut String, report: &Report) {
    let (terms, revision) = (&report.terms, &report.revision);
    let _ = writeln!(out, "Terms (Art. 2(1), 4, 6, 13)");
    let _ = writeln!(
        out,
        "  terms of use      version {}, sha256 {}… ({})",
        terms.version,
        short(&terms.sha256),
        found(terms.published_now)
    );
    let _ = writeln!(
        out,
        "  meeting app       version {} ({})",
        terms.meeting_app_version,
        found(terms.meeting_app_published_now)
    );
    let _ = writeln!(
        out,
        "  revision          version {} under Art. 13(2), announced {} JST, effective {}",
        revision.version,
        jst(revision.announced_at, "%Y-%m-%d %H:%M"),
        revision.effective_date
    );
    let _ = writeln!(
        out,
        "                    notices delivered to {} of the {} job seekers of this run\n",
        revision.notified, revision.people
    );
}

fn people(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "Job seekers (keyed ids from registration; names never leave it)"
    );
    let _ = writeln!(
        out,
        "  {:<3} {:<38} {:<22} {:<24} {:<11} attendants (Art. 12(3))",
        "#", "job seeker id", "device", "counselling (JST)", "seminar"
    );
    for (i, person) in report.people.iter().enumerate() {
        let attendants = if person.attendants.is_empty() {
            "-".to_owned()
        } else {
            person.attendants.join(", ")
        };
        let _ = writeln!(
            out,
            "  {:<3} {:<38} {:<22} {:<24} {:<11} {attendants}",
            i + 1,
            person.job_seeker_id,
            person.device,
            format!(
                "{} {}",
                jst(person.counselling_at, "%m-%d %H:%M"),
                person.counselling
            ),
            person.seminar.as_deref().unwrap_or("-"),
        );
    }
    let _ = writeln!(
        out,
        "  joining before preparing was refused: {}\n",
        report.refused_join
    );
}

fn legal(out: &mut String, legal: &Legal) {
    let _ = writeln!(out, "Legal request (Art. 7(2) proviso)");
    let _ = writeln!(
        out,
        "  {} — {}, {}, case {}",
        legal.legal_request_id, legal.agency, legal.citation, legal.case_number
    );
    let _ = writeln!(
        out,
        "  filed by {}, approved by {} until {} JST (two persons)",
        legal.filed_by,
        legal.approved_by,
        jst(legal.expires_at, "%Y-%m-%d %H:%M")
    );
    let _ = writeln!(
        out,
        "  {} raw device records disclosed to {} only; {} was refused: {}\n",
        legal.disclosed_records, legal.filed_by, legal.other_officer, legal.refused
    );
}

fn access_log(out: &mut String, log: &AccessLog) {
    let heard: usize = log.heard.values().sum();
    let _ = writeln!(
        out,
        "Access log, device-anonymized (Art. 7(2)): {} usage and legal entries of this run, \
         time in {}-minute slots",
        log.entries.len(),
        log.slot_seconds / 60
    );
    let _ = writeln!(
        out,
        "  {:>6}  {:<11} {:<15} {:<32} {:<34} {:<8} {:<19} {:<8} {:<8} class",
        "seq",
        "slot (JST)",
        "kind",
        "action",
        "device pseudonym",
        "period",
        "IP prefix",
        "browser",
        "OS"
    );
    for entry in &log.entries {
        let what = if entry.legal_request_id.is_empty() {
            entry.action.clone()
        } else if entry.record_count > 0 {
            format!("{} records", entry.record_count)
        } else {
            format!(
                "request {}…",
                entry.legal_request_id.get(..8).unwrap_or_default()
            )
        };
        let device = entry.device.as_ref();
        let field = |get: fn(&Device) -> &str| device.map_or("-", get).to_owned();
        let _ = writeln!(
            out,
            "  {:>6}  {:<11} {:<15} {:<32} {:<34} {:<8} {:<19} {:<8} {:<8} {}",
            entry.sequence,
            jst(entry.slot_start, "%m-%d %H:%M"),
            entry.kind,
            what,
            field(|d| &d.pseudonym),
            field(|d| &d.period),
            field(|d| &d.ip_prefix),
            field(|d| &d.browser),
            field(|d| &d.os),
            field(|d| &d.class),
        );
    }
    let events: Vec<String> = log
        .heard
        .iter()
        .map(|(event, count)| format!("{event} ×{count}"))
        .collect();
    let _ = writeln!(
        out,
        "  and {heard} events heard from the other services: {}\n",
        events.join(", ")
    );
}

fn statistics(out: &mut String, stats: &Statistics) {
    let _ = writeln!(
        out,
        "Usage statistics, k = {}: a cell of fewer than {} persons is suppressed (Art. 7(2))",
        stats.k, stats.k
    );
    let slots: BTreeSet<DateTime<Utc>> = stats.cells.iter().map(|c| c.slot_start).collect();
    let slot = chrono::Duration::seconds(stats.slot_seconds);
    for start in &slots {
        let _ = writeln!(
            out,
            "  {} – {} JST, persons (records) per offering and device class",
            jst(*start, "%Y-%m-%d %H:%M"),
            jst(*start + slot, "%H:%M")
        );
        let _ = write!(out, "    {:<18}", "");
        for class in CLASSES {
            let _ = write!(out, "{class:<12}");
        }
        let _ = writeln!(out);
        let offerings: Vec<&str> = (1..=5).map(offering_label).collect();
        for offering in offerings {
            let _ = write!(out, "    {offering:<18}");
            for class in CLASSES {
                let cell = stats
                    .cells
                    .iter()
                    .find(|c| c.slot_start == *start && c.offering == offering && c.class == class);
                let text = match cell {
                    Some(Cell {
                        counts: Some((persons, records)),
                        ..
                    }) => format!("{persons} ({records})"),
                    Some(Cell {
                        suppression: Suppression::Complementary,
                        ..
                    }) => "(comp.)".to_owned(),
                    Some(_) => format!("<{}", stats.k),
                    None => "-".to_owned(),
                };
                let _ = write!(out, "{text:<12}");
            }
            let _ = writeln!(out);
        }
    }
    let count = |s: Suppression| stats.cells.iter().filter(|c| c.suppression == s).count();
    let (below, complementary) = (
        count(Suppression::BelowK),
        count(Suppression::Complementary),
    );
    let _ = writeln!(
        out,
        "  cells: {} published, {} suppressed ({below} under k, {complementary} complementary)\n",
        count(Suppression::None),
        below + complementary
    );
}

fn verification(out: &mut String, check: &Verification) {
    let verdict = match check.first_bad {
        None if check.intact => "intact".to_owned(),
        first_bad => format!("BROKEN at sequence {}", first_bad.unwrap_or_default()),
    };
    let _ = writeln!(
        out,
        "Log verification (auditor): {verdict} — {} entries checked ({}–{}), head {}…",
        check.checked,
        check.from,
        check.to,
        short(&check.head_hash)
    );
}

#[cfg(test)]
mod tests;
