//! A small command-line parser: `--name value`, `--name=value`, flags and
//! positional arguments, with errors that make the program exit 2.

use std::collections::HashMap;

/// Why a command stopped: a usage error (exit status 2) or a failed
/// operation (exit status 1, or 2 for the check command).
#[derive(Debug)]
pub enum Error {
    Usage(String),
    Failed(String),
}

pub type Result<T> = std::result::Result<T, Error>;

pub fn failed<T>(message: String) -> Result<T> {
    Err(Error::Failed(message))
}

/// Returns this program's absolute path, for commands that the program
/// proposes to run (it is usually not in PATH), or its name when the path
/// cannot be found.
pub fn program_path() -> String {
    std::env::current_exe().map_or_else(|_| "httpd-chroot-admin".to_string(), |path| path.display().to_string())
}

/// One accepted option: its name without dashes and whether it takes a value.
pub struct Spec {
    pub name: &'static str,
    pub takes_value: bool,
}

pub const fn flag(name: &'static str) -> Spec {
    Spec { name, takes_value: false }
}

pub const fn value(name: &'static str) -> Spec {
    Spec { name, takes_value: true }
}

/// Parsed arguments of one command.
#[derive(Debug, Default)]
pub struct Parsed {
    values: HashMap<String, Vec<String>>,
    pub positional: Vec<String>,
}

impl Parsed {
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Returns the last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|values| values.last()).map(String::as_str)
    }

    /// Returns every value given for a repeatable option, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }
}

/// Parses `args` against `specs`. `--` ends option parsing.
pub fn parse(command: &str, args: &[String], specs: &[Spec]) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        if arg == "--" {
            parsed.positional.extend(args[index..].iter().cloned());
            break;
        }
        let Some(option) = arg.strip_prefix("--") else {
            if arg.starts_with('-') && arg.len() > 1 && arg != "-h" {
                return Err(unknown(command, arg));
            }
            if arg == "-h" {
                parsed.values.entry("help".to_string()).or_default();
            } else {
                parsed.positional.push(arg.clone());
            }
            continue;
        };
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (option, None),
        };
        let spec = specs.iter().find(|spec| spec.name == name).ok_or_else(|| unknown(command, arg))?;
        let entry = parsed.values.entry(name.to_string()).or_default();
        if !spec.takes_value {
            if inline.is_some() {
                return Err(Error::Usage(format!("option --{} takes no value; remove `={}`", name, inline.unwrap())));
            }
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None if index < args.len() => {
                index += 1;
                args[index - 1].clone()
            }
            None => return Err(Error::Usage(format!("option --{} needs a value. Run `httpd-chroot-admin {} --help`", name, command))),
        };
        entry.push(value);
    }
    Ok(parsed)
}

fn unknown(command: &str, arg: &str) -> Error {
    Error::Usage(format!("unknown option {} for `{}`. Run `httpd-chroot-admin {} --help` for the options", arg, command, command))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn values_flags_and_positional() {
        let specs = [flag("dry-run"), value("with")];
        let parsed = parse("jail", &strings(&["--with", "/bin/sh", "--with=/usr/bin/perl", "--dry-run", "/srv/jail"]), &specs).unwrap();
        assert_eq!(parsed.all("with"), ["/bin/sh", "/usr/bin/perl"]);
        assert!(parsed.has("dry-run"));
        assert_eq!(parsed.positional, ["/srv/jail"]);
    }

    #[test]
    fn unknown_and_missing_values_are_usage_errors() {
        let specs = [value("with")];
        assert!(matches!(parse("jail", &strings(&["--bogus"]), &specs), Err(Error::Usage(_))));
        assert!(matches!(parse("jail", &strings(&["--with"]), &specs), Err(Error::Usage(_))));
        assert!(matches!(parse("jail", &strings(&["-x"]), &specs), Err(Error::Usage(_))));
    }
}
