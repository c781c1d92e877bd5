//! A moto server (`moto[server]`, PyPI) on 127.0.0.1 for the live AWS tests.
//!
//! `MOTO_URL` reuses a running server. Otherwise a Python venv is created once under
//! `$CARGO_TARGET_DIR` (else the crate's `target/`) as `moto-venv`, with a pinned moto, and one
//! server is started per test binary on a free port.
//!
//! The server runs `moto_server.py` (beside this file): moto behind a test-only bridge for the
//! rpc-v2-cbor protocol the SDK speaks to CloudWatch, with the cache-cluster fields moto leaves
//! out filled in. A server given by `MOTO_URL` must be that script (`python
//! tests/support/live/moto_server.py 5000` in the venv), or the tests relying on them fail.
//!
//! Stopping: statics are never dropped at process exit, so the server cannot be stopped by a
//! `Drop`. Instead it runs under that script, which blocks reading its stdin, a pipe
//! whose write end only this test process holds. When the test process ends, however it ends
//! (pass, panic, abort, kill -9), the OS closes the pipe, the script reads EOF and exits with
//! the server. No process group tricks, no leftover servers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The pinned moto release the tests are written against (docs/development.md lists its gaps).
pub const MOTO_VERSION: &str = "5.2.5";

/// The server script: moto behind a small test-only bridge for the rpc-v2-cbor protocol, with
/// ElastiCache's missing cluster fields filled in (its docstring says what and why). It runs
/// until its standard input closes.
const SERVER_SCRIPT: &str = include_str!("moto_server.py");

struct Running {
    url: String,
    // Held until the process ends: dropping them would stop the server early.
    _child: Option<Child>,
    _stdin: Option<ChildStdin>,
}

static SERVER: OnceLock<Mutex<Result<Running, String>>> = OnceLock::new();

/// The SDK configuration every moto test starts from: the product's HTTPS client, `region`,
/// the server's URL as the endpoint and static fake credentials (no IMDS, no profile, no real
/// AWS). Callers add what their test needs (retries, another HTTP client) before `load()`.
pub fn sdk_loader(region: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(estate_audit::collect::aws::https_client())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(url())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "AKIDMOTOTESTING",
            "secret",
            None,
            None,
            "static",
        ))
}

/// The server's URL, starting it on first use. Panics (failing the test) with the reason when
/// moto cannot be installed or started.
pub fn url() -> String {
    let lock = SERVER.get_or_init(|| Mutex::new(start()));
    match &*lock.lock().unwrap_or_else(|e| e.into_inner()) {
        Ok(r) => r.url.clone(),
        Err(e) => panic!("moto server unavailable: {e}"),
    }
}

fn start() -> Result<Running, String> {
    if let Ok(url) = std::env::var("MOTO_URL") {
        wait_until_up(&url, Duration::from_secs(10))?;
        return Ok(Running {
            url,
            _child: None,
            _stdin: None,
        });
    }
    let venv = ensure_venv()?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut child = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(SERVER_SCRIPT)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start moto: {e}"))?;
    let stdin = child.stdin.take();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim() != "ready" {
        let _ = child.kill();
        return Err(format!("moto did not start (said {line:?})"));
    }
    let url = format!("http://127.0.0.1:{port}");
    wait_until_up(&url, Duration::from_secs(30))?;
    Ok(Running {
        url,
        _child: Some(child),
        _stdin: stdin,
    })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The venv with moto, created when missing. Test binaries may race here: a lock directory
/// (mkdir is atomic) lets one install while the others wait.
fn ensure_venv() -> Result<PathBuf, String> {
    let dir = target_dir();
    let venv = dir.join("moto-venv");
    let stamp = venv.join(format!("moto-{MOTO_VERSION}.installed"));
    if stamp.exists() {
        return Ok(venv);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let lock = dir.join("moto-venv.lock");
    let deadline = Instant::now() + Duration::from_secs(900);
    while std::fs::create_dir(&lock).is_err() {
        if stamp.exists() {
            return Ok(venv);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "waited 15 min for {} (remove it if stale)",
                lock.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = install(&venv, &stamp);
    let _ = std::fs::remove_dir(&lock);
    result.map(|_| venv)
}

fn install(venv: &Path, stamp: &Path) -> Result<(), String> {
    if stamp.exists() {
        return Ok(());
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python).arg("-m").arg("venv").arg(venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("moto[server]=={MOTO_VERSION}")))?;
    std::fs::write(stamp, MOTO_VERSION).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn wait_until_up(url: &str, limit: Duration) -> Result<(), String> {
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(mut s) = TcpStream::connect(&addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET /moto-api/ HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            let mut buf = [0u8; 12];
            if s.write_all(req.as_bytes()).is_ok()
                && s.read_exact(&mut buf).is_ok()
                && buf.starts_with(b"HTTP/1.")
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{url} did not answer within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A raw AWS query-protocol call (form POST), for the few setup calls whose SDK crate the
/// product does not need (IAM): compiling `aws-sdk-iam` for one CreateRole would cost minutes of
/// every test build. Moto does not check signatures. Returns the response body.
pub fn query_call(url: &str, service_host: &str, params: &[(&str, &str)]) -> String {
    let body: String = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    post(
        url,
        &format!(
            "Host: {service_host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n"
        ),
        &body,
    )
}

/// A raw AWS JSON-protocol call (`X-Amz-Target`), as [`query_call`], for a setup call in
/// `region` of a service the product does not read (Kinesis: a log subscription's
/// destination). Returns the response body.
pub fn json_call(url: &str, region: &str, service: &str, target: &str, body: &str) -> String {
    post(
        url,
        &format!(
            "Host: {service}.{region}.amazonaws.com\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: {target}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n"
        ),
        body,
    )
}

/// One HTTP/1.0 POST to moto with these header lines; the whole answer.
fn post(url: &str, headers: &str, body: &str) -> String {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let req = format!(
        "POST / HTTP/1.0\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).expect("connect to moto");
    s.write_all(req.as_bytes()).expect("write to moto");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read from moto");
    out
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
