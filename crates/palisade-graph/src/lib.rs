//! Cross-object analysis: RBAC and NetworkPolicy over the whole set of scanned objects.
