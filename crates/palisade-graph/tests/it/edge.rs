//! Hand-written edge cases (filled below).
