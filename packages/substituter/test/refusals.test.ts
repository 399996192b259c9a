/**
 * Every way a cache can be wrong is refused with a message naming the path, the cache
 * and the problem, and leaves nothing registered and nothing in the store directory.
 * Each case starts from a copy of a real Nix cache and changes one thing.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateNixKeyPair } from "@kiln/formats/nix-signature";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { Substituter, type SubstituterOptions } from "../src/index.ts";
import {
  copyCache,
  fixtureCache,
  narinfoFile,
  resign,
  scratchDir,
  scratchStore,
  TEST_KEYS,
} from "./fixtures.ts";
import { type ServeOptions, serveDirectory } from "./serve-directory.ts";

const scratch = scratchDir("refusals");
after(() => scratch.dispose());

const SIMPLE = "/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple";
const OTHER = "/nix/store/2bzhlh856i982k92lp7x4m2b96s52j7i-refs-one";
let counter = 0;

interface Case {
  compression?: string;
  /** Changes the cache copy before it is served. */
  change?: (cacheDir: string) => void;
  serve?: ServeOptions;
  options?: Partial<SubstituterOptions>;
}

/** Substitutes `path` from a changed copy of a cache; returns the failure message. */
async function refusal(path: string, setup: Case): Promise<{ message: string; url: string }> {
  const dir = join(scratch.dir, `case-${++counter}`);
  const cacheDir = copyCache(setup.compression ?? "zstd", dir);
  setup.change?.(cacheDir);
  const server = await serveDirectory(cacheDir, setup.serve);
  const store = scratchStore(dir);
  const substituter = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: TEST_KEYS,
    ...setup.options,
  });
  try {
    const result = await substituter.substitutePaths([path]);
    assert.deepEqual(result.substituted, []);
    const message = result.failed.get(path);
    assert.ok(message, "the path is reported as failed");
    assert.ok(message.startsWith(`cannot substitute ${path}: `), message);
    assert.equal(store.isValidPath(path), false);
    assert.deepEqual(readdirSync(store.config.realStoreDir), [], "the store directory is empty");
    return { message, url: server.url };
  } finally {
    substituter.close();
    store.close();
    await server.close();
  }
}

function edit(cacheDir: string, path: string, change: (text: string) => string): void {
  const file = narinfoFile(cacheDir, path);
  writeFileSync(file, change(readFileSync(file, "utf8")));
}

function narFile(cacheDir: string, path: string): string {
  return join(
    cacheDir,
    parseNarinfo(readFileSync(narinfoFile(cacheDir, path), "utf8")).urls[0].url,
  );
}

test("a narinfo whose signature was altered is refused", async () => {
  const { message, url } = await refusal(SIMPLE, {
    change: (dir) => edit(dir, SIMPLE, (text) => text.replace(/^(Sig: test-1:)(.)/m, "$1A$2")),
  });
  assert.match(
    message,
    new RegExp(`${url}: no valid signature from a trusted key \\(Sig test-1: `),
  );
});

test("a narinfo whose fields were changed after signing is refused", async () => {
  const { message } = await refusal(SIMPLE, {
    change: (dir) => edit(dir, SIMPLE, (text) => text.replace("NarSize: 120", "NarSize: 121")),
  });
  assert.match(
    message,
    /no valid signature from a trusted key \(Sig test-1: signature does not match\)/,
  );
});

test("a narinfo signed by a key we do not trust is refused", async () => {
  const stranger = generateNixKeyPair("stranger-1");
  const { message } = await refusal(SIMPLE, {
    change: (dir) => edit(dir, SIMPLE, (text) => resign(text, stranger.secretKey)),
  });
  assert.match(
    message,
    /no valid signature from a trusted key \(Sig stranger-1: no trusted key named "stranger-1"\)/,
  );
});

test("a key with a trusted name but other key material is refused", async () => {
  const impostor = generateNixKeyPair("test-1");
  const { message } = await refusal(SIMPLE, {
    change: (dir) => edit(dir, SIMPLE, (text) => resign(text, impostor.secretKey)),
  });
  assert.match(message, /Sig test-1: signature does not match/);
});

test("an unsigned narinfo is refused, and no key at all trusts nothing", async () => {
  const unsigned = await refusal(SIMPLE, {
    change: (dir) => edit(dir, SIMPLE, (text) => text.replace(/^Sig: .*\n/m, "")),
  });
  assert.match(unsigned.message, /unsigned: no Sig: or Signature: line/);
  const noKeys = await refusal(SIMPLE, { options: { trustedKeys: [] } });
  assert.match(noKeys.message, /no trusted key named "test-1"/);
});

test("a signed narinfo with a wrong NarHash is refused when the nar does not match", async () => {
  const { message, url } = await refusal(SIMPLE, {
    change: (dir) => {
      const other = readFileSync(narinfoFile(dir, OTHER), "utf8").match(/^NarHash: (.*)$/m)![1];
      edit(dir, SIMPLE, (text) => resign(text.replace(/^NarHash: .*$/m, `NarHash: ${other}`)));
    },
  });
  assert.match(
    message,
    new RegExp(`${url}: NAR of ${SIMPLE} has hash sha256:04zwf782\\w+, expected sha256:`),
  );
});

test("a signed narinfo with a wrong NarSize is refused", async () => {
  const { message } = await refusal(SIMPLE, {
    change: (dir) =>
      edit(dir, SIMPLE, (text) => resign(text.replace("NarSize: 120", "NarSize: 128"))),
  });
  assert.match(message, new RegExp(`NAR of ${SIMPLE} is 120 bytes, expected 128`));
});

test("a nar cut off in transfer is refused", async () => {
  const { message } = await refusal(SIMPLE, {
    compression: "none",
    serve: {
      respond: (path) =>
        path.startsWith("/nar/")
          ? { body: readFileSync(narFile(fixtureCache("none"), SIMPLE)), truncateAfter: 50 }
          : undefined,
    },
  });
  assert.match(message, /the transfer (broke off|ended) after 50 /);
});

test("a truncated nar file is refused by FileSize, or by the NAR parser without it", async () => {
  const truncate = (dir: string) => {
    const file = narFile(dir, SIMPLE);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
  };
  const bySize = await refusal(SIMPLE, { compression: "none", change: truncate });
  assert.match(bySize.message, /is 100 bytes, but its FileSize is 120/);
  const byParser = await refusal(SIMPLE, {
    compression: "none",
    change: (dir) => {
      truncate(dir);
      edit(dir, SIMPLE, (text) => text.replace(/^File(Hash|Size): .*\n/gm, ""));
    },
  });
  assert.match(byParser.message, /nar: .*(truncated|end of)/i);
});

test("a nar whose bytes do not match FileHash is refused", async () => {
  const { message } = await refusal(SIMPLE, {
    compression: "none",
    change: (dir) => {
      const file = narFile(dir, SIMPLE);
      const bytes = readFileSync(file);
      bytes[bytes.length - 20] ^= 1;
      writeFileSync(file, bytes);
    },
  });
  assert.match(message, /but its FileHash is sha256:/);
});

for (const compression of ["zstd", "xz", "bzip2"]) {
  test(`corrupt ${compression} data is refused`, async () => {
    const { message } = await refusal(SIMPLE, {
      compression,
      change: (dir) => {
        writeFileSync(narFile(dir, SIMPLE), Buffer.from("this is not compressed data at all\n"));
        // Without FileHash/FileSize (Guix does not always write them) the decompressor must catch it.
        edit(dir, SIMPLE, (text) => text.replace(/^File(Hash|Size): .*\n/gm, ""));
      },
    });
    assert.match(message, new RegExp(`the ${compression} data is corrupt or truncated`));
  });
}

test("a cache for another store directory is refused before any narinfo is asked for", async () => {
  const warnings: string[] = [];
  let served: string[] = [];
  const { message, url } = await refusal(SIMPLE, {
    change: (dir) => writeFileSync(join(dir, "nix-cache-info"), "StoreDir: /gnu/store\n"),
    options: { onWarning: (warning) => warnings.push(warning) },
    serve: {
      respond: (path) => {
        served.push(path);
        return undefined;
      },
    },
  });
  assert.match(
    message,
    new RegExp(`${url}: binary cache ${url} is for store /gnu/store, not /nix/store`),
  );
  assert.deepEqual(served, ["/nix-cache-info"]);
  assert.equal(warnings.length, 1);
  served = [];
});

test("a narinfo for another store path than the one asked for is refused", async () => {
  const { message } = await refusal(SIMPLE, {
    change: (dir) => writeFileSync(narinfoFile(dir, SIMPLE), readFileSync(narinfoFile(dir, OTHER))),
  });
  assert.match(message, new RegExp(`the narinfo is for ${OTHER}, not ${SIMPLE}`));
});

test("a server error on the narinfo is refused and names the status", async () => {
  const { message } = await refusal(SIMPLE, {
    serve: { respond: (path) => (path.endsWith(".narinfo") ? { status: 500 } : undefined) },
  });
  assert.match(message, /\.narinfo: HTTP status 500/);
});

test("a missing nar is refused and makes the cached narinfo stale", async () => {
  const dir = join(scratch.dir, "nar-missing");
  const cacheDir = copyCache("zstd", dir);
  let narStatus: number | undefined = 404;
  const server = await serveDirectory(cacheDir, {
    respond: (path) => (path.startsWith("/nar/") && narStatus ? { status: narStatus } : undefined),
  });
  const store = scratchStore(dir);
  const options = { store, urls: [server.url], trustedKeys: TEST_KEYS };
  try {
    const first = new Substituter(options);
    const failed = (await first.substitutePaths([SIMPLE])).failed.get(SIMPLE);
    first.close();
    assert.match(failed ?? "", /\.nar\.zst: HTTP status 404/);
    narStatus = undefined;
    const second = new Substituter(options);
    const narinfosBefore = server.requests.filter((path) => path.endsWith(".narinfo")).length;
    assert.deepEqual((await second.substitutePaths([SIMPLE])).substituted, [SIMPLE]);
    second.close();
    // The narinfo was asked for again rather than taken from the lookup cache.
    assert.equal(
      server.requests.filter((path) => path.endsWith(".narinfo")).length,
      narinfosBefore + 1,
    );
  } finally {
    store.close();
    await server.close();
  }
});

test("signed narinfos that claim a reference cycle are refused, not waited on forever", async () => {
  const dir = join(scratch.dir, "cycle");
  const cacheDir = copyCache("zstd", dir);
  const refer = (from: string, to: string) =>
    edit(cacheDir, from, (text) =>
      resign(text.replace(/^References: .*$/m, `References: ${to.slice("/nix/store/".length)}`)),
    );
  refer(SIMPLE, OTHER);
  refer(OTHER, SIMPLE);
  const server = await serveDirectory(cacheDir);
  const store = scratchStore(dir);
  const substituter = new Substituter({ store, urls: [server.url], trustedKeys: TEST_KEYS });
  try {
    for (const request of [[SIMPLE], [SIMPLE, OTHER]]) {
      const { failed, substituted } = await substituter.substitutePaths(request);
      assert.deepEqual(substituted, []);
      assert.deepEqual([...failed.keys()].sort(), [OTHER, SIMPLE].sort());
      assert.match([...failed.values()].join("\n"), /which refers back to it/);
    }
    assert.deepEqual(readdirSync(store.config.realStoreDir), []);
  } finally {
    substituter.close();
    store.close();
    await server.close();
  }
});

test("a nar offered only in a compression we cannot decompress is refused with what to install", async () => {
  const { message } = await refusal(SIMPLE, {
    change: (dir) =>
      edit(dir, SIMPLE, (text) => text.replace("Compression: zstd", "Compression: lzip")),
    options: { programs: { lzip: "kiln-no-such-lzip" } },
  });
  assert.match(message, /it is only offered as lzip, which cannot be decompressed here$/);
});
