//! Identifiers and codes: resource ids, JIS X 0402 municipality codes, postal codes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::error::FieldError;

/// Stable id of a resource. New records get a UUIDv7 (time-ordered); records that come from a
/// source with its own id (bundled data, imports) get a UUIDv5 of that id, so re-importing the same
/// source gives the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(Uuid);

/// Namespace for ids derived from source ids (a fixed random UUID; never change it).
const SOURCE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_7a3e_52d4_4b0e_9c1a_3f4e_2b8d_7c10);

impl ResourceId {
    pub fn new_random() -> Self {
        ResourceId(Uuid::now_v7())
    }
    /// The id a record with this source-scoped id always gets.
    pub fn from_source_id(source_id: &str) -> Self {
        ResourceId(Uuid::new_v5(&SOURCE_NAMESPACE, source_id.as_bytes()))
    }
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
    /// The id's 128 bits (for compact columns).
    pub fn as_u128(&self) -> u128 {
        self.0.as_u128()
    }
    pub fn from_u128(v: u128) -> Self {
        ResourceId(Uuid::from_u128(v))
    }
}

impl FromStr for ResourceId {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(ResourceId).map_err(|_| {
            FieldError::new(
                "id",
                format!(
                    "`{}` is not a resource id (a UUID such as 0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21)",
                    truncate(s, 60)
                ),
            )
        })
    }
}
impl TryFrom<String> for ResourceId {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<ResourceId> for String {
    fn from(id: ResourceId) -> String {
        id.to_string()
    }
}
impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A municipality code (全国地方公共団体コード, JIS X 0402) in its 5-digit form: 2-digit prefecture
/// (01–47) + 3-digit municipality. A 6-digit form with the check digit is accepted and verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityCode(u32);

impl MunicipalityCode {
    pub fn as_u32(self) -> u32 {
        self.0
    }
    pub fn from_u32(v: u32) -> Option<Self> {
        Self::parse(&format!("{v:05}")).ok()
    }
    pub fn prefecture_code(self) -> u8 {
        (self.0 / 1000) as u8
    }
    /// The JIS check digit (6th digit of 団体コード).
    pub fn check_digit(self) -> u8 {
        let digits = format!("{:05}", self.0);
        let sum: u32 = digits.bytes().zip([6u32, 5, 4, 3, 2]).map(|(d, w)| u32::from(d - b'0') * w).sum();
        // 「各桁に 6,5,4,3,2 を乗じた和を 11 で割った余りを 11 から引いた数の 1 の位」
        ((11 - sum % 11) % 10) as u8
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let bad = |why: &str| FieldError::new("municipality_code", format!("`{}` {why}", truncate(t, 40)));
        if !t.bytes().all(|b| b.is_ascii_digit()) || !(t.len() == 5 || t.len() == 6) {
            return Err(bad("is not a municipality code: expected 5 digits (JIS X 0402, e.g. 20202 for 松本市)"));
        }
        let v: u32 = t[..5].parse().map_err(|_| bad("is not a number"))?;
        let pref = v / 1000;
        if !(1..=47).contains(&pref) {
            return Err(bad("has no valid prefecture code (01–47) in its first two digits"));
        }
        if v % 1000 < 100 {
            return Err(bad("is a prefecture code, not a municipality code"));
        }
        let code = MunicipalityCode(v);
        if t.len() == 6 && u32::from(code.check_digit()) != u32::from(t.as_bytes()[5] - b'0') {
            return Err(bad("has a wrong check digit"));
        }
        Ok(code)
    }
}

impl FromStr for MunicipalityCode {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for MunicipalityCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<MunicipalityCode> for String {
    fn from(c: MunicipalityCode) -> String {
        c.to_string()
    }
}
impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05}", self.0)
    }
}

/// A Japanese postal code (郵便番号), stored as 7 digits; accepts `390-0811`, `3900811`, full-width
/// digits and a leading 〒.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(u32);

impl PostalCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let digits: String = s
            .trim()
            .trim_start_matches('〒')
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                '-' | '－' | 'ー' | '‐' | '−' | ' ' => None,
                _ => Some('x'),
            })
            .collect();
        if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "postal_code",
                format!("`{}` is not a postal code: expected 7 digits such as 390-0811", truncate(s, 40)),
            ));
        }
        Ok(PostalCode(digits.parse().expect("7 ascii digits")))
    }
    pub fn digits(self) -> String {
        format!("{:07}", self.0)
    }
}
impl FromStr for PostalCode {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for PostalCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<PostalCode> for String {
    fn from(c: PostalCode) -> String {
        c.to_string()
    }
}
impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "{}-{}", &d[..3], &d[3..])
    }
}

/// Cut a string for an error message without splitting a character.
pub fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_codes_parse_with_and_without_check_digit() {
        let m = MunicipalityCode::parse("20202").unwrap();
        assert_eq!(m.to_string(), "20202");
        assert_eq!(m.prefecture_code(), 20);
        // 松本市 202029, さいたま市 111007, 小諸市 202088 (check digits from the bundled list)
        assert_eq!(m.check_digit(), 9);
        assert_eq!(MunicipalityCode::parse("111007").unwrap().to_string(), "11100");
        assert_eq!(MunicipalityCode::parse("202088").unwrap().to_string(), "20208");
        assert!(MunicipalityCode::parse("202021").is_err());
        for bad in ["", "2020", "abcde", "99999", "20000", "48100", "2020２"] {
            assert!(MunicipalityCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postal_codes_accept_common_written_forms() {
        for s in ["390-0811", "3900811", "〒390-0811", "３９０－０８１１", " 390 0811 "] {
            assert_eq!(PostalCode::parse(s).unwrap().to_string(), "390-0811", "{s}");
        }
        for s in ["390-081", "39O-0811", "", "1234-56789"] {
            assert!(PostalCode::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn source_ids_give_stable_resource_ids() {
        let a = ResourceId::from_source_id("sample:1");
        assert_eq!(a, ResourceId::from_source_id("sample:1"));
        assert_ne!(a, ResourceId::from_source_id("sample:2"));
        assert_eq!(a.to_string().parse::<ResourceId>().unwrap(), a);
        assert!("not-a-uuid".parse::<ResourceId>().is_err());
    }
}
