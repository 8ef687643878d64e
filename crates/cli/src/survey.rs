//! `tsunagu survey`: run a campaign from the command line on the server (as the centre's admin).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use tsunagu_directory::survey::{self as sv, NewCampaign, Target};
use tsunagu_places::Gazetteer;
use tsunagu_store::{Actor, Store};

#[derive(Subcommand)]
pub enum SurveyAction {
    /// Make a campaign.
    Create {
        /// e.g. 「令和9年度 医療的ケア受入状況調査」
        #[arg(long)]
        name: String,
        /// Answers are due by this day (YYYY-MM-DD); invitations expire after it.
        #[arg(long)]
        deadline: chrono::NaiveDate,
        /// Kinds to survey (e.g. short_stay,daycare).
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<tsunagu_model::Kind>,
        /// 圏域 ids (e.g. 20-07).
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        /// Municipality codes.
        #[arg(long, value_delimiter = ',')]
        municipalities: Vec<tsunagu_model::MunicipalityCode>,
        /// review (every answer reviewed first) or publish (shown at once as the provider's answer).
        #[arg(long, default_value = "review")]
        mode: String,
        /// Also survey sample records (to try the survey out).
        #[arg(long)]
        include_sample: bool,
    },
    /// List campaigns.
    List,
    /// Make the invitations a campaign still lacks; prints code, record and form address.
    Invite {
        id: String,
        /// The address providers reach the server at.
        #[arg(long, env = "TSUNAGU_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Print invitation letters (HTML, one A4 page each, with a QR code). Each letter gets a new
    /// token: earlier links to the same facilities stop working.
    Letters {
        id: String,
        #[arg(long)]
        out: PathBuf,
        /// Every invitation, not only those without an answer.
        #[arg(long)]
        all: bool,
        /// ja, en or easy (やさしい日本語): the language the form opens in.
        #[arg(long, default_value = "ja")]
        lang: String,
        #[arg(long, env = "TSUNAGU_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        #[arg(long, env = "TSUNAGU_CENTRE_CONTACT", default_value = crate::serve::DEFAULT_CENTRE)]
        centre_contact: String,
    },
    /// Response rate, non-responders and what the campaign changed.
    Dashboard { id: String },
}

pub async fn run(g: &'static Gazetteer, store: &dyn Store, action: SurveyAction) -> anyhow::Result<()> {
    let actor = Actor::system("cli:survey");
    let campaign = |id: String| async move {
        store.campaign(&id).await?.with_context(|| format!("no survey `{id}` (see `tsunagu survey list`)"))
    };
    match action {
        SurveyAction::Create { name, deadline, kinds, regions, municipalities, mode, include_sample } => {
            let target = Target { kinds, regions, municipalities, resources: Vec::new() };
            let c = sv::create(store, g, None, &actor, NewCampaign { name, target, deadline, mode, include_sample })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let n = c.baseline.get("targeted").and_then(|v| v.as_u64()).unwrap_or(0);
            println!("{}", c.id);
            eprintln!("created survey `{}`: {n} records targeted, answers due {}", c.name, c.deadline);
        }
        SurveyAction::List => {
            for c in store.campaigns().await? {
                println!("{}\t{}\t{}\tdue {}\t{}", c.id, c.name, c.mode, c.deadline, c.target);
            }
        }
        SurveyAction::Invite { id, public_url } => {
            let c = campaign(id).await?;
            let issued = sv::invite(store, g, &c, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            for i in &issued {
                println!("{}\t{}\t{}", i.invitation.code, i.resource_name, crate_form_url(&public_url, &i.token));
            }
            eprintln!("{} invitation(s) made; the addresses above are shown only now", issued.len());
        }
        SurveyAction::Letters { id, out, all, lang, public_url, centre_contact } => {
            if !["ja", "en", "easy"].contains(&lang.as_str()) {
                bail!("--lang: ja, en or easy");
            }
            let c = campaign(id).await?;
            let answered: std::collections::HashSet<String> = store
                .responses(&c.id)
                .await?
                .into_iter()
                .filter(|r| r.status != "draft")
                .map(|r| r.invitation_id)
                .collect();
            let invs: Vec<_> = store
                .invitations(&c.id)
                .await?
                .into_iter()
                .filter(|i| i.revoked_at.is_none() && (all || !answered.contains(&i.id)))
                .collect();
            let ids: Vec<_> = invs.iter().map(|i| i.resource_id).collect();
            let records: std::collections::HashMap<_, _> =
                store.get_many(&ids).await?.into_iter().map(|r| (r.id, r)).collect();
            let invs: Vec<_> = invs.into_iter().filter(|i| records.contains_key(&i.resource_id)).collect();
            let tokens = sv::reissue(store, &c, &invs).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let letters: Vec<_> =
                tokens.into_iter().map(|(i, t)| (i.clone(), records[&i.resource_id].clone(), t)).collect();
            let html = tsunagu_api::web::survey::letters_page(&public_url, &centre_contact, &c, &letters, &lang);
            std::fs::write(&out, html.into_string()).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "{} letter(s) written to {}; print them from a browser (one A4 page each)",
                letters.len(),
                out.display()
            );
        }
        SurveyAction::Dashboard { id } => {
            let c = campaign(id).await?;
            let d = sv::dashboard(store, g, &c, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {} of {} answered ({:.1} %)",
                c.name,
                d.overall.responded,
                d.overall.invited,
                d.overall.rate * 100.0
            );
            for (region, kinds) in &d.by_region_and_kind {
                for (kind, r) in kinds {
                    println!("  {region} {kind}: {} / {}", r.responded, r.invited);
                }
            }
            for ch in &d.changes {
                println!("  {} {}圏域: {} → {} confirmed", ch.care_type.labels().ja, ch.region_name, ch.before, ch.now);
            }
            println!("not answered yet: {}", d.non_responders.len());
            for n in &d.non_responders {
                println!(
                    "  {}\t{}\t{}\t{}",
                    n.code,
                    n.name,
                    n.phone.as_deref().unwrap_or("-"),
                    n.fax.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

fn crate_form_url(public_url: &str, token: &str) -> String {
    tsunagu_api::routes::survey::form_url(public_url, token)
}
