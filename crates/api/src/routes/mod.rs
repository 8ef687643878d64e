//! One module per resource; each exposes a `router()` merged in [`crate::router`].

pub mod contacts;
pub mod emergencies;
pub mod exchange;
pub mod health;
pub mod places;
pub mod power;
pub mod reports;
pub mod resources;
pub mod search;
pub mod sources;
pub mod suggest;
pub mod survey;
pub mod vocabulary;
pub mod write;
