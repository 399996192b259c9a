/** `kiln bootstrap import`: puts the bootstrap seeds (the static busybox) into the store, checked against their pinned hashes. */
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";

export function registerBootstrapCommand(program: Command): void {
  const bootstrap = program
    .command("bootstrap")
    .description("manage the bootstrap seeds every package build starts from");
  bootstrap
    .command("import")
    .description(
      "import the bootstrap seeds from this host into the store, checking their pinned hashes",
    )
    .option("--busybox <file>", "the static busybox to import", "/bin/busybox")
    .addHelpText(
      "after",
      "\nThe busybox seed is pinned to Debian bookworm's busybox-static 1:1.35.0-4+deb12u1+b1\n(apt-get install busybox-static). A host copy with another hash is refused.\nPrints the store path of each seed. Importing twice is harmless.\n\nExample:\n  kiln bootstrap import\n",
    )
    .action(async (options: { busybox: string }, command: Command) => {
      const { importBootstrapSeeds } = await import("@kiln/packages/bootstrap-seeds");
      await withStore(configOf(command), async (store) => {
        const seeds = await importBootstrapSeeds(store, { busyboxFile: options.busybox });
        process.stdout.write(`${seeds.busybox}\n`);
      });
    });
}
