//! Findings of the check command, printed as text or as JSON.

use std::fmt::Write;

#[derive(Clone, Debug)]
pub struct Finding {
    /// A stable name for scripts: outside-jail, missing-in-jail,
    /// missing-interpreter, missing-library, writable, device, setuid,
    /// hard-link, nodev-mount or audit.
    pub kind: &'static str,
    pub path: String,
    pub message: String,
    /// `file:line` of the directive or script it comes from, if any.
    pub source: Option<String>,
    /// A jail builder option that fixes it, such as `--with /usr/bin/perl`.
    pub proposal: Option<String>,
}

pub fn text(findings: &[Finding], proposals: &[String], jail: &str, user: &str) -> String {
    let mut out = String::new();
    for finding in findings {
        let source = finding.source.as_ref().map(|source| format!("{}: ", source)).unwrap_or_default();
        let _ = writeln!(out, "{}{}: {}", source, finding.kind, finding.message);
    }
    if !proposals.is_empty() {
        let _ = writeln!(out, "to copy what is missing, run:\n  httpd-chroot-admin jail --user {} {} {}", user, proposals.join(" "), jail);
    }
    match findings.len() {
        0 => {
            let _ = writeln!(out, "jail {} passed every check", jail);
        }
        count => {
            let _ = writeln!(out, "jail {}: {} finding(s)", jail, count);
        }
    }
    out
}

pub fn json(findings: &[Finding], proposals: &[String], jail: &str, user: &str) -> String {
    let mut out = format!("{{\"jail\":{},\"user\":{},\"findings\":[", quote(jail), quote(user));
    for (index, finding) in findings.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"kind\":{},\"path\":{},\"message\":{},\"source\":{},\"proposal\":{}}}",
            quote(finding.kind),
            quote(&finding.path),
            quote(&finding.message),
            finding.source.as_deref().map_or("null".to_string(), quote),
            finding.proposal.as_deref().map_or("null".to_string(), quote),
        );
    }
    out.push_str("],\"proposals\":[");
    out.push_str(&proposals.iter().map(|proposal| quote(proposal)).collect::<Vec<_>>().join(","));
    out.push_str("]}\n");
    out
}

/// Returns `text` as a JSON string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_strings() {
        assert_eq!(quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
