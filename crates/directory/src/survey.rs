//! The centre's survey of providers (「調査の実施」): campaigns, invitations, the provider's
//! answers, the centre's review, and what the campaign changed.
//!
//! - A campaign targets records (kinds, 圏域, municipalities or a list) and has a deadline and a
//!   mode: `review` (every answer is reviewed before it shows) or `publish` (answers show at once
//!   as the provider's, not yet verified).
//! - Each targeted record gets one invitation: an unguessable token (256 bits; only its SHA-256 is
//!   stored) that opens that record's form and nothing else until the deadline, and a short code
//!   for phone and FAX follow-up.
//! - Answers become ordinary versioned edits of the record when accepted: the actor is
//!   「<facility> (survey <campaign>)」 with the reviewer's key id, the audit trail holds the diff,
//!   and each care type remembers who said it and who verified it.
//! - A review applies the answers to the record's current version inside one write; a field
//!   someone else changed after the answer was given is a conflict, never silently overwritten.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tsunagu_model::survey::{self, StatementMeta, SurveyAnswers};
use tsunagu_model::{CareType, FieldError, Kind, MunicipalityCode, Resource, ResourceId};
use tsunagu_places::Gazetteer;
use tsunagu_store::{
    Actor, ApiKey, Authorize, Campaign, Invitation, Modification, Proposal, Refusal, ResponseSave, Role, SaveRefused,
    Store, SurveyResponse, Write, WriteOp, WriteOutcome, WriteRefused,
};

use crate::sync::Directory;

/// What a campaign asks about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// 圏域 ids.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub municipalities: Vec<MunicipalityCode>,
    /// An explicit list of records (instead of, or besides, the above).
    #[serde(default)]
    pub resources: Vec<ResourceId>,
}

impl Target {
    fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.regions.is_empty() && self.municipalities.is_empty() && self.resources.is_empty()
    }

    /// Whether a record is targeted.
    pub fn covers(&self, g: &Gazetteer, r: &Resource) -> bool {
        if self.resources.contains(&r.id) {
            return true;
        }
        if self.kinds.is_empty() && self.regions.is_empty() && self.municipalities.is_empty() {
            return false;
        }
        let kind = self.kinds.is_empty() || self.kinds.contains(&r.kind);
        let region = g.region_of(r.municipality_code).map(|x| x.id.as_str());
        let place_given = !self.regions.is_empty() || !self.municipalities.is_empty();
        let place = !place_given
            || region.is_some_and(|x| self.regions.iter().any(|want| want == x))
            || self.municipalities.iter().any(|m| g.expand(*m).contains(&r.municipality_code));
        kind && place
    }
}

/// Why a survey step was refused.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    /// The invitation's deadline passed, or the centre revoked it.
    #[error("this invitation has expired")]
    Expired,
    #[error("this invitation was withdrawn")]
    Revoked,
    #[error("the centre has already reviewed these answers")]
    Reviewed,
    /// Fields someone changed after the answer was given: (field, reason).
    #[error("changed since the answers were given: {}", .0.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))]
    Conflict(Vec<(String, String)>),
    #[error("the answers are not valid")]
    Answers(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] tsunagu_store::StoreError),
    #[error(transparent)]
    Directory(#[from] crate::sync::DirectoryError),
}

pub type Result<T> = std::result::Result<T, SurveyError>;

/// The end of the deadline day in Japan (23:59:59 JST).
pub fn expiry(deadline: NaiveDate) -> DateTime<Utc> {
    let end = deadline.and_hms_opt(23, 59, 59).expect("a valid time");
    DateTime::from_naive_utc_and_offset(end, Utc) - chrono::Duration::hours(9)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

/// A new token: 256 random bits, URL-safe.
fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// Letters that cannot be misread on paper or over the phone (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A short code: 12 letters of 31 (about 59 bits), as `XXXX-XXXX-XXXX`.
fn new_code() -> String {
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    let chars: Vec<char> = b.iter().map(|x| CODE_ALPHABET[*x as usize % CODE_ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A code as people type it: upper case, without spaces, dashes where they belong.
pub fn normalise_code(code: &str) -> String {
    let s: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    s.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// Confirmed care-type counts per 圏域 among `records`: `{region: {care type: n}}`.
pub fn confirmed_counts(g: &Gazetteer, records: &[Resource]) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in records {
        let region = g.region_of(r.municipality_code).map_or_else(|| "-".to_string(), |x| x.id.clone());
        for c in r.care_types.iter() {
            if r.care_statements.get(&c).is_none_or(|s| !s.unverified()) {
                *out.entry(region.clone()).or_default().entry(c.code().to_string()).or_default() += 1;
            }
        }
    }
    out
}

async fn all_live(store: &dyn Store) -> Result<Vec<Resource>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    Ok(all)
}

/// The records a campaign targets that `key` may survey (a region-limited editor: its 圏域 only).
pub async fn targeted(store: &dyn Store, g: &Gazetteer, c: &Campaign, key: Option<&ApiKey>) -> Result<Vec<Resource>> {
    let mut stored = c.target.clone();
    let include_sample = stored.get("include_sample").and_then(|v| v.as_bool()).unwrap_or(false);
    if let Some(o) = stored.as_object_mut() {
        o.remove("include_sample");
    }
    let target: Target =
        serde_json::from_value(stored).map_err(|e| SurveyError::Invalid(format!("stored target: {e}")))?;
    Ok(all_live(store)
        .await?
        .into_iter()
        .filter(|r| include_sample || !r.sample)
        .filter(|r| target.covers(g, r))
        .filter(|r| key.is_none_or(|k| in_regions(g, k, r)))
        .collect())
}

fn in_regions(g: &Gazetteer, key: &ApiKey, r: &Resource) -> bool {
    key.role >= Role::Admin
        || key.regions.is_empty()
        || g.region_of(r.municipality_code).is_some_and(|x| key.regions.contains(&x.id))
}

/// What a new campaign is.
pub struct NewCampaign {
    pub name: String,
    pub target: Target,
    pub deadline: NaiveDate,
    /// `review` (default) or `publish`.
    pub mode: String,
    /// Survey sample records too (for trying the survey out on the sample data).
    pub include_sample: bool,
}

/// Make a campaign. A region-limited editor's campaign targets its 圏域 only.
pub async fn create(
    store: &dyn Store,
    g: &Gazetteer,
    key: Option<&ApiKey>,
    actor: &Actor,
    new: NewCampaign,
) -> Result<Campaign> {
    let name = new.name.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(SurveyError::Invalid("name: 1–200 characters, e.g. 令和9年度 医療的ケア受入状況調査".into()));
    }
    if new.target.is_empty() {
        return Err(SurveyError::Invalid(
            "target: give kinds, regions, municipalities or resources (a campaign must target something)".into(),
        ));
    }
    if let Some(bad) = new.target.regions.iter().find(|r| g.region(r).is_none()) {
        return Err(SurveyError::Invalid(format!("target.regions: unknown region `{bad}`")));
    }
    if let Some(bad) = new.target.municipalities.iter().find(|m| g.municipality(**m).is_none()) {
        return Err(SurveyError::Invalid(format!("target.municipalities: unknown municipality {bad}")));
    }
    if !["review", "publish"].contains(&new.mode.as_str()) {
        return Err(SurveyError::Invalid("mode: review or publish".into()));
    }
    if new.deadline < Utc::now().date_naive() {
        return Err(SurveyError::Invalid(format!("deadline: {} has passed", new.deadline)));
    }
    let mut target = serde_json::to_value(&new.target).expect("targets serialise");
    target["include_sample"] = serde_json::json!(new.include_sample);
    let mut c = Campaign {
        id: ResourceId::new_random().to_string(),
        name,
        target,
        deadline: new.deadline,
        mode: new.mode,
        created_by: actor.name.clone(),
        created_by_key_id: actor.key_id.clone(),
        created_at: Utc::now(),
        baseline: serde_json::Value::Null,
    };
    let records = targeted(store, g, &c, key).await?;
    c.baseline = serde_json::json!({ "confirmed": confirmed_counts(g, &records), "targeted": records.len() });
    store.insert_campaign(&c).await?;
    Ok(c)
}

/// An invitation as issued: the token is shown only now.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub token: String,
    pub resource_name: String,
}

/// Make the invitations a campaign still lacks (one per targeted record `key` may survey).
pub async fn invite(store: &dyn Store, g: &Gazetteer, c: &Campaign, key: Option<&ApiKey>) -> Result<Vec<Issued>> {
    let existing: BTreeSet<ResourceId> = store.invitations(&c.id).await?.into_iter().map(|i| i.resource_id).collect();
    let mut issued = Vec::new();
    let mut rows = Vec::new();
    for r in targeted(store, g, c, key).await?.into_iter().filter(|r| !existing.contains(&r.id)) {
        let token = new_token();
        let inv = Invitation {
            id: ResourceId::new_random().to_string(),
            campaign_id: c.id.clone(),
            resource_id: r.id,
            code: new_code(),
            expires_at: expiry(c.deadline),
            revoked_at: None,
            created_at: Utc::now(),
            opened_at: None,
        };
        rows.push((inv.clone(), token_hash(&token)));
        issued.push(Issued { invitation: inv, token, resource_name: r.name });
    }
    store.insert_invitations(&rows).await?;
    Ok(issued)
}

/// New tokens for the invitations given (old links stop working): for printed letters and
/// reminders, which need the token the store does not keep.
pub async fn reissue(store: &dyn Store, c: &Campaign, invitations: &[Invitation]) -> Result<Vec<(Invitation, String)>> {
    let mut out = Vec::new();
    for inv in invitations {
        let token = new_token();
        store.reissue_invitation(&inv.id, &token_hash(&token), expiry(c.deadline)).await?;
        let mut i = inv.clone();
        i.revoked_at = None;
        i.expires_at = expiry(c.deadline);
        out.push((i, token));
    }
    Ok(out)
}

/// What a token opens.
pub struct Opened {
    pub invitation: Invitation,
    pub campaign: Campaign,
    pub record: Resource,
    pub response: Option<SurveyResponse>,
}

/// Open an invitation by its token: unknown → `NotFound`, revoked or past its deadline →
/// `Revoked`/`Expired`. The record must still be live.
pub async fn open(store: &dyn Store, token: &str) -> Result<Opened> {
    let token = token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SurveyError::NotFound("invitation"));
    }
    let invitation = store.invitation_by_token(&token_hash(token)).await?.ok_or(SurveyError::NotFound("invitation"))?;
    if invitation.revoked_at.is_some() {
        return Err(SurveyError::Revoked);
    }
    if invitation.expires_at < Utc::now() {
        return Err(SurveyError::Expired);
    }
    let campaign = store.campaign(&invitation.campaign_id).await?.ok_or(SurveyError::NotFound("campaign"))?;
    let record = store.get(invitation.resource_id).await?.ok_or(SurveyError::Revoked)?;
    let response = store.response(&invitation.id).await?;
    Ok(Opened { invitation, campaign, record, response })
}

/// The actor of edits that come from a provider's answers.
pub fn provider_actor(record: &Resource, campaign: &Campaign, reviewer: Option<&Actor>) -> Actor {
    Actor {
        name: format!("{} (survey {})", record.name, campaign.name),
        key_id: reviewer.and_then(|r| r.key_id.clone()),
    }
}

/// A provider may change its own record through its form, and nothing else.
struct OwnRecord(ResourceId);

impl Authorize for OwnRecord {
    fn allow(&self, p: Proposal<'_>) -> std::result::Result<(), Refusal> {
        match p {
            Proposal::Update { stored, new } if stored.id == self.0 && new.id == self.0 => Ok(()),
            _ => Err(Refusal::Forbidden("an invitation changes its own record only".into())),
        }
    }
}

fn parse_answers(v: &serde_json::Value) -> Result<SurveyAnswers> {
    let a: SurveyAnswers = serde_json::from_value(v.clone())
        .map_err(|e| SurveyError::Answers(vec![FieldError::new("", e.to_string())]))?;
    let errs = a.validate();
    if errs.is_empty() { Ok(a) } else { Err(SurveyError::Answers(errs)) }
}

/// Save (or submit) a provider's answers. In `publish` mode a submission shows at once, as the
/// provider's answer not yet verified.
pub async fn answer(
    d: &Directory,
    opened: &Opened,
    answers: &SurveyAnswers,
    submit: bool,
    channel: &'static str,
    entered_by: Option<String>,
) -> Result<SurveyResponse> {
    let errs = answers.validate();
    if !errs.is_empty() {
        return Err(SurveyError::Answers(errs));
    }
    let base = serde_json::to_value(opened.record.clone().without_timestamps()).expect("records serialise");
    let save = ResponseSave {
        invitation_id: opened.invitation.id.clone(),
        answers: serde_json::to_value(answers).expect("answers serialise"),
        base,
        submit,
        channel,
        entered_by,
    };
    let saved = match d.store.save_response(&save).await? {
        Ok(s) => s,
        Err(SaveRefused::Reviewed) => return Err(SurveyError::Reviewed),
        Err(SaveRefused::NoInvitation) => return Err(SurveyError::NotFound("invitation")),
    };
    if submit && opened.campaign.mode == "publish" {
        let meta = StatementMeta {
            reported_on: Utc::now().date_naive(),
            verified: None,
            campaign: opened.campaign.name.clone(),
        };
        let a = answers.clone();
        let change: Modification = Arc::new(move |r: &Resource| Ok(survey::apply(r, &a, None, &meta)));
        let actor = provider_actor(&opened.record, &opened.campaign, None);
        let w = Write {
            op: WriteOp::Modify { id: opened.record.id, change },
            actor: &actor,
            authorize: &OwnRecord(opened.record.id),
            idempotency: None,
        };
        match d.write(w).await? {
            Ok(_) => {}
            Err(e) => return Err(SurveyError::Invalid(format!("could not publish the answers: {e:?}"))),
        }
    }
    Ok(saved)
}

/// The centre's decision on a submitted response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    AcceptAll,
    /// Accept these fields only (`care/<code>`, `nurse_schedule`, `vacancies`, `ages`,
    /// `transport`, `opening_hours`, `phone`, `contact`, `comment`).
    Accept(Vec<String>),
    Reject,
}

/// Apply a review: accepted fields become an edit of the record's current version, with the
/// provider as actor and the reviewer as verifier; a field changed since the answer was given is
/// a conflict and nothing is written.
pub async fn review(
    d: &Directory,
    reviewer: &Actor,
    policy: &dyn Authorize,
    invitation_id: &str,
    decision: Decision,
    note: Option<&str>,
) -> Result<SurveyResponse> {
    let response = d.store.response(invitation_id).await?.ok_or(SurveyError::NotFound("response"))?;
    if response.status != "submitted" {
        return Err(if response.status == "draft" {
            SurveyError::Invalid("the provider has not submitted these answers yet".into())
        } else {
            SurveyError::Reviewed
        });
    }
    let campaign = d.store.campaign(&response.campaign_id).await?.ok_or(SurveyError::NotFound("campaign"))?;
    let current = d.store.get(response.resource_id).await?.ok_or(SurveyError::NotFound("record"))?;
    // The reviewer must be allowed to change this record at all (a region-limited editor: its 圏域).
    if let Err(r) = policy.allow(Proposal::Update { stored: &current, new: &current }) {
        return Err(match r {
            Refusal::Forbidden(why) => SurveyError::Forbidden(why),
            Refusal::NotServed => SurveyError::NotFound("record"),
        });
    }
    let answers = parse_answers(&response.answers)?;
    let all: Vec<String> = survey::diff(&current, &answers).into_iter().map(|c| c.field).collect();
    let fields: Vec<String> = match &decision {
        Decision::AcceptAll => {
            let base: Resource = serde_json::from_value(response.base.clone()).unwrap_or_else(|_| current.clone());
            let mut every: Vec<String> = survey::diff(&base, &answers).into_iter().map(|c| c.field).collect();
            every.extend(all.iter().cloned());
            every.sort();
            every.dedup();
            every
        }
        Decision::Accept(f) => {
            let base: Resource = serde_json::from_value(response.base.clone()).unwrap_or_else(|_| current.clone());
            let known: BTreeSet<String> = survey::diff(&base, &answers).into_iter().map(|c| c.field).collect();
            if let Some(bad) = f.iter().find(|x| !known.contains(*x) && !all.contains(x)) {
                return Err(SurveyError::Invalid(format!("fields: `{bad}` is not a field these answers change")));
            }
            f.clone()
        }
        Decision::Reject => Vec::new(),
    };
    let status = if decision == Decision::Reject { "rejected" } else { "accepted" };
    let claimed = d
        .store
        .mark_reviewed(invitation_id, response.revision, status, reviewer, note, &fields)
        .await?
        .ok_or(SurveyError::Reviewed)?;
    if decision == Decision::Reject {
        return Ok(claimed);
    }
    let base: Resource = serde_json::from_value(response.base.clone()).unwrap_or_else(|_| current.clone());
    let meta = StatementMeta {
        reported_on: response.submitted_at.unwrap_or(response.updated_at).date_naive(),
        verified: Some((reviewer.name.clone(), Utc::now().date_naive())),
        campaign: campaign.name.clone(),
    };
    let (a, chosen) = (answers.clone(), fields.clone());
    let change: Modification = Arc::new(move |now: &Resource| {
        // A field that changed since the answer was given, to something else than the answer, is
        // someone's newer edit: report it instead of overwriting it.
        let then: BTreeMap<String, serde_json::Value> =
            survey::fields(&base, &a).into_iter().map(|c| (c.field, c.before)).collect();
        let conflicts: Vec<FieldError> = survey::fields(now, &a)
            .into_iter()
            .filter(|c| chosen.contains(&c.field))
            .filter(|c| then.get(&c.field).is_some_and(|b| *b != c.before) && c.before != c.after)
            .map(|c| FieldError::new(c.field.clone(), format!("changed since the answer: now {}", c.before)))
            .collect();
        if !conflicts.is_empty() {
            return Err(conflicts);
        }
        Ok(survey::apply(now, &a, Some(&chosen), &meta))
    });
    let actor = provider_actor(&current, &campaign, Some(reviewer));
    let w =
        Write { op: WriteOp::Modify { id: current.id, change }, actor: &actor, authorize: policy, idempotency: None };
    let outcome = d.write(w).await;
    match outcome {
        Ok(Ok(WriteOutcome::Written(_) | WriteOutcome::Replayed(_))) => Ok(claimed),
        Ok(Err(refused)) => {
            d.store.unmark_reviewed(invitation_id).await?;
            Err(match refused {
                WriteRefused::Invalid(errs) if errs.iter().any(|e| e.reason.starts_with("changed since")) => {
                    SurveyError::Conflict(errs.into_iter().map(|e| (e.field, e.reason)).collect())
                }
                WriteRefused::Invalid(errs) => SurveyError::Answers(errs),
                WriteRefused::Forbidden(why) => SurveyError::Forbidden(why),
                WriteRefused::NotFound => SurveyError::NotFound("record"),
                other => SurveyError::Invalid(format!("{other:?}")),
            })
        }
        Err(e) => {
            d.store.unmark_reviewed(invitation_id).await?;
            Err(e.into())
        }
    }
}

/// One row of the dashboard's response table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rate {
    pub invited: u64,
    pub responded: u64,
    pub rate: f64,
}

impl Rate {
    fn add(&mut self, responded: bool) {
        self.invited += 1;
        if responded {
            self.responded += 1;
        }
        self.rate = (self.responded as f64 / self.invited as f64 * 1000.0).round() / 1000.0;
    }
}

/// A record that has not answered yet, for follow-up calls and reminder letters.
#[derive(Debug, Clone, Serialize)]
pub struct NonResponder {
    pub invitation_id: String,
    pub code: String,
    pub resource_id: ResourceId,
    pub name: String,
    pub kind: Kind,
    pub municipality: String,
    pub region: String,
    pub phone: Option<String>,
    pub fax: Option<String>,
    /// The provider opened the form (maybe saved a draft) but has not submitted.
    pub opened: bool,
}

/// What a campaign changed: confirmed care types per 圏域, before and now.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub region: String,
    pub region_name: String,
    pub care_type: CareType,
    pub before: u64,
    pub now: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub campaign: Campaign,
    pub overall: Rate,
    /// By 圏域 id, then kind code.
    pub by_region_and_kind: BTreeMap<String, BTreeMap<String, Rate>>,
    /// Responses by status (`draft`, `submitted`, `accepted`, `rejected`).
    pub statuses: BTreeMap<String, u64>,
    pub non_responders: Vec<NonResponder>,
    pub changes: Vec<Change>,
}

/// The campaign dashboard, as `key` may see it (a region-limited editor: its 圏域).
pub async fn dashboard(store: &dyn Store, g: &Gazetteer, c: &Campaign, key: Option<&ApiKey>) -> Result<Dashboard> {
    let invitations = store.invitations(&c.id).await?;
    let responses: BTreeMap<String, SurveyResponse> =
        store.responses(&c.id).await?.into_iter().map(|r| (r.invitation_id.clone(), r)).collect();
    let ids: Vec<ResourceId> = invitations.iter().map(|i| i.resource_id).collect();
    let records: BTreeMap<ResourceId, Resource> = store.get_many(&ids).await?.into_iter().map(|r| (r.id, r)).collect();
    let mut d = Dashboard {
        campaign: c.clone(),
        overall: Rate::default(),
        by_region_and_kind: BTreeMap::new(),
        statuses: BTreeMap::new(),
        non_responders: Vec::new(),
        changes: Vec::new(),
    };
    let mut surveyed = Vec::new();
    for inv in &invitations {
        let Some(r) = records.get(&inv.resource_id) else { continue };
        if key.is_some_and(|k| !in_regions(g, k, r)) {
            continue;
        }
        surveyed.push(r.clone());
        let response = responses.get(&inv.id);
        let responded = response.is_some_and(|x| x.status != "draft");
        if let Some(x) = response {
            *d.statuses.entry(x.status.clone()).or_default() += 1;
        }
        let region = g.region_of(r.municipality_code).map_or_else(|| "-".to_string(), |x| x.id.clone());
        d.overall.add(responded);
        d.by_region_and_kind
            .entry(region.clone())
            .or_default()
            .entry(r.kind.code().to_string())
            .or_default()
            .add(responded);
        if !responded {
            d.non_responders.push(NonResponder {
                invitation_id: inv.id.clone(),
                code: inv.code.clone(),
                resource_id: r.id,
                name: r.name.clone(),
                kind: r.kind,
                municipality: g.display_name(r.municipality_code).unwrap_or_default(),
                region,
                phone: r.contact.phone.clone(),
                fax: r.contact.fax.clone(),
                opened: inv.opened_at.is_some(),
            });
        }
    }
    let before: BTreeMap<String, BTreeMap<String, u64>> =
        serde_json::from_value(c.baseline.get("confirmed").cloned().unwrap_or_default()).unwrap_or_default();
    let now = confirmed_counts(g, &surveyed);
    let regions: BTreeSet<&String> = before.keys().chain(now.keys()).collect();
    for region in regions {
        if key.is_some_and(|k| k.role < Role::Admin && !k.regions.is_empty() && !k.regions.contains(region)) {
            continue;
        }
        for care in CareType::ALL {
            let b = before.get(region).and_then(|m| m.get(care.code())).copied().unwrap_or(0);
            let n = now.get(region).and_then(|m| m.get(care.code())).copied().unwrap_or(0);
            if b != n {
                d.changes.push(Change {
                    region: region.clone(),
                    region_name: g.region(region).map(|x| x.name.clone()).unwrap_or_default(),
                    care_type: *care,
                    before: b,
                    now: n,
                });
            }
        }
    }
    Ok(d)
}
