//! Hiragana → Hepburn romaji, for recognising place names typed in Latin letters
//! ("matsumoto", "saitama", "komoro").

const DIGRAPHS: &[(&str, &str)] = &[
    ("きゃ", "kya"),
    ("きゅ", "kyu"),
    ("きょ", "kyo"),
    ("しゃ", "sha"),
    ("しゅ", "shu"),
    ("しょ", "sho"),
    ("ちゃ", "cha"),
    ("ちゅ", "chu"),
    ("ちょ", "cho"),
    ("にゃ", "nya"),
    ("にゅ", "nyu"),
    ("にょ", "nyo"),
    ("ひゃ", "hya"),
    ("ひゅ", "hyu"),
    ("ひょ", "hyo"),
    ("みゃ", "mya"),
    ("みゅ", "myu"),
    ("みょ", "myo"),
    ("りゃ", "rya"),
    ("りゅ", "ryu"),
    ("りょ", "ryo"),
    ("ぎゃ", "gya"),
    ("ぎゅ", "gyu"),
    ("ぎょ", "gyo"),
    ("じゃ", "ja"),
    ("じゅ", "ju"),
    ("じょ", "jo"),
    ("びゃ", "bya"),
    ("びゅ", "byu"),
    ("びょ", "byo"),
    ("ぴゃ", "pya"),
    ("ぴゅ", "pyu"),
    ("ぴょ", "pyo"),
];

fn mono(c: char) -> Option<&'static str> {
    Some(match c {
        'あ' => "a",
        'い' => "i",
        'う' => "u",
        'え' => "e",
        'お' => "o",
        'か' => "ka",
        'き' => "ki",
        'く' => "ku",
        'け' => "ke",
        'こ' => "ko",
        'さ' => "sa",
        'し' => "shi",
        'す' => "su",
        'せ' => "se",
        'そ' => "so",
        'た' => "ta",
        'ち' => "chi",
        'つ' => "tsu",
        'て' => "te",
        'と' => "to",
        'な' => "na",
        'に' => "ni",
        'ぬ' => "nu",
        'ね' => "ne",
        'の' => "no",
        'は' => "ha",
        'ひ' => "hi",
        'ふ' => "fu",
        'へ' => "he",
        'ほ' => "ho",
        'ま' => "ma",
        'み' => "mi",
        'む' => "mu",
        'め' => "me",
        'も' => "mo",
        'や' => "ya",
        'ゆ' => "yu",
        'よ' => "yo",
        'ら' => "ra",
        'り' => "ri",
        'る' => "ru",
        'れ' => "re",
        'ろ' => "ro",
        'わ' => "wa",
        'を' => "o",
        'ん' => "n",
        'が' => "ga",
        'ぎ' => "gi",
        'ぐ' => "gu",
        'げ' => "ge",
        'ご' => "go",
        'ざ' => "za",
        'じ' => "ji",
        'ず' => "zu",
        'ぜ' => "ze",
        'ぞ' => "zo",
        'だ' => "da",
        'ぢ' => "ji",
        'づ' => "zu",
        'で' => "de",
        'ど' => "do",
        'ば' => "ba",
        'び' => "bi",
        'ぶ' => "bu",
        'べ' => "be",
        'ぼ' => "bo",
        'ぱ' => "pa",
        'ぴ' => "pi",
        'ぷ' => "pu",
        'ぺ' => "pe",
        'ぽ' => "po",
        _ => return None,
    })
}

/// Hepburn romaji of a hiragana string; `None` if it has other characters.
pub fn to_romaji(kana: &str) -> Option<String> {
    let chars: Vec<char> = kana.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut double_next = false;
    while i < chars.len() {
        if chars[i] == 'っ' {
            double_next = true;
            i += 1;
            continue;
        }
        let pair: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (roma, step) = match DIGRAPHS.iter().find(|(k, _)| *k == pair) {
            Some((_, r)) => (r.to_string(), 2),
            None => (mono(chars[i])?.to_string(), 1),
        };
        if double_next {
            let first = if roma.starts_with("ch") { 't' } else { roma.chars().next()? };
            out.push(first);
            double_next = false;
        }
        out.push_str(&roma);
        i += step;
    }
    Some(out)
}

/// The romaji as people type it without macrons: long vowels written once (おお/おう → o, うう → u).
pub fn simplified(romaji: &str) -> String {
    romaji.replace("ou", "o").replace("oo", "o").replace("uu", "u")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_names() {
        assert_eq!(to_romaji("まつもと").as_deref(), Some("matsumoto"));
        assert_eq!(to_romaji("さいたま").as_deref(), Some("saitama"));
        assert_eq!(to_romaji("ちの").as_deref(), Some("chino"));
        assert_eq!(to_romaji("きょうと").as_deref(), Some("kyouto"));
        assert_eq!(to_romaji("はっちょうぼり").as_deref(), Some("hatchoubori"));
        assert_eq!(simplified("oomachi"), "omachi");
        assert_eq!(to_romaji("マツモト"), None);
    }
}
