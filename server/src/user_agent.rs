//! The device a session was started on: what the sign-in's request said of itself (its `User-Agent`,
//! kept bounded — [`Device::from_request`]) and the profile's reading of it ([`classify`]: browser
//! and major version, operating system, desktop, phone or tablet).
//!
//! The classifier reads the tokens the browsers the profile names put in their user agents, most
//! specific first: browsers built on Chromium carry `Chrome/` and `Safari/` too (Edge `Edg/`, Opera
//! `OPR/`, Samsung Internet `SamsungBrowser/`), Chrome carries `Safari/`, and the iOS browsers
//! name themselves `CriOS/`, `FxiOS/`, `EdgiOS/`, `OPiOS/`. A user agent is the client's own claim:
//! nothing here is trusted for anything but showing it back to its user, and what is not recognised
//! is `None`, never an error. It runs when sessions are listed, so a better reading applies to
//! sessions already stored.

use axum::http::HeaderMap;
use hallpass_protocol::DeviceType;

use crate::client_addr::ClientAddr;

/// The most of a `User-Agent` kept with a session (real ones are 100–300 bytes).
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// The device of the request starting a session, as stored with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Device {
    /// The `User-Agent`, truncated to [`MAX_USER_AGENT_BYTES`], control characters as spaces;
    /// `None` when absent or empty.
    pub user_agent: Option<String>,
    /// The client's address as [`ClientAddr`] determined it (`None` without a socket).
    pub ip_address: Option<String>,
}

impl Device {
    pub fn from_request(headers: &HeaderMap, addr: ClientAddr) -> Device {
        let user_agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| bounded(v.as_bytes()));
        Device { user_agent, ip_address: addr.0.map(|ip| ip.to_string()) }
    }
}

/// `raw` as text (invalid UTF-8 replaced, control characters as spaces), trimmed, at most
/// [`MAX_USER_AGENT_BYTES`] (cut at a character boundary).
fn bounded(raw: &[u8]) -> Option<String> {
    let head = &raw[..raw.len().min(MAX_USER_AGENT_BYTES)];
    let mut out = String::with_capacity(head.len());
    for c in String::from_utf8_lossy(head).chars().map(|c| if c.is_control() { ' ' } else { c }) {
        if out.len() + c.len_utf8() > MAX_USER_AGENT_BYTES {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// What a user agent says of its browser and device; each `None` when it does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classified {
    pub browser_name: Option<&'static str>,
    /// The major version: digits only.
    pub browser_version: Option<String>,
    pub os_name: Option<&'static str>,
    pub device_type: Option<DeviceType>,
}

impl Classified {
    /// A phone or a tablet.
    pub fn is_mobile(&self) -> bool {
        matches!(self.device_type, Some(DeviceType::Mobile | DeviceType::Tablet))
    }
}

/// Browser tokens, most specific first: the first one present names the browser, and the digits
/// after it are its major version.
const BROWSERS: &[(&str, &str)] = &[
    ("SamsungBrowser/", "Samsung Internet"),
    ("OPR/", "Opera"),
    ("OPiOS/", "Opera"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("Edg/", "Edge"),
    ("Edge/", "Edge"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
];

/// Reads `ua` (see the module doc).
pub fn classify(ua: &str) -> Classified {
    let (browser_name, browser_version) = browser(ua).map_or((None, None), |(n, v)| (Some(n), v));
    let os_name = os(ua);
    let device_type = device_type(ua, os_name);
    Classified { browser_name, browser_version, os_name, device_type }
}

fn browser(ua: &str) -> Option<(&'static str, Option<String>)> {
    for (token, name) in BROWSERS {
        if let Some(at) = ua.find(token) {
            return Some((name, major(&ua[at + token.len()..])));
        }
    }
    // Safari names itself only by `Safari/` (its WebKit build) and `Version/` (its release); every
    // other WebKit browser above also says `Safari/`.
    if ua.contains("Safari/") && ua.contains("AppleWebKit/") {
        let version = ua.find("Version/").and_then(|at| major(&ua[at + "Version/".len()..]));
        return Some(("Safari", version));
    }
    None
}

/// The leading digits of `rest` (at most 6), if any.
fn major(rest: &str) -> Option<String> {
    let digits: String = rest.chars().take_while(char::is_ascii_digit).take(6).collect();
    (!digits.is_empty()).then_some(digits)
}

fn os(ua: &str) -> Option<&'static str> {
    // Order matters: Android says `Linux`, iOS says `like Mac OS X`, ChromeOS says `X11`.
    if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("iPad") {
        Some("iPadOS")
    } else if ua.contains("iPhone") || ua.contains("iPod") {
        Some("iOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Macintosh") || ua.contains("Mac OS X") {
        Some("macOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    }
}

fn device_type(ua: &str, os: Option<&str>) -> Option<DeviceType> {
    match os {
        Some("iPadOS") => Some(DeviceType::Tablet),
        Some("iOS") => Some(DeviceType::Mobile),
        // Android phones' browsers say `Mobile` (Firefox: `Mobile;`), tablets' do not.
        Some("Android") if ua.contains("Mobile") => Some(DeviceType::Mobile),
        Some("Android") => Some(DeviceType::Tablet),
        Some(_) => Some(DeviceType::Desktop),
        None if ua.contains("Mobile") => Some(DeviceType::Mobile),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real user agents: the browser, its major version, the OS and the device type the profile shows.
    const SAMPLES: &[(&str, &str, &str, &str, DeviceType)] = &[
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Chrome",
            "131",
            "macOS",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
            "Chrome",
            "130",
            "Windows",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36",
            "Chrome",
            "131",
            "Linux",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
            "Chrome",
            "129",
            "ChromeOS",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome",
            "131",
            "Android",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
            "Chrome",
            "128",
            "Android",
            DeviceType::Tablet,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome",
            "131",
            "iOS",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            "Edge",
            "131",
            "Windows",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
            "Edge",
            "131",
            "Android",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/131.2903.68 Mobile/15E148 Safari/605.1.15",
            "Edge",
            "131",
            "iOS",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox",
            "133",
            "Windows",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "Firefox",
            "132",
            "Linux",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox",
            "133",
            "macOS",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Firefox",
            "133",
            "Android",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
            "Firefox",
            "133",
            "iOS",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari",
            "18",
            "macOS",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari",
            "18",
            "iOS",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
            "Safari",
            "17",
            "iPadOS",
            DeviceType::Tablet,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
            "Opera",
            "115",
            "Windows",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
            "Opera",
            "86",
            "Android",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
            "Samsung Internet",
            "27",
            "Android",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-X910) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36",
            "Samsung Internet",
            "26",
            "Android",
            DeviceType::Tablet,
        ),
    ];

    #[test]
    fn real_user_agents_read_as_their_browser_os_and_device() {
        for &(ua, browser, version, os, device) in SAMPLES {
            let c = classify(ua);
            assert_eq!(c.browser_name, Some(browser), "{ua}");
            assert_eq!(c.browser_version.as_deref(), Some(version), "{ua}");
            assert_eq!(c.os_name, Some(os), "{ua}");
            assert_eq!(c.device_type, Some(device), "{ua}");
            assert_eq!(c.is_mobile(), device != DeviceType::Desktop, "{ua}");
        }
    }

    #[test]
    fn what_is_not_recognised_is_unknown() {
        for ua in ["", "curl/8.5.0", "Go-http-client/1.1", "\u{0}\u{1}", &"A".repeat(10_000)] {
            assert_eq!(classify(ua), Classified::default(), "{ua:?}");
        }
        // A browser without a version, an OS without a browser.
        let c = classify("Mozilla/5.0 (Windows NT 10.0) Firefox/");
        assert_eq!((c.browser_name, c.browser_version, c.os_name), (Some("Firefox"), None, Some("Windows")));
        let c = classify("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A)");
        assert_eq!((c.browser_name, c.os_name), (None, Some("Android")));
        // A version is digits, bounded.
        assert_eq!(
            classify(&format!("Chrome/{}", "9".repeat(50))).browser_version.as_deref(),
            Some("999999")
        );
    }

    #[test]
    fn a_user_agent_is_kept_bounded_and_printable() {
        let headers = |v: &[u8]| {
            let mut h = HeaderMap::new();
            h.insert(axum::http::header::USER_AGENT, axum::http::HeaderValue::from_bytes(v).unwrap());
            h
        };
        let none = ClientAddr(None);
        let long = Device::from_request(&headers(&[b'a'; 4000]), none);
        assert_eq!(long.user_agent.map(|u| u.len()), Some(MAX_USER_AGENT_BYTES));
        // Bytes that are not UTF-8 (obs-text), tabs, surrounding spaces: read, never refused.
        let odd = Device::from_request(&headers(b"  Odd\t\xff\xfeAgent/1  "), none);
        assert_eq!(odd.user_agent.as_deref(), Some("Odd \u{fffd}\u{fffd}Agent/1"));
        // A multi-byte character at the limit is dropped whole.
        let mut raw = vec![b'a'; MAX_USER_AGENT_BYTES - 1];
        raw.extend("é".as_bytes());
        let cut = Device::from_request(&headers(&raw), none).user_agent.unwrap();
        assert!(cut.len() <= MAX_USER_AGENT_BYTES && cut.chars().all(|c| c == 'a' || c == '\u{fffd}'));
        assert_eq!(Device::from_request(&headers(b"   "), none).user_agent, None);
        assert_eq!(Device::from_request(&HeaderMap::new(), none), Device::default());
        let addr = ClientAddr(Some("2001:db8::1".parse().unwrap()));
        assert_eq!(Device::from_request(&HeaderMap::new(), addr).ip_address.as_deref(), Some("2001:db8::1"));
    }
}
