/**
 * The channels file: which git repositories `kiln pull` and `kiln time-machine` take
 * package modules from, as Guix's `channels.scm` but in JSON —
 *
 *   [ { "name": "sample", "url": "https://example.org/kiln.git", "branch": "main" },
 *     { "name": "extra", "url": "/srv/git/extra", "branch": "main",
 *       "commit": "0123456789abcdef0123456789abcdef01234567" } ]
 *
 * `branch` defaults to `main`; `commit` pins the channel (any unambiguous prefix).
 * Parsing is pure; the CLI reads the file.
 */
import { PackageError } from "./package-error.ts";

export interface ChannelSpec {
  /** The channel's name: letters, digits, `-`, `_`, `.` (part of a store path name). */
  readonly name: string;
  /** Where its git repository is: a path, `file://`, `http(s)://`, `git://`, `ssh://` or `user@host:path`. */
  readonly url: string;
  readonly branch: string;
  /** A commit to check out instead of the branch's tip. */
  readonly commit?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const COMMIT = /^[0-9a-f]{4,40}$/;
const URL_FORMS = [
  /^\//,
  /^file:\/\/\//,
  /^(https?|git|ssh):\/\/[^/\s]+\/\S*$/,
  /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+$/,
];

/** True for a repository location git can fetch and Kiln accepts (see ChannelSpec.url). */
export function isChannelUrl(url: string): boolean {
  return URL_FORMS.some((form) => form.test(url)) && !/\s/.test(url);
}

/**
 * Checks one channel description (from a file or the command line) and fills in defaults.
 * @example checkChannelSpec({ name: "sample", url: "/srv/git/kiln" }) // { …, branch: "main" }
 */
export function checkChannelSpec(raw: unknown, where = "channel"): ChannelSpec {
  const { name, url, branch, commit } = (raw ?? {}) as Record<string, unknown>;
  if (typeof name !== "string" || !NAME.test(name))
    throw new PackageError(`${where}: "name" must be a string of letters, digits, ".", "_", "-"`);
  if (typeof url !== "string" || !isChannelUrl(url))
    throw new PackageError(`channel ${name}: unsupported repository URL ${JSON.stringify(url)}`, {
      hint: "use an absolute path, file:///…, http(s)://…, git://…, ssh://… or user@host:path",
    });
  if (branch !== undefined && (typeof branch !== "string" || branch === "" || /\s/.test(branch)))
    throw new PackageError(`channel ${name}: "branch" must be a branch name`);
  if (commit !== undefined && (typeof commit !== "string" || !COMMIT.test(commit)))
    throw new PackageError(`channel ${name}: "commit" must be 4 to 40 lower-case hex digits`);
  return {
    name,
    url,
    branch: (branch as string | undefined) ?? "main",
    ...(commit === undefined ? {} : { commit: commit as string }),
  };
}

/**
 * Parses a channels file: a JSON array of channels with distinct names.
 * @example parseChannelsFile('[{"name":"sample","url":"/srv/git/kiln"}]', "channels.json")
 */
export function parseChannelsFile(text: string, file: string): ChannelSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PackageError(`${file}: not valid JSON`, { cause });
  }
  if (!Array.isArray(json) || json.length === 0)
    throw new PackageError(`${file}: expected a non-empty JSON array of channels`);
  const specs = json.map((raw, index) => checkChannelSpec(raw, `${file}: channel ${index + 1}`));
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name))
      throw new PackageError(`${file}: channel ${spec.name} is listed twice`);
    seen.add(spec.name);
  }
  return specs;
}
