pub mod check;
pub mod eval;
pub mod hir;
pub mod hir_print;
pub mod schema;
pub mod stdlib;
pub mod testing;
pub mod types;
