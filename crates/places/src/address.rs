//! Normalisation of Japanese place text so that the many ways people write an address compare
//! equal: 「長野県松本市丸の内３－７」, 「松本市 丸の内3丁目7番」, 「まつもとし」.
//!
//! - Unicode NFKC (full-width digits and letters → ASCII, half-width kana → full-width);
//! - whitespace removed; every dash-like character → `-`;
//! - ヶ/ケ/ヵ/カ/が between kanji → が (越ヶ谷 = 越ケ谷 = 越が谷);
//! - kanji numerals before 丁目/番/番地/号 → digits (三丁目 → 3丁目), and 丁目/番地/番/号 after
//!   a number → `-` separators, so 「3丁目7番1号」 and 「3-7-1」 are the same;
//! - 大字/字 dropped where a town name starts.

use unicode_normalization::UnicodeNormalization;

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々')
}

const DASHES: &[char] = &['-', '‐', '‑', '‒', '–', '—', '―', '−', 'ー', 'ｰ', '－', '─', '━', '﹣'];

/// Value of a kanji numeral run (一〜九千九百九十九), if `s` is one.
pub fn kanji_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32);
    // Positional form (二〇二): every char a digit.
    if s.chars().all(|c| digit(c).is_some()) && s.chars().count() > 1 {
        return s.chars().try_fold(0u32, |acc, c| Some(acc * 10 + digit(c)?));
    }
    let (mut total, mut current) = (0u32, 0u32);
    for c in s.chars() {
        match c {
            '十' | '百' | '千' => {
                let unit = match c {
                    '十' => 10,
                    '百' => 100,
                    _ => 1000,
                };
                total += if current == 0 { 1 } else { current } * unit;
                current = 0;
            }
            c => current = digit(c)?,
        }
    }
    Some(total + current)
}

fn is_kanji_numeral(c: char) -> bool {
    "〇一二三四五六七八九十百千".contains(c)
}

/// Normalise place text (see the module documentation).
pub fn normalize(text: &str) -> String {
    let chars: Vec<char> =
        text.nfkc().filter(|c| !c.is_whitespace()).map(|c| if DASHES.contains(&c) { '-' } else { c }).collect();
    // A dash between kana is a long-vowel mark, not a separator (e.g. センター).
    let chars: Vec<char> = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let kana = |x: Option<&char>| x.is_some_and(|x| matches!(*x, '\u{3041}'..='\u{30FF}'));
            if c == '-'
                && kana(i.checked_sub(1).and_then(|j| chars.get(j)))
                && !chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                'ー'
            } else {
                c
            }
        })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Kanji numerals followed by an address unit become digits.
        if is_kanji_numeral(c) {
            let start = i;
            let mut j = i;
            while j < chars.len() && is_kanji_numeral(chars[j]) {
                j += 1;
            }
            let run: String = chars[start..j].iter().collect();
            let rest: String = chars[j..].iter().take(2).collect();
            if ["丁目", "番地", "番", "号"].iter().any(|u| rest.starts_with(u))
                && let Some(n) = kanji_number(&run)
            {
                out.push_str(&n.to_string());
                i = j;
                continue;
            }
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        if matches!(c, 'ヶ' | 'ケ' | 'ヵ' | 'カ' | 'が') && prev.is_some_and(is_kanji) && next.is_some_and(is_kanji)
        {
            out.push('が');
        } else {
            out.push(c);
        }
        i += 1;
    }
    // Units after a number → separators: 3丁目7番1号 → 3-7-1; trailing separators dropped.
    let mut s = String::with_capacity(out.len());
    let cs: Vec<char> = out.chars().collect();
    let mut k = 0;
    while k < cs.len() {
        // What came before, as written so far (units already turned into `-`).
        let mut tail = s.chars().rev();
        let after_digit = match (tail.next(), tail.next()) {
            (Some(d), _) if d.is_ascii_digit() => true,
            (Some('-'), Some(d)) => d.is_ascii_digit() && cs[k] == 'の',
            _ => false,
        };
        let rest: String = cs[k..].iter().take(2).collect();
        let unit = ["丁目", "番地", "番", "号", "の"].iter().find(|u| rest.starts_with(**u) && after_digit).copied();
        match unit {
            Some(u) => {
                // 「の」 only joins numbers (1613の1), not words.
                if u == "の" && !cs.get(k + 1).is_some_and(char::is_ascii_digit) {
                    s.push('の');
                    k += 1;
                    continue;
                }
                if !s.ends_with('-') {
                    s.push('-');
                }
                k += u.chars().count();
            }
            None => {
                s.push(cs[k]);
                k += 1;
            }
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    s.replace("--", "-")
}

/// A town name as a match key: normalised, 大字/字 dropped. `三橋五丁目` → `三橋5`.
pub fn town_key(name: &str) -> String {
    let n = normalize(name);
    strip_aza(&n).to_string()
}

/// Drop a leading 大字 or 字.
pub fn strip_aza(s: &str) -> &str {
    s.strip_prefix("大字").or_else(|| s.strip_prefix("字")).unwrap_or(s)
}

/// Katakana → hiragana, for matching readings.
pub fn hiragana(s: &str) -> String {
    s.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| if ('\u{30A1}'..='\u{30F6}').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap_or(c) } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_numbers() {
        for (s, n) in [
            ("一", 1),
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("二十三", 23),
            ("百五", 105),
            ("千二百三十四", 1234),
            ("二〇二", 202),
        ] {
            assert_eq!(kanji_number(s), Some(n), "{s}");
        }
        assert_eq!(kanji_number("三橋"), None);
    }

    #[test]
    fn written_forms_of_one_address_normalise_equal() {
        let forms = [
            "松本市丸の内3丁目7番",
            "松本市 丸の内３－７",
            "松本市丸の内三丁目七番",
            "松本市丸の内3-7",
            "松本市丸の内3‐7",
        ];
        let want = normalize(forms[0]);
        assert_eq!(want, "松本市丸の内3-7");
        for f in forms {
            assert_eq!(normalize(f), want, "{f}");
        }
        assert_eq!(normalize("越ヶ谷四丁目2番1号"), normalize("越ケ谷4-2-1"));
        assert_eq!(normalize("須坂市大字須坂1528番地の1"), "須坂市大字須坂1528-1");
        assert_eq!(normalize("センター"), "センター");
        assert_eq!(town_key("三橋五丁目"), "三橋5");
        assert_eq!(town_key("大字長倉"), "長倉");
        assert_eq!(hiragana("マツモトシ"), "まつもとし");
    }
}
