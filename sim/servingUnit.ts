/**
 * One serving unit of an LLM inference service (one model replica: vLLM, TGI, TensorRT-LLM on its
 * GPUs), simulated request by request as a continuous-batching server behaves:
 *
 * - **Prefill** of arriving prompts is a FIFO: one prompt at a time gets the GPU's prefill path,
 *   and a prompt takes longer the larger the running batch it shares every iteration with
 *   (`prefillIdleMs` alone, towards `prefillBusyMs` in a full batch). Its first token is out when
 *   its prefill ends: time to first token = waiting for admission + prefill under interference.
 * - **Decode**: every running sequence gets one token per iteration, and an iteration takes longer
 *   the more sequences run (`decodeBaseMs · (1 + (B / decodeDoublingBatch)^decodeExponent)`): every
 *   extra request slows the others a little, and a prefill in progress takes its share too.
 * - **Admission**: at most `maxNumSeqs` sequences run, and a prompt starts only when the KV cache has
 *   room for it (`kvCacheTokens`; the cache fills with every running sequence's prompt and the
 *   tokens it has generated). Otherwise it waits in the queue, which `num_requests_waiting` reports.
 * - **Timeouts**: a client gives up when its first token has not come within the timeout; its
 *   request leaves the queue unserved (the server aborts a disconnected request) and counts as failed.
 *
 * Work is conserved: what arrives is served, dropped on timeout, or still queued; nothing vanishes.
 * Decode progress is kept as a per-sequence token clock (`phi`), so one sequence's completion costs
 * O(1) however the batch size moves; completions are bucketed by BUCKET_TOKENS tokens.
 *
 * The unit never draws random numbers itself: callers pass each request's prompt, output and jitter.
 */

/** A serving unit's model: what a calibration (calibration.ts) fits from a load test. */
export interface ServerParams {
  /** Prefill of a reference prompt with nothing else running (ms): the floor of time to first token. */
  readonly prefillIdleMs: number;
  /** Prefill of a reference prompt inside a very large running batch (ms). */
  readonly prefillBusyMs: number;
  /** Running batch at which prefill is halfway from idle to busy. */
  readonly prefillHalfBatch: number;
  /** Prompt tokens the prefill times are for; a prompt's prefill scales with its length. */
  readonly referencePromptTokens: number;
  /** One decode iteration with a single sequence (ms). */
  readonly decodeBaseMs: number;
  /**
   * Running batch at which an iteration takes twice its base time; with `decodeExponent`, an
   * iteration takes base · (1 + (B / decodeDoublingBatch)^decodeExponent).
   */
  readonly decodeDoublingBatch: number;
  readonly decodeExponent: number;
  /**
   * Share of the GPU a prefill takes from the decodes while it runs: decode iterations are this
   * much slower during a prefill (0: prefill hides in spare capacity; 1: decode stops).
   */
  readonly prefillDecodeShare: number;
  /** Sequences that may run at once (vLLM `max_num_seqs`). */
  readonly maxNumSeqs: number;
  /** KV-cache capacity in tokens. */
  readonly kvCacheTokens: number;
  /**
   * GPU utilisation a busy unit reports (NVML/DCGM and SageMaker count the share of time a kernel
   * runs; CPU scheduling between iterations and collective communication show as idle).
   */
  readonly gpuBusyShare: number;
}

/** Where a unit reports what happens to its requests. */
export interface UnitSink {
  /** A first token went out at time t (seconds), `ttftSeconds` after the request arrived. */
  firstToken(t: number, ttftSeconds: number): void;
  /** A request failed at time t (its client gave up waiting). */
  failed(t: number): void;
  /** `count` sequences finished at time t (a closed-loop client sends its next request). */
  finished(t: number, count: number): void;
}

/** Tokens per decode-completion bucket: a completion is placed within half a bucket of its exact token. */
export const BUCKET_TOKENS = 8;
const RING = 4096;
const RING_MASK = RING - 1;
/** The longest output a sequence is simulated to: longer outputs are cut here (32k tokens). */
export const MAX_OUTPUT_TOKENS = (RING - 1) * BUCKET_TOKENS;

export class ServingUnit {
  /** Waiting requests, FIFO (ring buffers that grow). */
  private qArrival = new Float64Array(256);
  private qPrompt = new Float64Array(256);
  private qOutput = new Float64Array(256);
  private qJitter = new Float64Array(256);
  private qHead = 0;
  private qSize = 0;

  /** When the prefill path is next free (or, while admission is blocked, when it looks again). */
  private freeAt = 0;
  /** When the prefill in progress ends: the GPU is busy until then whatever the batch does. */
  private prefillEnd = 0;
  /** The time decode progress has been advanced to. */
  private now = 0;
  /** Sequences decoding, and KV-cache tokens in use. */
  private running = 0;
  private kvTokens = 0;
  /** Tokens each decoding sequence has generated since the unit started (the decode clock). */
  private phi = 0;
  private readonly ringCount = new Float64Array(RING);
  private readonly ringKv = new Float64Array(RING);
  /** One bit per bucket that holds a completion: the next one is found a word at a time. */
  private readonly occupied = new Uint32Array(RING >>> 5);

  /** Seconds the GPU had work (decode or prefill) since the last `takeBusySeconds`. */
  private busy = 0;
  /** Sequence-seconds of decoding and tokens decoded since the last `takeDecodeStats`: their ratio is the mean time per output token. */
  private decodeSeqSeconds = 0;
  private decodedTokens = 0;
  /** Multiplier on every duration (a slower version of the model, a degraded GPU): 1 = as calibrated. */
  private slowdown = 1;
  /** Iteration seconds by running batch (0…maxNumSeqs) at the current slowdown: a lookup per use. */
  private tauTable: Float64Array = new Float64Array(0);

  constructor(
    readonly params: ServerParams,
    private readonly sink: UnitSink,
    /** Seconds a client waits for its first token before it gives up. */
    private readonly timeoutSeconds: number,
  ) {}

  /** Requests waiting for admission (vLLM's `num_requests_waiting`). */
  get waiting(): number {
    return this.qSize;
  }

  /** Sequences decoding (vLLM's `num_requests_running`, less the one in prefill). */
  get batch(): number {
    return this.running;
  }

  /** Share of the KV cache in use, 0–1. */
  get kvUsage(): number {
    return Math.min(1, Math.max(0, this.kvTokens / this.params.kvCacheTokens));
  }

  /** Sets the multiplier on prefill and decode times from now on (gray failure, a bad version). */
  setSlowdown(factor: number): void {
    if (factor !== this.slowdown) this.tauTable = new Float64Array(0);
    this.slowdown = factor;
  }

  /** GPU-busy seconds since the last call (then starts counting again). */
  takeBusySeconds(): number {
    const busy = this.busy;
    this.busy = 0;
    return busy;
  }

  /** Sequence-seconds decoding and tokens decoded since the last call (then starts counting again). */
  takeDecodeStats(): { seqSeconds: number; tokens: number } {
    const stats = { seqSeconds: this.decodeSeqSeconds, tokens: this.decodedTokens };
    this.decodeSeqSeconds = 0;
    this.decodedTokens = 0;
    return stats;
  }

  /** A request arrives at time t (non-decreasing across calls). `jitter` multiplies its prefill. */
  arrive(t: number, promptTokens: number, outputTokens: number, jitter: number): void {
    this.serveUntil(t);
    if (this.qSize === this.qArrival.length) this.grow();
    const i = (this.qHead + this.qSize) & (this.qArrival.length - 1);
    this.qArrival[i] = t;
    this.qPrompt[i] = promptTokens;
    this.qOutput[i] = Math.min(MAX_OUTPUT_TOKENS, Math.max(1, outputTokens));
    this.qJitter[i] = jitter;
    this.qSize++;
  }

  /** Runs the unit up to time t: prefills that can start before t, and decode up to t. */
  runUntil(t: number): void {
    this.serveUntil(t);
    if (this.now < t) this.advanceTo(t);
  }

  /**
   * The unit loses its instances (hard down, or taken away): every waiting request fails at t and
   * the running sequences are gone. Returns how many requests failed.
   */
  reset(t: number): number {
    const failed = this.qSize;
    for (let k = 0; k < failed; k++) this.sink.failed(t);
    this.qHead = 0;
    this.qSize = 0;
    this.running = 0;
    this.kvTokens = 0;
    this.ringCount.fill(0);
    this.ringKv.fill(0);
    this.occupied.fill(0);
    this.freeAt = t;
    this.prefillEnd = t;
    this.now = Math.max(this.now, t);
    return failed;
  }

  /** Prefill time of a prompt now (seconds), before its jitter. */
  prefillSeconds(promptTokens: number, batch: number): number {
    const p = this.params;
    const ms = p.prefillIdleMs + ((p.prefillBusyMs - p.prefillIdleMs) * batch) / (batch + p.prefillHalfBatch);
    return (ms * this.slowdown * promptTokens) / p.referencePromptTokens / 1000;
  }

  /** One decode iteration with `batch` sequences (seconds). */
  iterationSeconds(batch: number): number {
    if (this.tauTable.length === 0) {
      const p = this.params;
      this.tauTable = Float64Array.from(
        { length: p.maxNumSeqs + 2 },
        (_, b) => (p.decodeBaseMs * (1 + (b / p.decodeDoublingBatch) ** p.decodeExponent) * this.slowdown) / 1000,
      );
    }
    return this.tauTable[Math.min(this.tauTable.length - 1, batch)]!;
  }

  /** Starts every prefill that can start before T, in FIFO order. */
  private serveUntil(T: number): void {
    const p = this.params;
    while (this.qSize > 0) {
      const h = this.qHead;
      const arrival = this.qArrival[h]!;
      const start = Math.max(this.freeAt, arrival);
      if (start >= T) return;
      if (this.now < start) this.advanceTo(start);
      if (start - arrival > this.timeoutSeconds) {
        this.pop();
        this.sink.failed(start);
        continue;
      }
      const prompt = this.qPrompt[h]!;
      if (this.running + 1 > p.maxNumSeqs || this.kvTokens + prompt > p.kvCacheTokens) {
        // No room: wait for the next sequence to finish (a prompt larger than the whole cache never fits).
        if (this.running === 0) {
          this.pop();
          this.sink.failed(start);
          continue;
        }
        const next = this.nextCompletionTime();
        if (next >= T) {
          this.advanceTo(T);
          this.freeAt = T;
          return;
        }
        this.advanceTo(next);
        this.freeAt = next;
        continue;
      }
      const duration = this.prefillSeconds(prompt, this.running) * this.qJitter[h]!;
      const done = start + duration;
      const output = this.qOutput[h]!;
      this.pop();
      this.freeAt = done;
      this.prefillEnd = done;
      this.busy += duration;
      this.advanceTo(done);
      this.sink.firstToken(done, done - arrival);
      this.running++;
      this.kvTokens += prompt;
      const bucket = Math.round((this.phi + output) / BUCKET_TOKENS) & RING_MASK;
      this.ringCount[bucket]! += 1;
      this.occupied[bucket >>> 5]! |= 1 << (bucket & 31);
      this.ringKv[bucket]! += prompt + output;
    }
  }

  /** Decode from `now` to t: the batch's clock runs, and sequences finish as it crosses their bucket. */
  private advanceTo(t: number): void {
    while (this.now < t) {
      if (this.running <= 0) {
        this.now = t;
        return;
      }
      // While a prefill runs it takes its share of every iteration; split the interval where it ends.
      const prefilling = this.params.prefillDecodeShare > 0 && this.now < this.prefillEnd;
      const tau = this.iterationSeconds(this.running) / (prefilling ? 1 - this.params.prefillDecodeShare : 1);
      const limit = prefilling && this.prefillEnd < t ? this.prefillEnd : t;
      // The next bucket holding a completion: the batch stays as it is until then.
      const reach = this.phi + (limit - this.now) / tau;
      const first = Math.floor(this.phi / BUCKET_TOKENS) + 1;
      const next = this.nextOccupied(first, Math.floor(reach / BUCKET_TOKENS));
      if (next < 0) {
        this.account(limit, tau);
        this.phi = reach;
        this.now = limit;
        continue;
      }
      const boundary = next * BUCKET_TOKENS;
      const cross = this.now + (boundary - this.phi) * tau;
      this.account(cross, tau);
      this.now = cross;
      this.phi = boundary;
      const bucket = next & RING_MASK;
      const count = this.ringCount[bucket]!;
      this.running -= count;
      this.kvTokens -= this.ringKv[bucket]!;
      this.ringCount[bucket] = 0;
      this.ringKv[bucket] = 0;
      this.occupied[bucket >>> 5]! &= ~(1 << (bucket & 31));
      if (this.running < 1e-9) {
        this.running = 0;
        this.kvTokens = 0;
      }
      this.sink.finished(cross, count);
    }
  }

  /** Busy time and decode statistics from `now` to t, at iteration time tau. */
  private account(t: number, tau: number): void {
    // Only the part of the interval the prefill path did not already count as busy.
    this.busy += t - Math.max(this.now, Math.min(t, this.prefillEnd));
    const seqSeconds = this.running * (t - this.now);
    this.decodeSeqSeconds += seqSeconds;
    this.decodedTokens += seqSeconds / tau;
  }

  /** When the next running sequence finishes, at the batch as it is now. */
  private nextCompletionTime(): number {
    const first = Math.floor(this.phi / BUCKET_TOKENS) + 1;
    const next = this.nextOccupied(first, first + RING - 1);
    return next < 0 ? Number.POSITIVE_INFINITY : this.now + (next * BUCKET_TOKENS - this.phi) * this.iterationSeconds(this.running);
  }

  /** The first bucket index in [from, to] (absolute, not wrapped) holding a completion, or -1. */
  private nextOccupied(from: number, to: number): number {
    let index = from;
    while (index <= to) {
      const slot = index & RING_MASK;
      const word = this.occupied[slot >>> 5]! >>> (slot & 31);
      if (word !== 0) {
        const found = index + (31 - Math.clz32(word & -word));
        return found <= to ? found : -1;
      }
      // Nothing left in this word: jump to the start of the next one.
      index += 32 - (slot & 31);
    }
    return -1;
  }

  private pop(): void {
    this.qHead = (this.qHead + 1) & (this.qArrival.length - 1);
    this.qSize--;
  }

  private grow(): void {
    const size = this.qArrival.length * 2;
    const copy = (from: Float64Array): Float64Array<ArrayBuffer> => {
      const to = new Float64Array(size);
      for (let k = 0; k < this.qSize; k++) to[k] = from[(this.qHead + k) & (from.length - 1)]!;
      return to;
    };
    this.qArrival = copy(this.qArrival);
    this.qPrompt = copy(this.qPrompt);
    this.qOutput = copy(this.qOutput);
    this.qJitter = copy(this.qJitter);
    this.qHead = 0;
  }
}
