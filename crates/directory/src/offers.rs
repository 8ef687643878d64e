//! Answers that are not "what is near me":
//!
//! - [`Directory::programmes_for`]: the programmes (制度) a family's municipality runs or takes
//!   part in, whose eligibility the child fits, or may fit: matched by residence, never by
//!   distance;
//! - [`Directory::sessions`]: training sessions still to come, for an audience, a course type and
//!   a 圏域, soonest first;
//! - [`Directory::power_points`]: the power points near a family that can run what they bring.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tsunagu_model::details::{Child, DeviceMatch, Fit, PowerSupply, Programme, Session};
use tsunagu_model::emergency::{PowerState, PowerStatus};
use tsunagu_model::{Audience, CourseType, Device, Kind, LatLon, MunicipalityCode, Resource, ServiceArea};
use tsunagu_places::{Gazetteer, Region, service};

use crate::find::FindError;
use crate::plan::{PlaceAsked, Planner, SearchIntent};
use crate::sync::{Directory, DirectoryError};

/// A programme and how the child fits it.
#[derive(Debug, Clone)]
pub struct ProgrammeMatch {
    pub resource: Resource,
    pub fit: Fit,
}

/// The residents a programme is for: its service area's municipalities, or else its own
/// municipality (a designated city's programme covers its wards).
pub fn residents_of(g: &Gazetteer, r: &Resource) -> Vec<MunicipalityCode> {
    match &r.service_area {
        ServiceArea::Municipalities { .. } | ServiceArea::Region { .. } => service::served_codes(g, &r.service_area),
        _ => {
            let own = g.municipality(r.municipality_code).and_then(|m| m.parent).unwrap_or(r.municipality_code);
            g.expand(own)
        }
    }
}

/// Whether a course is for people in `region`: held there, or open to its municipalities.
pub fn serves_region(g: &Gazetteer, r: &Resource, region: &Region) -> bool {
    let codes = g.region_codes(region);
    codes.contains(&r.municipality_code) || service::served_codes(g, &r.service_area).iter().any(|c| codes.contains(c))
}

/// Which sessions to list.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// For any of these audiences (empty: any).
    pub audience: Vec<Audience>,
    pub course: Option<CourseType>,
    /// In this 圏域, by id (an unknown id lists nothing: callers check ids first).
    pub region: Option<String>,
    /// Only sessions that still take applications (deadline not passed, seats not all taken).
    pub open_only: bool,
}

/// One session of a course.
#[derive(Debug, Clone, Serialize)]
pub struct SessionEntry {
    #[serde(skip)]
    pub resource: Resource,
    /// The session's position in its course (stable while the course's sessions are).
    pub index: usize,
    pub session: Session,
}

impl SessionEntry {
    /// A stable identifier for calendars (RFC 5545 UID): the record and the session's start.
    pub fn uid(&self) -> String {
        format!("{}-{}@tsunagu", self.resource.id, self.session.starts_at.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ"))
    }
}

impl Directory {
    /// Every record of one kind the search can see (programmes and courses are few).
    async fn every(&self, planner: &Planner, kind: Kind, include_sample: bool) -> Result<Vec<Resource>, FindError> {
        self.all_of(planner, SearchIntent { kinds: Some(vec![kind]), include_sample, ..SearchIntent::default() }).await
    }

    /// The programmes whose residents include `municipality` and that the child fits or may fit:
    /// those known to fit first, then those with conditions still to check, each by name.
    pub async fn programmes_for(
        &self,
        planner: &Planner,
        municipality: MunicipalityCode,
        child: &Child,
        include_sample: bool,
    ) -> Result<Vec<ProgrammeMatch>, FindError> {
        let g = planner.places().gazetteer;
        let mut out: Vec<ProgrammeMatch> = self
            .every(planner, Kind::Program, include_sample)
            .await?
            .into_iter()
            .filter(|r| residents_of(g, r).contains(&municipality))
            .filter_map(|r| {
                // A programme without details is matched by its ages only; the rest is to check.
                let fit = match &r.programme {
                    Some(p) => p.fit(r.ages, child),
                    None => match Programme::default().fit(r.ages, child) {
                        Fit::No(why) => Fit::No(why),
                        Fit::ToCheck(mut v) => {
                            v.push("eligibility");
                            Fit::ToCheck(v)
                        }
                        Fit::Fits => Fit::ToCheck(vec!["eligibility"]),
                    },
                };
                (!matches!(fit, Fit::No(_))).then_some(ProgrammeMatch { resource: r, fit })
            })
            .collect();
        out.sort_by(|a, b| {
            let rank = |m: &ProgrammeMatch| !matches!(m.fit, Fit::Fits);
            rank(a).cmp(&rank(b)).then_with(|| a.resource.name.cmp(&b.resource.name))
        });
        Ok(out)
    }

    /// Sessions that have not ended at `now`, soonest first; past sessions are left out.
    pub async fn sessions(
        &self,
        planner: &Planner,
        q: &SessionQuery,
        now: DateTime<Utc>,
        include_sample: bool,
    ) -> Result<Vec<SessionEntry>, FindError> {
        let g = planner.places().gazetteer;
        let region = match &q.region {
            Some(id) => match g.region(id) {
                Some(r) => Some(r),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let today = tsunagu_model::details::japan_date(now);
        let mut out = Vec::new();
        for r in self.every(planner, Kind::Training, include_sample).await? {
            let Some(t) = &r.training else { continue };
            if q.course.is_some_and(|c| c != t.course)
                || (!q.audience.is_empty() && !t.audience.iter().any(|a| q.audience.contains(a)))
                || region.is_some_and(|reg| !serves_region(g, &r, reg))
            {
                continue;
            }
            for (index, s) in t.sessions.iter().enumerate() {
                if s.is_upcoming(now) && (!q.open_only || s.open_for_applications(today)) {
                    out.push(SessionEntry { resource: r.clone(), index, session: s.clone() });
                }
            }
        }
        out.sort_by(|a, b| {
            a.session.starts_at.cmp(&b.session.starts_at).then_with(|| a.resource.name.cmp(&b.resource.name))
        });
        Ok(out)
    }
}

/// A power point near the family, what it says it can power of what they bring, and its status.
#[derive(Debug, Clone)]
pub struct PowerPoint {
    pub resource: Resource,
    pub distance_km: Option<f64>,
    pub devices: DeviceMatch,
    /// The last reported status, if any (it may be stale: see [`PowerPoint::status_rank`]).
    pub status: Option<PowerStatus>,
}

impl PowerPoint {
    /// 0: a fresh report of power available or open; 1: no fresh report; 2: a fresh report of
    /// full or closed.
    pub fn status_rank(&self, now: DateTime<Utc>, stale_hours: u32) -> u8 {
        match &self.status {
            Some(p) if !p.is_stale(now, stale_hours) => match p.state {
                PowerState::PowerAvailable | PowerState::Open => 0,
                _ => 2,
            },
            _ => 1,
        }
    }
}

/// How many power points of each kind to consider around a place before ranking them.
pub const POWER_CANDIDATES: usize = 20;
/// Points within this distance are ranked by what they can power; farther ones are listed only
/// when none is this near (a family in an outage must be able to get there).
pub const POWER_REACH_KM: f64 = 30.0;

impl Directory {
    /// The power points (and welfare shelters that state their power) within [`POWER_REACH_KM`] of
    /// `point` (or, when there are none, the nearest), ranked for the devices a family brings:
    /// known shortfalls (too few outlets, more watts than the generator gives) last; before them,
    /// those reported open now, then those not (freshly) reported, then those reported full or
    /// closed; within each, those that leave fewer of the devices unknown; then nearest first.
    #[allow(clippy::too_many_arguments)]
    pub async fn power_points(
        &self,
        planner: &Planner,
        point: LatLon,
        devices: &[Device],
        watts: Option<u32>,
        now: DateTime<Utc>,
        stale_hours: u32,
        include_sample: bool,
        limit: usize,
    ) -> Result<Vec<PowerPoint>, FindError> {
        let mut out = Vec::new();
        for kind in [Kind::PowerSupply, Kind::WelfareShelter] {
            let intent = SearchIntent {
                place: Some(PlaceAsked::Point(point)),
                kinds: Some(vec![kind]),
                include_sample,
                sort: Some(tsunagu_search::Sort::Distance),
                limit: POWER_CANDIDATES,
                facets: false,
                relax: false,
                group_sites: false,
                ..SearchIntent::default()
            };
            let found = self.find(planner, intent).await?;
            for (hit, r) in found.records {
                // A shelter counts only when it states its power.
                if kind == Kind::WelfareShelter && r.power_supply.is_none() {
                    continue;
                }
                let devices = PowerSupply::match_devices(r.power_supply.as_ref(), devices, watts);
                let distance_km = hit.distance_km.map(|d| (d * 10.0).round() / 10.0);
                out.push(PowerPoint { distance_km, devices, status: None, resource: r });
            }
        }
        if out.iter().any(|p| p.distance_km.is_some_and(|d| d <= POWER_REACH_KM)) {
            out.retain(|p| p.distance_km.is_some_and(|d| d <= POWER_REACH_KM));
        }
        let ids: Vec<_> = out.iter().filter(|p| p.resource.kind == Kind::PowerSupply).map(|p| p.resource.id).collect();
        let statuses = if ids.is_empty() {
            Default::default()
        } else {
            self.store.power_statuses(&ids).await.map_err(DirectoryError::from)?
        };
        for p in &mut out {
            p.status = statuses.get(&p.resource.id).cloned();
        }
        out.sort_by(|a, b| {
            let key =
                |p: &PowerPoint| (p.devices.ruled_out(), p.status_rank(now, stale_hours), p.devices.unknown.len());
            key(a)
                .cmp(&key(b))
                .then_with(|| a.distance_km.unwrap_or(f64::MAX).total_cmp(&b.distance_km.unwrap_or(f64::MAX)))
        });
        out.truncate(limit);
        Ok(out)
    }
}
