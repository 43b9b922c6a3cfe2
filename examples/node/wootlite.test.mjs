// Node's own test runner (`node --test`) against wootlite as a Chatwoot stand-in: one server in
// dev mode for the file, reset before each test. Point WOOTLITE_BIN at the binary (default:
// `wootlite` on the PATH). Needs Node 18 or later (fetch and node:test are built in).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";

let server;
let work;
let where;

async function call(method, path, body) {
  const response = await fetch(where.url + path, {
    method,
    headers: { api_access_token: where.token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const account = (path) => `/api/v1/accounts/${where.account_id}${path}`;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "wootlite-"));
  const ready = join(work, "ready.json");
  server = spawn(
    process.env.WOOTLITE_BIN ?? "wootlite",
    ["serve", "--dev", "--bind", "127.0.0.1:0", "--data-dir", join(work, "data"),
      "--ready-file", ready],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  while (!existsSync(ready)) {
    assert.ok(server.exitCode === null, "wootlite exited at start");
    assert.ok(Date.now() < deadline, "wootlite did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  where = JSON.parse(readFileSync(ready, "utf8"));
});

after(async () => {
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  assert.equal((await call("POST", "/__wootlite/reset", {})).status, 200);
});

async function newConversation(sourceId) {
  const contact = await call("POST", account("/contacts"),
    { name: "Ada", inbox_id: 1, source_id: sourceId });
  assert.equal(contact.status, 200);
  const conversation = await call("POST", account("/conversations"), { source_id: sourceId });
  assert.equal(conversation.status, 200);
  return conversation.body.id;
}

test("a conversation is opened and answered", async () => {
  const id = await newConversation("ada-1");
  const path = account(`/conversations/${id}/messages`);
  const sent = await call("POST", path, { content: "We are on it" });
  assert.equal(sent.status, 200);
  const listed = await call("GET", path);
  assert.deepEqual(listed.body.payload.map((m) => m.content), ["We are on it"]);
});

test("each test starts from the first-start state", async () => {
  // Only the demo's conversations: Ada's, from the test before, is gone.
  const listed = await call("GET", account("/conversations?status=all"));
  const names = listed.body.data.payload.map((c) => c.meta.sender.name);
  assert.ok(names.length > 0 && !names.includes("Ada"), names.join(", "));
  const mails = await call("GET", "/__wootlite/mails");
  assert.deepEqual(mails.body, []);
});
