//! The command line: every spelling deployments use, and every mistake named.
use super::*;

fn parse(args: &[&str]) -> Result<Args, CliError> {
    let argv: Vec<String> = std::iter::once("mesos-dns")
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    parse_args(&argv)
}

fn usage_text(args: &[&str]) -> String {
    match parse(args) {
        Err(CliError::Usage(text)) => text,
        other => panic!("expected a usage error for {args:?}, got {other:?}"),
    }
}

#[test]
fn no_arguments_give_the_defaults() {
    let args = parse(&[]).unwrap();
    assert_eq!(
        args,
        Args {
            config: None,
            version: false,
            check_config: false,
            verbosity: 0,
            state_file: None,
            resolv_conf: None,
            log_dir: None,
            logtostderr: false,
            stderrthreshold: None,
            ignored: Vec::new(),
        }
    );
}

#[test]
fn the_seed_tutorial_command_line_parses() {
    // "cmd": "sudo  /usr/local/mesos-dns/mesos-dns -v -config=/usr/local/mesos-dns/config.json"
    let argv: Vec<String> = [
        "/usr/local/mesos-dns/mesos-dns",
        "-v",
        "-config=/usr/local/mesos-dns/config.json",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let args = parse_args(&argv).unwrap();
    assert_eq!(args.config, Some(PathBuf::from("/usr/local/mesos-dns/config.json")));
    assert_eq!(args.verbosity, 1);
    assert!(!args.version);
    assert_eq!(args.state_file, None);
}

#[test]
fn config_takes_every_go_and_double_dash_form() {
    for argv in [
        &["-config=/etc/m.json"][..],
        &["-config", "/etc/m.json"],
        &["--config=/etc/m.json"],
        &["--config", "/etc/m.json"],
        &["-config=other.json", "--config", "/etc/m.json"],
    ] {
        assert_eq!(
            parse(argv).unwrap().config,
            Some(PathBuf::from("/etc/m.json")),
            "{argv:?}"
        );
    }
}

#[test]
fn config_value_may_start_with_a_dash_or_contain_an_equals_sign() {
    assert_eq!(
        parse(&["-config", "-odd.json"]).unwrap().config,
        Some(PathBuf::from("-odd.json"))
    );
    assert_eq!(
        parse(&["-config=a=b.json"]).unwrap().config,
        Some(PathBuf::from("a=b.json"))
    );
}

#[test]
fn version_takes_go_boolean_forms() {
    for (argv, expected) in [
        (&["-version"][..], true),
        (&["--version"], true),
        (&["-version=true"], true),
        (&["-version=1"], true),
        (&["-version=false"], false),
        (&["-version", "-version=F"], false),
    ] {
        assert_eq!(parse(argv).unwrap().version, expected, "{argv:?}");
    }
}

#[test]
fn verbosity_takes_the_old_switches_and_the_new_levels() {
    for (argv, expected) in [
        (&["-v"][..], 1),
        (&["--v"], 1),
        (&["-v=1"], 1),
        (&["-v=true"], 1),
        (&["-v=2"], 2),
        (&["-vv"], 2),
        (&["--vv"], 2),
        (&["-vv=true"], 2),
        (&["-vv=false"], 0),
        (&["-v=0"], 0),
        (&["-v=false"], 0),
        (&["-v", "2"], 2),
        (&["-v=3"], 2),
        (&["-v=300"], 2),
        (&["-v=0002"], 2),
        (&["--verbosity", "1"], 1),
        (&["--verbosity=2"], 2),
        (&["-v", "-vv"], 2),
        (&["-vv", "-v=0"], 2),
        (&["-v=2", "-v=0"], 0),
    ] {
        assert_eq!(parse(argv).unwrap().verbosity, expected, "{argv:?}");
    }
}

#[test]
fn a_bare_v_does_not_swallow_the_next_flag() {
    let args = parse(&["-v", "-config", "c.json"]).unwrap();
    assert_eq!((args.verbosity, args.config), (1, Some(PathBuf::from("c.json"))));
}

#[test]
fn resolv_conf_takes_both_forms() {
    for argv in [&["-resolv-conf=r.conf"][..], &["--resolv-conf", "r.conf"]] {
        assert_eq!(
            parse(argv).unwrap().resolv_conf,
            Some(PathBuf::from("r.conf")),
            "{argv:?}"
        );
    }
}

#[test]
fn state_file_takes_both_forms() {
    for argv in [
        &["-state-file=s.json"][..],
        &["--state-file", "s.json"],
        &["-state-file", "s.json"],
    ] {
        assert_eq!(
            parse(argv).unwrap().state_file,
            Some(PathBuf::from("s.json")),
            "{argv:?}"
        );
    }
}

#[test]
fn all_flags_together() {
    let args = parse(&[
        "--config",
        "c.json",
        "-vv",
        "-version",
        "-state-file=s.json",
        "-check-config",
    ])
    .unwrap();
    assert_eq!(
        args,
        Args {
            config: Some(PathBuf::from("c.json")),
            version: true,
            check_config: true,
            verbosity: 2,
            state_file: Some(PathBuf::from("s.json")),
            resolv_conf: None,
            log_dir: None,
            logtostderr: false,
            stderrthreshold: None,
            ignored: Vec::new(),
        }
    );
}

#[test]
fn help_flags_give_the_help_text() {
    for argv in [
        &["-h"][..],
        &["--help"],
        &["-help"],
        &["--h"],
        &["-v", "-h"],
        &["-h", "-nonsense"],
    ] {
        match parse(argv) {
            Err(CliError::Help(text)) => {
                assert!(text.contains("Usage: mesos-dns"), "{text}");
                assert!(text.contains("--config"), "{text}");
                assert!(text.contains("-config=FILE"), "{text}");
            }
            other => panic!("{argv:?}: expected help, got {other:?}"),
        }
    }
}

#[test]
fn unknown_flags_are_usage_errors_naming_the_flag() {
    for (argv, named) in [
        (&["-foo"][..], "`-foo`"),
        (&["--foo=bar"], "`--foo`"),
        (&["-configfile=x"], "`-configfile`"),
        (&["-V"], "`-V`"),
        (&["-vvv"], "`-vvv`"),
        (&["-nonsense", "-h"], "`-nonsense`"),
    ] {
        let text = usage_text(argv);
        assert!(text.contains(&format!("unknown flag {named}")), "{argv:?}: {text}");
        assert!(text.contains("--help"), "{text}");
    }
}

#[test]
fn malformed_arguments_are_usage_errors() {
    for (argv, says) in [
        (&["-config"][..], "needs a path"),
        (&["-config="], "empty"),
        (&["--state-file"], "needs a path"),
        (&["---config=x"], "bad flag syntax"),
        (&["-=x"], "bad flag syntax"),
        (&["extra"], "unexpected argument `extra`"),
        (&["-"], "unexpected argument `-`"),
        (&["--", "extra"], "unexpected argument `extra`"),
        (&["-v=lots"], "`-v` takes a level"),
        (&["-v=-1"], "`-v` takes a level"),
        (&["--verbosity"], "needs a level"),
        (&["-version=maybe"], "`-version` takes true or false"),
        (&["-vv=2"], "`-vv` takes true or false"),
    ] {
        let text = usage_text(argv);
        assert!(text.contains(says), "{argv:?}: {text}");
    }
}

#[test]
fn the_dcos_and_docker_command_lines_parse() {
    // dcos-mesos-dns.service: ExecStart=/opt/mesosphere/bin/mesos-dns --config=${MESOS_DNS_CONFIG} -logtostderr=true
    let args = parse(&["--config=/opt/mesosphere/etc/mesos-dns.json", "-logtostderr=true"]).unwrap();
    assert_eq!(args.config, Some(PathBuf::from("/opt/mesosphere/etc/mesos-dns.json")));
    assert!(args.logtostderr);
    assert_eq!(args.log_level(), log::LevelFilter::Warn);
    // Docker images: -v=2 -logtostderr=true, some -log_dir=...
    let args = parse(&["-v=2", "-logtostderr=true", "-config", "/etc/mesos-dns/config.json"]).unwrap();
    assert_eq!((args.verbosity, args.logtostderr), (2, true));
    let args = parse(&["-v=1", "-log_dir=/var/log/mesos-dns", "-config=c.json"]).unwrap();
    assert_eq!(args.log_file(), Some(PathBuf::from("/var/log/mesos-dns/mesos-dns.log")));
}

#[test]
fn every_glog_flag_is_accepted_in_every_go_form() {
    for argv in [
        &["-logtostderr"][..],
        &["--logtostderr=false"],
        &["-alsologtostderr"],
        &["--alsologtostderr=true"],
        &["-stderrthreshold=ERROR"],
        &["-stderrthreshold", "warning"],
        &["--stderrthreshold=0"],
        &["-log_dir=/tmp/x"],
        &["-log_dir", "/tmp/x"],
        &["--log_dir", "/tmp/x"],
        &["-vmodule=refresh=2,http*=1"],
        &["-vmodule", "x=1"],
        &["-log_backtrace_at=gofile.go:123"],
        &["--log_backtrace_at", "x.go:1"],
        &["-v", "3"],
        &["--v=2"],
    ] {
        assert!(parse(argv).is_ok(), "{argv:?}: {:?}", parse(argv));
    }
}

#[test]
fn a_boolean_glog_flag_does_not_take_the_next_argument() {
    // As Go's flag package: `-logtostderr true` would end the flags at `true`; ours names it.
    let text = usage_text(&["-logtostderr", "true"]);
    assert!(text.contains("unexpected argument `true`"), "{text}");
    let text = usage_text(&["-logtostderr=maybe"]);
    assert!(text.contains("`-logtostderr` takes true or false"), "{text}");
}

#[test]
fn logtostderr_keeps_the_log_out_of_log_dir() {
    let args = parse(&["-log_dir=/var/log/m", "-logtostderr=true"]).unwrap();
    assert_eq!(args.log_file(), None);
    let args = parse(&["-log_dir=/var/log/m", "-logtostderr=false"]).unwrap();
    assert_eq!(args.log_file(), Some(PathBuf::from("/var/log/m/mesos-dns.log")));
    assert_eq!(
        parse(&["-log_dir="]).unwrap().log_file(),
        None,
        "empty: glog's default, not ours"
    );
}

#[test]
fn stderrthreshold_sets_the_floor_that_v_lowers() {
    use log::LevelFilter::{Debug, Error, Info, Warn};
    for (argv, expected) in [
        (&[][..], Warn),
        (&["-v"], Info),
        (&["-vv"], Debug),
        (&["-stderrthreshold=ERROR"], Error),
        (&["-stderrthreshold=FATAL"], Error),
        (&["-stderrthreshold=3"], Error),
        (&["-stderrthreshold=WARNING"], Warn),
        (&["-stderrthreshold=INFO"], Info),
        (&["-stderrthreshold=info"], Info),
        (&["-stderrthreshold=ERROR", "-v=1"], Info),
        (&["-stderrthreshold=INFO", "-v=2"], Debug),
    ] {
        assert_eq!(parse(argv).unwrap().log_level(), expected, "{argv:?}");
    }
    let text = usage_text(&["-stderrthreshold=LOUD"]);
    assert!(
        text.contains("`-stderrthreshold` takes INFO, WARNING, ERROR or FATAL"),
        "{text}"
    );
    assert!(usage_text(&["-stderrthreshold"]).contains("needs a value"));
}

#[test]
fn flags_without_a_meaning_here_are_kept_to_be_reported() {
    let args = parse(&["-vmodule", "a=1", "-log_backtrace_at=x.go:7"]).unwrap();
    assert_eq!(args.ignored, ["-vmodule=a=1", "-log_backtrace_at=x.go:7"]);
}

#[test]
fn a_leading_tilde_slash_is_the_home_directory() {
    let home = Some(std::ffi::OsStr::new("/home/ops"));
    for (given, expected) in [
        ("~/mesos-dns/config.json", "/home/ops/mesos-dns/config.json"),
        ("/etc/~/config.json", "/etc/~/config.json"),
        ("~ops/config.json", "~ops/config.json"),
        ("~", "~"),
        ("config.json", "config.json"),
    ] {
        assert_eq!(expand_home(Path::new(given), home), PathBuf::from(expected), "{given}");
    }
    assert_eq!(expand_home(Path::new("~/c.json"), None), PathBuf::from("./c.json"));
    assert_eq!(
        expand_home(Path::new("~/c.json"), Some(std::ffi::OsStr::new(""))),
        PathBuf::from("./c.json")
    );
}

#[test]
fn a_trailing_double_dash_is_accepted() {
    assert_eq!(parse(&["-v", "--"]).unwrap().verbosity, 1);
}

#[test]
fn the_program_name_in_messages_is_the_file_name_of_argv0() {
    let argv: Vec<String> = ["/opt/bin/mesos-dns", "-bogus"].into_iter().map(String::from).collect();
    match parse_args(&argv) {
        Err(CliError::Usage(text)) => assert!(text.starts_with("mesos-dns: unknown flag `-bogus`"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert!(parse_args(&[]).is_ok(), "an empty argv still parses");
}

#[test]
fn check_config_takes_every_go_and_double_dash_form() {
    for argv in [
        &["-check-config"][..],
        &["--check-config"],
        &["-check-config=true"],
        &["-check-config=1", "-config=/etc/mesos-dns/config.json"],
        &["-config", "/etc/mesos-dns/config.json", "--check-config=T"],
        &["-check-config=false", "-check-config"],
    ] {
        assert!(parse(argv).unwrap().check_config, "{argv:?}");
    }
    let args = parse(&["-check-config", "-config=/etc/mesos-dns/config.json", "-v"]).unwrap();
    assert_eq!(args.config, Some(PathBuf::from("/etc/mesos-dns/config.json")));
    assert_eq!(args.verbosity, 1);
    assert!(!parse(&["-check-config=false"]).unwrap().check_config);
    assert!(!parse(&["-config=c.json"]).unwrap().check_config);
}

#[test]
fn check_config_is_a_boolean_flag_that_takes_no_path() {
    // A Go boolean flag takes its value only after `=`: the next argument is not its value.
    assert!(usage_text(&["-check-config", "config.json"]).contains("unexpected argument `config.json`"));
    assert!(usage_text(&["-check-config=maybe"]).contains("flag `-check-config` takes true or false, got `maybe`"));
    assert!(usage_text(&["--check_config"]).contains("unknown flag `--check_config`"));
}

#[test]
fn help_lists_check_config() {
    let Err(CliError::Help(text)) = parse(&["-h"]) else {
        panic!("-h is help");
    };
    assert!(text.contains("--check-config"), "{text}");
    assert!(
        text.contains("-check-config,"),
        "the Go-style spelling is in the note: {text}"
    );
}
