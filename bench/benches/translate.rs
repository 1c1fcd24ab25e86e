//! The pure path translation: the decision every interposed call makes
//! before it calls libc. The cases are a path under the jail, outside it,
//! an ancestor of it, a long path under it, and one with a `..` component,
//! which takes the component walk instead of the prefix comparison.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use httpd_chroot::paths::{translate, JailPath, PathBuffer, Translation};

fn translation(c: &mut Criterion) {
    // One spelling, as when the configured jail path has no symlink in it;
    // otherwise a path not under the first spelling is checked twice.
    let jail = JailPath::parse(b"/srv/httpd-jail").expect("valid jail");
    let jails = [&jail];
    let long = format!("/srv/httpd-jail/www/{}index.html", "directory/".repeat(40));
    let cases: [(&str, &[u8]); 5] = [
        ("inside", b"/srv/httpd-jail/www/index.html"),
        ("dotdot_inside", b"/srv/other/../httpd-jail/www/index.html"),
        ("outside", b"/etc/apache2/apache2.conf"),
        ("ancestor", b"/srv"),
        ("long_inside", long.as_bytes()),
    ];

    let mut group = c.benchmark_group("translate");
    for (name, path) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut buffer = PathBuffer::new();
                match translate(black_box(path), &jails) {
                    Translation::Inside { rest } => {
                        let stored = buffer.store_inside(path, rest).expect("fits PATH_MAX");
                        black_box(stored.as_ptr());
                    }
                    other => {
                        black_box(other);
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, translation);
criterion_main!(benches);
