import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { type TestContext, test } from "node:test";
import { brotliCompressSync, constants, gzipSync, zstdCompressSync } from "node:zlib";
import { requirePeer } from "@kiln/testkit";
import { canDecompress, decompressNar } from "./decompress-nar.ts";

/** 1 MiB, half incompressible (AES-CTR keystream) and half zeros: several chunks either way. */
const DATA = Buffer.concat([
  createCipheriv("aes-128-ctr", Buffer.alloc(16, 1), Buffer.alloc(16)).update(
    Buffer.alloc(1 << 19),
  ),
  Buffer.alloc(1 << 19),
]);
const compressed = new Map<string, Buffer>();

/** DATA compressed (once per compression: xz and brotli take their time). */
function compress(compression: string): Buffer {
  let file = compressed.get(compression);
  if (file) return file;
  if (compression === "zstd") file = zstdCompressSync(DATA);
  else if (compression === "gzip") file = gzipSync(DATA);
  else if (compression === "br")
    file = brotliCompressSync(DATA, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
  else {
    const result = spawnSync(compression, ["-1", "-c"], { input: DATA, maxBuffer: 1 << 26 });
    assert.equal(result.status, 0, String(result.stderr));
    file = result.stdout;
  }
  compressed.set(compression, file);
  return file;
}

/** Yields `bytes` in small pieces, pausing now and then like a network. */
async function* trickle(bytes: Uint8Array, piece = 64 << 10): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += piece) {
    if ((at / piece) % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield bytes.subarray(at, at + piece);
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>, slow = false): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) {
    parts.push(chunk);
    if (slow && parts.length % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return Buffer.concat(parts);
}

/** The programs behind xz, bzip2 and lzip are real peers (CI installs all three). */
function present(t: TestContext, compression: string): boolean {
  return !["xz", "bzip2", "lzip"].includes(compression) || requirePeer(t, compression);
}

for (const compression of ["none", "zstd", "gzip", "br", "xz", "bzip2", "lzip"]) {
  test(`${compression}: decompresses a streamed nar, also for a slow consumer`, async (t) => {
    if (!present(t, compression)) return;
    const file = compression === "none" ? DATA : compress(compression);
    assert.ok(canDecompress(compression));
    assert.ok((await collect(decompressNar(trickle(file), compression))).equals(DATA));
    assert.ok((await collect(decompressNar(trickle(file), compression), true)).equals(DATA));
  });
  if (compression === "none") continue;

  test(`${compression}: corrupt and truncated data are refused as such`, async (t) => {
    if (!present(t, compression)) return;
    const file = compress(compression);
    const garbage = Buffer.from("definitely not compressed data, not at all\n".repeat(100));
    for (const bad of [garbage, file.subarray(0, file.length >> 1)]) {
      await assert.rejects(collect(decompressNar(trickle(bad), compression)), {
        code: "ERR_SUBSTITUTE_CORRUPT",
        message: new RegExp(`^the ${compression} data is corrupt or truncated \\(.+\\)$`),
      });
    }
  });

  test(`${compression}: a failing download is reported as itself`, async (t) => {
    if (!present(t, compression)) return;
    const file = compress(compression);
    const broken = new Error("the transfer broke off");
    async function* source() {
      yield file.subarray(0, 1000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw broken;
    }
    await assert.rejects(collect(decompressNar(source(), compression)), broken);
  });

  test(`${compression}: a consumer that stops early does not hang`, async (t) => {
    if (!present(t, compression)) return;
    for await (const _chunk of decompressNar(trickle(compress(compression)), compression)) {
      break;
    }
  });
}

test("a missing decompressor program is a clear error", async () => {
  const programs = { lzip: "kiln-no-such-lzip" };
  assert.equal(canDecompress("lzip", programs), false);
  await assert.rejects(collect(decompressNar(trickle(Buffer.from("x")), "lzip", { programs })), {
    code: "ERR_SUBSTITUTE_MISSING_PROGRAM",
    message: "cannot decompress lzip: the kiln-no-such-lzip program is not installed",
  });
});

test("an unknown compression is refused", () => {
  assert.equal(canDecompress("lz4"), false);
  assert.throws(() => decompressNar(trickle(Buffer.from("x")), "lz4"), {
    code: "ERR_SUBSTITUTE_COMPRESSION",
  });
});
