//! Art. 8: searching stored and published bytes for personal data in
//! clear, in every form it could take there: raw, hex, or base64 at any
//! alignment.

use base64::Engine;
use sqlx::PgPool;

/// A value looked for, by name, in each of its forms.
#[derive(Debug, Clone)]
pub struct Needle {
    pub name: String,
    forms: Vec<Vec<u8>>,
}

impl Needle {
    pub fn new(name: &str, clear: &[u8]) -> Self {
        assert!(clear.len() >= 6, "{name}: too short to search for reliably");
        let hex: String = clear.iter().map(|b| format!("{b:02x}")).collect();
        let mut forms = vec![
            clear.to_vec(),
            hex.clone().into_bytes(),
            hex.to_uppercase().into_bytes(),
        ];
        // Base64 of the value at each offset mod 3 within a larger blob:
        // only the characters whose six bits all come from the value.
        for offset in 0..3usize {
            let padded = [vec![0u8; offset], clear.to_vec()].concat();
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            let first = (8 * offset).div_ceil(6);
            let last = (8 * padded.len()) / 6; // exclusive
            forms.push(encoded.as_bytes()[first..last].to_vec());
        }
        Self {
            name: name.to_owned(),
            forms,
        }
    }

    pub fn found_in(&self, haystack: &[u8]) -> bool {
        self.forms
            .iter()
            .any(|form| haystack.windows(form.len()).any(|w| w == form.as_slice()))
    }
}

/// Every text-like and bytea column of every table in the `registration`
/// schema, as `(table.column, value bytes)`.
pub async fn schema_values(pool: &PgPool) -> Vec<(String, Vec<u8>)> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = 'registration' \
         AND data_type IN ('text', 'bytea', 'character varying', 'character', 'json', 'jsonb')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut values = Vec::new();
    for (table, column, data_type) in columns {
        let expression = if data_type == "bytea" {
            format!("\"{column}\"")
        } else {
            format!("convert_to(\"{column}\"::text, 'UTF8')")
        };
        let rows: Vec<Option<Vec<u8>>> = sqlx::query_scalar(&format!(
            "SELECT {expression} FROM registration.\"{table}\""
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        for value in rows.into_iter().flatten() {
            values.push((format!("{table}.{column}"), value));
        }
    }
    values
}

/// `where: needle` for each needle found in `values`.
pub fn findings<'a>(
    values: impl IntoIterator<Item = (String, &'a [u8])>,
    needles: &[Needle],
) -> Vec<String> {
    let mut found = Vec::new();
    for (place, bytes) in values {
        for needle in needles.iter().filter(|n| n.found_in(bytes)) {
            found.push(format!("{place}: {}", needle.name));
        }
    }
    found
}
