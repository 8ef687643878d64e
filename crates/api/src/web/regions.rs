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

/// Colours for kinds on the map (cycled), chosen to stay apart for common colour-vision types.
const PALETTE: [&str; 8] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442"];

fn kind_colour(k: Kind) -> &'static str {
    PALETTE[k.index() % PALETTE.len()]
}

pub async fn index(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let suffix = super::lang_suffix(lang);
    let g = s.gazetteer;
    let mut by_pref: BTreeMap<(u8, &str), Vec<&Region>> = BTreeMap::new();
    for r in g.regions() {
        by_pref.entry((r.prefecture_code, r.prefecture.as_str())).or_default().push(r);
    }
    let body = html! {
        h1 { (lang.t("圏域ごとの支援資源と不足", "Resources and gaps by region")) }
        p { (lang.t(
            "障害保健福祉圏域ごとに、地図・ケア別の不足（0件のセル）・移動支援を確認できます。",
            "For each disability health and welfare region: a map, gaps by care type (zero cells) and transport."
        )) }
        @for ((_, pref), regions) in &by_pref {
            section {
                h2 { (pref) }
                ul {
                    @for r in regions {
                        li { a href=(format!("/regions/{}{suffix}", r.id)) { (r.name) (lang.t("圏域", " region")) } }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, page(lang, lang.t("圏域", "Regions"), &format!("/regions?{}", encode(&p)), body))
}

/// The records a region page's intent finds, every one of them (no paging, no relaxation).
pub(super) async fn every(s: &AppState, intent: SearchIntent) -> Result<Vec<Resource>, Problem> {
    let intent = SearchIntent {
        include_sample: s.config.serve_sample_data,
        group_sites: false,
        facets: false,
        relax: false,
        ..intent
    };
    let plan = s.planner.plan(intent).map_err(|e| Problem::internal(format!("region page plan: {e:?}")))?;
    let found = s.directory.run_all(&plan.request).await?;
    let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
    Ok(s.directory.store.get_many(&ids).await?)
}

/// Every live, served resource located in the region.
async fn resources_in(s: &AppState, codes: &[MunicipalityCode]) -> Result<Vec<Resource>, Response> {
    every(s, SearchIntent { municipalities: codes.to_vec(), ..SearchIntent::default() })
        .await
        .map_err(|p| (StatusCode::INTERNAL_SERVER_ERROR, p.detail).into_response())
}

/// Transport services whose service area covers a municipality's office.
async fn transport_covering(s: &AppState, code: MunicipalityCode) -> Vec<Resource> {
    let Some(place) = s.planner.places().geocoder.municipality_place(code) else { return Vec::new() };
    let intent = SearchIntent {
        place: Some(PlaceAsked::Resolved(place)),
        covers: true,
        kinds: Some(vec![Kind::Transport]),
        ..SearchIntent::default()
    };
    every(s, intent).await.unwrap_or_default()
}

/// Members of a region as shown in its tables: wards instead of their designated city.
fn columns(g: &Gazetteer, region: &Region) -> Vec<MunicipalityCode> {
    g.region_codes(region)
        .into_iter()
        .filter(|c| g.municipality(*c).is_some_and(|m| g.municipalities().iter().all(|w| w.parent != Some(m.code))))
        .collect()
}

/// Counts: care type → municipality → resources confirming it.
fn gaps(resources: &[Resource], cols: &[MunicipalityCode]) -> Vec<(CareType, Vec<usize>)> {
    CareType::ALL
        .iter()
        .map(|c| {
            let counts = cols
                .iter()
                .map(|m| resources.iter().filter(|r| r.municipality_code == *m && r.care_types.contains(*c)).count())
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
    let cols = columns(g, region);
    let resources = match resources_in(&s, &cols).await {
        Ok(r) => r.into_iter().filter(|r| kind.is_none_or(|k| r.kind == k)).collect::<Vec<_>>(),
        Err(res) => return res,
    };
    let table = gaps(&resources, &cols);
    let mut transport = Vec::new();
    for c in &cols {
        transport.push((*c, transport_covering(&s, *c).await));
    }
    let suffix = if lang.en { "&lang=en" } else { "" };
    let name = |c: MunicipalityCode| g.municipality(c).map_or_else(|| c.to_string(), |m| m.name.clone());
    let label = |c: CareType| if lang.en { c.labels().en } else { c.labels().ja };
    let title = format!("{}{}", region.name, lang.t("圏域", " region"));
    let counts_for_choice: BTreeMap<MunicipalityCode, usize> = match chosen {
        Some(c) => {
            let row = table.iter().find(|(t, _)| *t == c).map(|(_, v)| v.clone()).unwrap_or_default();
            cols.iter().copied().zip(row).collect()
        }
        None => BTreeMap::new(),
    };
    let kinds_present: Vec<Kind> =
        Kind::ALL.iter().copied().filter(|k| resources.iter().any(|r| r.kind == *k)).collect();
    let body = html! {
        h1 { (region.prefecture) " " (title) }
        p { (lang.t("資源の数：", "Resources: ")) (resources.len())
            " · " a href="/regions" { (lang.t("圏域の一覧", "All regions")) } }
        section aria-labelledby="map-h" {
            h2 #map-h { (lang.t("地図", "Map")) }
            form method="get" action=(format!("/regions/{}", region.id)) {
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
                @if lang.en { input type="hidden" name="lang" value="en"; }
                " " button type="submit" { (lang.t("表示", "Show")) }
            }
            (map(g, s.planner.places().boundaries, &cols, &resources, chosen.map(|_| &counts_for_choice), lang, &title))
            @if chosen.is_some() {
                p.meta { span.swatch style="background:#f4c7c3" {} " 0 " (lang.t("件（不足）", "(gap)")) " · "
                         span.swatch style="background:#c6dbef" {} " 1–2 · "
                         span.swatch style="background:#6baed6" {} " 3+" }
            } @else {
                ul.legend aria-label=(lang.t("凡例", "Legend")) {
                    @for k in &kinds_present {
                        li { span.swatch style=(format!("background:{}", kind_colour(*k))) {} " " (if lang.en { k.labels().en } else { k.labels().ja }) }
                    }
                }
            }
        }
        section aria-labelledby="gap-h" {
            h2 #gap-h { (lang.t("ケア別の資源数（0＝不足）", "Resources by care type (0 = gap)")) }
            @if let Some(k) = kind { p { (lang.t("資源の種類：", "Kind: ")) strong { (if lang.en { k.labels().en } else { k.labels().ja }) } } }
            p { a href=(format!("/regions/{}/gaps.csv{}", region.id, kind.map_or(String::new(), |k| format!("?kind={}", k.code())))) download { (lang.t("表をCSVでダウンロード", "Download this table as CSV")) } }
            div.scroll {
                table.gaps {
                    caption { (lang.t("その市町村にあり、そのケアに対応すると確認できた資源の数", "Resources located in the municipality that confirm they accept the care type")) }
                    thead { tr { th scope="col" { (lang.t("ケア", "Care")) } @for c in &cols { th scope="col" { (name(*c)) } } } }
                    tbody {
                        @for (care, counts) in &table {
                            tr {
                                th scope="row" { a href=(format!("/regions/{}?care={}{}{suffix}", region.id, care.code(), kind.map_or(String::new(), |k| format!("&kind={}", k.code())))) { (label(*care)) } }
                                @for n in counts {
                                    @if *n == 0 { td.zero { "0" } } @else { td { (n) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="tr-h" {
            h2 #tr-h { (lang.t("市町村をカバーする移動支援", "Transport covering each municipality")) }
            p { a href=(format!("/regions/{}/transport.csv", region.id)) download { (lang.t("CSVでダウンロード", "Download as CSV")) } }
            dl.facts {
                @for (c, list) in &transport {
                    dt { (name(*c)) }
                    dd {
                        @if list.is_empty() { span.zero { (lang.t("なし", "none")) } }
                        @else {
                            @for (i, r) in list.iter().enumerate() {
                                @if i > 0 { "、" }
                                a href=(format!("/resources/{}", r.id)) { (r.name) }
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

fn map(
    g: &Gazetteer,
    b: &Boundaries,
    cols: &[MunicipalityCode],
    resources: &[Resource],
    shade: Option<&BTreeMap<MunicipalityCode, usize>>,
    lang: Lang,
    title: &str,
) -> Markup {
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
    let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
    let k = MAP_W / ((max_lon - min_lon) * kx);
    let proj = Projection { min_lon, max_lat, k, kx };
    let height = ((max_lat - min_lat) * k).ceil();
    let mut svg = String::new();
    for (code, shape) in &shapes {
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
        let fill = match shade.and_then(|m| m.get(code)) {
            Some(0) => "#f4c7c3",
            Some(1..=2) => "#c6dbef",
            Some(_) => "#6baed6",
            None => "#f3f3ee",
        };
        let name = g.municipality(*code).map_or_else(String::new, |m| m.name.clone());
        let count = shade.and_then(|m| m.get(code)).map_or(String::new(), |n| format!(": {n}"));
        let _ = write!(
            svg,
            "<path d=\"{d}\" fill=\"{fill}\" stroke=\"#666\" stroke-width=\"0.8\"><title>{}{}</title></path>",
            maud::html! { (name) }.into_string(),
            count
        );
    }
    if shade.is_none() {
        for r in resources {
            if let Some(p) = r.location {
                let (x, y) = proj.xy(p.lon(), p.lat());
                let _ = write!(
                    svg,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.8\"><title>{}</title></circle>",
                    kind_colour(r.kind),
                    maud::html! { (r.name) }.into_string()
                );
            }
        }
    }
    html! {
        figure.map {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {MAP_W} {height}")) role="img"
                aria-label=(format!("{} {}", title, lang.t("の地図", "map"))) {
                (PreEscaped(svg))
            }
        }
    }
}

fn csv_response(name: &str, body: String) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
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

pub async fn gaps_csv(State(s): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let g = s.gazetteer;
    let Some(region) = find_region(g, &id) else { return no_region(&id) };
    let p = pairs(raw.as_deref());
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
    let cols = columns(g, region);
    let resources = match resources_in(&s, &cols).await {
        Ok(r) => r.into_iter().filter(|r| kind.is_none_or(|k| r.kind == k)).collect::<Vec<_>>(),
        Err(res) => return res,
    };
    let mut out = String::from("care_type,ケア");
    for c in &cols {
        let _ = write!(out, ",{}", csv_cell(&format!("{} {}", c, g.municipality(*c).map_or("", |m| m.name.as_str()))));
    }
    out.push('\n');
    for (care, counts) in gaps(&resources, &cols) {
        let _ = write!(out, "{},{}", care.code(), csv_cell(care.labels().ja));
        for n in counts {
            let _ = write!(out, ",{n}");
        }
        out.push('\n');
    }
    csv_response(&format!("gaps-{}.csv", region.id), out)
}

pub async fn transport_csv(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let g = s.gazetteer;
    let Some(region) = find_region(g, &id) else { return no_region(&id) };
    let mut out = String::from("municipality_code,市区町村,resource_id,名称,電話番号,sample\n");
    for c in columns(g, region) {
        let name = g.municipality(c).map_or("", |m| m.name.as_str()).to_string();
        for r in transport_covering(&s, c).await {
            let _ = writeln!(
                out,
                "{c},{},{},{},{},{}",
                csv_cell(&name),
                r.id,
                csv_cell(&r.name),
                csv_cell(r.contact.phone.as_deref().unwrap_or("")),
                r.sample
            );
        }
    }
    csv_response(&format!("transport-{}.csv", region.id), out)
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
