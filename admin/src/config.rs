//! Reads an httpd configuration the way httpd does, keeping the file and
//! line of every directive: Include and IncludeOptional with wildcards,
//! ServerRoot, Define, ${VAR} from Define or the environment, <IfModule>
//! against the LoadModule lines seen so far and <IfDefine>.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::args::{failed, Result};

/// Modules compiled into Debian's and RHEL's httpd 2.4 (`httpd -l`), as
/// the names <IfModule> compares.
const BUILT_IN: [&str; 8] = ["core", "so", "watchdog", "http_core", "log_config", "logio", "version", "unixd"];

#[derive(Clone, Debug)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub file: PathBuf,
    pub line: usize,
}

impl Directive {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

pub struct Config {
    pub directives: Vec<Directive>,
    pub server_root: PathBuf,
}

struct Reader<'a> {
    environment: &'a HashMap<String, String>,
    defines: HashMap<String, String>,
    modules: HashSet<String>,
    server_root: PathBuf,
    directives: Vec<Directive>,
    depth: usize,
}

/// Reads `path` and every file it includes.
pub fn read(path: &Path, server_root: &Path, environment: &HashMap<String, String>, defines: &[String]) -> Result<Config> {
    let mut reader = Reader {
        environment,
        defines: defines.iter().map(|name| (name.clone(), String::new())).collect(),
        modules: BUILT_IN.iter().map(|name| name.to_string()).collect(),
        server_root: server_root.to_path_buf(),
        directives: Vec::new(),
        depth: 0,
    };
    reader.read_file(path)?;
    Ok(Config { directives: reader.directives, server_root: reader.server_root })
}

impl Config {
    /// Returns `path` made absolute against ServerRoot, as httpd does.
    pub fn absolute(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.server_root.join(path)
        }
    }

    /// Returns the last value of a single-valued directive, as httpd applies it.
    pub fn last(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().rev().find(|directive| directive.is(name))
    }
}

impl Reader<'_> {
    fn read_file(&mut self, path: &Path) -> Result<()> {
        self.depth += 1;
        if self.depth > 16 {
            return failed(format!("{}: includes nested more than 16 deep; check for an Include loop", path.display()));
        }
        let text = fs::read_to_string(path).or_else(|error| failed(format!("cannot read configuration file {}: {}", path.display(), error)))?;
        // One entry per nested section: whether its content applies.
        let mut active: Vec<bool> = Vec::new();
        let mut pending = String::new();
        let mut start = 0;
        for (index, raw) in text.lines().enumerate() {
            if pending.is_empty() {
                start = index + 1;
            }
            if let Some(continued) = raw.strip_suffix('\\') {
                pending.push_str(continued);
                continue;
            }
            pending.push_str(raw);
            let line = std::mem::take(&mut pending);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let applies = active.iter().all(|&on| on);
            if let Some(closing) = line.strip_prefix("</") {
                let _ = closing;
                active.pop();
                continue;
            }
            let words = self.split(line.trim_start_matches('<').trim_end_matches('>'));
            let Some((name, args)) = words.split_first() else { continue };
            if line.starts_with('<') {
                active.push(applies && self.section_applies(name, args));
                continue;
            }
            if !applies {
                continue;
            }
            let directive = Directive { name: name.clone(), args: args.to_vec(), file: path.to_path_buf(), line: start };
            self.apply(&directive)?;
            self.directives.push(directive);
        }
        self.depth -= 1;
        Ok(())
    }

    fn section_applies(&self, name: &str, args: &[String]) -> bool {
        let argument = args.first().map(String::as_str).unwrap_or("");
        let (negated, argument) = match argument.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, argument),
        };
        let result = if name.eq_ignore_ascii_case("IfModule") {
            self.modules.contains(&module_key(argument))
        } else if name.eq_ignore_ascii_case("IfDefine") {
            self.defines.contains_key(argument)
        } else {
            // NOTE: <IfVersion>, <IfFile>, <IfDirective>, <Else> and the
            // like are taken as true, so their content is always checked.
            return true;
        };
        result != negated
    }

    fn apply(&mut self, directive: &Directive) -> Result<()> {
        let first = directive.args.first().cloned().unwrap_or_default();
        if directive.is("ServerRoot") {
            self.server_root = PathBuf::from(first);
        } else if directive.is("Define") {
            self.defines.insert(first, directive.args.get(1).cloned().unwrap_or_default());
        } else if directive.is("UnDefine") {
            self.defines.remove(&first);
        } else if directive.is("LoadModule") {
            self.modules.insert(module_key(&first));
            if let Some(file) = directive.args.get(1) {
                let stem = Path::new(file).file_stem().map(|stem| stem.to_string_lossy().to_string()).unwrap_or_default();
                self.modules.insert(module_key(&stem));
            }
        } else if directive.is("Include") || directive.is("IncludeOptional") {
            let pattern = if Path::new(&first).is_absolute() { PathBuf::from(&first) } else { self.server_root.join(&first) };
            let files = expand(&pattern);
            if files.is_empty() && directive.is("Include") && !has_wildcard(&first) {
                return failed(format!("{}: Include {}: file not found", directive.location(), pattern.display()));
            }
            for file in files {
                self.read_file(&file)?;
            }
        }
        Ok(())
    }

    /// Splits a line into words, honoring quotes and expanding ${VAR}.
    fn split(&self, line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let mut word = String::new();
            if c == '"' || c == '\'' {
                chars.next();
                while let Some(next) = chars.next() {
                    if next == '\\' && chars.peek() == Some(&c) {
                        word.push(c);
                        chars.next();
                    } else if next == c {
                        break;
                    } else {
                        word.push(next);
                    }
                }
            } else {
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
            }
            words.push(self.expand_variables(&word));
        }
        words
    }

    fn expand_variables(&self, word: &str) -> String {
        let mut result = String::new();
        let mut rest = word;
        while let Some(start) = rest.find("${") {
            let Some(length) = rest[start + 2..].find('}') else { break };
            let name = &rest[start + 2..start + 2 + length];
            result.push_str(&rest[..start]);
            match self.defines.get(name).filter(|value| !value.is_empty()).or_else(|| self.environment.get(name)) {
                Some(value) => result.push_str(value),
                None => result.push_str(&rest[start..start + 3 + length]),
            }
            rest = &rest[start + 3 + length..];
        }
        result.push_str(rest);
        result
    }
}

/// Returns the name <IfModule> matches: `mod_cgi.c`, `cgi_module` and the
/// file `mod_cgi` all become `cgi`; MPMs also match without `mpm_`.
fn module_key(name: &str) -> String {
    let name = name.strip_suffix(".c").unwrap_or(name);
    let name = name.strip_suffix("_module").unwrap_or(name);
    let name = name.strip_prefix("mod_").unwrap_or(name);
    match name {
        "prefork" | "worker" | "event" => format!("mpm_{}", name),
        _ => name.to_string(),
    }
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// Expands an Include argument: a file, every file in a directory, or a
/// wildcard in the last component, sorted as httpd sorts them.
fn expand(pattern: &Path) -> Vec<PathBuf> {
    let text = pattern.to_string_lossy();
    if !has_wildcard(&text) {
        if pattern.is_dir() {
            return sorted_entries(pattern, "*");
        }
        return if pattern.exists() { vec![pattern.to_path_buf()] } else { Vec::new() };
    }
    let (Some(dir), Some(name)) = (pattern.parent(), pattern.file_name()) else { return Vec::new() };
    sorted_entries(dir, &name.to_string_lossy())
}

fn sorted_entries(dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let Ok(c_pattern) = CString::new(pattern) else { return Vec::new() };
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let Ok(c_name) = CString::new(name.to_string_lossy().as_bytes()) else { return false };
            // SAFETY: both strings are valid and NUL-terminated.
            !name.to_string_lossy().starts_with('.') && unsafe { libc::fnmatch(c_pattern.as_ptr(), c_name.as_ptr(), 0) } == 0
        })
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_match_ifmodule_forms() {
        assert_eq!(module_key("mod_cgi.c"), "cgi");
        assert_eq!(module_key("cgi_module"), "cgi");
        assert_eq!(module_key("mod_cgi"), "cgi");
        assert_eq!(module_key("mpm_prefork_module"), "mpm_prefork");
        assert_eq!(module_key("prefork.c"), "mpm_prefork");
    }

    #[test]
    fn reads_sections_variables_and_includes() {
        let dir = std::env::temp_dir().join(format!("httpd-chroot-admin-config-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("conf.d")).unwrap();
        fs::write(
            dir.join("main.conf"),
            "Define SITE /srv/site\nLoadModule alias_module x/mod_alias.so\n<IfModule mod_alias.c>\n  Alias /a \"${SITE}/a\"\n</IfModule>\n\
             <IfModule !alias_module>\nAlias /never /never\n</IfModule>\n<IfDefine NOPE>\nAlias /no /no\n</IfDefine>\n\
             DocumentRoot \\\n  ${HOME_DIR}/www\nIncludeOptional conf.d/*.conf\n",
        )
        .unwrap();
        fs::write(dir.join("conf.d/b.conf"), "Alias /b /b\n").unwrap();
        let environment = HashMap::from([("HOME_DIR".to_string(), "/home/x".to_string())]);
        let config = read(&dir.join("main.conf"), &dir, &environment, &[]).unwrap();
        let aliases: Vec<(&str, usize)> =
            config.directives.iter().filter(|d| d.is("Alias")).map(|d| (d.args[1].as_str(), d.line)).collect();
        assert_eq!(aliases, [("/srv/site/a", 4), ("/b", 1)]);
        let root = config.last("documentroot").unwrap();
        assert_eq!((root.args[0].as_str(), root.line), ("/home/x/www", 12));
        fs::remove_dir_all(dir).unwrap();
    }
}
