//! 「最初の相談先」: whom a family (or the nurse visiting them) calls first for a place — the
//! 圏域's medical-care coordinators and the prefecture's support centre, from the records the
//! directory holds (kinds `coordinator` and `support_center`). The print sheet and the family page
//! lead with it.

use tsunagu_directory::SearchIntent;
use tsunagu_model::{Kind, MunicipalityCode, Resource};
use tsunagu_places::Region;

use crate::AppState;

pub struct FirstContacts {
    pub region: Option<&'static Region>,
    pub coordinators: Vec<Resource>,
    pub centres: Vec<Resource>,
}

impl FirstContacts {
    pub fn is_empty(&self) -> bool {
        self.coordinators.is_empty() && self.centres.is_empty()
    }
}

/// The first contacts for someone living in `code`: the coordinators located in its 圏域 and the
/// support centres of its prefecture (sample records only where sample data is served).
pub async fn first_contacts(s: &AppState, code: MunicipalityCode) -> FirstContacts {
    let g = s.gazetteer;
    let region = g.region_of(code);
    let coordinators = match region {
        Some(r) => super::regions::every(
            s,
            SearchIntent {
                municipalities: g.region_codes(r),
                kinds: Some(vec![Kind::Coordinator]),
                ..SearchIntent::default()
            },
        )
        .await
        .unwrap_or_default(),
        None => Vec::new(),
    };
    let prefecture = g.municipality(code).map(|m| m.prefecture_code);
    let in_prefecture: Vec<MunicipalityCode> =
        g.municipalities().iter().filter(|m| Some(m.prefecture_code) == prefecture).map(|m| m.code).collect();
    let centres = if in_prefecture.is_empty() {
        Vec::new()
    } else {
        super::regions::every(
            s,
            SearchIntent {
                municipalities: in_prefecture,
                kinds: Some(vec![Kind::SupportCenter]),
                ..SearchIntent::default()
            },
        )
        .await
        .unwrap_or_default()
    };
    FirstContacts { region, coordinators, centres }
}
