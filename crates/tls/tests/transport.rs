//! gRPC over TLS end to end: a tonic server on [`hellowork_tls::incoming`],
//! clients on [`hellowork_tls::channel`]. Who may connect (plaintext,
//! without a certificate, with another CA's), who the server sees, and
//! rotation of either side's certificate with a call in flight.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use hellowork_tls::{
    ClientAuth, ClientTls, PeerIdentity, Reload, ServerTls, TlsConnectInfo, dev_pki::DevPki,
};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_client::HealthClient},
    server::HealthReporter,
};

const SERVICE: &str = "probe";

struct Server {
    addr: SocketAddr,
    tls: Arc<ServerTls>,
    reporter: HealthReporter,
    /// The identity the server saw on each request (`None`: no certificate).
    peers: Arc<Mutex<Vec<Option<PeerIdentity>>>>,
}

async fn serve(pki: &DevPki, name: &str, client_auth: ClientAuth) -> Server {
    let tls = ServerTls::load(pki.files(name), client_auth).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, ServingStatus::Serving)
        .await;
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    let record = move |request: tonic::Request<()>| {
        let info = request.extensions().get::<TlsConnectInfo>().cloned();
        seen.lock().unwrap().push(info.and_then(|info| info.peer));
        Ok(request)
    };
    let incoming = hellowork_tls::incoming(listener, tls.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(tonic::service::InterceptorLayer::new(record))
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    Server {
        addr,
        tls,
        reporter,
        peers,
    }
}

fn client(pki: &DevPki, identity: Option<&str>) -> Arc<ClientTls> {
    let identity = identity.map(|name| (pki.cert(name), pki.key(name)));
    ClientTls::load(
        &pki.ca(),
        identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
    )
    .unwrap()
}

fn health(url: String, tls: Arc<ClientTls>) -> HealthClient<tonic::transport::Channel> {
    let endpoint = Endpoint::from_shared(url)
        .unwrap()
        .connect_timeout(Duration::from_secs(2));
    HealthClient::new(hellowork_tls::channel(endpoint, tls))
}

async fn check(client: &mut HealthClient<tonic::transport::Channel>) -> Result<(), tonic::Status> {
    client
        .check(HealthCheckRequest {
            service: SERVICE.to_owned(),
        })
        .await
        .map(|_| ())
}

fn https(addr: SocketAddr) -> String {
    format!("https://{addr}")
}

#[tokio::test]
async fn a_caller_with_a_certificate_is_known_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;
    let mut scheduling = health(https(server.addr), client(&pki, Some("scheduling")));
    check(&mut scheduling).await.unwrap();
    // By IP (the certificate names 127.0.0.1) and by name alike.
    let mut by_name = health(
        format!("https://localhost:{}", server.addr.port()),
        client(&pki, Some("scheduling")),
    );
    check(&mut by_name).await.unwrap();
    let peers = server.peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 2);
    assert!(
        peers
            .iter()
            .all(|p| p.as_ref().map(PeerIdentity::name) == Some("scheduling"))
    );
}

#[tokio::test]
async fn a_plaintext_client_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Optional).await;
    let plaintext = Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect_timeout(Duration::from_secs(2));
    let refused = match plaintext.connect().await {
        Err(_) => true,
        Ok(channel) => check(&mut HealthClient::new(channel)).await.is_err(),
    };
    assert!(refused, "a plaintext call must not be served");
    assert!(
        server.peers.lock().unwrap().is_empty(),
        "nothing was served"
    );

    // And a TLS client never sends to an http:// URL.
    let mut downgraded = health(format!("http://{}", server.addr), client(&pki, None));
    assert!(check(&mut downgraded).await.is_err());
}

#[tokio::test]
async fn without_a_valid_client_certificate_no_call_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = DevPki::ensure(other_dir.path(), &["scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;

    // (Under TLS 1.3 the client learns of the refusal on its first request,
    // so the code is UNKNOWN or UNAVAILABLE; what matters is that nothing
    // reaches the service.)
    let mut anonymous = health(https(server.addr), client(&pki, None));
    assert!(check(&mut anonymous).await.is_err());
    // Trusts the right CA, but presents a certificate another CA issued
    // under the same name.
    let forged = ClientTls::load(
        &pki.ca(),
        Some((&stranger.cert("scheduling"), &stranger.key("scheduling"))),
    )
    .unwrap();
    let mut forged = health(https(server.addr), forged);
    assert!(check(&mut forged).await.is_err());
    // A server whose certificate the client's CA did not issue is refused
    // by the client.
    let mut misled = health(https(server.addr), client(&stranger, Some("scheduling")));
    assert!(check(&mut misled).await.is_err());
    assert!(
        server.peers.lock().unwrap().is_empty(),
        "nothing was served"
    );

    // With client authentication optional, a caller without a certificate
    // connects and is known as nobody; a bad certificate is still refused.
    let optional = serve(&pki, "consent", ClientAuth::Optional).await;
    check(&mut health(https(optional.addr), client(&pki, None)))
        .await
        .unwrap();
    assert_eq!(optional.peers.lock().unwrap().clone(), vec![None]);
    let forged = ClientTls::load(
        &pki.ca(),
        Some((&stranger.cert("scheduling"), &stranger.key("scheduling"))),
    )
    .unwrap();
    assert!(
        check(&mut health(https(optional.addr), forged))
            .await
            .is_err()
    );
}

/// The certificate a fresh TLS connection to `addr` is served.
async fn served_certificate(addr: SocketAddr, tls: &ClientTls) -> CertificateDer<'static> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls.current())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

#[tokio::test]
async fn the_servers_certificate_rotates_without_dropping_a_call_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;
    let tls = client(&pki, Some("scheduling"));
    let old = CertificateDer::from_pem_file(pki.cert("consent")).unwrap();
    assert_eq!(served_certificate(server.addr, &tls).await, old);

    // A streaming call, open across the rotation.
    let mut watcher = health(https(server.addr), tls.clone());
    let mut watch = watcher
        .watch(HealthCheckRequest {
            service: SERVICE.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );

    pki.reissue("consent").unwrap();
    assert!(server.tls.reload().unwrap(), "the new files are taken");
    assert!(!server.tls.reload().unwrap(), "unchanged files are not");
    let new = CertificateDer::from_pem_file(pki.cert("consent")).unwrap();
    assert_ne!(new, old);
    assert_eq!(served_certificate(server.addr, &tls).await, new);

    // The call opened before the rotation goes on and completes.
    server
        .reporter
        .set_service_status(SERVICE, ServingStatus::NotServing)
        .await;
    assert_eq!(
        watch.next().await.unwrap().unwrap().status(),
        tonic_health::pb::health_check_response::ServingStatus::NotServing
    );
    check(&mut watcher).await.unwrap();
}

#[tokio::test]
async fn a_half_written_rotation_keeps_the_previous_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;
    let tls = client(&pki, Some("scheduling"));
    let old = served_certificate(server.addr, &tls).await;
    // Another certificate without its key: they do not match.
    std::fs::copy(pki.cert("scheduling"), pki.cert("consent")).unwrap();
    assert!(server.tls.reload().is_err());
    assert_eq!(served_certificate(server.addr, &tls).await, old);
}

#[tokio::test]
async fn the_callers_certificate_rotates_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = DevPki::ensure(other_dir.path(), &["scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;

    // The caller's files start as ones the server does not trust.
    let mine = tempfile::tempdir().unwrap();
    let (cert, key) = (mine.path().join("me.pem"), mine.path().join("me-key.pem"));
    std::fs::copy(stranger.cert("scheduling"), &cert).unwrap();
    std::fs::copy(stranger.key("scheduling"), &key).unwrap();
    let tls = ClientTls::load_and_watch(&pki.ca(), Some((&cert, &key)), Duration::from_millis(50))
        .unwrap();
    let mut caller = health(https(server.addr), tls);
    assert!(check(&mut caller).await.is_err());

    std::fs::copy(pki.key("scheduling"), &key).unwrap();
    std::fs::copy(pki.cert("scheduling"), &cert).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while check(&mut caller).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rotated certificate was never used"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peers = server.peers.lock().unwrap().clone();
    assert_eq!(peers.last().unwrap().as_ref().unwrap().name(), "scheduling");
}

#[tokio::test]
async fn the_server_watches_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let tls = ServerTls::load_and_watch(
        pki.files("consent"),
        ClientAuth::Required,
        Duration::from_millis(50),
    )
    .unwrap();
    let before = tls.current();
    pki.reissue("consent").unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while Arc::ptr_eq(&before, &tls.current()) {
        assert!(tokio::time::Instant::now() < deadline, "never reloaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_silent_client_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(dir.path(), &["consent", "scheduling"]).unwrap();
    let server = serve(&pki, "consent", ClientAuth::Required).await;
    // Connections that never send a ClientHello (the handshake timeout is
    // ten seconds).
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut caller = health(https(server.addr), client(&pki, Some("scheduling")));
    tokio::time::timeout(Duration::from_secs(2), check(&mut caller))
        .await
        .expect("served while the silent handshakes wait")
        .unwrap();
    drop(silent);
}
