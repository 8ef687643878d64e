//! One place, several services: records of one site are linked, never merged.
//!
//! A 医療型障害児入所施設 with its short stay and its 療養介護 is one address, one phone and one 法人,
//! but three records (one per service, as WAM NET lists them). Two records are at one site when
//! - they have the same 法人番号 and the same normalised address, or
//! - they have the same phone number and lie within 50 m of each other.
//!
//! Linking is transitive (a site is a connected group). A phone shared across town (a 法人's
//! central number) links nothing: the distance rule keeps neighbours that merely share a
//! switchboard apart. Sample records are never linked. The links are stored beside the records
//! ([`Store::set_site_links`]); [`relink`] recomputes them from what the store holds.

use std::collections::{BTreeMap, HashMap};

use tsunagu_model::{Resource, ResourceId, SiteBasis, SiteLink};
use tsunagu_store::Store;
use unicode_normalization::UnicodeNormalization;

/// Most metres between two records with one phone number that are still one site.
pub const SAME_PLACE_METRES: f64 = 50.0;

/// An address without its leading prefecture name (any of the 47: 3 or 4 characters ending in
/// 都, 道, 府 or 県 — 東京都, 北海道, 京都府, 神奈川県), so that records with and without it compare equal.
fn without_prefecture(a: &str) -> &str {
    for n in [3, 4] {
        if let Some((i, c)) = a.char_indices().nth(n - 1)
            && matches!(c, '都' | '道' | '府' | '県')
        {
            return &a[i + c.len_utf8()..];
        }
    }
    a
}

/// An address as compared for linking: NFKC, no spaces, every dash and 丁目/番地/番/号 as one `-`,
/// without the prefecture.
pub fn normalised_address(a: &str) -> String {
    let a: String = a.nfkc().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::with_capacity(a.len());
    let mut rest = a.as_str();
    rest = without_prefecture(rest);
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        let dash = matches!(c, '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | 'ｰ');
        let unit = ['丁', '番', '号'].contains(&c);
        if dash || unit {
            if c == '丁' && chars.peek() == Some(&'目') {
                chars.next();
            }
            if c == '番' && chars.peek() == Some(&'地') {
                chars.next();
            }
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out.trim_end_matches('-').to_string()
}

fn phone_key(p: &str) -> String {
    p.chars().filter(char::is_ascii_digit).collect()
}

struct Groups {
    parent: Vec<usize>,
    basis: Vec<Option<SiteBasis>>,
}

impl Groups {
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }
    /// Put `a` and `b` in one group. A group's reason is the stronger of its links': one 法人 at
    /// one address over one phone nearby.
    fn join(&mut self, a: usize, b: usize, why: SiteBasis) {
        let (ra, rb) = (self.find(a), self.find(b));
        let strongest = [self.basis[ra], self.basis[rb], Some(why)]
            .into_iter()
            .flatten()
            .min_by_key(|b| if *b == SiteBasis::CorporateNumberAndAddress { 0 } else { 1 });
        self.parent[rb] = ra;
        self.basis[ra] = strongest;
    }
}

/// The site links of `records` (live, real ones): every record that shares a site with another,
/// with the site's id (from its smallest member id, so it is stable while that member stays) and
/// why they are linked.
pub fn link(records: &[Resource]) -> Vec<(ResourceId, SiteLink)> {
    let real: Vec<&Resource> = records.iter().filter(|r| !r.sample).collect();
    let mut g = Groups { parent: (0..real.len()).collect(), basis: vec![None; real.len()] };
    let mut by_operator: HashMap<(String, String), usize> = HashMap::new();
    let mut by_phone: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in real.iter().enumerate() {
        if let (Some(n), Some(a)) = (r.operator.as_ref().and_then(|o| o.corporate_number.clone()), &r.address) {
            match by_operator.entry((n, normalised_address(a))) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    g.join(*e.get(), i, SiteBasis::CorporateNumberAndAddress)
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
        if let Some(p) = r.contact.phone.as_deref().map(phone_key).filter(|p| p.len() >= 9)
            && r.location.is_some()
        {
            by_phone.entry(p).or_default().push(i);
        }
    }
    for members in by_phone.values() {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let (pa, pb) = (real[a].location.expect("kept with a point"), real[b].location.expect("kept"));
                if pa.distance_km(pb) * 1_000.0 <= SAME_PLACE_METRES {
                    g.join(a, b, SiteBasis::PhoneNearby);
                }
            }
        }
    }
    let mut sites: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..real.len() {
        let root = g.find(i);
        sites.entry(root).or_default().push(i);
    }
    let mut out = Vec::new();
    for (root, members) in sites.into_iter().filter(|(_, m)| m.len() > 1) {
        let first = members.iter().map(|&i| real[i].id).min().expect("a site has members");
        let link = SiteLink { id: format!("site-{first}"), basis: g.basis[root].expect("a joined group has a reason") };
        out.extend(members.iter().map(|&i| (real[i].id, link.clone())));
    }
    out.sort_by_key(|(id, _)| *id);
    out
}

/// What [`relink`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relinked {
    /// Records linked to a site now.
    pub linked: usize,
    /// Sites.
    pub sites: usize,
    /// Records whose link was set, changed or removed.
    pub changed: usize,
}

/// Recompute every site link from the live records in the store and store the differences.
pub async fn relink(store: &dyn Store) -> tsunagu_store::Result<Relinked> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    let wanted: BTreeMap<ResourceId, SiteLink> = link(&all).into_iter().collect();
    let stored: BTreeMap<ResourceId, SiteLink> = store.site_links().await?.into_iter().collect();
    let mut changes: Vec<(ResourceId, Option<SiteLink>)> = Vec::new();
    for (id, l) in &wanted {
        if stored.get(id) != Some(l) {
            changes.push((*id, Some(l.clone())));
        }
    }
    for id in stored.keys().filter(|id| !wanted.contains_key(id)) {
        changes.push((*id, None));
    }
    if !changes.is_empty() {
        store.set_site_links(&changes).await?;
    }
    let sites = wanted.values().map(|l| l.id.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    Ok(Relinked { linked: wanted.len(), sites, changed: changes.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_without_width_spaces_dashes_or_units() {
        assert_eq!(normalised_address("埼玉県さいたま市西区三橋６−１４５０−１"), "さいたま市西区三橋6-1450-1");
        assert_eq!(normalised_address("さいたま市西区三橋6丁目1450番地1"), "さいたま市西区三橋6-1450-1");
        assert_ne!(normalised_address("三橋6-1450-1"), normalised_address("三橋6-1450-2"));
    }

    #[test]
    fn any_prefecture_name_is_dropped_but_not_a_town_that_starts_like_one() {
        for (with, without) in [
            ("山梨県甲府市丸の内1-6-1", "甲府市丸の内1-6-1"),
            ("東京都府中市宮西町2-24", "府中市宮西町2-24"),
            ("北海道札幌市中央区", "札幌市中央区"),
            ("京都府京都市", "京都市"),
            ("神奈川県横浜市", "横浜市"),
        ] {
            assert_eq!(normalised_address(with), normalised_address(without), "{with}");
        }
        for kept in ["府中市宮西町2-24", "都留市上谷1-1-1", "道志村"] {
            assert_eq!(normalised_address(kept), kept);
        }
    }
}

#[cfg(test)]
mod bundled_tests {
    use super::*;

    fn site_of(links: &[(ResourceId, SiteLink)], id: ResourceId) -> Option<&SiteLink> {
        links.iter().find(|(i, _)| *i == id).map(|(_, l)| l)
    }

    #[test]
    fn real_sites_are_linked_and_neighbours_that_differ_are_not() {
        let all = tsunagu_exchange::bundled::real_records(&tsunagu_places::Places::bundled()).unwrap();
        let links = link(&all);
        // 福祉医療センター太陽の園 (埼玉県): five WAM NET services of one 法人 at one address.
        // (The hospital of the same name, from 医療情報ネット, has neither phone nor 法人番号 there, and
        // lies about 100 m from WAM NET's point: no rule links it.)
        let wam = |r: &&Resource| r.source.id.as_deref().is_some_and(|s| s.starts_with("wam:"));
        let taiyo: Vec<&Resource> = all.iter().filter(|r| r.name == "福祉医療センター太陽の園").filter(wam).collect();
        assert_eq!(taiyo.len(), 5);
        let site = site_of(&links, taiyo[0].id).expect("linked");
        assert_eq!(site.basis, SiteBasis::CorporateNumberAndAddress);
        assert!(taiyo.iter().all(|r| site_of(&links, r.id) == Some(site)));
        let members = links.iter().filter(|(_, l)| l.id == site.id).count();
        assert_eq!(members, 5, "nothing else joins that site");
        // Records within 50 m of each other that share neither a phone nor a 法人番号 stay apart.
        let mut neighbours = 0;
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let (Some(pa), Some(pb)) = (a.location, b.location) else { continue };
                let same_phone = a.contact.phone.is_some() && a.contact.phone == b.contact.phone;
                let number = |r: &Resource| r.operator.as_ref().and_then(|o| o.corporate_number.clone());
                let same_operator = number(a).is_some() && number(a) == number(b);
                if pa.distance_km(pb) <= 0.05 && !same_phone && !same_operator {
                    neighbours += 1;
                    let (sa, sb) = (site_of(&links, a.id), site_of(&links, b.id));
                    assert!(sa.is_none() || sa != sb, "{} and {} linked", a.name, b.name);
                }
            }
        }
        assert!(neighbours > 0, "the bundled data has neighbours that differ");
        // A 法人's central phone shared across town links nothing: 共愛学園 and ときわ寮 are 140 m apart.
        let a = all.iter().find(|r| r.name == "共愛学園（児童部）").unwrap();
        let b = all.iter().find(|r| r.name == "ときわ寮").unwrap();
        assert_eq!(a.contact.phone, b.contact.phone);
        assert!(site_of(&links, a.id).is_none() || site_of(&links, a.id) != site_of(&links, b.id));
        println!(
            "{} records at {} sites",
            links.len(),
            links.iter().map(|(_, l)| &l.id).collect::<std::collections::BTreeSet<_>>().len()
        );
    }
}
