// masto.js 6 (the library Elk and Phanpy are built on) driving fedi-town's Mastodon client
// API as an app would. tests/mastodon/test_masto_js.py runs it and talks to it by JSON
// lines: this script writes {"step": ...} on stdout and reads the test's answers on stdin.
//
//   -> {"step": "authorize", "url": ...}        the test signs in and allows; answers {"code"}
//   -> {"step": "posted", "status": ...}        the test has someone reply; answers {"reply": uri}
//   -> {"step": "done", ...}                    what each call answered, for the test to check
//
// Usage: node flow.mjs <base url>
import { createInterface } from "node:readline";
import { createOAuthAPIClient, createRestAPIClient } from "masto";

const REDIRECT = "https://app.example/callback";
const SCOPES = "read write follow";
// A 1x1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

const url = process.argv[2];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function say(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

async function hear() {
  const { value, done } = await lines.next();
  if (done) throw new Error("the test stopped answering");
  return JSON.parse(value);
}

async function main() {
  // Register the app and send the owner to the consent page.
  const anonymous = createRestAPIClient({ url });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js test",
    redirectUris: REDIRECT,
    scopes: SCOPES,
    website: "https://app.example",
  });
  const query = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: SCOPES,
    state: "masto-js",
  });
  say({ step: "authorize", url: `/oauth/authorize?${query}` });
  const { code } = await hear();
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({
    grantType: "authorization_code",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: REDIRECT,
    code,
    scope: SCOPES,
  });
  const masto = createRestAPIClient({ url, accessToken: token.accessToken });
  // Mastodon 4.3's unread count has no masto.js 6 method: the app calls it itself.
  const unreadCount = async () => {
    const answer = await fetch(`${url}/api/v1/notifications/unread_count`, {
      headers: { Authorization: `Bearer ${token.accessToken}` },
    });
    return (await answer.json()).count;
  };

  // Who am I, post a photo.
  const instance = await masto.v2.instance.fetch();
  const me = await masto.v1.accounts.verifyCredentials();
  const media = await masto.v2.media.create({
    file: new Blob([PNG], { type: "image/png" }),
    description: "A loaf of rye",
  });
  const posted = await masto.v1.statuses.create({
    status: "Rye is out of the oven #bread",
    mediaIds: [media.id],
    visibility: "public",
  });
  say({ step: "posted", status: posted });

  // Someone replied: find it in the notifications, answer it, edit the answer.
  const { reply } = await hear();
  // The reply is handled by fedi-town's worker: ask again until it is there, as an app
  // refreshing its notifications would.
  let notification;
  for (let tries = 0; !notification && tries < 150; tries++) {
    const mentions = await masto.v1.notifications.list({ types: ["mention"] });
    notification = mentions.find((n) => n.status?.uri === reply);
    if (!notification) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!notification) throw new Error(`no notification of ${reply}`);
  const unreadBefore = await unreadCount();
  const answer = await masto.v1.statuses.create({
    status: "Until six!",
    inReplyToId: notification.status.id,
  });
  const edited = await masto.v1.statuses.$select(answer.id).update({ status: "Until seven!" });
  const context = await masto.v1.statuses.$select(posted.id).context.fetch();
  const markers = await masto.v1.markers.create({
    notifications: { lastReadId: notification.id },
  });
  const unreadAfter = await unreadCount();
  const found = await masto.v2.search.fetch({ q: notification.account.acct, resolve: true });
  const relationships = await masto.v1.accounts.relationships.fetch({
    id: [notification.account.id],
  });
  const followers = await masto.v1.accounts.$select(me.id).followers.list();
  // Favourite and reblog the reply, take both back; follow its author, read home, unfollow.
  const replyStatus = masto.v1.statuses.$select(notification.status.id);
  const favourited = await replyStatus.favourite();
  const favourites = await masto.v1.favourites.list();
  const unfavourited = await replyStatus.unfavourite();
  const reblogged = await replyStatus.reblog();
  const unreblogged = await replyStatus.unreblog();
  const author = masto.v1.accounts.$select(notification.account.id);
  const followed = await author.follow();
  const home = await masto.v1.timelines.home.list({ limit: 5 });
  const unfollowed = await author.unfollow();
  const local = await masto.v1.timelines.public.list({ local: true });
  await masto.v1.notifications.$select(notification.id).dismiss();
  const afterDismiss = await masto.v1.notifications.list({ types: ["mention"] });

  // Delete both (the answer comes back with its text, for redrafting).
  const deletedAnswer = await masto.v1.statuses.$select(answer.id).remove();
  const deleted = await masto.v1.statuses.$select(posted.id).remove();
  let gone = null;
  try {
    await masto.v1.statuses.$select(posted.id).fetch();
  } catch (error) {
    gone = { status: error.statusCode, message: error.message };
  }
  say({
    step: "done",
    instance: { version: instance.version, domain: instance.domain },
    me,
    media,
    posted,
    notification,
    unreadBefore,
    answer,
    edited,
    context,
    markers,
    unreadAfter,
    found: { accounts: found.accounts.map((a) => a.acct) },
    relationships,
    followers: followers.map((a) => a.acct),
    favourited: { id: favourited.id, favourited: favourited.favourited },
    favourites: favourites.map((s) => s.id),
    unfavourited: { favourited: unfavourited.favourited },
    reblogged: {
      account: reblogged.account.id,
      reblog: reblogged.reblog?.id,
      reblogged: reblogged.reblogged,
    },
    unreblogged: { reblogged: unreblogged.reblogged },
    followed,
    home: home.map((s) => s.id),
    unfollowed,
    local: local.map((s) => s.id),
    afterDismiss: afterDismiss.map((n) => n.id),
    deletedAnswer: { id: deletedAnswer.id, text: deletedAnswer.text },
    deleted: { id: deleted.id },
    gone,
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ step: "error", message: String(error?.stack ?? error), details: error?.description });
    process.exit(1);
  },
);
