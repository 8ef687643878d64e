//! The tantivy schema: analysed text fields for matching and scoring, and fast fields from which
//! the in-memory [`Catalog`](crate::catalog::Catalog) is rebuilt when an index is opened.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, SchemaBuilder, TextFieldIndexing, TextOptions,
};

use crate::analysis::{ANALYZER_NAME, WORDS_ANALYZER_NAME};

/// Bump when the schema or the meaning of a field changes: older indexes are then rebuilt.
pub const SCHEMA_VERSION: u32 = 9;

/// Handles to every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Resource id, raw, for delete-by-term.
    pub id: Field,
    /// `(version << 32) | ord`: the catalog slot and the version of the record this doc holds.
    pub key: Field,
    pub name: Field,
    /// The name as ICU words (precision; bigram fields give recall).
    pub name_words: Field,
    pub kana: Field,
    pub description: Field,
    pub address: Field,
    /// Kind and care-type labels (and later synonyms) so "訪問看護" finds every home_nursing record.
    pub labels: Field,
    // Fast fields mirrored into the catalog.
    pub id_hi: Field,
    pub id_lo: Field,
    pub kind: Field,
    pub care: Field,
    pub declined: Field,
    /// Care types taken only under conditions (a subset of `care`).
    pub conditional: Field,
    /// Care types stated by the provider and not yet verified by the centre (a subset of `care`).
    pub unverified: Field,
    pub municipality: Field,
    pub lat: Field,
    pub lon: Field,
    pub service_radius: Field,
    pub serves: Field,
    /// A polygon service area as JSON rings of [lon, lat].
    pub service_polygon: Field,
    pub nurse_days: Field,
    pub transport: Field,
    /// Accessibility features as a bitmask over `Accessibility::ALL`.
    pub accessibility: Field,
    pub vacancies: Field,
    pub age_min: Field,
    pub age_max: Field,
    pub sample: Field,
    /// Not in its source's latest full list (「最新の公表データに掲載なし」).
    pub delisted: Field,
    /// A hash of the site id the record is linked to (absent: no site).
    pub site: Field,
    pub verified: Field,
    pub sort_key: Field,
    /// Name and reading as written, for suggestions (as-you-type).
    pub name_raw: Field,
    pub kana_raw: Field,
    /// Grid cells holding the point, one per level of [`crate::cells`] (indexed, not stored):
    /// a radius becomes a set of cells that tantivy intersects with the text.
    pub cell: Field,
    /// Indexes of the care types the resource confirms (indexed, not stored).
    pub care_term: Field,
}

/// Text fields searched by default, with their boosts.
pub fn text_fields(f: &Fields) -> [(Field, f32); 5] {
    [(f.name, 3.0), (f.kana, 2.0), (f.labels, 1.5), (f.address, 1.0), (f.description, 1.0)]
}

pub fn build() -> (Schema, Fields) {
    let mut b = SchemaBuilder::new();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING),
        key: b.add_u64_field("key", FAST),
        name: b.add_text_field("name", text.clone()),
        name_words: b.add_text_field(
            "name_words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(WORDS_ANALYZER_NAME)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        kana: b.add_text_field("kana", text.clone()),
        description: b.add_text_field("description", text.clone()),
        address: b.add_text_field("address", text.clone()),
        labels: b.add_text_field("labels", text),
        id_hi: b.add_u64_field("id_hi", FAST),
        id_lo: b.add_u64_field("id_lo", FAST),
        kind: b.add_u64_field("kind", FAST | INDEXED),
        care: b.add_u64_field("care", FAST),
        declined: b.add_u64_field("declined", FAST),
        conditional: b.add_u64_field("conditional", FAST),
        unverified: b.add_u64_field("unverified", FAST),
        municipality: b.add_u64_field("municipality", FAST | INDEXED),
        lat: b.add_f64_field("lat", FAST),
        lon: b.add_f64_field("lon", FAST),
        service_radius: b.add_f64_field("service_radius", FAST),
        serves: b.add_u64_field("serves", FAST),
        service_polygon: b.add_bytes_field("service_polygon", FAST),
        nurse_days: b.add_u64_field("nurse_days", FAST),
        transport: b.add_u64_field("transport", FAST),
        accessibility: b.add_u64_field("accessibility", FAST),
        vacancies: b.add_u64_field("vacancies", FAST),
        age_min: b.add_u64_field("age_min", FAST),
        age_max: b.add_u64_field("age_max", FAST),
        sample: b.add_bool_field("sample", FAST),
        delisted: b.add_bool_field("delisted", FAST),
        site: b.add_u64_field("site", FAST),
        verified: b.add_i64_field("verified", FAST),
        sort_key: b.add_u64_field("sort_key", FAST),
        name_raw: b.add_text_field("name_raw", STRING | FAST),
        kana_raw: b.add_text_field("kana_raw", STRING | FAST),
        cell: b.add_u64_field("cell", INDEXED),
        care_term: b.add_u64_field("care_term", INDEXED),
    };
    (b.build(), fields)
}

/// Look the fields up in an existing index's schema; `None` when the schema is not ours.
pub fn fields_of(schema: &Schema) -> Option<Fields> {
    let f = |n: &str| schema.get_field(n).ok();
    Some(Fields {
        id: f("id")?,
        key: f("key")?,
        name: f("name")?,
        name_words: f("name_words")?,
        kana: f("kana")?,
        description: f("description")?,
        address: f("address")?,
        labels: f("labels")?,
        id_hi: f("id_hi")?,
        id_lo: f("id_lo")?,
        kind: f("kind")?,
        care: f("care")?,
        declined: f("declined")?,
        conditional: f("conditional")?,
        unverified: f("unverified")?,
        municipality: f("municipality")?,
        lat: f("lat")?,
        lon: f("lon")?,
        service_radius: f("service_radius")?,
        serves: f("serves")?,
        service_polygon: f("service_polygon")?,
        nurse_days: f("nurse_days")?,
        transport: f("transport")?,
        accessibility: f("accessibility")?,
        vacancies: f("vacancies")?,
        age_min: f("age_min")?,
        age_max: f("age_max")?,
        sample: f("sample")?,
        delisted: f("delisted")?,
        site: f("site")?,
        verified: f("verified")?,
        sort_key: f("sort_key")?,
        name_raw: f("name_raw")?,
        kana_raw: f("kana_raw")?,
        cell: f("cell")?,
        care_term: f("care_term")?,
    })
}
