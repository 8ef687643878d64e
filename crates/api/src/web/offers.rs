//! Two pages that are not "near me", and what a record page says of its own shape:
//!
//! - `/programmes`: 「使える制度をしらべる」 — where the family lives and, if they wish, the child's
//!   age, care and certificates; the programmes for that municipality, those that fit first, each
//!   with what it gives and how to apply;
//! - `/training`: 「研修の日程」 — sessions still to come for an audience, a course type and a
//!   圏域, with a feed to subscribe to;
//! - [`details`]: a programme's eligibility and application, a course's sessions, a power point's
//!   equipment, on the record's page.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use maud::{Markup, html};
use tsunagu_directory::offers::{ProgrammeMatch, SessionEntry};
use tsunagu_model::details::{Fit, Session, japan_date, jst};
use tsunagu_model::{Audience, CareType, Certificate, CourseType, Device, Resource};

use super::{Lang, checkbox_options, html_response, lang_of, lang_suffix, page, problem_text, tel, value, values};
use crate::AppState;
use crate::params::Params;
use crate::problem::Problem;

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// 「2027年1月20日（水）13:30〜16:00」 / "Wed 20 Jan 2027, 13:30–16:00" (Japan time).
pub fn session_when(lang: Lang, s: &Session) -> String {
    let (a, b) = (s.starts_at.with_timezone(&jst()), s.ends_at.with_timezone(&jst()));
    let same_day = a.date_naive() == b.date_naive();
    if lang.en {
        let end = if same_day { b.format("%H:%M").to_string() } else { b.format("%a %-d %b %H:%M").to_string() };
        format!("{}–{end}", a.format("%a %-d %b %Y, %H:%M"))
    } else {
        let day = |d: &DateTime<FixedOffset>| {
            format!(
                "{}年{}月{}日（{}）",
                d.year(),
                d.month(),
                d.day(),
                WEEKDAYS_JA[d.weekday().num_days_from_monday() as usize]
            )
        };
        let end = if same_day { b.format("%H:%M").to_string() } else { format!("{}{}", day(&b), b.format("%H:%M")) };
        format!("{}{}〜{end}", day(&a), a.format("%H:%M"))
    }
}

fn today() -> chrono::NaiveDate {
    japan_date(Utc::now())
}

/// Seats and deadline, in a few words.
fn seats_line(lang: Lang, s: &Session) -> String {
    let mut parts = Vec::new();
    match (s.seats_left, s.capacity) {
        (Some(0), _) => parts.push(lang.t3("満席", "せきが いっぱい", "Full").to_string()),
        (Some(l), Some(c)) => parts.push(if lang.en {
            format!("{l} of {c} seats left")
        } else {
            format!("残り{l}席（定員{c}人）")
        }),
        (Some(l), None) => parts.push(if lang.en { format!("{l} seats left") } else { format!("残り{l}席") }),
        (None, Some(c)) => parts.push(if lang.en { format!("{c} seats") } else { format!("定員{c}人") }),
        (None, None) => {}
    }
    if let Some(d) = s.apply_by {
        parts.push(if d < today() {
            lang.t("申込は締め切りました", "Applications closed").to_string()
        } else if lang.en {
            format!("apply by {}", d.format("%-d %b %Y"))
        } else {
            format!("申込締切：{}月{}日", d.month(), d.day())
        });
    }
    parts.join(lang.t("・", " · "))
}

fn where_line(lang: Lang, s: &Session) -> String {
    match (&s.venue, s.online) {
        (Some(v), true) => format!("{v}{}", lang.t("／オンライン", " / online")),
        (Some(v), false) => v.clone(),
        (None, true) => lang.t("オンライン", "Online").to_string(),
        (None, false) => String::new(),
    }
}

fn to_check_words(lang: Lang, what: &str) -> &'static str {
    match what {
        "age" => lang.t3("年齢", "としの じょうけん", "age"),
        "care_types" => lang.t3("医療的ケアの種類", "ケアの しゅるい", "care needs"),
        "certificates" => lang.t3("手帳・受給者証", "てちょう・じゅきゅうしゃしょう", "certificates"),
        _ => lang.t3("対象の条件", "つかえる じょうけん", "eligibility"),
    }
}

fn fit_badge(lang: Lang, fit: &Fit) -> Markup {
    match fit {
        Fit::Fits => html! { span.badge.fits { (lang.t3("条件に合います", "つかえます", "You fit its conditions")) } },
        Fit::ToCheck(v) => {
            let words: Vec<&str> = v.iter().map(|w| to_check_words(lang, w)).collect();
            html! { span.badge.unconfirmed { (lang.t3("確認が必要：", "たしかめて ください：", "To check: ")) (words.join(lang.t("、", ", "))) } }
        }
        Fit::No(_) => html! {},
    }
}

/// A programme's conditions, benefit and application, for its card and its page.
fn programme_facts(lang: Lang, r: &Resource) -> Markup {
    let Some(p) = &r.programme else { return html! {} };
    let e = &p.eligibility;
    html! {
        dl.facts {
            dt { (lang.t3("内容", "もらえるもの・つかえるもの", "What it gives")) } dd { (p.benefit) }
            dt { (lang.t3("対象", "つかえる ひと", "Who")) }
            dd {
                ul {
                    @if let Some(a) = r.ages { li { (a.min_years) "–" (a.max_years) (lang.t("歳", " years")) } }
                    @if !e.care_types.is_empty() {
                        li { (lang.t("次のいずれかのケアが必要：", "Needs one of: "))
                            (e.care_types.iter().map(|c| lang.label(c.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                    }
                    @if !e.certificates.is_empty() {
                        li { (lang.t("次のいずれかがある：", "Holds one of: "))
                            (e.certificates.iter().map(|c| lang.label(c.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                    }
                    @if let Some(n) = &e.income_note { li { (n) } }
                    @if let Some(n) = &e.note { li { (n) } }
                    @if r.ages.is_none() && e.care_types.is_empty() && e.certificates.is_empty() && e.note.is_none() {
                        li { (lang.t("条件の記載はありません（窓口でご確認ください）", "No conditions stated (ask the window)")) }
                    }
                }
            }
            dt { (lang.t3("申し込み", "もうしこみ", "How to apply")) }
            dd {
                (p.apply.window)
                @if let Some(ph) = &p.apply.phone { " · " a.tel.nowrap href=(format!("tel:{}", tel(ph))) { (ph) } }
                @if !p.apply.documents.is_empty() {
                    br; (lang.t("持ち物：", "Bring: ")) (p.apply.documents.join(lang.t("、", ", ")))
                }
                @if let Some(d) = &p.apply.deadline { br; (lang.t("期限：", "Deadline: ")) (d) }
            }
            @if let Some(u) = p.official_url.as_ref().or(r.contact.url.as_ref()) {
                dt { (lang.t("公式ページ", "Official page")) } dd { a href=(u) rel="noopener" { (u) } }
            }
        }
    }
}

/// What a record page shows of a programme, a course or a power point.
pub fn details(lang: Lang, r: &Resource) -> Markup {
    let now = Utc::now();
    html! {
        @if r.programme.is_some() {
            section.offer {
                h2 { (lang.t3("制度の内容", "せいどの ないよう", "About the programme")) }
                (programme_facts(lang, r))
                p.meta { (lang.t(
                    "対象になるかどうかは、最後は窓口が判断します。申し込む前に確認してください。",
                    "The window decides who qualifies: check with them before you apply."
                )) }
            }
        }
        @if let Some(t) = &r.training {
            section.offer {
                h2 { (lang.t3("研修の日程", "けんしゅうの ひにち", "Sessions")) }
                p { (lang.label(t.course.labels())) (lang.t("・主催：", " · organised by ")) (t.organiser) }
                p { (lang.t("対象：", "For: ")) (t.audience.iter().map(|a| lang.label(a.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                @let coming: Vec<&Session> = t.sessions.iter().filter(|s| s.is_upcoming(now)).collect();
                @if coming.is_empty() {
                    p { (lang.t("これからの日程はありません。", "No sessions to come.")) }
                } @else {
                    ul.sessions {
                        @for s in &coming {
                            li {
                                strong.nowrap { (session_when(lang, s)) }
                                @if let Some(n) = &s.note { " " (n) }
                                br; (where_line(lang, s))
                                br; (seats_line(lang, s))
                            }
                        }
                    }
                }
                @if let Some(h) = &t.how_to_apply { p { (lang.t("申込方法：", "How to apply: ")) (h) } }
                @if let Some(f) = &t.fee { p { (lang.t("費用：", "Fee: ")) (f) } }
            }
        }
        @if let Some(pw) = &r.power_supply {
            section.offer {
                h2 { (lang.t3("電源の設備", "でんきの せつび", "Power equipment")) }
                dl.facts {
                    dt { (lang.t("使えると回答した機器", "Devices it says it can power")) }
                    dd {
                        @if pw.devices.is_empty() { (lang.t("回答なし（電話でご確認ください）", "Not stated (call first)")) }
                        @else { (pw.devices.iter().map(|d| lang.label(d.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                    }
                    @if let Some(n) = pw.outlets { dt { (lang.t("使えるコンセント", "Outlets")) } dd { (n) (lang.t("口", "")) } }
                    @if let Some(ev) = pw.ev { dt { (lang.t("EVからの給電", "Power from an EV")) } dd { (if ev { lang.t("あり", "Yes") } else { lang.t("なし", "No") }) } }
                    @if let Some(w) = pw.generator_watts { dt { (lang.t("発電機・蓄電池の出力", "Generator / battery output")) } dd { (w) " W" } }
                    @if let Some(n) = &pw.note { dt { (lang.t("注意", "Note")) } dd { (n) } }
                }
            }
        }
    }
}

/// The query as the API's parser wants it.
pub(super) fn params(p: &[(String, String)], allowed: &[&str]) -> Params {
    Params::from_pairs(p.iter().filter(|(k, v)| k != "lang" && !v.is_empty()), allowed)
}

pub async fn programmes(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = super::pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/programmes?{}", super::encode(&p));
    let title = lang.t3("使える制度をしらべる", "つかえる せいどを しらべる", "Programmes you can use");
    let asked = value(&p, "near").is_some_and(|v| !v.trim().is_empty());
    let outcome: Option<Result<(String, Vec<ProgrammeMatch>), Problem>> = if asked {
        // The page's form asks by place name only (no lat/lon).
        let asked = params(&p, &["near", "age", "care_types", "certificates"]);
        let answer = crate::routes::programmes::answer(&s, asked).await;
        Some(answer.map(|(place, found)| {
            let name = place.municipality_code.and_then(|c| s.gazetteer.display_name(c)).unwrap_or_default();
            (name, found)
        }))
    } else {
        None
    };
    let care: Vec<&str> = values(&p, "care_types");
    let certs: Vec<&str> = values(&p, "certificates");
    let status = super::answer_status(&outcome);
    let body = html! {
        h1 { (title) }
        p { (lang.t3(
            "制度は、住んでいる市町村で決まります（近さでは決まりません）。お子さんの年齢やケア、手帳を入れると、合うものから順に出ます。入れなくてもさがせます。",
            "せいどは すんでいる まちで きまります。こどもの としや ケア、てちょうを いれると、あう ものから でます。",
            "Programmes depend on where you live, not on distance. Add your child's age, care and certificates to see those that fit first; you may leave them out."
        )) }
        form.search.programmes action="/programmes" method="get" {
            @if lang.en { input type="hidden" name="lang" value="en"; }
            label.main for="near" { (lang.t3("住んでいる市町村・住所・郵便番号", "すんでいる ところ", "Where you live (municipality, address or postal code)")) }
            input #near type="text" name="near" required value=(value(&p, "near").unwrap_or("")) placeholder=(lang.t("例：松本市", "e.g. Matsumoto"));
            label for="age" { (lang.t3("お子さんの年齢（歳）", "こどもの とし", "Child's age (years)")) }
            input #age type="number" name="age" min="0" max="40" inputmode="numeric" value=(value(&p, "age").unwrap_or(""));
            // Closed, so that the answer starts on a phone's first screen; it says what is set.
            details {
                summary {
                    (lang.t3("ケアと手帳（任意）", "ケアと てちょう（なくても よい）", "Care and certificates (optional)"))
                    @if !care.is_empty() || !certs.is_empty() {
                        (if lang.en { format!(" ({} set)", care.len() + certs.len()) } else { format!("（{}件設定中）", care.len() + certs.len()) })
                    }
                }
                (checkbox_options(lang, lang.t("必要な医療的ケア", "Care needed"), "care_types", "pc", CareType::ALL.iter().map(|c| c.labels()), &care))
                (checkbox_options(lang, lang.t("持っている手帳・受給者証", "Certificates held"), "certificates", "pcert", Certificate::ALL.iter().map(|c| c.labels()), &certs))
                label for="pcert-none" {
                    input #pcert-none type="checkbox" name="certificates" value="none" checked[certs.contains(&"none")];
                    " " (lang.t3("手帳・受給者証は持っていない", "てちょうは もって いない", "None of these"))
                }
            }
            button type="submit" { (lang.t3("しらべる", "しらべる", "Look up")) }
        }
        @match &outcome {
            None => {}
            Some(Err(problem)) => p.error role="alert" { (problem_text(lang, problem)) },
            Some(Ok((name, found))) => {
                h2 { (if lang.en {
                    format!("Programmes for residents of {name}: {}", found.len())
                } else if lang.easy {
                    format!("{name}に すんでいる ひとが つかえる せいど：{}けん", found.len())
                } else {
                    format!("{name}に住んでいる人が使える制度：{}件", found.len())
                }) }
                @if found.is_empty() {
                    p { (lang.t("登録されている制度はありません。市町村の窓口か、医療的ケア児支援センターにご相談ください。", "No programme on record. Ask the municipality or the support centre.")) }
                }
                ol.cards {
                    @for m in found {
                        li.card {
                            h3 {
                                @if m.resource.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                                a href=(format!("/resources/{}{}", m.resource.id, lang_suffix(lang))) { (m.resource.name) }
                            }
                            (fit_badge(lang, &m.fit))
                            (programme_facts(lang, &m.resource))
                        }
                    }
                }
                p.meta { (lang.t(
                    "対象になるかどうかは、最後は窓口が判断します。申し込む前に確認してください。",
                    "The window decides who qualifies: check with them before you apply."
                )) }
            }
        }
    };
    html_response(status, page(lang, title, &here, body))
}

pub async fn training(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = super::pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/training?{}", super::encode(&p));
    let title = lang.t3("研修の日程", "けんしゅうの ひにち", "Training sessions");
    let mut q = params(&p, &["audience", "course", "region", "open"]);
    let query = crate::routes::training::query_of(&s, &mut q);
    let outcome: Result<Vec<SessionEntry>, Problem> = match q.finish() {
        Ok(()) => crate::routes::training::entries(&s, &query).await,
        Err(problem) => Err(problem),
    };
    let status = match &outcome {
        Err(problem) => StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST),
        Ok(_) => StatusCode::OK,
    };
    let feed =
        format!("{}{}", s.config.public_url.trim_end_matches('/'), crate::routes::training::calendar_path(&query));
    let webcal = feed.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1);
    let audience = value(&p, "audience").unwrap_or("");
    let course = value(&p, "course").unwrap_or("");
    let region = query.region.clone().unwrap_or_default();
    let body = html! {
        h1 { (title) }
        p { (lang.t3(
            "医療的ケアに関わる研修の、これからの日程です。終わった回は表示しません。",
            "これからの けんしゅうの ひにちです。おわった ものは でません。",
            "Courses on medical care, sessions to come. Past sessions are not shown."
        )) }
        form.search.training action="/training" method="get" {
            @if lang.en { input type="hidden" name="lang" value="en"; }
            div.filters {
                label for="t-audience" { (lang.t("対象", "For")) }
                select #t-audience name="audience" {
                    option value="" { (lang.t("すべて", "Anyone")) }
                    @for a in Audience::ALL { option value=(a.code()) selected[audience == a.code()] { (lang.label(a.labels())) } }
                }
                label for="t-region" { (lang.t("圏域", "Region")) }
                select #t-region name="region" {
                    option value="" { (lang.t("すべて", "All")) }
                    @for r in s.gazetteer.regions() {
                        option value=(r.id) selected[region == r.id] {
                            (super::region_label(lang, r))
                        }
                    }
                }
                label for="t-course" { (lang.t("研修の種類", "Course")) }
                select #t-course name="course" {
                    option value="" { (lang.t("すべて", "Any")) }
                    @for c in CourseType::ALL { option value=(c.code()) selected[course == c.code()] { (lang.label(c.labels())) } }
                }
                label.check for="t-open" {
                    input #t-open type="checkbox" name="open" value="true" checked[value(&p, "open") == Some("true")];
                    " " (lang.t("申し込めるものだけ", "Still taking applications"))
                }
            }
            button type="submit" { (lang.t3("さがす", "さがす", "Show")) }
        }
        section.subscribe aria-labelledby="sub-h" {
            h2 #sub-h { (lang.t("カレンダーで受け取る", "Subscribe in your calendar")) }
            p { (lang.t(
                "この条件の日程を、カレンダーアプリに登録できます。新しい日程は自動で追加されます。",
                "Add these sessions to a calendar app; new ones appear by themselves."
            )) }
            p {
                a.button href=(webcal) { (lang.t("カレンダーに登録", "Subscribe")) }
                " "
                a href=(feed) { (lang.t("iCalendar（.ics）のURL", "iCalendar (.ics) address")) }
            }
        }
        @match &outcome {
            Err(problem) => p.error role="alert" { (problem_text(lang, problem)) },
            Ok(found) => {
                h2 { (if lang.en { format!("{} sessions", found.len()) } else { format!("{}件の日程", found.len()) }) }
                @if found.is_empty() { p { (lang.t("この条件の日程はありません。", "No sessions match.")) } }
                ol.cards.sessions {
                    @for e in found {
                        @let t = e.resource.training.as_ref().expect("sessions come from courses");
                        li.card {
                            p.when { strong { (session_when(lang, &e.session)) } }
                            h3 {
                                @if e.resource.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                                a href=(format!("/resources/{}{}", e.resource.id, lang_suffix(lang))) { (e.resource.name) }
                                @if let Some(n) = &e.session.note { " " small { (n) } }
                            }
                            p { (lang.label(t.course.labels())) (lang.t("・主催：", " · ")) (t.organiser) }
                            p { (lang.t("対象：", "For: ")) (t.audience.iter().map(|a| lang.label(a.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                            p { (where_line(lang, &e.session)) }
                            p class=(if e.session.open_for_applications(today()) { "seats" } else { "seats closed" }) { (seats_line(lang, &e.session)) }
                        }
                    }
                }
            }
        }
    };
    html_response(status, page(lang, title, &here, body))
}

/// What a power point says of the devices a family brings, in a line.
pub fn devices_line(lang: Lang, m: &tsunagu_model::details::DeviceMatch) -> String {
    let names = |v: &[Device]| v.iter().map(|d| lang.label(d.labels())).collect::<Vec<_>>().join(lang.t("・", ", "));
    let mut parts = Vec::new();
    if !m.supported.is_empty() {
        parts.push(format!("{}{}", names(&m.supported), lang.t("：使えると回答", ": says it can power")));
    }
    if !m.unknown.is_empty() {
        parts.push(format!("{}{}", names(&m.unknown), lang.t("：要確認", ": ask first")));
    }
    if m.too_few_outlets {
        parts.push(lang.t("コンセントが足りない可能性", "may have too few outlets").to_string());
    }
    if m.over_capacity {
        parts.push(lang.t("発電機の出力が足りない可能性", "generator may be too small").to_string());
    }
    parts.join(lang.t("／", " / "))
}

/// A line or two on a result card: a programme's benefit, a course's next session, what a power
/// point can power.
pub fn card_lines(lang: Lang, r: &Resource) -> Markup {
    let now = Utc::now();
    html! {
        @if let Some(p) = &r.programme { p.meta { (lang.t("内容：", "Gives: ")) (p.benefit) } }
        @if let Some(s) = r.training.as_ref().and_then(|t| t.sessions.iter().find(|s| s.is_upcoming(now))) {
            p.meta { (lang.t("次回：", "Next: ")) span.nowrap { (session_when(lang, s)) } " · " (seats_line(lang, s)) }
        }
        @if let Some(pw) = &r.power_supply {
            p.meta {
                (lang.t("使えると回答した機器：", "Says it can power: "))
                @if pw.devices.is_empty() { (lang.t("回答なし", "not stated")) }
                @else { (pw.devices.iter().map(|d| lang.label(d.labels())).collect::<Vec<_>>().join(lang.t("、", ", "))) }
                @if let Some(n) = pw.outlets { (if lang.en { format!(" · {n} outlets") } else { format!("・コンセント{n}口") }) }
                @if pw.ev == Some(true) { (lang.t("・EV給電あり", " · EV power")) }
            }
        }
    }
}
