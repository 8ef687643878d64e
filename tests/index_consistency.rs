//! The index is derived data: an index kept current by incremental writes answers exactly like
//! one rebuilt from the store, and a stale index catches up from the store's change log.

use std::sync::Arc;

use tsunagu_api::directory::{Directory, IndexReadiness};
use tsunagu_model::{CareType, Kind, LatLon, RadiusKm};
use tsunagu_places::Gazetteer;
use tsunagu_search::{IndexedState, SearchIndex, SearchRequest, Sort};
use tsunagu_store::{SqliteStore, Store};

fn requests() -> Vec<SearchRequest> {
    let matsumoto = LatLon::new(36.238, 137.972).unwrap();
    let saitama = LatLon::new(35.861667, 139.645278).unwrap();
    let mut out = Vec::new();
    let base = SearchRequest { limit: 100, ..SearchRequest::default() };
    out.push(SearchRequest {
        text: Some("吸引".into()),
        point: Some(matsumoto),
        radius: Some(RadiusKm::new(30.0).unwrap()),
        sort: Some(Sort::Distance),
        ..base.clone()
    });
    out.push(SearchRequest {
        kinds: vec![Kind::HomeNursing],
        care_types: [CareType::Ventilator].into_iter().collect(),
        point: Some(saitama),
        ..base.clone()
    });
    out.push(SearchRequest {
        kinds: vec![Kind::Transport],
        point: Some(saitama),
        radius: Some(RadiusKm::new(25.0).unwrap()),
        ..base.clone()
    });
    out.push(SearchRequest { text: Some("訪問看護".into()), sort: Some(Sort::Name), ..base.clone() });
    out.push(SearchRequest { text: Some("看護師 胃ろう".into()), ..base.clone() });
    out.push(SearchRequest { text: Some("ventilator".into()), ..base.clone() });
    out.push(SearchRequest { municipalities: Some(vec!["20202".parse().unwrap()]), ..base.clone() });
    out.push(SearchRequest { has_vacancy: true, age: Some(3), point: Some(matsumoto), ..base });
    out
}

type Answer = (Vec<(String, Option<i64>)>, usize, Option<tsunagu_search::Facets>);

/// Ids in order, with distances; the total; and the facets. Relevance scores are left out on
/// purpose: BM25 statistics count replaced documents until segments merge, so the same matches
/// can score marginally differently. The answer is compared in a deterministic order instead.
fn answer(index: &SearchIndex, req: &SearchRequest) -> Answer {
    let mut req = req.clone();
    if req.sort.is_none_or(|s| s == Sort::Relevance) {
        req.sort = Some(if req.point.is_some() { Sort::Distance } else { Sort::Name });
    }
    let mut hits = Vec::new();
    let mut first = None;
    // Every page, so the whole match set is compared (up to the paging limit).
    while req.offset <= tsunagu_search::MAX_OFFSET {
        let r = index.search(&req).unwrap();
        if r.hits.is_empty() {
            first.get_or_insert((r.total, r.facets));
            break;
        }
        hits.extend(r.hits.iter().map(|h| (h.id.to_string(), h.distance_km.map(|d| (d * 1e6) as i64))));
        first.get_or_insert((r.total, r.facets));
        req.offset += req.limit;
    }
    let (total, facets) = first.unwrap();
    (hits, total, facets)
}

#[test]
fn incremental_indexing_answers_like_a_rebuild_from_the_store() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let samples = tsunagu_sample::bundled().unwrap();
    let store = rt.block_on(SqliteStore::open(&dir.path().join("db.sqlite3"))).unwrap();
    rt.block_on(store.upsert(&samples, "test")).unwrap();
    let state = rt.block_on(store.state()).unwrap();
    let st = IndexedState { store_id: state.store_id.clone(), seq: state.seq };

    // Incremental: start empty, add in batches, with every record first written in an older
    // form and then updated, plus a record that is added and deleted again.
    let incremental =
        SearchIndex::builder(&dir.path().join("inc"), Gazetteer::bundled()).unwrap().finish(st.clone()).unwrap();
    for batch in samples.chunks(400) {
        let older: Vec<_> = batch
            .iter()
            .map(|r| {
                let mut o = r.clone();
                o.description = "古い説明".into();
                o.care_types = tsunagu_model::CareSet::EMPTY;
                o.location = Some(LatLon::new(35.0, 135.0).unwrap());
                o
            })
            .collect();
        incremental.upsert(&older, st.clone()).unwrap();
        incremental.upsert(batch, st.clone()).unwrap();
    }
    let mut extra = samples[0].clone();
    extra.id = tsunagu_model::ResourceId::from_source_id("test:extra");
    incremental.upsert(&[extra.clone()], st.clone()).unwrap();
    incremental.delete(&[extra.id], st.clone()).unwrap();

    let (rebuilt, readiness) =
        rt.block_on(Directory::open(Arc::new(store), Gazetteer::bundled(), &dir.path().join("full"))).unwrap();
    assert!(matches!(readiness, IndexReadiness::Rebuilt { .. }));
    assert_eq!(incremental.len(), rebuilt.index.len());
    for req in requests() {
        let (a, b) = (answer(&incremental, &req), answer(&rebuilt.index, &req));
        assert!(a.1 > 0, "{req:?} finds something");
        assert_eq!(a, b, "incremental and rebuilt differ for {req:?}");
    }
}

#[test]
fn a_stale_index_catches_up_from_the_change_log_on_open() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let samples = tsunagu_sample::bundled().unwrap();
    let db = dir.path().join("db.sqlite3");
    let idx = dir.path().join("index");
    let store: Arc<dyn Store> = Arc::new(rt.block_on(SqliteStore::open(&db)).unwrap());
    rt.block_on(store.upsert(&samples[..1000], "test")).unwrap();
    let (d, _) = rt.block_on(Directory::open(store.clone(), Gazetteer::bundled(), &idx)).unwrap();
    drop(d);
    // Writes the index never saw (as if the process died after the store commit).
    rt.block_on(store.upsert(&samples[1000..], "test")).unwrap();
    let gone = samples[0].id;
    rt.block_on(store.delete(gone, chrono::Utc::now())).unwrap();
    let (d, readiness) = rt.block_on(Directory::open(store.clone(), Gazetteer::bundled(), &idx)).unwrap();
    assert_eq!(readiness, IndexReadiness::CaughtUp { changes: samples.len() - 1000 + 1 });
    assert_eq!(d.index.len(), samples.len() - 1);
    let all = d.index.search(&SearchRequest { limit: 100, offset: 0, ..SearchRequest::default() }).unwrap();
    assert_eq!(all.total, samples.len() - 1);
    assert!(
        d.index
            .search(&SearchRequest { text: Some(samples[0].name.clone()), ..SearchRequest::default() })
            .unwrap()
            .hits
            .iter()
            .all(|h| h.id != gone)
    );
    drop(d);
    let (_, readiness) = rt.block_on(Directory::open(store, Gazetteer::bundled(), &idx)).unwrap();
    assert_eq!(readiness, IndexReadiness::Current);
}

#[test]
fn a_write_never_moves_the_index_past_a_change_it_has_not_applied() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let samples = tsunagu_sample::bundled().unwrap();
    let store: Arc<dyn Store> = Arc::new(rt.block_on(SqliteStore::open(&dir.path().join("db.sqlite3"))).unwrap());
    rt.block_on(store.upsert(&samples[..10], "test")).unwrap();
    let idx = dir.path().join("index");
    let (d, _) = rt.block_on(Directory::open(store.clone(), Gazetteer::bundled(), &idx)).unwrap();
    // Another process (same store, not this directory) writes: the index has not seen it.
    rt.block_on(store.upsert(&samples[10..11], "other process")).unwrap();
    let missed_seq = rt.block_on(store.state()).unwrap().seq;
    // Then this process writes through the directory.
    let mut edited = samples[0].clone();
    edited.description = "edited".into();
    let current = rt.block_on(store.get_versioned(edited.id)).unwrap().unwrap().version;
    let actor = tsunagu_store::Actor::system("editor");
    rt.block_on(d.write(tsunagu_store::Write {
        op: tsunagu_store::WriteOp::Replace { resource: edited, expected: current },
        actor: &actor,
        authorize: &tsunagu_store::Unrestricted,
        idempotency: None,
    }))
    .unwrap()
    .unwrap();
    assert!(d.index.state().seq < missed_seq, "the index must not claim the other process's change");
    // The next catch-up applies it (and re-applies ours, harmlessly).
    rt.block_on(d.catch_up()).unwrap();
    assert_eq!(d.index.state().seq, rt.block_on(store.state()).unwrap().seq);
    assert_eq!(d.index.len(), 11);
}
