/**
 * systemd socket activation: sockets passed down as file descriptors 3, 4, … with
 * `LISTEN_PID` (which process they are for) and `LISTEN_FDS` (how many), and optionally
 * `LISTEN_FDNAMES` (colon-separated names). A socket named `trusted` is served as
 * trusted; the unit that creates it decides who may open it. The environment is read at
 * the CLI edge and passed in.
 */
import type { ListenEndpoint } from "./daemon-options.ts";

const FIRST_FD = 3;

/** The inherited sockets, or an empty list when none were passed to this process. */
export function systemdListenEndpoints(
  env: Readonly<Record<string, string | undefined>>,
  pid: number = process.pid,
): ListenEndpoint[] {
  const count = Number(env.LISTEN_FDS ?? "0");
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return [];
  if (!Number.isInteger(count) || count <= 0) return [];
  const names = (env.LISTEN_FDNAMES ?? "").split(":");
  return Array.from({ length: count }, (_, i) => ({
    kind: "fd" as const,
    fd: FIRST_FD + i,
    trusted: names[i] === "trusted",
  }));
}
