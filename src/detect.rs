//! Where is the buyer? Reads a user-agent string (plus two browser-only hints) and says which
//! app and platform the page runs in.
//!
//! Pure string logic so it runs the same natively, in the browser and in Node (server-side
//! rendering), and is tested natively over a table of real user agents
//! (`tests/data/user-agents.tsv`). Reading the hints out of a live browser lives in
//! `navigator.rs`; this module only interprets them.

/// The app whose web view (or the browser) the page runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// WeChat's built-in browser (`MicroMessenger/` in the UA).
    WeChat,
    /// WeCom (企业微信): its UA carries both `wxwork/` and `MicroMessenger/`.
    WeCom,
    /// A `<web-view>` inside a WeChat mini-program (`miniProgram` in the UA).
    MiniProgram,
    /// Alipay's in-app browser.
    Alipay,
    /// The QQ app's in-app browser (not QQ Browser, which is an ordinary browser).
    Qq,
    /// Anything else: Safari, Chrome, Firefox, Edge, UC, other apps' web views.
    Browser,
}

/// The operating system family the UA reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Ios,
    Android,
    HarmonyOs,
    Windows,
    MacOs,
    Linux,
    Other,
}

/// What `detectEnvironment()` returns (as `{ client, platform, mobile, wechatVersion }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub client: Client,
    pub platform: Platform,
    /// Phones and tablets.
    pub mobile: bool,
    /// The `MicroMessenger/x.y.z` version, for WeChat, WeCom and mini-program web views.
    pub wechat_version: Option<String>,
}

/// Facts only a live browser knows, which a UA string alone cannot tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserHints {
    /// `window.__wxjs_environment`: WeChat sets it to `"miniprogram"` in a mini-program
    /// web-view, where older clients do not put `miniProgram` in the UA until JS-SDK is ready.
    pub wxjs_environment: Option<String>,
    /// `navigator.maxTouchPoints`: iPadOS Safari reports a Mac UA by default ("desktop
    /// website"), and touch support is the reliable way to tell it from a real Mac.
    pub max_touch_points: u32,
}

impl Client {
    pub const ALL: [Client; 6] =
        [Client::WeChat, Client::WeCom, Client::MiniProgram, Client::Alipay, Client::Qq, Client::Browser];

    /// The name in the JS API, e.g. `"wecom"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Client::WeChat => "wechat",
            Client::WeCom => "wecom",
            Client::MiniProgram => "miniprogram",
            Client::Alipay => "alipay",
            Client::Qq => "qq",
            Client::Browser => "browser",
        }
    }

    /// The inverse of [`Client::as_str`].
    pub fn from_name(name: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl Platform {
    pub const ALL: [Platform; 7] = [
        Platform::Ios,
        Platform::Android,
        Platform::HarmonyOs,
        Platform::Windows,
        Platform::MacOs,
        Platform::Linux,
        Platform::Other,
    ];

    /// The name in the JS API, e.g. `"harmonyos"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::HarmonyOs => "harmonyos",
            Platform::Windows => "windows",
            Platform::MacOs => "macos",
            Platform::Linux => "linux",
            Platform::Other => "other",
        }
    }

    /// The inverse of [`Platform::as_str`].
    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl Environment {
    /// A desktop browser: what a UA-less runtime such as Node gets, so server-side code can
    /// call detection without special-casing.
    pub fn desktop_browser() -> Environment {
        Environment {
            client: Client::Browser,
            platform: Platform::Other,
            mobile: false,
            wechat_version: None,
        }
    }
}

/// Detects the environment from a user-agent string alone.
pub fn detect(user_agent: &str) -> Environment {
    let ua = user_agent.to_ascii_lowercase();
    let wechat_version = micromessenger_version(user_agent);
    let platform = platform(&ua);
    Environment {
        client: client(&ua),
        platform,
        mobile: mobile(&ua, platform),
        wechat_version,
    }
}

/// Detects from a UA plus what the live browser says beyond it.
pub fn detect_with_hints(user_agent: &str, hints: &BrowserHints) -> Environment {
    let mut env = detect(user_agent);
    // Only a WeChat-family web view sets this; a plain page could set it itself, but then the
    // page is lying to itself, not to us.
    if hints.wxjs_environment.as_deref() == Some("miniprogram") {
        env.client = Client::MiniProgram;
    }
    // A Mac with a touch screen does not exist; an iPad asking for desktop sites does.
    if env.platform == Platform::MacOs && hints.max_touch_points > 1 {
        env.platform = Platform::Ios;
        env.mobile = true;
    }
    env
}

fn client(ua: &str) -> Client {
    let in_wechat_family = has(ua, "micromessenger/");
    if in_wechat_family && has(ua, "miniprogram") {
        // Checked first: a mini-program web-view's UA also says MicroMessenger, and the page
        // must hand the payment to the mini-program rather than pay itself.
        Client::MiniProgram
    } else if has(ua, "wxwork/") {
        Client::WeCom
    } else if in_wechat_family {
        Client::WeChat
    } else if has(ua, "alipayclient/") {
        // Not `AliApp(`: UC Browser on iOS says `AliApp(TUnionSDK/…)` too.
        Client::Alipay
    } else if has_token(ua, "qq/") {
        // The QQ app appends ` QQ/8.9.x`; QQ Browser says `MQQBrowser/`, which must not match.
        Client::Qq
    } else {
        Client::Browser
    }
}

fn platform(ua: &str) -> Platform {
    // Order matters: HarmonyOS 2-4 UAs also say Android, iOS UAs say "like Mac OS X", and
    // Android UAs say Linux.
    if has(ua, "openharmony") || has(ua, "harmonyos") {
        Platform::HarmonyOs
    } else if has(ua, "iphone") || has(ua, "ipad") || has(ua, "ipod") {
        Platform::Ios
    } else if has(ua, "android") {
        Platform::Android
    } else if has(ua, "windows") {
        Platform::Windows
    } else if has(ua, "macintosh") || has(ua, "mac os x") {
        Platform::MacOs
    } else if has(ua, "linux") || has(ua, "x11") || has(ua, "cros") {
        // ChromeOS (CrOS) is a Linux desktop as far as paying goes.
        Platform::Linux
    } else {
        Platform::Other
    }
}

fn mobile(ua: &str, platform: Platform) -> bool {
    match platform {
        Platform::Ios | Platform::Android => true,
        // HarmonyOS NEXT also runs on PCs and says so: "(PC; OpenHarmony 5.0)".
        Platform::HarmonyOs => !has(ua, "(pc;"),
        // Windows Phone, KaiOS, Firefox OS and friends say "Mobile".
        Platform::Windows | Platform::Linux | Platform::Other => has(ua, "mobile"),
        // A Mac UA is a desktop; iPads in desktop mode are caught by `BrowserHints`.
        Platform::MacOs => false,
    }
}

/// `MicroMessenger/8.0.47(0x18002f2c)` → `8.0.47`.
fn micromessenger_version(user_agent: &str) -> Option<String> {
    const TOKEN: &[u8] = b"micromessenger/";
    let bytes = user_agent.as_bytes();
    let at = bytes.windows(TOKEN.len()).position(|w| w.eq_ignore_ascii_case(TOKEN))?;
    let version: String = bytes[at + TOKEN.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .map(|&b| char::from(b))
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_string())
}

/// Substring search over bytes. Used instead of `str::contains` because the UA needles are
/// short ASCII and core's Two-Way searcher costs ~2.5 KB of wasm for no speed we need.
fn has(ua: &str, needle: &str) -> bool {
    ua.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// True when `token` appears at the start of the UA or right after a space, `;` or `(`.
fn has_token(ua: &str, token: &str) -> bool {
    let (ua, token) = (ua.as_bytes(), token.as_bytes());
    (0..=ua.len().saturating_sub(token.len())).any(|i| {
        ua[i..].starts_with(token) && (i == 0 || matches!(ua[i - 1], b' ' | b';' | b'('))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Client::ALL {
            assert_eq!(Client::from_name(c.as_str()), Some(c));
        }
        for p in Platform::ALL {
            assert_eq!(Platform::from_name(p.as_str()), Some(p));
        }
        assert_eq!(Client::from_name("WeChat"), None, "names are lower-case");
    }

    #[test]
    fn version_stops_at_the_hex_build_number() {
        assert_eq!(micromessenger_version("x MicroMessenger/8.0.47(0x18002f2c) y").as_deref(), Some("8.0.47"));
        assert_eq!(micromessenger_version("MicroMessenger/7.0.20.1781(0x6700143B)").as_deref(), Some("7.0.20.1781"));
        assert_eq!(micromessenger_version("MicroMessenger/"), None);
        assert_eq!(micromessenger_version("Safari/605.1.15"), None);
    }

    #[test]
    fn qq_token_does_not_match_qq_browser() {
        assert!(has_token("mobile qq/8.9.28.635 v1", "qq/"));
        assert!(!has_token("mqqbrowser/6.2 tbs/045", "qq/"));
        assert!(!has_token("qqbrowser/13.2", "qq/"));
    }

    #[test]
    fn empty_ua_is_a_desktop_browser() {
        let env = detect("");
        assert_eq!(env, Environment::desktop_browser());
    }

    #[test]
    fn touch_points_turn_a_mac_ua_into_an_ipad() {
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        let real_mac = detect_with_hints(mac, &BrowserHints::default());
        assert_eq!((real_mac.platform, real_mac.mobile), (Platform::MacOs, false));
        let hints = BrowserHints { max_touch_points: 5, ..Default::default() };
        let ipad = detect_with_hints(mac, &hints);
        assert_eq!((ipad.platform, ipad.mobile), (Platform::Ios, true));
        // Touch points on a Windows laptop with a touch screen change nothing.
        let win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(detect_with_hints(win, &hints), detect(win));
    }

    #[test]
    fn wxjs_environment_marks_a_mini_program_web_view() {
        let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN";
        assert_eq!(detect(wechat).client, Client::WeChat);
        let hints = BrowserHints { wxjs_environment: Some("miniprogram".into()), ..Default::default() };
        assert_eq!(detect_with_hints(wechat, &hints).client, Client::MiniProgram);
        let other = BrowserHints { wxjs_environment: Some("browser".into()), ..Default::default() };
        assert_eq!(detect_with_hints(wechat, &other).client, Client::WeChat);
    }
}
