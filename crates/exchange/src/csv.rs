//! CSV in a layout modelled on the 自治体標準オープンデータセット. Headers may be Japanese or
//! English (and mixed); unknown columns are reported, not silently dropped.
//!
//! | column (en) | 列名 (ja) | content |
//! |---|---|---|
//! | id | ID | resource id (UUID); empty: from 外部ID, else new |
//! | source_id | 外部ID | the record's id in its source; re-importing updates instead of duplicating |
//! | name | 名称 | required |
//! | name_kana | 名称_カナ | reading |
//! | kind | 種別 | code (`daycare`) or Japanese (保育所, 訪問看護 …) |
//! | care_types | 医療的ケア対応 | codes or Japanese terms separated by `;`, `、` or `,` |
//! | care_types_declined | 医療的ケア非対応 | same |
//! | care_types_conditional | 医療的ケア条件つき | same: 条件つきでできる（要相談） |
//! | care_statements | 医療的ケアの回答記録 | JSON: who said each care type's state, and who verified it |
//! | description | 説明 | |
//! | address | 住所 | |
//! | postal_code | 郵便番号 | |
//! | municipality_code | 市区町村コード | empty: found from the address |
//! | lat, lon | 緯度, 経度 | WGS84; empty: the address's point; `-`: no point (not placed from the address) |
//! | phone, fax, email, url | 電話番号, FAX番号, メールアドレス, URL | |
//! | operator, operator_corporate_number | 法人名, 法人番号 | the corporation that runs it; 法人番号 is 13 digits |
//! | hours_note | 営業日・時間の注記 | hours and closed days as the source words them |
//! | not_listed_since | 公表データ掲載なし | YYYY-MM-DD: the newest official list no longer has it |
//! | capacity, vacancies | 定員, 空き | whole numbers |
//! | ages | 対象年齢 | `0-5` |
//! | nurse_schedule, opening_hours | 看護師配置, 開所時間 | `月 09:00-17:00; 火 09:00-12:00` or JSON |
//! | service_area | 対応エリア | JSON, `radius_km:15`, or municipality codes |
//! | languages | 対応言語 | `ja;en` |
//! | accessibility | バリアフリー | codes |
//! | transport | 移送設備 | `wheelchair;stretcher` or JSON |
//! | programme | 制度の内容 | JSON: eligibility, benefit, how to apply (kind program) |
//! | training | 研修の内容 | JSON: course type, organiser, audience, sessions (kind training) |
//! | power_supply | 電源の設備 | JSON: devices, outlets, EV, generator watts |
//! | accepting_new_children | 新規受入 | true/false |
//! | availability_updated_at | 空き情報更新日時 | RFC 3339 |
//! | private | 非公開情報 | JSON (staff_name, staff_phone, notes) |
//! | source_name, source_url, source_date, licence | 出典, 出典URL, 出典日, ライセンス | |
//! | verified_at | 確認日 | YYYY-MM-DD |
//! | sample | サンプル | true for synthetic records |
//! | departments | 診療科目 | `小児科|内科` (also `;` or `、`) |
//! | prefecture, municipality | 都道府県, 市区町村名 | checked against the municipality; with no code and no address, they place the record |
//! | service_type | サービス種類 | checked: must name the same kind |
//! | has_pediatrics | 小児科あり | checked: true exactly when a department contains 小児 |

use serde_json::{Map, Value, json};
use tsunagu_model::terms::{CareWord, Vocabulary};
use tsunagu_model::{Accessibility, CareType, Kind, Resource, ResourceId, ServiceArea, TransportFeature, Weekday};
use tsunagu_places::{Gazetteer, Places, Precision};

use crate::{RowError, RowResult, check_places};

/// (English header, Japanese headers accepted).
pub const COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["ID"]),
    ("source_id", &["外部ID", "事業所番号", "施設ID"]),
    ("name", &["名称", "施設名", "事業所名"]),
    ("name_kana", &["名称_カナ", "名称カナ", "フリガナ", "ふりがな"]),
    ("kind", &["種別", "施設種別", "サービス種別"]),
    ("care_types", &["医療的ケア対応", "対応可能な医療的ケア"]),
    ("care_types_declined", &["医療的ケア非対応", "対応不可の医療的ケア"]),
    ("care_types_conditional", &["医療的ケア条件つき", "条件つきで対応可能な医療的ケア"]),
    ("care_statements", &["医療的ケアの回答記録"]),
    ("description", &["説明", "概要", "備考"]),
    ("address", &["住所", "所在地"]),
    ("postal_code", &["郵便番号"]),
    ("municipality_code", &["市区町村コード", "地方公共団体コード", "全国地方公共団体コード"]),
    ("lat", &["緯度"]),
    ("lon", &["経度"]),
    ("phone", &["電話番号"]),
    ("fax", &["FAX番号", "FAX", "ファックス"]),
    ("email", &["メールアドレス"]),
    ("url", &["URL", "ホームページ"]),
    ("operator", &["法人名", "法人の名称", "運営法人"]),
    ("operator_corporate_number", &["法人番号"]),
    ("capacity", &["定員"]),
    ("vacancies", &["空き", "空き人数"]),
    ("ages", &["対象年齢"]),
    ("nurse_schedule", &["看護師配置"]),
    ("opening_hours", &["開所時間", "営業時間"]),
    ("hours_note", &["営業日・時間の注記", "定休日"]),
    ("service_area", &["対応エリア", "サービス提供地域"]),
    ("languages", &["対応言語"]),
    ("accessibility", &["バリアフリー"]),
    ("departments", &["診療科目", "診療科"]),
    ("transport", &["移送設備"]),
    ("programme", &["制度の内容"]),
    ("training", &["研修の内容"]),
    ("power_supply", &["電源の設備"]),
    ("accepting_new_children", &["新規受入"]),
    ("availability_updated_at", &["空き情報更新日時"]),
    ("private", &["非公開情報"]),
    ("source_name", &["出典", "source_dataset"]),
    ("source_url", &["出典URL"]),
    ("source_date", &["出典日", "データ時点"]),
    ("not_listed_since", &["公表データ掲載なし"]),
    ("licence", &["ライセンス"]),
    ("verified_at", &["確認日", "最終確認日"]),
    ("sample", &["サンプル"]),
    // Check-only columns, as open-data lists carry them: read and compared with the record
    // (a mismatch is reported), written for people reading the file.
    ("prefecture", &["都道府県", "都道府県名"]),
    ("municipality", &["市区町村", "市区町村名"]),
    ("service_type", &["サービス種類"]),
    ("has_pediatrics", &["小児科あり"]),
];

/// The canonical column a header names, if any.
pub fn column(header: &str) -> Option<&'static str> {
    let h = header.trim().trim_start_matches('\u{FEFF}');
    COLUMNS.iter().find(|(en, ja)| en.eq_ignore_ascii_case(h) || ja.contains(&h)).map(|(en, _)| *en)
}

fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', '、', ',', '，', '；', '\n', '|']).map(str::trim).filter(|s| !s.is_empty())
}

/// Japanese forms of a vocabulary label: 「保育所・認定こども園」 → 保育所, 認定こども園; 「人工呼吸器の管理」 → 人工呼吸器.
fn label_forms(ja: &str) -> Vec<String> {
    let mut out = vec![ja.to_string()];
    for part in ja.split(['・', '（', '）', '(', ')']).map(str::trim).filter(|p| !p.is_empty()) {
        out.push(part.to_string());
        out.push(part.trim_end_matches("の管理").to_string());
    }
    out
}

/// A kind by its code, its label, or any form the search vocabulary knows (保育園, 放デイ, 訪看).
pub(crate) fn parse_kind(cell: &str) -> Result<Kind, String> {
    let e = match cell.parse::<Kind>() {
        Ok(k) => return Ok(k),
        Err(e) => e,
    };
    Kind::ALL
        .iter()
        .copied()
        .find(|k| label_forms(k.labels().ja).iter().any(|f| f == cell) || k.labels().en.eq_ignore_ascii_case(cell))
        .or_else(|| Vocabulary::bundled().kind_word(cell))
        .ok_or_else(|| e.to_string())
}

/// Care types by code, label, or any form the search vocabulary knows (気切, 喀痰吸引, 呼吸器). An
/// umbrella word (経管栄養) is refused: the file must say which care the provider takes.
pub(crate) fn parse_care(cell: &str) -> Result<Vec<CareType>, String> {
    split_list(cell)
        .map(|t| {
            let e = match t.parse::<CareType>() {
                Ok(c) => return Ok(c),
                Err(e) => e,
            };
            if let Some(c) = CareType::ALL
                .iter()
                .copied()
                .find(|c| label_forms(c.labels().ja).iter().any(|f| f == t) || c.labels().en.eq_ignore_ascii_case(t))
            {
                return Ok(c);
            }
            match Vocabulary::bundled().care_word(t) {
                Some(CareWord::One(c)) => Ok(c),
                Some(CareWord::AnyOf(g)) => Err(format!(
                    "「{t}」 could be any of {}: name the one(s) taken",
                    g.care.iter().map(|c| c.labels().ja).collect::<Vec<_>>().join("・")
                )),
                None => Err(e.to_string()),
            }
        })
        .collect()
}

/// `月 09:00-17:00; 火 09:00-12:00` (or `mon 09:00-17:00`), or a JSON object.
fn parse_hours(cell: &str) -> Result<Value, String> {
    if cell.trim_start().starts_with('{') {
        return serde_json::from_str(cell).map_err(|e| format!("not JSON: {e}"));
    }
    let mut out = Map::new();
    for part in split_list(cell) {
        let (day, hours) = part
            .split_once(|c: char| c.is_whitespace())
            .ok_or_else(|| format!("`{part}`: expected 「月 09:00-17:00」"))?;
        let day = day.trim().trim_end_matches("曜日").trim_end_matches('曜');
        let d = day
            .parse::<Weekday>()
            .ok()
            .or_else(|| Weekday::ALL.iter().copied().find(|w| w.labels().ja == day))
            .ok_or_else(|| format!("`{day}` is not a weekday (月…日 or mon…sun)"))?;
        let range = tsunagu_model::TimeRange::parse(hours).map_err(|e| format!("`{part}`: {}", e.reason))?;
        let slot = out.entry(d.code()).or_insert_with(|| json!([]));
        slot.as_array_mut().expect("array").push(Value::String(range.to_string()));
    }
    Ok(Value::Object(out))
}

fn parse_bool(cell: &str) -> Result<bool, String> {
    match cell.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "はい" | "○" | "有" | "可" => Ok(true),
        "false" | "0" | "no" | "いいえ" | "×" | "無" | "不可" => Ok(false),
        other => Err(format!("`{other}` is not true/false (はい/いいえ)")),
    }
}

fn parse_number(cell: &str) -> Result<u64, String> {
    cell.trim()
        .trim_end_matches('名')
        .trim_end_matches('人')
        .parse::<u64>()
        .map_err(|_| format!("`{cell}` is not a whole number"))
}

fn parse_date(cell: &str) -> Result<String, String> {
    let c = cell.trim().replace('/', "-");
    chrono::NaiveDate::parse_from_str(&c, "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| format!("`{cell}` is not a date (YYYY-MM-DD)"))
}

/// Read CSV (UTF-8) row by row: `each(row, result)` returns false to stop. Only the current row
/// is in memory. Errors are about the whole file: its header, or a read that failed (an
/// undecodable byte); rows before it were already handed over.
pub fn read_each(
    places: &Places,
    utf8: impl std::io::Read,
    each: &mut dyn FnMut(usize, RowResult) -> bool,
) -> Result<(), RowError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(utf8);
    let headers = rdr
        .headers()
        .map_err(|e| RowError { row: 1, field: String::new(), reason: format!("unreadable header: {e}") })?
        .clone();
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    for h in headers.iter() {
        match column(h) {
            Some(c) if columns.contains(&Some(c)) => {
                return Err(RowError { row: 1, field: h.to_string(), reason: format!("column {c} appears twice") });
            }
            Some(c) => columns.push(Some(c)),
            None if h.trim().is_empty() => columns.push(None),
            None => {
                unknown.push(h.to_string());
                columns.push(None);
            }
        }
    }
    if !unknown.is_empty() {
        return Err(RowError { row: 1, field: unknown.join(", "), reason: unknown_reason() });
    }
    if !columns.contains(&Some("name")) {
        return Err(RowError { row: 1, field: "name".into(), reason: "the header has no 名称 (name) column".into() });
    }
    let mut rec = csv::StringRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        let result = match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let cells: Vec<(&str, &str)> = columns
                    .iter()
                    .zip(rec.iter())
                    .filter_map(|(c, v)| c.map(|c| (c, v.trim())))
                    .filter(|(_, v)| !v.is_empty())
                    .collect();
                row_to_resource(places, row, &cells)
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(RowError { row, field: String::new(), reason: e.to_string() });
            }
            Err(e) => Err(vec![RowError { row, field: String::new(), reason: format!("unreadable row: {e}") }]),
        };
        if !each(row, result) {
            break;
        }
    }
    Ok(())
}

fn unknown_reason() -> String {
    let known: Vec<String> = COLUMNS.iter().map(|(en, ja)| format!("{en}/{}", ja[0])).collect();
    format!("unknown column(s); known: {}", known.join(", "))
}

/// A row given as (column name, cell) pairs with Japanese or English names, e.g. the flat
/// properties of a GeoJSON feature.
pub fn flat_row(places: &Places, row: usize, cells: &[(String, String)]) -> RowResult {
    let mut canonical: Vec<(&str, &str)> = Vec::new();
    let mut errs = Vec::new();
    for (name, cell) in cells {
        match column(name) {
            Some(c) if canonical.iter().any(|(k, _)| *k == c) => {
                errs.push(RowError { row, field: name.clone(), reason: format!("column {c} appears twice") })
            }
            Some(c) if !cell.trim().is_empty() => canonical.push((c, cell.trim())),
            Some(_) => {}
            None => errs.push(RowError { row, field: name.clone(), reason: unknown_reason() }),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    row_to_resource(places, row, &canonical)
}

fn row_to_resource(places: &Places, row: usize, cells: &[(&str, &str)]) -> RowResult {
    // Cells tsunagu (or a careful spreadsheet) wrote with a `'` before a formula character are
    // read as the text after it.
    let cells: Vec<(&str, &str)> = cells.iter().map(|(c, v)| (*c, unneutralise(v))).collect();
    let cells = cells.as_slice();
    let mut b = RowBuilder::new(places, row, cells);
    for (col, cell) in cells {
        b.cell(col, cell);
    }
    b.place();
    b.cross_check();
    b.finish()
}

/// `0-5`, `0〜5歳` → `{min_years, max_years}`.
fn parse_ages(cell: &str) -> Result<Value, String> {
    let bad = || format!("`{cell}` is not an age range such as 0-5");
    let (a, b) = cell
        .replace(['〜', '～', '~'], "-")
        .trim_end_matches('歳')
        .split_once('-')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .ok_or_else(bad)?;
    match (a.parse::<u8>(), b.trim_end_matches('歳').parse::<u8>()) {
        (Ok(a), Ok(b)) => Ok(json!({"min_years": a, "max_years": b})),
        _ => Err(bad()),
    }
}

/// A service area as JSON, `radius_km:N`, or a list of municipality codes.
fn parse_service_area(cell: &str) -> Result<Value, String> {
    if cell.starts_with('{') {
        serde_json::from_str::<Value>(cell).map_err(|e| format!("not JSON: {e}"))
    } else if let Some(r) = cell.strip_prefix("radius_km:") {
        r.trim()
            .parse::<f64>()
            .map(|r| json!({"type": "radius", "radius_km": r}))
            .map_err(|_| format!("`{cell}`: radius is not a number"))
    } else {
        Ok(json!({"type": "municipalities", "codes": split_list(cell).collect::<Vec<_>>()}))
    }
}

/// Transport features as JSON or a list of codes.
fn parse_transport(cell: &str) -> Result<Value, String> {
    if cell.starts_with('{') {
        serde_json::from_str::<Value>(cell).map_err(|e| format!("not JSON: {e}"))
    } else {
        split_list(cell)
            .map(|f| f.parse::<TransportFeature>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map(|fs| Value::Object(fs.iter().map(|f| (f.code().to_string(), json!(true))).collect()))
    }
}

fn parse_json(cell: &str) -> Result<Value, String> {
    serde_json::from_str::<Value>(cell).map_err(|e| format!("not JSON: {e}"))
}

/// One CSV row on its way to a resource: the JSON members by where they go, and the row's
/// problems (all of them are reported, not only the first).
struct RowBuilder<'a> {
    places: &'a Places,
    row: usize,
    cells: &'a [(&'a str, &'a str)],
    errs: Vec<RowError>,
    v: Map<String, Value>,
    source: Map<String, Value>,
    contact: Map<String, Value>,
    capacity: Map<String, Value>,
    operator: Map<String, Value>,
    statements: Option<Value>,
}

impl<'a> RowBuilder<'a> {
    fn new(places: &'a Places, row: usize, cells: &'a [(&'a str, &'a str)]) -> Self {
        RowBuilder {
            places,
            row,
            cells,
            errs: Vec::new(),
            v: Map::new(),
            source: Map::new(),
            contact: Map::new(),
            capacity: Map::new(),
            operator: Map::new(),
            statements: None,
        }
    }

    fn get(&self, c: &str) -> Option<&str> {
        self.cells.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
    }

    fn err(&mut self, field: &str, reason: String) {
        self.errs.push(RowError { row: self.row, field: field.to_string(), reason });
    }

    /// Put a parsed value at `key` of the record, or report why `col` could not be read.
    fn put(&mut self, col: &str, key: &str, value: Result<Value, String>) {
        match value {
            Ok(v) => {
                self.v.insert(key.to_string(), v);
            }
            Err(e) => self.err(col, e),
        }
    }

    /// Read one cell into its place.
    fn cell(&mut self, col: &str, cell: &str) {
        match col {
            "id"
            | "name"
            | "name_kana"
            | "description"
            | "address"
            | "postal_code"
            | "municipality_code"
            | "hours_note"
            | "availability_updated_at" => {
                self.v.insert(col.to_string(), json!(cell));
            }
            "source_id" => {
                self.source.insert("id".into(), json!(cell));
            }
            "source_name" | "source_url" | "licence" => {
                let key = col.strip_prefix("source_").unwrap_or(col);
                self.source.insert(key.into(), json!(cell));
            }
            "kind" => self.put(col, "kind", parse_kind(cell).map(|k| json!(k.code()))),
            "care_statements" => match parse_json(cell) {
                Ok(v) => self.statements = Some(v),
                Err(e) => self.err(col, e),
            },
            "care_types" | "care_types_declined" | "care_types_conditional" => {
                self.put(col, col, parse_care(cell).map(|cs| json!(cs.iter().map(|c| c.code()).collect::<Vec<_>>())))
            }
            "lat" | "lon" if cell != "-" && cell.parse::<f64>().is_err() => {
                self.err(col, format!("`{cell}` is not a number"))
            }
            // An e-mail address published in the URL column is an e-mail address.
            "url" if cell.contains('@') && !cell.contains("://") && self.get("email").is_none() => {
                self.contact.insert("email".into(), json!(cell));
            }
            "phone" | "email" | "url" | "fax" => {
                self.contact.insert(col.to_string(), json!(cell));
            }
            "operator" => {
                self.operator.insert("name".into(), json!(cell));
            }
            "operator_corporate_number" => {
                self.operator.insert("corporate_number".into(), json!(cell));
            }
            "capacity" | "vacancies" => match parse_number(cell) {
                Ok(n) => {
                    self.capacity.insert(if col == "capacity" { "total".into() } else { "vacancies".into() }, json!(n));
                }
                Err(e) => self.err(col, e),
            },
            "ages" => self.put(col, "ages", parse_ages(cell)),
            "nurse_schedule" | "opening_hours" => self.put(col, col, parse_hours(cell)),
            "service_area" => self.put(col, "service_area", parse_service_area(cell)),
            "languages" | "departments" => {
                self.v.insert(col.to_string(), json!(split_list(cell).collect::<Vec<_>>()));
            }
            "accessibility" => {
                let codes = split_list(cell)
                    .map(|a| a.parse::<Accessibility>().map(|a| a.code()))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|a| json!(a))
                    .map_err(|e| e.to_string());
                self.put(col, "accessibility", codes)
            }
            "transport" => self.put(col, "transport", parse_transport(cell)),
            "accepting_new_children" | "sample" => self.put(col, col, parse_bool(cell).map(|b| json!(b))),
            "private" | "programme" | "training" | "power_supply" => self.put(col, col, parse_json(cell)),
            "source_date" | "verified_at" | "not_listed_since" => match parse_date(cell) {
                Ok(d) => match col {
                    "source_date" => {
                        self.source.insert("date".into(), json!(d));
                    }
                    "not_listed_since" => {
                        self.source.insert("not_listed_since".into(), json!(d));
                    }
                    _ => {
                        self.v.insert("verified_at".into(), json!(d));
                    }
                },
                Err(e) => self.err(col, e),
            },
            _ => {}
        }
    }

    /// Location and municipality: as given, else from the address (or the municipality's name).
    fn place(&mut self) {
        let number = |c: Option<&str>| c.and_then(|c| c.parse::<f64>().ok());
        match (number(self.get("lat")), number(self.get("lon"))) {
            (Some(lat), Some(lon)) => {
                self.v.insert("location".into(), json!({"lat": lat, "lon": lon}));
            }
            (Some(_), None) | (None, Some(_)) => self.err("lat", "give both 緯度 and 経度, or neither".into()),
            (None, None) => {}
        }
        let no_point = self.get("lat") == Some("-") || self.get("lon") == Some("-");
        if (!self.v.contains_key("municipality_code") || (!self.v.contains_key("location") && !no_point))
            && let Some(addr) = self.get("address")
        {
            match place_address(self.places, addr) {
                Ok((code, point)) => {
                    self.v.entry("municipality_code").or_insert(json!(code));
                    if let Some((lat, lon)) = point.filter(|_| !no_point) {
                        self.v.entry("location").or_insert(json!({"lat": lat, "lon": lon}));
                    }
                }
                Err(e) if !self.v.contains_key("municipality_code") => self.err("address", e),
                Err(_) => {}
            }
        }
        if !self.v.contains_key("municipality_code")
            && self.get("address").is_none()
            && let Some(m) = self.get("municipality")
        {
            match place_address(self.places, &format!("{}{m}", self.get("prefecture").unwrap_or(""))) {
                Ok((code, _)) => {
                    self.v.insert("municipality_code".into(), json!(code));
                }
                Err(e) => self.err("municipality", e),
            }
        }
        if !self.v.contains_key("municipality_code") && self.get("address").is_none() {
            self.err("municipality_code", "give 市区町村コード or 住所".into());
        }
    }

    /// Columns that only check what others say (prefecture, municipality name, service type,
    /// 小児科), and the required ones.
    fn cross_check(&mut self) {
        let g = self.places.gazetteer;
        let code = self.v.get("municipality_code").and_then(Value::as_str).and_then(|c| c.parse().ok());
        if let Some(m) = code.and_then(|c| g.municipality(c)) {
            if let Some(p) = self.get("prefecture").filter(|p| *p != m.prefecture) {
                self.err("prefecture", format!("`{p}` is not the prefecture of {} ({})", m.code, m.prefecture));
            }
            if let Some(name) = self.get("municipality").filter(|n| *n != m.name && *n != m.full_name) {
                self.err("municipality", format!("`{name}` is not the name of {} ({})", m.code, m.name));
            }
        }
        if let (Some(t), Some(k)) = (self.get("service_type"), self.v.get("kind").and_then(Value::as_str))
            && let Ok(named) = parse_kind(t)
            && named.code() != k
        {
            let reason = format!("`{t}` names {}, but 種別 is {k}", named.code());
            self.err("service_type", reason);
        }
        if let Some(flag) = self.get("has_pediatrics") {
            let pediatric = self
                .v
                .get("departments")
                .and_then(Value::as_array)
                .is_some_and(|ds| ds.iter().filter_map(Value::as_str).any(|d| d.contains("小児")));
            match parse_bool(flag) {
                Ok(b) if self.v.contains_key("departments") && b != pediatric => {
                    let has = if pediatric { "has 小児" } else { "no 小児" };
                    self.err("has_pediatrics", format!("`{flag}` disagrees with 診療科目 ({has})"));
                }
                Ok(_) => {}
                Err(e) => self.err("has_pediatrics", e),
            }
        }
        if self.get("name").is_none() {
            self.err("name", "名称 (name) is required".into());
        }
        if !self.v.contains_key("kind") && self.get("kind").is_none() {
            self.err("kind", "種別 (kind) is required".into());
        }
    }

    /// The resource, validated, or every problem of the row.
    fn finish(self) -> RowResult {
        let RowBuilder { places, row, errs, mut v, mut source, contact, mut capacity, operator, statements, .. } = self;
        if !errs.is_empty() {
            return Err(errs);
        }
        if !contact.is_empty() {
            v.insert("contact".into(), Value::Object(contact));
        }
        if let Some(st) = statements {
            v.insert("care_statements".into(), st);
        }
        if !operator.is_empty() {
            if !operator.contains_key("name") {
                return Err(vec![RowError {
                    row,
                    field: "operator".into(),
                    reason: "a 法人番号 needs the 法人名 (operator) beside it".into(),
                }]);
            }
            v.insert("operator".into(), Value::Object(operator));
        }
        if !capacity.is_empty() {
            capacity.entry("total").or_insert(Value::Null);
            capacity.entry("vacancies").or_insert(Value::Null);
            v.insert("capacity".into(), Value::Object(capacity));
        }
        source.entry("name").or_insert(json!("CSV import"));
        let source_id = source.get("id").and_then(Value::as_str).map(str::to_string);
        v.insert("source".into(), Value::Object(source));
        v.entry("sample").or_insert(json!(false));
        if !v.contains_key("id") {
            let id = match source_id {
                Some(sid) => ResourceId::from_source_id(&sid),
                None => ResourceId::new_random(),
            };
            v.insert("id".into(), json!(id.to_string()));
        }
        let r = Resource::from_json(Value::Object(v)).map_err(|es| {
            es.into_iter()
                .map(|e| RowError {
                    row,
                    field: e.field.split('/').next().unwrap_or_default().to_string(),
                    reason: e.reason,
                })
                .collect::<Vec<_>>()
        })?;
        check_places(places, row, r)
    }
}

/// Place an address: its municipality code, and its point when the address names a town (a
/// municipality-precise point is not a facility's location). Ambiguous addresses are refused.
pub fn place_address(places: &Places, addr: &str) -> Result<(String, Option<(f64, f64)>), String> {
    match places.geocoder.geocode(addr) {
        Ok(g) if g.alternatives.iter().all(|a| a.municipality_code == g.place.municipality_code) => {
            let code = g
                .place
                .municipality_code
                .ok_or_else(|| format!("`{addr}` names no municipality; give 市区町村コード"))?;
            let point = (g.place.precision == Precision::Town).then(|| (g.place.point.lat(), g.place.point.lon()));
            Ok((code.to_string(), point))
        }
        _ => Err(format!("`{addr}` could not be placed; give 市区町村コード")),
    }
}

/// A cell as written for spreadsheets: text that starts with `=`, `+`, `-`, `@` (or a tab or
/// carriage return) is prefixed with `'`, so that Excel shows it instead of running it as a
/// formula.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_string() }
}

/// Headers to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    English,
    Japanese,
}

fn json_cell<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialises")
}

/// The text a [`neutralise`]d cell stands for.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// One CSV line; every cell is [`neutralise`]d so that a spreadsheet shows text, never runs it.
fn csv_line(cells: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(cells.iter().map(|c| neutralise(c))).expect("in-memory write");
    String::from_utf8(w.into_inner().expect("flush")).expect("UTF-8 in, UTF-8 out")
}

/// The header row (a CSV file is this, then [`record_line`] per record; complex members are JSON
/// cells, so that reading the file back gives identical records).
pub fn header_line(headers: Headers) -> String {
    let head: Vec<String> = COLUMNS
        .iter()
        .map(|(en, ja)| if headers == Headers::English { en.to_string() } else { ja[0].to_string() })
        .collect();
    csv_line(&head)
}

/// One record's row (with its line end).
pub fn record_line(g: &Gazetteer, r: &Resource) -> String {
    let muni = g.municipality(r.municipality_code);
    {
        let opt = |o: Option<String>| o.unwrap_or_default();
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|(col, _)| match *col {
                "id" => r.id.to_string(),
                "source_id" => opt(r.source.id.clone()),
                "name" => r.name.clone(),
                "name_kana" => opt(r.name_kana.clone()),
                "kind" => r.kind.code().to_string(),
                "care_types" => r.care_types.iter().map(|c| c.code()).collect::<Vec<_>>().join(";"),
                "care_types_declined" => r.care_types_declined.iter().map(|c| c.code()).collect::<Vec<_>>().join(";"),
                "care_types_conditional" => {
                    r.care_types_conditional.iter().map(|c| c.code()).collect::<Vec<_>>().join(";")
                }
                "care_statements" if !r.care_statements.is_empty() => json_cell(&r.care_statements),
                "description" => r.description.clone(),
                "address" => opt(r.address.clone()),
                "postal_code" => opt(r.postal_code.map(|p| p.to_string())),
                "municipality_code" => r.municipality_code.to_string(),
                // `-`: no point, and none to be made from the address on import.
                "lat" | "lon" if r.location.is_none() && r.address.is_some() => "-".to_string(),
                "lat" => opt(r.location.map(|p| p.lat().to_string())),
                "lon" => opt(r.location.map(|p| p.lon().to_string())),
                "phone" => opt(r.contact.phone.clone()),
                "fax" => opt(r.contact.fax.clone()),
                "email" => opt(r.contact.email.clone()),
                "url" => opt(r.contact.url.clone()),
                "operator" => opt(r.operator.as_ref().map(|o| o.name.clone())),
                "operator_corporate_number" => opt(r.operator.as_ref().and_then(|o| o.corporate_number.clone())),
                "hours_note" => opt(r.hours_note.clone()),
                "not_listed_since" => opt(r.source.not_listed_since.map(|d| d.to_string())),
                "capacity" => opt(r.capacity.and_then(|c| c.total).map(|n| n.to_string())),
                "vacancies" => opt(r.capacity.and_then(|c| c.vacancies).map(|n| n.to_string())),
                "ages" => opt(r.ages.map(|a| format!("{}-{}", a.min_years, a.max_years))),
                "nurse_schedule" if !r.nurse_schedule.is_empty() => json_cell(&r.nurse_schedule),
                "opening_hours" if !r.opening_hours.is_empty() => json_cell(&r.opening_hours),
                "service_area" if r.service_area != ServiceArea::None => json_cell(&r.service_area),
                "languages" => r.languages.join(";"),
                "accessibility" => r.accessibility.iter().map(|a| a.code()).collect::<Vec<_>>().join(";"),
                "departments" => r.departments.join("|"),
                "prefecture" => opt(muni.map(|m| m.prefecture.clone())),
                "municipality" => opt(muni.map(|m| m.name.clone())),
                "service_type" => r.kind.labels().ja.to_string(),
                "has_pediatrics" if !r.departments.is_empty() => {
                    r.departments.iter().any(|d| d.contains("小児")).to_string()
                }
                "transport" => opt(r.transport.map(|t| json_cell(&t))),
                "accepting_new_children" => opt(r.accepting_new_children.map(|b| b.to_string())),
                "availability_updated_at" => opt(r.availability_updated_at.map(|t| t.to_rfc3339())),
                "private" => opt(r.private.as_ref().map(json_cell)),
                "programme" => opt(r.programme.as_ref().map(json_cell)),
                "training" => opt(r.training.as_ref().map(json_cell)),
                "power_supply" => opt(r.power_supply.as_ref().map(json_cell)),
                "source_name" => r.source.name.clone(),
                "source_url" => opt(r.source.url.clone()),
                "source_date" => opt(r.source.date.map(|d| d.to_string())),
                "licence" => opt(r.source.licence.clone()),
                "verified_at" => opt(r.verified_at.map(|d| d.to_string())),
                "sample" => r.sample.to_string(),
                _ => String::new(),
            })
            .collect();
        csv_line(&cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::encode_shift_jis;

    /// Resources as CSV text, through the crate's writer.
    fn write(resources: &[Resource], headers: Headers) -> String {
        String::from_utf8(crate::write_all(&tsunagu_places::Places::bundled(), crate::Format::Csv, headers, resources))
            .unwrap()
    }

    /// Every row of a CSV text, through the crate's reader.
    fn read(text: &str) -> Result<Vec<(usize, RowResult)>, RowError> {
        crate::read_all(&tsunagu_places::Places::bundled(), crate::Format::Csv, text.as_bytes()).map(|(rows, _)| rows)
    }

    const HEADER_JA: &str = "名称,名称_カナ,種別,住所,緯度,経度,電話番号,医療的ケア対応,定員,空き,看護師配置,出典";

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text_and_read_back_as_written() {
        let mut r = tsunagu_sample::bundled().unwrap()[0].clone();
        r.name = "=HYPERLINK(\"http://example.com\",\"【サンプル】x\")".into();
        r.description = "+1 @mention -minus".into();
        let text = write(std::slice::from_ref(&r), Headers::English);
        assert!(text.contains("\"'=HYPERLINK(") && text.contains("'+1 @mention"), "{text}");
        let back = read(&text).unwrap();
        let got = back[0].1.as_ref().unwrap();
        assert_eq!((got.name.as_str(), got.description.as_str()), (r.name.as_str(), r.description.as_str()));
    }

    #[test]
    fn everyday_words_import_as_search_understands_them_and_umbrella_words_ask() {
        let csv = "名称,種別,住所,医療的ケア対応,サンプル\n\
                   【サンプル】架空保育園,保育園,長野県松本市丸の内3-7,気切;喀痰吸引;呼吸器,true\n\
                   【サンプル】架空デイ,放デイ,長野県松本市丸の内3-7,ｲﾛｳ,true\n\
                   【サンプル】架空訪看,訪看,長野県松本市丸の内3-7,経管栄養,true\n";
        let rows = read(csv).unwrap();
        let r = rows[0].1.as_ref().unwrap();
        assert_eq!(r.kind, Kind::Daycare);
        assert_eq!(
            r.care_types,
            [CareType::Tracheostomy, CareType::SuctionOralNasal, CareType::Ventilator].into_iter().collect()
        );
        let r = rows[1].1.as_ref().unwrap();
        assert_eq!(
            (r.kind, r.care_types.iter().collect::<Vec<_>>()),
            (Kind::AfterSchoolDayService, vec![CareType::Gastrostomy])
        );
        let errs = rows[2].1.as_ref().unwrap_err();
        assert_eq!(errs[0].field, "care_types");
        assert!(errs[0].reason.contains("経鼻経管栄養") && errs[0].reason.contains("胃ろう"), "{}", errs[0].reason);
    }

    #[test]
    fn a_cp932_prefectural_csv_with_mixed_rows_gives_an_exact_row_report() {
        let csv = format!(
            "{HEADER_JA}\n\
             ひまわり保育園,ヒマワリホイクエン,保育所,長野県松本市丸の内3-7,,,0263-00-0001,たん吸引;胃ろう,60,2,月 09:00-17:00; 火 09:00-17:00,長野県 医療的ケア児支援センター\n\
             あおぞら訪問看護,,訪問看護,松本市大手1-1,36.24,137.97,0263-00-0002,人工呼吸器、気管切開,,,,長野県\n\
             ,,保育所,松本市丸の内3-7,,,,,,,,長野県\n\
             さくら園,,保育園の一種,松本市丸の内3-7,,,,すいとり,,,,長野県\n\
             こもれび,,保育所,東京都千代田区1-1,,,,,,,,長野県\n\
             わかば,,保育所,松本市丸の内3-7,36.2,,,,10,20,水曜 9時,長野県\n"
        );
        let bytes = encode_shift_jis(&csv);
        let (rows, info) = crate::read_all(&tsunagu_places::Places::bundled(), crate::Format::Csv, &bytes).unwrap();
        assert_eq!(info.encoding, crate::text::Encoding::ShiftJis);
        assert_eq!(rows.len(), 6);
        let ok: Vec<&Resource> = rows.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].municipality_code.to_string(), "20202", "placed from the address");
        assert!(ok[0].location.is_some(), "a town-precise address gives a point");
        assert_eq!(
            ok[0].care_types.iter().map(|c| c.code()).collect::<Vec<_>>(),
            ["suction_oral_nasal", "gastrostomy"]
        );
        assert_eq!(ok[1].kind, Kind::HomeNursing);
        let report: Vec<String> =
            rows.iter().filter_map(|(_, r)| r.as_ref().err()).flatten().map(|e| e.to_string()).collect();
        assert_eq!(
            report,
            [
                "row 4: name: 名称 (name) is required",
                "row 5: kind: unknown kind `保育園の一種`; allowed: daycare, kindergarten, special_needs_school, school, child_development_support, home_visit_child_development_support, medical_child_development_support, after_school_day_service, nursery_visit_support, short_stay, medical_disabled_child_residential, welfare_disabled_child_residential, medical_long_term_care, home_help, home_nursing, regular_patrol_home_care_nursing, home_care_clinic, hospital, clinic, pharmacy, rehabilitation, consultation_support, support_center, coordinator, transport, equipment_rental, power_supply, welfare_shelter, family_support, program, training",
                "row 5: care_types: unknown care type `すいとり`; allowed: suction_oral_nasal, suction_tracheal, tube_feeding_nasal, gastrostomy, ventilator, oxygen, tracheostomy, nasopharyngeal_airway, nebulizer, catheterization, insulin, glucose_monitoring, central_venous, dialysis, stoma, seizure_medication, pulse_oximetry",
                "row 6: address: `東京都千代田区1-1` could not be placed; give 市区町村コード",
                "row 7: nurse_schedule: `水曜 9時`: `9時` is not a time range: expected HH:MM-HH:MM, e.g. 09:00-17:00",
                "row 7: lat: give both 緯度 and 経度, or neither",
            ],
            "{report:#?}"
        );
    }

    #[test]
    fn unknown_or_duplicate_headers_are_refused() {
        assert!(read("名称,色\nA,赤\n").unwrap_err().reason.contains("unknown column"));
        assert!(read("name,名称\nA,B\n").unwrap_err().reason.contains("twice"));
        assert!(read("種別\n保育所\n").unwrap_err().reason.contains("名称"));
    }

    #[test]
    fn export_then_import_is_exact_with_english_or_japanese_headers() {
        let samples: Vec<Resource> = tsunagu_model_samples();
        for headers in [Headers::English, Headers::Japanese] {
            let text = write(&samples, headers);
            let back: Vec<Resource> = read(&text)
                .unwrap()
                .into_iter()
                .map(|(row, r)| r.unwrap_or_else(|e| panic!("row {row}: {e:?}")))
                .collect();
            assert_eq!(back, samples);
        }
    }

    /// A few varied records, built from JSON so every member is exercised.
    fn tsunagu_model_samples() -> Vec<Resource> {
        let full = json!({
            "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21",
            "name": "【サンプル】にじいろ訪問看護, \"本店\"",
            "name_kana": "にじいろほうもんかんご",
            "kind": "home_nursing",
            "care_types": ["suction_tracheal", "ventilator"],
            "care_types_declined": ["dialysis"],
            "description": "24時間対応。\n改行も含む説明",
            "address": "長野県松本市丸の内3-7",
            "postal_code": "390-0874",
            "municipality_code": "20202",
            "location": {"lat": 36.238056, "lon": 137.971944},
            "service_area": {"type": "radius", "radius_km": 15.5},
            "ages": {"min_years": 0, "max_years": 18},
            "capacity": {"total": 10, "vacancies": 0},
            "nurse_schedule": {"mon": ["09:00-12:00", "13:00-17:00"]},
            "opening_hours": {"sat": ["09:00-12:00"]},
            "contact": {"phone": "000-000-0001", "email": "a@example.com", "url": "https://example.com/x"},
            "languages": ["ja", "pt-BR"],
            "accessibility": ["elevator", "parking"],
            "transport": {"wheelchair": true, "stretcher": false, "ventilator_onboard": true, "escort_nurse": false},
            "accepting_new_children": true,
            "availability_updated_at": "2026-11-01T09:30:00Z",
            "private": {"staff_name": "担当", "notes": "メモ"},
            "source": {"name": "test", "id": "t-1", "url": "https://example.com/src", "date": "2025-06-01", "licence": "CC BY 4.0"},
            "verified_at": "2026-04-01",
            "sample": true
        });
        let minimal = json!({
            "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c22",
            "name": "小諸市 移動支援",
            "kind": "transport",
            "municipality_code": "20208",
            "service_area": {"type": "region", "region_id": "20-01"},
            "source": {"name": "test"},
            "sample": false
        });
        vec![Resource::from_json(full).unwrap(), Resource::from_json(minimal).unwrap()]
    }
}
