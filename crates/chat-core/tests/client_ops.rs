//! The operations: stored completions (list, get, update, delete, messages), pagination,
//! percent-encoded ids, streaming, and the raw escape hatches.

mod client_support;

use std::collections::BTreeMap;

use chat_core::types::{ListChatCompletionMessagesParams, ListChatCompletionsParams, ListOrder};
use chat_core::{Client, ErrorKind, RequestOptions};
use client_support::{completion, config, request, Reply, Scripted};
use http::Method;

fn page(ids: &[&str], has_more: bool) -> Reply {
    let data: Vec<String> = ids.iter().map(|id| completion(id)).collect();
    let last = ids
        .last()
        .map_or("null".to_owned(), |id| format!("\"{id}\""));
    Reply::json(
        200,
        &format!(
            r#"{{"object":"list","data":[{}],"first_id":null,"last_id":{last},"has_more":{has_more}}}"#,
            data.join(",")
        ),
    )
}

#[tokio::test]
async fn list_sends_query_parameters() {
    let t = Scripted::new([page(&["a"], false)]);
    let client = Client::new(config(), t.clone());
    let params = ListChatCompletionsParams {
        model: Some("gpt-4o".into()),
        metadata: Some(BTreeMap::from([("user".into(), "a&b".into())])),
        after: Some("c0".into()),
        limit: Some(2),
        order: Some(ListOrder::Desc),
    };
    let list = client.list_chat_completions(&params).await.unwrap();
    assert_eq!(list.data.len(), 1);
    assert!(!list.has_more);
    let r = t.request(0);
    assert_eq!(r.method, Method::GET);
    assert_eq!(
        r.uri,
        "http://127.0.0.1:9/v1/chat/completions?model=gpt-4o&metadata%5Buser%5D=a%26b&after=c0&limit=2&order=desc"
    );
    assert_eq!(r.header("content-type"), None);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn pagination_stream_follows_three_pages() {
    let t = Scripted::new([
        page(&["a", "b"], true),
        page(&["c", "d"], true),
        page(&["e"], false),
    ]);
    let client = Client::new(config(), t.clone());
    let params = ListChatCompletionsParams {
        limit: Some(2),
        ..Default::default()
    };
    let items = client
        .list_chat_completions_stream(&params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|c| c.id.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    t.assert_done();
    let uris: Vec<String> = t.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(
        uris,
        [
            "http://127.0.0.1:9/v1/chat/completions?limit=2",
            "http://127.0.0.1:9/v1/chat/completions?after=b&limit=2",
            "http://127.0.0.1:9/v1/chat/completions?after=d&limit=2",
        ]
    );
}

#[tokio::test]
async fn pagination_stops_on_a_cursor_that_does_not_move_and_on_errors() {
    // A server claiming more pages with the same cursor would loop forever.
    let t = Scripted::new([page(&["a"], true), page(&["a"], true)]);
    let client = Client::new(config(), t.clone());
    let items = client
        .list_chat_completions_stream(&Default::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    t.assert_done();

    let t = Scripted::new([page(&["a"], true), Reply::json(404, "{}")]);
    let client = Client::new(config(), t.clone());
    let mut stream = client.list_chat_completions_stream(&Default::default());
    assert_eq!(
        stream.next().await.unwrap().unwrap().id.as_deref(),
        Some("a")
    );
    assert!(stream.next().await.unwrap().unwrap_err().is_not_found());
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn message_pages_are_followed_too() {
    let msgs = |ids: &[&str], more: bool| {
        let data: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"id":"{id}","role":"user","content":"q {id}"}}"#))
            .collect();
        Reply::json(
            200,
            &format!(
                r#"{{"object":"list","data":[{}],"first_id":null,"last_id":null,"has_more":{more}}}"#,
                data.join(",")
            ),
        )
    };
    let t = Scripted::new([
        msgs(&["m1", "m2"], true),
        msgs(&["m3"], true),
        msgs(&[], false),
    ]);
    let client = Client::new(config(), t.clone());
    let params = ListChatCompletionMessagesParams {
        order: Some(ListOrder::Asc),
        ..Default::default()
    };
    let items = client
        .list_chat_completion_messages_stream("chat/1", &params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(items[2].content.as_deref(), Some("q m3"));
    t.assert_done();
    // Without last_id the id of the last item is the cursor.
    assert_eq!(
        t.request(1).uri,
        "http://127.0.0.1:9/v1/chat/completions/chat%2F1/messages?after=m2&order=asc"
    );
}

#[tokio::test]
async fn ids_are_percent_encoded_in_every_path() {
    let t = Scripted::new([
        Reply::json(200, &completion("x")),
        Reply::json(200, &completion("x")),
        Reply::json(
            200,
            r#"{"object":"chat.completion.deleted","id":"x","deleted":true}"#,
        ),
        page(&[], false),
    ]);
    let client = Client::new(config(), t.clone());
    let id = "../a b?c#d/é";
    client.get_chat_completion(id).await.unwrap();
    client
        .update_chat_completion(id, BTreeMap::from([("k".to_owned(), "v".to_owned())]))
        .await
        .unwrap();
    let deleted = client.delete_chat_completion(id).await.unwrap();
    assert!(deleted.deleted);
    client
        .list_chat_completion_messages("..", &Default::default())
        .await
        .unwrap();
    let encoded = "http://127.0.0.1:9/v1/chat/completions/..%2Fa%20b%3Fc%23d%2F%C3%A9";
    let r = t.requests();
    assert_eq!(
        (r[0].method.clone(), r[0].uri.as_str()),
        (Method::GET, encoded)
    );
    assert_eq!(
        (r[1].method.clone(), r[1].uri.as_str()),
        (Method::POST, encoded)
    );
    assert_eq!(r[1].json(), serde_json::json!({"metadata": {"k": "v"}}));
    assert_eq!(
        (r[2].method.clone(), r[2].uri.as_str()),
        (Method::DELETE, encoded)
    );
    assert_eq!(
        r[3].uri,
        "http://127.0.0.1:9/v1/chat/completions/%2E%2E/messages"
    );

    let e = client.get_chat_completion("").await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)));
}

#[tokio::test]
async fn update_with_none_clears_metadata() {
    let t = Scripted::new([Reply::json(200, &completion("x"))]);
    let client = Client::new(config(), t.clone());
    client.update_chat_completion("x", None).await.unwrap();
    assert_eq!(t.request(0).json(), serde_json::json!({"metadata": null}));
}

#[tokio::test]
async fn streaming_integrates_with_the_chunk_stream() {
    let chunk = |content: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let a = chunk("Hel", "null");
    let b = chunk("lo", "\"stop\"");
    let t =
        Scripted::new([Reply::sse(&[&a, &b, "data: [DONE]\n\n"]).header("x-request-id", "req_s")]);
    let client = Client::new(config(), t.clone());
    let mut req = request();
    req.stream_options = Some(chat_core::types::ChatCompletionStreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let stream = client.create_chat_completion_stream(&req).await.unwrap();
    assert_eq!(stream.request_id(), Some("req_s"));
    let full = stream.final_response().await.unwrap();
    assert_eq!(full.first_content(), Some("Hello"));
    let body = t.request(0).json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_reported() {
    let t = Scripted::new([Reply::json(
        200,
        r#"{"error":{"message":"streaming is disabled","code":"unsupported"}}"#,
    )]);
    let client = Client::new(config(), t.clone());
    let e = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap_err();
    assert_eq!(e.code().as_deref(), Some("unsupported"));
    assert!(!e.is_retryable());

    let t = Scripted::new([Reply::json(200, &completion("c1"))]);
    let client = Client::new(config(), t.clone());
    let e = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Decode(d) if d.message.contains("expected an event stream")),
        "{e:?}"
    );

    // A web page (a captive portal) in place of the stream: the error quotes it.
    let page = "<!DOCTYPE html><html><body>Please sign in to the Wi-Fi</body></html>";
    let t = Scripted::new([
        Reply::bytes(200, "text/html; charset=utf-8", page.as_bytes())
            .header("x-request-id", "req_h"),
    ]);
    let client = Client::new(config(), t.clone());
    let e = client
        .create_chat_completion_stream(&request())
        .await
        .unwrap_err();
    let ErrorKind::Decode(d) = e.kind() else {
        panic!("{e:?}")
    };
    assert!(
        d.message
            .ends_with("but the server sent text/html; charset=utf-8"),
        "{e}"
    );
    assert!(d.snippet.contains("Please sign in"), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(e.request_id(), Some("req_h"));
    assert!(!e.is_retryable());
    t.assert_done();
}

#[tokio::test]
async fn send_raw_and_json_helpers() {
    let t = Scripted::new([
        Reply::json(200, r#"{"data":[{"id":"gpt-4o"}]}"#).header("x-request-id", "r1"),
        Reply::json(200, r#"{"ok":true}"#),
        Reply::json(200, r#"{"n":1}"#),
        Reply::json(418, r#"{"error":{"message":"teapot"}}"#),
    ]);
    let client = Client::new(config(), t.clone());
    let raw = client
        .send_raw(
            Method::GET,
            "/models",
            None::<&()>,
            &RequestOptions::new().header("x-extra", "1"),
        )
        .await
        .unwrap();
    assert_eq!(raw.status.as_u16(), 200);
    assert_eq!(raw.headers["x-request-id"], "r1");
    let bytes = raw.body.collect(1024).await.unwrap();
    assert_eq!(&bytes[..], br#"{"data":[{"id":"gpt-4o"}]}"#);
    assert_eq!(t.request(0).header("x-extra"), Some("1"));
    assert_eq!(t.request(0).uri, "http://127.0.0.1:9/v1/models");

    let v: chat_core::Response<serde_json::Value> = client
        .post_json("/responses", &serde_json::json!({"input": "hi"}))
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(t.request(1).method, Method::POST);
    assert_eq!(t.request(1).json(), serde_json::json!({"input": "hi"}));

    let n: chat_core::Response<std::collections::HashMap<String, u32>> =
        client.get_json("models/x").await.unwrap();
    assert_eq!(n["n"], 1);
    assert_eq!(t.request(2).uri, "http://127.0.0.1:9/v1/models/x");

    let e = client
        .send_raw(Method::POST, "/x", Some(&1), &RequestOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.status().unwrap().as_u16(), 418);
    let e = client
        .send_raw(Method::GET, "/a b", None::<&()>, &RequestOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidConfig(_)));
    t.assert_done();
}

#[tokio::test]
async fn options_layer_over_each_other() {
    let t = Scripted::new([Reply::json(200, &completion("c"))]);
    let client = Client::new(config().header("x-a", "config"), t.clone());
    let c = client
        .with_options(
            RequestOptions::new()
                .header("x-a", "one")
                .header("x-b", "one"),
        )
        .with_options(RequestOptions::new().header("x-b", "two"));
    c.create_chat_completion(&request()).await.unwrap();
    let r = t.request(0);
    assert_eq!(r.header("x-a"), Some("one"));
    assert_eq!(r.header("x-b"), Some("two"));
    assert!(client.options().is_none());
}

#[test]
fn operation_futures_are_send() {
    // Checked when compiling: the futures can be spawned on a multi-threaded runtime.
    fn send<T: Send>(_: T) {}
    let client = Client::new(config(), Scripted::new([]));
    let req = request();
    send(client.create_chat_completion(&req));
    send(client.create_chat_completion_stream(&req));
    send(client.list_chat_completions(&Default::default()));
    send(client.delete_chat_completion("x"));
    send(client.send_raw(Method::GET, "/x", None::<&()>, &RequestOptions::new()));
    send(client.list_chat_completions_stream(&Default::default()));
}
