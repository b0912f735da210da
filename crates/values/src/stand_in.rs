//! A stand-in for the office's terms of use, written for this project: the
//! office's text is theirs and never part of the repository, so a machine
//! without it (a fresh clone, CI elsewhere) publishes this document instead
//! in the tests and the demo. It follows the office's numbering of articles
//! and clauses, which [`Article`](crate::Article) cites, and says on its
//! first line that it is not the office's text.

/// The stand-in's text (Markdown-like plain text, its title on line one).
pub const STAND_IN_TERMS: &str = include_str!("../terms/stand-in-terms-of-use.md");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::Article;

    /// The `(article, clause)` numbers the text declares: `第N条` opens
    /// article N, `- (M)` is its clause M.
    fn numbering(text: &str) -> (BTreeSet<u8>, BTreeSet<(u8, u8)>) {
        let mut articles = BTreeSet::new();
        let mut clauses = BTreeSet::new();
        let mut current = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix('第') {
                let number = rest.split_once('条').and_then(|(n, _)| n.parse().ok());
                current = number;
                articles.extend(number);
            } else if let Some(rest) = line.strip_prefix("- (") {
                let clause: u8 = rest.split_once(')').unwrap().0.parse().unwrap();
                let article = current.expect("a clause inside an article");
                assert!(
                    clauses.insert((article, clause)),
                    "{article}({clause}) twice"
                );
            }
        }
        (articles, clauses)
    }

    #[test]
    fn the_stand_in_numbers_exactly_the_clauses_the_code_cites() {
        let (articles, clauses) = numbering(STAND_IN_TERMS);
        let cited_articles: BTreeSet<u8> = Article::ALL.iter().map(|a| a.number().0).collect();
        let cited_clauses: BTreeSet<(u8, u8)> = Article::ALL
            .iter()
            .filter_map(|a| Some((a.number().0, a.number().1?)))
            .collect();
        assert_eq!(articles, cited_articles);
        assert_eq!(clauses, cited_clauses);
    }

    #[test]
    fn the_stand_in_says_first_that_it_is_not_the_offices_text() {
        let title = STAND_IN_TERMS.lines().next().unwrap();
        assert!(title.starts_with("STAND-IN"), "{title}");
        assert!(title.contains("not the office's text"), "{title}");
    }
}
