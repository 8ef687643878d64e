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
        let service = tsunagu_exchange::hsds::service(&places, r);
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

/// A record without a postal code gets the one the bundled postal data lists for its address's
/// town (the real sources give none). Each derived code is checked the other way round: the
/// postal code, geocoded, is an area of the record's municipality whose town the address is in.
#[test]
fn postal_codes_derived_from_addresses_name_the_addresss_own_postal_area() {
    let places = tsunagu_places::Places::bundled();
    let all = tsunagu_exchange::bundled::real_records(&places).unwrap();
    let (mut with_address, mut filled) = (0, 0);
    let mut wrong = Vec::new();
    for r in all.iter().filter(|r| r.address.is_some() && r.postal_code.is_none()) {
        with_address += 1;
        let v = tsunagu_exchange::hsds::service(&places, r);
        let code = v["service_at_locations"][0]["location"]["addresses"][0]["postal_code"].as_str().unwrap_or("");
        if code.is_empty() {
            continue;
        }
        filled += 1;
        let area = places.geocoder.geocode(code).expect("a derived postal code geocodes").place;
        let town = places.geocoder.geocode(r.address.as_deref().unwrap()).unwrap().place.town.unwrap_or_default();
        let area_town = area.town.clone().unwrap_or_default();
        let normal = |s: &str| tsunagu_places::address::town_key(s);
        if area.municipality_code != Some(r.municipality_code)
            || area_town.is_empty()
            || !normal(&town).starts_with(&normal(&area_town))
        {
            wrong.push(format!(
                "{} ({:?}, town {town}): {code} is {area_town} in {:?}",
                r.name, r.address, area.municipality_code
            ));
        }
    }
    println!("real records with an address and no postal code: {with_address}; filled from the postal data: {filled}");
    assert!(
        wrong.is_empty(),
        "{} of {filled} derived codes name another area: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(8)]
    );
    assert!(filled * 2 >= with_address, "filled only {filled} of {with_address}");
}
