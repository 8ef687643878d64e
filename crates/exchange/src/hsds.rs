//! Open Referral HSDS 3.0 JSON: one `service` object per resource, in the nested form of the
//! HSDS API (`/services/{id}`), collected in a page object (`contents`) like `/services`.
//!
//! Native HSDS fields carry what HSDS has words for: name (`name`), reading (`alternate_name`),
//! description, url, email, phones, ages (`minimum_age`/`maximum_age`), last confirmed
//! (`assured_date`), languages, opening hours (`schedules`, weekly RRULE parts), and the place
//! (`service_at_locations[0].location`: latitude, longitude, address, and the 全国地方公共団体コード
//! as `external_identifier`). The kind and the care types are taxonomy terms in `attributes`
//! (taxonomies `tsunagu:kind` and `tsunagu:care_type`, value `accepted` or `declined`). Members
//! HSDS has no field for (capacity, nurse schedule, transport, availability, source, sample …)
//! are `attributes` of taxonomy `tsunagu:field` whose value is the member as JSON, so that
//! export → import is exact. Service areas are also given as HSDS `service_areas` for readers
//! that do not know tsunagu.
//!
//! Services from other HSDS publishers are read too: the kind and care types may then be any
//! taxonomy term whose code or name is a tsunagu kind or care type (保育所, ventilator …); the
//! municipality comes from the address when there is no code.

use serde_json::{Map, Value, json};
use tsunagu_model::{CareType, Kind, Resource, ResourceId, ServiceArea, TimeRange, Weekday};
use tsunagu_places::{Gazetteer, Places};

use crate::{RowError, RowResult, csv, jsonl};

/// Members of a page of services, as the HSDS API returns them; the services follow.
pub const HEAD: &str = "{\"total_items\":null,\"total_pages\":1,\"page_number\":1,\"size\":null,\"first_page\":true,\"last_page\":true,\"empty\":false,\"contents\":[\n";
pub const SEPARATOR: &str = ",\n";
pub const TAIL: &str = "\n]}\n";

const KIND: &str = "tsunagu:kind";
const CARE: &str = "tsunagu:care_type";
const FIELD: &str = "tsunagu:field";
/// Members without an HSDS field, kept as `tsunagu:field` attributes.
const FIELDS: &[&str] = &[
    "service_area",
    "capacity",
    "nurse_schedule",
    "care_types_conditional",
    "care_statements",
    "hours_note",
    "operator",
    "accessibility",
    "departments",
    "transport",
    "programme",
    "training",
    "power_supply",
    "accepting_new_children",
    "availability_updated_at",
    "private",
    "source",
    "sample",
];
const MUNICIPALITY_CODE: &str = "jp-municipality-code (全国地方公共団体コード)";
const DAYS: [(&str, Weekday); 7] = [
    ("MO", Weekday::Mon),
    ("TU", Weekday::Tue),
    ("WE", Weekday::Wed),
    ("TH", Weekday::Thu),
    ("FR", Weekday::Fri),
    ("SA", Weekday::Sat),
    ("SU", Weekday::Sun),
];

/// A stable id for a part of a service (attribute, phone …), so that exports are repeatable.
fn part_id(service: &str, part: &str) -> String {
    ResourceId::from_source_id(&format!("hsds:{service}/{part}")).to_string()
}

/// An attribute; `value` is left out when there is none (HSDS wants a string where it is present).
fn attribute(service: &str, taxonomy: &str, code: &str, name: &str, value: Option<String>) -> Value {
    let term_id = part_id(taxonomy, code);
    let mut a = json!({
        "id": part_id(service, &format!("{taxonomy}/{code}")),
        "link_id": service,
        "link_type": "service",
        "link_entity": "service",
        "taxonomy_term_id": term_id,
        "taxonomy_term": {"id": term_id, "code": code, "name": name, "description": name, "taxonomy": taxonomy},
    });
    if let Some(v) = value {
        a["value"] = json!(v);
    }
    a
}

/// The HSDS service for a resource (without store-managed timestamps).
pub fn service(places: &Places, r: &Resource) -> Value {
    let g = places.gazetteer;
    let id = r.id.to_string();
    let mut s = Map::new();
    s.insert("id".into(), json!(id));
    s.insert("name".into(), json!(r.name));
    if let Some(k) = &r.name_kana {
        s.insert("alternate_name".into(), json!(k));
    }
    s.insert("description".into(), json!(r.description));
    s.insert("status".into(), json!("active"));
    if let Some(u) = &r.contact.url {
        s.insert("url".into(), json!(u));
    }
    if let Some(e) = &r.contact.email {
        s.insert("email".into(), json!(e));
    }
    if let Some(a) = r.ages {
        s.insert("minimum_age".into(), json!(a.min_years));
        s.insert("maximum_age".into(), json!(a.max_years));
    }
    if let Some(d) = r.verified_at {
        s.insert("assured_date".into(), json!(d.to_string()));
    }
    // For readers that do not know tsunagu, a programme's conditions and application and a
    // course's fee as HSDS's own free-text fields (the exact members travel as attributes).
    if let Some(p) = &r.programme {
        let e = &p.eligibility;
        let mut who: Vec<String> = Vec::new();
        if !e.care_types.is_empty() {
            who.push(format!(
                "次のいずれかの医療的ケア：{}",
                e.care_types.iter().map(|c| c.labels().ja).collect::<Vec<_>>().join("、")
            ));
        }
        if !e.certificates.is_empty() {
            who.push(format!(
                "次のいずれか：{}",
                e.certificates.iter().map(|c| c.labels().ja).collect::<Vec<_>>().join("、")
            ));
        }
        who.extend(e.income_note.iter().chain(e.note.iter()).cloned());
        if !who.is_empty() {
            s.insert("eligibility_description".into(), json!(who.join("／")));
        }
        let mut how = vec![p.apply.window.clone()];
        if !p.apply.documents.is_empty() {
            how.push(format!("持ち物：{}", p.apply.documents.join("、")));
        }
        how.extend(p.apply.deadline.iter().map(|d| format!("期限：{d}")));
        s.insert("application_process".into(), json!(how.join("／")));
    }
    if let Some(f) = r.training.as_ref().and_then(|t| t.fee.as_ref()) {
        s.insert("fees_description".into(), json!(f));
    }
    if let Some(h) = r.training.as_ref().and_then(|t| t.how_to_apply.as_ref()) {
        s.insert("application_process".into(), json!(h));
    }
    let phones: Vec<Value> = r
        .contact
        .phone
        .iter()
        .map(|p| json!({"id": part_id(&id, "phone"), "number": p, "type": "voice"}))
        .chain(r.contact.fax.iter().map(|p| json!({"id": part_id(&id, "fax"), "number": p, "type": "fax"})))
        .collect();
    s.insert("phones".into(), json!(phones));
    let mut schedules = Vec::new();
    for (code, day) in DAYS {
        for range in r.opening_hours.0.get(&day).into_iter().flatten() {
            let text = range.to_string();
            let (opens, closes) = text.split_once('-').unwrap_or((&text, ""));
            schedules.push(json!({
                "id": part_id(&id, &format!("opening_hours/{code}/{text}")),
                "freq": "WEEKLY", "wkst": "MO", "byday": code, "opens_at": opens, "closes_at": closes,
                "description": "開所時間 / opening hours",
            }));
        }
    }
    s.insert("schedules".into(), json!(schedules));
    let languages: Vec<Value> =
        r.languages.iter().map(|l| json!({"id": part_id(&id, &format!("language/{l}")), "code": l})).collect();
    s.insert("languages".into(), json!(languages));
    // The place.
    let m = g.municipality(r.municipality_code);
    let mut location = Map::new();
    location.insert("id".into(), json!(part_id(&id, "location")));
    location.insert("location_type".into(), json!("physical"));
    location.insert("name".into(), json!(r.name));
    if let Some(p) = r.location {
        location.insert("latitude".into(), json!(p.lat()));
        location.insert("longitude".into(), json!(p.lon()));
    }
    location.insert("external_identifier".into(), json!(r.municipality_code.to_string()));
    location.insert("external_identifier_type".into(), json!(MUNICIPALITY_CODE));
    // HSDS requires a postal code with an address: the record's own, else the one the bundled
    // postal data lists for the address's town (derived, never guessed between codes).
    let postal_code = r.postal_code.or_else(|| postal_code_of_address(places, r));
    if r.address.is_some() || postal_code.is_some() {
        location.insert(
            "addresses".into(),
            json!([{
                "id": part_id(&id, "address"),
                "address_1": r.address.clone().unwrap_or_default(),
                "city": m.map(|m| m.name.clone()).unwrap_or_default(),
                "state_province": m.map(|m| m.prefecture.clone()).unwrap_or_default(),
                "postal_code": postal_code.map(|p| p.to_string()).unwrap_or_default(),
                "country": "JP",
                "address_type": "physical",
            }]),
        );
    }
    s.insert(
        "service_at_locations".into(),
        json!([{"id": part_id(&id, "service_at_location"), "service_id": id, "location": location}]),
    );
    s.insert("service_areas".into(), json!(service_areas(&id, &r.service_area, g)));
    // Attributes: kind, care types, and members HSDS has no field for.
    let mut attrs = vec![attribute(&id, KIND, r.kind.code(), r.kind.labels().ja, None)];
    for c in r.care_types.iter() {
        attrs.push(attribute(&id, CARE, c.code(), c.labels().ja, Some("accepted".into())));
    }
    for c in r.care_types_declined.iter() {
        attrs.push(attribute(&id, CARE, c.code(), c.labels().ja, Some("declined".into())));
    }
    let whole = serde_json::to_value(r.clone().without_timestamps()).expect("resources serialise");
    for f in FIELDS {
        if let Some(v) = whole.get(*f).filter(|v| !v.is_null()) {
            attrs.push(attribute(&id, FIELD, f, f, Some(v.to_string())));
        }
    }
    s.insert("attributes".into(), json!(attrs));
    Value::Object(s)
}

/// The service area in HSDS terms (for readers that do not know tsunagu).
/// The postal code of the town a record's address names, when the address resolves to a town of
/// the record's own municipality and the postal data gives that town one code.
pub(crate) fn postal_code_of_address(places: &Places, r: &Resource) -> Option<tsunagu_model::PostalCode> {
    let found = places.geocoder.geocode(r.address.as_deref()?).ok()?;
    let place = found.place;
    if place.municipality_code != Some(r.municipality_code) {
        return None;
    }
    places.geocoder.postal_code_of(r.municipality_code, place.town.as_deref()?)
}

fn service_areas(id: &str, area: &ServiceArea, g: &Gazetteer) -> Vec<Value> {
    let one = |name: String, extent: Option<String>, extent_type: &str| {
        let mut a = json!({"id": part_id(id, &format!("service_area/{name}")), "service_id": id, "name": name});
        if let Some(e) = extent {
            a["extent"] = json!(e);
            a["extent_type"] = json!(extent_type);
        }
        a
    };
    match area {
        ServiceArea::None => Vec::new(),
        ServiceArea::Radius { radius_km } => {
            vec![one(format!("半径{} km / within {} km", radius_km.km(), radius_km.km()), None, "")]
        }
        ServiceArea::Municipalities { codes } => codes
            .iter()
            .map(|c| {
                one(
                    g.municipality(*c).map_or_else(|| c.to_string(), |m| format!("{}{}", m.prefecture, m.name)),
                    None,
                    "",
                )
            })
            .collect(),
        ServiceArea::Region { region_id } => {
            vec![one(g.region(region_id).map_or_else(|| region_id.clone(), |r| format!("{}圏域", r.name)), None, "")]
        }
        ServiceArea::Polygon { coordinates } => vec![one(
            "対応エリア / service area".into(),
            Some(json!({"type": "Polygon", "coordinates": coordinates}).to_string()),
            "geojson",
        )],
    }
}

fn str_of<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.trim().is_empty())
}

/// Read one service (1-based `row` = its position in the document).
pub fn parse_service(places: &Places, row: usize, v: Value) -> RowResult {
    let err = |field: &str, reason: String| vec![RowError { row, field: field.to_string(), reason }];
    if !v.is_object() {
        return Err(err("", "a service must be a JSON object".into()));
    }
    let mut errs = Vec::new();
    let mut r = Map::new();
    let id = str_of(&v, &["id"]).ok_or_else(|| err("id", "required (HSDS services have an id)".into()))?;
    // An id that is not a UUID is kept as the source id; the resource id is derived from it.
    let rid = id.parse::<ResourceId>().unwrap_or_else(|_| ResourceId::from_source_id(id));
    r.insert("id".into(), json!(rid.to_string()));
    for (hsds, ours) in [("name", "name"), ("alternate_name", "name_kana"), ("description", "description")] {
        if let Some(t) = v.get(hsds).and_then(Value::as_str) {
            r.insert(ours.into(), json!(t));
        }
    }
    let contact = contact_of(&v);
    if !contact.is_empty() {
        r.insert("contact".into(), Value::Object(contact));
    }
    if let Some(ages) = ages_of(&v) {
        r.insert("ages".into(), ages);
    }
    if let Some(d) = str_of(&v, &["assured_date"]) {
        r.insert("verified_at".into(), json!(d.get(..10).unwrap_or(d)));
    }
    if let Some(ls) = v.get("languages").and_then(Value::as_array) {
        let codes: Vec<&str> = ls.iter().filter_map(|l| str_of(l, &["code"])).collect();
        if !codes.is_empty() {
            r.insert("languages".into(), json!(codes));
        }
    }
    let hours = opening_hours(row, &v, &mut errs);
    if !hours.is_empty() {
        r.insert("opening_hours".into(), Value::Object(hours));
    }
    let address_for_geocoding = location_into(&v, &mut r);
    attributes_into(row, &v, &mut r, &mut errs);
    if !r.contains_key("kind") {
        errs.push(RowError {
            row,
            field: "attributes".into(),
            reason: format!("no kind: give an attribute of taxonomy `{KIND}` (e.g. code `daycare`)"),
        });
    }
    r.entry("sample").or_insert(json!(false));
    if !r.contains_key("source") {
        r.insert("source".into(), json!({"name": "HSDS import", "id": id}));
    }
    // Municipality (and point, when the address names a town) from the address when no code is
    // given. A service with a code and no coordinates has no point: none is made up.
    if !r.contains_key("municipality_code") {
        match address_for_geocoding {
            Some(addr) => match csv::place_address(places, &addr) {
                Ok((code, point)) => {
                    r.insert("municipality_code".into(), json!(code));
                    if let Some((lat, lon)) = point {
                        r.entry("location").or_insert(json!({"lat": lat, "lon": lon}));
                    }
                }
                Err(e) => {
                    errs.push(RowError { row, field: "service_at_locations/0/location/addresses/0".into(), reason: e })
                }
            },
            None => errs.push(RowError {
                row,
                field: "service_at_locations".into(),
                reason: "no place: give a location with an address or a municipality code".into(),
            }),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    jsonl::parse_value(places, row, Value::Object(r))
}

/// URL, email, the first phone that is not a FAX, and the first FAX.
fn contact_of(v: &Value) -> Map<String, Value> {
    let mut contact = Map::new();
    if let Some(u) = str_of(v, &["url"]) {
        contact.insert("url".into(), json!(u));
    }
    if let Some(e) = str_of(v, &["email"]) {
        contact.insert("email".into(), json!(e));
    }
    let phones = v.get("phones").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let first = |fax: bool| {
        phones.iter().filter(|p| (str_of(p, &["type"]) == Some("fax")) == fax).find_map(|p| str_of(p, &["number"]))
    };
    if let Some(p) = first(false) {
        contact.insert("phone".into(), json!(p));
    }
    if let Some(p) = first(true) {
        contact.insert("fax".into(), json!(p));
    }
    contact
}

/// `minimum_age` / `maximum_age` as an age range (an open end is 0 or 18).
fn ages_of(v: &Value) -> Option<Value> {
    match (v.get("minimum_age").and_then(Value::as_f64), v.get("maximum_age").and_then(Value::as_f64)) {
        (None, None) => None,
        (a, b) => Some(json!({"min_years": a.map_or(0, |a| a as u64), "max_years": b.map_or(18, |b| b as u64)})),
    }
}

/// Weekly schedules → opening hours; a schedule that cannot be read is reported in `errs`.
fn opening_hours(row: usize, v: &Value, errs: &mut Vec<RowError>) -> Map<String, Value> {
    let mut hours: Map<String, Value> = Map::new();
    for (i, sch) in v.get("schedules").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let (Some(opens), Some(closes)) = (str_of(sch, &["opens_at"]), str_of(sch, &["closes_at"])) else { continue };
        let freq = str_of(sch, &["freq"]).unwrap_or("WEEKLY");
        if !freq.eq_ignore_ascii_case("WEEKLY") {
            continue;
        }
        let range = match TimeRange::parse(&format!(
            "{}-{}",
            opens.get(..5).unwrap_or(opens),
            closes.get(..5).unwrap_or(closes)
        )) {
            Ok(t) => t,
            Err(e) => {
                errs.push(RowError { row, field: format!("schedules/{i}"), reason: e.reason });
                continue;
            }
        };
        for day in str_of(sch, &["byday"]).unwrap_or("").split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match DAYS.iter().find(|(c, _)| c.eq_ignore_ascii_case(day)) {
                Some((_, w)) => hours
                    .entry(w.code())
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(json!(range.to_string())),
                None => errs.push(RowError {
                    row,
                    field: format!("schedules/{i}/byday"),
                    reason: format!("`{day}` is not MO…SU"),
                }),
            }
        }
    }
    hours
}

/// The first location's point, municipality code, address and postal code into `r`; returns the
/// address to geocode (with its prefecture and city) when there is one.
fn location_into(v: &Value, r: &mut Map<String, Value>) -> Option<String> {
    let loc = v
        .get("service_at_locations")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .and_then(|s| s.get("location"))?;
    if let (Some(lat), Some(lon)) =
        (loc.get("latitude").and_then(Value::as_f64), loc.get("longitude").and_then(Value::as_f64))
    {
        r.insert("location".into(), json!({"lat": lat, "lon": lon}));
    }
    let code_type = str_of(loc, &["external_identifier_type"]).unwrap_or("");
    if let Some(code) = str_of(loc, &["external_identifier"])
        .filter(|_| code_type == MUNICIPALITY_CODE || code_type.contains("地方公共団体"))
    {
        r.insert("municipality_code".into(), json!(code));
    }
    let a = loc.get("addresses").and_then(Value::as_array).and_then(|a| a.first())?;
    if let Some(p) = str_of(a, &["postal_code"]) {
        r.insert("postal_code".into(), json!(p));
    }
    let line = str_of(a, &["address_1"]).unwrap_or("");
    let city = str_of(a, &["city"]).unwrap_or("");
    let pref = str_of(a, &["state_province"]).or_else(|| str_of(a, &["region"])).unwrap_or("");
    if line.is_empty() {
        return (!city.is_empty()).then(|| format!("{pref}{city}"));
    }
    r.insert("address".into(), json!(line));
    Some(if line.contains(city) && (line.contains(pref) || pref.is_empty()) {
        line.to_string()
    } else if line.contains(city) {
        format!("{pref}{line}")
    } else {
        format!("{pref}{city}{line}")
    })
}

/// Attributes: tsunagu's own fields, kind and care types; another publisher's taxonomy counts
/// where a term names a kind or a care type.
fn attributes_into(row: usize, v: &Value, r: &mut Map<String, Value>, errs: &mut Vec<RowError>) {
    let mut accepted = Vec::new();
    let mut declined = Vec::new();
    for (i, a) in v.get("attributes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let taxonomy = str_of(a, &["taxonomy_term", "taxonomy"]).unwrap_or("");
        let code = str_of(a, &["taxonomy_term", "code"]).unwrap_or("");
        let name = str_of(a, &["taxonomy_term", "name"]).unwrap_or("");
        let value = a.get("value").and_then(Value::as_str).unwrap_or("");
        let at = |f: &str| format!("attributes/{i}/{f}");
        match taxonomy {
            FIELD => {
                if !FIELDS.contains(&code) {
                    errs.push(RowError {
                        row,
                        field: at("taxonomy_term/code"),
                        reason: format!("unknown tsunagu field `{code}`; known: {}", FIELDS.join(", ")),
                    });
                    continue;
                }
                match serde_json::from_str::<Value>(value) {
                    Ok(x) => {
                        r.insert(code.to_string(), x);
                    }
                    Err(e) => errs.push(RowError { row, field: at("value"), reason: format!("not JSON: {e}") }),
                }
            }
            KIND => match code.parse::<Kind>() {
                Ok(k) => {
                    r.insert("kind".into(), json!(k.code()));
                }
                Err(e) => errs.push(RowError { row, field: at("taxonomy_term/code"), reason: e.to_string() }),
            },
            CARE => match code.parse::<CareType>() {
                Ok(c) if value == "declined" => declined.push(c.code()),
                Ok(c) if value.is_empty() || value == "accepted" => accepted.push(c.code()),
                Ok(_) => errs.push(RowError {
                    row,
                    field: at("value"),
                    reason: format!("`{value}` is neither accepted nor declined"),
                }),
                Err(e) => errs.push(RowError { row, field: at("taxonomy_term/code"), reason: e.to_string() }),
            },
            _ => {
                if !r.contains_key("kind")
                    && let Some(k) = [code, name].into_iter().find_map(|t| csv::parse_kind(t).ok())
                {
                    r.insert("kind".into(), json!(k.code()));
                } else if let Some(cs) =
                    [code, name].into_iter().find_map(|t| csv::parse_care(t).ok().filter(|c| !c.is_empty()))
                {
                    accepted.extend(cs.iter().map(|c| c.code()));
                }
            }
        }
    }
    if !accepted.is_empty() {
        r.insert("care_types".into(), json!(accepted));
    }
    if !declined.is_empty() {
        r.insert("care_types_declined".into(), json!(declined));
    }
}
