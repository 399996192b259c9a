/**
 * The daemon's Prometheus metrics (prom-client, in a registry of its own): clients
 * connected, operations served and failed by name, protocol errors, and builds pending.
 * `RunningDaemon.metrics()` renders them in the text exposition format, for a `/metrics`
 * endpoint or a textfile collector.
 */
import { Counter, Gauge, Registry } from "prom-client";

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly operations: Counter<"op">;
  readonly failures: Counter<"op">;
  readonly protocolErrors: Counter;
  /** The counter of each operation, looked up once (labelling costs a hash per call). */
  readonly #byOperation = new Map<string, { inc(): void }>();

  constructor(options: { pendingBuilds?: () => number } = {}) {
    const registers = [this.registry];
    this.connections = new Gauge({
      name: "kiln_daemon_connections",
      help: "Clients connected now",
      registers,
    });
    this.operations = new Counter({
      name: "kiln_daemon_operations_total",
      help: "Operations served, by name",
      labelNames: ["op"],
      registers,
    });
    this.failures = new Counter({
      name: "kiln_daemon_operation_failures_total",
      help: "Operations answered with an error, by name",
      labelNames: ["op"],
      registers,
    });
    this.protocolErrors = new Counter({
      name: "kiln_daemon_protocol_errors_total",
      help: "Connections dropped because the client broke the protocol",
      registers,
    });
    const pending = options.pendingBuilds;
    new Gauge({
      name: "kiln_daemon_builds_pending",
      help: "Derivations being built or waiting for a build slot",
      registers,
      collect() {
        this.set(pending?.() ?? 0);
      },
    });
  }

  /** Counts one operation served. */
  operation(name: string): void {
    let counter = this.#byOperation.get(name);
    if (counter === undefined) {
      counter = this.operations.labels(name);
      this.#byOperation.set(name, counter);
    }
    counter.inc();
  }
}
