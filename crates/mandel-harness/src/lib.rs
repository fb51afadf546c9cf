//! The harness behind the `mandel` command: the kernel registry, the race, its reports and
//! exports, and the output files.
//!
//! The command-line front end is `src/main.rs`, a thin dispatcher to [`commands`]; everything
//! it needs that a test may want to call directly lives here.

pub mod chart;
pub mod commands;
pub mod exports;
pub mod output;
pub mod progress;
pub mod provenance;
pub mod python;
pub mod race;
pub mod registry;
pub mod report;
pub mod scaling;
pub mod stats;
pub mod tiles;
pub mod variants;
