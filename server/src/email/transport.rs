//! The mail server: `lettre`'s async SMTP transport on tokio, with STARTTLS (`smtp://…?tls=required`)
//! or TLS from the start (`smtps://`) through rustls (aws-lc-rs, Mozilla's roots), and credentials.
//! Configured by `--smtp-url`, or by `--smtp-host` and the flags beside it (turned into the same URL);
//! checked at start: a plain-text connection (`smtp://` without `tls=`) is allowed to loopback only,
//! so no password or code crosses a network unencrypted.
//!
//! Every send has a deadline ([`SEND_TIMEOUT`]): the transport's own per-command timeout, and an
//! overall one around the whole exchange.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::store::EmailRecord;

/// The most one send may take, connection and TLS handshake included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Each SMTP command's deadline.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The mail server refused it for good (an SMTP 5xx, or a message that cannot be built): retrying
    /// cannot help.
    pub permanent: bool,
    pub message: String,
}

/// Sends emails to the configured mail server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `HALLPASS_EMAIL_FROM`; the display name is each email's `from_email_name` (the instance name
    /// when it was written, which the Backend API may change).
    from: lettre::Address,
    /// `host:port`, for log lines (never the credentials).
    pub server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("server", &self.server).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer `config` describes, `None` when no mail server is configured.
    pub fn from_config(config: &Config) -> Result<Option<Mailer>, String> {
        let Some(url) = smtp_url(config)? else { return Ok(None) };
        let parsed = url::Url::parse(&url).map_err(|e| format!("HALLPASS_SMTP_URL: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let tls = parsed.scheme() == "smtps" || parsed.query_pairs().any(|(k, _)| k == "tls");
        let loopback = host == "localhost"
            || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !tls && !loopback {
            return Err(format!(
                "HALLPASS_SMTP_URL: {host} is not loopback: use smtps:// or smtp://…?tls=required (STARTTLS)"
            ));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|e| format!("HALLPASS_SMTP_URL: {e}"))?
            .timeout(Some(COMMAND_TIMEOUT))
            .build();
        let from = config.email_from.parse().map_err(|e| format!("HALLPASS_EMAIL_FROM: {e}"))?;
        let port = parsed.port().map_or_else(String::new, |p| format!(":{p}"));
        Ok(Some(Mailer {
            transport,
            from,
            server: format!("{}{port}", parsed.host_str().unwrap_or_default()),
        }))
    }

    /// Sends `email` (text and HTML), within [`SEND_TIMEOUT`].
    pub async fn send(&self, email: &EmailRecord) -> Result<(), SendError> {
        let message = self.message(email)?;
        match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(SendError { permanent: e.is_permanent(), message: e.to_string() }),
            Err(_) => {
                Err(SendError { permanent: false, message: format!("no answer within {SEND_TIMEOUT:?}") })
            }
        }
    }

    fn message(&self, email: &EmailRecord) -> Result<Message, SendError> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| SendError {
            permanent: true,
            message: format!("{what}: {e}"),
        };
        let to = to_address(&email.to_email_address).ok_or_else(|| {
            invalid(
                "recipient",
                &format_args!("{:?} cannot be written in an SMTP envelope", email.to_email_address),
            )
        })?;
        let to: lettre::Address = to.parse().map_err(|e| invalid("recipient", &e))?;
        Message::builder()
            .from(Mailbox::new(Some(email.from_email_name.clone()), self.from.clone()))
            .to(Mailbox::new(None, to))
            .subject(super::templates::one_line(&email.subject))
            .multipart(MultiPart::alternative_plain_html(email.body_text.clone(), email.body_html.clone()))
            .map_err(|e| invalid("message", &e))
    }
}

/// The address as an SMTP envelope takes it: the domain in its ASCII (punycode) form. `None` for a
/// local part outside ASCII (it would need SMTPUTF8).
fn to_address(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    if !local.is_ascii() {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!("{local}@{domain}"))
}

/// The SMTP URL the configuration gives, if any.
fn smtp_url(config: &Config) -> Result<Option<String>, String> {
    if let Some(url) = &config.smtp_url {
        if config.smtp_host.is_some() {
            return Err("give HALLPASS_SMTP_URL or HALLPASS_SMTP_HOST, not both".into());
        }
        return Ok(Some(url.expose().to_owned()));
    }
    let Some(host) = &config.smtp_host else { return Ok(None) };
    let (scheme, default_port, query) = match config.smtp_tls.as_str() {
        "tls" => ("smtps", 465, ""),
        "none" => ("smtp", 25, ""),
        _ => ("smtp", 587, "?tls=required"),
    };
    let port = config.smtp_port.unwrap_or(default_port);
    let mut url = url::Url::parse(&format!("{scheme}://placeholder:{port}/{query}"))
        .map_err(|e| format!("HALLPASS_SMTP_HOST: {e}"))?;
    url.set_host(Some(host)).map_err(|e| format!("HALLPASS_SMTP_HOST: {e}"))?;
    match (&config.smtp_username, &config.smtp_password) {
        (Some(user), Some(password)) => {
            // `set_username`/`set_password` percent-encode; lettre decodes.
            url.set_username(user)
                .map_err(|()| "HALLPASS_SMTP_USERNAME cannot be used in a URL".to_owned())?;
            url.set_password(Some(password.expose()))
                .map_err(|()| "HALLPASS_SMTP_PASSWORD cannot be used in a URL".to_owned())?;
        }
        (None, None) => {}
        _ => return Err("HALLPASS_SMTP_USERNAME and HALLPASS_SMTP_PASSWORD go together".into()),
    }
    let mut text = url.to_string();
    // `Url` writes an empty path as `/`, which lettre would take for a HELO name: drop it.
    text = text.replacen(&format!(":{port}/"), &format!(":{port}"), 1);
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn url(edit: impl FnOnce(&mut Config)) -> Result<Option<String>, String> {
        let mut config = Config::defaults();
        edit(&mut config);
        smtp_url(&config)
    }

    #[test]
    fn host_flags_make_the_url_lettre_reads_with_credentials_encoded() {
        assert_eq!(url(|_| {}), Ok(None));
        let u = url(|c| {
            c.smtp_host = Some("mail.example.com".into());
            c.smtp_username = Some("ada@example.com".into());
            c.smtp_password = Some(Secret::new("p@ss:w/rd"));
        })
        .unwrap()
        .unwrap();
        assert_eq!(u, "smtp://ada%40example.com:p%40ss%3Aw%2Frd@mail.example.com:587?tls=required");
        let tls = url(|c| {
            c.smtp_host = Some("mail.example.com".into());
            c.smtp_tls = "tls".into();
        });
        assert_eq!(tls, Ok(Some("smtps://mail.example.com:465".into())));
        assert!(
            url(|c| {
                c.smtp_host = Some("h".into());
                c.smtp_username = Some("u".into());
            })
            .is_err()
        );
    }

    #[test]
    fn plain_text_is_for_loopback_only_and_the_sender_must_parse() {
        let mailer = |u: &str, from: &str| {
            let mut c = Config::defaults();
            c.smtp_url = Some(Secret::new(u));
            c.email_from = from.into();
            Mailer::from_config(&c).map(|m| m.map(|m| m.server))
        };
        assert_eq!(mailer("smtp://127.0.0.1:2525", "a@b.co"), Ok(Some("127.0.0.1:2525".into())));
        assert!(mailer("smtp://mail.example.com:25", "a@b.co").unwrap_err().contains("not loopback"));
        assert!(mailer("smtp://mail.example.com:587?tls=required", "a@b.co").is_ok());
        assert!(mailer("smtps://mail.example.com", "a@b.co").is_ok());
        assert!(mailer("smtp://127.0.0.1:2525", "not an address").unwrap_err().contains("EMAIL_FROM"));
        assert!(mailer("http://127.0.0.1", "a@b.co").is_err());
    }

    #[test]
    fn envelope_addresses_use_punycode_domains() {
        assert_eq!(to_address("ada@bücher.de").as_deref(), Some("ada@xn--bcher-kva.de"));
        assert_eq!(to_address("ada@example.com").as_deref(), Some("ada@example.com"));
        assert_eq!(to_address("ädä@example.com"), None);
    }
}
