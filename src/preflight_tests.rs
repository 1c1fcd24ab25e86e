use super::*;

const RUN_USER: uid_t = 33;
const RUN_GROUP: gid_t = 33;

fn root(mode: u32) -> Entry {
    Entry { uid: 0, gid: 0, mode: libc::S_IFDIR | mode }
}

fn entry(uid: uid_t, gid: gid_t, mode: u32) -> Entry {
    Entry { uid, gid, mode: libc::S_IFDIR | mode }
}

fn run_user(groups: &[gid_t]) -> RunUser<'_> {
    RunUser { uid: RUN_USER, groups }
}

#[test]
fn root_owned_path_is_safe() {
    let entries = [root(0o755), root(0o755), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), None);
}

#[test]
fn run_user_owned_jail_is_writable() {
    let entries = [entry(RUN_USER, 0, 0o555), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), Some((0, Access::Owner)));
}

#[test]
fn group_write_needs_membership() {
    let entries = [root(0o755), entry(0, 50, 0o775), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), None);
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP, 50])), Some((1, Access::Group(50))));
}

#[test]
fn world_writable_parent_is_found_at_any_level() {
    let entries = [root(0o755), root(0o755), root(0o777), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), Some((2, Access::Everyone)));
}

#[test]
fn sticky_parent_safe_unless_owned() {
    let entries = [root(0o755), root(0o1777), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), None);

    let entries = [root(0o755), entry(RUN_USER, RUN_GROUP, 0o755), root(0o1777)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), Some((1, Access::Owner)));

    let entries = [entry(0, 0, 0o1777), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), Some((0, Access::Everyone)), "the jail itself");
}

#[test]
fn sticky_parent_owned_by_run_user_is_writable() {
    let entries = [root(0o755), entry(RUN_USER, 0, 0o1755), root(0o755)];
    assert_eq!(first_writable(&entries, &run_user(&[RUN_GROUP])), Some((1, Access::Owner)));
}

#[test]
fn root_run_user_is_not_checked() {
    let entries = [root(0o777)];
    assert_eq!(first_writable(&entries, &RunUser { uid: 0, groups: &[0] }), None);
}

#[test]
fn writable_message_names_path_mode_user_and_remedy() {
    let writable = Writable {
        path: b"/srv".to_vec(),
        access: Access::Group(33),
        mode: libc::S_IFDIR | 0o2775,
        jail_itself: false,
        user: b"www-data".to_vec(),
        uid: 33,
    };
    let text = writable.to_string();
    assert_eq!(
        text,
        "/srv is writable by group 33, to which the run user belongs (mode 2775), so httpd's run user \
         www-data (uid 33) could replace the jail directory"
    );
}
