//! An emergency the centre declares for some municipalities (an outage, a disaster): while it
//! lasts, the family page for those places leads with power, welfare shelters and whom to call,
//! and searches there say that it applies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::MunicipalityCode;
use crate::error::FieldError;

/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyKind {
    /// 停電: a power outage.
    Outage,
    /// 災害: an earthquake, flood, heavy snow…
    Disaster,
}

impl EmergencyKind {
    pub fn ja(self) -> &'static str {
        match self {
            EmergencyKind::Outage => "停電",
            EmergencyKind::Disaster => "災害",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            EmergencyKind::Outage => "Power outage",
            EmergencyKind::Disaster => "Disaster",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emergency {
    pub id: String,
    pub kind: EmergencyKind,
    pub message_ja: String,
    pub message_en: Option<String>,
    /// The 圏域 ids it was declared for (their members are in `municipalities`).
    pub regions: Vec<String>,
    /// Every municipality (and ward) it applies to.
    pub municipalities: Vec<MunicipalityCode>,
    pub starts_at: DateTime<Utc>,
    /// Set when it is ended (or when it was declared with an end).
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Emergency {
    /// Whether it applies at `t`.
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.starts_at <= t && self.ends_at.is_none_or(|e| t < e)
    }

    pub fn covers(&self, code: MunicipalityCode) -> bool {
        self.municipalities.contains(&code)
    }

    /// Problems with its fields (areas are checked against the gazetteer by the caller).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let text = |field: &'static str, v: &str, errs: &mut Vec<FieldError>| {
            if v.trim().is_empty() {
                errs.push(FieldError::new(field, "must not be blank"));
            } else if v.chars().count() > MAX_MESSAGE_CHARS {
                errs.push(FieldError::new(field, format!("is longer than {MAX_MESSAGE_CHARS} characters")));
            }
        };
        text("message_ja", &self.message_ja, &mut errs);
        if let Some(en) = &self.message_en {
            text("message_en", en, &mut errs);
        }
        if self.municipalities.is_empty() {
            errs.push(FieldError::new("municipalities", "name at least one municipality or region"));
        }
        if let Some(end) = self.ends_at
            && end <= self.starts_at
        {
            errs.push(FieldError::new("ends_at", "must be after starts_at"));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Emergency {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        Emergency {
            id: "x".into(),
            kind: EmergencyKind::Outage,
            message_ja: "停電".into(),
            message_en: None,
            regions: vec![],
            municipalities: vec![MunicipalityCode::from_u32(20202).unwrap()],
            starts_at: t,
            ends_at: None,
            created_at: t,
        }
    }

    #[test]
    fn active_from_its_start_until_its_end() {
        let mut x = e();
        let t = x.starts_at;
        assert!(!x.active_at(t - chrono::Duration::seconds(1)));
        assert!(x.active_at(t));
        x.ends_at = Some(t + chrono::Duration::hours(2));
        assert!(x.active_at(t + chrono::Duration::hours(1)));
        assert!(!x.active_at(t + chrono::Duration::hours(2)));
    }

    #[test]
    fn an_end_before_the_start_and_blank_messages_are_refused() {
        let mut x = e();
        x.ends_at = Some(x.starts_at);
        x.message_ja = "  ".into();
        x.municipalities.clear();
        let fields: Vec<_> = x.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["message_ja", "municipalities", "ends_at"]);
    }
}

/// What a power supply point reports about itself (開設状況), with its own time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    /// 開設中: open, people may come.
    Open,
    /// 閉鎖: closed.
    Closed,
    /// 電源あり: open and power is available for medical devices.
    PowerAvailable,
    /// 満員: open but full.
    Full,
}

impl PowerState {
    pub const ALL: [PowerState; 4] =
        [PowerState::PowerAvailable, PowerState::Open, PowerState::Full, PowerState::Closed];

    pub fn code(self) -> &'static str {
        match self {
            PowerState::Open => "open",
            PowerState::Closed => "closed",
            PowerState::PowerAvailable => "power_available",
            PowerState::Full => "full",
        }
    }
    pub fn ja(self) -> &'static str {
        match self {
            PowerState::Open => "開設中",
            PowerState::Closed => "閉鎖",
            PowerState::PowerAvailable => "開設中・電源あり",
            PowerState::Full => "満員",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            PowerState::Open => "Open",
            PowerState::Closed => "Closed",
            PowerState::PowerAvailable => "Open, power available",
            PowerState::Full => "Full",
        }
    }
    pub fn parse(s: &str) -> Option<PowerState> {
        PowerState::ALL.into_iter().find(|p| p.code() == s)
    }
}

/// A power point's last report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerStatus {
    pub state: PowerState,
    pub at: DateTime<Utc>,
}

impl PowerStatus {
    /// Older than `hours` at `now`: no longer to be trusted (shown as stale, never as open).
    pub fn is_stale(&self, now: DateTime<Utc>, hours: u32) -> bool {
        now - self.at > chrono::Duration::hours(i64::from(hours))
    }
}

#[cfg(test)]
mod power_tests {
    use super::*;

    #[test]
    fn a_status_goes_stale_after_its_hours() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let s = PowerStatus { state: PowerState::Open, at };
        assert!(!s.is_stale(at + chrono::Duration::hours(6), 6));
        assert!(s.is_stale(at + chrono::Duration::hours(6) + chrono::Duration::seconds(1), 6));
        assert_eq!(PowerState::parse("power_available"), Some(PowerState::PowerAvailable));
        assert_eq!(PowerState::parse("Open"), None);
    }
}
