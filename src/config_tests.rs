use super::*;

use std::path::PathBuf;

/// Builds the variables from the values of HTTPD_CHROOT_DIR, _LOG and _MODE.
fn vars(dir: Option<&[u8]>, log: Option<&[u8]>, mode: Option<&[u8]>) -> Variables {
    Variables { dir: dir.map(<[u8]>::to_vec), log: log.map(<[u8]>::to_vec), mode: mode.map(<[u8]>::to_vec), ..Variables::default() }
}

/// A fresh directory under the system temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("httpd-chroot-config-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch directory");
        Scratch(path)
    }

    fn bytes(&self, child: &str) -> Vec<u8> {
        self.0.join(child).as_os_str().as_bytes().to_vec()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn error_for(dir: &[u8]) -> SettingsError {
    parse(&vars(Some(dir), None, None)).expect_err("value should be rejected")
}

#[test]
fn unset_or_empty_dir_is_inert() {
    assert!(parse(&vars(None, None, None)).expect("no error").is_none());
    assert!(parse(&vars(Some(b""), Some(b"debug"), None)).expect("no error").is_none());
}

#[test]
fn existing_directory_is_accepted() {
    let scratch = Scratch::new("ok");
    std::fs::create_dir(scratch.0.join("jail")).expect("create jail");
    let mut value = scratch.bytes("jail");
    value.extend_from_slice(b"//");

    let settings = parse(&vars(Some(&value), Some(b"debug"), None)).expect("valid").expect("configured");
    assert_eq!(settings.jail.as_bytes(), &scratch.bytes("jail")[..]);
    assert_eq!(settings.log_level, LevelFilter::Debug);
}

#[test]
fn symlinked_jail_resolves_once() {
    let scratch = Scratch::new("link");
    std::fs::create_dir(scratch.0.join("real")).expect("create jail");
    std::os::unix::fs::symlink(scratch.0.join("real"), scratch.0.join("link")).expect("create symlink");

    let settings = parse(&vars(Some(&scratch.bytes("link")), None, None)).expect("valid").expect("configured");
    assert_eq!(settings.jail.as_bytes(), &scratch.bytes("link")[..]);
    let real = std::fs::canonicalize(scratch.0.join("real")).expect("canonical path");
    assert_eq!(settings.resolved.as_bytes(), real.as_os_str().as_bytes());
}

#[test]
fn relative_dir_is_rejected() {
    let error = error_for(b"srv/jail");
    assert_eq!(error, SettingsError::Path { value: b"srv/jail".to_vec(), reason: JailPathError::NotAbsolute });
    let message = error.to_string();
    assert!(message.contains("HTTPD_CHROOT_DIR=srv/jail"), "message {:?}", message);
    assert!(message.contains("not an absolute path"), "message {:?}", message);
}

#[test]
fn missing_dir_names_errno() {
    let scratch = Scratch::new("missing");
    let error = error_for(&scratch.bytes("absent"));
    assert_eq!(error, SettingsError::Missing { value: scratch.bytes("absent"), errno: Errno(libc::ENOENT) });
    assert!(error.to_string().contains("ENOENT (No such file or directory)"), "message {}", error);
}

#[test]
fn file_is_not_a_directory() {
    let scratch = Scratch::new("file");
    std::fs::write(scratch.0.join("file"), b"x").expect("create file");
    let error = error_for(&scratch.bytes("file"));
    assert_eq!(error, SettingsError::NotDirectory { value: scratch.bytes("file") });
    assert!(error.to_string().contains("ENOTDIR"), "message {}", error);
}

#[test]
fn root_directory_is_rejected() {
    assert_eq!(error_for(b"/"), SettingsError::Path { value: b"/".to_vec(), reason: JailPathError::RootDirectory });

    let scratch = Scratch::new("root");
    std::os::unix::fs::symlink("/", scratch.0.join("root")).expect("create symlink");
    assert_eq!(error_for(&scratch.bytes("root")), SettingsError::ResolvesToRoot { value: scratch.bytes("root") });
}

#[test]
fn control_and_non_utf8_bytes_are_rejected() {
    for value in [&b"/srv/jail\n"[..], b"/srv/\x1bjail", b"/srv/j\xffail"] {
        let error = error_for(value);
        assert_eq!(error, SettingsError::Characters { value: value.to_vec() });
        let message = error.to_string();
        assert!(!message.contains('\n'), "message must stay on one line: {:?}", message);
    }
    assert!(error_for(b"/srv/j\xffail").to_string().contains("/srv/j\\xffail"));
}

#[test]
fn overlong_dir_is_rejected() {
    let long = format!("/{}", "d".repeat(crate::paths::PATH_MAX));
    let error = error_for(long.as_bytes());
    assert_eq!(error, SettingsError::Path { value: long.into_bytes(), reason: JailPathError::TooLong });
    let message = error.to_string();
    assert!(message.contains("ENAMETOOLONG"), "message {:?}", message);
    assert!(message.contains("... (4097 bytes)"), "long value is cut: {:?}", message);
    assert!(message.len() < 600, "message fits a log line: {} bytes", message.len());
}

#[test]
fn unknown_log_level_is_rejected() {
    let error = parse(&vars(Some(b"/tmp"), Some(b"verbose"), None)).expect_err("level should be rejected");
    assert_eq!(error, SettingsError::LogLevel { value: b"verbose".to_vec() });
    assert!(error.to_string().contains("HTTPD_CHROOT_LOG=verbose"));
}

#[test]
fn mode_defaults_to_server() {
    for value in [None, Some(&b""[..]), Some(&b"server"[..])] {
        let settings = parse(&vars(Some(b"/tmp"), None, value)).expect("valid").expect("configured");
        assert_eq!(settings.mode, Mode::Server, "value {:?}", value);
    }
    let settings = parse(&vars(Some(b"/tmp"), None, Some(b"children"))).expect("valid").expect("configured");
    assert_eq!(settings.mode, Mode::Children);
}

#[test]
fn unknown_mode_is_rejected() {
    for value in [&b"Server"[..], b"parent", b"children ", b"none"] {
        let error = parse(&vars(Some(b"/tmp"), None, Some(value))).expect_err("mode should be rejected");
        assert_eq!(error, SettingsError::Mode { value: value.to_vec() });
        assert_eq!(error.errno(), Errno(libc::EINVAL));
        let message = error.to_string();
        assert!(message.starts_with("invalid HTTPD_CHROOT_MODE="), "message {:?}", message);
        assert!(message.contains("expected server"), "message {:?}", message);
    }
}

#[test]
fn audit_accepts_one_and_zero() {
    let mut variables = vars(Some(b"/tmp"), None, None);
    assert!(!parse(&variables).expect("valid").expect("configured").audit);
    variables.audit = Some(b"1".to_vec());
    assert!(parse(&variables).expect("valid").expect("configured").audit);
    variables.audit = Some(b"0".to_vec());
    assert!(!parse(&variables).expect("valid").expect("configured").audit);
}

#[test]
fn unknown_audit_value_is_rejected() {
    let mut variables = vars(Some(b"/tmp"), None, None);
    variables.audit = Some(b"yes".to_vec());
    let error = parse(&variables).expect_err("value should be rejected");
    assert_eq!(error, SettingsError::Audit { value: b"yes".to_vec() });
    assert!(error.to_string().starts_with("invalid HTTPD_CHROOT_AUDIT=yes: expected 1"), "{}", error);
}

#[test]
fn dangling_symlink_names_its_target() {
    let scratch = Scratch::new("dangling");
    std::os::unix::fs::symlink(scratch.0.join("gone"), scratch.0.join("link")).expect("create symlink");

    let error = error_for(&scratch.bytes("link"));
    assert_eq!(error, SettingsError::DanglingSymlink { value: scratch.bytes("link"), target: scratch.bytes("gone") });
    assert_eq!(error.errno(), Errno(libc::ENOENT));
    let message = error.to_string();
    assert!(message.contains("is a symlink to"), "{}", message);
    assert!(message.contains("ENOENT"), "{}", message);
}

#[test]
fn allow_writable_takes_one_or_zero() {
    let scratch = Scratch::new("allow");
    std::fs::create_dir(scratch.0.join("jail")).expect("create jail");
    let mut variables = vars(Some(&scratch.bytes("jail")), None, None);

    for (value, expected) in [(None, false), (Some(&b"0"[..]), false), (Some(&b"1"[..]), true)] {
        variables.allow_writable = value.map(<[u8]>::to_vec);
        let settings = parse(&variables).expect("valid").expect("configured");
        assert_eq!(settings.allow_writable, expected, "value {:?}", value);
    }

    variables.allow_writable = Some(b"yes".to_vec());
    let error = parse(&variables).expect_err("yes is not a switch value");
    assert_eq!(error, SettingsError::AllowWritable { value: b"yes".to_vec() });
    assert!(error.to_string().contains("HTTPD_CHROOT_ALLOW_WRITABLE=yes"), "{}", error);
}
