//! Property tests of the path translation: random paths checked against a
//! reference model of the lexical rules, and paths over a real directory
//! tree checked against the kernel's own resolution.
//!
//! Each property runs PROPTEST_CASES cases when that variable is set, as in
//! proptest, and DEFAULT_CASES otherwise. `scripts/fuzz` runs a million.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::Instant;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::*;
use crate::sys;

/// Cases per property when PROPTEST_CASES is unset. Unoptimized test
/// builds ran these properties 20 to 30 times slower, so they run fewer.
const DEFAULT_CASES: u32 = if cfg!(debug_assertions) { 5_000 } else { 100_000 };

/// A byte string that prints with escapes, so a failing case reads well.
#[derive(Clone, PartialEq)]
struct Bytes(Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" ({} bytes)", self.0.escape_ascii(), self.0.len())
    }
}

/// Runs `test` on cases drawn from `strategy` and panics with the minimal
/// failing case. `test` returns a label for the kind of case it checked, and
/// the count per label is printed with the time (seen with --nocapture).
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<&'static str, TestCaseError>) {
    // No regression files: the failure message shows the minimal input,
    // which belongs in paths_tests.rs as a unit test.
    let mut config = Config { failure_persistence: None, ..Config::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }

    let labels = RefCell::new(BTreeMap::<&'static str, u64>::new());
    let cases = Cell::new(0u64);
    let started = Instant::now();
    let result = TestRunner::new(config).run(&strategy, |value| {
        let label = test(value)?;
        cases.set(cases.get() + 1);
        *labels.borrow_mut().entry(label).or_default() += 1;
        Ok(())
    });
    if let Err(error) = result {
        panic!("property {} failed: {}", name, error);
    }

    let labels: Vec<String> = labels.borrow().iter().map(|(label, count)| format!("{} {}", label, count)).collect();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("property {}: {} cases in {:.1} s ({})", name, cases.get(), seconds, labels.join(", "));
}

// ---- Generators (a repeated entry makes a choice more likely) ----

/// Separators between components: mostly `/`, sometimes doubled or with `.`.
const SEPARATORS: &[&[u8]] = &[b"/", b"/", b"/", b"/", b"//", b"/./", b"///"];
/// Endings after the last component: nothing, a slash or `/.`.
const TRAILERS: &[&[u8]] = &[b"", b"", b"", b"/", b"/.", b"//"];
/// Common jail names, and `...`, which is a name and not `..`.
const JAIL_NAMES: &[&[u8]] = &[b"srv", b"jail", b"www", b"srv", b"jail", b"www", b"..."];
/// The jail names, names that share their first bytes, special components
/// and a non-UTF-8 name.
const PATH_NAMES: &[&[u8]] =
    &[b"srv", b"jail", b"www", b"jail2", b"jai", b"", b".", b"..", b"..", b"...", b"\xff\xfe"];

fn separators() -> impl Strategy<Value = Vec<&'static [u8]>> {
    prop::collection::vec(select(SEPARATORS), 7)
}

/// Joins `components` with `separators`, used in turn, with a separator
/// before the first one when `absolute`, and appends `trailer`.
fn join(components: &[&[u8]], separators: &[&[u8]], trailer: &[u8], absolute: bool) -> Vec<u8> {
    let mut joined = Vec::new();
    for (index, (component, separator)) in components.iter().zip(separators.iter().cycle()).enumerate() {
        if index > 0 || absolute {
            joined.extend_from_slice(separator);
        }
        joined.extend_from_slice(component);
    }
    joined.extend_from_slice(trailer);
    joined
}

/// Splits `path` into its non-empty components.
fn split(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&byte| byte == b'/').filter(|component| !component.is_empty()).collect()
}

/// Generates optional padding to about a target length, as (kind, target): slashes (kind 0) and
/// `/.` pairs (kind 1) keep where an absolute path lies, and one long name
/// (kind 2) adds a component.
fn padding(weight_none: u32) -> impl Strategy<Value = Option<(u8, usize)>> {
    let target = prop_oneof![3 => PATH_MAX - 8..PATH_MAX + 8, 1 => 0..3 * PATH_MAX];
    prop_oneof![weight_none => Just(None), 1 => (0u8..3, target).prop_map(Some)]
}

fn pad(path: &mut Vec<u8>, padding: Option<(u8, usize)>) {
    let Some((kind, target)) = padding else { return };
    while path.len() < target {
        match kind {
            0 => path.push(b'/'),
            1 => path.extend_from_slice(b"/."),
            _ => {
                path.push(b'/');
                path.resize(target.max(path.len()), b'n');
            }
        }
    }
}

/// A jail as its components and one spelling of them, which may double
/// slashes, add `.` components and end in a slash.
#[derive(Clone, Debug)]
struct Jail {
    components: Vec<Bytes>,
    spelling: Bytes,
}

impl Jail {
    fn names(&self) -> Vec<&[u8]> {
        self.components.iter().map(|component| component.0.as_slice()).collect()
    }
}

/// Generates a jail of 1 to 3 components, each a common name or 1 to 3
/// random bytes, non-UTF-8 ones included, but never `.`, `..` or with `/`.
fn jail() -> impl Strategy<Value = Jail> {
    let random = prop::collection::vec(1u8..=255, 1..4).prop_map(|mut name| {
        name.iter_mut().filter(|byte| **byte == b'/').for_each(|byte| *byte = b'%');
        if name == b"." || name == b".." {
            name.push(b'x');
        }
        name
    });
    let component = prop_oneof![3 => select(JAIL_NAMES).prop_map(<[u8]>::to_vec), 1 => random];
    let parts = (prop::collection::vec(component, 1..4), separators(), select(TRAILERS));
    parts.prop_map(|(components, separators, trailer)| {
        let names: Vec<&[u8]> = components.iter().map(Vec::as_slice).collect();
        let spelling = Bytes(join(&names, &separators, trailer, true));
        Jail { components: components.into_iter().map(Bytes).collect(), spelling }
    })
}

/// A piece of a generated path: a name (random bytes may contain `/`), or
/// the first N components of the configured or the second jail.
#[derive(Clone, Debug)]
enum Piece {
    Name(Vec<u8>),
    Configured(usize),
    Second(usize),
}

/// Two jails, as `translate(path, &[&configured, &second])` takes them, and
/// a path built from pieces that refer to them.
#[derive(Clone, Debug)]
struct Case {
    configured: Jail,
    second: Jail,
    path: Bytes,
}

fn case(weight_no_padding: u32) -> impl Strategy<Value = Case> {
    let piece = prop_oneof![
        4 => select(PATH_NAMES).prop_map(|name| Piece::Name(name.to_vec())),
        1 => prop::collection::vec(1u8..=255, 1..6).prop_map(Piece::Name),
        2 => (1usize..5).prop_map(Piece::Configured),
        1 => (1usize..5).prop_map(Piece::Second),
    ];
    let pieces = prop::collection::vec(piece, 0..10);
    let path = (prop::bool::weighted(0.9), pieces, separators(), select(TRAILERS), padding(weight_no_padding));
    (jail(), jail(), path).prop_map(|(configured, second, (absolute, pieces, separators, trailer, padding))| {
        let mut components: Vec<&[u8]> = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Name(name) => components.push(name),
                Piece::Configured(count) => components.extend(configured.names().into_iter().take(*count)),
                Piece::Second(count) => components.extend(second.names().into_iter().take(*count)),
            }
        }
        let mut path = join(&components, &separators, trailer, absolute);
        pad(&mut path, padding);
        Case { configured, second, path: Bytes(path) }
    })
}

/// Random bytes, a quarter each `/` and `.`, mostly with a leading slash,
/// some padded. Each byte comes from a u16, whose two top bits pick `/`, `.`
/// or (half the time) its low byte, any value but NUL.
fn raw_bytes() -> impl Strategy<Value = Bytes> {
    let bytes = prop::collection::vec(any::<u16>(), 0..80);
    (prop::bool::weighted(0.8), bytes, padding(8)).prop_map(|(absolute, bytes, padding)| {
        let pick = |pair: &u16| match pair >> 14 {
            0 => b'/',
            1 => b'.',
            _ => (*pair as u8).max(1),
        };
        let mut raw: Vec<u8> = bytes.iter().map(pick).collect();
        if absolute {
            raw.insert(0, b'/');
        }
        pad(&mut raw, padding);
        Bytes(raw)
    })
}

// ---- Reference model ----

/// Locates `path` like `locate`, but by normalizing it on a stack that keeps
/// each component with the byte offset just after it.
fn model_locate(path: &[u8], jail: &[&[u8]]) -> Location {
    if path.first() != Some(&b'/') {
        return Location::Relative;
    }

    let mut stack: Vec<(&[u8], usize)> = Vec::new();
    let mut start = 0;
    for component in path.split(|&byte| byte == b'/') {
        let end = start + component.len();
        match component {
            b"" | b"." => {}
            b".." => {
                stack.pop();
            }
            _ => stack.push((component, end)),
        }
        start = end + 1;
    }

    let names: Vec<&[u8]> = stack.iter().map(|(name, _)| *name).collect();
    if names.starts_with(jail) {
        // The entry of the jail's last component was pushed after the last
        // `..` that climbed above the jail, so the rest starts after it.
        Location::Inside { rest: stack[jail.len() - 1].1 }
    } else if !names.is_empty() && jail.starts_with(&names) {
        Location::Ancestor
    } else {
        Location::Outside
    }
}

/// The result of translating a path for a hook: passed on unchanged,
/// rewritten, or failed.
#[derive(Debug, PartialEq)]
enum Outcome {
    Unchanged(Location),
    Rewritten(Bytes),
    Failed(Errno),
}

/// Translates `path` by the model. The first jail that contains the path or
/// one of its ancestors decides, and a path of PATH_MAX bytes or more then fails.
fn model_translate(path: &[u8], jails: [&Jail; 2]) -> Outcome {
    for jail in jails {
        let rewritten = match model_locate(path, &jail.names()) {
            Location::Relative => return Outcome::Unchanged(Location::Relative),
            Location::Outside => continue,
            Location::Ancestor => b"/".to_vec(),
            Location::Inside { rest } if rest == path.len() => b"/".to_vec(),
            Location::Inside { rest } => path[rest..].to_vec(),
        };
        if path.len() >= PATH_MAX {
            return Outcome::Failed(Errno(libc::ENAMETOOLONG));
        }
        return Outcome::Rewritten(Bytes(rewritten));
    }
    Outcome::Unchanged(Location::Outside)
}

/// Parses `raw` like `JailPath::parse`, by splitting it into components.
fn model_parse(raw: &[u8]) -> Result<Vec<u8>, JailPathError> {
    if raw.first() != Some(&b'/') {
        return Err(JailPathError::NotAbsolute);
    }
    if raw.len() >= PATH_MAX {
        return Err(JailPathError::TooLong);
    }
    let components: Vec<&[u8]> = split(raw).into_iter().filter(|component| *component != b".").collect();
    if components.contains(&&b".."[..]) {
        return Err(JailPathError::DotDot);
    }
    if components.is_empty() {
        return Err(JailPathError::RootDirectory);
    }
    Ok(join(&components, &[b"/"], b"", true))
}

/// Parses the jail's spelling and checks that it gives the normal form.
fn parse_jail(jail: &Jail) -> Result<JailPath, TestCaseError> {
    let parsed = JailPath::parse(&jail.spelling.0);
    let parsed_text = parsed.as_ref().map(|parsed| Bytes(parsed.as_bytes().to_vec()));
    prop_assert_eq!(parsed_text, Ok(Bytes(join(&jail.names(), &[b"/"], b"", true))));
    parsed.map_err(|error| TestCaseError::fail(format!("{:?}", error)))
}

// ---- Properties over generated paths ----

#[test]
fn arbitrary_input_never_panics() {
    let strategy = (case(4), raw_bytes(), raw_bytes(), any::<Index>());
    check("arbitrary_input_never_panics", strategy, |(case, raw_jail, raw_path, index)| {
        let parsed = JailPath::parse(&raw_jail.0);
        let parsed_text = parsed.as_ref().map(|jail| jail.as_bytes().to_vec()).map_err(|error| *error);
        prop_assert_eq!(parsed_text, model_parse(&raw_jail.0));
        let configured = parse_jail(&case.configured)?;
        let jails: Vec<&JailPath> = [Some(&configured), parsed.as_ref().ok()].into_iter().flatten().collect();

        for path in [&case.path.0, &raw_path.0] {
            // The other properties check the results, so here they only must not panic.
            for jail in &jails {
                locate(path, jail);
            }
            translate(path, &jails);

            // store_inside with any `rest` up to the length, not only one that translate returned.
            let rest = index.index(path.len() + 1);
            let tail = if rest == path.len() { &b"/"[..] } else { &path[rest..] };
            let mut buffer = PathBuffer::new();
            let stored = buffer.store_inside(path, rest).map(|stored| Bytes(stored.to_bytes().to_vec()));
            if tail.len() < PATH_MAX {
                prop_assert_eq!(stored, Ok(Bytes(tail.to_vec())));
            } else {
                prop_assert_eq!(stored, Err(Errno(libc::ENAMETOOLONG)));
            }
        }
        Ok(if parsed.is_ok() { "random jail valid" } else { "random jail rejected" })
    });
}

#[test]
fn translated_paths_fit_or_fail() {
    check("translated_paths_fit_or_fail", case(1), |case| {
        let jails = [&parse_jail(&case.configured)?, &parse_jail(&case.second)?];
        let path = &case.path.0;
        let expected = model_translate(path, [&case.configured, &case.second]);
        let under_jail = !matches!(expected, Outcome::Unchanged(_));

        match translate(path, &jails) {
            Translation::Inside { rest } => {
                prop_assert!(path.len() < PATH_MAX);
                let mut buffer = PathBuffer::new();
                let stored = buffer.store_inside(path, rest);
                let fits = matches!(stored, Ok(stored) if stored.to_bytes_with_nul().len() <= PATH_MAX);
                prop_assert!(fits, "stored {:?}", stored);
                Ok("rewritten")
            }
            Translation::Failed(errno) => {
                prop_assert_eq!(errno, Errno(libc::ENAMETOOLONG));
                prop_assert!(path.len() >= PATH_MAX);
                prop_assert!(under_jail);
                Ok("failed with ENAMETOOLONG")
            }
            Translation::Unchanged(_) => {
                prop_assert!(!under_jail);
                Ok(if path.len() < PATH_MAX { "unchanged" } else { "unchanged, PATH_MAX or longer" })
            }
        }
    });
}

#[test]
fn translate_matches_model() {
    check("translate_matches_model", case(6), |case| {
        let jails = [&parse_jail(&case.configured)?, &parse_jail(&case.second)?];
        let path = &case.path.0;
        let first = model_locate(path, &case.configured.names());
        prop_assert_eq!(locate(path, jails[0]), first);
        let then = model_locate(path, &case.second.names());
        prop_assert_eq!(locate(path, jails[1]), then);

        let actual = match translate(path, &jails) {
            Translation::Unchanged(location) => Outcome::Unchanged(location),
            Translation::Failed(errno) => Outcome::Failed(errno),
            Translation::Inside { rest } => match PathBuffer::new().store_inside(path, rest) {
                Ok(stored) => Outcome::Rewritten(Bytes(stored.to_bytes().to_vec())),
                Err(errno) => Outcome::Failed(errno),
            },
        };
        let expected = model_translate(path, [&case.configured, &case.second]);
        let label = match (&expected, if first == Location::Outside { then } else { first }) {
            (Outcome::Unchanged(Location::Relative), _) => "relative",
            (Outcome::Unchanged(_), _) => "outside",
            (Outcome::Failed(_), _) => "too long",
            (Outcome::Rewritten(_), Location::Ancestor) => "ancestor",
            (Outcome::Rewritten(_), _) => "inside",
        };
        prop_assert_eq!(actual, expected);
        Ok(label)
    });
}

#[path = "paths_props_kernel.rs"]
mod kernel;
