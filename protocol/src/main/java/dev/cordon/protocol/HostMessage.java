package dev.cordon.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Everything the host sends to a runner over the sandbox's channel. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = HostMessage.StartTurn.class, name = "start_turn"),
    @JsonSubTypes.Type(value = HostMessage.ModelResponseHead.class, name = "model_head"),
    @JsonSubTypes.Type(value = HostMessage.ModelResponseChunk.class, name = "model_chunk"),
    @JsonSubTypes.Type(value = HostMessage.ModelResponseEnd.class, name = "model_end"),
    @JsonSubTypes.Type(value = HostMessage.Shutdown.class, name = "shutdown"),
    @JsonSubTypes.Type(value = HostMessage.ApprovalDecision.class, name = "approval_decision"),
    @JsonSubTypes.Type(value = HostMessage.StreamData.class, name = "stream_data"),
    @JsonSubTypes.Type(value = HostMessage.StreamEnd.class, name = "stream_end"),
    @JsonSubTypes.Type(value = HostMessage.StreamAck.class, name = "stream_ack"),
    @JsonSubTypes.Type(value = HostMessage.HostToolResult.class, name = "host_tool_result"),
    @JsonSubTypes.Type(value = HostMessage.PutFile.class, name = "put_file")
})
public sealed interface HostMessage {

    /**
     * Run one agent turn. {@code transcript} is the whole conversation so far, ending with the new
     * user message(s); the runner appends to it and reports every appended message back.
     *
     * @param toolRules the agent's tool rules in force for this turn, which the runner applies before
     *     each tool call; null (as sent by an older host) means {@link ToolRules#NONE}, everything allowed
     * @param mcpServers the MCP servers the agent's policy gives it; null means none
     */
    record StartTurn(
            String turnId,
            String systemPrompt,
            ModelSettings model,
            List<ChatMessage> transcript,
            ToolRules toolRules,
            List<McpServer> mcpServers)
            implements HostMessage {
        public StartTurn {
            Objects.requireNonNull(turnId, "turnId");
            Objects.requireNonNull(systemPrompt, "systemPrompt");
            Objects.requireNonNull(model, "model");
            transcript = List.copyOf(transcript);
            toolRules = toolRules == null ? ToolRules.NONE : toolRules;
            mcpServers = mcpServers == null ? List.of() : List.copyOf(mcpServers);
        }

        /** A turn without MCP servers. */
        public StartTurn(
                String turnId,
                String systemPrompt,
                ModelSettings model,
                List<ChatMessage> transcript,
                ToolRules toolRules) {
            this(turnId, systemPrompt, model, transcript, toolRules, List.of());
        }

        /** A turn without tool rules: every tool call is allowed. */
        public StartTurn(String turnId, String systemPrompt, ModelSettings model, List<ChatMessage> transcript) {
            this(turnId, systemPrompt, model, transcript, ToolRules.NONE);
        }
    }

    /** Status line and headers of the provider's answer to the runner's {@link RunnerMessage.ModelRequest}. */
    record ModelResponseHead(String callId, int status, Map<String, List<String>> headers) implements HostMessage {
        public ModelResponseHead {
            Objects.requireNonNull(callId, "callId");
            headers = Map.copyOf(headers);
        }
    }

    /** A piece of the response body, in the order received (SSE frames may be split anywhere). */
    record ModelResponseChunk(String callId, byte[] data) implements HostMessage {
        public ModelResponseChunk {
            Objects.requireNonNull(callId, "callId");
            Objects.requireNonNull(data, "data");
        }
    }

    /**
     * The body is complete ({@code error == null}) or broke off ({@code error} says why: the
     * provider connection dropped, the gateway refused the call, ...).
     */
    record ModelResponseEnd(String callId, String error) implements HostMessage {
        public ModelResponseEnd {
            Objects.requireNonNull(callId, "callId");
        }
    }

    /** Finish nothing further and exit. */
    record Shutdown(String reason) implements HostMessage {}

    /**
     * The answer to {@link RunnerMessage.ApprovalRequest} {@code requestId}: granted or not, and in
     * words fit for the model why (who decided, or that the request expired).
     */
    record ApprovalDecision(String requestId, boolean granted, String reason) implements HostMessage {
        public ApprovalDecision {
            Objects.requireNonNull(requestId, "requestId");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * Bytes of stream {@code streamId} (see {@link RunnerMessage.EgressOpen}), at most {@link
     * StreamMux#CHUNK}. {@link FrameChannel} sends it as a binary frame ({@link Frames}), not as JSON.
     */
    record StreamData(String streamId, byte[] data) implements HostMessage {
        public StreamData {
            Objects.requireNonNull(streamId, "streamId");
            Objects.requireNonNull(data, "data");
        }
    }

    /** The host's side of a stream is done: cleanly ({@code error == null}) or aborted. */
    record StreamEnd(String streamId, String error) implements HostMessage {
        public StreamEnd {
            Objects.requireNonNull(streamId, "streamId");
        }
    }

    /** The host consumed {@code bytes} of the stream: the runner may send that many more. */
    record StreamAck(String streamId, int bytes) implements HostMessage {
        public StreamAck {
            Objects.requireNonNull(streamId, "streamId");
        }
    }

    /** The answer to {@link RunnerMessage.HostToolCall} {@code requestId}, for the model; {@code error} if refused or failed. */
    record HostToolResult(String requestId, String text, boolean error) implements HostMessage {
        public HostToolResult {
            Objects.requireNonNull(requestId, "requestId");
            Objects.requireNonNull(text, "text");
        }
    }

    /**
     * A piece of a file a person sent, for the runner to write into the workspace before the turn
     * that carries its message (sent before that {@link StartTurn}). The runner writes it itself, so
     * the write happens in the sandbox's view of the file system: a link the agent planted can lead
     * nowhere outside it. {@code offset} 0 starts the file afresh; pieces come in order, each at most
     * {@link #CHUNK} bytes; after the {@code last} one the runner answers {@link
     * RunnerMessage.FileWritten}.
     *
     * @param path relative to the workspace: {@code inbox/<inbound id>/<name>}, one safe name per step
     */
    record PutFile(String path, long offset, byte[] data, boolean last) implements HostMessage {
        /** The largest piece, in bytes (well inside {@link Frames#MAX_FRAME} as base64 in JSON). */
        public static final int CHUNK = 1024 * 1024;

        public PutFile {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(data, "data");
        }
    }
}
