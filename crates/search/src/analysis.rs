//! Text analysis shared by indexing and querying, for Japanese and English.
//!
//! 1. [`normalize`]: Unicode NFKC (full-width ASCII → half-width, half-width kana → full-width),
//!    lowercase, katakana → hiragana, small kana → full-size, the long-vowel mark dropped after
//!    kana, common 旧字/異体字 → 新字, and ヶ/ケ/が between kanji unified (桜ヶ丘 = 桜ケ丘 = 桜が丘).
//! 2. [`tokens`]: runs of letters/digits (Latin) become words, stemmed (English Snowball);
//!    runs of Japanese script become overlapping character bigrams, with the run's last character
//!    also emitted alone, so that any substring of length ≥ 2 is a phrase of bigrams and any single
//!    character is the first character of some token. Positions jump by 2 between runs so a phrase
//!    never matches across punctuation or a change of script.
//!
//! Matching a query word therefore means "this normalised substring occurs in the field", like
//! pg_bigm or Lucene's CJK bigrams, with no dictionary to download.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
pub use tsunagu_model::text::normalize;
use tsunagu_model::text::{is_kana, is_kanji};
use unicode_normalization::UnicodeNormalization;

/// Bump when analysis changes: the index is rebuilt when its recorded version differs.
pub const ANALYZER_VERSION: u32 = 3;

/// Name under which the analyzer is registered with tantivy.
pub const ANALYZER_NAME: &str = "tsunagu_ja_en";

/// Name of the word analyzer (ICU dictionary segmentation), for precision on names.
pub const WORDS_ANALYZER_NAME: &str = "tsunagu_words";

/// Japanese script: kanji, kana, and the iteration/prolonged marks.
fn is_japanese(c: char) -> bool {
    is_kanji(c) || is_kana(c)
}

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// One analysed token: text and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzedToken {
    pub text: String,
    pub position: usize,
}

/// Analyse already-normalised text into tokens (see the module documentation).
pub fn tokens_of_normalized(norm: &str) -> Vec<AnalyzedToken> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut run: Vec<char> = Vec::new();
    let mut run_is_ja = false;
    let flush = |run: &mut Vec<char>, is_ja: bool, pos: &mut usize, out: &mut Vec<AnalyzedToken>| {
        if run.is_empty() {
            return;
        }
        if is_ja {
            for w in run.windows(2) {
                out.push(AnalyzedToken { text: w.iter().collect(), position: *pos });
                *pos += 1;
            }
            out.push(AnalyzedToken { text: run[run.len() - 1].to_string(), position: *pos });
            *pos += 1;
        } else {
            let word: String = run.iter().collect();
            let stemmed =
                if word.chars().all(|c| c.is_ascii_alphabetic()) { stemmer().stem(&word).into_owned() } else { word };
            out.push(AnalyzedToken { text: stemmed, position: *pos });
            *pos += 1;
        }
        run.clear();
        *pos += 1; // gap: phrases do not cross runs
    };
    for c in norm.chars() {
        let ja = is_japanese(c);
        let word = ja || c.is_alphanumeric();
        if !word {
            flush(&mut run, run_is_ja, &mut pos, &mut out);
            continue;
        }
        if !run.is_empty() && ja != run_is_ja {
            flush(&mut run, run_is_ja, &mut pos, &mut out);
        }
        run_is_ja = ja;
        run.push(c);
    }
    flush(&mut run, run_is_ja, &mut pos, &mut out);
    out
}

/// Normalise and tokenise.
pub fn tokens(text: &str) -> Vec<AnalyzedToken> {
    tokens_of_normalized(&normalize(text))
}

fn segmenter() -> icu_segmenter::WordSegmenterBorrowed<'static> {
    icu_segmenter::WordSegmenter::new_auto(icu_segmenter::options::WordBreakInvariantOptions::default())
}

/// Words by ICU's dictionary segmentation (works offline: compiled data), each normalised like
/// [`normalize`]. Used beside the bigrams: a query that matches whole words scores higher
/// (「京都」 is not a word of 「東京都」).
pub fn words(text: &str) -> Vec<AnalyzedToken> {
    // Segment the text as written (the dictionary knows katakana words), fold each word after.
    let written: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = Vec::new();
    let mut last = 0;
    let mut iter = segmenter().segment_str(&written).iter_with_word_type();
    for (end, kind) in iter.by_ref() {
        let piece = &written[last..end];
        last = end;
        if !kind.is_word_like() {
            continue;
        }
        let n = normalize(piece);
        if n.is_empty() {
            continue;
        }
        let n = if n.chars().all(|c| c.is_ascii_alphabetic()) { stemmer().stem(&n).into_owned() } else { n };
        out.push(AnalyzedToken { text: n, position: out.len() });
    }
    out
}

/// The word analyzer as a tantivy tokenizer.
#[derive(Clone, Default)]
pub struct WordsTokenizer;

impl Tokenizer for WordsTokenizer {
    type TokenStream<'a> = JaEnTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaEnTokenStream {
        JaEnTokenStream { tokens: words(text), index: 0, token: Token::default() }
    }
}

/// The analyzer as a tantivy tokenizer.
#[derive(Clone, Default)]
pub struct JaEnTokenizer;

pub struct JaEnTokenStream {
    tokens: Vec<AnalyzedToken>,
    index: usize,
    token: Token,
}

impl Tokenizer for JaEnTokenizer {
    type TokenStream<'a> = JaEnTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaEnTokenStream {
        JaEnTokenStream { tokens: tokens(text), index: 0, token: Token::default() }
    }
}

impl TokenStream for JaEnTokenStream {
    fn advance(&mut self) -> bool {
        let Some(t) = self.tokens.get(self.index) else { return false };
        self.token.text.clear();
        self.token.text.push_str(&t.text);
        self.token.position = t.position;
        self.token.position_length = 1;
        self.index += 1;
        true
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn normalisation_pairs() {
        for (a, b) in [
            ("ＡＢＣ１２３", "abc123"),
            ("ｶﾀｶﾅ", "かたかな"),
            ("マツモト", "まつもと"),
            ("胃瘻", "胃ろう"),
            ("髙橋", "高橋"),
            ("桜ヶ丘", "桜が丘"),
            ("桜ケ丘", "桜が丘"),
            ("ショートステイ", "しよとすてい"),
            ("きゅういん", "きゆういん"),
            ("G-Tube", "g-tube"),
        ] {
            assert_eq!(normalize(a), normalize(b), "{a} vs {b}");
        }
        assert_eq!(normalize("ｶﾀｶﾅ"), "かたかな");
    }

    #[test]
    fn japanese_runs_become_bigrams_plus_final_char() {
        assert_eq!(texts("吸引"), ["吸引", "引"]);
        assert_eq!(texts("たんの吸引"), ["たん", "んの", "の吸", "吸引", "引"]);
        assert_eq!(texts("保育園"), ["保育", "育園", "園"]);
        assert_eq!(texts("園"), ["園"]);
    }

    #[test]
    fn runs_split_at_punctuation_and_script_changes_with_a_position_gap() {
        let t = tokens("HOT療法、ventilators");
        let pairs: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(pairs, [("hot", 0), ("療法", 2), ("法", 3), ("ventil", 5)]);
    }

    #[test]
    fn icu_segments_japanese_into_words_offline() {
        let w: Vec<String> = words("東京都の訪問看護ステーション").into_iter().map(|t| t.text).collect();
        assert!(w.contains(&"東京".to_string()) || w.contains(&"東京都".to_string()), "{w:?}");
        assert!(!w.contains(&"京都".to_string()), "{w:?}");
        assert!(w.iter().any(|x| x.contains("看護")), "{w:?}");
    }

    #[test]
    fn english_words_are_stemmed() {
        assert_eq!(texts("nurses nursing"), ["nurs", "nurs"]);
    }
}
