/**
 * Benchmark: the daemon over its unix socket, `kiln daemon` against `nix-daemon` (Nix
 * 2.8, private socket and store) in the same run, driven by the same client code
 * (Kiln's DaemonClient) so that only the daemons differ:
 * - QueryPathInfo round trips per second on one connection;
 * - AddToStore throughput (MiB/s) of a 64 MiB file with fresh contents each time
 *   (framed upload, restore, hash, register).
 * Rounds alternate between the daemons after a warm-up (short rounds, so that both see
 * the same background load); medians are reported. Kiln runs with its defaults, which
 * keep the event loop polling 200 µs after each answer (`--busy-poll`); a second Kiln
 * daemon with `--busy-poll 0` shows what that buys.
 *
 *   npm run bench:daemon
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonClient } from "@kiln/daemon/daemon-client";
import { median, REPO } from "./bench-support.ts";

const ROUNDS = 9;
const QUERIES = 5_000;
const FILE_BYTES = 64 * 2 ** 20;

const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-daemon-"));
const children: ChildProcess[] = [];

async function waitForSocket(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 500 && !existsSync(path); i++) {
    if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!existsSync(path)) throw new Error(`no socket at ${path}`);
}

async function startKiln(name: string, busyPollMicros?: number): Promise<string> {
  const root = join(scratch, name);
  const socket = join(root, "socket");
  const script = `
    import { LocalStore } from "@kiln/store/local-store";
    import { startDaemon } from "@kiln/daemon/start-daemon";
    const store = LocalStore.open({ storeDir: "/nix/store", realStoreDir: ${JSON.stringify(join(root, "store"))}, stateDir: ${JSON.stringify(join(root, "state"))} });
    const daemon = await startDaemon(store, { listen: [{ kind: "unix", path: ${JSON.stringify(socket)} }], busyPollMicros: ${busyPollMicros ?? "undefined"} });
    process.once("SIGTERM", () => daemon.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: REPO,
    stdio: "inherit",
  });
  children.push(child);
  await waitForSocket(socket, child);
  return socket;
}

async function startNix(): Promise<string> {
  const root = join(scratch, "nix");
  mkdirSync(root, { recursive: true });
  const socket = join(root, "socket");
  const store = `local?store=/nix/store&real=${root}/store&state=${root}/state&log=${root}/log`;
  const child = spawn(
    "nix-daemon",
    ["--store", store, "--option", "build-users-group", "", "--option", "substituters", ""],
    {
      stdio: "ignore",
      env: {
        ...process.env,
        NIX_DAEMON_SOCKET_PATH: socket,
        NIX_STATE_DIR: `${root}/state`,
        NIX_CONF_DIR: root,
      },
    },
  );
  children.push(child);
  await waitForSocket(socket, child);
  return socket;
}

async function queryRate(client: DaemonClient, path: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < QUERIES; i++) {
    const info = await client.queryPathInfo(path);
    if (info === undefined) throw new Error(`${path} is not valid`);
  }
  return QUERIES / ((performance.now() - started) / 1000);
}

const data = Buffer.alloc(FILE_BYTES);
let serial = 0;
async function addRate(client: DaemonClient): Promise<number> {
  randomFillSync(data, 0, 4096); // fresh contents: a new path every time
  const file = join(scratch, `add-${serial++}.bin`);
  writeFileSync(file, data);
  const started = performance.now();
  await client.addToStore(file);
  const seconds = (performance.now() - started) / 1000;
  rmSync(file);
  return FILE_BYTES / 2 ** 20 / seconds;
}

try {
  const sockets: Record<string, string> = {
    "kiln daemon": await startKiln("kiln"),
    "kiln, no poll": await startKiln("kiln-no-poll", 0),
    "nix-daemon": await startNix(),
  };
  const clients: Record<string, DaemonClient> = {};
  const paths: Record<string, string> = {};
  const probe = join(scratch, "probe.txt");
  writeFileSync(probe, "probe\n");
  for (const [name, socket] of Object.entries(sockets)) {
    clients[name] = await DaemonClient.connect(socket);
    paths[name] = (await clients[name].addToStore(probe)).path;
  }
  if (paths["kiln daemon"] !== paths["nix-daemon"])
    throw new Error("the daemons disagree on the path");
  const queries: Record<string, number[]> = Object.fromEntries(
    Object.keys(sockets).map((name) => [name, []]),
  );
  const adds: Record<string, number[]> = { "kiln daemon": [], "nix-daemon": [] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const name of Object.keys(sockets)) {
      const q = await queryRate(clients[name], paths[name]);
      const a = name in adds ? await addRate(clients[name]) : undefined;
      if (round > 0) {
        queries[name].push(q);
        if (a !== undefined) adds[name].push(a);
      }
    }
  }
  for (const client of Object.values(clients)) client.close();
  console.log(
    `QueryPathInfo: ${QUERIES} round trips per run; AddToStore: ${FILE_BYTES / 2 ** 20} MiB file; median of ${ROUNDS}`,
  );
  for (const name of Object.keys(sockets)) {
    const add = name in adds ? `${median(adds[name]).toFixed(1).padStart(7)} MiB/s` : "      -";
    console.log(
      `${name.padEnd(14)} QueryPathInfo ${median(queries[name]).toFixed(0).padStart(7)} /s   AddToStore ${add}`,
    );
  }
  const q = median(queries["kiln daemon"]) / median(queries["nix-daemon"]);
  const a = median(adds["kiln daemon"]) / median(adds["nix-daemon"]);
  const off = median(queries["kiln, no poll"]) / median(queries["nix-daemon"]);
  console.log(
    `ratio kiln/nix: QueryPathInfo ${q.toFixed(2)}, AddToStore ${a.toFixed(2)} (target >= 1.00 on both); QueryPathInfo with --busy-poll 0: ${off.toFixed(2)}`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 200));
  spawnSync("chmod", ["-R", "u+w", scratch]);
  rmSync(scratch, { recursive: true, force: true });
}
