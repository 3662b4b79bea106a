// masto.js 6 in a browser page on another origin than fedi-town's, as Elk and Phanpy run:
// it registers itself, sends the owner to fedi-town's consent page (PKCE), takes the code
// back and swaps it for a token, then calls across origins (CORS preflights for the bearer
// token, a multipart upload, the Link header read for paging).
// tests/mastodon/test_masto_js_browser.py serves this with an import map and reads
// `window.result`. The first visit's address ends with #<fedi-town's base URL>.
import { createOAuthAPIClient, createRestAPIClient } from "masto";

// A 1x1 PNG.
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const SCOPES = "read write";

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");
}

/** First visit: register, remember what the return needs, go to the consent page. */
async function signIn(url) {
  const redirectUri = `${location.origin}/`;
  const app = await createRestAPIClient({ url }).v1.apps.create({
    clientName: "Browser app",
    redirectUris: redirectUri,
    scopes: SCOPES,
  });
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("app", JSON.stringify({ url, app, verifier, state, redirectUri }));
  const query = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: SCOPES,
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  });
  location.assign(`${url}/oauth/authorize?${query}`);
}

async function run() {
  const back = new URLSearchParams(location.search);
  if (!back.has("code")) {
    await signIn(decodeURIComponent(location.hash.slice(1)));
    return null;
  }
  const { url, app, verifier, state, redirectUri } = JSON.parse(sessionStorage.getItem("app"));
  if (back.get("state") !== state) throw new Error("the state came back changed");
  const token = await createOAuthAPIClient({ url }).token.create({
    grantType: "authorization_code",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri,
    code: back.get("code"),
    codeVerifier: verifier,
    scope: SCOPES,
  });
  const masto = createRestAPIClient({ url, accessToken: token.accessToken });
  const me = await masto.v1.accounts.verifyCredentials();
  const bytes = Uint8Array.from(atob(PNG), (c) => c.charCodeAt(0));
  const media = await masto.v2.media.create({
    file: new Blob([bytes], { type: "image/png" }),
    description: "Rye from the browser",
  });
  const first = await masto.v1.statuses.create({ status: "First from the browser" });
  const second = await masto.v1.statuses.create({
    status: "Rye from the browser #bread",
    mediaIds: [media.id],
  });
  // One post a page: the second page is found through the Link header.
  const pages = [];
  for await (const page of masto.v1.accounts.$select(me.id).statuses.list({ limit: 1 })) {
    pages.push(page.map((s) => s.id));
    if (pages.length === 3) break;
  }
  const tagged = await masto.v1.timelines.tag.$select("bread").list();
  const found = await masto.v2.search.fetch({ q: me.username, type: "accounts" });
  await masto.v1.statuses.$select(first.id).remove();
  return {
    origin: location.origin,
    me: me.acct,
    media: media.description,
    first: first.id,
    second: second.id,
    pages,
    tagged: tagged.map((s) => s.id),
    found: found.accounts.map((a) => a.acct),
  };
}

run().then(
  (result) => {
    if (result !== null) window.result = result;
  },
  (error) => {
    window.result = { error: String(error?.stack ?? error) };
  },
);
