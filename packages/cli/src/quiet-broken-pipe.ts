/**
 * A closed pipe (`kiln nar ls x | head`) ends the command quietly, with the exit code it
 * has so far, as for other Unix tools; any other error on stdout is thrown.
 */
export function quietOnBrokenPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}
