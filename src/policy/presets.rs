//! Presets shipped in checks/presets/, embedded so the binary works anywhere.

pub const NAMES: &[&str] = &["recommended"];

pub fn get(name: &str) -> Option<&'static str> {
    match name {
        "recommended" => Some(include_str!("../../checks/presets/recommended.yml")),
        _ => None,
    }
}
