//! Typed helpers for the manager RPCs every caller needs, and the child
//! channels they lead to (positions, the basecaller).

use std::time::Duration;

use bytes::Bytes;
use prost::Message;

use crate::call::{self, Call};
use crate::channel::{Channel, Probe};
use crate::error::{Error, Result, Status};
use crate::schema::{self, methods};

/// How long a manager query may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// MinKNOW's version, from `get_version_info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
    pub full: String,
    pub bream: String,
    pub distribution: String,
}

/// The host, from `describe_host`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInfo {
    pub product_code: String,
    pub description: String,
    pub serial: String,
    pub network_name: String,
}

/// A flow cell position, from `flow_cell_positions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub name: String,
    /// MinKNOW's state number (1 = running); see [`state_name`].
    pub state: i32,
    /// The port of the position's services; `None` unless it is running.
    pub secure_port: Option<u16>,
    pub error_info: String,
    pub is_integrated: bool,
    pub is_simulated: bool,
    pub parent_name: String,
}

/// The state number MinKNOW uses for a running position.
pub const STATE_RUNNING: i32 = 1;

/// A lower-case name for a position state number.
pub fn state_name(state: i32) -> &'static str {
    match state {
        0 => "initialising",
        1 => "running",
        2 => "resetting",
        3 => "hardware_removed",
        4 => "hardware_error",
        5 => "software_error",
        6 => "needs_association",
        7 => "usb_speed_too_low",
        _ => "unknown",
    }
}

async fn query<M: Message + Default>(channel: &Channel, method: &str) -> Result<M> {
    let reply = call::unary(channel, method, Bytes::new(), Some(QUERY_TIMEOUT)).await?;
    decode(reply, channel, method)
}

fn decode<M: Message + Default>(bytes: Bytes, channel: &Channel, method: &str) -> Result<M> {
    M::decode(bytes).map_err(|e| {
        Error::new(
            Status::BadResponse,
            format!("{} {method}: cannot decode reply: {e}", channel.target()),
        )
    })
}

/// The manager's version of MinKNOW.
pub async fn version(channel: &Channel) -> Result<VersionInfo> {
    version_at(channel, methods::MANAGER_VERSION).await
}

/// A position's version (its `InstanceService`).
pub async fn position_version(channel: &Channel) -> Result<VersionInfo> {
    version_at(channel, methods::INSTANCE_VERSION).await
}

async fn version_at(channel: &Channel, method: &str) -> Result<VersionInfo> {
    let reply: schema::GetVersionInfoResponse = query(channel, method).await?;
    let minknow = reply.minknow.unwrap_or_default();
    Ok(VersionInfo {
        major: minknow.major,
        minor: minknow.minor,
        patch: minknow.patch,
        full: minknow.full,
        bream: reply.bream,
        distribution: reply.distribution_version,
    })
}

pub async fn describe_host(channel: &Channel) -> Result<HostInfo> {
    let reply: schema::DescribeHostResponse = query(channel, methods::DESCRIBE_HOST).await?;
    Ok(HostInfo {
        product_code: reply.product_code,
        description: reply.description,
        serial: reply.serial,
        network_name: reply.network_name,
    })
}

/// The basecaller's secure port.
pub async fn basecaller_port(channel: &Channel) -> Result<u16> {
    let reply: schema::BasecallerApiResponse = query(channel, methods::BASECALLER).await?;
    u16::try_from(reply.secure).ok().filter(|&p| p != 0).ok_or_else(|| {
        Error::new(
            Status::NoBasecaller,
            format!("{}: the manager reports no basecaller port", channel.target()),
        )
    })
}

/// Every flow cell position. The manager's stream stays open to report
/// changes, so this reads until it has `total_count` positions and then
/// ends the stream.
pub fn positions(channel: &Channel) -> Result<Vec<Position>> {
    let call = Call::start(channel, methods::POSITIONS, Some(QUERY_TIMEOUT))?;
    call.send(Bytes::new())?;
    call.close_send()?;
    let mut positions = Vec::new();
    loop {
        let Some(bytes) = call.recv()? else { break };
        let page: schema::FlowCellPositionsResponse = decode(bytes, channel, methods::POSITIONS)?;
        positions.extend(page.positions.into_iter().map(position));
        if positions.len() >= usize::try_from(page.total_count).unwrap_or(0) {
            break;
        }
    }
    call.cancel();
    Ok(positions)
}

fn position(p: schema::FlowCellPosition) -> Position {
    let secure = p.rpc_ports.map(|ports| ports.secure).unwrap_or(0);
    Position {
        name: p.name,
        state: p.state,
        secure_port: u16::try_from(secure).ok().filter(|&port| port != 0),
        error_info: p.error_info,
        is_integrated: p.is_integrated,
        is_simulated: p.is_simulated,
        parent_name: p.parent_name,
    }
}

/// A channel to the position called `name`, with the manager's credentials.
pub async fn open_position(
    channel: &Channel,
    positions: &[Position],
    name: &str,
) -> Result<Channel> {
    let Some(position) = positions.iter().find(|p| p.name == name) else {
        let known: Vec<&str> = positions.iter().map(|p| p.name.as_str()).collect();
        return Err(Error::new(
            Status::PositionNotFound,
            format!(
                "{}: no position named {name:?} (positions: {})",
                channel.target(),
                known.join(", ")
            ),
        ));
    };
    match position.secure_port {
        Some(port) => channel.child(port, Probe::Position).await,
        None => Err(Error::new(
            Status::PositionNotRunning,
            format!(
                "{}: position {name} is {} and has no port{}",
                channel.target(),
                state_name(position.state),
                if position.error_info.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", position.error_info)
                }
            ),
        )),
    }
}

/// A channel to the basecaller, with the manager's credentials.
pub async fn open_basecaller(channel: &Channel) -> Result<Channel> {
    let port = basecaller_port(channel).await?;
    channel.child(port, Probe::None).await
}
