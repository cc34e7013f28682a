/**
 * An attempt's asynchronous steps before its socket: the `params` function and the ticket
 * request, started by the `computeParams` and `fetchTicket` actions through the context's
 * `SocketLink` (connection.socket.ts), which reports their outcome as events and drops it
 * once the machine has left the step (`abortStep` aborts it). And
 * {@link createConnectionImplementations}, which binds `fetchTicket` and the socket's
 * `openSocket` action to an environment.
 */
import { TicketError } from "./connection.errors";
import { createSocketOpener, type SocketLinkOwner } from "./connection.socket";
import type { ConnectionContext, ConnectionRuntime, ParamsEvent, ParamsInput, QueryParams, TicketEvent } from "./connection.types";
import { messageOf as message, noop, queryParamsProblem, Ticket } from "./connection.utils";
import { TICKET_PATH, ticketEndpoint } from "./protocol";

/** An error's message and, when there is one, its cause's (`fetch failed (connect ECONNREFUSED …)`). */
function messageWithCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? message(error) : `${message(error)} (${message(cause)})`;
}

/** `ticket request for /ws/chat/a`, or `ticket request` for one made without a path. */
function ticketSubject(path: string | undefined): string {
  return path === undefined ? "ticket request" : `ticket request for ${path}`;
}

/** What to check after a status that will not fix itself. */
function statusHint(status: number, apiUrl: string): string {
  if (status === 404 || status === 405) return `; check apiUrl (${apiUrl}): the ticket endpoint is POST {apiUrl}${TICKET_PATH}`;
  if (status === 401 || status === 403) return "; check getAuthToken: the endpoint refused the credentials";
  return "";
}

/**
 * Asks `{apiUrl}/ws/ticket` for a fresh ticket (docs/protocol.md §5), after the token
 * provider answered (`onAuthorized` is called then, before the request goes out). Rejects
 * with a `TicketError` whose message names the path and what failed: the HTTP status for a
 * non-2xx answer or an unusable body; `0` when no answer arrived or the token provider
 * threw or rejected (`cause` the thrown value).
 */
export async function requestTicket(
  runtime: Pick<ConnectionRuntime, "fetch" | "getAuthToken">,
  apiUrl: string,
  path?: string,
  signal?: AbortSignal,
  onAuthorized?: () => void,
): Promise<Ticket> {
  const fetchImpl = runtime.fetch ?? globalThis.fetch;
  const subject = ticketSubject(path);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  let token: string | null | undefined;
  try {
    token = await runtime.getAuthToken?.();
  } catch (cause) {
    throw new TicketError(0, `${subject} not sent: the token provider (getAuthToken) failed: ${message(cause)}`, { cause });
  }
  // The attempt may have been abandoned (close(), connectTimeout) while the token was awaited.
  signal?.throwIfAborted();
  onAuthorized?.();
  if (token) headers.Authorization = `Bearer ${token}`;
  const endpoint = ticketEndpoint(apiUrl);
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify(path === undefined ? {} : { path }),
      signal,
    });
  } catch (cause) {
    throw new TicketError(0, `${subject} failed: POST ${endpoint} got no answer: ${messageWithCause(cause)}`, { cause });
  }
  const answered = `POST ${endpoint} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  if (!response.ok) {
    // Drain the body so the connection can be reused; its content is not needed.
    await response.text().catch(noop);
    throw new TicketError(response.status, `${subject} failed: ${answered}${statusHint(response.status, apiUrl)}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    const type = response.headers?.get?.("content-type");
    throw new TicketError(
      response.status,
      `${subject} failed: ${answered} with a body that is not JSON${type ? ` (${type})` : ""}; check apiUrl (${apiUrl})`,
      { cause },
    );
  }
  const { ticket, expiresAt } = (body ?? {}) as { ticket?: unknown; expiresAt?: unknown };
  if (typeof ticket !== "string" || ticket === "") {
    throw new TicketError(response.status, `${subject} failed: ${answered} without a "ticket" string in its JSON body`);
  }
  return new Ticket(ticket, typeof expiresAt === "number" ? expiresAt : undefined);
}

/** The error of a ticket request that got no answer within `timeout` ms (status `0`: no answer). */
export function ticketTimedOut(timeout: number, path?: string): TicketError {
  return new TicketError(0, `${ticketSubject(path)} failed: no answer within ${timeout} ms (connectTimeout)`);
}

/** The error of a token provider that did not settle within `timeout` ms: no ticket request was sent. */
export function tokenTimedOut(timeout: number, path?: string): TicketError {
  return new TicketError(
    0,
    `${ticketSubject(path)} not sent: the token provider (getAuthToken) did not settle within ${timeout} ms (connectTimeout)`,
  );
}

/**
 * Calls a `params` function for one attempt (docs/protocol.md §3) and checks its result.
 * Rejects with an error whose message names the params function and the path: it threw
 * or rejected (`cause` the thrown value), or returned unusable parameters.
 */
export async function resolveParams(input: ParamsInput, signal?: AbortSignal): Promise<QueryParams> {
  const label = `the params function for ${input.path}`;
  let params: unknown;
  try {
    // Frames still being validated may move lastEventId: wait for them, or the server
    // would be asked again for a frame that is about to be delivered.
    const lastEventId = input.port?.settledEventId ? await input.port.settledEventId() : input.lastEventId;
    // The attempt may have been abandoned (close(), connectTimeout) meanwhile: not called then.
    signal?.throwIfAborted();
    params = await input.params({ attempt: input.attempt, lastEventId });
  } catch (cause) {
    throw new Error(`${label} failed: ${message(cause)}`, { cause });
  }
  const problem = queryParamsProblem(params, "params");
  if (problem) throw new TypeError(`${label} returned unusable params: ${problem}`);
  return params as QueryParams;
}

/** The error of a `params` function that did not settle within `timeout` ms. */
export function paramsTimedOut(timeout: number, path: string): Error {
  return new Error(`the params function for ${path} did not settle within ${timeout} ms (connectTimeout)`);
}

/** What the step actions read of xstate's action arguments. */
export interface StepArgs {
  /** The connection's context. */
  context: ConnectionContext;
  /** The connection actor. */
  self: SocketLinkOwner;
}

const paramsComputed = (params: QueryParams): ParamsEvent => ({ type: "params.computed", params });
const paramsFailed = (error: unknown): ParamsEvent => ({ type: "params.failed", error });
const ticketIssued = (ticket: Ticket): TicketEvent => ({ type: "ticket.issued", ticket });
const ticketFailed = (error: unknown): TicketEvent => ({ type: "ticket.failed", error });

/**
 * The `params` state's entry: calls the `params` function for this attempt (docs/protocol.md §3);
 * `params.computed` or `params.failed` follows.
 */
export function computeParams({ context, self }: StepArgs): void {
  const input: ParamsInput = {
    params: context.settings.params as ParamsInput["params"],
    attempt: context.attempt,
    lastEventId: context.port?.lastEventId,
    path: context.path,
    port: context.port,
  };
  context.link.runStep(self, context.port, (signal) => resolveParams(input, signal), paramsComputed, paramsFailed);
}

/**
 * The machine's implementations bound to an environment: the actions that request its
 * tickets and open its sockets. `createClient` does this with a port that feeds
 * `onMessage`; to run `connectionMachine` without the facade, provide them yourself:
 * `connectionMachine.provide(createConnectionImplementations({ WebSocket, fetch, port }))`.
 */
export function createConnectionImplementations(runtime: ConnectionRuntime = {}) {
  return {
    /** The actions that need the environment; the machine's other actions do not. */
    actions: {
      /**
       * The `ticket` state's entry: requests a fresh ticket (docs/protocol.md §5);
       * `ticket.authorized` once the token provider answered, then `ticket.issued` or `ticket.failed`.
       */
      fetchTicket: ({ context, self }: StepArgs) =>
        context.link.runStep(
          self,
          context.port ?? runtime.port,
          (signal, report) => requestTicket(runtime, context.apiUrl, context.path, signal, () => report({ type: "ticket.authorized" })),
          ticketIssued,
          ticketFailed,
        ),
      /** The `socket` state's entry: opens the attempt's WebSocket on its ticket. */
      openSocket: createSocketOpener(runtime),
    },
  };
}
