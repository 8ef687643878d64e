//! The store: source of truth for resources (sqlx; SQLite embedded by default).
