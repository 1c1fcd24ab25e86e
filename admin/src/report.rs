//! Findings and notes of the check command, printed as text or as JSON.
//! Findings make the check fail; notes only inform.

use std::fmt::Write;

use crate::args::program_path;

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

/// Returns the report as text: the findings, the notes (lines starting
/// with `note: `), the jail builder command with this program's absolute
/// path, and a summary line.
pub fn text(findings: &[Finding], notes: &[Finding], proposals: &[String], jail: &str, user: &str) -> String {
    let mut out = String::new();
    for finding in findings {
        let _ = writeln!(out, "{}", text_line(finding));
    }
    for note in notes {
        let _ = writeln!(out, "note: {}", text_line(note));
    }
    if !proposals.is_empty() {
        let _ = writeln!(out, "to copy what is missing, run:\n  {} jail --user {} {} {}", program_path(), user, proposals.join(" "), jail);
    }
    let notes_text = match notes.len() {
        0 => String::new(),
        count => format!(" ({} note(s))", count),
    };
    match findings.len() {
        0 => {
            let _ = writeln!(out, "jail {} passed every check{}", jail, notes_text);
        }
        count => {
            let _ = writeln!(out, "jail {}: {} finding(s){}", jail, count, notes_text);
        }
    }
    out
}

fn text_line(finding: &Finding) -> String {
    let source = finding.source.as_ref().map(|source| format!("{}: ", source)).unwrap_or_default();
    format!("{}{}: {}", source, finding.kind, finding.message)
}

/// Returns the report as one JSON object with `findings`, `notes` (the
/// same fields) and `proposals`.
pub fn json(findings: &[Finding], notes: &[Finding], proposals: &[String], jail: &str, user: &str) -> String {
    let mut out = format!("{{\"jail\":{},\"user\":{},\"findings\":[", quote(jail), quote(user));
    out.push_str(&json_list(findings));
    out.push_str("],\"notes\":[");
    out.push_str(&json_list(notes));
    out.push_str("],\"proposals\":[");
    out.push_str(&proposals.iter().map(|proposal| quote(proposal)).collect::<Vec<_>>().join(","));
    out.push_str("]}\n");
    out
}

fn json_list(findings: &[Finding]) -> String {
    let objects: Vec<String> = findings
        .iter()
        .map(|finding| {
            format!(
                "{{\"kind\":{},\"path\":{},\"message\":{},\"source\":{},\"proposal\":{}}}",
                quote(finding.kind),
                quote(&finding.path),
                quote(&finding.message),
                finding.source.as_deref().map_or("null".to_string(), quote),
                finding.proposal.as_deref().map_or("null".to_string(), quote),
            )
        })
        .collect();
    objects.join(",")
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

    #[test]
    fn notes_are_listed_apart_from_findings() {
        let note = Finding { kind: "audit", path: "/www/index.php".to_string(), message: "m".to_string(), source: None, proposal: None };
        let json = json(&[], &[note.clone()], &[], "/srv/jail", "www-data");
        assert!(json.contains("\"findings\":[],\"notes\":[{\"kind\":\"audit\",\"path\":\"/www/index.php\""), "{}", json);
        let text = text(&[], &[note], &[], "/srv/jail", "www-data");
        assert!(text.contains("note: audit: m\n"), "{}", text);
        assert!(text.contains("jail /srv/jail passed every check (1 note(s))"), "{}", text);
    }
}
