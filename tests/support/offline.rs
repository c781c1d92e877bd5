//! The environment every CLI test runs the binary in: live collection, when a test reaches it,
//! must never leave this machine. AWS calls go to a closed loopback port with fake static keys,
//! IMDS is off and no profile or config file of the machine is read; Cloudflare goes to a closed
//! loopback port unless the test points it at its own mock server.

use std::process::Command;

pub fn offline(c: &mut Command) -> &mut Command {
    c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIATESTONLYNOTREAL0")
        .env("AWS_SECRET_ACCESS_KEY", "test-only-not-a-secret")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", "/nonexistent/estate-audit-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/estate-audit-test/credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env("CLOUDFLARE_API_BASE", "http://127.0.0.1:9")
}
