//! The provider's survey form (`/survey/{token}`), and the papers the centre prints: invitation
//! letters with a QR code, and blank questionnaires.
//!
//! The form needs no account: the token in its address opens exactly one record's form until the
//! deadline. It is server-rendered and works without JavaScript, Japanese by default, with
//! English (`?lang=en`) and やさしい日本語 (`?lang=easy`). Every problem is shown next to its field
//! in the form's language. A POST from another site is refused (its Origin is checked, and the
//! form carries a value only the page itself knows).

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use tsunagu_directory::survey::{self as sv, Opened, SurveyError};
use tsunagu_model::survey::{CareAnswer, Performer, SurveyAnswers};
use tsunagu_model::{AgeRange, CareType, Kind, Resource, TimeRange, TransportFeatures, Weekday, WeeklyHours};
use tsunagu_store::{Campaign, Invitation};

use super::html_response;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/survey/{token}", get(form).post(submit))
}

/// The form's language.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FormLang {
    Ja,
    En,
    /// やさしい日本語
    Easy,
}

impl FormLang {
    fn of(raw: Option<&str>) -> FormLang {
        let lang = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned());
        match lang.as_deref() {
            Some("en") => FormLang::En,
            Some("easy") => FormLang::Easy,
            _ => FormLang::Ja,
        }
    }
    fn t<'a>(self, ja: &'a str, en: &'a str, easy: &'a str) -> &'a str {
        match self {
            FormLang::Ja => ja,
            FormLang::En => en,
            FormLang::Easy => easy,
        }
    }
    fn html_lang(self) -> &'static str {
        if self == FormLang::En { "en" } else { "ja" }
    }
    fn query(self) -> &'static str {
        match self {
            FormLang::Ja => "",
            FormLang::En => "?lang=en",
            FormLang::Easy => "?lang=easy",
        }
    }
    fn care(self, c: CareType) -> &'static str {
        let l = c.labels();
        self.t(l.ja, l.en, l.easy_ja)
    }
    fn kind(self, k: Kind) -> &'static str {
        let l = k.labels();
        self.t(l.ja, l.en, l.easy_ja)
    }
    fn day(self, d: Weekday) -> &'static str {
        let l = d.labels();
        self.t(l.ja, l.en, l.easy_ja)
    }
    fn performer(self, p: Performer) -> &'static str {
        let (ja, en, easy) = p.labels();
        self.t(ja, en, easy)
    }
}

fn shell(lang: FormLang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                meta name="referrer" content="same-origin";
                title { (title) " — つなぐ tsunagu" }
                link rel="stylesheet" href="/assets/site.css";
            }
            body {
                header.site { span.brand { "つなぐ tsunagu" } }
                main #main { (body) }
            }
        }
    }
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

/// The page for a token that opens nothing: no name, no hint of which record it was for.
fn closed_page(lang: FormLang, e: &SurveyError) -> Response {
    let (status, ja, en, easy) = match e {
        SurveyError::Expired => (
            StatusCode::GONE,
            "回答の期限が過ぎました。回答したい場合は、医療的ケア児支援センターにお問い合わせください。",
            "The deadline for this survey has passed. To answer, please contact the support centre.",
            "こたえる きげんが すぎました。センターに れんらく してください。",
        ),
        SurveyError::Revoked => (
            StatusCode::GONE,
            "この回答用のリンクは使えなくなりました。新しいお知らせの用紙をご確認いただくか、センターにお問い合わせください。",
            "This link no longer works. Please use the newest letter, or contact the support centre.",
            "この リンクは つかえません。あたらしい てがみを みてください。",
        ),
        SurveyError::Reviewed => (
            StatusCode::OK,
            "ご回答ありがとうございました。センターで確認済みのため、これ以上の変更はできません。変更はセンターにご連絡ください。",
            "Thank you. The centre has reviewed your answers, so they can no longer be changed here; please contact the centre.",
            "ありがとうございました。センターが たしかめました。かえたい ときは センターに れんらく してください。",
        ),
        SurveyError::Store(_) | SurveyError::Directory(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ただいま表示できません。しばらくしてからもう一度お試しください。",
            "This page cannot be shown right now. Please try again later.",
            "いまは ひらけません。あとで もういちど ためして ください。",
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "このアドレスの回答フォームは見つかりません。お知らせの用紙のQRコードかアドレスをご確認ください。",
            "No survey form has this address. Please check the QR code or the address on your letter.",
            "この アドレスの フォームは ありません。てがみの QRコードを みてください。",
        ),
    };
    let title =
        lang.t("医療的ケアの受け入れ状況調査", "Survey of medical care acceptance", "いりょうてきケアの しらべ");
    let body = html! { h1 { (title) } p.notice { (lang.t(ja, en, easy)) } };
    no_store(html_response(status, shell(lang, title, body)))
}

/// A value only a page rendered by this server for this token carries.
fn form_key(token: &str) -> String {
    sv::token_hash(&format!("form:{}", sv::token_hash(token)))
}

/// Failed token lookups per client: a guesser gets a 429 long before a token could be found.
pub struct TokenLimits {
    inner: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<std::time::Instant>>>,
}

impl Default for TokenLimits {
    fn default() -> Self {
        TokenLimits { inner: std::sync::Mutex::new(std::collections::HashMap::new()) }
    }
}

/// Failed lookups allowed per client per 10 minutes.
pub const FAILED_LOOKUPS: usize = 20;
const WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

impl TokenLimits {
    fn blocked(&self, client: &str) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        g.retain(|_, q| {
            while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                q.pop_front();
            }
            !q.is_empty()
        });
        g.get(client).is_some_and(|q| q.len() >= FAILED_LOOKUPS)
    }
    fn failed(&self, client: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.entry(client.to_string()).or_default().push_back(std::time::Instant::now());
    }
}

/// The client, for rate limits (see [`crate::clients`]; "unknown" for in-process requests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts.extensions.get::<crate::clients::Client>().map_or_else(|| "unknown".into(), |c| c.key().to_string()),
        ))
    }
}

async fn opened(s: &AppState, token: &str, client: &str, lang: FormLang) -> Result<Opened, Response> {
    if s.token_limits.blocked(client) {
        let body = html! {
            h1 { (lang.t("しばらくお待ちください", "Please wait", "しばらく まって ください")) }
            p.notice { (lang.t("誤ったアドレスでのアクセスが続いたため、10分ほど受け付けを止めています。", "Too many wrong addresses were tried; please try again in about 10 minutes.", "まちがった アドレスが おおかったので、10ぷん まって ください。")) }
        };
        let mut res = html_response(StatusCode::TOO_MANY_REQUESTS, shell(lang, "429", body));
        res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("600"));
        return Err(no_store(res));
    }
    match sv::open(s.directory.store.as_ref(), token).await {
        Ok(o) if s.config.serves(&o.record) => Ok(o),
        Ok(_) => {
            s.token_limits.failed(client);
            Err(closed_page(lang, &SurveyError::NotFound("invitation")))
        }
        Err(e) => {
            if matches!(e, SurveyError::NotFound(_)) {
                s.token_limits.failed(client);
            }
            Err(closed_page(lang, &e))
        }
    }
}

async fn form(
    State(s): State<AppState>,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
    ClientIp(client): ClientIp,
) -> Response {
    let lang = FormLang::of(raw.as_deref());
    let o = match opened(&s, &token, &client, lang).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    if o.response.as_ref().is_some_and(|r| matches!(r.status.as_str(), "accepted" | "rejected")) {
        return closed_page(lang, &SurveyError::Reviewed);
    }
    let _ = s.directory.store.mark_opened(&o.invitation.id, chrono::Utc::now()).await;
    let answers: SurveyAnswers = o
        .response
        .as_ref()
        .and_then(|r| serde_json::from_value(r.answers.clone()).ok())
        .unwrap_or_else(|| prefill(&o.record));
    let message = o.response.as_ref().map(|r| r.status.as_str());
    no_store(html_response(StatusCode::OK, form_page(lang, &token, &o, &answers, &BTreeMap::new(), message, None)))
}

/// The record's current state as answers, so the provider changes what is wrong.
fn prefill(r: &Resource) -> SurveyAnswers {
    let mut a = SurveyAnswers::default();
    for c in CareType::ALL {
        let st = r.care_statements.get(c);
        if r.care_types.contains(*c) {
            a.care.insert(*c, CareAnswer::Can { by: st.map(|s| s.performers.clone()).unwrap_or_default() });
        } else if r.care_types_conditional.contains(*c) {
            a.care.insert(*c, CareAnswer::Conditional { note: st.and_then(|s| s.note.clone()).unwrap_or_default() });
        } else if r.care_types_declined.contains(*c) {
            a.care.insert(*c, CareAnswer::Cannot);
        }
    }
    if !r.nurse_schedule.is_empty() {
        a.nurse_schedule = Some(r.nurse_schedule.clone());
    }
    if !r.opening_hours.is_empty() {
        a.opening_hours = Some(r.opening_hours.clone());
    }
    a.ages = r.ages;
    a.transport = r.transport;
    a.phone = r.contact.phone.clone();
    a
}

fn hours_text(h: Option<&WeeklyHours>, d: Weekday) -> String {
    h.and_then(|h| h.0.get(&d))
        .map(|v| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// Messages by field name (`care.<code>`, `nurse.<day>`, `vacancies`, …), in the form's language.
type Errors = BTreeMap<String, String>;

fn field_error(errors: &Errors, name: &str) -> Markup {
    html! {
        @if let Some(e) = errors.get(name) {
            p.error id=(format!("err-{name}")) role="alert" { (e) }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    lang: FormLang,
    token: &str,
    o: &Opened,
    a: &SurveyAnswers,
    errors: &Errors,
    status: Option<&str>,
    saved: Option<&str>,
) -> Markup {
    let r = &o.record;
    let title =
        lang.t("医療的ケアの受け入れ状況調査", "Survey of medical care acceptance", "いりょうてきケアの しらべ");
    let action = format!("/survey/{token}{}", lang.query());
    let here = format!("/survey/{token}");
    let is_transport = r.kind == Kind::Transport;
    html! {
        (shell(lang, title, html! {
            nav.langs aria-label="Language" {
                a href=(here.clone()) lang="ja" { "日本語" } " · "
                a href=(format!("{here}?lang=easy")) lang="ja" { "やさしい にほんご" } " · "
                a href=(format!("{here}?lang=en")) lang="en" { "English" }
            }
            h1 { (title) }
            p.meta { (o.campaign.name) }
            section.card {
                h2 { (r.name) }
                p.meta { (lang.kind(r.kind)) @if let Some(addr) = &r.address { " · " (addr) } }
                p {
                    (lang.t("回答の期限：", "Answer by: ", "きげん："))
                    (o.campaign.deadline)
                }
                p { (lang.t(
                    "この事業所で対応できる医療的ケアを教えてください。ご家族が支援を探すときに使われます。分からない項目は「わからない」のままで構いません。",
                    "Please tell us which medical care your service can take. Families use this to find support. Leave anything you are unsure of as \u{201c}don't know\u{201d}.",
                    "あなたの ところで できる いりょうてきケアを おしえて ください。わからない ものは「わからない」で だいじょうぶです。")) }
            }
            @if let Some(msg) = saved {
                p.notice role="status" { (msg) }
            } @else if status == Some("submitted") {
                p.notice role="status" { (lang.t("提出済みです。センターが確認するまでは、変更して再提出できます。", "Submitted. Until the centre reviews it you can change it and submit again.", "だしました。センターが みるまでは かえられます。")) }
            } @else if status == Some("draft") {
                p.notice role="status" { (lang.t("下書きが保存されています。", "A draft is saved.", "したがきが あります。")) }
            }
            @if !errors.is_empty() {
                div.error role="alert" {
                    p { (lang.t("入力を確認してください：", "Please check these answers:", "ここを なおして ください：")) }
                    ul { @for (field, msg) in errors { li { a href=(format!("#f-{field}")) { (msg) } } } }
                }
            }
            form.survey method="post" action=(action) {
                input type="hidden" name="form_key" value=(form_key(token));
                h2 { (lang.t("医療的ケア", "Medical care", "いりょうてきケア")) }
                @for c in CareType::ALL {
                    @let name = format!("care.{}", c.code());
                    @let current = a.care.get(c);
                    fieldset.care-q id=(format!("f-{name}")) {
                        legend { (lang.care(*c)) }
                        div.choices {
                            @for (value, ja, en, easy) in [
                                ("can", "できる", "Can", "できる"),
                                ("conditional", "条件つきでできる（要相談）", "Can, with conditions (ask)", "じょうけんつきで できる"),
                                ("cannot", "できない", "Cannot", "できない"),
                                ("unknown", "わからない", "Don't know", "わからない"),
                            ] {
                                @let checked = current.map(CareAnswer::code) == Some(value) || (current.is_none() && value == "unknown");
                                label.choice {
                                    input type="radio" name=(name) value=(value) checked[checked];
                                    " " (lang.t(ja, en, easy))
                                }
                            }
                        }
                        @let by = match current { Some(CareAnswer::Can { by }) => by.clone(), _ => Vec::new() };
                        div.who {
                            span.meta { (lang.t("「できる」とき、行うのは：", "If it can, who does it:", "「できる」とき、するのは：")) }
                            @for p in Performer::ALL {
                                label.choice {
                                    input type="checkbox" name=(format!("by.{}", c.code())) value=(p.code()) checked[by.contains(&p)];
                                    " " (lang.performer(p))
                                }
                            }
                        }
                        @let note = match current { Some(CareAnswer::Conditional { note }) => note.clone(), _ => String::new() };
                        label.note {
                            (lang.t("条件・相談したいこと", "The condition, what to discuss", "じょうけん・そうだんしたいこと"))
                            input type="text" name=(format!("note.{}", c.code())) value=(note) maxlength="1000";
                        }
                        (field_error(errors, &name))
                    }
                }
                h2 { (lang.t("看護師がいる曜日と時間", "When a nurse is on site", "かんごしが いる ひと じかん")) }
                p.meta { (lang.t("例：09:00-17:00（複数は , で区切る）", "e.g. 09:00-17:00 (several: separate with ,)", "れい：09:00-17:00")) }
                div.days {
                    @for d in Weekday::ALL {
                        @let name = format!("nurse.{}", d.code());
                        label id=(format!("f-{name}")) { (lang.day(*d)) input type="text" name=(name) value=(hours_text(a.nurse_schedule.as_ref(), *d)) inputmode="numeric" maxlength="60"; }
                        (field_error(errors, &name))
                    }
                }
                h2 { (lang.t("開所時間", "Opening hours", "あいている じかん")) }
                div.days {
                    @for d in Weekday::ALL {
                        @let name = format!("hours.{}", d.code());
                        label id=(format!("f-{name}")) { (lang.day(*d)) input type="text" name=(name) value=(hours_text(a.opening_hours.as_ref(), *d)) inputmode="numeric" maxlength="60"; }
                        (field_error(errors, &name))
                    }
                }
                h2 { (lang.t("空きと受け入れ年齢", "Vacancies and ages", "あき と ねんれい")) }
                label id="f-vacancies" { (lang.t("空き（人）", "Vacancies (children)", "あき（にん）")) input type="number" name="vacancies" min="0" max="999" value=[a.vacancies]; }
                (field_error(errors, "vacancies"))
                label id="f-vacancies_as_of" { (lang.t("空きの日付（この日現在）", "Vacancies as of", "いつの あきか")) input type="date" name="vacancies_as_of" value=[a.vacancies_as_of]; }
                (field_error(errors, "vacancies_as_of"))
                div.row id="f-ages" {
                    label { (lang.t("何歳から", "Ages from", "なんさい から")) input type="number" name="age_min" min="0" max="40" value=[a.ages.map(|x| x.min_years)]; }
                    label { (lang.t("何歳まで", "to", "なんさい まで")) input type="number" name="age_max" min="0" max="40" value=[a.ages.map(|x| x.max_years)]; }
                }
                (field_error(errors, "ages"))
                @if is_transport {
                    h2 { (lang.t("車両の設備", "What the vehicles can carry", "くるまの せつび")) }
                    @let t = a.transport.unwrap_or_default();
                    @for (code, on, ja, en, easy) in [
                        ("wheelchair", t.wheelchair, "車いすのまま乗車", "Wheelchair", "くるまいすの まま のれる"),
                        ("stretcher", t.stretcher, "ストレッチャー", "Stretcher", "ねたまま のれる"),
                        ("ventilator_onboard", t.ventilator_onboard, "人工呼吸器を使用したまま乗車", "Ventilator on board", "こきゅうきを つけた まま のれる"),
                        ("escort_nurse", t.escort_nurse, "看護師の同乗", "A nurse rides along", "かんごしが いっしょに のる"),
                    ] {
                        label.choice { input type="checkbox" name=(format!("transport.{code}")) value="1" checked[on]; " " (lang.t(ja, en, easy)) }
                    }
                }
                h2 { (lang.t("連絡先", "Contact", "れんらくさき")) }
                label id="f-phone" { (lang.t("公開する電話番号", "Public phone number", "みんなに みせる でんわばんごう")) input type="tel" name="phone" value=[a.phone.as_deref()] maxlength="30"; }
                (field_error(errors, "phone"))
                label id="f-contact_person" { (lang.t("ご担当者名（公開しません）", "Contact person (not published)", "たんとうの ひと（みせません）")) input type="text" name="contact_person" value=[a.contact_person.as_deref()] maxlength="100"; }
                (field_error(errors, "contact_person"))
                label id="f-contact_phone" { (lang.t("ご担当者の電話（公開しません）", "Their phone (not published)", "たんとうの ひとの でんわ（みせません）")) input type="tel" name="contact_phone" value=[a.contact_phone.as_deref()] maxlength="30"; }
                (field_error(errors, "contact_phone"))
                label id="f-comment" { (lang.t("センターへのコメント（公開しません）", "A comment to the centre (not published)", "センターへの ひとこと（みせません）")) textarea name="comment" rows="3" maxlength="1000" { (a.comment.as_deref().unwrap_or("")) } }
                (field_error(errors, "comment"))
                div.row.actions {
                    button.secondary type="submit" name="action" value="save" { (lang.t("下書き保存", "Save a draft", "とちゅうで ほぞん")) }
                    button type="submit" name="action" value="submit" { (lang.t("提出する", "Submit", "だす")) }
                }
            }
            p.meta { (lang.t("このページはこの事業所のためだけのものです。アドレスを他の人に教えないでください。", "This page is for your service only: please do not share its address.", "この ページは あなたの ところ だけの ものです。アドレスを ほかの ひとに おしえないで ください。")) }
        }))
    }
}

/// Read the form: answers, or per-field messages in the form's language.
fn parse_form(lang: FormLang, body: &[u8]) -> (SurveyAnswers, Errors, Option<String>, bool) {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let all = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let mut a = SurveyAnswers::default();
    let mut errors = Errors::new();
    for c in CareType::ALL {
        let name = format!("care.{}", c.code());
        let by: Vec<Performer> = all(&format!("by.{}", c.code())).iter().filter_map(|p| Performer::parse(p)).collect();
        let note = get(&format!("note.{}", c.code())).unwrap_or_default();
        match get(&name).as_deref() {
            Some("can") => {
                a.care.insert(*c, CareAnswer::Can { by });
            }
            Some("conditional") => {
                if note.is_empty() {
                    errors.insert(
                        name,
                        lang.t(
                            "「条件つき」のときは、条件を書いてください。",
                            "Please write the condition.",
                            "じょうけんを かいて ください。",
                        )
                        .into(),
                    );
                }
                a.care.insert(*c, CareAnswer::Conditional { note });
            }
            Some("cannot") => {
                a.care.insert(*c, CareAnswer::Cannot);
            }
            Some("unknown") | None => {
                // A performer ticked without "can" is taken as "can": two taps per care type.
                if !by.is_empty() {
                    a.care.insert(*c, CareAnswer::Can { by });
                }
            }
            Some(_) => {
                errors.insert(
                    name,
                    lang.t("選択肢から選んでください。", "Please choose one of the options.", "えらんで ください。")
                        .into(),
                );
            }
        }
    }
    let mut hours = |prefix: &str| -> Option<WeeklyHours> {
        let mut h = WeeklyHours::default();
        for d in Weekday::ALL {
            let name = format!("{prefix}.{}", d.code());
            if let Some(v) = get(&name) {
                let mut ranges = Vec::new();
                for part in v.split([',', '、', '，']).map(str::trim).filter(|p| !p.is_empty()) {
                    match TimeRange::parse(&part.replace(['〜', '～', '~', 'ー', '－'], "-")) {
                        Ok(t) => ranges.push(t),
                        Err(_) => {
                            errors.insert(
                                name.clone(),
                                lang.t(
                                    "時刻は 09:00-17:00 のように書いてください。",
                                    "Write times like 09:00-17:00.",
                                    "09:00-17:00 の ように かいて ください。",
                                )
                                .into(),
                            );
                        }
                    }
                }
                h.0.insert(*d, ranges);
            }
        }
        (!h.is_empty()).then_some(h)
    };
    a.nurse_schedule = hours("nurse");
    a.opening_hours = hours("hours");
    match get("vacancies").map(|v| v.parse::<u32>()) {
        Some(Ok(n)) if n <= 999 => a.vacancies = Some(n),
        Some(_) => {
            errors.insert(
                "vacancies".into(),
                lang.t(
                    "空きは 0 以上の整数で書いてください。",
                    "Vacancies: a whole number from 0.",
                    "0 いじょうの かずで かいて ください。",
                )
                .into(),
            );
        }
        None => {}
    }
    match get("vacancies_as_of").map(|v| v.parse::<chrono::NaiveDate>()) {
        Some(Ok(d)) => a.vacancies_as_of = Some(d),
        Some(Err(_)) => {
            errors.insert(
                "vacancies_as_of".into(),
                lang.t("日付を選んでください。", "Choose a date.", "ひづけを えらんで ください。").into(),
            );
        }
        None => {}
    }
    if a.vacancies.is_some() && a.vacancies_as_of.is_none() && !errors.contains_key("vacancies_as_of") {
        errors.insert(
            "vacancies_as_of".into(),
            lang.t(
                "空きがいつ現在のものか、日付を入れてください。",
                "Give the date the vacancies are as of.",
                "いつの あきか ひづけを いれて ください。",
            )
            .into(),
        );
    }
    match (get("age_min").map(|v| v.parse::<u8>()), get("age_max").map(|v| v.parse::<u8>())) {
        (None, None) => {}
        (Some(Ok(lo)), Some(Ok(hi))) if lo <= hi && hi <= 40 => {
            a.ages = Some(AgeRange { min_years: lo, max_years: hi })
        }
        _ => {
            errors.insert(
                "ages".into(),
                lang.t(
                    "年齢は「何歳から」と「何歳まで」を 0〜40 で入れてください。",
                    "Ages: give from and to, 0–40.",
                    "ねんれいは 0〜40 で いれて ください。",
                )
                .into(),
            );
        }
    }
    if pairs.iter().any(|(k, _)| k.starts_with("transport.")) {
        let on = |k: &str| get(&format!("transport.{k}")).is_some();
        a.transport = Some(TransportFeatures {
            wheelchair: on("wheelchair"),
            stretcher: on("stretcher"),
            ventilator_onboard: on("ventilator_onboard"),
            escort_nurse: on("escort_nurse"),
        });
    }
    a.phone = get("phone");
    a.contact_person = get("contact_person");
    a.contact_phone = get("contact_phone");
    a.comment = get("comment");
    for (field, msg) in [
        (
            "phone",
            lang.t(
                "電話番号は数字とハイフンで書いてください。",
                "Phone: digits and hyphens.",
                "すうじと - で かいて ください。",
            ),
        ),
        (
            "contact_phone",
            lang.t(
                "電話番号は数字とハイフンで書いてください。",
                "Phone: digits and hyphens.",
                "すうじと - で かいて ください。",
            ),
        ),
    ] {
        if get(field).is_some_and(|p| !tsunagu_model::resource::is_phone_number(&p)) {
            errors.insert(field.into(), msg.into());
        }
    }
    for e in a.validate() {
        let name = e.field.replace('/', ".");
        errors.entry(name).or_insert_with(|| {
            lang.t("この項目を確認してください。", "Please check this answer.", "ここを たしかめて ください。")
                .to_string()
        });
    }
    let submit = get("action").as_deref() == Some("submit");
    (a, errors, get("form_key"), submit)
}

/// Whether a POST comes from this site: an Origin, when a browser sends one, must be ours.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

async fn submit(
    State(s): State<AppState>,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = FormLang::of(raw.as_deref());
    if !same_origin(&headers) {
        let body = html! { h1 { "403" } p.notice { (lang.t("別のサイトからの送信は受け付けていません。", "Submissions from other sites are not accepted.", "ほかの サイトからは おくれません。")) } };
        return no_store(html_response(StatusCode::FORBIDDEN, shell(lang, "403", body)));
    }
    let o = match opened(&s, &token, &client, lang).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    let (answers, errors, key, submit) = parse_form(lang, &body);
    if key.as_deref() != Some(form_key(&token).as_str()) {
        let body = html! { h1 { "403" } p.notice { (lang.t("フォームを開き直してから送信してください。", "Please open the form again and resend.", "フォームを ひらきなおして ください。")) } };
        return no_store(html_response(StatusCode::FORBIDDEN, shell(lang, "403", body)));
    }
    let status = o.response.as_ref().map(|r| r.status.clone());
    if !errors.is_empty() {
        return no_store(html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(lang, &token, &o, &answers, &errors, status.as_deref(), None),
        ));
    }
    match sv::answer(&s.directory, &o, &answers, submit, "web", None).await {
        Ok(saved) => {
            let msg = if submit {
                lang.t(
                    "ご回答を提出しました。ありがとうございました。センターが確認してから公開します。",
                    "Your answers were submitted. Thank you. The centre will check them before they are published.",
                    "だしました。ありがとう ございました。",
                )
            } else {
                lang.t(
                    "下書きを保存しました。期限までに「提出する」を押してください。",
                    "Draft saved. Please press Submit before the deadline.",
                    "ほぞん しました。きげんまでに「だす」を おして ください。",
                )
            };
            let msg = if submit && o.campaign.mode == "publish" {
                lang.t(
                    "ご回答を提出しました。ありがとうございました。「事業所の回答・未確認」としてすぐに表示されます。",
                    "Submitted, thank you. It shows at once as the provider's answer, not yet verified.",
                    "だしました。ありがとう ございました。",
                )
            } else {
                msg
            };
            no_store(html_response(
                StatusCode::OK,
                form_page(lang, &token, &o, &answers, &Errors::new(), Some(&saved.status), Some(msg)),
            ))
        }
        Err(SurveyError::Reviewed) => closed_page(lang, &SurveyError::Reviewed),
        Err(SurveyError::Answers(errs)) => {
            let errors: Errors = errs
                .into_iter()
                .map(|e| {
                    (
                        e.field.replace('/', "."),
                        lang.t(
                            "この項目を確認してください。",
                            "Please check this answer.",
                            "ここを たしかめて ください。",
                        )
                        .to_string(),
                    )
                })
                .collect();
            no_store(html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(lang, &token, &o, &answers, &errors, status.as_deref(), None),
            ))
        }
        Err(e) => closed_page(lang, &e),
    }
}

/// The form's address as a QR code (SVG).
/// A record's address as a small QR code (SVG) for a printed list.
pub(super) fn qr_svg_small(url: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::L) {
        Ok(code) => {
            let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(64, 64).quiet_zone(false).build();
            // Inline in HTML: no XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(180, 180).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

const PRINT_CSS: &str = "@page{size:A4;margin:16mm}body{font-family:system-ui,\"Noto Sans CJK JP\",sans-serif;color:#000;margin:0}\
.letter{page-break-after:always;break-after:page;min-height:250mm;padding:0 2mm}.letter:last-child{page-break-after:auto}\
h1{font-size:15pt;margin:0 0 4mm}h2{font-size:12pt;margin:5mm 0 2mm}p{margin:1.5mm 0;line-height:1.55}\
.to{font-size:13pt;font-weight:700;margin-bottom:6mm}.qr{display:flex;gap:6mm;align-items:center;margin:5mm 0}\
.qr svg{width:42mm;height:42mm}.code{font-size:18pt;font-weight:700;letter-spacing:.1em;font-family:monospace}\
.url{word-break:break-all;font-family:monospace;font-size:9pt}.box{border:1px solid #000;padding:3mm}\
table{border-collapse:collapse;width:100%;font-size:9.5pt}td,th{border:1px solid #000;padding:1.2mm 1.5mm;text-align:left}\
.noprint{margin:4mm 0}@media print{.noprint{display:none}}";

fn print_shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (PreEscaped(PRINT_CSS)) }
            }
            body {
                p.noprint { "印刷してください（ブラウザの印刷で、1通ずつ A4 1ページになります）。 / Print from the browser: one A4 page per letter." }
                (body)
            }
        }
    }
}

/// The invitation letters: one A4 page each, addressed to the facility, with the form's address
/// as a QR code, the short code, the deadline and the centre's contact.
pub fn letters_page(
    public_url: &str,
    centre: &str,
    c: &Campaign,
    letters: &[(Invitation, Resource, String)],
    lang: &str,
) -> Markup {
    let suffix = match lang {
        "en" => "?lang=en",
        "easy" => "?lang=easy",
        _ => "",
    };
    print_shell(
        &format!("{} — 依頼状", c.name),
        html! {
            @for (inv, r, token) in letters {
                @let url = format!("{}{suffix}", crate::routes::survey::form_url(public_url, token));
                section.letter {
                    p.to { (r.name) " 御中" }
                    @if let Some(addr) = &r.address { p { (addr) } }
                    h1 { (c.name) " のお願い" }
                    p { "医療的ケアが必要なお子さんとご家族が、支援を探すときに使う「つなぐ」に、貴事業所で対応できる医療的ケアを掲載するための調査です。" }
                    p { "下のQRコードをスマートフォンで読み取るか、アドレスを入力して、回答フォームからお答えください（アカウントは不要です）。" }
                    div.qr {
                        (PreEscaped(qr_svg(&url)))
                        div {
                            p { "回答用コード（電話・FAXでのお問い合わせ時にお伝えください）" }
                            p.code { (inv.code) }
                            p { "回答期限：" strong { (c.deadline) } }
                        }
                    }
                    p.url { (url) }
                    div.box {
                        p { "紙でのご回答もできます。同封の調査票にご記入のうえ、FAXまたは郵送でお送りください。" }
                        p { "お問い合わせ：" (centre) }
                    }
                    p { "このアドレスは貴事業所専用です。他の方には教えないでください。" }
                    p { small { "English and plain Japanese (やさしい日本語) are on the form." } }
                }
            }
        },
    )
}

/// A blank paper questionnaire per invitation: the same questions as the form.
pub fn questionnaires_page(centre: &str, c: &Campaign, list: &[(Invitation, Resource)]) -> Markup {
    print_shell(
        &format!("{} — 調査票", c.name),
        html! {
            @for (inv, r) in list {
                section.letter {
                    p.to { (r.name) " 御中" }
                    h1 { (c.name) " 調査票" }
                    p { "回答用コード：" span.code { (inv.code) } "　回答期限：" (c.deadline) "　お問い合わせ：" (centre) }
                    table {
                        tr { th { "医療的ケア" } th { "できる" } th { "条件つき（要相談）" } th { "できない" } th { "わからない" } th { "行う人（看護師／研修職員／保護者付き添い）・条件" } }
                        @for ct in CareType::ALL {
                            tr { td { (ct.labels().ja) } td { "□" } td { "□" } td { "□" } td { "□" } td {} }
                        }
                    }
                    h2 { "看護師がいる曜日と時間" }
                    table { tr { @for d in Weekday::ALL { th { (d.labels().ja) } } } tr { @for _ in Weekday::ALL { td { " " } } } }
                    p { "空き：＿＿人（＿＿年＿＿月＿＿日現在）　受け入れ年齢：＿＿歳〜＿＿歳　公開する電話番号：＿＿＿＿＿＿" }
                    p { "ご担当者名・電話（公開しません）：＿＿＿＿＿＿＿＿＿＿＿＿　センターへのコメント：" }
                    div.box style="min-height:18mm" {}
                }
            }
        },
    )
}

/// The columns of a CSV of paper answers (Excel-friendly; Japanese headers).
pub const PAPER_COLUMNS: &str = "回答用コード, 医療的ケアごとに <care type code> (できる|条件つき|できない|わからない), \
    <code>_行う人 (看護師;研修職員;保護者付き添い), <code>_条件, 看護師 (月 09:00-17:00; 火 …), 空き, 空き日付, 対象年齢 (0-5), 電話番号, 担当者, 担当者電話, コメント";

/// Read a CSV of paper answers: (row, code, answers or problems).
#[allow(clippy::type_complexity)]
pub fn paper_csv(body: &[u8]) -> Result<Vec<(usize, String, Result<SurveyAnswers, Vec<String>>)>, String> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.trim_start_matches('\u{FEFF}').to_string(),
        Err(_) => encoding_rs::SHIFT_JIS.decode(body).0.into_owned(),
    };
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().to_string()).collect();
    if !headers.iter().any(|h| h == "回答用コード") {
        return Err(format!("the header has no 回答用コード column; expected: {PAPER_COLUMNS}"));
    }
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.push((row, String::new(), Err(vec![e.to_string()])));
                continue;
            }
        };
        let cell = |name: &str| {
            headers.iter().position(|h| h == name).and_then(|i| rec.get(i)).map(str::trim).filter(|v| !v.is_empty())
        };
        let code = cell("回答用コード").unwrap_or("").to_string();
        let mut a = SurveyAnswers::default();
        let mut problems = Vec::new();
        for c in CareType::ALL {
            let Some(v) = cell(c.code()) else { continue };
            let by: Vec<Performer> = cell(&format!("{}_行う人", c.code()))
                .map(|s| {
                    s.split([';', '、', ','])
                        .filter_map(|p| match p.trim() {
                            "看護師" | "nurse" => Some(Performer::Nurse),
                            "研修職員" | "trained_staff" => Some(Performer::TrainedStaff),
                            "保護者付き添い" | "parent_present" => Some(Performer::ParentPresent),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let note = cell(&format!("{}_条件", c.code())).unwrap_or("").to_string();
            match v {
                "できる" | "can" => {
                    a.care.insert(*c, CareAnswer::Can { by });
                }
                "条件つき" | "conditional" => {
                    a.care.insert(*c, CareAnswer::Conditional { note });
                }
                "できない" | "cannot" => {
                    a.care.insert(*c, CareAnswer::Cannot);
                }
                "わからない" | "unknown" => {}
                other => {
                    problems.push(format!("{}: `{other}` is not できる, 条件つき, できない or わからない", c.code()))
                }
            }
        }
        if let Some(n) = cell("看護師") {
            let mut h = WeeklyHours::default();
            for part in n.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let (day, range) = part.split_once(' ').unwrap_or((part, ""));
                let d = Weekday::ALL.iter().find(|d| d.labels().ja == day.trim() || d.code() == day.trim());
                match (d, TimeRange::parse(range.trim())) {
                    (Some(d), Ok(t)) => h.0.entry(*d).or_default().push(t),
                    _ => problems.push(format!("看護師: `{part}` is not like 月 09:00-17:00")),
                }
            }
            a.nurse_schedule = Some(h);
        }
        if let Some(v) = cell("空き") {
            match v.parse() {
                Ok(n) => a.vacancies = Some(n),
                Err(_) => problems.push(format!("空き: `{v}` is not a whole number")),
            }
        }
        if let Some(v) = cell("空き日付") {
            match v.replace('/', "-").parse() {
                Ok(d) => a.vacancies_as_of = Some(d),
                Err(_) => problems.push(format!("空き日付: `{v}` is not a date")),
            }
        }
        if let Some(v) = cell("対象年齢") {
            match v.split_once('-').map(|(x, y)| (x.trim().parse::<u8>(), y.trim().parse::<u8>())) {
                Some((Ok(x), Ok(y))) => a.ages = Some(AgeRange { min_years: x, max_years: y }),
                _ => problems.push(format!("対象年齢: `{v}` is not like 0-5")),
            }
        }
        a.phone = cell("電話番号").map(str::to_string);
        a.contact_person = cell("担当者").map(str::to_string);
        a.contact_phone = cell("担当者電話").map(str::to_string);
        a.comment = cell("コメント").map(str::to_string);
        problems.extend(a.validate().into_iter().map(|e| format!("{}: {}", e.field, e.reason)));
        out.push((row, code, if problems.is_empty() { Ok(a) } else { Err(problems) }));
    }
    Ok(out)
}
