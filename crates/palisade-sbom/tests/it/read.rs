//! Readers on SBOMs written by others.
