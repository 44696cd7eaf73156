/**
 * Capacity providers in memory: each endpoint holds a desired count and a count in service, the
 * test (or the simulator) decides when asked-for instances come into service, and every request
 * is logged. Reads and requests can be made to fail.
 */
import type { CapacityAsk, CapacityProvider, CapacityReading, CapacityTarget } from '../../ports/capacity.js';
import type { Clock } from '../../ports/clock.js';

export interface CapacityLogEntry {
  readonly at: number | null;
  readonly service: string;
  readonly endpoint: string;
  readonly ask: CapacityAsk;
}

interface Fleet {
  desired: number;
  inService: number;
  problem?: string;
}

export class InMemoryCapacity implements CapacityProvider {
  readonly #fleets = new Map<string, Fleet>();
  readonly #log: CapacityLogEntry[] = [];
  readonly #clock: Clock | undefined;
  #readFailures: Error[] = [];
  #requestFailures: Error[] = [];

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock;
  }

  /** Defines an endpoint's fleet: `inService` instances, all of them desired. */
  define(service: string, endpoint: string, inService: number): void {
    this.#fleets.set(keyOf(service, endpoint), { desired: inService, inService });
  }

  /** Instances come into service (or leave it), as the platform would make them. */
  setInService(service: string, endpoint: string, inService: number, problem?: string): void {
    const fleet = this.#fleet(service, endpoint);
    fleet.inService = inService;
    if (problem === undefined) delete fleet.problem;
    else fleet.problem = problem;
  }

  /** Brings every endpoint's instances in service up (or down) to what is desired. */
  settle(): void {
    for (const fleet of this.#fleets.values()) fleet.inService = fleet.desired;
  }

  /** The next reads (or requests) throw these, one each. */
  failReads(...errors: Error[]): void {
    this.#readFailures.push(...errors);
  }

  failRequests(...errors: Error[]): void {
    this.#requestFailures.push(...errors);
  }

  get log(): readonly CapacityLogEntry[] {
    return this.#log;
  }

  fleet(service: string, endpoint: string): CapacityReading {
    return this.#reading(this.#fleet(service, endpoint));
  }

  async read(target: CapacityTarget): Promise<CapacityReading> {
    const failure = this.#readFailures.shift();
    if (failure) throw failure;
    return this.#reading(this.#fleet(target.service, target.endpoint));
  }

  async request(target: CapacityTarget, ask: CapacityAsk): Promise<void> {
    const failure = this.#requestFailures.shift();
    if (failure) throw failure;
    this.#fleet(target.service, target.endpoint).desired = ask.desired;
    this.#log.push({ at: this.#clock?.now() ?? null, service: target.service, endpoint: target.endpoint, ask });
  }

  #fleet(service: string, endpoint: string): Fleet {
    const fleet = this.#fleets.get(keyOf(service, endpoint));
    if (!fleet) throw new Error(`no capacity defined for ${service}/${endpoint}`);
    return fleet;
  }

  #reading(fleet: Fleet): CapacityReading {
    return { inService: fleet.inService, desired: fleet.desired, ...(fleet.problem !== undefined ? { problem: fleet.problem } : {}) };
  }
}

function keyOf(service: string, endpoint: string): string {
  return `${service}|${endpoint}`;
}
