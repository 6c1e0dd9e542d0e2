//! Entry points for the fuzz targets in `fuzz/` (S-IN-5): each takes untrusted bytes the way
//! the server receives them and must return, never panic, hang or run away with memory. They
//! live in the library, not in `fuzz/`, so that private readers (the multipart file part) are
//! reachable and the code the fuzzer exercises is the code the server runs.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, header};

use crate::http::error::ApiError;
use crate::http::json::ApiJson;

/// A Green Button file as uploaded: the import (within the server's limits), then the monthly
/// totals the sizing uses.
pub fn green_button(data: &[u8]) {
    if let Ok(usage) = crate::sizing::greenbutton::import(data, Default::default()) {
        let _ = crate::sizing::greenbutton::monthly(&usage.delivered, &[], 0);
    }
}

/// A TMY3 weather file as an admin uploads it.
pub fn tmy(data: &[u8]) {
    let _ = crate::sizing::tmy::Tmy::parse(data);
}

// A fuzz run without its runtime must stop loudly rather than pass having tested nothing.
#[allow(clippy::panic)]
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("a runtime for the fuzz target: {e}"))
    })
}

/// A JSON request body, read by the API's extractor into one of the typed requests (the first
/// byte picks which), then validated where the type validates itself. A refusal must name a
/// field, never echo what was sent.
pub fn json_body(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let request = || {
        Request::builder()
            .method("POST")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec()))
            .unwrap_or_default()
    };
    let refusal = runtime().block_on(async {
        match pick % 4 {
            0 => match ApiJson::<crate::sites::model::SiteForm>::from_request(request(), &()).await {
                Ok(ApiJson(form)) => {
                    let _ = form.parse();
                    None
                }
                Err(e) => Some(e),
            },
            1 => ApiJson::<crate::auth::api::SignupBody>::from_request(request(), &())
                .await
                .err(),
            2 => ApiJson::<crate::quotes::service::QuoteRequest>::from_request(request(), &())
                .await
                .err(),
            _ => ApiJson::<crate::jobs::api::TransitionRequest>::from_request(request(), &())
                .await
                .err(),
        }
    });
    if let Some(ApiError::Validation(fields)) = refusal {
        for f in fields {
            assert!(
                f.field.len() <= 64 && f.field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "a refusal names something other than a field: {:?}",
                f.field
            );
        }
    }
}

/// A multipart body as a usage upload sends it, with the boundary the first line names.
pub fn multipart_body(data: &[u8]) {
    let (boundary, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (String::from_utf8_lossy(&data[..at]).into_owned(), &data[at + 1..]),
        None => ("x".to_owned(), data),
    };
    let Ok(content_type) =
        header::HeaderValue::from_str(&format!("multipart/form-data; boundary={}", boundary.trim()))
    else {
        return;
    };
    let request = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .unwrap_or_default();
    let _ = runtime().block_on(crate::sites::api::file_part(request));
}

/// A configuration file, then everything start-up derives from it.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(settings) = crate::config::Settings::from_toml(text) {
        let _ = settings.problems();
        let _ = settings.rate_budgets();
        let _ = settings.defence_rules();
        let _ = settings.allowed_host_names();
    }
}

#[cfg(test)]
mod tests {
    //! Each entry point takes the project's own files and some garbage without panicking: the
    //! fuzz targets' seeds, checked on the stable toolchain in every test run.
    use super::*;

    #[test]
    fn entry_points_take_the_seeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let gb = std::fs::read(root.join("testdata/greenbutton/MonthlyOnlyElectricData.xml")).unwrap();
        green_button(&gb);
        green_button(&gb[..gb.len() / 2]);
        let weather = std::fs::read(root.join("weather/723170TYA.CSV")).unwrap();
        tmy(&weather);
        tmy(&weather[..4096]);
        json_body(b"\x00{\"name\":\"Home\",\"nope\":1}");
        json_body(b"\x01{\"email\":3}");
        json_body(b"\x02[");
        multipart_body(
            b"b\n--b\r\ncontent-disposition: form-data; name=\"file\"\r\n\r\n<feed/>\r\n--b--\r\n",
        );
        multipart_body(b"\n--");
        let example = std::fs::read(root.join("deploy/sunbridge.example.toml")).unwrap();
        assert!(
            crate::config::Settings::from_toml(std::str::from_utf8(&example).unwrap()).is_ok(),
            "the example configuration reads"
        );
        config(&example);
        config(b"env = \"production\"\nrate_read_per_min = 0\n");
        config(b"public_url = 3");
    }
}
