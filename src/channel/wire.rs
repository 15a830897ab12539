//! The bytes on the wire: a pass-through codec and one unary exchange.
//! Used by the channel to bootstrap (token path, first call) and by the
//! call layer for everything callers send.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;

/// The largest message sent or received, as the reference client sets it.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// A codec that hands message bytes through untouched: callers encode and
/// decode protobuf themselves, so the library needs no schema.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        // Splits the frame off the receive buffer without copying it.
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// A gRPC client over `channel` with the message limits applied.
pub fn client(
    channel: tonic::transport::Channel,
) -> tonic::client::Grpc<tonic::transport::Channel> {
    tonic::client::Grpc::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// Check that `method` looks like `/package.Service/method`.
pub fn method_path(method: &str) -> Result<PathAndQuery, String> {
    let rest = method.strip_prefix('/').ok_or("a method path starts with '/'")?;
    let (service, name) = rest.split_once('/').ok_or("a method path is /package.Service/method")?;
    let ok = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._".contains(&b))
    };
    if !ok(service) || !ok(name) || !service.contains('.') {
        return Err("a method path is /package.Service/method (letters, digits, '.', '_')".into());
    }
    PathAndQuery::try_from(method).map_err(|e| e.to_string())
}

/// One unary exchange: `metadata` is added to the request; `timeout`
/// bounds the whole exchange and is sent to the server as `grpc-timeout`.
pub async fn unary(
    channel: tonic::transport::Channel,
    path: PathAndQuery,
    body: Bytes,
    metadata: MetadataMap,
    timeout: Option<Duration>,
) -> Result<Bytes, tonic::Status> {
    let mut grpc = client(channel);
    let mut request = tonic::Request::new(tokio_stream::once(body));
    *request.metadata_mut() = metadata;
    if let Some(t) = timeout {
        request.set_timeout(t);
    }
    let exchange = async {
        grpc.ready().await.map_err(|e| tonic::Status::from_error(e.into()))?;
        let mut replies = grpc.streaming(request, path, RawCodec).await?.into_inner();
        only_reply(&mut replies).await
    };
    match timeout {
        None => exchange.await,
        Some(t) => tokio::time::timeout(t, exchange).await.unwrap_or_else(|_| {
            Err(tonic::Status::deadline_exceeded(format!("no reply within {t:?}")))
        }),
    }
}

/// The one reply of a unary call. tonic's own unary path drops any further
/// messages; a second one means the method streams (or the server is
/// broken), so say so, as gRPC C-core and grpc-go do, with INTERNAL.
async fn only_reply(replies: &mut tonic::codec::Streaming<Bytes>) -> Result<Bytes, tonic::Status> {
    let Some(reply) = replies.message().await? else {
        return Err(tonic::Status::internal("the server ended the call without a reply"));
    };
    if replies.message().await?.is_some() {
        return Err(tonic::Status::internal(
            "the server sent more than one reply to a unary call (a streaming method?)",
        ));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_paths() {
        assert!(method_path("/minknow_api.manager.ManagerService/get_version_info").is_ok());
        for bad in ["", "/", "get_version_info", "/Service/method", "/a.B/", "/a.B/c/d", "/a.B/c d"]
        {
            assert!(method_path(bad).is_err(), "{bad:?}");
        }
    }
}
