/**
 * `kiln weather` end to end: a real Nix-made cache served over HTTP on loopback, a cache
 * for another store directory, a closed port, manifests from a file and from stdin.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const CLI = new URL("../", import.meta.url).pathname;
const CACHE = new URL("../../substituter/test/fixtures/cache/zstd/", import.meta.url).pathname;
const KEYS = new URL("../../substituter/test/fixtures/keys.json", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "kiln-weather-cli-"));
const env = { KILN_STORE_DIR: "/nix/store", KILN_STATE_DIR: join(scratch, "state") };
const ABSENT = "/nix/store/00000000000000000000000000000000-absent";

/** Runs `kiln weather ARGS` without blocking this process (the test's server must answer). */
function weather(
  args: readonly string[],
  input = "",
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const argv = [join(CLI, "bin/kiln.js"), "weather", ...args];
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text) => (stderr += text));
  child.stdin.end(input);
  return new Promise((resolve) =>
    child.on("close", (status) => resolve({ status, stdout, stderr })),
  );
}

function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    try {
      const body = readFileSync(join(root, new URL(request.url!, "http://x").pathname));
      response.writeHead(200, { "content-length": body.length }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

const narinfos = readdirSync(CACHE)
  .filter((name) => name.endsWith(".narinfo"))
  .map((name) => readFileSync(join(CACHE, name), "utf8"));
const field = (text: string, key: string) => new RegExp(`^${key}: (.*)$`, "m").exec(text)![1];
const paths = narinfos.map((text) => field(text, "StorePath")).sort();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
let cache: { server: Server; url: string };
let gnu: { server: Server; url: string };

before(async () => {
  cache = await serve(CACHE);
  const gnuDir = join(scratch, "gnu");
  mkdirSync(gnuDir);
  writeFileSync(join(gnuDir, "nix-cache-info"), "StoreDir: /gnu/store\n");
  gnu = await serve(gnuDir);
});
after(() => {
  cache.server.close();
  gnu.server.close();
  rmSync(scratch, { recursive: true, force: true });
});

test("weather --help describes the report, the manifest format and the exit status", async () => {
  const run = await weather(["--help"]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^Usage: kiln weather \[options\] \[path\.\.\.\]/);
  for (const words of [
    "--substitute-urls <urls>",
    "-m, --manifest <file>",
    "one store path a line",
    "Exit status",
  ])
    assert.ok(run.stdout.includes(words), words);
});

test("weather reports each server's coverage, sizes, signatures and speed", async () => {
  const manifest = join(scratch, "manifest");
  writeFileSync(manifest, `# the closure\n${paths.join("\n")}\n\n`);
  const key = join(scratch, "test-1.pub");
  writeFileSync(key, JSON.parse(readFileSync(KEYS, "utf8")).testCache.publicKey);
  const run = await weather([
    "--substitute-urls",
    `${cache.url} ${gnu.url}`,
    "-m",
    manifest,
    "--key",
    key,
    "--display-missing",
    ABSENT,
  ]);
  assert.equal(run.status, 0, run.stderr);
  const fileSize = narinfos.reduce((sum, text) => sum + Number(field(text, "FileSize")), 0);
  const narSize = narinfos.reduce((sum, text) => sum + Number(field(text, "NarSize")), 0);
  const lines = run.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    cache.url,
    "  92.9% substitutes available (13 of 14)",
    `  ${kib(fileSize)} of nars (compressed)`,
    `  ${kib(narSize)} on disk (uncompressed)`,
  ]);
  assert.match(
    lines[4],
    /^ {2}\d+\.\d{3} seconds per request \(mean\), \d+\.\d{3} \(median\), \d+\.\d{3} seconds in total$/,
  );
  assert.match(lines[5], /^ {2}\d+\.\d requests per second$/);
  assert.deepEqual(lines.slice(6), [
    "  13 of 13 signed by a trusted key",
    gnu.url,
    `  error: binary cache ${gnu.url} is for store /gnu/store, not /nix/store`,
    "summary: 14 items, 13 available from at least one server (92.9%), 1 missing everywhere",
    `missing: ${ABSENT}`,
    "",
  ]);
  assert.match(run.stderr, new RegExp(`looking for 14 store items on ${cache.url}\\.\\.\\.`));
});

test("weather reads a manifest from standard input", async () => {
  const run = await weather(
    ["--substitute-urls", cache.url, "-m", "-"],
    `${paths[0]}\n${ABSENT}\n`,
  );
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes("  50.0% substitutes available (1 of 2)\n"), run.stdout);
});

test("weather refuses bad usage, paths outside the store, and fails when no server answers", async () => {
  const noUrls = await weather([paths[0]]);
  assert.equal(noUrls.status, 2);
  assert.match(
    noUrls.stderr,
    /^kiln: error: no substitute servers given\nhint: pass --substitute-urls/,
  );
  const noPaths = await weather(["--substitute-urls", cache.url]);
  assert.equal(noPaths.status, 2);
  assert.match(noPaths.stderr, /^kiln: error: no store items to look for\n/);
  const outside = await weather(["--substitute-urls", cache.url, "/gnu/store/x"]);
  assert.equal(outside.status, 1);
  assert.match(
    outside.stderr,
    /^kiln: error: store path: "\/gnu\/store\/x" is not in \/nix\/store\n/,
  );
  const closed = await serve(join(scratch, "nothing"));
  closed.server.close();
  const down = await weather(["--substitute-urls", closed.url, paths[0]]);
  assert.equal(down.status, 1);
  assert.match(
    down.stdout,
    new RegExp(`^${closed.url}\n {2}error: cannot reach ${closed.url}/nix-cache-info: `),
  );
  assert.match(down.stderr, /^kiln: error: no substitute server could be asked\n/);
});
