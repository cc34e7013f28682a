/**
 * The project's model kit (not a public API: its states are the machine's internal
 * names): the paths of the connection machine, an in-memory network and a driver that
 * put a real socket through each of them, and coverage of the machine's states and
 * transitions measured on the running socket. Used by tests/model and tests/examples.
 *
 * ```ts
 * const model = createConnectionModel();
 * for (const path of model.paths()) {
 *   it(path.description, async () => {
 *     const network = createModelNetwork();
 *     const client = createClient({ apiUrl: network.apiUrl, fetch: network.fetch, WebSocket: network.WebSocket });
 *     const driver = createModelDriver({ network, timers: vi, model });
 *     const socket = driver.open(client.websocket, "/ws/chat/a");
 *     for (const step of path.steps) {
 *       await driver.perform(step);
 *       expect(myBadge(socket)).toBe(labelFor(step.publicState));
 *     }
 *   });
 * }
 * ```
 */
export { createConnectionModel, stateName } from "./model-paths";
export type { ConnectionModel, ConnectionModelOptions, ConnectionPath, ConnectionStep } from "./model-paths";
export { describeStimulus, MODEL_SOCKET_OPTIONS } from "./model-stimuli";
export type { ModelSocketOptions, ModelTimer, Stimulus, TicketAnswer } from "./model-stimuli";
export { createModelNetwork } from "./model-network";
export type { ClientClose, ModelNetwork, ModelNetworkOptions, ModelSocketRecord, ModelTicketRequest } from "./model-network";
export { createModelDriver, installModelPage, MODEL_DATA_FRAME } from "./model-driver";
export type { DrivenManager, DrivenSocket, ModelDriver, ModelDriverOptions, ModelLeftovers, ModelPage, ModelTimers } from "./model-driver";
export { createCoverageRecorder, formatCoverage, machineInventory } from "./model-coverage";
export type { CoverageRecorder, CoverageReport, MachineInventory, TransitionInfo } from "./model-coverage";
