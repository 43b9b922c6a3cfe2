//! "The term contains this text": an automaton run over a field's term dictionary, so that a
//! one-word query finds every word it is part of and then reads their postings without
//! positions. It is built from the text itself (never parsed), matching bytes with the
//! Knuth-Morris-Pratt failure function.

use std::sync::Arc;

use tantivy::query::{AutomatonWeight, EnableScoring, Query, Weight};
use tantivy::schema::Field;
use tantivy_fst::Automaton;

#[derive(Debug)]
pub struct Contains {
    pattern: Vec<u8>,
    /// `fallback[i]`: the longest proper prefix of `pattern[..=i]` that is also its suffix.
    fallback: Vec<usize>,
}

impl Contains {
    pub fn new(text: &str) -> Self {
        let pattern = text.as_bytes().to_vec();
        let mut fallback = vec![0; pattern.len()];
        let mut k = 0;
        for i in 1..pattern.len() {
            while k > 0 && pattern[i] != pattern[k] {
                k = fallback[k - 1];
            }
            if pattern[i] == pattern[k] {
                k += 1;
            }
            fallback[i] = k;
        }
        Self { pattern, fallback }
    }
}

/// The state is how much of the pattern the bytes read so far end with; reaching its length
/// is final.
impl Automaton for Contains {
    type State = usize;

    fn start(&self) -> usize {
        0
    }

    fn is_match(&self, state: &usize) -> bool {
        *state == self.pattern.len()
    }

    fn can_match(&self, _: &usize) -> bool {
        true
    }

    fn will_always_match(&self, state: &usize) -> bool {
        self.is_match(state)
    }

    fn accept(&self, state: &usize, byte: u8) -> usize {
        let mut k = *state;
        if k == self.pattern.len() {
            return k;
        }
        while k > 0 && self.pattern[k] != byte {
            k = self.fallback[k - 1];
        }
        if self.pattern[k] == byte {
            k + 1
        } else {
            0
        }
    }
}

/// Documents with a term in `field` that contains the text.
#[derive(Clone, Debug)]
pub struct ContainsQuery {
    field: Field,
    automaton: Arc<Contains>,
}

impl ContainsQuery {
    pub fn new(field: Field, text: &str) -> Self {
        Self {
            field,
            automaton: Arc::new(Contains::new(text)),
        }
    }
}

impl Query for ContainsQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<Contains>::new(
            self.field,
            Arc::clone(&self.automaton),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(automaton: &Contains, text: &str) -> bool {
        let state = text
            .bytes()
            .fold(automaton.start(), |s, b| automaton.accept(&s, b));
        automaton.is_match(&state)
    }

    #[test]
    fn matches_exactly_the_texts_containing_the_pattern() {
        let aab = Contains::new("aab");
        for (text, expected) in [
            ("aab", true),
            ("aaab", true),
            ("xaabx", true),
            ("abab", false),
            ("aa", false),
            ("", false),
        ] {
            assert_eq!(run(&aab, text), expected, "{text}");
        }
        let accented = Contains::new("né");
        assert!(run(&accented, "chéné"));
        assert!(!run(&accented, "chene"));
        // Brute force over a small alphabet.
        for pattern in ["abab", "aaba", "abc", "a"] {
            let automaton = Contains::new(pattern);
            for n in 0..4096u32 {
                let text: String = (0..6)
                    .map(|i| ["a", "b", "c", "ab"][((n >> (2 * i)) & 3) as usize])
                    .collect();
                assert_eq!(
                    run(&automaton, &text),
                    text.contains(pattern),
                    "{pattern} in {text}"
                );
            }
        }
    }
}
