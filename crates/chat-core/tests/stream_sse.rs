//! The SSE decoder: each parsing rule of the WHATWG event-stream format, chunk boundaries,
//! UTF-8 and size limits, and the raw `SseStream`.

mod stream_util;

use std::time::Duration;

use chat_core::{ErrorKind, SseDecoder, SseEvent, SseStream, StreamConfig, StreamError};
use stream_util::{body_of, meta, Chunks};

/// Decodes `chunks` in order; panics on an error.
fn decode(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new(1 << 20);
    let mut events = Vec::new();
    for chunk in chunks {
        for event in decoder.decode(chunk.to_vec()) {
            events.push(event.unwrap());
        }
    }
    events
}

fn datas(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(SseEvent::data).collect()
}

/// Decodes `input` whole, split at every offset, and byte by byte; all must agree.
fn decode_any_split(input: &[u8]) -> Vec<SseEvent> {
    let whole = decode(&[input]);
    for at in 0..=input.len() {
        assert_eq!(
            decode(&[&input[..at], &input[at..]]),
            whole,
            "split at {at}"
        );
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(decode(&bytes), whole, "byte by byte");
    whole
}

#[test]
fn lf_cr_and_crlf_end_lines() {
    let events = decode_any_split(b"data: lf\n\ndata: cr\r\rdata: crlf\r\n\r\ndata: mixed\r\n\n");
    assert_eq!(datas(&events), ["lf", "cr", "crlf", "mixed"]);
}

#[test]
fn cr_then_lf_across_chunks_is_one_line_end() {
    // Were the LF a second line end, it would be a blank line dispatching "a" alone.
    let events = decode(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(datas(&events), ["a\nb"]);
    // A CR that ends a chunk followed by something else is still a line end.
    let events = decode(&[b"data: a\r", b"\r"]);
    assert_eq!(datas(&events), ["a"]);
}

#[test]
fn comments_and_keep_alives_are_ignored() {
    let events = decode_any_split(b": keep-alive\n\n:\n\ndata: x\n: inside an event\ndata: y\n\n");
    assert_eq!(datas(&events), ["x\ny"]);
}

#[test]
fn data_lines_join_with_newline() {
    let events = decode_any_split(b"data: one\ndata: two\ndata:\ndata: three\n\n");
    assert_eq!(datas(&events), ["one\ntwo\n\nthree"]);
}

#[test]
fn empty_data_still_dispatches() {
    let events = decode_any_split(b"data:\n\ndata\n\n");
    assert_eq!(datas(&events), ["", ""]);
}

#[test]
fn one_leading_space_is_stripped() {
    let events = decode_any_split(b"data:no space\n\ndata:  two spaces\n\ndata:\tTab\n\n");
    assert_eq!(datas(&events), ["no space", " two spaces", "\tTab"]);
}

#[test]
fn only_the_first_colon_separates() {
    let events = decode_any_split(b"data: a: b:c\n\n");
    assert_eq!(datas(&events), ["a: b:c"]);
}

#[test]
fn field_without_colon_has_an_empty_value() {
    // `data` alone adds an empty line; `event` alone resets the type; unknown names are ignored.
    let events = decode_any_split(b"event: x\nevent\ndata: a\ndata\nfoo\n\n");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data(), "a\n");
    assert_eq!(events[0].event(), "message");
}

#[test]
fn event_names_the_event_and_resets_after_dispatch() {
    let events =
        decode_any_split(b"event: delta\ndata: 1\n\ndata: 2\n\nevent: e\nevent: last\ndata: 3\n\n");
    let names: Vec<&str> = events.iter().map(SseEvent::event).collect();
    assert_eq!(names, ["delta", "message", "last"]);
}

#[test]
fn a_block_without_data_dispatches_nothing_and_resets_the_type() {
    let events = decode_any_split(b"event: ping\n\n\n\ndata: after\n\n");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event(), "message");
    assert_eq!(events[0].data(), "after");
}

#[test]
fn unknown_fields_are_ignored() {
    let events = decode_any_split(b"foo: bar\nDATA: upper\ndata: ok\n\n");
    assert_eq!(datas(&events), ["ok"]);
}

#[test]
fn id_persists_and_nul_ids_are_ignored() {
    let mut decoder = SseDecoder::new(1024);
    let input = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n";
    let events: Vec<SseEvent> = decoder.decode(&input[..]).map(Result::unwrap).collect();
    let ids: Vec<Option<&str>> = events.iter().map(SseEvent::id).collect();
    assert_eq!(ids, [Some("1"), Some("1"), Some("1"), None]);
    assert_eq!(decoder.last_event_id(), None);
    decoder.decode(&b"id: 9\n\n"[..]).for_each(drop);
    assert_eq!(decoder.last_event_id(), Some("9"));
}

#[test]
fn retry_takes_only_ascii_digits() {
    let mut decoder = SseDecoder::new(1024);
    assert_eq!(decoder.retry(), None);
    assert!(decoder.decode(&b"retry: 1500\n\n"[..]).next().is_none());
    assert_eq!(decoder.retry(), Some(Duration::from_millis(1500)));
    for ignored in [
        &b"retry: 12s\n"[..],
        b"retry: -1\n",
        b"retry:\n",
        b"retry: 1 0\n",
    ] {
        decoder.decode(ignored).for_each(drop);
        assert_eq!(decoder.retry(), Some(Duration::from_millis(1500)));
    }
    decoder
        .decode(&b"retry:99999999999999999999999\n"[..])
        .for_each(drop);
    assert_eq!(
        decoder.retry(),
        Some(Duration::from_millis(1500)),
        "overflow is ignored"
    );
}

#[test]
fn a_leading_bom_is_ignored_once() {
    let events = decode_any_split(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n");
    // The second BOM starts a field named "\u{feff}data", which is unknown.
    assert_eq!(datas(&events), ["a", "c"]);
    // A BOM before a blank line.
    assert_eq!(
        datas(&decode_any_split(b"\xEF\xBB\xBF\ndata: x\n\n")),
        ["x"]
    );
}

#[test]
fn multi_byte_characters_survive_any_split() {
    let events = decode_any_split("data: héllo wörld 👋 中文\n\nevent: ü\ndata: ✓\n\n".as_bytes());
    assert_eq!(datas(&events), ["héllo wörld 👋 中文", "✓"]);
    assert_eq!(events[1].event(), "ü");
}

#[test]
fn an_unterminated_event_is_discarded_at_the_end() {
    let mut decoder = SseDecoder::new(1024);
    let events: Vec<_> = decoder.decode(&b"data: a\n\ndata: b\n"[..]).collect();
    assert_eq!(events.len(), 1);
    assert!(decoder.finish(), "the event `b` was discarded");
    // A last line without a line end is discarded too.
    assert!(decoder.decode(&b"data: c"[..]).next().is_none());
    assert!(decoder.finish());
    // Nothing pending: nothing discarded.
    let events: Vec<_> = decoder.decode(&b"data: d\n\n"[..]).collect();
    assert_eq!(events.len(), 1);
    assert!(!decoder.finish());
}

#[test]
fn finish_resets_for_a_new_stream_but_keeps_the_id() {
    let mut decoder = SseDecoder::new(1024);
    decoder
        .decode(&b"id: 5\nretry: 10\ndata: half"[..])
        .for_each(drop);
    decoder.finish();
    let events: Vec<SseEvent> = decoder
        .decode(&b"\xEF\xBB\xBFdata: new\n\n"[..])
        .map(Result::unwrap)
        .collect();
    assert_eq!(events, [SseEvent::new("new").with_id("5")]);
    assert_eq!(decoder.retry(), Some(Duration::from_millis(10)));
}

#[test]
fn invalid_utf8_is_a_typed_error_after_earlier_events() {
    let mut decoder = SseDecoder::new(1024);
    let mut results = decoder.decode(&b"data: ok\n\ndata: bad \xFF\xFE\n\ndata: later\n\n"[..]);
    assert_eq!(results.next().unwrap().unwrap().data(), "ok");
    match results.next().unwrap().unwrap_err() {
        StreamError::Malformed {
            message, snippet, ..
        } => {
            assert!(message.contains("UTF-8"), "{message}");
            assert!(snippet.starts_with("data: bad "), "{snippet}");
        }
        other => panic!("{other:?}"),
    }
    assert!(results.next().is_none(), "errors are final");
    assert!(decoder.decode(&b"data: more\n\n"[..]).next().is_none());
    // A truncated multi-byte sequence, and one split at a line end, are invalid too.
    for bad in [
        &b"data: \xE2\x82\n\n"[..],
        b"data: \xC3\n\xA9\n\n",
        b": \x80\n",
    ] {
        let mut decoder = SseDecoder::new(1024);
        let first = decoder.decode(bad).next().unwrap();
        assert!(
            matches!(first, Err(StreamError::Malformed { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn an_event_over_the_limit_fails() {
    // Exactly at the limit is fine: "data: " + 4 bytes = a 10-byte line.
    let mut decoder = SseDecoder::new(10);
    let event = decoder
        .decode(&b"data: 1234\n\n"[..])
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(event.data(), "1234");

    // Data accumulated over several lines counts.
    let mut decoder = SseDecoder::new(10);
    let err = decoder
        .decode(&b"data: 1234\ndata: 5\n\n"[..])
        .find_map(Result::err)
        .unwrap();
    assert!(
        matches!(err, StreamError::EventTooLarge { limit: 10, .. }),
        "{err:?}"
    );

    // A long line fails before its end arrives, so a server cannot make us buffer forever.
    let mut decoder = SseDecoder::new(64);
    assert!(decoder.decode(vec![b'x'; 40]).next().is_none());
    let err = decoder.decode(vec![b'x'; 40]).next().unwrap().unwrap_err();
    assert!(matches!(err, StreamError::EventTooLarge { limit: 64, .. }));
    assert!(
        decoder.decode(vec![b'\n'; 2]).next().is_none(),
        "errors are final"
    );

    // The size counts per event: many small events pass.
    let mut decoder = SseDecoder::new(16);
    let input = b"data: 12345678\n\n".repeat(100);
    assert_eq!(decoder.decode(input).filter(Result::is_ok).count(), 100);
}

#[test]
fn undrained_events_stay_for_the_next_call() {
    let mut decoder = SseDecoder::new(1024);
    let first = decoder.decode(&b"data: 1\n\ndata: 2\n\ndata: 3"[..]).next();
    assert_eq!(first.unwrap().unwrap().data(), "1");
    // Pushing before draining keeps every byte, in order.
    let rest: Vec<SseEvent> = decoder.decode(&b"\n\n"[..]).map(Result::unwrap).collect();
    assert_eq!(datas(&rest), ["2", "3"]);
}

#[test]
fn empty_chunks_change_nothing() {
    let events = decode(&[b"", b"data: a\r", b"", b"\n", b"", b"\n"]);
    assert_eq!(datas(&events), ["a"]);
}

/// A small deterministic generator, so the test needs no dependency and always replays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

#[test]
fn encoded_events_decode_back_at_random_splits() {
    let mut rng = Lcg(7);
    let alphabet = [
        "a", "b", " ", ":", "é", "👋", "\n", "\r\n", "\r", "data: ", "[DONE]",
    ];
    for _ in 0..200 {
        let events: Vec<SseEvent> = (0..rng.next(4) + 1)
            .map(|_| {
                let data: String = (0..rng.next(12))
                    .map(|_| alphabet[rng.next(alphabet.len())])
                    .collect();
                let mut event = SseEvent::new(data);
                if rng.next(3) == 0 {
                    event = event.with_event("update");
                }
                event
            })
            .collect();
        let wire: String = events.iter().map(SseEvent::to_wire).collect();
        let wire = wire.as_bytes();
        let (a, b) = (rng.next(wire.len() + 1), rng.next(wire.len() + 1));
        let (a, b) = (a.min(b), a.max(b));
        let decoded = decode(&[&wire[..a], &wire[a..b], &wire[b..]]);
        let want: Vec<String> = events
            .iter()
            .map(|e| e.data().replace("\r\n", "\n").replace('\r', "\n"))
            .collect();
        assert_eq!(datas(&decoded), want, "{:?}", String::from_utf8_lossy(wire));
        let names: Vec<&str> = decoded.iter().map(SseEvent::event).collect();
        let want_names: Vec<&str> = events.iter().map(SseEvent::event).collect();
        assert_eq!(names, want_names);
    }
}

#[tokio::test]
async fn sse_stream_reads_events_from_a_body() {
    let body = body_of([
        &b"retry: 5\nevent: a\ndata: 1\n"[..],
        b"\n: c\n",
        b"data: 2\n\ndata: cut",
    ]);
    let mut stream = SseStream::new(body, StreamConfig::default(), meta());
    assert_eq!(stream.meta().request_id.as_deref(), Some("req_test"));
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!((first.event(), first.data()), ("a", "1"));
    assert_eq!(stream.next().await.unwrap().unwrap().data(), "2");
    // The unterminated event at the end is discarded.
    assert!(stream.next().await.is_none());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn sse_stream_errors_carry_the_request_id_and_end_the_stream() {
    let (chunks, probe) = Chunks::new(vec![
        Ok("data: \u{7f}ok\n\n".into()),
        Ok(vec![b'x'; 100].into()),
    ]);
    let config = StreamConfig::default().max_event_size(50);
    let mut stream = SseStream::new(chunks.into_body(), config, meta());
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Stream(StreamError::EventTooLarge { limit: 50, .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.request_id(), Some("req_test"));
    assert!(probe.dropped(), "the body is dropped on error");
    assert!(stream.next().await.is_none());
}
