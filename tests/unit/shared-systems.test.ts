import { describe, expect, it } from "vitest";
import { createActor, fromCallback, type InspectionEvent } from "xstate";
import { noop } from "../../machines/connection.utils";
import { joinSharedSystem, leaveSharedSystem, type SharedSystem, SOCKETS_PER_SYSTEM } from "../../src/shared-systems";

function join(runtime: object, count: number): SharedSystem[] {
  return Array.from({ length: count }, () => joinSharedSystem(runtime, noop));
}

describe("shared actor systems", () => {
  it(`groups a runtime's sockets by at most ${SOCKETS_PER_SYSTEM}, one actor system per group`, () => {
    const runtime = {};
    const places = join(runtime, 2 * SOCKETS_PER_SYSTEM + 6);
    const groups = [...new Set(places)];
    expect(groups.map((group) => group.sockets)).toEqual([SOCKETS_PER_SYSTEM, SOCKETS_PER_SYSTEM, 6]);
    expect(new Set(groups.map((group) => group.parent.system)).size).toBe(3);
    expect(places.slice(0, SOCKETS_PER_SYSTEM).every((place) => place === groups[0])).toBe(true);
  });

  it("drops a group once its last socket left, and fills the groups with room first", () => {
    const runtime = {};
    const places = join(runtime, 2 * SOCKETS_PER_SYSTEM + 6);
    const [first, second, third] = [...new Set(places)] as [SharedSystem, SharedSystem, SharedSystem];
    for (const place of places.slice(0, SOCKETS_PER_SYSTEM)) leaveSharedSystem(place);
    expect(first.sockets).toBe(0);
    expect(third.groups).toEqual([second, third]);
    expect(joinSharedSystem(runtime, noop)).toBe(third);
    leaveSharedSystem(places[SOCKETS_PER_SYSTEM]!);
    expect(joinSharedSystem(runtime, noop)).toBe(second);
  });

  it("keeps the last group of a runtime when it empties, and reuses it", () => {
    const runtime = {};
    const places = join(runtime, 3);
    for (const place of places) leaveSharedSystem(place);
    expect(places[0]!.groups).toHaveLength(1);
    expect(joinSharedSystem(runtime, noop)).toBe(places[0]);
  });

  it("never puts sockets of two runtimes (two clients) in one group", () => {
    const a = joinSharedSystem({}, noop);
    const b = joinSharedSystem({}, noop);
    expect(a).not.toBe(b);
    expect(a.parent.system).not.toBe(b.parent.system);
  });

  it("inspects a group's system with one observer, however many sockets join it", () => {
    const events: InspectionEvent[] = [];
    const runtime = {};
    const group = joinSharedSystem(runtime, (event) => events.push(event));
    for (let i = 0; i < 4; i += 1) expect(joinSharedSystem(runtime, (event) => events.push(event))).toBe(group);
    events.length = 0;
    const member = createActor(fromCallback(noop), { parent: group.parent }).start();
    expect(events.filter((event) => event.type === "@xstate.snapshot" && event.actorRef === member)).toHaveLength(1);
  });

  it("keeps a group's parent running when one of its sockets' actors fails", () => {
    const group = joinSharedSystem({}, noop);
    const failing = createActor(
      fromCallback(() => {
        throw new Error("an action threw");
      }),
      { parent: group.parent },
    );
    failing.subscribe({ error: noop });
    failing.start();
    expect(failing.getSnapshot().status).toBe("error");
    expect(group.parent.getSnapshot().status).toBe("active");
  });
});
