/**
 * A loopback TCP proxy that can freeze: every connection stops forwarding in both
 * directions while neither side is closed — a half-open link, as a NAT that forgot the
 * flow, a sleeping Wi-Fi radio or a stuck load balancer leaves it. Nothing is lost: bytes
 * and ends that arrive while frozen wait (in the kernel, or here) and go through in order
 * on `thaw()`.
 *
 * Put it between a client and a reference server: `apiUrl: proxy.url`.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxyTarget {
  /** A loopback address. @default "127.0.0.1" */
  host?: string;
  port: number;
}

export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1, chosen by the OS). */
  readonly port: number;
  /** `http://127.0.0.1:{port}`: use it as `apiUrl` to route tickets and sockets through the proxy. */
  readonly url: string;
  /** Client connections that have not closed yet (frozen ones included). */
  readonly connectionCount: number;
  /** Client connections accepted since the proxy started. */
  readonly acceptedCount: number;
  readonly isFrozen: boolean;
  /**
   * Stops forwarding both ways on every connection, present and future, without closing
   * anything: reads are paused (unread bytes wait in kernel buffers), and what was already
   * read, as well as an end or a reset from either side, is held back.
   */
  freeze(): void;
  /** Forwards everything that was held, in order, then relays again. */
  thaw(): void;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** One client connection and its upstream twin. */
class Pair {
  readonly #held: Array<() => void> = [];
  #frozen = false;
  #finished = false;

  constructor(
    readonly downstream: Socket,
    readonly upstream: Socket,
    frozen: boolean,
    onFinished: () => void,
  ) {
    this.#relay(downstream, upstream);
    this.#relay(upstream, downstream);
    const finish = () => {
      if (this.#finished) return;
      this.#finished = true;
      onFinished();
    };
    downstream.once("close", finish);
    if (frozen) this.freeze();
  }

  #relay(from: Socket, to: Socket): void {
    from.on("data", (chunk: Buffer) => this.#whenFlowing(() => to.write(chunk)));
    from.on("end", () => this.#whenFlowing(() => to.end()));
    // An error or a close on one side tears the other down too, once the link flows.
    from.on("error", () => this.#whenFlowing(() => this.destroy()));
    from.on("close", () => this.#whenFlowing(() => this.destroy()));
  }

  #whenFlowing(action: () => void): void {
    if (this.#frozen) this.#held.push(action);
    else action();
  }

  freeze(): void {
    this.#frozen = true;
    this.downstream.pause();
    this.upstream.pause();
  }

  thaw(): void {
    this.#frozen = false;
    for (const action of this.#held.splice(0)) action();
    if (!this.downstream.destroyed) this.downstream.resume();
    if (!this.upstream.destroyed) this.upstream.resume();
  }

  destroy(): void {
    this.downstream.destroy();
    this.upstream.destroy();
  }
}

/** Starts a proxy on 127.0.0.1 (port 0) that forwards to `target`. */
export async function createTcpProxy(target: TcpProxyTarget): Promise<TcpProxy> {
  const host = target.host ?? "127.0.0.1";
  if (!LOOPBACK.test(host)) throw new TypeError(`tcp-proxy: target must be a loopback address, got ${host}`);
  const pairs = new Set<Pair>();
  let frozen = false;
  let accepted = 0;

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (downstream) => {
    accepted += 1;
    const upstream = connect({ host, port: target.port, allowHalfOpen: true });
    const pair = new Pair(downstream, upstream, frozen, () => pairs.delete(pair));
    pairs.add(pair);
    if (!frozen) downstream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("tcp-proxy: no address");
  const port = address.port;
  let closing: Promise<void> | undefined;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connectionCount() {
      return pairs.size;
    },
    get acceptedCount() {
      return accepted;
    },
    get isFrozen() {
      return frozen;
    },
    freeze() {
      frozen = true;
      for (const pair of pairs) pair.freeze();
    },
    thaw() {
      frozen = false;
      for (const pair of [...pairs]) pair.thaw();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const pair of pairs) pair.destroy();
        pairs.clear();
      });
      return closing;
    },
  };
}
