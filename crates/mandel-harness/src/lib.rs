//! The harness behind the `mandel` command: the kernel registry and the output files.
//!
//! The command-line front end is `src/main.rs`; everything it needs that a test may want to
//! call directly lives here.

pub mod output;
pub mod registry;
