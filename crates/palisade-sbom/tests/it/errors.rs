//! Bad input: errors naming input and field, limits, no panics.
