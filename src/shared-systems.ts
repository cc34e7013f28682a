/** Actor systems shared by a client's sockets that have no `inspect` or `debug` option (both inspect), in small groups. */
import { type AnyActorRef, createActor, fromTransition, type InspectionEvent } from "xstate";

/**
 * Sockets that nobody inspects share actor systems: a system and its scheduler are a large
 * share of an idle socket's memory (bench/RESULTS.md). An inspected socket keeps a system of its
 * own, so an inspector sees it as the root it is. A group is small on purpose: xstate's
 * scheduler scans every pending timer of its system whenever one of its actors stops,
 * so one system for thousands of sockets would make every stop cost O(sockets).
 */
export const SOCKETS_PER_SYSTEM = 32;

export interface SharedSystem {
  /** An inert actor whose system the group's sockets join; it ignores their `xstate.done.actor.*` notices. */
  readonly parent: AnyActorRef;
  /** Sockets of the group that are not closed yet. */
  sockets: number;
  /** The runtime's groups, this one among them. */
  readonly groups: SharedSystem[];
}

/** The logic of a group's parent: every event it gets, a notice or an error of a socket, leaves it as it is. */
const inert = fromTransition((state: undefined) => state, undefined);

/** The groups of each runtime (one runtime per client). */
const sharedSystems = new WeakMap<object, SharedSystem[]>();

/**
 * A place in a group with room (a new group when all are full); count it as taken. A new
 * group's system is inspected by `observe`, once for all its sockets: the same function
 * for every socket of a runtime.
 */
export function joinSharedSystem(runtime: object, observe: (event: InspectionEvent) => void): SharedSystem {
  let groups = sharedSystems.get(runtime);
  if (!groups) {
    groups = [];
    sharedSystems.set(runtime, groups);
  }
  let group = groups.find((candidate) => candidate.sockets < SOCKETS_PER_SYSTEM);
  if (!group) {
    group = { parent: createActor(inert, { inspect: observe }).start(), sockets: 0, groups };
    groups.push(group);
  }
  group.sockets += 1;
  return group;
}

/** Gives the place back, once per join. */
export function leaveSharedSystem(group: SharedSystem): void {
  group.sockets -= 1;
  const { groups } = group;
  // An empty group is dropped (its parent holds nothing), unless it is the last one.
  if (group.sockets === 0 && groups.length > 1) groups.splice(groups.indexOf(group), 1);
}
