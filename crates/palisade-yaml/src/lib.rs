//! The span-aware Kubernetes manifest loader: files, directories and stdin; multi-document
//! YAML streams and JSON; `*List` expansion; scalars resolved the way Kubernetes (go-yaml v2,
//! YAML 1.1) resolves them; a [`palisade_core::SpanTree`] for every document; and limits that
//! turn hostile input into clear errors instead of hangs or panics.
