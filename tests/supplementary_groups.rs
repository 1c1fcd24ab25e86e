//! The supplementary groups of `User`: the jail has no /etc/group, yet every
//! child gets the groups the host's name service gives the user, in both
//! modes and after a graceful restart.

mod common;

use std::process::Command;

use common::apache::Site;

/// A system user with one extra group, created for the test and removed
/// when it ends.
struct TestUser {
    name: String,
    extra_group: String,
}

impl TestUser {
    /// Creates the user; `tag` keeps the names of tests running at once apart.
    fn create(tag: char) -> TestUser {
        let suffix = std::process::id() % 100_000;
        let user = TestUser { name: format!("hcu{}{}", tag, suffix), extra_group: format!("hcg{}{}", tag, suffix) };
        run(&["groupadd", "--system", &user.extra_group]);
        run(&["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", &user.name]);
        run(&["usermod", "--append", "--groups", &user.extra_group, &user.name]);
        user
    }

    /// Returns the group ids `id -G` reports for the user on the host.
    fn host_groups(&self) -> Vec<u32> {
        let output = Command::new("id").arg("-G").arg(&self.name).output().expect("run id -G");
        let text = String::from_utf8_lossy(&output.stdout);
        let mut ids: Vec<u32> = text.split_whitespace().filter_map(|id| id.parse().ok()).collect();
        ids.sort_unstable();
        ids
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
        let _ = Command::new("groupdel").arg(&self.extra_group).status();
    }
}

fn run(command: &[&str]) {
    let status = Command::new(command[0]).args(&command[1..]).status().expect("run a user management command");
    assert!(status.success(), "{:?} failed", command);
}

/// Returns the supplementary groups of `pid` from /proc, sorted.
fn process_groups(pid: i32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid)).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("Groups:")).unwrap_or("Groups:");
    let mut ids: Vec<u32> = line["Groups:".len()..].split_whitespace().filter_map(|id| id.parse().ok()).collect();
    ids.sort_unstable();
    ids
}

fn groups_in(mode: &str) {
    let test = format!("groups-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let user = TestUser::create(mode.chars().next().unwrap_or('x'));
    let expected = user.host_groups();
    assert!(expected.len() >= 2, "the test user has its own and an extra group: {:?}", expected);

    let mut site = Site::new(&test, "prefork");
    site.set_mode(mode);
    site.extra.push(format!("User {}", user.name));
    site.extra.push(format!("Group {}", user.name));
    assert!(!site.jail.join("etc/group").exists(), "the jail has no /etc/group");
    let server = site.start();

    for step in ["start", "graceful"] {
        if step == "graceful" {
            server.restart_with("graceful");
        }
        let children: Vec<_> = server.httpd_processes().into_iter().filter(|info| info.pid != server.parent).collect();
        assert!(!children.is_empty(), "{}: no children", step);
        for child in children {
            assert_eq!(process_groups(child.pid), expected, "{}: groups of pid {} ({})", step, child.pid, child.command);
        }
    }
    server.stop();
}

#[test]
fn groups_in_server_mode() {
    groups_in("server");
}

#[test]
fn groups_in_children_mode() {
    groups_in("children");
}
