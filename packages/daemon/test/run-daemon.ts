/**
 * A daemon in a child process for the interop, load and fault tests (they need to kill
 * it with -9, and real Nix clients need a daemon outside the test process). Takes one
 * JSON argument: `{ storeDir, realStoreDir, stateDir, socket, daemon?: DaemonOptions
 * fields that are plain data }`. Prints `ready` on stdout once listening; SIGTERM
 * shuts it down cleanly (exit 0).
 */
import { LocalStore } from "@kiln/store/local-store";
import type { DaemonOptions, ListenEndpoint } from "../src/daemon-options.ts";
import { startDaemon } from "../src/start-daemon.ts";

interface RunDaemonArguments {
  storeDir: string;
  realStoreDir: string;
  stateDir: string;
  listen: ListenEndpoint[];
  options?: Omit<
    DaemonOptions,
    "listen" | "logger" | "substituter" | "buildUserPool" | "signArchive"
  >;
  debug?: boolean;
}

const args = JSON.parse(process.argv[2]) as RunDaemonArguments;
const store = LocalStore.open(args);
const write = (level: string) => (fields: Record<string, unknown>, message: string) => {
  if (args.debug || level !== "debug")
    process.stderr.write(`${level} ${message} ${JSON.stringify(fields)}\n`);
};
const daemon = await startDaemon(store, {
  ...args.options,
  listen: args.listen,
  logger: {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  },
});
process.stdout.write(`ready ${JSON.stringify(daemon.addresses)}\n`);
process.once("SIGTERM", () => {
  daemon.close().then(() => {
    store.close();
    process.exit(0);
  });
});
