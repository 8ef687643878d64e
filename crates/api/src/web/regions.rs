//! The coordinator view: for each 障害保健福祉圏域 a map drawn server-side as SVG from the bundled
//! municipality boundaries (no tile server), resources as points coloured by kind, a gap table
//! (care type × municipality: resources that confirm they accept it; zero cells marked), a
//! choropleth for one care type, the transport services covering each municipality, and CSV
//! downloads of the tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use tsunagu_directory::{PlaceAsked, SearchIntent};
use tsunagu_model::{CareType, Kind, MunicipalityCode, Resource};
use tsunagu_places::{Boundaries, Gazetteer, Region};

use super::{Lang, encode, html_response, lang_of, page, pairs, value};
use crate::AppState;
use crate::problem::Problem;

/// Colours for kinds on the map, chosen to stay apart for common colour-vision types; with four
/// shapes they make 32 distinct markers.
const PALETTE: [&str; 8] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442"];

pub async fn index(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let suffix = super::lang_suffix(lang);
    let g = s.gazetteer;
    let mut by_pref: BTreeMap<u8, Vec<&Region>> = BTreeMap::new();
    for r in g.regions() {
        by_pref.entry(r.prefecture_code).or_default().push(r);
    }
    let body = html! {
        h1 { (lang.t("圏域ごとの支援資源と不足", "Resources and gaps by region")) }
        p { (lang.t(
            "障害保健福祉圏域ごとに、地図・ケア別の不足（0件のセル）・移動支援を確認できます。",
            "For each disability health and welfare region: a map, gaps by care type (zero cells) and transport."
        )) }
        @for regions in by_pref.values() {
            section {
                h2 { (super::prefecture_label(lang, g, regions[0])) }
                ul {
                    @for r in regions {
                        li { a href=(format!("/regions/{}{suffix}", r.id)) { (super::region_label(lang, r)) } }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, lang.t("圏域", "Regions"), &format!("/regions?{}", encode(&p)), body))
}

/// The records a region page's intent finds, every one of them (no paging, no relaxation).
pub(super) async fn every(s: &AppState, intent: SearchIntent) -> Result<Vec<Resource>, Problem> {
    let intent = SearchIntent { include_sample: s.config.serve_sample_data, ..intent };
    s.directory.all_of(&s.planner, intent).await.map_err(|e| match e {
        tsunagu_directory::FindError::Plan(p) => Problem::internal(format!("region page plan: {p:?}")),
        tsunagu_directory::FindError::Directory(d) => d.into(),
    })
}

/// Every live, served resource located in the region.
async fn resources_in(s: &AppState, codes: &[MunicipalityCode]) -> Result<Vec<Resource>, Response> {
    every(s, SearchIntent { municipalities: codes.to_vec(), ..SearchIntent::default() })
        .await
        .map_err(|p| (StatusCode::INTERNAL_SERVER_ERROR, p.detail).into_response())
}

/// Resources of `kind` (any kind when `None`) whose service area covers a municipality's office
/// point — they come to people who live there.
async fn covering(s: &AppState, code: MunicipalityCode, kind: Option<Kind>) -> Vec<Resource> {
    let Some(place) = s.planner.places().geocoder.municipality_place(code) else { return Vec::new() };
    let intent = SearchIntent {
        place: Some(PlaceAsked::Resolved(place)),
        covers: true,
        kinds: kind.map(|k| vec![k]),
        ..SearchIntent::default()
    };
    every(s, intent).await.unwrap_or_default()
}

/// Transport services whose service area covers a municipality's office.
async fn transport_covering(s: &AppState, code: MunicipalityCode) -> Vec<Resource> {
    covering(s, code, Some(Kind::Transport)).await
}

/// For each column, the resources that serve it: those located in it, and those whose service
/// area covers it (a visiting nurse, a transport service), each once.
async fn serving(
    s: &AppState,
    cols: &[MunicipalityCode],
    located: &[Resource],
    kind: Option<Kind>,
) -> Vec<Vec<Resource>> {
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let mut here: Vec<Resource> = located.iter().filter(|r| r.municipality_code == *c).cloned().collect();
        for r in covering(s, *c, kind).await {
            if !here.iter().any(|h| h.id == r.id) {
                here.push(r);
            }
        }
        out.push(here);
    }
    out
}

/// Which count a gap table (and the map's shading) is read by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Basis {
    /// Resources that serve the municipality: located there or coming to it (the default).
    Serves,
    /// Resources located in the municipality.
    Located,
}

impl Basis {
    fn of(v: Option<&str>) -> Option<Basis> {
        match v {
            None | Some("serves") => Some(Basis::Serves),
            Some("located") => Some(Basis::Located),
            Some(_) => None,
        }
    }
    fn code(self) -> &'static str {
        match self {
            Basis::Serves => "serves",
            Basis::Located => "located",
        }
    }
}

/// One cell of the gap table: resources confirming a care type that serve the municipality, and
/// those of them located in it.
#[derive(Clone, Copy, Default)]
struct Cell {
    serves: usize,
    located: usize,
}

impl Cell {
    fn by(self, b: Basis) -> usize {
        match b {
            Basis::Serves => self.serves,
            Basis::Located => self.located,
        }
    }
}

/// Members of a region as shown in its tables: wards instead of their designated city.
fn columns(g: &Gazetteer, region: &Region) -> Vec<MunicipalityCode> {
    g.region_codes(region)
        .into_iter()
        .filter(|c| g.municipality(*c).is_some_and(|m| g.municipalities().iter().all(|w| w.parent != Some(m.code))))
        .collect()
}

/// Counts: care type → municipality → resources confirming it (serving, located).
fn gaps(serving: &[Vec<Resource>], cols: &[MunicipalityCode]) -> Vec<(CareType, Vec<Cell>)> {
    CareType::ALL
        .iter()
        .map(|c| {
            let counts = cols
                .iter()
                .zip(serving)
                .map(|(m, list)| {
                    let confirming = list.iter().filter(|r| r.care_types.contains(*c));
                    let (mut serves, mut located) = (0, 0);
                    for r in confirming {
                        serves += 1;
                        located += usize::from(r.municipality_code == *m);
                    }
                    Cell { serves, located }
                })
                .collect();
            (*c, counts)
        })
        .collect()
}

fn find_region<'a>(g: &'a Gazetteer, id: &str) -> Option<&'a Region> {
    g.region_by_name(id)
}

pub async fn detail(State(s): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let g = s.gazetteer;
    let here = format!("/regions/{}?{}", super::utf8_path(&id), encode(&p));
    let Some(region) = find_region(g, &id) else {
        let body = html! { h1 { (lang.t("圏域が見つかりません", "No such region")) } p { a href="/regions" { (lang.t("圏域の一覧", "All regions")) } } };
        return html_response(StatusCode::NOT_FOUND, page(lang, lang.t("見つかりません", "Not found"), &here, body));
    };
    let chosen: Option<CareType> = value(&p, "care").and_then(|c| c.parse().ok());
    if value(&p, "care").is_some() && chosen.is_none() {
        let body = html! { p.error role="alert" { (lang.t("ケアの種類が正しくありません。", "Unknown care type.")) } };
        return html_response(StatusCode::BAD_REQUEST, page(lang, &region.name, &here, body));
    }
    let kind: Option<Kind> = value(&p, "kind").and_then(|k| k.parse().ok());
    if value(&p, "kind").is_some() && kind.is_none() {
        let body = html! { p.error role="alert" { (lang.t("資源の種類が正しくありません。", "Unknown kind.")) } };
        return html_response(StatusCode::BAD_REQUEST, page(lang, &region.name, &here, body));
    }
    let Some(basis) = Basis::of(value(&p, "count")) else {
        let body = html! { p.error role="alert" { (lang.t("数え方が正しくありません（serves または located）。", "Unknown count: serves or located.")) } };
        return html_response(StatusCode::BAD_REQUEST, page(lang, &region.name, &here, body));
    };
    let cols = columns(g, region);
    let resources = match resources_in(&s, &cols).await {
        Ok(r) => r.into_iter().filter(|r| kind.is_none_or(|k| r.kind == k)).collect::<Vec<_>>(),
        Err(res) => return res,
    };
    let serving = serving(&s, &cols, &resources, kind).await;
    let table = gaps(&serving, &cols);
    let mut transport = Vec::new();
    for c in &cols {
        transport.push((*c, transport_covering(&s, *c).await));
    }
    let name = |c: MunicipalityCode| {
        g.municipality(c).map_or_else(|| c.to_string(), |m| if lang.en { m.name_en.clone() } else { m.name.clone() })
    };
    let label = |c: CareType| if lang.en { c.labels().en } else { c.labels().ja };
    let title = super::region_label(lang, region);
    let counts_for_choice: BTreeMap<MunicipalityCode, usize> = match chosen {
        Some(c) => {
            let row = table.iter().find(|(t, _)| *t == c).map(|(_, v)| v.clone()).unwrap_or_default();
            cols.iter().copied().zip(row.into_iter().map(|cell| cell.by(basis))).collect()
        }
        None => BTreeMap::new(),
    };
    let kinds_present: Vec<Kind> =
        Kind::ALL.iter().copied().filter(|k| resources.iter().any(|r| r.kind == *k)).collect();
    // Links within this page keep the other choices.
    let view_href = |care: Option<CareType>, b: Basis| {
        let mut q: Vec<(String, String)> = Vec::new();
        if let Some(c) = care {
            q.push(("care".into(), c.code().into()));
        }
        if let Some(k) = kind {
            q.push(("kind".into(), k.code().into()));
        }
        if b != Basis::Serves {
            q.push(("count".into(), b.code().into()));
        }
        if lang.en {
            q.push(("lang".into(), "en".into()));
        }
        if q.is_empty() { format!("/regions/{}", region.id) } else { format!("/regions/{}?{}", region.id, encode(&q)) }
    };
    let csv_href = |name: &str, extra: &[(&str, &str)]| {
        let mut q: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if lang.en {
            q.push(("lang".into(), "en".into()));
        }
        if q.is_empty() {
            format!("/regions/{}/{name}", region.id)
        } else {
            format!("/regions/{}/{name}?{}", region.id, encode(&q))
        }
    };
    let mut gap_csv: Vec<(&str, &str)> = Vec::new();
    if let Some(k) = kind {
        gap_csv.push(("kind", k.code()));
    }
    if basis == Basis::Located {
        gap_csv.push(("count", "located"));
    }
    let mut gap_csv_sjis = gap_csv.clone();
    gap_csv_sjis.push(("encoding", "cp932"));
    let body = html! {
        h1 {
            @if lang.en { (title) ", " (super::prefecture_label(lang, g, region)) }
            @else { (region.prefecture) " " (title) }
        }
        p { (lang.t("資源の数：", "Resources: ")) (resources.len())
            " · " a href=(format!("/regions{}", super::lang_suffix(lang))) { (lang.t("圏域の一覧", "All regions")) } }
        section aria-labelledby="map-h" {
            h2 #map-h { (lang.t("地図", "Map")) }
            form.map-controls method="get" action=(format!("/regions/{}", region.id)) {
                label { (lang.t("ケアを選んで色分け：", "Shade by care type: ")) " "
                    select name="care" {
                        option value="" { (lang.t("（資源の種類ごとの点）", "(points by kind)")) }
                        @for c in CareType::ALL { option value=(c.code()) selected[chosen == Some(*c)] { (label(*c)) } }
                    }
                }
                " "
                label { (lang.t("資源の種類：", "Kind: ")) " "
                    select name="kind" {
                        option value="" { (lang.t("すべて", "All")) }
                        @for k in Kind::ALL { option value=(k.code()) selected[kind == Some(*k)] { (if lang.en { k.labels().en } else { k.labels().ja }) } }
                    }
                }
                " "
                label { (lang.t("数え方：", "Count: ")) " "
                    select name="count" {
                        option value="serves" selected[basis == Basis::Serves] { (lang.t("サービスが届く（所在＋訪問・送迎の範囲）", "Serves it (located or coming to it)")) }
                        option value="located" selected[basis == Basis::Located] { (lang.t("その市町村にある", "Located in it")) }
                    }
                }
                @if lang.en { input type="hidden" name="lang" value="en"; }
                " " button type="submit" { (lang.t("表示", "Show")) }
            }
            (map(g, s.planner.places().boundaries, &cols, &resources, chosen.map(|_| &counts_for_choice), lang, &title))
            @if chosen.is_some() {
                p.meta { span.swatch style="background:#f4c7c3" {} " 0 " (lang.t("件（不足）", "(gap)")) " · "
                         span.swatch style="background:#c6dbef" {} " 1–2 · "
                         span.swatch style="background:#6baed6" {} " 3+ · "
                         (match basis { Basis::Serves => lang.t("サービスが届く資源の数", "resources serving it"), Basis::Located => lang.t("所在する資源の数", "resources located in it") }) }
            } @else {
                ul.legend aria-label=(lang.t("凡例", "Legend")) {
                    @for k in &kinds_present {
                        li { (PreEscaped(marker_svg(*k))) " " (if lang.en { k.labels().en } else { k.labels().ja }) }
                    }
                }
            }
            p.meta { (lang.t("灰色は圏域の外の市町村です。", "Grey: municipalities outside the region.")) }
        }
        section aria-labelledby="gap-h" {
            h2 #gap-h { (lang.t("ケア別の資源数（0＝不足）", "Resources by care type (0 = gap)")) }
            @if let Some(k) = kind { p { (lang.t("資源の種類：", "Kind: ")) strong { (if lang.en { k.labels().en } else { k.labels().ja }) } } }
            p {
                (lang.t("数え方：", "Count: "))
                @if basis == Basis::Serves {
                    strong { (lang.t("サービスが届く", "serves it")) } " · " a href=(view_href(chosen, Basis::Located)) { (lang.t("所在で数える", "count by location")) }
                } @else {
                    a href=(view_href(chosen, Basis::Serves)) { (lang.t("サービスが届くで数える", "count what serves it")) } " · " strong { (lang.t("所在", "located in it")) }
                }
            }
            p {
                a href=(csv_href("gaps.csv", &gap_csv)) download { (lang.t("表をCSVでダウンロード（UTF-8）", "Download this table as CSV (UTF-8)")) }
                " · "
                a href=(csv_href("gaps.csv", &gap_csv_sjis)) download { (lang.t("Excel用（Shift_JIS）", "for older Excel (Shift_JIS)")) }
            }
            div.scroll {
                table.gaps {
                    caption { (lang.t(
                        "そのケアに対応すると確認できた資源の数。「届く」はその市町村にあるものと、訪問・送迎などのサービス範囲がその市町村に届くもの、「所在」はその市町村にあるものだけ。",
                        "Resources that confirm they accept the care type. \"Serves\": located in the municipality or with a service area reaching it (visits, transport); \"located\": located in it."
                    )) }
                    thead {
                        tr { th scope="col" rowspan="2" { (lang.t("ケア", "Care")) } @for c in &cols { th scope="colgroup" colspan="2" { (name(*c)) } } }
                        tr { @for _ in &cols { th scope="col" { (lang.t("届く", "Serves")) } th scope="col" { (lang.t("所在", "Located")) } } }
                    }
                    tbody {
                        @for (care, counts) in &table {
                            tr {
                                th scope="row" { a href=(view_href(Some(*care), basis)) { (label(*care)) } }
                                @for cell in counts {
                                    @for (b, n) in [(Basis::Serves, cell.serves), (Basis::Located, cell.located)] {
                                        @let class = match (b == basis, n == 0) { (true, true) => "zero", (true, false) => "basis", (false, _) => "other" };
                                        td class=(class) { (n) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="tr-h" {
            h2 #tr-h { (lang.t("市町村をカバーする移動支援", "Transport covering each municipality")) }
            p { a href=(csv_href("transport.csv", &[])) download { (lang.t("CSVでダウンロード（UTF-8）", "Download as CSV (UTF-8)")) }
                " · " a href=(csv_href("transport.csv", &[("encoding", "cp932")])) download { (lang.t("Excel用（Shift_JIS）", "for older Excel (Shift_JIS)")) } }
            dl.facts {
                @for (c, list) in &transport {
                    dt { (name(*c)) }
                    dd {
                        @if list.is_empty() { span.zero { (lang.t("なし", "none")) } }
                        @else {
                            @for (i, r) in list.iter().enumerate() {
                                @if i > 0 { "、" }
                                a href=(format!("/resources/{}{}", r.id, super::lang_suffix(lang))) { (r.name) }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, &title, &here, body))
}

/// Project lon/lat into the SVG box (equirectangular, scaled by cos(latitude)).
struct Projection {
    min_lon: f64,
    max_lat: f64,
    k: f64,
    kx: f64,
}

impl Projection {
    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.min_lon) * self.kx * self.k, (self.max_lat - lat) * self.k)
    }
}

const MAP_W: f64 = 640.0;

/// A kind's marker: one of 8 colours (Okabe–Ito, apart for common colour-vision types) and, for
/// every further 8 kinds, another shape, so that no two of the 25+ kinds look alike.
fn marker(k: Kind, x: f64, y: f64, r: f64) -> String {
    let colour = PALETTE[k.index() % PALETTE.len()];
    let style = format!("fill=\"{colour}\" stroke=\"#fff\" stroke-width=\"0.9\"");
    match (k.index() / PALETTE.len()) % 4 {
        0 => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" {style}/>"),
        1 => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" {style}/>",
            x - r,
            y - r,
            2.0 * r,
            2.0 * r
        ),
        2 => format!(
            "<path d=\"M{x:.1},{:.1}L{:.1},{:.1}L{:.1},{:.1}Z\" {style}/>",
            y - 1.2 * r,
            x + 1.1 * r,
            y + 0.9 * r,
            x - 1.1 * r,
            y + 0.9 * r
        ),
        _ => format!(
            "<path d=\"M{x:.1},{:.1}L{:.1},{y:.1}L{x:.1},{:.1}L{:.1},{y:.1}Z\" {style}/>",
            y - 1.3 * r,
            x + 1.3 * r,
            y + 1.3 * r,
            x - 1.3 * r
        ),
    }
}

/// A legend entry's marker, as a small inline SVG.
fn marker_svg(k: Kind) -> String {
    format!(
        "<svg class=\"marker\" width=\"16\" height=\"16\" viewBox=\"0 0 16 16\" aria-hidden=\"true\"><rect width=\"16\" height=\"16\" fill=\"#f3f3ee\"/>{}</svg>",
        marker(k, 8.0, 8.0, 5.0)
    )
}

fn path_of(proj: &Projection, shape: &geo::MultiPolygon<f64>) -> String {
    let mut d = String::new();
    for poly in &shape.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for (i, c) in ring.0.iter().enumerate() {
                let (x, y) = proj.xy(c.x, c.y);
                let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x, y);
            }
            d.push('Z');
        }
    }
    d
}

/// A length for the scale bar: a round number of km near a fifth of the map's width.
fn scale_km(km_per_px: f64) -> f64 {
    let target = km_per_px * MAP_W / 5.0;
    [1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0].into_iter().rfind(|k| *k <= target).unwrap_or(1.0)
}

fn map(
    g: &Gazetteer,
    b: &Boundaries,
    cols: &[MunicipalityCode],
    resources: &[Resource],
    shade: Option<&BTreeMap<MunicipalityCode, usize>>,
    lang: Lang,
    title: &str,
) -> Markup {
    use geo::{BoundingRect, InteriorPoint};
    let shapes: Vec<_> = cols.iter().filter_map(|c| b.shape(*c).map(|s| (*c, s))).collect();
    let coords = shapes.iter().flat_map(|(_, s)| s.0.iter().flat_map(|p| p.exterior().0.iter()));
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for c in coords {
        min_lon = min_lon.min(c.x);
        max_lon = max_lon.max(c.x);
        min_lat = min_lat.min(c.y);
        max_lat = max_lat.max(c.y);
    }
    if shapes.is_empty() || max_lon <= min_lon || max_lat <= min_lat {
        return html! { p { (lang.t("この圏域の地図データがありません。", "No map data for this region.")) } };
    }
    // A margin, so that the neighbours show around the region.
    let (pad_lon, pad_lat) = ((max_lon - min_lon) * 0.04, (max_lat - min_lat) * 0.04);
    let (min_lon, max_lon, min_lat, max_lat) =
        (min_lon - pad_lon, max_lon + pad_lon, min_lat - pad_lat, max_lat + pad_lat);
    let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
    let k = MAP_W / ((max_lon - min_lon) * kx);
    let proj = Projection { min_lon, max_lat, k, kx };
    let height = ((max_lat - min_lat) * k).ceil();
    let mut svg = String::new();
    // Neighbours (other 圏域, the other bundled prefecture) in grey, without labels.
    for (code, shape) in b.shapes() {
        if cols.contains(code) || g.municipalities().iter().any(|m| m.parent == Some(*code) && cols.contains(&m.code)) {
            continue;
        }
        let Some(rect) = shape.bounding_rect() else { continue };
        if rect.max().x < min_lon || rect.min().x > max_lon || rect.max().y < min_lat || rect.min().y > max_lat {
            continue;
        }
        let _ = write!(
            svg,
            "<path d=\"{}\" fill=\"#e2e2dc\" stroke=\"#b5b5ad\" stroke-width=\"0.6\"/>",
            path_of(&proj, shape)
        );
    }
    let mut labels = String::new();
    for (code, shape) in &shapes {
        let fill = match shade.and_then(|m| m.get(code)) {
            Some(0) => "#f4c7c3",
            Some(1..=2) => "#c6dbef",
            Some(_) => "#6baed6",
            None => "#fbfbf6",
        };
        let name = g
            .municipality(*code)
            .map_or_else(String::new, |m| if lang.en { m.name_en.clone() } else { m.name.clone() });
        let count = shade.and_then(|m| m.get(code)).map_or(String::new(), |n| format!(": {n}"));
        let escaped = maud::html! { (name) }.into_string();
        let _ = write!(
            svg,
            "<path d=\"{}\" fill=\"{fill}\" stroke=\"#555\" stroke-width=\"0.9\"><title>{escaped}{count}</title></path>",
            path_of(&proj, shape)
        );
        // The label at a point inside the largest part.
        let largest = shape.0.iter().max_by(|a, b| {
            use geo::Area;
            a.unsigned_area().partial_cmp(&b.unsigned_area()).unwrap_or(std::cmp::Ordering::Equal)
        });
        if let Some(pt) = largest.and_then(|p| p.interior_point()) {
            let (x, y) = proj.xy(pt.x(), pt.y());
            let _ = write!(
                labels,
                "<text x=\"{x:.1}\" y=\"{y:.1}\" class=\"muni\" text-anchor=\"middle\">{escaped}{count}</text>"
            );
        }
    }
    if shade.is_none() {
        for r in resources {
            if let Some(p) = r.location {
                let (x, y) = proj.xy(p.lon(), p.lat());
                let _ = write!(
                    svg,
                    "<g>{}<title>{}</title></g>",
                    marker(r.kind, x, y, 3.6),
                    maud::html! { (r.name) }.into_string()
                );
            }
        }
    }
    svg.push_str(&labels);
    // The scale bar, bottom left: 1° of latitude is 111.32 km.
    let km_per_px = 111.32 / k;
    let km = scale_km(km_per_px);
    let px = km / km_per_px;
    let (sx, sy) = (12.0, height - 14.0);
    let _ = write!(
        svg,
        "<g class=\"scale\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"22\" fill=\"#fff\" fill-opacity=\"0.8\"/>\
         <path d=\"M{sx:.1},{:.1}V{sy:.1}H{:.1}V{:.1}\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{km} km</text></g>",
        sx - 6.0,
        sy - 18.0,
        px + 12.0,
        sy - 5.0,
        sx + px,
        sy - 5.0,
        sx + px / 2.0,
        sy - 6.0
    );
    html! {
        figure.map {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {MAP_W} {height}")) role="img"
                aria-label=(format!("{} {}", title, lang.t("の地図", "map"))) {
                (PreEscaped(svg))
            }
        }
    }
}

/// How a CSV download is encoded: UTF-8 with a BOM (Excel then reads it as UTF-8), or
/// Shift_JIS (cp932) for older Excel; characters cp932 lacks become numeric references.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CsvEncoding {
    Utf8Bom,
    Cp932,
}

fn csv_encoding(p: &[(String, String)]) -> Result<CsvEncoding, Response> {
    match value(p, "encoding") {
        None | Some("utf-8" | "utf8") => Ok(CsvEncoding::Utf8Bom),
        Some("cp932" | "shift_jis" | "sjis") => Ok(CsvEncoding::Cp932),
        Some(_) => Err(Problem::invalid(vec![
            crate::problem::InvalidParam::param("encoding", "must be utf-8 or cp932").with_allowed(["utf-8", "cp932"]),
        ])
        .into_response()),
    }
}

/// A CSV attachment. `name` names the region and the filter (Japanese, sent as RFC 6266
/// `filename*`), `ascii` is the fallback for clients that read only `filename`.
fn csv_response(name: &str, ascii: &str, body: String, encoding: CsvEncoding) -> Response {
    let (bytes, ctype): (Vec<u8>, &str) = match encoding {
        CsvEncoding::Utf8Bom => {
            let mut b = "\u{feff}".as_bytes().to_vec();
            b.extend_from_slice(body.as_bytes());
            (b, "text/csv; charset=utf-8")
        }
        CsvEncoding::Cp932 => {
            let (b, _, _) = encoding_rs::SHIFT_JIS.encode(&body);
            (b.into_owned(), "text/csv; charset=shift_jis")
        }
    };
    let mut res = bytes.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A cell as a spreadsheet should read it: quoted when needed, and text that a spreadsheet would
/// run as a formula (= + - @ …) prefixed with `'`.
fn csv_cell(s: &str) -> String {
    let s = tsunagu_exchange::csv::neutralise(s);
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn no_region(id: &str) -> Response {
    Problem::not_found(format!("no region `{}`", tsunagu_model::codes::truncate(id, 30))).into_response()
}

/// `GET /regions/{id}/gaps.csv[?kind=][&count=serves|located][&lang=en][&encoding=cp932]`: the gap
/// table, one header row in the page's language, a row per care type and two columns (serves,
/// located) per municipality.
pub async fn gaps_csv(State(s): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let g = s.gazetteer;
    let Some(region) = find_region(g, &id) else { return no_region(&id) };
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let kind: Option<Kind> = match value(&p, "kind") {
        None => None,
        Some(k) => match k.parse() {
            Ok(k) => Some(k),
            Err(e) => {
                return Problem::invalid(vec![crate::problem::InvalidParam::param("kind", e.to_string())])
                    .into_response();
            }
        },
    };
    let Some(basis) = Basis::of(value(&p, "count")) else {
        return Problem::invalid(vec![
            crate::problem::InvalidParam::param("count", "must be serves or located")
                .with_allowed(["serves", "located"]),
        ])
        .into_response();
    };
    let encoding = match csv_encoding(&p) {
        Ok(e) => e,
        Err(res) => return res,
    };
    let cols = columns(g, region);
    let resources = match resources_in(&s, &cols).await {
        Ok(r) => r.into_iter().filter(|r| kind.is_none_or(|k| r.kind == k)).collect::<Vec<_>>(),
        Err(res) => return res,
    };
    let serving = serving(&s, &cols, &resources, kind).await;
    let muni = |c: MunicipalityCode| {
        g.municipality(c).map_or_else(|| c.to_string(), |m| if lang.en { m.name_en.clone() } else { m.name.clone() })
    };
    // The chosen count first for each municipality.
    let order = match basis {
        Basis::Serves => [Basis::Serves, Basis::Located],
        Basis::Located => [Basis::Located, Basis::Serves],
    };
    let mut out = String::from(lang.t("ケアコード,ケア", "care_type,care"));
    for c in &cols {
        for b in order {
            let what = match b {
                Basis::Serves => lang.t("届く", "serves"),
                Basis::Located => lang.t("所在", "located"),
            };
            let (open, close) = if lang.en { (" (", ")") } else { ("（", "）") };
            let _ = write!(out, ",{}", csv_cell(&format!("{c} {}{open}{what}{close}", muni(*c))));
        }
    }
    out.push_str("\r\n");
    for (care, counts) in gaps(&serving, &cols) {
        let _ = write!(out, "{},{}", care.code(), csv_cell(if lang.en { care.labels().en } else { care.labels().ja }));
        for cell in counts {
            for b in order {
                let _ = write!(out, ",{}", cell.by(b));
            }
        }
        out.push_str("\r\n");
    }
    let kind_ja = kind.map_or("全種類", |k| k.labels().ja);
    let name = match lang.en {
        false => format!(
            "{}圏域_ケア別資源数_{kind_ja}_{}.csv",
            region.name,
            if basis == Basis::Serves { "届く" } else { "所在" }
        ),
        true => format!("{}_region_gaps_{}_{}.csv", region.id, kind.map_or("all", |k| k.code()), basis.code()),
    };
    let ascii = format!("gaps-{}-{}-{}.csv", region.id, kind.map_or("all", |k| k.code()), basis.code());
    csv_response(&name, &ascii, out, encoding)
}

/// `GET /regions/{id}/transport.csv[?lang=en][&encoding=cp932]`: transport services covering each
/// municipality of the region, a header row in the page's language.
pub async fn transport_csv(State(s): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let g = s.gazetteer;
    let Some(region) = find_region(g, &id) else { return no_region(&id) };
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let encoding = match csv_encoding(&p) {
        Ok(e) => e,
        Err(res) => return res,
    };
    let mut out = String::from(lang.t(
        "市区町村コード,市区町村,資源ID,名称,電話番号,サンプル\r\n",
        "municipality_code,municipality,resource_id,name,phone,sample\r\n",
    ));
    for c in columns(g, region) {
        let name =
            g.municipality(c).map_or("", |m| if lang.en { m.name_en.as_str() } else { m.name.as_str() }).to_string();
        for r in transport_covering(&s, c).await {
            let sample = match (lang.en, r.sample) {
                (false, true) => "はい",
                (false, false) => "いいえ",
                (true, v) => {
                    if v {
                        "true"
                    } else {
                        "false"
                    }
                }
            };
            let _ = write!(
                out,
                "{c},{},{},{},{},{sample}\r\n",
                csv_cell(&name),
                r.id,
                csv_cell(&r.name),
                csv_cell(r.contact.phone.as_deref().unwrap_or("")),
            );
        }
    }
    let name = match lang.en {
        false => format!("{}圏域_移動支援.csv", region.name),
        true => format!("{}_region_transport.csv", region.id),
    };
    csv_response(&name, &format!("transport-{}.csv", region.id), out, encoding)
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("松本市"), "松本市");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("@SUM(A1),x"), "\"'@SUM(A1),x\"");
        assert_eq!(csv_cell("-2"), "'-2");
    }
}
