/**
 * `kiln daemon` as a user starts it: sockets and their modes, TCP, systemd socket
 * activation, flag errors, and a clean exit on SIGTERM. The daemon runs in a child
 * process through the real CLI program.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { DaemonClient } from "@kiln/daemon/daemon-client";

const scratch = mkdtempSync(join(tmpdir(), "kiln-daemon-cli-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The real entry point, as `npx kiln` runs it. */
const KILN = new URL("../bin/kiln.js", import.meta.url).pathname;

function environment(name: string): Record<string, string> {
  return {
    KILN_STORE_DIR: "/nix/store",
    KILN_REAL_STORE_DIR: join(scratch, name, "store"),
    KILN_STATE_DIR: join(scratch, name, "state"),
  };
}

interface Running {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

function runDaemon(
  args: string[],
  env: Record<string, string>,
  options: { shell?: boolean; fd?: number } = {},
): Running {
  const node = [process.execPath, KILN, "daemon", ...args];
  const child = options.shell
    ? spawn("/bin/sh", ["-c", 'LISTEN_PID=$$ exec "$@"', "sh", ...node], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe", options.fd ?? "ignore"],
      })
    : spawn(node[0], node.slice(1), {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, stderr: () => stderr, exited };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stop(daemon: Running): Promise<number | null> {
  daemon.child.kill("SIGTERM");
  return daemon.exited;
}

test("default sockets: the ordinary one is 0666, the trusted one 0600; SIGTERM removes them", async () => {
  const env = environment("default");
  const daemon = runDaemon([], env);
  const socket = join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "socket");
  const trusted = join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "trusted-socket");
  await waitFor(() => existsSync(socket) && existsSync(trusted), "the sockets");
  assert.equal(statSync(socket).mode & 0o777, 0o666);
  assert.equal(statSync(trusted).mode & 0o777, 0o600);
  const client = await DaemonClient.connect(socket);
  const file = join(scratch, "default-file.txt");
  writeFileSync(file, "through the daemon\n");
  const info = await client.addToStore(file);
  assert.match(info.path, /^\/nix\/store\/[a-z0-9]{32}-default-file\.txt$/);
  assert.equal(await client.isValidPath(info.path), true);
  client.close();
  assert.equal(await stop(daemon), 0, daemon.stderr());
  assert.equal(existsSync(socket), false);
  assert.equal(existsSync(trusted), false);
  assert.match(daemon.stderr(), /"msg":"daemon listening"/);
});

test("--listen: a socket path and a TCP address", async () => {
  const env = environment("listen");
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const socket = join(scratch, "listen.sock");
  const daemon = runDaemon(
    [
      "--listen",
      socket,
      "--listen",
      `127.0.0.1:${port}`,
      "--debug",
      "--gc-keep-outputs",
      "-M",
      "2",
    ],
    env,
  );
  await waitFor(
    () => existsSync(socket) && daemon.stderr().includes("daemon listening"),
    "the daemon",
  );
  const overTcp = await DaemonClient.connect(`127.0.0.1:${port}`);
  const overUnix = await DaemonClient.connect(socket);
  const path = await overTcp.addTextToStore("tcp.txt", "over TCP\n");
  assert.equal(await overUnix.isValidPath(path), true);
  overTcp.close();
  overUnix.close();
  assert.equal(await stop(daemon), 0);
  assert.match(daemon.stderr(), /"msg":"client connected"/);
});

test("systemd socket activation: the inherited socket is served", async () => {
  const env = environment("systemd");
  const socket = join(scratch, "activated.sock");
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const daemon = runDaemon(
    [],
    { ...env, LISTEN_FDS: "1", LISTEN_FDNAMES: "trusted" },
    { shell: true, fd },
  );
  try {
    await waitFor(() => daemon.stderr().includes("daemon listening"), "the daemon");
    // Closing our copy would unlink the path: move the socket file away first.
    const served = join(scratch, "activated-served.sock");
    renameSync(socket, served);
    server.close();
    const client = await DaemonClient.connect(served);
    const path = await client.addTextToStore("activated.txt", "hello\n");
    assert.equal(await client.isValidPath(path), true);
    client.close();
    assert.match(daemon.stderr(), /fd:3/);
    assert.equal(existsSync(join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "socket")), false);
  } finally {
    assert.equal(await stop(daemon), 0);
  }
});

test("bad flags are usage errors", async () => {
  const env = environment("bad");
  for (const [args, pattern] of [
    [["--max-jobs", "lots"], /--max-jobs must be a whole number/],
    [["--listen", "host:99999"], /is not a TCP port/],
    [["--gc-keep-outputs", "maybe"], /takes yes or no/],
    [["--log-compression", "zip"], /gzip, bzip2 or none/],
    [["--busy-poll", "-5"], /--busy-poll must be a whole number/],
  ] as const) {
    const daemon = runDaemon([...args], env);
    assert.notEqual(await daemon.exited, 0, args.join(" "));
    assert.match(daemon.stderr(), pattern);
  }
});

test("a second daemon on the same socket is refused", async () => {
  const env = environment("twice");
  const socket = join(scratch, "twice.sock");
  const first = runDaemon(["--listen", socket], env);
  await waitFor(
    () => existsSync(socket) && first.stderr().includes("daemon listening"),
    "the first daemon",
  );
  const second = runDaemon(["--listen", socket], env);
  assert.equal(await second.exited, 1);
  assert.match(second.stderr(), /another daemon is listening/);
  assert.equal(await stop(first), 0);
});
