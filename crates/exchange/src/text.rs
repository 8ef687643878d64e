//! Text decoding: UTF-8 (with or without a BOM) or Shift_JIS/CP932.

use encoding_rs::SHIFT_JIS;

/// Which encoding a file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932; encoding_rs's Shift_JIS is the WHATWG one, which is CP932).
    ShiftJis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the file is neither UTF-8 nor Shift_JIS/CP932 (first undecodable byte at offset {offset})")]
pub struct DecodeError {
    pub offset: usize,
}

/// Decode a whole file.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), DecodeError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(s) => Ok((s.to_string(), Encoding::Utf8)),
        Err(utf8) => {
            let (text, had_errors) = SHIFT_JIS.decode_without_bom_handling(body);
            if had_errors {
                let offset = text.find('\u{FFFD}').map_or(utf8.valid_up_to(), |_| utf8.valid_up_to());
                Err(DecodeError { offset })
            } else {
                Ok((text.into_owned(), Encoding::ShiftJis))
            }
        }
    }
}

/// Encode text as Shift_JIS/CP932 (for exports meant for Excel).
pub fn encode_shift_jis(text: &str) -> Vec<u8> {
    SHIFT_JIS.encode(text).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_cp932_are_recognised() {
        assert_eq!(decode("名称".as_bytes()).unwrap(), ("名称".to_string(), Encoding::Utf8));
        assert_eq!(decode(b"\xEF\xBB\xBFabc").unwrap().0, "abc");
        let sjis = encode_shift_jis("松本市 たん吸引 ①");
        assert_eq!(decode(&sjis).unwrap(), ("松本市 たん吸引 ①".to_string(), Encoding::ShiftJis));
        assert!(decode(&[0x82, 0xFF, 0xFF, 0x00]).is_err());
    }
}
