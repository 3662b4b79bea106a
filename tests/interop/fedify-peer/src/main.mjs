// A Fedify-based ActivityPub peer for fedi-town's interop tests.
//
//   node src/main.mjs [--port N] [--host 127.0.0.1] [--username fedi] [--name "Fedify Peer"]
//                     [--first-knock rfc9421|draft-cavage-http-signatures-12]
//
// Each option may also come from the environment (FEDIFY_PEER_PORT, _HOST, _USERNAME, _NAME,
// _FIRST_KNOCK).  Port 0 (the default) picks a free port.  When it listens it prints one
// line, "READY <port>", on stdout; everything else goes to stderr.  It serves the actor,
// WebFinger and inboxes through Fedify, and the control API under /_control/ (control.mjs).

import { createServer } from "node:http";
import { parseArgs } from "node:util";

import { Control } from "./control.mjs";
import { buildFederation, PeerState } from "./federation.mjs";
import { Logbook, startLogging } from "./logbook.mjs";
import { installLoopbackFetch, signatureScheme } from "./loopback.mjs";

const FIRST_KNOCKS = ["rfc9421", "draft-cavage-http-signatures-12"];

function options() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: env.FEDIFY_PEER_PORT ?? "0" },
      host: { type: "string", default: env.FEDIFY_PEER_HOST ?? "127.0.0.1" },
      username: { type: "string", default: env.FEDIFY_PEER_USERNAME ?? "fedi" },
      name: { type: "string", default: env.FEDIFY_PEER_NAME ?? "Fedify Peer" },
      "first-knock": { type: "string", default: env.FEDIFY_PEER_FIRST_KNOCK ?? "rfc9421" },
    },
  });
  if (!FIRST_KNOCKS.includes(values["first-knock"])) {
    throw new Error(`--first-knock must be one of ${FIRST_KNOCKS.join(", ")}`);
  }
  return values;
}

/** Node's IncomingMessage as a fetch Request (body read in full; requests are small). */
async function toRequest(incoming, origin) {
  const chunks = [];
  for await (const chunk of incoming) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
  return new Request(new URL(incoming.url, origin), {
    method: incoming.method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
}

async function writeResponse(outgoing, response) {
  const body = Buffer.from(await response.arrayBuffer());
  outgoing.writeHead(response.status, Object.fromEntries(response.headers));
  outgoing.end(body);
}

/** Note each inbox POST (scheme, activity id) before Fedify sees it, and its status after. */
async function recordInboxPost(state, request, respond) {
  const entry = {
    path: new URL(request.url).pathname,
    signature: signatureScheme(request.headers),
    activity_id: null,
    activity_type: null,
    status: null,
    at: new Date().toISOString(),
  };
  try {
    const body = JSON.parse(await request.clone().text());
    entry.activity_id = body.id ?? null;
    entry.activity_type = body.type ?? null;
    if (typeof body.id === "string") state.rawActivities.set(body.id, body);
  } catch {
    // not JSON: Fedify answers it
  }
  state.inboxRequests.push(entry);
  const response = await respond();
  entry.status = response.status;
  return response;
}

async function main() {
  const opts = options();
  const logbook = new Logbook();
  await startLogging(logbook);
  const state = new PeerState();
  installLoopbackFetch(state.sent);

  let control = null;
  let federation = null;
  const server = createServer(async (incoming, outgoing) => {
    try {
      const request = await toRequest(incoming, control.origin);
      const path = new URL(request.url).pathname;
      let response;
      if (path.startsWith("/_control/")) {
        response = await control.handle(request);
      } else if (request.method === "POST" && /(^|\/)inbox$/.test(path)) {
        response = await recordInboxPost(state, request, () =>
          federation.fetch(request, { contextData: undefined }),
        );
      } else {
        response = await federation.fetch(request, { contextData: undefined });
      }
      await writeResponse(outgoing, response);
    } catch (error) {
      process.stderr.write(`[error] ${incoming.method} ${incoming.url}: ${error.stack}\n`);
      if (!outgoing.headersSent) outgoing.writeHead(500);
      outgoing.end();
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(opts.port), opts.host, resolve);
  });
  const port = server.address().port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const origin = `http://${host}:${port}`;
  federation = await buildFederation({
    origin,
    username: opts.username,
    displayName: opts.name,
    firstKnock: opts["first-knock"],
    state,
  });
  control = new Control({ federation, state, logbook, username: opts.username, origin });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(`READY ${port}\n`);
}

main().catch((error) => {
  process.stderr.write(`fedify-peer failed to start: ${error.stack ?? error}\n`);
  process.exit(1);
});
