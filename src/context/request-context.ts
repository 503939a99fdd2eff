import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Who is acting. The authentication guard sets it; the CLI and jobs act as `system`. */
export type Actor =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; username: string; isAdmin: boolean; twoFactorMethod?: string }
  | {
      kind: 'token';
      tokenId: string;
      tokenName: string;
      userId: string;
      username: string;
      isAdmin: boolean;
    }
  | { kind: 'system'; name: string };

/** What every sensitive write needs to know about the request (or job) it belongs to. */
export interface RequestContext {
  requestId: string;
  /** Client address, after X-Forwarded-For from trusted proxies; `null` for the CLI and jobs. */
  ip: string | null;
  userAgent: string | null;
  /** `GET /simple/:name/` once routed; the raw method and path before. */
  route: string;
  actor: Actor;
}

const storage = new AsyncLocalStorage<RequestContext>();

export class MissingContextError extends Error {
  constructor() {
    super('no request context: this code must run inside a request, a job or a CLI command');
  }
}

/** The current context; throws when there is none — an audited write outside one is a bug. */
export function requestContext(): RequestContext {
  const store = storage.getStore();
  if (!store) throw new MissingContextError();
  return store;
}

/** The current context, or `undefined` (for logging, which also runs outside requests). */
export function maybeRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

export function runInContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Runs `fn` as the `system` actor, e.g. `runAsSystem('cli:migrate', …)` or a daily job. */
export function runAsSystem<T>(name: string, fn: () => T): T {
  return storage.run(
    {
      requestId: randomUUID(),
      ip: null,
      userAgent: null,
      route: name,
      actor: { kind: 'system', name },
    },
    fn,
  );
}

/** Records the actor once authentication has established it. */
export function setActor(actor: Actor): void {
  requestContext().actor = actor;
}
