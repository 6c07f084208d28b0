//! A line-preserving reader and editor for the AWS shared config file
//! (`~/.aws/config`, or `AWS_CONFIG_FILE`).
//!
//! `configure` must leave every byte it does not own as it was: comments,
//! ordering, blank lines, line endings, a missing final newline. A general INI
//! library would re-serialise the file, so this keeps the file as lines and
//! only rewrites or inserts the lines of the keys it sets.

use std::path::PathBuf;

/// Where the AWS config file lives: `AWS_CONFIG_FILE`, else `$HOME/.aws/config`.
pub fn config_path(aws_config_file: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match aws_config_file.filter(|p| !p.is_empty()) {
        Some(path) => Some(expand_home(path, home)),
        None => home
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".aws").join("config")),
    }
}

/// The SDKs expand a leading `~/` in `AWS_CONFIG_FILE`.
fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    /// `"\n"`, `"\r\n"` or `""` (last line without a newline).
    ending: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    Header(&'a str),
    Key(&'a str, &'a str),
    Continuation,
    Other,
}

impl Line {
    fn kind(&self) -> Kind<'_> {
        let text = self.text.as_str();
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            return Kind::Other;
        }
        if text.starts_with(char::is_whitespace) {
            return Kind::Continuation;
        }
        if let Some(inner) = trimmed.strip_prefix('[')
            && let Some(end) = inner.find(']')
        {
            return Kind::Header(inner.get(..end).unwrap_or_default().trim());
        }
        match text.split_once('=') {
            Some((key, value)) => Kind::Key(key.trim(), value.trim()),
            None => Kind::Other,
        }
    }
}

/// The AWS config file as lines, ready to be read or edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    lines: Vec<Line>,
    newline: &'static str,
}

impl ConfigFile {
    /// Splits `text` into lines, keeping each line's ending.
    pub fn parse(text: &str) -> Self {
        let mut lines = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (line, tail) = match rest.find('\n') {
                Some(at) => rest.split_at(at + 1),
                None => (rest, ""),
            };
            let (body, ending) = if let Some(body) = line.strip_suffix("\r\n") {
                (body, "\r\n")
            } else if let Some(body) = line.strip_suffix('\n') {
                (body, "\n")
            } else {
                (line, "")
            };
            lines.push(Line {
                text: body.to_owned(),
                ending: ending.to_owned(),
            });
            rest = tail;
        }
        let newline = match lines.first() {
            Some(first) if first.ending == "\r\n" => "\r\n",
            _ => "\n",
        };
        Self { lines, newline }
    }

    /// The file's bytes.
    pub fn render(&self) -> String {
        self.lines
            .iter()
            .flat_map(|l| [l.text.as_str(), l.ending.as_str()])
            .collect()
    }

    /// The value of `key` in the profile's section (first occurrence), trimmed.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        let (start, end) = self.section(profile)?;
        self.lines
            .get(start + 1..end)?
            .iter()
            .find_map(|line| match line.kind() {
                Kind::Key(k, v) if k.eq_ignore_ascii_case(key) => Some(v),
                _ => None,
            })
    }

    /// Sets each `(key, value)` in the profile's section, creating the section
    /// at the end of the file when it is missing. Lines already holding the
    /// value are left untouched, so a second call changes nothing.
    pub fn upsert(&mut self, profile: &str, pairs: &[(&str, &str)]) {
        let Some((start, _)) = self.section(profile) else {
            self.append_section(profile, pairs);
            return;
        };
        for (key, value) in pairs {
            self.upsert_key(start, key, value);
        }
    }

    /// `[default]` (or `[profile default]`) for `default`, `[profile P]` otherwise.
    fn section(&self, profile: &str) -> Option<(usize, usize)> {
        let start = self.lines.iter().position(|line| match line.kind() {
            Kind::Header(name) => header_names_profile(name, profile),
            _ => false,
        })?;
        self.section_at(start)
    }

    fn upsert_key(&mut self, start: usize, key: &str, value: &str) {
        let Some((_, end)) = self.section_at(start) else {
            return;
        };
        let wanted = format!("{key} = {value}");
        let mut last_setting = start;
        let mut found = None;
        for at in start + 1..end {
            match self.lines.get(at).map(Line::kind) {
                Some(Kind::Key(k, _)) => {
                    last_setting = at;
                    if found.is_none() && k.eq_ignore_ascii_case(key) {
                        found = Some(at);
                    }
                }
                Some(Kind::Continuation) => last_setting = at,
                _ => {}
            }
        }
        match found {
            Some(at) => self.replace_value(at, end, value, wanted),
            None => self.insert_line(last_setting + 1, wanted),
        }
    }

    fn section_at(&self, start: usize) -> Option<(usize, usize)> {
        match self.lines.get(start)?.kind() {
            Kind::Header(_) => {}
            _ => return None,
        }
        let end = self
            .lines
            .iter()
            .enumerate()
            .skip(start + 1)
            .find(|(_, line)| matches!(line.kind(), Kind::Header(_)))
            .map_or(self.lines.len(), |(at, _)| at);
        Some((start, end))
    }

    fn replace_value(&mut self, at: usize, end: usize, value: &str, wanted: String) {
        // Continuation lines belong to the key being replaced (nested settings).
        let continuation_end = (at + 1..end)
            .find(|i| !matches!(self.lines.get(*i).map(Line::kind), Some(Kind::Continuation)))
            .unwrap_or(end);
        let same = continuation_end == at + 1
            && matches!(self.lines.get(at).map(Line::kind), Some(Kind::Key(_, v)) if v == value);
        if same {
            return;
        }
        if let Some(line) = self.lines.get_mut(at) {
            line.text = wanted;
        }
        if continuation_end > at + 1 {
            let ending = self
                .lines
                .get(continuation_end - 1)
                .map(|l| l.ending.clone())
                .unwrap_or_default();
            self.lines.drain(at + 1..continuation_end);
            if let Some(line) = self.lines.get_mut(at) {
                line.ending = ending;
            }
        }
    }

    fn insert_line(&mut self, at: usize, text: String) {
        let mut ending = self.newline.to_owned();
        if let Some(previous) = at.checked_sub(1).and_then(|i| self.lines.get_mut(i))
            && previous.ending.is_empty()
        {
            // The previous line ended the file without a newline: it gets one,
            // and the new last line keeps the file's missing final newline.
            previous.ending = self.newline.to_owned();
            ending = String::new();
        }
        self.lines.insert(at, Line { text, ending });
    }

    fn append_section(&mut self, profile: &str, pairs: &[(&str, &str)]) {
        let newline = self.newline.to_owned();
        if let Some(last) = self.lines.last_mut()
            && last.ending.is_empty()
        {
            last.ending = newline.clone();
        }
        if self.lines.iter().any(|l| !l.text.trim().is_empty()) {
            self.lines.push(Line {
                text: String::new(),
                ending: newline.clone(),
            });
        }
        let header = if profile == "default" {
            "[default]".to_owned()
        } else {
            format!("[profile {profile}]")
        };
        self.lines.push(Line {
            text: header,
            ending: newline.clone(),
        });
        for (key, value) in pairs {
            self.lines.push(Line {
                text: format!("{key} = {value}"),
                ending: newline.clone(),
            });
        }
    }
}

fn header_names_profile(header: &str, profile: &str) -> bool {
    let words: Vec<&str> = header.split_whitespace().collect();
    match words.as_slice() {
        ["profile", name] => *name == profile,
        [name] => profile == "default" && *name == "default",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, profile: &str, pairs: &[(&str, &str)]) -> String {
        let mut file = ConfigFile::parse(text);
        file.upsert(profile, pairs);
        let once = file.render();
        let mut again = ConfigFile::parse(&once);
        again.upsert(profile, pairs);
        assert_eq!(again.render(), once, "second edit must change nothing");
        once
    }

    const TRICKY: &str = "# my aws config\n\
        [default]\n\
        region = eu-west-1\n\
        \n\
        ; an sso session\n\
        [sso-session corp]\n\
        sso_start_url = https://corp.example/start\n\
        \n\
        [profile prod]\n\
        region = us-east-1\n\
        s3 =\n  max_concurrent_requests = 20\n  max_queue_size = 100\n\
        credential_process = old-tool --x\n\
        # trailing comment of prod\n\
        \n\
        [profile other]\n\
        output = json\n";

    #[test]
    fn untouched_file_renders_byte_identical() {
        for text in [
            TRICKY,
            "",
            "a = b",
            "[x]\r\nk = v\r\n",
            "\n\n",
            "[profile p]",
        ] {
            assert_eq!(ConfigFile::parse(text).render(), text);
        }
    }

    #[test]
    fn updates_an_existing_key_in_place_and_keeps_everything_else() {
        let out = edit(
            TRICKY,
            "prod",
            &[("credential_process", "sentinel credentials")],
        );
        assert_eq!(
            out,
            TRICKY.replace(
                "credential_process = old-tool --x",
                "credential_process = sentinel credentials"
            )
        );
    }

    #[test]
    fn inserts_a_missing_key_after_the_sections_settings_and_their_continuations() {
        let out = edit(TRICKY, "other", &[("region", "eu-central-1")]);
        assert_eq!(
            out,
            TRICKY.replace("output = json\n", "output = json\nregion = eu-central-1\n")
        );
        let nested = "[profile prod]\ns3 =\n  addressing_style = path\n\n[profile x]\n";
        let out = edit(nested, "prod", &[("region", "r")]);
        assert_eq!(
            out,
            "[profile prod]\ns3 =\n  addressing_style = path\nregion = r\n\n[profile x]\n"
        );
    }

    #[test]
    fn replacing_a_key_with_continuation_lines_drops_them() {
        let text = "[profile p]\ns3 =\n  a = 1\n  b = 2\nregion = r\n";
        let out = edit(text, "p", &[("s3", "flat")]);
        assert_eq!(out, "[profile p]\ns3 = flat\nregion = r\n");
    }

    #[test]
    fn appends_a_new_profile_after_a_blank_line() {
        let out = edit(
            TRICKY,
            "dev",
            &[("credential_process", "c"), ("region", "r")],
        );
        assert_eq!(
            out,
            format!("{TRICKY}\n[profile dev]\ncredential_process = c\nregion = r\n")
        );
    }

    #[test]
    fn creates_content_for_an_empty_file() {
        assert_eq!(edit("", "dev", &[("k", "v")]), "[profile dev]\nk = v\n");
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let text = "[default]\r\nregion = a\r\n";
        assert_eq!(
            edit(text, "dev", &[("k", "v")]),
            "[default]\r\nregion = a\r\n\r\n[profile dev]\r\nk = v\r\n"
        );
        assert_eq!(
            edit(text, "default", &[("k", "v")]),
            "[default]\r\nregion = a\r\nk = v\r\n"
        );
    }

    #[test]
    fn handles_a_file_without_a_final_newline() {
        let text = "[profile dev]\nregion = a";
        assert_eq!(
            edit(text, "dev", &[("k", "v")]),
            "[profile dev]\nregion = a\nk = v"
        );
        assert_eq!(
            edit(text, "dev", &[("region", "b")]),
            "[profile dev]\nregion = b"
        );
        assert_eq!(
            edit(text, "new", &[("k", "v")]),
            "[profile dev]\nregion = a\n\n[profile new]\nk = v\n"
        );
    }

    #[test]
    fn sso_session_and_plain_sections_are_not_profiles() {
        let text = "[sso-session dev]\nk = 1\n[dev]\nk = 2\n";
        let file = ConfigFile::parse(text);
        assert_eq!(file.get("dev", "k"), None);
        let out = edit(text, "dev", &[("k", "3")]);
        assert_eq!(out, format!("{text}\n[profile dev]\nk = 3\n"));
    }

    #[test]
    fn default_profile_uses_the_default_section() {
        let file = ConfigFile::parse("[default]\nregion = a\n[profile default2]\nregion = b\n");
        assert_eq!(file.get("default", "region"), Some("a"));
        assert_eq!(file.get("default2", "region"), Some("b"));
        let spaced = ConfigFile::parse("[ profile   spaced ]\nKey = v\n");
        assert_eq!(spaced.get("spaced", "key"), Some("v"));
        assert_eq!(edit("", "default", &[("k", "v")]), "[default]\nk = v\n");
    }

    #[test]
    fn config_path_honours_the_environment() {
        assert_eq!(
            config_path(Some("/tmp/c"), Some("/home/a")),
            Some(PathBuf::from("/tmp/c"))
        );
        assert_eq!(
            config_path(Some("~/x/c"), Some("/home/a")),
            Some(PathBuf::from("/home/a/x/c"))
        );
        assert_eq!(
            config_path(None, Some("/home/a")),
            Some(PathBuf::from("/home/a/.aws/config"))
        );
        assert_eq!(config_path(Some(""), None), None);
    }
}
