//! Text normalisation for matching, shared by the search index, query understanding and the
//! importers (so that a spreadsheet's 「胃瘻」 and a family's 「いろう」 meet the same vocabulary):
//! Unicode NFKC (full-width ASCII → half-width, half-width kana → full-width), lowercase, macrons
//! and circumflexes folded (ō → o, as romaji is typed without them), katakana → hiragana, small
//! kana → full-size, the long-vowel mark dropped after kana, common 旧字/異体字 → 新字, and ヶ/ケ/が
//! between kanji unified (桜ヶ丘 = 桜ケ丘 = 桜が丘).

use unicode_normalization::UnicodeNormalization;

/// 旧字・異体字 → the form used in the index. Kept small and common; extend with care.
const VARIANTS: &[(char, &str)] = &[
    ('瘻', "ろう"),
    ('髙', "高"),
    ('﨑', "崎"),
    ('嵜', "崎"),
    ('邊', "辺"),
    ('邉', "辺"),
    ('澤', "沢"),
    ('濱', "浜"),
    ('齋', "斎"),
    ('齊', "斉"),
    ('廣', "広"),
    ('國', "国"),
    ('櫻', "桜"),
    ('龍', "竜"),
    ('壽', "寿"),
    ('眞', "真"),
    ('會', "会"),
    ('學', "学"),
    ('醫', "医"),
    ('藥', "薬"),
    ('體', "体"),
    ('德', "徳"),
    ('惠', "恵"),
    ('榮', "栄"),
    ('縣', "県"),
    ('區', "区"),
    ('鄕', "郷"),
    ('實', "実"),
    ('從', "従"),
    ('圓', "円"),
    ('淺', "浅"),
    ('螢', "蛍"),
];

pub fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '々' | '〆')
}

pub fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}')
}

fn small_to_full(c: char) -> char {
    match c {
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'つ',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' => 'わ',
        'ゕ' => 'か',
        'ゖ' => 'け',
        c => c,
    }
}

/// Normalise text for matching (see the module documentation).
pub fn normalize(text: &str) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    for c in text.nfkc() {
        if let Some((_, to)) = VARIANTS.iter().find(|(from, _)| *from == c) {
            chars.extend(to.chars());
            continue;
        }
        let c = match c {
            // katakana → hiragana (ァ..ヶ); ヷ..ヺ have no hiragana twin and stay.
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            '\u{30FD}' => 'ゝ',
            '\u{30FE}' => 'ゞ',
            c => c,
        };
        for c in c.to_lowercase() {
            chars.push(fold_macron(c));
        }
    }
    let mut out = String::with_capacity(text.len());
    for i in 0..chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match c {
            // The long-vowel mark after kana carries no distinction people rely on when typing.
            'ー' | '〜' if prev.is_some_and(is_kana) => continue,
            // 桜ヶ丘 / 桜ケ丘 / 桜が丘 / 桜ヵ丘
            'け' | 'ゖ' | 'が' | 'か' | 'ゕ'
                if prev.is_some_and(is_kanji) && next.is_some_and(is_kanji) && c != 'か' =>
            {
                out.push('が')
            }
            c => out.push(small_to_full(c)),
        }
    }
    out
}

/// ō → o, â → a …: Hepburn's long vowels as people type them.
fn fold_macron(c: char) -> char {
    match c {
        'ā' | 'â' => 'a',
        'ī' | 'î' => 'i',
        'ū' | 'û' => 'u',
        'ē' | 'ê' => 'e',
        'ō' | 'ô' => 'o',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_people_type_meet() {
        assert_eq!(normalize("キュウイン"), normalize("きゅういん"));
        assert_eq!(normalize("Ｇ－Ｔｕｂｅ"), "g-tube");
        assert_eq!(normalize("胃瘻"), normalize("胃ろう"));
        assert_eq!(normalize("Ōmachi"), "omachi");
        assert_eq!(normalize("tōmi"), "tomi");
        assert_eq!(normalize("桜ヶ丘"), normalize("桜が丘"));
    }
}
