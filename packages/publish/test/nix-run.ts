/**
 * Runs real Nix commands asynchronously: the publish server under test lives in the
 * same process, so a synchronous spawn would block the very server Nix talks to.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface NixRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Nix keeps narinfos it has fetched in `$XDG_CACHE_HOME/nix/binary-cache-v6.sqlite`,
 * keyed by the cache's URL. Test servers listen on ephemeral ports, so a port used by
 * an earlier run (or test) would hand Nix that server's narinfo; each command gets an
 * empty cache directory of its own.
 */
export async function runNix(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<NixRun> {
  const cacheHome = mkdtempSync(join(tmpdir(), "kiln-nix-cache-"));
  const child = spawn(command, args, {
    env: { ...process.env, NIX_REMOTE: "", XDG_CACHE_HOME: cacheHome, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const [status] = (await once(child, "close")) as [number | null];
  rmSync(cacheHome, { recursive: true, force: true });
  return { status, stdout, stderr };
}

/**
 * A proxy in front of `upstream` that lets a test change response bodies, as a
 * man in the middle or a corrupted disk would.
 */
export async function tamperingProxy(
  upstream: string,
  tamper: (path: string, body: Buffer) => Buffer,
): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const response = await fetch(`${upstream}${req.url}`, { method: req.method });
    const body = tamper(req.url ?? "/", Buffer.from(await response.arrayBuffer()));
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      if (key !== "content-length" && key !== "transfer-encoding") headers[key] = value;
    });
    if (req.method !== "HEAD") headers["content-length"] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
