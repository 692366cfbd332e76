//! launch.yml: model, loading with locations, `${VAR}` expansion, presets, schema.

mod load;
mod merge;
pub mod model;
mod presets;
pub mod types;
pub mod vars;

pub use load::{did_you_mean, is_secret_name, load, load_str, LoadOptions, PolicyError};
pub use model::*;

/// JSON Schema of launch.yml (`launchgate schema`).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Policy);
    serde_json::to_string_pretty(&schema).expect("schema serializes")
}
