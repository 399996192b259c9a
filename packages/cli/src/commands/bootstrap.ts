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
      "\nThe busybox seed is pinned to Debian bookworm's busybox-static 1:1.35.0-4+deb12u1+b1\n(apt-get install busybox-static). A host copy with another hash is refused.\nPrints the store path of each seed. Importing twice is harmless. When a daemon runs, the\nseeds go to its store through it (any user may add them).\n\nExample:\n  kiln bootstrap import\n",
    )
    .action(async (options: { busybox: string }, command: Command) => {
      const { importBootstrapSeeds } = await import("@kiln/packages/bootstrap-seeds");
      const config = configOf(command);
      const { connectDaemon } = await import("../open-daemon.ts");
      const client = await connectDaemon(config);
      if (client) {
        // Through the daemon (AddToStore), as anyone may add content-addressed items.
        const { daemonStoreWriter } = await import("../daemon-store-writer.ts");
        try {
          const seeds = await importBootstrapSeeds(daemonStoreWriter(client, config.storeDir), {
            busyboxFile: options.busybox,
          });
          process.stdout.write(`${seeds.busybox}\n`);
        } finally {
          client.close();
        }
        return;
      }
      await withStore(config, async (store) => {
        const seeds = await importBootstrapSeeds(store, { busyboxFile: options.busybox });
        process.stdout.write(`${seeds.busybox}\n`);
      });
    });
}
