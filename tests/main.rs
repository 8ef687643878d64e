//! The end-to-end tests, one binary (one link step): the real `tsunagu` binary serving the
//! bundled data, its CLI, the page in headless Chromium, and the real router in-process.
//! Each module is one area; `common` holds the shared helpers.

mod common;

mod authorization;
mod bad_input;
mod bench;
mod browser;
mod cli;
mod contacts;
mod contract;
mod edge;
mod editing;
mod emergencies;
mod geocoding;
mod hsds_schema;
mod index_consistency;
mod limits;
mod page;
mod page_second_pass;
mod places;
mod power_status;
mod programmes_training;
mod provenance;
mod readme;
mod real_records;
mod relevance;
mod robustness;
mod search_quality;
mod stories;
mod suggest;
mod survey;
