// Runs the official OpenAI Node library, unchanged, against chat-mock's loopback server.
//
// `cargo xtask compat` starts `mock_server --compat`, installs this directory's package-lock
// with `npm ci` and runs this script with OPENAI_BASE_URL set to the server's base URL and
// OPENAI_API_KEY=sk-compat-test. The server's script (crates/chat-mock/examples/mock_server.rs)
// answers each call below once and checks what the library sent; this script checks what the
// library made of the answers. openai_compat.py makes the same calls with the Python library.
//
// Prints `node openai <version>: N passed` and exits 0, or lists the failed checks and exits 1.

import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { VERSION } from 'openai/version';
import { z } from 'zod';

const MODEL = 'gpt-4o-mini';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string' } },
      required: ['city'],
    },
  },
};

async function plain(client) {
  const completion = await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hello' },
    ],
    temperature: 0.2,
    max_completion_tokens: 64,
    seed: 7,
  });
  assert.equal(completion.id, 'chatcmpl-compat-plain', 'id');
  assert.equal(completion.object, 'chat.completion', 'object');
  assert.equal(completion.created, 1700000000, 'created');
  assert.equal(completion.model, MODEL, 'model');
  assert.equal(completion.choices.length, 1, 'choice count');
  const [choice] = completion.choices;
  assert.equal(choice.index, 0, 'index');
  assert.equal(choice.finish_reason, 'stop', 'finish_reason');
  assert.equal(choice.message.role, 'assistant', 'role');
  assert.equal(choice.message.content, 'Hello from chat-mock!', 'content');
  assert.equal(choice.message.tool_calls, undefined, 'tool_calls');
  assert.deepEqual(
    completion.usage,
    { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    'usage',
  );
  assert.equal(completion._request_id, 'req_compat_plain', '_request_id');
}

async function streamed(client) {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Tell a story' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.deepEqual([...new Set(chunks.map((c) => c.id))], ['chatcmpl-compat-stream'], 'chunk ids');
  assert.deepEqual([...new Set(chunks.map((c) => c.object))], ['chat.completion.chunk'], 'objects');
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  assert.equal(withChoices[0].choices[0].delta.role, 'assistant', 'first delta role');
  const pieces = withChoices.map((c) => c.choices[0].delta.content).filter(Boolean);
  assert.deepEqual(pieces, ['Once', ' upon', ' a', ' time.'], 'content pieces');
  const finish = withChoices.map((c) => c.choices[0].finish_reason).filter(Boolean);
  assert.deepEqual(finish, ['stop'], 'finish reasons');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, [], 'choices of the usage chunk');
  assert.deepEqual(last.usage, { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 }, 'usage');
  assert.deepEqual(
    chunks.slice(0, -1).filter((c) => c.usage != null),
    [],
    'usage before the last chunk',
  );
}

async function toolCallRoundTrip(client) {
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const first = await client.chat.completions.create({
    model: MODEL,
    messages,
    tools: [WEATHER_TOOL],
    tool_choice: 'auto',
  });
  const [choice] = first.choices;
  assert.equal(choice.finish_reason, 'tool_calls', 'finish_reason');
  assert.equal(choice.message.content, null, 'content');
  assert.equal(choice.message.tool_calls.length, 1, 'tool call count');
  const [call] = choice.message.tool_calls;
  assert.deepEqual(
    [call.id, call.type, call.function.name],
    ['call_mock_0', 'function', 'get_weather'],
    'tool call',
  );
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' }, 'arguments');
  assert.equal(first.usage.total_tokens, 28, 'total_tokens');

  // Send the call back as the assistant message, then the tool's result.
  messages.push(choice.message);
  messages.push({ role: 'tool', tool_call_id: call.id, content: '18 °C, sunny' });
  const second = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER_TOOL] });
  assert.equal(second.choices[0].message.content, 'It is 18 °C and sunny in Paris.', 'final answer');
  assert.equal(second.choices[0].finish_reason, 'stop', 'final finish_reason');
}

async function streamedToolCall(client) {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'What is the weather in Tokyo?' }],
    tools: [WEATHER_TOOL],
    stream: true,
  });
  const calls = new Map();
  const finish = [];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      if (choice.finish_reason) finish.push(choice.finish_reason);
      for (const delta of choice.delta.tool_calls ?? []) {
        if (!calls.has(delta.index)) calls.set(delta.index, { id: null, name: '', arguments: '' });
        const call = calls.get(delta.index);
        if (delta.id) call.id = delta.id;
        call.name += delta.function?.name ?? '';
        call.arguments += delta.function?.arguments ?? '';
      }
    }
  }
  assert.deepEqual([...calls.keys()], [0], 'tool call indexes');
  const call = calls.get(0);
  assert.deepEqual([call.id, call.name], ['call_mock_0', 'get_weather'], 'tool call');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Tokyo', unit: 'celsius' }, 'arguments');
  assert.deepEqual(finish, ['tool_calls'], 'finish reasons');
}

async function rateLimitRetried(client) {
  // The server answers 429 with retry-after-ms: 10 first; the library retries on its own (the
  // server checks that both answers were used).
  const { data, request_id } = await client.chat.completions
    .create({ model: MODEL, messages: [{ role: 'user', content: 'Retry me' }] })
    .withResponse();
  assert.equal(data.choices[0].message.content, 'Answered after a rate limit.', 'content');
  assert.match(request_id, /^req_mock_\d+$/, 'request id of the retry');
}

async function badRequest(client) {
  let caught;
  try {
    await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Bad request' }],
      temperature: 3,
    });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof OpenAI.BadRequestError, `expected a BadRequestError, got ${caught}`);
  assert.equal(caught.status, 400, 'status');
  assert.equal(caught.requestID, 'req_compat_400', 'requestID');
  assert.equal(caught.type, 'invalid_request_error', 'type');
  assert.equal(caught.code, 'invalid_value', 'code');
  assert.equal(caught.param, 'temperature', 'param');
  assert.equal(caught.message, "400 Invalid 'temperature': must be at most 2.", 'message');
}

async function streamErrorEvent(client) {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Break the stream' }],
    stream: true,
  });
  let text = '';
  let caught;
  try {
    for await (const chunk of stream) {
      for (const choice of chunk.choices) text += choice.delta.content ?? '';
    }
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof OpenAI.APIError, `expected an APIError, got ${caught}`);
  assert.equal(caught.message, 'The stream broke (chat-mock).', 'message');
  assert.equal(caught.type, 'server_error', 'type');
  assert.equal(text, 'Partial answer', 'text before the error');
}

const TripPlan = z.object({
  city: z.string(),
  days: z.number().int(),
  season: z.enum(['spring', 'summer', 'autumn', 'winter']),
  stops: z.array(z.object({ name: z.string(), nights: z.number().int() })),
  note: z.string().nullable(),
});

const GetForecast = z.object({
  city: z.string(),
  days: z.number().int(),
  unit: z.enum(['celsius', 'fahrenheit']),
});

// Demo mode: the server answers JSON generated from the schema the library derives from the
// zod schema, and the library parses it.
async function parsedStructuredOutput(client) {
  const completion = await client.chat.completions.parse({
    model: MODEL,
    messages: [{ role: 'user', content: 'Plan a trip' }],
    response_format: zodResponseFormat(TripPlan, 'trip_plan'),
  });
  const message = completion.choices[0].message;
  assert.equal(completion.choices[0].finish_reason, 'stop', 'finish_reason');
  assert.deepEqual(message.parsed, TripPlan.parse(JSON.parse(message.content)), 'parsed');
  assert.ok(['spring', 'summer', 'autumn', 'winter'].includes(message.parsed.season), 'season');
}

async function parsedToolCall(client) {
  const completion = await client.chat.completions.parse({
    model: MODEL,
    messages: [{ role: 'user', content: 'Forecast for the parse' }],
    tools: [zodFunction({ name: 'GetForecast', parameters: GetForecast })],
  });
  const calls = completion.choices[0].message.tool_calls;
  assert.equal(calls.length, 1, 'tool call count');
  assert.equal(calls[0].function.name, 'GetForecast', 'tool name');
  assert.deepEqual(calls[0].function.parsed_arguments, GetForecast.parse(JSON.parse(calls[0].function.arguments)));
}

async function storedCompletionPages(client) {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const c = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: `Store me ${i}` }],
      store: true,
      metadata: { suite: 'compat' },
    });
    ids.push(c.id);
  }
  const firstPage = await client.chat.completions.list({ limit: 2, metadata: { suite: 'compat' } });
  assert.deepEqual(firstPage.data.map((c) => c.id), ids.slice(0, 2), 'first page');
  assert.equal(firstPage.hasNextPage(), true, 'hasNextPage');
  // Iterating the list fetches the next pages with `after`.
  const all = [];
  for await (const c of client.chat.completions.list({ limit: 2, metadata: { suite: 'compat' } })) all.push(c.id);
  assert.deepEqual(all, ids, 'auto-pagination');
  const newest = await client.chat.completions.list({ limit: 1, order: 'desc' });
  assert.equal(newest.data[0].id, ids[2], 'newest first');
  const got = await client.chat.completions.retrieve(ids[0]);
  assert.deepEqual(got.metadata, { suite: 'compat' }, 'metadata');
  const updated = await client.chat.completions.update(ids[0], { metadata: { suite: 'compat', seen: 'yes' } });
  assert.equal(updated.metadata.seen, 'yes', 'updated metadata');
  const messages = [];
  for await (const m of client.chat.completions.messages.list(ids[0])) messages.push([m.role, m.content]);
  assert.deepEqual(messages, [['user', 'Store me 0']], 'stored messages');
  const deleted = await client.chat.completions.delete(ids[0]);
  assert.deepEqual([deleted.id, deleted.deleted, deleted.object], [ids[0], true, 'chat.completion.deleted']);
  let caught;
  try {
    await client.chat.completions.retrieve(ids[0]);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof OpenAI.NotFoundError, `expected a NotFoundError, got ${caught}`);
}

const CHECKS = [
  plain,
  streamed,
  toolCallRoundTrip,
  streamedToolCall,
  rateLimitRetried,
  badRequest,
  streamErrorEvent,
  parsedStructuredOutput,
  parsedToolCall,
  storedCompletionPages,
];

// Reads OPENAI_BASE_URL and OPENAI_API_KEY like any app would.
const client = new OpenAI({ timeout: 20_000 });
const failed = [];
for (const check of CHECKS) {
  try {
    await check(client);
  } catch (e) {
    // Report every failed check, not just the first.
    failed.push(`${check.name}:\n${e?.stack ?? e}`);
  }
}
if (failed.length > 0) {
  console.log(`node openai ${VERSION}: ${failed.length} of ${CHECKS.length} checks failed`);
  for (const f of failed) console.log(`--- ${f}`);
  process.exit(1);
}
console.log(`node openai ${VERSION}: ${CHECKS.length} passed`);
