//! Locations of apachectl's environment file and httpd's configuration in
//! each distribution: Debian's /etc/apache2 or RHEL's /etc/httpd.

use std::fs;
use std::path::{Path, PathBuf};

use crate::args::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flavor {
    /// /etc/apache2/envvars, sourced by apache2ctl: `export KEY=value` lines.
    Debian,
    /// /etc/sysconfig/httpd, read by systemd and apachectl: `KEY=value` lines.
    Rhel,
}

pub struct Layout {
    pub flavor: Flavor,
    pub env_file: PathBuf,
    pub config: PathBuf,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Debian => "debian",
            Flavor::Rhel => "rhel",
        }
    }

    /// Returns the name of the control script.
    pub fn control(self) -> &'static str {
        match self {
            Flavor::Debian => "apache2ctl",
            Flavor::Rhel => "apachectl",
        }
    }

    /// Returns how to replace the running server with a new process, which
    /// reads the environment file again. `apachectl restart` and `graceful`
    /// only signal the running parent, which keeps its old environment.
    pub fn new_process_commands(self) -> &'static str {
        match self {
            Flavor::Debian => "`apache2ctl stop` then `apache2ctl start` (or `systemctl restart apache2`)",
            Flavor::Rhel => "`apachectl stop` then `apachectl start` (or `systemctl restart httpd`)",
        }
    }

    fn default_env_file(self) -> &'static str {
        match self {
            Flavor::Debian => "/etc/apache2/envvars",
            Flavor::Rhel => "/etc/sysconfig/httpd",
        }
    }

    fn default_config(self) -> &'static str {
        match self {
            Flavor::Debian => "/etc/apache2/apache2.conf",
            Flavor::Rhel => "/etc/httpd/conf/httpd.conf",
        }
    }
}

/// Returns the flavor whose files exist under `root` (/ outside tests).
pub fn detect(root: &Path) -> Option<Flavor> {
    if root.join("etc/apache2/envvars").exists() || root.join("etc/apache2/apache2.conf").exists() {
        Some(Flavor::Debian)
    } else if root.join("etc/sysconfig/httpd").exists() || root.join("etc/httpd/conf/httpd.conf").exists() {
        Some(Flavor::Rhel)
    } else {
        None
    }
}

/// Returns the flavor an environment file was written for: Debian's is
/// named envvars or uses `export`.
fn flavor_of_env_file(path: &Path) -> Flavor {
    if path.file_name().map_or(false, |name| name == "envvars") {
        return Flavor::Debian;
    }
    let text = fs::read_to_string(path).unwrap_or_default();
    if text.lines().any(|line| line.trim_start().starts_with("export ")) {
        Flavor::Debian
    } else {
        Flavor::Rhel
    }
}

/// Resolves the layout from --layout, --env-file and --config, detecting
/// what they leave open.
pub fn resolve(layout: Option<&str>, env_file: Option<&str>, config: Option<&str>) -> Result<Layout> {
    let flavor = match (layout, env_file) {
        (Some("debian"), _) => Flavor::Debian,
        (Some("rhel"), _) => Flavor::Rhel,
        (Some(other), _) => return Err(Error::Usage(format!("invalid --layout {}: expected debian or rhel", other))),
        (None, Some(file)) => flavor_of_env_file(Path::new(file)),
        (None, None) => detect(Path::new("/")).ok_or_else(|| {
            Error::Usage(
                "found neither /etc/apache2 (Debian) nor /etc/httpd or /etc/sysconfig/httpd (RHEL); \
                 give --layout debian|rhel or --env-file and --config"
                    .to_string(),
            )
        })?,
    };
    Ok(Layout {
        flavor,
        env_file: PathBuf::from(env_file.unwrap_or(flavor.default_env_file())),
        config: PathBuf::from(config.unwrap_or(flavor.default_config())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("httpd-chroot-admin-layout-{}-{}", name, std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn detects_debian_and_rhel_trees() {
        let debian = scratch("debian");
        fs::create_dir_all(debian.join("etc/apache2")).unwrap();
        fs::write(debian.join("etc/apache2/envvars"), "export APACHE_RUN_USER=www-data\n").unwrap();
        assert_eq!(detect(&debian), Some(Flavor::Debian));

        let rhel = scratch("rhel");
        fs::create_dir_all(rhel.join("etc/sysconfig")).unwrap();
        fs::write(rhel.join("etc/sysconfig/httpd"), "OPTIONS=\n").unwrap();
        assert_eq!(detect(&rhel), Some(Flavor::Rhel));

        let empty = scratch("empty");
        assert_eq!(detect(&empty), None);
        for dir in [debian, rhel, empty] {
            fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn env_file_decides_the_flavor() {
        let dir = scratch("env-file");
        let sysconfig = dir.join("httpd");
        fs::write(&sysconfig, "# sysconfig\nOPTIONS=\nLANG=C\n").unwrap();
        let layout = resolve(None, Some(sysconfig.to_str().unwrap()), None).unwrap();
        assert_eq!(layout.flavor, Flavor::Rhel);
        assert_eq!(layout.config, Path::new("/etc/httpd/conf/httpd.conf"));

        let envvars = dir.join("envvars");
        fs::write(&envvars, "export LANG=C\n").unwrap();
        assert_eq!(resolve(None, Some(envvars.to_str().unwrap()), None).unwrap().flavor, Flavor::Debian);
        assert!(matches!(resolve(Some("suse"), None, None), Err(Error::Usage(_))));
        fs::remove_dir_all(dir).unwrap();
    }
}
