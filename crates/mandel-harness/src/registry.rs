//! The kernel registry: the references plus every kernel of every discovered `kernel-*` crate.

use mandel_core::MandelKernel;

mod discovered {
    include!(concat!(env!("OUT_DIR"), "/discovered.rs"));
}

pub use discovered::{kernels_by_crate, KERNEL_CRATES};

/// Every kernel, references first, then the discovered crates in rung order.
pub fn all_kernels() -> Vec<Box<dyn MandelKernel>> {
    let mut kernels = mandel_core::reference_kernels();
    kernels.extend(kernels_by_crate().into_iter().flat_map(|(_, kernels)| kernels));
    kernels
}

/// Why a kernel name was not found: the message lists the valid ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown kernel `{name}`; the kernels are: {known}")]
pub struct UnknownKernel {
    /// The name asked for.
    pub name: String,
    /// Every valid name, comma-separated.
    pub known: String,
}

/// The kernel called `name`.
pub fn find_kernel(name: &str) -> Result<Box<dyn MandelKernel>, UnknownKernel> {
    let kernels = all_kernels();
    let known = kernels.iter().map(|k| k.name().to_string()).collect::<Vec<_>>().join(", ");
    kernels
        .into_iter()
        .find(|kernel| kernel.name() == name)
        .ok_or_else(|| UnknownKernel { name: name.to_string(), known })
}
