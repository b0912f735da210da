//! A person's name as registered: full-width and half-width Japanese (kanji,
//! hiragana, katakana, half-width katakana) and Latin script.

use unicode_normalization::UnicodeNormalization;

use super::field::FieldError;

/// Longest name part, in characters; generous for long Latin names while
/// bounding what the office stores.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest reading part, in characters (kana take more characters than kanji).
pub const MAX_READING_CHARS: usize = 100;

/// One part of a name (family or given), trimmed, 1-50 characters of
/// Japanese or Latin script with inner spaces, hyphens, apostrophes and dots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePart(String);

impl NamePart {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        if trimmed.chars().count() > MAX_NAME_CHARS {
            return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
        }
        if !trimmed.chars().all(|c| is_letter(c) || is_separator(c)) {
            return Err(
                "may contain only Japanese (kanji, hiragana, katakana, half-width katakana) or Latin letters, spaces, hyphens, apostrophes and dots"
                    .into(),
            );
        }
        if !trimmed.chars().any(is_letter) {
            return Err("must contain a letter".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The kana reading of a name part (furigana); empty for Latin names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading(String);

impl Reading {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_READING_CHARS {
            return Err(format!("must be at most {MAX_READING_CHARS} characters"));
        }
        if !trimmed.chars().all(|c| is_kana(c) || is_space(c)) {
            return Err("may contain only hiragana or katakana (full-width or half-width)".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated person name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub family: NamePart,
    pub given: NamePart,
    pub family_reading: Reading,
    pub given_reading: Reading,
}

impl PersonName {
    /// Parses all four parts, reporting every invalid one (paths relative to
    /// the name message, e.g. `family_name`).
    pub fn parse(
        family: &str,
        given: &str,
        family_reading: &str,
        given_reading: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let family = NamePart::parse(family).map_err(|e| FieldError::new("family_name", e));
        let given = NamePart::parse(given).map_err(|e| FieldError::new("given_name", e));
        let family_reading =
            Reading::parse(family_reading).map_err(|e| FieldError::new("family_name_reading", e));
        let given_reading =
            Reading::parse(given_reading).map_err(|e| FieldError::new("given_name_reading", e));
        match (family, given, family_reading, given_reading) {
            (Ok(family), Ok(given), Ok(family_reading), Ok(given_reading)) => Ok(Self {
                family,
                given,
                family_reading,
                given_reading,
            }),
            (family, given, family_reading, given_reading) => Err([
                family.err(),
                given.err(),
                family_reading.err(),
                given_reading.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }

    /// The name as the duplicate check compares it: NFKC (full-width Latin
    /// and half-width katakana fold to one form), lowercase, no spaces.
    pub fn identity_form(&self) -> String {
        let fold = |part: &str| -> String {
            part.nfkc()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect()
        };
        format!(
            "{}\u{1f}{}",
            fold(self.family.as_str()),
            fold(self.given.as_str())
        )
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{3000}'
}

fn is_separator(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '-' | '\'' | '.' | '\u{FF0D}' | '\u{FF07}' | '\u{FF0E}' | '\u{2019}'
        )
}

fn is_kana(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309F}' // hiragana
        | '\u{30A1}'..='\u{30FF}' // katakana, incl. ー ・ ヶ
        | '\u{FF65}'..='\u{FF9F}' // half-width katakana
    )
}

fn is_kanji(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' | '\u{3005}'..='\u{3007}' // 々 〆 〇
    )
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, '\u{00C0}'..='\u{00FF}' if c != '\u{00D7}' && c != '\u{00F7}')
        || matches!(c, '\u{0100}'..='\u{017F}') // Latin Extended-A
        || matches!(c, '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}') // full-width Latin
}

fn is_letter(c: char) -> bool {
    is_kanji(c) || is_kana(c) || is_latin(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_and_latin_names_in_every_width_are_accepted_and_trimmed() {
        for name in [
            "山田",
            "やまだ",
            "ヤマダ",
            "ﾔﾏﾀﾞ",
            "Yamada",
            "Ｙａｍａｄａ",
            "佐々木",
            "O'Brien",
            "Anne-Marie",
            "José",
        ] {
            let part = NamePart::parse(&format!("  {name}\u{3000}")).unwrap();
            assert_eq!(part.as_str(), name);
        }
    }

    #[test]
    fn digits_symbols_and_empty_names_are_refused() {
        for name in [
            "",
            "   ",
            "山田1",
            "bob@x",
            "---",
            "<script>",
            "😀",
            &"あ".repeat(51),
        ] {
            assert!(NamePart::parse(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn readings_are_kana_only_and_may_be_empty() {
        assert!(Reading::parse("").is_ok());
        assert!(Reading::parse("やまだ").is_ok());
        assert!(Reading::parse("ﾔﾏﾀﾞ").is_ok());
        assert!(Reading::parse("山田").is_err());
        assert!(Reading::parse("yamada").is_err());
    }

    #[test]
    fn every_invalid_part_is_reported() {
        let errors = PersonName::parse("", "1", "x", "y").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "family_name",
                "given_name",
                "family_name_reading",
                "given_name_reading"
            ]
        );
    }

    #[test]
    fn width_and_case_do_not_change_the_identity() {
        let a = PersonName::parse("ﾔﾏﾀﾞ", "Ｔａｒｏ", "", "").unwrap();
        let b = PersonName::parse("ヤマダ", "taro", "", "").unwrap();
        assert_eq!(a.identity_form(), b.identity_form());
    }
}
