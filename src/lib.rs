//! launchgate: decides whether a funnel is ready for paid traffic.
//!
//! Data flows one way: `policy` → `engine` → `checks` (using `net`) → `finding`s →
//! `report`. See the README's architecture section.

// Policy errors carry their source line for the rendered excerpt; they are the cold
// path (exit 2), so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod certs;
pub mod checks;
pub mod cli;
pub mod demo;
pub mod dnscmd;
pub mod drift;
pub mod engine;
pub mod finding;
pub mod github;
pub mod init;
pub mod load;
pub mod net;
pub mod notify;
pub mod policy;
pub mod redact;
pub mod report;
pub mod secrets;
pub mod serve;
pub mod serve_dns;
