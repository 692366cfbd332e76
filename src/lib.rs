//! launchgate: decides whether a funnel is ready for paid traffic.
//!
//! Data flows one way: `policy` → `engine` → `checks` (using `net`) → `finding`s →
//! `report`. See the README's architecture section.

pub mod app;
pub mod certs;
pub mod checks;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod finding;
pub mod net;
pub mod policy;
pub mod redact;
pub mod report;
pub mod serve;
