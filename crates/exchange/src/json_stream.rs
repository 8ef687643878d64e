//! Reading the items of a large JSON document one at a time: a top-level array, or the array in
//! one member of a top-level object (`features` of a GeoJSON FeatureCollection, `contents` of an
//! HSDS page). Only one item is in memory at a time.

use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A reader that counts how far it has read (for progress).
pub struct Counting<'a, R> {
    inner: R,
    pos: &'a AtomicU64,
}

impl<'a, R: Read> Counting<'a, R> {
    pub fn new(inner: R, pos: &'a AtomicU64) -> Self {
        Counting { inner, pos }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the document held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// The array was found (top level, or in one of the members asked for).
    pub found: bool,
    /// Top-level string members (e.g. `type`), for checks by the caller.
    pub top_strings: Vec<(String, String)>,
}

/// Call `each` with every item of the document's array. `each` returns false to stop early.
/// Errors are JSON syntax errors, with line and column.
pub fn for_each_item(
    reader: impl Read,
    members: &[&str],
    each: &mut dyn FnMut(Value) -> bool,
) -> Result<Outline, String> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut outline = Outline { found: false, top_strings: Vec::new() };
    let top = Top { members, each, outline: &mut outline };
    match top.deserialize(&mut de) {
        Ok(()) => {}
        Err(e) if e.to_string().starts_with(STOPPED) => return Ok(outline),
        Err(e) => return Err(e.to_string()),
    }
    de.end().map_err(|e| e.to_string())?;
    Ok(outline)
}

const STOPPED: &str = "stopped by the reader";

struct Top<'a, 'f> {
    members: &'a [&'a str],
    each: &'f mut dyn FnMut(Value) -> bool,
    outline: &'a mut Outline,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON array, or an object with one of the members {:?}", self.members)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.outline.found = true;
        Items { each: self.each }.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if self.members.contains(&key.as_str()) && !self.outline.found {
                self.outline.found = true;
                map.next_value_seed(Items { each: &mut *self.each })?;
            } else {
                match map.next_value::<Value>() {
                    // Small members only matter (type, version); big ones are dropped at once.
                    Ok(Value::String(s)) => self.outline.top_strings.push((key, s)),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

struct Items<'f> {
    each: &'f mut dyn FnMut(Value) -> bool,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            if !(self.each)(v) {
                return Err(serde::de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(doc: &str, members: &[&str]) -> Result<(Vec<Value>, Outline), String> {
        let mut out = Vec::new();
        let pos = AtomicU64::new(0);
        let o = for_each_item(Counting::new(doc.as_bytes(), &pos), members, &mut |v| {
            out.push(v);
            true
        })?;
        assert_eq!(pos.load(Ordering::Relaxed), doc.len() as u64);
        Ok((out, o))
    }

    #[test]
    fn arrays_at_the_top_or_in_a_member_are_read_item_by_item() {
        let (v, o) = items(r#"[{"a":1},{"a":2}]"#, &["features"]).unwrap();
        assert_eq!(v.len(), 2);
        assert!(o.found);
        let (v, o) = items(r#"{"type":"FeatureCollection","bbox":[1,2],"features":[{"a":1}]}"#, &["features"]).unwrap();
        assert_eq!(v, [serde_json::json!({"a":1})]);
        assert_eq!(o.top_strings, [("type".to_string(), "FeatureCollection".to_string())]);
        let (v, o) = items(r#"{"type":"x"}"#, &["features"]).unwrap();
        assert!(v.is_empty() && !o.found);
        assert!(items(r#"{"features":[{"a":1},]}"#, &["features"]).unwrap_err().contains("line 1"));
        assert!(items(r#"[1] x"#, &[]).is_err(), "trailing text is an error");
        assert!(items(r#""text""#, &[]).is_err());
    }
}
