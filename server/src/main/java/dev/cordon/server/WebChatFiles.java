package dev.cordon.server;

import dev.cordon.core.AgentName;
import dev.cordon.core.Domain.Chat;
import dev.cordon.core.Domain.Outbound;
import dev.cordon.core.Ids.OutboundId;
import dev.cordon.core.access.UserId;
import dev.cordon.core.channel.InboundFile;
import dev.cordon.core.file.FileVault;
import dev.cordon.core.file.MediaTypes;
import dev.cordon.core.file.Sizes;
import dev.cordon.core.store.Store;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Files in the web chat, both ways (docs/dashboard.md, "Files"). A person uploads a file ({@code
 * POST /api/v1/agents/NAME/files}, the raw bytes, at most {@code files.max_mb}) and gets an upload
 * id, which the message that carries it names ({@code "files": [id]}); an upload is kept in the
 * file vault and named to its uploader for an hour. A file the agent sends with {@code send_file}
 * is shown as a link ({@code GET /api/v1/files/OUTBOUND}) that only the chat's own user, or an
 * admin of its agent, may fetch. Thread-safe.
 */
final class WebChatFiles {
    static final Duration KEEP = Duration.ofHours(1);
    static final int MAX_WAITING = 32;
    private static final String DOWNLOAD = WebApi.PREFIX + "/files/";

    private record Upload(UserId user, String name, String mediaType, FileVault.Blob blob, Instant at) {}

    private final FileVault vault;
    private final long maxBytes;
    private final Store store;
    private final WebRoles roles;
    private final Clock clock;
    private final SecureRandom random;
    private final Map<String, Upload> waiting = new ConcurrentHashMap<>();

    WebChatFiles(FileVault vault, long maxBytes, Store store, WebRoles roles, Clock clock, SecureRandom random) {
        this.vault = vault;
        this.maxBytes = maxBytes;
        this.store = store;
        this.roles = roles;
        this.clock = clock;
        this.random = random;
    }

    List<WebApi.Route> routes() {
        return List.of(
                new WebApi.Route("POST", WebApi.PREFIX + "/agents/{agent}/files", this::upload),
                new WebApi.Route("GET", DOWNLOAD + "{outbound}", this::download));
    }

    /** Where the chat's user fetches the file of outbound message {@code outbound}. */
    static String link(long outbound) {
        return DOWNLOAD + outbound;
    }

    private void upload(Context ctx, WebAuth.Caller caller) throws IOException {
        roles.agent(ctx, caller.user());
        String name = ctx.queryParam("name");
        if (name == null || name.isBlank() || name.length() > 1024) {
            throw new WebException(400, "query parameter 'name' must be the file's name, 1 to 1024 characters");
        }
        long declared = ctx.req().getContentLengthLong();
        if (declared > 2 * maxBytes) {
            throw tooLarge(name); // not read at all: the connection closes after the answer
        }
        expire();
        if (waiting.values().stream()
                        .filter(u -> u.user().equals(caller.user()))
                        .count()
                >= MAX_WAITING) {
            throw new WebException(429, "you have " + MAX_WAITING + " uploads not yet sent; send them or wait an hour");
        }
        FileVault.Blob blob;
        InputStream body = ctx.req().getInputStream();
        try {
            blob = vault.put(Channels.newChannel(body), maxBytes);
        } catch (FileVault.TooLarge e) {
            HookServer.swallow(body, maxBytes); // so that the client reads the 413 rather than a reset
            throw tooLarge(name);
        }
        String type = ctx.contentType() == null || ctx.contentType().isBlank()
                ? MediaTypes.of(name)
                : ctx.contentType().split(";", 2)[0].strip();
        byte[] id = new byte[16];
        random.nextBytes(id);
        String upload = HexFormat.of().formatHex(id);
        waiting.put(upload, new Upload(caller.user(), name, type, blob, clock.instant()));
        WebApi.json(ctx, 201, Map.of("upload", upload, "name", name, "size", blob.size(), "mediaType", type));
    }

    private WebException tooLarge(String name) {
        return new WebException(
                413,
                "file '" + name + "' is larger than " + Sizes.human(maxBytes)
                        + ", this server's limit (files.max_mb in cordon.yaml)");
    }

    /**
     * The files the uploads {@code ids} hold, for a message of {@code user}'s. An upload stays until
     * it expires, so a retried message (same clientMessageId) names the same ids again.
     *
     * @throws WebException 400 if an id is unknown, expired or another user's
     */
    List<InboundFile> files(UserId user, List<String> ids) {
        expire();
        List<InboundFile> files = new ArrayList<>();
        for (String id : ids) {
            Upload u = waiting.get(id);
            if (u == null || !u.user().equals(user)) {
                throw new WebException(
                        400,
                        "upload '" + id + "' is unknown, expired (after an hour) or not yours: upload the file again");
            }
            String sha = u.blob().sha256();
            files.add(new InboundFile(u.name(), u.mediaType(), u.blob().size(), () -> vault.open(sha)));
        }
        return files;
    }

    private void expire() {
        Instant before = clock.instant().minus(KEEP);
        waiting.values().removeIf(u -> u.at().isBefore(before));
    }

    /**
     * Serves the file of a web chat's outbound message; to anyone but the chat's own user or an admin
     * of its agent it does not exist (404, so ids cannot be probed).
     */
    private void download(Context ctx, WebAuth.Caller caller) throws IOException {
        long id = WebRoles.number(ctx, "outbound");
        WebException none = new WebException(404, "there is no file " + id + " for you");
        Outbound outbound = store.outbound(new OutboundId(id)).orElseThrow(() -> none);
        Chat chat = store.chat(outbound.chatId()).orElseThrow(() -> none);
        int slash = chat.platformChatId().indexOf('/');
        if (!chat.channel().equals(WebChannel.NAME) || slash <= 0) {
            throw none;
        }
        AgentName agent = new AgentName(chat.platformChatId().substring(0, slash));
        boolean own = chat.platformChatId().equals(WebChannel.chatId(agent, caller.user()));
        if (!own && !roles.mayAdminister(caller.user(), agent)) {
            throw none;
        }
        Store.OutboundFile file = store.outboundFile(outbound.id()).orElseThrow(() -> none);
        if (vault.path(file.sha256()).isEmpty()) {
            throw new WebException(410, "file " + file.name() + " is no longer kept on this server");
        }
        // Always a download: a file the agent wrote is never shown as a page of this origin.
        ctx.header(
                "Content-Disposition",
                "attachment; filename*=UTF-8''"
                        + URLEncoder.encode(file.name(), StandardCharsets.UTF_8).replace("+", "%20"));
        ctx.contentType("application/octet-stream").result(vault.open(file.sha256()));
    }
}
