//! A platform service serving gRPC over TLS (`HELLOWORK_TLS_*`): plaintext
//! is refused, a person's client connects without a certificate, a
//! service's token counts only over its own service's certificate, and the
//! server's certificate rotates without dropping a call in flight.

mod sample;

use std::time::Duration;

use hellowork_auth::{CallingService, Role};
use hellowork_testing::ServiceEnv;
use hellowork_tls::{ClientTls, dev_pki::DevPki};
use sample::proto::{
    GetNotesRequest, SlowRequest, WriteNoteRequest, note_service_client::NoteServiceClient,
};
use tonic::{Code, transport::Endpoint};
use tonic_types::StatusExt;

struct TlsService {
    pki: DevPki,
    _dir: tempfile::TempDir,
    running: sample::Running,
}

/// The sample service (it runs as `consent`) with TLS from a fresh
/// development PKI, its files looked at every 100 ms.
async fn start(env: &ServiceEnv) -> TlsService {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling", "cli"]).unwrap();
    let files = pki.files("consent");
    let (cert, key, ca) = (
        files.cert.display().to_string(),
        files.key.display().to_string(),
        files.ca.display().to_string(),
    );
    let running = sample::start_tls(
        env,
        &[
            ("HELLOWORK_TLS_CERT_FILE", &cert),
            ("HELLOWORK_TLS_KEY_FILE", &key),
            ("HELLOWORK_TLS_CA_FILE", &ca),
            ("HELLOWORK_TLS_RELOAD_INTERVAL", "100ms"),
        ],
        &pki,
    )
    .await;
    TlsService {
        pki,
        _dir: dir,
        running,
    }
}

impl TlsService {
    /// A client over TLS presenting `identity`'s certificate, or none.
    fn client(&self, identity: Option<&str>) -> NoteServiceClient<tonic::transport::Channel> {
        let identity = identity.map(|name| (self.pki.cert(name), self.pki.key(name)));
        let tls = ClientTls::load(
            &self.pki.ca(),
            identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
        )
        .unwrap();
        let endpoint = Endpoint::from_shared(format!("https://{}", self.running.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(2));
        NoteServiceClient::new(hellowork_tls::channel(endpoint, tls))
    }
}

fn note(text: &str) -> WriteNoteRequest {
    WriteNoteRequest {
        job_seeker_id: "seeker-1".into(),
        text: text.into(),
    }
}

#[tokio::test]
async fn a_plaintext_client_gets_no_answer() {
    let env = sample::environment().await;
    let service = start(&env).await;
    let mut plaintext = NoteServiceClient::new(
        Endpoint::from_shared(format!("http://{}", service.running.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(3))
            .connect_lazy(),
    );
    let refused = plaintext
        .write_note(env.request(note("in clear"), "staff-1", Role::Counsellor))
        .await
        .unwrap_err();
    // The handshake fails before any request is read: a transport error.
    assert!(
        matches!(refused.code(), Code::Unavailable | Code::Unknown),
        "{refused:?}"
    );
    // Over TLS the same call is served, and only it was written.
    let mut tls = service.client(None);
    tls.write_note(env.request(note("over tls"), "staff-1", Role::Counsellor))
        .await
        .unwrap();
    let notes = tls
        .get_notes(env.request(
            GetNotesRequest {
                job_seeker_id: "seeker-1".into(),
            },
            "staff-1",
            Role::Counsellor,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(notes.texts, ["over tls"]);
    service.running.shutdown.cancel();
}

#[tokio::test]
async fn a_service_token_counts_only_over_that_services_certificate() {
    let env = sample::environment().await;
    let service = start(&env).await;
    let token = || env.system_request(note("as scheduling"), CallingService::Scheduling);

    // Scheduling's certificate and scheduling's token: authenticated (the
    // sample's notes are for counsellors, so the role is then refused).
    let admitted = service
        .client(Some("scheduling"))
        .write_note(token())
        .await
        .unwrap_err();
    assert_eq!(admitted.code(), Code::PermissionDenied, "{admitted:?}");

    // The same token without a certificate, or under another process's
    // certificate: a stolen token alone does not make its holder the service.
    for identity in [None, Some("cli")] {
        let refused = service
            .client(identity)
            .write_note(token())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{identity:?}");
        assert_eq!(
            refused.get_details_error_info().unwrap().reason,
            "CERTIFICATE_MISMATCH"
        );
    }
    // People's tokens need no certificate.
    service
        .client(None)
        .write_note(env.request(note("by a counsellor"), "staff-1", Role::Counsellor))
        .await
        .unwrap();
    service.running.shutdown.cancel();
}

#[tokio::test]
async fn the_certificate_rotates_without_dropping_a_call_in_flight() {
    let env = sample::environment().await;
    let service = start(&env).await;
    let mut client = service.client(None);
    let before = served_certificate(&service).await;

    let slow = SlowRequest {
        job_seeker_id: "seeker-1".into(),
        hold_millis: 1500,
    };
    let in_flight = tokio::spawn({
        let request = env.request(slow, "staff-1", Role::Counsellor);
        async move { client.slow(request).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    service.pki.reissue("consent").unwrap();

    // New connections get the new certificate within the reload interval.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while served_certificate(&service).await == before {
        assert!(tokio::time::Instant::now() < deadline, "never rotated");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The call made on the old one finishes.
    in_flight.await.unwrap().unwrap();
    // And calls over new connections are served.
    service
        .client(None)
        .write_note(env.request(note("after rotation"), "staff-1", Role::Counsellor))
        .await
        .unwrap();
    service.running.shutdown.cancel();
}

/// The certificate a new connection is served.
async fn served_certificate(service: &TlsService) -> Vec<u8> {
    let tls = ClientTls::load(&service.pki.ca(), None).unwrap();
    let tcp = tokio::net::TcpStream::connect(service.running.addr)
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls.current())
        .connect(name, tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}
