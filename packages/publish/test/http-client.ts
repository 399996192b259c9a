/** Small HTTP helpers for tests that need a real socket (raw request lines, slow readers). */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { get } from "node:http";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Sends a raw request line (no URL normalisation by a client library); returns the status. */
export async function rawStatus(port: number, requestLine: string): Promise<number> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.end(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  let text = "";
  for await (const chunk of socket) text += chunk.toString("latin1");
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
}

/**
 * Downloads `url`, pausing for `pauseMs` after the first chunk and calling `whilePaused`
 * then (to look at the server meanwhile). Returns the body's size and SHA-256 (hex).
 */
export async function slowDownload(
  url: string,
  pauseMs: number,
  whilePaused: () => void,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    get(url, (res) => {
      res.once("data", async (first: Buffer) => {
        hash.update(first);
        size += first.length;
        res.pause();
        await sleep(pauseMs);
        try {
          whilePaused();
        } catch (error) {
          res.destroy();
          reject(error);
          return;
        }
        res.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        res.on("end", () => resolve());
        res.resume();
      });
      res.on("error", reject);
    }).on("error", reject);
  });
  return { size, sha256: hash.digest("hex") };
}
