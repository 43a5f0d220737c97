//! Compressed responses (cargo features `gzip`, `br`, `zstd`): `Accept-Encoding` on requests,
//! and bodies decoded chunk by chunk as they arrive.
//!
//! The decoded body comes out in chunks of at most [`CHUNK`] bytes, and nothing is decoded
//! ahead of the reader: the client's limits (response size, SSE event size) count decoded
//! bytes and stop reading when they pass, so a small body that inflates to gigabytes costs no
//! more memory than the limit.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use chat_core::{TransportError, TransportErrorKind};
use futures_core::Stream;
use http::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH};
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

/// The most decoded bytes yielded at once.
pub(crate) const CHUNK: usize = 16 * 1024;

/// The `Accept-Encoding` value listing the encodings this build decodes.
const ACCEPTED: &str = {
    #[cfg(all(feature = "gzip", feature = "br", feature = "zstd"))]
    let v = "gzip, br, zstd";
    #[cfg(all(feature = "gzip", feature = "br", not(feature = "zstd")))]
    let v = "gzip, br";
    #[cfg(all(feature = "gzip", not(feature = "br"), feature = "zstd"))]
    let v = "gzip, zstd";
    #[cfg(all(feature = "gzip", not(feature = "br"), not(feature = "zstd")))]
    let v = "gzip";
    #[cfg(all(not(feature = "gzip"), feature = "br", feature = "zstd"))]
    let v = "br, zstd";
    #[cfg(all(not(feature = "gzip"), feature = "br", not(feature = "zstd")))]
    let v = "br";
    #[cfg(all(not(feature = "gzip"), not(feature = "br"), feature = "zstd"))]
    let v = "zstd";
    #[cfg(not(any(feature = "gzip", feature = "br", feature = "zstd")))]
    let v = "";
    v
};

/// Asks for the enabled encodings, unless the request already says what it accepts.
pub(crate) fn accept(headers: &mut http::HeaderMap) {
    if !ACCEPTED.is_empty() {
        headers
            .entry(ACCEPT_ENCODING)
            .or_insert(HeaderValue::from_static(ACCEPTED));
    }
}

/// An encoding this build decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    #[cfg(feature = "gzip")]
    Gzip,
    #[cfg(feature = "br")]
    Brotli,
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Encoding {
    fn parse(value: &HeaderValue) -> Option<Encoding> {
        let value = value.to_str().ok()?.trim();
        #[cfg(feature = "gzip")]
        if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            return Some(Encoding::Gzip);
        }
        #[cfg(feature = "br")]
        if value.eq_ignore_ascii_case("br") {
            return Some(Encoding::Brotli);
        }
        #[cfg(feature = "zstd")]
        if value.eq_ignore_ascii_case("zstd") {
            return Some(Encoding::Zstd);
        }
        let _ = value;
        None
    }

    fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "gzip")]
            Encoding::Gzip => "gzip",
            #[cfg(feature = "br")]
            Encoding::Brotli => "br",
            #[cfg(feature = "zstd")]
            Encoding::Zstd => "zstd",
        }
    }
}

/// When the response is in an encoding this build decodes: removes `Content-Encoding` and
/// `Content-Length` (which describe the encoded bytes) and returns the decoding body.
///
/// Anything else (no encoding, `identity`, several encodings, one not enabled) is left as is.
/// An empty body is not decoded, but loses the headers all the same.
pub(crate) fn decode<S>(headers: &mut http::HeaderMap, body: S) -> Result<Decoded, S>
where
    S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
{
    let mut values = headers.get_all(CONTENT_ENCODING).iter();
    let encoding = match (values.next(), values.next()) {
        (Some(value), None) => Encoding::parse(value),
        _ => None,
    };
    let Some(encoding) = encoding else {
        return Err(body);
    };
    headers.remove(CONTENT_ENCODING);
    headers.remove(CONTENT_LENGTH);
    let reader = StreamReader {
        stream: Box::pin(body),
        chunk: Bytes::new(),
        done: false,
    };
    let reader: Pin<Box<dyn AsyncRead + Send>> = match encoding {
        #[cfg(feature = "gzip")]
        Encoding::Gzip => {
            let mut d = async_compression::tokio::bufread::GzipDecoder::new(reader);
            d.multiple_members(true);
            Box::pin(d)
        }
        #[cfg(feature = "br")]
        Encoding::Brotli => Box::pin(async_compression::tokio::bufread::BrotliDecoder::new(
            reader,
        )),
        #[cfg(feature = "zstd")]
        Encoding::Zstd => {
            Box::pin(async_compression::tokio::bufread::ZstdDecoder::new_for_http(reader))
        }
    };
    Ok(Decoded {
        reader: Some(reader),
        buf: vec![0; CHUNK].into_boxed_slice(),
        encoding,
    })
}

type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// The encoded body as an `AsyncBufRead` for the decoders; a transport error travels inside
/// an `io::Error` and comes out unchanged.
struct StreamReader {
    stream: BodyStream,
    chunk: Bytes,
    done: bool,
}

impl AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() && !this.done {
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.chunk = chunk,
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Err(io::Error::other(e)));
                }
                None => this.done = true,
            }
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().chunk.advance(amt);
    }
}

/// A decoded response body.
pub(crate) struct Decoded {
    reader: Option<Pin<Box<dyn AsyncRead + Send>>>,
    buf: Box<[u8]>,
    encoding: Encoding,
}

impl Stream for Decoded {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(reader) = this.reader.as_mut() else {
            return Poll::Ready(None);
        };
        let mut out = ReadBuf::new(&mut this.buf);
        let result = ready!(reader.as_mut().poll_read(cx, &mut out));
        match result {
            Ok(()) if out.filled().is_empty() => {
                this.reader = None;
                Poll::Ready(None)
            }
            Ok(()) => Poll::Ready(Some(Ok(Bytes::copy_from_slice(out.filled())))),
            Err(e) => {
                this.reader = None;
                Poll::Ready(Some(Err(error(e, this.encoding))))
            }
        }
    }
}

/// The transport error that broke the encoded body off, or a typed error for data the
/// decoder rejects.
fn error(e: io::Error, encoding: Encoding) -> TransportError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<TransportError>())
    {
        if let Some(Ok(inner)) = e.into_inner().map(|i| i.downcast::<TransportError>()) {
            return *inner;
        }
        return TransportError::io("the response body broke off");
    }
    TransportError::new(
        TransportErrorKind::Other,
        format!(
            "the {} response body cannot be decoded: {e}",
            encoding.name()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_lists_exactly_the_enabled_encodings() {
        let enabled: Vec<&str> = [
            ("gzip", cfg!(feature = "gzip")),
            ("br", cfg!(feature = "br")),
            ("zstd", cfg!(feature = "zstd")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let mut headers = http::HeaderMap::new();
        accept(&mut headers);
        assert_eq!(headers[ACCEPT_ENCODING], enabled.join(", ").as_str());
        for name in enabled {
            let value = HeaderValue::from_static(name);
            assert_eq!(Encoding::parse(&value).map(Encoding::name), Some(name));
        }
        assert_eq!(Encoding::parse(&HeaderValue::from_static("identity")), None);
    }
}
