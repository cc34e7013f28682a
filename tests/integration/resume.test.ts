/**
 * Resume after a gap over real TCP (docs/protocol.md §3 `params`, §4 `eventId`, §6
 * history): a server streams 1,000 numbered frames while its connections are dropped,
 * stalled until the heartbeat gives up on them, and the server restarts; a client that
 * puts `since=<lastEventId>` on every attempt sees every id exactly once, in order.
 * fast-check chooses where the outages fall.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { propertyParameters } from "../model/seed";
import { startRig, stateOf, stopRigs } from "../support/rig";
import { sleep, until } from "../support/wait";

const ROOM = "/ws/chat/room";
const FRAMES = 1000;
/** Frames broadcast in one go between two looks at the fault plan. */
const BATCH = 25;

type Fault = "drop" | "stall" | "restart";

afterEach(stopRigs);

/** Numbers `1..n`. */
const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Outages at distinct batch boundaries, one server restart among them. */
const plans = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: FRAMES / BATCH - 1 }), { minLength: 3, maxLength: 5 }),
    fc.array(fc.constantFrom<Fault>("drop", "stall"), { minLength: 5, maxLength: 5 }),
    fc.nat(),
  )
  .map(([batches, kinds, restartAt]) => {
    const faults = new Map<number, Fault>(batches.map((batch, i) => [batch * BATCH, kinds[i]!]));
    faults.set(batches[restartAt % batches.length]! * BATCH, "restart");
    return faults;
  });

describe("resume after a gap", () => {
  it(
    "sees ids 1…1,000 exactly once, in order, through drops, stalls and a restart",
    async () => {
      await fc.assert(
        fc.asyncProperty(plans, async (faults) => {
          const { server, client } = await startRig({ server: { history: FRAMES } });
          const attempts: Array<{ attempt: number; lastEventId: string | undefined }> = [];
          const socket = await client.websocket.connect(ROOM, {
            eventId: (data) => (data as { id: number }).id,
            params: (context) => {
              attempts.push(context);
              return { since: context.lastEventId };
            },
          });
          const seen: number[] = [];
          socket.onData.subscribe((value) => seen.push((value as { id: number }).id));

          for (let next = 1; next <= FRAMES; next++) {
            const fault = faults.get(next - 1);
            if (fault === "drop") server.dropAll();
            if (fault === "restart") void server.restart({ downtime: 100 });
            if (fault === "stall") {
              server.stall();
              // Frames go nowhere until the heartbeat closes the link; the server then resumes.
              const resume = () => server.resume();
              void stateOf(socket, "reconnecting", 5000).then(resume, resume);
            }
            server.broadcast(ROOM, { n: next });
            if (next % BATCH === 0) await sleep(20);
          }

          await until(() => seen.length >= FRAMES && socket.isOpen, 15_000, "every frame");
          await sleep(50); // a duplicate would arrive right behind the last frame
          expect(seen).toEqual(ids(FRAMES));
          expect(socket.lastEventId).toBe(String(FRAMES));
          // Every reconnect asked for what came after the last frame it had seen.
          expect(attempts[0]).toEqual({ attempt: 0, lastEventId: undefined });
          expect(attempts.length).toBeGreaterThan(1);
          for (const { lastEventId } of attempts.slice(1)) expect(lastEventId).toBeDefined();
          await stopRigs();
        }),
        propertyParameters(4),
      );
    },
    120_000,
  );
});
