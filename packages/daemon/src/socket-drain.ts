/**
 * Waiting for a socket to have room again. `events.once` raced against "close" would
 * leave a listener behind on every wait; this removes both when either fires.
 */
import type { Socket } from "node:net";

/** Resolves on "drain" or "close", whichever comes first. */
export function socketDrained(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
