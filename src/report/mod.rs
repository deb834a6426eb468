//! Reporters: the only place violations become text.

pub mod human;
