//! Domain model of tsunagu (つなぐ): support resources for children who need medical care at
//! home (医療的ケア児) and their families, with the closed vocabularies of kinds and care types.
//!
//! Everything here is pure: no I/O, no clock reads except through callers. Raw input is parsed
//! once into these types (`MunicipalityCode`, `LatLon`, `RadiusKm`, `CareType`, …) and the rest
//! of the system trusts them.

pub mod codes;
pub mod details;
pub mod emergency;
pub mod error;
pub mod geo;
pub mod resource;
pub mod schedule;
pub mod survey;
pub mod terms;
pub mod text;
pub mod vocab;

pub use codes::{MunicipalityCode, PostalCode, ResourceId};
pub use error::FieldError;
pub use geo::{LatLon, RadiusKm};
pub use resource::{
    AgeRange, Capacity, Contact, MAX_POLYGON_POSITIONS, Operator, PrivateInfo, Resource, SAMPLE_MARK, ServiceArea,
    SiteBasis, SiteLink, Source, TransportFeatures,
};
pub use schedule::{TimeRange, WeeklyHours};
pub use vocab::{
    Accessibility, Audience, CareSet, CareType, Certificate, CourseType, Device, Kind, Labels, TransportFeature,
    UnknownTerm, Weekday,
};
