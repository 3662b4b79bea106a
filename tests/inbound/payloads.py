"""Activities shaped exactly as real servers send them, for handler tests.

Each builder takes the remote actor's id (``a``), the business's actor id (``biz``) and,
where needed, one of the business's post ids (``post``), and returns the activity as that
software serialises it. The comment above each names where the shape comes from. Only ids
and hosts are ours; keys, order and value shapes (string vs list vs object) are theirs.

Sources:
- Mastodon 4.x: app/serializers/activitypub/*.rb (follow, undo_follow, like, undo_like,
  activity [Announce/Create/Update], undo_announce, delete, update_actor [actor_serializer],
  block, flag, move) and app/helpers/context_helper.rb for @context.
- GoToSocial: internal/typeutils/internaltoas.go and internaltoas_test.go (single string
  ``to``/``cc``, a single ``tag`` object, ``/statuses/`` ids, ``/liked/`` like ids,
  Flag from the instance actor ``/users/<host>``).
- Misskey: packages/backend/src/core/activitypub/ApRendererService.ts (renderLike with
  ``_misskey_reaction``, renderUndo with ``{id}/undo``, renderNote, renderDelete of the
  bare user uri, renderFlag from the system user, addContext).
- Pixelfed: app/Transformer/ActivityPub/Verb/* (Follow ``#follow/``, Like ``#likes/``,
  Undo Follow ``#follow/{id}/undo``, Announce ``/activity``, CreateNote with ``tag`` list).
- Fedify (Hollo, Ghost): compacted JSON-LD with ``https://w3id.org/security/data-integrity/v1``
  in ``@context``, uuid fragment ids, ``proof`` objects, ``assertionMethod`` Multikeys.
"""

from __future__ import annotations

from typing import Any

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"

# Mastodon 4.5 (app/helpers/context_helper.rb): the base context plus the extensions used.
MASTODON_NOTE_CONTEXT: list[Any] = [
    AS,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "Hashtag": "as:Hashtag",
        "Emoji": "toot:Emoji",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]
MASTODON_ACTOR_CONTEXT: list[Any] = [
    AS,
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
    },
]
LD_SIGNATURE = {
    "type": "RsaSignature2017",
    "creator": "PLACEHOLDER#main-key",
    "created": "2026-11-23T11:59:00Z",
    "signatureValue": "c2lnbmF0dXJl",
}


def _host(uri: str) -> str:
    return "/".join(uri.split("/")[:3])


# -- Mastodon 4.x ---------------------------------------------------------------------


def mastodon_follow(a: str, biz: str) -> dict[str, Any]:
    # Mastodon ActivityPub::FollowSerializer: id is a random uuid URL on the host.
    return {
        "@context": AS,
        "id": f"{_host(a)}/9d6ae26e-8aa5-4c3b-a2dd-1be9a7e35b37",
        "type": "Follow",
        "actor": a,
        "object": biz,
    }


def mastodon_undo_follow(a: str, biz: str) -> dict[str, Any]:
    # Mastodon UndoFollowSerializer: "#follows/<id>/undo", the Follow embedded (no context).
    follow = mastodon_follow(a, biz)
    del follow["@context"]
    return {
        "@context": AS,
        "id": f"{a}#follows/3120/undo",
        "type": "Undo",
        "actor": a,
        "object": follow,
    }


def mastodon_like(a: str, post: str) -> dict[str, Any]:
    # Mastodon LikeSerializer: "#likes/<favourite id>".
    return {"@context": AS, "id": f"{a}#likes/5571", "type": "Like", "actor": a, "object": post}


def mastodon_undo_like(a: str, post: str) -> dict[str, Any]:
    # Mastodon UndoLikeSerializer: "#likes/<id>/undo" with the Like embedded.
    like = mastodon_like(a, post)
    del like["@context"]
    return {
        "@context": AS,
        "id": f"{a}#likes/5571/undo",
        "type": "Undo",
        "actor": a,
        "object": like,
    }


def mastodon_announce(a: str, biz: str, post: str) -> dict[str, Any]:
    # Mastodon ActivitySerializer for a reblog: "/statuses/<id>/activity", author in cc.
    return {
        "@context": AS,
        "id": f"{a}/statuses/113561283871551734/activity",
        "type": "Announce",
        "actor": a,
        "published": "2026-11-23T11:58:00Z",
        "to": [PUBLIC],
        "cc": [biz, f"{a}/followers"],
        "object": post,
    }


def mastodon_undo_announce(a: str, biz: str, post: str) -> dict[str, Any]:
    # Mastodon UndoAnnounceSerializer: "#announces/<id>/undo", Announce embedded.
    announce = mastodon_announce(a, biz, post)
    del announce["@context"]
    return {
        "@context": AS,
        "id": f"{a}/statuses/113561283871551734#announces/113561283871551734/undo",
        "type": "Undo",
        "actor": a,
        "to": [PUBLIC],
        "object": announce,
    }


def mastodon_note(a: str, biz: str, post: str, *, handle: str) -> dict[str, Any]:
    # Mastodon NoteSerializer: reply with a Mention, a Hashtag and a custom Emoji.
    note_id = f"{a}/statuses/113561290000000001"
    return {
        "id": note_id,
        "type": "Note",
        "summary": None,
        "inReplyTo": post,
        "published": "2026-11-23T11:59:30Z",
        "url": f"{_host(a)}/@alice/113561290000000001",
        "attributedTo": a,
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "sensitive": False,
        "atomUri": note_id,
        "inReplyToAtomUri": post,
        "conversation": "tag:mastodon.example,2026-11-23:objectId=42:objectType=Conversation",
        "content": (
            '<p><span class="h-card" translate="no"><a href="https://town.example/@bakery" '
            'class="u-url mention">@<span>bakery</span></a></span> Best '
            '<a href="https://mastodon.example/tags/croissant" class="mention hashtag" '
            'rel="tag">#<span>croissant</span></a> in town :blobcat: '
            '<img src="x" onerror="alert(1)"><script>alert(2)</script></p>'
        ),
        "contentMap": {"en": "<p>Best #croissant in town :blobcat:</p>"},
        "attachment": [],
        "tag": [
            {"type": "Mention", "href": biz, "name": handle},
            {"type": "Hashtag", "href": f"{_host(a)}/tags/croissant", "name": "#croissant"},
            {
                "id": f"{_host(a)}/emojis/1",
                "type": "Emoji",
                "name": ":blobcat:",
                "updated": "2025-01-01T00:00:00Z",
                "icon": {"type": "Image", "mediaType": "image/png", "url": "https://x/b.png"},
            },
        ],
        "replies": {
            "id": f"{note_id}/replies",
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": f"{note_id}/replies?page=true",
                "partOf": f"{note_id}/replies",
                "items": [],
            },
        },
        "likes": {"id": f"{note_id}/likes", "type": "Collection", "totalItems": 0},
        "shares": {"id": f"{note_id}/shares", "type": "Collection", "totalItems": 0},
    }


def mastodon_create_reply(a: str, biz: str, post: str, *, handle: str) -> dict[str, Any]:
    # Mastodon ActivitySerializer for Create: "/statuses/<id>/activity", audience copied.
    return create_of(a, mastodon_note(a, biz, post, handle=handle), MASTODON_NOTE_CONTEXT)


def mastodon_update_note(a: str, biz: str, post: str, *, handle: str) -> dict[str, Any]:
    # Mastodon: Update{Note} "#updates/<epoch>", the whole note with "updated".
    note = mastodon_note(a, biz, post, handle=handle)
    note["content"] = "<p>Best croissant in town, edited</p>"
    note["contentMap"] = {"en": note["content"]}
    note["updated"] = "2026-11-23T12:05:00Z"
    return {
        "@context": MASTODON_NOTE_CONTEXT,
        "id": f"{note['id']}#updates/1795435500",
        "type": "Update",
        "actor": a,
        "published": "2026-11-23T12:05:00Z",
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def mastodon_delete_note(a: str) -> dict[str, Any]:
    # Mastodon DeleteSerializer: "#delete", a Tombstone with atomUri, LD-signed.
    note_id = f"{a}/statuses/113561290000000001"
    return {
        "@context": [AS, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"}],
        "id": f"{note_id}#delete",
        "type": "Delete",
        "actor": a,
        "to": [PUBLIC],
        "object": {"id": note_id, "type": "Tombstone", "atomUri": note_id},
        "signature": {**LD_SIGNATURE, "creator": f"{a}#main-key"},
    }


def mastodon_actor(a: str, *, name: str, public_pem: str) -> dict[str, Any]:
    # Mastodon ActorSerializer (4.5), with an avatar and one alias.
    host = _host(a)
    return {
        "id": a,
        "type": "Person",
        "following": f"{a}/following",
        "followers": f"{a}/followers",
        "inbox": f"{a}/inbox",
        "outbox": f"{a}/outbox",
        "featured": f"{a}/collections/featured",
        "featuredTags": f"{a}/collections/tags",
        "preferredUsername": "alice",
        "name": name,
        "summary": "<p>Croissant critic.</p>",
        "url": f"{host}/@alice",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "published": "2023-01-01T00:00:00Z",
        "memorial": False,
        "alsoKnownAs": [f"{host}/users/alice_old"],
        "publicKey": {"id": f"{a}#main-key", "owner": a, "publicKeyPem": public_pem},
        "tag": [],
        "attachment": [{"type": "PropertyValue", "name": "Pronouns", "value": "she/her"}],
        "endpoints": {"sharedInbox": f"{host}/inbox"},
        "icon": {"type": "Image", "mediaType": "image/png", "url": f"{host}/avatars/alice.png"},
    }


def mastodon_update_person(a: str, *, name: str, public_pem: str) -> dict[str, Any]:
    # Mastodon UpdateSerializer for an actor: "#updates/<epoch>", the full actor embedded.
    return {
        "@context": MASTODON_ACTOR_CONTEXT,
        "id": f"{a}#updates/1795435501",
        "type": "Update",
        "actor": a,
        "to": [PUBLIC],
        "object": mastodon_actor(a, name=name, public_pem=public_pem),
    }


def mastodon_delete_actor(a: str) -> dict[str, Any]:
    # Mastodon DeleteActorSerializer: "#delete", object is the actor itself, LD-signed.
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": f"{a}#delete",
        "type": "Delete",
        "actor": a,
        "to": [PUBLIC],
        "object": a,
        "signature": {**LD_SIGNATURE, "creator": f"{a}#main-key"},
    }


def mastodon_block(a: str, biz: str) -> dict[str, Any]:
    # Mastodon BlockSerializer: a uuid URL id.
    return {
        "@context": AS,
        "id": f"{_host(a)}/1b7c6a5e-2d1f-4f7e-9a10-0c0f5b2c8e11",
        "type": "Block",
        "actor": a,
        "object": biz,
    }


def mastodon_flag(instance_actor: str, biz: str, post: str) -> dict[str, Any]:
    # Mastodon FlagSerializer: sent by the instance actor, object lists account and posts.
    return {
        "@context": AS,
        "id": f"{_host(instance_actor)}/2c3d4e5f-6a7b-4c8d-9e0f-a1b2c3d4e5f6",
        "type": "Flag",
        "actor": instance_actor,
        "content": "Spam: same advert posted 40 times",
        "object": [biz, post],
    }


def mastodon_move(a: str, target: str) -> dict[str, Any]:
    # Mastodon MoveSerializer: "#moves/<id>", object is the old account, target the new.
    return {
        "@context": AS,
        "id": f"{a}#moves/7",
        "type": "Move",
        "actor": a,
        "object": a,
        "target": target,
    }


# -- GoToSocial -----------------------------------------------------------------------


def gotosocial_follow(a: str, biz: str) -> dict[str, Any]:
    # GoToSocial FollowToAS: "/follow/<ULID>".
    return {
        "@context": AS,
        "actor": a,
        "id": f"{a}/follow/01HF8ZQ4G3M9Z7W2Y6X1B5K0PA",
        "object": biz,
        "type": "Follow",
    }


def gotosocial_like(a: str, post: str, author: str) -> dict[str, Any]:
    # GoToSocial FaveToAS: "/liked/<ULID>", "to" is the post's author as a single string.
    return {
        "@context": AS,
        "actor": a,
        "id": f"{a}/liked/01HF8ZR1K7T3V2N6M4P8Q0S9WX",
        "object": post,
        "to": author,
        "type": "Like",
    }


def gotosocial_create_reply(a: str, biz: str, post: str, *, handle: str) -> dict[str, Any]:
    # GoToSocial StatusToAS + WrapStatusInCreate: single-string "to"/"cc" where there is one
    # value, a single Mention object as "tag", "summary" "" when there is no warning.
    note_id = f"{a}/statuses/01HF8ZS6E0F7R3C1D9A2B4G5HJ"
    note = {
        "attachment": [],
        "attributedTo": a,
        "cc": [f"{a}/followers", biz],
        "content": '<p>hi <span class="h-card"><a href="https://town.example/@bakery" '
        'class="u-url mention">@<span>bakery</span></a></span> open on sunday?</p>',
        "id": note_id,
        "inReplyTo": post,
        "published": "2026-11-23T11:59:00Z",
        "replies": {
            "first": {"id": f"{note_id}/replies?page=true", "type": "CollectionPage"},
            "id": f"{note_id}/replies",
            "type": "Collection",
        },
        "sensitive": False,
        "summary": "",
        "tag": {"href": biz, "name": handle, "type": "Mention"},
        "to": PUBLIC,
        "type": "Note",
        "url": f"{_host(a)}/@zork/statuses/01HF8ZS6E0F7R3C1D9A2B4G5HJ",
    }
    return {
        "@context": AS,
        "actor": a,
        "cc": note["cc"],
        "id": f"{note_id}/activity",
        "object": note,
        "published": note["published"],
        "to": note["to"],
        "type": "Create",
    }


def gotosocial_block(a: str, biz: str) -> dict[str, Any]:
    # GoToSocial BlockToAS: "/blocks/<ULID>", "to" the blocked account.
    return {
        "@context": AS,
        "actor": a,
        "id": f"{a}/blocks/01HF8ZT3Q2W1E0R9T8Y7U6I5OP",
        "object": biz,
        "to": biz,
        "type": "Block",
    }


def gotosocial_flag(instance_actor: str, biz: str, post: str) -> dict[str, Any]:
    # GoToSocial ReportToASFlag: from the instance actor, "/reports/<ULID>".
    return {
        "@context": AS,
        "actor": instance_actor,
        "content": "dodgy bread",
        "id": f"{_host(instance_actor)}/reports/01HF8ZV0A1B2C3D4E5F6G7H8J9",
        "object": [biz, post],
        "type": "Flag",
    }


# -- Misskey --------------------------------------------------------------------------


def misskey_like(a: str, post: str) -> dict[str, Any]:
    # Misskey renderLike: an emoji reaction carried as Like with content/_misskey_reaction.
    return {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {
                "misskey": "https://misskey-hub.net/ns#",
                "_misskey_reaction": "misskey:_misskey_reaction",
            },
        ],
        "type": "Like",
        "id": f"{_host(a)}/likes/9lk2b3c4d5",
        "actor": a,
        "object": post,
        "content": "\U0001f950",
        "_misskey_reaction": "\U0001f950",
    }


def misskey_undo_like(a: str, post: str) -> dict[str, Any]:
    # Misskey renderUndo: id "<object id>/undo", the Like embedded, a "published".
    like = misskey_like(a, post)
    del like["@context"]
    return {
        "@context": AS,
        "type": "Undo",
        "id": f"{like['id']}/undo",
        "actor": a,
        "object": like,
        "published": "2026-11-23T12:01:00.000Z",
    }


def misskey_mention(a: str, biz: str, *, handle: str) -> dict[str, Any]:
    # Misskey renderNote + renderCreate: a "specified" (direct) note: "to" is the mentions
    # only, "cc" empty, _misskey_content and source carry the MFM text.
    note_id = f"{_host(a)}/notes/9lk2c7x8y9"
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": a,
        "content": '<p><a href="https://town.example/@bakery" class="u-url mention">'
        "@bakery@town.example</a> do you deliver?</p>",
        "_misskey_content": "@bakery@town.example do you deliver?",
        "source": {
            "content": "@bakery@town.example do you deliver?",
            "mediaType": "text/x.misskeymarkdown",
        },
        "published": "2026-11-23T11:59:10.000Z",
        "to": [biz],
        "cc": [],
        "inReplyTo": None,
        "attachment": [],
        "sensitive": False,
        "tag": [{"type": "Mention", "href": biz, "name": handle}],
    }
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": f"{note_id}/activity",
        "actor": a,
        "type": "Create",
        "published": note["published"],
        "object": note,
        "to": note["to"],
        "cc": note["cc"],
    }


def misskey_delete_actor(a: str) -> dict[str, Any]:
    # Misskey renderDelete(user uri): no id of its own, so addContext gives "<host>/<uuid>".
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "type": "Delete",
        "actor": a,
        "object": a,
        "published": "2026-11-23T12:00:00.000Z",
        "id": f"{_host(a)}/4f1c2d3e-5b6a-4978-8c9d-0e1f2a3b4c5d",
    }


# -- Pixelfed -------------------------------------------------------------------------


def pixelfed_follow(a: str, biz: str) -> dict[str, Any]:
    # Pixelfed Verb/Follow: "#follow/<id>".
    return {"@context": AS, "id": f"{a}#follow/712345", "type": "Follow", "actor": a, "object": biz}


def pixelfed_undo_follow(a: str, biz: str) -> dict[str, Any]:
    # Pixelfed Verb/UndoFollow: "#follow/<id>/undo", inner Follow id "#follows/<id>" (sic).
    return {
        "@context": AS,
        "id": f"{a}#follow/712345/undo",
        "type": "Undo",
        "actor": a,
        "object": {"id": f"{a}#follows/712345", "actor": a, "object": biz, "type": "Follow"},
    }


def pixelfed_announce(a: str, biz: str, post: str) -> dict[str, Any]:
    # Pixelfed Verb/Announce: status permalink "/activity", cc followers and the author.
    return {
        "@context": AS,
        "id": f"{_host(a)}/p/alice/8877665544/activity",
        "type": "Announce",
        "actor": a,
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "published": "2026-11-23T11:57:00+00:00",
        "object": post,
    }


def pixelfed_undo_announce_by_id(a: str) -> dict[str, Any]:
    # Pixelfed Verb/UndoAnnounce (older versions): the Announce referenced by id only.
    return {
        "@context": AS,
        "id": f"{_host(a)}/p/alice/8877665544/activity#undo",
        "type": "Undo",
        "actor": a,
        "object": f"{_host(a)}/p/alice/8877665544/activity",
    }


# -- Fedify (Hollo, Ghost) ------------------------------------------------------------

FEDIFY_CONTEXT: list[Any] = [
    AS,
    "https://w3id.org/security/data-integrity/v1",
    {
        "Emoji": "toot:Emoji",
        "Hashtag": "as:Hashtag",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
    },
]


def fedify_like(a: str, post: str) -> dict[str, Any]:
    # Fedify Like (Hollo): "#likes/<uuid>", with an Object Integrity Proof.
    return {
        "@context": FEDIFY_CONTEXT,
        "id": f"{a}#likes/0193a7f2-7d4e-7c1b-9a2e-5f6d7c8b9a01",
        "type": "Like",
        "actor": a,
        "object": post,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": f"{a}#key-2",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf",
            "created": "2026-11-23T11:59:59Z",
        },
    }


def fedify_update_person(a: str, *, name: str, public_pem: str) -> dict[str, Any]:
    # Fedify Person (Hollo): publicKey as a list (RSA), assertionMethod Multikeys,
    # url as a Link object, icon as an Image with a url string.
    host = _host(a)
    return {
        "@context": [
            *FEDIFY_CONTEXT,
            "https://w3id.org/security/v1",
            "https://w3id.org/security/multikey/v1",
        ],
        "id": f"{a}#update/0193a7f3-0000-7000-8000-000000000001",
        "type": "Update",
        "actor": a,
        "to": [PUBLIC],
        "object": {
            "id": a,
            "type": "Person",
            "preferredUsername": "alice",
            "name": name,
            "inbox": f"{a}/inbox",
            "outbox": f"{a}/outbox",
            "followers": f"{a}/followers",
            "endpoints": {"type": "as:Endpoints", "sharedInbox": f"{host}/inbox"},
            "url": {"type": "Link", "href": f"{host}/@alice", "mediaType": "text/html"},
            "icon": {"type": "Image", "url": f"{host}/media/alice.webp"},
            "publicKey": [
                {
                    "id": f"{a}#main-key",
                    "type": "CryptographicKey",
                    "owner": a,
                    "publicKeyPem": public_pem,
                }
            ],
            "assertionMethod": [
                {
                    "id": f"{a}#key-2",
                    "type": "Multikey",
                    "controller": a,
                    "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                }
            ],
        },
    }


# -- quote posts (FEP-044f, Mastodon 4.5) ---------------------------------------------------


def mastodon_quote_request(a: str, post: str, quote: str | dict[str, Any]) -> dict[str, Any]:
    # Mastodon QuoteRequestSerializer (sent by ActivityPub::QuoteRequestWorker): the
    # quote_requests context extension, object = the quoted status, instrument = the
    # quoting status (its id; inlined when the quoting status is not public).
    return {
        "@context": [AS, {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"}],
        "id": f"{a}/quote_requests/0199f3c1-77d4-7a1c-9a5e-4a8f2c9b1d20",
        "type": "QuoteRequest",
        "actor": a,
        "object": post,
        "instrument": quote,
    }


def mastodon_quote_note(note_id: str, a: str, post: str) -> dict[str, Any]:
    # Mastodon NoteSerializer of a quote post: quote (FEP-044f) plus the older quoteUri and
    # _misskey_quote, and the "RE:" fallback paragraph in the content.
    return {
        "id": note_id,
        "type": "Note",
        "attributedTo": a,
        "published": "2026-12-07T12:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{a}/followers"],
        "content": (
            f'<p>Look at this!</p><p class="quote-inline">RE: <a href="{post}">{post}</a></p>'
        ),
        "quote": post,
        "quoteUri": post,
        "_misskey_quote": post,
    }


# -- polls (Question) and custom emoji, as each server sends them ----------------------


def create_of(a: str, note: dict[str, Any], context: Any = AS) -> dict[str, Any]:
    """``Create{note}`` by ``a`` as Mastodon wraps a note: ``<note id>/activity``, the
    note's audience and time copied."""
    return {
        "@context": context,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": a,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def _option(name: str, votes: int) -> dict[str, Any]:
    return {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": votes}}


def mastodon_question(a: str, biz: str, *, handle: str, emoji_url: str) -> dict[str, Any]:
    # Mastodon NoteSerializer for a status with a poll: type Question, oneOf (anyOf when
    # multiple), endTime, votersCount; "closed" once expired. Emoji tag with mediaType.
    note_id = f"{a}/statuses/113561290000000077"
    note = {
        "id": note_id,
        "type": "Question",
        "summary": None,
        "inReplyTo": None,
        "published": "2026-11-23T11:00:00Z",
        "url": f"{_host(a)}/@alice/113561290000000077",
        "attributedTo": a,
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "sensitive": False,
        "atomUri": note_id,
        "content": '<p><span class="h-card" translate="no"><a href="https://town.example/@bakery"'
        ' class="u-url mention">@<span>bakery</span></a></span> which bread tomorrow? :baguette:'
        '<img src="https://tracker.example/pixel.gif"></p>',
        "contentMap": {"en": "<p>which bread tomorrow? :baguette:</p>"},
        "endTime": "2026-11-24T11:00:00Z",
        "votersCount": 7,
        "oneOf": [_option("Sourdough", 4), _option("Rye", 2), _option("Brioche", 1)],
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": f"{_host(a)}/system/media_attachments/files/1/original/bread.jpg",
                "name": "Three loaves on a board",
                "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                "width": 1200,
                "height": 800,
            }
        ],
        "tag": [
            {"type": "Mention", "href": biz, "name": handle},
            {
                "id": f"{_host(a)}/emojis/7",
                "type": "Emoji",
                "name": ":baguette:",
                "updated": "2025-01-01T00:00:00Z",
                "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_url},
            },
        ],
    }
    return create_of(a, note, MASTODON_NOTE_CONTEXT)


def mastodon_update_question(
    a: str, biz: str, *, handle: str, emoji_url: str, votes: tuple[int, int, int], closed: bool
) -> dict[str, Any]:
    # Mastodon DistributePollUpdateWorker: Update{Question} with new totals, no "updated".
    create = mastodon_question(a, biz, handle=handle, emoji_url=emoji_url)
    note = create["object"]
    note["oneOf"] = [_option(o["name"], v) for o, v in zip(note["oneOf"], votes, strict=True)]
    note["votersCount"] = sum(votes)
    if closed:
        note["closed"] = note["endTime"]
    return {
        "@context": MASTODON_NOTE_CONTEXT,
        "id": f"{note['id']}#updates/1795435600",
        "type": "Update",
        "actor": a,
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def misskey_question(a: str, biz: str, *, handle: str, emoji_url: str) -> dict[str, Any]:
    # Misskey renderNote for a note with a multiple-choice poll: type Question, anyOf,
    # endTime, no votersCount; the emoji's id is the emoji page, the icon a drive file.
    note_id = f"{_host(a)}/notes/9lk2c7x8z0"
    note = {
        "id": note_id,
        "type": "Question",
        "attributedTo": a,
        "summary": None,
        "content": '<p><a href="https://town.example/@bakery" class="u-url mention">'
        "@bakery@town.example</a> which days :blobcat_bread:</p>",
        "_misskey_content": "@bakery@town.example which days :blobcat_bread:",
        "source": {"content": "which days", "mediaType": "text/x.misskeymarkdown"},
        "published": "2026-11-23T11:01:00.000Z",
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "inReplyTo": None,
        "attachment": [],
        "sensitive": False,
        "tag": [
            {"type": "Mention", "href": biz, "name": handle},
            {
                "id": f"{_host(a)}/emojis/blobcat_bread",
                "type": "Emoji",
                "name": ":blobcat_bread:",
                "updated": "2025-06-01T00:00:00.000Z",
                "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_url},
            },
        ],
        "_misskey_summary": None,
        "endTime": "2026-11-30T11:01:00.000Z",
        "anyOf": [_option("Saturday", 3), _option("Sunday", 5)],
    }
    return create_of(a, note, [AS, "https://w3id.org/security/v1"])


def pleroma_question(a: str, biz: str, *, handle: str, emoji_url: str) -> dict[str, Any]:
    # Pleroma/Akkoma: "closed" carries the closing time (even while open), votersCount,
    # emoji icons without mediaType, "context" in place of conversation.
    note_id = f"{_host(a)}/objects/6a3f0c2e-1b1d-4e57-9f3e-7d2a9c0e5b11"
    note = {
        "id": note_id,
        "type": "Question",
        "actor": a,
        "attributedTo": a,
        "content": '<span class="h-card"><a class="u-url mention" href="https://town.example/'
        '@bakery" rel="ugc">@<span>bakery</span></a></span> coffee or tea :akko_coffee:',
        "context": f"{_host(a)}/contexts/1",
        "conversation": f"{_host(a)}/contexts/1",
        "published": "2026-11-23T11:02:00.000Z",
        "to": [PUBLIC],
        "cc": [f"{a}/followers", biz],
        "sensitive": False,
        "summary": "",
        "attachment": [],
        "closed": "2026-11-23T23:02:00.000000Z",
        "votersCount": 2,
        "oneOf": [_option("Coffee", 2), _option("Tea", 0)],
        "tag": [
            {"type": "Mention", "href": biz, "name": handle},
            {
                "icon": {"type": "Image", "url": emoji_url},
                "id": emoji_url,
                "name": ":akko_coffee:",
                "type": "Emoji",
                "updated": "1970-01-01T00:00:00Z",
            },
        ],
    }
    return create_of(a, note, [AS, f"{_host(a)}/schemas/litepub-0.1.jsonld"])


def gotosocial_question(a: str, biz: str, *, handle: str, emoji_url: str) -> dict[str, Any]:
    # GoToSocial: a closed poll: "closed" and "endTime" both the end, votersCount, single
    # Mention as an object; emoji icon with mediaType.
    note_id = f"{a}/statuses/01HF8ZS6E0F7R3C1D9A2B4G5PQ"
    note = {
        "attachment": [],
        "attributedTo": a,
        "cc": [f"{a}/followers", biz],
        "content": '<p>hi <span class="h-card"><a href="https://town.example/@bakery" '
        'class="u-url mention">@<span>bakery</span></a></span> best cake :rainbow:</p>',
        "id": note_id,
        "inReplyTo": None,
        "published": "2026-11-20T10:00:00Z",
        "sensitive": False,
        "summary": "",
        "tag": [
            {"href": biz, "name": handle, "type": "Mention"},
            {
                "icon": {"mediaType": "image/png", "type": "Image", "url": emoji_url},
                "id": f"{_host(a)}/emoji/01F8MH9H8E4VG3KDYJR9EGPXCQ",
                "name": ":rainbow:",
                "type": "Emoji",
                "updated": "2025-01-01T00:00:00Z",
            },
        ],
        "to": PUBLIC,
        "type": "Question",
        "url": f"{_host(a)}/@zork/statuses/01HF8ZS6E0F7R3C1D9A2B4G5PQ",
        "oneOf": [_option("Cheesecake", 1), _option("Lemon tart", 3)],
        "endTime": "2026-11-21T10:00:00Z",
        "closed": "2026-11-21T10:00:00Z",
        "votersCount": 4,
    }
    return create_of(a, note)
