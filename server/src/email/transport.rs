//! The mail server: `lettre`'s async SMTP transport on tokio, with STARTTLS (`smtp://…?tls=required`)
//! or TLS from the start (`smtps://`) through rustls (aws-lc-rs, Mozilla's roots, and the CAs of
//! `--smtp-ca-file`), and credentials. Configured by `--smtp-url`, or by `--smtp-host` and the flags
//! beside it (turned into the same URL); checked at start: a connection a man in the middle could
//! leave in plain text (`smtp://` without `tls=`, or `tls=opportunistic`, whose STARTTLS offer can be
//! stripped) is allowed to loopback only, so no password or code crosses a network unencrypted.
//!
//! Every send has a deadline ([`SEND_TIMEOUT`]): the transport's own per-command timeout, and an
//! overall one around the whole exchange.

use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

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

/// How the connection to the mail server is protected, as the URL says (read the way lettre reads
/// it: the scheme, then the first `tls=`, which `smtps://` ignores).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `smtp://…?tls=required`: STARTTLS, or nothing is sent.
    StartTls,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it. A man in the middle can
    /// remove the offer, so this is plain text as far as the guard is concerned.
    StartTlsIfOffered,
    /// `smtp://`: plain text.
    None,
}

impl Security {
    fn of(url: &url::Url) -> Result<Security, String> {
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        match (url.scheme(), tls.as_deref()) {
            ("smtps", _) => Ok(Security::Tls),
            ("smtp", Some("required")) => Ok(Security::StartTls),
            ("smtp", Some("opportunistic")) => Ok(Security::StartTlsIfOffered),
            ("smtp", None) => Ok(Security::None),
            ("smtp", Some(other)) => Err(format!(
                "HALLPASS_SMTP_URL: tls={other} is not a TLS mode: use smtp://…?tls=required (STARTTLS) or \
                 smtps:// (TLS from the start)"
            )),
            (scheme, _) => {
                Err(format!("HALLPASS_SMTP_URL: {scheme}:// is not a mail server: use smtp:// or smtps://"))
            }
        }
    }

    /// Whether every byte after the greeting is encrypted, whatever a man in the middle does.
    fn always_encrypted(self) -> bool {
        matches!(self, Security::Tls | Security::StartTls)
    }
}

impl std::fmt::Display for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Security::Tls => "TLS",
            Security::StartTls => "STARTTLS",
            Security::StartTlsIfOffered => "STARTTLS if offered",
            Security::None => "no TLS",
        })
    }
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
    pub security: Security,
    /// How many CA certificates `--smtp-ca-file` added to Mozilla's roots.
    pub extra_roots: usize,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("security", &self.security)
            .field("extra_roots", &self.extra_roots)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer `config` describes, `None` when no mail server is configured.
    pub fn from_config(config: &Config) -> Result<Option<Mailer>, String> {
        let Some(url) = smtp_url(config)? else {
            if config.smtp_ca_file.is_some() {
                return Err(
                    "HALLPASS_SMTP_CA_FILE needs a mail server (HALLPASS_SMTP_URL or HALLPASS_SMTP_HOST)"
                        .into(),
                );
            }
            return Ok(None);
        };
        let parsed = url::Url::parse(&url).map_err(|e| format!("HALLPASS_SMTP_URL: {e}"))?;
        let security = Security::of(&parsed)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let loopback = host == "localhost"
            || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !security.always_encrypted() && !loopback {
            let why = if security == Security::StartTlsIfOffered {
                " (with tls=opportunistic, a man in the middle who hides the server's STARTTLS reads the \
                 codes and the password)"
            } else {
                ""
            };
            return Err(format!(
                "HALLPASS_SMTP_URL: {host} is not loopback: use smtps:// or smtp://…?tls=required (STARTTLS){why}"
            ));
        }
        let roots = match &config.smtp_ca_file {
            Some(_) if security == Security::None => {
                return Err("HALLPASS_SMTP_CA_FILE is set but the mail server is reached without TLS: use \
                            smtps:// or smtp://…?tls=required"
                    .into());
            }
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let extra_roots = roots.len();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|e| format!("HALLPASS_SMTP_URL: {e}"))?
            .timeout(Some(COMMAND_TIMEOUT));
        // lettre's `from_url` made the same choice with Mozilla's roots only; it is made again here,
        // from the one reading of the URL the guard above checked, with the extra roots. Port,
        // credentials and HELO name stay as `from_url` set them.
        let mode: Option<fn(TlsParameters) -> Tls> = match security {
            Security::Tls => Some(Tls::Wrapper),
            Security::StartTls => Some(Tls::Required),
            Security::StartTlsIfOffered => Some(Tls::Opportunistic),
            Security::None => None,
        };
        if let Some(mode) = mode {
            let source = if roots.is_empty() { "HALLPASS_SMTP_URL" } else { "HALLPASS_SMTP_CA_FILE" };
            let parameters = roots
                .into_iter()
                .fold(TlsParameters::builder(host.clone()), |b, root| b.add_root_certificate(root))
                .build()
                .map_err(|e| format!("{source}: {e}"))?;
            builder = builder.tls(mode(parameters));
        }
        let from = config.email_from.parse().map_err(|e| format!("HALLPASS_EMAIL_FROM: {e}"))?;
        let port = parsed.port().map_or_else(String::new, |p| format!(":{p}"));
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            server: format!("{host}{port}"),
            security,
            extra_roots,
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

/// The CA certificates of `--smtp-ca-file`, each checked as a trust anchor rustls accepts. Anything
/// else — unreadable, no certificate, not PEM, a certificate that does not parse — stops the start.
fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, String> {
    let name = format!("HALLPASS_SMTP_CA_FILE ({})", path.display());
    let pem = std::fs::read(path).map_err(|e| format!("{name}: cannot be read: {e}"))?;
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{name}: not a PEM file: {e}"))?;
    if ders.is_empty() {
        return Err(format!("{name}: no certificate in it (PEM, -----BEGIN CERTIFICATE-----)"));
    }
    let mut check = rustls::RootCertStore::empty();
    ders.into_iter()
        .enumerate()
        .map(|(i, der)| {
            let bad = |e: &dyn std::fmt::Display| format!("{name}: certificate {}: {e}", i + 1);
            check.add(der.clone()).map_err(|e| bad(&e))?;
            Certificate::from_der(der.to_vec()).map_err(|e| bad(&e))
        })
        .collect()
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
    fn starttls_that_can_be_stripped_is_for_loopback_only() {
        let security = |u: &str| {
            let mut c = Config::defaults();
            c.smtp_url = Some(Secret::new(u));
            Mailer::from_config(&c).map(|m| m.map(|m| m.security))
        };
        let refused = security("smtp://u:p@mail.example.com:587?tls=opportunistic").unwrap_err();
        assert!(refused.contains("not loopback") && refused.contains("tls=opportunistic"), "{refused}");
        assert!(!refused.contains(":p@"), "the password stays out of the message: {refused}");
        assert_eq!(
            security("smtp://127.0.0.1:2525?tls=opportunistic"),
            Ok(Some(Security::StartTlsIfOffered))
        );
        assert_eq!(security("smtp://mail.example.com?tls=required"), Ok(Some(Security::StartTls)));
        assert_eq!(security("smtps://mail.example.com?tls=opportunistic"), Ok(Some(Security::Tls)));
        // The first `tls=` is the one lettre reads: so does the guard.
        assert_eq!(
            security("smtp://mail.example.com?tls=required&tls=opportunistic"),
            Ok(Some(Security::StartTls))
        );
        assert!(security("smtp://mail.example.com?tls=opportunistic&tls=required").is_err());
        assert!(security("smtp://mail.example.com?tls=yes").unwrap_err().contains("tls=yes"));
        assert!(security("smtp://localhost?tls=").is_err());
        assert_eq!(security("smtp://[::1]:25"), Ok(Some(Security::None)));
    }

    fn ca_file(contents: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, contents).unwrap();
        (dir, path)
    }

    fn with_ca(u: &str, path: Option<&Path>) -> Result<Option<Mailer>, String> {
        let mut c = Config::defaults();
        c.smtp_url = (!u.is_empty()).then(|| Secret::new(u));
        c.smtp_ca_file = path.map(Path::to_owned);
        Mailer::from_config(&c)
    }

    fn test_ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn a_ca_file_adds_its_certificates_and_needs_tls() {
        let two = format!("# the company's CAs\n{}{}", test_ca_pem(), test_ca_pem());
        let (_dir, path) = ca_file(two.as_bytes());
        let mailer = with_ca("smtps://relay.corp.example", Some(&path)).unwrap().unwrap();
        assert_eq!((mailer.security, mailer.extra_roots), (Security::Tls, 2));
        let mailer = with_ca("smtp://relay.corp.example:587?tls=required", Some(&path)).unwrap().unwrap();
        assert_eq!((mailer.security, mailer.extra_roots), (Security::StartTls, 2));
        assert_eq!(with_ca("smtps://relay.corp.example", None).unwrap().unwrap().extra_roots, 0);

        let plain = with_ca("smtp://127.0.0.1:25", Some(&path)).unwrap_err();
        assert!(plain.starts_with("HALLPASS_SMTP_CA_FILE") && plain.contains("without TLS"), "{plain}");
        let alone = with_ca("", Some(&path)).unwrap_err();
        assert!(
            alone.starts_with("HALLPASS_SMTP_CA_FILE") && alone.contains("needs a mail server"),
            "{alone}"
        );
    }

    #[test]
    fn a_ca_file_that_is_not_pem_certificates_stops_the_start_and_says_which_variable() {
        let refused = |contents: &[u8]| {
            let (_dir, path) = ca_file(contents);
            let e = with_ca("smtps://relay.corp.example", Some(&path)).unwrap_err();
            assert!(e.starts_with("HALLPASS_SMTP_CA_FILE (") && e.contains("ca.pem"), "{e}");
            e
        };
        assert!(refused(b"").contains("no certificate"));
        assert!(refused(b"not a certificate at all\n").contains("no certificate"));
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        assert!(refused(key.as_bytes()).contains("no certificate"), "a key is not a CA");
        assert!(refused(b"-----BEGIN CERTIFICATE-----\nAAAA\n").contains("not a PEM file"), "unterminated");
        // Well-formed PEM whose contents are no certificate.
        let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let e = refused(format!("{}{junk}", test_ca_pem()).as_bytes());
        assert!(e.contains("certificate 2:"), "{e}");

        let missing =
            with_ca("smtps://relay.corp.example", Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            missing.starts_with("HALLPASS_SMTP_CA_FILE (/nonexistent/ca.pem): cannot be read"),
            "{missing}"
        );
    }

    #[test]
    fn envelope_addresses_use_punycode_domains() {
        assert_eq!(to_address("ada@bücher.de").as_deref(), Some("ada@xn--bcher-kva.de"));
        assert_eq!(to_address("ada@example.com").as_deref(), Some("ada@example.com"));
        assert_eq!(to_address("ädä@example.com"), None);
    }
}
