// The control API the Python tests drive: JSON in, JSON out, under /_control/.
//
//   GET  /_control/info                     the actor id, handle and key ids
//   GET  /_control/received                 activities that reached the inbox (verified or not)
//   GET  /_control/requests                 every POST to an inbox: path, signature scheme, status
//   GET  /_control/sent                     every outgoing request: URL, scheme, status
//   GET  /_control/moves                    Moves handled: {origin, target, followed, reason}
//   GET  /_control/following                actor ids we follow (a Move changes them)
//   GET  /_control/log?since=N              Fedify's log records
//   POST /_control/clear                    forget received, requests, sent, the log and
//                                           Fedify's caches (documents, keys, signature specs)
//   POST /_control/lookup {handle, signed}  WebFinger + actor fetch; the parsed actor's facts
//   POST /_control/fetch {url, signed}      fetch and parse an object (a Note)
//   POST /_control/follow {actor}           send Follow; unfollow {actor} sends Undo{Follow}
//   POST /_control/like {object}            Like; unlike {object} sends Undo{Like}
//   POST /_control/announce {object}        Announce; unannounce {object} sends Undo{Announce}
//   POST /_control/reply {inReplyTo, content, mention}   Create{Note}
//   POST /_control/poll {to, content, options: [{name, votes}], multiple, endTime, voters,
//                        emoji: [{name, url, mediaType}]}   Create{Question} mentioning `to`
//   POST /_control/object {type: "Event"|"Image", to, name, content, summary, url, startTime,
//                          endTime, location: {name, latitude, longitude},
//                          attachments: [{url, mediaType, name}]}   Create{Event} (a
//                                           Mobilizon-style invitation) or Create{Image} (a
//                                           Pixelfed-style photo post), mentioning `to`
//   POST /_control/delete-note {note, to}   Delete{Tombstone} of a note the actor wrote, to `to`
//   POST /_control/post {to, content, attachments, send}   a public post: Create{Note} to
//                                           `to` (as to a follower); send=false only keeps it
//                                           (served at its id, for a boost to be fetched)
//   POST /_control/edit {note, to, content} Update{Note} of a note the actor wrote, to `to`
//   POST /_control/delete-actor {to}        Delete of the actor itself (account deleted), to `to`
//   POST /_control/signed-get {url, spec}   one GET signed as our actor; its status and body
//   POST /_control/quote {object, content}  a Note quoting `object` (FEP-044f `quote`), served
//                                           at its id, and QuoteRequest{object, instrument:
//                                           the Note} to the object's author
//   POST /_control/quotable-note {content} a public Note anyone may quote (canQuote: Public);
//                                           its QuoteRequests are granted with a stamp
//   POST /_control/quote-policy {url}       fetch a Note and read its interactionPolicy.canQuote
//                                           with Fedify's vocabulary: the automatic and manual
//                                           approvals' ids
//   POST /_control/stamp {url}              fetch a QuoteAuthorization and parse it with
//                                           Fedify's vocabulary: its type, attributedTo,
//                                           interactingObject and interactionTarget
//
// Failures answer 4xx/5xx with {"error": "..."}; a send that the remote refused answers 200
// with {"ok": false, "error": ...} so tests can assert on it.

import { signRequest } from "@fedify/fedify";
import {
  Announce,
  Collection,
  Create,
  Delete,
  Document,
  Emoji,
  Event,
  Follow,
  Image,
  InteractionPolicy,
  InteractionRule,
  isActor,
  Like,
  Mention,
  Note,
  Place,
  PUBLIC_COLLECTION,
  QuoteAuthorization,
  QuoteRequest,
  Question,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { typeName } from "./federation.mjs";

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function json(status, body) {
  return new Response(JSON.stringify(body, null, 1), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function need(body, key) {
  const value = body?.[key];
  if (typeof value !== "string" || value === "") throw new ControlError(400, `missing "${key}"`);
  return value;
}

const text = (value) => (value == null ? null : String(value));
const hrefs = (urls) => urls.map((u) => u.href);

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function linkHref(url) {
  if (url == null) return null;
  if (url instanceof URL) return url.href;
  return url.href?.href ?? null; // a Link
}

async function actorFacts(actor, loaderOptions) {
  const keys = await collect(actor.getPublicKeys(loaderOptions));
  const multikeys = await collect(actor.getAssertionMethods(loaderOptions));
  const attachments = await collect(actor.getAttachments(loaderOptions));
  const icon = await actor.getIcon(loaderOptions);
  const locations = await collect(actor.getLocations(loaderOptions));
  const featuredTags = await actor.getFeaturedTags(loaderOptions);
  const featuredTagItems =
    featuredTags == null ? [] : await collect(featuredTags.getItems(loaderOptions));
  return {
    id: actor.id?.href ?? null,
    type: typeName(actor),
    preferredUsername: text(actor.preferredUsername),
    name: text(actor.name),
    summary: text(actor.summary),
    url: linkHref(actor.url),
    inbox: actor.inboxId?.href ?? null,
    outbox: actor.outboxId?.href ?? null,
    followers: actor.followersId?.href ?? null,
    following: actor.followingId?.href ?? null,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers ?? null,
    publicKeys: keys.map((key) => ({
      id: key.id?.href ?? null,
      owner: key.ownerId?.href ?? null,
      algorithm: key.publicKey?.algorithm?.name ?? null,
    })),
    assertionMethods: multikeys.map((key) => ({
      id: key.id?.href ?? null,
      controller: key.controllerId?.href ?? null,
      algorithm: key.publicKey?.algorithm?.name ?? null,
    })),
    attachments: attachments.map((a) => ({
      type: typeName(a),
      name: text(a.name),
      value: text(a.value),
    })),
    icon: icon == null ? null : { url: linkHref(icon.url), mediaType: icon.mediaType ?? null },
    // The featuredTags collection, fetched and parsed as Fedify reads it (Hashtag links)
    featuredTags: featuredTagItems.map((t) => ({
      type: typeName(t),
      name: text(t.name),
      href: t.href?.href ?? null,
    })),
    locations: locations.map((l) => ({
      type: typeName(l),
      name: text(l.name),
      latitude: l.latitude ?? null,
      longitude: l.longitude ?? null,
    })),
  };
}

async function objectFacts(object, loaderOptions) {
  const tags = await collect(object.getTags(loaderOptions));
  const attachments = await collect(object.getAttachments(loaderOptions));
  return {
    id: object.id?.href ?? null,
    type: typeName(object),
    content: text(object.content),
    contents: object.contents.map((c) => ({
      value: String(c),
      language: c.locale?.baseName ?? c.language?.compact?.() ?? null,
    })),
    summary: text(object.summary),
    sensitive: object.sensitive ?? null,
    published: text(object.published),
    updated: text(object.updated),
    url: linkHref(object.url),
    attributedTo: hrefs(object.attributionIds),
    inReplyTo: object.replyTargetId?.href ?? null,
    to: hrefs(object.toIds),
    cc: hrefs(object.ccIds),
    tags: tags.map((t) => ({
      type: typeName(t),
      name: text(t.name),
      href: t.href?.href ?? t.id?.href ?? null,
    })),
    attachments: attachments.map((a) => ({
      type: typeName(a),
      url: linkHref(a.url),
      mediaType: a.mediaType ?? null,
      name: text(a.name),
    })),
    // What an Event says (null on other objects): when, and the Place it is at.
    startTime: object.startTime == null ? null : String(object.startTime),
    endTime: object.endTime == null ? null : String(object.endTime),
    location: placeFacts(await object.getLocation(loaderOptions)),
  };
}

function placeFacts(place) {
  if (place == null) return null;
  return {
    type: typeName(place),
    name: text(place.name),
    latitude: place.latitude ?? null,
    longitude: place.longitude ?? null,
  };
}

export class Control {
  constructor({ federation, state, logbook, username, origin }) {
    this.federation = federation;
    this.state = state;
    this.logbook = logbook;
    this.username = username;
    this.origin = origin;
  }

  context() {
    return this.federation.createContext(new URL(this.origin), undefined);
  }

  actorId(ctx) {
    return ctx.getActorUri(this.username);
  }

  newId(ctx, kind) {
    return new URL(`${ctx.origin}/${kind}/${crypto.randomUUID()}`);
  }

  async loaderOptions(ctx, signed) {
    if (!signed) return {};
    const documentLoader = await ctx.getDocumentLoader({ identifier: this.username });
    return { documentLoader };
  }

  async handle(request) {
    const url = new URL(request.url);
    const name = url.pathname.slice("/_control/".length);
    const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
    const route = this.routes()[`${request.method} ${name}`];
    if (route === undefined) return json(404, { error: `no control route ${request.method} ${name}` });
    try {
      return json(200, await route(body, url));
    } catch (error) {
      const status = error instanceof ControlError ? error.status : 500;
      return json(status, { error: String(error), stack: status === 500 ? error.stack : undefined });
    }
  }

  routes() {
    return {
      "GET info": () => this.info(),
      "GET received": () => ({ received: this.state.received }),
      "GET requests": () => ({ requests: this.state.inboxRequests }),
      "GET sent": () => ({ sent: this.state.sent }),
      "GET moves": () => ({ moves: this.state.moves }),
      "GET following": () => ({ following: [...this.state.following.keys()] }),
      "GET log": (_body, url) => ({
        log: this.logbook.since(Number(url.searchParams.get("since") ?? 0)),
        next: this.logbook.mark(),
      }),
      "POST clear": async () => {
        await this.state.clear();
        this.logbook.clear();
        return { ok: true };
      },
      "POST lookup": (body) => this.lookup(body),
      "POST fetch": (body) => this.fetchObject(body),
      "POST follow": (body) => this.follow(body),
      "POST follow-answer": (body) => this.setFollowAnswer(body),
      "POST unfollow": (body) => this.undo(body, "actor", this.state.following),
      "POST like": (body) => this.like(body),
      "POST unlike": (body) => this.undo(body, "object", this.state.likes),
      "POST announce": (body) => this.announce(body),
      "POST unannounce": (body) => this.undo(body, "object", this.state.announces),
      "POST reply": (body) => this.reply(body),
      "POST poll": (body) => this.poll(body),
      "POST object": (body) => this.object(body),
      "POST delete-note": (body) => this.deleteNote(body),
      "POST post": (body) => this.post(body),
      "POST edit": (body) => this.edit(body),
      "POST delete-actor": (body) => this.deleteActor(body),
      "POST signed-get": (body) => this.signedGet(body),
      "POST quote": (body) => this.quote(body),
      "POST quotable-note": (body) => this.quotableNote(body),
      "POST stamp": (body) => this.stamp(body),
      "POST quote-policy": (body) => this.quotePolicy(body),
    };
  }

  /** How the next Follows of our actor are answered: `{answer: "accept" | "reject"}`. */
  setFollowAnswer(body) {
    if (body.answer !== "accept" && body.answer !== "reject") {
      throw new ControlError(400, "answer must be accept or reject");
    }
    this.state.followAnswer = body.answer;
    return { ok: true, answer: body.answer };
  }

  async info() {
    const ctx = this.context();
    const keys = await ctx.getActorKeyPairs(this.username);
    const host = new URL(this.origin).host;
    return {
      origin: this.origin,
      actor: this.actorId(ctx).href,
      handle: `@${this.username}@${host}`,
      inbox: ctx.getInboxUri(this.username).href,
      sharedInbox: ctx.getInboxUri().href,
      keyIds: keys.map((k) => k.keyId.href),
      multikeyIds: keys.map((k) => k.multikey.id?.href ?? null),
    };
  }

  /** Run `work`, returning its result with the warnings Fedify logged meanwhile. */
  async withWarnings(work) {
    const mark = this.logbook.mark();
    const result = await work();
    return {
      ...result,
      warnings: this.logbook.since(mark, ["warning", "error", "fatal"]),
      log: this.logbook.since(mark),
    };
  }

  async lookup(body) {
    const handle = need(body, "handle");
    const ctx = this.context();
    return this.withWarnings(async () => {
      const options = await this.loaderOptions(ctx, body.signed === true);
      const object = await ctx.lookupObject(handle, options);
      if (object === null) return { found: false, actor: null };
      if (!isActor(object)) return { found: true, actor: null, type: typeName(object) };
      return { found: true, actor: await actorFacts(object, options) };
    });
  }

  async fetchObject(body) {
    const target = need(body, "url");
    const ctx = this.context();
    return this.withWarnings(async () => {
      const options = await this.loaderOptions(ctx, body.signed === true);
      const object = await ctx.lookupObject(target, options);
      if (object === null) return { found: false, object: null };
      return { found: true, object: await objectFacts(object, options) };
    });
  }

  /** Look up `id` as an actor to deliver to (signed, so authorized fetch is no obstacle). */
  async recipient(ctx, id) {
    const object = await ctx.lookupObject(id, await this.loaderOptions(ctx, true));
    if (object === null || !isActor(object)) throw new ControlError(422, `not an actor: ${id}`);
    return object;
  }

  /** The author of the object at `id`, to deliver a Like or Announce to. */
  async authorOf(ctx, id) {
    const object = await ctx.lookupObject(id, await this.loaderOptions(ctx, true));
    const author = object?.attributionIds?.[0];
    if (author === undefined) throw new ControlError(422, `no attributedTo on ${id}`);
    return author.href;
  }

  async send(ctx, recipient, activity, { sharedInbox = false } = {}) {
    const before = this.state.sent.length;
    const result = { activity: await activity.toJsonLd({ format: "compact" }) };
    try {
      await ctx.sendActivity({ identifier: this.username }, recipient, activity, {
        preferSharedInbox: sharedInbox,
        immediate: true,
      });
      result.ok = true;
    } catch (error) {
      result.ok = false;
      result.error = String(error);
    }
    result.requests = this.state.sent.slice(before);
    return result;
  }

  async follow(body) {
    const target = need(body, "actor");
    const ctx = this.context();
    const recipient = await this.recipient(ctx, target);
    const follow = new Follow({
      id: this.newId(ctx, "follows"),
      actor: this.actorId(ctx),
      object: recipient.id,
    });
    this.state.following.set(recipient.id.href, { activity: follow, recipient: recipient.id.href });
    return this.send(ctx, recipient, follow);
  }

  async like(body) {
    const objectId = need(body, "object");
    const ctx = this.context();
    const recipient = await this.recipient(ctx, body.to ?? (await this.authorOf(ctx, objectId)));
    const like = new Like({
      id: this.newId(ctx, "likes"),
      actor: this.actorId(ctx),
      object: new URL(objectId),
    });
    this.state.likes.set(objectId, { activity: like, recipient: recipient.id.href });
    return this.send(ctx, recipient, like);
  }

  async announce(body) {
    const objectId = need(body, "object");
    const ctx = this.context();
    const author = body.to ?? (await this.authorOf(ctx, objectId));
    const recipient = await this.recipient(ctx, author);
    const announce = new Announce({
      id: this.newId(ctx, "announces"),
      actor: this.actorId(ctx),
      object: new URL(objectId),
      published: Temporal.Now.instant(),
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(this.username), new URL(author)],
    });
    this.state.announces.set(objectId, { activity: announce, recipient: recipient.id.href });
    return this.send(ctx, recipient, announce, { sharedInbox: true });
  }

  /** Undo what `table` remembers under body[key]: Follow, Like or Announce, embedded. */
  async undo(body, key, table) {
    const target = need(body, key);
    const remembered = table.get(target);
    if (remembered === undefined) throw new ControlError(409, `nothing to undo for ${target}`);
    const ctx = this.context();
    const recipient = await this.recipient(ctx, remembered.recipient);
    const undo = new Undo({
      id: this.newId(ctx, "undos"),
      actor: this.actorId(ctx),
      object: remembered.activity,
    });
    const result = await this.send(ctx, recipient, undo);
    if (result.ok) table.delete(target);
    return result;
  }

  async reply(body) {
    const inReplyTo = need(body, "inReplyTo");
    const content = need(body, "content");
    const ctx = this.context();
    const mentioned = await this.recipient(
      ctx,
      body.mention ?? (await this.authorOf(ctx, inReplyTo)),
    );
    const mentionName = `@${mentioned.preferredUsername}@${mentioned.id.host}`;
    const noteId = ctx.getObjectUri(Note, { id: crypto.randomUUID() });
    const followers = ctx.getFollowersUri(this.username);
    const published = Temporal.Now.instant();
    const note = new Note({
      id: noteId,
      attribution: this.actorId(ctx),
      content,
      replyTarget: new URL(inReplyTo),
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
      tags: [new Mention({ href: mentioned.id, name: mentionName })],
    });
    this.state.notes.set(noteId.href, note);
    const create = new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: this.actorId(ctx),
      object: note,
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
    });
    const result = await this.send(ctx, mentioned, create, { sharedInbox: body.sharedInbox ?? true });
    return { ...result, note: noteId.href };
  }

  /** Create{Question}: a poll mentioning `to`, its options with vote counts, custom emoji. */
  async poll(body) {
    const content = need(body, "content");
    const ctx = this.context();
    const mentioned = await this.recipient(ctx, need(body, "to"));
    const mentionName = `@${mentioned.preferredUsername}@${mentioned.id.host}`;
    const noteId = ctx.getObjectUri(Note, { id: crypto.randomUUID() });
    const followers = ctx.getFollowersUri(this.username);
    const published = Temporal.Now.instant();
    const options = (body.options ?? []).map(
      (o) => new Note({ name: o.name, replies: new Collection({ totalItems: o.votes ?? 0 }) }),
    );
    const emoji = (body.emoji ?? []).map(
      (e, i) =>
        new Emoji({
          id: new URL(`${noteId.href}#emoji-${i}`),
          name: e.name,
          icon: new Image({ url: new URL(e.url), mediaType: e.mediaType ?? null }),
        }),
    );
    const question = new Question({
      id: noteId,
      attribution: this.actorId(ctx),
      content,
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
      tags: [new Mention({ href: mentioned.id, name: mentionName }), ...emoji],
      ...(body.multiple ? { inclusiveOptions: options } : { exclusiveOptions: options }),
      endTime: body.endTime ? Temporal.Instant.from(body.endTime) : null,
      voters: body.voters ?? null,
    });
    this.state.notes.set(noteId.href, question);
    const create = new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: this.actorId(ctx),
      object: question,
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
    });
    const result = await this.send(ctx, mentioned, create, { sharedInbox: true });
    return { ...result, note: noteId.href };
  }

  /**
   * Create{Event} or Create{Image} mentioning `to`: an object Mastodon converts into a status.
   * The Event is shaped as Mobilizon sends an invitation (name, HTML description, start and
   * end, a Place, a banner); the Image as a Pixelfed photo post (name, its page, the photo
   * as an attachment). Both are public, cc the followers and `to`, with a Mention of `to`.
   */
  async object(body) {
    const kind = { Event, Image }[body.type];
    if (kind === undefined) throw new ControlError(400, "type must be Event or Image");
    const ctx = this.context();
    const mentioned = await this.recipient(ctx, need(body, "to"));
    const mentionName = `@${mentioned.preferredUsername}@${mentioned.id.host}`;
    const objectId = this.newId(ctx, body.type === "Event" ? "events" : "p");
    const followers = ctx.getFollowersUri(this.username);
    const published = Temporal.Now.instant();
    const instant = (value) => (value ? Temporal.Instant.from(value) : null);
    const location =
      body.location == null
        ? null
        : new Place({
            name: body.location.name ?? null,
            latitude: body.location.latitude ?? null,
            longitude: body.location.longitude ?? null,
          });
    const attachments = (body.attachments ?? []).map(
      (a) =>
        new (a.mediaType?.startsWith("image/") ? Image : Document)({
          url: new URL(a.url),
          mediaType: a.mediaType ?? null,
          name: a.name ?? null,
        }),
    );
    const object = new kind({
      id: objectId,
      attribution: this.actorId(ctx),
      name: body.name ?? null,
      content: body.content ?? null,
      summary: body.summary ?? null,
      url: new URL(body.url ?? objectId.href),
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
      tags: [new Mention({ href: mentioned.id, name: mentionName })],
      attachments,
      ...(body.type === "Event"
        ? { startTime: instant(body.startTime), endTime: instant(body.endTime), location }
        : {}),
    });
    const create = new Create({
      id: new URL(`${objectId.href}/activity`),
      actor: this.actorId(ctx),
      object,
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers, mentioned.id],
    });
    const result = await this.send(ctx, mentioned, create, { sharedInbox: true });
    return { ...result, object: objectId.href };
  }

  async deleteNote(body) {
    const noteId = need(body, "note");
    const ctx = this.context();
    if (!this.state.notes.has(noteId)) throw new ControlError(409, `no note ${noteId}`);
    const recipient = await this.recipient(ctx, need(body, "to"));
    this.state.notes.delete(noteId);
    const del = new Delete({
      id: new URL(`${noteId}#delete`),
      actor: this.actorId(ctx),
      object: new Tombstone({ id: new URL(noteId) }),
      to: PUBLIC_COLLECTION,
    });
    return this.send(ctx, recipient, del, { sharedInbox: true });
  }

  /** A public post, as a followed account's server delivers it to a follower. */
  async post(body) {
    const content = need(body, "content");
    const ctx = this.context();
    const noteId = ctx.getObjectUri(Note, { id: crypto.randomUUID() });
    const followers = ctx.getFollowersUri(this.username);
    const published = Temporal.Now.instant();
    const attachments = (body.attachments ?? []).map(
      (a) =>
        new Document({
          url: new URL(a.url),
          mediaType: a.mediaType ?? null,
          name: a.name ?? null,
        }),
    );
    const note = new Note({
      id: noteId,
      attribution: this.actorId(ctx),
      content,
      published,
      url: noteId,
      to: PUBLIC_COLLECTION,
      ccs: [followers],
      attachments,
    });
    this.state.notes.set(noteId.href, note);
    if (body.send === false) return { ok: true, note: noteId.href };
    const recipient = await this.recipient(ctx, need(body, "to"));
    const create = new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: this.actorId(ctx),
      object: note,
      published,
      to: PUBLIC_COLLECTION,
      ccs: [followers],
    });
    const result = await this.send(ctx, recipient, create, { sharedInbox: true });
    return { ...result, note: noteId.href };
  }

  /** Update{Note}: the note with new content and `updated`. */
  async edit(body) {
    const noteId = need(body, "note");
    const content = need(body, "content");
    const ctx = this.context();
    const note = this.state.notes.get(noteId);
    if (note === undefined) throw new ControlError(409, `no note ${noteId}`);
    const recipient = await this.recipient(ctx, need(body, "to"));
    const updated = Temporal.Now.instant();
    const edited = note.clone({ content, updated });
    this.state.notes.set(noteId, edited);
    const update = new Update({
      id: new URL(`${noteId}#updates/${updated.epochMilliseconds}`),
      actor: this.actorId(ctx),
      object: edited,
      published: updated,
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(this.username)],
    });
    return this.send(ctx, recipient, update, { sharedInbox: true });
  }

  /** Delete{actor}: the account is gone (Mastodon sends it to every known inbox). */
  async deleteActor(body) {
    const ctx = this.context();
    const recipient = await this.recipient(ctx, need(body, "to"));
    const del = new Delete({
      id: new URL(`${this.actorId(ctx).href}#delete/${crypto.randomUUID()}`),
      actor: this.actorId(ctx),
      object: this.actorId(ctx),
      to: PUBLIC_COLLECTION,
    });
    return this.send(ctx, recipient, del, { sharedInbox: true });
  }

  /** Quote `object` in a new public Note and ask its author's consent (FEP-044f). */
  async quote(body) {
    const objectId = need(body, "object");
    const content = need(body, "content");
    const ctx = this.context();
    const recipient = await this.recipient(ctx, await this.authorOf(ctx, objectId));
    const noteId = ctx.getObjectUri(Note, { id: crypto.randomUUID() });
    const note = new Note({
      id: noteId,
      attribution: this.actorId(ctx),
      content,
      quote: new URL(objectId),
      published: Temporal.Now.instant(),
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(this.username)],
    });
    this.state.notes.set(noteId.href, note);
    const request = new QuoteRequest({
      id: this.newId(ctx, "quote-requests"),
      actor: this.actorId(ctx),
      object: new URL(objectId),
      instrument: noteId,
    });
    const result = await this.send(ctx, recipient, request);
    return { ...result, note: noteId.href, request: request.id.href };
  }

  /** A public Note anyone may quote, served at its id (no activity is sent). */
  async quotableNote(body) {
    const content = need(body, "content");
    const ctx = this.context();
    const noteId = ctx.getObjectUri(Note, { id: crypto.randomUUID() });
    const note = new Note({
      id: noteId,
      attribution: this.actorId(ctx),
      content,
      published: Temporal.Now.instant(),
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(this.username)],
      interactionPolicy: new InteractionPolicy({
        canQuote: new InteractionRule({ automaticApprovals: [PUBLIC_COLLECTION] }),
      }),
    });
    this.state.notes.set(noteId.href, note);
    return { note: noteId.href };
  }

  /** Fetch a Note (signed) and read who may quote it, as Fedify parses `canQuote`. */
  async quotePolicy(body) {
    const target = need(body, "url");
    const ctx = this.context();
    const options = await this.loaderOptions(ctx, true);
    const object = await ctx.lookupObject(target, options);
    if (object === null) return { found: false };
    const rule = object.interactionPolicy?.canQuote ?? null;
    return {
      found: true,
      type: typeName(object),
      automaticApprovals: (rule?.automaticApprovals ?? []).map((u) => u.href),
      manualApprovals: (rule?.manualApprovals ?? []).map((u) => u.href),
    };
  }

  /** Fetch a stamp (signed) and read it as Fedify's QuoteAuthorization. */
  async stamp(body) {
    const target = need(body, "url");
    const ctx = this.context();
    const options = await this.loaderOptions(ctx, true);
    const object = await ctx.lookupObject(target, options);
    if (object === null) return { found: false };
    return {
      found: true,
      type: typeName(object),
      isQuoteAuthorization: object instanceof QuoteAuthorization,
      id: object.id?.href ?? null,
      attributedTo: object.attributionIds?.[0]?.href ?? null,
      interactingObject: object.interactingObjectId?.href ?? null,
      interactionTarget: object.interactionTargetId?.href ?? null,
    };
  }

  async signedGet(body) {
    const target = need(body, "url");
    const spec = body.spec ?? "rfc9421";
    if (spec !== "rfc9421" && spec !== "draft-cavage-http-signatures-12") {
      throw new ControlError(400, `unknown spec ${spec}`);
    }
    const ctx = this.context();
    const [rsa] = await ctx.getActorKeyPairs(this.username);
    let request = new Request(target, {
      headers: { Accept: "application/activity+json, application/ld+json" },
    });
    if (body.unsigned !== true) request = await signRequest(request, rsa.privateKey, rsa.keyId, { spec });
    const response = await fetch(request, { redirect: "manual" });
    const raw = await response.text();
    let parsed = null;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      json: parsed,
      text: parsed === null ? raw.slice(0, 2000) : null,
    };
  }
}
