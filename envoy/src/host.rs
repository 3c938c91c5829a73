//! The proxy-wasm host calls the filter makes on the request path, as bytes and without panics.
//!
//! The SDK's trait methods (`get_http_request_header`, `get_http_call_response_body`, ...)
//! unwrap: a header value that is not UTF-8, or a status the SDK did not expect, panics, and a
//! panic traps the whole VM (every request on that worker then fails, or with `FAIL_OPEN`
//! skips authentication). These wrappers call the ABI directly, return raw bytes, and turn
//! every unexpected status into `None`/`false`. The only `unsafe` code of the project is here:
//! the same ownership hand-over the SDK itself does (the host allocates through the module's
//! exported `proxy_on_memory_allocate`; the module takes the buffer over).
#![allow(unsafe_code)]

use std::ptr::null_mut;
use std::time::UNIX_EPOCH;

use proxy_wasm::types::{BufferType, MapType, MetricType, Status, StreamType};

/// The host's clock, in milliseconds since the epoch; 0 if the host cannot tell (the SDK's
/// `Context::get_current_time` unwraps instead). The one clock of the filter and the root.
pub(crate) fn now_ms() -> u64 {
    proxy_wasm::hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

/// [`now_ms`] in seconds.
pub(crate) fn now() -> u64 {
    now_ms() / 1000
}

extern "C" {
    fn proxy_set_effective_context(context_id: u32) -> Status;
    fn proxy_continue_stream(stream_type: StreamType) -> Status;
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
    fn proxy_get_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_replace_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_remove_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
    ) -> Status;
    fn proxy_get_buffer_bytes(
        buffer_type: BufferType,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> Status;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_define_metric(
        metric_type: MetricType,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> Status;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> Status;
    fn proxy_record_metric(metric_id: u32, value: u64) -> Status;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> Status;
}

/// Takes over a buffer the host allocated in this module's memory.
///
/// # Safety
/// `data` is null or was returned by the host with `size` bytes, allocated through
/// `proxy_on_memory_allocate` (a `Vec<u8>` of that capacity).
unsafe fn take(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() || size == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(data, size, size)
}

/// Every `(name, value)` pair of a header map, in order, repeated names included.
pub fn header_pairs(map: MapType) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: the out-pointers are valid; on Ok the host hands over `size` bytes.
    let bytes = unsafe {
        match proxy_get_header_map_pairs(map, &mut data, &mut size) {
            Status::Ok => take(data, size),
            _ => return Vec::new(),
        }
    };
    parse_pairs(&bytes).unwrap_or_default()
}

/// One header's value (`None` when absent), for names that cannot repeat (`:path`, `:method`).
pub fn header_value(map: MapType, name: &str) -> Option<Vec<u8>> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: the name outlives the call; on Ok the host hands over `size` bytes (or null).
    unsafe {
        match proxy_get_header_map_value(map, name.as_ptr(), name.len(), &mut data, &mut size) {
            Status::Ok if !data.is_null() => Some(take(data, size)),
            _ => None,
        }
    }
}

/// Parses the ABI's serialized map: a `u32` count, `count` pairs of `u32` sizes, then each
/// name and value followed by a NUL. `None` if the host sent anything else.
pub fn parse_pairs(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let u32_at = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = u32_at(0)?;
    let mut sizes_at = 4usize;
    let mut data_at = count.checked_mul(8)?.checked_add(4)?;
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let key_len = u32_at(sizes_at)?;
        let value_len = u32_at(sizes_at + 4)?;
        sizes_at += 8;
        let mut field = |len: usize| -> Option<Vec<u8>> {
            let end = data_at.checked_add(len)?;
            let text = bytes.get(data_at..end)?.to_vec();
            if bytes.get(end) != Some(&0) {
                return None;
            }
            data_at = end + 1;
            Some(text)
        };
        let key = field(key_len)?;
        let value = field(value_len)?;
        out.push((key, value));
    }
    Some(out)
}

/// Serializes pairs the way the ABI expects them (for a local response's headers).
pub fn serialize_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Sets a request header, replacing every value it had. `false` if the host refused.
pub fn set_request_header(name: &str, value: &[u8]) -> bool {
    // SAFETY: both slices outlive the call; the host copies them.
    unsafe {
        proxy_replace_header_map_value(
            MapType::HttpRequestHeaders,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        ) == Status::Ok
    }
}

/// Removes every value of a request header (names compare case-insensitively in Envoy).
pub fn remove_request_header(name: &[u8]) -> bool {
    // SAFETY: the slice outlives the call.
    unsafe {
        proxy_remove_header_map_value(MapType::HttpRequestHeaders, name.as_ptr(), name.len())
            == Status::Ok
    }
}

/// Up to `max` bytes of a buffer (an HTTP call's response body). The caller checks the size
/// the host announced against its own limit before asking.
pub fn buffer(kind: BufferType, max: usize) -> Option<Vec<u8>> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: the out-pointers are valid; on Ok the host hands over `size` bytes.
    unsafe {
        match proxy_get_buffer_bytes(kind, 0, max, &mut data, &mut size) {
            Status::Ok => Some(take(data, size)),
            _ => None,
        }
    }
}

/// A property (`["connection", "sha256_peer_certificate_digest"]`) as bytes.
pub fn property(path: &[&str]) -> Option<Vec<u8>> {
    let mut serialized = Vec::new();
    for part in path {
        serialized.extend_from_slice(part.as_bytes());
        serialized.push(0);
    }
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: the path outlives the call; on Ok the host hands over `size` bytes.
    unsafe {
        match proxy_get_property(serialized.as_ptr(), serialized.len(), &mut data, &mut size) {
            Status::Ok if !data.is_null() => Some(take(data, size)),
            _ => None,
        }
    }
}

/// Makes the following host calls act on stream `context_id` (from the root context, which
/// answers a held request). `false` when the stream is gone (the client left meanwhile).
pub fn set_effective_context(context_id: u32) -> bool {
    // SAFETY: no pointers are passed.
    unsafe { proxy_set_effective_context(context_id) == Status::Ok }
}

/// Lets a paused request go on to the upstream. `false` if the host refused.
pub fn resume_request() -> bool {
    // SAFETY: no pointers are passed.
    unsafe { proxy_continue_stream(StreamType::HttpRequest) == Status::Ok }
}

/// Sends a local response and stops the request. `false` if the host refused (the caller
/// then must not continue the request either).
pub fn send_response(
    status: u32,
    headers: &[(&str, &str)],
    body: &[u8],
    grpc_status: Option<u32>,
) -> bool {
    let headers = serialize_pairs(headers);
    let details = b"tokengate";
    // -1: no gRPC status (Envoy derives one from the HTTP status for a gRPC request).
    let grpc_status = grpc_status
        .and_then(|g| i32::try_from(g).ok())
        .unwrap_or(-1);
    // SAFETY: every slice outlives the call; the host copies them.
    unsafe {
        proxy_send_local_response(
            status,
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            headers.as_ptr(),
            headers.len(),
            grpc_status,
        ) == Status::Ok
    }
}

/// Defines a counter or gauge (idempotent in Envoy: the same name gives the same metric).
pub fn define_metric(kind: MetricType, name: &str) -> Option<u32> {
    let mut id = 0u32;
    // SAFETY: the name outlives the call; `id` is a valid out-pointer.
    unsafe {
        (proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) == Status::Ok).then_some(id)
    }
}

/// Adds to a counter; a failure is ignored (metrics are best effort).
pub fn increment_metric(id: u32, by: i64) {
    // SAFETY: plain values.
    let _ = unsafe { proxy_increment_metric(id, by) };
}

/// Sets a gauge; a failure is ignored (metrics are best effort).
pub fn record_metric(id: u32, value: u64) {
    // SAFETY: plain values.
    let _ = unsafe { proxy_record_metric(id, value) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_and_hostile_maps_fail_softly() {
        let bytes = serialize_pairs(&[("a", "1"), ("authorization", "Bearer x")]);
        let pairs = parse_pairs(&bytes).unwrap();
        assert_eq!(pairs[1], (b"authorization".to_vec(), b"Bearer x".to_vec()));
        for cut in 0..bytes.len() {
            assert!(parse_pairs(&bytes[..cut]).is_none(), "{cut}");
        }
        assert!(parse_pairs(&[0xff, 0xff, 0xff, 0xff]).is_none());
        let mut huge = bytes.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_pairs(&huge).is_none());
    }
}
