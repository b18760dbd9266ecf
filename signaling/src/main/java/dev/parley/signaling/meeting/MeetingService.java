package dev.parley.signaling.meeting;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AccountStore;
import dev.parley.signaling.block.Blocks;
import dev.parley.signaling.config.GatewayConfig;
import dev.parley.signaling.protocol.Ids;
import dev.parley.signaling.protocol.ChatMessage;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.store.RedisRateLimit;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * Meetings: create, list with unread counts, rename/describe/archive (owner), members (add, remove, leave) and
 * invite links. A non-member gets not_found for everything, so meeting ids do not leak; a member who tries an
 * owner's action gets forbidden.
 */
public final class MeetingService {

    /**
     * A meeting as its members see it. {@code kind}: {@code meeting}, or {@code direct} for the chat between two
     * people, whose {@code peerId} is the other person and whose title is their name.
     */
    public record MeetingView(String meetingId, String title, String description, String ownerId, long createdAt,
                              long lastActivity, boolean archived, boolean membersCanInvite, List<Account> members,
                              int unread, ChatMessage lastMessage, String kind, String peerId) {
    }

    /** A change a meeting's owner asks for; null fields stay as they are. */
    public record Patch(String title, String description, Boolean archived, Boolean membersCanInvite) {
    }

    /** An invite link: who created it, until when and how often it may be used. */
    public record Invite(String token, String path, long createdAt, long expiresAt, int maxUses, int uses,
                         String createdBy, String createdByName) {
    }

    public static final int MAX_TITLE = 120;
    public static final int MAX_DESCRIPTION = 2000;
    public static final int MAX_MEMBERS = 500;
    private static final int UNREAD_CAP = 100;

    private final MeetingStore store;
    private final Blocks blocks;
    private final MeetingChat chat;
    private final AccountStore accounts;
    private final LiveSessions sessions;
    private final MeetingCalls calls;
    private final Clock clock;
    private final GatewayConfig.Meetings limits;
    private final RedisRateLimit invites;
    private final BiConsumer<String, List<String>> coMembersJoined;
    private final SecureRandom random = new SecureRandom();

    /** {@code coMembersJoined}: told (user, the other members) when someone joins, so presence shows them. */
    public MeetingService(MeetingStore store, MeetingChat chat, AccountStore accounts, LiveSessions sessions,
                          MeetingCalls calls, Clock clock, GatewayConfig.Meetings limits, RedisRateLimit invites,
                          BiConsumer<String, List<String>> coMembersJoined, Blocks blocks) {
        this.blocks = blocks;
        this.invites = invites;
        this.coMembersJoined = coMembersJoined;
        this.store = store;
        this.chat = chat;
        this.accounts = accounts;
        this.sessions = sessions;
        this.calls = calls;
        this.clock = clock;
        this.limits = limits;
    }

    public CompletionStage<MeetingView> create(Account owner, String title, String description) {
        String cleanTitle = validTitle(title);
        String cleanDescription = validDescription(description == null ? "" : description);
        String meetingId = "m" + randomHex(10);
        return store.meetingIdsOf(owner.userId()).thenCompose(mine -> {
            if (mine.size() >= limits.maxMembershipsPerUser()) {
                throw new ApiException(ErrorCode.MEMBERSHIP_LIMIT, "You are in " + limits.maxMembershipsPerUser()
                        + " meetings already; leave some first");
            }
            return store.create(meetingId, cleanTitle, cleanDescription, owner.userId(), clock.millis());
        }).thenCompose(created -> chat.announce(meetingId, owner.displayName() + " created the meeting",
                List.of(owner.userId()))).thenCompose(announced -> view(owner.userId(), meetingId));
    }

    /**
     * The one direct chat between {@code me} and {@code otherUserId}, made on first use: the same for both, whoever
     * opens it first, and made once however many open it at once. The other person is told it exists. A block
     * between them (either way) refuses a new one; one they already have still opens, to read.
     */
    public CompletionStage<MeetingView> openDirect(Account me, String otherUserId) {
        if (otherUserId.equals(me.userId())) {
            throw ApiException.badRequest("userId must be someone else's: a direct chat is between two people");
        }
        String meetingId = directChatId(me.userId(), otherUserId);
        return accounts.findById(otherUserId).thenCompose(other -> {
            if (other.isEmpty()) {
                throw new ApiException(ErrorCode.NOT_FOUND, "No such user");
            }
            return blocks.between(me.userId(), otherUserId);
        }).thenCompose(between -> between == Blocks.Between.NONE
                ? store.createDirect(meetingId, me.userId(), otherUserId, clock.millis())
                : store.find(meetingId).thenCompose(existing -> existing.isPresent()
                        ? done(false)
                        : blocks.requireNone(me.userId(), otherUserId).thenApply(never -> false))
        ).thenCompose(created -> {
            if (!created) {
                return done((Void) null);
            }
            coMembersJoined.accept(me.userId(), List.of(otherUserId));
            return notifyUpdated(List.of(me.userId(), otherUserId), meetingId);
        }).thenCompose(done -> view(me.userId(), meetingId));
    }

    /**
     * Adds a third person to a direct chat's call: a new meeting with the two of them and the third (owned by
     * {@code me}, named after the three) takes the call. The direct chat records it, and both of its people are
     * told (call.moved) so whoever is in its call moves to the new meeting's; ringing the third is the client's
     * next step (ring.start with the new meetingId). Both keep the new meeting.
     */
    public CompletionStage<MeetingView> groupFromDirect(Account me, String directId, String username) {
        if (username == null || username.isBlank()) {
            throw ApiException.badRequest("username is required");
        }
        return memberMeeting(directId, me.userId()).thenCompose(direct -> {
            if (!direct.direct()) {
                throw ApiException.badRequest("only a direct chat's call becomes a group call; add members to a"
                        + " meeting instead");
            }
            String peerId = direct.peerOf(me.userId());
            return accounts.findByUsername(username).thenCompose(found -> {
                Account third = found.map(AccountStore.StoredAccount::account)
                        .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "No user named '" + username + "'"));
                if (third.userId().equals(me.userId()) || third.userId().equals(peerId)) {
                    throw ApiException.badRequest("username must be someone not yet in this chat");
                }
                return blocks.requireNone(me.userId(), third.userId())
                        .thenCompose(none -> accounts.findById(peerId))
                        .thenCompose(peer -> group(me, direct, peer.orElseThrow(() ->
                                new ApiException(ErrorCode.NOT_FOUND, "No such user")), third));
            });
        });
    }

    private CompletionStage<MeetingView> group(Account me, Meeting direct, Account peer, Account third) {
        String names = me.displayName() + ", " + peer.displayName() + " and " + third.displayName();
        String title = names.length() <= MAX_TITLE ? names : names.substring(0, MAX_TITLE - 1) + "…";
        return create(me, title, "").thenCompose(group -> addMember(me, group.meetingId(), peer.username())
                .thenCompose(withPeer -> addMember(me, group.meetingId(), third.username()))).thenCompose(group -> {
                    List<String> both = direct.memberIds();
                    return chat.announce(direct.meetingId(), me.displayName() + " added " + third.displayName()
                                    + "; the call goes on in \"" + title + "\"", both)
                            .thenCompose(announced -> sessions.deliver(both, new ServerMessage.CallMoved(
                                    direct.meetingId(), group.meetingId(), me.userId(), me.displayName(),
                                    ServerMessage.CallMoved.GROWN)))
                            .thenCompose(told -> view(me.userId(), group.meetingId()));
                });
    }

    /** The id of two people's direct chat: derived from the pair, so both find the same one. */
    public static String directChatId(String userA, String userB) {
        String pair = userA.compareTo(userB) < 0 ? userA + ":" + userB : userB + ":" + userA;
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(("direct:" + pair).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "m" + HexFormat.of().formatHex(digest, 0, 10);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The user's meetings, most recent activity first, each with its unread count and last message. */
    public CompletionStage<List<MeetingView>> listFor(String userId) {
        return store.meetingsOf(userId).thenCompose(found -> {
            List<CompletableFuture<MeetingView>> views = new ArrayList<>();
            for (Meeting meeting : found) {
                views.add(summary(userId, meeting).toCompletableFuture());
            }
            return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(done -> views.stream()
                    .map(CompletableFuture::join)
                    .sorted(Comparator.comparingLong(MeetingView::lastActivity).reversed())
                    .toList());
        });
    }

    public CompletionStage<MeetingView> get(String userId, String meetingId) {
        return memberMeeting(meetingId, userId).thenCompose(meeting -> detail(userId, meeting));
    }

    public CompletionStage<MeetingView> update(Account actor, String meetingId, Patch patch) {
        Map<String, String> fields = new HashMap<>();
        if (patch.title() != null) {
            fields.put("title", validTitle(patch.title()));
        }
        if (patch.description() != null) {
            fields.put("description", validDescription(patch.description()));
        }
        if (patch.archived() != null) {
            fields.put("archived", patch.archived() ? "1" : "0");
        }
        if (patch.membersCanInvite() != null) {
            fields.put("membersCanInvite", patch.membersCanInvite() ? "1" : "0");
        }
        if (fields.isEmpty()) {
            throw ApiException.badRequest("nothing to change: send title, description, archived or membersCanInvite");
        }
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireMeeting(meeting, "is not renamed, described or archived");
            requireOwner(meeting, actor, "change this meeting");
            return store.update(meetingId, fields)
                    .thenCompose(done -> Boolean.FALSE.equals(patch.membersCanInvite())
                            ? store.dropMembersInvites(meetingId, meeting.ownerId()) : done(null))
                    .thenCompose(done -> Boolean.TRUE.equals(patch.archived()) && !meeting.archived()
                            ? calls.endCall(meetingId, MeetingCalls.ARCHIVED) : done(null))
                    .thenCompose(done -> notifyUpdated(meeting.memberIds(), meetingId));
        }).thenCompose(done -> view(actor.userId(), meetingId));
    }

    public CompletionStage<MeetingView> addMember(Account actor, String meetingId, String username) {
        if (username == null || username.isBlank()) {
            throw ApiException.badRequest("username is required");
        }
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireMeeting(meeting, "stays between its two people: start a meeting to talk with more");
            if (!meeting.membersCanInvite() && !meeting.ownerId().equals(actor.userId())) {
                throw new ApiException(ErrorCode.FORBIDDEN, "Only the owner can add members to this meeting");
            }
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            if (meeting.memberIds().size() >= MAX_MEMBERS) {
                throw ApiException.badRequest("a meeting has at most " + MAX_MEMBERS + " members");
            }
            boolean byOwner = meeting.ownerId().equals(actor.userId());
            return accounts.findByUsername(username).thenCompose(found -> {
                Account added = found.map(AccountStore.StoredAccount::account)
                        .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "No user named '" + username + "'"));
                return store.addMember(meetingId, added.userId(), limits.maxMembershipsPerUser(), byOwner)
                        .thenCompose(outcome -> switch (outcome) {
                            case ADDED -> joined(meeting, added, actor.displayName() + " added "
                                    + added.displayName());
                            case ALREADY -> done(null);
                            case LIMIT -> throw new ApiException(ErrorCode.MEMBERSHIP_LIMIT, added.displayName()
                                    + " is in " + limits.maxMembershipsPerUser() + " meetings already");
                            case REMOVED -> throw new ApiException(ErrorCode.FORBIDDEN, "The owner removed "
                                    + added.displayName() + " from this meeting; only the owner can add them back");
                            case NO_MEETING -> throw new ApiException(ErrorCode.NOT_FOUND, "No such meeting");
                        });
            });
        }).thenCompose(done -> view(actor.userId(), meetingId));
    }

    /** The owner removes a member, or anyone leaves (userId is their own). */
    public CompletionStage<Void> removeMember(Account actor, String meetingId, String userId) {
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireMeeting(meeting, "has nobody to remove and cannot be left");
            boolean leaving = userId.equals(actor.userId());
            if (!leaving) {
                requireOwner(meeting, actor, "remove members");
            }
            if (userId.equals(meeting.ownerId())) {
                throw new ApiException(ErrorCode.FORBIDDEN, "The owner cannot leave their meeting; archive it instead");
            }
            if (!meeting.hasMember(userId)) {
                throw new ApiException(ErrorCode.NOT_FOUND, "That user is not a member of this meeting");
            }
            return store.removeMember(meetingId, userId, !leaving)
                    .thenCompose(removed -> calls.removeFromCall(meetingId, userId,
                            leaving ? MeetingCalls.LEFT_MEETING : MeetingCalls.REMOVED))
                    .thenCompose(done -> accounts.findById(userId))
                    .thenCompose(account -> {
                        String name = account.map(Account::displayName).orElse("A member");
                        String text = leaving ? name + " left" : actor.displayName() + " removed " + name;
                        List<String> remaining = meeting.memberIds().stream().filter(id -> !id.equals(userId)).toList();
                        return chat.announce(meetingId, text, remaining)
                                .thenCompose(m -> sessions.deliver(List.of(userId),
                                        new ServerMessage.MeetingRemoved(meetingId)))
                                .thenCompose(d -> notifyUpdated(remaining, meetingId));
                    });
        });
    }

    /**
     * A new invite link, good for {@code maxUses} joins (1 when null) until the configured lifetime runs out. Every
     * accept re-checks the creator's right to invite, so a link dies with it.
     */
    public CompletionStage<Invite> createInvite(Account actor, String meetingId, Integer maxUses) {
        int uses = maxUses == null ? 1 : maxUses;
        if (uses < 1 || uses > limits.inviteMaxUses()) {
            throw ApiException.badRequest("maxUses must be 1-" + limits.inviteMaxUses());
        }
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireMeeting(meeting, "has no invite links: start a meeting to talk with more");
            if (!meeting.membersCanInvite() && !meeting.ownerId().equals(actor.userId())) {
                throw new ApiException(ErrorCode.FORBIDDEN, "Only the owner can invite people to this meeting");
            }
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            long now = clock.millis();
            MeetingStore.StoredInvite invite = new MeetingStore.StoredInvite(randomHex(20), meetingId,
                    actor.userId(), now, now + limits.inviteTtl().toMillis(), uses, 0);
            return invites.tryAcquire(actor.userId()).thenCompose(allowed -> {
                if (!allowed) {
                    throw new ApiException(ErrorCode.RATE_LIMITED, "Too many invite links created; try again later");
                }
                return store.saveInvite(invite, limits.maxLiveInvites());
            }).thenApply(saved -> {
                if (!saved) {
                    throw new ApiException(ErrorCode.INVITE_LIMIT, "This meeting has " + limits.maxLiveInvites()
                            + " live invite links; revoke some first");
                }
                return inviteView(invite, actor.displayName());
            });
        });
    }

    /** The meeting's live invite links (owner only). */
    public CompletionStage<List<Invite>> listInvites(Account actor, String meetingId) {
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireMeeting(meeting, "has no invite links");
            requireOwner(meeting, actor, "see the meeting's invite links");
            return store.invites(meetingId, clock.millis());
        }).thenCompose(stored -> {
            List<CompletableFuture<Invite>> views = stored.stream().map(invite -> accounts.findById(invite.createdBy())
                    .thenApply(account -> inviteView(invite, account.map(Account::displayName).orElse("")))
                    .toCompletableFuture()).toList();
            return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
                    .thenApply(done -> views.stream().map(CompletableFuture::join).toList());
        });
    }

    /** Revokes one of the meeting's invite links (owner only); not_found when it is not live. */
    public CompletionStage<Void> revokeInvite(Account actor, String meetingId, String token) {
        if (token == null || !Ids.INVITE.matcher(token).matches()) {
            throw ApiException.badRequest("token must be an invite token (40 hex digits)");
        }
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            requireOwner(meeting, actor, "revoke invite links");
            return store.revokeInvite(meetingId, token);
        }).thenApply(revoked -> {
            if (!revoked) {
                throw new ApiException(ErrorCode.NOT_FOUND, "No such invite link");
            }
            return null;
        });
    }

    public CompletionStage<MeetingView> acceptInvite(Account user, String token) {
        if (token == null || !Ids.INVITE.matcher(token).matches()) {
            throw invalidInvite();
        }
        return store.inviteMeeting(token).thenCompose(found -> {
            String meetingId = found.orElseThrow(MeetingService::invalidInvite);
            return store.acceptInvite(token, meetingId, user.userId(), clock.millis(), MAX_MEMBERS,
                    limits.maxMembershipsPerUser()).thenCompose(outcome -> switch (outcome) {
                        case JOINED -> store.find(meetingId).thenCompose(meeting -> meeting
                                .map(m -> announceJoin(m, user, user.displayName() + " joined"))
                                .orElseGet(() -> done(null)));
                        case ALREADY -> done(null);
                        case INVALID -> throw invalidInvite();
                        case ARCHIVED -> throw new ApiException(ErrorCode.MEETING_ARCHIVED,
                                "This meeting is archived");
                        case REMOVED -> throw new ApiException(ErrorCode.FORBIDDEN, "You were removed from this"
                                + " meeting; only its owner can add you back");
                        case FULL -> throw ApiException.badRequest("a meeting has at most " + MAX_MEMBERS
                                + " members");
                        case LIMIT -> throw new ApiException(ErrorCode.MEMBERSHIP_LIMIT, "You are in "
                                + limits.maxMembershipsPerUser() + " meetings already; leave some first");
                    }).thenCompose(done -> view(user.userId(), meetingId));
        });
    }

    private static ApiException invalidInvite() {
        return new ApiException(ErrorCode.INVITE_INVALID, "This invite link is not valid or has expired");
    }

    private static Invite inviteView(MeetingStore.StoredInvite invite, String creatorName) {
        return new Invite(invite.token(), "/invite/" + invite.token(), invite.createdAt(), invite.expiresAt(),
                invite.maxUses(), invite.uses(), invite.createdBy(), creatorName);
    }

    /** Those of {@code candidates} the user shares a meeting with (for presence). */
    public CompletionStage<List<String>> coMembersAmong(String userId, List<String> candidates) {
        return store.sharingAMeeting(userId, candidates);
    }

    /** Everyone the user shares a meeting with (for presence). */
    public CompletionStage<List<String>> coMembers(String userId) {
        return store.meetingsOf(userId).thenApply(found -> {
            Set<String> ids = new LinkedHashSet<>();
            found.forEach(m -> ids.addAll(m.memberIds()));
            ids.remove(userId);
            return List.copyOf(ids);
        });
    }

    /** Tells everyone, the new member included, that {@code joiner} was added to {@code before}'s members. */
    private CompletionStage<Void> joined(Meeting before, Account joiner, String announcement) {
        coMembersJoined.accept(joiner.userId(), before.memberIds());
        List<String> everyone = new ArrayList<>(before.memberIds());
        everyone.add(joiner.userId());
        return chat.announce(before.meetingId(), announcement, everyone)
                .thenCompose(m -> notifyUpdated(everyone, before.meetingId()));
    }

    /** Tells the members of {@code after} (which already counts the new member) that {@code joiner} joined. */
    private CompletionStage<Void> announceJoin(Meeting after, Account joiner, String announcement) {
        coMembersJoined.accept(joiner.userId(), after.memberIds().stream()
                .filter(id -> !id.equals(joiner.userId())).toList());
        return chat.announce(after.meetingId(), announcement, after.memberIds())
                .thenCompose(m -> notifyUpdated(after.memberIds(), after.meetingId()));
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    private CompletionStage<Void> notifyUpdated(List<String> memberIds, String meetingId) {
        return sessions.deliver(memberIds, new ServerMessage.MeetingUpdated(meetingId));
    }

    private CompletionStage<MeetingView> view(String userId, String meetingId) {
        return memberMeeting(meetingId, userId).thenCompose(meeting -> detail(userId, meeting));
    }

    private CompletionStage<MeetingView> summary(String userId, Meeting meeting) {
        return withChat(userId, meeting, List.of());
    }

    private CompletionStage<MeetingView> detail(String userId, Meeting meeting) {
        List<CompletableFuture<Optional<Account>>> lookups = meeting.memberIds().stream()
                .map(id -> accounts.findById(id).toCompletableFuture()).toList();
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new))
                .thenCompose(done -> withChat(userId, meeting, lookups.stream().map(CompletableFuture::join)
                        .flatMap(Optional::stream).toList()));
    }

    private CompletionStage<MeetingView> withChat(String userId, Meeting meeting, List<Account> members) {
        CompletableFuture<Integer> unread = chat.unread(meeting.meetingId(), userId, UNREAD_CAP)
                .toCompletableFuture();
        CompletableFuture<Optional<ChatMessage>> last = chat.latest(meeting.meetingId()).toCompletableFuture();
        String peerId = meeting.direct() ? meeting.peerOf(userId) : null;
        CompletableFuture<String> title = peerId == null ? CompletableFuture.completedFuture(meeting.title())
                : accounts.findById(peerId).thenApply(peer -> peer.map(Account::displayName).orElse("Someone"))
                        .toCompletableFuture();
        return CompletableFuture.allOf(unread, last, title).thenApply(all -> new MeetingView(meeting.meetingId(),
                title.join(), meeting.description(), meeting.ownerId(), meeting.createdAt(), meeting.lastActivity(),
                meeting.archived(), meeting.membersCanInvite(), members, unread.join(), last.join().orElse(null),
                meeting.direct() ? "direct" : "meeting", peerId));
    }

    private CompletionStage<Meeting> memberMeeting(String meetingId, String userId) {
        return store.findForMember(meetingId, userId);
    }

    /** Refuses what only a meeting has, for a direct chat: it "{@code isNot}". */
    private static void requireMeeting(Meeting meeting, String isNot) {
        if (meeting.direct()) {
            throw new ApiException(ErrorCode.DIRECT_CHAT, "A direct chat " + isNot);
        }
    }

    private static void requireOwner(Meeting meeting, Account actor, String what) {
        if (!meeting.ownerId().equals(actor.userId())) {
            throw new ApiException(ErrorCode.FORBIDDEN, "Only the meeting's owner can " + what);
        }
    }

    private static String validTitle(String title) {
        String clean = title == null ? "" : title.strip();
        if (clean.isEmpty() || clean.length() > MAX_TITLE || clean.codePoints().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("title must be 1-" + MAX_TITLE + " characters without control characters");
        }
        return clean;
    }

    private static String validDescription(String description) {
        if (description.length() > MAX_DESCRIPTION) {
            throw ApiException.badRequest("description must be at most " + MAX_DESCRIPTION + " characters");
        }
        return description.strip();
    }

    private String randomHex(int bytes) {
        byte[] raw = new byte[bytes];
        random.nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }
}
