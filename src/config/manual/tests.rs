//! The man page: every key of the table, and nothing else, with its meaning; the committed page is this
//! rendering.
use super::*;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/debian/mesos-dns.8");

#[test]
fn every_key_of_the_table_has_a_meaning_in_the_same_order() {
    let table: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    let documented: Vec<&str> = MEANINGS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        documented, table,
        "src/config/manual.rs MEANINGS must list the keys of src/config/keys.rs, in order"
    );
    for (name, meaning) in MEANINGS {
        assert!(meaning.ends_with('.') && meaning.len() >= 8, "{name}: {meaning:?}");
    }
}

#[test]
fn the_page_covers_the_command_line_and_every_key_with_its_default_and_variable() {
    let page = man_page();
    for flag in [
        "\\-\\-config",
        "\\-\\-check\\-config",
        "\\-\\-version",
        "\\-\\-verbosity",
        "\\-log_dir",
    ] {
        assert!(page.contains(flag), "{flag} missing");
    }
    for key in KEYS {
        let var = format!("MESOS_DNS_{}", key.name.to_ascii_uppercase());
        assert!(page.contains(&format!(".B {}\n", escape(key.name))), "{}", key.name);
        assert!(page.contains(&escape(&var)), "{var}");
    }
    assert!(page.contains("Default: \\fB5\\fR. Environment: \\fBMESOS_DNS_TIMEOUT\\fR. Applied on SIGHUP."));
    assert!(page.contains("Environment: \\fBMESOS_DNS_PORT\\fR. Applied at the next start."));
    assert!(page.contains("Default: \\fB[\"netinfo\",\"mesos\",\"host\"]\\fR"));
    // No line that roff would read as a request other than the page's own.
    let requests = [
        ".TH ", ".SH ", ".PP", ".TP", ".B ", ".I ", ".nf", ".fi", ".br", ".\\\" ",
    ];
    for line in page.lines() {
        let request = line.starts_with('.') || line.starts_with('\'');
        assert!(!request || requests.iter().any(|r| line.starts_with(r)), "{line:?}");
    }
}

#[test]
fn the_committed_page_is_the_rendered_one() {
    let page = man_page();
    if std::env::var_os("WRITE_MAN_PAGE").is_some() {
        std::fs::write(COMMITTED, &page).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == page,
        "{COMMITTED} is not what src/config/manual.rs renders: run `WRITE_MAN_PAGE=1 cargo test --lib manual` and commit it"
    );
}
