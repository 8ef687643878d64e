//! Service-area answers from the index (R-tree of area boxes + served-by map) equal a brute-force
//! evaluation of every resource's area, on generated resources and points.

use proptest::prelude::*;
mod common;

use tsunagu_model::{Kind, LatLon, RadiusKm, Resource, ServiceArea};
use tsunagu_places::{Boundaries, Gazetteer, service};
use tsunagu_search::{Covers, IndexedState, SearchIndex, SearchRequest};

fn point() -> impl Strategy<Value = (f64, f64)> {
    (35.3f64..37.0, 137.5f64..139.9)
}

fn area(center: (f64, f64)) -> impl Strategy<Value = ServiceArea> {
    let g = Gazetteer::bundled();
    let codes: Vec<_> = g.municipalities().iter().map(|m| m.code).collect();
    let regions: Vec<String> = g.regions().iter().map(|r| r.id.clone()).collect();
    prop_oneof![
        Just(ServiceArea::None),
        (0.5f64..60.0).prop_map(|r| ServiceArea::Radius { radius_km: RadiusKm::new(r).unwrap() }),
        prop::sample::subsequence(codes, 1..4).prop_map(|codes| ServiceArea::Municipalities { codes }),
        prop::sample::select(regions).prop_map(|region_id| ServiceArea::Region { region_id }),
        (0.02f64..0.4, 0.02f64..0.4, 0.0f64..1.0).prop_map(move |(w, h, skew)| {
            let (lat, lon) = center;
            let ring = vec![
                [lon - w, lat - h],
                [lon + w, lat - h * skew],
                [lon + w * skew, lat + h],
                [lon - w, lat + h],
                [lon - w, lat - h],
            ];
            ServiceArea::Polygon { coordinates: vec![ring] }
        }),
    ]
}

fn resource() -> impl Strategy<Value = (LatLon, ServiceArea)> {
    point().prop_flat_map(|c| (Just(LatLon::new(c.0, c.1).unwrap()), area(c)))
}

fn make(i: usize, location: LatLon, service_area: ServiceArea) -> Resource {
    Resource {
        service_area,
        ..common::resource(&format!("covers-test:{i}"), format!("移動支援 {i}"), Kind::Transport, "20202", location)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn index_coverage_equals_brute_force(
        items in prop::collection::vec(resource(), 20..120),
        queries in prop::collection::vec(point(), 40),
        updates in prop::collection::vec(resource(), 0..20),
    ) {
        let g = Gazetteer::bundled();
        let b = Boundaries::bundled();
        let mut resources: Vec<Resource> = items.iter().enumerate().map(|(i, (l, a))| make(i, *l, a.clone())).collect();
        let dir = tempfile::tempdir().unwrap();
        let st = IndexedState { store_id: "t".into(), seq: 0 };
        let mut builder = SearchIndex::builder(&dir.path().join("ix"), g).unwrap();
        builder.add(&resources).unwrap();
        let index = builder.finish(st.clone()).unwrap();
        // Incremental changes: some records get a new area, keeping the index and truth in step.
        for (i, (l, a)) in updates.iter().enumerate() {
            let k = (i * 7) % resources.len();
            resources[k] = make(k, *l, a.clone());
            index.upsert(&resources[k..=k], st.clone()).unwrap();
        }
        for (lat, lon) in queries {
            let p = LatLon::new(lat, lon).unwrap();
            let m = b.locate(p).map(|l| l.municipality);
            let mut want: Vec<String> = resources
                .iter()
                .filter(|r| service::covers(g, &r.service_area, r.location, p, m))
                .map(|r| r.id.to_string())
                .collect();
            want.sort();
            let req = SearchRequest { covers: Some(Covers { point: p, municipality: m }), limit: 100, facets: false, ..SearchRequest::default() };
            let res = index.search(&req).unwrap();
            prop_assert_eq!(res.total, want.len());
            let mut got: Vec<String> = Vec::new();
            let mut offset = 0;
            while offset < res.total {
                let page = index.search(&SearchRequest { offset, ..req.clone() }).unwrap();
                got.extend(page.hits.iter().map(|h| h.id.to_string()));
                offset += 100;
            }
            got.sort();
            prop_assert_eq!(got, want, "at {},{} in {:?}", lat, lon, m);
        }
    }
}
