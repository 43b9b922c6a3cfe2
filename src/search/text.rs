//! The matching rule and the n-grams that let the index answer it.
//!
//! A query matches a message when the folded query is a substring of the folded content.
//! Folding maps every character to its lowercase form on its own, so folding a concatenation
//! is the concatenation of the folded parts: the rule is a plain substring test on folded text,
//! and any character offset in folded text is a valid n-gram position.
//!
//! Every folded message is indexed three ways: its characters, its bigrams and its trigrams at
//! their character offsets. A one- or two-character query is a single term; a longer query is
//! a phrase of trigrams at fixed offsets that together cover every character of it, which
//! tantivy only matches where the whole query occurs. No candidate needs re-checking.

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;

/// Each character lowercased on its own (`İ` becomes two characters, `Σ` is always `σ`).
pub fn fold(text: &str) -> Vec<char> {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// `fold` as a string.
pub fn folded(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `needle` occurs in `haystack` under the matching rule: the reference every index
/// answer is checked against.
pub fn contains(haystack: &str, needle: &str) -> bool {
    Needle::new(needle).is_in(haystack)
}

/// A query folded once, to be looked for in many texts under the matching rule.
pub struct Needle(String);

impl Needle {
    pub fn new(needle: &str) -> Self {
        Self(folded(needle))
    }

    pub fn is_in(&self, haystack: &str) -> bool {
        folded(haystack).contains(&self.0)
    }
}

/// The `n`-character windows of folded text with their starting offsets.
pub fn grams(folded: &[char], n: usize) -> impl Iterator<Item = (usize, String)> + '_ {
    folded
        .windows(n)
        .enumerate()
        .map(|(offset, window)| (offset, window.iter().collect()))
}

/// The words of folded text: its maximal runs of alphanumeric characters. A query made only of
/// alphanumeric characters occurs in a text exactly when it occurs inside one of its words.
pub fn words(folded: &[char]) -> Vec<String> {
    folded
        .split(|c| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.iter().collect())
        .collect()
}

pub fn is_one_word(folded: &[char]) -> bool {
    !folded.is_empty() && folded.iter().all(|c| c.is_alphanumeric())
}

/// What a non-empty folded query looks up.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A query of one character.
    Char(String),
    /// A query of two characters.
    Bigram(String),
    /// A query of three or more characters: trigrams and their offsets in the query, covering
    /// every character. A three-character query is one trigram.
    Trigrams(Vec<(usize, String)>),
}

pub fn lookup(folded: &[char]) -> Option<Lookup> {
    let text = |range: &[char]| range.iter().collect::<String>();
    match folded.len() {
        0 => None,
        1 => Some(Lookup::Char(text(folded))),
        2 => Some(Lookup::Bigram(text(folded))),
        n => {
            // Trigrams at 0, 3, 6, ... and one ending at the last character.
            let mut offsets: Vec<usize> = (0..=n - 3).step_by(3).collect();
            if offsets.last() != Some(&(n - 3)) {
                offsets.push(n - 3);
            }
            Some(Lookup::Trigrams(
                offsets
                    .into_iter()
                    .map(|at| (at, text(&folded[at..at + 3])))
                    .collect(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_per_character_lowercase() {
        assert_eq!(fold("ÀbΣ"), vec!['à', 'b', 'σ']);
        assert_eq!(fold("İ").len(), 2);
        assert!(contains("Hello WORLD", "o w"));
        assert!(contains("ΟΔΥΣΣΕΥΣ", "σσ"));
        assert!(!contains("hello", "hellO!"));
    }

    #[test]
    fn lookups_cover_every_character_of_the_query() {
        assert_eq!(lookup(&fold("A")), Some(Lookup::Char("a".into())));
        assert_eq!(lookup(&fold("Ab")), Some(Lookup::Bigram("ab".into())));
        assert_eq!(
            lookup(&fold("abc")),
            Some(Lookup::Trigrams(vec![(0, "abc".into())]))
        );
        assert_eq!(
            lookup(&fold("abcdefg")),
            Some(Lookup::Trigrams(vec![
                (0, "abc".into()),
                (3, "def".into()),
                (4, "efg".into())
            ]))
        );
        assert_eq!(
            lookup(&fold("abcdef")),
            Some(Lookup::Trigrams(vec![(0, "abc".into()), (3, "def".into())]))
        );
        assert_eq!(lookup(&[]), None);
    }

    #[test]
    fn words_split_on_everything_but_letters_and_digits() {
        assert_eq!(
            words(&fold("Hi, wörld-2 🎉ok")),
            vec!["hi", "wörld", "2", "ok"]
        );
        assert!(is_one_word(&fold("Wörld2")));
        assert!(!is_one_word(&fold("a b")));
        assert!(!is_one_word(&[]));
    }

    #[test]
    fn grams_carry_their_offsets() {
        let folded = fold("abcd");
        let got: Vec<_> = grams(&folded, 3).collect();
        assert_eq!(got, vec![(0, "abc".to_string()), (1, "bcd".to_string())]);
        assert_eq!(grams(&folded, 5).count(), 0);
    }
}
