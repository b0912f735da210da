//! A complete production environment for one binary: every key real,
//! strong and unpublished, every file written to a temporary directory, and
//! the database and NATS addresses on a port nothing listens on, so that the
//! first thing to fail is connecting, never the configuration.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use hellowork_auth::{MintRequest, Role, TokenIssuer};
use hellowork_eventstore::EventSigner;
use hellowork_platform::Service;
use hellowork_tls::dev_pki::DevPki;

/// One of the binaries under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Service(Service),
    Witness,
}

impl Binary {
    pub fn executable(self) -> &'static str {
        match self {
            Self::Service(Service::Registration) => "hellowork-registration",
            Self::Service(Service::Consent) => "hellowork-consent",
            Self::Service(Service::Scheduling) => "hellowork-scheduling",
            Self::Service(Service::AuditLog) => "hellowork-audit-log",
            Self::Witness => "hellowork-witness",
        }
    }

    /// The name its certificate and system token carry.
    fn name(self) -> &'static str {
        match self {
            Self::Service(service) => service.name(),
            Self::Witness => "witness",
        }
    }
}

/// The variables of a binary's production environment, the directory its
/// files live in, and every secret among them (none may ever be printed).
#[derive(Debug)]
pub struct Baseline {
    pub vars: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    pub dir: tempfile::TempDir,
}

/// 32 bytes from the operating system's random numbers (two v4 UUIDs).
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A port of 127.0.0.1 that refuses connections: reserved for this test
/// and listened on by nothing.
pub fn closed_port() -> hellowork_testing::Port {
    hellowork_testing::Port::reserve()
}

impl Baseline {
    pub fn new(binary: Binary, closed: u16) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut vars = BTreeMap::new();
        let mut secrets = Vec::new();
        let mut set = |name: &str, value: String| {
            vars.insert(format!("HELLOWORK_{name}"), value);
        };
        set("ENVIRONMENT", "production".to_owned());
        // The machine's development signing key, if any, stays out of it.
        set("DEV_KEY_DIR", path("dev-keys"));

        // The identity provider: its public key, and this binary's token.
        let issuer = TokenIssuer::generate("idp-prod-1").expect("an identity provider key");
        std::fs::write(path("idp.pem"), issuer.public_key().to_pem()).expect("write the key");
        set("JWT_PUBLIC_KEYS", format!("idp-prod-1={}", path("idp.pem")));
        let token = issuer
            .mint(&MintRequest {
                subject: format!("system:{}", binary.name()),
                roles: vec![Role::System],
                ttl: std::time::Duration::from_secs(600),
                issuer: "hellowork-dev".to_owned(),
                audience: "hellowork".to_owned(),
                not_before: None,
                personnel_id: None,
            })
            .expect("mint a system token");
        std::fs::write(path("system.token"), &token).expect("write the token");
        set("SYSTEM_TOKEN_FILE", path("system.token"));
        secrets.push(token);

        // gRPC over TLS, for the services and the witness alike.
        let pki = DevPki::ensure(dir.path(), &[binary.name()]).expect("the test PKI");
        set(
            "TLS_CERT_FILE",
            pki.cert(binary.name()).display().to_string(),
        );
        set("TLS_KEY_FILE", pki.key(binary.name()).display().to_string());
        set("TLS_CA_FILE", pki.ca().display().to_string());

        match binary {
            Binary::Witness => {
                let (_, log_vkey) = hellowork_transparency::keys::generate("office-log", false);
                let (skey, _) = hellowork_transparency::keys::generate("office-witness", true);
                set("WITNESS_LOG_KEY", log_vkey);
                set("WITNESS_SIGNING_KEY", skey.clone());
                secrets.push(skey);
                set("WITNESS_STATE_DIR", path("witness"));
                set("WITNESS_GRPC_ADDR", "127.0.0.1:0".to_owned());
                set("WITNESS_METRICS_ADDR", "127.0.0.1:0".to_owned());
                set("WITNESS_LOG_URL", format!("https://127.0.0.1:{closed}"));
            }
            Binary::Service(service) => {
                let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
                set(
                    "DATABASE_URL",
                    format!(
                        "postgres://svc:{password}@127.0.0.1:{closed}/hellowork\
                         ?sslmode=verify-full&sslrootcert={}",
                        pki.ca().display()
                    ),
                );
                secrets.push(password);
                let seed = nkeys::KeyPair::new_user().seed().expect("a user seed");
                std::fs::write(path("nats.seed"), &seed).expect("write the seed");
                secrets.push(seed);
                set("NATS_URL", format!("tls://127.0.0.1:{closed}"));
                set("NATS_NKEY_SEED_FILE", path("nats.seed"));
                set("NATS_CA_FILE", pki.ca().display().to_string());
                set("GRPC_ADDR", "127.0.0.1:0".to_owned());
                set("METRICS_ADDR", "127.0.0.1:0".to_owned());
                let own = b64(&random_key());
                set("EVENT_SIGNING_KEY", format!("prod-1={own}"));
                secrets.push(own);
                for producer in service.consumes() {
                    let signer = EventSigner::from_seed("prod-1", &random_key()).expect("a key id");
                    let name = format!("{}_EVENT_KEYS", producer.name().to_uppercase());
                    set(&name, format!("prod-1={}", b64(&signer.public_key())));
                }
                for (name, value) in own_settings(service) {
                    secrets.push(value.clone());
                    set(name, value);
                }
            }
        }
        // Every ring's entry is a secret by itself too, where it is printed
        // whole or in part.
        secrets.extend(
            secrets
                .iter()
                .flat_map(|s| s.split([',', '=']))
                .filter(|part| part.len() >= 16)
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
        Self { vars, secrets, dir }
    }
}

/// The service's own secrets, each strong and unpublished.
fn own_settings(service: Service) -> Vec<(&'static str, String)> {
    let ring = || format!("prod-1={}", b64(&random_key()));
    match service {
        Service::Consent => vec![],
        Service::Registration => vec![
            ("REGISTRATION_ID_KEY", b64(&random_key())),
            ("REGISTRATION_KEKS", ring()),
        ],
        Service::Scheduling => vec![("SCHEDULING_KEKS", ring())],
        Service::AuditLog => vec![
            ("AUDITLOG_KEYS", ring()),
            ("AUDITLOG_SEALING_KEYS", ring()),
            ("AUDITLOG_PSEUDONYM_SECRET", b64(&random_key())),
            (
                "AUDITLOG_LOG_SIGNING_KEY",
                hellowork_transparency::keys::generate("office-log", false).0,
            ),
        ],
    }
}
