import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheResourceUrl, normaliseCacheUrl } from "./cache-url.ts";

test("substitute URLs are normalised and resources resolved under them", () => {
  assert.equal(normaliseCacheUrl("https://cache.example.org/"), "https://cache.example.org");
  assert.equal(
    normaliseCacheUrl("http://127.0.0.1:8080/sub/dir//"),
    "http://127.0.0.1:8080/sub/dir",
  );
  assert.equal(normaliseCacheUrl("file:///srv/cache"), "file:///srv/cache");
  assert.equal(
    cacheResourceUrl("http://h/sub", "nar/x.nar.zst").href,
    "http://h/sub/nar/x.nar.zst",
  );
  assert.equal(cacheResourceUrl("http://h/sub", "https://cdn/x").href, "https://cdn/x");
  for (const bad of ["ssh://host", "not a url", "http://h/?q=1"]) {
    assert.throws(() => normaliseCacheUrl(bad), { code: "ERR_SUBSTITUTE_BAD_URL" }, bad);
  }
});
