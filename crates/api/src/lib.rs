//! HTTP JSON API (axum): routes, handlers, RFC 9457 problem responses.
