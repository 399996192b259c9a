/**
 * Benchmark: serving substitutes. `kiln publish` against nginx serving the very same
 * files statically, both on loopback, loaded by wrk for a bounded time each:
 *   - narinfo requests/s (kiln answers from memory; nginx reads a small file),
 *   - nar MB/s of a baked zstd nar (kiln streams the baked file; nginx sendfile()s it),
 *   - nar MB/s of the uncompressed nar (kiln serialises the store item live, as guix
 *     publish does; nginx sends a NAR file made beforehand).
 * The store item is the shared ~100 MiB, ~4,000-file test tree (bench-support.ts).
 *
 *   npm run bench:publish            (needs nginx and wrk: apt-get install nginx wrk)
 *
 * kiln publish runs in its own processes (`--serve`, the library's
 * startPublishProcesses with the options `kiln publish -C zstd:3 -C none -c DIR` gives,
 * `--serve-processes` one per CPU as nginx's `worker_processes auto`, or
 * KILN_SERVE_PROCESSES), so wrk's load is not measured against the benchmark's own
 * event loop.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { ensureTree, median } from "./bench-support.ts";

const DURATION = "5s";
const ROUNDS = 3;
const SELF = fileURLToPath(import.meta.url);

interface WrkResult {
  readonly requestsPerSecond: number;
  readonly errors: number;
}

function wrk(url: string, connections: number, threads = 2, duration = DURATION): WrkResult {
  const result = spawnSync(
    "wrk",
    [`-t${threads}`, `-c${connections}`, `-d${duration}`, "--timeout", "30s", url],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout);
  if (!rps) throw new Error(`wrk output not understood:\n${result.stdout}`);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(result.stdout);
  const socketErrors = /Socket errors: .*/.exec(result.stdout);
  if (socketErrors) console.error(`  (wrk ${url}: ${socketErrors[0]})`);
  return { requestsPerSecond: Number(rps[1]), errors: errors ? Number(errors[1]) : 0 };
}

function haveTools(): boolean {
  const missing = ["nginx", "wrk"].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
  );
  if (missing.length === 0) return true;
  console.error(`bench:publish needs ${missing.join(" and ")}: apt-get install -y nginx wrk`);
  return false;
}

/** Child mode: `node bench/publish.ts --serve STATE_JSON` runs kiln publish and prints its URL. */
async function serve(configText: string): Promise<void> {
  const { readSecretKey } = await import("@kiln/keys/signing-key");
  const publish = await import("@kiln/publish");
  const config = JSON.parse(configText) as {
    storeDir: string;
    realStoreDir: string;
    stateDir: string;
    secretKeyFile: string;
    cacheDir: string;
  };
  const server = await publish.startPublishProcesses({
    storeConfig: config,
    serveProcesses: Number(process.env.KILN_SERVE_PROCESSES ?? availableParallelism()),
    key: readSecretKey(config.secretKeyFile),
    port: 0,
    compressions: ["zstd:3", "none"].map(publish.parseCompression),
    cache: { dir: config.cacheDir, bypassThreshold: 0, workers: 2 },
  });
  process.stdout.write(`${server.url}\n`);
}

async function startKiln(config: object): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SELF, "--serve", JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, url: chunk.toString().trim() };
}

function startNginx(
  root: string,
  prefix: string,
  workers: "auto" | 1,
): { child: ChildProcess; url: string } {
  const port = 20_000 + (process.pid % 20_000) + (workers === 1 ? 1 : 0);
  mkdirSync(join(prefix, "logs"), { recursive: true });
  const conf = join(prefix, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { text/x-nix-narinfo narinfo; }
  default_type application/x-nix-archive;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  const child = spawn("nginx", ["-p", prefix, "-c", conf, "-g", "daemon off;"], {
    stdio: "inherit",
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function waitFor(url: string, status = 200, seconds = 300): Promise<Response> {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      const response = await fetch(url);
      if (response.status === status) return response;
      await response.arrayBuffer();
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered ${status}`);
}

async function main(): Promise<void> {
  if (!haveTools()) process.exit(1);
  const info = ensureTree();
  const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-publish-"));
  chmodSync(scratch, 0o755); // nginx's workers run as nobody when started by root
  const config = {
    storeDir: "/nix/store",
    realStoreDir: join(scratch, "store"),
    stateDir: join(scratch, "state"),
    secretKeyFile: join(scratch, "signing-key.sec"),
    cacheDir: join(scratch, "cache"),
  };
  const { LocalStore } = await import("@kiln/store/local-store");
  const { generateKeyPair } = await import("@kiln/keys/generate-key-pair");
  const { dumpPath } = await import("@kiln/formats/nar-writer");
  generateKeyPair({
    publicKeyFile: join(scratch, "signing-key.pub"),
    secretKeyFile: config.secretKeyFile,
  });
  const store = LocalStore.open(config);
  const { TREE } = await import("./bench-support.ts");
  const path = await store.addToStore(TREE, { name: "bench-tree" });
  const narSize = store.queryPathInfo(path)!.narSize;
  store.close();
  const baseName = path.slice("/nix/store/".length);
  const hashPart = baseName.slice(0, 32);

  const kiln = await startKiln(config);
  const nginxRoot = join(scratch, "static");
  const nginxes: { child: ChildProcess; url: string }[] = [];
  try {
    await waitFor(`${kiln.url}/${hashPart}.narinfo`, 404); // asks for baking
    const narinfo = await (await waitFor(`${kiln.url}/${hashPart}.narinfo`)).text();
    // nginx serves the same bytes: the signed narinfo, the baked zstd file, the NAR.
    mkdirSync(join(nginxRoot, "nar", "zstd"), { recursive: true });
    writeFileSync(join(nginxRoot, `${hashPart}.narinfo`), narinfo);
    copyFileSync(
      join(config.cacheDir, "zstd", `${baseName}.nar`),
      join(nginxRoot, "nar", "zstd", baseName),
    );
    await pipeline(
      Readable.from(dumpPath(join(config.realStoreDir, baseName))),
      createWriteStream(join(nginxRoot, "nar", baseName)),
    );
    const zstdSize = Number(/FileSize: (\d+)/.exec(narinfo)![1]);
    // nginx as usually deployed (a worker per CPU, as kiln publish --serve-processes
    // defaults to), and with one worker, the comparison per core.
    const peers = [
      { name: "nginx auto", ...startNginx(nginxRoot, join(scratch, "nginx-auto"), "auto") },
      { name: "nginx 1 worker", ...startNginx(nginxRoot, join(scratch, "nginx-1"), 1) },
    ];
    nginxes.push(...peers);
    for (const peer of peers) await waitFor(`${peer.url}/${hashPart}.narinfo`, 200, 20);
    // Write back the files made above now, not during the measurements.
    spawnSync("sync");

    console.log(
      `tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB; NAR ${(narSize / 2 ** 20).toFixed(1)} MiB, baked zstd:3 ${(zstdSize / 2 ** 20).toFixed(1)} MiB; ${availableParallelism()} CPUs; wrk -t2 -d${DURATION}, loopback, median of ${ROUNDS} alternating rounds`,
    );
    const rows: [string, string, number, (rps: number) => number, string][] = [
      ["narinfo", `/${hashPart}.narinfo`, 64, (rps) => rps, "req/s"],
      [
        "nar zstd (baked)",
        `/nar/zstd/${baseName}`,
        4,
        (rps) => (rps * zstdSize) / 2 ** 20,
        "MiB/s",
      ],
      ["nar uncompressed", `/nar/${baseName}`, 4, (rps) => (rps * narSize) / 2 ** 20, "MiB/s"],
    ];
    for (const [name, urlPath, connections, unit, label] of rows) {
      // Alternating rounds, medians: the machine is shared, and one 5 s window is noisy.
      const targets = [{ name: "kiln", url: kiln.url }, ...peers];
      const results = targets.map(() => [] as number[]);
      for (const target of targets) wrk(`${target.url}${urlPath}`, connections, 2, "2s"); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        targets.forEach((target, i) => {
          const run = wrk(`${target.url}${urlPath}`, connections);
          if (run.errors > 0) throw new Error(`${name} from ${target.name}: non-2xx answers`);
          results[i].push(unit(run.requestsPerSecond));
        });
      }
      const [ours, ...theirs] = results.map(median);
      const rounds = (i: number) => `[${results[i].map((v) => v.toFixed(0)).join(" ")}]`;
      const comparisons = theirs.map(
        (value, i) =>
          `${peers[i].name} ${value.toFixed(0)} ${rounds(i + 1)} → ratio ${(ours / value).toFixed(2)}`,
      );
      console.log(`${name} (${label}, wrk -c${connections}), target ratio >= 0.80:`);
      console.log(`  kiln ${ours.toFixed(0)} ${rounds(0)}; ${comparisons.join("; ")}`);
    }
  } finally {
    kiln.child.kill();
    for (const nginx of nginxes) nginx.child.kill("SIGQUIT");
    await once(kiln.child, "exit");
    spawnSync("chmod", ["-R", "u+w", scratch]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") await serve(process.argv[3]);
else await main();
