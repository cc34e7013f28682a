/**
 * Inbound, two clients only: sockstate and `ws`'s own WebSocket API (or any two bench
 * clients), taking turns in one process for many turns, with nothing else measured. Prints
 * each client's median burst and the paired ratio (the second client's speed against the
 * first's, burst by burst) with its quartiles: for telling a change to the inbound path
 * from noise, which a full bench run's seven rounds cannot do below a few percent.
 *
 *   node --expose-gc --import tsx bench/inbound-pairs.ts [turns=40] [frames=200000] [first|second]
 *
 * Clients default to "raw ws, onmessage" and "sockstate". Measures `dist/` as built.
 */
import { type ClientName, createBenchClient, RAW_WS_WEBSOCKET_API } from "./clients";
import { pinSelf, startServer } from "./processes";
import { inbound } from "./scenarios";
import { median, percentile } from "./stats";

/** The first turns warm the JIT up: not counted. */
const WARM_UP_TURNS = 2;

const [turnsArg = "40", framesArg = "200000", clientsArg = `${RAW_WS_WEBSOCKET_API}|sockstate`] = process.argv.slice(2);
const turns = Number(turnsArg);
const frames = Number(framesArg);
const names = clientsArg.split("|") as ClientName[];
if (!Number.isInteger(turns) || turns <= WARM_UP_TURNS || !Number.isInteger(frames) || frames <= 0 || names.length !== 2) {
  throw new TypeError(`usage: inbound-pairs.ts [turns > ${WARM_UP_TURNS}] [frames > 0] ["first|second"]`);
}

const server = await startServer(pinSelf());
const bursts: [number[], number[]] = [[], []];
try {
  for (let turn = 0; turn < turns; turn++) {
    // Each client goes first every other turn.
    for (const index of turn % 2 === 0 ? [0, 1] : [1, 0]) {
      const { ms } = await inbound(createBenchClient(names[index]!, server), server, frames);
      if (turn >= WARM_UP_TURNS) bursts[index]!.push(ms);
    }
  }
} finally {
  server.close();
}
const ratios = bursts[0].map((ms, turn) => ms / bursts[1][turn]!);
for (const [index, name] of names.entries()) console.log(`${name}: median burst ${median(bursts[index]!).toFixed(1)} ms`);
console.log(
  `${names[1]} against ${names[0]}, ${ratios.length} turns: median ${median(ratios).toFixed(3)}× ` +
    `(quartiles ${percentile(ratios, 25).toFixed(3)} – ${percentile(ratios, 75).toFixed(3)})`,
);
process.exit(0);
