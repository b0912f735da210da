//! Art. 7(2): what the anonymized views show instead of raw device
//! identifiers — a per-period keyed pseudonym of the device id, a truncated
//! IP prefix, and the browser and OS families only.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::subject::{KeyPeriod, SUBJECT_LABEL, SubjectSecret};

type HmacSha256 = Hmac<Sha256>;

/// Art. 7(2): the secret device pseudonyms are derived from. The key of a
/// period is HMAC-SHA256(secret, "hellowork.auditlog.pseudonym." + period),
/// so pseudonyms of different periods cannot be linked without the secret.
#[derive(Clone)]
pub struct PseudonymSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for PseudonymSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymSecret(<redacted>)")
    }
}

/// A device pseudonym and the period it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePseudonym {
    pub pseudonym: String,
    pub period: String,
}

impl PseudonymSecret {
    pub fn new(secret: Vec<u8>) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The rotation period (a calendar month, UTC) containing `at`, e.g.
    /// `2024-05`: the key period of the records' data keys too.
    pub fn period_of(at: DateTime<Utc>) -> String {
        KeyPeriod::of(at).label()
    }

    /// Art. 7(2), 8: the secret of the subject lookup tags, derived with a
    /// label of its own (HMAC-SHA256(secret, label)), so one configured
    /// secret serves both and neither value is the other's.
    pub fn subject_secret(&self) -> SubjectSecret {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("hmac takes any key");
        mac.update(SUBJECT_LABEL);
        SubjectSecret::new(Zeroizing::new(mac.finalize().into_bytes().to_vec()))
    }

    /// Art. 7(2): the pseudonym of `device_id` in the period containing `at`.
    pub fn pseudonym(&self, device_id: &str, at: DateTime<Utc>) -> DevicePseudonym {
        let period = Self::period_of(at);
        DevicePseudonym {
            pseudonym: self.pseudonym_in(device_id, &period),
            period,
        }
    }

    /// The pseudonym of `device_id` in `period`: 128 bits of
    /// HMAC-SHA256(period key, device id), hex.
    pub fn pseudonym_in(&self, device_id: &str, period: &str) -> String {
        let mut period_mac = HmacSha256::new_from_slice(&self.0).expect("hmac takes any key");
        period_mac.update(b"hellowork.auditlog.pseudonym.");
        period_mac.update(period.as_bytes());
        let period_key = Zeroizing::new(period_mac.finalize().into_bytes().to_vec());
        let mut mac = HmacSha256::new_from_slice(&period_key).expect("hmac takes any key");
        mac.update(device_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Art. 7(2): an IPv4 address truncated to its /24, an IPv6 address to its
/// /48, in CIDR notation.
pub fn ip_prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{prefix}/48")
        }
    }
}

/// Coarse device class (mirrors `DeviceClass` of the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceClass {
    Smartphone,
    Tablet,
    Pc,
    Other,
}

/// Art. 7(2): what is kept of a user agent for the views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReducedAgent {
    pub browser_family: &'static str,
    pub os_family: &'static str,
    pub device_class: DeviceClass,
}

/// Art. 7(2): reduces a user agent to a browser family, an OS family and a
/// device class from small fixed vocabularies, so no version, build or
/// vendor string survives.
pub fn reduce_user_agent(user_agent: &str) -> ReducedAgent {
    let ua = user_agent.to_ascii_lowercase();
    let has = |needle: &str| ua.contains(needle);
    let browser_family = if has("edg/") || has("edge/") || has("edga/") || has("edgios/") {
        "Edge"
    } else if has("opr/") || has("opera") {
        "Opera"
    } else if has("samsungbrowser") {
        "Samsung Internet"
    } else if has("firefox/") || has("fxios/") {
        "Firefox"
    } else if has("chrome/") || has("crios/") || has("chromium/") {
        "Chrome"
    } else if has("safari/") && (has("version/") || has("mobile/")) {
        "Safari"
    } else if has("msie ") || has("trident/") {
        "Internet Explorer"
    } else {
        "Other"
    };
    let os_family = if has("iphone") || has("ipad") || has("ipod") || has("ios") {
        "iOS"
    } else if has("android") {
        "Android"
    } else if has("windows") {
        "Windows"
    } else if has("cros") {
        "ChromeOS"
    } else if has("mac os x") || has("macintosh") {
        "macOS"
    } else if has("linux") {
        "Linux"
    } else {
        "Other"
    };
    let device_class = if has("ipad") || has("tablet") || (has("android") && !has("mobile")) {
        DeviceClass::Tablet
    } else if has("iphone") || has("ipod") || has("mobile") {
        DeviceClass::Smartphone
    } else if matches!(os_family, "Windows" | "macOS" | "Linux" | "ChromeOS") {
        DeviceClass::Pc
    } else {
        DeviceClass::Other
    };
    ReducedAgent {
        browser_family,
        os_family,
        device_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ipv4_is_truncated_to_24_and_ipv6_to_48() {
        assert_eq!(ip_prefix("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(
            ip_prefix("2001:db8:abcd:12:1:2:3:4".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
    }

    #[test]
    fn user_agents_are_reduced_to_families() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36";
        assert_eq!(
            reduce_user_agent(chrome),
            ReducedAgent {
                browser_family: "Chrome",
                os_family: "Windows",
                device_class: DeviceClass::Pc
            }
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        let reduced = reduce_user_agent(iphone);
        assert_eq!(reduced.browser_family, "Safari");
        assert_eq!(reduced.os_family, "iOS");
        assert_eq!(reduced.device_class, DeviceClass::Smartphone);
        let tablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36";
        assert_eq!(reduce_user_agent(tablet).device_class, DeviceClass::Tablet);
        let edge = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(reduce_user_agent(edge).browser_family, "Edge");
        assert_eq!(reduce_user_agent(edge).os_family, "macOS");
        assert_eq!(
            reduce_user_agent("curl/8.0").device_class,
            DeviceClass::Other
        );
    }

    #[test]
    fn pseudonyms_are_stable_within_a_period_and_unlinkable_across_periods() {
        let secret = PseudonymSecret::new(b"secret".to_vec());
        let may = Utc.with_ymd_and_hms(2024, 5, 3, 10, 0, 0).unwrap();
        let late_may = Utc.with_ymd_and_hms(2024, 5, 30, 10, 0, 0).unwrap();
        let june = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
        let a = secret.pseudonym("device-1", may);
        assert_eq!(a.period, "2024-05");
        assert_eq!(a, secret.pseudonym("device-1", late_may));
        assert_ne!(a.pseudonym, secret.pseudonym("device-1", june).pseudonym);
        assert_ne!(a.pseudonym, secret.pseudonym("device-2", may).pseudonym);
        let other = PseudonymSecret::new(b"other".to_vec());
        assert_ne!(a.pseudonym, other.pseudonym("device-1", may).pseudonym);
        assert!(!a.pseudonym.contains("device"));
        assert_eq!(a.pseudonym.len(), 32);
    }
}
