import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { createResourceFetcher, readText } from "./resource-fetcher.ts";

const fetcher = createResourceFetcher({ idleTimeoutMs: 300 });
after(() => fetcher.close());

async function listen(handler: RequestListener): Promise<{ url: string; close(): void }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test("http: a 200 streams its body with its size; a 404 carries max-age and no body", async () => {
  const server = await listen((request, response) => {
    if (request.url === "/x.narinfo") response.end("StorePath: …\n");
    else response.writeHead(404, { "cache-control": "public, max-age=42" }).end("gone");
  });
  try {
    const found = await fetcher.get(new URL(`${server.url}/x.narinfo`));
    assert.equal(found.status, 200);
    assert.equal(found.size, Buffer.byteLength("StorePath: …\n"));
    assert.equal(await readText(found, new URL(server.url)), "StorePath: …\n");
    const missing = await fetcher.get(new URL(`${server.url}/y.narinfo`));
    assert.equal(missing.status, 404);
    assert.equal(missing.maxAge, 42);
    assert.equal(await readText(missing, new URL(server.url)), "");
  } finally {
    server.close();
  }
});

test("http: a body cut short, a silent server and a closed port are errors that say so", async () => {
  const server = await listen((request, response) => {
    if (request.url === "/short") {
      response.writeHead(200, { "content-length": "100" });
      response.write(Buffer.alloc(50));
      setTimeout(() => request.socket.destroy(), 10);
    }
    // anything else: never answer
  });
  try {
    const short = await fetcher.get(new URL(`${server.url}/short`));
    await assert.rejects(readText(short, new URL(server.url)), {
      code: "ERR_SUBSTITUTE_TRUNCATED",
      message: new RegExp(`^${server.url}/short: the transfer (broke off|ended) after 50 `),
    });
    await assert.rejects(fetcher.get(new URL(`${server.url}/silent`)), {
      code: "ERR_SUBSTITUTE_STALLED",
      message: `${server.url}/silent: nothing received for 0.3 s`,
    });
  } finally {
    server.close();
  }
  await assert.rejects(fetcher.get(new URL(`${server.url}/after-close`)), {
    code: "ERR_SUBSTITUTE_NETWORK",
    message: new RegExp(`^cannot reach ${server.url}/after-close: .*ECONNREFUSED`),
  });
});

test("http: requests go through the given proxy", async () => {
  const seen: string[] = [];
  const proxy = await listen((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.end("via proxy\n");
  });
  const proxied = createResourceFetcher({ proxy: { httpProxy: proxy.url } });
  try {
    const resource = await proxied.get(new URL("http://cache.invalid/nix-cache-info"));
    assert.equal(await readText(resource, new URL("http://cache.invalid")), "via proxy\n");
    assert.deepEqual(seen, ["GET http://cache.invalid/nix-cache-info"]);
  } finally {
    proxied.close();
    proxy.close();
  }
});

test("file: files are read from disk; missing files and directories are 404", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fetcher-"));
  try {
    writeFileSync(join(dir, "nix-cache-info"), "StoreDir: /nix/store\n");
    const base = pathToFileURL(dir).href;
    const info = await fetcher.get(new URL(`${base}/nix-cache-info`));
    assert.equal(info.status, 200);
    assert.equal(info.size, 21);
    assert.equal(await readText(info, new URL(base)), "StoreDir: /nix/store\n");
    assert.equal((await fetcher.get(new URL(`${base}/missing.narinfo`))).status, 404);
    assert.equal((await fetcher.get(new URL(base))).status, 404);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readText refuses a body larger than its limit; other schemes are refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fetcher-"));
  try {
    writeFileSync(join(dir, "big"), Buffer.alloc(2000));
    const url = pathToFileURL(join(dir, "big"));
    await assert.rejects(readText(await fetcher.get(url), url, 1000), {
      code: "ERR_SUBSTITUTE_TOO_LARGE",
    });
    await assert.rejects(fetcher.get(new URL("ftp://example.org/x")), {
      code: "ERR_SUBSTITUTE_BAD_URL",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
