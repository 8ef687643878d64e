//! Adding a prefecture needs data files only: the bundled files plus the rows of a third
//! prefecture (山梨県's 27 real municipalities, tests/data/yamanashi) make a gazetteer, a geocoder
//! and a planner that know it, with no code naming it.

use tsunagu_directory::{PlaceAsked, PlanError, Planner, SearchIntent};
use tsunagu_model::MunicipalityCode;
use tsunagu_places::{Boundaries, Gazetteer, Geocoder, PlaceFiles, Places, Precision};

fn fixture(file: &str) -> String {
    let path = format!("{}/../../tests/data/yamanashi/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bundled file with the fixture's rows (not its header) appended.
fn plus(bundled: &str, file: &str) -> String {
    let extra = fixture(file);
    let rows = extra.split_once('\n').expect("a header").1;
    format!("{}\n{rows}", bundled.trim_end())
}

fn with_yamanashi() -> Places {
    let b = PlaceFiles::BUNDLED;
    let (prefectures, municipalities, regions) = (
        plus(b.prefectures, "prefectures.csv"),
        plus(b.municipalities, "municipalities.csv"),
        plus(b.regions, "regions.csv"),
    );
    let files =
        PlaceFiles { prefectures: &prefectures, municipalities: &municipalities, regions: &regions, towns: b.towns };
    let g: &'static Gazetteer = Box::leak(Box::new(Gazetteer::load(&files).expect("the files fit together")));
    Places {
        gazetteer: g,
        geocoder: Box::leak(Box::new(Geocoder::new(g))),
        boundaries: Box::leak(Box::new(Boundaries::new(g))),
    }
}

fn code(c: &str) -> MunicipalityCode {
    MunicipalityCode::parse(c).unwrap()
}

#[test]
fn a_third_prefecture_from_data_files_is_known_to_places_and_planning() {
    let bundled = Places::bundled();
    assert_eq!(bundled.gazetteer.prefecture_names_ja(), ["埼玉県", "長野県"]);
    assert!(bundled.gazetteer.municipality(code("19201")).is_none(), "the fixture is what adds 山梨県");

    let places = with_yamanashi();
    let g = places.gazetteer;
    assert_eq!(g.prefectures().iter().map(|p| p.code).collect::<Vec<_>>(), [11, 19, 20]);
    assert_eq!(g.prefecture(19).map(|p| p.name_en.as_str()), Some("Yamanashi"));
    assert_eq!(g.municipalities().iter().filter(|m| m.prefecture_code == 19).count(), 27);
    let kofu = g.municipality(code("19201")).expect("甲府市");
    assert_eq!((kofu.name.as_str(), kofu.name_kana.as_str(), kofu.name_en.as_str()), ("甲府市", "こうふし", "Kofu"));
    assert_eq!(g.region_of(kofu.code).map(|r| r.id.as_str()), Some("19-00"));

    // Geocoding: with and without the prefecture, whose name comes from prefectures.csv.
    for text in ["甲府市", "山梨県甲府市", "山梨県 富士吉田市"] {
        let found = places.geocoder.geocode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(found.place.precision, Precision::Municipality, "{text}");
        assert_eq!(found.place.municipality_code.map(|c| c.prefecture_code()), Some(19), "{text}");
    }

    // Planning: a municipality named as the place means 20 km around its office.
    let planner = Planner::new(places);
    let plan = planner
        .plan(SearchIntent { place: Some(PlaceAsked::Named("甲府市".into())), ..SearchIntent::default() })
        .expect("plans");
    assert_eq!(plan.request.point, Some(kofu.point));
    assert_eq!(plan.request.radius.map(|r| r.km()), Some(20.0));
    // Understanding knows its names and readings too.
    let plan = planner.plan(SearchIntent { q: Some("甲府市の訪問看護".into()), ..SearchIntent::default() }).unwrap();
    assert_eq!(plan.request.point, Some(kofu.point), "甲府市 in the text is the place");
    assert_eq!(plan.request.kinds, [tsunagu_model::Kind::HomeNursing]);
    assert_eq!(plan.request.text, None, "everything was understood");
    let plan = planner.plan(SearchIntent { q: Some("kofu visiting nurse".into()), ..SearchIntent::default() }).unwrap();
    assert_eq!(plan.request.point, Some(kofu.point), "the romanised reading names 甲府市");
    let plan =
        planner.plan(SearchIntent { q: Some("yamanashi prefecture".into()), ..SearchIntent::default() }).unwrap();
    assert_eq!(plan.request.municipalities.as_ref().map(Vec::len), Some(27), "the prefecture's municipalities");
    let plan = planner
        .plan(SearchIntent { municipalities: vec![code("19201")], ..SearchIntent::default() })
        .expect("a 山梨県 code is known");
    assert_eq!(plan.request.municipalities, Some(vec![code("19201")]));
    match planner.plan(SearchIntent { municipalities: vec![code("13101")], ..SearchIntent::default() }) {
        Err(PlanError::Invalid { issues, .. }) => {
            assert_eq!(issues[0].field, "municipalities");
            assert!(issues[0].reason.contains("埼玉県・山梨県・長野県"), "{}", issues[0].reason);
        }
        other => panic!("13101 (東京都千代田区) is not known: {other:?}"),
    }
}

#[test]
fn place_files_that_do_not_fit_together_are_refused_with_the_reason() {
    let b = PlaceFiles::BUNDLED;
    // 山梨県's municipalities without 山梨県 in prefectures.csv.
    let municipalities = plus(b.municipalities, "municipalities.csv");
    let regions = plus(b.regions, "regions.csv");
    let files = PlaceFiles { municipalities: &municipalities, regions: &regions, ..b };
    let err = Gazetteer::load(&files).expect_err("an unknown prefecture is refused").to_string();
    assert!(err.contains("prefectures.csv") && err.contains("19201"), "{err}");
    // A municipality in no region.
    let files = PlaceFiles { municipalities: &municipalities, ..b };
    let prefectures = plus(b.prefectures, "prefectures.csv");
    let err = Gazetteer::load(&PlaceFiles { prefectures: &prefectures, ..files }).expect_err("no region").to_string();
    assert!(err.contains("is in no region"), "{err}");
}

#[test]
fn files_of_a_third_prefecture_import_with_its_places_and_are_refused_without() {
    let csv = "名称,種別,住所,緯度,経度,サンプル\n【サンプル】架空訪問看護ステーション,訪問看護,山梨県甲府市丸の内1-6-1,35.6623,138.5683,true\n";
    let read = |places: &Places| {
        let (rows, _) = tsunagu_exchange::read_all(places, tsunagu_exchange::Format::Csv, csv.as_bytes()).unwrap();
        rows.into_iter().next().expect("one row").1
    };
    let r = read(&with_yamanashi()).expect("甲府市 is a known place");
    assert_eq!(r.municipality_code, code("19201"));
    assert!(r.sample, "a made-up record is a sample");
    let errs = read(&Places::bundled()).expect_err("山梨県 is not in the bundled places");
    assert_eq!(errs[0].field, "address", "{errs:?}");
    // Written out again with its municipality's name, from the same places.
    let places = with_yamanashi();
    let line = tsunagu_exchange::csv::record_line(places.gazetteer, &r);
    assert!(line.contains("山梨県") && line.contains("甲府市"), "{line}");
}
