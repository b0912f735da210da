//! The bus's trust: the key this service signs its event envelopes with,
//! and the keys it trusts for the streams it consumes
//! (`hellowork_eventstore::signing`).
//!
//! - `HELLOWORK_EVENT_SIGNING_KEY` (or `_FILE`): `kid=base64(32-byte Ed25519
//!   seed)`, the relay's signing key.
//! - `HELLOWORK_<SERVICE>_EVENT_KEYS`: `kid=base64(32-byte Ed25519 public
//!   key),...`, the keys trusted for `<SERVICE>`'s stream, several during a
//!   rotation (this service's own stream too, where it consumes it).
//!
//! In development each defaults to the published development key of its
//! service. In production every one of them is required, and a published
//! development key is refused by its bytes under whatever key id.

use hellowork_eventstore::{
    EventSigner, TrustedProducers,
    signing::{development_seed, is_development_key},
};
use hellowork_sealing::ring;
use zeroize::Zeroizing;

use super::{ConfigError, Service, Vars};

const SIGNING_KEY: &str = "HELLOWORK_EVENT_SIGNING_KEY";
const SIGNING_KEY_FILE: &str = "HELLOWORK_EVENT_SIGNING_KEY_FILE";

/// What this service signs with and whom it trusts on the bus.
#[derive(Debug, Clone)]
pub struct BusTrust {
    pub signer: std::sync::Arc<EventSigner>,
    /// The trusted keys of each stream this service consumes.
    pub producers: Vec<(Service, TrustedProducers)>,
}

impl BusTrust {
    /// The keys trusted for `producer`'s stream; none (every envelope
    /// refused) for a stream this service does not consume.
    pub fn producers_of(&self, producer: Service) -> TrustedProducers {
        self.producers
            .iter()
            .find(|(service, _)| *service == producer)
            .map(|(_, keys)| keys.clone())
            .unwrap_or_default()
    }
}

fn service_names() -> Vec<&'static str> {
    Service::ALL.iter().map(|service| service.name()).collect()
}

impl Vars {
    pub(crate) fn bus_trust(
        &self,
        service: Service,
        production: bool,
    ) -> Result<BusTrust, ConfigError> {
        let signer = self.signer(service, production)?;
        let producers = service
            .consumes()
            .iter()
            .map(|&producer| Ok((producer, self.producers(producer, production)?)))
            .collect::<Result<_, ConfigError>>()?;
        Ok(BusTrust {
            signer: std::sync::Arc::new(signer),
            producers,
        })
    }

    /// The relay's key, read, required and judged as every ring is
    /// ([`ring::configured`]): a variable or a file, a published
    /// development secret or a weak one refused in production. Another
    /// service's development key is refused here too.
    fn signer(&self, service: Service, production: bool) -> Result<EventSigner, ConfigError> {
        let error = |variable: &str, problem: String| ConfigError {
            variable: variable.to_owned(),
            problem,
        };
        let development = EventSigner::development(service.name());
        let development_key = ring::RingKey {
            key_id: development.key_id().to_owned(),
            secret: Zeroizing::new(development_seed(service.name())),
        };
        let file = self.0.get(SIGNING_KEY_FILE).map(String::as_str);
        let source = ring::RingSource {
            variable: SIGNING_KEY,
            file_variable: SIGNING_KEY_FILE,
            text: self.0.get(SIGNING_KEY).map(String::as_str),
            file,
        };
        let mut keys = ring::configured(source, production, &development_key)
            .map_err(|e| error(e.variable, e.problem))?;
        // Where the key came from, for the errors below.
        let at = if file.is_some() {
            SIGNING_KEY_FILE
        } else {
            SIGNING_KEY
        };
        if keys.len() != 1 {
            return Err(error(at, "must hold exactly one kid=base64seed".into()));
        }
        let key = keys.remove(0);
        let signer = EventSigner::from_seed(key.key_id.clone(), &key.secret)
            .map_err(|e| error(at, e.to_string()))?;
        if production && is_development_key(&signer.public_key(), &service_names()) {
            return Err(error(
                at,
                format!(
                    "key {} is a published development key; production needs a secret one",
                    key.key_id
                ),
            ));
        }
        Ok(signer)
    }

    fn producers(
        &self,
        producer: Service,
        production: bool,
    ) -> Result<TrustedProducers, ConfigError> {
        let name = format!("{}_EVENT_KEYS", producer.name().to_uppercase());
        let Some(text) = self.get(&name) else {
            if production {
                return Err(self.error(
                    &name,
                    &format!(
                        "required in production: the keys {}'s events are signed with",
                        producer.name()
                    ),
                ));
            }
            let development = EventSigner::development(producer.name());
            return Ok(TrustedProducers::of(&development));
        };
        let keys = ring::parse(text).map_err(|e| self.error(&name, &e.to_string()))?;
        if production {
            let published: Vec<&str> = keys
                .iter()
                .filter(|key| is_development_key(&key.secret, &service_names()))
                .map(|key| key.key_id.as_str())
                .collect();
            if !published.is_empty() {
                return Err(self.error(
                    &name,
                    &format!(
                        "key {} is a published development key; production trusts only secret ones",
                        published.join(", ")
                    ),
                ));
            }
        }
        TrustedProducers::new(keys.into_iter().map(|key| (key.key_id, *key.secret)))
            .map_err(|e| self.error(&name, &e.to_string()))
    }
}

/// Valid production bus variables for `service` (secret test keys, NATS
/// credential and CA paths), for the tests of other production settings.
#[cfg(test)]
pub(crate) fn production_vars(service: Service) -> Vec<(String, String)> {
    use base64::Engine as _;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let seed = |service: Service| -> [u8; 32] {
        test_seed(&format!("hellowork test event key {}", service.name()))
    };
    let mut vars = vec![(
        SIGNING_KEY.to_owned(),
        format!("test-1={}", encode(&seed(service))),
    )];
    vars.push((
        format!("{}NATS_NKEY_SEED_FILE", super::PREFIX),
        "/run/secrets/nats.seed".to_owned(),
    ));
    vars.push((
        format!("{}NATS_CA_FILE", super::PREFIX),
        "/run/secrets/ca.pem".to_owned(),
    ));
    for &producer in service.consumes() {
        let signer = EventSigner::from_seed("test-1", &seed(producer)).expect("a valid key id");
        vars.push((
            format!(
                "{}{}_EVENT_KEYS",
                super::PREFIX,
                producer.name().to_uppercase()
            ),
            format!("test-1={}", encode(&signer.public_key())),
        ));
    }
    vars
}

/// A fixed, unpublished 32-byte seed from `label` (tests only).
#[cfg(test)]
fn test_seed(label: &str) -> [u8; 32] {
    std::array::from_fn(|i| {
        label
            .bytes()
            .enumerate()
            .fold(i as u8 ^ 0xa5, |acc, (j, b)| {
                acc.wrapping_mul(31).wrapping_add(b ^ (j as u8))
            })
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn seed_entry(kid: &str, seed: &[u8; 32]) -> String {
        format!(
            "{kid}={}",
            base64::engine::general_purpose::STANDARD.encode(seed)
        )
    }

    fn public_entry(kid: &str, seed: &[u8; 32]) -> String {
        let signer = EventSigner::from_seed(kid, seed).unwrap();
        format!(
            "{kid}={}",
            base64::engine::general_purpose::STANDARD.encode(signer.public_key())
        )
    }

    fn secret_seed(byte: u8) -> [u8; 32] {
        std::array::from_fn(|i| byte.wrapping_mul(31).wrapping_add(i as u8 * 7))
    }

    #[test]
    fn development_defaults_to_the_published_keys() {
        let trust = Vars::of(&[]).bus_trust(Service::Consent, false).unwrap();
        assert_eq!(trust.signer.key_id(), "consent-dev");
        let registration = trust.producers_of(Service::Registration);
        assert!(!registration.is_empty());
        assert!(trust.producers_of(Service::Scheduling).is_empty());
    }

    #[test]
    fn production_requires_every_key_and_refuses_published_ones() {
        let error = Vars::of(&[])
            .bus_trust(Service::Scheduling, true)
            .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_EVENT_SIGNING_KEY");

        let own = seed_entry("s1", &secret_seed(1));
        let error = Vars::of(&[("HELLOWORK_EVENT_SIGNING_KEY", &own)])
            .bus_trust(Service::Scheduling, true)
            .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_REGISTRATION_EVENT_KEYS");

        // A development key under another id, as an older key of a ring.
        let dev_seed = development_seed("registration");
        let dev_public = public_entry("renamed", &dev_seed);
        let ring = format!("{},{dev_public}", public_entry("r2", &secret_seed(2)));
        let error = Vars::of(&[
            ("HELLOWORK_EVENT_SIGNING_KEY", &own),
            ("HELLOWORK_REGISTRATION_EVENT_KEYS", &ring),
        ])
        .bus_trust(Service::Scheduling, true)
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_REGISTRATION_EVENT_KEYS");
        assert!(error.to_string().contains("renamed"));
        assert!(
            !error
                .to_string()
                .contains(dev_public.split('=').nth(1).unwrap())
        );

        let dev_signing = seed_entry("mine", &development_seed("consent"));
        let error = Vars::of(&[("HELLOWORK_EVENT_SIGNING_KEY", &dev_signing)])
            .bus_trust(Service::Scheduling, true)
            .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_EVENT_SIGNING_KEY");
        assert!(
            !error
                .to_string()
                .contains(dev_signing.split('=').nth(1).unwrap())
        );

        let trust = Vars::of(&[
            ("HELLOWORK_EVENT_SIGNING_KEY", &own),
            (
                "HELLOWORK_REGISTRATION_EVENT_KEYS",
                &public_entry("r2", &secret_seed(2)),
            ),
        ])
        .bus_trust(Service::Scheduling, true)
        .unwrap();
        assert_eq!(trust.signer.key_id(), "s1");
    }

    #[test]
    fn a_key_and_its_file_together_are_refused() {
        let own = seed_entry("s1", &secret_seed(1));
        let error = Vars::of(&[
            ("HELLOWORK_EVENT_SIGNING_KEY", &own),
            ("HELLOWORK_EVENT_SIGNING_KEY_FILE", "/nonexistent"),
        ])
        .bus_trust(Service::Consent, false)
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_EVENT_SIGNING_KEY");
    }
}
