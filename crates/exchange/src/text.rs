//! Text encodings: UTF-8 (with or without a BOM) or Shift_JIS/CP932, told apart and decoded as
//! a stream.

use encoding_rs::SHIFT_JIS;

/// Which encoding a file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932; encoding_rs's Shift_JIS is the WHATWG one, which is CP932).
    ShiftJis,
}

/// Encode text as Shift_JIS/CP932 (for exports meant for Excel).
pub fn encode_shift_jis(text: &str) -> Vec<u8> {
    SHIFT_JIS.encode(text).0.into_owned()
}

/// Tell a stream's encoding without holding it: UTF-8 if every byte is (a BOM allowed), else
/// Shift_JIS/CP932 (checked as it is decoded). Reads the stream to its end in chunks.
pub fn sniff(mut r: impl std::io::Read) -> std::io::Result<Encoding> {
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0; // bytes of an unfinished UTF-8 sequence kept at the front of `buf`
    loop {
        let n = r.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(if carry == 0 { Encoding::Utf8 } else { Encoding::ShiftJis });
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                // A sequence cut at the chunk's end: keep it for the next read.
                let start = e.valid_up_to();
                buf.copy_within(start..filled, 0);
                carry = filled - start;
            }
            Err(_) => return Ok(Encoding::ShiftJis),
        }
    }
}

/// A reader that decodes Shift_JIS/CP932 to UTF-8 as it goes; an undecodable byte is an
/// `InvalidData` error naming its offset.
pub struct ShiftJisReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    out_pos: usize,
    consumed: u64,
    done: bool,
}

impl<R: std::io::Read> ShiftJisReader<R> {
    pub fn new(inner: R) -> Self {
        ShiftJisReader {
            inner,
            decoder: SHIFT_JIS.new_decoder_without_bom_handling(),
            input: vec![0; 1 << 16],
            output: Vec::new(),
            out_pos: 0,
            consumed: 0,
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for ShiftJisReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.output.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let src = &self.input[..n];
            let max = self.decoder.max_utf8_buffer_length_without_replacement(n).unwrap_or(n * 3 + 16);
            self.output.resize(max, 0);
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(src, &mut self.output, last);
            if let encoding_rs::DecoderResult::Malformed(_, _) = result {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the file is neither UTF-8 nor Shift_JIS/CP932 (first undecodable byte near offset {})",
                        self.consumed + read as u64
                    ),
                ));
            }
            self.consumed += read as u64;
            self.output.truncate(written);
            self.out_pos = 0;
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_cp932_are_recognised() {
        use std::io::Read;
        assert_eq!(sniff("名称".as_bytes()).unwrap(), Encoding::Utf8);
        assert_eq!(sniff(&b"\xEF\xBB\xBFabc"[..]).unwrap(), Encoding::Utf8);
        let sjis = encode_shift_jis("松本市 たん吸引 ①");
        assert_eq!(sniff(&sjis[..]).unwrap(), Encoding::ShiftJis);
        let mut text = String::new();
        ShiftJisReader::new(&sjis[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, "松本市 たん吸引 ①");
        assert!(ShiftJisReader::new(&[0x82, 0xFF, 0xFF, 0x00][..]).read_to_string(&mut String::new()).is_err());
    }

    #[test]
    fn streams_are_sniffed_and_decoded_across_chunk_edges() {
        use std::io::Read;
        // Long enough that multi-byte characters straddle the 64 KiB chunks.
        let text = "名称,住所\n".to_string() + &"ひまわり保育園,長野県松本市丸の内3-7 ①\n".repeat(5_000);
        assert_eq!(sniff(text.as_bytes()).unwrap(), Encoding::Utf8);
        let sjis = encode_shift_jis(&text);
        assert_eq!(sniff(&sjis[..]).unwrap(), Encoding::ShiftJis);
        let mut back = String::new();
        ShiftJisReader::new(&sjis[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
        let mut broken = sjis.clone();
        broken.extend_from_slice(&[0x82, 0xFF]);
        let err = ShiftJisReader::new(&broken[..]).read_to_string(&mut String::new()).unwrap_err();
        assert!(err.to_string().contains("neither UTF-8 nor Shift_JIS"), "{err}");
    }
}
