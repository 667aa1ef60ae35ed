//! The hub's settings: command-line flags, environment variables and a TOML file, in that
//! order of precedence, then the defaults. `main.rs` gets flags and environment from clap (a
//! flag beats its variable); this module reads the file and fills in what neither gave.
//!
//! Every key is listed in [`KEYS`], which `docs/hub.md` and `deploy/hub.toml` must both cover
//! (`tests/operator.rs` checks).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One setting, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key in the file; the flag is `--` and this with `-` for `_`.
    pub name: &'static str,
    pub env: &'static str,
    pub kind: &'static str,
    pub default: &'static str,
}

pub const KEYS: &[Key] = &[
    Key { name: "database", env: "DOORSTEP_DATABASE", kind: "string", default: DEFAULT_DATABASE },
    Key { name: "log_json", env: "DOORSTEP_LOG_JSON", kind: "boolean", default: "false" },
    Key { name: "listen", env: "DOORSTEP_LISTEN", kind: "string", default: DEFAULT_LISTEN },
    Key { name: "tls_cert", env: "DOORSTEP_TLS_CERT", kind: "path", default: "none" },
    Key { name: "tls_key", env: "DOORSTEP_TLS_KEY", kind: "path", default: "none" },
    Key { name: "behind_tls_proxy", env: "DOORSTEP_BEHIND_TLS_PROXY", kind: "boolean", default: "false" },
    Key {
        name: "insecure_http_for_development",
        env: "DOORSTEP_INSECURE_HTTP_FOR_DEVELOPMENT",
        kind: "boolean",
        default: "false",
    },
    Key { name: "smtp_url", env: "DOORSTEP_SMTP_URL", kind: "string", default: "none (partners are not e-mailed)" },
    Key { name: "mail_from", env: "DOORSTEP_MAIL_FROM", kind: "string", default: "none" },
    Key { name: "public_url", env: "DOORSTEP_PUBLIC_URL", kind: "string", default: "none" },
];

/// The environment variable naming the configuration file (or `--config`).
pub const CONFIG_ENV: &str = "DOORSTEP_CONFIG";
pub const DEFAULT_DATABASE: &str = "doorstep-hub.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("unknown key `{key}` in the configuration file {path}: the keys are {known}")]
    UnknownKey { path: PathBuf, key: String, known: String },
    #[error("the configuration file {path} has a bad value: {message}")]
    Value { path: PathBuf, message: String },
}

/// Settings from one source; `None` where that source says nothing. The file's keys are its
/// fields, so an unknown key cannot be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub database: Option<String>,
    pub log_json: Option<bool>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub behind_tls_proxy: Option<bool>,
    pub insecure_http_for_development: Option<bool>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub public_url: Option<String>,
}

impl Layer {
    /// Reads a configuration file, naming the file (and any unknown key) in every error.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Layer::from_toml(&text, path)
    }

    /// Parses a file's text; `path` only names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Layer, ConfigError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| ConfigError::Syntax { path: path.to_path_buf(), message: e.to_string() })?;
        // Checked before typing the values, so a misspelt key is named as such, first.
        if let Some(key) = table.keys().find(|k| !KEYS.iter().any(|known| known.name == k.as_str())) {
            let known: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: key.clone(),
                known: known.join(", "),
            });
        }
        toml::from_str(text).map_err(|e| ConfigError::Value { path: path.to_path_buf(), message: e.to_string() })
    }

    /// This layer, with `lower` filling what it leaves out.
    pub fn or(self, lower: Layer) -> Layer {
        Layer {
            database: self.database.or(lower.database),
            log_json: self.log_json.or(lower.log_json),
            listen: self.listen.or(lower.listen),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            behind_tls_proxy: self.behind_tls_proxy.or(lower.behind_tls_proxy),
            insecure_http_for_development: self.insecure_http_for_development.or(lower.insecure_http_for_development),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            mail_from: self.mail_from.or(lower.mail_from),
            public_url: self.public_url.or(lower.public_url),
        }
    }

    /// The settings, with defaults for whatever no layer gave.
    pub fn settings(self) -> Settings {
        Settings {
            database: self.database.unwrap_or_else(|| DEFAULT_DATABASE.into()),
            log_json: self.log_json.unwrap_or(false),
            listen: self.listen.unwrap_or_else(|| DEFAULT_LISTEN.into()),
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            behind_tls_proxy: self.behind_tls_proxy.unwrap_or(false),
            insecure_http_for_development: self.insecure_http_for_development.unwrap_or(false),
            smtp_url: self.smtp_url.filter(|u| !u.trim().is_empty()),
            mail_from: self.mail_from,
            public_url: self.public_url,
        }
    }
}

/// What the hub runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub database: String,
    pub log_json: bool,
    pub listen: String,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub behind_tls_proxy: bool,
    pub insecure_http_for_development: bool,
    /// The SMTP server partners' notifications go through; none: no e-mail.
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    /// The hub's address as partners reach it, for links in e-mails.
    pub public_url: Option<String>,
}

impl Settings {
    /// How the hub sends e-mail, if it does: with `smtp_url`, both `mail_from` and `public_url`
    /// are needed.
    pub fn mail(&self) -> Result<Option<crate::notify::Mail>, String> {
        let Some(smtp) = &self.smtp_url else { return Ok(None) };
        let need = |v: &Option<String>, key: &str| {
            v.clone().filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("smtp_url is set, so {key} is needed too"))
        };
        let from = need(&self.mail_from, "mail_from")?;
        let public = need(&self.public_url, "public_url")?;
        crate::notify::Mail::new(smtp, &from, &public).map(Some).map_err(|e| e.to_string())
    }
}

/// Flags and environment (`given`, already merged by clap: a flag beats its variable) over
/// the file named by `config`, if any, over the defaults.
pub fn resolve(given: Layer, config: Option<&Path>) -> Result<Settings, ConfigError> {
    let file = match config {
        Some(path) => Layer::from_file(path)?,
        None => Layer::default(),
    };
    Ok(given.or(file).settings())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let file =
            Layer::from_toml("database = \"file.db\"\nlisten = \"0.0.0.0:1\"\nlog_json = true\n", Path::new("x"))
                .expect("parses");
        let given = Layer { database: Some("flag.db".into()), log_json: Some(false), ..Layer::default() };
        let s = given.or(file).settings();
        assert_eq!((s.database.as_str(), s.listen.as_str(), s.log_json), ("flag.db", "0.0.0.0:1", false));
        assert!(!s.behind_tls_proxy && s.tls_cert.is_none());
    }

    #[test]
    fn an_unknown_key_and_a_bad_value_are_named() {
        let e = Layer::from_toml("databse = \"x\"", Path::new("/etc/hub.toml")).expect_err("unknown");
        assert!(e.to_string().contains("unknown key `databse`") && e.to_string().contains("/etc/hub.toml"), "{e}");
        let e = Layer::from_toml("log_json = \"yes\"", Path::new("/etc/hub.toml")).expect_err("bad value");
        assert!(e.to_string().contains("log_json") && e.to_string().contains("bad value"), "{e}");
    }
}
