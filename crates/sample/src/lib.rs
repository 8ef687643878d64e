//! Deterministic generator of the bundled sample resources (every record sample: true).
