// masto.js 6 in a browser page on another origin than fedi-town's, as Elk and Phanpy run:
// every call crosses origins (CORS preflights for the bearer token, a multipart upload,
// the Link header read for paging). tests/mastodon/test_masto_js_browser.py serves this
// with an import map and reads `window.result`. The page's address ends with
// #{"url": fedi-town's base URL, "token": an access token}.
import { createRestAPIClient } from "masto";

// A 1x1 PNG.
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async function run() {
  const { url, token } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  const masto = createRestAPIClient({ url, accessToken: token });
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
    window.result = result;
  },
  (error) => {
    window.result = { error: String(error?.stack ?? error) };
  },
);
