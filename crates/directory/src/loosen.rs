//! When a search finds nothing, which single condition empties it: each condition that can be
//! taken away on its own, as the request without it (「土曜に看護師がいる条件をはずすと 12 件」).

use serde::Serialize;
use tsunagu_model::CareSet;
use tsunagu_search::{ConceptKind, SearchRequest};

use crate::plan::{InterpretationView, Plan};

/// A condition of a search that could be taken away, and what the search finds without it.
#[derive(Debug, Clone, Serialize)]
pub struct Without {
    /// The search parameter that sets it (`nurse_on`, `care_types`, `care_any`, …).
    pub param: &'static str,
    /// Its value in that parameter (one value of a list).
    pub value: String,
    /// The words of `q` that set it, when the text did (remove them instead of the parameter).
    pub phrase: Option<String>,
    /// The condition, e.g. 土曜に看護師がいる / a nurse on Saturday.
    pub label_ja: String,
    pub label_en: String,
    /// How many the search finds without it.
    pub total: usize,
    /// e.g. 「土曜に看護師がいる」をはずすと 12 件
    pub detail_ja: String,
    pub detail_en: String,
}

/// One condition and the request without it (the count is filled in when it has been run).
pub struct Loosening {
    pub without: Without,
    pub request: SearchRequest,
}

/// Each condition of the plan's request that can be dropped on its own. The place (point,
/// municipalities, 圏域) stays: a family asks near where they live. Every request field is named,
/// so a new filter does not compile until it is decided here whether it can be dropped.
pub fn loosenings(plan: &Plan) -> Vec<Loosening> {
    let req = &plan.request;
    let SearchRequest {
        text,
        text_scope: _,
        point: _,
        radius,
        kinds,
        care_types,
        care_any,
        include_unconfirmed,
        municipalities: _,
        has_vacancy,
        nurse_on,
        age,
        transport,
        accessibility,
        covers,
        include_sample: _,
        listing: _,
        collapse_sites: _,
        sort: _,
        offset: _,
        limit: _,
        facets: _,
    } = req;
    let phrase = |kind: ConceptKind, code: &str| phrase_of(plan.interpretation.as_ref(), kind, code);
    let mut out = Vec::new();
    let mut add = |param: &'static str,
                   value: String,
                   phrase: Option<String>,
                   ja: String,
                   en: String,
                   f: &dyn Fn(&mut SearchRequest)| {
        let mut request = SearchRequest { offset: 0, limit: 0, facets: false, ..req.clone() };
        f(&mut request);
        let without = Without {
            param,
            value,
            phrase,
            label_ja: ja,
            label_en: en,
            total: 0,
            detail_ja: String::new(),
            detail_en: String::new(),
        };
        out.push(Loosening { without, request });
    };
    if let Some(d) = nurse_on {
        let l = d.labels();
        add(
            "nurse_on",
            d.code().into(),
            None,
            format!("{}に看護師がいる", l.explain_ja),
            format!("a nurse on {}", l.explain_en),
            &|r| r.nurse_on = None,
        );
    }
    if *has_vacancy {
        add("has_vacancy", "true".into(), None, "空きがある".into(), "a vacancy".into(), &|r| {
            r.has_vacancy = false
        });
    }
    if let Some(a) = age {
        add(
            "age",
            a.to_string(),
            None,
            format!("{a}歳を受け入れる"),
            format!("takes children aged {a}"),
            &|r| r.age = None,
        );
    }
    for c in care_types.iter() {
        let l = c.labels();
        add(
            "care_types",
            c.code().into(),
            phrase(ConceptKind::CareType, c.code()),
            format!("{}に対応", l.ja),
            format!("takes {}", l.en),
            &move |r| r.care_types.remove(c),
        );
    }
    for group in care_any {
        let g = *group;
        let named = tsunagu_model::terms::Vocabulary::bundled().group_of(g);
        let value = named.map_or_else(|| codes(g), |n| n.code.clone());
        let (ja, en) = named.map_or_else(|| (codes(g), codes(g)), |n| (n.label_ja.clone(), n.label_en.clone()));
        let phrase = named.and_then(|n| phrase(ConceptKind::CareGroup, &n.code));
        add("care_any", value, phrase, format!("{ja}に対応"), format!("takes {en}"), &move |r| {
            r.care_any.retain(|x| *x != g)
        });
    }
    if !*include_unconfirmed && (!care_types.is_empty() || !care_any.is_empty()) {
        add(
            "include_unconfirmed",
            "false".into(),
            None,
            "対応が確認済み".into(),
            "confirmed care only".into(),
            &|r| r.include_unconfirmed = true,
        );
    }
    for f in transport {
        let f = *f;
        let l = f.labels();
        add(
            "transport",
            f.code().into(),
            phrase(ConceptKind::Transport, f.code()),
            l.ja.to_string(),
            l.en.to_lowercase(),
            &move |r| r.transport.retain(|x| *x != f),
        );
    }
    for a in accessibility {
        let a = *a;
        let l = a.labels();
        add("accessibility", a.code().into(), None, l.ja.to_string(), l.en.to_lowercase(), &move |r| {
            r.accessibility.retain(|x| *x != a)
        });
    }
    if !kinds.is_empty() {
        let ja: Vec<&str> = kinds.iter().map(|k| k.labels().ja).collect();
        let en: Vec<&str> = kinds.iter().map(|k| k.labels().en).collect();
        let value = kinds.iter().map(|k| k.code()).collect::<Vec<_>>().join(",");
        let phrase = (kinds.len() == 1).then(|| phrase(ConceptKind::Kind, kinds[0].code())).flatten();
        add(
            "kinds",
            value,
            phrase,
            format!("種類が{}", ja.join("・")),
            format!("of the kind {}", en.join(" / ")),
            &|r| r.kinds.clear(),
        );
    }
    if let Some(t) = text.as_deref().filter(|t| !t.trim().is_empty()) {
        add(
            "q",
            t.to_string(),
            Some(t.to_string()),
            format!("「{t}」という言葉"),
            format!("the words \"{t}\""),
            &|r| r.text = None,
        );
    }
    if covers.is_some() {
        add(
            "covers",
            "true".into(),
            None,
            "この場所まで来てくれる".into(),
            "serves this place".into(),
            &|r| r.covers = None,
        );
    }
    if let Some(r) = radius {
        add(
            "radius_km",
            r.km().to_string(),
            None,
            format!("{} km 以内", r.km()),
            format!("within {} km", r.km()),
            &|q| q.radius = None,
        );
    }
    out
}

/// Fill in the counts and the sentences, keep the conditions that leave something, most first.
pub fn with_totals(mut found: Vec<(Without, usize)>) -> Vec<Without> {
    found.retain(|(_, n)| *n > 0);
    found.sort_by_key(|x| std::cmp::Reverse(x.1));
    found
        .into_iter()
        .map(|(mut w, n)| {
            w.total = n;
            w.detail_ja = format!("「{}」の条件をはずすと {n} 件", w.label_ja);
            w.detail_en = format!("{n} without \"{}\"", w.label_en);
            w
        })
        .collect()
}

fn codes(set: CareSet) -> String {
    set.iter().map(|c| c.code()).collect::<Vec<_>>().join("|")
}

/// The words of the query that set a condition, when an applied phrase did.
fn phrase_of(it: Option<&InterpretationView>, kind: ConceptKind, code: &str) -> Option<String> {
    it?.recognized
        .iter()
        .find(|r| r.applied && r.recognized.kind == kind && r.recognized.code == code)
        .map(|r| r.recognized.corrected_from.clone().unwrap_or_else(|| r.recognized.matched.clone()))
}
