//! Palisade's rule catalog and engine. Rules are data ([`palisade_core::RuleMeta`]) plus small
//! pure functions over a loaded object; the Pod Security Standards family reproduces Pod
//! Security Admission's decisions and messages exactly, at every policy version.
