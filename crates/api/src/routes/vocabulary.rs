//! `GET /v1/vocabulary`: the closed vocabularies with labels in Japanese and English.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_model::{Accessibility, Audience, CareType, Certificate, CourseType, Device, Kind, Weekday};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/vocabulary", get(vocabulary))
}

async fn vocabulary() -> Json<Value> {
    Json(json!({
        "kinds": Kind::ALL.iter().map(|k| k.labels()).collect::<Vec<_>>(),
        "care_types": CareType::ALL.iter().map(|c| c.labels()).collect::<Vec<_>>(),
        "weekdays": Weekday::ALL.iter().map(|d| d.labels()).collect::<Vec<_>>(),
        "accessibility": Accessibility::ALL.iter().map(|a| a.labels()).collect::<Vec<_>>(),
        "certificates": Certificate::ALL.iter().map(|c| c.labels()).collect::<Vec<_>>(),
        "audiences": Audience::ALL.iter().map(|a| a.labels()).collect::<Vec<_>>(),
        "course_types": CourseType::ALL.iter().map(|c| c.labels()).collect::<Vec<_>>(),
        "devices": Device::ALL.iter().map(|d| d.labels()).collect::<Vec<_>>(),
    }))
}
