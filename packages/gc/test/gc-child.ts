/**
 * Test support: a collector in its own process, as `kiln gc` would run next to clients.
 *   node gc-child.ts CONFIG_JSON loop STOP_FILE   collect until STOP_FILE exists; print the count
 *   node gc-child.ts CONFIG_JSON once             one collection, printing "deleted N" every 500 paths
 */
import { existsSync } from "node:fs";
import { LocalStore } from "@kiln/store/local-store";
import { collectGarbage } from "../src/collect-garbage.ts";

const [configJson, mode, stopFile] = process.argv.slice(2);
const store = LocalStore.open(JSON.parse(configJson));
if (mode === "loop") {
  let runs = 0;
  let deleted = 0;
  while (!existsSync(stopFile)) {
    const result = await collectGarbage(store);
    deleted += result.paths.length;
    runs++;
  }
  process.stdout.write(`${JSON.stringify({ runs, deleted })}\n`);
} else {
  let count = 0;
  await collectGarbage(store, {
    onDeleted: () => {
      if (++count % 500 === 0) process.stdout.write(`deleted ${count}\n`);
    },
  });
  process.stdout.write("done\n");
}
store.close();
