//! `mandel list`: every kernel (precision, exactness, availability here), the devices the
//! kernels run on, and every scene.

use std::io::{self, Write};

use mandel_core::{Availability, SCENES};

use crate::registry::all_kernels;

/// Writes the listing to `out`.
pub fn list(out: &mut impl Write) -> io::Result<()> {
    let kernels = all_kernels();
    let width = kernels.iter().map(|k| k.name().len()).max().unwrap_or(0).max("KERNEL".len());
    writeln!(out, "{:width$}  PRECISION  EXACT  AVAILABLE  DESCRIPTION", "KERNEL")?;
    for kernel in &kernels {
        let available = match kernel.availability() {
            Availability::Ready => "yes".to_string(),
            Availability::Unavailable(reason) => format!("no ({reason})"),
        };
        writeln!(
            out,
            "{:width$}  {:9}  {:5}  {:9}  {}",
            kernel.name(),
            kernel.precision().as_str(),
            if kernel.is_exact() { "yes" } else { "no" },
            available,
            kernel.description()
        )?;
    }
    // Which accelerator each kernel that has one runs on (the GPU kernels: adapter, backend, driver).
    let mut devices: Vec<(String, Vec<&str>)> = Vec::new();
    for kernel in &kernels {
        let Some(device) = kernel.device() else { continue };
        match devices.iter_mut().find(|(known, _)| *known == device) {
            Some((_, users)) => users.push(kernel.name()),
            None => devices.push((device, vec![kernel.name()])),
        }
    }
    if !devices.is_empty() {
        writeln!(out)?;
        writeln!(out, "DEVICE")?;
        for (device, users) in devices {
            writeln!(out, "{} on {device}", users.join(", "))?;
        }
    }
    writeln!(out)?;
    let width = SCENES.iter().map(|s| s.name().len()).max().unwrap_or(0).max("SCENE".len());
    writeln!(out, "{:width$}  DESCRIPTION", "SCENE")?;
    for scene in SCENES {
        writeln!(out, "{:width$}  {}", scene.name(), scene.description())?;
    }
    Ok(())
}
