/**
 * `npm run inspect`: starts the reference server and the live inspector page on
 * 127.0.0.1, prints the page's URL, and runs until Ctrl-C (SIGINT) or SIGTERM.
 *
 *   npm run inspect                 # a free port
 *   npm run inspect -- --port 5174  # a fixed one
 */
import { startInspectorPage } from "./server";

function portArgument(argv: string[]): number {
  const index = argv.indexOf("--port");
  const raw = index >= 0 ? argv[index + 1] : process.env.PORT;
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError(`--port must be 0–65535, got ${raw}`);
  return port;
}

const page = await startInspectorPage({ port: portArgument(process.argv.slice(2)) });
console.log(`sockstate inspector: ${page.url}`);
console.log(`reference server:    ${page.reference.apiUrl}`);
console.log("open the page in a browser; Ctrl-C stops both servers");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log("\nstopping…");
    page.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
