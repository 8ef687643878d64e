//! The directory of tsunagu without HTTP: what every front end (the API, the page, the CLI)
//! shares below the presentation layer.
//!
//! - [`plan`]: search planning — what a person asked ([`SearchIntent`]) → what the engine runs.
//! - [`find`]: running a plan, loosening it while it finds nothing, and reading its records.
//! - [`sync`]: the store (truth) and the search index (derived) kept in step — writes, rebuild,
//!   catch-up from the change log.
//! - [`authz`]: the one authorisation decision every write path reaches through the store.
//! - [`keys`]: API keys — making them, and checking a presented key.
//! - [`survey`]: the centre's survey of providers — campaigns, invitations, answers, review.
//! - [`sites`]: records of one site (one address, one 法人, several services) linked, not merged.

pub mod authz;
pub mod contacts;
pub mod find;
pub mod keys;
pub mod loosen;
pub mod offers;
pub mod plan;
pub mod sites;
pub mod survey;
pub mod sync;

pub use authz::Policy;
pub use find::{Answer, FindError};
pub use plan::{PlaceAsked, Plan, PlanError, Planner, SearchIntent};
pub use sync::{Directory, DirectoryError, IndexReadiness, rebuild};
