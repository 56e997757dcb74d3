//! The command line. The original takes Go-style flags (`-config=FILE`, `-config FILE`, `-version`, `-v`,
//! `-vv`, `-v=2`); deployments launched by Marathon pass them as they are, so they must keep working. A
//! small pure function rewrites every accepted spelling into the one form argh parses, and argh does the
//! rest (types, defaults, help text).
//!
//! The original also takes every flag of Go's glog package, and deployments pass them (DC/OS:
//! `--config=... -logtostderr=true`; Docker images: `-v=2 -logtostderr=true`, `-log_dir=DIR`): they are
//! all accepted. `-log_dir` and `-stderrthreshold` have a meaning here (see [`Args`]); `-vmodule` and
//! `-log_backtrace_at` are kept in [`Args::ignored`] so that `main` can say once that they do nothing.
//!
//! This module owns turning `argv` into [`Args`] or a [`CliError`]; what to do with them (printing, exit
//! status, reading the config, logging) is `main`'s job.

use std::fmt;
use std::path::{Path, PathBuf};

use argh::FromArgs;

/// DNS-based service discovery for Apache Mesos (a drop-in replacement for the Go Mesos-DNS).
#[derive(FromArgs, Debug, Clone, PartialEq, Eq)]
#[argh(
    help_triggers("--help"),
    note = "The original's Go-style flags work too: -config=FILE or -config FILE, -version,\n\
            -v (or -v=1), -vv (or -v=2), -check-config, -state-file=FILE, -resolv-conf=FILE, -h.\n\
            glog's flags are accepted: -logtostderr, -alsologtostderr (the log always goes to\n\
            stderr), -log_dir=DIR (also append it to DIR/mesos-dns.log), -stderrthreshold=LEVEL\n\
            (INFO, WARNING, ERROR or FATAL: the least severe level logged), -vmodule and\n\
            -log_backtrace_at (ignored).\n\
            Finer logging: the RUST_LOG environment variable (RUST_LOG=debug)."
)]
pub struct Args {
    /// the config file (default: config.json in the working directory; without it, the MESOS_DNS_<KEY>
    /// environment variables alone)
    #[argh(option)]
    pub config: Option<PathBuf>,

    /// print the version and exit
    #[argh(switch)]
    pub version: bool,

    /// load and check the config (file, environment, the files it names) as a start would, print
    /// `config OK` or the error, and exit 0 or 2 without binding or contacting anything
    #[argh(switch)]
    pub check_config: bool,

    /// how much to log: 0 warnings and errors, 1 (-v) also each refresh, 2 (-vv) also every record
    #[argh(option, default = "0")]
    pub verbosity: u8,

    /// read the state document from this file instead of asking the masters
    #[argh(option)]
    pub state_file: Option<PathBuf>,

    /// where to find nameservers when `resolvers` is empty (default: /etc/resolv.conf)
    #[argh(option)]
    pub resolv_conf: Option<PathBuf>,

    /// glog's -log_dir: also append the log to DIR/mesos-dns.log (unless -logtostderr)
    #[argh(option, hidden_help)]
    pub log_dir: Option<PathBuf>,

    /// glog's -logtostderr: log only to stderr (so -log_dir is not used)
    #[argh(switch, hidden_help)]
    pub logtostderr: bool,

    /// glog's -stderrthreshold: the least severe level logged, whatever -v says
    #[argh(option, hidden_help)]
    pub stderrthreshold: Option<Severity>,

    /// glog flags accepted for compatibility that do nothing here, as given (`-vmodule=x`)
    #[argh(option, hidden_help)]
    pub ignored: Vec<String>,
}

/// A glog severity, as `-stderrthreshold` takes it (`INFO`, `WARNING`, `ERROR`, `FATAL`, any case, or 0-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `INFO` (0): every log line.
    Info,
    /// `WARNING` (1).
    Warning,
    /// `ERROR` (2).
    Error,
    /// `FATAL` (3): errors only (there is no fatal level in `log`).
    Fatal,
}

impl Severity {
    /// glog's spellings: a name in any case, or its number.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_uppercase().as_str() {
            "INFO" | "0" => Some(Severity::Info),
            "WARNING" | "1" => Some(Severity::Warning),
            "ERROR" | "2" => Some(Severity::Error),
            "FATAL" | "3" => Some(Severity::Fatal),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }
}

impl argh::FromArgValue for Severity {
    fn from_arg_value(value: &str) -> Result<Self, String> {
        Severity::parse(value).ok_or_else(|| format!("`{value}` is not INFO, WARNING, ERROR or FATAL"))
    }
}

impl Args {
    /// The least severe level to log. `-v` levels say how much more than warnings to show; a
    /// `-stderrthreshold` sets the floor that `-v` lowers from (FATAL means errors only: nothing here is
    /// more severe than an error).
    pub fn log_level(&self) -> log::LevelFilter {
        use log::LevelFilter;
        let from_verbosity = match self.verbosity {
            0 => LevelFilter::Warn,
            1 => LevelFilter::Info,
            _ => LevelFilter::Debug,
        };
        let Some(threshold) = self.stderrthreshold else {
            return from_verbosity;
        };
        let floor = match threshold {
            Severity::Info => LevelFilter::Info,
            Severity::Warning => LevelFilter::Warn,
            Severity::Error | Severity::Fatal => LevelFilter::Error,
        };
        match self.verbosity {
            0 => floor,
            _ => floor.max(from_verbosity),
        }
    }

    /// The file to append the log to: `-log_dir` unless `-logtostderr` (as glog, where logging to stderr
    /// replaces the files).
    pub fn log_file(&self) -> Option<PathBuf> {
        match self.logtostderr {
            true => None,
            false => self.log_dir.as_ref().map(|dir| dir.join("mesos-dns.log")),
        }
    }
}

/// Expands a leading `~/` to `$HOME/` (or `$USERPROFILE/`), as the original does with `-config`; without
/// either variable, `~/` is the working directory (`./`), as in Go.
pub fn expand_home(path: &Path, home: Option<&std::ffi::OsStr>) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) if path.as_os_str().as_encoded_bytes().starts_with(b"~/") => {
            let home = home
                .filter(|h| !h.is_empty())
                .map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(rest)
        }
        _ => path.to_path_buf(),
    }
}

/// Why the command line did not give [`Args`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// Help was asked for: print this to stdout and exit 0.
    Help(String),
    /// The arguments are wrong: print this to stderr and exit 2.
    Usage(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Help(text) | CliError::Usage(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CliError {}

/// The highest verbosity; higher levels (glog habits such as `-v=4`) mean this.
const MAX_VERBOSITY: u8 = 2;

/// Parses the command line; `argv[0]` is the program name.
pub fn parse_args(argv: &[String]) -> Result<Args, CliError> {
    let cmd = argv
        .first()
        .and_then(|p| Path::new(p).file_name())
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("mesos-dns");
    let rest = argv.get(1..).unwrap_or_default();
    let tokens = normalize(rest).map_err(|problem| usage(cmd, &problem))?;
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    Args::from_args(&[cmd], &tokens).map_err(|exit| match exit.status {
        Ok(()) => CliError::Help(exit.output),
        Err(()) => usage(cmd, exit.output.trim_end()),
    })
}

fn usage(cmd: &str, problem: &str) -> CliError {
    CliError::Usage(format!("{cmd}: {problem}\nRun `{cmd} --help` for usage.\n"))
}

/// Rewrites Go-style arguments into argh's form: `--config PATH`, `--version`, `--check-config`, `--verbosity N`,
/// `--state-file PATH`, or just `--help`. As with Go's `flag` package, one or two dashes are the same,
/// a value follows `=` or comes as the next argument, a boolean flag takes only `=value`, and when a flag
/// is given twice the last one counts. Help stops at once (errors before it still count).
fn normalize(args: &[String]) -> Result<Vec<String>, String> {
    let mut config = None;
    let mut state_file = None;
    let mut resolv_conf = None;
    let mut version = false;
    let mut check_config = false;
    let mut v: u8 = 0;
    let mut vv = false;
    let mut log_dir = None;
    let mut logtostderr = false;
    let mut stderrthreshold = None;
    let mut ignored = Vec::new();

    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            match rest.next() {
                Some(extra) => return Err(format!("unexpected argument `{extra}`")),
                None => break,
            }
        }
        let body = match arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            Some(body) if !body.is_empty() => body,
            _ => return Err(format!("unexpected argument `{arg}`")),
        };
        if body.starts_with('-') || body.starts_with('=') {
            return Err(format!("bad flag syntax: `{arg}`"));
        }
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let dashes = &arg[..arg.len() - body.len()];
        let flag = format!("{dashes}{name}");
        match name {
            "h" | "help" => return Ok(vec!["--help".into()]),
            "config" | "state-file" | "resolv-conf" => {
                let value = match inline {
                    Some(value) => value.to_string(),
                    None => rest
                        .next()
                        .ok_or_else(|| format!("flag `{flag}` needs a path"))?
                        .clone(),
                };
                if value.is_empty() {
                    return Err(format!("flag `{flag}` needs a path, got an empty one"));
                }
                match name {
                    "config" => config = Some(value),
                    "state-file" => state_file = Some(value),
                    _ => resolv_conf = Some(value),
                }
            }
            "version" => {
                version = inline
                    .map_or(Some(true), go_bool)
                    .ok_or_else(|| bad_bool(&flag, inline))?
            }
            "check-config" => {
                check_config = inline
                    .map_or(Some(true), go_bool)
                    .ok_or_else(|| bad_bool(&flag, inline))?
            }
            "vv" => {
                vv = inline
                    .map_or(Some(true), go_bool)
                    .ok_or_else(|| bad_bool(&flag, inline))?
            }
            "v" | "verbosity" => {
                v = match inline {
                    Some(value) => level(&flag, value)?,
                    // `-v 2` (glog style): only a number is taken as the level; `-v` alone is the old switch.
                    None => match rest.as_slice().first() {
                        Some(next) if !next.is_empty() && next.bytes().all(|b| b.is_ascii_digit()) => {
                            rest.next();
                            level(&flag, next)?
                        }
                        _ if name == "v" => 1,
                        _ => return Err(format!("flag `{flag}` needs a level (0, 1 or 2)")),
                    },
                };
            }
            // glog's flags. Boolean ones take only `=value`, as in Go.
            "logtostderr" | "alsologtostderr" => {
                let on = inline
                    .map_or(Some(true), go_bool)
                    .ok_or_else(|| bad_bool(&flag, inline))?;
                if name == "logtostderr" {
                    logtostderr = on;
                }
            }
            "log_dir" | "stderrthreshold" | "vmodule" | "log_backtrace_at" => {
                let value = match inline {
                    Some(value) => value.to_string(),
                    None => rest
                        .next()
                        .ok_or_else(|| format!("flag `{flag}` needs a value"))?
                        .clone(),
                };
                match name {
                    // glog's default is the temporary directory; an empty one means that here.
                    "log_dir" => log_dir = Some(value).filter(|v| !v.is_empty()),
                    "stderrthreshold" => {
                        let severity = Severity::parse(&value).ok_or_else(|| {
                            format!("flag `{flag}` takes INFO, WARNING, ERROR or FATAL, got `{value}`")
                        })?;
                        stderrthreshold = Some(severity);
                    }
                    _ => ignored.push(format!("-{name}={value}")),
                }
            }
            _ => return Err(format!("unknown flag `{flag}`")),
        }
    }

    let mut out = Vec::new();
    if let Some(path) = config {
        out.extend(["--config".to_string(), path]);
    }
    if version {
        out.push("--version".into());
    }
    if check_config {
        out.push("--check-config".into());
    }
    let verbosity = if vv { MAX_VERBOSITY } else { v };
    if verbosity > 0 {
        out.extend(["--verbosity".to_string(), verbosity.to_string()]);
    }
    if let Some(path) = state_file {
        out.extend(["--state-file".to_string(), path]);
    }
    if let Some(path) = resolv_conf {
        out.extend(["--resolv-conf".to_string(), path]);
    }
    if let Some(dir) = log_dir {
        out.extend(["--log-dir".to_string(), dir]);
    }
    if logtostderr {
        out.push("--logtostderr".into());
    }
    if let Some(severity) = stderrthreshold {
        out.extend(["--stderrthreshold".to_string(), severity.as_str().to_string()]);
    }
    for flag in ignored {
        out.extend(["--ignored".to_string(), flag]);
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn bad_bool(flag: &str, value: Option<&str>) -> String {
    format!("flag `{flag}` takes true or false, got `{}`", value.unwrap_or_default())
}

/// A verbosity: a Go boolean (`-v=true` is 1) or a number, capped at [`MAX_VERBOSITY`].
fn level(flag: &str, value: &str) -> Result<u8, String> {
    if let Some(on) = go_bool(value) {
        return Ok(u8::from(on));
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits, so parsing fails only on overflow: a huge level, capped like any other.
        return Ok(match value.parse::<u64>() {
            Ok(0) => 0,
            Ok(1) => 1,
            _ => MAX_VERBOSITY,
        });
    }
    Err(format!(
        "flag `{flag}` takes a level 0, 1 or 2 (or true/false), got `{value}`"
    ))
}

#[cfg(test)]
mod tests;
