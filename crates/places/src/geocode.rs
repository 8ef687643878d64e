//! Geocoding: free-form place text → the most specific known place, honestly.
//!
//! Accepts an address (with or without prefecture, kanji or Arabic numerals, 大字, 丁目/番地),
//! a postal code, a municipality name or reading, a town name, or a 圏域 name. Returns the best
//! place with its [`Precision`] and, when the text fits several places equally, the candidates —
//! never a silent guess. Unknown text gets suggestions of close names.

use std::collections::HashMap;

use serde::Serialize;
use tsunagu_model::error::edit_distance;
use tsunagu_model::{LatLon, MunicipalityCode, PostalCode};

use crate::address::{hiragana, normalize, strip_aza, town_key};
use crate::{Gazetteer, MunicipalityKind};

/// How exactly a place was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// A town (町丁目・大字) representative point.
    Town,
    /// A municipality's town hall / ward office.
    Municipality,
    /// A 障害保健福祉圏域 (its municipalities' mean point).
    Region,
}

/// A resolved place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub precision: Precision,
    /// Display name, e.g. 長野県松本市丸の内 or 松本圏域.
    pub name: String,
    pub point: LatLon,
    pub municipality_code: Option<MunicipalityCode>,
    pub region_id: Option<String>,
    pub town: Option<String>,
    pub postal_code: Option<PostalCode>,
}

/// The answer for a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geocoded {
    pub normalized: String,
    /// The best place (the first candidate).
    pub place: Place,
    /// Other places the text fits equally well (empty when unambiguous).
    pub alternatives: Vec<Place>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeocodeError {
    #[error("the place is empty")]
    Empty,
    #[error("the place is longer than {0} characters")]
    TooLong(usize),
    #[error("no known place matches `{query}`")]
    NotFound { query: String, suggestions: Vec<String> },
}

pub const MAX_PLACE_CHARS: usize = 120;

#[derive(Debug, Clone)]
struct PostalRow {
    municipality: MunicipalityCode,
    town: String,
}

/// The geocoder over the bundled gazetteer and postal codes.
pub struct Geocoder {
    g: &'static Gazetteer,
    /// (key, municipality) sorted by key length, longest first; keys that may start an address.
    prefix_keys: Vec<(String, MunicipalityCode)>,
    /// Keys that only match the whole text (names without 市町村, readings).
    whole_keys: HashMap<String, Vec<MunicipalityCode>>,
    /// Town keys per municipality: (key, town index).
    towns: HashMap<MunicipalityCode, Vec<(String, usize)>>,
    towns_by_key: HashMap<String, Vec<usize>>,
    postal: HashMap<PostalCode, Vec<PostalRow>>,
    /// The postal codes listed for a (municipality, town key).
    postal_by_town: HashMap<(MunicipalityCode, String), Vec<PostalCode>>,
}

const POSTAL: &str = include_str!("../../../data/postal_codes.csv");

impl Geocoder {
    pub fn new(g: &'static Gazetteer) -> Geocoder {
        let mut prefix_keys = Vec::new();
        let mut whole_keys: HashMap<String, Vec<MunicipalityCode>> = HashMap::new();
        for m in g.municipalities() {
            let mut keys = vec![normalize(&m.name), normalize(&m.full_name)];
            if let Some(p) = m.parent.and_then(|p| g.municipality(p)) {
                // 浦和区 alone, and さいたま市浦和区
                keys.push(normalize(&format!("{}{}", p.name, m.name.trim_start_matches(&p.name))));
                keys.push(normalize(m.name.trim_start_matches(&p.name)));
            }
            for k in keys {
                if !prefix_keys.iter().any(|(x, c)| *x == k && *c == m.code) {
                    prefix_keys.push((k, m.code));
                }
            }
            let bare = m.name.trim_end_matches(['市', '町', '村', '区']);
            let kana = hiragana(&m.name_kana);
            let kana_bare = kana
                .trim_end_matches("まち")
                .trim_end_matches("むら")
                .trim_end_matches("し")
                .trim_end_matches("ちょう")
                .trim_end_matches("そん")
                .trim_end_matches("く")
                .to_string();
            for k in [normalize(bare), kana.clone(), kana_bare] {
                if k.chars().count() >= 2 {
                    let e = whole_keys.entry(k).or_default();
                    if !e.contains(&m.code) {
                        e.push(m.code);
                    }
                }
            }
        }
        prefix_keys.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then(a.1.cmp(&b.1)));

        let mut towns: HashMap<MunicipalityCode, Vec<(String, usize)>> = HashMap::new();
        let mut towns_by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in g.towns().iter().enumerate() {
            let k = town_key(&t.name);
            towns.entry(t.municipality).or_default().push((k.clone(), i));
            towns_by_key.entry(k).or_default().push(i);
        }
        for v in towns.values_mut() {
            v.sort_by_key(|(k, _)| std::cmp::Reverse(k.chars().count()));
        }

        let mut postal: HashMap<PostalCode, Vec<PostalRow>> = HashMap::new();
        let mut rdr = csv::Reader::from_reader(POSTAL.as_bytes());
        for rec in rdr.records().flatten() {
            let (Some(pc), Some(city), Some(town)) = (rec.get(0), rec.get(3), rec.get(6)) else { continue };
            let (Ok(pc), Ok(city)) = (PostalCode::parse(pc), MunicipalityCode::parse(city)) else { continue };
            postal.entry(pc).or_default().push(PostalRow { municipality: city, town: town.to_string() });
        }
        let mut postal_by_town: HashMap<(MunicipalityCode, String), Vec<PostalCode>> = HashMap::new();
        for (pc, rows) in &postal {
            for row in rows {
                let key = town_key(&row.town);
                if !key.is_empty() {
                    let e = postal_by_town.entry((row.municipality, key)).or_default();
                    if !e.contains(pc) {
                        e.push(*pc);
                    }
                }
            }
        }
        Geocoder { g, prefix_keys, whole_keys, towns, towns_by_key, postal, postal_by_town }
    }

    /// The geocoder over the bundled data, built once.
    pub fn bundled() -> &'static Geocoder {
        static G: std::sync::OnceLock<Geocoder> = std::sync::OnceLock::new();
        G.get_or_init(|| Geocoder::new(Gazetteer::bundled()))
    }

    /// The place of a municipality: its office, at municipality precision.
    pub fn municipality_place(&self, code: MunicipalityCode) -> Option<Place> {
        let m = self.g.municipality(code)?;
        Some(Place {
            precision: Precision::Municipality,
            name: format!("{}{}", m.prefecture, m.name),
            point: m.point,
            municipality_code: Some(code),
            region_id: Some(m.region_id.clone()),
            town: None,
            postal_code: None,
        })
    }

    fn town_place(&self, i: usize) -> Option<Place> {
        let t = &self.g.towns()[i];
        let m = self.g.municipality(t.municipality)?;
        Some(Place {
            precision: Precision::Town,
            name: format!("{}{}{}", m.prefecture, m.name, t.name),
            point: t.point,
            municipality_code: Some(m.code),
            region_id: Some(m.region_id.clone()),
            town: Some(t.name.clone()),
            postal_code: None,
        })
    }

    fn region_place(&self, id: &str) -> Option<Place> {
        let r = self.g.region(id)?;
        let point = self.g.region_centre(r)?;
        Some(Place {
            precision: Precision::Region,
            name: format!("{}{}圏域", r.prefecture, r.name),
            point,
            municipality_code: None,
            region_id: Some(r.id.clone()),
            town: None,
            postal_code: None,
        })
    }

    /// Towns of a municipality (a designated city: of its wards) whose key starts `rest` at a
    /// boundary; only the longest matching keys.
    fn towns_in(&self, code: MunicipalityCode, rest: &str) -> Vec<usize> {
        let rest = strip_aza(rest);
        if rest.is_empty() {
            return Vec::new();
        }
        let mut best: Vec<usize> = Vec::new();
        let mut best_len = 0;
        for c in self.g.expand(code) {
            for (k, i) in self.towns.get(&c).into_iter().flatten() {
                let klen = k.chars().count();
                if klen < best_len || !rest.starts_with(k.as_str()) {
                    continue;
                }
                let next = rest[k.len()..].chars().next();
                // 「三橋5」 must not take 「三橋51…」.
                if k.ends_with(|c: char| c.is_ascii_digit()) && next.is_some_and(|c| c.is_ascii_digit()) {
                    continue;
                }
                if klen > best_len {
                    best.clear();
                    best_len = klen;
                }
                best.push(*i);
            }
        }
        best
    }

    /// The postal code of a town, when the bundled postal data lists it (or its base town, without
    /// the 丁目) under exactly one code; `None` when it is not listed or is split between codes.
    pub fn postal_code_of(&self, code: MunicipalityCode, town: &str) -> Option<PostalCode> {
        let key = town_key(town);
        let chome = key.ends_with("丁目") || key.ends_with(|c: char| c.is_ascii_digit());
        let base = if chome {
            key.trim_end_matches(|c: char| c.is_ascii_digit() || "一二三四五六七八九十丁目".contains(c))
        } else {
            ""
        };
        for k in [key.as_str(), base] {
            if k.is_empty() {
                continue;
            }
            if let Some(codes) = self.postal_by_town.get(&(code, k.to_string())) {
                return (codes.len() == 1).then(|| codes[0]);
            }
        }
        None
    }

    /// The town a postal area names. A postal area often names a base town (大手) whose 丁目 are
    /// separate towns in the gazetteer (大手一丁目 …): then the place is the base town at the mean
    /// of its 丁目 points.
    fn postal_town(&self, code: MunicipalityCode, town: &str) -> Option<Place> {
        let key = town_key(town);
        if key.is_empty() {
            return None;
        }
        if let Some(&i) = self.towns_in(code, &key).first() {
            return self.town_place(i);
        }
        let chome: Vec<usize> = self
            .g
            .expand(code)
            .into_iter()
            .flat_map(|c| self.towns.get(&c).into_iter().flatten())
            .filter(|(k, _)| {
                k.strip_prefix(key.as_str()).is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            })
            .map(|(_, i)| *i)
            .collect();
        let first = *chome.first()?;
        let n = chome.len() as f64;
        let (lat, lon) = chome
            .iter()
            .map(|i| self.g.towns()[*i].point)
            .fold((0.0, 0.0), |(a, o), p| (a + p.lat() / n, o + p.lon() / n));
        let mut p = self.town_place(first)?;
        let m = self.g.municipality(self.g.towns()[first].municipality)?;
        p.point = LatLon::new(lat, lon).ok()?;
        p.town = Some(town.to_string());
        p.name = format!("{}{}{}", m.prefecture, m.name, town);
        Some(p)
    }

    /// Resolve place text.
    pub fn geocode(&self, text: &str) -> Result<Geocoded, GeocodeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(GeocodeError::Empty);
        }
        if text.chars().count() > MAX_PLACE_CHARS {
            return Err(GeocodeError::TooLong(MAX_PLACE_CHARS));
        }
        let norm = normalize(text);
        let found = |places: Vec<Place>| {
            let mut it = places.into_iter();
            it.next().map(|place| Geocoded { normalized: norm.clone(), place, alternatives: it.collect() })
        };

        // A postal code.
        if norm.trim_start_matches('〒').chars().all(|c| c.is_ascii_digit() || c == '-')
            && let Ok(pc) = PostalCode::parse(&norm)
        {
            let rows = self.postal.get(&pc).cloned().unwrap_or_default();
            let mut places = Vec::new();
            for row in rows {
                let mut p = match self.postal_town(row.municipality, &row.town) {
                    Some(p) => Some(p),
                    None => self.municipality_place(row.municipality),
                };
                if let Some(p) = &mut p {
                    p.postal_code = Some(pc);
                    if !places.iter().any(|q: &Place| q.name == p.name) {
                        places.push(p.clone());
                    }
                }
            }
            // A town of a municipality says more than the municipality itself.
            let towns_of: Vec<_> =
                places.iter().filter(|p| p.precision == Precision::Town).map(|p| p.municipality_code).collect();
            places.retain(|p| p.precision == Precision::Town || !towns_of.contains(&p.municipality_code));
            places.sort_by_key(|p| p.precision);
            return found(places)
                .ok_or_else(|| GeocodeError::NotFound { query: text.to_string(), suggestions: Vec::new() });
        }

        // Prefecture (optional) narrows everything after it.
        let mut rest = norm.as_str();
        let mut prefecture = None;
        for p in self.g.prefectures() {
            if let Some(r) = rest.strip_prefix(p.name.as_str()) {
                rest = r;
                prefecture = Some(p.code);
            }
        }
        let in_pref = |c: &MunicipalityCode| prefecture.is_none_or(|p| c.prefecture_code() == p);
        if rest.is_empty()
            && let Some(p) = prefecture
        {
            let capital =
                self.g.municipalities().iter().find(|m| m.prefecture_code == p && m.kind != MunicipalityKind::Ward);
            if let Some(m) = capital {
                return Err(GeocodeError::NotFound {
                    query: text.to_string(),
                    suggestions: vec![format!("{}{}", m.prefecture, m.name), "add a municipality".into()],
                });
            }
        }

        // A 圏域 by name.
        if let Some(r) = self.g.region_by_name(rest).filter(|r| prefecture.is_none_or(|p| r.prefecture_code == p))
            && (rest.ends_with("圏域")
                || !self.whole_keys.contains_key(rest) && !self.prefix_keys.iter().any(|(k, _)| k == rest))
        {
            return found(self.region_place(&r.id).into_iter().collect())
                .ok_or_else(|| GeocodeError::NotFound { query: text.into(), suggestions: vec![] });
        }

        // The whole text is a municipality's bare name or reading.
        if let Some(codes) = self.whole_keys.get(rest) {
            let places: Vec<Place> =
                codes.iter().filter(|c| in_pref(c)).filter_map(|c| self.municipality_place(*c)).collect();
            if let Some(g) = found(places) {
                return Ok(g);
            }
        }

        // Municipality as a prefix, then a town after it.
        let mut matched: Vec<(MunicipalityCode, &str)> = Vec::new();
        let mut len = 0;
        for (k, code) in &self.prefix_keys {
            let kl = k.chars().count();
            if kl < len || !in_pref(code) {
                continue;
            }
            if let Some(after) = rest.strip_prefix(k.as_str()) {
                len = kl;
                if !matched.iter().any(|(c, _)| c == code) {
                    matched.push((*code, after));
                }
            }
        }
        if !matched.is_empty() {
            let mut places = Vec::new();
            for (code, after) in &matched {
                let towns = self.towns_in(*code, after);
                if towns.is_empty() {
                    // 「松本市中央」: a base town whose 丁目 are the gazetteer's towns (中央一丁目 …)
                    // is the mean of them; otherwise the municipality.
                    match self.postal_town(*code, after) {
                        Some(p) => places.push(p),
                        None => places.extend(self.municipality_place(*code)),
                    }
                } else {
                    places.extend(towns.into_iter().filter_map(|i| self.town_place(i)));
                }
            }
            return found(places).ok_or_else(|| GeocodeError::NotFound { query: text.into(), suggestions: vec![] });
        }

        // A town name alone.
        let key = strip_aza(rest);
        if let Some(ids) = self.towns_by_key.get(key) {
            let places: Vec<Place> = ids
                .iter()
                .filter(|i| in_pref(&self.g.towns()[**i].municipality))
                .filter_map(|i| self.town_place(*i))
                .collect();
            if let Some(g) = found(places) {
                return Ok(g);
            }
        }

        Err(GeocodeError::NotFound { query: text.to_string(), suggestions: self.suggestions(rest) })
    }

    /// Known names close to `text` (municipalities, readings, regions), closest first.
    pub fn suggestions(&self, text: &str) -> Vec<String> {
        let t = text.trim();
        if t.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, String)> = Vec::new();
        let budget = (t.chars().count() / 3).clamp(1, 3);
        for m in self.g.municipalities() {
            let d =
                [normalize(&m.name), hiragana(&m.name_kana), normalize(m.name.trim_end_matches(['市', '町', '村']))]
                    .iter()
                    .map(|k| edit_distance(t, k))
                    .min()
                    .unwrap_or(usize::MAX);
            if d <= budget || normalize(&m.name).starts_with(t) {
                scored.push((d, format!("{}{}", m.prefecture, m.name)));
            }
        }
        for r in self.g.regions() {
            let d = edit_distance(t.trim_end_matches("圏域"), &r.name);
            if d <= budget.min(1) {
                scored.push((d, format!("{}圏域 ({})", r.name, r.prefecture)));
            }
        }
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(5).map(|(_, s)| s).collect()
    }
}
