//! `hellowork terms publish FILE`: publishes a terms text (the office's
//! terms of use, or the designated meeting app's terms, Art. 4) to the
//! consent service, which computes and records its SHA-256. The text is read
//! from the file at run time; it is never part of the code.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand, ValueEnum};
use hellowork_auth::Role;
use hellowork_proto::consent::v1::{self as proto, consent_service_client::ConsentServiceClient};
use sha2::{Digest, Sha256};

use crate::{
    rpc::{self, describe},
    transport::ClientTransport,
};

#[derive(Debug, Subcommand)]
pub enum TermsCommand {
    /// Publishes a version of a terms text from FILE (UTF-8) and prints its
    /// version and SHA-256.
    Publish(PublishArgs),
}

/// Which terms FILE holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// The office's terms of use.
    Terms,
    /// The designated meeting app's terms (Art. 4).
    MeetingApp,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The text to publish, exactly as the office publishes it.
    file: PathBuf,
    /// Version label, e.g. 2023-12-18.
    #[arg(long)]
    version: String,
    /// The version applies from 00:00 Asia/Tokyo on this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    effective_date: NaiveDate,
    /// BCP 47 language tag of the text.
    #[arg(long, default_value = "ja")]
    language: String,
    #[arg(long, value_enum, default_value = "terms")]
    kind: Kind,
    /// Title as published; by default the file's first non-blank line.
    #[arg(long)]
    title: Option<String>,
    /// Terms of use: when they were first established (default: the
    /// effective date).
    #[arg(long, value_parser = parse_date)]
    established_date: Option<NaiveDate>,
    /// Terms of use: when this version was revised.
    #[arg(long, value_parser = parse_date)]
    revised_date: Option<NaiveDate>,
    /// Meeting-app terms: the app's name.
    #[arg(long, required_if_eq("kind", "meeting-app"))]
    app_name: Option<String>,
    /// Meeting-app terms: where the vendor publishes them.
    #[arg(long)]
    source_uri: Option<String>,
    /// The consent service.
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    endpoint: String,
    /// A bearer token with the operator role; by default one is minted with
    /// the development key (development only).
    #[arg(long, env = "HELLOWORK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The folder `hellowork up --data-dir` used: its development CA is
    /// trusted, and TLS spoken, when it made one (see also
    /// `HELLOWORK_TLS_CA_FILE`).
    #[arg(long, default_value = crate::transport::UP_DATA_DIR)]
    data_dir: std::path::PathBuf,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text:?} is not YYYY-MM-DD"))
}

pub fn date(date: NaiveDate) -> proto::Date {
    proto::Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or_default(),
        day: i32::try_from(date.day()).unwrap_or_default(),
    }
}

/// Runs a `terms` subcommand; returns what to print.
pub fn run(command: &TermsCommand) -> Result<String, String> {
    let TermsCommand::Publish(args) = command;
    rpc::block_on(publish(args))
}

/// A request id derived from what is published, so running the same
/// command again returns the first result instead of a second version.
/// `hellowork demo` publishes with the same ids, so the two never publish
/// the same text twice.
pub fn publication_id(kind: Kind, language: &str, version: &str, sha256: &str) -> String {
    let digest = Sha256::new()
        .chain_update(format!("{kind:?}\0{language}\0{version}\0"))
        .chain_update(sha256)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

async fn publish(args: &PublishArgs) -> Result<String, String> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
    let title = match &args.title {
        Some(title) => title.clone(),
        None => text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .ok_or_else(|| format!("{} is empty", args.file.display()))?
            .to_owned(),
    };
    let bearer = rpc::bearer(args.token.as_deref(), Role::Operator)?;
    let transport = ClientTransport::discover(&args.data_dir, "cli")?;
    let mut client = ConsentServiceClient::new(
        transport.channel(&args.endpoint, std::time::Duration::from_secs(30))?,
    );
    let request_id = publication_id(args.kind, &args.language, &args.version, &sha256);
    let document = match args.kind {
        Kind::Terms => {
            let mut request = tonic::Request::new(proto::PublishTermsDocumentRequest {
                request_id,
                version: args.version.clone(),
                language: args.language.clone(),
                title,
                full_text: text,
                sha256: sha256.clone(),
                established_date: Some(date(args.established_date.unwrap_or(args.effective_date))),
                revised_date: args.revised_date.map(date),
                effective_date: Some(date(args.effective_date)),
            });
            request.metadata_mut().insert("authorization", bearer);
            client
                .publish_terms_document(request)
                .await
                .map_err(describe)?
                .into_inner()
                .terms_document
        }
        Kind::MeetingApp => {
            let mut request = tonic::Request::new(proto::PublishMeetingAppTermsRequest {
                request_id,
                meeting_app_name: args.app_name.clone().unwrap_or_default(),
                version: args.version.clone(),
                language: args.language.clone(),
                title,
                full_text: text,
                sha256: sha256.clone(),
                effective_date: Some(date(args.effective_date)),
                source_uri: args.source_uri.clone().unwrap_or_default(),
            });
            request.metadata_mut().insert("authorization", bearer);
            client
                .publish_meeting_app_terms(request)
                .await
                .map_err(describe)?
                .into_inner()
                .terms_document
        }
    }
    .ok_or("the service returned no document")?;
    Ok(format!(
        "version {}\nsha256 {}\nterms_document_id {}",
        document.version, document.sha256, document.terms_document_id
    ))
}
