//! Generated message text. Words follow a Zipf law (s = 1) over a syllable vocabulary with some
//! accented words, so common words, rare words and short substrings all occur as they do in real
//! text. Two words are planted at fixed rates: [`RARE_WORD`] and [`COMMON_WORD`]; neither can be
//! spelled from the vocabulary's syllables, so their counts are exactly the planted ones.

use rand::rngs::StdRng;
use rand::Rng;

/// Planted in about one message in [`RARE_EVERY`].
pub const RARE_WORD: &str = "quokkaberry";
pub const RARE_EVERY: u64 = 100_000;
/// Planted in about one message in [`COMMON_EVERY`].
pub const COMMON_WORD: &str = "refund";
pub const COMMON_EVERY: u64 = 100;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "po", "fe", "gu", "da", "vo", "ze", "bi", "ché",
    "ló", "ñu", "hä",
];
const VOCABULARY: usize = 5_000;

/// Words ordered from most to least frequent.
pub struct Vocabulary(Vec<String>);

impl Vocabulary {
    pub fn new(rng: &mut StdRng) -> Self {
        let mut seen = std::collections::HashSet::with_capacity(VOCABULARY);
        let mut words = Vec::with_capacity(VOCABULARY);
        while words.len() < VOCABULARY {
            let syllables = rng.gen_range(1..=4);
            let word: String = (0..syllables)
                .map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())])
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        Self(words)
    }

    /// A sentence of 6 to 24 words, with `planted` words put in at random places.
    pub fn sentence(&self, rng: &mut StdRng, planted: &[&str]) -> String {
        let count = rng.gen_range(6..=24);
        let mut words: Vec<&str> = (0..count)
            .map(|_| self.0[zipf_rank(rng)].as_str())
            .collect();
        for word in planted {
            let at = rng.gen_range(0..words.len());
            words[at] = word;
        }
        let mut sentence = words.join(" ");
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        sentence.push(if rng.gen_bool(0.2) { '?' } else { '.' });
        sentence
    }
}

/// An index into the vocabulary drawn with probability about 1/(rank+1) (Zipf, s = 1).
pub fn zipf_rank(rng: &mut StdRng) -> usize {
    zipf_index(rng, VOCABULARY)
}

/// An index below `n` drawn with probability about 1/(index+1).
pub fn zipf_index(rng: &mut StdRng, n: usize) -> usize {
    let harmonic_max = (n as f64).ln();
    let u: f64 = rng.gen_range(0.0..harmonic_max);
    (u.exp() as usize).saturating_sub(1).min(n - 1)
}

/// The planted words of the `nth` message written (counted from 1).
pub fn planted_in(nth: u64) -> Vec<&'static str> {
    let mut planted = Vec::new();
    if nth % RARE_EVERY == RARE_EVERY / 2 {
        planted.push(RARE_WORD);
    }
    if nth % COMMON_EVERY == COMMON_EVERY / 2 {
        planted.push(COMMON_WORD);
    }
    planted
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn planted_words_cannot_be_spelled_from_syllables() {
        let words = Vocabulary::new(&mut StdRng::seed_from_u64(1));
        for planted in [RARE_WORD, COMMON_WORD] {
            assert!(words.0.iter().all(|w| !w.contains(planted)));
        }
        let planted: u64 = (1..=1_000_000)
            .map(|n| planted_in(n).contains(&RARE_WORD) as u64)
            .sum();
        assert_eq!(planted, 1_000_000 / RARE_EVERY);
    }

    #[test]
    fn the_same_seed_gives_the_same_text() {
        let text = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let words = Vocabulary::new(&mut rng);
            words.sentence(&mut rng, &[COMMON_WORD])
        };
        assert_eq!(text(7), text(7));
        assert_ne!(text(7), text(8));
        assert!(text(7).contains(COMMON_WORD));
    }
}
