/**
 * `npm run demo` — sockstate doing its job, in one command.
 *
 * Starts the embedded reference server (`sockstate/testing`), opens a chat and a
 * transcript socket through `createClient`, and walks through real faults on real
 * TCP: a server drop, a stall only the heartbeat can see, a rejected ticket (4001),
 * a server restart, terminal rejections (4004, 1008, 4003), a misconfigured endpoint
 * (a wrong `apiUrl`: the ticket request answers 404), then `closeAll()`. Each
 * step prints what the sockets and the server did, with timestamps, and checks it
 * against docs/protocol.md. Exit code 0 only if every step behaved as docs/protocol.md says.
 *
 *   npm run demo
 *   npm run demo -- --api-url https://api.example.com --token "$TOKEN"
 *
 * With `--api-url` it runs against that backend instead: it cannot inject faults
 * there, so it connects, sends and receives, and closes, and says which steps it skipped.
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import {
  ConnectionRejectedError,
  createClient,
  type Client,
  type ManagedWebSocket,
  type SocketOptions,
  SocketClosedError,
  TicketError,
} from "../src/index";
import { HEARTBEAT_TIMEOUT_CODE, PING_FRAME, PONG_FRAME, TICKET_REJECTED_CODE } from "../machines/protocol";
import { createReferenceServer, type ReferenceServer } from "../src/testing/index";
import {
  bold,
  check,
  describeError,
  dim,
  duration,
  log,
  now,
  passed,
  Scenario,
  sleep,
  type SocketTrace,
  machinePath,
  tapServer,
  timerLateness,
  traceSocket,
  waitUntil,
} from "./demo/report";

const USAGE = `Usage: npm run demo [-- options]

Without options: runs against the embedded reference server and injects faults.

  --api-url <url>        run against this backend instead (tickets: POST <url>/ws/ticket)
  --ws-url <url>         socket base URL (default: --api-url with http→ws, https→wss)
  --token <token>        bearer token for ticket requests
  --chat-id <id>         chat to open (default: demo-thread)
  --workspace-id <id>    workspace of the transcript to open (default: demo-workspace)
  --transcript-id <id>   transcript to open (default: demo-transcript)
  -h, --help             show this help`;

/** Intervals short enough for the whole tour to take seconds (defaults are 1 s, 25 s, 10 s). */
const DEMO_TIMING = {
  reconnectDelay: 100,
  maxReconnectDelay: 400,
  heartbeatInterval: 500,
  heartbeatTimeout: 700,
  connectTimeout: 2000,
} satisfies SocketOptions;

/** Broadcast frames the embedded server keeps per path, for the resume step's replay. */
const RESUME_HISTORY = 200;

/** Against a remote backend: a little more patience, and give up rather than retry forever. */
const REMOTE_TIMING = {
  reconnectDelay: 250,
  maxReconnectDelay: 2000,
  maxReconnectAttempts: 3,
  heartbeatInterval: 1000,
  heartbeatTimeout: 3000,
  connectTimeout: 5000,
} satisfies SocketOptions;

/**
 * How late a timer or a loopback round trip may be before a check calls it wrong. Lower
 * bounds (a backoff is never shorter than d/2) are exact; upper bounds get this much
 * slack, plus however late this process's timers were running during the step.
 */
const TIMER_SLACK = 150;

/** The whole demo must end well within this, or it stops and fails. */
const WATCHDOG_MS = 60_000;

interface Ids {
  chatId: string;
  workspaceId: string;
  transcriptId: string;
}

async function main(): Promise<boolean> {
  const { values } = parseArgs({
    options: {
      "api-url": { type: "string" },
      "ws-url": { type: "string" },
      token: { type: "string" },
      "chat-id": { type: "string", default: "demo-thread" },
      "workspace-id": { type: "string", default: "demo-workspace" },
      "transcript-id": { type: "string", default: "demo-transcript" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return true;
  }
  const ids: Ids = { chatId: values["chat-id"], workspaceId: values["workspace-id"], transcriptId: values["transcript-id"] };
  if (values["api-url"] !== undefined) {
    return runRemote(values["api-url"], values["ws-url"], values.token, ids);
  }
  if (values["ws-url"] !== undefined || values.token !== undefined) {
    console.error("--ws-url and --token need --api-url (without it the demo runs its own server)\n");
    console.error(USAGE);
    return false;
  }
  return runEmbedded(ids);
}

// ── the embedded reference server, with faults ──────────────────────────────

async function runEmbedded(ids: Ids): Promise<boolean> {
  const token = "demo-token";
  const server = await createReferenceServer({ token, history: RESUME_HISTORY });
  const chatPath = `/ws/chat/${encodeURIComponent(ids.chatId)}`;
  const transcriptPath = `/ws/workspaces/${encodeURIComponent(ids.workspaceId)}/transcripts/${encodeURIComponent(ids.transcriptId)}`;
  const names = (path: string) => (path === chatPath ? "chat" : path === transcriptPath ? "transcript" : path || "(no path)");
  const { ticketNumber } = tapServer(server, names);

  console.log(bold("sockstate demo") + ` — embedded reference server at ${server.apiUrl} (bearer token required)`);
  console.log(
    dim(
      `options: reconnectDelay ${DEMO_TIMING.reconnectDelay} ms, maxReconnectDelay ${DEMO_TIMING.maxReconnectDelay} ms, ` +
        `heartbeat ${DEMO_TIMING.heartbeatInterval} ms of silence → ping, ${DEMO_TIMING.heartbeatTimeout} ms for the pong`,
    ),
  );

  const client = createClient({
    apiUrl: server.apiUrl,
    getAuthToken: () => token,
    WebSocket,
    ...DEMO_TIMING,
  });
  const scenario = new Scenario();
  let chat: ManagedWebSocket | undefined;
  let transcript: ManagedWebSocket | undefined;
  let chatTrace: SocketTrace | undefined;
  let transcriptTrace: SocketTrace | undefined;
  /** The chat machine's path, through the `debug` option. */
  const chatMachine = machinePath();

  /** The server side of a socket's current connection. */
  const liveOn = (path: string) => server.liveConnections.find((connection) => connection.path === path);
  const recordsOn = (path: string) => server.connections.filter((connection) => connection.path === path);
  /** Sends `text` on `socket` and resolves with the round-trip time of its echo. */
  const echo = async (socket: ManagedWebSocket, trace: SocketTrace, text: string) => {
    const sentAt = now();
    const before = trace.messages.length;
    log(names(new URL(socket.url).pathname), `send ${text}`);
    socket.send(text);
    await waitUntil(`echo of ${text}`, () => trace.messages.slice(before).some((message) => message.data === text));
    return now() - sentAt;
  };

  try {
    await scenario.step("Connect a chat and a transcript socket", async () => {
      const startedAt = now();
      [chat, transcript] = await Promise.all([
        client.websocket.connectToChat(ids.chatId, { debug: chatMachine.debug }),
        client.websocket.connectToTranscript(ids.workspaceId, ids.transcriptId),
      ]);
      log("chat", `connected: state ${chat.state}, url ${chat.url}`);
      log("transcript", `connected: state ${transcript.state}, url ${transcript.url}`);
      chatTrace = traceSocket("chat", chat);
      transcriptTrace = traceSocket("transcript", transcript);

      check(chat.isOpen && transcript.isOpen, `both sockets open after ${duration(now() - startedAt)}`);
      const requests = server.ticketRequests;
      check(
        requests.length === 2 && requests.every((request) => request.authorization === `Bearer ${token}` && request.status === 200),
        "each socket fetched its own ticket with POST /ws/ticket and Authorization: Bearer <token>",
      );
      const upgrades = server.connections;
      check(
        upgrades.length === 2 &&
          upgrades.every((upgrade) => upgrade.ticketValid && requests.some((request) => request.ticket === upgrade.ticket && request.path === upgrade.path)),
        "each upgrade carried the fresh, single-use ticket fetched for its path",
      );
      check(
        !chat.url.includes("ticket") && !transcript.url.includes("ticket"),
        "socket.url carries no ticket",
      );
      const roundTrip = await echo(chat, chatTrace, '{"type":"message","text":"hello"}');
      passed(`chat: sent a message, the echo came back in ${duration(roundTrip)}`);
      const before = transcriptTrace.messages.length;
      server.broadcast(transcriptPath, '{"type":"segment","text":"first words"}');
      await waitUntil("transcript update", () => transcriptTrace!.messages.length > before);
      passed("transcript: received an update the server pushed");
    });

    await scenario.step("The server drops every connection (a network drop, no close frame)", async () => {
      const sockets = [
        { name: "chat", socket: chat!, trace: chatTrace!, path: chatPath },
        { name: "transcript", socket: transcript!, trace: transcriptTrace!, path: transcriptPath },
      ];
      const before = sockets.map(({ path, trace }) => ({
        upgrades: recordsOn(path).length,
        states: trace.states.length,
        attempts: trace.attempts.length,
      }));
      log("demo", "server.dropAll()");
      server.dropAll();
      await waitUntil("both sockets reconnected", () =>
        sockets.every(({ socket, path }, i) => socket.isOpen && recordsOn(path).length > before[i]!.upgrades),
      );
      for (const [i, { name, path, trace }] of sockets.entries()) {
        const [old, fresh] = recordsOn(path).slice(before[i]!.upgrades - 1);
        const states = trace.states.slice(before[i]!.states);
        const attempts = trace.attempts.slice(before[i]!.attempts);
        check(
          old!.closeCode === 1006 && states.map((entry) => entry.state).join(" → ") === "reconnecting → open",
          `${name}: the drop was noticed (open → reconnecting → open)`,
          `${name}: states ${states.map((entry) => entry.state).join(" → ")} after the drop`,
        );
        // From noticing the drop to announcing the attempt: the backoff delay alone.
        const waited = attempts[0] ? attempts[0].at - states[0]!.at : Number.NaN;
        const ceiling = backoffCeiling(attempts[0]?.attempt ?? 1);
        check(
          attempts.length === 1 && waited >= ceiling / 2 - 5 && waited <= ceiling + TIMER_SLACK + timerLateness(),
          `${name}: reconnect attempt ${attempts[0]?.attempt} after a ${duration(waited)} backoff (attempt 1: ${ceiling / 2}–${ceiling} ms)`,
          `${name}: attempts ${attempts.map((entry) => entry.attempt).join(", ")}, backoff ${duration(waited)}, expected ${ceiling / 2}–${ceiling} ms`,
        );
        check(
          fresh!.ticketValid && fresh!.ticket !== old!.ticket,
          `${name}: reopened with fresh ticket ${ticketNumber(fresh!.ticket)}`,
        );
      }
      const roundTrip = await echo(chat!, chatTrace!, '{"type":"message","text":"still there?"}');
      passed(`chat: messages flow again (echo in ${duration(roundTrip)})`);
    });

    await scenario.step("The server stalls: reads nothing, writes nothing, closes nothing", async () => {
      // Start from a fresh frame on both sockets, so both heartbeats run from the same point.
      const transcriptBefore = transcriptTrace!.messages.length;
      server.broadcast(transcriptPath, '{"type":"segment","text":"more words"}');
      await echo(chat!, chatTrace!, '{"type":"message","text":"anyone?"}');
      await waitUntil("transcript update", () => transcriptTrace!.messages.length > transcriptBefore);
      const stalled = [liveOn(chatPath)!, liveOn(transcriptPath)!];
      const stalledRecords = stalled.map((connection) => server.connections.find((record) => record.id === connection.id)!);
      const stalledAt = now();
      log("demo", "server.stall()");
      server.stall();
      const detected = new Map<string, number>();
      await waitUntil(
        "both sockets detected the stall",
        () => {
          for (const [name, socket] of [["chat", chat!], ["transcript", transcript!]] as const) {
            if (!detected.has(name) && !socket.isOpen) detected.set(name, now() - stalledAt);
          }
          return detected.size === 2;
        },
        5000,
      );
      const serverClosedNothing = stalledRecords.every((record) => record.closeCode === undefined);
      log("demo", "server.resume()");
      server.resume();
      await waitUntil("both sockets reopened", () => chat!.isOpen && transcript!.isOpen && !!liveOn(chatPath) && !!liveOn(transcriptPath));
      await waitUntil("the server reads the client's close frames", () => stalledRecords.every((record) => record.closeCode !== undefined));

      const limit = DEMO_TIMING.heartbeatInterval + DEMO_TIMING.heartbeatTimeout;
      check(serverClosedNothing, "the server never closed the stalled connections: only a heartbeat could tell");
      for (const [i, { name, path }] of [
        { name: "chat", path: chatPath },
        { name: "transcript", path: transcriptPath },
      ].entries()) {
        const after = detected.get(name)!;
        check(
          after <= limit + TIMER_SLACK + timerLateness(),
          `${name}: stall detected after ${duration(after)} (${DEMO_TIMING.heartbeatInterval} ms of silence → ping, then ${DEMO_TIMING.heartbeatTimeout} ms without a pong)`,
          `${name}: stall detected after ${duration(after)}, expected within ${duration(limit)}`,
        );
        check(
          stalledRecords[i]!.closeCode === HEARTBEAT_TIMEOUT_CODE,
          `${name}: the server saw the client close the dead link with ${HEARTBEAT_TIMEOUT_CODE} "${stalledRecords[i]!.closeReason}"`,
          `${name}: the server saw close code ${stalledRecords[i]!.closeCode}, expected ${HEARTBEAT_TIMEOUT_CODE}`,
        );
        const reopened = recordsOn(path).at(-1)!;
        check(
          reopened.ticketValid && reopened.ticket !== stalledRecords[i]!.ticket,
          `${name}: reopened with fresh ticket ${ticketNumber(reopened.ticket)}`,
        );
      }
      const roundTrip = await echo(chat!, chatTrace!, '{"type":"message","text":"back?"}');
      passed(`chat: messages flow again (echo in ${duration(roundTrip)})`);
    });

    await scenario.step("The server rejects a ticket (4001): refresh at once", async () => {
      const transcriptConnection = liveOn(transcriptPath)!;
      const attemptsBefore = chatTrace!.attempts.length;
      const upgradesBefore = recordsOn(chatPath).length;
      const machineBefore = chatMachine.steps.length;
      log("demo", 'server.refuseConnections(4001, 1, "ticket expired"), then the chat connection is closed with 1012');
      server.refuseConnections(TICKET_REJECTED_CODE, 1, "ticket expired");
      liveOn(chatPath)!.close(1012, "service restart");
      await waitUntil("chat reopened", () => chat!.isOpen && recordsOn(chatPath).length >= upgradesBefore + 2);

      const [refused, accepted] = recordsOn(chatPath).slice(upgradesBefore);
      const attempts = chatTrace!.attempts.slice(attemptsBefore).map((entry) => entry.attempt);
      check(
        refused!.refusedWith === TICKET_REJECTED_CODE && accepted!.ticketValid && accepted!.refusedWith === undefined,
        `chat: upgrade with ticket ${ticketNumber(refused!.ticket)} refused with 4001, reopened with fresh ticket ${ticketNumber(accepted!.ticket)}`,
      );
      // Where the machine went after each close: `backoff` (wait), or straight to `ticket`.
      const afterCloses = chatMachine.steps.slice(machineBefore).filter((step) => step.event === "socket.closed");
      check(
        afterCloses[0]?.state === "backoff",
        `chat: after 1012 the machine went to backoff (attempt ${attempts[0]})`,
        `chat: after 1012 the machine went to ${afterCloses[0]?.state}, expected backoff`,
      );
      const refreshAfter = server.ticketRequests.find((request) => request.ticket === accepted!.ticket)!.at - refused!.at;
      check(
        afterCloses[1]?.state.startsWith("ticket") === true && attempts.length === 2,
        `chat: after 4001 it went straight to ticket, no backoff: attempt ${attempts[1]}, fresh ticket requested ${duration(refreshAfter)} after the refused upgrade`,
        `chat: after 4001 the machine went to ${afterCloses[1]?.state} (attempts ${attempts.join(", ")}), expected ticket at once`,
      );
      check(
        transcript!.isOpen && liveOn(transcriptPath) === transcriptConnection,
        "transcript: untouched, same connection throughout",
      );
    });

    await scenario.step("The server restarts: down for 0.6 s, back on the same port, every ticket forgotten", async () => {
      const errorsBefore = chatTrace!.errors.length;
      const upgradesBefore = [recordsOn(chatPath).length, recordsOn(transcriptPath).length];
      log("demo", "server.restart({ downtime: 600 })");
      const restarted = server.restart({ downtime: 600 });
      await waitUntil("chat noticed the restart", () => chat!.state === "reconnecting");
      const queued = '{"type":"message","text":"sent while the server was down"}';
      log("chat", `send ${queued} (queued: the socket is ${chat!.state})`);
      chat!.send(queued);
      const queuedNow = chat!.queuedMessages;
      await restarted;
      const backAt = now();
      log("demo", "server listening again");
      await waitUntil(
        "both sockets reopened",
        () =>
          chat!.isOpen && transcript!.isOpen &&
          recordsOn(chatPath).length > upgradesBefore[0]! && recordsOn(transcriptPath).length > upgradesBefore[1]!,
      );
      const reopenedAfter = now() - backAt;
      await waitUntil("the queued message's echo", () => chatTrace!.messages.some((message) => message.data === queued));

      const refused = chatTrace!.errors.slice(errorsBefore).filter(({ error }) => error instanceof Error && error.name === "TicketError");
      check(queuedNow === 1, "chat: a message sent while reconnecting was queued, not lost");
      check(
        refused.length >= 1,
        `chat: ${refused.length} attempt${refused.length === 1 ? "" : "s"} failed while the port was closed (TicketError, status 0) and ${refused.length === 1 ? "was" : "were"} retried with backoff`,
      );
      check(
        reopenedAfter <= DEMO_TIMING.maxReconnectDelay + 2 * TIMER_SLACK + timerLateness(),
        `both sockets reopened ${duration(reopenedAfter)} after the server came back (≤ maxReconnectDelay ${DEMO_TIMING.maxReconnectDelay} ms)`,
      );
      check(
        [chatPath, transcriptPath].every((path) => recordsOn(path).at(-1)!.ticketValid),
        "both reopened with tickets the restarted server issued",
      );
      passed("chat: the queued message was delivered after the reopen and echoed back");
    });

    await scenario.step("Terminal rejections (4004, 1008, 4003): closed, never retried", async () => {
      for (const { code, reason, open } of [
        { code: 4004, reason: "thread not found", open: () => client.websocket.connectToChat("deleted-thread") },
        { code: 1008, reason: "policy violation", open: () => client.websocket.connect("/ws/notifications", {}, "notifications") },
      ]) {
        log("demo", `server.refuseConnections(${code}, 1, "${reason}")`);
        server.refuseConnections(code, 1, reason);
        const requestsBefore = server.ticketRequests.length;
        const outcome = await open().then(
          (socket) => ({ socket, error: undefined }),
          (error: unknown) => ({ socket: undefined, error }),
        );
        log("demo", outcome.error ? `connect rejected: ${describeError(outcome.error)}` : "connect resolved");
        await sleep(400); // several backoff delays: a retry would show up
        check(
          outcome.error instanceof ConnectionRejectedError && outcome.error.code === code,
          `a first connection refused with ${code} rejects connect() with ConnectionRejectedError ${code}`,
          `connect() ${outcome.error ? `rejected with ${describeError(outcome.error)}` : "resolved"}, expected ConnectionRejectedError ${code}`,
        );
        check(server.ticketRequests.length === requestsBefore + 1, `${code}: no retry (one ticket, one upgrade)`);
      }

      const upgradesBefore = recordsOn(transcriptPath).length;
      log("demo", 'the transcript connection is closed with 4003 "access revoked"');
      liveOn(transcriptPath)!.close(4003, "access revoked");
      await waitUntil("transcript closed", () => transcript!.state === "closed");
      await sleep(400);
      const rejection = transcriptTrace!.errors.map(({ error }) => error).find((error) => error instanceof ConnectionRejectedError);
      check(
        rejection instanceof ConnectionRejectedError && rejection.code === 4003,
        "transcript: an open socket closed with 4003 ends closed, with ConnectionRejectedError 4003 on onError",
      );
      check(recordsOn(transcriptPath).length === upgradesBefore, "transcript: no reconnect attempt after the terminal close");
      check(client.websocket.connectionCount === 1 && chat!.isOpen, "chat: still open; connectionCount is 1");
    });

    await scenario.step("Resume after a gap: 50 frames sent while the socket was cut off arrive once each, in order", async () => {
      const feedPath = "/ws/feed";
      const feed = await client.websocket.connect(
        feedPath,
        {
          eventId: (data) => (data as { id: number }).id,
          // Where to resume: the next attempt asks for everything after the last id seen.
          params: ({ lastEventId }) => ({ since: lastEventId }),
        },
        "feed",
      );
      const ids: number[] = [];
      feed.onData.subscribe((value) => ids.push((value as { id: number }).id));
      const opens: Array<{ reconnected: boolean; downtime: number }> = [];
      feed.onOpen.subscribe((info) => opens.push(info));
      for (let i = 1; i <= 10; i++) server.broadcast(feedPath, { headline: `live ${i}` });
      await waitUntil("the first 10 frames", () => feed.lastEventId === "10");
      log("feed", `received ids 1…10 live; lastEventId ${feed.lastEventId}`);
      log("demo", "the feed's connection is cut (no close frame)");
      liveOn(feedPath)!.terminate();
      await waitUntil("feed noticed the cut", () => feed.state === "reconnecting");
      for (let i = 11; i <= 60; i++) server.broadcast(feedPath, { headline: `while away ${i}` });
      log("demo", "broadcast 50 frames (ids 11…60) while the feed was down");
      await waitUntil("the feed reopened and caught up", () => feed.isOpen && ids.length >= 60);
      await sleep(100); // a duplicate would arrive right behind the replay
      const resumedFrom = recordsOn(feedPath).at(-1)!.query.since;
      log("feed", `reopened with since=${resumedFrom}; onOpen ${JSON.stringify(opens.at(-1))}`);
      check(resumedFrom === "10", "the reconnect asked for what came after id 10 (since=10)", `the reconnect asked for since=${String(resumedFrom)}`);
      check(
        ids.length === 60 && ids.every((id, i) => id === i + 1),
        "ids 1…60 arrived exactly once each, in order: the 50 missed frames replayed, no gap, no duplicate",
        `ids received: ${ids.join(",")}`,
      );
      // Subscribed after connect() resolved: the first open's onOpen had fired already.
      const reopen = opens[0];
      check(
        opens.length === 1 && reopen!.reconnected && reopen!.downtime > 0,
        `onOpen said reconnected, ${duration(reopen?.downtime ?? 0)} after the cut`,
        `onOpen fired ${opens.length} time(s): ${JSON.stringify(opens)}`,
      );
      feed.close();
    });

    await scenario.step("Misconfigured endpoint: connect rejects with TicketError 404 in < 1 s", async () => {
      const wrongApiUrl = `${server.apiUrl}/api/v2`;
      log("demo", `a second client with a wrong apiUrl: ${wrongApiUrl}`);
      let ticketRequests = 0;
      const countingFetch: typeof fetch = (input, init) => {
        ticketRequests += 1;
        return fetch(input, init);
      };
      const misconfigured = createClient({ apiUrl: wrongApiUrl, getAuthToken: () => token, WebSocket, fetch: countingFetch, ...DEMO_TIMING });
      const startedAt = now();
      const error = await misconfigured.websocket.connectToChat(ids.chatId).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      const took = now() - startedAt;
      log("demo", error ? `connect rejected after ${duration(took)}: ${describeError(error)}` : "connect resolved");
      await sleep(400); // several backoff delays: a retry would show up
      check(
        error instanceof TicketError && error.status === 404 && took < 1000,
        `connect() rejected with TicketError 404 after ${duration(took)}, at the first answer`,
        `connect() ${error ? `rejected with ${describeError(error)}` : "resolved"} after ${duration(took)}, expected TicketError 404 in < 1 s`,
      );
      check(
        error instanceof Error && error.message.includes(chatPath) && error.message.includes("404") && !/ticket=/.test(error.message),
        "its message names the socket path and the status, and no ticket",
      );
      check(
        ticketRequests === 1 && misconfigured.websocket.connectionCount === 0,
        "one ticket request, no retry; the socket is closed",
      );
    });

    await scenario.step("closeAll(): everything closes, nothing reconnects", async () => {
      const requestsBefore = server.ticketRequests.length;
      const chatConnection = server.connections.find((record) => record.id === liveOn(chatPath)!.id)!;
      log("demo", "client.websocket.closeAll()");
      client.websocket.closeAll();
      const count = client.websocket.connectionCount;
      await waitUntil("chat closed", () => chat!.state === "closed");
      await waitUntil("the server saw the close", () => chatConnection.closeCode !== undefined);
      await sleep(500);
      check(count === 0, "connectionCount is 0 as soon as closeAll() returns");
      check(
        chatTrace!.states.slice(-2).map((entry) => entry.state).join(" → ") === "closing → closed",
        "chat: closing → closed",
      );
      check(chatConnection.closeCode === 1000, `the server saw a clean close: ${chatConnection.closeCode}`);
      check(server.ticketRequests.length === requestsBefore && server.liveConnections.length === 0, "no reconnect afterwards");
      let sendError: unknown;
      try {
        chat!.send("too late");
      } catch (error) {
        sendError = error;
      }
      check(sendError instanceof SocketClosedError, "send() on the closed socket throws SocketClosedError");
    });
  } finally {
    // After a failed step: close what is left, and let its state changes print first.
    client.websocket.closeAll();
    await sleep(100);
    await server.close();
  }
  return scenario.summarize();
}

/** `d = min(maxReconnectDelay, reconnectDelay · 2^(n−1))`: the backoff ceiling of attempt n (docs/protocol.md §3). */
function backoffCeiling(attempt: number): number {
  return Math.min(DEMO_TIMING.maxReconnectDelay, DEMO_TIMING.reconnectDelay * 2 ** (attempt - 1));
}

// ── another backend: no fault controls ──────────────────────────────────────

/**
 * `ws`'s WebSocket, counting the heartbeat pongs each socket receives, so the demo can
 * tell that another backend answers them (sockstate keeps pongs out of `onMessage`).
 */
const pongsByPath = new Map<string, number>();
class ObservedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    const path = new URL(String(url)).pathname;
    this.on("message", (data, isBinary) => {
      if (!isBinary && data.toString() === PONG_FRAME) pongsByPath.set(path, (pongsByPath.get(path) ?? 0) + 1);
    });
  }
}
const pongs = (socket: ManagedWebSocket): number => pongsByPath.get(new URL(socket.url).pathname) ?? 0;

async function runRemote(apiUrl: string, wsUrl: string | undefined, token: string | undefined, ids: Ids): Promise<boolean> {
  const NO_CONTROLS = "needs the embedded reference server's fault controls (run without --api-url)";
  console.log(bold("sockstate demo") + ` — against ${apiUrl}${wsUrl ? ` (sockets: ${wsUrl})` : ""}${token ? ", with a bearer token" : ""}`);
  let client: Client;
  try {
    client = createClient({
      apiUrl,
      ...(wsUrl === undefined ? {} : { wsUrl }),
      ...(token === undefined ? {} : { getAuthToken: () => token }),
      WebSocket: ObservedWebSocket,
      ...REMOTE_TIMING,
    });
  } catch (error) {
    console.error(describeError(error));
    return false;
  }
  const scenario = new Scenario();
  const sockets: Array<{ name: string; socket: ManagedWebSocket; trace: SocketTrace }> = [];

  try {
    await scenario.step("Connect a chat and a transcript socket", async () => {
      const startedAt = now();
      const opened = await Promise.allSettled([
        client.websocket.connectToChat(ids.chatId),
        client.websocket.connectToTranscript(ids.workspaceId, ids.transcriptId),
      ]);
      for (const [i, name] of ["chat", "transcript"].entries()) {
        const result = opened[i]!;
        if (result.status === "rejected") {
          check(false, "", `${name}: connect rejected with ${describeError(result.reason)}${hint(result.reason)}`);
        } else {
          log(name, `connected: state ${result.value.state}, url ${result.value.url}`);
          sockets.push({ name, socket: result.value, trace: traceSocket(name, result.value) });
        }
      }
      check(sockets.every(({ socket }) => socket.isOpen), `both sockets open after ${duration(now() - startedAt)}`);
      check(sockets.every(({ socket }) => !socket.url.includes("ticket")), "socket.url carries no ticket");
    });

    await scenario.step("Send and receive (the heartbeat ping/pong of docs/protocol.md §5)", async () => {
      for (const { name, socket } of sockets) {
        const before = pongs(socket);
        const sentAt = now();
        log(name, `send ${PING_FRAME}`);
        socket.send(PING_FRAME);
        await waitUntil(`${name}: a pong`, () => pongs(socket) > before, REMOTE_TIMING.heartbeatTimeout);
        passed(`${name}: sent a ping with send(), the server answered with a pong in ${duration(now() - sentAt)}`);
      }
      const watchFor = 2 * REMOTE_TIMING.heartbeatInterval + 500;
      const counts = sockets.map(({ socket, trace }) => ({ pongs: pongs(socket), states: trace.states.length }));
      log("demo", `watching for ${duration(watchFor)}: the heartbeat must keep both sockets open`);
      await sleep(watchFor);
      for (const [i, { name, socket, trace }] of sockets.entries()) {
        check(
          socket.isOpen && trace.states.length === counts[i]!.states && pongs(socket) > counts[i]!.pongs,
          `${name}: heartbeat answered (${pongs(socket) - counts[i]!.pongs} pong(s)), no reconnect`,
          `${name}: state ${socket.state}, ${pongs(socket) - counts[i]!.pongs} pong(s) while watching`,
        );
        if (trace.messages.length > 0) log(name, dim(`${trace.messages.length} data frame(s) received from the server`));
      }
    });

    for (const title of [
      "The server drops every connection",
      "The server stalls (heartbeat timeout)",
      "The server rejects a ticket (4001)",
      "The server restarts",
      "Terminal rejections (4004, 1008, 4003)",
      "Resume after a gap (replay since lastEventId)",
      "Misconfigured endpoint (TicketError 404)",
    ]) {
      scenario.skip(title, NO_CONTROLS);
    }

    await scenario.step("closeAll(): everything closes, nothing reconnects", async () => {
      const attemptsBefore = sockets.map(({ trace }) => trace.attempts.length);
      log("demo", "client.websocket.closeAll()");
      client.websocket.closeAll();
      const count = client.websocket.connectionCount;
      await waitUntil("every socket closed", () => sockets.every(({ socket }) => socket.state === "closed"), REMOTE_TIMING.connectTimeout + 1000);
      await sleep(500);
      check(count === 0, "connectionCount is 0 as soon as closeAll() returns");
      check(
        sockets.every(({ socket, trace }, i) => socket.state === "closed" && trace.attempts.length === attemptsBefore[i]),
        "every socket closed, no reconnect afterwards",
      );
    });
  } finally {
    client.websocket.closeAll();
    await sleep(100);
  }
  return scenario.summarize();
}

function hint(error: unknown): string {
  if (error instanceof Error && error.name === "TicketError") {
    const status = (error as { status?: number }).status;
    if (status === 401 || status === 403) return " — check --token";
    if (status === 0) return " — is --api-url reachable?";
  }
  return "";
}

const watchdog = setTimeout(() => {
  console.error(`\nthe demo did not finish within ${duration(WATCHDOG_MS)}: failing`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
