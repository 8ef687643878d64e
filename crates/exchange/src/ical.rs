//! iCalendar (RFC 5545) feeds of training sessions, so that a nursery or a school can subscribe
//! to the courses for its staff. Written with the `icalendar` crate, which escapes TEXT values
//! (backslash, comma, semicolon, newline) and folds lines at 75 octets on character boundaries.
//! Times are UTC (`DTSTART:20270120T043000Z`), so no VTIMEZONE is needed; every event has a stable
//! UID (the record and the session's start), so a calendar updates an event rather than adding
//! it twice.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, Property};

/// One event of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub uid: String,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub url: Option<String>,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub categories: Vec<String>,
    /// When the record was last changed (LAST-MODIFIED).
    pub updated: Option<DateTime<Utc>>,
}

/// The media type of a feed.
pub const MEDIA_TYPE: &str = "text/calendar; charset=utf-8";

/// A whole feed: a VCALENDAR named `name`, its events stamped `stamp` (DTSTAMP).
pub fn feed(name: &str, description: &str, events: &[FeedEvent], stamp: DateTime<Utc>) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new("PRODID", "-//tsunagu//training sessions//JA"));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    cal.name(name).description(description);
    // Ask subscribers to look again twice a day (RFC 7986 REFRESH-INTERVAL).
    let mut refresh = Property::new("REFRESH-INTERVAL", "PT12H");
    refresh.add_parameter("VALUE", "DURATION");
    cal.append_property(refresh);
    for e in events {
        let mut ev = Event::new();
        ev.uid(&e.uid).summary(&e.summary).description(&e.description).starts(e.starts).ends(e.ends).timestamp(stamp);
        if let Some(l) = &e.location {
            ev.location(l);
        }
        if let Some(u) = &e.url {
            ev.url(u);
        }
        if let Some(t) = e.updated {
            ev.last_modified(t);
        }
        if !e.categories.is_empty() {
            ev.categories(e.categories.iter().map(String::as_str));
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_are_folded() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let e = FeedEvent {
            uid: "a@tsunagu".into(),
            summary: "研修; 第1日, 講義".into(),
            description: "一行目\n二行目\\終わり".repeat(10),
            location: None,
            url: None,
            starts: at("2027-01-20T13:30:00+09:00"),
            ends: at("2027-01-20T16:00:00+09:00"),
            categories: vec![],
            updated: None,
        };
        let text = feed("研修", "tsunagu", &[e], at("2026-12-01T00:00:00Z"));
        assert!(text.contains("SUMMARY:研修\\; 第1日\\, 講義\r\n"), "{text}");
        assert!(text.contains("DTSTART:20270120T043000Z\r\n"), "{text}");
        assert!(text.lines().all(|l| l.trim_end_matches('\r').len() <= 75), "{text}");
        assert!(text.contains("一行目\\n二行目\\\\終わり"));
        assert_eq!(text.matches("PRODID:").count(), 1, "{text}");
    }
}
