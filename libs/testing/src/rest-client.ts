/** A small REST client for end-to-end tests and tools: proto3 JSON in and out. */
export class RestClient {
  /** `token`: the API token sent as `authorization: Bearer` on every call. */
  constructor(private readonly baseUrl: string, private readonly token?: string) {}

  async call<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(`${this.baseUrl}${route}`, {
      method, headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  async ok<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<T> {
    const { status, json } = await this.call<T>(method, route, body);
    if (status >= 300) throw new Error(`${method} ${route}: HTTP ${status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Polls a run until it is terminal (or the deadline passes) and returns it. */
  async waitForRun(workflow: string, runId: string, timeoutMs = 60_000): Promise<{ state: string; [k: string]: unknown }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { run } = await this.ok<{ run: { state: string } }>('GET', `/v1/workflows/${workflow}/runs/${runId}`);
      if (['RUN_STATE_SUCCEEDED', 'RUN_STATE_FAILED', 'RUN_STATE_CANCELLED'].includes(run.state)) return run;
      if (Date.now() > until) throw new Error(`run ${runId} still ${run.state} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
