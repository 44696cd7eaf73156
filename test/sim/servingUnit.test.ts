import { describe, expect, it } from 'vitest';
import { DEFAULT_UNIT, unitCapacityRps } from '../../sim/latencyModel.js';
import { runLoadPoint } from '../../sim/loadTest.js';
import { ServingUnit, type ServerParams, type UnitSink } from '../../sim/servingUnit.js';

const params: ServerParams = {
  prefillIdleMs: 50,
  prefillBusyMs: 150,
  prefillHalfBatch: 20,
  referencePromptTokens: 500,
  decodeBaseMs: 20,
  decodeDoublingBatch: 80,
  decodeExponent: 1.5,
  prefillDecodeShare: 0,
  maxNumSeqs: 256,
  kvCacheTokens: 1_000_000,
  gpuBusyShare: 0.9,
};

/** A sink that keeps everything the unit says. */
class Record implements UnitSink {
  readonly firstTokens: { t: number; ttft: number }[] = [];
  readonly failures: number[] = [];
  finishedCount = 0;
  firstToken(t: number, ttft: number): void {
    this.firstTokens.push({ t, ttft });
  }
  failed(t: number): void {
    this.failures.push(t);
  }
  finished(_t: number, count: number): void {
    this.finishedCount += count;
  }
}

describe('Class: ServingUnit', () => {
  it('prefills an idle unit’s prompt in its idle prefill time, scaled by the prompt’s length', () => {
    const sink = new Record();
    const unit = new ServingUnit(params, sink, 60);
    unit.arrive(0, 1000, 100, 1);
    unit.runUntil(1);
    expect(sink.firstTokens).toEqual([{ t: 0.1, ttft: 0.1 }]);
  });

  it('prefills one prompt at a time, first come first served: the second waits for the first', () => {
    const sink = new Record();
    const unit = new ServingUnit(params, sink, 60);
    unit.arrive(0, 500, 100, 1);
    unit.arrive(0.01, 500, 100, 1);
    unit.runUntil(1);
    expect(sink.firstTokens[0]!.ttft).toBeCloseTo(0.05, 9);
    // The second starts when the first is done, and its prefill shares the GPU with one decoding sequence.
    const second = params.prefillIdleMs + ((params.prefillBusyMs - params.prefillIdleMs) * 1) / (1 + params.prefillHalfBatch);
    expect(sink.firstTokens[1]!.t).toBeCloseTo(0.05 + second / 1000, 9);
  });

  it('makes every decode iteration slower as the batch grows', () => {
    const unit = new ServingUnit(params, new Record(), 60);
    expect(unit.iterationSeconds(0)).toBeCloseTo(0.02, 12);
    expect(unit.iterationSeconds(80)).toBeCloseTo(0.04, 12);
    expect(unit.iterationSeconds(160)).toBeGreaterThan(unit.iterationSeconds(80));
  });

  it('finishes a sequence after its output tokens at the iteration time of its batch', () => {
    const sink = new Record();
    const unit = new ServingUnit(params, sink, 60);
    unit.arrive(0, 500, 96, 1);
    unit.runUntil(0.05 + 96 * unit.iterationSeconds(1) - 0.01);
    expect(sink.finishedCount).toBe(0);
    unit.runUntil(0.05 + 96 * unit.iterationSeconds(1) + 0.01);
    expect(sink.finishedCount).toBe(1);
    expect(unit.batch).toBe(0);
  });

  it('holds prompts back while max_num_seqs sequences run, and lets the next in as one finishes', () => {
    const sink = new Record();
    const unit = new ServingUnit({ ...params, maxNumSeqs: 2 }, sink, 600);
    for (let i = 0; i < 3; i++) unit.arrive(0, 500, 200, 1);
    unit.runUntil(2);
    expect(sink.firstTokens).toHaveLength(2);
    expect(unit.waiting).toBe(1);
    unit.runUntil(20);
    expect(sink.firstTokens).toHaveLength(3);
  });

  it('holds prompts back while the KV cache has no room for them', () => {
    const sink = new Record();
    const unit = new ServingUnit({ ...params, kvCacheTokens: 1200 }, sink, 600);
    unit.arrive(0, 1000, 50, 1);
    unit.arrive(0, 1000, 50, 1);
    unit.runUntil(0.5);
    expect(sink.firstTokens).toHaveLength(1);
    expect(unit.kvUsage).toBeGreaterThan(0.8);
    unit.runUntil(10);
    expect(sink.firstTokens).toHaveLength(2);
  });

  it('drops a request whose client gave up before its prefill could start, without serving it', () => {
    const sink = new Record();
    const unit = new ServingUnit({ ...params, prefillIdleMs: 5000, prefillBusyMs: 5000 }, sink, 8);
    unit.arrive(0, 500, 10, 1);
    unit.arrive(0, 500, 10, 1);
    unit.arrive(0, 500, 10, 1);
    unit.runUntil(60);
    expect(sink.firstTokens.map((f) => f.ttft)).toEqual([5, 10]);
    expect(sink.failures).toEqual([10]);
  });

  it('conserves work: every arrival is served, dropped or still waiting', () => {
    const sink = new Record();
    const unit = new ServingUnit({ ...params, prefillIdleMs: 300, prefillBusyMs: 900 }, sink, 5);
    let arrived = 0;
    for (let t = 0; t < 60; t += 0.05) {
      unit.arrive(t, 400 + ((t * 1000) % 700), 50, 1);
      arrived++;
    }
    unit.runUntil(61);
    expect(sink.firstTokens.length + sink.failures.length + unit.waiting).toBe(arrived);
    expect(sink.failures.length).toBeGreaterThan(0);
  });

  it('loses its queue and its running sequences when its instances go away', () => {
    const sink = new Record();
    const unit = new ServingUnit(params, sink, 60);
    for (let i = 0; i < 5; i++) unit.arrive(0, 500, 500, 1);
    unit.runUntil(0.1);
    expect(unit.reset(0.1)).toBe(3);
    expect(unit.batch).toBe(0);
    expect(unit.waiting).toBe(0);
  });
});

describe('A load test of the default unit (Llama 3.3 70B fitted to OCI)', () => {
  const workload = { promptTokens: 480, outputTokens: 300 };

  it('grows time to first token gradually with load, then bends at saturation', () => {
    const ttft = [1, 16, 64, 128].map((c) => runLoadPoint(DEFAULT_UNIT, workload, { concurrency: c }, { seconds: 300 }).ttftMeanMs);
    for (let i = 1; i < ttft.length; i++) expect(ttft[i]!).toBeGreaterThan(ttft[i - 1]!);
    // Gradual at first (well under ×3 by 16 clients), steep near saturation.
    expect(ttft[1]! / ttft[0]!).toBeLessThan(3);
    expect(ttft[3]! / ttft[2]!).toBeGreaterThan(2);
  });

  it('saturates: throughput stops growing with more clients, at what the capacity model says', () => {
    const capacity = unitCapacityRps(DEFAULT_UNIT, workload);
    const at256 = runLoadPoint(DEFAULT_UNIT, workload, { concurrency: 256 }, { seconds: 300 }).reqPerS;
    const at512 = runLoadPoint(DEFAULT_UNIT, workload, { concurrency: 512 }, { seconds: 300 }).reqPerS;
    expect(Math.abs(at512 / at256 - 1)).toBeLessThan(0.1);
    expect(Math.abs(at512 / capacity - 1)).toBeLessThan(0.25);
  });

  it('reports GPU utilisation as busy time: high at modest load, so it says little about saturation', () => {
    const light = runLoadPoint(DEFAULT_UNIT, workload, { concurrency: 8 }, { seconds: 300 });
    const heavy = runLoadPoint(DEFAULT_UNIT, workload, { concurrency: 256 }, { seconds: 300 });
    expect(light.gpuUtil).toBeGreaterThan(60);
    expect(heavy.gpuUtil - light.gpuUtil).toBeLessThan(15);
    expect(heavy.ttftMeanMs / light.ttftMeanMs).toBeGreaterThan(10);
  });

  it('keeps the KV cache well short of full while requests queue for prefill', () => {
    const heavy = runLoadPoint(DEFAULT_UNIT, workload, { concurrency: 256 }, { seconds: 300 });
    expect(heavy.kvCache).toBeLessThan(60);
    expect(heavy.ttftMeanMs).toBeGreaterThan(1000);
  });
});
