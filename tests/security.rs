//! Credentials stay with their host, every input is bounded, and what infertop writes is private (issue 15).
//!
//! Small servers on loopback that misbehave on purpose: they redirect (to another host, from https to http),
//! send bodies ten times the cap, or page forever. Each accepts a bounded number of connections and ends with
//! its test (or after `LIFETIME`, whichever comes first). The file-mode and config tests run the real binary
//! with a fresh HOME and XDG directories.

mod common;

use common::tmux::{BIN, start_sim};
use infertop::model::ProviderKind;
use infertop::provider::http::{Limits, build_client, build_client_with_roots, load_ca_file};
use infertop::provider::{self, AccountSpec, GcoreApi, demo_accounts};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// No test server outlives this, whatever its test does.
const LIFETIME: Duration = Duration::from_secs(60);
const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------------------
// A small HTTP/1.1 server: one request per connection, answered by a handler, then closed.

/// What a test server answers.
enum Reply {
    Plain {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `total` bytes of filler, written from one static buffer (the server holds no large body), with or
    /// without a `Content-Length` (without, the body ends when the connection closes).
    Flood {
        total: usize,
        announce: bool,
    },
}

impl Reply {
    fn json(v: serde_json::Value) -> Reply {
        Reply::Plain {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
        }
    }

    fn redirect(to: &str) -> Reply {
        Reply::Plain {
            status: 302,
            headers: vec![("location".into(), to.into())],
            body: b"<a href=\"elsewhere\">moved</a>".to_vec(),
        }
    }
}

/// The request line (`GET /path?query`) and the head.
struct Req {
    method: String,
    target: String,
}

impl Req {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self, key: &str) -> Option<u64> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}="))?.parse().ok())
    }
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

struct Server {
    port: u16,
    /// Connections accepted (a redirect followed here would show as one).
    hits: Arc<AtomicUsize>,
    /// `METHOD target` of every request read.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves at most `max_conns` connections on 127.0.0.1, over TLS when `tls` is given.
async fn serve(max_conns: usize, tls: Option<tokio_rustls::TlsAcceptor>, handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    tokio::spawn(tokio::time::timeout(LIFETIME, async move {
        for _ in 0..max_conns {
            let Ok((sock, _)) = listener.accept().await else { return };
            h.fetch_add(1, Ordering::SeqCst);
            let (handler, seen, tls) = (handler.clone(), s.clone(), tls.clone());
            tokio::spawn(tokio::time::timeout(LIFETIME, async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(sock).await {
                            answer(stream, &handler, &seen).await;
                        }
                    }
                    None => answer(sock, &handler, &seen).await,
                }
            }));
        }
    }));
    Server { port, hits, seen }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, handler: &Handler, seen: &Mutex<Vec<String>>) {
    // The head, up to 64 KiB.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 << 10 {
        match s.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let req = Req { method: words.next().unwrap_or("").into(), target: words.next().unwrap_or("").into() };
    // Drain a request body (the token form) so the client sees its request taken.
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(64 << 10)];
    let _ = s.read_exact(&mut body).await;
    seen.lock().unwrap().push(format!("{} {}", req.method, req.target));
    match handler(&req) {
        Reply::Plain { status, headers, body } => {
            let mut out =
                format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&body);
            let _ = s.write_all(&bytes).await;
        }
        Reply::Flood { total, announce } => {
            static FILL: [u8; 64 << 10] = [b' '; 64 << 10];
            let length = if announce { format!("content-length: {total}\r\n") } else { String::new() };
            let start = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n"
            );
            if s.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            let mut sent = 0;
            while sent < total {
                let n = FILL.len().min(total - sent);
                // The client hanging up at its cap ends the flood.
                if s.write_all(&FILL[..n]).await.is_err() {
                    return;
                }
                sent += n;
            }
        }
    }
    let _ = s.shutdown().await;
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = fixtures_tls();
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .chain(CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("the fixture certificate and key match");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn fixtures_tls() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

// ---------------------------------------------------------------------------------------------------------
// Clients

fn client() -> reqwest::Client {
    build_client(Duration::from_secs(5), Duration::from_secs(20))
}

/// The shared client, trusting the test CA (as `ca_file` does).
fn tls_client() -> reqwest::Client {
    let roots = load_ca_file(&fixtures_tls().join("ca.pem")).unwrap();
    build_client_with_roots(Duration::from_secs(5), Duration::from_secs(20), roots).unwrap()
}

/// A demo account of `kind` at `base`, without retries.
fn account(kind: ProviderKind, api: GcoreApi, base: &str, limits: Limits) -> AccountSpec {
    let mut a = demo_accounts(base).into_iter().find(|a| a.kind == kind).unwrap();
    a.gcore_api = api;
    a.retry = infertop::provider::http::RetryPolicy::none();
    a.rate_limit = infertop::provider::http::RateLimit::unlimited();
    a.limits = limits;
    a
}

fn token_reply() -> Reply {
    Reply::json(serde_json::json!({"access_token": "tok-test", "token_type": "Bearer", "expires_in": 3600}))
}

// ---------------------------------------------------------------------------------------------------------
// Redirects

/// The account at an origin that answers 302 to a second server (`http://localhost:P2/...` when the origin
/// is http on 127.0.0.1; `http://127.0.0.1:P2/...` when it is https on localhost). The second server must
/// receive nothing, and the error must name the 3xx, the Location (without its query) and the base URL.
async fn redirect_is_refused(kind: ProviderKind, api: GcoreApi, token_ok: bool, https: bool) {
    let second = serve(8, None, Arc::new(|_| Reply::json(serde_json::json!([])))).await;
    let (host2, host1, scheme) =
        if https { ("127.0.0.1", "localhost", "https") } else { ("localhost", "127.0.0.1", "http") };
    let location = format!("http://{host2}:{}/stolen/here?token=leak", second.port);
    let loc = location.clone();
    let origin =
        serve(
            32,
            https.then(tls_acceptor),
            Arc::new(move |r: &Req| {
                if token_ok && r.path() == "/api/v2/token" { token_reply() } else { Reply::redirect(&loc) }
            }),
        )
        .await;
    let base = format!("{scheme}://{host1}:{}", origin.port);
    let spec = account(kind, api, &base, Limits::default());
    let p = provider::connect(&spec, if https { tls_client() } else { client() });
    let what = format!("{kind} {api:?} token_ok={token_ok} https={https}");
    let err = p.list().await.expect_err(&what).to_string();
    assert!(err.contains("302"), "{what}: {err}");
    assert!(err.contains(&format!("to http://{host2}:{}/stolen/here", second.port)), "{what}: {err}");
    assert!(!err.contains("token=leak"), "{what}: the query is not shown: {err}");
    assert!(err.contains("base_url"), "{what}: says what to fix: {err}");
    assert!(origin.hits() >= 1, "{what}: the origin was asked");
    if token_ok {
        assert!(
            origin.seen().iter().any(|s| s.starts_with("POST /api/v2/token")),
            "{what}: {:?}",
            origin.seen()
        );
        assert!(
            origin.seen().iter().any(|s| s.starts_with("GET /api/v1/workloads")),
            "{what}: {:?}",
            origin.seen()
        );
    }
    // Give a followed redirect every chance to arrive before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(second.hits(), 0, "{what}: the second origin received a request: {:?}", second.seen());
}

#[tokio::test]
async fn gcore_v3_never_follows_a_redirect() {
    redirect_is_refused(ProviderKind::Gcore, GcoreApi::V3, false, false).await;
    redirect_is_refused(ProviderKind::Gcore, GcoreApi::V3, false, true).await;
}

#[tokio::test]
async fn gcore_v2_never_follows_a_redirect() {
    redirect_is_refused(ProviderKind::Gcore, GcoreApi::V2, false, false).await;
    redirect_is_refused(ProviderKind::Gcore, GcoreApi::V2, false, true).await;
}

#[tokio::test]
async fn sesterce_never_follows_a_redirect_with_its_api_key() {
    redirect_is_refused(ProviderKind::Sesterce, GcoreApi::V3, false, false).await;
    redirect_is_refused(ProviderKind::Sesterce, GcoreApi::V3, false, true).await;
}

#[tokio::test]
async fn runai_token_request_never_follows_a_redirect() {
    redirect_is_refused(ProviderKind::Runai, GcoreApi::V3, false, false).await;
    redirect_is_refused(ProviderKind::Runai, GcoreApi::V3, false, true).await;
}

#[tokio::test]
async fn runai_api_calls_never_follow_a_redirect_with_the_token() {
    redirect_is_refused(ProviderKind::Runai, GcoreApi::V3, true, false).await;
    redirect_is_refused(ProviderKind::Runai, GcoreApi::V3, true, true).await;
}

#[tokio::test]
async fn the_test_ca_is_trusted_only_through_ca_file() {
    let origin = serve(4, Some(tls_acceptor()), Arc::new(|_| Reply::json(serde_json::json!([])))).await;
    let base = format!("https://localhost:{}", origin.port);
    let spec = account(ProviderKind::Sesterce, GcoreApi::V3, &base, Limits::default());
    // Without the CA the handshake fails: the https in these tests is real.
    let err = provider::connect(&spec, client()).list().await.expect_err("untrusted certificate").to_string();
    assert!(err.contains("could not reach") || err.contains("connection"), "{err}");
    let deps = provider::connect(&spec, tls_client()).list().await.expect("trusted through the CA file");
    assert!(deps.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_file_in_the_config_makes_a_private_ca_trusted() {
    let origin = serve(16, Some(tls_acceptor()), Arc::new(|_| Reply::json(serde_json::json!([])))).await;
    let home = fresh_home("ca-file");
    let account = format!(
        "[[account]]\nname = \"tls\"\nprovider = \"sesterce\"\nbase_url = \"https://localhost:{}\"\napi_key_env = \"T_KEY\"\n",
        origin.port
    );
    let with_ca = home.join("with-ca.toml");
    let ca = fixtures_tls().join("ca.pem");
    std::fs::write(&with_ca, format!("ca_file = \"{}\"\n{account}", ca.display())).unwrap();
    let without = home.join("without.toml");
    std::fs::write(&without, &account).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let run = |cfg: &Path| {
            run_in(&home, &["snapshot", "--json", "--config", cfg.to_str().unwrap()], &[("T_KEY", "k-test")])
        };
        (run(&with_ca), run(&without))
    })
    .await
    .unwrap();
    for (out, trusted) in [(&out.0, true), (&out.1, false)] {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["accounts"][0]["ok"], trusted, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_what_the_user_sees_from_snapshot() {
    let second = serve(4, None, Arc::new(|_| Reply::json(serde_json::json!([])))).await;
    let location = format!("http://localhost:{}/elsewhere?sig=abc", second.port);
    let origin = serve(8, None, Arc::new(move |_: &Req| Reply::redirect(&location))).await;
    let home = fresh_home("snapshot-redirect");
    let cfg = home.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[account]]\nname = \"moved\"\nprovider = \"sesterce\"\nbase_url = \"http://127.0.0.1:{}\"\napi_key_env = \"T_KEY\"\n",
            origin.port
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        run_in(&home, &["snapshot", "--config", cfg.to_str().unwrap()], &[("T_KEY", "k-test")])
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("moved: sesterce 302"), "{err}");
    assert!(
        err.contains(&format!("http://localhost:{}/elsewhere", second.port)) && !err.contains("sig=abc"),
        "{err}"
    );
    assert_eq!(second.hits(), 0);
}

// ---------------------------------------------------------------------------------------------------------
// Bounded reads

fn capped(mib: usize) -> Limits {
    Limits { max_response_bytes: mib * MIB, ..Limits::default() }
}

#[tokio::test]
async fn a_body_announced_over_the_cap_is_not_read() {
    let origin = serve(
        4,
        None,
        Arc::new(|r: &Req| {
            if r.path() == "/ai-inference/instances" {
                Reply::Flood { total: 10 * MIB, announce: true }
            } else {
                Reply::json(serde_json::json!([]))
            }
        }),
    )
    .await;
    let spec = account(
        ProviderKind::Sesterce,
        GcoreApi::V3,
        &format!("http://127.0.0.1:{}", origin.port),
        capped(1),
    );
    let err = provider::connect(&spec, client()).list().await.expect_err("over the cap").to_string();
    assert!(err.contains("GET /ai-inference/instances is 10 MiB, over the 1 MiB limit"), "{err}");
    assert!(err.contains("max_response_mib"), "{err}");
}

#[test]
fn a_body_ten_times_the_cap_keeps_peak_memory_under_twice_the_cap() {
    // Measured in a process of its own, so that other tests' memory does not count.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "peak_memory_probe", "--ignored", "--nocapture", "--test-threads=1"])
        .env("INFERTOP_PEAK_PROBE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let line =
        text.split("peak-probe:").nth(1).and_then(|l| l.lines().next()).unwrap_or_else(|| panic!("{text}"));
    let field = |k: &str| -> usize {
        line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{k}="))?.parse().ok()).unwrap()
    };
    let (grew, cap) = (field("grew_kib"), field("cap_kib"));
    assert!(grew < 2 * cap, "peak RSS grew by {grew} KiB for a cap of {cap} KiB: {line}");
}

/// Run by the test above, alone in its process: a 1 MiB cap, a 10 MiB body without `Content-Length` (so the
/// client must count as it reads), and VmHWM before and after.
#[test]
#[ignore = "run by a_body_ten_times_the_cap_keeps_peak_memory_under_twice_the_cap in its own process"]
fn peak_memory_probe() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let lists = Arc::new(AtomicUsize::new(0));
        let origin = serve(
            16,
            None,
            Arc::new(move |r: &Req| {
                if r.path() == "/ai-inference/instances" && lists.fetch_add(1, Ordering::SeqCst) > 0 {
                    Reply::Flood { total: 10 * MIB, announce: false }
                } else {
                    Reply::json(serde_json::json!([]))
                }
            }),
        )
        .await;
        let base = format!("http://127.0.0.1:{}", origin.port);
        let p = provider::connect(&account(ProviderKind::Sesterce, GcoreApi::V3, &base, capped(1)), client());
        // A first, small round warms the runtime, the pool and the allocator.
        p.list().await.expect("the first list is empty and fine");
        let before = vm_hwm_kib();
        let err = p.list().await.expect_err("the flood is over the cap").to_string();
        let after = vm_hwm_kib();
        println!(
            "peak-probe: before_kib={before} after_kib={after} grew_kib={} cap_kib=1024",
            after - before
        );
        assert!(err.contains("GET /ai-inference/instances is larger than the 1 MiB limit"), "{err}");
    });
}

fn vm_hwm_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_huge_string_is_kept_cut_with_a_mark() {
    let name = "n".repeat(300 << 10);
    let origin = serve(
        8,
        None,
        Arc::new(move |r: &Req| {
            if r.path() == "/ai-inference/instances" {
                Reply::json(serde_json::json!([{"_id": "i-1", "name": name, "status": "running"}]))
            } else if r.path() == "/ai-inference/instances/i-1" {
                Reply::Plain { status: 500, headers: vec![], body: Vec::new() }
            } else {
                Reply::json(serde_json::json!([]))
            }
        }),
    )
    .await;
    let spec = account(
        ProviderKind::Sesterce,
        GcoreApi::V3,
        &format!("http://127.0.0.1:{}", origin.port),
        Limits { max_string_bytes: 1024, ..Limits::default() },
    );
    let deps = provider::connect(&spec, client()).list().await.unwrap();
    let shown = &deps[0].name;
    assert!(shown.len() <= 1024 && shown.starts_with("nnnn"), "{}", shown.len());
    assert!(shown.ends_with(" bytes]") && infertop::model::text::is_truncated(shown), "{shown}");
}

// ---------------------------------------------------------------------------------------------------------
// Endless lists

fn items_cap(n: usize) -> Limits {
    Limits { max_list_items: n, ..Limits::default() }
}

async fn endless_list_stops(kind: ProviderKind, api: GcoreApi, endpoint: &str) {
    let origin = serve(
        64,
        None,
        Arc::new(|r: &Req| {
            let offset = r.query("offset").unwrap_or(0);
            let path = r.path();
            if path == "/api/v2/token" {
                token_reply()
            } else if path.ends_with("/deployments") {
                // Gcore (v3 and v2): a count never reached.
                let results: Vec<_> =
                    (0..100).map(|i| serde_json::json!({"name": format!("d-{}", offset + i)})).collect();
                Reply::json(serde_json::json!({"count": 1_000_000_000u64, "results": results}))
            } else if path == "/api/v1/workloads" {
                let workloads: Vec<_> = (0..100)
                    .map(|i| serde_json::json!({"id": format!("w-{}", offset + i), "type": "Inference"}))
                    .collect();
                Reply::json(serde_json::json!({"workloads": workloads, "next": offset + 100}))
            } else if path == "/ai-inference/instances" {
                // Sesterce lists are not paged: one array longer than the cap.
                let items: Vec<_> = (0..2000).map(|i| serde_json::json!({"_id": format!("i-{i}")})).collect();
                Reply::json(serde_json::Value::Array(items))
            } else if path.starts_with("/cloud/v1/regions") {
                Reply::json(serde_json::json!({"count": 0, "results": []}))
            } else {
                Reply::json(serde_json::json!([]))
            }
        }),
    )
    .await;
    let spec = account(kind, api, &format!("http://127.0.0.1:{}", origin.port), items_cap(500));
    let err = provider::connect(&spec, client()).list().await.expect_err("the list never ends").to_string();
    assert!(err.contains(&format!("the list at {endpoint} holds more than 500 items")), "{err}");
    assert!(err.contains("max_list_items"), "{err}");
    // It stopped soon after the cap: six pages of a hundred, plus the token or the catalog.
    assert!(origin.hits() <= 10, "{} requests: {:?}", origin.hits(), origin.seen());
}

#[tokio::test]
async fn an_endless_gcore_v3_list_stops_at_the_item_cap() {
    endless_list_stops(ProviderKind::Gcore, GcoreApi::V3, "/cloud/v3/inference/1/deployments").await;
}

#[tokio::test]
async fn an_endless_gcore_v2_list_stops_at_the_item_cap() {
    endless_list_stops(ProviderKind::Gcore, GcoreApi::V2, "/cloud/v2/inference/deployments").await;
}

#[tokio::test]
async fn an_endless_runai_workload_list_stops_at_the_item_cap() {
    endless_list_stops(ProviderKind::Runai, GcoreApi::V3, "/api/v1/workloads").await;
}

#[tokio::test]
async fn a_sesterce_list_longer_than_the_cap_is_refused() {
    endless_list_stops(ProviderKind::Sesterce, GcoreApi::V3, "/ai-inference/instances").await;
}

// ---------------------------------------------------------------------------------------------------------
// Files and config, with the real binary

fn fresh_home(tag: &str) -> common::temp::TempDir {
    let dir = common::temp::TempDir::new("security", tag);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs the binary with `home` as HOME, `home/state` as XDG_STATE_HOME, `home/config` as XDG_CONFIG_HOME.
fn run_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("INFERTOP_CONFIG")
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

#[test]
fn a_real_run_leaves_a_private_state_dir_and_log() {
    let home = fresh_home("fresh");
    let out = run_in(&home, &["snapshot", "--demo", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let state = home.join("state/infertop");
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("infertop.log")), 0o600);
    // Nothing needed tightening on a fresh run.
    let log = std::fs::read_to_string(state.join("infertop.log")).unwrap();
    assert!(!log.contains("tightened"), "{log}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn an_existing_wide_log_and_state_dir_are_tightened_and_the_log_says_so() {
    let home = fresh_home("wide");
    let state = home.join("state/infertop");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(state.join("infertop.log"), "an earlier line\n").unwrap();
    std::fs::set_permissions(state.join("infertop.log"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_in(&home, &["snapshot", "--demo", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("infertop.log")), 0o600);
    let log = std::fs::read_to_string(state.join("infertop.log")).unwrap();
    assert!(log.starts_with("an earlier line\n"), "appended, not replaced: {log}");
    let notes: Vec<&str> = log.lines().filter(|l| l.contains("tightened")).collect();
    assert_eq!(notes.len(), 2, "one line for the directory, one for the log: {log}");
    assert!(notes.iter().any(|l| l.contains("infertop.log from mode 644 to 600")), "{log}");
    assert!(notes.iter().any(|l| l.contains("from mode 755 to 700")), "{log}");
    let _ = std::fs::remove_dir_all(&home);
}

fn sesterce_config(dir: &Path, url: &str, credential: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("[[account]]\nname = \"s\"\nprovider = \"sesterce\"\nbase_url = \"{url}\"\n{credential}\n"),
    )
    .unwrap();
    path
}

/// Refused: exit status 2 (a mistake to fix), a plain message that says what to do, no backtrace, and the
/// command not run.
fn assert_refused(out: &std::process::Output, ran: &Path, advice: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(advice), "expected {advice:?} in: {err}");
    assert!(err.contains("refusing"), "{err}");
    for noise in ["BACKTRACE", "panicked", "Location:", "stack backtrace"] {
        assert!(!err.contains(noise), "{noise} in: {err}");
    }
    assert!(!ran.exists(), "the command ran");
}

#[test]
fn a_config_naming_a_command_must_be_changeable_by_its_owner_only() {
    let sim = start_sim(&[]);
    let home = fresh_home("cmd");
    let dir = home.join("cfg");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ran = home.join("ran");
    let key = format!("api_key_command = \"touch {} && echo demo-sesterce-key\"", ran.display());
    let cfg = sesterce_config(&dir, &sim.url, &key);
    let snapshot = ["snapshot", "--json", "--config", cfg.to_str().unwrap()];

    // Group-writable: refused, with the chmod to run.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o664)).unwrap();
    let out = run_in(&home, &snapshot, &[]);
    assert_refused(&out, &ran, &format!("chmod go-w {}", cfg.display()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("api_key_command"));

    // Writable by others: refused too.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o646)).unwrap();
    assert_refused(&run_in(&home, &snapshot, &[]), &ran, "chmod go-w");

    // Private file in a directory others can write: they could replace it.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused(&run_in(&home, &snapshot, &[]), &ran, &format!("chmod go-w {}", dir.display()));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    // Owned by someone else (only root can hand a file to another user).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&cfg, Some(65534), None).unwrap();
        assert_refused(&run_in(&home, &snapshot, &[]), &ran, "chown");
        std::os::unix::fs::chown(&cfg, Some(0), None).unwrap();
    }

    // The same file, 0644 and the user's own: accepted, and the command runs.
    let out = run_in(&home, &snapshot, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ran.exists(), "the command ran");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_runai_client_secret_command_is_held_to_the_same_rule() {
    let home = fresh_home("runai-cmd");
    let ran = home.join("ran");
    let cfg = home.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[account]]\nname = \"r\"\nprovider = \"runai\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"demo\"\nclient_secret_command = \"touch {}\"\n",
            ran.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o620)).unwrap();
    let out = run_in(&home, &["snapshot", "--config", cfg.to_str().unwrap()], &[]);
    assert_refused(&out, &ran, "client_secret_command");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_config_without_commands_keeps_the_warning_rules() {
    let sim = start_sim(&[]);
    let home = fresh_home("nocmd");
    let snapshot = |cfg: &Path| {
        run_in(
            &home,
            &["snapshot", "--json", "--config", cfg.to_str().unwrap()],
            &[("T_KEY", "demo-sesterce-key")],
        )
    };

    // Credential from the environment, group-writable file: accepted without a word.
    let cfg = sesterce_config(&home, &sim.url, "api_key_env = \"T_KEY\"");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o664)).unwrap();
    let out = snapshot(&cfg);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accounts"][0]["ok"], true, "{v}");

    // An inline credential in a file others can read: accepted, with the warning it always had.
    let cfg = sesterce_config(&home, &sim.url, "api_key = \"demo-sesterce-key\"");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o664)).unwrap();
    let out = snapshot(&cfg);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds a credential and is readable by others (mode 664)"), "{err}");

    // The same, private: no warning.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = snapshot(&cfg);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("warning"));
    let _ = std::fs::remove_dir_all(&home);
}

// ---------------------------------------------------------------------------------------------------------
// Plain http

#[tokio::test]
async fn plain_http_to_a_remote_host_is_warned_about_in_the_status_line() {
    use infertop::config::{is_plain_http_remote, plain_http_accounts};
    let mut accounts = demo_accounts("http://127.0.0.1:1");
    accounts[0].base_url = "http://10.1.2.3:8080".into();
    accounts[2].base_url = "http://api.example.internal/".into();
    let names = plain_http_accounts(&accounts);
    assert_eq!(names, ["gcore-demo", "runai-demo"]);
    for local in ["http://localhost:1", "http://127.0.0.1:1", "http://[::1]:1", "https://api.gcore.com"] {
        assert!(!is_plain_http_remote(local), "{local}");
    }
    // Looks local, is not.
    for remote in ["http://127.evil.example", "http://localhost.example", "http://127.0.0.1@evil.example/"] {
        assert!(is_plain_http_remote(remote), "{remote}");
    }

    let mut fx = common::screen::fixture(160, 30).await;
    let plain = common::screen::render(&fx.state);
    assert!(!plain.contains("plain http"));
    fx.state.plain_http = names;
    let screen = common::screen::render(&fx.state);
    let status = screen.lines().find(|l| l.contains("plain http")).unwrap_or_else(|| panic!("{screen}"));
    assert!(status.contains("⚠ plain http (not encrypted): gcore-demo, runai-demo"), "{status}");
    // The warning comes first, so a narrow terminal still shows it.
    assert!(status.trim_start().starts_with('⚠'), "{status}");
}
