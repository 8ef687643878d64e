//! Weekly hours: when a nurse is on site (看護師の配置) and when a place is open.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::error::FieldError;
use crate::vocab::Weekday;

/// A time range within one day, `HH:MM-HH:MM`, start before end, end at most 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeRange {
    start_min: u16,
    end_min: u16,
}

impl TimeRange {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let bad =
            || FieldError::new("hours", format!("`{s}` is not a time range: expected HH:MM-HH:MM, e.g. 09:00-17:00"));
        let norm: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '：' => ':',
                '〜' | '～' | '~' | '－' | '−' | '–' => '-',
                c => c,
            })
            .collect();
        let (a, b) = norm.split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
        };
        let (start_min, end_min) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        if start_min >= end_min {
            return Err(FieldError::new("hours", format!("`{s}`: the start must be before the end")));
        }
        Ok(TimeRange { start_min, end_min })
    }
    pub fn minutes(self) -> u16 {
        self.end_min - self.start_min
    }
}

impl TryFrom<String> for TimeRange {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TimeRange::parse(&s)
    }
}
impl From<TimeRange> for String {
    fn from(t: TimeRange) -> String {
        t.to_string()
    }
}
impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// Hours per weekday. A day that is absent has no hours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklyHours(pub BTreeMap<Weekday, Vec<TimeRange>>);

impl WeeklyHours {
    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }
    pub fn has_day(&self, d: Weekday) -> bool {
        self.0.get(&d).is_some_and(|v| !v.is_empty())
    }
    /// Days with any hours, as a bitmask over [`Weekday::ALL`].
    pub fn day_mask(&self) -> u8 {
        Weekday::ALL.iter().filter(|d| self.has_day(**d)).fold(0u8, |m, d| m | (1 << d.index()))
    }
    pub fn days(&self) -> impl Iterator<Item = Weekday> + '_ {
        Weekday::ALL.iter().copied().filter(|d| self.has_day(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges_parse_common_forms() {
        assert_eq!(TimeRange::parse("09:00-17:00").unwrap().to_string(), "09:00-17:00");
        assert_eq!(TimeRange::parse("９：００〜１７：３０").unwrap().to_string(), "09:00-17:30");
        assert_eq!(TimeRange::parse("0:00-24:00").unwrap().minutes(), 24 * 60);
        for bad in ["17:00-09:00", "9-17", "25:00-26:00", "09:60-10:00", "", "24:30-24:40"] {
            assert!(TimeRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekly_hours_serialise_by_day_code() {
        let w: WeeklyHours = serde_json::from_str(r#"{"mon":["09:00-12:00","13:00-17:00"],"sat":[]}"#).unwrap();
        assert!(w.has_day(Weekday::Mon) && !w.has_day(Weekday::Sat));
        assert_eq!(w.day_mask(), 1);
        assert!(serde_json::from_str::<WeeklyHours>(r#"{"monday":["09:00-12:00"]}"#).is_err());
    }
}
