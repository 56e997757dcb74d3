//! The `mesos-dns` binary: allocator tuning, the command line, logging, then [`mesos_dns::start`] (or
//! [`mesos_dns::check_config`] with `-check-config`). Everything
//! else lives in the library.

use std::process::ExitCode;

use mesos_dns::{Args, CliError};

#[cfg(any(test, target_env = "musl"))]
mod allocator;
#[cfg(all(target_arch = "x86_64", any(test, target_env = "musl")))]
mod libc_string;

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: allocator::ShrinkingMiMalloc = allocator::ShrinkingMiMalloc;

fn main() -> ExitCode {
    tune_allocator();
    let argv: Vec<String> = std::env::args().collect();
    let args = match mesos_dns::parse_args(&argv) {
        Ok(args) => args,
        Err(CliError::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(CliError::Usage(text)) => {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
    };
    if args.version {
        println!("mesos-dns {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    init_logging(&args);
    let mut args = args;
    args.config = args
        .config
        .map(|path| mesos_dns::expand_home(&path, std::env::var_os("HOME").as_deref()));

    match args.check_config {
        true => mesos_dns::check_config(&args),
        false => mesos_dns::start(&args),
    }
}

/// With glibc's allocator, blocks from 256 KiB up are always mapped on their own, so that the large
/// buffers of each refresh (the state body, record tables) go back to the system when freed. By default
/// glibc raises that threshold after the first large free and serves later ones from the heap, where
/// fragmentation left a 100k-task server at 5x the document's size instead of under 4x
/// (`benches/refresh.sh`). The static musl build uses mimalloc instead.
///
/// Either way, no transparent huge pages: the heap is millions of small blocks freed here and there,
/// and a 2 MiB page stays resident whole while one of them lives. mimalloc asks for huge pages unless
/// built without (Cargo.toml): at 100k tasks they held 120 MB after the first refresh and 189 MB after
/// the second, against 93-100 MB and 95-101 MB without (and with `refresh::publish`'s collect after a
/// build; `benches/refresh.sh`). Where THP is `always`, this also keeps them off glibc's heaps.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag of this process; it takes no pointer.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    #[cfg(target_env = "musl")]
    // SAFETY: mi_option_set only sets one of mimalloc's options; it takes no pointer.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

/// mimalloc's `mi_option_purge_delay` (mimalloc.h; libmimalloc-sys names the options on either side of
/// it, 14 and 16, but not this one): how long freed pages stay committed before they go back to the
/// system, 10 ms by default. 0 hands them back at once: a refresh frees large structures (the record
/// list, the last model) while it allocates the next, and with the delay their pages were still
/// resident when new ones were touched (100k tasks, `benches/refresh.sh`, static build: peak 150 MB ->
/// 125 MB, resident 91 -> 86 MB; 8% more time on the first refresh).
#[cfg(target_env = "musl")]
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

#[cfg(target_env = "musl")]
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `-v` logs warnings and each refresh, `-vv` every record too, `-stderrthreshold` sets the floor;
/// `RUST_LOG` overrides them all. The log goes to stderr, and with `-log_dir` to `DIR/mesos-dns.log` too.
fn init_logging(args: &Args) {
    let level = args.log_level().as_str().to_ascii_lowercase();
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
    builder.format(|out, record| {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut line = String::with_capacity(128);
        line.push('[');
        mesos_dns::write_utc(&mut line, millis);
        use std::fmt::Write as _;
        let _ = write!(line, " {:<5} {}] {}", record.level(), record.target(), record.args());
        line.push('\n');
        std::io::Write::write_all(out, line.as_bytes())
    });
    let mut file_problem = None;
    if let Some(path) = args.log_file() {
        let file = std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&path));
        match file {
            Ok(file) => {
                builder.target(env_logger::Target::Pipe(Box::new(mesos_dns::Tee { file })));
            }
            Err(e) => {
                file_problem = Some(format!(
                    "-log_dir: cannot write {}: {e}; logging to stderr only",
                    path.display()
                ))
            }
        }
    }
    builder.init();
    if let Some(problem) = file_problem {
        log::warn!("{problem}");
    }
    if args.log_dir.is_some() && args.logtostderr {
        log::info!("-logtostderr is set, so -log_dir is not used: logging to stderr only");
    }
    for flag in &args.ignored {
        log::info!("{flag}: glog flag accepted for compatibility, it has no effect here");
    }
}
