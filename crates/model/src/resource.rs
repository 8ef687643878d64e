//! A support resource (支援資源): a place, service, person or programme a family can turn to.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::codes::{MunicipalityCode, PostalCode, ResourceId};
use crate::error::FieldError;
use crate::geo::{LatLon, RadiusKm};
use crate::schedule::WeeklyHours;
use crate::vocab::{Accessibility, CareSet, Kind, TransportFeature};

/// Who a resource serves geographically, beyond its own address.
/// Visiting nurses and transport come to you: what matters is whether their area covers your home.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceArea {
    /// Serves people who come to it; no outreach area.
    #[default]
    None,
    /// Serves everyone within this distance of its location.
    Radius { radius_km: RadiusKm },
    /// Serves these municipalities (a designated city includes its wards).
    Municipalities { codes: Vec<MunicipalityCode> },
    /// Serves a whole 障害保健福祉圏域, by region id (e.g. `20-07`).
    Region { region_id: String },
    /// Serves the inside of a polygon: GeoJSON-style rings of `[lon, lat]`, the first ring the
    /// outline, any further rings holes; each ring closed (first position = last).
    Polygon { coordinates: Vec<Vec<[f64; 2]>> },
}

/// Most positions a service-area polygon may have.
pub const MAX_POLYGON_POSITIONS: usize = 10_000;

impl ServiceArea {
    /// Problems with the area's shape, as (field, reason).
    fn problems(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        match self {
            ServiceArea::Municipalities { codes } if codes.is_empty() => {
                errs.push(FieldError::new("service_area/codes", "must list at least one municipality"));
            }
            ServiceArea::Region { region_id } => {
                let ok = region_id.len() == 5
                    && region_id.as_bytes()[2] == b'-'
                    && region_id.bytes().enumerate().all(|(i, b)| i == 2 || b.is_ascii_digit());
                if !ok {
                    errs.push(FieldError::new(
                        "service_area/region_id",
                        format!("`{region_id}` is not a region id such as 20-07"),
                    ));
                }
            }
            ServiceArea::Polygon { coordinates } => {
                if coordinates.is_empty() {
                    errs.push(FieldError::new("service_area/coordinates", "needs at least the outline ring"));
                }
                let total: usize = coordinates.iter().map(Vec::len).sum();
                if total > MAX_POLYGON_POSITIONS {
                    errs.push(FieldError::new(
                        "service_area/coordinates",
                        format!("has {total} positions; at most {MAX_POLYGON_POSITIONS}"),
                    ));
                }
                for (i, ring) in coordinates.iter().enumerate() {
                    let field = format!("service_area/coordinates/{i}");
                    if ring.len() < 4 {
                        errs.push(FieldError::new(&field, "a ring needs at least 4 positions"));
                    } else if ring.first() != ring.last() {
                        errs.push(FieldError::new(&field, "a ring must be closed (first position = last)"));
                    }
                    if ring.iter().any(|[lon, lat]| LatLon::new(*lat, *lon).is_err()) {
                        errs.push(FieldError::new(&field, "positions are [lon, lat] within −180..180 and −90..90"));
                    }
                }
            }
            _ => {}
        }
        errs
    }
}

/// Ages served, in years, inclusive (0 = from birth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeRange {
    pub min_years: u8,
    pub max_years: u8,
}

impl AgeRange {
    pub fn contains(self, age: u8) -> bool {
        (self.min_years..=self.max_years).contains(&age)
    }
}

/// Capacity (定員) and current vacancies (空き).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub total: Option<u32>,
    pub vacancies: Option<u32>,
}

/// How to reach a resource. Public contact only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// FAX: many providers and centres in Japan still take requests by FAX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
}

/// The corporation (法人) that runs a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    pub name: String,
    /// 法人番号: the 13-digit corporate number of the National Tax Agency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
}

/// Why records are linked as one site (施設): several services at one address, run by one 法人.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteBasis {
    /// Same 法人番号 and the same normalised address.
    CorporateNumberAndAddress,
    /// The same phone number within 50 m.
    PhoneNearby,
}

/// The site a record belongs to, with the other records there. Store-managed: derived by the
/// linking pass and kept beside the records (never merged into them), not part of a record's
/// own content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteLink {
    /// Shared by every record of the site.
    pub id: String,
    pub basis: SiteBasis,
}

/// What a transport service can carry (移動支援・福祉タクシー).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportFeatures {
    /// The child can ride in their wheelchair (車いすのまま乗車).
    #[serde(default)]
    pub wheelchair: bool,
    /// Lying down on a stretcher (ストレッチャー).
    #[serde(default)]
    pub stretcher: bool,
    /// A ventilator can run on board (人工呼吸器を使用したまま乗車).
    #[serde(default)]
    pub ventilator_onboard: bool,
    /// A nurse can ride along (看護師の同乗).
    #[serde(default)]
    pub escort_nurse: bool,
}

impl TransportFeatures {
    /// The features present, as a bitmask over [`TransportFeature::ALL`].
    pub fn bits(self) -> u8 {
        [self.wheelchair, self.stretcher, self.ventilator_onboard, self.escort_nurse]
            .iter()
            .enumerate()
            .fold(0, |m, (i, on)| if *on { m | (1 << i) } else { m })
    }
    pub fn has(self, f: TransportFeature) -> bool {
        self.bits() & (1 << f.index()) != 0
    }
}

/// Fields only key holders (reader and up) see: staff contacts and internal notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Name of the source, e.g. 「tsunagu サンプルデータ生成器」 or 「厚生労働省 医療情報ネット」.
    pub name: String,
    /// The record's id in that source (used to update on re-import instead of duplicating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Date the source describes (データ時点).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    /// The data date of the newest full list of this source that no longer has the record
    /// (「最新の公表データに掲載なし」): it may have closed, or moved. The record is kept, hidden from
    /// family search by default, until someone checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_listed_since: Option<NaiveDate>,
}

/// One support resource. Parsing (serde) checks each field's form; [`Resource::validate`] checks
/// the rules that span fields. A `Resource` that passed both is what the store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: ResourceId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_kana: Option<String>,
    pub kind: Kind,
    /// Care types the resource confirms it accepts (対応可).
    #[serde(default)]
    pub care_types: CareSet,
    /// Care types the resource confirms it does not accept (対応不可). Anything in neither list is
    /// unknown (未確認).
    #[serde(default)]
    pub care_types_declined: CareSet,
    /// Care types it takes only under conditions (条件つきでできる・要相談); the condition is in
    /// the care type's statement.
    #[serde(default, skip_serializing_if = "no_care")]
    pub care_types_conditional: CareSet,
    /// Who said what about each care type, and who verified it (absent: entered by the centre).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub care_statements: std::collections::BTreeMap<crate::vocab::CareType, crate::survey::CareStatement>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PostalCode>,
    pub municipality_code: MunicipalityCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LatLon>,
    #[serde(default)]
    pub service_area: ServiceArea,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ages: Option<AgeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    /// When a nurse is on site (看護師の配置), by weekday.
    #[serde(default, skip_serializing_if = "WeeklyHours::is_empty")]
    pub nurse_schedule: WeeklyHours,
    #[serde(default, skip_serializing_if = "WeeklyHours::is_empty")]
    pub opening_hours: WeeklyHours,
    /// Hours and closed days as the source words them, when they do not fit `opening_hours`
    /// (「平日 09:00-17:00／定休日：土日祝」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_note: Option<String>,
    #[serde(default)]
    pub contact: Contact,
    /// The corporation (法人) that runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    /// Languages staff can use, as BCP 47 tags (ja, en, pt, zh, vi …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accessibility: Vec<Accessibility>,
    /// Medical departments (診療科目) of a hospital or clinic, as the source names them
    /// (小児科, 小児外科 …). Searchable as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportFeatures>,
    /// A programme's eligibility, benefit and application (kind `program` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<crate::details::Programme>,
    /// A course's type, audience and sessions (kind `training` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<crate::details::Training>,
    /// What a power point can power (kinds `power_supply` and `welfare_shelter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_supply: Option<crate::details::PowerSupply>,
    pub source: Source,
    /// When staff last confirmed the record (最終確認日).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<NaiveDate>,
    /// Whether new children are being accepted now (空きがあり新規受け入れ可).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepting_new_children: Option<bool>,
    /// When nurse schedule, vacancies and `accepting_new_children` were last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_updated_at: Option<DateTime<Utc>>,
    /// Private to key holders; never in public responses or public exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<PrivateInfo>,
    /// Synthetic record made by the sample generator: never a real facility.
    pub sample: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The site this record shares with other records (store-managed, like the timestamps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteLink>,
}

pub(crate) fn no_care(c: &CareSet) -> bool {
    c.is_empty()
}

/// The rules every free-text member follows: a required one is not blank, and none is longer
/// than `max` characters or holds control characters (a newline is allowed).
pub(crate) fn check_text(errs: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errs.push(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        errs.push(FieldError::new(field, format!("is longer than {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        errs.push(FieldError::new(field, "contains control characters"));
    }
}

pub const MAX_NAME_CHARS: usize = 200;
/// Most medical departments (診療科目) on one record.
pub const MAX_DEPARTMENTS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_ADDRESS_CHARS: usize = 300;

impl Resource {
    /// Parse a resource from JSON: field forms via serde, then [`Resource::validate`].
    pub fn from_json(value: serde_json::Value) -> Result<Resource, Vec<FieldError>> {
        // serde lets a unit variant of a tagged enum carry other members; `none` takes none.
        if let Some(area) = value.get("service_area").and_then(|a| a.as_object())
            && area.get("type").and_then(|t| t.as_str()) == Some("none")
            && let Some(extra) = area.keys().find(|k| k.as_str() != "type")
        {
            return Err(vec![FieldError::new(
                "service_area",
                format!("unknown field `{extra}`: an area of type none has no other members"),
            )]);
        }
        let mut r: Resource = serde_json::from_value(value).map_err(|e| vec![FieldError::new("", e.to_string())])?;
        r.normalise();
        r.validate()?;
        Ok(r)
    }

    /// Unicode NFC and trimmed text, so that equal-looking names are equal.
    pub fn normalise(&mut self) {
        fn nfc(s: &str) -> String {
            s.trim().nfc().collect()
        }
        self.name = nfc(&self.name);
        self.description = nfc(&self.description);
        self.name_kana = self.name_kana.as_deref().map(nfc).filter(|s| !s.is_empty());
        self.address = self.address.as_deref().map(nfc).filter(|s| !s.is_empty());
        self.hours_note = self.hours_note.as_deref().map(nfc).filter(|s| !s.is_empty());
        for f in [&mut self.contact.phone, &mut self.contact.email, &mut self.contact.url, &mut self.contact.fax] {
            *f = f.as_deref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        }
        self.contact.phone = self.contact.phone.as_deref().map(normalize_phone);
        self.contact.fax = self.contact.fax.as_deref().map(normalize_phone);
        if let Some(o) = &mut self.operator {
            o.name = nfc(&o.name);
            o.corporate_number = o
                .corporate_number
                .as_deref()
                .map(|n| n.nfkc().filter(|c| !c.is_whitespace()).collect::<String>())
                .filter(|n| !n.is_empty());
        }
        if self.operator.as_ref().is_some_and(|o| o.name.is_empty() && o.corporate_number.is_none()) {
            self.operator = None;
        }
        self.contact.url = self.contact.url.as_deref().map(normalize_url);
        self.languages = self.languages.iter().map(|l| l.trim().to_string()).collect();
        self.departments = self.departments.iter().map(|d| nfc(d.trim())).filter(|d| !d.is_empty()).collect();
        self.accessibility.sort();
        self.accessibility.dedup();
        if let ServiceArea::Municipalities { codes } = &mut self.service_area {
            codes.sort();
            codes.dedup();
        }
        if let Some(p) = &mut self.programme {
            p.normalise();
        }
        if let Some(t) = &mut self.training {
            t.normalise();
        }
        if let Some(p) = &mut self.power_supply {
            p.normalise();
        }
    }

    /// Rules that span fields or bound sizes. Returns every problem, not just the first.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut text = |field: &str, value: &str, max: usize, required: bool| {
            check_text(&mut errs, field, value, max, required);
        };
        text("name", &self.name, MAX_NAME_CHARS, true);
        text("name_kana", self.name_kana.as_deref().unwrap_or(""), MAX_NAME_CHARS, false);
        text("description", &self.description, MAX_DESCRIPTION_CHARS, false);
        text("address", self.address.as_deref().unwrap_or(""), MAX_ADDRESS_CHARS, false);
        text("hours_note", self.hours_note.as_deref().unwrap_or(""), MAX_ADDRESS_CHARS, false);
        if let Some(o) = &self.operator {
            text("operator/name", &o.name, MAX_NAME_CHARS, true);
        }
        text("source/name", &self.source.name, MAX_NAME_CHARS, true);

        for (set, name) in [(self.care_types, "care_types"), (self.care_types_declined, "care_types_declined")] {
            let both = set.intersection(self.care_types_conditional);
            if !both.is_empty() {
                let codes: Vec<_> = both.iter().map(|c| c.code()).collect();
                errs.push(FieldError::new(
                    "care_types_conditional",
                    format!("{} cannot be both conditional and in {name}", codes.join(", ")),
                ));
            }
        }
        let stated = self.care_types.union(self.care_types_conditional).union(self.care_types_declined);
        for (c, s) in &self.care_statements {
            if !stated.contains(*c) {
                errs.push(FieldError::new(
                    format!("care_statements/{}", c.code()),
                    "a statement is about a care type the record accepts, takes under conditions or declines",
                ));
            }
            if s.note.as_deref().is_some_and(|n| n.chars().count() > crate::survey::MAX_ANSWER_CHARS) {
                errs.push(FieldError::new(format!("care_statements/{}/note", c.code()), "too long"));
            }
        }
        let both = self.care_types.intersection(self.care_types_declined);
        if !both.is_empty() {
            let codes: Vec<_> = both.iter().map(|c| c.code()).collect();
            errs.push(FieldError::new(
                "care_types_declined",
                format!("{} cannot be both accepted and declined", codes.join(", ")),
            ));
        }
        if let Some(a) = self.ages {
            if a.min_years > a.max_years {
                errs.push(FieldError::new("ages", "min_years must not be above max_years"));
            }
            if a.max_years > 40 {
                errs.push(FieldError::new("ages/max_years", "must be at most 40"));
            }
        }
        if let Some(c) = self.capacity
            && let (Some(t), Some(v)) = (c.total, c.vacancies)
            && v > t
        {
            errs.push(FieldError::new("capacity/vacancies", format!("{v} vacancies exceed the capacity of {t}")));
        }
        if let ServiceArea::Radius { .. } = self.service_area
            && self.location.is_none()
        {
            errs.push(FieldError::new("service_area", "a radius service area needs a location"));
        }
        errs.extend(self.service_area.problems());
        if let Some(p) = &self.contact.phone
            && !is_phone(p)
        {
            errs.push(FieldError::new(
                "contact/phone",
                format!("`{p}` is not a phone number (digits and hyphens, e.g. 0263-00-0000)"),
            ));
        }
        if let Some(p) = &self.contact.fax
            && !is_phone(p)
        {
            errs.push(FieldError::new("contact/fax", format!("`{p}` is not a FAX number (digits and hyphens)")));
        }
        if let Some(n) = self.operator.as_ref().and_then(|o| o.corporate_number.as_deref())
            && !(n.len() == 13 && n.bytes().all(|b| b.is_ascii_digit()))
        {
            errs.push(FieldError::new("operator/corporate_number", format!("`{n}` is not a 13-digit 法人番号")));
        }
        if let Some(e) = &self.contact.email
            && !is_email(e)
        {
            errs.push(FieldError::new("contact/email", format!("`{e}` is not an email address")));
        }
        for (field, u) in [("contact/url", &self.contact.url), ("source/url", &self.source.url)] {
            if let Some(u) = u
                && !is_http_url(u)
            {
                errs.push(FieldError::new(field, format!("`{u}` is not an http(s) URL")));
            }
        }
        if self.departments.len() > MAX_DEPARTMENTS {
            errs.push(FieldError::new("departments", format!("at most {MAX_DEPARTMENTS} departments")));
        }
        for (i, d) in self.departments.iter().enumerate() {
            if d.chars().count() > 40 {
                errs.push(FieldError::new(format!("departments/{i}"), "at most 40 characters"));
            }
        }
        for (i, l) in self.languages.iter().enumerate() {
            if !is_language_tag(l) {
                errs.push(FieldError::new(
                    format!("languages/{i}"),
                    format!("`{l}` is not a language tag such as ja, en, pt-BR"),
                ));
            }
        }
        if let Some(p) = &self.private {
            if let Some(phone) = &p.staff_phone
                && !is_phone(phone)
            {
                errs.push(FieldError::new("private/staff_phone", format!("`{phone}` is not a phone number")));
            }
            if p.notes.as_deref().is_some_and(|n| n.chars().count() > MAX_DESCRIPTION_CHARS) {
                errs.push(FieldError::new(
                    "private/notes",
                    format!("is longer than {MAX_DESCRIPTION_CHARS} characters"),
                ));
            }
        }
        let only = |errs: &mut Vec<FieldError>, field: &str, present: bool, kinds: &[Kind]| {
            if present && !kinds.contains(&self.kind) {
                let names: Vec<_> = kinds.iter().map(|k| k.code()).collect();
                errs.push(FieldError::new(field, format!("is for kind {} only", names.join(" or "))));
            }
        };
        only(&mut errs, "programme", self.programme.is_some(), &[Kind::Program]);
        only(&mut errs, "training", self.training.is_some(), &[Kind::Training]);
        only(&mut errs, "power_supply", self.power_supply.is_some(), &[Kind::PowerSupply, Kind::WelfareShelter]);
        if let Some(p) = &self.programme {
            errs.extend(p.problems());
            if matches!(self.service_area, ServiceArea::Radius { .. } | ServiceArea::Polygon { .. }) {
                errs.push(FieldError::new(
                    "service_area",
                    "a programme applies to residents: give municipalities or a region, not a distance or shape",
                ));
            }
        }
        if let Some(t) = &self.training {
            errs.extend(t.problems());
        }
        if let Some(p) = &self.power_supply {
            errs.extend(p.problems());
        }
        if self.sample && !self.name.contains(SAMPLE_MARK) {
            errs.push(FieldError::new("name", format!("a sample record's name must contain {SAMPLE_MARK}")));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The record without the store-managed timestamps (`created_at`, `updated_at`): the form
    /// that is stored, compared, edited and exported.
    /// Also without the other store-managed member, the site link.
    pub fn without_timestamps(mut self) -> Resource {
        self.created_at = None;
        self.updated_at = None;
        self.site = None;
        self
    }

    /// The record without private fields, as anyone may see it.
    pub fn public(mut self) -> Resource {
        self.private = None;
        self
    }

    /// Where this resource is, if known.
    pub fn point(&self) -> Option<LatLon> {
        self.location
    }
}

/// The mark every sample record's name carries, so it can never pass as a real facility.
pub const SAMPLE_MARK: &str = "【サンプル】";

/// Dash-like characters people type in phone numbers and host names.
const DASHES: &[char] = &['‐', '‑', '‒', '–', '—', '―', '−', '－', 'ー', 'ｰ'];

/// Whether text is a phone number once normalised (full-width digits, any dash).
pub fn is_phone_number(s: &str) -> bool {
    is_phone(&normalize_phone(s))
}

/// A phone number as stored.
pub fn normalize_phone_number(s: &str) -> String {
    normalize_phone(s.trim())
}

/// Full-width digits and any dash become ASCII: 「０４８－５７９－５８２１」 → 048-579-5821.
fn normalize_phone(s: &str) -> String {
    let s: String = s.nfkc().collect();
    s.chars().map(|c| if DASHES.contains(&c) { '-' } else { c }).collect()
}

/// Common slips in published URLs: full-width characters, a dash typed as 「ー」, a missing
/// colon (`http//`), or no scheme at all (`www.example.jp`) — fixed when the result is an
/// unambiguous http(s) URL; anything else is kept as given (and validation reports it).
fn normalize_url(s: &str) -> String {
    let s: String = s.nfkc().collect::<String>().chars().map(|c| if DASHES.contains(&c) { '-' } else { c }).collect();
    let fixed = if let Some(rest) = s.strip_prefix("http:/").filter(|r| !r.starts_with('/')) {
        format!("http://{rest}")
    } else if let Some(rest) = s.strip_prefix("https:/").filter(|r| !r.starts_with('/')) {
        format!("https://{rest}")
    } else if let Some(rest) = s.strip_prefix("http//") {
        format!("http://{rest}")
    } else if let Some(rest) = s.strip_prefix("https//") {
        format!("https://{rest}")
    } else if !s.contains("://")
        && !s.contains('@')
        && s.split('/').next().is_some_and(|host| {
            host.contains('.') && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
    {
        format!("http://{s}")
    } else {
        s.clone()
    };
    if is_http_url(&fixed) { fixed } else { s }
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    s.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | ' ' | '+')) && (9..=15).contains(&digits)
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && s.len() <= 254
}

pub(crate) fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !s.contains(char::is_whitespace)) && s.len() <= 2_000
}

fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn published_phone_numbers_and_urls_are_tidied_or_left_for_validation() {
        assert_eq!(super::normalize_phone("０４８－５７９－５８２１"), "048-579-5821");
        assert_eq!(super::normalize_phone("0265‐73‐8228"), "0265-73-8228");
        for (given, want) in [
            ("www.example.or.jp", "http://www.example.or.jp"),
            ("example.jp/", "http://example.jp/"),
            ("http//example.jp", "http://example.jp"),
            ("https//example.com", "https://example.com"),
            ("http:/www.example.jp", "http://www.example.jp"),
            ("https：//lifeplanーkaigo.jp", "https://lifeplan-kaigo.jp"),
            ("https://example.jp/a", "https://example.jp/a"),
            ("httt;//www.example.jp/", "httt;//www.example.jp/"),
            ("ftp://example.jp", "ftp://example.jp"),
        ] {
            assert_eq!(super::normalize_url(given), want, "{given}");
        }
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn an_area_of_type_none_carries_nothing_else() {
        let mut v = minimal();
        v["service_area"] = json!({"type": "none", "codes": ["00000"]});
        let errs = Resource::from_json(v.clone()).unwrap_err();
        assert_eq!(errs[0].field, "service_area", "{errs:?}");
        v["service_area"] = json!({"type": "none"});
        assert!(Resource::from_json(v).is_ok());
    }

    pub(crate) fn minimal() -> serde_json::Value {
        json!({
            "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21",
            "name": "【サンプル】ひまわり保育園",
            "kind": "daycare",
            "care_types": ["suction_oral_nasal", "gastrostomy"],
            "municipality_code": "20202",
            "location": {"lat": 36.238, "lon": 137.972},
            "source": {"name": "test"},
            "sample": true
        })
    }

    #[test]
    fn a_minimal_record_parses_and_round_trips() {
        let r = Resource::from_json(minimal()).unwrap();
        assert_eq!(r.kind, Kind::Daycare);
        assert_eq!(r.care_types.len(), 2);
        let back = Resource::from_json(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn invalid_records_report_every_problem() {
        let mut v = minimal();
        v["care_types_declined"] = json!(["gastrostomy"]);
        v["capacity"] = json!({"total": 3, "vacancies": 5});
        v["contact"] = json!({"phone": "call us", "url": "ftp://x"});
        v["name"] = json!("ひまわり保育園");
        let errs = Resource::from_json(v).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["care_types_declined", "capacity/vacancies", "contact/phone", "contact/url", "name"]);
    }

    #[test]
    fn unknown_members_and_bad_codes_are_rejected_at_parse() {
        let mut v = minimal();
        v["kind"] = json!("daycar");
        let e = Resource::from_json(v).unwrap_err();
        assert!(e[0].reason.contains("did you mean `daycare`"), "{e:?}");
        let mut v = minimal();
        v["colour"] = json!("red");
        assert!(Resource::from_json(v).is_err());
        let mut v = minimal();
        v["location"] = json!({"lat": 136.2, "lon": 137.9});
        assert!(Resource::from_json(v).is_err());
    }
}
