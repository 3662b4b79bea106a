"""Actor documents with custom emoji in their names, shaped as Mastodon 4.x, Misskey 2024.x,
Pleroma/Akkoma 2.x and GoToSocial 0.17 serve them (``tag`` items of type ``Emoji``); the
icon URL is a parameter so tests can point it at a loopback peer."""

from __future__ import annotations

from typing import Any

AS = "https://www.w3.org/ns/activitystreams"


def _base(uri: str, kind: str = "Person") -> dict[str, Any]:
    host = uri.split("/")[2]
    return {
        "id": uri,
        "type": kind,
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "endpoints": {"sharedInbox": f"https://{host}/inbox"},
    }


def mastodon(uri: str, icon: str, *, name: str = "Alice :blobcat:") -> dict[str, Any]:
    # Mastodon ActorSerializer: toot:Emoji in the context, id /emojis/<n>, Image icon with
    # mediaType, tags of the bio too (only those of the name are kept).
    return {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji"},
        ],
        **_base(uri),
        "preferredUsername": "alice",
        "name": name,
        "summary": "<p>Bakes bread :bread_cat:</p>",
        "url": f"{uri.rsplit('/users/', 1)[0]}/@alice",
        "tag": [
            {
                "id": f"{uri.split('/users/')[0]}/emojis/12345",
                "type": "Emoji",
                "name": ":blobcat:",
                "updated": "2024-05-01T10:00:00Z",
                "icon": {"type": "Image", "mediaType": "image/png", "url": icon},
            },
            {
                "id": f"{uri.split('/users/')[0]}/emojis/12346",
                "type": "Emoji",
                "name": ":bread_cat:",
                "updated": "2024-05-01T10:00:00Z",
                "icon": {"type": "Image", "mediaType": "image/png", "url": icon + "?bio"},
            },
        ],
    }


def misskey(uri: str, icon: str) -> dict[str, Any]:
    # Misskey ApRendererService.renderPerson: name with trailing emoji, Emoji tag with the
    # "_misskey_license" extension, mediaType from the drive file (often webp).
    return {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {"Emoji": "toot:Emoji", "_misskey_license": "misskey:_misskey_license"},
        ],
        **_base(uri),
        "preferredUsername": "mi",
        "name": "みすきー :misskey_cat::party_parrot:",
        "tag": [
            {
                "id": f"https://{uri.split('/')[2]}/emojis/misskey_cat",
                "type": "Emoji",
                "name": ":misskey_cat:",
                "updated": "2024-02-03T04:05:06.000Z",
                "icon": {"type": "Image", "mediaType": "image/webp", "url": icon},
                "_misskey_license": {"freeText": None},
            },
        ],
    }


def pleroma(uri: str, icon: str) -> dict[str, Any]:
    # Pleroma/Akkoma: no mediaType on the icon, id is the icon URL, updated at the epoch.
    return {
        "@context": [AS, "https://w3id.org/security/v1", {"Emoji": "toot:Emoji"}],
        **_base(uri),
        "preferredUsername": "lain",
        "name": ":blobcat: lain",
        "tag": [
            {
                "icon": {"type": "Image", "url": icon},
                "id": icon,
                "name": ":blobcat:",
                "type": "Emoji",
                "updated": "1970-01-01T00:00:00Z",
            }
        ],
    }


def gotosocial(uri: str, icon: str) -> dict[str, Any]:
    # GoToSocial: keys sorted, ULID ids, the Emoji tag beside a Hashtag of the bio.
    return {
        "@context": [AS, "https://w3id.org/security/v1", "http://joinmastodon.org/ns"],
        **_base(uri),
        "preferredUsername": "zork",
        "name": "zork :gts_sloth:",
        "tag": [
            {
                "href": "https://gts.example/tags/sloths",
                "name": "#sloths",
                "type": "Hashtag",
            },
            {
                "icon": {"mediaType": "image/png", "type": "Image", "url": icon},
                "id": "https://gts.example/emoji/01HV7ZQ3Y5QW8J6K0A2B3C4D5E",
                "name": ":gts_sloth:",
                "type": "Emoji",
                "updated": "2024-04-15T12:00:00Z",
            },
        ],
    }


#: (server, builder, shortcode of the name's emoji that is kept)
SHAPES = [
    ("mastodon", mastodon, "blobcat", "https://mastodon.example/users/alice"),
    ("misskey", misskey, "misskey_cat", "https://misskey.example/users/9lk2a1b2c3"),
    ("pleroma", pleroma, "blobcat", "https://pleroma.example/users/lain"),
    ("gotosocial", gotosocial, "gts_sloth", "https://gts.example/users/zork"),
]
