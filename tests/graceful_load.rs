//! HTTP load with keep-alive while the jailed server restarts gracefully
//! every second: no request fails, and afterwards every server process is
//! confined. HTTPD_CHROOT_LOAD_SECONDS lengthens the run (at least 30 s).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::apache::Site;
use common::keepalive::{Client, Tally};

/// Concurrent keep-alive connections.
const CLIENTS: usize = 4;

fn seconds() -> u64 {
    std::env::var("HTTPD_CHROOT_LOAD_SECONDS").ok().and_then(|value| value.parse().ok()).unwrap_or(30).max(30)
}

fn load_through_graceful_restarts(mpm: &'static str, mode: &str) {
    let test = format!("graceful-load-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let mut site = Site::new(&test, mpm);
    site.set_mode(mode);
    site.set_env("HTTPD_CHROOT_LOG", "info");
    let server = site.start();
    let expected = std::fs::read(site.jail.join("www/index.html")).expect("read index.html");
    let first_generation = site.generations();

    let running = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let running = Arc::clone(&running);
            let mut client = Client::new(site.port, "/index.html", &expected);
            thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    client.request();
                }
                client.tally
            })
        })
        .collect();

    let duration = Duration::from_secs(seconds());
    let started = Instant::now();
    let mut restarts = 0;
    while started.elapsed() < duration {
        thread::sleep(Duration::from_secs(1));
        server.control("graceful");
        restarts += 1;
    }
    server.wait_generation(first_generation + restarts);
    running.store(false, Ordering::Relaxed);

    let mut total = Tally::default();
    for client in clients {
        total.add(&client.join().expect("client thread"));
    }
    eprintln!(
        "{} {}: {} graceful restarts in {:?}; {} requests answered, {} failed, {} resent after a keep-alive close",
        mpm,
        mode,
        restarts,
        started.elapsed(),
        total.ok,
        total.failed,
        total.retried
    );
    assert_eq!(total.failed, 0, "failed requests: {:?}\n{}", total.failures, site.report());
    assert!(total.ok > 1000, "too few requests to mean anything: {:?}", total);
    server.check_confined("after the load");
    server.stop();
}

#[test]
fn event_server_mode_under_load() {
    load_through_graceful_restarts("event", "server");
}

#[test]
fn prefork_children_mode_under_load() {
    load_through_graceful_restarts("prefork", "children");
}
