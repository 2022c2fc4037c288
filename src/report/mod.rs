//! What people read: the terminal summary.

pub mod summary;
