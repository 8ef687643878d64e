//! What only some kinds of resource have, each in its own shape:
//!
//! - a programme (制度・手当・助成, kind `program`) applies to the residents of some municipalities
//!   (its service area) whose child fits its eligibility, not to whoever lives near an address;
//! - a training course (研修, kind `training`) is a list of dated sessions with an audience and
//!   seats;
//! - a power supply point (災害時の電源供給, kind `power_supply`, and a 福祉避難所 with power)
//!   states which devices it can power and with what.
//!
//! Each is a member of [`crate::Resource`], so it is kept, edited, audited and exported like the
//! rest of a record. Unknown is not "no": a programme that states no age limit is not limited by
//! age, and a point that does not say whether it can run a ventilator is "ask", not "cannot".

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::resource::{AgeRange, check_text, is_http_url, is_phone_number, no_care, normalize_phone_number};
use crate::vocab::{Audience, CareSet, CareType, Certificate, CourseType, Device};

/// Longest free-text member of a programme or course.
pub const MAX_NOTE_CHARS: usize = 1_000;
/// Most sessions one course lists.
pub const MAX_SESSIONS: usize = 100;
/// Most documents an application lists.
pub const MAX_DOCUMENTS: usize = 20;

fn text(errs: &mut Vec<FieldError>, field: &str, value: &str, required: bool) {
    check_text(errs, field, value, MAX_NOTE_CHARS, required);
}

/// Who a programme is for. Every stated condition must hold; a condition left out does not limit.
/// The ages are the record's own `ages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The child uses at least one of these (empty: any child, whatever their care).
    #[serde(default, skip_serializing_if = "no_care")]
    pub care_types: CareSet,
    /// The child holds at least one of these (empty: none needed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    /// Income limits as the programme words them (「所得制限あり（…）」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_note: Option<String>,
    /// Anything else the programme asks (「在宅で生活していること」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How to apply for a programme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HowToApply {
    /// The window (窓口) that takes the application, e.g. 「松本市 障がい福祉課」.
    pub window: String,
    /// The window's phone, when one is on record (never invented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Documents to bring (申請書, 手帳, 医師の意見書 …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    /// The deadline as worded (「随時」「毎年6月30日まで」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// A programme (施策・制度): respite, 日常生活用具, transport subsidies, 手当 ….
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    #[serde(default)]
    pub eligibility: Eligibility,
    /// What it gives: an amount, hours or items, as worded (「年間120時間まで」).
    pub benefit: String,
    pub apply: HowToApply,
    /// The programme's official page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_url: Option<String>,
}

/// What is known about a child, for matching programmes. `None` / empty: not told, so it does not
/// exclude anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Child {
    pub age: Option<u8>,
    pub care_types: CareSet,
    /// Certificates the family says the child holds; `None`: not told.
    pub certificates: Option<Vec<Certificate>>,
}

/// Why a programme fits or does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Every stated condition is known to hold.
    Fits,
    /// Nothing known rules it out, but these conditions are still to check (`certificates`,
    /// `age`, `care_types`).
    ToCheck(Vec<&'static str>),
    /// A condition is known not to hold.
    No(&'static str),
}

impl Programme {
    /// Whether a child fits this programme, whose record's ages are `ages`.
    pub fn fit(&self, ages: Option<AgeRange>, child: &Child) -> Fit {
        let mut check = Vec::new();
        if let Some(range) = ages {
            match child.age {
                Some(a) if !range.contains(a) => return Fit::No("age"),
                Some(_) => {}
                None => check.push("age"),
            }
        }
        let wanted = self.eligibility.care_types;
        if !wanted.is_empty() {
            if child.care_types.is_empty() {
                check.push("care_types");
            } else if child.care_types.intersection(wanted).is_empty() {
                return Fit::No("care_types");
            }
        }
        if !self.eligibility.certificates.is_empty() {
            match &child.certificates {
                Some(held) if !held.iter().any(|c| self.eligibility.certificates.contains(c)) => {
                    return Fit::No("certificates");
                }
                Some(_) => {}
                None => check.push("certificates"),
            }
        }
        if check.is_empty() { Fit::Fits } else { Fit::ToCheck(check) }
    }

    pub fn problems(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        text(&mut errs, "programme/benefit", &self.benefit, true);
        text(&mut errs, "programme/apply/window", &self.apply.window, true);
        text(&mut errs, "programme/apply/deadline", self.apply.deadline.as_deref().unwrap_or(""), false);
        text(
            &mut errs,
            "programme/eligibility/income_note",
            self.eligibility.income_note.as_deref().unwrap_or(""),
            false,
        );
        text(&mut errs, "programme/eligibility/note", self.eligibility.note.as_deref().unwrap_or(""), false);
        if self.apply.documents.len() > MAX_DOCUMENTS {
            errs.push(FieldError::new("programme/apply/documents", format!("lists more than {MAX_DOCUMENTS}")));
        }
        for (i, d) in self.apply.documents.iter().enumerate() {
            text(&mut errs, &format!("programme/apply/documents/{i}"), d, true);
        }
        if let Some(u) = &self.official_url
            && !is_http_url(u)
        {
            errs.push(FieldError::new("programme/official_url", format!("`{u}` is not an http(s) URL")));
        }
        if let Some(p) = &self.apply.phone
            && !is_phone_number(p)
        {
            errs.push(FieldError::new("programme/apply/phone", format!("`{p}` is not a phone number")));
        }
        errs
    }

    pub fn normalise(&mut self) {
        let mut c = self.eligibility.certificates.clone();
        c.sort();
        c.dedup();
        self.eligibility.certificates = c;
        self.apply.phone = self.apply.phone.as_deref().map(normalize_phone_number);
    }
}

/// One dated session of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Start, with its offset (RFC 3339, e.g. `2027-01-20T13:30:00+09:00`).
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// Where it is held; absent for an online-only session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Held online (オンライン), alone or beside the venue.
    #[serde(default)]
    pub online: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats_left: Option<u32>,
    /// The last day to apply (申込締切), in Japan time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_by: Option<NaiveDate>,
    /// What this session is (「第1日 講義」「演習」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Session {
    /// The session's date in Japan, where every course is held.
    pub fn local_date(&self) -> NaiveDate {
        self.starts_at.with_timezone(&jst()).date_naive()
    }
    /// Whether it has not ended at `now`.
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        self.ends_at.with_timezone(&Utc) > now
    }
    /// Whether applications are still taken on `today` (Japan's date) as far as is known.
    pub fn open_for_applications(&self, today: NaiveDate) -> bool {
        self.apply_by.is_none_or(|d| today <= d) && self.seats_left != Some(0)
    }
}

/// Japan Standard Time (UTC+9; Japan has no summer time).
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("valid offset")
}

/// The date in Japan at `now` (deadlines are Japan's dates).
pub fn japan_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&jst()).date_naive()
}

/// A training course (研修) and its sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub course: CourseType,
    /// Who runs it (主催), e.g. 「長野県 健康福祉部」.
    pub organiser: String,
    pub audience: Vec<Audience>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
    /// How to apply, as worded (「所属先を通じてFAXで申込」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how_to_apply: Option<String>,
    /// A fee as worded (「無料」「テキスト代 2,000円」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
}

impl Training {
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        text(&mut errs, "training/organiser", &self.organiser, true);
        text(&mut errs, "training/how_to_apply", self.how_to_apply.as_deref().unwrap_or(""), false);
        text(&mut errs, "training/fee", self.fee.as_deref().unwrap_or(""), false);
        if self.audience.is_empty() {
            errs.push(FieldError::new("training/audience", "must name at least one audience"));
        }
        if self.sessions.len() > MAX_SESSIONS {
            errs.push(FieldError::new("training/sessions", format!("lists more than {MAX_SESSIONS}")));
        }
        for (i, s) in self.sessions.iter().enumerate() {
            let f = |m: &str| format!("training/sessions/{i}/{m}");
            if s.ends_at <= s.starts_at {
                errs.push(FieldError::new(f("ends_at"), "must be after starts_at"));
            }
            if s.ends_at.signed_duration_since(s.starts_at) > chrono::Duration::days(14) {
                errs.push(FieldError::new(f("ends_at"), "a session lasts at most 14 days; list each day as a session"));
            }
            if let Some(d) = s.apply_by
                && d > s.local_date()
            {
                errs.push(FieldError::new(f("apply_by"), "the deadline cannot fall after the session starts"));
            }
            if let (Some(c), Some(left)) = (s.capacity, s.seats_left)
                && left > c
            {
                errs.push(FieldError::new(f("seats_left"), format!("{left} seats left is more than the capacity {c}")));
            }
            if s.venue.as_deref().is_none_or(|v| v.trim().is_empty()) && !s.online {
                errs.push(FieldError::new(f("venue"), "a session is held at a venue, online, or both"));
            }
            text(&mut errs, &f("venue"), s.venue.as_deref().unwrap_or(""), false);
            text(&mut errs, &f("note"), s.note.as_deref().unwrap_or(""), false);
        }
        errs
    }

    pub fn normalise(&mut self) {
        self.audience.sort();
        self.audience.dedup();
        self.sessions.sort_by_key(|s| (s.starts_at, s.ends_at));
        for s in &mut self.sessions {
            s.venue = s.venue.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        }
    }
}

/// What a power supply point can power (電源の設備).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSupply {
    /// Devices the point says it can power. A device not listed is unknown ("ask"), not refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// 100 V outlets families may use at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlets: Option<u16>,
    /// Power from an electric vehicle (EV・PHEVからの給電).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ev: Option<bool>,
    /// A generator's or battery's rated output, in watts (定格出力).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_watts: Option<u32>,
    /// Anything else, as worded (「酸素ボンベの充填は不可」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How well a point suits the devices a family brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceMatch {
    /// Devices the point says it can power.
    pub supported: Vec<Device>,
    /// Devices it says nothing about: ask first.
    pub unknown: Vec<Device>,
    /// The point has fewer outlets than devices brought.
    pub too_few_outlets: bool,
    /// The family's stated total draw is more than the point's rated output.
    pub over_capacity: bool,
}

impl DeviceMatch {
    /// Every device is stated as supported and nothing known is short.
    pub fn all_supported(&self) -> bool {
        self.unknown.is_empty() && !self.too_few_outlets && !self.over_capacity
    }
    /// Something known rules the point out.
    pub fn ruled_out(&self) -> bool {
        self.too_few_outlets || self.over_capacity
    }
}

impl PowerSupply {
    /// Match the devices a family brings (and, if they know it, their total draw in watts, from
    /// the devices' labels) against what the point states. tsunagu assumes no wattage of its own.
    pub fn match_devices(this: Option<&PowerSupply>, devices: &[Device], watts: Option<u32>) -> DeviceMatch {
        let stated = this.map(|p| p.devices.as_slice()).unwrap_or(&[]);
        let (supported, unknown) = devices.iter().partition(|d| stated.contains(d));
        DeviceMatch {
            supported,
            unknown,
            too_few_outlets: this.and_then(|p| p.outlets).is_some_and(|n| (n as usize) < devices.len()),
            over_capacity: matches!((this.and_then(|p| p.generator_watts), watts), (Some(cap), Some(w)) if w > cap),
        }
    }

    pub fn problems(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        text(&mut errs, "power_supply/note", self.note.as_deref().unwrap_or(""), false);
        if self.generator_watts.is_some_and(|w| w > 1_000_000) {
            errs.push(FieldError::new("power_supply/generator_watts", "is more than 1,000,000 W"));
        }
        errs
    }

    pub fn normalise(&mut self) {
        self.devices.sort();
        self.devices.dedup();
    }
}

/// The care types a device goes with, to read a family's care needs as devices they may bring.
pub fn devices_for(care: CareSet) -> Vec<Device> {
    let mut out = Vec::new();
    if care.contains(CareType::Ventilator) {
        out.push(Device::Ventilator);
    }
    if care.contains(CareType::SuctionOralNasal) || care.contains(CareType::SuctionTracheal) {
        out.push(Device::Suction);
    }
    if care.contains(CareType::Oxygen) {
        out.push(Device::OxygenConcentrator);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn session(start: &str, end: &str) -> Session {
        Session {
            starts_at: at(start),
            ends_at: at(end),
            venue: Some("松本市総合社会福祉センター".into()),
            online: false,
            capacity: Some(30),
            seats_left: Some(4),
            apply_by: None,
            note: None,
        }
    }

    fn course(sessions: Vec<Session>) -> Training {
        Training {
            course: CourseType::Kakutan3,
            organiser: "長野県".into(),
            audience: vec![Audience::NurseryTeacher],
            sessions,
            how_to_apply: None,
            fee: None,
        }
    }

    #[test]
    fn a_session_cannot_end_before_it_starts_nor_close_applications_after_it() {
        let mut s = session("2027-01-20T13:30:00+09:00", "2027-01-20T10:00:00+09:00");
        s.apply_by = Some("2027-01-21".parse().unwrap());
        s.seats_left = Some(31);
        s.venue = None;
        let fields: Vec<String> = course(vec![s]).problems().into_iter().map(|e| e.field).collect();
        for f in ["ends_at", "apply_by", "seats_left", "venue"] {
            assert!(fields.contains(&format!("training/sessions/0/{f}")), "{f}: {fields:?}");
        }
        let ok = session("2027-01-20T13:30:00+09:00", "2027-01-20T16:00:00+09:00");
        assert!(course(vec![ok]).problems().is_empty());
    }

    #[test]
    fn the_deadline_is_compared_in_japan_time() {
        // 00:30 JST on the 20th is still the 19th in UTC: a deadline of the 20th is allowed.
        let mut s = session("2027-01-20T00:30:00+09:00", "2027-01-20T03:00:00+09:00");
        s.apply_by = Some("2027-01-20".parse().unwrap());
        assert!(course(vec![s]).problems().is_empty());
    }

    #[test]
    fn eligibility_unknown_is_to_check_and_known_mismatch_is_no() {
        let p = Programme {
            eligibility: Eligibility {
                care_types: [CareType::Ventilator].into_iter().collect(),
                certificates: vec![Certificate::PhysicalDisability],
                ..Eligibility::default()
            },
            benefit: "非常用電源の購入費を助成".into(),
            apply: HowToApply { window: "障がい福祉課".into(), ..HowToApply::default() },
            official_url: None,
        };
        let ages = Some(AgeRange { min_years: 0, max_years: 17 });
        assert_eq!(p.fit(ages, &Child::default()), Fit::ToCheck(vec!["age", "care_types", "certificates"]));
        let vent = [CareType::Ventilator].into_iter().collect();
        let child = Child { age: Some(5), care_types: vent, certificates: Some(vec![Certificate::PhysicalDisability]) };
        assert_eq!(p.fit(ages, &child), Fit::Fits);
        assert_eq!(p.fit(ages, &Child { age: Some(18), ..child.clone() }), Fit::No("age"));
        let suction = [CareType::SuctionOralNasal].into_iter().collect();
        assert_eq!(p.fit(ages, &Child { care_types: suction, ..child.clone() }), Fit::No("care_types"));
        assert_eq!(p.fit(ages, &Child { certificates: Some(vec![]), ..child }), Fit::No("certificates"));
    }

    #[test]
    fn devices_are_matched_without_assuming_wattage() {
        let p = PowerSupply {
            devices: vec![Device::Ventilator, Device::Suction],
            outlets: Some(2),
            ev: Some(true),
            generator_watts: Some(1500),
            note: None,
        };
        let m = PowerSupply::match_devices(Some(&p), &[Device::Ventilator, Device::Suction], None);
        assert!(m.all_supported());
        let m = PowerSupply::match_devices(Some(&p), &[Device::Ventilator, Device::OxygenConcentrator], Some(400));
        assert_eq!(m.unknown, vec![Device::OxygenConcentrator]);
        assert!(!m.ruled_out());
        let three = [Device::Ventilator, Device::Suction, Device::FeedingPump];
        assert!(PowerSupply::match_devices(Some(&p), &three, None).too_few_outlets);
        assert!(PowerSupply::match_devices(Some(&p), &[Device::Ventilator], Some(2000)).over_capacity);
        let none = PowerSupply::match_devices(None, &[Device::Ventilator], Some(2000));
        assert!(!none.ruled_out() && none.unknown == vec![Device::Ventilator]);
    }
}
