/**
 * Benchmark: substituting the ~100 MiB, ~4,000-file tree from a zstd binary cache over
 * HTTP on loopback, Kiln's substituter against `nix copy --from`, each into a fresh store.
 *
 * The cache is made once per run by real Nix (`nix-store --add`, then `nix copy --to
 * file://…?compression=zstd&secret-key=…`) and served by a small node:http static server
 * in a child process. Each round substitutes into a fresh Kiln store (a fresh process
 * running `Substituter.substitutePaths`, so start-up is counted as for Nix, with Node's
 * compile cache on as `bin/kiln.js` has it) and into a
 * fresh private Nix store (`nix copy --from http://… --to local?…` with the cache's key in
 * trusted-public-keys, so both check the signature, and a fresh narinfo disk cache).
 * One warm-up round, then 7 timed rounds alternating; medians.
 *
 *   npm run bench:substitute
 */
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTree, median, REPO, RUNS, run, TREE } from "./bench-support.ts";

const SELF = join(REPO, "bench", "substitute.ts");
const [mode, ...args] = process.argv.slice(2);

if (mode === "--serve") await serve(args[0]);
else if (mode === "--kiln") await substituteWithKiln(args[0], args[1], args[2], args[3]);
else await main();

/** Child: a static file server for the cache directory; prints its URL. */
async function serve(root: string): Promise<void> {
  const server = createServer((request, response) => {
    const path = join(root, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    let size: number;
    try {
      const info = statSync(path);
      if (!info.isFile()) throw new Error("not a file");
      size = info.size;
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-length": size });
    createReadStream(path, { highWaterMark: 1 << 20 }).pipe(response);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
}

/** Child: one substitution into a fresh Kiln store, as a daemon would run it. */
async function substituteWithKiln(url: string, root: string, path: string, publicKey: string) {
  // As bin/kiln.js starts every command: compiled (and type-stripped) modules come from
  // Node's compile cache after the first run (~70 ms of start-up here), not parsed anew.
  (await import("node:module")).enableCompileCache?.();
  const { LocalStore } = await import("../packages/store/src/local-store.ts");
  const { Substituter } = await import("../packages/substituter/src/substituter.ts");
  const { parseTrustedKeys } = await import("../packages/formats/src/verify-narinfo.ts");
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  const substituter = new Substituter({
    store,
    urls: [url],
    trustedKeys: parseTrustedKeys(publicKey),
  });
  const { failed } = await substituter.substitutePaths([path]);
  substituter.close();
  if (failed.size > 0) throw new Error([...failed.values()].join("\n"));
  process.stdout.write(`${store.queryPathInfo(path)?.narHash}\n`);
  store.close();
}

function removeTree(dir: string): void {
  spawnSync("chmod", ["-R", "u+w", dir]);
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const info = ensureTree();
  const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-substitute-"));
  const nixEnv = (root: string) => ({
    ...process.env,
    NIX_CONF_DIR: root,
    XDG_CACHE_HOME: join(root, "cache"),
    NIX_REMOTE: "",
  });
  const storeUri = (root: string) =>
    `local?store=/nix/store&state=${root}/state&log=${root}/log&real=${root}/store`;

  // The cache: the tree added to a private Nix store, copied out with zstd and signed.
  const source = join(scratch, "source");
  mkdirSync(source);
  const path = run(
    "nix-store",
    ["--store", storeUri(source), "--add", TREE],
    nixEnv(source),
  ).output;
  const keys = join(scratch, "keys");
  mkdirSync(keys);
  run(
    "nix-store",
    ["--generate-binary-cache-key", "bench-1", `${keys}/sk`, `${keys}/pk`],
    process.env,
  );
  const publicKey = readFileSync(`${keys}/pk`, "utf8").trim();
  const cache = join(scratch, "cache");
  run(
    "nix",
    [
      "--extra-experimental-features",
      "nix-command",
      "--store",
      storeUri(source),
      "copy",
      "--to",
      `file://${cache}?compression=zstd&secret-key=${keys}/sk`,
      path,
    ],
    nixEnv(source),
  );
  const narinfo = readFileSync(join(cache, `${path.slice(11, 43)}.narinfo`), "utf8");
  const server = spawn(process.execPath, [SELF, "--serve", cache], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve) =>
    server.stdout.once("data", (data: Buffer) => resolve(data.toString().trim())),
  );

  const tools: Record<string, (root: string) => { ms: number; output: string }> = {
    "kiln substituter": (root) =>
      run(process.execPath, [SELF, "--kiln", url, root, path, publicKey], process.env),
    "nix copy --from": (root) =>
      run(
        "nix",
        [
          "--extra-experimental-features",
          "nix-command",
          "copy",
          "--from",
          url,
          "--to",
          storeUri(root),
          "--option",
          "trusted-public-keys",
          publicKey,
          "--option",
          "substituters",
          "",
          path,
        ],
        nixEnv(root),
      ),
  };
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(tools).map((name) => [name, []]),
  );
  let kilnHash = "";
  try {
    for (let round = 0; round <= RUNS; round++) {
      for (const [name, tool] of Object.entries(tools)) {
        const root = join(scratch, `${name.split(" ")[0]}-${round}`);
        mkdirSync(root);
        const { ms, output } = tool(root);
        if (name.startsWith("kiln")) kilnHash = output;
        if (round > 0) times[name].push(ms);
        removeTree(root);
      }
    }
  } finally {
    server.kill();
  }
  const narHash = /^NarHash: (.*)$/m.exec(narinfo)![1];
  if (kilnHash !== narHash)
    throw new Error(`kiln registered ${kilnHash}, the cache says ${narHash}`);
  const fileSize = Number(/^FileSize: (.*)$/m.exec(narinfo)![1]);
  const narSize = Number(/^NarSize: (.*)$/m.exec(narinfo)![1]);
  console.log(
    `tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB; nar ${(narSize / 2 ** 20).toFixed(1)} MiB, zstd file ${(fileSize / 2 ** 20).toFixed(1)} MiB; ${path}`,
  );
  for (const name of Object.keys(tools)) {
    const ms = median(times[name]);
    console.log(
      `${name.padEnd(17)} median ${ms.toFixed(1).padStart(7)} ms = ${(narSize / 2 ** 20 / (ms / 1000)).toFixed(0).padStart(4)} MiB/s over ${RUNS} runs`,
    );
  }
  const ratio = median(times["nix copy --from"]) / median(times["kiln substituter"]);
  console.log(`ratio nix/kiln = ${ratio.toFixed(2)} (target >= 1.00)`);
  removeTree(scratch);
}
