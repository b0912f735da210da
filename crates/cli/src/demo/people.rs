//! The demo's job seekers: invented people (no real person's data) and the
//! devices they use. Ten use a PC and two a smartphone, so the counselling ×
//! PC cell of the statistics reaches k = 10 while the smartphone and
//! seminar cells stay below it and are suppressed (Art. 7(2)).

use hellowork_journey::Person;
use hellowork_proto::{registration::v1 as registration, scheduling::v1 as scheduling};

/// The first four also attend the seminar.
pub const SEMINAR_SEATS: usize = 4;
/// Declares an interpreter when booking (Art. 12(3)).
pub const WITH_INTERPRETER: usize = 11;
/// Declares a caregiver after booking (Art. 12(3)).
pub const WITH_CAREGIVER: usize = 4;

/// An invented person: family and given names with readings, date of birth.
type Name = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i32,
    i32,
    i32,
);

const NAMES: [Name; 12] = [
    ("高松", "花子", "タカマツ", "ハナコ", 1990, 4, 1),
    ("田中", "太郎", "タナカ", "タロウ", 1985, 11, 3),
    ("佐藤", "美咲", "サトウ", "ミサキ", 1998, 7, 21),
    ("鈴木", "健一", "スズキ", "ケンイチ", 1976, 2, 14),
    ("伊藤", "直美", "イトウ", "ナオミ", 1969, 9, 30),
    ("山本", "翔", "ヤマモト", "ショウ", 2001, 5, 5),
    ("中村", "由紀", "ナカムラ", "ユキ", 1993, 12, 12),
    ("小林", "大輔", "コバヤシ", "ダイスケ", 1988, 3, 8),
    ("加藤", "恵", "カトウ", "メグミ", 1995, 10, 17),
    ("吉田", "拓也", "ヨシダ", "タクヤ", 1982, 6, 26),
    ("山田", "明美", "ヤマダ", "アケミ", 1979, 1, 19),
    ("Nguyen", "Van An", "グエン", "ヴァン アン", 1997, 8, 9),
];

/// A kind of device: what the person attests and what the front system
/// reports when they join (a user agent the audit log reduces to families).
#[derive(Debug, Clone, Copy)]
pub struct DeviceModel {
    pub kind: registration::DeviceKind,
    /// As the statistics name the class.
    pub class: &'static str,
    pub os_name: &'static str,
    pub os_version: &'static str,
    /// Browser family and version, as the person attests them (Art. 12(4)).
    pub browser: (&'static str, &'static str),
    pub user_agent: &'static str,
}

const WINDOWS_CHROME: DeviceModel = DeviceModel {
    kind: registration::DeviceKind::Pc,
    class: "PC",
    os_name: "Windows",
    os_version: "11 25H2",
    browser: ("Chrome", "142"),
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
};

const WINDOWS_EDGE: DeviceModel = DeviceModel {
    browser: ("Edge", "142"),
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
    ..WINDOWS_CHROME
};

const WINDOWS_FIREFOX: DeviceModel = DeviceModel {
    browser: ("Firefox", "145"),
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
    ..WINDOWS_CHROME
};

const MAC_SAFARI: DeviceModel = DeviceModel {
    kind: registration::DeviceKind::Pc,
    class: "PC",
    os_name: "macOS",
    os_version: "15.6",
    browser: ("Safari", "18.6"),
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
};

const IPHONE: DeviceModel = DeviceModel {
    kind: registration::DeviceKind::Smartphone,
    class: "smartphone",
    os_name: "iOS",
    os_version: "26.1",
    browser: ("Safari", "26.1"),
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
};

const ANDROID: DeviceModel = DeviceModel {
    kind: registration::DeviceKind::Smartphone,
    class: "smartphone",
    os_name: "Android",
    os_version: "16",
    browser: ("Chrome", "142"),
    user_agent: "Mozilla/5.0 (Linux; Android 16; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
};

const MODELS: [DeviceModel; 12] = [
    WINDOWS_CHROME,
    WINDOWS_EDGE,
    MAC_SAFARI,
    IPHONE,
    WINDOWS_CHROME,
    WINDOWS_FIREFOX,
    WINDOWS_CHROME,
    MAC_SAFARI,
    WINDOWS_EDGE,
    ANDROID,
    WINDOWS_CHROME,
    WINDOWS_CHROME,
];

/// One job seeker of a run.
#[derive(Debug, Clone)]
pub struct Persona {
    pub index: usize,
    /// Name, date of birth and an email unique per run, so every run
    /// registers new people (the job-seeker id derives from all three).
    pub person: Person,
    pub model: DeviceModel,
    /// What the front system reports: raw identifiers the audit log keeps
    /// only encrypted and never shows outside a legal disclosure.
    pub device: scheduling::DeviceIdentifiers,
}

/// The twelve people of run `run`.
pub fn personas(run: &str) -> Vec<Persona> {
    NAMES
        .iter()
        .zip(MODELS)
        .enumerate()
        .map(|(index, (name, model))| {
            let (family, given, family_reading, given_reading, year, month, day) = *name;
            Persona {
                index,
                person: Person {
                    name: registration::PersonName {
                        family_name: family.into(),
                        given_name: given.into(),
                        family_name_reading: family_reading.into(),
                        given_name_reading: given_reading.into(),
                    },
                    date_of_birth: registration::Date { year, month, day },
                    email: format!("js{:02}.{run}@example.jp", index + 1),
                },
                model,
                device: scheduling::DeviceIdentifiers {
                    device_id: format!("tkm-device-{run}-{:02}", index + 1),
                    ip_address: ip_address(index),
                    user_agent: model.user_agent.into(),
                    os_name: model.os_name.into(),
                    os_version: model.os_version.into(),
                },
            }
        })
        .collect()
}

/// Home connections of two providers and one IPv6 line, from the
/// documentation ranges; several people share a /24, as neighbours on one
/// provider do, so the truncated prefix alone singles no one out.
fn ip_address(index: usize) -> String {
    match index % 4 {
        3 => format!("2001:db8:4b2:{:x}::a{index:x}", index + 1),
        2 => format!("198.51.100.{}", 130 + index),
        _ => format!("203.0.113.{}", 101 + index),
    }
}

/// The environment report that passes every check (the one the tests
/// use), on `model`'s operating system and browser.
pub fn environment(model: &DeviceModel) -> registration::EnvironmentReport {
    let mut report = hellowork_proto::examples::passing_environment();
    if let Some(os) = report.operating_system.as_mut() {
        os.name = model.os_name.into();
        os.version = model.os_version.into();
    }
    if let Some(readiness) = report.readiness.as_mut() {
        readiness.browser_name = model.browser.0.into();
        readiness.browser_version = model.browser.1.into();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_pcs_and_two_smartphones_with_fresh_identifiers_per_run() {
        let people = personas("r1");
        assert_eq!(people.iter().filter(|p| p.model.class == "PC").count(), 10);
        assert_eq!(
            people
                .iter()
                .filter(|p| p.model.class == "smartphone")
                .count(),
            2
        );
        let other = personas("r2");
        assert!(
            people
                .iter()
                .zip(&other)
                .all(|(a, b)| a.person.email != b.person.email
                    && a.device.device_id != b.device.device_id)
        );
        for person in &people {
            assert!(person.device.ip_address.parse::<std::net::IpAddr>().is_ok());
        }
    }
}
