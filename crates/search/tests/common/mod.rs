//! A resource for the search crate's property tests: the given identity, kind, place and
//! location, and nothing else; each test sets what it varies with struct update syntax.

use tsunagu_model::{Kind, LatLon, Resource, ResourceId, Source};

pub fn resource(source_id: &str, name: String, kind: Kind, municipality: &str, location: LatLon) -> Resource {
    Resource {
        id: ResourceId::from_source_id(source_id),
        name,
        name_kana: None,
        kind,
        care_types: Default::default(),
        care_types_declined: Default::default(),
        care_types_conditional: Default::default(),
        care_statements: Default::default(),
        description: String::new(),
        address: None,
        postal_code: None,
        municipality_code: municipality.parse().unwrap(),
        location: Some(location),
        service_area: Default::default(),
        ages: None,
        capacity: None,
        nurse_schedule: Default::default(),
        opening_hours: Default::default(),
        hours_note: None,
        contact: Default::default(),
        operator: None,
        languages: vec![],
        accessibility: vec![],
        departments: vec![],
        transport: None,
        programme: None,
        training: None,
        power_supply: None,
        source: Source { name: "test".into(), id: None, url: None, date: None, licence: None, not_listed_since: None },
        verified_at: None,
        accepting_new_children: None,
        availability_updated_at: None,
        private: None,
        sample: false,
        created_at: None,
        updated_at: None,
        site: None,
    }
}
