package dev.cordon.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a runner sends to the host. The host treats every field as hostile input: a runner
 * runs inside the sandbox and may be controlled by a prompt-injected model.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = RunnerMessage.Ready.class, name = "ready"),
    @JsonSubTypes.Type(value = RunnerMessage.ModelRequest.class, name = "model_request"),
    @JsonSubTypes.Type(value = RunnerMessage.ModelCancel.class, name = "model_cancel"),
    @JsonSubTypes.Type(value = RunnerMessage.TextDelta.class, name = "text_delta"),
    @JsonSubTypes.Type(value = RunnerMessage.StreamReset.class, name = "stream_reset"),
    @JsonSubTypes.Type(value = RunnerMessage.TranscriptAppend.class, name = "transcript_append"),
    @JsonSubTypes.Type(value = RunnerMessage.TurnEnded.class, name = "turn_ended"),
    @JsonSubTypes.Type(value = RunnerMessage.Heartbeat.class, name = "heartbeat"),
    @JsonSubTypes.Type(value = RunnerMessage.ApprovalRequest.class, name = "approval_request"),
    @JsonSubTypes.Type(value = RunnerMessage.EgressOpen.class, name = "egress_open"),
    @JsonSubTypes.Type(value = RunnerMessage.StreamData.class, name = "stream_data"),
    @JsonSubTypes.Type(value = RunnerMessage.StreamEnd.class, name = "stream_end"),
    @JsonSubTypes.Type(value = RunnerMessage.StreamAck.class, name = "stream_ack"),
    @JsonSubTypes.Type(value = RunnerMessage.HostToolCall.class, name = "host_tool_call"),
    @JsonSubTypes.Type(value = RunnerMessage.FileWritten.class, name = "file_written")
})
public sealed interface RunnerMessage {

    /** First message on a new connection: the runner is up and waits for turns. */
    record Ready(String runnerVersion) implements RunnerMessage {}

    /**
     * Ask the host's model gateway to POST {@code body} to {@code path} of the provider for
     * {@code api}. The gateway chooses the base URL, checks the path and model, drops any credential
     * headers, and adds the key; the answer comes back as head, chunks and end with the same
     * {@code callId}.
     */
    record ModelRequest(String callId, ModelApi api, String path, Map<String, String> headers, byte[] body)
            implements RunnerMessage {
        public ModelRequest {
            Objects.requireNonNull(callId, "callId");
            Objects.requireNonNull(api, "api");
            Objects.requireNonNull(path, "path");
            headers = Map.copyOf(headers);
            Objects.requireNonNull(body, "body");
        }
    }

    /** The runner gave up on a call (timeout, turn cancelled); the host closes the provider stream. */
    record ModelCancel(String callId) implements RunnerMessage {}

    /** Assistant text as it streams, for live display. Not stored: {@link TranscriptAppend} is. */
    record TextDelta(String turnId, String text) implements RunnerMessage {}

    /** The model stream broke and is being retried: discard deltas shown since the last reset. */
    record StreamReset(String turnId, String reason) implements RunnerMessage {}

    /** A message the turn added to the conversation (assistant output or tool results). */
    record TranscriptAppend(String turnId, ChatMessage message) implements RunnerMessage {}

    /**
     * The turn is over. On success {@code reply} is the text for the user and {@code error} is null;
     * on failure {@code error} says what went wrong in words fit for the user.
     */
    record TurnEnded(String turnId, String reply, String error, Usage usage) implements RunnerMessage {}

    /**
     * The runner is alive: sent every {@link #HEARTBEAT_SECONDS} seconds while a turn runs, from a
     * thread of its own, whatever the turn is doing (a long tool call, a model call waiting out a
     * rate limit). A runner the host stops hearing from is hung and is killed. Not activity: it does
     * not hold off the host's tool deadline.
     */
    record Heartbeat(String turnId) implements RunnerMessage {}

    /** How often a runner sends {@link Heartbeat} during a turn. */
    int HEARTBEAT_SECONDS = 2;

    /**
     * The runner needs a person's consent before it goes on (a tool call that the agent's policy
     * marks {@code ask}). {@code kind} names what is asked (for example {@code tool.bash});
     * {@code payload} is everything the approver must see, in full: no argument is hidden. The host
     * answers with {@link HostMessage.ApprovalDecision} carrying the same {@code requestId}; until then
     * the runner waits. The host decides, the runner only asks: a runner that skips the question
     * gains nothing the host's own checks would not refuse.
     */
    record ApprovalRequest(String requestId, String turnId, String kind, String summary, Map<String, String> payload)
            implements RunnerMessage {
        public ApprovalRequest {
            Objects.requireNonNull(requestId, "requestId");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(summary, "summary");
            payload = Map.copyOf(payload);
        }
    }

    /**
     * A program in the sandbox connected to the runner's local proxy port: the host opens stream
     * {@code streamId} to its egress proxy. What flows next is {@link StreamData} both ways, under
     * {@link StreamMux}'s flow control.
     */
    record EgressOpen(String streamId) implements RunnerMessage {
        public EgressOpen {
            Objects.requireNonNull(streamId, "streamId");
        }
    }

    /**
     * Bytes of stream {@code streamId}, at most {@link StreamMux#CHUNK}. {@link FrameChannel}
     * sends it as a binary frame ({@link Frames}), not as JSON.
     */
    record StreamData(String streamId, byte[] data) implements RunnerMessage {
        public StreamData {
            Objects.requireNonNull(streamId, "streamId");
            Objects.requireNonNull(data, "data");
        }
    }

    /** The runner's side of a stream is done: cleanly ({@code error == null}) or aborted. */
    record StreamEnd(String streamId, String error) implements RunnerMessage {
        public StreamEnd {
            Objects.requireNonNull(streamId, "streamId");
        }
    }

    /** The runner consumed {@code bytes} of the stream: the host may send that many more. */
    record StreamAck(String streamId, int bytes) implements RunnerMessage {
        public StreamAck {
            Objects.requireNonNull(streamId, "streamId");
        }
    }

    /**
     * A call of a tool whose effect is outside the sandbox ({@code schedule_task}, {@code list_tasks},
     * {@code cancel_task}): the host applies the agent's tool rules (asking a person when a rule says
     * ask), checks the arguments and what the agent may touch, does it, and answers with {@link
     * HostMessage.HostToolResult} of the same {@code requestId}. Only during a turn.
     */
    record HostToolCall(String requestId, String tool, Map<String, String> arguments) implements RunnerMessage {
        public HostToolCall {
            Objects.requireNonNull(requestId, "requestId");
            Objects.requireNonNull(tool, "tool");
            arguments = arguments == null ? Map.of() : Map.copyOf(arguments);
        }
    }

    /**
     * The runner wrote the file of {@link HostMessage.PutFile} {@code path} into the workspace
     * ({@code error == null}), or could not ({@code error} says why).
     */
    record FileWritten(String path, String error) implements RunnerMessage {
        public FileWritten {
            Objects.requireNonNull(path, "path");
        }
    }
}
