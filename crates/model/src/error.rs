//! Validation errors shared by the domain newtypes, and the "did you mean" helper.

/// A value that failed to parse into a domain type: which field, and why, in words a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's name as the caller wrote it (API parameter, JSON member or CSV column).
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError { field: field.into(), reason: reason.into() }
    }
}

/// Levenshtein distance over chars (small inputs only: codes and names).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `given`, if it is close enough to be a plausible typo
/// (or `given` is a prefix of it, as in `suction` → `suction_oral_nasal`).
pub fn suggest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let given = given.to_lowercase();
    if given.is_empty() {
        return None;
    }
    if let Some(c) = candidates.iter().find(|c| c.starts_with(&given) && given.len() >= 3) {
        return Some(c);
    }
    let (best, d) = candidates.iter().map(|c| (*c, edit_distance(&given, c))).min_by_key(|(_, d)| *d)?;
    let budget = (given.chars().count() / 3).clamp(1, 4);
    (d <= budget).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("吸引", "吸入"), 1);
    }

    #[test]
    fn suggest_finds_typos_and_prefixes_but_not_noise() {
        let c = ["daycare", "kindergarten", "transport"];
        assert_eq!(suggest("daycar", &c), Some("daycare"));
        assert_eq!(suggest("trans", &c), Some("transport"));
        assert_eq!(suggest("zzz", &c), None);
    }
}
