//! Static assets, compiled into the binary. Their URLs carry a content hash, so they can be
//! cached for a year: a new build has new URLs.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "outbox.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/outbox.js"),
    },
    Asset {
        name: "icon-192.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/icon-192.png"),
    },
    Asset {
        name: "icon-512.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/icon-512.png"),
    },
    Asset {
        name: "icon-maskable-512.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/icon-maskable-512.png"),
    },
    Asset {
        name: "apple-touch-icon.png",
        content_type: "image/png",
        bytes: include_bytes!("../../static/apple-touch-icon.png"),
    },
];

/// The service worker's own code; served at `/sw.js` (its scope is the whole site), never
/// under a hashed name: the browser checks that one URL for updates.
pub const SERVICE_WORKER: &str = include_str!("../../static/sw.js");

/// `app.css` → `app.3f9a1c0b2d4e.css`.
fn hashed_name(asset: &Asset) -> String {
    let digest = hex::encode(Sha256::digest(asset.bytes));
    match asset.name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{}.{ext}", &digest[..12]),
        None => format!("{}.{}", asset.name, &digest[..12]),
    }
}

fn hashed_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| ASSETS.iter().map(hashed_name).collect())
}

fn url_of(name: &str) -> &'static str {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    let urls = URLS.get_or_init(|| hashed_names().iter().map(|n| format!("/static/{n}")).collect());
    ASSETS
        .iter()
        .position(|a| a.name == name)
        .map(|i| urls[i].as_str())
        .unwrap_or("/static/missing")
}

pub fn css_url() -> &'static str {
    url_of("app.css")
}

pub fn app_js_url() -> &'static str {
    url_of("app.js")
}

pub fn outbox_js_url() -> &'static str {
    url_of("outbox.js")
}

pub fn icon_url(name: &str) -> &'static str {
    url_of(name)
}

/// Every asset's URL, for the service worker to keep.
pub fn all_urls() -> Vec<&'static str> {
    ASSETS.iter().map(|a| url_of(a.name)).collect()
}

/// The build's fingerprint: a new one when any asset or the service worker changes, so phones
/// install the new worker and drop the old assets.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        for asset in ASSETS {
            hasher.update(asset.bytes);
        }
        hasher.update(SERVICE_WORKER.as_bytes());
        hex::encode(hasher.finalize())[..12].to_owned()
    })
}

pub fn favicon_url() -> &'static str {
    url_of("favicon.svg")
}

/// The content type and bytes of the asset served as `file` (its hashed name).
pub fn find(file: &str) -> Option<(&'static str, &'static [u8])> {
    let index = hashed_names().iter().position(|n| n == file)?;
    let asset = &ASSETS[index];
    Some((asset.content_type, asset.bytes))
}
