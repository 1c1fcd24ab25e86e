//! The library exports exactly the functions listed in the hook table, so
//! that nothing is interposed without a stated reason.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// Names listed in src/hooks/table.rs as `hook("name", ...)`.
fn table_names() -> BTreeSet<String> {
    let table = include_str!("../src/hooks/table.rs");
    table
        .split("hook(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn exports_match_hook_table() {
    let library = common::library();
    let output = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&library)
        .output()
        .expect("run nm (install binutils)");
    assert!(output.status.success(), "nm {}: {}", library.display(), String::from_utf8_lossy(&output.stderr));

    let exported: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .map(|name| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    let listed = table_names();
    assert!(listed.len() > 100, "table parsed: {} names", listed.len());

    let unlisted: Vec<_> = exported.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&exported).collect();
    assert!(unlisted.is_empty(), "exported but not in the hook table: {:?}", unlisted);
    assert!(missing.is_empty(), "in the hook table but not exported: {:?}", missing);
}

#[test]
fn library_links_unwinder() {
    // Threads in jailed children need libgcc_s.so.1 for pthread_exit, and
    // the jail has none: a DT_NEEDED entry keeps it loaded from the start.
    let library = common::library();
    let output = Command::new("readelf").arg("-d").arg(&library).output().expect("run readelf (install binutils)");
    let dynamic = String::from_utf8_lossy(&output.stdout);
    assert!(dynamic.contains("Shared library: [libgcc_s.so.1]"), "{} lacks DT_NEEDED libgcc_s.so.1:\n{}", library.display(), dynamic);
}
