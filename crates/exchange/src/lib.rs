//! Exchange formats: reading and writing resources as files people actually have.
//!
//! - [`csv`]: a column layout modelled on the 自治体標準オープンデータセット (名称, 名称_カナ, 種別, 住所,
//!   緯度, 経度, 電話番号, 医療的ケア対応 …), Japanese or English headers, UTF-8 or Shift_JIS/CP932
//!   (as prefectural spreadsheets are saved); complex members as JSON cells so export → import is
//!   exact.
//! - [`jsonl`]: one resource per line, as the API shows it.
//! - [`hsds`]: Open Referral HSDS 3.0 JSON services.
//! - [`geojson`]: a FeatureCollection of points, for GIS tools.
//!
//! [`read`] streams any of them row by row; [`Exporter`] writes them batch by batch.
//!
//! Reading never stops at the first problem: every row gets a result, every problem names its
//! row, column and reason.

pub mod bundled;
pub mod csv;
pub mod geojson;
pub mod hsds;
pub mod ical;
pub mod json_stream;
pub mod jsonl;
pub mod official;
pub mod text;

use tsunagu_model::Resource;
use tsunagu_places::Places;

/// One problem in one row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line (CSV: the header is line 1) or record number.
    pub row: usize,
    /// Column or member.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "row {}: {}", self.row, self.reason)
        } else {
            write!(f, "row {}: {}: {}", self.row, self.field, self.reason)
        }
    }
}

/// A row's outcome.
pub type RowResult = Result<tsunagu_model::Resource, Vec<RowError>>;

/// Place checks shared by every format (the model checks forms and rules; only the gazetteer
/// knows which municipalities and regions exist).
pub(crate) fn check_places(places: &Places, row: usize, r: tsunagu_model::Resource) -> RowResult {
    let errs = places.check(&r);
    if errs.is_empty() {
        Ok(r)
    } else {
        Err(errs.into_iter().map(|e| RowError { row, field: e.field, reason: e.reason }).collect())
    }
}

/// A file format for import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    /// Open Referral HSDS 3.0 JSON (a page of services).
    Hsds,
    /// GeoJSON FeatureCollection of points.
    Geojson,
    /// WAM NET 障害福祉サービス等情報公表 open data (import only).
    Wam,
    /// 介護サービス情報公表システム open data, `jigyosho_<code>.csv` (import only).
    Kaigo,
    /// 医療情報ネット（ナビイ） facility files (import only).
    Navii,
}

impl Format {
    /// The formats tsunagu writes.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Jsonl, Format::Hsds, Format::Geojson];
    /// The formats tsunagu reads: its own, and the official layouts.
    pub const IMPORT: [Format; 7] =
        [Format::Csv, Format::Jsonl, Format::Hsds, Format::Geojson, Format::Wam, Format::Kaigo, Format::Navii];

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Hsds => "hsds",
            Format::Geojson => "geojson",
            Format::Wam => "wam",
            Format::Kaigo => "kaigo",
            Format::Navii => "navii",
        }
    }

    /// The official layout this format is, if it is one.
    pub fn official(self) -> Option<official::Layout> {
        match self {
            Format::Wam => Some(official::Layout::Wam),
            Format::Kaigo => Some(official::Layout::Kaigo),
            Format::Navii => Some(official::Layout::Navii),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::IMPORT.into_iter().find(|f| f.code() == s.trim().to_ascii_lowercase())
    }

    /// From a file name: `.csv`, `.jsonl`/`.ndjson`, `.geojson`, `.hsds.json` (or any `.json`,
    /// which is taken as HSDS).
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        // The official files keep the names they are downloaded under.
        if name.starts_with("csvdownload") && name.ends_with(".csv") {
            return Some(Format::Wam);
        }
        if name.starts_with("jigyosho_") && name.ends_with(".csv") {
            return Some(Format::Kaigo);
        }
        if (name.contains("hospital_facility_info") || name.contains("clinic_facility_info")) && name.ends_with(".csv")
        {
            return Some(Format::Navii);
        }
        let ext = name.rsplit('.').next()?;
        match ext {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "geojson" => Some(Format::Geojson),
            "json" => Some(Format::Hsds),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv | Format::Wam | Format::Kaigo | Format::Navii => "text/csv; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
            Format::Hsds => "application/json",
            Format::Geojson => "application/geo+json",
        }
    }
}

/// A whole-file problem: nothing could be read (bad header, not JSON, wrong encoding …).
pub type FileError = RowError;

/// What reading a file found out about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadInfo {
    pub encoding: text::Encoding,
    /// For official layouts: skipped rows, values left out, and what the file covers.
    pub findings: official::Findings,
}

/// Read a file in memory row by row; see [`read_stream`]. `each` also gets how many bytes have
/// been read so far.
pub fn read(
    places: &Places,
    format: Format,
    bytes: &[u8],
    each: &mut dyn FnMut(usize, RowResult, u64) -> bool,
) -> Result<ReadInfo, FileError> {
    read_with(places, format, bytes, &official::ReadOptions::default(), each)
}

/// [`read`] with what the caller knows of an official file (its data date, its kind).
pub fn read_with(
    places: &Places,
    format: Format,
    bytes: &[u8],
    opts: &official::ReadOptions,
    each: &mut dyn FnMut(usize, RowResult, u64) -> bool,
) -> Result<ReadInfo, FileError> {
    let encoding = text::sniff(bytes).expect("reading memory cannot fail");
    let pos = std::sync::atomic::AtomicU64::new(0);
    read_stream_with(places, format, json_stream::Counting::new(bytes, &pos), encoding, opts, &mut |row, r| {
        each(row, r, pos.load(std::sync::atomic::Ordering::Relaxed))
    })
}

/// Read UTF-8 lines, skipping blank ones: `each(line number, parse(line number, line))` returns
/// false to stop. For JSON Lines and other one-record-per-line files.
pub fn read_lines(
    mut reader: impl std::io::BufRead,
    parse: &dyn Fn(usize, &str) -> RowResult,
    each: &mut dyn FnMut(usize, RowResult) -> bool,
) -> Result<(), FileError> {
    let whole = |reason: String| RowError { row: 0, field: String::new(), reason };
    let mut line = Vec::new();
    let mut row = 0;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| whole(e.to_string()))?;
        if n == 0 {
            return Ok(());
        }
        row += 1;
        let text = std::str::from_utf8(&line).map_err(|e| whole(format!("line {row} is not UTF-8: {e}")))?.trim();
        if text.is_empty() {
            continue;
        }
        if !each(row, parse(row, text)) {
            return Ok(());
        }
    }
}

/// Read a stream row by row (a record per CSV row, JSON line, HSDS service or GeoJSON feature):
/// `each(row, result)` returns false to stop. Only the current row is held, so a file of any
/// length reads in constant memory. `encoding` comes from [`text::sniff`]; JSON formats must be
/// UTF-8 (RFC 8259). A UTF-8 byte order mark is skipped.
pub fn read_stream(
    places: &Places,
    format: Format,
    reader: impl std::io::Read,
    encoding: text::Encoding,
    each: &mut dyn FnMut(usize, RowResult) -> bool,
) -> Result<ReadInfo, FileError> {
    read_stream_with(places, format, reader, encoding, &official::ReadOptions::default(), each)
}

/// [`read_stream`] with what the caller knows of an official file.
pub fn read_stream_with(
    places: &Places,
    format: Format,
    reader: impl std::io::Read,
    encoding: text::Encoding,
    opts: &official::ReadOptions,
    each: &mut dyn FnMut(usize, RowResult) -> bool,
) -> Result<ReadInfo, FileError> {
    use std::io::BufRead;
    let whole = |reason: String| RowError { row: 0, field: String::new(), reason };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    if encoding == text::Encoding::Utf8
        && reader.fill_buf().map_err(|e| whole(e.to_string()))?.starts_with(b"\xEF\xBB\xBF")
    {
        reader.consume(3);
    }
    let mut info = ReadInfo { encoding, findings: official::Findings::default() };
    if let Some(layout) = format.official() {
        let mut findings = official::Findings::default();
        match encoding {
            text::Encoding::Utf8 => official::read(places, layout, reader, opts, &mut findings, each)?,
            text::Encoding::ShiftJis => {
                official::read(places, layout, text::ShiftJisReader::new(reader), opts, &mut findings, each)?
            }
        }
        info.findings = findings;
        return Ok(info);
    }
    match (format, encoding) {
        (Format::Csv, text::Encoding::Utf8) => csv::read_each(places, reader, each).map(|_| info),
        (Format::Csv, text::Encoding::ShiftJis) => {
            csv::read_each(places, text::ShiftJisReader::new(reader), each).map(|_| info)
        }
        (_, text::Encoding::ShiftJis) => {
            Err(whole(format!("{} must be UTF-8 (RFC 8259); this file is not", format.code())))
        }
        (Format::Jsonl, _) => read_lines(reader, &|row, line| jsonl::parse_line(places, row, line), each).map(|_| info),
        (Format::Wam | Format::Kaigo | Format::Navii, _) => unreachable!("official layouts are read above"),
        (Format::Hsds | Format::Geojson, _) => {
            let mut row = 0;
            let members: &[&str] = if format == Format::Hsds { &["contents"] } else { &["features"] };
            let outline = json_stream::for_each_item(reader, members, &mut |v| {
                row += 1;
                let r = if format == Format::Hsds {
                    hsds::parse_service(places, row, v)
                } else {
                    geojson::parse_feature(places, row, v)
                };
                each(row, r)
            })
            .map_err(|e| whole(format!("not valid JSON: {e}")))?;
            if !outline.found {
                return Err(whole(if format == Format::Hsds {
                    "expected an array of HSDS services, or a page object with `contents`".into()
                } else {
                    "expected a GeoJSON FeatureCollection (with `features`)".into()
                }));
            }
            if format == Format::Geojson
                && let Some((_, t)) = outline.top_strings.iter().find(|(k, _)| k == "type")
                && t != "FeatureCollection"
            {
                return Err(whole(format!("expected a FeatureCollection, found type `{t}`")));
            }
            Ok(info)
        }
    }
}

/// Writes resources in a format, a batch at a time (constant memory for any number of records).
pub struct Exporter<W: std::io::Write> {
    places: Places,
    format: Format,
    shift_jis: bool,
    out: W,
    written: usize,
}

impl<W: std::io::Write> Exporter<W> {
    /// `shift_jis` encodes the text as CP932 (CSV for Excel); JSON formats are always UTF-8.
    pub fn new(
        places: &Places,
        format: Format,
        headers: csv::Headers,
        shift_jis: bool,
        out: W,
    ) -> std::io::Result<Self> {
        let mut e =
            Exporter { places: *places, format, shift_jis: shift_jis && format == Format::Csv, out, written: 0 };
        let head = match format {
            Format::Csv => csv::header_line(headers),
            Format::Jsonl => String::new(),
            Format::Hsds => hsds::HEAD.to_string(),
            Format::Geojson => geojson::HEAD.to_string(),
            Format::Wam | Format::Kaigo | Format::Navii => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    format!("{} is an import-only layout; export as csv, jsonl, hsds or geojson", format.code()),
                ));
            }
        };
        e.put(&head)?;
        Ok(e)
    }

    fn put(&mut self, text: &str) -> std::io::Result<()> {
        if self.shift_jis {
            self.out.write_all(&text::encode_shift_jis(text))
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    pub fn write(&mut self, resources: &[Resource]) -> std::io::Result<()> {
        let mut chunk = String::new();
        for r in resources {
            match self.format {
                Format::Csv | Format::Wam | Format::Kaigo | Format::Navii => {
                    chunk.push_str(&csv::record_line(self.places.gazetteer, r))
                }
                Format::Jsonl => {
                    chunk.push_str(&jsonl::line(r));
                    chunk.push('\n');
                }
                Format::Hsds | Format::Geojson => {
                    if self.written > 0 || !chunk.is_empty() {
                        chunk.push_str(hsds::SEPARATOR);
                    }
                    let v =
                        if self.format == Format::Hsds { hsds::service(&self.places, r) } else { geojson::feature(r) };
                    chunk.push_str(&v.to_string());
                }
            }
        }
        self.written += resources.len();
        self.put(&chunk)
    }

    /// Close the document; returns the sink and how many records were written.
    pub fn finish(mut self) -> std::io::Result<(W, usize)> {
        let tail = match self.format {
            Format::Hsds => hsds::TAIL,
            Format::Geojson => geojson::TAIL,
            _ => "",
        };
        self.put(tail)?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// Every record of a file in memory (for small files and tests).
pub fn read_all(
    places: &Places,
    format: Format,
    bytes: &[u8],
) -> Result<(Vec<(usize, RowResult)>, ReadInfo), FileError> {
    read_all_with(places, format, bytes, &official::ReadOptions::default())
}

/// [`read_all`] with what the caller knows of an official file.
pub fn read_all_with(
    places: &Places,
    format: Format,
    bytes: &[u8],
    opts: &official::ReadOptions,
) -> Result<(Vec<(usize, RowResult)>, ReadInfo), FileError> {
    let mut rows = Vec::new();
    let info = read_with(places, format, bytes, opts, &mut |row, r, _| {
        rows.push((row, r));
        true
    })?;
    Ok((rows, info))
}

/// Resources as a complete file in memory.
pub fn write_all(places: &Places, format: Format, headers: csv::Headers, resources: &[Resource]) -> Vec<u8> {
    let mut e = Exporter::new(places, format, headers, false, Vec::new()).expect("in-memory write");
    e.write(resources).expect("in-memory write");
    e.finish().expect("in-memory write").0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled sample record plus records exercising every member (polygon areas, private
    /// fields, declined care types …).
    fn records() -> Vec<Resource> {
        let mut all = tsunagu_sample::bundled().unwrap();
        let mut odd = all[0].clone();
        odd.id = tsunagu_model::ResourceId::from_source_id("odd");
        odd.name = "【サンプル】名前に \"引用符\", カンマ\n改行 <tag> &amp;".into();
        odd.location = None;
        odd.service_area = tsunagu_model::ServiceArea::Polygon {
            coordinates: vec![vec![[137.9, 36.2], [138.0, 36.2], [138.0, 36.3], [137.9, 36.2]]],
        };
        odd.private = Some(serde_json::from_value(serde_json::json!({"staff_name": "担当", "notes": "メモ"})).unwrap());
        odd.care_types_declined = [tsunagu_model::CareType::Dialysis].into_iter().collect();
        odd.contact.fax = Some("0263-00-0009".into());
        odd.operator = Some(tsunagu_model::Operator {
            name: "【サンプル】社会福祉法人 つなぐ会".into(),
            corporate_number: Some("1234567890123".into()),
        });
        odd.hours_note = Some("平日 09:00-17:00／定休日：土日祝".into());
        odd.source.not_listed_since = Some("2025-03-31".parse().unwrap());
        odd.care_types.remove(tsunagu_model::CareType::Oxygen);
        odd.care_types_conditional = [tsunagu_model::CareType::Oxygen].into_iter().collect();
        odd.care_statements.insert(
            tsunagu_model::CareType::Oxygen,
            tsunagu_model::survey::CareStatement {
                by: tsunagu_model::survey::Reporter::Provider,
                reported_on: "2027-01-10".parse().unwrap(),
                verified_by: None,
                verified_on: None,
                performers: Vec::new(),
                note: Some("ボンベは持参してください, \"引用\"".into()),
                campaign: Some("令和9年度 調査".into()),
            },
        );
        all.push(odd);
        all
    }

    #[test]
    fn every_format_round_trips_exactly() {
        let all = records();
        for format in Format::ALL {
            let bytes = write_all(&tsunagu_places::Places::bundled(), format, csv::Headers::Japanese, &all);
            let (rows, _) = read_all(&tsunagu_places::Places::bundled(), format, &bytes)
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            let back: Vec<Resource> =
                rows.into_iter().map(|(row, r)| r.unwrap_or_else(|e| panic!("{format:?} row {row}: {e:?}"))).collect();
            assert_eq!(back.len(), all.len(), "{format:?}");
            for (a, b) in all.iter().zip(&back) {
                // HSDS needs a postal code with an address: the export derives it from the
                // address's town when a record has none, so the round trip gains exactly that.
                let mut b = b.clone();
                if format == Format::Hsds && a.postal_code.is_none() && b.postal_code.is_some() {
                    assert_eq!(b.postal_code, hsds::postal_code_of_address(&tsunagu_places::Places::bundled(), a));
                    b.postal_code = None;
                }
                assert_eq!(*a, b, "{format:?}");
            }
        }
    }

    #[test]
    fn cp932_csv_export_reads_back() {
        let all = records();
        let mut e =
            Exporter::new(&tsunagu_places::Places::bundled(), Format::Csv, csv::Headers::English, true, Vec::new())
                .unwrap();
        e.write(&all[..50]).unwrap();
        let (bytes, n) = e.finish().unwrap();
        assert_eq!(n, 50);
        let (rows, info) = read_all(&tsunagu_places::Places::bundled(), Format::Csv, &bytes).unwrap();
        assert_eq!(info.encoding, text::Encoding::ShiftJis);
        assert_eq!(rows.into_iter().map(|(_, r)| r.unwrap()).collect::<Vec<_>>(), all[..50]);
    }

    #[test]
    fn progress_positions_grow_to_the_file_length() {
        let all = records();
        for format in Format::ALL {
            let bytes = write_all(&tsunagu_places::Places::bundled(), format, csv::Headers::English, &all[..30]);
            let mut last = 0;
            read(&tsunagu_places::Places::bundled(), format, &bytes, &mut |_, _, pos| {
                assert!(pos >= last, "{format:?}");
                last = pos;
                true
            })
            .unwrap();
            assert!(
                last as usize <= bytes.len() && last as usize + 16 >= bytes.len(),
                "{format:?}: {last} of {}",
                bytes.len()
            );
        }
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let line = jsonl::line(&records()[0]);
        let (rows, info) =
            read_all(&tsunagu_places::Places::bundled(), Format::Jsonl, format!("\u{FEFF}{line}\n").as_bytes())
                .unwrap();
        assert_eq!(info.encoding, text::Encoding::Utf8);
        assert!(rows[0].1.is_ok(), "{:?}", rows[0].1);
    }

    #[test]
    fn broken_files_are_one_clear_error() {
        assert!(
            read_all(&tsunagu_places::Places::bundled(), Format::Geojson, b"{\"type\":\"Feature\"}")
                .unwrap_err()
                .reason
                .contains("FeatureCollection")
        );
        assert!(
            read_all(&tsunagu_places::Places::bundled(), Format::Geojson, b"{\"type\":\"Topology\",\"features\":[]}")
                .unwrap_err()
                .reason
                .contains("Topology")
        );
        assert!(
            read_all(&tsunagu_places::Places::bundled(), Format::Hsds, b"{\"contents\": [")
                .unwrap_err()
                .reason
                .contains("not valid JSON")
        );
        assert!(
            read_all(
                &tsunagu_places::Places::bundled(),
                Format::Hsds,
                &text::encode_shift_jis("[{\"name\":\"保育園\"}]")
            )
            .unwrap_err()
            .reason
            .contains("UTF-8")
        );
        assert!(
            read_all(&tsunagu_places::Places::bundled(), Format::Jsonl, b"\xff\xfe")
                .unwrap_err()
                .reason
                .contains("UTF-8")
        );
        // Row-level problems are rows, not file errors.
        let (rows, _) =
            read_all(&tsunagu_places::Places::bundled(), Format::Hsds, br#"[{"id":"x","name":"A"}, 5]"#).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|(_, r)| r.is_err()));
    }

    #[test]
    fn a_service_from_another_hsds_publisher_is_read() {
        let doc = serde_json::json!([{
            "id": "svc-001",
            "name": "みどり訪問看護ステーション",
            "description": "小児の訪問看護",
            "status": "active",
            "phones": [{"id": "p1", "number": "026-000-0000"}],
            "schedules": [{"id": "s1", "freq": "WEEKLY", "byday": "MO,TU", "opens_at": "09:00:00", "closes_at": "17:30:00"}],
            "service_at_locations": [{"id": "sal", "location": {"id": "l", "location_type": "physical",
                "addresses": [{"id": "a", "address_1": "大字鶴賀緑町1613", "city": "長野市", "state_province": "長野県",
                               "postal_code": "380-8512", "country": "JP", "address_type": "physical"}]}}],
            "attributes": [
                {"id": "t1", "taxonomy_term": {"id": "k", "name": "訪問看護", "taxonomy": "other"}},
                {"id": "t2", "taxonomy_term": {"id": "c", "name": "人工呼吸器", "taxonomy": "other"}}
            ]
        }]);
        let (rows, _) = read_all(&tsunagu_places::Places::bundled(), Format::Hsds, doc.to_string().as_bytes()).unwrap();
        let r = rows.into_iter().next().unwrap().1.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.kind, tsunagu_model::Kind::HomeNursing);
        assert_eq!(r.municipality_code.to_string(), "20201");
        assert_eq!(r.care_types.iter().map(|c| c.code()).collect::<Vec<_>>(), ["ventilator"]);
        assert_eq!(r.contact.phone.as_deref(), Some("026-000-0000"));
        assert_eq!(r.source.id.as_deref(), Some("svc-001"));
        assert_eq!(r.id, tsunagu_model::ResourceId::from_source_id("svc-001"));
        assert_eq!(
            serde_json::to_value(&r.opening_hours).unwrap(),
            serde_json::json!({"mon": ["09:00-17:30"], "tue": ["09:00-17:30"]})
        );
        let mut no_kind = doc.clone();
        no_kind[0]["attributes"] = serde_json::json!([]);
        let (rows, _) =
            read_all(&tsunagu_places::Places::bundled(), Format::Hsds, no_kind.to_string().as_bytes()).unwrap();
        assert!(rows[0].1.as_ref().unwrap_err()[0].reason.contains("no kind"));
    }
}
