//! The words people use for each concept: `index/vocabulary.toml`, reviewed like code.
//!
//! One file serves query understanding (search) and the importers (exchange), so that a centre's
//! spreadsheet in everyday words (保育園, 放デイ, 訪看, 気切, 喀痰吸引, 呼吸器) imports as the same
//! kinds and care types a family's search finds. Terms are compared after [`normalize`], so
//! 「キュウイン」 = 「きゅういん」 and "G-Tube" = "g-tube".
//!
//! Umbrella words (`[care_group.*]`) mean any one of several care types: 「経管栄養」 is nasal or
//! gastrostomy feeding, 「医療的ケア」 any care type at all. A search takes any of them; an import
//! cannot say which one a provider meant, and asks.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::text::normalize;
use crate::{CareSet, CareType, Kind, TransportFeature};

const VOCABULARY: &str = include_str!("../../../index/vocabulary.toml");

/// The forms of one concept, in Japanese (kanji, kana, field abbreviations) and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Forms {
    #[serde(default)]
    pub ja: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

impl Forms {
    /// Every form, Japanese first.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.ja.iter().chain(&self.en).map(String::as_str)
    }
}

/// An umbrella word: any one of its care types counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareGroup {
    /// e.g. `tube_feeding`.
    pub code: String,
    pub care: CareSet,
    /// e.g. 経管栄養（経鼻・胃ろう・腸ろうのどれか）
    pub label_ja: String,
    pub label_en: String,
    pub forms: Forms,
}

/// A word for several kinds at once: 「災害」 and 「停電」 reach power supply points and welfare
/// shelters alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindGroup {
    pub code: String,
    pub kinds: Vec<Kind>,
    pub label_ja: String,
    pub label_en: String,
    pub forms: Forms,
}

#[derive(Deserialize)]
struct KindGroupRow {
    kinds: Vec<String>,
    label_ja: String,
    label_en: String,
    #[serde(flatten)]
    forms: Forms,
}

#[derive(Deserialize)]
struct GroupRow {
    /// Care type codes, or `["*"]` for every care type.
    care: Vec<String>,
    label_ja: String,
    label_en: String,
    #[serde(flatten)]
    forms: Forms,
}

#[derive(Deserialize)]
struct File {
    care: BTreeMap<String, Forms>,
    #[serde(default)]
    care_group: BTreeMap<String, GroupRow>,
    kind: BTreeMap<String, Forms>,
    #[serde(default)]
    kind_group: BTreeMap<String, KindGroupRow>,
    transport: BTreeMap<String, Forms>,
    near_me: Forms,
    filler: Forms,
}

/// What a care word names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CareWord<'a> {
    One(CareType),
    /// Any one of these (an umbrella word).
    AnyOf(&'a CareGroup),
}

/// The parsed vocabulary, in file order.
#[derive(Debug)]
pub struct Vocabulary {
    pub care: Vec<(CareType, Forms)>,
    pub care_groups: Vec<CareGroup>,
    pub kinds: Vec<(Kind, Forms)>,
    /// Words for several kinds at once.
    pub kind_groups: Vec<KindGroup>,
    pub transport: Vec<(TransportFeature, Forms)>,
    /// Phrases meaning "near where I am".
    pub near_me: Forms,
    /// Words with no search meaning once concepts are recognised.
    pub filler: Forms,
    care_by_form: HashMap<String, CareTerm>,
    kind_by_form: HashMap<String, Kind>,
}

#[derive(Debug, Clone, Copy)]
enum CareTerm {
    One(CareType),
    Group(usize),
}

/// Why the vocabulary file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("index/vocabulary.toml: {0}")]
pub struct VocabularyError(String);

impl Vocabulary {
    /// The bundled `index/vocabulary.toml`, parsed once. Panics only if the file is malformed,
    /// which a test rules out.
    pub fn bundled() -> &'static Vocabulary {
        static V: OnceLock<Vocabulary> = OnceLock::new();
        V.get_or_init(|| Vocabulary::parse(VOCABULARY).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Parse a vocabulary file, refusing unknown codes and a form that names two concepts.
    pub fn parse(text: &str) -> Result<Vocabulary, VocabularyError> {
        let bad = |s: String| VocabularyError(s);
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let care: Vec<(CareType, Forms)> = by_code(file.care)?;
        let mut care_groups = Vec::new();
        for (code, g) in file.care_group {
            let set = if g.care == ["*"] {
                CareType::ALL.iter().copied().collect()
            } else {
                g.care.iter().map(|c| parse_code::<CareType>(c)).collect::<Result<CareSet, _>>()?
            };
            if set.len() < 2 {
                return Err(bad(format!("care_group.{code} needs two or more care types")));
            }
            care_groups.push(CareGroup { code, care: set, label_ja: g.label_ja, label_en: g.label_en, forms: g.forms });
        }
        let kinds: Vec<(Kind, Forms)> = by_code(file.kind)?;
        let mut kind_groups = Vec::new();
        for (code, g) in file.kind_group {
            let kinds = g.kinds.iter().map(|k| parse_code::<Kind>(k)).collect::<Result<Vec<_>, _>>()?;
            if kinds.len() < 2 {
                return Err(bad(format!("kind_group.{code} needs two or more kinds")));
            }
            kind_groups.push(KindGroup { code, kinds, label_ja: g.label_ja, label_en: g.label_en, forms: g.forms });
        }
        let transport: Vec<(TransportFeature, Forms)> = by_code(file.transport)?;
        let mut care_by_form = HashMap::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut claim = |form: &str, owner: String| -> Result<String, VocabularyError> {
            let n = normalize(form);
            match seen.get(&n) {
                Some(other) if *other != owner => Err(bad(format!("`{form}` is a form of both {other} and {owner}"))),
                _ => {
                    seen.insert(n.clone(), owner);
                    Ok(n)
                }
            }
        };
        for (c, f) in &care {
            for form in f.all() {
                care_by_form.insert(claim(form, format!("care.{}", c.code()))?, CareTerm::One(*c));
            }
        }
        for (i, g) in care_groups.iter().enumerate() {
            for form in g.forms.all() {
                care_by_form.insert(claim(form, format!("care_group.{}", g.code))?, CareTerm::Group(i));
            }
        }
        let mut kind_by_form = HashMap::new();
        for (k, f) in &kinds {
            for form in f.all() {
                kind_by_form.insert(claim(form, format!("kind.{}", k.code()))?, *k);
            }
        }
        for g in &kind_groups {
            for form in g.forms.all() {
                claim(form, format!("kind_group.{}", g.code))?;
            }
        }
        for (t, f) in &transport {
            for form in f.all() {
                claim(form, format!("transport.{}", t.code()))?;
            }
        }
        Ok(Vocabulary {
            care,
            care_groups,
            kinds,
            kind_groups,
            transport,
            near_me: file.near_me,
            filler: file.filler,
            care_by_form,
            kind_by_form,
        })
    }

    /// The care type or umbrella word a text is a form of (compared normalised).
    pub fn care_word(&self, text: &str) -> Option<CareWord<'_>> {
        self.care_by_form.get(&normalize(text.trim())).map(|t| match t {
            CareTerm::One(c) => CareWord::One(*c),
            CareTerm::Group(i) => CareWord::AnyOf(&self.care_groups[*i]),
        })
    }

    /// The kind a text is a form of (compared normalised).
    pub fn kind_word(&self, text: &str) -> Option<Kind> {
        self.kind_by_form.get(&normalize(text.trim())).copied()
    }

    /// An umbrella word by its code.
    pub fn care_group(&self, code: &str) -> Option<&CareGroup> {
        self.care_groups.iter().find(|g| g.code == code)
    }

    /// The umbrella word whose care types are exactly `care`, if one is.
    pub fn group_of(&self, care: CareSet) -> Option<&CareGroup> {
        self.care_groups.iter().find(|g| g.care == care)
    }
}

/// A vocabulary code, or why it is none.
fn parse_code<T: std::str::FromStr<Err = crate::UnknownTerm>>(c: &str) -> Result<T, VocabularyError> {
    c.parse().map_err(|e: crate::UnknownTerm| VocabularyError(e.to_string()))
}

/// A section of concepts by code, in file order.
fn by_code<T: std::str::FromStr<Err = crate::UnknownTerm>>(
    section: BTreeMap<String, Forms>,
) -> Result<Vec<(T, Forms)>, VocabularyError> {
    section.into_iter().map(|(c, f)| Ok((parse_code(&c)?, f))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_vocabulary_parses_and_every_form_names_one_concept() {
        let v = Vocabulary::bundled();
        assert_eq!(v.care.len(), CareType::ALL.len(), "every care type has forms");
        assert_eq!(v.kinds.len(), Kind::ALL.len(), "every kind has forms");
        for (c, f) in &v.care {
            assert!(!f.ja.is_empty() && !f.en.is_empty(), "{c:?}");
        }
    }

    #[test]
    fn everyday_words_name_kinds_and_care_types() {
        let v = Vocabulary::bundled();
        for (word, kind) in
            [("保育園", Kind::Daycare), ("放デイ", Kind::AfterSchoolDayService), ("訪看", Kind::HomeNursing)]
        {
            assert_eq!(v.kind_word(word), Some(kind), "{word}");
        }
        for (word, care) in [
            ("気切", CareType::Tracheostomy),
            ("喀痰吸引", CareType::SuctionOralNasal),
            ("呼吸器", CareType::Ventilator),
            ("ｲﾛｳ", CareType::Gastrostomy),
            ("G-Tube", CareType::Gastrostomy),
        ] {
            assert_eq!(v.care_word(word), Some(CareWord::One(care)), "{word}");
        }
    }

    #[test]
    fn umbrella_words_mean_any_of_their_care_types() {
        let v = Vocabulary::bundled();
        let Some(CareWord::AnyOf(g)) = v.care_word("経管栄養") else { panic!("経管栄養 is an umbrella word") };
        assert_eq!(g.care, [CareType::TubeFeedingNasal, CareType::Gastrostomy].into_iter().collect());
        let Some(CareWord::AnyOf(g)) = v.care_word("吸引") else { panic!("吸引") };
        assert!(g.care.contains(CareType::SuctionOralNasal) && g.care.contains(CareType::SuctionTracheal));
        let Some(CareWord::AnyOf(g)) = v.care_word("医ケア") else { panic!("医ケア") };
        assert_eq!(g.care.len(), CareType::ALL.len());
    }

    #[test]
    fn a_form_of_two_concepts_or_an_unknown_code_is_refused() {
        let twice = "[care.ventilator]\nja = [\"呼吸器\"]\n[care.oxygen]\nja = [\"呼吸器\"]\n[kind]\n[transport]\n[near_me]\n[filler]\n";
        let e = Vocabulary::parse(twice).unwrap_err().to_string();
        assert!(
            e.contains("both care.oxygen and care.ventilator") || e.contains("both care.ventilator and care.oxygen"),
            "{e}"
        );
        let unknown = "[care.ventilatr]\nja = [\"x\"]\n[kind]\n[transport]\n[near_me]\n[filler]\n";
        assert!(Vocabulary::parse(unknown).unwrap_err().to_string().contains("ventilatr"));
    }
}
