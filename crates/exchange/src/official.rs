//! The official file layouts a centre downloads, read unmodified:
//!
//! - [`Layout::Wam`]: WAM NET 障害福祉サービス等情報公表システム open data, one file per service code
//!   (`csvdownload0NN.csv`, 29 columns, UTF-8 with a BOM or CP932).
//! - [`Layout::Kaigo`]: 厚生労働省 介護サービス情報公表システム open data, one file per service
//!   (`jigyosho_<code>.csv`: 130 = 訪問看護, 760 = 定期巡回・随時対応型訪問介護看護 …).
//! - [`Layout::Navii`]: 厚生労働省 医療情報ネット（ナビイ） facility files (`01-1` hospitals, `02-1`
//!   clinics). Their published layout has no phone numbers.
//!
//! National files hold every prefecture: rows outside the prefectures this server serves are
//! skipped and counted, not reported as errors. Each row is placed by the facility's own address
//! and coordinates (never the designating authority's or the 法人's). A value that breaks the
//! record's rules in an official file (a 12-digit 法人番号, a URL without a host) is left out and
//! counted in the file's notes rather than costing the facility its row.
//!
//! Source ids are the ones the bundled records carry (`wam:<事業所番号>:<サービス種別>`,
//! `mhlw-kaigo-<code>:<事業所番号>`, `mhlw-iryo-hospital:<ID>`), so a newer file updates them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use tsunagu_model::{Kind, Resource, ResourceId, SAMPLE_MARK};
use tsunagu_places::{Gazetteer, Places};

use crate::{RowError, RowResult};

/// An official layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Wam,
    Kaigo,
    Navii,
}

/// What a caller knows of an official file that the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The date the data describes (データ時点): the official files do not carry it.
    pub source_date: Option<NaiveDate>,
    /// For 医療情報ネット files: hospital (01-1) or clinic (02-1).
    pub kind: Option<Kind>,
}

/// The records of one source a full official file covers: those whose source id starts with
/// `prefix` and ends with one of `suffixes` (any when empty), in `prefectures`. Records in scope
/// that the file does not list are no longer listed by the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub source_name: String,
    pub prefix: String,
    pub suffixes: std::collections::BTreeSet<String>,
    /// Prefecture codes (11, 20) that the file has rows for.
    pub prefectures: std::collections::BTreeSet<u8>,
    pub date: Option<NaiveDate>,
}

impl Coverage {
    /// Whether a record with this source id, in this prefecture, is one the file covers.
    pub fn covers(&self, source_name: &str, source_id: &str, prefecture: u8) -> bool {
        source_name == self.source_name
            && source_id.starts_with(&self.prefix)
            && (self.suffixes.is_empty() || self.suffixes.iter().any(|s| source_id.ends_with(s.as_str())))
            && self.prefectures.contains(&prefecture)
    }
}

/// What reading an official file found besides its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Rows left out, by reason (outside the served prefectures, a service tsunagu does not list).
    pub skipped: BTreeMap<String, u64>,
    /// Values left out of otherwise good rows, by reason.
    pub notes: BTreeMap<String, u64>,
    pub coverage: Option<Coverage>,
}

pub const WAM_SOURCE: &str = "WAM NET 障害福祉サービス等情報公表システム オープンデータ";
const WAM_URL: &str = "https://www.wam.go.jp/content/wamnet/pcpub/top/sfkopendata/";
const WAM_LICENCE: &str = "WAM NET オープンデータ（二次利用可・無償。利用規約の条件による）";
const MHLW_LICENCE: &str = "政府標準利用規約 2.0 (CC BY 4.0 互換)";

/// WAM NET's 29 columns, in order.
pub const WAM_COLUMNS: [&str; 29] = [
    "都道府県コード又は市区町村コード",
    "NO（※システム内の固有の番号、連番）",
    "指定機関名",
    "法人の名称",
    "法人の名称_かな",
    "法人番号",
    "法人住所（市区町村）",
    "法人住所（番地以降）",
    "法人電話番号",
    "法人FAX番号",
    "法人URL",
    "サービス種別",
    "事業所の名称",
    "事業所の名称_かな",
    "事業所番号",
    "事業所住所（市区町村）",
    "事業所住所（番地以降）",
    "事業所電話番号",
    "事業所FAX番号",
    "事業所URL",
    "事業所緯度",
    "事業所経度",
    "利用可能な時間帯（平日）",
    "利用可能な時間帯（土曜）",
    "利用可能な時間帯（日曜）",
    "利用可能な時間帯（祝日）",
    "定休日",
    "利用可能曜日特記事項（留意事項）",
    "定員",
];

/// 介護サービス情報公表システム: the columns every file has, and those some versions add.
pub const KAIGO_COLUMNS: [&str; 17] = [
    "都道府県コード又は市町村コード",
    "No",
    "都道府県名",
    "市区町村名",
    "事業所名",
    "事業所名カナ",
    "サービスの種類",
    "住所",
    "方書（ビル名等）",
    "緯度",
    "経度",
    "電話番号",
    "事業所番号",
    "利用可能曜日",
    "利用可能曜日特記事項",
    "定員",
    "URL",
];
const KAIGO_OPTIONAL: [&str; 3] = ["FAX番号", "法人番号", "法人の名称"];

/// 医療情報ネット facility files: the columns tsunagu reads (the full files have many more:
/// closed days, beds …, which are read past).
pub const NAVII_COLUMNS: [&str; 6] =
    ["ID", "正式名称", "正式名称（フリガナ）", "所在地", "所在地座標（緯度）", "所在地座標（経度）"];
const NAVII_OPTIONAL: [&str; 1] = ["案内用ホームページアドレス"];

/// WAM NET service types tsunagu lists, by the name in サービス種別.
fn wam_kind(service: &str) -> Option<Kind> {
    Some(match service {
        "短期入所" => Kind::ShortStay,
        "児童発達支援" => Kind::ChildDevelopmentSupport,
        "医療型児童発達支援" => Kind::MedicalChildDevelopmentSupport,
        "放課後等デイサービス" => Kind::AfterSchoolDayService,
        "居宅訪問型児童発達支援" => Kind::HomeVisitChildDevelopmentSupport,
        "保育所等訪問支援" => Kind::NurseryVisitSupport,
        "福祉型障害児入所施設" => Kind::WelfareDisabledChildResidential,
        "医療型障害児入所施設" => Kind::MedicalDisabledChildResidential,
        "計画相談支援" | "障害児相談支援" => Kind::ConsultationSupport,
        "療養介護" => Kind::MedicalLongTermCare,
        "居宅介護" | "重度訪問介護" => Kind::HomeHelp,
        _ => return None,
    })
}

/// 介護サービス情報公表 services tsunagu lists: (kind, service code for the source id and name).
fn kaigo_kind(service: &str) -> Option<(Kind, &'static str)> {
    match service {
        "訪問看護" => Some((Kind::HomeNursing, "130")),
        "定期巡回・随時対応型訪問介護看護" => Some((Kind::RegularPatrolHomeCareNursing, "760")),
        _ => None,
    }
}

fn kaigo_source(code: &str, service: &str) -> String {
    format!("厚生労働省 介護サービス情報公表システム オープンデータ {code} {service}")
}

fn navii_source(kind: Kind) -> (&'static str, &'static str) {
    if kind == Kind::Clinic {
        ("mhlw-iryo-clinic", "厚生労働省 医療情報ネット オープンデータ 02-1 診療所 施設票")
    } else {
        ("mhlw-iryo-hospital", "厚生労働省 医療情報ネット オープンデータ 01-1 病院 施設票")
    }
}

impl Layout {
    pub fn columns(self) -> Vec<&'static str> {
        match self {
            Layout::Wam => WAM_COLUMNS.to_vec(),
            Layout::Kaigo => KAIGO_COLUMNS.to_vec(),
            Layout::Navii => NAVII_COLUMNS.to_vec(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Layout::Wam => "WAM NET 障害福祉サービス等情報公表システム",
            Layout::Kaigo => "介護サービス情報公表システム",
            Layout::Navii => "医療情報ネット（ナビイ）施設票",
        }
    }
}

fn whole(reason: String) -> RowError {
    RowError { row: 1, field: String::new(), reason }
}

/// Read an official file (UTF-8 text; the caller decodes CP932): `each(row, result)` per row
/// that is kept, returning false to stop.
pub fn read(
    places: &Places,
    layout: Layout,
    reader: impl std::io::Read,
    opts: &ReadOptions,
    found: &mut Findings,
    each: &mut dyn FnMut(usize, RowResult) -> bool,
) -> Result<(), RowError> {
    let Some(date) = opts.source_date else {
        return Err(whole(format!(
            "{} files do not say the date their data describes: give it (--source-date YYYY-MM-DD, or \
             source_date=), as the download page states it (e.g. 2025-03-31)",
            layout.title()
        )));
    };
    if layout == Layout::Navii && !matches!(opts.kind, Some(Kind::Hospital | Kind::Clinic)) {
        return Err(whole(
            "医療情報ネット files are one kind each: give --kind hospital (01-1 病院) or clinic (02-1 診療所)".into(),
        ));
    }
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut rec = csv::StringRecord::new();
    if !rdr.read_record(&mut rec).map_err(|e| whole(e.to_string()))? {
        return Err(whole("the file is empty".into()));
    }
    let header: Vec<String> = rec.iter().map(|h| h.trim().trim_start_matches('\u{FEFF}').to_string()).collect();
    let required = layout.columns();
    let missing: Vec<&str> = required.iter().copied().filter(|c| !header.iter().any(|h| h == c)).collect();
    if !missing.is_empty() {
        return Err(RowError {
            row: 1,
            field: missing.join(", "),
            reason: format!(
                "not a {} file: the header lacks {}; expected the columns {}",
                layout.title(),
                missing.join(", "),
                required.join(", ")
            ),
        });
    }
    let optional: &[&str] = match layout {
        Layout::Wam => &[],
        Layout::Kaigo => &KAIGO_OPTIONAL,
        Layout::Navii => &NAVII_OPTIONAL,
    };
    let index: BTreeMap<&str, usize> =
        required.iter().chain(optional).filter_map(|c| header.iter().position(|h| h == c).map(|i| (*c, i))).collect();
    let g = places.gazetteer;
    let mut coverage = Coverage { date: Some(date), ..Coverage::default() };
    let mut row = 1;
    loop {
        row += 1;
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(RowError { row, field: String::new(), reason: e.to_string() });
            }
            Err(e) => {
                if !each(row, Err(vec![RowError { row, field: String::new(), reason: format!("unreadable row: {e}") }]))
                {
                    break;
                }
                continue;
            }
        }
        let cell = |c: &str| -> String {
            let raw = index.get(c).and_then(|i| rec.get(*i)).unwrap_or("");
            raw.chars().filter(|ch| !ch.is_control()).collect::<String>().trim().to_string()
        };
        let outcome = match layout {
            Layout::Wam => wam_row(row, &cell, date, places),
            Layout::Kaigo => kaigo_row(row, &cell, date, places),
            Layout::Navii => navii_row(row, &cell, date, opts.kind.unwrap_or(Kind::Hospital), places),
        };
        let result = match outcome {
            Outcome::Skip(reason) => {
                *found.skipped.entry(reason).or_default() += 1;
                continue;
            }
            Outcome::Row(r) => r,
        };
        let result = result.and_then(|(v, scope)| {
            let r = lenient(places, row, v, &mut found.notes)?;
            let prefecture = g.municipality(r.municipality_code).map(|m| m.prefecture_code).unwrap_or(0);
            coverage.source_name = r.source.name.clone();
            coverage.prefix = scope.0;
            if let Some(s) = scope.1 {
                coverage.suffixes.insert(s);
            }
            coverage.prefectures.insert(prefecture);
            Ok(r)
        });
        if !each(row, result) {
            break;
        }
    }
    if !coverage.source_name.is_empty() {
        found.coverage = Some(coverage);
    }
    Ok(())
}

/// The source-id prefix, and suffix if any, that a row's record falls under in the file's coverage.
type Scope = (String, Option<String>);

enum Outcome {
    Skip(String),
    /// The record as JSON, with its place in the file's coverage.
    Row(Result<(Value, Scope), Vec<RowError>>),
}

/// The served prefecture an address lies in, by its leading prefecture name; `Err(name)` with
/// the prefecture it names otherwise.
fn served_prefecture(g: &Gazetteer, address: &str) -> Result<u8, String> {
    for m in g.municipalities() {
        if address.starts_with(m.prefecture.as_str()) {
            return Ok(m.prefecture_code);
        }
    }
    let named = ["都", "道", "府", "県"]
        .iter()
        .filter_map(|s| address.find(s).map(|i| &address[..i + s.len()]))
        .min_by_key(|p| p.len())
        .unwrap_or("")
        .to_string();
    Err(named)
}

fn outside(named: &str) -> Outcome {
    Outcome::Skip(if named.is_empty() {
        "outside the served prefectures (no prefecture in the address)".into()
    } else {
        format!("outside the served prefectures ({named})")
    })
}

fn number(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite() && *x != 0.0)
}

/// The record's place: the municipality from the address (down to the ward), the point as given.
fn place(
    places: &Places,
    row: usize,
    v: &mut Map<String, Value>,
    address: &str,
    lat: &str,
    lon: &str,
) -> Result<(), Vec<RowError>> {
    match crate::csv::place_address(places, address) {
        Ok((code, _)) => {
            v.insert("municipality_code".into(), json!(code));
        }
        Err(reason) => return Err(vec![RowError { row, field: "address".into(), reason }]),
    }
    if let (Some(a), Some(o)) = (number(lat), number(lon)) {
        v.insert("location".into(), json!({"lat": a, "lon": o}));
    }
    Ok(())
}

fn common(name: &str, kana: &str, kind: Kind, source: Value) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("name".into(), json!(name));
    if !kana.is_empty() {
        v.insert("name_kana".into(), json!(kana));
    }
    v.insert("kind".into(), json!(kind.code()));
    let sid = source["id"].as_str().unwrap_or_default().to_string();
    v.insert("id".into(), json!(ResourceId::from_source_id(&sid).to_string()));
    v.insert("source".into(), source);
    // A name carrying the sample mark is synthetic (test files), never a real facility.
    v.insert("sample".into(), json!(name.contains(SAMPLE_MARK)));
    v
}

fn wam_row(row: usize, cell: &dyn Fn(&str) -> String, date: NaiveDate, places: &Places) -> Outcome {
    let service = cell("サービス種別");
    let Some(kind) = wam_kind(&service) else {
        return Outcome::Skip(format!("a service tsunagu does not list ({service})"));
    };
    let address = format!("{}{}", cell("事業所住所（市区町村）"), cell("事業所住所（番地以降）"));
    if let Err(named) = served_prefecture(places.gazetteer, &address) {
        return outside(&named);
    }
    let number_of = cell("事業所番号");
    let name = cell("事業所の名称");
    let mut errs = Vec::new();
    if number_of.is_empty() {
        errs.push(RowError { row, field: "事業所番号".into(), reason: "is empty".into() });
    }
    if name.is_empty() {
        errs.push(RowError { row, field: "事業所の名称".into(), reason: "is empty".into() });
    }
    if !errs.is_empty() {
        return Outcome::Row(Err(errs));
    }
    let sid = format!("wam:{number_of}:{service}");
    let source = json!({"name": WAM_SOURCE, "id": sid, "url": WAM_URL, "date": date, "licence": WAM_LICENCE});
    let mut v = common(&name, &cell("事業所の名称_かな"), kind, source);
    if let Err(e) = place(places, row, &mut v, &address, &cell("事業所緯度"), &cell("事業所経度")) {
        return Outcome::Row(Err(e));
    }
    v.insert("address".into(), json!(address));
    let mut contact = Map::new();
    for (k, c) in [("phone", "事業所電話番号"), ("fax", "事業所FAX番号"), ("url", "事業所URL")] {
        let x = cell(c);
        if !x.is_empty() {
            contact.insert(k.into(), json!(x));
        }
    }
    v.insert("contact".into(), Value::Object(contact));
    if let Some(n) = cell("定員").parse::<u32>().ok().filter(|n| *n > 0) {
        v.insert("capacity".into(), json!({"total": n, "vacancies": null}));
    }
    let operator = cell("法人の名称");
    if !operator.is_empty() {
        let n = cell("法人番号");
        v.insert("operator".into(), json!({"name": operator, "corporate_number": (!n.is_empty()).then_some(n)}));
    }
    let mut hours = Vec::new();
    for (label, c) in [
        ("平日", "利用可能な時間帯（平日）"),
        ("土曜", "利用可能な時間帯（土曜）"),
        ("日曜", "利用可能な時間帯（日曜）"),
        ("祝日", "利用可能な時間帯（祝日）"),
    ] {
        let x = cell(c);
        if !x.is_empty() {
            hours.push(format!("{label} {x}"));
        }
    }
    for (label, c) in [("定休日：", "定休日"), ("", "利用可能曜日特記事項（留意事項）")] {
        let x = cell(c);
        if !x.is_empty() {
            hours.push(format!("{label}{x}"));
        }
    }
    if !hours.is_empty() {
        v.insert("hours_note".into(), json!(hours.join("／")));
    }
    Outcome::Row(Ok((Value::Object(v), ("wam:".into(), Some(format!(":{service}"))))))
}

fn kaigo_row(row: usize, cell: &dyn Fn(&str) -> String, date: NaiveDate, places: &Places) -> Outcome {
    let service = cell("サービスの種類");
    let Some((kind, code)) = kaigo_kind(&service) else {
        return Outcome::Skip(format!("a service tsunagu does not list ({service})"));
    };
    let (pref, city, mut street) = (cell("都道府県名"), cell("市区町村名"), cell("住所"));
    // Some rows repeat the prefecture (「長野県長野県長野市…」).
    while !pref.is_empty() && street.starts_with(&format!("{pref}{pref}")) {
        street = street[pref.len()..].to_string();
    }
    // 住所 is sometimes the whole address and sometimes only what follows the municipality.
    let address = if street.starts_with(pref.as_str()) && !pref.is_empty() {
        street.clone()
    } else if street.starts_with(city.as_str()) && !city.is_empty() {
        format!("{pref}{street}")
    } else {
        format!("{pref}{city}{street}")
    };
    if let Err(named) = served_prefecture(places.gazetteer, &address) {
        return outside(&named);
    }
    let number_of = cell("事業所番号");
    let name = cell("事業所名");
    if number_of.is_empty() || name.is_empty() {
        let field = if name.is_empty() { "事業所名" } else { "事業所番号" };
        return Outcome::Row(Err(vec![RowError { row, field: field.into(), reason: "is empty".into() }]));
    }
    let prefix = format!("mhlw-kaigo-{code}:");
    let sid = format!("{prefix}{number_of:0>10}");
    let source = json!({"name": kaigo_source(code, &service), "id": sid, "url": "https://www.kaigokensaku.mhlw.go.jp/",
                        "date": date, "licence": MHLW_LICENCE});
    let mut v = common(&name, &cell("事業所名カナ"), kind, source);
    if let Err(e) = place(places, row, &mut v, &address, &cell("緯度"), &cell("経度")) {
        return Outcome::Row(Err(e));
    }
    v.insert("address".into(), json!(address));
    let mut contact = Map::new();
    for (k, c) in [("phone", "電話番号"), ("fax", "FAX番号"), ("url", "URL")] {
        let x = cell(c);
        if !x.is_empty() {
            contact.insert(k.into(), json!(x));
        }
    }
    v.insert("contact".into(), Value::Object(contact));
    if let Some(n) = cell("定員").parse::<u32>().ok().filter(|n| *n > 0) {
        v.insert("capacity".into(), json!({"total": n, "vacancies": null}));
    }
    let operator = cell("法人の名称");
    if !operator.is_empty() {
        let n = cell("法人番号");
        v.insert("operator".into(), json!({"name": operator, "corporate_number": (!n.is_empty()).then_some(n)}));
    }
    let days =
        [cell("利用可能曜日"), cell("利用可能曜日特記事項")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
    if !days.is_empty() {
        v.insert("hours_note".into(), json!(days.join("／")));
    }
    Outcome::Row(Ok((Value::Object(v), (prefix, None))))
}

fn navii_row(row: usize, cell: &dyn Fn(&str) -> String, date: NaiveDate, kind: Kind, places: &Places) -> Outcome {
    let address = cell("所在地");
    if let Err(named) = served_prefecture(places.gazetteer, &address) {
        return outside(&named);
    }
    let (id, name) = (cell("ID"), cell("正式名称"));
    if id.is_empty() || name.is_empty() {
        let field = if name.is_empty() { "正式名称" } else { "ID" };
        return Outcome::Row(Err(vec![RowError { row, field: field.into(), reason: "is empty".into() }]));
    }
    let (prefix, source_name) = navii_source(kind);
    let sid = format!("{prefix}:{id:0>13}");
    let source = json!({"name": source_name, "id": sid, "url": "https://www.iryou.teikyouseido.mhlw.go.jp/",
                        "date": date, "licence": MHLW_LICENCE});
    let mut v = common(&name, &cell("正式名称（フリガナ）"), kind, source);
    if let Err(e) = place(places, row, &mut v, &address, &cell("所在地座標（緯度）"), &cell("所在地座標（経度）"))
    {
        return Outcome::Row(Err(e));
    }
    v.insert("address".into(), json!(address));
    let url = cell("案内用ホームページアドレス");
    v.insert("contact".into(), if url.is_empty() { json!({}) } else { json!({"url": url}) });
    Outcome::Row(Ok((Value::Object(v), (format!("{prefix}:"), None))))
}

/// Make the record, leaving out optional values an official file got wrong (each counted in
/// `notes`) instead of losing the facility; anything else wrong is the row's error.
fn lenient(
    places: &Places,
    row: usize,
    mut v: Value,
    notes: &mut BTreeMap<String, u64>,
) -> Result<Resource, Vec<RowError>> {
    const DROPPABLE: [(&str, &str); 5] = [
        ("contact/phone", "an unusable phone number was left out"),
        ("contact/fax", "an unusable FAX number was left out"),
        ("contact/url", "an unusable URL was left out"),
        ("operator/corporate_number", "a 法人番号 that is not 13 digits was left out"),
        ("location", "coordinates outside the municipality were left out"),
    ];
    for _ in 0..DROPPABLE.len() + 1 {
        let r = Resource::from_json(v.clone()).and_then(|r| {
            let errs = places.check(&r);
            if errs.is_empty() { Ok(r) } else { Err(errs) }
        });
        let errs = match r {
            Ok(r) => return Ok(r),
            Err(errs) => errs,
        };
        let mut dropped = false;
        for e in &errs {
            if let Some((field, note)) = DROPPABLE.iter().find(|(f, _)| e.field == *f) {
                let mut parts = field.split('/');
                let (a, b) = (parts.next().unwrap_or_default(), parts.next());
                match b {
                    Some(b) => {
                        if let Some(obj) = v.get_mut(a).and_then(Value::as_object_mut) {
                            obj.remove(b);
                        }
                    }
                    None => {
                        v.as_object_mut().map(|o| o.remove(a));
                    }
                }
                *notes.entry((*note).to_string()).or_default() += 1;
                dropped = true;
            }
        }
        if !dropped {
            return Err(errs
                .into_iter()
                .map(|e| RowError {
                    row,
                    field: e.field.split('/').next().unwrap_or_default().to_string(),
                    reason: e.reason,
                })
                .collect());
        }
    }
    Err(vec![RowError { row, field: String::new(), reason: "the row could not be made valid".into() }])
}

/// An official row replaces only what the official source owns. Everything the centre or a
/// provider added (care types, description, nurse schedule, vacancies, private notes, the
/// confirmation date, departments the file lacks) is kept from the stored record, so importing
/// next year's file never wipes a survey's answers.
pub fn merge(stored: &Resource, incoming: Resource) -> Resource {
    let mut r = stored.clone().without_timestamps();
    r.name = incoming.name;
    r.name_kana = incoming.name_kana.or(r.name_kana);
    r.kind = incoming.kind;
    r.address = incoming.address.or(r.address);
    r.postal_code = incoming.postal_code.or(r.postal_code);
    r.municipality_code = incoming.municipality_code;
    r.location = incoming.location.or(r.location);
    r.contact.phone = incoming.contact.phone.or(r.contact.phone);
    r.contact.fax = incoming.contact.fax.or(r.contact.fax);
    r.contact.url = incoming.contact.url.or(r.contact.url);
    if let Some(total) = incoming.capacity.and_then(|c| c.total) {
        let vacancies = r.capacity.and_then(|c| c.vacancies).filter(|v| *v <= total);
        r.capacity = Some(tsunagu_model::Capacity { total: Some(total), vacancies });
    }
    r.operator = incoming.operator.or(r.operator);
    r.hours_note = incoming.hours_note.or(r.hours_note);
    if !incoming.departments.is_empty() {
        r.departments = incoming.departments;
    }
    // The source's own say, with "not listed" cleared: the file lists it again.
    r.source = incoming.source;
    r.sample = incoming.sample;
    r
}

/// How `sweep` marks a record a full list no longer has: in the list's coverage, of a data date
/// no newer than the list's, and not marked yet.
pub fn not_listed(coverage: &Coverage, g: &'static Gazetteer) -> impl Fn(&Resource) -> Option<Resource> + Send + Sync {
    let coverage = coverage.clone();
    move |r: &Resource| {
        let prefecture = g.municipality(r.municipality_code).map_or(0, |m| m.prefecture_code);
        let id = r.source.id.as_deref()?;
        if r.source.not_listed_since.is_some() || !coverage.covers(&r.source.name, id, prefecture) {
            return None;
        }
        let date = coverage.date?;
        if r.source.date.is_some_and(|d| d > date) {
            return None;
        }
        let mut marked = r.clone().without_timestamps();
        marked.source.not_listed_since = Some(date);
        Some(marked)
    }
}

/// A data date written into an official file's name (`…_20250601.csv`).
pub fn date_in_file_name(name: &str) -> Option<NaiveDate> {
    let digits: Vec<&str> = name.split(|c: char| !c.is_ascii_digit()).filter(|d| d.len() == 8).collect();
    digits.last().and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
}

/// The kind a 医療情報ネット file's name says (`01-1_hospital…` / `02-1_clinic…`).
pub fn kind_in_file_name(name: &str) -> Option<Kind> {
    if name.contains("hospital") || name.starts_with("01-1") {
        Some(Kind::Hospital)
    } else if name.contains("clinic") || name.starts_with("02-1") {
        Some(Kind::Clinic)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_file(layout: Layout, bytes: &[u8], opts: &ReadOptions) -> (Vec<(usize, RowResult)>, Findings) {
        let format = match layout {
            Layout::Wam => crate::Format::Wam,
            Layout::Kaigo => crate::Format::Kaigo,
            Layout::Navii => crate::Format::Navii,
        };
        let (rows, info) = crate::read_all_with(&tsunagu_places::Places::bundled(), format, bytes, opts).unwrap();
        (rows, info.findings)
    }

    fn dated(d: &str) -> ReadOptions {
        ReadOptions { source_date: Some(d.parse().unwrap()), kind: None }
    }

    #[test]
    fn the_wam_sample_imports_four_rows_by_the_facility_address_and_skips_the_fukuoka_one() {
        let bytes = include_bytes!("../../../tests/data/wam_sample_layout.csv");
        let (rows, found) = read_file(Layout::Wam, bytes, &dated("2025-03-31"));
        let ok: Vec<Resource> = rows.into_iter().map(|(row, r)| r.unwrap_or_else(|e| panic!("{row}: {e:?}"))).collect();
        assert_eq!(ok.len(), 4);
        assert_eq!(found.skipped.get("outside the served prefectures (福岡県)"), Some(&1), "{found:?}");
        let g = Gazetteer::bundled();
        for r in &ok {
            let m = g.municipality(r.municipality_code).unwrap();
            assert_eq!(m.prefecture, "埼玉県", "{}", r.name);
            assert!(!r.sample && r.care_types.is_empty() && r.care_types_declined.is_empty());
            assert_eq!(r.source.date.unwrap().to_string(), "2025-03-31");
            assert!(r.source.id.as_deref().unwrap().starts_with("wam:"));
        }
        let karugamo = ok.iter().find(|r| r.name == "カルガモの家").unwrap();
        assert_eq!(karugamo.kind, Kind::MedicalDisabledChildResidential);
        assert_eq!(karugamo.municipality_code.to_string(), "11201", "川越市, by its own address");
        assert_eq!(karugamo.contact.phone.as_deref(), Some("0492295811"));
        assert_eq!(karugamo.capacity.and_then(|c| c.total), Some(41));
        assert_eq!(karugamo.operator.as_ref().unwrap().corporate_number.as_deref(), Some("2030005011979"));
        // ひまわり学園: the 法人 is in 浦和区, the 事業所 in 西区; it is placed at the 事業所.
        let himawari = ok.iter().find(|r| r.name.contains("ひまわり学園")).unwrap();
        assert_eq!(himawari.kind, Kind::HomeVisitChildDevelopmentSupport);
        assert_eq!(himawari.municipality_code.to_string(), "11101");
        assert_eq!(himawari.source.id.as_deref(), Some("wam:1156510248:居宅訪問型児童発達支援"));
        assert!(himawari.hours_note.as_deref().unwrap().contains("定休日：土日祝祭日及び年末年始"));
        let c = found.coverage.unwrap();
        assert_eq!(c.prefectures.iter().copied().collect::<Vec<_>>(), [11]);
        assert!(!c.covers(WAM_SOURCE, "wam:1:短期入所", 11), "a short-stay record is not in this file's scope");
        assert!(c.covers(WAM_SOURCE, "wam:1:医療型障害児入所施設", 11));
        assert!(!c.covers(WAM_SOURCE, "wam:1:医療型障害児入所施設", 20), "nor another prefecture's");
    }

    #[test]
    fn an_official_file_needs_its_date_and_a_file_of_another_layout_names_the_expected_columns() {
        let bytes = include_bytes!("../../../tests/data/wam_sample_layout.csv");
        let e = crate::read_all_with(
            &tsunagu_places::Places::bundled(),
            crate::Format::Wam,
            bytes,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.reason.contains("--source-date"), "{e}");
        let e =
            crate::read_all_with(&tsunagu_places::Places::bundled(), crate::Format::Kaigo, bytes, &dated("2025-06-01"))
                .unwrap_err();
        assert!(
            e.reason.contains("not a 介護サービス情報公表システム file") && e.reason.contains("サービスの種類"),
            "{e}"
        );
        let e = crate::read_all_with(
            &tsunagu_places::Places::bundled(),
            crate::Format::Wam,
            "名称,住所\nA,B\n".as_bytes(),
            &dated("2025-03-31"),
        )
        .unwrap_err();
        assert!(e.reason.contains("事業所番号") && e.reason.contains("expected the columns"), "{e}");
    }

    #[test]
    fn the_kaigo_layout_places_rows_whose_address_lacks_the_municipality_and_skips_other_prefectures() {
        let bytes = include_bytes!("../../../tests/data/jigyosho_760.csv");
        let (rows, found) = read_file(Layout::Kaigo, bytes, &dated("2025-06-01"));
        let ok: Vec<Resource> = rows.into_iter().map(|(row, r)| r.unwrap_or_else(|e| panic!("{row}: {e:?}"))).collect();
        assert_eq!(ok.len(), 3);
        assert_eq!(found.skipped.values().sum::<u64>(), 1, "{found:?}");
        let kita = ok.iter().find(|r| r.name.starts_with("コウダイ")).unwrap();
        assert_eq!(kita.municipality_code.to_string(), "11102", "住所 「櫛引町2-870」 lies in さいたま市北区");
        assert_eq!(kita.source.id.as_deref(), Some("mhlw-kaigo-760:1196501389"));
        assert!(ok.iter().all(|r| r.kind == Kind::RegularPatrolHomeCareNursing));
        let nagano = ok.iter().find(|r| r.name.contains("コスモス")).unwrap();
        assert_eq!(nagano.municipality_code.to_string(), "20201");
        // 訪問看護 (jigyosho_130) in the same layout; a synthetic row, so marked as a sample.
        let head = KAIGO_COLUMNS.join(",");
        let csv = format!(
            "{head}\n202029,1,長野県,松本市,【サンプル】架空訪問看護ステーション,カクウ,訪問看護,長野県松本市丸の内3-7,,36.238,137.972,000-000-0001,2090000001,,,,\n"
        );
        let (rows, _) = read_file(Layout::Kaigo, csv.as_bytes(), &dated("2025-06-01"));
        let r = rows[0].1.as_ref().unwrap();
        assert_eq!((r.kind, r.sample), (Kind::HomeNursing, true));
        assert_eq!(r.source.id.as_deref(), Some("mhlw-kaigo-130:2090000001"));
    }

    #[test]
    fn the_navii_layout_reads_hospitals_with_their_kind_from_the_file_name() {
        let name = "01-1_hospital_facility_info_20250601.csv";
        assert_eq!(kind_in_file_name(name), Some(Kind::Hospital));
        assert_eq!(date_in_file_name(name).unwrap().to_string(), "2025-06-01");
        let bytes = include_bytes!("../../../tests/data/01-1_hospital_facility_info_20250601.csv");
        let opts = ReadOptions { source_date: date_in_file_name(name), kind: kind_in_file_name(name) };
        let (rows, found) = read_file(Layout::Navii, bytes, &opts);
        let ok: Vec<Resource> = rows.into_iter().map(|(row, r)| r.unwrap_or_else(|e| panic!("{row}: {e:?}"))).collect();
        assert_eq!(ok.len(), 3);
        assert_eq!(found.skipped.values().sum::<u64>(), 1);
        let shinshu = ok.iter().find(|r| r.name == "信州大学医学部附属病院").unwrap();
        assert_eq!(shinshu.source.id.as_deref(), Some("mhlw-iryo-hospital:2011205900410"));
        assert_eq!(shinshu.municipality_code.to_string(), "20202");
        assert_eq!(shinshu.contact.phone, None, "the published layout has no phone numbers");
        let e =
            crate::read_all_with(&tsunagu_places::Places::bundled(), crate::Format::Navii, bytes, &dated("2025-06-01"))
                .unwrap_err();
        assert!(e.reason.contains("--kind"), "{e}");
    }

    #[test]
    fn merging_keeps_what_the_centre_added_and_takes_what_the_source_owns() {
        let bytes = include_bytes!("../../../tests/data/wam_sample_layout.csv");
        let (rows, _) = read_file(Layout::Wam, bytes, &dated("2025-03-31"));
        let fresh = rows.into_iter().find_map(|(_, r)| r.ok().filter(|r| r.name == "カルガモの家")).unwrap();
        let mut stored = fresh.clone();
        stored.care_types = [tsunagu_model::CareType::Ventilator].into_iter().collect();
        stored.description = "センター確認済み".into();
        stored.contact.phone = Some("049-000-0000".into());
        stored.source.not_listed_since = Some("2024-03-31".parse().unwrap());
        let merged = merge(&stored, fresh.clone());
        assert_eq!(merged.care_types, stored.care_types);
        assert_eq!(merged.description, "センター確認済み");
        assert_eq!(merged.contact.phone, fresh.contact.phone, "the source's phone replaces the old one");
        assert_eq!(merged.source.not_listed_since, None, "listed again");
    }
}
