"""Runs the official OpenAI Python library, unchanged, against chat-mock's loopback server.

`cargo xtask compat` starts `mock_server --compat` and runs this script with
OPENAI_BASE_URL set to the server's base URL and OPENAI_API_KEY=sk-compat-test. The server's
script (crates/chat-mock/examples/mock_server.rs) answers each call below once and checks what
the library sent; this script checks what the library made of the answers. openai_compat.mjs
makes the same calls with the Node library.

Prints `python openai <version>: N passed` and exits 0, or lists the failed checks and exits 1.
"""

import json
import sys
import traceback
from typing import List, Literal, Optional

import openai
import pydantic

MODEL = "gpt-4o-mini"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def plain(client):
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello"},
        ],
        temperature=0.2,
        max_completion_tokens=64,
        seed=7,
    )
    expect(type(completion).__name__, "ChatCompletion", "type")
    expect(completion.id, "chatcmpl-compat-plain", "id")
    expect(completion.object, "chat.completion", "object")
    expect(completion.created, 1700000000, "created")
    expect(completion.model, MODEL, "model")
    expect(len(completion.choices), 1, "choice count")
    choice = completion.choices[0]
    expect(choice.index, 0, "index")
    expect(choice.finish_reason, "stop", "finish_reason")
    expect(choice.message.role, "assistant", "role")
    expect(choice.message.content, "Hello from chat-mock!", "content")
    expect(choice.message.tool_calls, None, "tool_calls")
    expect(
        (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens),
        (9, 4, 13),
        "usage",
    )
    expect(completion._request_id, "req_compat_plain", "_request_id")


def streamed(client):
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell a story"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    expect(type(stream).__name__, "Stream", "type")
    chunks = list(stream)
    expect({c.id for c in chunks}, {"chatcmpl-compat-stream"}, "chunk ids")
    expect({c.object for c in chunks}, {"chat.completion.chunk"}, "chunk objects")
    with_choices = [c for c in chunks if c.choices]
    expect(with_choices[0].choices[0].delta.role, "assistant", "first delta role")
    pieces = [c.choices[0].delta.content for c in with_choices if c.choices[0].delta.content]
    expect(pieces, ["Once", " upon", " a", " time."], "content pieces")
    finish = [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason]
    expect(finish, ["stop"], "finish reasons")
    last = chunks[-1]
    expect(last.choices, [], "choices of the usage chunk")
    expect((last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens), (5, 4, 9), "usage")
    expect([c.usage for c in chunks[:-1]], [None] * (len(chunks) - 1), "usage before the last chunk")


def tool_call_round_trip(client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    choice = first.choices[0]
    expect(choice.finish_reason, "tool_calls", "finish_reason")
    expect(choice.message.content, None, "content")
    calls = choice.message.tool_calls
    expect(len(calls), 1, "tool call count")
    call = calls[0]
    expect((call.id, call.type, call.function.name), ("call_mock_0", "function", "get_weather"), "tool call")
    expect(json.loads(call.function.arguments), {"city": "Paris"}, "arguments")
    expect(first.usage.total_tokens, 28, "total_tokens")

    # Send the call back as the assistant message, then the tool's result.
    messages.append(choice.message)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "18 °C, sunny"})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    expect(second.choices[0].message.content, "It is 18 °C and sunny in Paris.", "final answer")
    expect(second.choices[0].finish_reason, "stop", "final finish_reason")


def streamed_tool_call(client):
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the weather in Tokyo?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    calls = {}
    finish = []
    for chunk in stream:
        for choice in chunk.choices:
            if choice.finish_reason:
                finish.append(choice.finish_reason)
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                if delta.id:
                    call["id"] = delta.id
                if delta.function and delta.function.name:
                    call["name"] += delta.function.name
                if delta.function and delta.function.arguments:
                    call["arguments"] += delta.function.arguments
    expect(sorted(calls), [0], "tool call indexes")
    expect((calls[0]["id"], calls[0]["name"]), ("call_mock_0", "get_weather"), "tool call")
    expect(json.loads(calls[0]["arguments"]), {"city": "Tokyo", "unit": "celsius"}, "arguments")
    expect(finish, ["tool_calls"], "finish reasons")


def rate_limit_retried(client):
    # The server answers 429 with retry-after-ms: 10 first; the library retries on its own.
    response = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Retry me"}]
    )
    completion = response.parse()
    expect(completion.choices[0].message.content, "Answered after a rate limit.", "content")
    expect(response.retries_taken, 1, "retries_taken")


def bad_request(client):
    try:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Bad request"}], temperature=3
        )
    except openai.BadRequestError as e:
        expect(e.status_code, 400, "status_code")
        expect(e.request_id, "req_compat_400", "request_id")
        expect(e.type, "invalid_request_error", "type")
        expect(e.code, "invalid_value", "code")
        expect(e.param, "temperature", "param")
        expect(e.body["message"], "Invalid 'temperature': must be at most 2.", "body message")
        if "Invalid 'temperature': must be at most 2." not in str(e):
            raise AssertionError(f"the error message lacks the API's message: {e}")
    else:
        raise AssertionError("no BadRequestError was raised")


def stream_error_event(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Break the stream"}], stream=True
    )
    text = ""
    try:
        for chunk in stream:
            for choice in chunk.choices:
                text += choice.delta.content or ""
    except openai.APIError as e:
        expect(type(e).__name__, "APIError", "error class")
        expect(e.message, "The stream broke (chat-mock).", "message")
        expect(e.type, "server_error", "type")
    else:
        raise AssertionError("the error event raised nothing")
    expect(text, "Partial answer", "text before the error")


class Stop(pydantic.BaseModel):
    name: str
    nights: int


class TripPlan(pydantic.BaseModel):
    city: str
    days: int
    season: Literal["spring", "summer", "autumn", "winter"]
    stops: List[Stop]
    note: Optional[str]


class GetForecast(pydantic.BaseModel):
    city: str
    days: int
    unit: Literal["celsius", "fahrenheit"]


def parsed_structured_output(client):
    # Demo mode: the server answers JSON generated from the schema the library derives from
    # the pydantic model, and the library parses it into the model.
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Plan a trip"}],
        response_format=TripPlan,
    )
    message = completion.choices[0].message
    expect(completion.choices[0].finish_reason, "stop", "finish_reason")
    expect(type(message.parsed).__name__, "TripPlan", "parsed type")
    expect(message.parsed.season in ("spring", "summer", "autumn", "winter"), True, "season in the enum")
    expect(all(isinstance(s, Stop) for s in message.parsed.stops), True, "stops parsed")
    expect(TripPlan.model_validate_json(message.content), message.parsed, "content is the parsed JSON")


def parsed_tool_call(client):
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Forecast for the parse"}],
        tools=[openai.pydantic_function_tool(GetForecast)],
    )
    calls = completion.choices[0].message.tool_calls
    expect(len(calls), 1, "tool call count")
    expect(calls[0].function.name, "GetForecast", "tool name")
    expect(type(calls[0].function.parsed_arguments).__name__, "GetForecast", "parsed arguments type")


def stored_completion_pages(client):
    ids = []
    for i in range(3):
        c = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Store me {i}"}],
            store=True,
            metadata={"suite": "compat"},
        )
        ids.append(c.id)
    first_page = client.chat.completions.list(limit=2, metadata={"suite": "compat"})
    expect([c.id for c in first_page.data], ids[:2], "first page")
    expect(first_page.has_next_page(), True, "has_next_page")
    # Iterating the page fetches the next pages with `after`.
    expect([c.id for c in client.chat.completions.list(limit=2, metadata={"suite": "compat"})], ids, "auto-pagination")
    newest = client.chat.completions.list(limit=1, order="desc")
    expect(newest.data[0].id, ids[-1], "newest first")
    got = client.chat.completions.retrieve(ids[0])
    expect(got.metadata, {"suite": "compat"}, "metadata")
    updated = client.chat.completions.update(ids[0], metadata={"suite": "compat", "seen": "yes"})
    expect(updated.metadata["seen"], "yes", "updated metadata")
    messages = list(client.chat.completions.messages.list(ids[0]))
    expect([(m.role, m.content) for m in messages], [("user", "Store me 0")], "stored messages")
    deleted = client.chat.completions.delete(ids[0])
    expect((deleted.id, deleted.deleted, deleted.object), (ids[0], True, "chat.completion.deleted"), "deleted")
    try:
        client.chat.completions.retrieve(ids[0])
    except openai.NotFoundError as e:
        expect(e.status_code, 404, "status after delete")
    else:
        raise AssertionError("a deleted completion was still found")


CHECKS = [
    plain,
    streamed,
    tool_call_round_trip,
    streamed_tool_call,
    rate_limit_retried,
    bad_request,
    stream_error_event,
    parsed_structured_output,
    parsed_tool_call,
    stored_completion_pages,
]


def main():
    # Reads OPENAI_BASE_URL and OPENAI_API_KEY like any app would.
    client = openai.OpenAI(timeout=20.0)
    passed, failed = 0, []
    for check in CHECKS:
        try:
            check(client)
            passed += 1
        except Exception:  # report every failed check, not just the first
            failed.append(f"{check.__name__}:\n{traceback.format_exc()}")
    if failed:
        print(f"python openai {openai.__version__}: {len(failed)} of {len(CHECKS)} checks failed")
        for f in failed:
            print(f"--- {f}")
        sys.exit(1)
    print(f"python openai {openai.__version__}: {passed} passed")


if __name__ == "__main__":
    main()
