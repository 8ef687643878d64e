//! The centre's survey over HTTP (editor key): campaigns, invitations, letters, the review
//! queue, paper answers and the dashboard. The provider's own form is a page
//! ([`crate::web::survey`]).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_directory::survey::{self as sv, Decision, NewCampaign, SurveyError, Target};
use tsunagu_model::survey::{SurveyAnswers, diff};
use tsunagu_store::{Campaign, Invitation};

use crate::AppState;
use crate::auth::{Editor, forbidden};
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/surveys", post(create).get(list))
        .route("/v1/surveys/{id}", get(one))
        .route("/v1/surveys/{id}/invitations", post(invite).get(invitations))
        .route("/v1/surveys/{id}/letters", post(letters))
        .route("/v1/surveys/{id}/questionnaires", get(questionnaires))
        .route("/v1/surveys/{id}/responses", get(responses))
        .route("/v1/surveys/{id}/responses/{invitation}/review", post(review))
        .route("/v1/surveys/{id}/paper", post(paper))
        .route("/v1/surveys/{id}/dashboard", get(dashboard))
        .route("/v1/surveys/{id}/non_responders.csv", get(non_responders_csv))
        .route("/v1/surveys/{id}/answers.csv", get(answers_csv))
        .route("/v1/invitations/{id}/revoke", post(revoke))
}

/// A survey step's refusal as a problem.
pub fn problem(e: SurveyError) -> Problem {
    match e {
        SurveyError::Invalid(why) => Problem::invalid(vec![InvalidParam::param("body", why)]),
        SurveyError::NotFound(what) => Problem::not_found(format!("no such {what}")),
        SurveyError::Forbidden(why) => forbidden(why),
        SurveyError::Expired => {
            Problem::new(StatusCode::GONE, "/problems/expired", "Expired", "this invitation has expired")
        }
        SurveyError::Revoked => {
            Problem::new(StatusCode::GONE, "/problems/revoked", "Withdrawn", "this invitation was withdrawn")
        }
        SurveyError::Reviewed => Problem::new(
            StatusCode::CONFLICT,
            "/problems/reviewed",
            "Already reviewed",
            "these answers were reviewed already (or changed since they were read): reload them",
        ),
        SurveyError::Conflict(fields) => {
            let mut p = Problem::new(
                StatusCode::CONFLICT,
                "/problems/edit-conflict",
                "Edit conflict",
                format!(
                    "the record changed since the answers were given ({}); review those fields again, or accept the others",
                    fields.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
            p.invalid = fields
                .into_iter()
                .map(|(f, why)| InvalidParam { name: Some(f), pointer: None, reason: why, allowed: Vec::new() })
                .collect();
            p
        }
        SurveyError::Answers(errs) => {
            let invalid: Vec<InvalidParam> = errs
                .into_iter()
                .map(|e| InvalidParam {
                    name: None,
                    pointer: Some(format!("/{}", e.field)),
                    reason: e.reason,
                    allowed: Vec::new(),
                })
                .collect();
            let detail = invalid
                .iter()
                .map(|p| format!("{}: {}", p.pointer.as_deref().unwrap_or(""), p.reason))
                .collect::<Vec<_>>()
                .join("; ");
            Problem {
                invalid,
                ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "/problems/invalid-answers", "Invalid answers", detail)
            }
        }
        SurveyError::Store(e) => e.into(),
        SurveyError::Directory(e) => Problem::internal(e.to_string()),
    }
}

/// The campaign, if this key may see it at all.
async fn campaign_for(s: &AppState, id: &str) -> Result<Campaign, Problem> {
    s.directory
        .store
        .campaign(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no survey `{}`", tsunagu_model::codes::truncate(id, 40))))
}

/// The form's address for a token, as printed on letters.
pub fn form_url(public_url: &str, token: &str) -> String {
    format!("{}/survey/{token}", public_url.trim_end_matches('/'))
}

/// `POST /v1/surveys`
async fn create(State(s): State<AppState>, who: Editor, body: Bytes) -> Result<Response, Problem> {
    let v = super::json_object(&body)?;
    let mut errs = Vec::new();
    for k in v.as_object().expect("object").keys() {
        if !["name", "target", "deadline", "mode", "include_sample"].contains(&k.as_str()) {
            errs.push(InvalidParam::param(
                k.clone(),
                "unknown member; allowed: name, target, deadline, mode, include_sample",
            ));
        }
    }
    let name = v.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let target: Option<Target> = match v.get("target") {
        Some(t) => match serde_json::from_value(t.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.push(InvalidParam::param("target", e.to_string()));
                None
            }
        },
        None => {
            errs.push(InvalidParam::param("target", "required: {kinds, regions, municipalities, resources}"));
            None
        }
    };
    let deadline = match v.get("deadline").and_then(Value::as_str).map(|d| d.parse::<chrono::NaiveDate>()) {
        Some(Ok(d)) => Some(d),
        _ => {
            errs.push(InvalidParam::param("deadline", "required: a date (YYYY-MM-DD)"));
            None
        }
    };
    let mode = v.get("mode").and_then(Value::as_str).unwrap_or("review").to_string();
    let include_sample = v.get("include_sample").and_then(Value::as_bool).unwrap_or(false);
    if !errs.is_empty() {
        return Err(Problem::invalid(errs));
    }
    let new = NewCampaign {
        name,
        target: target.expect("checked"),
        deadline: deadline.expect("checked"),
        mode,
        include_sample,
    };
    let c =
        sv::create(s.directory.store.as_ref(), s.gazetteer, Some(&who.0), &who.actor(), new).await.map_err(problem)?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

async fn list(State(s): State<AppState>, _who: Editor) -> Result<Json<Value>, Problem> {
    Ok(Json(json!({ "surveys": s.directory.store.campaigns().await? })))
}

async fn one(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let c = campaign_for(&s, &id).await?;
    let d = sv::dashboard(s.directory.store.as_ref(), s.gazetteer, &c, Some(&who.0)).await.map_err(problem)?;
    Ok(Json(
        json!({ "survey": c, "invited": d.overall.invited, "responded": d.overall.responded, "statuses": d.statuses }),
    ))
}

fn invitation_json(s: &AppState, i: &Invitation, name: &str, token: Option<&str>) -> Value {
    let mut v = json!({
        "id": i.id, "code": i.code, "resource_id": i.resource_id, "resource_name": name,
        "expires_at": i.expires_at, "revoked_at": i.revoked_at, "opened_at": i.opened_at,
    });
    if let Some(t) = token {
        v["token"] = json!(t);
        v["form_url"] = json!(form_url(&s.config.public_url, t));
    }
    v
}

/// `POST /v1/surveys/{id}/invitations`: one per targeted record still without one. The tokens
/// are in this answer only.
async fn invite(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Response, Problem> {
    let c = campaign_for(&s, &id).await?;
    let issued = sv::invite(s.directory.store.as_ref(), s.gazetteer, &c, Some(&who.0)).await.map_err(problem)?;
    let out: Vec<Value> =
        issued.iter().map(|i| invitation_json(&s, &i.invitation, &i.resource_name, Some(&i.token))).collect();
    Ok((StatusCode::CREATED, Json(json!({ "created": out.len(), "invitations": out }))).into_response())
}

/// The invitations of a campaign this key may see, with their records.
pub async fn visible(
    s: &AppState,
    c: &Campaign,
    who: &Editor,
) -> Result<Vec<(Invitation, tsunagu_model::Resource)>, Problem> {
    let invs = s.directory.store.invitations(&c.id).await?;
    let ids: Vec<_> = invs.iter().map(|i| i.resource_id).collect();
    let records: std::collections::HashMap<_, _> =
        s.directory.store.get_many(&ids).await?.into_iter().map(|r| (r.id, r)).collect();
    let mine = tsunagu_directory::authz::municipalities_of(&who.0, s.gazetteer);
    Ok(invs
        .into_iter()
        .filter_map(|i| records.get(&i.resource_id).cloned().map(|r| (i, r)))
        .filter(|(_, r)| mine.as_ref().is_none_or(|m| m.contains(&r.municipality_code.to_string())))
        .collect())
}

async fn invitations(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let c = campaign_for(&s, &id).await?;
    let list: Vec<Value> =
        visible(&s, &c, &who).await?.iter().map(|(i, r)| invitation_json(&s, i, &r.name, None)).collect();
    Ok(Json(json!({ "invitations": list })))
}

async fn revoke(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let inv = s.directory.store.invitation(&id).await?.ok_or_else(|| Problem::not_found("no such invitation"))?;
    let c = campaign_for(&s, &inv.campaign_id).await?;
    if !visible(&s, &c, &who).await?.iter().any(|(i, _)| i.id == inv.id) {
        return Err(forbidden("this invitation is for a record outside your regions"));
    }
    let done = s.directory.store.revoke_invitation(&id, chrono::Utc::now()).await?;
    Ok(Json(json!({ "id": id, "revoked": done })))
}

/// `POST /v1/surveys/{id}/letters?which=non_responders|all`: printable letters, one A4 page
/// each. Printing gives each letter a new token (only hashes are kept), so the links of earlier
/// letters to the same facilities stop working.
async fn letters(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["which", "lang", "code"])?;
    let which = p.one("which").unwrap_or_else(|| "non_responders".into());
    if !["non_responders", "all"].contains(&which.as_str()) {
        p.error(InvalidParam::param("which", "non_responders or all").with_allowed(["non_responders", "all"]));
    }
    let code = p.one("code").map(|c| sv::normalise_code(&c));
    let lang = p.one("lang").unwrap_or_else(|| "ja".into());
    if !["ja", "en", "easy"].contains(&lang.as_str()) {
        p.error(InvalidParam::param("lang", "ja, en or easy").with_allowed(["ja", "en", "easy"]));
    }
    p.finish()?;
    let c = campaign_for(&s, &id).await?;
    let responses: std::collections::HashSet<String> = s
        .directory
        .store
        .responses(&c.id)
        .await?
        .into_iter()
        .filter(|r| r.status != "draft")
        .map(|r| r.invitation_id)
        .collect();
    let chosen: Vec<(Invitation, tsunagu_model::Resource)> = visible(&s, &c, &who)
        .await?
        .into_iter()
        .filter(|(i, _)| i.revoked_at.is_none())
        .filter(|(i, _)| which == "all" || !responses.contains(&i.id))
        .filter(|(i, _)| code.as_ref().is_none_or(|c| *c == i.code))
        .collect();
    let invs: Vec<Invitation> = chosen.iter().map(|(i, _)| i.clone()).collect();
    let tokens = sv::reissue(s.directory.store.as_ref(), &c, &invs).await.map_err(problem)?;
    let letters: Vec<(Invitation, tsunagu_model::Resource, String)> =
        tokens.into_iter().zip(chosen).map(|((i, t), (_, r))| (i, r, t)).collect();
    let html = crate::web::survey::letters_page(&s.config.public_url, &s.config.centre_contact, &c, &letters, &lang);
    let mut res = html.into_string().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /v1/surveys/{id}/questionnaires`: the blank paper questionnaire of every invitation.
async fn questionnaires(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Response, Problem> {
    let c = campaign_for(&s, &id).await?;
    let list = visible(&s, &c, &who).await?;
    let html = crate::web::survey::questionnaires_page(&s.config.centre_contact, &c, &list);
    let mut res = html.into_string().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(res)
}

/// `GET /v1/surveys/{id}/responses?status=submitted`: the review queue, each response with its
/// field-by-field diff against the record as it is now.
async fn responses(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["status"])?;
    let status = p.one("status").unwrap_or_else(|| "submitted".into());
    if !["draft", "submitted", "accepted", "rejected", "all"].contains(&status.as_str()) {
        p.error(InvalidParam::param("status", "unknown status").with_allowed([
            "draft",
            "submitted",
            "accepted",
            "rejected",
            "all",
        ]));
    }
    p.finish()?;
    let c = campaign_for(&s, &id).await?;
    let mine: std::collections::HashMap<String, tsunagu_model::Resource> =
        visible(&s, &c, &who).await?.into_iter().map(|(i, r)| (i.id, r)).collect();
    let mut out = Vec::new();
    for r in s.directory.store.responses(&c.id).await? {
        if status != "all" && r.status != status {
            continue;
        }
        let Some(record) = mine.get(&r.invitation_id) else { continue };
        let answers: SurveyAnswers = serde_json::from_value(r.answers.clone()).unwrap_or_default();
        let base: tsunagu_model::Resource = serde_json::from_value(r.base.clone()).unwrap_or_else(|_| record.clone());
        let then: std::collections::BTreeMap<String, Value> =
            tsunagu_model::survey::fields(&base, &answers).into_iter().map(|c| (c.field, c.before)).collect();
        let changes: Vec<Value> = diff(record, &answers)
            .into_iter()
            .map(|ch| {
                let conflict = then.get(&ch.field).is_some_and(|b| *b != ch.before);
                json!({"field": ch.field, "before": ch.before, "after": ch.after, "conflict": conflict})
            })
            .collect();
        out.push(json!({
            "invitation_id": r.invitation_id, "resource_id": r.resource_id, "resource_name": record.name,
            "status": r.status, "channel": r.channel, "revision": r.revision, "submitted_at": r.submitted_at,
            "entered_by": r.entered_by, "reviewed_by": r.reviewed_by, "reviewed_at": r.reviewed_at,
            "review_note": r.review_note, "accepted_fields": r.accepted_fields, "answers": r.answers, "changes": changes,
        }));
    }
    Ok(Json(json!({ "responses": out })))
}

/// `POST /v1/surveys/{id}/responses/{invitation}/review`:
/// `{"decision": "accept_all" | "accept_fields" | "reject", "fields": […], "note": "…"}`.
async fn review(
    State(s): State<AppState>,
    who: Editor,
    Path((id, invitation)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let v = super::json_object(&body)?;
    let c = campaign_for(&s, &id).await?;
    let decision = match v.get("decision").and_then(Value::as_str) {
        Some("accept_all") => Decision::AcceptAll,
        Some("accept_fields") => {
            let fields: Vec<String> = v
                .get("fields")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if fields.is_empty() {
                return Err(Problem::invalid(vec![InvalidParam::param("fields", "name the fields to accept")]));
            }
            Decision::Accept(fields)
        }
        Some("reject") => Decision::Reject,
        _ => {
            return Err(Problem::invalid(vec![InvalidParam::param("decision", "required").with_allowed([
                "accept_all",
                "accept_fields",
                "reject",
            ])]));
        }
    };
    let note = v.get("note").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2_000) {
        return Err(Problem::invalid(vec![InvalidParam::param("note", "at most 2000 characters")]));
    }
    let inv = s.directory.store.invitation(&invitation).await?.filter(|i| i.campaign_id == c.id);
    if inv.is_none() {
        return Err(Problem::not_found("no such response in this survey"));
    }
    let policy = who.policy(&s);
    let r = sv::review(&s.directory, &who.actor(), &policy, &invitation, decision, note).await.map_err(problem)?;
    Ok(Json(
        json!({ "invitation_id": r.invitation_id, "status": r.status, "accepted_fields": r.accepted_fields, "reviewed_by": r.reviewed_by }),
    ))
}

/// `POST /v1/surveys/{id}/paper`: answers from a paper questionnaire, entered by the centre —
/// JSON `{"code": "…", "answers": {…}}`, or a CSV of many (the layout in README).
async fn paper(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let c = campaign_for(&s, &id).await?;
    let csv =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/csv"));
    let entries: Vec<(usize, String, Result<SurveyAnswers, Vec<String>>)> = if csv {
        crate::web::survey::paper_csv(&body).map_err(|e| Problem::invalid(vec![InvalidParam::param("body", e)]))?
    } else {
        let v = super::json_object(&body)?;
        let code = v.get("code").and_then(Value::as_str).unwrap_or("").to_string();
        let answers = serde_json::from_value::<SurveyAnswers>(v.get("answers").cloned().unwrap_or(json!({})))
            .map_err(|e| vec![e.to_string()]);
        vec![(1, code, answers)]
    };
    let mine: std::collections::HashMap<String, tsunagu_model::Resource> =
        visible(&s, &c, &who).await?.into_iter().map(|(i, r)| (i.code.clone(), r)).collect();
    let mut report = Vec::new();
    let mut ok = 0;
    for (row, code, answers) in entries {
        let code = sv::normalise_code(&code);
        let outcome: Result<String, String> = async {
            let answers = answers.map_err(|e| e.join("; "))?;
            let inv = s
                .directory
                .store
                .invitation_by_code(&code)
                .await
                .map_err(|e| e.to_string())?
                .filter(|i| i.campaign_id == c.id);
            let inv = inv.ok_or_else(|| format!("no invitation with code {code} in this survey"))?;
            let record = mine
                .get(&code)
                .cloned()
                .ok_or_else(|| "the invitation is for a record outside your regions".to_string())?;
            let response = s.directory.store.response(&inv.id).await.map_err(|e| e.to_string())?;
            let opened = sv::Opened { invitation: inv, campaign: c.clone(), record, response };
            let saved = sv::answer(&s.directory, &opened, &answers, true, "paper", Some(who.0.name.clone()))
                .await
                .map_err(|e| match e {
                    SurveyError::Answers(errs) => {
                        errs.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ")
                    }
                    other => other.to_string(),
                })?;
            Ok(saved.invitation_id)
        }
        .await;
        match outcome {
            Ok(inv) => {
                ok += 1;
                report.push(json!({"row": row, "code": code, "invitation_id": inv, "status": "submitted"}));
            }
            Err(reason) => report.push(json!({"row": row, "code": code, "error": reason})),
        }
    }
    let status = if ok == report.len() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(json!({"entered": ok, "rows": report.len(), "report": report}))).into_response())
}

async fn dashboard(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
) -> Result<Json<sv::Dashboard>, Problem> {
    let c = campaign_for(&s, &id).await?;
    Ok(Json(sv::dashboard(s.directory.store.as_ref(), s.gazetteer, &c, Some(&who.0)).await.map_err(problem)?))
}

fn csv_response(name: &str, body: String) -> Response {
    // A BOM so that Excel reads UTF-8.
    let mut res = format!("\u{FEFF}{body}").into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// `GET /v1/surveys/{id}/non_responders.csv`: for follow-up calls.
async fn non_responders_csv(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let c = campaign_for(&s, &id).await?;
    let d = sv::dashboard(s.directory.store.as_ref(), s.gazetteer, &c, Some(&who.0)).await.map_err(problem)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "招待コード",
        "事業所名",
        "種別",
        "市区町村",
        "圏域",
        "電話番号",
        "FAX番号",
        "フォームを開いた",
    ]);
    for n in &d.non_responders {
        let _ = w.write_record(
            [
                n.code.clone(),
                n.name.clone(),
                n.kind.labels().ja.to_string(),
                n.municipality.clone(),
                n.region.clone(),
                n.phone.clone().unwrap_or_default(),
                n.fax.clone().unwrap_or_default(),
                if n.opened { "はい".into() } else { "いいえ".into() },
            ]
            .map(|c| tsunagu_exchange::csv::neutralise(&c)),
        );
    }
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    Ok(csv_response("survey-non-responders.csv", body))
}

/// `GET /v1/surveys/{id}/answers.csv`: every answer, one row per record and field.
async fn answers_csv(State(s): State<AppState>, who: Editor, Path(id): Path<String>) -> Result<Response, Problem> {
    let c = campaign_for(&s, &id).await?;
    let mine: std::collections::HashMap<String, (Invitation, tsunagu_model::Resource)> =
        visible(&s, &c, &who).await?.into_iter().map(|(i, r)| (i.id.clone(), (i, r))).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["招待コード", "事業所名", "状態", "回答方法", "項目", "回答", "提出日時"]);
    for r in s.directory.store.responses(&c.id).await? {
        let Some((inv, record)) = mine.get(&r.invitation_id) else { continue };
        let answers: SurveyAnswers = serde_json::from_value(r.answers.clone()).unwrap_or_default();
        for f in tsunagu_model::survey::fields(&tsunagu_model::Resource { ..record.clone() }, &answers) {
            // Private answers (contact person, comment) stay in the editors' CSV: it is an editor export.
            let _ = w.write_record(
                [
                    inv.code.clone(),
                    record.name.clone(),
                    r.status.clone(),
                    r.channel.clone(),
                    f.field.clone(),
                    f.after.as_str().map_or_else(|| f.after.to_string(), str::to_string),
                    r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                ]
                .map(|c| tsunagu_exchange::csv::neutralise(&c)),
            );
        }
    }
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    Ok(csv_response("survey-answers.csv", body))
}
