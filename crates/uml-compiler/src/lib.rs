pub mod check;
pub mod hir;
pub mod schema;
pub mod stdlib;
pub mod types;
