/**
 * Prints `{ "name-version": ".drv path" }` for every package of the channel directory
 * given as the first argument, lowered for `x86_64-linux` in `/gnu/store` without a store:
 * what the determinism test compares across processes and checkouts.
 */
import { bootstrapFor, drvPathsByName, loadChannel, lowerChannel } from "@kiln/packages";

const channel = await loadChannel(process.argv[2]!);
const lowered = await lowerChannel(channel, {
  system: process.argv[3] ?? "x86_64-linux",
  storeDir: "/gnu/store",
  bootstrap: bootstrapFor("/gnu/store"),
});
process.stdout.write(`${JSON.stringify(drvPathsByName(lowered))}\n`);
