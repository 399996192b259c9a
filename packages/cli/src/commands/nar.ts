/** `kiln nar dump|restore|ls|cat`: NAR archives on the command line, streamed both ways. */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";

/** The archive argument: a file, or `-` for standard input. */
function openArchive(archive: string): AsyncIterable<Uint8Array> {
  return archive === "-" ? process.stdin : createReadStream(archive);
}

export function registerNarCommand(program: Command): void {
  const nar = program.command("nar").description("create, unpack and inspect NAR archives");
  nar
    .command("dump")
    .description("write the NAR serialisation of PATH to standard output (as nix-store --dump)")
    .argument("<path>", "file, directory or symlink to serialise")
    .action(async (path: string) => {
      const { dumpPath } = await import("@kiln/formats/nar-writer");
      await pipeline(Readable.from(dumpPath(path)), process.stdout);
    });
  nar
    .command("restore")
    .description(
      "unpack a NAR read from standard input into DIR, which must not exist (as nix-store --restore)",
    )
    .argument("<dir>", "where to unpack; nothing is left there if the archive is bad")
    .action(async (dir: string) => {
      const { restoreNar } = await import("@kiln/formats/nar-restore");
      await restoreNar(process.stdin, dir);
    });
  nar
    .command("ls")
    .description("list the entries of a NAR archive (as nix nar ls -R)")
    .argument("<archive>", "NAR file, or - for standard input")
    .argument("[path]", "list only this entry and what is below it", "")
    .option("-l, --long", "show type, executable bit and size")
    .option("--json", "print the entries as JSON")
    .action(async (archive: string, path: string, options: { long?: boolean; json?: boolean }) => {
      const { listNar } = await import("@kiln/formats/nar-listing");
      const entries = await listNar(openArchive(archive), { path });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      for (const entry of entries) {
        const name = `/${entry.path}`.replace(/^\/$/, "/");
        if (!options.long) {
          process.stdout.write(`${name}\n`);
        } else if ("target" in entry) {
          process.stdout.write(`lrwxrwxrwx ${"0".padStart(12)} ${name} -> ${entry.target}\n`);
        } else if ("size" in entry) {
          process.stdout.write(
            `${entry.executable ? "-r-xr-xr-x" : "-r--r--r--"} ${String(entry.size).padStart(12)} ${name}\n`,
          );
        } else {
          process.stdout.write(`dr-xr-xr-x ${"0".padStart(12)} ${name}\n`);
        }
      }
    });
  nar
    .command("cat")
    .description(
      "write the contents of the regular file PATH inside a NAR archive to standard output",
    )
    .argument("<archive>", "NAR file, or - for standard input")
    .argument("<path>", "path of a regular file inside the archive, e.g. bin/hello")
    .action(async (archive: string, path: string) => {
      const { catNar } = await import("@kiln/formats/nar-cat");
      await pipeline(Readable.from(catNar(openArchive(archive), path)), process.stdout);
    });
}
