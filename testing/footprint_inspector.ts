/**
 * The memory of every JavaScript isolate of a Deno process started with
 * `--inspect`, read through the V8 inspector: the main isolate's own
 * session, and each Web Worker's through the `NodeWorker` domain (Deno
 * announces its workers there with their id and entry URL). In each isolate
 * it evaluates `Deno.memoryUsage()` (heap used and committed, external
 * memory) and asks `Runtime.getHeapUsage` (ArrayBuffer backing stores), so
 * nothing in the product has to report it.
 *
 * A worker's id is the number in the name of its thread (`worker-<id>`, see
 * `testing/footprint_proc.ts`), which ties each isolate to its CPU time.
 *
 * The session is opened for one reading and closed again, so an inspector
 * client is attached only for that moment (with `--inspect` and no client
 * the inspector costs one idle server thread).
 *
 * @example
 * ```ts ignore
 * // the service was started with `deno run --inspect=127.0.0.1:0 …`, which
 * // printed "Debugger listening on ws://127.0.0.1:PORT/ID" on stderr
 * const isolates = await isolateMemory("ws://127.0.0.1:9229/abc");
 * for (const i of isolates) console.log(i.name, i.heapUsed, i.external);
 * ```
 * @module
 */

/** Memory of one isolate, bytes. */
export interface IsolateMemory {
  /** `"main"`, or the worker's entry file name without `.ts` (e.g. `"ingest_worker"`). */
  name: string;
  /** The worker's id (its thread is `worker-<id>`); undefined for the main isolate. */
  workerId?: number;
  /** Entry module URL of a worker; `""` for the main isolate. */
  url: string;
  /** V8 heap in use (`Deno.memoryUsage().heapUsed`). */
  heapUsed: number;
  /** V8 heap committed (`heapTotal`). */
  heapTotal: number;
  /** Memory of JS objects held outside the V8 heap (`external`), as `nodejs_external_memory_bytes` reports it for the main isolate. */
  external: number;
  /** Bytes of ArrayBuffer backing stores this isolate holds (`Runtime.getHeapUsage`'s `backingStorageSize`). */
  arrayBuffers: number;
}

/** Options of {@link isolateMemory}. */
export interface IsolateMemoryOptions {
  /** Give up after this many ms. Default 15000. */
  timeoutMs?: number;
  /** How long to wait for the workers to be announced after `NodeWorker.enable`, ms. Default 500. */
  settleMs?: number;
  /**
   * Run a full garbage collection in each isolate before reading it, so the
   * heap figures are the live heap (needs `--v8-flags=--expose-gc`; without
   * it nothing is collected). Default false.
   */
  gc?: boolean;
}

interface Reply {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Evaluated in each isolate: its own `Deno.memoryUsage()`. */
const MEMORY_EXPRESSION = "JSON.stringify(Deno.memoryUsage())";

/** Evaluated in each isolate first when asked to: a full GC where `--expose-gc` made one available. */
const GC_EXPRESSION = "globalThis.gc?.()";

/**
 * One inspector session: commands to the main isolate, or, with a worker
 * session id, wrapped in `NodeWorker.sendMessageToWorker`.
 */
class InspectorSession {
  readonly workers = new Map<string, { workerId: number; url: string }>();
  readonly #ws: WebSocket;
  readonly #pending = new Map<
    number,
    { resolve: (r: Reply) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => this.#receive(JSON.parse(e.data as string) as Reply);
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("inspector session closed"));
      this.#pending.clear();
    };
  }

  /** Send `method` to the main isolate, or to the worker of `session`. */
  call(method: string, params: Record<string, unknown> = {}, session?: string): Promise<Reply> {
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject })
    );
    const message = JSON.stringify({ id, method, params });
    this.#ws.send(
      session === undefined ? message : JSON.stringify({
        id: this.#nextId++,
        method: "NodeWorker.sendMessageToWorker",
        params: { sessionId: session, message },
      }),
    );
    return reply.then((r) => {
      if (r.error) throw new Error(`inspector: ${method} failed: ${r.error.message}`);
      return r;
    });
  }

  #receive(m: Reply): void {
    if (m.method === "NodeWorker.attachedToWorker") {
      const p = m.params as { sessionId: string; workerInfo: { workerId: string; url: string } };
      this.workers.set(p.sessionId, {
        workerId: Number(p.workerInfo.workerId),
        url: p.workerInfo.url,
      });
      return;
    }
    if (m.method === "NodeWorker.receivedMessageFromWorker") {
      this.#receive(JSON.parse((m.params as { message: string }).message) as Reply);
      return;
    }
    if (m.id === undefined) return;
    const p = this.#pending.get(m.id);
    if (!p) return; // the reply to a sendMessageToWorker wrapper
    this.#pending.delete(m.id);
    p.resolve(m);
  }
}

/** `file:///…/lib/ingest/ingest_worker.ts` → `ingest_worker`. */
function entryName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1).replace(/\.[jt]sx?$/, "");
}

/** Both readings of one isolate (main, or the worker of `session`). */
async function readIsolate(
  s: InspectorSession,
  name: string,
  url: string,
  session: string | undefined,
  options: IsolateMemoryOptions,
): Promise<IsolateMemory> {
  const gc = options.gc ?? false;
  if (gc) await s.call("Runtime.evaluate", { expression: GC_EXPRESSION }, session);
  const evaluated = await s.call(
    "Runtime.evaluate",
    { expression: MEMORY_EXPRESSION, returnByValue: true },
    session,
  );
  const value = (evaluated.result?.result as { value?: unknown } | undefined)?.value;
  if (typeof value !== "string") {
    throw new Error(`inspector: Deno.memoryUsage() in ${name} gave ${JSON.stringify(evaluated)}`);
  }
  const mem = JSON.parse(value) as Deno.MemoryUsage;
  const usage = (await s.call("Runtime.getHeapUsage", {}, session)).result as {
    backingStorageSize?: number;
  };
  return {
    name,
    url,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: usage.backingStorageSize ?? NaN,
  };
}

/**
 * Memory of the main isolate and of every worker of the process whose
 * inspector listens at `inspectorUrl` (`ws://host:port/id`, as
 * `--inspect` prints it), main first, then workers by id.
 *
 * @throws Error when the inspector cannot be reached or does not answer in time.
 * @example
 * ```ts ignore
 * const [main, ...workers] = await isolateMemory(url);
 * console.log(main.heapUsed, workers.map((w) => `${w.name}: ${w.heapUsed}`));
 * ```
 */
export async function isolateMemory(
  inspectorUrl: string,
  options: IsolateMemoryOptions = {},
): Promise<IsolateMemory[]> {
  const ws = new WebSocket(inspectorUrl);
  const timeoutMs = options.timeoutMs ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`inspector at ${inspectorUrl} did not answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      timeout,
      read(ws, options),
    ]);
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}

async function read(ws: WebSocket, options: IsolateMemoryOptions): Promise<IsolateMemory[]> {
  const settleMs = options.settleMs ?? 500;
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`inspector: ${(e as ErrorEvent).message ?? "error"}`));
  });
  const s = new InspectorSession(ws);
  await s.call("NodeWorker.enable", { waitForDebuggerOnStart: false });
  // The workers are announced as events right after enable.
  await new Promise((r) => setTimeout(r, settleMs));
  const out = [await readIsolate(s, "main", "", undefined, options)];
  const workers = [...s.workers].sort((a, b) => a[1].workerId - b[1].workerId);
  for (const [session, { workerId, url }] of workers) {
    out.push({ ...await readIsolate(s, entryName(url), url, session, options), workerId });
  }
  await s.call("NodeWorker.disable").catch(() => {});
  return out;
}
