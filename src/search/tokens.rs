//! The index's tokenizers. A document carries its folded text once per field and each field's
//! tokenizer cuts it into that field's tokens; handing tantivy pre-tokenized strings instead
//! made it serialise every token list to JSON and parse it back, a third of indexing time.

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::Index;

use super::text::{grams, words};

pub const CHARS: &str = "wootlite_chars";
pub const BIGRAMS: &str = "wootlite_bigrams";
pub const TRIGRAMS: &str = "wootlite_trigrams";
pub const WORDS: &str = "wootlite_words";

/// Registers the tokenizers with an index, before any document is added through it.
pub fn register(index: &Index) {
    let manager = index.tokenizers();
    manager.register(CHARS, TextAnalyzer::from(Cutter::Grams(1)));
    manager.register(BIGRAMS, TextAnalyzer::from(Cutter::Grams(2)));
    manager.register(TRIGRAMS, TextAnalyzer::from(Cutter::Grams(3)));
    manager.register(WORDS, TextAnalyzer::from(Cutter::Words));
}

/// Cuts already folded text into n-grams at their character offsets, or into words at their
/// ordinal positions.
#[derive(Clone, Copy)]
enum Cutter {
    Grams(usize),
    Words,
}

impl Tokenizer for Cutter {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let chars: Vec<char> = text.chars().collect();
        let cut: Vec<(usize, String)> = match *self {
            Cutter::Grams(n) => grams(&chars, n).collect(),
            Cutter::Words => words(&chars).into_iter().enumerate().collect(),
        };
        Tokens {
            tokens: cut
                .into_iter()
                .map(|(position, text)| Token {
                    offset_from: 0,
                    offset_to: 0,
                    position,
                    text,
                    position_length: 1,
                })
                .collect(),
            next: 0,
        }
    }
}

pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(mut cutter: Cutter, text: &str) -> Vec<(usize, String)> {
        let mut stream = cutter.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().position, stream.token().text.clone()));
        }
        out
    }

    #[test]
    fn grams_sit_at_character_offsets_and_words_at_ordinals() {
        assert_eq!(
            cut(Cutter::Grams(3), "añob"),
            vec![(0, "año".to_string()), (1, "ñob".to_string())]
        );
        assert_eq!(cut(Cutter::Grams(2), "a"), vec![]);
        assert_eq!(
            cut(Cutter::Words, "hi, there"),
            vec![(0, "hi".to_string()), (1, "there".to_string())]
        );
    }
}
