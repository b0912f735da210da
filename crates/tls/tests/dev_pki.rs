//! The development PKI: every process gets a certificate naming it, issued
//! by the CA beside it; what is valid is kept, what is not is issued anew.

use hellowork_tls::{PeerIdentity, dev_pki::DevPki};
use rustls::pki_types::{CertificateDer, pem::PemObject};

fn leaf(path: &std::path::Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

#[test]
fn every_name_gets_a_certificate_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &hellowork_tls::dev_pki::NAMES).unwrap();
    for name in hellowork_tls::dev_pki::NAMES {
        let identity = PeerIdentity::from_certificate(&leaf(&pki.cert(name))).unwrap();
        assert_eq!(identity.name(), name);
        assert_eq!(
            identity.uri(),
            format!("spiffe://hellowork-takamatsu/{name}")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(pki.key(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}'s key is private");
        }
    }
    assert!(pki.ca().exists());
}

#[test]
fn valid_files_are_kept_and_missing_or_broken_ones_issued_anew() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["consent", "scheduling"];
    let pki = DevPki::ensure(dir.path(), &names).unwrap();
    let read = |path: std::path::PathBuf| std::fs::read(path).unwrap();
    let (ca, consent, scheduling) = (
        read(pki.ca()),
        read(pki.cert("consent")),
        read(pki.cert("scheduling")),
    );

    DevPki::ensure(dir.path(), &names).unwrap();
    assert_eq!(read(pki.ca()), ca, "a valid CA is kept");
    assert_eq!(
        read(pki.cert("consent")),
        consent,
        "a valid certificate is kept"
    );

    std::fs::remove_file(pki.key("consent")).unwrap();
    std::fs::write(pki.cert("scheduling"), "not a certificate").unwrap();
    DevPki::ensure(dir.path(), &names).unwrap();
    assert_eq!(read(pki.ca()), ca);
    assert_ne!(
        read(pki.cert("consent")),
        consent,
        "a certificate without its key is reissued"
    );
    assert_ne!(
        read(pki.cert("scheduling")),
        scheduling,
        "a broken file is reissued"
    );
    assert!(PeerIdentity::from_certificate(&leaf(&pki.cert("scheduling"))).is_some());
}

#[test]
fn a_new_ca_reissues_every_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent"]).unwrap();
    let consent = std::fs::read(pki.cert("consent")).unwrap();
    std::fs::remove_file(dir.path().join("ca-key.pem")).unwrap();
    DevPki::ensure(dir.path(), &["consent"]).unwrap();
    assert_ne!(std::fs::read(pki.cert("consent")).unwrap(), consent);

    // A certificate another CA issued is not kept either.
    let other = tempfile::tempdir().unwrap();
    let stranger = DevPki::ensure(other.path(), &["consent"]).unwrap();
    std::fs::copy(stranger.cert("consent"), pki.cert("consent")).unwrap();
    std::fs::copy(stranger.key("consent"), pki.key("consent")).unwrap();
    DevPki::ensure(dir.path(), &["consent"]).unwrap();
    assert_ne!(
        std::fs::read(pki.cert("consent")).unwrap(),
        std::fs::read(stranger.cert("consent")).unwrap()
    );
}

#[test]
fn a_name_that_is_no_identity_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(DevPki::ensure(dir.path(), &["Audit Log"]).is_err());
    assert!(DevPki::ensure(dir.path(), &["../ca"]).is_err());
}
