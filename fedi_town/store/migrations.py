"""Versioned schema migrations, applied by ``fedi-town migrate`` and at start.

Each migration is a version number, a name and a list of statements in the SQL subset both
SQLite and PostgreSQL accept. A migration runs in one transaction and is recorded in
``schema_migrations``; applied versions are never edited, only followed by new ones.
On PostgreSQL an advisory lock keeps several processes starting at once from racing.

Conventions: ids BIGINT (``store.db.new_id``), times BIGINT epoch milliseconds, JSON as TEXT,
booleans BOOLEAN (0/1 on SQLite; compare with ``= :true`` parameters, never literals).
"""

from __future__ import annotations

import asyncio
import logging

from fedi_town.errors import ServiceUnavailable
from fedi_town.store.db import Store, now_ms

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "businesses, actors, posts, inbox, deliveries",
        [
            # Key/value facts of the instance itself (instance actor keys, ...).
            """CREATE TABLE instance_kv (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
            """CREATE TABLE businesses (
                id BIGINT PRIMARY KEY,
                username TEXT NOT NULL,
                username_lower TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                summary TEXT NOT NULL DEFAULT '',
                website TEXT,
                phone TEXT,
                address TEXT,
                fields TEXT NOT NULL DEFAULT '[]',
                avatar_media_id BIGINT,
                header_media_id BIGINT,
                manually_approves_followers BOOLEAN NOT NULL DEFAULT FALSE,
                discoverable BOOLEAN NOT NULL DEFAULT TRUE,
                indexable BOOLEAN NOT NULL DEFAULT TRUE,
                owner_token_hash TEXT NOT NULL,
                private_key_pem TEXT NOT NULL,
                public_key_pem TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT
            )""",
            "CREATE INDEX businesses_token ON businesses (owner_token_hash)",
            # Every actor we know from elsewhere (and cached copies of their keys).
            """CREATE TABLE remote_actors (
                id BIGINT PRIMARY KEY,
                uri TEXT NOT NULL UNIQUE,
                domain TEXT NOT NULL,
                username TEXT,
                display_name TEXT,
                type TEXT,
                url TEXT,
                icon_url TEXT,
                inbox TEXT,
                shared_inbox TEXT,
                followers_uri TEXT,
                also_known_as TEXT NOT NULL DEFAULT '[]',
                moved_to TEXT,
                document TEXT NOT NULL DEFAULT '{}',
                fetched_at BIGINT NOT NULL,
                gone_at BIGINT
            )""",
            "CREATE INDEX remote_actors_domain ON remote_actors (domain)",
            """CREATE TABLE remote_keys (
                key_id TEXT PRIMARY KEY,
                owner_uri TEXT NOT NULL,
                public_key_pem TEXT NOT NULL,
                fetched_at BIGINT NOT NULL
            )""",
            "CREATE INDEX remote_keys_owner ON remote_keys (owner_uri)",
            # Followers of a business. state: pending (follow request) or accepted.
            """CREATE TABLE follows (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                follow_uri TEXT,
                follow_document TEXT,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (business_id, actor_id)
            )""",
            "CREATE INDEX follows_actor ON follows (actor_id)",
            # Media uploaded by owners (post attachments, avatars, headers).
            """CREATE TABLE media (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                post_id BIGINT,
                path TEXT NOT NULL,
                media_type TEXT NOT NULL,
                size_bytes BIGINT NOT NULL,
                width INTEGER,
                height INTEGER,
                blurhash TEXT,
                description TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX media_post ON media (post_id)",
            # Notes written by a business.
            """CREATE TABLE posts (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                uri TEXT NOT NULL UNIQUE,
                content_source TEXT NOT NULL,
                content_html TEXT NOT NULL,
                spoiler_text TEXT NOT NULL DEFAULT '',
                sensitive BOOLEAN NOT NULL DEFAULT FALSE,
                language TEXT,
                visibility TEXT NOT NULL,
                in_reply_to_uri TEXT,
                mentions TEXT NOT NULL DEFAULT '[]',
                hashtags TEXT NOT NULL DEFAULT '[]',
                scheduled_at BIGINT,
                published_at BIGINT,
                edited_at BIGINT,
                pinned_at BIGINT,
                deleted_at BIGINT,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX posts_business ON posts (business_id, id)",
            "CREATE INDEX posts_scheduled ON posts (scheduled_at)",
            # Notes from elsewhere that reply to or mention a business.
            """CREATE TABLE remote_notes (
                id BIGINT PRIMARY KEY,
                uri TEXT NOT NULL UNIQUE,
                actor_id BIGINT NOT NULL,
                in_reply_to_uri TEXT,
                content_html TEXT NOT NULL,
                summary TEXT,
                url TEXT,
                visibility TEXT NOT NULL,
                published_at BIGINT NOT NULL,
                edited_at BIGINT,
                document TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX remote_notes_reply ON remote_notes (in_reply_to_uri)",
            "CREATE INDEX remote_notes_actor ON remote_notes (actor_id)",
            # Which businesses a remote note concerns (reply target or mention).
            """CREATE TABLE remote_note_targets (
                note_id BIGINT NOT NULL,
                business_id BIGINT NOT NULL,
                PRIMARY KEY (note_id, business_id)
            )""",
            # Likes and boosts (kind = like | announce) of our posts.
            """CREATE TABLE interactions (
                id BIGINT PRIMARY KEY,
                kind TEXT NOT NULL,
                activity_uri TEXT NOT NULL UNIQUE,
                actor_id BIGINT NOT NULL,
                post_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (kind, actor_id, post_id)
            )""",
            "CREATE INDEX interactions_post ON interactions (post_id, kind)",
            "CREATE INDEX interactions_actor ON interactions (actor_id)",
            # What a business's owner is told about.
            """CREATE TABLE notifications (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                type TEXT NOT NULL,
                actor_id BIGINT,
                post_id BIGINT,
                remote_note_id BIGINT,
                report_id BIGINT,
                dedupe_key TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                read_at BIGINT
            )""",
            "CREATE INDEX notifications_business ON notifications (business_id, id)",
            "CREATE INDEX notifications_actor ON notifications (actor_id)",
            # Blocks: business_id NULL means instance-wide (admin). Exactly one of actor/domain.
            """CREATE TABLE blocks (
                id BIGINT PRIMARY KEY,
                business_id BIGINT,
                actor_uri TEXT,
                domain TEXT,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX blocks_domain ON blocks (domain)",
            "CREATE INDEX blocks_actor ON blocks (actor_uri)",
            # Reports (Flag) received from other servers.
            """CREATE TABLE reports (
                id BIGINT PRIMARY KEY,
                business_id BIGINT,
                activity_uri TEXT NOT NULL UNIQUE,
                actor_uri TEXT NOT NULL,
                content TEXT NOT NULL DEFAULT '',
                object_uris TEXT NOT NULL DEFAULT '[]',
                created_at BIGINT NOT NULL
            )""",
            # Inbound activities waiting for the worker. activity_uri dedupes.
            """CREATE TABLE inbox_items (
                id BIGINT PRIMARY KEY,
                activity_uri TEXT NOT NULL UNIQUE,
                business_id BIGINT,
                actor_uri TEXT NOT NULL,
                type TEXT NOT NULL,
                body TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                locked_until BIGINT,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                done_at BIGINT
            )""",
            "CREATE INDEX inbox_items_due ON inbox_items (state, next_attempt_at)",
            # Activities we send, and one delivery row per (activity, inbox).
            """CREATE TABLE outgoing_activities (
                id BIGINT PRIMARY KEY,
                business_id BIGINT,
                uri TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                post_id BIGINT,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX outgoing_post ON outgoing_activities (post_id)",
            """CREATE TABLE deliveries (
                id BIGINT PRIMARY KEY,
                activity_id BIGINT NOT NULL,
                inbox TEXT NOT NULL,
                host TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                locked_until BIGINT,
                last_status INTEGER,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                done_at BIGINT,
                UNIQUE (activity_id, inbox)
            )""",
            "CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)",
            # Per remote host: signature scheme that works, circuit breaker state.
            """CREATE TABLE remote_hosts (
                host TEXT PRIMARY KEY,
                signature_scheme TEXT,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                open_until BIGINT,
                last_success_at BIGINT,
                last_failure_at BIGINT
            )""",
        ],
    ),
    (
        2,
        "inbound federation: report targets, block and follower lookups",
        [
            # A Flag may name several businesses; each sees the report (reports.business_id
            # keeps the first one named, NULL when only posts or nobody of ours was named).
            """CREATE TABLE report_targets (
                report_id BIGINT NOT NULL,
                business_id BIGINT NOT NULL,
                PRIMARY KEY (report_id, business_id)
            )""",
            "CREATE INDEX report_targets_business ON report_targets (business_id, report_id)",
            # One block per (business or instance, actor or domain).
            "CREATE UNIQUE INDEX blocks_unique ON blocks "
            "(COALESCE(business_id, 0), COALESCE(actor_uri, ''), COALESCE(domain, ''))",
            "CREATE INDEX blocks_business ON blocks (business_id, id)",
            # Followers and follow requests are listed per business and state, newest first.
            "CREATE INDEX follows_business ON follows (business_id, state, id)",
            "CREATE INDEX follows_uri ON follows (follow_uri)",
            "CREATE INDEX remote_notes_targets_business ON remote_note_targets (business_id)",
            "CREATE INDEX notifications_note ON notifications (remote_note_id)",
            "CREATE INDEX remote_actors_handle ON remote_actors (domain, username)",
        ],
    ),
    (
        3,
        "post audiences, media order, delivery lookups by host",
        [
            # Inboxes of the actors a post mentions or replies to (not its followers): what
            # a scheduled post still has to reach when it is published, and edits resend to.
            "ALTER TABLE posts ADD COLUMN extra_inboxes TEXT NOT NULL DEFAULT '[]'",
            # Where an attachment sits among a post's media (the order the owner gave).
            "ALTER TABLE media ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
            # The circuit breaker wakes a host's deferred rows; reach reports read by post.
            "CREATE INDEX deliveries_host ON deliveries (host, state)",
            "CREATE INDEX deliveries_activity ON deliveries (activity_id, state)",
            "CREATE INDEX posts_due ON posts (published_at, scheduled_at)",
        ],
    ),
    (
        4,
        "queue claims walk an index in claim order",
        [
            # The claim takes due rows ORDER BY next_attempt_at, id LIMIT n. Without id in
            # the index, SQLite sorted every due row first (a temporary B-tree over the
            # whole backlog: 100,000 rows after a burst) inside the write transaction,
            # stalling the inbox's commits; with it, the claim reads n index entries.
            "DROP INDEX inbox_items_due",
            "CREATE INDEX inbox_items_due ON inbox_items (state, next_attempt_at, id)",
            "DROP INDEX deliveries_due",
            "CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, id)",
        ],
    ),
    (
        5,
        "local business data: structured profile, offers, events, the directory",
        [
            # The structured profile (docs/business-data.md). JSON columns hold what the
            # admin API validated; fedi_town.business reads them.
            "ALTER TABLE businesses ADD COLUMN category TEXT",
            "ALTER TABLE businesses ADD COLUMN location TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE businesses ADD COLUMN service_area TEXT",
            "ALTER TABLE businesses ADD COLUMN email TEXT",
            "ALTER TABLE businesses ADD COLUMN price_range TEXT",
            "ALTER TABLE businesses ADD COLUMN timezone TEXT",
            "ALTER TABLE businesses ADD COLUMN hours TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE businesses ADD COLUMN special_hours TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE businesses ADD COLUMN notice_text TEXT",
            "ALTER TABLE businesses ADD COLUMN notice_until BIGINT",
            # Listed on the front page and boosted by the directory actor unless opted out.
            "ALTER TABLE businesses ADD COLUMN in_directory BOOLEAN NOT NULL DEFAULT TRUE",
            # 'business', or 'directory' for the instance's high-street actor.
            "ALTER TABLE businesses ADD COLUMN kind TEXT NOT NULL DEFAULT 'business'",
            # The time-dependent part of the actor last sent to followers (a digest), and
            # when it may change next (opening, closing, midnight, a notice's end).
            "ALTER TABLE businesses ADD COLUMN profile_digest TEXT",
            "ALTER TABLE businesses ADD COLUMN profile_check_at BIGINT",
            "CREATE INDEX businesses_profile_check ON businesses (profile_check_at)",
            """CREATE TABLE offers (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                title TEXT NOT NULL,
                text TEXT NOT NULL DEFAULT '',
                price TEXT,
                currency TEXT,
                valid_from BIGINT,
                valid_until BIGINT,
                media_id BIGINT,
                post_id BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT
            )""",
            "CREATE INDEX offers_business ON offers (business_id, valid_until)",
            """CREATE TABLE events (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                title TEXT NOT NULL,
                text TEXT NOT NULL DEFAULT '',
                starts_at BIGINT NOT NULL,
                ends_at BIGINT NOT NULL,
                place TEXT,
                media_id BIGINT,
                post_id BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT
            )""",
            "CREATE INDEX events_business ON events (business_id, ends_at)",
        ],
    ),
    (
        6,
        "one live directory actor per instance",
        [
            # The admin API checks under a lock too; this is the last word if two
            # processes race (a partial index: SQLite and PostgreSQL both have them).
            "CREATE UNIQUE INDEX businesses_one_directory ON businesses (kind) "
            "WHERE kind = 'directory' AND deleted_at IS NULL",
        ],
    ),
    (
        7,
        "people who sign in to the owner's web app: invites, sessions, passkeys",
        [
            # business_id NULL: the instance admin. login is stored lowercased (unique).
            """CREATE TABLE people (
                id BIGINT PRIMARY KEY,
                business_id BIGINT REFERENCES businesses (id),
                role TEXT NOT NULL,
                login TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                password_hash TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                disabled_at BIGINT
            )""",
            "CREATE INDEX people_business ON people (business_id)",
            # token_hash: SHA-256 of the link's secret. person_id set: a new password for
            # someone who has one (a forgotten password is a new invite).
            """CREATE TABLE invites (
                id BIGINT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                business_id BIGINT REFERENCES businesses (id),
                role TEXT NOT NULL,
                person_id BIGINT REFERENCES people (id),
                created_by BIGINT,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )""",
            "CREATE INDEX invites_business ON invites (business_id, used_at)",
            """CREATE TABLE web_sessions (
                id_hash TEXT PRIMARY KEY,
                person_id BIGINT NOT NULL REFERENCES people (id),
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                user_agent TEXT NOT NULL DEFAULT '',
                challenge TEXT
            )""",
            "CREATE INDEX web_sessions_person ON web_sessions (person_id)",
            """CREATE TABLE passkeys (
                id BIGINT PRIMARY KEY,
                person_id BIGINT NOT NULL REFERENCES people (id),
                credential_id TEXT NOT NULL UNIQUE,
                public_key TEXT NOT NULL,
                sign_count BIGINT NOT NULL,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT
            )""",
            "CREATE INDEX passkeys_person ON passkeys (person_id)",
            """CREATE TABLE passkey_challenges (
                challenge TEXT PRIMARY KEY,
                expires_at BIGINT NOT NULL
            )""",
            # Wrong passwords per key ("addr:1.2.3.4", "login:anna") in fixed windows, shared
            # by every web process through the database.
            """CREATE TABLE sign_in_failures (
                key TEXT PRIMARY KEY,
                window_start BIGINT NOT NULL,
                failures INTEGER NOT NULL
            )""",
        ],
    ),
    (
        8,
        "worker heartbeats, for /readyz",
        [
            # One row per running worker (``store.heartbeats``): when it last beat.
            """CREATE TABLE worker_heartbeats (
                worker_id TEXT PRIMARY KEY,
                beat_at BIGINT NOT NULL
            )""",
        ],
    ),
    (
        9,
        "a business's other accounts and where it moved (docs/moving.md)",
        [
            # Actor ids of the owner's accounts elsewhere (the actor's alsoKnownAs): an
            # account moving here is followed over only if we name it (Mastodon's rule).
            "ALTER TABLE businesses ADD COLUMN also_known_as TEXT NOT NULL DEFAULT '[]'",
            # The actor id this business moved to (movedTo), once it sent Move; then it
            # posts no more.
            "ALTER TABLE businesses ADD COLUMN moved_to TEXT",
            "ALTER TABLE businesses ADD COLUMN moved_at BIGINT",
        ],
    ),
    (
        10,
        "featured hashtags of a business",
        [
            # A JSON list of hashtag names without "#", as the owner spelled them (at most 10).
            "ALTER TABLE businesses ADD COLUMN featured_tags TEXT NOT NULL DEFAULT '[]'",
        ],
    ),
    (
        11,
        "who businesses follow",
        [
            # Accounts a business follows (``store.following``): remote actors, or another
            # business here (as its ``remote_actors`` row). state: pending until their
            # Accept, then accepted; a Reject or an unfollow deletes the row.
            """CREATE TABLE following (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                follow_uri TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (business_id, actor_id)
            )""",
            "CREATE INDEX following_business ON following (business_id, state, id)",
            "CREATE INDEX following_actor ON following (actor_id)",
            "CREATE INDEX following_uri ON following (follow_uri)",
        ],
    ),
    (
        12,
        "Mastodon client API: OAuth apps, codes and tokens",
        [
            # Apps registered with POST /api/v1/apps (``store.oauth``). The secret is kept
            # as its SHA-256 only; ``redirect_uris`` one per line, ``scopes`` space-separated.
            """CREATE TABLE oauth_apps (
                id BIGINT PRIMARY KEY,
                client_id TEXT NOT NULL UNIQUE,
                secret_hash TEXT NOT NULL,
                name TEXT NOT NULL,
                website TEXT,
                redirect_uris TEXT NOT NULL,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )""",
            # Authorization codes: single use (``used_at``), short-lived, SHA-256 only.
            """CREATE TABLE oauth_codes (
                code_hash TEXT PRIMARY KEY,
                app_id BIGINT NOT NULL,
                person_id BIGINT NOT NULL,
                business_id BIGINT NOT NULL,
                scopes TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                code_challenge TEXT,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )""",
            # Access tokens: a business's (authorization code) or the app's own
            # (client_credentials: no business, no person). SHA-256 only.
            """CREATE TABLE oauth_tokens (
                id BIGINT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                app_id BIGINT NOT NULL,
                business_id BIGINT,
                person_id BIGINT,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT,
                revoked_at BIGINT
            )""",
            "CREATE INDEX oauth_tokens_business ON oauth_tokens (business_id, revoked_at)",
        ],
    ),
    (
        13,
        "polls, custom emoji and attachments of received notes",
        [
            # protocol/note_parts.py as JSON: the poll (null if none), the custom emoji
            # ([{shortcode, url}]) and attachments ([{url, media_type, description}]).
            "ALTER TABLE remote_notes ADD COLUMN poll TEXT",
            "ALTER TABLE remote_notes ADD COLUMN emojis TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE remote_notes ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]'",
            # Custom emoji images fetched once per icon URL (store/emojis.py): digest is
            # the SHA-256 of the URL; state ok (kept in the media store under media_key)
            # or refused (too big, not an image, unreachable, a private address: reason).
            """CREATE TABLE remote_emojis (
                digest TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                state TEXT NOT NULL,
                media_type TEXT,
                media_key TEXT,
                width INTEGER,
                height INTEGER,
                reason TEXT,
                fetched_at BIGINT NOT NULL
            )""",
        ],
    ),
    (
        14,
        "Mastodon client API: dismissed notifications and reading positions",
        [
            # A notification a Mastodon app dismissed (or cleared): hidden from the Mastodon
            # API, still listed in the owner app (``store.notifications``).
            "ALTER TABLE notifications ADD COLUMN dismissed_at BIGINT",
            # Where the business's apps stopped reading (``store.markers``): timeline is
            # ``home`` or ``notifications``; ``version`` counts the saves.
            """CREATE TABLE mastodon_markers (
                business_id BIGINT NOT NULL,
                timeline TEXT NOT NULL,
                last_read_id TEXT NOT NULL,
                version BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (business_id, timeline)
            )""",
        ],
    ),
    (
        15,
        "what businesses gave: likes and boosts",
        [
            # A like or boost a business gave (``store.given``): of a remote post, another
            # business's post here, or its own. kind: like | announce. activity_uri is the
            # Like or Announce we sent (an Announce is served there); author_uri the post's
            # author (the Announce is addressed to them). Undo deletes the row.
            """CREATE TABLE given_reactions (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                object_uri TEXT NOT NULL,
                kind TEXT NOT NULL,
                activity_uri TEXT NOT NULL UNIQUE,
                author_uri TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, object_uri, kind)
            )""",
            "CREATE INDEX given_reactions_business ON given_reactions (business_id, kind, id)",
        ],
    ),
    (
        16,
        "the home timeline: posts and boosts of the accounts a business follows",
        [
            # (A note's attachments, [{url, type, media_type, description}] by URL, never
            # copied: the column migration 13 added; protocol/attachments.py checks them.)
            # One row per business and post or boost it sees (``store.timeline``); the post
            # is the shared ``remote_notes`` row. entry_uri: the note's id for a post, the
            # Announce's id for a boost (boosted_by: who boosted it).
            """CREATE TABLE timeline (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                note_id BIGINT NOT NULL,
                entry_uri TEXT NOT NULL,
                boosted_by BIGINT,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, entry_uri)
            )""",
            "CREATE INDEX timeline_business ON timeline (business_id, id)",
            "CREATE INDEX timeline_note ON timeline (note_id)",
            "CREATE INDEX timeline_booster ON timeline (boosted_by)",
            "CREATE INDEX timeline_created ON timeline (created_at, id)",
            # "replied": whether a business answered a note (its posts in reply to it).
            "CREATE INDEX posts_reply ON posts (in_reply_to_uri)",
        ],
    ),
    (
        17,
        "quote policies and quote authorizations (FEP-044f)",
        [
            # Who may quote a business's posts: anyone | followers | nobody. A post's own
            # setting (NULL: the business's) overrides it.
            "ALTER TABLE businesses ADD COLUMN quote_policy TEXT NOT NULL DEFAULT 'anyone'",
            "ALTER TABLE posts ADD COLUMN quote_policy TEXT",
            # A post of ours quoting another: the quoted post's id, our QuoteRequest's id,
            # pending | accepted | rejected, and the stamp its author granted.
            "ALTER TABLE posts ADD COLUMN quote_uri TEXT",
            "ALTER TABLE posts ADD COLUMN quote_request_uri TEXT",
            "ALTER TABLE posts ADD COLUMN quote_state TEXT",
            "ALTER TABLE posts ADD COLUMN quote_authorization TEXT",
            "CREATE INDEX posts_quote_request ON posts (quote_request_uri)",
            # A Delete of any note is checked against the stamps our posts carry.
            "CREATE INDEX posts_quote_authorization ON posts (quote_authorization)",
            # Quotes of our posts we granted (the QuoteAuthorization stamps, served at
            # <post>/quotes/<id>); deleting the row revokes the stamp.
            """CREATE TABLE quote_stamps (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                post_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                quote_uri TEXT NOT NULL,
                request_uri TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (post_id, quote_uri)
            )""",
            "CREATE INDEX quote_stamps_actor ON quote_stamps (actor_id)",
            "CREATE INDEX quote_stamps_quote ON quote_stamps (quote_uri)",
        ],
    ),
    (
        18,
        "relationships: questions dealt with, what was given back to an account",
        [
            # A reply or mention the owner marked as dealt with without answering it
            # (``store.relations``); gone with the note (its author's Delete) or by undo.
            """CREATE TABLE dealt_with (
                business_id BIGINT NOT NULL,
                note_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (business_id, note_id)
            )""",
            "CREATE INDEX dealt_with_note ON dealt_with (note_id)",
            # What a business gave back to one account (the neighbour view).
            "CREATE INDEX given_reactions_author ON given_reactions (business_id, author_uri)",
            # Notes that reached a business, by business (questions waiting, the week).
            "CREATE INDEX remote_note_targets_business ON remote_note_targets (business_id)",
        ],
    ),
    (
        19,
        "mastodon client: post versions, mutes, bookmarks",
        [
            # Each version of an edited post, oldest first (``store.post_versions``): the
            # original is written at the first edit, then one row per edit.
            """CREATE TABLE post_versions (
                id BIGINT PRIMARY KEY,
                post_id BIGINT NOT NULL,
                content_html TEXT NOT NULL,
                spoiler_text TEXT NOT NULL DEFAULT '',
                sensitive BOOLEAN NOT NULL DEFAULT FALSE,
                media_ids TEXT NOT NULL DEFAULT '[]',
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX post_versions_post ON post_versions (post_id, id)",
            # Accounts a business muted from a Mastodon app (``store.mutes``): their posts
            # leave its home timeline, and with ``notifications`` their notifications too.
            """CREATE TABLE mutes (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                notifications BOOLEAN NOT NULL DEFAULT TRUE,
                expires_at BIGINT,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, actor_id)
            )""",
            "CREATE INDEX mutes_actor ON mutes (actor_id)",
            # Statuses a business bookmarked (by ActivityPub id: its posts and notes alike).
            """CREATE TABLE bookmarks (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                status_uri TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, status_uri)
            )""",
        ],
    ),
    (
        20,
        "polls of a business's posts and their votes; endorsed accounts; conversations read",
        [
            # A post's poll (``store.polls``): its options (JSON list of titles), whether
            # several may be chosen, when it closes; changed_at: a vote came since the last
            # Update{Question} (NULL: none), sent_at: when that Update went, closed_sent:
            # the Update after the close went.
            """CREATE TABLE polls (
                post_id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                options TEXT NOT NULL,
                multiple BOOLEAN NOT NULL DEFAULT FALSE,
                hide_totals BOOLEAN NOT NULL DEFAULT FALSE,
                expires_at BIGINT NOT NULL,
                changed_at BIGINT,
                sent_at BIGINT,
                closed_sent BOOLEAN NOT NULL DEFAULT FALSE,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX polls_changed ON polls (changed_at)",
            "CREATE INDEX polls_expires ON polls (expires_at)",
            # One row per voter and option chosen (the vote Note's id kept, once).
            """CREATE TABLE poll_votes (
                id BIGINT PRIMARY KEY,
                post_id BIGINT NOT NULL,
                voter_uri TEXT NOT NULL,
                choice INTEGER NOT NULL,
                vote_uri TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                UNIQUE (post_id, voter_uri, choice)
            )""",
            # Accounts a business features on its profile (Mastodon's endorsements).
            """CREATE TABLE endorsements (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, actor_id)
            )""",
            "CREATE INDEX endorsements_actor ON endorsements (actor_id)",
            # A business's votes in polls elsewhere (``remote_notes``): one row per option
            # chosen, the vote Note's id as sent.
            """CREATE TABLE poll_votes_given (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                note_id BIGINT NOT NULL,
                choice INTEGER NOT NULL,
                vote_uri TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                UNIQUE (business_id, note_id, choice)
            )""",
            # A business's direct conversations (``store.conversations``): read up to,
            # and hidden up to, a status id; a newer message makes one unread (and shown).
            """CREATE TABLE conversation_marks (
                business_id BIGINT NOT NULL,
                conversation_id BIGINT NOT NULL,
                read_through BIGINT NOT NULL DEFAULT 0,
                hidden_through BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (business_id, conversation_id)
            )""",
        ],
    ),
    (
        21,
        "streaming: what happened lately, for the Mastodon streaming API",
        [
            # One row per thing a connected app is told (``store.stream_events``): written
            # in the transaction that made it, read by every web process for a few minutes,
            # then swept. ``ref_id`` is the post or the notification; ``public`` says the
            # public:local stream shows it too.
            """CREATE TABLE stream_events (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                event TEXT NOT NULL,
                ref_id BIGINT NOT NULL,
                public BOOLEAN NOT NULL DEFAULT FALSE,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX stream_events_created ON stream_events (created_at)",
        ],
    ),
    (
        22,
        "web push: subscriptions of apps, and the pushes waiting to be sent",
        [
            # One per access token (Mastodon's rule); the token sealed (Mastodon's payload
            # carries it); ``alerts`` is the JSON of the notification types wanted;
            # ``standard`` picks RFC 8291 over the older draft.
            """CREATE TABLE push_subscriptions (
                id BIGINT PRIMARY KEY,
                token_id BIGINT NOT NULL UNIQUE,
                business_id BIGINT NOT NULL,
                endpoint TEXT NOT NULL,
                p256dh TEXT NOT NULL,
                auth TEXT NOT NULL,
                token_sealed TEXT NOT NULL,
                alerts TEXT NOT NULL,
                policy TEXT NOT NULL,
                standard BOOLEAN NOT NULL DEFAULT FALSE,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX push_subscriptions_business ON push_subscriptions (business_id)",
            # A queue (``store.queue.PUSHES``): one row per (subscription, notification).
            """CREATE TABLE push_deliveries (
                id BIGINT PRIMARY KEY,
                subscription_id BIGINT NOT NULL,
                notification_id BIGINT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                locked_until BIGINT,
                last_status INTEGER,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                done_at BIGINT
            )""",
            "CREATE INDEX push_deliveries_due ON push_deliveries (state, next_attempt_at)",
        ],
    ),
    (
        23,
        "quote requests waiting for the owner (FEP-044f manual approval); emoji reactions",
        [
            # A QuoteRequest for a post whose policy is "ask" (``store.quotes``): kept until
            # the owner approves it (a stamp is granted, the row goes) or denies it.
            # request: the QuoteRequest as received (JSON, no @context), echoed in the
            # answer; note_id: the quoting post as stored, to show it.
            """CREATE TABLE quote_requests (
                id BIGINT PRIMARY KEY,
                business_id BIGINT NOT NULL,
                post_id BIGINT NOT NULL,
                actor_id BIGINT NOT NULL,
                quote_uri TEXT NOT NULL,
                request_uri TEXT NOT NULL,
                request TEXT NOT NULL,
                note_id BIGINT,
                created_at BIGINT NOT NULL,
                UNIQUE (post_id, quote_uri)
            )""",
            "CREATE INDEX quote_requests_business ON quote_requests (business_id, id)",
            "CREATE INDEX quote_requests_actor ON quote_requests (actor_id)",
            # An emoji reaction (EmojiReact, or a Like with content: Misskey, Pleroma): the
            # emoji (unicode or :shortcode:) and a custom one's icon URL (fetched into the
            # emoji cache, remote_emojis). NULL for a plain like.
            "ALTER TABLE interactions ADD COLUMN reaction TEXT",
            "ALTER TABLE interactions ADD COLUMN reaction_url TEXT",
        ],
    ),
    (
        24,
        "custom emoji in remote actors' names",
        [
            # The actor's Emoji tags named in its name, as JSON [{shortcode, url}], replaced
            # whenever the actor is stored (``store.actors.upsert``).
            "ALTER TABLE remote_actors ADD COLUMN emojis TEXT NOT NULL DEFAULT '[]'",
            # What the emoji cache made of each icon URL, as JSON {url: "/proxy/emoji/..."
            # or "" when refused}: filled by the inbox worker (inbound/emoji.py), kept across
            # refreshes (a URL's answer does not change), so names render without a lookup.
            "ALTER TABLE remote_actors ADD COLUMN emoji_paths TEXT NOT NULL DEFAULT '{}'",
        ],
    ),
]

#: The version a migrated database is at (what ``/readyz`` expects).
LATEST_VERSION = MIGRATIONS[-1][0]


async def current_version(store: Store) -> int:
    """Highest applied migration, 0 on an empty database."""
    await store.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"""
    )
    value = await store.fetch_val("SELECT MAX(version) FROM schema_migrations")
    return int(value or 0)


async def applied_version(store: Store) -> int:
    """Highest applied migration, read only (``current_version`` creates the table first,
    a write that a health probe should not make); fails if nothing was ever migrated."""
    value = await store.fetch_val("SELECT MAX(version) FROM schema_migrations")
    return int(value or 0)


async def _use_wal(store: Store, tries: int = 20) -> None:
    """WAL lets readers run beside the single writer; the setting persists in the file.

    Switching needs the file to itself, and SQLite answers "busy" at once (no busy wait)
    when another process is switching the same new file: try again shortly."""
    for attempt in range(tries):
        try:
            await store.fetch_val("PRAGMA journal_mode=WAL")
            return
        except ServiceUnavailable:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.05)


async def migrate(store: Store) -> list[int]:
    """Apply every pending migration; return the versions applied (empty when up to date)."""
    applied: list[int] = []
    if store.is_sqlite:
        await _use_wal(store)
    async with store.transaction():
        if not store.is_sqlite:
            await store.fetch_val("SELECT pg_advisory_xact_lock(7202611)")
        if store.schema is not None:
            # Under the lock: two CREATE SCHEMA IF NOT EXISTS at once can both try to create
            # it, and one fails with a unique violation.
            await store.execute(f"CREATE SCHEMA IF NOT EXISTS {store.schema}")
        version = await current_version(store)
        for number, name, statements in MIGRATIONS:
            if number <= version:
                continue
            for statement in statements:
                await store.execute(statement)
            applied_at = now_ms()  # the real time the schema changed (an operator's record)
            await store.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
                {"v": number, "n": name, "t": applied_at},
            )
            applied.append(number)
            log.info("applied migration %d (%s)", number, name)
    return applied


async def pending(store: Store) -> list[int]:
    """Versions not yet applied (every one on an empty database), read without writing:
    ``fedi-town doctor`` asks, ``migrate`` applies."""
    if store.is_sqlite:
        exists = await store.fetch_val(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
    else:
        exists = await store.fetch_val("SELECT to_regclass('schema_migrations') IS NOT NULL")
    version = 0
    if exists:
        version = int(await store.fetch_val("SELECT MAX(version) FROM schema_migrations") or 0)
    return [number for number, _name, _statements in MIGRATIONS if number > version]
