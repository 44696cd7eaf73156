/**
 * steer53's capacity provider in the simulator (functions/ports/capacity.ts): the world's regions
 * as their platforms would answer. An endpoint (SetIdentifier) is its region, as everywhere in the
 * simulator.
 *
 * - `read` gives the replicas in service (provisioned and warm; an incident's slowdown does not
 *   reduce them) and the replicas asked for, with the platform's `problem` once a launch could not
 *   be met (sim/fleet.ts); it throws while the region is down (its APIs are unreachable).
 * - `request` asks the region to hold `ask.desired` replicas. Capacity that cannot be obtained is
 *   not refused: the replicas never arrive, as in AWS. A count the platform refuses outright (above
 *   the region's maximum, below one) throws, as SetDesiredCapacity's ValidationError does.
 */
import type { CapacityAsk, CapacityProvider, CapacityReading, CapacityTarget } from '../../functions/ports/capacity.js';
import type { Clock } from '../../functions/ports/clock.js';
import type { CapacityAskRecord, ControllerContext } from '../world.js';

export class SimCapacityProvider implements CapacityProvider {
  readonly asks: CapacityAskRecord[] = [];

  constructor(
    private readonly context: Pick<ControllerContext, 'scenario' | 'fleets' | 'truth'>,
    private readonly clock: Clock,
  ) {}

  async read(target: CapacityTarget): Promise<CapacityReading> {
    return this.readNow(target);
  }

  async request(target: CapacityTarget, ask: CapacityAsk): Promise<void> {
    this.requestNow(target, ask);
  }

  /** `read`, at once: the engine-alone controller decides synchronously. */
  readNow(target: CapacityTarget): CapacityReading {
    const { r, t } = this.reach(target);
    const reading = this.context.fleets[r]!.reading(t);
    return { inService: reading.inService, desired: reading.desired, ...(reading.problem !== undefined ? { problem: reading.problem } : {}) };
  }

  /** The readings of every target that can be read now (a region that is down is left out, as the use case leaves out a failed read). */
  readAll(targets: readonly CapacityTarget[]): Record<string, CapacityReading> {
    const readings: Record<string, CapacityReading> = {};
    for (const target of targets) {
      try {
        readings[target.endpoint] = this.readNow(target);
      } catch {
        // Unreachable: nothing is asked of it this period.
      }
    }
    return readings;
  }

  requestNow(target: CapacityTarget, ask: CapacityAsk): void {
    const { r, t } = this.reach(target);
    this.context.fleets[r]!.request(t, ask.desired);
    this.asks.push({ t, endpoint: target.endpoint, desired: ask.desired, direction: ask.direction, reason: ask.reason });
  }

  /** The endpoint's region and the time now; throws while the region is down. */
  private reach(target: CapacityTarget): { r: number; t: number } {
    const { scenario, truth } = this.context;
    const r = scenario.endpoints.indexOf(target.endpoint);
    if (r < 0) throw new Error(`capacity: no region for endpoint "${target.endpoint}" (regions: ${scenario.endpoints.join(', ')})`);
    const t = (this.clock.now() - scenario.startMs) / 1000;
    if (truth.condition(r, t).down) throw new Error(`capacity: ${target.endpoint} (${target.region}) is down: its scaling API cannot be reached`);
    return { r, t };
  }
}
