import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { connectIfDaemon } from "./connect-if-daemon.ts";
import { defaultSocketPath } from "./daemon-options.ts";
import { startDaemon } from "./start-daemon.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-connect-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("no socket means no daemon; a named socket must answer", async () => {
  const stateDir = join(root, "none");
  mkdirSync(stateDir);
  assert.equal(await connectIfDaemon({ stateDir }), undefined);
  await assert.rejects(connectIfDaemon({ stateDir, daemonSocket: join(root, "nowhere.sock") }), {
    code: "ERR_DAEMON_CONNECT",
  });
});

test("a running daemon on the default sockets is found (the trusted one when allowed)", async () => {
  const stateDir = join(root, "running");
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir,
  });
  const daemon = await startDaemon(store);
  try {
    assert.deepEqual(daemon.addresses, [
      defaultSocketPath({ stateDir }),
      join(stateDir, "kiln", "daemon-socket", "trusted-socket"),
    ]);
    const client = await connectIfDaemon({ stateDir });
    assert.ok(client !== undefined);
    const path = await client.addTextToStore("found.txt", "found\n");
    assert.equal(store.isValidPath(path), true);
    const metrics = await daemon.metrics();
    assert.match(metrics, /kiln_daemon_operations_total\{op="AddTextToStore"\} 1/);
    assert.match(metrics, /kiln_daemon_connections 1/);
    client.close();
  } finally {
    await daemon.close();
    store.close();
  }
});
