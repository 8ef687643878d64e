//! Strict parsing of query strings: percent-decoding that rejects malformed escapes and invalid
//! UTF-8, unknown parameters named with a suggestion, and typed values with reasons.

use percent_encoding::percent_decode;
use std::collections::BTreeMap;
use std::str::FromStr;

use tsunagu_model::LatLon;
use tsunagu_model::error::suggest;

use crate::problem::{InvalidParam, Problem};

/// Decoded query parameters: name → values in order (a name may repeat).
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, Vec<String>>,
    pub errors: Vec<InvalidParam>,
}

/// Longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 4_096;

fn decode(part: &str) -> Result<String, ()> {
    let bytes = part.as_bytes();
    // Reject `%` not followed by two hex digits (percent_decode would pass it through).
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let plus = part.replace('+', " ");
    percent_decode(plus.as_bytes()).decode_utf8().map(|s| s.into_owned()).map_err(|_| ())
}

impl Params {
    /// Parse a raw query string, accepting only `allowed` names.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Params, Problem> {
        let mut p = Params::default();
        let Some(raw) = raw else { return Ok(p) };
        if raw.len() > MAX_QUERY_BYTES {
            return Err(Problem::invalid(vec![InvalidParam::param(
                "query",
                format!("the query string is longer than {MAX_QUERY_BYTES} bytes"),
            )]));
        }
        for pair in raw.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Ok(k), Ok(v)) = (decode(k), decode(v)) else {
                return Err(Problem::invalid(vec![InvalidParam::param(
                    "query",
                    format!("`{}` is not valid percent-encoded UTF-8", tsunagu_model::codes::truncate(pair, 60)),
                )]));
            };
            if !allowed.contains(&k.as_str()) {
                let mut reason = format!("unknown parameter `{}`", tsunagu_model::codes::truncate(&k, 40));
                if let Some(s) = suggest(&k, allowed) {
                    reason.push_str(&format!("; did you mean `{s}`?"));
                }
                p.errors.push(InvalidParam::param(k.clone(), reason).with_allowed(allowed.iter().copied()));
                continue;
            }
            p.values.entry(k).or_default().push(v);
        }
        Ok(p)
    }

    /// Parameters already decoded (a page's form fields), keeping only `allowed` names.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>, allowed: &[&str]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            if allowed.contains(&k.as_str()) {
                p.values.entry(k.clone()).or_default().push(v.clone());
            }
        }
        p
    }

    /// The single value of a parameter (an error is recorded when it is given twice).
    pub fn one(&mut self, name: &str) -> Option<String> {
        let vs = self.values.get(name)?;
        if vs.len() > 1 {
            self.errors.push(InvalidParam::param(name, "given more than once"));
        }
        vs.first().cloned()
    }

    /// Every comma-separated item of every occurrence, trimmed, empties dropped.
    pub fn list(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .flat_map(|n| self.values.get(*n).into_iter().flatten().map(move |v| (n.to_string(), v.clone())))
            .flat_map(|(n, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .map(|s| (n.clone(), s))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// A typed single value; a parse failure is recorded with `reason`.
    pub fn parsed<T: FromStr>(&mut self, name: &str, reason: &str) -> Option<T> {
        let v = self.one(name)?;
        match v.trim().parse::<T>() {
            Ok(t) => Some(t),
            Err(_) => {
                self.errors
                    .push(InvalidParam::param(name, format!("`{}` {reason}", tsunagu_model::codes::truncate(&v, 40))));
                None
            }
        }
    }

    /// Whether the parameter was given at all (whatever its value).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// `lat` and `lon` read together as one point: `None` when neither is given. A value that is
    /// not a number, a coordinate out of range, or one given without the other is recorded,
    /// naming the field, and gives `None`.
    pub fn point(&mut self) -> Option<LatLon> {
        let lat: Option<f64> = self.parsed("lat", "is not a number");
        let lon: Option<f64> = self.parsed("lon", "is not a number");
        match (lat, lon) {
            (Some(a), Some(o)) => match LatLon::new(a, o) {
                Ok(point) => Some(point),
                Err(e) => {
                    self.error(InvalidParam::param(e.field, e.reason));
                    None
                }
            },
            (Some(_), None) if !self.has("lon") => {
                self.error(InvalidParam::param("lon", "is required with lat"));
                None
            }
            (None, Some(_)) if !self.has("lat") => {
                self.error(InvalidParam::param("lat", "is required with lon"));
                None
            }
            _ => None,
        }
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        let v = self.one(name)?;
        match v.trim() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            other => {
                self.errors.push(
                    InvalidParam::param(
                        name,
                        format!("`{}` is not a boolean", tsunagu_model::codes::truncate(other, 20)),
                    )
                    .with_allowed(["true", "false"]),
                );
                None
            }
        }
    }

    pub fn error(&mut self, e: InvalidParam) {
        self.errors.push(e);
    }

    /// All recorded errors as one problem, or nothing.
    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() { Ok(()) } else { Err(Problem::invalid(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_utf8() {
        let mut p = Params::parse(Some("q=%E5%90%B8%E5%BC%95+%E6%9D%BE%E6%9C%AC&limit=5"), &["q", "limit"]).unwrap();
        assert_eq!(p.one("q").as_deref(), Some("吸引 松本"));
        assert_eq!(p.parsed::<u32>("limit", "is not a number"), Some(5));
        p.finish().unwrap();
    }

    #[test]
    fn malformed_escapes_and_invalid_utf8_are_rejected() {
        for raw in ["q=%E5%90", "q=%zz", "q=abc%", "q=%FF"] {
            let e = Params::parse(Some(raw), &["q"]).unwrap_err();
            assert_eq!(e.status, 400, "{raw}");
        }
    }

    #[test]
    fn unknown_parameters_are_named_with_a_suggestion() {
        let p = Params::parse(Some("care_type=ventilator"), &["care_types", "kinds"]).unwrap();
        let e = p.finish().unwrap_err();
        assert!(e.invalid[0].reason.contains("did you mean `care_types`"), "{:?}", e.invalid);
    }

    fn point_of(q: &str) -> (Option<LatLon>, Vec<(String, String)>) {
        let mut p = Params::parse(Some(q), &["lat", "lon"]).unwrap();
        let point = p.point();
        let errors = p.errors.iter().map(|e| (e.name.clone().unwrap_or_default(), e.reason.clone())).collect();
        (point, errors)
    }

    #[test]
    fn a_point_is_read_from_lat_and_lon_together() {
        let (point, errors) = point_of("lat=36.2380&lon=137.9720");
        assert!(errors.is_empty(), "{errors:?}");
        let point = point.unwrap();
        assert!((point.lat() - 36.238).abs() < 1e-9 && (point.lon() - 137.972).abs() < 1e-9);
        assert_eq!(point_of(""), (None, vec![]), "neither given: no point and no error");
        // One without the other names the missing one; a bad value names itself, once.
        assert_eq!(point_of("lat=36.2").1, vec![("lon".to_string(), "is required with lat".to_string())]);
        assert_eq!(point_of("lon=137.9").1, vec![("lat".to_string(), "is required with lon".to_string())]);
        let (point, errors) = point_of("lat=36.2&lon=east");
        assert!(point.is_none());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "lon");
        assert!(errors[0].1.contains("is not a number"));
        // Out of range: the field that is out is named.
        let (point, errors) = point_of("lat=95&lon=137.9");
        assert!(point.is_none());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "lat");
    }
}
