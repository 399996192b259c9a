/**
 * The answer to `GET /<hash>.narinfo`, as plain data so that both HTTP layers give it:
 * the Hono app (publish-app.ts) and the server's fast path for narinfos (narinfos are
 * most of a cache's requests, and node:http alone answers them about three times as
 * fast as through a Request/Response adapter; see bench/publish.ts).
 */
import type { PublishContext } from "./publish-context.ts";
import { isHashPart } from "./request-names.ts";

export interface NarinfoAnswer {
  readonly status: 200 | 400 | 404 | 500;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const TEXT = "text/plain";
/** The answer made for each remembered narinfo, reused while the narinfo is in memory. */
const answers = new WeakMap<object, NarinfoAnswer>();
const BAD_NAME = Buffer.from("Bad request: a narinfo is named by 32 nix32 characters.\n");
const NOT_FOUND = Buffer.from("Resource not found.\n");
const BAKING = Buffer.from("We're baking it.\n");
/** Seconds a client may keep a "baking" 404 or a temporary narinfo: guix publish's 5 minutes. */
const TEMPORARY_TTL = 300;

/**
 * Answers a request for the file `fileName` (`<hash part>.narinfo`): 400 for a malformed
 * name (before any lookup), 404 with the negative TTL when missing, 404 "We're baking
 * it" (max-age 300) while the cache bakes it, else the signed narinfo (max-age 300 when
 * it is a temporary one made while the item bakes, else the --ttl).
 * @example narinfoAnswer(context, "ykyykp577wb1yhpcm4g1iiy9kvp0fwzr.narinfo").status // 200
 */
export function narinfoAnswer(context: PublishContext, fileName: string): NarinfoAnswer {
  const hashPart = fileName.slice(0, -".narinfo".length);
  if (!fileName.endsWith(".narinfo") || !isHashPart(hashPart)) {
    return { status: 400, headers: { "Content-Type": TEXT }, body: BAD_NAME };
  }
  const result = context.narinfos.lookup(hashPart);
  if (result.kind === "missing") {
    const headers: Record<string, string> = { "Content-Type": TEXT };
    if (context.negativeTtl !== undefined)
      headers["Cache-Control"] = `max-age=${context.negativeTtl}`;
    return { status: 404, headers, body: NOT_FOUND };
  }
  if (result.kind === "baking") {
    return {
      status: 404,
      headers: { "Content-Type": TEXT, "Cache-Control": `max-age=${TEMPORARY_TTL}` },
      body: BAKING,
    };
  }
  let answer = answers.get(result);
  if (!answer) {
    const headers: Record<string, string> = {
      "Content-Type": "text/x-nix-narinfo",
      "Content-Length": String(result.body.length),
    };
    if (result.temporary) headers["Cache-Control"] = `max-age=${TEMPORARY_TTL}`;
    else if (context.ttl !== undefined) headers["Cache-Control"] = `max-age=${context.ttl}`;
    answer = { status: 200, headers, body: result.body };
    answers.set(result, answer);
  }
  return answer;
}
