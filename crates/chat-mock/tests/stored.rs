//! Stored completions (`store: true`) through the project's client on `MockTransport`:
//! list with pagination and filters, get, update, delete and messages; and the headers a
//! real server sends, with scripted rate limiting.

use std::time::Duration;

use chat_core::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    ListChatCompletionMessagesParams, ListChatCompletionsParams, ListOrder,
};
use chat_core::{Config, ErrorKind};
use chat_mock::{Match, MockResponse, MockTransport};

fn ask(text: &str, team: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        [Message::system("Be brief."), Message::user(text)],
    )
    .store(true)
    .metadata([("team", team)])
}

#[tokio::test]
async fn stored_completions_can_be_listed_fetched_updated_and_deleted() {
    let mock = MockTransport::demo();
    let client = mock.client();
    let mut ids = Vec::new();
    for i in 0..5 {
        let team = if i % 2 == 0 { "red" } else { "blue" };
        let r = client
            .create_chat_completion(&ask(&format!("question {i}"), team))
            .await
            .unwrap();
        ids.push(r.id.clone().unwrap());
    }
    // Not stored: no `store`.
    let plain = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("hi")]);
    client.create_chat_completion(&plain).await.unwrap();
    assert_eq!(mock.stored_count(), 5);

    // Pages of two, oldest first, following `after`.
    let params = ListChatCompletionsParams {
        limit: Some(2),
        ..Default::default()
    };
    let page = client
        .list_chat_completions(&params)
        .await
        .unwrap()
        .into_inner();
    let page_ids: Vec<_> = page.data.iter().map(|c| c.id.clone().unwrap()).collect();
    assert_eq!(page_ids, ids[..2]);
    assert!(page.has_more);
    assert_eq!(page.first_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(page.last_id.as_deref(), Some(ids[1].as_str()));
    let next = ListChatCompletionsParams {
        after: page.last_id.clone(),
        ..params.clone()
    };
    let page2 = client
        .list_chat_completions(&next)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page2.data[0].id.as_deref(), Some(ids[2].as_str()));

    // Auto-pagination over every page, newest first.
    let desc = ListChatCompletionsParams {
        limit: Some(2),
        order: Some(ListOrder::Desc),
        ..Default::default()
    };
    let all = client
        .list_chat_completions_stream(&desc)
        .try_collect()
        .await
        .unwrap();
    let all_ids: Vec<_> = all.iter().map(|c| c.id.clone().unwrap()).collect();
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(all_ids, reversed);

    // Metadata and model filters.
    let red = ListChatCompletionsParams {
        metadata: Some([("team".to_owned(), "red".to_owned())].into()),
        ..Default::default()
    };
    let reds = client
        .list_chat_completions(&red)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reds.data.len(), 3);
    let other_model = ListChatCompletionsParams {
        model: Some("gpt-4o".into()),
        ..Default::default()
    };
    assert!(client
        .list_chat_completions(&other_model)
        .await
        .unwrap()
        .data
        .is_empty());

    // Get, with its metadata.
    let got = client.get_chat_completion(&ids[1]).await.unwrap();
    assert_eq!(got.id.as_deref(), Some(ids[1].as_str()));
    let v = serde_json::to_value(got.into_inner()).unwrap();
    assert_eq!(v["metadata"]["team"], "blue");
    assert!(v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .contains("question 1"));

    // Update replaces the metadata.
    let updated = client
        .update_chat_completion(
            &ids[1],
            Some([("team".to_owned(), "red".to_owned())].into()),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(updated.into_inner()).unwrap()["metadata"]["team"],
        "red"
    );
    assert_eq!(
        client.list_chat_completions(&red).await.unwrap().data.len(),
        4
    );

    // Messages of a completion: the request's messages, paginated.
    let msgs = client
        .list_chat_completion_messages(
            &ids[0],
            &ListChatCompletionMessagesParams {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(msgs.data.len(), 1);
    assert!(msgs.has_more);
    assert_eq!(msgs.data[0].content.as_deref(), Some("Be brief."));
    let all_msgs = client
        .list_chat_completion_messages_stream(
            &ids[0],
            &ListChatCompletionMessagesParams {
                limit: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let texts: Vec<_> = all_msgs
        .iter()
        .map(|m| m.content.clone().unwrap())
        .collect();
    assert_eq!(texts, ["Be brief.", "question 0"]);

    // Delete, then it is gone.
    let deleted = client.delete_chat_completion(&ids[0]).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.id, ids[0]);
    let e = client.get_chat_completion(&ids[0]).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(mock.stored_count(), 4);
    let e = client.delete_chat_completion(&ids[0]).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn bad_list_parameters_are_400s() {
    let mock = MockTransport::demo();
    let client = mock.client();
    let params = ListChatCompletionsParams {
        limit: Some(0),
        ..Default::default()
    };
    let e = client.list_chat_completions(&params).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
    assert!(matches!(e.kind(), ErrorKind::Api(_)));
}

#[tokio::test]
async fn scripted_completions_are_stored_too_and_rules_take_precedence() {
    let mock = MockTransport::new();
    mock.on(Match::chat())
        .respond(MockResponse::text("scripted").id("chatcmpl-fixed"));
    let client = mock.client();
    client
        .create_chat_completion(&ask("q", "red"))
        .await
        .unwrap();
    let got = client.get_chat_completion("chatcmpl-fixed").await.unwrap();
    assert_eq!(got.first_content(), Some("scripted"));
    // A scripted rule for a stored-completion path answers instead of the store.
    mock.on(Match::get("/chat/completions/chatcmpl-fixed"))
        .respond(MockResponse::error(404));
    assert!(client
        .get_chat_completion("chatcmpl-fixed")
        .await
        .unwrap_err()
        .is_not_found());
    mock.assert_all_used();
}

#[tokio::test]
async fn answers_carry_request_ids_processing_time_and_rate_limit_headers() {
    let mock = MockTransport::demo();
    let client = mock.client();
    let request = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("hi")]);
    let a = client.create_chat_completion(&request).await.unwrap();
    let b = client.create_chat_completion(&request).await.unwrap();
    assert_ne!(a.request_id(), b.request_id());
    let headers = &a.meta().headers;
    let ms: u64 = headers["openai-processing-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ms >= 1);
    let rl = &a.meta().rate_limit;
    assert!(rl.limit_requests.is_some() && rl.remaining_requests.is_some());
    assert!(rl.reset_requests.is_some() && rl.reset_tokens.is_some());
    assert!(rl.remaining_tokens.unwrap() < rl.limit_tokens.unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_scripted_rate_limit_answers_429_after_n_requests_per_window() {
    let mock = MockTransport::demo();
    mock.rate_limit(2, Duration::from_secs(10));
    // No retries: the app sees the 429 itself.
    let client = mock.client_with(MockTransport::client_config().max_retries(0));
    let request = CreateChatCompletionRequest::new("gpt-4o-mini", [Message::user("hi")]);
    let first = client.create_chat_completion(&request).await.unwrap();
    assert_eq!(first.meta().rate_limit.limit_requests, Some(2));
    assert_eq!(first.meta().rate_limit.remaining_requests, Some(1));
    let second = client.create_chat_completion(&request).await.unwrap();
    assert_eq!(second.meta().rate_limit.remaining_requests, Some(0));
    let e = client.create_chat_completion(&request).await.unwrap_err();
    assert!(e.is_rate_limited(), "{e}");
    assert_eq!(e.code().as_deref(), Some("rate_limit_exceeded"));
    let ErrorKind::Api(api) = e.kind() else {
        panic!("{e}")
    };
    assert_eq!(api.headers["retry-after"], "10");

    // After the window, requests pass again.
    tokio::time::sleep(Duration::from_secs(10)).await;
    client.create_chat_completion(&request).await.unwrap();

    // With retries on, the client waits out the window by itself.
    let retrying = mock.client_with(Config::new().api_key("sk-mock").retry_jitter(false));
    retrying.create_chat_completion(&request).await.unwrap();
    let e = retrying.create_chat_completion(&request).await;
    assert!(e.is_ok(), "retried after retry-after: {e:?}");
    mock.clear_rate_limit();
}
