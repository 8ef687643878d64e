//! Response bodies: resources with their labels resolved, in both languages.

use serde::Serialize;
use tsunagu_model::{CareType, Kind, Labels, Resource};
use tsunagu_places::Gazetteer;

#[derive(Debug, Serialize)]
pub struct LabelView {
    pub code: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    /// やさしい日本語, for the page (the API gives `ja` and `en`).
    #[serde(skip)]
    pub easy_ja: &'static str,
}

impl From<Labels> for LabelView {
    fn from(l: Labels) -> Self {
        LabelView { code: l.code, ja: l.ja, en: l.en, easy_ja: l.easy_ja }
    }
}

#[derive(Debug, Serialize)]
pub struct RegionRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MunicipalityRef {
    pub code: String,
    pub name: String,
    pub prefecture: String,
    pub region: Option<RegionRef>,
}

impl MunicipalityRef {
    pub fn of(g: &Gazetteer, code: tsunagu_model::MunicipalityCode) -> Option<MunicipalityRef> {
        let m = g.municipality(code)?;
        Some(MunicipalityRef {
            code: m.code.to_string(),
            name: m.name.clone(),
            prefecture: m.prefecture.clone(),
            region: g.region(&m.region_id).map(|r| RegionRef { id: r.id.clone(), name: r.name.clone() }),
        })
    }
}

/// A resource as the API shows it: every stored field, plus resolved labels and links.
#[derive(Debug, Serialize)]
pub struct ResourceView {
    #[serde(flatten)]
    pub resource: Resource,
    pub kind_label: LabelView,
    pub care_type_labels: Vec<LabelView>,
    pub municipality: Option<MunicipalityRef>,
    /// True when availability (nurse schedule, vacancies, accepting new children) was last updated
    /// longer ago than the server's threshold: shown as 「情報が古い可能性」, not as current.
    pub availability_stale: bool,
    /// Where the record comes from and how old it is.
    pub provenance: Provenance,
    /// Whether anything is known about the medical care it takes.
    pub care_status: CareStatus,
    pub links: Links,
}

/// What is known of a record's 医療的ケア, in words: 「対応未確認」 when it says nothing (as all
/// open data), so that unknown is never read as "no".
#[derive(Debug, Serialize)]
pub struct CareStatus {
    /// True when the record confirms or declines at least one care type.
    pub known: bool,
    pub ja: &'static str,
    pub en: &'static str,
}

impl CareStatus {
    pub fn of(r: &Resource) -> CareStatus {
        if r.care_types.is_empty() && r.care_types_declined.is_empty() {
            CareStatus {
                known: false,
                ja: "医療的ケアへの対応：対応未確認 — 事前にお問い合わせください",
                en: "Medical care: not confirmed — call first",
            }
        } else {
            CareStatus {
                known: true,
                ja: "医療的ケアへの対応：記載のとおり（記載のないケアは未確認）",
                en: "Medical care: as listed (anything not listed is not confirmed)",
            }
        }
    }
}

/// How fresh a record is, by the later of its last verification and its source's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    Fresh,
    Aging,
    /// Old, or of unknown date: call before relying on it.
    Stale,
}

/// Provenance of one record, shown with every answer.
#[derive(Debug, Serialize)]
pub struct Provenance {
    pub source_name: String,
    /// The registered source (see `GET /v1/sources`), when the record's source is one.
    pub source_id: Option<&'static str>,
    pub source_date: Option<chrono::NaiveDate>,
    pub verified_at: Option<chrono::NaiveDate>,
    pub licence: Option<String>,
    /// The later of `verified_at` and `source_date`.
    pub as_of: Option<chrono::NaiveDate>,
    pub age_days: Option<i64>,
    pub freshness: Freshness,
    pub freshness_ja: &'static str,
    pub freshness_en: &'static str,
    /// True for synthetic sample records (never a real facility).
    pub sample: bool,
    /// Present when the source's newest list no longer has the record.
    pub listing_notice: Option<ListingNotice>,
}

/// 「最新の公表データに掲載なし」: the record may have closed or moved.
#[derive(Debug, Serialize)]
pub struct ListingNotice {
    pub since: chrono::NaiveDate,
    pub ja: String,
    pub en: String,
}

impl Provenance {
    pub fn of(r: &Resource, config: &crate::ApiConfig) -> Provenance {
        let registered = tsunagu_exchange::bundled::source_of(&r.source.name);
        let as_of = r.verified_at.max(r.source.date);
        let age_days = as_of.map(|d| (chrono::Utc::now().date_naive() - d).num_days());
        let freshness = match age_days {
            Some(a) if a <= i64::from(config.fresh_days) => Freshness::Fresh,
            Some(a) if a <= i64::from(config.stale_days) => Freshness::Aging,
            _ => Freshness::Stale,
        };
        let (freshness_ja, freshness_en) = match (freshness, as_of) {
            (Freshness::Fresh, _) => ("最近確認された情報です", "recently confirmed"),
            (Freshness::Aging, _) => ("情報が少し古い可能性があります", "may be somewhat out of date"),
            (Freshness::Stale, Some(_)) => {
                ("情報が古い可能性があります — 事前にお問い合わせください", "may be out of date — call first")
            }
            (Freshness::Stale, None) => ("確認日が不明です — 事前にお問い合わせください", "date unknown — call first"),
        };
        Provenance {
            source_name: r.source.name.clone(),
            source_id: registered.map(|s| s.id.as_str()),
            source_date: r.source.date,
            verified_at: r.verified_at,
            licence: r.source.licence.clone().or_else(|| registered.map(|s| s.licence.clone())),
            as_of,
            age_days,
            freshness,
            freshness_ja,
            freshness_en,
            sample: r.sample,
            listing_notice: r.source.not_listed_since.map(|since| ListingNotice {
                since,
                ja: format!(
                    "最新の公表データに掲載なし（{since} 時点）— 閉鎖・移転の可能性があります。お問い合わせください"
                ),
                en: format!(
                    "not in the latest official list (as of {since}) — it may have closed or moved; call first"
                ),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: String,
}

impl ResourceView {
    /// The public view: private fields removed.
    pub fn of(g: &Gazetteer, resource: Resource, config: &crate::ApiConfig) -> ResourceView {
        Self::with_private(g, resource.public(), config)
    }

    /// The view for a key holder: private fields kept.
    pub fn with_private(g: &Gazetteer, resource: Resource, config: &crate::ApiConfig) -> ResourceView {
        let stale = resource.availability_updated_at.is_some_and(|t| {
            chrono::Utc::now() - t > chrono::Duration::days(i64::from(config.availability_stale_days))
        });
        ResourceView {
            availability_stale: stale,
            provenance: Provenance::of(&resource, config),
            care_status: CareStatus::of(&resource),
            kind_label: resource.kind.labels().into(),
            care_type_labels: resource.care_types.iter().map(|c| c.labels().into()).collect(),
            municipality: MunicipalityRef::of(g, resource.municipality_code),
            links: Links { this: format!("/v1/resources/{}", resource.id) },
            resource,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FacetCount {
    pub code: String,
    pub ja: String,
    pub en: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct FacetsView {
    pub kinds: Vec<FacetCount>,
    pub care_types: Vec<FacetCount>,
    /// The municipalities with the most matches, at most [`FacetsView::MAX_MUNICIPALITIES`].
    pub municipalities: Vec<FacetCount>,
    /// How many more municipalities have matches than are listed.
    pub municipalities_omitted: usize,
}

impl FacetsView {
    /// Municipalities listed at most: a nationwide search touches well over a thousand, and a
    /// list of filters longer than this helps nobody (a narrower search lists the rest).
    pub const MAX_MUNICIPALITIES: usize = 100;

    pub fn of(g: &Gazetteer, f: &tsunagu_search::Facets) -> FacetsView {
        let label = |l: Labels, count| FacetCount { code: l.code.into(), ja: l.ja.into(), en: l.en.into(), count };
        FacetsView {
            kinds: f.kinds.iter().map(|(k, n)| label(Kind::labels(*k), *n)).collect(),
            care_types: f.care_types.iter().map(|(c, n)| label(CareType::labels(*c), *n)).collect(),
            municipalities: f
                .municipalities
                .iter()
                .take(Self::MAX_MUNICIPALITIES)
                .map(|(code, n)| {
                    let m = g.municipality(*code);
                    FacetCount {
                        code: code.to_string(),
                        ja: m.map(|m| m.name.clone()).unwrap_or_default(),
                        en: code.to_string(),
                        count: *n,
                    }
                })
                .collect(),
            municipalities_omitted: f.municipalities.len().saturating_sub(Self::MAX_MUNICIPALITIES),
        }
    }
}
