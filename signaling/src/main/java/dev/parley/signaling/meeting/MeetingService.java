package dev.parley.signaling.meeting;

import dev.parley.signaling.auth.Account;
import dev.parley.signaling.auth.AccountStore;
import dev.parley.signaling.protocol.ChatMessage;
import dev.parley.signaling.error.ApiException;
import dev.parley.signaling.error.ErrorCode;
import dev.parley.signaling.store.RedisRateLimit;
import dev.parley.signaling.ws.LiveSessions;
import dev.parley.signaling.protocol.ServerMessage;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
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

/**
 * Meetings: create, list with unread counts, rename/describe/archive (owner), members (add, remove, leave) and
 * invite links. A non-member gets not_found for everything, so meeting ids do not leak; a member who tries an
 * owner's action gets forbidden.
 */
public final class MeetingService {

    /** A meeting as its members see it. */
    public record MeetingView(String meetingId, String title, String description, String ownerId, long createdAt,
                              long lastActivity, boolean archived, boolean membersCanInvite, List<Account> members,
                              int unread, ChatMessage lastMessage) {
    }

    /** A change a meeting's owner asks for; null fields stay as they are. */
    public record Patch(String title, String description, Boolean archived, Boolean membersCanInvite) {
    }

    /** An invite link. */
    public record Invite(String token, String path, long expiresAt) {
    }

    public static final int MAX_TITLE = 120;
    public static final int MAX_DESCRIPTION = 2000;
    public static final int MAX_MEMBERS = 500;
    public static final int MAX_MEETINGS_PER_USER = 1000;
    private static final int UNREAD_CAP = 100;

    private final MeetingStore store;
    private final MeetingChat chat;
    private final AccountStore accounts;
    private final LiveSessions sessions;
    private final Clock clock;
    private final Duration inviteTtl;
    private final RedisRateLimit invites;
    private final SecureRandom random = new SecureRandom();

    public MeetingService(MeetingStore store, MeetingChat chat, AccountStore accounts,
                          LiveSessions sessions, Clock clock, Duration inviteTtl, RedisRateLimit invites) {
        this.invites = invites;
        this.store = store;
        this.chat = chat;
        this.accounts = accounts;
        this.sessions = sessions;
        this.clock = clock;
        this.inviteTtl = inviteTtl;
    }

    public CompletionStage<MeetingView> create(Account owner, String title, String description) {
        String cleanTitle = validTitle(title);
        String cleanDescription = validDescription(description == null ? "" : description);
        String meetingId = "m" + randomHex(10);
        return store.meetingIdsOf(owner.userId()).thenCompose(mine -> {
            if (mine.size() >= MAX_MEETINGS_PER_USER) {
                throw ApiException.badRequest("you are in " + MAX_MEETINGS_PER_USER
                        + " meetings already; leave some first");
            }
            return store.create(meetingId, cleanTitle, cleanDescription, owner.userId(), clock.millis());
        }).thenCompose(created -> chat.announce(meetingId, owner.displayName() + " created the meeting",
                List.of(owner.userId()))).thenCompose(announced -> view(owner.userId(), meetingId));
    }

    /** The user's meetings, most recent activity first, each with its unread count and last message. */
    public CompletionStage<List<MeetingView>> listFor(String userId) {
        return store.meetingIdsOf(userId).thenCompose(store::findAll).thenCompose(found -> {
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
            requireOwner(meeting, actor, "change this meeting");
            return store.update(meetingId, fields).thenCompose(done -> notifyUpdated(meeting.memberIds(), meetingId));
        }).thenCompose(done -> view(actor.userId(), meetingId));
    }

    public CompletionStage<MeetingView> addMember(Account actor, String meetingId, String username) {
        if (username == null || username.isBlank()) {
            throw ApiException.badRequest("username is required");
        }
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            if (!meeting.membersCanInvite() && !meeting.ownerId().equals(actor.userId())) {
                throw new ApiException(ErrorCode.FORBIDDEN, "Only the owner can add members to this meeting");
            }
            if (meeting.archived()) {
                throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
            }
            if (meeting.memberIds().size() >= MAX_MEMBERS) {
                throw ApiException.badRequest("a meeting has at most " + MAX_MEMBERS + " members");
            }
            return accounts.findByUsername(username).thenCompose(found -> {
                Account added = found.map(AccountStore.StoredAccount::account)
                        .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "No user named '" + username + "'"));
                return join(meeting, added, actor.displayName() + " added " + added.displayName());
            });
        }).thenCompose(done -> view(actor.userId(), meetingId));
    }

    /** The owner removes a member, or anyone leaves (userId is their own). */
    public CompletionStage<Void> removeMember(Account actor, String meetingId, String userId) {
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
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
            return store.removeMember(meetingId, userId).thenCompose(removed -> accounts.findById(userId))
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

    public CompletionStage<Invite> createInvite(Account actor, String meetingId) {
        return memberMeeting(meetingId, actor.userId()).thenCompose(meeting -> {
            if (!meeting.membersCanInvite() && !meeting.ownerId().equals(actor.userId())) {
                throw new ApiException(ErrorCode.FORBIDDEN, "Only the owner can invite people to this meeting");
            }
            String token = randomHex(20);
            long expiresAt = clock.millis() + inviteTtl.toMillis();
            return invites.tryAcquire(actor.userId()).thenCompose(allowed -> {
                if (!allowed) {
                    throw new ApiException(ErrorCode.RATE_LIMITED, "Too many invite links created; try again later");
                }
                return store.saveInvite(token, meetingId, inviteTtl);
            }).thenApply(saved -> new Invite(token, "/invite/" + token, expiresAt));
        });
    }

    public CompletionStage<MeetingView> acceptInvite(Account user, String token) {
        if (token == null || !token.matches("[0-9a-f]{40}")) {
            throw new ApiException(ErrorCode.INVITE_INVALID, "This invite link is not valid or has expired");
        }
        return store.inviteMeeting(token).thenCompose(meetingId -> meetingId
                .map(store::find).orElseGet(() -> CompletableFuture.completedFuture(Optional.empty())))
                .thenCompose(found -> {
                    Meeting meeting = found.orElseThrow(() -> new ApiException(ErrorCode.INVITE_INVALID,
                            "This invite link is not valid or has expired"));
                    if (meeting.hasMember(user.userId())) {
                        return view(user.userId(), meeting.meetingId());
                    }
                    if (meeting.archived()) {
                        throw new ApiException(ErrorCode.MEETING_ARCHIVED, "This meeting is archived");
                    }
                    if (meeting.memberIds().size() >= MAX_MEMBERS) {
                        throw ApiException.badRequest("a meeting has at most " + MAX_MEMBERS + " members");
                    }
                    return join(meeting, user, user.displayName() + " joined")
                            .thenCompose(done -> view(user.userId(), meeting.meetingId()));
                });
    }

    /** Everyone the user shares a meeting with (for presence). */
    public CompletionStage<List<String>> coMembers(String userId) {
        return store.meetingIdsOf(userId).thenCompose(store::findAll).thenApply(found -> {
            Set<String> ids = new LinkedHashSet<>();
            found.forEach(m -> ids.addAll(m.memberIds()));
            ids.remove(userId);
            return List.copyOf(ids);
        });
    }

    private CompletionStage<Void> join(Meeting meeting, Account joiner, String announcement) {
        return store.addMember(meeting.meetingId(), joiner.userId()).thenCompose(added -> {
            if (!added) {
                return CompletableFuture.completedFuture(null);
            }
            List<String> everyone = new ArrayList<>(meeting.memberIds());
            everyone.add(joiner.userId());
            return chat.announce(meeting.meetingId(), announcement, everyone)
                    .thenCompose(m -> notifyUpdated(everyone, meeting.meetingId()));
        });
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
        return unread.thenCombine(last, (count, message) -> new MeetingView(meeting.meetingId(), meeting.title(),
                meeting.description(), meeting.ownerId(), meeting.createdAt(), meeting.lastActivity(),
                meeting.archived(), meeting.membersCanInvite(), members, count, message.orElse(null)));
    }

    private CompletionStage<Meeting> memberMeeting(String meetingId, String userId) {
        return store.findForMember(meetingId, userId);
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
