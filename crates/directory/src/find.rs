//! Running a planned search: the engine's answer, loosened step by step when it finds nothing,
//! and the records it names read from the store in one go.

use std::collections::HashMap;

use tsunagu_model::{Resource, ResourceId};
use tsunagu_search::{Hit, SearchRequest, SearchResults};

use crate::plan::{InterpretationView, Plan, PlanError, Planner, QueryEcho, Relaxation, SearchIntent};
use crate::sync::{Directory, DirectoryError};

/// A search's answer, with the records behind it.
#[derive(Debug)]
pub struct Answer {
    /// The request as finally run (after any relaxation).
    pub request: SearchRequest,
    pub echo: QueryEcho,
    pub interpretation: Option<InterpretationView>,
    /// What was loosened, in order, because the search as asked found nothing.
    pub relaxed: Vec<Relaxation>,
    /// When it still finds nothing: each condition that, taken away on its own, leaves results
    /// (in the place asked), with how many; most first.
    pub without: Vec<crate::loosen::Without>,
    pub found: SearchResults,
    /// Each hit with its record, in rank order; a hit whose record was deleted since the index
    /// saw it is left out.
    pub records: Vec<(Hit, Resource)>,
    /// The other services at the results' sites, by id.
    pub site_mates: HashMap<ResourceId, Resource>,
    /// When care was asked near a place and none of the matches there confirms it: the nearest
    /// that do, however far (the matches nearby stay the answer, as a second list).
    pub confirmed_further: Option<Further>,
}

/// The nearest matches that confirm the care asked, outside the area searched.
#[derive(Debug)]
pub struct Further {
    /// How many confirm it anywhere.
    pub total: usize,
    /// The nearest of them with their records, nearest first.
    pub records: Vec<(Hit, Resource)>,
    /// km to the nearest (rounded to 0.1).
    pub nearest_km: Option<f64>,
    pub detail_ja: String,
    pub detail_en: String,
}

/// How many confirmed results further away an answer offers.
const FURTHER: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("the search cannot be planned")]
    Plan(PlanError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl From<PlanError> for FindError {
    fn from(e: PlanError) -> FindError {
        FindError::Plan(e)
    }
}

impl Directory {
    /// Run a search on the index (on a blocking thread: scoring is CPU work).
    pub async fn run(&self, req: &SearchRequest) -> Result<SearchResults, DirectoryError> {
        let index = self.index.clone();
        let req = req.clone();
        Ok(tokio::task::spawn_blocking(move || index.search(&req)).await??)
    }

    /// Every match of a search, ignoring its page (for a region's tables and exports).
    pub async fn run_all(&self, req: &SearchRequest) -> Result<SearchResults, DirectoryError> {
        let index = self.index.clone();
        let req = req.clone();
        Ok(tokio::task::spawn_blocking(move || index.search_all(&req)).await??)
    }

    /// Plan a search and read every record it finds, ignoring its page, without relaxing it or
    /// grouping sites (for a region's tables, exports and the first contacts).
    pub async fn all_of(&self, planner: &Planner, intent: SearchIntent) -> Result<Vec<Resource>, FindError> {
        let plan = planner.plan(SearchIntent { group_sites: false, facets: false, relax: false, ..intent })?;
        let found = self.run_all(&plan.request).await?;
        let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
        Ok(self.store.get_many(&ids).await.map_err(DirectoryError::from)?)
    }

    /// Plan and run a search, relaxing it while it finds nothing, and read its records.
    pub async fn find(&self, planner: &Planner, intent: SearchIntent) -> Result<Answer, FindError> {
        let mut plan = planner.plan(intent)?;
        let asked = (plan.relax && plan.request.offset == 0).then(|| crate::loosen::loosenings(&plan));
        let mut relaxed = Vec::new();
        let found = loop {
            let found = self.run(&plan.request).await?;
            if !Planner::may_relax(&plan, found.total, relaxed.len()) {
                break found;
            }
            match planner.relax(&mut plan) {
                Some(step) => relaxed.push(step),
                None => break found,
            }
        };
        let mut without = Vec::new();
        if found.total == 0
            && let Some(loosenings) = asked
        {
            let mut counted = Vec::with_capacity(loosenings.len());
            for l in loosenings {
                let n = self.run(&l.request).await?.total;
                counted.push((l.without, n));
            }
            without = crate::loosen::with_totals(counted);
        }
        let confirmed_further = self.confirmed_further(&plan, &found).await?;
        let records = self.records_of(&found.hits).await?;
        let mut mate_ids: Vec<_> = found.hits.iter().flat_map(|h| h.site_mates.iter().copied()).collect();
        mate_ids.sort();
        mate_ids.dedup();
        let site_mates = self
            .store
            .get_many(&mate_ids)
            .await
            .map_err(DirectoryError::from)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let Plan { request, echo, interpretation, .. } = plan;
        Ok(Answer { request, echo, interpretation, relaxed, without, found, records, site_mates, confirmed_further })
    }

    /// Each hit with its record, in rank order; a hit whose record was deleted since the index saw
    /// it is left out.
    async fn records_of(&self, hits: &[Hit]) -> Result<Vec<(Hit, Resource)>, DirectoryError> {
        let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
        let mut resources = self.store.get_many(&ids).await.map_err(DirectoryError::from)?.into_iter();
        // get_many keeps the order asked and leaves out records deleted since the index saw them.
        let mut records = Vec::with_capacity(hits.len());
        let mut next = resources.next();
        for hit in hits {
            if let Some(r) = next.take_if(|r| r.id == hit.id) {
                records.push((hit.clone(), r));
                next = resources.next();
            }
        }
        Ok(records)
    }

    /// The nearest confirmed matches beyond the area, when care was asked near a place and
    /// nothing found there confirms it.
    async fn confirmed_further(&self, plan: &Plan, found: &SearchResults) -> Result<Option<Further>, DirectoryError> {
        let req = &plan.request;
        let asked_care = !req.care_types.is_empty() || !req.care_any.is_empty();
        if !plan.relax
            || req.offset > 0
            || !asked_care
            || req.point.is_none()
            || found.total == 0
            || found.confirmed_total > 0
        {
            return Ok(None);
        }
        let wider = SearchRequest {
            radius: None,
            municipalities: None,
            include_unconfirmed: false,
            sort: Some(tsunagu_search::Sort::Distance),
            offset: 0,
            limit: FURTHER,
            facets: false,
            ..req.clone()
        };
        let further = self.run(&wider).await?;
        if further.total == 0 {
            return Ok(None);
        }
        let records = self.records_of(&further.hits).await?;
        let nearest_km = records.first().and_then(|(h, _)| h.distance_km).map(|d| (d * 10.0).round() / 10.0);
        let (detail_ja, detail_en) = match nearest_km {
            Some(km) => (
                format!("この近くには対応が確認できたところがありません。確認済みの最寄り: {km} km"),
                format!("None nearby has confirmed it. The nearest that has: {km} km"),
            ),
            None => (
                "この近くには対応が確認できたところがありません。".to_string(),
                "None nearby has confirmed it.".to_string(),
            ),
        };
        Ok(Some(Further { total: further.total, records, nearest_km, detail_ja, detail_en }))
    }
}
