//! 「最初の相談先」: whom a family calls first for a place, in order — the 圏域's medical-care
//! coordinators, the prefecture's support centre, the municipality's 障害福祉 / 母子保健 window,
//! and the 相談支援 offices that serve the place (located in its municipality or with a service
//! area reaching it), nearest first. Coordinators, centres and offices come from the directory's
//! records (kinds `coordinator`, `support_center`, `consultation_support`); the municipal window
//! is the municipality itself, from the gazetteer, with no phone number unless one is on record:
//! tsunagu never invents one.

use serde::Serialize;
use tsunagu_model::{Kind, LatLon, MunicipalityCode, Resource};
use tsunagu_places::Place;

use crate::find::FindError;
use crate::plan::{PlaceAsked, Planner, SearchIntent};
use crate::sync::Directory;

/// How many 相談支援 offices the answer lists.
pub const CONSULTATION_OFFICES: usize = 5;

/// Why an entry is in the list (its order is the list's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// 圏域の医療的ケア児等コーディネーター.
    Coordinator,
    /// 都道府県の医療的ケア児支援センター.
    Centre,
    /// 市区町村の障害福祉・母子保健の窓口.
    MunicipalWindow,
    /// 相談支援事業所 serving the place.
    ConsultationSupport,
}

impl ContactRole {
    pub fn ja(self) -> &'static str {
        match self {
            ContactRole::Coordinator => "圏域の医療的ケア児等コーディネーター",
            ContactRole::Centre => "医療的ケア児支援センター",
            ContactRole::MunicipalWindow => "市区町村の障害福祉・母子保健の窓口",
            ContactRole::ConsultationSupport => "相談支援事業所",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            ContactRole::Coordinator => "Medical care coordinator for the region",
            ContactRole::Centre => "Prefectural support centre",
            ContactRole::MunicipalWindow => "Municipal disability welfare / maternal and child health window",
            ContactRole::ConsultationSupport => "Consultation support office",
        }
    }
}

/// One place to call.
#[derive(Debug, Clone)]
pub struct Contact {
    pub role: ContactRole,
    pub name: String,
    pub phone: Option<String>,
    pub hours: Option<String>,
    /// The record, when the contact is one (the municipal window is not).
    pub resource: Option<Resource>,
    pub distance_km: Option<f64>,
}

/// The first contacts for a place.
#[derive(Debug, Clone)]
pub struct Contacts {
    pub municipality: MunicipalityCode,
    pub region_id: Option<String>,
    pub entries: Vec<Contact>,
}

impl Contacts {
    pub fn of(&self, role: ContactRole) -> impl Iterator<Item = &Contact> {
        self.entries.iter().filter(move |c| c.role == role)
    }
}

fn contact(role: ContactRole, r: Resource, from: LatLon) -> Contact {
    Contact {
        role,
        name: r.name.clone(),
        phone: r.contact.phone.clone(),
        hours: r.hours_note.clone(),
        distance_km: r.location.map(|l| (l.distance_km(from) * 10.0).round() / 10.0),
        resource: Some(r),
    }
}

impl Directory {
    /// Whom to call first at `place` (which must lie in a known municipality).
    pub async fn first_contacts(
        &self,
        planner: &Planner,
        place: &Place,
        include_sample: bool,
    ) -> Result<Option<Contacts>, FindError> {
        let places = planner.places();
        let g = places.gazetteer;
        let Some(code) = place.municipality_code else { return Ok(None) };
        let Some(m) = g.municipality(code) else { return Ok(None) };
        let at = place.point;
        let base = SearchIntent { include_sample, ..SearchIntent::default() };
        let nearest_first = |mut v: Vec<Contact>| {
            v.sort_by(|a, b| a.distance_km.unwrap_or(f64::MAX).total_cmp(&b.distance_km.unwrap_or(f64::MAX)));
            v
        };
        let mut entries = Vec::new();
        let region = g.region_of(code);
        if let Some(r) = region {
            let found = self
                .all_of(
                    planner,
                    SearchIntent {
                        municipalities: g.region_codes(r),
                        kinds: Some(vec![Kind::Coordinator]),
                        ..base.clone()
                    },
                )
                .await?;
            entries
                .extend(nearest_first(found.into_iter().map(|r| contact(ContactRole::Coordinator, r, at)).collect()));
        }
        let prefecture: Vec<MunicipalityCode> =
            g.municipalities().iter().filter(|x| x.prefecture_code == m.prefecture_code).map(|x| x.code).collect();
        let centres = self
            .all_of(
                planner,
                SearchIntent { municipalities: prefecture, kinds: Some(vec![Kind::SupportCenter]), ..base.clone() },
            )
            .await?;
        entries.extend(nearest_first(centres.into_iter().map(|r| contact(ContactRole::Centre, r, at)).collect()));
        // The municipal window: a designated city's ward has its own.
        entries.push(Contact {
            role: ContactRole::MunicipalWindow,
            name: format!("{}{}の障害福祉・母子保健の担当窓口", m.prefecture, m.name),
            phone: None,
            hours: None,
            resource: None,
            distance_km: Some((m.point.distance_km(at) * 10.0).round() / 10.0),
        });
        let kinds = Some(vec![Kind::ConsultationSupport]);
        let located = self
            .all_of(planner, SearchIntent { municipalities: vec![code], kinds: kinds.clone(), ..base.clone() })
            .await?;
        let coming = self
            .all_of(
                planner,
                SearchIntent { place: Some(PlaceAsked::Resolved(place.clone())), covers: true, kinds, ..base.clone() },
            )
            .await?;
        let mut offices: Vec<Resource> = located;
        for r in coming {
            if !offices.iter().any(|o| o.id == r.id) {
                offices.push(r);
            }
        }
        let offices =
            nearest_first(offices.into_iter().map(|r| contact(ContactRole::ConsultationSupport, r, at)).collect());
        entries.extend(offices.into_iter().take(CONSULTATION_OFFICES));
        Ok(Some(Contacts { municipality: code, region_id: region.map(|r| r.id.clone()), entries }))
    }
}
