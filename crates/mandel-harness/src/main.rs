//! `mandel`: list the discovered kernels, render frames with any of them, and race them. A thin
//! dispatcher: the subcommands live in `mandel_harness::commands`.

use std::process::ExitCode;

use clap::Parser;
use mandel_harness::commands::{self, usage_error, Cli};

fn main() -> ExitCode {
    // Mesa's device-select Vulkan layer prints "XDG_RUNTIME_DIR is invalid" on every start of a
    // GPU kernel outside a desktop session; wgpu chooses among the adapters itself, so the layer
    // is not needed. Set here, first, while the process has a single thread.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    // This program is also the MPI rung's worker (`mandel mpi-worker`, which mpirun starts).
    if let Ok(exe) = std::env::current_exe() {
        kernel_mpi::register_worker(exe, vec!["mpi-worker".into()]);
    }
    match Cli::try_parse() {
        Ok(cli) => commands::run(cli),
        Err(err) => usage_error(err),
    }
}
