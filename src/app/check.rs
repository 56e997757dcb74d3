//! `-check-config`: the config loaded and checked exactly as a start does it ([`super::prepare`]: the
//! environment's keys, the file, the static records file, the certificate, key and IAM files), then
//! `config OK` on stdout and status 0, or the error on stderr and status 2. Nothing is bound, no thread
//! started, nothing contacted: it runs beside the server it checks for (`ExecStartPre=`, or before a
//! `systemctl reload`).

use std::process::ExitCode;

use crate::cli;

/// Checks the config that `args` name, as [`super::start`] would load it; the warnings a start would
/// log go to stderr too.
pub fn check_config(args: &cli::Args) -> ExitCode {
    let mut warnings = Vec::new();
    let prepared = super::prepare(args, &super::Environment::of_process(), &mut warnings);
    for w in warnings {
        eprintln!("mesos-dns: warning: {w}");
    }
    match prepared {
        Ok(prepared) => {
            let from = match &prepared.reload.config_path {
                Some(path) => path.display().to_string(),
                None => "the defaults".to_string(),
            };
            match prepared.reload.env.is_empty() {
                true => eprintln!("mesos-dns: checked {from}"),
                false => {
                    let vars: Vec<&str> = prepared.reload.env.variables().collect();
                    eprintln!("mesos-dns: checked {from} with {} over it", vars.join(", "));
                }
            }
            println!("config OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mesos-dns: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests;
