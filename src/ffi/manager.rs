//! Typed manager queries: version, host, positions, basecaller port.

use std::ffi::{c_char, CString};

use super::boundary::{c_string, out, run, run_infallible};
use super::channel::{channel_arg, minknow_channel};
use super::error::minknow_error;
use crate::error::{Result, Status};
use crate::manager::{self, HostInfo, Position, VersionInfo};
use crate::runtime;

/// MinKNOW's version. Immutable; owned by the caller; free with
/// `minknow_version_info_free`.
pub struct minknow_version_info {
    info: VersionInfo,
    full: CString,
    bream: CString,
    distribution: CString,
}

/// What the manager says about its host. Immutable; owned by the caller;
/// free with `minknow_host_info_free`.
pub struct minknow_host_info {
    product_code: CString,
    description: CString,
    serial: CString,
    network_name: CString,
}

/// A snapshot of the flow cell positions. Immutable; owned by the caller;
/// free with `minknow_positions_free`.
pub struct minknow_positions {
    positions: Vec<Position>,
    names: Vec<CString>,
    states: Vec<CString>,
    errors: Vec<CString>,
    parents: Vec<CString>,
}

fn version_into(
    channel: *const minknow_channel,
    out_info: *mut *mut minknow_version_info,
    position: bool,
) -> Result<()> {
    let channel = channel_arg(channel, "channel")?;
    let slot = out(out_info, "out_info")?;
    let info = if position {
        runtime::block_on(manager::position_version(channel))??
    } else {
        runtime::block_on(manager::version(channel))??
    };
    let full = c_string(&info.full);
    let bream = c_string(&info.bream);
    let distribution = c_string(&info.distribution);
    *slot = Box::into_raw(Box::new(minknow_version_info { info, full, bream, distribution }));
    Ok(())
}

/// Ask the manager for its MinKNOW version. On success `*out_info` owns
/// the result. Blocks up to 30 s. Errors: NULL_ARGUMENT, FORKED_HANDLE,
/// UNAUTHENTICATED, UNAVAILABLE, DEADLINE_EXCEEDED, RPC_FAILED, BAD_RESPONSE.
#[no_mangle]
pub extern "C" fn minknow_manager_version(
    channel: *const minknow_channel,
    out_info: *mut *mut minknow_version_info,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || version_into(channel, out_info, false))
}

/// Ask a position channel (from `minknow_channel_open_position`) for its
/// version, through `minknow_api.instance.InstanceService/get_version_info`.
/// As `minknow_manager_version` otherwise.
#[no_mangle]
pub extern "C" fn minknow_position_version(
    channel: *const minknow_channel,
    out_info: *mut *mut minknow_version_info,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || version_into(channel, out_info, true))
}

fn info<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: NULL or a live object of this type.
    unsafe { ptr.as_ref() }
}

fn borrowed(s: Option<&CString>) -> *const c_char {
    s.map_or(c"".as_ptr(), |s| s.as_ptr())
}

/// Major version; 0 if `info` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_version_info_major(info_: *const minknow_version_info) -> i32 {
    run_infallible(0, || info(info_).map_or(0, |i| i.info.major))
}

/// Minor version; 0 if `info` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_version_info_minor(info_: *const minknow_version_info) -> i32 {
    run_infallible(0, || info(info_).map_or(0, |i| i.info.minor))
}

/// Patch version; 0 if `info` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_version_info_patch(info_: *const minknow_version_info) -> i32 {
    run_infallible(0, || info(info_).map_or(0, |i| i.info.patch))
}

/// The full version string (e.g. "6.3.7"), borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_version_info_full(info_: *const minknow_version_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.full)))
}

/// The Bream version, borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_version_info_bream(info_: *const minknow_version_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.bream)))
}

/// The distribution version, borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_version_info_distribution(
    info_: *const minknow_version_info,
) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.distribution)))
}

/// Free a version object. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_version_info_free(info_: *mut minknow_version_info) {
    if !info_.is_null() {
        // SAFETY: the pointer came from Box::into_raw and is freed once.
        run_infallible((), || drop(unsafe { Box::from_raw(info_) }));
    }
}

/// Ask the manager to describe its host. On success `*out_info` owns the
/// result. Blocks up to 30 s. Errors: as `minknow_manager_version`.
#[no_mangle]
pub extern "C" fn minknow_manager_describe_host(
    channel: *const minknow_channel,
    out_info: *mut *mut minknow_host_info,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let channel = channel_arg(channel, "channel")?;
        let slot = out(out_info, "out_info")?;
        let HostInfo { product_code, description, serial, network_name } =
            runtime::block_on(manager::describe_host(channel))??;
        *slot = Box::into_raw(Box::new(minknow_host_info {
            product_code: c_string(&product_code),
            description: c_string(&description),
            serial: c_string(&serial),
            network_name: c_string(&network_name),
        }));
        Ok(())
    })
}

/// The product code (e.g. "GRD-SIM"), borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_host_info_product_code(info_: *const minknow_host_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.product_code)))
}

/// The host's description, borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_host_info_description(info_: *const minknow_host_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.description)))
}

/// The host's serial, borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_host_info_serial(info_: *const minknow_host_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.serial)))
}

/// The host's network name, borrowed from `info`; "" if NULL.
#[no_mangle]
pub extern "C" fn minknow_host_info_network_name(info_: *const minknow_host_info) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(info(info_).map(|i| &i.network_name)))
}

/// Free a host object. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_host_info_free(info_: *mut minknow_host_info) {
    if !info_.is_null() {
        // SAFETY: the pointer came from Box::into_raw and is freed once.
        run_infallible((), || drop(unsafe { Box::from_raw(info_) }));
    }
}

/// List the flow cell positions (running or not). On success
/// `*out_positions` owns the snapshot. Blocks up to 30 s. Errors: as
/// `minknow_manager_version`.
#[no_mangle]
pub extern "C" fn minknow_manager_positions(
    channel: *const minknow_channel,
    out_positions: *mut *mut minknow_positions,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let channel = channel_arg(channel, "channel")?;
        let slot = out(out_positions, "out_positions")?;
        let positions = manager::positions(channel)?;
        let strings = |f: fn(&Position) -> &str| positions.iter().map(|p| c_string(f(p))).collect();
        let names = strings(|p| &p.name);
        let states = strings(|p| manager::state_name(p.state));
        let errors = strings(|p| &p.error_info);
        let parents = strings(|p| &p.parent_name);
        *slot = Box::into_raw(Box::new(minknow_positions {
            positions,
            names,
            states,
            errors,
            parents,
        }));
        Ok(())
    })
}

fn at<'a>(
    list: *const minknow_positions,
    index: usize,
) -> Option<(&'a minknow_positions, &'a Position)> {
    let list = info(list)?;
    list.positions.get(index).map(|p| (list, p))
}

/// How many positions the snapshot holds; 0 if `positions` is NULL.
#[no_mangle]
pub extern "C" fn minknow_positions_count(positions: *const minknow_positions) -> usize {
    run_infallible(0, || info(positions).map_or(0, |l| l.positions.len()))
}

/// The name of position `index`, borrowed from the snapshot; "" when
/// `positions` is NULL or `index` is out of range. Likewise below.
#[no_mangle]
pub extern "C" fn minknow_positions_name(
    positions: *const minknow_positions,
    index: usize,
) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(at(positions, index).map(|(l, _)| &l.names[index])))
}

/// MinKNOW's state number of position `index` (0 initialising, 1 running,
/// 2 resetting, 3 hardware removed, 4 hardware error, 5 software error,
/// 6 needs association, 7 USB speed too low); -1 when out of range.
#[no_mangle]
pub extern "C" fn minknow_positions_state(
    positions: *const minknow_positions,
    index: usize,
) -> i32 {
    run_infallible(-1, || at(positions, index).map_or(-1, |(_, p)| p.state))
}

/// The state as a lower-case name ("running", "hardware_removed", ...).
#[no_mangle]
pub extern "C" fn minknow_positions_state_name(
    positions: *const minknow_positions,
    index: usize,
) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(at(positions, index).map(|(l, _)| &l.states[index])))
}

/// The secure gRPC port of position `index`; 0 when it is not running or
/// out of range.
#[no_mangle]
pub extern "C" fn minknow_positions_secure_port(
    positions: *const minknow_positions,
    index: usize,
) -> u16 {
    run_infallible(0, || at(positions, index).and_then(|(_, p)| p.secure_port).unwrap_or(0))
}

/// The error text MinKNOW reports for position `index` ("" when none).
#[no_mangle]
pub extern "C" fn minknow_positions_error_info(
    positions: *const minknow_positions,
    index: usize,
) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(at(positions, index).map(|(l, _)| &l.errors[index])))
}

/// Whether position `index` is simulated; false when out of range.
#[no_mangle]
pub extern "C" fn minknow_positions_is_simulated(
    positions: *const minknow_positions,
    index: usize,
) -> bool {
    run_infallible(false, || at(positions, index).is_some_and(|(_, p)| p.is_simulated))
}

/// Whether position `index` is integrated in the device; false when out of
/// range.
#[no_mangle]
pub extern "C" fn minknow_positions_is_integrated(
    positions: *const minknow_positions,
    index: usize,
) -> bool {
    run_infallible(false, || at(positions, index).is_some_and(|(_, p)| p.is_integrated))
}

/// The parent position's name ("" when none).
#[no_mangle]
pub extern "C" fn minknow_positions_parent_name(
    positions: *const minknow_positions,
    index: usize,
) -> *const c_char {
    run_infallible(c"".as_ptr(), || borrowed(at(positions, index).map(|(l, _)| &l.parents[index])))
}

/// Free a positions snapshot. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_positions_free(positions: *mut minknow_positions) {
    if !positions.is_null() {
        // SAFETY: the pointer came from Box::into_raw and is freed once.
        run_infallible((), || drop(unsafe { Box::from_raw(positions) }));
    }
}

/// Ask the manager for the basecaller's secure port. On success
/// `*out_port` holds it (0 on failure). Blocks up to 30 s. Errors: as
/// `minknow_manager_version`, and NO_BASECALLER.
#[no_mangle]
pub extern "C" fn minknow_manager_basecaller_port(
    channel: *const minknow_channel,
    out_port: *mut u16,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        // SAFETY: NULL or a writable u16.
        let slot = unsafe { out_port.as_mut() }.ok_or_else(|| super::boundary::null("out_port"))?;
        *slot = 0;
        let channel = channel_arg(channel, "channel")?;
        *slot = runtime::block_on(manager::basecaller_port(channel))??;
        Ok(())
    })
}
