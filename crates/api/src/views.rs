//! Response bodies: resources with their labels resolved, in both languages.

use serde::Serialize;
use tsunagu_model::{CareType, Kind, Labels, Resource};
use tsunagu_places::Gazetteer;

#[derive(Debug, Serialize)]
pub struct LabelView {
    pub code: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
}

impl From<Labels> for LabelView {
    fn from(l: Labels) -> Self {
        LabelView { code: l.code, ja: l.ja, en: l.en }
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
    pub links: Links,
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
    pub municipalities: Vec<FacetCount>,
}

impl FacetsView {
    pub fn of(g: &Gazetteer, f: &tsunagu_search::Facets) -> FacetsView {
        let label = |l: Labels, count| FacetCount { code: l.code.into(), ja: l.ja.into(), en: l.en.into(), count };
        FacetsView {
            kinds: f.kinds.iter().map(|(k, n)| label(Kind::labels(*k), *n)).collect(),
            care_types: f.care_types.iter().map(|(c, n)| label(CareType::labels(*c), *n)).collect(),
            municipalities: f
                .municipalities
                .iter()
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
        }
    }
}
