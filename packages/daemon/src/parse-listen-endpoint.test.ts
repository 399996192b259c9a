import assert from "node:assert/strict";
import { test } from "node:test";
import { parseListenEndpoint } from "./parse-listen-endpoint.ts";

test("a path is a unix socket; anything else is HOST[:PORT] with port 44146 by default", () => {
  assert.deepEqual(parseListenEndpoint("/var/kiln/daemon-socket/socket"), {
    kind: "unix",
    path: "/var/kiln/daemon-socket/socket",
  });
  assert.deepEqual(parseListenEndpoint("localhost"), {
    kind: "tcp",
    host: "localhost",
    port: 44146,
  });
  assert.deepEqual(parseListenEndpoint("10.0.0.1:1234"), {
    kind: "tcp",
    host: "10.0.0.1",
    port: 1234,
  });
  assert.deepEqual(parseListenEndpoint("[::1]:99"), { kind: "tcp", host: "::1", port: 99 });
  assert.deepEqual(parseListenEndpoint("[::1]"), { kind: "tcp", host: "::1", port: 44146 });
  assert.deepEqual(parseListenEndpoint(":5000"), { kind: "tcp", host: "127.0.0.1", port: 5000 });
});

test("nonsense is a usage error", () => {
  for (const bad of ["", "host:port", "host:70000", "a:b:c", "relative/socket:1"]) {
    assert.throws(() => parseListenEndpoint(bad), { code: "ERR_DAEMON_USAGE" }, bad);
  }
});
