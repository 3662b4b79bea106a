// Outgoing HTTP for a peer that lives on loopback, and a record of every request it sends.
//
// Fedify (and its WebFinger client) calls the global fetch.  Two things are changed here:
//
// 1. WebFinger for `acct:` handles is always looked up over https:// (the scheme is not
//    configurable in @fedify/webfinger 2.3.x).  On loopback nothing speaks TLS, so a
//    https:// request for /.well-known/webfinger on a loopback host goes over http://
//    instead.  Nothing else is rewritten: actor and object ids are already http:// URLs.
// 2. Each request is appended to `sent` (method, URL, signature scheme, status, activity
//    type and id for POSTs), so tests can see whether Fedify fell back from RFC 9421 to
//    draft-cavage ("double knocking").

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Which HTTP signature scheme a request carries: "rfc9421", "draft-cavage" or null. */
export function signatureScheme(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "draft-cavage";
  return null;
}

function isLoopback(url) {
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127.");
}

/** Is this the https:// WebFinger URL of a loopback host, which must go over http://? */
export function loopbackWebFingerUrl(url) {
  if (url.protocol !== "https:" || !isLoopback(url)) return null;
  if (url.pathname !== "/.well-known/webfinger") return null;
  const plain = new URL(url.href);
  plain.protocol = "http:";
  return plain;
}

async function activitySummary(request) {
  if (request.method !== "POST") return {};
  try {
    const body = JSON.parse(await request.clone().text());
    return { activity_type: body.type ?? null, activity_id: body.id ?? null };
  } catch {
    return {};
  }
}

/** Replace globalThis.fetch with the loopback-aware, recording version; return the log. */
export function installLoopbackFetch(sent, limit = 2000) {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    let request = new Request(input, init);
    const rewritten = loopbackWebFingerUrl(new URL(request.url));
    if (rewritten !== null) request = new Request(rewritten, request);
    const entry = {
      method: request.method,
      url: request.url,
      signature: signatureScheme(request.headers),
      ...(await activitySummary(request)),
      status: null,
      error: null,
      at: new Date().toISOString(),
    };
    sent.push(entry);
    if (sent.length > limit) sent.splice(0, sent.length - limit);
    try {
      const response = await originalFetch(request);
      entry.status = response.status;
      return response;
    } catch (error) {
      entry.error = String(error?.cause ?? error);
      throw error;
    }
  };
}
