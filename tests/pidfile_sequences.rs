//! Both ways httpd publishes its pidfile start the jail, and a jail that has
//! vanished by then stops the process with its pidfile removed. A small
//! program (tests/programs/pidfile_writer.c) performs the sequences, since
//! httpd releases before 2.4.47 cannot run here.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{library, write_file, Scratch};

struct Setup {
    scratch: Scratch,
    writer: PathBuf,
    jail: PathBuf,
    pidfile: PathBuf,
    marker: String,
}

fn setup(test: &str) -> Setup {
    let scratch = Scratch::new(test);
    let writer = common::build_program(&scratch, "pidfile_writer");
    let jail = scratch.dir("jail", 0o755);
    let marker = format!("/marker-{}", common::token());
    write_file(&jail.join(&marker[1..]), "jailed\n", 0o644);
    let pidfile = scratch.dir("run", 0o755).join("writer.pid");
    Setup { scratch, writer, jail, pidfile, marker }
}

/// Runs the writer with the library; `before_write` runs while it waits.
fn run(setup: &Setup, sequence: &str, before_write: impl FnOnce()) -> Output {
    let mut child = Command::new(&setup.writer)
        .args([sequence, &setup.pidfile.display().to_string(), &setup.marker, "wait"])
        .env("LD_PRELOAD", library())
        .env("HTTPD_CHROOT_DIR", &setup.jail)
        .env("HTTPD_CHROOT_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pidfile_writer");

    // The writer reports once the library is loaded and set up.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("read from pidfile_writer");
    assert_eq!(first, "waiting\n", "pidfile_writer did not start");

    before_write();
    child.stdin.take().expect("stdin").write_all(b"go\n").expect("release the writer");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("read from pidfile_writer");
    let mut output = child.wait_with_output().expect("wait for pidfile_writer");
    output.stdout = rest;
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn enters_jail(sequence: &str) {
    let test = format!("{}-sequence", sequence);
    if !common::can_run_servers(&test) {
        return;
    }
    let setup = setup(&test);
    let output = run(&setup, sequence, || {});
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));

    assert!(output.status.success(), "writer failed: {}\n{}", stdout, stderr);
    assert!(stdout.contains("marker=visible"), "writer ran outside the jail: {}\n{}", stdout, stderr);
    let jail = std::fs::canonicalize(&setup.jail).expect("canonical jail");
    assert!(
        stderr.contains(&format!("entered jail {} in the daemon parent", jail.display())),
        "no jail entry logged: {}",
        stderr
    );
    let content = std::fs::read_to_string(&setup.pidfile).expect("pidfile stays at its host path");
    assert!(content.ends_with('\n'), "pidfile ends with a newline: {:?}", content);
    assert!(content.trim().parse::<u32>().is_ok(), "pidfile contains a pid: {:?}", content);
    drop(setup.scratch);
}

#[test]
fn legacy_sequence_enters_jail() {
    enters_jail("legacy");
}

#[test]
fn rename_sequence_enters_jail() {
    enters_jail("rename");
}

fn fails_closed(sequence: &str) {
    let test = format!("{}-vanished", sequence);
    if !common::can_run_servers(&test) {
        return;
    }
    let setup = setup(&test);
    let jail = setup.jail.clone();
    let output = run(&setup, sequence, || std::fs::remove_dir_all(&jail).expect("remove the jail"));
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));

    assert_eq!(output.status.code(), Some(1), "writer must stop: {}\n{}", stdout, stderr);
    assert!(!stdout.contains("marker="), "writer went on after the failed jail entry: {}", stdout);
    let errors = common::library_lines(&stderr, "error");
    assert_eq!(errors.len(), 1, "one error line: {}", stderr);
    assert!(errors[0].contains(&format!("HTTPD_CHROOT_DIR={}", setup.jail.display())), "line: {}", errors[0]);
    assert!(errors[0].contains("renamed or removed"), "line: {}", errors[0]);
    assert!(errors[0].contains("ENOENT"), "line: {}", errors[0]);
    assert!(!setup.pidfile.exists(), "pidfile {} removed again", setup.pidfile.display());
    let leftovers: Vec<_> = std::fs::read_dir(setup.pidfile.parent().expect("run directory"))
        .expect("list run directory")
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert!(leftovers.is_empty(), "files left in the run directory: {:?}", leftovers);
}

#[test]
fn legacy_sequence_fails_closed_without_jail() {
    fails_closed("legacy");
}

#[test]
fn rename_sequence_fails_closed_without_jail() {
    fails_closed("rename");
}
