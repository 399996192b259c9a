/**
 * `--listen` values as guix-daemon reads them: one starting with `/` is a unix socket;
 * anything else is `HOST[:PORT]` for TCP, port 44146 by default (IPv6 hosts in
 * brackets: `[::1]:44146`). A bare `:PORT` listens on the loopback address only:
 * exposing the daemon to the network takes naming a host.
 */
import { DaemonError } from "./daemon-error.ts";
import type { ListenEndpoint } from "./daemon-options.ts";

export const DEFAULT_TCP_PORT = 44146;

/**
 * @example parseListenEndpoint("/var/kiln/daemon-socket/socket") // { kind: "unix", path: … }
 * @example parseListenEndpoint("localhost") // { kind: "tcp", host: "localhost", port: 44146 }
 */
export function parseListenEndpoint(value: string): ListenEndpoint {
  if (value.startsWith("/")) return { kind: "unix", path: value };
  if (/^:\d+$/.test(value)) return parseListenEndpoint(`127.0.0.1${value}`);
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  const plain = /^([^:[\]/]+)(?::(\d+))?$/.exec(value);
  const match = bracketed ?? plain;
  if (match === null || match[1] === "") {
    throw new DaemonError("USAGE", `cannot parse listen address ${JSON.stringify(value)}`, {
      hint: "give an absolute socket path or HOST[:PORT]",
    });
  }
  const port = match[2] === undefined ? DEFAULT_TCP_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DaemonError("USAGE", `port ${match[2]} of ${value} is not a TCP port`);
  }
  return { kind: "tcp", host: match[1], port };
}
