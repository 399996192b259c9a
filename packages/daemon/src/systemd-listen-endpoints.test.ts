import assert from "node:assert/strict";
import { test } from "node:test";
import { systemdListenEndpoints } from "./systemd-listen-endpoints.ts";

test("LISTEN_FDS sockets start at fd 3; the one named trusted is trusted", () => {
  assert.deepEqual(
    systemdListenEndpoints(
      { LISTEN_PID: "42", LISTEN_FDS: "2", LISTEN_FDNAMES: "socket:trusted" },
      42,
    ),
    [
      { kind: "fd", fd: 3, trusted: false },
      { kind: "fd", fd: 4, trusted: true },
    ],
  );
});

test("sockets meant for another process, or none, are ignored", () => {
  assert.deepEqual(systemdListenEndpoints({ LISTEN_PID: "41", LISTEN_FDS: "1" }, 42), []);
  assert.deepEqual(systemdListenEndpoints({ LISTEN_FDS: "1" }, 42), []);
  assert.deepEqual(systemdListenEndpoints({ LISTEN_PID: "42", LISTEN_FDS: "nope" }, 42), []);
  assert.deepEqual(systemdListenEndpoints({}, 42), []);
});
