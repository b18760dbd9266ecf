package dev.parley.signaling.chat;

import dev.parley.signaling.protocol.ClientMessage;
import dev.parley.signaling.ws.Capability;
import dev.parley.signaling.ws.MessageDispatcher;

/** The chat capability on the WebSocket: send, typing and read pointers, each answered by its request id. */
public final class ChatHandler implements Capability {

    private final ChatService chat;

    public ChatHandler(ChatService chat) {
        this.chat = chat;
    }

    @Override
    public void register(MessageDispatcher dispatcher) {
        dispatcher.on(ClientMessage.ChatSend.class, (c, send, re) -> c.answerWith(re,
                        () -> chat.send(c.account(), send.meetingId(), send.clientMsgId(), send.text())))
                .on(ClientMessage.ChatTyping.class, (c, typing, re) -> c.answerWith(re,
                        () -> chat.typing(c.account(), typing.meetingId()).thenApply(done -> null)))
                .on(ClientMessage.ChatRead.class, (c, read, re) -> c.answerWith(re,
                        () -> chat.markRead(c.userId(), read.meetingId(), read.messageId()).thenApply(done -> null)));
    }
}
