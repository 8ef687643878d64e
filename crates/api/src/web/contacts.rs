//! 「最初の相談先」 on the page: the directory's first contacts for the place a search was about.

use tsunagu_directory::contacts::Contacts;
use tsunagu_model::{LatLon, MunicipalityCode};

use crate::AppState;

/// The first contacts for someone in `code`, at `at` (else at the municipality's office).
pub async fn first_contacts(s: &AppState, code: MunicipalityCode, at: Option<LatLon>) -> Option<Contacts> {
    let mut place = s.planner.places().geocoder.municipality_place(code)?;
    if let Some(pt) = at {
        place.point = pt;
    }
    s.directory.first_contacts(&s.planner, &place, s.config.serve_sample_data).await.ok().flatten()
}
