//! The purpose of an httpd invocation, read from its command line.
//!
//! The same environment (and so the same `LD_PRELOAD`) reaches the server and
//! the control commands that apachectl runs. The library jails only a process
//! that may start a server, checks the jail settings in configuration tests
//! so that `apachectl configtest` reports them, and leaves stop commands and
//! information queries alone, so that a running server can always be stopped.

/// The part an httpd process plays, as far as the library is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// May start a server: `-k start`, `-k restart`, `-k graceful`, or no
    /// `-k` at all (`-DFOREGROUND`, `-X`).
    Server,
    /// Reads the configuration and exits: `-t`, `-S`, `-M`, `-D DUMP_...`.
    ConfigTest,
    /// Stops a server or prints information: `-k stop`, `-k graceful-stop`,
    /// `-v`, `-V`, `-l`, `-L`, `-h`.
    Control,
}

/// httpd options that take an argument, from its getopt string
/// `C:c:D:d:E:e:f:vVlLtTSMh?Xk:` (server/main.c in httpd 2.4).
const OPTIONS_WITH_ARGUMENT: &[u8] = b"CcDdEefk";

/// Classifies an httpd command line; `args` excludes argv[0].
pub fn classify<'a, I>(args: I) -> Invocation
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut invocation = Invocation::Server;
    let mut args = args.into_iter();

    while let Some(arg) = args.next() {
        if arg == b"--" {
            break;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            continue;
        }

        let mut index = 1;
        while index < arg.len() {
            let option = arg[index];
            index += 1;

            if OPTIONS_WITH_ARGUMENT.contains(&option) {
                let value = if index < arg.len() {
                    &arg[index..]
                } else {
                    args.next().unwrap_or(&[])
                };
                invocation = invocation.combine(option_role(option, value));
                break;
            }
            invocation = invocation.combine(flag_role(option));
        }
    }
    invocation
}

fn option_role(option: u8, value: &[u8]) -> Invocation {
    match option {
        b'k' if value == b"stop" || value == b"graceful-stop" => Invocation::Control,
        b'D' if value.starts_with(b"DUMP_") => Invocation::ConfigTest,
        _ => Invocation::Server,
    }
}

fn flag_role(flag: u8) -> Invocation {
    match flag {
        b't' | b'S' | b'M' => Invocation::ConfigTest,
        b'v' | b'V' | b'l' | b'L' | b'h' | b'?' => Invocation::Control,
        _ => Invocation::Server,
    }
}

impl Invocation {
    /// Keeps the most restrictive of two roles: Control before ConfigTest
    /// before Server, as httpd itself exits early for those options.
    fn combine(self, other: Invocation) -> Invocation {
        match (self, other) {
            (Invocation::Control, _) | (_, Invocation::Control) => Invocation::Control,
            (Invocation::ConfigTest, _) | (_, Invocation::ConfigTest) => Invocation::ConfigTest,
            _ => Invocation::Server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(line: &str) -> Invocation {
        classify(line.split_whitespace().map(str::as_bytes))
    }

    #[test]
    fn start_commands_are_server() {
        assert_eq!(role("-k start"), Invocation::Server);
        assert_eq!(role("-f /etc/apache2/apache2.conf -k start"), Invocation::Server);
        assert_eq!(role("-kstart"), Invocation::Server);
        assert_eq!(role("-DFOREGROUND"), Invocation::Server);
        assert_eq!(role("-D FOREGROUND -d /etc/apache2"), Invocation::Server);
        assert_eq!(role("-X"), Invocation::Server);
        assert_eq!(role(""), Invocation::Server);
    }

    #[test]
    fn restart_commands_are_server() {
        // Without a running server, these start one.
        assert_eq!(role("-k restart"), Invocation::Server);
        assert_eq!(role("-k graceful"), Invocation::Server);
    }

    #[test]
    fn stop_commands_are_control() {
        assert_eq!(role("-k stop"), Invocation::Control);
        assert_eq!(role("-k graceful-stop"), Invocation::Control);
        assert_eq!(role("-f x.conf -kstop"), Invocation::Control);
    }

    #[test]
    fn information_flags_are_control() {
        for line in ["-v", "-V", "-l", "-L", "-h", "-?", "-f x.conf -V"] {
            assert_eq!(role(line), Invocation::Control, "command line {:?}", line);
        }
    }

    #[test]
    fn config_tests_are_config_test() {
        for line in ["-t", "-S", "-M", "-t -D DUMP_RUN_CFG", "-DDUMP_INCLUDES", "-tX"] {
            assert_eq!(role(line), Invocation::ConfigTest, "command line {:?}", line);
        }
    }

    #[test]
    fn option_values_are_not_flags() {
        // "-f -t" names a file called "-t"; "-C" takes "-v" as a directive.
        assert_eq!(role("-f -t"), Invocation::Server);
        assert_eq!(role("-C -v -k start"), Invocation::Server);
        assert_eq!(role("-D -S"), Invocation::Server);
    }

    #[test]
    fn arguments_after_double_dash_are_ignored() {
        assert_eq!(role("-k start -- -t"), Invocation::Server);
    }
}
