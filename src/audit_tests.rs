use super::*;

#[test]
fn missing_errnos_are_enoent_and_enotdir() {
    assert!(means_missing(Errno(libc::ENOENT)));
    assert!(means_missing(Errno(libc::ENOTDIR)));
    assert!(!means_missing(Errno(libc::EACCES)));
    assert!(!means_missing(Errno(libc::EEXIST)));
}

#[test]
fn path_hash_is_stable_and_nonzero() {
    assert_eq!(path_hash(b"/usr/bin/perl"), path_hash(b"/usr/bin/perl"));
    assert_ne!(path_hash(b"/usr/bin/perl"), path_hash(b"/usr/bin/perl5"));
    assert_ne!(path_hash(b""), 0);
}

#[test]
fn each_path_is_recorded_once() {
    let seen: Vec<AtomicU64> = (0..64).map(|_| AtomicU64::new(0)).collect();
    assert!(record_first(&seen, path_hash(b"/etc/resolv.conf")));
    assert!(!record_first(&seen, path_hash(b"/etc/resolv.conf")));
    assert!(record_first(&seen, path_hash(b"/etc/hosts")));
}

#[test]
fn colliding_hashes_take_the_next_slot() {
    let seen: Vec<AtomicU64> = (0..8).map(|_| AtomicU64::new(0)).collect();
    assert!(record_first(&seen, 3));
    assert!(record_first(&seen, 11));
    assert!(!record_first(&seen, 11));
    assert_eq!(seen[3].load(Ordering::Relaxed), 3);
    assert_eq!(seen[4].load(Ordering::Relaxed), 11);
}

#[test]
fn full_table_still_allows_lines() {
    let seen: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(0)).collect();
    for hash in 1..=4 {
        assert!(record_first(&seen, hash));
    }
    assert!(record_first(&seen, 5), "a full table leaves the rate limit in charge");
}

#[test]
fn rate_limit_resets_each_second() {
    let window = AtomicU64::new(0);
    let lines = AtomicU32::new(0);
    let allowed = (0..LINES_PER_SECOND + 10).filter(|_| within_rate(&window, &lines, 100)).count();
    assert_eq!(allowed, LINES_PER_SECOND as usize);
    assert!(within_rate(&window, &lines, 101), "a new second starts a new window");
}

#[test]
fn interpreter_comes_from_the_shebang_line() {
    let cases: [(&[u8], Option<&[u8]>); 6] = [
        (b"#!/usr/bin/perl -w\nprint 1;\n", Some(b"/usr/bin/perl")),
        (b"#! /bin/sh\n", Some(b"/bin/sh")),
        (b"#!/usr/bin/env python3\r\n", Some(b"/usr/bin/env")),
        (b"#!/bin/sh", None),
        (b"\x7fELF\x02\x01", None),
        (b"#!\n", None),
    ];
    for (head, expected) in cases {
        assert_eq!(interpreter(head), expected, "head {:?}", head.escape_ascii().to_string());
    }
}

#[test]
fn htaccess_lookups_are_routine() {
    assert!(is_routine(b"/www/.htaccess"));
    assert!(is_routine(b"/www/cgi-bin/hello.pl/.htaccess"));
    assert!(!is_routine(b"/www/.htaccess.bak"));
    assert!(!is_routine(b"/usr/bin/perl"));
}
