import assert from "node:assert/strict";
import { test } from "node:test";
import { selectNarUrls } from "./select-nar-urls.ts";

test("zstd first, then the smallest file, then the narinfo's order; undecompressable left out", () => {
  const urls = [
    { url: "nar/lzip/a", compression: "lzip", fileSize: 50 },
    { url: "nar/gzip/a", compression: "gzip", fileSize: 200 },
    { url: "nar/a", compression: "none" },
    { url: "nar/xz/a", compression: "xz", fileSize: 100 },
    { url: "nar/zstd/a", compression: "zstd", fileSize: 150 },
  ];
  const chosen = selectNarUrls(urls, (compression) => compression !== "lzip");
  assert.deepEqual(
    chosen.map((url) => url.compression),
    ["zstd", "xz", "gzip", "none"],
  );
  assert.deepEqual(
    selectNarUrls(urls.slice(0, 1), () => false),
    [],
  );
});
