use super::*;

fn jail(text: &str) -> JailPath {
    JailPath::parse(text.as_bytes()).expect("test jail path should parse")
}

/// Translates `path` against the jail `/srv/www` and returns the rewritten
/// path, or None when the call would pass the path unchanged.
fn inside(path: &str) -> Option<String> {
    let jail = jail("/srv/www");
    let mut buffer = PathBuffer::new();
    match translate(path.as_bytes(), &[&jail]) {
        Translation::Inside { rest } => {
            let stored = buffer.store_inside(path.as_bytes(), rest).expect("fits");
            Some(stored.to_str().expect("ASCII test path").to_owned())
        }
        Translation::Unchanged(_) => None,
        Translation::Failed(errno) => panic!("unexpected failure {} for {}", errno, path),
    }
}

#[test]
fn parse_normalizes_slashes_and_dots() {
    assert_eq!(jail("/srv//www/").as_bytes(), b"/srv/www");
    assert_eq!(jail("//srv/./www/.").as_bytes(), b"/srv/www");
}

#[test]
fn parse_rejects_unusable_values() {
    assert_eq!(JailPath::parse(b"srv/www"), Err(JailPathError::NotAbsolute));
    assert_eq!(JailPath::parse(b""), Err(JailPathError::NotAbsolute));
    assert_eq!(JailPath::parse(b"/srv/../www"), Err(JailPathError::DotDot));
    assert_eq!(JailPath::parse(b"/"), Err(JailPathError::RootDirectory));
    assert_eq!(JailPath::parse(b"//./"), Err(JailPathError::RootDirectory));

    let long = format!("/{}", "a".repeat(PATH_MAX));
    assert_eq!(JailPath::parse(long.as_bytes()), Err(JailPathError::TooLong));
}

#[test]
fn jail_directory_itself_becomes_root() {
    assert_eq!(inside("/srv/www").as_deref(), Some("/"));
    assert_eq!(inside("/srv/www/").as_deref(), Some("/"));
    assert_eq!(inside("/srv/www//").as_deref(), Some("//"));
    assert_eq!(inside("/srv/www/.").as_deref(), Some("/."));
}

#[test]
fn path_below_jail_keeps_its_spelling() {
    assert_eq!(inside("/srv/www/index.html").as_deref(), Some("/index.html"));
    assert_eq!(inside("/srv/www//x").as_deref(), Some("//x"));
    assert_eq!(inside("/srv/www/./x").as_deref(), Some("/./x"));
    assert_eq!(inside("/srv/www/dir/").as_deref(), Some("/dir/"));
    assert_eq!(inside("/srv/www/a/../b").as_deref(), Some("/a/../b"));
}

#[test]
fn prefix_spellings_still_match() {
    assert_eq!(inside("//srv/www/x").as_deref(), Some("/x"));
    assert_eq!(inside("/srv//www/x").as_deref(), Some("/x"));
    assert_eq!(inside("/./srv/./www/x").as_deref(), Some("/x"));
    assert_eq!(inside("/srv/../srv/www/x").as_deref(), Some("/x"));
    assert_eq!(inside("/../srv/www/x").as_deref(), Some("/x"));
}

#[test]
fn component_boundary_is_required() {
    assert_eq!(inside("/srv/www2"), None);
    assert_eq!(inside("/srv/www2/x"), None);
    assert_eq!(inside("/srv/ww"), None);
    assert_eq!(inside("/srv/wwwx/index.html"), None);
    assert_eq!(inside("/sr"), None);
}

#[test]
fn ancestors_of_jail_become_root() {
    assert_eq!(inside("/srv").as_deref(), Some("/"));
    assert_eq!(inside("/srv/").as_deref(), Some("/"));
    assert_eq!(inside("//srv/.").as_deref(), Some("/"));
    assert_eq!(inside("/srv/www/../").as_deref(), Some("/"));
    assert_eq!(inside("/srv/www/..").as_deref(), Some("/"));
    assert_eq!(locate(b"/srv", &jail("/srv/www")), Location::Ancestor);
}

#[test]
fn root_and_ancestor_siblings_are_outside() {
    assert_eq!(inside("/"), None);
    assert_eq!(inside("//"), None);
    assert_eq!(inside("/srv/other"), None);
    assert_eq!(inside("/srv/x/.."), Some("/".to_string()));
    assert_eq!(locate(b"/", &jail("/srv/www")), Location::Outside);
}

#[test]
fn climbing_out_of_jail_is_outside() {
    assert_eq!(inside("/srv/www/../x"), None);
    assert_eq!(inside("/srv/www/a/../../x"), None);
    assert_eq!(inside("/srv/www/../www2/x"), None);
}

#[test]
fn reentering_jail_after_climbing_out_is_inside() {
    assert_eq!(inside("/srv/www/../www/x").as_deref(), Some("/x"));
    assert_eq!(inside("/srv/www/a/../../www/b").as_deref(), Some("/b"));
}

#[test]
fn relative_and_outside_paths_are_unchanged() {
    let jail = jail("/srv/www");
    for path in ["srv/www/x", "./x", "", "x/../../srv/www"] {
        assert_eq!(
            translate(path.as_bytes(), &[&jail]),
            Translation::Unchanged(Location::Relative),
            "path {:?}",
            path
        );
    }
    for path in ["/", "/etc/passwd", "/www/index.html", "/srv/www/../x"] {
        assert_eq!(
            translate(path.as_bytes(), &[&jail]),
            Translation::Unchanged(Location::Outside),
            "path {:?}",
            path
        );
    }
}

#[test]
fn second_spelling_is_tried() {
    let configured = jail("/var/jail");
    let resolved = jail("/data/jail");
    let result = translate(b"/data/jail/www", &[&configured, &resolved]);
    assert_eq!(result, Translation::Inside { rest: 10 });
}

#[test]
fn too_long_path_under_jail_fails() {
    let long = format!("/srv/www/{}", "a".repeat(PATH_MAX));
    let jail = jail("/srv/www");
    assert_eq!(translate(long.as_bytes(), &[&jail]), Translation::Failed(Errno(libc::ENAMETOOLONG)));
}

#[test]
fn longest_fitting_path_is_translated() {
    let name = "a".repeat(PATH_MAX - 1 - "/srv/www/".len());
    let path = format!("/srv/www/{}", name);
    assert_eq!(path.len(), PATH_MAX - 1);
    assert_eq!(inside(&path), Some(format!("/{}", name)));
}

#[test]
fn too_long_outside_path_unchanged() {
    let long = format!("/other/{}", "a".repeat(PATH_MAX));
    let jail = jail("/srv/www");
    assert_eq!(translate(long.as_bytes(), &[&jail]), Translation::Unchanged(Location::Outside));
}

#[test]
fn host_spelling_prefixes_jail() {
    let jail = jail("/srv/www");
    let mut buffer = PathBuffer::new();
    let stored = buffer.store_host_spelling(&jail, b"/cgi-bin/x").expect("fits");
    assert_eq!(stored.to_bytes(), b"/srv/www/cgi-bin/x");

    let stored = buffer.store_host_spelling(&jail, b"/").expect("fits");
    assert_eq!(stored.to_bytes(), b"/srv/www");
}

#[test]
fn host_spelling_rejects_overflow() {
    let jail = jail("/srv/www");
    let inner = format!("/{}", "a".repeat(PATH_MAX - 9));
    let mut buffer = PathBuffer::new();
    assert_eq!(buffer.store_host_spelling(&jail, inner.as_bytes()), Err(Errno(libc::ENAMETOOLONG)));
}

#[test]
fn deep_jail_matches_all_components() {
    let jail = jail("/a/b/c/d");
    assert_eq!(locate(b"/a/b/c/d/e", &jail), Location::Inside { rest: 8 });
    assert_eq!(locate(b"/a/b/c/e/d", &jail), Location::Outside);
    assert_eq!(locate(b"/a/b/x/../c/d", &jail), Location::Inside { rest: 13 });
    assert_eq!(locate(b"/a/b/c", &jail), Location::Ancestor);
    assert_eq!(locate(b"/a/b/x", &jail), Location::Outside);
}

#[test]
fn prefix_comparison_agrees_with_the_walk() {
    let jail = JailPath::parse(b"/srv/jail").expect("valid jail");
    let parts: [&[u8]; 8] = [b"srv", b"jail", b"jail2", b"www", b".", b"..", b"", b"sr"];
    let mut checked = 0;
    let mut stack = vec![(Vec::<u8>::new(), 0)];
    while let Some((prefix, depth)) = stack.pop() {
        for trailing in [&b""[..], b"/"] {
            let mut path = prefix.clone();
            path.insert(0, b'/');
            path.extend_from_slice(trailing);
            if let Some(plain) = locate_plain(&path, &jail) {
                assert_eq!(plain, locate_walk(&path, &jail), "path {:?}", path.escape_ascii().to_string());
                checked += 1;
            }
        }
        if depth < 5 {
            for part in parts {
                let mut next = prefix.clone();
                if depth > 0 {
                    next.push(b'/');
                }
                next.extend_from_slice(part);
                stack.push((next, depth + 1));
            }
        }
    }
    assert!(checked > 1000, "only {} paths took the prefix comparison", checked);
}
