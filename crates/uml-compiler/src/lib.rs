pub mod schema;
pub mod stdlib;
pub mod types;
