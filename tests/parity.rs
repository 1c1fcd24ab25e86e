//! The jailed server responds like the same server without the library,
//! with the same statuses and bodies. The requests exercise httpd's
//! directory walk over a DocumentRoot written as a host path: MultiViews,
//! PATH_INFO, symlink checks, directory redirects and listings.

mod common;

use std::collections::BTreeMap;

use common::apache::Site;
use common::{http, write_file};

const REQUESTS: &[&str] = &[
    "/",
    "/index.html",
    "/index",
    "/doc",
    "/dir",
    "/dir/",
    "/dir/a.txt",
    "/link/a.txt",
    "/index.html/extra",
    "/dir/../index.html",
    "/missing",
    "/missing/deeper",
];

/// Requests every path and returns the status and body of each.
fn responses(site: &Site) -> BTreeMap<&'static str, (u16, String)> {
    REQUESTS
        .iter()
        .map(|path| {
            let response = http::get(site.port, path).unwrap_or_else(|error| panic!("GET {}: {}", path, error));
            (*path, (response.status, response.body))
        })
        .collect()
}

#[test]
fn jailed_responses_match_unjailed() {
    if !common::can_run_servers("parity") {
        return;
    }
    let mut site = Site::new("parity", "event");
    let www = site.jail.join("www");
    write_file(&www.join("doc.html"), "negotiated\n", 0o644);
    write_file(&www.join("dir/a.txt"), "a\n", 0o644);
    std::os::unix::fs::symlink("dir", www.join("link")).expect("create symlink");
    for module in ["autoindex", "negotiation"] {
        site.extra.push(format!("LoadModule {0}_module /usr/lib/apache2/modules/mod_{0}.so", module));
    }
    site.extra.push(format!(
        "<Directory {}>\nOptions Indexes MultiViews SymLinksIfOwnerMatch\nAllowOverride None\n</Directory>",
        www.display()
    ));

    let jailed_env = site.env.clone();
    site.env.clear();
    let server = site.start();
    let expected = responses(&site);
    server.stop();
    assert_eq!(expected["/index"].0, 200, "MultiViews works without the library: {:?}", expected);

    site.env = jailed_env;
    let _ = std::fs::remove_file(&site.pidfile);
    let server = site.start();
    let jailed = responses(&site);
    server.stop();

    for path in REQUESTS {
        assert_eq!(jailed[path].0, expected[path].0, "status of GET {}", path);
        assert_eq!(jailed[path].1, expected[path].1, "body of GET {}", path);
    }
}
