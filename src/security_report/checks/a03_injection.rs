//! The controls of A03 Injection.

use super::*;

pub(super) fn limits(s: &Settings) -> Control {
    let ok =
        s.body_limit_bytes <= 1 << 20 && s.upload_limit_bytes <= 32 << 20 && s.request_timeout_secs <= 60;
    control(
        "S-IN-3",
        "Input bounded at the edge",
        pass_or(ok, Status::Warn),
        format!(
            "Request bodies at most {}, uploads at most {}, requests time out after {} s; bodies are typed (serde, unknown fields refused).",
            probe::bytes(s.body_limit_bytes),
            probe::bytes(s.upload_limit_bytes),
            s.request_timeout_secs
        ),
    )
}
