//! The text and HTML of every email, branded with the instance's name. Everything that comes from
//! outside the code — the instance and organization names, an inviter's name, addresses, links — is
//! HTML-escaped in the HTML part ([`escape`]), and kept to one line in the subject.

/// One email's subject and bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What an email says.
#[derive(Clone, Debug)]
pub enum Template<'a> {
    /// A code that verifies an address (sign-up, a new address).
    VerificationCode { code: &'a str },
    /// A link that verifies an address.
    VerificationLink { link: &'a str },
    /// A code that signs in.
    SignInCode { code: &'a str },
    /// A link that signs in.
    SignInLink { link: &'a str },
    /// A code that lets the user set a new password.
    ResetPasswordCode { code: &'a str },
    /// An invitation to an organization.
    Invitation { organization: &'a str, inviter: Option<&'a str>, role: &'a str, accept_url: Option<&'a str> },
}

impl Template<'_> {
    /// The template's name (the `Email`'s `slug`).
    pub fn slug(&self) -> &'static str {
        match self {
            Template::VerificationCode { .. } => "verification_code",
            Template::VerificationLink { .. } => "verification_link",
            Template::SignInCode { .. } => "sign_in_code",
            Template::SignInLink { .. } => "sign_in_link",
            Template::ResetPasswordCode { .. } => "reset_password_code",
            Template::Invitation { .. } => "organization_invitation",
        }
    }

    /// Renders it for the instance called `app`.
    pub fn render(&self, app: &str) -> Rendered {
        let minutes = hallpass_protocol::Verification::LIFETIME_MS / 60_000;
        let ignore = "If you did not ask for this, you can ignore this email.";
        match self {
            Template::VerificationCode { code } => code_email(
                app,
                &format!("{code} is your {} verification code", one_line(app)),
                "Verify your email address",
                &format!("Enter this code to verify your email address. It works for {minutes} minutes."),
                code,
                ignore,
            ),
            Template::SignInCode { code } => code_email(
                app,
                &format!("{code} is your {} sign-in code", one_line(app)),
                "Sign in",
                &format!("Enter this code to sign in. It works for {minutes} minutes."),
                code,
                "If you did not try to sign in, you can ignore this email: nobody can sign in without the code.",
            ),
            Template::ResetPasswordCode { code } => code_email(
                app,
                &format!("{code} is your {} password reset code", one_line(app)),
                "Reset your password",
                &format!(
                    "Enter this code to choose a new password. It works for {minutes} minutes. \
                     Resetting signs you out everywhere else."
                ),
                code,
                "If you did not ask to reset your password, you can ignore this email: your password stays as it is.",
            ),
            Template::VerificationLink { link } => link_email(
                app,
                &format!("Verify your email address for {}", one_line(app)),
                "Verify your email address",
                &format!(
                    "Open this link to verify your email address. It works once, for {minutes} minutes."
                ),
                "Verify email address",
                link,
                ignore,
            ),
            Template::SignInLink { link } => link_email(
                app,
                &format!("Your {} sign-in link", one_line(app)),
                "Sign in",
                &format!(
                    "Open this link to sign in. It works once, for {minutes} minutes, and signs you in where \
                     you asked for it."
                ),
                "Sign in",
                link,
                "If you did not try to sign in, you can ignore this email: nobody can sign in without the link.",
            ),
            Template::Invitation { organization, inviter, role, accept_url } => {
                let who = inviter.map_or_else(|| "You have".to_owned(), |n| format!("{} has", one_line(n)));
                let subject =
                    format!("{who} invited you to join {} on {}", one_line(organization), one_line(app));
                let role = role.strip_prefix("org:").unwrap_or(role);
                let body = format!(
                    "{who} invited you to join {} on {} as {}.",
                    one_line(organization),
                    one_line(app),
                    role
                );
                let how = match accept_url {
                    Some(_) => "Open this link to accept the invitation:".to_owned(),
                    None => format!("Sign in to {} with this email address to accept it.", one_line(app)),
                };
                let text = match accept_url {
                    Some(url) => format!("{body}\n\n{how}\n{url}\n\n{ignore}\n"),
                    None => format!("{body}\n\n{how}\n\n{ignore}\n"),
                };
                let action = accept_url.map_or_else(String::new, |url| {
                    format!(r#"<p><a href="{0}" style="{BUTTON}">Accept invitation</a></p><p style="{SMALL}">{0}</p>"#, escape(url))
                });
                let html = page(
                    app,
                    &subject,
                    &format!(
                        "<p>{}</p><p>{}</p>{action}<p style=\"{SMALL}\">{}</p>",
                        escape(&body),
                        escape(&how),
                        escape(ignore)
                    ),
                );
                Rendered { subject, text, html }
            }
        }
    }
}

const BUTTON: &str = "display:inline-block;padding:10px 18px;background:#111;color:#fff;border-radius:6px;text-decoration:none";
const SMALL: &str = "color:#666;font-size:13px";

fn code_email(app: &str, subject: &str, heading: &str, lead: &str, code: &str, ignore: &str) -> Rendered {
    let text = format!("{heading}\n\n{lead}\n\n    {code}\n\n{ignore}\n\n— {}\n", one_line(app));
    let body = format!(
        "<h1 style=\"font-size:20px\">{}</h1><p>{}</p>\
         <p style=\"font-size:28px;letter-spacing:6px;font-weight:bold;font-family:monospace\">{}</p>\
         <p style=\"{SMALL}\">{}</p>",
        escape(heading),
        escape(lead),
        escape(code),
        escape(ignore)
    );
    Rendered { subject: subject.to_owned(), text, html: page(app, subject, &body) }
}

fn link_email(
    app: &str,
    subject: &str,
    heading: &str,
    lead: &str,
    button: &str,
    link: &str,
    ignore: &str,
) -> Rendered {
    let text = format!("{heading}\n\n{lead}\n\n{link}\n\n{ignore}\n\n— {}\n", one_line(app));
    let body = format!(
        "<h1 style=\"font-size:20px\">{}</h1><p>{}</p><p><a href=\"{link}\" style=\"{BUTTON}\">{}</a></p>\
         <p style=\"{SMALL}\">{link}</p><p style=\"{SMALL}\">{}</p>",
        escape(heading),
        escape(lead),
        escape(button),
        escape(ignore),
        link = escape(link),
    );
    Rendered { subject: subject.to_owned(), text, html: page(app, subject, &body) }
}

fn page(app: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:560px;margin:24px auto;color:#111\">\
         <p style=\"font-weight:bold\">{}</p>{body}</body></html>",
        escape(title),
        escape(app)
    )
}

/// `s` safe in HTML text and in a double- or single-quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` on one line (subjects and plain-text lines): control characters become spaces, so a name
/// cannot add a header or forge lines.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_in_the_subject_text_and_html_branded_with_the_instance() {
        let r = Template::VerificationCode { code: "123456" }.render("Acme");
        assert_eq!(r.subject, "123456 is your Acme verification code");
        assert!(r.text.contains("    123456\n") && r.text.contains("10 minutes"));
        assert!(r.html.contains(">123456<") && r.html.contains(">Acme<"));
        assert_eq!(Template::ResetPasswordCode { code: "1" }.slug(), "reset_password_code");
    }

    #[test]
    fn everything_from_outside_is_escaped_in_html_and_kept_to_one_line_in_subjects() {
        let r = Template::Invitation {
            organization: "<script>alert(1)</script>",
            inviter: Some("Eve\r\nBcc: all@example.com"),
            role: "org:admin",
            accept_url: Some("https://app.test/accept?a=1&b=\"2\""),
        }
        .render("A & B");
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;") && r.html.contains("A &amp; B"));
        assert!(r.html.contains("a=1&amp;b=&quot;2&quot;"));
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'), "{:?}", r.subject);
        assert!(r.text.contains("https://app.test/accept?a=1&b=\"2\""));
        assert!(r.text.contains("as admin"));
        let link = Template::SignInLink { link: "http://h/v1/verify?token=x'y" }.render("App");
        assert!(link.html.contains("token=x&#39;y"));
        let none =
            Template::Invitation { organization: "O", inviter: None, role: "org:member", accept_url: None }
                .render("App");
        assert!(none.text.contains("Sign in to App with this email address"));
    }
}
