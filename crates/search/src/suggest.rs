//! As-you-type suggestions: care types, kinds and places from the vocabulary, then resource
//! names (and readings) from the catalog — all by prefix of the normalised text, so 「きゅう」,
//! 「キュウ」 and 「ｷｭｳ」 suggest the same. A Latin word that matches nothing gets its closest
//! vocabulary term (typo tolerance).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::normalize;
use crate::index::SearchIndex;
use crate::understand::{Concept, ConceptLabel, Understanding, Vocabulary, labels};

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// `care_type`, `kind`, `place`, `resource`
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What to put in the search box.
    pub text: String,
    /// Vocabulary code, municipality code or region id; the resource id for resources.
    pub code: String,
    pub ja: String,
    pub en: String,
}

/// Vocabulary and place phrases by normalised key, with the concept each stands for.
pub(crate) fn phrases_of(v: &Vocabulary) -> BTreeMap<String, (String, Concept)> {
    v.ja.iter()
        .chain(v.latin.iter())
        .filter(|(_, c)| !matches!(c, Concept::Filler | Concept::NearMe))
        .map(|(k, c)| (k.clone(), (v.written.get(k).cloned().unwrap_or_else(|| k.clone()), c.clone())))
        .collect()
}

impl SearchIndex {
    /// Whether the live resource with this id is a sample record.
    pub fn is_sample(&self, id: &str) -> bool {
        let catalog = self.catalog.read();
        id.parse().ok().and_then(|id| catalog.ord_of(id)).and_then(|o| catalog.get(o)).is_some_and(|e| e.sample)
    }

    /// Suggestions for what has been typed so far, at most `limit`, from `u`'s vocabulary and
    /// places and from this index's names.
    pub fn suggest(&self, u: &Understanding, typed: &str, limit: usize) -> Vec<Suggestion> {
        let (g, v) = (u.gazetteer(), u.vocabulary());
        let key = normalize(typed.trim());
        if key.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut out: Vec<Suggestion> = Vec::new();
        let concept_limit = limit.div_ceil(2).max(1);
        let push_concept = |c: &Concept, text: &str, out: &mut Vec<Suggestion>| {
            let ConceptLabel { kind, code, ja, en } = labels(c, g);
            let kind = kind.code();
            if out.iter().any(|s| s.kind == kind && s.code == code) {
                return;
            }
            out.push(Suggestion { kind, text: text.to_string(), code, ja, en });
        };
        // Shortest completions first: the typed text is most likely the start of a short term.
        let mut matches: Vec<&(String, Concept)> = u
            .phrases()
            .range(key.clone()..)
            .take_while(|(k, _)| k.starts_with(&key))
            .map(|(_, v)| v)
            .take(200)
            .collect();
        matches.sort_by_key(|(k, _)| k.chars().count());
        for (text, c) in matches {
            if out.len() >= concept_limit {
                break;
            }
            push_concept(c, text, &mut out);
        }
        if out.is_empty()
            && let Some((term, c)) = v.fuzzy_latin(&key)
        {
            push_concept(c, term, &mut out);
        }
        let catalog = self.catalog.read();
        for ord in catalog.names_starting_with(&key, limit.saturating_sub(out.len())) {
            if let Some(e) = catalog.get(ord) {
                out.push(Suggestion {
                    kind: "resource",
                    text: e.name.to_string(),
                    code: e.id.to_string(),
                    ja: e.kind.labels().ja.to_string(),
                    en: e.kind.labels().en.to_string(),
                });
            }
        }
        out.truncate(limit);
        out
    }
}
