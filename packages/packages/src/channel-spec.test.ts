import assert from "node:assert/strict";
import { test } from "node:test";
import { checkChannelSpec, isChannelUrl, parseChannelsFile } from "./channel-spec.ts";

test("a channels file is a JSON array; branch defaults to main, commit is kept", () => {
  const specs = parseChannelsFile(
    JSON.stringify([
      { name: "sample", url: "https://example.org/kiln.git" },
      { name: "extra", url: "/srv/git/extra", branch: "stable", commit: "0123abc" },
    ]),
    "channels.json",
  );
  assert.deepEqual(specs, [
    { name: "sample", url: "https://example.org/kiln.git", branch: "main" },
    { name: "extra", url: "/srv/git/extra", branch: "stable", commit: "0123abc" },
  ]);
});

test("repository URLs: paths, file, http(s), git, ssh and scp-like forms only", () => {
  for (const url of [
    "/srv/git/kiln",
    "file:///srv/git/kiln",
    "https://example.org/kiln.git",
    "http://127.0.0.1:8080/kiln",
    "git://example.org/kiln",
    "ssh://git@example.org/kiln",
    "git@example.org:kiln.git",
  ])
    assert.ok(isChannelUrl(url), url);
  for (const url of ["relative/path", "foo:bar", "ftp://example.org/x", "file://host/x", "/a b"])
    assert.ok(!isChannelUrl(url), url);
});

test("bad channels files fail with a message naming the file and the problem", () => {
  const cases: Array<[string, RegExp]> = [
    ["not json", /channels\.json: not valid JSON/],
    ["[]", /non-empty JSON array/],
    ['{"name":"x"}', /non-empty JSON array/],
    ['[{"url":"/x"}]', /channel 1: "name" must be/],
    ['[{"name":"x","url":"x"}]', /channel x: unsupported repository URL "x"/],
    ['[{"name":"x","url":"/x","commit":"XYZ"}]', /"commit" must be 4 to 40/],
    ['[{"name":"x","url":"/x","branch":""}]', /"branch" must be a branch name/],
    ['[{"name":"x","url":"/x"},{"name":"x","url":"/y"}]', /channel x is listed twice/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parseChannelsFile(text, "channels.json"), message, text);
  assert.throws(() => checkChannelSpec({ name: "a b", url: "/x" }), /"name" must be/);
});
