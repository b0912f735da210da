//! Strings for a text field: empty, UUIDs, strings that have broken
//! parsers before, random and huge unicode, NUL, and the values a test
//! named, as they are and slightly off.

use proptest::{collection::vec, prelude::*, sample::select, strategy::Union};

use super::Generator;

impl Generator {
    /// Strings for a field named `field`.
    pub fn string(&self, field: &str) -> BoxedStrategy<String> {
        let mut known = self.hints.strings.clone();
        known.extend(self.hints.fields.get(field).into_iter().flatten().cloned());
        let mut arms: Vec<(u32, BoxedStrategy<String>)> = vec![
            (2, Just(String::new()).boxed()),
            (
                3,
                any::<u128>()
                    .prop_map(|n| uuid::Uuid::from_u128(n).to_string())
                    .boxed(),
            ),
            (1, Just(uuid::Uuid::now_v7().to_string()).boxed()),
            (3, select(TRICKY).prop_map(str::to_owned).boxed()),
            (2, "[ -~]{0,24}".boxed()),
            (2, "\\PC{0,24}".boxed()),
            (
                1,
                vec(any::<char>(), 0..24)
                    .prop_map(String::from_iter)
                    .boxed(),
            ),
            (
                1,
                (
                    select(vec!['a', 'あ', '0', ' ', '\0', '🦀', '\u{0301}']),
                    1_000..50_000usize,
                )
                    .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect())
                    .boxed(),
            ),
            (
                1,
                ("[a-z0-9-]{0,12}", "[a-z0-9-]{0,12}")
                    .prop_map(|(a, b)| format!("{a}\0{b}"))
                    .boxed(),
            ),
        ];
        if !known.is_empty() {
            arms.push((6, select(known.clone()).boxed()));
            // Known values, slightly off: padded, cased, cut, extended.
            arms.push((
                2,
                (select(known), 0..5u8)
                    .prop_map(|(value, how)| match how {
                        0 => format!(" {value} "),
                        1 => value.to_uppercase(),
                        2 => value.chars().skip(1).collect(),
                        3 => format!("{value}x"),
                        _ => format!("{value}\u{3000}"),
                    })
                    .boxed(),
            ));
        }
        Union::new_weighted(arms).boxed()
    }
}

/// Strings that have broken parsers before.
const TRICKY: &[&str] = &[
    " ",
    "\t\n",
    "\u{3000}",
    "\u{feff}",
    "\u{202e}abc",
    "a\u{0301}",
    "🦀",
    "\u{10ffff}",
    "ｱｲｳ",
    "Ｔａｒｏ",
    "山田\0太郎",
    "\0",
    "\u{7f}",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999",
    "null",
    "' OR 1=1 --",
    "%s%n",
    "../../etc/passwd",
    "<script>",
    "*",
    ".",
    "|",
    "1700000000.0|x",
    "ja",
    "en",
    "ja-JP",
    "und",
    "x-",
    "2023-12-18",
    "2023-02-30",
    "9999-12-31",
    "0000-00-00",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "{01234567-89ab-cdef-0123-456789abcdef}",
    "urn:uuid:01234567-89ab-cdef-0123-456789abcdef",
    "0123456789abcdef0123456789abcdef",
    "a@example.com",
    "@",
    "a@",
    "+81-87-811-8609",
    "+",
    "127.0.0.1",
    "::1",
    "256.1.1.1",
    "203.0.113.7",
    "2001:db8::1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36",
    "Windows",
    "11 23H2",
    "GET",
    "system:scheduling",
];
