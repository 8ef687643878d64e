//! The authorisation decision: who may make which change to the directory.
//!
//! There is one decision, [`Policy::allow`], and every write path reaches it through the store,
//! which asks it inside the transaction that makes the change, with the record as it is stored
//! then (live or deleted) and what it would become. Direct edits, import rows (by id or by
//! 外部ID), restores, availability, confirmations and closing reports all go this way, so no path
//! can skip a rule another path applies.
//!
//! The rules (SECURITY.md has them for people):
//! - a reader changes nothing;
//! - an editor creates and changes live records; a region-limited editor only when both the
//!   stored record and its new state lie in the editor's 圏域, so a record can neither be taken
//!   from another 圏域 nor given away to one;
//! - deleting, and bringing back a deleted record (restore, or an import row naming it), need an
//!   admin;
//! - closing a report needs an editor of the reported record's 圏域;
//! - a server that serves no sample data changes no sample record: for it they do not exist.

use tsunagu_model::{MunicipalityCode, Resource};
use tsunagu_places::Gazetteer;
use tsunagu_store::{ApiKey, Authorize, Proposal, Refusal, Role};

/// The prefix of every refusal reason (import row reports show it as written).
pub const OUTSIDE_REGIONS: &str = "refused: outside your regions";
pub const NEEDS_ADMIN_TO_UNDELETE: &str = "refused: deleted records need an admin";
pub const NEEDS_ADMIN_TO_DELETE: &str = "refused: deleting needs an admin";
pub const READERS_CHANGE_NOTHING: &str = "refused: a reader key changes nothing";

/// What one caller may do.
#[derive(Clone)]
pub struct Policy {
    role: Role,
    /// 圏域 ids a region-limited editor works in; empty = everywhere.
    regions: Vec<String>,
    gazetteer: &'static Gazetteer,
    serve_sample_data: bool,
}

impl Policy {
    /// The holder of `key`.
    pub fn for_key(key: &ApiKey, gazetteer: &'static Gazetteer, serve_sample_data: bool) -> Policy {
        Policy { role: key.role, regions: key.regions.clone(), gazetteer, serve_sample_data }
    }

    /// The centre itself at the command line (`tsunagu import`): an admin everywhere.
    pub fn system(gazetteer: &'static Gazetteer) -> Policy {
        Policy { role: Role::Admin, regions: Vec::new(), gazetteer, serve_sample_data: true }
    }

    fn region_of(&self, code: MunicipalityCode) -> Option<&'static tsunagu_places::Region> {
        self.gazetteer.region_of(code)
    }

    fn describe(&self, r: &Resource) -> String {
        match self.region_of(r.municipality_code) {
            Some(g) => format!("{} {}", g.id, g.name),
            None => format!("municipality {}", r.municipality_code),
        }
    }

    fn in_my_regions(&self, r: &Resource) -> bool {
        self.role >= Role::Admin
            || self.regions.is_empty()
            || self.region_of(r.municipality_code).is_some_and(|g| self.regions.contains(&g.id))
    }

    fn outside(&self, r: &Resource) -> Refusal {
        let mine: Vec<String> = self
            .regions
            .iter()
            .map(|id| match self.gazetteer.region(id) {
                Some(g) => format!("{} {}", g.id, g.name),
                None => id.clone(),
            })
            .collect();
        Refusal::Forbidden(format!("{OUTSIDE_REGIONS} ({}); the record is in {}", mine.join(", "), self.describe(r)))
    }

    /// Every record the change touches, as stored and as it would become.
    fn touched<'a>(p: &Proposal<'a>) -> Vec<&'a Resource> {
        match *p {
            Proposal::Create { new } => vec![new],
            Proposal::Update { stored, new } | Proposal::Undelete { stored, new } => vec![stored, new],
            Proposal::Delete { stored } => vec![stored],
            Proposal::CloseReport { about } => vec![about],
        }
    }
}

impl Authorize for Policy {
    fn allow(&self, p: Proposal<'_>) -> Result<(), Refusal> {
        let touched = Policy::touched(&p);
        if !self.serve_sample_data && touched.iter().any(|r| r.sample) {
            return Err(Refusal::NotServed);
        }
        if self.role < Role::Editor {
            return Err(Refusal::Forbidden(READERS_CHANGE_NOTHING.into()));
        }
        if let Some(r) = touched.iter().find(|r| !self.in_my_regions(r)) {
            return Err(self.outside(r));
        }
        match p {
            Proposal::Delete { .. } if self.role < Role::Admin => Err(Refusal::Forbidden(NEEDS_ADMIN_TO_DELETE.into())),
            Proposal::Undelete { .. } if self.role < Role::Admin => {
                Err(Refusal::Forbidden(NEEDS_ADMIN_TO_UNDELETE.into()))
            }
            _ => Ok(()),
        }
    }
}

/// The municipality codes of a region-limited key's 圏域 (None: the key sees everywhere).
pub fn municipalities_of(key: &ApiKey, gazetteer: &Gazetteer) -> Option<Vec<String>> {
    if key.role >= Role::Admin || key.regions.is_empty() {
        return None;
    }
    let mut codes: Vec<String> = key
        .regions
        .iter()
        .filter_map(|id| gazetteer.region(id))
        .flat_map(|g| gazetteer.region_codes(g))
        .map(|c| c.to_string())
        .collect();
    codes.sort();
    codes.dedup();
    Some(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    fn key(role: Role, regions: &[&str]) -> ApiKey {
        ApiKey {
            id: "k".into(),
            name: "k".into(),
            role,
            regions: regions.iter().map(|s| s.to_string()).collect(),
            secret_hash: String::new(),
            created_at: Utc::now(),
            revoked_at: None,
        }
    }

    fn at(code: &str, sample: bool) -> Resource {
        Resource::from_json(json!({
            "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21", "name": "【サンプル】x", "kind": "daycare",
            "municipality_code": code, "source": {"name": "t"}, "sample": sample
        }))
        .unwrap()
    }

    fn decide(role: Role, regions: &[&str], p: Proposal<'_>) -> Result<(), Refusal> {
        Policy::for_key(&key(role, regions), Gazetteer::bundled(), true).allow(p)
    }

    #[test]
    fn a_region_editor_neither_takes_nor_gives_away_records() {
        let (matsumoto, saku) = (at("20202", false), at("20217", false));
        let mine = ["20-07"];
        assert!(decide(Role::Editor, &mine, Proposal::Update { stored: &matsumoto, new: &matsumoto }).is_ok());
        for p in [
            Proposal::Update { stored: &saku, new: &matsumoto },
            Proposal::Update { stored: &matsumoto, new: &saku },
            Proposal::Create { new: &saku },
            Proposal::CloseReport { about: &saku },
        ] {
            let Err(Refusal::Forbidden(why)) = decide(Role::Editor, &mine, p) else { panic!("{p:?} allowed") };
            assert!(why.starts_with(OUTSIDE_REGIONS) && why.contains("20-01 佐久"), "{why}");
        }
        assert!(decide(Role::Editor, &[], Proposal::Update { stored: &saku, new: &matsumoto }).is_ok());
    }

    #[test]
    fn deleting_and_undeleting_need_an_admin_and_readers_change_nothing() {
        let r = at("20202", false);
        let refused = |role, p| matches!(decide(role, &[], p), Err(Refusal::Forbidden(_)));
        assert!(refused(Role::Editor, Proposal::Delete { stored: &r }));
        assert!(refused(Role::Editor, Proposal::Undelete { stored: &r, new: &r }));
        assert!(refused(Role::Reader, Proposal::Create { new: &r }));
        assert!(!refused(Role::Admin, Proposal::Undelete { stored: &r, new: &r }));
        assert!(!refused(Role::Editor, Proposal::CloseReport { about: &r }));
    }

    #[test]
    fn sample_records_do_not_exist_for_a_real_data_server() {
        let s = at("20202", true);
        let p = Policy::for_key(&key(Role::Admin, &[]), Gazetteer::bundled(), false);
        assert_eq!(p.allow(Proposal::Update { stored: &s, new: &s }), Err(Refusal::NotServed));
    }

    #[test]
    fn a_region_key_lists_the_municipalities_of_its_regions_with_wards() {
        let g = Gazetteer::bundled();
        let codes = municipalities_of(&key(Role::Editor, &["11-04"]), g).unwrap();
        assert!(codes.contains(&"11100".to_string()) && codes.contains(&"11101".to_string()), "{codes:?}");
        assert!(municipalities_of(&key(Role::Admin, &["11-04"]), g).is_none());
    }
}
