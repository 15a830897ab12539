//! Start-up and shutdown: certificates, tokens, ports, servers, the ready line, the lifetime.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Authoriser;
use crate::certs::{self, CertFiles, LeafOptions};
use crate::cli::{AuthMode, Options, TokenFault};
use crate::conn;
use crate::files;
use crate::random;
use crate::serve::{self, Role};
use crate::state::{self, Position, SimState};
use crate::tls;
use crate::token_file::{LocalTokens, SystemClock};

/// Where `--keep-identity` records the ports, so that a restart binds the same ones.
const PORTS_FILE: &str = "ports.json";

/// How long servers get to finish open calls before the process just exits.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// The credentials a client may need, as printed in the ready line.
struct Tokens {
    local: Option<Arc<LocalTokens>>,
    developer: Option<String>,
    protocol: Option<String>,
}

/// Every listening socket, bound before any server starts so the layout is known up front.
struct Ports {
    manager: (u16, Vec<TcpListener>),
    manager_web: (u16, Vec<TcpListener>),
    basecaller: (u16, Vec<TcpListener>),
    positions: Vec<(u16, Vec<TcpListener>)>,
}

/// Runs the simulator until its lifetime ends, a signal arrives, or (if asked) stdin closes.
pub async fn run(options: Options) -> io::Result<()> {
    let (dir, owned_dir) = prepare_dir(options.dir.as_deref())?;
    let result = serve_in(&options, &dir).await;
    if owned_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn serve_in(options: &Options, dir: &Path) -> io::Result<()> {
    let leaf =
        LeafOptions { name: &options.server_cert_name, expired: options.expired_server_cert };
    let kept = if options.keep_identity { certs::load_kept(dir)? } else { None };
    let reused = kept.is_some();
    let (identity, cert_files) = match kept {
        Some(kept) => kept,
        None => certs::generate(dir, &leaf, options.keep_identity)?,
    };
    let mut client_cas = vec![identity.client_ca.clone()];
    for path in &options.trust_client_ca {
        client_cas.extend(certs::read_pem_certificates(path)?);
    }
    let configs = tls::server_configs(&identity, &client_cas)?;
    let tokens = make_tokens(options, dir)?;

    let ports_file = dir.join(PORTS_FILE);
    let ports = if reused && ports_file.exists() {
        let layout = read_ports(&ports_file, options.positions)?;
        bind_fixed(&options.listen, &layout).await?
    } else {
        bind_all(&options.listen, options.positions).await?
    };
    if options.keep_identity {
        files::write_atomic(&ports_file, ports_json(&ports).to_string().as_bytes(), 0o644)?;
    }
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let state = Arc::new(SimState {
        auth: Authoriser::new(
            options.auth.clone(),
            tokens.developer.clone(),
            tokens.protocol.clone(),
            tokens.local.clone(),
        ),
        positions: layout(options, &ports),
        basecaller_port: ports.basecaller.0,
        token_path: tokens.local.as_ref().map(|t| t.path().clone()),
        hostname: state::hostname(),
        shutdown: shutdown_rx.clone(),
    });

    let ready = ready_line(options, dir, &cert_files, &tokens, &ports, &state.positions);
    let servers = spawn_servers(ports, &configs, &state);
    if let Some(local) = &tokens.local {
        tokio::spawn(rotate_tokens(local.clone(), options.token_fault, shutdown_rx.clone()));
    }
    print_ready(&ready)?;

    wait_for_exit(options).await;
    let _ = shutdown_tx.send(true);
    let drained = async {
        for server in servers {
            let _ = server.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drained).await;
    Ok(())
}

/// The given directory, or a fresh private one that is removed at exit.
fn prepare_dir(dir: Option<&Path>) -> io::Result<(PathBuf, bool)> {
    match dir {
        Some(dir) => {
            if !dir.exists() {
                files::create_private_dir(dir)?;
            }
            Ok((files::absolute(dir)?, false))
        }
        None => Ok((files::absolute(&files::fresh_temp_dir(&random::suffix())?)?, true)),
    }
}

fn make_tokens(options: &Options, dir: &Path) -> io::Result<Tokens> {
    let local = if options.has(AuthMode::LocalToken) {
        let tokens = LocalTokens::create(
            dir.join("local-token.json"),
            Duration::from_secs(options.token_rotate_secs),
            Duration::from_secs(options.token_grace_secs),
            Arc::new(SystemClock),
        )?;
        Some(Arc::new(tokens))
    } else {
        None
    };
    let pick = |mode, given: &Option<String>| {
        options.has(mode).then(|| given.clone().unwrap_or_else(random::token))
    };
    Ok(Tokens {
        local,
        developer: pick(AuthMode::DeveloperToken, &options.developer_token),
        protocol: pick(AuthMode::ProtocolToken, &options.protocol_token),
    })
}

async fn bind_all(hosts: &[IpAddr], positions: u32) -> io::Result<Ports> {
    let mut bound = Vec::new();
    for _ in 0..positions {
        bound.push(conn::bind_same_port(hosts).await?);
    }
    Ok(Ports {
        manager: conn::bind_same_port(hosts).await?,
        manager_web: conn::bind_same_port(hosts).await?,
        basecaller: conn::bind_same_port(hosts).await?,
        positions: bound,
    })
}

/// The ports a kept identity uses: manager, web manager, basecaller, then each position.
fn ports_json(ports: &Ports) -> serde_json::Value {
    let positions: Vec<u16> = ports.positions.iter().map(|(port, _)| *port).collect();
    serde_json::json!({
        "manager": ports.manager.0,
        "manager_web": ports.manager_web.0,
        "basecaller": ports.basecaller.0,
        "positions": positions,
    })
}

/// The port layout saved by an earlier start: manager, web manager, basecaller, positions.
fn read_ports(path: &Path, positions: u32) -> io::Result<Vec<u16>> {
    let bad = |why: &str| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", path.display()))
    };
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path)?).map_err(|e| bad(&e.to_string()))?;
    let port = |v: &serde_json::Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
    let mut layout = Vec::new();
    for key in ["manager", "manager_web", "basecaller"] {
        layout.push(port(&json[key]).ok_or_else(|| bad(&format!("no {key} port")))?);
    }
    let saved = json["positions"].as_array().ok_or_else(|| bad("no positions"))?;
    if saved.len() != positions as usize {
        return Err(bad(&format!(
            "holds {} positions but --positions is {positions}; use a fresh --dir",
            saved.len()
        )));
    }
    for p in saved {
        layout.push(port(p).ok_or_else(|| bad("a position port is not a port"))?);
    }
    Ok(layout)
}

/// Binds the saved layout again (a restart keeps its ports, as MinKNOW's are fixed).
async fn bind_fixed(hosts: &[IpAddr], layout: &[u16]) -> io::Result<Ports> {
    let mut bound = Vec::new();
    for port in layout {
        bound.push((*port, conn::bind_port(hosts, *port).await?));
    }
    let mut bound = bound.into_iter();
    let mut next = || bound.next().expect("read_ports returns three ports and the positions");
    let (manager, manager_web, basecaller) = (next(), next(), next());
    Ok(Ports { manager, manager_web, basecaller, positions: bound.collect() })
}

/// Running positions X1..XN on their ports, then the stopped ones with no port.
fn layout(options: &Options, ports: &Ports) -> Vec<Position> {
    let running = ports.positions.iter().map(|(port, _)| (*port, true));
    let stopped = (0..options.stopped).map(|_| (0, false));
    running
        .chain(stopped)
        .enumerate()
        .map(|(i, (port, running))| Position { name: format!("X{}", i + 1), port, running })
        .collect()
}

fn spawn_servers(
    ports: Ports,
    configs: &tls::ServerConfigs,
    state: &Arc<SimState>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let with_auth = &configs.client_auth;
    let mut servers = vec![
        serve::spawn(Role::Manager, ports.manager.1, with_auth.clone(), state.clone()),
        serve::spawn(
            Role::Manager,
            ports.manager_web.1,
            configs.no_client_auth.clone(),
            state.clone(),
        ),
        serve::spawn(Role::Basecaller, ports.basecaller.1, with_auth.clone(), state.clone()),
    ];
    for (position, (_, listeners)) in state.positions.iter().zip(ports.positions) {
        let role = Role::Position(position.name.clone());
        servers.push(serve::spawn(role, listeners, with_auth.clone(), state.clone()));
    }
    servers
}

fn ready_line(
    options: &Options,
    dir: &Path,
    files: &CertFiles,
    tokens: &Tokens,
    ports: &Ports,
    positions: &[Position],
) -> serde_json::Value {
    let path = |p: &Path| p.display().to_string();
    let positions: Vec<serde_json::Value> = positions
        .iter()
        .map(|p| {
            let state = if p.running { "running" } else { "hardware_removed" };
            serde_json::json!({ "name": p.name, "port": p.port, "state": state })
        })
        .collect();
    serde_json::json!({
        "pid": std::process::id(),
        "dir": path(dir),
        "hosts": options.listen.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        "manager_port": ports.manager.0,
        "manager_web_port": ports.manager_web.0,
        "basecaller_port": ports.basecaller.0,
        "positions": positions,
        "ca": path(&files.ca),
        "client_ca": path(&files.client_ca),
        "client_certificate": path(&files.client_certificate),
        "client_key": path(&files.client_key),
        "token_file": tokens.local.as_ref().map(|t| path(t.path())),
        "developer_token": tokens.developer,
        "protocol_token": tokens.protocol,
        "auth": options.auth.iter().map(|m| m.name()).collect::<Vec<_>>(),
    })
}

fn print_ready(ready: &serde_json::Value) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{ready}")?;
    stdout.flush()
}

async fn rotate_tokens(
    tokens: Arc<LocalTokens>,
    fault: Option<TokenFault>,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = tokens.rotate_every();
    if every.is_zero() {
        return;
    }
    // Ends with the simulator; the lifetime bounds how many rotations happen.
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|down| *down) => return,
        }
        if let Err(e) = rotate_once(&tokens, fault).await {
            eprintln!("minknow-sim: local token rotation failed: {e}");
        }
    }
}

/// One rotation. With a fault, the new token is already accepted while the file is missing or
/// half written, as a rotation that is not atomic leaves it.
async fn rotate_once(tokens: &LocalTokens, fault: Option<TokenFault>) -> io::Result<()> {
    let Some(fault) = fault else {
        return tokens.rotate();
    };
    let (token, issued) = tokens.rotate_ring();
    let ms = match fault {
        TokenFault::Missing { ms } => {
            std::fs::remove_file(tokens.path())?;
            ms
        }
        TokenFault::Half { ms } => {
            tokens.write_half(&token, issued)?;
            ms
        }
    };
    tokio::time::sleep(Duration::from_millis(ms)).await;
    tokens.publish(&token, issued)
}

async fn wait_for_exit(options: &Options) {
    let lifetime = tokio::time::sleep(Duration::from_secs(options.lifetime_secs));
    let stdin_closed = async {
        if options.exit_on_stdin_eof {
            stdin_eof().await
        } else {
            std::future::pending().await
        }
    };
    tokio::select! {
        _ = lifetime => {}
        _ = signal() => {}
        _ = stdin_closed => {}
    }
}

/// Reads and discards stdin until it closes (or fails, which means the same for us).
async fn stdin_eof() {
    use tokio::io::AsyncReadExt;

    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 1024];
    // Bounded by the lifetime, which is raced against this in wait_for_exit.
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

#[cfg(unix)]
async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};

    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn signal() {
    let _ = tokio::signal::ctrl_c().await;
}
