//! The HSDS export against the official Open Referral HSDS 3.0 compiled schema
//! (`tests/data/hsds/`): every service tsunagu writes, for every bundled record, real and sample.

use serde_json::Value;

#[test]
fn every_exported_service_is_valid_hsds_3() {
    let schema: Value = serde_json::from_str(include_str!("data/hsds/compiled_service.json")).unwrap();
    let validator =
        jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).expect("schema compiles");
    let places = tsunagu_places::Places::bundled();
    let mut all = tsunagu_exchange::bundled::real_records(&places).unwrap();
    all.extend(tsunagu_sample::bundled().unwrap());
    let mut failures: std::collections::BTreeMap<String, usize> = Default::default();
    let mut first: Vec<String> = Vec::new();
    for r in &all {
        let service = tsunagu_exchange::hsds::service(places.gazetteer, r);
        for e in validator.iter_errors(&service) {
            let key = format!("{} at {}", e, e.instance_path);
            let shape = key
                .split(" at ")
                .last()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>();
            *failures.entry(shape).or_default() += 1;
            if first.len() < 10 {
                first.push(format!("{}: {key}", r.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} records; failures by place: {failures:#?}\nfirst: {first:#?}", all.len());
}
