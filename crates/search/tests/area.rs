//! Area overviews (everything within a radius, with facets) are answered from per-cell counts.
//! Their totals, facets and pages must equal a brute-force evaluation of every resource, also
//! after records move, change and disappear, and for points lying exactly on cell edges.

use std::collections::HashMap;

use proptest::prelude::*;
mod common;

use tsunagu_model::{Accessibility, CareSet, CareType, Kind, LatLon, MunicipalityCode, RadiusKm, Resource, ResourceId};
use tsunagu_search::{IndexedState, Listing, SearchIndex, SearchRequest, Sort};

/// A point near 松本, sometimes snapped onto a finest-cell edge (multiples of 0.02°).
fn point() -> impl Strategy<Value = (f64, f64)> {
    (36.0f64..36.6, 137.6f64..138.3, 0u8..4).prop_map(|(lat, lon, snap)| match snap {
        0 => ((lat / 0.02).round() * 0.02, lon),
        1 => (lat, (lon / 0.02).round() * 0.02),
        _ => (lat, lon),
    })
}

#[derive(Debug, Clone)]
struct Item {
    at: (f64, f64),
    kind: usize,
    care: Vec<usize>,
    town: usize,
    sample: bool,
    access: Vec<usize>,
}

fn item() -> impl Strategy<Value = Item> {
    (
        point(),
        0..Kind::ALL.len(),
        prop::collection::vec(0..CareType::ALL.len(), 0..4),
        0usize..5,
        any::<bool>(),
        prop::collection::vec(0..Accessibility::ALL.len(), 0..3),
    )
        .prop_map(|(at, kind, care, town, sample, access)| Item { at, kind, care, town, sample, access })
}

const TOWNS: [&str; 5] = ["20202", "20203", "20204", "20205", "20206"];

fn make(i: usize, it: &Item) -> Resource {
    let at = LatLon::new(it.at.0, it.at.1).unwrap();
    Resource {
        care_types: it.care.iter().map(|c| CareType::ALL[*c]).collect::<CareSet>(),
        sample: it.sample,
        accessibility: it.access.iter().map(|a| Accessibility::ALL[*a]).collect(),
        ..common::resource(&format!("area-test:{i}"), format!("事業所 {i}"), Kind::ALL[it.kind], TOWNS[it.town], at)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn area_overviews_equal_brute_force(
        items in prop::collection::vec(item(), 50..400),
        updates in prop::collection::vec(item(), 0..40),
        removals in prop::collection::vec(0usize..400, 0..30),
        queries in prop::collection::vec((point(), 0.3f64..90.0, any::<bool>(), 0usize..30, 0usize..25), 25),
    ) {
        let mut resources: Vec<Option<Resource>> = items.iter().enumerate().map(|(i, it)| Some(make(i, it))).collect();
        let dir = tempfile::tempdir().unwrap();
        let st = IndexedState { store_id: "t".into(), seq: 0 };
        let mut builder = SearchIndex::builder(&dir.path().join("ix"), tsunagu_places::Gazetteer::bundled()).unwrap();
        builder.add(&resources.iter().flatten().cloned().collect::<Vec<_>>()).unwrap();
        let index = builder.finish(st.clone()).unwrap();
        // Incremental changes keep the cell counts in step: moves, new facts, deletions.
        for (i, it) in updates.iter().enumerate() {
            let k = (i * 7) % resources.len();
            let r = make(k, it);
            index.upsert(std::slice::from_ref(&r), st.clone()).unwrap();
            resources[k] = Some(r);
        }
        for k in removals {
            if let Some(r) = resources.get_mut(k % items.len()).and_then(Option::take) {
                index.delete(&[r.id], st.clone()).unwrap();
            }
        }
        for ((lat, lon), km, include_sample, offset, limit) in queries {
            let p = LatLon::new(lat, lon).unwrap();
            let inside: Vec<(f64, &Resource)> = resources
                .iter()
                .flatten()
                .filter(|r| include_sample || !r.sample)
                .filter_map(|r| r.location.map(|l| (l.distance_km(p), r)))
                .filter(|(d, _)| *d <= km)
                .collect();
            let mut kinds: HashMap<Kind, usize> = HashMap::new();
            let mut care: HashMap<CareType, usize> = HashMap::new();
            let mut towns: HashMap<MunicipalityCode, usize> = HashMap::new();
            for (_, r) in &inside {
                *kinds.entry(r.kind).or_default() += 1;
                for c in r.care_types.iter() {
                    *care.entry(c).or_default() += 1;
                }
                *towns.entry(r.municipality_code).or_default() += 1;
            }
            let mut order: Vec<(f64, ResourceId)> = inside.iter().map(|(d, r)| (*d, r.id)).collect();
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want_page: Vec<ResourceId> = order.iter().skip(offset).take(limit).map(|(_, id)| *id).collect();

            let req = SearchRequest {
                point: Some(p),
                radius: Some(RadiusKm::new(km).unwrap()),
                include_sample,
                offset,
                limit,
                ..SearchRequest::default()
            };
            let got = index.search(&req).unwrap();
            prop_assert_eq!(got.total, inside.len(), "total at {},{} within {} km", lat, lon, km);
            prop_assert_eq!(got.confirmed_total, inside.len());
            prop_assert_eq!(got.sort, Sort::Distance);
            let page: Vec<ResourceId> = got.hits.iter().map(|h| h.id).collect();
            prop_assert_eq!(page, want_page);
            let f = got.facets.unwrap();
            prop_assert_eq!(f.kinds.into_iter().collect::<HashMap<_, _>>(), kinds);
            prop_assert_eq!(f.care_types.into_iter().collect::<HashMap<_, _>>(), care);
            prop_assert_eq!(f.municipalities.into_iter().collect::<HashMap<_, _>>(), towns);
        }
    }
}

/// A random filter: maybe a kind, maybe a confirmed care type, some accessibility features.
fn filter() -> impl Strategy<Value = (Option<usize>, Option<usize>, Vec<usize>)> {
    (
        prop::option::of(0..Kind::ALL.len()),
        prop::option::of(0..CareType::ALL.len()),
        prop::collection::vec(0..Accessibility::ALL.len(), 0..2),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Radius totals with random filters equal a brute-force count; and where the request is
    /// plain, the cell-count fast path equals the full path (forced by `listing=all`, which
    /// changes nothing when no record is delisted).
    #[test]
    fn radius_totals_with_random_filters_equal_the_full_path(
        items in prop::collection::vec(item(), 50..300),
        queries in prop::collection::vec((point(), 0.3f64..90.0, any::<bool>(), filter()), 25),
    ) {
        let resources: Vec<Resource> = items.iter().enumerate().map(|(i, it)| make(i, it)).collect();
        let dir = tempfile::tempdir().unwrap();
        let st = IndexedState { store_id: "t".into(), seq: 0 };
        let mut builder = SearchIndex::builder(&dir.path().join("ix"), tsunagu_places::Gazetteer::bundled()).unwrap();
        builder.add(&resources).unwrap();
        let index = builder.finish(st).unwrap();
        for ((lat, lon), km, include_sample, (kind, care, access)) in queries {
            let p = LatLon::new(lat, lon).unwrap();
            let access: Vec<Accessibility> = access.iter().map(|a| Accessibility::ALL[*a]).collect();
            let care: CareSet = care.iter().map(|c| CareType::ALL[*c]).collect();
            let want = resources
                .iter()
                .filter(|r| include_sample || !r.sample)
                .filter(|r| kind.is_none_or(|k| r.kind == Kind::ALL[k]))
                .filter(|r| r.care_types.contains_all(care))
                .filter(|r| access.iter().all(|a| r.accessibility.contains(a)))
                .filter(|r| r.location.is_some_and(|l| l.distance_km(p) <= km))
                .count();
            let req = SearchRequest {
                point: Some(p),
                radius: Some(RadiusKm::new(km).unwrap()),
                include_sample,
                kinds: kind.map(|k| vec![Kind::ALL[k]]).unwrap_or_default(),
                care_types: care,
                include_unconfirmed: false,
                accessibility: access,
                ..SearchRequest::default()
            };
            let fast = index.search(&req).unwrap();
            let full = index.search(&SearchRequest { listing: Listing::All, ..req.clone() }).unwrap();
            prop_assert_eq!(fast.total, want, "filtered total at {},{} within {} km", lat, lon, km);
            prop_assert_eq!(full.total, want);
            prop_assert_eq!(fast.facets, full.facets);
        }
    }
}
