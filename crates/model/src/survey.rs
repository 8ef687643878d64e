//! What providers tell the centre about the medical care they can take, and who said so.
//!
//! A provider answers, per care type, one of できる (and who does it), 条件つきでできる（要相談, with a
//! note), できない or わからない. A statement on a record remembers who said it (the provider, the
//! centre, open data), when, and who at the centre verified it and when, so a family reads
//! 「事業所の回答（2027-01-10）・センター確認済み」 or 「事業所の回答・未確認」.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::schedule::WeeklyHours;
use crate::vocab::CareType;
use crate::{AgeRange, TransportFeatures};

/// Who does a care at the provider (for できる).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Performer {
    /// 看護師
    Nurse,
    /// 研修を受けた職員（喀痰吸引等研修 第3号）
    TrainedStaff,
    /// 保護者の付き添いが必要
    ParentPresent,
}

impl Performer {
    pub const ALL: [Performer; 3] = [Performer::Nurse, Performer::TrainedStaff, Performer::ParentPresent];

    pub fn code(self) -> &'static str {
        match self {
            Performer::Nurse => "nurse",
            Performer::TrainedStaff => "trained_staff",
            Performer::ParentPresent => "parent_present",
        }
    }
    pub fn parse(s: &str) -> Option<Performer> {
        Performer::ALL.into_iter().find(|p| p.code() == s)
    }
    /// (ja, en, やさしい日本語)
    pub fn labels(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Performer::Nurse => ("看護師", "Nurse", "かんごし"),
            Performer::TrainedStaff => (
                "研修を受けた職員（喀痰吸引等研修 第3号）",
                "Trained staff (suction training, type 3)",
                "けんしゅうを うけた しょくいん",
            ),
            Performer::ParentPresent => {
                ("保護者の付き添いが必要", "A parent must be present", "おやが いっしょに いる ひつようが ある")
            }
        }
    }
}

/// A provider's answer for one care type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", deny_unknown_fields)]
pub enum CareAnswer {
    /// できる, and who does it.
    Can {
        #[serde(default)]
        by: Vec<Performer>,
    },
    /// 条件つきでできる（要相談）.
    Conditional { note: String },
    /// できない
    Cannot,
    /// わからない (the same as saying nothing).
    Unknown,
}

impl CareAnswer {
    pub fn code(&self) -> &'static str {
        match self {
            CareAnswer::Can { .. } => "can",
            CareAnswer::Conditional { .. } => "conditional",
            CareAnswer::Cannot => "cannot",
            CareAnswer::Unknown => "unknown",
        }
    }
}

/// Who made a statement about a record's care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reporter {
    Provider,
    Centre,
    OpenData,
}

/// The provenance of one care type's state on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareStatement {
    pub by: Reporter,
    pub reported_on: NaiveDate,
    /// Who at the centre checked it (a key's name), and when; none: not yet verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_on: Option<NaiveDate>,
    /// For できる: who does it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performers: Vec<Performer>,
    /// For 条件つき: the condition, as the provider wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The survey campaign it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

impl CareStatement {
    /// Reported by the provider and not (yet) verified by the centre.
    pub fn unverified(&self) -> bool {
        self.by == Reporter::Provider && self.verified_on.is_none()
    }
}

/// Most characters of a free-text answer.
pub const MAX_ANSWER_CHARS: usize = 1_000;

/// One provider's answers to a survey (what the form collects). Every member is optional: a
/// draft may be partial, and what is absent is not changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswers {
    #[serde(default)]
    pub care: BTreeMap<CareType, CareAnswer>,
    /// When a nurse is on site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nurse_schedule: Option<WeeklyHours>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vacancies: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vacancies_as_of: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ages: Option<AgeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportFeatures>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<WeeklyHours>,
    /// A public phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The person to contact (private: editors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_person: Option<String>,
    /// Their phone (private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// A free comment to the centre (private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl SurveyAnswers {
    /// Problems, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (c, a) in &self.care {
            if let CareAnswer::Conditional { note } = a {
                if note.trim().is_empty() {
                    errs.push(FieldError::new(
                        format!("care/{}", c.code()),
                        "条件つき needs the condition (要相談の内容)",
                    ));
                }
                if note.chars().count() > MAX_ANSWER_CHARS {
                    errs.push(FieldError::new(
                        format!("care/{}", c.code()),
                        format!("at most {MAX_ANSWER_CHARS} characters"),
                    ));
                }
            }
        }
        if let Some(a) = self.ages
            && (a.min_years > a.max_years || a.max_years > 40)
        {
            errs.push(FieldError::new("ages", "from ≤ to, at most 40"));
        }
        for (field, v) in [("contact_person", &self.contact_person), ("comment", &self.comment)] {
            if v.as_deref().is_some_and(|t| t.chars().count() > MAX_ANSWER_CHARS) {
                errs.push(FieldError::new(field, format!("at most {MAX_ANSWER_CHARS} characters")));
            }
            if v.as_deref().is_some_and(|t| t.chars().any(|c| c.is_control() && c != '\n')) {
                errs.push(FieldError::new(field, "contains control characters"));
            }
        }
        for (field, v) in [("phone", &self.phone), ("contact_phone", &self.contact_phone)] {
            if let Some(p) = v
                && !crate::resource::is_phone_number(p)
            {
                errs.push(FieldError::new(field, format!("`{p}` is not a phone number (digits and hyphens)")));
            }
        }
        if self.vacancies.is_some() && self.vacancies_as_of.is_none() {
            errs.push(FieldError::new("vacancies_as_of", "give the date the vacancies are as of"));
        }
        errs
    }
}

/// One field of a record a survey answer would change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `care/<code>`, `nurse_schedule`, `vacancies`, `ages`, `transport`, `opening_hours`,
    /// `phone`, `contact` (private) or `comment` (private).
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// Who a statement from a survey comes from, and whether the centre verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementMeta {
    pub reported_on: NaiveDate,
    /// `Some((key name, date))` when the centre accepted it after review.
    pub verified: Option<(String, NaiveDate)>,
    pub campaign: String,
}

/// The state a record gives one care type, as JSON for diffs: `{"state": …, "by": …, "note": …}`.
fn care_value(r: &crate::Resource, c: CareType) -> serde_json::Value {
    let st = r.care_statements.get(&c);
    let (state, by, note) = if r.care_types.contains(c) {
        ("can", st.map(|s| s.performers.iter().map(|p| p.code()).collect::<Vec<_>>()).unwrap_or_default(), None)
    } else if r.care_types_conditional.contains(c) {
        ("conditional", Vec::new(), st.and_then(|s| s.note.clone()))
    } else if r.care_types_declined.contains(c) {
        ("cannot", Vec::new(), None)
    } else {
        ("unknown", Vec::new(), None)
    };
    let mut v = serde_json::json!({ "state": state });
    if !by.is_empty() {
        v["by"] = serde_json::json!(by);
    }
    if let Some(n) = note {
        v["note"] = serde_json::json!(n);
    }
    v
}

fn answer_value(a: &CareAnswer) -> serde_json::Value {
    match a {
        CareAnswer::Can { by } if by.is_empty() => serde_json::json!({"state": "can"}),
        CareAnswer::Can { by } => {
            serde_json::json!({"state": "can", "by": by.iter().map(|p| p.code()).collect::<Vec<_>>()})
        }
        CareAnswer::Conditional { note } => serde_json::json!({"state": "conditional", "note": note}),
        CareAnswer::Cannot => serde_json::json!({"state": "cannot"}),
        CareAnswer::Unknown => serde_json::json!({"state": "unknown"}),
    }
}

/// The fields of `r` that `a` would change, with their values before and after.
pub fn diff(r: &crate::Resource, a: &SurveyAnswers) -> Vec<FieldChange> {
    fields(r, a).into_iter().filter(|c| c.before != c.after).collect()
}

/// Every field `a` answers, with `r`'s value and the answer's (equal ones included).
pub fn fields(r: &crate::Resource, a: &SurveyAnswers) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: String, before: serde_json::Value, after: serde_json::Value| {
        out.push(FieldChange { field, before, after });
    };
    for (c, ans) in &a.care {
        push(format!("care/{}", c.code()), care_value(r, *c), answer_value(ans));
    }
    let j = |v: &dyn erased::Ser| v.value();
    if let Some(n) = &a.nurse_schedule {
        push("nurse_schedule".into(), j(&r.nurse_schedule), j(n));
    }
    if let Some(v) = a.vacancies {
        push(
            "vacancies".into(),
            serde_json::json!(r.capacity.and_then(|c| c.vacancies)),
            serde_json::json!({"vacancies": v, "as_of": a.vacancies_as_of}),
        );
    }
    if let Some(ages) = a.ages {
        push("ages".into(), j(&r.ages), j(&Some(ages)));
    }
    if let Some(t) = a.transport {
        push("transport".into(), j(&r.transport), j(&Some(t)));
    }
    if let Some(o) = &a.opening_hours {
        push("opening_hours".into(), j(&r.opening_hours), j(o));
    }
    if let Some(p) = &a.phone {
        push("phone".into(), j(&r.contact.phone), j(&Some(crate::resource::normalize_phone_number(p))));
    }
    if a.contact_person.is_some() || a.contact_phone.is_some() {
        let private = r.private.clone().unwrap_or_default();
        push(
            "contact".into(),
            serde_json::json!({"staff_name": private.staff_name, "staff_phone": private.staff_phone}),
            serde_json::json!({"staff_name": a.contact_person, "staff_phone": a.contact_phone.as_deref().map(crate::resource::normalize_phone_number)}),
        );
    }
    if let Some(c) = &a.comment {
        push("comment".into(), serde_json::Value::Null, serde_json::json!(c));
    }
    out
}

mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

/// The record with the answers applied, for the fields in `only` (all of them when `None`):
/// each care type moves to its new state with a statement saying who reported it and, if the
/// centre accepted it after review, who verified it. わからない removes what was said about it.
pub fn apply(r: &crate::Resource, a: &SurveyAnswers, only: Option<&[String]>, meta: &StatementMeta) -> crate::Resource {
    let wanted = |f: &str| only.is_none_or(|o| o.iter().any(|x| x == f));
    let mut r = r.clone().without_timestamps();
    for (c, ans) in &a.care {
        if !wanted(&format!("care/{}", c.code())) {
            continue;
        }
        r.care_types.remove(*c);
        r.care_types_conditional.remove(*c);
        r.care_types_declined.remove(*c);
        r.care_statements.remove(c);
        let mut statement = CareStatement {
            by: Reporter::Provider,
            reported_on: meta.reported_on,
            verified_by: meta.verified.as_ref().map(|v| v.0.clone()),
            verified_on: meta.verified.as_ref().map(|v| v.1),
            performers: Vec::new(),
            note: None,
            campaign: Some(meta.campaign.clone()),
        };
        match ans {
            CareAnswer::Can { by } => {
                r.care_types.insert(*c);
                statement.performers = by.clone();
            }
            CareAnswer::Conditional { note } => {
                r.care_types_conditional.insert(*c);
                statement.note = Some(note.trim().to_string());
            }
            CareAnswer::Cannot => r.care_types_declined.insert(*c),
            CareAnswer::Unknown => continue,
        }
        r.care_statements.insert(*c, statement);
    }
    if wanted("nurse_schedule")
        && let Some(n) = &a.nurse_schedule
    {
        r.nurse_schedule = n.clone();
    }
    if wanted("vacancies")
        && let Some(v) = a.vacancies
    {
        let mut cap = r.capacity.unwrap_or(crate::Capacity { total: None, vacancies: None });
        cap.vacancies = Some(v);
        if cap.total.is_some_and(|t| t < v) {
            cap.total = Some(v);
        }
        r.capacity = Some(cap);
        r.availability_updated_at = a
            .vacancies_as_of
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc));
    }
    if wanted("ages")
        && let Some(ages) = a.ages
    {
        r.ages = Some(ages);
    }
    if wanted("transport")
        && let Some(t) = a.transport
    {
        r.transport = Some(t);
    }
    if wanted("opening_hours")
        && let Some(o) = &a.opening_hours
    {
        r.opening_hours = o.clone();
    }
    if wanted("phone")
        && let Some(p) = &a.phone
    {
        r.contact.phone = Some(p.clone());
    }
    if wanted("contact") && (a.contact_person.is_some() || a.contact_phone.is_some()) {
        let mut private = r.private.clone().unwrap_or_default();
        private.staff_name = a.contact_person.clone().or(private.staff_name);
        private.staff_phone = a.contact_phone.clone().or(private.staff_phone);
        r.private = Some(private);
    }
    if wanted("comment")
        && let Some(c) = a.comment.as_deref().map(str::trim).filter(|c| !c.is_empty())
    {
        let mut private = r.private.clone().unwrap_or_default();
        let line = format!("【{} 回答 {}】{c}", meta.campaign, meta.reported_on);
        private.notes = Some(match private.notes {
            Some(n) if !n.contains(&line) => format!("{n}\n{line}"),
            Some(n) => n,
            None => line,
        });
        r.private = Some(private);
    }
    r
}
