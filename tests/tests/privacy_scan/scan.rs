//! Looking for planted values everywhere a reader could: every text, bytea
//! and JSON column of every table of every schema of a database, every
//! message (body and headers) of a JetStream stream, and any text (logs,
//! metrics, spans). A value is found in clear in any letter case, as hex of
//! its UTF-8 bytes in either case, and as standard or URL-safe base64 at any
//! of the three alignments it can take inside a longer encoded run.

use base64::Engine;
use sqlx::Row;

/// One planted value, with every form it is looked for in.
#[derive(Debug, Clone)]
pub struct Planted {
    pub what: &'static str,
    forms: Vec<(&'static str, Vec<u8>)>,
}

impl Planted {
    pub fn new(what: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        let bytes = value.as_bytes();
        let mut forms = vec![("clear", value.to_lowercase().into_bytes())];
        forms.push(("hex", hex(bytes).into_bytes()));
        for (name, engine) in [
            ("base64", &base64::engine::general_purpose::STANDARD_NO_PAD),
            (
                "base64url",
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ),
        ] {
            for offset in 0..3 {
                forms.push((name, aligned_base64(engine, bytes, offset).into_bytes()));
            }
        }
        Self { what, forms }
    }

    /// How many forms this value is looked for in.
    pub fn form_count(&self) -> usize {
        self.forms.len()
    }

    /// The forms in which this value occurs in `haystack`.
    pub fn found_in(&self, haystack: &[u8]) -> Vec<&'static str> {
        let folded = haystack.to_ascii_lowercase();
        let folded_text = String::from_utf8_lossy(haystack)
            .to_lowercase()
            .into_bytes();
        self.forms
            .iter()
            .filter(|(name, form)| match *name {
                "clear" => contains(&folded_text, form),
                "hex" => contains(&folded, form),
                _ => contains(haystack, form),
            })
            .map(|(name, _)| *name)
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The base64 characters that depend only on `bytes` when they start
/// `offset` bytes into a 3-byte group of a longer encoded run.
fn aligned_base64(engine: &base64::engine::GeneralPurpose, bytes: &[u8], offset: usize) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let encoded = engine.encode(&padded);
    // Characters touched by the unknown bytes before (the offset's) and after
    // (the last partial group) are dropped.
    let skip = (offset * 8).div_ceil(6);
    let keep = (padded.len() * 8) / 6;
    encoded
        .get(skip..keep.max(skip))
        .unwrap_or_default()
        .to_owned()
}

/// A place a value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub place: String,
    pub what: &'static str,
    pub form: &'static str,
}

/// What a scan looked at.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    pub columns: usize,
    pub cells: usize,
    pub messages: usize,
    pub texts: usize,
}

fn scan(place: &str, haystack: &[u8], planted: &[Planted], hits: &mut Vec<Hit>) {
    for value in planted {
        for form in value.found_in(haystack) {
            hits.push(Hit {
                place: place.to_owned(),
                what: value.what,
                form,
            });
        }
    }
}

/// Every text-like column of every user table of the database at `url`.
pub async fn database(url: &str, planted: &[Planted], coverage: &mut Coverage) -> Vec<Hit> {
    let pool = sqlx::PgPool::connect(url).await.expect("the database");
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE t.table_type = 'BASE TABLE' \
           AND table_schema NOT IN ('pg_catalog', 'information_schema') \
           AND (data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb') \
                OR data_type = 'ARRAY')",
    )
    .fetch_all(&pool)
    .await
    .expect("the columns");
    let mut hits = Vec::new();
    for (schema, table, column, data_type) in columns {
        let expression = if data_type == "bytea" {
            format!("\"{column}\"")
        } else {
            format!("convert_to(\"{column}\"::text, 'UTF8')")
        };
        let rows = sqlx::query(&format!(
            "SELECT {expression} FROM \"{schema}\".\"{table}\" WHERE \"{column}\" IS NOT NULL"
        ))
        .fetch_all(&pool)
        .await
        .unwrap_or_else(|e| panic!("reading {schema}.{table}.{column}: {e}"));
        coverage.columns += 1;
        for row in rows {
            coverage.cells += 1;
            let bytes: Vec<u8> = row.get(0);
            scan(
                &format!("{schema}.{table}.{column}"),
                &bytes,
                planted,
                &mut hits,
            );
        }
    }
    pool.close().await;
    hits
}

/// Every message still on the stream `name`, body and headers.
pub async fn stream(
    jetstream: &async_nats::jetstream::Context,
    name: &str,
    planted: &[Planted],
    coverage: &mut Coverage,
) -> Vec<Hit> {
    let mut stream = jetstream.get_stream(name).await.expect("the stream");
    let state = stream
        .info()
        .await
        .expect("the stream's state")
        .state
        .clone();
    let mut hits = Vec::new();
    if state.messages == 0 {
        return hits;
    }
    for sequence in state.first_sequence..=state.last_sequence {
        // Deleted (erased) messages are gaps.
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        coverage.messages += 1;
        let place = format!("stream {name} #{sequence} {}", message.subject);
        scan(&place, &message.payload, planted, &mut hits);
        scan(
            &place,
            format!("{:?}", message.headers).as_bytes(),
            planted,
            &mut hits,
        );
    }
    hits
}

/// A text (a log, a metrics page, a span's texts).
pub fn text(place: &str, text: &str, planted: &[Planted], coverage: &mut Coverage) -> Vec<Hit> {
    coverage.texts += 1;
    let mut hits = Vec::new();
    scan(place, text.as_bytes(), planted, &mut hits);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_found_and_nothing_else() {
        let value = Planted::new("email", "Ruri@Example.JP");
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"xy Ruri@Example.JP z");
        assert_eq!(value.found_in(b"... ruri@example.jp ..."), ["clear"]);
        assert_eq!(
            value.found_in(hex(b"<Ruri@Example.JP>").to_uppercase().as_bytes()),
            ["hex"]
        );
        assert!(value.found_in(b64.as_bytes()).contains(&"base64"));
        assert!(value.found_in(b"ruri@example.com").is_empty());
    }
}
