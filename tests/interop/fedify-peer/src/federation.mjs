// The Fedify side of the peer: one Person actor with an RSA key (draft-cavage, and RFC 9421
// with rsa-v1_5-sha256) and an Ed25519 key (Object Integrity Proofs), an inbox that records
// what arrives, a followers collection and the notes the actor wrote.

import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Reject,
  Endpoints,
  Follow,
  getTypeId,
  Note,
  Person,
  PropertyValue,
  QuoteAuthorization,
  Undo,
} from "@fedify/vocab";

/** Everything the peer remembers.  Tests read it through the control API. */
export class PeerState {
  constructor() {
    this.received = []; // activities that reached a listener, or were refused as unverified
    this.inboxRequests = []; // every POST to an inbox: path, scheme, status
    this.sent = []; // every outgoing HTTP request (see loopback.mjs)
    this.rawActivities = new Map(); // activity id -> the JSON body as received
    this.following = new Map(); // actor id -> the Follow we sent
    this.likes = new Map(); // object id -> the Like we sent
    this.announces = new Map(); // object id -> the Announce we sent
    this.notes = new Map(); // note id -> Note the actor wrote
    this.followers = new Set(); // actor ids that follow us
    this.moves = []; // Moves: {origin, target, followed, reason}; neither yet: in progress
    this.followAnswer = "accept"; // how we answer a Follow: "accept" or "reject"
    this.stamps = new Map(); // stamp id -> QuoteAuthorization we granted
    this.kv = new MemoryKvStore(); // Fedify's caches: documents, keys, signature specs
  }

  /** Forget what arrived and Fedify's caches, so each test meets its servers afresh. */
  async clear() {
    for await (const entry of this.kv.list()) await this.kv.delete(entry.key);
    this.received = [];
    this.inboxRequests = [];
    this.sent.length = 0; // loopback.mjs holds this array
    this.rawActivities.clear();
    this.moves = [];
    this.followAnswer = "accept";
  }
}

/** "Note" for https://www.w3.org/ns/activitystreams#Note, "Emoji" for toot:Emoji. */
export function typeName(object) {
  return getTypeId(object)?.href.split(/[#/]/).pop() ?? null;
}

function objectSummary(raw) {
  const object = raw?.object;
  if (object == null || typeof object === "string") return object ?? null;
  if (Array.isArray(object)) return object.map((o) => (typeof o === "string" ? o : o.id));
  const summary = { id: object.id ?? null, type: object.type ?? null };
  for (const key of ["actor", "object", "content", "inReplyTo", "to", "cc", "tag", "attachment"]) {
    if (key in object) summary[key] = object[key];
  }
  return summary;
}

function record(state, activity, extra) {
  const id = activity.id?.href ?? null;
  const raw = id === null ? null : (state.rawActivities.get(id) ?? null);
  const request = state.inboxRequests.findLast((r) => r.activity_id === id) ?? null;
  state.received.push({
    type: typeName(activity),
    id,
    actor: activity.actorId?.href ?? null,
    object: objectSummary(raw),
    to: activity.toIds.map((u) => u.href),
    cc: activity.ccIds.map((u) => u.href),
    signature: request?.signature ?? null,
    inbox: request?.path ?? null,
    json: raw,
    at: new Date().toISOString(),
    ...extra,
  });
}

/**
 * Accept every Follow of our actor, or Reject it when told to (`POST follow-answer`), and
 * forget followers that Undo theirs.
 */
async function followBookkeeping(ctx, state, username, activity) {
  const type = typeName(activity);
  const follower = activity.actorId?.href;
  if (follower === undefined) return;
  if (type === "Follow" && activity.objectId?.href === ctx.getActorUri(username).href) {
    const accepting = state.followAnswer !== "reject";
    if (accepting) state.followers.add(follower);
    const actor = await activity.getActor();
    if (actor === null) return;
    const Answer = accepting ? Accept : Reject;
    const answer = new Answer({
      id: new URL(`${ctx.origin}/activities/${crypto.randomUUID()}`),
      actor: ctx.getActorUri(username),
      object: activity,
    });
    await ctx.sendActivity({ identifier: username }, actor, answer);
  } else if (type === "Undo") {
    const undone = state.rawActivities.get(activity.id?.href)?.object;
    if (undone?.type === "Follow") state.followers.delete(follower);
  }
}

/**
 * Grant every QuoteRequest for a note of ours (FEP-044f, as Mastodon does for a post anyone
 * may quote): serve a QuoteAuthorization and send Accept{object: the request, result: it}.
 */
async function grantQuote(ctx, state, username, activity) {
  const target = activity.objectId?.href;
  if (target === undefined || !state.notes.has(target)) return;
  const requester = await activity.getActor();
  if (requester === null) return;
  const stampId = ctx.getObjectUri(QuoteAuthorization, { id: crypto.randomUUID() });
  const stamp = new QuoteAuthorization({
    id: stampId,
    attribution: ctx.getActorUri(username),
    interactingObject: activity.instrumentId,
    interactionTarget: new URL(target),
  });
  state.stamps.set(stampId.href, stamp);
  const accept = new Accept({
    id: new URL(`${ctx.origin}/activities/${crypto.randomUUID()}`),
    actor: ctx.getActorUri(username),
    object: activity,
    result: stampId,
  });
  await ctx.sendActivity({ identifier: username }, requester, accept);
}

/**
 * React to Move{actor: old, object: old, target: new} as Mastodon does
 * (app/lib/activitypub/activity/move.rb, MoveWorker, UnfollowFollowWorker): only an
 * account moving itself, only if we follow it; fetch the target afresh and go on only if
 * it names the old account in alsoKnownAs; then Follow the target and Undo the old Follow.
 */
async function followMove(ctx, state, username, activity) {
  const origin = activity.actorId?.href;
  const move = { origin, target: activity.targetId?.href ?? null, followed: false, reason: null };
  state.moves.push(move);
  if (origin === undefined || activity.objectId?.href !== origin) {
    move.reason = "not a move of the sender itself";
    return;
  }
  const followed = state.following.get(origin);
  if (followed === undefined) {
    move.reason = "we do not follow the old account";
    return;
  }
  const documentLoader = await ctx.getDocumentLoader({ identifier: username });
  const target = move.target === null ? null : await ctx.lookupObject(move.target, { documentLoader });
  if (target === null || target.id === null) {
    move.reason = "the target cannot be fetched";
    return;
  }
  if (!target.aliasIds.some((alias) => alias.href === origin)) {
    move.reason = "the target does not name the old account in alsoKnownAs";
    return;
  }
  const follow = new Follow({
    id: new URL(`${ctx.origin}/follows/${crypto.randomUUID()}`),
    actor: ctx.getActorUri(username),
    object: target.id,
  });
  await ctx.sendActivity({ identifier: username }, target, follow, { immediate: true });
  state.following.set(target.id.href, { activity: follow, recipient: target.id.href });
  const old = await ctx.lookupObject(origin, { documentLoader });
  if (old !== null) {
    const undo = new Undo({
      id: new URL(`${ctx.origin}/undos/${crypto.randomUUID()}`),
      actor: ctx.getActorUri(username),
      object: followed.activity,
    });
    await ctx.sendActivity({ identifier: username }, old, undo, { immediate: true });
  }
  state.following.delete(origin);
  move.followed = true;
}

/**
 * Build the Federation.  `origin` is the peer's base URL (http://127.0.0.1:PORT).
 * `firstKnock` picks the signature scheme Fedify tries first on outgoing requests.
 */
export async function buildFederation({ origin, username, displayName, firstKnock, state }) {
  const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const ed25519 = await generateCryptoKeyPair("Ed25519");

  const federation = createFederation({
    kv: state.kv,
    origin,
    // Everything is on 127.0.0.1: without this Fedify refuses to fetch loopback URLs.
    allowPrivateAddress: true,
    firstKnock,
  });

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== username) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: displayName,
        summary: "<p>A Fedify peer for fedi-town's interop tests.</p>",
        url: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((key) => key.multikey),
        attachments: [new PropertyValue({ name: "Software", value: "Fedify" })],
      });
    })
    .mapHandle((_ctx, handle) => (handle === username ? username : null))
    .setKeyPairsDispatcher((_ctx, identifier) => (identifier === username ? [rsa, ed25519] : []));

  federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
    if (identifier !== username) return null;
    return { items: [...state.followers].map((id) => ({ id: new URL(id), inboxId: null })) };
  });

  federation.setObjectDispatcher(Note, "/notes/{id}", (ctx, values) => {
    return state.notes.get(ctx.getObjectUri(Note, values).href) ?? null;
  });

  federation.setObjectDispatcher(QuoteAuthorization, "/stamps/{id}", (ctx, values) => {
    return state.stamps.get(ctx.getObjectUri(QuoteAuthorization, values).href) ?? null;
  });

  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Activity, async (ctx, activity) => {
      record(state, activity, { verified: true, reason: null, recipient: ctx.recipient });
      await followBookkeeping(ctx, state, username, activity);
      if (typeName(activity) === "QuoteRequest") await grantQuote(ctx, state, username, activity);
      if (typeName(activity) === "Move") {
        try {
          await followMove(ctx, state, username, activity);
        } catch (error) {
          state.moves.at(-1).reason = `failed: ${error}`;
        }
      }
    })
    .onUnverifiedActivity((_ctx, activity, reason) => {
      record(state, activity, { verified: false, reason: reason?.type ?? String(reason) });
    })
    .onError((_ctx, error) => {
      process.stderr.write(`[error] inbox listener: ${error}\n`);
    });

  return federation;
}
