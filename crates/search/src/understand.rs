//! Query understanding: free text as people write it → structured intent.
//!
//! 「たん吸引できる保育園 松本」 → care type `suction_oral_nasal`, kind `daycare`, place 松本市, no
//! remaining text. "ventilator visiting nurse near saitama" → `ventilator`, `home_nursing`,
//! さいたま市. The phrases come from `index/vocabulary.toml` (care types, kinds, "near me",
//! filler) and from the bundled places (municipality and 圏域 names, readings in kana and romaji).
//!
//! Matching is greedy longest-first over normalised text (the analyzer's normalisation, so kana,
//! width and case do not matter): character by character in Japanese runs, word by word in Latin
//! runs. Latin words that match nothing get a typo-tolerant second look (edit distance 1 for 4–7
//! letters, 2 for longer). Addresses and postal codes inside the text are geocoded as a whole.
//! What is left — minus particles between recognised phrases — is searched as text.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Serialize;
use tsunagu_model::error::edit_distance;
use tsunagu_model::terms::Forms;
use tsunagu_model::{CareSet, CareType, Kind, MunicipalityCode, TransportFeature};
use tsunagu_places::{Gazetteer, Geocoder, Place, Places, Precision};

use crate::analysis::normalize;
use tsunagu_places::romaji::{simplified, to_romaji};

/// Particles dropped when they are all that is left between recognised phrases.
const PARTICLES: &str = "のがをにはとやへもかなでよ、。・,.!?！？";

/// Words about the child rather than the resource: dropped with particles, never on their own
/// (so a name like 虹の子 survives).
const CHILD_WORDS: &[&str] = &["子ども", "こども", "子供", "息子", "娘", "子", "児"];

/// A concept a phrase stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Concept {
    Care(CareType),
    /// An umbrella word: any one of these care types.
    AnyCare(CareSet),
    Kind(Kind),
    /// A word for several kinds at once (index into the vocabulary's kind groups).
    KindGroup(usize),
    Transport(TransportFeature),
    Municipality(MunicipalityCode),
    Region(String),
    Prefecture(u8),
    NearMe,
    Filler,
}

/// The phrase dictionary.
pub struct Vocabulary {
    /// Normalised Japanese (or mixed) phrase → concept.
    pub(crate) ja: HashMap<String, Concept>,
    ja_max_chars: usize,
    /// Normalised Latin phrase (words joined by one space) → concept.
    pub(crate) latin: HashMap<String, Concept>,
    latin_max_words: usize,
    /// Single Latin words that carry meaning (not filler), for typo matching.
    latin_words: Vec<(String, Concept)>,
    /// Normalised key → the phrase as written in the vocabulary (for display).
    pub(crate) written: HashMap<String, String>,
}

fn is_latin_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '\'')
}

impl Vocabulary {
    /// Build from `index/vocabulary.toml` and the gazetteer. Panics only if the bundled file is
    /// malformed, which a test rules out.
    pub fn new(g: &Gazetteer) -> Vocabulary {
        let file = tsunagu_model::terms::Vocabulary::bundled();
        let mut v = Vocabulary {
            ja: HashMap::new(),
            ja_max_chars: 1,
            latin: HashMap::new(),
            latin_max_words: 1,
            latin_words: Vec::new(),
            written: HashMap::new(),
        };
        // Places first, so that a concept term with the same spelling wins (inserted later).
        for p in g.prefectures() {
            v.add(&p.name, Concept::Prefecture(p.code));
            v.add(&p.name_kana, Concept::Prefecture(p.code));
            v.add(&format!("{} prefecture", p.name_en.to_lowercase()), Concept::Prefecture(p.code));
        }
        for r in g.regions() {
            let c = Concept::Region(r.id.clone());
            for name in std::iter::once(&r.name).chain(&r.aliases).chain(&r.name_kana) {
                v.add(&format!("{name}圏域"), c.clone());
                v.add(&format!("{name}けんいき"), c.clone());
                v.add(&format!("{name}地域"), c.clone());
                v.add(name, c.clone());
            }
            // Romanised and English names: "Hokushin", "kita-shin", "Kiso area", "Saitama east".
            let romaji = r.name_kana.as_deref().and_then(to_romaji).map(|r| simplified(&r));
            for name in r.names_en.iter().map(|n| n.to_lowercase()).chain(romaji) {
                for form in [name.clone(), format!("{name} region"), format!("{name} area"), format!("{name} district")]
                {
                    v.add(&form, c.clone());
                }
            }
        }
        for m in g.municipalities() {
            let c = Concept::Municipality(m.code);
            v.add(&m.name, c.clone());
            v.add(&m.full_name, c.clone());
            let bare = m.name.trim_end_matches(['市', '町', '村']);
            if bare.chars().count() >= 2 && !bare.ends_with('区') {
                v.add(bare, c.clone());
                // The station named after the place (松本駅, 長野駅): a family's landmark.
                v.add(&format!("{bare}駅"), c.clone());
            }
            if let Some(parent) = m.parent.and_then(|p| g.municipality(p)) {
                let ward = m.name.trim_start_matches(&parent.name);
                v.add(ward, c.clone()); // 浦和区
                if let Some(b) = ward.strip_suffix('区').filter(|b| b.chars().count() >= 2) {
                    v.add(&format!("{b}駅"), c.clone()); // 大宮駅
                }
            }
            v.add(&m.name_kana, c.clone());
            let kana_bare = ["し", "まち", "むら", "ちょう", "そん", "く"]
                .iter()
                .find_map(|s| m.name_kana.strip_suffix(s))
                .unwrap_or(&m.name_kana);
            if m.parent.is_none() {
                v.add(kana_bare, c.clone());
                if let Some(r) = to_romaji(kana_bare) {
                    for form in [r.clone(), simplified(&r), format!("{r} city"), format!("{r}-shi")] {
                        v.add(&form, c.clone());
                    }
                }
            }
        }
        let terms = |t: &Forms, c: Concept, v: &mut Vocabulary| {
            for s in t.all() {
                v.add(s, c.clone());
            }
        };
        for (care, t) in &file.care {
            terms(t, Concept::Care(*care), &mut v);
        }
        for g in &file.care_groups {
            terms(&g.forms, Concept::AnyCare(g.care), &mut v);
        }
        for (kind, t) in &file.kinds {
            terms(t, Concept::Kind(*kind), &mut v);
        }
        for (i, g) in file.kind_groups.iter().enumerate() {
            terms(&g.forms, Concept::KindGroup(i), &mut v);
        }
        for (f, t) in &file.transport {
            terms(t, Concept::Transport(*f), &mut v);
        }
        // Single characters (particles) are not phrases: they are dropped only between phrases.
        let filler = Forms {
            ja: file.filler.ja.iter().filter(|t| t.chars().count() > 1).cloned().collect(),
            en: file.filler.en.clone(),
        };
        terms(&filler, Concept::Filler, &mut v);
        terms(&file.near_me, Concept::NearMe, &mut v);
        v.latin_words = v
            .latin
            .iter()
            .filter(|(k, c)| !k.contains(' ') && k.len() >= 4 && **c != Concept::Filler)
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect();
        v.latin_words.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn add(&mut self, phrase: &str, c: Concept) {
        let n = normalize(phrase);
        let words: Vec<&str> = n.split(|ch: char| ch.is_whitespace() || ch == '-').filter(|w| !w.is_empty()).collect();
        if !words.is_empty() && words.iter().all(|w| is_latin_word(w)) {
            self.latin_max_words = self.latin_max_words.max(words.len());
            let key = words.join(" ");
            self.written.insert(key.clone(), phrase.to_string());
            self.latin.insert(key, c);
        } else if !n.is_empty() {
            self.ja_max_chars = self.ja_max_chars.max(n.chars().count());
            self.written.insert(n.clone(), phrase.to_string());
            self.ja.insert(n, c);
        }
    }

    /// A kana phrase one edit away from a meaningful kana term of at least 4 characters
    /// (「きゅいん」 → 「きゅういん」), if unambiguous.
    fn fuzzy_kana(&self, segment: &str) -> Option<(&str, &Concept)> {
        let kana = |s: &str| s.chars().all(|c| matches!(c, '\u{3041}'..='\u{309F}'));
        let len = segment.chars().count();
        if len < 3 || !kana(segment) {
            return None;
        }
        let mut best: Option<(&str, &Concept)> = None;
        for (k, c) in &self.ja {
            let kl = k.chars().count();
            if kl < 4 || kl.abs_diff(len) > 1 || *c == Concept::Filler || !kana(k) {
                continue;
            }
            if edit_distance(segment, k) == 1 {
                match best {
                    Some((_, bc)) if bc != c => return None,
                    _ => best = Some((k, c)),
                }
            }
        }
        best
    }

    /// The closest meaningful Latin word within the typo budget, if unambiguous.
    pub(crate) fn fuzzy_latin(&self, word: &str) -> Option<(&str, &Concept)> {
        let len = word.chars().count();
        if len < 4 || word.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let budget = if len >= 8 { 2 } else { 1 };
        let mut best: Option<(usize, &str, &Concept)> = None;
        let mut tie = false;
        for (k, c) in &self.latin_words {
            if k.len().abs_diff(word.len()) > budget {
                continue;
            }
            let d = edit_distance(word, k);
            if d > budget {
                continue;
            }
            match best {
                Some((bd, _, bc)) if d == bd && bc != c => tie = true,
                Some((bd, _, _)) if d >= bd => {}
                _ => {
                    best = Some((d, k, c));
                    tie = false;
                }
            }
        }
        if tie { None } else { best.map(|(_, k, c)| (k, c)) }
    }
}

/// What sort of thing a recognised phrase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptKind {
    CareType,
    /// An umbrella word: any one of several care types (「経管栄養」, 「医療的ケア」).
    CareGroup,
    Kind,
    Transport,
    /// A municipality, 圏域, address or postal code.
    Place,
    Prefecture,
    NearMe,
    /// Words that carry no condition (「できる」, "near").
    Filler,
}

impl ConceptKind {
    /// The name used in JSON (`care_type`, `kind`, …).
    pub fn code(self) -> &'static str {
        match self {
            ConceptKind::CareType => "care_type",
            ConceptKind::CareGroup => "care_group",
            ConceptKind::Kind => "kind",
            ConceptKind::Transport => "transport",
            ConceptKind::Place => "place",
            ConceptKind::Prefecture => "prefecture",
            ConceptKind::NearMe => "near_me",
            ConceptKind::Filler => "filler",
        }
    }
}

/// How a concept is shown: its sort, its code and its names.
pub(crate) struct ConceptLabel {
    pub kind: ConceptKind,
    /// Vocabulary code, municipality code, region id or prefecture code; empty for near_me.
    pub code: String,
    pub ja: String,
    pub en: String,
}

/// One recognised phrase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recognized {
    #[serde(rename = "type")]
    pub kind: ConceptKind,
    /// Vocabulary code (care type, kind), municipality code or region id; empty for near_me.
    pub code: String,
    pub ja: String,
    pub en: String,
    /// The vocabulary phrase that matched, as written there.
    pub matched: String,
    /// Set when the words were a typo of `matched_term`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_from: Option<String>,
    /// The words as they were typed in the text (「ｲﾛｳ」, "G-Tube"), to take them out again.
    pub typed: String,
}

/// What the text was understood to mean.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Interpretation {
    pub care_types: Vec<CareType>,
    /// Umbrella words (「経管栄養」, 「医ケア」): for each, any one of its care types.
    pub care_any: Vec<CareSet>,
    pub kinds: Vec<Kind>,
    /// Transport features named (only meaningful for transport).
    pub transport: Vec<TransportFeature>,
    /// A place named in the text (municipality, 圏域, address or postal code).
    #[serde(skip)]
    pub place: Option<Place>,
    /// A prefecture named in the text.
    #[serde(skip)]
    pub prefecture: Option<u8>,
    pub near_me: bool,
    /// Everything recognised, in query order (for chips).
    pub recognized: Vec<Recognized>,
    /// Text left for full-text search (empty when everything was understood).
    pub remaining_text: String,
    /// Words that look like places tsunagu does not know: outside the served prefectures
    /// (「大阪市」), or one edit away from a municipality (「松元」 → 松本市).
    pub unknown_places: Vec<UnknownPlace>,
}

/// A word that looks like a place but names none tsunagu knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownPlace {
    /// The word as left after understanding (normalised).
    pub typed: String,
    /// It ends like a place name (市・区・町・村・郡・都・道・府・県) but is none of the served
    /// prefectures': a place outside the area. It is not searched as words.
    pub outside: bool,
    /// Municipalities one edit away, closest first (at most five).
    pub suggestions: Vec<MunicipalityCode>,
}

pub(crate) fn labels(c: &Concept, g: &Gazetteer) -> ConceptLabel {
    let label = |kind, code: String, ja: &str, en: &str| ConceptLabel { kind, code, ja: ja.into(), en: en.into() };
    match c {
        Concept::Care(t) => label(ConceptKind::CareType, t.code().into(), t.labels().ja, t.labels().en),
        Concept::AnyCare(set) => match tsunagu_model::terms::Vocabulary::bundled().group_of(*set) {
            Some(grp) => label(ConceptKind::CareGroup, grp.code.clone(), &grp.label_ja, &grp.label_en),
            None => label(ConceptKind::CareGroup, String::new(), "", ""),
        },
        Concept::Kind(k) => label(ConceptKind::Kind, k.code().into(), k.labels().ja, k.labels().en),
        Concept::KindGroup(i) => match tsunagu_model::terms::Vocabulary::bundled().kind_groups.get(*i) {
            Some(grp) => label(ConceptKind::Kind, grp.code.clone(), &grp.label_ja, &grp.label_en),
            None => label(ConceptKind::Kind, String::new(), "", ""),
        },
        Concept::Transport(f) => label(ConceptKind::Transport, f.code().into(), f.labels().ja, f.labels().en),
        Concept::Municipality(m) => {
            let name = g.municipality(*m).map(|x| x.name.clone()).unwrap_or_default();
            let en = g.municipality(*m).map(|m| m.name_en.clone()).unwrap_or_else(|| name.clone());
            label(ConceptKind::Place, m.to_string(), &name, &en)
        }
        Concept::Region(id) => {
            let name = g.region(id).map(|r| format!("{}圏域", r.name)).unwrap_or_default();
            let en =
                g.region(id).and_then(|r| r.names_en.first()).map_or_else(|| name.clone(), |e| format!("{e} region"));
            label(ConceptKind::Place, id.clone(), &name, &en)
        }
        Concept::Prefecture(p) => {
            let (ja, en) = g.prefecture(*p).map_or(("", ""), |x| (x.name.as_str(), x.name_en.as_str()));
            label(ConceptKind::Prefecture, format!("{p:02}"), ja, en)
        }
        Concept::NearMe => label(ConceptKind::NearMe, String::new(), "現在地の近く", "Near me"),
        Concept::Filler => label(ConceptKind::Filler, String::new(), "", ""),
    }
}

/// A run of the normalised text: Latin words or Japanese characters.
enum Run {
    Latin(Vec<String>),
    Ja(Vec<char>),
}

fn runs(token: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut word = String::new();
    let mut space = false;
    let flush_word = |word: &mut String, out: &mut Vec<Run>| {
        if !word.is_empty() {
            match out.last_mut() {
                Some(Run::Latin(ws)) => ws.push(std::mem::take(word)),
                _ => out.push(Run::Latin(vec![std::mem::take(word)])),
            }
        }
    };
    for c in token.chars() {
        if c.is_ascii_alphanumeric() || c == '\'' {
            word.push(c);
            space = false;
        } else if c.is_whitespace() || c == '-' {
            flush_word(&mut word, &mut out);
            space = true;
        } else {
            flush_word(&mut word, &mut out);
            match out.last_mut() {
                Some(Run::Ja(cs)) if !space => cs.push(c),
                _ => out.push(Run::Ja(vec![c])),
            }
            space = false;
        }
    }
    flush_word(&mut word, &mut out);
    out
}

/// Query understanding over one set of places: the phrases of the vocabulary file and of the
/// places (municipality, 圏域 and prefecture names and readings), and the geocoder that resolves a
/// named place.
pub struct Understanding {
    vocabulary: Vocabulary,
    /// The vocabulary's phrases in order, for suggestions by prefix.
    phrases: BTreeMap<String, (String, Concept)>,
    /// Normalised prefecture and municipality names, for telling 「松本市中央」 from words.
    prefecture_names: Vec<String>,
    /// Normalised municipality names, in the gazetteer's order.
    municipality_names: Vec<String>,
    gazetteer: &'static Gazetteer,
    geocoder: &'static Geocoder,
}

impl Understanding {
    pub fn new(places: Places) -> Understanding {
        let vocabulary = Vocabulary::new(places.gazetteer);
        let phrases = crate::suggest::phrases_of(&vocabulary);
        let g = places.gazetteer;
        Understanding {
            vocabulary,
            phrases,
            prefecture_names: g.prefectures().iter().map(|p| normalize(&p.name)).collect(),
            municipality_names: g.municipalities().iter().map(|m| normalize(&m.name)).collect(),
            gazetteer: g,
            geocoder: places.geocoder,
        }
    }

    /// Understanding over the bundled places, built once.
    pub fn bundled() -> &'static Understanding {
        static U: OnceLock<Understanding> = OnceLock::new();
        U.get_or_init(|| Understanding::new(Places::bundled()))
    }

    /// Understand free text.
    pub fn understand(&self, text: &str) -> Interpretation {
        understand_with(self, text)
    }

    pub(crate) fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    pub(crate) fn phrases(&self) -> &BTreeMap<String, (String, Concept)> {
        &self.phrases
    }

    pub(crate) fn gazetteer(&self) -> &'static Gazetteer {
        self.gazetteer
    }
}

impl std::fmt::Debug for Understanding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Understanding").field("places", &self.gazetteer.municipalities().len()).finish()
    }
}

/// Whether normalised text starts with a municipality's name (with or without its prefecture)
/// and goes on after it: a candidate for a municipality and a town.
fn names_a_municipality(u: &Understanding, norm: &str) -> bool {
    let rest = u.prefecture_names.iter().find_map(|p| norm.strip_prefix(p.as_str())).unwrap_or(norm);
    u.municipality_names.iter().any(|name| rest.len() > name.len() && rest.starts_with(name.as_str()))
}

fn understand_with(u: &Understanding, text: &str) -> Interpretation {
    let v = &u.vocabulary;
    let g = u.gazetteer;
    let mut it = Interpretation::default();
    let mut leftovers: Vec<String> = Vec::new();
    let found = |c: &Concept, matched: String, corrected_from: Option<String>, it: &mut Interpretation| {
        match c {
            Concept::Filler => return,
            Concept::Care(t) if !it.care_types.contains(t) => it.care_types.push(*t),
            Concept::AnyCare(set) if !it.care_any.contains(set) => it.care_any.push(*set),
            Concept::Kind(k) if !it.kinds.contains(k) => it.kinds.push(*k),
            Concept::KindGroup(i) => {
                let kinds = tsunagu_model::terms::Vocabulary::bundled().kind_groups.get(*i).map(|g| g.kinds.clone());
                let new: Vec<Kind> = kinds.unwrap_or_default().into_iter().filter(|k| !it.kinds.contains(k)).collect();
                if new.is_empty() {
                    return;
                }
                it.kinds.extend(new);
            }
            Concept::Transport(f) if !it.transport.contains(f) => it.transport.push(*f),
            Concept::NearMe => it.near_me = true,
            Concept::Prefecture(p) => it.prefecture = Some(*p),
            Concept::Municipality(m) if it.place.is_none() => {
                it.place = u
                    .geocoder
                    .geocode(&g.municipality(*m).map(|x| x.name.clone()).unwrap_or_default())
                    .ok()
                    .map(|r| r.place);
            }
            Concept::Region(id) if it.place.is_none() => {
                let name = g.region(id).map(|r| format!("{}圏域", r.name)).unwrap_or_default();
                it.place = u.geocoder.geocode(&name).ok().map(|r| r.place);
            }
            _ => return,
        }
        let ConceptLabel { kind, code, ja, en } = labels(c, g);
        let typed = typed_form(text, corrected_from.as_deref().unwrap_or(&matched));
        let matched = v.written.get(&matched).cloned().unwrap_or(matched);
        it.recognized.push(Recognized { kind, code, ja, en, matched, corrected_from, typed });
    };

    let mut rest_tokens: Vec<&str> = Vec::new();
    for token in text.split_whitespace() {
        let norm = normalize(token);
        // An address or postal code is geocoded whole, and so is a municipality with a town after
        // it (「松本市中央」).
        if it.place.is_none()
            && (norm.chars().any(|c| c.is_ascii_digit()) || names_a_municipality(u, &norm))
            && let Ok(geo) = u.geocoder.geocode(token)
            && (norm.chars().any(|c| c.is_ascii_digit()) || geo.place.precision == Precision::Town)
            && matches!(geo.place.precision, Precision::Town | Precision::Municipality)
            && geo.alternatives.iter().all(|a| a.municipality_code == geo.place.municipality_code)
        {
            it.recognized.push(Recognized {
                kind: ConceptKind::Place,
                code: geo.place.municipality_code.map(|m| m.to_string()).unwrap_or_default(),
                ja: geo.place.name.clone(),
                en: geo.place.name.clone(),
                matched: token.to_string(),
                corrected_from: None,
                typed: token.to_string(),
            });
            it.place = Some(geo.place);
            continue;
        }
        rest_tokens.push(token);
    }
    {
        // Latin phrases may span words ("visiting nurse"); Japanese runs end at spaces.
        for run in runs(&normalize(&rest_tokens.join(" "))) {
            match run {
                Run::Latin(words) => {
                    let mut i = 0;
                    while i < words.len() {
                        let mut hit = None;
                        for n in (1..=v.latin_max_words.min(words.len() - i)).rev() {
                            let phrase = words[i..i + n].join(" ");
                            if let Some(c) = v.latin.get(&phrase) {
                                hit = Some((n, c.clone(), phrase));
                                break;
                            }
                        }
                        match hit {
                            Some((n, c, phrase)) => {
                                found(&c, phrase, None, &mut it);
                                i += n;
                            }
                            None => {
                                match v.fuzzy_latin(&words[i]) {
                                    Some((term, c)) => {
                                        let c = c.clone();
                                        found(&c, term.to_string(), Some(words[i].clone()), &mut it);
                                    }
                                    None => leftovers.push(words[i].clone()),
                                }
                                i += 1;
                            }
                        }
                    }
                }
                Run::Ja(chars) => {
                    let mut i = 0;
                    let mut pending = String::new();
                    let mut after_concept = false;
                    while i < chars.len() {
                        let mut hit = None;
                        for n in (1..=v.ja_max_chars.min(chars.len() - i)).rev() {
                            let phrase: String = chars[i..i + n].iter().collect();
                            if let Some(c) = v.ja.get(&phrase) {
                                hit = Some((n, c.clone(), phrase));
                                break;
                            }
                        }
                        match hit {
                            Some((n, c, phrase)) => {
                                push_leftover(&mut leftovers, std::mem::take(&mut pending), true);
                                found(&c, phrase, None, &mut it);
                                after_concept = true;
                                i += n;
                            }
                            None => {
                                pending.push(chars[i]);
                                i += 1;
                            }
                        }
                    }
                    match v.fuzzy_kana(&pending) {
                        Some((term, c)) => {
                            let c = c.clone();
                            found(&c, term.to_string(), Some(pending), &mut it);
                        }
                        None => push_leftover(&mut leftovers, pending, after_concept),
                    }
                }
            }
        }
    }
    if it.place.is_none() {
        leftovers.retain(|word| match unknown_place(u, word) {
            Some(p) => {
                let keep = !p.outside;
                it.unknown_places.push(p);
                keep
            }
            None => true,
        });
    }
    it.remaining_text = leftovers.join(" ");
    it
}

/// A leftover word that looks like a place name tsunagu does not know (see [`UnknownPlace`]).
fn unknown_place(u: &Understanding, word: &str) -> Option<UnknownPlace> {
    let japanese = |c: char| tsunagu_model::text::is_kanji(c) || tsunagu_model::text::is_kana(c);
    let len = word.chars().count();
    if !(2..=10).contains(&len) || !word.chars().all(japanese) {
        return None;
    }
    let outside = word.ends_with(['市', '区', '町', '村', '郡', '都', '道', '府', '県']);
    // One edit from a municipality's name, with or without 市・町・村 (「松元」 → 松本市), over the
    // names normalised once in `Understanding::new`.
    // Closest first: those that share a longer beginning with the word (飯野市 → 飯山市 before 長野市).
    let mut near: Vec<(std::cmp::Reverse<usize>, MunicipalityCode)> = Vec::new();
    for (m, name) in u.gazetteer.municipalities().iter().zip(&u.municipality_names) {
        let bare = name.trim_end_matches(['市', '町', '村']);
        if let Some(name) =
            [name.as_str(), bare].into_iter().find(|n| n.chars().count() >= 2 && edit_distance(word, n) == 1)
        {
            let shared = word.chars().zip(name.chars()).take_while(|(a, b)| a == b).count();
            near.push((std::cmp::Reverse(shared), m.code));
        }
    }
    near.sort();
    let suggestions: Vec<MunicipalityCode> = near.into_iter().take(5).map(|(_, c)| c).collect();
    (outside || !suggestions.is_empty()).then(|| UnknownPlace { typed: word.to_string(), outside, suggestions })
}

/// The part of `text` that normalises to `key` (a normalised phrase), as typed; `key` itself
/// when no part does. Most phrases are typed as matched, so the window search is the rare path.
fn typed_form(text: &str, key: &str) -> String {
    if text.contains(key) {
        return key.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let want = key.chars().count();
    for start in 0..chars.len() {
        // NFKC can fold several characters into one (ｶﾞ → が) or one into several: allow for it.
        for len in want.saturating_sub(2).max(1)..=(want * 2 + 2).min(chars.len() - start) {
            let window: String = chars[start..start + len].iter().collect();
            let n = normalize(&window);
            // Latin phrases are matched as words: "G-Tube" is the phrase "g tube".
            let words =
                || n.split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty()).collect::<Vec<_>>();
            if n == key || words().join(" ") == key {
                return window;
            }
        }
    }
    key.to_string()
}

/// Keep a leftover segment unless it is only particles next to recognised phrases.
fn push_leftover(out: &mut Vec<String>, segment: String, beside_concept: bool) {
    if segment.is_empty() {
        return;
    }
    let mut bare = segment.clone();
    for w in CHILD_WORDS {
        bare = bare.replace(w, "");
    }
    if beside_concept && bare.chars().all(|c| PARTICLES.contains(c)) {
        return;
    }
    out.push(segment);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn understand(text: &str) -> Interpretation {
        Understanding::bundled().understand(text)
    }

    fn codes(it: &Interpretation) -> (Vec<&str>, Vec<&str>, Option<String>, String) {
        (
            it.care_types
                .iter()
                .map(|c| c.code())
                .chain(it.care_any.iter().filter_map(|set| {
                    tsunagu_model::terms::Vocabulary::bundled().group_of(*set).map(|g| g.code.as_str())
                }))
                .collect(),
            it.kinds.iter().map(|k| k.code()).collect(),
            it.place
                .as_ref()
                .map(|p| p.municipality_code.map(|m| m.to_string()).or(p.region_id.clone()).unwrap_or_default()),
            it.remaining_text.clone(),
        )
    }

    #[test]
    fn a_municipality_with_a_town_after_it_is_one_place() {
        let it = understand("たん吸引できる保育園 松本市中央");
        let place = it.place.expect("a place");
        assert_eq!(place.precision, Precision::Town);
        assert_eq!(place.name, "長野県松本市中央");
        assert_eq!(it.remaining_text, "", "中央 is not left as words");
        assert_eq!(it.kinds, [Kind::Daycare]);
        // A municipality alone stays a municipality; a word after a name that is no town stays words.
        assert_eq!(understand("松本市 訪問看護").place.map(|p| p.precision), Some(Precision::Municipality));
        let it = understand("松本市ひまわり");
        assert_ne!(it.place.map(|p| p.precision), Some(Precision::Town));
    }

    #[test]
    fn text_to_interpretation() {
        // (query, care types, kinds, place, remaining text)
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<&'a str>, &'a str);
        let cases: &[Case] = &[
            ("たん吸引できる保育園 松本", &["suction_oral_nasal"], &["daycare"], Some("20202"), ""),
            ("痰の吸引 こども園", &["suction_oral_nasal"], &["daycare"], None, ""),
            ("きゅういん 保育所", &["suction"], &["daycare"], None, ""),
            ("胃ろう 放デイ", &["gastrostomy"], &["after_school_day_service"], None, ""),
            ("胃瘻の子の放課後デイ", &["gastrostomy"], &["after_school_day_service"], None, ""),
            ("虹の子 保育園", &[], &["daycare"], None, "虹の子"),
            ("suction daycare matsumoto", &["suction"], &["daycare"], Some("20202"), ""),
            // Umbrella words: any one of their care types.
            ("経管栄養 児発", &["tube_feeding"], &["child_development_support"], None, ""),
            ("医ケア 保育園 長野市", &["any_care"], &["daycare"], Some("20201"), ""),
            ("nursery with tube feeding", &["tube_feeding"], &["daycare"], None, ""),
            // Regions in romaji and English, macrons folded.
            ("short stay kita-shin", &[], &["short_stay"], Some("20-10"), ""),
            ("respite Hokushin region", &[], &["short_stay"], Some("20-10"), ""),
            ("visiting nurse kamiina", &[], &["home_nursing"], Some("20-04"), ""),
            ("daycare Kiso area", &[], &["daycare"], Some("20-06"), ""),
            ("visiting nurse Saitama east", &[], &["home_nursing"], Some("11-03"), ""),
            ("visiting nurse ōmachi", &[], &["home_nursing"], Some("20212"), ""),
            ("daycare tōmi", &[], &["daycare"], Some("20219"), ""),
            ("ほくしん 短期入所", &[], &["short_stay"], Some("20-10"), ""),
            // Words for several kinds: power supply points and welfare shelters.
            ("停電 長野市", &[], &["power_supply", "welfare_shelter"], Some("20201"), ""),
            ("災害のとき 人工呼吸器", &["ventilator"], &["power_supply", "welfare_shelter"], None, ""),
            ("ventilator visiting nurse near saitama", &["ventilator"], &["home_nursing"], Some("11100"), ""),
            ("呼吸器つけたまま乗れるタクシー", &["ventilator"], &["transport"], None, ""),
            ("気管内吸引 ショートステイ 北信圏域", &["suction_tracheal"], &["short_stay"], Some("20-10"), ""),
            ("ventilater daycar", &["ventilator"], &["daycare"], None, ""),
            ("訪看 HOT 小諸市", &["oxygen"], &["home_nursing"], Some("20208"), ""),
            ("ひまわり保育園", &[], &["daycare"], None, "ひまわり"),
            ("松本市丸の内3-7 訪問看護", &[], &["home_nursing"], Some("20202"), ""),
            ("g-tube respite near me", &["gastrostomy"], &["short_stay"], None, ""),
        ];
        for (q, care, kinds, place, rest) in cases {
            let it = understand(q);
            let (c, k, p, r) = codes(&it);
            assert_eq!(
                (c.as_slice(), k.as_slice(), p.as_deref(), r.as_str()),
                (*care, *kinds, *place, *rest),
                "{q}: {it:?}"
            );
        }
        assert!(understand("g-tube respite near me").near_me);
        let g = Gazetteer::bundled();
        let name = |c: &str| g.municipality(c.parse().unwrap()).unwrap().name_en.clone();
        assert_eq!(name("20202"), "Matsumoto");
        assert_eq!(name("11107"), "Saitama Urawa-ku");
        assert_eq!(name("20321"), "Karuizawa");
        // The words as typed, whatever form the vocabulary matched.
        for (q, typed) in
            [("G-Tube 保育園", "G-Tube"), ("胃瘻 放デイ", "胃瘻"), ("ｲﾛｳ 児発", "ｲﾛｳ"), ("Saitama daycare", "Saitama")]
        {
            assert_eq!(understand(q).recognized[0].typed, typed, "{q}");
        }
        let typo = understand("ventilater");
        assert_eq!(typo.recognized[0].corrected_from.as_deref(), Some("ventilater"));
    }
}
