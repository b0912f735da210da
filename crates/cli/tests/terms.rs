//! `hellowork terms publish` against a running consent service.

#[path = "../../../services/consent/tests/support/mod.rs"]
mod support;

use std::process::Command;

use hellowork_platform::Role;
use hellowork_testing::terms::terms_of_use;

async fn hellowork(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_hellowork"))
            .args(args)
            .env_remove("HELLOWORK_TOKEN")
            .output()
            .expect("run hellowork")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_terms_are_published_from_a_file_and_reruns_change_nothing() {
    let consent = support::start().await;
    let token = consent.env.token("operator-1", &[Role::Operator]);
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "terms",
            "publish",
            &terms_of_use().path.display().to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.extend(["--endpoint".to_owned(), consent.url.clone()]);
        args.extend(["--token".to_owned(), token.clone()]);
        args
    };
    let terms = args(&[
        "--version",
        "2023-12-18",
        "--effective-date",
        "2023-12-18",
        "--established-date",
        "2021-03-01",
        "--revised-date",
        "2023-12-18",
        "--language",
        "ja",
    ]);
    let first = hellowork(terms.clone()).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(stdout.contains("version 2023-12-18"), "{stdout}");
    let expected = support::sha256(&terms_of_use().text);
    assert!(stdout.contains(&format!("sha256 {expected}")), "{stdout}");

    let again = hellowork(terms).await;
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        stdout,
        "a rerun returns the first result"
    );
    assert_eq!(consent.stored_events().await, 1);

    let app = hellowork(args(&[
        "--kind",
        "meeting-app",
        "--app-name",
        "Meeting App",
        "--version",
        "2023-10",
        "--effective-date",
        "2023-10-01",
    ]))
    .await;
    assert!(
        app.status.success(),
        "{}",
        String::from_utf8_lossy(&app.stderr)
    );

    let refused = hellowork(args(&[
        "--version",
        "bad version",
        "--effective-date",
        "2023-12-18",
    ]))
    .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("InvalidArgument"));
}
